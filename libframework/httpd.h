/*  httpd.h - the daemons' HTTP server: libmicrohttpd in its own thread,
    talking to the owning event loop by messages. Internal.

    The owner (one thread, normally a zloop) registers httpd_sock () as a
    reader; when it is readable, httpd_recv () returns the waiting requests
    one by one, and each is answered exactly once with httpd_respond ()
    or httpd_respond_error (), now or later, from the same thread. The HTTP
    thread never touches the owner's state and the owner never touches
    libmicrohttpd: requests and responses travel as ZeroMQ messages.

    The HTTP thread answers by itself, without the owner:
    - 413 when a request body exceeds HTTPD_MAX_BODY;
    - 503 when HTTPD_MAX_PENDING requests already wait for the owner, and
      to every waiting request when the server is destroyed;
    - 504 when the owner has not answered within the request timeout
      (HTTPD_REQUEST_TIMEOUT_MS unless changed); a late answer is dropped.
    HEAD is presented to the owner as GET; the HTTP thread drops the body.

    With a token file (httpd_new_with), the HTTP thread also answers 401,
    with "WWW-Authenticate: Bearer", to any request but GET, HEAD and
    OPTIONS without a valid "Authorization: Bearer TOKEN"; the owner sees
    the token's principal (httpd_request_principal). With a certificate
    and key it serves HTTPS (libmicrohttpd with GnuTLS).                 */
#ifndef CAIRN_HTTPD_H_INCLUDED
#define CAIRN_HTTPD_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#include <czmq.h>
#include <jansson.h>

#define HTTPD_MAX_BODY              (1u << 20)  /* bytes in a request body */
#define HTTPD_MAX_PENDING           512         /* requests waiting for the owner */
#define HTTPD_REQUEST_TIMEOUT_MS    30000       /* owner's time to answer -> 504 */
#define HTTPD_CONNECTION_TIMEOUT_S  60          /* idle or stalled client -> closed */
#define HTTPD_STREAM_MAX_BUFFER     (4u << 20)  /* unread stream bytes -> client cut */

#define HTTPD_MIN_TOKEN             16          /* characters in a bearer token */

typedef struct _httpd_t httpd_t;
typedef struct _httpd_request_t httpd_request_t;

/*  What httpd_new_with adds to a plain HTTP server. Every field may be
    NULL; the files are read at start.                                   */
typedef struct {
    const char *tls_cert;       /* PEM certificate (chain): serve HTTPS */
    const char *tls_key;        /* its PEM private key */
    const char *token_file;     /* lines "PRINCIPAL TOKEN" or "TOKEN" (principal
                                   "operator"); must not be world-readable */
} httpd_options_t;

/*  Starts an HTTP server on ip:port (a numeric IPv4 or IPv6 address; port
    0 picks a free one), served by its own thread. Returns NULL with errno
    and a sentence naming the address (cairn_strerror_last), e.g. "cannot
    listen on 127.0.0.1:5051: Address already in use".                    */
httpd_t *httpd_new (const char *ip, int port);

/*  httpd_new with TLS and/or bearer tokens (options may be NULL). Fails
    (NULL, errno, a sentence) on an unreadable, world-readable, empty or
    malformed token file, a certificate or key that does not load, only
    one of the two, or a libmicrohttpd without TLS (ENOTSUP).            */
httpd_t *httpd_new_with (const char *ip, int port, const httpd_options_t *options);

/*  Whether this libmicrohttpd can serve HTTPS.                            */
bool httpd_tls_supported (void);

/*  Reads and checks a token file, calling fn for each (principal, token)
    if fn is not NULL. Returns 0, or -1 with errno and a sentence naming
    the file (EPERM: other users may read or write it).                   */
typedef void (httpd_token_fn) (const char *principal, const char *token, void *arg);
int httpd_token_file_load (const char *path, httpd_token_fn *fn, void *arg);

/*  Stops the server: requests still waiting for an answer get 503 (the
    thread gives them up to 2 s to go out), then the thread ends. Requests
    taken with httpd_recv and not yet answered must still be freed
    (httpd_request_destroy). Call it before exit: CZMQ's exit handler
    would close the thread's socket under it. NULL-safe.                 */
void httpd_destroy (httpd_t **self_p);

/*  The bound TCP port.                                                    */
int httpd_port (httpd_t *self);

