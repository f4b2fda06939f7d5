/*  scheduler.c - cairn-batch's event loop.

    Readers on the loop: the driver's event fd (callbacks run there, in
    dispatch mode: offers and updates go to the queue), the fetcher's
    pipe, a signalfd. Timers: the queue's housekeeping (1 s) and the
    mode's tick. After each of them, scheduler_flush ends the pass:

        queue_flush   tasks placed on the pass's offers, attempts recorded
        commit        one transaction and one fsync for the whole pass
        acknowledge   the updates of the pass, now that they are on disk
        queue_send    accepts, declines, kills, reconciles, in one go

    so nothing leaves before what it depends on is durable, and a restart
    at any point either finds an attempt in the store or it never left. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "scheduler.h"
#include "transport.h"
#include "util.h"

struct _sched_t {
    scheduler_config_t config;
    cairn_driver_t *driver;
    queue_t *queue;
    fetch_t *fetch;
    zloop_t *loop;
    int driver_fd;
    int signal_fd;
    cairn_status_t **acks;              /* updates to acknowledge after the commit */
    size_t nacks, cap_acks;
    bool registered;
    bool stopped;
    bool stop_pending;                  /* scheduler_stop: at the end of the pass */
    bool stop_failover;
    bool failed;                        /* a commit failed */
    char *framework_id;
    char *master_http;
};

/*  The queue's ops: straight to the driver (queue_send runs after the
    commit).                                                               */

static void
s_accept (void *arg, const char *offer_id, cairn_task_t *const *tasks, size_t n,
          double refuse_s)
{
    scheduler_t *self = arg;
    if (cairn_driver_accept (self->driver, &offer_id, 1, tasks, n, refuse_s) < 0)
        log_error ("accept: %s", cairn_strerror_last ());
}

static void
s_decline (void *arg, const char *offer_id, double refuse_s)
{
    scheduler_t *self = arg;
    cairn_driver_decline (self->driver, offer_id, refuse_s);
}

static void
s_kill (void *arg, const char *task_id)
{
    scheduler_t *self = arg;
    cairn_driver_kill (self->driver, task_id);
}

static void
s_reconcile (void *arg, const char *const *ids, size_t n)
{
    scheduler_t *self = arg;
    cairn_driver_reconcile (self->driver, ids, n);
}

static void
s_suppress (void *arg)
{
    scheduler_t *self = arg;
    cairn_driver_suppress (self->driver);
}

static void
s_revive (void *arg)
{
    scheduler_t *self = arg;
    cairn_driver_revive (self->driver);
}

static void
s_task_done (void *arg, queue_job_t *job, const queue_task_view_t *task)
{
    scheduler_t *self = arg;
    if (self->config.task_done)
        self->config.task_done (self, job, task, self->config.arg);
}

static void
s_job_done (void *arg, queue_job_t *job)
{
    scheduler_t *self = arg;
    if (self->config.job_done)
        self->config.job_done (self, job, self->config.arg);
}

/*  The driver's callbacks, run by cairn_driver_dispatch on the loop.     */

static void
s_on_registered (cairn_driver_t *driver, const char *framework_id, const char *master_http,
                 void *arg)
{
    scheduler_t *self = arg;
    self->registered = true;
    free (self->framework_id);
    self->framework_id = xstrdup (framework_id);
    free (self->master_http);
    self->master_http = xstrdup (master_http);
    fetch_set_master (self->fetch, master_http);
    log_info ("registered as framework %s (master at %s)", framework_id, master_http);
    queue_registered (self->queue);
    if (self->config.registered)
        self->config.registered (self, framework_id, false, self->config.arg);
}

static void
s_on_reregistered (cairn_driver_t *driver, const char *master_http, void *arg)
{
    scheduler_t *self = arg;
    self->registered = true;
    char *id = cairn_driver_framework_id (driver);
    free (self->framework_id);
    self->framework_id = id ? id : xstrdup ("");
    free (self->master_http);
    self->master_http = xstrdup (master_http);
    fetch_set_master (self->fetch, master_http);
    log_info ("re-registered as framework %s (master at %s)", self->framework_id,
              master_http);
    queue_registered (self->queue);
    if (self->config.registered)
        self->config.registered (self, self->framework_id, true, self->config.arg);
}

static void
s_on_disconnected (cairn_driver_t *driver, void *arg)
{
    scheduler_t *self = arg;
    self->registered = false;
    log_warn ("lost the master; the driver reconnects");
    queue_disconnected (self->queue);
}

