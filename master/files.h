/*  files.h - tasks' sandbox files read through the master.

    GET /tasks/files/browse and GET /tasks/files/read name a task the
    master knows (live, or completed and still remembered); the master
    forwards the request to that task's agent (/files/browse or
    /files/read) and relays the answer, so a browser or a client that can
    reach only the master can read tasks' output. The request to the agent
    runs in a thread of its own, never on the master's loop; its answer
    comes back to the loop through a pipe, where the client is answered.
    At most FILES_MAX_IN_FLIGHT such requests run at once.               */
#ifndef CAIRN_MASTER_FILES_H_INCLUDED
#define CAIRN_MASTER_FILES_H_INCLUDED

#include <czmq.h>

#include "httpd.h"
#include "master.h"
#include "restapi.h"

#define FILES_MAX_IN_FLIGHT 32          /* requests to agents at once; 503 beyond */
#define FILES_TIMEOUT_MS    10000       /* connect and whole transfer; 504 beyond */

typedef struct _files_t files_t;

/*  Starts the forwarder on loop, answering through httpd. ca_file (PEM,
    may be NULL) verifies agents that serve HTTPS instead of the system's
    CAs. Returns NULL with errno and a sentence (cairn_strerror_last), e.g.
    an unreadable CA file.                                                */
files_t *files_new (zloop_t *loop, httpd_t *httpd, const char *ca_file);

/*  Stops the forwarder: transfers still running are cancelled and waited
    for (about a second at most), their clients left to httpd (503 when it
    is destroyed). Call it before httpd_destroy and zloop_destroy.
    NULL-safe.                                                            */
void files_destroy (files_t **self_p);

/*  Handles GET /tasks/files/browse or /tasks/files/read (by call->path):
    answers at once a bad parameter (400, naming it), an unknown task
    (404), an ambiguous one (409), too many requests in flight (503), or
    takes the request and answers it when the agent has.                  */
void files_serve (files_t *self, master_t *master, restapi_call_t *call, int64_t now_ms);

#endif
