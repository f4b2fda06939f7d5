/*  containerizer.h - starting, watching and signalling tasks.

    Each task runs under its own cairn-shim, started with posix_spawn in
    a sandbox and a container its isolator prepared. The containerizer
    watches the shim's stdout (to learn that the task started) and the
    shim itself through a pidfd (to learn that the task ended, from the
    status file the shim wrote), registering both with the agent's zloop,
    and reports each through one callback. After an agent restart it
    adopts shims that are still running, or reads how a task ended while
    the agent was away.

    Container ids are the agent's run ids: 12 lowercase hex digits.       */
#ifndef CAIRN_CONTAINERIZER_H_INCLUDED
#define CAIRN_CONTAINERIZER_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <czmq.h>

#include "cairn.h"
#include "isolator.h"
#include "proto.h"

typedef enum {
    CONTAINER_STARTED,          /* the task's exec succeeded: pid */
    CONTAINER_ENDED,            /* the task is gone: see the fields */
} container_event_kind_t;

typedef struct {
    container_event_kind_t kind;
    pid_t pid;
    bool launched;              /* ENDED: the task did start */
    int exit_code;              /* ENDED: exit status, or -1 */
    int signal;                 /* ENDED: terminating signal, or 0 */
    bool oom_killed;            /* ENDED: its memory limit ended it */
    uint64_t mem_limit_bytes;   /* ENDED: when oom_killed */
    uint64_t mem_peak_bytes;
    char message[512];          /* ENDED: for people */
} container_event_t;

typedef void (container_event_fn) (void *arg, const char *id, const container_event_t *event);

typedef struct _containerizer_t containerizer_t;

/*  use_launcher: start shims as forks of a resident `shim_path
    --launcher` (launcher.h) rather than one posix_spawn + exec each.    */
containerizer_t *containerizer_new (zloop_t *loop, isolator_t *isolator, const char *shim_path,
                                    bool use_launcher, container_event_fn *fn, void *arg);
/*  Frees the containerizer. With kill_all, every task's container is
    killed and removed first; otherwise tasks keep running under their
    shims (an agent restart re-adopts them).                               */
void containerizer_destroy (containerizer_t **self_p, bool kill_all);

/*  Starts argv (envp for its environment) as container `id`, in the
    existing directories sandbox and run_dir, with the task's labels
    (isolation options) and extra cairn-shim options (NULL-terminated, or
    NULL: user, namespaces, log rotation). -1 with error_set.            */
int containerizer_launch (containerizer_t *self, const char *id, const char *sandbox,
                          const char *run_dir, const cairn_resources_t *resources,
                          const proto_kv_t *labels, char *const shim_args[],
                          char *const argv[], char *const envp[]);
/*  Takes over a container an earlier agent process started, whose shim
    `shim` is still running (the caller checked it is the same process).
    task may be 0 if it is not known yet (read from the run dir). -1 with
    error_set (ESRCH: the shim is gone).                                   */
int containerizer_adopt (containerizer_t *self, const char *id, const char *run_dir,
                         pid_t shim, pid_t task);
/*  For a container whose shim is gone (it ended while no agent watched):
    fills *event from its run dir and removes what is left of it.         */
void containerizer_reap (containerizer_t *self, const char *id, const char *run_dir, pid_t task,
                         container_event_t *event);

/*  Signals every process of the container (EAGAIN if its task has not
    started yet; the caller retries).                                      */
int containerizer_signal (containerizer_t *self, const char *id, int sig);
/*  Kills everything in the container. -1 with EAGAIN when processes are
    still there after a bounded wait (call again on the next tick).       */
int containerizer_kill_all (containerizer_t *self, const char *id);
/*  The container's current usage.                                        */
int containerizer_usage (containerizer_t *self, const char *id, isolator_usage_t *usage);
/*  The task's pid once started, and its shim's pid; 0 if unknown.         */
pid_t containerizer_pid (containerizer_t *self, const char *id);
pid_t containerizer_shim_pid (containerizer_t *self, const char *id);

#endif
