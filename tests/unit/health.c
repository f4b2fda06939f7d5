/*  health.c - health checks on a real zloop: TCP and HTTP against small
    servers this test runs on the same loop, and commands in a temporary
    sandbox. Intervals are 100 ms (the codec's minimum); bounds on time
    are generous.                                                         */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <czmq.h>

#include "error.h"
#include "health.h"
#include "proto.h"
#include "tap.h"
#include "transport.h"
#include "util.h"

static zloop_t *s_loop;

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
    (void) id;                  /* one-shot: gone once it fired */
}

/*  What a health_t told us.  */

#define MAX_EVENTS 64
typedef struct {
    health_event_kind_t kind;
    bool healthy;
    int failures;
    char why[700];
    int64_t at;
} event_t;

typedef struct {
    event_t ev[MAX_EVENTS];
    int n;
    int changes, fails;
    health_t **destroy_on_fail;     /* destroy it from the callback */
} rec_t;

static void
s_on_health (void *arg, const char *task_id, const health_event_t *event)
{
    rec_t *rec = arg;
    if (rec->n < MAX_EVENTS) {
        event_t *e = &rec->ev[rec->n++];
        e->kind = event->kind;
        e->healthy = event->healthy;
        e->failures = event->failures;
        snprintf (e->why, sizeof e->why, "%s", event->why);
        e->at = clock_mono_ms ();
    }
    if (event->kind == HEALTH_CHANGED)
        rec->changes++;
    else {
        rec->fails++;
        if (rec->destroy_on_fail)
            health_destroy (rec->destroy_on_fail);
    }
}

static const event_t *
s_last (rec_t *rec)
{
    static const event_t none = { .why = "(none)" };
    return rec->n ? &rec->ev[rec->n - 1] : &none;
}

/*  Runs the loop until `count` events of `kind` arrived, or ms passed.   */
static bool
s_wait (rec_t *rec, health_event_kind_t kind, int count, int ms)
{
    for (int waited = 0; waited < ms; waited += 10) {
        if ((kind == HEALTH_CHANGED ? rec->changes : rec->fails) >= count)
            return true;
        s_run (10);
    }
    return (kind == HEALTH_CHANGED ? rec->changes : rec->fails) >= count;
}

static proto_health_t *
s_spec (const char *type, const char *command, const char *path)
{
    proto_health_t *spec = proto_health_new ();
    free (spec->type);
    spec->type = xstrdup (type);
    free (spec->command);
    spec->command = xstrdup (command ? command : "");
    free (spec->path);
    spec->path = xstrdup (path ? path : "");
    spec->delay_ms = 0;
    spec->interval_ms = 100;
    spec->timeout_ms = 1000;
    spec->grace_ms = 0;
    spec->max_failures = 3;
    return spec;
}

/*  A small TCP/HTTP server on the loop.  */

#define MAX_CLIENTS 16
typedef struct server server_t;
typedef struct {
    server_t *server;
    int fd;
    char buf[1024];
    size_t len;
} client_t;

struct server {
    int fd;
    int port;
    int accepts;
    int status;                 /* 0: close at once (TCP); -1: not HTTP */
    const char *pattern;        /* if set: 'S' 200, 'F' 500, per request */
    int requests;
    char request_line[256];
    client_t *clients[MAX_CLIENTS];
};

static void
s_client_close (client_t *c)
{
    zmq_pollitem_t item = { NULL, c->fd, 0, 0 };
    zloop_poller_end (s_loop, &item);
    close (c->fd);
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (c->server->clients[i] == c)
            c->server->clients[i] = NULL;
    free (c);
}

static int
s_on_client (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    client_t *c = arg;
    server_t *s = c->server;
    ssize_t n = read (c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len);
    if (n < 0 && errno == EAGAIN)
        return 0;
    if (n <= 0) {
        s_client_close (c);
        return 0;
    }
    c->len += (size_t) n;
    c->buf[c->len] = '\0';
    if (!strstr (c->buf, "\r\n\r\n") && c->len < sizeof c->buf - 1)
        return 0;
    snprintf (s->request_line, sizeof s->request_line, "%.*s", (int) strcspn (c->buf, "\r\n"),
              c->buf);
    int status = s->status;
    if (s->pattern)
        status = s->pattern[s->requests % strlen (s->pattern)] == 'S' ? 200 : 500;
    s->requests++;
    char reply[256];
    if (status < 0)
        snprintf (reply, sizeof reply, "SSH-2.0-OpenSSH_9.2\r\n");
    else
        snprintf (reply, sizeof reply, "HTTP/1.1 %d Whatever\r\nContent-Length: 2\r\n"
                  "Connection: close\r\n\r\nhi", status);
    if (write (c->fd, reply, strlen (reply)) < 0)
        diag ("server write: %s", strerror (errno));
    s_client_close (c);
    return 0;
}

