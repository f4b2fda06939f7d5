/*  checkpoint.c - the agent's checkpoint, on the store (store.h: SQLite,
    WAL, synchronous=FULL, an exclusive lock, group commit, all-or-nothing
    batches).

    Tables, besides the store's `schema_version`:
      meta (name, value)            text values: agent id, boot id...
      tasks (key, launch, ...)      one row per task, keyed "fw/task"
      updates (key, seq, uuid, status)  unacknowledged status updates
    `launch` and `status` hold a message as the codec encodes it: the
    4-byte header, then the msgpack body (RUN_TASKS with the framework and
    this one task; STATUS_UPDATE), so the codec validates them again on
    load and a future protocol version is told apart by its header.
    Deleting a task deletes its updates (a trigger), so no update is ever
    left without its task.

    Changes that change nothing (a task put again as it is, a meta value
    set to what it was) leave nothing to commit.                          */
#include "config.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "error.h"
#include "store.h"

/*  v1: meta, tasks and their unacknowledged updates.                      */
static const char s_schema_v1[] =
    "CREATE TABLE meta ("
    "  name TEXT PRIMARY KEY NOT NULL,"
    "  value TEXT NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE tasks ("
    "  key TEXT PRIMARY KEY NOT NULL,"              /* "fw/task" */
    "  launch BLOB NOT NULL,"                       /* RUN_TASKS, one task */
    "  run_id TEXT NOT NULL,"
    "  sandbox TEXT NOT NULL,"
    "  run_dir TEXT NOT NULL,"
    "  shim_pid INTEGER NOT NULL,"                  /* 0: none */
    "  shim_start INTEGER NOT NULL,"                /* /proc/PID/stat field 22 */
    "  task_pid INTEGER NOT NULL,"                  /* 0: not started */
    "  state TEXT NOT NULL,"                        /* "TASK_RUNNING" */
    "  kill_requested INTEGER NOT NULL CHECK (kill_requested IN (0, 1)));"
    "CREATE TABLE updates ("
    "  key TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  uuid TEXT NOT NULL,"
    "  status BLOB NOT NULL,"                       /* STATUS_UPDATE */
    "  PRIMARY KEY (key, seq),"
    "  UNIQUE (key, uuid));"
    "CREATE TRIGGER tasks_delete_updates AFTER DELETE ON tasks"
    " BEGIN DELETE FROM updates WHERE key = old.key; END;";

static const char *const s_schema[CHECKPOINT_SCHEMA_VERSION] = { s_schema_v1 };

static const store_config_t s_config = {
    .file = "agent.db",
    .application_id = 0x43726e41,       /* "CrnA" */
    .kind = "agent checkpoint",
    .program = "cairn-agent",
    .reset_hint = "an empty checkpoint (the agent then forgets its tasks: kill them"
                  " and remove their sandboxes first)",
    .version = CHECKPOINT_SCHEMA_VERSION,
    .schema = s_schema,
};

static const char *s_sql_set_meta =
    "INSERT INTO meta (name, value) VALUES (?1, ?2)"
    " ON CONFLICT (name) DO UPDATE SET value = excluded.value"
    " WHERE value IS NOT excluded.value";
static const char *s_sql_get_meta =
    "SELECT value FROM meta WHERE name = ?1";
static const char *s_sql_put_task =
    "INSERT INTO tasks (key, launch, run_id, sandbox, run_dir, shim_pid, shim_start,"
    "  task_pid, state, kill_requested)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
    " ON CONFLICT (key) DO UPDATE SET"
    "  launch = excluded.launch, run_id = excluded.run_id, sandbox = excluded.sandbox,"
    "  run_dir = excluded.run_dir, shim_pid = excluded.shim_pid,"
    "  shim_start = excluded.shim_start, task_pid = excluded.task_pid,"
    "  state = excluded.state, kill_requested = excluded.kill_requested"
    " WHERE launch IS NOT excluded.launch OR run_id IS NOT excluded.run_id"
    "  OR sandbox IS NOT excluded.sandbox OR run_dir IS NOT excluded.run_dir"
    "  OR shim_pid IS NOT excluded.shim_pid OR shim_start IS NOT excluded.shim_start"
    "  OR task_pid IS NOT excluded.task_pid OR state IS NOT excluded.state"
    "  OR kill_requested IS NOT excluded.kill_requested";
