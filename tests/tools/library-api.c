/*  library-api.c - every call and every callback of cairn.h, against a
    real master and agent (driven by tests/integration/library-api.sh).

    Written only against the public cairn.h, as a scheduler author would.
    It prints one line per check, "ok - WHAT" or "not ok - WHAT", and
    "# ..." for diagnostics; the script numbers them as TAP. When a check
    needs something done to the cluster it prints "need ACTION" (one of
    stop-agent, cont-agent, restart-master, check-framework ID) and waits
    for a line on stdin. Phases:

    1. objects and names, offline: every getter and setter, and every
       invalid argument (NULL pointers, bad ids, bad resources, negative
       or NaN times) rejected with -1/NULL, errno and a message;
    2. driver A (threaded, explicit acknowledgements): registered, offers
       and their getters, offer_rescinded (--offer-timeout), launches,
       status getters, a held acknowledgement resent by the agent,
       decline filters, suppress/revive, reconcile, kill of an unknown
       task, update_framework;
    3. several threads calling accept/decline/kill/revive/reconcile/
       suppress at once while callbacks run; every answer is counted;
    4. agent_lost (the agent is stopped), TASK_RUNNING again after it
       continues; disconnected and reregistered across a master restart;
       kill (TASK_KILLING then TASK_KILLED); stop without failover;
    5. driver B re-registers A's torn-down id: the error callback runs
       and cairn_driver_run returns ABORTED;
    6. driver C in dispatch mode: callbacks run only inside
       cairn_driver_dispatch, on the main thread;
    7. driver D aborted from another thread; driver E destroyed while
       running.
    Throughout, callbacks of one driver must never overlap and must run
    on one thread.                                                        */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cairn.h"

/*  Output  */

static int s_failures;

static void
ok (bool cond, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    printf ("%s - ", cond ? "ok" : "not ok");
    vprintf (fmt, ap);
    printf ("\n");
    va_end (ap);
    if (!cond)
        s_failures++;
}

static void
diag (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    printf ("# ");
    vprintf (fmt, ap);
    printf ("\n");
    va_end (ap);
}

/*  Asks the script to act on the cluster and waits until it has.         */
static void
need (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    printf ("need ");
    vprintf (fmt, ap);
    printf ("\n");
    va_end (ap);
    char line[256];
    if (!fgets (line, sizeof line, stdin)) {
        printf ("Bail out! the test script went away\n");
        exit (1);
    }
}

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
s_sleep (double seconds)
{
    struct timespec ts = { (time_t) seconds, (long) ((seconds - (time_t) seconds) * 1e9) };
    nanosleep (&ts, NULL);
}

/*  Invalid arguments. cairn_strerror_last keeps the last failure of the
    thread, so a check first records a marker failure: the message read
    after the call under test must be a new one.                          */
static void
s_mark (void)
{
    cairn_task_state_t state;
    cairn_task_state_parse ("MARKER", &state);
    errno = 0;
}

static void
s_check_fails (bool failed, int want_errno, const char *what)
{
    int err = errno;
    const char *msg = cairn_strerror_last ();
    bool good = failed && err == want_errno && *msg && !strstr (msg, "MARKER");
    ok (good, "%s: rejected (%s)", what, good ? msg : "");
    if (!good)
        diag ("failed=%d errno=%d (want %d) message '%s'", failed, err, want_errno, msg);
}

#define FAILS(expr, err, what) \
    do { s_mark (); bool failed_ = (expr); s_check_fails (failed_, err, what); } while (0)

/*  What one driver's callbacks saw  */

typedef enum {
    OFFERS_HOLD,                /* keep them for the main thread */
    OFFERS_LAUNCH_ONE,          /* launch task_to_launch once, decline the rest */
} offer_mode_t;

typedef struct {
    const char *name;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t main_thread;
    bool dispatch_mode;         /* callbacks must run on main_thread */
    pthread_t cb_thread;
    bool cb_thread_set;
    bool wrong_thread;          /* a callback ran on an unexpected thread */
    atomic_int in_callback;
    bool overlap;               /* two callbacks of this driver ran at once */
    int callbacks;

    int registered, reregistered, disconnected, offer_batches, rescinded, agent_lost, errors;
    char *framework_id, *master_http, *error, *lost_agent;
    char *rescinded_ids[64];
    size_t nrescinded_ids;

    offer_mode_t offer_mode;
    cairn_offer_t *offers[64];  /* held, outstanding */
    size_t noffers;
    size_t offers_seen;
    const char *task_to_launch;
    bool launched;

    cairn_status_t **statuses;  /* every update, in order */
    size_t nstatuses, statuses_cap;

    /*  Explicit acknowledgements (driver A).                            */
    bool explicit_ack;
    int ack_failures;
    const char *hold_ack_task;  /* its terminal update is not acknowledged */
    cairn_status_t *held;       /* that update */
    int held_deliveries;        /* how often it arrived */

    const char *stop_after_task;   /* stop without failover once it ended */
} ctx_t;

static void
s_ctx_init (ctx_t *c, const char *name)
{
    memset (c, 0, sizeof *c);
    c->name = name;
    pthread_mutex_init (&c->lock, NULL);
    pthread_cond_init (&c->cond, NULL);
    c->main_thread = pthread_self ();
}

static void
s_ctx_fini (ctx_t *c)
{
    for (size_t i = 0; i < c->noffers; i++)
        cairn_offer_destroy (&c->offers[i]);
    for (size_t i = 0; i < c->nstatuses; i++)
        cairn_status_destroy (&c->statuses[i]);
    for (size_t i = 0; i < c->nrescinded_ids; i++)
        free (c->rescinded_ids[i]);
    free (c->statuses);
    cairn_status_destroy (&c->held);
    free (c->framework_id);
    free (c->master_http);
    free (c->error);
    free (c->lost_agent);
    pthread_mutex_destroy (&c->lock);
    pthread_cond_destroy (&c->cond);
}

/*  Every callback starts with enter and ends with leave.                  */
static void
s_enter (ctx_t *c)
{
    if (atomic_fetch_add (&c->in_callback, 1) != 0)
        c->overlap = true;
    pthread_t self = pthread_self ();
    pthread_mutex_lock (&c->lock);
    c->callbacks++;
    if (c->dispatch_mode) {
        if (!pthread_equal (self, c->main_thread))
            c->wrong_thread = true;
    }
    else if (pthread_equal (self, c->main_thread))
        c->wrong_thread = true;
    else if (!c->cb_thread_set) {
        c->cb_thread = self;
        c->cb_thread_set = true;
    }
    else if (!pthread_equal (self, c->cb_thread))
        c->wrong_thread = true;
    pthread_mutex_unlock (&c->lock);
}

static void
s_leave (ctx_t *c)
{
    pthread_mutex_lock (&c->lock);
    pthread_cond_broadcast (&c->cond);
    pthread_mutex_unlock (&c->lock);
    atomic_fetch_sub (&c->in_callback, 1);
}

static char *
s_strdup (const char *s)
{
    char *p = strdup (s ? s : "");
    if (!p)
        abort ();
    return p;
}

static void
on_registered (cairn_driver_t *driver, const char *framework_id, const char *master_http,
               void *arg)
{
    ctx_t *c = arg;
    s_enter (c);
    pthread_mutex_lock (&c->lock);
    c->registered++;
    free (c->framework_id);
    free (c->master_http);
    c->framework_id = s_strdup (framework_id);
    c->master_http = s_strdup (master_http);
    pthread_mutex_unlock (&c->lock);
    s_leave (c);
}

static void
on_reregistered (cairn_driver_t *driver, const char *master_http, void *arg)
{
    ctx_t *c = arg;
    s_enter (c);
    pthread_mutex_lock (&c->lock);
    c->reregistered++;
    free (c->master_http);
    c->master_http = s_strdup (master_http);
    pthread_mutex_unlock (&c->lock);
    s_leave (c);
}

static void
on_disconnected (cairn_driver_t *driver, void *arg)
{
    ctx_t *c = arg;
    s_enter (c);
    pthread_mutex_lock (&c->lock);
    c->disconnected++;
    pthread_mutex_unlock (&c->lock);
    s_leave (c);
}

static void
on_offers (cairn_driver_t *driver, cairn_offer_t *const *offers, size_t count, void *arg)
{
    ctx_t *c = arg;
    s_enter (c);
    pthread_mutex_lock (&c->lock);
    c->offer_batches++;
    c->offers_seen += count;
    for (size_t i = 0; i < count; i++) {
        const char *offer_id = cairn_offer_id (offers[i]);
        if (c->offer_mode == OFFERS_HOLD && c->noffers < 64)
            c->offers[c->noffers++] = cairn_offer_dup (offers[i]);
        else if (c->offer_mode == OFFERS_LAUNCH_ONE && !c->launched && c->task_to_launch) {
            cairn_task_t *task = cairn_task_new (c->task_to_launch);
            cairn_resources_t *need = cairn_resources_parse ("cpus:0.1;mem:16");
            cairn_task_set_command (task, "true");
            cairn_task_set_resources (task, need);
            c->launched = cairn_driver_accept (driver, &offer_id, 1, &task, 1, 0) == 0;
            cairn_resources_destroy (&need);
            cairn_task_destroy (&task);
        }
        else
            cairn_driver_decline (driver, offer_id, 60);
    }
    pthread_mutex_unlock (&c->lock);
    /*  A slow callback: another one must not start meanwhile.             */
    s_sleep (0.002);
    s_leave (c);
}

