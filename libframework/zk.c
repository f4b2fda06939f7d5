/*  zk.c - ZooKeeper for master high availability (zk.h).

    The client's threads only touch the fields under `lock` and write a
    byte to the pipe; everything else runs on the owner's thread in
    zk_update and zk_tick.                                                */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <zookeeper/zookeeper.h>

#include "cairn.h"
#include "error.h"
#include "log.h"
#include "zk.h"

/*  zookeeper.h and czmq.h both define zsock_t and zcert_t, so this file
    cannot include transport.h for clock_mono_ms: the same clock here.    */
static int64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define DATA_MAX 4096           /* a candidate's data */
#define SEQ_DIGITS 10           /* ZooKeeper's sequence suffix */

struct _zk_t {
    char *hosts, *root, *election;
    char *candidate;
    bool list_candidates;
    int timeout_asked;
    zhandle_t *zh;
    int pipe[2];

    pthread_mutex_t lock;       /* the fields below, up to the blank line */
    bool connected, conn_changed, expired, relist, own_lost;
    int granted;                /* the session timeout the ensemble gave */
    int64_t disconnected_at;    /* s_now_ms; 0 while connected */
    int64_t lease_base;         /* send time of the last proof of life */
    int64_t hb_sent;
    bool hb_inflight;

    /*  The owner's thread only.                                          */
    char *own_node;             /* full path */
    char *leader_node;          /* the lowest child's name */
    char *leader_data;
    uint64_t leader_changes, expirations;
    char **cand_data;
    size_t ncand;
    bool retry;                 /* a read or write failed: redo it */
    int64_t last_warned;        /* about an unreachable ensemble */
    int64_t last_start;         /* attempt to start a client, when none runs */

    /*  A candidate's heartbeat thread, and what it may use (a handle and
        path that the owner takes away before closing the session).      */
    pthread_t hb_thread;
    bool hb_started;
    pthread_mutex_t hb_lock;
    pthread_cond_t hb_cond;
    bool hb_stop;
    zhandle_t *hb_zh;
    char *hb_path;
    zoo_op_t hb_op;             /* the heartbeat in flight (one at a time) */
    zoo_op_result_t hb_result;
};

bool
zk_url_is (const char *s)
{
    return s && strncmp (s, "zk://", 5) == 0;
}

int
zk_url_parse (const char *url, char **hosts, char **path)
{
    if (!zk_url_is (url))
        return error_set (EINVAL, "'%s' is not a ZooKeeper URL (zk://HOST:PORT,.../PATH)",
                          url ? url : "");
    const char *h = url + 5;
    const char *slash = strchr (h, '/');
    if (!slash || slash == h)
        return error_set (EINVAL, "'%s' names no %s (zk://HOST:PORT,.../PATH)", url,
                          slash ? "ZooKeeper server" : "path");
    size_t plen = strlen (slash);
    while (plen > 1 && slash[plen - 1] == '/')
        plen--;
    if (plen <= 1)
        return error_set (EINVAL, "'%s' names no path (zk://HOST:PORT,.../PATH)", url);
    /*  Each host is HOST:PORT with a numeric port.                       */
    char *list = xstrndup (h, (size_t) (slash - h));
    for (const char *p = list;;) {
        const char *comma = strchr (p, ',');
        char *tok = xstrndup (p, comma ? (size_t) (comma - p) : strlen (p));
        char *colon = strrchr (tok, ':');
        char *end = NULL;
        long port = colon ? strtol (colon + 1, &end, 10) : 0;
        if (!colon || colon == tok || !end || *end || port < 1 || port > 65535) {
            error_set (EINVAL, "'%s': '%s' is not HOST:PORT", url, tok);
            free (tok);
            free (list);
            return -1;
        }
        free (tok);
        if (!comma)
            break;
        p = comma + 1;
    }
    for (size_t i = 1; i < plen; i++)
        if (slash[i] == '/' && slash[i - 1] == '/') {
            free (list);
            return error_set (EINVAL, "'%s': the path has an empty component", url);
        }
    *hosts = list;
    *path = xstrndup (slash, plen);
    return 0;
}

int
zk_url_check (const char *url)
{
    char *hosts, *path;
    if (zk_url_parse (url, &hosts, &path) < 0)
        return -1;
    free (hosts);
    free (path);
    return 0;
}

