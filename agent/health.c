/*  health.c - health checks on the agent's zloop.

    A health_t is idle (a timer armed for the next check) or runs exactly
    one check (a timeout timer armed, and a socket or a pidfd watched),
    until it reaches max_failures, after which nothing is armed.

    zloop hands its handlers a `void *arg` and does not stop a handler
    that was cancelled in the same pass: an ended timer can still fire
    (zombie timers are removed at the end of a pass, which czmq 4.2
    sometimes skips), and the agent may destroy a health_t from any of its
    own handlers. So no timer or poller of ours gets a pointer: each gets
    the health_t's serial number, looked up in a table of live ones, and
    checks that its timer id or fd is still the current one. A command
    process still running when its check ends (timeout, destroy) is
    killed and handed to a reaper list that outlives its health_t.       */
#include "config.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "health.h"
#include "log.h"
#include "transport.h"

#define REPLY_MAX 512           /* bytes we read for the HTTP status line */

typedef enum { CHECK_COMMAND, CHECK_HTTP, CHECK_TCP } check_type_t;

typedef enum {
    STEP_IDLE,                  /* waiting for next_timer */
    STEP_CONNECT,               /* tcp/http: connect in progress */
    STEP_SEND,                  /* http: writing the request */
    STEP_RECV,                  /* http: reading the status line */
    STEP_COMMAND,               /* command: waiting for its exit */
} step_t;

struct _health_t {
    uintptr_t serial;           /* key in s_live; the handlers' arg */
    zloop_t *loop;
    char *task_id;
    check_type_t type;
    char *command;
    char *path;
    int port;
    char *sandbox;
    char **envp;
    int64_t delay_ms, interval_ms, timeout_ms, grace_ms;
    int max_failures;
    int64_t started_ms;
    health_fn *fn;
    void *arg;

    int next_timer;             /* -1: none */
    int timeout_timer;          /* -1: none */
    step_t step;
    int fd;                     /* tcp/http socket, -1 */
    char *request;              /* http */
    size_t request_len, sent;
    char reply[REPLY_MAX];
    size_t reply_len;
    pid_t pid;                  /* command, until reaped; 0 */
    int pidfd;                  /* -1 */

    int healthy;                /* -1 unknown, 0, 1 */
    bool passed_once;           /* ends the grace period early */
    int failures;
    bool failed;
    uint64_t checks;
    char last[512];
};

/*  Live health checks by serial, and killed commands not yet reaped.
    Created on demand and freed when empty; one thread only.              */
static zhashx_t *s_live;
static uintptr_t s_serial;

typedef struct {
    zloop_t *loop;
    pid_t pid;
    int pidfd;
} orphan_t;
static zlistx_t *s_orphans;

static size_t
s_serial_hash (const void *key)
{
    return (size_t) (uintptr_t) key;
}

static int
s_serial_cmp (const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) a, y = (uintptr_t) b;
    return x < y ? -1 : x > y;
}

static health_t *
s_lookup (void *arg)
{
    return s_live ? zhashx_lookup (s_live, arg) : NULL;
}

/*  The reaper  */

static int
s_on_orphan (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    orphan_t *o = arg;
    if (waitpid (o->pid, NULL, WNOHANG) == 0)
        return 0;               /* spurious: not gone yet */
    zloop_poller_end (loop, item);
    close (o->pidfd);
    void *handle = zlistx_find (s_orphans, o);
    if (handle)
        zlistx_delete (s_orphans, handle);
    free (o);
    if (zlistx_size (s_orphans) == 0)
        zlistx_destroy (&s_orphans);
    return 0;
}

/*  Kills the command's process group and reaps it now or, if it is not
    gone yet, on the loop. Takes the pidfd.                               */
static void
s_kill_command (zloop_t *loop, pid_t pid, int pidfd)
{
    /*  The group leader is our unreaped child, so its pid (the group's
        id) cannot have been reused.                                       */
    kill (-pid, SIGKILL);
    if (waitpid (pid, NULL, WNOHANG) != 0) {
        close (pidfd);
        return;
    }
    orphan_t *o = xzalloc (sizeof *o);
    o->loop = loop;
    o->pid = pid;
    o->pidfd = pidfd;
    if (!s_orphans)
        s_orphans = zlistx_new ();
    zlistx_add_end (s_orphans, o);
    zmq_pollitem_t item = { NULL, pidfd, ZMQ_POLLIN, 0 };
    if (zloop_poller (loop, &item, s_on_orphan, o) < 0)
        log_warn ("cannot watch a killed health check command (pid %d)", (int) pid);
}

