/*  tests/unit/batch.c - cairn-batch's modules without a cluster: cron
    schedules, job definitions and their errors, the queue's decisions
    (placement, priorities, max_parallel, retries, lost attempts,
    dependencies, cancel, suppress/revive) driven through fake offers and
    status updates, and the durable queue's restart.                     */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cairn.h"
#include "cron.h"
#include "job.h"
#include "jobstore.h"
#include "objects.h"
#include "proto.h"
#include "queue.h"
#include "tap.h"
#include "util.h"

/*  Cron  */

static time_t
s_utc (int y, int mon, int d, int h, int min, int s)
{
    struct tm tm = { .tm_year = y - 1900, .tm_mon = mon - 1, .tm_mday = d, .tm_hour = h,
                     .tm_min = min, .tm_sec = s, .tm_isdst = -1 };
    return mktime (&tm);        /* TZ is UTC here */
}

static void
s_next (const char *text, time_t after, time_t want, const char *what)
{
    cron_t *c = cron_parse (text);
    ok (c != NULL, "'%s' parses", text);
    if (c) {
        time_t got = cron_next (c, after);
        ok (got == want, "%s: '%s' next is %ld (got %ld)", what, text, (long) want, (long) got);
    }
    cron_destroy (&c);
}

static void
s_bad_cron (const char *text, const char *want)
{
    cron_t *c = cron_parse (text);
    ok (!c, "'%s' is refused", text);
    is (cairn_strerror_last (), want, "'%s': the error", text);
    cron_destroy (&c);
}

static void
test_cron (void)
{
    setenv ("TZ", "UTC", 1);
    tzset ();
    time_t t = s_utc (2026, 1, 1, 0, 2, 30);    /* a Thursday */
    s_next ("*/5 * * * *", t, s_utc (2026, 1, 1, 0, 5, 0), "a step");
    s_next ("* * * * *", s_utc (2026, 1, 1, 0, 5, 0), s_utc (2026, 1, 1, 0, 6, 0),
            "strictly after, on a minute");
    s_next ("0 3 * * *", s_utc (2026, 1, 1, 3, 0, 0), s_utc (2026, 1, 2, 3, 0, 0),
            "the next day");
    s_next ("0 0 1 1 *", t, s_utc (2027, 1, 1, 0, 0, 0), "next year");
    s_next ("0 12 * * 1-5", s_utc (2026, 1, 3, 13, 0, 0), s_utc (2026, 1, 5, 12, 0, 0),
            "a weekday range skips the weekend");
    s_next ("0 0 13 * 5", t, s_utc (2026, 1, 2, 0, 0, 0),
            "day of month or day of week: Friday the 2nd");
    s_next ("30 4 1,15 * *", t, s_utc (2026, 1, 1, 4, 30, 0), "a list");
    s_next ("0 0 * * 7", t, s_utc (2026, 1, 4, 0, 0, 0), "7 is Sunday");
    s_next ("10-20/5 * * * *", s_utc (2026, 1, 1, 0, 16, 0), s_utc (2026, 1, 1, 0, 20, 0),
            "a stepped range");
    cron_t *never = cron_parse ("0 0 30 2 *");
    ok (never && cron_next (never, t) == -1, "February 30th never comes");
    cron_destroy (&never);
    s_bad_cron ("* * * *", "'* * * *' has 4 fields; a schedule has five: minute, hour, "
                "day-of-month, month, day-of-week");
    s_bad_cron ("60 * * * *", "the minute field: 60 is not in 0-59");
    s_bad_cron ("* 5-2 * * *", "the hour field: the range 5-2 is backwards");
    s_bad_cron ("* * * * mon", "the day-of-week field: expected a number at 'mon'");
    s_bad_cron ("*/0 * * * *", "the minute field: 0 is not in 1-60");
}

/*  Jobs  */

