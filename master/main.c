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
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <inttypes.h>

#include <czmq.h>
#include <jansson.h>

#include "acl.h"
#include "error.h"
#include "files.h"
#include "flags.h"
#include "httpd.h"
#include "log.h"
#include "master.h"
#include "resources.h"
#include "restapi.h"
#include "transport.h"
#include "util.h"
#include "webui.h"
#include "zk.h"

#define BATCH 2000              /* messages read per loop pass */

static char *s_ip, *s_advertise_ip, *s_work_dir, *s_weights, *s_min_allocatable;
static char *s_log_level, *s_log;
static char *s_http_token_file, *s_http_tls_cert, *s_http_tls_key;
static char *s_curve_secret, *s_curve_allow_dir, *s_acl, *s_webui_dir, *s_zk;
static char *s_agent_ca_file, *s_cluster_name;
static bool s_insecure;
static int64_t s_max_message_size, s_max_tasks_per_launch, s_max_string_length;
static int64_t s_max_connections_per_ip, s_max_pending_per_peer;
static int64_t s_port, s_http_port;
static int64_t s_ping_timeout_ms, s_ping_misses, s_allocation_interval_ms;
static int64_t s_refuse_ms, s_max_completed_tasks, s_max_completed_frameworks;
static int64_t s_offer_timeout_ms, s_reregister_timeout_ms, s_zk_timeout_ms;

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
    { "zk", FLAG_STRING, &s_zk, NULL, "URL",
      "Run as one of several masters: zk://HOST:PORT,.../PATH names the ZooKeeper ensemble "
      "that elects the leader and keeps the registry under PATH (default: run alone, with "
      "the registry in --work-dir). Standbys redirect HTTP to the leader.", 0, 0 },
    { "zk-session-timeout", FLAG_DURATION, &s_zk_timeout_ms, "10s", "DURATION",
      "ZooKeeper session timeout: a dead leader is replaced after about this long, and a "
      "leader that has not heard from ZooKeeper for two thirds of it stops acting.", 2000,
      60000 },
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
    { "http-token-file", FLAG_STRING, &s_http_token_file, NULL, "FILE",
      "Bearer tokens for the mutating HTTP endpoints (kill, drain, undrain, gone, "
      "teardown): lines PRINCIPAL TOKEN, or TOKEN for principal operator; not "
      "world-readable. Without it those endpoints are open (loopback only).", 0, 0 },
    { "http-tls-cert", FLAG_STRING, &s_http_tls_cert, NULL, "FILE",
      "Serve HTTPS with this PEM certificate (with --http-tls-key).", 0, 0 },
    { "http-tls-key", FLAG_STRING, &s_http_tls_key, NULL, "FILE",
      "The PEM private key of --http-tls-cert.", 0, 0 },
    { "agent-ca-file", FLAG_STRING, &s_agent_ca_file, NULL, "FILE",
      "CA certificates (PEM) that agents serving HTTPS (their --http-tls-cert) are verified "
      "with when the master reads tasks' files from them for /tasks/files/browse and "
      "/tasks/files/read (default: the system's CAs).", 0, 0 },
    { "curve-secret", FLAG_STRING, &s_curve_secret, NULL, "FILE",
      "The master's CURVE key pair (NAME.key_secret from cairn keygen): agents, frameworks "
      "and the CLI must then use CURVE (with --curve-allow-dir).", 0, 0 },
    { "curve-allow-dir", FLAG_STRING, &s_curve_allow_dir, NULL, "DIR",
      "Public keys (NAME.key) of the clients allowed to connect; each is bound to the "
      "principal in its metadata, else to NAME.", 0, 0 },
    { "acl", FLAG_STRING, &s_acl, NULL, "FILE",
      "Authorization rules (JSON, see doc/security.md); without it every principal may do "
      "everything.", 0, 0 },
    { "max-message-size", FLAG_INT, &s_max_message_size, "8388608", "BYTES",
      "Largest message body accepted; a larger one gets a too-large error, and one over "
      "twice this makes ZeroMQ drop the connection.", 1024, 8388608 },
    { "max-tasks-per-launch", FLAG_INT, &s_max_tasks_per_launch, "1000", "N",
      "Most tasks in one launch; a larger launch fails whole (TASK_ERROR).", 1, 1000 },
    { "max-string-length", FLAG_INT, &s_max_string_length, "65536", "BYTES",
      "Longest task command, argument, environment or label value (TASK_ERROR beyond).",
      16, 65536 },
    { "max-connections-per-ip", FLAG_INT, &s_max_connections_per_ip, "100000", "N",
      "Open ZeroMQ connections allowed from one IP address (the agent emulator opens "
      "thousands from 127.0.0.1); more are cut at once (0: no limit).", 0, 10000000 },
    { "max-pending-per-peer", FLAG_INT, &s_max_pending_per_peer, "100000", "N",
      "Messages queued per peer in each direction (ZeroMQ high-water marks): beyond it the "
      "master drops what it sends to a peer that does not read, and stops reading one "
      "that floods it.", 1, 10000000 },
    { "insecure", FLAG_BOOL, &s_insecure, NULL, NULL,
      "Allow a non-loopback --ip without credentials (anyone who can reach the ports "
      "controls the cluster).", 0, 0 },
    { "cluster-name", FLAG_STRING, &s_cluster_name, "cairn", "NAME",
      "A name for the cluster, shown by the web UI and in /state and /state/summary.", 0, 0 },
    { "webui-dir", FLAG_STRING, &s_webui_dir, NULL, "DIR",
      "Serve the web UI (/ui/) from the files in DIR, read on each request, instead of "
      "the copy built into the master (for working on the UI).", 0, 0 },
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

/*  The allowed clients' keys: public key (Z85) -> principal.             */
typedef struct {
    char *dir;
    zhashx_t *principals;       /* owned strings */
    int64_t loaded_at;
} keys_t;