static void
on_rescinded (cairn_driver_t *driver, const char *offer_id, void *arg)
{
    ctx_t *c = arg;
    s_enter (c);
    pthread_mutex_lock (&c->lock);
    c->rescinded++;
    if (c->nrescinded_ids < 64)
        c->rescinded_ids[c->nrescinded_ids++] = s_strdup (offer_id);
    for (size_t i = 0; i < c->noffers; i++)
        if (strcmp (cairn_offer_id (c->offers[i]), offer_id) == 0) {
            cairn_offer_destroy (&c->offers[i]);
            c->offers[i] = c->offers[--c->noffers];
            break;
        }
    pthread_mutex_unlock (&c->lock);
    s_leave (c);
}

static void
on_status (cairn_driver_t *driver, const cairn_status_t *status, void *arg)
{
    ctx_t *c = arg;
    s_enter (c);
    pthread_mutex_lock (&c->lock);
    if (c->nstatuses == c->statuses_cap) {
        c->statuses_cap = c->statuses_cap ? 2 * c->statuses_cap : 256;
        c->statuses = realloc (c->statuses, c->statuses_cap * sizeof *c->statuses);
        if (!c->statuses)
            abort ();
    }
    c->statuses[c->nstatuses++] = cairn_status_dup (status);
    const char *task_id = cairn_status_task_id (status);
    cairn_task_state_t state = cairn_status_state (status);
    if (c->explicit_ack) {
        bool hold = false;
        if (c->held && strcmp (cairn_status_uuid (c->held), cairn_status_uuid (status)) == 0) {
            c->held_deliveries++;
            hold = true;
        }
        else if (c->hold_ack_task && strcmp (task_id, c->hold_ack_task) == 0
                 && cairn_task_state_is_terminal (state) && *cairn_status_uuid (status)) {
            c->held = cairn_status_dup (status);
            c->held_deliveries = 1;
            hold = true;
        }
        /*  Acknowledging from inside the callback is allowed.              */
        if (!hold && cairn_driver_acknowledge (driver, status) != 0)
            c->ack_failures++;
    }
    if (c->stop_after_task && strcmp (task_id, c->stop_after_task) == 0
        && cairn_task_state_is_terminal (state))
        cairn_driver_stop (driver, false);
    pthread_mutex_unlock (&c->lock);
    s_leave (c);
}

static void
on_agent_lost (cairn_driver_t *driver, const char *agent_id, void *arg)
{
    ctx_t *c = arg;
    s_enter (c);
    pthread_mutex_lock (&c->lock);
    c->agent_lost++;
    free (c->lost_agent);
    c->lost_agent = s_strdup (agent_id);
    pthread_mutex_unlock (&c->lock);
    s_leave (c);
}

static void
on_error (cairn_driver_t *driver, const char *message, void *arg)
{
    ctx_t *c = arg;
    s_enter (c);
    pthread_mutex_lock (&c->lock);
    c->errors++;
    free (c->error);
    c->error = s_strdup (message);
    pthread_mutex_unlock (&c->lock);
    s_leave (c);
}

static const cairn_callbacks_t s_callbacks = {
    .registered = on_registered,
    .reregistered = on_reregistered,
    .disconnected = on_disconnected,
    .offers = on_offers,
    .offer_rescinded = on_rescinded,
    .status = on_status,
    .agent_lost = on_agent_lost,
    .error = on_error,
};

/*  Waits on c->cond for at most 50 ms; call under c->lock.                */
static void
s_timedwait (ctx_t *c)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    ts.tv_nsec += 50 * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait (&c->cond, &c->lock, &ts);
}

/*  Waits up to `seconds` for COND, evaluated under the lock of ctx `cx`,
    to hold; the value of COND at the end.                                 */
#define WAIT(c, seconds, cond) ({ \
        ctx_t *cx = (c); \
        double deadline_ = s_now () + (seconds); \
        bool held_; \
        pthread_mutex_lock (&cx->lock); \
        while (!(held_ = (cond)) && s_now () < deadline_) \
            s_timedwait (cx); \
        pthread_mutex_unlock (&cx->lock); \
        held_; })

/*  How many updates of tasks whose id starts with `prefix` are in
    `state` (any if CAIRN_TASK_STATE_COUNT) with `reason` (any if
    CAIRN_REASON_COUNT). Call under c->lock.                               */
static int
s_count (ctx_t *c, const char *prefix, cairn_task_state_t state, cairn_reason_t reason)
{
    int n = 0;
    for (size_t i = 0; i < c->nstatuses; i++) {
        const cairn_status_t *s = c->statuses[i];
        if (strncmp (cairn_status_task_id (s), prefix, strlen (prefix)) == 0
            && (state == CAIRN_TASK_STATE_COUNT || cairn_status_state (s) == state)
            && (reason == CAIRN_REASON_COUNT || cairn_status_reason (s) == reason))
            n++;
    }
    return n;
}

/*  The latest update of task `id` (borrowed), or NULL. Under c->lock.     */
static const cairn_status_t *
s_latest (ctx_t *c, const char *id)
{
    for (size_t i = c->nstatuses; i > 0; i--)
        if (strcmp (cairn_status_task_id (c->statuses[i - 1]), id) == 0)
            return c->statuses[i - 1];
    return NULL;
}

static const cairn_status_t *
s_first (ctx_t *c, const char *id, cairn_task_state_t state)
{
    for (size_t i = 0; i < c->nstatuses; i++)
        if (strcmp (cairn_status_task_id (c->statuses[i]), id) == 0
            && cairn_status_state (c->statuses[i]) == state)
            return c->statuses[i];
    return NULL;
}

/*  Takes a held offer (the caller's), waiting up to `seconds`.            */
static cairn_offer_t *
s_take_offer (ctx_t *c, double seconds)
{
    if (!WAIT (c, seconds, cx->noffers > 0))
        return NULL;
    pthread_mutex_lock (&c->lock);
    cairn_offer_t *offer = c->offers[0];
    c->offers[0] = c->offers[--c->noffers];
    pthread_mutex_unlock (&c->lock);
    return offer;
}

/*  Declines every held offer.                                             */
static void
s_decline_held (ctx_t *c, cairn_driver_t *driver, double refuse)
{
    pthread_mutex_lock (&c->lock);
    for (size_t i = 0; i < c->noffers; i++) {
        cairn_driver_decline (driver, cairn_offer_id (c->offers[i]), refuse);
        cairn_offer_destroy (&c->offers[i]);
    }
    c->noffers = 0;
    pthread_mutex_unlock (&c->lock);
}

static void
s_check_callbacks (ctx_t *c)
{
    pthread_mutex_lock (&c->lock);
    ok (!c->overlap, "%s: callbacks never overlapped (%d callbacks)", c->name, c->callbacks);
    ok (!c->wrong_thread, "%s: callbacks ran on %s", c->name,
        c->dispatch_mode ? "the thread calling cairn_driver_dispatch"
                         : "one thread, the driver's, never the caller's");
    pthread_mutex_unlock (&c->lock);
}

/*  Phase 1: objects, names and invalid arguments  */

