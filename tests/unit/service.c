/*  tests/unit/service.c - cairn-service's scheduler without sockets: app
    definitions checked and normalized (app.c), the store (svcdb.c), and
    the scheduler (service.c) fed made-up offers and status updates on a
    made-up clock, its decisions read from its outbox.                  */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <czmq.h>

#include "app.h"
#include "cairn.h"
#include "error.h"
#include "log.h"
#include "objects.h"
#include "proto.h"
#include "service.h"
#include "svcdb.h"
#include "tap.h"
#include "transport.h"
#include "util.h"

/*  ------------------------------------------------------------------ */
/*  App definitions                                                     */
/*  ------------------------------------------------------------------ */

/*  Parses text: "ok", or the error's field and message.                  */
static void
s_check (const char *text, const char *want_field, const char *want_message)
{
    jcheck_error_t err = { 0 };
    json_t *doc = jcheck_load (text, strlen (text), &err);
    app_spec_t *spec = doc ? app_spec_parse (doc, 1, &err) : NULL;
    if (!want_field) {
        ok (spec != NULL, "accepted: %s", text);
        if (!spec)
            diag ("error: %s (%s)", err.message, err.field);
    }
    else {
        is (err.field ? err.field : "(none)", want_field, "field of: %s", text);
        if (want_message)
            is (err.message ? err.message : "(none)", want_message, "message of: %s", text);
    }
    app_spec_destroy (&spec);
    jcheck_error_clear (&err);
    json_decref (doc);
}

static void
test_definitions (void)
{
    s_check ("{\"id\":\"web\",\"cmd\":\"python3 -m http.server $PORT0\",\"instances\":3,"
             "\"cpus\":0.25,\"mem\":64,\"ports\":1,\"env\":{\"A\":\"1\"},\"labels\":{\"team\":\"x\"},"
             "\"health_check\":{\"type\":\"http\",\"path\":\"/\",\"interval_s\":\"2s\","
             "\"delay_s\":0.5},\"constraints\":[[\"hostname\",\"unique\"],[\"rack\",\"group_by\","
             "\"2\"],[\"hostname\",\"max_per\",\"2\"],[\"zone\",\"equals\",\"a\"]],"
             "\"uris\":[\"http://x/y.tgz\",{\"uri\":\"file:///etc/hosts\",\"extract\":false}],"
             "\"backoff\":{\"initial_s\":1,\"factor\":1.5,\"max_s\":\"1m\"},"
             "\"upgrade\":{\"min_healthy\":0.5,\"max_surge\":0.25},\"kill_grace_s\":5,"
             "\"user\":\"nobody\"}", NULL, NULL);
    s_check ("{\"id\":\"web\",\"args\":[\"sleep\",\"10\"]}", NULL, NULL);
    s_check ("{\"id\":\"web\",\"cmd\":\"x\",\"instances\":-1}", "instances",
             "instances must be a non-negative integer");
    s_check ("{\"id\":\"web\",\"cmd\":\"x\",\"instances\":\"3\"}", "instances",
             "instances must be a non-negative integer");
    s_check ("{\"id\":\"web\",\"cmd\":\"x\",\"instnces\":3}", "instnces",
             "unknown field 'instnces' (did you mean instances?)");
    s_check ("{\"id\":\"web\"}", "cmd", "cmd is required (or args)");
    s_check ("{\"id\":\"web\",\"cmd\":\"x\",\"args\":[\"y\"]}", "args", NULL);
    s_check ("{\"id\":\"Web App\",\"cmd\":\"x\"}", "id", NULL);
    s_check ("{\"cmd\":\"x\"}", "id", "id is required");
    s_check ("{\"id\":\"web\",\"cmd\":\"x\",\"cpus\":0.0001}", "cpus",
             "cpus must have at most three decimals");
    s_check ("{\"id\":\"web\",\"cmd\":\"x\",\"cpus\":0,\"mem\":0}", "mem", NULL);
    s_check ("{\"id\":\"web\",\"cmd\":\"x\",\"ports\":65}", "ports",
             "ports must be an integer from 0 to 64");
    s_check ("{\"id\":\"web\",\"cmd\":\"x\",\"env\":{\"CAIRN_X\":\"1\"}}", "env.CAIRN_X", NULL);
    s_check ("{\"id\":\"web\",\"cmd\":\"x\",\"env\":{\"PORT0\":\"1\"}}", "env.PORT0", NULL);
    s_check ("{\"id\":\"web\",\"cmd\":\"x\",\"health_check\":{\"type\":\"http\"}}",
             "health_check.port_index", NULL);
    s_check ("{\"id\":\"web\",\"cmd\":\"x\",\"health_check\":{\"type\":\"command\"}}",
             "health_check.command", "health_check.command is required for a command check");
    s_check ("{\"id\":\"web\",\"cmd\":\"x\",\"health_check\":{\"type\":\"udp\"}}",
             "health_check.type", NULL);
    s_check ("{\"id\":\"web\",\"cmd\":\"x\",\"health_check\":{\"type\":\"tcp\",\"timeout_s\":"
             "\"fast\"}}", "health_check.timeout_s", NULL);
    s_check ("{\"id\":\"web\",\"cmd\":\"x\",\"constraints\":[[\"hostname\",\"near\"]]}",
             "constraints[0][1]", NULL);
    s_check ("{\"id\":\"web\",\"cmd\":\"x\",\"constraints\":[[\"hostname\",\"max_per\","
             "\"lots\"]]}", "constraints[0][2]", NULL);
    s_check ("{\"id\":\"web\",\"cmd\":\"x\",\"constraints\":[[\"hostname\"]]}", "constraints[0]",
             NULL);
    s_check ("{\"id\":\"web\",\"cmd\":\"x\",\"upgrade\":{\"min_healthy\":1.5}}",
             "upgrade.min_healthy", "upgrade.min_healthy must be a number from 0 to 1");
    s_check ("{\"id\":\"web\",\"cmd\":\"x\",\"backoff\":{\"initial_s\":10,\"max_s\":1}}",
             "backoff.max_s", NULL);
    s_check ("{\"id\":\"web\",\"cmd\":\"x\",\"uris\":[\"ftp://x\"]}", "uris[0]", NULL);
    s_check ("{\"id\":\"web\",\"cmd\":\"x\",\"kill_grace_s\":5000}", "kill_grace_s", NULL);

    /*  Normalized: defaults written out; durations in seconds.           */
    jcheck_error_t err = { 0 };
    const char *text = "{\"id\":\"w\",\"cmd\":\"x\",\"ports\":1,"
                       "\"health_check\":{\"type\":\"http\",\"interval_s\":\"1500ms\"}}";
    json_t *doc = jcheck_load (text, strlen (text), &err);
    app_spec_t *a = app_spec_parse (doc, 4, &err);
    json_decref (doc);
    ok (a != NULL, "a short definition parses");
    cmp_int (a->instances, 4, "missing instances take the default given");
    cmp_int (a->millicpus, 100, "default cpus 0.1");
    cmp_int (a->mem, 128, "default mem 128");
    cmp_int (a->health_interval_ms, 1500, "interval 1500ms");
    is (a->health_target, "/", "an http check's path defaults to /");
    ok (json_real_value (json_object_get (json_object_get (a->doc, "health_check"),
                                          "interval_s")) == 1.5, "shown as 1.5 seconds");
    ok (json_is_object (json_object_get (a->doc, "backoff"))
        && json_is_object (json_object_get (a->doc, "upgrade")), "backoff and upgrade written out");
    /*  The stored text reads back as the same definition.                 */
    char *stored = json_dumps (a->doc, JSON_COMPACT | JSON_SORT_KEYS);
    app_spec_t *b = app_spec_load (stored, &err);
    free (stored);
    ok (b && json_equal (a->doc, b->doc), "a normalized definition reads back unchanged");
    /*  Instances alone do not make a new version.                         */
    json_t *more = app_spec_doc (b, 9);
    app_spec_t *c = app_spec_parse (more, 1, &err);
    json_decref (more);
    ok (c && app_spec_same (a, c) && c->instances == 9, "another instance count is the same "
        "version");
    json_object_set_new (c->doc, "mem", json_integer (256));
    ok (!app_spec_same (a, c), "another mem is not");

    /*  The task: command, ports as given, labels, health check.           */
    uint16_t ports[1] = { 31005 };
    cairn_task_t *task = app_spec_task (a, "w.1.abcd", 1, ports, 1);
    ok (task != NULL, "a task is built");
    const cairn_resources_t *r = cairn_task_resources (task);
    ok (r && cairn_resources_port_count (r) == 1 && cairn_resources_mem (r) == 128,
        "with its resources and exactly the port chosen");
    is (proto_kv_get (&task->task.labels, "cairn-service.app"), "w", "labelled with its app");
    ok (task->task.health && strcmp (task->task.health->type, "http") == 0
        && task->task.health->interval_ms == 1500, "with its health check");
    cairn_task_destroy (&task);
    app_spec_destroy (&a);
    app_spec_destroy (&b);
    app_spec_destroy (&c);
    jcheck_error_clear (&err);
}

