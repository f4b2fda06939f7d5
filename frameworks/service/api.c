/*  api.c - the REST API of cairn-service on restapi/httpd.

        GET    /health
        GET    /v1/apps                      POST /v1/apps
        GET    /v1/apps/{id}                 PUT, PATCH, DELETE /v1/apps/{id}
        POST   /v1/apps/{id}/restart         POST /v1/apps/{id}/rollback
        GET    /v1/apps/{id}/versions
        GET    /v1/deployments[?app=ID&active=true]
        GET    /v1/deployments/{id}          DELETE /v1/deployments/{id}[?rollback=true]

    Handlers run on the loop's thread; the scheduler (service.c) does the
    work and says what to answer; answers wait here for the commit.      */
#include "config.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "error.h"
#include "log.h"
#include "restapi.h"

typedef struct pending {
    httpd_request_t *req;
    int status;
    json_t *body;
    struct pending *next;
} pending_t;

struct _api_t {
    httpd_t *httpd;
    service_t *service;
    int64_t now;                /* the time of the request being handled */
    pending_t *head, *tail;
};

api_t *
api_new (httpd_t *httpd, service_t *service)
{
    assert (httpd && service);
    api_t *self = xzalloc (sizeof *self);
    self->httpd = httpd;
    self->service = service;
    return self;
}

static void
s_send (api_t *self, pending_t *p, bool committed)
{
    if (!committed) {
        httpd_respond_error (self->httpd, &p->req, 500, "the change could not be recorded "
                             "(see cairn-service's log); it did not happen");
        return;
    }
    /*  13 digits: cpus 0.1 reads as 0.1, and times keep their ms.         */
    char *text = json_dumps (p->body, JSON_COMPACT | JSON_REAL_PRECISION (13));
    if (!text)
        oom_abort ();
    httpd_respond (self->httpd, &p->req, p->status, "application/json", text, strlen (text));
}

void
api_flush (api_t *self, bool committed)
{
    assert (self);
    pending_t *p = self->head;
    self->head = self->tail = NULL;
    while (p) {
        pending_t *next = p->next;
        s_send (self, p, committed);
        json_decref (p->body);
        free (p);
        p = next;
    }
}

void
api_destroy (api_t **self_p)
{
    assert (self_p);
    api_t *self = *self_p;
    if (!self)
        return;
    pending_t *p = self->head;
    while (p) {
        pending_t *next = p->next;
        httpd_respond_error (self->httpd, &p->req, 503, "cairn-service is stopping");
        json_decref (p->body);
        free (p);
        p = next;
    }
    free (self);
    *self_p = NULL;
}

/*  Queues the answer to call (takes body).                                */
static void
s_queue (restapi_call_t *call, int status, json_t *body)
{
    api_t *self = call->arg;
    pending_t *p = xzalloc (sizeof *p);
    p->req = restapi_call_take (call);
    p->status = status;
    p->body = body;
    if (self->tail)
        self->tail->next = p;
    else
        self->head = p;
    self->tail = p;
}

/*  A yes/no query parameter: 1, 0, or -1 after answering 400.            */
static int
s_flag (restapi_call_t *call, const char *name)
{
    const char *v = restapi_query (call, name);
    if (!v)
        return 0;
    if (!*v || strcmp (v, "true") == 0 || strcmp (v, "1") == 0 || strcmp (v, "yes") == 0)
        return 1;
    if (strcmp (v, "false") == 0 || strcmp (v, "0") == 0 || strcmp (v, "no") == 0)
        return 0;
    restapi_error (call, 400, name, "%s must be true or false", name);
    return -1;
}

static void
s_health (restapi_call_t *call)
{
    api_t *self = call->arg;
    json_t *reply = NULL;
    int status = service_api_health (self->service, self->now, &reply);
    s_queue (call, status, reply);
}

static void
s_list_apps (restapi_call_t *call)
{
    api_t *self = call->arg;
    json_t *reply = NULL;
    int status = service_api_apps (self->service, self->now, &reply);
    s_queue (call, status, reply);
}

static void
s_create_app (restapi_call_t *call)
{
    api_t *self = call->arg;
    json_t *body = restapi_body (call, NULL);
    if (!body)
        return;
    json_t *reply = NULL;
    int status = service_api_create (self->service, body, self->now, &reply);
    json_decref (body);
    s_queue (call, status, reply);
}

