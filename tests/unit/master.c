/*  master.c - unit test of the master's message handlers (master.h).

    The master is driven the way main.c drives it, without sockets:
    messages go in through master_handle from made-up routing ids (one per
    peer), time moves only when the test says so (the now_ms arguments of
    master_handle, master_tick and master_allocate), and what the master
    would send is read from its outbox. Every message in and out also goes
    through the codec, so the test sends nothing a real peer could not
    send, and the master must send nothing a real peer would refuse.

    The first tests read as a walk through the offer cycle; the later ones
    are the rules around it: filters, invalid launches, refused messages,
    liveness, teardown, failover, reconciliation, DRF and the bound on
    completed tasks.                                                      */
#include <math.h>

#include "allocator.h"
#include "log.h"
#include "master.h"
#include "proto.h"
#include "resources.h"
#include "transport.h"
#include "tap.h"

#define T0              1000000         /* the tests' clock starts here (ms) */
#define PING_MS         100
#define PING_MISSES     3
#define REFUSE_MS       5000            /* the master's default refuse time */
/*  A status's state and reason, or -1 when there is no status.           */
#define STATE_OF(s)     ((s) ? (int) (s)->state : -1)
#define REASON_OF(s)    ((s) ? (int) (s)->reason : -1)

#define AGENT_RES       "cpus:4;mem:4096;disk:1000;ports:[31000-31999]"

static master_config_t
s_config (void)
{
    master_config_t config = {
        .ping_interval_ms = PING_MS,
        .max_ping_misses = PING_MISSES,
        .allocation_interval_ms = 1000,
        .default_refuse_ms = REFUSE_MS,
        .max_completed_tasks = 100,
        .max_completed_frameworks = 10,
        .min_allocatable = NULL,
        .http_address = "127.0.0.1:5051",
    };
    return config;
}

/*  ------------------------------------------------------------------ */
/*  Plumbing: routes, the codec on both sides, the outbox               */
/*  ------------------------------------------------------------------ */

static route_t
s_route (const char *name)
{
    route_t route = { 0 };
    route.size = (uint8_t) strlen (name);
    memcpy (route.data, name, route.size);
    return route;
}

static bool
s_same_route (const route_t *a, const route_t *b)
{
    return a->size == b->size && memcmp (a->data, b->data, a->size) == 0;
}

static int s_codec_refusals;            /* messages the codec refused, in or out */

/*  The message as the peer on the other end decodes it; NULL (and a
    diagnostic) if the codec refuses it.                                   */
static proto_msg_t *
s_over_the_wire (const proto_msg_t *msg)
{
    uint8_t hdr[PROTO_HEADER_SIZE];
    char *body = NULL;
    size_t size = 0;
    proto_fault_t fault;
    if (proto_encode (msg, hdr, &body, &size, &fault) != 0) {
        diag ("the codec refuses to encode %s: %s", proto_type_name (msg->type), fault.text);
        s_codec_refusals++;
        return NULL;
    }
    proto_msg_t *back = proto_decode (hdr, sizeof hdr, body, size, &fault);
    free (body);
    if (!back) {
        diag ("the codec refuses to decode %s: %s", proto_type_name (msg->type), fault.text);
        s_codec_refusals++;
    }
    return back;
}

/*  A peer sends msg (taken) to the master at time now.                    */
static void
s_send (master_t *m, const route_t *from, proto_msg_t *msg, int64_t now)
{
    proto_msg_t *wire = s_over_the_wire (msg);
    proto_msg_destroy (&msg);
    if (wire)
        master_handle (m, from, wire, now);
}

/*  What the master would send now, each message as its peer decodes it.
    The caller frees the list with outmsg_destroy_list.                    */
static outmsg_t *
s_take (master_t *m)
{
    outmsg_t *list = master_outbox_take (m);
    for (outmsg_t *out = list; out; out = out->next) {
        proto_msg_t *wire = s_over_the_wire (out->msg);
        if (wire) {
            proto_msg_destroy (&out->msg);
            out->msg = wire;
        }
    }
    return list;
}

/*  Drops whatever the master queued (pings, replies we do not look at).  */
static void
s_drain (master_t *m)
{
    outmsg_t *out = s_take (m);
    outmsg_destroy_list (&out);
}

/*  Messages of `type` (0: any) to `to` (NULL: anyone).                    */
static size_t
s_count (outmsg_t *list, const route_t *to, proto_type_t type)
{
    size_t n = 0;
    for (outmsg_t *out = list; out; out = out->next)
        if ((!to || s_same_route (&out->route, to)) && (!type || out->msg->type == type))
            n++;
    return n;
}

/*  The nth message of `type` to `to` (borrowed), or NULL.                 */
static proto_msg_t *
s_find (outmsg_t *list, const route_t *to, proto_type_t type, size_t nth)
{
    for (outmsg_t *out = list; out; out = out->next)
        if ((!to || s_same_route (&out->route, to)) && out->msg->type == type && nth-- == 0)
            return out->msg;
    return NULL;
}

/*  The first status update about task_id sent to `to`, or NULL.           */
static proto_status_t *
s_find_status (outmsg_t *list, const route_t *to, const char *task_id)
{
    for (outmsg_t *out = list; out; out = out->next)
        if (s_same_route (&out->route, to) && out->msg->type == PROTO_STATUS_UPDATE
            && strcmp (out->msg->u.status.task_id, task_id) == 0)
            return &out->msg->u.status;
    return NULL;
}

/*  Every offer sent to `to` in the list, and the nth of them.             */
static size_t
s_offer_count (outmsg_t *list, const route_t *to)
{
    size_t n = 0;
    for (outmsg_t *out = list; out; out = out->next)
        if (s_same_route (&out->route, to) && out->msg->type == PROTO_OFFERS)
            n += out->msg->u.offers.offers.count;
    return n;
}

static proto_offer_t *
s_offer (outmsg_t *list, const route_t *to, size_t nth)
{
    for (outmsg_t *out = list; out; out = out->next)
        if (s_same_route (&out->route, to) && out->msg->type == PROTO_OFFERS) {
            proto_offer_t *offers = out->msg->u.offers.offers.items;
            if (nth < out->msg->u.offers.offers.count)
                return &offers[nth];
            nth -= out->msg->u.offers.offers.count;
        }
    return NULL;
}

/*  The offer made to `to` on agent_id, or NULL.                           */
static proto_offer_t *
s_offer_on (outmsg_t *list, const route_t *to, const char *agent_id)
{
    proto_offer_t *o;
    for (size_t i = 0; (o = s_offer (list, to, i)); i++)
        if (strcmp (o->agent_id, agent_id) == 0)
            return o;
    return NULL;
}

/*  Runs an allocation at `now` and returns what it sent.                  */
static outmsg_t *
s_allocate (master_t *m, int64_t now)
{
    master_allocate (m, now);
    return s_take (m);
}

static cairn_resources_t *
s_res (const char *text)
{
    cairn_resources_t *r = cairn_resources_parse (text);
    if (!r)
        printf ("Bail out! the test's resources '%s' do not parse: %s\n", text,
                cairn_strerror_last ());
    if (!r)
        exit (1);
    return r;
}

/*  True if `got` equals the resources written as `want`; says why not.  */
static bool
s_res_is (const cairn_resources_t *got, const char *want)
{
    cairn_resources_t *w = s_res (want);
    bool same = got && cairn_resources_equal (got, w);
    if (!same) {
        char *g = got ? cairn_resources_format (got) : NULL;
        diag ("resources: got '%s', expected '%s'", g ? g : "(none)", want);
        free (g);
    }
    cairn_resources_destroy (&w);
    return same;
}

static void
s_set (char **field, const char *value)
{
    free (*field);
    *field = strdup (value);
}

/*  ------------------------------------------------------------------ */
/*  Messages peers send                                                 */
/*  ------------------------------------------------------------------ */

static proto_msg_t *
s_agent_register_msg (const char *agent_id, const char *hostname, const char *resources)
{
    proto_msg_t *msg = proto_msg_new (PROTO_AGENT_REGISTER);
    proto_agent_register_t *r = &msg->u.agent_register;
    s_set (&r->agent_id, agent_id);
    s_set (&r->hostname, hostname);
    s_set (&r->http_address, "127.0.0.1:5052");
    s_set (&r->version, "test");
    cairn_resources_destroy (&r->resources);
    r->resources = s_res (resources);
    proto_kv_set (&r->attributes, "rack", "r1");
    return msg;
}

static void
s_fill_task (proto_task_t *t, const char *task_id, const char *resources)
{
    proto_task_init (t);
    s_set (&t->task_id, task_id);
    s_set (&t->name, task_id);
    s_set (&t->command, "sleep 1000");
    cairn_resources_destroy (&t->resources);
    t->resources = s_res (resources);
}

/*  Adds a task the agent reports on (re-)registration.                    */
static void
s_agent_register_task (proto_msg_t *msg, const char *framework_id, const char *task_id,
                       const char *resources, cairn_task_state_t state)
{
    proto_agent_task_t *at = proto_list_push (&msg->u.agent_register.tasks, sizeof *at);
    at->framework_id = strdup (framework_id);
    s_fill_task (&at->task, task_id, resources);
    at->state = state;
}

static proto_msg_t *
s_framework_register_msg (const char *framework_id, const char *name, const char *role)
{
    proto_msg_t *msg = proto_msg_new (PROTO_FRAMEWORK_REGISTER);
    proto_framework_info_t *info = &msg->u.framework;
    s_set (&info->id, framework_id);
    s_set (&info->name, name);
    s_set (&info->role, role);
    s_set (&info->user, "nobody");
    info->failover_timeout_ms = 1000;
    return msg;
}

static proto_msg_t *
s_accept_msg (const char *offer_id, int64_t refuse_ms)
{
    proto_msg_t *msg = proto_msg_new (PROTO_ACCEPT);
    proto_strs_add (&msg->u.accept.offer_ids, offer_id);
    msg->u.accept.refuse_ms = refuse_ms;
    return msg;
}

static void
s_accept_task (proto_msg_t *accept, const char *task_id, const char *resources)
{
    proto_task_t *t = proto_list_push (&accept->u.accept.tasks, sizeof *t);
    s_fill_task (t, task_id, resources);
}

static proto_msg_t *
s_decline_msg (const char *offer_id, int64_t refuse_ms)
{
    proto_msg_t *msg = proto_msg_new (PROTO_DECLINE);
    proto_strs_add (&msg->u.decline.offer_ids, offer_id);
    msg->u.decline.refuse_ms = refuse_ms;
    return msg;
}

static proto_msg_t *
s_update_msg (const char *framework_id, const char *task_id, const char *agent_id,
              cairn_task_state_t state, const char *uuid)
{
    proto_msg_t *msg = proto_msg_new (PROTO_STATUS_UPDATE);
    proto_status_t *s = &msg->u.status;
    s_set (&s->uuid, uuid);
    s_set (&s->task_id, task_id);
    s_set (&s->framework_id, framework_id);
    s_set (&s->agent_id, agent_id);
    s->state = state;
    s_set (&s->message, "as the agent saw it");
    s->timestamp = 1.7e9;
    if (cairn_task_state_is_terminal (state))
        s->exit_code = state == CAIRN_TASK_FINISHED ? 0 : 1;
    return msg;
}

static proto_msg_t *
s_simple_msg (proto_type_t type)
{
    return proto_msg_new (type);
}

static proto_msg_t *
s_unregister_msg (bool failover)
{
    proto_msg_t *msg = proto_msg_new (PROTO_UNREGISTER);
    msg->u.unregister.failover = failover;
    return msg;
}

static proto_msg_t *
s_pong_msg (void)
{
    proto_msg_t *msg = proto_msg_new (PROTO_PONG);
    msg->u.ping.seq = 1;
    return msg;
}

/*  ------------------------------------------------------------------ */
/*  A small cluster: a master, agents and frameworks on named routes    */
/*  ------------------------------------------------------------------ */

#define MAX_PEERS 16

typedef struct {
    master_t *m;
    master_config_t config;
    route_t agent[MAX_PEERS];
    char *agent_id[MAX_PEERS];
    size_t agents;
    route_t fw[MAX_PEERS];
    char *fw_id[MAX_PEERS];
    size_t fws;
} cluster_t;

static cluster_t *
s_cluster_new (const master_config_t *config)
{
    cluster_t *c = calloc (1, sizeof *c);
    c->config = *config;
    c->m = master_new (&c->config);
    return c;
}

static void
s_cluster_destroy (cluster_t **c_p)
{
    cluster_t *c = *c_p;
    master_destroy (&c->m);
    for (size_t i = 0; i < c->agents; i++)
        free (c->agent_id[i]);
    for (size_t i = 0; i < c->fws; i++)
        free (c->fw_id[i]);
    free (c);
    *c_p = NULL;
}

/*  Registers an agent on route "agent-<i>"; returns its index. What the
    master queued is dropped.                                             */
static size_t
s_add_agent (cluster_t *c, const char *resources, int64_t now)
{
    size_t i = c->agents++;
    char name[32], hostname[32];
    snprintf (name, sizeof name, "agent-%zu", i);
    snprintf (hostname, sizeof hostname, "host%zu", i);
    c->agent[i] = s_route (name);
    s_send (c->m, &c->agent[i], s_agent_register_msg ("", hostname, resources), now);
    outmsg_t *out = s_take (c->m);
    proto_msg_t *reply = s_find (out, &c->agent[i], PROTO_AGENT_REGISTERED, 0);
    c->agent_id[i] = strdup (reply ? reply->u.agent_registered.agent_id : "(unregistered)");
    outmsg_destroy_list (&out);
    return i;
}

