/*  queue.c - cairn-batch's scheduler core.

    Data. Jobs live in a hash by id and a list in submission order. Each
    job owns an array of its tasks (a small struct each: a 5,000-task job
    is a few hundred KB) and finds the next task to launch in O(1): a
    FIFO of requeued positions first (retries, lost attempts), then a
    cursor over indices never launched. Jobs that have something to
    launch sit in `runnable`, sorted by priority then submission order.
    Jobs waiting for others are found through `dependents` (id -> the
    jobs naming it) when those end.

    Invariants: a task is in exactly one of the states of qtask_state_t;
    job counts (waiting, live, succeeded, failed, cancelled) always add up
    to the job's tasks; only the current attempt of a task is live in the
    queue's eyes (older copies that come back are killed, or adopted when
    the task was still waiting for its replacement). Offers are never held
    past the pass they arrived in: queue_flush answers every one.        */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "error.h"
#include "log.h"
#include "proto.h"
#include "queue.h"

#define REFUSE_BUSY_S       0.0     /* more to launch: offer the rest again at once */
#define REFUSE_NOFIT_S      1.0     /* work that does not fit: look again soon */
#define REFUSE_IDLE_S       30.0    /* nothing to launch (suppressed anyway) */
#define RECONCILE_EVERY_S   10.0    /* asking again about unknown attempts */
#define DEFAULT_UNKNOWN_GRACE_S 120.0

typedef struct {
    uint32_t attempt;           /* the current attempt's number; 0: none yet */
    uint32_t failures;
    uint8_t state;              /* qtask_state_t */
    bool in_fifo;               /* its position is in the job's requeue FIFO */
    int exit_code;
    const char *agent_id;       /* interned; NULL: none */
    char *message;              /* how the last attempt ended (failures only) */
    char *stderr_tail;
    double unknown_since;       /* the master did not know the attempt (0: no) */
} qtask_t;

struct _queue_job_t {
    queue_t *queue;
    char *id;
    jobspec_t *spec;
    char *spec_text;            /* the JSON, for the store */
    int64_t seq;
    qjob_state_t state;
    char *message;
    double submitted, started, finished;
    char *waits_for;
    char *schedule_id;
    int64_t ntasks;
    qtask_t *tasks;
    int64_t next;               /* first position never launched */
    int64_t *fifo;              /* requeued positions, oldest first */
    size_t fifo_head, fifo_len, fifo_cap;
    queue_counts_t counts;
    size_t deps_pending;        /* jobs (after, waits_for) not ended yet */
    bool cancel_requested;
    bool runnable;              /* in queue->runnable */
    void *handle;               /* in queue->runnable */
};

typedef struct {
    char *id;
    const char *agent_id;       /* interned */
    int64_t millicpus;
    uint64_t mem, disk;
    cairn_task_t **tasks;
    size_t ntasks, cap;
} held_offer_t;

typedef enum { ACT_ACCEPT, ACT_DECLINE, ACT_KILL, ACT_RECONCILE, ACT_SUPPRESS, ACT_REVIVE } act_kind_t;

typedef struct action {
    act_kind_t kind;
    char *id;                   /* offer or task id */
    cairn_task_t **tasks;
    size_t ntasks;
    char **ids;                 /* ACT_RECONCILE */
    size_t nids;
    double refuse_s;
    struct action *next;
} action_t;

struct _queue_t {
    queue_ops_t ops;
    void *arg;
    jobstore_t *store;
    zhashx_t *jobs;             /* id -> queue_job_t (owned) */
    zlistx_t *order;            /* jobs by seq */
    zlistx_t *runnable;         /* jobs with something to launch, by priority, seq */
    zhashx_t *dependents;       /* id -> zlistx_t of queue_job_t * */
    zhashx_t *agents;           /* interned agent ids */
    int64_t seq;
    int64_t max_live, live;
    double unknown_grace;
    double next_reconcile;
    size_t unknown;             /* attempts with unknown_since set */
    bool suppressed;
    held_offer_t *offers;
    size_t noffers, cap_offers;
    action_t *out_head, *out_tail;
};

static const char *const s_job_states[] = {
    "WAITING", "QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED",
};
static const char *const s_task_states[] = {
    "WAITING", "LAUNCHING", "STARTING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED",
};

const char *
qjob_state_name (qjob_state_t state)
{
    return state <= QJOB_CANCELLED ? s_job_states[state] : "UNKNOWN";
}

int
qjob_state_parse (const char *name, qjob_state_t *state)
{
    for (int i = 0; i <= QJOB_CANCELLED; i++)
        if (name && strcmp (name, s_job_states[i]) == 0) {
            *state = (qjob_state_t) i;
            return 0;
        }
    return error_set (EINVAL, "'%s' is not a job state", name ? name : "(null)");
}

const char *
qtask_state_name (qtask_state_t state)
{
    return state <= QTASK_CANCELLED ? s_task_states[state] : "UNKNOWN";
}

static bool
s_final (qjob_state_t state)
{
    return state == QJOB_SUCCEEDED || state == QJOB_FAILED || state == QJOB_CANCELLED;
}

static bool
s_task_live (uint8_t state)
{
    return state == QTASK_LAUNCHING || state == QTASK_STARTING || state == QTASK_RUNNING;
}

/*  Outbox  */

static action_t *
s_act (queue_t *self, act_kind_t kind, const char *id)
{
    action_t *a = xzalloc (sizeof *a);
    a->kind = kind;
    a->id = id ? xstrdup (id) : NULL;
    if (self->out_tail)
        self->out_tail->next = a;
    else
        self->out_head = a;
    self->out_tail = a;
    return a;
}

static void
s_act_free (action_t *a)
{
    for (size_t i = 0; i < a->ntasks; i++)
        cairn_task_destroy (&a->tasks[i]);
    free (a->tasks);
    for (size_t i = 0; i < a->nids; i++)
        free (a->ids[i]);
    free (a->ids);
    free (a->id);
    free (a);
}

