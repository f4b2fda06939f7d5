/*  queue.h - cairn-batch's scheduler core: jobs, their tasks and
    attempts, and what to launch on which offer.

    The queue is plain state and handlers, with no socket and no clock of
    its own: the program feeds it offers, status updates and the time,
    and it answers with actions (accept, decline, kill, reconcile,
    suppress, revive) kept in an outbox until queue_send hands them to
    the ops table. Between the two the owner commits the store, so no
    launch leaves before the attempt it starts is on disk, and no update
    is acknowledged before what it changed is (group commit).

    Ordering: jobs with a higher priority first, then in order of
    submission (FIFO); within a job, tasks in index order, retries before
    new indices. A job runs once every job in its `after` list succeeded
    (and a queued run of a schedule once the run before it ended). Tasks
    are placed on all offers of a pass together, many per offer, spread
    round-robin over the agents, each job within its max_parallel.

    Attempts: each launch of a task is one attempt, with the task id
    "JOB.INDEX.ATTEMPT". A failed attempt (TASK_FAILED, TASK_ERROR, a
    kill the queue did not ask for) counts against the job's retries; a
    lost one (agent lost or gone, launch dropped) is replaced without
    counting, and if it comes back the task still runs once: the first
    copy to finish wins and the other is killed.                         */
#ifndef CAIRN_BATCH_QUEUE_H_INCLUDED
#define CAIRN_BATCH_QUEUE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cairn.h>

#include "job.h"
#include "jobstore.h"

typedef enum {
    QTASK_WAITING,              /* queued, not running */
    QTASK_LAUNCHING,            /* accepted, no update yet */
    QTASK_STARTING,
    QTASK_RUNNING,
    QTASK_SUCCEEDED,
    QTASK_FAILED,               /* failed and out of retries */
    QTASK_CANCELLED,
} qtask_state_t;

typedef enum {
    QJOB_WAITING,               /* for the jobs it comes after */
    QJOB_QUEUED,
    QJOB_RUNNING,
    QJOB_SUCCEEDED,
    QJOB_FAILED,
    QJOB_CANCELLED,
} qjob_state_t;

typedef struct _queue_t queue_t;
typedef struct _queue_job_t queue_job_t;

typedef struct {
    int64_t tasks;
    int64_t waiting, live, succeeded, failed, cancelled;
    int64_t retried;            /* failed attempts run again */
    int64_t lost;               /* attempts lost and replaced */
} queue_counts_t;

/*  A task as the API and the summary show it (strings borrowed).        */
typedef struct {
    int64_t index;
    qtask_state_t state;
    uint32_t attempt;           /* attempts launched (0: none yet) */
    uint32_t failures;
    int exit_code;              /* of the last attempt that ended, or -1 */
    const char *task_id;        /* the last attempt's ("" if none) */
    const char *agent_id;       /* "" if none */
    const char *message;        /* the last attempt's end, or "" */
    const char *stderr_tail;    /* of a failed task, once fetched, or "" */
} queue_task_view_t;

/*  What the queue asks of the driver; arg is queue_new's.               */
typedef struct {
    void (*accept) (void *arg, const char *offer_id, cairn_task_t *const *tasks, size_t n,
                    double refuse_s);
    void (*decline) (void *arg, const char *offer_id, double refuse_s);
    void (*kill) (void *arg, const char *task_id);
    void (*reconcile) (void *arg, const char *const *task_ids, size_t n);
    void (*suppress) (void *arg);
    void (*revive) (void *arg);
    /*  A task reached its final state: its last attempt's output can be
        collected (optional).                                             */
    void (*task_done) (void *arg, queue_job_t *job, const queue_task_view_t *task);
    /*  A job reached its final state (optional).                         */
    void (*job_done) (void *arg, queue_job_t *job);
} queue_ops_t;

/*  A queue that records what it does in store (NULL: memory only).      */
queue_t *queue_new (const queue_ops_t *ops, void *arg, jobstore_t *store);
void queue_destroy (queue_t **self_p);

/*  At most this many live tasks over all jobs (0: no limit).             */
void queue_set_max_live (queue_t *self, int64_t max_live);
/*  How long an attempt the master calls TASK_UNKNOWN may still turn up
    (an agent not yet back after a master restart) before it is replaced. */
