/*  service.c - cairn-service's scheduler.

    State: apps (wanted instances, target version, versions kept),
    deployments (one active per app at most), tasks (one per instance
    copy the master may know of). Every change is written to the store
    as it is made; the loop commits once per pass before any action goes
    out (group commit).

    Invariants:
    - A task is in the store before it is launched, and leaves the store
      only when it is known to have ended: a restart adopts every task
      that may still run and launches none twice.
    - "Live" tasks are those not being killed: the scheduler launches only
      while an app has fewer live tasks than wanted (plus the surge of a
      rollout), and kills live tasks beyond that.
    - A task update for a task that is not in the books (a copy replaced
      while its agent was unreachable, or a task of a deleted app) kills
      it: no duplicate survives an agent's return.
    - A rollout kills a healthy old task only while the healthy count
      stays at or above ceil(min_healthy x wanted).                     */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "app.h"
#include "error.h"
#include "ids.h"
#include "log.h"
#include "service.h"
#include "transport.h"

#define META_FRAMEWORK_ID   "framework_id"
#define BACKOFF_RESET_MS    10000       /* a task that ran this long failing starts backoff anew */
#define LOST_EXPUNGE_MS     (15 * 60 * 1000)    /* forget a replaced unreachable copy */
#define REVIVE_MIN_MS       1000        /* revives to clear filters, at most this often */
#define MAX_ACCEPT_TASKS    1000        /* the protocol's tasks per launch */
#define RECONCILE_CHUNK     10000

typedef struct {
    int64_t n;
    double created_at;
    bool good;                  /* a deployment to it succeeded */
    bool failed;                /* it was rolled back for failing */
    app_spec_t *spec;
} version_t;

typedef struct {
    char *id, *app_id;
    int64_t version;
    char *agent_id, *hostname;
    json_t *attributes;         /* the agent's attributes when it launched */
    uint16_t ports[APP_MAX_PORTS];
    size_t nports;
    cairn_task_state_t state;
    int healthy;                /* -1 not known yet, 0, 1 */
    bool has_check;             /* its version has a health check */
    double launched_at, running_since, healthy_since;   /* wall; 0: not yet */
    char *message;              /* its last update's */
    bool kill_wanted;           /* we are killing it: not live any more */
    char *kill_why;
    int64_t kill_sent;          /* mono ms, 0: not sent */
    int64_t lost_since;         /* mono ms unreachable/unknown, 0: reachable */
    double lost_since_wall;
} task_t;

typedef struct {
    char *id, *app_id;
    char *kind;                 /* create, update, scale, restart, rollback, delete */
    char *state;                /* running, succeeded, rolled_back, cancelled, superseded */
    char *message;
    int64_t from_version, to_version;
    int64_t from_instances, to_instances;
    double created_at, finished_at;
    bool rollout;               /* replaces old-version tasks */
    bool auto_rollback;         /* rolled back by itself if to_version keeps failing */
    int64_t min_healthy;        /* healthy instances the rollout keeps */
    int64_t lowest_healthy;     /* the fewest healthy seen while it ran (-1: none yet) */
    int64_t failures;           /* of to_version, in a row */
    int64_t total_failures;
    char *followed_by;          /* the deployment that took over (rollback) */
} deployment_t;

typedef struct {
    char *id;
    int64_t instances;          /* wanted */
    int64_t version;            /* target: what new tasks run */
    int64_t last_good;          /* 0: none */
    int64_t next_version;
    bool deleting;
    double created_at, updated_at;
    json_t *last_failure;
    zlistx_t *versions;         /* version_t *, ascending, owned */
    zhashx_t *tasks;            /* id -> task_t *, borrowed from the service */
    deployment_t *deployment;   /* active, borrowed from the service's list */
    int64_t backoff_ms;         /* the delay last applied, 0: none */
    int64_t launch_after;       /* mono ms: no launch before */
    int64_t want;               /* launches wanted now (service_step) */
    int64_t waiting;            /* launches held back by backoff */
} app_t;

typedef struct {
    char *hostname;
    json_t *attributes;
} agent_t;

struct _service_t {
    service_config_t cfg;
    svcdb_t *db;
    zhashx_t *apps;             /* id -> app_t *, owned */
    zhashx_t *tasks;            /* id -> task_t *, owned */
    zlistx_t *deployments;      /* deployment_t *, oldest first, owned */
    zhashx_t *agents;           /* agent id -> agent_t *: from offers, for group_by */
    char *framework_id;
    bool registered;
    bool suppressed;            /* as we last asked the driver */
    bool revive_wanted;         /* new work since the last revive */
    int64_t last_revive;
    int64_t reconcile_due;
    int64_t lost_reconciled;    /* when tasks lost to sight were last asked about */
    int64_t started;
    action_t *out_head, *out_tail;
    struct {
        uint64_t launched, killed, failed, offers_accepted, offers_declined, revives,
                 suppresses, reconciles, orphans_killed;
    } stats;
};

/*  ------------------------------------------------------------------ */
/*  Small helpers                                                       */
/*  ------------------------------------------------------------------ */

void
service_config_defaults (service_config_t *cfg)
{
    *cfg = (service_config_t) {
        .unreachable_delay_ms = 60000,
        .rollback_after = 3,
        .launch_timeout_ms = 300000,
        .reconcile_interval_ms = 300000,
        .kill_retry_ms = 30000,
        .max_deployments = 100,
        .max_versions = 20,
        .refuse_s = 60,
        .refuse_busy_s = 5,
    };
}

static void
s_set (char **slot, const char *value)
{
    char *copy = value ? xstrdup (value) : NULL;
    free (*slot);
    *slot = copy;
}

