/*  job.c - fuzz harness for cairn-batch's job files (frameworks/batch/job.h).

    Input: the text of a job file. Every job it gives must print to JSON
    that reads back as an equal job, and copy faithfully.                  */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "job.h"

static bool
s_known (const char *id, void *arg)
{
    (void) arg;
    return strcmp (id, "known") == 0;
}

static char *
s_text (const jobspec_t *job)
{
    json_t *json = jobspec_to_json (job);
    char *text = json_dumps (json, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref (json);
    FUZZ_CHECK (text != NULL, "a job prints");
    return text;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    jcheck_error_t err = { 0 };
    jobspec_t **jobs = NULL;
    int n = jobs_from_text ((const char *) data, size, true, s_known, NULL, &jobs, &err);
    if (n < 0) {
        FUZZ_CHECK (err.message != NULL, "a refused job file says why");
        jcheck_error_clear (&err);
        return 0;
    }
    for (int i = 0; i < n; i++) {
        FUZZ_CHECK (job_id_valid (jobs[i]->id), "every job has a valid id");
        FUZZ_CHECK (jobspec_tasks (jobs[i]) >= 1 && jobspec_tasks (jobs[i]) <= JOB_MAX_TASKS,
                    "and a bounded number of tasks");
        char *text = s_text (jobs[i]);
        json_t *json = jobspec_to_json (jobs[i]);
        jobspec_t *back = jobspec_from_json (json, "fuzz", &err);
        json_decref (json);
        if (!back)
            fprintf (stderr, "fuzz: %s: %s\n", text, err.message);
        FUZZ_CHECK (back != NULL, "a job's JSON reads back");
        char *text2 = s_text (back);
        FUZZ_CHECK (strcmp (text, text2) == 0, "as the same job");
        jobspec_t *copy = jobspec_dup (back);
        char *text3 = s_text (copy);
        FUZZ_CHECK (strcmp (text, text3) == 0, "and copies as the same job");
        free (text);
        free (text2);
        free (text3);
        jobspec_destroy (&copy);
        jobspec_destroy (&back);
    }
    jobs_free (&jobs, n);
    return 0;
}