/*  Registers a framework on route "fw-<i>"; returns its index.           */
static size_t
s_add_framework_msg (cluster_t *c, proto_msg_t *msg, int64_t now)
{
    size_t i = c->fws++;
    char name[32];
    snprintf (name, sizeof name, "fw-%zu", i);
    c->fw[i] = s_route (name);
    s_send (c->m, &c->fw[i], msg, now);
    outmsg_t *out = s_take (c->m);
    proto_msg_t *reply = s_find (out, &c->fw[i], PROTO_FRAMEWORK_REGISTERED, 0);
    c->fw_id[i] = strdup (reply ? reply->u.framework_registered.framework_id : "(unregistered)");
    outmsg_destroy_list (&out);
    return i;
}

static size_t
s_add_framework (cluster_t *c, const char *name, const char *role, int64_t now)
{
    return s_add_framework_msg (c, s_framework_register_msg ("", name, role), now);
}

/*  Allocates at `now` and accepts the offer on agent `ai` made to
    framework `fi` with one task; returns true if a RUN_TASKS went out.
    refuse_ms 0: the remainder goes back without a filter.                */
static bool
s_launch (cluster_t *c, size_t fi, size_t ai, const char *task_id, const char *resources,
          int64_t refuse_ms, int64_t now)
{
    outmsg_t *out = s_allocate (c->m, now);
    proto_offer_t *o = s_offer_on (out, &c->fw[fi], c->agent_id[ai]);
    if (!o) {
        diag ("no offer on %s for %s", c->agent_id[ai], c->fw_id[fi]);
        outmsg_destroy_list (&out);
        return false;
    }
    proto_msg_t *acc = s_accept_msg (o->offer_id, refuse_ms);
    s_accept_task (acc, task_id, resources);
    outmsg_destroy_list (&out);
    s_send (c->m, &c->fw[fi], acc, now);
    out = s_take (c->m);
    bool ran = s_count (out, &c->agent[ai], PROTO_RUN_TASKS) == 1;
    outmsg_destroy_list (&out);
    return ran;
}

/*  The agent `ai` reports a task's state (uuid given); drops the output. */
static void
s_report (cluster_t *c, size_t ai, size_t fi, const char *task_id, cairn_task_state_t state,
          const char *uuid, int64_t now)
{
    s_send (c->m, &c->agent[ai], s_update_msg (c->fw_id[fi], task_id, c->agent_id[ai], state, uuid),
            now);
    s_drain (c->m);
}

/*  /state, and pieces of it                                               */

static json_t *
s_state_find (json_t *state, const char *list, const char *id)
{
    size_t i;
    json_t *item;
    json_array_foreach (json_object_get (state, list), i, item)
        if (strcmp (json_string_value (json_object_get (item, "id")), id) == 0)
            return item;
    return NULL;
}

static size_t
s_state_size (json_t *state, const char *list)
{
    return json_array_size (json_object_get (state, list));
}

static const char *
s_state_str (json_t *obj, const char *key)
{
    const char *s = json_string_value (json_object_get (obj, key));
    return s ? s : "(absent)";
}

/*  The task's state in /state ("tasks" or "completed_tasks"), or NULL.   */
static const char *
s_task_state (json_t *state, const char *list, const char *task_id)
{
    json_t *t = s_state_find (state, list, task_id);
    return t ? s_state_str (t, "state") : NULL;
}

/*  ------------------------------------------------------------------ */
/*  The offer cycle                                                     */
/*  ------------------------------------------------------------------ */

static void
test_offer_cycle (void)
{
    master_config_t config = s_config ();
    master_t *m = master_new (&config);
    route_t agent = s_route ("agent-1");
    route_t sched = s_route ("scheduler-1");
    int64_t now = T0;
    outmsg_t *out;

    /*  An agent registers with its resources and gets an id.             */
    s_send (m, &agent, s_agent_register_msg ("", "host1", AGENT_RES), now);
    out = s_take (m);
    cmp_int (s_count (out, NULL, 0), 1, "agent register: one reply");
    proto_msg_t *reply = s_find (out, &agent, PROTO_AGENT_REGISTERED, 0);
    ok (reply != NULL, "agent register: AGENT_REGISTERED goes back to the agent's route");
    char *agent_id = strdup (reply ? reply->u.agent_registered.agent_id : "");
    ok (proto_id_valid (agent_id), "agent register: the agent has an id (%s)", agent_id);
    is (reply ? reply->u.agent_registered.master_id : NULL, master_id (m),
        "agent register: the reply names the master");
    cmp_int (reply ? reply->u.agent_registered.ping_interval_ms : 0, PING_MS,
             "agent register: the reply gives the ping interval");
    outmsg_destroy_list (&out);
    ok (master_allocation_pending (m), "an agent that joins asks for an allocation");

    /*  A framework registers and gets an id and the master's HTTP address. */
    now += 10;
    s_send (m, &sched, s_framework_register_msg ("", "cycle", "*"), now);
    out = s_take (m);
    cmp_int (s_count (out, NULL, 0), 1, "framework register: one reply");
    reply = s_find (out, &sched, PROTO_FRAMEWORK_REGISTERED, 0);
    ok (reply != NULL, "framework register: FRAMEWORK_REGISTERED goes to the framework's route");
    char *fw_id = strdup (reply ? reply->u.framework_registered.framework_id : "");
    ok (proto_id_valid (fw_id), "framework register: the framework has an id (%s)", fw_id);
    ok (strcmp (fw_id, agent_id) != 0, "framework register: its id is not the agent's");
    is (reply ? reply->u.framework_registered.master_http : NULL, "127.0.0.1:5051",
        "framework register: the reply gives the master's HTTP address");
    ok (reply && !reply->u.framework_registered.reregistered,
        "framework register: a first registration is not a re-registration");
    outmsg_destroy_list (&out);

    /*  The allocator offers the whole agent to the only framework.       */
    out = s_allocate (m, now);
    cmp_int (s_count (out, NULL, 0), 1, "allocate: one message");
    cmp_int (s_count (out, &sched, PROTO_OFFERS), 1, "allocate: one OFFERS to the framework");
    cmp_int (s_offer_count (out, &sched), 1, "allocate: one offer in it");
    proto_offer_t *o = s_offer (out, &sched, 0);
    is (o ? o->agent_id : NULL, agent_id, "allocate: the offer is on the agent");
    is (o ? o->hostname : NULL, "host1", "allocate: the offer names the agent's host");
    is (o ? proto_kv_get (&o->attributes, "rack") : NULL, "r1",
        "allocate: the offer carries the agent's attributes");
    ok (o && s_res_is (o->resources, AGENT_RES), "allocate: the offer is all of the agent");
    char *offer_id = strdup (o ? o->offer_id : "");
    outmsg_destroy_list (&out);
    out = s_allocate (m, now + 1);
    cmp_int (s_count (out, NULL, 0), 0, "allocate again: nothing new is free, nothing offered");
    outmsg_destroy_list (&out);

    /*  The framework launches two tasks on the offer (default refuse time). */
    now += 10;
    proto_msg_t *acc = s_accept_msg (offer_id, -1);
    s_accept_task (acc, "t1", "cpus:1;mem:1024");
    s_accept_task (acc, "t2", "cpus:1;mem:1024;ports:[31000-31000]");
    s_send (m, &sched, acc, now);
    int64_t accepted_at = now;
    out = s_take (m);
    cmp_int (s_count (out, NULL, 0), 1, "accept: one message");
    proto_msg_t *run = s_find (out, &agent, PROTO_RUN_TASKS, 0);
    ok (run != NULL, "accept: RUN_TASKS goes to the agent's route");
    proto_task_t *tasks = run ? run->u.run_tasks.tasks.items : NULL;
    cmp_int (run ? run->u.run_tasks.tasks.count : 0, 2, "accept: RUN_TASKS carries both tasks");
    if (run && run->u.run_tasks.tasks.count == 2) {
        is (tasks[0].task_id, "t1", "accept: the first task is t1");
        is (tasks[1].task_id, "t2", "accept: the second task is t2");
        is (tasks[0].command, "sleep 1000", "accept: the task's command is passed on");
        ok (s_res_is (tasks[1].resources, "cpus:1;mem:1024;ports:[31000-31000]"),
            "accept: the task's resources are passed on");
    }
    is (run ? run->u.run_tasks.framework->id : NULL, fw_id,
        "accept: RUN_TASKS carries the framework's id");
    is (run ? run->u.run_tasks.framework->name : NULL, "cycle",
        "accept: RUN_TASKS carries the framework's info (name)");
    is (run ? run->u.run_tasks.framework->user : NULL, "nobody",
        "accept: RUN_TASKS carries the framework's info (user)");
    outmsg_destroy_list (&out);

    json_t *state = master_state_json (m, now);
    is (s_task_state (state, "tasks", "t1"), "TASK_STAGING", "/state: t1 is staging");
    is (s_task_state (state, "tasks", "t2"), "TASK_STAGING", "/state: t2 is staging");
    cmp_int (s_state_size (state, "offers"), 0, "/state: the accepted offer is gone");
    json_decref (state);

    /*  The remainder is filtered for this framework for the refuse time. */
    out = s_allocate (m, accepted_at + 1000);
    cmp_int (s_offer_count (out, &sched), 0, "the remainder is not re-offered 1 s later");
    outmsg_destroy_list (&out);
    out = s_allocate (m, accepted_at + REFUSE_MS + 1);
    cmp_int (s_offer_count (out, &sched), 1, "the remainder is re-offered after the refuse time");
    o = s_offer (out, &sched, 0);
    ok (o && s_res_is (o->resources, "cpus:2;mem:2048;disk:1000;ports:[31001-31999]"),
        "the re-offer is the agent minus both tasks");
    char *offer2_id = strdup (o ? o->offer_id : "");
    outmsg_destroy_list (&out);
    now = accepted_at + REFUSE_MS + 1;

    /*  A status update from the agent reaches the framework unchanged.   */
    proto_msg_t *upd = s_update_msg (fw_id, "t1", agent_id, CAIRN_TASK_RUNNING, "u-1");
    upd->u.status.healthy = 1;
    s_send (m, &agent, upd, now);
    out = s_take (m);
    cmp_int (s_count (out, NULL, 0), 1, "status update: one message");
    proto_status_t *s = s_find_status (out, &sched, "t1");
    ok (s != NULL, "status update: forwarded to the framework's route");
    is (s ? s->uuid : NULL, "u-1", "status update: same uuid");
    cmp_int (STATE_OF (s), CAIRN_TASK_RUNNING, "status update: same state");
    is (s ? s->agent_id : NULL, agent_id, "status update: same agent id");
    is (s ? s->message : NULL, "as the agent saw it", "status update: same message");
    cmp_int (s ? s->healthy : -1, 1, "status update: same health");
    outmsg_destroy_list (&out);

    /*  The framework's acknowledgement goes to the agent.                 */
    proto_msg_t *ack = proto_msg_new (PROTO_STATUS_ACK);
    s_set (&ack->u.status_ack.framework_id, fw_id);
    s_set (&ack->u.status_ack.agent_id, agent_id);
    s_set (&ack->u.status_ack.task_id, "t1");
    s_set (&ack->u.status_ack.uuid, "u-1");
    s_send (m, &sched, ack, now);
    out = s_take (m);
    cmp_int (s_count (out, NULL, 0), 1, "status ack: one message");
    reply = s_find (out, &agent, PROTO_STATUS_ACK, 0);
    ok (reply != NULL, "status ack: forwarded to the agent's route");
    is (reply ? reply->u.status_ack.uuid : NULL, "u-1", "status ack: same uuid");
    is (reply ? reply->u.status_ack.task_id : NULL, "t1", "status ack: same task");
    outmsg_destroy_list (&out);

    state = master_state_json (m, now);
    is (s_task_state (state, "tasks", "t1"), "TASK_RUNNING", "/state: t1 is running");
    json_decref (state);

    /*  A terminal update gives the task's resources back: once the
        outstanding remainder is declined (without a filter), the next
        offer is the remainder plus t1.                                    */
    s_send (m, &sched, s_decline_msg (offer2_id, 0), now);
    s_drain (m);
    s_send (m, &agent, s_update_msg (fw_id, "t1", agent_id, CAIRN_TASK_FINISHED, "u-2"), now);
    out = s_take (m);
    s = s_find_status (out, &sched, "t1");
    cmp_int (STATE_OF (s), CAIRN_TASK_FINISHED, "terminal update: forwarded");
    outmsg_destroy_list (&out);
    ok (master_allocation_pending (m), "terminal update: asks for an allocation");
    out = s_allocate (m, now);
    o = s_offer (out, &sched, 0);
    ok (o && s_res_is (o->resources, "cpus:3;mem:3072;disk:1000;ports:[31001-31999]"),
        "terminal update: t1's resources are offered again");
    outmsg_destroy_list (&out);

    /*  A duplicate of the terminal update (the agent resends until it is
        acknowledged) is forwarded but returns nothing twice.              */
    s_send (m, &agent, s_update_msg (fw_id, "t1", agent_id, CAIRN_TASK_FINISHED, "u-2"), now);
    out = s_take (m);
    cmp_int (s_count (out, &sched, PROTO_STATUS_UPDATE), 1, "duplicate terminal update: forwarded");
    outmsg_destroy_list (&out);
    state = master_state_json (m, now);
    json_t *ja = s_state_find (state, "agents", agent_id);
    json_t *used = json_object_get (ja, "used");
    ok (fabs (json_number_value (json_object_get (used, "cpus")) - 1.0) < 1e-9
        && json_integer_value (json_object_get (used, "mem")) == 1024,
        "/state: the agent's used resources are t2's only (1 cpu, 1024 MiB)");
    is (s_task_state (state, "completed_tasks", "t1"), "TASK_FINISHED",
        "/state: t1 is a completed task");
    cmp_int (s_state_size (state, "tasks"), 1, "/state: one live task (t2)");
    json_decref (state);

    free (offer2_id);
    free (offer_id);
    free (fw_id);
    free (agent_id);
    master_destroy (&m);
}

