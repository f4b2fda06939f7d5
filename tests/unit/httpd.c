/*  tests/unit/httpd.c - the HTTP server glue (httpd) and client (httpc),
    end to end on 127.0.0.1.

    As in a daemon, the owner of the server runs a loop in its own thread
    (here a zpoller on httpd_sock and a control pipe) while clients make
    requests from other threads. A second server is driven by hand from
    the main thread to hold requests: for the 504 timeout, for a request
    served while another waits, and for destroy with a request in flight.
    No sleeps: every wait is for an event, bounded by a generous timeout. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <czmq.h>

#include "cairn.h"
#include "error.h"
#include "httpc.h"
#include "httpd.h"
#include "tap.h"

#define TIMEOUT_MS  60000           /* generous: only a hang reaches it */
#define BIG_SIZE    (8u << 20)

/*  The owner's loop  */

typedef struct {
    httpd_t *httpd;
    zsock_t *control;               /* "STOP" ends the loop */
    int posts;                      /* requests that reached /post */
} loop_t;

static void
s_fill (char *data, size_t size)
{
    uint32_t x = 2463534242u;       /* xorshift: no short period to hide a shifted copy */
    for (size_t i = 0; i < size; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        data[i] = (char) x;
    }
}

static void
s_serve (loop_t *loop, httpd_request_t **req_p)
{
    httpd_request_t *req = *req_p;
    const char *path = httpd_request_path (req);

    if (streq (path, "/echo")) {
        const char *a = httpd_request_query (req, "a");
        const char *b = httpd_request_query (req, "b");
        const char *flag = httpd_request_query (req, "flag");
        const char *none = httpd_request_query (req, "none");
        const char *accept = httpd_request_header (req, "accept");
        const char *agent = httpd_request_header (req, "User-Agent");
        char *body = xasprintf ("%s %s a=%s b=%s flag=%s none=%s accept=%s agent=%.6s",
                                httpd_request_method (req), path, a ? a : "(null)",
                                b ? b : "(null)", flag ? flag : "(null)",
                                none ? none : "(null)", accept ? accept : "(null)",
                                agent ? agent : "(null)");
        httpd_respond (loop->httpd, req_p, 200, "text/plain", body, strlen (body));
    }
    else if (streq (path, "/headers")) {
        char *body = xstrdup ("with headers");
        httpd_respond_with_headers (loop->httpd, req_p, 200, "text/plain",
                                    "X-One: 1\r\nX-Two:  two words\nnot a header\n",
                                    body, strlen (body));
    }
    else if (streq (path, "/peer")) {
        char *body = xstrdup (httpd_request_peer (req));
        httpd_respond (loop->httpd, req_p, 200, "text/plain", body, strlen (body));
    }
    else if (streq (path, "/post")) {
        size_t size;
        const void *data = httpd_request_body (req, &size);
        char *copy = NULL;
        if (size) {
            copy = xmalloc (size);
            memcpy (copy, data, size);
        }
        loop->posts++;
        httpd_respond (loop->httpd, req_p, 201, "application/octet-stream", copy, size);
    }
    else if (streq (path, "/big")) {
        char *big = xmalloc (BIG_SIZE);
        s_fill (big, BIG_SIZE);
        httpd_respond (loop->httpd, req_p, 200, "application/octet-stream", big, BIG_SIZE);
    }
    else
        httpd_respond_error (loop->httpd, req_p, 404, "no such path: %s", path);
}

static void *
s_loop_run (void *arg)
{
    loop_t *loop = arg;
    zpoller_t *poller = zpoller_new (httpd_sock (loop->httpd), loop->control, NULL);
    while (true) {
        void *which = zpoller_wait (poller, -1);
        if (which == loop->control) {
            char *command = zstr_recv (loop->control);
            bool stop = !command || streq (command, "STOP");
            free (command);
            if (stop)
                break;
        }
        else if (which == httpd_sock (loop->httpd)) {
            httpd_request_t *req;
            while ((req = httpd_recv (loop->httpd)))
                s_serve (loop, &req);
        }
        else if (zpoller_terminated (poller))
            break;
    }
    zpoller_destroy (&poller);
    return NULL;
}

/*  Clients  */

typedef struct {
    pthread_t thread;
    char *url;
    int rc;
    long status;
    char *body;
    size_t size;
} client_t;

