/*  driver.c - the scheduler driver: a framework's session with the master.

    Three parties touch a driver:
    - the I/O thread owns the DEALER socket and all session state: it
      registers (and re-registers after a master restart or a silent
      master), answers pings, caches offers (to pick ports at accept) and
      turns incoming messages into events;
    - the callback thread (threaded mode) or the caller of
      cairn_driver_dispatch (dispatch mode) runs the scheduler's callbacks
      one at a time, from the event queue;
    - any thread may call cairn_driver_*: calls become commands on a
      queue that the I/O thread drains, so they never block on the
      network and can be made from inside callbacks.
    The two queues are the only shared state, each under the driver's
    mutex, with an eventfd to wake the side that waits on it. Because
    callbacks never run on the I/O thread, a slow scheduler does not stop
    the driver from answering the master's liveness pings.               */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <czmq.h>

#include "cairn.h"
#include "error.h"
#include "ids.h"
#include "log.h"
#include "objects.h"
#include "proto.h"
#include "resources.h"
#include "transport.h"
#include "zk.h"

#define REGISTER_BACKOFF_MIN_MS 250
#define REGISTER_BACKOFF_MAX_MS 8000
#define STOP_LINGER_MS          2000
#define DEFAULT_PING_MS         5000
#define PING_MISSES             3

typedef enum {
    CMD_SEND,                   /* send msg as it is */
    CMD_ACCEPT,                 /* pick ports, then send */
    CMD_DECLINE,                /* forget the offers, then send */
    CMD_UPDATE,                 /* replace the framework info, then send */
    CMD_STOP,
    CMD_ABORT,
} cmd_kind_t;

typedef struct cmd {
    cmd_kind_t kind;
    proto_msg_t *msg;
    unsigned *port_counts;      /* CMD_ACCEPT: per task */
    bool failover;              /* CMD_STOP */
    struct cmd *next;
} cmd_t;

typedef enum {
    EV_REGISTERED,
    EV_REREGISTERED,
    EV_DISCONNECTED,
    EV_OFFERS,
    EV_RESCINDED,
    EV_STATUS,
    EV_AGENT_LOST,
    EV_ERROR,
} ev_kind_t;

typedef struct ev {
    ev_kind_t kind;
    proto_msg_t *msg;
    char *text;
    char *text2;
    struct ev *next;
} ev_t;

struct _cairn_driver_t {
    cairn_callbacks_t cb;
    void *arg;
    char *endpoint;                     /* NULL until a leader is known (zk://) */
    char *zk_url;                       /* following the leading master */
    zk_t *zk;                           /* I/O thread only */
    char identity[32];
    transport_curve_t curve;            /* CURVE credentials, or none */

    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_mutex_t dispatch_lock;      /* one dispatcher at a time */
    cmd_t *cmd_head, *cmd_tail;         /* under lock */
    ev_t *ev_head, *ev_tail;            /* under lock */
    int cmd_fd;                         /* eventfd: commands waiting */
    int ev_fd;                          /* eventfd: events waiting */
    bool dispatch_mode;
    bool explicit_ack;
    cairn_driver_status_t status;       /* under lock */
    char *framework_id;                 /* under lock */
    bool io_running, cb_running;        /* under lock */
    bool joined;                        /* under lock */
    pthread_t io_thread, cb_thread;

    /*  The I/O thread's own state.                                        */
    proto_framework_info_t info;
    zsock_t *sock;
    bool registered;
    bool ever_registered;
    bool suppressed;                    /* the scheduler asked, not revived */
    int64_t last_heard;
    int64_t ping_ms;
    int64_t next_register;
    int64_t backoff;
    zhashx_t *offers;                   /* offer id -> proto_offer_t * */
    cmd_t *held_head, *held_tail;       /* calls waiting for registration */
    /*  Status updates delivered lately (I/O thread only): uuid ->
        SEEN_DELIVERED or SEEN_ACKED, the oldest forgotten past SEEN_MAX. */
    zhashx_t *seen;
    char **seen_ring;
    size_t seen_next;
};

/*  An agent resends an update until its acknowledgement arrives, so a
    late or lost ack brings the same update (same uuid) again. A resend of
    an update the scheduler has acknowledged is answered with the ack
    again and not delivered twice; one it has not acknowledged yet is
    delivered again (with explicit acks, that is how a scheduler that
    could not act on an update gets another chance).                     */
#define SEEN_MAX 8192
#define SEEN_DELIVERED ((void *) 1)
#define SEEN_ACKED ((void *) 2)

/*  The driver whose callback runs on this thread (join or destroy from a
    callback would wait for itself), and the status update that callback
    is about: if the callback stops the driver, its acknowledgement must
    go before the stop.                                                    */
static __thread cairn_driver_t *tl_in_callback;
static __thread const cairn_status_t *tl_acking;

/*  Queues  */

static void
s_cmd_free (cmd_t **cmd_p)
{
    if (*cmd_p) {
        proto_msg_destroy (&(*cmd_p)->msg);
        free ((*cmd_p)->port_counts);
        free (*cmd_p);
        *cmd_p = NULL;
    }
}

static void
s_ev_free (ev_t **ev_p)
{
    if (*ev_p) {
        proto_msg_destroy (&(*ev_p)->msg);
        free ((*ev_p)->text);
        free ((*ev_p)->text2);
        free (*ev_p);
        *ev_p = NULL;
    }
}

static void
s_wake (int fd)
{
    uint64_t one = 1;
    ssize_t n = write (fd, &one, sizeof one);
    (void) n;                   /* a counter at its maximum is awake anyway */
}

static void
s_drain (int fd)
{
    uint64_t value;
    ssize_t n = read (fd, &value, sizeof value);
    (void) n;
}

