/*  isolator.h - the seam between the agent and how a task is contained.

    Three kinds behind one API:
      cgroups-v2  one leaf cgroup per task under <cgroup-root>/<agent-id>
                  with cpu.weight, memory.max (swap off, oom.group),
                  optional cpu.max and pids.max; killed with cgroup.kill.
      cgroups-v1  the same on hosts whose cpu and memory controllers are
                  on v1: one group per task in each of the cpu, cpuacct,
                  memory, freezer (and pids) hierarchies; killed by
                  freezing, SIGKILL to every process, thawing.
      posix       no cgroups: a session/process group per task and
                  RLIMIT_DATA from its memory; for unprivileged use.

    The task's supervisor (cairn-shim) stays outside the task's cgroups
    (on v2 in a "supervisors" leaf of the agent's subtree); the task's
    process joins its cgroups between fork and exec, through the extra
    shim arguments isolator_prepare returns, so no task code runs
    unconstrained. The agent names each container with a cgroup-safe id
    of exactly 12 lowercase hex digits; every call refuses other ids.

    An isolator touches no cgroup outside <cgroup-root>/<agent-id> (it
    creates <cgroup-root> itself and removes it again when empty). That
    subtree lives at the top of each hierarchy, or, on v2 under systemd
    with Delegate=yes, inside the agent's delegated cgroup; there the
    agent first moves itself into an "agent" leaf of its subtree, since a
    v2 cgroup with processes cannot hand controllers to its children.

    Calls return -1 with errno and an error_set sentence on failure unless
    said otherwise. All are synchronous and short; isolator_kill_all waits
    at most ISOLATOR_KILL_BOUND_MS.                                       */
#ifndef CAIRN_ISOLATOR_H_INCLUDED
#define CAIRN_ISOLATOR_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cairn.h"
#include "proto.h"

/*  A task label that caps the task at its cpus even without
    isolator_config_t.cpu_hard_limit: "cairn.cpu-hard-limit" = "true".    */
#define ISOLATOR_LABEL_CPU_HARD_LIMIT "cairn.cpu-hard-limit"
/*  The longest isolator_kill_all blocks before it answers EAGAIN.         */
#define ISOLATOR_KILL_BOUND_MS 200

typedef struct {
    const char *kind;           /* "auto" (NULL), "cgroups" or "posix" */
    const char *cgroup_root;    /* group holding the agents' subtrees;
                                   NULL: "cairn" */
    bool cpu_hard_limit;        /* cap every task at its cpus (cpu.max) */
    int64_t max_task_pids;      /* pids.max of each task; 0: no limit */
} isolator_config_t;

typedef struct {
    double cpu_seconds;         /* user + system time of the container */
    uint64_t mem_bytes;         /* memory charged now */
    uint64_t mem_peak_bytes;    /* the most ever charged; 0 if unknown */
    uint64_t mem_limit_bytes;   /* the enforced limit; 0 if none */
    bool oom_killed;            /* the kernel killed one of its processes
                                   for reaching the memory limit */
} isolator_usage_t;

typedef enum {
    ISOLATOR_GONE = 0,          /* no such container */
    ISOLATOR_EMPTY = 1,         /* it exists with no process in it */
    ISOLATOR_POPULATED = 2,     /* processes run in it */
} isolator_state_t;

typedef struct _isolator_t isolator_t;

/*  Picks and checks the kind. "auto" takes cgroup v2 when the agent's v2
    tree offers cpu and memory, else cgroup v1 when those are mounted on
    v1, else posix with a warning in the log (e.g. without root).
    "cgroups" where neither works returns NULL with a sentence saying why.
    config may be NULL for the defaults. Creates <cgroup-root>.           */
isolator_t *isolator_new (const isolator_config_t *config);
/*  Removes the agent's subtree and <cgroup-root> where they are empty;
    running containers are left alone (tasks outlive the agent).          */
void isolator_destroy (isolator_t **self_p);
/*  "cgroups-v2", "cgroups-v1" or "posix".                                  */
const char *isolator_name (isolator_t *self);
/*  True for a container id the isolator accepts: 12 hex digits a-f0-9.   */
bool isolator_id_valid (const char *id);

/*  Tells the isolator its agent id (after the first registration, or
    from the checkpoint on restart) and sets up <cgroup-root>/<agent-id>:
    on v2 the supervisors leaf, after moving the agent into its own leaf
    where needed. Must come before prepare on the cgroup kinds. Calling
    it again with the same id is a no-op; another id (the master gave the
    agent a new one) replaces the old subtree if it holds no container,
    and is EBUSY otherwise.                                                */
int isolator_set_agent_id (isolator_t *self, const char *agent_id);

/*  Creates container `id` for a task with `resources` and `labels` (may
    be NULL) and sets *join_args to a NULL-terminated list of extra shim
    arguments (--supervisor-procs, --cgroup-procs, --rlimit-data) to pass
    before "--"; the caller frees it with isolator_strv_free. An empty
    leftover container of the same id is replaced; one with processes is
    EEXIST. EAGAIN before isolator_set_agent_id.                           */
int isolator_prepare (isolator_t *self, const char *id, const cairn_resources_t *resources,
                      const proto_kv_t *labels, char ***join_args);
void isolator_strv_free (char ***strv_p);

/*  Sends sig to every process of the container; pgid is the task's
    process group (its pid: the shim makes it a session leader), used by
    posix only. A container with no process left is not an error.        */
int isolator_signal (isolator_t *self, const char *id, pid_t pgid, int sig);
/*  Kills every process of the container, forks included (cgroup.kill;
    on v1 freeze, SIGKILL all, thaw, until empty; posix: SIGKILL to the
    process group), and waits up to ISOLATOR_KILL_BOUND_MS for them to
    go. 0 when none is left; -1 with EAGAIN when some still are (call it
    again later, e.g. on the next tick).                                   */
int isolator_kill_all (isolator_t *self, const char *id, pid_t pgid);
/*  True while any process of the container is alive.                      */
bool isolator_alive (isolator_t *self, const char *id, pid_t pgid);

/*  Fills *usage for the container (posix: the task process and its
    reaped children, from /proc/PGID). Read it before isolator_cleanup to
    learn whether an ended task was OOM-killed.                           */
int isolator_usage (isolator_t *self, const char *id, pid_t pgid, isolator_usage_t *usage);

/*  Removes the container's cgroups. -1 with EBUSY while processes remain
    (kill them first); a container that is already gone is not an error. */
int isolator_cleanup (isolator_t *self, const char *id);

/*  After an agent restart: whether container `id` (started by an earlier
    agent process with the same agent id) still exists and holds
    processes; posix can tell only POPULATED from GONE (by pgid). Returns
    an isolator_state_t, or -1.                                           */
int isolator_recover (isolator_t *self, const char *id, pid_t pgid);
/*  The ids of every container in the agent's subtree (to find ones no
    checkpoint mentions), NULL-terminated; empty for posix. Caller frees
    with isolator_strv_free. NULL + error_set on failure.                 */
char **isolator_list (isolator_t *self);

#endif
