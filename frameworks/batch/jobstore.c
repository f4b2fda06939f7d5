/*  jobstore.c - cairn-batch's durable queue on the shared store.

    Four tables besides the store's schema_version: meta (key/value: the
    framework id, the job sequence), jobs (one row per job, its JSON
    definition as submitted and where it stands), attempts (one row per
    launch of a task, keyed by its task id) and schedules. Rows are
    written whole (INSERT OR REPLACE): a job changes state a handful of
    times, an attempt about three, and group commit makes the batch of a
    loop pass one transaction and one fsync.                             */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cairn.h"
#include "error.h"
#include "jobstore.h"
#include "log.h"
#include "store.h"

#define JOBSTORE_SCHEMA_VERSION 1

static const char s_schema_v1[] =
    "CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE jobs ("
    "  id TEXT PRIMARY KEY NOT NULL,"
    "  seq INTEGER NOT NULL UNIQUE,"
    "  spec TEXT NOT NULL,"
    "  state TEXT NOT NULL,"
    "  message TEXT NOT NULL DEFAULT '',"
    "  submitted_at REAL NOT NULL,"
    "  started_at REAL NOT NULL DEFAULT 0,"
    "  finished_at REAL NOT NULL DEFAULT 0,"
    "  waits_for TEXT NOT NULL DEFAULT '',"
    "  schedule_id TEXT NOT NULL DEFAULT '',"
    "  cancel_requested INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE TABLE attempts ("
    "  task_id TEXT PRIMARY KEY NOT NULL,"
    "  job_id TEXT NOT NULL,"
    "  state TEXT NOT NULL,"
    "  agent_id TEXT NOT NULL DEFAULT '',"
    "  exit_code INTEGER NOT NULL DEFAULT -1,"
    "  message TEXT NOT NULL DEFAULT '',"
    "  stderr_tail TEXT NOT NULL DEFAULT ''"
    ") WITHOUT ROWID;"
    "CREATE INDEX attempts_by_job ON attempts (job_id);"
    "CREATE TABLE schedules ("
    "  id TEXT PRIMARY KEY NOT NULL,"
    "  spec TEXT NOT NULL,"
    "  runs INTEGER NOT NULL DEFAULT 0,"
    "  last_run TEXT NOT NULL DEFAULT '',"
    "  created_at REAL NOT NULL"
    ") WITHOUT ROWID;";

static const char *const s_schema[JOBSTORE_SCHEMA_VERSION] = { s_schema_v1 };

static const store_config_t s_config = {
    .file = "batch.db",
    .application_id = 0x43726e42,       /* "CrnB" */
    .kind = "batch queue",
    .program = "cairn-batch",
    .reset_hint = "an empty queue: every job, its history and the framework id are forgotten, "
                  "and tasks still running are no longer watched",
    .version = JOBSTORE_SCHEMA_VERSION,
    .schema = s_schema,
};

struct _jobstore_t {
    store_t *store;
    sqlite3_stmt *get, *set, *put_job, *put_attempt, *put_schedule, *del_schedule;
    sqlite3_stmt *load_jobs, *load_attempts, *load_schedules;
};

jobstore_t *
jobstore_open (const char *dir)
{
    assert (dir);
    store_t *store = store_open (dir, &s_config);
    if (!store)
        return NULL;
    jobstore_t *self = xzalloc (sizeof *self);
    self->store = store;
    if (!(self->get = store_prepare (store, "SELECT value FROM meta WHERE key = ?1"))
        || !(self->set = store_prepare (store, "INSERT OR REPLACE INTO meta (key, value) "
                                               "VALUES (?1, ?2)"))
        || !(self->put_job = store_prepare (
                 store, "INSERT OR REPLACE INTO jobs (id, seq, spec, state, message, "
                        "submitted_at, started_at, finished_at, waits_for, schedule_id, "
                        "cancel_requested) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"))
        || !(self->put_attempt = store_prepare (
                 store, "INSERT OR REPLACE INTO attempts (task_id, job_id, state, agent_id, "
                        "exit_code, message, stderr_tail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"))
        || !(self->put_schedule = store_prepare (
                 store, "INSERT OR REPLACE INTO schedules (id, spec, runs, last_run, "
                        "created_at) VALUES (?1, ?2, ?3, ?4, ?5)"))
        || !(self->del_schedule = store_prepare (store, "DELETE FROM schedules WHERE id = ?1"))
        || !(self->load_jobs = store_prepare (
                 store, "SELECT id, seq, spec, state, message, submitted_at, started_at, "
                        "finished_at, waits_for, schedule_id, cancel_requested FROM jobs "
                        "ORDER BY seq"))
        || !(self->load_attempts = store_prepare (
                 store, "SELECT task_id, state, agent_id, exit_code, message, stderr_tail "
                        "FROM attempts ORDER BY task_id"))
        || !(self->load_schedules = store_prepare (
                 store, "SELECT id, spec, runs, last_run, created_at FROM schedules "
                        "ORDER BY created_at, id"))) {
        int saved = errno;
        store_close (&self->store);
        free (self);
        errno = saved;
        return NULL;
    }
    return self;
}

void
jobstore_close (jobstore_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    store_close (&(*self_p)->store);
    free (*self_p);
    *self_p = NULL;
}

const char *
jobstore_path (jobstore_t *self)
{
    return store_path (self->store);
}

/*  Binds text (NULL as ""), logging a failure; the failed batch then
    fails its commit.                                                     */
