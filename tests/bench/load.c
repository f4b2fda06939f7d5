/*  load.c - cairn-load: a benchmark scheduler. Registers F frameworks
    (one DEALER session each, all in one thread, over simnet) and drives
    the master with them, speaking the protocol directly rather than
    through libcairn so that a thousand frameworks cost a thousand
    sockets, not a thousand driver threads.

    --mode=launch (default): launches --tasks tiny tasks, at --rate tasks
    per second or as fast as offers allow, packing as many as fit (up to
    --tasks-per-offer) into each accepted offer and acknowledging every
    status update, and measures for each task the time from the ACCEPT
    that launched it to its first TASK_RUNNING and to its terminal update.

    --mode=revive: registers the frameworks suppressed, then revives them
    all at once and measures how long until they hold offers for
    --expect-agents agents (the master's full allocation cycle, seen from
    outside). Offers are held, never answered.

    --probe=INTERVAL adds one more session that sends PING every INTERVAL
    and records each PONG's round trip: the longest is the longest any
    message waited in the master's loop (plus transport).  With
    --frameworks=0 it only probes, for --duration.

    Prints one JSON line of results to stdout.                            */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <czmq.h>

#include "error.h"
#include "flags.h"
#include "log.h"
#include "resources.h"
#include "simnet.h"
#include "transport.h"
#include "util.h"

static char *s_master, *s_mode, *s_task_resources, *s_runtime, *s_name, *s_log_level, *s_until;
static char *s_master_public_key, *s_curve_cert;
static int64_t s_frameworks, s_tasks, s_per_offer, s_timeout_ms, s_probe_ms, s_duration_ms;
static int64_t s_linger_ms;
static int64_t s_expect_agents, s_role_count;
static double s_rate;

static const flag_t s_flags[] = {
    { "master", FLAG_STRING, &s_master, NULL, "HOST:PORT", "The master (required).", 0, 0 },
    { "mode", FLAG_STRING, &s_mode, "launch", "MODE", "launch or revive.", 0, 0 },
    { "frameworks", FLAG_INT, &s_frameworks, "1", "F", "Frameworks to register.", 0, 100000 },
    { "tasks", FLAG_INT, &s_tasks, "1000", "N", "Tasks to launch in all.", 0, 100000000 },
    { "rate", FLAG_DOUBLE, &s_rate, "0", "R",
      "Tasks launched per second (0: as fast as offers allow).", 0, 1e9 },
    { "task-resources", FLAG_STRING, &s_task_resources, "cpus:0.01;mem:1", "SPEC",
      "Resources of each task.", 0, 0 },
    { "tasks-per-offer", FLAG_INT, &s_per_offer, "0", "K",
      "Tasks launched on one offer at most (0: as many as fit, up to 1000).", 0, 1000 },
    { "task-runtime", FLAG_STRING, &s_runtime, NULL, "DURATION",
      "Ask cairn-agent-sim to run each task this long (label cairn-sim.runtime).", 0, 0 },
    { "timeout", FLAG_DURATION, &s_timeout_ms, "5m", "DURATION",
      "Give up after this long.", 1, 315360000000LL },
    { "expect-agents", FLAG_INT, &s_expect_agents, "0", "N",
      "revive mode: agents whose offers to wait for.", 0, 100000000 },
    { "probe", FLAG_DURATION, &s_probe_ms, "0s", "INTERVAL",
      "Send a PING every INTERVAL and record the round trips (0s: no probe).", 0, 60000 },
    { "duration", FLAG_DURATION, &s_duration_ms, "10s", "DURATION",
      "How long to probe when there are no frameworks.", 1, 315360000000LL },
    { "until", FLAG_STRING, &s_until, "finished", "WHAT",
      "launch mode: finished (every task ended) or running (every task running).", 0, 0 },
    { "linger", FLAG_DURATION, &s_linger_ms, "0s", "DURATION",
      "After printing the results, keep the frameworks (and their tasks) this long, or "
      "until SIGTERM.", 0, 315360000000LL },
    { "roles", FLAG_INT, &s_role_count, "1", "N",
      "Spread the frameworks over N roles (load-0, load-1, ...; 1: role *).", 1, 100000 },
    { "name", FLAG_STRING, &s_name, "cairn-load", "NAME", "Framework name prefix.", 0, 0 },
    { "master-public-key", FLAG_STRING, &s_master_public_key, NULL, "FILE",
      "Speak CURVE to the master with this public key (needs --curve-cert).", 0, 0 },
    { "curve-cert", FLAG_STRING, &s_curve_cert, NULL, "FILE",
      "The frameworks' key pair (from `cairn keygen`), one for all of them.", 0, 0 },
    { "log-level", FLAG_STRING, &s_log_level, "warn", "LEVEL", "Log level.", 0, 0 },
};

