/*  main.c - cairn-master: flags, sockets and the event loop.

    One thread runs one zloop. Readers: the ROUTER socket (agents and
    frameworks), the HTTP server's request pipe, and a signalfd. Timers:
    the housekeeping tick (pings, liveness, failover deadlines) and the
    allocation interval. Each pass over the ROUTER reads a batch of
    messages, runs one allocation if an event asked for it, and only then
    sends what the handlers queued, so a burst of updates costs one
    allocation and one flush, not one per message.                        */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <czmq.h>
#include <jansson.h>

#include "error.h"
#include "flags.h"
#include "httpd.h"
#include "log.h"
#include "master.h"
#include "resources.h"
#include "restapi.h"
#include "transport.h"
#include "util.h"

#define BATCH 2000              /* messages read per loop pass */

static char *s_ip, *s_advertise_ip, *s_work_dir, *s_weights, *s_min_allocatable;
static char *s_log_level, *s_log;
static int64_t s_port, s_http_port;
static int64_t s_ping_timeout_ms, s_ping_misses, s_allocation_interval_ms;
static int64_t s_refuse_ms, s_max_completed_tasks, s_max_completed_frameworks;
static int64_t s_offer_timeout_ms, s_reregister_timeout_ms;

static const flag_t s_flags[] = {
    { "ip", FLAG_STRING, &s_ip, "127.0.0.1", "ADDR",
      "Address to listen on, for agents, frameworks and HTTP.", 0, 0 },
    { "advertise-ip", FLAG_STRING, &s_advertise_ip, NULL, "ADDR",
      "Address clients are told to use for HTTP (default: --ip).", 0, 0 },
    { "port", FLAG_INT, &s_port, "5050", "PORT",
      "Port of the ZeroMQ endpoint agents and frameworks connect to.", 1, 65535 },
    { "http-port", FLAG_INT, &s_http_port, "5051", "PORT",
      "Port of the HTTP endpoint (/health, /state); 0 picks a free one.", 0, 65535 },
    { "work-dir", FLAG_STRING, &s_work_dir, "/var/lib/cairn/master", "DIR",
      "Directory for the master's durable state.", 0, 0 },
    { "agent-ping-timeout", FLAG_DURATION, &s_ping_timeout_ms, "5s", "DURATION",
      "Interval between liveness pings to agents and frameworks.", 10, 3600000 },
    { "max-agent-ping-misses", FLAG_INT, &s_ping_misses, "3", "N",
      "Missed pings after which an agent is unreachable (a framework, disconnected).",
      1, 1000 },
    { "allocation-interval", FLAG_DURATION, &s_allocation_interval_ms, "1s", "DURATION",
      "Interval between batch allocation runs.", 1, 3600000 },
    { "min-allocatable", FLAG_STRING, &s_min_allocatable, "cpus:0.01;mem:32", "RESOURCES",
      "Free resources on an agent below this are not offered.", 0, 0 },
    { "weights", FLAG_STRING, &s_weights, NULL, "ROLE=W,...",
      "Role weights for fair sharing, e.g. prod=2,batch=1 (default 1).", 0, 0 },
    { "default-refuse", FLAG_DURATION, &s_refuse_ms, "5s", "DURATION",
      "How long a declined agent is filtered when the framework names no time.", 0,
      315360000000LL },
    { "agent-reregister-timeout", FLAG_DURATION, &s_reregister_timeout_ms, "10m", "DURATION",
      "After a restart, how long agents in the registry have to re-register before they "
      "count as unreachable.", 0, 315360000000LL },
    { "offer-timeout", FLAG_DURATION, &s_offer_timeout_ms, "0s", "DURATION",
      "Rescind offers a framework holds longer than this (0s: never).", 0, 315360000000LL },
    { "max-completed-tasks-per-framework", FLAG_INT, &s_max_completed_tasks, "1000", "N",
      "Completed tasks kept in memory per framework.", 0, 10000000 },
    { "max-completed-frameworks", FLAG_INT, &s_max_completed_frameworks, "50", "N",
      "Torn-down frameworks kept in memory.", 0, 1000000 },
    { "log-level", FLAG_STRING, &s_log_level, "info", "LEVEL",
      "Log level: error, warn, info or debug.", 0, 0 },
    { "log", FLAG_STRING, &s_log, "stderr", "TARGET",
      "Where logs go: stderr, syslog or file:PATH (reopened on SIGHUP).", 0, 0 },
};

