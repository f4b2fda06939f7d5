/*  httpc.c - a small blocking HTTP client on libcurl.

    One easy handle per request: the callers (the CLI, health checks, the
    bundled frameworks' API clients) make few requests, and a fresh handle
    keeps this safe from any thread with no shared state but libcurl's
    global initialisation, done once under pthread_once. Signals are off
    (CURLOPT_NOSIGNAL) because libcurl's timeouts would otherwise use
    SIGALRM, which is unsafe in threaded programs. Responses are
    accumulated in memory up to HTTPC_MAX_BODY.

    Credentials (httpc_set_token, httpc_set_ca_file) are process-wide,
    set once at start before any request. The bearer token goes only with
    requests that change something (not GET or HEAD): reads need none, so
    a token never travels to where it is not needed (a task's files, a
    health check).                                                       */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cairn.h"
#include "error.h"
#include "httpc.h"

typedef struct {
    char *data;
    size_t size, cap;
    bool too_large;
    size_t max;                 /* bytes allowed, at most HTTPC_MAX_BODY */
} response_t;

static pthread_once_t s_once = PTHREAD_ONCE_INIT;
static CURLcode s_init_rc = CURLE_FAILED_INIT;
static char *s_token;           /* bearer token, or NULL */
static char *s_ca_file;         /* CA bundle for https, or NULL: the system's */

void
httpc_set_token (const char *token)
{
    if (s_token)
        explicit_bzero (s_token, strlen (s_token));
    free (s_token);
    s_token = token && *token ? xstrdup (token) : NULL;
}

int
httpc_set_token_file (const char *path)
{
    assert (path);
    FILE *f = fopen (path, "re");
    if (!f)
        return error_set (errno, "token file %s: %s", path, strerror (errno));
    char line[1024];
    char *token = NULL;
    while (!token && fgets (line, sizeof line, f)) {
        char *fields[3] = { NULL, NULL, NULL };
        int n = 0;
        char *save = NULL;
        for (char *w = strtok_r (line, " \t\r\n", &save); w && n < 3;
             w = strtok_r (NULL, " \t\r\n", &save))
            fields[n++] = w;
        if (n == 0 || fields[0][0] == '#')
            continue;
        if (n <= 2)
            token = xstrdup (fields[n - 1]);    /* "PRINCIPAL TOKEN" or "TOKEN" */
        else
            break;
    }
    explicit_bzero (line, sizeof line);
    fclose (f);
    if (!token)
        return error_set (EINVAL, "token file %s: no line \"TOKEN\" or \"PRINCIPAL TOKEN\"",
                          path);
    httpc_set_token (token);
    explicit_bzero (token, strlen (token));
    free (token);
    return 0;
}

int
httpc_set_ca_file (const char *path)
{
    free (s_ca_file);
    s_ca_file = NULL;
    if (!path || !*path)
        return 0;
    if (access (path, R_OK) < 0)
        return error_set (errno, "CA file %s: %s", path, strerror (errno));
    s_ca_file = xstrdup (path);
    return 0;
}

char *
httpc_url (const char *address, const char *path)
{
    assert (address && path);
    if (strstr (address, "://"))
        return xasprintf ("%s%s", address, path);
    return xasprintf ("http://%s%s", address, path);
}

/*  What every transfer shares: the CA bundle.                             */
static void
s_tls_options (CURL *curl)
{
    if (s_ca_file)
        curl_easy_setopt (curl, CURLOPT_CAINFO, s_ca_file);
}

static void
s_global_init (void)
{
    s_init_rc = curl_global_init (CURL_GLOBAL_DEFAULT);
}

/*  Appends n bytes to r, growing it (from first_cap) with room for a NUL. */
static void
s_append (response_t *r, const char *data, size_t n, size_t first_cap)
{
    if (r->size + n + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : first_cap;
        while (cap < r->size + n + 1)
            cap *= 2;
        r->data = xrealloc (r->data, cap);
        r->cap = cap;
    }
    memcpy (r->data + r->size, data, n);
    r->size += n;
}

static size_t
s_write (char *data, size_t size, size_t nmemb, void *arg)
{
    response_t *response = arg;
    size_t n = size * nmemb;
    if (n > response->max - response->size) {
        response->too_large = true;
        return 0;                   /* anything but n aborts the transfer */
    }
    s_append (response, data, n, 16384);
    return n;
}

