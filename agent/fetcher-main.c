/*  fetcher-main.c - cairn-fetcher: fetches a task's URIs into its sandbox.

    cairn-fetcher --sandbox=DIR --result=FILE [--cache-dir=DIR
        --cache-max-bytes=N] [--max-bytes=N] [--timeout-ms=N]
        --uri=URI [--extract] [--executable] [--uri=URI ...]

    The agent runs one per task, off its event loop, and reads FILE when
    it exits: "ok\n<summary>\n", or "failed\n<uri>\n<reason>\n" for the
    first URI that failed (later ones are not tried); each is one line
    (control characters become spaces). FILE is written atomically, so
    it is either complete or absent. Exit status 0 on success, 1 when a
    URI failed, 2 on a usage error, 3 when FILE cannot be written.

    Each URI becomes <sandbox>/<last path segment, percent-decoded>,
    written to a temporary name and renamed into place (mode 0644, or
    0755 with --executable). http:// and https:// are downloaded with
    libcurl (redirects to http(s) only, a connect timeout, a stall
    timeout, the fetch's overall deadline and a size cap); file:// is
    copied from the local file system.

    Cache (http and https only): <cache-dir>/<sha256 of the URI> holds a
    complete copy of what the URI served; URIs are taken to name
    immutable content (versioned artifacts, as with Mesos's fetcher
    cache), except that a response marked "Cache-Control: no-store" or
    "no-cache" is not kept. An entry is made by copying into a locked
    temporary file in the cache directory, fsync, then rename, so a
    reader (another fetcher, for the same URI or not) sees a whole entry
    or none. Insertions and evictions hold <cache-dir>/.lock; a hit only
    opens the entry (an open file survives its eviction) and touches its
    mtime, which orders the LRU. Before an insertion, the oldest entries
    go until the new one fits under --cache-max-bytes; a file larger than
    the limit is not cached. Temporary files whose writer died (their
    flock is free) are removed then too.

    Extraction (.tar, .tar.gz/.tgz, .tar.xz/.txz, .tar.bz2/.tbz2, .zip;
    other names are just copied) runs tar or unzip, with a clean
    environment (no TAR_OPTIONS or UNZIP), in layers:
    1. the archive's listing is checked first: a member with an absolute
       name or a ".." component refuses the archive;
    2. the tool extracts into a new, empty staging directory in the
       sandbox (tar: --no-same-owner --no-same-permissions --force-local;
       GNU tar also refuses ".." itself and creates symlinks only after
       every file, so no member is written through one);
    3. in the staging tree, set-user-ID and set-group-ID bits are cleared
       and device nodes, fifos and sockets removed;
    4. the staging tree is moved into the sandbox by rename, looking at
       every name with lstat and descending only into real directories,
       so a symlink left by an earlier URI is replaced, never followed.

    A SIGTERM, SIGINT or SIGHUP, or the death of the agent (parent death
    signal), kills the whole process group: downloads and extractions
    stop at once.                                                         */
#include "config.h"

#include <assert.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cairn.h"
#include "error.h"
#include "log.h"
#include "util.h"

#define CONNECT_TIMEOUT_MS  30000       /* per connection attempt */
#define STALL_TIME_S        60          /* abort below 1 byte/s for this long */
#define MAX_REDIRECTS       10
#define STALE_TMP_S         60          /* a cache temp file this old may be an orphan */
#define REASON_MAX          1024
#define URI_MAX_SHOWN       2048        /* bytes of a URI in the result file */
#define TOOL_ERR_MAX        4096        /* bytes of tar's or unzip's stderr kept */
#define LISTING_LINE_MAX    65536
#define CACHE_LOCK          ".lock"
#define CACHE_TMP           ".tmp-"
#define SANDBOX_TMP         ".cairn-fetch-"
#define STAGING             ".cairn-extract-"

extern char **environ;

typedef struct {
    const char *uri;
    bool extract;
    bool executable;
} item_t;

typedef struct {
    const char *sandbox;
    const char *result;
    const char *cache_dir;              /* NULL: no cache */
    uint64_t cache_max;
    uint64_t max_bytes;                 /* 0: no limit */
    int64_t timeout_ms;                 /* 0: none */
    int64_t deadline;                   /* CLOCK_MONOTONIC ms; 0: none */
    item_t *items;
    size_t count;
    size_t from_cache;
} opts_t;

/*  Why the current URI failed, for the result file.                      */
static char s_reason[REASON_MAX];

