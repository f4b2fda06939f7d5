/*  cairn-sched.c - a scriptable scheduler for the integration tests.

    Written only against the public cairn.h, as a scheduler author would.
    It registers a framework, answers offers by a simple policy (launch up
    to --max-tasks copies of --command, --per-offer at a time, decline
    what it cannot use with --refuse), obeys commands read from stdin, one
    per line, and prints every callback as one line on stdout, flushed, so
    that a shell test can drive it from a fifo and wait for lines in its
    log.

    Output lines (fields separated by one space; "-" for an empty id):
        registered FRAMEWORK_ID MASTER_HTTP
        reregistered FRAMEWORK_ID MASTER_HTTP
        disconnected
        offer OFFER_ID AGENT_ID HOSTNAME RESOURCES
        rescind OFFER_ID
        status TASK_ID STATE REASON AGENT_ID MESSAGE...
        agent_lost AGENT_ID
        error MESSAGE...
        launch OFFER_ID COUNT TASK_ID...       (an accept it sent)
        decline OFFER_ID SECONDS               (a decline it sent)
        held OFFER_ID                          (kept unanswered: hold mode)
        echo TEXT...                           (the echo command)
        info launched=N live=N held=N offers=N
        failed COMMAND: REASON                 (a cairn_ call failed)
        bad-command LINE
        stopped STOPPED|ABORTED
    With --timestamps every line starts with the wall-clock time in
    milliseconds since the epoch and a space, so that the lines of
    several schedulers can be compared.

    Commands (stdin):
        suppress | revive
        kill TASK_ID...
        reconcile [TASK_ID...]           (none: all live tasks)
        launch N                         (N more tasks to launch)
        hold | release                   (keep offers unanswered / answer
                                          the held ones by the policy)
        decline OFFER_ID|all [SECONDS]   (default --refuse)
        accept OFFER_ID[,OFFER_ID...] [TASK_ID=RESOURCES...] [refuse=SECONDS]
                                         (launch exactly these tasks with
                                          --command; RESOURCES may be empty)
        echo TEXT | info
        stop failover|teardown | abort | quit   (quit: stop with failover)
    SIGTERM and SIGINT act as quit.

    Exit status: 0 after stop, abort or quit; 1 after the error callback
    (or a failure to start); 2 on bad flags.                              */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "cairn.h"

typedef struct {
    char *id;
    cairn_task_state_t state;
} task_entry_t;

typedef struct {
    /*  Configuration (set before the driver starts).                     */
    const char *command;
    const char *prefix;
    cairn_resources_t *per_task;
    long per_offer;             /* 0: as many as fit */
    double refuse;              /* decline refuse seconds */
    bool decline_all;
    bool timestamps;

    /*  State shared by the callback thread and the main thread.          */
    pthread_mutex_t lock;
    long budget;                /* tasks still to launch; -1 unbounded */
    long launched;
    long seq;                   /* for task ids */
    bool hold;
    cairn_offer_t **held;       /* offers kept unanswered, oldest first */
    size_t nheld, held_cap;
    task_entry_t *tasks;        /* every task id seen, with its latest state */
    size_t ntasks, tasks_cap;
    long offers_seen;
    bool failed;                /* the error callback ran */
    int wake_fd;                /* eventfd: the main loop should look */
} sched_t;

static pthread_mutex_t s_print_lock = PTHREAD_MUTEX_INITIALIZER;
static bool s_timestamps;

static void
s_oom (void)
{
    fputs ("cairn-sched: out of memory\n", stderr);
    abort ();
}

static void *
s_realloc (void *p, size_t size)
{
    void *q = realloc (p, size ? size : 1);
    if (!q)
        s_oom ();
    return q;
}

static char *
s_strdup (const char *s)
{
    char *copy = strdup (s);
    if (!copy)
        s_oom ();
    return copy;
}

