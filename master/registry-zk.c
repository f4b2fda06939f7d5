/*  registry-zk.c - the registry in ZooKeeper (registry-zk.h).

    The records are held in memory as JSON objects (id -> record, the
    same text as the znode's data), so lookups cost no round trip and a
    change that changes nothing writes nothing, as in the SQLite registry
    (a re-registration storm after a failover commits nothing).         */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <zookeeper/zookeeper.h>

#include "error.h"
#include "log.h"
#include "registry-zk.h"

#define BATCH_OPS 200           /* writes per zoo_multi (well under 1 MB) */
#define LOAD_WINDOW 1000        /* reads in flight while loading */
#define WEIGHTS_MAX 65536       /* bytes of --weights kept in the registry */

struct _zkreg_t {
    zhandle_t *zh;
    char *agents_path;
    char *check;
    int timeout_ms;
    json_t *agents;             /* id -> record */
    json_t *dirty;              /* ids changed since the last commit */
    json_t *on_server;          /* ids that have a znode */
    registry_stats_t stats;
};

static int64_t
s_now_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

zkreg_t *
zkreg_open (void *zh, const char *root, const char *check, int session_timeout_ms)
{
    zkreg_t *self = xzalloc (sizeof *self);
    self->zh = zh;
    self->agents_path = xasprintf ("%s/registry/agents", root);
    self->check = xstrdup (check);
    self->timeout_ms = session_timeout_ms;
    self->agents = json_object ();
    self->dirty = json_object ();
    self->on_server = json_object ();
    char *reg = xasprintf ("%s/registry", root);
    const char *paths[] = { reg, self->agents_path };
    for (size_t i = 0; i < 2; i++) {
        int rc = zoo_create (self->zh, paths[i], NULL, -1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0);
        if (rc != ZOK && rc != ZNODEEXISTS) {
            error_set (EIO, "ZooKeeper: cannot create %s: %s", paths[i], zerror (rc));
            free (reg);
            zkreg_close (&self);
            return NULL;
        }
    }
    free (reg);
    return self;
}

void
zkreg_close (zkreg_t **self_p)
{
    zkreg_t *self = *self_p;
    if (!self)
        return;
    if (json_object_size (self->dirty))
        log_warn ("ZooKeeper registry: %zu change(s) were not committed",
                  json_object_size (self->dirty));
    json_decref (self->agents);
    json_decref (self->dirty);
    json_decref (self->on_server);
    free (self->agents_path);
    free (self->check);
    free (self);
    *self_p = NULL;
}

const char *
zkreg_path (zkreg_t *self)
{
    return self->agents_path;
}

/*  Loading: every node read asynchronously, answers gathered under a lock
    (ZooKeeper reloads 15,000 agents in about a second this way, where a
    read at a time would take tens).                                      */
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int outstanding;
    int error;
    char **data;                /* per child, NULL until read */
} load_t;

typedef struct {
    load_t *load;
    int index;
} load_slot_t;

static void
s_loaded (int rc, const char *value, int len, const struct Stat *stat, const void *arg)
{
    (void) stat;
    const load_slot_t *slot = arg;
    load_t *load = slot->load;
    pthread_mutex_lock (&load->lock);
    if (rc == ZOK)
        load->data[slot->index] = xstrndup (value ? value : "", len > 0 ? (size_t) len : 0);
    else if (rc != ZNONODE && !load->error)
        load->error = rc;       /* a forgotten agent may vanish meanwhile */
    if (--load->outstanding == LOAD_WINDOW / 2 || load->outstanding == 0)
        pthread_cond_signal (&load->cond);
    pthread_mutex_unlock (&load->lock);
}

static int
s_record_state (json_t *rec)
{
    const char *state = json_string_value (json_object_get (rec, "state"));
    if (state && strcmp (state, "admitted") == 0)
        return REGISTRY_AGENT_ADMITTED;
    if (state && strcmp (state, "gone") == 0)
        return REGISTRY_AGENT_GONE;
    return -1;
}

static const char *
s_str (json_t *rec, const char *key)
{
    const char *s = json_string_value (json_object_get (rec, key));
    return s ? s : "";
}

