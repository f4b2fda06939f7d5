/*  service.h - cairn-service's scheduler: apps, their versions and
    deployments, their tasks, and every decision about them.

    The scheduler is plain functions from (state, event, time) to state
    changes plus actions, with no socket and no driver: the program's
    loop (main.c) feeds it the driver's callbacks, the REST API's calls
    (api.c) and a periodic step, then commits the store (svcdb) and only
    after that carries the actions out (service_outbox_take) and answers
    the API. So nothing is launched, killed, acknowledged or promised to
    a user before the decision is durable, and unit tests drive it with
    made-up offers and updates.

    Times: `now` is the monotonic clock in ms (clock_mono_ms) for
    deadlines; wall-clock times shown to users come from clock_wall.    */
#ifndef CAIRN_SERVICE_SERVICE_H_INCLUDED
#define CAIRN_SERVICE_SERVICE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cairn.h"
#include "svcdb.h"

typedef struct _service_t service_t;

typedef struct {
    int64_t unreachable_delay_ms;       /* replace an unreachable instance after this */
    int64_t rollback_after;             /* failures in a row of a new version */
    int64_t launch_timeout_ms;          /* an instance not running after this is replaced */
    int64_t reconcile_interval_ms;      /* periodic reconciliation of every task */
    int64_t kill_retry_ms;              /* resend a kill not answered within this */
    int64_t max_deployments;            /* finished deployments kept */
    int64_t max_versions;               /* versions kept per app */
    double refuse_s;                    /* decline when there is nothing to launch */
    double refuse_busy_s;               /* decline what cannot be used while waiting */
} service_config_t;

/*  The defaults the flags show.                                           */
void service_config_defaults (service_config_t *cfg);

/*  What the loop must do once the pass's changes are committed.          */
typedef enum {
    ACTION_ACCEPT,              /* launch tasks on an offer */
    ACTION_DECLINE,
    ACTION_KILL,
    ACTION_ACK,                 /* acknowledge a status update */
    ACTION_RECONCILE,           /* task_ids (count 0: every task) */
    ACTION_REVIVE,
    ACTION_SUPPRESS,
} action_kind_t;

typedef struct action {
    action_kind_t kind;
    char *id;                   /* ACCEPT, DECLINE: offer id; KILL: task id */
    cairn_task_t **tasks;       /* ACCEPT */
    size_t ntasks;
    double refuse_s;            /* ACCEPT, DECLINE */
    cairn_status_t *status;     /* ACK */
    char **task_ids;            /* RECONCILE */
    size_t nids;
    struct action *next;
} action_t;

/*  Loads the state from db (borrowed; it must outlive the service).
    NULL with an error_set sentence if the stored state cannot be read.  */
service_t *service_new (const service_config_t *cfg, svcdb_t *db, int64_t now);
void service_destroy (service_t **self_p);

/*  The stored framework id, or NULL (borrowed).                           */
const char *service_framework_id (service_t *self);

/*  The driver's callbacks.                                                */
void service_registered (service_t *self, const char *framework_id, int64_t now);
void service_reregistered (service_t *self, int64_t now);
void service_disconnected (service_t *self, int64_t now);
void service_offers (service_t *self, cairn_offer_t *const *offers, size_t count, int64_t now);
void service_status (service_t *self, const cairn_status_t *status, int64_t now);
/*  The master refused the stored framework id (it was torn down, so its
    instances are gone): forget the id and the tasks; the caller then
    registers anew.                                                        */
void service_forget_framework (service_t *self, const char *why, int64_t now);

/*  Housekeeping and every decision that does not wait for an event:
    rollouts, replacements, kills, backoff, reconciliation,
    suppress/revive. The loop calls it once per pass, before committing. */
void service_step (service_t *self, int64_t now);

/*  The actions decided so far, oldest first (the caller owns the list and
    frees it with service_actions_destroy).                                   */
action_t *service_outbox_take (service_t *self);
void service_actions_destroy (action_t **list_p);

/*  The REST API's operations. Each returns an HTTP status and sets
    *reply to its JSON body (an {"error", "field"} object on failure);
    the caller answers after the store is committed.                      */
int service_api_create (service_t *self, json_t *body, int64_t now, json_t **reply);
/*  PUT (merge false: the body is the whole definition; an app that does
    not exist is created) and PATCH (merge true: the body's fields replace
    the current ones, null removes one).                                  */
int service_api_update (service_t *self, const char *id, json_t *body, bool merge, int64_t now,
                        json_t **reply);
int service_api_restart (service_t *self, const char *id, int64_t now, json_t **reply);
/*  body may be NULL: back to the last good version.                      */
int service_api_rollback (service_t *self, const char *id, json_t *body, int64_t now,
                          json_t **reply);
int service_api_delete (service_t *self, const char *id, int64_t now, json_t **reply);
int service_api_cancel (service_t *self, const char *deployment_id, bool rollback, int64_t now,
                        json_t **reply);
int service_api_apps (service_t *self, int64_t now, json_t **reply);
int service_api_app (service_t *self, const char *id, int64_t now, json_t **reply);
int service_api_versions (service_t *self, const char *id, json_t **reply);
/*  app may be NULL (all); active: only running deployments.              */
int service_api_deployments (service_t *self, const char *app, bool active, json_t **reply);
int service_api_deployment (service_t *self, const char *id, json_t **reply);
int service_api_health (service_t *self, int64_t now, json_t **reply);

#endif
