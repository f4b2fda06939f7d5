/*  batch.c - cairn batch ...: the client of cairn-batch's queue service,
    and the job options `cairn-batch run` shares with `submit`.

    cairn batch [--api=HOST:PORT] COMMAND [ARGS]
        submit [JOB OPTIONS] -- CMD [ARGS...]  |  submit FILE
        status [JOB]            jobs, or one job with its failed tasks
        wait JOB...             until they end; 0 only if all succeeded
        cancel JOB...
        logs JOB [--index=N] [--stderr] [--tail=N]
        schedules | unschedule ID | trigger ID

    This file is compiled into `cairn` and into `cairn-batch` (whose
    client commands call cli_cmd_batch), so the two behave the same. It
    talks to the service's REST API (doc/batch.md) with the cli.h helpers;
    `logs` reads the task's file from its agent's /files/read endpoint,
    found through the master's /state, never by local path.             */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cairn.h"
#include "cli.h"
#include "../frameworks/batch/client.h"
#include "error.h"
#include "flags.h"
#include "httpc.h"
#include "jcheck.h"
#include "util.h"

#define DEFAULT_API "127.0.0.1:5070"
#define MAX_ENV 256

/*  Job options  */

static char *s_id, *s_array, *s_after, *s_schedule, *s_overlap;
static int64_t s_count, s_mem, s_disk, s_retries, s_priority, s_max_parallel;
static double s_cpus;
static bool s_shell;
static char *s_env[MAX_ENV];
static size_t s_nenv;

const flag_t batch_job_flags[] = {
    { "id", FLAG_STRING, &s_id, NULL, "ID", "The job's id (1-64 of A-Z a-z 0-9 _ -).", 0, 0 },
    { "count", FLAG_INT, &s_count, NULL, "N", "Run N tasks, indices 0..N-1 (default 1).",
      0, 1000000 },
    { "array", FLAG_STRING, &s_array, NULL, "FIRST-LAST",
      "Run one task per index FIRST..LAST, such as 1-100.", 0, 0 },
    { "cpus", FLAG_DOUBLE, &s_cpus, NULL, "CPUS", "Cpus per task (default 0.1).", 0, 1024 },
    { "mem", FLAG_INT, &s_mem, NULL, "MIB", "Memory per task in MiB (default 32).", 0,
      1000000000 },
    { "disk", FLAG_INT, &s_disk, NULL, "MIB", "Disk per task in MiB (default 0).", 0,
      1000000000 },
    { "retries", FLAG_INT, &s_retries, NULL, "R", "Run a failed task again, up to R times.",
      0, 100 },
    { "priority", FLAG_INT, &s_priority, NULL, "P",
      "Higher priorities run first; equal ones in submission order.", -1000000, 1000000 },
    { "max-parallel", FLAG_INT, &s_max_parallel, NULL, "P",
      "At most P of the job's tasks at a time (with a job file: of the whole run).", 0,
      1000000000 },
    { "after", FLAG_STRING, &s_after, NULL, "ID[,ID...]",
      "Run only after these jobs have succeeded.", 0, 0 },
    { "schedule", FLAG_STRING, &s_schedule, NULL, "CRON",
      "Submit the job at each tick of this cron schedule (serve mode).", 0, 0 },
    { "overlap", FLAG_STRING, &s_overlap, NULL, "skip|queue",
      "A tick while the last run still runs: skip it, or queue a run after it.", 0, 0 },
    { "shell", FLAG_BOOL, &s_shell, NULL, NULL,
      "Run CMD ARGS... as one shell command line (/bin/sh -c).", 0, 0 },
};
const size_t batch_job_nflags = sizeof batch_job_flags / sizeof batch_job_flags[0];

