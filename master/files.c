/*  files.c - tasks' sandbox files read through the master: the master
    looks the task up, forwards the request to its agent's /files/browse
    or /files/read, and relays the answer.

    The loop never waits for an agent. Each forwarded request is a job
    run by a detached thread of its own (a blocking libcurl GET with
    FILES_TIMEOUT_MS for the whole transfer); the thread fills in the
    job's result and writes the job's pointer to a pipe, and from then on
    never touches it again. The loop reads the pipe (a zloop poller),
    answers the client and frees the job. Ownership is thus handed over
    whole, like a message: the thread reads only what the loop wrote
    before starting it (url, cancel flag, pipe) and writes only the
    result; the HTTP request itself stays the loop's. At most
    FILES_MAX_IN_FLIGHT jobs run, so the pipe (64 KiB) always has room
    for every pointer and the write never blocks.

    What an agent answers is relayed with care, because a task's output
    is served from the master's origin (where its web UI lives): a read
    always goes out as application/octet-stream, with nosniff and a
    sandboxing Content-Security-Policy, and only JSON passes as JSON.    */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <czmq.h>
#include <jansson.h>

#include "error.h"
#include "files.h"
#include "httpc.h"
#include "log.h"
#include "proto.h"
#include "util.h"

#define MAX_PATH_PARAM  4096    /* characters in ?path= / ?file= */
#define DESTROY_WAIT_MS 5000    /* for cancelled transfers to end */
#define MAX_ANSWER      (8u << 20)      /* bytes from an agent: a read is at most
                                           4 MiB, a listing of 10000 entries less */

/*  Headers on every relayed answer: the body is the agent's (a task's
    output), never to be run or sniffed as a page of the master's.      */
#define RELAY_HEADERS "X-Content-Type-Options: nosniff\n" \
                      "Content-Security-Policy: default-src 'none'; sandbox\n" \
                      "Cache-Control: no-store"

typedef struct _job_t {
    /*  Written by the loop before the thread starts; the thread reads.  */
    char *url;
    const atomic_bool *cancel;
    int fd;                             /* the pipe's write end */
    /*  Written by the thread before it hands the job back.               */
    int rc;                             /* httpc_get_response's */
    int err;                            /* its errno when rc < 0 */
    char *reason;                       /* its sentence when rc < 0 */
    httpc_response_t response;
    /*  The loop's only.                                                  */
    httpd_request_t *req;
    bool read;                          /* /files/read, else /files/browse */
    long long offset;                   /* of a read */
    char *agent_id, *agent_host, *agent_address;
    struct _job_t *next;                /* jobs in flight */
} job_t;

struct _files_t {
    zloop_t *loop;
    httpd_t *httpd;
    int pipe[2];                        /* threads -> loop: job pointers */
    atomic_bool cancel;                 /* set at destroy: transfers give up */
    job_t *jobs;                        /* in flight */
    size_t in_flight;
    uint64_t forwarded, failed;         /* for the logs */
};

static void
s_job_destroy (job_t **job_p)
{
    job_t *job = *job_p;
    if (!job)
        return;
    free (job->url);
    free (job->reason);
    httpc_response_clear (&job->response);
    httpd_request_destroy (&job->req);
    free (job->agent_id);
    free (job->agent_host);
    free (job->agent_address);
    free (job);
    *job_p = NULL;
}

static void *
s_worker (void *arg)
{
    job_t *job = arg;
    int fd = job->fd;
    if (httpc_get_response (job->url, FILES_TIMEOUT_MS, MAX_ANSWER, job->cancel,
                            &job->response) < 0) {
        job->rc = -1;
        job->err = errno;
        job->reason = xstrdup (cairn_strerror_last ());
    }
    /*  The last touch: from here on the job is the loop's.               */
    ssize_t n;
    do
        n = write (fd, &job, sizeof job);
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t) sizeof job)
        log_error ("files: cannot hand a file request back to the loop: %s", strerror (errno));
    return NULL;
}

/*  "%XX" for every byte but the unreserved ones (RFC 3986). Caller frees. */
static char *
s_escape (const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = xmalloc (3 * strlen (s) + 1), *p = out;
    for (const unsigned char *c = (const unsigned char *) s; *c; c++) {
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')
            || *c == '-' || *c == '.' || *c == '_' || *c == '~')
            *p++ = (char) *c;
        else {
            *p++ = '%';
            *p++ = hex[*c >> 4];
            *p++ = hex[*c & 15];
        }
    }
    *p = '\0';
    return out;
}