static const char *s_sql_remove_task =
    "DELETE FROM tasks WHERE key = ?1";
static const char *s_sql_has_task =
    "SELECT 1 FROM tasks WHERE key = ?1";
/*  Nothing (no row changed) if the task is unknown or the update a
    duplicate; s_has_task tells which.                                    */
static const char *s_sql_append =
    "INSERT INTO updates (key, seq, uuid, status)"
    " SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM tasks WHERE key = ?1)"
    " ON CONFLICT DO NOTHING";
static const char *s_sql_remove_update =
    "DELETE FROM updates WHERE key = ?1 AND uuid = ?2";
static const char *s_sql_load_tasks =
    "SELECT key, launch, run_id, sandbox, run_dir, shim_pid, shim_start, task_pid, state,"
    "  kill_requested FROM tasks ORDER BY key";
static const char *s_sql_load_updates =
    "SELECT key, seq, uuid, status FROM updates ORDER BY key, seq";

struct _checkpoint_t {
    store_t *store;
    sqlite3_stmt *set_meta, *get_meta, *put_task, *remove_task, *has_task, *append,
                 *remove_update, *load_tasks, *load_updates;
    checkpoint_stats_t stats;           /* checkpoint_stats' copy of the store's */
};

checkpoint_t *
checkpoint_open (const char *work_dir)
{
    assert (work_dir);
    store_t *store = store_open (work_dir, &s_config);
    if (!store)
        return NULL;
    checkpoint_t *self = xzalloc (sizeof *self);
    self->store = store;
    if (!(self->set_meta = store_prepare (store, s_sql_set_meta))
        || !(self->get_meta = store_prepare (store, s_sql_get_meta))
        || !(self->put_task = store_prepare (store, s_sql_put_task))
        || !(self->remove_task = store_prepare (store, s_sql_remove_task))
        || !(self->has_task = store_prepare (store, s_sql_has_task))
        || !(self->append = store_prepare (store, s_sql_append))
        || !(self->remove_update = store_prepare (store, s_sql_remove_update))
        || !(self->load_tasks = store_prepare (store, s_sql_load_tasks))
        || !(self->load_updates = store_prepare (store, s_sql_load_updates))) {
        int saved = errno;
        store_close (&self->store);
        free (self);
        errno = saved;
        return NULL;
    }
    return self;
}

void
checkpoint_close (checkpoint_t **self_p)
{
    assert (self_p);
    checkpoint_t *self = *self_p;
    if (!self)
        return;
    store_close (&self->store);         /* commits what is pending */
    free (self);
    *self_p = NULL;
}

const char *
checkpoint_path (checkpoint_t *self)
{
    assert (self);
    return store_path (self->store);
}

/*  Encodes msg as header + body into one malloc'd blob. -1 + EINVAL.     */
static int
s_encode (checkpoint_t *self, const proto_msg_t *msg, const char *key, char **blob,
          size_t *size)
{
    uint8_t hdr[PROTO_HEADER_SIZE];
    char *body = NULL;
    size_t body_size = 0;
    proto_fault_t fault;
    if (proto_encode (msg, hdr, &body, &body_size, &fault) < 0)
        return error_set (EINVAL, "%s: task %s: cannot record a %s: %s",
                          store_path (self->store), key, proto_type_name (msg->type),
                          fault.text);
    *size = PROTO_HEADER_SIZE + body_size;
    *blob = xmalloc (*size);
    memcpy (*blob, hdr, PROTO_HEADER_SIZE);
    memcpy (*blob + PROTO_HEADER_SIZE, body, body_size);
    free (body);
    return 0;
}

/*  Decodes a blob of s_encode as a message of `type`; NULL + EPROTO.     */
static proto_msg_t *
s_decode (checkpoint_t *self, const void *blob, int size, proto_type_t type, const char *key,
          const char *what)
{
    proto_fault_t fault;
    proto_msg_t *msg = NULL;
    if (blob && size >= PROTO_HEADER_SIZE)
        msg = proto_decode (blob, PROTO_HEADER_SIZE, (const char *) blob + PROTO_HEADER_SIZE,
                            (size_t) size - PROTO_HEADER_SIZE, &fault);
    else
        snprintf (fault.text, sizeof fault.text, "%d bytes", size);
    if (msg && msg->type != type) {
        snprintf (fault.text, sizeof fault.text, "a %s, not a %s", proto_type_name (msg->type),
                  proto_type_name (type));
        proto_msg_destroy (&msg);
    }
    if (!msg)
        error_set (EPROTO, "%s: task %s: its %s does not decode (%s); move the file away"
                   " to start with %s", store_path (self->store), key, what, fault.text,
                   s_config.reset_hint);
    return msg;
}