/*  ------------------------------------------------------------------ */
/*  The scheduler                                                       */
/*  ------------------------------------------------------------------ */

static char s_dir[512];

static const char *
s_tmp (void)
{
    const char *tmp = getenv ("TMPDIR");
    return tmp && *tmp ? tmp : "/tmp";
}
static int64_t s_now;
static int s_offer_seq;

static svcdb_t *
s_open_db (void)
{
    svcdb_t *db = svcdb_open (s_dir);
    if (!db)
        diag ("svcdb_open: %s", cairn_strerror_last ());
    return db;
}

static service_config_t
s_config (void)
{
    service_config_t cfg;
    service_config_defaults (&cfg);
    cfg.unreachable_delay_ms = 10000;
    cfg.reconcile_interval_ms = 3600000;
    return cfg;
}

/*  An offer of agent `host` (agent id "a-HOST").                          */
static proto_offer_t *
s_offer (const char *host, const char *resources, const char *rack)
{
    proto_offer_t *o = xzalloc (sizeof *o);
    o->offer_id = xasprintf ("o-%d", ++s_offer_seq);
    o->agent_id = xasprintf ("a-%s", host);
    o->hostname = xstrdup (host);
    o->resources = cairn_resources_parse (resources);
    if (rack)
        proto_kv_set (&o->attributes, "rack", rack);
    return o;
}

static void
s_offer_free (proto_offer_t **o_p)
{
    proto_offer_fini (*o_p);
    free (*o_p);
    *o_p = NULL;
}

typedef struct {
    int accepts, declines, kills, acks, reconciles, revives, suppresses;
    zlistx_t *launched;         /* task ids */
    zlistx_t *killed;           /* task ids */
    zlistx_t *hosts;            /* hosts of the launches, in order */
    double refuse;              /* the last decline's */
} out_t;

static void
s_out_free (out_t *o)
{
    zlistx_destroy (&o->launched);
    zlistx_destroy (&o->killed);
    zlistx_destroy (&o->hosts);
}

/*  Takes the outbox (host: the offer's host, for launches).               */
static out_t
s_take (service_t *svc, const char *host)
{
    out_t o = { 0 };
    o.launched = zlistx_new ();
    o.killed = zlistx_new ();
    o.hosts = zlistx_new ();
    zlistx_set_destructor (o.launched, (zlistx_destructor_fn *) zstr_free);
    zlistx_set_destructor (o.killed, (zlistx_destructor_fn *) zstr_free);
    zlistx_set_destructor (o.hosts, (zlistx_destructor_fn *) zstr_free);
    action_t *list = service_outbox_take (svc);
    for (action_t *a = list; a; a = a->next)
        switch (a->kind) {
            case ACTION_ACCEPT:
                o.accepts++;
                for (size_t i = 0; i < a->ntasks; i++) {
                    zlistx_add_end (o.launched, xstrdup (cairn_task_id (a->tasks[i])));
                    zlistx_add_end (o.hosts, xstrdup (host ? host : "?"));
                }
                break;
            case ACTION_DECLINE:
                o.declines++;
                o.refuse = a->refuse_s;
                break;
            case ACTION_KILL:
                o.kills++;
                zlistx_add_end (o.killed, xstrdup (a->id));
                break;
            case ACTION_ACK: o.acks++; break;
            case ACTION_RECONCILE: o.reconciles++; break;
            case ACTION_REVIVE: o.revives++; break;
            case ACTION_SUPPRESS: o.suppresses++; break;
        }
    service_actions_destroy (&list);
    return o;
}

/*  Offers one agent and returns the outbox.                               */
static out_t
s_offer_to (service_t *svc, const char *host, const char *resources, const char *rack)
{
    proto_offer_t *offer = s_offer (host, resources, rack);
    cairn_offer_t *view = offer_view (offer);
    service_offers (svc, &view, 1, s_now);
    s_offer_free (&offer);
    return s_take (svc, host);
}

