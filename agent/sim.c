/*  sim.c - cairn-agent-sim: emulates many agents over the real wire
    protocol, for trying schedulers against a large cluster and for the
    master's scale benchmarks.

    Each emulated agent has its own DEALER connection and routing id, as a
    real agent has, and follows the agent session of doc/protocol.md
    section 7: it registers (retrying with the agent's backoff), answers
    PING, takes RUN_TASKS and reports TASK_STARTING, TASK_RUNNING and,
    after the task's runtime, TASK_FINISHED through the same reliable
    status streams as cairn-agent (one update in flight per task, resent
    until acknowledged), kills tasks on KILL_TASK, and stops on
    AGENT_SHUTDOWN. Nothing is run: a task is a timer.

    Agents are spread over processes (each holds at most what its
    open-file limit allows: two files per connection) and, beyond one
    address's ephemeral ports, over loopback source addresses
    127.0.0.1, 127.0.0.2, ... Every process runs one thread with one
    epoll set (simnet.c) and one timer heap. A process prints one JSON
    line of counters when it stops; the parent adds them up.            */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <czmq.h>
#include <jansson.h>

#include "error.h"
#include "flags.h"
#include "ids.h"
#include "log.h"
#include "resources.h"
#include "simnet.h"
#include "transport.h"
#include "util.h"
#include "zk.h"

#define REGISTER_BACKOFF_MIN_MS 250
#define REGISTER_BACKOFF_MAX_MS 8000
#define UPDATE_RETRY_MIN_MS 2000
#define UPDATE_RETRY_MAX_MS 60000
#define RUNTIME_LABEL "cairn-sim.runtime"

static char *s_master, *s_resources, *s_attributes, *s_hostname_prefix, *s_log_level;
static char *s_master_public_key, *s_curve_cert;
static int64_t s_agents, s_processes, s_runtime_ms, s_first_index, s_per_address;

static const flag_t s_flags[] = {
    { "master", FLAG_STRING, &s_master, NULL, "HOST:PORT|zk://HOSTS/PATH",
      "The master's ZeroMQ endpoint (required), or the ZooKeeper ensemble and path of "
      "masters run with --zk: the agents then follow the leader.", 0, 0 },
    { "agents", FLAG_INT, &s_agents, "100", "N", "Agents to emulate.", 1, 10000000 },
    { "resources", FLAG_STRING, &s_resources, "cpus:4;mem:8192;disk:10000;ports:[31000-32000]",
      "SPEC", "Resources of every emulated agent.", 0, 0 },
    { "attributes", FLAG_STRING, &s_attributes, NULL, "NAME:VALUE;...",
      "Attributes of every emulated agent.", 0, 0 },
    { "task-runtime", FLAG_DURATION, &s_runtime_ms, "1s", "DURATION",
      "How long a task runs before TASK_FINISHED (a task's label "
      "cairn-sim.runtime=DURATION overrides it).", 0, 315360000000LL },
    { "processes", FLAG_INT, &s_processes, "0", "P",
      "Processes to spread the agents over (0: as few as the open-file limit allows).",
      0, 4096 },
    { "hostname-prefix", FLAG_STRING, &s_hostname_prefix, "sim", "PREFIX",
      "Agents are named PREFIX-<index>.", 0, 0 },
    { "first-index", FLAG_INT, &s_first_index, "0", "N",
      "Index of the first agent (to run several emulators against one master).", 0,
      1000000000 },
    { "agents-per-address", FLAG_INT, &s_per_address, "20000", "N",
      "Connections per loopback source address (127.0.0.1, .2, ...) when there are more "
      "agents than this.", 1, 1000000 },
    { "master-public-key", FLAG_STRING, &s_master_public_key, NULL, "FILE",
      "Speak CURVE to the master whose public key (from `cairn keygen`) is in FILE; needs "
      "--curve-cert.", 0, 0 },
    { "curve-cert", FLAG_STRING, &s_curve_cert, NULL, "FILE",
      "The emulated agents' key pair (from `cairn keygen`), one for all of them; the "
      "master must allow its public key.", 0, 0 },
    { "log-level", FLAG_STRING, &s_log_level, "warn", "LEVEL",
      "Log level: error, warn, info or debug.", 0, 0 },
};

static const flags_spec_t s_spec = {
    "cairn-agent-sim", "CAIRN_AGENT_SIM_",
    "Emulate many Cairn agents over the real protocol, without running tasks.",
    "[OPTIONS]", s_flags, sizeof s_flags / sizeof s_flags[0],
};

enum { TIMER_AGENT = 1, TIMER_FINISH, TIMER_RETRY };

typedef struct update {
    proto_status_t status;
    struct update *next;
} update_t;

typedef struct simagent simagent_t;

