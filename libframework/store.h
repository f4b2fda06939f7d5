/*  store.h - a durable store in one SQLite file, with group commit: the
    plumbing under the master's registry and the agent's checkpoint.
    Internal (noinst); the modules built on it keep SQLite out of their
    own headers.

    store_open opens DIR/FILE, creating it (not DIR) if needed, with the
    settings that make a commit durable (WAL, synchronous=FULL), an
    exclusive lock for as long as it is open (a second daemon on the same
    work directory is refused), SQLite's quick_check, the file's
    application id (another program's database is refused) and its schema
    version (created, migrated, or refused when newer than this code).
    Every failure is a sentence that names the file and says what to do.

    Changes are buffered in one open transaction, begun by the first
    change after a commit (store_change), and made durable together by
    store_commit, which the owner's loop calls once per pass before it
    sends the messages that depend on them: one fsync per pass, however
    many changes. A batch is all or nothing: if SQLite gave up the open
    transaction (disk full, I/O error), further changes are refused and
    the next store_commit fails, so the caller never acts on a batch
    that is only partly recorded.

    Not thread-safe: one store is used by one thread.                     */
#ifndef CAIRN_STORE_H_INCLUDED
#define CAIRN_STORE_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

typedef struct _store_t store_t;

/*  What a store file is; static data, borrowed for the store's life.     */
typedef struct {
    const char *file;                   /* "registry.db", in the open's DIR */
    uint32_t application_id;            /* in the file header: marks it as ours */
    const char *kind;                   /* "registry": "not a Cairn registry" */
    const char *program;                /* "cairn-master": who owns the file */
    const char *reset_hint;             /* what moving the file away leaves:
                                           "an empty registry that has forgotten
                                           every agent" */
    int version;                        /* the schema version this code writes */
    const char *const *schema;          /* version entries: schema[0] creates
                                           version 1 in an empty file,
                                           schema[v - 1] turns v - 1 into v */
} store_config_t;

typedef struct {
    uint64_t commits;                   /* commits that wrote something */
    uint64_t changes;                   /* changes those commits made durable */
    uint64_t pending;                   /* changes not committed yet */
    uint64_t failures;                  /* batches lost: failed commits */
    int64_t last_commit_us;             /* duration of the last commit */
    int64_t commit_us_total;            /* sum over all commits */
} store_stats_t;

/*  Opens DIR/config->file as described above. Besides the config's
    tables, the file has `schema_version` (one row per version applied:
    version, applied_at, applied_by). Returns NULL with errno and an
    error_set sentence naming the file, leaving no file behind that was
    not there: EBUSY (another process has it open), EACCES (the file or
    DIR is not writable), ENOENT/ENOTDIR (no DIR), EPROTO (another
    program's file, corrupt, or a newer schema), ENOSPC, EIO.             */
store_t *store_open (const char *dir, const store_config_t *config);

/*  Commits what is pending (logging an error if that fails), finalizes
    the statements, closes the file and sets *self_p to NULL. NULL-safe
    and idempotent.                                                        */
void store_close (store_t **self_p);

/*  The file's path, for messages (borrowed).                              */
const char *store_path (store_t *self);

/*  A prepared statement, owned by the store (finalized by store_close).
    NULL with errno and an error_set sentence if SQLite refuses it.        */
sqlite3_stmt *store_prepare (store_t *self, const char *sql);

/*  Runs a statement that changes rows (its parameters bound) inside the
    batch, beginning the batch if none is open, then resets it and clears
    its bindings. Returns the number of rows it changed (a change that
    changed something counts once in stats.pending), or -1 with errno and
    an error_set sentence: then the statement changed nothing and the
    rest of the batch stands, unless SQLite gave the whole batch up (the
    sentence then says it was rolled back; see store_commit).             */
int store_change (store_t *self, sqlite3_stmt *stmt, const char *what);

/*  Steps a query (its parameters bound): 1 when a row is ready (read its
    columns, then store_next again or store_reset), 0 when there are no
    more rows, -1 with errno and an error_set sentence. On 0 and -1 the
    statement is reset and its bindings cleared.                          */
int store_next (store_t *self, sqlite3_stmt *stmt, const char *what);

/*  Resets a statement and clears its bindings; keeps errno.               */
void store_reset (sqlite3_stmt *stmt);

/*  Records SQLite's last error (rc, from a bind or a step) as
    "PATH: [WHAT: ]message (hint)" and returns -1 with errno set (EBUSY,
    EACCES, ENOSPC, EIO, EPROTO, EINVAL...). Use it for bind failures.    */
int store_fail (store_t *self, int rc, const char *what);

/*  store_fail for a bind that failed on stmt, which is then reset (its
    other bindings cleared) so it can be used again. Returns -1.         */
int store_bind_fail (store_t *self, sqlite3_stmt *stmt, int rc, const char *what);

/*  Makes the changes since the last commit durable: one transaction, one
    fdatasync (a few more in the rare commit that also checkpoints the
    WAL), whatever the number of changes. Returns the number of changes
    committed (0 if none: then nothing is written), or -1 with errno and
    an error_set sentence if the batch could not be made durable; then
    none of it is recorded and the caller must not act on it.             */
int store_commit (store_t *self);

/*  True if store_commit has something to do (changes, or a lost batch to
    report).                                                               */
bool store_dirty (store_t *self);

/*  Counters for logs and metrics (borrowed; live until close).           */
const store_stats_t *store_stats (store_t *self);

#endif
