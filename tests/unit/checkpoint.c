/*  checkpoint.c - unit test of the agent's checkpoint (checkpoint.h).

    Each test works in a fresh temporary directory, as the agent's
    --work-dir. It reads as the agent uses the checkpoint: open, load,
    record tasks and their status updates, commit once per loop pass,
    close; then open again after a crash and find exactly what was
    committed. Then what recovery relies on: a second agent on the same
    work directory is refused, and a process is told apart from another
    with a reused pid by its start time.

    fdatasync and fsync are interposed (below) to count the syncs SQLite
    makes, so the test can check that a commit costs a few syncs however
    many changes it carries, and none while changes are buffered.         */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cairn.h"
#include "checkpoint.h"
#include "error.h"
#include "proto.h"
#include "tap.h"

/*  ------------------------------------------------------------------ */
/*  Plumbing                                                            */
/*  ------------------------------------------------------------------ */

static int s_syncs;                     /* fdatasync + fsync calls so far */

int
fdatasync (int fd)
{
    s_syncs++;
    return (int) syscall (SYS_fdatasync, fd);
}

int
fsync (int fd)
{
    s_syncs++;
    return (int) syscall (SYS_fsync, fd);
}

static char *
s_tempdir (void)
{
    const char *tmp = getenv ("TMPDIR");
    char *dir = xasprintf ("%s/cairn-checkpoint-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp (dir)) {
        printf ("Bail out! mkdtemp %s: %s\n", dir, strerror (errno));
        exit (1);
    }
    return dir;
}

static void
s_rmtree (char *dir)
{
    char *cmd = xasprintf ("rm -rf '%s'", dir);
    if (system (cmd) != 0)
        diag ("could not remove %s", dir);
    free (cmd);
    free (dir);
}

static bool
s_contains (const char *haystack, const char *needle)
{
    return haystack && strstr (haystack, needle) != NULL;
}

static void
s_set (char **dst, const char *src)
{
    free (*dst);
    *dst = xstrdup (src);
}

