/*  registry.c - the master's durable registry of agents, on SQLite.

    One table, `agents`, keyed by id, plus `schema_version` (one row per
    schema version applied; the newest is the file's version). The file
    header's application_id marks the file as ours, so another program's
    database put in the work directory is refused rather than written to.

    Durability: WAL journal with synchronous=FULL, so COMMIT returns only
    after the WAL (with the commit record) is fsynced: a committed batch
    survives a power loss. (synchronous=NORMAL would skip that fsync and
    could lose the last commits on power loss, though not corrupt the
    file; that is not good enough for decisions already told to peers.)
    WAL makes the commit one sequential append plus one fdatasync instead
    of a rollback journal's several syncs; SQLite checkpoints the WAL into
    the main file every 1000 pages, inside the commit that crosses it.

    locking_mode=EXCLUSIVE: the connection holds an exclusive lock on the
    file for as long as it is open, so a second master started on the same
    work directory is refused instead of interleaving writes, and the WAL
    index lives in the heap (no -shm file, no shared memory).

    Batching: every change runs inside one open transaction (BEGIN
    IMMEDIATE at the first change after a commit); registry_commit ends it.
    A failed statement is undone by SQLite on its own (no side effects).
    Some failures (disk full, I/O errors) make SQLite roll back the whole
    transaction: then the batch is lost, further changes are refused, and
    the next registry_commit fails, so the caller never acts on a batch
    that is only partly recorded.

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

#include <sqlite3.h>

#include "cairn.h"
#include "error.h"
#include "log.h"
#include "registry.h"

/*  "Crn1" in the file header (PRAGMA application_id).                      */
#define APPLICATION_ID 0x43726e31

/*  Bounds the WAL file left behind after a large transaction.             */
#define JOURNAL_SIZE_LIMIT (8 * 1024 * 1024)

static const char *s_schema_v1 =
    "CREATE TABLE schema_version ("
    "  version INTEGER PRIMARY KEY,"
    "  applied_at REAL NOT NULL,"
    "  applied_by TEXT NOT NULL);"
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

/*  A new agent, or new addresses for an admitted one; a gone agent or an
    unchanged one is left alone (sqlite3_changes () == 0 tells which).    */
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

/*  Where a record stands (s_state_of).                                    */
typedef enum { RECORD_UNKNOWN, RECORD_ADMITTED, RECORD_GONE } record_state_t;

struct _registry_t {
    char *path;                         /* DIR/registry.db */
    sqlite3 *db;
    sqlite3_stmt *begin, *commit, *rollback;
    sqlite3_stmt *admit, *gone, *forget, *state;
    bool in_txn;                        /* a batch is open */
    bool batch_lost;                    /* SQLite rolled the batch back */
    uint64_t lost;                      /* changes in the lost batch */
    char *lost_reason;                  /* why, for registry_commit */
    registry_stats_t stats;
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

/*  Records SQLite's last error (rc) as "PATH: [WHAT: ]message (hint)" and
    returns -1 with errno set. If SQLite rolled the open transaction back,
    the batch is marked lost.                                              */
static int
s_fail (registry_t *self, int rc, const char *what)
{
    int code = rc & 0xff;
    /*  SQLite records errno only for these; for others it may be stale.  */
    int sys = (code == SQLITE_CANTOPEN || code == SQLITE_IOERR)
                  ? sqlite3_system_errno (self->db) : 0;
    int errnum = s_errno_of (rc, sys);
    const char *hint = "";
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
        hint = " (is another cairn-master using this work directory?)";
    else if (code == SQLITE_READONLY)
        hint = " (cairn-master must be able to write the file and its directory, where"
               " SQLite keeps its write-ahead log)";
    else if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB)
        hint = " (restore it from a backup, or move it away to start with an"
               " empty registry that has forgotten every agent)";
    char reason[128] = "";
    if (sys)
        snprintf (reason, sizeof reason, " (%s)", strerror (sys));
    else if (code == SQLITE_IOERR)      /* which I/O: see SQLite's "extended result codes" */
        snprintf (reason, sizeof reason, " (SQLite code %d)", rc);
    char *detail = xasprintf ("%s%s%s%s%s", what ? what : "", what ? ": " : "",
                              sqlite3_errmsg (self->db), reason, hint);
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

/*  Runs a statement that returns no rows, and resets it.                  */
static int
s_run (registry_t *self, sqlite3_stmt *stmt, const char *what)
{
    int rc = sqlite3_step (stmt);
    int result = rc == SQLITE_DONE ? 0 : s_fail (self, rc, what);
    int saved = errno;
    sqlite3_reset (stmt);
    sqlite3_clear_bindings (stmt);
    errno = saved;
    return result;
}

/*  Runs SQL that needs no parameters (setup, schema).                     */
static int
s_exec (registry_t *self, const char *sql, const char *what)
{
    int rc = sqlite3_exec (self->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : s_fail (self, rc, what);
}

/*  Runs a one-row query and copies its first column as text (or returns
    it as an integer). -1 on error; 1 if there was a row, 0 if none.      */
static int
s_query (registry_t *self, const char *sql, const char *what, char *text, size_t size,
         int64_t *number)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL);
    if (rc != SQLITE_OK)
        return s_fail (self, rc, what);
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
        found = s_fail (self, rc, what);
    int saved = errno;
    sqlite3_finalize (stmt);
    errno = saved;
    return found;
}