static int
s_push_cmd (cairn_driver_t *self, cmd_t *cmd)
{
    pthread_mutex_lock (&self->lock);
    if (self->status != CAIRN_DRIVER_RUNNING && self->status != CAIRN_DRIVER_NOT_STARTED) {
        pthread_mutex_unlock (&self->lock);
        s_cmd_free (&cmd);
        return error_set (ECANCELED, "the driver is not running");
    }
    if (self->cmd_tail)
        self->cmd_tail->next = cmd;
    else
        self->cmd_head = cmd;
    self->cmd_tail = cmd;
    pthread_mutex_unlock (&self->lock);
    s_wake (self->cmd_fd);
    return 0;
}

static int
s_push_msg (cairn_driver_t *self, cmd_kind_t kind, proto_msg_t *msg)
{
    cmd_t *cmd = xzalloc (sizeof *cmd);
    cmd->kind = kind;
    cmd->msg = msg;
    return s_push_cmd (self, cmd);
}

static void
s_push_event (cairn_driver_t *self, ev_kind_t kind, proto_msg_t *msg, const char *text,
              const char *text2)
{
    ev_t *ev = xzalloc (sizeof *ev);
    ev->kind = kind;
    ev->msg = msg;
    ev->text = text ? xstrdup (text) : NULL;
    ev->text2 = text2 ? xstrdup (text2) : NULL;
    pthread_mutex_lock (&self->lock);
    if (self->ev_tail)
        self->ev_tail->next = ev;
    else
        self->ev_head = ev;
    self->ev_tail = ev;
    pthread_cond_broadcast (&self->cond);
    pthread_mutex_unlock (&self->lock);
    s_wake (self->ev_fd);
}

/*  A status update made by the driver itself (uuid "": nothing to
    acknowledge), for a task that never reached the master.               */
static void
s_local_status (cairn_driver_t *self, const char *task_id, const char *agent_id,
                cairn_task_state_t state, cairn_reason_t reason, const char *fmt, ...)
    __attribute__ ((format (printf, 6, 7)));

static void
s_local_status (cairn_driver_t *self, const char *task_id, const char *agent_id,
                cairn_task_state_t state, cairn_reason_t reason, const char *fmt, ...)
{
    proto_msg_t *msg = proto_msg_new (PROTO_STATUS_UPDATE);
    proto_status_t *st = &msg->u.status;
    free (st->task_id);
    st->task_id = xstrdup (task_id);
    free (st->agent_id);
    st->agent_id = xstrdup (agent_id ? agent_id : "");
    free (st->framework_id);
    st->framework_id = xstrdup (*self->info.id ? self->info.id : "unregistered");
    st->state = state;
    st->reason = reason;
    st->timestamp = clock_wall ();
    char text[PROTO_MAX_TEXT];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (text, sizeof text, fmt, ap);
    va_end (ap);
    free (st->message);
    st->message = xstrdup (text);
    s_push_event (self, EV_STATUS, msg, NULL, NULL);
}

static void
s_set_status (cairn_driver_t *self, cairn_driver_status_t status)
{
    pthread_mutex_lock (&self->lock);
    self->status = status;
    pthread_cond_broadcast (&self->cond);
    pthread_mutex_unlock (&self->lock);
    s_wake (self->ev_fd);
}

/*  Running callbacks  */

static void
s_run_event (cairn_driver_t *self, ev_t *ev)
{
    const cairn_callbacks_t *cb = &self->cb;
    cairn_driver_t *outer = tl_in_callback;
    tl_in_callback = self;
    switch (ev->kind) {
        case EV_REGISTERED:
            if (cb->registered)
                cb->registered (self, ev->text, ev->text2, self->arg);
            break;
        case EV_REREGISTERED:
            if (cb->reregistered)
                cb->reregistered (self, ev->text2, self->arg);
            break;
        case EV_DISCONNECTED:
            if (cb->disconnected)
                cb->disconnected (self, self->arg);
            break;
        case EV_OFFERS: {
            proto_list_t *list = &ev->msg->u.offers.offers;
            cairn_offer_t **views = xmalloc (list->count * sizeof *views);
            for (size_t i = 0; i < list->count; i++)
                views[i] = offer_view ((proto_offer_t *) list->items + i);
            if (cb->offers)
                cb->offers (self, views, list->count, self->arg);
            else {
                /*  A scheduler without an offers callback wants none.     */
                for (size_t i = 0; i < list->count; i++)
                    cairn_driver_decline (self, cairn_offer_id (views[i]), -1);
            }
            free (views);
            break;
        }
        case EV_RESCINDED:
            if (cb->offer_rescinded)
                cb->offer_rescinded (self, ev->text, self->arg);
            break;
        case EV_STATUS: {
            const cairn_status_t *status = status_view (&ev->msg->u.status);
            bool autoack = !self->explicit_ack && *ev->msg->u.status.uuid;
            tl_acking = autoack ? status : NULL;
            if (cb->status)
                cb->status (self, status, self->arg);
            /*  Unless the callback stopped the driver, which sent it.    */
            if (tl_acking)
                cairn_driver_acknowledge (self, status);
            tl_acking = NULL;
            break;
        }
        case EV_AGENT_LOST:
            if (cb->agent_lost)
                cb->agent_lost (self, ev->text, self->arg);
            break;
        case EV_ERROR:
            if (cb->error)
                cb->error (self, ev->text, self->arg);
            break;
    }
    tl_in_callback = outer;
}

/*  Takes the next event, or NULL; in threaded mode waits for one until
    the driver ends.                                                       */
static ev_t *
s_next_event (cairn_driver_t *self, bool wait)
{
    pthread_mutex_lock (&self->lock);
    while (wait && !self->ev_head && self->status == CAIRN_DRIVER_RUNNING)
        pthread_cond_wait (&self->cond, &self->lock);
    ev_t *ev = NULL;
    /*  After stop or abort no callback runs, except the error that ended
        the driver.                                                        */
    while (self->ev_head) {
        ev = self->ev_head;
        self->ev_head = ev->next;
        if (!self->ev_head)
            self->ev_tail = NULL;
        ev->next = NULL;
        if (self->status == CAIRN_DRIVER_RUNNING || ev->kind == EV_ERROR)
            break;
        s_ev_free (&ev);
    }
    pthread_mutex_unlock (&self->lock);
    return ev;
}

