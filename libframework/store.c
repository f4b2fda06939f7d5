/*  store.c - a durable store in one SQLite file, with group commit.

    The file header's application_id marks the file as the owner's, so
    another program's database put in the work directory is refused
    rather than written to. `schema_version` has one row per schema
    version applied; the newest is the file's version.

    Durability: WAL journal with synchronous=FULL, so COMMIT returns only
    after the WAL (with the commit record) is fsynced: a committed batch
    survives a power loss. (synchronous=NORMAL would skip that fsync and
    could lose the last commits on power loss, though not corrupt the
    file; that is not good enough for decisions already told to peers.)
    WAL makes the commit one sequential append plus one fdatasync instead
    of a rollback journal's several syncs; SQLite checkpoints the WAL into
    the main file every 1000 pages, inside the commit that crosses it.

    locking_mode=EXCLUSIVE: the connection holds an exclusive lock on the
    file for as long as it is open, so a second daemon started on the
    same work directory is refused instead of interleaving writes, and
    the WAL index lives in the heap (no -shm file, no shared memory).

    Batching: every change runs inside one open transaction (BEGIN
    IMMEDIATE at the first change after a commit); store_commit ends it.
    A failed statement is undone by SQLite on its own (no side effects).
    Some failures (disk full, I/O errors) make SQLite roll back the whole
    transaction: then the batch is lost, further changes are refused, and
    the next store_commit fails, so the caller never acts on a batch that
    is only partly recorded.

    Invariants: in_txn == !sqlite3_get_autocommit (db) between calls;
    stats.pending > 0 only while in_txn; while batch_lost, changes are
    refused (and in_txn only if a ROLLBACK failed).                        */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cairn.h"
#include "error.h"
#include "log.h"
#include "store.h"

/*  Bounds the WAL file left behind after a large transaction.             */
#define JOURNAL_SIZE_LIMIT (8 * 1024 * 1024)

static const char *s_schema_version_table =
    "CREATE TABLE schema_version ("
    "  version INTEGER PRIMARY KEY,"
    "  applied_at REAL NOT NULL,"
    "  applied_by TEXT NOT NULL);";

struct _store_t {
    const store_config_t *config;
    char *path;                         /* DIR/FILE */
    sqlite3 *db;
    sqlite3_stmt *begin, *commit, *rollback;
    sqlite3_stmt **stmts;               /* store_prepare's, finalized at close */
    size_t nstmts, stmts_size;
    bool in_txn;                        /* a batch is open */
    bool batch_lost;                    /* SQLite rolled the batch back */
    uint64_t lost;                      /* changes in the lost batch */
    char *lost_reason;                  /* why, for store_commit */
    store_stats_t stats;
};

static int64_t
s_now_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*  The errno for an SQLite result code.                                   */
static int
s_errno_of (int rc, int sys)
{
    switch (rc & 0xff) {
        case SQLITE_NOMEM:
            oom_abort ();
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            return EBUSY;
        case SQLITE_PERM:
        case SQLITE_AUTH:
            return EACCES;
        case SQLITE_READONLY:
            return EACCES;
        case SQLITE_CANTOPEN:
            return sys ? sys : EACCES;
        case SQLITE_FULL:
            return ENOSPC;
        case SQLITE_IOERR:
            return sys ? sys : EIO;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
            return EPROTO;
        case SQLITE_CONSTRAINT:
        case SQLITE_MISMATCH:
        case SQLITE_RANGE:
        case SQLITE_TOOBIG:
            return EINVAL;
        default:
            return EIO;
    }
}

