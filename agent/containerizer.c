/*  containerizer.c - shims, sandboxes and pidfds.

    Invariant: a container is in the table from launch until its ENDED
    event has been delivered; its pollers are registered exactly while
    their fds are open.                                                    */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "containerizer.h"
#include "error.h"
#include "launcher.h"
#include "log.h"
#include "util.h"

typedef struct {
    containerizer_t *owner;
    char *id;
    char *run_dir;
    pid_t shim;
    pid_t task;
    int pidfd;
    int pipefd;
    char line[256];             /* the shim's stdout, until a newline */
    size_t len;
} container_t;

struct _containerizer_t {
    zloop_t *loop;
    isolator_t *isolator;
    char *shim_path;
    container_event_fn *fn;
    void *arg;
    zhashx_t *containers;       /* id -> container_t * */
    bool use_launcher;
    launcher_t *launcher;       /* started at the first launch */
    int64_t launcher_retry_at;  /* after a failure, posix_spawn until then */
};

#define LAUNCHER_RETRY_MS 10000

/*  Kills what is left of an ended container and removes it, logging
    (not failing) when processes outlast the isolator's bounded wait.     */
static void
s_remove (containerizer_t *self, const char *id, pid_t pgid)
{
    if (isolator_kill_all (self->isolator, id, pgid) < 0
        || isolator_cleanup (self->isolator, id) < 0)
        log_warn ("container %s: %s", id, cairn_strerror_last ());
}

static void
s_container_free (void **item)
{
    container_t *c = *item;
    if (c) {
        zmq_pollitem_t item_pipe = { NULL, c->pipefd, ZMQ_POLLIN, 0 };
        zmq_pollitem_t item_pid = { NULL, c->pidfd, ZMQ_POLLIN, 0 };
        if (c->pipefd >= 0) {
            zloop_poller_end (c->owner->loop, &item_pipe);
            close (c->pipefd);
        }
        if (c->pidfd >= 0) {
            zloop_poller_end (c->owner->loop, &item_pid);
            close (c->pidfd);
        }
        free (c->id);
        free (c->run_dir);
        free (c);
        *item = NULL;
    }
}

containerizer_t *
containerizer_new (zloop_t *loop, isolator_t *isolator, const char *shim_path,
                   bool use_launcher, container_event_fn *fn, void *arg)
{
    if (access (shim_path, X_OK) < 0) {
        error_set (errno, "cannot run the task supervisor %s: %s", shim_path, strerror (errno));
        return NULL;
    }
    containerizer_t *self = xzalloc (sizeof *self);
    self->loop = loop;
    self->isolator = isolator;
    self->shim_path = xstrdup (shim_path);
    self->use_launcher = use_launcher;
    self->fn = fn;
    self->arg = arg;
    self->containers = zhashx_new ();
    zhashx_set_destructor (self->containers, s_container_free);
    return self;
}

void
containerizer_destroy (containerizer_t **self_p, bool kill_all)
{
    if (!self_p || !*self_p)
        return;
    containerizer_t *self = *self_p;
    for (container_t *c = zhashx_first (self->containers); c; c = zhashx_next (self->containers)) {
        if (kill_all && c->task > 1) {
            isolator_kill_all (self->isolator, c->id, c->task);
            /*  Let the shim record the end and leave (reaping it if it is
                ours rather than the launcher's) before its cgroups go.   */
            struct pollfd p = { c->pidfd, POLLIN, 0 };
            if (c->pidfd >= 0)
                poll (&p, 1, 2000);
            if (c->shim > 0)
                waitpid (c->shim, NULL, WNOHANG);
            if (isolator_cleanup (self->isolator, c->id) < 0)
                log_warn ("container %s: %s", c->id, cairn_strerror_last ());
        }
    }
    zhashx_destroy (&self->containers);
    launcher_destroy (&self->launcher);
    free (self->shim_path);
    free (self);
    *self_p = NULL;
}

static void
s_parse_line (container_t *c)
{
    int pid;
    if (sscanf (c->line, "started %d", &pid) == 1 && pid > 1 && c->task == 0) {
        c->task = pid;
        container_event_t ev = { .kind = CONTAINER_STARTED, .pid = pid };
        c->owner->fn (c->owner->arg, c->id, &ev);
    }
}