static void *
s_cb_thread (void *arg)
{
    cairn_driver_t *self = arg;
    ev_t *ev;
    while ((ev = s_next_event (self, true))) {
        s_run_event (self, ev);
        s_ev_free (&ev);
    }
    pthread_mutex_lock (&self->lock);
    self->cb_running = false;
    pthread_cond_broadcast (&self->cond);
    pthread_mutex_unlock (&self->lock);
    return NULL;
}

/*  The I/O thread  */

static void
s_send (cairn_driver_t *self, const proto_msg_t *msg)
{
    if (transport_send (self->sock, NULL, msg) < 0 && errno != EINVAL)
        log_warn ("driver: cannot send %s: %s", proto_type_name (msg->type), zmq_strerror (errno));
}

static void
s_connect (cairn_driver_t *self)
{
    zsock_destroy (&self->sock);
    self->sock = zsock_new (ZMQ_DEALER);
    if (!self->sock)
        oom_abort ();
    transport_tune (self->sock);
    /*  A stable identity lets the master's ROUTER hand the session over
        to a new connection after a network blip (ZMQ_ROUTER_HANDOVER).  */
    zsock_set_identity (self->sock, self->identity);
    transport_curve_apply (&self->curve, self->sock);
    zsock_set_reconnect_ivl (self->sock, 100);
    zsock_set_reconnect_ivl_max (self->sock, 2000);
    if (self->endpoint && zsock_connect (self->sock, "%s", self->endpoint) < 0)
        log_warn ("driver: cannot connect to %s", self->endpoint);
    self->registered = false;
    self->next_register = 0;
}

static void
s_send_register (cairn_driver_t *self)
{
    proto_msg_t *msg = proto_msg_new (PROTO_FRAMEWORK_REGISTER);
    proto_framework_info_fini (&msg->u.framework);
    proto_framework_info_copy (&msg->u.framework, &self->info);
    /*  A restarted master must not offer what the scheduler suppressed,
        not even once before a SUPPRESS could arrive.                      */
    msg->u.framework.suppressed = self->suppressed;
    s_send (self, msg);
    proto_msg_destroy (&msg);
}

static void
s_lost_master (cairn_driver_t *self, const char *why)
{
    log_info ("driver: %s; reconnecting", why);
    zhashx_purge (self->offers);
    bool was = self->registered;
    s_connect (self);
    self->backoff = REGISTER_BACKOFF_MIN_MS;
    if (was)
        s_push_event (self, EV_DISCONNECTED, NULL, NULL, NULL);
}

/*  Chooses ports for tasks that asked for a count, from what is left of
    the offers they are launched on.                                      */
static void
s_pick_ports (cairn_driver_t *self, cmd_t *cmd)
{
    proto_accept_t *acc = &cmd->msg->u.accept;
    cairn_resources_t *left = cairn_resources_new ();
    for (size_t i = 0; i < acc->offer_ids.count; i++) {
        proto_offer_t *offer = zhashx_lookup (self->offers, acc->offer_ids.items[i]);
        if (offer)
            cairn_resources_add (left, offer->resources);
    }
    proto_task_t *tasks = acc->tasks.items;
    for (size_t t = 0; t < acc->tasks.count; t++) {
        size_t n;
        const uint16_t *r = cairn_resources_port_ranges (tasks[t].resources, &n);
        for (size_t k = 0; k < n; k++) {
            cairn_resources_t *mine = cairn_resources_new ();
            cairn_resources_add_ports (mine, r[2 * k], r[2 * k + 1]);
            cairn_resources_subtract (left, mine);
            cairn_resources_destroy (&mine);
        }
    }
    const char *agent_id = "";
    if (acc->offer_ids.count) {
        proto_offer_t *first = zhashx_lookup (self->offers, acc->offer_ids.items[0]);
        if (first)
            agent_id = first->agent_id;
    }
    size_t kept = 0;
    for (size_t t = 0; t < acc->tasks.count; t++) {
        unsigned want = cmd->port_counts ? cmd->port_counts[t] : 0;
        if (want > 0 && cairn_resources_port_count (tasks[t].resources) == 0) {
            uint16_t *ports = xmalloc (want * sizeof *ports);
            uint64_t have = cairn_resources_port_count (left);
            bool enough = cairn_resources_take_ports (left, want, ports) == 0;
            if (enough)
                for (unsigned k = 0; k < want; k++)
                    cairn_resources_add_ports (tasks[t].resources, ports[k], ports[k]);
            free (ports);
            if (!enough) {
                /*  It cannot run: it does not go out, and the scheduler
                    hears why, as it would from the master.               */
                s_local_status (self, tasks[t].task_id, agent_id, CAIRN_TASK_ERROR,
                                CAIRN_REASON_TASK_INVALID, "task %s asks for %u ports but the "
                                "offers have only %" PRIu64 " left", tasks[t].task_id, want, have);
                proto_task_fini (&tasks[t]);
                continue;
            }
        }
        if (kept != t)
            tasks[kept] = tasks[t];
        kept++;
    }
    acc->tasks.count = kept;
    cairn_resources_destroy (&left);
}

static void s_process_cmd (cairn_driver_t *self, cmd_t *cmd, bool *stop);

static void
s_flush_held (cairn_driver_t *self)
{
    cmd_t *cmd = self->held_head;
    self->held_head = self->held_tail = NULL;
    bool stop = false;
    while (cmd) {
        cmd_t *next = cmd->next;
        cmd->next = NULL;
        s_process_cmd (self, cmd, &stop);
        cmd = next;
    }
}

