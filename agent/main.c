/*  main.c - cairn-agent: flags, resource detection, the master session's
    socket, the HTTP endpoint and the event loop.                         */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <czmq.h>
#include <jansson.h>

#include "agent.h"
#include "error.h"
#include "fetcher.h"
#include "flags.h"
#include "httpd.h"
#include "isolator.h"
#include "log.h"
#include "resources.h"
#include "transport.h"
#include "util.h"
#include "zk.h"

#define BATCH 1000
#define MAX_READ (4 << 20)      /* bytes per /files/read */

static char *s_master, *s_ip, *s_advertise_ip, *s_work_dir, *s_resources, *s_attributes;
static char *s_hostname, *s_isolation, *s_cgroup_root, *s_shim, *s_log_level, *s_log;
static int64_t s_http_port, s_kill_grace_ms, s_ping_misses, s_max_task_pids;
static bool s_shutdown_tasks, s_cpu_hard_limit, s_shim_launcher;
static char *s_fetcher;
static int64_t s_fetch_cache_mib, s_usage_interval_ms, s_disk_interval_ms, s_gc_delay_ms;
static double s_gc_headroom;
static int64_t s_max_log_mib;
static bool s_switch_user;
static char *s_default_user;
static char *s_namespaces;
static char *s_master_public_key, *s_curve_cert;
static char *s_http_tls_cert, *s_http_tls_key;