static int
s_prepare (registry_t *self, const char *sql, sqlite3_stmt **stmt)
{
    int rc = sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, NULL);
    return rc == SQLITE_OK ? 0 : s_fail (self, rc, "preparing a statement");
}

static void
s_finalize_all (registry_t *self)
{
    sqlite3_stmt **all[] = { &self->begin, &self->commit, &self->rollback, &self->admit,
                             &self->gone, &self->forget, &self->state };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        sqlite3_finalize (*all[i]);
        *all[i] = NULL;
    }
}

/*  Creates the schema in an empty file, or checks the one it has. Runs
    inside the opening transaction.                                       */
static int
s_check_schema (registry_t *self)
{
    int64_t app_id = 0, objects = 0, version = 0;
    if (s_query (self, "PRAGMA application_id", NULL, NULL, 0, &app_id) < 0
        || s_query (self, "SELECT count(*) FROM sqlite_master", NULL, NULL, 0, &objects) < 0)
        return -1;
    if (objects == 0 && app_id == 0) {
        char *sql = xasprintf ("%s PRAGMA application_id = %d;"
                               " INSERT INTO schema_version VALUES (%d,"
                               "  (julianday ('now') - 2440587.5) * 86400.0, 'cairn-master %s');",
                               s_schema_v1, APPLICATION_ID, REGISTRY_SCHEMA_VERSION,
                               PACKAGE_VERSION);
        int rc = s_exec (self, sql, "creating the schema");
        free (sql);
        return rc;
    }
    if (app_id == 0)
        return error_set (EPROTO, "%s: not a Cairn registry (an SQLite database of another"
                          " program: it has tables of its own); move it away", self->path);
    if (app_id != APPLICATION_ID)
        return error_set (EPROTO, "%s: not a Cairn registry (an SQLite database of another"
                          " program, application_id 0x%08" PRIx64 "); move it away",
                          self->path, (uint64_t) app_id & 0xffffffff);
    int found = s_query (self, "SELECT max(version) FROM schema_version",
                         "reading the schema version", NULL, 0, &version);
    if (found < 0)
        return -1;
    if (version > REGISTRY_SCHEMA_VERSION)
        return error_set (EPROTO, "%s: schema version %" PRId64 " is newer than this"
                          " cairn-master knows (%d): run a newer cairn-master", self->path,
                          version, REGISTRY_SCHEMA_VERSION);
    if (version < 1)
        return error_set (EPROTO, "%s: no schema version recorded: not a Cairn registry",
                          self->path);
    /*  Migrations from older versions go here, in this transaction.       */
    return 0;
}

/*  sqlite3_open_v2 failed. SQLite retries read-only after a failed
    read-write open, so its errno is the retry's (ENOENT for a directory
    we may not create in): find the real reason.                          */
static void
s_fail_open (registry_t *self, const char *dir, bool existed, int rc)
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
        s_fail (self, rc, NULL);
}