static void
s_status (service_t *svc, const char *task_id, const char *host, cairn_task_state_t state,
          int healthy, cairn_reason_t reason)
{
    proto_status_t st = { 0 };
    st.uuid = xstrdup (host ? "0123456789abcdef0123456789abcdef" : "");
    st.task_id = xstrdup (task_id);
    st.framework_id = xstrdup ("f-test");
    st.agent_id = host ? xasprintf ("a-%s", host) : xstrdup ("");
    st.state = state;
    st.reason = reason;
    st.message = xstrdup (cairn_task_state_name (state));
    st.exit_code = -1;
    st.healthy = healthy;
    st.timestamp = clock_wall ();
    service_status (svc, status_view (&st), s_now);
    proto_status_fini (&st);
}

/*  Commits, as the loop does at the end of a pass.                        */
static void
s_commit (svcdb_t *db)
{
    if (svcdb_commit (db) < 0)
        diag ("commit: %s", cairn_strerror_last ());
}

/*  The host of a launched task (tasks are "APP.V.RANDOM", hosts tracked
    by the test).                                                          */
static zhashx_t *s_task_host;

static void
s_launched (out_t *o)
{
    const char *host = zlistx_first (o->hosts);
    for (const char *id = zlistx_first (o->launched); id; id = zlistx_next (o->launched)) {
        zhashx_update (s_task_host, id, xstrdup (host));
        host = zlistx_next (o->hosts);
    }
}

/*  Reports every launched task of `o` RUNNING and healthy.                */
static void
s_run_all (service_t *svc, out_t *o, int healthy)
{
    for (const char *id = zlistx_first (o->launched); id; id = zlistx_next (o->launched)) {
        const char *host = zhashx_lookup (s_task_host, id);
        s_status (svc, id, host, CAIRN_TASK_RUNNING, healthy, CAIRN_REASON_NONE);
    }
}

static json_t *
s_app (service_t *svc, const char *id)
{
    json_t *reply = NULL;
    int status = service_api_app (svc, id, s_now, &reply);
    if (status != 200) {
        json_decref (reply);
        return NULL;
    }
    return reply;
}

static int64_t
s_count (service_t *svc, const char *id, const char *what)
{
    json_t *a = s_app (svc, id);
    int64_t n = a ? json_integer_value (json_object_get (json_object_get (a, "instances"), what))
                  : -1;
    json_decref (a);
    return n;
}

static int
s_api (int status, json_t *reply, const char *what)
{
    if (status >= 300)
        diag ("%s: %d %s", what, status, json_string_value (json_object_get (reply, "error")));
    return status;
}

static const char *s_web =
    "{\"id\":\"web\",\"cmd\":\"serve\",\"instances\":3,\"cpus\":0.5,\"mem\":64,\"ports\":1,"
    "\"health_check\":{\"type\":\"http\",\"delay_s\":1,\"interval_s\":1},"
    "\"constraints\":[[\"hostname\",\"unique\"]],\"backoff\":{\"initial_s\":2,\"factor\":2},"
    "\"upgrade\":{\"min_healthy\":0.6,\"max_surge\":0}}";

#define RES "cpus:4;mem:4096;ports:[31000-31009]"

