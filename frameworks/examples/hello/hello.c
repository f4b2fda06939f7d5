/*  hello.c - the smallest useful Cairn scheduler.

    It registers a framework, launches N copies of a command on whatever
    offers arrive (several per offer when they fit), prints one line per
    status update, and exits 0 when all N finished successfully, 1 when
    any did not.

    Build it against an installed libcairn with
        cc hello.c $(pkg-config --cflags --libs cairn) -o hello

    doc/libframework.md (installed in $(docdir)) is the library's guide,
    with a tutorial; the man pages start at cairn(3). Next to this file
    are tutorial.c (the tutorial's program), killtask.c, failover.c and
    dispatch.c.

    Usage: hello --master=HOST:PORT [--tasks=N] [--command=CMD]
                 [--resources=SPEC] [--name=NAME]                         */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairn.h>

#define MAX_AGENTS 1024

typedef struct {
    int wanted;                 /* tasks to run */
    int launched;
    int finished;               /* ended with TASK_FINISHED */
    int failed;                 /* ended any other way */
    const char *command;
    cairn_resources_t *per_task;
    struct {                    /* what ran where, for the summary */
        char id[130];
        char hostname[257];
        int tasks;
    } agents[MAX_AGENTS];
    int nagents;
} hello_t;

static int
s_agent_index (hello_t *h, const char *agent_id, const char *hostname)
{
    for (int i = 0; i < h->nagents; i++)
        if (strcmp (h->agents[i].id, agent_id) == 0)
            return i;
    if (h->nagents == MAX_AGENTS || !hostname)
        return -1;
    int i = h->nagents++;
    snprintf (h->agents[i].id, sizeof h->agents[i].id, "%s", agent_id);
    snprintf (h->agents[i].hostname, sizeof h->agents[i].hostname, "%s", hostname);
    return i;
}

static void
on_registered (cairn_driver_t *driver, const char *framework_id, const char *master_http,
               void *arg)
{
    /*  master_http is "HOST:PORT", or "https://HOST:PORT" for a master
        serving HTTPS: printed as given.                                  */
    printf ("hello: registered as framework %s (master at %s)\n", framework_id, master_http);
    fflush (stdout);
}

/*  Spreads the tasks over the offers of a batch, one per offer in turn,
    so that a small job still uses several machines.                       */
static void
on_offers (cairn_driver_t *driver, cairn_offer_t *const *offers, size_t count, void *arg)
{
    hello_t *h = arg;
    cairn_resources_t **left = calloc (count, sizeof *left);
    cairn_task_t ***tasks = calloc (count, sizeof *tasks);
    size_t *ntasks = calloc (count, sizeof *ntasks);
    if (!left || !tasks || !ntasks)
        abort ();
    for (size_t i = 0; i < count; i++) {
        s_agent_index (h, cairn_offer_agent_id (offers[i]), cairn_offer_hostname (offers[i]));
        left[i] = cairn_resources_dup (cairn_offer_resources (offers[i]));
        tasks[i] = calloc (256, sizeof (cairn_task_t *));
    }
    bool placed = true;
    while (placed && h->launched < h->wanted) {
        placed = false;
        for (size_t i = 0; i < count && h->launched < h->wanted; i++) {
            if (ntasks[i] == 256 || !cairn_resources_contains (left[i], h->per_task))
                continue;
            char id[32];
            snprintf (id, sizeof id, "hello-%d", ++h->launched);
            cairn_task_t *task = cairn_task_new (id);
            cairn_task_set_command (task, h->command);
            cairn_task_set_resources (task, h->per_task);
            cairn_resources_subtract (left[i], h->per_task);
            tasks[i][ntasks[i]++] = task;
            placed = true;
        }
    }
    for (size_t i = 0; i < count; i++) {
        const char *offer_id = cairn_offer_id (offers[i]);
        if (ntasks[i] > 0) {
            printf ("hello: launching %zu task(s) on %s\n", ntasks[i],
                    cairn_offer_hostname (offers[i]));
            /*  While tasks remain, let the master offer this agent again
                as soon as it has room (refuse 0); then the default.        */
            cairn_driver_accept (driver, &offer_id, 1, tasks[i], ntasks[i],
                                 h->launched < h->wanted ? 0 : -1);
        }
        else    /* nothing (more) to run here: do not offer it again soon */
            cairn_driver_decline (driver, offer_id, h->launched < h->wanted ? 1 : 60);
        for (size_t k = 0; k < ntasks[i]; k++)
            cairn_task_destroy (&tasks[i][k]);
        free (tasks[i]);
        cairn_resources_destroy (&left[i]);
    }
    free (left);
    free (tasks);
    free (ntasks);
    fflush (stdout);
}