/*  True if a task is recorded (-1 on error).                              */
static int
s_has_task (checkpoint_t *self, const char *key)
{
    int rc = sqlite3_bind_text (self->has_task, 1, key, -1, SQLITE_STATIC);
    if (rc != SQLITE_OK)
        return store_bind_fail (self->store, self->has_task, rc, "looking up a task");
    int found = store_next (self->store, self->has_task, "looking up a task");
    if (found == 1)
        store_reset (self->has_task);
    return found;
}

int
checkpoint_set_meta (checkpoint_t *self, const char *name, const char *value)
{
    assert (self);
    assert (name);
    assert (value);
    int rc;
    if ((rc = sqlite3_bind_text (self->set_meta, 1, name, -1, SQLITE_STATIC)) != SQLITE_OK
        || (rc = sqlite3_bind_text (self->set_meta, 2, value, -1, SQLITE_STATIC)) != SQLITE_OK)
        return store_bind_fail (self->store, self->set_meta, rc, "setting a meta value");
    return store_change (self->store, self->set_meta, "setting a meta value") < 0 ? -1 : 0;
}

char *
checkpoint_get_meta (checkpoint_t *self, const char *name)
{
    assert (self);
    assert (name);
    int rc = sqlite3_bind_text (self->get_meta, 1, name, -1, SQLITE_STATIC);
    if (rc != SQLITE_OK) {
        store_bind_fail (self->store, self->get_meta, rc, "reading a meta value");
        return NULL;
    }
    int found = store_next (self->store, self->get_meta, "reading a meta value");
    if (found < 0)
        return NULL;
    if (found == 0) {
        error_set (ENOENT, "%s: no meta value %s", store_path (self->store), name);
        return NULL;
    }
    const char *value = (const char *) sqlite3_column_text (self->get_meta, 0);
    char *copy = xstrdup (value ? value : "");
    store_reset (self->get_meta);
    return copy;
}

int
checkpoint_put_task (checkpoint_t *self, const checkpoint_task_t *task)
{
    assert (self);
    assert (task && task->framework && task->task);
    const char *fw_id = task->framework->id, *task_id = task->task->task_id;
    if (!fw_id || !*fw_id || !task_id || !*task_id)
        return error_set (EINVAL, "%s: a task without a framework id or task id cannot be"
                          " recorded", store_path (self->store));
    char *key = xasprintf ("%s/%s", fw_id, task_id);
    const char *state = cairn_task_state_name (task->state);
    assert (state);

    /*  The launch as the master sent it, with only this task: borrowed
        pointers, encoded, never freed through the message.               */
    proto_msg_t msg = { .type = PROTO_RUN_TASKS };
    msg.u.run_tasks.framework = (proto_framework_info_t *) task->framework;
    msg.u.run_tasks.tasks.count = 1;
    msg.u.run_tasks.tasks.items = (proto_task_t *) task->task;
    char *blob = NULL;
    size_t size = 0;
    int result = -1;
    if (s_encode (self, &msg, key, &blob, &size) < 0)
        goto done;
    sqlite3_stmt *st = self->put_task;
    int rc;
    if ((rc = sqlite3_bind_text (st, 1, key, -1, SQLITE_STATIC)) != SQLITE_OK
        || (rc = sqlite3_bind_blob64 (st, 2, blob, size, SQLITE_STATIC)) != SQLITE_OK
        || (rc = sqlite3_bind_text (st, 3, task->run_id ? task->run_id : "", -1,
                                    SQLITE_STATIC)) != SQLITE_OK
        || (rc = sqlite3_bind_text (st, 4, task->sandbox ? task->sandbox : "", -1,
                                    SQLITE_STATIC)) != SQLITE_OK
        || (rc = sqlite3_bind_text (st, 5, task->run_dir ? task->run_dir : "", -1,
                                    SQLITE_STATIC)) != SQLITE_OK
        || (rc = sqlite3_bind_int64 (st, 6, task->shim_pid)) != SQLITE_OK
        || (rc = sqlite3_bind_int64 (st, 7, (int64_t) task->shim_start)) != SQLITE_OK
        || (rc = sqlite3_bind_int64 (st, 8, task->task_pid)) != SQLITE_OK
        || (rc = sqlite3_bind_text (st, 9, state, -1, SQLITE_STATIC)) != SQLITE_OK
        || (rc = sqlite3_bind_int (st, 10, task->kill_requested ? 1 : 0)) != SQLITE_OK) {
        store_bind_fail (self->store, st, rc, "recording a task");
        goto done;
    }
    if (store_change (self->store, st, "recording a task") < 0)
        goto done;
    result = 0;
done:
    {
        int saved = errno;
        free (blob);
        free (key);
        errno = saved;
    }
    return result;
}

