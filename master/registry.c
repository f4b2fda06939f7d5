/*  registry.c - the master's durable registry of agents, on the store
    (store.h: SQLite, WAL, synchronous=FULL, an exclusive lock, group
    commit, all-or-nothing batches).

    One table, `agents`, keyed by id, besides the store's
    `schema_version`; v2 adds an admitted agent's drain (its grace and
    since when), NULL when it is not draining. Each registry change is one statement that changes
    at most one row; a change that changes nothing (an agent admitted
    again with the same addresses, one marked gone twice) costs nothing
    and leaves nothing to commit, so a reregistration storm after a
    master restart writes nothing.                                       */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "registry.h"
#include "registry-zk.h"
#include "store.h"

/*  v1: the agents, admitted or gone.                                      */
static const char s_schema_v1[] =
    "CREATE TABLE agents ("
    "  id TEXT PRIMARY KEY NOT NULL,"
    "  hostname TEXT NOT NULL,"
    "  http_address TEXT NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('admitted', 'gone')),"
    "  admitted_at REAL NOT NULL,"
    "  gone_at REAL,"
    "  gone_reason TEXT,"
    "  CHECK ((state = 'gone') = (gone_at IS NOT NULL AND gone_reason IS NOT NULL))"
    ") WITHOUT ROWID;";

/*  v2: draining (an operator's decision that must survive a restart).    */
static const char s_schema_v2[] =
    "ALTER TABLE agents ADD COLUMN drain_grace_ms INTEGER;"
    "ALTER TABLE agents ADD COLUMN drain_since REAL;";

static const char *const s_schema[REGISTRY_SCHEMA_VERSION] = { s_schema_v1, s_schema_v2 };

static const store_config_t s_config = {
    .file = "registry.db",
    .application_id = 0x43726e31,       /* "Crn1" */
    .kind = "registry",
    .program = "cairn-master",
    .reset_hint = "an empty registry that has forgotten every agent",
    .version = REGISTRY_SCHEMA_VERSION,
    .schema = s_schema,
};

/*  A new agent, or new addresses for an admitted one; a gone agent or an
    unchanged one is left alone (no row changed tells which).            */
static const char *s_sql_admit =
    "INSERT INTO agents (id, hostname, http_address, state, admitted_at)"
    " VALUES (?1, ?2, ?3, 'admitted', ?4)"
    " ON CONFLICT (id) DO UPDATE SET"
    "  hostname = excluded.hostname, http_address = excluded.http_address"
    " WHERE agents.state = 'admitted'"
    "  AND (agents.hostname != excluded.hostname"
    "       OR agents.http_address != excluded.http_address)";
static const char *s_sql_gone =
    "UPDATE agents SET state = 'gone', gone_at = ?2, gone_reason = ?3"
    " WHERE id = ?1 AND state = 'admitted'";
static const char *s_sql_forget =
    "DELETE FROM agents WHERE id = ?1 AND state = 'gone'";
static const char *s_sql_state =
    "SELECT state FROM agents WHERE id = ?1";
static const char *s_sql_load =
    "SELECT id, hostname, http_address, state, admitted_at, gone_at, gone_reason,"
    "  drain_grace_ms, drain_since"
    " FROM agents ORDER BY id";
/*  NULLs (?2, ?3) undrain.                                                */
static const char *s_sql_drain =
    "UPDATE agents SET drain_grace_ms = ?2, drain_since = ?3"
    " WHERE id = ?1 AND state = 'admitted'"
    "  AND (drain_grace_ms IS NOT ?2 OR drain_since IS NOT ?3)";

/*  Where a record stands (s_state_of).                                    */
typedef enum { RECORD_UNKNOWN, RECORD_ADMITTED, RECORD_GONE } record_state_t;

struct _registry_t {
    zkreg_t *zk;                        /* in ZooKeeper (--zk): all goes there */
    store_t *store;
    sqlite3_stmt *admit, *gone, *forget, *state, *load, *drain;
    registry_stats_t stats;             /* registry_stats' copy of the store's */
};

registry_t *
registry_open (const char *dir)
{
    assert (dir);
    store_t *store = store_open (dir, &s_config);
    if (!store)
        return NULL;
    registry_t *self = xzalloc (sizeof *self);
    self->store = store;
    if (!(self->admit = store_prepare (store, s_sql_admit))
        || !(self->gone = store_prepare (store, s_sql_gone))
        || !(self->forget = store_prepare (store, s_sql_forget))
        || !(self->state = store_prepare (store, s_sql_state))
        || !(self->load = store_prepare (store, s_sql_load))
        || !(self->drain = store_prepare (store, s_sql_drain))) {
        int saved = errno;
        store_close (&self->store);
        free (self);
        errno = saved;
        return NULL;
    }
    return self;
}