int
zkreg_load (zkreg_t *self, void (*fn) (const registry_agent_t *agent, void *arg), void *arg)
{
    struct String_vector v = { 0, NULL };
    int rc = zoo_get_children (self->zh, self->agents_path, 0, &v);
    if (rc != ZOK)
        return error_set (EIO, "ZooKeeper: cannot list %s: %s", self->agents_path,
                          zerror (rc));
    load_t load = { .outstanding = 0 };
    pthread_mutex_init (&load.lock, NULL);
    pthread_cond_init (&load.cond, NULL);
    load.data = xzalloc ((size_t) (v.count + 1) * sizeof (char *));
    load_slot_t *slots = xzalloc ((size_t) (v.count + 1) * sizeof *slots);
    /*  A window of reads in flight: thousands at once make the client
        slower, and a heartbeat sent meanwhile waits behind all of them. */
    for (int i = 0; i < v.count; i++) {
        pthread_mutex_lock (&load.lock);
        /*  Refill in bursts, when half the window has come back.         */
        if (load.outstanding >= LOAD_WINDOW)
            while (load.outstanding > LOAD_WINDOW / 2)
                pthread_cond_wait (&load.cond, &load.lock);
        bool failed = load.error != 0;
        if (!failed)
            load.outstanding++;
        pthread_mutex_unlock (&load.lock);
        if (failed)
            break;
        slots[i] = (load_slot_t) { &load, i };
        char *path = xasprintf ("%s/%s", self->agents_path, v.data[i]);
        rc = zoo_aget (self->zh, path, 0, s_loaded, &slots[i]);
        free (path);
        if (rc != ZOK) {
            pthread_mutex_lock (&load.lock);
            if (!load.error)
                load.error = rc;
            load.outstanding--;
            pthread_mutex_unlock (&load.lock);
            break;
        }
    }
    pthread_mutex_lock (&load.lock);
    while (load.outstanding > 0)
        pthread_cond_wait (&load.cond, &load.lock);
    pthread_mutex_unlock (&load.lock);
    int count = 0;
    if (load.error)
        count = error_set (EIO, "ZooKeeper: cannot read %s: %s", self->agents_path,
                           zerror (load.error));
    for (int i = 0; i < v.count && count >= 0; i++) {
        if (!load.data[i])
            continue;
        json_error_t jerr;
        json_t *rec = json_loads (load.data[i], 0, &jerr);
        int state = rec ? s_record_state (rec) : -1;
        if (state < 0) {
            count = error_set (EPROTO, "ZooKeeper: %s/%s is not an agent record (%s)",
                               self->agents_path, v.data[i],
                               rec ? "no valid state" : jerr.text);
            json_decref (rec);
            break;
        }
        json_object_set_new (self->agents, v.data[i], rec);
        json_object_set_new (self->on_server, v.data[i], json_true ());
        json_t *grace = json_object_get (rec, "drain_grace_ms");
        registry_agent_t agent = {
            .id = v.data[i],
            .hostname = s_str (rec, "hostname"),
            .http_address = s_str (rec, "http_address"),
            .state = state,
            .admitted_at = json_number_value (json_object_get (rec, "admitted_at")),
            .gone_at = json_number_value (json_object_get (rec, "gone_at")),
            .gone_reason = state == REGISTRY_AGENT_GONE ? s_str (rec, "gone_reason") : NULL,
            .draining = json_is_integer (grace),
            .drain_grace_ms = json_integer_value (grace),
            .drain_since = json_number_value (json_object_get (rec, "drain_since")),
        };
        fn (&agent, arg);
        count++;
    }
    for (int i = 0; i < v.count; i++)
        free (load.data[i]);
    free (load.data);
    free (slots);
    pthread_mutex_destroy (&load.lock);
    pthread_cond_destroy (&load.cond);
    deallocate_String_vector (&v);
    return count;
}

static void
s_dirty (zkreg_t *self, const char *id)
{
    json_object_set_new (self->dirty, id, json_true ());
}

int
zkreg_admit_agent (zkreg_t *self, const char *id, const char *hostname,
                   const char *http_address, double now)
{
    json_t *rec = json_object_get (self->agents, id);
    hostname = hostname ? hostname : "";
    http_address = http_address ? http_address : "";
    if (!rec) {
        rec = json_pack ("{s:s s:s s:s s:f}", "hostname", hostname, "http_address",
                         http_address, "state", "admitted", "admitted_at", now);
        json_object_set_new (self->agents, id, rec);
        s_dirty (self, id);
        return 0;
    }
    if (s_record_state (rec) == REGISTRY_AGENT_GONE)
        return error_set (EPERM, "%s: agent %s was removed (gone); it cannot be admitted"
                          " again", self->agents_path, id);
    if (strcmp (s_str (rec, "hostname"), hostname) == 0
        && strcmp (s_str (rec, "http_address"), http_address) == 0)
        return 0;
    json_object_set_new (rec, "hostname", json_string (hostname));
    json_object_set_new (rec, "http_address", json_string (http_address));
    s_dirty (self, id);
    return 0;
}

int
zkreg_mark_gone (zkreg_t *self, const char *id, const char *reason, double now)
{
    json_t *rec = json_object_get (self->agents, id);
    if (!rec)
        return error_set (ENOENT, "%s: no agent %s to mark gone", self->agents_path, id);
    if (s_record_state (rec) == REGISTRY_AGENT_GONE)
        return 0;               /* the first decision stands */
    json_object_set_new (rec, "state", json_string ("gone"));
    json_object_set_new (rec, "gone_at", json_real (now));
    json_object_set_new (rec, "gone_reason", json_string (reason ? reason : ""));
    json_object_del (rec, "drain_grace_ms");
    json_object_del (rec, "drain_since");
    s_dirty (self, id);
    return 0;
}