static void
s_on_offers (cairn_driver_t *driver, cairn_offer_t *const *offers, size_t count, void *arg)
{
    scheduler_t *self = arg;
    queue_offers (self->queue, offers, count);
}

static void
s_on_rescinded (cairn_driver_t *driver, const char *offer_id, void *arg)
{
    scheduler_t *self = arg;
    queue_rescinded (self->queue, offer_id);
}

static void
s_on_status (cairn_driver_t *driver, const cairn_status_t *status, void *arg)
{
    scheduler_t *self = arg;
    queue_status (self->queue, status, clock_wall ());
    if (*cairn_status_uuid (status)) {
        if (self->nacks == self->cap_acks) {
            self->cap_acks = self->cap_acks ? self->cap_acks * 2 : 256;
            self->acks = xrealloc (self->acks, self->cap_acks * sizeof *self->acks);
        }
        self->acks[self->nacks++] = cairn_status_dup (status);
    }
}

static void
s_on_error (cairn_driver_t *driver, const char *message, void *arg)
{
    scheduler_t *self = arg;
    log_error ("%s", message);
    self->stopped = true;
    if (self->config.error)
        self->config.error (self, message, self->config.arg);
    else
        scheduler_end (self);
}

/*  The loop  */

void
scheduler_flush (scheduler_t *self)
{
    double now = clock_wall ();
    queue_flush (self->queue, now);
    if (self->config.store && jobstore_dirty (self->config.store)
        && jobstore_commit (self->config.store) < 0) {
        /*  Nothing of this pass may go out: a restart reloads what was
            committed, and the agents resend what was not acknowledged.   */
        log_error ("cannot record the queue's changes, stopping: %s", cairn_strerror_last ());
        self->failed = true;
        scheduler_end (self);
        if (!self->stopped)
            cairn_driver_abort (self->driver);
        self->stopped = true;
        return;
    }
    if (!self->stopped)
        for (size_t i = 0; i < self->nacks; i++)
            cairn_driver_acknowledge (self->driver, self->acks[i]);
    for (size_t i = 0; i < self->nacks; i++)
        cairn_status_destroy (&self->acks[i]);
    self->nacks = 0;
    if (self->stopped)
        return;
    queue_send (self->queue);
    if (self->stop_pending) {
        cairn_driver_stop (self->driver, self->stop_failover);
        self->stopped = true;
    }
}

static int
s_on_driver (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    scheduler_t *self = arg;
    if (cairn_driver_dispatch (self->driver) < 0)
        log_error ("dispatch: %s", cairn_strerror_last ());
    scheduler_flush (self);
    return 0;
}

static int
s_on_fetch (zloop_t *loop, zsock_t *sock, void *arg)
{
    scheduler_t *self = arg;
    fetch_result_t r = { 0 };
    while (fetch_recv (self->fetch, &r) == 1) {
        if (self->config.fetched)
            self->config.fetched (self, &r, self->config.arg);
        fetch_result_clear (&r);
    }
    scheduler_flush (self);
    return 0;
}

static int
s_on_signal (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    scheduler_t *self = arg;
    int sig;
    while ((sig = util_signalfd_read (self->signal_fd)) > 0) {
        if (sig == SIGHUP)
            log_reopen ();
        else if ((sig == SIGINT || sig == SIGTERM) && self->config.signal)
            self->config.signal (self, sig, self->config.arg);
        else if (sig == SIGINT || sig == SIGTERM)
            scheduler_end (self);
    }
    scheduler_flush (self);
    return 0;
}

static int
s_on_housekeeping (zloop_t *loop, int timer_id, void *arg)
{
    scheduler_t *self = arg;
    queue_tick (self->queue, clock_wall ());
    scheduler_flush (self);
    return 0;
}

static int
s_on_tick (zloop_t *loop, int timer_id, void *arg)
{
    scheduler_t *self = arg;
    if (self->config.tick)
        self->config.tick (self, self->config.arg);
    scheduler_flush (self);
    return 0;
}

/*  zloop ends when a handler returns -1; scheduler_end asks for that through
    a timer that fires at once.                                           */
static int
s_on_end (zloop_t *loop, int timer_id, void *arg)
{
    return -1;
}