static const flags_spec_t s_spec = {
    "cairn-load", "CAIRN_LOAD_", "Load the master with F frameworks and measure launches.",
    "[OPTIONS]", s_flags, sizeof s_flags / sizeof s_flags[0],
};

typedef struct {
    simconn_t *conn;
    size_t index;
    char *id;                       /* NULL until registered */
    int64_t next_register;          /* ms */
    int64_t backoff;
    size_t offered_agents;          /* revive mode: offers held */
} fw_t;

typedef struct {
    char offer_id[PROTO_MAX_ID + 1];
    char agent_id[PROTO_MAX_ID + 1];
    fw_t *fw;
    int64_t fit;                    /* tasks that fit */
} held_t;

typedef struct {
    simnet_t *net;
    char *endpoint;
    fw_t *fws;
    size_t nfws, registered;
    cairn_resources_t *task_res;
    bool revive;
    /*  Per task, in microseconds on zclock_usecs's clock; 0: not yet.  */
    int64_t *accepted, *running, *ended;
    size_t next_task, nrunning, nended;
    uint64_t by_state[CAIRN_TASK_STATE_COUNT];
    uint64_t offers, declined, accepts, acks, rescinds, errors, invalid, foreign;
    /*  Rate limiting: tokens are tasks that may be launched now.        */
    double tokens;
    int64_t last_refill_us;
    held_t *held;
    size_t nheld, held_cap, held_head;
    bool suppressed_all;
    int64_t revived_us, all_offers_us;
    size_t offered_agents;
    /*  Probe.  */
    simconn_t *probe;
    int64_t *probe_sent;            /* by seq */
    double *rtts;
    size_t probe_seq, probe_cap, nrtts;
    int64_t next_probe_us;
} load_t;

static load_t *s_load;

static int64_t
s_fit (const cairn_resources_t *offer)
{
    int64_t fit = 1000;
    int64_t mc = cairn_resources_millicpus (s_load->task_res);
    uint64_t mem = cairn_resources_mem (s_load->task_res);
    uint64_t disk = cairn_resources_disk (s_load->task_res);
    if (mc > 0 && cairn_resources_millicpus (offer) / mc < fit)
        fit = cairn_resources_millicpus (offer) / mc;
    if (mem > 0 && (int64_t) (cairn_resources_mem (offer) / mem) < fit)
        fit = (int64_t) (cairn_resources_mem (offer) / mem);
    if (disk > 0 && (int64_t) (cairn_resources_disk (offer) / disk) < fit)
        fit = (int64_t) (cairn_resources_disk (offer) / disk);
    if (s_per_offer > 0 && s_per_offer < fit)
        fit = s_per_offer;
    return fit;
}

static void
s_send (load_t *L, simconn_t *conn, proto_msg_t *msg)
{
    if (simnet_send_take (L->net, conn, &msg) < 0)
        log_warn ("cannot send: %s", zmq_strerror (errno));
}

static void
s_register (load_t *L, fw_t *f)
{
    proto_msg_t *msg = proto_msg_new (PROTO_FRAMEWORK_REGISTER);
    proto_framework_info_t *info = &msg->u.framework;
    free (info->name);
    info->name = xasprintf ("%s-%zu", s_name, f->index);
    if (s_role_count > 1) {
        free (info->role);
        info->role = xasprintf ("load-%zu", f->index % (size_t) s_role_count);
    }
    info->suppressed = L->revive;
    s_send (L, f->conn, msg);
}

static void
s_decline (load_t *L, fw_t *f, const char *offer_id, int64_t refuse_ms)
{
    proto_msg_t *msg = proto_msg_new (PROTO_DECLINE);
    proto_strs_add (&msg->u.decline.offer_ids, offer_id);
    msg->u.decline.refuse_ms = refuse_ms;
    s_send (L, f->conn, msg);
    L->declined++;
}

