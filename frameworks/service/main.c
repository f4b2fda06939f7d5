/*  main.c - cairn-service: flags, the framework driver, the REST API and
    the event loop.

    One thread runs one zloop, and everything that decides runs on it:
    the driver in dispatch mode (its callbacks run when its fd is
    readable), the HTTP server's request pipe, a signalfd and one
    periodic tick. Each pass ends in s_flush: the scheduler's step, then
    the store's group commit, then, only if that succeeded, the actions
    (accepts, declines, kills, acknowledgements, reconciliation,
    suppress/revive) and the API's answers. A failed commit stops the
    daemon: nothing it decided in that pass has been acted on, and a
    restart resumes from what was committed.                             */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <czmq.h>

#include "api.h"
#include "cairn.h"
#include "error.h"
#include "flags.h"
#include "httpd.h"
#include "log.h"
#include "service.h"
#include "svcdb.h"
#include "transport.h"
#include "zk.h"
#include "util.h"

#define TICK_MS 250
#define LABEL_API "cairn-service.api"

static char *s_master, *s_state_dir, *s_ip, *s_advertise_ip, *s_name, *s_role, *s_principal;
static char *s_log_level, *s_log;
static char *s_http_token_file, *s_http_tls_cert, *s_http_tls_key;
static char *s_master_public_key, *s_curve_cert;
static int64_t s_api_port, s_failover_ms, s_unreachable_ms, s_rollback_after, s_launch_ms;
static int64_t s_reconcile_ms, s_max_deployments, s_max_versions;

static const flag_t s_flags[] = {
    { "master", FLAG_STRING, &s_master, "127.0.0.1:5050", "HOST:PORT|zk://HOSTS/PATH",
      "The master's endpoint, or the ZooKeeper ensemble and path of masters run with --zk "
      "(the framework follows the leader).", 0, 0 },
    { "state-dir", FLAG_STRING, &s_state_dir, "/var/lib/cairn/service", "DIR",
      "Directory for the durable state (service.db): apps, versions, deployments, tasks, the "
      "framework id.", 0, 0 },
    { "ip", FLAG_STRING, &s_ip, "127.0.0.1", "ADDR", "Address the REST API listens on.", 0, 0 },
    { "advertise-ip", FLAG_STRING, &s_advertise_ip, NULL, "ADDR",
      "Address clients are told to use for the REST API (default: --ip).", 0, 0 },
    { "api-port", FLAG_INT, &s_api_port, "5060", "PORT",
      "Port of the REST API; 0 picks a free one.", 0, 65535 },
    { "name", FLAG_STRING, &s_name, "cairn-service", "NAME", "The framework's name.", 0, 0 },
    { "role", FLAG_STRING, &s_role, "*", "ROLE",
      "The role whose share of the cluster the instances use.", 0, 0 },
    { "principal", FLAG_STRING, &s_principal, NULL, "NAME",
      "The principal the framework registers with.", 0, 0 },
    { "failover-timeout", FLAG_DURATION, &s_failover_ms, "168h", "DURATION",
      "How long the master keeps the instances running while cairn-service is away.", 0,
      315360000000LL },
    { "unreachable-delay", FLAG_DURATION, &s_unreachable_ms, "1m", "DURATION",
      "How long an instance may be unreachable (or unknown to the master) before it is "
      "replaced elsewhere.", 0, 604800000 },
    { "rollback-after", FLAG_INT, &s_rollback_after, "3", "N",
      "Failures in a row of a new version after which it is rolled back to the last good "
      "one.", 1, 1000 },
    { "launch-timeout", FLAG_DURATION, &s_launch_ms, "5m", "DURATION",
      "An instance not running this long after its launch is replaced.", 1000, 86400000 },
    { "reconcile-interval", FLAG_DURATION, &s_reconcile_ms, "5m", "DURATION",
      "Interval between reconciliations of every task with the master.", 1000, 86400000 },
    { "max-deployments", FLAG_INT, &s_max_deployments, "100", "N",
      "Finished deployments kept for GET /v1/deployments.", 1, 100000 },
    { "max-versions", FLAG_INT, &s_max_versions, "20", "N",
      "Versions kept per app (for rollbacks).", 2, 10000 },
    { "log-level", FLAG_STRING, &s_log_level, "info", "LEVEL",
      "Log level: error, warn, info or debug.", 0, 0 },
    { "log", FLAG_STRING, &s_log, "stderr", "TARGET", "Where logs go: stderr or syslog.", 0, 0 },
    { "master-public-key", FLAG_STRING, &s_master_public_key, NULL, "FILE",
      "The master's CURVE public key, for a master with --curve-secret (with --curve-cert; "
      "default $CAIRN_MASTER_PUBLIC_KEY).", 0, 0 },
    { "curve-cert", FLAG_STRING, &s_curve_cert, NULL, "FILE",
      "The framework's CURVE key pair, NAME.key_secret from cairn keygen (default "
      "$CAIRN_CURVE_CERT).", 0, 0 },
    { "http-token-file", FLAG_STRING, &s_http_token_file, NULL, "FILE",
      "Bearer tokens the REST API's changes need (lines PRINCIPAL TOKEN or TOKEN; not "
      "world-readable). Without it they are open.", 0, 0 },
    { "http-tls-cert", FLAG_STRING, &s_http_tls_cert, NULL, "FILE",
      "Serve the REST API over HTTPS with this PEM certificate (with --http-tls-key).", 0, 0 },
    { "http-tls-key", FLAG_STRING, &s_http_tls_key, NULL, "FILE",
      "The PEM private key of --http-tls-cert.", 0, 0 },
};