int
store_fail (store_t *self, int rc, const char *what)
{
    assert (self);
    int code = rc & 0xff;
    /*  SQLite records errno only for these; for others it may be stale.  */
    int sys = (code == SQLITE_CANTOPEN || code == SQLITE_IOERR)
                  ? sqlite3_system_errno (self->db) : 0;
    int errnum = s_errno_of (rc, sys);
    const store_config_t *c = self->config;
    char *hint = NULL;
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
        hint = xasprintf (" (is another %s using this work directory?)", c->program);
    else if (code == SQLITE_READONLY)
        hint = xasprintf (" (%s must be able to write the file and its directory, where"
                          " SQLite keeps its write-ahead log)", c->program);
    else if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB)
        hint = xasprintf (" (restore it from a backup, or move it away to start with %s)",
                          c->reset_hint);
    char reason[128] = "";
    if (sys)
        snprintf (reason, sizeof reason, " (%s)", strerror (sys));
    else if (code == SQLITE_IOERR)      /* which I/O: see SQLite's "extended result codes" */
        snprintf (reason, sizeof reason, " (SQLite code %d)", rc);
    char *detail = xasprintf ("%s%s%s%s%s", what ? what : "", what ? ": " : "",
                              sqlite3_errmsg (self->db), reason, hint ? hint : "");
    free (hint);
    char *full;
    if (self->in_txn && sqlite3_get_autocommit (self->db)) {
        /*  Disk full, I/O error...: SQLite gave up the whole transaction.  */
        self->in_txn = false;
        if (self->stats.pending > 0) {
            self->batch_lost = true;
            self->lost = self->stats.pending;
            self->stats.pending = 0;
            free (self->lost_reason);
            self->lost_reason = xstrdup (detail);
            full = xasprintf ("%s: %s; the %" PRIu64 " changes since the last commit were"
                              " rolled back", self->path, detail, self->lost);
        }
        else
            full = xasprintf ("%s: %s", self->path, detail);
    }
    else
        full = xasprintf ("%s: %s", self->path, detail);
    error_set (errnum, "%s", full);
    free (detail);
    free (full);
    return -1;
}

int
store_bind_fail (store_t *self, sqlite3_stmt *stmt, int rc, const char *what)
{
    store_fail (self, rc, what);
    store_reset (stmt);                 /* keeps errno */
    return -1;
}

void
store_reset (sqlite3_stmt *stmt)
{
    int saved = errno;
    sqlite3_reset (stmt);
    sqlite3_clear_bindings (stmt);
    errno = saved;
}

/*  Runs a statement that returns no rows, and resets it.                  */
static int
s_run (store_t *self, sqlite3_stmt *stmt, const char *what)
{
    int rc = sqlite3_step (stmt);
    int result = rc == SQLITE_DONE ? 0 : store_fail (self, rc, what);
    store_reset (stmt);
    return result;
}

/*  Runs SQL that needs no parameters (setup, schema).                     */
static int
s_exec (store_t *self, const char *sql, const char *what)
{
    int rc = sqlite3_exec (self->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : store_fail (self, rc, what);
}

/*  Runs a one-row query and copies its first column as text (or returns
    it as an integer). -1 on error; 1 if there was a row, 0 if none.      */
static int
s_query (store_t *self, const char *sql, const char *what, char *text, size_t size,
         int64_t *number)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL);
    if (rc != SQLITE_OK)
        return store_fail (self, rc, what);
    int found = 0;
    rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW) {
        found = 1;
        if (text) {
            const char *s = (const char *) sqlite3_column_text (stmt, 0);
            snprintf (text, size, "%s", s ? s : "");
        }
        if (number)
            *number = sqlite3_column_int64 (stmt, 0);
    }
    else if (rc != SQLITE_DONE)
        found = store_fail (self, rc, what);
    int saved = errno;
    sqlite3_finalize (stmt);
    errno = saved;
    return found;
}

static int
s_prepare (store_t *self, const char *sql, sqlite3_stmt **stmt)
{
    int rc = sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, NULL);
    return rc == SQLITE_OK ? 0 : store_fail (self, rc, "preparing a statement");
}

sqlite3_stmt *
store_prepare (store_t *self, const char *sql)
{
    assert (self);
    assert (sql);
    sqlite3_stmt *stmt = NULL;
    if (s_prepare (self, sql, &stmt) < 0)
        return NULL;
    if (self->nstmts == self->stmts_size) {
        self->stmts_size = self->stmts_size ? 2 * self->stmts_size : 8;
        self->stmts = xrealloc (self->stmts, self->stmts_size * sizeof *self->stmts);
    }
    self->stmts[self->nstmts++] = stmt;
    return stmt;
}

