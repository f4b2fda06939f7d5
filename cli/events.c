/*  events.c - cairn events [--follow] and cairn top.

    events reads the master's event feed (GET /events, one JSON object per
    line: SUBSCRIBED with a summary first, then TASK_*, AGENT_*,
    FRAMEWORK_* as they happen, and a HEARTBEAT now and then). Without
    --follow it prints the events that arrive within --for (default 0:
    the SUBSCRIBED summary only) and exits. Lines are printed for people
    or, with --json, as the master sent them.

    top redraws the cluster's utilization and its busiest tasks every
    --interval from /state/summary and /state: the CPU figure is the
    growth of each task's cpu_seconds between two samples of its agent.  */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cairn.h"
#include "cli.h"
#include "error.h"
#include "flags.h"
#include "httpc.h"
#include "transport.h"

static bool s_follow;
static int64_t s_for_ms;
static const flag_t s_events_flags[] = {
    { "follow", FLAG_BOOL, &s_follow, NULL, NULL, "Keep printing events until interrupted.",
      0, 0 },
    { "for", FLAG_DURATION, &s_for_ms, "0s", "DURATION",
      "Without --follow: print the events of this long, then exit.", 0, 86400000 },
};
static const flags_spec_t s_events_spec = {
    "cairn events", NULL,
    "Print the master's events: tasks, agents and frameworks added, updated, removed.",
    "[OPTIONS]", s_events_flags, sizeof s_events_flags / sizeof s_events_flags[0],
};

typedef struct {
    char *line;                 /* a partial line carried over */
    size_t len;
    int64_t until;              /* 0: for ever */
    bool subscribed;
    long status;
    char *error;                /* a non-200 body */
} feed_t;

static void
s_hms (double t, char *buf, size_t size)
{
    time_t secs = (time_t) t;
    struct tm tm;
    if (!localtime_r (&secs, &tm))
        snprintf (buf, size, "-");
    else
        strftime (buf, size, "%H:%M:%S", &tm);
}

/*  One event, for people.                                                 */
static void
s_print_event (json_t *ev)
{
    const char *type = cli_str (ev, "type");
    char when[16];
    s_hms (cli_num (ev, "time"), when, sizeof when);
    json_t *o;
    if ((o = json_object_get (ev, "task")))
        printf ("%s %-18s %-24s %-16s %s\n", when, type, cli_str (o, "id"), cli_str (o, "state"),
                cli_str (o, "message"));
    else if ((o = json_object_get (ev, "agent")))
        printf ("%s %-18s %-24s %-16s %s\n", when, type, cli_str (o, "id"), cli_str (o, "state"),
                cli_str (o, "hostname"));
    else if ((o = json_object_get (ev, "framework")))
        printf ("%s %-18s %-24s %-16s %s\n", when, type, cli_str (o, "id"),
                json_is_true (json_object_get (o, "removed")) ? "removed"
                : json_is_true (json_object_get (o, "connected")) ? "connected" : "disconnected",
                cli_str (o, "name"));
    else if (strcmp (type, "SUBSCRIBED") == 0) {
        json_t *sum = json_object_get (ev, "summary");
        json_t *agents = json_object_get (sum, "agents");
        printf ("%s %-18s master %s: %.0f agents active, %.0f unreachable, %.0f draining; "
                "%zu frameworks\n", when, type, cli_str (sum, "master_id"),
                cli_num (agents, "active"), cli_num (agents, "unreachable"),
                cli_num (agents, "draining"), json_array_size (json_object_get (sum, "frameworks")));
    }
    else if (strcmp (type, "HEARTBEAT") != 0)
        printf ("%s %s\n", when, type);
    fflush (stdout);
}

static int
s_on_data (const char *data, size_t size, long status, void *arg)
{
    feed_t *feed = arg;
    if (!data)                                  /* a tick: time may be up */
        return feed->until && clock_mono_ms () >= feed->until;
    feed->status = status;
    if (status != 200) {
        /*  An error body: keep it to show.                                */
        size_t old = feed->error ? strlen (feed->error) : 0;
        feed->error = xrealloc (feed->error, old + size + 1);
        memcpy (feed->error + old, data, size);
        feed->error[old + size] = '\0';
        return 0;
    }
    feed->line = xrealloc (feed->line, feed->len + size + 1);
    memcpy (feed->line + feed->len, data, size);
    feed->len += size;
    char *start = feed->line, *nl;
    while ((nl = memchr (start, '\n', feed->len - (size_t) (start - feed->line)))) {
        *nl = '\0';
        json_t *ev = json_loads (start, 0, NULL);
        if (ev) {
            if (!cli.json)
                s_print_event (ev);
            else if (strcmp (cli_str (ev, "type"), "HEARTBEAT") != 0) {
                puts (start);
                fflush (stdout);
            }
            feed->subscribed |= strcmp (cli_str (ev, "type"), "SUBSCRIBED") == 0;
            json_decref (ev);
        }
        start = nl + 1;
    }
    feed->len -= (size_t) (start - feed->line);
    memmove (feed->line, start, feed->len);
    /*  Stop when the time asked for is over (also checked on the ticks
        httpc_stream gives while nothing arrives).                        */
    if (feed->until && clock_mono_ms () >= feed->until)
        return 1;
    if (!s_follow && feed->subscribed && s_for_ms == 0)
        return 1;
    return 0;
}

