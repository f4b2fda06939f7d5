/*  log.h - leveled logging for the daemons, to stderr, a file or syslog.
    Internal.

    On stderr or in a file each event is one line,
        2026-11-22T03:12:37.123Z INFO  master: text
    (UTC time with milliseconds, level, component), written with one
    write(2) so lines from different threads never interleave. Every
    function is thread-safe; none is async-signal-safe. log_msg preserves
    errno, so `log_error (...); return -1;` keeps the caller's errno.
    Before log_init, events go to stderr at level info as component
    "cairn".                                                               */
#ifndef CAIRN_LOG_H_INCLUDED
#define CAIRN_LOG_H_INCLUDED

#include <stdbool.h>

typedef enum {
    LOG_LEVEL_ERROR,
    LOG_LEVEL_WARN,
    LOG_LEVEL_INFO,
    LOG_LEVEL_DEBUG,
} log_level_t;

/*  Sets the component ("master"; the first 63 bytes are kept), the level
    ("error", "warn", "info" or "debug"; NULL means "info") and the target
    ("stderr", "syslog" or "file:PATH", appended to; NULL means "stderr").
    Returns 0, or -1 with errno EINVAL (or open's errno) and an error_set
    sentence for an empty component, an unknown level or target, or a file
    that cannot be opened, changing nothing.                               */
int log_init (const char *component, const char *level_name, const char *target);

void log_set_level (log_level_t level);

/*  True if events at `level` are written: lets callers skip building
    expensive debug text.                                                  */
bool log_enabled (log_level_t level);

/*  Writes one event if `level` is enabled. Newlines in the text become
    spaces (a trailing one is dropped), so one event is one line.         */
void log_msg (log_level_t level, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

#define log_error(...) log_msg (LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg (LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg (LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg (LOG_LEVEL_DEBUG, __VA_ARGS__)

/*  Reopens the target, for SIGHUP after log rotation: a file target is
    opened again at its path (the old descriptor is kept if that fails);
    a no-op for stderr. Call it from the event loop, not from the signal handler.     */
void log_reopen (void);

#endif