static int
s_errno (CURLcode rc)
{
    switch (rc) {
        case CURLE_COULDNT_CONNECT:
            return ECONNREFUSED;
        case CURLE_OPERATION_TIMEDOUT:
            return ETIMEDOUT;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
            return EHOSTUNREACH;
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
            return EINVAL;
        case CURLE_FILESIZE_EXCEEDED:
            return EFBIG;
        default:
            return EIO;
    }
}

#define MAX_HEADERS (64u << 10)  /* bytes of response headers kept */

/*  Keeps the header lines of the last response (a "100 Continue" or any
    interim response before it is dropped when the next status line comes). */
static size_t
s_header (char *data, size_t size, size_t nmemb, void *arg)
{
    response_t *headers = arg;
    size_t n = size * nmemb;
    if (n >= 5 && memcmp (data, "HTTP/", 5) == 0) {
        headers->size = 0;
        headers->too_large = false;
    }
    if (headers->too_large || n > MAX_HEADERS - headers->size) {
        headers->too_large = true;      /* kept what fits; the transfer goes on */
        return n;
    }
    s_append (headers, data, n, 1024);
    headers->data[headers->size] = '\0';
    return n;
}

/*  Aborts a transfer once its cancel flag is set.                        */
static int
s_cancel_check (void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                curl_off_t ulnow)
{
    (void) dltotal, (void) dlnow, (void) ultotal, (void) ulnow;
    const atomic_bool *cancel = arg;
    return atomic_load (cancel) ? 1 : 0;
}

/*  httpc_request, and with headers non-NULL also the response's headers
    and content type (*content_type, the caller's, may be NULL).         */
static int
s_request (const char *method, const char *url, const char *content_type,
           const void *body_in, size_t body_in_size, long timeout_ms,
           size_t max_body, const atomic_bool *cancel, response_t *headers_out,
           char **type_out, long *status, char **body, size_t *size)
{
    CURL *curl = NULL;
    struct curl_slist *headers = NULL;
    response_t response = { NULL, 0, 0, false, max_body };
    char errbuf[CURL_ERROR_SIZE] = "";
    char *line = NULL;
    CURLcode rc;

    assert (method && *method);
    assert (url);
    assert (body_in || body_in_size == 0);
    assert (timeout_ms >= 0);
    assert (status && body && size);

    pthread_once (&s_once, s_global_init);
    if (s_init_rc != CURLE_OK)
        return error_set (EIO, "%s: cannot initialise libcurl: %s", url,
                          curl_easy_strerror (s_init_rc));
    if (!(curl = curl_easy_init ()))
        return error_set (EIO, "%s: cannot initialise libcurl", url);

    /*  libcurl's "Expect: 100-continue" before a large body stays: it
        lets a server refuse the body (413) before it is sent, and our
        servers answer it at once.                                      */
    if (content_type) {
        line = xasprintf ("Content-Type: %s", content_type);
        if (!(headers = curl_slist_append (headers, line)))
            oom_abort ();
    }
    char *agent = xasprintf ("cairn/%s", cairn_version ());
    bool reads = strcmp (method, "GET") == 0 || strcmp (method, "HEAD") == 0;
    if (s_token && !reads) {
        char *auth = xasprintf ("Authorization: Bearer %s", s_token);
        struct curl_slist *more = curl_slist_append (headers, auth);
        explicit_bzero (auth, strlen (auth));
        free (auth);
        if (!more)
            oom_abort ();
        headers = more;
    }

    curl_easy_setopt (curl, CURLOPT_URL, url);
    s_tls_options (curl);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt (curl, CURLOPT_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
    /*  Cluster traffic goes straight to the daemons, never via a proxy
        picked up from the environment.                                  */
    curl_easy_setopt (curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt (curl, CURLOPT_USERAGENT, agent);
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_write);
    curl_easy_setopt (curl, CURLOPT_WRITEDATA, &response);
    /*  Refuses a declared oversize body before it arrives.             */
    curl_easy_setopt (curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) max_body);
    if (headers_out) {
        curl_easy_setopt (curl, CURLOPT_HEADERFUNCTION, s_header);
        curl_easy_setopt (curl, CURLOPT_HEADERDATA, headers_out);
    }
    if (cancel) {
        curl_easy_setopt (curl, CURLOPT_XFERINFOFUNCTION, s_cancel_check);
        curl_easy_setopt (curl, CURLOPT_XFERINFODATA, (void *) cancel);
        curl_easy_setopt (curl, CURLOPT_NOPROGRESS, 0L);
    }

    if (strcmp (method, "GET") == 0 && !body_in)
        curl_easy_setopt (curl, CURLOPT_HTTPGET, 1L);
    else if (strcmp (method, "HEAD") == 0)
        curl_easy_setopt (curl, CURLOPT_NOBODY, 1L);
    else {
        if (strcmp (method, "POST") != 0)
            curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, method);
        /*  Always give a body (possibly empty) to the methods that carry
            one: without POSTFIELDS, libcurl would read it from stdin.  */
        if (body_in || strcmp (method, "DELETE") != 0) {
            curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) body_in_size);
            curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body_in ? body_in : "");
        }
    }

    rc = curl_easy_perform (curl);
    if (response.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
        error_set (EFBIG, "%s: response larger than %zu bytes", url, max_body);
        goto error;
    }
    if (rc == CURLE_ABORTED_BY_CALLBACK && cancel && atomic_load (cancel)) {
        error_set (ECANCELED, "%s: cancelled", url);
        goto error;
    }
    if (rc != CURLE_OK) {
        error_set (s_errno (rc), "%s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror (rc));
        goto error;
    }
    long code = 0;
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &code);
    if (type_out) {
        char *type = NULL;
        curl_easy_getinfo (curl, CURLINFO_CONTENT_TYPE, &type);
        *type_out = type ? xstrdup (type) : NULL;
    }
    if (!response.data)
        response.data = xzalloc (1);
    response.data[response.size] = '\0';

    *status = code;
    *body = response.data;
    *size = response.size;
    curl_easy_cleanup (curl);
    curl_slist_free_all (headers);
    free (line);
    free (agent);
    return 0;

