/*  master.c - the master's registries and message handlers.

    Registries (all O(1) by id): agents, frameworks, outstanding offers,
    and peers (routing id -> which agent or framework speaks on it). A
    task is owned by its framework's table and indexed from its agent's.

    Invariants:
    - every outstanding offer's resources are allocated to its framework
      in the allocator, and listed in the offer registry, its agent's
      and its framework's offer tables;
    - a non-terminal task's resources are allocated to its framework and
      counted in its agent's `used`; when the task ends they are
      recovered exactly once (s_task_ended);
    - a message from a peer is acted on only if the peer registered in a
      role that may send it.                                              */
#include "config.h"

#include <inttypes.h>
#include <malloc.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "allocator.h"
#include "error.h"
#include "ids.h"
#include "jsonw.h"
#include "log.h"
#include "master.h"
#include "resources.h"
#include "acl.h"

typedef struct {
    char *id;
    char *hostname;
    char *http_address;
    char *version;
    char *principal;                    /* its CURVE key's, "" without CURVE */
    proto_kv_t attributes;
    cairn_resources_t total;
    cairn_resources_t used;             /* by non-terminal tasks */
    agent_state_t state;
    route_t route;
    char route_key[512];
    int64_t registered_at;
    int64_t last_seen;
    int64_t next_ping;                  /* its own phase: see s_ping_phase */
    zhashx_t *tasks;                    /* "fw/task" -> task_t * (borrowed) */
    zhashx_t *offers;                   /* offer id -> offer_t * (borrowed) */
    bool draining;                      /* an operator drains it: no offers */
    int64_t drain_grace_ms;             /* for the kills of its tasks */
    double drain_since;                 /* wall clock */
} agent_t;

typedef struct {
    char *id;
    proto_framework_info_t info;
    route_t route;
    char route_key[512];
    bool connected;
    bool removed;                       /* torn down; kept for the record */
    int64_t registered_at;
    int64_t last_seen;
    int64_t failover_deadline;          /* when disconnected, else 0 */
    int64_t removed_at;
    zhashx_t *tasks;                    /* task id -> task_t * (owned) */
    zlistx_t *completed;                /* task_t * (owned), oldest first */
    zhashx_t *offers;                   /* offer id -> offer_t * (borrowed) */
    cairn_resources_t used;             /* by non-terminal tasks */
} framework_t;

#define TASK_HISTORY 8
#define HISTORY_MESSAGE 256

typedef struct {
    proto_task_t info;
    char *framework_id;
    char *agent_id;
    char key[2 * PROTO_MAX_ID + 2];     /* "fw/task" */
    proto_status_t status;              /* the latest */
    bool ended;                         /* resources recovered */
    bool has_usage;
    double cpu_seconds;                 /* the latest usage sample */
    int64_t mem_bytes, mem_peak_bytes, mem_limit_bytes;
    double usage_timestamp;
    /*  The last TASK_HISTORY states it went through, oldest first, each
        with its update's message (at most HISTORY_MESSAGE bytes; NULL
        when it had none): for `cairn task` and the web UI.              */
    struct {
        double timestamp;
        char *message;
        int16_t reason;
        int8_t state;
    } history[TASK_HISTORY];
    uint8_t nhistory;
} task_t;

typedef struct {
    char *id;
    char *framework_id;
    char *agent_id;
    cairn_resources_t resources;
    int64_t created;
} offer_t;

typedef enum { PEER_AGENT, PEER_FRAMEWORK } peer_kind_t;

typedef struct {
    peer_kind_t kind;
    char *id;
} peer_t;

/*  A ring of samples for the UI's charts (master_summary_text), taken by
    master_tick once per interval from the counters' deltas.             */
typedef struct {
    float allocation_ms[MASTER_SERIES_LEN];     /* mean run time */
    float launch_rate[MASTER_SERIES_LEN];       /* tasks launched per second */
    size_t head, count;                 /* next slot; samples held */
    int64_t interval_ms;
    int64_t next;                       /* when the next sample is due; 0: unset */
    int64_t last;                       /* when the previous one was taken */
    uint64_t runs, run_us, launched;    /* the counters then */
} series_t;

struct _master_t {
    master_config_t config;
    char *id;
    char *http_address;
    char *ha;                           /* high availability, as JSON (main.c) */
    int64_t started_at;
    zhashx_t *agents;                   /* id -> agent_t * (owned) */
    zhashx_t *frameworks;               /* id -> framework_t * (owned) */
    zhashx_t *offers;                   /* id -> offer_t * (owned) */
    zhashx_t *peers;                    /* route key -> peer_t * (owned) */
    zhashx_t *gone;                     /* agent id -> reason, of gone agents */
    int64_t recovery_deadline;          /* for AGENT_RECOVERING agents */
    allocator_t *allocator;
    outbox_t outbox;
    bool allocation_pending;
    uint64_t offer_seq;
    int64_t ping_seq;
    int64_t last_ping;
    uint64_t ping_phases;               /* agents given a ping phase so far */
    master_counters_t counters;
    int64_t now;                        /* of the allocation run in progress */
    zhashx_t *pending_offers;           /* framework id -> proto_msg_t * (during allocate) */
    master_event_fn *event_fn;          /* NULL: nobody listens */
    void *event_arg;
    const acl_t *acl;                   /* NULL: everything allowed */
    const char *sender;                 /* principal of the message being
                                           handled (CURVE), NULL without */
    char *cluster_name;
    series_t series;
};

static void s_write_task (jsonw_t *w, const task_t *t);
static void s_write_resources (jsonw_t *w, const char *key, const cairn_resources_t *r);
static void s_write_agent (master_t *self, jsonw_t *w, agent_t *a, int64_t now);
static void s_write_framework (master_t *self, jsonw_t *w, framework_t *f, bool summary,
                               int64_t filters);

/*  Events (the operator's feed): one JSON line each, built only while
    someone listens.                                                      */

static void
s_event_begin (jsonw_t *w, const char *type)
{
    jsonw_init (w);
    jsonw_object (w);
    jsonw_kstring (w, "type", type);
    jsonw_kdouble (w, "time", clock_wall ());
}

static void
s_event_end (master_t *self, jsonw_t *w)
{
    jsonw_end (w, '}');
    size_t size;
    char *text = jsonw_take (w, &size);
    text = xrealloc (text, size + 2);
    text[size++] = '\n';
    text[size] = '\0';
    self->event_fn (self->event_arg, text, size);
    free (text);
    jsonw_fini (w);
}

static void
s_event_task (master_t *self, const char *type, const task_t *t)
{
    if (!self->event_fn)
        return;
    jsonw_t w;
    s_event_begin (&w, type);
    jsonw_key (&w, "task");
    s_write_task (&w, t);
    s_event_end (self, &w);
}

static void
s_event_agent (master_t *self, const char *type, agent_t *a, int64_t now)
{
    if (!self->event_fn)
        return;
    jsonw_t w;
    s_event_begin (&w, type);
    jsonw_key (&w, "agent");
    s_write_agent (self, &w, a, now);
    s_event_end (self, &w);
}

static void
s_event_framework (master_t *self, const char *type, framework_t *f)
{
    if (!self->event_fn)
        return;
    jsonw_t w;
    s_event_begin (&w, type);
    jsonw_key (&w, "framework");
    s_write_framework (self, &w, f, true, -1);
    s_event_end (self, &w);
}

void
master_set_event_fn (master_t *self, master_event_fn *fn, void *arg)
{
    self->event_fn = fn;
    self->event_arg = arg;
}

/*  A task's state changed (its status holds the new one).                */
static void
s_history_add (task_t *t)
{
    if (t->nhistory == TASK_HISTORY) {
        free (t->history[0].message);
        memmove (&t->history[0], &t->history[1], (TASK_HISTORY - 1) * sizeof t->history[0]);
        t->nhistory--;
    }
    const char *message = t->status.message;
    /*  Cut at a character boundary (UTF-8 continuation bytes are 10xxxxxx). */
    size_t n = message ? strlen (message) : 0;
    if (n > HISTORY_MESSAGE) {
        n = HISTORY_MESSAGE;
        while (n > 0 && ((unsigned char) message[n] & 0xC0) == 0x80)
            n--;
    }
    t->history[t->nhistory].message = n ? xstrndup (message, n) : NULL;
    t->history[t->nhistory].timestamp = t->status.timestamp;
    t->history[t->nhistory].reason = (int16_t) t->status.reason;
    t->history[t->nhistory].state = (int8_t) t->status.state;
    t->nhistory++;
}

/*  Outbox  */

static void
s_queue (master_t *self, const route_t *route, proto_msg_t *msg)
{
    self->counters.sent[msg->type & 0xff]++;
    outbox_push (&self->outbox, route, msg);
}

outmsg_t *
master_outbox_take (master_t *self)
{
    return outbox_take (&self->outbox);
}

static void
s_reply_error (master_t *self, const route_t *to, const char *code, int in_reply_to,
               const char *fmt, ...) __attribute__ ((format (printf, 5, 6)));

static void
s_reply_error (master_t *self, const route_t *to, const char *code, int in_reply_to,
               const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    s_queue (self, to, proto_error_newv (code, in_reply_to, fmt, ap));
    va_end (ap);
}

static void
s_set_str (char **dst, const char *src)
{
    free (*dst);
    *dst = xstrdup (src ? src : "");
}

/*  Registries  */

static void
s_task_free (task_t **task_p)
{
    task_t *t = *task_p;
    if (t) {
        for (int i = 0; i < t->nhistory; i++)
            free (t->history[i].message);
        proto_task_fini (&t->info);
        proto_status_fini (&t->status);
        free (t->framework_id);
        free (t->agent_id);
        free (t);
        *task_p = NULL;
    }
}

static void
s_agent_destructor (void **item)
{
    agent_t *a = *item;
    if (a) {
        free (a->id);
        free (a->hostname);
        free (a->http_address);
        free (a->version);
        free (a->principal);
        proto_kv_fini (&a->attributes);
        resources_fini (&a->total);
        resources_fini (&a->used);
        zhashx_destroy (&a->tasks);
        zhashx_destroy (&a->offers);
        free (a);
        *item = NULL;
    }
}

static void
s_framework_destructor (void **item)
{
    framework_t *f = *item;
    if (f) {
        free (f->id);
        proto_framework_info_fini (&f->info);
        /*  The table does not own its tasks (they move to `completed`
            when they end), so free the live ones here.                   */
        for (task_t *t = zhashx_first (f->tasks); t; t = zhashx_next (f->tasks))
            s_task_free (&t);
        zhashx_destroy (&f->tasks);
        zlistx_destroy (&f->completed);
        zhashx_destroy (&f->offers);
        resources_fini (&f->used);
        free (f);
        *item = NULL;
    }
}

static void
s_offer_destructor (void **item)
{
    offer_t *o = *item;
    if (o) {
        free (o->id);
        free (o->framework_id);
        free (o->agent_id);
        resources_fini (&o->resources);
        free (o);
        *item = NULL;
    }
}

static void
s_peer_destructor (void **item)
{
    peer_t *p = *item;
    if (p) {
        free (p->id);
        free (p);
        *item = NULL;
    }
}

master_t *
master_new (const master_config_t *config)
{
    master_t *self = xzalloc (sizeof *self);
    self->config = *config;
    self->id = ids_new ("m");
    self->http_address = xstrdup (config->http_address ? config->http_address : "");
    self->config.http_address = self->http_address;
    self->cluster_name = xstrdup (config->cluster_name && *config->cluster_name
                                  ? config->cluster_name : "cairn");
    self->config.cluster_name = self->cluster_name;
    self->series.interval_ms = config->series_interval_ms > 0 ? config->series_interval_ms
                                                              : MASTER_SERIES_INTERVAL_MS;
    self->agents = zhashx_new ();
    zhashx_set_destructor (self->agents, s_agent_destructor);
    self->frameworks = zhashx_new ();
    zhashx_set_destructor (self->frameworks, s_framework_destructor);
    self->offers = zhashx_new ();
    zhashx_set_destructor (self->offers, s_offer_destructor);
    self->peers = zhashx_new ();
    zhashx_set_destructor (self->peers, s_peer_destructor);
    self->gone = zhashx_new ();
    zhashx_set_destructor (self->gone, (zhashx_destructor_fn *) zstr_free);
    /*  Filled during one allocation run and emptied at its end; holds no
        references between runs.                                           */
    self->pending_offers = zhashx_new ();
    self->allocator = allocator_new (config->min_allocatable);
    self->started_at = clock_mono_ms ();
    return self;
}

void
master_destroy (master_t **self_p)
{
    if (self_p && *self_p) {
        master_t *self = *self_p;
        outmsg_t *pending = outbox_take (&self->outbox);
        outmsg_destroy_list (&pending);
        zhashx_destroy (&self->offers);
        zhashx_destroy (&self->agents);
        zhashx_destroy (&self->frameworks);
        zhashx_destroy (&self->peers);
        zhashx_destroy (&self->gone);
        zhashx_destroy (&self->pending_offers);
        allocator_destroy (&self->allocator);
        free (self->http_address);
        free (self->ha);
        free (self->cluster_name);
        free (self->id);
        free (self);
        *self_p = NULL;
    }
}

const char *
master_id (master_t *self)
{
    return self->id;
}

master_counters_t *
master_counters (master_t *self)
{
    return &self->counters;
}

bool
master_allocation_pending (master_t *self)
{
    return self->allocation_pending;
}

int
master_set_weight (master_t *self, const char *role, double weight)
{
    return allocator_set_weight (self->allocator, role, weight);
}

static char *s_owner_route_key (master_t *self, const peer_t *peer);

/*  Forgets route_key's binding if it still belongs to (kind, id): a newer
    session may have taken the route over.                                */
static void
s_unbind_peer (master_t *self, char *route_key, peer_kind_t kind, const char *id)
{
    if (*route_key) {
        peer_t *p = zhashx_lookup (self->peers, route_key);
        if (p && p->kind == kind && strcmp (p->id, id) == 0)
            zhashx_delete (self->peers, route_key);
        route_key[0] = '\0';
    }
}

/*  Binds a route to an agent or framework. The route's previous owner
    (if another) loses it, and so does the owner's previous route.        */
