/*  failover.c - a scheduler that stops, comes back, and finds its task.

    A scheduler process may end (an upgrade, a crash, a move to another
    machine) while its tasks should go on running. The framework asks for
    that with a failover timeout: when its scheduler disconnects, the
    master keeps the framework and its tasks for that long, and a new
    scheduler that registers with the framework id takes over.

    First run: registers with a failover timeout of 60 s, launches the
    task "keeper" (sleep 3600), and once it is RUNNING stops with
    failover. It prints the framework id and exits 0; the task goes on.

    Second run, with that framework id: re-registers, asks the master for
    the state of "keeper" (reconciliation), reports it, and tears the
    framework down (which kills the task). Exits 0 if the task was
    RUNNING, 1 if not.

    Build:  cc failover.c $(pkg-config --cflags --libs cairn) -o failover
    Run:    ./failover HOST:PORT
            ./failover HOST:PORT FRAMEWORK_ID                              */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairn.h>

#define FAILOVER_TIMEOUT 60.0   /* seconds */

typedef struct {
    bool resuming;              /* second run: re-register, reconcile */
    bool launched;
    bool stopped_for_failover;
    bool survived;              /* reconciliation said TASK_RUNNING */
} failover_t;

static void
on_registered (cairn_driver_t *driver, const char *framework_id, const char *master_http,
               void *arg)
{
    printf ("failover: registered as framework %s\n", framework_id);
}

/*  With an id in its framework info, the driver's first registration is a
    re-registration: this runs, not on_registered, and the master keeps
    the framework's tasks.                                                  */
static void
on_reregistered (cairn_driver_t *driver, const char *master_http, void *arg)
{
    failover_t *f = arg;
    char *framework_id = cairn_driver_framework_id (driver);
    printf ("failover: re-registered as framework %s\n", framework_id);
    free (framework_id);
    if (f->resuming) {
        /*  Nothing to launch this time.                                   */
        cairn_driver_suppress (driver);
        const char *task_ids[] = { "keeper" };
        cairn_driver_reconcile (driver, task_ids, 1);
    }
}

static void
on_disconnected (cairn_driver_t *driver, void *arg)
{
    printf ("failover: lost the master; the driver reconnects\n");
}

static void
on_offers (cairn_driver_t *driver, cairn_offer_t *const *offers, size_t count, void *arg)
{
    failover_t *f = arg;
    cairn_resources_t *need = cairn_resources_parse ("cpus:0.1;mem:16");
    for (size_t i = 0; i < count; i++) {
        const char *offer_id = cairn_offer_id (offers[i]);
        if (f->launched || f->resuming
            || !cairn_resources_contains (cairn_offer_resources (offers[i]), need)) {
            cairn_driver_decline (driver, offer_id, 60);
            continue;
        }
        cairn_task_t *task = cairn_task_new ("keeper");
        cairn_task_set_command (task, "sleep 3600");
        cairn_task_set_resources (task, need);
        printf ("failover: launching keeper on %s\n", cairn_offer_hostname (offers[i]));
        if (cairn_driver_accept (driver, &offer_id, 1, &task, 1, 60) == 0) {
            f->launched = true;
            cairn_driver_suppress (driver);
        }
        cairn_task_destroy (&task);
    }
    cairn_resources_destroy (&need);
}

static void
on_status (cairn_driver_t *driver, const cairn_status_t *status, void *arg)
{
    failover_t *f = arg;
    cairn_task_state_t state = cairn_status_state (status);
    cairn_reason_t reason = cairn_status_reason (status);
    printf ("failover: task %s is %s (%s): %s\n", cairn_status_task_id (status),
            cairn_task_state_name (state), cairn_reason_name (reason),
            cairn_status_message (status));
    if (!f->resuming && state == CAIRN_TASK_RUNNING && !f->stopped_for_failover) {
        printf ("failover: stopping with failover; the task keeps running\n");
        f->stopped_for_failover = true;
        cairn_driver_stop (driver, true);
    }
    else if (f->resuming && reason == CAIRN_REASON_RECONCILIATION
             && strcmp (cairn_status_task_id (status), "keeper") == 0) {
        f->survived = state == CAIRN_TASK_RUNNING;
        printf ("failover: keeper %s; tearing the framework down\n",
                f->survived ? "survived the failover" : "did not survive");
        /*  Without failover: the master kills the framework's tasks and
            forgets it; its id cannot register again.                      */
        cairn_driver_stop (driver, false);
    }
    else if (!f->resuming && cairn_task_state_is_terminal (state))
        cairn_driver_stop (driver, false);     /* it ended before we could fail over */
}

static void
on_error (cairn_driver_t *driver, const char *message, void *arg)
{
    fprintf (stderr, "failover: %s\n", message);
}

int
main (int argc, char **argv)
{
    setvbuf (stdout, NULL, _IOLBF, 0);
    if (argc < 2 || argc > 3) {
        fprintf (stderr, "usage: failover HOST:PORT [FRAMEWORK_ID]\n");
        return 2;
    }
    failover_t f = { .resuming = argc == 3 };
    cairn_framework_info_t *info = cairn_framework_info_new ("failover");
    if (cairn_framework_info_set_failover_timeout (info, FAILOVER_TIMEOUT) < 0
        || (f.resuming && cairn_framework_info_set_id (info, argv[2]) < 0)) {
        fprintf (stderr, "failover: %s\n", cairn_strerror_last ());
        cairn_framework_info_destroy (&info);
        return 2;
    }
    cairn_callbacks_t callbacks = {
        .registered = on_registered,
        .reregistered = on_reregistered,
        .disconnected = on_disconnected,
        .offers = on_offers,
        .status = on_status,
        .error = on_error,
    };
    cairn_driver_t *driver = cairn_driver_new (info, &callbacks, argv[1], &f);
    if (!driver) {
        fprintf (stderr, "failover: %s\n", cairn_strerror_last ());
        cairn_framework_info_destroy (&info);
        return 2;
    }
    cairn_driver_status_t status = cairn_driver_run (driver);
    char *framework_id = cairn_driver_framework_id (driver);
    cairn_driver_destroy (&driver);
    cairn_framework_info_destroy (&info);

    int rc = 1;
    if (status != CAIRN_DRIVER_STOPPED)
        printf ("failover: the driver was aborted\n");
    else if (!f.resuming && f.stopped_for_failover) {
        printf ("failover: framework %s keeps its task for %.0f s; resume with:\n"
                "failover:   failover %s %s\n", framework_id, FAILOVER_TIMEOUT, argv[1],
                framework_id);
        rc = 0;
    }
    else if (f.resuming && f.survived) {
        printf ("failover: framework %s torn down\n", framework_id);
        rc = 0;
    }
    free (framework_id);
    return rc;
}