static const flags_spec_t s_spec = {
    "cairn-master", "CAIRN_MASTER_",
    "Run the Cairn master: pool agents' resources and offer them to frameworks.",
    "[OPTIONS]", s_flags, sizeof s_flags / sizeof s_flags[0],
};

#define STATE_STEP 500          /* /state entries written per loop pass */

typedef struct http_job {
    state_job_t *state;
    httpd_request_t *req;
    struct http_job *next;
} http_job_t;

#define MAX_SUBSCRIBERS 64      /* open event streams */
#define HEARTBEAT_MS 15000      /* a line to every event stream */
#define DEFAULT_DRAIN_GRACE_MS 30000

typedef struct {
    master_t *master;
    zsock_t *router;
    httpd_t *httpd;
    zloop_t *loop;
    uint64_t subscribers[MAX_SUBSCRIBERS];      /* event streams */
    size_t nsubscribers;
    bool stop;                  /* a decision could not be recorded */
    int64_t dropped;            /* messages dropped on a full pipe */
    http_job_t *jobs;           /* /state documents being written */
    registry_t *registry;
    int job_timer;              /* -1 when no job runs */
} server_t;

/*  Ends a loop pass: commits what the pass changed in the registry (one
    transaction, one fsync: group commit), then sends what the handlers
    queued, so no message goes out before the decision it depends on is
    on disk. A failed commit stops the master: it cannot take back what
    it decided in memory, and a restart reloads what was committed.
    Returns -1 to end the loop.                                           */
static int
s_flush (server_t *srv)
{
    if (srv->registry && registry_dirty (srv->registry) && registry_commit (srv->registry) < 0) {
        log_error ("cannot record the registry's changes, stopping: %s", cairn_strerror_last ());
        return -1;
    }
    outmsg_t *list = master_outbox_take (srv->master);
    int64_t now = clock_mono_ms ();
    for (outmsg_t *out = list; out; out = out->next) {
        if (transport_send (srv->router, &out->route, out->msg) == 0)
            continue;
        if (errno == EHOSTUNREACH)
            master_peer_gone (srv->master, &out->route, now);
        else if (errno == EAGAIN) {
            /*  A peer that does not read: drop rather than block the
                loop; reliable messages are resent by their senders.      */
            if (srv->dropped++ % 1000 == 0)
                log_warn ("a peer's queue is full: dropped %s (%" PRId64 " dropped so far)",
                          proto_type_name (out->msg->type), srv->dropped);
        }
    }
    outmsg_destroy_list (&list);
    return 0;
}

static int
s_on_router (zloop_t *loop, zsock_t *sock, void *arg)
{
    server_t *srv = arg;
    for (int i = 0; i < BATCH; i++) {
        route_t route;
        proto_msg_t *msg = NULL;
        proto_fault_t fault;
        if (transport_recv (sock, true, &route, &msg, &fault) == 0)
            break;
        if (route.size == 0) {
            log_warn ("dropped a message without a routing id");
            proto_msg_destroy (&msg);
            continue;
        }
        int64_t now = clock_mono_ms ();
        if (msg)
            master_handle (srv->master, &route, msg, now);
        else
            master_handle_invalid (srv->master, &route, &fault);
    }
    if (master_allocation_pending (srv->master))
        master_allocate (srv->master, clock_mono_ms ());
    return s_flush (srv);
}

static int
s_on_tick (zloop_t *loop, int timer_id, void *arg)
{
    server_t *srv = arg;
    master_tick (srv->master, clock_mono_ms ());
    if (master_allocation_pending (srv->master))
        master_allocate (srv->master, clock_mono_ms ());
    return s_flush (srv);
}

static int
s_on_allocate (zloop_t *loop, int timer_id, void *arg)
{
    server_t *srv = arg;
    master_allocate (srv->master, clock_mono_ms ());
    return s_flush (srv);
}

