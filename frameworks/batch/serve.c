/*  serve.c - cairn-batch serve: the persistent queue and its REST API.

    One loop (scheduler.c) runs the driver, the queue, the API's requests and
    the schedules' clock. Everything the queue decides is recorded in
    STATE_DIR/batch.db (jobstore.c) and committed once per loop pass,
    before the launches, acknowledgements and API answers that depend on
    it: a job the API acknowledged is on disk, and so is every attempt
    before it is launched. On a restart the service loads the queue,
    re-registers with the stored framework id, asks the master about
    every attempt that was live, and goes on; a task runs again only if
    it failed (its retries) or its attempt was lost.

    API (JSON; errors are {"error": ..., "field": ...}):
        GET    /health
        GET    /v1/info                      framework id, master
        POST   /v1/jobs                      a job, or {"jobs": [...]}
        GET    /v1/jobs                      ?state=STATE
        GET    /v1/jobs/{id}                 with its failed tasks
        GET    /v1/jobs/{id}/tasks           ?state=STATE&offset=N&limit=N
        POST   /v1/jobs/{id}/cancel
        GET    /v1/schedules
        GET    /v1/schedules/{id}
        DELETE /v1/schedules/{id}
        POST   /v1/schedules/{id}/run        a run now (its overlap policy applies) */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "cron.h"
#include "error.h"
#include "flags.h"
#include "httpc.h"
#include "httpd.h"
#include "job.h"
#include "jobstore.h"
#include "log.h"
#include "restapi.h"
#include "scheduler.h"
#include "transport.h"
#include "util.h"

#define TICK_MS         1000
#define MAX_FAILURES    100         /* failed tasks listed in a job's details */

typedef struct {
    char *id;
    jobspec_t *spec;            /* the job each run is, with the schedule */
    cron_t *cron;
    int64_t runs;
    char *last_run;             /* "" before the first */
    double created;
    time_t next_at;
} schedule_t;

/*  An answer held until the pass's commit (restapi_call_take).          */
typedef struct held {
    httpd_request_t *req;
    int status;
    json_t *body;
    struct held *next;
} held_t;

typedef struct {
    scheduler_t *sched;
    jobstore_t *store;
    httpd_t *httpd;
    zhashx_t *schedules;        /* id -> schedule_t */
    zlistx_t *schedule_order;   /* ids, in creation order */
    const char *master;
    int64_t next_id;            /* for jobs submitted without an id */
    held_t *held;
    bool failed;
} service_t;

static char *s_master, *s_state_dir, *s_api_ip, *s_name, *s_log_level;
static char *s_http_token_file, *s_http_tls_cert, *s_http_tls_key, *s_ca_file;
static int64_t s_api_port, s_failover_ms, s_unknown_grace_ms;

