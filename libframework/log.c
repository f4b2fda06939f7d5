/*  log.c - leveled logging to stderr, a file or syslog.

    The level is an atomic so log_enabled, the hot-path check, takes no
    lock. The component and target change only under s_lock, which
    log_msg holds while it writes: otherwise a log_init or log_reopen in
    one thread could free syslog's ident or switch targets under a writer
    in another. Each stderr event is built in memory and written with one
    write(2), so concurrent lines never interleave (the kernel keeps one
    write to a pipe of up to PIPE_BUF bytes whole).                       */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "log.h"

typedef enum { TARGET_STDERR, TARGET_FILE, TARGET_SYSLOG } target_t;

#define COMPONENT_MAX 64

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static int s_level = LOG_LEVEL_INFO;            /* read/written atomically */
static target_t s_target = TARGET_STDERR;       /* under s_lock */
static char s_component[COMPONENT_MAX] = "cairn"; /* under s_lock; also
                                                   syslog's ident, which
                                                   openlog keeps a pointer to */
static char s_path[PATH_MAX];                   /* TARGET_FILE: under s_lock */
static int s_fd = -1;                           /* its descriptor */

static int
s_open_file (const char *path)
{
    return open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
}

static const struct {
    const char *name;
    const char *label;                          /* padded: columns line up */
    int priority;                               /* for syslog */
} s_levels[] = {
    [LOG_LEVEL_ERROR] = { "error", "ERROR", LOG_ERR },
    [LOG_LEVEL_WARN] = { "warn", "WARN ", LOG_WARNING },
    [LOG_LEVEL_INFO] = { "info", "INFO ", LOG_INFO },
    [LOG_LEVEL_DEBUG] = { "debug", "DEBUG", LOG_DEBUG },
};
#define NLEVELS (sizeof s_levels / sizeof s_levels[0])

static int
s_level_from_name (const char *name, log_level_t *level)
{
    for (size_t i = 0; i < NLEVELS; i++) {
        if (strcasecmp (name, s_levels[i].name) == 0) {
            *level = (log_level_t) i;
            return 0;
        }
    }
    if (strcasecmp (name, "warning") == 0) {
        *level = LOG_LEVEL_WARN;
        return 0;
    }
    return error_set (EINVAL, "unknown log level '%s' (use error, warn, info or debug)",
                      name);
}

int
log_init (const char *component, const char *level_name, const char *target)
{
    log_level_t level = LOG_LEVEL_INFO;
    target_t t;

    if (!component || !*component)
        return error_set (EINVAL, "log component must not be empty");
    if (level_name && s_level_from_name (level_name, &level) < 0)
        return -1;
    int fd = -1;
    const char *path = NULL;
    if (!target || strcasecmp (target, "stderr") == 0)
        t = TARGET_STDERR;
    else if (strcasecmp (target, "syslog") == 0)
        t = TARGET_SYSLOG;
    else if (strncmp (target, "file:", 5) == 0) {
        t = TARGET_FILE;
        path = target + 5;
        if (!*path || strlen (path) >= sizeof s_path)
            return error_set (EINVAL, "log target '%s' needs a file path", target);
        fd = s_open_file (path);
        if (fd < 0)
            return error_set (errno, "cannot open log file %s: %s", path, strerror (errno));
    }
    else
        return error_set (EINVAL,
                          "unknown log target '%s' (use stderr, syslog or file:PATH)",
                          target);

    pthread_mutex_lock (&s_lock);
    if (s_target == TARGET_SYSLOG)
        closelog ();
    if (s_fd >= 0)
        close (s_fd);
    s_fd = fd;
    snprintf (s_path, sizeof s_path, "%s", path ? path : "");
    snprintf (s_component, sizeof s_component, "%s", component);
    s_target = t;
    if (s_target == TARGET_SYSLOG)
        openlog (s_component, LOG_PID | LOG_NDELAY, LOG_DAEMON);
    pthread_mutex_unlock (&s_lock);
    log_set_level (level);
    return 0;
}