/*  One slice of every /state being written, then back to the loop, so
    messages wait for at most one slice.                                  */
static int
s_on_jobs (zloop_t *loop, int timer_id, void *arg)
{
    server_t *srv = arg;
    http_job_t **p = &srv->jobs;
    while (*p) {
        http_job_t *job = *p;
        if (master_state_step (srv->master, job->state, STATE_STEP)) {
            size_t size;
            char *text = master_state_take (&job->state, &size);
            httpd_respond (srv->httpd, &job->req, 200, "application/json", text, size);
            *p = job->next;
            free (job);
        }
        else
            p = &job->next;
    }
    if (!srv->jobs) {
        zloop_timer_end (loop, srv->job_timer);
        srv->job_timer = -1;
    }
    return 0;
}

static void
s_start_state (server_t *srv, httpd_request_t **req, int64_t now)
{
    http_job_t *job = xzalloc (sizeof *job);
    job->state = master_state_begin (srv->master, now);
    job->req = *req;
    *req = NULL;
    job->next = srv->jobs;
    srv->jobs = job;
    if (srv->job_timer < 0)
        srv->job_timer = zloop_timer (srv->loop, 1, 0, s_on_jobs, srv);
}

static void
s_respond_text (server_t *srv, httpd_request_t **req, const char *type, char *text, size_t size)
{
    httpd_respond (srv->httpd, req, 200, type, text, size);
}

/*  The HTTP API. Reads are answered from memory; an operator's decision
    (gone, teardown, drain, undrain, kill) is answered after it is
    committed and the messages it causes are sent (s_flush).             */

static int64_t
s_now (void)
{
    return clock_mono_ms ();
}

static void
s_get_health (restapi_call_t *call)
{
    server_t *srv = call->arg;
    restapi_reply (call, 200, master_health_json (srv->master, s_now ()));
}

static void
s_get_flags (restapi_call_t *call)
{
    restapi_reply (call, 200, flags_json (&s_spec));
}

static void
s_get_state (restapi_call_t *call)
{
    server_t *srv = call->arg;
    httpd_request_t *req = restapi_call_take (call);
    s_start_state (srv, &req, s_now ());
}

static void
s_get_summary (restapi_call_t *call)
{
    server_t *srv = call->arg;
    size_t size;
    char *text = master_summary_text (srv->master, s_now (), &size);
    httpd_request_t *req = restapi_call_take (call);
    s_respond_text (srv, &req, "application/json", text, size);
}

static void
s_get_metrics (restapi_call_t *call)
{
    server_t *srv = call->arg;
    size_t size;
    char *text = master_metrics_text (srv->master, s_now (), &size);
    httpd_request_t *req = restapi_call_take (call);
    s_respond_text (srv, &req, "text/plain; version=0.0.4; charset=utf-8", text, size);
}

/*  A required id parameter; NULL after answering 400.                    */
static const char *
s_id_param (restapi_call_t *call, const char *name)
{
    const char *id = restapi_query (call, name);
    if (!id || !proto_id_valid (id)) {
        restapi_error (call, 400, name, "%s %s needs ?%s=ID (a valid id)", call->method,
                       call->path, name);
        return NULL;
    }
    return id;
}

/*  An optional duration parameter (-1 if absent); false after a 400.      */
static bool
s_duration_param (restapi_call_t *call, const char *name, int64_t *ms)
{
    const char *text = restapi_query (call, name);
    *ms = -1;
    if (!text)
        return true;
    if (duration_parse (text, ms) < 0 || *ms > 86400000) {
        restapi_error (call, 400, name, "%s must be a duration such as 30s or 5m, up to 24h "
                       "(got '%s')", name, text);
        return false;
    }
    return true;
}

/*  Answers a decision the master took (rc from master_*), once it is on
    disk and its messages are out.                                        */
