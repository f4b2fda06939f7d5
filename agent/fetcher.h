/*  fetcher.h - downloading a task's URIs into its sandbox, off the loop.

    A task may list URIs (http://, https://, file://) to fetch into its
    sandbox before it starts, each optionally extracted (.tar, .tar.gz,
    .tgz, .tar.xz, .txz, .tar.bz2, .tbz2, .zip) and/or made executable.
    The agent's loop never blocks on that work: each fetch runs in its
    own cairn-fetcher process, started with posix_spawn and watched
    through a pidfd on the agent's zloop. The process writes a result
    file into a directory the agent owns; when it exits, this module
    reads the result and reports it through one callback. http(s)
    downloads are cached per agent (cairn-fetcher keeps the cache: a
    directory, an LRU size limit); this module only passes the settings.

    Ownership: callbacks run on the loop, after the fetch has left the
    module's books, so a callback may start a new fetch with the same
    id; it must not destroy the fetcher.                                  */
#ifndef CAIRN_FETCHER_H_INCLUDED
#define CAIRN_FETCHER_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <czmq.h>

#include "proto.h"

#define FETCHER_PROGRAM             "cairn-fetcher"
#define FETCHER_DEFAULT_TIMEOUT_MS  (30 * 60 * 1000)    /* a whole fetch */
#define FETCHER_DEFAULT_MAX_BYTES   (4ull << 30)        /* one file */

/*  Called once per fetch that was not cancelled: ok, or a failure whose
    message names the URI and why ("cannot fetch http://h/a.tgz: the
    server answered HTTP 404"). On success message is a summary. Both
    strings are borrowed for the call.                                    */
typedef void (fetch_done_fn) (void *arg, const char *id, bool ok, const char *message);

typedef struct _fetcher_t fetcher_t;

/*  The cairn-fetcher to run: next to the running program if it is there
    (a build tree, or an install that keeps helpers beside the daemon),
    else libexecdir/cairn-fetcher. The caller frees it.                  */
char *fetcher_find_program (const char *libexecdir);

/*  A fetcher that runs fetcher_path for each fetch on loop. http(s)
    downloads are cached in cache_dir (created by the helper, mode 0700)
    up to cache_max_bytes in all; cache_dir NULL or cache_max_bytes 0
    turns the cache off. NULL + error_set if fetcher_path cannot be run. */
fetcher_t *fetcher_new (zloop_t *loop, const char *fetcher_path, const char *cache_dir,
                        uint64_t cache_max_bytes, fetch_done_fn *fn, void *arg);
/*  Kills (SIGKILL to each helper's process group) and reaps every
    running fetch, without callbacks. Call it before destroying the
    loop. NULL-safe; nulls *self_p.                                       */
void fetcher_destroy (fetcher_t **self_p);

/*  Bounds each later fetch: timeout_ms for the whole fetch (all its URIs,
    extraction included; 0 = none), max_bytes for any one file (0 = no
    limit). Defaults: FETCHER_DEFAULT_TIMEOUT_MS, FETCHER_DEFAULT_MAX_BYTES. */
void fetcher_set_limits (fetcher_t *self, int64_t timeout_ms, uint64_t max_bytes);

/*  Starts fetching uris[0..count) (count > 0) in order into the existing
    directory sandbox, as fetch `id`. run_dir is an existing directory the
    task cannot write: the helper leaves fetch.result and fetch.log (its
    stderr) there. 0 when started (the callback follows, later, from the
    loop); -1 with error_set (EEXIST if id is being fetched, or the spawn
    failed) and no callback.                                              */
int fetcher_start (fetcher_t *self, const char *id, const char *sandbox, const char *run_dir,
                   const proto_uri_t *uris, size_t count);

/*  Kills fetch `id` (SIGKILL to its process group: downloads, tar, unzip)
    without a callback; the process is reaped later by the loop. What it
    wrote to the sandbox stays. -1 with errno ESRCH if id is not being
    fetched.                                                              */
int fetcher_cancel (fetcher_t *self, const char *id);

/*  True while fetch `id` runs (started, not yet reported or cancelled).  */
bool fetcher_active (fetcher_t *self, const char *id);
/*  The helper's pid while fetch `id` runs, else 0 (for logs and tests).  */
pid_t fetcher_pid (fetcher_t *self, const char *id);
/*  Fetches running, cancelled ones not yet reaped included.              */
size_t fetcher_size (fetcher_t *self);

#endif
