/*  agent.c - the agent's tasks, their status streams, its session with
    the master, and its recovery after a restart.

    Each task has an ordered stream of status updates. Only the head of
    the stream is in flight: it is sent (and resent with backoff) until
    the framework acknowledges it through the master, then the next one
    goes. A terminal task leaves the agent's books once its last update
    is acknowledged. While the agent is not registered nothing is sent;
    every head is sent again after (re-)registration.

    Everything needed to carry on after a crash is checkpointed (agent id,
    boot id, each task with its shim's pid and start time, the
    unacknowledged updates): handlers record changes, and the caller
    commits them once per loop pass, before the messages they cover are
    sent (agent_commit). A restarted agent with the same work dir adopts
    the shims still running, reads how the others' tasks ended, resends
    the unacknowledged updates and re-registers with its id and tasks.

    Periodic work (agent_tick): registration and update retries, kill
    escalation, usage samples (also sent to the master as USAGE), the
    sandbox disk check, and sandbox garbage collection. Disk checks and
    sandbox removal run as child processes (du, rm) watched on the loop,
    never in it.                                                           */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"
#include "checkpoint.h"
#include "containerizer.h"
#include "error.h"
#include "fetcher.h"
#include "health.h"
#include "ids.h"
#include "log.h"
#include "resources.h"
#include "transport.h"
#include "util.h"

#define REGISTER_BACKOFF_MIN_MS 250
#define REGISTER_BACKOFF_MAX_MS 8000
#define UPDATE_RETRY_MIN_MS     2000
#define UPDATE_RETRY_MAX_MS     60000
#define MAX_COMPLETED_SANDBOXES 1000
#define GC_CHECK_MS             10000

typedef struct update {
    proto_status_t status;
    int64_t seq;                        /* its place in the checkpoint */
    struct update *next;
} update_t;

typedef struct {
    char *key;                          /* "fw/task" */
    char run_id[13];                    /* this run: the container id */
    char *framework_id;
    proto_framework_info_t framework;
    proto_task_t info;
    char *sandbox;
    char *run_dir;
    cairn_task_state_t state;           /* the latest we reported */
    bool container;                     /* the containerizer has it */
    bool fetching;                      /* its URIs are being fetched */
    bool kill_requested;
    cairn_reason_t kill_reason;         /* why it is being killed */
    char *kill_why;                     /* ... in words, for the end */
    health_t *health;                   /* its health check, while it runs */
    int healthy;                        /* -1 unknown, 0, 1: in its updates */
    int64_t started;                    /* when it started running (ms) */
    int64_t kill_deadline;              /* kill all after this (ms), 0 = none */
    pid_t shim_pid;                     /* for the checkpoint */
    uint64_t shim_start;
    pid_t task_pid;
    bool has_usage;                     /* the latest sample */
    isolator_usage_t usage;
    uint64_t disk_bytes;                /* the latest sandbox size */
    pid_t du_pid;                       /* a disk check in flight, or 0 */
    update_t *updates;                  /* head is in flight */
    update_t *updates_tail;
    int64_t seq;                        /* of the last update appended */
    int64_t next_retry;
    int64_t retry_ms;
} task_t;

typedef struct {
    char *path;                         /* an ended task's sandbox */
    char *key;
    double ended;                       /* wall clock */
} sandbox_t;

struct _agent_t {
    agent_config_t config;
    char *work_dir;
    char *hostname;
    char *http_address;
    cairn_resources_t resources;
    proto_kv_t attributes;
    char *id;                           /* "" until registered once */
    bool registered;
    bool shutdown;
    int64_t now;                        /* of the last handler or tick call */
    int64_t ping_ms;
    int64_t last_heard;
    int64_t next_register;
    int64_t backoff;
    int64_t next_usage;
    int64_t next_disk;
    int64_t next_gc;
    zhashx_t *tasks;                    /* key -> task_t * */
    zlistx_t *sandboxes;                /* sandbox_t *, of ended tasks, oldest first */
    containerizer_t *containerizer;
    isolator_t *isolator;
    fetcher_t *fetcher;
    checkpoint_t *checkpoint;
    zloop_t *loop;
    zhashx_t *runs;                     /* run id -> task_t * (borrowed) */
    zhashx_t *helpers;                  /* pid text -> helper_t * (du, rm) */
    outbox_t outbox;
    char *fatal;                        /* a checkpoint write failed */
};

static void
s_set_str (char **dst, const char *src)
{
    free (*dst);
    *dst = xstrdup (src ? src : "");
}

static void
s_queue (agent_t *self, proto_msg_t *msg)
{
    outbox_push (&self->outbox, NULL, msg);
}

outmsg_t *
agent_outbox_take (agent_t *self)
{
    return outbox_take (&self->outbox);
}

/*  Checkpoint  */

/*  A checkpoint write that fails leaves the agent unable to keep its
    promise of recovery: it stops (agent_commit reports it).              */
static void
s_cp_check (agent_t *self, int rc)
{
    if (rc < 0 && !self->fatal)
        self->fatal = xstrdup (cairn_strerror_last ());
}

static void
s_cp_task (agent_t *self, task_t *t)
{
    checkpoint_task_t ct = {
        .framework = &t->framework, .task = &t->info, .run_id = t->run_id,
        .sandbox = t->sandbox, .run_dir = t->run_dir, .shim_pid = t->shim_pid,
        .shim_start = t->shim_start, .task_pid = t->task_pid, .state = t->state,
        .kill_requested = t->kill_requested,
    };
    s_cp_check (self, checkpoint_put_task (self->checkpoint, &ct));
}

int
agent_commit (agent_t *self)
{
    if (self->fatal)
        return error_set (EIO, "the checkpoint could not be written: %s", self->fatal);
    if (checkpoint_dirty (self->checkpoint) && checkpoint_commit (self->checkpoint) < 0)
        return -1;
    return 0;
}

/*  Tasks  */

static void
s_task_destructor (void **item)
{
    task_t *t = *item;
    if (t) {
        health_destroy (&t->health);
        while (t->updates) {
            update_t *next = t->updates->next;
            proto_status_fini (&t->updates->status);
            free (t->updates);
            t->updates = next;
        }
        free (t->key);
        free (t->framework_id);
        free (t->kill_why);
        proto_framework_info_fini (&t->framework);
        proto_task_fini (&t->info);
        free (t->sandbox);
        free (t->run_dir);
        free (t);
        *item = NULL;
    }
}

static task_t *
s_task_new (agent_t *self, const proto_framework_info_t *fw, const proto_task_t *info,
            const char *run_id)
{
    task_t *t = xzalloc (sizeof *t);
    t->key = xasprintf ("%s/%s", fw->id, info->task_id);
    t->framework_id = xstrdup (fw->id);
    proto_framework_info_copy (&t->framework, fw);
    proto_task_copy (&t->info, info);
    t->state = CAIRN_TASK_STAGING;
    t->retry_ms = UPDATE_RETRY_MIN_MS;
    t->healthy = -1;
    snprintf (t->run_id, sizeof t->run_id, "%s", run_id);
    zhashx_insert (self->tasks, t->key, t);
    zhashx_insert (self->runs, t->run_id, t);
    return t;
}

/*  Status streams  */

static void
s_send_head (agent_t *self, task_t *t, int64_t now)
{
    if (!t->updates || !self->registered)
        return;
    proto_msg_t *msg = proto_msg_new (PROTO_STATUS_UPDATE);
    proto_status_fini (&msg->u.status);
    proto_status_copy (&msg->u.status, &t->updates->status);
    s_set_str (&msg->u.status.agent_id, self->id);
    s_queue (self, msg);
    t->next_retry = now + t->retry_ms;
}