static const flag_t s_flags[] = {
    { "master", FLAG_STRING, &s_master, NULL, "HOST:PORT|zk://HOSTS/PATH",
      "The master's ZeroMQ endpoint (required), or the ZooKeeper ensemble and path of "
      "masters run with --zk: the agent then follows the leader.", 0, 0 },
    { "ip", FLAG_STRING, &s_ip, "127.0.0.1", "ADDR",
      "Address the agent's HTTP endpoint listens on.", 0, 0 },
    { "master-public-key", FLAG_STRING, &s_master_public_key, NULL, "FILE",
      "The master's CURVE public key (its NAME.key): talk to it over CURVE, with "
      "--curve-cert.", 0, 0 },
    { "curve-cert", FLAG_STRING, &s_curve_cert, NULL, "FILE",
      "The agent's CURVE key pair (NAME.key_secret from cairn keygen).", 0, 0 },
    { "advertise-ip", FLAG_STRING, &s_advertise_ip, NULL, "ADDR",
      "Address the master and clients use to reach this agent (default: --ip).", 0, 0 },
    { "http-port", FLAG_INT, &s_http_port, "5052", "PORT",
      "Port of the HTTP endpoint (/health, /state, /files); 0 picks a free one.", 0, 65535 },
    { "http-tls-cert", FLAG_STRING, &s_http_tls_cert, NULL, "FILE",
      "Serve HTTPS with this PEM certificate (with --http-tls-key).", 0, 0 },
    { "http-tls-key", FLAG_STRING, &s_http_tls_key, NULL, "FILE",
      "The PEM private key of --http-tls-cert.", 0, 0 },
    { "work-dir", FLAG_STRING, &s_work_dir, "/var/lib/cairn/agent", "DIR",
      "Directory for sandboxes and the agent's own state.", 0, 0 },
    { "resources", FLAG_STRING, &s_resources, NULL, "RESOURCES",
      "Resources to offer, e.g. cpus:4;mem:8192;disk:10000;ports:[31000-32000]; "
      "items left out are detected.", 0, 0 },
    { "attributes", FLAG_STRING, &s_attributes, NULL, "NAME:VALUE;...",
      "Attributes frameworks can match on, e.g. rack:r1;zone:a.", 0, 0 },
    { "hostname", FLAG_STRING, &s_hostname, NULL, "NAME",
      "Hostname to advertise (default: the machine's).", 0, 0 },
    { "isolation", FLAG_STRING, &s_isolation, "auto", "KIND",
      "How tasks are contained: cgroups (v2, or v1 where cpu and memory are on v1), "
      "posix (process groups and rlimits, no root needed), or auto: cgroups where "
      "usable, else posix with a warning.", 0, 0 },
    { "cgroup-root", FLAG_STRING, &s_cgroup_root, "cairn", "NAME",
      "Cgroup under which each agent owns NAME/AGENT-ID (at the top of each hierarchy, "
      "or in the agent's cgroup when systemd delegated it).", 0, 0 },
    { "cpu-hard-limit", FLAG_BOOL, &s_cpu_hard_limit, "false", NULL,
      "Cap every task at its cpus (cpu.max), not only those labelled "
      "cairn.cpu-hard-limit=true.", 0, 0 },
    { "max-task-pids", FLAG_INT, &s_max_task_pids, "0", "N",
      "Most processes and threads one task may have (pids.max); 0: no limit.",
      0, 4194304 },
    { "shim", FLAG_STRING, &s_shim, NULL, "PATH",
      "The task supervisor (default: cairn-shim next to the agent, else the installed one).",
      0, 0 },
    { "shim-launcher", FLAG_BOOL, &s_shim_launcher, "true", NULL,
      "Start each task's supervisor as a fork of one resident cairn-shim --launcher "
      "(no exec per task); --no-shim-launcher starts each with its own exec.", 0, 0 },
    { "default-kill-grace", FLAG_DURATION, &s_kill_grace_ms, "3s", "DURATION",
      "Time between SIGTERM and SIGKILL when a task is killed.", 0, 86400000 },
    { "max-master-ping-misses", FLAG_INT, &s_ping_misses, "3", "N",
      "Missed master pings after which the agent reconnects and re-registers.", 1, 1000 },
    { "fetcher", FLAG_STRING, &s_fetcher, NULL, "PATH",
      "The URI fetcher (default: cairn-fetcher next to the agent, else the installed one).",
      0, 0 },
    { "fetch-cache-size", FLAG_INT, &s_fetch_cache_mib, "2048", "MIB",
      "Size of the per-agent cache of fetched URIs (0: no cache).", 0, 1LL << 30 },
    { "usage-interval", FLAG_DURATION, &s_usage_interval_ms, "5s", "DURATION",
      "How often tasks' cpu and memory use is sampled and sent to the master (0s: never).",
      0, 86400000 },
    { "disk-check-interval", FLAG_DURATION, &s_disk_interval_ms, "15s", "DURATION",
      "How often sandboxes are measured against their tasks' disk (0s: never).", 0, 86400000 },
    { "gc-delay", FLAG_DURATION, &s_gc_delay_ms, "1h", "DURATION",
      "How long an ended task's sandbox is kept.", 0, 315360000000LL },
    { "gc-disk-headroom", FLAG_DOUBLE, &s_gc_headroom, "0.1", "FRACTION",
      "Sandboxes go sooner as the work dir's disk fills, at once when less than this "
      "fraction of it is free.", 0, 1 },
    { "max-log-size", FLAG_INT, &s_max_log_mib, "64", "MIB",
      "A task's stdout and stderr are rotated at this size, keeping one older copy each "
      "(0: no limit).", 0, 1LL << 20 },
    { "switch-user", FLAG_BOOL, &s_switch_user, "true", NULL,
      "Run a task as the user it (or its framework) names, which the master's ACL allowed "
      "(--no-switch-user: as --default-user).", 0, 0 },
    { "default-user", FLAG_STRING, &s_default_user, "nobody", "USER",
      "When the agent runs as root: the user of tasks that name none (never root unless "
      "named here or by the task). An agent not running as root runs tasks as its own "
      "user.", 0, 0 },
    { "task-namespaces", FLAG_STRING, &s_namespaces, "", "LIST",
      "Namespaces for each task: pid (it sees only its own processes), mount (a private "
      "/tmp in its sandbox), or pid,mount.", 0, 0 },
    { "shutdown-tasks", FLAG_BOOL, &s_shutdown_tasks, "false", NULL,
      "Kill running tasks when the agent stops (otherwise they keep running and the next "
      "agent on this work dir re-attaches to them).", 0, 0 },
    { "log-level", FLAG_STRING, &s_log_level, "info", "LEVEL",
      "Log level: error, warn, info or debug.", 0, 0 },
    { "log", FLAG_STRING, &s_log, "stderr", "TARGET",
      "Where logs go: stderr, syslog or file:PATH (reopened on SIGHUP).", 0, 0 },
};