static int
s_on_accept (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    server_t *s = arg;
    int fd = accept4 (s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return 0;
    s->accepts++;
    if (s->status == 0 && !s->pattern) {
        close (fd);
        return 0;
    }
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (!s->clients[i]) {
            client_t *c = xzalloc (sizeof *c);
            c->server = s;
            c->fd = fd;
            s->clients[i] = c;
            zmq_pollitem_t citem = { NULL, fd, ZMQ_POLLIN, 0 };
            zloop_poller (loop, &citem, s_on_client, c);
            return 0;
        }
    close (fd);
    return 0;
}

/*  Listens on 127.0.0.1, on a free port; with `serve`, accepts on the
    loop (else connections only wait in the backlog).                     */
static server_t *
s_server_new (int status, bool serve)
{
    server_t *s = xzalloc (sizeof *s);
    s->status = status;
    s->fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET };
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (s->fd < 0 || bind (s->fd, (struct sockaddr *) &addr, sizeof addr) < 0
        || listen (s->fd, 64) < 0 || getsockname (s->fd, (struct sockaddr *) &addr, &len) < 0) {
        diag ("cannot listen: %s", strerror (errno));
        exit (1);
    }
    s->port = ntohs (addr.sin_port);
    if (serve) {
        zmq_pollitem_t item = { NULL, s->fd, ZMQ_POLLIN, 0 };
        zloop_poller (s_loop, &item, s_on_accept, s);
    }
    return s;
}

static void
s_server_destroy (server_t **s_p)
{
    server_t *s = *s_p;
    if (!s)
        return;
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (s->clients[i])
            s_client_close (s->clients[i]);
    zmq_pollitem_t item = { NULL, s->fd, 0, 0 };
    zloop_poller_end (s_loop, &item);
    close (s->fd);
    free (s);
    *s_p = NULL;
}

/*  True while a process that is not a zombie is in process group pgid.  */
static bool
s_group_alive (pid_t pgid)
{
    DIR *d = opendir ("/proc");
    if (!d)
        return false;
    bool alive = false;
    struct dirent *de;
    while (!alive && (de = readdir (d))) {
        if (!isdigit ((unsigned char) de->d_name[0]))
            continue;
        char path[300];
        snprintf (path, sizeof path, "/proc/%s/stat", de->d_name);
        char *text = util_read_file (path, 4096, NULL);
        if (!text)
            continue;
        char *p = strrchr (text, ')');
        char state;
        int ppid, pgrp;
        if (p && sscanf (p + 1, " %c %d %d", &state, &ppid, &pgrp) == 3 && pgrp == pgid
            && state != 'Z' && state != 'X')
            alive = true;
        free (text);
    }
    closedir (d);
    return alive;
}

static bool
s_wait_group_gone (pid_t pgid, int ms)
{
    for (int waited = 0; waited < ms; waited += 20) {
        if (!s_group_alive (pgid))
            return true;
        s_run (20);
    }
    return !s_group_alive (pgid);
}

static pid_t
s_read_pid (const char *dir, const char *name, int ms)
{
    char path[600];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    for (int waited = 0; waited <= ms; waited += 20) {
        char *text = util_read_file (path, 64, NULL);
        int pid = text ? atoi (text) : 0;
        free (text);
        if (pid > 1)
            return pid;
        s_run (20);
    }
    return 0;
}

static char *s_env[] = { "PATH=/usr/local/bin:/usr/bin:/bin", "FOO=bar baz", NULL };

/*  Tests  */