static json_t *
s_error (const char *field, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static json_t *
s_error (const char *field, const char *fmt, ...)
{
    va_list ap;
    char *message = NULL;
    va_start (ap, fmt);
    if (vasprintf (&message, fmt, ap) < 0)
        oom_abort ();
    va_end (ap);
    json_t *json = json_pack ("{s:s}", "error", message);
    if (field && *field)
        json_object_set_new (json, "field", json_string (field));
    free (message);
    return json;
}

static char *
s_dump (json_t *doc)
{
    char *text = json_dumps (doc, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text)
        oom_abort ();
    return text;
}

static json_t *
s_num_or_null (double v)
{
    return v > 0 ? json_real (v) : json_null ();
}

static bool
s_terminal (cairn_task_state_t state)
{
    return cairn_task_state_is_terminal (state);
}

/*  ------------------------------------------------------------------ */
/*  The outbox                                                          */
/*  ------------------------------------------------------------------ */

static action_t *
s_action (service_t *self, action_kind_t kind, const char *id)
{
    action_t *a = xzalloc (sizeof *a);
    a->kind = kind;
    a->id = id ? xstrdup (id) : NULL;
    if (self->out_tail)
        self->out_tail->next = a;
    else
        self->out_head = a;
    self->out_tail = a;
    return a;
}

action_t *
service_outbox_take (service_t *self)
{
    assert (self);
    action_t *list = self->out_head;
    self->out_head = self->out_tail = NULL;
    return list;
}

void
service_actions_destroy (action_t **list_p)
{
    assert (list_p);
    action_t *a = *list_p;
    while (a) {
        action_t *next = a->next;
        free (a->id);
        for (size_t i = 0; i < a->ntasks; i++)
            cairn_task_destroy (&a->tasks[i]);
        free (a->tasks);
        cairn_status_destroy (&a->status);
        for (size_t i = 0; i < a->nids; i++)
            free (a->task_ids[i]);
        free (a->task_ids);
        free (a);
        a = next;
    }
    *list_p = NULL;
}

/*  ------------------------------------------------------------------ */
/*  Objects and their records                                           */
/*  ------------------------------------------------------------------ */

static void
s_version_destroy (version_t **v_p)
{
    if (*v_p) {
        app_spec_destroy (&(*v_p)->spec);
        free (*v_p);
        *v_p = NULL;
    }
}

static void
s_task_destroy (task_t **t_p)
{
    task_t *t = *t_p;
    if (!t)
        return;
    free (t->id);
    free (t->app_id);
    free (t->agent_id);
    free (t->hostname);
    json_decref (t->attributes);
    free (t->message);
    free (t->kill_why);
    free (t);
    *t_p = NULL;
}

static void
s_deployment_destroy (deployment_t **d_p)
{
    deployment_t *d = *d_p;
    if (!d)
        return;
    free (d->id);
    free (d->app_id);
    free (d->kind);
    free (d->state);
    free (d->message);
    free (d->followed_by);
    free (d);
    *d_p = NULL;
}

static void
s_app_destroy (app_t **app_p)
{
    app_t *app = *app_p;
    if (!app)
        return;
    version_t *v;
    while ((v = zlistx_detach (app->versions, NULL)))
        s_version_destroy (&v);
    zlistx_destroy (&app->versions);
    zhashx_destroy (&app->tasks);
    json_decref (app->last_failure);
    free (app->id);
    free (app);
    *app_p = NULL;
}

static void
s_agent_destroy (void **item)
{
    agent_t *a = *item;
    if (a) {
        free (a->hostname);
        json_decref (a->attributes);
        free (a);
        *item = NULL;
    }
}

static app_t *
s_app_new (const char *id)
{
    app_t *app = xzalloc (sizeof *app);
    app->id = xstrdup (id);
    app->versions = zlistx_new ();
    app->tasks = zhashx_new ();
    app->next_version = 1;
    return app;
}

static version_t *
s_version (app_t *app, int64_t n)
{
    for (version_t *v = zlistx_first (app->versions); v; v = zlistx_next (app->versions))
        if (v->n == n)
            return v;
    return NULL;
}

static const app_spec_t *
s_spec (app_t *app)
{
    version_t *v = s_version (app, app->version);
    return v ? v->spec : NULL;
}

static void
s_save_app (service_t *self, app_t *app)
{
    json_t *doc = json_pack ("{s:I s:I s:I s:I s:b s:f s:f s:O?}",
                             "instances", (json_int_t) app->instances,
                             "version", (json_int_t) app->version,
                             "last_good", (json_int_t) app->last_good,
                             "next_version", (json_int_t) app->next_version,
                             "deleting", app->deleting, "created_at", app->created_at,
                             "updated_at", app->updated_at, "last_failure", app->last_failure);
    char *text = s_dump (doc);
    if (svcdb_put (self->db, SVCDB_APPS, app->id, app->id, 0, text) < 0)
        log_error ("cannot record app %s: %s", app->id, cairn_strerror_last ());
    free (text);
    json_decref (doc);
}

static void
s_save_version (service_t *self, app_t *app, version_t *v)
{
    json_t *doc = json_pack ("{s:O s:f s:b s:b}", "definition", v->spec->doc,
                             "created_at", v->created_at, "good", v->good, "failed", v->failed);
    char *text = s_dump (doc);
    if (svcdb_put (self->db, SVCDB_VERSIONS, app->id, app->id, v->n, text) < 0)
        log_error ("cannot record version %" PRId64 " of app %s: %s", v->n, app->id,
                   cairn_strerror_last ());
    free (text);
    json_decref (doc);
}

static json_t *
s_ports_json (const task_t *t)
{
    json_t *ports = json_array ();
    for (size_t i = 0; i < t->nports; i++)
        json_array_append_new (ports, json_integer (t->ports[i]));
    return ports;
}

static void
s_save_task (service_t *self, task_t *t)
{
    json_t *doc = json_pack ("{s:I s:s s:s s:O s:o s:s s:i s:b s:f s:f s:f s:s s:b s:s? s:f}",
                             "version", (json_int_t) t->version, "agent_id", t->agent_id,
                             "hostname", t->hostname, "attributes", t->attributes,
                             "ports", s_ports_json (t), "state", cairn_task_state_name (t->state),
                             "healthy", t->healthy, "has_check", t->has_check,
                             "launched_at", t->launched_at, "running_since", t->running_since,
                             "healthy_since", t->healthy_since,
                             "message", t->message ? t->message : "",
                             "kill_wanted", t->kill_wanted, "kill_why", t->kill_why,
                             "lost_since", t->lost_since ? t->lost_since_wall : 0.0);
    char *text = s_dump (doc);
    if (svcdb_put (self->db, SVCDB_TASKS, t->id, t->app_id, 0, text) < 0)
        log_error ("cannot record task %s: %s", t->id, cairn_strerror_last ());
    free (text);
    json_decref (doc);
}

static json_t *
s_deployment_doc (const deployment_t *d)
{
    return json_pack ("{s:s s:s s:s s:s s:s s:I s:I s:I s:I s:f s:f s:b s:b s:I s:I s:I s:I "
                      "s:s?}",
                      "id", d->id, "app_id", d->app_id, "kind", d->kind, "state", d->state,
                      "message", d->message ? d->message : "",
                      "from_version", (json_int_t) d->from_version,
                      "to_version", (json_int_t) d->to_version,
                      "from_instances", (json_int_t) d->from_instances,
                      "to_instances", (json_int_t) d->to_instances,
                      "created_at", d->created_at, "finished_at", d->finished_at,
                      "rollout", d->rollout, "auto_rollback", d->auto_rollback,
                      "min_healthy", (json_int_t) d->min_healthy,
                      "lowest_healthy", (json_int_t) d->lowest_healthy,
                      "failures", (json_int_t) d->failures,
                      "total_failures", (json_int_t) d->total_failures,
                      "followed_by", d->followed_by);
}

static void
s_save_deployment (service_t *self, deployment_t *d)
{
    json_t *doc = s_deployment_doc (d);
    char *text = s_dump (doc);
    if (svcdb_put (self->db, SVCDB_DEPLOYMENTS, d->id, d->app_id, 0, text) < 0)
        log_error ("cannot record deployment %s: %s", d->id, cairn_strerror_last ());
    free (text);
    json_decref (doc);
}

/*  ------------------------------------------------------------------ */
/*  Loading the store                                                   */
/*  ------------------------------------------------------------------ */

typedef struct {
    service_t *self;
    int errors;
    int64_t now;
} load_t;

static double
s_jnum (json_t *doc, const char *key)
{
    return json_number_value (json_object_get (doc, key));
}

static int64_t
s_jint (json_t *doc, const char *key)
{
    return (int64_t) json_integer_value (json_object_get (doc, key));
}

static const char *
s_jstr (json_t *doc, const char *key)
{
    const char *s = json_string_value (json_object_get (doc, key));
    return s ? s : "";
}

static json_t *
s_load_doc (load_t *l, const char *what, const char *key, const char *text)
{
    json_error_t jerr;
    json_t *doc = json_loads (text, 0, &jerr);
    if (!json_is_object (doc)) {
        log_error ("%s %s in %s is not a JSON object; ignored", what, key,
                   svcdb_path (l->self->db));
        json_decref (doc);
        l->errors++;
        return NULL;
    }
    return doc;
}

static void
s_load_app (void *arg, const char *key, const char *app_id, int64_t version, const char *text)
{
    load_t *l = arg;
    json_t *doc = s_load_doc (l, "app", key, text);
    if (!doc)
        return;
    app_t *app = s_app_new (key);
    app->instances = s_jint (doc, "instances");
    app->version = s_jint (doc, "version");
    app->last_good = s_jint (doc, "last_good");
    app->next_version = s_jint (doc, "next_version");
    app->deleting = json_is_true (json_object_get (doc, "deleting"));
    app->created_at = s_jnum (doc, "created_at");
    app->updated_at = s_jnum (doc, "updated_at");
    json_t *failure = json_object_get (doc, "last_failure");
    app->last_failure = json_is_object (failure) ? json_incref (failure) : NULL;
    zhashx_insert (l->self->apps, app->id, app);
    json_decref (doc);
}

static void
s_load_version (void *arg, const char *key, const char *app_id, int64_t n, const char *text)
{
    load_t *l = arg;
    app_t *app = zhashx_lookup (l->self->apps, key);
    json_t *doc = app ? s_load_doc (l, "version of app", key, text) : NULL;
    if (!doc)
        return;
    jcheck_error_t err = { 0 };
    char *def = s_dump (json_object_get (doc, "definition"));
    app_spec_t *spec = app_spec_load (def, &err);
    free (def);
    if (!spec) {
        log_error ("version %" PRId64 " of app %s in %s no longer reads as a definition (%s); "
                   "ignored", n, key, svcdb_path (l->self->db), err.message);
        jcheck_error_clear (&err);
        l->errors++;
    }
    else {
        version_t *v = xzalloc (sizeof *v);
        v->n = n;
        v->spec = spec;
        v->created_at = s_jnum (doc, "created_at");
        v->good = json_is_true (json_object_get (doc, "good"));
        v->failed = json_is_true (json_object_get (doc, "failed"));
        zlistx_add_end (app->versions, v);
    }
    json_decref (doc);
}

static void
s_load_deployment (void *arg, const char *key, const char *app_id, int64_t version,
                   const char *text)
{
    load_t *l = arg;
    json_t *doc = s_load_doc (l, "deployment", key, text);
    if (!doc)
        return;
    deployment_t *d = xzalloc (sizeof *d);
    d->id = xstrdup (key);
    d->app_id = xstrdup (app_id);
    d->kind = xstrdup (s_jstr (doc, "kind"));
    d->state = xstrdup (s_jstr (doc, "state"));
    d->message = xstrdup (s_jstr (doc, "message"));
    d->from_version = s_jint (doc, "from_version");
    d->to_version = s_jint (doc, "to_version");
    d->from_instances = s_jint (doc, "from_instances");
    d->to_instances = s_jint (doc, "to_instances");
    d->created_at = s_jnum (doc, "created_at");
    d->finished_at = s_jnum (doc, "finished_at");
    d->rollout = json_is_true (json_object_get (doc, "rollout"));
    json_t *auto_rb = json_object_get (doc, "auto_rollback");
    d->auto_rollback = auto_rb ? json_is_true (auto_rb)
                               : strcmp (d->kind, "update") == 0 || strcmp (d->kind, "restart") == 0;
    d->min_healthy = s_jint (doc, "min_healthy");
    d->lowest_healthy = s_jint (doc, "lowest_healthy");
    d->failures = s_jint (doc, "failures");
    d->total_failures = s_jint (doc, "total_failures");
    const char *followed = json_string_value (json_object_get (doc, "followed_by"));
    d->followed_by = followed ? xstrdup (followed) : NULL;
    zlistx_add_end (l->self->deployments, d);
    json_decref (doc);
}

static void
s_load_task (void *arg, const char *key, const char *app_id, int64_t version, const char *text)
{
    load_t *l = arg;
    json_t *doc = s_load_doc (l, "task", key, text);
    if (!doc)
        return;
    task_t *t = xzalloc (sizeof *t);
    t->id = xstrdup (key);
    t->app_id = xstrdup (app_id);
    t->version = s_jint (doc, "version");
    t->agent_id = xstrdup (s_jstr (doc, "agent_id"));
    t->hostname = xstrdup (s_jstr (doc, "hostname"));
    json_t *attrs = json_object_get (doc, "attributes");
    t->attributes = json_is_object (attrs) ? json_incref (attrs) : json_object ();
    json_t *ports = json_object_get (doc, "ports");
    for (size_t i = 0; i < json_array_size (ports) && i < APP_MAX_PORTS; i++)
        t->ports[t->nports++] = (uint16_t) json_integer_value (json_array_get (ports, i));
    if (cairn_task_state_parse (s_jstr (doc, "state"), &t->state) < 0)
        t->state = CAIRN_TASK_STAGING;
    t->healthy = (int) s_jint (doc, "healthy");
    t->has_check = json_is_true (json_object_get (doc, "has_check"));
    t->launched_at = s_jnum (doc, "launched_at");
    t->running_since = s_jnum (doc, "running_since");
    t->healthy_since = s_jnum (doc, "healthy_since");
    t->message = xstrdup (s_jstr (doc, "message"));
    t->kill_wanted = json_is_true (json_object_get (doc, "kill_wanted"));
    const char *why = json_string_value (json_object_get (doc, "kill_why"));
    t->kill_why = why ? xstrdup (why) : NULL;
    double lost = s_jnum (doc, "lost_since");
    if (lost > 0) {
        /*  Carried over to this process's monotonic clock.               */
        double ago_ms = (clock_wall () - lost) * 1000.0;
        t->lost_since = l->now - (int64_t) (ago_ms > 0 ? ago_ms : 0);
        if (t->lost_since <= 0)
            t->lost_since = 1;
        t->lost_since_wall = lost;
    }
    zhashx_insert (l->self->tasks, t->id, t);
    json_decref (doc);
}

static int
s_load (service_t *self, int64_t now)
{
    load_t l = { .self = self, .now = now };
    char *fwid = svcdb_get_meta (self->db, META_FRAMEWORK_ID);
    if (!fwid && errno != ENOENT)
        return -1;
    self->framework_id = fwid;
    if (svcdb_load (self->db, SVCDB_APPS, s_load_app, &l) < 0
        || svcdb_load (self->db, SVCDB_VERSIONS, s_load_version, &l) < 0
        || svcdb_load (self->db, SVCDB_DEPLOYMENTS, s_load_deployment, &l) < 0
        || svcdb_load (self->db, SVCDB_TASKS, s_load_task, &l) < 0)
        return -1;
    /*  Deployments by creation time (ids are random).                     */
    size_t n = zlistx_size (self->deployments);
    deployment_t **sorted = xzalloc ((n ? n : 1) * sizeof *sorted);
    size_t k = 0;
    deployment_t *d;
    while ((d = zlistx_detach (self->deployments, NULL)))
        sorted[k++] = d;
    for (size_t i = 1; i < k; i++)
        for (size_t j = i; j > 0 && sorted[j - 1]->created_at > sorted[j]->created_at; j--) {
            deployment_t *tmp = sorted[j];
            sorted[j] = sorted[j - 1];
            sorted[j - 1] = tmp;
        }
    for (size_t i = 0; i < k; i++) {
        zlistx_add_end (self->deployments, sorted[i]);
        app_t *app = zhashx_lookup (self->apps, sorted[i]->app_id);
        if (app && strcmp (sorted[i]->state, "running") == 0) {
            if (app->deployment) {
                /*  Cannot happen; keep the newer.                          */
                s_set (&app->deployment->state, "superseded");
                s_save_deployment (self, app->deployment);
            }
            app->deployment = sorted[i];
        }
    }
    free (sorted);
    /*  Apps whose target version could not be read cannot launch; the
        operator sees why in the log and can PUT a definition again.       */
    for (app_t *app = zhashx_first (self->apps); app; app = zhashx_next (self->apps))
        if (!s_spec (app))
            log_error ("app %s: its version %" PRId64 " cannot be read; it launches nothing until "
                       "it is updated", app->id, app->version);
    for (task_t *t = zhashx_first (self->tasks); t; t = zhashx_next (self->tasks)) {
        app_t *app = zhashx_lookup (self->apps, t->app_id);
        if (app)
            zhashx_insert (app->tasks, t->id, t);
        else if (!t->kill_wanted) {
            t->kill_wanted = true;
            s_set (&t->kill_why, "its app is gone");
        }
    }
    if (l.errors)
        log_warn ("%d records of %s could not be read", l.errors, svcdb_path (self->db));
    log_info ("state: %zu apps, %zu tasks, %zu deployments; framework id %s",
              zhashx_size (self->apps), zhashx_size (self->tasks),
              zlistx_size (self->deployments), self->framework_id ? self->framework_id
                                                                  : "(none yet)");
    return 0;
}

service_t *
service_new (const service_config_t *cfg, svcdb_t *db, int64_t now)
{
    assert (cfg && db);
    service_t *self = xzalloc (sizeof *self);
    self->cfg = *cfg;
    self->db = db;
    self->apps = zhashx_new ();
    self->tasks = zhashx_new ();
    self->deployments = zlistx_new ();
    self->agents = zhashx_new ();
    zhashx_set_destructor (self->agents, s_agent_destroy);
    self->started = now;
    self->reconcile_due = now + cfg->reconcile_interval_ms;
    if (s_load (self, now) < 0) {
        service_destroy (&self);
        return NULL;
    }
    return self;
}

void
service_destroy (service_t **self_p)
{
    assert (self_p);
    service_t *self = *self_p;
    if (!self)
        return;
    for (app_t *app = zhashx_first (self->apps); app; app = zhashx_next (self->apps))
        s_app_destroy (&app);
    zhashx_destroy (&self->apps);
    for (task_t *t = zhashx_first (self->tasks); t; t = zhashx_next (self->tasks))
        s_task_destroy (&t);
    zhashx_destroy (&self->tasks);
    deployment_t *d;
    while ((d = zlistx_detach (self->deployments, NULL)))
        s_deployment_destroy (&d);
    zlistx_destroy (&self->deployments);
    zhashx_destroy (&self->agents);
    action_t *list = service_outbox_take (self);
    service_actions_destroy (&list);
    free (self->framework_id);
    free (self);
    *self_p = NULL;
}

const char *
service_framework_id (service_t *self)
{
    assert (self);
    return self->framework_id;
}

/*  ------------------------------------------------------------------ */
/*  Tasks                                                               */
/*  ------------------------------------------------------------------ */

static bool
s_live (const task_t *t)
{
    return !t->kill_wanted && !s_terminal (t->state);
}

static bool
s_healthy (const task_t *t)
{
    return s_live (t) && t->state == CAIRN_TASK_RUNNING && !t->lost_since
           && (t->has_check ? t->healthy == 1 : true);
}

static void
s_send_kill (service_t *self, task_t *t, int64_t now)
{
    if (!self->registered)
        return;                 /* sent once registered (service_step) */
    s_action (self, ACTION_KILL, t->id);
    t->kill_sent = now;
    self->stats.killed++;
}

static void
s_kill (service_t *self, task_t *t, int64_t now, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

static void
s_kill (service_t *self, task_t *t, int64_t now, const char *fmt, ...)
{
    if (t->kill_wanted)
        return;
    va_list ap;
    char *why = NULL;
    va_start (ap, fmt);
    if (vasprintf (&why, fmt, ap) < 0)
        oom_abort ();
    va_end (ap);
    log_info ("app %s: killing task %s: %s", t->app_id, t->id, why);
    t->kill_wanted = true;
    free (t->kill_why);
    t->kill_why = why;
    s_save_task (self, t);
    s_send_kill (self, t, now);
}

static void
s_forget_task (service_t *self, task_t *t)
{
    app_t *app = zhashx_lookup (self->apps, t->app_id);
    if (app)
        zhashx_delete (app->tasks, t->id);
    if (svcdb_delete (self->db, SVCDB_TASKS, t->id, 0) < 0)
        log_error ("cannot forget task %s: %s", t->id, cairn_strerror_last ());
    zhashx_delete (self->tasks, t->id);
    s_task_destroy (&t);
}

/*  The value of a constraint's field for a task.                          */
static const char *
s_task_value (const task_t *t, const char *field)
{
    if (strcmp (field, "hostname") == 0)
        return t->hostname;
    return json_string_value (json_object_get (t->attributes, field));
}

/*  ------------------------------------------------------------------ */
/*  Deployments                                                         */
/*  ------------------------------------------------------------------ */

static void
s_finish (service_t *self, deployment_t *d, const char *state, double now_wall,
          const char *fmt, ...) __attribute__ ((format (printf, 5, 6)));

static void
s_finish (service_t *self, deployment_t *d, const char *state, double now_wall,
          const char *fmt, ...)
{
    va_list ap;
    char *message = NULL;
    va_start (ap, fmt);
    if (vasprintf (&message, fmt, ap) < 0)
        oom_abort ();
    va_end (ap);
    s_set (&d->state, state);
    /*  A success keeps what the deployment was for ("automatic
        rollback: ..."); other ends say what happened instead.           */
    if (strcmp (state, "succeeded") == 0 && d->message && *d->message) {
        char *both = xasprintf ("%s; %s", d->message, message);
        free (message);
        message = both;
    }
    free (d->message);
    d->message = message;
    d->finished_at = now_wall;
    s_save_deployment (self, d);
    app_t *app = zhashx_lookup (self->apps, d->app_id);
    if (app && app->deployment == d)
        app->deployment = NULL;
    log_info ("deployment %s (%s of app %s) %s: %s", d->id, d->kind, d->app_id, state,
              d->message);
}

/*  Keeps the list of finished deployments bounded: the oldest go.         */
static void
s_prune_deployments (service_t *self)
{
    size_t finished = 0;
    for (deployment_t *d = zlistx_first (self->deployments); d;
         d = zlistx_next (self->deployments))
        finished += strcmp (d->state, "running") != 0;
    for (deployment_t *d = zlistx_first (self->deployments);
         d && finished > (size_t) self->cfg.max_deployments;
         d = zlistx_next (self->deployments)) {
        if (strcmp (d->state, "running") == 0)
            continue;
        if (svcdb_delete (self->db, SVCDB_DEPLOYMENTS, d->id, 0) < 0)
            log_error ("cannot forget deployment %s: %s", d->id, cairn_strerror_last ());
        /*  The cursor moves back, so the walk goes on after it.           */
        zlistx_detach_cur (self->deployments);
        s_deployment_destroy (&d);
        finished--;
    }
}

/*  Starts a deployment of app (superseding the one running). Only a
    change a user made (an update or a restart) is rolled back by itself:
    a rollback or a first version that fails has nothing better to go
    back to, and going further back could swing between two failing
    versions. A deployment that is not a rollout itself (a scale) but
    supersedes a running rollout carries that rollout on, or old and new
    instances would stay mixed for good.                                  */
static deployment_t *
s_deploy (service_t *self, app_t *app, const char *kind, int64_t from_version,
          int64_t from_instances, bool rollout, int64_t now)
{
    double wall = clock_wall ();
    bool auto_rollback = strcmp (kind, "update") == 0 || strcmp (kind, "restart") == 0;
    deployment_t *carried = NULL;
    if (!rollout && !app->deleting && app->deployment && app->deployment->rollout) {
        carried = app->deployment;
        rollout = true;
        auto_rollback = carried->auto_rollback;
    }
    deployment_t *d = xzalloc (sizeof *d);
    d->id = ids_new ("d");
    d->app_id = xstrdup (app->id);
    d->kind = xstrdup (kind);
    d->state = xstrdup ("running");
    d->message = xstrdup ("");
    d->from_version = from_version;
    d->to_version = app->version;
    d->from_instances = from_instances;
    d->to_instances = app->instances;
    d->created_at = wall;
    d->rollout = rollout;
    d->auto_rollback = auto_rollback;
    d->lowest_healthy = -1;
    if (carried) {
        free (d->message);
        d->message = xasprintf ("carries on the rollout of version %" PRId64 " (deployment %s)",
                                app->version, carried->id);
    }
    if (app->deployment) {
        deployment_t *old = app->deployment;
        s_set (&old->followed_by, d->id);
        s_finish (self, old, "superseded", wall, "superseded by deployment %s (%s)", d->id, kind);
    }
    zlistx_add_end (self->deployments, d);
    app->deployment = d;
    /*  New work: launch at once, whatever the backoff of the old one.     */
    app->backoff_ms = 0;
    app->launch_after = 0;
    app->updated_at = wall;
    self->revive_wanted = true;
    s_save_deployment (self, d);
    s_save_app (self, app);
    s_prune_deployments (self);
    log_info ("deployment %s: %s of app %s, version %" PRId64 " -> %" PRId64 ", instances %"
              PRId64 " -> %" PRId64, d->id, kind, app->id, from_version, app->version,
              from_instances, app->instances);
    (void) now;
    return d;
}

/*  Keeps the number of versions of an app bounded: the oldest go first,
    never the target, the last good one, or one that tasks still run.    */
static void
s_prune_versions (service_t *self, app_t *app)
{
    while ((int64_t) zlistx_size (app->versions) > self->cfg.max_versions) {
        version_t *victim = NULL;
        for (version_t *v = zlistx_first (app->versions); v && !victim;
             v = zlistx_next (app->versions)) {
            bool used = v->n == app->version || v->n == app->last_good
                        || (app->deployment && app->deployment->from_version == v->n);
            for (task_t *t = zhashx_first (app->tasks); t && !used; t = zhashx_next (app->tasks))
                used = t->version == v->n;
            if (!used)
                victim = v;
        }
        if (!victim)
            break;
        if (svcdb_delete (self->db, SVCDB_VERSIONS, app->id, victim->n) < 0)
            log_error ("cannot forget version %" PRId64 " of app %s: %s", victim->n, app->id,
                       cairn_strerror_last ());
        void *handle = zlistx_find (app->versions, victim);
        if (handle)
            zlistx_detach (app->versions, handle);
        s_version_destroy (&victim);
    }
}

static version_t *
s_add_version (service_t *self, app_t *app, app_spec_t **spec_p)
{
    version_t *v = xzalloc (sizeof *v);
    v->n = app->next_version++;
    v->created_at = clock_wall ();
    v->spec = *spec_p;
    *spec_p = NULL;
    zlistx_add_end (app->versions, v);
    s_save_version (self, app, v);
    return v;
}

/*  The newest good version other than `not`, or 0.                        */
static int64_t
s_good_version (app_t *app, int64_t not)
{
    if (app->last_good && app->last_good != not && s_version (app, app->last_good))
        return app->last_good;
    int64_t best = 0;
    for (version_t *v = zlistx_first (app->versions); v; v = zlistx_next (app->versions))
        if (v->good && v->n != not && v->n > best)
            best = v->n;
    return best;
}

/*  The new version keeps failing: back to the last good one.              */
static void
s_auto_rollback (service_t *self, app_t *app, deployment_t *d, const char *last, int64_t now)
{
    bool eligible = d->auto_rollback;         /* see s_deploy */
    int64_t target = eligible ? s_good_version (app, d->to_version) : 0;
    if (!target) {
        free (d->message);
        d->message = xasprintf ("version %" PRId64 " failed %" PRId64 " times in a row (last: "
                                "%s); %s, so it keeps trying with backoff", d->to_version,
                                d->failures, last, eligible ? "there is no earlier good version "
                                "to roll back to" : "this deployment is not rolled back by itself");
        s_save_deployment (self, d);
        return;
    }
    version_t *bad = s_version (app, d->to_version);
    if (bad) {
        bad->failed = true;
        s_save_version (self, app, bad);
    }
    int64_t failed_version = d->to_version;
    int64_t failures = d->failures;
    app->version = target;
    deployment_t *next = s_deploy (self, app, "rollback", failed_version, app->instances, true,
                                   now);
    free (next->message);
    next->message = xasprintf ("automatic rollback: version %" PRId64 " failed %" PRId64
                               " times in a row (last: %s)", failed_version, failures, last);
    s_save_deployment (self, next);
    /*  s_deploy marked d superseded; say what really happened.            */
    s_finish (self, d, "rolled_back", clock_wall (), "version %" PRId64 " failed %" PRId64
              " times in a row (last: %s); rolled back to version %" PRId64 " (deployment %s)",
              failed_version, failures, last, target, next->id);
}

/*  ------------------------------------------------------------------ */
/*  Failures and backoff                                                */
/*  ------------------------------------------------------------------ */

/*  Causes outside the app: the instance is replaced at once, without
    backoff, and it does not count against a new version.                 */
static bool
s_infrastructure (cairn_task_state_t state, cairn_reason_t reason)
{
    if (state == CAIRN_TASK_LOST || state == CAIRN_TASK_DROPPED || state == CAIRN_TASK_GONE
        || state == CAIRN_TASK_UNREACHABLE || state == CAIRN_TASK_UNKNOWN)
        return true;
    return reason == CAIRN_REASON_AGENT_REMOVED || reason == CAIRN_REASON_AGENT_DISCONNECTED
           || reason == CAIRN_REASON_AGENT_RESTARTED || reason == CAIRN_REASON_FRAMEWORK_REMOVED
           || reason == CAIRN_REASON_INVALID_OFFERS;
}

/*  A task ended without being asked to.                                   */
static void
s_failed (service_t *self, app_t *app, task_t *t, cairn_task_state_t state,
          cairn_reason_t reason, const char *message, int64_t now)
{
    double wall = clock_wall ();
    json_decref (app->last_failure);
    app->last_failure = json_pack ("{s:s s:I s:s s:s s:s s:s s:f}", "task_id", t->id,
                                   "version", (json_int_t) t->version,
                                   "host", t->hostname, "state", cairn_task_state_name (state),
                                   "reason", cairn_reason_name (reason) ? cairn_reason_name (reason)
                                                                        : "REASON_NONE",
                                   "message", message, "at", wall);
    s_save_app (self, app);
    self->revive_wanted = true;
    if (s_infrastructure (state, reason)) {
        log_info ("app %s: task %s is gone (%s: %s); replacing it", app->id, t->id,
                  cairn_task_state_name (state), message);
        return;
    }
    self->stats.failed++;
    const app_spec_t *spec = s_spec (app);
    if (spec) {
        bool lived = t->running_since > 0 && (wall - t->running_since) * 1000.0 >= BACKOFF_RESET_MS;
        int64_t delay = spec->backoff_initial_ms;
        if (app->backoff_ms > 0 && !lived) {
            double next = (double) app->backoff_ms * spec->backoff_factor;
            delay = next > (double) spec->backoff_max_ms ? spec->backoff_max_ms : (int64_t) next;
        }
        app->backoff_ms = delay > 0 ? delay : 0;
        app->launch_after = now + app->backoff_ms;
    }
    log_info ("app %s: task %s failed (%s: %s); next launch in %.1f s", app->id, t->id,
              cairn_task_state_name (state), message, (double) app->backoff_ms / 1000.0);
    deployment_t *d = app->deployment;
    if (d && d->rollout && t->version == d->to_version) {
        d->failures++;
        d->total_failures++;
        s_save_deployment (self, d);
        if (d->failures >= self->cfg.rollback_after)
            s_auto_rollback (self, app, d, message, now);
    }
}

/*  ------------------------------------------------------------------ */
/*  The step: rollouts, replacements, kills, demand                     */
/*  ------------------------------------------------------------------ */

/*  Which live tasks go first when some must: not running yet, then
    unhealthy, then not of the target version (arg), then the newest.     */
static int
s_cmp_victims (const void *a, const void *b, void *arg)
{
    const task_t *x = *(const task_t *const *) a, *y = *(const task_t *const *) b;
    int64_t target = *(const int64_t *) arg;
    int rx = x->state == CAIRN_TASK_RUNNING, ry = y->state == CAIRN_TASK_RUNNING;
    if (rx != ry)
        return rx - ry;
    int hx = s_healthy (x), hy = s_healthy (y);
    if (hx != hy)
        return hx - hy;
    int vx = x->version == target, vy = y->version == target;
    if (vx != vy)
        return vx - vy;
    return x->launched_at > y->launched_at ? -1 : x->launched_at < y->launched_at;
}

/*  Kills `count` of the live tasks for which keep() is false, in victim
    order; returns how many it killed.                                    */
static int64_t
s_kill_some (service_t *self, app_t *app, int64_t count, int64_t version_filter,
             bool only_other_versions, int64_t now, const char *why)
{
    if (count <= 0)
        return 0;
    size_t n = 0;
    task_t **list = xzalloc ((zhashx_size (app->tasks) + 1) * sizeof *list);
    for (task_t *t = zhashx_first (app->tasks); t; t = zhashx_next (app->tasks))
        if (s_live (t) && (!only_other_versions || t->version != version_filter))
            list[n++] = t;
    qsort_r (list, n, sizeof *list, s_cmp_victims, &app->version);
    int64_t killed = 0;
    for (size_t i = 0; i < n && killed < count; i++, killed++)
        s_kill (self, list[i], now, "%s", why);
    free (list);
    return killed;
}

typedef struct {
    int64_t live, healthy;
    int64_t new_live, new_healthy;      /* of the target version */
    int64_t old_live, old_healthy;
    int64_t running, staging, lost, killing;
} counts_t;

static counts_t
s_count (app_t *app)
{
    counts_t c = { 0 };
    for (task_t *t = zhashx_first (app->tasks); t; t = zhashx_next (app->tasks)) {
        if (!s_live (t)) {
            /*  A copy on an unreachable agent cannot be waited for.       */
            c.killing += !t->lost_since;
            continue;
        }
        bool healthy = s_healthy (t);
        bool target = t->version == app->version;
        c.live++;
        c.healthy += healthy;
        c.new_live += target;
        c.new_healthy += target && healthy;
        c.old_live += !target;
        c.old_healthy += !target && healthy;
        c.running += t->state == CAIRN_TASK_RUNNING && !t->lost_since;
        c.staging += t->state == CAIRN_TASK_STAGING || t->state == CAIRN_TASK_STARTING;
        c.lost += t->lost_since != 0;
    }
    return c;
}

static int64_t
s_min_healthy (const app_spec_t *spec, int64_t n)
{
    return (int64_t) ceil (spec->min_healthy * (double) n - 1e-9);
}

static int64_t
s_surge (const app_spec_t *spec, int64_t n)
{
    int64_t surge = (int64_t) floor (spec->max_surge * (double) n + 1e-9);
    /*  With no surge and every instance required healthy nothing could
        move: allow one extra so the rollout progresses.                   */
    if (surge == 0 && n > 0 && s_min_healthy (spec, n) >= n)
        surge = 1;
    return surge;
}

/*  A rollout: returns how many new-version tasks to launch.               */
static int64_t
s_rollout (service_t *self, app_t *app, deployment_t *d, const app_spec_t *spec, int64_t now)
{
    int64_t n = app->instances;
    int64_t min = s_min_healthy (spec, n);
    int64_t max_total = n + s_surge (spec, n);
    d->min_healthy = min;
    char why[128];
    snprintf (why, sizeof why, "replaced by version %" PRId64 " (deployment %s)", app->version,
              d->id);
    counts_t c = s_count (app);
    /*  Old tasks that are not healthy cost nothing to replace.            */
    for (task_t *t = zhashx_first (app->tasks); t; t = zhashx_next (app->tasks))
        if (s_live (t) && t->version != app->version && !s_healthy (t))
            s_kill (self, t, now, "%s", why);
    /*  Healthy old ones, while enough stay healthy.                       */
    c = s_count (app);
    int64_t spare = c.healthy - min;
    if (spare > 0 && c.old_live > 0)
        s_kill_some (self, app, spare < c.old_live ? spare : c.old_live, app->version, true, now,
                     why);
    /*  More new ones than wanted (an agent came back): the surplus.      */
    c = s_count (app);
    if (c.new_live > n)
        s_kill_some (self, app, c.new_live - n, 0, false, now, "more instances than wanted");
    c = s_count (app);
    if (d->lowest_healthy < 0 || c.healthy < d->lowest_healthy) {
        d->lowest_healthy = c.healthy;
        s_save_deployment (self, d);
    }
    if (c.new_healthy >= n && c.old_live == 0 && c.new_live == n && c.killing == 0) {
        version_t *v = s_version (app, app->version);
        if (v && !v->good) {
            v->good = true;
            s_save_version (self, app, v);
        }
        app->last_good = app->version;
        s_save_app (self, app);
        s_finish (self, d, "succeeded", clock_wall (), "version %" PRId64 " runs, healthy "
                  "instances: %" PRId64, app->version, n);
        return 0;
    }
    int64_t launch = n - c.new_live;
    if (c.live + launch > max_total)
        launch = max_total - c.live;
    return launch > 0 ? launch : 0;
}

/*  No rollout: keep `instances` live, whatever their versions.           */
static int64_t
s_steady (service_t *self, app_t *app, deployment_t *d, int64_t now)
{
    int64_t n = app->instances;
    counts_t c = s_count (app);
    if (c.live > n)
        s_kill_some (self, app, c.live - n, 0, false, now, d ? "scaled down"
                                                              : "more instances than wanted");
    c = s_count (app);
    if (d && c.live == n && c.healthy >= n && c.killing == 0) {
        if (app->version && s_version (app, app->version) && !app->last_good) {
            app->last_good = app->version;
            s_save_app (self, app);
        }
        s_finish (self, d, "succeeded", clock_wall (), "healthy instances: %" PRId64, n);
    }
    return n > c.live ? n - c.live : 0;
}

/*  Removes an app whose delete has finished.                              */
static void
s_remove_app (service_t *self, app_t *app)
{
    if (svcdb_delete (self->db, SVCDB_APPS, app->id, 0) < 0)
        log_error ("cannot forget app %s: %s", app->id, cairn_strerror_last ());
    zhashx_delete (self->apps, app->id);
    log_info ("app %s is deleted", app->id);
    s_app_destroy (&app);
}

/*  One app's housekeeping; returns true if the app was removed.          */
static bool
s_step_app (service_t *self, app_t *app, int64_t now)
{
    double wall = clock_wall ();
    app->want = app->waiting = 0;
    for (task_t *t = zhashx_first (app->tasks); t; t = zhashx_next (app->tasks)) {
        if (t->kill_wanted) {
            if (self->registered && (!t->kill_sent || now - t->kill_sent >= self->cfg.kill_retry_ms))
                s_send_kill (self, t, now);
            continue;
        }
        if (t->lost_since && now - t->lost_since >= self->cfg.unreachable_delay_ms)
            s_kill (self, t, now, "%s for %.0f s: replaced elsewhere",
                    t->state == CAIRN_TASK_UNKNOWN ? "unknown to the master" : "unreachable",
                    (double) (now - t->lost_since) / 1000.0);
        else if ((t->state == CAIRN_TASK_STAGING || t->state == CAIRN_TASK_STARTING)
                 && !t->lost_since && (wall - t->launched_at) * 1000.0 >= self->cfg.launch_timeout_ms)
            s_kill (self, t, now, "not running %.0f s after its launch: replaced",
                    wall - t->launched_at);
    }
    deployment_t *d = app->deployment;
    if (app->deleting) {
        for (task_t *t = zhashx_first (app->tasks); t; t = zhashx_next (app->tasks))
            s_kill (self, t, now, "app %s is deleted", app->id);
        if (zhashx_size (app->tasks) == 0) {
            if (d)
                s_finish (self, d, "succeeded", wall, "every instance stopped; app deleted");
            s_remove_app (self, app);
            return true;
        }
        return false;
    }
    const app_spec_t *spec = s_spec (app);
    if (!spec)
        return false;
    int64_t launch = d && d->rollout ? s_rollout (self, app, d, spec, now)
                                     : s_steady (self, app, d, now);
    if (launch > 0 && now < app->launch_after)
        app->waiting = launch;
    else
        app->want = launch;
    return false;
}

/*  Tasks unreachable or unknown to the master are asked about again and
    again until their delay is over: after a master restart the master
    learns a task again when its agent re-registers, without telling the
    framework, so only asking tells us the task is back before it would
    be replaced for nothing.                                              */
static void
s_reconcile_lost (service_t *self, int64_t now)
{
    int64_t every = self->cfg.unreachable_delay_ms / 4;
    every = every < 1000 ? 1000 : every > 10000 ? 10000 : every;
    if (now - self->lost_reconciled < every)
        return;
    action_t *a = NULL;
    for (task_t *t = zhashx_first (self->tasks); t; t = zhashx_next (self->tasks)) {
        if (!t->lost_since || t->kill_wanted)
            continue;
        if (!a) {
            a = s_action (self, ACTION_RECONCILE, NULL);
            a->task_ids = xzalloc (zhashx_size (self->tasks) * sizeof *a->task_ids);
        }
        a->task_ids[a->nids++] = xstrdup (t->id);
    }
    self->lost_reconciled = now;
}

void
service_step (service_t *self, int64_t now)
{
    assert (self);
    /*  Tasks of apps gone from the books: kill (retrying), and drop the
        record once they are long gone.                                   */
    zlistx_t *expunge = zlistx_new ();
    for (task_t *t = zhashx_first (self->tasks); t; t = zhashx_next (self->tasks)) {
        app_t *app = zhashx_lookup (self->apps, t->app_id);
        if (!app && self->registered
            && (!t->kill_sent || now - t->kill_sent >= self->cfg.kill_retry_ms))
            s_send_kill (self, t, now);
        if (t->kill_wanted && t->lost_since && now - t->lost_since >= LOST_EXPUNGE_MS
            + self->cfg.unreachable_delay_ms)
            zlistx_add_end (expunge, t);
    }
    for (task_t *t = zlistx_first (expunge); t; t = zlistx_next (expunge)) {
        log_info ("task %s: unreachable and replaced long ago; forgotten (it is killed if its "
                  "agent comes back)", t->id);
        s_forget_task (self, t);
    }
    zlistx_destroy (&expunge);

    zlistx_t *ids = zlistx_new ();
    zlistx_set_destructor (ids, (zlistx_destructor_fn *) zstr_free);
    for (app_t *app = zhashx_first (self->apps); app; app = zhashx_next (self->apps))
        zlistx_add_end (ids, xstrdup (app->id));
    bool demand = false, waiting = false;
    for (char *id = zlistx_first (ids); id; id = zlistx_next (ids)) {
        app_t *app = zhashx_lookup (self->apps, id);
        if (!app || s_step_app (self, app, now))
            continue;
        demand |= app->want > 0;
        waiting |= app->waiting > 0;
    }
    zlistx_destroy (&ids);
    if (!self->registered)
        return;
    if (now >= self->reconcile_due) {
        s_action (self, ACTION_RECONCILE, NULL);
        self->stats.reconciles++;
        self->reconcile_due = now + self->cfg.reconcile_interval_ms;
    }
    s_reconcile_lost (self, now);
    if (demand && (self->suppressed
                   || (self->revive_wanted && now - self->last_revive >= REVIVE_MIN_MS))) {
        s_action (self, ACTION_REVIVE, NULL);
        self->suppressed = false;
        self->revive_wanted = false;
        self->last_revive = now;
        self->stats.revives++;
    }
    else if (!demand && !self->suppressed) {
        /*  Nothing to launch now; an app in backoff revives when its
            delay is over (demand comes back then).                        */
        s_action (self, ACTION_SUPPRESS, NULL);
        self->suppressed = true;
        self->stats.suppresses++;
    }
    if (!demand && !waiting)
        self->revive_wanted = false;
}

/*  ------------------------------------------------------------------ */
/*  Offers                                                              */
/*  ------------------------------------------------------------------ */

static const char *
s_offer_value (const cairn_offer_t *offer, const char *field)
{
    if (strcmp (field, "hostname") == 0)
        return cairn_offer_hostname (offer);
    return cairn_offer_attribute (offer, field);
}

/*  The values of a field that the cluster is known to have.              */
static json_t *
s_known_values (service_t *self, app_t *app, const char *field)
{
    json_t *values = json_object ();
    for (agent_t *a = zhashx_first (self->agents); a; a = zhashx_next (self->agents)) {
        const char *v = strcmp (field, "hostname") == 0
                        ? a->hostname : json_string_value (json_object_get (a->attributes, field));
        if (v)
            json_object_set_new (values, v, json_integer (0));
    }
    for (task_t *t = zhashx_first (app->tasks); t; t = zhashx_next (app->tasks)) {
        const char *v = s_task_value (t, field);
        if (v && s_live (t)) {
            json_t *count = json_object_get (values, v);
            json_object_set_new (values, v, json_integer (json_integer_value (count) + 1));
        }
    }
    return values;
}

/*  True if one more instance of app may go on this offer's agent.        */
static bool
s_constraints_allow (service_t *self, app_t *app, const app_spec_t *spec,
                     const cairn_offer_t *offer)
{
    for (size_t i = 0; i < spec->nconstraints; i++) {
        const constraint_t *c = &spec->constraints[i];
        const char *value = s_offer_value (offer, c->field);
        if (!value)
            return false;
        if (c->op == CONSTRAINT_EQUALS) {
            if (strcmp (value, c->value) != 0)
                return false;
            continue;
        }
        int64_t here = 0;
        for (task_t *t = zhashx_first (app->tasks); t; t = zhashx_next (app->tasks)) {
            const char *v = s_task_value (t, c->field);
            here += s_live (t) && v && strcmp (v, value) == 0;
        }
        if (c->op == CONSTRAINT_UNIQUE && here > 0)
            return false;
        if (c->op == CONSTRAINT_MAX_PER && here >= c->n)
            return false;
        if (c->op == CONSTRAINT_GROUP_BY) {
            json_t *values = s_known_values (self, app, c->field);
            if (!json_object_get (values, value))
                json_object_set_new (values, value, json_integer (here));
            int64_t least = -1;
            const char *k;
            json_t *v;
            json_object_foreach (values, k, v)
                if (least < 0 || json_integer_value (v) < least)
                    least = json_integer_value (v);
            /*  Fewer groups seen than asked for: the missing ones hold 0. */
            if (c->n > 0 && (int64_t) json_object_size (values) < c->n)
                least = 0;
            json_decref (values);
            if (here > least)
                return false;
        }
    }
    return true;
}

static void
s_note_agent (service_t *self, const cairn_offer_t *offer, json_t *attrs)
{
    agent_t *a = zhashx_lookup (self->agents, cairn_offer_agent_id (offer));
    if (!a) {
        a = xzalloc (sizeof *a);
        zhashx_insert (self->agents, cairn_offer_agent_id (offer), a);
    }
    s_set (&a->hostname, cairn_offer_hostname (offer));
    json_decref (a->attributes);
    a->attributes = json_incref (attrs);
}

/*  Places instances of app on what is left of an offer; returns how many. */
static size_t
s_place (service_t *self, app_t *app, const cairn_offer_t *offer, cairn_resources_t *left,
         json_t *attrs, action_t *accept, int64_t now)
{
    const app_spec_t *spec = s_spec (app);
    size_t placed = 0;
    cairn_resources_t *need = cairn_resources_new ();
    cairn_resources_set_millicpus (need, spec->millicpus);
    cairn_resources_set_mem (need, (uint64_t) spec->mem);
    cairn_resources_set_disk (need, (uint64_t) spec->disk);
    while (app->want > 0 && accept->ntasks < MAX_ACCEPT_TASKS
           && cairn_resources_contains (left, need)
           && cairn_resources_port_count (left) >= (uint64_t) spec->ports
           && s_constraints_allow (self, app, spec, offer)) {
        uint16_t ports[APP_MAX_PORTS];
        if (spec->ports > 0 && cairn_resources_take_ports (left, (size_t) spec->ports, ports) < 0)
            break;
        char suffix[33];
        ids_uuid (suffix);
        char *id = xasprintf ("%s.%" PRId64 ".%.8s", app->id, app->version, suffix);
        cairn_task_t *task = app_spec_task (spec, id, app->version, ports, (size_t) spec->ports);
        if (!task) {
            /*  The definition was checked when it was submitted, so only
                a bug gets here: stop launching it rather than loop.        */
            log_error ("app %s: cannot build task %s: %s", app->id, id, cairn_strerror_last ());
            free (id);
            app->want = 0;
            break;
        }
        cairn_resources_subtract (left, need);
        task_t *t = xzalloc (sizeof *t);
        t->id = id;
        t->app_id = xstrdup (app->id);
        t->version = app->version;
        t->agent_id = xstrdup (cairn_offer_agent_id (offer));
        t->hostname = xstrdup (cairn_offer_hostname (offer));
        t->attributes = json_incref (attrs);
        memcpy (t->ports, ports, (size_t) spec->ports * sizeof *ports);
        t->nports = (size_t) spec->ports;
        t->state = CAIRN_TASK_STAGING;
        t->healthy = -1;
        t->has_check = spec->health_type != CAIRN_HEALTH_NONE;
        t->launched_at = clock_wall ();
        t->message = xstrdup ("launched");
        zhashx_insert (self->tasks, t->id, t);
        zhashx_insert (app->tasks, t->id, t);
        s_save_task (self, t);
        accept->tasks = xrealloc (accept->tasks, (accept->ntasks + 1) * sizeof *accept->tasks);
        accept->tasks[accept->ntasks++] = task;
        app->want--;
        placed++;
        self->stats.launched++;
        log_info ("app %s: launching task %s on %s%s", app->id, t->id, t->hostname,
                  t->nports ? " (ports assigned)" : "");
    }
    cairn_resources_destroy (&need);
    (void) now;
    return placed;
}

void
service_offers (service_t *self, cairn_offer_t *const *offers, size_t count, int64_t now)
{
    assert (self);
    service_step (self, now);
    /*  Apps in a stable order (by id), so placement is reproducible.      */
    size_t napps = 0;
    app_t **apps = xzalloc ((zhashx_size (self->apps) + 1) * sizeof *apps);
    for (app_t *app = zhashx_first (self->apps); app; app = zhashx_next (self->apps))
        apps[napps++] = app;
    for (size_t i = 1; i < napps; i++)
        for (size_t j = i; j > 0 && strcmp (apps[j - 1]->id, apps[j]->id) > 0; j--) {
            app_t *tmp = apps[j];
            apps[j] = apps[j - 1];
            apps[j - 1] = tmp;
        }
    for (size_t o = 0; o < count; o++) {
        const cairn_offer_t *offer = offers[o];
        json_t *attrs = json_object ();
        const char *name;
        for (size_t k = 0; (name = cairn_offer_attribute_name (offer, k)); k++)
            json_object_set_new (attrs, name, json_string (cairn_offer_attribute (offer, name)));
        s_note_agent (self, offer, attrs);
        cairn_resources_t *left = cairn_resources_dup (cairn_offer_resources (offer));
        action_t *accept = xzalloc (sizeof *accept);
        accept->kind = ACTION_ACCEPT;
        accept->id = xstrdup (cairn_offer_id (offer));
        for (size_t a = 0; a < napps; a++)
            if (apps[a]->want > 0 && !apps[a]->deleting && s_spec (apps[a]))
                s_place (self, apps[a], offer, left, attrs, accept, now);
        bool more = false;
        for (size_t a = 0; a < napps; a++)
            more |= apps[a]->want > 0;
        if (accept->ntasks > 0) {
            /*  What is left goes back; soon again if others still wait.  */
            accept->refuse_s = more ? 1 : self->cfg.refuse_s;
            if (self->out_tail)
                self->out_tail->next = accept;
            else
                self->out_head = accept;
            self->out_tail = accept;
            self->stats.offers_accepted++;
        }
        else {
            service_actions_destroy (&accept);
            action_t *decline = s_action (self, ACTION_DECLINE, cairn_offer_id (offer));
            decline->refuse_s = more ? self->cfg.refuse_busy_s : self->cfg.refuse_s;
            self->stats.offers_declined++;
        }
        cairn_resources_destroy (&left);
        json_decref (attrs);
    }
    free (apps);
}

/*  ------------------------------------------------------------------ */
/*  Status updates and registration                                     */
/*  ------------------------------------------------------------------ */

void
service_status (service_t *self, const cairn_status_t *status, int64_t now)
{
    assert (self && status);
    /*  Acknowledged once this pass is committed.                          */
    s_action (self, ACTION_ACK, NULL)->status = cairn_status_dup (status);
    const char *id = cairn_status_task_id (status);
    cairn_task_state_t state = cairn_status_state (status);
    cairn_reason_t reason = cairn_status_reason (status);
    const char *message = cairn_status_message (status);
    task_t *t = zhashx_lookup (self->tasks, id);
    if (!t) {
        if (!s_terminal (state) && state != CAIRN_TASK_UNREACHABLE && state != CAIRN_TASK_UNKNOWN
            && state != CAIRN_TASK_KILLING) {
            /*  A copy we no longer count: replaced while its agent was
                away, or its app is gone. No duplicate may stay.           */
            log_info ("task %s is %s but not ours any more (a surplus copy): killing it", id,
                      cairn_task_state_name (state));
            s_action (self, ACTION_KILL, id);
            self->stats.orphans_killed++;
        }
        return;
    }
    app_t *app = zhashx_lookup (self->apps, t->app_id);
    const char *agent = cairn_status_agent_id (status);
    if (agent && *agent && strcmp (agent, t->agent_id) != 0)
        s_set (&t->agent_id, agent);
    t->state = state;
    s_set (&t->message, message);
    bool was_lost = false;
    int healthy = cairn_status_healthy (status);
    if (state == CAIRN_TASK_RUNNING && healthy >= 0 && healthy != t->healthy) {
        t->healthy = healthy;
        t->healthy_since = healthy ? clock_wall () : 0;
        if (healthy && app && app->deployment && app->deployment->failures
            && t->version == app->deployment->to_version) {
            app->deployment->failures = 0;
            s_save_deployment (self, app->deployment);
        }
    }
    if (state == CAIRN_TASK_RUNNING && t->running_since == 0) {
        double ts = cairn_status_timestamp (status);
        t->running_since = ts > 0 ? ts : clock_wall ();
    }
    if (state == CAIRN_TASK_UNKNOWN && t->kill_wanted) {
        /*  Being killed and unknown to the master: nothing left to kill
            (should it turn up, it is killed as a copy we do not know).   */
        log_info ("task %s of app %s is unknown to the master; forgotten", t->id, t->app_id);
        s_forget_task (self, t);
        return;
    }
    if (state == CAIRN_TASK_UNREACHABLE || state == CAIRN_TASK_UNKNOWN) {
        if (!t->lost_since) {
            t->lost_since = now > 0 ? now : 1;
            t->lost_since_wall = clock_wall ();
            log_info ("task %s of app %s is %s; replaced if it is still so in %.0f s", t->id,
                      t->app_id, cairn_task_state_name (state),
                      (double) self->cfg.unreachable_delay_ms / 1000.0);
        }
    }
    else if (t->lost_since && !s_terminal (state)) {
        log_info ("task %s of app %s is back (%s)", t->id, t->app_id,
                  cairn_task_state_name (state));
        t->lost_since = 0;
        t->lost_since_wall = 0;
        was_lost = true;
    }
    if (s_terminal (state)) {
        if (!t->kill_wanted && app)
            s_failed (self, app, t, state, reason, message, now);
        else
            log_info ("task %s of app %s ended: %s (%s)", t->id, t->app_id,
                      cairn_task_state_name (state), message);
        s_forget_task (self, t);
        return;
    }
    /*  A copy being killed that shows up running (its agent came back):
        kill it again, now that the kill can reach it.                    */
    if (t->kill_wanted && state != CAIRN_TASK_KILLING && !t->lost_since
        && (was_lost || !t->kill_sent || now - t->kill_sent >= 1000))
        s_send_kill (self, t, now);
    s_save_task (self, t);
}

static void
s_reconcile_known (service_t *self)
{
    size_t n = zhashx_size (self->tasks);
    task_t *t = zhashx_first (self->tasks);
    while (n > 0 && t) {
        action_t *a = s_action (self, ACTION_RECONCILE, NULL);
        size_t chunk = n < RECONCILE_CHUNK ? n : RECONCILE_CHUNK;
        a->task_ids = xzalloc (chunk * sizeof *a->task_ids);
        for (; t && a->nids < chunk; t = zhashx_next (self->tasks))
            a->task_ids[a->nids++] = xstrdup (t->id);
        n -= a->nids;
    }
    /*  And every task the master knows for us, to find copies that are
        not in our books.                                                  */
    s_action (self, ACTION_RECONCILE, NULL);
    self->stats.reconciles++;
}

void
service_registered (service_t *self, const char *framework_id, int64_t now)
{
    assert (self && framework_id);
    if (!self->framework_id || strcmp (self->framework_id, framework_id) != 0) {
        s_set (&self->framework_id, framework_id);
        if (svcdb_set_meta (self->db, META_FRAMEWORK_ID, framework_id) < 0)
            log_error ("cannot record the framework id: %s", cairn_strerror_last ());
    }
    log_info ("registered as framework %s", framework_id);
    self->registered = true;
    self->suppressed = false;   /* a new registration starts with offers */
    self->revive_wanted = false;
    s_reconcile_known (self);
    self->reconcile_due = now + self->cfg.reconcile_interval_ms;
}

void
service_reregistered (service_t *self, int64_t now)
{
    assert (self);
    log_info ("re-registered as framework %s; reconciling %zu tasks",
              self->framework_id ? self->framework_id : "?", zhashx_size (self->tasks));
    self->registered = true;
    /*  A master that failed over knows nothing of our suppression: the
        next step says again what we want.                               */
    self->suppressed = false;
    s_reconcile_known (self);
    self->reconcile_due = now + self->cfg.reconcile_interval_ms;
    /*  Kills that could not go out while away go now (service_step).     */
    for (task_t *t = zhashx_first (self->tasks); t; t = zhashx_next (self->tasks))
        if (t->kill_wanted)
            t->kill_sent = 0;
}

void
service_disconnected (service_t *self, int64_t now)
{
    assert (self);
    (void) now;
    log_warn ("disconnected from the master; the driver reconnects");
    self->registered = false;
}

void
service_forget_framework (service_t *self, const char *why, int64_t now)
{
    assert (self);
    log_warn ("the master refused framework %s (%s): its instances are gone; registering "
              "anew and starting them again", self->framework_id ? self->framework_id : "?",
              why ? why : "");
    free (self->framework_id);
    self->framework_id = NULL;
    if (svcdb_set_meta (self->db, META_FRAMEWORK_ID, NULL) < 0)
        log_error ("cannot forget the framework id: %s", cairn_strerror_last ());
    self->registered = false;
    self->suppressed = false;
    zlistx_t *all = zlistx_new ();
    for (task_t *t = zhashx_first (self->tasks); t; t = zhashx_next (self->tasks))
        zlistx_add_end (all, t);
    for (task_t *t = zlistx_first (all); t; t = zlistx_next (all)) {
        app_t *app = zhashx_lookup (self->apps, t->app_id);
        if (app && !t->kill_wanted)
            s_failed (self, app, t, CAIRN_TASK_LOST, CAIRN_REASON_FRAMEWORK_REMOVED,
                      "the framework was torn down", now);
        s_forget_task (self, t);
    }
    zlistx_destroy (&all);
}

/*  ------------------------------------------------------------------ */
/*  JSON views                                                          */
/*  ------------------------------------------------------------------ */

static json_t *
s_task_json (const task_t *t)
{
    json_t *j = json_pack ("{s:s s:I s:s s:s s:o s:s s:o s:o s:o s:s s:b}",
                           "id", t->id, "version", (json_int_t) t->version,
                           "agent_id", t->agent_id, "host", t->hostname,
                           "ports", s_ports_json (t), "state", cairn_task_state_name (t->state),
                           "healthy", t->has_check && t->healthy >= 0 ? json_boolean (t->healthy)
                                                                      : json_null (),
                           "launched_at", s_num_or_null (t->launched_at),
                           "started_at", s_num_or_null (t->running_since),
                           "message", t->message ? t->message : "",
                           "killing", t->kill_wanted);
    if (t->kill_wanted && t->kill_why)
        json_object_set_new (j, "kill_reason", json_string (t->kill_why));
    if (t->lost_since)
        json_object_set_new (j, "unreachable_since", json_real (t->lost_since_wall));
    return j;
}

static json_t *
s_deployment_json (service_t *self, const deployment_t *d)
{
    json_t *j = s_deployment_doc (d);
    app_t *app = zhashx_lookup (self->apps, d->app_id);
    if (strcmp (d->state, "running") == 0 && app) {
        counts_t c = s_count (app);
        json_object_set_new (j, "progress", json_pack ("{s:I s:I s:I s:I s:I}",
                                                       "wanted", (json_int_t) app->instances,
                                                       "new", (json_int_t) c.new_live,
                                                       "new_healthy", (json_int_t) c.new_healthy,
                                                       "old", (json_int_t) c.old_live,
                                                       "healthy", (json_int_t) c.healthy));
    }
    if (!(d->finished_at > 0))
        json_object_set_new (j, "finished_at", json_null ());
    return j;
}

static json_t *
s_app_json (service_t *self, app_t *app, bool detail, int64_t now)
{
    counts_t c = s_count (app);
    const app_spec_t *spec = s_spec (app);
    json_t *j = json_pack ("{s:s s:I s:{s:I s:I s:I s:I s:I s:I} s:o s:b s:f s:f}",
                           "id", app->id, "version", (json_int_t) app->version,
                           "instances", "wanted", (json_int_t) app->instances,
                           "live", (json_int_t) c.live, "running", (json_int_t) c.running,
                           "healthy", (json_int_t) c.healthy, "staging", (json_int_t) c.staging,
                           "unreachable", (json_int_t) c.lost,
                           "last_good_version", app->last_good ? json_integer (app->last_good)
                                                               : json_null (),
                           "deleting", app->deleting, "created_at", app->created_at,
                           "updated_at", app->updated_at);
    json_object_set_new (j, "deployment", app->deployment
                                          ? json_string (app->deployment->id) : json_null ());
    json_object_set_new (j, "last_failure", app->last_failure ? json_incref (app->last_failure)
                                                              : json_null ());
    if (!detail)
        return j;
    json_object_set_new (j, "definition", spec ? app_spec_doc (spec, app->instances)
                                                : json_null ());
    if (app->deployment)
        json_object_set_new (j, "deployment", s_deployment_json (self, app->deployment));
    if (app->launch_after > now)
        json_object_set_new (j, "backoff", json_pack ("{s:f s:f}", "delay_s",
                                                      (double) app->backoff_ms / 1000.0,
                                                      "next_launch_in_s",
                                                      (double) (app->launch_after - now) / 1000.0));
    else
        json_object_set_new (j, "backoff", json_null ());
    /*  Tasks by launch time, oldest first.                                */
    size_t n = 0;
    task_t **list = xzalloc ((zhashx_size (app->tasks) + 1) * sizeof *list);
    for (task_t *t = zhashx_first (app->tasks); t; t = zhashx_next (app->tasks))
        list[n++] = t;
    for (size_t i = 1; i < n; i++)
        for (size_t k = i; k > 0 && (list[k - 1]->launched_at > list[k]->launched_at
                                     || (list[k - 1]->launched_at == list[k]->launched_at
                                         && strcmp (list[k - 1]->id, list[k]->id) > 0)); k--) {
            task_t *tmp = list[k];
            list[k] = list[k - 1];
            list[k - 1] = tmp;
        }
    json_t *tasks = json_array ();
    for (size_t i = 0; i < n; i++)
        json_array_append_new (tasks, s_task_json (list[i]));
    free (list);
    json_object_set_new (j, "tasks", tasks);
    return j;
}

/*  ------------------------------------------------------------------ */
/*  The REST API's operations                                           */
/*  ------------------------------------------------------------------ */

static json_t *
s_check_error (jcheck_error_t *err)
{
    json_t *j = s_error (err->field, "%s", err->message ? err->message : "invalid definition");
    jcheck_error_clear (err);
    return j;
}

static json_t *
s_started (app_t *app, deployment_t *d)
{
    return json_pack ("{s:s s:I s:s?}", "id", app->id, "version", (json_int_t) app->version,
                      "deployment_id", d ? d->id : NULL);
}

int
service_api_create (service_t *self, json_t *body, int64_t now, json_t **reply)
{
    assert (self && body && reply);
    jcheck_error_t err = { 0 };
    app_spec_t *spec = app_spec_parse (body, 1, &err);
    if (!spec) {
        *reply = s_check_error (&err);
        return 400;
    }
    app_t *app = zhashx_lookup (self->apps, spec->id);
    if (app) {
        *reply = s_error ("id", app->deleting ? "app %s is being deleted; create it again once "
                          "it is gone" : "app %s already exists (PUT /v1/apps/%s updates it)",
                          spec->id, spec->id);
        app_spec_destroy (&spec);
        return 409;
    }
    app = s_app_new (spec->id);
    app->created_at = clock_wall ();
    app->instances = spec->instances;
    zhashx_insert (self->apps, app->id, app);
    version_t *v = s_add_version (self, app, &spec);
    app->version = v->n;
    deployment_t *d = s_deploy (self, app, "create", 0, 0, true, now);
    *reply = s_started (app, d);
    return 201;
}

/*  JSON merge patch (RFC 7396) at the top level: null removes a field.  */
static json_t *
s_merge (json_t *base, json_t *patch)
{
    json_t *doc = json_deep_copy (base);
    const char *key;
    json_t *value;
    json_object_foreach (patch, key, value) {
        if (json_is_null (value))
            json_object_del (doc, key);
        else
            json_object_set (doc, key, value);
    }
    return doc;
}

int
service_api_update (service_t *self, const char *id, json_t *body, bool merge, int64_t now,
                    json_t **reply)
{
    assert (self && id && body && reply);
    json_t *given = json_object_get (body, "id");
    if (given && (!json_is_string (given) || strcmp (json_string_value (given), id) != 0)) {
        *reply = s_error ("id", "id must be the app's id, \"%s\" (an app cannot be renamed)",
                          id);
        return 400;
    }
    app_t *app = zhashx_lookup (self->apps, id);
    if (!app && merge) {
        *reply = s_error (NULL, "no app %s", id);
        return 404;
    }
    if (!app) {
        json_t *doc = json_deep_copy (body);
        json_object_set_new (doc, "id", json_string (id));
        int status = service_api_create (self, doc, now, reply);
        json_decref (doc);
        return status;
    }
    if (app->deleting) {
        *reply = s_error (NULL, "app %s is being deleted", id);
        return 409;
    }
    const app_spec_t *cur = s_spec (app);
    json_t *doc;
    if (merge && cur) {
        json_t *base = app_spec_doc (cur, app->instances);
        doc = s_merge (base, body);
        json_decref (base);
    }
    else {
        doc = json_deep_copy (body);
        if (!given)
            json_object_set_new (doc, "id", json_string (id));
    }
    jcheck_error_t err = { 0 };
    app_spec_t *spec = app_spec_parse (doc, app->instances, &err);
    json_decref (doc);
    if (!spec) {
        *reply = s_check_error (&err);
        return 400;
    }
    int64_t from_version = app->version, from_instances = app->instances;
    deployment_t *d = NULL;
    if (cur && app_spec_same (cur, spec)) {
        if (spec->instances != app->instances) {
            app->instances = spec->instances;
            d = s_deploy (self, app, "scale", from_version, from_instances, false, now);
        }
        app_spec_destroy (&spec);
    }
    else {
        app->instances = spec->instances;
        version_t *v = s_add_version (self, app, &spec);
        app->version = v->n;
        d = s_deploy (self, app, "update", from_version, from_instances, true, now);
        s_prune_versions (self, app);
    }
    *reply = s_started (app, d);
    json_object_set_new (*reply, "changed", json_boolean (d != NULL));
    return 200;
}

static app_t *
s_app_or_404 (service_t *self, const char *id, json_t **reply)
{
    app_t *app = zhashx_lookup (self->apps, id);
    if (!app)
        *reply = s_error (NULL, "no app %s", id);
    return app;
}

int
service_api_restart (service_t *self, const char *id, int64_t now, json_t **reply)
{
    assert (self && id && reply);
    app_t *app = s_app_or_404 (self, id, reply);
    if (!app)
        return 404;
    const app_spec_t *cur = s_spec (app);
    if (app->deleting || !cur) {
        *reply = s_error (NULL, app->deleting ? "app %s is being deleted"
                                              : "app %s has no readable version to restart", id);
        return 409;
    }
    /*  A new version with the same definition: every instance is
        replaced as in any rollout, keeping min_healthy.                   */
    jcheck_error_t err = { 0 };
    char *text = s_dump (cur->doc);
    app_spec_t *spec = app_spec_load (text, &err);
    free (text);
    if (!spec) {
        *reply = s_check_error (&err);
        return 500;
    }
    int64_t from_version = app->version;
    version_t *v = s_add_version (self, app, &spec);
    app->version = v->n;
    deployment_t *d = s_deploy (self, app, "restart", from_version, app->instances, true, now);
    s_prune_versions (self, app);
    *reply = s_started (app, d);
    return 200;
}

int
service_api_rollback (service_t *self, const char *id, json_t *body, int64_t now,
                      json_t **reply)
{
    assert (self && id && reply);
    app_t *app = s_app_or_404 (self, id, reply);
    if (!app)
        return 404;
    if (app->deleting) {
        *reply = s_error (NULL, "app %s is being deleted", id);
        return 409;
    }
    int64_t target = 0;
    json_t *version = body ? json_object_get (body, "version") : NULL;
    if (version) {
        target = (int64_t) json_integer_value (version);
        if (!s_version (app, target)) {
            *reply = s_error ("version", "app %s has no version %" PRId64 " (see GET /v1/apps/%s/"
                              "versions)", id, target, id);
            return 400;
        }
        if (target == app->version) {
            *reply = s_error ("version", "app %s already runs version %" PRId64, id, target);
            return 400;
        }
    }
    else if (!(target = s_good_version (app, app->version))) {
        *reply = s_error ("version", "app %s has no earlier good version; name one", id);
        return 400;
    }
    int64_t from_version = app->version;
    app->version = target;
    deployment_t *d = s_deploy (self, app, "rollback", from_version, app->instances, true, now);
    free (d->message);
    d->message = xasprintf ("rollback to version %" PRId64 " asked for", target);
    s_save_deployment (self, d);
    *reply = s_started (app, d);
    return 200;
}

int
service_api_delete (service_t *self, const char *id, int64_t now, json_t **reply)
{
    assert (self && id && reply);
    app_t *app = s_app_or_404 (self, id, reply);
    if (!app)
        return 404;
    deployment_t *d = app->deployment;
    if (!app->deleting) {
        int64_t from = app->instances;
        app->deleting = true;
        app->instances = 0;
        d = s_deploy (self, app, "delete", app->version, from, false, now);
        for (task_t *t = zhashx_first (app->tasks); t; t = zhashx_next (app->tasks))
            s_kill (self, t, now, "app %s is deleted", app->id);
    }
    *reply = json_pack ("{s:s s:s?}", "id", app->id, "deployment_id", d ? d->id : NULL);
    return 202;
}

static deployment_t *
s_find_deployment (service_t *self, const char *id)
{
    for (deployment_t *d = zlistx_first (self->deployments); d;
         d = zlistx_next (self->deployments))
        if (strcmp (d->id, id) == 0)
            return d;
    return NULL;
}

int
service_api_cancel (service_t *self, const char *deployment_id, bool rollback, int64_t now,
                    json_t **reply)
{
    assert (self && deployment_id && reply);
    deployment_t *d = s_find_deployment (self, deployment_id);
    if (!d) {
        *reply = s_error (NULL, "no deployment %s", deployment_id);
        return 404;
    }
    app_t *app = zhashx_lookup (self->apps, d->app_id);
    if (strcmp (d->state, "running") != 0 || !app || app->deployment != d) {
        *reply = s_error (NULL, "deployment %s is not running (it is %s)", d->id, d->state);
        return 409;
    }
    if (strcmp (d->kind, "delete") == 0) {
        *reply = s_error (NULL, "deleting app %s cannot be cancelled: its instances are already "
                          "being killed", app->id);
        return 409;
    }
    counts_t c = s_count (app);
    deployment_t *next = NULL;
    double wall = clock_wall ();
    if (!rollback) {
        if (!d->rollout) {
            /*  A scale stops at what runs now.                            */
            app->instances = c.live;
            app->updated_at = wall;
            s_save_app (self, app);
        }
        s_finish (self, d, "cancelled", wall, "cancelled where it stood: %" PRId64 " instances of "
                  "version %" PRId64 " and %" PRId64 " older ones live", c.new_live,
                  app->version, c.old_live);
    }
    else if (strcmp (d->kind, "create") == 0) {
        /*  Rolling back a creation is deleting the app.                   */
        s_finish (self, d, "cancelled", wall, "cancelled and rolled back: the app is deleted");
        json_t *ignored = NULL;
        service_api_delete (self, app->id, now, &ignored);
        json_decref (ignored);
        next = app->deployment;
    }
    else if (!d->rollout || d->from_version == app->version || !s_version (app, d->from_version)) {
        int64_t from = app->instances;
        app->instances = d->from_instances;
        next = s_deploy (self, app, "scale", app->version, from, false, now);
    }
    else {
        int64_t from = app->version, from_instances = app->instances;
        app->version = d->from_version;
        app->instances = d->from_instances;
        next = s_deploy (self, app, "rollback", from, from_instances, true, now);
    }
    if (rollback && next && next != d) {
        if (strcmp (d->state, "running") == 0 || strcmp (d->state, "superseded") == 0) {
            s_set (&d->followed_by, next->id);
            s_finish (self, d, "cancelled", wall, "cancelled and rolled back (deployment %s)",
                      next->id);
        }
        free (next->message);
        next->message = xasprintf ("rollback of cancelled deployment %s", d->id);
        s_save_deployment (self, next);
    }
    *reply = s_deployment_json (self, d);
    if (next)
        json_object_set_new (*reply, "rollback_deployment_id", json_string (next->id));
    return 200;
}

static int
s_cmp_ids (const void *a, const void *b)
{
    return strcmp ((*(app_t *const *) a)->id, (*(app_t *const *) b)->id);
}

int
service_api_apps (service_t *self, int64_t now, json_t **reply)
{
    assert (self && reply);
    size_t n = 0;
    app_t **list = xzalloc ((zhashx_size (self->apps) + 1) * sizeof *list);
    for (app_t *app = zhashx_first (self->apps); app; app = zhashx_next (self->apps))
        list[n++] = app;
    qsort (list, n, sizeof *list, s_cmp_ids);
    json_t *apps = json_array ();
    for (size_t i = 0; i < n; i++)
        json_array_append_new (apps, s_app_json (self, list[i], false, now));
    free (list);
    *reply = json_pack ("{s:o}", "apps", apps);
    return 200;
}

int
service_api_app (service_t *self, const char *id, int64_t now, json_t **reply)
{
    assert (self && id && reply);
    app_t *app = s_app_or_404 (self, id, reply);
    if (!app)
        return 404;
    *reply = s_app_json (self, app, true, now);
    return 200;
}

int
service_api_versions (service_t *self, const char *id, json_t **reply)
{
    assert (self && id && reply);
    app_t *app = s_app_or_404 (self, id, reply);
    if (!app)
        return 404;
    json_t *list = json_array ();
    for (version_t *v = zlistx_last (app->versions); v; v = zlistx_prev (app->versions))
        json_array_append_new (list, json_pack ("{s:I s:f s:b s:b s:b s:o}",
                                                "version", (json_int_t) v->n,
                                                "created_at", v->created_at, "good", v->good,
                                                "failed", v->failed,
                                                "current", v->n == app->version,
                                                "definition", app_spec_doc (v->spec,
                                                                            v->spec->instances)));
    *reply = json_pack ("{s:s s:I s:o s:o}", "id", app->id, "current", (json_int_t) app->version,
                        "last_good", app->last_good ? json_integer (app->last_good) : json_null (),
                        "versions", list);
    return 200;
}

int
service_api_deployments (service_t *self, const char *app, bool active, json_t **reply)
{
    assert (self && reply);
    json_t *list = json_array ();
    for (deployment_t *d = zlistx_last (self->deployments); d;
         d = zlistx_prev (self->deployments)) {
        if (app && strcmp (d->app_id, app) != 0)
            continue;
        if (active && strcmp (d->state, "running") != 0)
            continue;
        json_array_append_new (list, s_deployment_json (self, d));
    }
    *reply = json_pack ("{s:o}", "deployments", list);
    return 200;
}

int
service_api_deployment (service_t *self, const char *id, json_t **reply)
{
    assert (self && id && reply);
    deployment_t *d = s_find_deployment (self, id);
    if (!d) {
        *reply = s_error (NULL, "no deployment %s", id);
        return 404;
    }
    *reply = s_deployment_json (self, d);
    return 200;
}

int
service_api_health (service_t *self, int64_t now, json_t **reply)
{
    assert (self && reply);
    size_t running = 0;
    for (deployment_t *d = zlistx_first (self->deployments); d;
         d = zlistx_next (self->deployments))
        running += strcmp (d->state, "running") == 0;
    *reply = json_pack ("{s:s s:s? s:b s:b s:f s:I s:I s:I s:{s:I s:I s:I s:I s:I s:I s:I s:I "
                        "s:I}}",
                        "status", "ok", "framework_id", self->framework_id,
                        "registered", self->registered, "suppressed", self->suppressed,
                        "uptime_s", (double) (now - self->started) / 1000.0,
                        "apps", (json_int_t) zhashx_size (self->apps),
                        "tasks", (json_int_t) zhashx_size (self->tasks),
                        "deployments_running", (json_int_t) running,
                        "stats",
                        "launched", (json_int_t) self->stats.launched,
                        "killed", (json_int_t) self->stats.killed,
                        "failed", (json_int_t) self->stats.failed,
                        "offers_accepted", (json_int_t) self->stats.offers_accepted,
                        "offers_declined", (json_int_t) self->stats.offers_declined,
                        "revives", (json_int_t) self->stats.revives,
                        "suppresses", (json_int_t) self->stats.suppresses,
                        "reconciles", (json_int_t) self->stats.reconciles,
                        "orphans_killed", (json_int_t) self->stats.orphans_killed);
    return 200;
}