static void
s_decided (restapi_call_t *call, int rc, json_t *answer)
{
    server_t *srv = call->arg;
    if (rc < 0) {
        int status = errno == ENOENT ? 404 : errno == EEXIST || errno == EALREADY ? 409
                   : errno == EAGAIN ? 503 : 500;
        restapi_error (call, status, NULL, "%s", cairn_strerror_last ());
        json_decref (answer);
        return;
    }
    if (s_flush (srv) < 0) {
        restapi_error (call, 500, NULL, "the decision could not be recorded");
        json_decref (answer);
        srv->stop = true;
        return;
    }
    restapi_reply (call, 200, answer);
}

static void
s_post_gone (restapi_call_t *call)
{
    server_t *srv = call->arg;
    const char *id = s_id_param (call, "agent_id");
    if (id)
        s_decided (call, master_mark_gone (srv->master, id, restapi_query (call, "reason"),
                                           s_now ()),
                   json_pack ("{s:s s:b}", "agent_id", id, "gone", true));
}

static void
s_post_teardown (restapi_call_t *call)
{
    server_t *srv = call->arg;
    const char *id = s_id_param (call, "framework_id");
    if (id)
        s_decided (call, master_teardown (srv->master, id, s_now ()),
                   json_pack ("{s:s s:b}", "framework_id", id, "removed", true));
}

static void
s_post_drain (restapi_call_t *call)
{
    server_t *srv = call->arg;
    const char *id = s_id_param (call, "agent_id");
    int64_t grace;
    if (!id || !s_duration_param (call, "grace", &grace))
        return;
    if (grace < 0)
        grace = DEFAULT_DRAIN_GRACE_MS;
    s_decided (call, master_drain_agent (srv->master, id, grace, s_now ()),
               json_pack ("{s:s s:b s:f}", "agent_id", id, "draining", true, "grace_s",
                          (double) grace / 1000.0));
}

static void
s_post_undrain (restapi_call_t *call)
{
    server_t *srv = call->arg;
    const char *id = s_id_param (call, "agent_id");
    if (id)
        s_decided (call, master_undrain_agent (srv->master, id, s_now ()),
                   json_pack ("{s:s s:b}", "agent_id", id, "draining", false));
}

static void
s_post_kill (restapi_call_t *call)
{
    server_t *srv = call->arg;
    const char *task = s_id_param (call, "task_id");
    const char *fw = restapi_query (call, "framework_id");
    int64_t grace;
    if (!task || (fw && !s_id_param (call, "framework_id"))
        || !s_duration_param (call, "grace", &grace))
        return;
    s_decided (call, master_kill (srv->master, fw, task, grace, s_now ()),
               json_pack ("{s:s s:b}", "task_id", task, "killing", true));
}

static void
s_get_task (restapi_call_t *call)
{
    server_t *srv = call->arg;
    const char *task = s_id_param (call, "task_id");
    const char *fw = restapi_query (call, "framework_id");
    if (!task || (fw && !s_id_param (call, "framework_id")))
        return;
    json_t *json = master_task_json (srv->master, fw, task, s_now ());
    if (json)
        restapi_reply (call, 200, json);
    else
        restapi_error (call, errno == EEXIST ? 409 : 404, NULL, "%s", cairn_strerror_last ());
}

/*  The event feed: one JSON line per event, to every subscriber.          */

static void
s_on_event (void *arg, const char *line, size_t size)
{
    server_t *srv = arg;
    for (size_t i = 0; i < srv->nsubscribers; i++)
        httpd_stream_send (srv->httpd, srv->subscribers[i], line, size);
}

static void
s_get_events (restapi_call_t *call)
{
    server_t *srv = call->arg;
    if (srv->nsubscribers == MAX_SUBSCRIBERS) {
        restapi_error (call, 503, NULL, "too many event subscribers (%d)", MAX_SUBSCRIBERS);
        return;
    }
    size_t size;
    char *summary = master_summary_text (srv->master, s_now (), &size);
    char *first = xasprintf ("{\"type\":\"SUBSCRIBED\",\"time\":%.3f,\"heartbeat_s\":%d,"
                             "\"summary\":%s}\n", clock_wall (), HEARTBEAT_MS / 1000, summary);
    free (summary);
    httpd_request_t *req = restapi_call_take (call);
    uint64_t id = httpd_respond_stream (srv->httpd, &req, 200, "application/x-ndjson");
    httpd_stream_send (srv->httpd, id, first, strlen (first));
    free (first);
    srv->subscribers[srv->nsubscribers++] = id;
    master_set_event_fn (srv->master, s_on_event, srv);
}

