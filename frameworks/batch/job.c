/*  job.c - batch job definitions: JSON in and out, checks, dependencies.

    The JSON form is checked in two steps: jcheck for the shape of every
    field (types, ranges, unknown names), then the rules a table cannot
    say (command or argv, count or array, the array's range, variable
    names, the cron schedule, dependencies). Either way the first error
    wins and names the job and the field.                                */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cron.h"
#include "cairn.h"
#include "error.h"
#include "job.h"
#include "util.h"

static const char *const s_overlaps[] = { "skip", "queue", NULL };

static const jcheck_field_t s_job_fields[] = {
    JCHECK ("id", JCHECK_STRING, .nonempty = true),
    JCHECK ("command", JCHECK_STRING, .nonempty = true),
    JCHECK ("argv", JCHECK_STRING_ARRAY, .nonempty = true),
    JCHECK ("cpus", JCHECK_NUMBER, .ranged = true, .min = 0.001, .max = 1024),
    JCHECK ("mem", JCHECK_INT, .ranged = true, .min = 0, .max = 1e9),
    JCHECK ("disk", JCHECK_INT, .ranged = true, .min = 0, .max = 1e9),
    JCHECK ("count", JCHECK_INT, .ranged = true, .min = 1, .max = JOB_MAX_TASKS),
    JCHECK ("array", JCHECK_STRING, .nonempty = true),
    JCHECK ("retries", JCHECK_INT, .ranged = true, .min = 0, .max = JOB_MAX_RETRIES),
    JCHECK ("priority", JCHECK_INT, .ranged = true, .min = -1000000, .max = 1000000),
    JCHECK ("max_parallel", JCHECK_INT, .ranged = true, .min = 0, .max = 1e9),
    JCHECK ("env", JCHECK_STRING_MAP),
    JCHECK ("after", JCHECK_STRING_ARRAY, .nonempty = true),
    JCHECK ("schedule", JCHECK_STRING, .nonempty = true),
    JCHECK ("overlap", JCHECK_STRING, .choices = s_overlaps),
    JCHECK_END
};

bool
job_id_valid (const char *id)
{
    size_t n = id ? strlen (id) : 0;
    if (n == 0 || n > JOB_MAX_ID)
        return false;
    for (const char *p = id; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
              || *p == '_' || *p == '-'))
            return false;
    return true;
}

/*  Puts "job 'ID': " (or "job 'ID' (where): ") before a jcheck message.  */
static void
s_name_job (jcheck_error_t *err, const char *id, const char *where)
{
    char *message = NULL;
    if (id && where)
        message = xasprintf ("job '%s' (%s): %s", id, where, err->message);
    else if (id)
        message = xasprintf ("job '%s': %s", id, err->message);
    else
        return;                 /* the message already starts with where */
    free (err->message);
    err->message = message;
}