/*  Launches up to n tasks on an offer; returns how many.                 */
static size_t
s_accept (load_t *L, fw_t *f, const char *offer_id, const char *agent_id, int64_t n)
{
    (void) agent_id;
    proto_msg_t *msg = proto_msg_new (PROTO_ACCEPT);
    proto_accept_t *acc = &msg->u.accept;
    proto_strs_add (&acc->offer_ids, offer_id);
    acc->refuse_ms = 0;
    int64_t now = zclock_usecs ();
    size_t count = 0;
    while ((int64_t) count < n && L->next_task < (size_t) s_tasks) {
        size_t i = L->next_task++;
        proto_task_t *t = proto_list_push (&acc->tasks, sizeof (proto_task_t));
        proto_task_init (t);
        free (t->task_id);
        t->task_id = xasprintf ("load-%zu", i);
        free (t->name);
        t->name = xstrdup ("load");
        free (t->command);
        t->command = xstrdup ("true");
        resources_copy (t->resources, L->task_res);
        if (s_runtime)
            proto_kv_set (&t->labels, "cairn-sim.runtime", s_runtime);
        L->accepted[i] = now;
        count++;
    }
    s_send (L, f->conn, msg);
    L->accepts++;
    return count;
}

static void
s_refill (load_t *L)
{
    if (s_rate <= 0)
        return;
    int64_t now = zclock_usecs ();
    L->tokens += s_rate * (double) (now - L->last_refill_us) / 1e6;
    double cap = s_rate / 20 > 1 ? s_rate / 20 : 1;     /* 50 ms of burst */
    if (L->tokens > cap)
        L->tokens = cap;
    L->last_refill_us = now;
}

static int64_t
s_budget (load_t *L, int64_t fit)
{
    if (s_rate <= 0)
        return fit;
    int64_t n = (int64_t) L->tokens;
    return n < fit ? n : fit;
}

/*  Held offers (rate limited): launch on them as tokens come.            */
static void
s_drain_held (load_t *L)
{
    s_refill (L);
    while (L->held_head < L->nheld) {
        held_t *h = &L->held[L->held_head];
        if (L->next_task >= (size_t) s_tasks) {
            s_decline (L, h->fw, h->offer_id, 60000);
            L->held_head++;
            continue;
        }
        int64_t n = s_budget (L, h->fit);
        if (n <= 0)
            break;
        L->tokens -= (double) s_accept (L, h->fw, h->offer_id, h->agent_id, n);
        L->held_head++;
    }
    if (L->held_head == L->nheld)
        L->held_head = L->nheld = 0;
}

static void
s_suppress_all (load_t *L)
{
    if (L->suppressed_all)
        return;
    L->suppressed_all = true;
    for (size_t i = 0; i < L->nfws; i++)
        if (L->fws[i].id)
            s_send (L, L->fws[i].conn, proto_msg_new (PROTO_SUPPRESS));
}

static void
s_on_offers (load_t *L, fw_t *f, proto_offers_t *offers)
{
    proto_offer_t *items = offers->offers.items;
    L->offers += offers->offers.count;
    if (L->revive) {
        f->offered_agents += offers->offers.count;
        L->offered_agents += offers->offers.count;
        if (!L->all_offers_us && L->revived_us && s_expect_agents > 0
            && L->offered_agents >= (size_t) s_expect_agents)
            L->all_offers_us = zclock_usecs ();
        return;                     /* held */
    }
    s_refill (L);
    for (size_t i = 0; i < offers->offers.count; i++) {
        proto_offer_t *o = &items[i];
        int64_t fit = s_fit (o->resources);
        if (L->next_task >= (size_t) s_tasks || fit <= 0) {
            s_decline (L, f, o->offer_id, 60000);
            continue;
        }
        int64_t n = L->nheld > L->held_head ? 0 : s_budget (L, fit);
        if (n > 0) {
            L->tokens -= (double) s_accept (L, f, o->offer_id, o->agent_id, n);
            continue;
        }
        if (L->nheld == L->held_cap) {
            L->held_cap = L->held_cap ? 2 * L->held_cap : 1024;
            L->held = realloc (L->held, L->held_cap * sizeof *L->held);
            if (!L->held)
                oom_abort ();
        }
        held_t *h = &L->held[L->nheld++];
        snprintf (h->offer_id, sizeof h->offer_id, "%s", o->offer_id);
        snprintf (h->agent_id, sizeof h->agent_id, "%s", o->agent_id);
        h->fw = f;
        h->fit = fit;
    }
    if (L->next_task >= (size_t) s_tasks)
        s_suppress_all (L);
}