/*  Subscribers whose clients left.                                        */
static void
s_prune_subscribers (server_t *srv)
{
    uint64_t id;
    while ((id = httpd_stream_closed (srv->httpd)))
        for (size_t i = 0; i < srv->nsubscribers; i++)
            if (srv->subscribers[i] == id) {
                srv->subscribers[i] = srv->subscribers[--srv->nsubscribers];
                break;
            }
    if (srv->nsubscribers == 0)
        master_set_event_fn (srv->master, NULL, NULL);
}

static int
s_on_heartbeat (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    server_t *srv = arg;
    if (srv->nsubscribers == 0)
        return 0;
    char line[96];
    int n = snprintf (line, sizeof line, "{\"type\":\"HEARTBEAT\",\"time\":%.3f}\n",
                      clock_wall ());
    s_on_event (srv, line, (size_t) n);
    return 0;
}

static const restapi_route_t s_routes[] = {
    { "GET", "/health", s_get_health },
    { "GET", "/state", s_get_state },
    { "GET", "/state/summary", s_get_summary },
    { "GET", "/flags", s_get_flags },
    { "GET", "/metrics", s_get_metrics },
    { "GET", "/events", s_get_events },
    { "GET", "/tasks", s_get_task },
    { "POST", "/tasks/kill", s_post_kill },
    { "POST", "/agents/gone", s_post_gone },
    { "POST", "/agents/drain", s_post_drain },
    { "POST", "/agents/undrain", s_post_undrain },
    { "POST", "/frameworks/teardown", s_post_teardown },
};

static int
s_on_http (zloop_t *loop, zsock_t *sock, void *arg)
{
    (void) loop;
    (void) sock;
    server_t *srv = arg;
    httpd_request_t *req;
    while ((req = httpd_recv (srv->httpd)) && !srv->stop)
        restapi_dispatch (srv->httpd, &req, s_routes, sizeof s_routes / sizeof s_routes[0], srv);
    httpd_request_destroy (&req);
    s_prune_subscribers (srv);
    return srv->stop ? -1 : 0;
}