static const flags_spec_t s_spec = {
    "cairn-service", "CAIRN_SERVICE_",
    "Run long-running services on a Cairn cluster: a framework with a REST API.",
    "[OPTIONS]", s_flags, sizeof s_flags / sizeof s_flags[0],
};

typedef struct {
    service_t *service;
    svcdb_t *db;
    httpd_t *httpd;
    api_t *api;
    zloop_t *loop;
    cairn_driver_t *driver;
    zmq_pollitem_t driver_item;
    char *driver_error;         /* the error callback's message, handled after dispatch */
    char api_address[300];
    int exit_code;
} server_t;

/*  Driver callbacks: they run inside cairn_driver_dispatch, on the loop.  */

static void
s_on_registered (cairn_driver_t *driver, const char *framework_id, const char *master_http,
                 void *arg)
{
    server_t *srv = arg;
    log_info ("the master (HTTP %s) accepted the framework", master_http);
    service_registered (srv->service, framework_id, clock_mono_ms ());
}

static void
s_on_reregistered (cairn_driver_t *driver, const char *master_http, void *arg)
{
    server_t *srv = arg;
    service_reregistered (srv->service, clock_mono_ms ());
}

static void
s_on_disconnected (cairn_driver_t *driver, void *arg)
{
    server_t *srv = arg;
    service_disconnected (srv->service, clock_mono_ms ());
}

static void
s_on_offers (cairn_driver_t *driver, cairn_offer_t *const *offers, size_t count, void *arg)
{
    server_t *srv = arg;
    service_offers (srv->service, offers, count, clock_mono_ms ());
}

static void
s_on_status (cairn_driver_t *driver, const cairn_status_t *status, void *arg)
{
    server_t *srv = arg;
    service_status (srv->service, status, clock_mono_ms ());
}

static void
s_on_error (cairn_driver_t *driver, const char *message, void *arg)
{
    server_t *srv = arg;
    free (srv->driver_error);
    srv->driver_error = xstrdup (message);
}

static int s_on_driver (zloop_t *loop, zmq_pollitem_t *item, void *arg);

/*  A driver for the stored framework id (or a new registration), its fd
    on the loop, started. -1 on failure (logged).                         */
static int
s_start_driver (server_t *srv)
{
    cairn_framework_info_t *info = cairn_framework_info_new (s_name);
    const char *id = service_framework_id (srv->service);
    int rc = -1;
    if (!info
        || cairn_framework_info_set_role (info, s_role) < 0
        || (s_principal && cairn_framework_info_set_principal (info, s_principal) < 0)
        || cairn_framework_info_set_failover_timeout (info, (double) s_failover_ms / 1000.0) < 0
        || cairn_framework_info_set_partition_aware (info, true) < 0
        || cairn_framework_info_add_label (info, LABEL_API, srv->api_address) < 0
        || (id && cairn_framework_info_set_id (info, id) < 0)) {
        log_error ("the framework's info is not valid: %s", cairn_strerror_last ());
        goto done;
    }
    cairn_callbacks_t callbacks = {
        .registered = s_on_registered, .reregistered = s_on_reregistered,
        .disconnected = s_on_disconnected, .offers = s_on_offers, .status = s_on_status,
        .error = s_on_error,
    };
    srv->driver = cairn_driver_new (info, &callbacks, s_master, srv);
    if (!srv->driver) {
        log_error ("--master: %s", cairn_strerror_last ());
        goto done;
    }
    if ((s_master_public_key && *s_master_public_key) || (s_curve_cert && *s_curve_cert)) {
        if (!(s_master_public_key && *s_master_public_key && s_curve_cert && *s_curve_cert)) {
            log_error ("--master-public-key and --curve-cert go together");
            goto done;
        }
        if (cairn_driver_set_credentials (srv->driver, s_master_public_key, s_curve_cert) < 0) {
            log_error ("%s", cairn_strerror_last ());
            goto done;
        }
    }
    /*  Updates are acknowledged only once what they changed is committed. */
    int fd = -1;
    if (cairn_driver_set_explicit_ack (srv->driver, true) < 0
        || (fd = cairn_driver_fd (srv->driver)) < 0) {
        log_error ("cannot set up the driver: %s", cairn_strerror_last ());
        goto done;
    }
    srv->driver_item = (zmq_pollitem_t) { NULL, fd, ZMQ_POLLIN, 0 };
    if (zloop_poller (srv->loop, &srv->driver_item, s_on_driver, srv) < 0
        || cairn_driver_start (srv->driver) < 0) {
        log_error ("cannot start the driver: %s", cairn_strerror_last ());
        zloop_poller_end (srv->loop, &srv->driver_item);
        goto done;
    }
    log_info ("%s framework %s with the master at %s", id ? "re-registering" : "registering",
              id ? id : "(new)", s_master);
    rc = 0;
done:
    if (rc < 0)
        cairn_driver_destroy (&srv->driver);
    cairn_framework_info_destroy (&info);
    return rc;
}