void
batch_take_env (int *argc, char **argv)
{
    int out = 1;
    bool done = false;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        if (!done && (strcmp (a, "--") == 0 || a[0] != '-'))
            done = true;
        if (!done && strncmp (a, "--env=", 6) == 0) {
            if (s_nenv < MAX_ENV)
                s_env[s_nenv++] = xstrdup (a + 6);
            continue;
        }
        if (!done && strcmp (a, "--env") == 0 && i + 1 < *argc) {
            if (s_nenv < MAX_ENV)
                s_env[s_nenv++] = xstrdup (argv[i + 1]);
            i++;
            continue;
        }
        argv[out++] = argv[i];
    }
    argv[out] = NULL;
    *argc = out;
}

long long
batch_job_max_parallel (void)
{
    return s_max_parallel;
}

void
batch_job_flags_free (void)
{
    const flags_spec_t spec = { "", NULL, "", "", batch_job_flags, batch_job_nflags };
    flags_free (&spec);
    for (size_t i = 0; i < s_nenv; i++)
        free (s_env[i]);
    s_nenv = 0;
}

static bool
s_job_option_given (void)
{
    return s_id || s_array || s_after || s_schedule || s_overlap || s_count || s_mem || s_disk
           || s_retries || s_priority || s_cpus > 0 || s_shell || s_nenv;
}

json_t *
batch_jobs_doc (const char *prog, int argc, char **argv, int argi)
{
    bool dashdash = argi > 0 && argi <= argc && strcmp (argv[argi - 1], "--") == 0;
    if (argi >= argc) {
        fprintf (stderr, "%s: nothing to run: give -- CMD [ARGS...] or a job file\n", prog);
        return NULL;
    }
    if (!dashdash) {
        /*  A job file.                                                     */
        if (argi + 1 < argc) {
            fprintf (stderr, "%s: unexpected argument '%s' after the job file (a command "
                     "comes after --)\n", prog, argv[argi + 1]);
            return NULL;
        }
        if (s_job_option_given ()) {
            fprintf (stderr, "%s: job options apply to a command given after --; a job file "
                     "says them for each of its jobs\n", prog);
            return NULL;
        }
        size_t size = 0;
        char *text = util_read_file (argv[argi], 64u << 20, &size);
        if (!text) {
            fprintf (stderr, "%s: %s: %s\n", prog, argv[argi], strerror (errno));
            return NULL;
        }
        jcheck_error_t err = { 0 };
        json_t *doc = jcheck_load (text, size, &err);
        free (text);
        if (!doc) {
            fprintf (stderr, "%s: %s: %s\n", prog, argv[argi], err.message);
            jcheck_error_clear (&err);
        }
        return doc;
    }
    json_t *job = json_object ();
    if (s_id)
        json_object_set_new (job, "id", json_string (s_id));
    if (s_shell) {
        size_t len = 0;
        for (int i = argi; i < argc; i++)
            len += strlen (argv[i]) + 1;
        char *line = xzalloc (len + 1);
        for (int i = argi; i < argc; i++) {
            strcat (line, argv[i]);
            if (i + 1 < argc)
                strcat (line, " ");
        }
        json_object_set_new (job, "command", json_string (line));
        free (line);
    }
    else {
        json_t *args = json_array ();
        for (int i = argi; i < argc; i++)
            json_array_append_new (args, json_string (argv[i]));
        json_object_set_new (job, "argv", args);
    }
    if (s_count)
        json_object_set_new (job, "count", json_integer (s_count));
    if (s_array)
        json_object_set_new (job, "array", json_string (s_array));
    if (s_cpus > 0)
        json_object_set_new (job, "cpus", json_real (s_cpus));
    if (s_mem)
        json_object_set_new (job, "mem", json_integer (s_mem));
    if (s_disk)
        json_object_set_new (job, "disk", json_integer (s_disk));
    if (s_retries)
        json_object_set_new (job, "retries", json_integer (s_retries));
    if (s_priority)
        json_object_set_new (job, "priority", json_integer (s_priority));
    if (s_max_parallel)
        json_object_set_new (job, "max_parallel", json_integer (s_max_parallel));
    if (s_after) {
        json_t *after = json_array ();
        char *copy = xstrdup (s_after);
        for (char *save = NULL, *tok = strtok_r (copy, ",", &save); tok;
             tok = strtok_r (NULL, ",", &save))
            json_array_append_new (after, json_string (tok));
        free (copy);
        json_object_set_new (job, "after", after);
    }
    if (s_schedule)
        json_object_set_new (job, "schedule", json_string (s_schedule));
    if (s_overlap)
        json_object_set_new (job, "overlap", json_string (s_overlap));
    if (s_nenv) {
        json_t *env = json_object ();
        for (size_t i = 0; i < s_nenv; i++) {
            char *eq = strchr (s_env[i], '=');
            if (!eq || eq == s_env[i]) {
                fprintf (stderr, "%s: --env=%s: expected NAME=VALUE\n", prog, s_env[i]);
                json_decref (env);
                json_decref (job);
                return NULL;
            }
            *eq = '\0';
            json_object_set_new (env, s_env[i], json_string (eq + 1));
            *eq = '=';
        }
        json_object_set_new (job, "env", env);
    }
    return job;
}