int
cli_cmd_events (int argc, char **argv)
{
    int argi = 0;
    int rc = flags_parse (&s_events_spec, argc, argv, &argi);
    if (rc != 0 || argi < argc) {
        if (rc == 0)
            fprintf (stderr, "cairn events: unexpected argument '%s'\n", argv[argi]);
        flags_free (&s_events_spec);
        return rc > 0 ? 0 : CLI_USAGE;
    }
    char *url = cli_master_url ("/events");
    rc = CLI_FAILED;
    if (url) {
        feed_t feed = { .until = !s_follow && s_for_ms > 0 ? clock_mono_ms () + s_for_ms : 0 };
        long status = 0;
        /*  A live master sends a heartbeat every 15 s: 45 s of silence
            means it is gone.                                             */
        if (httpc_stream (url, (long) cli.timeout_ms, 45, s_on_data, &feed, &status) < 0)
            fprintf (stderr, "cairn events: %s\n", cairn_strerror_last ());
        else if (feed.status != 200 && status != 200) {
            json_t *err = feed.error ? json_loads (feed.error, 0, NULL) : NULL;
            fprintf (stderr, "cairn events: the master answered %ld: %s\n", status,
                     err ? cli_str (err, "error") : feed.error ? feed.error : "");
            json_decref (err);
        }
        else if (s_follow)
            fprintf (stderr, "cairn events: the master ended the feed\n");
        else
            rc = 0;
        free (feed.line);
        free (feed.error);
    }
    free (url);
    flags_free (&s_events_spec);
    return rc;
}

/*  cairn top  */

static int64_t s_interval_ms, s_iterations, s_top_n;
static const flag_t s_top_flags[] = {
    { "interval", FLAG_DURATION, &s_interval_ms, "2s", "DURATION", "Time between refreshes.",
      100, 3600000 },
    { "iterations", FLAG_INT, &s_iterations, "0", "N",
      "Stop after N refreshes (0: until interrupted).", 0, 1000000 },
    { "tasks", FLAG_INT, &s_top_n, "15", "N", "How many of the busiest tasks to show.", 1,
      10000 },
};
static const flags_spec_t s_top_spec = {
    "cairn top", NULL, "A live view of the cluster's utilization and its busiest tasks.",
    "[OPTIONS]", s_top_flags, sizeof s_top_flags / sizeof s_top_flags[0],
};

typedef struct {
    const char *id, *framework, *host, *state;
    double cpu_rate;            /* CPUs, from two usage samples; NAN if unknown */
    double cpus;                /* allocated */
    double mem_mib, mem_limit_mib;
} row_t;

static int
s_by_busy (const void *a, const void *b)
{
    const row_t *x = a, *y = b;
    double cx = isnan (x->cpu_rate) ? -1 : x->cpu_rate;
    double cy = isnan (y->cpu_rate) ? -1 : y->cpu_rate;
    if (cx != cy)
        return cx < cy ? 1 : -1;
    return x->mem_mib < y->mem_mib ? 1 : x->mem_mib > y->mem_mib ? -1 : 0;
}

static void
s_bar (char *buf, size_t width, double used, double total)
{
    size_t fill = total > 0 ? (size_t) lround (used / total * (double) width) : 0;
    if (fill > width)
        fill = width;
    for (size_t i = 0; i < width; i++)
        buf[i] = i < fill ? '#' : '.';
    buf[width] = '\0';
}

/*  One frame: the summary, then the busiest tasks. prev holds each task's
    last (cpu_seconds, sampled) to turn into a rate.                      */
