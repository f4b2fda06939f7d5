/*  simnet.c - many protocol sessions in one thread (see simnet.h).

    Each session is a DEALER socket whose ZMQ_FD (the socket's mailbox,
    an eventfd) sits in one epoll set. ZMQ_FD only says that the socket
    may have something to do, and it is edge-like: after it fires, the
    socket must be read until ZeroMQ says EAGAIN, or it will not fire
    again. Sending on a socket can also consume that signal (ZeroMQ
    processes pending commands on every call), so a session that sent
    something is put on the dirty list and read once more before the
    next wait.

    Closing from inside a callback only unlinks the session; the socket
    is destroyed at the end of the pass, when no caller holds it.      */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <czmq.h>

#include "error.h"
#include "log.h"
#include "simnet.h"
#include "transport.h"

#define READ_BUDGET 64          /* messages read from one session per pass */
#define EVENTS 1024

struct _simconn_t {
    zsock_t *sock;
    simnet_fn *fn;
    void *arg;
    bool dirty;                 /* on the dirty list */
    bool closed;                /* closed from a callback, destroyed later */
    simconn_t *next_dirty;
    simconn_t *next_dead;
};

struct _simnet_t {
    int epfd;
    size_t conns;
    simconn_t *dirty;           /* to read again before waiting */
    simconn_t *dead;            /* closed, to destroy after the pass */
    int watch_fd;
    bool watch_ready;
    transport_curve_t curve;    /* CURVE credentials, or none */
};

size_t
simnet_max_conns (void)
{
    struct rlimit rl;
    if (getrlimit (RLIMIT_NOFILE, &rl) < 0)
        return 0;
    rlim_t hard = rl.rlim_max == RLIM_INFINITY ? 1048576 : rl.rlim_max;
    if (hard <= SIMNET_FILES_BASE)
        return 0;
    return (size_t) (hard - SIMNET_FILES_BASE) / SIMNET_FILES_PER_CONN;
}

simnet_t *
simnet_new (size_t max_conns)
{
    rlim_t need = (rlim_t) max_conns * SIMNET_FILES_PER_CONN + SIMNET_FILES_BASE;
    struct rlimit rl;
    if (getrlimit (RLIMIT_NOFILE, &rl) < 0) {
        error_set (errno, "cannot read the open-file limit: %s", strerror (errno));
        return NULL;
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
            error_set (EMFILE, "%zu sessions in one process need %lu open files, but this "
                       "process may open at most %lu (hard limit, ulimit -Hn): use more "
                       "processes (at most %zu sessions each) or raise the limit",
                       max_conns, (unsigned long) need, (unsigned long) rl.rlim_max,
                       simnet_max_conns ());
            return NULL;
        }
        rl.rlim_cur = need;
        if (setrlimit (RLIMIT_NOFILE, &rl) < 0) {
            error_set (errno, "cannot raise the open-file limit to %lu: %s",
                       (unsigned long) need, strerror (errno));
            return NULL;
        }
    }
    /*  ZeroMQ refuses sockets beyond its context's limit; its own cap
        (ZMQ_SOCKET_LIMIT) is fixed when libzmq is built. A closed socket
        keeps its slot until ZeroMQ's reaper thread gets to it, and
        sessions that reconnect close and open sockets in bursts, so the
        limit has room for a second set (CZMQ asserts when a socket
        cannot be made).                                                  */
    size_t sockets = 2 * max_conns + 64;
    void *probe = zmq_ctx_new ();
    int cap = probe ? zmq_ctx_get (probe, ZMQ_SOCKET_LIMIT) : -1;
    if (probe)
        zmq_ctx_term (probe);
    if (cap > 0 && max_conns + 64 > (size_t) cap) {
        error_set (EMFILE, "%zu sessions need %zu ZeroMQ sockets, but this libzmq allows at "
                   "most %d per process: use more processes", max_conns, max_conns + 64, cap);
        return NULL;
    }
    if (cap > 0 && sockets > (size_t) cap)
        sockets = (size_t) cap;
    zsys_set_max_sockets (sockets);
    simnet_t *self = xzalloc (sizeof *self);
    self->epfd = epoll_create1 (EPOLL_CLOEXEC);
    if (self->epfd < 0) {
        error_set (errno, "epoll_create1: %s", strerror (errno));
        free (self);
        return NULL;
    }
    self->watch_fd = -1;
    return self;
}

static void
s_conn_free (simconn_t *conn)
{
    zsock_destroy (&conn->sock);
    free (conn);
}

static void
s_reap (simnet_t *self)
{
    while (self->dead) {
        simconn_t *conn = self->dead;
        self->dead = conn->next_dead;
        s_conn_free (conn);
    }
}