void
queue_send (queue_t *self)
{
    action_t *a = self->out_head;
    self->out_head = self->out_tail = NULL;
    while (a) {
        action_t *next = a->next;
        switch (a->kind) {
            case ACT_ACCEPT:
                self->ops.accept (self->arg, a->id, a->tasks, a->ntasks, a->refuse_s);
                break;
            case ACT_DECLINE:
                self->ops.decline (self->arg, a->id, a->refuse_s);
                break;
            case ACT_KILL:
                self->ops.kill (self->arg, a->id);
                break;
            case ACT_RECONCILE:
                self->ops.reconcile (self->arg, (const char *const *) a->ids, a->nids);
                break;
            case ACT_SUPPRESS:
                self->ops.suppress (self->arg);
                break;
            case ACT_REVIVE:
                self->ops.revive (self->arg);
                break;
        }
        s_act_free (a);
        a = next;
    }
}

/*  Store  */

static const char *
s_intern (queue_t *self, const char *agent_id)
{
    if (!agent_id || !*agent_id)
        return NULL;
    const char *known = zhashx_lookup (self->agents, agent_id);
    if (!known) {
        zhashx_insert (self->agents, agent_id, xstrdup (agent_id));
        known = zhashx_lookup (self->agents, agent_id);
    }
    return known;
}

static void
s_task_id (const queue_job_t *job, int64_t pos, uint32_t attempt, char *out, size_t size)
{
    snprintf (out, size, "%s.%" PRId64 ".%" PRIu32, job->id, job->spec->first + pos, attempt);
}

static void
s_store_job (queue_job_t *job)
{
    if (!job->queue->store)
        return;
    jobstore_job_t j = {
        .id = job->id, .seq = job->seq, .spec = job->spec_text,
        .state = qjob_state_name (job->state), .message = job->message,
        .submitted = job->submitted, .started = job->started, .finished = job->finished,
        .waits_for = job->waits_for, .schedule_id = job->schedule_id,
        .cancel_requested = job->cancel_requested,
    };
    jobstore_put_job (job->queue->store, &j);
}

static void
s_store_attempt (queue_job_t *job, int64_t pos, const char *state)
{
    if (!job->queue->store)
        return;
    qtask_t *t = &job->tasks[pos];
    char id[PROTO_MAX_ID + 1];
    s_task_id (job, pos, t->attempt, id, sizeof id);
    jobstore_attempt_t a = {
        .task_id = id, .state = state, .agent_id = t->agent_id, .exit_code = t->exit_code,
        .message = t->message, .stderr_tail = t->stderr_tail,
    };
    jobstore_put_attempt (job->queue->store, job->id, &a);
}

/*  Jobs  */