static void
s_hold (cairn_driver_t *self, cmd_t *cmd)
{
    /*  Offers do not survive a lost session, so accepts and declines of
        them are moot; acknowledgements are resent by the agent. Kills,
        reconciliation, revive/suppress and updates must not be lost.    */
    int type = cmd->msg ? (int) cmd->msg->type : 0;
    if (type == PROTO_ACCEPT) {
        /*  Its tasks were never launched: say so, as Mesos does.          */
        proto_task_t *tasks = cmd->msg->u.accept.tasks.items;
        for (size_t i = 0; i < cmd->msg->u.accept.tasks.count; i++)
            s_local_status (self, tasks[i].task_id, "", CAIRN_TASK_DROPPED,
                            CAIRN_REASON_INVALID_OFFERS, "the driver was not registered with "
                            "the master: its offers are void and the task was not launched");
    }
    if (type == PROTO_ACCEPT || type == PROTO_DECLINE || type == PROTO_STATUS_ACK) {
        s_cmd_free (&cmd);
        return;
    }
    if (self->held_tail)
        self->held_tail->next = cmd;
    else
        self->held_head = cmd;
    self->held_tail = cmd;
}

static proto_msg_t *s_ack_msg (const proto_status_t *s);

/*  Whether update s is a resend of one the scheduler acknowledged: then
    the ack goes again and s is not delivered. Any other is remembered.  */
static bool
s_status_seen (cairn_driver_t *self, const proto_status_t *s)
{
    if (!*s->uuid)
        return false;           /* reconciliation answers and local updates */
    void *seen = zhashx_lookup (self->seen, s->uuid);
    if (seen == SEEN_ACKED) {
        proto_msg_t *ack = s_ack_msg (s);
        s_send (self, ack);
        proto_msg_destroy (&ack);
        return true;
    }
    if (seen)
        return false;           /* delivered, not acknowledged: again */
    char **slot = &self->seen_ring[self->seen_next];
    if (*slot) {
        zhashx_delete (self->seen, *slot);
        free (*slot);
    }
    *slot = xstrdup (s->uuid);
    self->seen_next = (self->seen_next + 1) % SEEN_MAX;
    zhashx_insert (self->seen, s->uuid, SEEN_DELIVERED);
    return false;
}

static void
s_process_cmd (cairn_driver_t *self, cmd_t *cmd, bool *stop)
{
    /*  Acknowledged, whether the ack leaves now or (unregistered) is
        dropped: a resend of the update is answered with the ack again.  */
    if (cmd->msg && cmd->msg->type == PROTO_STATUS_ACK
        && zhashx_lookup (self->seen, cmd->msg->u.status_ack.uuid))
        zhashx_update (self->seen, cmd->msg->u.status_ack.uuid, SEEN_ACKED);
    switch (cmd->kind) {
        case CMD_STOP:
            if (self->registered) {
                proto_msg_t *msg = proto_msg_new (PROTO_UNREGISTER);
                msg->u.unregister.failover = cmd->failover;
                s_send (self, msg);
                proto_msg_destroy (&msg);
                /*  Give the goodbye a chance to leave before the socket
                    closes.                                                */
                zsock_set_linger (self->sock, STOP_LINGER_MS);
            }
            *stop = true;
            s_cmd_free (&cmd);
            return;
        case CMD_ABORT:
            *stop = true;
            s_cmd_free (&cmd);
            return;
        case CMD_UPDATE:
            proto_framework_info_fini (&self->info);
            proto_framework_info_copy (&self->info, &cmd->msg->u.framework);
            free (self->info.id);
            pthread_mutex_lock (&self->lock);
            self->info.id = xstrdup (self->framework_id ? self->framework_id : "");
            pthread_mutex_unlock (&self->lock);
            free (cmd->msg->u.framework.id);
            cmd->msg->u.framework.id = xstrdup (self->info.id);
            break;
        default:
            break;
    }
    if (!self->registered) {
        s_hold (self, cmd);
        return;
    }
    if (cmd->kind == CMD_ACCEPT)
        s_pick_ports (self, cmd);
    if (cmd->msg->type == PROTO_SUPPRESS)
        self->suppressed = true;
    else if (cmd->msg->type == PROTO_REVIVE)
        self->suppressed = false;
    s_send (self, cmd->msg);
    if (cmd->kind == CMD_ACCEPT || cmd->kind == CMD_DECLINE) {
        proto_strs_t *ids = cmd->kind == CMD_ACCEPT ? &cmd->msg->u.accept.offer_ids
                                                    : &cmd->msg->u.decline.offer_ids;
        for (size_t i = 0; i < ids->count; i++)
            zhashx_delete (self->offers, ids->items[i]);
    }
    s_cmd_free (&cmd);
}