static void
s_bind_peer (master_t *self, const route_t *route, char *route_key, peer_kind_t kind,
             const char *id)
{
    char key[512];
    route_hex (route, key);
    peer_t *old = zhashx_lookup (self->peers, key);
    if (old && (old->kind != kind || strcmp (old->id, id) != 0)) {
        char *old_key = s_owner_route_key (self, old);
        if (old_key)
            old_key[0] = '\0';
    }
    if (strcmp (route_key, key) != 0)
        s_unbind_peer (self, route_key, kind, id);
    peer_t *peer = xzalloc (sizeof *peer);
    peer->kind = kind;
    peer->id = xstrdup (id);
    zhashx_update (self->peers, key, peer);
    strcpy (route_key, key);
}

static peer_t *
s_peer (master_t *self, const route_t *route)
{
    char key[512];
    route_hex (route, key);
    return zhashx_lookup (self->peers, key);
}

static char *
s_owner_route_key (master_t *self, const peer_t *peer)
{
    if (peer->kind == PEER_AGENT) {
        agent_t *a = zhashx_lookup (self->agents, peer->id);
        return a ? a->route_key : NULL;
    }
    framework_t *f = zhashx_lookup (self->frameworks, peer->id);
    return f ? f->route_key : NULL;
}

/*  Status updates generated by the master (uuid "", not acknowledged).   */
static proto_msg_t *
s_status_msg (const char *framework_id, const char *task_id, const char *agent_id,
              cairn_task_state_t state, cairn_reason_t reason, const char *fmt, ...)
    __attribute__ ((format (printf, 6, 7)));

static proto_msg_t *
s_status_msg (const char *framework_id, const char *task_id, const char *agent_id,
              cairn_task_state_t state, cairn_reason_t reason, const char *fmt, ...)
{
    proto_msg_t *msg = proto_msg_new (PROTO_STATUS_UPDATE);
    proto_status_t *s = &msg->u.status;
    s_set_str (&s->framework_id, framework_id);
    s_set_str (&s->task_id, task_id);
    s_set_str (&s->agent_id, agent_id);
    s->state = state;
    s->reason = reason;
    s->timestamp = clock_wall ();
    char text[PROTO_MAX_TEXT];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (text, sizeof text, fmt, ap);
    va_end (ap);
    proto_text_clean (text);
    s_set_str (&s->message, text);
    return msg;
}

static void
s_to_framework (master_t *self, framework_t *f, proto_msg_t *msg)
{
    if (f && f->connected && !f->removed)
        s_queue (self, &f->route, msg);
    else
        proto_msg_destroy (&msg);
}

static void
s_to_agent (master_t *self, agent_t *a, proto_msg_t *msg)
{
    if (a && a->state == AGENT_ACTIVE)
        s_queue (self, &a->route, msg);
    else
        proto_msg_destroy (&msg);
}

/*  Offers  */

/*  Removes an offer and returns its resources to the pool.                */
static void
s_offer_remove (master_t *self, offer_t *o, int64_t refuse_ms, int64_t now, bool rescind)
{
    framework_t *f = zhashx_lookup (self->frameworks, o->framework_id);
    agent_t *a = zhashx_lookup (self->agents, o->agent_id);
    allocator_recover (self->allocator, o->agent_id, o->framework_id, &o->resources, refuse_ms, now);
    allocator_offer_closed (self->allocator, o->agent_id, o->framework_id);
    if (rescind && f) {
        proto_msg_t *msg = proto_msg_new (PROTO_RESCIND);
        s_set_str (&msg->u.rescind.offer_id, o->id);
        s_to_framework (self, f, msg);
    }
    if (f)
        zhashx_delete (f->offers, o->id);
    if (a)
        zhashx_delete (a->offers, o->id);
    zhashx_delete (self->offers, o->id);
    self->allocation_pending = true;
}

static void
s_rescind_all (master_t *self, zhashx_t *offers, int64_t now)
{
    /*  Collect first: removing mutates the table being walked.           */
    zlistx_t *ids = zlistx_new ();
    zlistx_set_destructor (ids, (zlistx_destructor_fn *) zstr_free);
    for (offer_t *o = zhashx_first (offers); o; o = zhashx_next (offers))
        zlistx_add_end (ids, xstrdup (o->id));
    for (char *id = zlistx_first (ids); id; id = zlistx_next (ids)) {
        offer_t *o = zhashx_lookup (self->offers, id);
        if (o)
            s_offer_remove (self, o, 0, now, true);
    }
    zlistx_destroy (&ids);
}

/*  Tasks  */

static framework_t *s_framework_new (master_t *self, const char *id,
                                     const proto_framework_info_t *info, int64_t now);

static task_t *
s_task_add (master_t *self, framework_t *f, agent_t *a, const proto_task_t *info,
            cairn_task_state_t state)
{
    task_t *t = xzalloc (sizeof *t);
    proto_task_copy (&t->info, info);
    t->framework_id = xstrdup (f->id);
    t->agent_id = xstrdup (a->id);
    snprintf (t->key, sizeof t->key, "%s/%s", f->id, info->task_id);
    proto_status_t *s = &t->status;
    proto_msg_t *tmpl = proto_msg_new (PROTO_STATUS_UPDATE);
    proto_status_copy (s, &tmpl->u.status);
    proto_msg_destroy (&tmpl);
    s_set_str (&s->task_id, info->task_id);
    s_set_str (&s->framework_id, f->id);
    s_set_str (&s->agent_id, a->id);
    s->state = state;
    s->timestamp = clock_wall ();
    zhashx_update (f->tasks, info->task_id, t);
    zhashx_update (a->tasks, t->key, t);
    cairn_resources_add (&f->used, info->resources);
    cairn_resources_add (&a->used, info->resources);
    s_history_add (t);
    s_event_task (self, "TASK_ADDED", t);
    return t;
}

/*  A task ended: its resources go back to the pool once, and it moves to
    the framework's bounded list of completed tasks.                      */
static void
s_task_ended (master_t *self, task_t *t, int64_t now)
{
    if (t->ended)
        return;
    t->ended = true;
    framework_t *f = zhashx_lookup (self->frameworks, t->framework_id);
    agent_t *a = zhashx_lookup (self->agents, t->agent_id);
    allocator_recover (self->allocator, t->agent_id, t->framework_id, t->info.resources, 0, now);
    if (a) {
        cairn_resources_subtract (&a->used, t->info.resources);
        zhashx_delete (a->tasks, t->key);
        if (a->draining && zhashx_size (a->tasks) == 0) {
            log_info ("agent %s (%s) is drained: no task left", a->id, a->hostname);
            s_event_agent (self, "AGENT_UPDATED", a, now);
        }
    }
    if (f) {
        cairn_resources_subtract (&f->used, t->info.resources);
        zhashx_delete (f->tasks, t->info.task_id);
        zlistx_add_end (f->completed, t);
        while ((int64_t) zlistx_size (f->completed) > self->config.max_completed_tasks) {
            zlistx_first (f->completed);
            zlistx_delete (f->completed, zlistx_cursor (f->completed));
        }
    }
    else
        s_task_free (&t);
    self->allocation_pending = true;
}

static void
s_task_update (master_t *self, task_t *t, const proto_status_t *status, int64_t now)
{
    bool changed = t->status.state != status->state;
    proto_status_fini (&t->status);
    proto_status_copy (&t->status, status);
    if (changed)
        s_history_add (t);
    /*  Before it may be freed (a completed task beyond the bound).       */
    s_event_task (self, "TASK_UPDATED", t);
    if (cairn_task_state_is_terminal (status->state))
        s_task_ended (self, t, now);
}

/*  Frameworks  */

static framework_t *
s_framework_new (master_t *self, const char *id, const proto_framework_info_t *info, int64_t now)
{
    framework_t *f = xzalloc (sizeof *f);
    f->id = xstrdup (id);
    proto_framework_info_copy (&f->info, info);
    s_set_str (&f->info.id, id);
    f->registered_at = now;
    f->last_seen = now;
    f->tasks = zhashx_new ();
    f->completed = zlistx_new ();
    zlistx_set_destructor (f->completed, (zlistx_destructor_fn *) s_task_free);
    f->offers = zhashx_new ();
    zhashx_insert (self->frameworks, id, f);
    allocator_add_framework (self->allocator, id, f->info.role);
    return f;
}

/*  Keeps at most max_completed_frameworks torn-down frameworks (those
    without tasks still running), dropping the oldest.                    */
static void
s_prune_frameworks (master_t *self)
{
    while (true) {
        size_t removed = 0;
        framework_t *oldest = NULL;
        for (framework_t *f = zhashx_first (self->frameworks); f;
             f = zhashx_next (self->frameworks))
            if (f->removed && zhashx_size (f->tasks) == 0) {
                removed++;
                if (!oldest || f->removed_at < oldest->removed_at)
                    oldest = f;
            }
        if ((int64_t) removed <= self->config.max_completed_frameworks || !oldest)
            return;
        zhashx_delete (self->frameworks, oldest->id);
    }
}

static void
s_kill_task (master_t *self, task_t *t, int64_t grace_ms)
{
    agent_t *a = zhashx_lookup (self->agents, t->agent_id);
    proto_msg_t *kill = proto_msg_new (PROTO_KILL_TASK);
    s_set_str (&kill->u.kill_task.framework_id, t->framework_id);
    s_set_str (&kill->u.kill_task.task_id, t->info.task_id);
    kill->u.kill_task.grace_ms = grace_ms;
    s_to_agent (self, a, kill);
}

/*  Teardown: the framework's offers go back, its tasks are killed, and
    it stays listed (removed) until its tasks have ended.                  */
static void
s_framework_teardown (master_t *self, framework_t *f, int64_t now, const char *why)
{
    log_info ("framework %s (%s) removed: %s", f->id, f->info.name, why);
    s_rescind_all (self, f->offers, now);
    for (task_t *t = zhashx_first (f->tasks); t; t = zhashx_next (f->tasks))
        s_kill_task (self, t, -1);
    s_unbind_peer (self, f->route_key, PEER_FRAMEWORK, f->id);
    f->connected = false;
    f->removed = true;
    f->removed_at = now;
    f->failover_deadline = 0;
    allocator_remove_framework (self->allocator, f->id);
    s_event_framework (self, "FRAMEWORK_REMOVED", f);
    s_prune_frameworks (self);
}

static void
s_framework_disconnected (master_t *self, framework_t *f, int64_t now, const char *why)
{
    if (!f->connected || f->removed)
        return;
    log_info ("framework %s (%s) disconnected: %s; failover timeout %" PRId64 " ms",
              f->id, f->info.name, why, f->info.failover_timeout_ms);
    f->connected = false;
    s_rescind_all (self, f->offers, now);
    allocator_activate_framework (self->allocator, f->id, false);
    s_unbind_peer (self, f->route_key, PEER_FRAMEWORK, f->id);
    f->failover_deadline = now + f->info.failover_timeout_ms;
    s_event_framework (self, "FRAMEWORK_UPDATED", f);
}

/*  Agents  */

/*  AGENT_LOST to each framework in `told` (id -> framework_t *).         */
static void
s_tell_agent_lost (master_t *self, zhashx_t *told, const char *agent_id)
{
    for (framework_t *f = zhashx_first (told); f; f = zhashx_next (told)) {
        proto_msg_t *lost = proto_msg_new (PROTO_AGENT_LOST);
        s_set_str (&lost->u.agent_lost.agent_id, agent_id);
        s_to_framework (self, f, lost);
    }
}

static void
s_agent_unreachable (master_t *self, agent_t *a, int64_t now)
{
    if (a->state != AGENT_ACTIVE)
        return;
    log_warn ("agent %s (%s) is unreachable: no answer for %" PRId64 " ms", a->id, a->hostname,
              now - a->last_seen);
    a->state = AGENT_UNREACHABLE;
    allocator_activate_agent (self->allocator, a->id, false);
    s_rescind_all (self, a->offers, now);
    s_unbind_peer (self, a->route_key, PEER_AGENT, a->id);
    /*  Tell frameworks; the tasks stay on the books so that they can come
        back RUNNING when the agent returns.                              */
    zhashx_t *told = zhashx_new ();
    for (task_t *t = zhashx_first (a->tasks); t; t = zhashx_next (a->tasks)) {
        framework_t *f = zhashx_lookup (self->frameworks, t->framework_id);
        if (!f)
            continue;
        cairn_task_state_t state = f->info.partition_aware ? CAIRN_TASK_UNREACHABLE
                                                           : CAIRN_TASK_LOST;
        t->status.state = state;
        t->status.reason = CAIRN_REASON_AGENT_DISCONNECTED;
        s_set_str (&t->status.message, "the agent stopped answering the master");
        t->status.timestamp = clock_wall ();
        s_history_add (t);
        s_event_task (self, "TASK_UPDATED", t);
        s_to_framework (self, f, s_status_msg (f->id, t->info.task_id, a->id, state,
                                               CAIRN_REASON_AGENT_DISCONNECTED,
                                               "agent %s (%s) stopped answering the master",
                                               a->id, a->hostname));
        zhashx_update (told, f->id, f);
    }
    /*  Then, once every task's update is out, the agent itself.          */
    s_tell_agent_lost (self, told, a->id);
    zhashx_destroy (&told);
    s_event_agent (self, "AGENT_UPDATED", a, now);
}

/*  Handlers  */

static int64_t s_ping_phase (master_t *self);