/*  The client commands  */

static char *s_api_top, *s_api, *s_token_file, *s_ca_file;
static bool s_json_flag;
static int64_t s_index, s_tail;
static bool s_stderr, s_all_tasks;
static int64_t s_poll_ms;
static const char *s_prog = "cairn batch";

static const char *
s_api_addr (void)
{
    return s_api ? s_api : s_api_top ? s_api_top : DEFAULT_API;
}

/*  A call to the API; the reply (decref) when the status is 2xx, else
    NULL after printing the service's error (*status tells which).        */
static json_t *
s_call (const char *method, const char *path, json_t *body, long *status_out)
{
    char *url = httpc_url (s_api_addr (), path);
    long status = 0;
    json_t *reply = NULL;
    int rc = httpc_json (method, url, body, (long) (cli.timeout_ms ? cli.timeout_ms : 5000),
                         &status, &reply);
    if (rc < 0) {
        fprintf (stderr, "%s: cannot reach the batch service at %s: %s\n", s_prog,
                 s_api_addr (), cairn_strerror_last ());
        free (url);
        if (status_out)
            *status_out = 0;
        return NULL;
    }
    free (url);
    if (status_out)
        *status_out = status;
    if (status < 200 || status > 299) {
        const char *error = json_string_value (json_object_get (reply, "error"));
        fprintf (stderr, "%s: %s\n", s_prog, error ? error : "the service answered an error");
        json_decref (reply);
        return NULL;
    }
    return reply ? reply : json_object ();
}

static void
s_time (double t, char *out, size_t size)
{
    if (t <= 0) {
        snprintf (out, size, "-");
        return;
    }
    time_t s = (time_t) t;
    struct tm tm;
    localtime_r (&s, &tm);
    strftime (out, size, "%Y-%m-%d %H:%M:%S", &tm);
}

static int
s_submit (int argc, char **argv, int argi)
{
    json_t *doc = batch_jobs_doc (s_prog, argc, argv, argi);
    if (!doc)
        return CLI_USAGE;
    if (json_is_array (doc)) {
        /*  The API takes an object: a job, or {"jobs": [...]}.           */
        json_t *wrapped = json_pack ("{s:o}", "jobs", doc);
        doc = wrapped;
    }
    json_t *reply = s_call ("POST", "/v1/jobs", doc, NULL);
    json_decref (doc);
    if (!reply)
        return CLI_FAILED;
    if (cli.json)
        cli_print_json (reply);
    else {
        size_t i;
        json_t *v;
        json_array_foreach (json_object_get (reply, "jobs"), i, v)
            printf ("submitted job %s\n", json_string_value (v));
        json_array_foreach (json_object_get (reply, "schedules"), i, v)
            printf ("scheduled job %s\n", json_string_value (v));
    }
    json_decref (reply);
    return 0;
}