static void
s_handle (cairn_driver_t *self, proto_msg_t *msg, bool *stop)
{
    self->last_heard = clock_mono_ms ();
    switch (msg->type) {
        case PROTO_FRAMEWORK_REGISTERED: {
            proto_framework_registered_t *r = &msg->u.framework_registered;
            /*  The answer to a registration we resent before the first
                answer came: nothing new.                                  */
            if (self->registered && strcmp (r->framework_id, self->info.id) == 0)
                break;
            bool again = r->reregistered || self->ever_registered;
            self->registered = true;
            self->ever_registered = true;
            self->ping_ms = r->ping_interval_ms;
            self->backoff = REGISTER_BACKOFF_MIN_MS;
            free (self->info.id);
            self->info.id = xstrdup (r->framework_id);
            pthread_mutex_lock (&self->lock);
            free (self->framework_id);
            self->framework_id = xstrdup (r->framework_id);
            pthread_mutex_unlock (&self->lock);
            s_push_event (self, again ? EV_REREGISTERED : EV_REGISTERED, NULL, r->framework_id,
                          r->master_http);
            s_flush_held (self);
            break;
        }
        case PROTO_OFFERS: {
            if (!self->registered)
                break;
            proto_list_t *list = &msg->u.offers.offers;
            for (size_t i = 0; i < list->count; i++) {
                proto_offer_t *o = (proto_offer_t *) list->items + i;
                proto_offer_t *copy = xzalloc (sizeof *copy);
                proto_offer_copy (copy, o);
                zhashx_update (self->offers, o->offer_id, copy);
            }
            s_push_event (self, EV_OFFERS, msg, NULL, NULL);
            return;             /* the event owns msg */
        }
        case PROTO_RESCIND:
            zhashx_delete (self->offers, msg->u.rescind.offer_id);
            s_push_event (self, EV_RESCINDED, NULL, msg->u.rescind.offer_id, NULL);
            break;
        case PROTO_STATUS_UPDATE:
            if (s_status_seen (self, &msg->u.status))
                break;
            s_push_event (self, EV_STATUS, msg, NULL, NULL);
            return;
        case PROTO_AGENT_LOST:
            s_push_event (self, EV_AGENT_LOST, NULL, msg->u.agent_lost.agent_id, NULL);
            break;
        case PROTO_PING: {
            proto_msg_t *pong = proto_msg_new (PROTO_PONG);
            pong->u.ping.seq = msg->u.ping.seq;
            s_send (self, pong);
            proto_msg_destroy (&pong);
            break;
        }
        case PROTO_PONG:
            break;
        case PROTO_ERROR: {
            proto_error_t *e = &msg->u.error;
            if (strcmp (e->code, "not-leader") == 0)
                log_warn ("driver: %s; registering again later", e->message);
            else if (strcmp (e->code, "not-registered") == 0) {
                /*  A restarted master does not know us yet.               */
                if (self->registered)
                    s_push_event (self, EV_DISCONNECTED, NULL, NULL, NULL);
                self->registered = false;
                self->next_register = 0;
                zhashx_purge (self->offers);
            }
            else if (strcmp (e->code, "version") == 0 || strcmp (e->code, "refused") == 0
                     || e->in_reply_to == PROTO_FRAMEWORK_REGISTER) {
                char *text = xasprintf ("the master refused the framework: %s", e->message);
                s_push_event (self, EV_ERROR, NULL, text, NULL);
                free (text);
                pthread_mutex_lock (&self->lock);
                self->status = CAIRN_DRIVER_ABORTED;
                pthread_mutex_unlock (&self->lock);
                *stop = true;
            }
            else
                log_warn ("driver: the master says: %s (%s)", e->message, e->code);
            break;
        }
        default:
            log_warn ("driver: unexpected %s from the master", proto_type_name (msg->type));
            break;
    }
    proto_msg_destroy (&msg);
}

static void
s_offer_free (void **item)
{
    if (item && *item) {
        proto_offer_fini (*item);
        free (*item);
        *item = NULL;
    }
}