error:;
    int err = errno;
    curl_easy_cleanup (curl);
    curl_slist_free_all (headers);
    free (line);
    free (agent);
    free (response.data);
    errno = err;
    return -1;
}

int
httpc_request (const char *method, const char *url, const char *content_type,
               const void *body_in, size_t body_in_size, long timeout_ms,
               long *status, char **body, size_t *size)
{
    return s_request (method, url, content_type, body_in, body_in_size, timeout_ms,
                      HTTPC_MAX_BODY, NULL, NULL, NULL, status, body, size);
}

int
httpc_get_response (const char *url, long timeout_ms, size_t max_body,
                    const atomic_bool *cancel, httpc_response_t *response)
{
    assert (response);
    assert (max_body > 0 && max_body <= HTTPC_MAX_BODY);
    memset (response, 0, sizeof *response);
    response_t headers = { NULL, 0, 0, false, MAX_HEADERS };
    char *type = NULL;
    long status = 0;
    char *body = NULL;
    size_t size = 0;
    if (s_request ("GET", url, NULL, NULL, 0, timeout_ms, max_body, cancel, &headers, &type,
                   &status, &body, &size) < 0) {
        int err = errno;
        free (headers.data);
        errno = err;
        return -1;
    }
    response->status = status;
    response->content_type = type;
    response->headers = headers.data ? headers.data : xzalloc (1);
    response->body = body;
    response->size = size;
    return 0;
}

void
httpc_response_clear (httpc_response_t *response)
{
    if (!response)
        return;
    free (response->content_type);
    free (response->headers);
    free (response->body);
    memset (response, 0, sizeof *response);
}