typedef struct {
    master_t *master;
    zsock_t *router;
    zactor_t *auth;             /* zauth, with CURVE */
    zcert_t *cert;              /* the master's key pair, with CURVE */
    keys_t keys;
    acl_t *acl;
    zsock_t *monitor;           /* the ROUTER's connection events (PAIR) */
    zhashx_t *conn_ip;          /* "fd" -> peer IP (owned strings) */
    zhashx_t *ip_count;         /* peer IP -> open connections (integer) */
    zhashx_t *cut_fds;          /* "fd" of connections cut, until reused */
    uint64_t connections_cut;   /* over --max-connections-per-ip */
    httpd_t *httpd;
    files_t *files;             /* /tasks/files/...: reads forwarded to agents */
    zloop_t *loop;
    uint64_t subscribers[MAX_SUBSCRIBERS];      /* event streams */
    size_t nsubscribers;
    bool stop;                  /* a decision could not be recorded */
    int64_t dropped;            /* messages dropped on a full pipe */
    http_job_t *jobs;           /* /state documents being written */
    registry_t *registry;
    int job_timer;              /* -1 when no job runs */
    /*  High availability (--zk).                                         */
    zk_t *zk;
    bool leading;               /* won the election and took over */
    bool paused;                /* leading, but its lease ran out */
    int64_t paused_at;
    char *lead_node;            /* its election node when it took over */
    double elected_at;          /* wall clock */
    char *leader_id;            /* the leader as last seen */
    char *failover_from;        /* the last leader change: from, to, when */
    char *failover_to;
    double failover_at;
    uint64_t pauses;
} server_t;

/*  Reads the allow directory: every file that loads as a certificate
    binds its public key to its "principal" metadata, else to its file
    name without ".key" / ".key_secret".                                  */
static void
s_keys_load (keys_t *keys)
{
    zhashx_t *map = zhashx_new ();
    zhashx_set_destructor (map, (zhashx_destructor_fn *) zstr_free);
    DIR *dir = opendir (keys->dir);
    struct dirent *e;
    while (dir && (e = readdir (dir))) {
        if (e->d_name[0] == '.')
            continue;
        char *path = xasprintf ("%s/%s", keys->dir, e->d_name);
        zcert_t *cert = zcert_load (path);
        if (cert) {
            const char *meta = zcert_meta (cert, "principal");
            char *principal;
            if (meta && *meta)
                principal = xstrdup (meta);
            else {
                principal = xstrdup (e->d_name);
                char *dot = strstr (principal, ".key");
                if (dot && (strcmp (dot, ".key") == 0 || strcmp (dot, ".key_secret") == 0))
                    *dot = '\0';
            }
            zhashx_update (map, zcert_public_txt (cert), principal);
            zcert_destroy (&cert);
        }
        free (path);
    }
    if (dir)
        closedir (dir);
    zhashx_destroy (&keys->principals);
    keys->principals = map;
    keys->loaded_at = clock_mono_ms ();
}

/*  The principal bound to a client's public key, reading the directory
    again (at most once a second) for a key added since; NULL if none.  */
static const char *
s_principal_of (server_t *srv, const char *user_id)
{
    const char *principal = zhashx_lookup (srv->keys.principals, user_id);
    if (!principal && clock_mono_ms () - srv->keys.loaded_at >= 1000) {
        s_keys_load (&srv->keys);
        principal = zhashx_lookup (srv->keys.principals, user_id);
    }
    return principal;
}

/*  Connections per IP address. ZeroMQ reports each connection the
    ROUTER accepts, and each that ends, with its file descriptor; the peer
    address comes from getpeername. A connection over the limit is shut
    down at once (ZeroMQ then closes it). The events arrive a moment after
    the fact, so an accept reported after its connection already went is
    not counted (getpeername fails).                                      */
static uintptr_t
s_ip_count (server_t *srv, const char *ip)
{
    return (uintptr_t) zhashx_lookup (srv->ip_count, ip);
}

static void
s_ip_count_set (server_t *srv, const char *ip, uintptr_t n)
{
    if (n == 0)
        zhashx_delete (srv->ip_count, ip);
    else
        zhashx_update (srv->ip_count, ip, (void *) n);
}

static bool
s_was_cut (server_t *srv, int fd)
{
    char key[16];
    snprintf (key, sizeof key, "%d", fd);
    return zhashx_lookup (srv->cut_fds, key) != NULL;
}

static int
s_on_monitor (zloop_t *loop, zsock_t *sock, void *arg)
{
    (void) loop;
    server_t *srv = arg;
    /*  [event:2][value:4][endpoint], from zmq_socket_monitor.            */
    zmsg_t *msg = zmsg_recv (sock);
    if (!msg)
        return 0;
    zframe_t *head = zmsg_first (msg);
    uint16_t type = 0;
    uint32_t value = 0;
    if (head && zframe_size (head) == 6) {
        memcpy (&type, zframe_data (head), 2);
        memcpy (&value, zframe_data (head) + 2, 4);
    }
    const char *event = type == ZMQ_EVENT_ACCEPTED ? "ACCEPTED"
                      : type == ZMQ_EVENT_DISCONNECTED ? "DISCONNECTED" : NULL;
    int fd = event ? (int) value : -1;
    char key[16];
    snprintf (key, sizeof key, "%d", fd);
    if (event && fd >= 0 && strcmp (event, "ACCEPTED") == 0) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        char ip[INET6_ADDRSTRLEN] = "";
        if (getpeername (fd, (struct sockaddr *) &ss, &len) == 0) {
            if (ss.ss_family == AF_INET)
                inet_ntop (AF_INET, &((struct sockaddr_in *) &ss)->sin_addr, ip, sizeof ip);
            else if (ss.ss_family == AF_INET6)
                inet_ntop (AF_INET6, &((struct sockaddr_in6 *) &ss)->sin6_addr, ip, sizeof ip);
        }
        if (*ip) {
            uintptr_t n = s_ip_count (srv, ip);
            if (s_max_connections_per_ip > 0 && n >= (uintptr_t) s_max_connections_per_ip) {
                if (srv->connections_cut++ % 1000 == 0)
                    log_warn ("%s has %" PRIuPTR " connections open already "
                              "(--max-connections-per-ip): cutting new ones (%" PRIu64
                              " so far)", ip, n, srv->connections_cut);
                shutdown (fd, SHUT_RDWR);
                zhashx_update (srv->cut_fds, key, (void *) 1);
            }
            else {
                s_ip_count_set (srv, ip, n + 1);
                zhashx_update (srv->conn_ip, key, xstrdup (ip));
                zhashx_delete (srv->cut_fds, key);
            }
        }
    }
    else if (event && fd >= 0 && strcmp (event, "DISCONNECTED") == 0) {
        /*  A cut connection's mark stays until its descriptor is reused
            by a connection that is let in: what it sent before the cut
            may still wait in the router.                                 */
        const char *ip = zhashx_lookup (srv->conn_ip, key);
        if (ip) {
            s_ip_count_set (srv, ip, s_ip_count (srv, ip) - 1);
            zhashx_delete (srv->conn_ip, key);
        }
    }
    zmsg_destroy (&msg);
    return 0;
}

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
        srv->stop = true;       /* exit status 1: a supervisor restarts it */
        return -1;
    }
    outmsg_t *list = master_outbox_take (srv->master);
    /*  A leader whose lease ran out since the handlers ran sends nothing:
        another master may lead by now (those sent reliably are sent again
        by their senders' retries, or after reconciliation).             */
    if (srv->zk && srv->leading && !zk_leading (srv->zk, clock_mono_ms ())) {
        size_t n = 0;
        for (outmsg_t *out = list; out; out = out->next)
            n++;
        if (n)
            log_warn ("the lease ran out: %zu message(s) not sent", n);
        outmsg_destroy_list (&list);
    }
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


