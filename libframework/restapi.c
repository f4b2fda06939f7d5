/*  restapi.c - routing and JSON answers for the frameworks' REST APIs.

    Patterns are matched segment by segment: a literal segment must be
    equal, a {name} segment matches any one non-empty segment and is
    passed to the handler. The path is already percent-decoded by httpd,
    so a parameter never contains '/'. Routing is a linear scan: the
    tables have a dozen entries.                                         */
#include "config.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "log.h"
#include "restapi.h"

#define MAX_PATH_LEN 2048

/*  Splits path "/a/b/c" into up to max segments (in buf); -1 if it has
    more, an empty segment ("//", trailing "/" other than the root) or is
    too long.                                                            */
static int
s_split (const char *path, char *buf, size_t bufsize, char **segs, int max)
{
    if (path[0] != '/' || strlen (path) >= bufsize)
        return -1;
    strcpy (buf, path + 1);
    int n = 0;
    if (!*buf)
        return 0;
    for (char *p = buf;;) {
        char *slash = strchr (p, '/');
        if (slash)
            *slash = '\0';
        if (!*p || n == max)
            return -1;
        segs[n++] = p;
        if (!slash)
            break;
        p = slash + 1;
    }
    return n;
}

/*  True if the pattern matches; the {params} go to call.                 */
static bool
s_match (const char *pattern, char **segs, int nsegs, restapi_call_t *call)
{
    char pbuf[256];
    char *psegs[16];
    int np = s_split (pattern, pbuf, sizeof pbuf, psegs, 16);
    assert (np >= 0);
    if (np != nsegs)
        return false;
    int nparams = 0;
    for (int i = 0; i < np; i++) {
        if (psegs[i][0] == '{') {
            assert (nparams < RESTAPI_MAX_PARAMS);
            call->params[nparams++] = segs[i];
        }
        else if (strcmp (psegs[i], segs[i]) != 0)
            return false;
    }
    call->nparams = nparams;
    return true;
}

void
restapi_dispatch (httpd_t *httpd, httpd_request_t **req_p, const restapi_route_t *routes,
                  size_t nroutes, void *arg)
{
    assert (httpd && req_p && *req_p);
    restapi_call_t call = { .httpd = httpd, .req = *req_p, .arg = arg };
    *req_p = NULL;
    call.method = httpd_request_method (call.req);
    call.path = httpd_request_path (call.req);

    char buf[MAX_PATH_LEN];
    char *segs[16];
    int nsegs = s_split (call.path, buf, sizeof buf, segs, 16);
    const restapi_route_t *route = NULL;
    char allowed[128] = "";
    size_t alen = 0;
    if (nsegs >= 0)
        for (size_t i = 0; i < nroutes && !route; i++) {
            if (!s_match (routes[i].pattern, segs, nsegs, &call))
                continue;
            if (strcmp (routes[i].method, call.method) == 0)
                route = &routes[i];
            else if (alen < sizeof allowed && !strstr (allowed, routes[i].method))
                alen += (size_t) snprintf (allowed + alen, sizeof allowed - alen, "%s%s",
                                           alen ? ", " : "", routes[i].method);
        }
    if (route) {
        route->handler (&call);
        if (call.req) {
            log_error ("api: %s %s: the handler gave no answer", call.method, call.path);
            restapi_error (&call, 500, NULL, "internal error: no answer for %s %s", call.method,
                           call.path);
        }
    }
    else if (alen > 0)
        restapi_error (&call, 405, NULL, "%s is not allowed on %s (allowed: %s)", call.method,
                       call.path, allowed);
    else
        restapi_error (&call, 404, NULL, "no such resource: %s", call.path);
}

json_t *
restapi_body (restapi_call_t *call, const jcheck_field_t *fields)
{
    assert (call && call->req);
    size_t size = 0;
    const char *body = httpd_request_body (call->req, &size);
    jcheck_error_t err = { 0 };
    if (!body || size == 0) {
        restapi_error (call, 400, NULL, "the request needs a JSON object as its body");
        return NULL;
    }
    json_t *json = jcheck_load (body, size, &err);
    if (json && !json_is_object (json)) {
        jcheck_fail (&err, NULL, "the body must be a JSON object");
        json_decref (json);
        json = NULL;
    }
    else if (json && fields && jcheck_object (json, fields, NULL, &err) < 0) {
        json_decref (json);
        json = NULL;
    }
    if (!json)
        restapi_check_error (call, &err);
    return json;
}

const char *
restapi_query (restapi_call_t *call, const char *name)
{
    assert (call && call->req);
    return httpd_request_query (call->req, name);
}

void
restapi_reply (restapi_call_t *call, int status, json_t *json)
{
    assert (call && call->req);
    httpd_respond_json (call->httpd, &call->req, status, json);
}

static void
s_error (restapi_call_t *call, int status, const char *field, const char *message)
{
    json_t *json = json_object ();
    json_object_set_new (json, "error", json_string (message));
    if (field && *field)
        json_object_set_new (json, "field", json_string (field));
    restapi_reply (call, status, json);
}

void
restapi_error (restapi_call_t *call, int status, const char *field, const char *fmt, ...)
{
    va_list ap;
    char *message = NULL;
    va_start (ap, fmt);
    if (vasprintf (&message, fmt, ap) < 0)
        oom_abort ();
    va_end (ap);
    s_error (call, status, field, message);
    free (message);
}

void
restapi_check_error (restapi_call_t *call, jcheck_error_t *err)
{
    s_error (call, 400, err->field, err->message ? err->message : "invalid request");
    jcheck_error_clear (err);
}

httpd_request_t *
restapi_call_take (restapi_call_t *call)
{
    assert (call && call->req);
    httpd_request_t *req = call->req;
    call->req = NULL;
    return req;
}
