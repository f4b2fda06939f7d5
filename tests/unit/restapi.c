/*  tests/unit/restapi.c - validating users' JSON (jcheck) and the REST
    API glue (restapi) over a real HTTP server on 127.0.0.1, called with
    the JSON client (httpc_json), as the bundled frameworks use them.

    The server's owner loop runs in its own thread (a zpoller on
    httpd_sock and a control pipe), like a daemon's loop.                */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "cairn.h"
#include "error.h"
#include "httpc.h"
#include "httpd.h"
#include "jcheck.h"
#include "restapi.h"
#include "tap.h"

#define TIMEOUT_MS 60000

static const char *const s_kinds[] = { "http", "tcp", "command", NULL };

static const jcheck_field_t s_health[] = {
    JCHECK ("type", JCHECK_STRING, .required = true, .choices = s_kinds),
    JCHECK ("interval_s", JCHECK_DURATION, .ranged = true, .min = 100, .max = 3600000),
    JCHECK ("timeout", JCHECK_DURATION),
    JCHECK_END
};

static const jcheck_field_t s_constraint = JCHECK ("constraint", JCHECK_STRING_ARRAY,
                                                   .nonempty = true);

static const jcheck_field_t s_app[] = {
    JCHECK ("id", JCHECK_STRING, .required = true, .nonempty = true),
    JCHECK ("instances", JCHECK_INT, .ranged = true, .min = 0, .max = 1e18),
    JCHECK ("cpus", JCHECK_NUMBER, .ranged = true, .min = 0.01, .max = 1024),
    JCHECK ("ports", JCHECK_INT, .ranged = true, .min = 0, .max = 64),
    JCHECK ("shell", JCHECK_BOOL),
    JCHECK ("env", JCHECK_STRING_MAP),
    JCHECK ("args", JCHECK_STRING_ARRAY, .nonempty = true),
    JCHECK ("health_check", JCHECK_OBJECT, .fields = s_health),
    JCHECK ("constraints", JCHECK_ARRAY, .items = &s_constraint),
    JCHECK ("labels", JCHECK_OBJECT),
    JCHECK_END
};

/*  Checks text against s_app: the error's field and message (or "ok").  */
static void
s_check (const char *text, const char *want_field, const char *want_message, const char *what)
{
    jcheck_error_t err = { 0 };
    json_t *json = jcheck_load (text, strlen (text), &err);
    int rc = json ? jcheck_object (json, s_app, NULL, &err) : -1;
    if (!want_field) {
        ok (rc == 0, "%s: accepted", what);
        if (rc != 0)
            diag ("error: %s (%s)", err.message, err.field);
    }
    else {
        is (err.field ? err.field : "(none)", want_field, "%s: field", what);
        is (err.message ? err.message : "(none)", want_message, "%s: message", what);
    }
    jcheck_error_clear (&err);
    json_decref (json);
}