static void
test_invalid (void)
{
    rec_t rec = { 0 };
    proto_health_t *spec = s_spec ("ftp", NULL, NULL);
    errno = 0;
    ok (!health_new (s_loop, spec, "t", 80, NULL, s_env, s_on_health, &rec, clock_mono_ms ())
        && errno == EINVAL, "an unknown type is refused");
    proto_health_destroy (&spec);
    spec = s_spec ("http", NULL, "/ok");
    ok (!health_new (s_loop, spec, "t", 0, NULL, s_env, s_on_health, &rec, clock_mono_ms ()),
        "an http check without a port is refused: %s", cairn_strerror_last ());
    free (spec->path);
    spec->path = xstrdup ("/a b\r\nX: y");
    ok (!health_new (s_loop, spec, "t", 80, NULL, s_env, s_on_health, &rec, clock_mono_ms ()),
        "an http path with spaces or line breaks is refused");
    proto_health_destroy (&spec);
    spec = s_spec ("command", "", NULL);
    ok (!health_new (s_loop, spec, "t", 0, NULL, s_env, s_on_health, &rec, clock_mono_ms ()),
        "a command check without a command is refused");
    proto_health_destroy (&spec);
}

static void
test_port (void)
{
    cairn_resources_t *r = cairn_resources_parse ("cpus:1;ports:[31000-31001,31005-31005]");
    ok (r != NULL, "resources with ports parse");
    cmp_int (health_task_port (r, 0), 31000, "PORT0 is the first port");
    cmp_int (health_task_port (r, 1), 31001, "PORT1 the next");
    cmp_int (health_task_port (r, 2), 31005, "PORT2 is in the second range");
    cmp_int (health_task_port (r, 3), 0, "there is no PORT3");
    cairn_resources_destroy (&r);
    r = cairn_resources_parse ("cpus:1");
    cmp_int (health_task_port (r, 0), 0, "a task without ports has no PORT0");
    cairn_resources_destroy (&r);
}

static void
test_tcp (void)
{
    server_t *srv = s_server_new (0, true);
    rec_t rec = { 0 };
    proto_health_t *spec = s_spec ("tcp", NULL, NULL);
    spec->max_failures = 2;
    health_t *h = health_new (s_loop, spec, "tcp-task", srv->port, NULL, s_env, s_on_health,
                              &rec, clock_mono_ms ());
    proto_health_destroy (&spec);
    ok (h != NULL, "a tcp check starts");
    cmp_int (health_healthy (h), -1, "healthy is unknown before the first check");
    s_wait (&rec, HEALTH_CHANGED, 1, 2000);
    ok (rec.n == 1 && rec.ev[0].healthy, "a listening port is healthy: %s", s_last (&rec)->why);
    ok (strstr (rec.ev[0].why, "succeeded") != NULL, "the reason says so: %s", rec.ev[0].why);
    cmp_int (health_healthy (h), 1, "health_healthy is 1");
    s_run (500);
    ok (health_checks (h) >= 3 && health_checks (h) <= 12,
        "checks run every interval (%d in about 600 ms)", (int) health_checks (h));
    ok (srv->accepts >= 3, "the server saw the connections (%d)", srv->accepts);
    cmp_int (rec.changes, 1, "only changes are reported: still one event");

    /*  The port closes: unhealthy, then the threshold.  */
    s_server_destroy (&srv);
    rec.destroy_on_fail = &h;
    ok (s_wait (&rec, HEALTH_FAILED, 1, 2000), "max_failures failures reach the threshold");
    cmp_int (rec.n, 3, "three events: healthy, unhealthy, failed");
    ok (rec.n == 3 && rec.ev[1].kind == HEALTH_CHANGED && !rec.ev[1].healthy
        && rec.ev[1].failures == 1, "the first failure turns healthy false: %s", rec.ev[1].why);
    ok (strstr (rec.ev[1].why, "refused") != NULL, "the reason names the refusal");
    ok (rec.n == 3 && rec.ev[2].kind == HEALTH_FAILED && rec.ev[2].failures == 2,
        "the threshold comes after max_failures (2) consecutive failures: %s", rec.ev[2].why);
    ok (h == NULL, "the callback destroyed the check");
    s_run (300);
    cmp_int (rec.n, 3, "nothing fires after it is destroyed");
}