/*  Stopping and scheduling  */

static void
s_stop_check (health_t *self)
{
    if (self->timeout_timer >= 0) {
        zloop_timer_end (self->loop, self->timeout_timer);
        self->timeout_timer = -1;
    }
    if (self->fd >= 0) {
        zmq_pollitem_t item = { NULL, self->fd, 0, 0 };
        zloop_poller_end (self->loop, &item);
        close (self->fd);
        self->fd = -1;
    }
    if (self->pidfd >= 0) {
        zmq_pollitem_t item = { NULL, self->pidfd, 0, 0 };
        zloop_poller_end (self->loop, &item);
        if (self->pid > 0)
            s_kill_command (self->loop, self->pid, self->pidfd);
        else
            close (self->pidfd);
        self->pidfd = -1;
    }
    self->pid = 0;
    free (self->request);
    self->request = NULL;
    self->reply_len = 0;
    self->step = STEP_IDLE;
}

static int s_on_next (zloop_t *loop, int timer_id, void *arg);

static void
s_schedule (health_t *self, int64_t delay_ms)
{
    assert (self->next_timer < 0);
    self->next_timer = zloop_timer (self->loop, (size_t) delay_ms, 1, s_on_next,
                                     (void *) self->serial);
    if (self->next_timer < 0)
        log_error ("task %s: cannot arm the health check timer", self->task_id);
}

/*  Calls the owner; false if it destroyed us.                            */
static bool
s_emit (health_t *self, health_event_kind_t kind, bool healthy, const char *why)
{
    uintptr_t serial = self->serial;
    health_event_t ev = { .kind = kind, .healthy = healthy, .failures = self->failures,
                          .why = why };
    self->fn (self->arg, self->task_id, &ev);
    return s_lookup ((void *) serial) != NULL;
}

/*  Ends the running check with a result, tells the owner what changed,
    and arms the next check. False if the owner destroyed us.            */
static bool
s_result (health_t *self, bool ok, const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));
static bool
s_result (health_t *self, bool ok, const char *fmt, ...)
{
    s_stop_check (self);
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (self->last, sizeof self->last, fmt, ap);
    va_end (ap);
    self->checks++;
    if (ok) {
        self->passed_once = true;
        self->failures = 0;
        log_debug ("task %s: health check passed: %s", self->task_id, self->last);
        if (self->healthy != 1) {
            self->healthy = 1;
            if (!s_emit (self, HEALTH_CHANGED, true, self->last))
                return false;
        }
    }
    else if (!self->passed_once && clock_mono_ms () - self->started_ms < self->grace_ms) {
        log_debug ("task %s: health check failed within the grace period (ignored): %s",
                   self->task_id, self->last);
    }
    else {
        self->failures++;
        log_debug ("task %s: health check failed (%d of %d): %s", self->task_id,
                   self->failures, self->max_failures, self->last);
        if (self->healthy != 0) {
            self->healthy = 0;
            if (!s_emit (self, HEALTH_CHANGED, false, self->last))
                return false;
        }
        if (self->failures >= self->max_failures) {
            self->failed = true;
            char why[700];
            snprintf (why, sizeof why, "%d consecutive health check failure%s, the last: %s",
                      self->failures, self->failures == 1 ? "" : "s", self->last);
            return s_emit (self, HEALTH_FAILED, false, why);
        }
    }
    s_schedule (self, self->interval_ms);
    return true;
}

static int
s_on_timeout (zloop_t *loop, int timer_id, void *arg)
{
    health_t *self = s_lookup (arg);
    if (!self || timer_id != self->timeout_timer)
        return 0;
    self->timeout_timer = -1;   /* one-shot: zloop frees it */
    const char *what = self->type == CHECK_COMMAND ? "command" :
                       self->type == CHECK_HTTP ? "HTTP" : "TCP";
    s_result (self, false, "%s health check timed out after %" PRId64 " ms", what,
              self->timeout_ms);
    return 0;
}

/*  Socket checks  */

static int s_on_socket (zloop_t *loop, zmq_pollitem_t *item, void *arg);

static void
s_watch_socket (health_t *self, short events)
{
    zmq_pollitem_t item = { NULL, self->fd, 0, 0 };
    zloop_poller_end (self->loop, &item);
    item.events = events;
    zloop_poller (self->loop, &item, s_on_socket, (void *) self->serial);
    /*  A refused connection reports POLLERR: ours to handle, no warning. */
    zloop_poller_set_tolerant (self->loop, &item);
}