static void
s_print_jobs (json_t *jobs)
{
    printf ("%-24s %-10s %5s %7s %9s %7s %8s %7s  %s\n", "ID", "STATE", "PRI", "TASKS",
            "SUCCEEDED", "FAILED", "RUNNING", "QUEUED", "SUBMITTED");
    size_t i;
    json_t *j;
    json_array_foreach (jobs, i, j) {
        char when[32];
        s_time (cli_num (j, "submitted_at"), when, sizeof when);
        printf ("%-24s %-10s %5.0f %7.0f %9.0f %7.0f %8.0f %7.0f  %s\n", cli_str (j, "id"),
                cli_str (j, "state"), cli_num (j, "priority"), cli_num (j, "tasks"),
                cli_num (j, "succeeded"), cli_num (j, "failed"), cli_num (j, "running"),
                cli_num (j, "queued"), when);
    }
}

static int
s_status (int argc, char **argv, int argi)
{
    if (argi >= argc) {
        json_t *reply = s_call ("GET", "/v1/jobs", NULL, NULL);
        if (!reply)
            return CLI_FAILED;
        if (cli.json)
            cli_print_json (reply);
        else
            s_print_jobs (json_object_get (reply, "jobs"));
        json_decref (reply);
        return 0;
    }
    int rc = 0;
    for (int i = argi; i < argc; i++) {
        char *path = xasprintf ("/v1/jobs/%s%s", argv[i], s_all_tasks ? "/tasks" : "");
        json_t *reply = s_call ("GET", path, NULL, NULL);
        free (path);
        if (!reply) {
            rc = CLI_FAILED;
            continue;
        }
        if (cli.json)
            cli_print_json (reply);
        else if (s_all_tasks) {
            printf ("%-8s %-10s %8s %5s  %-28s %s\n", "INDEX", "STATE", "ATTEMPTS", "EXIT",
                    "TASK ID", "MESSAGE");
            size_t k;
            json_t *t;
            json_array_foreach (json_object_get (reply, "tasks"), k, t)
                printf ("%-8.0f %-10s %8.0f %5.0f  %-28s %s\n", cli_num (t, "index"),
                        cli_str (t, "state"), cli_num (t, "attempts"), cli_num (t, "exit_code"),
                        cli_str (t, "task_id"), cli_str (t, "message"));
        }
        else {
            json_t *one = json_array ();
            json_array_append (one, reply);
            s_print_jobs (one);
            json_decref (one);
            if (*cli_str (reply, "message"))
                printf ("  %s\n", cli_str (reply, "message"));
            size_t k;
            json_t *f;
            json_array_foreach (json_object_get (reply, "failures"), k, f) {
                printf ("  task %s (index %.0f) failed: exit code %.0f: %s\n",
                        cli_str (f, "task_id"), cli_num (f, "index"), cli_num (f, "exit_code"),
                        cli_str (f, "message"));
                const char *tail = cli_str (f, "stderr");
                for (const char *p = tail; *p;) {
                    const char *nl = strchr (p, '\n');
                    int len = nl ? (int) (nl - p) : (int) strlen (p);
                    printf ("    | %.*s\n", len, p);
                    p += len + (nl ? 1 : 0);
                }
            }
        }
        json_decref (reply);
    }
    return rc;
}

static bool
s_ended (const char *state)
{
    return strcmp (state, "SUCCEEDED") == 0 || strcmp (state, "FAILED") == 0
           || strcmp (state, "CANCELLED") == 0;
}

