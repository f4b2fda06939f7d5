/*  svcdb.c - cairn-service's tables on the store.

    Every table is (key[, version], app_id, doc): the scheduler decides
    what a document says; SQL only finds rows by key. A put that changes
    nothing (the same document again) changes no row, so it costs
    nothing at commit: re-saving an unchanged task on every status
    update writes nothing.                                                */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "store.h"
#include "svcdb.h"

/*  v1: meta, apps, versions, deployments, tasks.                          */
static const char s_schema_v1[] =
    "CREATE TABLE meta ("
    "  name TEXT PRIMARY KEY NOT NULL,"
    "  value TEXT NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE apps ("
    "  id TEXT PRIMARY KEY NOT NULL,"
    "  app_id TEXT NOT NULL,"
    "  doc TEXT NOT NULL"                           /* wanted instances, versions, failure */
    ") WITHOUT ROWID;"
    "CREATE TABLE versions ("
    "  id TEXT NOT NULL,"                           /* the app's id */
    "  version INTEGER NOT NULL,"
    "  app_id TEXT NOT NULL,"
    "  doc TEXT NOT NULL,"                          /* the definition and when */
    "  PRIMARY KEY (id, version)"
    ") WITHOUT ROWID;"
    "CREATE TABLE deployments ("
    "  id TEXT PRIMARY KEY NOT NULL,"
    "  app_id TEXT NOT NULL,"
    "  doc TEXT NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE tasks ("
    "  id TEXT PRIMARY KEY NOT NULL,"
    "  app_id TEXT NOT NULL,"
    "  doc TEXT NOT NULL"                           /* version, agent, host, ports, state */
    ") WITHOUT ROWID;"
    "CREATE INDEX tasks_app ON tasks (app_id);"
    "CREATE TRIGGER apps_delete_versions AFTER DELETE ON apps"
    " BEGIN DELETE FROM versions WHERE id = old.id; END;";

static const char *const s_schema[SVCDB_SCHEMA_VERSION] = { s_schema_v1 };

static const store_config_t s_config = {
    .file = "service.db",
    .application_id = 0x43726e53,       /* "CrnS" */
    .kind = "cairn-service state",
    .program = "cairn-service",
    .reset_hint = "an empty state: cairn-service then forgets its apps and its framework id, "
                  "and the instances it ran are left to the master's failover timeout",
    .version = SVCDB_SCHEMA_VERSION,
    .schema = s_schema,
};

static const char *const s_table_names[SVCDB_TABLES] = {
    "apps", "versions", "deployments", "tasks"
};

struct _svcdb_t {
    store_t *store;
    sqlite3_stmt *get_meta, *set_meta, *del_meta;
    sqlite3_stmt *put[SVCDB_TABLES], *del[SVCDB_TABLES], *load[SVCDB_TABLES];
};

static int
s_prepare (svcdb_t *self)
{
    char sql[512];
    if (!(self->get_meta = store_prepare (self->store, "SELECT value FROM meta WHERE name = ?1"))
        || !(self->set_meta = store_prepare (self->store,
                                             "INSERT INTO meta (name, value) VALUES (?1, ?2)"
                                             " ON CONFLICT (name) DO UPDATE SET"
                                             " value = excluded.value"
                                             " WHERE value IS NOT excluded.value"))
        || !(self->del_meta = store_prepare (self->store, "DELETE FROM meta WHERE name = ?1")))
        return -1;
    for (int t = 0; t < SVCDB_TABLES; t++) {
        const char *name = s_table_names[t];
        bool versioned = t == SVCDB_VERSIONS;
        snprintf (sql, sizeof sql,
                  versioned
                  ? "INSERT INTO %s (id, version, app_id, doc) VALUES (?1, ?2, ?3, ?4)"
                    " ON CONFLICT (id, version) DO UPDATE SET doc = excluded.doc"
                    " WHERE doc IS NOT excluded.doc"
                  : "INSERT INTO %s (id, app_id, doc) VALUES (?1, ?3, ?4)"
                    " ON CONFLICT (id) DO UPDATE SET app_id = excluded.app_id,"
                    " doc = excluded.doc"
                    " WHERE doc IS NOT excluded.doc OR app_id IS NOT excluded.app_id",
                  name);
        if (!(self->put[t] = store_prepare (self->store, sql)))
            return -1;
        snprintf (sql, sizeof sql, versioned ? "DELETE FROM %s WHERE id = ?1 AND version = ?2"
                                             : "DELETE FROM %s WHERE id = ?1", name);
        if (!(self->del[t] = store_prepare (self->store, sql)))
            return -1;
        snprintf (sql, sizeof sql, versioned
                  ? "SELECT id, app_id, version, doc FROM %s ORDER BY id, version"
                  : "SELECT id, app_id, 0, doc FROM %s ORDER BY id", name);
        if (!(self->load[t] = store_prepare (self->store, sql)))
            return -1;
    }
    return 0;
}