/*  Whether the server speaks HTTPS.                                       */
bool httpd_tls (httpd_t *self);

/*  The owner's side of the message pipe: readable when a request waits.
    Register it with zloop_reader or a zpoller; do not read it directly.  */
zsock_t *httpd_sock (httpd_t *self);

/*  Changes how long the HTTP thread waits for an answer before it sends
    504 (ms > 0); applies to requests already waiting too.                */
void httpd_set_request_timeout (httpd_t *self, int ms);

/*  Takes one waiting request without blocking; NULL if none. The caller
    owns it until httpd_respond or httpd_request_destroy.                 */
httpd_request_t *httpd_recv (httpd_t *self);

/*  Accessors. Strings are borrowed, valid while the request lives.        */
/*  "GET", "POST", ... (HEAD is reported as GET).                          */
const char *httpd_request_method (httpd_request_t *req);
/*  The decoded path without the query string, e.g. "/state".              */
const char *httpd_request_path (httpd_request_t *req);
/*  The decoded value of the first query parameter called name ("" for a
    bare "?name"), or NULL if absent. Names are case-sensitive.           */
const char *httpd_request_query (httpd_request_t *req, const char *name);
/*  The path and query string, encoded again ("/tasks?state=RUNNING"), for
    a redirect to another server (a new string).                          */
char *httpd_request_target (httpd_request_t *req);
/*  A request header's value (name is case-insensitive), or NULL.          */
const char *httpd_request_header (httpd_request_t *req, const char *name);
/*  The body (at most HTTPD_MAX_BODY bytes), or NULL if empty; *size gets
    its length. It is followed by a NUL byte not counted in *size.        */
const void *httpd_request_body (httpd_request_t *req, size_t *size);
/*  The client's address, "ip:port" ("[ip]:port" for IPv6), for logs.      */
const char *httpd_request_peer (httpd_request_t *req);

/*  The principal whose bearer token came with the request, or NULL (no
    token, a wrong one, or no token file configured).                    */
const char *httpd_request_principal (httpd_request_t *req);

/*  Frees a request without answering it: its client gets 504 when the
    request timeout expires, or 503 when the server is destroyed.        */
void httpd_request_destroy (httpd_request_t **req_p);

/*  Answers and frees the request (*req_p is set to NULL). status is an
    HTTP status (200..599); content_type may be NULL. Takes ownership of
    body (malloc'd; may be NULL if size is 0), sent without a copy.      */
void httpd_respond (httpd_t *self, httpd_request_t **req_p, int status,
                    const char *content_type, char *body, size_t size);

/*  httpd_respond with extra response headers: headers holds lines
    "Name: value" separated by newlines ("\n" or "\r\n"), or is NULL.   */
void httpd_respond_with_headers (httpd_t *self, httpd_request_t **req_p, int status,
                                 const char *content_type, const char *headers, char *body,
                                 size_t size);

/*  Answers with status and the JSON body {"error": "<message>"}.          */
void httpd_respond_error (httpd_t *self, httpd_request_t **req_p, int status,
                          const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

/*  Answers with status and a JSON body; takes the json reference.        */
void httpd_respond_json (httpd_t *self, httpd_request_t **req_p, int status, json_t *json);


/*  Streamed responses (an event feed): the status and content type now,
    the body later, piece by piece, sent chunked as it comes. Answers
    (and frees) the request; returns the stream's id for the calls
    below. A stream lives until httpd_stream_end, until its client goes,
    or until HTTPD_STREAM_MAX_BUFFER bytes wait for a client that does
    not read (it is cut); in the last two cases httpd_stream_closed
    reports its id. The owner should send something now and then (a
    heartbeat) so a vanished client is noticed.                         */
uint64_t httpd_respond_stream (httpd_t *self, httpd_request_t **req_p, int status,
                               const char *content_type);
/*  Appends bytes to a stream (copied). Sending to a stream that is gone
    does nothing.                                                         */
void httpd_stream_send (httpd_t *self, uint64_t stream, const void *data, size_t size);
/*  Ends a stream once what was sent has gone out.                        */
void httpd_stream_end (httpd_t *self, uint64_t stream);
/*  A stream that closed without httpd_stream_end (its client left or was
    cut), oldest first; 0 when there is none. Learned while reading the
    pipe: call after httpd_recv has returned NULL.                      */
uint64_t httpd_stream_closed (httpd_t *self);

#endif