static void
s_handle_agent_register (master_t *self, const route_t *from, proto_agent_register_t *r,
                         int64_t now)
{
    agent_t *a = NULL;
    bool known = false;
    char why[PROTO_MAX_TEXT];
    if (!acl_allows (self->acl, ACL_REGISTER_AGENTS, self->sender, NULL, why, sizeof why)) {
        log_warn ("agent %s refused: %s", r->hostname, why);
        s_reply_error (self, from, "unauthorized", PROTO_AGENT_REGISTER, "%s", why);
        self->counters.refused++;
        return;
    }
    const char *gone_reason = *r->agent_id ? zhashx_lookup (self->gone, r->agent_id) : NULL;
    if (gone_reason) {
        log_warn ("agent %s (%s) is gone (%s): telling it to shut down", r->agent_id,
                  r->hostname, gone_reason);
        proto_msg_t *msg = proto_msg_new (PROTO_AGENT_SHUTDOWN);
        free (msg->u.agent_shutdown.message);
        msg->u.agent_shutdown.message = xasprintf ("agent %s was marked gone (%s): shut down "
                                                   "its tasks and start it with a fresh work "
                                                   "directory to rejoin", r->agent_id,
                                                   gone_reason);
        s_queue (self, from, msg);
        return;
    }
    if (*r->agent_id)
        a = zhashx_lookup (self->agents, r->agent_id);
    else {
        /*  A first registration resent on the same connection (the agent
            retries until it hears back) is the same agent.               */
        peer_t *peer = s_peer (self, from);
        if (peer && peer->kind == PEER_AGENT)
            a = zhashx_lookup (self->agents, peer->id);
    }
    known = a != NULL;
    if (!a) {
        a = xzalloc (sizeof *a);
        a->id = *r->agent_id ? xstrdup (r->agent_id) : ids_new ("a");
        a->tasks = zhashx_new ();
        a->offers = zhashx_new ();
        a->registered_at = now;
        zhashx_insert (self->agents, a->id, a);
    }
    else {
        /*  Offers made before the agent went away (or restarted) may no
            longer match what it has.                                     */
        s_rescind_all (self, a->offers, now);
    }
    s_set_str (&a->hostname, r->hostname);
    s_set_str (&a->http_address, r->http_address);
    s_set_str (&a->version, r->version);
    s_set_str (&a->principal, self->sender ? self->sender : "");
    if (self->config.registry
        && registry_admit_agent (self->config.registry, a->id, a->hostname, a->http_address,
                                 clock_wall ()) < 0)
        log_error ("%s", cairn_strerror_last ());
    proto_kv_fini (&a->attributes);
    proto_kv_copy (&a->attributes, &r->attributes);
    resources_copy (&a->total, r->resources);
    a->state = AGENT_ACTIVE;
    a->last_seen = now;
    a->next_ping = now + s_ping_phase (self);
    a->route = *from;
    s_bind_peer (self, from, a->route_key, PEER_AGENT, a->id);
    if (known) {
        allocator_update_agent (self->allocator, a->id, &a->total);
        allocator_activate_agent (self->allocator, a->id, !a->draining);
    }
    else
        allocator_add_agent (self->allocator, a->id, &a->total);

    /*  Reconcile the tasks the agent reports with what we know.          */
    zhashx_t *reported = zhashx_new ();
    proto_agent_task_t *tasks = r->tasks.items;
    for (size_t i = 0; i < r->tasks.count; i++) {
        proto_agent_task_t *rt = &tasks[i];
        framework_t *f = zhashx_lookup (self->frameworks, rt->framework_id);
        if (!f) {
            /*  A framework we have not heard from (this master restarted):
                keep its tasks until it re-registers.                     */
            proto_framework_info_t info;
            proto_msg_t *tmpl = proto_msg_new (PROTO_FRAMEWORK_REGISTER);
            proto_framework_info_copy (&info, &tmpl->u.framework);
            proto_msg_destroy (&tmpl);
            s_set_str (&info.name, "(recovered)");
            f = s_framework_new (self, rt->framework_id, &info, now);
            proto_framework_info_fini (&info);
            f->failover_deadline = 0;
            allocator_activate_framework (self->allocator, f->id, false);
        }
        task_t *t = zhashx_lookup (f->tasks, rt->task.task_id);
        if (t && strcmp (t->agent_id, a->id) != 0)
            continue;           /* the same id on another agent: keep ours */
        /*  A task reported in a terminal state still has its last update
            on the way (the agent reports only tasks with unacknowledged
            updates): that update records how it ended and tells the
            framework, once. Until then the task stays as it was.         */
        bool terminal = cairn_task_state_is_terminal (rt->state);
        if (!t) {
            t = s_task_add (self, f, a, &rt->task, rt->state);
            allocator_add_used (self->allocator, a->id, f->id, t->info.resources);
        }
        zhashx_insert (reported, t->key, t);
        if (f->removed && !terminal) {
            /*  Torn down while the agent was away: the kill sent then
                could not be delivered.                                    */
            proto_msg_t *kill = proto_msg_new (PROTO_KILL_TASK);
            s_set_str (&kill->u.kill_task.framework_id, f->id);
            s_set_str (&kill->u.kill_task.task_id, t->info.task_id);
            s_queue (self, from, kill);
        }
        if (t->status.state != rt->state && !terminal) {
            proto_msg_t *msg = s_status_msg (f->id, t->info.task_id, a->id, rt->state,
                                             CAIRN_REASON_RECONCILIATION,
                                             "agent %s re-registered and reports the task",
                                             a->id);
            s_task_update (self, t, &msg->u.status, now);
            s_to_framework (self, f, msg);
        }
    }
    /*  Tasks the agent no longer knows are gone.                          */
    if (known) {
        zlistx_t *gone = zlistx_new ();
        for (task_t *t = zhashx_first (a->tasks); t; t = zhashx_next (a->tasks))
            if (!zhashx_lookup (reported, t->key))
                zlistx_add_end (gone, t);
        for (task_t *t = zlistx_first (gone); t; t = zlistx_next (gone)) {
            framework_t *f = zhashx_lookup (self->frameworks, t->framework_id);
            proto_msg_t *msg = s_status_msg (t->framework_id, t->info.task_id, a->id,
                                             CAIRN_TASK_LOST, CAIRN_REASON_AGENT_RESTARTED,
                                             "agent %s re-registered without this task", a->id);
            s_task_update (self, t, &msg->u.status, now);
            s_to_framework (self, f, msg);
        }
        zlistx_destroy (&gone);
    }
    zhashx_destroy (&reported);

    log_info ("agent %s (%s at %s) %s with %s%s", a->id, a->hostname, a->http_address,
              known ? "re-registered" : "registered",
              r->resources ? "its resources" : "no resources", a->draining ? " (draining)" : "");
    /*  A draining agent's tasks are killed again: the kills sent before it
        went away (or before this master started) may never have arrived. */
    if (a->draining)
        for (task_t *t = zhashx_first (a->tasks); t; t = zhashx_next (a->tasks))
            if (!cairn_task_state_is_terminal (t->status.state)) {
                proto_msg_t *kill = proto_msg_new (PROTO_KILL_TASK);
                s_set_str (&kill->u.kill_task.framework_id, t->framework_id);
                s_set_str (&kill->u.kill_task.task_id, t->info.task_id);
                kill->u.kill_task.grace_ms = a->drain_grace_ms;
                s_queue (self, from, kill);
            }
    s_event_agent (self, known ? "AGENT_UPDATED" : "AGENT_ADDED", a, now);
    proto_msg_t *reply = proto_msg_new (PROTO_AGENT_REGISTERED);
    s_set_str (&reply->u.agent_registered.agent_id, a->id);
    s_set_str (&reply->u.agent_registered.master_id, self->id);
    reply->u.agent_registered.ping_interval_ms = self->config.ping_interval_ms;
    s_queue (self, from, reply);
    self->allocation_pending = true;
}

/*  Authentication and authorization of a framework's (re)registration
    or update: with CURVE its principal is its key's (a different one
    declared is refused); the ACL must let that principal use the role.
    True after replying with an error.                                    */
static bool
s_framework_refused (master_t *self, const route_t *from, int type, proto_framework_info_t *info)
{
    char why[PROTO_MAX_TEXT];
    if (self->sender) {
        if (*info->principal && strcmp (info->principal, self->sender) != 0) {
            snprintf (why, sizeof why, "the framework declares principal '%s' but its key "
                      "belongs to principal '%s'", info->principal, self->sender);
            goto refused;
        }
        s_set_str (&info->principal, self->sender);
    }
    if (acl_allows (self->acl, ACL_REGISTER_FRAMEWORKS,
                    *info->principal ? info->principal : NULL, info->role, why, sizeof why))
        return false;
refused:
    log_warn ("framework %s (%s) refused: %s", *info->id ? info->id : "(new)", info->name, why);
    s_reply_error (self, from, "unauthorized", type, "%s", why);
    self->counters.refused++;
    return true;
}

static void
s_handle_framework_register (master_t *self, const route_t *from, proto_framework_info_t *info,
                             int64_t now)
{
    framework_t *f = NULL;
    bool again = false;
    if (s_framework_refused (self, from, PROTO_FRAMEWORK_REGISTER, info))
        return;
    if (!*info->id) {
        /*  A first registration resent on the same connection.           */
        peer_t *peer = s_peer (self, from);
        if (peer && peer->kind == PEER_FRAMEWORK)
            f = zhashx_lookup (self->frameworks, peer->id);
    }
    else {
        f = zhashx_lookup (self->frameworks, info->id);
        if (f && f->removed) {
            s_reply_error (self, from, "refused", PROTO_FRAMEWORK_REGISTER,
                           "framework %s was torn down; register without an id to start anew",
                           info->id);
            return;
        }
        again = true;
    }
    if (f) {
        /*  Re-registration: the session moves to this route.              */
        proto_framework_info_fini (&f->info);
        proto_framework_info_copy (&f->info, info);
        s_set_str (&f->info.id, f->id);     /* a resent first registration has "" */
        allocator_add_framework (self->allocator, f->id, f->info.role);
    }
    else {
        char *id = *info->id ? xstrdup (info->id) : ids_new ("f");
        f = s_framework_new (self, id, info, now);
        free (id);
    }
    f->connected = true;
    f->failover_deadline = 0;
    f->last_seen = now;
    f->route = *from;
    s_bind_peer (self, from, f->route_key, PEER_FRAMEWORK, f->id);
    allocator_suppress (self->allocator, f->id, info->suppressed);
    allocator_activate_framework (self->allocator, f->id, true);
    log_info ("framework %s (%s, role %s) %s", f->id, f->info.name, f->info.role,
              again ? "re-registered" : "registered");
    s_event_framework (self, again ? "FRAMEWORK_UPDATED" : "FRAMEWORK_ADDED", f);
    proto_msg_t *reply = proto_msg_new (PROTO_FRAMEWORK_REGISTERED);
    proto_framework_registered_t *r = &reply->u.framework_registered;
    s_set_str (&r->framework_id, f->id);
    s_set_str (&r->master_id, self->id);
    s_set_str (&r->master_http, self->http_address);
    r->reregistered = again;
    r->ping_interval_ms = self->config.ping_interval_ms;
    s_queue (self, from, reply);
    self->allocation_pending = true;
}

static void
s_handle_status_update (master_t *self, agent_t *a, const route_t *from, proto_msg_t *msg,
                        int64_t now)
{
    proto_status_t *s = &msg->u.status;
    if (strcmp (s->agent_id, a->id) != 0) {
        s_reply_error (self, from, "bad-field", PROTO_STATUS_UPDATE,
                       "STATUS_UPDATE: agent_id '%s' is not this agent (%s)", s->agent_id, a->id);
        proto_msg_destroy (&msg);
        return;
    }
    framework_t *f = zhashx_lookup (self->frameworks, s->framework_id);
    task_t *t = f ? zhashx_lookup (f->tasks, s->task_id) : NULL;
    if (t && strcmp (t->agent_id, a->id) != 0)
        t = NULL;
    if (t)
        s_task_update (self, t, s, now);
    if (!f || f->removed) {
        /*  Nobody will acknowledge this: do it ourselves, and stop a task
            whose framework is gone.                                        */
        if (*s->uuid) {
            proto_msg_t *ack = proto_msg_new (PROTO_STATUS_ACK);
            s_set_str (&ack->u.status_ack.framework_id, s->framework_id);
            s_set_str (&ack->u.status_ack.agent_id, a->id);
            s_set_str (&ack->u.status_ack.task_id, s->task_id);
            s_set_str (&ack->u.status_ack.uuid, s->uuid);
            s_queue (self, from, ack);
        }
        if (!cairn_task_state_is_terminal (s->state)) {
            proto_msg_t *kill = proto_msg_new (PROTO_KILL_TASK);
            s_set_str (&kill->u.kill_task.framework_id, s->framework_id);
            s_set_str (&kill->u.kill_task.task_id, s->task_id);
            s_queue (self, from, kill);
        }
        proto_msg_destroy (&msg);
        if (f)
            s_prune_frameworks (self);
        return;
    }
    s_to_framework (self, f, msg);
}

/*  The latest usage sample of each task the agent runs; tasks the master
    does not know on this agent are ignored.                              */
static void
s_handle_usage (master_t *self, agent_t *a, proto_usage_t *usage)
{
    proto_task_usage_t *u = usage->tasks.items;
    for (size_t i = 0; i < usage->tasks.count; i++) {
        char key[2 * PROTO_MAX_ID + 2];
        snprintf (key, sizeof key, "%s/%s", u[i].framework_id, u[i].task_id);
        task_t *t = zhashx_lookup (a->tasks, key);
        if (!t)
            continue;
        t->has_usage = true;
        t->cpu_seconds = u[i].cpu_seconds;
        t->mem_bytes = u[i].mem_bytes;
        t->mem_peak_bytes = u[i].mem_peak_bytes;
        t->mem_limit_bytes = u[i].mem_limit_bytes;
        t->usage_timestamp = u[i].timestamp;
    }
}

static void
s_handle_status_ack (master_t *self, framework_t *f, proto_msg_t *msg)
{
    proto_status_ack_t *ack = &msg->u.status_ack;
    if (strcmp (ack->framework_id, f->id) != 0) {
        s_reply_error (self, &f->route, "bad-field", PROTO_STATUS_ACK,
                       "STATUS_ACK: framework_id '%s' is not this framework (%s)",
                       ack->framework_id, f->id);
        proto_msg_destroy (&msg);
        return;
    }
    agent_t *a = zhashx_lookup (self->agents, ack->agent_id);
    s_to_agent (self, a, msg);
}

/*  Launch validation: everything that makes a task impossible to run is
    answered with a status update the scheduler can act on, and the
    offered resources go back to the pool.                                 */
/*  Whether a string of the task is over --max-string-length; why says
    which.                                                                */
static bool
s_task_too_long (master_t *self, const proto_task_t *t, char *why, size_t size)
{
    int64_t max = self->config.max_string_length;
    if (max <= 0)
        return false;
    const char *what = NULL;
    size_t len = 0;
    if (t->command && (len = strlen (t->command)) > (size_t) max)
        what = "its command";
    for (size_t i = 0; !what && i < t->argv.count; i++)
        if ((len = strlen (t->argv.items[i])) > (size_t) max)
            what = "an argument";
    for (size_t i = 0; !what && i < t->env.count; i++)
        if ((len = strlen (t->env.values[i])) > (size_t) max)
            what = "an environment value";
    for (size_t i = 0; !what && i < t->labels.count; i++)
        if ((len = strlen (t->labels.values[i])) > (size_t) max)
            what = "a label value";
    if (!what)
        return false;
    snprintf (why, size, "task %s: %s has %zu bytes, more than the master allows "
              "(--max-string-length=%" PRId64 ")", t->task_id, what, len, max);
    return true;
}