typedef struct {
    simtimer_t finish;              /* kind TIMER_FINISH */
    simtimer_t retry;               /* kind TIMER_RETRY */
    simagent_t *agent;
    char *key;                      /* "FRAMEWORK/TASK" */
    char *framework_id;
    proto_task_t info;
    cairn_task_state_t state;
    update_t *head, *tail;          /* status stream; head in flight */
    int64_t retry_ms;
} simtask_t;

struct simagent {
    simtimer_t timer;               /* kind TIMER_AGENT: register, silence */
    size_t index;
    unsigned gen;                   /* connections made */
    char hostname[64];
    char *id;                       /* "" until registered */
    simconn_t *conn;
    bool registered, shut_down;
    int64_t backoff, ping_ms, last_heard;
    zhashx_t *tasks;                /* key -> simtask_t, NULL while none */
};

typedef struct {
    simnet_t *net;
    simheap_t *heap;
    char *endpoint;
    zk_t *zk;                       /* following the leading master */
    const cairn_resources_t *resources;
    const proto_kv_t *attributes;
    int64_t now;
    simagent_t *agents;
    size_t nagents;
    struct {
        uint64_t registered, reregistered, reconnects, launched, duplicates, finished, killed,
            kill_unknown, updates_sent, updates_resent, acks, pings, shutdowns, errors,
            invalid;
    } c;
    size_t registered_now;
} sim_t;

#define CONTAINER(ptr, type, member) ((type *) ((char *) (ptr) - offsetof (type, member)))

static void
s_set_str (char **slot, const char *value)
{
    free (*slot);
    *slot = xstrdup (value ? value : "");
}

static void
s_send (sim_t *sim, simagent_t *a, proto_msg_t *msg)
{
    if (a->conn && simnet_send (sim->net, a->conn, msg) < 0 && errno != EAGAIN)
        log_warn ("%s: cannot send %s: %s", a->hostname, proto_type_name (msg->type),
                  zmq_strerror (errno));
}

static simconn_t *s_connect (sim_t *sim, simagent_t *a);

/*  Status streams, as cairn-agent keeps them.  */

static void
s_send_head (sim_t *sim, simtask_t *t)
{
    simagent_t *a = t->agent;
    if (!t->head || !a->registered)
        return;
    proto_msg_t *msg = proto_msg_new (PROTO_STATUS_UPDATE);
    proto_status_fini (&msg->u.status);
    proto_status_copy (&msg->u.status, &t->head->status);
    s_set_str (&msg->u.status.agent_id, a->id);
    s_send (sim, a, msg);
    proto_msg_destroy (&msg);
    sim->c.updates_sent++;
    simheap_arm (sim->heap, &t->retry, sim->now + t->retry_ms);
}

static void
s_status (sim_t *sim, simtask_t *t, cairn_task_state_t state, cairn_reason_t reason,
          const char *text)
{
    update_t *u = xzalloc (sizeof *u);
    proto_msg_t *tmpl = proto_msg_new (PROTO_STATUS_UPDATE);
    proto_status_copy (&u->status, &tmpl->u.status);
    proto_msg_destroy (&tmpl);
    char uuid[33];
    ids_uuid (uuid);
    s_set_str (&u->status.uuid, uuid);
    s_set_str (&u->status.task_id, t->info.task_id);
    s_set_str (&u->status.framework_id, t->framework_id);
    s_set_str (&u->status.agent_id, t->agent->id);
    s_set_str (&u->status.message, text);
    u->status.state = state;
    u->status.reason = reason;
    u->status.exit_code = state == CAIRN_TASK_FINISHED ? 0 : -1;
    u->status.timestamp = clock_wall ();
    t->state = state;
    bool head = t->head == NULL;
    if (t->tail)
        t->tail->next = u;
    else
        t->head = u;
    t->tail = u;
    if (head) {
        t->retry_ms = UPDATE_RETRY_MIN_MS;
        s_send_head (sim, t);
    }
}

static void
s_task_free (sim_t *sim, simtask_t *t)
{
    simheap_cancel (sim->heap, &t->finish);
    simheap_cancel (sim->heap, &t->retry);
    while (t->head) {
        update_t *u = t->head;
        t->head = u->next;
        proto_status_fini (&u->status);
        free (u);
    }
    proto_task_fini (&t->info);
    free (t->framework_id);
    free (t->key);
    free (t);
}

static void
s_task_forget (sim_t *sim, simtask_t *t)
{
    zhashx_delete (t->agent->tasks, t->key);
    s_task_free (sim, t);
}

static int64_t
s_task_runtime (const proto_task_t *task)
{
    const char *text = proto_kv_get (&task->labels, RUNTIME_LABEL);
    int64_t ms;
    if (text && duration_parse (text, &ms) == 0)
        return ms;
    return s_runtime_ms;
}