static const flags_spec_t s_spec = {
    "cairn-agent", "CAIRN_AGENT_",
    "Run a Cairn agent: offer this machine's resources and run tasks.",
    "[OPTIONS]", s_flags, sizeof s_flags / sizeof s_flags[0],
};

typedef struct {
    agent_t *agent;
    zsock_t *sock;
    transport_curve_t curve;    /* CURVE credentials, or none */
    char *endpoint;             /* NULL until a leader is known (zk://) */
    zk_t *zk;                   /* following the leading master, or NULL */
    httpd_t *httpd;
    zloop_t *loop;
} server_t;

/*  Resources  */

static bool
s_mentions (const char *spec, const char *name)
{
    size_t n = strlen (name);
    for (const char *p = spec; (p = strstr (p, name)); p += n) {
        bool start = p == spec || p[-1] == ';' || p[-1] == ' ';
        const char *q = p + n;
        while (*q == ' ')
            q++;
        if (start && *q == ':')
            return true;
    }
    return false;
}

/*  Detected resources, overridden item by item by --resources.           */
static cairn_resources_t *
s_detect_resources (const char *spec, const char *work_dir)
{
    cairn_resources_t *given = cairn_resources_parse (spec ? spec : "");
    if (!given)
        return NULL;
    cairn_resources_t *r = cairn_resources_new ();
    long ncpu = sysconf (_SC_NPROCESSORS_ONLN);
    cairn_resources_set_millicpus (r, (ncpu > 0 ? ncpu : 1) * 1000);
    struct sysinfo si;
    if (sysinfo (&si) == 0) {
        /*  Leave the machine some memory: 1 GiB, or half of a small one. */
        uint64_t total = (uint64_t) si.totalram * si.mem_unit >> 20;
        cairn_resources_set_mem (r, total >= 2048 ? total - 1024 : total / 2);
    }
    struct statvfs vfs;
    if (statvfs (work_dir, &vfs) == 0) {
        /*  90% of the work dir's filesystem: its size, not what is free
            now, so that the figure is the same at the next start (a
            restarted agent must offer what it offered before to recover
            its tasks).                                                    */
        uint64_t size = (uint64_t) vfs.f_blocks * vfs.f_frsize >> 20;
        cairn_resources_set_disk (r, size - size / 10);
    }
    cairn_resources_add_ports (r, 31000, 32000);
    if (spec) {
        if (s_mentions (spec, "cpus"))
            r->millicpus = given->millicpus;
        if (s_mentions (spec, "mem"))
            r->mem = given->mem;
        if (s_mentions (spec, "disk"))
            r->disk = given->disk;
        if (s_mentions (spec, "ports")) {
            r->nranges = 0;
            cairn_resources_add (r, &(cairn_resources_t) { .nranges = given->nranges,
                                                          .ranges = given->ranges });
        }
    }
    cairn_resources_destroy (&given);
    return r;
}

/*  "rack:r1;zone:a" -> attributes.                                        */
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
            error_set (EINVAL, "'%s' is not NAME:VALUE", item);
            rc = -1;
            break;
        }
        *colon = '\0';
        if (strlen (item) > PROTO_MAX_NAME || strlen (colon + 1) > PROTO_MAX_NAME
            || kv->count >= PROTO_MAX_KV) {
            error_set (EINVAL, "attribute '%s' is too long (or there are too many)", item);
            rc = -1;
            break;
        }
        proto_kv_set (kv, item, colon + 1);
    }
    free (copy);
    return rc;
}

static char *
s_find_shim (void)
{
    char self[PATH_MAX];
    ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr (self, '/');
        if (slash) {
            *slash = '\0';
            char *path = xasprintf ("%s/cairn-shim", self);
            if (access (path, X_OK) == 0)
                return path;
            free (path);
        }
    }
    return xstrdup (CAIRN_LIBEXECDIR "/cairn-shim");
}