static void
s_wake (zk_t *self)
{
    char c = 1;
    ssize_t n = write (self->pipe[1], &c, 1);
    (void) n;                   /* full: a wakeup is pending anyway */
}

/*  ZooKeeper's thread: session events and the election's child watch.    */
static void
s_watcher (zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    (void) zh;
    (void) path;
    zk_t *self = ctx;
    pthread_mutex_lock (&self->lock);
    if (type == ZOO_SESSION_EVENT) {
        if (state == ZOO_CONNECTED_STATE) {
            if (!self->connected)
                self->conn_changed = true;
            int t = zoo_recv_timeout (zh);
            if (t > 0)
                self->granted = t;
            self->connected = true;
            self->disconnected_at = 0;
            self->relist = true;
        }
        else if (state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_AUTH_FAILED_STATE) {
            self->expired = true;
            if (self->connected) {
                self->connected = false;
                self->disconnected_at = s_now_ms ();
                self->conn_changed = true;
            }
        }
        else if (self->connected) {     /* connecting again */
            self->connected = false;
            self->disconnected_at = s_now_ms ();
            self->conn_changed = true;
        }
    }
    else
        self->relist = true;
    pthread_mutex_unlock (&self->lock);
    s_wake (self);
}

static void
s_zk_log (const char *message)
{
    log_debug ("zookeeper client: %s", message);
}

static pthread_once_t s_once = PTHREAD_ONCE_INIT;

static void
s_init_once (void)
{
    zoo_set_debug_level (ZOO_LOG_LEVEL_WARN);
}

static int
s_start (zk_t *self)
{
    pthread_mutex_lock (&self->lock);
    self->connected = false;
    self->expired = false;
    self->own_lost = false;
    self->relist = false;
    self->lease_base = 0;
    self->hb_inflight = false;
    self->disconnected_at = s_now_ms ();
    pthread_mutex_unlock (&self->lock);
    self->zh = zookeeper_init2 (self->hosts, s_watcher, self->timeout_asked, NULL, self, 0,
                                s_zk_log);
    if (!self->zh)
        return error_set (errno ? errno : EIO, "cannot start a ZooKeeper client for %s: %s",
                          self->hosts, strerror (errno ? errno : EIO));
    return 0;
}

/*  ZooKeeper's thread: a heartbeat's answer.                              */
static void
s_heartbeat_done (int rc, const void *data)
{
    zk_t *self = (zk_t *) data;
    if (rc != ZOK && self->hb_result.err == ZNONODE)
        rc = ZNONODE;           /* the check failed: our node is gone */
    bool wake = false;
    pthread_mutex_lock (&self->lock);
    self->hb_inflight = false;
    if (rc == ZOK) {
        if (self->hb_sent > self->lease_base)
            self->lease_base = self->hb_sent;
    }
    else if (rc == ZNONODE) {
        self->own_lost = true;
        wake = true;
    }
    pthread_mutex_unlock (&self->lock);
    if (wake)
        s_wake (self);
}

/*  The heartbeat thread: renews the lease every sixth of the session
    timeout, whatever the owner's loop is doing (a loop busy loading the
    registry must not lose the lease; a frozen process stops this thread
    too, so a frozen leader still loses it).                              */