static const flag_t s_flags[] = {
    { "master", FLAG_STRING, &s_master, NULL, "HOST:PORT|zk://HOSTS/PATH",
      "The master's endpoint (required), or the ZooKeeper ensemble and path of masters run "
      "with --zk (the framework follows the leader).", 0, 0 },
    { "state-dir", FLAG_STRING, &s_state_dir, NULL, "DIR",
      "Directory of the durable queue, batch.db (required).", 0, 0 },
    { "api-ip", FLAG_STRING, &s_api_ip, "127.0.0.1", "ADDR", "Address of the REST API.", 0, 0 },
    { "api-port", FLAG_INT, &s_api_port, "5070", "PORT",
      "Port of the REST API; 0 picks a free one.", 0, 65535 },
    { "name", FLAG_STRING, &s_name, "cairn-batch", "NAME", "The framework's name.", 0, 0 },
    { "failover-timeout", FLAG_DURATION, &s_failover_ms, "24h", "DURATION",
      "How long the master keeps the queue's tasks running while the service is away.", 0,
      315360000000LL },
    { "unknown-grace", FLAG_DURATION, &s_unknown_grace_ms, "2m", "DURATION",
      "How long a task the master does not know may still turn up (agents coming back after "
      "a master restart) before it is run again.", 0, 86400000 },
    { "log-level", FLAG_STRING, &s_log_level, "info", "LEVEL",
      "Log level: error, warn, info or debug.", 0, 0 },
    { "http-token-file", FLAG_STRING, &s_http_token_file, NULL, "FILE",
      "Bearer tokens the REST API's changes need (lines PRINCIPAL TOKEN or TOKEN; not "
      "world-readable). Without it they are open.", 0, 0 },
    { "http-tls-cert", FLAG_STRING, &s_http_tls_cert, NULL, "FILE",
      "Serve the REST API over HTTPS with this PEM certificate (with --http-tls-key).", 0, 0 },
    { "http-tls-key", FLAG_STRING, &s_http_tls_key, NULL, "FILE",
      "The PEM private key of --http-tls-cert.", 0, 0 },
    { "ca-file", FLAG_STRING, &s_ca_file, NULL, "FILE",
      "CA certificates (PEM) for a master or agents serving HTTPS, whose /state and task "
      "files are read (default $CAIRN_CA_FILE).", 0, 0 },
};

/*  Schedules  */

static void
s_schedule_free (void **item)
{
    schedule_t *s = *item;
    if (!s)
        return;
    free (s->id);
    jobspec_destroy (&s->spec);
    cron_destroy (&s->cron);
    free (s->last_run);
    free (s);
    *item = NULL;
}

static void
s_store_schedule (service_t *self, schedule_t *s)
{
    json_t *json = jobspec_to_json (s->spec);
    char *text = json_dumps (json, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION (6));
    jobstore_schedule_t row = {
        .id = s->id, .spec = text, .runs = s->runs, .last_run = s->last_run,
        .created = s->created,
    };
    jobstore_put_schedule (self->store, &row);
    free (text);
    json_decref (json);
}

static schedule_t *
s_schedule_add (service_t *self, jobspec_t **spec_p, int64_t runs, const char *last_run,
                double created)
{
    cron_t *cron = cron_parse ((*spec_p)->schedule);
    if (!cron)
        return NULL;
    schedule_t *s = xzalloc (sizeof *s);
    s->spec = *spec_p;
    *spec_p = NULL;
    s->id = xstrdup (s->spec->id);
    s->cron = cron;
    s->runs = runs;
    s->last_run = xstrdup (last_run ? last_run : "");
    s->created = created;
    /*  Ticks missed while the service was away are skipped.              */
    s->next_at = cron_next (cron, time (NULL));
    zhashx_insert (self->schedules, s->id, s);
    zlistx_add_end (self->schedule_order, s->id);
    return s;
}

static bool
s_id_taken (service_t *self, const char *id)
{
    return queue_job (scheduler_queue (self->sched), id) || zhashx_lookup (self->schedules, id);
}

/*  Starts a run of the schedule: the job id of the run, or NULL with
    *why saying why it was skipped.                                       */
static const char *
s_schedule_fire (service_t *self, schedule_t *s, const char **why)
{
    queue_t *q = scheduler_queue (self->sched);
    queue_job_t *last = queue_job (q, s->last_run);
    bool running = last && !queue_job_ended (last);
    if (running && s->spec->overlap == OVERLAP_SKIP) {
        *why = "the last run is still running (overlap: skip)";
        log_info ("schedule %s: tick skipped: run %s is still running", s->id, s->last_run);
        return NULL;
    }
    char id[JOB_MAX_ID + 24];
    do
        snprintf (id, sizeof id, "%.*s-%" PRId64, JOB_MAX_ID - 12, s->id, ++s->runs);
    while (s_id_taken (self, id));
    jobspec_t *spec = jobspec_dup (s->spec);
    free (spec->schedule);
    spec->schedule = NULL;
    jobspec_set_id (spec, id);
    queue_job_t *job = queue_add (q, &spec, clock_wall (), running ? s->last_run : NULL, s->id);
    free (s->last_run);
    s->last_run = xstrdup (queue_job_id (job));
    s_store_schedule (self, s);
    log_info ("schedule %s: started run %s%s%s", s->id, s->last_run, running ? " after " : "",
              running ? queue_job_waits_for (job) : "");
    return s->last_run;
}