static void
s_on_status (load_t *L, fw_t *f, proto_status_t *st)
{
    if (*st->uuid) {
        proto_msg_t *ack = proto_msg_new (PROTO_STATUS_ACK);
        proto_status_ack_t *a = &ack->u.status_ack;
        free (a->framework_id);
        a->framework_id = xstrdup (st->framework_id);
        free (a->agent_id);
        a->agent_id = xstrdup (st->agent_id);
        free (a->task_id);
        a->task_id = xstrdup (st->task_id);
        free (a->uuid);
        a->uuid = xstrdup (st->uuid);
        s_send (L, f->conn, ack);
        L->acks++;
    }
    char *end = NULL;
    if (strncmp (st->task_id, "load-", 5) != 0) {
        L->foreign++;
        return;
    }
    unsigned long long i = strtoull (st->task_id + 5, &end, 10);
    if (!end || *end || i >= (unsigned long long) s_tasks || !L->accepted[i]) {
        L->foreign++;
        return;
    }
    int64_t now = zclock_usecs ();
    if (st->state == CAIRN_TASK_RUNNING && !L->running[i]) {
        L->running[i] = now;
        L->nrunning++;
    }
    if (cairn_task_state_is_terminal (st->state) && !L->ended[i]) {
        L->ended[i] = now;
        L->nended++;
        L->by_state[st->state]++;
        if (st->state != CAIRN_TASK_FINISHED)
            log_warn ("task %s: %s (%s)", st->task_id, cairn_task_state_name (st->state),
                      st->message);
    }
}

static void
s_handle (simconn_t *conn, proto_msg_t *msg, const proto_fault_t *fault, void *arg)
{
    (void) conn;
    load_t *L = s_load;
    fw_t *f = arg;
    if (!msg) {
        L->invalid++;
        log_warn ("invalid message from the master: %s", fault->text);
        return;
    }
    switch (msg->type) {
        case PROTO_FRAMEWORK_REGISTERED:
            if (!f->id) {
                f->id = xstrdup (msg->u.framework_registered.framework_id);
                L->registered++;
            }
            break;
        case PROTO_OFFERS:
            s_on_offers (L, f, &msg->u.offers);
            break;
        case PROTO_STATUS_UPDATE:
            s_on_status (L, f, &msg->u.status);
            break;
        case PROTO_RESCIND:
            L->rescinds++;
            break;
        case PROTO_PING: {
            proto_msg_t *pong = proto_msg_new (PROTO_PONG);
            pong->u.ping.seq = msg->u.ping.seq;
            s_send (L, f->conn, pong);
            break;
        }
        case PROTO_ERROR:
            L->errors++;
            log_warn ("framework %zu: the master says: %s (%s)", f->index, msg->u.error.message,
                      msg->u.error.code);
            if (strcmp (msg->u.error.code, "not-registered") == 0) {
                free (f->id);
                f->id = NULL;
                L->registered--;
                f->next_register = 0;
            }
            break;
        default:
            break;
    }
    proto_msg_destroy (&msg);
}

static void
s_on_probe (simconn_t *conn, proto_msg_t *msg, const proto_fault_t *fault, void *arg)
{
    (void) conn;
    (void) fault;
    (void) arg;
    load_t *L = s_load;
    if (msg && msg->type == PROTO_PONG && msg->u.ping.seq >= 0
        && (size_t) msg->u.ping.seq < L->probe_seq && L->probe_sent[msg->u.ping.seq]) {
        if (L->nrtts < L->probe_cap)
            L->rtts[L->nrtts++] = (double) (zclock_usecs () - L->probe_sent[msg->u.ping.seq])
                                  / 1000.0;
        L->probe_sent[msg->u.ping.seq] = 0;
    }
    proto_msg_destroy (&msg);
}