static void
test_http (void)
{
    server_t *srv = s_server_new (200, true);
    rec_t rec = { 0 };
    proto_health_t *spec = s_spec ("http", NULL, "/health?x=1");
    health_t *h = health_new (s_loop, spec, "http-task", srv->port, NULL, s_env, s_on_health,
                              &rec, clock_mono_ms ());
    proto_health_destroy (&spec);
    s_wait (&rec, HEALTH_CHANGED, 1, 2000);
    ok (rec.n == 1 && rec.ev[0].healthy, "HTTP 200 is healthy: %s", s_last (&rec)->why);
    is (srv->request_line, "GET /health?x=1 HTTP/1.0", "the request is a GET of the path");
    srv->status = 500;
    s_wait (&rec, HEALTH_CHANGED, 2, 2000);
    ok (rec.n >= 2 && !rec.ev[1].healthy, "HTTP 500 turns healthy false: %s", rec.ev[1].why);
    ok (strstr (rec.ev[1].why, "returned 500") != NULL, "the reason names the status");
    ok (s_wait (&rec, HEALTH_FAILED, 1, 2000), "and the task is to be killed after the threshold");
    ok (s_last (&rec)->kind == HEALTH_FAILED && s_last (&rec)->failures == 3,
        "after max_failures (3): %s", s_last (&rec)->why);
    ok (health_failed (h) && health_failures (h) == 3, "health_failed, with 3 failures");
    int checks = (int) health_checks (h);
    s_run (300);
    cmp_int (health_checks (h), checks, "no check runs after the threshold");
    health_destroy (&h);
    ok (h == NULL, "health_destroy nulls the pointer");
    health_destroy (&h);

    /*  Redirects are healthy, client errors are not.  */
    srv->status = 302;
    rec = (rec_t) { 0 };
    spec = s_spec ("http", NULL, "status");
    spec->max_failures = 100;
    h = health_new (s_loop, spec, "http-task", srv->port, NULL, s_env, s_on_health, &rec,
                    clock_mono_ms ());
    proto_health_destroy (&spec);
    s_wait (&rec, HEALTH_CHANGED, 1, 2000);
    ok (rec.n == 1 && rec.ev[0].healthy, "HTTP 302 is healthy: %s", s_last (&rec)->why);
    is (srv->request_line, "GET /status HTTP/1.0", "a path without a slash gets one");
    srv->status = 404;
    s_wait (&rec, HEALTH_CHANGED, 2, 2000);
    ok (rec.n == 2 && !rec.ev[1].healthy, "HTTP 404 is not: %s", s_last (&rec)->why);
    srv->status = -1;
    int n = rec.n;
    s_run (300);
    ok (strstr (health_last (h), "not HTTP") != NULL, "a reply that is not HTTP fails: %s",
        health_last (h));
    cmp_int (rec.n, n, "without a change, no event");
    health_destroy (&h);

    /*  A success resets the count: failures never reach 3 in a row.  */
    srv->pattern = "FFS";
    srv->requests = 0;
    rec = (rec_t) { 0 };
    spec = s_spec ("http", NULL, "/");
    h = health_new (s_loop, spec, "http-task", srv->port, NULL, s_env, s_on_health, &rec,
                    clock_mono_ms ());
    proto_health_destroy (&spec);
    for (int waited = 0; waited < 3000 && srv->requests < 8; waited += 10)
        s_run (10);
    s_run (50);
    ok (srv->requests >= 8, "the checks went on (%d)", srv->requests);
    cmp_int (rec.fails, 0, "two failures, a success, two failures: no threshold");
    ok (rec.changes >= 4, "each flip is reported (%d changes)", rec.changes);
    bool alternate = true;
    for (int i = 1; i < rec.n; i++)
        if (rec.ev[i].healthy == rec.ev[i - 1].healthy)
            alternate = false;
    ok (alternate && rec.n > 0 && !rec.ev[0].healthy, "only changes: false, true, false, ...");
    health_destroy (&h);
    s_server_destroy (&srv);

    /*  A server that never answers: the check times out.  */
    srv = s_server_new (200, false);
    rec = (rec_t) { 0 };
    spec = s_spec ("http", NULL, "/");
    spec->timeout_ms = 200;
    spec->max_failures = 1;
    int64_t t0 = clock_mono_ms ();
    h = health_new (s_loop, spec, "http-task", srv->port, NULL, s_env, s_on_health, &rec, t0);
    proto_health_destroy (&spec);
    ok (s_wait (&rec, HEALTH_FAILED, 1, 2000), "a silent server fails the check");
    ok (strstr (s_last (&rec)->why, "timed out after 200 ms") != NULL, "as a timeout: %s",
        s_last (&rec)->why);
    ok (s_last (&rec)->at - t0 >= 190, "not before the timeout (%d ms)",
        (int) (s_last (&rec)->at - t0));
    health_destroy (&h);
    s_server_destroy (&srv);
}