/*  JSON  */

static json_t *
s_job_json (queue_job_t *job, bool detail)
{
    queue_counts_t c;
    queue_job_counts (job, &c);
    double submitted, started, finished;
    queue_job_times (job, &submitted, &started, &finished);
    const jobspec_t *spec = queue_job_spec (job);
    json_t *json = json_pack ("{s:s s:s s:s s:i s:I s:I s:I s:I s:I s:I s:I s:I s:f s:f s:f}",
                              "id", queue_job_id (job),
                              "state", qjob_state_name (queue_job_state (job)),
                              "message", queue_job_message (job), "priority", spec->priority,
                              "tasks", (json_int_t) c.tasks,
                              "succeeded", (json_int_t) c.succeeded,
                              "failed", (json_int_t) c.failed,
                              "cancelled", (json_int_t) c.cancelled,
                              "running", (json_int_t) c.live, "queued", (json_int_t) c.waiting,
                              "retried", (json_int_t) c.retried, "lost", (json_int_t) c.lost,
                              "submitted_at", submitted, "started_at", started,
                              "finished_at", finished);
    if (*queue_job_waits_for (job))
        json_object_set_new (json, "waits_for", json_string (queue_job_waits_for (job)));
    if (*queue_job_schedule (job))
        json_object_set_new (json, "schedule_id", json_string (queue_job_schedule (job)));
    if (!detail)
        return json;
    json_object_set_new (json, "spec", jobspec_to_json (spec));
    json_t *failures = json_array ();
    for (int64_t i = 0; i < c.tasks && c.failed > 0 && json_array_size (failures) < MAX_FAILURES;
         i++) {
        queue_task_view_t t;
        queue_job_task (job, i, &t);
        if (t.state == QTASK_FAILED)
            json_array_append_new (failures, json_pack (
                "{s:I s:s s:s s:i s:i s:s s:s}", "index", (json_int_t) t.index,
                "task_id", t.task_id, "agent_id", t.agent_id, "exit_code", t.exit_code,
                "attempts", (int) t.attempt, "message", t.message, "stderr", t.stderr_tail));
    }
    json_object_set_new (json, "failures", failures);
    return json;
}

static json_t *
s_task_json (const queue_task_view_t *t)
{
    return json_pack ("{s:I s:s s:i s:i s:s s:s s:i s:s s:s}", "index", (json_int_t) t->index,
                      "state", qtask_state_name (t->state), "attempts", (int) t->attempt,
                      "failures", (int) t->failures, "task_id", t->task_id,
                      "agent_id", t->agent_id, "exit_code", t->exit_code,
                      "message", t->message, "stderr", t->stderr_tail);
}

static json_t *
s_schedule_json (schedule_t *s)
{
    return json_pack ("{s:s s:s s:s s:I s:s s:f s:f s:o}", "id", s->id,
                      "schedule", s->spec->schedule,
                      "overlap", s->spec->overlap == OVERLAP_QUEUE ? "queue" : "skip",
                      "runs", (json_int_t) s->runs, "last_run", s->last_run,
                      "next_at", (double) s->next_at, "created_at", s->created,
                      "spec", jobspec_to_json (s->spec));
}

/*  API  */

/*  Answers after the pass's commit.                                       */
static void
s_hold (restapi_call_t *call, int status, json_t *body)
{
    service_t *self = call->arg;
    held_t *h = xzalloc (sizeof *h);
    h->status = status;
    h->body = body;
    h->req = restapi_call_take (call);
    h->next = self->held;
    self->held = h;
}