/*  ------------------------------------------------------------------ */
/*  Decline filters, revive, suppress                                   */
/*  ------------------------------------------------------------------ */

static void
test_decline_revive_suppress (void)
{
    master_config_t config = s_config ();
    cluster_t *c = s_cluster_new (&config);
    int64_t now = T0;
    size_t a = s_add_agent (c, AGENT_RES, now);
    size_t f1 = s_add_framework (c, "first", "*", now);

    outmsg_t *out = s_allocate (c->m, now);
    proto_offer_t *o = s_offer_on (out, &c->fw[f1], c->agent_id[a]);
    ok (o != NULL, "decline: the first framework gets an offer");
    proto_msg_t *dec = s_decline_msg (o ? o->offer_id : "none", 10000);
    outmsg_destroy_list (&out);
    s_send (c->m, &c->fw[f1], dec, now);
    out = s_take (c->m);
    cmp_int (s_count (out, NULL, 0), 0, "decline: no reply");
    outmsg_destroy_list (&out);

    out = s_allocate (c->m, now + 1000);
    cmp_int (s_offer_count (out, &c->fw[f1]), 0, "decline: not re-offered within the refuse time");
    outmsg_destroy_list (&out);

    /*  The filter is the first framework's only.                          */
    size_t f2 = s_add_framework (c, "second", "*", now + 1000);
    out = s_allocate (c->m, now + 1000);
    cmp_int (s_offer_count (out, &c->fw[f1]), 0, "decline: the declining framework still gets nothing");
    o = s_offer_on (out, &c->fw[f2], c->agent_id[a]);
    ok (o && s_res_is (o->resources, AGENT_RES),
        "decline: another framework gets the agent meanwhile");
    /*  The second framework declines for a long time: out of the way.    */
    dec = s_decline_msg (o ? o->offer_id : "none", 3600 * 1000);
    outmsg_destroy_list (&out);
    s_send (c->m, &c->fw[f2], dec, now + 1000);

    /*  Revive clears the first framework's filter before it expires.     */
    out = s_allocate (c->m, now + 2000);
    cmp_int (s_count (out, NULL, PROTO_OFFERS), 0, "decline: both filtered, nothing offered");
    outmsg_destroy_list (&out);
    s_send (c->m, &c->fw[f1], s_simple_msg (PROTO_REVIVE), now + 2000);
    out = s_take (c->m);
    cmp_int (s_count (out, NULL, 0), 0, "revive: no reply");
    outmsg_destroy_list (&out);
    ok (master_allocation_pending (c->m), "revive: asks for an allocation");
    out = s_allocate (c->m, now + 2000);
    o = s_offer_on (out, &c->fw[f1], c->agent_id[a]);
    ok (o != NULL, "revive: the agent is offered again at once");
    cmp_int (s_offer_count (out, &c->fw[f2]), 0, "revive: the other framework's filter stays");
    dec = s_decline_msg (o ? o->offer_id : "none", 0);
    outmsg_destroy_list (&out);

    /*  Suppress: no offers at all, whatever the filters, until revive.   */
    s_send (c->m, &c->fw[f1], s_simple_msg (PROTO_SUPPRESS), now + 3000);
    s_send (c->m, &c->fw[f1], dec, now + 3000);
    s_drain (c->m);
    out = s_allocate (c->m, now + 3000);
    cmp_int (s_offer_count (out, &c->fw[f1]), 0, "suppress: no offer right after declining");
    outmsg_destroy_list (&out);
    s_send (c->m, &c->fw[f2], s_unregister_msg (false), now + 4000);
    s_drain (c->m);
    out = s_allocate (c->m, now + 100000);
    cmp_int (s_count (out, NULL, PROTO_OFFERS), 0,
             "suppress: no offer much later, with the agent free and no competitor");
    outmsg_destroy_list (&out);
    s_send (c->m, &c->fw[f1], s_simple_msg (PROTO_REVIVE), now + 100000);
    out = s_allocate (c->m, now + 100000);
    ok (s_offer_on (out, &c->fw[f1], c->agent_id[a]) != NULL, "suppress: revive ends it");
    outmsg_destroy_list (&out);

    s_cluster_destroy (&c);
}

/*  ------------------------------------------------------------------ */
/*  Invalid launches                                                    */
/*  ------------------------------------------------------------------ */

/*  Sends an ACCEPT of the given offers with the given tasks ("id=res"),
    returns what the master sent.                                          */
static outmsg_t *
s_try_accept (cluster_t *c, size_t fi, const char *const *offer_ids, size_t noffers,
              const char *const *tasks, size_t ntasks, int64_t now)
{
    proto_msg_t *acc = proto_msg_new (PROTO_ACCEPT);
    for (size_t i = 0; i < noffers; i++)
        proto_strs_add (&acc->u.accept.offer_ids, offer_ids[i]);
    acc->u.accept.refuse_ms = 0;
    for (size_t i = 0; i < ntasks; i++) {
        char *id = strdup (tasks[i]);
        char *res = strchr (id, '=');
        *res++ = '\0';
        s_accept_task (acc, id, res);
        free (id);
    }
    s_send (c->m, &c->fw[fi], acc, now);
    return s_take (c->m);
}

static void
test_invalid_launches (void)
{
    master_config_t config = s_config ();
    cluster_t *c = s_cluster_new (&config);
    int64_t now = T0;
    size_t a1 = s_add_agent (c, AGENT_RES, now);
    size_t a2 = s_add_agent (c, AGENT_RES, now);
    size_t f1 = s_add_framework (c, "launcher", "*", now);
    outmsg_t *out = s_allocate (c->m, now);
    cmp_int (s_offer_count (out, &c->fw[f1]), 2, "setup: one offer per agent");
    proto_offer_t *o1 = s_offer_on (out, &c->fw[f1], c->agent_id[a1]);
    proto_offer_t *o2 = s_offer_on (out, &c->fw[f1], c->agent_id[a2]);
    char *offer1 = strdup (o1 ? o1->offer_id : "none");
    char *offer2 = strdup (o2 ? o2->offer_id : "none");
    outmsg_destroy_list (&out);

    /*  An offer id that is not outstanding: every task is dropped, and
        the framework's valid offer in the same accept goes back.          */
    {
        const char *offers[] = { offer1, "no-such-offer" };
        const char *tasks[] = { "x1=cpus:1;mem:128", "x2=cpus:1;mem:128" };
        out = s_try_accept (c, f1, offers, 2, tasks, 2, now);
        cmp_int (s_count (out, NULL, PROTO_RUN_TASKS), 0, "unknown offer: nothing runs");
        cmp_int (s_count (out, &c->fw[f1], PROTO_STATUS_UPDATE), 2, "unknown offer: one update per task");
        for (int i = 0; i < 2; i++) {
            proto_status_t *s = s_find_status (out, &c->fw[f1], i ? "x2" : "x1");
            cmp_int (STATE_OF (s), CAIRN_TASK_DROPPED, "unknown offer: x%d is TASK_DROPPED", i + 1);
            cmp_int (REASON_OF (s), CAIRN_REASON_INVALID_OFFERS,
                     "unknown offer: x%d has REASON_INVALID_OFFERS", i + 1);
            ok (s && strstr (s->message, "no-such-offer"), "unknown offer: the message names it");
        }
        outmsg_destroy_list (&out);
        json_t *state = master_state_json (c->m, now);
        json_t *fw = s_state_find (state, "frameworks", c->fw_id[f1]);
        cmp_int (json_integer_value (json_object_get (fw, "offers")), 1,
                 "unknown offer: the valid offer in it is gone too (one left)");
        cmp_int (s_state_size (state, "tasks"), 0, "unknown offer: no task on the books");
        json_decref (state);
        out = s_allocate (c->m, now);
        o1 = s_offer_on (out, &c->fw[f1], c->agent_id[a1]);
        ok (o1 && s_res_is (o1->resources, AGENT_RES),
            "unknown offer: the valid offer's agent is offered again, whole");
        free (offer1);
        offer1 = strdup (o1 ? o1->offer_id : "none");
        outmsg_destroy_list (&out);
    }

    /*  Offers on two different agents in one accept.                      */
    {
        const char *offers[] = { offer1, offer2 };
        const char *tasks[] = { "y1=cpus:1;mem:128" };
        out = s_try_accept (c, f1, offers, 2, tasks, 1, now);
        cmp_int (s_count (out, NULL, PROTO_RUN_TASKS), 0, "two agents: nothing runs");
        proto_status_t *s = s_find_status (out, &c->fw[f1], "y1");
        cmp_int (STATE_OF (s), CAIRN_TASK_DROPPED, "two agents: TASK_DROPPED");
        cmp_int (REASON_OF (s), CAIRN_REASON_INVALID_OFFERS, "two agents: REASON_INVALID_OFFERS");
        outmsg_destroy_list (&out);
        out = s_allocate (c->m, now);
        cmp_int (s_offer_count (out, &c->fw[f1]), 2, "two agents: both offers went back");
        o1 = s_offer_on (out, &c->fw[f1], c->agent_id[a1]);
        o2 = s_offer_on (out, &c->fw[f1], c->agent_id[a2]);
        free (offer1);
        free (offer2);
        offer1 = strdup (o1 ? o1->offer_id : "none");
        offer2 = strdup (o2 ? o2->offer_id : "none");
        outmsg_destroy_list (&out);
    }

    /*  An offer made to another framework.                                */
    {
        size_t a3 = s_add_agent (c, AGENT_RES, now);
        size_t f2 = s_add_framework (c, "other", "*", now);
        out = s_allocate (c->m, now);
        proto_offer_t *o3 = s_offer_on (out, &c->fw[f2], c->agent_id[a3]);
        ok (o3 != NULL, "another's offer: setup, the new agent is offered to the new framework");
        char *offer3 = strdup (o3 ? o3->offer_id : "none");
        outmsg_destroy_list (&out);
        const char *offers[] = { offer3 };
        const char *tasks[] = { "z1=cpus:1;mem:128" };
        out = s_try_accept (c, f1, offers, 1, tasks, 1, now);
        cmp_int (s_count (out, NULL, PROTO_RUN_TASKS), 0, "another's offer: nothing runs");
        proto_status_t *s = s_find_status (out, &c->fw[f1], "z1");
        cmp_int (STATE_OF (s), CAIRN_TASK_DROPPED, "another's offer: TASK_DROPPED");
        cmp_int (REASON_OF (s), CAIRN_REASON_INVALID_OFFERS,
                 "another's offer: REASON_INVALID_OFFERS");
        cmp_int (s_count (out, &c->fw[f2], 0), 0, "another's offer: its owner hears nothing");
        outmsg_destroy_list (&out);
        /*  The owner's offer is untouched: it can still launch on it.     */
        const char *tasks2[] = { "z1=cpus:1;mem:128" };
        out = s_try_accept (c, f2, offers, 1, tasks2, 1, now);
        cmp_int (s_count (out, &c->agent[a3], PROTO_RUN_TASKS), 1,
                 "another's offer: its owner still launches on it");
        outmsg_destroy_list (&out);
        free (offer3);
    }

    /*  A task that asks for more than offered fails alone: the other task
        in the same launch runs.                                           */
    {
        const char *offers[] = { offer1 };
        const char *tasks[] = { "big=cpus:8;mem:128", "fits=cpus:1;mem:512" };
        out = s_try_accept (c, f1, offers, 1, tasks, 2, now);
        proto_status_t *s = s_find_status (out, &c->fw[f1], "big");
        cmp_int (STATE_OF (s), CAIRN_TASK_ERROR, "too big: TASK_ERROR");
        cmp_int (REASON_OF (s), CAIRN_REASON_TASK_INVALID, "too big: REASON_TASK_INVALID");
        proto_msg_t *run = s_find (out, &c->agent[a1], PROTO_RUN_TASKS, 0);
        proto_task_t *t = run ? run->u.run_tasks.tasks.items : NULL;
        ok (run && run->u.run_tasks.tasks.count == 1 && strcmp (t[0].task_id, "fits") == 0,
            "too big: the other task runs, alone");
        ok (!s_find_status (out, &c->fw[f1], "fits"), "too big: no update about the other task");
        outmsg_destroy_list (&out);
    }

    /*  Duplicate task ids: twice in one launch, and a running task's id. */
    {
        const char *offers[] = { offer2 };
        const char *tasks[] = { "d1=cpus:1;mem:128", "d1=cpus:1;mem:128", "fits=cpus:1;mem:128",
                                "none=disk:10" };
        out = s_try_accept (c, f1, offers, 1, tasks, 4, now);
        proto_msg_t *run = s_find (out, &c->agent[a2], PROTO_RUN_TASKS, 0);
        proto_task_t *t = run ? run->u.run_tasks.tasks.items : NULL;
        ok (run && run->u.run_tasks.tasks.count == 1 && strcmp (t[0].task_id, "d1") == 0,
            "duplicates: the first d1 runs, nothing else");
        cmp_int (s_count (out, &c->fw[f1], PROTO_STATUS_UPDATE), 3, "duplicates: three updates");
        proto_status_t *s = s_find_status (out, &c->fw[f1], "d1");
        cmp_int (STATE_OF (s), CAIRN_TASK_ERROR, "duplicates: the second d1 is TASK_ERROR");
        cmp_int (REASON_OF (s), CAIRN_REASON_TASK_INVALID, "duplicates: REASON_TASK_INVALID");
        s = s_find_status (out, &c->fw[f1], "fits");
        cmp_int (STATE_OF (s), CAIRN_TASK_ERROR,
                 "duplicates: a running task's id (on another agent) is TASK_ERROR");
        /*  A task with no cpus and no mem is refused.                     */
        s = s_find_status (out, &c->fw[f1], "none");
        cmp_int (STATE_OF (s), CAIRN_TASK_ERROR, "no cpus, no mem: TASK_ERROR");
        cmp_int (REASON_OF (s), CAIRN_REASON_TASK_INVALID, "no cpus, no mem: REASON_TASK_INVALID");
        outmsg_destroy_list (&out);
    }

    /*  The books: the two tasks that run use what they asked for, and
        everything else on those agents is free again.                     */
    json_t *state = master_state_json (c->m, now);
    cmp_int (s_state_size (state, "tasks"), 3, "after the launches: three live tasks (fits, d1, z1)");
    json_t *ja = s_state_find (state, "agents", c->agent_id[a2]);
    json_t *used = json_object_get (ja, "used");
    ok (fabs (json_number_value (json_object_get (used, "cpus")) - 1.0) < 1e-9
        && json_integer_value (json_object_get (used, "mem")) == 128,
        "after the launches: the second agent's used resources are d1's");
    json_decref (state);
    out = s_allocate (c->m, now);
    size_t owner = f1;
    proto_offer_t *o = s_offer_on (out, &c->fw[f1], c->agent_id[a2]);
    if (!o) {   /* DRF: the other framework may hold less */
        owner = c->fws - 1;
        o = s_offer_on (out, &c->fw[owner], c->agent_id[a2]);
    }
    ok (o && s_res_is (o->resources, "cpus:3;mem:3968;disk:1000;ports:[31000-31999]"),
        "after the launches: the refused tasks' share is offered again");

    /*  The same offer twice in one accept.                                */
    {
        char *twice = strdup (o ? o->offer_id : "none");
        outmsg_destroy_list (&out);
        const char *offers[] = { twice, twice };
        const char *tasks[] = { "w1=cpus:1;mem:128" };
        out = s_try_accept (c, owner, offers, 2, tasks, 1, now);
        cmp_int (s_count (out, NULL, PROTO_RUN_TASKS), 0, "offer listed twice: nothing runs");
        proto_status_t *s = s_find_status (out, &c->fw[owner], "w1");
        cmp_int (STATE_OF (s), CAIRN_TASK_DROPPED, "offer listed twice: TASK_DROPPED");
        cmp_int (REASON_OF (s), CAIRN_REASON_INVALID_OFFERS, "offer listed twice: REASON_INVALID_OFFERS");
        outmsg_destroy_list (&out);
        out = s_allocate (c->m, now);
        ok (s_offer_on (out, &c->fw[f1], c->agent_id[a2]) || s_offer_on (out, &c->fw[owner], c->agent_id[a2]),
            "offer listed twice: the offer went back");
        free (twice);
    }
    outmsg_destroy_list (&out);

    free (offer1);
    free (offer2);
    s_cluster_destroy (&c);
}