/*  Carries out what the scheduler decided, once it is committed.         */
static void
s_act (server_t *srv, action_t *a)
{
    cairn_driver_t *d = srv->driver;
    int rc = 0;
    switch (a->kind) {
        case ACTION_ACCEPT: {
            const char *offer_id = a->id;
            rc = cairn_driver_accept (d, &offer_id, 1, a->tasks, a->ntasks, a->refuse_s);
            break;
        }
        case ACTION_DECLINE:
            rc = cairn_driver_decline (d, a->id, a->refuse_s);
            break;
        case ACTION_KILL:
            rc = cairn_driver_kill (d, a->id);
            break;
        case ACTION_ACK:
            rc = cairn_driver_acknowledge (d, a->status);
            break;
        case ACTION_RECONCILE:
            rc = cairn_driver_reconcile (d, (const char *const *) a->task_ids, a->nids);
            break;
        case ACTION_REVIVE:
            rc = cairn_driver_revive (d);
            break;
        case ACTION_SUPPRESS:
            rc = cairn_driver_suppress (d);
            break;
    }
    if (rc < 0)
        log_warn ("driver call failed: %s", cairn_strerror_last ());
}

/*  Ends a loop pass (see the top of the file). -1 ends the loop.         */
static int
s_flush (server_t *srv)
{
    service_step (srv->service, clock_mono_ms ());
    bool committed = !svcdb_dirty (srv->db) || svcdb_commit (srv->db) >= 0;
    action_t *list = service_outbox_take (srv->service);
    /*  A driver that reported an error has stopped: s_driver_failed
        decides what follows, and nothing can be sent through it.        */
    if (committed && srv->driver && !srv->driver_error)
        for (action_t *a = list; a; a = a->next)
            s_act (srv, a);
    service_actions_destroy (&list);
    api_flush (srv->api, committed);
    if (!committed) {
        log_error ("cannot record the state, stopping: %s", cairn_strerror_last ());
        srv->exit_code = 1;
        return -1;
    }
    return 0;
}

/*  The driver reported an error and has stopped.                         */
static int
s_driver_failed (server_t *srv)
{
    char *why = srv->driver_error;
    srv->driver_error = NULL;
    zloop_poller_end (srv->loop, &srv->driver_item);
    cairn_driver_destroy (&srv->driver);
    int rc = -1;
    if (strstr (why, "was torn down") && service_framework_id (srv->service)) {
        /*  Its instances were killed with it: start over as a new
            framework, after the decision is on disk.                      */
        service_forget_framework (srv->service, why, clock_mono_ms ());
        action_t *stale = service_outbox_take (srv->service);
        service_actions_destroy (&stale);
        if (s_flush (srv) == 0 && s_start_driver (srv) == 0)
            rc = 0;
    }
    else
        log_error ("%s; stopping", why);
    if (rc < 0)
        srv->exit_code = 1;
    free (why);
    return rc;
}

static int
s_on_driver (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    server_t *srv = arg;
    if (cairn_driver_dispatch (srv->driver) < 0)
        log_warn ("driver dispatch: %s", cairn_strerror_last ());
    if (srv->driver_error) {
        s_flush (srv);
        return s_driver_failed (srv);
    }
    return s_flush (srv);
}

static int
s_on_http (zloop_t *loop, zsock_t *sock, void *arg)
{
    server_t *srv = arg;
    httpd_request_t *req;
    int64_t now = clock_mono_ms ();
    for (int i = 0; i < 1000 && (req = httpd_recv (srv->httpd)); i++)
        api_handle (srv->api, &req, now);
    return s_flush (srv);
}