static int
s_compare_runnable (const void *a, const void *b)
{
    const queue_job_t *x = a, *y = b;
    if (x->spec->priority != y->spec->priority)
        return x->spec->priority > y->spec->priority ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
s_job_free (void **item)
{
    queue_job_t *job = *item;
    if (!job)
        return;
    for (int64_t i = 0; i < job->ntasks; i++) {
        free (job->tasks[i].message);
        free (job->tasks[i].stderr_tail);
    }
    free (job->tasks);
    free (job->fifo);
    free (job->id);
    free (job->spec_text);
    free (job->message);
    free (job->waits_for);
    free (job->schedule_id);
    jobspec_destroy (&job->spec);
    free (job);
    *item = NULL;
}

static void
s_list_free (void **item)
{
    zlistx_t *list = *item;
    zlistx_destroy (&list);
    *item = NULL;
}

queue_t *
queue_new (const queue_ops_t *ops, void *arg, jobstore_t *store)
{
    assert (ops && ops->accept && ops->decline && ops->kill && ops->reconcile && ops->suppress
            && ops->revive);
    queue_t *self = xzalloc (sizeof *self);
    self->ops = *ops;
    self->arg = arg;
    self->store = store;
    self->jobs = zhashx_new ();
    zhashx_set_destructor (self->jobs, s_job_free);
    self->order = zlistx_new ();
    self->runnable = zlistx_new ();
    zlistx_set_comparator (self->runnable, (zlistx_comparator_fn *) s_compare_runnable);
    self->dependents = zhashx_new ();
    zhashx_set_destructor (self->dependents, s_list_free);
    self->agents = zhashx_new ();
    zhashx_set_destructor (self->agents, (zhashx_destructor_fn *) zstr_free);
    self->unknown_grace = DEFAULT_UNKNOWN_GRACE_S;
    return self;
}

static void
s_drop_offers (queue_t *self)
{
    for (size_t i = 0; i < self->noffers; i++) {
        for (size_t k = 0; k < self->offers[i].ntasks; k++)
            cairn_task_destroy (&self->offers[i].tasks[k]);
        free (self->offers[i].tasks);
        free (self->offers[i].id);
    }
    self->noffers = 0;
}

void
queue_destroy (queue_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    queue_t *self = *self_p;
    s_drop_offers (self);
    free (self->offers);
    while (self->out_head) {
        action_t *next = self->out_head->next;
        s_act_free (self->out_head);
        self->out_head = next;
    }
    zlistx_destroy (&self->runnable);
    zlistx_destroy (&self->order);
    zhashx_destroy (&self->dependents);
    zhashx_destroy (&self->jobs);
    zhashx_destroy (&self->agents);
    free (self);
    *self_p = NULL;
}

void
queue_set_max_live (queue_t *self, int64_t max_live)
{
    self->max_live = max_live;
}

void
queue_set_unknown_grace (queue_t *self, double seconds)
{
    self->unknown_grace = seconds;
}

static bool
s_has_work (const queue_job_t *job)
{
    return job->fifo_len > 0 || job->next < job->ntasks;
}

/*  Puts a job that has something to launch into `runnable`, reviving
    offers if the framework had none.                                     */
static void
s_make_runnable (queue_job_t *job)
{
    queue_t *self = job->queue;
    if (job->runnable || job->deps_pending > 0 || job->cancel_requested || s_final (job->state)
        || !s_has_work (job))
        return;
    job->handle = zlistx_insert (self->runnable, job, true);
    job->runnable = true;
    if (self->suppressed) {
        self->suppressed = false;
        s_act (self, ACT_REVIVE, NULL);
    }
}

static void
s_not_runnable (queue_job_t *job)
{
    if (job->runnable) {
        zlistx_delete (job->queue->runnable, job->handle);
        job->runnable = false;
        job->handle = NULL;
    }
}

static void
s_fifo_push (queue_job_t *job, int64_t pos)
{
    if (job->tasks[pos].in_fifo)
        return;
    if (job->fifo_len == job->fifo_cap) {
        size_t cap = job->fifo_cap ? job->fifo_cap * 2 : 16;
        int64_t *fifo = xzalloc (cap * sizeof *fifo);
        for (size_t i = 0; i < job->fifo_len; i++)
            fifo[i] = job->fifo[(job->fifo_head + i) % job->fifo_cap];
        free (job->fifo);
        job->fifo = fifo;
        job->fifo_cap = cap;
        job->fifo_head = 0;
    }
    job->fifo[(job->fifo_head + job->fifo_len) % job->fifo_cap] = pos;
    job->fifo_len++;
    job->tasks[pos].in_fifo = true;
}

/*  The next position to launch, or -1. FIFO entries whose task is no
    longer waiting (an old attempt came back and was adopted) are
    skipped.                                                              */
static int64_t
s_take (queue_job_t *job)
{
    while (job->fifo_len > 0) {
        int64_t pos = job->fifo[job->fifo_head];
        job->fifo_head = (job->fifo_head + 1) % job->fifo_cap;
        job->fifo_len--;
        job->tasks[pos].in_fifo = false;
        if (job->tasks[pos].state == QTASK_WAITING)
            return pos;
    }
    while (job->next < job->ntasks) {
        int64_t pos = job->next++;
        if (job->tasks[pos].state == QTASK_WAITING)
            return pos;
    }
    return -1;
}

static void s_job_check_end (queue_job_t *job, double now);

/*  The jobs that come after `job` learn that it ended.                   */
static void
s_release_dependents (queue_job_t *job, double now)
{
    queue_t *self = job->queue;
    zlistx_t *list = zhashx_lookup (self->dependents, job->id);
    if (!list)
        return;
    for (queue_job_t *dep = zlistx_first (list); dep; dep = zlistx_next (list)) {
        if (s_final (dep->state) || dep->deps_pending == 0)
            continue;
        bool waits = dep->waits_for && strcmp (dep->waits_for, job->id) == 0;
        if (!waits && job->state != QJOB_SUCCEEDED) {
            /*  It can never run: it fails, and so do the jobs after it.  */
            free (dep->message);
            dep->message = xasprintf ("job %s, which it comes after, did not succeed (%s)",
                                      job->id, qjob_state_name (job->state));
            for (int64_t i = 0; i < dep->ntasks; i++)
                if (dep->tasks[i].state == QTASK_WAITING) {
                    dep->tasks[i].state = QTASK_CANCELLED;
                    dep->counts.waiting--;
                    dep->counts.cancelled++;
                }
            dep->deps_pending = 0;
            dep->state = QJOB_FAILED;
            dep->finished = now;
            s_store_job (dep);
            log_info ("job %s: %s", dep->id, dep->message);
            if (self->ops.job_done)
                self->ops.job_done (self->arg, dep);
            s_release_dependents (dep, now);
            continue;
        }
        if (--dep->deps_pending == 0 && dep->state == QJOB_WAITING) {
            dep->state = QJOB_QUEUED;
            s_store_job (dep);
            s_make_runnable (dep);
        }
    }
    zhashx_delete (self->dependents, job->id);
}

static void
s_job_check_end (queue_job_t *job, double now)
{
    queue_counts_t *c = &job->counts;
    if (s_final (job->state) || c->succeeded + c->failed + c->cancelled < job->ntasks)
        return;
    job->state = job->cancel_requested ? QJOB_CANCELLED : c->failed > 0 ? QJOB_FAILED
                                                                        : QJOB_SUCCEEDED;
    if (job->state == QJOB_FAILED && !job->message)
        job->message = xasprintf ("%" PRId64 " of %" PRId64 " tasks failed", c->failed,
                                  job->ntasks);
    job->finished = now;
    s_not_runnable (job);
    s_store_job (job);
    log_info ("job %s: %s (%" PRId64 " succeeded, %" PRId64 " failed, %" PRId64 " retried)",
              job->id, qjob_state_name (job->state), c->succeeded, c->failed, c->retried);
    if (job->queue->ops.job_done)
        job->queue->ops.job_done (job->queue->arg, job);
    s_release_dependents (job, now);
}

static void
s_add_dependent (queue_t *self, const char *on, queue_job_t *job)
{
    zlistx_t *list = zhashx_lookup (self->dependents, on);
    if (!list) {
        list = zlistx_new ();
        zhashx_insert (self->dependents, on, list);
    }
    zlistx_add_end (list, job);
}

static queue_job_t *
s_job_new (queue_t *self, jobspec_t **spec_p, int64_t seq, double submitted,
           const char *waits_for, const char *schedule_id)
{
    jobspec_t *spec = *spec_p;
    *spec_p = NULL;
    assert (spec && spec->id && !zhashx_lookup (self->jobs, spec->id));
    queue_job_t *job = xzalloc (sizeof *job);
    job->queue = self;
    job->id = xstrdup (spec->id);
    job->spec = spec;
    json_t *json = jobspec_to_json (spec);
    job->spec_text = json_dumps (json, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION (6));
    json_decref (json);
    job->seq = seq;
    if (seq > self->seq)
        self->seq = seq;
    job->submitted = submitted;
    job->waits_for = waits_for && *waits_for ? xstrdup (waits_for) : NULL;
    job->schedule_id = schedule_id && *schedule_id ? xstrdup (schedule_id) : NULL;
    job->ntasks = jobspec_tasks (spec);
    job->tasks = xzalloc ((size_t) job->ntasks * sizeof *job->tasks);
    for (int64_t i = 0; i < job->ntasks; i++)
        job->tasks[i].exit_code = -1;
    job->counts.tasks = job->ntasks;
    job->counts.waiting = job->ntasks;
    zhashx_insert (self->jobs, job->id, job);
    zlistx_add_end (self->order, job);
    return job;
}

/*  Counts the jobs this one waits for that have not ended (and fails it
    at once if one of its `after` jobs ended without succeeding).         */
static void
s_link_dependencies (queue_job_t *job, double now)
{
    queue_t *self = job->queue;
    const char *failed = NULL;
    for (size_t i = 0; i < job->spec->nafter; i++) {
        queue_job_t *dep = zhashx_lookup (self->jobs, job->spec->after[i]);
        if (!dep || !s_final (dep->state)) {
            /*  Not added yet (a later job of the same file; submissions
                are checked for names that do not exist), or not ended.  */
            job->deps_pending++;
            s_add_dependent (self, job->spec->after[i], job);
        }
        else if (dep->state != QJOB_SUCCEEDED)
            failed = dep->id;
    }
    if (job->waits_for) {
        queue_job_t *dep = zhashx_lookup (self->jobs, job->waits_for);
        if (dep && !s_final (dep->state)) {
            job->deps_pending++;
            s_add_dependent (self, dep->id, job);
        }
    }
    if (failed) {
        queue_job_t *dep = zhashx_lookup (self->jobs, failed);
        job->message = xasprintf ("job %s, which it comes after, did not succeed (%s)", failed,
                                  qjob_state_name (dep->state));
        for (int64_t i = 0; i < job->ntasks; i++)
            job->tasks[i].state = QTASK_CANCELLED;
        job->counts.cancelled = job->ntasks;
        job->counts.waiting = 0;
        job->deps_pending = 0;
        job->state = QJOB_FAILED;
        job->finished = now;
    }
}

queue_job_t *
queue_add (queue_t *self, jobspec_t **spec_p, double now, const char *waits_for,
           const char *schedule_id)
{
    queue_job_t *job = s_job_new (self, spec_p, self->seq + 1, now, waits_for, schedule_id);
    job->state = QJOB_QUEUED;
    s_link_dependencies (job, now);
    if (job->deps_pending > 0)
        job->state = QJOB_WAITING;
    s_store_job (job);
    log_info ("job %s: submitted, %" PRId64 " task(s), %s", job->id, job->ntasks,
              qjob_state_name (job->state));
    if (s_final (job->state)) {
        if (self->ops.job_done)
            self->ops.job_done (self->arg, job);
        s_release_dependents (job, now);
    }
    else
        s_make_runnable (job);
    return job;
}

queue_job_t *
queue_restore_job (queue_t *self, jobspec_t **spec_p, int64_t seq, qjob_state_t state,
                   bool cancel_requested, const char *message, double submitted, double started,
                   double finished, const char *waits_for, const char *schedule_id)
{
    queue_job_t *job = s_job_new (self, spec_p, seq, submitted, waits_for, schedule_id);
    job->state = state;
    job->cancel_requested = cancel_requested;
    job->message = message && *message ? xstrdup (message) : NULL;
    job->started = started;
    job->finished = finished;
    return job;
}

int
queue_parse_task_id (const char *task_id, char *job, int64_t *index, uint32_t *attempt)
{
    const char *dot2 = task_id ? strrchr (task_id, '.') : NULL;
    if (!dot2 || dot2 == task_id)
        return -1;
    const char *dot1 = dot2 - 1;
    while (dot1 > task_id && *dot1 != '.')
        dot1--;
    if (*dot1 != '.' || dot1 == task_id || (size_t) (dot1 - task_id) > JOB_MAX_ID)
        return -1;
    char *end;
    errno = 0;
    long long idx = strtoll (dot1 + 1, &end, 10);
    if (end != dot2 || idx < 0 || errno)
        return -1;
    unsigned long att = strtoul (dot2 + 1, &end, 10);
    if (*end || end == dot2 + 1 || att == 0 || att > UINT32_MAX)
        return -1;
    memcpy (job, task_id, (size_t) (dot1 - task_id));
    job[dot1 - task_id] = '\0';
    *index = idx;
    *attempt = (uint32_t) att;
    return 0;
}

/*  The job and task position a task id names, or NULL.                   */
static queue_job_t *
s_lookup (queue_t *self, const char *task_id, int64_t *pos, uint32_t *attempt)
{
    char job_id[JOB_MAX_ID + 1];
    int64_t index;
    if (queue_parse_task_id (task_id, job_id, &index, attempt) < 0)
        return NULL;
    queue_job_t *job = zhashx_lookup (self->jobs, job_id);
    if (!job || index < job->spec->first || index > job->spec->last)
        return NULL;
    *pos = index - job->spec->first;
    return job;
}

void
queue_restore_attempt (queue_t *self, const char *task_id, const char *state,
                       const char *agent_id, int exit_code, const char *message,
                       const char *stderr_tail)
{
    int64_t pos;
    uint32_t attempt;
    queue_job_t *job = s_lookup (self, task_id, &pos, &attempt);
    if (!job) {
        log_warn ("store: attempt %s belongs to no job; ignored", task_id);
        return;
    }
    qtask_t *t = &job->tasks[pos];
    if (strcmp (state, "FAILED") == 0)
        t->failures++;
    if (t->state == QTASK_SUCCEEDED)
        return;                 /* a copy finished: that is the task's one run */
    if (strcmp (state, "SUCCEEDED") == 0 || attempt >= t->attempt) {
        if (attempt > t->attempt)
            t->attempt = attempt;
        t->agent_id = s_intern (self, agent_id);
        t->exit_code = exit_code;
        free (t->message);
        t->message = message && *message ? xstrdup (message) : NULL;
        free (t->stderr_tail);
        t->stderr_tail = stderr_tail && *stderr_tail ? xstrdup (stderr_tail) : NULL;
        if (strcmp (state, "SUCCEEDED") == 0)
            t->state = QTASK_SUCCEEDED;
        else if (strcmp (state, "LAUNCHING") == 0)
            t->state = QTASK_LAUNCHING;
        else if (strcmp (state, "RUNNING") == 0)
            t->state = QTASK_RUNNING;
        else if (strcmp (state, "CANCELLED") == 0)
            t->state = QTASK_CANCELLED;
        else
            t->state = QTASK_WAITING;   /* FAILED or LOST: settled in queue_restored */
    }
}

void
queue_restored (queue_t *self, double now)
{
    for (queue_job_t *job = zlistx_first (self->order); job; job = zlistx_next (self->order)) {
        queue_counts_t *c = &job->counts;
        memset (c, 0, sizeof *c);
        c->tasks = job->ntasks;
        bool ended = s_final (job->state);
        for (int64_t i = 0; i < job->ntasks; i++) {
            qtask_t *t = &job->tasks[i];
            if (t->state == QTASK_WAITING && t->attempt > 0) {
                /*  Its last attempt failed or was lost: out of retries, or
                    back in the queue.                                     */
                if (t->failures > (uint32_t) job->spec->retries)
                    t->state = QTASK_FAILED;
                else if (ended || job->cancel_requested)
                    t->state = QTASK_CANCELLED;
            }
            else if (t->state == QTASK_WAITING && ended)
                t->state = QTASK_CANCELLED;
            if (t->failures > 0)
                c->retried += t->failures - (t->state == QTASK_FAILED);
            switch (t->state) {
                case QTASK_WAITING:
                    c->waiting++;
                    if (t->attempt > 0)
                        s_fifo_push (job, i);
                    break;
                case QTASK_SUCCEEDED: c->succeeded++; break;
                case QTASK_FAILED: c->failed++; break;
                case QTASK_CANCELLED: c->cancelled++; break;
                default:
                    c->live++;
                    self->live++;
                    break;
            }
        }
        if (job->state == QJOB_CANCELLED)
            job->cancel_requested = true;
    }
    /*  Dependencies, now that every job is there; then jobs that can run. */
    for (queue_job_t *job = zlistx_first (self->order); job; job = zlistx_next (self->order)) {
        if (s_final (job->state))
            continue;
        job->deps_pending = 0;
        s_link_dependencies (job, now);
        if (job->deps_pending > 0)
            job->state = QJOB_WAITING;
        else if (job->state == QJOB_WAITING)
            job->state = QJOB_QUEUED;
    }
    for (queue_job_t *job = zlistx_first (self->order); job; job = zlistx_next (self->order)) {
        if (s_final (job->state))
            continue;
        s_make_runnable (job);
        s_job_check_end (job, now);
    }
    queue_registered (self);
}

queue_job_t *
queue_job (queue_t *self, const char *id)
{
    return id ? zhashx_lookup (self->jobs, id) : NULL;
}

queue_job_t *
queue_first (queue_t *self)
{
    return zlistx_first (self->order);
}

queue_job_t *
queue_next (queue_t *self)
{
    return zlistx_next (self->order);
}

size_t
queue_size (queue_t *self)
{
    return zlistx_size (self->order);
}

static void
s_kill_attempt (queue_t *self, queue_job_t *job, int64_t pos, uint32_t attempt)
{
    char id[PROTO_MAX_ID + 1];
    s_task_id (job, pos, attempt, id, sizeof id);
    s_act (self, ACT_KILL, id);
}

int
queue_cancel (queue_t *self, const char *job_id, const char *why, double now)
{
    queue_job_t *job = queue_job (self, job_id);
    if (!job)
        return error_set (ENOENT, "no job '%s'", job_id ? job_id : "");
    if (s_final (job->state))
        return error_set (EALREADY, "job %s has already ended (%s)", job->id,
                          qjob_state_name (job->state));
    if (job->cancel_requested)
        return 0;
    job->cancel_requested = true;
    free (job->message);
    job->message = xstrdup (why && *why ? why : "cancelled");
    s_not_runnable (job);
    for (int64_t i = 0; i < job->ntasks; i++) {
        qtask_t *t = &job->tasks[i];
        if (t->state == QTASK_WAITING) {
            t->state = QTASK_CANCELLED;
            job->counts.waiting--;
            job->counts.cancelled++;
        }
        else if (s_task_live (t->state))
            s_kill_attempt (self, job, i, t->attempt);
    }
    log_info ("job %s: cancelling (%s)", job->id, job->message);
    s_store_job (job);
    s_job_check_end (job, now);
    return 0;
}

/*  Offers  */

void
queue_offers (queue_t *self, cairn_offer_t *const *offers, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (self->noffers == self->cap_offers) {
            self->cap_offers = self->cap_offers ? self->cap_offers * 2 : 8;
            self->offers = xrealloc (self->offers, self->cap_offers * sizeof *self->offers);
        }
        const cairn_resources_t *r = cairn_offer_resources (offers[i]);
        held_offer_t *o = &self->offers[self->noffers++];
        memset (o, 0, sizeof *o);
        o->id = xstrdup (cairn_offer_id (offers[i]));
        o->agent_id = s_intern (self, cairn_offer_agent_id (offers[i]));
        o->millicpus = cairn_resources_millicpus (r);
        o->mem = cairn_resources_mem (r);
        o->disk = cairn_resources_disk (r);
    }
}