static void
s_answer_held (service_t *self, bool committed)
{
    held_t *h = self->held;
    self->held = NULL;
    while (h) {
        held_t *next = h->next;
        if (committed)
            httpd_respond_json (self->httpd, &h->req, h->status, h->body);
        else {
            json_decref (h->body);
            httpd_respond_error (self->httpd, &h->req, 503, "the queue could not record the "
                                 "change; the service is stopping");
        }
        free (h);
        h = next;
    }
}

static void
s_api_health (restapi_call_t *call)
{
    service_t *self = call->arg;
    restapi_reply (call, 200, json_pack ("{s:s s:b}", "status", "ok", "registered",
                                         scheduler_registered (self->sched)));
}

static void
s_api_info (restapi_call_t *call)
{
    service_t *self = call->arg;
    restapi_reply (call, 200, json_pack ("{s:s s:s s:s s:b s:s}", "framework_id",
                                         scheduler_framework_id (self->sched), "master",
                                         self->master, "master_http",
                                         scheduler_master_http (self->sched), "registered",
                                         scheduler_registered (self->sched), "store",
                                         jobstore_path (self->store)));
}

static bool
s_known (const char *id, void *arg)
{
    service_t *self = arg;
    return queue_job (scheduler_queue (self->sched), id) != NULL;
}

static void
s_api_submit (restapi_call_t *call)
{
    service_t *self = call->arg;
    json_t *doc = restapi_body (call, NULL);
    if (!doc)
        return;
    jobspec_t **jobs = NULL;
    jcheck_error_t err = { 0 };
    int n = jobs_from_json (doc, false, s_known, self, &jobs, &err);
    json_decref (doc);
    if (n < 0) {
        restapi_check_error (call, &err);
        return;
    }
    for (int i = 0; i < n; i++)
        if (jobs[i]->id && s_id_taken (self, jobs[i]->id)) {
            restapi_error (call, 409, "id", "job '%s' already exists", jobs[i]->id);
            jobs_free (&jobs, n);
            return;
        }
    json_t *ids = json_array (), *schedules = json_array ();
    double now = clock_wall ();
    queue_t *q = scheduler_queue (self->sched);
    for (int i = 0; i < n; i++) {
        if (!jobs[i]->id) {
            char id[32];
            do
                snprintf (id, sizeof id, "job-%" PRId64, ++self->next_id);
            while (s_id_taken (self, id));
            jobspec_set_id (jobs[i], id);
            char seq[32];
            snprintf (seq, sizeof seq, "%" PRId64, self->next_id);
            jobstore_set (self->store, "next_id", seq);
        }
        if (jobs[i]->schedule) {
            char *id = xstrdup (jobs[i]->id);
            schedule_t *s = s_schedule_add (self, &jobs[i], 0, "", now);
            if (s) {
                s_store_schedule (self, s);
                json_array_append_new (schedules, json_string (id));
            }
            free (id);
        }
        else {
            queue_job_t *job = queue_add (q, &jobs[i], now, NULL, NULL);
            json_array_append_new (ids, json_string (queue_job_id (job)));
        }
    }
    jobs_free (&jobs, n);
    s_hold (call, 201, json_pack ("{s:o s:o}", "jobs", ids, "schedules", schedules));
}

static void
s_api_jobs (restapi_call_t *call)
{
    service_t *self = call->arg;
    const char *state = restapi_query (call, "state");
    qjob_state_t want;
    if (state && qjob_state_parse (state, &want) < 0) {
        restapi_error (call, 400, "state", "%s", cairn_strerror_last ());
        return;
    }
    json_t *list = json_array ();
    queue_t *q = scheduler_queue (self->sched);
    for (queue_job_t *job = queue_first (q); job; job = queue_next (q))
        if (!state || queue_job_state (job) == want)
            json_array_append_new (list, s_job_json (job, false));
    restapi_reply (call, 200, json_pack ("{s:o}", "jobs", list));
}