int
zkreg_forget_agent (zkreg_t *self, const char *id)
{
    json_t *rec = json_object_get (self->agents, id);
    if (!rec)
        return error_set (ENOENT, "%s: no agent %s to forget", self->agents_path, id);
    if (s_record_state (rec) != REGISTRY_AGENT_GONE)
        return error_set (EBUSY, "%s: agent %s is still admitted; only a gone agent can be"
                          " forgotten", self->agents_path, id);
    json_object_del (self->agents, id);
    s_dirty (self, id);
    return 0;
}

int
zkreg_drain_agent (zkreg_t *self, const char *id, bool draining, int64_t grace_ms,
                   double since)
{
    json_t *rec = json_object_get (self->agents, id);
    if (!rec)
        return error_set (ENOENT, "%s: no agent %s to drain", self->agents_path, id);
    if (s_record_state (rec) == REGISTRY_AGENT_GONE)
        return error_set (EPERM, "%s: agent %s is gone", self->agents_path, id);
    json_t *grace = json_object_get (rec, "drain_grace_ms");
    if (draining) {
        if (json_is_integer (grace) && json_integer_value (grace) == grace_ms
            && json_number_value (json_object_get (rec, "drain_since")) == since)
            return 0;
        json_object_set_new (rec, "drain_grace_ms", json_integer (grace_ms));
        json_object_set_new (rec, "drain_since", json_real (since));
    }
    else {
        if (!grace)
            return 0;
        json_object_del (rec, "drain_grace_ms");
        json_object_del (rec, "drain_since");
    }
    s_dirty (self, id);
    return 0;
}

/*  After a lost connection: which of ids have a node (a write that
    reported the loss may have been applied).                             */
static int
s_refresh (zkreg_t *self, char **ids, int n)
{
    for (int i = 0; i < n; i++) {
        char *path = xasprintf ("%s/%s", self->agents_path, ids[i]);
        int rc = zoo_exists (self->zh, path, 0, NULL);
        free (path);
        if (rc == ZOK)
            json_object_set_new (self->on_server, ids[i], json_true ());
        else if (rc == ZNONODE)
            json_object_del (self->on_server, ids[i]);
        else
            return rc;
    }
    return ZOK;
}

/*  Waits until the session is connected again, up to deadline_us.       */
static bool
s_reconnected (zkreg_t *self, int64_t deadline_us)
{
    while (s_now_us () < deadline_us) {
        int state = zoo_state (self->zh);
        if (state == ZOO_CONNECTED_STATE)
            return true;
        if (state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_AUTH_FAILED_STATE)
            return false;
        usleep (20000);
    }
    return false;
}

/*  One zoo_multi: the check, then a write per id. ZOK, or the error.    */
static int
s_write_batch (zkreg_t *self, char **ids, int n, bool *lost_leadership)
{
    zoo_op_t *ops = xzalloc ((size_t) (n + 1) * sizeof *ops);
    zoo_op_result_t *results = xzalloc ((size_t) (n + 1) * sizeof *results);
    char **paths = xzalloc ((size_t) n * sizeof (char *));
    char **texts = xzalloc ((size_t) n * sizeof (char *));
    int count = 0;
    zoo_check_op_init (&ops[count++], self->check, -1);
    for (int i = 0; i < n; i++) {
        json_t *rec = json_object_get (self->agents, ids[i]);
        bool exists = json_object_get (self->on_server, ids[i]) != NULL;
        paths[i] = xasprintf ("%s/%s", self->agents_path, ids[i]);
        if (rec) {
            texts[i] = json_dumps (rec, JSON_COMPACT | JSON_SORT_KEYS);
            if (exists)
                zoo_set_op_init (&ops[count++], paths[i], texts[i], (int) strlen (texts[i]),
                                 -1, NULL);
            else
                zoo_create_op_init (&ops[count++], paths[i], texts[i],
                                    (int) strlen (texts[i]), &ZOO_OPEN_ACL_UNSAFE, 0, NULL,
                                    0);
        }
        else if (exists)
            zoo_delete_op_init (&ops[count++], paths[i], -1);
    }
    int rc = zoo_multi (self->zh, count, ops, results);
    *lost_leadership = rc != ZOK && results[0].err == ZNONODE;
    if (rc == ZOK)
        for (int i = 0; i < n; i++) {
            if (json_object_get (self->agents, ids[i]))
                json_object_set_new (self->on_server, ids[i], json_true ());
            else
                json_object_del (self->on_server, ids[i]);
        }
    for (int i = 0; i < n; i++) {
        free (paths[i]);
        free (texts[i]);
    }
    free (paths);
    free (texts);
    free (ops);
    free (results);
    return rc;
}