void
queue_rescinded (queue_t *self, const char *offer_id)
{
    for (size_t i = 0; i < self->noffers; i++)
        if (strcmp (self->offers[i].id, offer_id) == 0) {
            /*  Not placed yet (flush comes after the pass): just forget it. */
            free (self->offers[i].id);
            free (self->offers[i].tasks);
            self->offers[i] = self->offers[--self->noffers];
            return;
        }
}

void
queue_disconnected (queue_t *self)
{
    s_drop_offers (self);
}

static bool
s_fits (const held_offer_t *o, const jobspec_t *spec)
{
    return o->ntasks < PROTO_MAX_TASKS && o->millicpus >= spec->millicpus
           && o->mem >= spec->mem && o->disk >= spec->disk;
}

/*  The task to launch for attempt t->attempt of position pos.            */
static cairn_task_t *
s_build_task (queue_job_t *job, int64_t pos, const char *task_id)
{
    const jobspec_t *spec = job->spec;
    cairn_task_t *task = cairn_task_new (task_id);
    if (spec->command)
        cairn_task_set_command (task, spec->command);
    else
        cairn_task_set_argv (task, (const char *const *) spec->argv);
    cairn_resources_t *r = cairn_resources_new ();
    cairn_resources_set_millicpus (r, spec->millicpus);
    cairn_resources_set_mem (r, spec->mem);
    cairn_resources_set_disk (r, spec->disk);
    cairn_task_set_resources (task, r);
    cairn_resources_destroy (&r);
    for (size_t i = 0; i < spec->nenv; i++)
        cairn_task_set_env (task, spec->env_keys[i], spec->env_values[i]);
    char index[24];
    snprintf (index, sizeof index, "%" PRId64, spec->first + pos);
    cairn_task_set_env (task, "CAIRN_ARRAY_INDEX", index);
    cairn_task_set_env (task, "CAIRN_BATCH_JOB", job->id);
    return task;
}