static queue_job_t *
s_find (restapi_call_t *call)
{
    service_t *self = call->arg;
    queue_job_t *job = queue_job (scheduler_queue (self->sched), call->params[0]);
    if (!job)
        restapi_error (call, 404, NULL, "no job '%s'", call->params[0]);
    return job;
}

static void
s_api_job (restapi_call_t *call)
{
    queue_job_t *job = s_find (call);
    if (job)
        restapi_reply (call, 200, s_job_json (job, true));
}

static int64_t
s_query_int (restapi_call_t *call, const char *name, int64_t def, bool *bad)
{
    const char *v = restapi_query (call, name);
    if (!v)
        return def;
    char *end;
    long long n = strtoll (v, &end, 10);
    if (!*v || *end || n < 0) {
        *bad = true;
        restapi_error (call, 400, name, "%s must be a non-negative integer", name);
    }
    return n;
}

static void
s_api_tasks (restapi_call_t *call)
{
    queue_job_t *job = s_find (call);
    if (!job)
        return;
    bool bad = false;
    int64_t offset = s_query_int (call, "offset", 0, &bad);
    int64_t limit = bad ? 0 : s_query_int (call, "limit", INT64_MAX, &bad);
    if (bad)
        return;
    const char *state = restapi_query (call, "state");
    queue_counts_t c;
    queue_job_counts (job, &c);
    json_t *list = json_array ();
    int64_t matched = 0;
    for (int64_t i = 0; i < c.tasks; i++) {
        queue_task_view_t t;
        queue_job_task (job, i, &t);
        if (state && strcmp (state, qtask_state_name (t.state)) != 0)
            continue;
        if (matched++ >= offset && (int64_t) json_array_size (list) < limit)
            json_array_append_new (list, s_task_json (&t));
    }
    restapi_reply (call, 200, json_pack ("{s:s s:I s:o}", "job", queue_job_id (job),
                                         "matched", (json_int_t) matched, "tasks", list));
}

static void
s_api_cancel (restapi_call_t *call)
{
    service_t *self = call->arg;
    queue_job_t *job = s_find (call);
    if (!job)
        return;
    if (queue_cancel (scheduler_queue (self->sched), queue_job_id (job), "cancelled by a user",
                      clock_wall ()) < 0) {
        restapi_error (call, 409, NULL, "%s", cairn_strerror_last ());
        return;
    }
    s_hold (call, 200, s_job_json (job, false));
}

static void
s_api_schedules (restapi_call_t *call)
{
    service_t *self = call->arg;
    json_t *list = json_array ();
    for (const char *id = zlistx_first (self->schedule_order); id;
         id = zlistx_next (self->schedule_order))
        json_array_append_new (list, s_schedule_json (zhashx_lookup (self->schedules, id)));
    restapi_reply (call, 200, json_pack ("{s:o}", "schedules", list));
}

static schedule_t *
s_find_schedule (restapi_call_t *call)
{
    service_t *self = call->arg;
    schedule_t *s = zhashx_lookup (self->schedules, call->params[0]);
    if (!s)
        restapi_error (call, 404, NULL, "no schedule '%s'", call->params[0]);
    return s;
}

static void
s_api_schedule (restapi_call_t *call)
{
    schedule_t *s = s_find_schedule (call);
    if (s)
        restapi_reply (call, 200, s_schedule_json (s));
}

static void
s_api_unschedule (restapi_call_t *call)
{
    service_t *self = call->arg;
    schedule_t *s = s_find_schedule (call);
    if (!s)
        return;
    json_t *reply = json_pack ("{s:s s:b}", "id", s->id, "removed", 1);
    jobstore_delete_schedule (self->store, s->id);
    void *handle = NULL;
    for (char *id = zlistx_first (self->schedule_order); id;
         id = zlistx_next (self->schedule_order))
        if (strcmp (id, s->id) == 0) {
            handle = zlistx_cursor (self->schedule_order);
            break;
        }
    if (handle)
        zlistx_delete (self->schedule_order, handle);
    log_info ("schedule %s: removed", s->id);
    zhashx_delete (self->schedules, call->params[0]);
    s_hold (call, 200, reply);
}