/*  Loop  */

static void
s_connect (server_t *srv)
{
    zsock_destroy (&srv->sock);
    srv->sock = zsock_new (ZMQ_DEALER);
    transport_tune (srv->sock);
    char uuid[40];
    snprintf (uuid, sizeof uuid, "agent-%d-%" PRId64, (int) getpid (), zclock_usecs ());
    zsock_set_identity (srv->sock, uuid);
    transport_curve_apply (&srv->curve, srv->sock);
    zsock_set_reconnect_ivl (srv->sock, 100);
    zsock_set_reconnect_ivl_max (srv->sock, 2000);
    if (srv->endpoint)
        zsock_connect (srv->sock, "%s", srv->endpoint);
}

/*  Ends a loop pass: commits the pass's checkpoint changes (one fsync),
    then sends what the handlers queued, so no update goes out before
    what it reports is durable. Returns -1 when the checkpoint cannot be
    written: the agent stops, and a restart recovers what was committed. */
static int
s_flush (server_t *srv)
{
    if (agent_commit (srv->agent) < 0) {
        log_error ("stopping: %s", cairn_strerror_last ());
        return -1;
    }
    outmsg_t *list = agent_outbox_take (srv->agent);
    /*  No leader known yet (zk://): what would go is sent again later
        (registrations are retried, updates kept until acknowledged).    */
    for (outmsg_t *out = list; out && srv->endpoint; out = out->next)
        if (transport_send (srv->sock, NULL, out->msg) < 0 && errno == EAGAIN)
            log_warn ("the queue to the master is full: dropped %s",
                      proto_type_name (out->msg->type));
    outmsg_destroy_list (&list);
    return 0;
}

static int s_on_master (zloop_t *loop, zsock_t *sock, void *arg);

static int
s_on_tick (zloop_t *loop, int timer_id, void *arg)
{
    server_t *srv = arg;
    int64_t now = clock_mono_ms ();
    if (srv->zk)
        zk_tick (srv->zk, now);
    if (agent_master_lost (srv->agent, now)) {
        zloop_reader_end (loop, srv->sock);
        s_connect (srv);
        zloop_reader (loop, srv->sock, s_on_master, srv);
        agent_reconnected (srv->agent, now);
    }
    agent_tick (srv->agent, now);
    if (s_flush (srv) < 0)
        return -1;
    return agent_shutdown_requested (srv->agent) ? -1 : 0;
}

/*  zk://: another master leads; connect to it and register again.      */
static int
s_on_zk (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void) item;
    server_t *srv = arg;
    int64_t now = clock_mono_ms ();
    if ((zk_update (srv->zk, now) & ZK_LEADER_CHANGED) && zk_leader_moved (srv->zk, &srv->endpoint)) {
        log_info ("the leading master is at %s: registering with it", srv->endpoint);
        zloop_reader_end (loop, srv->sock);
        s_connect (srv);
        zloop_reader (loop, srv->sock, s_on_master, srv);
        agent_reconnected (srv->agent, now);
    }
    return s_flush (srv);
}

static int
s_on_master (zloop_t *loop, zsock_t *sock, void *arg)
{
    server_t *srv = arg;
    for (int i = 0; i < BATCH; i++) {
        proto_msg_t *msg = NULL;
        proto_fault_t fault;
        if (transport_recv (sock, false, NULL, &msg, &fault) == 0)
            break;
        if (msg)
            agent_handle (srv->agent, msg, clock_mono_ms ());
        else
            agent_handle_invalid (srv->agent, fault.text);
    }
    if (s_flush (srv) < 0)
        return -1;
    return agent_shutdown_requested (srv->agent) ? -1 : 0;
}

/*  The real path of `rel` inside the sandbox of the task the request
    names (?framework_id=&task_id=), into out; -1 after answering the
    request with the reason. The path must stay inside the sandbox, also
    through symbolic links.                                                */