static int
s_wait (int argc, char **argv, int argi)
{
    if (argi >= argc) {
        fprintf (stderr, "%s wait: name the jobs to wait for\n", s_prog);
        return CLI_USAGE;
    }
    int rc = 0;
    for (int i = argi; i < argc; i++) {
        char *path = xasprintf ("/v1/jobs/%s", argv[i]);
        for (;;) {
            long status = 0;
            json_t *reply = s_call ("GET", path, NULL, &status);
            if (!reply) {
                /*  The service restarting is not the job failing.         */
                if (status == 0 || status == 503) {
                    usleep ((useconds_t) s_poll_ms * 1000);
                    continue;
                }
                rc = CLI_FAILED;
                break;
            }
            const char *state = cli_str (reply, "state");
            if (s_ended (state)) {
                if (cli.json)
                    cli_print_json (reply);
                else
                    printf ("job %s %s: %.0f of %.0f tasks succeeded, %.0f failed%s%s\n",
                            argv[i], state, cli_num (reply, "succeeded"), cli_num (reply, "tasks"),
                            cli_num (reply, "failed"), *cli_str (reply, "message") ? ": " : "",
                            cli_str (reply, "message"));
                if (strcmp (state, "SUCCEEDED") != 0)
                    rc = CLI_FAILED;
                json_decref (reply);
                break;
            }
            json_decref (reply);
            usleep ((useconds_t) s_poll_ms * 1000);
        }
        free (path);
    }
    return rc;
}

static int
s_cancel (int argc, char **argv, int argi)
{
    if (argi >= argc) {
        fprintf (stderr, "%s cancel: name the jobs to cancel\n", s_prog);
        return CLI_USAGE;
    }
    int rc = 0;
    for (int i = argi; i < argc; i++) {
        char *path = xasprintf ("/v1/jobs/%s/cancel", argv[i]);
        json_t *reply = s_call ("POST", path, NULL, NULL);
        free (path);
        if (!reply) {
            rc = CLI_FAILED;
            continue;
        }
        if (cli.json)
            cli_print_json (reply);
        else
            printf ("job %s: %s\n", argv[i], cli_str (reply, "state"));
        json_decref (reply);
    }
    return rc;
}

/*  The agent's HTTP address, from the master's /state. Both addresses
    may carry "https://": URLs are made of them with httpc_url.           */
static char *
s_agent_http (const char *master_http, const char *agent_id)
{
    char *url = httpc_url (master_http, "/state");
    long status = 0;
    json_t *state = NULL;
    char *http = NULL;
    if (cli_request ("GET", url, NULL, &status, &state) == 0) {
        size_t i;
        json_t *a;
        json_array_foreach (json_object_get (state, "agents"), i, a)
            if (strcmp (cli_str (a, "id"), agent_id) == 0 && *cli_str (a, "http_address"))
                http = xstrdup (cli_str (a, "http_address"));
        if (!http)
            fprintf (stderr, "%s: agent %s is not known to the master at %s\n", s_prog,
                     agent_id, master_http);
    }
    json_decref (state);
    free (url);
    return http;
}

