/*  httpc.h - a small blocking HTTP client on libcurl, for the CLI and the
    bundled frameworks. Internal. Safe to call from any thread.           */
#ifndef CAIRN_HTTPC_H_INCLUDED
#define CAIRN_HTTPC_H_INCLUDED

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define HTTPC_MAX_BODY  (256u << 20)    /* bytes in a response body */

/*  Credentials, process-wide: set them once at start, before requests.
    The bearer token is sent as "Authorization: Bearer" with every request
    but GET and HEAD (NULL: none).                                       */
void httpc_set_token (const char *token);
/*  Reads the token from a file: the first line "TOKEN" or "PRINCIPAL
    TOKEN" (a server's token file works too). -1 with errno and a
    sentence naming the file.                                             */
int httpc_set_token_file (const char *path);
/*  Trusts the CA certificates in path (PEM) for https URLs instead of the
    system's; NULL or "" restores the default. -1 if path is unreadable.  */
int httpc_set_ca_file (const char *path);
/*  A URL for path on a server at address: "SCHEME://HOST:PORT" is used as
    given, a bare "HOST:PORT" means http://. Caller frees.                */
char *httpc_url (const char *address, const char *path);

/*  Performs method ("GET", "POST", "PUT", "DELETE", "HEAD", ...) on url
    (http or https only), sending body_in (body_in_size bytes, may be
    NULL) with content_type (may be NULL). timeout_ms > 0 bounds the whole
    transfer; 0 means no limit. Redirects are not followed.
    Returns 0 with the HTTP status in *status and the response body in
    *body (malloc'd, NUL-terminated, the caller's) and *size, whatever the
    status. Returns -1 with errno and a sentence naming the URL
    (cairn_strerror_last), e.g. "http://127.0.0.1:1/state: Couldn't
    connect to server", when no complete response arrived or it was
    larger than HTTPC_MAX_BODY; the outputs are then untouched.          */
int httpc_request (const char *method, const char *url, const char *content_type,
                   const void *body_in, size_t body_in_size, long timeout_ms,
                   long *status, char **body, size_t *size);

/*  A response with its headers, from httpc_get_response.                  */
typedef struct {
    long status;
    char *content_type;         /* the Content-Type header, or NULL */
    char *headers;              /* the final response's header lines "Name: value\r\n",
                                   NUL-terminated (at most 64 KiB kept) */
    char *body;                 /* NUL-terminated, not counted in size */
    size_t size;
} httpc_response_t;

/*  GETs url like httpc_get, and also keeps the response's headers; a body
    over max_body bytes (at most HTTPC_MAX_BODY) fails with EFBIG; gives
    up with ECANCELED soon after *cancel becomes true (cancel may be NULL),
    so a daemon can stop a transfer running in another thread. Returns 0
    with *response filled (the caller frees it with httpc_response_clear),
    or -1 as httpc_request (ETIMEDOUT when timeout_ms ran out); *response
    is then all zero.                                                     */
int httpc_get_response (const char *url, long timeout_ms, size_t max_body,
                        const atomic_bool *cancel, httpc_response_t *response);

/*  Frees what a response holds and zeroes it. NULL-safe.                  */
void httpc_response_clear (httpc_response_t *response);

/*  The value of response header name (case-insensitive) in headers as
    httpc_response_t holds them, copied (caller frees), or NULL.          */
char *httpc_header (const char *headers, const char *name);

/*  httpc_request ("GET", url, NULL, NULL, 0, ...).                        */
int httpc_get (const char *url, long timeout_ms, long *status, char **body,
               size_t *size);

/*  A JSON API call: sends body (may be NULL: no body) as
    application/json and parses the answer. Returns 0 with the status in
    *status and the parsed body in *reply (NULL if the body was empty or
    not JSON; the caller's), whatever the status; -1 as httpc_request.    */
int httpc_json (const char *method, const char *url, json_t *body, long timeout_ms,
                long *status, json_t **reply);

/*  Called with each piece of a streamed body as it arrives (and the HTTP
    status); a non-zero return ends the transfer.                        */
typedef int (httpc_stream_fn) (const char *data, size_t size, long status, void *arg);
/*  GETs url and hands the body to fn piece by piece until the server ends
    it, fn returns non-zero (then 0 is returned), nothing arrives for
    idle_timeout_s seconds (0: wait for ever), or the connection fails;
    -1 with errno and a sentence naming the URL in those last cases.
    *status gets the HTTP status (0 if none came). While nothing arrives,
    fn is also called about once a second with data NULL and size 0, so
    it can end the stream on a deadline of its own.                       */
int httpc_stream (const char *url, long connect_timeout_ms, long idle_timeout_s,
                  httpc_stream_fn *fn, void *arg, long *status);

#endif