static void
s_finalize_all (store_t *self)
{
    sqlite3_stmt **own[] = { &self->begin, &self->commit, &self->rollback };
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
        sqlite3_finalize (*own[i]);
        *own[i] = NULL;
    }
    for (size_t i = 0; i < self->nstmts; i++)
        sqlite3_finalize (self->stmts[i]);
    free (self->stmts);
    self->stmts = NULL;
    self->nstmts = self->stmts_size = 0;
}

/*  Applies schema versions from+1 .. config->version, recording each.    */
static int
s_apply_schema (store_t *self, int64_t from)
{
    const store_config_t *c = self->config;
    for (int64_t v = from + 1; v <= c->version; v++) {
        char *sql = xasprintf ("%s INSERT INTO schema_version VALUES (%" PRId64 ","
                               "  (julianday ('now') - 2440587.5) * 86400.0, '%s %s');",
                               c->schema[v - 1], v, c->program, PACKAGE_VERSION);
        int rc = s_exec (self, sql, from == 0 ? "creating the schema" : "upgrading the schema");
        free (sql);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/*  Creates the schema in an empty file, or checks (and upgrades) the one
    it has. Runs inside the opening transaction.                          */
static int
s_check_schema (store_t *self)
{
    const store_config_t *c = self->config;
    int64_t app_id = 0, objects = 0, version = 0;
    if (s_query (self, "PRAGMA application_id", NULL, NULL, 0, &app_id) < 0
        || s_query (self, "SELECT count(*) FROM sqlite_master", NULL, NULL, 0, &objects) < 0)
        return -1;
    if (objects == 0 && app_id == 0) {
        char *sql = xasprintf ("%s PRAGMA application_id = %" PRId32 ";",
                               s_schema_version_table, (int32_t) c->application_id);
        int rc = s_exec (self, sql, "creating the schema");
        free (sql);
        return rc < 0 ? -1 : s_apply_schema (self, 0);
    }
    if (app_id == 0)
        return error_set (EPROTO, "%s: not a Cairn %s (an SQLite database of another"
                          " program: it has tables of its own); move it away", self->path,
                          c->kind);
    if ((uint32_t) app_id != c->application_id)
        return error_set (EPROTO, "%s: not a Cairn %s (an SQLite database of another"
                          " program, application_id 0x%08" PRIx32 "); move it away",
                          self->path, c->kind, (uint32_t) app_id);
    int found = s_query (self, "SELECT max(version) FROM schema_version",
                         "reading the schema version", NULL, 0, &version);
    if (found < 0)
        return -1;
    if (version > c->version)
        return error_set (EPROTO, "%s: schema version %" PRId64 " is newer than this"
                          " %s knows (%d): run a newer %s", self->path, version, c->program,
                          c->version, c->program);
    if (version < 1)
        return error_set (EPROTO, "%s: no schema version recorded: not a Cairn %s",
                          self->path, c->kind);
    return s_apply_schema (self, version);
}

/*  sqlite3_open_v2 failed. SQLite retries read-only after a failed
    read-write open, so its errno is the retry's (ENOENT for a directory
    we may not create in): find the real reason.                          */
static void
s_fail_open (store_t *self, const char *dir, bool existed, int rc)
{
    struct stat st;
    if (stat (dir, &st) < 0)
        error_set (errno, "%s: cannot open: %s: %s", self->path, dir, strerror (errno));
    else if (!S_ISDIR (st.st_mode))
        error_set (ENOTDIR, "%s: cannot open: %s is not a directory", self->path, dir);
    else if (!existed && faccessat (AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) < 0)
        error_set (errno, "%s: cannot create it: directory %s: %s", self->path, dir,
                   strerror (errno));
    else if (existed && faccessat (AT_FDCWD, self->path, R_OK, AT_EACCESS) < 0)
        error_set (errno, "%s: cannot open: %s", self->path, strerror (errno));
    else
        store_fail (self, rc, NULL);
}

store_t *
store_open (const char *dir, const store_config_t *config)
{
    assert (dir);
    assert (config && config->file && config->kind && config->program && config->reset_hint);
    assert (config->version >= 1 && config->schema);
    store_t *self = xzalloc (sizeof *self);
    self->config = config;
    self->path = xasprintf ("%s/%s", dir, config->file);
    bool existed = access (self->path, F_OK) == 0;

    int rc = sqlite3_open_v2 (self->path, &self->db,
                              SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                              NULL);
    if (!self->db)
        oom_abort ();
    if (rc != SQLITE_OK) {
        s_fail_open (self, dir, existed, rc);
        goto error;
    }
    sqlite3_extended_result_codes (self->db, 1);
    if (sqlite3_db_readonly (self->db, "main") == 1) {
        error_set (EACCES, "%s: the file is read-only to this process (check its owner"
                   " and permissions)", self->path);
        goto error;
    }
    /*  EXCLUSIVE before the first read, so WAL never uses shared memory.  */
    char mode[16];
    if (s_exec (self, "PRAGMA locking_mode = EXCLUSIVE", NULL) < 0
        || s_query (self, "PRAGMA journal_mode = WAL", NULL, mode, sizeof mode, NULL) < 0)
        goto error;
    if (strcmp (mode, "wal") != 0) {
        error_set (EIO, "%s: SQLite cannot use a write-ahead log here (journal mode"
                   " stays '%s')", self->path, mode);
        goto error;
    }
    char *pragmas = xasprintf ("PRAGMA synchronous = FULL; PRAGMA journal_size_limit = %d;",
                               JOURNAL_SIZE_LIMIT);
    rc = s_exec (self, pragmas, NULL);
    free (pragmas);
    if (rc < 0)
        goto error;

    /*  The exclusive lock is taken here, so a second opener fails here.   */
    if (s_exec (self, "BEGIN IMMEDIATE", NULL) < 0)
        goto error;
    char check[256];
    if (s_query (self, "PRAGMA quick_check", "checking the file", check, sizeof check,
                 NULL) < 0)
        goto error;
    if (strcmp (check, "ok") != 0) {
        for (char *c = check; *c; c++)     /* one line: SQLite lists problems */
            if (*c == '\n')
                *c = ' ';
        error_set (EPROTO, "%s: the file is corrupt (SQLite quick_check: %s); restore it"
                   " from a backup, or move it away to start with %s", self->path, check,
                   config->reset_hint);
        goto error;
    }
    if (s_check_schema (self) < 0 || s_exec (self, "COMMIT", "creating the schema") < 0)
        goto error;

    if (s_prepare (self, "BEGIN IMMEDIATE", &self->begin) < 0
        || s_prepare (self, "COMMIT", &self->commit) < 0
        || s_prepare (self, "ROLLBACK", &self->rollback) < 0)
        goto error;
    return self;

error:
    {
        int saved = errno;
        s_finalize_all (self);
        sqlite3_close (self->db);       /* rolls back an open transaction */
        if (!existed) {
            /*  Leave nothing behind: the file did not exist before.       */
            const char *suffixes[] = { "", "-wal", "-journal", "-shm" };
            for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
                char *p = xasprintf ("%s%s", self->path, suffixes[i]);
                unlink (p);
                free (p);
            }
        }
        free (self->path);
        free (self);
        errno = saved;
        return NULL;
    }
}

void
store_close (store_t **self_p)
{
    assert (self_p);
    store_t *self = *self_p;
    if (!self)
        return;
    if ((self->in_txn || self->batch_lost) && store_commit (self) < 0)
        log_error ("%s: %s", self->config->kind, cairn_strerror_last ());
    s_finalize_all (self);              /* sqlite3_close rolls back what is left */
    if (sqlite3_close (self->db) != SQLITE_OK)
        log_error ("%s: %s: closing: %s", self->config->kind, self->path,
                   sqlite3_errmsg (self->db));
    free (self->lost_reason);
    free (self->path);
    free (self);
    *self_p = NULL;
}

const char *
store_path (store_t *self)
{
    assert (self);
    return self->path;
}

/*  Opens the batch's transaction if it is not open yet.                   */
static int
s_begin (store_t *self)
{
    if (self->batch_lost)
        return error_set (EIO, "%s: refusing changes: the %" PRIu64 " changes since the last"
                          " commit were lost (%s)", self->path, self->lost, self->lost_reason);
    if (self->in_txn)
        return 0;
    if (s_run (self, self->begin, "starting a transaction") < 0)
        return -1;
    self->in_txn = true;
    return 0;
}

int
store_change (store_t *self, sqlite3_stmt *stmt, const char *what)
{
    assert (self);
    assert (stmt);
    if (s_begin (self) < 0) {
        store_reset (stmt);
        return -1;
    }
    if (s_run (self, stmt, what) < 0)
        return -1;
    int n = sqlite3_changes (self->db);
    if (n > 0)
        self->stats.pending++;
    return n;
}

int
store_next (store_t *self, sqlite3_stmt *stmt, const char *what)
{
    assert (self);
    assert (stmt);
    int rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW)
        return 1;
    int result = rc == SQLITE_DONE ? 0 : store_fail (self, rc, what);
    store_reset (stmt);
    return result;
}