/*  High availability (--zk)

    A master started with --zk is a standby until ZooKeeper elects it:
    it reads nothing from agents and frameworks but their registrations,
    which it answers with where the leader is, and it redirects HTTP to
    the leader. Once elected (zk_leading: the lowest node and a live
    lease) it loads the registry from ZooKeeper and recovers as a
    restarted master does. If its lease runs out (no word from ZooKeeper
    for two thirds of the session timeout) it pauses: it stops reading
    messages, allocating and writing, and resumes only if its session
    survived. If its election node goes (session expired), it exits:
    another master leads by then, and a supervisor (systemd) starts it
    again as a standby. zk.h explains why the lease rules out two masters
    acting at once.                                                       */

static int s_on_router (zloop_t *loop, zsock_t *sock, void *arg);
static int s_apply_weights (master_t *master, const char *text);

static bool
s_acting (server_t *srv)
{
    return !srv->zk
           || (srv->leading && !srv->paused && zk_leading (srv->zk, clock_mono_ms ()));
}

static const char *
s_role (server_t *srv)
{
    return !srv->zk ? "single" : !srv->leading ? "standby" : srv->paused ? "paused" : "leader";
}

/*  What /health, /state and /state/summary say of the election.          */
static void
s_publish_ha (server_t *srv, int64_t now)
{
    if (!srv->zk)
        return;
    json_t *ha = json_pack ("{s:s s:b s:i s:I}", "role", s_role (srv), "zk_connected",
                            zk_connected (srv->zk), "session_timeout_ms",
                            zk_session_timeout (srv->zk), "leader_changes",
                            (json_int_t) zk_leader_changes (srv->zk));
    json_t *leader = zk_leader (srv->zk) ? json_loads (zk_leader (srv->zk), 0, NULL) : NULL;
    json_object_set_new (ha, "leader", leader ? leader : json_null ());
    json_t *masters = json_array ();
    const char *const *cands;
    size_t n = zk_candidates (srv->zk, &cands);
    for (size_t i = 0; i < n; i++) {
        json_t *c = json_loads (cands[i], 0, NULL);
        if (c)
            json_array_append_new (masters, c);
    }
    json_object_set_new (ha, "masters", masters);
    if (srv->leading) {
        json_object_set_new (ha, "elected_at", json_real (srv->elected_at));
        int64_t left = zk_lease_until (srv->zk) - now;
        json_object_set_new (ha, "lease_ms_left", json_integer (left > 0 ? left : 0));
    }
    int64_t off = zk_disconnected_ms (srv->zk, now);
    if (off)
        json_object_set_new (ha, "zk_disconnected_ms", json_integer (off));
    if (srv->failover_to)
        json_object_set_new (ha, "last_failover",
                             json_pack ("{s:s s:s s:f}", "from", srv->failover_from, "to",
                                        srv->failover_to, "at", srv->failover_at));
    char *text = json_dumps (ha, JSON_COMPACT);
    master_set_ha (srv->master, text);
    free (text);
    json_decref (ha);
}

/*  Elected: the registry from ZooKeeper, then recovery as after a restart. */
static int
s_promote (server_t *srv, int64_t now)
{
    srv->registry = registry_open_zk (zk_handle (srv->zk), zk_root (srv->zk),
                                      zk_own_node (srv->zk), zk_session_timeout (srv->zk));
    if (!srv->registry) {
        log_error ("elected, but cannot open the registry in ZooKeeper: %s",
                   cairn_strerror_last ());
        return -1;
    }
    master_set_registry (srv->master, srv->registry);
    /*  Its own --weights are recorded for the masters after it; without,
        it takes those recorded.                                          */
    char *stored = NULL;
    bool mine = s_weights && *s_weights;
    if (registry_weights (srv->registry, mine ? s_weights : NULL, &stored) < 0)
        log_warn ("role weights: %s", cairn_strerror_last ());
    else if (stored && s_apply_weights (srv->master, stored) == 0)
        log_info ("role weights from the registry: %s", stored);
    free (stored);
    if (master_recover (srv->master, now) < 0) {
        log_error ("elected, but cannot read the registry in ZooKeeper: %s",
                   cairn_strerror_last ());
        return -1;
    }
    srv->leading = true;
    srv->lead_node = xstrdup (zk_own_node (srv->zk));
    srv->elected_at = clock_wall ();
    log_info ("elected the leading master (%s): now accepting agents and frameworks",
              srv->lead_node);
    return 0;
}

/*  Where the election stands, and what this master may do. -1 stops
    the loop (lost the leadership, or cannot take it over).               */
static int
s_ha_check (server_t *srv, int64_t now)
{
    if (!srv->leading) {
        /*  A failed take-over (ZooKeeper unreachable meanwhile) is tried
            again at the next tick, as a standby until then.              */
        if (zk_leading (srv->zk, now) && s_promote (srv, now) < 0) {
            registry_close (&srv->registry);
            master_set_registry (srv->master, NULL);
        }
    }
    else if (!zk_own_node (srv->zk) || strcmp (zk_own_node (srv->zk), srv->lead_node) != 0
             || !zk_elected (srv->zk)) {
        log_error ("this master no longer leads (its ZooKeeper session or election node is "
                   "gone, so another master may lead now): exiting, to be started again as "
                   "a standby");
        srv->stop = true;
        return -1;
    }
    else {
        bool lease = zk_leading (srv->zk, now);
        if (!lease && !srv->paused) {
            srv->paused = true;
            srv->paused_at = now;
            srv->pauses++;
            zloop_reader_end (srv->loop, srv->router);
            log_warn ("no word from ZooKeeper for %" PRId64 " ms: not acting as the leader "
                      "(no offers, launches or registry writes) until it answers",
                      now - (zk_lease_until (srv->zk) - 2 * zk_session_timeout (srv->zk) / 3));
        }
        else if (lease && srv->paused) {
            srv->paused = false;
            /*  Nobody could reach it meanwhile: the pause does not count
                against agents' and frameworks' liveness.                 */
            master_shift_clocks (srv->master, now - srv->paused_at);
            zloop_reader (srv->loop, srv->router, s_on_router, srv);
            log_info ("ZooKeeper answers again and this master still leads: acting again");
        }
    }
    s_publish_ha (srv, now);
    return 0;
}

