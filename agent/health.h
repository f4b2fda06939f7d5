/*  health.h - a task's health check, run by the agent on its zloop.

    One health_t runs one check (command, http or tcp) of one task, as the
    task description asks (proto_health_t): the first check delay_ms after
    health_new, the next interval_ms after each result. A check that has
    not answered after timeout_ms fails (a command check's process group
    is killed). Until the first success, failures within grace_ms of the
    task's start are ignored. Every other failure counts; a success
    resets the count. The owner hears when `healthy` changes (and the
    first result), and once when max_failures consecutive failures are
    reached: then checking stops and the owner kills the task.

    TCP and HTTP checks connect to 127.0.0.1 on the task's resolved port;
    HTTP sends `GET <path> HTTP/1.0` and takes a 2xx or 3xx status as
    healthy. A command check runs `/bin/sh -c COMMAND` in the task's
    sandbox with the task's environment, in a session (and process group)
    of its own, output to /dev/null; exit status 0 is healthy. Whatever
    the command leaves behind in its process group is killed when it
    ends.

    Nothing blocks: sockets are non-blocking and watched by zloop pollers,
    the command by a pidfd. All health_t of a process must live on one
    thread (the agent's loop thread).                                     */
#ifndef CAIRN_HEALTH_H_INCLUDED
#define CAIRN_HEALTH_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#include <czmq.h>

#include "cairn.h"
#include "proto.h"

typedef enum {
    HEALTH_CHANGED,             /* `healthy` changed, or the first result */
    HEALTH_FAILED,              /* max_failures reached: kill the task */
} health_event_kind_t;

typedef struct {
    health_event_kind_t kind;
    bool healthy;               /* CHANGED: the new value; FAILED: false */
    int failures;               /* consecutive failures counted so far */
    const char *why;            /* a sentence for people (borrowed) */
} health_event_t;

/*  Called on the loop. The handler may call health_destroy on this
    health_t (for example when it kills the task on HEALTH_FAILED).        */
typedef void (health_fn) (void *arg, const char *task_id, const health_event_t *event);

typedef struct _health_t health_t;

/*  Starts checking as `spec` says: call it when the task is RUNNING.
    port is the task's port number spec->port_index (PORTn) resolved, or
    0 if the task has none (an http or tcp check then cannot be made).
    sandbox is the command check's working directory; envp (copied) its
    environment. started_ms is when the task started, on the clock of
    clock_mono_ms (); the grace period counts from it. Returns NULL with
    errno EINVAL and an error_set sentence for a spec it cannot run
    (unknown type, command missing, no port, a path that is not a
    request target).                                                      */
health_t *health_new (zloop_t *loop, const proto_health_t *spec, const char *task_id, int port,
                      const char *sandbox, char *const envp[], health_fn *fn, void *arg,
                      int64_t started_ms);

/*  Stops checking: ends its timers and pollers, closes its socket, kills
    a running command's process group (reaped later on the loop). NULL-
    safe; sets *self_p to NULL. Safe from any handler, the callback too. */
void health_destroy (health_t **self_p);

/*  The task's port number `index` (PORTindex: its port ranges in order),
    or 0 if it has fewer ports: the `port` for health_new.                */
int health_task_port (const cairn_resources_t *resources, int64_t index);

/*  -1 before the first counted result, else 0 or 1.                      */
int health_healthy (health_t *self);
/*  Consecutive failures counted (grace-period failures are not).         */
int health_failures (health_t *self);
/*  Checks completed so far (ignored ones too).                            */
uint64_t health_checks (health_t *self);
/*  True once max_failures was reached (no more checks run).              */
bool health_failed (health_t *self);
/*  The last check's result as a sentence, "" before the first one.        */
const char *health_last (health_t *self);

#endif
