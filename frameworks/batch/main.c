/*  main.c - cairn-batch: the bundled framework for batch jobs.

        cairn-batch run --master=HOST:PORT [OPTIONS] -- CMD [ARGS...] | FILE
        cairn-batch serve --master=HOST:PORT --state-dir=DIR [--api-port=PORT]
        cairn-batch submit|status|wait|cancel|logs|... [--api=HOST:PORT] ...

    `run` and `serve` are frameworks (run.c, serve.c); the other commands
    are clients of serve's REST API, the same code as `cairn batch`
    (cli/batch.c). doc/batch.md is the user's guide.                     */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "batch.h"
#include "cairn.h"
#include "../../cli/cli.h"

static void
s_usage (FILE *f)
{
    fputs ("Usage: cairn-batch COMMAND [OPTIONS] [ARGS]\n"
           "Run batch jobs on a Cairn cluster.\n\n"
           "Commands:\n"
           "  run         run jobs to completion: -- CMD [ARGS...] or a job file\n"
           "  serve       the persistent job queue and its REST API\n"
           "  submit      submit a job (or a job file) to the queue\n"
           "  status      list the queue's jobs, or show some\n"
           "  wait        wait until jobs end; exit 0 only if all succeeded\n"
           "  cancel      cancel jobs\n"
           "  logs        print a task's stdout or stderr\n"
           "  schedules   list scheduled jobs (also: unschedule ID, trigger ID)\n\n"
           "cairn-batch COMMAND --help shows a command's options; doc/batch.md is the guide.\n",
           f);
}

int
main (int argc, char **argv)
{
    if (argc < 2) {
        s_usage (stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp (cmd, "--help") == 0 || strcmp (cmd, "-h") == 0 || strcmp (cmd, "help") == 0) {
        s_usage (stdout);
        return 0;
    }
    if (strcmp (cmd, "--version") == 0) {
        printf ("cairn-batch %s\n", cairn_version ());
        return 0;
    }
    if (strcmp (cmd, "run") == 0)
        return batch_run (argc - 1, argv + 1);
    if (strcmp (cmd, "serve") == 0)
        return batch_serve (argc - 1, argv + 1);
    /*  The queue's client commands, shared with `cairn batch`.           */
    cli.master = NULL;
    cli.json = false;
    cli.timeout_ms = 5000;
    return cli_cmd_batch (argc, argv);
}
