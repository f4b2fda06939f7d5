/*  app.h - cairn-service's app definitions: the JSON a user submits,
    checked field by field (unknown fields rejected, errors naming the
    field), normalized with every default made explicit, and turned into
    the tasks that run it.

    A definition is kept as its normalized JSON (what the API shows and
    the store keeps) plus the parsed values the scheduler uses. Two
    definitions that differ only in `instances` are the same version.    */
#ifndef CAIRN_SERVICE_APP_H_INCLUDED
#define CAIRN_SERVICE_APP_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cairn.h"
#include "jcheck.h"

#define APP_MAX_ID          64          /* characters in an app id */
#define APP_MAX_INSTANCES   100000
#define APP_MAX_PORTS       64

typedef enum {
    CONSTRAINT_UNIQUE,          /* [field, "unique"]: one instance per value */
    CONSTRAINT_EQUALS,          /* [field, "equals", value] */
    CONSTRAINT_GROUP_BY,        /* [field, "group_by"(, groups)]: spread evenly */
    CONSTRAINT_MAX_PER,         /* [field, "max_per", n]: at most n per value */
} constraint_op_t;

typedef struct {
    char *field;                /* "hostname" or an agent attribute */
    constraint_op_t op;
    char *value;                /* EQUALS */
    int64_t n;                  /* MAX_PER: the limit; GROUP_BY: groups (0: those seen) */
} constraint_t;

typedef struct {
    char *uri;
    bool extract, executable;
} app_uri_t;

typedef struct {
    json_t *doc;                /* the normalized definition (owned) */
    const char *id;             /* borrowed from doc, as are the strings below */
    const char *cmd;            /* NULL when args */
    const char **args;          /* NULL-terminated; NULL when cmd */
    int64_t instances;
    int64_t millicpus, mem, disk, ports;
    const char *user;           /* NULL: the agent's */
    cairn_health_type_t health_type;    /* CAIRN_HEALTH_NONE: no check */
    const char *health_target;  /* command or path */
    int64_t health_port_index, health_delay_ms, health_interval_ms, health_timeout_ms,
            health_grace_ms, health_max_failures;
    app_uri_t *uris;
    size_t nuris;
    constraint_t *constraints;
    size_t nconstraints;
    int64_t backoff_initial_ms, backoff_max_ms;
    double backoff_factor;
    double min_healthy, max_surge;
    int64_t kill_grace_ms;      /* -1: the agent's default */
} app_spec_t;

/*  Checks a definition (the JSON as submitted) and returns it parsed and
    normalized (doc is not kept; the spec has its own copy), or NULL with
    *err naming the field at fault. A missing `instances` is
    default_instances.                                                    */
app_spec_t *app_spec_parse (json_t *doc, int64_t default_instances, jcheck_error_t *err);

/*  Parses a stored normalized definition (text). NULL with *err.          */
app_spec_t *app_spec_load (const char *text, jcheck_error_t *err);

void app_spec_destroy (app_spec_t **self_p);

/*  True if a and b differ at most in `instances`.                          */
bool app_spec_same (const app_spec_t *a, const app_spec_t *b);

/*  A copy of the normalized definition with `instances` set to n: what
    the API shows for the app (caller decrefs).                            */
json_t *app_spec_doc (const app_spec_t *self, int64_t instances);

/*  The task that runs one instance: id, command, environment, resources
    (with exactly these ports, passed as PORT0...), URIs, user, labels
    (the user's plus cairn-service.app and cairn-service.version), kill
    grace and health check. NULL with cairn_strerror_last if the library
    refuses a value.                                                      */
cairn_task_t *app_spec_task (const app_spec_t *self, const char *task_id, int64_t version,
                             const uint16_t *ports, size_t nports);

/*  The text of an operator: "unique", "equals", ...                       */
const char *app_constraint_op_name (constraint_op_t op);

#endif
