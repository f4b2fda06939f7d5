/*  httpd.c - the daemons' HTTP server.

    Threads. httpd_new starts one thread, the HTTP thread, which runs
    libmicrohttpd (MHD) in external-polling mode with epoll: its own
    zmq_poll loop waits on MHD's epoll descriptor and on its end of an
    inproc PAIR pipe whose other end belongs to the owner's event loop.
    A complete request becomes one message to the owner and its connection
    is suspended (MHD_suspend_connection); the owner's answer comes back on
    the same pipe, the connection is resumed and the response queued.

    Why not MHD's internal polling thread and pool, with a handler that
    blocks on a socket until the owner answers: a blocked handler stalls
    every other connection of its MHD thread, including clients that are
    only downloading a finished /state, and a pool of N threads is stalled
    by N requests to a slow loop. Here no thread ever waits for the owner,
    so a slow loop delays only the requests that need it, and the thread
    keeps serving everything else (timeouts, 413, 503, bodies in flight).
    One thread is enough because it only moves bytes between sockets and
    memory: the owner builds the bodies. Keeping every MHD call on that one
    thread also makes suspend/resume race-free (with internal threads a
    resume from the owner can overtake the suspend, which MHD 0.9.75 then
    silently turns into "not suspended").

    Ownership. An exchange (one request and its response on a connection)
    is allocated at MHD's first call of the access handler and freed by
    MHD's completion callback. While the owner has it, it sits in the
    pending list, oldest first; the owner refers to it only by a 64-bit id,
    never by pointer, so an answer for an exchange that already got its
    504, or that was dropped at shutdown, matches nothing and is dropped.

    Timeouts. The owner has timeout_ms to answer, then the client gets 504.
    All pending exchanges share one timeout and sit in arrival order, so
    the list head is always the next to expire. Slow or idle clients are
    closed by MHD after HTTPD_CONNECTION_TIMEOUT_S without progress.

    Bodies. The owner's response body travels as a zero-copy ZeroMQ
    message (zmq_msg_init_data) and is handed to MHD with a free callback,
    so tens of MB of /state are never copied; the HTTP thread frees them
    when MHD has sent them. Request bodies are small (HTTPD_MAX_BODY) and
    are copied.

    Pipe. Both ends have unlimited high-water marks: the HTTP thread bounds
    what is in flight itself (HTTPD_MAX_PENDING, 503 beyond), so a send
    never blocks either thread. Linger is 0: at destroy nothing left in
    the pipe matters. Messages, owner <- HTTP thread:
        [id:8][method][path][query][headers][peer][principal][body]
    strings NUL-terminated (principal "" when none), query and headers
    as "name\0value\0...", the body followed by a NUL; HTTP thread <-
    owner:
        ["REPLY"][id:8][status:4][content type][body]
        ["STREAM"][id:8][status:4][content type]
        ["DATA"][id:8][bytes]
        ["END"][id:8]
        ["TIMEOUT"][ms:4]
        ["$TERM"]
    and owner <- HTTP thread, when a stream's client is gone or was cut:
        ["CLOSED"][id:8]

    Streams. A streamed response (an event feed) is sent chunked: MHD
    pulls from the exchange's buffer through a content reader; when the
    buffer is empty the reader suspends the connection and a DATA or END
    from the owner resumes it. A client that does not keep up is cut
    when HTTPD_STREAM_MAX_BUFFER bytes wait for it, so a stuck reader
    costs bounded memory; the owner hears CLOSED and stops sending.

    Credentials. With a token file (httpd_options_t), the HTTP thread
    itself checks "Authorization: Bearer TOKEN" and answers 401 to a
    request that needs one (any method but GET, HEAD and OPTIONS) and has
    none or a wrong one, before the owner sees it; a valid token's
    principal travels with the request (httpd_request_principal). Tokens
    are compared in constant time. TLS is MHD's (GnuTLS), with the
    certificate and key read into memory at start.                      */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <czmq.h>
#include <microhttpd.h>

#include "error.h"
#include "httpd.h"

#if MHD_VERSION < 0x00097302
#error "libmicrohttpd >= 0.9.73 is required (MHD_create_response_from_buffer_with_free_callback_cls)"
#endif

/*  At destroy, how long the HTTP thread keeps sending answers it already
    has (the 503s, bodies in flight) before it closes every connection.  */
#define DRAIN_MS    2000

/*  The most request body the HTTP thread reads and throws away in order
    to deliver a 413 (see s_handle_access).                               */
#define DISCARD_MAX (16u << 20)

/*  MHD renamed the constant for 413 between 0.9.73 and 0.9.75 and marks
    the old name deprecated.                                              */
#define HTTP_CONTENT_TOO_LARGE  413

typedef struct {
    char *data;
    size_t size, cap;
} buf_t;

typedef enum {
    EX_RECEIVING,       /* reading the request */
    EX_WAITING,         /* with the owner: suspended, in the pending list */
    EX_ANSWERED,        /* response known, connection resumed, not queued */
    EX_SENDING,         /* response queued to MHD */
} ex_state_t;

typedef struct _server_t server_t;
typedef struct _exchange_t exchange_t;

struct _exchange_t {
    server_t *server;
    struct MHD_Connection *conn;
    ex_state_t state;
    buf_t body;                 /* the request body so far */
    bool too_large;             /* body over HTTPD_MAX_BODY: rest discarded */
    const char *principal;      /* the valid token's, borrowed from the server */
    size_t discarded;           /* bytes of body thrown away */
    uint64_t id;                /* the owner's handle while EX_WAITING */
    int64_t since;              /* zclock_mono () when sent to the owner */
    exchange_t *prev, *next;    /* pending list */
    struct MHD_Response *response;  /* EX_ANSWERED: to queue */
    unsigned int status;
    /*  A streamed response: */
    bool stream;
    buf_t out;                  /* bytes the owner sent, not yet read by MHD */
    size_t out_off;             /* how much of out MHD has taken */
    bool ended;                 /* the owner sent END */
    bool cut;                   /* the client fell behind: end with an error */
    bool suspended;             /* the reader suspended the connection */
    exchange_t *snext;          /* the streams list */
};

typedef struct {
    char *principal;
    char *token;
} token_t;

/*  Everything the HTTP thread owns; nothing here is touched elsewhere.  */
struct _server_t {
    token_t *tokens;            /* read-only after start; none: no checks */
    size_t ntokens;
    struct MHD_Daemon *mhd;
    int epoll_fd;               /* MHD's; readable when MHD has work */
    zsock_t *pipe;              /* the HTTP thread's end */
    uint64_t last_id;
    exchange_t *head, *tail;    /* waiting for the owner, oldest first */
    exchange_t *streams;        /* streamed responses in progress */
    size_t npending;
    size_t nanswered;           /* EX_ANSWERED or EX_SENDING, not completed */
    int64_t timeout_ms;
    bool terminating;
};