static void *
s_client_run (void *arg)
{
    client_t *client = arg;
    client->rc = httpc_get (client->url, TIMEOUT_MS, &client->status, &client->body,
                            &client->size);
    return NULL;
}

static void
s_client_start (client_t *client, int port, const char *path)
{
    memset (client, 0, sizeof *client);
    client->url = xasprintf ("http://127.0.0.1:%d%s", port, path);
    client->rc = -2;
    if (pthread_create (&client->thread, NULL, s_client_run, client) != 0)
        abort ();
}

static void
s_client_join (client_t *client)
{
    pthread_join (client->thread, NULL);
}

static void
s_client_destroy (client_t *client)
{
    free (client->url);
    free (client->body);
}

/*  A whole HTTP exchange on a raw socket, for what httpc does not show
    (response headers); the request must ask the server to close.        */
static char *
s_raw_request (int port, const char *request)
{
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
    struct timeval tv = { TIMEOUT_MS / 1000, 0 };
    char *response = NULL;
    size_t size = 0;
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    inet_pton (AF_INET, "127.0.0.1", &sin.sin_addr);
    if (fd < 0
        || setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0
        || connect (fd, (struct sockaddr *) &sin, sizeof sin) < 0
        || write (fd, request, strlen (request)) != (ssize_t) strlen (request))
        goto done;
    while (true) {
        response = xrealloc (response, size + 65536 + 1);
        ssize_t n = read (fd, response + size, 65536);
        if (n <= 0)
            break;
        size += (size_t) n;
    }
    response[size] = '\0';
done:
    if (fd >= 0)
        close (fd);
    return response;
}

/*  A port nobody listens on: bound by us a moment ago, then released.  */
static int
s_closed_port (void)
{
    struct sockaddr_in sin = { .sin_family = AF_INET };
    socklen_t len = sizeof sin;
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    inet_pton (AF_INET, "127.0.0.1", &sin.sin_addr);
    if (fd < 0 || bind (fd, (struct sockaddr *) &sin, sizeof sin) < 0
        || getsockname (fd, (struct sockaddr *) &sin, &len) < 0)
        abort ();
    close (fd);
    return ntohs (sin.sin_port);
}

/*  Waits for the next request to reach the owner's side.               */
static httpd_request_t *
s_wait_request (httpd_t *httpd)
{
    zpoller_t *poller = zpoller_new (httpd_sock (httpd), NULL);
    httpd_request_t *req = NULL;
    int64_t deadline = zclock_mono () + TIMEOUT_MS;
    while (!(req = httpd_recv (httpd)) && zclock_mono () < deadline)
        zpoller_wait (poller, 1000);
    zpoller_destroy (&poller);
    return req;
}

/*  The server, served by a loop in its own thread  */

