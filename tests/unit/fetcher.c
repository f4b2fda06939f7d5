/*  tests/unit/fetcher.c - fetching a task's URIs into its sandbox: the
    agent-side module (agent/fetcher.c) on a real zloop, running the
    built cairn-fetcher against files in a temporary directory and an
    HTTP server (libframework's httpd) served by the same loop, as the
    agent's loop would be. Archives are made with tar and zip.

    Every wait is for an event (a callback, a request reaching the
    server, a process reaped), bounded by a generous timeout; the cache
    test also lets a few tens of milliseconds pass between fetches so
    that file times, which order the LRU, differ.                         */
#include "config.h"

#include <arpa/inet.h>
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <czmq.h>

#include "cairn.h"
#include "error.h"
#include "fetcher.h"
#include "httpd.h"
#include "log.h"
#include "tap.h"
#include "util.h"

#define WAIT_MS     60000           /* generous: only a hang reaches it */

static zloop_t *s_loop;
static char s_base[256];

/*  The HTTP server  */

typedef struct {
    const char *path;
    char *body;                     /* NULL: 404 */
    size_t size;
    bool hold;                      /* never answered (until the end) */
    int hits;
} route_t;

static route_t s_routes[] = {
    { "/files/hello.txt", NULL, 0, false, 0 },
    { "/files/app.tar.gz", NULL, 0, false, 0 },
    { "/files/missing.bin", NULL, 0, false, 0 },
    { "/slow/never.bin", NULL, 0, true, 0 },
    { "/c/c1.bin", NULL, 0, false, 0 },
    { "/c/c2.bin", NULL, 0, false, 0 },
    { "/c/c3.bin", NULL, 0, false, 0 },
    { "/c/big.bin", NULL, 0, false, 0 },
    { "/files/shared.bin", NULL, 0, false, 0 },
};
#define ROUTES (sizeof s_routes / sizeof s_routes[0])

static httpd_t *s_httpd;
static zlistx_t *s_held;            /* httpd_request_t * */
static char s_url[64];              /* "http://127.0.0.1:PORT" */

static route_t *
s_route (const char *path)
{
    for (size_t i = 0; i < ROUTES; i++)
        if (strcmp (s_routes[i].path, path) == 0)
            return &s_routes[i];
    return NULL;
}

static void
s_set_body (const char *path, const void *data, size_t size)
{
    route_t *r = s_route (path);
    assert (r);
    free (r->body);
    r->body = xmalloc (size ? size : 1);
    memcpy (r->body, data, size);
    r->size = size;
}

static int
s_on_http (zloop_t *loop, zsock_t *reader, void *arg)
{
    httpd_request_t *req;
    while ((req = httpd_recv (s_httpd))) {
        route_t *r = s_route (httpd_request_path (req));
        if (r)
            r->hits++;
        if (r && r->hold)
            zlistx_add_end (s_held, req);
        else if (r && r->body) {
            char *copy = xmalloc (r->size ? r->size : 1);
            memcpy (copy, r->body, r->size);
            httpd_respond (s_httpd, &req, 200, "application/octet-stream", copy, r->size);
        }
        else
            httpd_respond_error (s_httpd, &req, 404, "no such file");
    }
    return 0;
}

/*  The loop and the callback  */

static int s_done;                  /* callbacks so far */
static char s_id[128];
static bool s_ok;
static char s_msg[4096];

static void
s_on_done (void *arg, const char *id, bool ok, const char *message)
{
    s_done++;
    snprintf (s_id, sizeof s_id, "%s", id);
    s_ok = ok;
    snprintf (s_msg, sizeof s_msg, "%s", message);
}

static int
s_stop_loop (zloop_t *loop, int timer_id, void *arg)
{
    return -1;
}

static void
s_run (int ms)
{
    int id = zloop_timer (s_loop, (size_t) ms, 1, s_stop_loop, NULL);
    zloop_start (s_loop);
    zloop_timer_end (s_loop, id);
}

/*  Runs the loop until `n` callbacks in all have come.                   */
static bool
s_wait_done (int n)
{
    for (int waited = 0; waited < WAIT_MS && s_done < n; waited += 20)
        s_run (20);
    return s_done >= n;
}