static void
s_handle_accept (master_t *self, framework_t *f, proto_accept_t *acc, int64_t now)
{
    int64_t refuse_ms = acc->refuse_ms >= 0 ? acc->refuse_ms : self->config.default_refuse_ms;
    proto_task_t *tasks = acc->tasks.items;
    char problem[PROTO_MAX_TEXT] = "";
    agent_t *a = NULL;
    cairn_resources_t offered;
    resources_init (&offered);

    /*  0. The operator's limit on tasks per launch (--max-tasks-per-launch). */
    if (self->config.max_tasks_per_launch > 0
        && acc->tasks.count > (size_t) self->config.max_tasks_per_launch)
        snprintf (problem, sizeof problem, "a launch may hold at most %" PRId64 " tasks "
                  "(--max-tasks-per-launch), this one has %zu",
                  self->config.max_tasks_per_launch, acc->tasks.count);
    /*  1. The offers: outstanding, this framework's, one agent, no repeats. */
    for (size_t i = 0; i < acc->offer_ids.count && !*problem; i++) {
        const char *oid = acc->offer_ids.items[i];
        offer_t *o = zhashx_lookup (self->offers, oid);
        for (size_t k = 0; k < i; k++)
            if (strcmp (acc->offer_ids.items[k], oid) == 0)
                snprintf (problem, sizeof problem, "offer %s is listed twice", oid);
        if (*problem)
            break;
        if (!o)
            snprintf (problem, sizeof problem, "offer %s is not outstanding (it was accepted, "
                      "declined or rescinded, or never made)", oid);
        else if (strcmp (o->framework_id, f->id) != 0)
            snprintf (problem, sizeof problem, "offer %s was made to another framework", oid);
        else if (a && strcmp (o->agent_id, a->id) != 0)
            snprintf (problem, sizeof problem, "offers %s and %s are on different agents",
                      acc->offer_ids.items[0], oid);
        else {
            a = zhashx_lookup (self->agents, o->agent_id);
            cairn_resources_add (&offered, &o->resources);
        }
    }
    if (*problem) {
        log_info ("framework %s: launch refused: %s", f->id, problem);
        bool too_many = self->config.max_tasks_per_launch > 0
            && acc->tasks.count > (size_t) self->config.max_tasks_per_launch;
        for (size_t i = 0; i < acc->tasks.count; i++)
            s_to_framework (self, f, s_status_msg (f->id, tasks[i].task_id, "",
                                                   too_many ? CAIRN_TASK_ERROR : CAIRN_TASK_DROPPED,
                                                   too_many ? CAIRN_REASON_TASK_INVALID
                                                            : CAIRN_REASON_INVALID_OFFERS,
                                                   "%s", problem));
        /*  The valid offers among them go back to the pool.               */
        for (size_t i = 0; i < acc->offer_ids.count; i++) {
            offer_t *o = zhashx_lookup (self->offers, acc->offer_ids.items[i]);
            if (o && strcmp (o->framework_id, f->id) == 0)
                s_offer_remove (self, o, 0, now, false);
        }
        resources_fini (&offered);
        return;
    }
    const char *agent_id = a ? a->id : "";
    for (size_t i = 0; i < acc->offer_ids.count; i++) {
        offer_t *o = zhashx_lookup (self->offers, acc->offer_ids.items[i]);
        /*  Recover the offer's resources now; the tasks' share is taken
            back below, so only the remainder stays free.                  */
        allocator_offer_closed (self->allocator, o->agent_id, o->framework_id);
        if (a)
            zhashx_delete (a->offers, o->id);
        zhashx_delete (f->offers, o->id);
        zhashx_delete (self->offers, o->id);
    }

    /*  2. Each task: a fresh id, something to run, resources that fit.   */
    cairn_resources_t left;
    resources_init (&left);
    resources_copy (&left, &offered);
    proto_msg_t *run = proto_msg_new (PROTO_RUN_TASKS);
    proto_framework_info_fini (run->u.run_tasks.framework);
    proto_framework_info_copy (run->u.run_tasks.framework, &f->info);
    for (size_t i = 0; i < acc->tasks.count; i++) {
        proto_task_t *t = &tasks[i];
        char why[PROTO_MAX_TEXT] = "";
        bool dup = zhashx_lookup (f->tasks, t->task_id) != NULL;
        for (size_t k = 0; k < i && !dup; k++)
            dup = strcmp (tasks[k].task_id, t->task_id) == 0;
        if (dup)
            snprintf (why, sizeof why, "task id %s is already in use by this framework",
                      t->task_id);
        else if (t->resources->millicpus == 0 && t->resources->mem == 0)
            snprintf (why, sizeof why, "a task must ask for some cpus or mem");
        else if (s_task_too_long (self, t, why, sizeof why))
            ;
        else if ((*t->user || *f->info.user)
                 && !acl_allows (self->acl, ACL_RUN_TASKS,
                                 *f->info.principal ? f->info.principal : NULL,
                                 *t->user ? t->user : f->info.user, why, sizeof why))
            log_warn ("framework %s: task %s refused: %s", f->id, t->task_id, why);
        else if (!a || a->state != AGENT_ACTIVE)
            snprintf (why, sizeof why, "agent %s is not reachable", agent_id);
        else if (!cairn_resources_contains (&left, t->resources)) {
            char *want = cairn_resources_format (t->resources);
            char *have = cairn_resources_format (&left);
            snprintf (why, sizeof why, "task %s asks for %s but the offers have only %s left",
                      t->task_id, want, have);
            free (want);
            free (have);
        }
        if (*why) {
            s_to_framework (self, f, s_status_msg (f->id, t->task_id, agent_id, CAIRN_TASK_ERROR,
                                                   CAIRN_REASON_TASK_INVALID, "%s", why));
            continue;
        }
        cairn_resources_subtract (&left, t->resources);
        s_task_add (self, f, a, t, CAIRN_TASK_STAGING);
        self->counters.tasks_launched++;
        proto_task_t *copy = proto_list_push (&run->u.run_tasks.tasks, sizeof (proto_task_t));
        proto_task_copy (copy, t);
    }
    if (run->u.run_tasks.tasks.count > 0)
        s_to_agent (self, a, run);
    else
        proto_msg_destroy (&run);
    /*  3. What the tasks do not use returns to the pool, filtered.       */
    if (a)
        allocator_recover (self->allocator, a->id, f->id, &left, refuse_ms, now);
    resources_fini (&left);
    resources_fini (&offered);
    self->allocation_pending = true;
}

static void
s_handle_decline (master_t *self, framework_t *f, proto_decline_t *dec, int64_t now)
{
    int64_t refuse_ms = dec->refuse_ms >= 0 ? dec->refuse_ms : self->config.default_refuse_ms;
    for (size_t i = 0; i < dec->offer_ids.count; i++) {
        offer_t *o = zhashx_lookup (self->offers, dec->offer_ids.items[i]);
        /*  Declining an offer that is already gone is harmless.           */
        if (o && strcmp (o->framework_id, f->id) == 0)
            s_offer_remove (self, o, refuse_ms, now, false);
    }
}

static task_t *
s_find_task (framework_t *f, const char *task_id, bool *completed)
{
    task_t *t = zhashx_lookup (f->tasks, task_id);
    *completed = false;
    if (t)
        return t;
    /*  Newest first: a task id may have been reused.                      */
    for (t = zlistx_last (f->completed); t; t = zlistx_prev (f->completed))
        if (strcmp (t->info.task_id, task_id) == 0) {
            *completed = true;
            return t;
        }
    return NULL;
}

static void
s_handle_kill (master_t *self, framework_t *f, const char *task_id)
{
    bool completed;
    task_t *t = s_find_task (f, task_id, &completed);
    if (!t) {
        s_to_framework (self, f, s_status_msg (f->id, task_id, "", CAIRN_TASK_UNKNOWN,
                                               CAIRN_REASON_TASK_UNKNOWN,
                                               "task %s is not known to the master", task_id));
        return;
    }
    if (completed) {
        proto_msg_t *msg = proto_msg_new (PROTO_STATUS_UPDATE);
        proto_status_fini (&msg->u.status);
        proto_status_copy (&msg->u.status, &t->status);
        s_set_str (&msg->u.status.uuid, "");
        s_to_framework (self, f, msg);
        return;
    }
    agent_t *a = zhashx_lookup (self->agents, t->agent_id);
    if (!a || a->state != AGENT_ACTIVE) {
        s_to_framework (self, f, s_status_msg (f->id, task_id, t->agent_id,
                                               f->info.partition_aware ? CAIRN_TASK_UNREACHABLE
                                                                       : CAIRN_TASK_LOST,
                                               CAIRN_REASON_AGENT_DISCONNECTED,
                                               "agent %s is unreachable: the kill cannot be "
                                               "delivered now", t->agent_id));
        return;
    }
    s_kill_task (self, t, -1);
}

static void
s_send_reconcile_status (master_t *self, framework_t *f, task_t *t)
{
    proto_msg_t *msg = proto_msg_new (PROTO_STATUS_UPDATE);
    proto_status_fini (&msg->u.status);
    proto_status_copy (&msg->u.status, &t->status);
    s_set_str (&msg->u.status.uuid, "");
    msg->u.status.reason = CAIRN_REASON_RECONCILIATION;
    s_to_framework (self, f, msg);
}

static void
s_handle_reconcile (master_t *self, framework_t *f, proto_reconcile_t *rec)
{
    if (rec->task_ids.count == 0) {
        for (task_t *t = zhashx_first (f->tasks); t; t = zhashx_next (f->tasks))
            s_send_reconcile_status (self, f, t);
        return;
    }
    for (size_t i = 0; i < rec->task_ids.count; i++) {
        bool completed;
        task_t *t = s_find_task (f, rec->task_ids.items[i], &completed);
        if (t)
            s_send_reconcile_status (self, f, t);
        else
            s_to_framework (self, f, s_status_msg (f->id, rec->task_ids.items[i], "",
                                                   CAIRN_TASK_UNKNOWN, CAIRN_REASON_RECONCILIATION,
                                                   "task %s is not known to the master",
                                                   rec->task_ids.items[i]));
    }
}

static bool
s_from_role (int type, peer_kind_t *role)
{
    switch (type) {
        case PROTO_STATUS_UPDATE:
        case PROTO_USAGE:
            *role = PEER_AGENT;
            return true;
        case PROTO_ACCEPT:
        case PROTO_DECLINE:
        case PROTO_KILL:
        case PROTO_REVIVE:
        case PROTO_SUPPRESS:
        case PROTO_RECONCILE:
        case PROTO_UNREGISTER:
        case PROTO_STATUS_ACK:
        case PROTO_UPDATE_FRAMEWORK:
            *role = PEER_FRAMEWORK;
            return true;
        default:
            return false;
    }
}

void
master_set_acl (master_t *self, const acl_t *acl)
{
    self->acl = acl;
}

const char *
master_framework_principal (master_t *self, const char *framework_id)
{
    framework_t *f = zhashx_lookup (self->frameworks, framework_id);
    return f ? f->info.principal : NULL;
}

void
master_handle_as (master_t *self, const route_t *from, const char *principal, proto_msg_t *msg,
                  int64_t now)
{
    self->sender = principal;
    master_handle (self, from, msg, now);
    self->sender = NULL;
}

void
master_handle (master_t *self, const route_t *from, proto_msg_t *msg, int64_t now)
{
    self->counters.received[msg->type & 0xff]++;
    peer_t *peer = s_peer (self, from);
    agent_t *a = NULL;
    framework_t *f = NULL;
    if (peer && peer->kind == PEER_AGENT)
        a = zhashx_lookup (self->agents, peer->id);
    else if (peer && peer->kind == PEER_FRAMEWORK)
        f = zhashx_lookup (self->frameworks, peer->id);
    /*  With CURVE, a routing id taken over (ZMQ_ROUTER_HANDOVER) by a
        connection with another principal's key gets nothing of the
        session.                                                          */
    const char *owner = a ? a->principal : f ? f->info.principal : NULL;
    if (self->sender && owner && *owner && strcmp (owner, self->sender) != 0) {
        log_warn ("a message from principal '%s' on the session of %s %s (principal '%s') "
                  "refused", self->sender, a ? "agent" : "framework", a ? a->id : f->id, owner);
        s_reply_error (self, from, "unauthorized", msg->type, "this session belongs to another "
                       "principal");
        self->counters.refused++;
        proto_msg_destroy (&msg);
        return;
    }
    if (a)
        a->last_seen = now;
    if (f)
        f->last_seen = now;

    switch (msg->type) {
        case PROTO_AGENT_REGISTER:
            if (f) {
                s_reply_error (self, from, "refused", msg->type,
                               "this connection is registered as framework %s", f->id);
                self->counters.refused++;
            }
            else
                s_handle_agent_register (self, from, &msg->u.agent_register, now);
            break;
        case PROTO_FRAMEWORK_REGISTER:
            if (a) {
                s_reply_error (self, from, "refused", msg->type,
                               "this connection is registered as agent %s", a->id);
                self->counters.refused++;
            }
            else
                s_handle_framework_register (self, from, &msg->u.framework, now);
            break;
        case PROTO_PING: {
            proto_msg_t *pong = proto_msg_new (PROTO_PONG);
            pong->u.ping.seq = msg->u.ping.seq;
            s_queue (self, from, pong);
            break;
        }
        case PROTO_PONG:
            break;
        case PROTO_INFO_REQUEST: {
            proto_msg_t *info = proto_msg_new (PROTO_INFO);
            s_set_str (&info->u.info.master_id, self->id);
            s_set_str (&info->u.info.http_address, self->http_address);
            s_set_str (&info->u.info.version, PACKAGE_VERSION);
            s_queue (self, from, info);
            break;
        }
        case PROTO_ERROR:
            log_warn ("peer %s says: %s (%s)", peer ? peer->id : "(unregistered)",
                      msg->u.error.message, msg->u.error.code);
            break;
        default: {
            peer_kind_t role;
            if (!s_from_role (msg->type, &role)) {
                s_reply_error (self, from, "unexpected", msg->type,
                               "%s is sent by the master, not to it", proto_type_name (msg->type));
                self->counters.refused++;
                break;
            }
            if ((role == PEER_AGENT && !a) || (role == PEER_FRAMEWORK && !f)) {
                s_reply_error (self, from, "not-registered", msg->type,
                               "%s needs a registered %s: register first",
                               proto_type_name (msg->type),
                               role == PEER_AGENT ? "agent" : "framework");
                self->counters.refused++;
                break;
            }
            switch (msg->type) {
                case PROTO_STATUS_UPDATE:
                    s_handle_status_update (self, a, from, msg, now);
                    return;     /* consumed */
                case PROTO_STATUS_ACK:
                    s_handle_status_ack (self, f, msg);
                    return;
                case PROTO_USAGE:
                    s_handle_usage (self, a, &msg->u.usage);
                    break;
                case PROTO_ACCEPT:
                    s_handle_accept (self, f, &msg->u.accept, now);
                    break;
                case PROTO_DECLINE:
                    s_handle_decline (self, f, &msg->u.decline, now);
                    break;
                case PROTO_KILL:
                    s_handle_kill (self, f, msg->u.kill.task_id);
                    break;
                case PROTO_REVIVE:
                    allocator_revive (self->allocator, f->id);
                    self->allocation_pending = true;
                    break;
                case PROTO_SUPPRESS:
                    allocator_suppress (self->allocator, f->id, true);
                    break;
                case PROTO_RECONCILE:
                    s_handle_reconcile (self, f, &msg->u.reconcile);
                    break;
                case PROTO_UNREGISTER:
                    if (msg->u.unregister.failover)
                        s_framework_disconnected (self, f, now, "it stopped with failover");
                    else
                        s_framework_teardown (self, f, now, "it unregistered");
                    break;
                case PROTO_UPDATE_FRAMEWORK: {
                    proto_framework_info_t *info = &msg->u.framework;
                    s_set_str (&info->id, f->id);
                    if (s_framework_refused (self, from, PROTO_UPDATE_FRAMEWORK, info))
                        break;
                    proto_framework_info_fini (&f->info);
                    proto_framework_info_copy (&f->info, info);
                    allocator_add_framework (self->allocator, f->id, f->info.role);
                    break;
                }
                default:
                    break;
            }
        }
    }
    proto_msg_destroy (&msg);
}