static void
s_api_trigger (restapi_call_t *call)
{
    service_t *self = call->arg;
    schedule_t *s = s_find_schedule (call);
    if (!s)
        return;
    const char *why = NULL;
    const char *id = s_schedule_fire (self, s, &why);
    s_hold (call, id ? 201 : 200, id ? json_pack ("{s:s}", "job", id)
                                     : json_pack ("{s:s}", "skipped", why));
}

static const restapi_route_t s_routes[] = {
    { "GET", "/health", s_api_health },
    { "GET", "/v1/info", s_api_info },
    { "POST", "/v1/jobs", s_api_submit },
    { "GET", "/v1/jobs", s_api_jobs },
    { "GET", "/v1/jobs/{id}", s_api_job },
    { "GET", "/v1/jobs/{id}/tasks", s_api_tasks },
    { "POST", "/v1/jobs/{id}/cancel", s_api_cancel },
    { "GET", "/v1/schedules", s_api_schedules },
    { "GET", "/v1/schedules/{id}", s_api_schedule },
    { "DELETE", "/v1/schedules/{id}", s_api_unschedule },
    { "POST", "/v1/schedules/{id}/run", s_api_trigger },
};

static int
s_on_http (zloop_t *loop, zsock_t *sock, void *arg)
{
    service_t *self = arg;
    httpd_request_t *req;
    int n = 0;
    while (n++ < 256 && (req = httpd_recv (self->httpd)))
        restapi_dispatch (self->httpd, &req, s_routes, sizeof s_routes / sizeof s_routes[0],
                          self);
    /*  The changes of these requests become durable before their answers
        (and the launches they allow) go out.                             */
    scheduler_flush (self->sched);
    s_answer_held (self, !scheduler_failed (self->sched));
    return 0;
}

/*  Hooks  */

static void
s_on_registered (scheduler_t *sched, const char *framework_id, bool again, void *arg)
{
    service_t *self = arg;
    char *stored = jobstore_get (self->store, "framework_id");
    if (!stored || strcmp (stored, framework_id) != 0)
        jobstore_set (self->store, "framework_id", framework_id);
    free (stored);
}

static void
s_on_error (scheduler_t *sched, const char *message, void *arg)
{
    service_t *self = arg;
    /*  The master refused the stored framework (torn down: its tasks were
        killed). Forget it so the next start registers anew; the attempts
        it ran come back as unknown and run again.                        */
    if (strstr (message, "torn down")) {
        jobstore_set (self->store, "framework_id", "");
        log_error ("the framework was torn down by the master; its tasks were killed. "
                   "Restart cairn-batch serve to register a new framework and run them again");
    }
    self->failed = true;
    scheduler_end (sched);
}

static void
s_on_tick (scheduler_t *sched, void *arg)
{
    service_t *self = arg;
    time_t now = time (NULL);
    for (const char *id = zlistx_first (self->schedule_order); id;
         id = zlistx_next (self->schedule_order)) {
        schedule_t *s = zhashx_lookup (self->schedules, id);
        if (!s || s->next_at < 0 || now < s->next_at)
            continue;
        const char *why;
        s_schedule_fire (self, s, &why);
        s->next_at = cron_next (s->cron, now);
    }
}

static void
s_on_signal (scheduler_t *sched, int sig, void *arg)
{
    log_info ("%s: stopping; the tasks go on running and the next start takes them over",
              strsignal (sig));
    scheduler_stop (sched, true);
    scheduler_end (sched);
}