struct _httpd_t {
    zsock_t *sock;              /* the owner's end of the pipe */
    uint64_t *closed;           /* streams reported CLOSED, not yet taken */
    size_t nclosed, closed_cap;
    pthread_t thread;
    int port;
    bool tls;
    char *cert, *key;           /* PEM text MHD points into */
};

struct _httpd_request_t {
    zmsg_t *msg;                /* owns the frames the strings point into */
    uint64_t id;
    const char *method, *path, *peer;
    const char *principal;      /* NULL without a valid token */
    const char **query;         /* name, value, name, value, ... */
    size_t nquery;              /* pairs */
    const char **headers;
    size_t nheaders;
    const char *body;           /* NULL if empty; NUL-terminated */
    size_t body_size;
};


/*  Helpers shared by both threads  */

static void
s_buf_append (buf_t *buf, const void *data, size_t size)
{
    if (buf->size + size > buf->cap) {
        buf->cap = (buf->size + size) * 2;
        buf->data = xrealloc (buf->data, buf->cap);
    }
    memcpy (buf->data + buf->size, data, size);
    buf->size += size;
}

/*  The length of the valid UTF-8 sequence at s (n bytes left), 0 if the
    bytes there are not valid UTF-8 (overlong, surrogate, out of range). */
static size_t
s_utf8_len (const unsigned char *s, size_t n)
{
    size_t len;
    uint32_t min;
    if (s[0] < 0x80)
        return 1;
    else if (s[0] >= 0xC2 && s[0] <= 0xDF)
        len = 2, min = 0x80;
    else if ((s[0] & 0xF0) == 0xE0)
        len = 3, min = 0x800;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4)
        len = 4, min = 0x10000;
    else
        return 0;
    if (n < len)
        return 0;
    uint32_t cp = s[0] & (0x3F >> (len - 1));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/*  {"error": "<message>"}, malloc'd. Messages often quote what a client
    sent (a path, a parameter), so invalid UTF-8 is replaced by U+FFFD
    and control characters are escaped: the body is always valid JSON.  */
static char *
s_error_json (const char *message, size_t *size)
{
    static const char prefix[] = "{\"error\": \"";
    static const char suffix[] = "\"}";
    const unsigned char *s = (const unsigned char *) message;
    size_t n = strlen (message);
    /*  Each input byte becomes at most 6 output bytes (\u00XX, \ufffd). */
    char *json = xmalloc (sizeof prefix + 6 * n + sizeof suffix);
    char *p = json;

    memcpy (p, prefix, sizeof prefix - 1);
    p += sizeof prefix - 1;
    for (size_t i = 0; i < n;) {
        size_t len = s_utf8_len (s + i, n - i);
        if (len == 0) {
            memcpy (p, "\\ufffd", 6);
            p += 6;
            i++;
        }
        else if (s[i] == '"' || s[i] == '\\') {
            *p++ = '\\';
            *p++ = (char) s[i++];
        }
        else if (s[i] < 0x20 || s[i] == 0x7F) {
            p += sprintf (p, "\\u%04x", (unsigned int) s[i++]);
        }
        else {
            memcpy (p, s + i, len);
            p += len;
            i += len;
        }
    }
    memcpy (p, suffix, sizeof suffix);  /* with its NUL */
    *size = (size_t) (p - json) + sizeof suffix - 1;
    return json;
}


/*  The HTTP thread: pending list  */

static void
s_pending_append (server_t *server, exchange_t *ex)
{
    ex->prev = server->tail;
    ex->next = NULL;
    if (server->tail)
        server->tail->next = ex;
    else
        server->head = ex;
    server->tail = ex;
    server->npending++;
}

static void
s_pending_remove (server_t *server, exchange_t *ex)
{
    if (ex->prev)
        ex->prev->next = ex->next;
    else
        server->head = ex->next;
    if (ex->next)
        ex->next->prev = ex->prev;
    else
        server->tail = ex->prev;
    ex->prev = ex->next = NULL;
    server->npending--;
}

/*  The owner mostly answers in arrival order, so the search from the
    head usually stops at once; the list never exceeds HTTPD_MAX_PENDING. */
static exchange_t *
s_pending_find (server_t *server, uint64_t id)
{
    for (exchange_t *ex = server->head; ex; ex = ex->next)
        if (ex->id == id)
            return ex;
    return NULL;
}


/*  The HTTP thread: responses  */

static struct MHD_Response *
s_error_response (bool close, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

static struct MHD_Response *
s_error_response (bool close, const char *fmt, ...)
{
    va_list ap;
    char *message = NULL;
    va_start (ap, fmt);
    if (vasprintf (&message, fmt, ap) < 0)
        oom_abort ();
    va_end (ap);
    size_t size;
    char *body = s_error_json (message, &size);
    free (message);
    struct MHD_Response *response =
        MHD_create_response_from_buffer (size, body, MHD_RESPMEM_MUST_FREE);
    if (!response)
        oom_abort ();
    MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE,
                             "application/json");
    if (close)
        MHD_add_response_header (response, MHD_HTTP_HEADER_CONNECTION, "close");
    return response;
}

/*  Queues a response from inside the access handler (the only place MHD
    accepts one) and gives up our reference to it.                       */
static enum MHD_Result
s_queue (exchange_t *ex, unsigned int status, struct MHD_Response *response)
{
    enum MHD_Result rc = MHD_queue_response (ex->conn, status, response);
    MHD_destroy_response (response);
    if (ex->state != EX_ANSWERED)
        ex->server->nanswered++;
    ex->state = EX_SENDING;
    return rc;
}

/*  Answers a waiting exchange from outside the access handler: the
    response is kept until MHD calls the handler for the resumed
    connection.                                                           */
static void
s_answer (exchange_t *ex, unsigned int status, struct MHD_Response *response)
{
    assert (ex->state == EX_WAITING);
    s_pending_remove (ex->server, ex);
    ex->response = response;
    ex->status = status;
    ex->state = EX_ANSWERED;
    ex->server->nanswered++;
    MHD_resume_connection (ex->conn);
}


/*  The HTTP thread: requests  */

static enum MHD_Result
s_pack_value (void *cls, enum MHD_ValueKind kind, const char *key,
              const char *value)
{
    buf_t *buf = cls;
    if (!value)
        value = "";                 /* "?flag" without "=" */
    s_buf_append (buf, key, strlen (key) + 1);
    s_buf_append (buf, value, strlen (value) + 1);
    return MHD_YES;
}

static void
s_add_values (zmsg_t *msg, struct MHD_Connection *conn, enum MHD_ValueKind kind)
{
    buf_t buf = { NULL, 0, 0 };
    MHD_get_connection_values (conn, kind, s_pack_value, &buf);
    zmsg_addmem (msg, buf.data, buf.size);
    free (buf.data);
}