static void
test_jcheck (void)
{
    s_check ("{\"id\":\"web\",\"instances\":3,\"cpus\":0.5,\"ports\":1,\"shell\":true,"
             "\"env\":{\"A\":\"1\"},\"args\":[\"sleep\",\"1\"],"
             "\"health_check\":{\"type\":\"http\",\"interval_s\":2,\"timeout\":\"500ms\"},"
             "\"constraints\":[[\"hostname\",\"unique\"]],\"labels\":{\"x\":1}}",
             NULL, NULL, "a full definition");
    s_check ("{\"id\":\"web\",\"instances\":-1}", "instances",
             "instances must be a non-negative integer", "negative integer");
    s_check ("{\"id\":\"web\",\"instances\":2.5}", "instances",
             "instances must be a non-negative integer", "real for integer");
    s_check ("{\"id\":\"web\",\"instances\":true}", "instances",
             "instances must be a non-negative integer", "bool for integer");
    s_check ("{\"id\":\"web\",\"cpus\":0}", "cpus", "cpus must be a number from 0.01 to 1024",
             "number below range");
    s_check ("{\"id\":\"web\",\"instnces\":2}", "instnces",
             "unknown field 'instnces' (did you mean instances?)", "unknown field with a hint");
    s_check ("{\"id\":\"web\",\"zzzzzzzzz\":2}", "zzzzzzzzz", "unknown field 'zzzzzzzzz'",
             "unknown field without a hint");
    s_check ("{\"instances\":2}", "id", "id is required", "missing required field");
    s_check ("{\"id\":\"\"}", "id", "id must be a non-empty string", "empty string");
    s_check ("{\"id\":\"w\",\"health_check\":{\"type\":\"udp\"}}", "health_check.type",
             "health_check.type must be one of \"http\", \"tcp\", \"command\"",
             "choices, nested");
    s_check ("{\"id\":\"w\",\"health_check\":{\"interval_s\":1}}", "health_check.type",
             "health_check.type is required", "nested required field");
    s_check ("{\"id\":\"w\",\"health_check\":{\"type\":\"tcp\",\"interval_s\":\"fast\"}}",
             "health_check.interval_s",
             "health_check.interval_s must be a duration such as \"10s\" or a number of seconds",
             "bad duration");
    s_check ("{\"id\":\"w\",\"health_check\":{\"type\":\"tcp\",\"interval_s\":0.01}}",
             "health_check.interval_s", "health_check.interval_s must be from 100ms to 1h",
             "duration out of range");
    s_check ("{\"id\":\"w\",\"health_check\":{\"type\":\"tcp\",\"timeout\":5}}",
             "health_check.timeout",
             "health_check.timeout must be a duration such as \"500ms\", \"10s\" or \"5m\"",
             "a bare number is not a duration outside *_s");
    s_check ("{\"id\":\"w\",\"env\":{\"A\":1}}", "env.A", "env.A must be a string",
             "string map value");
    s_check ("{\"id\":\"w\",\"args\":[\"a\",\"\"]}", "args[1]",
             "args[1] must be a non-empty string", "string array element");
    s_check ("{\"id\":\"w\",\"constraints\":[[\"hostname\"],[1]]}", "constraints[1][0]",
             "constraints[1][0] must be a non-empty string", "array of arrays");
    s_check ("{\"id\":\"w\",\"id\":\"x\"}", "", "not valid JSON: line 1, column 14: duplicate "
             "object key near '\"id\"'", "duplicate keys");
    s_check ("[1]", "", "the document must be a JSON object", "not an object");

    int64_t ms = 0;
    json_t *v = json_real (1.5);
    ok (jcheck_duration_ms (v, "grace_s", &ms) == 0 && ms == 1500, "1.5 in *_s is 1500 ms");
    ok (jcheck_duration_ms (v, "grace", &ms) < 0, "a number outside *_s is not a duration");
    json_decref (v);
    v = json_string ("2m");
    ok (jcheck_duration_ms (v, "grace_s", &ms) == 0 && ms == 120000, "\"2m\" is 120000 ms");
    json_decref (v);

    jcheck_error_t err = { 0 };
    cmp_int (jcheck_fail (&err, "constraints[0]", "names an unknown operator '%s'", "near"), -1,
             "jcheck_fail returns -1");
    is (err.message, "constraints[0] names an unknown operator 'near'", "jcheck_fail message");
    is (err.field, "constraints[0]", "jcheck_fail field");
    jcheck_error_clear (&err);
    ok (!err.message && !err.field, "cleared");
    jcheck_error_clear (&err);
}

/*  The server: a small app store.  */

typedef struct {
    httpd_t *httpd;
    zsock_t *control;
    json_t *apps;               /* id -> definition */
    httpd_request_t *held;      /* a request taken to answer later */
} server_t;

static void
s_list (restapi_call_t *call)
{
    server_t *self = call->arg;
    restapi_reply (call, 200, json_deep_copy (self->apps));
}

