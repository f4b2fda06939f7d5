/*  fetch.c - reading tasks' files from their agents, in a thread.

    Owner side: requests wait in a list and go to the thread FETCH_WINDOW
    at a time over a pipe; each answer frees a slot. Thread
    side: blocking HTTP (httpc), one request at a time, with a cache of
    agent id -> HTTP address filled from the master's /state. Addresses
    are "HOST:PORT", or "https://HOST:PORT" for a daemon serving HTTPS:
    URLs are made with httpc_url, which keeps the scheme.

    Pipe messages, owner -> thread:
        ["MASTER"][[https://]host:port]
        ["TAIL"][key][agent][framework][task][file][lines]
        ["COPY"][key][agent][framework][task][file][dest]
    thread -> owner:
        ["DONE"][key]["1" | "0"][text]                                   */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cairn.h"
#include "error.h"
#include "fetch.h"
#include "httpc.h"
#include "util.h"

#define HTTP_TIMEOUT_MS 30000
#define TAIL_BYTES      65536
#define CHUNK           (4u << 20)      /* the agent's most per read */

struct _fetch_t {
    zsock_t *pipe;              /* the owner's end */
    zsock_t *backend;           /* the thread's end */
    pthread_t thread;
    zlistx_t *waiting;          /* zmsg_t * not yet sent to the thread */
    size_t in_flight;
};

/*  The thread  */

typedef struct {
    char *master_http;
    zhashx_t *agents;           /* agent id -> "[https://]host:port" */
} worker_t;

static int
s_refresh_agents (worker_t *w)
{
    if (!w->master_http)
        return error_set (EINVAL, "the master's HTTP address is not known yet");
    char *url = httpc_url (w->master_http, "/state");
    long status = 0;
    json_t *state = NULL;
    int rc = httpc_json ("GET", url, NULL, HTTP_TIMEOUT_MS, &status, &state);
    if (rc == 0 && (status != 200 || !state))
        rc = error_set (EIO, "%s answered %ld", url, status);
    free (url);
    if (rc < 0) {
        json_decref (state);
        return -1;
    }
    size_t i;
    json_t *a;
    json_array_foreach (json_object_get (state, "agents"), i, a) {
        const char *id = json_string_value (json_object_get (a, "id"));
        const char *http = json_string_value (json_object_get (a, "http_address"));
        if (id && http && *http)
            zhashx_update (w->agents, id, xstrdup (http));
    }
    json_decref (state);
    return 0;
}

static const char *
s_agent (worker_t *w, const char *agent_id)
{
    const char *http = zhashx_lookup (w->agents, agent_id);
    if (!http && s_refresh_agents (w) == 0)
        http = zhashx_lookup (w->agents, agent_id);
    if (!http && errno != EIO)
        error_set (ENOENT, "agent %s is not known to the master", agent_id);
    return http;
}

/*  GET path?query on the agent: 0 with the body, or -1 with a sentence.  */
static int
s_get (worker_t *w, const char *agent_id, const char *what, char **body, size_t *size)
{
    const char *http = s_agent (w, agent_id);
    if (!http)
        return -1;
    char *url = httpc_url (http, what);
    long status = 0;
    int rc = httpc_get (url, HTTP_TIMEOUT_MS, &status, body, size);
    if (rc == 0 && status != 200) {
        json_t *err = json_loadb (*body, *size, 0, NULL);
        const char *text = json_string_value (json_object_get (err, "error"));
        rc = error_set (status == 404 ? ENOENT : EIO, "agent %s: %s", agent_id,
                        text ? text : "an error");
        json_decref (err);
        free (*body);
        *body = NULL;
    }
    free (url);
    return rc;
}

