/*  run.c - cairn-batch run: runs jobs to completion and exits 0 only if
    all of them succeeded.

    The jobs (the job options and -- CMD, or a job file) are checked in
    full before anything connects. A framework of its own then runs them
    (failover timeout 0: if this program dies, the master kills what it
    started), with a progress bar on a terminal and plain progress lines
    otherwise, both on stderr and throttled. Each failed task's stderr
    tail, and with --output every task's stdout and stderr, is read from
    its agent while the run goes on (an agent serves the files of its
    last 1000 tasks). The summary goes to stdout.                       */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "client.h"
#include "error.h"
#include "flags.h"
#include "httpc.h"
#include "job.h"
#include "log.h"
#include "scheduler.h"
#include "transport.h"

#define TICK_MS         200
#define CANCEL_GRACE_S  10.0

typedef struct {
    scheduler_t *sched;
    const char *master;
    const char *output;
    bool tty, quiet;
    int64_t progress_ms, connect_ms;
    int tail_lines;
    double started;             /* clock_wall at the start */
    double finished;            /* all jobs ended */
    int64_t last_progress_ms;
    int64_t last_done;          /* tasks ended at the last progress line */
    bool printed_bar;
    bool interrupted;
    double interrupted_at;
    double stop_deadline;       /* interrupted: stop by then */
    bool failed_to_connect;
    char *driver_error;
} run_t;

static char *s_master, *s_output, *s_name, *s_log_level, *s_ca_file;
static bool s_quiet;
static int64_t s_connect_ms, s_progress_ms, s_tail_lines;

static const flag_t s_run_flags[] = {
    { "master", FLAG_STRING, &s_master, NULL, "HOST:PORT|zk://HOSTS/PATH",
      "The master's endpoint (required), or the ZooKeeper ensemble and path of masters run "
      "with --zk (the framework follows the leader).", 0, 0 },
    { "output", FLAG_STRING, &s_output, NULL, "DIR",
      "Collect each task's stdout and stderr as DIR/JOB/INDEX.stdout and .stderr.", 0, 0 },
    { "quiet", FLAG_BOOL, &s_quiet, NULL, NULL, "No progress, only the summary.", 0, 0 },
    { "connect-timeout", FLAG_DURATION, &s_connect_ms, "15s", "DURATION",
      "Give up when no master registers the framework within this time.", 100, 3600000 },
    { "progress-interval", FLAG_DURATION, &s_progress_ms, "5s", "DURATION",
      "Between progress lines when stderr is not a terminal.", 100, 3600000 },
    { "tail-lines", FLAG_INT, &s_tail_lines, "10", "N",
      "Lines of a failed task's stderr shown in the summary.", 0, 1000 },
    { "name", FLAG_STRING, &s_name, "cairn-batch", "NAME", "The framework's name.", 0, 0 },
    { "log-level", FLAG_STRING, &s_log_level, "warn", "LEVEL",
      "Log level on stderr: error, warn, info or debug.", 0, 0 },
    { "ca-file", FLAG_STRING, &s_ca_file, NULL, "FILE",
      "CA certificates (PEM) for a master or agents serving HTTPS, whose /state and task "
      "files are read (default $CAIRN_CA_FILE).", 0, 0 },
};
#define NRUN (sizeof s_run_flags / sizeof s_run_flags[0])