static int
s_sandbox_path (server_t *srv, httpd_request_t **req, const char *rel, char out[PATH_MAX])
{
    const char *fw = httpd_request_query (*req, "framework_id");
    const char *task = httpd_request_query (*req, "task_id");
    if (!fw || !task || !proto_id_valid (fw) || !proto_id_valid (task)) {
        httpd_respond_error (srv->httpd, req, 400, "framework_id and task_id are required ids");
        return -1;
    }
    const char *sandbox = agent_task_sandbox (srv->agent, fw, task);
    if (!*sandbox) {
        httpd_respond_error (srv->httpd, req, 404, "task %s of framework %s is not known here",
                             task, fw);
        return -1;
    }
    char root[PATH_MAX], joined[PATH_MAX];
    if (!realpath (sandbox, root)) {
        httpd_respond_error (srv->httpd, req, 404, "the sandbox of task %s is gone: %s", task,
                             strerror (errno));
        return -1;
    }
    bool dotdot = false;
    for (const char *p = rel; *p; p++)
        if (p[0] == '.' && p[1] == '.' && (p == rel || p[-1] == '/') && (!p[2] || p[2] == '/'))
            dotdot = true;
    if (*rel == '/' || dotdot || strlen (rel) >= PATH_MAX - strlen (root) - 2) {
        httpd_respond_error (srv->httpd, req, 400, "%s is outside the task's sandbox (give a "
                             "path relative to it, without '..')", rel);
        return -1;
    }
    snprintf (joined, sizeof joined, "%s/%s", root, rel);
    if (!realpath (joined, out)) {
        httpd_respond_error (srv->httpd, req, 404, "%s: %s", rel, strerror (errno));
        return -1;
    }
    size_t n = strlen (root);
    if (strncmp (out, root, n) != 0 || (out[n] != '/' && out[n] != '\0')) {
        httpd_respond_error (srv->httpd, req, 400, "%s is outside the task's sandbox", rel);
        return -1;
    }
    return 0;
}

static int
s_query_int (httpd_request_t *req, const char *name, long long def, long long *out)
{
    const char *v = httpd_request_query (req, name);
    char *end = NULL;
    *out = def;
    if (!v)
        return 0;
    *out = strtoll (v, &end, 10);
    return (!*v || *end || *out < 0) ? -1 : 0;
}

/*  GET /files/read?framework_id=F&task_id=T&path=stdout&offset=N&length=M
    (path defaults to stdout; `file` is a synonym): raw bytes, with the
    headers X-Cairn-File-Size and X-Cairn-Next-Offset (offset + bytes).  */
static void
s_files_read (server_t *srv, httpd_request_t **req)
{
    const char *rel = httpd_request_query (*req, "path");
    if (!rel)
        rel = httpd_request_query (*req, "file");
    if (!rel || !*rel)
        rel = "stdout";
    long long offset, length;
    if (s_query_int (*req, "offset", 0, &offset) < 0
        || s_query_int (*req, "length", MAX_READ, &length) < 0) {
        httpd_respond_error (srv->httpd, req, 400, "offset and length must be non-negative "
                             "integers");
        return;
    }
    if (length > MAX_READ)
        length = MAX_READ;
    char path[PATH_MAX];
    if (s_sandbox_path (srv, req, rel, path) < 0)
        return;
    int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat (fd, &st) < 0 || !S_ISREG (st.st_mode)) {
        httpd_respond_error (srv->httpd, req, fd < 0 ? 404 : 400, "%s: %s", rel,
                             fd < 0 ? strerror (errno) : "not a regular file");
        if (fd >= 0)
            close (fd);
        return;
    }
    char *buf = xmalloc ((size_t) length + 1);
    ssize_t n = pread (fd, buf, (size_t) length, (off_t) offset);
    close (fd);
    if (n < 0) {
        free (buf);
        httpd_respond_error (srv->httpd, req, 500, "%s: %s", rel, strerror (errno));
        return;
    }
    /*  The file's size and where the next read starts, so a pager can
        follow a growing file without a /files/browse per read.          */
    char headers[128];
    snprintf (headers, sizeof headers, "X-Cairn-File-Size: %lld\nX-Cairn-Next-Offset: %lld",
              (long long) st.st_size, offset + (long long) n);
    httpd_respond_with_headers (srv->httpd, req, 200, "application/octet-stream", headers, buf,
                                (size_t) n);
}