static int
s_logs (int argc, char **argv, int argi)
{
    if (argi + 1 != argc) {
        fprintf (stderr, "%s logs: name one job (and --index=N for one of its tasks)\n",
                 s_prog);
        return CLI_USAGE;
    }
    char *path = xasprintf ("/v1/jobs/%s/tasks", argv[argi]);
    json_t *tasks = s_call ("GET", path, NULL, NULL);
    free (path);
    json_t *info = tasks ? s_call ("GET", "/v1/info", NULL, NULL) : NULL;
    int rc = CLI_FAILED;
    json_t *task = NULL;
    size_t i;
    json_t *t;
    json_array_foreach (json_object_get (tasks, "tasks"), i, t)
        if (!task && (s_index < 0 || cli_num (t, "index") == (double) s_index))
            task = t;
    if (!info)
        goto done;
    if (!task) {
        fprintf (stderr, "%s: job %s has no task with index %" PRId64 "\n", s_prog, argv[argi],
                 s_index);
        goto done;
    }
    if (!*cli_str (task, "task_id") || !*cli_str (task, "agent_id")) {
        fprintf (stderr, "%s: task %.0f of job %s has not run yet\n", s_prog,
                 cli_num (task, "index"), argv[argi]);
        goto done;
    }
    char *agent = s_agent_http (cli_str (info, "master_http"), cli_str (task, "agent_id"));
    if (!agent)
        goto done;
    const char *file = s_stderr ? "stderr" : "stdout";
    const char *fw = cli_str (info, "framework_id"), *id = cli_str (task, "task_id");
    long long offset = 0;
    if (s_tail > 0) {
        /*  The file's size, to read only its end.                        */
        char *what = xasprintf ("/files/browse?framework_id=%s&task_id=%s", fw, id);
        char *url = httpc_url (agent, what);
        free (what);
        long status = 0;
        json_t *list = NULL;
        if (cli_request ("GET", url, NULL, &status, &list) == 0 && status == 200) {
            json_t *e;
            json_array_foreach (list, i, e)
                if (strcmp (cli_str (e, "name"), file) == 0)
                    offset = (long long) cli_num (e, "size") - 65536;
        }
        json_decref (list);
        free (url);
        if (offset < 0)
            offset = 0;
    }
    for (;;) {
        char *what = xasprintf ("/files/read?framework_id=%s&task_id=%s&path=%s&offset=%lld",
                                fw, id, file, offset);
        char *url = httpc_url (agent, what);
        free (what);
        long status = 0;
        char *body = NULL;
        size_t size = 0;
        int got = httpc_get (url, (long) (cli.timeout_ms ? cli.timeout_ms : 5000), &status,
                             &body, &size);
        free (url);
        if (got < 0 || status != 200) {
            json_t *err = got == 0 ? json_loadb (body, size, 0, NULL) : NULL;
            const char *text = json_string_value (json_object_get (err, "error"));
            fprintf (stderr, "%s: cannot read the %s of task %s from agent %s: %s\n", s_prog,
                     file, id, cli_str (task, "agent_id"),
                     text ? text : got < 0 ? cairn_strerror_last () : "an error");
            json_decref (err);
            free (body);
            break;
        }
        const char *start = body;
        if (s_tail > 0) {
            /*  Only the last N lines.                                     */
            size_t end = size;
            while (end > 0 && body[end - 1] == '\n')
                end--;
            int64_t n = 0;
            size_t k = end;
            while (k > 0 && n < s_tail)
                if (body[--k] == '\n' && ++n == s_tail) {
                    k++;
                    break;
                }
            start = body + k;
            size -= (size_t) (start - body);
        }
        fwrite (start, 1, size, stdout);
        free (body);
        if (s_tail > 0 || size < (4u << 20)) {
            rc = 0;
            break;
        }
        offset += (long long) size;
    }
    free (agent);
done:
    json_decref (tasks);
    json_decref (info);
    return rc;
}

static int
s_schedules (int argc, char **argv, int argi)
{
    json_t *reply = s_call ("GET", "/v1/schedules", NULL, NULL);
    if (!reply)
        return CLI_FAILED;
    if (cli.json)
        cli_print_json (reply);
    else {
        printf ("%-24s %-18s %-7s %6s  %-24s %s\n", "ID", "SCHEDULE", "OVERLAP", "RUNS",
                "LAST RUN", "NEXT");
        size_t i;
        json_t *s;
        json_array_foreach (json_object_get (reply, "schedules"), i, s) {
            char next[32];
            s_time (cli_num (s, "next_at"), next, sizeof next);
            printf ("%-24s %-18s %-7s %6.0f  %-24s %s\n", cli_str (s, "id"),
                    cli_str (s, "schedule"), cli_str (s, "overlap"), cli_num (s, "runs"),
                    *cli_str (s, "last_run") ? cli_str (s, "last_run") : "-", next);
        }
    }
    json_decref (reply);
    return 0;
}

static int
s_schedule_call (const char *method, const char *suffix, int argc, char **argv, int argi)
{
    if (argi + 1 != argc) {
        fprintf (stderr, "%s: name one schedule\n", s_prog);
        return CLI_USAGE;
    }
    char *path = xasprintf ("/v1/schedules/%s%s", argv[argi], suffix);
    json_t *reply = s_call (method, path, NULL, NULL);
    free (path);
    if (!reply)
        return CLI_FAILED;
    if (cli.json)
        cli_print_json (reply);
    else if (*cli_str (reply, "job"))
        printf ("started job %s\n", cli_str (reply, "job"));
    else if (*cli_str (reply, "skipped"))
        printf ("skipped: %s\n", cli_str (reply, "skipped"));
    else
        printf ("removed schedule %s\n", argv[argi]);
    json_decref (reply);
    return 0;
}