/*  Writes what is left of the request; false if the check ended.         */
static bool
s_send_request (health_t *self)
{
    while (self->sent < self->request_len) {
        ssize_t n = send (self->fd, self->request + self->sent, self->request_len - self->sent,
                          MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (self->step != STEP_SEND) {
                self->step = STEP_SEND;
                s_watch_socket (self, ZMQ_POLLOUT);
            }
            return true;
        }
        if (n < 0) {
            s_result (self, false, "HTTP GET http://127.0.0.1:%d%s failed: %s", self->port,
                      self->path, strerror (errno));
            return false;
        }
        self->sent += (size_t) n;
    }
    self->step = STEP_RECV;
    s_watch_socket (self, ZMQ_POLLIN);
    return true;
}

/*  Reads the reply until its status line is complete.                    */
static void
s_read_reply (health_t *self)
{
    while (true) {
        ssize_t n = recv (self->fd, self->reply + self->reply_len,
                          sizeof self->reply - 1 - self->reply_len, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0) {
            s_result (self, false, "HTTP GET http://127.0.0.1:%d%s failed: %s", self->port,
                      self->path, strerror (errno));
            return;
        }
        self->reply_len += (size_t) n;
        self->reply[self->reply_len] = '\0';
        char *eol = strchr (self->reply, '\n');
        if (!eol && n > 0 && self->reply_len < sizeof self->reply - 1)
            continue;
        if (!eol && n == 0) {
            s_result (self, false, "HTTP GET http://127.0.0.1:%d%s failed: the server "
                      "closed the connection without a status line", self->port, self->path);
            return;
        }
        int code = 0, major = 0, minor = 0, used = 0;
        if (!eol || sscanf (self->reply, "HTTP/%d.%d %3d%n", &major, &minor, &code, &used) != 3
            || code < 100 || code > 599 || (self->reply[used] != ' ' && self->reply[used] != '\r'
                                            && self->reply[used] != '\n')) {
            s_result (self, false, "HTTP GET http://127.0.0.1:%d%s failed: the reply is not "
                      "HTTP", self->port, self->path);
            return;
        }
        s_result (self, code >= 200 && code < 400, "HTTP GET http://127.0.0.1:%d%s returned %d",
                  self->port, self->path, code);
        return;
    }
}

static int
s_on_socket (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    health_t *self = s_lookup (arg);
    if (!self || self->fd < 0 || item->fd != self->fd)
        return 0;
    if (self->step == STEP_CONNECT) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt (self->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
            err = errno;
        if (err == 0 && !(item->revents & ZMQ_POLLOUT))
            return 0;           /* not connected yet */
        if (err != 0) {
            if (self->type == CHECK_TCP)
                s_result (self, false, "TCP connection to 127.0.0.1:%d failed: %s", self->port,
                          strerror (err));
            else
                s_result (self, false, "HTTP GET http://127.0.0.1:%d%s failed: %s", self->port,
                          self->path, strerror (err));
        }
        else if (self->type == CHECK_TCP)
            s_result (self, true, "TCP connection to 127.0.0.1:%d succeeded", self->port);
        else
            s_send_request (self);
    }
    else if (self->step == STEP_SEND)
        s_send_request (self);
    else if (self->step == STEP_RECV)
        s_read_reply (self);
    return 0;
}

static void
s_start_socket (health_t *self)
{
    self->fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (self->fd < 0) {
        s_result (self, false, "cannot create a socket: %s", strerror (errno));
        return;
    }
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) self->port) };
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    if (self->type == CHECK_HTTP) {
        self->request = xasprintf ("GET %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n"
                                   "User-Agent: cairn-agent\r\nConnection: close\r\n\r\n",
                                   self->path, self->port);
        self->request_len = strlen (self->request);
        self->sent = 0;
    }
    int rc;
    do
        rc = connect (self->fd, (struct sockaddr *) &addr, sizeof addr);
    while (rc < 0 && errno == EINTR);
    if (rc < 0 && errno != EINPROGRESS) {
        if (self->type == CHECK_TCP)
            s_result (self, false, "TCP connection to 127.0.0.1:%d failed: %s", self->port,
                      strerror (errno));
        else
            s_result (self, false, "HTTP GET http://127.0.0.1:%d%s failed: %s", self->port,
                      self->path, strerror (errno));
        return;
    }
    if (rc == 0 && self->type == CHECK_TCP) {
        s_result (self, true, "TCP connection to 127.0.0.1:%d succeeded", self->port);
        return;
    }
    if (rc == 0) {
        self->step = STEP_SEND;
        s_watch_socket (self, ZMQ_POLLOUT);
    }
    else {
        self->step = STEP_CONNECT;
        s_watch_socket (self, ZMQ_POLLOUT);
    }
}