int
checkpoint_remove_task (checkpoint_t *self, const char *key)
{
    assert (self);
    assert (key);
    int rc = sqlite3_bind_text (self->remove_task, 1, key, -1, SQLITE_STATIC);
    if (rc != SQLITE_OK)
        return store_bind_fail (self->store, self->remove_task, rc, "removing a task");
    int changed = store_change (self->store, self->remove_task, "removing a task");
    if (changed < 0)
        return -1;
    if (changed == 0)
        return error_set (ENOENT, "%s: no task %s to remove", store_path (self->store), key);
    return 0;
}

int
checkpoint_append_update (checkpoint_t *self, const char *key, int64_t seq,
                          const proto_status_t *status)
{
    assert (self);
    assert (key);
    assert (status);
    const char *path = store_path (self->store);
    size_t fw_len = status->framework_id ? strlen (status->framework_id) : 0;
    if (!status->uuid || !*status->uuid || !status->task_id
        || strncmp (key, status->framework_id ? status->framework_id : "", fw_len) != 0
        || key[fw_len] != '/' || strcmp (key + fw_len + 1, status->task_id) != 0)
        return error_set (EINVAL, "%s: task %s: an update without a uuid, or about another"
                          " task (%s/%s), cannot be recorded", path, key,
                          status->framework_id ? status->framework_id : "",
                          status->task_id ? status->task_id : "");
    proto_msg_t msg = { .type = PROTO_STATUS_UPDATE };
    msg.u.status = *status;             /* borrowed: encoded, never freed */
    char *blob = NULL;
    size_t size = 0;
    if (s_encode (self, &msg, key, &blob, &size) < 0)
        return -1;
    sqlite3_stmt *st = self->append;
    int rc, result = -1;
    if ((rc = sqlite3_bind_text (st, 1, key, -1, SQLITE_STATIC)) != SQLITE_OK
        || (rc = sqlite3_bind_int64 (st, 2, seq)) != SQLITE_OK
        || (rc = sqlite3_bind_text (st, 3, status->uuid, -1, SQLITE_STATIC)) != SQLITE_OK
        || (rc = sqlite3_bind_blob64 (st, 4, blob, size, SQLITE_STATIC)) != SQLITE_OK) {
        store_bind_fail (self->store, st, rc, "recording a status update");
        goto done;
    }
    int changed = store_change (self->store, st, "recording a status update");
    if (changed < 0)
        goto done;
    if (changed == 0) {
        int has = s_has_task (self, key);
        if (has == 0)
            error_set (ENOENT, "%s: no task %s to record an update of", path, key);
        else if (has > 0)
            error_set (EEXIST, "%s: task %s already has an update with seq %" PRId64
                       " or uuid %s", path, key, seq, status->uuid);
        goto done;
    }
    result = 0;
done:
    {
        int saved = errno;
        free (blob);
        errno = saved;
    }
    return result;
}

