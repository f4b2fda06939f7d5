/*  isolator.h - the seam between the agent and how a task is contained.

    An isolator prepares a container for a task before it starts (and
    may ask the shim to join it, through a cgroup.procs path), signals
    every process in it, and cleans it up after the task ended. The posix
    isolator uses a session/process group per task; the cgroup isolators
    (v2 and v1 names) plug in behind the same calls.                      */
#ifndef CAIRN_ISOLATOR_H_INCLUDED
#define CAIRN_ISOLATOR_H_INCLUDED

#include <stdbool.h>
#include <sys/types.h>

#include "cairn.h"

typedef struct _isolator_t isolator_t;

/*  kind: "posix" (and, where built, "cgroups"); NULL + error_set for an
    unknown or unusable kind.                                              */
isolator_t *isolator_new (const char *kind);
void isolator_destroy (isolator_t **self_p);
const char *isolator_name (isolator_t *self);

/*  Creates the container `id` for a task with `resources`. On success
    *join_path is NULL or a file the task must write itself into before
    exec (given to the shim as --cgroup-procs); caller frees.             */
int isolator_prepare (isolator_t *self, const char *id, const cairn_resources_t *resources,
                      char **join_path);
/*  Sends sig to every process of the container; pgid is the task's
    process group (its pid: the shim makes it a session leader).          */
int isolator_signal (isolator_t *self, const char *id, pid_t pgid, int sig);
/*  True while any process of the container is alive.                      */
bool isolator_alive (isolator_t *self, const char *id, pid_t pgid);
/*  Removes what prepare created. The container must be empty.             */
void isolator_cleanup (isolator_t *self, const char *id);

#endif