static void
s_create (restapi_call_t *call)
{
    server_t *self = call->arg;
    json_t *app = restapi_body (call, s_app);
    if (!app)
        return;
    const char *id = json_string_value (json_object_get (app, "id"));
    if (json_object_get (self->apps, id)) {
        restapi_error (call, 409, "id", "app '%s' exists already", id);
        json_decref (app);
        return;
    }
    json_object_set (self->apps, id, app);
    restapi_reply (call, 201, app);
}

static void
s_show (restapi_call_t *call)
{
    server_t *self = call->arg;
    json_t *app = json_object_get (self->apps, call->params[0]);
    if (app)
        restapi_reply (call, 200, json_incref (app));
    else
        restapi_error (call, 404, NULL, "no app '%s'", call->params[0]);
}

static void
s_versions (restapi_call_t *call)
{
    restapi_reply (call, 200, json_pack ("{s:s, s:s, s:s*}", "app", call->params[0], "version",
                                         call->params[1], "q", restapi_query (call, "q")));
}

static void
s_later (restapi_call_t *call)
{
    server_t *self = call->arg;
    self->held = restapi_call_take (call);
}

static void
s_forgetful (restapi_call_t *call)
{
    (void) call;                /* answers nothing: a bug the glue reports */
}

static const restapi_route_t s_routes[] = {
    { "GET", "/v1/apps", s_list },
    { "POST", "/v1/apps", s_create },
    { "GET", "/v1/apps/{id}", s_show },
    { "DELETE", "/v1/apps/{id}", s_show },
    { "GET", "/v1/apps/{id}/versions/{version}", s_versions },
    { "GET", "/later", s_later },
    { "GET", "/forgetful", s_forgetful },
};

static void *
s_server_thread (void *arg)
{
    server_t *self = arg;
    zpoller_t *poller = zpoller_new (httpd_sock (self->httpd), self->control, NULL);
    while (true) {
        void *which = zpoller_wait (poller, 100);
        if (which == self->control)
            break;
        /*  A held request is answered on the next pass.                  */
        if (self->held) {
            json_t *json = json_pack ("{s:s}", "late", "yes");
            httpd_respond_json (self->httpd, &self->held, 200, json);
        }
        httpd_request_t *req;
        while ((req = httpd_recv (self->httpd)))
            restapi_dispatch (self->httpd, &req, s_routes, sizeof s_routes / sizeof s_routes[0],
                              self);
    }
    zpoller_destroy (&poller);
    return NULL;
}

static void
s_call (const char *method, const char *url, const char *body, long want_status,
        const char *want_field, const char *want_error, const char *what)
{
    json_t *in = NULL;
    if (body) {
        in = json_loads (body, 0, NULL);
        if (!in)
            in = json_string (body);        /* sent as a JSON string: not an object */
    }
    long status = 0;
    json_t *reply = NULL;
    int rc = httpc_json (method, url, in, TIMEOUT_MS, &status, &reply);
    json_decref (in);
    ok (rc == 0, "%s: answered", what);
    cmp_int (status, want_status, "%s: status", what);
    if (want_error) {
        const char *error = json_string_value (json_object_get (reply, "error"));
        const char *field = json_string_value (json_object_get (reply, "field"));
        is (error ? error : "(none)", want_error, "%s: error", what);
        is (field ? field : "(none)", want_field ? want_field : "(none)", "%s: field", what);
    }
    json_decref (reply);
}