registry_t *
registry_open_zk (void *zh, const char *root, const char *check, int session_timeout_ms)
{
    zkreg_t *zk = zkreg_open (zh, root, check, session_timeout_ms);
    if (!zk)
        return NULL;
    registry_t *self = xzalloc (sizeof *self);
    self->zk = zk;
    return self;
}

void
registry_close (registry_t **self_p)
{
    assert (self_p);
    registry_t *self = *self_p;
    if (!self)
        return;
    zkreg_close (&self->zk);
    store_close (&self->store);         /* commits what is pending */
    free (self);
    *self_p = NULL;
}

const char *
registry_path (registry_t *self)
{
    assert (self);
    if (self->zk)
        return zkreg_path (self->zk);
    return store_path (self->store);
}

int
registry_load (registry_t *self, void (*fn) (const registry_agent_t *agent, void *arg),
               void *arg)
{
    assert (self);
    if (self->zk)
        return zkreg_load (self->zk, fn, arg);
    assert (fn);
    sqlite3_stmt *stmt = self->load;
    int count = 0, rc;
    while ((rc = store_next (self->store, stmt, "loading agents")) == 1) {
        const char *id = (const char *) sqlite3_column_text (stmt, 0);
        const char *hostname = (const char *) sqlite3_column_text (stmt, 1);
        const char *http_address = (const char *) sqlite3_column_text (stmt, 2);
        const char *state = (const char *) sqlite3_column_text (stmt, 3);
        registry_agent_t agent = {
            .id = id ? id : "",
            .hostname = hostname ? hostname : "",
            .http_address = http_address ? http_address : "",
            .admitted_at = sqlite3_column_double (stmt, 4),
        };
        if (sqlite3_column_type (stmt, 7) != SQLITE_NULL) {
            agent.draining = true;
            agent.drain_grace_ms = sqlite3_column_int64 (stmt, 7);
            agent.drain_since = sqlite3_column_double (stmt, 8);
        }
        if (state && strcmp (state, "admitted") == 0)
            agent.state = REGISTRY_AGENT_ADMITTED;
        else if (state && strcmp (state, "gone") == 0) {
            const char *reason = (const char *) sqlite3_column_text (stmt, 6);
            agent.state = REGISTRY_AGENT_GONE;
            agent.gone_at = sqlite3_column_double (stmt, 5);
            agent.gone_reason = reason ? reason : "";
        }
        else {
            error_set (EPROTO, "%s: agent %s has an unknown state '%s'",
                       store_path (self->store), agent.id, state ? state : "(null)");
            store_reset (stmt);
            return -1;
        }
        fn (&agent, arg);
        count++;
    }
    return rc < 0 ? -1 : count;
}

/*  Where an agent stands, or -1 on error.                                 */
static int
s_state_of (registry_t *self, const char *id)
{
    int rc = sqlite3_bind_text (self->state, 1, id, -1, SQLITE_STATIC);
    if (rc != SQLITE_OK)
        return store_bind_fail (self->store, self->state, rc, "looking up an agent");
    int found = store_next (self->store, self->state, "looking up an agent");
    if (found <= 0)
        return found < 0 ? -1 : RECORD_UNKNOWN;
    const char *state = (const char *) sqlite3_column_text (self->state, 0);
    int result = state && strcmp (state, "gone") == 0 ? RECORD_GONE : RECORD_ADMITTED;
    store_reset (self->state);
    return result;
}

int
registry_admit_agent (registry_t *self, const char *id, const char *hostname,
                      const char *http_address, double now)
{
    assert (self);
    if (self->zk)
        return zkreg_admit_agent (self->zk, id, hostname, http_address, now);
    assert (id);
    int rc;
    if ((rc = sqlite3_bind_text (self->admit, 1, id, -1, SQLITE_STATIC)) != SQLITE_OK
        || (rc = sqlite3_bind_text (self->admit, 2, hostname ? hostname : "", -1,
                                    SQLITE_STATIC)) != SQLITE_OK
        || (rc = sqlite3_bind_text (self->admit, 3, http_address ? http_address : "", -1,
                                    SQLITE_STATIC)) != SQLITE_OK
        || (rc = sqlite3_bind_double (self->admit, 4, now)) != SQLITE_OK)
        return store_bind_fail (self->store, self->admit, rc, "admitting an agent");
    int changed = store_change (self->store, self->admit, "admitting an agent");
    if (changed != 0)
        return changed < 0 ? -1 : 0;
    int state = s_state_of (self, id);
    if (state < 0)
        return -1;
    if (state == RECORD_GONE)
        return error_set (EPERM, "%s: agent %s was removed (gone); it cannot be admitted"
                          " again", store_path (self->store), id);
    return 0;                           /* admitted already, same addresses */
}