static jobspec_t *
s_job (const char *text, jcheck_error_t *err)
{
    json_t *json = jcheck_load (text, strlen (text), err);
    jobspec_t *spec = json ? jobspec_from_json (json, NULL, err) : NULL;
    json_decref (json);
    return spec;
}

static void
s_bad_job (const char *text, const char *field, const char *message)
{
    jcheck_error_t err = { 0 };
    jobspec_t *spec = s_job (text, &err);
    ok (!spec, "refused: %s", text);
    is (err.field ? err.field : "", field, "field of %s", text);
    is (err.message ? err.message : "", message, "message of %s", text);
    jcheck_error_clear (&err);
    jobspec_destroy (&spec);
}

static void
s_bad_file (const char *text, const char *field, const char *message)
{
    jcheck_error_t err = { 0 };
    jobspec_t **jobs = NULL;
    int n = jobs_from_text (text, strlen (text), true, NULL, NULL, &jobs, &err);
    ok (n < 0, "file refused: %s", text);
    is (err.field ? err.field : "", field, "field of the file %s", text);
    is (err.message ? err.message : "", message, "message of the file %s", text);
    jcheck_error_clear (&err);
    jobs_free (&jobs, n);
}

static void
test_jobs (void)
{
    jcheck_error_t err = { 0 };
    jobspec_t *spec = s_job ("{\"id\":\"render\",\"command\":\"echo $CAIRN_ARRAY_INDEX\","
                             "\"array\":\"1-100\",\"cpus\":0.5,\"mem\":256,\"retries\":2,"
                             "\"priority\":10,\"max_parallel\":20,\"env\":{\"Q\":\"high\"},"
                             "\"after\":[\"fetch\"]}", &err);
    ok (spec != NULL, "a full job is accepted");
    if (!spec)
        diag ("%s", err.message);
    else {
        ok (spec->millicpus == 500 && spec->mem == 256 && spec->first == 1 && spec->last == 100
            && spec->retries == 2 && spec->priority == 10 && spec->max_parallel == 20
            && spec->nenv == 1 && spec->nafter == 1, "its fields are read");
        cmp_int (jobspec_tasks (spec), 100, "an array 1-100 has 100 tasks");
        jobspec_t *copy = jobspec_dup (spec);
        json_t *a = jobspec_to_json (spec), *b = jobspec_to_json (copy);
        ok (json_equal (a, b), "the JSON form reads back the same");
        json_decref (a);
        json_decref (b);
        jobspec_destroy (&copy);
    }
    jobspec_destroy (&spec);
    spec = s_job ("{\"argv\":[\"true\"]}", &err);
    ok (spec && spec->millicpus == 100 && spec->mem == 32 && jobspec_tasks (spec) == 1
        && !spec->id, "defaults: 0.1 cpus, 32 MiB, one task, no id");
    jobspec_destroy (&spec);

    s_bad_job ("{\"argv\":[\"true\"],\"cpu\":1}", "cpu",
               "unknown field 'cpu' (did you mean cpus?)");
    s_bad_job ("{\"id\":\"x\",\"argv\":[\"true\"],\"cpus\":0}", "cpus",
               "job 'x': cpus must be a number from 0.001 to 1024");
    s_bad_job ("{\"count\":2}", "command",
               "command is required (a shell command), or give argv (a program and its "
               "arguments)");
    s_bad_job ("{\"command\":\"a\",\"argv\":[\"b\"]}", "argv",
               "argv cannot be given with command: a job runs either a shell command or an "
               "argv");
    s_bad_job ("{\"argv\":[]}", "argv", "argv must name at least the program to run");
    s_bad_job ("{\"argv\":[\"t\"],\"array\":\"5-1\"}", "array",
               "array must be a range \"FIRST-LAST\" of non-negative indices such as "
               "\"1-100\", with at most 1000000 of them");
    s_bad_job ("{\"argv\":[\"t\"],\"array\":\"1-2\",\"count\":2}", "array",
               "array cannot be given with count");
    s_bad_job ("{\"argv\":[\"t\"],\"env\":{\"CAIRN_X\":\"1\"}}", "env.CAIRN_X",
               "env.CAIRN_X is reserved: names starting with CAIRN_ are set by Cairn itself");
    s_bad_job ("{\"argv\":[\"t\"],\"schedule\":\"* * *\"}", "schedule",
               "schedule is not a cron schedule: '* * *' has 3 fields; a schedule has five: "
               "minute, hour, day-of-month, month, day-of-week");
    s_bad_job ("{\"argv\":[\"t\"],\"schedule\":\"* * * * *\",\"after\":[\"a\"]}", "after",
               "after cannot be given with schedule: each run of a scheduled job is started "
               "by its schedule");
    s_bad_job ("{\"argv\":[\"t\"],\"overlap\":\"queue\"}", "overlap",
               "overlap applies only to a job with a schedule");
    s_bad_job ("{\"id\":\"a.b\",\"argv\":[\"t\"]}", "id",
               "job 'a.b': id 'a.b' is not a valid job id (1-64 of A-Z a-z 0-9 _ -)");

    s_bad_file ("{\"jobs\":[{\"id\":\"a\",\"argv\":[\"t\"]},{\"id\":\"b\",\"argv\":[\"t\"],"
                "\"retries\":-1}]}", "jobs[1].retries",
                "job 'b' (jobs[1]): jobs[1].retries must be an integer from 0 to 100");
    s_bad_file ("{\"jobs\":[{\"id\":\"a\",\"argv\":[\"t\"],\"after\":[\"zz\"]}]}",
                "jobs[0].after[0]",
                "job 'a' (jobs[0]): jobs[0].after[0] names job 'zz', which does not exist");
    s_bad_file ("[{\"id\":\"a\",\"argv\":[\"t\"],\"after\":[\"c\"]},{\"id\":\"b\",\"argv\":[\"t\"],"
                "\"after\":[\"a\"]},{\"id\":\"c\",\"argv\":[\"t\"],\"after\":[\"b\"]}]",
                "[1].after", "job 'b' ([1]): [1].after makes a cycle: a -> c -> b -> a");
    s_bad_file ("[{\"id\":\"a\",\"argv\":[\"t\"]},{\"id\":\"a\",\"argv\":[\"t\"]}]", "[1].id",
                "job 'a' ([1]): [1].id 'a' is already the id of [0]");
    s_bad_file ("{\"jobs\":[],\"x\":1}", "x",
                "x is not expected beside jobs (a job file is a job, an array of jobs, or "
                "{\"jobs\": [...]})");
    s_bad_file ("[1,", "", "not valid JSON: line 1, column 3: ']' expected near end of file");

    jobspec_t **jobs = NULL;
    const char *two = "[{\"argv\":[\"t\"]},{\"argv\":[\"t\"]}]";
    int n = jobs_from_text (two, strlen (two), true, NULL, NULL, &jobs, &err);
    ok (n == 2 && strcmp (jobs[0]->id, "job1") == 0 && strcmp (jobs[1]->id, "job2") == 0,
        "jobs without ids are job1, job2");
    jobs_free (&jobs, n);
}