static void
s_on_task_done (scheduler_t *sched, queue_job_t *job, const queue_task_view_t *task, void *arg)
{
    if (task->state != QTASK_FAILED || !*task->agent_id || !*scheduler_framework_id (sched))
        return;
    char key[128];
    snprintf (key, sizeof key, "%s %" PRId64, queue_job_id (job), task->index);
    fetch_tail (scheduler_fetch (sched), key, task->agent_id, scheduler_framework_id (sched),
                task->task_id, "stderr", 10);
}

static void
s_on_fetched (scheduler_t *sched, const fetch_result_t *res, void *arg)
{
    char job_id[JOB_MAX_ID + 1];
    int64_t index;
    if (sscanf (res->key, "%64s %" SCNd64, job_id, &index) != 2)
        return;
    queue_job_t *job = queue_job (scheduler_queue (sched), job_id);
    if (job && res->ok)
        queue_job_set_stderr (job, index, res->text);
    else if (!res->ok)
        log_warn ("cannot read the stderr of task %" PRId64 " of job %s: %s", index, job_id,
                  res->text);
}

/*  Loading  */

typedef struct {
    service_t *service;
    int bad;
} loader_t;

static void
s_load_schedule (void *arg, const jobstore_schedule_t *row)
{
    loader_t *l = arg;
    jcheck_error_t err = { 0 };
    json_t *json = json_loads (row->spec, 0, NULL);
    jobspec_t *spec = json ? jobspec_from_json (json, NULL, &err) : NULL;
    json_decref (json);
    if (!spec || !spec->schedule) {
        log_error ("store: schedule %s cannot be read back: %s", row->id,
                   err.message ? err.message : "not JSON");
        jcheck_error_clear (&err);
        jobspec_destroy (&spec);
        l->bad++;
        return;
    }
    s_schedule_add (l->service, &spec, row->runs, row->last_run, row->created);
    jobspec_destroy (&spec);
}

static void
s_load_job (void *arg, const jobstore_job_t *row)
{
    loader_t *l = arg;
    jcheck_error_t err = { 0 };
    json_t *json = json_loads (row->spec, 0, NULL);
    jobspec_t *spec = json ? jobspec_from_json (json, NULL, &err) : NULL;
    json_decref (json);
    qjob_state_t state;
    if (!spec || qjob_state_parse (row->state, &state) < 0) {
        log_error ("store: job %s cannot be read back: %s", row->id,
                   err.message ? err.message : cairn_strerror_last ());
        jcheck_error_clear (&err);
        jobspec_destroy (&spec);
        l->bad++;
        return;
    }
    jobspec_set_id (spec, row->id);
    queue_restore_job (scheduler_queue (l->service->sched), &spec, row->seq, state,
                       row->cancel_requested, row->message, row->submitted, row->started,
                       row->finished, row->waits_for, row->schedule_id);
}

static void
s_load_attempt (void *arg, const jobstore_attempt_t *row)
{
    loader_t *l = arg;
    queue_restore_attempt (scheduler_queue (l->service->sched), row->task_id, row->state,
                           row->agent_id, row->exit_code, row->message, row->stderr_tail);
}