static bool
s_wait_hits (route_t *r, int n)
{
    for (int waited = 0; waited < WAIT_MS && r->hits < n; waited += 20)
        s_run (20);
    return r->hits >= n;
}

static bool
s_wait_reaped (fetcher_t *f)
{
    for (int waited = 0; waited < WAIT_MS && fetcher_size (f) > 0; waited += 20)
        s_run (20);
    return fetcher_size (f) == 0;
}

/*  Files  */

static char *
s_path (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
static char *
s_path (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    char *rel = zsys_vprintf (fmt, ap);
    va_end (ap);
    char *path = xasprintf ("%s/%s", s_base, rel);
    zstr_free (&rel);
    return path;
}

static void
s_write (const char *path, const char *text)
{
    int rc = util_write_file (path, text, strlen (text), 0644);
    assert (rc == 0);
}

static char s_read_buf[65536];
static const char *
s_read (const char *path)
{
    char *text = util_read_file (path, sizeof s_read_buf - 1, NULL);
    snprintf (s_read_buf, sizeof s_read_buf, "%s", text ? text : "(unreadable)");
    free (text);
    return s_read_buf;
}

static bool
s_exists (const char *path)
{
    struct stat st;
    return lstat (path, &st) == 0;
}

static int
s_sh (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
static int
s_sh (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    char *cmd = zsys_vprintf (fmt, ap);
    va_end (ap);
    int rc = system (cmd);
    if (rc != 0)
        diag ("command failed (%d): %s", rc, cmd);
    zstr_free (&cmd);
    return rc;
}

/*  Size of the cache's entries (64 hex digits each) and their number.    */
static uint64_t
s_cache_usage (const char *dir, int *entries)
{
    uint64_t total = 0;
    *entries = 0;
    DIR *d = opendir (dir);
    if (!d)
        return 0;
    struct dirent *de;
    while ((de = readdir (d)))
        if (strlen (de->d_name) == 64) {
            char *p = xasprintf ("%s/%s", dir, de->d_name);
            struct stat st;
            if (stat (p, &st) == 0) {
                total += (uint64_t) st.st_size;
                (*entries)++;
            }
            free (p);
        }
    closedir (d);
    return total;
}

/*  The cache file name of a URI, by sha256sum(1).                        */
static char s_key_buf[80];
static const char *
s_key (const char *uri)
{
    char *cmd = xasprintf ("printf '%%s' '%s' | sha256sum", uri);
    FILE *p = popen (cmd, "r");
    s_key_buf[0] = '\0';
    if (p) {
        if (fgets (s_key_buf, sizeof s_key_buf, p))
            s_key_buf[strcspn (s_key_buf, " \n")] = '\0';
        pclose (p);
    }
    free (cmd);
    return s_key_buf;
}

/*  Starts fetch `id` into <base>/sb-<id> (run dir <base>/run-<id>).      */
static int
s_start (fetcher_t *f, const char *id, const proto_uri_t *uris, size_t count)
{
    char *sandbox = s_path ("sb-%s", id);
    char *run = s_path ("run-%s", id);
    util_mkdir_p (sandbox, 0755);
    util_mkdir_p (run, 0700);
    int rc = fetcher_start (f, id, sandbox, run, uris, count);
    free (sandbox);
    free (run);
    return rc;
}

/*  Fetches and waits for the callback; true if it reported success.      */
static bool
s_fetch (fetcher_t *f, const char *id, const proto_uri_t *uris, size_t count)
{
    int before = s_done;
    s_ok = false;
    s_msg[0] = '\0';
    if (s_start (f, id, uris, count) < 0) {
        snprintf (s_msg, sizeof s_msg, "start: %s", cairn_strerror_last ());
        return false;
    }
    if (!s_wait_done (before + 1)) {
        snprintf (s_msg, sizeof s_msg, "no callback");
        return false;
    }
    if (strcmp (s_id, id) != 0)
        diag ("callback for %s, expected %s", s_id, id);
    if (!s_ok)
        diag ("fetch %s: %s", id, s_msg);
    return s_ok && strcmp (s_id, id) == 0;
}

static bool
s_gone (pid_t pid)
{
    return pid > 0 && kill (pid, 0) < 0 && errno == ESRCH;
}

static bool
s_have (const char *tool)
{
    return s_sh ("command -v %s >/dev/null 2>&1", tool) == 0;
}

int
main (void)
{
    log_set_level (LOG_LEVEL_WARN);
    zsys_init ();
    zsys_handler_set (NULL);
    /*  The helper inherits our environment: no proxy between it and the
        test's server.                                                    */
    const char *proxies[] = { "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                              "all_proxy", "ALL_PROXY" };
    for (size_t i = 0; i < sizeof proxies / sizeof proxies[0]; i++)
        unsetenv (proxies[i]);

    const char *tmp = getenv ("TMPDIR");
    snprintf (s_base, sizeof s_base, "%s/cairn-fetcher-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp (s_base)) {
        printf ("Bail out! mkdtemp: %s\n", strerror (errno));
        return 1;
    }
    const char *builddir = getenv ("CAIRN_BUILDDIR");
    char *program = xasprintf ("%s/agent/cairn-fetcher", builddir ? builddir : ".");
    char *cache = s_path ("cache");

    s_loop = zloop_new ();
    s_held = zlistx_new ();
    s_httpd = httpd_new ("127.0.0.1", 0);
    if (!s_httpd) {
        printf ("Bail out! %s\n", cairn_strerror_last ());
        return 1;
    }
    snprintf (s_url, sizeof s_url, "http://127.0.0.1:%d", httpd_port (s_httpd));
    zloop_reader (s_loop, httpd_sock (s_httpd), s_on_http, NULL);

    /*  A program that cannot run is refused up front.                    */
    char *nowhere = s_path ("no-such-fetcher");
    fetcher_t *bad = fetcher_new (s_loop, nowhere, cache, 1 << 20, s_on_done, NULL);
    ok (bad == NULL && strstr (cairn_strerror_last (), nowhere),
        "fetcher_new refuses a missing program: %s", cairn_strerror_last ());
    free (nowhere);

    fetcher_t *f = fetcher_new (s_loop, program, cache, 1 << 20, s_on_done, NULL);
    if (!f) {
        printf ("Bail out! %s\n", cairn_strerror_last ());
        return 1;
    }

    /*  file:// is copied, 0644; with executable, 0755.                   */
    {
        char *src = s_path ("hello.txt");
        s_write (src, "hello, sandbox\n");
        char *uri = xasprintf ("file://%s", src);
        proto_uri_t u = { uri, false, false };
        ok (s_fetch (f, "copy", &u, 1), "a file:// URI is fetched: %s", s_msg);
        char *got = s_path ("sb-copy/hello.txt");
        is (s_read (got), "hello, sandbox\n", "the file is copied into the sandbox");
        struct stat st = { 0 };
        int rc = stat (got, &st);
        ok (rc == 0 && (st.st_mode & 0777) == 0644, "it is not executable (0%o)",
            st.st_mode & 0777);
        free (got);

        u.executable = true;
        ok (s_fetch (f, "exec", &u, 1), "a file:// URI with executable is fetched");
        got = s_path ("sb-exec/hello.txt");
        rc = stat (got, &st);
        ok (rc == 0 && (st.st_mode & 0111) == 0111, "it is executable (0%o)", st.st_mode & 0777);
        free (got);
        got = s_path ("run-exec/fetch.result");
        ok (strncmp (s_read (got), "ok\n", 3) == 0, "the result file says ok");
        free (got);

        /*  A file that is not there.                                     */
        char *missing = xasprintf ("file://%s/nothing-here.bin", s_base);
        proto_uri_t m = { missing, false, false };
        ok (!s_fetch (f, "nofile", &m, 1) && strstr (s_msg, missing)
                && strstr (s_msg, "No such file"),
            "a missing file fails, naming the URI and why: %s", s_msg);
        free (missing);
        free (uri);
        free (src);
    }

    /*  Archives: .tar.gz, .tar.xz and .zip are extracted; the archive
        stays beside what it held.                                        */
    {
        char *dir = s_path ("pkg/app/bin");
        util_mkdir_p (dir, 0755);
        free (dir);
        char *file = s_path ("pkg/app/bin/run.sh");
        s_write (file, "#!/bin/sh\necho run\n");
        chmod (file, 0755);
        free (file);
        s_sh ("tar -C '%s/pkg' -czf '%s/app.tar.gz' app", s_base, s_base);
        s_sh ("tar -C '%s/pkg' -cJf '%s/app.tar.xz' app", s_base, s_base);

        char *uri = xasprintf ("file://%s/app.tar.gz", s_base);
        proto_uri_t u = { uri, true, false };
        ok (s_fetch (f, "tgz", &u, 1), "a .tar.gz is fetched and extracted");
        char *got = s_path ("sb-tgz/app/bin/run.sh");
        is (s_read (got), "#!/bin/sh\necho run\n", "its files are in the sandbox");
        struct stat st;
        ok (stat (got, &st) == 0 && (st.st_mode & 0100), "with their modes");
        free (got);
        got = s_path ("sb-tgz/app.tar.gz");
        ok (s_exists (got), "the archive itself stays");
        free (got);
        free (uri);

        uri = xasprintf ("file://%s/app.tar.xz", s_base);
        proto_uri_t x = { uri, true, false };
        ok (s_fetch (f, "txz", &x, 1), "a .tar.xz is fetched and extracted");
        got = s_path ("sb-txz/app/bin/run.sh");
        is (s_read (got), "#!/bin/sh\necho run\n", "its files are in the sandbox");
        free (got);
        free (uri);

        /*  Without extract, an archive is only copied.                   */
        uri = xasprintf ("file://%s/app.tar.gz", s_base);
        proto_uri_t plain = { uri, false, false };
        ok (s_fetch (f, "noextract", &plain, 1), "an archive without extract is fetched");
        got = s_path ("sb-noextract/app");
        ok (!s_exists (got), "and not extracted");
        free (got);
        free (uri);

        if (s_have ("zip") && s_have ("unzip")) {
            s_sh ("cd '%s/pkg' && zip -q -r '%s/app.zip' app", s_base, s_base);
            uri = xasprintf ("file://%s/app.zip", s_base);
            proto_uri_t z = { uri, true, false };
            ok (s_fetch (f, "zip", &z, 1), "a .zip is fetched and extracted");
            got = s_path ("sb-zip/app/bin/run.sh");
            is (s_read (got), "#!/bin/sh\necho run\n", "its files are in the sandbox");
            free (got);
            free (uri);
        }
        else {
            ok (true, "# SKIP zip or unzip is not installed (contrib/install-deps.sh)");
            ok (true, "# SKIP zip or unzip is not installed (contrib/install-deps.sh)");
        }
    }

    /*  Archives that reach outside the sandbox are refused.              */
    {
        char *sub = s_path ("evil/sub");
        util_mkdir_p (sub, 0755);
        free (sub);
        char *inner = s_path ("evil/escaped.txt");
        s_write (inner, "outside\n");
        free (inner);
        /*  -P keeps the member name "../escaped.txt".                    */
        s_sh ("tar -C '%s/evil/sub' -cPzf '%s/evil.tar.gz' ../escaped.txt", s_base, s_base);
        char *uri = xasprintf ("file://%s/evil.tar.gz", s_base);
        proto_uri_t u = { uri, true, false };
        ok (!s_fetch (f, "dotdot", &u, 1), "a tarball with a ../ member fails");
        ok (strstr (s_msg, uri) && strstr (s_msg, "escape") && strstr (s_msg, "../escaped.txt"),
            "the message names the URI and the member: %s", s_msg);
        char *outside = s_path ("escaped.txt");
        ok (!s_exists (outside), "nothing was written beside the sandbox");
        free (outside);
        free (uri);

        if (s_have ("zip")) {
            s_sh ("cd '%s/evil/sub' && zip -q '%s/evil.zip' ../escaped.txt", s_base, s_base);
            uri = xasprintf ("file://%s/evil.zip", s_base);
            proto_uri_t z = { uri, true, false };
            ok (!s_fetch (f, "zipdotdot", &z, 1) && strstr (s_msg, "escape"),
                "a zip with a ../ member fails: %s", s_msg);
            free (uri);
        }
        else
            ok (true, "# SKIP zip is not installed");

        /*  One archive plants a symlink to a directory outside; the next
            writes through it. The second must replace the link, not
            follow it.                                                    */
        char *outdir = s_path ("outside");
        util_mkdir_p (outdir, 0755);
        char *a = s_path ("sym-a");
        char *b = s_path ("sym-b/link");
        util_mkdir_p (a, 0755);
        util_mkdir_p (b, 0755);
        s_sh ("ln -s '%s' '%s/link' && echo pwned > '%s/pwned'", outdir, a, b);
        s_sh ("tar -C '%s' -cf '%s/a.tar' link && tar -C '%s/sym-b' -cf '%s/b.tar' link/pwned", a,
              s_base, s_base, s_base);
        char *ua = xasprintf ("file://%s/a.tar", s_base);
        char *ub = xasprintf ("file://%s/b.tar", s_base);
        proto_uri_t two[] = { { ua, true, false }, { ub, true, false } };
        s_fetch (f, "symlink", two, 2);
        char *planted = s_path ("outside/pwned");
        ok (!s_exists (planted), "a symlink from an earlier archive is not followed (%s)",
            s_ok ? "replaced" : s_msg);
        free (planted);
        free (ua);
        free (ub);
        free (a);
        free (b);
        free (outdir);
    }

    /*  http: fetched once, then from the cache.                          */
    {
        const char *hello = "hello over http\n";
        s_set_body ("/files/hello.txt", hello, strlen (hello));
        char *uri = xasprintf ("%s/files/hello.txt", s_url);
        proto_uri_t u = { uri, false, true };
        ok (s_fetch (f, "http1", &u, 1), "an http URI is fetched: %s", s_msg);
        char *got = s_path ("sb-http1/hello.txt");
        is (s_read (got), hello, "its body is in the sandbox");
        struct stat st;
        ok (stat (got, &st) == 0 && (st.st_mode & 0111) == 0111, "executable, as asked");
        free (got);
        route_t *r = s_route ("/files/hello.txt");
        cmp_int (r->hits, 1, "the server saw one request");
        char *entry = xasprintf ("%s/%s", cache, s_key (uri));
        is (s_read (entry), hello, "the cache keeps it under the sha256 of the URI");
        free (entry);

        ok (s_fetch (f, "http2", &u, 1), "fetched again, into another sandbox");
        got = s_path ("sb-http2/hello.txt");
        is (s_read (got), hello, "the same body");
        free (got);
        cmp_int (r->hits, 1, "the server saw no second request: the cache served it");
        ok (strstr (s_msg, "1 from the cache"), "the summary says so: %s", s_msg);

        /*  A cached archive is extracted like a downloaded one.          */
        char *tgz = s_path ("app.tar.gz");
        size_t size;
        char *data = util_read_file (tgz, 1 << 20, &size);
        s_set_body ("/files/app.tar.gz", data, size);
        free (data);
        free (tgz);
        char *auri = xasprintf ("%s/files/app.tar.gz", s_url);
        proto_uri_t a = { auri, true, false };
        ok (s_fetch (f, "httptgz1", &a, 1) && s_fetch (f, "httptgz2", &a, 1),
            "an http .tar.gz is fetched twice");
        got = s_path ("sb-httptgz2/app/bin/run.sh");
        is (s_read (got), "#!/bin/sh\necho run\n", "and extracted from the cache");
        free (got);
        cmp_int (s_route ("/files/app.tar.gz")->hits, 1, "with one request");
        free (auri);

        /*  Two fetchers of one URI at once: both succeed, the entry is
            whole.                                                        */
        char big[100000];
        for (size_t i = 0; i < sizeof big; i++)
            big[i] = (char) ('a' + i % 26);
        s_set_body ("/files/shared.bin", big, sizeof big);
        char *suri = xasprintf ("%s/files/shared.bin", s_url);
        proto_uri_t s = { suri, false, false };
        int before = s_done;
        ok (s_start (f, "shared1", &s, 1) == 0 && s_start (f, "shared2", &s, 1) == 0,
            "two fetches of one URI start together");
        ok (s_wait_done (before + 2), "both end");
        size_t n1 = 0, n2 = 0, n3 = 0;
        char *p1 = s_path ("sb-shared1/shared.bin");
        char *p2 = s_path ("sb-shared2/shared.bin");
        char *p3 = xasprintf ("%s/%s", cache, s_key (suri));
        char *d1 = util_read_file (p1, 1 << 20, &n1);
        char *d2 = util_read_file (p2, 1 << 20, &n2);
        char *d3 = util_read_file (p3, 1 << 20, &n3);
        ok (d1 && d2 && d3 && n1 == sizeof big && n2 == sizeof big && n3 == sizeof big
                && memcmp (d1, big, n1) == 0 && memcmp (d2, big, n2) == 0
                && memcmp (d3, big, n3) == 0,
            "both sandboxes and the cache entry hold the whole body");
        free (d1);
        free (d2);
        free (d3);
        free (p1);
        free (p2);
        free (p3);
        free (suri);
        free (uri);
    }

    /*  Failures name the URI and the reason.                             */
    {
        char *uri = xasprintf ("%s/files/missing.bin", s_url);
        proto_uri_t u = { uri, false, false };
        ok (!s_fetch (f, "404", &u, 1), "a 404 fails the fetch");
        ok (strstr (s_msg, uri) && strstr (s_msg, "404"), "naming the URI and the status: %s",
            s_msg);
        char *got = s_path ("sb-404/missing.bin");
        ok (!s_exists (got), "and leaves no file behind");
        free (got);
        got = s_path ("run-404/fetch.result");
        ok (strncmp (s_read (got), "failed\n", 7) == 0, "the result file says failed");
        free (got);

        /*  A port nobody listens on.                                     */
        int sock = socket (AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in addr = { .sin_family = AF_INET };
        addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        bind (sock, (struct sockaddr *) &addr, sizeof addr);
        getsockname (sock, (struct sockaddr *) &addr, &len);
        close (sock);
        char *down = xasprintf ("http://127.0.0.1:%d/files/a.bin", ntohs (addr.sin_port));
        proto_uri_t d = { down, false, false };
        ok (!s_fetch (f, "down", &d, 1) && strstr (s_msg, down)
                && (strstr (s_msg, "connect") || strstr (s_msg, "Connect")),
            "an unreachable server fails, naming the URI and why: %s", s_msg);
        free (down);

        /*  The first URI that fails is the one named; later ones are not
            tried.                                                        */
        char *good = xasprintf ("%s/files/hello.txt", s_url);
        proto_uri_t list[] = { { good, false, false }, { uri, false, false },
                               { good, false, false } };
        ok (!s_fetch (f, "second", list, 3) && strstr (s_msg, uri) && !strstr (s_msg, good),
            "of several URIs, the failing one is named: %s", s_msg);
        free (good);

        proto_uri_t ftp = { "ftp://127.0.0.1/x.bin", false, false };
        ok (!s_fetch (f, "ftp", &ftp, 1) && strstr (s_msg, "ftp://127.0.0.1/x.bin")
                && strstr (s_msg, "unsupported"),
            "an unsupported scheme fails: %s", s_msg);
        char *root = xasprintf ("%s/", s_url);
        proto_uri_t noname = { root, false, false };
        ok (!s_fetch (f, "noname", &noname, 1) && strstr (s_msg, "file name"),
            "a URI without a file name fails: %s", s_msg);
        free (root);
        free (uri);
    }

    /*  The cache stays under its size limit, evicting the least recently
        used entries; a file larger than the limit is not cached.         */
    {
        char *cache2 = s_path ("cache2");
        fetcher_t *small = fetcher_new (s_loop, program, cache2, 10000, s_on_done, NULL);
        char body[20000];
        memset (body, 'x', sizeof body);
        s_set_body ("/c/c1.bin", body, 4000);
        s_set_body ("/c/c2.bin", body, 4000);
        s_set_body ("/c/c3.bin", body, 4000);
        s_set_body ("/c/big.bin", body, 20000);
        char *u1 = xasprintf ("%s/c/c1.bin", s_url);
        char *u2 = xasprintf ("%s/c/c2.bin", s_url);
        char *u3 = xasprintf ("%s/c/c3.bin", s_url);
        char *ub = xasprintf ("%s/c/big.bin", s_url);
        proto_uri_t c1 = { u1, false, false }, c2 = { u2, false, false };
        proto_uri_t c3 = { u3, false, false }, cb = { ub, false, false };
        int entries;
        bool under = true;
        ok (s_fetch (small, "lru1", &c1, 1), "c1 fetched");
        under &= s_cache_usage (cache2, &entries) <= 10000;
        s_run (50);
        ok (s_fetch (small, "lru2", &c2, 1), "c2 fetched");
        under &= s_cache_usage (cache2, &entries) <= 10000;
        cmp_int (entries, 2, "both are cached");
        s_run (50);
        ok (s_fetch (small, "lru3", &c1, 1), "c1 fetched again");
        cmp_int (s_route ("/c/c1.bin")->hits, 1, "from the cache, which makes it the most recent");
        s_run (50);
        ok (s_fetch (small, "lru4", &c3, 1), "c3 fetched");
        uint64_t used = s_cache_usage (cache2, &entries);
        under &= used <= 10000;
        cmp_int (entries, 2, "two entries fit under 10000 bytes");
        char *e1 = xasprintf ("%s/%s", cache2, s_key (u1));
        char *e2 = xasprintf ("%s/%s", cache2, s_key (u2));
        char *e3 = xasprintf ("%s/%s", cache2, s_key (u3));
        ok (s_exists (e1) && !s_exists (e2) && s_exists (e3),
            "the least recently used one (c2) was evicted");
        s_run (50);
        ok (s_fetch (small, "lru5", &cb, 1), "a file larger than the cache is fetched");
        char *got = s_path ("sb-lru5/big.bin");
        struct stat st;
        ok (stat (got, &st) == 0 && st.st_size == 20000, "whole");
        free (got);
        used = s_cache_usage (cache2, &entries);
        under &= used <= 10000;
        ok (entries == 2 && s_exists (e1) && s_exists (e3), "but not cached");
        ok (s_fetch (small, "lru6", &cb, 1), "fetched again");
        cmp_int (s_route ("/c/big.bin")->hits, 2, "from the server");
        ok (s_fetch (small, "lru7", &c2, 1), "c2 fetched again");
        cmp_int (s_route ("/c/c2.bin")->hits, 2, "from the server: it had been evicted");
        used = s_cache_usage (cache2, &entries);
        under &= used <= 10000;
        ok (under, "the cache never held more than 10000 bytes (now %" PRIu64 ")", used);
        DIR *d = opendir (cache2);
        bool stray = false;
        struct dirent *de;
        while (d && (de = readdir (d)))
            if (strncmp (de->d_name, ".tmp-", 5) == 0)
                stray = true;
        if (d)
            closedir (d);
        ok (!stray, "no temporary file is left in the cache");
        free (e1);
        free (e2);
        free (e3);
        free (u1);
        free (u2);
        free (u3);
        free (ub);
        fetcher_destroy (&small);
        ok (small == NULL, "fetcher_destroy nulls the pointer");
        free (cache2);
    }

    /*  Cancel kills the helper; no callback follows.                     */
    {
        char *uri = xasprintf ("%s/slow/never.bin", s_url);
        proto_uri_t u = { uri, false, false };
        route_t *r = s_route ("/slow/never.bin");
        int before = s_done;
        ok (s_start (f, "cancel", &u, 1) == 0, "a fetch that will hang starts");
        ok (fetcher_active (f, "cancel"), "it is active");
        ok (s_start (f, "cancel", &u, 1) < 0 && errno == EEXIST,
            "a second fetch with the same id is refused");
        ok (s_wait_hits (r, 1), "its request reached the server");
        pid_t pid = fetcher_pid (f, "cancel");
        ok (pid > 0, "it has a helper process");
        cmp_int (fetcher_cancel (f, "cancel"), 0, "fetcher_cancel");
        ok (!fetcher_active (f, "cancel") && fetcher_pid (f, "cancel") == 0,
            "the fetch is no longer active");
        ok (s_wait_reaped (f), "the helper is reaped");
        ok (s_gone (pid), "the helper is gone");
        ok (kill (-pid, 0) < 0 && errno == ESRCH, "and so is its process group");
        s_run (200);
        cmp_int (s_done, before, "no callback for a cancelled fetch");
        ok (fetcher_cancel (f, "cancel") < 0 && errno == ESRCH, "cancelling it again: ESRCH");

        /*  The id can be used again at once.                             */
        char *src = s_path ("hello.txt");
        char *file = xasprintf ("file://%s", src);
        proto_uri_t again = { file, false, false };
        ok (s_fetch (f, "cancel", &again, 1), "a new fetch with that id runs");
        free (file);
        free (src);

        /*  A helper killed from outside (the OOM killer, an operator)
            fails its fetch, naming the URIs.                             */
        int hits = r->hits;
        before = s_done;
        ok (s_start (f, "killed", &u, 1) == 0 && s_wait_hits (r, hits + 1),
            "a hanging fetch starts");
        kill (fetcher_pid (f, "killed"), SIGKILL);
        ok (s_wait_done (before + 1) && !s_ok && strstr (s_msg, uri)
                && strstr (s_msg, "signal 9"),
            "a helper killed from outside fails the fetch: %s", s_msg);

        /*  A fifo is refused, not waited on.                             */
        char *fifo = s_path ("a.fifo");
        mkfifo (fifo, 0644);
        char *fifo_uri = xasprintf ("file://%s", fifo);
        proto_uri_t ff = { fifo_uri, false, false };
        ok (!s_fetch (f, "fifo", &ff, 1) && strstr (s_msg, "not a regular file"),
            "a file:// URI naming a fifo fails: %s", s_msg);
        free (fifo_uri);
        free (fifo);

        /*  The time limit fails a fetch that takes too long.             */
        fetcher_set_limits (f, 1000, 0);
        ok (!s_fetch (f, "timeout", &u, 1) && strstr (s_msg, uri)
                && strstr (s_msg, "timed out"),
            "a fetch over its time limit fails: %s", s_msg);
        fetcher_set_limits (f, FETCHER_DEFAULT_TIMEOUT_MS, FETCHER_DEFAULT_MAX_BYTES);

        /*  The size cap.                                                 */
        fetcher_set_limits (f, FETCHER_DEFAULT_TIMEOUT_MS, 1000);
        char *big = xasprintf ("%s/c/big.bin", s_url);
        proto_uri_t b = { big, false, false };
        ok (!s_fetch (f, "toobig", &b, 1) && strstr (s_msg, big) && strstr (s_msg, "limit"),
            "a file over the size cap fails: %s", s_msg);
        fetcher_set_limits (f, FETCHER_DEFAULT_TIMEOUT_MS, FETCHER_DEFAULT_MAX_BYTES);
        free (big);

        /*  Destroy kills what still runs.                                */
        hits = r->hits;
        ok (s_start (f, "left", &u, 1) == 0, "another hanging fetch starts");
        ok (s_wait_hits (r, hits + 1), "its request reached the server");
        pid = fetcher_pid (f, "left");
        before = s_done;
        fetcher_destroy (&f);
        ok (f == NULL && s_gone (pid), "fetcher_destroy kills and reaps it");
        cmp_int (s_done, before, "without a callback");
        fetcher_destroy (&f);
        ok (true, "fetcher_destroy is idempotent");
        free (uri);
    }

    for (httpd_request_t *req = zlistx_first (s_held); req; req = zlistx_next (s_held))
        httpd_respond_error (s_httpd, &req, 503, "test over");
    zlistx_destroy (&s_held);
    zloop_reader_end (s_loop, httpd_sock (s_httpd));
    httpd_destroy (&s_httpd);
    zloop_destroy (&s_loop);
    for (size_t i = 0; i < ROUTES; i++)
        free (s_routes[i].body);
    if (tap_failed == 0)
        util_remove_tree (s_base);
    else
        diag ("kept %s", s_base);
    free (cache);
    free (program);
    return done_testing ();
}