/*  The queue, with fake ops that record what it asks  */

typedef struct {
    char log[16384];            /* "accept O1 a.0.1,a.1.1 0; decline O2 30; kill x; ..." */
    int accepts, declines, kills, reconciles, suppresses, revives;
    int done_tasks, done_jobs;
} rec_t;

static void
s_log (rec_t *r, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
s_log (rec_t *r, const char *fmt, ...)
{
    size_t len = strlen (r->log);
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (r->log + len, sizeof r->log - len, fmt, ap);
    va_end (ap);
}

static void
r_accept (void *arg, const char *offer_id, cairn_task_t *const *tasks, size_t n, double refuse)
{
    rec_t *r = arg;
    r->accepts++;
    s_log (r, "accept %s ", offer_id);
    for (size_t i = 0; i < n; i++)
        s_log (r, "%s%s", i ? "," : "", cairn_task_id (tasks[i]));
    s_log (r, " %g; ", refuse);
}

static void
r_decline (void *arg, const char *offer_id, double refuse)
{
    rec_t *r = arg;
    r->declines++;
    s_log (r, "decline %s %g; ", offer_id, refuse);
}

static void
r_kill (void *arg, const char *task_id)
{
    rec_t *r = arg;
    r->kills++;
    s_log (r, "kill %s; ", task_id);
}

static void
r_reconcile (void *arg, const char *const *ids, size_t n)
{
    rec_t *r = arg;
    r->reconciles++;
    s_log (r, "reconcile ");
    for (size_t i = 0; i < n; i++)
        s_log (r, "%s%s", i ? "," : "", ids[i]);
    s_log (r, "; ");
}

static void
r_suppress (void *arg)
{
    rec_t *r = arg;
    r->suppresses++;
    s_log (r, "suppress; ");
}

static void
r_revive (void *arg)
{
    rec_t *r = arg;
    r->revives++;
    s_log (r, "revive; ");
}

static void
r_task_done (void *arg, queue_job_t *job, const queue_task_view_t *t)
{
    ((rec_t *) arg)->done_tasks++;
}

static void
r_job_done (void *arg, queue_job_t *job)
{
    ((rec_t *) arg)->done_jobs++;
}

static const queue_ops_t s_ops = {
    r_accept, r_decline, r_kill, r_reconcile, r_suppress, r_revive, r_task_done, r_job_done,
};

/*  Sends the queue offers "O<n>" on agents "A<n>" with resources text. */
static void
s_offer (queue_t *q, const char *id, const char *agent, const char *resources)
{
    proto_offer_t o = { 0 };
    o.offer_id = (char *) id;
    o.agent_id = (char *) agent;
    o.hostname = (char *) agent;
    o.resources = cairn_resources_parse (resources);
    cairn_offer_t *view = offer_view (&o);
    queue_offers (q, &view, 1);
    cairn_resources_destroy (&o.resources);
}

static void
s_status (queue_t *q, const char *task_id, cairn_task_state_t state, int exit_code)
{
    proto_status_t s = { 0 };
    s.uuid = (char *) "u";
    s.task_id = (char *) task_id;
    s.framework_id = (char *) "f";
    s.agent_id = (char *) "A1";
    s.state = state;
    s.message = (char *) (state == CAIRN_TASK_FAILED ? "exited with status 3" : "ok");
    s.exit_code = exit_code;
    queue_status (q, status_view (&s), 100.0);
}

/*  Flushes and sends, returning the log of what went out.               */
static const char *
s_pass (queue_t *q, rec_t *r)
{
    r->log[0] = '\0';
    queue_flush (q, 100.0);
    queue_send (q);
    return r->log;
}

static queue_job_t *
s_add (queue_t *q, const char *text)
{
    jcheck_error_t err = { 0 };
    jobspec_t *spec = s_job (text, &err);
    if (!spec) {
        diag ("bad test job: %s", err.message);
        jcheck_error_clear (&err);
        return NULL;
    }
    return queue_add (q, &spec, 100.0, NULL, NULL);
}

static void
test_queue_placement (void)
{
    rec_t r = { 0 };
    queue_t *q = queue_new (&s_ops, &r, NULL);
    s_add (q, "{\"id\":\"a\",\"argv\":[\"t\"],\"count\":10}");
    s_offer (q, "O1", "A1", "cpus:0.3;mem:1000");
    s_offer (q, "O2", "A2", "cpus:0.35;mem:1000");
    is (s_pass (q, &r), "accept O1 a.0.1,a.2.1,a.4.1 0; accept O2 a.1.1,a.3.1,a.5.1 0; ",
        "six tasks on two offers, in index order, spread over the agents");
    queue_counts_t c;
    queue_counts (q, &c);
    ok (c.live == 6 && c.waiting == 4, "six live, four queued");
    s_status (q, "a.0.1", CAIRN_TASK_FINISHED, 0);
    s_offer (q, "O3", "A1", "cpus:0.1;mem:100");
    is (s_pass (q, &r), "accept O3 a.6.1 0; ", "the next index goes on the next offer");
    queue_job_t *job = queue_job (q, "a");
    queue_task_view_t t;
    queue_job_task (job, 0, &t);
    ok (t.state == QTASK_SUCCEEDED && t.attempt == 1 && r.done_tasks == 1,
        "task 0 succeeded on its first attempt");
    s_offer (q, "O4", "A1", "cpus:0.05;mem:100");
    is (s_pass (q, &r), "decline O4 1; ", "an offer too small is declined for a second");
    queue_destroy (&q);
}

static void
test_queue_order (void)
{
    rec_t r = { 0 };
    queue_t *q = queue_new (&s_ops, &r, NULL);
    s_add (q, "{\"id\":\"lo1\",\"argv\":[\"t\"],\"count\":2}");
    s_add (q, "{\"id\":\"hi\",\"argv\":[\"t\"],\"priority\":5}");
    s_add (q, "{\"id\":\"lo2\",\"argv\":[\"t\"]}");
    s_offer (q, "O1", "A1", "cpus:0.1;mem:100");
    is (s_pass (q, &r), "accept O1 hi.0.1 0; ", "the higher priority goes first");
    s_offer (q, "O2", "A1", "cpus:0.3;mem:100");
    is (s_pass (q, &r), "accept O2 lo1.0.1,lo1.1.1,lo2.0.1 30; suppress; ",
        "then first in, first out; nothing left to launch: no more offers");
    s_offer (q, "O3", "A1", "cpus:1;mem:100");
    is (s_pass (q, &r), "decline O3 30; ", "an offer made meanwhile is declined for long");
    s_add (q, "{\"id\":\"more\",\"argv\":[\"t\"]}");
    r.log[0] = '\0';
    queue_send (q);
    is (r.log, "revive; ", "new work revives offers");
    queue_destroy (&q);
}

static void
test_queue_max_parallel (void)
{
    rec_t r = { 0 };
    queue_t *q = queue_new (&s_ops, &r, NULL);
    s_add (q, "{\"id\":\"m\",\"argv\":[\"t\"],\"count\":5,\"max_parallel\":2}");
    s_offer (q, "O1", "A1", "cpus:4;mem:4000");
    is (s_pass (q, &r), "accept O1 m.0.1,m.1.1 0; ", "max_parallel 2: two at a time");
    s_offer (q, "O2", "A1", "cpus:4;mem:4000");
    is (s_pass (q, &r), "decline O2 1; ", "no third while two run");
    s_status (q, "m.1.1", CAIRN_TASK_FINISHED, 0);
    s_offer (q, "O3", "A1", "cpus:4;mem:4000");
    is (s_pass (q, &r), "accept O3 m.2.1 0; ", "one ended: one more");
    queue_set_max_live (q, 1);
    s_add (q, "{\"id\":\"n\",\"argv\":[\"t\"],\"count\":3}");
    s_offer (q, "O4", "A1", "cpus:4;mem:4000");
    is (s_pass (q, &r), "decline O4 1; ", "a cap on the whole queue holds too");
    queue_destroy (&q);
}

static void
test_queue_retries (void)
{
    rec_t r = { 0 };
    queue_t *q = queue_new (&s_ops, &r, NULL);
    queue_job_t *job = s_add (q, "{\"id\":\"r\",\"argv\":[\"t\"],\"retries\":2}");
    s_offer (q, "O1", "A1", "cpus:1;mem:100");
    s_pass (q, &r);
    s_status (q, "r.0.1", CAIRN_TASK_RUNNING, -1);
    s_status (q, "r.0.1", CAIRN_TASK_FAILED, 3);
    s_offer (q, "O2", "A1", "cpus:1;mem:100");
    is (s_pass (q, &r), "revive; accept O2 r.0.2 30; suppress; ",
        "a failed task runs again as attempt 2 (offers revived for it)");
    s_status (q, "r.0.2", CAIRN_TASK_FAILED, 3);
    s_offer (q, "O3", "A1", "cpus:1;mem:100");
    is (s_pass (q, &r), "revive; accept O3 r.0.3 30; suppress; ", "and again as attempt 3");
    s_status (q, "r.0.3", CAIRN_TASK_FINISHED, 0);
    queue_counts_t c;
    queue_job_counts (job, &c);
    ok (queue_job_state (job) == QJOB_SUCCEEDED && c.succeeded == 1 && c.retried == 2,
        "failed twice, then succeeded: the job succeeded with 2 retries");
    job = s_add (q, "{\"id\":\"f\",\"argv\":[\"t\"],\"retries\":1}");
    s_offer (q, "O4", "A1", "cpus:1;mem:100");
    s_pass (q, &r);
    s_status (q, "f.0.1", CAIRN_TASK_FAILED, 3);
    s_offer (q, "O5", "A1", "cpus:1;mem:100");
    s_pass (q, &r);
    s_status (q, "f.0.2", CAIRN_TASK_FAILED, 3);
    queue_job_counts (job, &c);
    queue_task_view_t t;
    queue_job_task (job, 0, &t);
    ok (queue_job_state (job) == QJOB_FAILED && c.failed == 1 && t.exit_code == 3
        && t.attempt == 2, "out of retries: the task and the job failed, exit code kept");
    is (queue_job_message (job), "1 of 1 tasks failed", "the job says why");
    ok (queue_done (q), "every job ended");
    queue_destroy (&q);
}

static void
test_queue_lost (void)
{
    rec_t r = { 0 };
    queue_t *q = queue_new (&s_ops, &r, NULL);
    queue_job_t *job = s_add (q, "{\"id\":\"l\",\"argv\":[\"t\"],\"count\":2}");
    s_offer (q, "O1", "A1", "cpus:1;mem:100");
    s_pass (q, &r);
    s_status (q, "l.0.1", CAIRN_TASK_RUNNING, -1);
    s_status (q, "l.1.1", CAIRN_TASK_RUNNING, -1);
    s_status (q, "l.0.1", CAIRN_TASK_LOST, -1);
    s_status (q, "l.1.1", CAIRN_TASK_LOST, -1);
    s_status (q, "l.1.1", CAIRN_TASK_RUNNING, -1);
    queue_task_view_t t;
    queue_job_task (job, 1, &t);
    ok (t.state == QTASK_RUNNING && t.attempt == 1,
        "a lost task back before its replacement left is adopted");
    s_offer (q, "O2", "A2", "cpus:1;mem:100");
    is (s_pass (q, &r), "revive; accept O2 l.0.2 30; suppress; ",
        "the other is replaced, without a retry");
    s_status (q, "l.0.1", CAIRN_TASK_RUNNING, -1);
    is (s_pass (q, &r), "kill l.0.1; ", "the lost copy coming back is killed as surplus");
    s_status (q, "l.0.1", CAIRN_TASK_FINISHED, 0);
    is (s_pass (q, &r), "kill l.0.2; ", "had it finished first, the replacement is killed");
    queue_counts_t c;
    queue_job_counts (job, &c);
    queue_job_task (job, 0, &t);
    ok (t.state == QTASK_SUCCEEDED && c.retried == 0 && c.lost == 2,
        "the task ran once: succeeded, no retry counted, two attempts lost");
    s_status (q, "l.0.2", CAIRN_TASK_KILLED, -1);
    ok (c.succeeded == 1, "the killed replacement changes nothing");
    s_status (q, "l.1.1", CAIRN_TASK_UNKNOWN, -1);
    queue_tick (q, 100.0 + 60);
    queue_job_task (job, 1, &t);
    ok (t.state == QTASK_RUNNING, "unknown to the master: still waited for within the grace");
    queue_tick (q, 100.0 + 200);
    queue_job_task (job, 1, &t);
    ok (t.state == QTASK_WAITING, "after the grace it is launched again");
    s_status (q, "zz.0.1", CAIRN_TASK_RUNNING, -1);
    s_offer (q, "O3", "A2", "cpus:1;mem:100");
    is (s_pass (q, &r), "reconcile l.1.1; revive; kill zz.0.1; accept O3 l.1.2 30; suppress; ",
        "the unknown attempt was asked about; a task of no job is killed");
    queue_destroy (&q);
}

static void
test_queue_dependencies (void)
{
    rec_t r = { 0 };
    queue_t *q = queue_new (&s_ops, &r, NULL);
    queue_job_t *a = s_add (q, "{\"id\":\"a\",\"argv\":[\"t\"]}");
    queue_job_t *b = s_add (q, "{\"id\":\"b\",\"argv\":[\"t\"],\"after\":[\"a\"]}");
    queue_job_t *c = s_add (q, "{\"id\":\"c\",\"argv\":[\"t\"],\"after\":[\"b\"]}");
    ok (queue_job_state (b) == QJOB_WAITING, "b waits for a");
    s_offer (q, "O1", "A1", "cpus:1;mem:100");
    is (s_pass (q, &r), "accept O1 a.0.1 30; suppress; ", "only a runs");
    s_status (q, "a.0.1", CAIRN_TASK_FINISHED, 0);
    ok (queue_job_state (a) == QJOB_SUCCEEDED && queue_job_state (b) == QJOB_QUEUED,
        "a succeeded: b is queued");
    s_offer (q, "O2", "A1", "cpus:1;mem:100");
    is (s_pass (q, &r), "revive; accept O2 b.0.1 30; suppress; ", "b runs");
    s_status (q, "b.0.1", CAIRN_TASK_FAILED, 1);
    ok (queue_job_state (b) == QJOB_FAILED && queue_job_state (c) == QJOB_FAILED,
        "b failed: c never runs");
    is (queue_job_message (c), "job b, which it comes after, did not succeed (FAILED)",
        "c says why");
    queue_job_t *d = s_add (q, "{\"id\":\"d\",\"argv\":[\"t\"],\"after\":[\"b\"]}");
    ok (queue_job_state (d) == QJOB_FAILED, "a job after a failed one fails at once");
    ok (r.done_jobs == 4, "every ended job was reported");
    queue_destroy (&q);
}

static void
test_queue_cancel (void)
{
    rec_t r = { 0 };
    queue_t *q = queue_new (&s_ops, &r, NULL);
    queue_job_t *job = s_add (q, "{\"id\":\"c\",\"argv\":[\"t\"],\"count\":3}");
    s_offer (q, "O1", "A1", "cpus:0.2;mem:100");
    s_pass (q, &r);
    r.log[0] = '\0';
    ok (queue_cancel (q, "c", "enough", 100.0) == 0, "cancel");
    queue_send (q);
    is (r.log, "kill c.0.1; kill c.1.1; ", "the live tasks are killed");
    ok (queue_job_state (job) == QJOB_RUNNING, "the job ends when they do");
    s_status (q, "c.0.1", CAIRN_TASK_KILLED, -1);
    s_status (q, "c.1.1", CAIRN_TASK_KILLED, -1);
    queue_counts_t c;
    queue_job_counts (job, &c);
    ok (queue_job_state (job) == QJOB_CANCELLED && c.cancelled == 3 && c.failed == 0,
        "cancelled: three tasks cancelled, none failed or retried");
    ok (queue_cancel (q, "c", "again", 100.0) < 0 && errno == EALREADY, "cancel twice: EALREADY");
    ok (queue_cancel (q, "nope", "x", 100.0) < 0 && errno == ENOENT, "no such job: ENOENT");
    queue_destroy (&q);
}

/*  Loading the store back, as serve.c does.                              */
static void
s_load_job (void *arg, const jobstore_job_t *row)
{
    jcheck_error_t err = { 0 };
    json_t *json = json_loads (row->spec, 0, NULL);
    jobspec_t *spec = jobspec_from_json (json, NULL, &err);
    json_decref (json);
    qjob_state_t state = QJOB_QUEUED;
    qjob_state_parse (row->state, &state);
    queue_restore_job (arg, &spec, row->seq, state, row->cancel_requested, row->message,
                       row->submitted, row->started, row->finished, row->waits_for,
                       row->schedule_id);
}

static void
s_load_attempt (void *arg, const jobstore_attempt_t *row)
{
    queue_restore_attempt (arg, row->task_id, row->state, row->agent_id, row->exit_code,
                           row->message, row->stderr_tail);
}

static void
test_store (void)
{
    char dir[] = "/tmp/batch-unit.XXXXXX";
    ok (mkdtemp (dir) != NULL, "a temporary directory");
    jobstore_t *store = jobstore_open (dir);
    ok (store != NULL, "the store opens");
    if (!store)
        return;
    rec_t r = { 0 };
    queue_t *q = queue_new (&s_ops, &r, store);
    s_add (q, "{\"id\":\"s\",\"argv\":[\"t\"],\"count\":4,\"retries\":1}");
    s_add (q, "{\"id\":\"after\",\"argv\":[\"t\"],\"after\":[\"s\"]}");
    s_offer (q, "O1", "A1", "cpus:0.3;mem:1000");
    s_pass (q, &r);
    s_status (q, "s.0.1", CAIRN_TASK_FINISHED, 0);
    s_status (q, "s.1.1", CAIRN_TASK_FAILED, 3);
    s_status (q, "s.2.1", CAIRN_TASK_RUNNING, -1);
    jobstore_set (store, "framework_id", "f-1");
    ok (jobstore_commit (store) > 0, "a pass commits its changes at once");
    queue_destroy (&q);
    jobstore_close (&store);

    store = jobstore_open (dir);
    char *fw = store ? jobstore_get (store, "framework_id") : NULL;
    is (fw ? fw : "", "f-1", "the framework id is back");
    free (fw);
    memset (&r, 0, sizeof r);
    q = queue_new (&s_ops, &r, store);
    const jobstore_loader_t loader = { NULL, s_load_job, s_load_attempt };
    ok (store && jobstore_load (store, &loader, q) == 0, "the queue loads back");
    queue_restored (q, 200.0);
    queue_send (q);
    is (r.log, "reconcile s.2.1; revive; ",
        "the live attempt is reconciled; queued work revives offers");
    queue_job_t *job = queue_job (q, "s");
    queue_task_view_t t;
    queue_job_task (job, 0, &t);
    ok (t.state == QTASK_SUCCEEDED, "task 0 succeeded: it will not run again");
    queue_job_task (job, 1, &t);
    ok (t.state == QTASK_WAITING && t.failures == 1 && t.attempt == 1,
        "task 1 failed once and waits for its retry");
    queue_job_task (job, 2, &t);
    ok (t.state == QTASK_LAUNCHING || t.state == QTASK_RUNNING, "task 2 is still running");
    ok (queue_job_state (queue_job (q, "after")) == QJOB_WAITING, "the dependent still waits");
    s_offer (q, "O2", "A1", "cpus:1;mem:1000");
    is (s_pass (q, &r), "accept O2 s.1.2,s.3.1 30; suppress; ",
        "the retry first, then the task never launched; nothing runs twice");
    queue_destroy (&q);
    jobstore_close (&store);
    util_remove_tree (dir);
}

int
main (void)
{
    test_cron ();
    test_jobs ();
    test_queue_placement ();
    test_queue_order ();
    test_queue_max_parallel ();
    test_queue_retries ();
    test_queue_lost ();
    test_queue_dependencies ();
    test_queue_cancel ();
    test_store ();
    done_testing ();
}