static int
s_unschedule (int argc, char **argv, int argi)
{
    return s_schedule_call ("DELETE", "", argc, argv, argi);
}

static int
s_trigger (int argc, char **argv, int argi)
{
    return s_schedule_call ("POST", "/run", argc, argv, argi);
}

typedef struct {
    const char *name;
    const char *usage;
    const char *summary;
    int (*run) (int argc, char **argv, int argi);
    bool job_options;
} command_t;

static const command_t s_commands[] = {
    { "submit", "[OPTIONS] [JOB OPTIONS] -- CMD [ARGS...] | [OPTIONS] FILE",
      "Submit a job (or the jobs of a job file) to the queue.", s_submit, true },
    { "status", "[OPTIONS] [JOB...]", "List the jobs, or show jobs with their failed tasks "
      "(--tasks: every task).", s_status, false },
    { "wait", "[OPTIONS] JOB...", "Wait until the jobs end; exit 0 only if all succeeded.",
      s_wait, false },
    { "cancel", "[OPTIONS] JOB...", "Cancel jobs: queued tasks are dropped, running ones "
      "killed.", s_cancel, false },
    { "logs", "[OPTIONS] JOB", "Print a task's stdout (--stderr: its stderr), read from its "
      "agent.", s_logs, false },
    { "schedules", "[OPTIONS]", "List the scheduled jobs.", s_schedules, false },
    { "unschedule", "[OPTIONS] ID", "Remove a scheduled job (runs already started go on).",
      s_unschedule, false },
    { "trigger", "[OPTIONS] ID", "Start a run of a scheduled job now (its overlap policy "
      "applies).", s_trigger, false },
};
#define NCOMMANDS (sizeof s_commands / sizeof s_commands[0])

static const flag_t s_client_flags[] = {
    { "api", FLAG_STRING, &s_api, NULL, "HOST:PORT",
      "The batch service's API (default $CAIRN_BATCH_API or " DEFAULT_API ").", 0, 0 },
    { "json", FLAG_BOOL, &s_json_flag, NULL, NULL, "Print JSON instead of tables.", 0, 0 },
    { "index", FLAG_INT, &s_index, "-1", "N", "logs: the task with this index (default: the "
      "job's first).", -1, 1000000000 },
    { "stderr", FLAG_BOOL, &s_stderr, NULL, NULL, "logs: print stderr instead of stdout.", 0,
      0 },
    { "tail", FLAG_INT, &s_tail, NULL, "N", "logs: only the last N lines.", 0, 1000000 },
    { "tasks", FLAG_BOOL, &s_all_tasks, NULL, NULL, "status: list every task of the job.", 0,
      0 },
    { "poll", FLAG_DURATION, &s_poll_ms, "500ms", "DURATION", "wait: how often to ask.", 10,
      3600000 },
    { "token-file", FLAG_STRING, &s_token_file, NULL, "FILE",
      "Bearer token for the calls that change something (default $CAIRN_TOKEN_FILE).", 0, 0 },
    { "ca-file", FLAG_STRING, &s_ca_file, NULL, "FILE",
      "CA certificates (PEM) for an https:// --api, master or agent (default "
      "$CAIRN_CA_FILE).", 0, 0 },
};
#define NCLIENT (sizeof s_client_flags / sizeof s_client_flags[0])

static const flag_t s_top_flags[] = {
    { "api", FLAG_STRING, &s_api_top, NULL, "HOST:PORT",
      "The batch service's API (default $CAIRN_BATCH_API or " DEFAULT_API ").", 0, 0 },
};