/*  Reads what the shim wrote; returns false at EOF.                       */
static bool
s_read_pipe (container_t *c)
{
    while (true) {
        char buf[256];
        ssize_t n = read (c->pipefd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == EAGAIN;
        if (n == 0)
            return false;
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n') {
                c->line[c->len] = '\0';
                s_parse_line (c);
                c->len = 0;
            }
            else if (c->len < sizeof c->line - 1)
                c->line[c->len++] = buf[i];
        }
    }
}

static int
s_on_pipe (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    container_t *c = arg;
    if (!s_read_pipe (c)) {
        zloop_poller_end (loop, item);
        close (c->pipefd);
        c->pipefd = -1;
    }
    return 0;
}

static void
s_read_status (container_t *c, container_event_t *ev)
{
    char path[4200];
    snprintf (path, sizeof path, "%s/status", c->run_dir);
    char *text = util_read_file (path, 4096, NULL);
    ev->launched = c->task > 0;
    ev->exit_code = -1;
    ev->signal = 0;
    int n;
    if (!text)
        snprintf (ev->message, sizeof ev->message,
                  "the task's supervisor ended without recording how the task ended");
    else if (sscanf (text, "exited %d", &n) == 1) {
        ev->exit_code = n;
        snprintf (ev->message, sizeof ev->message, "exited with status %d", n);
    }
    else if (sscanf (text, "signaled %d", &n) == 1) {
        ev->signal = n;
        snprintf (ev->message, sizeof ev->message, "killed by signal %d (%s)", n, strsignal (n));
    }
    else {
        text[strcspn (text, "\n")] = '\0';
        ev->launched = false;
        snprintf (ev->message, sizeof ev->message, "could not start the task: %s",
                  strncmp (text, "failed ", 7) == 0 ? text + 7 : text);
    }
    free (text);
}

/*  Whether the memory limit ended the task: readable only before the
    container is removed.                                                 */
static void
s_read_oom (containerizer_t *self, const char *id, pid_t task, container_event_t *ev)
{
    isolator_usage_t usage;
    if (isolator_usage (self->isolator, id, task, &usage) == 0 && usage.oom_killed) {
        ev->oom_killed = true;
        ev->mem_limit_bytes = usage.mem_limit_bytes;
        ev->mem_peak_bytes = usage.mem_peak_bytes;
    }
}

static int
s_on_exit (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    container_t *c = arg;
    containerizer_t *self = c->owner;
    /*  The shim is our child unless the agent restarted; either way the
        status file is the record.                                         */
    waitpid (c->shim, NULL, WNOHANG);
    if (c->pipefd >= 0)
        s_read_pipe (c);
    container_event_t ev = { .kind = CONTAINER_ENDED, .pid = c->task };
    s_read_status (c, &ev);
    s_read_oom (self, c->id, c->task, &ev);
    /*  The task's own children may outlive it in its container.          */
    s_remove (self, c->id, c->task);
    char *id = xstrdup (c->id);
    zhashx_delete (self->containers, id);       /* ends both pollers */
    self->fn (self->arg, id, &ev);
    free (id);
    return 0;
}

/*  posix_spawn of the shim binary: the way without a launcher.           */
static pid_t
s_posix_spawn_shim (containerizer_t *self, char **shim_argv, char *const envp[], int out_fd,
                    const char *logpath)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init (&fa);
    posix_spawnattr_init (&attr);
    posix_spawn_file_actions_addopen (&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2 (&fa, out_fd, 1);
    posix_spawn_file_actions_addopen (&fa, 2, logpath, O_WRONLY | O_CREAT | O_APPEND, 0600);
    /*  Nothing of the agent's leaks into the shim or the task.           */
    posix_spawn_file_actions_addclosefrom_np (&fa, 3);
    sigset_t none, defaults;
    sigemptyset (&none);
    sigemptyset (&defaults);
    sigaddset (&defaults, SIGPIPE);
    sigaddset (&defaults, SIGTERM);
    sigaddset (&defaults, SIGINT);
    sigaddset (&defaults, SIGHUP);
    sigaddset (&defaults, SIGCHLD);
    posix_spawnattr_setsigmask (&attr, &none);
    posix_spawnattr_setsigdefault (&attr, &defaults);
    /*  Its own session: a Ctrl-C or a signal to the agent's process group
        does not reach the shim.                                           */
    posix_spawnattr_setflags (&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK
                                         | POSIX_SPAWN_SETSIGDEF);
    pid_t shim = -1;
    int err = posix_spawn (&shim, self->shim_path, &fa, &attr, shim_argv, envp);
    posix_spawn_file_actions_destroy (&fa);
    posix_spawnattr_destroy (&attr);
    if (err != 0)
        return error_set (err, "cannot start %s: %s", self->shim_path, strerror (err));
    return shim;
}

