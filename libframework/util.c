/*  util.c - directories, signals and files for the daemons.              */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <czmq.h>

#include "error.h"
#include "log.h"
#include "util.h"

int
util_mkdir_p (const char *path, mode_t mode)
{
    char buf[PATH_MAX];
    if (!path || !*path || strlen (path) >= sizeof buf)
        return error_set (EINVAL, "'%s' is not a usable directory path", path ? path : "");
    strcpy (buf, path);
    /*  Bottom up: try the whole path, and only where a parent is missing
        go up to the deepest one that exists. A task's sandbox, whose
        parents mostly exist, costs two or three mkdir calls rather than
        one per component.                                                */
    char *ends[PATH_MAX / 2];
    size_t n = 0;
    while (mkdir (buf, mode) < 0) {
        if (errno == EEXIST)
            break;
        char *slash = strrchr (buf, '/');
        if (errno != ENOENT || !slash || slash == buf)
            return error_set (errno, "cannot create directory %s: %s", buf, strerror (errno));
        *slash = '\0';
        ends[n++] = slash;
    }
    /*  Back down: each level below the one that exists.                  */
    while (n > 0) {
        *ends[--n] = '/';
        if (mkdir (buf, mode) < 0 && errno != EEXIST)
            return error_set (errno, "cannot create directory %s: %s", buf, strerror (errno));
    }
    struct stat st;
    if (stat (buf, &st) < 0 || !S_ISDIR (st.st_mode))
        return error_set (ENOTDIR, "%s is not a directory", buf);
    return 0;
}

int
util_signalfd (void)
{
    sigset_t set;
    sigemptyset (&set);
    sigaddset (&set, SIGTERM);
    sigaddset (&set, SIGINT);
    sigaddset (&set, SIGHUP);
    sigaddset (&set, SIGCHLD);
    if (sigprocmask (SIG_BLOCK, &set, NULL) < 0)
        return error_set (errno, "sigprocmask: %s", strerror (errno));
    signal (SIGPIPE, SIG_IGN);
    int fd = signalfd (-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fd < 0)
        return error_set (errno, "signalfd: %s", strerror (errno));
    return fd;
}

int
util_signalfd_read (int fd)
{
    struct signalfd_siginfo info;
    ssize_t n = read (fd, &info, sizeof info);
    if (n != (ssize_t) sizeof info)
        return 0;
    return (int) info.ssi_signo;
}

int
util_on_signal (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    int sig;
    while ((sig = util_signalfd_read (item->fd)) > 0) {
        if (sig == SIGHUP)
            log_reopen ();
        else if (sig == SIGTERM || sig == SIGINT) {
            log_info ("signal %d: shutting down", sig);
            return -1;
        }
    }
    return 0;
}

int
util_write_file (const char *path, const void *data, size_t size, mode_t mode)
{
    char tmp[PATH_MAX];
    if (snprintf (tmp, sizeof tmp, "%s.tmp", path) >= (int) sizeof tmp)
        return error_set (ENAMETOOLONG, "path too long: %s", path);
    int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return error_set (errno, "cannot write %s: %s", tmp, strerror (errno));
    const char *p = data;
    size_t left = size;
    while (left > 0) {
        ssize_t n = write (fd, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int saved = errno;
            close (fd);
            unlink (tmp);
            return error_set (saved, "cannot write %s: %s", tmp, strerror (saved));
        }
        p += n;
        left -= (size_t) n;
    }
    if (fsync (fd) < 0 || close (fd) < 0) {
        int saved = errno;
        unlink (tmp);
        return error_set (saved, "cannot sync %s: %s", tmp, strerror (saved));
    }
    if (rename (tmp, path) < 0) {
        int saved = errno;
        unlink (tmp);
        return error_set (saved, "cannot rename %s: %s", tmp, strerror (saved));
    }
    return 0;
}

char *
util_read_file (const char *path, size_t max, size_t *size)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        error_set (errno, "cannot read %s: %s", path, strerror (errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = xmalloc (cap + 1);
    while (true) {
        if (len == cap) {
            if (cap >= max) {
                close (fd);
                free (buf);
                error_set (EFBIG, "%s is larger than %zu bytes", path, max);
                return NULL;
            }
            cap = cap * 2 > max ? max : cap * 2;
            buf = xrealloc (buf, cap + 1);
        }
        ssize_t n = read (fd, buf + len, cap - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int saved = errno;
            close (fd);
            free (buf);
            error_set (saved, "cannot read %s: %s", path, strerror (saved));
            return NULL;
        }
        if (n == 0)
            break;
        len += (size_t) n;
    }
    close (fd);
    buf[len] = '\0';
    if (size)
        *size = len;
    return buf;
}

static int
s_unlink_cb (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    remove (path);
    return 0;
}

int
util_remove_tree (const char *path)
{
    if (nftw (path, s_unlink_cb, 32, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
        return error_set (errno, "cannot remove %s: %s", path, strerror (errno));
    return 0;
}

static size_t
s_distance (const char *a, const char *b)
{
    size_t n = strlen (a), m = strlen (b);
    if (n > 64 || m > 64)
        return 99;
    size_t d[65][65];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < best)
                best = d[i - 1][j - 1] + cost;
            d[i][j] = best;
        }
    return d[n][m];
}

const char *
util_closest (const char *word, const char *const *names, size_t n)
{
    const char *best = NULL;
    size_t best_d = 3;
    for (size_t i = 0; i < n; i++) {
        size_t d = s_distance (word, names[i]);
        if (d < best_d && d < strlen (names[i])) {
            best = names[i];
            best_d = d;
        }
    }
    return best;
}

bool
util_env_name_valid (const char *name)
{
    if (!name || !*name || (*name >= '0' && *name <= '9'))
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
              || *p == '_'))
            return false;
    return true;
}