static int
s_on_tick (zloop_t *loop, int timer_id, void *arg)
{
    return s_flush (arg);
}

int
main (int argc, char **argv)
{
    int rc = flags_parse (&s_spec, argc, argv, NULL);
    if (rc != 0)
        return rc < 0 ? 2 : 0;
    server_t srv = { .exit_code = 1 };
    int sigfd = -1;
    if (log_init ("service", s_log_level, s_log) < 0) {
        fprintf (stderr, "cairn-service: %s\n", cairn_strerror_last ());
        srv.exit_code = 2;
        goto done;
    }
    char *endpoint = zk_url_is (s_master) ? NULL : transport_endpoint (s_master);
    if (zk_url_is (s_master) ? zk_url_check (s_master) < 0 : !endpoint) {
        fprintf (stderr, "cairn-service: --master: %s\n", cairn_strerror_last ());
        srv.exit_code = 2;
        goto done;
    }
    free (endpoint);
    if (util_mkdir_p (s_state_dir, 0700) < 0) {
        log_error ("%s", cairn_strerror_last ());
        goto done;
    }
    /*  Before any thread starts, so that they all inherit the blocked
        signals and only the loop hears them.                              */
    zsys_handler_set (NULL);
    sigfd = util_signalfd ();
    if (sigfd < 0) {
        log_error ("%s", cairn_strerror_last ());
        goto done;
    }
    srv.db = svcdb_open (s_state_dir);
    if (!srv.db) {
        log_error ("%s", cairn_strerror_last ());
        goto done;
    }
    service_config_t cfg;
    service_config_defaults (&cfg);
    cfg.unreachable_delay_ms = s_unreachable_ms;
    cfg.rollback_after = s_rollback_after;
    cfg.launch_timeout_ms = s_launch_ms;
    cfg.reconcile_interval_ms = s_reconcile_ms;
    cfg.max_deployments = s_max_deployments;
    cfg.max_versions = s_max_versions;
    srv.service = service_new (&cfg, srv.db, clock_mono_ms ());
    if (!srv.service) {
        log_error ("cannot load the state: %s", cairn_strerror_last ());
        goto done;
    }
    httpd_options_t http_options = {
        .tls_cert = s_http_tls_cert && *s_http_tls_cert ? s_http_tls_cert : NULL,
        .tls_key = s_http_tls_key && *s_http_tls_key ? s_http_tls_key : NULL,
        .token_file = s_http_token_file && *s_http_token_file ? s_http_token_file : NULL,
    };
    srv.httpd = httpd_new_with (s_ip, (int) s_api_port, &http_options);
    if (!srv.httpd) {
        log_error ("%s", cairn_strerror_last ());
        goto done;
    }
    /*  With TLS the advertised address carries its scheme (clients read
        it from the framework's label).                                 */
    snprintf (srv.api_address, sizeof srv.api_address, "%s%s:%d",
              httpd_tls (srv.httpd) ? "https://" : "",
              s_advertise_ip && *s_advertise_ip ? s_advertise_ip : s_ip, httpd_port (srv.httpd));
    srv.api = api_new (srv.httpd, srv.service);
    srv.loop = zloop_new ();
    zloop_reader (srv.loop, httpd_sock (srv.httpd), s_on_http, &srv);
    zmq_pollitem_t sigitem = { NULL, sigfd, ZMQ_POLLIN, 0 };
    zloop_poller (srv.loop, &sigitem, util_on_signal, &srv);
    zloop_timer (srv.loop, TICK_MS, 0, s_on_tick, &srv);
    if (s_start_driver (&srv) < 0)
        goto done;
    /*  api_address has its scheme only with TLS.                         */
    log_info ("cairn-service: REST API on %s%s (state in %s)",
              strstr (srv.api_address, "://") ? "" : "http://", srv.api_address,
              svcdb_path (srv.db));
    srv.exit_code = 0;
    zloop_start (srv.loop);
    /*  Stopping: the framework fails over (its instances keep running
        for --failover-timeout), so a restart takes them back.            */
    if (srv.driver && cairn_driver_status (srv.driver) == CAIRN_DRIVER_RUNNING)
        cairn_driver_stop (srv.driver, true);
    log_info ("stopped");
done:
    cairn_driver_destroy (&srv.driver);
    free (srv.driver_error);
    api_destroy (&srv.api);
    zloop_destroy (&srv.loop);
    httpd_destroy (&srv.httpd);
    service_destroy (&srv.service);
    svcdb_close (&srv.db);
    if (sigfd >= 0)
        close (sigfd);
    flags_free (&s_spec);
    return srv.exit_code;
}