/*  Whether an agent's advertised address is "[http[s]://]HOST:PORT" and
    nothing more: the agent chose it, and the master must not be made to
    fetch some other path or host through it.                            */
static bool
s_address_ok (const char *address)
{
    const char *hostport = address;
    if (strncmp (address, "http://", 7) == 0)
        hostport += 7;
    else if (strncmp (address, "https://", 8) == 0)
        hostport += 8;
    if (!*hostport || strlen (hostport) > 300)
        return false;
    for (const char *p = hostport; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
              || *p == '.' || *p == '-' || *p == ':' || *p == '[' || *p == ']' || *p == '%'
              || *p == '_'))
            return false;
    return strchr (hostport, ':') != NULL;
}

/*  A non-negative decimal integer (at most 18 digits), or -1.             */
static long long
s_count (const char *text)
{
    if (!text || !*text || strlen (text) > 18)
        return -1;
    for (const char *p = text; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    return strtoll (text, NULL, 10);
}

/*  Answers a job's client with a JSON error naming the agent.             */
static void
s_fail (files_t *self, job_t *job, int status, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

static void
s_fail (files_t *self, job_t *job, int status, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    char *message = NULL;
    if (vasprintf (&message, fmt, ap) < 0)
        oom_abort ();
    va_end (ap);
    log_warn ("files: %s %s from %s: %s", httpd_request_method (job->req),
              httpd_request_path (job->req), httpd_request_peer (job->req), message);
    json_t *json = json_pack ("{s:s s:s s:s}", "error", message, "agent_id", job->agent_id,
                              "agent_address", job->agent_address);
    free (message);
    self->failed++;
    httpd_respond_json (self->httpd, &job->req, status, json);
}

/*  A relayed body: the agent's, with status and type.                     */
static void
s_relay (files_t *self, job_t *job, int status, const char *type, const char *extra)
{
    char *headers = xasprintf ("%s%s%s", RELAY_HEADERS, extra ? "\n" : "", extra ? extra : "");
    char *body = job->response.body;
    size_t size = job->response.size;
    job->response.body = NULL;
    job->response.size = 0;
    httpd_respond_with_headers (self->httpd, &job->req, status, type, headers, body, size);
    free (headers);
}

/*  Answers the client of a job the agent (or the network) has answered.  */
static void
s_answer (files_t *self, job_t *job)
{
    httpc_response_t *r = &job->response;
    const char *what = job->read ? "/files/read" : "/files/browse";
    const char *agent = job->agent_host;
    if (job->rc < 0) {
        if (job->err == ETIMEDOUT)
            s_fail (self, job, 504, "agent %s (%s at %s) did not answer %s within %d s",
                    job->agent_id, agent, job->agent_address, what, FILES_TIMEOUT_MS / 1000);
        else
            s_fail (self, job, 502, "cannot reach agent %s (%s at %s): %s", job->agent_id,
                    agent, job->agent_address, job->reason);
        return;
    }
    json_t *json = r->status != 200 || !job->read ? json_loadb (r->body, r->size, 0, NULL) : NULL;
    if (r->status == 200 && job->read) {
        /*  Where the next read starts: the agent's word if it gives one
            (and the file's size), else what this read returned.        */
        char *next = httpc_header (r->headers, "X-Cairn-Next-Offset");
        char *size = httpc_header (r->headers, "X-Cairn-File-Size");
        long long next_offset = s_count (next);
        if (next_offset < 0)
            next_offset = job->offset + (long long) r->size;
        char extra[128];
        int n = snprintf (extra, sizeof extra, "X-Cairn-Next-Offset: %lld", next_offset);
        if (s_count (size) >= 0)
            snprintf (extra + n, sizeof extra - (size_t) n, "\nX-Cairn-File-Size: %lld",
                      s_count (size));
        free (next);
        free (size);
        s_relay (self, job, 200, "application/octet-stream", extra);
    }
    else if (r->status == 200 && json_is_array (json))
        s_relay (self, job, 200, "application/json", NULL);
    else if (r->status == 200)
        s_fail (self, job, 502, "agent %s (%s at %s) answered %s with something that is not "
                "a JSON list", job->agent_id, agent, job->agent_address, what);
    else if (r->status >= 400 && r->status < 500 && json_is_string (json_object_get (json,
                                                                                    "error")))
        s_relay (self, job, (int) r->status, "application/json", NULL);
    else {
        const char *error = json_string_value (json_object_get (json, "error"));
        char text[200];
        snprintf (text, sizeof text, "%s", error ? error : r->body ? r->body : "");
        proto_text_clean (text);
        s_fail (self, job, 502, "agent %s (%s at %s) answered %s with HTTP %ld%s%s",
                job->agent_id, agent, job->agent_address, what, r->status, *text ? ": " : "",
                text);
    }
    json_decref (json);
    self->forwarded++;
}

/*  Takes the job from the list of those in flight.                        */
static void
s_unlink (files_t *self, job_t *job)
{
    for (job_t **p = &self->jobs; *p; p = &(*p)->next)
        if (*p == job) {
            *p = job->next;
            self->in_flight--;
            return;
        }
    assert (false);
}

/*  Jobs handed back: answer each. -1 if none could be read.               */
static int
s_drain (files_t *self, bool answer)
{
    int got = 0;
    job_t *job;
    ssize_t n;
    while ((n = read (self->pipe[0], &job, sizeof job)) == (ssize_t) sizeof job) {
        s_unlink (self, job);
        if (answer)
            s_answer (self, job);
        s_job_destroy (&job);
        got++;
    }
    return got ? 0 : -1;
}

static int
s_on_pipe (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void) loop;
    (void) item;
    s_drain (arg, true);
    return 0;
}

files_t *
files_new (zloop_t *loop, httpd_t *httpd, const char *ca_file)
{
    assert (loop && httpd);
    if (ca_file && *ca_file && httpc_set_ca_file (ca_file) < 0) {
        error_set (errno, "--agent-ca-file: %s", cairn_strerror_last ());
        return NULL;
    }
    files_t *self = xzalloc (sizeof *self);
    self->loop = loop;
    self->httpd = httpd;
    atomic_init (&self->cancel, false);
    self->pipe[0] = self->pipe[1] = -1;
    if (pipe2 (self->pipe, O_CLOEXEC) < 0
        || fcntl (self->pipe[0], F_SETFL, O_NONBLOCK) < 0) {
        error_set (errno, "files: cannot make a pipe: %s", strerror (errno));
        goto error;
    }
    zmq_pollitem_t item = { NULL, self->pipe[0], ZMQ_POLLIN, 0 };
    if (zloop_poller (loop, &item, s_on_pipe, self) < 0) {
        error_set (EIO, "files: cannot watch the pipe");
        goto error;
    }
    return self;
error:;
    int err = errno;
    if (self->pipe[0] >= 0) {
        close (self->pipe[0]);
        close (self->pipe[1]);
    }
    free (self);
    errno = err;
    return NULL;
}

void
files_destroy (files_t **self_p)
{
    assert (self_p);
    files_t *self = *self_p;
    if (!self)
        return;
    zmq_pollitem_t item = { NULL, self->pipe[0], ZMQ_POLLIN, 0 };
    zloop_poller_end (self->loop, &item);
    /*  Cancelled, libcurl gives up within about a second.                */
    atomic_store (&self->cancel, true);
    int64_t deadline = clock_mono_ms () + DESTROY_WAIT_MS;
    while (self->in_flight > 0 && clock_mono_ms () < deadline) {
        struct pollfd pfd = { self->pipe[0], POLLIN, 0 };
        if (poll (&pfd, 1, 100) > 0)
            s_drain (self, false);
    }
    if (self->in_flight > 0) {
        /*  A thread still holds its job and the pipe: leave both to it
            (the process is ending) rather than free them under it.      */
        log_warn ("files: %zu request(s) to agents still running at exit", self->in_flight);
        *self_p = NULL;
        return;
    }
    close (self->pipe[0]);
    close (self->pipe[1]);
    free (self);
    *self_p = NULL;
}

void
files_serve (files_t *self, master_t *master, restapi_call_t *call, int64_t now_ms)
{
    assert (self && master && call && call->req);
    bool read = strcmp (call->path, "/tasks/files/read") == 0;
    assert (read || strcmp (call->path, "/tasks/files/browse") == 0);
    const char *task_id = restapi_query (call, "task_id");
    const char *fw = restapi_query (call, "framework_id");
    /*  The agent calls it path; for a read, file is a synonym.            */
    const char *path_name = "path";
    const char *path = restapi_query (call, "path");
    if (!path && read) {
        path_name = "file";
        path = restapi_query (call, "file");
    }
    const char *offset_text = read ? restapi_query (call, "offset") : NULL;
    const char *length_text = read ? restapi_query (call, "length") : NULL;
    long long offset = offset_text ? s_count (offset_text) : 0;
    if (!task_id || !proto_id_valid (task_id)) {
        restapi_error (call, 400, "task_id", "%s %s needs ?task_id=ID (a valid id)",
                       call->method, call->path);
        return;
    }
    if (fw && !proto_id_valid (fw)) {
        restapi_error (call, 400, "framework_id", "framework_id must be a valid id");
        return;
    }
    if (path && strlen (path) > MAX_PATH_PARAM) {
        restapi_error (call, 400, path_name, "%s is longer than %d characters", path_name,
                       MAX_PATH_PARAM);
        return;
    }
    if (offset < 0) {
        restapi_error (call, 400, "offset", "offset must be a non-negative integer (got '%s')",
                       offset_text);
        return;
    }
    if (length_text && s_count (length_text) < 0) {
        restapi_error (call, 400, "length", "length must be a non-negative integer (got '%s')",
                       length_text);
        return;
    }
    json_t *task = master_task_json (master, fw, task_id, now_ms);
    if (!task) {
        restapi_error (call, errno == EEXIST ? 409 : 404, NULL, "%s", cairn_strerror_last ());
        return;
    }
    const char *agent_id = json_string_value (json_object_get (task, "agent_id"));
    json_t *agent = json_object_get (task, "agent");
    const char *address = json_string_value (json_object_get (agent, "http_address"));
    const char *host = json_string_value (json_object_get (agent, "hostname"));
    if (!address || !s_address_ok (address)) {
        char *why = xasprintf ("%s %s", agent_id ? agent_id : "", !agent
                               ? "(the task's agent) is no longer known to the master"
                               : "(the task's agent) advertises no usable HTTP address");
        restapi_reply (call, 502, json_pack ("{s:s s:s}", "error", why, "agent_id",
                                             agent_id ? agent_id : ""));
        free (why);
        json_decref (task);
        return;
    }
    if (self->in_flight >= FILES_MAX_IN_FLIGHT) {
        restapi_error (call, 503, NULL, "too many file requests in flight (%d): try again",
                       FILES_MAX_IN_FLIGHT);
        json_decref (task);
        return;
    }
    /*  The agent's own parameters, with the master's framework id: a
        client may leave it out when the task id is unique.              */
    char *efw = s_escape (json_string_value (json_object_get (task, "framework_id")));
    char *etask = s_escape (task_id);
    char *epath = path ? s_escape (path) : NULL;
    char *query = xasprintf ("/files/%s?framework_id=%s&task_id=%s%s%s%s%s%s%s",
                             read ? "read" : "browse", efw, etask, epath ? "&path=" : "",
                             epath ? epath : "", offset_text ? "&offset=" : "",
                             offset_text ? offset_text : "", length_text ? "&length=" : "",
                             length_text ? length_text : "");
    free (efw);
    free (etask);
    free (epath);
    job_t *job = xzalloc (sizeof *job);
    job->url = httpc_url (address, query);
    free (query);
    job->cancel = &self->cancel;
    job->fd = self->pipe[1];
    job->read = read;
    job->offset = offset;
    job->agent_id = xstrdup (agent_id ? agent_id : "");
    job->agent_host = xstrdup (host ? host : "");
    job->agent_address = xstrdup (address);
    json_decref (task);

    pthread_attr_t attr;
    pthread_t thread;
    pthread_attr_init (&attr);
    pthread_attr_setdetachstate (&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create (&thread, &attr, s_worker, job);
    pthread_attr_destroy (&attr);
    if (rc != 0) {
        log_warn ("files: cannot start a thread: %s", strerror (rc));
        restapi_error (call, 503, NULL, "cannot forward the request now: %s", strerror (rc));
        s_job_destroy (&job);
        return;
    }
    job->req = restapi_call_take (call);
    job->next = self->jobs;
    self->jobs = job;
    self->in_flight++;
    log_debug ("files: %s %s -> %s", call->method, call->path, job->url);
}