int
registry_mark_gone (registry_t *self, const char *id, const char *reason, double now)
{
    assert (self);
    if (self->zk)
        return zkreg_mark_gone (self->zk, id, reason, now);
    assert (id);
    int rc;
    if ((rc = sqlite3_bind_text (self->gone, 1, id, -1, SQLITE_STATIC)) != SQLITE_OK
        || (rc = sqlite3_bind_double (self->gone, 2, now)) != SQLITE_OK
        || (rc = sqlite3_bind_text (self->gone, 3, reason ? reason : "", -1,
                                    SQLITE_STATIC)) != SQLITE_OK)
        return store_bind_fail (self->store, self->gone, rc, "marking an agent gone");
    int changed = store_change (self->store, self->gone, "marking an agent gone");
    if (changed != 0)
        return changed < 0 ? -1 : 0;
    int state = s_state_of (self, id);
    if (state < 0)
        return -1;
    if (state == RECORD_UNKNOWN)
        return error_set (ENOENT, "%s: no agent %s to mark gone", store_path (self->store),
                          id);
    return 0;                           /* gone already: the first decision stands */
}

int
registry_drain_agent (registry_t *self, const char *id, bool draining, int64_t grace_ms,
                      double since)
{
    assert (self);
    if (self->zk)
        return zkreg_drain_agent (self->zk, id, draining, grace_ms, since);
    assert (id);
    int rc;
    if ((rc = sqlite3_bind_text (self->drain, 1, id, -1, SQLITE_STATIC)) != SQLITE_OK
        || (rc = draining ? sqlite3_bind_int64 (self->drain, 2, grace_ms)
                          : sqlite3_bind_null (self->drain, 2)) != SQLITE_OK
        || (rc = draining ? sqlite3_bind_double (self->drain, 3, since)
                          : sqlite3_bind_null (self->drain, 3)) != SQLITE_OK)
        return store_bind_fail (self->store, self->drain, rc, "recording a drain");
    int changed = store_change (self->store, self->drain, "recording a drain");
    if (changed != 0)
        return changed < 0 ? -1 : 0;
    int state = s_state_of (self, id);
    if (state < 0)
        return -1;
    if (state == RECORD_UNKNOWN)
        return error_set (ENOENT, "%s: no agent %s to drain", store_path (self->store), id);
    if (state == RECORD_GONE)
        return error_set (EPERM, "%s: agent %s is gone", store_path (self->store), id);
    return 0;                           /* already so */
}

int
registry_forget_agent (registry_t *self, const char *id)
{
    assert (self);
    if (self->zk)
        return zkreg_forget_agent (self->zk, id);
    assert (id);
    int rc = sqlite3_bind_text (self->forget, 1, id, -1, SQLITE_STATIC);
    if (rc != SQLITE_OK)
        return store_bind_fail (self->store, self->forget, rc, "forgetting an agent");
    int changed = store_change (self->store, self->forget, "forgetting an agent");
    if (changed != 0)
        return changed < 0 ? -1 : 0;
    int state = s_state_of (self, id);
    if (state < 0)
        return -1;
    if (state == RECORD_UNKNOWN)
        return error_set (ENOENT, "%s: no agent %s to forget", store_path (self->store), id);
    return error_set (EBUSY, "%s: agent %s is still admitted; only a gone agent can be"
                      " forgotten", store_path (self->store), id);
}

int
registry_commit (registry_t *self)
{
    assert (self);
    if (self->zk)
        return zkreg_commit (self->zk);
    return store_commit (self->store);
}

int
registry_weights (registry_t *self, const char *weights, char **stored)
{
    assert (self);
    *stored = NULL;
    return self->zk ? zkreg_weights (self->zk, weights, stored) : 0;
}

bool
registry_dirty (registry_t *self)
{
    assert (self);
    if (self->zk)
        return zkreg_dirty (self->zk);
    return store_dirty (self->store);
}

const registry_stats_t *
registry_stats (registry_t *self)
{
    assert (self);
    if (self->zk)
        return zkreg_stats (self->zk);
    const store_stats_t *s = store_stats (self->store);
    self->stats = (registry_stats_t) {
        .commits = s->commits,
        .changes = s->changes,
        .pending = s->pending,
        .failures = s->failures,
        .last_commit_us = s->last_commit_us,
        .commit_us_total = s->commit_us_total,
    };
    return &self->stats;
}