/*  Registry, gone agents, teardown  */

static void
s_recover_agent (const registry_agent_t *ra, void *arg)
{
    master_t *self = arg;
    if (ra->state == REGISTRY_AGENT_GONE) {
        zhashx_update (self->gone, ra->id, xstrdup (ra->gone_reason ? ra->gone_reason : ""));
        return;
    }
    if (zhashx_lookup (self->agents, ra->id))
        return;
    agent_t *a = xzalloc (sizeof *a);
    a->id = xstrdup (ra->id);
    a->hostname = xstrdup (ra->hostname);
    a->http_address = xstrdup (ra->http_address);
    a->version = xstrdup ("");
    a->tasks = zhashx_new ();
    a->offers = zhashx_new ();
    a->state = AGENT_RECOVERING;
    a->draining = ra->draining;
    a->drain_grace_ms = ra->drain_grace_ms;
    a->drain_since = ra->drain_since;
    zhashx_insert (self->agents, a->id, a);
}

int
master_recover (master_t *self, int64_t now)
{
    if (!self->config.registry)
        return 0;
    int n = registry_load (self->config.registry, s_recover_agent, self);
    if (n < 0)
        return -1;
    for (agent_t *a = zhashx_first (self->agents); a; a = zhashx_next (self->agents)) {
        a->registered_at = a->last_seen = now;
        a->next_ping = now + s_ping_phase (self);
    }
    self->recovery_deadline = now + self->config.agent_reregister_timeout_ms;
    log_info ("recovered %d agents from the registry (%zu gone); waiting up to %" PRId64
              " ms for the others to re-register", n, zhashx_size (self->gone),
              self->config.agent_reregister_timeout_ms);
    return n;
}

int
master_mark_gone (master_t *self, const char *agent_id, const char *reason, int64_t now)
{
    if (zhashx_lookup (self->gone, agent_id))
        return 0;
    agent_t *a = zhashx_lookup (self->agents, agent_id);
    if (!a)
        return error_set (ENOENT, "agent %s is not known to the master", agent_id);
    if (!reason || !*reason)
        reason = "marked gone by an operator";
    if (self->config.registry
        && registry_mark_gone (self->config.registry, agent_id, reason, clock_wall ()) < 0)
        return -1;
    log_warn ("agent %s (%s) is gone: %s", a->id, a->hostname, reason);
    s_rescind_all (self, a->offers, now);
    /*  Its tasks end for good.                                           */
    zlistx_t *tasks = zlistx_new ();
    for (task_t *t = zhashx_first (a->tasks); t; t = zhashx_next (a->tasks))
        zlistx_add_end (tasks, t);
    zhashx_t *told = zhashx_new ();
    for (task_t *t = zlistx_first (tasks); t; t = zlistx_next (tasks)) {
        framework_t *f = zhashx_lookup (self->frameworks, t->framework_id);
        bool aware = f && f->info.partition_aware;
        proto_msg_t *msg = s_status_msg (t->framework_id, t->info.task_id, a->id,
                                         aware ? CAIRN_TASK_GONE : CAIRN_TASK_LOST,
                                         CAIRN_REASON_AGENT_REMOVED, "agent %s (%s) is gone: %s",
                                         a->id, a->hostname, reason);
        s_task_update (self, t, &msg->u.status, now);
        s_to_framework (self, f, msg);
        if (f)
            zhashx_update (told, f->id, f);
    }
    s_tell_agent_lost (self, told, a->id);
    zhashx_destroy (&told);
    zlistx_destroy (&tasks);
    if (a->state == AGENT_ACTIVE) {
        proto_msg_t *msg = proto_msg_new (PROTO_AGENT_SHUTDOWN);
        free (msg->u.agent_shutdown.message);
        msg->u.agent_shutdown.message = xasprintf ("agent %s was marked gone (%s): shut down "
                                                   "its tasks", a->id, reason);
        s_queue (self, &a->route, msg);
    }
    s_unbind_peer (self, a->route_key, PEER_AGENT, a->id);
    allocator_remove_agent (self->allocator, a->id);
    zhashx_update (self->gone, a->id, xstrdup (reason));
    s_event_agent (self, "AGENT_REMOVED", a, now);
    zhashx_delete (self->agents, a->id);
    self->allocation_pending = true;
    return 0;
}

int
master_teardown (master_t *self, const char *framework_id, int64_t now)
{
    framework_t *f = zhashx_lookup (self->frameworks, framework_id);
    if (!f || f->removed)
        return error_set (ENOENT, "framework %s is not a running framework", framework_id);
    s_framework_teardown (self, f, now, "an operator tore it down");
    return 0;
}

int
master_drain_agent (master_t *self, const char *agent_id, int64_t grace_ms, int64_t now)
{
    agent_t *a = zhashx_lookup (self->agents, agent_id);
    if (!a)
        return error_set (ENOENT, "agent %s is not known to the master%s", agent_id,
                          zhashx_lookup (self->gone, agent_id) ? " (it is gone)" : "");
    if (a->draining && a->drain_grace_ms == grace_ms)
        return 0;
    double since = a->draining ? a->drain_since : clock_wall ();
    if (self->config.registry
        && registry_drain_agent (self->config.registry, a->id, true, grace_ms, since) < 0)
        return -1;
    a->draining = true;
    a->drain_grace_ms = grace_ms;
    a->drain_since = since;
    log_info ("agent %s (%s) drains: no more offers; its %zu task(s) are killed with a grace "
              "of %" PRId64 " ms", a->id, a->hostname, zhashx_size (a->tasks), grace_ms);
    allocator_activate_agent (self->allocator, a->id, false);
    s_rescind_all (self, a->offers, now);
    if (a->state == AGENT_ACTIVE)
        for (task_t *t = zhashx_first (a->tasks); t; t = zhashx_next (a->tasks))
            if (!cairn_task_state_is_terminal (t->status.state))
                s_kill_task (self, t, grace_ms);
    s_event_agent (self, "AGENT_UPDATED", a, now);
    return 0;
}

int
master_undrain_agent (master_t *self, const char *agent_id, int64_t now)
{
    agent_t *a = zhashx_lookup (self->agents, agent_id);
    if (!a)
        return error_set (ENOENT, "agent %s is not known to the master%s", agent_id,
                          zhashx_lookup (self->gone, agent_id) ? " (it is gone)" : "");
    if (!a->draining)
        return 0;
    if (self->config.registry
        && registry_drain_agent (self->config.registry, a->id, false, 0, 0) < 0)
        return -1;
    a->draining = false;
    log_info ("agent %s (%s) no longer drains", a->id, a->hostname);
    if (a->state == AGENT_ACTIVE) {
        allocator_activate_agent (self->allocator, a->id, true);
        self->allocation_pending = true;
    }
    s_event_agent (self, "AGENT_UPDATED", a, now);
    return 0;
}

/*  A task by id, in one framework or (framework_id NULL) in any: live
    ones first, then the completed ones kept. ENOENT if none, EEXIST if
    several frameworks have one by that id.                               */
static task_t *
s_lookup_task (master_t *self, const char *framework_id, const char *task_id)
{
    task_t *found = NULL;
    char others[512] = "";
    size_t len = 0;
    for (framework_t *f = zhashx_first (self->frameworks); f; f = zhashx_next (self->frameworks)) {
        if (framework_id && strcmp (f->id, framework_id) != 0)
            continue;
        bool completed = false;
        task_t *t = s_find_task (f, task_id, &completed);
        if (!t)
            continue;
        if (found && len < sizeof others)
            len += (size_t) snprintf (others + len, sizeof others - len, "%s%s",
                                      len ? ", " : "", f->id);
        else if (!found) {
            found = t;
            len += (size_t) snprintf (others, sizeof others, "%s", f->id);
        }
    }
    if (!found) {
        error_set (ENOENT, "no task %s%s%s", task_id, framework_id ? " in framework " : "",
                   framework_id ? framework_id : "");
        return NULL;
    }
    if (strchr (others, ',')) {
        error_set (EEXIST, "several frameworks have a task %s (%s): name the framework",
                   task_id, others);
        return NULL;
    }
    return found;
}

int
master_kill (master_t *self, const char *framework_id, const char *task_id, int64_t grace_ms,
             int64_t now)
{
    (void) now;
    task_t *t = s_lookup_task (self, framework_id, task_id);
    if (!t)
        return -1;
    if (cairn_task_state_is_terminal (t->status.state))
        return error_set (EALREADY, "task %s has ended already (%s)", task_id,
                          cairn_task_state_name (t->status.state));
    agent_t *a = zhashx_lookup (self->agents, t->agent_id);
    if (!a || a->state != AGENT_ACTIVE)
        return error_set (EAGAIN, "task %s is on agent %s, which is not reachable now", task_id,
                          t->agent_id);
    log_info ("task %s of framework %s is killed by an operator", task_id, t->framework_id);
    s_kill_task (self, t, grace_ms);
    return 0;
}

/*  What w wrote, as jansson values (for the answers that add to it or
    are built as a whole); w is finished.                                 */
static json_t *
s_jsonw_json (jsonw_t *w)
{
    size_t size;
    char *text = jsonw_take (w, &size);
    jsonw_fini (w);
    json_t *json = json_loadb (text, size, 0, NULL);
    free (text);
    if (!json)
        oom_abort ();
    return json;
}

json_t *
master_task_json (master_t *self, const char *framework_id, const char *task_id, int64_t now)
{
    task_t *t = s_lookup_task (self, framework_id, task_id);
    if (!t)
        return NULL;
    jsonw_t w;
    jsonw_init (&w);
    s_write_task (&w, t);
    json_t *json = s_jsonw_json (&w);
    json_t *history = json_array ();
    for (int i = 0; i < t->nhistory; i++) {
        json_t *h = json_pack ("{s:s s:f}", "state", cairn_task_state_name (t->history[i].state),
                               "time", t->history[i].timestamp);
        if (t->history[i].reason != CAIRN_REASON_NONE)
            json_object_set_new (h, "reason", json_string (cairn_reason_name (t->history[i].reason)));
        if (t->history[i].message)
            json_object_set_new (h, "message", json_string (t->history[i].message));
        json_array_append_new (history, h);
    }
    json_object_set_new (json, "history", history);
    agent_t *a = zhashx_lookup (self->agents, t->agent_id);
    if (a)
        json_object_set_new (json, "agent", json_pack ("{s:s s:s s:s}", "id", a->id, "hostname",
                                                       a->hostname, "http_address",
                                                       a->http_address));
    framework_t *f = zhashx_lookup (self->frameworks, t->framework_id);
    if (f)
        json_object_set_new (json, "framework_name", json_string (f->info.name));
    json_object_set_new (json, "command", t->info.command && *t->info.command
                                              ? json_string (t->info.command) : json_null ());
    (void) now;
    return json;
}

/*  master_tasks_json: the matching tasks are collected as pointers and
    sorted, so a page costs one pass over the tasks and a sort, never the
    whole of /state; the order is stable between polls, so a UI paging
    through a busy cluster sees each task once unless tasks come or go. */

static bool
s_task_matches (const task_t *t, const master_tasks_filter_t *filter)
{
    if (filter->state >= 0 && (int) t->status.state != filter->state)
        return false;
    bool terminal = cairn_task_state_is_terminal (t->status.state);
    if ((filter->which == TASKS_ACTIVE && terminal)
        || (filter->which == TASKS_COMPLETED && !terminal))
        return false;
    if (filter->agent_id && strcmp (t->agent_id, filter->agent_id) != 0)
        return false;
    if (filter->q && *filter->q && !strcasestr (t->info.task_id, filter->q)
        && !(t->info.name && strcasestr (t->info.name, filter->q)))
        return false;
    return true;
}

static int
s_task_cmp (const void *a, const void *b)
{
    const task_t *x = *(task_t *const *) a, *y = *(task_t *const *) b;
    int rc = strcmp (x->framework_id, y->framework_id);
    return rc ? rc : strcmp (x->info.task_id, y->info.task_id);
}

/*  A page of a paged answer: {"total", "offset", "limit", KEY: [ -- the
    caller writes the items and closes the array and the object.         */
static void
s_page_begin (jsonw_t *w, const char *key, size_t total, size_t offset, size_t limit)
{
    jsonw_init (w);
    jsonw_object (w);
    jsonw_kint (w, "total", (int64_t) total);
    jsonw_kint (w, "offset", (int64_t) offset);
    jsonw_kint (w, "limit", (int64_t) limit);
    jsonw_key (w, key);
    jsonw_array (w);
}