static void
on_status (cairn_driver_t *driver, const cairn_status_t *status, void *arg)
{
    hello_t *h = arg;
    cairn_task_state_t state = cairn_status_state (status);
    int a = s_agent_index (h, cairn_status_agent_id (status), NULL);
    printf ("hello: task %s is %s on %s: %s\n", cairn_status_task_id (status),
            cairn_task_state_name (state), a >= 0 ? h->agents[a].hostname : "(no agent)",
            cairn_status_message (status));
    if (cairn_task_state_is_terminal (state)) {
        if (state == CAIRN_TASK_FINISHED) {
            h->finished++;
            if (a >= 0)
                h->agents[a].tasks++;
        }
        else
            h->failed++;
        if (h->finished + h->failed == h->wanted)
            cairn_driver_stop (driver, false);
    }
    fflush (stdout);
}

static void
on_error (cairn_driver_t *driver, const char *message, void *arg)
{
    fprintf (stderr, "hello: %s\n", message);
}

static void
s_usage (FILE *f)
{
    fputs ("Usage: hello --master=HOST:PORT [--tasks=N] [--command=CMD] [--resources=SPEC]\n"
           "             [--name=NAME]\n"
           "Runs N copies of a command on a Cairn cluster; exits 0 if all finished.\n"
           "  --master=HOST:PORT   the master's endpoint (required)\n"
           "  --tasks=N            how many tasks (default 5)\n"
           "  --command=CMD        shell command (default: echo hello from $CAIRN_TASK_ID)\n"
           "  --resources=SPEC     per task (default cpus:0.1;mem:32)\n"
           "  --name=NAME          framework name (default hello)\n", f);
}

int
main (int argc, char **argv)
{
    const char *master = NULL, *resources = "cpus:0.1;mem:32", *name = "hello";
    hello_t h = { .wanted = 5, .command = "echo hello from $CAIRN_TASK_ID" };
    static const struct option options[] = {
        { "master", required_argument, NULL, 'm' },
        { "tasks", required_argument, NULL, 't' },
        { "command", required_argument, NULL, 'c' },
        { "resources", required_argument, NULL, 'r' },
        { "name", required_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int opt;
    while ((opt = getopt_long (argc, argv, "h", options, NULL)) != -1) {
        char *end;
        switch (opt) {
            case 'm': master = optarg; break;
            case 'c': h.command = optarg; break;
            case 'r': resources = optarg; break;
            case 'n': name = optarg; break;
            case 't':
                h.wanted = (int) strtol (optarg, &end, 10);
                if (*optarg == '\0' || *end || h.wanted < 1 || h.wanted > 1000000) {
                    fprintf (stderr, "hello: --tasks: '%s' is not a number from 1 to 1000000\n",
                             optarg);
                    return 2;
                }
                break;
            case 'h': s_usage (stdout); return 0;
            default: s_usage (stderr); return 2;
        }
    }
    if (optind < argc || !master) {
        fprintf (stderr, optind < argc ? "hello: unexpected argument '%s'\n"
                                       : "hello: --master=HOST:PORT is required\n",
                 argv[optind]);
        return 2;
    }
    h.per_task = cairn_resources_parse (resources);
    if (!h.per_task) {
        fprintf (stderr, "hello: --resources: %s\n", cairn_strerror_last ());
        return 2;
    }
    cairn_framework_info_t *info = cairn_framework_info_new (name);
    if (!info) {
        fprintf (stderr, "hello: --name: %s\n", cairn_strerror_last ());
        return 2;
    }
    cairn_callbacks_t callbacks = {
        .registered = on_registered,
        .offers = on_offers,
        .status = on_status,
        .error = on_error,
    };
    cairn_driver_t *driver = cairn_driver_new (info, &callbacks, master, &h);
    if (!driver) {
        fprintf (stderr, "hello: --master: %s\n", cairn_strerror_last ());
        return 2;
    }
    cairn_driver_status_t status = cairn_driver_run (driver);
    cairn_driver_destroy (&driver);
    cairn_framework_info_destroy (&info);
    cairn_resources_destroy (&h.per_task);

    printf ("hello: %d of %d tasks finished, %d did not\n", h.finished, h.wanted, h.failed);
    for (int i = 0; i < h.nagents; i++)
        if (h.agents[i].tasks)
            printf ("hello:   %d ran on %s (agent %s)\n", h.agents[i].tasks,
                    h.agents[i].hostname, h.agents[i].id);
    return status == CAIRN_DRIVER_STOPPED && h.finished == h.wanted ? 0 : 1;
}
