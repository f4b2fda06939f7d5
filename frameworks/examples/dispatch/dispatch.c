/*  dispatch.c - a scheduler that runs the driver's callbacks in its own
    event loop.

    A program that already has a poll() loop (a server, a GUI, an
    interactive tool) can ask for the dispatch mode: cairn_driver_fd,
    called before the driver starts, gives a file descriptor that becomes
    readable when callbacks are pending, and cairn_driver_dispatch runs
    them on the calling thread. Then the callbacks and the rest of the
    program share one thread and need no locks.

    This one runs N tasks of a command (like hello), and its loop also
    wakes once a second to print how many tasks have ended. It exits 0
    when all N finished, 1 if any did not.

    Build:  cc dispatch.c $(pkg-config --cflags --libs cairn) -o dispatch
    Run:    ./dispatch HOST:PORT [N] ['SHELL COMMAND']                     */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <cairn.h>

typedef struct {
    int wanted;
    const char *command;
    int launched, finished, ended;
    bool done;                  /* the loop should end */
} dispatch_t;

static void
on_offers (cairn_driver_t *driver, cairn_offer_t *const *offers, size_t count, void *arg)
{
    dispatch_t *d = arg;
    cairn_resources_t *need = cairn_resources_parse ("cpus:0.1;mem:16");
    for (size_t i = 0; i < count; i++) {
        const char *offer_id = cairn_offer_id (offers[i]);
        cairn_resources_t *left = cairn_resources_dup (cairn_offer_resources (offers[i]));
        cairn_task_t *tasks[64];
        size_t n = 0;
        while (d->launched < d->wanted && n < 64 && cairn_resources_contains (left, need)) {
            char task_id[32];
            snprintf (task_id, sizeof task_id, "dispatch-%d", ++d->launched);
            tasks[n] = cairn_task_new (task_id);
            cairn_task_set_command (tasks[n], d->command);
            cairn_task_set_resources (tasks[n], need);
            cairn_resources_subtract (left, need);
            n++;
        }
        if (n > 0)
            cairn_driver_accept (driver, &offer_id, 1, tasks, n, 0);
        else
            cairn_driver_decline (driver, offer_id, 30);
        for (size_t k = 0; k < n; k++)
            cairn_task_destroy (&tasks[k]);
        cairn_resources_destroy (&left);
    }
    cairn_resources_destroy (&need);
}

static void
on_status (cairn_driver_t *driver, const cairn_status_t *status, void *arg)
{
    dispatch_t *d = arg;
    cairn_task_state_t state = cairn_status_state (status);
    printf ("dispatch: task %s is %s\n", cairn_status_task_id (status),
            cairn_task_state_name (state));
    if (!cairn_task_state_is_terminal (state))
        return;
    d->finished += state == CAIRN_TASK_FINISHED;
    if (++d->ended == d->wanted) {
        cairn_driver_stop (driver, false);
        d->done = true;
    }
}

static void
on_error (cairn_driver_t *driver, const char *message, void *arg)
{
    dispatch_t *d = arg;
    fprintf (stderr, "dispatch: %s\n", message);
    d->done = true;             /* the driver has stopped */
}

int
main (int argc, char **argv)
{
    setvbuf (stdout, NULL, _IOLBF, 0);
    dispatch_t d = { .wanted = argc > 2 ? atoi (argv[2]) : 5,
                     .command = argc > 3 ? argv[3] : "sleep 1" };
    if (argc < 2 || argc > 4 || d.wanted < 1) {
        fprintf (stderr, "usage: dispatch HOST:PORT [N] ['SHELL COMMAND']\n");
        return 2;
    }
    cairn_framework_info_t *info = cairn_framework_info_new ("dispatch");
    cairn_callbacks_t callbacks = { .offers = on_offers, .status = on_status, .error = on_error };
    cairn_driver_t *driver = cairn_driver_new (info, &callbacks, argv[1], &d);
    cairn_framework_info_destroy (&info);      /* the driver has its own copy */
    if (!driver) {
        fprintf (stderr, "dispatch: %s\n", cairn_strerror_last ());
        return 2;
    }
    /*  Before start: from now on callbacks run only inside dispatch.      */
    int fd = cairn_driver_fd (driver);
    if (fd < 0 || cairn_driver_start (driver) < 0) {
        fprintf (stderr, "dispatch: %s\n", cairn_strerror_last ());
        cairn_driver_destroy (&driver);
        return 1;
    }
    time_t last = time (NULL);
    while (!d.done) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        if (poll (&pfd, 1, 1000) < 0 && errno != EINTR)
            break;
        if ((pfd.revents & POLLIN) && cairn_driver_dispatch (driver) < 0)
            break;
        if (time (NULL) != last) {      /* the program's own work */
            last = time (NULL);
            printf ("dispatch: %d launched, %d ended\n", d.launched, d.ended);
        }
    }
    if (!d.done)                        /* the loop failed: end the framework */
        cairn_driver_stop (driver, false);
    cairn_driver_status_t status = cairn_driver_join (driver);
    cairn_driver_destroy (&driver);
    printf ("dispatch: %d of %d tasks finished\n", d.finished, d.wanted);
    return status == CAIRN_DRIVER_STOPPED && d.finished == d.wanted ? 0 : 1;
}