static void *
s_io_thread (void *arg)
{
    cairn_driver_t *self = arg;
    self->offers = zhashx_new ();
    self->seen = zhashx_new ();
    self->seen_ring = xzalloc (SEEN_MAX * sizeof *self->seen_ring);
    self->seen_next = 0;
    zhashx_set_destructor (self->offers, s_offer_free);
    self->ping_ms = DEFAULT_PING_MS;
    self->backoff = REGISTER_BACKOFF_MIN_MS;
    bool stop = false;
    if (self->zk_url) {
        zk_options_t zk_options = { .url = self->zk_url, .session_timeout_ms = 10000 };
        if (!(self->zk = zk_new (&zk_options))) {
            char *text = xasprintf ("cannot follow the masters in ZooKeeper: %s",
                                    cairn_strerror_last ());
            s_push_event (self, EV_ERROR, NULL, text, NULL);
            free (text);
            pthread_mutex_lock (&self->lock);
            self->status = CAIRN_DRIVER_ABORTED;
            pthread_mutex_unlock (&self->lock);
            stop = true;
        }
    }
    s_connect (self);
    while (!stop) {
        int64_t now = clock_mono_ms ();
        if (self->zk) {
            zk_tick (self->zk, now);
            if ((zk_update (self->zk, now) & ZK_LEADER_CHANGED)
                && zk_leader_moved (self->zk, &self->endpoint)) {
                char *why = xasprintf ("the leading master is at %s", self->endpoint);
                s_lost_master (self, why);
                free (why);
                self->next_register = 0;
            }
        }
        if (!self->registered && self->endpoint && now >= self->next_register) {
            s_send_register (self);
            self->next_register = now + self->backoff;
            self->backoff = self->backoff * 2 > REGISTER_BACKOFF_MAX_MS
                                ? REGISTER_BACKOFF_MAX_MS : self->backoff * 2;
        }
        if (self->registered && now - self->last_heard > PING_MISSES * self->ping_ms + 1000)
            s_lost_master (self, "the master has been silent too long");

        zmq_pollitem_t items[3] = {
            { zsock_resolve (self->sock), 0, ZMQ_POLLIN, 0 },
            { NULL, self->cmd_fd, ZMQ_POLLIN, 0 },
            { NULL, self->zk ? zk_fd (self->zk) : -1, ZMQ_POLLIN, 0 },
        };
        long timeout = 100;
        if (zmq_poll (items, self->zk ? 3 : 2, timeout) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (items[1].revents & ZMQ_POLLIN) {
            s_drain (self->cmd_fd);
            pthread_mutex_lock (&self->lock);
            cmd_t *cmd = self->cmd_head;
            self->cmd_head = self->cmd_tail = NULL;
            pthread_mutex_unlock (&self->lock);
            while (cmd) {
                cmd_t *next = cmd->next;
                cmd->next = NULL;
                if (stop)
                    s_cmd_free (&cmd);
                else
                    s_process_cmd (self, cmd, &stop);
                cmd = next;
            }
        }
        /*  Read everything that is waiting, a bounded batch at a time so
            commands are not starved.                                      */
        for (int i = 0; !stop && i < 1000; i++) {
            proto_msg_t *msg = NULL;
            proto_fault_t fault;
            if (transport_recv (self->sock, false, NULL, &msg, &fault) == 0)
                break;
            if (msg)
                s_handle (self, msg, &stop);
            else
                log_warn ("driver: dropped an invalid message from the master: %s", fault.text);
        }
    }
    zsock_destroy (&self->sock);
    zk_destroy (&self->zk);
    zhashx_destroy (&self->offers);
    zhashx_destroy (&self->seen);
    for (size_t i = 0; i < SEEN_MAX; i++)
        free (self->seen_ring[i]);
    free (self->seen_ring);
    self->seen_ring = NULL;
    while (self->held_head) {
        cmd_t *next = self->held_head->next;
        s_cmd_free (&self->held_head);
        self->held_head = next;
    }
    self->held_tail = NULL;
    pthread_mutex_lock (&self->lock);
    if (self->status == CAIRN_DRIVER_RUNNING)
        self->status = CAIRN_DRIVER_STOPPED;
    self->io_running = false;
    pthread_cond_broadcast (&self->cond);
    pthread_mutex_unlock (&self->lock);
    s_wake (self->ev_fd);
    return NULL;
}

/*  Public API  */

cairn_driver_t *
cairn_driver_new (const cairn_framework_info_t *info, const cairn_callbacks_t *callbacks,
                  const char *master, void *arg)
{
    if (!info) {
        error_set (EINVAL, "no framework info given");
        return NULL;
    }
    bool follow = zk_url_is (master);
    char *endpoint = NULL;
    if (follow ? zk_url_check (master) < 0 : !(endpoint = transport_endpoint (master)))
        return NULL;
    cairn_driver_t *self = xzalloc (sizeof *self);
    self->endpoint = endpoint;
    self->zk_url = follow ? xstrdup (master) : NULL;
    if (callbacks)
        self->cb = *callbacks;
    self->arg = arg;
    proto_framework_info_copy (&self->info, &info->info);
    char uuid[33];
    ids_uuid (uuid);
    snprintf (self->identity, sizeof self->identity, "fw-%.24s", uuid);
    pthread_mutex_init (&self->lock, NULL);
    pthread_cond_init (&self->cond, NULL);
    pthread_mutex_init (&self->dispatch_lock, NULL);
    self->cmd_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
    self->ev_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (self->cmd_fd < 0 || self->ev_fd < 0) {
        int saved = errno;
        if (self->cmd_fd >= 0)
            close (self->cmd_fd);
        if (self->ev_fd >= 0)
            close (self->ev_fd);
        proto_framework_info_fini (&self->info);
        free (self->endpoint);
    free (self->zk_url);
        free (self);
        error_set (saved, "cannot create an eventfd: %s", strerror (saved));
        return NULL;
    }
    if (*self->info.id) {
        self->framework_id = xstrdup (self->info.id);
        self->ever_registered = true;
    }
    /*  Credentials from the environment, so that any framework can use a
        master with CURVE without code of its own.                        */
    const char *key = getenv ("CAIRN_MASTER_PUBLIC_KEY");
    const char *cert = getenv ("CAIRN_CURVE_CERT");
    if (key && *key && cert && *cert && cairn_driver_set_credentials (self, key, cert) < 0) {
        int saved = errno;
        char *why = xstrdup (cairn_strerror_last ());
        cairn_driver_destroy (&self);
        error_set (saved, "$CAIRN_MASTER_PUBLIC_KEY / $CAIRN_CURVE_CERT: %s", why);
        free (why);
        return NULL;
    }
    return self;
}

void
cairn_driver_destroy (cairn_driver_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_driver_t *self = *self_p;
    /*  A driver cannot free itself under its own callback.               */
    assert (tl_in_callback != self
            && "cairn_driver_destroy called from one of the driver's callbacks");
    pthread_mutex_lock (&self->lock);
    bool running = self->status == CAIRN_DRIVER_RUNNING;
    bool started = self->status != CAIRN_DRIVER_NOT_STARTED;
    pthread_mutex_unlock (&self->lock);
    if (running)
        cairn_driver_stop (self, true);
    if (started)
        cairn_driver_join (self);
    while (self->cmd_head) {
        cmd_t *next = self->cmd_head->next;
        s_cmd_free (&self->cmd_head);
        self->cmd_head = next;
    }
    while (self->ev_head) {
        ev_t *next = self->ev_head->next;
        s_ev_free (&self->ev_head);
        self->ev_head = next;
    }
    close (self->cmd_fd);
    close (self->ev_fd);
    pthread_mutex_destroy (&self->lock);
    pthread_cond_destroy (&self->cond);
    pthread_mutex_destroy (&self->dispatch_lock);
    proto_framework_info_fini (&self->info);
    free (self->framework_id);
    free (self->endpoint);
    free (self->zk_url);
    transport_curve_fini (&self->curve);
    free (self);
    *self_p = NULL;
}

int
cairn_driver_start (cairn_driver_t *self)
{
    if (!self)
        return error_set (EINVAL, "no driver given");
    pthread_mutex_lock (&self->lock);
    if (self->status != CAIRN_DRIVER_NOT_STARTED) {
        pthread_mutex_unlock (&self->lock);
        return error_set (EALREADY, "the driver was already started");
    }
    self->status = CAIRN_DRIVER_RUNNING;
    self->io_running = true;
    self->cb_running = !self->dispatch_mode;
    pthread_mutex_unlock (&self->lock);
    /*  The driver handles its own shutdown; it must not take over the
        program's SIGINT/SIGTERM (CZMQ installs handlers by default).     */
    zsys_handler_set (NULL);
    if (pthread_create (&self->io_thread, NULL, s_io_thread, self) != 0) {
        s_set_status (self, CAIRN_DRIVER_ABORTED);
        return error_set (EAGAIN, "cannot start the driver's thread");
    }
    if (!self->dispatch_mode && pthread_create (&self->cb_thread, NULL, s_cb_thread, self) != 0) {
        cairn_driver_abort (self);
        return error_set (EAGAIN, "cannot start the driver's callback thread");
    }
    return 0;
}

/*  A stop or abort from a status callback: its automatic acknowledgement
    goes first, or the update would reach the next instance again.        */
static void
s_ack_before_stop (cairn_driver_t *self)
{
    if (tl_in_callback == self && tl_acking) {
        const cairn_status_t *status = tl_acking;
        tl_acking = NULL;
        cairn_driver_acknowledge (self, status);
    }
}

int
cairn_driver_stop (cairn_driver_t *self, bool failover)
{
    if (!self)
        return error_set (EINVAL, "no driver given");
    s_ack_before_stop (self);
    cmd_t *cmd = xzalloc (sizeof *cmd);
    cmd->kind = CMD_STOP;
    cmd->failover = failover;
    return s_push_cmd (self, cmd);
}

int
cairn_driver_abort (cairn_driver_t *self)
{
    if (!self)
        return error_set (EINVAL, "no driver given");
    s_ack_before_stop (self);
    cmd_t *cmd = xzalloc (sizeof *cmd);
    cmd->kind = CMD_ABORT;
    int rc = s_push_cmd (self, cmd);
    if (rc == 0)
        s_set_status (self, CAIRN_DRIVER_ABORTED);
    return rc;
}

cairn_driver_status_t
cairn_driver_join (cairn_driver_t *self)
{
    if (!self)
        return CAIRN_DRIVER_NOT_STARTED;
    if (tl_in_callback == self) {
        /*  The callback would wait for itself: answer at once.           */
        error_set (EDEADLK, "cairn_driver_join called from one of the driver's callbacks");
        return cairn_driver_status (self);
    }
    pthread_mutex_lock (&self->lock);
    if (self->status == CAIRN_DRIVER_NOT_STARTED) {
        pthread_mutex_unlock (&self->lock);
        return CAIRN_DRIVER_NOT_STARTED;
    }
    while (self->io_running || self->cb_running)
        pthread_cond_wait (&self->cond, &self->lock);
    bool join = !self->joined;
    self->joined = true;
    cairn_driver_status_t status = self->status;
    pthread_mutex_unlock (&self->lock);
    if (join) {
        pthread_join (self->io_thread, NULL);
        if (!self->dispatch_mode)
            pthread_join (self->cb_thread, NULL);
    }
    return status;
}

cairn_driver_status_t
cairn_driver_run (cairn_driver_t *self)
{
    if (cairn_driver_start (self) < 0)
        return CAIRN_DRIVER_ABORTED;
    return cairn_driver_join (self);
}

static double
s_refuse_ms (double refuse_seconds)
{
    if (refuse_seconds < 0)
        return -1;
    if (refuse_seconds > 10.0 * 365 * 86400)
        refuse_seconds = 10.0 * 365 * 86400;
    return refuse_seconds * 1000.0;
}

int
cairn_driver_accept (cairn_driver_t *self, const char *const *offer_ids, size_t offer_count,
                     cairn_task_t *const *tasks, size_t task_count, double refuse_seconds)
{
    if (!self || !offer_ids || offer_count == 0 || (task_count && !tasks))
        return error_set (EINVAL, "accept needs a driver and at least one offer id");
    if (offer_count > 1000 || task_count > PROTO_MAX_TASKS)
        return error_set (EINVAL, "accept takes at most 1000 offers and %d tasks", PROTO_MAX_TASKS);
    if (refuse_seconds != refuse_seconds)
        return error_set (EINVAL, "refuse_seconds is not a number");
    proto_msg_t *msg = proto_msg_new (PROTO_ACCEPT);
    cmd_t *cmd = xzalloc (sizeof *cmd);
    cmd->kind = CMD_ACCEPT;
    cmd->msg = msg;
    for (size_t i = 0; i < offer_count; i++) {
        if (!proto_id_valid (offer_ids[i])) {
            s_cmd_free (&cmd);
            return error_set (EINVAL, "'%s' is not an offer id", offer_ids[i] ? offer_ids[i] : "(null)");
        }
        proto_strs_add (&msg->u.accept.offer_ids, offer_ids[i]);
    }
    cmd->port_counts = task_count ? xzalloc (task_count * sizeof (unsigned)) : NULL;
    for (size_t i = 0; i < task_count; i++) {
        const cairn_task_t *t = tasks[i];
        if (!t) {
            s_cmd_free (&cmd);
            return error_set (EINVAL, "task %zu is NULL", i);
        }
        if (!*t->task.command && t->task.argv.count == 0) {
            s_cmd_free (&cmd);
            return error_set (EINVAL, "task '%s' has no command (cairn_task_set_command or "
                              "cairn_task_set_argv)", t->task.task_id);
        }
        proto_task_t *copy = proto_list_push (&msg->u.accept.tasks, sizeof (proto_task_t));
        proto_task_copy (copy, &t->task);
        cmd->port_counts[i] = t->port_count;
    }
    msg->u.accept.refuse_ms = (int64_t) s_refuse_ms (refuse_seconds);
    return s_push_cmd (self, cmd);
}

int
cairn_driver_decline (cairn_driver_t *self, const char *offer_id, double refuse_seconds)
{
    if (!self || !proto_id_valid (offer_id))
        return error_set (EINVAL, "decline needs a driver and an offer id");
    if (refuse_seconds != refuse_seconds)
        return error_set (EINVAL, "refuse_seconds is not a number");
    proto_msg_t *msg = proto_msg_new (PROTO_DECLINE);
    proto_strs_add (&msg->u.decline.offer_ids, offer_id);
    msg->u.decline.refuse_ms = (int64_t) s_refuse_ms (refuse_seconds);
    return s_push_msg (self, CMD_DECLINE, msg);
}

int
cairn_driver_kill (cairn_driver_t *self, const char *task_id)
{
    if (!self || !proto_id_valid (task_id))
        return error_set (EINVAL, "kill needs a driver and a task id");
    proto_msg_t *msg = proto_msg_new (PROTO_KILL);
    free (msg->u.kill.task_id);
    msg->u.kill.task_id = xstrdup (task_id);
    return s_push_msg (self, CMD_SEND, msg);
}

int
cairn_driver_revive (cairn_driver_t *self)
{
    if (!self)
        return error_set (EINVAL, "no driver given");
    return s_push_msg (self, CMD_SEND, proto_msg_new (PROTO_REVIVE));
}

int
cairn_driver_suppress (cairn_driver_t *self)
{
    if (!self)
        return error_set (EINVAL, "no driver given");
    return s_push_msg (self, CMD_SEND, proto_msg_new (PROTO_SUPPRESS));
}

int
cairn_driver_set_credentials (cairn_driver_t *self, const char *master_public_key,
                              const char *cert_file)
{
    if (!self || !master_public_key || !cert_file)
        return error_set (EINVAL, "cairn_driver_set_credentials needs a driver and two files");
    pthread_mutex_lock (&self->lock);
    bool started = self->status != CAIRN_DRIVER_NOT_STARTED;
    pthread_mutex_unlock (&self->lock);
    if (started)
        return error_set (EALREADY, "set the credentials before starting the driver");
    return transport_curve_load (&self->curve, master_public_key, cert_file);
}

int
cairn_driver_set_explicit_ack (cairn_driver_t *self, bool explicit_ack)
{
    if (!self)
        return error_set (EINVAL, "no driver given");
    pthread_mutex_lock (&self->lock);
    bool started = self->status != CAIRN_DRIVER_NOT_STARTED;
    pthread_mutex_unlock (&self->lock);
    if (started)
        return error_set (EALREADY, "set explicit acknowledgements before starting the driver");
    self->explicit_ack = explicit_ack;
    return 0;
}

/*  The acknowledgement of update s.                                      */
static proto_msg_t *
s_ack_msg (const proto_status_t *s)
{
    proto_msg_t *msg = proto_msg_new (PROTO_STATUS_ACK);
    proto_status_ack_t *ack = &msg->u.status_ack;
    free (ack->framework_id);
    free (ack->agent_id);
    free (ack->task_id);
    free (ack->uuid);
    ack->framework_id = xstrdup (s->framework_id);
    ack->agent_id = xstrdup (s->agent_id);
    ack->task_id = xstrdup (s->task_id);
    ack->uuid = xstrdup (s->uuid);
    return msg;
}

int
cairn_driver_acknowledge (cairn_driver_t *self, const cairn_status_t *status)
{
    if (!self || !status)
        return error_set (EINVAL, "acknowledge needs a driver and a status");
    const proto_status_t *s = &status->status;
    if (!*s->uuid)
        return 0;               /* reconciliation answers are not acknowledged */
    if (!*s->agent_id)
        return error_set (EINVAL, "the status has no agent id");
    return s_push_msg (self, CMD_SEND, s_ack_msg (s));
}

int
cairn_driver_reconcile (cairn_driver_t *self, const char *const *task_ids, size_t count)
{
    if (!self || (count && !task_ids))
        return error_set (EINVAL, "reconcile needs a driver");
    if (count > PROTO_MAX_ITEMS)
        return error_set (EINVAL, "reconcile takes at most %d task ids", PROTO_MAX_ITEMS);
    proto_msg_t *msg = proto_msg_new (PROTO_RECONCILE);
    for (size_t i = 0; i < count; i++) {
        if (!proto_id_valid (task_ids[i])) {
            proto_msg_destroy (&msg);
            return error_set (EINVAL, "'%s' is not a task id", task_ids[i] ? task_ids[i] : "(null)");
        }
        proto_strs_add (&msg->u.reconcile.task_ids, task_ids[i]);
    }
    return s_push_msg (self, CMD_SEND, msg);
}

int
cairn_driver_update_framework (cairn_driver_t *self, const cairn_framework_info_t *info)
{
    if (!self || !info)
        return error_set (EINVAL, "update needs a driver and framework info");
    proto_msg_t *msg = proto_msg_new (PROTO_UPDATE_FRAMEWORK);
    proto_framework_info_fini (&msg->u.framework);
    proto_framework_info_copy (&msg->u.framework, &info->info);
    return s_push_msg (self, CMD_UPDATE, msg);
}

char *
cairn_driver_framework_id (cairn_driver_t *self)
{
    if (!self)
        return NULL;
    pthread_mutex_lock (&self->lock);
    char *id = self->framework_id ? xstrdup (self->framework_id) : NULL;
    pthread_mutex_unlock (&self->lock);
    return id;
}

int
cairn_driver_fd (cairn_driver_t *self)
{
    if (!self)
        return error_set (EINVAL, "no driver given");
    pthread_mutex_lock (&self->lock);
    bool started = self->status != CAIRN_DRIVER_NOT_STARTED;
    if (!started)
        self->dispatch_mode = true;
    bool dispatching = self->dispatch_mode;
    pthread_mutex_unlock (&self->lock);
    if (!dispatching)
        return error_set (EALREADY, "choose the dispatch mode before starting the driver");
    return self->ev_fd;
}

int
cairn_driver_dispatch (cairn_driver_t *self)
{
    if (!self || !self->dispatch_mode)
        return error_set (EINVAL, "the driver is not in dispatch mode (call cairn_driver_fd first)");
    /*  Callbacks run one at a time: a second dispatcher (another thread,
        or a callback calling dispatch) is refused, not let in.           */
    if (pthread_mutex_trylock (&self->dispatch_lock) != 0)
        return error_set (EBUSY, "cairn_driver_dispatch is already running (in another thread "
                                 "or in the callback that called it)");
    s_drain (self->ev_fd);
    int ran = 0;
    ev_t *ev;
    while ((ev = s_next_event (self, false))) {
        s_run_event (self, ev);
        s_ev_free (&ev);
        ran++;
    }
    pthread_mutex_unlock (&self->dispatch_lock);
    return ran;
}

cairn_driver_status_t
cairn_driver_status (cairn_driver_t *self)
{
    if (!self)
        return CAIRN_DRIVER_NOT_STARTED;
    pthread_mutex_lock (&self->lock);
    cairn_driver_status_t status = self->status;
    /*  Stopped means what join waits for: no I/O and no callback left.
        The I/O thread ends first; a callback still running (the one that
        asks, when it called stop) keeps the driver RUNNING.              */
    if (status == CAIRN_DRIVER_STOPPED && (self->io_running || self->cb_running))
        status = CAIRN_DRIVER_RUNNING;
    pthread_mutex_unlock (&self->lock);
    return status;
}
