/*  restapi.h - JSON REST APIs on httpd: a route table with {param} path
    segments, JSON bodies validated by jcheck, and JSON errors that name
    the field at fault. Internal; the bundled frameworks' APIs use it.

        static const restapi_route_t s_routes[] = {
            { "GET",    "/v1/apps",             s_list_apps },
            { "POST",   "/v1/apps",             s_create_app },
            { "GET",    "/v1/apps/{id}",        s_show_app },
            { "DELETE", "/v1/apps/{id}",        s_delete_app },
        };
        ... on httpd_sock readable, for each httpd_recv ():
        restapi_dispatch (httpd, &req, s_routes, 4, self);

    A handler answers its call with restapi_reply or restapi_error before
    it returns, or keeps the request to answer later with
    restapi_call_take. Errors are {"error": "...", "field": "..."} (field
    only where one is at fault).                                           */
#ifndef CAIRN_RESTAPI_H_INCLUDED
#define CAIRN_RESTAPI_H_INCLUDED

#include <jansson.h>

#include "httpd.h"
#include "jcheck.h"

#define RESTAPI_MAX_PARAMS 4

typedef struct {
    httpd_t *httpd;
    httpd_request_t *req;               /* NULL once answered or taken */
    const char *method;                 /* borrowed from the request */
    const char *path;
    const char *params[RESTAPI_MAX_PARAMS];     /* the {name} segments, in order */
    int nparams;
    void *arg;                          /* restapi_dispatch's arg */
} restapi_call_t;

typedef void (restapi_handler_fn) (restapi_call_t *call);

typedef struct {
    const char *method;                 /* "GET", "POST", "PUT", "DELETE" */
    const char *pattern;                /* "/v1/apps/{id}/restart" */
    restapi_handler_fn *handler;
} restapi_route_t;

/*  Routes and answers one request (*req_p is taken and set to NULL):
    the first route whose pattern and method match runs; a path that no
    pattern matches gets 404, a method no route allows on that path 405
    naming the allowed methods. A handler that neither answers nor takes
    the request makes a 500 (a bug, logged).                             */
void restapi_dispatch (httpd_t *httpd, httpd_request_t **req_p, const restapi_route_t *routes,
                       size_t nroutes, void *arg);

/*  The request's body as a JSON object checked against fields (NULL: any
    object), or NULL after answering 400 (not JSON, duplicate keys, not an
    object, or the check's error with its field). Caller decrefs.         */
json_t *restapi_body (restapi_call_t *call, const jcheck_field_t *fields);

/*  A query parameter, or NULL.                                            */
const char *restapi_query (restapi_call_t *call, const char *name);

/*  Answers with status and json (the reference is taken).                 */
void restapi_reply (restapi_call_t *call, int status, json_t *json);
/*  Answers {"error": message[, "field": field]}; field may be NULL.       */
void restapi_error (restapi_call_t *call, int status, const char *field, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));
/*  Answers 400 with a jcheck error and clears it.                         */
void restapi_check_error (restapi_call_t *call, jcheck_error_t *err);

/*  Takes the request out of the call to answer later with httpd_respond*
    (the caller then owns it; the call's params die with the call).       */
httpd_request_t *restapi_call_take (restapi_call_t *call);

#endif
