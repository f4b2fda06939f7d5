/*  tutorial.c - the scheduler that doc/libframework.md builds step by step.

    It runs three copies of a shell command, one per offer, prints every
    status update and exits 0 when all three finished, else 1.

    Build:  cc tutorial.c $(pkg-config --cflags --libs cairn) -o tutorial
    Run:    ./tutorial HOST:PORT ['SHELL COMMAND']                        */
#include <stdio.h>
#include <cairn.h>

#define TASKS 3

typedef struct {
    const char *command;
    int launched;               /* tasks sent to the master */
    int ended;                  /* tasks in a terminal state */
    int finished;               /* of those, ended with TASK_FINISHED */
} tutorial_t;

static void
on_registered (cairn_driver_t *driver, const char *framework_id,
               const char *master_http, void *arg)
{
    printf ("tutorial: registered as framework %s\n", framework_id);
}

static void
on_offers (cairn_driver_t *driver, cairn_offer_t *const *offers, size_t count, void *arg)
{
    tutorial_t *t = arg;
    cairn_resources_t *need = cairn_resources_parse ("cpus:0.1;mem:32");
    for (size_t i = 0; i < count; i++) {
        const char *offer_id = cairn_offer_id (offers[i]);
        if (t->launched == TASKS
            || !cairn_resources_contains (cairn_offer_resources (offers[i]), need)) {
            cairn_driver_decline (driver, offer_id, 30);
            continue;
        }
        char task_id[32];
        snprintf (task_id, sizeof task_id, "tutorial-%d", ++t->launched);
        cairn_task_t *task = cairn_task_new (task_id);
        cairn_task_set_command (task, t->command);
        cairn_task_set_resources (task, need);
        printf ("tutorial: launching %s on %s\n", task_id, cairn_offer_hostname (offers[i]));
        cairn_driver_accept (driver, &offer_id, 1, &task, 1, 0);
        cairn_task_destroy (&task);
    }
    cairn_resources_destroy (&need);
}

static void
on_status (cairn_driver_t *driver, const cairn_status_t *status, void *arg)
{
    tutorial_t *t = arg;
    cairn_task_state_t state = cairn_status_state (status);
    printf ("tutorial: task %s is %s: %s\n", cairn_status_task_id (status),
            cairn_task_state_name (state), cairn_status_message (status));
    if (!cairn_task_state_is_terminal (state))
        return;
    if (state == CAIRN_TASK_FINISHED)
        t->finished++;
    if (++t->ended == TASKS)
        cairn_driver_stop (driver, false);
}

static void
on_error (cairn_driver_t *driver, const char *message, void *arg)
{
    fprintf (stderr, "tutorial: %s\n", message);
}

int
main (int argc, char **argv)
{
    setvbuf (stdout, NULL, _IOLBF, 0);     /* one line at a time, even into a pipe */
    if (argc < 2 || argc > 3) {
        fprintf (stderr, "usage: tutorial HOST:PORT ['SHELL COMMAND']\n");
        return 2;
    }
    tutorial_t t = { .command = argc == 3 ? argv[2] : "echo hello from $CAIRN_TASK_ID" };
    cairn_callbacks_t callbacks = {
        .registered = on_registered,
        .offers = on_offers,
        .status = on_status,
        .error = on_error,
    };
    cairn_framework_info_t *info = cairn_framework_info_new ("tutorial");
    cairn_driver_t *driver = cairn_driver_new (info, &callbacks, argv[1], &t);
    cairn_framework_info_destroy (&info);      /* the driver has its own copy */
    if (!driver) {
        fprintf (stderr, "tutorial: %s\n", cairn_strerror_last ());
        return 2;
    }
    cairn_driver_status_t status = cairn_driver_run (driver);
    cairn_driver_destroy (&driver);
    printf ("tutorial: %d of %d tasks finished\n", t.finished, TASKS);
    return status == CAIRN_DRIVER_STOPPED && t.finished == TASKS ? 0 : 1;
}