static void
s_finish (sim_t *sim, simtask_t *t)
{
    sim->c.finished++;
    s_status (sim, t, CAIRN_TASK_FINISHED, CAIRN_REASON_NONE, "exited with status 0 (emulated)");
}

static void
s_launch (sim_t *sim, simagent_t *a, const proto_framework_info_t *fw, const proto_task_t *task)
{
    char key[2 * PROTO_MAX_ID + 2];
    snprintf (key, sizeof key, "%s/%s", fw->id, task->task_id);
    if (!a->tasks)
        a->tasks = zhashx_new ();
    if (zhashx_lookup (a->tasks, key)) {
        sim->c.duplicates++;            /* a second launch is ignored */
        return;
    }
    simtask_t *t = xzalloc (sizeof *t);
    t->finish.kind = TIMER_FINISH;
    t->retry.kind = TIMER_RETRY;
    t->agent = a;
    t->key = xstrdup (key);
    t->framework_id = xstrdup (fw->id);
    proto_task_copy (&t->info, task);
    t->state = CAIRN_TASK_STAGING;
    zhashx_insert (a->tasks, t->key, t);
    sim->c.launched++;
    s_status (sim, t, CAIRN_TASK_STARTING, CAIRN_REASON_NONE, "emulated");
    s_status (sim, t, CAIRN_TASK_RUNNING, CAIRN_REASON_NONE, "running (emulated)");
    int64_t runtime = s_task_runtime (task);
    if (runtime == 0)
        s_finish (sim, t);
    else
        simheap_arm (sim->heap, &t->finish, sim->now + runtime);
}

static void
s_kill (sim_t *sim, simagent_t *a, const proto_kill_task_t *k)
{
    char key[2 * PROTO_MAX_ID + 2];
    snprintf (key, sizeof key, "%s/%s", k->framework_id, k->task_id);
    simtask_t *t = a->tasks ? zhashx_lookup (a->tasks, key) : NULL;
    if (t) {
        if (cairn_task_state_is_terminal (t->state))
            return;
        simheap_cancel (sim->heap, &t->finish);
        sim->c.killed++;
        s_status (sim, t, CAIRN_TASK_KILLING, CAIRN_REASON_KILLED_BY_SCHEDULER, "killing");
        s_status (sim, t, CAIRN_TASK_KILLED, CAIRN_REASON_KILLED_BY_SCHEDULER,
                  "killed (emulated)");
        return;
    }
    /*  Unknown here: tell the master so it stops waiting (not resent).  */
    sim->c.kill_unknown++;
    proto_msg_t *st = proto_msg_new (PROTO_STATUS_UPDATE);
    proto_status_t *s = &st->u.status;
    s_set_str (&s->task_id, k->task_id);
    s_set_str (&s->framework_id, k->framework_id);
    s_set_str (&s->agent_id, a->id);
    s->state = CAIRN_TASK_LOST;
    s->reason = CAIRN_REASON_TASK_UNKNOWN;
    s->timestamp = clock_wall ();
    s_set_str (&s->message, "the agent does not know this task");
    s_send (sim, a, st);
    proto_msg_destroy (&st);
}

static void
s_ack (sim_t *sim, simagent_t *a, const proto_status_ack_t *ack)
{
    char key[2 * PROTO_MAX_ID + 2];
    snprintf (key, sizeof key, "%s/%s", ack->framework_id, ack->task_id);
    simtask_t *t = a->tasks ? zhashx_lookup (a->tasks, key) : NULL;
    if (!t || !t->head || strcmp (t->head->status.uuid, ack->uuid) != 0)
        return;                         /* a late duplicate */
    sim->c.acks++;
    update_t *u = t->head;
    t->head = u->next;
    if (!t->head)
        t->tail = NULL;
    proto_status_fini (&u->status);
    free (u);
    simheap_cancel (sim->heap, &t->retry);
    if (t->head) {
        t->retry_ms = UPDATE_RETRY_MIN_MS;
        s_send_head (sim, t);
    }
    else if (cairn_task_state_is_terminal (t->state))
        s_task_forget (sim, t);
}

/*  The session with the master.  */

static void
s_send_register (sim_t *sim, simagent_t *a)
{
    proto_msg_t *msg = proto_msg_new (PROTO_AGENT_REGISTER);
    proto_agent_register_t *r = &msg->u.agent_register;
    s_set_str (&r->agent_id, a->id);
    s_set_str (&r->hostname, a->hostname);
    s_set_str (&r->http_address, "127.0.0.1:0");    /* no HTTP server here */
    s_set_str (&r->version, PACKAGE_VERSION "-sim");
    resources_copy (r->resources, sim->resources);
    if (sim->attributes)
        proto_kv_copy (&r->attributes, sim->attributes);
    if (a->tasks)
        for (simtask_t *t = zhashx_first (a->tasks); t; t = zhashx_next (a->tasks)) {
            proto_agent_task_t *at = proto_list_push (&r->tasks, sizeof (proto_agent_task_t));
            at->framework_id = xstrdup (t->framework_id);
            proto_task_copy (&at->task, &t->info);
            at->state = t->state;
        }
    s_send (sim, a, msg);
    proto_msg_destroy (&msg);
}