static int
s_on_zk (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void) loop;
    (void) item;
    server_t *srv = arg;
    int events = zk_update (srv->zk, clock_mono_ms ());
    int64_t now = clock_mono_ms ();     /* zk_update may have waited */
    if (events & ZK_LEADER_CHANGED) {
        char *id = zk_leader_field (srv->zk, "id");
        char *address = zk_leader_field (srv->zk, "address");
        if (id && srv->leader_id && strcmp (id, srv->leader_id) != 0) {
            free (srv->failover_from);
            free (srv->failover_to);
            srv->failover_from = xstrdup (srv->leader_id);
            srv->failover_to = xstrdup (id);
            srv->failover_at = clock_wall ();
        }
        log_info ("the leading master is %s%s%s%s", id ? id : "(none: no master elected)",
                  address ? " at " : "", address ? address : "",
                  id && strcmp (id, master_id (srv->master)) == 0 ? " (this one)" : "");
        if (id) {
            free (srv->leader_id);
            srv->leader_id = id;
        }
        else
            free (id);
        free (address);
    }
    if (events & ZK_CONNECTION)
        log_info ("ZooKeeper %s", zk_connected (srv->zk) ? "connected" : "disconnected");
    return s_ha_check (srv, now);
}

/*  A standby: answers registrations with where the leader is, drops the
    rest (their senders resend to the leader).                            */
static int
s_standby_read (server_t *srv, zsock_t *sock)
{
    for (int i = 0; i < BATCH; i++) {
        route_t route;
        proto_msg_t *msg = NULL;
        proto_fault_t fault;
        char user_id[TRANSPORT_USER_ID_MAX];
        int src_fd = -1;
        if (transport_recv_from (sock, true, &route, user_id, &src_fd, 0, &msg, &fault) == 0)
            break;
        if (msg && route.size
            && (msg->type == PROTO_AGENT_REGISTER || msg->type == PROTO_FRAMEWORK_REGISTER
                || msg->type == PROTO_INFO_REQUEST)) {
            char *address = zk_leader_field (srv->zk, "address");
            proto_msg_t *reply = proto_error_new ("not-leader", 0,
                                                  "this master (%s) is a standby; the leading "
                                                  "master is %s", master_id (srv->master),
                                                  address ? address : "not elected yet");
            transport_send (sock, &route, reply);
            proto_msg_destroy (&reply);
            free (address);
        }
        proto_msg_destroy (&msg);
    }
    return 0;
}