int
checkpoint_remove_update (checkpoint_t *self, const char *key, const char *uuid)
{
    assert (self);
    assert (key);
    assert (uuid);
    int rc;
    if ((rc = sqlite3_bind_text (self->remove_update, 1, key, -1, SQLITE_STATIC)) != SQLITE_OK
        || (rc = sqlite3_bind_text (self->remove_update, 2, uuid, -1,
                                    SQLITE_STATIC)) != SQLITE_OK)
        return store_bind_fail (self->store, self->remove_update, rc, "removing a status update");
    int changed = store_change (self->store, self->remove_update, "removing a status update");
    if (changed < 0)
        return -1;
    if (changed == 0)
        return error_set (ENOENT, "%s: task %s has no update %s", store_path (self->store),
                          key, uuid);
    return 0;
}

static const char *
s_column_text (sqlite3_stmt *stmt, int i)
{
    const char *s = (const char *) sqlite3_column_text (stmt, i);
    return s ? s : "";
}

/*  Loads one row of load_tasks and calls fn; -1 + EPROTO if it is bad.  */
static int
s_load_task (checkpoint_t *self, sqlite3_stmt *st, checkpoint_task_fn *fn, void *arg)
{
    const char *path = store_path (self->store);
    const char *key = s_column_text (st, 0);
    const void *blob = sqlite3_column_blob (st, 1);       /* before its size */
    proto_msg_t *msg = s_decode (self, blob, sqlite3_column_bytes (st, 1), PROTO_RUN_TASKS, key,
                                 "launch");
    if (!msg)
        return -1;
    proto_run_tasks_t *run = &msg->u.run_tasks;
    proto_task_t *task = run->tasks.items;
    char *want = NULL;
    if (run->tasks.count == 1)
        want = xasprintf ("%s/%s", run->framework->id, task->task_id);
    cairn_task_state_t state;
    const char *state_name = s_column_text (st, 8);
    int64_t kill = sqlite3_column_int64 (st, 9);
    int result = -1;
    if (!want || strcmp (want, key) != 0)
        error_set (EPROTO, "%s: task %s: its launch is about another task (%s)", path, key,
                   want ? want : "several tasks");
    else if (cairn_task_state_parse (state_name, &state) < 0)
        error_set (EPROTO, "%s: task %s has an unknown state '%s'", path, key, state_name);
    else {
        checkpoint_task_t t = {
            .key = key,
            .framework = run->framework,
            .task = task,
            .run_id = s_column_text (st, 2),
            .sandbox = s_column_text (st, 3),
            .run_dir = s_column_text (st, 4),
            .shim_pid = (pid_t) sqlite3_column_int64 (st, 5),
            .shim_start = (uint64_t) sqlite3_column_int64 (st, 6),
            .task_pid = (pid_t) sqlite3_column_int64 (st, 7),
            .state = state,
            .kill_requested = kill != 0,
        };
        fn (&t, arg);
        result = 0;
    }
    free (want);
    proto_msg_destroy (&msg);
    return result;
}

/*  Loads one row of load_updates and calls fn; -1 + EPROTO if it is bad. */
static int
s_load_update (checkpoint_t *self, sqlite3_stmt *st, checkpoint_update_fn *fn, void *arg)
{
    const char *key = s_column_text (st, 0);
    int64_t seq = sqlite3_column_int64 (st, 1);
    const char *uuid = s_column_text (st, 2);
    const void *blob = sqlite3_column_blob (st, 3);       /* before its size */
    proto_msg_t *msg = s_decode (self, blob, sqlite3_column_bytes (st, 3), PROTO_STATUS_UPDATE,
                                 key, "status update");
    if (!msg)
        return -1;
    proto_status_t *status = &msg->u.status;
    char *about = xasprintf ("%s/%s", status->framework_id, status->task_id);
    int result = -1;
    if (strcmp (about, key) != 0 || strcmp (status->uuid, uuid) != 0)
        error_set (EPROTO, "%s: task %s: update %" PRId64 " is about another task or"
                   " update (%s, %s)", store_path (self->store), key, seq, about,
                   status->uuid);
    else {
        fn (key, seq, status, arg);
        result = 0;
    }
    free (about);
    proto_msg_destroy (&msg);
    return result;
}