/*  Registration backoff with a little jitter, so that thousands of
    agents started together do not retry in lockstep.                    */
static int64_t
s_jitter (int64_t ms)
{
    return ms - ms / 4 + (int64_t) (random () % (ms / 2 + 1));
}

static void
s_register_now (sim_t *sim, simagent_t *a)
{
    s_send_register (sim, a);
    simheap_arm (sim->heap, &a->timer, sim->now + s_jitter (a->backoff));
    a->backoff = a->backoff * 2 > REGISTER_BACKOFF_MAX_MS ? REGISTER_BACKOFF_MAX_MS
                                                          : a->backoff * 2;
}

static void
s_shutdown (sim_t *sim, simagent_t *a, const char *why)
{
    log_warn ("%s: the master told this agent to shut down: %s", a->hostname, why);
    sim->c.shutdowns++;
    if (a->registered)
        sim->registered_now--;
    a->registered = false;
    a->shut_down = true;
    simheap_cancel (sim->heap, &a->timer);
    if (a->tasks) {
        for (simtask_t *t = zhashx_first (a->tasks); t; t = zhashx_next (a->tasks))
            s_task_free (sim, t);
        zhashx_destroy (&a->tasks);
    }
    simnet_close (sim->net, &a->conn);
}

static sim_t *s_sim;                    /* the one emulation of this process */

static void
s_handle (simconn_t *conn, proto_msg_t *msg, const proto_fault_t *fault, void *arg)
{
    (void) conn;
    simagent_t *a = arg;
    sim_t *sim = s_sim;
    a->last_heard = sim->now;
    if (!msg) {
        sim->c.invalid++;
        log_warn ("%s: dropped an invalid message from the master: %s", a->hostname,
                  fault->text);
        return;
    }
    switch (msg->type) {
        case PROTO_AGENT_REGISTERED: {
            proto_agent_registered_t *r = &msg->u.agent_registered;
            if (a->registered && strcmp (r->agent_id, a->id) == 0)
                break;              /* the answer to a resent registration */
            if (*a->id)
                sim->c.reregistered++;
            else
                sim->c.registered++;
            s_set_str (&a->id, r->agent_id);
            if (!a->registered)
                sim->registered_now++;
            a->registered = true;
            a->ping_ms = r->ping_interval_ms > 0 ? r->ping_interval_ms : 5000;
            a->backoff = REGISTER_BACKOFF_MIN_MS;
            simheap_arm (sim->heap, &a->timer, sim->now + 3 * a->ping_ms + 1000);
            if (a->tasks)
                for (simtask_t *t = zhashx_first (a->tasks); t; t = zhashx_next (a->tasks))
                    s_send_head (sim, t);
            break;
        }
        case PROTO_RUN_TASKS: {
            if (!a->registered)
                break;
            proto_task_t *tasks = msg->u.run_tasks.tasks.items;
            for (size_t i = 0; i < msg->u.run_tasks.tasks.count; i++)
                s_launch (sim, a, msg->u.run_tasks.framework, &tasks[i]);
            break;
        }
        case PROTO_KILL_TASK:
            if (a->registered)
                s_kill (sim, a, &msg->u.kill_task);
            break;
        case PROTO_STATUS_ACK:
            s_ack (sim, a, &msg->u.status_ack);
            break;
        case PROTO_PING: {
            sim->c.pings++;
            proto_msg_t *pong = proto_msg_new (PROTO_PONG);
            pong->u.ping.seq = msg->u.ping.seq;
            s_send (sim, a, pong);
            proto_msg_destroy (&pong);
            break;
        }
        case PROTO_PONG:
            break;
        case PROTO_AGENT_SHUTDOWN:
            s_shutdown (sim, a, msg->u.agent_shutdown.message);
            break;
        case PROTO_ERROR:
            sim->c.errors++;
            if (strcmp (msg->u.error.code, "not-registered") == 0) {
                if (a->registered)
                    sim->registered_now--;
                a->registered = false;
                a->backoff = REGISTER_BACKOFF_MIN_MS;
                s_register_now (sim, a);
            }
            log_warn ("%s: the master says: %s (%s)", a->hostname, msg->u.error.message,
                      msg->u.error.code);
            break;
        default:
            log_warn ("%s: unexpected %s from the master", a->hostname,
                      proto_type_name (msg->type));
            break;
    }
    proto_msg_destroy (&msg);
}

