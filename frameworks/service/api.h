/*  api.h - cairn-service's REST API: routes, request bodies, and answers
    held until the loop has committed the changes they report.

    Every answer waits in the API's queue until api_flush: the loop calls
    it after the store's group commit, so a client that is told 201 or
    200 can rely on the change surviving a crash. A failed commit answers
    500 instead.                                                          */
#ifndef CAIRN_SERVICE_API_H_INCLUDED
#define CAIRN_SERVICE_API_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#include "httpd.h"
#include "service.h"

typedef struct _api_t api_t;

/*  An API over the service's operations (both borrowed).                 */
api_t *api_new (httpd_t *httpd, service_t *service);
/*  Answers what is still queued with 503 and frees the API. NULL-safe.   */
void api_destroy (api_t **self_p);

/*  Routes one request (taken: *req_p is set to NULL) and queues its
    answer.                                                                */
void api_handle (api_t *self, httpd_request_t **req_p, int64_t now);

/*  Sends the queued answers: as they are when committed, else 500.      */
void api_flush (api_t *self, bool committed);

#endif