static void
s_probe (load_t *L, int64_t now_us)
{
    if (!L->probe || now_us < L->next_probe_us || L->probe_seq >= L->probe_cap)
        return;
    L->next_probe_us = now_us + s_probe_ms * 1000;
    proto_msg_t *ping = proto_msg_new (PROTO_PING);
    ping->u.ping.seq = (int64_t) L->probe_seq;
    L->probe_sent[L->probe_seq++] = now_us;
    s_send (L, L->probe, ping);
}

static int
s_cmp_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static double
s_pct (const double *sorted, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t k = (size_t) ceil (p * (double) n);
    return sorted[k == 0 ? 0 : k - 1];
}

/*  {"p50":..,"p99":..,"max":..,"mean":..} of the differences b - a (ms). */
static char *
s_latency (load_t *L, const int64_t *a, const int64_t *b)
{
    double *d = xzalloc (((size_t) s_tasks + 1) * sizeof *d);
    size_t n = 0;
    double sum = 0;
    for (size_t i = 0; i < (size_t) s_tasks; i++)
        if (a[i] && b[i]) {
            d[n] = (double) (b[i] - a[i]) / 1000.0;
            sum += d[n++];
        }
    (void) L;
    qsort (d, n, sizeof *d, s_cmp_double);
    char *text = xasprintf ("{\"count\":%zu,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,"
                            "\"max\":%.3f,\"mean\":%.3f}", n, s_pct (d, n, 0.5),
                            s_pct (d, n, 0.9), s_pct (d, n, 0.99), n ? d[n - 1] : 0,
                            n ? sum / (double) n : 0);
    free (d);
    return text;
}