static void
test_restapi (void)
{
    server_t server = { .apps = json_object () };
    server.httpd = httpd_new ("127.0.0.1", 0);
    ok (server.httpd != NULL, "server started");
    if (!server.httpd)
        return;
    zsock_t *control = zsock_new_pair ("@inproc://restapi-control");
    server.control = zsock_new_pair (">inproc://restapi-control");
    pthread_t thread;
    pthread_create (&thread, NULL, s_server_thread, &server);
    char base[64];
    snprintf (base, sizeof base, "http://127.0.0.1:%d", httpd_port (server.httpd));
    char url[256];

    snprintf (url, sizeof url, "%s/v1/apps", base);
    s_call ("POST", url, "{\"id\":\"web\",\"instances\":2}", 201, NULL, NULL, "create");
    s_call ("POST", url, "{\"id\":\"web\",\"instances\":2}", 409, "id",
            "app 'web' exists already", "create twice");
    s_call ("POST", url, "{\"id\":\"db\",\"instances\":-3}", 400, "instances",
            "instances must be a non-negative integer", "bad field");
    s_call ("POST", url, "{\"id\":\"db\",\"color\":\"red\"}", 400, "color",
            "unknown field 'color'", "unknown field");
    s_call ("POST", url, "just text", 400, NULL, "the body must be a JSON object",
            "a body that is not an object");
    s_call ("POST", url, NULL, 400, NULL, "the request needs a JSON object as its body",
            "no body");
    {
        long status = 0;
        char *out = NULL;
        size_t size = 0;
        int rc = httpc_request ("POST", url, "application/json", "{\"id\":", 6, TIMEOUT_MS,
                                &status, &out, &size);
        ok (rc == 0 && status == 400, "truncated JSON: 400");
        ok (out && strstr (out, "not valid JSON: line 1"), "truncated JSON: says where");
        free (out);
    }

    long status = 0;
    json_t *reply = NULL;
    ok (httpc_json ("GET", url, NULL, TIMEOUT_MS, &status, &reply) == 0 && status == 200,
        "list");
    ok (json_object_size (reply) == 1 && json_object_get (reply, "web"), "list holds web only");
    json_decref (reply);

    snprintf (url, sizeof url, "%s/v1/apps/web", base);
    s_call ("GET", url, NULL, 200, NULL, NULL, "show");
    s_call ("PUT", url, "{}", 405, NULL, "PUT is not allowed on /v1/apps/web (allowed: GET, DELETE)",
            "wrong method");
    snprintf (url, sizeof url, "%s/v1/apps/nope", base);
    s_call ("GET", url, NULL, 404, NULL, "no app 'nope'", "missing app");
    snprintf (url, sizeof url, "%s/v1/apps/web/versions/v%%203?q=a%%26b", base);
    ok (httpc_json ("GET", url, NULL, TIMEOUT_MS, &status, &reply) == 0 && status == 200,
        "two parameters");
    is (json_string_value (json_object_get (reply, "app")), "web", "first parameter");
    is (json_string_value (json_object_get (reply, "version")), "v 3", "second, decoded");
    is (json_string_value (json_object_get (reply, "q")), "a&b", "query parameter");
    json_decref (reply);

    snprintf (url, sizeof url, "%s/v1/nothing/here", base);
    s_call ("GET", url, NULL, 404, NULL, "no such resource: /v1/nothing/here", "unknown path");
    snprintf (url, sizeof url, "%s/v1/apps/", base);
    s_call ("GET", url, NULL, 404, NULL, "no such resource: /v1/apps/", "trailing slash");
    snprintf (url, sizeof url, "%s/v1//apps", base);
    s_call ("GET", url, NULL, 404, NULL, "no such resource: /v1//apps", "empty segment");
    snprintf (url, sizeof url, "%s/later", base);
    s_call ("GET", url, NULL, 200, NULL, NULL, "a request answered later");
    snprintf (url, sizeof url, "%s/forgetful", base);
    s_call ("GET", url, NULL, 500, NULL, "internal error: no answer for GET /forgetful",
            "a handler that does not answer");

    snprintf (url, sizeof url, "http://127.0.0.1:1/v1/apps");
    reply = NULL;
    ok (httpc_json ("GET", url, NULL, TIMEOUT_MS, &status, &reply) < 0 && !reply,
        "unreachable: -1");
    ok (strstr (cairn_strerror_last (), "127.0.0.1:1") != NULL, "unreachable: names the URL");

    zstr_send (control, "STOP");
    pthread_join (thread, NULL);
    zsock_destroy (&server.control);
    zsock_destroy (&control);
    httpd_destroy (&server.httpd);
    json_decref (server.apps);
}

int
main (void)
{
    test_jcheck ();
    test_restapi ();
    return done_testing ();
}
