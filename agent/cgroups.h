/*  cgroups.h - the one place that talks to libcgroup (2.0.2 on Debian 12).

    Groups are named by their path relative to the root of a hierarchy
    ("cairn/a-1f/0123456789ab"), and controller names pick the hierarchy
    (on cgroup v2 every controller names the same one). Creating, setting,
    reading, listing processes and deleting go through libcgroup. The
    cgroup filesystem is used directly only where libcgroup 2.0.2 has
    nothing or does the wrong thing (each function says which):
    cgroup.kill, cgroup.freeze, cgroup.events, cgroup.controllers and
    subtree_control (reading; enabling where libcgroup never writes or
    would fail with EBUSY), the calling process's own v2 cgroup, the
    delegation mark, mkdir without enabling controllers, and moving a
    process into a v2 group whose parent does not offer a controller yet.
    The shim writes the cgroup.procs files itself at spawn. Nothing here
    decides policy: see isolator.c.

    Every function returns 0 (or a documented value) on success and -1
    with errno and an error_set sentence naming the file on failure.
    libcgroup's own messages go to the log at debug level (its default
    logger writes to stdout).                                             */
#ifndef CAIRN_CGROUPS_H_INCLUDED
#define CAIRN_CGROUPS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum {
    CGROUPS_NONE = 0,           /* the controller is not mounted */
    CGROUPS_V1 = 1,
    CGROUPS_V2 = 2,
} cgroups_version_t;

/*  One value to write when a group is created, in the order given
    (libcgroup writes them in that order: put memory.limit_in_bytes
    before memory.memsw.limit_in_bytes).                                   */
typedef struct {
    const char *controller;     /* "memory" */
    const char *file;           /* "memory.max" */
    char value[32];
} cgroups_setting_t;

/*  Initializes libcgroup (once per process; later calls return at once).
    -1 + error_set when no cgroup hierarchy is mounted or /proc is not
    readable.                                                              */
int cgroups_init (void);

/*  The version of the hierarchy the controller is mounted on, from
    libcgroup's cgroup_get_controller_version (exported by 2.0.2 but not
    declared in its headers), or CGROUPS_NONE.                             */
cgroups_version_t cgroups_version (const char *controller);

/*  The file `file` (or the directory when file is NULL) of group `name`
    in the controller's hierarchy; "" names the hierarchy's root. NULL +
    error_set when the controller is not mounted. Caller frees.            */
char *cgroups_path (const char *controller, const char *name, const char *file);

/*  True if the group exists in the controller's hierarchy (or, with a
    file, if that file exists in it).                                      */
bool cgroups_exists (const char *controller, const char *name, const char *file);

/*  Creates group `name` in the hierarchies of `controllers` (NULL-
    terminated; parents are created as needed) and writes `settings`.
    On failure the group is removed again (if it is empty). On v2,
    libcgroup also writes "+controller" into the cgroup.subtree_control
    of every ancestor below the hierarchy's root: the caller makes sure
    none of them holds processes without the controller enabled.           */
int cgroups_create (const char *name, const char *const *controllers,
                    const cgroups_setting_t *settings, size_t count);

/*  Writes value into file of an existing group.                           */
int cgroups_set (const char *controller, const char *name, const char *file,
                 const char *value);

/*  Removes group `name` from the hierarchies of `controllers`, only if it
    has neither processes nor children: -1 with EBUSY otherwise. A group
    that does not exist counts as removed.                                 */
int cgroups_delete (const char *name, const char *const *controllers);

/*  Reads a small control file whole into buf (NUL-terminated, trailing
    newline kept; truncated to size - 1).                                  */
int cgroups_read (const char *controller, const char *name, const char *file,
                  char *buf, size_t size);
/*  Reads a file holding one number; "max" reads as UINT64_MAX.            */
int cgroups_read_u64 (const char *controller, const char *name, const char *file,
                      uint64_t *value);
/*  Reads the number after `key` in a file of "key value" lines (cpu.stat,
    memory.events, memory.oom_control); -1 with ENOENT if key is absent.   */
int cgroups_read_key (const char *controller, const char *name, const char *file,
                      const char *key, uint64_t *value);

/*  The processes of group `name` (its cgroup.procs), sorted; *pids is
    NULL when there are none. Caller frees *pids.                          */
int cgroups_procs (const char *controller, const char *name, pid_t **pids, size_t *count);

/*  Sends sig to every process listed in the group. Returns how many were
    signalled (processes that exited meanwhile are skipped).               */
int cgroups_signal (const char *controller, const char *name, int sig);

/*  cgroup v2 only, through the filesystem (libcgroup 2.0.2 lacks them).
    `name` is relative to the root of the v2 hierarchy.                     */

/*  The calling process's cgroup, relative to the v2 root ("" for the root
    itself), from the "0::" line of /proc/self/cgroup: libcgroup's
    cgroup_get_current_controller_path fails on a pure v2 host. Caller
    frees.                                                                  */
char *cgroups_v2_self (void);
/*  True if `name` is the real root of the v2 hierarchy (it has no
    cgroup.type), not the root of a cgroup namespace.                      */
bool cgroups_v2_is_root (const char *name);
/*  Writes "1" to cgroup.kill: SIGKILL to every process of the group and
    its descendants, atomically with respect to fork (Linux 5.14).
    -1 with ENOENT where the kernel lacks cgroup.kill.                      */
int cgroups_v2_kill (const char *name);
/*  Writes cgroup.freeze (Linux 5.2): the fallback kill where cgroup.kill
    is missing.                                                            */
int cgroups_v2_freeze (const char *name, bool frozen);
/*  The value of `key` in the group's cgroup.events: "populated" is 1
    while the group or a descendant holds a process, "frozen" is 1 once
    a freeze took effect. -1 (ENOENT) if the group does not exist.         */
int cgroups_v2_event (const char *name, const char *key);
/*  True if the group was delegated to its processes' owner: systemd sets
    the trusted.delegate (or user.delegate) extended attribute to "1" on
    the cgroup of a unit with Delegate=yes (systemd 251 and later).       */
bool cgroups_v2_delegated (const char *name);
/*  True if every controller is listed in the group's cgroup.controllers
    (what its parent offers it); with subtree, in cgroup.subtree_control
    (what it offers its children).                                          */
bool cgroups_v2_offers (const char *name, const char *const *controllers, bool subtree);
/*  Writes "+controller" into the group's cgroup.subtree_control for each
    controller not enabled there yet. libcgroup never writes the subtree
    control of the hierarchy's root for a deeper group, and its recursive
    write fails (EBUSY) in a group that holds processes; this is for the
    root and for the agent's own cgroup after it moved out.                 */
int cgroups_v2_enable (const char *name, const char *const *controllers);
/*  mkdir -p below the v2 root without enabling any controller on the
    way (libcgroup's create always enables them).                           */
int cgroups_v2_mkdir (const char *name);
/*  Moves process pid (0: the caller) into the group through cgroup.procs:
    libcgroup's cgroup_attach_task_pid refuses a v2 group whose parent
    does not offer the controller it was given, and crashes with a NULL
    group.                                                                  */
int cgroups_v2_move (const char *name, pid_t pid);

#endif