void
queue_flush (queue_t *self, double now)
{
    if (self->noffers == 0)
        return;
    size_t rr = 0, n = self->noffers;
    queue_job_t *job = zlistx_first (self->runnable);
    while (job) {
        queue_job_t *next_job = zlistx_next (self->runnable);
        const jobspec_t *spec = job->spec;
        while (s_has_work (job)
               && (spec->max_parallel == 0 || job->counts.live < spec->max_parallel)
               && (self->max_live == 0 || self->live < self->max_live)) {
            held_offer_t *o = NULL;
            for (size_t k = 0; k < n && !o; k++) {
                held_offer_t *c = &self->offers[(rr + k) % n];
                if (s_fits (c, spec)) {
                    o = c;
                    rr = (rr + k + 1) % n;
                }
            }
            if (!o)
                break;          /* no room for this job; a smaller one may fit */
            int64_t pos = s_take (job);
            if (pos < 0)
                break;
            qtask_t *t = &job->tasks[pos];
            t->attempt++;
            t->state = QTASK_LAUNCHING;
            t->agent_id = o->agent_id;
            t->unknown_since = 0;
            job->counts.waiting--;
            job->counts.live++;
            self->live++;
            char id[PROTO_MAX_ID + 1];
            s_task_id (job, pos, t->attempt, id, sizeof id);
            if (o->ntasks == o->cap) {
                o->cap = o->cap ? o->cap * 2 : 64;
                o->tasks = xrealloc (o->tasks, o->cap * sizeof *o->tasks);
            }
            o->tasks[o->ntasks++] = s_build_task (job, pos, id);
            o->millicpus -= spec->millicpus;
            o->mem -= spec->mem;
            o->disk -= spec->disk;
            s_store_attempt (job, pos, "LAUNCHING");
            if (job->state == QJOB_QUEUED) {
                job->state = QJOB_RUNNING;
                job->started = now;
                s_store_job (job);
            }
        }
        if (!s_has_work (job))
            s_not_runnable (job);
        job = next_job;
    }
    bool work = zlistx_size (self->runnable) > 0;
    for (size_t i = 0; i < n; i++) {
        held_offer_t *o = &self->offers[i];
        if (o->ntasks > 0) {
            action_t *a = s_act (self, ACT_ACCEPT, o->id);
            a->tasks = o->tasks;
            a->ntasks = o->ntasks;
            a->refuse_s = work ? REFUSE_BUSY_S : REFUSE_IDLE_S;
            o->tasks = NULL;
            o->ntasks = o->cap = 0;
        }
        else
            s_act (self, ACT_DECLINE, o->id)->refuse_s = work ? REFUSE_NOFIT_S : REFUSE_IDLE_S;
    }
    s_drop_offers (self);
    if (!work && !self->suppressed) {
        self->suppressed = true;
        s_act (self, ACT_SUPPRESS, NULL);
    }
}