static void
s_phase_names (void)
{
    char want[32];
    snprintf (want, sizeof want, "%d.%d.", CAIRN_VERSION_MAJOR, CAIRN_VERSION_MINOR);
    ok (cairn_version () && strncmp (cairn_version (), want, strlen (want)) == 0,
        "cairn_version '%s' matches CAIRN_VERSION_MAJOR.MINOR", cairn_version ());

    bool names = true;
    for (int i = 0; i < CAIRN_TASK_STATE_COUNT; i++) {
        cairn_task_state_t back;
        const char *name = cairn_task_state_name ((cairn_task_state_t) i);
        if (!name || strncmp (name, "TASK_", 5) || cairn_task_state_parse (name, &back) != 0
            || back != (cairn_task_state_t) i)
            names = false;
    }
    ok (names, "every task state has a TASK_ name that parses back");
    ok (!cairn_task_state_name (CAIRN_TASK_STATE_COUNT) && !cairn_task_state_name (-1),
        "cairn_task_state_name is NULL out of range");
    ok (cairn_task_state_is_terminal (CAIRN_TASK_FINISHED)
        && cairn_task_state_is_terminal (CAIRN_TASK_KILLED)
        && cairn_task_state_is_terminal (CAIRN_TASK_LOST)
        && !cairn_task_state_is_terminal (CAIRN_TASK_RUNNING)
        && !cairn_task_state_is_terminal (CAIRN_TASK_KILLING)
        && !cairn_task_state_is_terminal (CAIRN_TASK_UNREACHABLE)
        && !cairn_task_state_is_terminal (CAIRN_TASK_UNKNOWN),
        "cairn_task_state_is_terminal");
    names = true;
    for (int i = 0; i < CAIRN_REASON_COUNT; i++) {
        cairn_reason_t back;
        const char *name = cairn_reason_name ((cairn_reason_t) i);
        if (!name || strncmp (name, "REASON_", 7) || cairn_reason_parse (name, &back) != 0
            || back != (cairn_reason_t) i)
            names = false;
    }
    ok (names, "every reason has a REASON_ name that parses back");
    ok (!cairn_reason_name (CAIRN_REASON_COUNT), "cairn_reason_name is NULL out of range");
    cairn_task_state_t state;
    cairn_reason_t reason;
    FAILS (cairn_task_state_parse ("TASK_BOGUS", &state) == -1, EINVAL, "an unknown state name");
    FAILS (cairn_task_state_parse (NULL, &state) == -1, EINVAL, "a NULL state name");
    FAILS (cairn_task_state_parse ("TASK_RUNNING", NULL) == -1, EINVAL, "a NULL state pointer");
    FAILS (cairn_reason_parse ("REASON_BOGUS", &reason) == -1, EINVAL, "an unknown reason name");
    FAILS (cairn_reason_parse (NULL, &reason) == -1, EINVAL, "a NULL reason name");
}

static void
s_phase_resources (void)
{
    cairn_resources_t *r = cairn_resources_parse ("cpus:1.5;mem:512;disk:100;ports:[31000-31009]");
    char *text = cairn_resources_format (r);
    ok (r && text && strcmp (text, "cpus:1.5;mem:512;disk:100;ports:[31000-31009]") == 0,
        "cairn_resources_parse and _format round-trip (%s)", text ? text : "NULL");
    free (text);
    ok (cairn_resources_cpus (r) == 1.5 && cairn_resources_millicpus (r) == 1500
        && cairn_resources_mem (r) == 512 && cairn_resources_disk (r) == 100
        && cairn_resources_port_count (r) == 10, "resource getters");
    size_t nranges = 0;
    const uint16_t *ranges = cairn_resources_port_ranges (r, &nranges);
    ok (nranges == 1 && ranges[0] == 31000 && ranges[1] == 31009, "cairn_resources_port_ranges");

    cairn_resources_t *a = cairn_resources_new ();
    ok (a && cairn_resources_is_empty (a), "cairn_resources_new is empty");
    cairn_resources_t *b = cairn_resources_new ();
    cairn_resources_set_cpus (a, 0.1);
    cairn_resources_set_cpus (b, 0.2);
    cairn_resources_add (a, b);
    ok (cairn_resources_millicpus (a) == 300, "0.1 + 0.2 cpus is exactly 300 milli-cpus");
    ok (cairn_resources_set_millicpus (a, 250) == 0 && cairn_resources_set_mem (a, 64) == 0
        && cairn_resources_set_disk (a, 10) == 0 && cairn_resources_add_ports (a, 31002, 31003) == 0
        && cairn_resources_add_ports (a, 31004, 31004) == 0, "setters accept valid values");
    ranges = cairn_resources_port_ranges (a, &nranges);
    ok (nranges == 1 && ranges[0] == 31002 && ranges[1] == 31004, "adjacent port ranges merge");
    ok (cairn_resources_contains (r, a) && !cairn_resources_contains (a, r),
        "cairn_resources_contains");
    cairn_resources_t *c = cairn_resources_dup (r);
    ok (cairn_resources_equal (c, r) && !cairn_resources_equal (c, a), "cairn_resources_dup, _equal");
    ok (cairn_resources_subtract (c, a) == 0 && cairn_resources_millicpus (c) == 1250
        && cairn_resources_port_count (c) == 7, "cairn_resources_subtract");
    ranges = cairn_resources_port_ranges (c, &nranges);
    ok (nranges == 2, "subtracting from the middle of a range splits it");
    uint16_t ports[3];
    ok (cairn_resources_take_ports (c, 3, ports) == 0 && ports[0] == 31000 && ports[1] == 31001
        && ports[2] == 31005 && cairn_resources_port_count (c) == 4,
        "cairn_resources_take_ports takes the lowest ports");

    /*  Invalid.                                                          */
    FAILS (!cairn_resources_parse ("cpus:x"), EINVAL, "resources 'cpus:x'");
    FAILS (!cairn_resources_parse ("cpus:0.0001"), EINVAL, "resources with four decimals of cpus");
    FAILS (!cairn_resources_parse ("gpus:1"), EINVAL, "an unknown resource");
    FAILS (!cairn_resources_parse ("cpus:1;cpus:2"), EINVAL, "a resource given twice");
    FAILS (!cairn_resources_parse ("mem:-5"), EINVAL, "negative mem");
    FAILS (!cairn_resources_parse ("ports:[5-3]"), EINVAL, "a reversed port range");
    FAILS (!cairn_resources_parse ("ports:[0-3]"), EINVAL, "port 0");
    FAILS (!cairn_resources_parse ("ports:[1-10,5-20]"), EINVAL, "overlapping port ranges");
    FAILS (!cairn_resources_parse (NULL), EINVAL, "NULL resources text");
    FAILS (cairn_resources_set_cpus (a, -1) == -1, EINVAL, "negative cpus");
    FAILS (cairn_resources_set_cpus (a, NAN) == -1, EINVAL, "NaN cpus");
    FAILS (cairn_resources_set_cpus (NULL, 1) == -1, EINVAL, "set_cpus on NULL");
    FAILS (cairn_resources_set_millicpus (a, -1) == -1, EINVAL, "negative milli-cpus");
    FAILS (cairn_resources_set_mem (a, UINT64_MAX) == -1, EINVAL, "too much mem");
    FAILS (cairn_resources_set_disk (a, UINT64_MAX) == -1, EINVAL, "too much disk");
    FAILS (cairn_resources_set_mem (NULL, 1) == -1, EINVAL, "set_mem on NULL");
    FAILS (cairn_resources_set_disk (NULL, 1) == -1, EINVAL, "set_disk on NULL");
    FAILS (cairn_resources_add_ports (a, 0, 5) == -1, EINVAL, "port range 0-5");
    FAILS (cairn_resources_add_ports (a, 9, 3) == -1, EINVAL, "port range 9-3");
    FAILS (cairn_resources_add_ports (NULL, 1, 2) == -1, EINVAL, "add_ports on NULL");
    FAILS (cairn_resources_add (a, NULL) == -1, EINVAL, "adding NULL");
    FAILS (cairn_resources_subtract (NULL, a) == -1, EINVAL, "subtracting from NULL");
    char *before = cairn_resources_format (a);
    FAILS (cairn_resources_subtract (a, r) == -1, ERANGE, "subtracting more than there is");
    char *after = cairn_resources_format (a);
    ok (strcmp (before, after) == 0, "a failed subtract leaves the resources unchanged");
    free (before);
    free (after);
    FAILS (cairn_resources_take_ports (a, 100, ports) == -1, ERANGE, "taking more ports than there are");
    FAILS (cairn_resources_take_ports (a, 1, NULL) == -1, EINVAL, "taking ports into NULL");
    FAILS (!cairn_resources_format (NULL), EINVAL, "formatting NULL");
    ok (!cairn_resources_dup (NULL) && cairn_resources_cpus (NULL) == 0
        && cairn_resources_millicpus (NULL) == 0 && cairn_resources_mem (NULL) == 0
        && cairn_resources_disk (NULL) == 0 && cairn_resources_port_count (NULL) == 0
        && !cairn_resources_port_ranges (NULL, &nranges) && nranges == 0
        && !cairn_resources_contains (NULL, a) && cairn_resources_is_empty (NULL)
        && !cairn_resources_equal (NULL, a), "resource getters accept NULL");

    cairn_resources_destroy (&a);
    ok (a == NULL, "cairn_resources_destroy sets the pointer to NULL");
    cairn_resources_destroy (&a);
    cairn_resources_destroy (NULL);
    cairn_resources_destroy (&b);
    cairn_resources_destroy (&c);
    cairn_resources_destroy (&r);
}