json_t *
master_tasks_json (master_t *self, const master_tasks_filter_t *filter, int64_t now)
{
    (void) now;
    size_t n = 0, cap = 64;
    const task_t **found = xmalloc (cap * sizeof *found);
    for (framework_t *f = zhashx_first (self->frameworks); f; f = zhashx_next (self->frameworks)) {
        if (filter->framework_id && strcmp (f->id, filter->framework_id) != 0)
            continue;
        for (int pass = 0; pass < 2; pass++) {
            task_t *t = pass ? zlistx_first (f->completed) : zhashx_first (f->tasks);
            for (; t; t = pass ? zlistx_next (f->completed) : zhashx_next (f->tasks)) {
                if (!s_task_matches (t, filter))
                    continue;
                if (n == cap)
                    found = xrealloc (found, (cap *= 2) * sizeof *found);
                found[n++] = t;
            }
        }
    }
    qsort (found, n, sizeof *found, s_task_cmp);
    jsonw_t w;
    s_page_begin (&w, "tasks", n, filter->offset, filter->limit);
    for (size_t i = filter->offset; i < n && i - filter->offset < filter->limit; i++)
        s_write_task (&w, found[i]);
    jsonw_end (&w, ']');
    jsonw_end (&w, '}');
    free (found);
    return s_jsonw_json (&w);
}

static int
s_offer_cmp (const void *a, const void *b)
{
    const offer_t *x = *(offer_t *const *) a, *y = *(offer_t *const *) b;
    if (x->created != y->created)
        return x->created < y->created ? -1 : 1;
    return strcmp (x->id, y->id);
}

json_t *
master_offers_json (master_t *self, const char *framework_id, const char *agent_id,
                    size_t offset, size_t limit, int64_t now)
{
    zhashx_t *table = self->offers;
    if (framework_id) {
        framework_t *f = zhashx_lookup (self->frameworks, framework_id);
        if (!f) {
            error_set (ENOENT, "framework %s is not known to the master", framework_id);
            return NULL;
        }
        table = f->offers;
    }
    if (agent_id) {
        agent_t *a = zhashx_lookup (self->agents, agent_id);
        if (!a) {
            error_set (ENOENT, "agent %s is not known to the master", agent_id);
            return NULL;
        }
        if (!framework_id)
            table = a->offers;
    }
    size_t n = 0;
    const offer_t **found = xmalloc ((zhashx_size (table) + 1) * sizeof *found);
    for (offer_t *o = zhashx_first (table); o; o = zhashx_next (table))
        if (!agent_id || strcmp (o->agent_id, agent_id) == 0)
            found[n++] = o;
    qsort (found, n, sizeof *found, s_offer_cmp);
    jsonw_t w;
    s_page_begin (&w, "offers", n, offset, limit);
    for (size_t i = offset; i < n && i - offset < limit; i++) {
        const offer_t *o = found[i];
        agent_t *a = zhashx_lookup (self->agents, o->agent_id);
        jsonw_object (&w);
        jsonw_kstring (&w, "id", o->id);
        jsonw_kstring (&w, "framework_id", o->framework_id);
        jsonw_kstring (&w, "agent_id", o->agent_id);
        jsonw_kstring (&w, "hostname", a ? a->hostname : "");
        s_write_resources (&w, "resources", &o->resources);
        jsonw_kdouble (&w, "age_s", (double) (now - o->created) / 1000.0);
        jsonw_end (&w, '}');
    }
    jsonw_end (&w, ']');
    jsonw_end (&w, '}');
    free (found);
    return s_jsonw_json (&w);
}

void
master_handle_invalid (master_t *self, const route_t *from, const proto_fault_t *fault)
{
    self->counters.invalid++;
    peer_t *peer = s_peer (self, from);
    log_warn ("dropped an invalid message from %s: %s", peer ? peer->id : "an unregistered peer",
              fault->text);
    /*  Answer if the peer speaks enough of the protocol to read an ERROR;
        a version mismatch is answered too, naming both versions.         */
    if (strcmp (fault->code, "malformed") == 0 && fault->type < 0)
        return;
    s_reply_error (self, from, fault->code, fault->type, "%s", fault->text);
}

void
master_peer_gone (master_t *self, const route_t *route, int64_t now)
{
    peer_t *peer = s_peer (self, route);
    if (!peer)
        return;
    if (peer->kind == PEER_FRAMEWORK) {
        framework_t *f = zhashx_lookup (self->frameworks, peer->id);
        if (f)
            s_framework_disconnected (self, f, now, "its connection is gone");
    }
    /*  An agent whose connection is gone is caught by the ping timeout;
        ZeroMQ reconnects underneath and the agent may be back already.   */
}

/*  When an agent is first pinged after it registers: somewhere in (0,
    interval], spread by the golden ratio over the agents in the order
    they came, so that 15,000 agents that registered within a second are
    not all pinged (and all answer) in one pass of the loop, which
    stalled it for a second at that scale. Deterministic, for tests.      */
static int64_t
s_ping_phase (master_t *self)
{
    int64_t interval = self->config.ping_interval_ms > 0 ? self->config.ping_interval_ms : 1;
    double frac = fmod ((double) self->ping_phases++ * 0.6180339887498949, 1.0);
    return interval - (int64_t) (frac * (double) interval);
}

/*  Takes a sample for the summary's series when one is due: the mean
    allocation run time and the launch rate since the previous sample. A
    loop that stalled past several intervals gives one sample over the
    whole stall, not a run of zeros.                                      */
static void
s_series_sample (master_t *self, int64_t now)
{
    series_t *ser = &self->series;
    if (ser->next == 0) {
        ser->last = now;
        ser->next = now + ser->interval_ms;
        return;
    }
    if (now < ser->next)
        return;
    const master_counters_t *c = &self->counters;
    uint64_t runs = c->allocation_runs - ser->runs;
    double elapsed_s = (double) (now - ser->last) / 1000.0;
    ser->allocation_ms[ser->head] = runs ? (float) ((double) (c->allocation_us_total - ser->run_us)
                                                    / (double) runs / 1000.0) : 0.0f;
    ser->launch_rate[ser->head] = elapsed_s > 0
        ? (float) ((double) (c->tasks_launched - ser->launched) / elapsed_s) : 0.0f;
    ser->head = (ser->head + 1) % MASTER_SERIES_LEN;
    if (ser->count < MASTER_SERIES_LEN)
        ser->count++;
    ser->runs = c->allocation_runs;
    ser->run_us = c->allocation_us_total;
    ser->launched = c->tasks_launched;
    ser->last = now;
    /*  On a fixed grid while the loop keeps up, so that each sample
        covers one interval give or take a tick.                         */
    ser->next = now - ser->next < ser->interval_ms ? ser->next + ser->interval_ms
                                                   : now + ser->interval_ms;
}

void
master_tick (master_t *self, int64_t now)
{
    s_series_sample (self, now);
    int64_t timeout = self->config.ping_interval_ms * self->config.max_ping_misses;
    bool ping = now - self->last_ping >= self->config.ping_interval_ms;
    if (ping) {
        self->last_ping = now;
        self->ping_seq++;
    }
    bool recovery_over = self->recovery_deadline && now >= self->recovery_deadline;
    if (recovery_over)
        self->recovery_deadline = 0;
    for (agent_t *a = zhashx_first (self->agents); a; a = zhashx_next (self->agents)) {
        if (a->state == AGENT_RECOVERING && recovery_over) {
            log_warn ("agent %s (%s) did not re-register within %" PRId64 " ms of the "
                      "master's restart: unreachable", a->id, a->hostname,
                      self->config.agent_reregister_timeout_ms);
            a->state = AGENT_UNREACHABLE;
        }
        if (a->state != AGENT_ACTIVE)
            continue;
        if (now - a->last_seen > timeout)
            s_agent_unreachable (self, a, now);
        else if (now >= a->next_ping) {
            proto_msg_t *msg = proto_msg_new (PROTO_PING);
            msg->u.ping.seq = self->ping_seq;
            s_queue (self, &a->route, msg);
            a->next_ping += self->config.ping_interval_ms;
            if (a->next_ping <= now)
                a->next_ping = now + self->config.ping_interval_ms;
        }
    }
    if (self->config.offer_timeout_ms > 0) {
        /*  Offers held too long go back to the pool (and to others).     */
        zlistx_t *stale = zlistx_new ();
        for (offer_t *o = zhashx_first (self->offers); o; o = zhashx_next (self->offers))
            if (now - o->created >= self->config.offer_timeout_ms)
                zlistx_add_end (stale, o);
        for (offer_t *o = zlistx_first (stale); o; o = zlistx_next (stale)) {
            log_info ("offer %s to framework %s timed out after %" PRId64 " ms", o->id,
                      o->framework_id, now - o->created);
            s_offer_remove (self, o, 0, now, true);
        }
        zlistx_destroy (&stale);
    }
    zlistx_t *expired = zlistx_new ();
    for (framework_t *f = zhashx_first (self->frameworks); f; f = zhashx_next (self->frameworks)) {
        if (f->removed)
            continue;
        if (f->connected && now - f->last_seen > timeout)
            s_framework_disconnected (self, f, now, "it stopped answering pings");
        else if (f->connected && ping) {
            proto_msg_t *msg = proto_msg_new (PROTO_PING);
            msg->u.ping.seq = self->ping_seq;
            s_queue (self, &f->route, msg);
        }
        if (!f->connected && f->failover_deadline && now >= f->failover_deadline)
            zlistx_add_end (expired, f);
    }
    for (framework_t *f = zlistx_first (expired); f; f = zlistx_next (expired))
        s_framework_teardown (self, f, now, "its failover timeout expired");
    zlistx_destroy (&expired);
}

static void
s_make_offer (const char *framework_id, const char *agent_id, const cairn_resources_t *resources,
              void *arg)
{
    master_t *self = arg;
    framework_t *f = zhashx_lookup (self->frameworks, framework_id);
    agent_t *a = zhashx_lookup (self->agents, agent_id);
    assert (f && a);
    offer_t *o = xzalloc (sizeof *o);
    o->id = xasprintf ("%s-o%" PRIu64, self->id, ++self->offer_seq);
    o->framework_id = xstrdup (framework_id);
    o->agent_id = xstrdup (agent_id);
    resources_copy (&o->resources, resources);
    o->created = self->now;
    zhashx_insert (self->offers, o->id, o);
    zhashx_insert (f->offers, o->id, o);
    zhashx_insert (a->offers, o->id, o);
    /*  One OFFERS message per framework per allocation run.              */
    proto_msg_t *msg = zhashx_lookup (self->pending_offers, framework_id);
    if (!msg) {
        msg = proto_msg_new (PROTO_OFFERS);
        zhashx_insert (self->pending_offers, framework_id, msg);
    }
    proto_offer_t *po = proto_list_push (&msg->u.offers.offers, sizeof (proto_offer_t));
    po->offer_id = xstrdup (o->id);
    po->agent_id = xstrdup (agent_id);
    po->hostname = xstrdup (a->hostname);
    po->resources = cairn_resources_dup (resources);
    proto_kv_copy (&po->attributes, &a->attributes);
    self->counters.offers_made++;
}

void
master_allocate (master_t *self, int64_t now)
{
    int64_t t0 = zclock_usecs ();
    self->allocation_pending = false;
    self->now = now;
    allocator_allocate (self->allocator, now, s_make_offer, self);
    for (proto_msg_t *msg = zhashx_first (self->pending_offers); msg;
         msg = zhashx_next (self->pending_offers)) {
        framework_t *f = zhashx_lookup (self->frameworks, zhashx_cursor (self->pending_offers));
        s_to_framework (self, f, msg);
    }
    zhashx_purge (self->pending_offers);
    self->counters.allocation_runs++;
    self->counters.last_allocation_us = zclock_usecs () - t0;
    self->counters.allocation_us_total += (uint64_t) self->counters.last_allocation_us;
}

/*  Operator views

    /state is written as JSON text in slices: master_state_begin takes a
    snapshot of the ids to list, and each master_state_step writes up to
    a budget of entries, looking each id up again (an entry that went
    away meanwhile is skipped). The loop runs one step per pass, so a
    large cluster's state never holds up messages for long; a state that
    fits in the first step is written before any message is handled, so
    it is one consistent snapshot (main.c).                               */

typedef enum {
    PHASE_HEAD, PHASE_AGENTS, PHASE_FRAMEWORKS, PHASE_TASKS, PHASE_COMPLETED, PHASE_OFFERS,
    PHASE_DONE
} state_phase_t;

struct _state_job_t {
    jsonw_t w;
    int64_t now;
    state_phase_t phase;
    size_t cursor;
    char **agents;                      /* snapshots of ids */
    size_t nagents;
    char **frameworks;
    size_t nframeworks;
    char **tasks;                       /* "fw/task" of live tasks */
    size_t ntasks;
    char **offers;
    size_t noffers;
};

static char **
s_snapshot_keys (zhashx_t *table, size_t *count)
{
    size_t n = zhashx_size (table), i = 0;
    char **keys = xmalloc ((n ? n : 1) * sizeof (char *));
    for (void *item = zhashx_first (table); item && i < n; item = zhashx_next (table))
        keys[i++] = xstrdup ((const char *) zhashx_cursor (table));
    *count = i;
    return keys;
}

static void
s_free_keys (char **keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free (keys[i]);
    free (keys);
}

static void
s_write_resources (jsonw_t *w, const char *key, const cairn_resources_t *r)
{
    jsonw_key (w, key);
    jsonw_object (w);
    jsonw_kdouble (w, "cpus", cairn_resources_cpus (r));
    jsonw_kint (w, "mem", (int64_t) cairn_resources_mem (r));
    jsonw_kint (w, "disk", (int64_t) cairn_resources_disk (r));
    jsonw_key (w, "ports");
    jsonw_array (w);
    size_t n;
    const uint16_t *ranges = cairn_resources_port_ranges (r, &n);
    for (size_t i = 0; i < n; i++) {
        jsonw_array (w);
        jsonw_int (w, ranges[2 * i]);
        jsonw_int (w, ranges[2 * i + 1]);
        jsonw_end (w, ']');
    }
    jsonw_end (w, ']');
    jsonw_end (w, '}');
}