/*  Runs SQL on DIR/agent.db directly, as another program would.           */
static int
s_raw_sql (const char *dir, const char *sql)
{
    char *path = xasprintf ("%s/agent.db", dir);
    sqlite3 *db = NULL;
    int rc = sqlite3_open (path, &db);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec (db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        diag ("sqlite: %s: %s", path, sqlite3_errmsg (db));
    sqlite3_close (db);
    free (path);
    return rc == SQLITE_OK ? 0 : -1;
}

/*  A task as the agent holds it: the launch and where it runs.            */
typedef struct {
    proto_framework_info_t framework;
    proto_task_t task;
    char run_id[16], sandbox[128], run_dir[128];
    pid_t shim_pid, task_pid;
    uint64_t shim_start;
    cairn_task_state_t state;
    bool kill_requested;
} task_t;

/*  Task `n` of framework fw: the codec's example launch (every field
    set), with its own ids and a variation or two.                        */
static void
s_task_init (task_t *t, const char *fw, int n)
{
    memset (t, 0, sizeof *t);
    proto_msg_t *example = proto_msg_example (PROTO_RUN_TASKS);
    proto_framework_info_copy (&t->framework, example->u.run_tasks.framework);
    proto_task_copy (&t->task, &((proto_task_t *) example->u.run_tasks.tasks.items)[0]);
    proto_msg_destroy (&example);
    s_set (&t->framework.id, fw);
    char id[32];
    snprintf (id, sizeof id, "task-%d", n);
    s_set (&t->task.task_id, id);
    if (n % 2) {
        proto_health_destroy (&t->task.health);
        t->task.kill_grace_ms = -1;
    }
    snprintf (t->run_id, sizeof t->run_id, "run%d", n);
    snprintf (t->sandbox, sizeof t->sandbox, "/work/sandboxes/%s/%s/run%d", fw, id, n);
    snprintf (t->run_dir, sizeof t->run_dir, "/work/run/%s/%s/run%d", fw, id, n);
    t->shim_pid = 1000 + n;
    t->shim_start = 123456789ULL + (uint64_t) n;
    t->task_pid = n % 3 ? 2000 + n : 0;
    t->state = n % 2 ? CAIRN_TASK_RUNNING : CAIRN_TASK_STARTING;
    t->kill_requested = n % 4 == 3;
}

static void
s_task_fini (task_t *t)
{
    proto_framework_info_fini (&t->framework);
    proto_task_fini (&t->task);
}

static checkpoint_task_t
s_view (const task_t *t)
{
    return (checkpoint_task_t) {
        .framework = &t->framework, .task = &t->task, .run_id = t->run_id,
        .sandbox = t->sandbox, .run_dir = t->run_dir, .shim_pid = t->shim_pid,
        .shim_start = t->shim_start, .task_pid = t->task_pid, .state = t->state,
        .kill_requested = t->kill_requested,
    };
}

static int
s_put (checkpoint_t *cp, const task_t *t)
{
    checkpoint_task_t view = s_view (t);
    return checkpoint_put_task (cp, &view);
}

/*  An update of t: the codec's example status, about t.                    */
static proto_status_t
s_status (const task_t *t, const char *uuid, cairn_task_state_t state)
{
    proto_msg_t *example = proto_msg_example (PROTO_STATUS_UPDATE);
    proto_status_t status;
    proto_status_copy (&status, &example->u.status);
    proto_msg_destroy (&example);
    s_set (&status.uuid, uuid);
    s_set (&status.framework_id, t->framework.id);
    s_set (&status.task_id, t->task.task_id);
    status.state = state;
    return status;
}

/*  The codec's bytes for a launch of one task, or for a status: equal
    bytes mean equal structs, field by field.                             */
static char *
s_encode_launch (const proto_framework_info_t *fw, const proto_task_t *task, size_t *size)
{
    proto_msg_t *msg = proto_msg_new (PROTO_RUN_TASKS);
    proto_framework_info_fini (msg->u.run_tasks.framework);
    proto_framework_info_copy (msg->u.run_tasks.framework, fw);
    proto_task_copy (proto_list_push (&msg->u.run_tasks.tasks, sizeof (proto_task_t)), task);
    uint8_t hdr[PROTO_HEADER_SIZE];
    char *body = NULL;
    if (proto_encode (msg, hdr, &body, size, NULL) < 0)
        body = NULL;
    proto_msg_destroy (&msg);
    return body;
}

static char *
s_encode_status (const proto_status_t *status, size_t *size)
{
    proto_msg_t *msg = proto_msg_new (PROTO_STATUS_UPDATE);
    proto_status_fini (&msg->u.status);
    proto_status_copy (&msg->u.status, status);
    uint8_t hdr[PROTO_HEADER_SIZE];
    char *body = NULL;
    if (proto_encode (msg, hdr, &body, size, NULL) < 0)
        body = NULL;
    proto_msg_destroy (&msg);
    return body;
}

static bool
s_same_bytes (const char *a, size_t a_size, const char *b, size_t b_size)
{
    return a && b && a_size == b_size && memcmp (a, b, a_size) == 0;
}

/*  What checkpoint_load reported, copied.                                  */
typedef struct {
    char key[2 * PROTO_MAX_ID + 2];
    char *launch;                       /* re-encoded */
    size_t launch_size;
    char run_id[16], sandbox[128], run_dir[128];
    pid_t shim_pid, task_pid;
    uint64_t shim_start;
    cairn_task_state_t state;
    bool kill_requested;
} loaded_task_t;

typedef struct {
    char key[2 * PROTO_MAX_ID + 2];
    int64_t seq;
    char uuid[64];
    char *status;                       /* re-encoded */
    size_t status_size;
} loaded_update_t;

typedef struct {
    loaded_task_t tasks[1100];
    int ntasks;
    loaded_update_t updates[1100];
    int nupdates;
    bool update_before_task;            /* an update came before its task */
    int result;
    int error;                          /* errno when result is -1 */
} loaded_t;

static const loaded_task_t *
s_find_task (const loaded_t *l, const char *key)
{
    for (int i = 0; i < l->ntasks; i++)
        if (strcmp (l->tasks[i].key, key) == 0)
            return &l->tasks[i];
    return NULL;
}

static void
s_collect_task (const checkpoint_task_t *t, void *arg)
{
    loaded_t *l = arg;
    if (l->ntasks == (int) (sizeof l->tasks / sizeof l->tasks[0]))
        return;
    loaded_task_t *c = &l->tasks[l->ntasks++];
    snprintf (c->key, sizeof c->key, "%s", t->key);
    c->launch = s_encode_launch (t->framework, t->task, &c->launch_size);
    snprintf (c->run_id, sizeof c->run_id, "%s", t->run_id);
    snprintf (c->sandbox, sizeof c->sandbox, "%s", t->sandbox);
    snprintf (c->run_dir, sizeof c->run_dir, "%s", t->run_dir);
    c->shim_pid = t->shim_pid;
    c->task_pid = t->task_pid;
    c->shim_start = t->shim_start;
    c->state = t->state;
    c->kill_requested = t->kill_requested;
}

static void
s_collect_update (const char *key, int64_t seq, const proto_status_t *status, void *arg)
{
    loaded_t *l = arg;
    if (l->nupdates == (int) (sizeof l->updates / sizeof l->updates[0]))
        return;
    if (!s_find_task (l, key))
        l->update_before_task = true;
    loaded_update_t *u = &l->updates[l->nupdates++];
    snprintf (u->key, sizeof u->key, "%s", key);
    u->seq = seq;
    snprintf (u->uuid, sizeof u->uuid, "%s", status->uuid);
    u->status = s_encode_status (status, &u->status_size);
}

static void
s_loaded_free (loaded_t *l)
{
    for (int i = 0; i < l->ntasks; i++)
        free (l->tasks[i].launch);
    for (int i = 0; i < l->nupdates; i++)
        free (l->updates[i].status);
    l->ntasks = l->nupdates = 0;
}

/*  Opens DIR's checkpoint and loads it into *l (result -1 on failure).    */
static loaded_t *
s_reload (const char *dir)
{
    loaded_t *l = xzalloc (sizeof *l);
    checkpoint_t *cp = checkpoint_open (dir);
    if (!cp) {
        diag ("checkpoint_open: %s", cairn_strerror_last ());
        l->result = -1;
        l->error = errno;
        return l;
    }
    l->result = checkpoint_load (cp, s_collect_task, s_collect_update, l);
    l->error = l->result < 0 ? errno : 0;
    if (l->result < 0)
        diag ("checkpoint_load: %s", cairn_strerror_last ());
    checkpoint_close (&cp);
    return l;
}

static void
s_reload_free (loaded_t **l_p)
{
    s_loaded_free (*l_p);
    free (*l_p);
    *l_p = NULL;
}

/*  True if the loaded task is t, field by field.                           */
static bool
s_task_equal (const loaded_task_t *c, const task_t *t)
{
    size_t size = 0;
    char *want = s_encode_launch (&t->framework, &t->task, &size);
    bool same = c && s_same_bytes (c->launch, c->launch_size, want, size)
        && strcmp (c->run_id, t->run_id) == 0 && strcmp (c->sandbox, t->sandbox) == 0
        && strcmp (c->run_dir, t->run_dir) == 0 && c->shim_pid == t->shim_pid
        && c->shim_start == t->shim_start && c->task_pid == t->task_pid
        && c->state == t->state && c->kill_requested == t->kill_requested;
    free (want);
    return same;
}

static bool
s_update_equal (const loaded_update_t *u, const char *key, int64_t seq,
                const proto_status_t *status)
{
    size_t size = 0;
    char *want = s_encode_status (status, &size);
    bool same = u && strcmp (u->key, key) == 0 && u->seq == seq
        && s_same_bytes (u->status, u->status_size, want, size);
    free (want);
    return same;
}

/*  ------------------------------------------------------------------ */
/*  The checkpoint as the agent uses it                                 */
/*  ------------------------------------------------------------------ */

static void
test_roundtrip (void)
{
    char *dir = s_tempdir ();
    checkpoint_t *cp = checkpoint_open (dir);
    if (!ok (cp != NULL, "open creates agent.db in an empty work directory"))
        diag ("%s", cairn_strerror_last ());
    if (!cp)
        goto done;
    char *path = xasprintf ("%s/agent.db", dir);
    is (checkpoint_path (cp), path, "checkpoint_path names the file");
    free (path);
    loaded_t *l = xzalloc (sizeof *l);
    cmp_int (checkpoint_load (cp, s_collect_task, s_collect_update, l), 0,
             "a new checkpoint has no tasks");
    cmp_int (l->nupdates, 0, "and no updates");
    ok (!checkpoint_dirty (cp), "and nothing to commit");
    errno = 0;
    ok (checkpoint_get_meta (cp, CHECKPOINT_META_AGENT_ID) == NULL && errno == ENOENT,
        "no agent id yet: ENOENT");

    /*  What the agent records when it registers and launches.             */
    char boot_id[CHECKPOINT_BOOT_ID_SIZE] = "";
    checkpoint_boot_id (boot_id);
    ok (checkpoint_set_meta (cp, CHECKPOINT_META_AGENT_ID, "a-0123456789abcdef") == 0
        && checkpoint_set_meta (cp, CHECKPOINT_META_BOOT_ID, boot_id) == 0
        && checkpoint_set_meta (cp, CHECKPOINT_META_RESOURCES,
                                "cpus:4;mem:8192;disk:10000;ports:[31000-32000]") == 0
        && checkpoint_set_meta (cp, CHECKPOINT_META_HOSTNAME, "node-1") == 0,
        "set the agent id, boot id, resources and hostname");
    task_t t[3];
    s_task_init (&t[0], "f-1", 1);
    s_task_init (&t[1], "f-1", 2);
    s_task_init (&t[2], "f-2", 3);
    ok (s_put (cp, &t[0]) == 0 && s_put (cp, &t[1]) == 0 && s_put (cp, &t[2]) == 0,
        "put three tasks (two frameworks)");
    proto_status_t s1 = s_status (&t[0], "u1", CAIRN_TASK_STARTING);
    proto_status_t s2 = s_status (&t[0], "u2", CAIRN_TASK_RUNNING);
    proto_status_t s3 = s_status (&t[2], "u3", CAIRN_TASK_FAILED);
    s3.reason = CAIRN_REASON_COMMAND_EXECUTOR_FAILED;
    s3.exit_code = 3;
    ok (checkpoint_append_update (cp, "f-1/task-1", 1, &s1) == 0
        && checkpoint_append_update (cp, "f-1/task-1", 2, &s2) == 0
        && checkpoint_append_update (cp, "f-2/task-3", 1, &s3) == 0,
        "append two updates to one task, one to another");
    ok (checkpoint_dirty (cp), "changes are pending");
    cmp_int (checkpoint_stats (cp)->pending, 10, "ten changes pending");
    cmp_int (checkpoint_commit (cp), 10, "one commit carries them all");
    ok (!checkpoint_dirty (cp), "nothing pending after the commit");
    cmp_int (checkpoint_stats (cp)->commits, 1, "commits: 1");

    /*  Putting a task again as it is, or a meta value again, is free.     */
    ok (s_put (cp, &t[1]) == 0 && checkpoint_set_meta (cp, CHECKPOINT_META_HOSTNAME,
                                                       "node-1") == 0,
        "putting a task or a meta value again unchanged succeeds");
    ok (!checkpoint_dirty (cp), "and changes nothing");
    cmp_int (checkpoint_commit (cp), 0, "so commit writes nothing");
    checkpoint_close (&cp);
    ok (cp == NULL, "close nulls the pointer");
    checkpoint_close (&cp);             /* idempotent */

    loaded_t *r = s_reload (dir);
    cmp_int (r->result, 3, "after reopening, the three tasks load");
    ok (s_task_equal (s_find_task (r, "f-1/task-1"), &t[0])
        && s_task_equal (s_find_task (r, "f-1/task-2"), &t[1])
        && s_task_equal (s_find_task (r, "f-2/task-3"), &t[2]),
        "each exactly as put: launch (re-encoded), run id, sandbox, run dir, pids, start"
        " time, state, kill requested");
    ok (r->ntasks == 3 && strcmp (r->tasks[0].key, "f-1/task-1") == 0
        && strcmp (r->tasks[2].key, "f-2/task-3") == 0, "in key order");
    cmp_int (r->nupdates, 3, "the three updates load");
    ok (r->nupdates == 3 && s_update_equal (&r->updates[0], "f-1/task-1", 1, &s1)
        && s_update_equal (&r->updates[1], "f-1/task-1", 2, &s2)
        && s_update_equal (&r->updates[2], "f-2/task-3", 1, &s3),
        "exactly as appended (re-encoded), in order, each after its task");
    ok (!r->update_before_task, "no update comes before its task");
    s_reload_free (&r);

    cp = checkpoint_open (dir);
    if (!ok (cp != NULL, "open again"))
        printf ("Bail out! %s\n", cairn_strerror_last ()), exit (1);
    char *v = checkpoint_get_meta (cp, CHECKPOINT_META_AGENT_ID);
    is (v, "a-0123456789abcdef", "the agent id survived");
    free (v);
    v = checkpoint_get_meta (cp, CHECKPOINT_META_BOOT_ID);
    is (v, boot_id, "and the boot id");
    free (v);
    v = checkpoint_get_meta (cp, CHECKPOINT_META_RESOURCES);
    is (v, "cpus:4;mem:8192;disk:10000;ports:[31000-32000]", "and the resources");
    free (v);

    /*  The stream moves on: an acknowledgement, a new state, an end.     */
    cmp_int (checkpoint_remove_update (cp, "f-1/task-1", "u1"), 0,
             "an acknowledged update is removed");
    errno = 0;
    ok (checkpoint_remove_update (cp, "f-1/task-1", "u1") == -1 && errno == ENOENT,
        "removing it again: ENOENT: %s", cairn_strerror_last ());
    t[1].state = CAIRN_TASK_KILLING;
    t[1].kill_requested = true;
    cmp_int (s_put (cp, &t[1]), 0, "a task put again with a new state replaces it");
    cmp_int (checkpoint_remove_task (cp, "f-2/task-3"), 0,
             "a task is removed (with its update)");
    errno = 0;
    ok (checkpoint_remove_task (cp, "f-2/task-3") == -1 && errno == ENOENT,
        "removing it again: ENOENT");

    /*  Refusals change nothing.                                           */
    uint64_t pending = checkpoint_stats (cp)->pending;
    errno = 0;
    ok (checkpoint_append_update (cp, "f-9/nope", 1, &s1) == -1 && errno == EINVAL,
        "an update about another task than the key: EINVAL: %s", cairn_strerror_last ());
    proto_status_t s9 = s_status (&t[2], "u9", CAIRN_TASK_RUNNING);
    errno = 0;
    ok (checkpoint_append_update (cp, "f-2/task-3", 5, &s9) == -1 && errno == ENOENT
        && s_contains (cairn_strerror_last (), "agent.db"),
        "an update of an unknown task: ENOENT naming the file: %s", cairn_strerror_last ());
    errno = 0;
    ok (checkpoint_append_update (cp, "f-1/task-1", 2, &s1) == -1 && errno == EEXIST,
        "an update with a seq already used: EEXIST: %s", cairn_strerror_last ());
    errno = 0;
    ok (checkpoint_append_update (cp, "f-1/task-1", 7, &s2) == -1 && errno == EEXIST,
        "an update with a uuid already recorded: EEXIST");
    proto_framework_info_t anonymous;
    proto_framework_info_copy (&anonymous, &t[0].framework);
    s_set (&anonymous.id, "");
    checkpoint_task_t view = s_view (&t[0]);
    view.framework = &anonymous;
    errno = 0;
    ok (checkpoint_put_task (cp, &view) == -1 && errno == EINVAL,
        "a task of a framework without an id: EINVAL");
    proto_framework_info_fini (&anonymous);
    proto_task_t bad;
    proto_task_copy (&bad, &t[0].task);
    s_set (&bad.task_id, "not a valid id!");
    view = s_view (&t[0]);
    view.task = &bad;
    errno = 0;
    ok (checkpoint_put_task (cp, &view) == -1 && errno == EINVAL
        && s_contains (cairn_strerror_last (), "cannot record"),
        "a launch the codec refuses: EINVAL: %s", cairn_strerror_last ());
    proto_task_fini (&bad);
    cmp_int (checkpoint_stats (cp)->pending, pending, "the refusals changed nothing");
    proto_status_t s4 = s_status (&t[0], "u4", CAIRN_TASK_FINISHED);
    s4.exit_code = 0;
    cmp_int (checkpoint_append_update (cp, "f-1/task-1", 3, &s4), 0,
             "and the batch goes on after them");
    cmp_int (checkpoint_commit (cp), 4, "commit: four changes");
    checkpoint_close (&cp);

    r = s_reload (dir);
    cmp_int (r->result, 2, "after reopening, two tasks");
    ok (s_task_equal (s_find_task (r, "f-1/task-2"), &t[1]), "the replaced task has its new"
        " state and kill request");
    ok (!s_find_task (r, "f-2/task-3"), "the removed task is gone");
    ok (r->nupdates == 2 && s_update_equal (&r->updates[0], "f-1/task-1", 2, &s2)
        && s_update_equal (&r->updates[1], "f-1/task-1", 3, &s4),
        "the acknowledged update is gone, the removed task's too; the new one follows");
    s_reload_free (&r);

    s_loaded_free (l);
    free (l);
    proto_status_fini (&s1);
    proto_status_fini (&s2);
    proto_status_fini (&s3);
    proto_status_fini (&s4);
    proto_status_fini (&s9);
    for (int i = 0; i < 3; i++)
        s_task_fini (&t[i]);
done:
    s_rmtree (dir);
}

/*  ------------------------------------------------------------------ */
/*  Crashes and group commit                                            */
/*  ------------------------------------------------------------------ */

static void
test_crash (void)
{
    char *dir = s_tempdir ();
    fflush (stdout);
    pid_t pid = fork ();
    if (pid == 0) {
        /*  The "agent": commits five tasks with an update each, then
            records more and dies without committing or closing, as a
            kill -9 would leave it.                                       */
        checkpoint_t *cp = checkpoint_open (dir);
        if (!cp)
            _exit (10);
        task_t t[8];
        char uuid[16];
        for (int i = 0; i < 8; i++)
            s_task_init (&t[i], "f-c", i);
        for (int i = 0; i < 5; i++) {
            snprintf (uuid, sizeof uuid, "c%d", i);
            proto_status_t s = s_status (&t[i], uuid, CAIRN_TASK_RUNNING);
            char key[64];
            snprintf (key, sizeof key, "f-c/task-%d", i);
            if (s_put (cp, &t[i]) < 0 || checkpoint_append_update (cp, key, 1, &s) < 0)
                _exit (11);
            proto_status_fini (&s);
        }
        if (checkpoint_set_meta (cp, CHECKPOINT_META_AGENT_ID, "a-committed") < 0
            || checkpoint_commit (cp) != 11)
            _exit (12);
        for (int i = 5; i < 8; i++)
            if (s_put (cp, &t[i]) < 0)
                _exit (13);
        t[0].state = CAIRN_TASK_FINISHED;
        if (s_put (cp, &t[0]) < 0 || checkpoint_remove_task (cp, "f-c/task-1") < 0
            || checkpoint_remove_update (cp, "f-c/task-2", "c2") < 0
            || checkpoint_set_meta (cp, CHECKPOINT_META_AGENT_ID, "a-uncommitted") < 0)
            _exit (14);
        _exit (0);
    }
    int status = -1;
    waitpid (pid, &status, 0);
    ok (WIFEXITED (status) && WEXITSTATUS (status) == 0,
        "a child commits five tasks, records more, and exits without committing"
        " (status %d)", status);

    loaded_t *r = s_reload (dir);
    cmp_int (r->result, 5, "after the crash, exactly the five committed tasks are there");
    bool all = r->nupdates == 5;
    for (int i = 0; i < 5; i++) {
        task_t t;
        s_task_init (&t, "f-c", i);
        char key[64], uuid[16];
        snprintf (key, sizeof key, "f-c/task-%d", i);
        snprintf (uuid, sizeof uuid, "c%d", i);
        proto_status_t s = s_status (&t, uuid, CAIRN_TASK_RUNNING);
        all = all && s_task_equal (s_find_task (r, key), &t)
            && s_update_equal (&r->updates[i], key, 1, &s);
        proto_status_fini (&s);
        s_task_fini (&t);
    }
    ok (all, "as committed: task-0 not finished, task-1 not removed, task-2's update kept");
    ok (!s_find_task (r, "f-c/task-5") && !s_find_task (r, "f-c/task-7"),
        "the tasks never committed are not there");
    s_reload_free (&r);
    checkpoint_t *cp = checkpoint_open (dir);
    char *v = cp ? checkpoint_get_meta (cp, CHECKPOINT_META_AGENT_ID) : NULL;
    is (v, "a-committed", "the meta value is the committed one");
    free (v);
    checkpoint_close (&cp);
    s_rmtree (dir);
}

static void
test_group_commit (void)
{
    char *dir = s_tempdir ();
    checkpoint_t *cp = checkpoint_open (dir);
    if (!ok (cp != NULL, "open"))
        goto done;
    /*  500 launches and an update for each: 1000 changes in one pass.     */
    int n = 500, failed = 0;
    int syncs_before = s_syncs;
    for (int i = 0; i < n; i++) {
        task_t t;
        s_task_init (&t, "f-g", i);
        char key[64], uuid[16];
        snprintf (key, sizeof key, "f-g/task-%d", i);
        snprintf (uuid, sizeof uuid, "g%d", i);
        proto_status_t s = s_status (&t, uuid, CAIRN_TASK_STARTING);
        failed += s_put (cp, &t) < 0 || checkpoint_append_update (cp, key, 1, &s) < 0;
        proto_status_fini (&s);
        s_task_fini (&t);
    }
    cmp_int (failed, 0, "%d launches and %d updates recorded", n, n);
    cmp_int (s_syncs - syncs_before, 0, "without a single fsync");
    int syncs_at_commit = s_syncs;
    cmp_int (checkpoint_commit (cp), 2 * n, "one commit carries all %d changes", 2 * n);
    int batch_syncs = s_syncs - syncs_at_commit;
    cmp_int (checkpoint_stats (cp)->commits, 1, "commits: 1");
    cmp_int (checkpoint_stats (cp)->changes, 2 * n, "changes: %d", 2 * n);
    ok (batch_syncs >= 1 && batch_syncs <= 4,
        "the commit synced to disk a few times, not per change (%d syncs, %" PRId64 " us)",
        batch_syncs, checkpoint_stats (cp)->last_commit_us);
    checkpoint_close (&cp);
    loaded_t *r = s_reload (dir);
    ok (r->result == n && r->nupdates == n, "all of them load after reopening");
    s_reload_free (&r);
done:
    s_rmtree (dir);
}

/*  ------------------------------------------------------------------ */
/*  What an operator may meet                                           */
/*  ------------------------------------------------------------------ */

static void
test_second_agent (void)
{
    char *dir = s_tempdir ();
    checkpoint_t *first = checkpoint_open (dir);
    if (!ok (first != NULL, "an agent opens its checkpoint"))
        goto done;
    errno = 0;
    checkpoint_t *second = checkpoint_open (dir);
    ok (second == NULL && errno == EBUSY, "a second agent on the same work directory: EBUSY");
    ok (s_contains (cairn_strerror_last (), "agent.db")
        && s_contains (cairn_strerror_last (), "is another cairn-agent using this work"
                       " directory?"),
        "saying so: %s", cairn_strerror_last ());
    checkpoint_close (&second);

    /*  The same from another process, as a second cairn-agent would be.  */
    int pipefd[2];
    if (pipe (pipefd) < 0)
        printf ("Bail out! pipe: %s\n", strerror (errno)), exit (1);
    fflush (stdout);
    pid_t pid = fork ();
    if (pid == 0) {
        close (pipefd[0]);
        checkpoint_t *cp = checkpoint_open (dir);
        dprintf (pipefd[1], "%d %s", cp ? 0 : errno, cp ? "opened" : cairn_strerror_last ());
        checkpoint_close (&cp);
        _exit (0);
    }
    close (pipefd[1]);
    char buf[1024];
    ssize_t len = read (pipefd[0], buf, sizeof buf - 1);
    buf[len > 0 ? len : 0] = '\0';
    close (pipefd[0]);
    waitpid (pid, NULL, 0);
    ok (atoi (buf) == EBUSY && s_contains (buf, "another cairn-agent"),
        "another process is refused too: %s", buf);

    task_t t;
    s_task_init (&t, "f-1", 1);
    ok (s_put (first, &t) == 0 && checkpoint_commit (first) == 1,
        "the first one keeps working");
    s_task_fini (&t);
    checkpoint_close (&first);
done:
    s_rmtree (dir);
}

static void
test_bad_files (void)
{
    /*  Another Cairn file, or another program's database.                 */
    char *dir = s_tempdir ();
    s_raw_sql (dir, "CREATE TABLE recipes (name TEXT);");
    errno = 0;
    checkpoint_t *cp = checkpoint_open (dir);
    ok (cp == NULL && errno == EPROTO
        && s_contains (cairn_strerror_last (), "not a Cairn agent checkpoint"),
        "another program's database is refused: %s", cairn_strerror_last ());
    s_rmtree (dir);

    /*  A file from a newer cairn-agent.                                   */
    dir = s_tempdir ();
    cp = checkpoint_open (dir);
    checkpoint_close (&cp);
    char *sql = xasprintf ("INSERT INTO schema_version VALUES (%d, 0, 'cairn-agent 9.0');",
                           CHECKPOINT_SCHEMA_VERSION + 1);
    s_raw_sql (dir, sql);
    free (sql);
    errno = 0;
    cp = checkpoint_open (dir);
    ok (cp == NULL && errno == EPROTO
        && s_contains (cairn_strerror_last (), "newer than this cairn-agent"),
        "a newer schema is refused: %s", cairn_strerror_last ());
    s_rmtree (dir);

    /*  A task record that does not decode: loading says which.           */
    dir = s_tempdir ();
    cp = checkpoint_open (dir);
    task_t t;
    s_task_init (&t, "f-1", 1);
    if (cp)
        s_put (cp, &t);
    checkpoint_close (&cp);
    s_task_fini (&t);
    s_raw_sql (dir, "UPDATE tasks SET launch = x'ca1e010c81a3666f6f' WHERE key = 'f-1/task-1';");
    loaded_t *r = s_reload (dir);
    ok (r->result == -1 && r->error == EPROTO && s_contains (cairn_strerror_last (), "f-1/task-1")
        && s_contains (cairn_strerror_last (), "does not decode"),
        "a damaged task record fails the load with EPROTO naming it: %s",
        cairn_strerror_last ());
    s_reload_free (&r);
    s_rmtree (dir);
}

/*  ------------------------------------------------------------------ */
/*  Process identity                                                    */
/*  ------------------------------------------------------------------ */

/*  Field 22 of /proc/PID/stat, read independently of checkpoint.c.       */
static uint64_t
s_stat_field22 (pid_t pid)
{
    char path[64], buf[1024] = "";
    snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
    FILE *f = fopen (path, "r");
    if (!f)
        return 0;
    size_t len = fread (buf, 1, sizeof buf - 1, f);
    fclose (f);
    buf[len] = '\0';
    char *p = strrchr (buf, ')');
    if (!p)
        return 0;
    unsigned long long start = 0;
    /*  Fields 3..22 after the command: state, then 18 numbers, then it. */
    if (sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d"
                " %*d %*d %llu", &start) != 1)
        return 0;
    return start;
}

