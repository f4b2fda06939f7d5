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
      "Where logs go: stderr or syslog.", 0, 0 },
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

typedef struct {
    master_t *master;
    zsock_t *router;
    httpd_t *httpd;
    zloop_t *loop;
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

/*  POST /agents/gone?agent_id=ID[&reason=TEXT] and
    POST /frameworks/teardown?framework_id=ID: operator decisions. The
    answer goes out after the decision is committed (and with the
    messages it causes).                                                  */
static int
s_operator_action (server_t *srv, httpd_request_t **req, const char *method, const char *path,
                   int64_t now)
{
    bool gone = strcmp (path, "/agents/gone") == 0;
    const char *param = gone ? "agent_id" : "framework_id";
    const char *id = httpd_request_query (*req, param);
    if (strcmp (method, "POST") != 0) {
        httpd_respond_error (srv->httpd, req, 405, "%s needs POST", path);
        return 0;
    }
    if (!id || !proto_id_valid (id)) {
        httpd_respond_error (srv->httpd, req, 400, "%s needs ?%s=ID", path, param);
        return 0;
    }
    int rc = gone ? master_mark_gone (srv->master, id, httpd_request_query (*req, "reason"), now)
                  : master_teardown (srv->master, id, now);
    if (rc < 0) {
        httpd_respond_error (srv->httpd, req, errno == ENOENT ? 404 : 500, "%s",
                             cairn_strerror_last ());
        return 0;
    }
    if (s_flush (srv) < 0) {
        httpd_respond_error (srv->httpd, req, 500, "the decision could not be recorded");
        return -1;
    }
    httpd_respond_json (srv->httpd, req, 200,
                        json_pack ("{s:s s:b}", param, id, gone ? "gone" : "removed", true));
    return 0;
}

static int
s_on_http (zloop_t *loop, zsock_t *sock, void *arg)
{
    server_t *srv = arg;
    httpd_request_t *req;
    while ((req = httpd_recv (srv->httpd))) {
        const char *path = httpd_request_path (req);
        int64_t now = clock_mono_ms ();
        const char *method = httpd_request_method (req);
        if (strcmp (path, "/agents/gone") == 0 || strcmp (path, "/frameworks/teardown") == 0) {
            if (s_operator_action (srv, &req, method, path, now) < 0)
                return -1;
        }
        else if (strcmp (method, "GET") != 0)
            httpd_respond_error (srv->httpd, &req, 405, "%s is not allowed on %s",
                                 httpd_request_method (req), path);
        else if (strcmp (path, "/health") == 0)
            httpd_respond_json (srv->httpd, &req, 200, master_health_json (srv->master, now));
        else if (strcmp (path, "/state") == 0)
            s_start_state (srv, &req, now);
        else if (strcmp (path, "/state/summary") == 0) {
            size_t size;
            char *text = master_summary_text (srv->master, now, &size);
            s_respond_text (srv, &req, "application/json", text, size);
        }
        else if (strcmp (path, "/metrics") == 0) {
            size_t size;
            char *text = master_metrics_text (srv->master, now, &size);
            s_respond_text (srv, &req, "text/plain; version=0.0.4; charset=utf-8", text, size);
        }
        else
            httpd_respond_error (srv->httpd, &req, 404, "no such endpoint: %s "
                                 "(try /health, /state, /state/summary or /metrics)", path);
    }
    return 0;
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
    log_info ("master %s listening on tcp://%s:%d, HTTP on %s (work dir %s)",
              master_id (srv.master), s_ip, (int) s_port, http_address, s_work_dir);
    zloop_start (srv.loop);
    exit_code = 0;
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