static void
s_show_app (restapi_call_t *call)
{
    api_t *self = call->arg;
    json_t *reply = NULL;
    int status = service_api_app (self->service, call->params[0], self->now, &reply);
    s_queue (call, status, reply);
}

static void
s_update (restapi_call_t *call, bool merge)
{
    api_t *self = call->arg;
    json_t *body = restapi_body (call, NULL);
    if (!body)
        return;
    json_t *reply = NULL;
    int status = service_api_update (self->service, call->params[0], body, merge, self->now,
                                     &reply);
    json_decref (body);
    s_queue (call, status, reply);
}

static void
s_put_app (restapi_call_t *call)
{
    s_update (call, false);
}

static void
s_patch_app (restapi_call_t *call)
{
    s_update (call, true);
}

static void
s_delete_app (restapi_call_t *call)
{
    api_t *self = call->arg;
    json_t *reply = NULL;
    int status = service_api_delete (self->service, call->params[0], self->now, &reply);
    s_queue (call, status, reply);
}

static void
s_restart_app (restapi_call_t *call)
{
    api_t *self = call->arg;
    json_t *reply = NULL;
    int status = service_api_restart (self->service, call->params[0], self->now, &reply);
    s_queue (call, status, reply);
}

static const jcheck_field_t s_rollback_fields[] = {
    JCHECK ("version", JCHECK_INT, .ranged = true, .min = 1, .max = 1e18),
    JCHECK_END
};

static void
s_rollback_app (restapi_call_t *call)
{
    api_t *self = call->arg;
    size_t size = 0;
    json_t *body = NULL;
    /*  The body is optional: none means the last good version.            */
    if (httpd_request_body (call->req, &size) && size > 0
        && !(body = restapi_body (call, s_rollback_fields)))
        return;
    json_t *reply = NULL;
    int status = service_api_rollback (self->service, call->params[0], body, self->now, &reply);
    json_decref (body);
    s_queue (call, status, reply);
}

static void
s_versions (restapi_call_t *call)
{
    api_t *self = call->arg;
    json_t *reply = NULL;
    int status = service_api_versions (self->service, call->params[0], &reply);
    s_queue (call, status, reply);
}

static void
s_deployments (restapi_call_t *call)
{
    api_t *self = call->arg;
    int active = s_flag (call, "active");
    if (active < 0)
        return;
    json_t *reply = NULL;
    int status = service_api_deployments (self->service, restapi_query (call, "app"),
                                          active == 1, &reply);
    s_queue (call, status, reply);
}

static void
s_deployment (restapi_call_t *call)
{
    api_t *self = call->arg;
    json_t *reply = NULL;
    int status = service_api_deployment (self->service, call->params[0], &reply);
    s_queue (call, status, reply);
}

static void
s_cancel (restapi_call_t *call)
{
    api_t *self = call->arg;
    int rollback = s_flag (call, "rollback");
    if (rollback < 0)
        return;
    json_t *reply = NULL;
    int status = service_api_cancel (self->service, call->params[0], rollback == 1, self->now,
                                     &reply);
    s_queue (call, status, reply);
}

static const restapi_route_t s_routes[] = {
    { "GET", "/health", s_health },
    { "GET", "/v1/apps", s_list_apps },
    { "POST", "/v1/apps", s_create_app },
    { "GET", "/v1/apps/{id}", s_show_app },
    { "PUT", "/v1/apps/{id}", s_put_app },
    { "PATCH", "/v1/apps/{id}", s_patch_app },
    { "DELETE", "/v1/apps/{id}", s_delete_app },
    { "POST", "/v1/apps/{id}/restart", s_restart_app },
    { "POST", "/v1/apps/{id}/rollback", s_rollback_app },
    { "GET", "/v1/apps/{id}/versions", s_versions },
    { "GET", "/v1/deployments", s_deployments },
    { "GET", "/v1/deployments/{id}", s_deployment },
    { "DELETE", "/v1/deployments/{id}", s_cancel },
};

void
api_handle (api_t *self, httpd_request_t **req_p, int64_t now)
{
    assert (self && req_p && *req_p);
    self->now = now;
    log_debug ("api: %s %s from %s", httpd_request_method (*req_p), httpd_request_path (*req_p),
               httpd_request_peer (*req_p));
    restapi_dispatch (self->httpd, req_p, s_routes, sizeof s_routes / sizeof s_routes[0], self);
}