int
main (int argc, char **argv)
{
    int rc = flags_parse (&s_spec, argc, argv, NULL);
    if (rc != 0)
        return rc < 0 ? 2 : 0;
    int exit_code = 2;
    load_t L = { 0 };
    s_load = &L;
    int sigfd = -1;
    if (!s_master || !(L.endpoint = transport_endpoint (s_master))) {
        fprintf (stderr, "cairn-load: --master=HOST:PORT is required\n");
        goto done;
    }
    if (strcmp (s_until, "finished") != 0 && strcmp (s_until, "running") != 0) {
        fprintf (stderr, "cairn-load: --until: finished or running, not '%s'\n", s_until);
        goto done;
    }
    if (strcmp (s_mode, "launch") != 0 && strcmp (s_mode, "revive") != 0) {
        fprintf (stderr, "cairn-load: --mode: launch or revive, not '%s'\n", s_mode);
        goto done;
    }
    L.revive = strcmp (s_mode, "revive") == 0;
    L.task_res = cairn_resources_parse (s_task_resources);
    if (!L.task_res) {
        fprintf (stderr, "cairn-load: --task-resources: %s\n", cairn_strerror_last ());
        goto done;
    }
    int64_t ignored;
    if (s_runtime && duration_parse (s_runtime, &ignored) < 0) {
        fprintf (stderr, "cairn-load: --task-runtime: %s\n", cairn_strerror_last ());
        goto done;
    }
    log_init ("load", s_log_level, "stderr");
    exit_code = 1;
    zsys_handler_set (NULL);
    sigfd = util_signalfd ();
    L.net = simnet_new ((size_t) s_frameworks + 1);
    if (!L.net) {
        fprintf (stderr, "cairn-load: %s\n", cairn_strerror_last ());
        goto done;
    }
    if (sigfd >= 0)
        simnet_watch_fd (L.net, sigfd);
    if ((s_master_public_key && *s_master_public_key) != (s_curve_cert && *s_curve_cert)) {
        fprintf (stderr, "cairn-load: --master-public-key and --curve-cert go together\n");
        exit_code = 2;
        goto done;
    }
    if (s_curve_cert && *s_curve_cert
        && simnet_set_curve (L.net, s_master_public_key, s_curve_cert) < 0) {
        fprintf (stderr, "cairn-load: %s\n", cairn_strerror_last ());
        goto done;
    }
    L.accepted = xzalloc (((size_t) s_tasks + 1) * sizeof (int64_t));
    L.running = xzalloc (((size_t) s_tasks + 1) * sizeof (int64_t));
    L.ended = xzalloc (((size_t) s_tasks + 1) * sizeof (int64_t));
    L.nfws = (size_t) s_frameworks;
    L.fws = xzalloc ((L.nfws + 1) * sizeof *L.fws);
    for (size_t i = 0; i < L.nfws; i++) {
        fw_t *f = &L.fws[i];
        f->index = i;
        f->backoff = 250;
        char identity[64];
        snprintf (identity, sizeof identity, "fw-load-%d-%zu", (int) getpid (), i);
        f->conn = simnet_connect (L.net, L.endpoint, NULL, identity, s_handle, f);
        if (!f->conn) {
            fprintf (stderr, "cairn-load: %s\n", cairn_strerror_last ());
            goto done;
        }
    }
    if (s_probe_ms > 0) {
        L.probe = simnet_connect (L.net, L.endpoint, NULL, NULL, s_on_probe, NULL);
        if (!L.probe) {
            fprintf (stderr, "cairn-load: %s\n", cairn_strerror_last ());
            goto done;
        }
        L.probe_cap = 1000000;
        L.probe_sent = xzalloc (L.probe_cap * sizeof *L.probe_sent);
        L.rtts = xzalloc (L.probe_cap * sizeof *L.rtts);
    }
    int64_t t0 = zclock_usecs ();
    int64_t deadline = t0 + s_timeout_ms * 1000;
    int64_t probe_end = s_frameworks == 0 ? t0 + s_duration_ms * 1000 : INT64_MAX;
    int64_t registered_us = 0;
    L.last_refill_us = t0;
    bool interrupted = false, timed_out = false;
    while (true) {
        int64_t now = zclock_usecs ();
        for (size_t i = 0; i < L.nfws; i++) {
            fw_t *f = &L.fws[i];
            if (!f->id && now / 1000 >= f->next_register) {
                s_register (&L, f);
                f->next_register = now / 1000 + f->backoff;
                f->backoff = f->backoff * 2 > 8000 ? 8000 : f->backoff * 2;
            }
        }
        if (L.nfws > 0 && L.registered == L.nfws && !registered_us) {
            registered_us = now;
            if (L.revive) {
                L.revived_us = zclock_usecs ();
                for (size_t i = 0; i < L.nfws; i++)
                    s_send (&L, L.fws[i].conn, proto_msg_new (PROTO_REVIVE));
            }
        }
        if (L.nheld > L.held_head)
            s_drain_held (&L);
        s_probe (&L, now);
        /*  Done?  */
        if (L.nfws > 0 && !L.revive
            && (strcmp (s_until, "running") == 0 ? L.nrunning : L.nended) == (size_t) s_tasks)
            break;
        if (L.revive && L.all_offers_us)
            break;
        if (now >= probe_end)
            break;
        if (now >= deadline) {
            timed_out = true;
            break;
        }
        int wait = L.nheld > L.held_head ? 1 : L.probe ? (int) (s_probe_ms > 50 ? 50 : s_probe_ms)
                 : 50;
        if (simnet_poll (L.net, wait) < 0 && errno != EINTR)
            break;
        if (simnet_fd_ready (L.net)) {
            int sig = util_signalfd_read (sigfd);
            if (sig == SIGTERM || sig == SIGINT) {
                interrupted = true;
                break;
            }
        }
    }
    int64_t t1 = zclock_usecs ();
    /*  Results.  */
    int64_t first_accept = 0, last_accept = 0, last_end = 0;
    for (size_t i = 0; i < (size_t) s_tasks; i++) {
        if (L.accepted[i] && (!first_accept || L.accepted[i] < first_accept))
            first_accept = L.accepted[i];
        if (L.accepted[i] > last_accept)
            last_accept = L.accepted[i];
        if (L.ended[i] > last_end)
            last_end = L.ended[i];
    }
    char *to_running = s_latency (&L, L.accepted, L.running);
    char *to_ended = s_latency (&L, L.accepted, L.ended);
    char *probe = xstrdup ("null");
    if (L.probe) {
        qsort (L.rtts, L.nrtts, sizeof *L.rtts, s_cmp_double);
        free (probe);
        probe = xasprintf ("{\"count\":%zu,\"lost\":%zu,\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f}",
                           L.nrtts, L.probe_seq - L.nrtts, s_pct (L.rtts, L.nrtts, 0.5),
                           s_pct (L.rtts, L.nrtts, 0.99), L.nrtts ? L.rtts[L.nrtts - 1] : 0);
    }
    double launch_s = (double) (last_accept - first_accept) / 1e6;
    double span_s = (double) (last_end - first_accept) / 1e6;
    printf ("{\"mode\":\"%s\",\"frameworks\":%zu,\"registered\":%zu,\"register_s\":%.3f,"
            "\"tasks\":%" PRId64 ",\"launched\":%zu,\"running\":%zu,\"ended\":%zu,"
            "\"finished\":%" PRIu64 ",\"failed\":%" PRIu64 ",\"killed\":%" PRIu64 ","
            "\"lost\":%" PRIu64 ",\"error\":%" PRIu64 ",\"dropped\":%" PRIu64 ","
            "\"offers\":%" PRIu64 ",\"accepts\":%" PRIu64 ",\"declined\":%" PRIu64 ","
            "\"rescinds\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"invalid\":%" PRIu64 ","
            "\"foreign_updates\":%" PRIu64 ",\"launch_s\":%.3f,\"launch_rate\":%.1f,"
            "\"throughput\":%.1f,\"accept_to_running_ms\":%s,\"accept_to_end_ms\":%s,"
            "\"revive_to_offers_ms\":%.3f,\"offered_agents\":%zu,\"probe_ms\":%s,"
            "\"elapsed_s\":%.3f,\"timed_out\":%s,\"interrupted\":%s}\n",
            s_mode, L.nfws, L.registered,
            registered_us ? (double) (registered_us - t0) / 1e6 : -1.0, s_tasks, L.next_task,
            L.nrunning, L.nended, L.by_state[CAIRN_TASK_FINISHED], L.by_state[CAIRN_TASK_FAILED],
            L.by_state[CAIRN_TASK_KILLED], L.by_state[CAIRN_TASK_LOST],
            L.by_state[CAIRN_TASK_ERROR], L.by_state[CAIRN_TASK_DROPPED], L.offers, L.accepts,
            L.declined, L.rescinds, L.errors, L.invalid, L.foreign, launch_s,
            launch_s > 0 ? (double) L.next_task / launch_s : 0.0,
            span_s > 0 ? (double) L.nended / span_s : 0.0, to_running, to_ended,
            L.all_offers_us ? (double) (L.all_offers_us - L.revived_us) / 1000.0 : -1.0,
            L.offered_agents, probe, (double) (t1 - t0) / 1e6, timed_out ? "true" : "false",
            interrupted ? "true" : "false");
    fflush (stdout);
    free (to_running);
    free (to_ended);
    free (probe);
    exit_code = timed_out || interrupted ? 1 : 0;
    /*  Lingering: keep the sessions (acknowledging, answering pings,
        declining offers) so the tasks stay up while others measure.    */
    int64_t linger_end = zclock_usecs () + s_linger_ms * 1000;
    while (!interrupted && !timed_out && zclock_usecs () < linger_end) {
        if (L.nheld > L.held_head)
            s_drain_held (&L);
        simnet_poll (L.net, 100);
        if (simnet_fd_ready (L.net)) {
            int sig = util_signalfd_read (sigfd);
            if (sig == SIGTERM || sig == SIGINT)
                break;
        }
    }
    /*  Leave cleanly: tear the frameworks down at once.                 */
    for (size_t i = 0; i < L.nfws; i++)
        if (L.fws[i].id) {
            proto_msg_t *bye = proto_msg_new (PROTO_UNREGISTER);
            bye->u.unregister.failover = false;
            s_send (&L, L.fws[i].conn, bye);
        }
    simnet_poll (L.net, 0);
    usleep (100000);            /* linger 0: give the I/O thread a moment */
done:
    if (L.fws)
        for (size_t i = 0; i < L.nfws; i++) {
            simnet_close (L.net, &L.fws[i].conn);
            free (L.fws[i].id);
        }
    if (L.probe)
        simnet_close (L.net, &L.probe);
    if (L.net)
        simnet_poll (L.net, 0);
    simnet_destroy (&L.net);
    free (L.fws);
    free (L.accepted);
    free (L.running);
    free (L.ended);
    free (L.held);
    free (L.probe_sent);
    free (L.rtts);
    cairn_resources_destroy (&L.task_res);
    free (L.endpoint);
    if (sigfd >= 0)
        close (sigfd);
    flags_free (&s_spec);
    return exit_code;
}