/*  Status updates  */

static void
s_view (const queue_job_t *job, int64_t pos, queue_task_view_t *view, char *id, size_t size)
{
    const qtask_t *t = &job->tasks[pos];
    view->index = job->spec->first + pos;
    view->state = (qtask_state_t) t->state;
    view->attempt = t->attempt;
    view->failures = t->failures;
    view->exit_code = t->exit_code;
    if (t->attempt > 0)
        s_task_id (job, pos, t->attempt, id, size);
    else
        *id = '\0';
    view->task_id = id;
    view->agent_id = t->agent_id ? t->agent_id : "";
    view->message = t->message ? t->message : "";
    view->stderr_tail = t->stderr_tail ? t->stderr_tail : "";
}

/*  The task ended for good (succeeded, failed, cancelled).               */
static void
s_task_final (queue_job_t *job, int64_t pos, qtask_state_t state, double now)
{
    queue_t *self = job->queue;
    qtask_t *t = &job->tasks[pos];
    bool was_live = s_task_live (t->state);
    if (t->state == QTASK_WAITING)
        job->counts.waiting--;
    if (was_live) {
        job->counts.live--;
        self->live--;
    }
    if (t->unknown_since > 0) {
        t->unknown_since = 0;
        self->unknown--;
    }
    t->state = state;
    if (state == QTASK_SUCCEEDED)
        job->counts.succeeded++;
    else if (state == QTASK_FAILED)
        job->counts.failed++;
    else
        job->counts.cancelled++;
    s_store_attempt (job, pos, state == QTASK_SUCCEEDED ? "SUCCEEDED"
                             : state == QTASK_FAILED ? "FAILED" : "CANCELLED");
    if (self->ops.task_done && t->attempt > 0) {
        queue_task_view_t view;
        char id[PROTO_MAX_ID + 1];
        s_view (job, pos, &view, id, sizeof id);
        self->ops.task_done (self->arg, job, &view);
    }
    s_job_check_end (job, now);
}

/*  The current attempt ended without the task ending: back in the queue. */
static void
s_requeue (queue_job_t *job, int64_t pos, const char *why)
{
    queue_t *self = job->queue;
    qtask_t *t = &job->tasks[pos];
    if (s_task_live (t->state)) {
        job->counts.live--;
        self->live--;
    }
    if (t->unknown_since > 0) {
        t->unknown_since = 0;
        self->unknown--;
    }
    t->state = QTASK_WAITING;
    job->counts.waiting++;
    s_store_attempt (job, pos, why);
    s_fifo_push (job, pos);
    s_make_runnable (job);
}