void
simnet_destroy (simnet_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    simnet_t *self = *self_p;
    s_reap (self);
    /*  Sessions the caller did not close are the caller's to close; the
        ones it did are gone. Nothing else to free here.                  */
    close (self->epfd);
    transport_curve_fini (&self->curve);
    free (self);
    *self_p = NULL;
}

int
simnet_set_curve (simnet_t *self, const char *master_public_key, const char *cert_file)
{
    assert (self && master_public_key && cert_file);
    return transport_curve_load (&self->curve, master_public_key, cert_file);
}

simconn_t *
simnet_connect (simnet_t *self, const char *endpoint, const char *source, const char *identity,
                simnet_fn *fn, void *arg)
{
    assert (self && endpoint && fn);
    simconn_t *conn = xzalloc (sizeof *conn);
    conn->fn = fn;
    conn->arg = arg;
    conn->sock = zsock_new (ZMQ_DEALER);
    if (!conn->sock) {
        error_set (errno ? errno : EMFILE, "cannot make a ZeroMQ socket: %s (sockets open: %zu)",
                   zmq_strerror (errno), self->conns);
        free (conn);
        return NULL;
    }
    transport_tune (conn->sock);
    /*  The master pings every few seconds: TCP keepalives add nothing
        here and cost a timer per connection in the kernel.              */
    zsock_set_tcp_keepalive (conn->sock, 0);
    zsock_set_reconnect_ivl (conn->sock, 100);
    zsock_set_reconnect_ivl_max (conn->sock, 2000);
    if (identity)
        zsock_set_identity (conn->sock, identity);
    transport_curve_apply (&self->curve, conn->sock);
    char ep[512];
    if (source) {
        /*  "tcp://SOURCE:0;HOST:PORT": ZeroMQ binds the connection's
            local end to SOURCE before connecting.                        */
        const char *rest = strncmp (endpoint, "tcp://", 6) == 0 ? endpoint + 6 : endpoint;
        snprintf (ep, sizeof ep, "tcp://%s:0;%s", source, rest);
    }
    else
        snprintf (ep, sizeof ep, "%s", endpoint);
    int fd = -1;
    size_t fd_size = sizeof fd;
    if (zsock_connect (conn->sock, "%s", ep) < 0
        || zmq_getsockopt (zsock_resolve (conn->sock), ZMQ_FD, &fd, &fd_size) < 0) {
        error_set (errno, "cannot connect to %s: %s", ep, zmq_strerror (errno));
        s_conn_free (conn);
        return NULL;
    }
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = conn };
    if (epoll_ctl (self->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        error_set (errno, "epoll_ctl: %s", strerror (errno));
        s_conn_free (conn);
        return NULL;
    }
    self->conns++;
    return conn;
}

void
simnet_close (simnet_t *self, simconn_t **conn_p)
{
    if (!conn_p || !*conn_p)
        return;
    simconn_t *conn = *conn_p;
    *conn_p = NULL;
    assert (!conn->closed);
    int fd = -1;
    size_t fd_size = sizeof fd;
    if (zmq_getsockopt (zsock_resolve (conn->sock), ZMQ_FD, &fd, &fd_size) == 0)
        epoll_ctl (self->epfd, EPOLL_CTL_DEL, fd, NULL);
    conn->closed = true;
    conn->fn = NULL;
    conn->next_dead = self->dead;
    self->dead = conn;
    self->conns--;
}

static void
s_mark_dirty (simnet_t *self, simconn_t *conn)
{
    if (!conn->dirty && !conn->closed) {
        conn->dirty = true;
        conn->next_dirty = self->dirty;
        self->dirty = conn;
    }
}

int
simnet_send (simnet_t *self, simconn_t *conn, const proto_msg_t *msg)
{
    assert (conn && !conn->closed);
    int rc = transport_send (conn->sock, NULL, msg);
    s_mark_dirty (self, conn);
    return rc;
}

int
simnet_send_take (simnet_t *self, simconn_t *conn, proto_msg_t **msg_p)
{
    int rc = simnet_send (self, conn, *msg_p);
    proto_msg_destroy (msg_p);
    return rc;
}

/*  Reads up to READ_BUDGET messages; a session with more left is read
    again before the next wait. Returns how many were handled.            */
static int
s_read (simnet_t *self, simconn_t *conn)
{
    int handled = 0;
    while (!conn->closed && handled < READ_BUDGET) {
        proto_msg_t *msg = NULL;
        proto_fault_t fault;
        if (transport_recv (conn->sock, false, NULL, &msg, &fault) == 0)
            return handled;
        handled++;
        conn->fn (conn, msg, msg ? NULL : &fault, conn->arg);
    }
    if (!conn->closed)
        s_mark_dirty (self, conn);
    return handled;
}