/*  Adds an update to the end of the task's stream, sending it if it is
    the head.                                                              */
static void
s_append (agent_t *self, task_t *t, update_t *u)
{
    bool head = t->updates == NULL;
    if (t->updates_tail)
        t->updates_tail->next = u;
    else
        t->updates = u;
    t->updates_tail = u;
    if (head) {
        t->retry_ms = UPDATE_RETRY_MIN_MS;
        s_send_head (self, t, self->now);
    }
}

/*  A new update: the task's state is what the framework will end up
    seeing. It is checkpointed with the task's new state.                 */
static void
s_status (agent_t *self, task_t *t, cairn_task_state_t state, cairn_reason_t reason,
          int exit_code, int sig, const char *fmt, ...) __attribute__ ((format (printf, 7, 8)));

static void
s_status (agent_t *self, task_t *t, cairn_task_state_t state, cairn_reason_t reason,
          int exit_code, int sig, const char *fmt, ...)
{
    update_t *u = xzalloc (sizeof *u);
    proto_msg_t *tmpl = proto_msg_new (PROTO_STATUS_UPDATE);
    proto_status_copy (&u->status, &tmpl->u.status);
    proto_msg_destroy (&tmpl);
    char uuid[33];
    ids_uuid (uuid);
    s_set_str (&u->status.uuid, uuid);
    s_set_str (&u->status.task_id, t->info.task_id);
    s_set_str (&u->status.framework_id, t->framework_id);
    s_set_str (&u->status.agent_id, self->id);
    u->status.state = state;
    u->status.reason = reason;
    u->status.exit_code = exit_code;
    u->status.signal = sig;
    u->status.healthy = t->healthy;
    u->status.timestamp = clock_wall ();
    char text[PROTO_MAX_TEXT];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (text, sizeof text, fmt, ap);
    va_end (ap);
    proto_text_clean (text);    /* paths and system messages are not always UTF-8 */
    s_set_str (&u->status.message, text);
    t->state = state;
    u->seq = ++t->seq;
    log_info ("task %s: %s%s%s", t->key, cairn_task_state_name (state), *text ? ": " : "", text);
    s_cp_task (self, t);
    s_cp_check (self, checkpoint_append_update (self->checkpoint, t->key, u->seq, &u->status));
    s_append (self, t, u);
}

static void
s_remember_sandbox (agent_t *self, task_t *t)
{
    sandbox_t *sb = xzalloc (sizeof *sb);
    sb->path = xstrdup (t->sandbox);
    sb->key = xstrdup (t->key);
    sb->ended = clock_wall ();
    zlistx_add_end (self->sandboxes, sb);
    while (zlistx_size (self->sandboxes) > MAX_COMPLETED_SANDBOXES) {
        zlistx_first (self->sandboxes);
        zlistx_delete (self->sandboxes, zlistx_cursor (self->sandboxes));
    }
}

/*  Removes a task whose stream is done and whose container is gone.      */
static void
s_maybe_forget (agent_t *self, task_t *t)
{
    if (t->updates || t->container || t->fetching || !cairn_task_state_is_terminal (t->state))
        return;
    s_remember_sandbox (self, t);
    s_cp_check (self, checkpoint_remove_task (self->checkpoint, t->key));
    zhashx_delete (self->runs, t->run_id);
    zhashx_delete (self->tasks, t->key);
}

static void
s_handle_ack (agent_t *self, proto_status_ack_t *ack, int64_t now)
{
    char key[2 * PROTO_MAX_ID + 2];
    snprintf (key, sizeof key, "%s/%s", ack->framework_id, ack->task_id);
    task_t *t = zhashx_lookup (self->tasks, key);
    if (!t || !t->updates || strcmp (t->updates->status.uuid, ack->uuid) != 0)
        return;                 /* a late duplicate: already done */
    update_t *done = t->updates;
    t->updates = done->next;
    if (!t->updates)
        t->updates_tail = NULL;
    s_cp_check (self, checkpoint_remove_update (self->checkpoint, t->key, done->status.uuid));
    proto_status_fini (&done->status);
    free (done);
    t->retry_ms = UPDATE_RETRY_MIN_MS;
    s_send_head (self, t, now);
    s_maybe_forget (self, t);
}

/*  Helper processes (du for disk checks, rm for garbage collection),
    watched through pidfds on the loop; their stdout is collected.        */

typedef void (helper_fn) (agent_t *self, const char *arg, int status, const char *out);

typedef struct {
    agent_t *owner;
    pid_t pid;
    int pidfd;
    int outfd;
    char *arg;
    helper_fn *fn;
    char out[256];
    size_t len;
} helper_t;

static void
s_helper_free (void **item)
{
    helper_t *h = *item;
    if (h) {
        zmq_pollitem_t pi = { NULL, h->pidfd, ZMQ_POLLIN, 0 };
        zloop_poller_end (h->owner->loop, &pi);
        close (h->pidfd);
        if (h->outfd >= 0)
            close (h->outfd);
        free (h->arg);
        free (h);
        *item = NULL;
    }
}

static int
s_on_helper (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    helper_t *h = arg;
    agent_t *self = h->owner;
    while (h->outfd >= 0 && h->len < sizeof h->out - 1) {
        ssize_t n = read (h->outfd, h->out + h->len, sizeof h->out - 1 - h->len);
        if (n <= 0)
            break;
        h->len += (size_t) n;
    }
    h->out[h->len] = '\0';
    int status = -1;
    waitpid (h->pid, &status, 0);
    char key[16];
    snprintf (key, sizeof key, "%d", (int) h->pid);
    helper_fn *fn = h->fn;
    char *harg = xstrdup (h->arg);
    char out[256];
    memcpy (out, h->out, sizeof out);
    zhashx_delete (self->helpers, key);         /* ends the poller */
    fn (self, harg, status, out);
    free (harg);
    return 0;
}