registry_t *
registry_open (const char *dir)
{
    assert (dir);
    registry_t *self = xzalloc (sizeof *self);
    self->path = xasprintf ("%s/registry.db", dir);
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
                   " from a backup, or move it away to start with an empty registry",
                   self->path, check);
        goto error;
    }
    if (s_check_schema (self) < 0 || s_exec (self, "COMMIT", "creating the schema") < 0)
        goto error;

    if (s_prepare (self, "BEGIN IMMEDIATE", &self->begin) < 0
        || s_prepare (self, "COMMIT", &self->commit) < 0
        || s_prepare (self, "ROLLBACK", &self->rollback) < 0
        || s_prepare (self, s_sql_admit, &self->admit) < 0
        || s_prepare (self, s_sql_gone, &self->gone) < 0
        || s_prepare (self, s_sql_forget, &self->forget) < 0
        || s_prepare (self, s_sql_state, &self->state) < 0)
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
registry_close (registry_t **self_p)
{
    assert (self_p);
    registry_t *self = *self_p;
    if (!self)
        return;
    if ((self->in_txn || self->batch_lost) && registry_commit (self) < 0)
        log_error ("registry: %s", cairn_strerror_last ());
    s_finalize_all (self);              /* sqlite3_close rolls back what is left */
    if (sqlite3_close (self->db) != SQLITE_OK)
        log_error ("registry: %s: closing: %s", self->path, sqlite3_errmsg (self->db));
    free (self->lost_reason);
    free (self->path);
    free (self);
    *self_p = NULL;
}

const char *
registry_path (registry_t *self)
{
    assert (self);
    return self->path;
}

int
registry_load (registry_t *self, void (*fn) (const registry_agent_t *agent, void *arg),
               void *arg)
{
    assert (self);
    assert (fn);
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2 (self->db,
                                 "SELECT id, hostname, http_address, state, admitted_at,"
                                 " gone_at, gone_reason FROM agents ORDER BY id",
                                 -1, &stmt, NULL);
    if (rc != SQLITE_OK)
        return s_fail (self, rc, "loading agents");
    int count = 0;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
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
        if (state && strcmp (state, "admitted") == 0)
            agent.state = REGISTRY_AGENT_ADMITTED;
        else if (state && strcmp (state, "gone") == 0) {
            const char *reason = (const char *) sqlite3_column_text (stmt, 6);
            agent.state = REGISTRY_AGENT_GONE;
            agent.gone_at = sqlite3_column_double (stmt, 5);
            agent.gone_reason = reason ? reason : "";
        }
        else {
            error_set (EPROTO, "%s: agent %s has an unknown state '%s'", self->path,
                       agent.id, state ? state : "(null)");
            sqlite3_finalize (stmt);
            errno = EPROTO;
            return -1;
        }
        fn (&agent, arg);
        count++;
    }
    int result = rc == SQLITE_DONE ? count : s_fail (self, rc, "loading agents");
    int saved = errno;
    sqlite3_finalize (stmt);
    errno = saved;
    return result;
}

/*  Opens the batch's transaction if it is not open yet.                   */
static int
s_begin (registry_t *self)
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

/*  Where an agent stands, or -1 on error.                                 */
static int
s_state_of (registry_t *self, const char *id)
{
    int rc = sqlite3_bind_text (self->state, 1, id, -1, SQLITE_STATIC);
    if (rc != SQLITE_OK)
        return s_fail (self, rc, "looking up an agent");
    int result;
    rc = sqlite3_step (self->state);
    if (rc == SQLITE_ROW) {
        const char *state = (const char *) sqlite3_column_text (self->state, 0);
        result = state && strcmp (state, "gone") == 0 ? RECORD_GONE : RECORD_ADMITTED;
    }
    else if (rc == SQLITE_DONE)
        result = RECORD_UNKNOWN;
    else
        result = s_fail (self, rc, "looking up an agent");
    int saved = errno;
    sqlite3_reset (self->state);
    sqlite3_clear_bindings (self->state);
    errno = saved;
    return result;
}