static void *
s_heartbeat (void *arg)
{
    zk_t *self = arg;
    pthread_mutex_lock (&self->hb_lock);
    while (!self->hb_stop) {
        int interval = zk_session_timeout (self) / 6;
        struct timespec when;
        clock_gettime (CLOCK_MONOTONIC, &when);
        when.tv_sec += interval / 1000;
        when.tv_nsec += (long) (interval % 1000) * 1000000;
        if (when.tv_nsec >= 1000000000) {
            when.tv_sec++;
            when.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait (&self->hb_cond, &self->hb_lock, &when);
        if (self->hb_stop || !self->hb_zh || !self->hb_path)
            continue;
        bool send = false;
        pthread_mutex_lock (&self->lock);
        if (!self->hb_inflight && self->connected) {
            self->hb_inflight = true;
            self->hb_sent = s_now_ms ();
            send = true;
        }
        pthread_mutex_unlock (&self->lock);
        /*  A check in a multi goes through ZooKeeper's leader (a read would
            be answered by the server we talk to, which may be cut off from
            the leader while the session expires there).                  */
        if (send) {
            zoo_check_op_init (&self->hb_op, self->hb_path, -1);
            self->hb_result = (zoo_op_result_t) { 0 };
        }
        if (send && zoo_amulti (self->hb_zh, 1, &self->hb_op, &self->hb_result,
                                s_heartbeat_done, self) != ZOK) {
            pthread_mutex_lock (&self->lock);
            self->hb_inflight = false;
            pthread_mutex_unlock (&self->lock);
        }
    }
    pthread_mutex_unlock (&self->hb_lock);
    return NULL;
}

zk_t *
zk_new (const zk_options_t *options)
{
    pthread_once (&s_once, s_init_once);
    char *hosts, *root;
    if (zk_url_parse (options->url, &hosts, &root) < 0)
        return NULL;
    zk_t *self = xzalloc (sizeof *self);
    self->hosts = hosts;
    self->root = root;
    self->election = xasprintf ("%s/election", root);
    self->candidate = options->candidate ? xstrdup (options->candidate) : NULL;
    self->list_candidates = options->list_candidates;
    self->timeout_asked = options->session_timeout_ms > 0 ? options->session_timeout_ms : 10000;
    pthread_mutex_init (&self->lock, NULL);
    pthread_mutex_init (&self->hb_lock, NULL);
    pthread_condattr_t cattr;
    pthread_condattr_init (&cattr);
    pthread_condattr_setclock (&cattr, CLOCK_MONOTONIC);
    pthread_cond_init (&self->hb_cond, &cattr);
    pthread_condattr_destroy (&cattr);
    if (pipe2 (self->pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
        error_set (errno, "cannot make a pipe: %s", strerror (errno));
        self->pipe[0] = self->pipe[1] = -1;
        zk_destroy (&self);
        return NULL;
    }
    /*  A client that cannot start now (no host resolves, say) is started
        again by zk_tick.                                                  */
    if (s_start (self) < 0)
        log_warn ("%s; trying again", cairn_strerror_last ());
    if (self->candidate) {
        if (pthread_create (&self->hb_thread, NULL, s_heartbeat, self) != 0) {
            error_set (EAGAIN, "cannot start the ZooKeeper heartbeat thread");
            zk_destroy (&self);
            return NULL;
        }
        self->hb_started = true;
    }
    return self;
}

static void
s_free_candidates (zk_t *self)
{
    for (size_t i = 0; i < self->ncand; i++)
        free (self->cand_data[i]);
    free (self->cand_data);
    self->cand_data = NULL;
    self->ncand = 0;
}

static void
s_forget_session (zk_t *self)
{
    pthread_mutex_lock (&self->hb_lock);
    self->hb_zh = NULL;
    free (self->hb_path);
    self->hb_path = NULL;
    pthread_mutex_unlock (&self->hb_lock);
    if (self->zh)
        zookeeper_close (self->zh);
    self->zh = NULL;
    free (self->own_node);
    self->own_node = NULL;
    free (self->leader_node);
    self->leader_node = NULL;
    free (self->leader_data);
    self->leader_data = NULL;
    s_free_candidates (self);
}

void
zk_destroy (zk_t **self_p)
{
    zk_t *self = *self_p;
    if (!self)
        return;
    if (self->hb_started) {
        pthread_mutex_lock (&self->hb_lock);
        self->hb_stop = true;
        pthread_cond_signal (&self->hb_cond);
        pthread_mutex_unlock (&self->hb_lock);
        pthread_join (self->hb_thread, NULL);
    }
    s_forget_session (self);
    if (self->pipe[0] >= 0)
        close (self->pipe[0]);
    if (self->pipe[1] >= 0)
        close (self->pipe[1]);
    pthread_mutex_destroy (&self->lock);
    pthread_mutex_destroy (&self->hb_lock);
    pthread_cond_destroy (&self->hb_cond);
    free (self->hosts);
    free (self->root);
    free (self->election);
    free (self->candidate);
    free (self);
    *self_p = NULL;
}

int
zk_fd (zk_t *self)
{
    return self->pipe[0];
}

/*  Creates path and its parents (persistent, empty) where missing.      */
static int
s_create_path (zhandle_t *zh, const char *path)
{
    char *copy = xstrdup (path);
    int rc = ZOK;
    for (char *p = strchr (copy + 1, '/');; p = strchr (p + 1, '/')) {
        if (p)
            *p = '\0';
        rc = zoo_create (zh, copy, NULL, -1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0);
        if (rc == ZNODEEXISTS)
            rc = ZOK;
        if (p)
            *p = '/';
        if (rc != ZOK || !p)
            break;
    }
    free (copy);
    return rc;
}

static int
s_seq_cmp (const void *a, const void *b)
{
    const char *x = *(const char *const *) a, *y = *(const char *const *) b;
    size_t lx = strlen (x), ly = strlen (y);
    const char *sx = lx > SEQ_DIGITS ? x + lx - SEQ_DIGITS : x;
    const char *sy = ly > SEQ_DIGITS ? y + ly - SEQ_DIGITS : y;
    int c = strcmp (sx, sy);
    return c ? c : strcmp (x, y);
}

static void
s_lease_proof (zk_t *self, int64_t sent)
{
    pthread_mutex_lock (&self->lock);
    if (sent > self->lease_base)
        self->lease_base = sent;
    pthread_mutex_unlock (&self->lock);
}

/*  Puts this candidate's node in the election (finding it again if a
    create that reported a lost connection had made it).                  */
static int
s_stand (zk_t *self)
{
    int64_t t0 = s_now_ms ();
    int rc = s_create_path (self->zh, self->election);
    if (rc != ZOK) {
        log_warn ("ZooKeeper: cannot create %s: %s", self->election, zerror (rc));
        return -1;
    }
    const clientid_t *cid = zoo_client_id (self->zh);
    char prefix[64];
    snprintf (prefix, sizeof prefix, "m-%016" PRIx64 "-", (uint64_t) cid->client_id);
    struct String_vector v = { 0, NULL };
    if ((rc = zoo_get_children (self->zh, self->election, 0, &v)) != ZOK) {
        log_warn ("ZooKeeper: cannot list %s: %s", self->election, zerror (rc));
        return -1;
    }
    for (int i = 0; i < v.count && !self->own_node; i++)
        if (strncmp (v.data[i], prefix, strlen (prefix)) == 0)
            self->own_node = xasprintf ("%s/%s", self->election, v.data[i]);
    deallocate_String_vector (&v);
    /*  Only a write proves the session alive to ZooKeeper's leader (a read
        is answered by whichever server this client talks to): a node
        found again waits for the first heartbeat.                        */
    if (!self->own_node) {
        char *path = xasprintf ("%s/%s", self->election, prefix);
        char made[1024];
        rc = zoo_create (self->zh, path, self->candidate, (int) strlen (self->candidate),
                         &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL | ZOO_SEQUENCE, made,
                         sizeof made);
        free (path);
        if (rc != ZOK) {
            log_warn ("ZooKeeper: cannot join the election under %s: %s", self->election,
                      zerror (rc));
            return -1;
        }
        self->own_node = xstrdup (made);
        s_lease_proof (self, t0);
    }
    pthread_mutex_lock (&self->hb_lock);
    free (self->hb_path);
    self->hb_path = xstrdup (self->own_node);
    self->hb_zh = self->zh;
    pthread_cond_signal (&self->hb_cond);
    pthread_mutex_unlock (&self->hb_lock);
    log_info ("ZooKeeper: standing for election as %s", self->own_node);
    return 0;
}

static char *
s_get (zk_t *self, const char *path, int *rc_out)
{
    char buf[DATA_MAX];
    int len = (int) sizeof buf - 1;
    int rc = zoo_get (self->zh, path, 0, buf, &len, NULL);
    *rc_out = rc;
    if (rc != ZOK)
        return NULL;
    if (len < 0)
        len = 0;
    buf[len] = '\0';
    return xstrdup (buf);
}

/*  Reads the election (arming the child watch again) and its leader.
    Returns ZK_LEADER_CHANGED if the leader changed, 0, or -1 to retry.  */
static int
s_relist (zk_t *self)
{
    for (int attempt = 0; attempt < 5; attempt++) {
        struct String_vector v = { 0, NULL };
        int rc = zoo_wget_children (self->zh, self->election, s_watcher, self, &v);
        if (rc == ZNONODE) {
            /*  No master yet: be told when the election starts.          */
            rc = zoo_wexists (self->zh, self->election, s_watcher, self, NULL);
            if (rc == ZOK)
                continue;       /* created meanwhile */
            if (rc != ZNONODE)
                return -1;
            v.count = 0;
        }
        else if (rc != ZOK) {
            log_debug ("ZooKeeper: cannot list %s: %s", self->election, zerror (rc));
            return -1;
        }
        if (v.count > 1)
            qsort (v.data, (size_t) v.count, sizeof v.data[0], s_seq_cmp);
        if (self->own_node) {
            const char *own = strrchr (self->own_node, '/') + 1;
            bool present = false;
            for (int i = 0; i < v.count && !present; i++)
                present = strcmp (v.data[i], own) == 0;
            if (!present) {
                pthread_mutex_lock (&self->lock);
                self->own_lost = true;
                pthread_mutex_unlock (&self->lock);
                s_wake (self);
            }
        }
        int changed = 0;
        const char *lowest = v.count ? v.data[0] : NULL;
        bool again = false;
        if (!lowest) {
            if (self->leader_node)
                changed = ZK_LEADER_CHANGED;
            free (self->leader_node);
            free (self->leader_data);
            self->leader_node = self->leader_data = NULL;
        }
        else if (!self->leader_node || strcmp (lowest, self->leader_node) != 0) {
            char *path = xasprintf ("%s/%s", self->election, lowest);
            char *data = s_get (self, path, &rc);
            free (path);
            if (rc == ZNONODE)
                again = true;   /* gone meanwhile: list again */
            else if (rc != ZOK) {
                deallocate_String_vector (&v);
                return -1;
            }
            else {
                free (self->leader_node);
                free (self->leader_data);
                self->leader_node = xstrdup (lowest);
                self->leader_data = data;
                changed = ZK_LEADER_CHANGED;
            }
        }
        if (!again && self->list_candidates) {
            s_free_candidates (self);
            self->cand_data = xzalloc ((size_t) (v.count ? v.count : 1) * sizeof (char *));
            for (int i = 0; i < v.count; i++) {
                char *path = xasprintf ("%s/%s", self->election, v.data[i]);
                char *data = s_get (self, path, &rc);
                free (path);
                if (data)
                    self->cand_data[self->ncand++] = data;
            }
        }
        deallocate_String_vector (&v);
        if (again)
            continue;
        if (changed)
            self->leader_changes++;
        return changed;
    }
    return -1;
}

int
zk_update (zk_t *self, int64_t now)
{
    (void) now;
    char buf[256];
    while (read (self->pipe[0], buf, sizeof buf) > 0)
        ;
    pthread_mutex_lock (&self->lock);
    bool expired = self->expired || self->own_lost;
    bool connected = self->connected;
    bool relist = self->relist || self->retry;
    bool conn_changed = self->conn_changed;
    self->relist = false;
    self->conn_changed = false;
    pthread_mutex_unlock (&self->lock);
    int events = conn_changed ? ZK_CONNECTION : 0;
    if (expired) {
        bool had_leader = self->leader_node != NULL;
        log_warn ("ZooKeeper: %s; starting a new session",
                  self->own_node ? "this master's session or election node is gone"
                                 : "the session expired");
        s_forget_session (self);
        self->expirations++;
        self->retry = false;
        events |= ZK_SESSION_EXPIRED;
        if (had_leader) {
            events |= ZK_LEADER_CHANGED;
            self->leader_changes++;
        }
        if (s_start (self) < 0)
            log_error ("%s; trying again", cairn_strerror_last ());
        return events;
    }
    if (!connected || !self->zh)
        return events;
    self->retry = false;
    if (self->candidate && !self->own_node) {
        if (s_stand (self) < 0) {
            self->retry = true;
            return events;
        }
        relist = true;
    }
    if (relist) {
        int rc = s_relist (self);
        if (rc < 0)
            self->retry = true;
        else
            events |= rc;
    }
    return events;
}

void
zk_tick (zk_t *self, int64_t now)
{
    if (!self->zh) {
        if (now - self->last_start >= 1000) {
            self->last_start = now;
            if (s_start (self) == 0)
                log_info ("ZooKeeper client for %s started", self->hosts);
        }
        return;
    }
    /*  The client retries quietly: say when no server has answered for
        longer than the session timeout, every 30 s.                      */
    int64_t off = zk_disconnected_ms (self, now);
    if (off > zk_session_timeout (self) && now - self->last_warned >= 30000) {
        log_warn ("no ZooKeeper server of %s has answered for %" PRId64 " s", self->hosts,
                  off / 1000);
        self->last_warned = now;
    }
    if (self->retry && zk_connected (self))
        s_wake (self);
}

const char *
zk_leader (zk_t *self)
{
    return self->leader_data;
}

char *
zk_leader_field (zk_t *self, const char *key)
{
    if (!self->leader_data)
        return NULL;
    json_t *root = json_loads (self->leader_data, 0, NULL);
    const char *value = json_string_value (json_object_get (root, key));
    char *copy = value ? xstrdup (value) : NULL;
    json_decref (root);
    return copy;
}

bool
zk_leader_moved (zk_t *self, char **endpoint)
{
    char *address = zk_leader_field (self, "address");
    if (!address)
        return false;
    char *now = xasprintf ("tcp://%s", address);
    free (address);
    if (*endpoint && strcmp (*endpoint, now) == 0) {
        free (now);
        return false;
    }
    free (*endpoint);
    *endpoint = now;
    return true;
}

uint64_t
zk_leader_changes (zk_t *self)
{
    return self->leader_changes;
}

bool
zk_connected (zk_t *self)
{
    pthread_mutex_lock (&self->lock);
    bool c = self->connected;
    pthread_mutex_unlock (&self->lock);
    return c;
}

const char *
zk_own_node (zk_t *self)
{
    return self->own_node;
}

bool
zk_elected (zk_t *self)
{
    return self->own_node && self->leader_node
           && strcmp (strrchr (self->own_node, '/') + 1, self->leader_node) == 0;
}

int64_t
zk_lease_until (zk_t *self)
{
    pthread_mutex_lock (&self->lock);
    int64_t base = self->lease_base;
    pthread_mutex_unlock (&self->lock);
    return base ? base + 2 * (int64_t) zk_session_timeout (self) / 3 : 0;
}

bool
zk_leading (zk_t *self, int64_t now)
{
    if (!zk_elected (self))
        return false;
    pthread_mutex_lock (&self->lock);
    bool lost = self->own_lost || self->expired;
    pthread_mutex_unlock (&self->lock);
    return !lost && now < zk_lease_until (self);
}

int64_t
zk_disconnected_ms (zk_t *self, int64_t now)
{
    pthread_mutex_lock (&self->lock);
    int64_t since = self->connected ? 0 : self->disconnected_at;
    pthread_mutex_unlock (&self->lock);
    return since && now > since ? now - since : 0;
}

int
zk_session_timeout (zk_t *self)
{
    /*  The granted one, kept while disconnected (the ensemble may have
        clamped what was asked: the lease must not outlast the session). */
    pthread_mutex_lock (&self->lock);
    int t = self->granted;
    pthread_mutex_unlock (&self->lock);
    return t > 0 && t < self->timeout_asked ? t : self->timeout_asked;
}

size_t
zk_candidates (zk_t *self, const char *const **data)
{
    *data = (const char *const *) self->cand_data;
    return self->ncand;
}

const char *
zk_root (zk_t *self)
{
    return self->root;
}

void *
zk_handle (zk_t *self)
{
    return self->zh;
}

uint64_t
zk_expirations (zk_t *self)
{
    return self->expirations;
}

char *
zk_find_leader (const char *url, const char *key, int timeout_ms)
{
    zk_options_t options = { .url = url, .session_timeout_ms = 4000 };
    zk_t *zk = zk_new (&options);
    if (!zk)
        return NULL;
    int64_t deadline = s_now_ms () + timeout_ms;
    char *value = NULL;
    for (;;) {
        int64_t now = s_now_ms ();
        zk_update (zk, now);
        zk_tick (zk, now);
        if (zk_leader (zk)) {
            if (!(value = zk_leader_field (zk, key)))
                error_set (ENOENT, "the leading master's entry in %s has no '%s'", url, key);
            break;
        }
        if (now >= deadline) {
            error_set (ETIMEDOUT, "no leading master found in %s within %d ms (%s)", url,
                       timeout_ms, zk_connected (zk) ? "no master has been elected"
                                                     : "no ZooKeeper server answered");
            break;
        }
        struct pollfd p = { .fd = zk_fd (zk), .events = POLLIN };
        int wait = (int) (deadline - now);
        poll (&p, 1, wait < 100 ? wait : 100);
    }
    zk_destroy (&zk);
    return value;
}