static simconn_t *
s_connect (sim_t *sim, simagent_t *a)
{
    char identity[96], source[32];
    snprintf (identity, sizeof identity, "agent-%d-sim%zu-%u", (int) getpid (), a->index,
              a->gen++);
    const char *src = NULL;
    if ((size_t) s_agents > (size_t) s_per_address) {
        size_t k = (a->index - (size_t) s_first_index) / (size_t) s_per_address;
        snprintf (source, sizeof source, "127.0.0.%zu", 1 + k % 254);
        src = source;
    }
    return simnet_connect (sim->net, sim->endpoint, src, identity, s_handle, a);
}

/*  The master is silent, or another leads: a new connection with a new
    routing id, and register again with the agent's id and tasks.        */
static void
s_reconnect (sim_t *sim, simagent_t *a)
{
    sim->c.reconnects++;
    simnet_close (sim->net, &a->conn);
    a->conn = s_connect (sim, a);
    if (!a->conn)
        log_error ("%s: %s", a->hostname, cairn_strerror_last ());
    if (a->registered)
        sim->registered_now--;
    a->registered = false;
    a->backoff = REGISTER_BACKOFF_MIN_MS;
    a->last_heard = sim->now;
    simheap_cancel (sim->heap, &a->timer);
    s_register_now (sim, a);
}

/*  zk://: the leader's endpoint, waiting up to a minute for one.         */
static int
s_follow (sim_t *sim)
{
    int64_t deadline = clock_mono_ms () + 60000;
    while (!sim->endpoint) {
        int64_t now = clock_mono_ms ();
        zk_update (sim->zk, now);
        zk_tick (sim->zk, now);
        if (zk_leader_moved (sim->zk, &sim->endpoint))
            break;
        if (now > deadline)
            return error_set (ETIMEDOUT, "no leading master in %s after 60 s", s_master);
        usleep (50000);
    }
    return 0;
}

static void
s_on_timer (sim_t *sim, simtimer_t *timer)
{
    switch (timer->kind) {
        case TIMER_AGENT: {
            simagent_t *a = CONTAINER (timer, simagent_t, timer);
            if (!a->registered) {
                s_register_now (sim, a);
                break;
            }
            int64_t deadline = a->last_heard + 3 * a->ping_ms + 1000;
            if (sim->now < deadline) {
                simheap_arm (sim->heap, &a->timer, deadline);
                break;
            }
            log_warn ("%s: no word from the master for %" PRId64 " ms; reconnecting",
                      a->hostname, sim->now - a->last_heard);
            s_reconnect (sim, a);
            break;
        }
        case TIMER_FINISH: {
            simtask_t *t = CONTAINER (timer, simtask_t, finish);
            s_finish (sim, t);
            break;
        }
        case TIMER_RETRY: {
            simtask_t *t = CONTAINER (timer, simtask_t, retry);
            t->retry_ms = t->retry_ms * 2 > UPDATE_RETRY_MAX_MS ? UPDATE_RETRY_MAX_MS
                                                                : t->retry_ms * 2;
            sim->c.updates_resent++;
            s_send_head (sim, t);
            break;
        }
        default:
            assert (false);
    }
}

static char *
s_counters_json (sim_t *sim, size_t first, size_t count)
{
    return xasprintf ("{\"first_index\":%zu,\"agents\":%zu,\"registered\":%zu,"
                      "\"registrations\":%" PRIu64 ",\"reregistrations\":%" PRIu64 ","
                      "\"reconnects\":%" PRIu64 ",\"launched\":%" PRIu64 ","
                      "\"duplicate_launches\":%" PRIu64 ",\"finished\":%" PRIu64 ","
                      "\"killed\":%" PRIu64 ",\"kill_unknown\":%" PRIu64 ","
                      "\"updates_sent\":%" PRIu64 ",\"updates_resent\":%" PRIu64 ","
                      "\"acks\":%" PRIu64 ",\"pings\":%" PRIu64 ",\"shutdowns\":%" PRIu64 ","
                      "\"errors\":%" PRIu64 ",\"invalid\":%" PRIu64 "}",
                      first, count, sim->registered_now, sim->c.registered,
                      sim->c.reregistered, sim->c.reconnects, sim->c.launched,
                      sim->c.duplicates, sim->c.finished, sim->c.killed, sim->c.kill_unknown,
                      sim->c.updates_sent, sim->c.updates_resent, sim->c.acks, sim->c.pings,
                      sim->c.shutdowns, sim->c.errors, sim->c.invalid);
}

/*  Emulates agents [first, first + count) until SIGTERM or SIGINT;
    writes its counters as one JSON line to out_fd. Returns an exit
    status.                                                               */