int
zkreg_commit (zkreg_t *self)
{
    size_t n = json_object_size (self->dirty);
    if (n == 0)
        return 0;
    int64_t t0 = s_now_us ();
    /*  From the first lost connection: the session timeout. A session
        that has not reconnected by then has expired at ZooKeeper, and
        another master may lead; one that reconnects before (another
        server took over, or one froze and the client moved on) retries. */
    int64_t deadline = 0;
    char **ids = xzalloc (n * sizeof (char *));
    size_t k = 0;
    const char *key;
    json_t *value;
    json_object_foreach (self->dirty, key, value)
        ids[k++] = xstrdup (key);
    int result = (int) n;
    for (size_t i = 0; i < n && result >= 0; i += BATCH_OPS) {
        int m = (int) (n - i < BATCH_OPS ? n - i : BATCH_OPS);
        for (int attempt = 0;; attempt++) {
            bool lost = false;
            int rc = s_write_batch (self, ids + i, m, &lost);
            if (rc == ZOK) {
                for (int j = 0; j < m; j++)
                    json_object_del (self->dirty, ids[i + j]);
                break;
            }
            if (lost) {
                result = error_set (EPERM, "this master no longer leads (its election node %s"
                                    " is gone): the registry was not written", self->check);
                break;
            }
            if (!deadline)
                deadline = s_now_us () + (int64_t) self->timeout_ms * 1000;
            bool retry = attempt < 5
                         && (rc == ZCONNECTIONLOSS || rc == ZOPERATIONTIMEOUT
                             || rc == ZNODEEXISTS || rc == ZNONODE)
                         && s_reconnected (self, deadline)
                         && s_refresh (self, ids + i, m) == ZOK;
            if (!retry) {
                result = error_set (EIO, "ZooKeeper: cannot write the registry under %s: %s",
                                    self->agents_path, zerror (rc));
                break;
            }
            log_warn ("ZooKeeper registry: a write failed (%s); retrying", zerror (rc));
        }
    }
    for (size_t i = 0; i < n; i++)
        free (ids[i]);
    free (ids);
    int64_t took = s_now_us () - t0;
    if (result < 0)
        self->stats.failures++;
    else {
        self->stats.commits++;
        self->stats.changes += n;
    }
    self->stats.last_commit_us = took;
    self->stats.commit_us_total += took;
    return result;
}

int
zkreg_weights (zkreg_t *self, const char *weights, char **stored)
{
    *stored = NULL;
    /*  agents_path is ROOT/registry/agents: the weights sit beside it.  */
    const char *slash = strrchr (self->agents_path, '/');
    char *path = xasprintf ("%.*s/weights", (int) (slash - self->agents_path),
                            self->agents_path);
    int rc;
    if (weights && strlen (weights) > WEIGHTS_MAX) {
        free (path);
        return error_set (EINVAL, "the role weights are longer than %d bytes: not recorded",
                          WEIGHTS_MAX);
    }
    if (weights) {
        zoo_op_t ops[2];
        zoo_op_result_t results[2];
        zoo_check_op_init (&ops[0], self->check, -1);
        bool exists = zoo_exists (self->zh, path, 0, NULL) == ZOK;
        if (exists)
            zoo_set_op_init (&ops[1], path, weights, (int) strlen (weights), -1, NULL);
        else
            zoo_create_op_init (&ops[1], path, weights, (int) strlen (weights),
                                &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0);
        rc = zoo_multi (self->zh, 2, ops, results);
    }
    else {
        char buf[WEIGHTS_MAX + 1];
        int len = WEIGHTS_MAX;
        struct Stat st;
        rc = zoo_get (self->zh, path, 0, buf, &len, &st);
        if (rc == ZOK && st.dataLength > WEIGHTS_MAX) {
            free (path);
            return error_set (EPROTO, "ZooKeeper: the role weights recorded are %d bytes, "
                              "more than %d: ignored", st.dataLength, WEIGHTS_MAX);
        }
        if (rc == ZOK && len > 0) {
            buf[len] = '\0';
            *stored = xstrdup (buf);
        }
        if (rc == ZNONODE)
            rc = ZOK;
    }
    if (rc != ZOK)
        error_set (EIO, "ZooKeeper: cannot %s %s: %s", weights ? "write" : "read", path,
                   zerror (rc));
    free (path);
    return rc == ZOK ? 0 : -1;
}

bool
zkreg_dirty (zkreg_t *self)
{
    return json_object_size (self->dirty) > 0;
}

const registry_stats_t *
zkreg_stats (zkreg_t *self)
{
    self->stats.pending = json_object_size (self->dirty);
    return &self->stats;
}