int
simnet_poll (simnet_t *self, int timeout_ms)
{
    int handled = 0;
    self->watch_ready = false;
    /*  Sessions that sent or were not read to the end: their mailbox
        signal may already be spent.                                      */
    simconn_t *dirty = self->dirty;
    self->dirty = NULL;
    while (dirty) {
        simconn_t *conn = dirty;
        dirty = conn->next_dirty;
        conn->dirty = false;
        handled += s_read (self, conn);
    }
    if (handled > 0 || self->dirty)
        timeout_ms = 0;
    struct epoll_event events[EVENTS];
    int n = epoll_wait (self->epfd, events, EVENTS, timeout_ms);
    if (n < 0) {
        s_reap (self);
        return errno == EINTR ? -1 : handled;
    }
    for (int i = 0; i < n; i++) {
        if (events[i].data.ptr == NULL) {
            self->watch_ready = true;
            continue;
        }
        simconn_t *conn = events[i].data.ptr;
        if (!conn->closed)
            handled += s_read (self, conn);
    }
    s_reap (self);
    return handled;
}

void
simnet_watch_fd (simnet_t *self, int fd)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
    if (epoll_ctl (self->epfd, EPOLL_CTL_ADD, fd, &ev) == 0)
        self->watch_fd = fd;
}

bool
simnet_fd_ready (simnet_t *self)
{
    return self->watch_ready;
}

size_t
simnet_conns (simnet_t *self)
{
    return self->conns;
}

/*  Timers: a binary min-heap of pointers; each timer knows its slot.     */

struct _simheap_t {
    simtimer_t **items;
    size_t size, cap;
};

simheap_t *
simheap_new (void)
{
    return xzalloc (sizeof (simheap_t));
}

void
simheap_destroy (simheap_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    simheap_t *self = *self_p;
    for (size_t i = 0; i < self->size; i++)
        self->items[i]->slot = 0;
    free (self->items);
    free (self);
    *self_p = NULL;
}

static void
s_place (simheap_t *self, size_t i, simtimer_t *t)
{
    self->items[i] = t;
    t->slot = i + 1;
}

static void
s_sift_up (simheap_t *self, size_t i)
{
    simtimer_t *t = self->items[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (self->items[parent]->due <= t->due)
            break;
        s_place (self, i, self->items[parent]);
        i = parent;
    }
    s_place (self, i, t);
}

static void
s_sift_down (simheap_t *self, size_t i)
{
    simtimer_t *t = self->items[i];
    while (true) {
        size_t child = 2 * i + 1;
        if (child >= self->size)
            break;
        if (child + 1 < self->size && self->items[child + 1]->due < self->items[child]->due)
            child++;
        if (self->items[child]->due >= t->due)
            break;
        s_place (self, i, self->items[child]);
        i = child;
    }
    s_place (self, i, t);
}

void
simheap_arm (simheap_t *self, simtimer_t *t, int64_t due)
{
    if (t->slot) {
        int64_t old = t->due;
        t->due = due;
        if (due < old)
            s_sift_up (self, t->slot - 1);
        else
            s_sift_down (self, t->slot - 1);
        return;
    }
    if (self->size == self->cap) {
        self->cap = self->cap ? self->cap * 2 : 1024;
        self->items = realloc (self->items, self->cap * sizeof *self->items);
        if (!self->items)
            oom_abort ();
    }
    t->due = due;
    self->items[self->size++] = t;
    t->slot = self->size;
    s_sift_up (self, self->size - 1);
}

void
simheap_cancel (simheap_t *self, simtimer_t *t)
{
    if (!t->slot)
        return;
    size_t i = t->slot - 1;
    t->slot = 0;
    simtimer_t *last = self->items[--self->size];
    if (i == self->size)
        return;
    s_place (self, i, last);
    if (i > 0 && self->items[(i - 1) / 2]->due > last->due)
        s_sift_up (self, i);
    else
        s_sift_down (self, i);
}

simtimer_t *
simheap_pop_due (simheap_t *self, int64_t now)
{
    if (self->size == 0 || self->items[0]->due > now)
        return NULL;
    simtimer_t *t = self->items[0];
    simheap_cancel (self, t);
    return t;
}

int64_t
simheap_next (simheap_t *self)
{
    return self->size ? self->items[0]->due : INT64_MAX;
}

size_t
simheap_size (simheap_t *self)
{
    return self->size;
}