/*  ------------------------------------------------------------------ */
/*  Refused messages                                                    */
/*  ------------------------------------------------------------------ */

static void
s_expect_error (master_t *m, const route_t *to, const char *code, proto_type_t in_reply_to,
                const char *what)
{
    outmsg_t *out = s_take (m);
    proto_msg_t *err = s_find (out, to, PROTO_ERROR, 0);
    cmp_int (s_count (out, NULL, 0), 1, "%s: one reply", what);
    is (err ? err->u.error.code : NULL, code, "%s: ERROR %s", what, code);
    cmp_int (err ? err->u.error.in_reply_to : -1, in_reply_to, "%s: in reply to %s", what,
             proto_type_name (in_reply_to));
    outmsg_destroy_list (&out);
}

static void
test_refused (void)
{
    master_config_t config = s_config ();
    cluster_t *c = s_cluster_new (&config);
    int64_t now = T0;
    route_t stranger = s_route ("stranger");
    size_t a = s_add_agent (c, AGENT_RES, now);
    size_t f = s_add_framework (c, "fw", "*", now);

    s_send (c->m, &stranger, s_accept_msg ("some-offer", -1), now);
    s_expect_error (c->m, &stranger, "not-registered", PROTO_ACCEPT, "ACCEPT from an unknown route");
    s_send (c->m, &stranger, s_update_msg (c->fw_id[f], "t", c->agent_id[a], CAIRN_TASK_RUNNING, "u"),
            now);
    s_expect_error (c->m, &stranger, "not-registered", PROTO_STATUS_UPDATE,
                    "STATUS_UPDATE from an unknown route");
    /*  Registered, but in the other role.                                 */
    s_send (c->m, &c->agent[a], s_simple_msg (PROTO_REVIVE), now);
    s_expect_error (c->m, &c->agent[a], "not-registered", PROTO_REVIVE, "REVIVE from an agent");
    s_send (c->m, &c->fw[f], s_update_msg (c->fw_id[f], "t", c->agent_id[a], CAIRN_TASK_RUNNING, "u"),
            now);
    s_expect_error (c->m, &c->fw[f], "not-registered", PROTO_STATUS_UPDATE,
                    "STATUS_UPDATE from a framework");
    s_send (c->m, &c->fw[f], s_agent_register_msg ("", "hostx", AGENT_RES), now);
    s_expect_error (c->m, &c->fw[f], "refused", PROTO_AGENT_REGISTER,
                    "AGENT_REGISTER from a framework's route");

    /*  Messages the master sends, sent to it.                             */
    proto_msg_t *offers = proto_msg_new (PROTO_OFFERS);
    proto_offer_t *o = proto_list_push (&offers->u.offers.offers, sizeof *o);
    o->offer_id = strdup ("o1");
    o->agent_id = strdup ("a1");
    o->hostname = strdup ("h");
    o->resources = s_res ("cpus:1");
    s_send (c->m, &c->fw[f], offers, now);
    s_expect_error (c->m, &c->fw[f], "unexpected", PROTO_OFFERS, "OFFERS sent to the master");
    proto_msg_t *reg = proto_msg_new (PROTO_AGENT_REGISTERED);
    s_set (&reg->u.agent_registered.agent_id, "a1");
    s_set (&reg->u.agent_registered.master_id, "m1");
    s_send (c->m, &stranger, reg, now);
    s_expect_error (c->m, &stranger, "unexpected", PROTO_AGENT_REGISTERED,
                    "AGENT_REGISTERED sent to the master");

    /*  A status update that names another agent than its sender.         */
    s_send (c->m, &c->agent[a], s_update_msg (c->fw_id[f], "t", "someone-else", CAIRN_TASK_RUNNING, "u"),
            now);
    s_expect_error (c->m, &c->agent[a], "bad-field", PROTO_STATUS_UPDATE,
                    "STATUS_UPDATE about another agent");

    /*  Anyone may ping and ask who the master is.                         */
    proto_msg_t *ping = proto_msg_new (PROTO_PING);
    ping->u.ping.seq = 42;
    s_send (c->m, &stranger, ping, now);
    s_send (c->m, &stranger, s_simple_msg (PROTO_INFO_REQUEST), now);
    outmsg_t *out = s_take (c->m);
    proto_msg_t *pong = s_find (out, &stranger, PROTO_PONG, 0);
    cmp_int (pong ? pong->u.ping.seq : -1, 42, "PING: PONG with the same seq");
    proto_msg_t *info = s_find (out, &stranger, PROTO_INFO, 0);
    is (info ? info->u.info.master_id : NULL, master_id (c->m), "INFO_REQUEST: INFO names the master");
    is (info ? info->u.info.http_address : NULL, "127.0.0.1:5051", "INFO_REQUEST: and its HTTP address");
    outmsg_destroy_list (&out);

    /*  Frames the codec refused: a peer of another protocol version gets
        the codec's sentence, which names both versions.                   */
    proto_msg_t *msg = s_agent_register_msg ("", "h", AGENT_RES);
    uint8_t hdr[PROTO_HEADER_SIZE];
    char *body = NULL;
    size_t size = 0;
    proto_fault_t fault;
    ok (proto_encode (msg, hdr, &body, &size, &fault) == 0, "version: encode a register");
    hdr[2] = PROTO_VERSION + 1;
    proto_msg_t *none = proto_decode (hdr, sizeof hdr, body, size, &fault);
    ok (none == NULL && strcmp (fault.code, "version") == 0, "version: the codec refuses it");
    proto_msg_destroy (&none);
    free (body);
    proto_msg_destroy (&msg);
    uint64_t invalid_before = master_counters (c->m)->invalid;
    master_handle_invalid (c->m, &stranger, &fault);
    out = s_take (c->m);
    proto_msg_t *err = s_find (out, &stranger, PROTO_ERROR, 0);
    cmp_int (s_count (out, NULL, 0), 1, "version: one reply");
    is (err ? err->u.error.code : NULL, "version", "version: ERROR code version");
    is (err ? err->u.error.message : NULL, fault.text, "version: ERROR text is the codec's");
    cmp_int (err ? err->u.error.in_reply_to : -1, PROTO_AGENT_REGISTER,
             "version: in reply to AGENT_REGISTER");
    outmsg_destroy_list (&out);
    /*  A frame that is not Cairn at all gets no answer.                   */
    uint8_t junk[2] = { 'h', 'i' };
    none = proto_decode (junk, sizeof junk, junk, sizeof junk, &fault);
    ok (none == NULL, "junk: the codec refuses it");
    master_handle_invalid (c->m, &stranger, &fault);
    out = s_take (c->m);
    cmp_int (s_count (out, NULL, 0), 0, "junk: no reply");
    outmsg_destroy_list (&out);
    cmp_int (master_counters (c->m)->invalid - invalid_before, 2, "counters: two invalid frames");

    /*  Nothing of this changed the books.                                 */
    json_t *state = master_state_json (c->m, now);
    cmp_int (s_state_size (state, "agents"), 1, "refused messages: still one agent");
    cmp_int (s_state_size (state, "frameworks"), 1, "refused messages: still one framework");
    json_decref (state);
    s_cluster_destroy (&c);
}

/*  ------------------------------------------------------------------ */
/*  Liveness                                                            */
/*  ------------------------------------------------------------------ */

