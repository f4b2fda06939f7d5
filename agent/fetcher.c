/*  fetcher.c - cairn-fetcher processes on the agent's loop.

    One helper process per fetch, in its own session (so its process
    group holds it, and the tar, unzip and decompressors it runs: one
    kill (-pid, SIGKILL) stops them all). Its pidfd is a zloop poller;
    when it fires, the helper is reaped and its result file read.

    Invariants: a fetch is in exactly one of `fetches` (running, will be
    reported) and `dying` (cancelled, will be reaped silently) from spawn
    until its pidfd fires or the fetcher is destroyed; its poller is
    registered exactly while its pidfd is open. A fetch struct is freed
    only in its own pidfd handler or in fetcher_destroy, so no other
    handler of the same loop pass can see it freed. One periodic timer
    kills fetches that outlive their deadline: the helper enforces the
    same timeout on its downloads, so this only catches what it cannot
    bound (a huge extraction, a hung file system).                        */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "fetcher.h"
#include "log.h"
#include "util.h"

extern char **environ;

#define RESULT_NAME     "fetch.result"
#define LOG_NAME        "fetch.log"
#define RESULT_MAX      16384
#define TICK_MS         1000
#define DEADLINE_GRACE  5000            /* ms: the helper's own timeout goes first */

typedef struct {
    fetcher_t *owner;
    char *id;
    char *result_path;
    char *log_path;
    char *what;                         /* its URIs, for messages */
    pid_t pid;
    int pidfd;
    int64_t deadline;                   /* zclock_mono ms; 0 = none */
    int64_t timeout_ms;                 /* what the deadline stands for */
    bool cancelled;
    bool timed_out;
} fetch_t;

struct _fetcher_t {
    zloop_t *loop;
    char *path;
    char *cache_dir;                    /* NULL: no cache */
    uint64_t cache_max;
    int64_t timeout_ms;
    uint64_t max_bytes;
    fetch_done_fn *fn;
    void *arg;
    zhashx_t *fetches;                  /* id -> fetch_t *, running */
    zlistx_t *dying;                    /* fetch_t *, cancelled */
    int timer;
};

char *
fetcher_find_program (const char *libexecdir)
{
    char self[PATH_MAX];
    ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr (self, '/');
        if (slash) {
            *slash = '\0';
            char *path = xasprintf ("%s/%s", self, FETCHER_PROGRAM);
            if (access (path, X_OK) == 0)
                return path;
            free (path);
        }
    }
    return xasprintf ("%s/%s", libexecdir, FETCHER_PROGRAM);
}

static void
s_fetch_free (fetch_t **f_p)
{
    fetch_t *f = *f_p;
    if (!f)
        return;
    if (f->pidfd >= 0) {
        zmq_pollitem_t item = { NULL, f->pidfd, ZMQ_POLLIN, 0 };
        zloop_poller_end (f->owner->loop, &item);
        close (f->pidfd);
    }
    free (f->id);
    free (f->result_path);
    free (f->log_path);
    free (f->what);
    free (f);
    *f_p = NULL;
}

/*  SIGKILL to the helper's whole process group. The helper is our
    unreaped child until its pidfd handler runs, so its pid (and group
    id) cannot have been reused.                                          */
static void
s_kill (fetch_t *f)
{
    if (kill (-f->pid, SIGKILL) < 0 && errno == ESRCH)
        kill (f->pid, SIGKILL);
}

static int
s_on_tick (zloop_t *loop, int timer_id, void *arg)
{
    fetcher_t *self = arg;
    int64_t now = zclock_mono ();
    for (fetch_t *f = zhashx_first (self->fetches); f; f = zhashx_next (self->fetches))
        if (f->deadline && now >= f->deadline && !f->timed_out) {
            log_warn ("fetch for %s: timed out; killing cairn-fetcher %d", f->id, (int) f->pid);
            f->timed_out = true;
            s_kill (f);
        }
    return 0;
}