static void
s_add_peer (zmsg_t *msg, struct MHD_Connection *conn)
{
    char host[NI_MAXHOST], serv[NI_MAXSERV], peer[NI_MAXHOST + NI_MAXSERV + 4];
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info (conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = info ? info->client_addr : NULL;
    socklen_t len = sa && sa->sa_family == AF_INET6
                    ? sizeof (struct sockaddr_in6) : sizeof (struct sockaddr_in);
    if (sa && getnameinfo (sa, len, host, sizeof host, serv, sizeof serv,
                           NI_NUMERICHOST | NI_NUMERICSERV) == 0)
        snprintf (peer, sizeof peer, sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s",
                  host, serv);
    else
        snprintf (peer, sizeof peer, "unknown");
    zmsg_addmem (msg, peer, strlen (peer) + 1);
}

/*  Constant-time comparison of a presented token with a known one.       */
static bool
s_token_equal (const char *given, size_t given_len, const char *known)
{
    size_t known_len = strlen (known);
    unsigned char diff = given_len != known_len;
    for (size_t i = 0; i < known_len; i++)
        diff |= (unsigned char) (known[i] ^ (i < given_len ? given[i] : 0));
    return diff == 0;
}

/*  The principal of the request's bearer token, or NULL.                 */
static const char *
s_principal (server_t *server, struct MHD_Connection *conn)
{
    const char *auth = MHD_lookup_connection_value (conn, MHD_HEADER_KIND,
                                                    MHD_HTTP_HEADER_AUTHORIZATION);
    if (!auth || strncasecmp (auth, "Bearer ", 7) != 0)
        return NULL;
    const char *token = auth + 7;
    while (*token == ' ')
        token++;
    size_t len = strlen (token);
    while (len > 0 && token[len - 1] == ' ')
        len--;
    const char *found = NULL;
    for (size_t i = 0; i < server->ntokens; i++)     /* no early exit: constant time */
        if (s_token_equal (token, len, server->tokens[i].token) && !found)
            found = server->tokens[i].principal;
    return found;
}

/*  Reading needs no credentials; everything else does.                   */
static bool
s_needs_token (const char *method)
{
    return strcmp (method, MHD_HTTP_METHOD_GET) != 0
        && strcmp (method, MHD_HTTP_METHOD_HEAD) != 0
        && strcmp (method, MHD_HTTP_METHOD_OPTIONS) != 0;
}

static struct MHD_Response *
s_unauthorized (struct MHD_Connection *conn, const char *method, const char *url)
{
    bool given = MHD_lookup_connection_value (conn, MHD_HEADER_KIND,
                                              MHD_HTTP_HEADER_AUTHORIZATION) != NULL;
    struct MHD_Response *response =
        s_error_response (true, "%s %s needs a valid bearer token (%s)", method, url,
                          given ? "the one given is not valid" : "none was given: pass "
                          "--token-file or set $CAIRN_TOKEN_FILE");
    MHD_add_response_header (response, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                             given ? "Bearer realm=\"cairn\", error=\"invalid_token\""
                                   : "Bearer realm=\"cairn\"");
    return response;
}

/*  Sends the complete request to the owner and suspends its connection
    until the answer (or the timeout) comes.                              */
static enum MHD_Result
s_forward (server_t *server, exchange_t *ex, const char *url, const char *method,
           const char *principal)
{
    if (ex->too_large)
        return s_queue (ex, HTTP_CONTENT_TOO_LARGE,
                        s_error_response (true, "request body larger than %u bytes",
                                          HTTPD_MAX_BODY));
    if (server->terminating)
        return s_queue (ex, MHD_HTTP_SERVICE_UNAVAILABLE,
                        s_error_response (true, "the server is shutting down"));
    if (server->npending >= HTTPD_MAX_PENDING)
        return s_queue (ex, MHD_HTTP_SERVICE_UNAVAILABLE,
                        s_error_response (false, "too many requests waiting "
                                          "for the daemon (%d)", HTTPD_MAX_PENDING));

    /*  HEAD is answered like GET; MHD sends the headers only.  */
    if (strcmp (method, MHD_HTTP_METHOD_HEAD) == 0)
        method = MHD_HTTP_METHOD_GET;
    ex->id = ++server->last_id;
    zmsg_t *msg = zmsg_new ();
    zmsg_addmem (msg, &ex->id, sizeof ex->id);
    zmsg_addmem (msg, method, strlen (method) + 1);
    zmsg_addmem (msg, url, strlen (url) + 1);
    s_add_values (msg, ex->conn, MHD_GET_ARGUMENT_KIND);
    s_add_values (msg, ex->conn, MHD_HEADER_KIND);
    s_add_peer (msg, ex->conn);
    if (!principal)
        principal = "";
    zmsg_addmem (msg, principal, strlen (principal) + 1);
    zframe_t *body = zframe_new (NULL, ex->body.size + 1);
    if (ex->body.size)
        memcpy (zframe_data (body), ex->body.data, ex->body.size);
    zframe_data (body) [ex->body.size] = '\0';
    zmsg_append (msg, &body);
    free (ex->body.data);
    ex->body = (buf_t) { NULL, 0, 0 };

    if (zmsg_send (&msg, server->pipe) != 0) {
        zmsg_destroy (&msg);
        return s_queue (ex, MHD_HTTP_SERVICE_UNAVAILABLE,
                        s_error_response (false, "cannot reach the daemon: %s",
                                          zmq_strerror (errno)));
    }
    MHD_suspend_connection (ex->conn);
    ex->since = zclock_mono ();
    ex->state = EX_WAITING;
    s_pending_append (server, ex);
    return MHD_YES;
}

/*  MHD's access handler. MHD calls it once when the headers are in, once
    per chunk of body, once when the request is complete, and again after
    each resume until a response is queued.                              */
static enum MHD_Result
s_handle_access (void *cls, struct MHD_Connection *conn, const char *url,
                 const char *method, const char *version, const char *upload_data,
                 size_t *upload_data_size, void **con_cls)
{
    server_t *server = cls;
    exchange_t *ex = *con_cls;

    if (!ex) {
        ex = xzalloc (sizeof *ex);
        ex->server = server;
        ex->conn = conn;
        ex->state = EX_RECEIVING;
        *con_cls = ex;
        if (server->ntokens) {
            ex->principal = s_principal (server, conn);
            if (!ex->principal && s_needs_token (method))
                return s_queue (ex, MHD_HTTP_UNAUTHORIZED, s_unauthorized (conn, method, url));
        }
        /*  An oversize body is refused at once when the client waits
            for "100 Continue" (it will not send the body) or declares
            more than DISCARD_MAX. Otherwise it is already on its way,
            and closing with unread data makes the kernel send a reset
            that most clients report instead of our 413: read it and
            throw it away.                                              */
        const char *length = MHD_lookup_connection_value (
            conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        const char *expect = MHD_lookup_connection_value (
            conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
        if (length) {
            char *end;
            errno = 0;
            unsigned long long n = strtoull (length, &end, 10);
            if (end != length && (errno == ERANGE || n > HTTPD_MAX_BODY)) {
                if (n > DISCARD_MAX || errno == ERANGE
                    || (expect && strcasecmp (expect, "100-continue") == 0))
                    return s_queue (ex, HTTP_CONTENT_TOO_LARGE,
                                    s_error_response (true, "request body larger "
                                                      "than %u bytes", HTTPD_MAX_BODY));
                ex->too_large = true;
            }
        }
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!ex->too_large && *upload_data_size <= HTTPD_MAX_BODY - ex->body.size)
            s_buf_append (&ex->body, upload_data, *upload_data_size);
        else {
            /*  Over the limit: discard, up to DISCARD_MAX for a body of
                unknown length (chunked), then cut the connection.     */
            ex->too_large = true;
            ex->discarded += ex->body.size + *upload_data_size;
            free (ex->body.data);
            ex->body = (buf_t) { NULL, 0, 0 };
            if (ex->discarded > DISCARD_MAX)
                return MHD_NO;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    switch (ex->state) {
        case EX_RECEIVING:
            return s_forward (server, ex, url, method, ex->principal);
        case EX_ANSWERED: {
            struct MHD_Response *response = ex->response;
            ex->response = NULL;
            return s_queue (ex, ex->status, response);
        }
        case EX_WAITING:
        case EX_SENDING:
            break;
    }
    return MHD_YES;
}

static void
s_handle_completed (void *cls, struct MHD_Connection *conn, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
    server_t *server = cls;
    exchange_t *ex = *con_cls;
    if (!ex)
        return;
    if (ex->state == EX_WAITING)
        s_pending_remove (server, ex);      /* not expected: MHD keeps it */
    if (ex->stream) {
        for (exchange_t **p = &server->streams; *p; p = &(*p)->snext)
            if (*p == ex) {
                *p = ex->snext;
                break;
            }
        /*  The owner stops sending to it (unless it ended it itself).  */
        if (!ex->ended || ex->cut) {
            zmsg_t *msg = zmsg_new ();
            zmsg_addstr (msg, "CLOSED");
            zmsg_addmem (msg, &ex->id, sizeof ex->id);
            if (zmsg_send (&msg, server->pipe) != 0)
                zmsg_destroy (&msg);
        }
        free (ex->out.data);
    }
    if (ex->state == EX_ANSWERED || ex->state == EX_SENDING)
        server->nanswered--;
    if (ex->response)
        MHD_destroy_response (ex->response);
    free (ex->body.data);
    free (ex);
    *con_cls = NULL;
}


/*  The HTTP thread: messages from the owner  */

static void
s_free_frame (void *cls)
{
    zframe_t *frame = cls;
    zframe_destroy (&frame);
}

/*  Adds "Name: value" lines (the owner's extra headers) to a response. */
static void
s_add_headers (struct MHD_Response *response, char *headers)
{
    char *save = NULL;
    for (char *line = strtok_r (headers, "\r\n", &save); line;
         line = strtok_r (NULL, "\r\n", &save)) {
        char *colon = strchr (line, ':');
        if (!colon || colon == line)
            continue;
        *colon = '\0';
        const char *value = colon + 1;
        while (*value == ' ')
            value++;
        MHD_add_response_header (response, line, value);
    }
}

static void
s_handle_reply (server_t *server, zmsg_t *msg)
{
    zframe_t *id_frame = zmsg_pop (msg);
    zframe_t *status_frame = zmsg_pop (msg);
    char *content_type = zmsg_popstr (msg);
    zframe_t *body = zmsg_pop (msg);
    char *headers = zmsg_popstr (msg);      /* NULL: none */
    uint64_t id;
    uint32_t status;

    if (!body || zframe_size (id_frame) != sizeof id
        || zframe_size (status_frame) != sizeof status)
        goto done;                          /* malformed: cannot happen */
    memcpy (&id, zframe_data (id_frame), sizeof id);
    memcpy (&status, zframe_data (status_frame), sizeof status);
    exchange_t *ex = s_pending_find (server, id);
    if (!ex)
        goto done;                          /* already got its 504 or 503 */

    struct MHD_Response *response;
    size_t size = zframe_size (body);
    if (size > 0) {
        response = MHD_create_response_from_buffer_with_free_callback_cls (
            size, zframe_data (body), s_free_frame, body);
        if (!response)
            oom_abort ();
        body = NULL;                        /* the response owns it */
    }
    else {
        response = MHD_create_response_from_buffer (0, (void *) "",
                                                    MHD_RESPMEM_PERSISTENT);
        if (!response)
            oom_abort ();
    }
    if (*content_type)
        MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE,
                                 content_type);
    if (headers)
        s_add_headers (response, headers);
    s_answer (ex, status, response);
done:
    zframe_destroy (&id_frame);
    zframe_destroy (&status_frame);
    free (content_type);
    free (headers);
    zframe_destroy (&body);
}

/*  MHD pulls a stream's bytes here (on the HTTP thread).                */
static ssize_t
s_stream_read (void *cls, uint64_t pos, char *buf, size_t max)
{
    exchange_t *ex = cls;
    (void) pos;
    if (ex->cut)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    size_t avail = ex->out.size - ex->out_off;
    if (avail > 0) {
        size_t n = avail < max ? avail : max;
        memcpy (buf, ex->out.data + ex->out_off, n);
        ex->out_off += n;
        if (ex->out_off == ex->out.size)
            ex->out.size = ex->out_off = 0;
        return (ssize_t) n;
    }
    if (ex->ended || ex->server->terminating)
        return MHD_CONTENT_READER_END_OF_STREAM;
    /*  Nothing to send: sleep until the owner sends (see s_stream_wake). */
    MHD_suspend_connection (ex->conn);
    ex->suspended = true;
    return 0;
}

static void
s_stream_wake (exchange_t *ex)
{
    if (ex->suspended) {
        ex->suspended = false;
        MHD_resume_connection (ex->conn);
    }
}

static exchange_t *
s_stream_find (server_t *server, zframe_t *id_frame)
{
    uint64_t id;
    if (!id_frame || zframe_size (id_frame) != sizeof id)
        return NULL;
    memcpy (&id, zframe_data (id_frame), sizeof id);
    for (exchange_t *ex = server->streams; ex; ex = ex->snext)
        if (ex->id == id)
            return ex;
    return NULL;                            /* its client is gone */
}

static void
s_handle_stream (server_t *server, zmsg_t *msg)
{
    zframe_t *id_frame = zmsg_pop (msg);
    zframe_t *status_frame = zmsg_pop (msg);
    char *content_type = zmsg_popstr (msg);
    uint64_t id;
    uint32_t status;
    if (!content_type || zframe_size (id_frame) != sizeof id
        || zframe_size (status_frame) != sizeof status)
        goto done;
    memcpy (&id, zframe_data (id_frame), sizeof id);
    memcpy (&status, zframe_data (status_frame), sizeof status);
    exchange_t *ex = s_pending_find (server, id);
    if (!ex)
        goto done;
    struct MHD_Response *response =
        MHD_create_response_from_callback (MHD_SIZE_UNKNOWN, 16384, s_stream_read, ex, NULL);
    if (!response)
        oom_abort ();
    if (*content_type)
        MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header (response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    ex->stream = true;
    ex->snext = server->streams;
    server->streams = ex;
    s_answer (ex, status, response);
done:
    zframe_destroy (&id_frame);
    zframe_destroy (&status_frame);
    free (content_type);
}

static void
s_handle_data (server_t *server, zmsg_t *msg, bool end)
{
    zframe_t *id_frame = zmsg_first (msg);
    exchange_t *ex = s_stream_find (server, id_frame);
    if (!ex || ex->ended || ex->cut)
        return;
    if (end)
        ex->ended = true;
    else {
        zframe_t *data = zmsg_next (msg);
        size_t size = data ? zframe_size (data) : 0;
        if (ex->out.size - ex->out_off + size > HTTPD_STREAM_MAX_BUFFER)
            ex->cut = true;                 /* it does not keep up */
        else if (size > 0) {
            if (ex->out_off > 0 && ex->out_off == ex->out.size)
                ex->out.size = ex->out_off = 0;
            s_buf_append (&ex->out, zframe_data (data), size);
        }
    }
    s_stream_wake (ex);
}

/*  Handles every message the owner has sent, without blocking.          */
static void
s_recv_commands (server_t *server)
{
    zmsg_t *msg;
    while (!server->terminating && (msg = zmsg_recv (server->pipe))) {
        char *command = zmsg_popstr (msg);
        if (!command)
            command = xstrdup ("");
        if (streq (command, "REPLY"))
            s_handle_reply (server, msg);
        else if (streq (command, "STREAM"))
            s_handle_stream (server, msg);
        else if (streq (command, "DATA"))
            s_handle_data (server, msg, false);
        else if (streq (command, "END"))
            s_handle_data (server, msg, true);
        else if (streq (command, "TIMEOUT")) {
            zframe_t *frame = zmsg_first (msg);
            int32_t ms;
            if (frame && zframe_size (frame) == sizeof ms) {
                memcpy (&ms, zframe_data (frame), sizeof ms);
                server->timeout_ms = ms;
            }
        }
        else if (streq (command, "$TERM"))
            server->terminating = true;
        free (command);
        zmsg_destroy (&msg);
    }
}

static void
s_expire (server_t *server)
{
    int64_t now = zclock_mono ();
    while (server->head && now - server->head->since >= server->timeout_ms)
        s_answer (server->head, MHD_HTTP_GATEWAY_TIMEOUT,
                  s_error_response (false, "the daemon did not answer within "
                                    "%" PRId64 " ms", server->timeout_ms));
}

/*  Milliseconds until something is due (MHD's connection timeouts, or
    the oldest request's 504), -1 if nothing is.                          */
static long
s_poll_timeout (server_t *server)
{
    long timeout = -1;
    MHD_UNSIGNED_LONG_LONG mhd_ms;
    if (MHD_get_timeout (server->mhd, &mhd_ms) == MHD_YES)
        timeout = mhd_ms > (MHD_UNSIGNED_LONG_LONG) LONG_MAX ? LONG_MAX : (long) mhd_ms;
    if (server->head) {
        int64_t left = server->head->since + server->timeout_ms - zclock_mono ();
        if (left < 0)
            left = 0;
        if (timeout < 0 || left < timeout)
            timeout = (long) left;
    }
    return timeout;
}

/*  Answers every waiting request with 503, gives MHD DRAIN_MS to send
    what it has, then stops it: MHD must not be stopped with suspended
    connections, and a client is better served by a 503 than a reset.   */
static void
s_shutdown (server_t *server)
{
    server->terminating = true;
    while (server->head)
        s_answer (server->head, MHD_HTTP_SERVICE_UNAVAILABLE,
                  s_error_response (true, "the server is shutting down"));
    /*  Streams end (what is buffered still goes out).                     */
    for (exchange_t *ex = server->streams; ex; ex = ex->snext) {
        ex->ended = true;
        s_stream_wake (ex);
    }
    int64_t deadline = zclock_mono () + DRAIN_MS;
    while (true) {
        MHD_run (server->mhd);
        int64_t left = deadline - zclock_mono ();
        if (server->nanswered == 0 || left <= 0)
            break;
        long timeout = s_poll_timeout (server);
        if (timeout < 0 || timeout > left)
            timeout = (long) left;
        struct pollfd pfd = { .fd = server->epoll_fd, .events = POLLIN };
        (void) poll (&pfd, 1, (int) timeout);
    }
    MHD_stop_daemon (server->mhd);
}

static void
s_tokens_free (server_t *server)
{
    for (size_t i = 0; i < server->ntokens; i++) {
        /*  Tokens are secrets: wipe them before the memory is reused.     */
        explicit_bzero (server->tokens[i].token, strlen (server->tokens[i].token));
        free (server->tokens[i].token);
        free (server->tokens[i].principal);
    }
    free (server->tokens);
    server->tokens = NULL;
    server->ntokens = 0;
}

static void *
s_server_run (void *arg)
{
    server_t *server = arg;
    void *pipe = zsock_resolve (server->pipe);

    pthread_setname_np (pthread_self (), "cairn-httpd");   /* for top -H, gdb */
    while (true) {
        s_recv_commands (server);
        if (server->terminating)
            break;
        s_expire (server);
        MHD_run (server->mhd);
        zmq_pollitem_t items [] = {
            { pipe, 0, ZMQ_POLLIN, 0 },
            { NULL, server->epoll_fd, ZMQ_POLLIN, 0 },
        };
        if (zmq_poll (items, 2, s_poll_timeout (server)) == -1
            && errno != EINTR)
            break;                          /* ETERM: ZeroMQ is shutting down */
    }
    s_shutdown (server);
    zsock_destroy (&server->pipe);
    s_tokens_free (server);
    free (server);
    return NULL;
}


/*  The owner's side  */

static zsock_t *
s_pipe_end (void)
{
    zsock_t *sock = zsock_new (ZMQ_PAIR);
    if (!sock)
        return NULL;
    zsock_set_sndhwm (sock, 0);
    zsock_set_rcvhwm (sock, 0);
    zsock_set_linger (sock, 0);
    zsock_set_rcvtimeo (sock, 0);           /* both sides poll first */
    return sock;
}

/*  Opens the listening socket ourselves rather than letting MHD do it,
    to report the exact reason a bind fails, to bind a v6 address to v6
    only, and to keep the descriptor from leaking into tasks (CLOEXEC).
    addr is "ip:port" for messages.                                      */
static int
s_listen (const char *ip, int port, const char *addr, int *bound_port)
{
    struct addrinfo hints = {
        .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
        .ai_family = AF_UNSPEC,
        .ai_socktype = SOCK_STREAM,
    };
    struct addrinfo *ai = NULL;
    char service[16];
    int fd = -1;

    if (port < 0 || port > 65535)
        return error_set (EINVAL, "cannot listen on %s: invalid port", addr);
    snprintf (service, sizeof service, "%d", port);
    if (getaddrinfo (ip, service, &hints, &ai) != 0)
        return error_set (EINVAL, "cannot listen on %s: not a numeric IP address",
                          addr);
    fd = socket (ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        goto error;
    /*  A restarted daemon must be able to bind while connections of its
        predecessor linger in TIME_WAIT; a port someone listens on is
        still refused (EADDRINUSE).                                     */
    int on = 1;
    if (setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0)
        goto error;
    if (ai->ai_family == AF_INET6
        && setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) < 0)
        goto error;
    if (bind (fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen (fd, SOMAXCONN) < 0)
        goto error;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname (fd, (struct sockaddr *) &ss, &len) < 0)
        goto error;
    *bound_port = ntohs (ss.ss_family == AF_INET6
                         ? ((struct sockaddr_in6 *) &ss)->sin6_port
                         : ((struct sockaddr_in *) &ss)->sin_port);
    freeaddrinfo (ai);
    return fd;
error:;
    int err = errno;
    if (fd >= 0)
        close (fd);
    freeaddrinfo (ai);
    return error_set (err, "cannot listen on %s: %s", addr, strerror (err));
}

/*  Reads a whole (small) file; NULL with errno and a sentence.           */
static char *
s_read_small_file (const char *what, const char *path, size_t *size)
{
    FILE *f = fopen (path, "re");
    char *data = NULL;
    if (!f) {
        error_set (errno, "%s %s: %s", what, path, strerror (errno));
        return NULL;
    }
    size_t cap = 0, n = 0;
    while (true) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            if (cap > (1u << 20)) {
                error_set (EFBIG, "%s %s: larger than 1 MiB", what, path);
                goto error;
            }
            data = xrealloc (data, cap);
        }
        size_t got = fread (data + n, 1, 4096, f);
        n += got;
        if (got < 4096) {
            if (ferror (f)) {
                error_set (EIO, "%s %s: cannot read it", what, path);
                goto error;
            }
            break;
        }
    }
    fclose (f);
    data[n] = '\0';
    if (size)
        *size = n;
    return data;
error:
    fclose (f);
    free (data);
    return NULL;
}

int
httpd_token_file_load (const char *path, httpd_token_fn *fn, void *arg)
{
    assert (path);
    struct stat st;
    if (stat (path, &st) < 0)
        return error_set (errno, "token file %s: %s", path, strerror (errno));
    if (st.st_mode & (S_IROTH | S_IWOTH))
        return error_set (EPERM, "token file %s: every user can read or write it (mode %04o); "
                          "make it private, e.g. chmod 600 %s", path,
                          (unsigned int) (st.st_mode & 07777), path);
    char *text = s_read_small_file ("token file", path, NULL);
    if (!text)
        return -1;
    int rc = 0, lineno = 0, ntokens = 0;
    char *save = NULL;
    for (char *line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save)) {
        lineno++;
        char *fields[3] = { NULL, NULL, NULL };
        int n = 0;
        char *fsave = NULL;
        for (char *f = strtok_r (line, " \t\r", &fsave); f && n < 3;
             f = strtok_r (NULL, " \t\r", &fsave))
            fields[n++] = f;
        if (n == 0 || fields[0][0] == '#')
            continue;
        const char *principal = n == 2 ? fields[0] : "operator";
        const char *token = n == 2 ? fields[1] : fields[0];
        if (n > 2) {
            rc = error_set (EINVAL, "token file %s, line %d: expected PRINCIPAL TOKEN or TOKEN",
                            path, lineno);
            break;
        }
        if (strlen (token) < HTTPD_MIN_TOKEN || strlen (principal) > 128) {
            rc = error_set (EINVAL, "token file %s, line %d: a token needs at least %d "
                            "characters (and a principal at most 128)", path, lineno,
                            HTTPD_MIN_TOKEN);
            break;
        }
        if (fn)
            fn (principal, token, arg);
        ntokens++;
    }
    if (rc == 0 && ntokens == 0)
        rc = error_set (EINVAL, "token file %s holds no token", path);
    explicit_bzero (text, strlen (text));
    free (text);
    return rc;
}

static void
s_add_token (const char *principal, const char *token, void *arg)
{
    server_t *server = arg;
    server->tokens = xrealloc (server->tokens, (server->ntokens + 1) * sizeof *server->tokens);
    server->tokens[server->ntokens].principal = xstrdup (principal);
    server->tokens[server->ntokens].token = xstrdup (token);
    server->ntokens++;
}

bool
httpd_tls_supported (void)
{
    return MHD_is_feature_supported (MHD_FEATURE_TLS) == MHD_YES;
}

httpd_t *
httpd_new (const char *ip, int port)
{
    return httpd_new_with (ip, port, NULL);
}

httpd_t *
httpd_new_with (const char *ip, int port, const httpd_options_t *options)
{
    static unsigned int s_sequence;
    httpd_t *self = NULL;
    server_t *server = NULL;
    char *cert = NULL, *key = NULL;
    int bound_port = 0;
    int err;

    assert (ip);
    bool tls = options && (options->tls_cert || options->tls_key);
    if (tls) {
        if (!options->tls_cert || !options->tls_key) {
            error_set (EINVAL, "TLS needs both a certificate and a key (--http-tls-cert, "
                       "--http-tls-key)");
            return NULL;
        }
        if (!httpd_tls_supported ()) {
            error_set (ENOTSUP, "this libmicrohttpd was built without TLS (GnuTLS): "
                       "cannot serve HTTPS");
            return NULL;
        }
        if (!(cert = s_read_small_file ("TLS certificate", options->tls_cert, NULL))
            || !(key = s_read_small_file ("TLS key", options->tls_key, NULL))) {
            free (cert);
            return NULL;
        }
    }
    bool v6 = strchr (ip, ':') != NULL;
    char addr[128];
    snprintf (addr, sizeof addr, "%s%s%s:%d", v6 ? "[" : "", ip, v6 ? "]" : "", port);
    int fd = s_listen (ip, port, addr, &bound_port);
    if (fd < 0) {
        free (cert);
        free (key);
        return NULL;
    }
    snprintf (addr, sizeof addr, "%s%s%s:%d", v6 ? "[" : "", ip, v6 ? "]" : "",
              bound_port);

    self = xzalloc (sizeof *self);
    self->port = bound_port;
    server = xzalloc (sizeof *server);
    server->epoll_fd = -1;
    server->timeout_ms = HTTPD_REQUEST_TIMEOUT_MS;
    self->tls = tls;
    if (options && options->token_file
        && httpd_token_file_load (options->token_file, s_add_token, server) < 0) {
        close (fd);
        goto error;
    }

    /*  No MHD_USE_INTERNAL_POLLING_THREAD: our thread polls (see top).
        MHD takes the listening socket, and closes it on its failure
        paths too, so it is not ours from here on.                      */
    unsigned int flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
    if (v6)
        flags |= MHD_USE_IPv6;
    errno = 0;
    if (tls)
        server->mhd = MHD_start_daemon (flags | MHD_USE_TLS, 0, NULL, NULL, s_handle_access,
                                        server,
                                        MHD_OPTION_LISTEN_SOCKET, fd,
                                        MHD_OPTION_NOTIFY_COMPLETED,
                                        s_handle_completed, server,
                                        MHD_OPTION_CONNECTION_TIMEOUT,
                                        (unsigned int) HTTPD_CONNECTION_TIMEOUT_S,
                                        MHD_OPTION_HTTPS_MEM_CERT, cert,
                                        MHD_OPTION_HTTPS_MEM_KEY, key,
                                        MHD_OPTION_END);
    else
        server->mhd = MHD_start_daemon (flags, 0, NULL, NULL, s_handle_access, server,
                                        MHD_OPTION_LISTEN_SOCKET, fd,
                                        MHD_OPTION_NOTIFY_COMPLETED,
                                        s_handle_completed, server,
                                        MHD_OPTION_CONNECTION_TIMEOUT,
                                        (unsigned int) HTTPD_CONNECTION_TIMEOUT_S,
                                        MHD_OPTION_END);
    if (!server->mhd) {
        err = errno ? errno : EIO;
        if (tls)
            error_set (err, "cannot start the HTTPS server on %s: check that %s and %s are a "
                       "PEM certificate and its key", addr, options->tls_cert, options->tls_key);
        else
            error_set (err, "cannot start the HTTP server on %s: %s", addr, strerror (err));
        goto error;
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info (server->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    if (!info) {
        error_set (ENOSYS, "cannot start the HTTP server on %s: "
                   "libmicrohttpd has no epoll support", addr);
        goto error;
    }
    server->epoll_fd = info->epoll_fd;

    unsigned int sequence = __atomic_add_fetch (&s_sequence, 1, __ATOMIC_RELAXED);
    self->sock = s_pipe_end ();
    server->pipe = s_pipe_end ();
    if (!self->sock || !server->pipe
        || zsock_bind (self->sock, "inproc://cairn-httpd-%u", sequence) == -1
        || zsock_connect (server->pipe, "inproc://cairn-httpd-%u", sequence) == -1) {
        err = errno;
        error_set (err, "cannot create the HTTP server's pipe: %s", zmq_strerror (err));
        goto error;
    }

    /*  The thread takes no signals: the daemons read theirs with a
        signalfd, which sees only signals blocked in every thread.      */
    sigset_t all, old;
    sigfillset (&all);
    pthread_sigmask (SIG_SETMASK, &all, &old);
    int rc = pthread_create (&self->thread, NULL, s_server_run, server);
    pthread_sigmask (SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        error_set (rc, "cannot start the HTTP server's thread: %s", strerror (rc));
        goto error;
    }
    /*  MHD copies neither: they must outlive the daemon (freed at destroy). */
    self->cert = cert;
    self->key = key;
    return self;

error:
    err = errno;
    if (server->mhd)
        MHD_stop_daemon (server->mhd);
    zsock_destroy (&server->pipe);
    s_tokens_free (server);
    free (server);
    zsock_destroy (&self->sock);
    free (self);
    free (cert);
    free (key);
    errno = err;
    return NULL;
}

void
httpd_destroy (httpd_t **self_p)
{
    assert (self_p);
    httpd_t *self = *self_p;
    if (!self)
        return;
    /*  The pipe has no high-water mark, so this cannot block or fail
        short of ZeroMQ being shut down under us.                       */
    int rc = zstr_send (self->sock, "$TERM");
    assert (rc == 0);
    (void) rc;
    pthread_join (self->thread, NULL);
    zsock_destroy (&self->sock);
    free (self->closed);
    free (self->cert);
    if (self->key)
        explicit_bzero (self->key, strlen (self->key));
    free (self->key);
    free (self);
    *self_p = NULL;
}

int
httpd_port (httpd_t *self)
{
    assert (self);
    return self->port;
}

bool
httpd_tls (httpd_t *self)
{
    assert (self);
    return self->tls;
}

zsock_t *
httpd_sock (httpd_t *self)
{
    assert (self);
    return self->sock;
}

void
httpd_set_request_timeout (httpd_t *self, int ms)
{
    assert (self);
    assert (ms > 0);
    int32_t value = ms;
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "TIMEOUT");
    zmsg_addmem (msg, &value, sizeof value);
    if (zmsg_send (&msg, self->sock) != 0)
        zmsg_destroy (&msg);
}

static const char *
s_frame_str (zframe_t *frame)
{
    assert (frame && zframe_size (frame) > 0);
    assert (zframe_data (frame) [zframe_size (frame) - 1] == '\0');
    return (const char *) zframe_data (frame);
}

/*  "name\0value\0..." -> an array of pointers into the frame.           */
static const char **
s_frame_pairs (zframe_t *frame, size_t *npairs)
{
    assert (frame);
    const char *data = (const char *) zframe_data (frame);
    size_t size = zframe_size (frame);
    size_t n = 0;
    for (size_t i = 0; i < size; i++)
        n += data [i] == '\0';
    assert (n % 2 == 0 && (size == 0 || data [size - 1] == '\0'));
    const char **strings = xmalloc ((n + 1) * sizeof *strings);
    const char *p = data;
    for (size_t i = 0; i < n; i++) {
        strings [i] = p;
        p += strlen (p) + 1;
    }
    strings [n] = NULL;
    *npairs = n / 2;
    return strings;
}

httpd_request_t *
httpd_recv (httpd_t *self)
{
    assert (self);
    zmsg_t *msg;
    while ((msg = zmsg_recv (self->sock))) {    /* receive timeout is 0 */
        if (zmsg_size (msg) != 2)
            break;                              /* a request */
        /*  ["CLOSED"][id]: kept for httpd_stream_closed.                  */
        zframe_t *id = zmsg_last (msg);
        if (zframe_size (id) == sizeof (uint64_t)) {
            if (self->nclosed == self->closed_cap) {
                self->closed_cap = self->closed_cap ? 2 * self->closed_cap : 8;
                self->closed = xrealloc (self->closed, self->closed_cap * sizeof (uint64_t));
            }
            memcpy (&self->closed[self->nclosed++], zframe_data (id), sizeof (uint64_t));
        }
        zmsg_destroy (&msg);
    }
    if (!msg)
        return NULL;
    assert (zmsg_size (msg) == 8);
    httpd_request_t *req = xzalloc (sizeof *req);
    req->msg = msg;
    zframe_t *frame = zmsg_first (msg);
    assert (zframe_size (frame) == sizeof req->id);
    memcpy (&req->id, zframe_data (frame), sizeof req->id);
    req->method = s_frame_str (zmsg_next (msg));
    req->path = s_frame_str (zmsg_next (msg));
    req->query = s_frame_pairs (zmsg_next (msg), &req->nquery);
    req->headers = s_frame_pairs (zmsg_next (msg), &req->nheaders);
    req->peer = s_frame_str (zmsg_next (msg));
    req->principal = s_frame_str (zmsg_next (msg));
    if (!*req->principal)
        req->principal = NULL;
    frame = zmsg_next (msg);
    req->body_size = zframe_size (frame) - 1;   /* the trailing NUL */
    req->body = req->body_size ? (const char *) zframe_data (frame) : NULL;
    return req;
}

const char *
httpd_request_method (httpd_request_t *req)
{
    assert (req);
    return req->method;
}

const char *
httpd_request_path (httpd_request_t *req)
{
    assert (req);
    return req->path;
}

const char *
httpd_request_query (httpd_request_t *req, const char *name)
{
    assert (req);
    assert (name);
    for (size_t i = 0; i < req->nquery; i++)
        if (streq (req->query [2 * i], name))
            return req->query [2 * i + 1];
    return NULL;
}

/*  Percent-encodes s (RFC 3986 unreserved characters kept) onto f.      */
static void
s_url_encode (FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *) s; *p; p++)
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')
            || strchr ("-._~/", *p))
            fputc (*p, f);
        else
            fprintf (f, "%%%02X", *p);
}

