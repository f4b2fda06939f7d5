/*  fetch.h - reading tasks' files (stdout, stderr) from their agents'
    sandbox endpoint (/files/read), in a thread of its own so the event
    loop never waits for HTTP.

    The owner queues requests (the tail of a file, or a whole file copied
    to a local path) and gets one result per request from fetch_recv when
    fetch_sock is readable. Agents are found through the master's /state
    (each agent's http_address), asked again when an agent is not known.
    At most FETCH_WINDOW requests are with the thread at a time; the rest
    wait in the owner's queue, so the owner never blocks on the pipe.    */
#ifndef CAIRN_BATCH_FETCH_H_INCLUDED
#define CAIRN_BATCH_FETCH_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#include <czmq.h>

#define FETCH_WINDOW 64

typedef struct _fetch_t fetch_t;

typedef struct {
    char *key;                  /* the request's key */
    bool ok;
    char *text;                 /* TAIL: the lines; COPY: bytes copied; else the error */
} fetch_result_t;

fetch_t *fetch_new (void);
/*  Stops the thread (a request in progress finishes first). NULL-safe.  */
void fetch_destroy (fetch_t **self_p);

/*  Readable when results wait: register it with the loop.                 */
zsock_t *fetch_sock (fetch_t *self);

/*  The master's HTTP address "HOST:PORT", to find agents.                 */
void fetch_set_master (fetch_t *self, const char *master_http);

/*  The last `lines` lines (at most 64 KiB) of FILE in the task's sandbox. */
void fetch_tail (fetch_t *self, const char *key, const char *agent_id,
                 const char *framework_id, const char *task_id, const char *file, int lines);
/*  The whole of FILE, written to dest (its directory is created).        */
void fetch_copy (fetch_t *self, const char *key, const char *agent_id,
                 const char *framework_id, const char *task_id, const char *file,
                 const char *dest);

/*  Takes one result: 1 with *result filled (free with
    fetch_result_clear), 0 if none waits.                                 */
int fetch_recv (fetch_t *self, fetch_result_t *result);
void fetch_result_clear (fetch_result_t *result);

/*  Requests not answered yet.                                             */
size_t fetch_pending (fetch_t *self);

#endif