void queue_set_unknown_grace (queue_t *self, double seconds);

/*  Adds a job (taking *spec_p, whose id must be set and new). Its `after`
    jobs must exist or be added next (the jobs of one file, in any order).
    waits_for
    (may be NULL) names a job that must end, in any state, before this one
    runs; schedule_id (may be NULL) the schedule that started it. Returns
    the job (borrowed).                                                    */
queue_job_t *queue_add (queue_t *self, jobspec_t **spec_p, double now, const char *waits_for,
                        const char *schedule_id);
/*  Rebuilds a job from the store (its attempts follow with
    queue_restore_attempt; then queue_restored).                          */
queue_job_t *queue_restore_job (queue_t *self, jobspec_t **spec_p, int64_t seq,
                                qjob_state_t state, bool cancel_requested, const char *message,
                                double submitted, double started, double finished,
                                const char *waits_for, const char *schedule_id);
void queue_restore_attempt (queue_t *self, const char *task_id, const char *state,
                            const char *agent_id, int exit_code, const char *message,
                            const char *stderr_tail);
/*  Settles restored jobs and asks the master about their live attempts.  */
void queue_restored (queue_t *self, double now);

queue_job_t *queue_job (queue_t *self, const char *id);
/*  Jobs in submission order.                                             */
queue_job_t *queue_first (queue_t *self);
queue_job_t *queue_next (queue_t *self);
size_t queue_size (queue_t *self);

/*  Cancels a job: queued tasks are dropped, live ones killed. Returns 0,
    or -1 with errno ENOENT (no such job) or EALREADY (already ended).   */
int queue_cancel (queue_t *self, const char *job_id, const char *why, double now);

/*  The driver's events.                                                   */
void queue_offers (queue_t *self, cairn_offer_t *const *offers, size_t count);
void queue_rescinded (queue_t *self, const char *offer_id);
void queue_status (queue_t *self, const cairn_status_t *status, double now);
/*  After (re)registration: asks the master about every live attempt.     */
void queue_registered (queue_t *self);
/*  The driver lost the master: offers held are void.                     */
void queue_disconnected (queue_t *self);

/*  Ends a pass: places tasks on the offers of the pass and answers them
    all. Then the owner commits the store and calls queue_send.           */
void queue_flush (queue_t *self, double now);
/*  Hands the actions of the pass to the ops.                             */
void queue_send (queue_t *self);
/*  Housekeeping, about once a second: attempts that stay unknown.        */
void queue_tick (queue_t *self, double now);

/*  True when every job has ended.                                         */
bool queue_done (queue_t *self);
void queue_counts (queue_t *self, queue_counts_t *counts);
/*  Jobs by state, for progress lines: ended, and how many of them failed. */
size_t queue_jobs_ended (queue_t *self, size_t *failed);

/*  Job accessors (strings borrowed).                                      */
const char *queue_job_id (const queue_job_t *job);
const jobspec_t *queue_job_spec (const queue_job_t *job);
qjob_state_t queue_job_state (const queue_job_t *job);
const char *queue_job_message (const queue_job_t *job);
const char *queue_job_waits_for (const queue_job_t *job);
const char *queue_job_schedule (const queue_job_t *job);
int64_t queue_job_seq (const queue_job_t *job);
void queue_job_times (const queue_job_t *job, double *submitted, double *started,
                      double *finished);
void queue_job_counts (const queue_job_t *job, queue_counts_t *counts);
/*  The task at position pos (0 .. tasks-1) into *view.                  */
void queue_job_task (const queue_job_t *job, int64_t pos, queue_task_view_t *view);
/*  Keeps the tail of a failed task's stderr (copied; stored).            */
void queue_job_set_stderr (queue_job_t *job, int64_t index, const char *text);
bool queue_job_ended (const queue_job_t *job);

const char *qjob_state_name (qjob_state_t state);
int qjob_state_parse (const char *name, qjob_state_t *state);
const char *qtask_state_name (qtask_state_t state);

/*  Splits "JOB.INDEX.ATTEMPT" (job into a buffer of JOB_MAX_ID + 1).     */
int queue_parse_task_id (const char *task_id, char *job, int64_t *index, uint32_t *attempt);

#endif