/*  Fails with "FIELD MESSAGE" at where.FIELD (or FIELD).                 */
static int
s_fail (jcheck_error_t *err, const char *where, const char *field, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

static int
s_fail (jcheck_error_t *err, const char *where, const char *field, const char *fmt, ...)
{
    va_list ap;
    char *tail = NULL;
    va_start (ap, fmt);
    if (vasprintf (&tail, fmt, ap) < 0)
        oom_abort ();
    va_end (ap);
    char *path = where ? xasprintf ("%s.%s", where, field) : xstrdup (field);
    jcheck_fail (err, path, "%s", tail);
    free (path);
    free (tail);
    return -1;
}

static char **
s_strv (json_t *array, size_t *n)
{
    *n = json_array_size (array);
    char **v = xzalloc ((*n + 1) * sizeof (char *));
    for (size_t i = 0; i < *n; i++)
        v[i] = xstrdup (json_string_value (json_array_get (array, i)));
    return v;
}

static void
s_strv_free (char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free (v[i]);
    free (v);
}

/*  "a-b" with 0 <= a <= b and at most JOB_MAX_TASKS indices.            */
static int
s_parse_array (const char *text, int64_t *first, int64_t *last)
{
    char *end;
    errno = 0;
    long long a = strtoll (text, &end, 10);
    if (end == text || *end != '-' || a < 0 || errno)
        return -1;
    const char *b_text = end + 1;
    long long b = strtoll (b_text, &end, 10);
    if (end == b_text || *end || b < a || errno || b - a + 1 > JOB_MAX_TASKS)
        return -1;
    *first = a;
    *last = b;
    return 0;
}

jobspec_t *
jobspec_from_json (json_t *json, const char *where, jcheck_error_t *err)
{
    assert (err);
    const char *id = json_is_object (json) ? json_string_value (json_object_get (json, "id"))
                                           : NULL;
    if (jcheck_object (json, s_job_fields, where, err) < 0) {
        s_name_job (err, id, where);
        return NULL;
    }
    jobspec_t *self = xzalloc (sizeof *self);
    json_t *v;
    if (id && !job_id_valid (id)) {
        s_fail (err, where, "id", "'%s' is not a valid job id (1-%d of A-Z a-z 0-9 _ -)", id,
                JOB_MAX_ID);
        goto error;
    }
    self->id = id ? xstrdup (id) : NULL;
    json_t *command = json_object_get (json, "command");
    json_t *argv = json_object_get (json, "argv");
    if (!command == !argv) {
        s_fail (err, where, command ? "argv" : "command", "%s", command
                ? "cannot be given with command: a job runs either a shell command or an argv"
                : "is required (a shell command), or give argv (a program and its arguments)");
        goto error;
    }
    if (command)
        self->command = xstrdup (json_string_value (command));
    else {
        if (json_array_size (argv) == 0) {
            s_fail (err, where, "argv", "must name at least the program to run");
            goto error;
        }
        size_t n;
        self->argv = s_strv (argv, &n);
    }
    double cpus = (v = json_object_get (json, "cpus")) ? json_number_value (v) : JOB_DEFAULT_CPUS;
    self->millicpus = llround (cpus * 1000.0);
    self->mem = (v = json_object_get (json, "mem")) ? (uint64_t) json_integer_value (v)
                                                   : JOB_DEFAULT_MEM;
    self->disk = (v = json_object_get (json, "disk")) ? (uint64_t) json_integer_value (v) : 0;
    json_t *count = json_object_get (json, "count"), *array = json_object_get (json, "array");
    if (count && array) {
        s_fail (err, where, "array", "cannot be given with count");
        goto error;
    }
    self->first = 0;
    self->last = count ? json_integer_value (count) - 1 : 0;
    if (array) {
        self->is_array = true;
        if (s_parse_array (json_string_value (array), &self->first, &self->last) < 0) {
            s_fail (err, where, "array", "must be a range \"FIRST-LAST\" of non-negative "
                    "indices such as \"1-100\", with at most %d of them", JOB_MAX_TASKS);
            goto error;
        }
    }
    self->retries = (v = json_object_get (json, "retries")) ? (int) json_integer_value (v) : 0;
    self->priority = (v = json_object_get (json, "priority")) ? (int) json_integer_value (v) : 0;
    self->max_parallel = (v = json_object_get (json, "max_parallel")) ? json_integer_value (v)
                                                                      : 0;
    json_t *env = json_object_get (json, "env");
    if (env) {
        size_t n = json_object_size (env), i = 0;
        self->env_keys = xzalloc ((n + 1) * sizeof (char *));
        self->env_values = xzalloc ((n + 1) * sizeof (char *));
        const char *key;
        json_object_foreach (env, key, v) {
            char *field = xasprintf ("env.%s", key);
            if (!util_env_name_valid (key)) {
                s_fail (err, where, field, "is not a variable name (A-Z a-z 0-9 _, not "
                        "starting with a digit)");
                free (field);
                goto error;
            }
            if (strncmp (key, "CAIRN_", 6) == 0) {
                s_fail (err, where, field, "is reserved: names starting with CAIRN_ are set by "
                        "Cairn itself");
                free (field);
                goto error;
            }
            free (field);
            self->env_keys[i] = xstrdup (key);
            self->env_values[i] = xstrdup (json_string_value (v));
            self->nenv = ++i;
        }
    }
    json_t *after = json_object_get (json, "after");
    if (after) {
        self->after = s_strv (after, &self->nafter);
        for (size_t i = 0; i < self->nafter; i++)
            if (!job_id_valid (self->after[i])) {
                char *field = xasprintf ("after[%zu]", i);
                s_fail (err, where, field, "'%s' is not a valid job id", self->after[i]);
                free (field);
                goto error;
            }
    }
    if ((v = json_object_get (json, "schedule"))) {
        cron_t *cron = cron_parse (json_string_value (v));
        if (!cron) {
            s_fail (err, where, "schedule", "is not a cron schedule: %s", cairn_strerror_last ());
            goto error;
        }
        cron_destroy (&cron);
        if (after) {
            s_fail (err, where, "after", "cannot be given with schedule: each run of a "
                    "scheduled job is started by its schedule");
            goto error;
        }
        self->schedule = xstrdup (json_string_value (v));
    }
    if ((v = json_object_get (json, "overlap"))) {
        if (!self->schedule) {
            s_fail (err, where, "overlap", "applies only to a job with a schedule");
            goto error;
        }
        self->overlap = strcmp (json_string_value (v), "queue") == 0 ? OVERLAP_QUEUE
                                                                      : OVERLAP_SKIP;
    }
    return self;

error:
    s_name_job (err, id, where);
    jobspec_destroy (&self);
    return NULL;
}

json_t *
jobspec_to_json (const jobspec_t *self)
{
    assert (self);
    json_t *json = json_object ();
    if (self->id)
        json_object_set_new (json, "id", json_string (self->id));
    if (self->command)
        json_object_set_new (json, "command", json_string (self->command));
    else {
        json_t *argv = json_array ();
        for (size_t i = 0; self->argv && self->argv[i]; i++)
            json_array_append_new (argv, json_string (self->argv[i]));
        json_object_set_new (json, "argv", argv);
    }
    json_object_set_new (json, "cpus", json_real ((double) self->millicpus / 1000.0));
    json_object_set_new (json, "mem", json_integer ((json_int_t) self->mem));
    if (self->disk)
        json_object_set_new (json, "disk", json_integer ((json_int_t) self->disk));
    if (self->is_array) {
        char range[64];
        snprintf (range, sizeof range, "%" PRId64 "-%" PRId64, self->first, self->last);
        json_object_set_new (json, "array", json_string (range));
    }
    else
        json_object_set_new (json, "count", json_integer (self->last - self->first + 1));
    json_object_set_new (json, "retries", json_integer (self->retries));
    json_object_set_new (json, "priority", json_integer (self->priority));
    json_object_set_new (json, "max_parallel", json_integer (self->max_parallel));
    if (self->nenv) {
        json_t *env = json_object ();
        for (size_t i = 0; i < self->nenv; i++)
            json_object_set_new (env, self->env_keys[i], json_string (self->env_values[i]));
        json_object_set_new (json, "env", env);
    }
    if (self->nafter) {
        json_t *after = json_array ();
        for (size_t i = 0; i < self->nafter; i++)
            json_array_append_new (after, json_string (self->after[i]));
        json_object_set_new (json, "after", after);
    }
    if (self->schedule) {
        json_object_set_new (json, "schedule", json_string (self->schedule));
        json_object_set_new (json, "overlap",
                             json_string (self->overlap == OVERLAP_QUEUE ? "queue" : "skip"));
    }
    return json;
}

jobspec_t *
jobspec_dup (const jobspec_t *self)
{
    json_t *json = jobspec_to_json (self);
    jcheck_error_t err = { 0 };
    jobspec_t *copy = jobspec_from_json (json, NULL, &err);
    assert (copy);              /* our own JSON reads back */
    json_decref (json);
    return copy;
}

void
jobspec_destroy (jobspec_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    jobspec_t *self = *self_p;
    free (self->id);
    free (self->command);
    s_strv_free (self->argv);
    s_strv_free (self->env_keys);
    s_strv_free (self->env_values);
    s_strv_free (self->after);
    free (self->schedule);
    free (self);
    *self_p = NULL;
}

void
jobspec_set_id (jobspec_t *self, const char *id)
{
    assert (self && job_id_valid (id));
    free (self->id);
    self->id = xstrdup (id);
}

int64_t
jobspec_tasks (const jobspec_t *self)
{
    return self->last - self->first + 1;
}

void
jobs_free (jobspec_t ***jobs, int n)
{
    if (!jobs || !*jobs)
        return;
    for (int i = 0; i < n; i++)
        jobspec_destroy (&(*jobs)[i]);
    free (*jobs);
    *jobs = NULL;
}

/*  Depth-first search for a cycle through job i; on finding one, fills
    *err with the path. colour: 0 unseen, 1 on the path, 2 done.         */
static int
s_visit (jobspec_t **jobs, int n, int i, int *colour, int *path, int depth, jcheck_error_t *err,
         const char *const *where)
{
    colour[i] = 1;
    path[depth] = i;
    for (size_t k = 0; k < jobs[i]->nafter; k++) {
        int j = -1;
        for (int m = 0; m < n; m++)
            if (jobs[m]->id && strcmp (jobs[m]->id, jobs[i]->after[k]) == 0)
                j = m;
        if (j < 0 || colour[j] == 2)
            continue;
        if (colour[j] == 1) {
            size_t len = 0, cap = 256;
            char *text = xzalloc (cap);
            int start = depth;
            while (path[start] != j)
                start--;
            for (int d = start; d <= depth; d++) {
                const char *id = jobs[path[d]]->id;
                while (len + strlen (id) + 8 > cap)
                    text = xrealloc (text, cap *= 2);
                len += (size_t) sprintf (text + len, "%s -> ", id);
            }
            while (len + strlen (jobs[j]->id) + 1 > cap)
                text = xrealloc (text, cap *= 2);
            strcpy (text + len, jobs[j]->id);
            s_fail (err, where[i], "after", "makes a cycle: %s", text);
            s_name_job (err, jobs[i]->id, where[i]);
            free (text);
            return -1;
        }
        if (s_visit (jobs, n, j, colour, path, depth + 1, err, where) < 0)
            return -1;
    }
    colour[i] = 2;
    return 0;
}

int
jobs_from_json (json_t *doc, bool assign_ids, job_known_fn *known, void *arg,
                jobspec_t ***jobs_out, jcheck_error_t *err)
{
    assert (jobs_out && err);
    json_t *list = NULL;
    bool lone = false;
    if (json_is_object (doc) && json_object_get (doc, "jobs")) {
        list = json_object_get (doc, "jobs");
        if (json_object_size (doc) != 1) {
            const char *key;
            json_t *v;
            json_object_foreach (doc, key, v)
                if (strcmp (key, "jobs") != 0)
                    break;
            jcheck_fail (err, key, "is not expected beside jobs (a job file is a job, an "
                         "array of jobs, or {\"jobs\": [...]})");
            return -1;
        }
        if (!json_is_array (list)) {
            jcheck_fail (err, "jobs", "must be an array of jobs");
            return -1;
        }
    }
    else if (json_is_array (doc))
        list = doc;
    else if (json_is_object (doc))
        lone = true;
    else {
        jcheck_fail (err, NULL, "a job file must hold a job (a JSON object), an array of jobs "
                     "or {\"jobs\": [...]}");
        return -1;
    }
    int n = lone ? 1 : (int) json_array_size (list);
    if (n == 0) {
        jcheck_fail (err, lone ? NULL : "jobs", "holds no job");
        return -1;
    }
    if (n > 10000) {
        jcheck_fail (err, "jobs", "holds %d jobs; at most 10000 at a time", n);
        return -1;
    }
    bool file_form = json_is_object (doc) && !lone;
    jobspec_t **jobs = xzalloc ((size_t) n * sizeof *jobs);
    char **where = xzalloc ((size_t) n * sizeof *where);
    int *colour = NULL, *path = NULL;
    for (int i = 0; i < n; i++) {
        where[i] = lone ? NULL : xasprintf (file_form ? "jobs[%d]" : "[%d]", i);
        jobs[i] = jobspec_from_json (lone ? doc : json_array_get (list, (size_t) i), where[i], err);
        if (!jobs[i])
            goto error;
        if (!jobs[i]->id && assign_ids) {
            char id[32];
            snprintf (id, sizeof id, lone ? "job" : "job%d", i + 1);
            jobs[i]->id = xstrdup (id);
        }
        for (int k = 0; k < i && jobs[i]->id; k++)
            if (jobs[k]->id && strcmp (jobs[k]->id, jobs[i]->id) == 0) {
                s_fail (err, where[i], "id", "'%s' is already the id of %s", jobs[i]->id,
                        where[k]);
                s_name_job (err, jobs[i]->id, where[i]);
                goto error;
            }
    }
    /*  Dependencies: each names a job of the file or a known one.        */
    for (int i = 0; i < n; i++)
        for (size_t k = 0; k < jobs[i]->nafter; k++) {
            const char *dep = jobs[i]->after[k];
            bool found = false;
            for (int m = 0; m < n && !found; m++)
                found = jobs[m]->id && strcmp (jobs[m]->id, dep) == 0;
            if (!found && !(known && known (dep, arg))) {
                char *field = xasprintf ("after[%zu]", k);
                s_fail (err, where[i], field, "names job '%s', which does not exist", dep);
                s_name_job (err, jobs[i]->id, where[i]);
                free (field);
                goto error;
            }
            if (jobs[i]->id && strcmp (dep, jobs[i]->id) == 0) {
                char *field = xasprintf ("after[%zu]", k);
                s_fail (err, where[i], field, "names the job itself");
                s_name_job (err, jobs[i]->id, where[i]);
                free (field);
                goto error;
            }
        }
    colour = xzalloc ((size_t) n * sizeof (int));
    path = xzalloc ((size_t) n * sizeof (int));
    for (int i = 0; i < n; i++)
        if (colour[i] == 0 && jobs[i]->id
            && s_visit (jobs, n, i, colour, path, 0, err, (const char *const *) where) < 0)
            goto error;
    for (int i = 0; i < n; i++)
        free (where[i]);
    free (where);
    free (colour);
    free (path);
    *jobs_out = jobs;
    return n;

error:
    for (int i = 0; i < n; i++)
        free (where[i]);
    free (where);
    free (colour);
    free (path);
    jobs_free (&jobs, n);
    return -1;
}

int
jobs_from_text (const char *text, size_t size, bool assign_ids, job_known_fn *known, void *arg,
                jobspec_t ***jobs, jcheck_error_t *err)
{
    json_t *doc = jcheck_load (text, size, err);
    if (!doc)
        return -1;
    int n = jobs_from_json (doc, assign_ids, known, arg, jobs, err);
    json_decref (doc);
    return n;
}