static int
s_on_router (zloop_t *loop, zsock_t *sock, void *arg)
{
    server_t *srv = arg;
    if (srv->zk && !srv->leading)
        return s_standby_read (srv, sock);
    /*  After a freeze, the loop may read before the tick sees the lease
        has run out: look first.                                          */
    if (srv->zk && !zk_leading (srv->zk, clock_mono_ms ()))
        return s_ha_check (srv, clock_mono_ms ());
    /*  Connections are counted (and cut) before their messages count:
        ZeroMQ reports an accept before it reads anything from it.       */
    if (srv->monitor)
        while (zsock_events (srv->monitor) & ZMQ_POLLIN)
            s_on_monitor (loop, srv->monitor, srv);
    for (int i = 0; i < BATCH; i++) {
        route_t route;
        proto_msg_t *msg = NULL;
        proto_fault_t fault;
        char user_id[TRANSPORT_USER_ID_MAX];
        /*  The codec itself refuses bodies over PROTO_MAX_BODY.          */
        size_t max_body = s_max_message_size < PROTO_MAX_BODY ? (size_t) s_max_message_size : 0;
        int src_fd = -1;
        if (transport_recv_from (sock, true, &route, user_id, &src_fd, max_body, &msg,
                                 &fault) == 0)
            break;
        if (srv->monitor && src_fd >= 0 && s_was_cut (srv, src_fd)) {
            proto_msg_destroy (&msg);   /* what a cut connection had sent */
            continue;
        }
        const char *principal = NULL;
        if (srv->cert && !(principal = s_principal_of (srv, user_id))) {
            /*  zauth let it in, so its key was in the allow directory;
                it no longer is.                                          */
            log_warn ("dropped a message from a key no longer allowed (%.8s...)", user_id);
            proto_msg_destroy (&msg);
            continue;
        }
        if (route.size == 0) {
            log_warn ("dropped a message without a routing id");
            proto_msg_destroy (&msg);
            continue;
        }
        int64_t now = clock_mono_ms ();
        if (msg)
            master_handle_as (srv->master, &route, principal, msg, now);
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
    if (srv->zk) {
        int64_t now = clock_mono_ms ();
        zk_tick (srv->zk, now);
        if (s_ha_check (srv, now) < 0)
            return -1;
        if (!s_acting (srv))
            return 0;
    }
    master_tick (srv->master, clock_mono_ms ());
    if (master_allocation_pending (srv->master))
        master_allocate (srv->master, clock_mono_ms ());
    return s_flush (srv);
}

static int
s_on_allocate (zloop_t *loop, int timer_id, void *arg)
{
    server_t *srv = arg;
    if (!s_acting (srv))
        return 0;
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
    /*  A state that fits in one slice is written at once, so it is one
        consistent snapshot (no message is handled between the ids taken
        and the entries written); only a large one is spread over passes. */
    state_job_t *state = master_state_begin (srv->master, now);
    if (master_state_step (srv->master, state, STATE_STEP)) {
        size_t size;
        char *text = master_state_take (&state, &size);
        httpd_respond (srv->httpd, req, 200, "application/json", text, size);
        return;
    }
    http_job_t *job = xzalloc (sizeof *job);
    job->state = state;
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
s_get_agents (restapi_call_t *call)
{
    server_t *srv = call->arg;
    size_t size;
    char *text = master_agents_text (srv->master, s_now (), &size);
    httpd_request_t *req = restapi_call_take (call);
    s_respond_text (srv, &req, "application/json", text, size);
}

static void
s_get_metrics (restapi_call_t *call)
{
    server_t *srv = call->arg;
    size_t size;
    char *text = master_metrics_text (srv->master, s_now (), &size);
    char *more = xasprintf ("# HELP cairn_master_connections_cut_total Connections cut over "
                            "--max-connections-per-ip.\n"
                            "# TYPE cairn_master_connections_cut_total counter\n"
                            "cairn_master_connections_cut_total %" PRIu64 "\n"
                            "# HELP cairn_master_messages_dropped_total Messages to peers "
                            "dropped on a full queue (--max-pending-per-peer).\n"
                            "# TYPE cairn_master_messages_dropped_total counter\n"
                            "cairn_master_messages_dropped_total %" PRId64 "\n",
                            srv->connections_cut, srv->dropped);
    if (srv->zk) {
        char *ha = xasprintf ("%s# HELP cairn_master_leader 1 if this master leads and acts, "
                              "0 if it is a standby or paused.\n"
                              "# TYPE cairn_master_leader gauge\ncairn_master_leader %d\n"
                              "# HELP cairn_master_zk_connected 1 while connected to "
                              "ZooKeeper.\n# TYPE cairn_master_zk_connected gauge\n"
                              "cairn_master_zk_connected %d\n"
                              "# HELP cairn_master_leader_changes_total Leader changes this "
                              "master saw.\n# TYPE cairn_master_leader_changes_total counter\n"
                              "cairn_master_leader_changes_total %" PRIu64 "\n"
                              "# HELP cairn_master_leader_pauses_total Times this leader "
                              "stopped acting for want of word from ZooKeeper.\n"
                              "# TYPE cairn_master_leader_pauses_total counter\n"
                              "cairn_master_leader_pauses_total %" PRIu64 "\n"
                              "# HELP cairn_master_elected_timestamp_seconds When this "
                              "master was elected (0: it was not).\n"
                              "# TYPE cairn_master_elected_timestamp_seconds gauge\n"
                              "cairn_master_elected_timestamp_seconds %.3f\n",
                              more, s_acting (srv) ? 1 : 0, zk_connected (srv->zk) ? 1 : 0,
                              zk_leader_changes (srv->zk), srv->pauses, srv->elected_at);
        free (more);
        more = ha;
    }
    size_t more_size = strlen (more);
    text = xrealloc (text, size + more_size + 1);
    memcpy (text + size, more, more_size + 1);
    size += more_size;
    free (more);
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

/*  Whether the caller's principal (its bearer token's) may perform the
    operator action; false after answering 403 and logging.             */
static bool
s_authorized (restapi_call_t *call, const char *action)
{
    server_t *srv = call->arg;
    const char *principal = httpd_request_principal (call->req);
    char why[512];
    if (acl_allows (srv->acl, ACL_OPERATOR, principal, action, why, sizeof why))
        return true;
    log_warn ("HTTP %s %s from %s refused: %s", call->method, call->path,
              httpd_request_peer (call->req), why);
    restapi_reply (call, 403, json_pack ("{s:s s:s s:s}", "error", why, "rule",
                                         acl_section_name (ACL_OPERATOR), "action", action));
    return false;
}

static void
s_post_gone (restapi_call_t *call)
{
    server_t *srv = call->arg;
    if (!s_authorized (call, "gone"))
        return;
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
    if (!s_authorized (call, "teardown"))
        return;
    const char *id = s_id_param (call, "framework_id");
    char why[512];
    const char *owner = id ? master_framework_principal (srv->master, id) : NULL;
    const char *principal = httpd_request_principal (call->req);
    if (owner && !acl_allows (srv->acl, ACL_TEARDOWN_FRAMEWORKS, principal, owner, why,
                              sizeof why)) {
        log_warn ("HTTP teardown of %s from %s refused: %s", id,
                  httpd_request_peer (call->req), why);
        restapi_reply (call, 403, json_pack ("{s:s s:s}", "error", why, "rule",
                                             acl_section_name (ACL_TEARDOWN_FRAMEWORKS)));
        return;
    }
    if (id)
        s_decided (call, master_teardown (srv->master, id, s_now ()),
                   json_pack ("{s:s s:b}", "framework_id", id, "removed", true));
}

static void
s_post_drain (restapi_call_t *call)
{
    server_t *srv = call->arg;
    if (!s_authorized (call, "drain"))
        return;
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
    if (!s_authorized (call, "undrain"))
        return;
    const char *id = s_id_param (call, "agent_id");
    if (id)
        s_decided (call, master_undrain_agent (srv->master, id, s_now ()),
                   json_pack ("{s:s s:b}", "agent_id", id, "draining", false));
}

static void
s_post_kill (restapi_call_t *call)
{
    server_t *srv = call->arg;
    if (!s_authorized (call, "kill"))
        return;
    /*  Read before s_id_param, which answers (and ends the call) when
        the task id is bad.                                               */
    const char *fw = restapi_query (call, "framework_id");
    const char *task = s_id_param (call, "task_id");
    int64_t grace;
    if (!task || (fw && !s_id_param (call, "framework_id"))
        || !s_duration_param (call, "grace", &grace))
        return;
    s_decided (call, master_kill (srv->master, fw, task, grace, s_now ()),
               json_pack ("{s:s s:b}", "task_id", task, "killing", true));
}

/*  An optional count parameter in [min, max] (def if absent); false
    after a 400 naming it.                                                */
static bool
s_count_param (restapi_call_t *call, const char *name, long long min, long long max,
               long long def, size_t *value)
{
    const char *text = restapi_query (call, name);
    *value = (size_t) def;
    if (!text)
        return true;
    char *end = NULL;
    errno = 0;
    long long n = strtoll (text, &end, 10);
    if (!*text || *end || errno || n < min || n > max) {
        restapi_error (call, 400, name, "%s must be an integer from %lld to %lld (got '%s')",
                       name, min, max, text);
        return false;
    }
    *value = (size_t) n;
    return true;
}

#define TASKS_DEFAULT_LIMIT 100
#define TASKS_MAX_LIMIT 1000

/*  GET /tasks without task_id: one page of the tasks, filtered, so that
    a UI never needs the whole of /state.                                 */
static void
s_get_tasks_page (restapi_call_t *call)
{
    server_t *srv = call->arg;
    master_tasks_filter_t filter = { .state = -1, .which = TASKS_ANY };
    const char *state = restapi_query (call, "state");
    if (state && *state) {
        cairn_task_state_t st;
        if (strcmp (state, "active") == 0)
            filter.which = TASKS_ACTIVE;
        else if (strcmp (state, "completed") == 0)
            filter.which = TASKS_COMPLETED;
        else if (cairn_task_state_parse (state, &st) == 0)
            filter.state = (int) st;
        else {
            restapi_error (call, 400, "state", "state must be a task state such as "
                           "TASK_RUNNING, or active or completed (got '%s')", state);
            return;
        }
    }
    filter.framework_id = restapi_query (call, "framework_id");
    filter.agent_id = restapi_query (call, "agent_id");
    filter.q = restapi_query (call, "q");
    if ((filter.framework_id && !s_id_param (call, "framework_id"))
        || (filter.agent_id && !s_id_param (call, "agent_id"))
        || !s_count_param (call, "offset", 0, 1000000000, 0, &filter.offset)
        || !s_count_param (call, "limit", 1, TASKS_MAX_LIMIT, TASKS_DEFAULT_LIMIT,
                           &filter.limit))
        return;
    restapi_reply (call, 200, master_tasks_json (srv->master, &filter, s_now ()));
}

static void
s_get_task (restapi_call_t *call)
{
    server_t *srv = call->arg;
    if (!restapi_query (call, "task_id")) {
        s_get_tasks_page (call);
        return;
    }
    /*  Read before s_id_param, which answers (and ends the call) when
        the task id is bad.                                               */
    const char *fw = restapi_query (call, "framework_id");
    const char *task = s_id_param (call, "task_id");
    if (!task || (fw && !s_id_param (call, "framework_id")))
        return;
    json_t *json = master_task_json (srv->master, fw, task, s_now ());
    if (json)
        restapi_reply (call, 200, json);
    else
        restapi_error (call, errno == EEXIST ? 409 : 404, NULL, "%s", cairn_strerror_last ());
}

/*  GET /tasks/files/browse and /tasks/files/read: forwarded to the task's
    agent off the loop (files.c). Reads, open like GET /tasks.           */
static void
s_get_task_files (restapi_call_t *call)
{
    server_t *srv = call->arg;
    files_serve (srv->files, srv->master, call, s_now ());
}

/*  GET /offers[?framework_id=F][&agent_id=A][&offset=N][&limit=N]: one
    page of the outstanding offers, oldest first.                         */
static void
s_get_offers (restapi_call_t *call)
{
    server_t *srv = call->arg;
    const char *fw = restapi_query (call, "framework_id");
    const char *agent = restapi_query (call, "agent_id");
    size_t offset, limit;
    if ((fw && !s_id_param (call, "framework_id")) || (agent && !s_id_param (call, "agent_id"))
        || !s_count_param (call, "offset", 0, 1000000000, 0, &offset)
        || !s_count_param (call, "limit", 1, TASKS_MAX_LIMIT, TASKS_DEFAULT_LIMIT, &limit))
        return;
    json_t *json = master_offers_json (srv->master, fw, agent, offset, limit, s_now ());
    if (json)
        restapi_reply (call, 200, json);
    else
        restapi_error (call, 404, NULL, "%s", cairn_strerror_last ());
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

/*  The web UI: GET / sends the browser to ui/ (relative, so that it
    works behind a proxy on a sub-path), GET /ui/NAME serves a file.
    Every answer carries webui_headers (the Content-Security-Policy).
    Returns false for a request that is not the UI's.                    */
static bool
s_serve_ui (server_t *srv, httpd_request_t **req)
{
    const char *path = httpd_request_path (*req);
    const char *name;
    if (strcmp (path, "/") == 0) {
        static const char page[] = "<!DOCTYPE html>\n<title>Cairn</title>\n"
                                   "<p><a href=\"ui/\">Cairn web UI</a></p>\n";
        char *headers = xasprintf ("%sLocation: ui/\n", webui_headers);
        httpd_respond_with_headers (srv->httpd, req, 302, "text/html; charset=utf-8", headers,
                                    xstrdup (page), sizeof page - 1);
        free (headers);
        return true;
    }
    if (strcmp (path, "/ui") == 0) {
        char *headers = xasprintf ("%sLocation: ui/\n", webui_headers);
        httpd_respond_with_headers (srv->httpd, req, 302, "text/plain; charset=utf-8",
                                    headers, NULL, 0);
        free (headers);
        return true;
    }
    if (strncmp (path, "/ui/", 4) != 0)
        return false;
    name = path + 4;
    if (strcmp (httpd_request_method (*req), "GET") != 0) {
        httpd_respond_error (srv->httpd, req, 405, "%s is not allowed on %s (allowed: GET)",
                             httpd_request_method (*req), path);
        return true;
    }
    const char *type = NULL;
    size_t size = 0;
    char *body = webui_load (s_webui_dir && *s_webui_dir ? s_webui_dir : NULL, name, &type,
                             &size);
    if (!body) {
        char *text = xasprintf ("{\"error\":\"no such file in the web UI\"}");
        httpd_respond_with_headers (srv->httpd, req, 404, "application/json", webui_headers,
                                    text, strlen (text));
        return true;
    }
    httpd_respond_with_headers (srv->httpd, req, 200, type, webui_headers, body, size);
    return true;
}

static const restapi_route_t s_routes[] = {
    { "GET", "/health", s_get_health },
    { "GET", "/state", s_get_state },
    { "GET", "/state/summary", s_get_summary },
    { "GET", "/agents", s_get_agents },
    { "GET", "/flags", s_get_flags },
    { "GET", "/metrics", s_get_metrics },
    { "GET", "/events", s_get_events },
    { "GET", "/tasks", s_get_task },
    { "GET", "/tasks/files/browse", s_get_task_files },
    { "GET", "/tasks/files/read", s_get_task_files },
    { "GET", "/offers", s_get_offers },
    { "POST", "/tasks/kill", s_post_kill },
    { "POST", "/agents/gone", s_post_gone },
    { "POST", "/agents/drain", s_post_drain },
    { "POST", "/agents/undrain", s_post_undrain },
    { "POST", "/frameworks/teardown", s_post_teardown },
};

/*  With --zk: a standby sends HTTP clients to the leader (307, so a POST
    stays a POST), but for its own /health, /metrics and /flags; a paused
    leader refuses what would change the cluster. True if answered.      */
static bool
s_ha_http (server_t *srv, httpd_request_t **req)
{
    if (!srv->zk || (srv->leading && !srv->paused))
        return false;
    const char *path = httpd_request_path (*req);
    if (strcmp (path, "/health") == 0 || strcmp (path, "/metrics") == 0
        || strcmp (path, "/flags") == 0)
        return false;
    if (srv->paused) {
        if (strcmp (httpd_request_method (*req), "GET") == 0)
            return false;
        httpd_respond_error (srv->httpd, req, 503, "this master leads but has not heard from "
                             "ZooKeeper lately: it accepts no changes until it does");
        return true;
    }
    char *http = zk_leader_field (srv->zk, "http");
    if (!http) {
        httpd_respond_error (srv->httpd, req, 503, "this master is a standby and no master "
                             "leads yet (see /health)");
        return true;
    }
    char *target = httpd_request_target (*req);
    char *headers = xasprintf ("Location: %s%s%s\n", strstr (http, "://") ? "" : "http://",
                               http, target);
    char *body = xasprintf ("{\"error\":\"this master is a standby; the leader serves %s\"}",
                            http);
    httpd_respond_with_headers (srv->httpd, req, 307, "application/json", headers, body,
                                strlen (body));
    free (headers);
    free (target);
    free (http);
    return true;
}

static int
s_on_http (zloop_t *loop, zsock_t *sock, void *arg)
{
    (void) loop;
    (void) sock;
    server_t *srv = arg;
    httpd_request_t *req;
    while ((req = httpd_recv (srv->httpd)) && !srv->stop)
        if (!s_ha_http (srv, &req) && !s_serve_ui (srv, &req))
            restapi_dispatch (srv->httpd, &req, s_routes, sizeof s_routes / sizeof s_routes[0], srv);
    httpd_request_destroy (&req);
    s_prune_subscribers (srv);
    return srv->stop ? -1 : 0;
}

/*  Whether addr (numeric) is a loopback address.                         */
static bool
s_loopback (const char *addr)
{
    return strncmp (addr, "127.", 4) == 0 || strcmp (addr, "::1") == 0
        || strcmp (addr, "localhost") == 0;
}

/*  A master that others can reach needs credentials on every link, or
    --insecure to say that an open cluster is meant. Returns -1 after
    saying why it refuses to start.                                       */
static int
s_check_exposure (void)
{
    bool http_auth = s_http_token_file && *s_http_token_file;
    bool curve = s_curve_secret && *s_curve_secret;
    if (curve != (s_curve_allow_dir && *s_curve_allow_dir)) {
        fprintf (stderr, "cairn-master: --curve-secret and --curve-allow-dir go together\n");
        return -1;
    }
    if (curve && !zsys_has_curve ()) {
        fprintf (stderr, "cairn-master: --curve-secret: this libzmq has no CURVE support\n");
        return -1;
    }
    if ((http_auth && curve) || s_loopback (s_ip))
        return 0;
    const char *missing = !http_auth && !curve
        ? "--http-token-file=FILE for the HTTP API and --curve-secret/--curve-allow-dir for "
          "agents, frameworks and the CLI"
        : !http_auth ? "--http-token-file=FILE for the HTTP API"
        : "--curve-secret=FILE and --curve-allow-dir=DIR for agents, frameworks and the CLI";
    if (s_insecure) {
        log_warn ("--insecure: listening on %s without %s: anyone who reaches it can control "
                  "the cluster", s_ip, missing);
        return 0;
    }
    fprintf (stderr, "cairn-master: refusing to listen on %s (not a loopback address) without "
             "credentials: give %s, or --insecure to run an open cluster\n", s_ip, missing);
    return -1;
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
    if (s_check_exposure () < 0) {
        exit_code = 2;
        goto done;
    }
    struct stat webui_st;
    if (s_webui_dir && *s_webui_dir
        && (stat (s_webui_dir, &webui_st) < 0 || !S_ISDIR (webui_st.st_mode))) {
        fprintf (stderr, "cairn-master: --webui-dir: %s is not a directory\n", s_webui_dir);
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

    if (s_acl && *s_acl) {
        if (!(srv.acl = acl_load (s_acl))) {
            log_error ("%s", cairn_strerror_last ());
            exit_code = 2;
            goto done;
        }
        if (!(s_curve_secret && *s_curve_secret))
            log_warn ("--acl without CURVE: frameworks' principals are what they declare, and "
                      "agents have none");
    }
    if (s_curve_secret && *s_curve_secret) {
        if (!(srv.cert = transport_cert_load (s_curve_secret, true))) {
            log_error ("--curve-secret: %s", cairn_strerror_last ());
            exit_code = 2;
            goto done;
        }
        struct stat st;
        if (stat (s_curve_allow_dir, &st) < 0 || !S_ISDIR (st.st_mode)) {
            log_error ("--curve-allow-dir: %s is not a directory", s_curve_allow_dir);
            exit_code = 2;
            goto done;
        }
        srv.keys.dir = s_curve_allow_dir;
        s_keys_load (&srv.keys);
        /*  zauth must run before the socket binds; each command to it is
            confirmed before the next (LIBRARY-FACTS.md).                 */
        srv.auth = zactor_new (zauth, NULL);
        if (!srv.auth) {
            log_error ("cannot start the ZeroMQ authenticator");
            goto done;
        }
        if (log_enabled (LOG_LEVEL_DEBUG)) {
            zstr_send (srv.auth, "VERBOSE");
            zsock_wait (srv.auth);
        }
        zstr_sendx (srv.auth, "CURVE", s_curve_allow_dir, NULL);
        zsock_wait (srv.auth);
        log_info ("CURVE on: %zu allowed key(s) in %s", zhashx_size (srv.keys.principals),
                  s_curve_allow_dir);
    }
    srv.router = zsock_new (ZMQ_ROUTER);
    transport_tune (srv.router);
    if (srv.cert) {
        zcert_apply (srv.cert, srv.router);
        zsock_set_curve_server (srv.router, 1);
    }
    /*  The operator's bounds on what one peer can make the master hold. */
    zsock_set_sndhwm (srv.router, (int) s_max_pending_per_peer);
    zsock_set_rcvhwm (srv.router, (int) s_max_pending_per_peer);
    zsock_set_maxmsgsize (srv.router, 2 * s_max_message_size);
    srv.conn_ip = zhashx_new ();
    zhashx_set_destructor (srv.conn_ip, (zhashx_destructor_fn *) zstr_free);
    srv.ip_count = zhashx_new ();
    srv.cut_fds = zhashx_new ();
    if (s_max_connections_per_ip > 0) {
        /*  Straight from libzmq, not through CZMQ's zmonitor thread: an
            accept is then in this socket before anything the connection
            sends is in the router (s_on_router reads this first).       */
        if (zmq_socket_monitor (zsock_resolve (srv.router), "inproc://cairn-master-monitor",
                                ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED) < 0
            || !(srv.monitor = zsock_new (ZMQ_PAIR))
            || zsock_connect (srv.monitor, "inproc://cairn-master-monitor") < 0) {
            log_error ("cannot watch the router's connections: %s", zmq_strerror (errno));
            goto done;
        }
        zsock_set_rcvhwm (srv.monitor, 0);
        /*  s_on_router may have read what made the loop call
            s_on_monitor: never wait for an event.                        */
        zsock_set_rcvtimeo (srv.monitor, 0);
    }
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
    httpd_options_t http_options = {
        .tls_cert = s_http_tls_cert && *s_http_tls_cert ? s_http_tls_cert : NULL,
        .tls_key = s_http_tls_key && *s_http_tls_key ? s_http_tls_key : NULL,
        .token_file = s_http_token_file && *s_http_token_file ? s_http_token_file : NULL,
    };
    srv.httpd = httpd_new_with (s_ip, (int) s_http_port, &http_options);
    if (!srv.httpd) {
        log_error ("%s", cairn_strerror_last ());
        goto done;
    }
    /*  With TLS the address clients are told carries its scheme, so they
        know to speak HTTPS; a bare HOST:PORT means plain HTTP.          */
    char http_address[300];
    snprintf (http_address, sizeof http_address, "%s%s:%d",
              httpd_tls (srv.httpd) ? "https://" : "",
              s_advertise_ip && *s_advertise_ip ? s_advertise_ip : s_ip, httpd_port (srv.httpd));
    char zmq_address[300];
    snprintf (zmq_address, sizeof zmq_address, "%s:%d",
              s_advertise_ip && *s_advertise_ip ? s_advertise_ip : s_ip, (int) s_port);

    bool ha = s_zk && *s_zk;
    if (ha && zk_url_check (s_zk) < 0) {
        log_error ("--zk: %s", cairn_strerror_last ());
        exit_code = 2;
        goto done;
    }
    /*  With --zk the registry is in ZooKeeper, opened once elected.     */
    if (!ha && !(srv.registry = registry_open (s_work_dir))) {
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
        .max_tasks_per_launch = s_max_tasks_per_launch,
        .max_string_length = s_max_string_length,
        .cluster_name = s_cluster_name,
    };
    srv.master = master_new (&config);
    master_set_acl (srv.master, srv.acl);
    if (ha) {
        char host[256] = "";
        gethostname (host, sizeof host - 1);
        json_t *me = json_pack ("{s:s s:s s:s s:s s:s s:I s:f}", "id",
                                master_id (srv.master), "address", zmq_address, "http",
                                http_address, "hostname", host, "version", PACKAGE_VERSION,
                                "pid", (json_int_t) getpid (), "started_at", clock_wall ());
        char *candidate = json_dumps (me, JSON_COMPACT);
        json_decref (me);
        zk_options_t zk_options = {
            .url = s_zk,
            .session_timeout_ms = (int) s_zk_timeout_ms,
            .candidate = candidate,
            .list_candidates = true,
        };
        srv.zk = zk_new (&zk_options);
        free (candidate);
        if (!srv.zk) {
            log_error ("--zk: %s", cairn_strerror_last ());
            goto done;
        }
        s_publish_ha (&srv, clock_mono_ms ());
    }
    else if (master_recover (srv.master, clock_mono_ms ()) < 0) {
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
    if (!(srv.files = files_new (srv.loop, srv.httpd, s_agent_ca_file))) {
        log_error ("%s", cairn_strerror_last ());
        exit_code = 2;
        goto done;
    }
    if (srv.monitor)
        zloop_reader (srv.loop, srv.monitor, s_on_monitor, &srv);
    zmq_pollitem_t sigitem = { NULL, sigfd, ZMQ_POLLIN, 0 };
    zloop_poller (srv.loop, &sigitem, util_on_signal, &srv);
    size_t tick = s_ping_timeout_ms / 4 < 250 ? (size_t) (s_ping_timeout_ms / 4) : 250;
    zloop_timer (srv.loop, tick ? tick : 1, 0, s_on_tick, &srv);
    zloop_timer (srv.loop, (size_t) s_allocation_interval_ms, 0, s_on_allocate, &srv);
    zloop_timer (srv.loop, HEARTBEAT_MS, 0, s_on_heartbeat, &srv);
    zmq_pollitem_t zkitem = { NULL, srv.zk ? zk_fd (srv.zk) : -1, ZMQ_POLLIN, 0 };
    if (srv.zk)
        zloop_poller (srv.loop, &zkitem, s_on_zk, &srv);
    log_info ("master %s listening on tcp://%s:%d, HTTP on %s (%s%s)",
              master_id (srv.master), s_ip, (int) s_port, http_address,
              ha ? "a standby until ZooKeeper elects it: " : "work dir ", ha ? s_zk : s_work_dir);
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
    files_destroy (&srv.files);
    zloop_destroy (&srv.loop);
    httpd_destroy (&srv.httpd);
    master_destroy (&srv.master);
    registry_close (&srv.registry);
    /*  After the registry, which writes through its session; leaving the
        election at once lets a standby take over in milliseconds.       */
    zk_destroy (&srv.zk);
    free (srv.lead_node);
    free (srv.leader_id);
    free (srv.failover_from);
    free (srv.failover_to);
    if (srv.monitor)
        zmq_socket_monitor (zsock_resolve (srv.router), NULL, 0);
    zsock_destroy (&srv.monitor);       /* it watches the router */
    zsock_destroy (&srv.router);
    zactor_destroy (&srv.auth);
    zhashx_destroy (&srv.conn_ip);
    zhashx_destroy (&srv.ip_count);
    zhashx_destroy (&srv.cut_fds);
    zcert_destroy (&srv.cert);
    zhashx_destroy (&srv.keys.principals);
    acl_destroy (&srv.acl);
    cairn_resources_destroy (&min_alloc);
    if (sigfd >= 0)
        close (sigfd);
    flags_free (&s_spec);
    return exit_code;
}