static void
test_command (const char *sandbox)
{
    rec_t rec = { 0 };
    char *cmd = xasprintf ("test \"$FOO\" = 'bar baz' && test \"$(pwd -P)\" = '%s'", sandbox);
    proto_health_t *spec = s_spec ("command", cmd, NULL);
    free (cmd);
    health_t *h = health_new (s_loop, spec, "cmd-task", 0, sandbox, s_env, s_on_health, &rec,
                              clock_mono_ms ());
    proto_health_destroy (&spec);
    s_wait (&rec, HEALTH_CHANGED, 1, 2000);
    ok (rec.n == 1 && rec.ev[0].healthy,
        "a command exiting 0 (in the sandbox, with the task's environment) is healthy: %s",
        s_last (&rec)->why);
    health_destroy (&h);

    rec = (rec_t) { 0 };
    spec = s_spec ("command", "exit 1", NULL);
    spec->max_failures = 1;
    h = health_new (s_loop, spec, "cmd-task", 0, sandbox, s_env, s_on_health, &rec,
                    clock_mono_ms ());
    proto_health_destroy (&spec);
    ok (s_wait (&rec, HEALTH_FAILED, 1, 2000), "a command exiting 1 fails");
    ok (rec.n == 2 && !rec.ev[0].healthy && strstr (rec.ev[0].why, "status 1"),
        "healthy false, with the status: %s", rec.ev[0].why);
    health_destroy (&h);

    /*  A command that hangs: killed at the timeout, with its children.  */
    rec = (rec_t) { 0 };
    spec = s_spec ("command", "echo $$ > hang.pid; sleep 30 & sleep 30", NULL);
    spec->timeout_ms = 300;
    spec->max_failures = 1;
    int64_t t0 = clock_mono_ms ();
    h = health_new (s_loop, spec, "cmd-task", 0, sandbox, s_env, s_on_health, &rec, t0);
    proto_health_destroy (&spec);
    ok (s_wait (&rec, HEALTH_FAILED, 1, 3000), "a command past its timeout fails");
    int64_t took = s_last (&rec)->at - t0;
    ok (took >= 290 && took < 2500, "at the timeout (%d ms)", (int) took);
    ok (strstr (s_last (&rec)->why, "timed out after 300 ms") != NULL, "as a timeout: %s",
        s_last (&rec)->why);
    pid_t pgid = s_read_pid (sandbox, "hang.pid", 0);
    ok (pgid > 1, "the command ran in the sandbox (pid %d)", (int) pgid);
    ok (pgid > 1 && s_wait_group_gone (pgid, 2000), "its whole process group is gone");
    health_destroy (&h);

    /*  Destroyed while its command runs: the command goes too.  */
    rec = (rec_t) { 0 };
    spec = s_spec ("command", "echo $$ > busy.pid; sleep 30", NULL);
    spec->timeout_ms = 10000;
    h = health_new (s_loop, spec, "cmd-task", 0, sandbox, s_env, s_on_health, &rec,
                    clock_mono_ms ());
    proto_health_destroy (&spec);
    pgid = s_read_pid (sandbox, "busy.pid", 2000);
    ok (pgid > 1, "a long command check is running");
    health_destroy (&h);
    ok (pgid > 1 && s_wait_group_gone (pgid, 2000), "health_destroy kills its process group");
    cmp_int (rec.n, 0, "and reports nothing");
}

