/*  library-edge.c - the framework library's edge cases, against a real
    master and agent (written against cairn.h only). Prints TAP.

    1. A task asking for more ports than its offer has is not sent: the
       driver reports it TASK_ERROR / REASON_TASK_INVALID itself.
    2. A status callback that stops the driver (with failover) and joins
       it: join returns at once with EDEADLK; the update is acknowledged
       before the stop, so a new instance of the framework (same id) does
       not get it again.
    3. Dispatch mode: a callback that calls cairn_driver_dispatch gets
       -1 / EBUSY instead of running callbacks inside callbacks.

    Usage: library-edge HOST:PORT                                          */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cairn.h>

static int s_n, s_failed;

static void
ok (bool pass, const char *what)
{
    printf ("%s %d - %s\n", pass ? "ok" : "not ok", ++s_n, what);
    if (!pass)
        s_failed++;
    fflush (stdout);
}

typedef struct {
    int phase;                  /* 1: ports, 2: stop in callback */
    bool launched;
    bool port_error;            /* saw TASK_ERROR for the port task */
    bool running;               /* saw TASK_RUNNING of the long task */
    char running_uuid[64];
    int join_errno;
    cairn_driver_status_t join_status;
    int dispatch_rc, dispatch_errno;
    char framework_id[160];
} edge_t;

static void
on_registered (cairn_driver_t *d, const char *fwid, const char *http, void *arg)
{
    edge_t *e = arg;
    snprintf (e->framework_id, sizeof e->framework_id, "%s", fwid);
}

static void
on_offers (cairn_driver_t *d, cairn_offer_t *const *offers, size_t n, void *arg)
{
    edge_t *e = arg;
    for (size_t i = 0; i < n; i++) {
        const char *id = cairn_offer_id (offers[i]);
        if (e->launched || e->phase == 0) {
            cairn_driver_decline (d, id, 60);
            continue;
        }
        e->launched = true;
        cairn_resources_t *r = cairn_resources_parse ("cpus:0.1;mem:32");
        cairn_task_t *t = cairn_task_new (e->phase == 1 ? "ports" : "long");
        cairn_task_set_resources (t, r);
        cairn_task_set_command (t, e->phase == 1 ? "true" : "sleep 300");
        if (e->phase == 1)
            cairn_task_set_port_count (t, 5);
        cairn_driver_accept (d, &id, 1, &t, 1, 0);
        cairn_task_destroy (&t);
        cairn_resources_destroy (&r);
    }
}

static void
on_status (cairn_driver_t *d, const cairn_status_t *s, void *arg)
{
    edge_t *e = arg;
    if (strcmp (cairn_status_task_id (s), "ports") == 0
        && cairn_status_state (s) == CAIRN_TASK_ERROR
        && cairn_status_reason (s) == CAIRN_REASON_TASK_INVALID
        && strstr (cairn_status_message (s), "ports"))
        e->port_error = true;
    if (strcmp (cairn_status_task_id (s), "long") == 0
        && cairn_status_state (s) == CAIRN_TASK_RUNNING && !e->running) {
        e->running = true;
        snprintf (e->running_uuid, sizeof e->running_uuid, "%s", cairn_status_uuid (s));
        cairn_driver_stop (d, true);
        errno = 0;
        e->join_status = cairn_driver_join (d);
        e->join_errno = errno;
    }
    if (e->phase == 3) {
        errno = 0;
        e->dispatch_rc = cairn_driver_dispatch (d);
        e->dispatch_errno = errno;
    }
}

static cairn_driver_t *
s_driver (const char *master, edge_t *e, const char *id, double failover)
{
    cairn_framework_info_t *info = cairn_framework_info_new ("edge");
    cairn_framework_info_set_failover_timeout (info, failover);
    if (id)
        cairn_framework_info_set_id (info, id);
    cairn_callbacks_t cb = { .registered = on_registered, .offers = on_offers,
                             .status = on_status };
    cairn_driver_t *d = cairn_driver_new (info, &cb, master, e);
    cairn_framework_info_destroy (&info);
    return d;
}

static bool
s_wait (volatile bool *flag, int seconds)
{
    for (int i = 0; i < seconds * 20 && !*flag; i++)
        usleep (50000);
    return *flag;
}

int
main (int argc, char **argv)
{
    if (argc != 2) {
        fprintf (stderr, "usage: library-edge HOST:PORT\n");
        return 2;
    }
    const char *master = argv[1];

    /*  1. Ports.                                                         */
    edge_t e1 = { .phase = 1 };
    cairn_driver_t *d = s_driver (master, &e1, NULL, 0);
    cairn_driver_start (d);
    ok (s_wait (&e1.port_error, 30), "a task asking for 5 ports from an offer with 2 is "
        "reported TASK_ERROR / REASON_TASK_INVALID by the driver");
    cairn_driver_stop (d, false);
    cairn_driver_join (d);
    cairn_driver_destroy (&d);

    /*  2. Stop and join from a status callback.                          */
    edge_t e2 = { .phase = 2 };
    d = s_driver (master, &e2, NULL, 120);
    cairn_driver_start (d);
    ok (s_wait (&e2.running, 30), "the long task runs; its callback stops the driver");
    cairn_driver_status_t st = cairn_driver_join (d);
    ok (e2.join_errno == EDEADLK, "join from the callback returns at once with EDEADLK");
    ok (e2.join_status == CAIRN_DRIVER_RUNNING, "telling the status then (RUNNING)");
    ok (st == CAIRN_DRIVER_STOPPED, "join from main returns STOPPED");
    ok (cairn_driver_status (d) == CAIRN_DRIVER_STOPPED, "cairn_driver_status says STOPPED");
    cairn_driver_destroy (&d);
    /*  A new instance: the RUNNING update was acknowledged before the
        stop, so it must not come again; reconciliation still answers.    */
    edge_t e2b = { .phase = 0 };
    d = s_driver (master, &e2b, e2.framework_id, 120);
    cairn_driver_start (d);
    sleep (4);                  /* the agent resends after 2 s */
    ok (!e2b.running, "the acknowledged TASK_RUNNING is not delivered again after failover");
    cairn_driver_stop (d, false);   /* tears the framework down: kills the task */
    cairn_driver_join (d);
    cairn_driver_destroy (&d);

    /*  3. Dispatch from a callback.                                      */
    edge_t e3 = { .phase = 3, .dispatch_rc = 1 };
    d = s_driver (master, &e3, NULL, 0);
    int fd = cairn_driver_fd (d);
    cairn_driver_start (d);
    for (int i = 0; i < 300 && e3.dispatch_rc != -1; i++) {
        struct pollfd p = { fd, POLLIN, 0 };
        poll (&p, 1, 100);
        cairn_driver_dispatch (d);
    }
    ok (e3.dispatch_rc == -1 && e3.dispatch_errno == EBUSY,
        "cairn_driver_dispatch from a callback is refused with EBUSY");
    cairn_driver_stop (d, false);
    cairn_driver_join (d);
    cairn_driver_destroy (&d);

    printf ("1..%d\n", s_n);
    return s_failed ? 1 : 0;
}