/*  Ends the open transaction, discarding it; in_txn says if that failed. */
static void
s_rollback (store_t *self)
{
    int saved = errno;
    sqlite3_step (self->rollback);
    sqlite3_reset (self->rollback);
    self->in_txn = !sqlite3_get_autocommit (self->db);
    errno = saved;
}

int
store_commit (store_t *self)
{
    assert (self);
    if (self->batch_lost) {
        error_set (EIO, "%s: the %" PRIu64 " changes since the last commit were lost: %s",
                   self->path, self->lost, self->lost_reason);
        self->stats.failures++;
        if (self->in_txn)               /* a failed ROLLBACK: try again */
            s_rollback (self);
        if (!self->in_txn) {
            self->batch_lost = false;
            self->lost = 0;
            free (self->lost_reason);
            self->lost_reason = NULL;
        }
        errno = EIO;
        return -1;
    }
    if (!self->in_txn)
        return 0;
    uint64_t n = self->stats.pending;
    int64_t start = s_now_us ();
    int rc = sqlite3_step (self->commit);
    if (rc != SQLITE_DONE) {
        /*  All or nothing: whatever state COMMIT left, drop the batch.     */
        self->in_txn = false;           /* so store_fail does not count it lost */
        self->stats.pending = 0;
        store_fail (self, rc, "committing");
        int saved = errno;
        sqlite3_reset (self->commit);
        errno = saved;
        if (!sqlite3_get_autocommit (self->db)) {
            s_rollback (self);
            if (self->in_txn) {
                /*  Still open: refuse changes until a ROLLBACK works.      */
                self->batch_lost = true;
                self->lost = n;
                free (self->lost_reason);
                const char *last = cairn_strerror_last ();
                size_t skip = strlen (self->path) + 2;     /* "PATH: " */
                self->lost_reason = xstrdup (strlen (last) > skip ? last + skip : last);
            }
        }
        if (n > 0)
            self->stats.failures++;
        return -1;
    }
    sqlite3_reset (self->commit);
    self->in_txn = false;
    self->stats.pending = 0;
    if (n == 0)
        return 0;                       /* no-op changes only: nothing written */
    int64_t us = s_now_us () - start;
    self->stats.commits++;
    self->stats.changes += n;
    self->stats.last_commit_us = us;
    self->stats.commit_us_total += us;
    return n > INT32_MAX ? INT32_MAX : (int) n;
}

bool
store_dirty (store_t *self)
{
    assert (self);
    return self->stats.pending > 0 || self->batch_lost;
}

const store_stats_t *
store_stats (store_t *self)
{
    assert (self);
    return &self->stats;
}