/*  Command checks  */

static int
s_on_command (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    health_t *self = s_lookup (arg);
    if (!self || self->pidfd < 0 || item->fd != self->pidfd || self->pid <= 0)
        return 0;
    /*  What it left in its group goes too; the unreaped leader keeps the
        group's id from being reused.                                      */
    kill (-self->pid, SIGKILL);
    int status = 0;
    pid_t r = waitpid (self->pid, &status, WNOHANG);
    if (r == 0)
        return 0;               /* spurious */
    self->pid = 0;
    if (r < 0)
        s_result (self, false, "command health check: cannot learn how it ended: %s",
                  strerror (errno));
    else if (WIFEXITED (status))
        s_result (self, WEXITSTATUS (status) == 0, "command health check exited with status %d",
                  WEXITSTATUS (status));
    else if (WIFSIGNALED (status))
        s_result (self, false, "command health check killed by signal %d (%s)",
                  WTERMSIG (status), strsignal (WTERMSIG (status)));
    else
        s_result (self, false, "command health check ended (status 0x%x)", status);
    return 0;
}

static void
s_start_command (health_t *self)
{
    char *argv[] = { "sh", "-c", self->command, NULL };
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init (&fa);
    posix_spawnattr_init (&attr);
    posix_spawn_file_actions_addopen (&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen (&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2 (&fa, 1, 2);
    if (self->sandbox)
        posix_spawn_file_actions_addchdir_np (&fa, self->sandbox);
    posix_spawn_file_actions_addclosefrom_np (&fa, 3);
    /*  The agent blocks and ignores signals for its own loop; the check
        gets the defaults.                                                 */
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
    /*  A session, so a process group, of its own: one kill (-pid) stops
        all of it.                                                         */
    posix_spawnattr_setflags (&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK
                                         | POSIX_SPAWN_SETSIGDEF);
    pid_t pid = 0;
    int err = posix_spawn (&pid, "/bin/sh", &fa, &attr, argv, self->envp);
    posix_spawn_file_actions_destroy (&fa);
    posix_spawnattr_destroy (&attr);
    if (err != 0) {
        s_result (self, false, "cannot start the command health check: %s", strerror (err));
        return;
    }
    int pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
    if (pidfd < 0) {
        err = errno;
        /*  Without a pidfd we could not see it end. Just spawned and
            killed, it is gone at once.                                    */
        kill (-pid, SIGKILL);
        waitpid (pid, NULL, 0);
        s_result (self, false, "cannot watch the command health check: pidfd_open: %s",
                  strerror (err));
        return;
    }
    self->pid = pid;
    self->pidfd = pidfd;
    self->step = STEP_COMMAND;
    zmq_pollitem_t item = { NULL, pidfd, ZMQ_POLLIN, 0 };
    zloop_poller (self->loop, &item, s_on_command, (void *) self->serial);
}

static int
s_on_next (zloop_t *loop, int timer_id, void *arg)
{
    health_t *self = s_lookup (arg);
    if (!self || timer_id != self->next_timer)
        return 0;
    self->next_timer = -1;      /* one-shot: zloop frees it */
    uintptr_t serial = self->serial;
    if (self->type == CHECK_COMMAND)
        s_start_command (self);
    else
        s_start_socket (self);
    /*  Still running (not answered at once, not destroyed): bound it.    */
    if (s_lookup ((void *) serial) && self->step != STEP_IDLE)
        self->timeout_timer = zloop_timer (loop, (size_t) self->timeout_ms, 1, s_on_timeout,
                                           (void *) serial);
    return 0;
}

/*  Construction  */

static bool
s_path_ok (const char *path)
{
    for (const char *p = path; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f)
            return false;
    return true;
}

static char **
s_strv_dup (char *const v[])
{
    size_t n = 0;
    while (v && v[n])
        n++;
    char **copy = xzalloc ((n + 1) * sizeof (char *));
    for (size_t i = 0; i < n; i++)
        copy[i] = xstrdup (v[i]);
    return copy;
}

health_t *
health_new (zloop_t *loop, const proto_health_t *spec, const char *task_id, int port,
            const char *sandbox, char *const envp[], health_fn *fn, void *arg,
            int64_t started_ms)
{
    assert (loop && spec && task_id && fn);
    check_type_t type;
    const char *name = spec->type ? spec->type : "";
    if (strcmp (name, "command") == 0)
        type = CHECK_COMMAND;
    else if (strcmp (name, "http") == 0)
        type = CHECK_HTTP;
    else if (strcmp (name, "tcp") == 0)
        type = CHECK_TCP;
    else {
        error_set (EINVAL, "unknown health check type '%s' (command, http or tcp)", name);
        return NULL;
    }
    if (type == CHECK_COMMAND && (!spec->command || !*spec->command)) {
        error_set (EINVAL, "a command health check needs a command");
        return NULL;
    }
    if (type != CHECK_COMMAND && (port <= 0 || port > 65535)) {
        error_set (EINVAL, "the %s health check needs the task's port %" PRId64
                   " (PORT%" PRId64 "), which the task does not have", name,
                   spec->port_index, spec->port_index);
        return NULL;
    }
    const char *path = spec->path && *spec->path ? spec->path : "/";
    if (type == CHECK_HTTP && !s_path_ok (path)) {
        error_set (EINVAL, "the HTTP health check's path is not a valid request target "
                   "(no spaces or control characters)");
        return NULL;
    }
    health_t *self = xzalloc (sizeof *self);
    self->serial = ++s_serial;
    self->loop = loop;
    self->task_id = xstrdup (task_id);
    self->type = type;
    self->command = type == CHECK_COMMAND ? xstrdup (spec->command) : NULL;
    self->path = *path == '/' ? xstrdup (path) : xasprintf ("/%s", path);
    self->port = port;
    self->sandbox = sandbox && *sandbox ? xstrdup (sandbox) : NULL;
    self->envp = s_strv_dup (envp);
    self->delay_ms = spec->delay_ms > 0 ? spec->delay_ms : 0;
    self->interval_ms = spec->interval_ms > 0 ? spec->interval_ms : 1;
    self->timeout_ms = spec->timeout_ms > 0 ? spec->timeout_ms : 1;
    self->grace_ms = spec->grace_ms > 0 ? spec->grace_ms : 0;
    self->max_failures = spec->max_failures > 0
                       ? (spec->max_failures > INT32_MAX ? INT32_MAX : (int) spec->max_failures)
                       : 1;
    self->started_ms = started_ms;
    self->fn = fn;
    self->arg = arg;
    self->next_timer = -1;
    self->timeout_timer = -1;
    self->fd = -1;
    self->pidfd = -1;
    self->healthy = -1;
    if (!s_live) {
        s_live = zhashx_new ();
        zhashx_set_key_hasher (s_live, s_serial_hash);
        zhashx_set_key_comparator (s_live, s_serial_cmp);
        zhashx_set_key_duplicator (s_live, NULL);
        zhashx_set_key_destructor (s_live, NULL);
    }
    zhashx_insert (s_live, (void *) self->serial, self);
    s_schedule (self, self->delay_ms);
    return self;
}

void
health_destroy (health_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    health_t *self = *self_p;
    zhashx_delete (s_live, (void *) self->serial);
    if (zhashx_size (s_live) == 0)
        zhashx_destroy (&s_live);
    if (self->next_timer >= 0)
        zloop_timer_end (self->loop, self->next_timer);
    self->next_timer = -1;
    s_stop_check (self);
    free (self->task_id);
    free (self->command);
    free (self->path);
    free (self->sandbox);
    for (size_t i = 0; self->envp[i]; i++)
        free (self->envp[i]);
    free (self->envp);
    free (self);
    *self_p = NULL;
}

int
health_task_port (const cairn_resources_t *resources, int64_t index)
{
    if (!resources || index < 0)
        return 0;
    size_t ranges;
    const uint16_t *r = cairn_resources_port_ranges (resources, &ranges);
    for (size_t i = 0; r && i < ranges; i++) {
        int64_t size = (int64_t) r[2 * i + 1] - r[2 * i] + 1;
        if (index < size)
            return (int) (r[2 * i] + index);
        index -= size;
    }
    return 0;
}

int
health_healthy (health_t *self)
{
    return self->healthy;
}

int
health_failures (health_t *self)
{
    return self->failures;
}

uint64_t
health_checks (health_t *self)
{
    return self->checks;
}

bool
health_failed (health_t *self)
{
    return self->failed;
}

const char *
health_last (health_t *self)
{
    return self->last;
}