static int
s_run (size_t first, size_t count, const char *endpoint, const cairn_resources_t *resources,
       const proto_kv_t *attributes, int out_fd)
{
    int rc = 1;
    sim_t sim = { 0 };
    s_sim = &sim;
    sim.endpoint = endpoint ? xstrdup (endpoint) : NULL;
    sim.resources = resources;
    sim.attributes = attributes;
    srandom ((unsigned) getpid ());
    zsys_handler_set (NULL);
    int sigfd = util_signalfd ();
    sim.net = simnet_new (count);
    if (!sim.net) {
        fprintf (stderr, "cairn-agent-sim: %s\n", cairn_strerror_last ());
        return 1;
    }
    if (sigfd >= 0)
        simnet_watch_fd (sim.net, sigfd);
    if (s_curve_cert && *s_curve_cert
        && simnet_set_curve (sim.net, s_master_public_key, s_curve_cert) < 0) {
        fprintf (stderr, "cairn-agent-sim: %s\n", cairn_strerror_last ());
        simnet_destroy (&sim.net);
        return 1;
    }
    if (!endpoint) {
        zk_options_t zk_options = { .url = s_master, .session_timeout_ms = 10000 };
        if (!(sim.zk = zk_new (&zk_options)) || s_follow (&sim) < 0) {
            fprintf (stderr, "cairn-agent-sim: %s\n", cairn_strerror_last ());
            zk_destroy (&sim.zk);
            simnet_destroy (&sim.net);
            return 1;
        }
    }
    sim.heap = simheap_new ();
    sim.agents = xzalloc (count * sizeof *sim.agents);
    sim.nagents = count;
    sim.now = clock_mono_ms ();
    for (size_t i = 0; i < count; i++) {
        simagent_t *a = &sim.agents[i];
        a->index = first + i;
        a->timer.kind = TIMER_AGENT;
        snprintf (a->hostname, sizeof a->hostname, "%s-%zu", s_hostname_prefix, a->index);
        a->id = xstrdup ("");
        a->backoff = REGISTER_BACKOFF_MIN_MS;
        a->ping_ms = 5000;
        a->last_heard = sim.now;
        a->conn = s_connect (&sim, a);
        if (!a->conn) {
            fprintf (stderr, "cairn-agent-sim: agent %zu: %s\n", a->index,
                     cairn_strerror_last ());
            goto done;
        }
        s_register_now (&sim, a);
    }
    while (true) {
        sim.now = clock_mono_ms ();
        simtimer_t *timer;
        while ((timer = simheap_pop_due (sim.heap, sim.now)))
            s_on_timer (&sim, timer);
        int64_t next = simheap_next (sim.heap);
        int most = sim.zk ? 100 : 1000;         /* zk: look at the election */
        int timeout = next == INT64_MAX ? most : next <= sim.now ? 0
                      : next - sim.now > most ? most : (int) (next - sim.now);
        if (simnet_poll (sim.net, timeout) < 0 && errno != EINTR)
            break;
        sim.now = clock_mono_ms ();
        if (sim.zk) {
            zk_tick (sim.zk, sim.now);
            if ((zk_update (sim.zk, sim.now) & ZK_LEADER_CHANGED)
                && zk_leader_moved (sim.zk, &sim.endpoint)) {
                log_info ("the leading master is at %s: %zu agents register with it",
                          sim.endpoint, count);
                for (size_t i = 0; i < count; i++)
                    if (!sim.agents[i].shut_down)
                        s_reconnect (&sim, &sim.agents[i]);
            }
        }
        if (simnet_fd_ready (sim.net)) {
            int sig = util_signalfd_read (sigfd);
            if (sig == SIGTERM || sig == SIGINT)
                break;
        }
    }
    rc = 0;
done:;
    char *line = s_counters_json (&sim, first, count);
    dprintf (out_fd, "%s\n", line);
    free (line);
    for (size_t i = 0; i < count; i++) {
        simagent_t *a = &sim.agents[i];
        if (a->tasks) {
            for (simtask_t *t = zhashx_first (a->tasks); t; t = zhashx_next (a->tasks))
                s_task_free (&sim, t);
            zhashx_destroy (&a->tasks);
        }
        simheap_cancel (sim.heap, &a->timer);
        simnet_close (sim.net, &a->conn);
        free (a->id);
    }
    simnet_poll (sim.net, 0);           /* destroys the closed sockets */
    free (sim.agents);
    simheap_destroy (&sim.heap);
    simnet_destroy (&sim.net);
    zk_destroy (&sim.zk);
    free (sim.endpoint);
    if (sigfd >= 0)
        close (sigfd);
    return rc;
}

/*  The parent: starts one process per slice of agents, passes SIGTERM
    and SIGINT on, and adds up the counters the processes print.         */
