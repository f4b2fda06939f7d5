/*  svcdb.h - cairn-service's durable state: one SQLite file,
    STATE_DIR/service.db, on the shared store (store.h: WAL,
    synchronous=FULL, an exclusive lock, group commit).

    What it keeps: the framework id (meta), the apps (their wanted
    instances, target version, last good version, last failure), every
    kept version's definition, the deployments, and each live task with
    its app, version, agent, host and ports. Rows hold JSON documents
    that the scheduler owns (service.c); this module only files them.

    Changes join the open batch and become durable together at
    svcdb_commit, which the loop calls once per pass before it launches,
    kills, acknowledges or answers anything that depends on them.        */
#ifndef CAIRN_SERVICE_SVCDB_H_INCLUDED
#define CAIRN_SERVICE_SVCDB_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#define SVCDB_SCHEMA_VERSION 1

typedef struct _svcdb_t svcdb_t;

typedef enum {
    SVCDB_APPS,                 /* key: app id */
    SVCDB_VERSIONS,             /* key: app id, with the version number */
    SVCDB_DEPLOYMENTS,          /* key: deployment id */
    SVCDB_TASKS,                /* key: task id */
    SVCDB_TABLES
} svcdb_table_t;

/*  Opens (creating) DIR/service.db. NULL with errno and a sentence
    naming the file (cairn_strerror_last): EBUSY when another
    cairn-service uses the directory, EPROTO for another program's file. */
svcdb_t *svcdb_open (const char *dir);

/*  Commits what is pending and closes. NULL-safe, idempotent.            */
void svcdb_close (svcdb_t **self_p);

const char *svcdb_path (svcdb_t *self);

/*  A meta value (the caller frees), or NULL: errno ENOENT when there is
    none, another errno on failure.                                        */
char *svcdb_get_meta (svcdb_t *self, const char *name);
/*  Sets (value non-NULL) or removes a meta value. 0 or -1.               */
int svcdb_set_meta (svcdb_t *self, const char *name, const char *value);

/*  Inserts or replaces a row. app_id: the app the row belongs to (for
    SVCDB_APPS, the key again); version: SVCDB_VERSIONS only. 0 or -1.    */
int svcdb_put (svcdb_t *self, svcdb_table_t table, const char *key, const char *app_id,
               int64_t version, const char *doc);
/*  Removes a row (version: SVCDB_VERSIONS only); removing an app removes
    its versions too. 0 (also when there was none) or -1.                 */
int svcdb_delete (svcdb_t *self, svcdb_table_t table, const char *key, int64_t version);

/*  Calls fn for every row of a table, in key (then version) order.
    Returns the number of rows, or -1.                                    */
typedef void (svcdb_row_fn) (void *arg, const char *key, const char *app_id, int64_t version,
                             const char *doc);
int svcdb_load (svcdb_t *self, svcdb_table_t table, svcdb_row_fn *fn, void *arg);

/*  Group commit: the number of changes made durable, or -1 (then none of
    the batch is recorded; the caller must not act on it).              */
int svcdb_commit (svcdb_t *self);
bool svcdb_dirty (svcdb_t *self);

#endif