static void
s_progress (run_t *r, bool final)
{
    if (r->quiet)
        return;
    queue_counts_t c;
    queue_counts (scheduler_queue (r->sched), &c);
    int64_t done = c.succeeded + c.failed + c.cancelled;
    double elapsed = clock_wall () - r->started;
    double rate = elapsed > 0 ? (double) done / elapsed : 0;
    if (r->tty) {
        int width = 30, fill = c.tasks ? (int) (done * width / c.tasks) : 0;
        char bar[64];
        for (int i = 0; i < width; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[width] = '\0';
        fprintf (stderr, "\r\033[K[%s] %3d%%  %" PRId64 "/%" PRId64 "  queued %" PRId64
                 "  running %" PRId64 "  ok %" PRId64 "  failed %" PRId64 "  %.1f/s%s", bar,
                 c.tasks ? (int) (done * 100 / c.tasks) : 0, done, c.tasks, c.waiting, c.live,
                 c.succeeded, c.failed, rate, final ? "\n" : "");
        r->printed_bar = !final;
    }
    else if (final || done != r->last_done) {
        fprintf (stderr, "cairn-batch: progress: %" PRId64 "/%" PRId64 " ended (%" PRId64
                 " succeeded, %" PRId64 " failed), %" PRId64 " running, %" PRId64
                 " queued, %.1f tasks/s\n", done, c.tasks, c.succeeded, c.failed, c.live,
                 c.waiting, rate);
    }
    fflush (stderr);
    r->last_done = done;
}

static void
s_finish_if_done (run_t *r)
{
    if (r->finished > 0 && fetch_pending (scheduler_fetch (r->sched)) == 0)
        scheduler_end (r->sched);
}

static void
s_on_registered (scheduler_t *sched, const char *framework_id, bool again, void *arg)
{
    run_t *r = arg;
    if (!r->quiet && !r->tty)
        fprintf (stderr, "cairn-batch: %s as framework %s\n", again ? "re-registered"
                                                                     : "registered",
                 framework_id);
}

static void
s_on_error (scheduler_t *sched, const char *message, void *arg)
{
    run_t *r = arg;
    free (r->driver_error);
    r->driver_error = xstrdup (message);
    scheduler_end (sched);
}

static void
s_on_task_done (scheduler_t *sched, queue_job_t *job, const queue_task_view_t *task, void *arg)
{
    run_t *r = arg;
    const char *fw = scheduler_framework_id (sched);
    if (!*task->agent_id || !*fw)
        return;
    char key[128];
    if (task->state == QTASK_FAILED && r->tail_lines > 0) {
        snprintf (key, sizeof key, "T %s %" PRId64, queue_job_id (job), task->index);
        fetch_tail (scheduler_fetch (sched), key, task->agent_id, fw, task->task_id, "stderr",
                    (int) r->tail_lines);
    }
    if (r->output && task->state != QTASK_CANCELLED) {
        const char *files[] = { "stdout", "stderr" };
        for (int i = 0; i < 2; i++) {
            char *dest = xasprintf ("%s/%s/%" PRId64 ".%s", r->output, queue_job_id (job),
                                    task->index, files[i]);
            snprintf (key, sizeof key, "O %s %" PRId64, queue_job_id (job), task->index);
            fetch_copy (scheduler_fetch (sched), key, task->agent_id, fw, task->task_id, files[i],
                        dest);
            free (dest);
        }
    }
}

static void
s_on_job_done (scheduler_t *sched, queue_job_t *job, void *arg)
{
    run_t *r = arg;
    if (r->finished == 0 && queue_done (scheduler_queue (sched))) {
        r->finished = clock_wall ();
        /*  Everything ended: the framework can go (files stay readable on
            the agents).                                                   */
        scheduler_stop (sched, false);
        /*  Without output to collect, end with this pass rather than at
            the next tick.                                                 */
        s_finish_if_done (r);
    }
}

static void
s_on_fetched (scheduler_t *sched, const fetch_result_t *res, void *arg)
{
    run_t *r = arg;
    char job_id[JOB_MAX_ID + 1];
    int64_t index;
    char kind;
    if (sscanf (res->key, "%c %64s %" SCNd64, &kind, job_id, &index) != 3)
        return;
    queue_job_t *job = queue_job (scheduler_queue (sched), job_id);
    if (kind == 'T' && job)
        queue_job_set_stderr (job, index, res->ok ? res->text : "");
    if (!res->ok)
        log_warn ("cannot read the %s of task %" PRId64 " of job %s: %s",
                  kind == 'T' ? "stderr" : "output", index, job_id, res->text);
    s_finish_if_done (r);
}

static void
s_on_tick (scheduler_t *sched, void *arg)
{
    run_t *r = arg;
    int64_t now_ms = clock_mono_ms ();
    if (!scheduler_registered (sched) && r->finished == 0 && !r->failed_to_connect
        && (clock_wall () - r->started) * 1000 > (double) r->connect_ms) {
        r->failed_to_connect = true;
        scheduler_end (sched);
        return;
    }
    if (r->interrupted && r->finished == 0 && clock_wall () > r->stop_deadline) {
        scheduler_stop (sched, false);
        scheduler_end (sched);
        return;
    }
    if (r->tty ? now_ms - r->last_progress_ms >= TICK_MS
               : now_ms - r->last_progress_ms >= r->progress_ms) {
        r->last_progress_ms = now_ms;
        if (scheduler_registered (sched) && r->finished == 0)
            s_progress (r, false);
    }
    s_finish_if_done (r);
}

static void
s_on_signal (scheduler_t *sched, int sig, void *arg)
{
    run_t *r = arg;
    if (r->interrupted && clock_wall () < r->interrupted_at + 0.5)
        return;                 /* the same interruption, seen twice (a process group) */
    if (r->interrupted || r->finished > 0) {
        /*  A second signal: the master kills what is left.                */
        scheduler_stop (sched, false);
        scheduler_end (sched);
        return;
    }
    r->interrupted = true;
    r->interrupted_at = clock_wall ();
    r->stop_deadline = clock_wall () + CANCEL_GRACE_S;
    if (r->tty && r->printed_bar)
        fputc ('\n', stderr);
    fprintf (stderr, "cairn-batch: %s: cancelling the jobs (again to stop at once)\n",
             strsignal (sig));
    queue_t *q = scheduler_queue (sched);
    for (queue_job_t *job = queue_first (q); job; job = queue_next (q))
        if (!queue_job_ended (job))
            queue_cancel (q, queue_job_id (job), "interrupted", clock_wall ());
}

/*  The summary, on stdout.                                               */
static void
s_summary (run_t *r)
{
    queue_t *q = scheduler_queue (r->sched);
    queue_counts_t c;
    queue_counts (q, &c);
    double end = r->finished > 0 ? r->finished : clock_wall ();
    double wall = end - r->started;
    printf ("cairn-batch: %" PRId64 " task%s: %" PRId64 " succeeded, %" PRId64 " failed, %"
            PRId64 " retried, %" PRId64 " cancelled\n", c.tasks, c.tasks == 1 ? "" : "s",
            c.succeeded, c.failed, c.retried, c.cancelled);
    printf ("cairn-batch: wall time %.2f s, %.1f tasks/s\n", wall,
            wall > 0 ? (double) (c.succeeded + c.failed) / wall : 0.0);
    size_t njobs = queue_size (q);
    int shown = 0;
    for (queue_job_t *job = queue_first (q); job; job = queue_next (q)) {
        queue_counts_t jc;
        queue_job_counts (job, &jc);
        qjob_state_t state = queue_job_state (job);
        if (njobs > 1 || state != QJOB_SUCCEEDED)
            printf ("cairn-batch: job %s %s: %" PRId64 " of %" PRId64 " succeeded%s%s\n",
                    queue_job_id (job), qjob_state_name (state), jc.succeeded, jc.tasks,
                    *queue_job_message (job) ? "; " : "", queue_job_message (job));
        for (int64_t i = 0; i < jc.tasks && jc.failed > 0; i++) {
            queue_task_view_t t;
            queue_job_task (job, i, &t);
            if (t.state != QTASK_FAILED)
                continue;
            if (shown++ == 20) {
                printf ("cairn-batch: ... more failed tasks: see --output, or rerun with "
                        "fewer tasks\n");
                break;
            }
            if (shown > 20)
                break;
            /*  127 from /bin/sh -c: it found no such command.             */
            printf ("cairn-batch: failed: task %s index %" PRId64 " (attempt %s): exit code "
                    "%d: %s%s\n", queue_job_id (job), t.index, t.task_id, t.exit_code,
                    t.message, t.exit_code == 127 ? " (command not found)" : "");
            for (const char *p = t.stderr_tail; *p;) {
                const char *nl = strchr (p, '\n');
                int len = nl ? (int) (nl - p) : (int) strlen (p);
                printf ("    | %.*s\n", len, p);
                p += len + (nl ? 1 : 0);
            }
        }
    }
    fflush (stdout);
}

int
batch_run (int argc, char **argv)
{
    log_init ("cairn-batch", "warn", "stderr");
    batch_take_env (&argc, argv);
    size_t nflags = NRUN + batch_job_nflags;
    flag_t *flags = xzalloc (nflags * sizeof *flags);
    memcpy (flags, s_run_flags, sizeof s_run_flags);
    memcpy (flags + NRUN, batch_job_flags, batch_job_nflags * sizeof *flags);
    const flags_spec_t spec = {
        "cairn-batch run", "CAIRN_BATCH_",
        "Run jobs on a Cairn cluster to completion; exit 0 only if every task succeeded.",
        "--master=HOST:PORT [OPTIONS] [JOB OPTIONS] -- CMD [ARGS...] | --master=HOST:PORT "
        "[OPTIONS] FILE", flags, nflags,
    };
    int argi = 0, rc = flags_parse (&spec, argc, argv, &argi);
    int exit_code = 2;
    json_t *doc = NULL;
    jobspec_t **jobs = NULL;
    int njobs = 0;
    scheduler_t *sched = NULL;
    run_t r = { 0 };
    if (rc != 0) {
        exit_code = rc < 0 ? 2 : 0;
        goto done;
    }
    if (log_init ("cairn-batch", s_log_level, "stderr") < 0) {
        fprintf (stderr, "cairn-batch run: --log-level: %s\n", cairn_strerror_last ());
        goto done;
    }
    if (!s_master) {
        fprintf (stderr, "cairn-batch run: --master=HOST:PORT is required\n");
        goto done;
    }
    /*  Before the scheduler starts the thread that reads tasks' files:
        httpc's CA bundle is process-wide.                                */
    const char *ca_file = s_ca_file ? s_ca_file : getenv ("CAIRN_CA_FILE");
    if (ca_file && *ca_file && httpc_set_ca_file (ca_file) < 0) {
        fprintf (stderr, "cairn-batch run: --ca-file: %s\n", cairn_strerror_last ());
        goto done;
    }
    if (!(doc = batch_jobs_doc ("cairn-batch run", argc, argv, argi)))
        goto done;
    jcheck_error_t err = { 0 };
    if ((njobs = jobs_from_json (doc, true, NULL, NULL, &jobs, &err)) < 0) {
        fprintf (stderr, "cairn-batch run: %s\n", err.message);
        jcheck_error_clear (&err);
        njobs = 0;
        goto done;
    }
    for (int i = 0; i < njobs; i++)
        if (jobs[i]->schedule) {
            fprintf (stderr, "cairn-batch run: job '%s': schedule needs the queue service "
                     "(cairn-batch serve and submit); run runs each job once\n", jobs[i]->id);
            goto done;
        }
    r.master = s_master;
    r.output = s_output;
    r.quiet = s_quiet;
    r.tty = isatty (STDERR_FILENO);
    r.progress_ms = s_progress_ms;
    r.connect_ms = s_connect_ms;
    r.tail_lines = (int) s_tail_lines;
    r.started = clock_wall ();
    r.last_done = -1;
    const scheduler_config_t config = {
        .master = s_master, .name = s_name, .failover_timeout_s = 0, .tick_ms = TICK_MS,
        .arg = &r, .registered = s_on_registered, .error = s_on_error, .tick = s_on_tick,
        .signal = s_on_signal, .task_done = s_on_task_done, .job_done = s_on_job_done,
        .fetched = s_on_fetched,
    };
    if (!(sched = scheduler_new (&config))) {
        fprintf (stderr, "cairn-batch run: --master: %s\n", cairn_strerror_last ());
        goto done;
    }
    r.sched = sched;
    queue_t *q = scheduler_queue (sched);
    if (strcmp (argv[argi - 1 >= 0 ? argi - 1 : 0], "--") != 0)
        queue_set_max_live (q, batch_job_max_parallel ());     /* a job file: the whole run */
    for (int i = 0; i < njobs; i++)
        queue_add (q, &jobs[i], r.started, NULL, NULL);
    exit_code = 1;
    if (scheduler_run (sched) < 0) {
        fprintf (stderr, "cairn-batch run: %s\n", cairn_strerror_last ());
        goto done;
    }
    if (!r.quiet && (r.finished > 0 || r.printed_bar))
        s_progress (&r, true);
    if (r.failed_to_connect) {
        fprintf (stderr, "cairn-batch run: no master answered at %s within %.1f s (is "
                 "cairn-master running there?)\n", s_master, (double) s_connect_ms / 1000);
        goto done;
    }
    if (r.driver_error) {
        fprintf (stderr, "cairn-batch run: %s\n", r.driver_error);
        goto done;
    }
    s_summary (&r);
    size_t failed = 0;
    queue_jobs_ended (q, &failed);
    exit_code = r.finished > 0 && !r.interrupted && failed == 0 ? 0 : 1;

done:
    scheduler_destroy (&sched);
    jobs_free (&jobs, njobs);
    json_decref (doc);
    free (r.driver_error);
    flags_free (&spec);
    batch_job_flags_free ();
    free (flags);
    return exit_code;
}