static void
s_set_message (qtask_t *t, const cairn_status_t *status)
{
    free (t->message);
    t->message = xstrdup (cairn_status_message (status));
    t->exit_code = cairn_status_exit_code (status);
}

/*  An update about an attempt older than the task's current one: a copy
    that was lost and replaced. The task still runs once.                 */
static void
s_old_attempt (queue_job_t *job, int64_t pos, uint32_t attempt, const cairn_status_t *status,
               double now)
{
    queue_t *self = job->queue;
    qtask_t *t = &job->tasks[pos];
    cairn_task_state_t state = cairn_status_state (status);
    bool alive = state == CAIRN_TASK_STAGING || state == CAIRN_TASK_STARTING
                 || state == CAIRN_TASK_RUNNING;
    if (alive && t->state == QTASK_WAITING && !job->cancel_requested) {
        /*  Back before its replacement left: it is the task's run again. */
        log_info ("task %s.%" PRId64 ".%u: came back; its replacement is not needed",
                  job->id, job->spec->first + pos, attempt);
        t->attempt = attempt;
        t->state = QTASK_RUNNING;
        t->agent_id = s_intern (self, cairn_status_agent_id (status));
        job->counts.waiting--;
        job->counts.live++;
        self->live++;
        s_store_attempt (job, pos, "RUNNING");
        return;
    }
    if (alive) {
        log_info ("task %s.%" PRId64 ".%u: came back after it was replaced; killing the "
                  "surplus copy", job->id, job->spec->first + pos, attempt);
        s_kill_attempt (self, job, pos, attempt);
        return;
    }
    if (state == CAIRN_TASK_FINISHED && (t->state == QTASK_WAITING || s_task_live (t->state))) {
        /*  The old copy finished: that is the run; stop the replacement. */
        if (s_task_live (t->state))
            s_kill_attempt (self, job, pos, t->attempt);
        t->attempt = attempt;
        t->agent_id = s_intern (self, cairn_status_agent_id (status));
        s_set_message (t, status);
        s_task_final (job, pos, QTASK_SUCCEEDED, now);
    }
}

void
queue_status (queue_t *self, const cairn_status_t *status, double now)
{
    const char *task_id = cairn_status_task_id (status);
    cairn_task_state_t state = cairn_status_state (status);
    int64_t pos;
    uint32_t attempt;
    queue_job_t *job = s_lookup (self, task_id, &pos, &attempt);
    if (!job) {
        /*  Not ours (any more): a live one is stopped.                    */
        if (!cairn_task_state_is_terminal (state) && state != CAIRN_TASK_UNKNOWN) {
            log_warn ("task %s is not in the queue; killing it", task_id);
            s_act (self, ACT_KILL, task_id);
        }
        return;
    }
    qtask_t *t = &job->tasks[pos];
    if (attempt < t->attempt || (attempt == t->attempt && t->state == QTASK_WAITING)) {
        /*  A copy replaced (or about to be): lost, then back.             */
        s_old_attempt (job, pos, attempt, status, now);
        return;
    }
    if (attempt > t->attempt) {
        /*  Launched by an instance whose record of it did not survive: it
            is the current attempt now.                                    */
        t->attempt = attempt;
        if (t->state == QTASK_WAITING) {
            t->state = QTASK_LAUNCHING;
            job->counts.waiting--;
            job->counts.live++;
            self->live++;
        }
    }
    if (!s_task_live (t->state)) {
        /*  The task already ended: a late duplicate, or a copy we stopped
            caring about.                                                  */
        if (!cairn_task_state_is_terminal (state) && state != CAIRN_TASK_UNKNOWN)
            s_kill_attempt (self, job, pos, attempt);
        return;
    }
    if (t->unknown_since > 0 && state != CAIRN_TASK_UNKNOWN) {
        t->unknown_since = 0;
        self->unknown--;
    }
    const char *agent = cairn_status_agent_id (status);
    if (agent && *agent)
        t->agent_id = s_intern (self, agent);
    switch (state) {
        case CAIRN_TASK_STAGING:
        case CAIRN_TASK_STARTING:
            if (t->state == QTASK_LAUNCHING)
                t->state = QTASK_STARTING;
            break;
        case CAIRN_TASK_RUNNING:
        case CAIRN_TASK_KILLING:
            if (t->state != QTASK_RUNNING) {
                t->state = QTASK_RUNNING;
                s_store_attempt (job, pos, "RUNNING");
            }
            break;
        case CAIRN_TASK_FINISHED:
            s_set_message (t, status);
            s_task_final (job, pos, QTASK_SUCCEEDED, now);
            break;
        case CAIRN_TASK_FAILED:
        case CAIRN_TASK_ERROR:
        case CAIRN_TASK_KILLED:
            s_set_message (t, status);
            if (job->cancel_requested)
                s_task_final (job, pos, QTASK_CANCELLED, now);
            else if (++t->failures <= (uint32_t) job->spec->retries) {
                job->counts.retried++;
                log_info ("task %s: %s: %s; retrying (%u of %d)", task_id,
                          cairn_task_state_name (state), cairn_status_message (status),
                          t->failures, job->spec->retries);
                s_requeue (job, pos, "FAILED");
            }
            else
                s_task_final (job, pos, QTASK_FAILED, now);
            break;
        case CAIRN_TASK_LOST:
        case CAIRN_TASK_UNREACHABLE:
        case CAIRN_TASK_GONE:
        case CAIRN_TASK_DROPPED:
            s_set_message (t, status);
            if (job->cancel_requested)
                s_task_final (job, pos, QTASK_CANCELLED, now);
            else {
                if (state != CAIRN_TASK_DROPPED) {
                    job->counts.lost++;
                    log_info ("task %s: %s: %s; launching a replacement", task_id,
                              cairn_task_state_name (state), cairn_status_message (status));
                }
                s_requeue (job, pos, "LOST");
            }
            break;
        case CAIRN_TASK_UNKNOWN:
            if (t->unknown_since == 0) {
                t->unknown_since = now;
                self->unknown++;
            }
            break;
        default:
            break;
    }
}