static void
test_served (void)
{
    httpd_t *httpd = httpd_new ("127.0.0.1", 0);
    ok (httpd != NULL, "httpd_new on 127.0.0.1 port 0");
    if (!httpd) {
        diag ("%s", cairn_strerror_last ());
        return;
    }
    int port = httpd_port (httpd);
    ok (port > 0 && port < 65536, "it picked a port (%d)", port);

    zsock_t *control_back;
    zsock_t *control = zsys_create_pipe (&control_back);
    loop_t loop = { httpd, control_back, 0 };
    pthread_t thread;
    if (pthread_create (&thread, NULL, s_loop_run, &loop) != 0)
        abort ();

    long status = 0;
    char *body = NULL, *url;
    size_t size = 0;
    int rc;

    /*  GET: path, decoded query, headers there and back  */
    url = xasprintf ("http://127.0.0.1:%d/echo?a=1&b=x%%20y+z%%26&flag", port);
    rc = httpc_get (url, TIMEOUT_MS, &status, &body, &size);
    ok (rc == 0, "GET with a query string");
    cmp_int (status, 200, "status from the loop");
    is (body, "GET /echo a=1 b=x y z& flag= none=(null) accept=*/* agent=cairn/",
        "the loop saw method, path, decoded query and headers");
    cmp_int (size, body ? strlen (body) : 0, "size matches the body");
    free (url);
    free (body);
    body = NULL;

    char *request = xasprintf ("GET /echo HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                               "Connection: close\r\n\r\n", port);
    char *response = s_raw_request (port, request);
    ok (response && strncmp (response, "HTTP/1.1 200 ", 13) == 0,
        "raw GET: status line");
    ok (response && strcasestr (response, "\r\nContent-Type: text/plain\r\n"),
        "raw GET: the loop's content type reaches the client");
    ok (response && strstr (response, "\r\n\r\nGET /echo a=(null)"),
        "raw GET: body after the headers");
    free (request);
    free (response);

    /*  Extra headers from the loop  */
    request = xasprintf ("GET /headers HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                         "Connection: close\r\n\r\n", port);
    response = s_raw_request (port, request);
    ok (response && strcasestr (response, "\r\nX-One: 1\r\n")
        && strcasestr (response, "\r\nX-Two: two words\r\n"),
        "httpd_respond_with_headers: the extra headers reach the client");
    ok (response && strcasestr (response, "\r\nContent-Type: text/plain\r\n")
        && strstr (response, "\r\n\r\nwith headers") && !strstr (response, "not a header"),
        "httpd_respond_with_headers: with the content type and body, a bad line dropped");
    free (request);
    free (response);

    url = xasprintf ("http://127.0.0.1:%d/peer", port);
    rc = httpc_get (url, TIMEOUT_MS, &status, &body, &size);
    ok (rc == 0 && status == 200 && strncmp (body, "127.0.0.1:", 10) == 0,
        "the loop sees the client's address (%s)", body ? body : "");
    free (url);
    free (body);
    body = NULL;

    /*  Other methods  */
    url = xasprintf ("http://127.0.0.1:%d/echo?a=2", port);
    rc = httpc_request ("DELETE", url, NULL, NULL, 0, TIMEOUT_MS, &status, &body, &size);
    ok (rc == 0 && status == 200 && strncmp (body, "DELETE /echo a=2 ", 17) == 0,
        "DELETE reaches the loop as DELETE");
    free (body);
    body = NULL;
    rc = httpc_request ("HEAD", url, NULL, NULL, 0, TIMEOUT_MS, &status, &body, &size);
    ok (rc == 0 && status == 200 && size == 0 && body && *body == '\0',
        "HEAD is answered like GET, without a body");
    free (body);
    body = NULL;
    free (url);

    /*  POST body round trip, with NULs in it  */
    static const char data[] = "hello\0world\r\n\xff";
    url = xasprintf ("http://127.0.0.1:%d/post", port);
    rc = httpc_request ("POST", url, "application/octet-stream", data, sizeof data,
                        TIMEOUT_MS, &status, &body, &size);
    ok (rc == 0, "POST");
    cmp_int (status, 201, "POST: status");
    ok (size == sizeof data && memcmp (body, data, size) == 0,
        "POST: the body went there and back intact");
    free (body);
    body = NULL;

    rc = httpc_request ("PUT", url, NULL, NULL, 0, TIMEOUT_MS, &status, &body, &size);
    ok (rc == 0 && status == 201 && size == 0, "PUT with an empty body");
    free (body);
    body = NULL;

    /*  A body over the limit is refused by the HTTP thread  */
    size_t large_size = HTTPD_MAX_BODY + 1;
    char *large = xzalloc (large_size);
    rc = httpc_request ("POST", url, "application/octet-stream", large, large_size,
                        TIMEOUT_MS, &status, &body, &size);
    ok (rc == 0, "POST over the limit: a response");
    cmp_int (status, 413, "POST over the limit: 413");
    is (body, "{\"error\": \"request body larger than 1048576 bytes\"}",
        "POST over the limit: JSON error");
    free (body);
    body = NULL;
    if (rc != 0)
        diag ("%s", cairn_strerror_last ());

    /*  Without "Expect: 100-continue" the body is already on its way:
        the server reads it, throws it away, then answers 413 (not a
        connection reset), declared or chunked.                         */
    char *text = xmalloc (large_size + 1);
    memset (text, 'x', large_size);
    text[large_size] = '\0';
    request = xasprintf ("POST /post HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                         large_size, text);
    response = s_raw_request (port, request);
    ok (response && strncmp (response, "HTTP/1.1 413 ", 13) == 0,
        "raw POST over the limit: 413");
    free (request);
    free (response);
    request = xasprintf ("POST /post HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                         "%zx\r\n%s\r\n0\r\n\r\n", large_size, text);
    response = s_raw_request (port, request);
    ok (response && strncmp (response, "HTTP/1.1 413 ", 13) == 0,
        "raw chunked POST over the limit: 413");
    free (request);
    free (response);
    free (text);

    rc = httpc_request ("POST", url, NULL, large, HTTPD_MAX_BODY, TIMEOUT_MS,
                        &status, &body, &size);
    ok (rc == 0 && status == 201 && size == HTTPD_MAX_BODY,
        "POST of exactly the limit is accepted");
    free (body);
    body = NULL;
    free (large);
    free (url);

    /*  404 from the loop, JSON escaped  */
    url = xasprintf ("http://127.0.0.1:%d/no%%22such%%FF", port);
    rc = httpc_get (url, TIMEOUT_MS, &status, &body, &size);
    ok (rc == 0, "GET of an unknown path");
    cmp_int (status, 404, "404 from the loop");
    is (body, "{\"error\": \"no such path: /no\\\"such\\ufffd\"}",
        "error body is valid JSON (quote escaped, invalid UTF-8 replaced)");
    free (body);
    body = NULL;
    free (url);

    /*  A large response arrives intact  */
    url = xasprintf ("http://127.0.0.1:%d/big", port);
    rc = httpc_get (url, TIMEOUT_MS, &status, &body, &size);
    ok (rc == 0 && status == 200, "GET of 8 MiB");
    char *expected = xmalloc (BIG_SIZE);
    s_fill (expected, BIG_SIZE);
    ok (size == BIG_SIZE && memcmp (body, expected, BIG_SIZE) == 0,
        "8 MiB arrived intact (%zu bytes)", size);
    free (expected);
    free (body);
    body = NULL;
    free (url);

    /*  The port is taken  */
    errno = 0;
    httpd_t *second = httpd_new ("127.0.0.1", port);
    ok (second == NULL && errno == EADDRINUSE, "httpd_new on a port in use fails");
    char *message = xasprintf ("cannot listen on 127.0.0.1:%d: Address already in use",
                               port);
    is (cairn_strerror_last (), message, "the message names the address");
    free (message);
    httpd_destroy (&second);

    errno = 0;
    second = httpd_new ("localhost", 0);
    ok (second == NULL && errno == EINVAL, "httpd_new wants a numeric address");
    is (cairn_strerror_last (), "cannot listen on localhost:0: not a numeric IP address",
        "and says so");

    zstr_send (control, "STOP");
    pthread_join (thread, NULL);
    cmp_int (loop.posts, 3, "only the requests within the limit reached the loop");
    zsock_destroy (&control);
    zsock_destroy (&control_back);
    httpd_destroy (&httpd);
    ok (httpd == NULL, "httpd_destroy");
}

/*  The client alone  */

static void
test_client_errors (void)
{
    long status = -7;
    char *body = (char *) "untouched";
    size_t size = 7;

    char *url = xasprintf ("http://127.0.0.1:%d/state", s_closed_port ());
    errno = 0;
    int rc = httpc_get (url, TIMEOUT_MS, &status, &body, &size);
    ok (rc == -1 && errno == ECONNREFUSED, "httpc on a closed port fails");
    const char *message = cairn_strerror_last ();
    ok (strncmp (message, url, strlen (url)) == 0
        && strstr (message, "Couldn't connect to server"),
        "the message names the URL and the reason: %s", message);
    ok (status == -7 && streq (body, "untouched") && size == 7,
        "outputs untouched on failure");
    free (url);

    errno = 0;
    rc = httpc_get ("file:///etc/passwd", TIMEOUT_MS, &status, &body, &size);
    ok (rc == -1 && errno == EINVAL, "httpc refuses non-HTTP URLs: %s",
        cairn_strerror_last ());
}

/*  The server, held by hand  */

static void
test_held (void)
{
    httpd_t *httpd = httpd_new ("127.0.0.1", 0);
    ok (httpd != NULL, "a second server");
    if (!httpd)
        return;
    int port = httpd_port (httpd);
    client_t c, a, b;

    /*  The loop does not answer in time: 504, and the late answer is
        dropped without harm.                                           */
    httpd_set_request_timeout (httpd, 200);
    s_client_start (&c, port, "/c");
    httpd_request_t *req_c = s_wait_request (httpd);
    ok (req_c && streq (httpd_request_path (req_c), "/c"), "request reached the owner");
    s_client_join (&c);
    ok (c.rc == 0 && c.status == 504, "no answer in time: 504 (%ld)", c.status);
    ok (c.body && strstr (c.body, "did not answer within 200 ms"),
        "with a reason: %s", c.body ? c.body : "");
    if (req_c)
        httpd_respond (httpd, &req_c, 200, "text/plain", xstrdup ("late"), 4);
    ok (req_c == NULL, "a late answer is accepted and dropped");
    s_client_destroy (&c);

    /*  One request waits for the owner; another is served meanwhile.  */
    httpd_set_request_timeout (httpd, TIMEOUT_MS);
    s_client_start (&a, port, "/a");
    httpd_request_t *req_a = s_wait_request (httpd);
    ok (req_a && streq (httpd_request_path (req_a), "/a"), "request A held by the owner");
    s_client_start (&b, port, "/b");
    httpd_request_t *req_b = s_wait_request (httpd);
    ok (req_b && streq (httpd_request_path (req_b), "/b"), "request B reached the owner");
    if (req_b)
        httpd_respond (httpd, &req_b, 200, NULL, xstrdup ("b"), 1);
    s_client_join (&b);
    ok (b.rc == 0 && b.status == 200 && b.body && streq (b.body, "b"),
        "B answered while A waits");
    s_client_destroy (&b);

    /*  A client that gives up: its request stays with the owner.       */
    char *url = xasprintf ("http://127.0.0.1:%d/d", port);
    long status;
    char *body;
    size_t size;
    errno = 0;
    int rc = httpc_get (url, 300, &status, &body, &size);
    ok (rc == -1 && errno == ETIMEDOUT, "httpc times out: %s", cairn_strerror_last ());
    free (url);

    /*  Destroy with A (and D, never received) in flight.               */
    httpd_destroy (&httpd);
    ok (httpd == NULL, "httpd_destroy with requests in flight");
    s_client_join (&a);
    ok (a.rc == 0 && a.status == 503, "the waiting client got 503 (%ld)", a.status);
    ok (a.body && strstr (a.body, "shutting down"), "with a reason: %s",
        a.body ? a.body : "");
    s_client_destroy (&a);
    httpd_request_destroy (&req_a);
    ok (req_a == NULL, "a request outliving its server is freed");
}

/*  Waits (bounded) for the next request on a hand-driven server.        */
static httpd_request_t *
s_next_request (httpd_t *httpd)
{
    zpoller_t *poller = zpoller_new (httpd_sock (httpd), NULL);
    httpd_request_t *req = NULL;
    int64_t deadline = zclock_mono () + TIMEOUT_MS;
    while (!req && zclock_mono () < deadline) {
        zpoller_wait (poller, 100);
        req = httpd_recv (httpd);
    }
    zpoller_destroy (&poller);
    return req;
}

/*  Waits (bounded) until a stream is reported closed; its id or 0.      */
static uint64_t
s_next_closed (httpd_t *httpd, uint64_t heartbeat_to)
{
    int64_t deadline = zclock_mono () + TIMEOUT_MS;
    while (zclock_mono () < deadline) {
        httpd_request_t *req;
        while ((req = httpd_recv (httpd)))
            httpd_respond_error (httpd, &req, 404, "unexpected");
        uint64_t id = httpd_stream_closed (httpd);
        if (id)
            return id;
        /*  A heartbeat makes the thread notice a vanished client.         */
        if (heartbeat_to)
            httpd_stream_send (httpd, heartbeat_to, "\n", 1);
        zclock_sleep (20);
    }
    return 0;
}

static void
test_streams (void)
{
    httpd_t *httpd = httpd_new ("127.0.0.1", 0);
    ok (httpd != NULL, "a server for streams");
    if (!httpd)
        return;
    int port = httpd_port (httpd);

    /*  A stream sent in pieces, then ended: the client gets it all.      */
    client_t a;
    s_client_start (&a, port, "/events");
    httpd_request_t *req = s_next_request (httpd);
    ok (req != NULL, "the stream's request reaches the owner");
    if (!req)
        goto done;
    uint64_t id = httpd_respond_stream (httpd, &req, 200, "application/x-ndjson");
    ok (id > 0 && req == NULL, "answered with a stream");
    httpd_stream_send (httpd, id, "one\n", 4);
    zclock_sleep (50);              /* so the reader sleeps and is woken */
    httpd_stream_send (httpd, id, "two\n", 4);
    char *big = xmalloc (BIG_SIZE);
    s_fill (big, BIG_SIZE / 4);
    memset (big, 'x', BIG_SIZE / 4);
    big[BIG_SIZE / 4 - 1] = '\n';
    httpd_stream_send (httpd, id, big, BIG_SIZE / 4);
    httpd_stream_send (httpd, id, "three\n", 6);
    httpd_stream_end (httpd, id);
    s_client_join (&a);
    ok (a.rc == 0 && a.status == 200, "the client got a complete response");
    cmp_int (a.size, 4 + 4 + BIG_SIZE / 4 + 6, "every byte sent, in order");
    ok (a.body && strncmp (a.body, "one\ntwo\nxxx", 11) == 0
            && strcmp (a.body + a.size - 6, "three\n") == 0,
        "beginning and end as sent");
    s_client_destroy (&a);
    ok (httpd_stream_closed (httpd) == 0, "a stream the owner ended is not reported closed");

    /*  A client that goes away: reported closed.                         */
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
    inet_pton (AF_INET, "127.0.0.1", &sin.sin_addr);
    const char *get = "GET /events HTTP/1.1\r\nHost: x\r\n\r\n";
    ok (connect (fd, (struct sockaddr *) &sin, sizeof sin) == 0
            && write (fd, get, strlen (get)) == (ssize_t) strlen (get),
        "a raw client asks for a stream");
    req = s_next_request (httpd);
    id = req ? httpd_respond_stream (httpd, &req, 200, "application/x-ndjson") : 0;
    httpd_stream_send (httpd, id, "hello\n", 6);
    char head[4096] = "";
    ssize_t n = 0;
    for (int tries = 0; tries < 100 && !strstr (head, "hello"); tries++) {
        ssize_t m = read (fd, head + n, sizeof head - 1 - (size_t) n);
        if (m <= 0)
            break;
        n += m;
        head[n] = '\0';
    }
    ok (strstr (head, "Transfer-Encoding: chunked") != NULL, "sent chunked");
    ok (strstr (head, "hello") != NULL, "the first event arrives at once");
    close (fd);
    cmp_int (s_next_closed (httpd, id), id, "the owner hears that its client left");

    /*  A client that does not read is cut once the buffer is full.       */
    fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int small = 4096;
    setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    ok (connect (fd, (struct sockaddr *) &sin, sizeof sin) == 0
            && write (fd, get, strlen (get)) == (ssize_t) strlen (get),
        "a client that will not read");
    req = s_next_request (httpd);
    id = req ? httpd_respond_stream (httpd, &req, 200, "application/x-ndjson") : 0;
    uint64_t closed = 0;
    for (int i = 0; i < 256 && !closed; i++) {
        httpd_stream_send (httpd, id, big, BIG_SIZE / 4);
        zclock_sleep (5);
        while ((req = httpd_recv (httpd)))
            httpd_respond_error (httpd, &req, 404, "unexpected");
        closed = httpd_stream_closed (httpd);
    }
    if (!closed)
        closed = s_next_closed (httpd, 0);
    cmp_int (closed, id, "it is cut and reported closed");
    close (fd);

    /*  A stream open when the server stops: what was sent still arrives,
        and the response ends cleanly.                                   */
    s_client_start (&a, port, "/events");
    req = s_next_request (httpd);
    id = req ? httpd_respond_stream (httpd, &req, 200, "application/x-ndjson") : 0;
    httpd_stream_send (httpd, id, "bye\n", 4);
    zclock_sleep (50);
    httpd_destroy (&httpd);
    s_client_join (&a);
    ok (a.rc == 0 && a.status == 200 && a.body && strcmp (a.body, "bye\n") == 0,
        "a stream ends cleanly when the server stops");
    s_client_destroy (&a);
    free (big);
done:
    httpd_destroy (&httpd);
}

int
main (void)
{
    /*  As the daemons do: signals are ours, not CZMQ's.                  */
    zsys_handler_set (NULL);

    test_served ();
    test_client_errors ();
    test_held ();
    test_streams ();
    return done_testing ();
}