static void
s_help (FILE *f, const char *prog)
{
    fprintf (f, "Usage: %s [--api=HOST:PORT] COMMAND [ARGS]\n"
             "Use cairn-batch's queue service (cairn-batch serve).\n\nCommands:\n", prog);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf (f, "  %-11s %s\n", s_commands[i].name, s_commands[i].summary);
    fprintf (f, "\n%s COMMAND --help shows a command's options.\n", prog);
}

int
cli_cmd_batch (int argc, char **argv)
{
    s_prog = strcmp (argv[0], "batch") == 0 ? "cairn batch" : "cairn-batch";
    if (!cli.timeout_ms)
        cli.timeout_ms = 5000;
    /*  Options before the command: --api (the global --json and
        --timeout are cairn's).                                           */
    char top_name[64];
    snprintf (top_name, sizeof top_name, "%s", s_prog);
    const flags_spec_t top = { top_name, "CAIRN_BATCH_", "Use cairn-batch's queue service.",
                               "[--api=HOST:PORT] COMMAND [ARGS]", s_top_flags, 1 };
    int argi = 0;
    int rc = flags_parse (&top, argc, argv, &argi);
    if (rc != 0) {
        flags_free (&top);
        return rc < 0 ? CLI_USAGE : 0;
    }
    const command_t *cmd = NULL;
    if (argi < argc && strcmp (argv[argi], "help") != 0)
        for (size_t i = 0; i < NCOMMANDS; i++)
            if (strcmp (argv[argi], s_commands[i].name) == 0)
                cmd = &s_commands[i];
    if (!cmd) {
        if (argi >= argc || strcmp (argv[argi], "help") == 0)
            s_help (argi >= argc ? stderr : stdout, s_prog);
        else {
            const char *names[NCOMMANDS];
            for (size_t i = 0; i < NCOMMANDS; i++)
                names[i] = s_commands[i].name;
            const char *hint = util_closest (argv[argi], names, NCOMMANDS);
            fprintf (stderr, "%s: unknown command '%s'%s%s%s; see %s --help\n", s_prog,
                     argv[argi], hint ? " (did you mean " : "", hint ? hint : "",
                     hint ? "?)" : "", s_prog);
        }
        flags_free (&top);
        return argi < argc && strcmp (argv[argi], "help") == 0 ? 0 : CLI_USAGE;
    }
    /*  The command's own options, and for submit the job options.        */
    int cargc = argc - argi;
    char **cargv = xzalloc ((size_t) (cargc + 1) * sizeof (char *));
    memcpy (cargv, argv + argi, (size_t) cargc * sizeof (char *));
    if (cmd->job_options)
        batch_take_env (&cargc, cargv);
    size_t nflags = NCLIENT + (cmd->job_options ? batch_job_nflags : 0);
    flag_t *flags = xzalloc (nflags * sizeof *flags);
    memcpy (flags, s_client_flags, NCLIENT * sizeof *flags);
    if (cmd->job_options)
        memcpy (flags + NCLIENT, batch_job_flags, batch_job_nflags * sizeof *flags);
    char name[96];
    snprintf (name, sizeof name, "%s %s", s_prog, cmd->name);
    const flags_spec_t spec = { name, "CAIRN_BATCH_", cmd->summary, cmd->usage, flags, nflags };
    rc = flags_parse (&spec, cargc, cargv, &argi);
    if (rc == 0 && cli_set_credentials (s_token_file ? s_token_file
                                                    : getenv ("CAIRN_TOKEN_FILE"),
                                        s_ca_file ? s_ca_file : getenv ("CAIRN_CA_FILE")) < 0)
        rc = CLI_USAGE;
    else if (rc == 0) {
        if (s_json_flag)
            cli.json = true;
        rc = cmd->run (cargc, cargv, argi);
    }
    else
        rc = rc < 0 ? CLI_USAGE : 0;
    flags_free (&spec);
    flags_free (&top);
    if (cmd->job_options)
        batch_job_flags_free ();
    free (flags);
    free (cargv);
    return rc;
}