static void
test_scheduler (void)
{
    snprintf (s_dir, sizeof s_dir, "%s/cairn-unit-service.%d", s_tmp (), (int) getpid ());
    util_remove_tree (s_dir);
    util_mkdir_p (s_dir, 0700);
    s_task_host = zhashx_new ();
    zhashx_set_destructor (s_task_host, (zhashx_destructor_fn *) zstr_free);
    s_now = 1000000;
    service_config_t cfg = s_config ();
    svcdb_t *db = s_open_db ();
    ok (db != NULL, "the store opens");
    service_t *svc = service_new (&cfg, db, s_now);
    ok (svc && !service_framework_id (svc), "a new service has no framework id");
    service_registered (svc, "f-test", s_now);
    out_t o = s_take (svc, NULL);
    cmp_int (o.reconciles, 1, "registered: it reconciles");
    s_out_free (&o);
    service_step (svc, s_now);
    o = s_take (svc, NULL);
    cmp_int (o.suppresses, 1, "with nothing to run it suppresses offers");
    s_out_free (&o);
    s_commit (db);

    /*  Create: three instances, one per host.                             */
    json_t *reply = NULL;
    json_t *body = json_loads (s_web, 0, NULL);
    cmp_int (s_api (service_api_create (svc, body, s_now, &reply), reply, "create"), 201,
             "POST creates the app (201)");
    ok (json_is_string (json_object_get (reply, "deployment_id")), "and starts a deployment");
    char *create_dep = xstrdup (json_string_value (json_object_get (reply, "deployment_id")));
    json_decref (reply);
    cmp_int (service_api_create (svc, body, s_now, &reply), 409, "a second POST: 409");
    is (json_string_value (json_object_get (reply, "field")), "id", "naming the field id");
    json_decref (reply);
    json_decref (body);
    service_step (svc, s_now);
    o = s_take (svc, NULL);
    cmp_int (o.revives, 1, "work appears: it revives");
    s_out_free (&o);
    s_commit (db);

    o = s_offer_to (svc, "h1", RES, "r1");
    cmp_int (zlistx_size (o.launched), 1, "hostname unique: one instance on h1's offer");
    cmp_int (o.accepts, 1, "in one accept");
    s_launched (&o);
    s_out_free (&o);
    o = s_offer_to (svc, "h1", RES, "r1");
    cmp_int (o.declines, 1, "h1 again: declined");
    ok (o.refuse > 0 && o.refuse <= 10, "for a short time while work waits (%g s)", o.refuse);
    s_out_free (&o);
    out_t o2 = s_offer_to (svc, "h2", RES, "r1");
    s_launched (&o2);
    out_t o3 = s_offer_to (svc, "h3", RES, "r2");
    s_launched (&o3);
    cmp_int (zlistx_size (o2.launched) + zlistx_size (o3.launched), 2, "h2 and h3 take one each");
    s_out_free (&o2);
    s_out_free (&o3);
    o = s_offer_to (svc, "h4", RES, "r2");
    cmp_int (zlistx_size (o.launched), 0, "no fourth instance on h4");
    ok (o.refuse >= 30, "nothing to do: declined for long (%g s)", o.refuse);
    cmp_int (o.suppresses, 1, "and offers are suppressed");
    s_out_free (&o);
    cmp_int (s_count (svc, "web", "staging"), 3, "three instances staging");
    s_commit (db);

    /*  They run; healthy: the creation succeeds.                          */
    const char *first = NULL;
    json_t *a = s_app (svc, "web");
    first = json_string_value (json_object_get (json_array_get (json_object_get (a, "tasks"), 0),
                                                "id"));
    char *t1 = xstrdup (first);
    json_decref (a);
    zlistx_t *all = zlistx_new ();
    o = s_offer_to (svc, "none", "cpus:0", NULL);
    s_out_free (&o);
    a = s_app (svc, "web");
    size_t i;
    json_t *t;
    json_array_foreach (json_object_get (a, "tasks"), i, t)
        zlistx_add_end (all, xstrdup (json_string_value (json_object_get (t, "id"))));
    json_decref (a);
    for (char *id = zlistx_first (all); id; id = zlistx_next (all))
        s_status (svc, id, zhashx_lookup (s_task_host, id), CAIRN_TASK_RUNNING, -1,
                  CAIRN_REASON_NONE);
    service_step (svc, s_now);
    cmp_int (s_count (svc, "web", "healthy"), 0, "running but not yet checked: not healthy");
    for (char *id = zlistx_first (all); id; id = zlistx_next (all))
        s_status (svc, id, zhashx_lookup (s_task_host, id), CAIRN_TASK_RUNNING, 1,
                  CAIRN_REASON_NONE);
    service_step (svc, s_now);
    o = s_take (svc, NULL);
    cmp_int (o.acks, 6, "every update is acknowledged (after the commit)");
    s_out_free (&o);
    cmp_int (s_count (svc, "web", "healthy"), 3, "three healthy");
    json_t *dep = NULL;
    service_api_deployment (svc, create_dep, &dep);
    is (json_string_value (json_object_get (dep, "state")), "succeeded", "the creation succeeded");
    json_decref (dep);
    s_commit (db);

    /*  One dies: backoff, then a replacement on its host.                 */
    s_status (svc, t1, zhashx_lookup (s_task_host, t1), CAIRN_TASK_FAILED, 0,
              CAIRN_REASON_COMMAND_EXECUTOR_FAILED);
    service_step (svc, s_now);
    o = s_take (svc, NULL);
    s_out_free (&o);
    a = s_app (svc, "web");
    ok (json_is_object (json_object_get (a, "last_failure")), "the failure is recorded");
    ok (json_is_object (json_object_get (a, "backoff")), "the app is in backoff");
    json_decref (a);
    const char *t1host = zhashx_lookup (s_task_host, t1);
    o = s_offer_to (svc, t1host, RES, "r1");
    cmp_int (zlistx_size (o.launched), 0, "no launch before the backoff delay");
    s_out_free (&o);
    s_now += 2500;
    service_step (svc, s_now);
    o = s_take (svc, NULL);
    cmp_int (o.revives, 1, "the delay over, it revives");
    s_out_free (&o);
    o = s_offer_to (svc, t1host, RES, "r1");
    cmp_int (zlistx_size (o.launched), 1, "and replaces the instance on the free host");
    s_launched (&o);
    s_run_all (svc, &o, 1);
    s_out_free (&o);
    service_step (svc, s_now);
    o = s_take (svc, NULL);
    s_out_free (&o);
    cmp_int (s_count (svc, "web", "healthy"), 3, "three healthy again");
    s_commit (db);

    /*  A rolling update: min_healthy 0.6 of 3 is 2, no surge.             */
    body = json_pack ("{s:s}", "cmd", "serve --v2");
    cmp_int (s_api (service_api_update (svc, "web", body, true, s_now, &reply), reply, "patch"),
             200, "PATCH a new command: 200");
    cmp_int (json_integer_value (json_object_get (reply, "version")), 2, "version 2");
    char *update_dep = xstrdup (json_string_value (json_object_get (reply, "deployment_id")));
    json_decref (reply);
    json_decref (body);
    int64_t lowest = 3;
    for (int round = 0; round < 6; round++) {
        service_step (svc, s_now);
        o = s_take (svc, NULL);
        int64_t healthy = s_count (svc, "web", "healthy");
        if (healthy < lowest)
            lowest = healthy;
        /*  Killed tasks end; offers come from the hosts they freed.       */
        for (char *id = zlistx_first (o.killed); id; id = zlistx_next (o.killed))
            s_status (svc, id, zhashx_lookup (s_task_host, id), CAIRN_TASK_KILLED, 0,
                      CAIRN_REASON_KILLED_BY_SCHEDULER);
        zlistx_t *hosts = zlistx_new ();
        for (char *id = zlistx_first (o.killed); id; id = zlistx_next (o.killed))
            zlistx_add_end (hosts, zhashx_lookup (s_task_host, id));
        cmp_int (zlistx_size (o.killed) <= 1, 1, "round %d: at most one old instance killed",
                 round);
        s_out_free (&o);
        for (char *h = zlistx_first (hosts); h; h = zlistx_next (hosts)) {
            out_t l = s_offer_to (svc, h, RES, "r1");
            s_launched (&l);
            s_run_all (svc, &l, 1);
            s_out_free (&l);
        }
        zlistx_destroy (&hosts);
        s_commit (db);
    }
    ok (lowest >= 2, "the rollout kept at least 2 healthy (lowest %" PRId64 ")", lowest);
    service_api_deployment (svc, update_dep, &dep);
    is (json_string_value (json_object_get (dep, "state")), "succeeded", "the update succeeded");
    ok (json_integer_value (json_object_get (dep, "lowest_healthy")) >= 2,
        "and says so (lowest_healthy %" JSON_INTEGER_FORMAT ")",
        json_integer_value (json_object_get (dep, "lowest_healthy")));
    json_decref (dep);
    a = s_app (svc, "web");
    bool all_v2 = true;
    json_array_foreach (json_object_get (a, "tasks"), i, t)
        all_v2 &= json_integer_value (json_object_get (t, "version")) == 2;
    ok (all_v2 && json_array_size (json_object_get (a, "tasks")) == 3,
        "three instances, all of version 2");
    json_decref (a);

    /*  A version that fails at once is rolled back after 3 failures.     */
    body = json_pack ("{s:s}", "cmd", "exit 1");
    service_api_update (svc, "web", body, true, s_now, &reply);
    char *bad_dep = xstrdup (json_string_value (json_object_get (reply, "deployment_id")));
    json_decref (reply);
    json_decref (body);
    for (int round = 0; round < 12; round++) {
        service_step (svc, s_now);
        o = s_take (svc, NULL);
        for (char *id = zlistx_first (o.killed); id; id = zlistx_next (o.killed))
            s_status (svc, id, zhashx_lookup (s_task_host, id), CAIRN_TASK_KILLED, 0,
                      CAIRN_REASON_KILLED_BY_SCHEDULER);
        s_out_free (&o);
        const char *hosts[] = { "h1", "h2", "h3" };
        for (int h = 0; h < 3; h++) {
            out_t l = s_offer_to (svc, hosts[h], RES, "r1");
            s_launched (&l);
            /*  Version 3 fails as soon as it starts; others run.         */
            for (char *id = zlistx_first (l.launched); id; id = zlistx_next (l.launched)) {
                if (strstr (id, ".3.")) {
                    s_status (svc, id, hosts[h], CAIRN_TASK_RUNNING, -1, CAIRN_REASON_NONE);
                    s_status (svc, id, hosts[h], CAIRN_TASK_FAILED, -1,
                              CAIRN_REASON_COMMAND_EXECUTOR_FAILED);
                }
                else
                    s_status (svc, id, hosts[h], CAIRN_TASK_RUNNING, 1, CAIRN_REASON_NONE);
            }
            s_out_free (&l);
        }
        s_commit (db);
        s_now += 20000;         /* past any backoff */
    }
    service_api_deployment (svc, bad_dep, &dep);
    is (json_string_value (json_object_get (dep, "state")), "rolled_back",
        "the failing version is rolled back");
    ok (strstr (json_string_value (json_object_get (dep, "message")), "rolled back to version 2")
        != NULL, "to version 2, the deployment says");
    json_decref (dep);
    a = s_app (svc, "web");
    cmp_int (json_integer_value (json_object_get (a, "version")), 2, "the app is on version 2");
    cmp_int (json_integer_value (json_object_get (json_object_get (a, "instances"), "healthy")), 3,
             "with three healthy instances");
    json_decref (a);
    service_api_versions (svc, "web", &reply);
    json_t *v3 = json_array_get (json_object_get (reply, "versions"), 0);
    ok (json_integer_value (json_object_get (v3, "version")) == 3
        && json_is_true (json_object_get (v3, "failed")), "version 3 is marked failed");
    json_decref (reply);

    /*  Unreachable: replaced after the delay; the copy that comes back is
        killed.                                                            */
    a = s_app (svc, "web");
    char *lost = xstrdup (json_string_value (json_object_get (
        json_array_get (json_object_get (a, "tasks"), 0), "id")));
    json_decref (a);
    char *lost_host = xstrdup (zhashx_lookup (s_task_host, lost));
    s_status (svc, lost, lost_host, CAIRN_TASK_UNREACHABLE, -1, CAIRN_REASON_AGENT_DISCONNECTED);
    service_step (svc, s_now);
    o = s_take (svc, NULL);
    cmp_int (o.kills, 0, "an unreachable instance is not replaced at once");
    s_out_free (&o);
    s_now += 11000;
    service_step (svc, s_now);
    o = s_take (svc, NULL);
    cmp_int (o.kills, 1, "after --unreachable-delay it is given up (killed)");
    s_out_free (&o);
    o = s_offer_to (svc, "h4", RES, "r2");
    cmp_int (zlistx_size (o.launched), 1, "and replaced on another host");
    s_launched (&o);
    s_run_all (svc, &o, 1);
    s_out_free (&o);
    s_status (svc, lost, lost_host, CAIRN_TASK_RUNNING, 1, CAIRN_REASON_RECONCILIATION);
    o = s_take (svc, NULL);
    ok (o.kills == 1 && strcmp (zlistx_first (o.killed), lost) == 0,
        "its agent back, the old copy is killed");
    s_out_free (&o);
    s_status (svc, lost, lost_host, CAIRN_TASK_KILLED, -1, CAIRN_REASON_KILLED_BY_SCHEDULER);
    cmp_int (s_count (svc, "web", "live"), 3, "three live instances, no duplicate");
    s_status (svc, "web.1.deadbeef", "h1", CAIRN_TASK_RUNNING, -1, CAIRN_REASON_RECONCILIATION);
    o = s_take (svc, NULL);
    ok (o.kills == 1 && strcmp (zlistx_first (o.killed), "web.1.deadbeef") == 0,
        "a running task not in the books is killed");
    s_out_free (&o);
    service_step (svc, s_now);
    o = s_take (svc, NULL);
    s_out_free (&o);
    s_commit (db);

    /*  A restart of cairn-service adopts the tasks and launches none.     */
    service_destroy (&svc);
    svcdb_close (&db);
    db = s_open_db ();
    svc = service_new (&cfg, db, s_now);
    is (service_framework_id (svc), "f-test", "restarted: the framework id is back");
    cmp_int (s_count (svc, "web", "live"), 3, "so are the three instances");
    service_reregistered (svc, s_now);
    o = s_take (svc, NULL);
    cmp_int (o.reconciles, 2, "re-registered: it reconciles its tasks, then all");
    s_out_free (&o);
    o = s_offer_to (svc, "h5", RES, "r2");
    cmp_int (zlistx_size (o.launched), 0, "and launches nothing");
    s_out_free (&o);
    /*  Back after a master failover (which knows nothing of suppression):
        satisfied, it suppresses offers again.                            */
    service_step (svc, s_now);
    o = s_take (svc, NULL);
    s_out_free (&o);
    service_disconnected (svc, s_now);
    service_reregistered (svc, s_now);
    service_step (svc, s_now);
    o = s_take (svc, NULL);
    cmp_int (o.suppresses, 1, "re-registered and satisfied: it suppresses offers again");
    s_out_free (&o);
    s_commit (db);

    /*  Scale to 5 (no constraint left) then to 1.                         */
    body = json_pack ("{s:i s:[]}", "instances", 5, "constraints");
    cmp_int (s_api (service_api_update (svc, "web", body, true, s_now, &reply), reply, "scale"),
             200, "PATCH instances 5 and no constraints");
    json_decref (reply);
    json_decref (body);
    o = s_offer_to (svc, "h1", RES, "r1");
    s_launched (&o);
    cmp_int (zlistx_size (o.launched), 2, "two more on one offer");
    s_out_free (&o);
    cmp_int (s_count (svc, "web", "live"), 5, "five live");
    body = json_pack ("{s:i}", "instances", 1);
    service_api_update (svc, "web", body, true, s_now, &reply);
    ok (json_is_false (json_object_get (reply, "changed")) == false, "scaling to 1 changes it");
    json_decref (reply);
    json_decref (body);
    /*  The change of constraints was a new version, still rolling out:
        the scale carries the rollout on, so one old instance stays until
        a new one is healthy (min_healthy 0.6 of 1).                      */
    service_step (svc, s_now);
    o = s_take (svc, NULL);
    cmp_int (o.kills, 3, "scaled to 1 mid-rollout: three killed");
    s_out_free (&o);
    a = s_app (svc, "web");
    cmp_int (json_integer_value (json_object_get (json_object_get (a, "instances"), "live")), 2,
             "two live: a new instance and the healthy old one it replaces");
    cmp_int (json_integer_value (json_object_get (json_object_get (a, "instances"), "healthy")),
             1, "one healthy");
    json_decref (a);

    /*  Delete: everything killed, the app gone once they ended.           */
    cmp_int (service_api_delete (svc, "web", s_now, &reply), 202, "DELETE: 202");
    json_decref (reply);
    service_step (svc, s_now);
    o = s_take (svc, NULL);
    s_out_free (&o);
    a = s_app (svc, "web");
    json_t *tasks = json_object_get (a, "tasks");
    zlistx_t *left = zlistx_new ();
    json_array_foreach (tasks, i, t)
        zlistx_add_end (left, xstrdup (json_string_value (json_object_get (t, "id"))));
    json_decref (a);
    for (char *id = zlistx_first (left); id; id = zlistx_next (left)) {
        s_status (svc, id, zhashx_lookup (s_task_host, id), CAIRN_TASK_KILLED, -1,
                  CAIRN_REASON_KILLED_BY_SCHEDULER);
        free (id);
    }
    zlistx_destroy (&left);
    service_step (svc, s_now);
    a = s_app (svc, "web");
    ok (a == NULL, "once every instance ended, the app is gone");
    json_decref (a);
    cmp_int (service_api_app (svc, "web", s_now, &reply), 404, "GET: 404");
    json_decref (reply);
    o = s_take (svc, NULL);
    s_out_free (&o);
    s_commit (db);

    for (char *id = zlistx_first (all); id; id = zlistx_next (all))
        free (id);
    zlistx_destroy (&all);
    free (t1);
    free (lost);
    free (lost_host);
    free (create_dep);
    free (update_dep);
    free (bad_dep);
    service_destroy (&svc);
    svcdb_close (&db);
    zhashx_destroy (&s_task_host);
    util_remove_tree (s_dir);
}

