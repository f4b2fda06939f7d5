/*  run.c - cairn run [OPTIONS] -- CMD [ARGS...]: a one-shot framework
    (as mesos-execute is): it registers, launches one task on the first
    offer that fits, streams the task's stdout and stderr from its agent,
    and exits with the task's exit status (128 + N for a signal, 1 when it
    could not run), then tears itself down.

    Threads: the library runs the callbacks on its own thread; they only
    record what happened, under a mutex, and signal the main thread, which
    waits, then copies the output (blocking HTTP calls never run in a
    callback).                                                            */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cairn.h"
#include "cli.h"
#include "error.h"
#include "flags.h"
#include "transport.h"

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    cairn_resources_t *need;
    char **argv;
    char **env;                 /* NAME=VALUE */
    size_t nenv;
    char task_id[64];
    bool launched;
    bool started;               /* RUNNING or later seen */
    bool ended;
    bool failed_to_register;
    cairn_task_state_t state;
    int exit_code;
    int signal;
    char message[512];
    char framework_id[64];
    char hostname[256];
} run_t;

static void
s_signal (run_t *r)
{
    pthread_cond_broadcast (&r->changed);
    pthread_mutex_unlock (&r->lock);
}

static void
s_on_registered (cairn_driver_t *driver, const char *framework_id, const char *master_http,
                 void *arg)
{
    (void) driver;
    (void) master_http;
    run_t *r = arg;
    pthread_mutex_lock (&r->lock);
    snprintf (r->framework_id, sizeof r->framework_id, "%s", framework_id);
    s_signal (r);
}

static void
s_on_offers (cairn_driver_t *driver, cairn_offer_t *const *offers, size_t count, void *arg)
{
    run_t *r = arg;
    pthread_mutex_lock (&r->lock);
    for (size_t i = 0; i < count; i++) {
        const char *offer_id = cairn_offer_id (offers[i]);
        if (r->launched || !cairn_resources_contains (cairn_offer_resources (offers[i]), r->need)) {
            cairn_driver_decline (driver, offer_id, r->launched ? 3600 : 5);
            continue;
        }
        cairn_task_t *task = cairn_task_new (r->task_id);
        cairn_task_set_argv (task, (const char *const *) r->argv);
        cairn_task_set_resources (task, r->need);
        for (size_t e = 0; e < r->nenv; e++) {
            char *eq = strchr (r->env[e], '=');
            *eq = '\0';
            cairn_task_set_env (task, r->env[e], eq + 1);
            *eq = '=';
        }
        if (cairn_driver_accept (driver, &offer_id, 1, &task, 1, 0) == 0) {
            r->launched = true;
            snprintf (r->hostname, sizeof r->hostname, "%s", cairn_offer_hostname (offers[i]));
            cairn_driver_suppress (driver);
        }
        cairn_task_destroy (&task);
    }
    s_signal (r);
}

static void
s_on_status (cairn_driver_t *driver, const cairn_status_t *status, void *arg)
{
    (void) driver;
    run_t *r = arg;
    pthread_mutex_lock (&r->lock);
    cairn_task_state_t st = cairn_status_state (status);
    r->state = st;
    if (st == CAIRN_TASK_RUNNING || cairn_task_state_is_terminal (st))
        r->started = true;
    if (cairn_task_state_is_terminal (st)) {
        r->ended = true;
        r->exit_code = cairn_status_exit_code (status);
        r->signal = cairn_status_signal (status);
        snprintf (r->message, sizeof r->message, "%s", cairn_status_message (status));
    }
    s_signal (r);
}

static void
s_on_error (cairn_driver_t *driver, const char *message, void *arg)
{
    (void) driver;
    run_t *r = arg;
    fprintf (stderr, "cairn run: %s\n", message);
    pthread_mutex_lock (&r->lock);
    r->failed_to_register = true;
    s_signal (r);
}