char *
httpd_request_target (httpd_request_t *req)
{
    assert (req);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream (&buf, &len);
    if (!f)
        oom_abort ();
    s_url_encode (f, req->path);
    for (size_t i = 0; i < req->nquery; i++) {
        fputc (i ? '&' : '?', f);
        s_url_encode (f, req->query [2 * i]);
        if (*req->query [2 * i + 1]) {
            fputc ('=', f);
            s_url_encode (f, req->query [2 * i + 1]);
        }
    }
    fclose (f);
    return buf;
}

const char *
httpd_request_header (httpd_request_t *req, const char *name)
{
    assert (req);
    assert (name);
    for (size_t i = 0; i < req->nheaders; i++)
        if (strcasecmp (req->headers [2 * i], name) == 0)
            return req->headers [2 * i + 1];
    return NULL;
}

const void *
httpd_request_body (httpd_request_t *req, size_t *size)
{
    assert (req);
    assert (size);
    *size = req->body_size;
    return req->body;
}

const char *
httpd_request_peer (httpd_request_t *req)
{
    assert (req);
    return req->peer;
}

const char *
httpd_request_principal (httpd_request_t *req)
{
    assert (req);
    return req->principal;
}

void
httpd_request_destroy (httpd_request_t **req_p)
{
    assert (req_p);
    httpd_request_t *req = *req_p;
    if (!req)
        return;
    zmsg_destroy (&req->msg);
    free (req->query);
    free (req->headers);
    free (req);
    *req_p = NULL;
}