static void
test_liveness (void)
{
    master_config_t config = s_config ();
    cluster_t *c = s_cluster_new (&config);
    int64_t now = T0;
    size_t a = s_add_agent (c, AGENT_RES, now);
    size_t f = s_add_framework (c, "plain", "*", now);

    /*  Each framework runs a task on the agent; the first framework then
        holds an offer of the rest.                                        */
    ok (s_launch (c, f, a, "lf", "cpus:2;mem:1024", 0, now), "setup: the plain framework's task runs");
    proto_msg_t *reg = s_framework_register_msg ("", "aware", "*");
    reg->u.framework.partition_aware = true;
    size_t p = s_add_framework_msg (c, reg, now);
    ok (s_launch (c, p, a, "lp", "cpus:1;mem:1024", REFUSE_MS, now), "setup: the aware one's runs");
    outmsg_t *out = s_allocate (c->m, now);
    proto_offer_t *o = s_offer_on (out, &c->fw[f], c->agent_id[a]);
    ok (o != NULL, "setup: the plain framework holds an offer of the rest");
    char *offer_id = strdup (o ? o->offer_id : "none");
    outmsg_destroy_list (&out);
    s_report (c, a, f, "lf", CAIRN_TASK_RUNNING, "u-lf", now);
    s_report (c, a, p, "lp", CAIRN_TASK_RUNNING, "u-lp", now);

    /*  Pings every interval, to every agent and framework.               */
    master_tick (c->m, now);
    s_drain (c->m);
    master_tick (c->m, now + PING_MS);
    out = s_take (c->m);
    cmp_int (s_count (out, NULL, 0), 3, "tick: three pings");
    ok (s_find (out, &c->agent[a], PROTO_PING, 0) != NULL, "tick: the agent is pinged");
    ok (s_find (out, &c->fw[f], PROTO_PING, 0) != NULL, "tick: a framework is pinged");
    ok (s_find (out, &c->fw[p], PROTO_PING, 0) != NULL, "tick: the other framework is pinged");
    outmsg_destroy_list (&out);
    master_tick (c->m, now + PING_MS + PING_MS / 2);
    out = s_take (c->m);
    cmp_int (s_count (out, NULL, PROTO_PING), 0, "tick: no pings within the interval");
    outmsg_destroy_list (&out);

    /*  The frameworks answer every ping; the agent answers the first only. */
    int64_t last_heard = now + PING_MS;
    s_send (c->m, &c->agent[a], s_pong_msg (), last_heard);
    int64_t t;
    for (t = now + 2 * PING_MS; t <= last_heard + PING_MS * PING_MISSES; t += PING_MS) {
        s_send (c->m, &c->fw[f], s_pong_msg (), t);
        s_send (c->m, &c->fw[p], s_pong_msg (), t);
        master_tick (c->m, t);
        s_drain (c->m);
    }
    json_t *state = master_state_json (c->m, t);
    is (s_state_str (s_state_find (state, "agents", c->agent_id[a]), "state"), "ACTIVE",
        "silent for exactly ping interval * misses: still active");
    json_decref (state);

    /*  One more millisecond of silence: unreachable.                     */
    t = last_heard + PING_MS * PING_MISSES + 1;
    s_send (c->m, &c->fw[f], s_pong_msg (), t);
    s_send (c->m, &c->fw[p], s_pong_msg (), t);
    master_tick (c->m, t);
    out = s_take (c->m);
    state = master_state_json (c->m, t);
    is (s_state_str (s_state_find (state, "agents", c->agent_id[a]), "state"), "UNREACHABLE",
        "silent longer: the agent is unreachable");
    json_decref (state);
    cmp_int (s_count (out, &c->agent[a], 0), 0, "unreachable: the agent is not pinged");
    proto_msg_t *rescind = s_find (out, &c->fw[f], PROTO_RESCIND, 0);
    is (rescind ? rescind->u.rescind.offer_id : NULL, offer_id, "unreachable: its offer is rescinded");
    proto_status_t *s = s_find_status (out, &c->fw[f], "lf");
    cmp_int (STATE_OF (s), CAIRN_TASK_LOST, "unreachable: the task is TASK_LOST");
    cmp_int (REASON_OF (s), CAIRN_REASON_AGENT_DISCONNECTED,
             "unreachable: reason REASON_AGENT_DISCONNECTED");
    is (s ? s->uuid : NULL, "", "unreachable: the master's update needs no acknowledgement");
    s = s_find_status (out, &c->fw[p], "lp");
    cmp_int (STATE_OF (s), CAIRN_TASK_UNREACHABLE,
             "unreachable: TASK_UNREACHABLE for a partition-aware framework");
    proto_msg_t *lost = s_find (out, &c->fw[f], PROTO_AGENT_LOST, 0);
    is (lost ? lost->u.agent_lost.agent_id : NULL, c->agent_id[a], "unreachable: AGENT_LOST");
    lost = s_find (out, &c->fw[p], PROTO_AGENT_LOST, 0);
    is (lost ? lost->u.agent_lost.agent_id : NULL, c->agent_id[a],
        "unreachable: AGENT_LOST to the other framework");
    cmp_int (s_count (out, &c->fw[f], PROTO_AGENT_LOST), 1, "unreachable: AGENT_LOST once");
    outmsg_destroy_list (&out);
    out = s_allocate (c->m, t);
    cmp_int (s_count (out, NULL, PROTO_OFFERS), 0, "unreachable: the agent is not offered");
    outmsg_destroy_list (&out);
    s_send (c->m, &c->agent[a], s_update_msg (c->fw_id[f], "lf", c->agent_id[a], CAIRN_TASK_RUNNING, "u"),
            t);
    s_expect_error (c->m, &c->agent[a], "not-registered", PROTO_STATUS_UPDATE,
                    "unreachable: its old session is over");

    /*  The agent comes back (new connection, same id) with both tasks
        running: the frameworks hear RUNNING again.                        */
    t += 1000;
    route_t back = s_route ("agent-0-again");
    proto_msg_t *again = s_agent_register_msg (c->agent_id[a], "host0", AGENT_RES);
    s_agent_register_task (again, c->fw_id[f], "lf", "cpus:2;mem:1024", CAIRN_TASK_RUNNING);
    s_agent_register_task (again, c->fw_id[p], "lp", "cpus:1;mem:1024", CAIRN_TASK_RUNNING);
    s_send (c->m, &back, again, t);
    out = s_take (c->m);
    proto_msg_t *reply = s_find (out, &back, PROTO_AGENT_REGISTERED, 0);
    is (reply ? reply->u.agent_registered.agent_id : NULL, c->agent_id[a],
        "back: AGENT_REGISTERED with the same id, to the new route");
    s = s_find_status (out, &c->fw[f], "lf");
    cmp_int (STATE_OF (s), CAIRN_TASK_RUNNING, "back: the task is RUNNING again");
    s = s_find_status (out, &c->fw[p], "lp");
    cmp_int (STATE_OF (s), CAIRN_TASK_RUNNING, "back: the other framework's task too");
    outmsg_destroy_list (&out);
    state = master_state_json (c->m, t);
    is (s_state_str (s_state_find (state, "agents", c->agent_id[a]), "state"), "ACTIVE",
        "back: the agent is active");
    is (s_task_state (state, "tasks", "lf"), "TASK_RUNNING", "back: /state has the task running");
    json_decref (state);
    /*  Its free part (not the tasks') is offered again.                   */
    out = s_allocate (c->m, t);
    o = s_offer_on (out, &c->fw[f], c->agent_id[a]);
    ok (o && s_res_is (o->resources, "cpus:1;mem:2048;disk:1000;ports:[31000-31999]"),
        "back: the agent minus its two tasks is offered");
    outmsg_destroy_list (&out);
    /*  Updates now come from the new route.                               */
    s_send (c->m, &back, s_update_msg (c->fw_id[f], "lf", c->agent_id[a], CAIRN_TASK_FINISHED, "u-9"), t);
    out = s_take (c->m);
    s = s_find_status (out, &c->fw[f], "lf");
    is (s ? s->uuid : NULL, "u-9", "back: updates on the new route reach the framework");
    outmsg_destroy_list (&out);

    /*  A framework that stops answering is disconnected, not removed.    */
    int64_t fw_heard = t;
    s_send (c->m, &c->fw[f], s_pong_msg (), fw_heard);
    s_send (c->m, &c->fw[p], s_pong_msg (), fw_heard);
    for (t = fw_heard + PING_MS; t <= fw_heard + PING_MS * PING_MISSES + PING_MS; t += PING_MS) {
        s_send (c->m, &back, s_pong_msg (), t);
        s_send (c->m, &c->fw[p], s_pong_msg (), t);
        master_tick (c->m, t);
        s_drain (c->m);
    }
    state = master_state_json (c->m, t);
    json_t *jf = s_state_find (state, "frameworks", c->fw_id[f]);
    ok (json_is_false (json_object_get (jf, "connected")), "silent framework: disconnected");
    ok (json_is_false (json_object_get (jf, "removed")), "silent framework: not removed (failover)");
    jf = s_state_find (state, "frameworks", c->fw_id[p]);
    ok (json_is_true (json_object_get (jf, "connected")), "the answering framework stays connected");
    json_decref (state);

    free (offer_id);
    s_cluster_destroy (&c);
}

/*  ------------------------------------------------------------------ */
/*  Teardown and failover                                               */
/*  ------------------------------------------------------------------ */

/*  Agents that register together are pinged at spread-out times, each
    once per interval: a large cluster's pings never all leave (and their
    answers all arrive) in one pass of the loop.                          */
/*  A leader that paused (no word from ZooKeeper) resumes: the pause does
    not count against the agents and frameworks that could not reach it. */
static void
test_shift_clocks (void)
{
    master_config_t config = s_config ();
    cluster_t *c = s_cluster_new (&config);
    int64_t now = T0;
    size_t a = s_add_agent (c, AGENT_RES, now);
    size_t f = s_add_framework (c, "paused", "*", now);
    master_tick (c->m, now);
    s_drain (c->m);
    /*  Nothing heard for three times the liveness timeout, all paused.   */
    int64_t pause = 3 * PING_MS * PING_MISSES;
    master_shift_clocks (c->m, pause);
    master_tick (c->m, now + pause);
    s_drain (c->m);
    json_t *state = master_state_json (c->m, now + pause);
    is (s_state_str (s_state_find (state, "agents", c->agent_id[a]), "state"), "ACTIVE",
        "after a pause, with the clocks shifted by it, the agent is still active");
    json_t *fw = s_state_find (state, "frameworks", c->fw_id[f]);
    ok (fw && json_is_true (json_object_get (fw, "connected")),
        "and the framework still connected");
    json_decref (state);
    /*  Silence after the pause still counts.                             */
    int64_t t = now + pause + PING_MS * PING_MISSES + 1;
    master_tick (c->m, t);
    s_drain (c->m);
    state = master_state_json (c->m, t);
    is (s_state_str (s_state_find (state, "agents", c->agent_id[a]), "state"), "UNREACHABLE",
        "silence after it counts: unreachable past the timeout");
    json_decref (state);
    s_cluster_destroy (&c);
}

static void
test_ping_spread (void)
{
    master_config_t config = s_config ();
    cluster_t *c = s_cluster_new (&config);
    int64_t now = 1000000;
    const size_t n = MAX_PEERS;
    for (size_t i = 0; i < n; i++)
        s_add_agent (c, "cpus:1;mem:128", now);
    size_t pings[MAX_PEERS] = { 0 };
    size_t busiest = 0, ticks = 0;
    const int64_t step = PING_MS / 8;
    for (int64_t t = now + step; t <= now + 3 * PING_MS; t += step) {
        master_tick (c->m, t);
        outmsg_t *out = s_take (c->m);
        size_t this_tick = 0;
        for (size_t i = 0; i < n; i++) {
            size_t k = s_count (out, &c->agent[i], PROTO_PING);
            pings[i] += k;
            this_tick += k;
            if (k)
                s_send (c->m, &c->agent[i], s_pong_msg (), t);
        }
        outmsg_destroy_list (&out);
        s_drain (c->m);
        busiest = this_tick > busiest ? this_tick : busiest;
        ticks++;
    }
    size_t wrong = 0;
    for (size_t i = 0; i < n; i++)
        wrong += pings[i] != 3;
    cmp_int (wrong, 0, "ping spread: every agent is pinged once per interval (3 in 3)");
    ok (busiest <= n / 4, "ping spread: at most a quarter of them in one tick (%zu of %zu)",
        busiest, n);
    json_t *state = master_state_json (c->m, now + 3 * PING_MS);
    size_t active = 0;
    json_t *agents = json_object_get (state, "agents"), *a;
    size_t idx;
    json_array_foreach (agents, idx, a)
        active += strcmp (json_string_value (json_object_get (a, "state")), "ACTIVE") == 0;
    cmp_int (active, n, "ping spread: all stay active");
    json_decref (state);
    (void) ticks;
    s_cluster_destroy (&c);
}

static void
test_teardown (void)
{
    master_config_t config = s_config ();
    cluster_t *c = s_cluster_new (&config);
    int64_t now = T0;
    size_t a = s_add_agent (c, AGENT_RES, now);
    size_t b = s_add_agent (c, AGENT_RES, now);
    size_t f = s_add_framework (c, "leaving", "*", now);
    ok (s_launch (c, f, a, "k1", "cpus:1;mem:256", 0, now), "setup: k1 runs");
    ok (s_launch (c, f, a, "k2", "cpus:1;mem:256", 0, now), "setup: k2 runs");
    s_report (c, a, f, "k1", CAIRN_TASK_RUNNING, "u-k1", now);
    json_t *state = master_state_json (c->m, now);
    json_t *jb = s_state_find (state, "agents", c->agent_id[b]);
    ok (json_integer_value (json_object_get (jb, "tasks")) == 0
        && json_number_value (json_object_get (json_object_get (jb, "offered"), "cpus")) == 4.0,
        "setup: the other agent is on offer, whole");
    json_decref (state);
    outmsg_t *out;

    s_send (c->m, &c->fw[f], s_unregister_msg (false), now);
    out = s_take (c->m);
    cmp_int (s_count (out, &c->agent[a], PROTO_KILL_TASK), 2, "unregister: KILL_TASK for each task");
    for (size_t i = 0; i < 2; i++) {
        proto_msg_t *kill = s_find (out, &c->agent[a], PROTO_KILL_TASK, i);
        is (kill ? kill->u.kill_task.framework_id : NULL, c->fw_id[f], "unregister: kill %zu names the framework", i);
    }
    ok (s_count (out, &c->agent[b], 0) == 0, "unregister: the other agent hears nothing");
    outmsg_destroy_list (&out);
    state = master_state_json (c->m, now);
    cmp_int (s_state_size (state, "offers"), 0, "unregister: its offers are gone");
    json_t *jf = s_state_find (state, "frameworks", c->fw_id[f]);
    ok (json_is_true (json_object_get (jf, "removed")), "unregister: listed as removed");
    json_decref (state);
    out = s_allocate (c->m, now + 1);
    cmp_int (s_count (out, NULL, 0), 0, "unregister: nobody left to offer to");
    outmsg_destroy_list (&out);

    /*  Its session is over.                                               */
    s_send (c->m, &c->fw[f], s_simple_msg (PROTO_REVIVE), now);
    s_expect_error (c->m, &c->fw[f], "not-registered", PROTO_REVIVE, "unregister: session over");
    s_send (c->m, &c->fw[f], s_framework_register_msg (c->fw_id[f], "leaving", "*"), now);
    s_expect_error (c->m, &c->fw[f], "refused", PROTO_FRAMEWORK_REGISTER,
                    "unregister: its id cannot register again");

    /*  The master acknowledges later updates itself; a task that still
        runs is killed again.                                               */
    s_send (c->m, &c->agent[a], s_update_msg (c->fw_id[f], "k1", c->agent_id[a], CAIRN_TASK_KILLED, "u-x1"),
            now + 10);
    out = s_take (c->m);
    proto_msg_t *ack = s_find (out, &c->agent[a], PROTO_STATUS_ACK, 0);
    is (ack ? ack->u.status_ack.uuid : NULL, "u-x1", "after teardown: the master acknowledges");
    is (ack ? ack->u.status_ack.task_id : NULL, "k1", "after teardown: the ack names the task");
    cmp_int (s_count (out, NULL, 0), 1, "after teardown: a terminal update is only acknowledged");
    outmsg_destroy_list (&out);
    s_send (c->m, &c->agent[a], s_update_msg (c->fw_id[f], "k2", c->agent_id[a], CAIRN_TASK_RUNNING, "u-x2"),
            now + 10);
    out = s_take (c->m);
    ack = s_find (out, &c->agent[a], PROTO_STATUS_ACK, 0);
    is (ack ? ack->u.status_ack.uuid : NULL, "u-x2", "after teardown: a running update is acknowledged");
    proto_msg_t *kill = s_find (out, &c->agent[a], PROTO_KILL_TASK, 0);
    is (kill ? kill->u.kill_task.task_id : NULL, "k2", "after teardown: and the task is killed again");
    outmsg_destroy_list (&out);
    s_send (c->m, &c->agent[a], s_update_msg (c->fw_id[f], "k2", c->agent_id[a], CAIRN_TASK_KILLED, "u-x3"),
            now + 20);
    s_drain (c->m);
    state = master_state_json (c->m, now + 20);
    json_t *ja = s_state_find (state, "agents", c->agent_id[a]);
    cmp_int (json_integer_value (json_object_get (ja, "tasks")), 0, "after teardown: the agent runs nothing");
    ok (json_number_value (json_object_get (json_object_get (ja, "used"), "cpus")) == 0.0,
        "after teardown: the agent's resources are all free");
    json_decref (state);
    s_cluster_destroy (&c);
}