static char *s_cpus, *s_mem, *s_disk, *s_name, *s_role;
static char *s_env_list;
static int64_t s_wait_ms;
static const flag_t s_run_flags[] = {
    { "cpus", FLAG_STRING, &s_cpus, "0.1", "N", "CPUs for the task.", 0, 0 },
    { "mem", FLAG_STRING, &s_mem, "64", "MIB", "Memory for the task, in MiB.", 0, 0 },
    { "disk", FLAG_STRING, &s_disk, "0", "MIB", "Disk for the task's sandbox, in MiB.", 0, 0 },
    { "env", FLAG_STRING, &s_env_list, NULL, "NAME=VALUE[,...]",
      "Environment variables for the task (comma-separated).", 0, 0 },
    { "name", FLAG_STRING, &s_name, NULL, "ID",
      "The task's id (default: run-<random>).", 0, 0 },
    { "role", FLAG_STRING, &s_role, "*", "ROLE", "The role the framework registers with.", 0, 0 },
    { "wait", FLAG_DURATION, &s_wait_ms, "60s", "DURATION",
      "How long to wait for an offer that fits before giving up.", 1, 86400000 },
};
static const flags_spec_t s_run_spec = {
    "cairn run", NULL,
    "Run one command as a task on the cluster, print its output, exit with its status.",
    "[OPTIONS] -- CMD [ARGS...]", s_run_flags, sizeof s_run_flags / sizeof s_run_flags[0],
};

/*  Waits until pred holds or the deadline passes (deadline 0: none).     */
static bool
s_wait (run_t *r, bool (*pred) (run_t *), int64_t deadline_ms)
{
    pthread_mutex_lock (&r->lock);
    while (!pred (r) && !r->failed_to_register) {
        if (deadline_ms && clock_mono_ms () >= deadline_ms)
            break;
        struct timespec ts;
        clock_gettime (CLOCK_REALTIME, &ts);
        ts.tv_nsec += 200 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait (&r->changed, &r->lock, &ts);
    }
    bool ok = pred (r);
    pthread_mutex_unlock (&r->lock);
    return ok;
}

static bool
s_is_launched (run_t *r)
{
    return r->launched;
}

static bool
s_is_started (run_t *r)
{
    return r->started;
}

static bool
s_is_ended (run_t *r)
{
    return r->ended;
}

/*  Builds the run: resources, environment. CLI_USAGE after a message.    */
static int
s_prepare (run_t *r, char **argv)
{
    char *spec = xasprintf ("cpus:%s;mem:%s;disk:%s", s_cpus, s_mem, s_disk);
    r->need = cairn_resources_parse (spec);
    free (spec);
    if (!r->need) {
        fprintf (stderr, "cairn run: --cpus/--mem/--disk: %s\n", cairn_strerror_last ());
        return CLI_USAGE;
    }
    r->argv = argv;
    if (s_env_list) {
        char *list = xstrdup (s_env_list), *save = NULL;
        for (char *e = strtok_r (list, ",", &save); e; e = strtok_r (NULL, ",", &save)) {
            if (!strchr (e, '=') || e[0] == '=') {
                fprintf (stderr, "cairn run: --env: '%s' is not NAME=VALUE\n", e);
                free (list);
                return CLI_USAGE;
            }
            r->env = xrealloc (r->env, (r->nenv + 1) * sizeof (char *));
            r->env[r->nenv++] = xstrdup (e);
        }
        free (list);
    }
    if (s_name)
        snprintf (r->task_id, sizeof r->task_id, "%s", s_name);
    else
        snprintf (r->task_id, sizeof r->task_id, "run-%08x", (unsigned) (getpid () ^ time (NULL)));
    return 0;
}

/*  Ctrl-C (or SIGTERM, SIGHUP) while a task runs kills the task, and
    cairn run ends as it does for any end of the task, with its status; a
    second signal, or one before the task is launched, tears the one-shot
    framework down (so the master kills whatever it launched) and exits
    with 128 + the signal. The signals are blocked in every thread and
    taken by this one with sigwait, so nothing here runs in a handler.  */
typedef struct {
    run_t *r;
    cairn_driver_t *driver;
    sigset_t set;
    bool done;                  /* under r->lock: cairn run is ending */
} watch_t;

static void *
s_watch (void *arg)
{
    watch_t *w = arg;
    bool killing = false;
    for (;;) {
        int sig = 0;
        if (sigwait (&w->set, &sig) != 0)
            continue;
        pthread_mutex_lock (&w->r->lock);
        bool done = w->done, launched = w->r->launched && !w->r->ended;
        char task_id[sizeof w->r->task_id];
        snprintf (task_id, sizeof task_id, "%s", w->r->task_id);
        pthread_mutex_unlock (&w->r->lock);
        if (done)
            return NULL;
        if (launched && !killing) {
            fprintf (stderr, "cairn run: %s: killing task %s (again to stop waiting)\n",
                     strsignal (sig), task_id);
            cairn_driver_kill (w->driver, task_id);
            killing = true;
            continue;
        }
        fprintf (stderr, "cairn run: %s: tearing the framework down\n", strsignal (sig));
        cairn_driver_stop (w->driver, false);
        cairn_driver_join (w->driver);
        _exit (128 + sig);
    }
}

