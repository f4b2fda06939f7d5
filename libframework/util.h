/*  util.h - small pieces the daemons share: directories, signals, files. */
#ifndef CAIRN_UTIL_H_INCLUDED
#define CAIRN_UTIL_H_INCLUDED

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <czmq.h>

/*  mkdir -p with the given mode for created directories; -1 + error_set
    naming the path on failure.                                            */
int util_mkdir_p (const char *path, mode_t mode);

/*  Blocks SIGTERM, SIGINT, SIGHUP and SIGCHLD (and ignores SIGPIPE), and
    returns a signalfd that reports them, for the event loop. -1 on error. */
int util_signalfd (void);
/*  Reads one signal from the signalfd; 0 if none.                          */
int util_signalfd_read (int fd);

/*  A zloop poller handler for util_signalfd's fd: SIGHUP reopens the log,
    SIGTERM and SIGINT end the loop (returns -1); SIGCHLD is ignored (the
    agent reaps through pidfds).                                          */
int util_on_signal (zloop_t *loop, zmq_pollitem_t *item, void *arg);

/*  Writes data to path atomically (temporary file, fsync, rename).        */
int util_write_file (const char *path, const void *data, size_t size, mode_t mode);
/*  Reads a whole (small) file; NULL + errno on failure. Caller frees.     */
char *util_read_file (const char *path, size_t max, size_t *size);

/*  rm -rf; errors ignored except on the top directory.                     */
int util_remove_tree (const char *path);

/*  The closest of `names` to `word` by edit distance (at most 2, and less
    than the name's length), or NULL: for "did you mean" hints.          */
const char *util_closest (const char *word, const char *const *names, size_t n);

/*  True if name can be an environment variable's name: letters, digits
    and '_', not starting with a digit, not empty.                        */
bool util_env_name_valid (const char *name);

#endif