static char *
s_tail (worker_t *w, char **f, bool *ok)
{
    const char *agent = f[2], *fw = f[3], *task = f[4], *file = f[5];
    int lines = atoi (f[6]);
    char *body = NULL;
    size_t size = 0;
    char *what = xasprintf ("/files/browse?framework_id=%s&task_id=%s", fw, task);
    int rc = s_get (w, agent, what, &body, &size);
    free (what);
    if (rc < 0)
        return *ok = false, xstrdup (cairn_strerror_last ());
    long long file_size = 0;
    json_t *list = json_loadb (body, size, 0, NULL);
    free (body);
    size_t i;
    json_t *e;
    json_array_foreach (list, i, e)
        if (strcmp (json_string_value (json_object_get (e, "name")) ?: "", file) == 0)
            file_size = json_integer_value (json_object_get (e, "size"));
    json_decref (list);
    long long offset = file_size > TAIL_BYTES ? file_size - TAIL_BYTES : 0;
    what = xasprintf ("/files/read?framework_id=%s&task_id=%s&path=%s&offset=%lld&length=%u",
                      fw, task, file, offset, TAIL_BYTES);
    rc = s_get (w, agent, what, &body, &size);
    free (what);
    if (rc < 0)
        return *ok = false, xstrdup (cairn_strerror_last ());
    /*  The last `lines` lines, without a trailing newline.               */
    while (size > 0 && body[size - 1] == '\n')
        size--;
    body[size] = '\0';
    char *start = body + size;
    int n = 0;
    while (start > body && n < lines) {
        start--;
        if (*start == '\n' && ++n == lines) {
            start++;
            break;
        }
    }
    char *text = xstrdup (start);
    free (body);
    *ok = true;
    return text;
}

static char *
s_copy (worker_t *w, char **f, bool *ok)
{
    const char *agent = f[2], *fw = f[3], *task = f[4], *file = f[5], *dest = f[6];
    *ok = false;
    char *dir = xstrdup (dest);
    char *slash = strrchr (dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (util_mkdir_p (dir, 0755) < 0) {
            free (dir);
            return xstrdup (cairn_strerror_last ());
        }
    }
    free (dir);
    int fd = open (dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return xasprintf ("%s: %s", dest, strerror (errno));
    long long offset = 0;
    for (;;) {
        char *body = NULL;
        size_t size = 0;
        char *what = xasprintf ("/files/read?framework_id=%s&task_id=%s&path=%s&offset=%lld"
                                "&length=%u", fw, task, file, offset, CHUNK);
        int rc = s_get (w, agent, what, &body, &size);
        free (what);
        if (rc < 0) {
            close (fd);
            return xstrdup (cairn_strerror_last ());
        }
        size_t done = 0;
        while (done < size) {
            ssize_t n = write (fd, body + done, size - done);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                char *text = xasprintf ("%s: %s", dest, strerror (errno));
                free (body);
                close (fd);
                return text;
            }
            done += (size_t) n;
        }
        free (body);
        offset += (long long) size;
        if (size < CHUNK)
            break;
    }
    if (close (fd) < 0)
        return xasprintf ("%s: %s", dest, strerror (errno));
    *ok = true;
    return xasprintf ("%lld", offset);
}

static void
s_worker (zsock_t *pipe)
{
    worker_t w = { NULL, zhashx_new () };
    zhashx_set_destructor (w.agents, (zhashx_destructor_fn *) zstr_free);
    for (;;) {
        zmsg_t *msg = zmsg_recv (pipe);
        if (!msg)
            break;
        char *f[8] = { 0 };
        int n = 0;
        for (zframe_t *fr = zmsg_first (msg); fr && n < 8; fr = zmsg_next (msg))
            f[n++] = zframe_strdup (fr);
        bool term = n > 0 && strcmp (f[0], "$TERM") == 0;
        if (n == 2 && strcmp (f[0], "MASTER") == 0) {
            free (w.master_http);
            w.master_http = xstrdup (f[1]);
        }
        else if (n == 7 && (strcmp (f[0], "TAIL") == 0 || strcmp (f[0], "COPY") == 0)) {
            bool ok = false;
            char *text = f[0][0] == 'T' ? s_tail (&w, f, &ok) : s_copy (&w, f, &ok);
            zstr_sendx (pipe, "DONE", f[1], ok ? "1" : "0", text, NULL);
            free (text);
        }
        for (int i = 0; i < n; i++)
            free (f[i]);
        zmsg_destroy (&msg);
        if (term)
            break;
    }
    free (w.master_http);
    zhashx_destroy (&w.agents);
}