static int
s_fail (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
static int
s_fail (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (s_reason, sizeof s_reason, fmt, ap);
    va_end (ap);
    return -1;
}

static int64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*  SHA-256 (FIPS 180-4), for cache keys.  */

typedef struct {
    uint32_t h[8];
    uint64_t len;
    uint8_t buf[64];
    size_t n;
} sha256_t;

static const uint32_t s_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR32(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void
s_sha256_block (sha256_t *s, const uint8_t *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t) p[4 * i] << 24 | (uint32_t) p[4 * i + 1] << 16
               | (uint32_t) p[4 * i + 2] << 8 | (uint32_t) p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR32 (w[i - 15], 7) ^ ROR32 (w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR32 (w[i - 2], 17) ^ ROR32 (w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3];
    uint32_t e = s->h[4], f = s->h[5], g = s->h[6], h = s->h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + (ROR32 (e, 6) ^ ROR32 (e, 11) ^ ROR32 (e, 25)) + ((e & f) ^ (~e & g))
                      + s_k[i] + w[i];
        uint32_t t2 = (ROR32 (a, 2) ^ ROR32 (a, 13) ^ ROR32 (a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    s->h[0] += a;
    s->h[1] += b;
    s->h[2] += c;
    s->h[3] += d;
    s->h[4] += e;
    s->h[5] += f;
    s->h[6] += g;
    s->h[7] += h;
}

/*  out gets 64 lowercase hex digits and a NUL.                           */
static void
s_sha256_hex (const void *data, size_t size, char out[65])
{
    sha256_t s = { { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c,
                     0x1f83d9ab, 0x5be0cd19 },
                   0, { 0 }, 0 };
    const uint8_t *p = data;
    s.len = (uint64_t) size * 8;
    while (size >= 64) {
        s_sha256_block (&s, p);
        p += 64;
        size -= 64;
    }
    memcpy (s.buf, p, size);
    s.n = size;
    s.buf[s.n++] = 0x80;
    if (s.n > 56) {
        memset (s.buf + s.n, 0, 64 - s.n);
        s_sha256_block (&s, s.buf);
        s.n = 0;
    }
    memset (s.buf + s.n, 0, 56 - s.n);
    for (int i = 0; i < 8; i++)
        s.buf[56 + i] = (uint8_t) (s.len >> (56 - 8 * i));
    s_sha256_block (&s, s.buf);
    for (int i = 0; i < 8; i++)
        snprintf (out + 8 * i, 9, "%08" PRIx32, s.h[i]);
}

/*  URIs  */

typedef enum { SCHEME_FILE, SCHEME_HTTP } scheme_t;

static int
s_hexval (char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*  Percent-decodes s[0..len); NULL if it encodes a NUL byte. Caller frees. */
static char *
s_decode (const char *s, size_t len)
{
    char *out = xmalloc (len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < len && (hi = s_hexval (s[i + 1])) >= 0 && (lo = s_hexval (s[i + 2])) >= 0) {
            if (hi == 0 && lo == 0) {
                free (out);
                return NULL;
            }
            out[n++] = (char) (hi << 4 | lo);
            i += 2;
        }
        else
            out[n++] = s[i];
    }
    out[n] = '\0';
    return out;
}

/*  Splits a URI into its scheme, the local path (file://) and the name
    it gets in the sandbox. -1 with s_reason.                             */
static int
s_parse_uri (const char *uri, scheme_t *scheme, char **path, char **name)
{
    *path = *name = NULL;
    for (const char *p = uri; *p; p++)
        if ((unsigned char) *p < 0x20 || *p == 0x7f)
            return s_fail ("the URI contains a control character");
    const char *rest;
    char *full = NULL;
    if (strncasecmp (uri, "file://", 7) == 0) {
        *scheme = SCHEME_FILE;
        rest = uri + 7;
        if (*rest != '/') {
            if (strncasecmp (rest, "localhost/", 10) != 0)
                return s_fail ("a file:// URI must name a local absolute path "
                               "(file:///path or file://localhost/path)");
            rest += 9;
        }
        full = s_decode (rest, strlen (rest));
        if (!full)
            return s_fail ("the URI encodes a NUL byte");
        *path = full;
    }
    else if (strncasecmp (uri, "http://", 7) == 0 || strncasecmp (uri, "https://", 8) == 0) {
        *scheme = SCHEME_HTTP;
        rest = strstr (uri, "://") + 3;
        rest += strcspn (rest, "/?#");          /* past the authority */
        size_t len = strcspn (rest, "?#");
        full = s_decode (rest, len);
        if (!full)
            return s_fail ("the URI encodes a NUL byte");
    }
    else
        return s_fail ("unsupported URI scheme (use http://, https:// or file://)");

    /*  The name is the last path segment, decoded: it must be a plain
        file name.                                                        */
    const char *slash = strrchr (full, '/');
    const char *base = slash ? slash + 1 : full;
    bool bad = !*base || strcmp (base, ".") == 0 || strcmp (base, "..") == 0
               || strlen (base) > NAME_MAX;
    for (const char *p = base; *p && !bad; p++)
        if ((unsigned char) *p < 0x20 || *p == 0x7f)
            bad = true;
    if (bad) {
        if (*scheme != SCHEME_FILE)
            free (full);
        free (*path);
        *path = NULL;
        return s_fail ("cannot name a file after the URI: the last segment of its path "
                       "must be a file name");
    }
    *name = xstrdup (base);
    if (*scheme != SCHEME_FILE)
        free (full);
    return 0;
}

/*  Files  */

/*  Copies all of `in` (from offset 0) to `out` at its current offset;
    -1 with errno.                                                        */
static int
s_copy_fd (int in, int out)
{
    off_t off = 0;
    bool plain = false;
    while (!plain) {
        ssize_t n = copy_file_range (in, &off, out, NULL, 1u << 30, 0);
        if (n == 0)
            return 0;
        /*  copy_file_range advances off and out's offset.            */
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS
                      || errno == EOPNOTSUPP || errno == EBADF))
            plain = true;
        else if (n < 0)
            return -1;
    }
    char buf[65536];
    while (true) {
        ssize_t n = pread (in, buf, sizeof buf, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        off += n;
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write (out, buf + done, (size_t) (n - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                return -1;
            done += w;
        }
    }
}

/*  A new temporary file in the sandbox, for `name`. -1 with s_reason.    */
static int
s_sandbox_tmp (const opts_t *o, const char *name, char **tmp)
{
    *tmp = xasprintf ("%s/" SANDBOX_TMP "XXXXXX", o->sandbox);
    int fd = mkostemp (*tmp, O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        free (*tmp);
        *tmp = NULL;
        return s_fail ("cannot create a file in the sandbox for %s: %s", name, strerror (err));
    }
    return fd;
}

/*  Gives the finished temporary file its mode and its name; closes fd
    and frees *tmp. -1 with s_reason (the temporary file is removed).     */
static int
s_install (const opts_t *o, int fd, char **tmp, const char *name, bool executable)
{
    char *final = xasprintf ("%s/%s", o->sandbox, name);
    int rc = 0;
    if (fchmod (fd, executable ? 0755 : 0644) < 0)
        rc = s_fail ("cannot set the mode of %s: %s", final, strerror (errno));
    if (close (fd) < 0 && rc == 0)
        rc = s_fail ("cannot write %s: %s", final, strerror (errno));
    if (rc == 0 && rename (*tmp, final) < 0)
        rc = s_fail ("cannot write %s: %s", final, strerror (errno));
    if (rc < 0)
        unlink (*tmp);
    free (*tmp);
    *tmp = NULL;
    free (final);
    return rc;
}

static void
s_discard (int fd, char **tmp)
{
    if (fd >= 0)
        close (fd);
    if (*tmp)
        unlink (*tmp);
    free (*tmp);
    *tmp = NULL;
}

/*  Cache  */

typedef struct {
    char name[65];
    uint64_t size;
    struct timespec mtime;
} entry_t;

static bool
s_is_key (const char *name)
{
    if (strlen (name) != 64)
        return false;
    for (const char *p = name; *p; p++)
        if (!isxdigit ((unsigned char) *p) || isupper ((unsigned char) *p))
            return false;
    return true;
}

static int
s_entry_cmp (const void *a, const void *b)
{
    const entry_t *x = a, *y = b;
    if (x->mtime.tv_sec != y->mtime.tv_sec)
        return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
    if (x->mtime.tv_nsec != y->mtime.tv_nsec)
        return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
    return strcmp (x->name, y->name);
}

/*  With the cache lock held: removes orphaned temporary files, then the
    least recently used entries until `incoming` more bytes fit (an entry
    named `key` does not count: it is about to be replaced).              */
static void
s_cache_evict (const opts_t *o, int dirfd, const char *key, uint64_t incoming)
{
    DIR *dir = fdopendir (dup (dirfd));
    if (!dir) {
        log_warn ("cannot read the cache %s: %s", o->cache_dir, strerror (errno));
        return;
    }
    entry_t *entries = NULL;
    size_t count = 0, cap = 0;
    uint64_t total = 0;
    time_t now = time (NULL);
    struct dirent *de;
    while ((de = readdir (dir))) {
        struct stat st;
        if (fstatat (dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG (st.st_mode))
            continue;
        if (strncmp (de->d_name, CACHE_TMP, strlen (CACHE_TMP)) == 0) {
            if (now - st.st_mtime < STALE_TMP_S)
                continue;
            int fd = openat (dirfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0)
                continue;
            /*  A live writer holds its temporary file's lock.            */
            if (flock (fd, LOCK_EX | LOCK_NB) == 0) {
                log_info ("cache: removing %s, left by a fetcher that died", de->d_name);
                unlinkat (dirfd, de->d_name, 0);
            }
            close (fd);
            continue;
        }
        if (!s_is_key (de->d_name) || strcmp (de->d_name, key) == 0)
            continue;
        if (count == cap) {
            cap = cap ? 2 * cap : 64;
            entries = xrealloc (entries, cap * sizeof *entries);
        }
        entry_t *e = &entries[count++];
        snprintf (e->name, sizeof e->name, "%s", de->d_name);
        e->size = (uint64_t) st.st_size;
        e->mtime = st.st_mtim;
        total += e->size;
    }
    closedir (dir);
    if (count > 1)
        qsort (entries, count, sizeof *entries, s_entry_cmp);
    for (size_t i = 0; i < count && total + incoming > o->cache_max; i++) {
        if (unlinkat (dirfd, entries[i].name, 0) == 0 || errno == ENOENT) {
            log_info ("cache: evicted %s (%" PRIu64 " bytes)", entries[i].name, entries[i].size);
            total -= entries[i].size;
        }
    }
    free (entries);
}

/*  Opens the cached copy of a URI, or -1 (a miss).                       */
static int
s_cache_open (const opts_t *o, const char *key)
{
    if (!o->cache_dir)
        return -1;
    char *path = xasprintf ("%s/%s", o->cache_dir, key);
    int fd = open (path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    free (path);
    struct stat st;
    if (fd >= 0 && (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))) {
        close (fd);
        fd = -1;
    }
    if (fd >= 0)
        futimens (fd, NULL);        /* most recently used */
    return fd;
}

/*  Keeps a copy of src (size bytes) as the cache entry `key`. Failures
    are logged: the fetch itself has succeeded.                           */
static void
s_cache_insert (const opts_t *o, const char *uri, const char *key, int src, uint64_t size)
{
    if (!o->cache_dir || size > o->cache_max)
        return;
    if (util_mkdir_p (o->cache_dir, 0700) < 0) {
        log_warn ("cache: %s", cairn_strerror_last ());
        return;
    }
    char *tmp = xasprintf ("%s/" CACHE_TMP "XXXXXX", o->cache_dir);
    char *final = xasprintf ("%s/%s", o->cache_dir, key);
    char *lock_path = xasprintf ("%s/" CACHE_LOCK, o->cache_dir);
    int lock = -1, dirfd = -1;
    int fd = mkostemp (tmp, O_CLOEXEC);
    if (fd < 0) {
        log_warn ("cache: cannot create %s: %s", tmp, strerror (errno));
        goto done;
    }
    flock (fd, LOCK_EX);
    /*  fsync before rename: after a crash an entry is whole or absent.  */
    if (s_copy_fd (src, fd) < 0 || fchmod (fd, 0600) < 0 || fsync (fd) < 0) {
        log_warn ("cache: cannot write %s: %s", tmp, strerror (errno));
        goto done;
    }
    lock = open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    dirfd = open (o->cache_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (lock < 0 || dirfd < 0 || flock (lock, LOCK_EX) < 0) {
        log_warn ("cache: cannot lock %s: %s", lock_path, strerror (errno));
        goto done;
    }
    s_cache_evict (o, dirfd, key, size);
    if (rename (tmp, final) < 0) {
        log_warn ("cache: cannot rename %s: %s", tmp, strerror (errno));
        goto done;
    }
    log_info ("cache: %s is %s (%" PRIu64 " bytes)", uri, key, size);
done:
    if (fd >= 0) {
        close (fd);
        unlink (tmp);               /* ENOENT once renamed */
    }
    if (dirfd >= 0)
        close (dirfd);
    if (lock >= 0)
        close (lock);               /* releases the cache lock */
    free (tmp);
    free (final);
    free (lock_path);
}

/*  Downloads  */

typedef struct {
    int fd;
    uint64_t size;
    uint64_t max;
    bool too_big;
    int write_errno;
    bool no_store;                  /* the final response forbids caching */
} download_t;

static size_t
s_on_data (char *data, size_t size, size_t nmemb, void *arg)
{
    download_t *d = arg;
    size_t n = size * nmemb;
    if (d->max && (uint64_t) n > d->max - d->size) {
        d->too_big = true;
        return 0;                   /* anything but n aborts the transfer */
    }
    for (size_t done = 0; done < n;) {
        ssize_t w = write (d->fd, data + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            d->write_errno = errno;
            return 0;
        }
        done += (size_t) w;
    }
    d->size += n;
    return n;
}

static size_t
s_on_header (char *data, size_t size, size_t nmemb, void *arg)
{
    download_t *d = arg;
    size_t n = size * nmemb;
    if (n >= 5 && strncmp (data, "HTTP/", 5) == 0)
        d->no_store = false;        /* a new response (after a redirect) */
    else if (n > 14 && strncasecmp (data, "cache-control:", 14) == 0) {
        char line[512];
        snprintf (line, sizeof line, "%.*s", (int) (n < sizeof line ? n : sizeof line - 1), data);
        if (strcasestr (line, "no-store") || strcasestr (line, "no-cache"))
            d->no_store = true;
    }
    return n;
}

/*  Downloads uri into fd. -1 with s_reason.                              */
static int
s_download (const opts_t *o, const char *uri, int fd, bool *cacheable)
{
    int64_t timeout = 0;
    if (o->deadline) {
        timeout = o->deadline - s_now_ms ();
        if (timeout <= 0)
            return s_fail ("timed out: the fetch's time limit of %" PRId64 " ms ran out",
                           o->timeout_ms);
    }
    CURL *curl = curl_easy_init ();
    if (!curl)
        return s_fail ("cannot initialise libcurl");
    char errbuf[CURL_ERROR_SIZE] = "";
    download_t d = { .fd = fd, .max = o->max_bytes };
    char *agent = xasprintf ("cairn-fetcher/%s", PACKAGE_VERSION);
    curl_easy_setopt (curl, CURLOPT_URL, uri);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt (curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt (curl, CURLOPT_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
    curl_easy_setopt (curl, CURLOPT_REDIR_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt (curl, CURLOPT_MAXREDIRS, (long) MAX_REDIRECTS);
    curl_easy_setopt (curl, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt (curl, CURLOPT_USERAGENT, agent);
    curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, errbuf);
    long connect_ms = CONNECT_TIMEOUT_MS;
    if (timeout && timeout < connect_ms)
        connect_ms = (long) timeout;
    curl_easy_setopt (curl, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, (long) timeout);
    curl_easy_setopt (curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt (curl, CURLOPT_LOW_SPEED_TIME, (long) STALL_TIME_S);
    if (o->max_bytes)
        curl_easy_setopt (curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) o->max_bytes);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_on_data);
    curl_easy_setopt (curl, CURLOPT_WRITEDATA, &d);
    curl_easy_setopt (curl, CURLOPT_HEADERFUNCTION, s_on_header);
    curl_easy_setopt (curl, CURLOPT_HEADERDATA, &d);

    CURLcode rc = curl_easy_perform (curl);
    long code = 0;
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &code);
    int ret = 0;
    if (d.too_big || rc == CURLE_FILESIZE_EXCEEDED)
        ret = s_fail ("larger than the limit of %" PRIu64 " bytes", o->max_bytes);
    else if (d.write_errno)
        ret = s_fail ("cannot write to the sandbox: %s", strerror (d.write_errno));
    else if (rc == CURLE_HTTP_RETURNED_ERROR)
        ret = s_fail ("the server answered HTTP %ld", code);
    else if (rc == CURLE_OPERATION_TIMEDOUT)
        ret = s_fail ("timed out: %s", errbuf[0] ? errbuf : curl_easy_strerror (rc));
    else if (rc != CURLE_OK)
        ret = s_fail ("%s", errbuf[0] ? errbuf : curl_easy_strerror (rc));
    else if (code < 200 || code > 299)
        ret = s_fail ("the server answered HTTP %ld", code);
    *cacheable = !d.no_store;
    curl_easy_cleanup (curl);
    free (agent);
    return ret;
}

/*  Running tar and unzip  */

typedef enum {
    ARCHIVE_NONE, ARCHIVE_TAR, ARCHIVE_TGZ, ARCHIVE_TXZ, ARCHIVE_TBZ, ARCHIVE_ZIP
} archive_t;

static bool
s_ends_with (const char *s, const char *suffix)
{
    size_t n = strlen (s), m = strlen (suffix);
    return n > m && strcasecmp (s + n - m, suffix) == 0;
}

static archive_t
s_archive_type (const char *name)
{
    if (s_ends_with (name, ".tar"))
        return ARCHIVE_TAR;
    if (s_ends_with (name, ".tar.gz") || s_ends_with (name, ".tgz"))
        return ARCHIVE_TGZ;
    if (s_ends_with (name, ".tar.xz") || s_ends_with (name, ".txz"))
        return ARCHIVE_TXZ;
    if (s_ends_with (name, ".tar.bz2") || s_ends_with (name, ".tbz2") || s_ends_with (name, ".tbz"))
        return ARCHIVE_TBZ;
    if (s_ends_with (name, ".zip"))
        return ARCHIVE_ZIP;
    return ARCHIVE_NONE;
}

/*  A member name that could land outside the extraction directory: an
    absolute name or a ".." component (backslashes count as separators
    for zip, whose Windows-made archives use them).                       */
static bool
s_unsafe_member (const char *name, bool backslash)
{
    const char *seps = backslash ? "/\\" : "/";
    if (strchr (seps, name[0]) && name[0])
        return true;
    if (backslash && isalpha ((unsigned char) name[0]) && name[1] == ':')
        return true;                /* C:\... */
    for (const char *p = name; *p;) {
        size_t len = strcspn (p, seps);
        if (len == 2 && p[0] == '.' && p[1] == '.')
            return true;
        p += len;
        if (*p)
            p++;
    }
    return false;
}

typedef struct {
    bool backslash;
    char *bad;                      /* the first unsafe member */
    char line[LISTING_LINE_MAX];
    size_t len;
    bool overlong;
} listing_t;

static void
s_listing_line (listing_t *l)
{
    l->line[l->len] = '\0';
    if (!l->bad && (l->overlong || s_unsafe_member (l->line, l->backslash)))
        l->bad = xstrdup (l->overlong ? "(a member name too long to check)" : l->line);
    l->len = 0;
    l->overlong = false;
}

/*  Runs argv (PATH searched) with a clean environment, stdin from
    /dev/null; its stdout is checked line by line as an archive listing
    when listing is not NULL, else discarded. Returns the exit status (or
    -1 with s_reason if it could not run); *err gets the start of its
    stderr (caller frees).                                                */
static int
s_run (char *const argv[], listing_t *listing, char **err)
{
    static char *clean_env[] = {
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL
    };
    *err = NULL;
    int out[2] = { -1, -1 };
    int errfd = memfd_create ("stderr", MFD_CLOEXEC);
    if (errfd < 0)
        return s_fail ("memfd_create: %s", strerror (errno));
    if (listing && pipe2 (out, O_CLOEXEC) < 0) {
        close (errfd);
        return s_fail ("pipe: %s", strerror (errno));
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init (&fa);
    posix_spawn_file_actions_addopen (&fa, 0, "/dev/null", O_RDONLY, 0);
    if (listing)
        posix_spawn_file_actions_adddup2 (&fa, out[1], 1);
    else
        posix_spawn_file_actions_addopen (&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2 (&fa, errfd, 2);
    pid_t pid;
    int rc = posix_spawnp (&pid, argv[0], &fa, NULL, argv, clean_env);
    posix_spawn_file_actions_destroy (&fa);
    if (out[1] >= 0)
        close (out[1]);
    if (rc != 0) {
        if (out[0] >= 0)
            close (out[0]);
        close (errfd);
        return s_fail ("cannot run %s: %s", argv[0], strerror (rc));
    }
    if (listing) {
        char buf[65536];
        ssize_t n;
        while ((n = read (out[0], buf, sizeof buf)) != 0) {
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                break;
            for (ssize_t i = 0; i < n; i++) {
                if (buf[i] == '\n')
                    s_listing_line (listing);
                else if (listing->len < sizeof listing->line - 1)
                    listing->line[listing->len++] = buf[i];
                else
                    listing->overlong = true;
            }
        }
        if (listing->len > 0 || listing->overlong)
            s_listing_line (listing);
        close (out[0]);
    }
    int status;
    while (waitpid (pid, &status, 0) < 0)
        if (errno != EINTR) {
            close (errfd);
            return s_fail ("waitpid: %s", strerror (errno));
        }
    char text[TOOL_ERR_MAX + 1];
    ssize_t n = pread (errfd, text, TOOL_ERR_MAX, 0);
    close (errfd);
    text[n > 0 ? n : 0] = '\0';
    *err = xstrdup (text);
    if (WIFSIGNALED (status))
        return 128 + WTERMSIG (status);
    return WEXITSTATUS (status);
}

/*  The line of a tool's stderr that says what went wrong: the first that
    is not a note or a summary.                                           */
static char *
s_tool_error (const char *err)
{
    const char *best = NULL;
    size_t best_len = 0;
    for (const char *p = err; p && *p;) {
        size_t len = strcspn (p, "\n");
        bool skip = len == 0 || memmem (p, len, "Removing leading", 16)
                    || memmem (p, len, "Exiting with failure status", 27);
        if (!skip && !best) {
            best = p;
            best_len = len;
        }
        p += len;
        if (*p)
            p++;
    }
    if (!best)
        return xstrdup ("no explanation given");
    return xasprintf ("%.*s", (int) (best_len > 500 ? 500 : best_len), best);
}

/*  Clears set-user-ID and set-group-ID bits and removes device nodes,
    fifos and sockets in the staging tree (never following a symlink).    */
static int
s_sanitize_cb (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) ftw;
    if (flag == FTW_SL || flag == FTW_SLN)
        return 0;
    if (S_ISCHR (st->st_mode) || S_ISBLK (st->st_mode) || S_ISFIFO (st->st_mode)
        || S_ISSOCK (st->st_mode)) {
        log_warn ("extract: removing special file %s", path);
        unlink (path);
    }
    else if (st->st_mode & (S_ISUID | S_ISGID))
        chmod (path, st->st_mode & 07777 & ~(mode_t) (S_ISUID | S_ISGID));
    return 0;
}

/*  Moves every entry of src into dst: new names by rename; a directory
    onto a directory by descending; anything else replaces what is there
    (a file or a symlink, never followed). -1 with s_reason.              */
static int
s_merge (int src, int dst, const char *where)
{
    int srcdup = dup (src);
    DIR *dir = srcdup >= 0 ? fdopendir (srcdup) : NULL;
    if (!dir) {
        if (srcdup >= 0)
            close (srcdup);
        return s_fail ("cannot read the extracted files: %s", strerror (errno));
    }
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir (dir))) {
        const char *name = de->d_name;
        if (strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
            continue;
        struct stat s, t;
        if (fstatat (src, name, &s, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        bool exists = fstatat (dst, name, &t, AT_SYMLINK_NOFOLLOW) == 0;
        if (exists && S_ISDIR (s.st_mode) && S_ISDIR (t.st_mode)) {
            int a = openat (src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            int b = openat (dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            char *sub = xasprintf ("%s%s/", where, name);
            if (a < 0 || b < 0)
                rc = s_fail ("cannot open the directory %s: %s", sub, strerror (errno));
            else
                rc = s_merge (a, b, sub);
            if (a >= 0)
                close (a);
            if (b >= 0)
                close (b);
            free (sub);
            continue;
        }
        if (exists && S_ISDIR (t.st_mode)) {
            rc = s_fail ("the archive's %s%s would replace a directory", where, name);
            continue;
        }
        if (exists && S_ISDIR (s.st_mode) && unlinkat (dst, name, 0) < 0) {
            rc = s_fail ("cannot replace %s%s: %s", where, name, strerror (errno));
            continue;
        }
        if (renameat (src, name, dst, name) < 0)
            rc = s_fail ("cannot move %s%s into the sandbox: %s", where, name, strerror (errno));
    }
    closedir (dir);
    return rc;
}

/*  Extracts the archive <sandbox>/name. -1 with s_reason.                */
static int
s_extract (const opts_t *o, const char *name, archive_t type)
{
    char *archive = xasprintf ("%s/%s", o->sandbox, name);
    char *staging = xasprintf ("%s/" STAGING "XXXXXX", o->sandbox);
    char *zip_link = NULL;
    char *err = NULL;
    int src = -1, dst = -1;
    int rc = -1;
    listing_t *listing = xzalloc (sizeof *listing);
    if (!mkdtemp (staging)) {
        s_fail ("cannot create a directory in the sandbox: %s", strerror (errno));
        free (staging);
        staging = NULL;
        goto done;
    }
    const char *tool;
    int status;
    if (type == ARCHIVE_ZIP) {
        tool = "unzip";
        /*  unzip reads wildcards in the archive's name: give it one with
            none, a hard link beside the staging directory.               */
        zip_link = xasprintf ("%s.zip", staging);
        const char *path = link (archive, zip_link) == 0 ? zip_link : archive;
        if (path == archive) {
            free (zip_link);
            zip_link = NULL;
        }
        listing->backslash = true;
        char *list_argv[] = { "unzip", "-Z1", (char *) path, NULL };
        status = s_run (list_argv, listing, &err);
        if (status < 0)
            goto done;
        if (status != 0 && !listing->bad) {
            char *why = s_tool_error (err);
            s_fail ("cannot read the archive %s: %s", name, why);
            free (why);
            goto done;
        }
        if (!listing->bad) {
            free (err);
            char *argv[] = { "unzip", "-q", "-o", (char *) path, "-d", staging, NULL };
            status = s_run (argv, NULL, &err);
            /*  1: warnings only (e.g. backslashes as separators).        */
            if (status == 1) {
                log_warn ("unzip %s: %s", name, err);
                status = 0;
            }
        }
    }
    else {
        tool = "tar";
        const char *filter = type == ARCHIVE_TGZ   ? "--gzip"
                             : type == ARCHIVE_TXZ ? "--xz"
                             : type == ARCHIVE_TBZ ? "--bzip2"
                                                   : "--no-auto-compress";
        char *file_arg = xasprintf ("--file=%s", archive);
        char *dir_arg = xasprintf ("--directory=%s", staging);
        char *list_argv[] = { "tar", "--list", "--force-local", (char *) filter, file_arg, NULL };
        status = s_run (list_argv, listing, &err);
        if (status == 0 && !listing->bad) {
            free (err);
            char *argv[] = { "tar", "--extract", "--force-local", (char *) filter, file_arg,
                             dir_arg, "--no-same-owner", "--no-same-permissions",
                             "--no-overwrite-dir", NULL };
            status = s_run (argv, NULL, &err);
        }
        else if (status > 0 && !listing->bad) {
            char *why = s_tool_error (err);
            s_fail ("cannot read the archive %s: %s", name, why);
            free (why);
            status = -1;
        }
        free (file_arg);
        free (dir_arg);
        if (status < 0)
            goto done;
    }
    if (listing->bad) {
        s_fail ("the archive %s has a member that would escape the sandbox: %s", name,
                listing->bad);
        goto done;
    }
    if (status != 0) {
        char *why = s_tool_error (err);
        s_fail ("cannot extract %s (%s exited with status %d): %s", name, tool, status, why);
        free (why);
        goto done;
    }
    nftw (staging, s_sanitize_cb, 16, FTW_PHYS);
    src = open (staging, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    dst = open (o->sandbox, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (src < 0 || dst < 0) {
        s_fail ("cannot open the sandbox: %s", strerror (errno));
        goto done;
    }
    rc = s_merge (src, dst, "");
done:
    if (src >= 0)
        close (src);
    if (dst >= 0)
        close (dst);
    if (staging)
        util_remove_tree (staging);
    if (zip_link)
        unlink (zip_link);
    free (listing->bad);
    free (listing);
    free (err);
    free (staging);
    free (zip_link);
    free (archive);
    return rc;
}

/*  One URI  */

static int
s_fetch (opts_t *o, const item_t *item)
{
    scheme_t scheme = SCHEME_FILE;
    char *path = NULL, *name = NULL, *tmp = NULL;
    int in = -1, fd = -1;
    int rc = -1;
    bool cached = false;
    if (s_parse_uri (item->uri, &scheme, &path, &name) < 0)
        return -1;
    struct stat st;
    if (scheme == SCHEME_FILE) {
        /*  O_NONBLOCK: a fifo must not hang us in open.                  */
        in = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (in < 0 || fstat (in, &st) < 0) {
            s_fail ("cannot read %s: %s", path, strerror (errno));
            goto done;
        }
        if (!S_ISREG (st.st_mode)) {
            s_fail ("%s is not a regular file", path);
            goto done;
        }
        if (o->max_bytes && (uint64_t) st.st_size > o->max_bytes) {
            s_fail ("larger than the limit of %" PRIu64 " bytes", o->max_bytes);
            goto done;
        }
        if ((fd = s_sandbox_tmp (o, name, &tmp)) < 0)
            goto done;
        if (s_copy_fd (in, fd) < 0) {
            s_fail ("cannot copy %s into the sandbox: %s", path, strerror (errno));
            goto done;
        }
    }
    else {
        char key[65];
        s_sha256_hex (item->uri, strlen (item->uri), key);
        in = s_cache_open (o, key);
        if ((fd = s_sandbox_tmp (o, name, &tmp)) < 0)
            goto done;
        if (in >= 0) {
            if (s_copy_fd (in, fd) < 0) {
                s_fail ("cannot copy the cached copy into the sandbox: %s", strerror (errno));
                goto done;
            }
            cached = true;
            o->from_cache++;
        }
        else {
            bool cacheable = false;
            if (s_download (o, item->uri, fd, &cacheable) < 0)
                goto done;
            if (fstat (fd, &st) == 0 && cacheable)
                s_cache_insert (o, item->uri, key, fd, (uint64_t) st.st_size);
            else if (!cacheable)
                log_info ("cache: %s is marked no-store or no-cache; not kept", item->uri);
        }
    }
    if (s_install (o, fd, &tmp, name, item->executable) < 0) {
        fd = -1;
        goto done;
    }
    fd = -1;
    log_info ("fetched %s into %s/%s%s", item->uri, o->sandbox, name, cached ? " (cached)" : "");
    archive_t type = item->extract ? s_archive_type (name) : ARCHIVE_NONE;
    if (type != ARCHIVE_NONE) {
        if (s_extract (o, name, type) < 0)
            goto done;
        log_info ("extracted %s", name);
    }
    else if (item->extract)
        log_info ("%s is not an archive this fetcher extracts; kept as it is", name);
    rc = 0;
done:
    s_discard (fd, &tmp);
    if (in >= 0)
        close (in);
    free (path);
    free (name);
    return rc;
}

/*  Result  */

/*  Copies s into a single line of at most max bytes.                     */
static void
s_one_line (char *out, size_t max, const char *s)
{
    size_t n = 0;
    for (; *s && n + 1 < max; s++)
        out[n++] = ((unsigned char) *s < 0x20 || *s == 0x7f) ? ' ' : *s;
    out[n] = '\0';
}

static int
s_write_result (const char *path, const char *uri, const char *text)
{
    char *data;
    if (uri) {
        char *u = xmalloc (URI_MAX_SHOWN + 1), *r = xmalloc (REASON_MAX);
        s_one_line (u, URI_MAX_SHOWN + 1, uri);
        s_one_line (r, REASON_MAX, text);
        data = xasprintf ("failed\n%s\n%s\n", u, r);
        free (u);
        free (r);
    }
    else
        data = xasprintf ("ok\n%s\n", text);
    int rc = util_write_file (path, data, strlen (data), 0600);
    if (rc < 0)
        log_error ("%s", cairn_strerror_last ());
    free (data);
    return rc;
}

/*  Signals  */

static void
s_on_signal (int sig)
{
    (void) sig;
    /*  Our process group: us, and the tar or unzip we run.               */
    kill (0, SIGKILL);
}

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: cairn-fetcher --sandbox=DIR --result=FILE [--cache-dir=DIR\n"
             "           --cache-max-bytes=N] [--max-bytes=N] [--timeout-ms=N]\n"
             "           --uri=URI [--extract] [--executable] [--uri=URI ...]\n"
             "Fetches URIs (http://, https://, file://) into DIR, in order, and writes\n"
             "the outcome to FILE. --extract and --executable apply to the --uri before.\n");
}

static bool
s_parse_u64 (const char *s, uint64_t *out)
{
    if (!s || !isdigit ((unsigned char) *s))
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull (s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

int
main (int argc, char *argv[])
{
    static struct option long_opts[] = {
        { "sandbox", required_argument, NULL, 's' },
        { "result", required_argument, NULL, 'r' },
        { "cache-dir", required_argument, NULL, 'c' },
        { "cache-max-bytes", required_argument, NULL, 'C' },
        { "max-bytes", required_argument, NULL, 'm' },
        { "timeout-ms", required_argument, NULL, 't' },
        { "uri", required_argument, NULL, 'u' },
        { "extract", no_argument, NULL, 'x' },
        { "executable", no_argument, NULL, 'e' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    opts_t o = { 0 };
    o.items = xzalloc ((size_t) argc * sizeof (item_t));
    int exit_code = 2;
    const char *usage_error = NULL;
    uint64_t v;
    int c;
    log_init ("fetcher", NULL, NULL);
    opterr = 0;
    while (!usage_error && (c = getopt_long (argc, argv, "", long_opts, NULL)) != -1) {
        switch (c) {
            case 's':
                o.sandbox = optarg;
                break;
            case 'r':
                o.result = optarg;
                break;
            case 'c':
                o.cache_dir = optarg;
                break;
            case 'C':
                if (!s_parse_u64 (optarg, &o.cache_max))
                    usage_error = "--cache-max-bytes takes a number of bytes";
                break;
            case 'm':
                if (!s_parse_u64 (optarg, &o.max_bytes))
                    usage_error = "--max-bytes takes a number of bytes";
                break;
            case 't':
                if (!s_parse_u64 (optarg, &v) || v > INT64_MAX / 2)
                    usage_error = "--timeout-ms takes a number of milliseconds";
                o.timeout_ms = (int64_t) v;
                break;
            case 'u':
                o.items[o.count++].uri = optarg;
                break;
            case 'x':
            case 'e':
                if (o.count == 0)
                    usage_error = "--extract and --executable follow the --uri they modify";
                else if (c == 'x')
                    o.items[o.count - 1].extract = true;
                else
                    o.items[o.count - 1].executable = true;
                break;
            case 'h':
                s_usage (stdout);
                free (o.items);
                return 0;
            default:
                usage_error = "unknown option or missing value";
                break;
        }
    }
    if (!usage_error && optind < argc)
        usage_error = "unexpected argument";
    if (!usage_error && (!o.sandbox || !*o.sandbox || !o.result || !*o.result))
        usage_error = "--sandbox and --result are required";
    if (!usage_error && o.count == 0)
        usage_error = "no --uri to fetch";
    if (o.cache_dir && (!*o.cache_dir || o.cache_max == 0))
        o.cache_dir = NULL;
    if (usage_error) {
        fprintf (stderr, "cairn-fetcher: %s\n", usage_error);
        s_usage (stderr);
        if (o.result && *o.result)
            s_write_result (o.result, o.count ? o.items[0].uri : "(none)", usage_error);
        free (o.items);
        return 2;
    }

    /*  Whoever started us, we lead our own process group so that a signal
        can stop all we run; and we end with the agent.                   */
    if (getpgrp () != getpid ())
        setpgid (0, 0);
    struct sigaction sa = { .sa_handler = s_on_signal };
    sigemptyset (&sa.sa_mask);
    sigaction (SIGTERM, &sa, NULL);
    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGHUP, &sa, NULL);
    signal (SIGPIPE, SIG_IGN);
    prctl (PR_SET_PDEATHSIG, SIGTERM);
    umask (022);
    if (o.timeout_ms)
        o.deadline = s_now_ms () + o.timeout_ms;

    struct stat st;
    if (stat (o.sandbox, &st) < 0 || !S_ISDIR (st.st_mode)) {
        char why[REASON_MAX];
        snprintf (why, sizeof why, "the sandbox %s is not a directory", o.sandbox);
        exit_code = s_write_result (o.result, o.items[0].uri, why) < 0 ? 3 : 1;
        free (o.items);
        return exit_code;
    }
    if (curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        exit_code = s_write_result (o.result, o.items[0].uri, "cannot initialise libcurl") < 0
                        ? 3 : 1;
        free (o.items);
        return exit_code;
    }
    exit_code = 0;
    for (size_t i = 0; i < o.count; i++) {
        s_reason[0] = '\0';
        if (s_fetch (&o, &o.items[i]) < 0) {
            log_error ("cannot fetch %s: %s", o.items[i].uri, s_reason);
            exit_code = s_write_result (o.result, o.items[i].uri, s_reason) < 0 ? 3 : 1;
            break;
        }
    }
    if (exit_code == 0) {
        char summary[256];
        snprintf (summary, sizeof summary, "fetched %zu URI%s into the sandbox (%zu from the cache)",
                  o.count, o.count == 1 ? "" : "s", o.from_cache);
        if (s_write_result (o.result, NULL, summary) < 0)
            exit_code = 3;
    }
    curl_global_cleanup ();
    free (o.items);
    return exit_code;
}