static bool
s_text (jobstore_t *self, sqlite3_stmt *stmt, int i, const char *text)
{
    int rc = sqlite3_bind_text (stmt, i, text ? text : "", -1, SQLITE_TRANSIENT);
    if (rc != SQLITE_OK) {
        store_fail (self->store, rc, "binding a value");
        log_error ("%s", cairn_strerror_last ());
        store_reset (stmt);
        return false;
    }
    return true;
}

static void
s_change (jobstore_t *self, sqlite3_stmt *stmt, const char *what)
{
    if (store_change (self->store, stmt, what) < 0)
        log_error ("%s", cairn_strerror_last ());
}

char *
jobstore_get (jobstore_t *self, const char *key)
{
    if (!s_text (self, self->get, 1, key))
        return NULL;
    char *value = NULL;
    if (store_next (self->store, self->get, "reading meta") == 1) {
        const char *text = (const char *) sqlite3_column_text (self->get, 0);
        value = xstrdup (text ? text : "");
        store_reset (self->get);
    }
    return value;
}

void
jobstore_set (jobstore_t *self, const char *key, const char *value)
{
    if (s_text (self, self->set, 1, key) && s_text (self, self->set, 2, value))
        s_change (self, self->set, "writing meta");
}

void
jobstore_put_job (jobstore_t *self, const jobstore_job_t *j)
{
    sqlite3_stmt *s = self->put_job;
    if (!s_text (self, s, 1, j->id) || !s_text (self, s, 3, j->spec)
        || !s_text (self, s, 4, j->state) || !s_text (self, s, 5, j->message)
        || !s_text (self, s, 9, j->waits_for) || !s_text (self, s, 10, j->schedule_id))
        return;
    sqlite3_bind_int64 (s, 2, j->seq);
    sqlite3_bind_double (s, 6, j->submitted);
    sqlite3_bind_double (s, 7, j->started);
    sqlite3_bind_double (s, 8, j->finished);
    sqlite3_bind_int (s, 11, j->cancel_requested);
    s_change (self, s, "writing a job");
}

void
jobstore_put_attempt (jobstore_t *self, const char *job_id, const jobstore_attempt_t *a)
{
    sqlite3_stmt *s = self->put_attempt;
    if (!s_text (self, s, 1, a->task_id) || !s_text (self, s, 2, job_id)
        || !s_text (self, s, 3, a->state) || !s_text (self, s, 4, a->agent_id)
        || !s_text (self, s, 6, a->message) || !s_text (self, s, 7, a->stderr_tail))
        return;
    sqlite3_bind_int (s, 5, a->exit_code);
    s_change (self, s, "writing an attempt");
}

void
jobstore_put_schedule (jobstore_t *self, const jobstore_schedule_t *sc)
{
    sqlite3_stmt *s = self->put_schedule;
    if (!s_text (self, s, 1, sc->id) || !s_text (self, s, 2, sc->spec)
        || !s_text (self, s, 4, sc->last_run))
        return;
    sqlite3_bind_int64 (s, 3, sc->runs);
    sqlite3_bind_double (s, 5, sc->created);
    s_change (self, s, "writing a schedule");
}

void
jobstore_delete_schedule (jobstore_t *self, const char *id)
{
    if (s_text (self, self->del_schedule, 1, id))
        s_change (self, self->del_schedule, "deleting a schedule");
}

static const char *
s_col (sqlite3_stmt *stmt, int i)
{
    const char *text = (const char *) sqlite3_column_text (stmt, i);
    return text ? text : "";
}

int
jobstore_load (jobstore_t *self, const jobstore_loader_t *loader, void *arg)
{
    int rc;
    while ((rc = store_next (self->store, self->load_schedules, "loading schedules")) == 1) {
        sqlite3_stmt *s = self->load_schedules;
        jobstore_schedule_t sc = {
            .id = s_col (s, 0), .spec = s_col (s, 1), .runs = sqlite3_column_int64 (s, 2),
            .last_run = s_col (s, 3), .created = sqlite3_column_double (s, 4),
        };
        if (loader->schedule)
            loader->schedule (arg, &sc);
    }
    if (rc < 0)
        return -1;
    while ((rc = store_next (self->store, self->load_jobs, "loading jobs")) == 1) {
        sqlite3_stmt *s = self->load_jobs;
        jobstore_job_t j = {
            .id = s_col (s, 0), .seq = sqlite3_column_int64 (s, 1), .spec = s_col (s, 2),
            .state = s_col (s, 3), .message = s_col (s, 4),
            .submitted = sqlite3_column_double (s, 5), .started = sqlite3_column_double (s, 6),
            .finished = sqlite3_column_double (s, 7), .waits_for = s_col (s, 8),
            .schedule_id = s_col (s, 9), .cancel_requested = sqlite3_column_int (s, 10) != 0,
        };
        if (loader->job)
            loader->job (arg, &j);
    }
    if (rc < 0)
        return -1;
    while ((rc = store_next (self->store, self->load_attempts, "loading attempts")) == 1) {
        sqlite3_stmt *s = self->load_attempts;
        jobstore_attempt_t a = {
            .task_id = s_col (s, 0), .state = s_col (s, 1), .agent_id = s_col (s, 2),
            .exit_code = sqlite3_column_int (s, 3), .message = s_col (s, 4),
            .stderr_tail = s_col (s, 5),
        };
        if (loader->attempt)
            loader->attempt (arg, &a);
    }
    return rc < 0 ? -1 : 0;
}

int
jobstore_commit (jobstore_t *self)
{
    return store_commit (self->store);
}

bool
jobstore_dirty (jobstore_t *self)
{
    return store_dirty (self->store);
}
