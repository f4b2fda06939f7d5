/*  containerizer.h - starting, watching and signalling tasks.

    Each task runs under its own cairn-shim, started with posix_spawn in
    a sandbox and a container its isolator prepared. The containerizer
    watches the shim's stdout (to learn that the task started) and the
    shim itself through a pidfd (to learn that the task ended, from the
    status file the shim wrote), registering both with the agent's zloop,
    and reports each through one callback.                                */
#ifndef CAIRN_CONTAINERIZER_H_INCLUDED
#define CAIRN_CONTAINERIZER_H_INCLUDED

#include <stdbool.h>
#include <sys/types.h>

#include <czmq.h>

#include "cairn.h"
#include "isolator.h"

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
    char message[512];          /* ENDED: for people */
} container_event_t;

typedef void (container_event_fn) (void *arg, const char *id, const container_event_t *event);

typedef struct _containerizer_t containerizer_t;

containerizer_t *containerizer_new (zloop_t *loop, isolator_t *isolator, const char *shim_path,
                                    container_event_fn *fn, void *arg);
/*  Frees the containerizer. With kill_all, every task's container gets
    SIGKILL first; otherwise tasks keep running under their shims.       */
void containerizer_destroy (containerizer_t **self_p, bool kill_all);

/*  Starts argv (envp for its environment) as container `id`, in the
    existing directories sandbox and run_dir. -1 with error_set.         */
int containerizer_launch (containerizer_t *self, const char *id, const char *sandbox,
                          const char *run_dir, const cairn_resources_t *resources,
                          char *const argv[], char *const envp[]);
/*  Signals every process of the container (nothing yet if the task has
    not started; the caller retries).                                      */
int containerizer_signal (containerizer_t *self, const char *id, int sig);
/*  The task's pid once started, else 0.                                   */
pid_t containerizer_pid (containerizer_t *self, const char *id);

#endif