svcdb_t *
svcdb_open (const char *dir)
{
    assert (dir);
    store_t *store = store_open (dir, &s_config);
    if (!store)
        return NULL;
    svcdb_t *self = xzalloc (sizeof *self);
    self->store = store;
    if (s_prepare (self) < 0) {
        int saved = errno;
        store_close (&self->store);
        free (self);
        errno = saved;
        return NULL;
    }
    return self;
}

void
svcdb_close (svcdb_t **self_p)
{
    assert (self_p);
    svcdb_t *self = *self_p;
    if (!self)
        return;
    store_close (&self->store);
    free (self);
    *self_p = NULL;
}

const char *
svcdb_path (svcdb_t *self)
{
    assert (self);
    return store_path (self->store);
}

char *
svcdb_get_meta (svcdb_t *self, const char *name)
{
    assert (self && name);
    int rc = sqlite3_bind_text (self->get_meta, 1, name, -1, SQLITE_STATIC);
    if (rc != SQLITE_OK) {
        store_bind_fail (self->store, self->get_meta, rc, "reading meta");
        return NULL;
    }
    rc = store_next (self->store, self->get_meta, "reading meta");
    if (rc <= 0) {
        if (rc == 0)
            errno = ENOENT;
        return NULL;
    }
    const char *value = (const char *) sqlite3_column_text (self->get_meta, 0);
    char *copy = xstrdup (value ? value : "");
    store_reset (self->get_meta);
    return copy;
}

int
svcdb_set_meta (svcdb_t *self, const char *name, const char *value)
{
    assert (self && name);
    sqlite3_stmt *stmt = value ? self->set_meta : self->del_meta;
    int rc = sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK && value)
        rc = sqlite3_bind_text (stmt, 2, value, -1, SQLITE_STATIC);
    if (rc != SQLITE_OK)
        return store_bind_fail (self->store, stmt, rc, "writing meta");
    return store_change (self->store, stmt, "writing meta") < 0 ? -1 : 0;
}

int
svcdb_put (svcdb_t *self, svcdb_table_t table, const char *key, const char *app_id,
           int64_t version, const char *doc)
{
    assert (self && table < SVCDB_TABLES && key && app_id && doc);
    sqlite3_stmt *stmt = self->put[table];
    int rc;
    if ((rc = sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC)) != SQLITE_OK
        || (table == SVCDB_VERSIONS
            && (rc = sqlite3_bind_int64 (stmt, 2, version)) != SQLITE_OK)
        || (rc = sqlite3_bind_text (stmt, 3, app_id, -1, SQLITE_STATIC)) != SQLITE_OK
        || (rc = sqlite3_bind_text (stmt, 4, doc, -1, SQLITE_STATIC)) != SQLITE_OK)
        return store_bind_fail (self->store, stmt, rc, s_table_names[table]);
    return store_change (self->store, stmt, s_table_names[table]) < 0 ? -1 : 0;
}

int
svcdb_delete (svcdb_t *self, svcdb_table_t table, const char *key, int64_t version)
{
    assert (self && table < SVCDB_TABLES && key);
    sqlite3_stmt *stmt = self->del[table];
    int rc;
    if ((rc = sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC)) != SQLITE_OK
        || (table == SVCDB_VERSIONS
            && (rc = sqlite3_bind_int64 (stmt, 2, version)) != SQLITE_OK))
        return store_bind_fail (self->store, stmt, rc, s_table_names[table]);
    return store_change (self->store, stmt, s_table_names[table]) < 0 ? -1 : 0;
}

int
svcdb_load (svcdb_t *self, svcdb_table_t table, svcdb_row_fn *fn, void *arg)
{
    assert (self && table < SVCDB_TABLES && fn);
    sqlite3_stmt *stmt = self->load[table];
    int count = 0, rc;
    while ((rc = store_next (self->store, stmt, s_table_names[table])) == 1) {
        const char *key = (const char *) sqlite3_column_text (stmt, 0);
        const char *app_id = (const char *) sqlite3_column_text (stmt, 1);
        int64_t version = sqlite3_column_int64 (stmt, 2);
        const char *doc = (const char *) sqlite3_column_text (stmt, 3);
        fn (arg, key ? key : "", app_id ? app_id : "", version, doc ? doc : "");
        count++;
    }
    return rc < 0 ? -1 : count;
}

int
svcdb_commit (svcdb_t *self)
{
    assert (self);
    return store_commit (self->store);
}

bool
svcdb_dirty (svcdb_t *self)
{
    assert (self);
    return store_dirty (self->store);
}