int
cli_cmd_run (int argc, char **argv)
{
    int argi = 0;
    int rc = flags_parse (&s_run_spec, argc, argv, &argi);
    if (rc != 0) {
        flags_free (&s_run_spec);
        return rc < 0 ? CLI_USAGE : 0;
    }
    if (argi >= argc) {
        fprintf (stderr, "cairn run: what to run? (cairn run [OPTIONS] -- CMD [ARGS...])\n");
        flags_free (&s_run_spec);
        return CLI_USAGE;
    }
    run_t r = { .lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER };
    watch_t watch = { 0 };
    pthread_t watcher;
    bool watching = false;
    sigset_t old_mask;
    rc = s_prepare (&r, argv + argi);
    cairn_driver_t *driver = NULL;
    if (rc != 0)
        goto done;
    cairn_callbacks_t callbacks = {
        .registered = s_on_registered,
        .offers = s_on_offers,
        .status = s_on_status,
        .error = s_on_error,
    };
    cairn_framework_info_t *info = cairn_framework_info_new ("cairn-run");
    cairn_framework_info_set_role (info, s_role);
    driver = cairn_driver_new (info, &callbacks, cli.master, &r);
    cairn_framework_info_destroy (&info);
    rc = CLI_FAILED;
    /*  Blocked before the driver's threads exist, so they inherit it.    */
    watch.r = &r;
    watch.driver = driver;
    sigemptyset (&watch.set);
    sigaddset (&watch.set, SIGINT);
    sigaddset (&watch.set, SIGTERM);
    sigaddset (&watch.set, SIGHUP);
    pthread_sigmask (SIG_BLOCK, &watch.set, &old_mask);
    if (driver && pthread_create (&watcher, NULL, s_watch, &watch) == 0)
        watching = true;
    if (!driver || cairn_driver_start (driver) < 0) {
        fprintf (stderr, "cairn run: %s\n", cairn_strerror_last ());
        goto done;
    }
    if (!s_wait (&r, s_is_launched, clock_mono_ms () + s_wait_ms)) {
        if (!r.failed_to_register)
            fprintf (stderr, "cairn run: no offer with %s cpus, %s MiB of memory and %s MiB of "
                     "disk came within %" PRId64 " ms%s\n", s_cpus, s_mem, s_disk, s_wait_ms,
                     r.framework_id[0] ? "" : " (the master did not register us)");
        goto done;
    }
    fprintf (stderr, "cairn run: task %s on %s\n", r.task_id, r.hostname);
    s_wait (&r, s_is_started, 0);
    /*  The output, as it comes, from the task's agent.                    */
    json_t *task = r.failed_to_register ? NULL : cli_task_info (r.task_id, r.framework_id);
    if (task) {
        const char *files[] = { "stdout", "stderr" };
        FILE *outs[] = { stdout, stderr };
        int64_t offsets[] = { 0, 0 };
        cli_copy_output (task, files, outs, offsets, 2, true);
        json_decref (task);
    }
    s_wait (&r, s_is_ended, 0);
    pthread_mutex_lock (&r.lock);
    if (r.ended && r.exit_code >= 0)
        rc = r.exit_code;
    else if (r.ended && r.signal > 0)
        rc = 128 + r.signal;
    else
        rc = CLI_FAILED;
    if (r.ended && r.state != CAIRN_TASK_FINISHED)
        fprintf (stderr, "cairn run: task %s is %s: %s\n", r.task_id,
                 cairn_task_state_name (r.state), r.message);
    pthread_mutex_unlock (&r.lock);
done:
    if (driver) {
        cairn_driver_stop (driver, false);
        cairn_driver_join (driver);
    }
    if (watching) {
        pthread_mutex_lock (&r.lock);
        watch.done = true;
        pthread_mutex_unlock (&r.lock);
        pthread_kill (watcher, SIGINT);         /* blocked: sigwait takes it */
        pthread_join (watcher, NULL);
        pthread_sigmask (SIG_SETMASK, &old_mask, NULL);
    }
    if (driver)
        cairn_driver_destroy (&driver);
    cairn_resources_destroy (&r.need);
    for (size_t e = 0; e < r.nenv; e++)
        free (r.env[e]);
    free (r.env);
    flags_free (&s_run_spec);
    return rc;
}
