/*  scheduler.h - cairn-batch's event loop: one thread, one zloop, the driver
    in dispatch mode, the queue, the output fetcher, signals and a
    periodic timer; `run` and `serve` add their own parts through hooks.

    Every loop pass ends with scheduler_flush: the queue places tasks on the
    offers of the pass, the store commits (one fsync), then the launches,
    kills and acknowledgements of the pass go out. Status updates are
    acknowledged explicitly, after the commit that recorded them.       */
#ifndef CAIRN_BATCH_SCHEDULER_H_INCLUDED
#define CAIRN_BATCH_SCHEDULER_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#include <czmq.h>

#include "fetch.h"
#include "jobstore.h"
#include "queue.h"

typedef struct _sched_t scheduler_t;

typedef struct {
    const char *master;                 /* HOST:PORT */
    const char *name;                   /* framework name */
    const char *framework_id;           /* to re-register with, or NULL */
    double failover_timeout_s;
    jobstore_t *store;                  /* NULL: nothing durable */
    int64_t tick_ms;                    /* the hooks' timer */
    void *arg;                          /* for the hooks */
    /*  Hooks, all optional.                                               */
    void (*registered) (scheduler_t *sched, const char *framework_id, bool again, void *arg);
    void (*error) (scheduler_t *sched, const char *message, void *arg);
    void (*tick) (scheduler_t *sched, void *arg);
    /*  SIGINT or SIGTERM (the loop goes on unless the hook ends it).     */
    void (*signal) (scheduler_t *sched, int sig, void *arg);
    void (*task_done) (scheduler_t *sched, queue_job_t *job, const queue_task_view_t *task,
                       void *arg);
    void (*job_done) (scheduler_t *sched, queue_job_t *job, void *arg);
    void (*fetched) (scheduler_t *sched, const fetch_result_t *result, void *arg);
} scheduler_config_t;

/*  A scheduler, not started. NULL (with a sentence) for a bad master
    address.                                                               */
scheduler_t *scheduler_new (const scheduler_config_t *config);
void scheduler_destroy (scheduler_t **self_p);

queue_t *scheduler_queue (scheduler_t *self);
zloop_t *scheduler_loop (scheduler_t *self);
fetch_t *scheduler_fetch (scheduler_t *self);

/*  Starts the driver and runs the loop until scheduler_end. Returns 0, or -1
    if the loop failed (a commit that failed: the sentence says why).     */
int scheduler_run (scheduler_t *self);
/*  Ends the loop after the current pass.                                  */
void scheduler_end (scheduler_t *self);
/*  Stops the driver at the end of the pass: without failover the
    framework ends and the master kills what still runs; with failover the
    tasks keep running.                                                    */
void scheduler_stop (scheduler_t *self, bool failover);

/*  The end of a pass (handlers other than the driver's call it too).      */
void scheduler_flush (scheduler_t *self);

bool scheduler_registered (scheduler_t *self);
/*  True once a commit failed: the loop is ending and nothing of the pass
    went out.                                                              */
bool scheduler_failed (scheduler_t *self);
/*  The framework id and the master's HTTP address, once registered ("").  */
const char *scheduler_framework_id (scheduler_t *self);
const char *scheduler_master_http (scheduler_t *self);

#endif
