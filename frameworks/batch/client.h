/*  client.h - the client side of cairn-batch, implemented in cli/batch.c
    and compiled into both programs: `cairn batch ...` (the one CLI) and
    `cairn-batch submit|status|wait|cancel|logs|...` call the same code
    (cli_cmd_batch, in cli.h), and `cairn-batch run` shares the job
    options with `submit`.

    The job options (batch_job_flags) describe one job on the command
    line; batch_jobs_doc turns them and what follows them, `-- CMD
    [ARGS...]` or a job file, into the JSON document the queue reads
    (job.h), so a job means the same whichever way it is given.          */
#ifndef CAIRN_BATCH_CLIENT_H_INCLUDED
#define CAIRN_BATCH_CLIENT_H_INCLUDED

#include <stddef.h>

#include <jansson.h>

#include "flags.h"

/*  The job options, for a flags table of one's own (their values live in
    cli/batch.c): --id --count --array --cpus --mem --disk --retries
    --priority --max-parallel --after --schedule --overlap --shell.       */
extern const flag_t batch_job_flags[];
extern const size_t batch_job_nflags;

/*  Takes every --env=NAME=VALUE (or --env NAME=VALUE) before the first
    "--" or positional argument out of argv (they may repeat, which flags
    cannot), compacting argv and *argc. Call before flags_parse.          */
void batch_take_env (int *argc, char **argv);

/*  After flags_parse (argi the first argument left): the jobs document,
    from `-- CMD [ARGS...]` and the job options, or from the job file
    named by argv[argi] (then no job option may be given). NULL after
    printing why to stderr (a usage error). `prog` prefixes messages.    */
json_t *batch_jobs_doc (const char *prog, int argc, char **argv, int argi);

/*  The --max-parallel given (0: none). With a job file it caps the whole
    run, the only job option that applies to one.                        */
long long batch_job_max_parallel (void);

/*  Frees what the job options and batch_take_env stored.                 */
void batch_job_flags_free (void);

#endif