int
checkpoint_load (checkpoint_t *self, checkpoint_task_fn *task_fn,
                 checkpoint_update_fn *update_fn, void *arg)
{
    assert (self);
    assert (task_fn);
    assert (update_fn);
    int count = 0, rc;
    while ((rc = store_next (self->store, self->load_tasks, "loading tasks")) == 1) {
        if (s_load_task (self, self->load_tasks, task_fn, arg) < 0) {
            store_reset (self->load_tasks);
            return -1;
        }
        count++;
    }
    if (rc < 0)
        return -1;
    while ((rc = store_next (self->store, self->load_updates, "loading status updates")) == 1) {
        if (s_load_update (self, self->load_updates, update_fn, arg) < 0) {
            store_reset (self->load_updates);
            return -1;
        }
    }
    return rc < 0 ? -1 : count;
}

int
checkpoint_commit (checkpoint_t *self)
{
    assert (self);
    return store_commit (self->store);
}

bool
checkpoint_dirty (checkpoint_t *self)
{
    assert (self);
    return store_dirty (self->store);
}

const checkpoint_stats_t *
checkpoint_stats (checkpoint_t *self)
{
    assert (self);
    const store_stats_t *s = store_stats (self->store);
    self->stats = (checkpoint_stats_t) {
        .commits = s->commits,
        .changes = s->changes,
        .pending = s->pending,
        .failures = s->failures,
        .last_commit_us = s->last_commit_us,
        .commit_us_total = s->commit_us_total,
    };
    return &self->stats;
}

/*  Process identity  */

/*  Reads a small /proc file into buf (NUL-terminated). -1 with errno.    */
static ssize_t
s_read_small (const char *path, char *buf, size_t size)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = 0;
    while (len < size - 1) {
        ssize_t n = read (fd, buf + len, size - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            close (fd);
            errno = saved;
            return -1;
        }
        if (n == 0)
            break;
        len += (size_t) n;
    }
    close (fd);
    buf[len] = '\0';
    return (ssize_t) len;
}

/*  The state letter (field 3) and start time (field 22) of pid.          */
static int
s_proc_stat (pid_t pid, char *state, uint64_t *start)
{
    char path[64], buf[1024];
    snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
    if (pid <= 0 || s_read_small (path, buf, sizeof buf) < 0) {
        if (pid <= 0 || errno == ENOENT || errno == ESRCH)
            return error_set (ESRCH, "process %d does not exist", (int) pid);
        return error_set (errno, "%s: %s", path, strerror (errno));
    }
    /*  "PID (COMM) S PPID ...": COMM may hold spaces and parentheses, so
        the fields start after the last ')'.                               */
    char *p = strrchr (buf, ')');
    if (!p || p[1] != ' ' || !p[2])
        return error_set (EIO, "%s: cannot parse '%.64s'", path, buf);
    p += 2;
    *state = *p;
    /*  Field 3 is at p; skip 19 fields to reach field 22.                */
    for (int field = 3; field < 22; field++) {
        p = strchr (p, ' ');
        if (!p)
            return error_set (EIO, "%s: fewer than 22 fields", path);
        p++;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull (p, &end, 10);
    if (errno || end == p || (*end != ' ' && *end != '\n' && *end != '\0'))
        return error_set (EIO, "%s: field 22 is not a number", path);
    *start = v;
    return 0;
}

int
checkpoint_proc_start_time (pid_t pid, uint64_t *start)
{
    assert (start);
    char state;
    return s_proc_stat (pid, &state, start);
}

int
checkpoint_same_process (pid_t pid, uint64_t start)
{
    char state;
    uint64_t now_start;
    if (s_proc_stat (pid, &state, &now_start) < 0)
        return errno == ESRCH ? 0 : -1;
    return now_start == start && state != 'Z' && state != 'X' ? 1 : 0;
}

int
checkpoint_boot_id (char id[CHECKPOINT_BOOT_ID_SIZE])
{
    const char *path = "/proc/sys/kernel/random/boot_id";
    char buf[64];
    ssize_t len = s_read_small (path, buf, sizeof buf);
    if (len < 0)
        return error_set (errno, "%s: %s", path, strerror (errno));
    while (len > 0 && isspace ((unsigned char) buf[len - 1]))
        buf[--len] = '\0';
    if (len != CHECKPOINT_BOOT_ID_SIZE - 1)
        return error_set (EIO, "%s: '%s' is not a boot id (36 characters)", path, buf);
    memcpy (id, buf, CHECKPOINT_BOOT_ID_SIZE);
    return 0;
}