scheduler_t *
scheduler_new (const scheduler_config_t *config)
{
    scheduler_t *self = xzalloc (sizeof *self);
    self->config = *config;
    /*  Before any thread starts (the driver's, the fetcher's, ZeroMQ's):
        they inherit the blocked signals, which only the loop reads.     */
    self->signal_fd = util_signalfd ();
    if (self->signal_fd < 0) {
        free (self);
        return NULL;
    }
    const queue_ops_t ops = {
        .accept = s_accept, .decline = s_decline, .kill = s_kill, .reconcile = s_reconcile,
        .suppress = s_suppress, .revive = s_revive, .task_done = s_task_done,
        .job_done = s_job_done,
    };
    self->queue = queue_new (&ops, self, config->store);
    cairn_framework_info_t *info = cairn_framework_info_new (config->name);
    if (!info
        || cairn_framework_info_set_failover_timeout (info, config->failover_timeout_s) < 0
        || (config->framework_id && *config->framework_id
            && cairn_framework_info_set_id (info, config->framework_id) < 0))
        goto error;
    const cairn_callbacks_t callbacks = {
        .registered = s_on_registered, .reregistered = s_on_reregistered,
        .disconnected = s_on_disconnected, .offers = s_on_offers,
        .offer_rescinded = s_on_rescinded, .status = s_on_status, .error = s_on_error,
    };
    self->driver = cairn_driver_new (info, &callbacks, config->master, self);
    cairn_framework_info_destroy (&info);
    if (!self->driver)
        goto error;
    if (cairn_driver_set_explicit_ack (self->driver, true) < 0
        || (self->driver_fd = cairn_driver_fd (self->driver)) < 0)
        goto error;
    self->fetch = fetch_new ();
    self->loop = zloop_new ();
    zloop_set_nonstop (self->loop, true);
    return self;

error:
    cairn_framework_info_destroy (&info);
    scheduler_destroy (&self);
    return NULL;
}

void
scheduler_destroy (scheduler_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    scheduler_t *self = *self_p;
    cairn_driver_destroy (&self->driver);
    zloop_destroy (&self->loop);
    fetch_destroy (&self->fetch);
    queue_destroy (&self->queue);
    for (size_t i = 0; i < self->nacks; i++)
        cairn_status_destroy (&self->acks[i]);
    free (self->acks);
    if (self->signal_fd >= 0)
        close (self->signal_fd);
    free (self->framework_id);
    free (self->master_http);
    free (self);
    *self_p = NULL;
}

queue_t *
scheduler_queue (scheduler_t *self)
{
    return self->queue;
}

zloop_t *
scheduler_loop (scheduler_t *self)
{
    return self->loop;
}

fetch_t *
scheduler_fetch (scheduler_t *self)
{
    return self->fetch;
}

int
scheduler_run (scheduler_t *self)
{
    zmq_pollitem_t driver_item = { NULL, self->driver_fd, ZMQ_POLLIN, 0 };
    zmq_pollitem_t signal_item = { NULL, self->signal_fd, ZMQ_POLLIN, 0 };
    zloop_poller (self->loop, &driver_item, s_on_driver, self);
    zloop_poller (self->loop, &signal_item, s_on_signal, self);
    zloop_reader (self->loop, fetch_sock (self->fetch), s_on_fetch, self);
    zloop_timer (self->loop, 1000, 0, s_on_housekeeping, self);
    if (self->config.tick)
        zloop_timer (self->loop, (size_t) (self->config.tick_ms > 0 ? self->config.tick_ms
                                                                      : 1000), 0, s_on_tick,
                     self);
    if (cairn_driver_start (self->driver) < 0)
        return -1;
    scheduler_flush (self);         /* what the queue decided before the start */
    zloop_start (self->loop);
    if (self->stop_pending && !self->stopped)
        scheduler_flush (self);
    if (!self->stopped) {
        /*  Whatever ended the loop chose the stop it wanted before; this
            keeps the tasks running.                                       */
        cairn_driver_stop (self->driver, true);
        self->stopped = true;
    }
    cairn_driver_join (self->driver);
    return self->failed ? -1 : 0;
}

void
scheduler_end (scheduler_t *self)
{
    zloop_timer (self->loop, 1, 1, s_on_end, self);
}

void
scheduler_stop (scheduler_t *self, bool failover)
{
    /*  At the end of the pass, after what it decided (acknowledgements
        above all): hooks call this from inside the queue's handlers.     */
    if (!self->stop_pending) {
        self->stop_pending = true;
        self->stop_failover = failover;
    }
}

bool
scheduler_failed (scheduler_t *self)
{
    return self->failed;
}

bool
scheduler_registered (scheduler_t *self)
{
    return self->registered;
}

const char *
scheduler_framework_id (scheduler_t *self)
{
    return self->framework_id ? self->framework_id : "";
}

const char *
scheduler_master_http (scheduler_t *self)
{
    return self->master_http ? self->master_http : "";
}