void
log_set_level (log_level_t level)
{
    assert ((unsigned) level < NLEVELS);
    __atomic_store_n (&s_level, (int) level, __ATOMIC_RELAXED);
}

bool
log_enabled (log_level_t level)
{
    return (int) level <= __atomic_load_n (&s_level, __ATOMIC_RELAXED);
}

void
log_reopen (void)
{
    pthread_mutex_lock (&s_lock);
    if (s_target == TARGET_SYSLOG) {
        closelog ();
        openlog (s_component, LOG_PID | LOG_NDELAY, LOG_DAEMON);
    }
    else if (s_target == TARGET_FILE) {
        /*  After logrotate moved the file away: a new one at the path. If
            that fails, keep writing to the old descriptor, not nowhere. */
        int fd = s_open_file (s_path);
        if (fd >= 0) {
            close (s_fd);
            s_fd = fd;
        }
    }
    pthread_mutex_unlock (&s_lock);
}

/*  Drops trailing newlines and turns the others (and carriage returns)
    into spaces: one event must stay one line for grep and log shippers. */
static void
s_flatten_text (char *text, size_t *len)
{
    while (*len > 0 && (text[*len - 1] == '\n' || text[*len - 1] == '\r'))
        text[--*len] = '\0';
    for (size_t i = 0; i < *len; i++) {
        if (text[i] == '\n' || text[i] == '\r')
            text[i] = ' ';
    }
}

/*  Writes all of buf; a short write is finished rather than dropped.
    Errors are ignored: there is nowhere left to report them.            */
static void
s_write_all (int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write (fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        buf += n;
        len -= (size_t) n;
    }
}

/*  Writes "<time> <LEVEL> <component>: " into buf and returns its length. */
static size_t
s_format_prefix (char *buf, size_t size, log_level_t level)
{
    struct timespec ts;
    struct tm tm;
    char date[32];

    clock_gettime (CLOCK_REALTIME, &ts);
    gmtime_r (&ts.tv_sec, &tm);
    strftime (date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    int n = snprintf (buf, size, "%s.%03ldZ %s %s: ", date, ts.tv_nsec / 1000000L,
                      s_levels[level].label, s_component);
    if (n < 0)
        return 0;
    return (size_t) n < size ? (size_t) n : size - 1;
}

void
log_msg (log_level_t level, const char *fmt, ...)
{
    int saved_errno = errno;
    char stackbuf[2048];
    char *line = stackbuf;
    size_t size = sizeof stackbuf;
    va_list ap;

    if ((unsigned) level >= NLEVELS || !log_enabled (level))
        return;

    /*  The prefix, text and newline are built in one buffer and written
        in one call. The lock is held from the timestamp to the write, so
        the lines in a log are in time order.                            */
    pthread_mutex_lock (&s_lock);
    size_t plen = 0;
    if (s_target != TARGET_SYSLOG)
        plen = s_format_prefix (line, size, level);

    errno = saved_errno;                        /* for %m */
    va_start (ap, fmt);
    int n = vsnprintf (line + plen, size - plen - 1, fmt, ap);
    va_end (ap);
    if (n < 0)
        goto done;
    size_t len = (size_t) n;
    if (len >= size - plen - 1) {
        /*  A long event goes to the heap; if that fails, a truncated
            event is better than aborting the daemon from its logger.   */
        char *big = malloc (plen + len + 2);
        if (big) {
            memcpy (big, line, plen);
            errno = saved_errno;
            va_start (ap, fmt);
            vsnprintf (big + plen, len + 1, fmt, ap);
            va_end (ap);
            line = big;
        }
        else
            len = size - plen - 2;
    }
    s_flatten_text (line + plen, &len);
    if (s_target == TARGET_SYSLOG)
        syslog (s_levels[level].priority, "%s", line);
    else {
        line[plen + len] = '\n';
        s_write_all (s_target == TARGET_FILE ? s_fd : STDERR_FILENO, line, plen + len + 1);
    }
done:
    pthread_mutex_unlock (&s_lock);
    if (line != stackbuf)
        free (line);
    errno = saved_errno;
}