fetcher_t *
fetcher_new (zloop_t *loop, const char *fetcher_path, const char *cache_dir,
             uint64_t cache_max_bytes, fetch_done_fn *fn, void *arg)
{
    assert (loop);
    assert (fetcher_path);
    assert (fn);
    if (access (fetcher_path, X_OK) < 0) {
        error_set (errno, "cannot run the fetcher %s: %s", fetcher_path, strerror (errno));
        return NULL;
    }
    fetcher_t *self = xzalloc (sizeof *self);
    self->loop = loop;
    self->path = xstrdup (fetcher_path);
    if (cache_dir && *cache_dir && cache_max_bytes > 0) {
        self->cache_dir = xstrdup (cache_dir);
        self->cache_max = cache_max_bytes;
    }
    self->timeout_ms = FETCHER_DEFAULT_TIMEOUT_MS;
    self->max_bytes = FETCHER_DEFAULT_MAX_BYTES;
    self->fn = fn;
    self->arg = arg;
    self->fetches = zhashx_new ();
    self->dying = zlistx_new ();
    self->timer = zloop_timer (loop, TICK_MS, 0, s_on_tick, self);
    return self;
}

void
fetcher_destroy (fetcher_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    fetcher_t *self = *self_p;
    zlistx_t *all = zhashx_values (self->fetches);
    for (fetch_t *f = zlistx_first (self->dying); f; f = zlistx_next (self->dying))
        zlistx_add_end (all, f);
    for (fetch_t *f = zlistx_first (all); f; f = zlistx_next (all)) {
        s_kill (f);
        /*  Bounded: SIGKILL cannot be caught.                            */
        while (waitpid (f->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        s_fetch_free (&f);
    }
    zlistx_destroy (&all);
    zhashx_destroy (&self->fetches);
    zlistx_destroy (&self->dying);
    zloop_timer_end (self->loop, self->timer);
    free (self->path);
    free (self->cache_dir);
    free (self);
    *self_p = NULL;
}

void
fetcher_set_limits (fetcher_t *self, int64_t timeout_ms, uint64_t max_bytes)
{
    assert (timeout_ms >= 0);
    self->timeout_ms = timeout_ms;
    self->max_bytes = max_bytes;
}

/*  The last line of the helper's log (its last 4 KiB are read), for a
    failure it could not explain.                                         */
static char *
s_log_tail (fetch_t *f)
{
    char text[4097];
    ssize_t n = 0;
    int fd = open (f->log_path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd >= 0 && fstat (fd, &st) == 0)
        n = pread (fd, text, sizeof text - 1, st.st_size > 4096 ? st.st_size - 4096 : 0);
    if (fd >= 0)
        close (fd);
    size_t len = n > 0 ? (size_t) n : 0;
    text[len] = '\0';
    len = strlen (text);
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
        text[--len] = '\0';
    char *line = strrchr (text, '\n');
    return xasprintf ("%.300s", line ? line + 1 : text);
}

/*  The outcome of an exited helper: true for success; *message is
    malloc'd.                                                             */
static bool
s_outcome (fetch_t *f, int status, char **message)
{
    if (f->timed_out) {
        *message = xasprintf ("cannot fetch %s: timed out after %" PRId64 " ms", f->what,
                              f->timeout_ms);
        return false;
    }
    char *text = util_read_file (f->result_path, RESULT_MAX, NULL);
    /*  "ok\n<summary>\n" or "failed\n<uri>\n<reason>\n".                 */
    char *lines[3] = { NULL, NULL, NULL };
    size_t n = 0;
    for (char *p = text; p && *p && n < 3; n++) {
        lines[n] = p;
        p += strcspn (p, "\n");
        if (*p)
            *p++ = '\0';
    }
    bool ok = false;
    if (n >= 1 && strcmp (lines[0], "ok") == 0) {
        if (WIFEXITED (status) && WEXITSTATUS (status) == 0) {
            *message = xstrdup (n >= 2 ? lines[1] : "fetched");
            ok = true;
        }
        else if (WIFEXITED (status))
            *message = xasprintf ("cannot fetch %s: the fetcher reported success but exited "
                                  "with status %d", f->what, WEXITSTATUS (status));
        else
            *message = xasprintf ("cannot fetch %s: the fetcher reported success but was "
                                  "killed by signal %d", f->what, WTERMSIG (status));
    }
    else if (n == 3 && strcmp (lines[0], "failed") == 0)
        *message = xasprintf ("cannot fetch %s: %s", lines[1], lines[2]);
    else {
        char *tail = s_log_tail (f);
        if (WIFSIGNALED (status))
            *message = xasprintf ("cannot fetch %s: the fetcher was killed by signal %d (%s)%s%s",
                                  f->what, WTERMSIG (status), strsignal (WTERMSIG (status)),
                                  *tail ? ": " : "", tail);
        else
            *message = xasprintf ("cannot fetch %s: the fetcher exited with status %d without "
                                  "a result%s%s", f->what,
                                  WIFEXITED (status) ? WEXITSTATUS (status) : -1,
                                  *tail ? ": " : "", tail);
        free (tail);
    }
    free (text);
    return ok;
}

static int
s_on_exit (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    fetch_t *f = arg;
    fetcher_t *self = f->owner;
    int status = 0;
    pid_t rc;
    while ((rc = waitpid (f->pid, &status, WNOHANG)) < 0 && errno == EINTR)
        ;
    if (rc == 0)
        return 0;                   /* not yet: the pidfd fires again */
    if (rc < 0)
        status = W_EXITCODE (255, 0);       /* reaped elsewhere: unknown */
    if (f->cancelled) {
        void *handle = zlistx_find (self->dying, f);
        if (handle)
            zlistx_detach (self->dying, handle);
        s_fetch_free (&f);
        return 0;
    }
    zhashx_delete (self->fetches, f->id);
    char *message = NULL;
    bool ok = s_outcome (f, status, &message);
    char *id = xstrdup (f->id);
    s_fetch_free (&f);              /* ends the poller */
    if (ok)
        log_info ("fetch for %s: %s", id, message);
    else
        log_warn ("fetch for %s failed: %s", id, message);
    self->fn (self->arg, id, ok, message);
    free (message);
    free (id);
    return 0;
}

/*  "uri1, uri2, ..." up to about 1000 bytes.                            */
static char *
s_what (const proto_uri_t *uris, size_t count)
{
    char buf[1024];
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < count && len < sizeof buf - 1; i++) {
        int n = snprintf (buf + len, sizeof buf - len, "%s%s", i ? ", " : "", uris[i].uri);
        len = n < 0 ? len : (size_t) n + len;
    }
    if (len >= sizeof buf - 1)
        snprintf (buf + sizeof buf - 5, 5, "...");
    return xstrdup (buf);
}

int
fetcher_start (fetcher_t *self, const char *id, const char *sandbox, const char *run_dir,
               const proto_uri_t *uris, size_t count)
{
    assert (id && sandbox && run_dir);
    assert (uris && count > 0);
    if (zhashx_lookup (self->fetches, id))
        return error_set (EEXIST, "a fetch for %s is running already", id);

    char *result_path = xasprintf ("%s/%s", run_dir, RESULT_NAME);
    char *log_path = xasprintf ("%s/%s", run_dir, LOG_NAME);
    /*  A result from an earlier attempt must not speak for this one.    */
    unlink (result_path);

    /*  Our strings first; fixed ones point into static storage.         */
    size_t max_args = 8 + 3 * count + 1;
    char **argv = xzalloc (max_args * sizeof (char *));
    char **owned = xzalloc (max_args * sizeof (char *));
    size_t k = 0, m = 0;
    argv[k++] = self->path;
    argv[k++] = owned[m++] = xasprintf ("--sandbox=%s", sandbox);
    argv[k++] = owned[m++] = xasprintf ("--result=%s", result_path);
    if (self->cache_dir) {
        argv[k++] = owned[m++] = xasprintf ("--cache-dir=%s", self->cache_dir);
        argv[k++] = owned[m++] = xasprintf ("--cache-max-bytes=%" PRIu64, self->cache_max);
    }
    if (self->max_bytes)
        argv[k++] = owned[m++] = xasprintf ("--max-bytes=%" PRIu64, self->max_bytes);
    if (self->timeout_ms)
        argv[k++] = owned[m++] = xasprintf ("--timeout-ms=%" PRId64, self->timeout_ms);
    for (size_t i = 0; i < count; i++) {
        argv[k++] = owned[m++] = xasprintf ("--uri=%s", uris[i].uri);
        if (uris[i].extract)
            argv[k++] = "--extract";
        if (uris[i].executable)
            argv[k++] = "--executable";
    }
    argv[k] = NULL;

    int pidfd = -1;
    pid_t pid = -1;
    int rc = -1;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init (&fa);
    posix_spawnattr_init (&attr);
    posix_spawn_file_actions_addopen (&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen (&fa, 1, log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2 (&fa, 1, 2);
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
    /*  Its own session and process group: cancel kills the group.        */
    posix_spawnattr_setflags (&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK
                                         | POSIX_SPAWN_SETSIGDEF);
    /*  The agent's environment: proxies (http_proxy, no_proxy) and CA
        settings apply to downloads. The helper gives tar and unzip a
        clean one.                                                        */
    int err = posix_spawn (&pid, self->path, &fa, &attr, argv, environ);
    if (err != 0) {
        error_set (err, "cannot start %s: %s", self->path, strerror (err));
        goto done;
    }
    pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
    if (pidfd < 0) {
        error_set (errno, "pidfd_open: %s", strerror (errno));
        kill (-pid, SIGKILL);
        while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
            ;
        goto done;
    }
    fetch_t *f = xzalloc (sizeof *f);
    f->owner = self;
    f->id = xstrdup (id);
    f->result_path = result_path;
    f->log_path = log_path;
    result_path = log_path = NULL;
    f->what = s_what (uris, count);
    f->pid = pid;
    f->pidfd = pidfd;
    f->timeout_ms = self->timeout_ms;
    if (self->timeout_ms)
        f->deadline = zclock_mono () + self->timeout_ms + DEADLINE_GRACE;
    zhashx_insert (self->fetches, id, f);
    zmq_pollitem_t item = { NULL, pidfd, ZMQ_POLLIN, 0 };
    zloop_poller (self->loop, &item, s_on_exit, f);
    log_debug ("fetch for %s: cairn-fetcher %d, %zu URI(s)", id, (int) pid, count);
    rc = 0;
done:
    posix_spawn_file_actions_destroy (&fa);
    posix_spawnattr_destroy (&attr);
    for (size_t i = 0; i < m; i++)
        free (owned[i]);
    free (owned);
    free (argv);
    free (result_path);
    free (log_path);
    return rc;
}

int
fetcher_cancel (fetcher_t *self, const char *id)
{
    fetch_t *f = zhashx_lookup (self->fetches, id);
    if (!f)
        return error_set (ESRCH, "no fetch for %s", id);
    zhashx_delete (self->fetches, id);
    f->cancelled = true;
    zlistx_add_end (self->dying, f);
    s_kill (f);
    log_info ("fetch for %s: cancelled; killed cairn-fetcher %d", id, (int) f->pid);
    return 0;
}

bool
fetcher_active (fetcher_t *self, const char *id)
{
    return zhashx_lookup (self->fetches, id) != NULL;
}

pid_t
fetcher_pid (fetcher_t *self, const char *id)
{
    fetch_t *f = zhashx_lookup (self->fetches, id);
    return f ? f->pid : 0;
}

size_t
fetcher_size (fetcher_t *self)
{
    return zhashx_size (self->fetches) + zlistx_size (self->dying);
}