static void
test_failover (void)
{
    master_config_t config = s_config ();
    cluster_t *c = s_cluster_new (&config);
    int64_t now = T0;
    size_t a = s_add_agent (c, AGENT_RES, now);
    proto_msg_t *reg = s_framework_register_msg ("", "durable", "*");
    reg->u.framework.failover_timeout_ms = 2000;
    size_t f = s_add_framework_msg (c, reg, now);
    ok (s_launch (c, f, a, "d1", "cpus:1;mem:256", 0, now), "setup: d1 runs");
    outmsg_t *out = s_allocate (c->m, now);
    ok (s_offer_count (out, &c->fw[f]) == 1, "setup: the framework holds an offer");
    outmsg_destroy_list (&out);

    /*  Stop with failover: the tasks stay, the offers go.                 */
    s_send (c->m, &c->fw[f], s_unregister_msg (true), now);
    out = s_take (c->m);
    cmp_int (s_count (out, NULL, PROTO_KILL_TASK), 0, "failover stop: no task is killed");
    outmsg_destroy_list (&out);
    json_t *state = master_state_json (c->m, now);
    is (s_task_state (state, "tasks", "d1"), "TASK_STAGING", "failover stop: the task stays");
    cmp_int (s_state_size (state, "offers"), 0, "failover stop: the offers are gone");
    json_t *jf = s_state_find (state, "frameworks", c->fw_id[f]);
    ok (json_is_false (json_object_get (jf, "connected")), "failover stop: disconnected");
    json_decref (state);
    out = s_allocate (c->m, now);
    cmp_int (s_count (out, NULL, PROTO_OFFERS), 0, "failover stop: no offers while away");
    outmsg_destroy_list (&out);
    /*  An update meanwhile is not acknowledged for it (the agent resends). */
    s_send (c->m, &c->agent[a], s_update_msg (c->fw_id[f], "d1", c->agent_id[a], CAIRN_TASK_RUNNING, "u-d1"),
            now + 100);
    out = s_take (c->m);
    cmp_int (s_count (out, NULL, 0), 0, "while away: an update is neither forwarded nor acknowledged");
    outmsg_destroy_list (&out);

    /*  Back in time, from a new connection: same id, tasks kept.          */
    route_t back = s_route ("fw-0-again");
    reg = s_framework_register_msg (c->fw_id[f], "durable", "*");
    reg->u.framework.failover_timeout_ms = 2000;
    s_send (c->m, &back, reg, now + 1500);
    out = s_take (c->m);
    proto_msg_t *reply = s_find (out, &back, PROTO_FRAMEWORK_REGISTERED, 0);
    is (reply ? reply->u.framework_registered.framework_id : NULL, c->fw_id[f],
        "re-register: the same id");
    ok (reply && reply->u.framework_registered.reregistered, "re-register: reregistered is true");
    outmsg_destroy_list (&out);
    s_send (c->m, &back, s_pong_msg (), now + 2500);
    s_send (c->m, &c->agent[a], s_pong_msg (), now + 2500);
    master_tick (c->m, now + 2500);     /* past the old deadline */
    out = s_take (c->m);
    cmp_int (s_count (out, NULL, PROTO_KILL_TASK), 0, "re-register: the old deadline is void");
    outmsg_destroy_list (&out);
    state = master_state_json (c->m, now + 2500);
    is (s_task_state (state, "tasks", "d1"), "TASK_RUNNING", "re-register: the task is kept");
    json_decref (state);
    s_send (c->m, &c->agent[a], s_update_msg (c->fw_id[f], "d1", c->agent_id[a], CAIRN_TASK_RUNNING, "u-d1"),
            now + 2500);
    out = s_take (c->m);
    proto_status_t *s = s_find_status (out, &back, "d1");
    is (s ? s->uuid : NULL, "u-d1", "re-register: the resent update reaches the new route");
    outmsg_destroy_list (&out);
    out = s_allocate (c->m, now + 2500);
    cmp_int (s_offer_count (out, &back), 1, "re-register: offers go to the new route");
    outmsg_destroy_list (&out);
    s_send (c->m, &c->fw[f], s_simple_msg (PROTO_REVIVE), now + 2500);
    s_expect_error (c->m, &c->fw[f], "not-registered", PROTO_REVIVE, "re-register: the old route is gone");

    /*  Silence this time, past the failover timeout: torn down.          */
    int64_t heard = now + 2500;
    s_send (c->m, &back, s_pong_msg (), heard);
    int64_t t;
    int64_t disconnected_at = 0;
    bool killed_early = false;
    for (t = heard + PING_MS; t <= heard + PING_MS * PING_MISSES + 2000 + 2 * PING_MS; t += PING_MS) {
        s_send (c->m, &c->agent[a], s_pong_msg (), t);
        master_tick (c->m, t);
        out = s_take (c->m);
        state = master_state_json (c->m, t);
        jf = s_state_find (state, "frameworks", c->fw_id[f]);
        if (!disconnected_at && json_is_false (json_object_get (jf, "connected")))
            disconnected_at = t;
        bool removed = json_is_true (json_object_get (jf, "removed"));
        json_decref (state);
        if (removed) {
            proto_msg_t *kill = s_find (out, &c->agent[a], PROTO_KILL_TASK, 0);
            is (kill ? kill->u.kill_task.task_id : NULL, "d1", "failover timeout: the task is killed");
            outmsg_destroy_list (&out);
            break;
        }
        if (s_count (out, NULL, PROTO_KILL_TASK) > 0 && !killed_early) {
            diag ("a task was killed at %+" PRId64 " ms", t - heard);
            killed_early = true;
        }
        outmsg_destroy_list (&out);
    }
    ok (!killed_early, "failover timeout: nothing is killed before the framework is removed");
    cmp_int (disconnected_at, heard + PING_MS * (PING_MISSES + 1),
             "silence: disconnected at the first tick past ping interval * misses");
    ok (t >= disconnected_at + 2000 && t < disconnected_at + 2000 + PING_MS,
        "failover timeout: torn down at the first tick past the timeout (after %" PRId64 " ms)",
        t - disconnected_at);
    s_cluster_destroy (&c);
}

/*  ------------------------------------------------------------------ */
/*  Reconciliation                                                      */
/*  ------------------------------------------------------------------ */

static void
test_reconcile (void)
{
    master_config_t config = s_config ();
    cluster_t *c = s_cluster_new (&config);
    int64_t now = T0;
    size_t a = s_add_agent (c, AGENT_RES, now);
    size_t f = s_add_framework (c, "careful", "*", now);
    ok (s_launch (c, f, a, "r1", "cpus:1;mem:256", 0, now), "setup: r1 runs");
    ok (s_launch (c, f, a, "r2", "cpus:1;mem:256", 0, now), "setup: r2 runs");
    s_report (c, a, f, "r1", CAIRN_TASK_RUNNING, "u1", now);
    s_report (c, a, f, "r2", CAIRN_TASK_FINISHED, "u2", now);

    proto_msg_t *rec = proto_msg_new (PROTO_RECONCILE);
    proto_strs_add (&rec->u.reconcile.task_ids, "r1");
    proto_strs_add (&rec->u.reconcile.task_ids, "r2");
    proto_strs_add (&rec->u.reconcile.task_ids, "never");
    s_send (c->m, &c->fw[f], rec, now);
    outmsg_t *out = s_take (c->m);
    cmp_int (s_count (out, &c->fw[f], PROTO_STATUS_UPDATE), 3, "reconcile ids: one update each");
    proto_status_t *s = s_find_status (out, &c->fw[f], "r1");
    cmp_int (STATE_OF (s), CAIRN_TASK_RUNNING, "reconcile: a running task is TASK_RUNNING");
    cmp_int (REASON_OF (s), CAIRN_REASON_RECONCILIATION, "reconcile: reason REASON_RECONCILIATION");
    is (s ? s->uuid : NULL, "", "reconcile: no uuid (nothing to acknowledge)");
    is (s ? s->agent_id : NULL, c->agent_id[a], "reconcile: the task's agent");
    s = s_find_status (out, &c->fw[f], "r2");
    cmp_int (STATE_OF (s), CAIRN_TASK_FINISHED, "reconcile: a completed task is TASK_FINISHED");
    s = s_find_status (out, &c->fw[f], "never");
    cmp_int (STATE_OF (s), CAIRN_TASK_UNKNOWN, "reconcile: an unknown id is TASK_UNKNOWN");
    outmsg_destroy_list (&out);

    /*  No ids: every task the master knows running.                       */
    ok (s_launch (c, f, a, "r3", "cpus:1;mem:256", 0, now), "setup: r3 runs");
    s_send (c->m, &c->fw[f], proto_msg_new (PROTO_RECONCILE), now);
    out = s_take (c->m);
    cmp_int (s_count (out, &c->fw[f], PROTO_STATUS_UPDATE), 2, "reconcile all: the two live tasks");
    s = s_find_status (out, &c->fw[f], "r3");
    cmp_int (STATE_OF (s), CAIRN_TASK_STAGING, "reconcile all: r3 is staging");
    ok (s_find_status (out, &c->fw[f], "r1") != NULL, "reconcile all: r1 is there");
    outmsg_destroy_list (&out);

    /*  Kill of an unknown task, and of a completed one.                  */
    proto_msg_t *kill = proto_msg_new (PROTO_KILL);
    s_set (&kill->u.kill.task_id, "never");
    s_send (c->m, &c->fw[f], kill, now);
    kill = proto_msg_new (PROTO_KILL);
    s_set (&kill->u.kill.task_id, "r1");
    s_send (c->m, &c->fw[f], kill, now);
    out = s_take (c->m);
    s = s_find_status (out, &c->fw[f], "never");
    cmp_int (STATE_OF (s), CAIRN_TASK_UNKNOWN, "kill: an unknown task is TASK_UNKNOWN");
    proto_msg_t *kt = s_find (out, &c->agent[a], PROTO_KILL_TASK, 0);
    is (kt ? kt->u.kill_task.task_id : NULL, "r1", "kill: a running task's kill goes to its agent");
    outmsg_destroy_list (&out);
    s_cluster_destroy (&c);
}

/*  ------------------------------------------------------------------ */
/*  Dominant Resource Fairness                                          */
/*  ------------------------------------------------------------------ */

static double
s_share (master_t *m, const char *framework_id)
{
    json_t *state = master_state_json (m, T0);
    json_t *f = s_state_find (state, "frameworks", framework_id);
    double share = json_number_value (json_object_get (f, "dominant_share"));
    json_decref (state);
    return share;
}

static void
test_drf (void)
{
    /*  Agents join one at a time and each is offered at once: the two
        frameworks (which keep every offer) take turns.                    */
    master_config_t config = s_config ();
    cluster_t *c = s_cluster_new (&config);
    int64_t now = T0;
    size_t f1 = s_add_framework (c, "one", "*", now);
    size_t f2 = s_add_framework (c, "two", "*", now);
    size_t n1 = 0, n2 = 0, worst = 0;
    int last = -1;
    bool alternate = true;
    for (int i = 0; i < 10; i++) {
        size_t ai = s_add_agent (c, "cpus:4;mem:4096", now);
        outmsg_t *out = s_allocate (c->m, now);
        bool to1 = s_offer_on (out, &c->fw[f1], c->agent_id[ai]) != NULL;
        bool to2 = s_offer_on (out, &c->fw[f2], c->agent_id[ai]) != NULL;
        if (to1 == to2)
            diag ("agent %d: offered to %s", i, to1 ? "both" : "neither");
        n1 += to1;
        n2 += to2;
        if (last >= 0 && (to1 ? 1 : 2) == last)
            alternate = false;
        last = to1 ? 1 : 2;
        size_t gap = n1 > n2 ? n1 - n2 : n2 - n1;
        if (gap > worst)
            worst = gap;
        outmsg_destroy_list (&out);
    }
    cmp_int (n1 + n2, 10, "drf: each of 10 agents is offered once");
    ok (alternate, "drf: the frameworks get the agents in turn");
    cmp_int (worst, 1, "drf: they are never more than one agent apart");
    ok (fabs (s_share (c->m, c->fw_id[f1]) - 0.5) < 1e-9 && fabs (s_share (c->m, c->fw_id[f2]) - 0.5) < 1e-9,
        "drf: each holds half the cluster (dominant shares %.3f and %.3f)",
        s_share (c->m, c->fw_id[f1]), s_share (c->m, c->fw_id[f2]));
    s_cluster_destroy (&c);

    /*  All agents at once, one allocation run: five each.                 */
    c = s_cluster_new (&config);
    for (int i = 0; i < 10; i++)
        s_add_agent (c, "cpus:4;mem:4096", now);
    f1 = s_add_framework (c, "one", "*", now);
    f2 = s_add_framework (c, "two", "*", now);
    outmsg_t *out = s_allocate (c->m, now);
    cmp_int (s_offer_count (out, &c->fw[f1]), 5, "drf in one run: five agents to the first");
    cmp_int (s_offer_count (out, &c->fw[f2]), 5, "drf in one run: five to the second");
    outmsg_destroy_list (&out);

    s_cluster_destroy (&c);

    /*  Role weights: a role of weight 2 ends up with twice the share.    */
    c = s_cluster_new (&config);
    ok (master_set_weight (c->m, "gold", 2.0) == 0, "weights: set gold to 2");
    ok (master_set_weight (c->m, "lead", 0.0) < 0, "weights: 0 is refused");
    ok (master_set_weight (c->m, "lead", -1.0) < 0, "weights: a negative weight is refused");
    for (int i = 0; i < 12; i++)
        s_add_agent (c, "cpus:4;mem:4096", now);
    f1 = s_add_framework (c, "rich", "gold", now);
    f2 = s_add_framework (c, "plain", "*", now);
    out = s_allocate (c->m, now);
    cmp_int (s_offer_count (out, &c->fw[f1]), 8, "weights: 8 of 12 agents to the weight-2 role");
    cmp_int (s_offer_count (out, &c->fw[f2]), 4, "weights: 4 of 12 to the weight-1 role");
    outmsg_destroy_list (&out);
    ok (fabs (s_share (c->m, c->fw_id[f1]) - s_share (c->m, c->fw_id[f2])) < 1e-9,
        "weights: the weighted shares are equal (%.3f, %.3f)", s_share (c->m, c->fw_id[f1]),
        s_share (c->m, c->fw_id[f2]));
    s_cluster_destroy (&c);
}