static int
s_top_frame (json_t *prev, bool tty)
{
    json_t *summary = cli_master_get ("/state/summary");
    json_t *state = summary ? cli_master_get ("/state") : NULL;
    if (!state) {
        json_decref (summary);
        return -1;
    }
    json_t *hosts = json_object ();
    size_t i;
    json_t *a;
    json_array_foreach (json_object_get (state, "agents"), i, a)
        json_object_set (hosts, cli_str (a, "id"), json_object_get (a, "hostname"));
    json_t *tasks = json_object_get (state, "tasks");
    size_t n = json_array_size (tasks);
    row_t *rows = xzalloc ((n + 1) * sizeof *rows);
    json_t *t;
    size_t running = 0;
    json_array_foreach (tasks, i, t) {
        row_t *r = &rows[i];
        r->id = cli_str (t, "id");
        r->framework = cli_str (t, "framework_id");
        const char *host = json_string_value (json_object_get (hosts, cli_str (t, "agent_id")));
        r->host = host ? host : "-";
        r->state = cli_str (t, "state");
        running += strcmp (r->state, "TASK_RUNNING") == 0;
        r->cpus = cli_num (json_object_get (t, "resources"), "cpus");
        r->cpu_rate = NAN;
        json_t *u = json_object_get (t, "usage");
        if (u) {
            r->mem_mib = cli_num (u, "mem_bytes") / 1048576.0;
            r->mem_limit_mib = cli_num (u, "mem_limit_bytes") / 1048576.0;
            char key[300];
            snprintf (key, sizeof key, "%s/%s", r->framework, r->id);
            json_t *p = json_object_get (prev, key);
            double cs = cli_num (u, "cpu_seconds"), at = cli_num (u, "sampled");
            if (p && at > cli_num (p, "sampled"))
                r->cpu_rate = (cs - cli_num (p, "cpu_seconds")) / (at - cli_num (p, "sampled"));
            else if (p)
                r->cpu_rate = cli_num (p, "rate");
            json_object_set_new (prev, key, json_pack ("{s:f s:f s:f}", "cpu_seconds", cs,
                                                       "sampled", at, "rate",
                                                       isnan (r->cpu_rate) ? 0.0 : r->cpu_rate));
        }
    }
    qsort (rows, n, sizeof *rows, s_by_busy);

    json_t *sagents = json_object_get (summary, "agents");
    json_t *total = json_object_get (summary, "resources"), *used = json_object_get (summary, "used");
    char cbar[41], mbar[41], when[16];
    s_bar (cbar, 40, cli_num (used, "cpus"), cli_num (total, "cpus"));
    s_bar (mbar, 40, cli_num (used, "mem"), cli_num (total, "mem"));
    s_hms ((double) time (NULL), when, sizeof when);
    if (tty)
        printf ("\033[H\033[2J");
    printf ("cairn top - %s - master %s - %.0f agents active, %.0f unreachable, %.0f draining; "
            "%zu frameworks; %zu tasks running\n", when, cli_str (summary, "master_id"),
            cli_num (sagents, "active"), cli_num (sagents, "unreachable"),
            cli_num (sagents, "draining"), json_array_size (json_object_get (summary, "frameworks")),
            running);
    printf ("cpus [%s] %8.2f / %-8.2f allocated\n", cbar, cli_num (used, "cpus"),
            cli_num (total, "cpus"));
    printf ("mem  [%s] %8.0f / %-8.0f MiB allocated\n\n", mbar, cli_num (used, "mem"),
            cli_num (total, "mem"));
    printf ("%-24s %-16s %-14s %8s %8s %14s\n", "TASK", "HOST", "STATE", "CPU", "CPUS",
            "MEM (MiB)");
    for (i = 0; i < n && i < (size_t) s_top_n; i++) {
        char cpu[16], mem[32];
        if (isnan (rows[i].cpu_rate))
            snprintf (cpu, sizeof cpu, "-");
        else
            snprintf (cpu, sizeof cpu, "%.2f", rows[i].cpu_rate);
        if (rows[i].mem_limit_mib > 0)
            snprintf (mem, sizeof mem, "%.1f/%.0f", rows[i].mem_mib, rows[i].mem_limit_mib);
        else
            snprintf (mem, sizeof mem, "-");
        printf ("%-24.24s %-16.16s %-14s %8s %8.2f %14s\n", rows[i].id, rows[i].host,
                rows[i].state + 5, cpu, rows[i].cpus, mem);
    }
    if (!tty)
        printf ("\n");
    fflush (stdout);
    free (rows);
    json_decref (hosts);
    json_decref (state);
    json_decref (summary);
    return 0;
}

int
cli_cmd_top (int argc, char **argv)
{
    int argi = 0;
    int rc = flags_parse (&s_top_spec, argc, argv, &argi);
    if (rc != 0 || argi < argc) {
        if (rc == 0)
            fprintf (stderr, "cairn top: unexpected argument '%s'\n", argv[argi]);
        flags_free (&s_top_spec);
        return rc > 0 ? 0 : CLI_USAGE;
    }
    bool tty = isatty (STDOUT_FILENO);
    json_t *prev = json_object ();
    rc = 0;
    for (int64_t k = 0; s_iterations == 0 || k < s_iterations; k++) {
        if (k > 0) {
            struct timespec ts = { s_interval_ms / 1000, (s_interval_ms % 1000) * 1000000L };
            nanosleep (&ts, NULL);
        }
        if (s_top_frame (prev, tty) < 0) {
            rc = CLI_FAILED;
            break;
        }
    }
    json_decref (prev);
    flags_free (&s_top_spec);
    return rc;
}