static void
s_write_kv (jsonw_t *w, const char *key, const proto_kv_t *kv)
{
    jsonw_key (w, key);
    jsonw_object (w);
    for (size_t i = 0; i < kv->count; i++)
        jsonw_kstring (w, kv->keys[i], kv->values[i]);
    jsonw_end (w, '}');
}

static void
s_write_task (jsonw_t *w, const task_t *t)
{
    const proto_status_t *s = &t->status;
    jsonw_object (w);
    jsonw_kstring (w, "id", t->info.task_id);
    jsonw_kstring (w, "name", t->info.name);
    jsonw_kstring (w, "framework_id", t->framework_id);
    jsonw_kstring (w, "agent_id", t->agent_id);
    jsonw_kstring (w, "state", cairn_task_state_name (s->state));
    if (s->reason != CAIRN_REASON_NONE)
        jsonw_kstring (w, "reason", cairn_reason_name (s->reason));
    jsonw_kstring (w, "message", s->message);
    if (s->exit_code >= 0)
        jsonw_kint (w, "exit_code", s->exit_code);
    if (s->signal > 0)
        jsonw_kint (w, "signal", s->signal);
    if (s->healthy >= 0)
        jsonw_kbool (w, "healthy", s->healthy);
    jsonw_kdouble (w, "updated", s->timestamp);
    s_write_resources (w, "resources", t->info.resources);
    if (t->has_usage) {
        jsonw_key (w, "usage");
        jsonw_object (w);
        jsonw_kdouble (w, "cpu_seconds", t->cpu_seconds);
        jsonw_kint (w, "mem_bytes", t->mem_bytes);
        jsonw_kint (w, "mem_peak_bytes", t->mem_peak_bytes);
        jsonw_kint (w, "mem_limit_bytes", t->mem_limit_bytes);
        jsonw_kdouble (w, "sampled", t->usage_timestamp);
        jsonw_end (w, '}');
    }
    jsonw_end (w, '}');
}

/*  ACTIVE, DRAINING (still has tasks), DRAINED, UNREACHABLE, RECOVERING. */
static const char *
s_agent_state_name (const agent_t *a)
{
    if (a->state == AGENT_RECOVERING)
        return "RECOVERING";
    if (a->state == AGENT_UNREACHABLE)
        return "UNREACHABLE";
    if (a->draining)
        return zhashx_size (a->tasks) > 0 ? "DRAINING" : "DRAINED";
    return "ACTIVE";
}

/*  Why the agent has no offer out, in words, where the master knows:
    false when it has one (or nothing explains why not).                  */
static bool
s_why_idle (master_t *self, agent_t *a, const cairn_resources_t *free_res, size_t filters,
            char *why, size_t size)
{
    if (a->state == AGENT_UNREACHABLE)
        snprintf (why, size, "unreachable");
    else if (a->state == AGENT_RECOVERING)
        snprintf (why, size, "recovering: not re-registered since the master restarted");
    else if (a->draining)
        snprintf (why, size, "draining");
    else if (zhashx_size (a->offers) > 0)
        return false;
    else if (!allocator_allocatable (self->allocator, free_res)) {
        bool cpus = free_res->millicpus <= 0, mem = free_res->mem <= 0;
        snprintf (why, size, "nothing free: %s",
                  cpus && mem ? "all cpus and memory allocated"
                  : cpus ? "all cpus allocated" : mem ? "all memory allocated"
                  : "free resources below the minimum offer (--min-allocatable)");
    }
    else if (filters > 0)
        snprintf (why, size, "filtered by %zu framework%s that declined it", filters,
                  filters == 1 ? "" : "s");
    else
        return false;
    return true;
}

static void
s_write_agent (master_t *self, jsonw_t *w, agent_t *a, int64_t now)
{
    cairn_resources_t offered, free_res;
    resources_init (&offered);
    resources_init (&free_res);
    for (offer_t *o = zhashx_first (a->offers); o; o = zhashx_next (a->offers))
        cairn_resources_add (&offered, &o->resources);
    resources_copy (&free_res, &a->total);
    if (cairn_resources_subtract (&free_res, &a->used) < 0
        || cairn_resources_subtract (&free_res, &offered) < 0)
        resources_clear (&free_res);
    jsonw_object (w);
    jsonw_kstring (w, "id", a->id);
    jsonw_kstring (w, "hostname", a->hostname);
    jsonw_kstring (w, "http_address", a->http_address);
    jsonw_kstring (w, "version", a->version);
    jsonw_kstring (w, "principal", a->principal ? a->principal : "");
    jsonw_kstring (w, "state", s_agent_state_name (a));
    if (a->draining) {
        jsonw_key (w, "drain");
        jsonw_object (w);
        jsonw_kdouble (w, "grace_s", (double) a->drain_grace_ms / 1000.0);
        jsonw_kdouble (w, "since", a->drain_since);
        jsonw_end (w, '}');
    }
    s_write_kv (w, "attributes", &a->attributes);
    s_write_resources (w, "resources", &a->total);
    s_write_resources (w, "used", &a->used);
    s_write_resources (w, "offered", &offered);
    s_write_resources (w, "free", &free_res);
    size_t filters = allocator_agent_filters (self->allocator, a->id, now);
    jsonw_kint (w, "filters", (int64_t) filters);
    char why[128];
    if (s_why_idle (self, a, &free_res, filters, why, sizeof why))
        jsonw_kstring (w, "why_idle", why);
    jsonw_kint (w, "tasks", (int64_t) zhashx_size (a->tasks));
    jsonw_kdouble (w, "registered_s_ago", (double) (now - a->registered_at) / 1000.0);
    jsonw_kdouble (w, "last_seen_s_ago", (double) (now - a->last_seen) / 1000.0);
    /*  What its tasks use, from the latest samples the agent reported
        (s_handle_usage): the sums over the tasks that have one.         */
    size_t sampled = 0;
    double cpu_seconds = 0;
    int64_t mem_bytes = 0;
    for (task_t *t = zhashx_first (a->tasks); t; t = zhashx_next (a->tasks))
        if (t->has_usage) {
            sampled++;
            cpu_seconds += t->cpu_seconds;
            mem_bytes += t->mem_bytes;
        }
    jsonw_key (w, "usage");
    jsonw_object (w);
    jsonw_kint (w, "tasks_sampled", (int64_t) sampled);
    jsonw_kdouble (w, "cpu_seconds", cpu_seconds);
    jsonw_kint (w, "mem_bytes", mem_bytes);
    jsonw_end (w, '}');
    jsonw_end (w, '}');
    resources_fini (&offered);
    resources_fini (&free_res);
}

static void
s_count_states (framework_t *f, int counts[CAIRN_TASK_STATE_COUNT])
{
    memset (counts, 0, CAIRN_TASK_STATE_COUNT * sizeof (int));
    for (task_t *t = zhashx_first (f->tasks); t; t = zhashx_next (f->tasks))
        counts[t->status.state]++;
    for (task_t *t = zlistx_first (f->completed); t; t = zlistx_next (f->completed))
        counts[t->status.state]++;
}

/*  filters: decline filters in force against its offers, or -1 when not
    counted (then neither they nor why_no_offers are written).           */
static void
s_write_framework (master_t *self, jsonw_t *w, framework_t *f, bool summary, int64_t filters)
{
    int counts[CAIRN_TASK_STATE_COUNT];
    s_count_states (f, counts);
    jsonw_object (w);
    jsonw_kstring (w, "id", f->id);
    jsonw_kstring (w, "name", f->info.name);
    jsonw_kstring (w, "role", f->info.role);
    jsonw_kdouble (w, "role_weight", allocator_weight (self->allocator, f->info.role));
    jsonw_kstring (w, "principal", f->info.principal);
    jsonw_kstring (w, "user", f->info.user);
    jsonw_kbool (w, "connected", f->connected);
    jsonw_kbool (w, "removed", f->removed);
    jsonw_kdouble (w, "failover_timeout_s", (double) f->info.failover_timeout_ms / 1000.0);
    jsonw_kbool (w, "partition_aware", f->info.partition_aware);
    if (!summary)
        s_write_kv (w, "labels", &f->info.labels);
    s_write_resources (w, "used", &f->used);
    jsonw_kdouble (w, "dominant_share", f->removed ? 0.0 : allocator_share (self->allocator, f->id));
    jsonw_key (w, "tasks");
    jsonw_object (w);
    for (int st = 0; st < CAIRN_TASK_STATE_COUNT; st++)
        if (counts[st])
            jsonw_kint (w, cairn_task_state_name (st), counts[st]);
    jsonw_end (w, '}');
    jsonw_kint (w, "offers", (int64_t) zhashx_size (f->offers));
    bool suppressed = !f->removed && allocator_suppressed (self->allocator, f->id);
    jsonw_kbool (w, "suppressed", suppressed);
    if (filters >= 0) {
        /*  Only where the filters were counted in one pass (the summary). */
        jsonw_kint (w, "filters", filters);
        char why[128];
        if (f->removed)
            snprintf (why, sizeof why, "removed");
        else if (!f->connected)
            snprintf (why, sizeof why, "disconnected");
        else if (suppressed)
            snprintf (why, sizeof why, "suppressed: it asked for no offers");
        else if (zhashx_size (f->offers) == 0 && filters > 0)
            snprintf (why, sizeof why, "declined %" PRId64 " agent%s: refuse filter%s in force",
                      filters, filters == 1 ? "" : "s", filters == 1 ? "" : "s");
        else
            why[0] = '\0';
        if (why[0])
            jsonw_kstring (w, "why_no_offers", why);
    }
    jsonw_end (w, '}');
}

/*  framework id -> count of decline filters in force (summary).         */
static void
s_count_filter (const char *framework_id, const char *agent_id, void *arg)
{
    (void) agent_id;
    zhashx_t *counts = arg;
    uintptr_t n = (uintptr_t) zhashx_lookup (counts, framework_id);
    zhashx_update (counts, framework_id, (void *) (n + 1));
}

state_job_t *
master_state_begin (master_t *self, int64_t now)
{
    state_job_t *job = xzalloc (sizeof *job);
    jsonw_init (&job->w);
    job->now = now;
    job->agents = s_snapshot_keys (self->agents, &job->nagents);
    job->frameworks = s_snapshot_keys (self->frameworks, &job->nframeworks);
    job->offers = s_snapshot_keys (self->offers, &job->noffers);
    size_t n = 0;
    for (framework_t *f = zhashx_first (self->frameworks); f; f = zhashx_next (self->frameworks))
        n += zhashx_size (f->tasks);
    job->tasks = xmalloc ((n ? n : 1) * sizeof (char *));
    for (framework_t *f = zhashx_first (self->frameworks); f; f = zhashx_next (self->frameworks))
        for (task_t *t = zhashx_first (f->tasks); t && job->ntasks < n; t = zhashx_next (f->tasks))
            job->tasks[job->ntasks++] = xstrdup (t->key);
    return job;
}

void
master_state_job_destroy (state_job_t **job_p)
{
    if (job_p && *job_p) {
        state_job_t *job = *job_p;
        jsonw_fini (&job->w);
        s_free_keys (job->agents, job->nagents);
        s_free_keys (job->frameworks, job->nframeworks);
        s_free_keys (job->tasks, job->ntasks);
        s_free_keys (job->offers, job->noffers);
        free (job);
        *job_p = NULL;
    }
}

bool
master_state_step (master_t *self, state_job_t *job, size_t budget)
{
    jsonw_t *w = &job->w;
    size_t done = 0;
    while (job->phase != PHASE_DONE && done < budget) {
        switch (job->phase) {
            case PHASE_HEAD:
                jsonw_object (w);
                jsonw_kstring (w, "master_id", self->id);
                jsonw_kstring (w, "cluster_name", self->cluster_name);
                jsonw_kstring (w, "version", PACKAGE_VERSION);
                jsonw_kstring (w, "http_address", self->http_address);
                jsonw_kdouble (w, "uptime_s", (double) (job->now - self->started_at) / 1000.0);
                if (self->ha)
                    jsonw_kraw (w, "ha", self->ha);
                jsonw_key (w, "agents");
                jsonw_array (w);
                job->phase = PHASE_AGENTS;
                break;
            case PHASE_AGENTS:
                if (job->cursor < job->nagents) {
                    agent_t *a = zhashx_lookup (self->agents, job->agents[job->cursor++]);
                    if (a)
                        s_write_agent (self, w, a, job->now);
                    done++;
                    break;
                }
                jsonw_end (w, ']');
                jsonw_key (w, "frameworks");
                jsonw_array (w);
                job->phase = PHASE_FRAMEWORKS;
                job->cursor = 0;
                break;
            case PHASE_FRAMEWORKS:
                if (job->cursor < job->nframeworks) {
                    framework_t *f = zhashx_lookup (self->frameworks,
                                                    job->frameworks[job->cursor++]);
                    if (f) {
                        s_write_framework (self, w, f, false, -1);
                        done += 1 + zhashx_size (f->tasks) / 64;
                    }
                    break;
                }
                jsonw_end (w, ']');
                jsonw_key (w, "tasks");
                jsonw_array (w);
                job->phase = PHASE_TASKS;
                job->cursor = 0;
                break;
            case PHASE_TASKS:
                if (job->cursor < job->ntasks) {
                    char *key = job->tasks[job->cursor++];
                    char *slash = strchr (key, '/');
                    *slash = '\0';
                    framework_t *f = zhashx_lookup (self->frameworks, key);
                    task_t *t = f ? zhashx_lookup (f->tasks, slash + 1) : NULL;
                    *slash = '/';
                    if (t)
                        s_write_task (w, t);
                    done++;
                    break;
                }
                jsonw_end (w, ']');
                jsonw_key (w, "completed_tasks");
                jsonw_array (w);
                job->phase = PHASE_COMPLETED;
                job->cursor = 0;
                break;
            case PHASE_COMPLETED:
                if (job->cursor < job->nframeworks) {
                    framework_t *f = zhashx_lookup (self->frameworks,
                                                    job->frameworks[job->cursor++]);
                    if (f) {
                        for (task_t *t = zlistx_first (f->completed); t;
                             t = zlistx_next (f->completed))
                            s_write_task (w, t);
                        done += 1 + zlistx_size (f->completed);
                    }
                    break;
                }
                jsonw_end (w, ']');
                jsonw_key (w, "offers");
                jsonw_array (w);
                job->phase = PHASE_OFFERS;
                job->cursor = 0;
                break;
            case PHASE_OFFERS:
                if (job->cursor < job->noffers) {
                    offer_t *o = zhashx_lookup (self->offers, job->offers[job->cursor++]);
                    if (o) {
                        jsonw_object (w);
                        jsonw_kstring (w, "id", o->id);
                        jsonw_kstring (w, "framework_id", o->framework_id);
                        jsonw_kstring (w, "agent_id", o->agent_id);
                        s_write_resources (w, "resources", &o->resources);
                        jsonw_kdouble (w, "age_s", (double) (job->now - o->created) / 1000.0);
                        jsonw_end (w, '}');
                    }
                    done++;
                    break;
                }
                jsonw_end (w, ']');
                jsonw_key (w, "gone_agents");
                jsonw_array (w);
                for (char *reason = zhashx_first (self->gone); reason;
                     reason = zhashx_next (self->gone)) {
                    jsonw_object (w);
                    jsonw_kstring (w, "id", (const char *) zhashx_cursor (self->gone));
                    jsonw_kstring (w, "reason", reason);
                    jsonw_end (w, '}');
                }
                jsonw_end (w, ']');
                jsonw_end (w, '}');
                job->phase = PHASE_DONE;
                break;
            case PHASE_DONE:
                break;
        }
    }
    return job->phase == PHASE_DONE;
}