/*  A thread of our own rather than a zactor, whose thread is detached:
    fetch_destroy joins it, so its thread-local state (libcurl's TLS
    library keeps some) is freed before the program goes on to exit.    */
static void *
s_thread (void *arg)
{
    s_worker (arg);
    return NULL;
}

/*  The owner's side  */

fetch_t *
fetch_new (void)
{
    fetch_t *self = xzalloc (sizeof *self);
    self->pipe = zsys_create_pipe (&self->backend);
    if (!self->pipe || pthread_create (&self->thread, NULL, s_thread, self->backend) != 0)
        oom_abort ();
    self->waiting = zlistx_new ();
    zlistx_set_destructor (self->waiting, (zlistx_destructor_fn *) zmsg_destroy);
    return self;
}

void
fetch_destroy (fetch_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    fetch_t *self = *self_p;
    zstr_send (self->pipe, "$TERM");
    pthread_join (self->thread, NULL);
    zsock_destroy (&self->pipe);
    zsock_destroy (&self->backend);
    zlistx_destroy (&self->waiting);
    free (self);
    *self_p = NULL;
}

zsock_t *
fetch_sock (fetch_t *self)
{
    return self->pipe;
}

void
fetch_set_master (fetch_t *self, const char *master_http)
{
    zstr_sendx (self->pipe, "MASTER", master_http, NULL);
}

static void
s_pump (fetch_t *self)
{
    zmsg_t *msg;
    while (self->in_flight < FETCH_WINDOW && (msg = zlistx_first (self->waiting))) {
        zlistx_detach_cur (self->waiting);
        zmsg_send (&msg, self->pipe);
        self->in_flight++;
    }
}

static void
s_request (fetch_t *self, const char *kind, const char *key, const char *agent_id,
           const char *framework_id, const char *task_id, const char *file, const char *last)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, kind);
    zmsg_addstr (msg, key);
    zmsg_addstr (msg, agent_id);
    zmsg_addstr (msg, framework_id);
    zmsg_addstr (msg, task_id);
    zmsg_addstr (msg, file);
    zmsg_addstr (msg, last);
    zlistx_add_end (self->waiting, msg);
    s_pump (self);
}

void
fetch_tail (fetch_t *self, const char *key, const char *agent_id, const char *framework_id,
            const char *task_id, const char *file, int lines)
{
    char n[16];
    snprintf (n, sizeof n, "%d", lines);
    s_request (self, "TAIL", key, agent_id, framework_id, task_id, file, n);
}

void
fetch_copy (fetch_t *self, const char *key, const char *agent_id, const char *framework_id,
            const char *task_id, const char *file, const char *dest)
{
    s_request (self, "COPY", key, agent_id, framework_id, task_id, file, dest);
}

int
fetch_recv (fetch_t *self, fetch_result_t *result)
{
    zsock_t *sock = self->pipe;
    if (!(zsock_events (sock) & ZMQ_POLLIN))
        return 0;
    char *kind = NULL, *key = NULL, *ok = NULL, *text = NULL;
    if (zstr_recvx (sock, &kind, &key, &ok, &text, NULL) < 4) {
        zstr_free (&kind);
        zstr_free (&key);
        zstr_free (&ok);
        zstr_free (&text);
        return 0;
    }
    zstr_free (&kind);
    result->key = key;
    result->ok = ok[0] == '1';
    result->text = text;
    zstr_free (&ok);
    self->in_flight--;
    s_pump (self);
    return 1;
}

void
fetch_result_clear (fetch_result_t *result)
{
    zstr_free (&result->key);
    zstr_free (&result->text);
}

size_t
fetch_pending (fetch_t *self)
{
    return self->in_flight + zlistx_size (self->waiting);
}