static int
s_supervise (size_t nproc, const char *endpoint, const cairn_resources_t *resources,
             const proto_kv_t *attributes)
{
    sigset_t set;
    sigemptyset (&set);
    sigaddset (&set, SIGTERM);
    sigaddset (&set, SIGINT);
    sigaddset (&set, SIGCHLD);
    sigprocmask (SIG_BLOCK, &set, NULL);
    pid_t *pids = xzalloc (nproc * sizeof *pids);
    int *fds = xzalloc (nproc * sizeof *fds);
    size_t per = ((size_t) s_agents + nproc - 1) / nproc, started = 0, running = 0;
    int rc = 0;
    for (size_t k = 0; k < nproc; k++) {
        size_t first = k * per, count = first + per > (size_t) s_agents
                                            ? (size_t) s_agents - first : per;
        int pfd[2];
        if (pipe (pfd) < 0) {
            fprintf (stderr, "cairn-agent-sim: pipe: %s\n", strerror (errno));
            rc = 1;
            break;
        }
        fflush (NULL);
        pid_t pid = fork ();
        if (pid < 0) {
            fprintf (stderr, "cairn-agent-sim: fork: %s\n", strerror (errno));
            close (pfd[0]);
            close (pfd[1]);
            rc = 1;
            break;
        }
        if (pid == 0) {
            /*  Stop with the parent, even if it is killed outright.     */
            prctl (PR_SET_PDEATHSIG, SIGTERM);
            if (getppid () == 1)
                _exit (1);
            close (pfd[0]);
            for (size_t j = 0; j < k; j++)
                close (fds[j]);
            _exit (s_run ((size_t) s_first_index + first, count, endpoint, resources,
                          attributes, pfd[1]));
        }
        close (pfd[1]);
        pids[k] = pid;
        fds[k] = pfd[0];
        started++;
        running++;
    }
    bool stopping = rc != 0;
    if (stopping)
        for (size_t k = 0; k < started; k++)
            kill (pids[k], SIGTERM);
    while (running > 0) {
        siginfo_t info;
        int sig = sigwaitinfo (&set, &info);
        if (sig == SIGTERM || sig == SIGINT) {
            stopping = true;
            for (size_t k = 0; k < started; k++)
                if (pids[k] > 0)
                    kill (pids[k], SIGTERM);
            continue;
        }
        if (sig != SIGCHLD)
            continue;
        int status;
        pid_t pid;
        while ((pid = waitpid (-1, &status, WNOHANG)) > 0) {
            for (size_t k = 0; k < started; k++)
                if (pids[k] == pid)
                    pids[k] = 0;
            running--;
            bool ok = WIFEXITED (status) && WEXITSTATUS (status) == 0;
            if (!ok) {
                rc = 1;
                if (!stopping) {
                    /*  One slice failed: the emulated cluster is not what
                        was asked for, so stop the rest.                  */
                    fprintf (stderr, "cairn-agent-sim: process %d failed; stopping\n",
                             (int) pid);
                    stopping = true;
                    for (size_t k = 0; k < started; k++)
                        if (pids[k] > 0)
                            kill (pids[k], SIGTERM);
                }
            }
        }
    }
    /*  Add up the processes' counters.                                   */
    json_t *total = json_object ();
    for (size_t k = 0; k < started; k++) {
        char buf[4096];
        ssize_t n = read (fds[k], buf, sizeof buf - 1);
        close (fds[k]);
        if (n <= 0)
            continue;
        buf[n] = '\0';
        json_t *part = json_loads (buf, 0, NULL);
        const char *key;
        json_t *value;
        json_object_foreach (part, key, value) {
            json_int_t sum = json_integer_value (json_object_get (total, key));
            if (strcmp (key, "first_index") == 0)
                sum = k == 0 ? json_integer_value (value) : sum;
            else
                sum += json_integer_value (value);
            json_object_set_new (total, key, json_integer (sum));
        }
        json_decref (part);
    }
    json_object_set_new (total, "processes", json_integer ((json_int_t) nproc));
    char *text = json_dumps (total, JSON_COMPACT | JSON_PRESERVE_ORDER);
    printf ("%s\n", text);
    fflush (stdout);
    free (text);
    json_decref (total);
    free (pids);
    free (fds);
    return rc;
}

/*  "rack:r1;zone:a" -> attributes, as cairn-agent reads them.            */
static int
s_parse_attributes (const char *text, proto_kv_t *kv)
{
    if (!text || !*text)
        return 0;
    char *copy = xstrdup (text), *save = NULL;
    int rc = 0;
    for (char *item = strtok_r (copy, ";", &save); item; item = strtok_r (NULL, ";", &save)) {
        char *colon = strchr (item, ':');
        if (!colon || colon == item || !colon[1]) {
            rc = error_set (EINVAL, "'%s' is not NAME:VALUE", item);
            break;
        }
        *colon = '\0';
        if (strlen (item) > PROTO_MAX_NAME || strlen (colon + 1) > PROTO_MAX_NAME
            || kv->count >= PROTO_MAX_KV) {
            rc = error_set (EINVAL, "attribute '%s' is too long (or there are too many)", item);
            break;
        }
        proto_kv_set (kv, item, colon + 1);
    }
    free (copy);
    return rc;
}