char *
master_state_take (state_job_t **job_p, size_t *size)
{
    char *text = jsonw_take (&(*job_p)->w, size);
    master_state_job_destroy (job_p);
    return text;
}

char *
master_state_text (master_t *self, int64_t now, size_t *size)
{
    state_job_t *job = master_state_begin (self, now);
    while (!master_state_step (self, job, SIZE_MAX))
        ;
    return master_state_take (&job, size);
}

json_t *
master_state_json (master_t *self, int64_t now)
{
    size_t size;
    char *text = master_state_text (self, now, &size);
    json_t *json = json_loadb (text, size, 0, NULL);
    free (text);
    return json;
}

/*  "series": the samples oldest first, each rounded to 3 decimals.       */
static void
s_write_series (master_t *self, jsonw_t *w)
{
    const series_t *ser = &self->series;
    size_t first = (ser->head + MASTER_SERIES_LEN - ser->count) % MASTER_SERIES_LEN;
    jsonw_key (w, "series");
    jsonw_object (w);
    jsonw_kdouble (w, "interval_s", (double) ser->interval_ms / 1000.0);
    for (int which = 0; which < 2; which++) {
        const float *v = which ? ser->launch_rate : ser->allocation_ms;
        jsonw_key (w, which ? "launch_rate" : "allocation_ms");
        jsonw_array (w);
        for (size_t i = 0; i < ser->count; i++)
            jsonw_double (w, round ((double) v[(first + i) % MASTER_SERIES_LEN] * 1000.0)
                             / 1000.0);
        jsonw_end (w, ']');
    }
    jsonw_end (w, '}');
}

/*  The counts an operator of a large cluster looks at first, cheap to
    build: no per-agent or per-task lists.                                */
char *
master_summary_text (master_t *self, int64_t now, size_t *size)
{
    size_t active = 0, unreachable = 0, draining = 0;
    cairn_resources_t total, used, offered;
    resources_init (&total);
    resources_init (&used);
    resources_init (&offered);
    for (offer_t *o = zhashx_first (self->offers); o; o = zhashx_next (self->offers))
        cairn_resources_add (&offered, &o->resources);
    for (agent_t *a = zhashx_first (self->agents); a; a = zhashx_next (self->agents)) {
        draining += a->draining;
        if (a->state == AGENT_ACTIVE) {
            active++;
            cairn_resources_add (&total, &a->total);
            cairn_resources_add (&used, &a->used);
        }
        else
            unreachable++;      /* or recovering after a restart */
    }
    int counts[CAIRN_TASK_STATE_COUNT] = { 0 };
    jsonw_t w;
    jsonw_init (&w);
    jsonw_object (&w);
    jsonw_kstring (&w, "master_id", self->id);
    jsonw_kstring (&w, "cluster_name", self->cluster_name);
    jsonw_kstring (&w, "version", PACKAGE_VERSION);
    jsonw_kdouble (&w, "uptime_s", (double) (now - self->started_at) / 1000.0);
    if (self->ha)
        jsonw_kraw (&w, "ha", self->ha);
    jsonw_key (&w, "agents");
    jsonw_object (&w);
    jsonw_kint (&w, "active", (int64_t) active);
    jsonw_kint (&w, "unreachable", (int64_t) unreachable);
    jsonw_kint (&w, "draining", (int64_t) draining);
    jsonw_end (&w, '}');
    s_write_resources (&w, "resources", &total);
    s_write_resources (&w, "used", &used);
    s_write_resources (&w, "offered", &offered);
    zhashx_t *filters = zhashx_new ();
    allocator_each_filter (self->allocator, now, s_count_filter, filters);
    jsonw_key (&w, "frameworks");
    jsonw_array (&w);
    for (framework_t *f = zhashx_first (self->frameworks); f; f = zhashx_next (self->frameworks)) {
        int fc[CAIRN_TASK_STATE_COUNT];
        s_count_states (f, fc);
        for (int st = 0; st < CAIRN_TASK_STATE_COUNT; st++)
            counts[st] += fc[st];
        s_write_framework (self, &w, f, true,
                           (int64_t) (uintptr_t) zhashx_lookup (filters, f->id));
    }
    jsonw_end (&w, ']');
    zhashx_destroy (&filters);
    jsonw_key (&w, "tasks");
    jsonw_object (&w);
    for (int st = 0; st < CAIRN_TASK_STATE_COUNT; st++)
        if (counts[st])
            jsonw_kint (&w, cairn_task_state_name (st), counts[st]);
    jsonw_end (&w, '}');
    jsonw_kint (&w, "offers", (int64_t) zhashx_size (self->offers));
    jsonw_kint (&w, "tasks_launched", (int64_t) self->counters.tasks_launched);
    s_write_series (self, &w);
    jsonw_end (&w, '}');
    resources_fini (&total);
    resources_fini (&used);
    resources_fini (&offered);
    return jsonw_take (&w, size);
}

char *
master_agents_text (master_t *self, int64_t now, size_t *size)
{
    jsonw_t w;
    jsonw_init (&w);
    jsonw_object (&w);
    jsonw_key (&w, "agents");
    jsonw_array (&w);
    for (agent_t *a = zhashx_first (self->agents); a; a = zhashx_next (self->agents))
        s_write_agent (self, &w, a, now);
    jsonw_end (&w, ']');
    jsonw_end (&w, '}');
    return jsonw_take (&w, size);
}

/*  Prometheus text exposition format, version 0.0.4.                     */
char *
master_metrics_text (master_t *self, int64_t now, size_t *size)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream (&buf, &len);
    if (!f)
        oom_abort ();
    size_t agents[3] = { 0, 0, 0 }, draining = 0;
    for (agent_t *a = zhashx_first (self->agents); a; a = zhashx_next (self->agents)) {
        agents[a->state]++;
        draining += a->draining;
    }
    fprintf (f, "# HELP cairn_master_agents Agents known to the master, by state.\n"
                "# TYPE cairn_master_agents gauge\n"
                "cairn_master_agents{state=\"active\"} %zu\n"
                "cairn_master_agents{state=\"unreachable\"} %zu\n"
                "cairn_master_agents{state=\"recovering\"} %zu\n"
                "cairn_master_agents{state=\"gone\"} %zu\n", agents[AGENT_ACTIVE],
             agents[AGENT_UNREACHABLE], agents[AGENT_RECOVERING], zhashx_size (self->gone));
    fprintf (f, "# HELP cairn_master_agents_draining Agents an operator drains (any state).\n"
                "# TYPE cairn_master_agents_draining gauge\n"
                "cairn_master_agents_draining %zu\n", draining);
    size_t fws[3] = { 0, 0, 0 };
    int counts[CAIRN_TASK_STATE_COUNT] = { 0 };
    for (framework_t *fw = zhashx_first (self->frameworks); fw; fw = zhashx_next (self->frameworks)) {
        fws[fw->removed ? 2 : fw->connected ? 0 : 1]++;
        int fc[CAIRN_TASK_STATE_COUNT];
        s_count_states (fw, fc);
        for (int st = 0; st < CAIRN_TASK_STATE_COUNT; st++)
            counts[st] += fc[st];
    }
    fprintf (f, "# HELP cairn_master_frameworks Frameworks known to the master, by state.\n"
                "# TYPE cairn_master_frameworks gauge\n"
                "cairn_master_frameworks{state=\"connected\"} %zu\n"
                "cairn_master_frameworks{state=\"disconnected\"} %zu\n"
                "cairn_master_frameworks{state=\"removed\"} %zu\n", fws[0], fws[1], fws[2]);
    fprintf (f, "# HELP cairn_master_tasks Tasks known to the master (live and kept completed), "
                "by state.\n# TYPE cairn_master_tasks gauge\n");
    for (int st = 0; st < CAIRN_TASK_STATE_COUNT; st++)
        fprintf (f, "cairn_master_tasks{state=\"%s\"} %d\n", cairn_task_state_name (st), counts[st]);
    fprintf (f, "# HELP cairn_master_offers_outstanding Offers made and not yet answered.\n"
                "# TYPE cairn_master_offers_outstanding gauge\n"
                "cairn_master_offers_outstanding %zu\n", zhashx_size (self->offers));
    fprintf (f, "# HELP cairn_master_offers_total Offers made since the master started.\n"
                "# TYPE cairn_master_offers_total counter\n"
                "cairn_master_offers_total %" PRIu64 "\n", self->counters.offers_made);
    fprintf (f, "# HELP cairn_master_tasks_launched_total Tasks sent to agents to run.\n"
                "# TYPE cairn_master_tasks_launched_total counter\n"
                "cairn_master_tasks_launched_total %" PRIu64 "\n", self->counters.tasks_launched);
    fprintf (f, "# HELP cairn_master_allocation_runs_total Allocation runs.\n"
                "# TYPE cairn_master_allocation_runs_total counter\n"
                "cairn_master_allocation_runs_total %" PRIu64 "\n", self->counters.allocation_runs);
    fprintf (f, "# HELP cairn_master_allocation_last_run_seconds Duration of the last allocation "
                "run.\n# TYPE cairn_master_allocation_last_run_seconds gauge\n"
                "cairn_master_allocation_last_run_seconds %.6f\n",
             (double) self->counters.last_allocation_us / 1e6);
    fprintf (f, "# HELP cairn_master_allocation_run_seconds_total Time spent in allocation "
                "runs (offers made and sent included).\n"
                "# TYPE cairn_master_allocation_run_seconds_total counter\n"
                "cairn_master_allocation_run_seconds_total %.6f\n",
             (double) self->counters.allocation_us_total / 1e6);
    /*  The heap in use (every thread's arena, libzmq's buffers included):
        what memory per agent and per task is measured with.             */
    struct mallinfo2 mi = mallinfo2 ();
    fprintf (f, "# HELP cairn_master_heap_bytes Bytes of heap in use (malloc).\n"
                "# TYPE cairn_master_heap_bytes gauge\n"
                "cairn_master_heap_bytes %zu\n", mi.uordblks + mi.hblkhd);
    fprintf (f, "# HELP cairn_master_messages_received_total Valid messages received, by type.\n"
                "# TYPE cairn_master_messages_received_total counter\n");
    for (size_t i = 0; i < proto_type_count (); i++) {
        proto_type_t t = proto_type_at (i);
        fprintf (f, "cairn_master_messages_received_total{type=\"%s\"} %" PRIu64 "\n",
                 proto_type_name (t), self->counters.received[t & 0xff]);
    }
    fprintf (f, "# HELP cairn_master_messages_sent_total Messages queued for sending, by type.\n"
                "# TYPE cairn_master_messages_sent_total counter\n");
    for (size_t i = 0; i < proto_type_count (); i++) {
        proto_type_t t = proto_type_at (i);
        fprintf (f, "cairn_master_messages_sent_total{type=\"%s\"} %" PRIu64 "\n",
                 proto_type_name (t), self->counters.sent[t & 0xff]);
    }
    fprintf (f, "# HELP cairn_master_messages_invalid_total Frames the codec refused (dropped "
                "with an error reply where possible).\n"
                "# TYPE cairn_master_messages_invalid_total counter\n"
                "cairn_master_messages_invalid_total %" PRIu64 "\n", self->counters.invalid);
    fprintf (f, "# HELP cairn_master_messages_refused_total Valid messages a handler refused "
                "(not registered, wrong role).\n"
                "# TYPE cairn_master_messages_refused_total counter\n"
                "cairn_master_messages_refused_total %" PRIu64 "\n", self->counters.refused);
    fprintf (f, "# HELP cairn_master_uptime_seconds Time since the master started.\n"
                "# TYPE cairn_master_uptime_seconds gauge\n"
                "cairn_master_uptime_seconds %.3f\n", (double) (now - self->started_at) / 1000.0);
    if (fclose (f) != 0)
        oom_abort ();
    *size = len;
    return buf;
}

json_t *
master_health_json (master_t *self, int64_t now)
{
    json_t *health = json_pack ("{s:s s:s s:f s:I s:I}", "status", "ok", "master_id",
                                self->id, "uptime_s",
                                (double) (now - self->started_at) / 1000.0, "agents",
                                (json_int_t) zhashx_size (self->agents), "frameworks",
                                (json_int_t) zhashx_size (self->frameworks));
    json_t *ha = self->ha ? json_loads (self->ha, 0, NULL) : NULL;
    if (ha)
        json_object_set_new (health, "ha", ha);
    return health;
}

void
master_shift_clocks (master_t *self, int64_t ms)
{
    for (agent_t *a = zhashx_first (self->agents); a; a = zhashx_next (self->agents)) {
        a->last_seen += ms;
        a->next_ping += ms;
    }
    for (framework_t *f = zhashx_first (self->frameworks); f; f = zhashx_next (self->frameworks)) {
        f->last_seen += ms;
        if (f->failover_deadline)
            f->failover_deadline += ms;
    }
    for (offer_t *o = zhashx_first (self->offers); o; o = zhashx_next (self->offers))
        o->created += ms;
    if (self->recovery_deadline)
        self->recovery_deadline += ms;
}

void
master_set_registry (master_t *self, registry_t *registry)
{
    self->config.registry = registry;
}

void
master_set_ha (master_t *self, const char *ha_json)
{
    free (self->ha);
    self->ha = ha_json ? xstrdup (ha_json) : NULL;
}