/*  Constraints other than unique: max_per, equals, group_by.              */
static void
test_constraints (void)
{
    snprintf (s_dir, sizeof s_dir, "%s/cairn-unit-service-c.%d", s_tmp (), (int) getpid ());
    util_remove_tree (s_dir);
    util_mkdir_p (s_dir, 0700);
    s_task_host = zhashx_new ();
    zhashx_set_destructor (s_task_host, (zhashx_destructor_fn *) zstr_free);
    service_config_t cfg = s_config ();
    svcdb_t *db = s_open_db ();
    service_t *svc = service_new (&cfg, db, s_now);
    service_registered (svc, "f-test", s_now);
    json_t *reply = NULL;
    json_t *body = json_loads ("{\"id\":\"per\",\"cmd\":\"x\",\"instances\":5,\"cpus\":0.1,"
                               "\"mem\":16,\"constraints\":[[\"hostname\",\"max_per\",\"2\"]]}",
                               0, NULL);
    service_api_create (svc, body, s_now, &reply);
    json_decref (reply);
    json_decref (body);
    out_t o = s_offer_to (svc, "h1", RES, "r1");
    cmp_int (zlistx_size (o.launched), 2, "max_per 2: two on h1");
    s_out_free (&o);
    o = s_offer_to (svc, "h2", RES, "r1");
    cmp_int (zlistx_size (o.launched), 2, "two on h2");
    s_out_free (&o);
    o = s_offer_to (svc, "h3", RES, "r2");
    cmp_int (zlistx_size (o.launched), 1, "the fifth on h3");
    s_out_free (&o);

    body = json_loads ("{\"id\":\"rack\",\"cmd\":\"x\",\"instances\":2,\"cpus\":0.1,"
                       "\"mem\":16,\"constraints\":[[\"rack\",\"equals\",\"r2\"]]}", 0, NULL);
    service_api_create (svc, body, s_now, &reply);
    json_decref (reply);
    json_decref (body);
    o = s_offer_to (svc, "h1", RES, "r1");
    cmp_int (zlistx_size (o.launched), 0, "equals r2: nothing on rack r1");
    s_out_free (&o);
    o = s_offer_to (svc, "h3", RES, "r2");
    cmp_int (zlistx_size (o.launched), 2, "both on rack r2");
    s_out_free (&o);
    o = s_offer_to (svc, "h9", RES, NULL);
    cmp_int (zlistx_size (o.launched), 0, "an agent without the attribute takes none");
    s_out_free (&o);

    body = json_loads ("{\"id\":\"spread\",\"cmd\":\"x\",\"instances\":4,\"cpus\":0.1,"
                       "\"mem\":16,\"constraints\":[[\"rack\",\"group_by\",\"2\"]]}", 0, NULL);
    service_api_create (svc, body, s_now, &reply);
    json_decref (reply);
    json_decref (body);
    o = s_offer_to (svc, "h1", RES, "r1");
    cmp_int (zlistx_size (o.launched), 1, "group_by rack over 2 racks: one on r1 first");
    s_out_free (&o);
    o = s_offer_to (svc, "h1", RES, "r1");
    cmp_int (zlistx_size (o.launched), 0, "not a second on r1 while r2 has none");
    s_out_free (&o);
    o = s_offer_to (svc, "h3", RES, "r2");
    cmp_int (zlistx_size (o.launched), 2, "r2 catches up, one past r1 at most");
    s_out_free (&o);
    o = s_offer_to (svc, "h2", RES, "r1");
    cmp_int (zlistx_size (o.launched), 1, "then r1 again: two and two");
    s_out_free (&o);

    /*  Bad ids and versions answer with the field.                        */
    body = json_pack ("{s:i}", "version", 42);
    cmp_int (service_api_rollback (svc, "per", body, s_now, &reply), 400,
             "rollback to a version that does not exist: 400");
    is (json_string_value (json_object_get (reply, "field")), "version", "naming version");
    json_decref (reply);
    json_decref (body);
    body = json_pack ("{s:s s:s}", "id", "other", "cmd", "x");
    cmp_int (service_api_update (svc, "per", body, false, s_now, &reply), 400,
             "PUT with another id: 400");
    is (json_string_value (json_object_get (reply, "field")), "id", "naming id");
    json_decref (reply);
    json_decref (body);
    body = json_pack ("{s:i}", "instances", -2);
    cmp_int (service_api_update (svc, "per", body, true, s_now, &reply), 400,
             "PATCH a bad instance count: 400");
    is (json_string_value (json_object_get (reply, "error")),
        "instances must be a non-negative integer", "with the field's sentence");
    json_decref (reply);
    json_decref (body);
    cmp_int (service_api_cancel (svc, "d-nope", false, s_now, &reply), 404,
             "cancel an unknown deployment: 404");
    json_decref (reply);
    o = s_take (svc, NULL);
    s_out_free (&o);
    service_destroy (&svc);
    svcdb_close (&db);
    zhashx_destroy (&s_task_host);
    util_remove_tree (s_dir);
}