/*  "prod=2,batch=1" -> weights; with master NULL, only checks the text.  */
static int
s_apply_weights (master_t *master, const char *text)
{
    if (!text || !*text)
        return 0;
    char *copy = xstrdup (text), *save = NULL;
    int rc = 0;
    for (char *item = strtok_r (copy, ",", &save); item; item = strtok_r (NULL, ",", &save)) {
        char *eq = strchr (item, '=');
        char *end = NULL;
        double w = eq ? strtod (eq + 1, &end) : 0;
        if (!eq || eq == item || !end || *end || eq[1] == '\0' || !(w > 0) || w > 1e9
            || (master && master_set_weight (master, (*eq = '\0', item), w) < 0)) {
            fprintf (stderr, "cairn-master: --weights: '%s' is not ROLE=WEIGHT with a positive "
                     "weight\n", item);
            rc = -1;
            break;
        }
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
    int exit_code = 1;
    server_t srv = { .job_timer = -1 };
    cairn_resources_t *min_alloc = cairn_resources_parse (s_min_allocatable);
    int sigfd = -1;
    if (!min_alloc) {
        fprintf (stderr, "cairn-master: --min-allocatable: %s\n", cairn_strerror_last ());
        exit_code = 2;
        goto done;
    }
    if (s_apply_weights (NULL, s_weights) < 0) {
        exit_code = 2;
        goto done;
    }
    if (log_init ("master", s_log_level, s_log) < 0) {
        fprintf (stderr, "cairn-master: %s\n", cairn_strerror_last ());
        exit_code = 2;
        goto done;
    }
    if (util_mkdir_p (s_work_dir, 0755) < 0) {
        log_error ("%s", cairn_strerror_last ());
        goto done;
    }
    zsys_handler_set (NULL);
    zsys_set_max_sockets (0);
    sigfd = util_signalfd ();
    if (sigfd < 0) {
        log_error ("%s", cairn_strerror_last ());
        goto done;
    }

    srv.router = zsock_new (ZMQ_ROUTER);
    transport_tune (srv.router);
    zsock_set_router_handover (srv.router, 1);
    zsock_set_router_mandatory (srv.router, 1);
    /*  Thousands of agents reconnect at once after a master restart; with
        ZeroMQ's default listen backlog (100) most SYNs are dropped and
        retried by TCP after 1, 3, 7, 15 s. The kernel caps this at
        net.core.somaxconn.                                               */
    zsock_set_backlog (srv.router, 4096);
    if (zsock_bind (srv.router, "tcp://%s:%d", s_ip, (int) s_port) < 0) {
        log_error ("cannot listen on %s:%d: %s", s_ip, (int) s_port, zmq_strerror (errno));
        goto done;
    }
    srv.httpd = httpd_new (s_ip, (int) s_http_port);
    if (!srv.httpd) {
        log_error ("%s", cairn_strerror_last ());
        goto done;
    }
    char http_address[300];
    snprintf (http_address, sizeof http_address, "%s:%d",
              s_advertise_ip && *s_advertise_ip ? s_advertise_ip : s_ip, httpd_port (srv.httpd));

    srv.registry = registry_open (s_work_dir);
    if (!srv.registry) {
        log_error ("%s", cairn_strerror_last ());
        goto done;
    }
    master_config_t config = {
        .ping_interval_ms = s_ping_timeout_ms,
        .max_ping_misses = s_ping_misses,
        .allocation_interval_ms = s_allocation_interval_ms,
        .default_refuse_ms = s_refuse_ms,
        .offer_timeout_ms = s_offer_timeout_ms,
        .max_completed_tasks = s_max_completed_tasks,
        .max_completed_frameworks = s_max_completed_frameworks,
        .min_allocatable = min_alloc,
        .http_address = http_address,
        .registry = srv.registry,
        .agent_reregister_timeout_ms = s_reregister_timeout_ms,
    };
    srv.master = master_new (&config);
    if (master_recover (srv.master, clock_mono_ms ()) < 0) {
        log_error ("cannot read the registry: %s", cairn_strerror_last ());
        goto done;
    }
    if (s_apply_weights (srv.master, s_weights) < 0) {
        exit_code = 2;
        goto done;
    }

    srv.loop = zloop_new ();
    zloop_reader (srv.loop, srv.router, s_on_router, &srv);
    zloop_reader (srv.loop, httpd_sock (srv.httpd), s_on_http, &srv);
    zmq_pollitem_t sigitem = { NULL, sigfd, ZMQ_POLLIN, 0 };
    zloop_poller (srv.loop, &sigitem, util_on_signal, &srv);
    size_t tick = s_ping_timeout_ms / 4 < 250 ? (size_t) (s_ping_timeout_ms / 4) : 250;
    zloop_timer (srv.loop, tick ? tick : 1, 0, s_on_tick, &srv);
    zloop_timer (srv.loop, (size_t) s_allocation_interval_ms, 0, s_on_allocate, &srv);
    zloop_timer (srv.loop, HEARTBEAT_MS, 0, s_on_heartbeat, &srv);
    log_info ("master %s listening on tcp://%s:%d, HTTP on %s (work dir %s)",
              master_id (srv.master), s_ip, (int) s_port, http_address, s_work_dir);
    zloop_start (srv.loop);
    exit_code = srv.stop ? 1 : 0;
    for (size_t i = 0; i < srv.nsubscribers; i++)
        httpd_stream_end (srv.httpd, srv.subscribers[i]);
done:
    while (srv.jobs) {
        http_job_t *job = srv.jobs;
        srv.jobs = job->next;
        master_state_job_destroy (&job->state);
        httpd_request_destroy (&job->req);
        free (job);
    }
    zloop_destroy (&srv.loop);
    httpd_destroy (&srv.httpd);
    master_destroy (&srv.master);
    registry_close (&srv.registry);
    zsock_destroy (&srv.router);
    cairn_resources_destroy (&min_alloc);
    if (sigfd >= 0)
        close (sigfd);
    flags_free (&s_spec);
    return exit_code;
}