int
registry_admit_agent (registry_t *self, const char *id, const char *hostname,
                      const char *http_address, double now)
{
    assert (self);
    assert (id);
    if (s_begin (self) < 0)
        return -1;
    int rc;
    if ((rc = sqlite3_bind_text (self->admit, 1, id, -1, SQLITE_STATIC)) != SQLITE_OK
        || (rc = sqlite3_bind_text (self->admit, 2, hostname ? hostname : "", -1,
                                    SQLITE_STATIC)) != SQLITE_OK
        || (rc = sqlite3_bind_text (self->admit, 3, http_address ? http_address : "", -1,
                                    SQLITE_STATIC)) != SQLITE_OK
        || (rc = sqlite3_bind_double (self->admit, 4, now)) != SQLITE_OK) {
        sqlite3_clear_bindings (self->admit);
        return s_fail (self, rc, "admitting an agent");
    }
    if (s_run (self, self->admit, "admitting an agent") < 0)
        return -1;
    if (sqlite3_changes (self->db) > 0) {
        self->stats.pending++;
        return 0;
    }
    int state = s_state_of (self, id);
    if (state < 0)
        return -1;
    if (state == RECORD_GONE)
        return error_set (EPERM, "%s: agent %s was removed (gone); it cannot be admitted"
                          " again", self->path, id);
    return 0;                           /* admitted already, same addresses */
}

int
registry_mark_gone (registry_t *self, const char *id, const char *reason, double now)
{
    assert (self);
    assert (id);
    if (s_begin (self) < 0)
        return -1;
    int rc;
    if ((rc = sqlite3_bind_text (self->gone, 1, id, -1, SQLITE_STATIC)) != SQLITE_OK
        || (rc = sqlite3_bind_double (self->gone, 2, now)) != SQLITE_OK
        || (rc = sqlite3_bind_text (self->gone, 3, reason ? reason : "", -1,
                                    SQLITE_STATIC)) != SQLITE_OK) {
        sqlite3_clear_bindings (self->gone);
        return s_fail (self, rc, "marking an agent gone");
    }
    if (s_run (self, self->gone, "marking an agent gone") < 0)
        return -1;
    if (sqlite3_changes (self->db) > 0) {
        self->stats.pending++;
        return 0;
    }
    int state = s_state_of (self, id);
    if (state < 0)
        return -1;
    if (state == RECORD_UNKNOWN)
        return error_set (ENOENT, "%s: no agent %s to mark gone", self->path, id);
    return 0;                           /* gone already: the first decision stands */
}

int
registry_forget_agent (registry_t *self, const char *id)
{
    assert (self);
    assert (id);
    if (s_begin (self) < 0)
        return -1;
    int rc = sqlite3_bind_text (self->forget, 1, id, -1, SQLITE_STATIC);
    if (rc != SQLITE_OK)
        return s_fail (self, rc, "forgetting an agent");
    if (s_run (self, self->forget, "forgetting an agent") < 0)
        return -1;
    if (sqlite3_changes (self->db) > 0) {
        self->stats.pending++;
        return 0;
    }
    int state = s_state_of (self, id);
    if (state < 0)
        return -1;
    if (state == RECORD_UNKNOWN)
        return error_set (ENOENT, "%s: no agent %s to forget", self->path, id);
    return error_set (EBUSY, "%s: agent %s is still admitted; only a gone agent can be"
                      " forgotten", self->path, id);
}

/*  Ends the open transaction, discarding it; in_txn says if that failed. */
static void
s_rollback (registry_t *self)
{
    int saved = errno;
    sqlite3_step (self->rollback);
    sqlite3_reset (self->rollback);
    self->in_txn = !sqlite3_get_autocommit (self->db);
    errno = saved;
}

int
registry_commit (registry_t *self)
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
        self->in_txn = false;           /* so s_fail does not count it lost */
        self->stats.pending = 0;
        s_fail (self, rc, "committing");
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
registry_dirty (registry_t *self)
{
    assert (self);
    return self->stats.pending > 0 || self->batch_lost;
}

const registry_stats_t *
registry_stats (registry_t *self)
{
    assert (self);
    return &self->stats;
}