static void
test_process_identity (void)
{
    uint64_t start = 0;
    cmp_int (checkpoint_proc_start_time (getpid (), &start), 0,
             "the start time of this process");
    ok (start > 0 && start == s_stat_field22 (getpid ()),
        "is field 22 of /proc/self/stat (%" PRIu64 ")", start);
    cmp_int (checkpoint_same_process (getpid (), start), 1, "this process is itself");

    /*  A child with a command name that looks like the end of the field
        ("x) S 1 (y"), as a task may choose to confuse a parser.          */
    int pipefd[2];
    if (pipe (pipefd) < 0)
        printf ("Bail out! pipe: %s\n", strerror (errno)), exit (1);
    fflush (stdout);
    pid_t pid = fork ();
    if (pid == 0) {
        prctl (PR_SET_NAME, "x) S 1 (y");
        close (pipefd[0]);
        if (write (pipefd[1], "r", 1) != 1)
            _exit (1);
        pause ();
        _exit (0);
    }
    close (pipefd[1]);
    char c;
    if (read (pipefd[0], &c, 1) != 1)
        diag ("the child did not start");
    close (pipefd[0]);
    uint64_t child_start = 0;
    cmp_int (checkpoint_proc_start_time (pid, &child_start), 0, "the start time of a child");
    ok (child_start > 0 && child_start == s_stat_field22 (pid),
        "is field 22 of its /proc/PID/stat, despite its odd name (%" PRIu64 ")", child_start);
    cmp_int (checkpoint_same_process (pid, child_start), 1, "the child is the same process");
    cmp_int (checkpoint_same_process (pid, child_start + 1), 0,
             "but not with another start time (a reused pid)");
    kill (pid, SIGKILL);
    /*  Wait until it is a zombie (not yet reaped).                        */
    siginfo_t info;
    waitid (P_PID, (id_t) pid, &info, WEXITED | WNOWAIT);
    cmp_int (checkpoint_same_process (pid, child_start), 0, "a zombie is not alive");
    waitpid (pid, NULL, 0);
    cmp_int (checkpoint_same_process (pid, child_start), 0, "nor is a reaped child");
    errno = 0;
    ok (checkpoint_proc_start_time (pid, &start) == -1 && errno == ESRCH,
        "whose start time is ESRCH: %s", cairn_strerror_last ());

    char id[CHECKPOINT_BOOT_ID_SIZE];
    memset (id, 'x', sizeof id);
    cmp_int (checkpoint_boot_id (id), 0, "the boot id");
    cmp_int (strlen (id), 36, "is 36 characters (%s)", id);
    ok (id[8] == '-' && id[13] == '-' && id[18] == '-' && id[23] == '-',
        "in the 8-4-4-4-12 form");
    char again[CHECKPOINT_BOOT_ID_SIZE];
    ok (checkpoint_boot_id (again) == 0 && strcmp (id, again) == 0,
        "and the same when read again");
}

int
main (void)
{
    test_roundtrip ();
    test_crash ();
    test_group_commit ();
    test_second_agent ();
    test_bad_files ();
    test_process_identity ();
    return done_testing ();
}