static void
s_free_body (void *data, void *hint)
{
    free (data);
}

void
httpd_respond (httpd_t *self, httpd_request_t **req_p, int status,
               const char *content_type, char *body, size_t size)
{
    httpd_respond_with_headers (self, req_p, status, content_type, NULL, body, size);
}

void
httpd_respond_with_headers (httpd_t *self, httpd_request_t **req_p, int status,
                            const char *content_type, const char *headers, char *body,
                            size_t size)
{
    assert (self);
    assert (req_p && *req_p);
    assert (status >= 200 && status <= 599);
    assert (body || size == 0);
    assert (!content_type || !strpbrk (content_type, "\r\n"));
    httpd_request_t *req = *req_p;
    void *handle = zsock_resolve (self->sock);
    uint32_t wire_status = (uint32_t) status;
    const char *type = content_type ? content_type : "";
    zmq_msg_t frame;

    /*  Zero copy: ZeroMQ hands the buffer itself to the HTTP thread,
        which frees it when MHD has sent it.                            */
    if (size > 0) {
        if (zmq_msg_init_data (&frame, body, size, s_free_body, NULL) != 0)
            oom_abort ();
    }
    else {
        free (body);
        zmq_msg_init (&frame);
    }
    /*  Sends cannot block (no high-water mark); if ZeroMQ is shutting
        down they fail and the client gets its 503 or nothing.         */
    if (zmq_send (handle, "REPLY", 5, ZMQ_SNDMORE) == -1
        || zmq_send (handle, &req->id, sizeof req->id, ZMQ_SNDMORE) == -1
        || zmq_send (handle, &wire_status, sizeof wire_status, ZMQ_SNDMORE) == -1
        || zmq_send (handle, type, strlen (type), ZMQ_SNDMORE) == -1
        || zmq_msg_send (&frame, handle, headers ? ZMQ_SNDMORE : 0) == -1)
        zmq_msg_close (&frame);
    /*  The extra headers, when there are any, travel as a last frame.  */
    else if (headers)
        zmq_send (handle, headers, strlen (headers), 0);
    httpd_request_destroy (req_p);
}