static const char *
s_dep_state (service_t *svc, const char *id)
{
    static char state[32];
    json_t *d = NULL;
    service_api_deployment (svc, id, &d);
    snprintf (state, sizeof state, "%s", json_string_value (json_object_get (d, "state")));
    json_decref (d);
    return state;
}

static char *
s_dep_of (json_t *reply)
{
    const char *id = json_string_value (json_object_get (reply, "deployment_id"));
    return xstrdup (id ? id : "");
}

/*  Cancelling deployments, rollbacks, restarts, a torn-down framework.   */
static void
test_deployments (void)
{
    snprintf (s_dir, sizeof s_dir, "%s/cairn-unit-service-d.%d", s_tmp (), (int) getpid ());
    util_remove_tree (s_dir);
    util_mkdir_p (s_dir, 0700);
    s_task_host = zhashx_new ();
    zhashx_set_destructor (s_task_host, (zhashx_destructor_fn *) zstr_free);
    service_config_t cfg = s_config ();
    svcdb_t *db = s_open_db ();
    service_t *svc = service_new (&cfg, db, s_now);
    service_registered (svc, "f-test", s_now);
    json_t *reply = NULL;
    json_t *body = json_loads ("{\"id\":\"c\",\"cmd\":\"x\",\"instances\":2,\"cpus\":0.1,"
                               "\"mem\":16,\"upgrade\":{\"min_healthy\":0.5,\"max_surge\":0}}",
                               0, NULL);
    cmp_int (service_api_update (svc, "c", body, false, s_now, &reply), 201,
             "PUT of an app that does not exist creates it (201)");
    json_decref (reply);
    json_decref (body);
    out_t o = s_offer_to (svc, "h1", RES, "r1");
    s_launched (&o);
    s_run_all (svc, &o, -1);
    s_out_free (&o);
    service_step (svc, s_now);
    o = s_take (svc, NULL);
    s_out_free (&o);
    cmp_int (s_count (svc, "c", "healthy"), 2, "without a health check, running is healthy");

    /*  Cancelled where it stands.                                          */
    body = json_pack ("{s:s}", "cmd", "y");
    service_api_update (svc, "c", body, true, s_now, &reply);
    char *d1 = s_dep_of (reply);
    json_decref (reply);
    json_decref (body);
    service_step (svc, s_now);
    o = s_take (svc, NULL);
    cmp_int (o.kills, 1, "min_healthy 1 of 2: one old instance goes");
    for (char *id = zlistx_first (o.killed); id; id = zlistx_next (o.killed))
        s_status (svc, id, "h1", CAIRN_TASK_KILLED, -1, CAIRN_REASON_KILLED_BY_SCHEDULER);
    s_out_free (&o);
    o = s_offer_to (svc, "h1", RES, "r1");
    cmp_int (zlistx_size (o.launched), 1, "one new instance launched");
    s_out_free (&o);
    cmp_int (service_api_cancel (svc, d1, false, s_now, &reply), 200, "cancel: 200");
    is (json_string_value (json_object_get (reply, "state")), "cancelled", "the deployment is "
        "cancelled");
    json_decref (reply);
    cmp_int (service_api_cancel (svc, d1, false, s_now, &reply), 409, "cancel it again: 409");
    json_decref (reply);
    service_step (svc, s_now);
    o = s_take (svc, NULL);
    cmp_int (o.kills, 0, "stopped where it stood: the old instance stays");
    s_out_free (&o);
    cmp_int (s_count (svc, "c", "live"), 2, "two live: one old, one new");

    /*  Cancelled with a rollback.                                          */
    body = json_pack ("{s:s}", "cmd", "z");
    service_api_update (svc, "c", body, true, s_now, &reply);
    char *d2 = s_dep_of (reply);
    json_decref (reply);
    json_decref (body);
    cmp_int (service_api_cancel (svc, d2, true, s_now, &reply), 200, "cancel --rollback: 200");
    ok (json_is_string (json_object_get (reply, "rollback_deployment_id")),
        "with the deployment that undoes it");
    json_decref (reply);
    is (s_dep_state (svc, d2), "cancelled", "the update is cancelled");
    json_t *a = s_app (svc, "c");
    cmp_int (json_integer_value (json_object_get (a, "version")), 2, "back on version 2");
    json_decref (a);

    /*  Restart, then a rollback without a version: the last good one.      */
    cmp_int (service_api_restart (svc, "c", s_now, &reply), 200, "restart: 200");
    cmp_int (json_integer_value (json_object_get (reply, "version")), 4,
             "a new version with the same definition");
    json_decref (reply);
    cmp_int (service_api_rollback (svc, "c", NULL, s_now, &reply), 200, "rollback: 200");
    cmp_int (json_integer_value (json_object_get (reply, "version")), 1,
             "to the last good version, 1");
    json_decref (reply);
    cmp_int (service_api_deployments (svc, "c", true, &reply), 200, "deployments of c, active");
    cmp_int (json_array_size (json_object_get (reply, "deployments")), 1, "one runs");
    json_decref (reply);
    service_api_deployments (svc, "c", false, &reply);
    cmp_int (json_array_size (json_object_get (reply, "deployments")), 6,
             "six in all: create, update, update, rollback, restart, rollback");
    json_decref (reply);

    /*  A creation cancelled with a rollback deletes the app.               */
    body = json_loads ("{\"id\":\"brief\",\"cmd\":\"x\",\"mem\":16}", 0, NULL);
    service_api_create (svc, body, s_now, &reply);
    char *d3 = s_dep_of (reply);
    json_decref (reply);
    json_decref (body);
    cmp_int (service_api_cancel (svc, d3, true, s_now, &reply), 200, "cancel a creation");
    json_decref (reply);
    service_step (svc, s_now);
    cmp_int (service_api_app (svc, "brief", s_now, &reply), 404, "the app is gone");
    json_decref (reply);

    /*  The framework torn down: tasks forgotten, relaunched anew.          */
    int64_t live = s_count (svc, "c", "live");
    ok (live > 0, "c has live instances (%" PRId64 ")", live);
    service_forget_framework (svc, "torn down", s_now);
    ok (!service_framework_id (svc), "the framework id is forgotten");
    cmp_int (s_count (svc, "c", "live"), 0, "and the instances with it");
    service_registered (svc, "f-new", s_now);
    service_step (svc, s_now);
    o = s_offer_to (svc, "h2", RES, "r1");
    cmp_int (zlistx_size (o.launched), 2, "registered anew, both instances launch again");
    s_out_free (&o);
    o = s_take (svc, NULL);
    s_out_free (&o);
    s_commit (db);
    service_destroy (&svc);
    svcdb_close (&db);

    /*  A store that has a task of an app it does not have: killed.         */
    db = s_open_db ();
    ok (svcdb_put (db, SVCDB_TASKS, "ghost.1.abcdef01", "ghost", 0,
                   "{\"version\":1,\"agent_id\":\"a-h1\",\"hostname\":\"h1\",\"state\":"
                   "\"TASK_RUNNING\",\"healthy\":-1}") == 0, "a stray task in the store");
    s_commit (db);
    svc = service_new (&cfg, db, s_now);
    service_reregistered (svc, s_now);
    service_step (svc, s_now);
    o = s_take (svc, NULL);
    bool found = false;
    for (char *id = zlistx_first (o.killed); id; id = zlistx_next (o.killed))
        found |= strcmp (id, "ghost.1.abcdef01") == 0;
    ok (found, "is killed once registered");
    s_out_free (&o);
    s_status (svc, "ghost.1.abcdef01", "h1", CAIRN_TASK_KILLED, -1,
              CAIRN_REASON_KILLED_BY_SCHEDULER);
    o = s_take (svc, NULL);
    s_out_free (&o);
    s_commit (db);
    service_destroy (&svc);
    svcdb_close (&db);
    free (d1);
    free (d2);
    free (d3);
    zhashx_destroy (&s_task_host);
    util_remove_tree (s_dir);
}

