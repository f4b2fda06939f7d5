/*  job.h - batch job definitions: what a user asks cairn-batch to run.

    A job is one command run as a set of tasks: `count` copies (indices
    0..count-1) or an `array` range "a-b" (indices a..b), each told its
    index in CAIRN_ARRAY_INDEX. The JSON form, shared by job files, the
    REST API and the store, is checked field by field (jcheck) and every
    error names the job and the field:

        {"id": "render", "command": "render --frame=$CAIRN_ARRAY_INDEX",
         "array": "1-100", "cpus": 0.5, "mem": 256, "retries": 2,
         "priority": 10, "max_parallel": 20, "env": {"QUALITY": "high"},
         "after": ["fetch"], "schedule": "0 3 * * *", "overlap": "skip"}

    A job file holds one job object, an array of them, or {"jobs": [...]}.
    Dependencies (`after`) name jobs that must succeed first; unknown
    names and cycles are errors.                                         */
#ifndef CAIRN_BATCH_JOB_H_INCLUDED
#define CAIRN_BATCH_JOB_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "jcheck.h"

#define JOB_MAX_ID          64          /* [A-Za-z0-9_-], leaves room in task ids */
#define JOB_MAX_TASKS       1000000     /* tasks in one job */
#define JOB_MAX_RETRIES     100
#define JOB_DEFAULT_CPUS    0.1
#define JOB_DEFAULT_MEM     32

typedef enum { OVERLAP_SKIP, OVERLAP_QUEUE } job_overlap_t;

typedef struct {
    char *id;                   /* NULL until given or assigned */
    char *command;              /* run with /bin/sh -c; or NULL */
    char **argv;                /* or this, NULL-terminated; or NULL */
    int64_t millicpus;
    uint64_t mem, disk;         /* MiB */
    int64_t first, last;        /* task indices first..last */
    bool is_array;              /* given as "array" (else "count") */
    int retries;                /* failed attempts that are run again */
    int priority;               /* higher runs first */
    int64_t max_parallel;       /* live tasks at a time; 0 = no limit */
    char **env_keys, **env_values;
    size_t nenv;
    char **after;               /* job ids that must succeed first */
    size_t nafter;
    char *schedule;             /* cron text, or NULL */
    job_overlap_t overlap;
} jobspec_t;

/*  A job from its JSON form; `where` names it in errors ("jobs[2]", or
    NULL for a lone job). NULL with *err filled: "job 'x' (jobs[2]):
    cpus must be a number from 0.001 to 1024", field "jobs[2].cpus".      */
jobspec_t *jobspec_from_json (json_t *json, const char *where, jcheck_error_t *err);

/*  The JSON form (new reference), which jobspec_from_json reads back.    */
json_t *jobspec_to_json (const jobspec_t *self);

jobspec_t *jobspec_dup (const jobspec_t *self);
void jobspec_destroy (jobspec_t **self_p);

/*  Sets the id (a valid one: job_id_valid).                              */
void jobspec_set_id (jobspec_t *self, const char *id);

/*  Number of tasks.                                                       */
int64_t jobspec_tasks (const jobspec_t *self);

/*  1-64 of [A-Za-z0-9_-].                                                 */
bool job_id_valid (const char *id);

/*  The jobs of a job file's JSON: a job, an array of jobs or {"jobs":
    [...]}. Jobs without an id get "job" (a lone job) or "jobN" (the Nth,
    from 1) unless assign_ids is false (the caller names them). Checks
    every job, duplicate ids, and the dependencies among them (`known`,
    may be NULL, says whether an id outside the file exists). Returns the
    number of jobs with *jobs (caller destroys each and frees the array),
    or -1 with *err filled.                                                */
typedef bool (job_known_fn) (const char *id, void *arg);
int jobs_from_json (json_t *doc, bool assign_ids, job_known_fn *known, void *arg,
                    jobspec_t ***jobs, jcheck_error_t *err);

/*  The same from the text of a file (JSON, duplicate keys refused).       */
int jobs_from_text (const char *text, size_t size, bool assign_ids, job_known_fn *known,
                    void *arg, jobspec_t ***jobs, jcheck_error_t *err);

void jobs_free (jobspec_t ***jobs, int n);

#endif
