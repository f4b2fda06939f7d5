/*  killtask.c - launch a long-running task, then kill it.

    The scheduler launches one task that would sleep for an hour, given
    as an argument vector rather than a shell command, with a kill grace
    period. It suppresses offers once the task is launched (it wants no
    more), and kills the task as soon as the agent reports it RUNNING.
    The agent answers with TASK_KILLING (SIGTERM sent) and then
    TASK_KILLED. The program exits 0 when it saw both, in that order.

    Build:  cc killtask.c $(pkg-config --cflags --libs cairn) -o killtask
    Run:    ./killtask HOST:PORT [GRACE_SECONDS]                          */
#include <stdio.h>
#include <stdlib.h>

#include <cairn.h>

typedef struct {
    double grace;               /* seconds between SIGTERM and SIGKILL */
    bool launched;
    bool kill_sent;
    bool saw_killing;
    bool saw_killed;            /* after TASK_KILLING */
} killtask_t;

static void
on_registered (cairn_driver_t *driver, const char *framework_id, const char *master_http,
               void *arg)
{
    printf ("killtask: registered as framework %s\n", framework_id);
}

static void
on_offers (cairn_driver_t *driver, cairn_offer_t *const *offers, size_t count, void *arg)
{
    killtask_t *k = arg;
    cairn_resources_t *need = cairn_resources_parse ("cpus:0.1;mem:16");
    for (size_t i = 0; i < count; i++) {
        const char *offer_id = cairn_offer_id (offers[i]);
        if (k->launched || !cairn_resources_contains (cairn_offer_resources (offers[i]), need)) {
            cairn_driver_decline (driver, offer_id, 60);
            continue;
        }
        /*  argv[0] is looked up in PATH on the agent; no shell runs.       */
        const char *const argv[] = { "sleep", "3600", NULL };
        cairn_task_t *task = cairn_task_new ("sleeper");
        cairn_task_set_argv (task, argv);
        cairn_task_set_resources (task, need);
        cairn_task_set_kill_grace (task, k->grace);
        printf ("killtask: launching sleeper on %s\n", cairn_offer_hostname (offers[i]));
        if (cairn_driver_accept (driver, &offer_id, 1, &task, 1, 60) == 0) {
            k->launched = true;
            /*  One task is all we want: no more offers until revive.       */
            cairn_driver_suppress (driver);
        }
        else
            fprintf (stderr, "killtask: accept: %s\n", cairn_strerror_last ());
        cairn_task_destroy (&task);
    }
    cairn_resources_destroy (&need);
}

static void
on_status (cairn_driver_t *driver, const cairn_status_t *status, void *arg)
{
    killtask_t *k = arg;
    cairn_task_state_t state = cairn_status_state (status);
    printf ("killtask: task %s is %s (%s): %s\n", cairn_status_task_id (status),
            cairn_task_state_name (state), cairn_reason_name (cairn_status_reason (status)),
            cairn_status_message (status));
    if (state == CAIRN_TASK_RUNNING && !k->kill_sent) {
        printf ("killtask: killing %s\n", cairn_status_task_id (status));
        /*  Safe from a callback: the call is queued, never blocks.        */
        if (cairn_driver_kill (driver, cairn_status_task_id (status)) == 0)
            k->kill_sent = true;
    }
    else if (state == CAIRN_TASK_KILLING)
        k->saw_killing = true;
    else if (state == CAIRN_TASK_KILLED)
        k->saw_killed = k->saw_killing;
    if (cairn_task_state_is_terminal (state))
        cairn_driver_stop (driver, false);
}

static void
on_error (cairn_driver_t *driver, const char *message, void *arg)
{
    fprintf (stderr, "killtask: %s\n", message);
}

int
main (int argc, char **argv)
{
    setvbuf (stdout, NULL, _IOLBF, 0);
    killtask_t k = { .grace = 2 };
    char *end = NULL;
    if (argc == 3)
        k.grace = strtod (argv[2], &end);
    if (argc < 2 || argc > 3 || (end && (end == argv[2] || *end))
        || !(k.grace >= 0 && k.grace <= 86400)) {
        fprintf (stderr, "usage: killtask HOST:PORT [GRACE_SECONDS]\n");
        return 2;
    }
    cairn_framework_info_t *info = cairn_framework_info_new ("killtask");
    cairn_callbacks_t callbacks = {
        .registered = on_registered,
        .offers = on_offers,
        .status = on_status,
        .error = on_error,
    };
    cairn_driver_t *driver = cairn_driver_new (info, &callbacks, argv[1], &k);
    cairn_framework_info_destroy (&info);      /* the driver has its own copy */
    if (!driver) {
        fprintf (stderr, "killtask: %s\n", cairn_strerror_last ());
        return 2;
    }
    cairn_driver_status_t status = cairn_driver_run (driver);
    cairn_driver_destroy (&driver);
    printf ("killtask: %s\n", k.saw_killed ? "the task was killed" : "the task was not killed");
    return status == CAIRN_DRIVER_STOPPED && k.saw_killed ? 0 : 1;
}