/*  GET /files/browse?framework_id=F&task_id=T[&path=DIR]: the entries of
    a directory of the sandbox, as JSON.                                   */
static void
s_files_browse (server_t *srv, httpd_request_t **req)
{
    const char *rel = httpd_request_query (*req, "path");
    char path[PATH_MAX];
    if (s_sandbox_path (srv, req, rel && *rel ? rel : ".", path) < 0)
        return;
    DIR *dir = opendir (path);
    if (!dir) {
        httpd_respond_error (srv->httpd, req, errno == ENOTDIR ? 400 : 404, "%s: %s",
                             rel ? rel : ".", strerror (errno));
        return;
    }
    json_t *list = json_array ();
    struct dirent *de;
    while ((de = readdir (dir)) && json_array_size (list) < 10000) {
        if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat (dirfd (dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        char name[PATH_MAX];
        snprintf (name, sizeof name, "%s", de->d_name);
        proto_text_clean (name);
        json_array_append_new (list, json_pack (
            "{s:s s:s s:I s:I s:f}", "name", name,
            "type", S_ISDIR (st.st_mode) ? "directory" : S_ISREG (st.st_mode) ? "file"
                  : S_ISLNK (st.st_mode) ? "link" : "other",
            "size", (json_int_t) st.st_size, "mode", (json_int_t) (st.st_mode & 07777),
            "mtime", (double) st.st_mtime));
    }
    closedir (dir);
    httpd_respond_json (srv->httpd, req, 200, list);
}

static int
s_on_http (zloop_t *loop, zsock_t *sock, void *arg)
{
    server_t *srv = arg;
    httpd_request_t *req;
    while ((req = httpd_recv (srv->httpd))) {
        const char *path = httpd_request_path (req);
        if (strcmp (httpd_request_method (req), "GET") != 0)
            httpd_respond_error (srv->httpd, &req, 405, "%s is not allowed on %s",
                                 httpd_request_method (req), path);
        else if (strcmp (path, "/health") == 0)
            httpd_respond_json (srv->httpd, &req, 200,
                            json_pack ("{s:s s:s}", "status", "ok", "agent_id",
                                       agent_id (srv->agent)));
        else if (strcmp (path, "/state") == 0)
            httpd_respond_json (srv->httpd, &req, 200, agent_state_json (srv->agent));
        else if (strcmp (path, "/flags") == 0)
            httpd_respond_json (srv->httpd, &req, 200, flags_json (&s_spec));
        else if (strcmp (path, "/files/read") == 0)
            s_files_read (srv, &req);
        else if (strcmp (path, "/files/browse") == 0)
            s_files_browse (srv, &req);
        else if (strcmp (path, "/metrics") == 0) {
            size_t size;
            char *text = agent_metrics_text (srv->agent, &size);
            httpd_respond (srv->httpd, &req, 200, "text/plain; version=0.0.4; charset=utf-8",
                           text, size);
        }
        else
            httpd_respond_error (srv->httpd, &req, 404, "no such endpoint: %s (try /health, "
                                 "/state, /flags, /metrics, /files/browse or /files/read)", path);
    }
    return 0;
}

int
main (int argc, char **argv)
{
    int rc = flags_parse (&s_spec, argc, argv, NULL);
    if (rc != 0)
        return rc < 0 ? 2 : 0;
    int exit_code = 1;
    server_t srv = { 0 };
    cairn_resources_t *resources = NULL;
    proto_kv_t attributes = { 0 };
    isolator_t *isolator = NULL;
    char *shim = NULL, *fetcher = NULL;
    int sigfd = -1;
    char hostname[256] = "";

    if (!s_master || !*s_master) {
        fprintf (stderr, "cairn-agent: --master=HOST:PORT is required\n");
        exit_code = 2;
        goto done;
    }
    if (zk_url_is (s_master)) {
        zk_options_t zk_options = { .url = s_master, .session_timeout_ms = 10000 };
        if (!(srv.zk = zk_new (&zk_options))) {
            fprintf (stderr, "cairn-agent: --master: %s\n", cairn_strerror_last ());
            exit_code = 2;
            goto done;
        }
    }
    else if (!(srv.endpoint = transport_endpoint (s_master))) {
        fprintf (stderr, "cairn-agent: --master: %s\n", cairn_strerror_last ());
        exit_code = 2;
        goto done;
    }
    if ((s_master_public_key && *s_master_public_key) != (s_curve_cert && *s_curve_cert)) {
        fprintf (stderr, "cairn-agent: --master-public-key and --curve-cert go together\n");
        exit_code = 2;
        goto done;
    }
    if (s_master_public_key && *s_master_public_key
        && transport_curve_load (&srv.curve, s_master_public_key, s_curve_cert) < 0) {
        fprintf (stderr, "cairn-agent: %s\n", cairn_strerror_last ());
        exit_code = 2;
        goto done;
    }
    if (geteuid () == 0 && s_default_user && *s_default_user && !getpwnam (s_default_user)) {
        fprintf (stderr, "cairn-agent: --default-user: there is no user '%s' on this machine\n",
                 s_default_user);
        exit_code = 2;
        goto done;
    }
    if (s_parse_attributes (s_attributes, &attributes) < 0) {
        fprintf (stderr, "cairn-agent: --attributes: %s\n", cairn_strerror_last ());
        exit_code = 2;
        goto done;
    }
    if (log_init ("agent", s_log_level, s_log) < 0) {
        fprintf (stderr, "cairn-agent: %s\n", cairn_strerror_last ());
        exit_code = 2;
        goto done;
    }
    if (util_mkdir_p (s_work_dir, 0755) < 0) {
        log_error ("%s", cairn_strerror_last ());
        goto done;
    }
    resources = s_detect_resources (s_resources, s_work_dir);
    if (!resources) {
        fprintf (stderr, "cairn-agent: --resources: %s\n", cairn_strerror_last ());
        exit_code = 2;
        goto done;
    }
    isolator_config_t iso_config = {
        .kind = s_isolation,
        .cgroup_root = s_cgroup_root,
        .cpu_hard_limit = s_cpu_hard_limit,
        .max_task_pids = s_max_task_pids,
    };
    if (s_namespaces && *s_namespaces) {
        char list[64];
        snprintf (list, sizeof list, "%s", s_namespaces);
        for (char *save = NULL, *ns = strtok_r (list, ",", &save); ns;
             ns = strtok_r (NULL, ",", &save))
            if (strcmp (ns, "pid") != 0 && strcmp (ns, "mount") != 0) {
                fprintf (stderr, "cairn-agent: --task-namespaces: '%s' is not pid or mount\n",
                         ns);
                exit_code = 2;
                goto done;
            }
        if (geteuid () != 0) {
            fprintf (stderr, "cairn-agent: --task-namespaces needs root\n");
            exit_code = 2;
            goto done;
        }
    }
    isolator = isolator_new (&iso_config);
    if (!isolator) {
        fprintf (stderr, "cairn-agent: --isolation: %s\n", cairn_strerror_last ());
        exit_code = 2;
        goto done;
    }
    if (s_hostname && *s_hostname)
        snprintf (hostname, sizeof hostname, "%s", s_hostname);
    else if (gethostname (hostname, sizeof hostname - 1) < 0)
        snprintf (hostname, sizeof hostname, "localhost");
    shim = s_shim && *s_shim ? xstrdup (s_shim) : s_find_shim ();
    fetcher = s_fetcher && *s_fetcher ? xstrdup (s_fetcher)
                                      : fetcher_find_program (CAIRN_LIBEXECDIR);

    zsys_handler_set (NULL);
    sigfd = util_signalfd ();
    if (sigfd < 0) {
        log_error ("%s", cairn_strerror_last ());
        goto done;
    }
    httpd_options_t http_options = {
        .tls_cert = s_http_tls_cert && *s_http_tls_cert ? s_http_tls_cert : NULL,
        .tls_key = s_http_tls_key && *s_http_tls_key ? s_http_tls_key : NULL,
    };
    srv.httpd = httpd_new_with (s_ip, (int) s_http_port, &http_options);
    if (!srv.httpd) {
        log_error ("%s", cairn_strerror_last ());
        goto done;
    }
    /*  As the master's: with TLS the address the master and its clients
        are told carries its scheme, so whoever reads this agent's files
        knows to speak HTTPS; a bare HOST:PORT means plain HTTP.         */
    char http_address[300];
    snprintf (http_address, sizeof http_address, "%s%s:%d",
              httpd_tls (srv.httpd) ? "https://" : "",
              s_advertise_ip && *s_advertise_ip ? s_advertise_ip : s_ip, httpd_port (srv.httpd));

    srv.loop = zloop_new ();
    agent_config_t config = {
        .work_dir = s_work_dir,
        .hostname = hostname,
        .http_address = http_address,
        .shim_path = shim,
        .shim_launcher = s_shim_launcher,
        .resources = resources,
        .attributes = &attributes,
        .default_kill_grace_ms = s_kill_grace_ms,
        .max_ping_misses = s_ping_misses,
        .fetcher_path = fetcher,
        .fetch_cache_bytes = (uint64_t) s_fetch_cache_mib << 20,
        .usage_interval_ms = s_usage_interval_ms,
        .disk_check_interval_ms = s_disk_interval_ms,
        .gc_delay_ms = s_gc_delay_ms,
        .gc_disk_headroom = s_gc_headroom,
        .max_log_bytes = (uint64_t) s_max_log_mib << 20,
        .switch_user = s_switch_user,
        .default_user = s_default_user,
        .namespaces = s_namespaces,
    };
    srv.agent = agent_new (&config, srv.loop, isolator);
    if (!srv.agent) {
        log_error ("%s", cairn_strerror_last ());
        goto done;
    }
    if (agent_recover (srv.agent) < 0) {
        log_error ("cannot recover: %s", cairn_strerror_last ());
        goto done;
    }
    s_connect (&srv);
    zloop_reader (srv.loop, srv.sock, s_on_master, &srv);
    zloop_reader (srv.loop, httpd_sock (srv.httpd), s_on_http, &srv);
    zmq_pollitem_t sigitem = { NULL, sigfd, ZMQ_POLLIN, 0 };
    zloop_poller (srv.loop, &sigitem, util_on_signal, &srv);
    zloop_timer (srv.loop, 100, 0, s_on_tick, &srv);
    zmq_pollitem_t zkitem = { NULL, srv.zk ? zk_fd (srv.zk) : -1, ZMQ_POLLIN, 0 };
    if (srv.zk)
        zloop_poller (srv.loop, &zkitem, s_on_zk, &srv);
    char *res_text = cairn_resources_format (resources);
    log_info ("agent %s on %s (HTTP %s, %s isolation) offering %s to master %s", hostname,
              s_ip, http_address, isolator_name (isolator), res_text, s_master);
    free (res_text);
    zloop_start (srv.loop);
    exit_code = agent_shutdown_requested (srv.agent) ? 1 : 0;
done:
    /*  A gone agent's tasks are stopped whatever --shutdown-tasks says.  */
    agent_destroy (&srv.agent, s_shutdown_tasks
                   || (srv.agent && agent_shutdown_requested (srv.agent)));
    zloop_destroy (&srv.loop);
    httpd_destroy (&srv.httpd);
    zsock_destroy (&srv.sock);
    isolator_destroy (&isolator);
    cairn_resources_destroy (&resources);
    proto_kv_fini (&attributes);
    free (srv.endpoint);
    zk_destroy (&srv.zk);
    transport_curve_fini (&srv.curve);
    free (fetcher);
    free (shim);
    if (sigfd >= 0)
        close (sigfd);
    flags_free (&s_spec);
    return exit_code;
}