/*  Runs argv (PATH lookup) with stdout to a pipe; 0 and *pid, or -1.     */
static int
s_helper_start (agent_t *self, char *const argv[], const char *arg, helper_fn *fn, pid_t *pid)
{
    int fds[2];
    if (pipe2 (fds, O_CLOEXEC) < 0)
        return error_set (errno, "pipe: %s", strerror (errno));
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init (&fa);
    posix_spawnattr_init (&attr);
    posix_spawn_file_actions_addopen (&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2 (&fa, fds[1], 1);
    posix_spawn_file_actions_addopen (&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addclosefrom_np (&fa, 3);
    sigset_t none;
    sigemptyset (&none);
    posix_spawnattr_setsigmask (&attr, &none);
    posix_spawnattr_setflags (&attr, POSIX_SPAWN_SETSIGMASK);
    extern char **environ;
    int err = posix_spawnp (pid, argv[0], &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy (&fa);
    posix_spawnattr_destroy (&attr);
    close (fds[1]);
    if (err != 0) {
        close (fds[0]);
        return error_set (err, "cannot run %s: %s", argv[0], strerror (err));
    }
    int pidfd = (int) syscall (SYS_pidfd_open, *pid, 0);
    if (pidfd < 0) {
        kill (*pid, SIGKILL);
        waitpid (*pid, NULL, 0);
        close (fds[0]);
        return error_set (errno, "pidfd_open: %s", strerror (errno));
    }
    helper_t *h = xzalloc (sizeof *h);
    h->owner = self;
    h->pid = *pid;
    h->pidfd = pidfd;
    h->outfd = fds[0];
    fcntl (h->outfd, F_SETFL, O_NONBLOCK);
    h->arg = xstrdup (arg);
    h->fn = fn;
    char key[16];
    snprintf (key, sizeof key, "%d", (int) *pid);
    zhashx_insert (self->helpers, key, h);
    zmq_pollitem_t pi = { NULL, pidfd, ZMQ_POLLIN, 0 };
    zloop_poller (self->loop, &pi, s_on_helper, h);
    return 0;
}

static char *
s_env_entry (const char *name, const char *value)
{
    return xasprintf ("%s=%s", name, value);
}

/*  The task's environment: a small base from the agent, then the task's
    own variables, then ours (which the task cannot override).            */
static char **
s_task_env (agent_t *self, task_t *t)
{
    size_t cap = t->info.env.count + 32;
    size_t ranges;
    const uint16_t *r = cairn_resources_port_ranges (t->info.resources, &ranges);
    cap += cairn_resources_port_count (t->info.resources);
    char **env = xzalloc ((cap + 1) * sizeof (char *));
    size_t n = 0;
    const char *path = getenv ("PATH");
    env[n++] = s_env_entry ("PATH", path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
    const char *keep[] = { "LANG", "TZ", "HOME", "USER", "LOGNAME" };
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        const char *v = getenv (keep[i]);
        if (v)
            env[n++] = s_env_entry (keep[i], v);
    }
    /*  The names the agent sets below stay its own; other CAIRN_ names
        (CAIRN_ARRAY_INDEX from cairn-batch) pass.                         */
    const char *own[] = { "CAIRN_TASK_ID", "CAIRN_FRAMEWORK_ID", "CAIRN_AGENT_ID",
                          "CAIRN_SANDBOX", "CAIRN_HOSTNAME" };
    for (size_t i = 0; i < t->info.env.count; i++) {
        const char *k = t->info.env.keys[i];
        bool reserved = false;
        for (size_t j = 0; j < sizeof own / sizeof own[0]; j++)
            reserved = reserved || strcmp (k, own[j]) == 0;
        if (reserved)
            continue;
        env[n++] = s_env_entry (k, t->info.env.values[i]);
    }
    env[n++] = s_env_entry ("CAIRN_TASK_ID", t->info.task_id);
    env[n++] = s_env_entry ("CAIRN_FRAMEWORK_ID", t->framework_id);
    env[n++] = s_env_entry ("CAIRN_AGENT_ID", self->id);
    env[n++] = s_env_entry ("CAIRN_SANDBOX", t->sandbox);
    env[n++] = s_env_entry ("CAIRN_HOSTNAME", self->hostname);
    size_t p = 0;
    for (size_t i = 0; i < ranges; i++)
        for (unsigned port = r[2 * i]; port <= r[2 * i + 1]; port++) {
            char name[16], value[8];
            snprintf (name, sizeof name, "PORT%zu", p++);
            snprintf (value, sizeof value, "%u", port);
            env[n++] = s_env_entry (name, value);
        }
    env[n] = NULL;
    return env;
}

static void
s_free_strv (char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free (v[i]);
    free (v);
}

/*  Launching  */

static uid_t s_chown_uid;
static gid_t s_chown_gid;

static int
s_chown_one (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return lchown (path, s_chown_uid, s_chown_gid) < 0 ? -1 : 0;
}

/*  Gives a (freshly made, small) sandbox to a user.                      */
static int
s_chown_tree (const char *dir, const char *user)
{
    struct passwd *pw = getpwnam (user);
    if (!pw)
        return error_set (ENOENT, "there is no user %s on this agent", user);
    s_chown_uid = pw->pw_uid;
    s_chown_gid = pw->pw_gid;
    if (nftw (dir, s_chown_one, 16, FTW_PHYS) < 0)
        return error_set (errno, "%s: %s", dir, strerror (errno));
    return 0;
}

static void
s_start_health (agent_t *self, task_t *t);

/*  Starts the task's supervisor, once its sandbox holds what it needs.   */
static void
s_spawn (agent_t *self, task_t *t)
{
    const proto_task_t *info = &t->info;
    char **argv;
    if (*info->command) {
        argv = xzalloc (4 * sizeof (char *));
        argv[0] = xstrdup ("/bin/sh");
        argv[1] = xstrdup ("-c");
        argv[2] = xstrdup (info->command);
    }
    else {
        argv = xzalloc ((info->argv.count + 1) * sizeof (char *));
        for (size_t i = 0; i < info->argv.count; i++)
            argv[i] = xstrdup (info->argv.items[i]);
    }
    /*  The user it runs as: the task's, else its framework's, when the
        agent may switch users (the master checked that the framework's
        principal may use it); otherwise, for an agent running as root,
        --default-user: never root unless someone named it. The sandbox
        becomes theirs, closed to other users.                            */
    const char *user = *info->user ? info->user : t->framework.user;
    if (!self->config.switch_user || !user || !*user)
        user = NULL;
    if (!user && geteuid () == 0 && self->config.default_user && *self->config.default_user)
        user = self->config.default_user;
    if (chmod (t->sandbox, 0750) < 0)
        log_warn ("task %s: cannot restrict its sandbox %s: %s", t->info.task_id, t->sandbox,
                  strerror (errno));
    if (user && s_chown_tree (t->sandbox, user) < 0) {
        s_free_strv (argv);
        s_status (self, t, CAIRN_TASK_FAILED, CAIRN_REASON_CONTAINER_LAUNCH_FAILED, -1, 0,
                  "cannot give the sandbox to user %s: %s", user, cairn_strerror_last ());
        s_maybe_forget (self, t);
        return;
    }
    char *shim_args[4];
    size_t n = 0;
    if (self->config.max_log_bytes)
        shim_args[n++] = xasprintf ("--max-log-size=%" PRIu64, self->config.max_log_bytes);
    if (self->config.namespaces && *self->config.namespaces)
        shim_args[n++] = xasprintf ("--namespaces=%s", self->config.namespaces);
    if (user)
        shim_args[n++] = xasprintf ("--user=%s", user);
    shim_args[n] = NULL;
    char **env = s_task_env (self, t);
    int rc = containerizer_launch (self->containerizer, t->run_id, t->sandbox, t->run_dir,
                                   info->resources, &info->labels, shim_args, argv, env);
    for (size_t i = 0; i < n; i++)
        free (shim_args[i]);
    s_free_strv (argv);
    s_free_strv (env);
    if (rc < 0) {
        s_status (self, t, CAIRN_TASK_FAILED, CAIRN_REASON_CONTAINER_LAUNCH_FAILED, -1, 0,
                  "cannot launch: %s", cairn_strerror_last ());
        s_maybe_forget (self, t);
        return;
    }
    t->container = true;
    t->shim_pid = containerizer_shim_pid (self->containerizer, t->run_id);
    if (checkpoint_proc_start_time (t->shim_pid, &t->shim_start) < 0)
        t->shim_start = 0;
    s_cp_task (self, t);
}

static void
s_on_fetched (void *arg, const char *id, bool ok, const char *message)
{
    agent_t *self = arg;
    task_t *t = zhashx_lookup (self->runs, id);
    if (!t)
        return;
    t->fetching = false;
    if (ok) {
        log_info ("task %s: %s", t->key, message);
        s_spawn (self, t);
    }
    else {
        s_status (self, t, CAIRN_TASK_FAILED, CAIRN_REASON_FETCH_FAILED, -1, 0, "%s", message);
        s_maybe_forget (self, t);
    }
}

static void
s_launch (agent_t *self, const proto_framework_info_t *fw, const proto_task_t *info, int64_t now)
{
    char key[2 * PROTO_MAX_ID + 2];
    snprintf (key, sizeof key, "%s/%s", fw->id, info->task_id);
    if (zhashx_lookup (self->tasks, key)) {
        /*  The master refuses duplicate ids of live tasks, so this is a
            resent launch; the first copy's updates speak for it.         */
        log_warn ("ignoring a second launch of task %s", key);
        return;
    }
    char uuid[33];
    ids_uuid (uuid);
    uuid[12] = '\0';
    task_t *t = s_task_new (self, fw, info, uuid);
    t->sandbox = xasprintf ("%s/sandboxes/%s/%s/%s", self->work_dir, fw->id, info->task_id,
                            t->run_id);
    t->run_dir = xasprintf ("%s/run/%s/%s/%s", self->work_dir, fw->id, info->task_id, t->run_id);
    if (util_mkdir_p (t->sandbox, 0755) < 0 || util_mkdir_p (t->run_dir, 0700) < 0) {
        s_status (self, t, CAIRN_TASK_FAILED, CAIRN_REASON_CONTAINER_LAUNCH_FAILED, -1, 0,
                  "cannot create the sandbox: %s", cairn_strerror_last ());
        s_maybe_forget (self, t);
        return;
    }
    s_status (self, t, CAIRN_TASK_STARTING, CAIRN_REASON_NONE, -1, 0, "%s",
              info->uris.count ? "fetching the task's URIs"
                               : "the task's supervisor is starting it");
    if (info->uris.count == 0) {
        s_spawn (self, t);
        return;
    }
    if (fetcher_start (self->fetcher, t->run_id, t->sandbox, t->run_dir, info->uris.items,
                       info->uris.count) < 0) {
        s_status (self, t, CAIRN_TASK_FAILED, CAIRN_REASON_FETCH_FAILED, -1, 0,
                  "cannot fetch: %s", cairn_strerror_last ());
        s_maybe_forget (self, t);
        return;
    }
    t->fetching = true;
    (void) now;
}

static int64_t
s_grace_ms (agent_t *self, task_t *t, int64_t asked)
{
    if (asked >= 0)
        return asked;
    if (t->info.kill_grace_ms >= 0)
        return t->info.kill_grace_ms;
    return self->config.default_kill_grace_ms;
}

/*  Kills a task: SIGTERM, and everything in its container after the
    grace period. reason and why end up in its terminal update.           */
static void
s_kill (agent_t *self, task_t *t, int64_t grace_ms, cairn_reason_t reason, const char *why,
        int64_t now)
{
    if (t->kill_requested || cairn_task_state_is_terminal (t->state))
        return;
    health_destroy (&t->health);
    if (t->fetching) {
        fetcher_cancel (self->fetcher, t->run_id);
        t->fetching = false;
        s_status (self, t, CAIRN_TASK_KILLED, CAIRN_REASON_TASK_KILLED_DURING_LAUNCH, -1, 0,
                  "killed while its URIs were being fetched");
        s_maybe_forget (self, t);
        return;
    }
    if (!t->container)
        return;
    t->kill_requested = true;
    t->kill_reason = reason;
    free (t->kill_why);
    t->kill_why = why ? xstrdup (why) : NULL;
    t->kill_deadline = now + grace_ms;
    s_status (self, t, CAIRN_TASK_KILLING, reason, -1, 0, "%s%ssending SIGTERM; killing all "
              "after %" PRId64 " ms", why ? why : "", why ? "; " : "", grace_ms);
    /*  Not started yet: the signal goes out when it does (see the
        container event), or the deadline's kill catches it.              */
    if (containerizer_pid (self->containerizer, t->run_id) > 1) {
        if (grace_ms > 0)
            containerizer_signal (self->containerizer, t->run_id, SIGTERM);
        else
            containerizer_kill_all (self->containerizer, t->run_id);
    }
}

/*  Health checks are named by the task's run id.                         */
static void
s_on_health (void *arg, const char *run_id, const health_event_t *ev)
{
    agent_t *self = arg;
    task_t *t = zhashx_lookup (self->runs, run_id);
    if (!t || t->kill_requested)
        return;
    if (ev->kind == HEALTH_CHANGED) {
        t->healthy = ev->healthy ? 1 : 0;
        s_status (self, t, CAIRN_TASK_RUNNING, CAIRN_REASON_NONE, -1, 0, "%s: %s",
                  ev->healthy ? "healthy" : "unhealthy", ev->why);
    }
    else
        s_kill (self, t, s_grace_ms (self, t, -1), CAIRN_REASON_HEALTH_CHECK_FAILED, ev->why,
                self->now);
}

static void
s_start_health (agent_t *self, task_t *t)
{
    if (!t->info.health || t->health)
        return;
    char **env = s_task_env (self, t);
    int port = health_task_port (t->info.resources, t->info.health->port_index);
    t->health = health_new (self->loop, t->info.health, t->run_id, port, t->sandbox, env,
                            s_on_health, self, clock_mono_ms ());
    s_free_strv (env);
    if (!t->health)
        log_warn ("task %s: its health check cannot run: %s", t->key, cairn_strerror_last ());
}

/*  How an ended container ends its task's stream.                        */
static void
s_ended (agent_t *self, task_t *t, const container_event_t *ev)
{
    health_destroy (&t->health);
    t->container = false;
    t->kill_deadline = 0;
    t->shim_pid = 0;
    /*  A task that started is RUNNING before it ends, even when it ends
        before we read its "started" line.                                */
    if (ev->launched && t->state == CAIRN_TASK_STARTING)
        s_status (self, t, CAIRN_TASK_RUNNING, CAIRN_REASON_NONE, -1, 0,
                  "running as pid %d", (int) ev->pid);
    if (ev->oom_killed)
        s_status (self, t, CAIRN_TASK_FAILED, CAIRN_REASON_CONTAINER_LIMITATION_MEMORY,
                  ev->exit_code, ev->signal, "the memory limit of %" PRIu64 " MiB was reached "
                  "(peak %" PRIu64 " MiB): %s", ev->mem_limit_bytes >> 20,
                  ev->mem_peak_bytes >> 20, ev->message);
    else if (t->kill_requested && t->kill_reason == CAIRN_REASON_CONTAINER_LIMITATION_DISK)
        s_status (self, t, CAIRN_TASK_FAILED, t->kill_reason, ev->exit_code, ev->signal,
                  "%s; %s", t->kill_why ? t->kill_why : "over its disk", ev->message);
    else if (t->kill_requested)
        s_status (self, t, CAIRN_TASK_KILLED, t->kill_reason, ev->exit_code, ev->signal,
                  "%s%skilled: %s", t->kill_why ? t->kill_why : "", t->kill_why ? "; " : "",
                  ev->message);
    else if (!ev->launched)
        s_status (self, t, CAIRN_TASK_FAILED, CAIRN_REASON_CONTAINER_LAUNCH_FAILED, -1, 0, "%s",
                  ev->message);
    else if (ev->exit_code == 0)
        s_status (self, t, CAIRN_TASK_FINISHED, CAIRN_REASON_NONE, 0, 0, "%s", ev->message);
    else
        s_status (self, t, CAIRN_TASK_FAILED, CAIRN_REASON_COMMAND_EXECUTOR_FAILED, ev->exit_code,
                  ev->signal, "%s", ev->message);
    s_maybe_forget (self, t);
}

static void
s_on_container (void *arg, const char *id, const container_event_t *ev)
{
    agent_t *self = arg;
    task_t *t = zhashx_lookup (self->runs, id);
    if (!t)
        return;
    if (ev->kind == CONTAINER_STARTED) {
        t->task_pid = ev->pid;
        if (t->kill_requested)
            containerizer_signal (self->containerizer, t->run_id, SIGTERM);
        if (t->state == CAIRN_TASK_STARTING) {
            t->started = self->now;
            s_status (self, t, CAIRN_TASK_RUNNING, CAIRN_REASON_NONE, -1, 0,
                      "running as pid %d", (int) ev->pid);
            s_start_health (self, t);
        }
        else
            s_cp_task (self, t);
        return;
    }
    s_ended (self, t, ev);
}

/*  Usage, disk and garbage collection  */

static void
s_sample_usage (agent_t *self)
{
    proto_msg_t *msg = proto_msg_new (PROTO_USAGE);
    double now = clock_wall ();
    for (task_t *t = zhashx_first (self->tasks); t; t = zhashx_next (self->tasks)) {
        if (!t->container || containerizer_usage (self->containerizer, t->run_id, &t->usage) < 0)
            continue;
        t->has_usage = true;
        /*  On cgroup v1 an OOM kill can take one process and leave the
            task running: the task is over its limit all the same.        */
        if (t->usage.oom_killed && !t->kill_requested)
            s_kill (self, t, 0, CAIRN_REASON_CONTAINER_LIMITATION_MEMORY,
                    "a process of the task was killed at its memory limit", self->now);
        proto_task_usage_t *u = proto_list_push (&msg->u.usage.tasks, sizeof (proto_task_usage_t));
        u->framework_id = xstrdup (t->framework_id);
        u->task_id = xstrdup (t->info.task_id);
        u->cpu_seconds = t->usage.cpu_seconds;
        u->mem_bytes = (int64_t) t->usage.mem_bytes;
        u->mem_peak_bytes = (int64_t) t->usage.mem_peak_bytes;
        u->mem_limit_bytes = (int64_t) t->usage.mem_limit_bytes;
        u->timestamp = now;
    }
    if (self->registered && msg->u.usage.tasks.count > 0)
        s_queue (self, msg);
    else
        proto_msg_destroy (&msg);
}

static void
s_on_du (agent_t *self, const char *run_id, int status, const char *out)
{
    task_t *t = zhashx_lookup (self->runs, run_id);
    unsigned long long kib = 0;
    if (!t)
        return;
    t->du_pid = 0;
    if (sscanf (out, "%llu", &kib) != 1)
        return;             /* du could not tell: try again next time */
    t->disk_bytes = (uint64_t) kib * 1024;
    uint64_t limit = cairn_resources_disk (t->info.resources) << 20;
    if (limit > 0 && t->disk_bytes > limit && t->container && !t->kill_requested) {
        char why[160];
        snprintf (why, sizeof why, "its sandbox uses %llu MiB, over its disk of %" PRIu64 " MiB",
                  (unsigned long long) (t->disk_bytes >> 20), limit >> 20);
        s_kill (self, t, s_grace_ms (self, t, -1), CAIRN_REASON_CONTAINER_LIMITATION_DISK, why,
                self->now);
    }
}

static void
s_check_disk (agent_t *self)
{
    for (task_t *t = zhashx_first (self->tasks); t; t = zhashx_next (self->tasks)) {
        if (!t->container || t->du_pid || cairn_resources_disk (t->info.resources) == 0)
            continue;
        char *argv[] = { "du", "-s", "-k", "-x", t->sandbox, NULL };
        if (s_helper_start (self, argv, t->run_id, s_on_du, &t->du_pid) < 0) {
            log_warn ("task %s: cannot measure its sandbox: %s", t->key, cairn_strerror_last ());
            t->du_pid = 0;
        }
    }
}

static void
s_on_removed (agent_t *self, const char *path, int status, const char *out)
{
    if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
        log_warn ("could not remove the sandbox %s completely", path);
}

/*  Ended tasks' sandboxes go after gc_delay, sooner as the work dir's
    disk fills: the delay shrinks to 0 when less than gc_disk_headroom of
    it is free (as Mesos's agent does).                                   */
static void
s_collect_garbage (agent_t *self)
{
    double delay_s = (double) self->config.gc_delay_ms / 1000.0;
    struct statvfs vfs;
    if (statvfs (self->work_dir, &vfs) == 0 && vfs.f_blocks > 0) {
        double used = 1.0 - (double) vfs.f_bavail / (double) vfs.f_blocks;
        double factor = 1.0 - self->config.gc_disk_headroom - used;
        delay_s *= factor > 0 ? factor : 0;
    }
    double now = clock_wall ();
    for (sandbox_t *sb = zlistx_first (self->sandboxes); sb; sb = zlistx_first (self->sandboxes)) {
        if (now - sb->ended < delay_s)
            break;
        pid_t pid;
        char *argv[] = { "rm", "-rf", "--one-file-system", sb->path, NULL };
        if (s_helper_start (self, argv, sb->path, s_on_removed, &pid) < 0)
            log_warn ("cannot remove %s: %s", sb->path, cairn_strerror_last ());
        else
            log_info ("removing the sandbox of %s (ended %.0f s ago)", sb->key, now - sb->ended);
        zlistx_delete (self->sandboxes, zlistx_cursor (self->sandboxes));
    }
}

/*  Recovery  */

typedef struct {
    agent_t *self;
    bool rebooted;
} recovery_t;

static void
s_recover_task (const checkpoint_task_t *ct, void *arg)
{
    recovery_t *r = arg;
    agent_t *self = r->self;
    task_t *t = s_task_new (self, ct->framework, ct->task, ct->run_id);
    t->sandbox = xstrdup (ct->sandbox);
    t->run_dir = xstrdup (ct->run_dir);
    t->state = ct->state;
    t->kill_requested = ct->kill_requested;
    t->kill_reason = ct->kill_requested ? CAIRN_REASON_KILLED_BY_SCHEDULER : CAIRN_REASON_NONE;
    t->shim_pid = ct->shim_pid;
    t->shim_start = ct->shim_start;
    t->task_pid = ct->task_pid;
}

static void
s_recover_update (const char *key, int64_t seq, const proto_status_t *status, void *arg)
{
    recovery_t *r = arg;
    task_t *t = zhashx_lookup (r->self->tasks, key);
    if (!t)
        return;
    update_t *u = xzalloc (sizeof *u);
    proto_status_copy (&u->status, status);
    u->seq = seq;
    if (seq > t->seq)
        t->seq = seq;
    if (t->updates_tail)
        t->updates_tail->next = u;
    else
        t->updates = u;
    t->updates_tail = u;
}

/*  Decides, for each recovered task, whether its shim still runs (adopt
    it), ended while no agent watched (read how), or is gone for good.    */
static void
s_resume_task (agent_t *self, task_t *t, bool rebooted)
{
    if (cairn_task_state_is_terminal (t->state))
        return;                 /* only its unacknowledged updates remain */
    if (t->shim_pid <= 0) {
        /*  It never got a supervisor (a fetch, or a crash before spawn).  */
        s_status (self, t, CAIRN_TASK_LOST, CAIRN_REASON_AGENT_RESTARTED, -1, 0,
                  "the agent restarted before the task started");
        return;
    }
    if (rebooted) {
        s_status (self, t, CAIRN_TASK_LOST, CAIRN_REASON_AGENT_RESTARTED, -1, 0,
                  "the machine rebooted: the task's processes are gone");
        t->shim_pid = 0;
        /*  After a real reboot nothing of it is left; whatever goes by its
            names now is not the task's and must not hold its container.  */
        isolator_kill_all (self->isolator, t->run_id, t->task_pid);
        isolator_cleanup (self->isolator, t->run_id);
        return;
    }
    if (checkpoint_same_process (t->shim_pid, t->shim_start) == 1
        && containerizer_adopt (self->containerizer, t->run_id, t->run_dir, t->shim_pid,
                                t->task_pid) == 0) {
        t->container = true;
        t->task_pid = containerizer_pid (self->containerizer, t->run_id);
        t->started = self->now;
        log_info ("task %s: re-attached to its supervisor (pid %d)", t->key, (int) t->shim_pid);
        if (t->state == CAIRN_TASK_STARTING && t->task_pid > 1)
            s_status (self, t, CAIRN_TASK_RUNNING, CAIRN_REASON_NONE, -1, 0,
                      "running as pid %d", (int) t->task_pid);
        else
            s_cp_task (self, t);
        if (t->kill_requested) {
            t->kill_deadline = self->now;
            return;
        }
        s_start_health (self, t);
        return;
    }
    /*  The shim ended while the agent was away: its status file says
        how the task ended.                                               */
    container_event_t ev;
    containerizer_reap (self->containerizer, t->run_id, t->run_dir, t->task_pid, &ev);
    log_info ("task %s: ended while the agent was away: %s", t->key, ev.message);
    t->container = true;        /* s_ended expects it */
    s_ended (self, t, &ev);
}

int
agent_recover (agent_t *self)
{
    char boot[CHECKPOINT_BOOT_ID_SIZE];
    if (checkpoint_boot_id (boot) < 0)
        return -1;
    char *old_boot = checkpoint_get_meta (self->checkpoint, CHECKPOINT_META_BOOT_ID);
    char *old_id = checkpoint_get_meta (self->checkpoint, CHECKPOINT_META_AGENT_ID);
    char *old_res = checkpoint_get_meta (self->checkpoint, CHECKPOINT_META_RESOURCES);
    char *res = cairn_resources_format (&self->resources);
    int rc = -1;
    recovery_t r = { .self = self, .rebooted = old_boot && strcmp (old_boot, boot) != 0 };
    if (old_id && old_res && strcmp (old_res, res) != 0) {
        error_set (EINVAL, "this agent's resources changed since it last ran (then %s, now %s): "
                   "restart it with the earlier --resources to recover its tasks, or move "
                   "%s away to start anew (its tasks will be reported lost)", old_res, res,
                   checkpoint_path (self->checkpoint));
        goto done;
    }
    if (checkpoint_load (self->checkpoint, s_recover_task, s_recover_update, &r) < 0)
        goto done;
    if (old_id) {
        s_set_str (&self->id, old_id);
        if (isolator_set_agent_id (self->isolator, old_id) < 0)
            log_error ("%s", cairn_strerror_last ());
    }
    size_t n = zhashx_size (self->tasks);
    if (old_id || n)
        log_info ("recovering agent %s: %zu tasks%s", old_id ? old_id : "(unregistered)", n,
                  r.rebooted ? " (the machine rebooted since)" : "");
    zlistx_t *tasks = zlistx_new ();
    for (task_t *t = zhashx_first (self->tasks); t; t = zhashx_next (self->tasks))
        zlistx_add_end (tasks, t);
    for (task_t *t = zlistx_first (tasks); t; t = zlistx_next (tasks))
        s_resume_task (self, t, r.rebooted);
    zlistx_destroy (&tasks);
    /*  Containers no checkpoint mentions belong to nobody (a crash between
        spawning and committing): they must not run unaccounted for.      */
    char **ids = *self->id ? isolator_list (self->isolator) : NULL;
    for (size_t i = 0; ids && ids[i]; i++)
        if (!zhashx_lookup (self->runs, ids[i])) {
            log_warn ("removing container %s, which no task of this agent knows", ids[i]);
            isolator_kill_all (self->isolator, ids[i], 0);
            isolator_cleanup (self->isolator, ids[i]);
        }
    isolator_strv_free (&ids);
    s_cp_check (self, checkpoint_set_meta (self->checkpoint, CHECKPOINT_META_BOOT_ID, boot));
    s_cp_check (self, checkpoint_set_meta (self->checkpoint, CHECKPOINT_META_RESOURCES, res));
    s_cp_check (self, checkpoint_set_meta (self->checkpoint, CHECKPOINT_META_HOSTNAME,
                                           self->hostname));
    rc = agent_commit (self);
done:
    free (old_boot);
    free (old_id);
    free (old_res);
    free (res);
    return rc;
}

/*  Session with the master  */

static void
s_send_register (agent_t *self)
{
    proto_msg_t *msg = proto_msg_new (PROTO_AGENT_REGISTER);
    proto_agent_register_t *r = &msg->u.agent_register;
    s_set_str (&r->agent_id, self->id);
    s_set_str (&r->hostname, self->hostname);
    s_set_str (&r->http_address, self->http_address);
    s_set_str (&r->version, PACKAGE_VERSION);
    resources_copy (r->resources, &self->resources);
    proto_kv_copy (&r->attributes, &self->attributes);
    for (task_t *t = zhashx_first (self->tasks); t; t = zhashx_next (self->tasks)) {
        /*  Ended tasks whose last updates are not acknowledged yet are
            reported too, so the master does not take them for lost.      */
        proto_agent_task_t *at = proto_list_push (&r->tasks, sizeof (proto_agent_task_t));
        at->framework_id = xstrdup (t->framework_id);
        proto_task_copy (&at->task, &t->info);
        at->state = t->state;
    }
    s_queue (self, msg);
}

static void
s_sandbox_free (void **item)
{
    sandbox_t *sb = *item;
    if (sb) {
        free (sb->path);
        free (sb->key);
        free (sb);
        *item = NULL;
    }
}

agent_t *
agent_new (const agent_config_t *config, zloop_t *loop, isolator_t *isolator)
{
    agent_t *self = xzalloc (sizeof *self);
    self->config = *config;
    self->work_dir = xstrdup (config->work_dir);
    self->hostname = xstrdup (config->hostname);
    self->http_address = xstrdup (config->http_address);
    resources_copy (&self->resources, config->resources);
    if (config->attributes)
        proto_kv_copy (&self->attributes, config->attributes);
    self->id = xstrdup ("");
    self->ping_ms = 5000;
    self->backoff = REGISTER_BACKOFF_MIN_MS;
    self->tasks = zhashx_new ();
    zhashx_set_destructor (self->tasks, s_task_destructor);
    self->sandboxes = zlistx_new ();
    zlistx_set_destructor (self->sandboxes, s_sandbox_free);
    self->isolator = isolator;
    self->loop = loop;
    self->runs = zhashx_new ();
    self->helpers = zhashx_new ();
    zhashx_set_destructor (self->helpers, s_helper_free);
    self->checkpoint = checkpoint_open (config->work_dir);
    self->containerizer = self->checkpoint
                              ? containerizer_new (loop, isolator, config->shim_path,
                                                   config->shim_launcher, s_on_container, self)
                              : NULL;
    char *cache = xasprintf ("%s/cache", config->work_dir);
    self->fetcher = self->containerizer
                        ? fetcher_new (loop, config->fetcher_path, cache,
                                       config->fetch_cache_bytes, s_on_fetched, self)
                        : NULL;
    free (cache);
    if (!self->checkpoint || !self->containerizer || !self->fetcher) {
        agent_destroy (&self, false);
        return NULL;
    }
    return self;
}

void
agent_destroy (agent_t **self_p, bool kill_tasks)
{
    if (!self_p || !*self_p)
        return;
    agent_t *self = *self_p;
    /*  Checks, fetches and helpers belong to this process: end them.     */
    for (task_t *t = zhashx_first (self->tasks); t; t = zhashx_next (self->tasks)) {
        health_destroy (&t->health);
        /*  A task killed on the way out is reported killed on restart.    */
        if (kill_tasks && t->container && self->checkpoint) {
            t->kill_requested = true;
            s_cp_task (self, t);
        }
    }
    if (self->checkpoint && checkpoint_dirty (self->checkpoint))
        checkpoint_commit (self->checkpoint);
    fetcher_destroy (&self->fetcher);
    containerizer_destroy (&self->containerizer, kill_tasks);
    zhashx_destroy (&self->helpers);
    zhashx_destroy (&self->runs);
    zhashx_destroy (&self->tasks);
    zlistx_destroy (&self->sandboxes);
    checkpoint_close (&self->checkpoint);
    outmsg_t *pending = outbox_take (&self->outbox);
    outmsg_destroy_list (&pending);
    resources_fini (&self->resources);
    proto_kv_fini (&self->attributes);
    free (self->work_dir);
    free (self->hostname);
    free (self->http_address);
    free (self->id);
    free (self->fatal);
    free (self);
    *self_p = NULL;
}

const char *
agent_id (agent_t *self)
{
    return self->id;
}

bool
agent_shutdown_requested (agent_t *self)
{
    return self->shutdown;
}

void
agent_handle (agent_t *self, proto_msg_t *msg, int64_t now)
{
    self->now = now;
    self->last_heard = now;
    switch (msg->type) {
        case PROTO_AGENT_REGISTERED: {
            proto_agent_registered_t *r = &msg->u.agent_registered;
            /*  The answer to a registration resent before the first
                answer came: nothing new, and no need to resend updates.   */
            if (self->registered && strcmp (r->agent_id, self->id) == 0)
                break;
            bool first = !*self->id;
            if (strcmp (r->agent_id, self->id) != 0) {
                s_set_str (&self->id, r->agent_id);
                s_cp_check (self, checkpoint_set_meta (self->checkpoint,
                                                       CHECKPOINT_META_AGENT_ID, self->id));
                if (isolator_set_agent_id (self->isolator, self->id) < 0)
                    log_error ("%s", cairn_strerror_last ());
            }
            self->registered = true;
            self->ping_ms = r->ping_interval_ms;
            self->backoff = REGISTER_BACKOFF_MIN_MS;
            log_info ("%s as agent %s with master %s", first ? "registered" : "re-registered",
                      self->id, r->master_id);
            for (task_t *t = zhashx_first (self->tasks); t; t = zhashx_next (self->tasks))
                s_send_head (self, t, now);
            break;
        }
        case PROTO_RUN_TASKS: {
            if (!self->registered)
                break;
            proto_task_t *tasks = msg->u.run_tasks.tasks.items;
            for (size_t i = 0; i < msg->u.run_tasks.tasks.count; i++)
                s_launch (self, msg->u.run_tasks.framework, &tasks[i], now);
            break;
        }
        case PROTO_KILL_TASK: {
            proto_kill_task_t *k = &msg->u.kill_task;
            char key[2 * PROTO_MAX_ID + 2];
            snprintf (key, sizeof key, "%s/%s", k->framework_id, k->task_id);
            task_t *t = zhashx_lookup (self->tasks, key);
            if (t)
                s_kill (self, t, s_grace_ms (self, t, k->grace_ms),
                        CAIRN_REASON_KILLED_BY_SCHEDULER, NULL, now);
            else if (self->registered) {
                /*  Unknown here: tell the master so it stops waiting.    */
                proto_msg_t *st = proto_msg_new (PROTO_STATUS_UPDATE);
                proto_status_t *s = &st->u.status;
                s_set_str (&s->task_id, k->task_id);
                s_set_str (&s->framework_id, k->framework_id);
                s_set_str (&s->agent_id, self->id);
                s->state = CAIRN_TASK_LOST;
                s->reason = CAIRN_REASON_TASK_UNKNOWN;
                s->timestamp = clock_wall ();
                s_set_str (&s->message, "the agent does not know this task");
                s_queue (self, st);
            }
            break;
        }
        case PROTO_STATUS_ACK:
            s_handle_ack (self, &msg->u.status_ack, now);
            break;
        case PROTO_PING: {
            proto_msg_t *pong = proto_msg_new (PROTO_PONG);
            pong->u.ping.seq = msg->u.ping.seq;
            s_queue (self, pong);
            break;
        }
        case PROTO_PONG:
            break;
        case PROTO_AGENT_SHUTDOWN:
            log_error ("the master told this agent to shut down: %s",
                       msg->u.agent_shutdown.message);
            self->shutdown = true;
            break;
        case PROTO_ERROR:
            if (strcmp (msg->u.error.code, "not-registered") == 0) {
                self->registered = false;
                self->next_register = 0;
            }
            log_warn ("the master says: %s (%s)", msg->u.error.message, msg->u.error.code);
            break;
        default:
            log_warn ("unexpected %s from the master", proto_type_name (msg->type));
            break;
    }
    proto_msg_destroy (&msg);
}

void
agent_handle_invalid (agent_t *self, const char *why)
{
    log_warn ("dropped an invalid message from the master: %s", why);
}

void
agent_tick (agent_t *self, int64_t now)
{
    self->now = now;
    if (!self->registered && now >= self->next_register) {
        s_send_register (self);
        self->next_register = now + self->backoff;
        self->backoff = self->backoff * 2 > REGISTER_BACKOFF_MAX_MS ? REGISTER_BACKOFF_MAX_MS
                                                                    : self->backoff * 2;
    }
    for (task_t *t = zhashx_first (self->tasks); t; t = zhashx_next (self->tasks)) {
        if (self->registered && t->updates && now >= t->next_retry) {
            t->retry_ms = t->retry_ms * 2 > UPDATE_RETRY_MAX_MS ? UPDATE_RETRY_MAX_MS
                                                                : t->retry_ms * 2;
            s_send_head (self, t, now);
        }
        if (t->kill_deadline && now >= t->kill_deadline && t->container) {
            /*  Everything in the container; again next tick if some
                processes outlast the isolator's bounded wait.           */
            t->kill_deadline = containerizer_kill_all (self->containerizer, t->run_id) < 0
                                   ? now + 100 : 0;
        }
    }
    if (self->config.usage_interval_ms > 0 && now >= self->next_usage) {
        self->next_usage = now + self->config.usage_interval_ms;
        s_sample_usage (self);
    }
    if (self->config.disk_check_interval_ms > 0 && now >= self->next_disk) {
        self->next_disk = now + self->config.disk_check_interval_ms;
        s_check_disk (self);
    }
    if (now >= self->next_gc) {
        self->next_gc = now + GC_CHECK_MS;
        s_collect_garbage (self);
    }
}

bool
agent_master_lost (agent_t *self, int64_t now)
{
    return self->registered
        && now - self->last_heard > self->config.max_ping_misses * self->ping_ms + 1000;
}

void
agent_reconnected (agent_t *self, int64_t now)
{
    log_warn ("the master has been silent for %" PRId64 " ms: reconnecting",
              now - self->last_heard);
    self->registered = false;
    self->next_register = 0;
    self->backoff = REGISTER_BACKOFF_MIN_MS;
    self->last_heard = now;
}

/*  Operator views  */

static json_t *
s_resources_json (const cairn_resources_t *r)
{
    char *text = cairn_resources_format (r);
    json_t *j = json_pack ("{s:f s:I s:I s:I s:s}", "cpus", cairn_resources_cpus (r),
                           "mem", (json_int_t) cairn_resources_mem (r),
                           "disk", (json_int_t) cairn_resources_disk (r),
                           "ports", (json_int_t) cairn_resources_port_count (r),
                           "text", text);
    free (text);
    return j;
}

json_t *
agent_state_json (agent_t *self)
{
    json_t *tasks = json_array ();
    cairn_resources_t used;
    resources_init (&used);
    for (task_t *t = zhashx_first (self->tasks); t; t = zhashx_next (self->tasks)) {
        if (!cairn_task_state_is_terminal (t->state))
            cairn_resources_add (&used, t->info.resources);
        size_t pending = 0;
        for (update_t *u = t->updates; u; u = u->next)
            pending++;
        json_t *task = json_pack (
            "{s:s s:s s:s s:s s:s s:o s:I s:I s:I}", "id", t->info.task_id,
            "framework_id", t->framework_id, "run_id", t->run_id,
            "state", cairn_task_state_name (t->state), "sandbox", t->sandbox,
            "resources", s_resources_json (t->info.resources),
            "pid", (json_int_t) containerizer_pid (self->containerizer, t->run_id),
            "shim_pid", (json_int_t) t->shim_pid,
            "unacknowledged_updates", (json_int_t) pending);
        if (t->healthy >= 0)
            json_object_set_new (task, "healthy", json_boolean (t->healthy));
        if (t->has_usage)
            json_object_set_new (task, "usage", json_pack (
                "{s:f s:I s:I s:I s:b}", "cpu_seconds", t->usage.cpu_seconds,
                "mem_bytes", (json_int_t) t->usage.mem_bytes,
                "mem_peak_bytes", (json_int_t) t->usage.mem_peak_bytes,
                "mem_limit_bytes", (json_int_t) t->usage.mem_limit_bytes,
                "oom_killed", t->usage.oom_killed));
        if (t->disk_bytes)
            json_object_set_new (task, "disk_bytes", json_integer ((json_int_t) t->disk_bytes));
        json_array_append_new (tasks, task);
    }
    json_t *state = json_pack ("{s:s s:s s:s s:s s:b s:s s:o s:o s:o s:o}",
                               "id", self->id, "hostname", self->hostname,
                               "http_address", self->http_address,
                               "version", PACKAGE_VERSION, "registered", self->registered,
                               "isolation", isolator_name (self->isolator),
                               "resources", s_resources_json (&self->resources),
                               "used", s_resources_json (&used),
                               "attributes", json_object (), "tasks", tasks);
    json_t *attrs = json_object_get (state, "attributes");
    for (size_t i = 0; i < self->attributes.count; i++)
        json_object_set_new (attrs, self->attributes.keys[i],
                             json_string (self->attributes.values[i]));
    resources_fini (&used);
    return state;
}

/*  Prometheus text exposition format, version 0.0.4.                     */
char *
agent_metrics_text (agent_t *self, size_t *size)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream (&buf, &len);
    if (!f)
        oom_abort ();
    int counts[CAIRN_TASK_STATE_COUNT] = { 0 };
    for (task_t *t = zhashx_first (self->tasks); t; t = zhashx_next (self->tasks))
        counts[t->state]++;
    fprintf (f, "# HELP cairn_agent_registered Whether the agent is registered with a master.\n"
                "# TYPE cairn_agent_registered gauge\ncairn_agent_registered %d\n",
             self->registered ? 1 : 0);
    fprintf (f, "# HELP cairn_agent_tasks Tasks on this agent, by the state last reported.\n"
                "# TYPE cairn_agent_tasks gauge\n");
    for (int st = 0; st < CAIRN_TASK_STATE_COUNT; st++)
        fprintf (f, "cairn_agent_tasks{state=\"%s\"} %d\n", cairn_task_state_name (st), counts[st]);
    fprintf (f, "# HELP cairn_agent_resources Resources this agent offers.\n"
                "# TYPE cairn_agent_resources gauge\n"
                "cairn_agent_resources{resource=\"cpus\"} %g\n"
                "cairn_agent_resources{resource=\"mem_mib\"} %" PRIu64 "\n"
                "cairn_agent_resources{resource=\"disk_mib\"} %" PRIu64 "\n",
             cairn_resources_cpus (&self->resources), cairn_resources_mem (&self->resources),
             cairn_resources_disk (&self->resources));
    fprintf (f, "# HELP cairn_agent_task_cpu_seconds_total CPU time used by a running task.\n"
                "# TYPE cairn_agent_task_cpu_seconds_total counter\n");
    for (task_t *t = zhashx_first (self->tasks); t; t = zhashx_next (self->tasks))
        if (t->has_usage && t->container)
            fprintf (f, "cairn_agent_task_cpu_seconds_total{framework_id=\"%s\",task_id=\"%s\"} "
                        "%.3f\n", t->framework_id, t->info.task_id, t->usage.cpu_seconds);
    fprintf (f, "# HELP cairn_agent_task_memory_bytes Memory in use by a running task.\n"
                "# TYPE cairn_agent_task_memory_bytes gauge\n");
    for (task_t *t = zhashx_first (self->tasks); t; t = zhashx_next (self->tasks))
        if (t->has_usage && t->container)
            fprintf (f, "cairn_agent_task_memory_bytes{framework_id=\"%s\",task_id=\"%s\"} %"
                        PRIu64 "\n", t->framework_id, t->info.task_id, t->usage.mem_bytes);
    fprintf (f, "# HELP cairn_agent_task_memory_peak_bytes The most memory a running task "
                "used.\n# TYPE cairn_agent_task_memory_peak_bytes gauge\n");
    for (task_t *t = zhashx_first (self->tasks); t; t = zhashx_next (self->tasks))
        if (t->has_usage && t->container)
            fprintf (f, "cairn_agent_task_memory_peak_bytes{framework_id=\"%s\",task_id=\"%s\"} %"
                        PRIu64 "\n", t->framework_id, t->info.task_id, t->usage.mem_peak_bytes);
    const checkpoint_stats_t *cs = checkpoint_stats (self->checkpoint);
    fprintf (f, "# HELP cairn_agent_checkpoint_commits_total Checkpoint commits (one fsync "
                "each).\n# TYPE cairn_agent_checkpoint_commits_total counter\n"
                "cairn_agent_checkpoint_commits_total %" PRIu64 "\n", cs->commits);
    if (fclose (f) != 0)
        oom_abort ();
    *size = len;
    return buf;
}

const char *
agent_task_sandbox (agent_t *self, const char *framework_id, const char *task_id)
{
    char key[2 * PROTO_MAX_ID + 2];
    snprintf (key, sizeof key, "%s/%s", framework_id, task_id);
    task_t *t = zhashx_lookup (self->tasks, key);
    if (t && t->sandbox && *t->sandbox)
        return t->sandbox;
    for (sandbox_t *sb = zlistx_last (self->sandboxes); sb; sb = zlistx_prev (self->sandboxes))
        if (strcmp (sb->key, key) == 0)
            return sb->path;
    return "";
}