/*  ------------------------------------------------------------------ */
/*  Bounds                                                              */
/*  ------------------------------------------------------------------ */

static void
test_completed_bound (void)
{
    master_config_t config = s_config ();
    config.max_completed_tasks = 3;
    cluster_t *c = s_cluster_new (&config);
    int64_t now = T0;
    size_t a = s_add_agent (c, AGENT_RES, now);
    size_t f = s_add_framework (c, "batch", "*", now);
    for (int i = 1; i <= 5; i++) {
        char id[16], uuid[16];
        snprintf (id, sizeof id, "c%d", i);
        snprintf (uuid, sizeof uuid, "u%d", i);
        ok (s_launch (c, f, a, id, "cpus:1;mem:128", 0, now), "bound: %s runs", id);
        s_report (c, a, f, id, CAIRN_TASK_FINISHED, uuid, now);
    }
    json_t *state = master_state_json (c->m, now);
    cmp_int (s_state_size (state, "completed_tasks"), 3, "bound: 3 completed tasks kept of 5");
    ok (s_task_state (state, "completed_tasks", "c5") && s_task_state (state, "completed_tasks", "c3")
        && !s_task_state (state, "completed_tasks", "c2"), "bound: the newest are kept");
    cmp_int (s_state_size (state, "tasks"), 0, "bound: no live task");
    json_decref (state);
    s_cluster_destroy (&c);

    /*  Torn-down frameworks are kept up to max_completed_frameworks.     */
    config = s_config ();
    config.max_completed_frameworks = 1;
    c = s_cluster_new (&config);
    for (int i = 0; i < 3; i++) {
        size_t fi = s_add_framework (c, "short-lived", "*", now + i);
        s_send (c->m, &c->fw[fi], s_unregister_msg (false), now + i);
        s_drain (c->m);
    }
    size_t live = s_add_framework (c, "live", "*", now + 10);
    state = master_state_json (c->m, now + 10);
    cmp_int (s_state_size (state, "frameworks"), 2, "bound: one removed framework kept, and the live one");
    ok (s_state_find (state, "frameworks", c->fw_id[2]) && s_state_find (state, "frameworks", c->fw_id[live]),
        "bound: the newest removed framework is the one kept");
    json_decref (state);
    s_cluster_destroy (&c);

    /*  Free resources below min_allocatable (in both cpus and mem) are
        not offered.                                                       */
    config = s_config ();
    cairn_resources_t *min = s_res ("cpus:0.5;mem:64");
    config.min_allocatable = min;
    c = s_cluster_new (&config);
    a = s_add_agent (c, "cpus:1;mem:1024", now);
    f = s_add_framework (c, "small", "*", now);
    ok (s_launch (c, f, a, "m1", "cpus:0.8;mem:1000", 0, now), "min allocatable: m1 runs");
    outmsg_t *out = s_allocate (c->m, now + 1);
    cmp_int (s_count (out, NULL, PROTO_OFFERS), 0, "min allocatable: 0.2 cpus and 24 MiB are not offered");
    outmsg_destroy_list (&out);
    s_report (c, a, f, "m1", CAIRN_TASK_FINISHED, "u-m1", now + 2);
    ok (s_launch (c, f, a, "m2", "cpus:0.2;mem:1000", 0, now + 3), "min allocatable: m2 runs");
    out = s_allocate (c->m, now + 4);
    proto_offer_t *o = s_offer_on (out, &c->fw[f], c->agent_id[a]);
    ok (o && s_res_is (o->resources, "cpus:0.8;mem:24"),
        "min allocatable: 0.8 cpus (and 24 MiB) are worth an offer");
    outmsg_destroy_list (&out);
    s_cluster_destroy (&c);
    cairn_resources_destroy (&min);
}

/*  A decline filter is about what was declined: resources that become
    free later on the same agent (a task ended) are offered at once, as
    Mesos does (a filter only hides offers within what it refused).       */
static void
test_filter_and_freed_resources (void)
{
    master_config_t config = s_config ();
    cluster_t *c = s_cluster_new (&config);
    int64_t now = T0;
    size_t a = s_add_agent (c, "cpus:2;mem:2048", now);
    size_t f = s_add_framework (c, "batch", "*", now);
    ok (s_launch (c, f, a, "b1", "cpus:1;mem:1024", -1, now), "freed: b1 runs, remainder refused 5 s");
    outmsg_t *out = s_allocate (c->m, now + 100);
    cmp_int (s_offer_count (out, &c->fw[f]), 0, "freed: the refused remainder is not offered");
    outmsg_destroy_list (&out);
    s_report (c, a, f, "b1", CAIRN_TASK_FINISHED, "u-b1", now + 200);
    out = s_allocate (c->m, now + 300);
    proto_offer_t *o = s_offer_on (out, &c->fw[f], c->agent_id[a]);
    ok (o != NULL, "freed: a finished task's resources are offered within the refuse time");
    outmsg_destroy_list (&out);
    s_cluster_destroy (&c);

    /*  A framework whose connection is gone is disconnected at once.     */
    c = s_cluster_new (&config);
    a = s_add_agent (c, AGENT_RES, now);
    f = s_add_framework (c, "fragile", "*", now);
    out = s_allocate (c->m, now);
    cmp_int (s_offer_count (out, &c->fw[f]), 1, "peer gone: setup, an offer is out");
    outmsg_destroy_list (&out);
    master_peer_gone (c->m, &c->fw[f], now + 1);
    json_t *state = master_state_json (c->m, now + 1);
    json_t *jf = s_state_find (state, "frameworks", c->fw_id[f]);
    ok (json_is_false (json_object_get (jf, "connected")), "peer gone: the framework is disconnected");
    cmp_int (s_state_size (state, "offers"), 0, "peer gone: its offers are recovered");
    json_decref (state);
    master_peer_gone (c->m, &c->agent[a], now + 1);
    state = master_state_json (c->m, now + 1);
    is (s_state_str (s_state_find (state, "agents", c->agent_id[a]), "state"), "ACTIVE",
        "peer gone: an agent waits for the ping timeout");
    json_decref (state);
    s_cluster_destroy (&c);
}

/*  ------------------------------------------------------------------ */
/*  Retries and re-registration corners                                 */
/*  ------------------------------------------------------------------ */

static void
test_registration_corners (void)
{
    master_config_t config = s_config ();
    cluster_t *c = s_cluster_new (&config);
    int64_t now = T0;

    /*  An agent's registration retried on the same connection (the
        agent resends until it hears back, and a DEALER queues what it
        sends before the master is up) is one agent, not two.              */
    route_t r = s_route ("agent-retry");
    s_send (c->m, &r, s_agent_register_msg ("", "hostr", AGENT_RES), now);
    s_send (c->m, &r, s_agent_register_msg ("", "hostr", AGENT_RES), now + 250);
    outmsg_t *out = s_take (c->m);
    proto_msg_t *r1 = s_find (out, &r, PROTO_AGENT_REGISTERED, 0);
    proto_msg_t *r2 = s_find (out, &r, PROTO_AGENT_REGISTERED, 1);
    ok (r1 && r2, "agent retry: both attempts are answered");
    is (r2 ? r2->u.agent_registered.agent_id : NULL, r1 ? r1->u.agent_registered.agent_id : NULL,
        "agent retry: with the same agent id");
    outmsg_destroy_list (&out);
    json_t *state = master_state_json (c->m, now);
    cmp_int (s_state_size (state, "agents"), 1, "agent retry: one agent on the books");
    json_decref (state);

    /*  The same for a framework's registration.                           */
    route_t fr = s_route ("fw-retry");
    s_send (c->m, &fr, s_framework_register_msg ("", "retry", "*"), now);
    s_send (c->m, &fr, s_framework_register_msg ("", "retry", "*"), now + 250);
    out = s_take (c->m);
    r1 = s_find (out, &fr, PROTO_FRAMEWORK_REGISTERED, 0);
    r2 = s_find (out, &fr, PROTO_FRAMEWORK_REGISTERED, 1);
    ok (r1 && r2, "framework retry: both attempts are answered");
    is (r2 ? r2->u.framework_registered.framework_id : NULL,
        r1 ? r1->u.framework_registered.framework_id : NULL, "framework retry: with the same id");
    outmsg_destroy_list (&out);
    state = master_state_json (c->m, now);
    cmp_int (s_state_size (state, "frameworks"), 1, "framework retry: one framework on the books");
    json_decref (state);

    /*  Whatever happened to the first attempt, the connection that keeps
        talking keeps its session when the other times out.               */
    int64_t t;
    for (t = now + PING_MS; t <= now + 250 + 10 * PING_MS; t += PING_MS) {
        s_send (c->m, &r, s_pong_msg (), t);
        s_send (c->m, &fr, s_pong_msg (), t);
        master_tick (c->m, t);
        s_drain (c->m);
    }
    s_send (c->m, &fr, s_simple_msg (PROTO_REVIVE), t);
    out = s_take (c->m);
    cmp_int (s_count (out, &fr, PROTO_ERROR), 0, "framework retry: the live session still works");
    outmsg_destroy_list (&out);
    s_send (c->m, &r, s_pong_msg (), t);
    state = master_state_json (c->m, t);
    size_t active = 0;
    size_t i;
    json_t *ja;
    json_array_foreach (json_object_get (state, "agents"), i, ja)
        active += strcmp (s_state_str (ja, "state"), "ACTIVE") == 0;
    cmp_int (active, 1, "agent retry: the agent that answers pings is active");
    json_decref (state);
    s_cluster_destroy (&c);
}

static void
test_agent_returns_corners (void)
{
    master_config_t config = s_config ();
    cluster_t *c = s_cluster_new (&config);
    int64_t now = T0;
    size_t a = s_add_agent (c, AGENT_RES, now);
    size_t f = s_add_framework (c, "fw", "*", now);
    ok (s_launch (c, f, a, "g1", "cpus:1;mem:512", 0, now), "setup: g1 runs");
    ok (s_launch (c, f, a, "g2", "cpus:1;mem:512", 0, now), "setup: g2 runs");
    ok (s_launch (c, f, a, "g3", "cpus:1;mem:512", 0, now), "setup: g3 runs");
    s_report (c, a, f, "g1", CAIRN_TASK_RUNNING, "u1", now);
    s_report (c, a, f, "g2", CAIRN_TASK_RUNNING, "u2", now);
    s_report (c, a, f, "g3", CAIRN_TASK_RUNNING, "u3", now);

    /*  The agent restarts (same id, same connection): g1 still runs, g2
        has finished meanwhile (it reports the terminal state it has not
        had acknowledged yet), g3 it no longer knows.                      */
    proto_msg_t *again = s_agent_register_msg (c->agent_id[a], "host0", AGENT_RES);
    s_agent_register_task (again, c->fw_id[f], "g1", "cpus:1;mem:512", CAIRN_TASK_RUNNING);
    s_agent_register_task (again, c->fw_id[f], "g2", "cpus:1;mem:512", CAIRN_TASK_FINISHED);
    s_send (c->m, &c->agent[a], again, now + 100);
    outmsg_t *out = s_take (c->m);
    ok (!s_find_status (out, &c->fw[f], "g1"), "agent restart: nothing to say about g1");
    /*  g2's end reaches the framework once, through the agent's own
        (unacknowledged, resent) update, not also from the master.         */
    ok (!s_find_status (out, &c->fw[f], "g2"),
        "agent restart: the master does not report g2's end a second time");
    proto_status_t *s = s_find_status (out, &c->fw[f], "g3");
    cmp_int (STATE_OF (s), CAIRN_TASK_LOST, "agent restart: g3 is TASK_LOST");
    cmp_int (REASON_OF (s), CAIRN_REASON_AGENT_RESTARTED, "agent restart: REASON_AGENT_RESTARTED");
    outmsg_destroy_list (&out);
    /*  The agent resends g2's unacknowledged update, which ends it.      */
    s_report (c, a, f, "g2", CAIRN_TASK_FINISHED, "u2-fin", now + 100);
    json_t *state = master_state_json (c->m, now + 100);
    is (s_task_state (state, "tasks", "g1"), "TASK_RUNNING", "agent restart: g1 is live");
    is (s_task_state (state, "completed_tasks", "g3"), "TASK_LOST", "agent restart: g3 is completed");
    is (s_task_state (state, "completed_tasks", "g2"), "TASK_FINISHED",
        "agent restart: g2, reported finished, is completed by its own update");
    json_decref (state);
    out = s_allocate (c->m, now + 100);
    proto_offer_t *o = s_offer_on (out, &c->fw[f], c->agent_id[a]);
    ok (o && s_res_is (o->resources, "cpus:3;mem:3584;disk:1000;ports:[31000-31999]"),
        "agent restart: everything but g1 is offered");
    outmsg_destroy_list (&out);

    /*  A task of a framework torn down while its agent was away is
        killed when the agent comes back with it.                          */
    size_t b = s_add_agent (c, AGENT_RES, now + 200);
    size_t g = s_add_framework (c, "gone", "*", now + 200);
    ok (s_launch (c, g, b, "h1", "cpus:1;mem:512", 0, now + 200), "setup: h1 runs");
    s_report (c, b, g, "h1", CAIRN_TASK_RUNNING, "uh", now + 200);
    /*  b goes silent; everyone else answers.                              */
    int64_t t;
    for (t = now + 300; t <= now + 300 + PING_MS * (PING_MISSES + 2); t += PING_MS) {
        s_send (c->m, &c->agent[a], s_pong_msg (), t);
        s_send (c->m, &c->fw[f], s_pong_msg (), t);
        s_send (c->m, &c->fw[g], s_pong_msg (), t);
        master_tick (c->m, t);
        s_drain (c->m);
    }
    state = master_state_json (c->m, t);
    is (s_state_str (s_state_find (state, "agents", c->agent_id[b]), "state"), "UNREACHABLE",
        "setup: the agent is unreachable");
    json_decref (state);
    s_send (c->m, &c->fw[g], s_unregister_msg (false), t);
    s_drain (c->m);
    proto_msg_t *back = s_agent_register_msg (c->agent_id[b], "host1", AGENT_RES);
    s_agent_register_task (back, c->fw_id[g], "h1", "cpus:1;mem:512", CAIRN_TASK_RUNNING);
    s_send (c->m, &c->agent[b], back, t + 100);
    out = s_take (c->m);
    proto_msg_t *kill = s_find (out, &c->agent[b], PROTO_KILL_TASK, 0);
    is (kill ? kill->u.kill_task.task_id : NULL, "h1",
        "torn down while away: its task is killed when the agent returns");
    outmsg_destroy_list (&out);
    s_cluster_destroy (&c);
}