int
batch_serve (int argc, char **argv)
{
    const flags_spec_t spec = {
        "cairn-batch serve", "CAIRN_BATCH_",
        "Run cairn-batch's persistent job queue, with its REST API.", "[OPTIONS]",
        s_flags, sizeof s_flags / sizeof s_flags[0],
    };
    int rc = flags_parse (&spec, argc, argv, NULL);
    if (rc != 0)
        return rc < 0 ? 2 : 0;
    int exit_code = 2;
    service_t self = { 0 };
    self.schedules = zhashx_new ();
    zhashx_set_destructor (self.schedules, s_schedule_free);
    self.schedule_order = zlistx_new ();
    if (log_init ("cairn-batch", s_log_level, "stderr") < 0) {
        fprintf (stderr, "cairn-batch serve: --log-level: %s\n", cairn_strerror_last ());
        goto done;
    }
    if (!s_master || !s_state_dir) {
        fprintf (stderr, "cairn-batch serve: --master=HOST:PORT and --state-dir=DIR are "
                 "required\n");
        goto done;
    }
    /*  Before the scheduler starts the thread that reads tasks' files:
        httpc's CA bundle is process-wide.                                */
    const char *ca_file = s_ca_file ? s_ca_file : getenv ("CAIRN_CA_FILE");
    if (ca_file && *ca_file && httpc_set_ca_file (ca_file) < 0) {
        fprintf (stderr, "cairn-batch serve: --ca-file: %s\n", cairn_strerror_last ());
        goto done;
    }
    exit_code = 1;
    if (util_mkdir_p (s_state_dir, 0700) < 0 || !(self.store = jobstore_open (s_state_dir))) {
        log_error ("%s", cairn_strerror_last ());
        goto done;
    }
    self.master = s_master;
    char *framework_id = jobstore_get (self.store, "framework_id");
    char *next_id = jobstore_get (self.store, "next_id");
    self.next_id = next_id ? strtoll (next_id, NULL, 10) : 0;
    free (next_id);
    const scheduler_config_t config = {
        .master = s_master, .name = s_name, .framework_id = framework_id,
        .failover_timeout_s = (double) s_failover_ms / 1000.0, .store = self.store,
        .tick_ms = TICK_MS, .arg = &self, .registered = s_on_registered, .error = s_on_error,
        .tick = s_on_tick, .signal = s_on_signal, .task_done = s_on_task_done,
        .fetched = s_on_fetched,
    };
    self.sched = scheduler_new (&config);
    free (framework_id);
    if (!self.sched) {
        log_error ("--master: %s", cairn_strerror_last ());
        exit_code = 2;
        goto done;
    }
    queue_set_unknown_grace (scheduler_queue (self.sched), (double) s_unknown_grace_ms / 1000.0);
    loader_t loader = { &self, 0 };
    const jobstore_loader_t fns = { s_load_schedule, s_load_job, s_load_attempt };
    if (jobstore_load (self.store, &fns, &loader) < 0) {
        log_error ("%s", cairn_strerror_last ());
        goto done;
    }
    queue_restored (scheduler_queue (self.sched), clock_wall ());
    if (queue_size (scheduler_queue (self.sched)) || zhashx_size (self.schedules))
        log_info ("loaded %zu job(s) and %zu schedule(s) from %s",
                  queue_size (scheduler_queue (self.sched)), zhashx_size (self.schedules),
                  jobstore_path (self.store));
    httpd_options_t http_options = {
        .tls_cert = s_http_tls_cert && *s_http_tls_cert ? s_http_tls_cert : NULL,
        .tls_key = s_http_tls_key && *s_http_tls_key ? s_http_tls_key : NULL,
        .token_file = s_http_token_file && *s_http_token_file ? s_http_token_file : NULL,
    };
    if (!(self.httpd = httpd_new_with (s_api_ip, (int) s_api_port, &http_options))) {
        log_error ("%s", cairn_strerror_last ());
        goto done;
    }
    zloop_reader (scheduler_loop (self.sched), httpd_sock (self.httpd), s_on_http, &self);
    log_info ("the REST API listens on %s:%d", s_api_ip, httpd_port (self.httpd));
    if (scheduler_run (self.sched) < 0) {
        log_error ("%s", cairn_strerror_last ());
        goto done;
    }
    exit_code = self.failed ? 1 : 0;

done:
    s_answer_held (&self, false);
    httpd_destroy (&self.httpd);
    scheduler_destroy (&self.sched);
    jobstore_close (&self.store);
    zlistx_destroy (&self.schedule_order);
    zhashx_destroy (&self.schedules);
    flags_free (&spec);
    return exit_code;
}