static int64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*  Starts the shim: through the launcher when there is one (started on
    first use), else with posix_spawn. A launcher that fails is replaced
    after LAUNCHER_RETRY_MS; until then shims are spawned, so a broken
    launcher costs speed, never a task. 0 with *shim and *pidfd.         */
static int
s_spawn_shim (containerizer_t *self, char **shim_argv, char *const envp[], int out_fd,
              const char *logpath, pid_t *shim, int *pidfd)
{
    if (self->use_launcher && !self->launcher && s_now_ms () >= self->launcher_retry_at) {
        self->launcher = launcher_new (self->shim_path);
        if (!self->launcher) {
            log_warn ("shims are started one exec each: %s", cairn_strerror_last ());
            self->launcher_retry_at = s_now_ms () + LAUNCHER_RETRY_MS;
        }
    }
    if (self->launcher) {
        int logfd = open (logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (logfd < 0)
            return error_set (errno, "cannot open %s: %s", logpath, strerror (errno));
        *shim = launcher_spawn (self->launcher, shim_argv, envp, out_fd, logfd, pidfd);
        int err = errno;
        close (logfd);
        if (*shim > 0)
            return 0;
        if (err != E2BIG) {
            /*  Gone, stuck or unable to fork: start afresh later.        */
            log_warn ("%s; shims are started one exec each for a while",
                      cairn_strerror_last ());
            launcher_destroy (&self->launcher);
            self->launcher_retry_at = s_now_ms () + LAUNCHER_RETRY_MS;
        }
    }
    *shim = s_posix_spawn_shim (self, shim_argv, envp, out_fd, logpath);
    if (*shim < 0)
        return -1;
    *pidfd = (int) syscall (SYS_pidfd_open, *shim, 0);
    if (*pidfd < 0) {
        /*  Without a pidfd we could not see the task end: stop it now.    */
        error_set (errno, "pidfd_open: %s", strerror (errno));
        kill (*shim, SIGKILL);
        waitpid (*shim, NULL, 0);
        return -1;
    }
    return 0;
}

int
containerizer_launch (containerizer_t *self, const char *id, const char *sandbox,
                      const char *run_dir, const cairn_resources_t *resources,
                      const proto_kv_t *labels, char *const shim_args[], char *const argv[],
                      char *const envp[])
{
    if (zhashx_lookup (self->containers, id))
        return error_set (EEXIST, "container %s exists already", id);
    char **join = NULL;
    if (isolator_prepare (self->isolator, id, resources, labels, &join) < 0)
        return -1;
    size_t argc = 0, njoin = 0, nextra = 0;
    while (argv[argc])
        argc++;
    while (join && join[njoin])
        njoin++;
    while (shim_args && shim_args[nextra])
        nextra++;
    char **shim_argv = xzalloc ((argc + njoin + nextra + 5) * sizeof (char *));
    size_t k = 0;
    shim_argv[k++] = self->shim_path;
    shim_argv[k++] = xasprintf ("--sandbox=%s", sandbox);
    shim_argv[k++] = xasprintf ("--run-dir=%s", run_dir);
    for (size_t i = 0; i < njoin; i++)
        shim_argv[k++] = join[i];
    for (size_t i = 0; i < nextra; i++)
        shim_argv[k++] = shim_args[i];
    shim_argv[k++] = "--";
    for (size_t i = 0; i < argc; i++)
        shim_argv[k++] = argv[i];
    shim_argv[k] = NULL;

    int fds[2] = { -1, -1 };
    int pidfd = -1;
    pid_t shim = -1;
    char logpath[4200];
    snprintf (logpath, sizeof logpath, "%s/shim.log", run_dir);
    int rc = -1;
    if (pipe2 (fds, O_CLOEXEC) < 0) {
        error_set (errno, "cannot create a pipe: %s", strerror (errno));
        goto done;
    }
    if (s_spawn_shim (self, shim_argv, envp, fds[1], logpath, &shim, &pidfd) < 0)
        goto done;
    close (fds[1]);
    fds[1] = -1;
    container_t *c = xzalloc (sizeof *c);
    c->owner = self;
    c->id = xstrdup (id);
    c->run_dir = xstrdup (run_dir);
    c->shim = shim;
    c->pidfd = pidfd;
    c->pipefd = fds[0];
    fcntl (c->pipefd, F_SETFL, O_NONBLOCK);
    fds[0] = -1;
    zhashx_insert (self->containers, id, c);
    zmq_pollitem_t item_pipe = { NULL, c->pipefd, ZMQ_POLLIN, 0 };
    zmq_pollitem_t item_pid = { NULL, c->pidfd, ZMQ_POLLIN, 0 };
    zloop_poller (self->loop, &item_pipe, s_on_pipe, c);
    zloop_poller (self->loop, &item_pid, s_on_exit, c);
    rc = 0;
done:
    if (rc < 0)
        isolator_cleanup (self->isolator, id);
    if (fds[0] >= 0)
        close (fds[0]);
    if (fds[1] >= 0)
        close (fds[1]);
    free (shim_argv[1]);
    free (shim_argv[2]);
    free (shim_argv);
    isolator_strv_free (&join);
    return rc;
}

int
containerizer_signal (containerizer_t *self, const char *id, int sig)
{
    container_t *c = zhashx_lookup (self->containers, id);
    if (!c)
        return error_set (ESRCH, "no container %s", id);
    if (c->task <= 1)
        return error_set (EAGAIN, "container %s has not started its task yet", id);
    return isolator_signal (self->isolator, id, c->task, sig);
}

int
containerizer_kill_all (containerizer_t *self, const char *id)
{
    container_t *c = zhashx_lookup (self->containers, id);
    if (!c)
        return error_set (ESRCH, "no container %s", id);
    if (c->task <= 1)
        return error_set (EAGAIN, "container %s has not started its task yet", id);
    return isolator_kill_all (self->isolator, id, c->task);
}

int
containerizer_usage (containerizer_t *self, const char *id, isolator_usage_t *usage)
{
    container_t *c = zhashx_lookup (self->containers, id);
    if (!c || c->task <= 1)
        return error_set (ESRCH, "no running container %s", id);
    return isolator_usage (self->isolator, id, c->task, usage);
}

pid_t
containerizer_shim_pid (containerizer_t *self, const char *id)
{
    container_t *c = zhashx_lookup (self->containers, id);
    return c ? c->shim : 0;
}

/*  The task's pid, as the shim recorded it in the run dir; 0 if none.    */
static pid_t
s_task_pid_from (const char *run_dir)
{
    char path[4200];
    snprintf (path, sizeof path, "%s/pid", run_dir);
    char *text = util_read_file (path, 64, NULL);
    int pid = 0;
    if (text && sscanf (text, "%d", &pid) != 1)
        pid = 0;
    free (text);
    return pid > 1 ? pid : 0;
}

int
containerizer_adopt (containerizer_t *self, const char *id, const char *run_dir, pid_t shim,
                     pid_t task)
{
    if (zhashx_lookup (self->containers, id))
        return error_set (EEXIST, "container %s exists already", id);
    int pidfd = (int) syscall (SYS_pidfd_open, shim, 0);
    if (pidfd < 0)
        return error_set (errno, "the supervisor of container %s (pid %d) is gone: %s", id,
                          (int) shim, strerror (errno));
    container_t *c = xzalloc (sizeof *c);
    c->owner = self;
    c->id = xstrdup (id);
    c->run_dir = xstrdup (run_dir);
    c->shim = shim;
    c->task = task > 1 ? task : s_task_pid_from (run_dir);
    c->pidfd = pidfd;
    c->pipefd = -1;             /* the shim's pipe went with the old agent */
    zhashx_insert (self->containers, id, c);
    zmq_pollitem_t item_pid = { NULL, c->pidfd, ZMQ_POLLIN, 0 };
    zloop_poller (self->loop, &item_pid, s_on_exit, c);
    return 0;
}

void
containerizer_reap (containerizer_t *self, const char *id, const char *run_dir, pid_t task,
                    container_event_t *ev)
{
    container_t c = { .owner = self, .id = (char *) id, .run_dir = (char *) run_dir,
                      .task = task > 1 ? task : s_task_pid_from (run_dir), .pipefd = -1,
                      .pidfd = -1 };
    memset (ev, 0, sizeof *ev);
    ev->kind = CONTAINER_ENDED;
    ev->pid = c.task;
    s_read_status (&c, ev);
    s_read_oom (self, id, c.task, ev);
    s_remove (self, id, c.task);
}

pid_t
containerizer_pid (containerizer_t *self, const char *id)
{
    container_t *c = zhashx_lookup (self->containers, id);
    return c ? c->task : 0;
}
