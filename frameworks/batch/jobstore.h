/*  jobstore.h - cairn-batch's durable queue: jobs, the attempts of their
    tasks, schedules and the framework id, in STATE_DIR/batch.db through
    the shared store (SQLite, WAL, synchronous=FULL, group commit).

    Writes are buffered in the store's open transaction; the service
    commits once per loop pass, before it sends the launches and the
    acknowledgements that depend on them. A write that fails is logged and
    makes the next commit fail, which stops the service: it never acts on
    a batch that is not on disk.                                          */
#ifndef CAIRN_BATCH_JOBSTORE_H_INCLUDED
#define CAIRN_BATCH_JOBSTORE_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

typedef struct _jobstore_t jobstore_t;

typedef struct {
    const char *id;
    int64_t seq;
    const char *spec;           /* the job's JSON */
    const char *state;          /* qjob_state_name */
    const char *message;
    double submitted, started, finished;
    const char *waits_for;      /* "" if none */
    const char *schedule_id;    /* "" if none */
    bool cancel_requested;      /* cancelled, its live tasks being killed */
} jobstore_job_t;

typedef struct {
    const char *task_id;        /* JOB.INDEX.ATTEMPT */
    const char *state;          /* LAUNCHING RUNNING SUCCEEDED FAILED LOST CANCELLED */
    const char *agent_id;
    int exit_code;
    const char *message;
    const char *stderr_tail;
} jobstore_attempt_t;

typedef struct {
    const char *id;
    const char *spec;           /* the job's JSON, with its schedule */
    int64_t runs;               /* runs started so far */
    const char *last_run;       /* id of the latest run, "" if none */
    double created;
} jobstore_schedule_t;

/*  Opens (creating) DIR/batch.db; NULL with errno and a sentence
    (cairn_strerror_last) naming the file.                                */
jobstore_t *jobstore_open (const char *dir);
/*  Commits what is pending and closes. NULL-safe.                        */
void jobstore_close (jobstore_t **self_p);
const char *jobstore_path (jobstore_t *self);

/*  A value of the meta table ("framework_id", "seq"), caller frees; NULL
    if unset.                                                              */
char *jobstore_get (jobstore_t *self, const char *key);
void jobstore_set (jobstore_t *self, const char *key, const char *value);

/*  Writes (insert or replace) a job, an attempt, a schedule.              */
void jobstore_put_job (jobstore_t *self, const jobstore_job_t *job);
void jobstore_put_attempt (jobstore_t *self, const char *job_id, const jobstore_attempt_t *a);
void jobstore_put_schedule (jobstore_t *self, const jobstore_schedule_t *s);
void jobstore_delete_schedule (jobstore_t *self, const char *id);

/*  Reads everything back: schedules, then jobs in submission order, then
    attempts in task id order. -1 with a sentence if reading fails.      */
typedef struct {
    void (*schedule) (void *arg, const jobstore_schedule_t *s);
    void (*job) (void *arg, const jobstore_job_t *job);
    void (*attempt) (void *arg, const jobstore_attempt_t *a);
} jobstore_loader_t;
int jobstore_load (jobstore_t *self, const jobstore_loader_t *loader, void *arg);

/*  Group commit: 0 or the number of changes made durable, -1 (with a
    sentence) if the batch is lost.                                       */
int jobstore_commit (jobstore_t *self);
bool jobstore_dirty (jobstore_t *self);

#endif