/*  A scale while a rollout runs carries the rollout on: it ends with
    every instance on the new version, not with old and new mixed.       */
static void
test_scale_in_rollout (void)
{
    snprintf (s_dir, sizeof s_dir, "%s/cairn-unit-service-s.%d", s_tmp (), (int) getpid ());
    util_remove_tree (s_dir);
    util_mkdir_p (s_dir, 0700);
    s_task_host = zhashx_new ();
    zhashx_set_destructor (s_task_host, (zhashx_destructor_fn *) zstr_free);
    service_config_t cfg = s_config ();
    svcdb_t *db = s_open_db ();
    service_t *svc = service_new (&cfg, db, s_now);
    service_registered (svc, "f-test", s_now);
    json_t *reply = NULL;
    json_t *body = json_loads ("{\"id\":\"s\",\"cmd\":\"x\",\"instances\":2,\"cpus\":0.1,"
                               "\"mem\":16,\"upgrade\":{\"min_healthy\":0.5,\"max_surge\":0}}",
                               0, NULL);
    service_api_create (svc, body, s_now, &reply);
    json_decref (reply);
    json_decref (body);
    out_t o = s_offer_to (svc, "h1", RES, "r1");
    s_launched (&o);
    s_run_all (svc, &o, -1);
    s_out_free (&o);
    service_step (svc, s_now);
    o = s_take (svc, NULL);
    s_out_free (&o);
    cmp_int (s_count (svc, "s", "healthy"), 2, "two instances of version 1");

    /*  An update starts; one old instance goes, one new one starts.      */
    body = json_pack ("{s:s}", "cmd", "y");
    service_api_update (svc, "s", body, true, s_now, &reply);
    char *update = s_dep_of (reply);
    json_decref (reply);
    json_decref (body);
    service_step (svc, s_now);
    o = s_take (svc, NULL);
    for (char *id = zlistx_first (o.killed); id; id = zlistx_next (o.killed))
        s_status (svc, id, "h1", CAIRN_TASK_KILLED, -1, CAIRN_REASON_KILLED_BY_SCHEDULER);
    s_out_free (&o);
    o = s_offer_to (svc, "h1", RES, "r1");
    s_launched (&o);
    cmp_int (zlistx_size (o.launched), 1, "mid-rollout: one new instance launched");
    out_t pending = o;

    /*  Scaled to 3 before the rollout is done.                            */
    body = json_pack ("{s:i}", "instances", 3);
    cmp_int (service_api_update (svc, "s", body, true, s_now, &reply), 200, "PATCH instances 3");
    char *scale = s_dep_of (reply);
    json_decref (reply);
    json_decref (body);
    is (s_dep_state (svc, update), "superseded", "the update is superseded by the scale");
    service_api_deployment (svc, scale, &reply);
    ok (json_is_true (json_object_get (reply, "rollout"))
        && json_is_true (json_object_get (reply, "auto_rollback")),
        "the scale carries the rollout on (and its automatic rollback)");
    json_decref (reply);
    s_run_all (svc, &pending, -1);
    s_out_free (&pending);
    for (int round = 0; round < 10 && strcmp (s_dep_state (svc, scale), "running") == 0;
         round++) {
        service_step (svc, s_now);
        o = s_take (svc, NULL);
        for (char *id = zlistx_first (o.killed); id; id = zlistx_next (o.killed))
            s_status (svc, id, "h1", CAIRN_TASK_KILLED, -1, CAIRN_REASON_KILLED_BY_SCHEDULER);
        s_out_free (&o);
        o = s_offer_to (svc, "h1", RES, "r1");
        s_launched (&o);
        s_run_all (svc, &o, -1);
        s_out_free (&o);
    }
    is (s_dep_state (svc, scale), "succeeded", "the scale succeeds");
    json_t *a = s_app (svc, "s");
    size_t i;
    json_t *t;
    int64_t v2 = 0, others = 0;
    json_array_foreach (json_object_get (a, "tasks"), i, t) {
        if (json_integer_value (json_object_get (t, "version")) == 2)
            v2++;
        else
            others++;
    }
    cmp_int (v2, 3, "with 3 instances of version 2");
    cmp_int (others, 0, "and none of version 1 left");
    json_decref (a);
    o = s_take (svc, NULL);
    s_out_free (&o);
    s_commit (db);
    service_destroy (&svc);
    svcdb_close (&db);
    free (update);
    free (scale);
    zhashx_destroy (&s_task_host);
    util_remove_tree (s_dir);
}

int
main (void)
{
    log_init ("service-test", "error", NULL);
    test_definitions ();
    test_scheduler ();
    test_constraints ();
    test_deployments ();
    test_scale_in_rollout ();
    return done_testing ();
}