static void
test_grace (const char *sandbox)
{
    /*  Failures before the first success do not count inside grace.  */
    rec_t rec = { 0 };
    proto_health_t *spec = s_spec ("command", "test -e ready", NULL);
    spec->grace_ms = 5000;
    spec->max_failures = 1;
    health_t *h = health_new (s_loop, spec, "grace-task", 0, sandbox, s_env, s_on_health, &rec,
                              clock_mono_ms ());
    proto_health_destroy (&spec);
    for (int waited = 0; waited < 3000 && health_checks (h) < 3; waited += 10)
        s_run (10);
    ok (health_checks (h) >= 3, "failing checks ran (%d)", (int) health_checks (h));
    cmp_int (rec.n, 0, "within grace, failures are not reported");
    cmp_int (health_failures (h), 0, "nor counted");
    cmp_int (health_healthy (h), -1, "healthy stays unknown");
    char path[600];
    snprintf (path, sizeof path, "%s/ready", sandbox);
    util_write_file (path, "", 0, 0644);
    ok (s_wait (&rec, HEALTH_CHANGED, 1, 2000) && rec.ev[0].healthy, "then a success: healthy");
    unlink (path);
    ok (s_wait (&rec, HEALTH_FAILED, 1, 2000), "after the first success, a failure counts "
        "even within grace");
    ok (rec.n == 3 && !rec.ev[1].healthy, "healthy false, then the threshold");
    health_destroy (&h);

    /*  Grace ends: failures count from then on.  */
    rec = (rec_t) { 0 };
    spec = s_spec ("command", "exit 3", NULL);
    spec->grace_ms = 500;
    spec->max_failures = 1;
    int64_t t0 = clock_mono_ms ();
    h = health_new (s_loop, spec, "grace-task", 0, sandbox, s_env, s_on_health, &rec, t0);
    proto_health_destroy (&spec);
    ok (s_wait (&rec, HEALTH_FAILED, 1, 3000), "a failure after the grace period counts");
    ok (rec.n > 0 && rec.ev[0].at - t0 >= 500, "not before grace ends (%d ms)",
        rec.n ? (int) (rec.ev[0].at - t0) : -1);
    ok (health_checks (h) >= 3, "the earlier failures were ignored (%d checks)",
        (int) health_checks (h));
    health_destroy (&h);

    /*  Grace counts from the task's start, not the check's.  */
    rec = (rec_t) { 0 };
    spec = s_spec ("command", "exit 3", NULL);
    spec->grace_ms = 5000;
    spec->max_failures = 1;
    h = health_new (s_loop, spec, "grace-task", 0, sandbox, s_env, s_on_health, &rec,
                    clock_mono_ms () - 10000);
    proto_health_destroy (&spec);
    ok (s_wait (&rec, HEALTH_FAILED, 1, 2000), "a task started long ago has no grace left");
    cmp_int (health_checks (h), 1, "the first failure counted");
    health_destroy (&h);
}

static void
test_delay (void)
{
    server_t *srv = s_server_new (0, true);
    rec_t rec = { 0 };
    proto_health_t *spec = s_spec ("tcp", NULL, NULL);
    spec->delay_ms = 700;
    int64_t t0 = clock_mono_ms ();
    health_t *h = health_new (s_loop, spec, "delay-task", srv->port, NULL, s_env, s_on_health,
                              &rec, t0);
    proto_health_destroy (&spec);
    s_run (400);
    ok (health_checks (h) == 0 && srv->accepts == 0 && rec.n == 0, "no check before the delay");
    ok (s_wait (&rec, HEALTH_CHANGED, 1, 2000), "the first check after it");
    ok (rec.n > 0 && rec.ev[0].at - t0 >= 700, "at %d ms", rec.n ? (int) (rec.ev[0].at - t0) : -1);
    health_destroy (&h);
    s_server_destroy (&srv);
}

/*  The agent may destroy a check from one of its own timers in the very
    pass in which the check's timer is due (zloop then still calls it).   */
static health_t *s_victim;

static int
s_destroy_victim (zloop_t *loop, int timer_id, void *arg)
{
    health_destroy (&s_victim);
    return 0;
}

static void
test_destroy_same_pass (void)
{
    zloop_t *loop = zloop_new ();       /* fresh: zloop defers ended timers */
    rec_t rec = { 0 };
    proto_health_t *spec = s_spec ("command", "exit 0", NULL);
    spec->delay_ms = 20;
    zloop_timer (loop, 20, 1, s_destroy_victim, NULL);
    s_victim = health_new (loop, spec, "victim", 0, NULL, s_env, s_on_health, &rec,
                           clock_mono_ms ());
    proto_health_destroy (&spec);
    zloop_timer (loop, 150, 1, s_stop_loop, NULL);
    usleep (50 * 1000);                 /* both due in the first pass */
    zloop_start (loop);
    ok (s_victim == NULL && rec.n == 0, "a check destroyed in the pass its timer is due "
        "does not run");
    zloop_destroy (&loop);
}

int
main (void)
{
    zsys_init ();
    zsys_handler_set (NULL);
    signal (SIGPIPE, SIG_IGN);
    s_loop = zloop_new ();
    char tmpl[] = "/tmp/cairn-health-XXXXXX";
    char *dir = mkdtemp (tmpl);
    if (!dir) {
        diag ("mkdtemp: %s", strerror (errno));
        return 1;
    }
    char *sandbox = realpath (dir, NULL);

    test_invalid ();
    test_port ();
    test_tcp ();
    test_http ();
    test_command (sandbox);
    test_grace (sandbox);
    test_delay ();
    test_destroy_same_pass ();

    /*  Let the reaper finish, then nothing of ours is left on the loop.  */
    s_run (100);
    zloop_destroy (&s_loop);
    util_remove_tree (sandbox);
    free (sandbox);
    return done_testing ();
}