int
main (int argc, char **argv)
{
    int rc = flags_parse (&s_spec, argc, argv, NULL);
    if (rc != 0)
        return rc < 0 ? 2 : 0;
    int exit_code = 2;
    char *endpoint = NULL;
    cairn_resources_t *resources = NULL;
    proto_kv_t attributes = { 0 };
    if (!s_master || !*s_master) {
        fprintf (stderr, "cairn-agent-sim: --master=HOST:PORT is required\n");
        goto done;
    }
    if (zk_url_is (s_master) ? zk_url_check (s_master) < 0
                             : !(endpoint = transport_endpoint (s_master))) {
        fprintf (stderr, "cairn-agent-sim: --master: %s\n", cairn_strerror_last ());
        goto done;
    }
    bool has_key = s_master_public_key && *s_master_public_key;
    bool has_cert = s_curve_cert && *s_curve_cert;
    if (has_key != has_cert) {
        fprintf (stderr, "cairn-agent-sim: --master-public-key and --curve-cert go together\n");
        goto done;
    }
    if (has_key) {
        /*  Checked here, once, so a bad file is one message, not one per
            process.                                                       */
        transport_curve_t creds = { 0 };
        if (transport_curve_load (&creds, s_master_public_key, s_curve_cert) < 0) {
            fprintf (stderr, "cairn-agent-sim: %s\n", cairn_strerror_last ());
            goto done;
        }
        transport_curve_fini (&creds);
    }
    resources = cairn_resources_parse (s_resources);
    if (!resources) {
        fprintf (stderr, "cairn-agent-sim: --resources: %s\n", cairn_strerror_last ());
        goto done;
    }
    if (s_parse_attributes (s_attributes, &attributes) < 0) {
        fprintf (stderr, "cairn-agent-sim: --attributes: %s\n", cairn_strerror_last ());
        goto done;
    }
    if (strlen (s_hostname_prefix) > 200 || !*s_hostname_prefix) {
        fprintf (stderr, "cairn-agent-sim: --hostname-prefix: must be 1 to 200 bytes\n");
        goto done;
    }
    if (log_init ("agent-sim", s_log_level, "stderr") < 0) {
        fprintf (stderr, "cairn-agent-sim: %s\n", cairn_strerror_last ());
        goto done;
    }
    /*  Source addresses: one address's ephemeral ports bound the
        connections to one master endpoint, so beyond that the agents
        connect from 127.0.0.2, 127.0.0.3, ..., which only reach a master
        on loopback.                                                      */
    size_t addresses = ((size_t) s_agents + (size_t) s_per_address - 1) / (size_t) s_per_address;
    if (addresses > 1 && endpoint && strncmp (endpoint, "tcp://127.", 10) != 0) {
        fprintf (stderr, "cairn-agent-sim: %" PRId64 " agents need %zu source addresses "
                 "(--agents-per-address=%" PRId64 "), which works only with a master on "
                 "127.0.0.0/8\n", s_agents, addresses, s_per_address);
        goto done;
    }
    if (addresses > 254) {
        fprintf (stderr, "cairn-agent-sim: too many agents for 254 loopback addresses of "
                 "%" PRId64 " connections each\n", s_per_address);
        goto done;
    }
    size_t per_process = simnet_max_conns ();
    if (per_process == 0) {
        fprintf (stderr, "cairn-agent-sim: the open-file limit (ulimit -Hn) is too low for "
                 "even one agent\n");
        exit_code = 1;
        goto done;
    }
    size_t needed = ((size_t) s_agents + per_process - 1) / per_process;
    size_t nproc = s_processes > 0 ? (size_t) s_processes : needed;
    if (nproc < needed) {
        fprintf (stderr, "cairn-agent-sim: %" PRId64 " agents in %zu processes is %zu per "
                 "process, but the open-file limit (ulimit -Hn) allows at most %zu per "
                 "process (%d files each): use --processes=%zu or more\n", s_agents, nproc,
                 ((size_t) s_agents + nproc - 1) / nproc, per_process,
                 SIMNET_FILES_PER_CONN, needed);
        goto done;
    }
    if (nproc > (size_t) s_agents)
        nproc = (size_t) s_agents;
    if (nproc == 1)
        exit_code = s_run ((size_t) s_first_index, (size_t) s_agents, endpoint, resources,
                           &attributes, STDOUT_FILENO);
    else
        exit_code = s_supervise (nproc, endpoint, resources, &attributes);
done:
    free (endpoint);
    cairn_resources_destroy (&resources);
    proto_kv_fini (&attributes);
    flags_free (&s_spec);
    return exit_code;
}