void
httpd_respond_error (httpd_t *self, httpd_request_t **req_p, int status,
                     const char *fmt, ...)
{
    va_list ap;
    char *message = NULL;
    va_start (ap, fmt);
    if (vasprintf (&message, fmt, ap) < 0)
        oom_abort ();
    va_end (ap);
    size_t size;
    char *body = s_error_json (message, &size);
    free (message);
    httpd_respond (self, req_p, status, "application/json", body, size);
}

void
httpd_respond_json (httpd_t *self, httpd_request_t **req_p, int status, json_t *json)
{
    char *body = json_dumps (json, JSON_COMPACT);
    json_decref (json);
    if (!body)
        oom_abort ();
    httpd_respond (self, req_p, status, "application/json", body, strlen (body));
}

uint64_t
httpd_respond_stream (httpd_t *self, httpd_request_t **req_p, int status,
                      const char *content_type)
{
    assert (self);
    assert (req_p && *req_p);
    assert (status >= 200 && status <= 599);
    assert (!content_type || !strpbrk (content_type, "\r\n"));
    httpd_request_t *req = *req_p;
    uint64_t id = req->id;
    uint32_t wire_status = (uint32_t) status;
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "STREAM");
    zmsg_addmem (msg, &id, sizeof id);
    zmsg_addmem (msg, &wire_status, sizeof wire_status);
    zmsg_addstr (msg, content_type ? content_type : "");
    if (zmsg_send (&msg, self->sock) != 0)
        zmsg_destroy (&msg);
    httpd_request_destroy (req_p);
    return id;
}

void
httpd_stream_send (httpd_t *self, uint64_t stream, const void *data, size_t size)
{
    assert (self);
    assert (data || size == 0);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "DATA");
    zmsg_addmem (msg, &stream, sizeof stream);
    zmsg_addmem (msg, data, size);
    if (zmsg_send (&msg, self->sock) != 0)
        zmsg_destroy (&msg);
}

void
httpd_stream_end (httpd_t *self, uint64_t stream)
{
    assert (self);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "END");
    zmsg_addmem (msg, &stream, sizeof stream);
    if (zmsg_send (&msg, self->sock) != 0)
        zmsg_destroy (&msg);
}

uint64_t
httpd_stream_closed (httpd_t *self)
{
    assert (self);
    if (self->nclosed == 0)
        return 0;
    uint64_t id = self->closed[0];
    memmove (self->closed, self->closed + 1, --self->nclosed * sizeof (uint64_t));
    return id;
}