char *
httpc_header (const char *headers, const char *name)
{
    assert (headers && name);
    size_t n = strlen (name);
    for (const char *line = headers; *line;) {
        const char *end = strchr (line, '\n');
        size_t len = end ? (size_t) (end - line) : strlen (line);
        if (len > n && strncasecmp (line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            const char *stop = line + len;
            while (v < stop && (*v == ' ' || *v == '\t'))
                v++;
            while (stop > v && (stop[-1] == '\r' || stop[-1] == ' ' || stop[-1] == '\t'))
                stop--;
            return xstrndup (v, (size_t) (stop - v));
        }
        if (!end)
            break;
        line = end + 1;
    }
    return NULL;
}

int
httpc_get (const char *url, long timeout_ms, long *status, char **body, size_t *size)
{
    return httpc_request ("GET", url, NULL, NULL, 0, timeout_ms, status, body, size);
}

int
httpc_json (const char *method, const char *url, json_t *body, long timeout_ms, long *status,
            json_t **reply)
{
    assert (method && url && status && reply);
    char *text = body ? json_dumps (body, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    if (body && !text)
        oom_abort ();
    char *out = NULL;
    size_t size = 0;
    int rc = httpc_request (method, url, text ? "application/json" : NULL, text,
                            text ? strlen (text) : 0, timeout_ms, status, &out, &size);
    free (text);
    if (rc < 0)
        return -1;
    *reply = size > 0 ? json_loadb (out, size, 0, NULL) : NULL;
    free (out);
    return 0;
}

typedef struct {
    httpc_stream_fn *fn;
    void *arg;
    bool stopped;               /* fn asked to stop */
    long status;
    CURL *curl;
} stream_t;

static size_t
s_stream_write (char *data, size_t size, size_t nmemb, void *arg)
{
    stream_t *st = arg;
    size_t n = size * nmemb;
    if (st->status == 0)
        curl_easy_getinfo (st->curl, CURLINFO_RESPONSE_CODE, &st->status);
    if (st->fn (data, n, st->status, st->arg) != 0) {
        st->stopped = true;
        return 0;               /* anything but n ends the transfer */
    }
    return n;
}

/*  libcurl calls this about once a second while the transfer waits, and
    fn gets a tick (no data) so it can end a stream that has run long
    enough even when nothing arrives.                                    */
static int
s_stream_tick (void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
               curl_off_t ulnow)
{
    (void) dltotal, (void) dlnow, (void) ultotal, (void) ulnow;
    stream_t *st = arg;
    if (st->fn (NULL, 0, st->status, st->arg) != 0) {
        st->stopped = true;
        return 1;               /* non-zero aborts the transfer */
    }
    return 0;
}

int
httpc_stream (const char *url, long connect_timeout_ms, long idle_timeout_s,
              httpc_stream_fn *fn, void *arg, long *status)
{
    assert (url && fn && status);
    pthread_once (&s_once, s_global_init);
    if (s_init_rc != CURLE_OK)
        return error_set (EIO, "%s: cannot initialise libcurl: %s", url,
                          curl_easy_strerror (s_init_rc));
    CURL *curl = curl_easy_init ();
    if (!curl)
        return error_set (EIO, "%s: cannot initialise libcurl", url);
    char errbuf[CURL_ERROR_SIZE] = "";
    char *agent = xasprintf ("cairn/%s", cairn_version ());
    stream_t st = { .fn = fn, .arg = arg, .curl = curl };
    curl_easy_setopt (curl, CURLOPT_URL, url);
    s_tls_options (curl);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt (curl, CURLOPT_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt (curl, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout_ms);
    /*  No bound on the whole transfer: a dead server is noticed when less
        than one byte arrives in idle_timeout_s (heartbeats keep a live
        stream above that).                                             */
    if (idle_timeout_s > 0) {
        curl_easy_setopt (curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt (curl, CURLOPT_LOW_SPEED_TIME, idle_timeout_s);
    }
    curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt (curl, CURLOPT_USERAGENT, agent);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_stream_write);
    curl_easy_setopt (curl, CURLOPT_WRITEDATA, &st);
    curl_easy_setopt (curl, CURLOPT_XFERINFOFUNCTION, s_stream_tick);
    curl_easy_setopt (curl, CURLOPT_XFERINFODATA, &st);
    curl_easy_setopt (curl, CURLOPT_NOPROGRESS, 0L);
    CURLcode rc = curl_easy_perform (curl);
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup (curl);
    free (agent);
    if (st.stopped || rc == CURLE_OK)
        return 0;
    return error_set (s_errno (rc), "%s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror (rc));
}