/*  Prints one line, atomically with respect to other lines, and flushes. */
static void
s_say (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

static void
s_say (const char *fmt, ...)
{
    char line[8192];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (line, sizeof line, fmt, ap);
    va_end (ap);
    for (char *p = line; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    pthread_mutex_lock (&s_print_lock);
    if (s_timestamps) {
        struct timespec now;
        clock_gettime (CLOCK_REALTIME, &now);
        printf ("%lld ", (long long) now.tv_sec * 1000 + now.tv_nsec / 1000000);
    }
    printf ("%s\n", line);
    fflush (stdout);
    pthread_mutex_unlock (&s_print_lock);
}

static const char *
s_or_dash (const char *s)
{
    return s && *s ? s : "-";
}

/*  Tasks and held offers (call with the lock held)  */

static task_entry_t *
s_task (sched_t *s, const char *id, bool create)
{
    for (size_t i = 0; i < s->ntasks; i++)
        if (strcmp (s->tasks[i].id, id) == 0)
            return &s->tasks[i];
    if (!create)
        return NULL;
    if (s->ntasks == s->tasks_cap) {
        s->tasks_cap = s->tasks_cap ? 2 * s->tasks_cap : 64;
        s->tasks = s_realloc (s->tasks, s->tasks_cap * sizeof *s->tasks);
    }
    task_entry_t *t = &s->tasks[s->ntasks++];
    t->id = s_strdup (id);
    t->state = CAIRN_TASK_STAGING;
    return t;
}

static size_t
s_live_tasks (sched_t *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->ntasks; i++)
        if (!cairn_task_state_is_terminal (s->tasks[i].state)
            && s->tasks[i].state != CAIRN_TASK_UNKNOWN)
            n++;
    return n;
}

static void
s_hold_offer (sched_t *s, const cairn_offer_t *offer)
{
    if (s->nheld == s->held_cap) {
        s->held_cap = s->held_cap ? 2 * s->held_cap : 16;
        s->held = s_realloc (s->held, s->held_cap * sizeof *s->held);
    }
    cairn_offer_t *copy = cairn_offer_dup (offer);
    if (!copy)
        s_oom ();
    s->held[s->nheld++] = copy;
}

/*  Forgets a held offer; true if it was held.                             */
static bool
s_unhold (sched_t *s, const char *offer_id)
{
    for (size_t i = 0; i < s->nheld; i++)
        if (strcmp (cairn_offer_id (s->held[i]), offer_id) == 0) {
            cairn_offer_destroy (&s->held[i]);
            memmove (&s->held[i], &s->held[i + 1], (s->nheld - i - 1) * sizeof *s->held);
            s->nheld--;
            return true;
        }
    return false;
}

static void
s_decline (sched_t *s, cairn_driver_t *driver, const char *offer_id, double refuse)
{
    if (cairn_driver_decline (driver, offer_id, refuse) < 0)
        s_say ("failed decline %s: %s", offer_id, cairn_strerror_last ());
    else
        s_say ("decline %s %g", offer_id, refuse);
}

/*  The policy: as many tasks as fit (at most per_offer, at most what the
    budget allows), the remainder back with no filter while demand is left,
    else decline with the refuse time.                                    */
static void
s_answer (sched_t *s, cairn_driver_t *driver, const cairn_offer_t *offer)
{
    const char *offer_id = cairn_offer_id (offer);
    if (s->decline_all) {
        s_decline (s, driver, offer_id, s->refuse);
        return;
    }
    cairn_resources_t *left = cairn_resources_dup (cairn_offer_resources (offer));
    cairn_task_t **tasks = NULL;
    size_t n = 0;
    char ids[4096] = "";
    size_t idlen = 0;
    while ((s->budget < 0 || s->budget > 0)
           && (s->per_offer == 0 || (long) n < s->per_offer)
           && !cairn_resources_is_empty (s->per_task)
           && cairn_resources_contains (left, s->per_task) && n < 1000) {
        char id[160];
        snprintf (id, sizeof id, "%s%ld", s->prefix, ++s->seq);
        cairn_task_t *task = cairn_task_new (id);
        if (!task || cairn_task_set_command (task, s->command) < 0
            || cairn_task_set_resources (task, s->per_task) < 0) {
            s_say ("failed task %s: %s", id, cairn_strerror_last ());
            cairn_task_destroy (&task);
            break;
        }
        tasks = s_realloc (tasks, (n + 1) * sizeof *tasks);
        tasks[n++] = task;
        cairn_resources_subtract (left, s->per_task);
        if (s->budget > 0)
            s->budget--;
        if (idlen + strlen (id) + 2 < sizeof ids)
            idlen += (size_t) snprintf (ids + idlen, sizeof ids - idlen, " %s", id);
    }
    cairn_resources_destroy (&left);
    if (n == 0) {
        s_decline (s, driver, offer_id, s->refuse);
        free (tasks);
        return;
    }
    double refuse = s->budget != 0 ? 0 : s->refuse;
    if (cairn_driver_accept (driver, &offer_id, 1, tasks, n, refuse) < 0)
        s_say ("failed accept %s: %s", offer_id, cairn_strerror_last ());
    else {
        for (size_t i = 0; i < n; i++)
            s_task (s, cairn_task_id (tasks[i]), true);
        s->launched += (long) n;
        s_say ("launch %s %zu%s", offer_id, n, ids);
    }
    for (size_t i = 0; i < n; i++)
        cairn_task_destroy (&tasks[i]);
    free (tasks);
}

/*  Callbacks (the driver's thread, or the main thread with --dispatch)   */

static void
on_registered (cairn_driver_t *driver, const char *framework_id, const char *master_http,
               void *arg)
{
    s_say ("registered %s %s", framework_id, s_or_dash (master_http));
}

static void
on_reregistered (cairn_driver_t *driver, const char *master_http, void *arg)
{
    char *id = cairn_driver_framework_id (driver);
    s_say ("reregistered %s %s", s_or_dash (id), s_or_dash (master_http));
    free (id);
}

static void
on_disconnected (cairn_driver_t *driver, void *arg)
{
    s_say ("disconnected");
}

static void
on_offers (cairn_driver_t *driver, cairn_offer_t *const *offers, size_t count, void *arg)
{
    sched_t *s = arg;
    pthread_mutex_lock (&s->lock);
    for (size_t i = 0; i < count; i++) {
        char *res = cairn_resources_format (cairn_offer_resources (offers[i]));
        s_say ("offer %s %s %s %s", cairn_offer_id (offers[i]),
               cairn_offer_agent_id (offers[i]), s_or_dash (cairn_offer_hostname (offers[i])),
               res && *res ? res : "-");
        free (res);
        s->offers_seen++;
    }
    for (size_t i = 0; i < count; i++) {
        if (s->hold) {
            s_hold_offer (s, offers[i]);
            s_say ("held %s", cairn_offer_id (offers[i]));
        }
        else
            s_answer (s, driver, offers[i]);
    }
    pthread_mutex_unlock (&s->lock);
}

static void
on_rescinded (cairn_driver_t *driver, const char *offer_id, void *arg)
{
    sched_t *s = arg;
    pthread_mutex_lock (&s->lock);
    s_unhold (s, offer_id);
    s_say ("rescind %s", offer_id);
    pthread_mutex_unlock (&s->lock);
}

static void
on_status (cairn_driver_t *driver, const cairn_status_t *status, void *arg)
{
    sched_t *s = arg;
    cairn_task_state_t state = cairn_status_state (status);
    const char *reason = cairn_reason_name (cairn_status_reason (status));
    pthread_mutex_lock (&s->lock);
    s_task (s, cairn_status_task_id (status), true)->state = state;
    s_say ("status %s %s %s %s %s", cairn_status_task_id (status),
           s_or_dash (cairn_task_state_name (state)), s_or_dash (reason),
           s_or_dash (cairn_status_agent_id (status)), cairn_status_message (status));
    pthread_mutex_unlock (&s->lock);
}

static void
on_agent_lost (cairn_driver_t *driver, const char *agent_id, void *arg)
{
    s_say ("agent_lost %s", agent_id);
}

static void
on_error (cairn_driver_t *driver, const char *message, void *arg)
{
    sched_t *s = arg;
    s_say ("error %s", message);
    pthread_mutex_lock (&s->lock);
    s->failed = true;
    pthread_mutex_unlock (&s->lock);
    uint64_t one = 1;
    ssize_t rc = write (s->wake_fd, &one, sizeof one);
    (void) rc;
}

/*  Commands (the main thread)  */

/*  "accept OFFERS [TASK=RES...] [refuse=SECONDS]"                         */
static void
s_cmd_accept (sched_t *s, cairn_driver_t *driver, char *args)
{
    char *save = NULL;
    char *offers = strtok_r (args, " \t", &save);
    if (!offers) {
        s_say ("bad-command accept: needs an offer id");
        return;
    }
    const char *offer_ids[64];
    size_t noffers = 0;
    char *osave = NULL;
    for (char *o = strtok_r (offers, ",", &osave); o && noffers < 64;
         o = strtok_r (NULL, ",", &osave))
        offer_ids[noffers++] = o;
    cairn_task_t *tasks[256];
    size_t n = 0;
    double refuse = 0;
    bool ok = noffers > 0;
    char ids[4096] = "";
    size_t idlen = 0;
    for (char *item = strtok_r (NULL, " \t", &save); item && ok;
         item = strtok_r (NULL, " \t", &save)) {
        char *eq = strchr (item, '=');
        if (!eq) {
            s_say ("bad-command accept: '%s' is not TASK_ID=RESOURCES", item);
            ok = false;
            break;
        }
        *eq = '\0';
        if (strcmp (item, "refuse") == 0) {
            char *end;
            refuse = strtod (eq + 1, &end);
            if (end == eq + 1 || *end) {
                s_say ("bad-command accept: refuse=%s is not a number", eq + 1);
                ok = false;
            }
            continue;
        }
        if (n == 256) {
            s_say ("bad-command accept: at most 256 tasks");
            ok = false;
            break;
        }
        cairn_resources_t *res = cairn_resources_parse (eq + 1);
        cairn_task_t *task = res ? cairn_task_new (item) : NULL;
        if (!task || cairn_task_set_command (task, s->command) < 0
            || cairn_task_set_resources (task, res) < 0) {
            s_say ("failed accept: task %s=%s: %s", item, eq + 1, cairn_strerror_last ());
            cairn_task_destroy (&task);
            ok = false;
        }
        else {
            tasks[n++] = task;
            if (idlen + strlen (item) + 2 < sizeof ids)
                idlen += (size_t) snprintf (ids + idlen, sizeof ids - idlen, " %s", item);
        }
        cairn_resources_destroy (&res);
    }
    if (ok) {
        pthread_mutex_lock (&s->lock);
        if (cairn_driver_accept (driver, offer_ids, noffers, tasks, n, refuse) < 0)
            s_say ("failed accept %s: %s", offer_ids[0], cairn_strerror_last ());
        else {
            for (size_t i = 0; i < noffers; i++)
                s_unhold (s, offer_ids[i]);
            for (size_t i = 0; i < n; i++)
                s_task (s, cairn_task_id (tasks[i]), true);
            s->launched += (long) n;
            s_say ("launch %s %zu%s", offers, n, ids);
        }
        pthread_mutex_unlock (&s->lock);
    }
    for (size_t i = 0; i < n; i++)
        cairn_task_destroy (&tasks[i]);
}

static void
s_cmd_decline (sched_t *s, cairn_driver_t *driver, char *args)
{
    char *save = NULL;
    char *which = strtok_r (args, " \t", &save);
    char *secs = strtok_r (NULL, " \t", &save);
    double refuse = s->refuse;
    if (secs) {
        char *end;
        refuse = strtod (secs, &end);
        if (end == secs || *end) {
            s_say ("bad-command decline: '%s' is not a number of seconds", secs);
            return;
        }
    }
    if (!which) {
        s_say ("bad-command decline: needs an offer id or 'all'");
        return;
    }
    pthread_mutex_lock (&s->lock);
    if (strcmp (which, "all") == 0) {
        while (s->nheld > 0) {
            char *id = s_strdup (cairn_offer_id (s->held[0]));
            s_unhold (s, id);
            s_decline (s, driver, id, refuse);
            free (id);
        }
    }
    else {
        s_unhold (s, which);
        s_decline (s, driver, which, refuse);
    }
    pthread_mutex_unlock (&s->lock);
}

/*  Runs one command; returns 1 when the program should stop (and how in
    *how: 's' stop with failover, 't' teardown, 'a' abort).               */
static int
s_command (sched_t *s, cairn_driver_t *driver, char *line, char *how)
{
    while (*line == ' ' || *line == '\t')
        line++;
    size_t len = strlen (line);
    while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
        line[--len] = '\0';
    if (!*line || *line == '#')
        return 0;
    char *args = line + strcspn (line, " \t");
    if (*args)
        *args++ = '\0';
    while (*args == ' ' || *args == '\t')
        args++;
    const char *cmd = line;
    int rc = 0;

    if (strcmp (cmd, "suppress") == 0)
        rc = cairn_driver_suppress (driver);
    else if (strcmp (cmd, "revive") == 0)
        rc = cairn_driver_revive (driver);
    else if (strcmp (cmd, "kill") == 0) {
        char *save = NULL;
        for (char *id = strtok_r (args, " \t", &save); id; id = strtok_r (NULL, " \t", &save))
            if (cairn_driver_kill (driver, id) < 0)
                s_say ("failed kill %s: %s", id, cairn_strerror_last ());
    }
    else if (strcmp (cmd, "reconcile") == 0) {
        const char *ids[256];
        size_t n = 0;
        char *save = NULL;
        for (char *id = strtok_r (args, " \t", &save); id && n < 256;
             id = strtok_r (NULL, " \t", &save))
            ids[n++] = id;
        rc = cairn_driver_reconcile (driver, n ? ids : NULL, n);
    }
    else if (strcmp (cmd, "launch") == 0) {
        char *end;
        long more = strtol (args, &end, 10);
        if (end == args || *end || more < 0) {
            s_say ("bad-command launch %s: needs a count", args);
            return 0;
        }
        pthread_mutex_lock (&s->lock);
        if (s->budget >= 0)
            s->budget += more;
        pthread_mutex_unlock (&s->lock);
    }
    else if (strcmp (cmd, "hold") == 0) {
        pthread_mutex_lock (&s->lock);
        s->hold = true;
        pthread_mutex_unlock (&s->lock);
    }
    else if (strcmp (cmd, "release") == 0) {
        pthread_mutex_lock (&s->lock);
        s->hold = false;
        while (s->nheld > 0) {
            cairn_offer_t *offer = s->held[0];
            memmove (&s->held[0], &s->held[1], (s->nheld - 1) * sizeof *s->held);
            s->nheld--;
            s_answer (s, driver, offer);
            cairn_offer_destroy (&offer);
        }
        pthread_mutex_unlock (&s->lock);
    }
    else if (strcmp (cmd, "decline") == 0)
        s_cmd_decline (s, driver, args);
    else if (strcmp (cmd, "accept") == 0)
        s_cmd_accept (s, driver, args);
    else if (strcmp (cmd, "echo") == 0)
        s_say ("echo %s", args);
    else if (strcmp (cmd, "info") == 0) {
        pthread_mutex_lock (&s->lock);
        s_say ("info launched=%ld live=%zu held=%zu offers=%ld", s->launched,
               s_live_tasks (s), s->nheld, s->offers_seen);
        pthread_mutex_unlock (&s->lock);
    }
    else if (strcmp (cmd, "stop") == 0) {
        if (strcmp (args, "failover") == 0)
            *how = 's';
        else if (strcmp (args, "teardown") == 0)
            *how = 't';
        else {
            s_say ("bad-command stop %s: say 'stop failover' or 'stop teardown'", args);
            return 0;
        }
        return 1;
    }
    else if (strcmp (cmd, "abort") == 0) {
        *how = 'a';
        return 1;
    }
    else if (strcmp (cmd, "quit") == 0) {
        *how = 's';
        return 1;
    }
    else {
        s_say ("bad-command %s%s%s", cmd, *args ? " " : "", args);
        return 0;
    }
    if (rc < 0)
        s_say ("failed %s: %s", cmd, cairn_strerror_last ());
    return 0;
}

/*  Flags  */

static void
s_usage (FILE *f)
{
    fputs ("Usage: cairn-sched --master=HOST:PORT [OPTIONS]\n"
           "A scriptable scheduler for tests: prints each callback as a line, reads\n"
           "commands from stdin (see the top of tests/tools/cairn-sched.c).\n"
           "  --master=HOST:PORT        the master (required)\n"
           "  --name=NAME               framework name (default cairn-sched)\n"
           "  --role=ROLE               framework role (default *)\n"
           "  --failover-timeout=SECS   failover timeout (default 0)\n"
           "  --framework-id=ID         re-register as this framework\n"
           "  --partition-aware         see TASK_UNREACHABLE instead of TASK_LOST\n"
           "  --user=NAME               the framework's user (tasks run as it where the\n"
           "                            agent switches users)\n"
           "  --task-resources=SPEC     per task (default cpus:0.1;mem:32)\n"
           "  --command=CMD             task command (default: sleep 300)\n"
           "  --task-prefix=PREFIX      task ids PREFIX1, PREFIX2, ... (default NAME-)\n"
           "  --max-tasks=N             tasks to launch from offers (0: unbounded; default 0)\n"
           "  --per-offer=N             at most N tasks per offer (0: as many as fit)\n"
           "  --refuse=SECS             refuse time of declines (default 5; <0: master's)\n"
           "  --decline-all             decline every offer\n"
           "  --hold                    start in hold mode (keep offers unanswered)\n"
           "  --timestamps              prefix lines with the time (ms since the epoch)\n"
           "  --dispatch                run callbacks on the main thread (dispatch mode)\n",
           f);
}

static int
s_number (const char *flag, const char *text, double min, double *out)
{
    char *end;
    errno = 0;
    double v = strtod (text, &end);
    if (end == text || *end || errno || !isfinite (v) || v < min) {
        fprintf (stderr, "cairn-sched: --%s: '%s' is not a number >= %g\n", flag, text, min);
        return -1;
    }
    *out = v;
    return 0;
}

int
main (int argc, char **argv)
{
    const char *master = NULL, *name = "cairn-sched", *role = NULL, *framework_id = NULL;
    const char *user = NULL;
    const char *resources = "cpus:0.1;mem:32";
    double failover = 0, max_tasks = 0, per_offer = 0;
    bool partition_aware = false, dispatch = false;
    sched_t s = { .command = "sleep 300", .refuse = 5, .wake_fd = -1 };
    pthread_mutex_init (&s.lock, NULL);

    enum { O_MASTER = 256, O_NAME, O_ROLE, O_FAILOVER, O_FWID, O_PAWARE, O_RES, O_CMD,
           O_PREFIX, O_MAX, O_PER, O_REFUSE, O_DECLINE, O_HOLD, O_TS, O_DISPATCH, O_HELP,
           O_USER };
    static const struct option options[] = {
        { "master", required_argument, NULL, O_MASTER },
        { "name", required_argument, NULL, O_NAME },
        { "role", required_argument, NULL, O_ROLE },
        { "failover-timeout", required_argument, NULL, O_FAILOVER },
        { "framework-id", required_argument, NULL, O_FWID },
        { "partition-aware", no_argument, NULL, O_PAWARE },
        { "user", required_argument, NULL, O_USER },
        { "task-resources", required_argument, NULL, O_RES },
        { "command", required_argument, NULL, O_CMD },
        { "task-prefix", required_argument, NULL, O_PREFIX },
        { "max-tasks", required_argument, NULL, O_MAX },
        { "per-offer", required_argument, NULL, O_PER },
        { "refuse", required_argument, NULL, O_REFUSE },
        { "decline-all", no_argument, NULL, O_DECLINE },
        { "hold", no_argument, NULL, O_HOLD },
        { "timestamps", no_argument, NULL, O_TS },
        { "dispatch", no_argument, NULL, O_DISPATCH },
        { "help", no_argument, NULL, O_HELP },
        { NULL, 0, NULL, 0 },
    };
    int opt;
    while ((opt = getopt_long (argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
            case O_MASTER: master = optarg; break;
            case O_NAME: name = optarg; break;
            case O_ROLE: role = optarg; break;
            case O_FWID: framework_id = optarg; break;
            case O_PAWARE: partition_aware = true; break;
            case O_USER: user = optarg; break;
            case O_RES: resources = optarg; break;
            case O_CMD: s.command = optarg; break;
            case O_PREFIX: s.prefix = optarg; break;
            case O_DECLINE: s.decline_all = true; break;
            case O_HOLD: s.hold = true; break;
            case O_TS: s_timestamps = true; break;
            case O_DISPATCH: dispatch = true; break;
            case O_FAILOVER:
                if (s_number ("failover-timeout", optarg, 0, &failover) < 0)
                    return 2;
                break;
            case O_MAX:
                if (s_number ("max-tasks", optarg, 0, &max_tasks) < 0
                    || max_tasks != (double) (long) max_tasks) {
                    fprintf (stderr, "cairn-sched: --max-tasks: a whole number, please\n");
                    return 2;
                }
                break;
            case O_PER:
                if (s_number ("per-offer", optarg, 0, &per_offer) < 0
                    || per_offer != (double) (long) per_offer) {
                    fprintf (stderr, "cairn-sched: --per-offer: a whole number, please\n");
                    return 2;
                }
                break;
            case O_REFUSE:
                if (s_number ("refuse", optarg, -1, &s.refuse) < 0)
                    return 2;
                break;
            case O_HELP: s_usage (stdout); return 0;
            default: s_usage (stderr); return 2;
        }
    }
    if (optind < argc || !master) {
        if (optind < argc)
            fprintf (stderr, "cairn-sched: unexpected argument '%s'\n", argv[optind]);
        else
            fprintf (stderr, "cairn-sched: --master=HOST:PORT is required\n");
        return 2;
    }
    s.budget = max_tasks > 0 ? (long) max_tasks : -1;
    s.per_offer = (long) per_offer;
    char *prefix_buf = NULL;
    if (!s.prefix) {
        if (asprintf (&prefix_buf, "%s-", name) < 0)
            s_oom ();
        s.prefix = prefix_buf;
    }
    s.per_task = cairn_resources_parse (resources);
    if (!s.per_task) {
        fprintf (stderr, "cairn-sched: --task-resources: %s\n", cairn_strerror_last ());
        free (prefix_buf);
        return 2;
    }

    int exit_code = 2;
    cairn_driver_t *driver = NULL;
    int sigfd = -1;
    cairn_framework_info_t *info = cairn_framework_info_new (name);
    if (!info) {
        fprintf (stderr, "cairn-sched: --name: %s\n", cairn_strerror_last ());
        goto done;
    }
    if ((role && cairn_framework_info_set_role (info, role) < 0)
        || (framework_id && cairn_framework_info_set_id (info, framework_id) < 0)
        || (user && cairn_framework_info_set_user (info, user) < 0)
        || cairn_framework_info_set_failover_timeout (info, failover) < 0
        || cairn_framework_info_set_partition_aware (info, partition_aware) < 0) {
        fprintf (stderr, "cairn-sched: %s\n", cairn_strerror_last ());
        goto done;
    }

    /*  Signals are read from a signalfd by the main loop; block them
        before the driver's threads exist so that they inherit the mask.  */
    sigset_t mask;
    sigemptyset (&mask);
    sigaddset (&mask, SIGTERM);
    sigaddset (&mask, SIGINT);
    pthread_sigmask (SIG_BLOCK, &mask, NULL);
    signal (SIGPIPE, SIG_IGN);
    exit_code = 1;
    sigfd = signalfd (-1, &mask, SFD_CLOEXEC);
    s.wake_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (sigfd < 0 || s.wake_fd < 0) {
        fprintf (stderr, "cairn-sched: signalfd/eventfd: %s\n", strerror (errno));
        goto done;
    }

    cairn_callbacks_t callbacks = {
        .registered = on_registered,
        .reregistered = on_reregistered,
        .disconnected = on_disconnected,
        .offers = on_offers,
        .offer_rescinded = on_rescinded,
        .status = on_status,
        .agent_lost = on_agent_lost,
        .error = on_error,
    };
    driver = cairn_driver_new (info, &callbacks, master, &s);
    if (!driver) {
        fprintf (stderr, "cairn-sched: --master: %s\n", cairn_strerror_last ());
        exit_code = 2;
        goto done;
    }
    int dispatch_fd = -1;
    if (dispatch && (dispatch_fd = cairn_driver_fd (driver)) < 0) {
        fprintf (stderr, "cairn-sched: cairn_driver_fd: %s\n", cairn_strerror_last ());
        goto done;
    }
    if (cairn_driver_start (driver) < 0) {
        fprintf (stderr, "cairn-sched: cannot start the driver: %s\n", cairn_strerror_last ());
        goto done;
    }

    char how = 0;
    bool stdin_open = true;
    char buf[65536];
    size_t have = 0;
    while (!how) {
        struct pollfd fds[4] = {
            { sigfd, POLLIN, 0 },
            { s.wake_fd, POLLIN, 0 },
            { stdin_open ? 0 : -1, POLLIN, 0 },
            { dispatch_fd, POLLIN, 0 },
        };
        if (poll (fds, 4, 1000) < 0) {
            if (errno == EINTR)
                continue;
            fprintf (stderr, "cairn-sched: poll: %s\n", strerror (errno));
            how = 'a';
            break;
        }
        if (fds[3].revents & POLLIN)
            cairn_driver_dispatch (driver);
        pthread_mutex_lock (&s.lock);
        bool failed = s.failed;
        pthread_mutex_unlock (&s.lock);
        if (failed) {
            how = 'e';
            break;
        }
        if (fds[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read (sigfd, &si, sizeof si) == (ssize_t) sizeof si)
                how = 's';
            break;
        }
        if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t got = read (0, buf + have, sizeof buf - 1 - have);
            if (got <= 0) {
                /*  No more commands: keep running until a signal.         */
                stdin_open = false;
                continue;
            }
            have += (size_t) got;
            buf[have] = '\0';
            char *start = buf, *nl;
            while (!how && (nl = strchr (start, '\n'))) {
                *nl = '\0';
                s_command (&s, driver, start, &how);
                start = nl + 1;
            }
            have -= (size_t) (start - buf);
            memmove (buf, start, have);
            if (have == sizeof buf - 1)
                have = 0;       /* an absurdly long line: drop it */
        }
    }

    cairn_driver_status_t status;
    if (how == 'a')
        cairn_driver_abort (driver);
    else if (how == 's' || how == 't')
        cairn_driver_stop (driver, how == 's');
    status = cairn_driver_join (driver);
    if (dispatch)
        cairn_driver_dispatch (driver);     /* the error that ended it, if any */
    s_say ("stopped %s", status == CAIRN_DRIVER_STOPPED ? "STOPPED"
                         : status == CAIRN_DRIVER_ABORTED ? "ABORTED" : "OTHER");
    pthread_mutex_lock (&s.lock);
    exit_code = s.failed ? 1 : 0;
    pthread_mutex_unlock (&s.lock);

done:
    cairn_driver_destroy (&driver);
    cairn_framework_info_destroy (&info);
    cairn_resources_destroy (&s.per_task);
    for (size_t i = 0; i < s.nheld; i++)
        cairn_offer_destroy (&s.held[i]);
    free (s.held);
    for (size_t i = 0; i < s.ntasks; i++)
        free (s.tasks[i].id);
    free (s.tasks);
    free (prefix_buf);
    if (sigfd >= 0)
        close (sigfd);
    if (s.wake_fd >= 0)
        close (s.wake_fd);
    pthread_mutex_destroy (&s.lock);
    return exit_code;
}