/*  Why nothing is offered, as the operator views say it: an agent's
    why_idle and filters (/state), a framework's suppressed, filters in
    force and why_no_offers (/state/summary).                            */
static json_t *
s_summary (master_t *m, int64_t now)
{
    size_t size;
    char *text = master_summary_text (m, now, &size);
    json_t *json = json_loadb (text, size, 0, NULL);
    free (text);
    return json;
}

static void
test_why_not_offered (void)
{
    int64_t now = T0;
    master_config_t config = s_config ();
    cairn_resources_t *min = s_res ("cpus:0.5;mem:64");
    config.min_allocatable = min;
    cluster_t *c = s_cluster_new (&config);
    size_t a = s_add_agent (c, "cpus:1;mem:1024", now);
    size_t f = s_add_framework (c, "why", "*", now);
    ok (s_launch (c, f, a, "w1", "cpus:1;mem:1000", 0, now), "why: w1 takes every cpu");
    outmsg_t *out = s_allocate (c->m, now + 1);
    cmp_int (s_count (out, NULL, PROTO_OFFERS), 0, "why: the 24 MiB left are not offered");
    outmsg_destroy_list (&out);
    json_t *state = master_state_json (c->m, now + 1);
    json_t *ag = s_state_find (state, "agents", c->agent_id[a]);
    is (s_state_str (ag, "why_idle"), "nothing free: all cpus allocated",
        "why: the full agent's why_idle says all cpus are allocated");
    cmp_int (json_integer_value (json_object_get (ag, "filters")), 0, "why: no filter on it");
    json_decref (state);
    json_t *sum = s_summary (c->m, now + 1);
    json_t *fw = s_state_find (sum, "frameworks", c->fw_id[f]);
    ok (json_is_false (json_object_get (fw, "suppressed")), "why: the framework is not suppressed");
    cmp_int (json_integer_value (json_object_get (fw, "filters")), 0,
             "why: the framework has no filter in force");
    is (s_state_str (fw, "why_no_offers"), "(absent)", "why: nothing to say about it yet");
    json_decref (sum);

    /*  A second agent, offered and declined for an hour.                 */
    size_t b = s_add_agent (c, "cpus:1;mem:1024", now + 2);
    out = s_allocate (c->m, now + 2);
    proto_offer_t *o = s_offer_on (out, &c->fw[f], c->agent_id[b]);
    ok (o != NULL, "why: the new agent is offered");
    state = master_state_json (c->m, now + 2);
    is (s_state_str (s_state_find (state, "agents", c->agent_id[b]), "why_idle"), "(absent)",
        "why: an agent with an offer out has no why_idle");
    json_decref (state);
    s_send (c->m, &c->fw[f], s_decline_msg (o ? o->offer_id : "none", 3600000), now + 3);
    outmsg_destroy_list (&out);
    s_drain (c->m);
    state = master_state_json (c->m, now + 4);
    ag = s_state_find (state, "agents", c->agent_id[b]);
    is (s_state_str (ag, "why_idle"), "filtered by 1 framework that declined it",
        "why: the declined agent's why_idle names the filter");
    cmp_int (json_integer_value (json_object_get (ag, "filters")), 1, "why: one filter on it");
    json_decref (state);
    sum = s_summary (c->m, now + 4);
    fw = s_state_find (sum, "frameworks", c->fw_id[f]);
    cmp_int (json_integer_value (json_object_get (fw, "filters")), 1,
             "why: the framework has one filter in force");
    is (s_state_str (fw, "why_no_offers"), "declined 1 agent: refuse filter in force",
        "why: and says so");
    json_decref (sum);
    sum = s_summary (c->m, now + 3 + 3600000);
    cmp_int (json_integer_value (json_object_get (s_state_find (sum, "frameworks", c->fw_id[f]),
                                                  "filters")), 0,
             "why: the filter is no longer in force once its refuse time is over");
    json_decref (sum);

    /*  Suppressed.                                                        */
    s_send (c->m, &c->fw[f], s_simple_msg (PROTO_SUPPRESS), now + 5);
    s_drain (c->m);
    sum = s_summary (c->m, now + 5);
    fw = s_state_find (sum, "frameworks", c->fw_id[f]);
    ok (json_is_true (json_object_get (fw, "suppressed")), "why: suppressed shows");
    is (s_state_str (fw, "why_no_offers"), "suppressed: it asked for no offers",
        "why: suppressed is the reason given");
    json_decref (sum);
    s_cluster_destroy (&c);
    cairn_resources_destroy (&min);
}

/*  What the web UI reads besides /state: the cluster's name, the series
    of samples behind the overview's charts, a framework's or an agent's
    outstanding offers (GET /offers).                                    */
static void
test_ui_views (void)
{
    int64_t now = T0;
    master_config_t config = s_config ();
    cluster_t *c = s_cluster_new (&config);
    json_t *sum = s_summary (c->m, now);
    is (s_state_str (sum, "cluster_name"), "cairn", "ui: the cluster is called cairn by default");
    json_decref (sum);
    s_cluster_destroy (&c);

    config.cluster_name = "prod-east";
    config.series_interval_ms = 1000;
    c = s_cluster_new (&config);
    sum = s_summary (c->m, now);
    is (s_state_str (sum, "cluster_name"), "prod-east", "ui: --cluster-name shows in the summary");
    json_t *series = json_object_get (sum, "series");
    cmp_int (json_array_size (json_object_get (series, "launch_rate")), 0,
             "ui: no sample before the first interval");
    ok (json_number_value (json_object_get (series, "interval_s")) == 1.0,
        "ui: the series says its interval");
    json_decref (sum);
    json_t *state = master_state_json (c->m, now);
    is (s_state_str (state, "cluster_name"), "prod-east", "ui: and in /state");
    json_decref (state);

    /*  Offers: two agents, each offered to the one framework.            */
    size_t a = s_add_agent (c, "cpus:2;mem:1024", now);
    size_t b = s_add_agent (c, "cpus:2;mem:1024", now);
    size_t f = s_add_framework (c, "offers", "*", now);
    master_tick (c->m, now);            /* the series starts here */
    s_drain (c->m);
    ok (s_launch (c, f, a, "u1", "cpus:1;mem:100", 0, now + 100), "ui: u1 is launched");
    outmsg_t *out = s_allocate (c->m, now + 200);
    cmp_int (s_count (out, &c->fw[f], PROTO_OFFERS), 1, "ui: the framework is offered again");
    outmsg_destroy_list (&out);
    json_t *offers = master_offers_json (c->m, c->fw_id[f], NULL, 0, 10, now + 700);
    cmp_int (json_integer_value (json_object_get (offers, "total")), 2,
             "ui: the framework holds 2 offers");
    json_t *first = json_array_get (json_object_get (offers, "offers"), 0);
    /*  b's offer dates from u1's allocation (now + 100), a's remainder
        from the next one: oldest first.                                   */
    is (s_state_str (first, "agent_id"), c->agent_id[b], "ui: the oldest offer comes first");
    ok (first && json_number_value (json_object_get (first, "age_s")) == 0.6,
        "ui: an offer says its age");
    is (s_state_str (first, "hostname"), "host1", "ui: and its agent's hostname");
    ok (json_object_get (json_object_get (first, "resources"), "cpus") != NULL,
        "ui: and its resources");
    json_decref (offers);
    offers = master_offers_json (c->m, c->fw_id[f], c->agent_id[b], 0, 10, now + 700);
    cmp_int (json_integer_value (json_object_get (offers, "total")), 1,
             "ui: one of them on agent b");
    is (s_state_str (json_array_get (json_object_get (offers, "offers"), 0), "agent_id"),
        c->agent_id[b], "ui: the one on agent b");
    json_decref (offers);
    offers = master_offers_json (c->m, NULL, NULL, 1, 1, now + 700);
    cmp_int (json_array_size (json_object_get (offers, "offers")), 1,
             "ui: offset=1&limit=1 gives one offer");
    cmp_int (json_integer_value (json_object_get (offers, "total")), 2, "ui: of 2");
    json_decref (offers);
    errno = 0;
    ok (master_offers_json (c->m, "no-such-framework", NULL, 0, 10, now) == NULL
        && errno == ENOENT, "ui: an unknown framework's offers: ENOENT");
    ok (master_offers_json (c->m, NULL, "no-such-agent", 0, 10, now) == NULL && errno == ENOENT,
        "ui: an unknown agent's offers: ENOENT");

    /*  One task launched in the first second, none in the next.         */
    master_tick (c->m, now + 500);
    master_tick (c->m, now + 1000);
    master_tick (c->m, now + 1500);
    master_tick (c->m, now + 2000);
    s_drain (c->m);
    sum = s_summary (c->m, now + 2000);
    series = json_object_get (sum, "series");
    json_t *rate = json_object_get (series, "launch_rate");
    cmp_int (json_array_size (rate), 2, "ui: two samples after two intervals");
    ok (json_number_value (json_array_get (rate, 0)) == 1.0
        && json_number_value (json_array_get (rate, 1)) == 0.0,
        "ui: launch_rate is 1/s then 0/s");
    cmp_int (json_array_size (json_object_get (series, "allocation_ms")), 2,
             "ui: as many allocation_ms samples");
    ok (json_number_value (json_array_get (json_object_get (series, "allocation_ms"), 1)) == 0.0,
        "ui: no allocation run in the second interval: 0 ms");
    cmp_int (json_integer_value (json_object_get (sum, "tasks_launched")), 1,
             "ui: the summary counts 1 task launched");
    json_decref (sum);
    for (int i = 3; i < 3 + MASTER_SERIES_LEN + 10; i++)
        master_tick (c->m, now + i * 1000);
    s_drain (c->m);
    sum = s_summary (c->m, now + 100000);
    cmp_int (json_array_size (json_object_get (json_object_get (sum, "series"), "launch_rate")),
             MASTER_SERIES_LEN, "ui: the series keeps the last MASTER_SERIES_LEN samples");
    json_decref (sum);

    /*  An agent's entry says when it was last heard from and what its
        tasks use (here: no sample yet).                                  */
    size_t size;
    char *text = master_agents_text (c->m, now + 100000, &size);
    json_t *agents = json_loadb (text, size, 0, NULL);
    free (text);
    json_t *ag = json_array_get (json_object_get (agents, "agents"), 0);
    ok (json_number_value (json_object_get (ag, "last_seen_s_ago")) > 0, "ui: last_seen_s_ago");
    ok (json_is_integer (json_object_get (json_object_get (ag, "usage"), "tasks_sampled")),
        "ui: an agent's usage counts the tasks sampled");
    json_decref (agents);
    s_cluster_destroy (&c);
}

int
main (void)
{
    if (!getenv ("CAIRN_TEST_VERBOSE"))
        log_set_level (LOG_LEVEL_ERROR);
    test_offer_cycle ();
    test_decline_revive_suppress ();
    test_invalid_launches ();
    test_refused ();
    test_liveness ();
    test_shift_clocks ();
    test_ping_spread ();
    test_teardown ();
    test_failover ();
    test_reconcile ();
    test_drf ();
    test_completed_bound ();
    test_filter_and_freed_resources ();
    test_registration_corners ();
    test_agent_returns_corners ();
    test_why_not_offered ();
    test_ui_views ();
    cmp_int (s_codec_refusals, 0, "every message in and out is one the codec accepts");
    return done_testing ();
}