static void
s_reconcile (queue_t *self, bool only_unknown)
{
    size_t cap = 1024, n = 0;
    char **ids = xzalloc (cap * sizeof (char *));
    for (queue_job_t *job = zlistx_first (self->order); job; job = zlistx_next (self->order)) {
        if (job->counts.live == 0)
            continue;
        for (int64_t i = 0; i < job->ntasks; i++) {
            qtask_t *t = &job->tasks[i];
            if (!s_task_live (t->state) || (only_unknown && t->unknown_since == 0))
                continue;
            if (n == cap)
                ids = xrealloc (ids, (cap *= 2) * sizeof (char *));
            char id[PROTO_MAX_ID + 1];
            s_task_id (job, i, t->attempt, id, sizeof id);
            ids[n++] = xstrdup (id);
        }
    }
    /*  In messages of at most PROTO_MAX_ITEMS ids.                        */
    for (size_t from = 0; from < n; from += PROTO_MAX_ITEMS) {
        action_t *a = s_act (self, ACT_RECONCILE, NULL);
        a->nids = n - from < PROTO_MAX_ITEMS ? n - from : PROTO_MAX_ITEMS;
        a->ids = xzalloc (a->nids * sizeof (char *));
        memcpy (a->ids, ids + from, a->nids * sizeof (char *));
    }
    free (ids);
}

void
queue_registered (queue_t *self)
{
    /*  Offers and suppression do not survive a new session's start: the
        driver repeats a suppression itself, and revive is harmless.      */
    if (self->live > 0)
        s_reconcile (self, false);
    if (zlistx_size (self->runnable) > 0) {
        self->suppressed = false;
        s_act (self, ACT_REVIVE, NULL);
    }
    else if (!self->suppressed) {
        self->suppressed = true;
        s_act (self, ACT_SUPPRESS, NULL);
    }
}

void
queue_tick (queue_t *self, double now)
{
    if (self->unknown == 0)
        return;
    for (queue_job_t *job = zlistx_first (self->order); job && self->unknown > 0;
         job = zlistx_next (self->order)) {
        if (job->counts.live == 0)
            continue;
        for (int64_t i = 0; i < job->ntasks; i++) {
            qtask_t *t = &job->tasks[i];
            if (!s_task_live (t->state) || t->unknown_since == 0
                || now - t->unknown_since < self->unknown_grace)
                continue;
            char id[PROTO_MAX_ID + 1];
            s_task_id (job, i, t->attempt, id, sizeof id);
            log_warn ("task %s: the master has not known it for %.0f s; it never ran or its "
                      "agent is gone: launching it again", id, now - t->unknown_since);
            free (t->message);
            t->message = xstrdup ("the master does not know the task");
            if (job->cancel_requested)
                s_task_final (job, i, QTASK_CANCELLED, now);
            else
                s_requeue (job, i, "LOST");
        }
    }
    if (self->unknown > 0 && now >= self->next_reconcile) {
        self->next_reconcile = now + RECONCILE_EVERY_S;
        s_reconcile (self, true);
    }
}

bool
queue_done (queue_t *self)
{
    for (queue_job_t *job = zlistx_first (self->order); job; job = zlistx_next (self->order))
        if (!s_final (job->state))
            return false;
    return true;
}

void
queue_counts (queue_t *self, queue_counts_t *c)
{
    memset (c, 0, sizeof *c);
    for (queue_job_t *job = zlistx_first (self->order); job; job = zlistx_next (self->order)) {
        c->tasks += job->counts.tasks;
        c->waiting += job->counts.waiting;
        c->live += job->counts.live;
        c->succeeded += job->counts.succeeded;
        c->failed += job->counts.failed;
        c->cancelled += job->counts.cancelled;
        c->retried += job->counts.retried;
        c->lost += job->counts.lost;
    }
}

size_t
queue_jobs_ended (queue_t *self, size_t *failed)
{
    size_t ended = 0;
    *failed = 0;
    for (queue_job_t *job = zlistx_first (self->order); job; job = zlistx_next (self->order))
        if (s_final (job->state)) {
            ended++;
            if (job->state != QJOB_SUCCEEDED)
                (*failed)++;
        }
    return ended;
}

const char *
queue_job_id (const queue_job_t *job)
{
    return job->id;
}

const jobspec_t *
queue_job_spec (const queue_job_t *job)
{
    return job->spec;
}

qjob_state_t
queue_job_state (const queue_job_t *job)
{
    return job->state;
}

const char *
queue_job_message (const queue_job_t *job)
{
    return job->message ? job->message : "";
}

const char *
queue_job_waits_for (const queue_job_t *job)
{
    return job->waits_for ? job->waits_for : "";
}

const char *
queue_job_schedule (const queue_job_t *job)
{
    return job->schedule_id ? job->schedule_id : "";
}

int64_t
queue_job_seq (const queue_job_t *job)
{
    return job->seq;
}

void
queue_job_times (const queue_job_t *job, double *submitted, double *started, double *finished)
{
    *submitted = job->submitted;
    *started = job->started;
    *finished = job->finished;
}

void
queue_job_counts (const queue_job_t *job, queue_counts_t *counts)
{
    *counts = job->counts;
}

void
queue_job_task (const queue_job_t *job, int64_t pos, queue_task_view_t *view)
{
    static __thread char id[PROTO_MAX_ID + 1];
    assert (pos >= 0 && pos < job->ntasks);
    s_view (job, pos, view, id, sizeof id);
}

void
queue_job_set_stderr (queue_job_t *job, int64_t index, const char *text)
{
    int64_t pos = index - job->spec->first;
    if (pos < 0 || pos >= job->ntasks)
        return;
    qtask_t *t = &job->tasks[pos];
    free (t->stderr_tail);
    t->stderr_tail = text && *text ? xstrdup (text) : NULL;
    if (t->state == QTASK_FAILED)
        s_store_attempt (job, pos, "FAILED");
}

bool
queue_job_ended (const queue_job_t *job)
{
    return s_final (job->state);
}