static void
s_phase_info_task (void)
{
    cairn_framework_info_t *info = cairn_framework_info_new ("api");
    ok (info && strcmp (cairn_framework_info_name (info), "api") == 0
        && strcmp (cairn_framework_info_role (info), "*") == 0
        && strcmp (cairn_framework_info_id (info), "") == 0,
        "cairn_framework_info_new: name, role '*', no id");
    ok (cairn_framework_info_set_role (info, "api-role") == 0
        && cairn_framework_info_set_principal (info, "api-principal") == 0
        && cairn_framework_info_set_user (info, "") == 0
        && cairn_framework_info_set_hostname (info, "api-host") == 0
        && cairn_framework_info_set_failover_timeout (info, 30) == 0
        && cairn_framework_info_set_partition_aware (info, false) == 0
        && cairn_framework_info_add_label (info, "k", "v") == 0
        && cairn_framework_info_set_id (info, "f-0123") == 0
        && strcmp (cairn_framework_info_id (info), "f-0123") == 0
        && cairn_framework_info_set_id (info, NULL) == 0
        && strcmp (cairn_framework_info_id (info), "") == 0
        && strcmp (cairn_framework_info_role (info), "api-role") == 0,
        "framework info setters");
    char longname[400];
    memset (longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    FAILS (!cairn_framework_info_new (NULL), EINVAL, "a framework without a name");
    FAILS (!cairn_framework_info_new (""), EINVAL, "a framework with an empty name");
    FAILS (!cairn_framework_info_new (longname), EINVAL, "a framework name of 399 bytes");
    FAILS (cairn_framework_info_set_id (info, "bad id!") == -1, EINVAL, "framework id 'bad id!'");
    FAILS (cairn_framework_info_set_role (info, "") == -1, EINVAL, "an empty role");
    FAILS (cairn_framework_info_set_role (info, NULL) == -1, EINVAL, "a NULL role");
    FAILS (cairn_framework_info_set_principal (info, longname) == -1, EINVAL, "a long principal");
    FAILS (cairn_framework_info_set_failover_timeout (info, -1) == -1, EINVAL,
           "a negative failover timeout");
    FAILS (cairn_framework_info_set_failover_timeout (info, NAN) == -1, EINVAL,
           "a NaN failover timeout");
    FAILS (cairn_framework_info_add_label (info, NULL, "v") == -1, EINVAL, "a label without a key");
    FAILS (cairn_framework_info_add_label (info, "k", NULL) == -1, EINVAL, "a label without a value");
    FAILS (cairn_framework_info_set_id (NULL, "f-1") == -1, EINVAL, "set_id on NULL");
    FAILS (cairn_framework_info_set_role (NULL, "r") == -1, EINVAL, "set_role on NULL");
    FAILS (cairn_framework_info_set_principal (NULL, "p") == -1, EINVAL, "set_principal on NULL");
    FAILS (cairn_framework_info_set_user (NULL, "u") == -1, EINVAL, "set_user on NULL");
    FAILS (cairn_framework_info_set_hostname (NULL, "h") == -1, EINVAL, "set_hostname on NULL");
    FAILS (cairn_framework_info_set_failover_timeout (NULL, 1) == -1, EINVAL,
           "set_failover_timeout on NULL");
    FAILS (cairn_framework_info_set_partition_aware (NULL, true) == -1, EINVAL,
           "set_partition_aware on NULL");
    ok (!cairn_framework_info_id (NULL) && !cairn_framework_info_name (NULL)
        && !cairn_framework_info_role (NULL), "framework info getters accept NULL");
    cairn_framework_info_destroy (&info);
    ok (info == NULL, "cairn_framework_info_destroy sets the pointer to NULL");
    cairn_framework_info_destroy (&info);

    cairn_task_t *task = cairn_task_new ("t-1");
    cairn_resources_t *res = cairn_resources_parse ("cpus:0.5;mem:64");
    const char *const argv[] = { "echo", "hi", NULL };
    ok (task && strcmp (cairn_task_id (task), "t-1") == 0
        && cairn_task_set_name (task, "a task") == 0
        && cairn_task_set_command (task, "echo hi") == 0
        && cairn_task_set_argv (task, argv) == 0
        && cairn_task_set_env (task, "FOO", "bar") == 0
        && cairn_task_set_resources (task, res) == 0
        && cairn_resources_equal (cairn_task_resources (task), res)
        && cairn_task_set_port_count (task, 2) == 0
        && cairn_task_add_uri (task, "http://example.com/x.tar.gz", true, false) == 0
        && cairn_task_set_user (task, "") == 0
        && cairn_task_set_kill_grace (task, 1.5) == 0
        && cairn_task_add_label (task, "k", "v") == 0
        && cairn_task_set_health_check (task, CAIRN_HEALTH_COMMAND, "true", 0, 1, 1, 1, 5, 3) == 0
        && cairn_task_set_health_check (task, CAIRN_HEALTH_HTTP, "/health", 0, 0, 1, 1, 0, 1) == 0
        && cairn_task_set_health_check (task, CAIRN_HEALTH_TCP, NULL, 1, 0, 1, 1, 0, 1) == 0
        && cairn_task_set_health_check (task, CAIRN_HEALTH_NONE, NULL, 0, 0, 0, 0, 0, 0) == 0,
        "task setters");
    cairn_task_t *copy = cairn_task_dup (task);
    ok (copy && strcmp (cairn_task_id (copy), "t-1") == 0
        && cairn_resources_equal (cairn_task_resources (copy), res), "cairn_task_dup");
    cairn_task_destroy (&copy);

    char longid[200];
    memset (longid, 'a', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    const char *const empty_argv[] = { NULL };
    FAILS (!cairn_task_new ("bad id"), EINVAL, "task id 'bad id'");
    FAILS (!cairn_task_new (""), EINVAL, "an empty task id");
    FAILS (!cairn_task_new (NULL), EINVAL, "a NULL task id");
    FAILS (!cairn_task_new (longid), EINVAL, "a task id of 199 characters");
    FAILS (cairn_task_set_command (task, "") == -1, EINVAL, "an empty command");
    FAILS (cairn_task_set_command (task, NULL) == -1, EINVAL, "a NULL command");
    FAILS (cairn_task_set_argv (task, empty_argv) == -1, EINVAL, "an empty argv");
    FAILS (cairn_task_set_argv (task, NULL) == -1, EINVAL, "a NULL argv");
    FAILS (cairn_task_set_env (task, "1BAD", "x") == -1, EINVAL, "env name '1BAD'");
    FAILS (cairn_task_set_env (task, "A-B", "x") == -1, EINVAL, "env name 'A-B'");
    FAILS (cairn_task_set_env (task, "A", NULL) == -1, EINVAL, "a NULL env value");
    FAILS (cairn_task_set_resources (task, NULL) == -1, EINVAL, "NULL task resources");
    FAILS (cairn_task_set_port_count (task, 5000) == -1, EINVAL, "5000 ports");
    FAILS (cairn_task_add_uri (task, "", false, false) == -1, EINVAL, "an empty URI");
    FAILS (cairn_task_set_kill_grace (task, -1) == -1, EINVAL, "a negative kill grace");
    FAILS (cairn_task_set_kill_grace (task, NAN) == -1, EINVAL, "a NaN kill grace");
    FAILS (cairn_task_add_label (task, "", "v") == -1, EINVAL, "an empty label key");
    FAILS (cairn_task_set_health_check (task, CAIRN_HEALTH_COMMAND, NULL, 0, 0, 1, 1, 0, 1) == -1,
           EINVAL, "a command health check without a command");
    FAILS (cairn_task_set_health_check (task, CAIRN_HEALTH_TCP, NULL, 0, -1, 1, 1, 0, 1) == -1,
           EINVAL, "a health check with a negative delay");
    FAILS (cairn_task_set_health_check (task, CAIRN_HEALTH_TCP, NULL, 0, 0, 0.01, 1, 0, 1) == -1,
           EINVAL, "a health check every 10 ms");
    FAILS (cairn_task_set_health_check (task, CAIRN_HEALTH_TCP, NULL, 0, 0, 1, 1, 0, 0) == -1,
           EINVAL, "a health check with max_failures 0");
    FAILS (cairn_task_set_health_check (task, (cairn_health_type_t) 42, "x", 0, 0, 1, 1, 0, 1) == -1,
           EINVAL, "health check type 42");
    FAILS (cairn_task_set_name (NULL, "n") == -1, EINVAL, "set_name on NULL");
    FAILS (cairn_task_set_user (NULL, "u") == -1, EINVAL, "set_user on NULL");
    FAILS (cairn_task_set_health_check (NULL, CAIRN_HEALTH_TCP, NULL, 0, 0, 1, 1, 0, 1) == -1,
           EINVAL, "set_health_check on NULL");
    ok (!cairn_task_dup (NULL) && !cairn_task_id (NULL) && !cairn_task_resources (NULL),
        "task getters accept NULL");
    cairn_task_destroy (&task);
    cairn_task_destroy (&task);
    cairn_resources_destroy (&res);

    /*  Offers and statuses come from the driver; their getters take NULL. */
    ok (!cairn_offer_id (NULL) && !cairn_offer_agent_id (NULL) && !cairn_offer_hostname (NULL)
        && !cairn_offer_resources (NULL) && !cairn_offer_attribute (NULL, "rack")
        && !cairn_offer_attribute_name (NULL, 0) && !cairn_offer_dup (NULL),
        "offer getters accept NULL");
    ok (!cairn_status_task_id (NULL) && !cairn_status_agent_id (NULL)
        && cairn_status_state (NULL) == CAIRN_TASK_UNKNOWN
        && cairn_status_reason (NULL) == CAIRN_REASON_NONE
        && strcmp (cairn_status_message (NULL), "") == 0 && cairn_status_exit_code (NULL) == -1
        && cairn_status_signal (NULL) == 0 && cairn_status_healthy (NULL) == -1
        && cairn_status_timestamp (NULL) == 0 && !cairn_status_uuid (NULL)
        && !cairn_status_dup (NULL), "status getters accept NULL");
    cairn_offer_t *no_offer = NULL;
    cairn_status_t *no_status = NULL;
    cairn_offer_destroy (&no_offer);
    cairn_offer_destroy (NULL);
    cairn_status_destroy (&no_status);
    cairn_status_destroy (NULL);
}

static void
s_phase_driver_args (const char *master)
{
    cairn_framework_info_t *info = cairn_framework_info_new ("api-args");
    FAILS (!cairn_driver_new (NULL, &s_callbacks, master, NULL), EINVAL, "a driver without info");
    FAILS (!cairn_driver_new (info, &s_callbacks, NULL, NULL), EINVAL, "a driver without a master");
    FAILS (!cairn_driver_new (info, &s_callbacks, "localhost", NULL), EINVAL, "master 'localhost'");
    FAILS (!cairn_driver_new (info, &s_callbacks, "localhost:0", NULL), EINVAL, "master port 0");
    FAILS (!cairn_driver_new (info, &s_callbacks, "localhost:99999", NULL), EINVAL,
           "master port 99999");
    FAILS (!cairn_driver_new (info, &s_callbacks, "bad host!:5050", NULL), EINVAL,
           "master 'bad host!:5050'");

    const char *offer = "o-1";
    cairn_task_t *task = cairn_task_new ("t-1");
    cairn_task_set_command (task, "true");
    FAILS (cairn_driver_start (NULL) == -1, EINVAL, "start(NULL)");
    FAILS (cairn_driver_stop (NULL, true) == -1, EINVAL, "stop(NULL)");
    FAILS (cairn_driver_abort (NULL) == -1, EINVAL, "abort(NULL)");
    FAILS (cairn_driver_accept (NULL, &offer, 1, &task, 1, 0) == -1, EINVAL, "accept(NULL)");
    FAILS (cairn_driver_decline (NULL, offer, 0) == -1, EINVAL, "decline(NULL)");
    FAILS (cairn_driver_kill (NULL, "t-1") == -1, EINVAL, "kill(NULL)");
    FAILS (cairn_driver_revive (NULL) == -1, EINVAL, "revive(NULL)");
    FAILS (cairn_driver_suppress (NULL) == -1, EINVAL, "suppress(NULL)");
    FAILS (cairn_driver_set_explicit_ack (NULL, true) == -1, EINVAL, "set_explicit_ack(NULL)");
    FAILS (cairn_driver_set_credentials (NULL, "m.key", "c.key_secret") == -1, EINVAL,
           "set_credentials(NULL)");
    FAILS (cairn_driver_reconcile (NULL, NULL, 0) == -1, EINVAL, "reconcile(NULL)");
    FAILS (cairn_driver_update_framework (NULL, info) == -1, EINVAL, "update_framework(NULL)");
    FAILS (cairn_driver_fd (NULL) == -1, EINVAL, "fd(NULL)");
    FAILS (cairn_driver_dispatch (NULL) == -1, EINVAL, "dispatch(NULL)");
    ok (cairn_driver_join (NULL) == CAIRN_DRIVER_NOT_STARTED && !cairn_driver_framework_id (NULL),
        "join(NULL) is NOT_STARTED, framework_id(NULL) is NULL");
    cairn_driver_destroy (NULL);

    /*  A driver that is never started.                                   */
    cairn_driver_t *d = cairn_driver_new (info, NULL, master, NULL);
    ok (d != NULL, "a driver without callbacks");
    ok (cairn_driver_join (d) == CAIRN_DRIVER_NOT_STARTED, "join before start is NOT_STARTED");
    ok (cairn_driver_status (d) == CAIRN_DRIVER_NOT_STARTED && cairn_driver_status (NULL)
        == CAIRN_DRIVER_NOT_STARTED, "status before start (and of NULL) is NOT_STARTED");
    ok (!cairn_driver_framework_id (d), "no framework id before registration");
    FAILS (cairn_driver_dispatch (d) == -1, EINVAL, "dispatch without cairn_driver_fd");
    FAILS (cairn_driver_accept (d, NULL, 1, &task, 1, 0) == -1, EINVAL, "accept without offer ids");
    FAILS (cairn_driver_accept (d, &offer, 0, &task, 1, 0) == -1, EINVAL, "accept of 0 offers");
    FAILS (cairn_driver_accept (d, &offer, 1, NULL, 1, 0) == -1, EINVAL, "accept of NULL tasks");
    const char *bad = "o 1";
    FAILS (cairn_driver_accept (d, &bad, 1, &task, 1, 0) == -1, EINVAL, "accept of offer 'o 1'");
    const char *null_id = NULL;
    FAILS (cairn_driver_accept (d, &null_id, 1, &task, 1, 0) == -1, EINVAL,
           "accept of a NULL offer id");
    cairn_task_t *null_task = NULL;
    FAILS (cairn_driver_accept (d, &offer, 1, &null_task, 1, 0) == -1, EINVAL,
           "accept of a NULL task");
    cairn_task_t *no_command = cairn_task_new ("t-2");
    FAILS (cairn_driver_accept (d, &offer, 1, &no_command, 1, 0) == -1, EINVAL,
           "accept of a task without a command");
    cairn_task_destroy (&no_command);
    FAILS (cairn_driver_accept (d, &offer, 1, &task, 1, NAN) == -1, EINVAL, "a NaN refuse time");
    FAILS (cairn_driver_decline (d, NULL, 0) == -1, EINVAL, "decline of a NULL offer id");
    FAILS (cairn_driver_decline (d, "", 0) == -1, EINVAL, "decline of an empty offer id");
    FAILS (cairn_driver_decline (d, offer, NAN) == -1, EINVAL, "decline with a NaN refuse time");
    FAILS (cairn_driver_kill (d, NULL) == -1, EINVAL, "kill of a NULL task id");
    FAILS (cairn_driver_kill (d, "no/such") == -1, EINVAL, "kill of task 'no/such'");
    FAILS (cairn_driver_reconcile (d, NULL, 2) == -1, EINVAL, "reconcile of 2 tasks in NULL");
    const char *bad_ids[] = { "ok-1", "not ok" };
    FAILS (cairn_driver_reconcile (d, bad_ids, 2) == -1, EINVAL, "reconcile of task 'not ok'");
    FAILS (cairn_driver_acknowledge (d, NULL) == -1, EINVAL, "acknowledge of a NULL status");
    FAILS (cairn_driver_update_framework (d, NULL) == -1, EINVAL, "update with NULL info");
    cairn_driver_destroy (&d);
    ok (d == NULL, "destroying a driver that never started");

    cairn_task_destroy (&task);
    cairn_framework_info_destroy (&info);
}

/*  Phase 3: many threads at once  */

#define THREADS    4
#define ITERATIONS 50

typedef struct {
    cairn_driver_t *driver;
    int index;
    int failures;               /* calls that returned -1 */
    char error[256];
} worker_t;

static void *
s_worker (void *arg)
{
    worker_t *w = arg;
    const char *long_task = "api-long";
    for (int i = 0; i < ITERATIONS; i++) {
        char offer_id[64], task_id[64], ghost[64];
        snprintf (offer_id, sizeof offer_id, "o-bogus-%d-%d", w->index, i);
        snprintf (task_id, sizeof task_id, "api-drop-%d-%d", w->index, i);
        snprintf (ghost, sizeof ghost, "api-ghost-%d-%d", w->index, i);
        const char *oid = offer_id;
        cairn_task_t *task = cairn_task_new (task_id);
        cairn_task_set_command (task, "true");
        cairn_resources_t *res = cairn_resources_parse ("cpus:0.1;mem:16");
        cairn_task_set_resources (task, res);
        int rc = 0;
        rc |= cairn_driver_accept (w->driver, &oid, 1, &task, 1, 0);
        rc |= cairn_driver_decline (w->driver, offer_id, 0);
        rc |= cairn_driver_kill (w->driver, ghost);
        rc |= cairn_driver_revive (w->driver);
        rc |= cairn_driver_reconcile (w->driver, &long_task, 1);
        if (i % 10 == 0)
            rc |= cairn_driver_suppress (w->driver);
        if (rc != 0) {
            w->failures++;
            snprintf (w->error, sizeof w->error, "%s", cairn_strerror_last ());
        }
        cairn_resources_destroy (&res);
        cairn_task_destroy (&task);
    }
    /*  The last error is per thread.                                     */
    cairn_task_state_t state;
    cairn_task_state_parse ("WORKER", &state);
    return NULL;
}

/*  Phase 7: abort from another thread  */

static void *
s_aborter (void *arg)
{
    cairn_driver_t *driver = arg;
    if (cairn_driver_abort (driver) != 0)
        return (void *) 1;
    return NULL;
}

/*  Starting a driver: registered within `seconds`.                         */
static cairn_driver_t *
s_start (ctx_t *c, const cairn_framework_info_t *info, const char *master, bool explicit_ack)
{
    cairn_driver_t *d = cairn_driver_new (info, &s_callbacks, master, c);
    if (!d) {
        diag ("cairn_driver_new: %s", cairn_strerror_last ());
        return NULL;
    }
    if (explicit_ack && cairn_driver_set_explicit_ack (d, true) != 0)
        diag ("set_explicit_ack: %s", cairn_strerror_last ());
    if (cairn_driver_start (d) != 0)
        diag ("start: %s", cairn_strerror_last ());
    return d;
}

int
main (int argc, char **argv)
{
    setvbuf (stdout, NULL, _IOLBF, 0);
    if (argc != 2 || strncmp (argv[1], "--master=", 9) != 0) {
        fprintf (stderr, "usage: library-api --master=HOST:PORT\n");
        return 2;
    }
    const char *master = argv[1] + 9;
    /*  A hang is a failure, not a stuck test.                             */
    alarm (150);

    /*  1. Offline.                                                        */
    s_phase_names ();
    s_phase_resources ();
    s_phase_info_task ();
    s_phase_driver_args (master);

    /*  2. Driver A.                                                       */
    ctx_t a;
    s_ctx_init (&a, "driver A");
    a.explicit_ack = true;
    a.hold_ack_task = "api-fail";
    cairn_framework_info_t *info = cairn_framework_info_new ("api");
    cairn_framework_info_set_role (info, "api-role");
    cairn_framework_info_set_principal (info, "api-principal");
    cairn_framework_info_set_hostname (info, "api-host");
    cairn_framework_info_set_failover_timeout (info, 30);
    cairn_framework_info_add_label (info, "phase", "1");
    cairn_driver_t *da = s_start (&a, info, master, true);
    if (!da) {
        printf ("Bail out! driver A did not start\n");
        return 1;
    }
    FAILS (cairn_driver_start (da) == -1, EALREADY, "starting driver A twice");
    FAILS (cairn_driver_set_explicit_ack (da, false) == -1, EALREADY,
           "set_explicit_ack after start");
    FAILS (cairn_driver_fd (da) == -1, EALREADY, "cairn_driver_fd after a threaded start");
    FAILS (cairn_driver_set_credentials (da, "/nonexistent/master.key",
                                         "/nonexistent/me.key_secret") == -1, EALREADY,
           "set_credentials after start");
    ok (WAIT (&a, 15, cx->registered == 1), "registered callback");
    char *fwid = cairn_driver_framework_id (da);
    pthread_mutex_lock (&a.lock);
    ok (fwid && a.framework_id && strcmp (fwid, a.framework_id) == 0,
        "cairn_driver_framework_id is the registered id (%s)", fwid ? fwid : "NULL");
    ok (a.master_http && strchr (a.master_http, ':'), "master_http is HOST:PORT (%s)",
        a.master_http ? a.master_http : "NULL");
    pthread_mutex_unlock (&a.lock);
    printf ("framework %s\n", fwid ? fwid : "-");

    cairn_offer_t *offer = s_take_offer (&a, 15);
    ok (offer != NULL, "offers callback");
    if (!offer) {
        printf ("Bail out! no offer\n");
        return 1;
    }
    const cairn_resources_t *offered = cairn_offer_resources (offer);
    char *offered_text = cairn_resources_format (offered);
    ok (cairn_offer_id (offer) && *cairn_offer_id (offer) && cairn_offer_agent_id (offer)
        && *cairn_offer_agent_id (offer), "offer %s on agent %s", cairn_offer_id (offer),
        cairn_offer_agent_id (offer));
    ok (strcmp (cairn_offer_hostname (offer), "apiagent") == 0, "offer hostname is apiagent");
    ok (cairn_resources_millicpus (offered) == 4000 && cairn_resources_mem (offered) == 2048
        && cairn_resources_port_count (offered) == 100,
        "the offer holds the agent's resources (%s)", offered_text);
    free (offered_text);
    ok (cairn_offer_attribute (offer, "rack") && strcmp (cairn_offer_attribute (offer, "rack"), "r1") == 0
        && !cairn_offer_attribute (offer, "nope") && !cairn_offer_attribute (offer, NULL),
        "cairn_offer_attribute");
    ok (cairn_offer_attribute_name (offer, 0) && strcmp (cairn_offer_attribute_name (offer, 0), "rack") == 0
        && !cairn_offer_attribute_name (offer, 1), "cairn_offer_attribute_name");
    char *agent_id = s_strdup (cairn_offer_agent_id (offer));

    /*  Held past --offer-timeout (2 s): rescinded.                        */
    ok (WAIT (&a, 10, cx->rescinded >= 1), "offer_rescinded callback (offer held past --offer-timeout)");
    pthread_mutex_lock (&a.lock);
    ok (a.nrescinded_ids >= 1 && strcmp (a.rescinded_ids[0], cairn_offer_id (offer)) == 0,
        "the rescinded offer is the one held");
    pthread_mutex_unlock (&a.lock);
    const char *stale = cairn_offer_id (offer);
    cairn_task_t *late = cairn_task_new ("api-late");
    cairn_task_set_command (late, "true");
    cairn_resources_t *small = cairn_resources_parse ("cpus:0.1;mem:16");
    cairn_task_set_resources (late, small);
    ok (cairn_driver_accept (da, &stale, 1, &late, 1, 0) == 0, "accepting a rescinded offer is queued");
    ok (WAIT (&a, 10, s_count (cx, "api-late", CAIRN_TASK_DROPPED, CAIRN_REASON_INVALID_OFFERS) == 1),
        "... and answered with TASK_DROPPED / REASON_INVALID_OFFERS");
    cairn_task_destroy (&late);
    cairn_offer_destroy (&offer);

    /*  Launch three tasks on the next offer.                              */
    offer = s_take_offer (&a, 15);
    ok (offer != NULL, "a new offer after the rescind");
    if (!offer) {
        printf ("Bail out! no offer\n");
        return 1;
    }
    cairn_task_t *tasks[3];
    tasks[0] = cairn_task_new ("api-long");
    cairn_task_set_name (tasks[0], "long");
    cairn_task_set_command (tasks[0], "exec sleep 600");
    cairn_task_set_resources (tasks[0], small);
    cairn_task_set_kill_grace (tasks[0], 1);
    cairn_task_add_label (tasks[0], "kind", "long");
    tasks[1] = cairn_task_new ("api-fail");
    cairn_task_set_command (tasks[1], "exit 3");
    cairn_task_set_resources (tasks[1], small);
    tasks[2] = cairn_task_new ("api-argv");
    const char *const check[] = {
        "sh", "-c", "test \"$FOO\" = bar && test -n \"$PORT0\" && test -n \"$PORT1\"", NULL
    };
    cairn_task_set_argv (tasks[2], check);
    cairn_task_set_env (tasks[2], "FOO", "bar");
    cairn_task_set_resources (tasks[2], small);
    cairn_task_set_port_count (tasks[2], 2);
    const char *offer_id = cairn_offer_id (offer);
    ok (cairn_driver_accept (da, &offer_id, 1, tasks, 3, 0) == 0, "accept with three tasks");
    for (int i = 0; i < 3; i++)
        cairn_task_destroy (&tasks[i]);
    cairn_offer_destroy (&offer);

    ok (WAIT (&a, 15, s_count (cx, "api-long", CAIRN_TASK_RUNNING, CAIRN_REASON_COUNT) >= 1),
        "status callback: api-long RUNNING");
    ok (WAIT (&a, 15, s_count (cx, "api-argv", CAIRN_TASK_FINISHED, CAIRN_REASON_COUNT) >= 1),
        "api-argv (argv, env FOO, two ports) FINISHED");
    ok (WAIT (&a, 15, s_count (cx, "api-fail", CAIRN_TASK_FAILED, CAIRN_REASON_COUNT) >= 1),
        "api-fail FAILED");
    pthread_mutex_lock (&a.lock);
    const cairn_status_t *s = s_first (&a, "api-fail", CAIRN_TASK_FAILED);
    double now = s_now ();
    ok (s && cairn_status_exit_code (s) == 3 && cairn_status_signal (s) == 0
        && cairn_status_reason (s) == CAIRN_REASON_COMMAND_EXECUTOR_FAILED
        && strstr (cairn_status_message (s), "3"),
        "api-fail: exit code 3, no signal, REASON_COMMAND_EXECUTOR_FAILED, '%s'",
        s ? cairn_status_message (s) : "");
    ok (s && strcmp (cairn_status_agent_id (s), agent_id) == 0 && *cairn_status_uuid (s)
        && cairn_status_healthy (s) == -1 && cairn_status_timestamp (s) > now - 60
        && cairn_status_timestamp (s) < now + 5,
        "status agent id, uuid, healthy -1 (no check), timestamp");
    s = s_first (&a, "api-long", CAIRN_TASK_RUNNING);
    ok (s && cairn_status_exit_code (s) == -1 && cairn_status_reason (s) == CAIRN_REASON_NONE,
        "a RUNNING status has exit code -1 and no reason");
    s = s_first (&a, "api-long", CAIRN_TASK_STARTING);
    ok (s != NULL, "api-long was STARTING first");
    pthread_mutex_unlock (&a.lock);

    /*  The held acknowledgement: the agent sends the update again.        */
    ok (WAIT (&a, 10, cx->held_deliveries >= 2),
        "an unacknowledged update is delivered again (explicit acknowledgements)");
    pthread_mutex_lock (&a.lock);
    cairn_status_t *held = cairn_status_dup (a.held);
    pthread_mutex_unlock (&a.lock);
    ok (cairn_driver_acknowledge (da, held) == 0, "acknowledging it from the main thread");
    cairn_status_destroy (&held);
    pthread_mutex_lock (&a.lock);
    int deliveries_at_ack = a.held_deliveries;
    pthread_mutex_unlock (&a.lock);

    /*  Decline filters, suppress, revive.                                 */
    offer = s_take_offer (&a, 10);
    ok (offer != NULL, "an offer for the rest of the agent");
    if (offer) {
        ok (cairn_driver_decline (da, cairn_offer_id (offer), 3600) == 0, "decline for an hour");
        cairn_offer_destroy (&offer);
    }
    /*  An offer held past the timeout may have been rescinded and made
        again meanwhile: decline whatever else comes for an hour too.      */
    s_decline_held (&a, da, 3600);
    s_sleep (0.5);
    s_decline_held (&a, da, 3600);
    pthread_mutex_lock (&a.lock);
    size_t seen = a.offers_seen;
    pthread_mutex_unlock (&a.lock);
    ok (!WAIT (&a, 1.5, cx->offers_seen > seen), "no offer of the declined agent for 1.5 s");
    ok (cairn_driver_revive (da) == 0, "revive");
    ok (WAIT (&a, 10, cx->offers_seen > seen), "revive clears the decline filter: a new offer");
    ok (cairn_driver_suppress (da) == 0, "suppress");
    s_sleep (0.3);
    s_decline_held (&a, da, 0);
    pthread_mutex_lock (&a.lock);
    seen = a.offers_seen;
    pthread_mutex_unlock (&a.lock);
    ok (!WAIT (&a, 1.5, cx->offers_seen > seen), "no offers for 1.5 s while suppressed");
    ok (cairn_driver_revive (da) == 0 && WAIT (&a, 10, cx->offers_seen > seen),
        "revive after suppress: offers again");

    /*  Reconciliation and a kill of an unknown task.                      */
    ok (cairn_driver_reconcile (da, NULL, 0) == 0, "reconcile all tasks");
    ok (WAIT (&a, 10, s_count (cx, "api-long", CAIRN_TASK_RUNNING, CAIRN_REASON_RECONCILIATION) >= 1),
        "reconciliation reports api-long RUNNING with REASON_RECONCILIATION");
    pthread_mutex_lock (&a.lock);
    s = s_latest (&a, "api-long");
    ok (s && strcmp (cairn_status_uuid (s), "") == 0, "a reconciliation answer has no uuid");
    pthread_mutex_unlock (&a.lock);
    const char *unknown = "api-nope";
    ok (cairn_driver_reconcile (da, &unknown, 1) == 0
        && WAIT (&a, 10, s_count (cx, "api-nope", CAIRN_TASK_UNKNOWN, CAIRN_REASON_RECONCILIATION) == 1),
        "reconciling an unknown task: TASK_UNKNOWN");
    ok (cairn_driver_kill (da, "api-ghost") == 0
        && WAIT (&a, 10, s_count (cx, "api-ghost", CAIRN_TASK_UNKNOWN, CAIRN_REASON_TASK_UNKNOWN) == 1),
        "killing an unknown task: TASK_UNKNOWN / REASON_TASK_UNKNOWN");

    cairn_framework_info_t *renamed = cairn_framework_info_new ("api-renamed");
    cairn_framework_info_set_role (renamed, "api-role");
    cairn_framework_info_set_principal (renamed, "api-principal");
    cairn_framework_info_set_failover_timeout (renamed, 30);
    cairn_framework_info_add_label (renamed, "phase", "2");
    ok (cairn_driver_update_framework (da, renamed) == 0, "update_framework");
    cairn_framework_info_destroy (&renamed);

    /*  3. Threads.                                                        */
    pthread_t threads[THREADS];
    worker_t workers[THREADS];
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (worker_t) { .driver = da, .index = i };
        pthread_create (&threads[i], NULL, s_worker, &workers[i]);
    }
    /*  The main thread answers offers meanwhile.                          */
    for (int i = 0; i < 10; i++) {
        s_decline_held (&a, da, 0);
        s_sleep (0.05);
    }
    int failures = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join (threads[i], NULL);
        failures += workers[i].failures;
        if (workers[i].failures)
            diag ("thread %d: %s", i, workers[i].error);
    }
    ok (failures == 0, "%d threads x %d rounds of accept/decline/kill/revive/reconcile/suppress: "
        "every call returned 0", THREADS, ITERATIONS);
    ok (strstr (cairn_strerror_last (), "WORKER") == NULL, "cairn_strerror_last is per thread");
    int n = THREADS * ITERATIONS;
    ok (WAIT (&a, 20, s_count (cx, "api-drop-", CAIRN_TASK_DROPPED, CAIRN_REASON_INVALID_OFFERS) == n),
        "every accept of a bogus offer answered: %d TASK_DROPPED", n);
    ok (WAIT (&a, 20, s_count (cx, "api-ghost-", CAIRN_TASK_UNKNOWN, CAIRN_REASON_TASK_UNKNOWN) == n),
        "every kill answered: %d TASK_UNKNOWN", n);
    ok (WAIT (&a, 20, s_count (cx, "api-long", CAIRN_TASK_RUNNING, CAIRN_REASON_RECONCILIATION) >= n + 1),
        "every reconcile answered: %d more api-long RUNNING", n);
    pthread_mutex_lock (&a.lock);
    int drops = s_count (&a, "api-drop-", CAIRN_TASK_DROPPED, CAIRN_REASON_INVALID_OFFERS);
    int ghosts = s_count (&a, "api-ghost-", CAIRN_TASK_UNKNOWN, CAIRN_REASON_TASK_UNKNOWN);
    pthread_mutex_unlock (&a.lock);
    if (drops != n || ghosts != n)
        diag ("dropped %d, unknown %d, want %d each", drops, ghosts, n);
    ok (cairn_driver_revive (da) == 0, "revive after the threads (one of them suppressed last)");
    s_decline_held (&a, da, 0);
    pthread_mutex_lock (&a.lock);
    ok (a.held_deliveries == deliveries_at_ack && a.ack_failures == 0,
        "the acknowledged update was not delivered again; every acknowledge returned 0");
    pthread_mutex_unlock (&a.lock);

    /*  4. An agent lost and back; a master restart.                       */
    need ("stop-agent");
    ok (WAIT (&a, 20, cx->agent_lost >= 1), "agent_lost callback while the agent is stopped");
    pthread_mutex_lock (&a.lock);
    ok (a.lost_agent && strcmp (a.lost_agent, agent_id) == 0, "agent_lost names the agent");
    ok (s_first (&a, "api-long", CAIRN_TASK_LOST) != NULL, "api-long is reported TASK_LOST");
    pthread_mutex_unlock (&a.lock);
    need ("cont-agent");
    pthread_mutex_lock (&a.lock);
    size_t mark = a.nstatuses;
    pthread_mutex_unlock (&a.lock);
    ok (WAIT (&a, 30, ({ bool found = false;
                        for (size_t i = mark; i < cx->nstatuses; i++)
                            if (strcmp (cairn_status_task_id (cx->statuses[i]), "api-long") == 0
                                && cairn_status_state (cx->statuses[i]) == CAIRN_TASK_RUNNING)
                                found = true;
                        found; })),
        "api-long is RUNNING again after the agent returned");
    s_decline_held (&a, da, 0);

    need ("restart-master");
    ok (WAIT (&a, 20, cx->disconnected >= 1), "disconnected callback after the master went away");
    ok (WAIT (&a, 20, cx->reregistered >= 1), "reregistered callback with the new master");
    char *fwid2 = cairn_driver_framework_id (da);
    ok (fwid && fwid2 && strcmp (fwid, fwid2) == 0, "the framework id is kept");
    free (fwid2);
    pthread_mutex_lock (&a.lock);
    ok (a.registered == 1, "registered ran exactly once");
    pthread_mutex_unlock (&a.lock);
    /*  The agent re-registers with the new master in its own time.        */
    bool back = false;
    for (int i = 0; i < 30 && !back; i++) {
        pthread_mutex_lock (&a.lock);
        mark = a.nstatuses;
        pthread_mutex_unlock (&a.lock);
        const char *long_task = "api-long";
        cairn_driver_reconcile (da, &long_task, 1);
        back = WAIT (&a, 1, ({ bool found = false;
                              for (size_t k = mark; k < cx->nstatuses; k++)
                                  if (strcmp (cairn_status_task_id (cx->statuses[k]), "api-long") == 0
                                      && cairn_status_state (cx->statuses[k]) == CAIRN_TASK_RUNNING)
                                      found = true;
                              found; }));
    }
    ok (back, "after the master restart, reconciliation reports api-long RUNNING");
    need ("check-framework %s", fwid ? fwid : "-");

    ok (cairn_driver_kill (da, "api-long") == 0, "kill api-long");
    ok (WAIT (&a, 15, s_count (cx, "api-long", CAIRN_TASK_KILLED, CAIRN_REASON_COUNT) >= 1),
        "api-long KILLED");
    pthread_mutex_lock (&a.lock);
    const cairn_status_t *killing = s_first (&a, "api-long", CAIRN_TASK_KILLING);
    const cairn_status_t *killed = s_first (&a, "api-long", CAIRN_TASK_KILLED);
    ok (killing && killed && cairn_status_timestamp (killing) <= cairn_status_timestamp (killed)
        && cairn_status_reason (killed) == CAIRN_REASON_KILLED_BY_SCHEDULER,
        "TASK_KILLING came before TASK_KILLED, REASON_KILLED_BY_SCHEDULER");
    pthread_mutex_unlock (&a.lock);

    ok (cairn_driver_stop (da, false) == 0, "stop without failover");
    ok (cairn_driver_join (da) == CAIRN_DRIVER_STOPPED, "join returns STOPPED");
    FAILS (cairn_driver_revive (da) == -1, ECANCELED, "revive after stop");
    FAILS (cairn_driver_kill (da, "api-long") == -1, ECANCELED, "kill after stop");
    FAILS (cairn_driver_stop (da, true) == -1, ECANCELED, "stop after stop");
    ok (cairn_driver_join (da) == CAIRN_DRIVER_STOPPED, "join again returns STOPPED");
    ok (cairn_driver_status (da) == CAIRN_DRIVER_STOPPED, "status says STOPPED without waiting");
    s_check_callbacks (&a);
    cairn_driver_destroy (&da);
    ok (da == NULL, "cairn_driver_destroy sets the pointer to NULL");

    /*  5. Re-registering the torn-down framework: error.                  */
    ctx_t b;
    s_ctx_init (&b, "driver B");
    cairn_framework_info_set_id (info, fwid);
    cairn_driver_t *db = cairn_driver_new (info, &s_callbacks, master, &b);
    ok (db && cairn_driver_run (db) == CAIRN_DRIVER_ABORTED,
        "cairn_driver_run with a torn-down framework id returns ABORTED");
    pthread_mutex_lock (&b.lock);
    ok (b.errors == 1 && b.error && strstr (b.error, "refused"), "error callback: %s",
        b.error ? b.error : "(none)");
    ok (b.registered == 0 && b.reregistered == 0, "no (re)registered callback");
    pthread_mutex_unlock (&b.lock);
    s_check_callbacks (&b);
    cairn_driver_destroy (&db);
    s_ctx_fini (&b);

    /*  6. Dispatch mode.                                                  */
    ctx_t c;
    s_ctx_init (&c, "driver C (dispatch)");
    c.dispatch_mode = true;
    c.offer_mode = OFFERS_LAUNCH_ONE;
    c.task_to_launch = "api-disp";
    c.stop_after_task = "api-disp";
    cairn_framework_info_t *info_c = cairn_framework_info_new ("api-dispatch");
    cairn_driver_t *dc = cairn_driver_new (info_c, &s_callbacks, master, &c);
    int fd = cairn_driver_fd (dc);
    ok (fd >= 0, "cairn_driver_fd before start");
    ok (cairn_driver_fd (dc) == fd, "cairn_driver_fd again gives the same descriptor");
    ok (cairn_driver_start (dc) == 0, "start in dispatch mode");
    /*  The driver registers on its own thread, but no callback runs until
        we dispatch.                                                       */
    char *id_c = NULL;
    for (int i = 0; i < 150 && !id_c; i++) {
        s_sleep (0.1);
        id_c = cairn_driver_framework_id (dc);
    }
    ok (id_c != NULL, "registered (seen through cairn_driver_framework_id)");
    free (id_c);
    s_sleep (0.3);
    pthread_mutex_lock (&c.lock);
    ok (c.callbacks == 0, "no callback ran before dispatch");
    pthread_mutex_unlock (&c.lock);
    int dispatched = 0, calls = 0;
    double deadline = s_now () + 20;
    bool ended = false;
    while (s_now () < deadline && !ended) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int rc = poll (&pfd, 1, 200);
        if (rc > 0) {
            int ran = cairn_driver_dispatch (dc);
            if (ran < 0) {
                diag ("dispatch: %s", cairn_strerror_last ());
                break;
            }
            dispatched += ran;
            calls++;
        }
        pthread_mutex_lock (&c.lock);
        ended = s_count (&c, "api-disp", CAIRN_TASK_FINISHED, CAIRN_REASON_COUNT) > 0;
        pthread_mutex_unlock (&c.lock);
    }
    ok (ended, "dispatch mode: api-disp launched and FINISHED");
    pthread_mutex_lock (&c.lock);
    ok (c.registered == 1, "dispatch mode: registered callback");
    ok (dispatched == c.callbacks && dispatched > 0,
        "cairn_driver_dispatch returned the number of callbacks it ran (%d in %d calls)",
        dispatched, calls);
    pthread_mutex_unlock (&c.lock);
    ok (cairn_driver_join (dc) == CAIRN_DRIVER_STOPPED,
        "dispatch mode: stop from a callback, join returns STOPPED");
    ok (cairn_driver_dispatch (dc) == 0, "dispatch after the end runs nothing");
    s_check_callbacks (&c);
    cairn_driver_destroy (&dc);
    cairn_framework_info_destroy (&info_c);
    s_ctx_fini (&c);

    /*  7. Abort from another thread; destroy while running.               */
    ctx_t d;
    s_ctx_init (&d, "driver D");
    cairn_framework_info_t *info_d = cairn_framework_info_new ("api-abort");
    cairn_driver_t *dd = s_start (&d, info_d, master, false);
    ok (dd && WAIT (&d, 15, cx->registered == 1), "driver D registered");
    pthread_t aborter;
    void *abort_rc = NULL;
    pthread_create (&aborter, NULL, s_aborter, dd);
    pthread_join (aborter, &abort_rc);
    ok (abort_rc == NULL, "cairn_driver_abort from another thread returns 0");
    ok (cairn_driver_join (dd) == CAIRN_DRIVER_ABORTED, "join after abort returns ABORTED");
    FAILS (cairn_driver_suppress (dd) == -1, ECANCELED, "suppress after abort");
    FAILS (cairn_driver_abort (dd) == -1, ECANCELED, "abort after abort");
    cairn_driver_destroy (&dd);
    s_check_callbacks (&d);
    s_ctx_fini (&d);
    cairn_framework_info_destroy (&info_d);

    ctx_t e;
    s_ctx_init (&e, "driver E");
    cairn_framework_info_t *info_e = cairn_framework_info_new ("api-destroy");
    cairn_driver_t *de = s_start (&e, info_e, master, false);
    ok (de && WAIT (&e, 15, cx->registered == 1), "driver E registered");
    cairn_driver_destroy (&de);
    ok (de == NULL, "destroying a running driver stops it and returns");
    s_ctx_fini (&e);
    cairn_framework_info_destroy (&info_e);

    cairn_resources_destroy (&small);
    cairn_framework_info_destroy (&info);
    free (agent_id);
    free (fwid);
    s_ctx_fini (&a);
    printf ("end %d\n", s_failures);
    return s_failures ? 1 : 0;
}
