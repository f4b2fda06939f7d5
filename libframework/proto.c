/*  proto.c - the wire codec.

    Every message type is described once, by a schema: a table of fields
    (name, kind, offset in the C struct, required or not, limits). One
    generic encoder, decoder, copier and destructor walk the schemas, so
    a new field is one line and cannot be validated differently in two
    places.

    Decoding an untrusted body happens in three steps:
    1. a bounded pre-scan walks the raw msgpack bytes and refuses anything
       msgpack-c could turn into a large allocation: an array or map that
       declares more elements than bytes remain, nesting deeper than
       PROTO_MAX_DEPTH, more than PROTO_MAX_OBJECTS objects, truncation
       and trailing bytes;
    2. msgpack_unpack builds the object tree in a per-thread zone (at most a small
       multiple of the body size);
    3. the schema walk checks every field's type, range, length and
       character set and copies it into the C struct.
    Failures name the message type and the field path, e.g.
    "RUN_TASKS: tasks[2].resources.mem: expected an unsigned integer".    */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "error.h"
#include "proto.h"
#include "resources.h"

/*  Schemas  */

typedef enum {
    K_STR,          /* char *: UTF-8 text, no NUL */
    K_ID,           /* char *: [A-Za-z0-9._:-] */
    K_INT,          /* int64_t in [min, max] */
    K_BOOL,         /* bool */
    K_DOUBLE,       /* double in [min, max] */
    K_STATE,        /* cairn_task_state_t, as its name */
    K_REASON,       /* cairn_reason_t, as its name */
    K_RES,          /* cairn_resources_t * */
    K_KV,           /* proto_kv_t; count <= max, values <= len */
    K_STRS,         /* proto_strs_t of K_STR (or K_ID with F_IDS) */
    K_OBJ,          /* pointer to a struct of schema sub; NULL = absent */
    K_INLINE,       /* an embedded struct of schema sub */
    K_LIST,         /* proto_list_t of structs of schema sub */
} kind_t;

#define F_REQ       0x01    /* must be present */
#define F_NONEMPTY  0x02    /* string/list must not be empty */
#define F_IDS       0x04    /* K_STRS: elements are ids */
#define F_ENVKEYS   0x08    /* K_KV: keys are environment variable names */

typedef struct schema schema_t;

typedef struct {
    const char *name;
    kind_t kind;
    size_t offset;
    unsigned flags;
    int64_t min, max;       /* INT/DOUBLE range; KV/STRS/LIST max count */
    int64_t len;            /* max string length (STR, KV values, STRS items) */
    int64_t def;            /* INT default when absent */
    const schema_t *sub;
} field_t;

struct schema {
    const char *name;
    size_t size;
    const field_t *fields;
    size_t nfields;
};

#define FIELDS(t, ...)  static const field_t t##_fields[] = { __VA_ARGS__ }
#define SCHEMA(t, s, wire) \
    static const schema_t t##_schema = { wire, sizeof (s), t##_fields, \
                                         sizeof t##_fields / sizeof t##_fields[0] }

#define STR(s, f, fl, n)    { #f, K_STR, offsetof (s, f), fl, 0, 0, n, 0, NULL }
#define ID(s, f, fl)        { #f, K_ID, offsetof (s, f), fl, 0, 0, PROTO_MAX_ID, 0, NULL }
#define INT(s, f, fl, lo, hi, d) { #f, K_INT, offsetof (s, f), fl, lo, hi, 0, d, NULL }
#define BOOL(s, f, fl)      { #f, K_BOOL, offsetof (s, f), fl, 0, 0, 0, 0, NULL }
#define DBL(s, f, fl, lo, hi) { #f, K_DOUBLE, offsetof (s, f), fl, lo, hi, 0, 0, NULL }
#define STATE(s, f, fl)     { #f, K_STATE, offsetof (s, f), fl, 0, 0, 0, 0, NULL }
#define REASON(s, f, fl)    { #f, K_REASON, offsetof (s, f), fl, 0, 0, 0, 0, NULL }
#define RES(s, f, fl)       { #f, K_RES, offsetof (s, f), fl, 0, 0, 0, 0, NULL }
#define KV(s, f, fl, n, l)  { #f, K_KV, offsetof (s, f), fl, 0, n, l, 0, NULL }
#define STRS(s, f, fl, n, l) { #f, K_STRS, offsetof (s, f), fl, 0, n, l, 0, NULL }
#define OBJ(s, f, fl, sub)  { #f, K_OBJ, offsetof (s, f), fl, 0, 0, 0, 0, &sub##_schema }
#define INLINE(s, f, fl, sub) { #f, K_INLINE, offsetof (s, f), fl, 0, 0, 0, 0, &sub##_schema }
#define LIST(s, f, fl, n, sub) { #f, K_LIST, offsetof (s, f), fl, 0, n, 0, 0, &sub##_schema }

#define DAY_MS      (86400LL * 1000)
#define YEAR_MS     (365LL * DAY_MS)

FIELDS (framework_info,
    ID (proto_framework_info_t, id, F_REQ),
    STR (proto_framework_info_t, name, F_REQ | F_NONEMPTY, PROTO_MAX_NAME),
    STR (proto_framework_info_t, role, F_REQ | F_NONEMPTY, PROTO_MAX_NAME),
    STR (proto_framework_info_t, principal, 0, PROTO_MAX_NAME),
    STR (proto_framework_info_t, user, 0, PROTO_MAX_NAME),
    STR (proto_framework_info_t, hostname, 0, PROTO_MAX_NAME),
    INT (proto_framework_info_t, failover_timeout_ms, 0, 0, 10 * YEAR_MS, 0),
    BOOL (proto_framework_info_t, partition_aware, 0),
    BOOL (proto_framework_info_t, suppressed, 0),
    KV (proto_framework_info_t, labels, 0, PROTO_MAX_KV, PROTO_MAX_NAME));
SCHEMA (framework_info, proto_framework_info_t, "framework");

FIELDS (uri,
    STR (proto_uri_t, uri, F_REQ | F_NONEMPTY, PROTO_MAX_TEXT),
    BOOL (proto_uri_t, extract, 0),
    BOOL (proto_uri_t, executable, 0));
SCHEMA (uri, proto_uri_t, "uri");

FIELDS (health,
    STR (proto_health_t, type, F_REQ | F_NONEMPTY, 16),
    STR (proto_health_t, command, 0, PROTO_MAX_COMMAND),
    STR (proto_health_t, path, 0, PROTO_MAX_TEXT),
    INT (proto_health_t, port_index, 0, 0, 1023, 0),
    INT (proto_health_t, delay_ms, 0, 0, DAY_MS, 15000),
    INT (proto_health_t, interval_ms, 0, 100, DAY_MS, 10000),
    INT (proto_health_t, timeout_ms, 0, 100, DAY_MS, 20000),
    INT (proto_health_t, grace_ms, 0, 0, DAY_MS, 300000),
    INT (proto_health_t, max_failures, 0, 1, 1000000, 3));
SCHEMA (health, proto_health_t, "health");

FIELDS (task,
    ID (proto_task_t, task_id, F_REQ | F_NONEMPTY),
    STR (proto_task_t, name, 0, PROTO_MAX_NAME),
    STR (proto_task_t, command, 0, PROTO_MAX_COMMAND),
    STRS (proto_task_t, argv, 0, 4096, PROTO_MAX_COMMAND),
    KV (proto_task_t, env, F_ENVKEYS, PROTO_MAX_KV, PROTO_MAX_COMMAND),
    RES (proto_task_t, resources, F_REQ),
    LIST (proto_task_t, uris, 0, 64, uri),
    STR (proto_task_t, user, 0, PROTO_MAX_NAME),
    INT (proto_task_t, kill_grace_ms, 0, -1, DAY_MS, -1),
    KV (proto_task_t, labels, 0, PROTO_MAX_KV, PROTO_MAX_NAME),
    OBJ (proto_task_t, health, 0, health));
SCHEMA (task, proto_task_t, "task");

FIELDS (offer,
    ID (proto_offer_t, offer_id, F_REQ | F_NONEMPTY),
    ID (proto_offer_t, agent_id, F_REQ | F_NONEMPTY),
    STR (proto_offer_t, hostname, F_REQ, PROTO_MAX_NAME),
    RES (proto_offer_t, resources, F_REQ),
    KV (proto_offer_t, attributes, 0, PROTO_MAX_KV, PROTO_MAX_NAME));
SCHEMA (offer, proto_offer_t, "offer");

FIELDS (status,
    ID (proto_status_t, uuid, F_REQ),
    ID (proto_status_t, task_id, F_REQ | F_NONEMPTY),
    ID (proto_status_t, framework_id, F_REQ | F_NONEMPTY),
    ID (proto_status_t, agent_id, F_REQ),
    STATE (proto_status_t, state, F_REQ),
    REASON (proto_status_t, reason, 0),
    STR (proto_status_t, message, 0, PROTO_MAX_TEXT),
    INT (proto_status_t, exit_code, 0, -1, 255, -1),
    INT (proto_status_t, signal, 0, 0, 128, 0),
    INT (proto_status_t, healthy, 0, -1, 1, -1),
    DBL (proto_status_t, timestamp, F_REQ, 0, 1e11));
SCHEMA (status, proto_status_t, "status");

FIELDS (task_usage,
    ID (proto_task_usage_t, framework_id, F_REQ | F_NONEMPTY),
    ID (proto_task_usage_t, task_id, F_REQ | F_NONEMPTY),
    DBL (proto_task_usage_t, cpu_seconds, F_REQ, 0, 1e12),
    INT (proto_task_usage_t, mem_bytes, F_REQ, 0, INT64_MAX, 0),
    INT (proto_task_usage_t, mem_peak_bytes, 0, 0, INT64_MAX, 0),
    INT (proto_task_usage_t, mem_limit_bytes, 0, 0, INT64_MAX, 0),
    DBL (proto_task_usage_t, timestamp, F_REQ, 0, 1e11));
SCHEMA (task_usage, proto_task_usage_t, "task usage");

FIELDS (agent_task,
    ID (proto_agent_task_t, framework_id, F_REQ | F_NONEMPTY),
    INLINE (proto_agent_task_t, task, F_REQ, task),
    STATE (proto_agent_task_t, state, F_REQ));
SCHEMA (agent_task, proto_agent_task_t, "agent task");

FIELDS (error,
    STR (proto_error_t, code, F_REQ | F_NONEMPTY, 31),
    STR (proto_error_t, message, F_REQ, PROTO_MAX_TEXT),
    INT (proto_error_t, in_reply_to, 0, 0, 255, 0));
SCHEMA (error, proto_error_t, "ERROR");

FIELDS (ping,
    INT (proto_ping_t, seq, F_REQ, 0, INT64_MAX, 0));
SCHEMA (ping, proto_ping_t, "PING");
#define pong_fields ping_fields
SCHEMA (pong, proto_ping_t, "PONG");

FIELDS (agent_register,
    ID (proto_agent_register_t, agent_id, F_REQ),
    STR (proto_agent_register_t, hostname, F_REQ | F_NONEMPTY, PROTO_MAX_NAME),
    STR (proto_agent_register_t, http_address, F_REQ, PROTO_MAX_NAME),
    STR (proto_agent_register_t, version, 0, 64),
    RES (proto_agent_register_t, resources, F_REQ),
    KV (proto_agent_register_t, attributes, 0, PROTO_MAX_KV, PROTO_MAX_NAME),
    LIST (proto_agent_register_t, tasks, 0, PROTO_MAX_ITEMS, agent_task));
SCHEMA (agent_register, proto_agent_register_t, "AGENT_REGISTER");

FIELDS (agent_registered,
    ID (proto_agent_registered_t, agent_id, F_REQ | F_NONEMPTY),
    ID (proto_agent_registered_t, master_id, F_REQ | F_NONEMPTY),
    INT (proto_agent_registered_t, ping_interval_ms, F_REQ, 10, DAY_MS, 5000));
SCHEMA (agent_registered, proto_agent_registered_t, "AGENT_REGISTERED");

FIELDS (run_tasks,
    OBJ (proto_run_tasks_t, framework, F_REQ, framework_info),
    LIST (proto_run_tasks_t, tasks, F_REQ | F_NONEMPTY, PROTO_MAX_TASKS, task));
SCHEMA (run_tasks, proto_run_tasks_t, "RUN_TASKS");

FIELDS (kill_task,
    ID (proto_kill_task_t, framework_id, F_REQ | F_NONEMPTY),
    ID (proto_kill_task_t, task_id, F_REQ | F_NONEMPTY),
    INT (proto_kill_task_t, grace_ms, 0, -1, DAY_MS, -1));
SCHEMA (kill_task, proto_kill_task_t, "KILL_TASK");

#define status_update_fields status_fields
SCHEMA (status_update, proto_status_t, "STATUS_UPDATE");

FIELDS (status_ack,
    ID (proto_status_ack_t, framework_id, F_REQ | F_NONEMPTY),
    ID (proto_status_ack_t, agent_id, F_REQ | F_NONEMPTY),
    ID (proto_status_ack_t, task_id, F_REQ | F_NONEMPTY),
    ID (proto_status_ack_t, uuid, F_REQ | F_NONEMPTY));
SCHEMA (status_ack, proto_status_ack_t, "STATUS_ACK");

FIELDS (agent_shutdown,
    STR (proto_agent_shutdown_t, message, F_REQ, PROTO_MAX_TEXT));
SCHEMA (agent_shutdown, proto_agent_shutdown_t, "AGENT_SHUTDOWN");

#define framework_register_fields framework_info_fields
SCHEMA (framework_register, proto_framework_info_t, "FRAMEWORK_REGISTER");
#define update_framework_fields framework_info_fields
SCHEMA (update_framework, proto_framework_info_t, "UPDATE_FRAMEWORK");

FIELDS (usage,
    LIST (proto_usage_t, tasks, F_REQ, PROTO_MAX_ITEMS, task_usage));
SCHEMA (usage, proto_usage_t, "USAGE");

FIELDS (framework_registered,
    ID (proto_framework_registered_t, framework_id, F_REQ | F_NONEMPTY),
    ID (proto_framework_registered_t, master_id, F_REQ | F_NONEMPTY),
    STR (proto_framework_registered_t, master_http, F_REQ, PROTO_MAX_NAME),
    BOOL (proto_framework_registered_t, reregistered, 0),
    INT (proto_framework_registered_t, ping_interval_ms, F_REQ, 10, DAY_MS, 5000));
SCHEMA (framework_registered, proto_framework_registered_t, "FRAMEWORK_REGISTERED");

FIELDS (offers,
    LIST (proto_offers_t, offers, F_REQ | F_NONEMPTY, PROTO_MAX_ITEMS, offer));
SCHEMA (offers, proto_offers_t, "OFFERS");

FIELDS (rescind,
    ID (proto_rescind_t, offer_id, F_REQ | F_NONEMPTY));
SCHEMA (rescind, proto_rescind_t, "RESCIND");

FIELDS (accept,
    STRS (proto_accept_t, offer_ids, F_REQ | F_NONEMPTY | F_IDS, 1000, PROTO_MAX_ID),
    LIST (proto_accept_t, tasks, F_REQ, PROTO_MAX_TASKS, task),
    INT (proto_accept_t, refuse_ms, 0, -1, 10 * YEAR_MS, -1));
SCHEMA (accept, proto_accept_t, "ACCEPT");

FIELDS (decline,
    STRS (proto_decline_t, offer_ids, F_REQ | F_NONEMPTY | F_IDS, PROTO_MAX_ITEMS, PROTO_MAX_ID),
    INT (proto_decline_t, refuse_ms, 0, -1, 10 * YEAR_MS, -1));
SCHEMA (decline, proto_decline_t, "DECLINE");

FIELDS (kill,
    ID (proto_kill_t, task_id, F_REQ | F_NONEMPTY));
SCHEMA (kill, proto_kill_t, "KILL");

FIELDS (reconcile,
    STRS (proto_reconcile_t, task_ids, 0 | F_IDS, PROTO_MAX_ITEMS, PROTO_MAX_ID));
SCHEMA (reconcile, proto_reconcile_t, "RECONCILE");

FIELDS (unregister,
    BOOL (proto_unregister_t, failover, F_REQ));
SCHEMA (unregister, proto_unregister_t, "UNREGISTER");

FIELDS (agent_lost,
    ID (proto_agent_lost_t, agent_id, F_REQ | F_NONEMPTY));
SCHEMA (agent_lost, proto_agent_lost_t, "AGENT_LOST");

FIELDS (info,
    ID (proto_info_t, master_id, F_REQ | F_NONEMPTY),
    STR (proto_info_t, http_address, F_REQ, PROTO_MAX_NAME),
    STR (proto_info_t, version, F_REQ, 64));
SCHEMA (info, proto_info_t, "INFO");

static const schema_t revive_schema = { "REVIVE", sizeof (proto_empty_t), NULL, 0 };
static const schema_t suppress_schema = { "SUPPRESS", sizeof (proto_empty_t), NULL, 0 };
static const schema_t info_request_schema = { "INFO_REQUEST", sizeof (proto_empty_t), NULL, 0 };

static const struct {
    proto_type_t type;
    const schema_t *schema;
} s_types[] = {
    { PROTO_ERROR, &error_schema },
    { PROTO_PING, &ping_schema },
    { PROTO_PONG, &pong_schema },
    { PROTO_AGENT_REGISTER, &agent_register_schema },
    { PROTO_AGENT_REGISTERED, &agent_registered_schema },
    { PROTO_RUN_TASKS, &run_tasks_schema },
    { PROTO_KILL_TASK, &kill_task_schema },
    { PROTO_STATUS_UPDATE, &status_update_schema },
    { PROTO_STATUS_ACK, &status_ack_schema },
    { PROTO_AGENT_SHUTDOWN, &agent_shutdown_schema },
    { PROTO_USAGE, &usage_schema },
    { PROTO_FRAMEWORK_REGISTER, &framework_register_schema },
    { PROTO_FRAMEWORK_REGISTERED, &framework_registered_schema },
    { PROTO_OFFERS, &offers_schema },
    { PROTO_RESCIND, &rescind_schema },
    { PROTO_ACCEPT, &accept_schema },
    { PROTO_DECLINE, &decline_schema },
    { PROTO_KILL, &kill_schema },
    { PROTO_REVIVE, &revive_schema },
    { PROTO_SUPPRESS, &suppress_schema },
    { PROTO_RECONCILE, &reconcile_schema },
    { PROTO_UNREGISTER, &unregister_schema },
    { PROTO_AGENT_LOST, &agent_lost_schema },
    { PROTO_UPDATE_FRAMEWORK, &update_framework_schema },
    { PROTO_INFO_REQUEST, &info_request_schema },
    { PROTO_INFO, &info_schema },
};
#define NTYPES (sizeof s_types / sizeof s_types[0])

static const schema_t *
s_schema (int type)
{
    for (size_t i = 0; i < NTYPES; i++)
        if ((int) s_types[i].type == type)
            return s_types[i].schema;
    return NULL;
}

const char *
proto_type_name (int type)
{
    const schema_t *schema = s_schema (type);
    return schema ? schema->name : NULL;
}

bool
proto_type_valid (int type)
{
    return s_schema (type) != NULL;
}

size_t
proto_type_count (void)
{
    return NTYPES;
}

proto_type_t
proto_type_at (size_t index)
{
    assert (index < NTYPES);
    return s_types[index].type;
}

/*  Small helpers  */

#define AT(base, field) ((void *) ((char *) (base) + (field)->offset))
#define CAT(base, field) ((const void *) ((const char *) (base) + (field)->offset))

bool
proto_id_valid (const char *s)
{
    size_t n = 0;
    if (!s || !*s)
        return false;
    /*  Ids name directories (the agent's sandboxes): never "." or "..".   */
    if (strcmp (s, ".") == 0 || strcmp (s, "..") == 0)
        return false;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '.' || c == '_' || c == '-' || c == ':'))
            return false;
        if (n >= PROTO_MAX_ID)
            return false;
    }
    return true;
}

/*  Length of the valid UTF-8 sequence at p (of at most n bytes), or 0.   */
static size_t
s_utf8_char (const unsigned char *p, size_t n)
{
    size_t len;
    uint32_t cp;
    if (p[0] < 0x80)
        return 1;
    else if ((p[0] & 0xe0) == 0xc0)
        len = 2, cp = p[0] & 0x1f;
    else if ((p[0] & 0xf0) == 0xe0)
        len = 3, cp = p[0] & 0x0f;
    else if ((p[0] & 0xf8) == 0xf0)
        len = 4, cp = p[0] & 0x07;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t k = 1; k < len; k++) {
        if ((p[k] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[k] & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)
        || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/*  True if p[0..n) is well-formed UTF-8 without NUL bytes (jansson
    refuses anything else, and every string may end up in JSON).          */
static bool
s_utf8_valid (const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t len = p[i] ? s_utf8_char (p + i, n - i) : 0;
        if (len == 0)
            return false;
        i += len;
    }
    return true;
}

static bool
s_envkey_valid (const char *s)
{
    if (!s || !*s || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')
              || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

void
proto_kv_set (proto_kv_t *kv, const char *key, const char *value)
{
    for (size_t i = 0; i < kv->count; i++)
        if (strcmp (kv->keys[i], key) == 0) {
            free (kv->values[i]);
            kv->values[i] = xstrdup (value);
            return;
        }
    kv->keys = xrealloc (kv->keys, (kv->count + 1) * sizeof (char *));
    kv->values = xrealloc (kv->values, (kv->count + 1) * sizeof (char *));
    kv->keys[kv->count] = xstrdup (key);
    kv->values[kv->count] = xstrdup (value);
    kv->count++;
}

const char *
proto_kv_get (const proto_kv_t *kv, const char *key)
{
    for (size_t i = 0; i < kv->count; i++)
        if (strcmp (kv->keys[i], key) == 0)
            return kv->values[i];
    return NULL;
}

void
proto_kv_copy (proto_kv_t *dst, const proto_kv_t *src)
{
    for (size_t i = 0; i < src->count; i++)
        proto_kv_set (dst, src->keys[i], src->values[i]);
}

void
proto_kv_fini (proto_kv_t *kv)
{
    for (size_t i = 0; i < kv->count; i++) {
        free (kv->keys[i]);
        free (kv->values[i]);
    }
    free (kv->keys);
    free (kv->values);
    memset (kv, 0, sizeof *kv);
}

void
proto_strs_add (proto_strs_t *strs, const char *s)
{
    strs->items = xrealloc (strs->items, (strs->count + 1) * sizeof (char *));
    strs->items[strs->count++] = xstrdup (s);
}

void
proto_strs_fini (proto_strs_t *strs)
{
    for (size_t i = 0; i < strs->count; i++)
        free (strs->items[i]);
    free (strs->items);
    memset (strs, 0, sizeof *strs);
}

void *
proto_list_push (proto_list_t *list, size_t size)
{
    list->items = xrealloc (list->items, (list->count + 1) * size);
    void *item = (char *) list->items + list->count * size;
    memset (item, 0, size);
    list->count++;
    return item;
}

/*  Generic init / fini / copy  */

static void s_fini (const schema_t *schema, void *base);
static void s_init (const schema_t *schema, void *base);
static void s_copy (const schema_t *schema, void *dst, const void *src);

static void
s_init (const schema_t *schema, void *base)
{
    memset (base, 0, schema->size);
    for (size_t i = 0; i < schema->nfields; i++) {
        const field_t *f = &schema->fields[i];
        switch (f->kind) {
            case K_STR:
            case K_ID:
                *(char **) AT (base, f) = xstrdup ("");
                break;
            case K_INT:
                *(int64_t *) AT (base, f) = f->def;
                break;
            case K_RES:
                if (f->flags & F_REQ)
                    *(cairn_resources_t **) AT (base, f) = cairn_resources_new ();
                break;
            case K_INLINE:
                s_init (f->sub, AT (base, f));
                break;
            case K_OBJ:
                if (f->flags & F_REQ) {
                    void *sub = xmalloc (f->sub->size);
                    s_init (f->sub, sub);
                    *(void **) AT (base, f) = sub;
                }
                break;
            default:
                break;
        }
    }
    if (schema->fields == framework_info_fields) {
        proto_framework_info_t *info = base;
        free (info->role);
        info->role = xstrdup ("*");
    }
}

static void
s_fini (const schema_t *schema, void *base)
{
    for (size_t i = 0; i < schema->nfields; i++) {
        const field_t *f = &schema->fields[i];
        void *p = AT (base, f);
        switch (f->kind) {
            case K_STR:
            case K_ID:
                free (*(char **) p);
                *(char **) p = NULL;
                break;
            case K_RES:
                cairn_resources_destroy ((cairn_resources_t **) p);
                break;
            case K_KV:
                proto_kv_fini (p);
                break;
            case K_STRS:
                proto_strs_fini (p);
                break;
            case K_INLINE:
                s_fini (f->sub, p);
                break;
            case K_OBJ:
                if (*(void **) p) {
                    s_fini (f->sub, *(void **) p);
                    free (*(void **) p);
                    *(void **) p = NULL;
                }
                break;
            case K_LIST: {
                proto_list_t *list = p;
                for (size_t k = 0; k < list->count; k++)
                    s_fini (f->sub, (char *) list->items + k * f->sub->size);
                free (list->items);
                memset (list, 0, sizeof *list);
                break;
            }
            default:
                break;
        }
    }
}

static void
s_copy (const schema_t *schema, void *dst, const void *src)
{
    memcpy (dst, src, schema->size);
    for (size_t i = 0; i < schema->nfields; i++) {
        const field_t *f = &schema->fields[i];
        void *d = AT (dst, f);
        const void *s = CAT (src, f);
        switch (f->kind) {
            case K_STR:
            case K_ID: {
                const char *str = *(char *const *) s;
                *(char **) d = xstrdup (str ? str : "");
                break;
            }
            case K_RES:
                *(cairn_resources_t **) d = cairn_resources_dup (*(cairn_resources_t *const *) s);
                break;
            case K_KV:
                memset (d, 0, sizeof (proto_kv_t));
                proto_kv_copy (d, s);
                break;
            case K_STRS: {
                const proto_strs_t *ss = s;
                memset (d, 0, sizeof (proto_strs_t));
                for (size_t k = 0; k < ss->count; k++)
                    proto_strs_add (d, ss->items[k]);
                break;
            }
            case K_INLINE:
                s_copy (f->sub, d, s);
                break;
            case K_OBJ:
                if (*(void *const *) s) {
                    void *sub = xmalloc (f->sub->size);
                    s_copy (f->sub, sub, *(void *const *) s);
                    *(void **) d = sub;
                }
                break;
            case K_LIST: {
                const proto_list_t *sl = s;
                proto_list_t *dl = d;
                dl->count = sl->count;
                dl->items = sl->count ? xmalloc (sl->count * f->sub->size) : NULL;
                for (size_t k = 0; k < sl->count; k++)
                    s_copy (f->sub, (char *) dl->items + k * f->sub->size,
                            (const char *) sl->items + k * f->sub->size);
                break;
            }
            default:
                break;
        }
    }
}

proto_msg_t *
proto_msg_new (proto_type_t type)
{
    const schema_t *schema = s_schema (type);
    assert (schema);
    proto_msg_t *self = xzalloc (sizeof *self);
    self->type = type;
    s_init (schema, &self->u);
    return self;
}

void
proto_msg_destroy (proto_msg_t **self_p)
{
    if (self_p && *self_p) {
        s_fini (s_schema ((*self_p)->type), &(*self_p)->u);
        free (*self_p);
        *self_p = NULL;
    }
}

void
proto_task_copy (proto_task_t *dst, const proto_task_t *src)
{
    s_copy (&task_schema, dst, src);
}

void
proto_task_init (proto_task_t *task)
{
    s_init (&task_schema, task);
}

proto_health_t *
proto_health_new (void)
{
    proto_health_t *h = xmalloc (sizeof *h);
    s_init (&health_schema, h);
    return h;
}

void
proto_health_destroy (proto_health_t **h_p)
{
    if (h_p && *h_p) {
        s_fini (&health_schema, *h_p);
        free (*h_p);
        *h_p = NULL;
    }
}

void
proto_task_fini (proto_task_t *task)
{
    s_fini (&task_schema, task);
}

void
proto_offer_copy (proto_offer_t *dst, const proto_offer_t *src)
{
    s_copy (&offer_schema, dst, src);
}

void
proto_offer_fini (proto_offer_t *offer)
{
    s_fini (&offer_schema, offer);
}

void
proto_status_copy (proto_status_t *dst, const proto_status_t *src)
{
    s_copy (&status_schema, dst, src);
}

void
proto_status_fini (proto_status_t *status)
{
    s_fini (&status_schema, status);
}

void
proto_framework_info_copy (proto_framework_info_t *dst, const proto_framework_info_t *src)
{
    s_copy (&framework_info_schema, dst, src);
}

void
proto_framework_info_fini (proto_framework_info_t *info)
{
    s_fini (&framework_info_schema, info);
}

/*  Faults and field paths  */

/*  The path of the field being coded ("tasks[2].resources.cpus") is kept
    as a stack of names and indexes and written out only for a fault:
    formatting it at every field cost more than the coding itself.        */
#define PATH_DEPTH 16

typedef struct {
    proto_fault_t *fault;
    const char *type_name;
    struct {
        const char *name;               /* NULL: an index */
        long index;
    } path[PATH_DEPTH];
    size_t depth;                       /* may exceed PATH_DEPTH */
} ctx_t;

static size_t
s_path_push (ctx_t *ctx, const char *name, long index)
{
    size_t saved = ctx->depth;
    if (ctx->depth < PATH_DEPTH) {
        ctx->path[ctx->depth].name = index >= 0 ? NULL : name;
        ctx->path[ctx->depth].index = index;
    }
    ctx->depth++;
    return saved;
}

static void
s_path_pop (ctx_t *ctx, size_t saved)
{
    ctx->depth = saved;
}

/*  Writes the path ("tasks[2].resources") into buf.                      */
static void
s_path_format (const ctx_t *ctx, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < ctx->depth && i < PATH_DEPTH && len < size; i++) {
        int n = ctx->path[i].name
            ? snprintf (buf + len, size - len, "%s%s", len ? "." : "", ctx->path[i].name)
            : snprintf (buf + len, size - len, "[%ld]", ctx->path[i].index);
        if (n < 0)
            break;
        len += (size_t) n;
    }
    if (ctx->depth > PATH_DEPTH && len < size)
        snprintf (buf + len, size - len, "...");
}

void
proto_text_clean (char *text)
{
    unsigned char *p = (unsigned char *) text;
    size_t n = strlen (text);
    size_t i = 0;
    while (i < n) {
        if (p[i] < 0x20 || p[i] == 0x7f) {
            p[i++] = '?';
            continue;
        }
        size_t len = s_utf8_char (p + i, n - i);
        if (len == 0)
            p[i++] = '?';
        else
            i += len;
    }
}

proto_msg_t *
proto_error_newv (const char *code, int in_reply_to, const char *fmt, va_list ap)
{
    proto_msg_t *msg = proto_msg_new (PROTO_ERROR);
    char text[PROTO_MAX_TEXT];
    vsnprintf (text, sizeof text, fmt, ap);
    proto_text_clean (text);
    free (msg->u.error.code);
    free (msg->u.error.message);
    msg->u.error.code = xstrdup (code);
    msg->u.error.message = xstrdup (text);
    msg->u.error.in_reply_to = proto_type_valid (in_reply_to) ? in_reply_to : 0;
    return msg;
}

proto_msg_t *
proto_error_new (const char *code, int in_reply_to, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    proto_msg_t *msg = proto_error_newv (code, in_reply_to, fmt, ap);
    va_end (ap);
    return msg;
}

/*  Fault texts quote what peers sent, possibly cut in the middle of a
    character: no control character or broken UTF-8 may reach logs or
    replies.                                                               */
static void
s_printable (char *text)
{
    proto_text_clean (text);
}

static int
s_fault (ctx_t *ctx, const char *code, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static int
s_fault (ctx_t *ctx, const char *code, const char *fmt, ...)
{
    proto_fault_t *fault = ctx->fault;
    char detail[384];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (detail, sizeof detail, fmt, ap);
    va_end (ap);
    snprintf (fault->code, sizeof fault->code, "%s", code);
    char path[256];
    s_path_format (ctx, path, sizeof path);
    if (*path)
        snprintf (fault->text, sizeof fault->text, "%s: %s: %s", ctx->type_name, path, detail);
    else
        snprintf (fault->text, sizeof fault->text, "%s: %s", ctx->type_name, detail);
    s_printable (fault->text);
    return -1;
}

static void
s_fault_plain (proto_fault_t *fault, const char *code, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static void
s_fault_plain (proto_fault_t *fault, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    snprintf (fault->code, sizeof fault->code, "%s", code);
    vsnprintf (fault->text, sizeof fault->text, fmt, ap);
    va_end (ap);
    s_printable (fault->text);
}

/*  String checks shared by the encoder and the decoder  */

static int
s_check_str (ctx_t *ctx, const field_t *f, const char *s, size_t n, int64_t maxlen,
             bool is_id, bool nonempty)
{
    if (n == 0) {
        if (nonempty)
            return s_fault (ctx, "bad-field", "must not be empty");
        return 0;
    }
    if ((int64_t) n > maxlen)
        return s_fault (ctx, "bad-field", "is %zu bytes long, the limit is %" PRId64, n, maxlen);
    if (is_id) {
        for (size_t i = 0; i < n; i++) {
            char c = s[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                  || c == '.' || c == '_' || c == '-' || c == ':'))
                return s_fault (ctx, "bad-field",
                                "is not a valid id (allowed: letters, digits, '.', '_', '-', ':')");
        }
        /*  Ids name directories (the agent's sandboxes).                  */
        if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
            return s_fault (ctx, "bad-field", "is not a valid id ('.' and '..' are not ids)");
    }
    else if (!s_utf8_valid ((const unsigned char *) s, n))
        return s_fault (ctx, "bad-field", "is not valid UTF-8 text (or contains a NUL byte)");
    (void) f;
    return 0;
}

/*  Decoding  */

static int s_decode_struct (ctx_t *ctx, const schema_t *schema, const msgpack_object *obj,
                            void *base);

static const char *
s_obj_type_name (const msgpack_object *o)
{
    switch (o->type) {
        case MSGPACK_OBJECT_NIL: return "nil";
        case MSGPACK_OBJECT_BOOLEAN: return "a boolean";
        case MSGPACK_OBJECT_POSITIVE_INTEGER: return "an unsigned integer";
        case MSGPACK_OBJECT_NEGATIVE_INTEGER: return "a negative integer";
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64: return "a float";
        case MSGPACK_OBJECT_STR: return "a string";
        case MSGPACK_OBJECT_ARRAY: return "an array";
        case MSGPACK_OBJECT_MAP: return "a map";
        case MSGPACK_OBJECT_BIN: return "binary data";
        case MSGPACK_OBJECT_EXT: return "an extension value";
    }
    return "an unknown value";
}

static int
s_decode_int (ctx_t *ctx, const msgpack_object *o, int64_t min, int64_t max, int64_t *out)
{
    int64_t v;
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        if (o->via.u64 > (uint64_t) INT64_MAX)
            return s_fault (ctx, "bad-field", "%" PRIu64 " is out of range %" PRId64 "..%" PRId64,
                            o->via.u64, min, max);
        v = (int64_t) o->via.u64;
    }
    else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        v = o->via.i64;
    else
        return s_fault (ctx, "bad-field", "expected an integer, got %s", s_obj_type_name (o));
    if (v < min || v > max)
        return s_fault (ctx, "bad-field", "%" PRId64 " is out of range %" PRId64 "..%" PRId64,
                        v, min, max);
    *out = v;
    return 0;
}

static int
s_decode_uint (ctx_t *ctx, const msgpack_object *o, uint64_t max, uint64_t *out)
{
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return s_fault (ctx, "bad-field", "expected an unsigned integer, got %s",
                        s_obj_type_name (o));
    if (o->via.u64 > max)
        return s_fault (ctx, "bad-field", "%" PRIu64 " is larger than %" PRIu64, o->via.u64, max);
    *out = o->via.u64;
    return 0;
}

/*  A string object's bytes; msgpack-c gives NULL for "".                   */
static int
s_decode_strobj (ctx_t *ctx, const msgpack_object *o, const char **p, size_t *n)
{
    if (o->type != MSGPACK_OBJECT_STR)
        return s_fault (ctx, "bad-field", "expected a string, got %s", s_obj_type_name (o));
    *n = o->via.str.size;
    *p = o->via.str.size ? o->via.str.ptr : "";
    return 0;
}

static int
s_decode_string (ctx_t *ctx, const field_t *f, const msgpack_object *o, int64_t maxlen,
                 bool is_id, bool nonempty, char **out)
{
    const char *p = "";
    size_t n = 0;
    if (s_decode_strobj (ctx, o, &p, &n) < 0
        || s_check_str (ctx, f, p, n, maxlen, is_id, nonempty) < 0)
        return -1;
    free (*out);
    *out = xstrndup (p, n);
    return 0;
}

static bool
s_key_is (const msgpack_object *k, const char *name)
{
    size_t n = strlen (name);
    return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n
        && (n == 0 || memcmp (k->via.str.ptr, name, n) == 0);
}

static int
s_decode_resources (ctx_t *ctx, const msgpack_object *o, cairn_resources_t **out)
{
    if (o->type != MSGPACK_OBJECT_MAP)
        return s_fault (ctx, "bad-field", "expected a map, got %s", s_obj_type_name (o));
    cairn_resources_t *res = cairn_resources_new ();
    unsigned seen = 0;
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key;
        const msgpack_object *v = &o->via.map.ptr[i].val;
        unsigned bit;
        const char *name;
        if (s_key_is (k, "millicpus"))
            bit = 1, name = "millicpus";
        else if (s_key_is (k, "mem"))
            bit = 2, name = "mem";
        else if (s_key_is (k, "disk"))
            bit = 4, name = "disk";
        else if (s_key_is (k, "ports"))
            bit = 8, name = "ports";
        else {
            if (k->type == MSGPACK_OBJECT_STR && s_utf8_valid ((const unsigned char *) k->via.str.ptr,
                                                                k->via.str.size))
                s_fault (ctx, "bad-field", "unknown resource '%.*s' (known: millicpus, mem, disk, ports)",
                         (int) (k->via.str.size > 40 ? 40 : k->via.str.size), k->via.str.ptr);
            else
                s_fault (ctx, "bad-field", "resource names must be strings");
            goto error;
        }
        if (seen & bit) {
            s_fault (ctx, "bad-field", "'%s' is given twice", name);
            goto error;
        }
        seen |= bit;
        size_t saved = s_path_push (ctx, name, -1);
        uint64_t u;
        int rc = 0;
        if (bit == 1) {
            rc = s_decode_uint (ctx, v, RESOURCES_MAX_MILLICPUS, &u);
            res->millicpus = (int64_t) u;
        }
        else if (bit == 2) {
            rc = s_decode_uint (ctx, v, RESOURCES_MAX_MEM, &u);
            res->mem = u;
        }
        else if (bit == 4) {
            rc = s_decode_uint (ctx, v, RESOURCES_MAX_MEM, &u);
            res->disk = u;
        }
        else {
            if (v->type != MSGPACK_OBJECT_ARRAY)
                rc = s_fault (ctx, "bad-field", "expected an array of [begin, end] pairs, got %s",
                              s_obj_type_name (v));
            else if (v->via.array.size > RESOURCES_MAX_RANGES)
                rc = s_fault (ctx, "bad-field", "more than %d port ranges", RESOURCES_MAX_RANGES);
            for (uint32_t r = 0; rc == 0 && r < v->via.array.size; r++) {
                const msgpack_object *pair = &v->via.array.ptr[r];
                size_t saved2 = s_path_push (ctx, NULL, (long) r);
                uint64_t b = 0, e = 0;
                if (pair->type != MSGPACK_OBJECT_ARRAY || pair->via.array.size != 2)
                    rc = s_fault (ctx, "bad-field", "expected a [begin, end] pair");
                else if (s_decode_uint (ctx, &pair->via.array.ptr[0], 65535, &b) < 0
                         || s_decode_uint (ctx, &pair->via.array.ptr[1], 65535, &e) < 0)
                    rc = -1;
                else if (b == 0 || b > e)
                    rc = s_fault (ctx, "bad-field", "port range %" PRIu64 "-%" PRIu64 " is not valid",
                                  b, e);
                else {
                    /*  Merged ranges: adding must grow the count by the
                        range's size, or it overlapped one before.       */
                    uint64_t before = cairn_resources_port_count (res);
                    cairn_resources_add_ports (res, (uint16_t) b, (uint16_t) e);
                    if (cairn_resources_port_count (res) != before + (e - b + 1))
                        rc = s_fault (ctx, "bad-field", "port range %" PRIu64 "-%" PRIu64
                                      " overlaps another", b, e);
                }
                s_path_pop (ctx, saved2);
            }
        }
        s_path_pop (ctx, saved);
        if (rc < 0)
            goto error;
    }
    cairn_resources_destroy (out);
    *out = res;
    return 0;
error:
    cairn_resources_destroy (&res);
    return -1;
}

static int
s_decode_kv (ctx_t *ctx, const field_t *f, const msgpack_object *o, proto_kv_t *kv)
{
    if (o->type != MSGPACK_OBJECT_MAP)
        return s_fault (ctx, "bad-field", "expected a map of strings, got %s", s_obj_type_name (o));
    if ((int64_t) o->via.map.size > f->max)
        return s_fault (ctx, "bad-field", "has %u entries, the limit is %" PRId64,
                        o->via.map.size, f->max);
    proto_kv_fini (kv);
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        char *key = NULL, *val = NULL;
        size_t saved = s_path_push (ctx, NULL, (long) i);
        int rc = s_decode_string (ctx, f, &o->via.map.ptr[i].key, PROTO_MAX_NAME, false, true, &key);
        if (rc == 0 && (f->flags & F_ENVKEYS) && !s_envkey_valid (key))
            rc = s_fault (ctx, "bad-field", "'%s' is not a valid environment variable name", key);
        if (rc == 0 && proto_kv_get (kv, key))
            rc = s_fault (ctx, "bad-field", "key '%s' is given twice", key);
        if (rc == 0)
            rc = s_decode_string (ctx, f, &o->via.map.ptr[i].val, f->len, false, false, &val);
        if (rc == 0)
            proto_kv_set (kv, key, val);
        free (key);
        free (val);
        s_path_pop (ctx, saved);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int
s_decode_field (ctx_t *ctx, const field_t *f, const msgpack_object *v, void *base)
{
    void *p = AT (base, f);
    switch (f->kind) {
        case K_STR:
            return s_decode_string (ctx, f, v, f->len, false, f->flags & F_NONEMPTY, p);
        case K_ID:
            return s_decode_string (ctx, f, v, f->len, true, f->flags & F_NONEMPTY, p);
        case K_INT:
            return s_decode_int (ctx, v, f->min, f->max, p);
        case K_BOOL:
            if (v->type != MSGPACK_OBJECT_BOOLEAN)
                return s_fault (ctx, "bad-field", "expected a boolean, got %s", s_obj_type_name (v));
            *(bool *) p = v->via.boolean;
            return 0;
        case K_DOUBLE: {
            double d;
            if (v->type == MSGPACK_OBJECT_FLOAT32 || v->type == MSGPACK_OBJECT_FLOAT64)
                d = v->via.f64;
            else if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
                d = (double) v->via.u64;
            else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
                d = (double) v->via.i64;
            else
                return s_fault (ctx, "bad-field", "expected a number, got %s", s_obj_type_name (v));
            if (!isfinite (d) || d < (double) f->min || d > (double) f->max)
                return s_fault (ctx, "bad-field", "%g is out of range %" PRId64 "..%" PRId64,
                                d, f->min, f->max);
            *(double *) p = d;
            return 0;
        }
        case K_STATE:
        case K_REASON: {
            const char *s = "";
            size_t n = 0;
            char name[64];
            if (s_decode_strobj (ctx, v, &s, &n) < 0)
                return -1;
            if (n >= sizeof name || !s_utf8_valid ((const unsigned char *) s, n))
                return s_fault (ctx, "bad-field", "is not a %s name",
                                f->kind == K_STATE ? "task state" : "reason");
            memcpy (name, s, n);
            name[n] = '\0';
            int rc = f->kind == K_STATE ? cairn_task_state_parse (name, p)
                                        : cairn_reason_parse (name, p);
            if (rc < 0)
                return s_fault (ctx, "bad-field", "'%s' is not a %s", name,
                                f->kind == K_STATE ? "task state" : "reason");
            return 0;
        }
        case K_RES:
            return s_decode_resources (ctx, v, p);
        case K_KV:
            return s_decode_kv (ctx, f, v, p);
        case K_STRS: {
            proto_strs_t *strs = p;
            if (v->type != MSGPACK_OBJECT_ARRAY)
                return s_fault (ctx, "bad-field", "expected an array of strings, got %s",
                                s_obj_type_name (v));
            if ((int64_t) v->via.array.size > f->max)
                return s_fault (ctx, "bad-field", "has %u items, the limit is %" PRId64,
                                v->via.array.size, f->max);
            if ((f->flags & F_NONEMPTY) && v->via.array.size == 0)
                return s_fault (ctx, "bad-field", "must not be empty");
            proto_strs_fini (strs);
            strs->items = v->via.array.size ? xzalloc (v->via.array.size * sizeof (char *)) : NULL;
            for (uint32_t i = 0; i < v->via.array.size; i++) {
                size_t saved = s_path_push (ctx, NULL, (long) i);
                char *s = NULL;
                int rc = s_decode_string (ctx, f, &v->via.array.ptr[i], f->len,
                                          f->flags & F_IDS, f->flags & F_IDS, &s);
                s_path_pop (ctx, saved);
                if (rc < 0) {
                    free (s);
                    return -1;
                }
                strs->items[strs->count++] = s;
            }
            return 0;
        }
        case K_OBJ: {
            void **sub = p;
            if (!*sub) {
                *sub = xmalloc (f->sub->size);
                s_init (f->sub, *sub);
            }
            return s_decode_struct (ctx, f->sub, v, *sub);
        }
        case K_INLINE:
            return s_decode_struct (ctx, f->sub, v, p);
        case K_LIST: {
            proto_list_t *list = p;
            if (v->type != MSGPACK_OBJECT_ARRAY)
                return s_fault (ctx, "bad-field", "expected an array, got %s", s_obj_type_name (v));
            if ((int64_t) v->via.array.size > f->max)
                return s_fault (ctx, "bad-field", "has %u items, the limit is %" PRId64,
                                v->via.array.size, f->max);
            if ((f->flags & F_NONEMPTY) && v->via.array.size == 0)
                return s_fault (ctx, "bad-field", "must not be empty");
            list->items = v->via.array.size ? xmalloc (v->via.array.size * f->sub->size) : NULL;
            for (uint32_t i = 0; i < v->via.array.size; i++) {
                void *item = (char *) list->items + i * f->sub->size;
                s_init (f->sub, item);
                list->count++;
                size_t saved = s_path_push (ctx, NULL, (long) i);
                int rc = s_decode_struct (ctx, f->sub, &v->via.array.ptr[i], item);
                s_path_pop (ctx, saved);
                if (rc < 0)
                    return -1;
            }
            return 0;
        }
    }
    return s_fault (ctx, "bad-field", "unsupported field kind");
}

/*  Checks the rules that span fields of one struct.                      */
static int
s_check_struct (ctx_t *ctx, const schema_t *schema, const void *base)
{
    if (schema == &task_schema) {
        const proto_task_t *t = base;
        bool has_cmd = t->command && *t->command;
        if (has_cmd == (t->argv.count > 0))
            return s_fault (ctx, "bad-field", "a task needs exactly one of 'command' and 'argv'");
        if (t->argv.count && !*t->argv.items[0])
            return s_fault (ctx, "bad-field", "argv[0] must not be empty");
    }
    else if (schema == &health_schema) {
        const proto_health_t *h = base;
        if (strcmp (h->type, "command") == 0) {
            if (!*h->command)
                return s_fault (ctx, "bad-field", "a command health check needs 'command'");
        }
        else if (strcmp (h->type, "http") != 0 && strcmp (h->type, "tcp") != 0)
            return s_fault (ctx, "bad-field", "type '%s' is not one of command, http, tcp", h->type);
    }
    return 0;
}

static int
s_decode_struct (ctx_t *ctx, const schema_t *schema, const msgpack_object *obj, void *base)
{
    if (obj->type != MSGPACK_OBJECT_MAP)
        return s_fault (ctx, "bad-field", "expected a map, got %s", s_obj_type_name (obj));
    uint64_t seen = 0;          /* schemas have fewer than 64 fields */
    for (uint32_t i = 0; i < obj->via.map.size; i++) {
        const msgpack_object *k = &obj->via.map.ptr[i].key;
        size_t f;
        for (f = 0; f < schema->nfields; f++)
            if (s_key_is (k, schema->fields[f].name))
                break;
        if (f == schema->nfields) {
            if (k->type == MSGPACK_OBJECT_STR
                && s_utf8_valid ((const unsigned char *) k->via.str.ptr, k->via.str.size))
                return s_fault (ctx, "unknown-field", "unknown field '%.*s'",
                                (int) (k->via.str.size > 64 ? 64 : k->via.str.size),
                                k->via.str.ptr);
            return s_fault (ctx, "bad-field", "field names must be UTF-8 strings");
        }
        if (seen & (1ull << f))
            return s_fault (ctx, "bad-field", "field '%s' is given twice", schema->fields[f].name);
        seen |= 1ull << f;
        size_t saved = s_path_push (ctx, schema->fields[f].name, -1);
        int rc = s_decode_field (ctx, &schema->fields[f], &obj->via.map.ptr[i].val, base);
        s_path_pop (ctx, saved);
        if (rc < 0)
            return -1;
    }
    for (size_t f = 0; f < schema->nfields; f++)
        if ((schema->fields[f].flags & F_REQ) && !(seen & (1ull << f)))
            return s_fault (ctx, "missing-field", "field '%s' is missing", schema->fields[f].name);
    return s_check_struct (ctx, schema, base);
}

/*  The bounded pre-scan (see the top of the file).                        */
static int
s_prescan (const uint8_t *buf, size_t size, proto_fault_t *fault)
{
    uint64_t pending[PROTO_MAX_DEPTH + 1];
    int depth = 0;
    size_t pos = 0, objects = 0;
    pending[0] = 1;
    while (depth >= 0) {
        if (pending[depth] == 0) {
            depth--;
            continue;
        }
        pending[depth]--;
        if (pos >= size) {
            s_fault_plain (fault, "malformed", "the body is truncated (msgpack value expected at byte %zu)", pos);
            return -1;
        }
        if (++objects > PROTO_MAX_OBJECTS) {
            s_fault_plain (fault, "too-large", "the body holds more than %u values", PROTO_MAX_OBJECTS);
            return -1;
        }
        uint8_t b = buf[pos++];
        uint64_t len = 0, children = 0;
        unsigned width = 0;         /* bytes of a length/count that follows */
        int what = 0;               /* 0 scalar/raw, 1 array, 2 map, 3 ext */
        if (b <= 0x7f || b >= 0xe0)
            ;
        else if (b <= 0x8f)
            children = 2 * (uint64_t) (b & 0x0f);
        else if (b <= 0x9f)
            children = b & 0x0f;
        else if (b <= 0xbf)
            len = b & 0x1f;
        else switch (b) {
            case 0xc0: case 0xc2: case 0xc3: break;
            case 0xc1:
                s_fault_plain (fault, "malformed", "byte 0xc1 at offset %zu is not valid msgpack", pos - 1);
                return -1;
            case 0xc4: case 0xd9: width = 1; break;
            case 0xc5: case 0xda: width = 2; break;
            case 0xc6: case 0xdb: width = 4; break;
            case 0xc7: width = 1; what = 3; break;
            case 0xc8: width = 2; what = 3; break;
            case 0xc9: width = 4; what = 3; break;
            case 0xca: len = 4; break;
            case 0xcb: len = 8; break;
            case 0xcc: case 0xd0: len = 1; break;
            case 0xcd: case 0xd1: len = 2; break;
            case 0xce: case 0xd2: len = 4; break;
            case 0xcf: case 0xd3: len = 8; break;
            case 0xd4: len = 2; break;
            case 0xd5: len = 3; break;
            case 0xd6: len = 5; break;
            case 0xd7: len = 9; break;
            case 0xd8: len = 17; break;
            case 0xdc: width = 2; what = 1; break;
            case 0xdd: width = 4; what = 1; break;
            case 0xde: width = 2; what = 2; break;
            case 0xdf: width = 4; what = 2; break;
        }
        if (width) {
            if (size - pos < width) {
                s_fault_plain (fault, "malformed", "the body is truncated inside a length at byte %zu", pos);
                return -1;
            }
            uint64_t n = 0;
            for (unsigned i = 0; i < width; i++)
                n = (n << 8) | buf[pos + i];
            pos += width;
            if (what == 1)
                children = n;
            else if (what == 2)
                children = 2 * n;
            else if (what == 3)
                len = n + 1;        /* the extension's type byte */
            else
                len = n;
        }
        if (len > size - pos) {
            s_fault_plain (fault, "malformed", "a value at byte %zu declares %" PRIu64
                           " bytes but only %zu remain", pos, len, size - pos);
            return -1;
        }
        pos += len;
        if (children) {
            /*  Every element takes at least one byte: a count larger than
                what remains is a lie that would make msgpack-c allocate. */
            if (children > size - pos) {
                s_fault_plain (fault, "malformed", "a container at byte %zu declares %" PRIu64
                               " elements but only %zu bytes remain", pos, children, size - pos);
                return -1;
            }
            if (depth + 1 > PROTO_MAX_DEPTH) {
                s_fault_plain (fault, "malformed", "values are nested deeper than %d levels",
                               PROTO_MAX_DEPTH);
                return -1;
            }
            pending[++depth] = children;
        }
    }
    if (pos != size) {
        s_fault_plain (fault, "malformed", "%zu trailing bytes after the body's map", size - pos);
        return -1;
    }
    return 0;
}

/*  One msgpack zone per thread, cleared after each message, instead of a
    zone made and freed for every message decoded (7% of the master's CPU
    under launch load). The key's destructor frees it when a thread ends. */
static pthread_key_t s_zone_key;
static pthread_once_t s_zone_once = PTHREAD_ONCE_INIT;

static void
s_zone_free (void *zone)
{
    msgpack_zone_free (zone);
}

static void
s_zone_key_init (void)
{
    if (pthread_key_create (&s_zone_key, s_zone_free) != 0)
        oom_abort ();
}

static msgpack_zone *
s_decode_zone (void)
{
    pthread_once (&s_zone_once, s_zone_key_init);
    msgpack_zone *zone = pthread_getspecific (s_zone_key);
    if (!zone) {
        zone = msgpack_zone_new (MSGPACK_ZONE_CHUNK_SIZE);
        if (!zone || pthread_setspecific (s_zone_key, zone) != 0)
            oom_abort ();
    }
    return zone;
}

proto_msg_t *
proto_decode (const void *hdr, size_t hdr_size, const void *body, size_t body_size,
              proto_fault_t *fault)
{
    proto_fault_t dummy;
    if (!fault)
        fault = &dummy;
    memset (fault, 0, sizeof *fault);
    fault->version = -1;
    fault->type = -1;
    const uint8_t *h = hdr;
    if (hdr_size != PROTO_HEADER_SIZE || h[0] != PROTO_SIG0 || h[1] != PROTO_SIG1) {
        s_fault_plain (fault, "malformed", "the header frame is not a Cairn header "
                       "(4 bytes starting 0xCA 0x1E)");
        return NULL;
    }
    fault->version = h[2];
    fault->type = h[3];
    if (h[2] != PROTO_VERSION) {
        s_fault_plain (fault, "version", "protocol version %u is not supported: this peer speaks "
                       "version %d", h[2], PROTO_VERSION);
        return NULL;
    }
    const schema_t *schema = s_schema (h[3]);
    if (!schema) {
        s_fault_plain (fault, "unknown-type", "message type %u is not part of protocol version %d",
                       h[3], PROTO_VERSION);
        return NULL;
    }
    if (body_size > PROTO_MAX_BODY) {
        s_fault_plain (fault, "too-large", "%s: the body is %zu bytes, the limit is %u",
                       schema->name, body_size, PROTO_MAX_BODY);
        return NULL;
    }
    if (s_prescan (body, body_size, fault) < 0) {
        char text[sizeof fault->text];
        snprintf (text, sizeof text, "%s: %s", schema->name, fault->text);
        memcpy (fault->text, text, sizeof text);
        return NULL;
    }
    msgpack_zone *zone = s_decode_zone ();
    msgpack_object obj;
    size_t off = 0;
    proto_msg_t *msg = NULL;
    msgpack_unpack_return rc = msgpack_unpack (body, body_size, &off, zone, &obj);
    if (rc != MSGPACK_UNPACK_SUCCESS || off != body_size) {
        s_fault_plain (fault, "malformed", "%s: the body is not one msgpack value", schema->name);
        goto done;
    }
    msg = xzalloc (sizeof *msg);
    msg->type = h[3];
    s_init (schema, &msg->u);
    ctx_t ctx = { .fault = fault, .type_name = schema->name };
    if (s_decode_struct (&ctx, schema, &obj, &msg->u) < 0)
        proto_msg_destroy (&msg);
done:
    msgpack_zone_clear (zone);      /* the message holds copies, not the tree */
    return msg;
}

/*  Encoding  */

static int s_encode_struct (ctx_t *ctx, msgpack_packer *pk, const schema_t *schema,
                            const void *base);

static void
s_pack_str (msgpack_packer *pk, const char *s)
{
    size_t n = strlen (s);
    msgpack_pack_str (pk, n);
    msgpack_pack_str_body (pk, s, n);
}

/*  Optional fields with nothing in them are left out.                    */
static bool
s_field_present (const field_t *f, const void *base)
{
    const void *p = CAT (base, f);
    if (f->flags & F_REQ)
        return true;
    switch (f->kind) {
        case K_STR:
        case K_ID: {
            const char *s = *(char *const *) p;
            return s && *s;
        }
        case K_RES:
        case K_OBJ:
            return *(void *const *) p != NULL;
        case K_KV:
            return ((const proto_kv_t *) p)->count > 0;
        case K_STRS:
            return ((const proto_strs_t *) p)->count > 0;
        case K_LIST:
            return ((const proto_list_t *) p)->count > 0;
        case K_REASON:
            return *(const cairn_reason_t *) p != CAIRN_REASON_NONE;
        default:
            return true;
    }
}

static int
s_encode_resources (ctx_t *ctx, msgpack_packer *pk, const cairn_resources_t *res)
{
    static const cairn_resources_t empty;
    if (!res)
        res = &empty;
    msgpack_pack_map (pk, res->nranges ? 4 : 3);
    s_pack_str (pk, "millicpus");
    msgpack_pack_uint64 (pk, (uint64_t) res->millicpus);
    s_pack_str (pk, "mem");
    msgpack_pack_uint64 (pk, res->mem);
    s_pack_str (pk, "disk");
    msgpack_pack_uint64 (pk, res->disk);
    if (res->nranges) {
        s_pack_str (pk, "ports");
        msgpack_pack_array (pk, res->nranges);
        for (size_t i = 0; i < res->nranges; i++) {
            msgpack_pack_array (pk, 2);
            msgpack_pack_uint16 (pk, res->ranges[2 * i]);
            msgpack_pack_uint16 (pk, res->ranges[2 * i + 1]);
        }
    }
    (void) ctx;
    return 0;
}

static int
s_encode_string (ctx_t *ctx, msgpack_packer *pk, const field_t *f, const char *s,
                 int64_t maxlen, bool is_id, bool nonempty)
{
    if (!s)
        s = "";
    if (s_check_str (ctx, f, s, strlen (s), maxlen, is_id, nonempty) < 0)
        return -1;
    s_pack_str (pk, s);
    return 0;
}

static int
s_encode_field (ctx_t *ctx, msgpack_packer *pk, const field_t *f, const void *base)
{
    const void *p = CAT (base, f);
    switch (f->kind) {
        case K_STR:
        case K_ID:
            return s_encode_string (ctx, pk, f, *(char *const *) p, f->len, f->kind == K_ID,
                                    f->flags & F_NONEMPTY);
        case K_INT: {
            int64_t v = *(const int64_t *) p;
            if (v < f->min || v > f->max)
                return s_fault (ctx, "bad-field", "%" PRId64 " is out of range", v);
            msgpack_pack_int64 (pk, v);
            return 0;
        }
        case K_BOOL:
            if (*(const bool *) p)
                msgpack_pack_true (pk);
            else
                msgpack_pack_false (pk);
            return 0;
        case K_DOUBLE: {
            double d = *(const double *) p;
            if (!isfinite (d) || d < (double) f->min || d > (double) f->max)
                return s_fault (ctx, "bad-field", "%g is out of range", d);
            msgpack_pack_double (pk, d);
            return 0;
        }
        case K_STATE: {
            const char *name = cairn_task_state_name (*(const cairn_task_state_t *) p);
            if (!name)
                return s_fault (ctx, "bad-field", "is not a task state");
            s_pack_str (pk, name);
            return 0;
        }
        case K_REASON: {
            const char *name = cairn_reason_name (*(const cairn_reason_t *) p);
            if (!name)
                return s_fault (ctx, "bad-field", "is not a reason");
            s_pack_str (pk, name);
            return 0;
        }
        case K_RES:
            return s_encode_resources (ctx, pk, *(cairn_resources_t *const *) p);
        case K_KV: {
            const proto_kv_t *kv = p;
            if ((int64_t) kv->count > f->max)
                return s_fault (ctx, "bad-field", "has more than %" PRId64 " entries", f->max);
            msgpack_pack_map (pk, kv->count);
            for (size_t i = 0; i < kv->count; i++) {
                if ((f->flags & F_ENVKEYS) && !s_envkey_valid (kv->keys[i]))
                    return s_fault (ctx, "bad-field", "'%s' is not a valid environment variable name",
                                    kv->keys[i]);
                if (s_encode_string (ctx, pk, f, kv->keys[i], PROTO_MAX_NAME, false, true) < 0
                    || s_encode_string (ctx, pk, f, kv->values[i], f->len, false, false) < 0)
                    return -1;
            }
            return 0;
        }
        case K_STRS: {
            const proto_strs_t *strs = p;
            if ((int64_t) strs->count > f->max)
                return s_fault (ctx, "bad-field", "has more than %" PRId64 " items", f->max);
            if ((f->flags & F_NONEMPTY) && strs->count == 0)
                return s_fault (ctx, "bad-field", "must not be empty");
            msgpack_pack_array (pk, strs->count);
            for (size_t i = 0; i < strs->count; i++)
                if (s_encode_string (ctx, pk, f, strs->items[i], f->len, f->flags & F_IDS,
                                     f->flags & F_IDS) < 0)
                    return -1;
            return 0;
        }
        case K_OBJ: {
            const void *sub = *(void *const *) p;
            if (!sub)
                return s_fault (ctx, "missing-field", "is missing");
            return s_encode_struct (ctx, pk, f->sub, sub);
        }
        case K_INLINE:
            return s_encode_struct (ctx, pk, f->sub, p);
        case K_LIST: {
            const proto_list_t *list = p;
            if ((int64_t) list->count > f->max)
                return s_fault (ctx, "bad-field", "has more than %" PRId64 " items", f->max);
            if ((f->flags & F_NONEMPTY) && list->count == 0)
                return s_fault (ctx, "bad-field", "must not be empty");
            msgpack_pack_array (pk, list->count);
            for (size_t i = 0; i < list->count; i++) {
                size_t saved = s_path_push (ctx, NULL, (long) i);
                int rc = s_encode_struct (ctx, pk, f->sub,
                                          (const char *) list->items + i * f->sub->size);
                s_path_pop (ctx, saved);
                if (rc < 0)
                    return -1;
            }
            return 0;
        }
    }
    return s_fault (ctx, "bad-field", "unsupported field kind");
}

static int
s_encode_struct (ctx_t *ctx, msgpack_packer *pk, const schema_t *schema, const void *base)
{
    size_t present = 0;
    for (size_t i = 0; i < schema->nfields; i++)
        if (s_field_present (&schema->fields[i], base))
            present++;
    msgpack_pack_map (pk, present);
    for (size_t i = 0; i < schema->nfields; i++) {
        const field_t *f = &schema->fields[i];
        if (!s_field_present (f, base))
            continue;
        s_pack_str (pk, f->name);
        size_t saved = s_path_push (ctx, f->name, -1);
        int rc = s_encode_field (ctx, pk, f, base);
        s_path_pop (ctx, saved);
        if (rc < 0)
            return -1;
    }
    return s_check_struct (ctx, schema, base);
}

int
proto_encode (const proto_msg_t *msg, uint8_t hdr[PROTO_HEADER_SIZE], char **body,
              size_t *body_size, proto_fault_t *fault)
{
    proto_fault_t dummy;
    if (!fault)
        fault = &dummy;
    memset (fault, 0, sizeof *fault);
    const schema_t *schema = s_schema (msg->type);
    assert (schema);
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    ctx_t ctx = { .fault = fault, .type_name = schema->name };
    if (s_encode_struct (&ctx, &pk, schema, &msg->u) < 0) {
        msgpack_sbuffer_destroy (&sbuf);
        errno = EINVAL;
        return -1;
    }
    if (sbuf.size > PROTO_MAX_BODY) {
        s_fault_plain (fault, "too-large", "%s: the body would be %zu bytes, the limit is %u",
                       schema->name, sbuf.size, PROTO_MAX_BODY);
        msgpack_sbuffer_destroy (&sbuf);
        errno = EMSGSIZE;
        return -1;
    }
    if (!sbuf.data)
        oom_abort ();
    hdr[0] = PROTO_SIG0;
    hdr[1] = PROTO_SIG1;
    hdr[2] = PROTO_VERSION;
    hdr[3] = (uint8_t) msg->type;
    *body = sbuf.data;          /* msgpack_sbuffer owns a malloc'd buffer */
    *body_size = sbuf.size;
    return 0;
}

/*  Examples and descriptions  */

static void
s_example (const schema_t *schema, void *base, int index)
{
    for (size_t i = 0; i < schema->nfields; i++) {
        const field_t *f = &schema->fields[i];
        void *p = AT (base, f);
        switch (f->kind) {
            case K_STR:
                free (*(char **) p);
                *(char **) p = xasprintf ("%s-\xc3\xa9x", f->name);   /* some UTF-8 */
                break;
            case K_ID:
                free (*(char **) p);
                *(char **) p = xasprintf ("%s-%d", f->name, index + 1);
                break;
            case K_INT:
                *(int64_t *) p = f->max < 1000 ? f->max : f->min + 1000;
                break;
            case K_BOOL:
                *(bool *) p = true;
                break;
            case K_DOUBLE:
                *(double *) p = 1700000000.25;
                break;
            case K_STATE:
                *(cairn_task_state_t *) p = CAIRN_TASK_RUNNING;
                break;
            case K_REASON:
                *(cairn_reason_t *) p = CAIRN_REASON_CONTAINER_LIMITATION_MEMORY;
                break;
            case K_RES: {
                cairn_resources_t **res = p;
                cairn_resources_destroy (res);
                *res = cairn_resources_parse ("cpus:1.5;mem:512;disk:64;ports:[31000-31009,32000-32000]");
                break;
            }
            case K_KV:
                proto_kv_set (p, (f->flags & F_ENVKEYS) ? "FOO_1" : "rack", "r1 \xe2\x9c\x93");
                proto_kv_set (p, (f->flags & F_ENVKEYS) ? "BAR" : "zone", "");
                break;
            case K_STRS:
                proto_strs_add (p, (f->flags & F_IDS) ? "id-1" : "/bin/echo");
                proto_strs_add (p, (f->flags & F_IDS) ? "id-2" : "hello world");
                break;
            case K_OBJ: {
                void **sub = p;
                if (!*sub) {
                    *sub = xmalloc (f->sub->size);
                    s_init (f->sub, *sub);
                }
                s_example (f->sub, *sub, 0);
                break;
            }
            case K_INLINE:
                s_example (f->sub, p, index);
                break;
            case K_LIST: {
                for (int k = 0; k < 2; k++) {
                    void *item = proto_list_push (p, f->sub->size);
                    s_init (f->sub, item);
                    s_example (f->sub, item, k);
                }
                break;
            }
        }
    }
    /*  Cross-field rules: a task has a command or argv, not both; a
        health check of type "command" needs its command.                 */
    if (schema == &task_schema) {
        proto_task_t *t = base;
        proto_strs_fini (&t->argv);
    }
    else if (schema == &health_schema) {
        proto_health_t *h = base;
        free (h->type);
        h->type = xstrdup ("command");
    }
}

proto_msg_t *
proto_msg_example (proto_type_t type)
{
    proto_msg_t *msg = proto_msg_new (type);
    s_example (s_schema (type), &msg->u, 0);
    return msg;
}

static const char *
s_kind_name (const field_t *f)
{
    switch (f->kind) {
        case K_STR: return "string";
        case K_ID: return "id";
        case K_INT: return "integer";
        case K_BOOL: return "boolean";
        case K_DOUBLE: return "float";
        case K_STATE: return "task state";
        case K_REASON: return "reason";
        case K_RES: return "resources";
        case K_KV: return "map string->string";
        case K_STRS: return (f->flags & F_IDS) ? "array of id" : "array of string";
        case K_OBJ:
        case K_INLINE: return f->sub->name;
        case K_LIST: return "array";
    }
    return "?";
}

static void
s_describe (const schema_t *schema, const char *prefix, proto_field_fn *fn, void *arg)
{
    for (size_t i = 0; i < schema->nfields; i++) {
        const field_t *f = &schema->fields[i];
        char path[128], limits[128] = "";
        snprintf (path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", f->name);
        switch (f->kind) {
            case K_STR:
                snprintf (limits, sizeof limits, "%s<= %" PRId64 " bytes UTF-8",
                          (f->flags & F_NONEMPTY) ? "non-empty, " : "", f->len);
                break;
            case K_ID:
                snprintf (limits, sizeof limits, "%s<= %d bytes of [A-Za-z0-9._:-]",
                          (f->flags & F_NONEMPTY) ? "non-empty, " : "", PROTO_MAX_ID);
                break;
            case K_INT:
                snprintf (limits, sizeof limits, "%" PRId64 "..%" PRId64 ", default %" PRId64,
                          f->min, f->max, f->def);
                break;
            case K_DOUBLE:
                snprintf (limits, sizeof limits, "%" PRId64 "..%" PRId64, f->min, f->max);
                break;
            case K_KV:
                snprintf (limits, sizeof limits, "<= %" PRId64 " entries%s; values <= %" PRId64 " bytes",
                          f->max, (f->flags & F_ENVKEYS) ? ", keys [A-Za-z_][A-Za-z0-9_]*" : "",
                          f->len);
                break;
            case K_STRS:
                snprintf (limits, sizeof limits, "%s<= %" PRId64 " items",
                          (f->flags & F_NONEMPTY) ? "non-empty, " : "", f->max);
                break;
            case K_LIST:
                snprintf (limits, sizeof limits, "%s<= %" PRId64 " items of %s",
                          (f->flags & F_NONEMPTY) ? "non-empty, " : "", f->max, f->sub->name);
                break;
            default:
                break;
        }
        fn (path, s_kind_name (f), f->flags & F_REQ, limits, arg);
        if (f->kind == K_OBJ || f->kind == K_INLINE)
            s_describe (f->sub, path, fn, arg);
        else if (f->kind == K_LIST) {
            char sub[140];
            snprintf (sub, sizeof sub, "%s[]", path);
            s_describe (f->sub, sub, fn, arg);
        }
    }
}

void
proto_describe (proto_type_t type, proto_field_fn *fn, void *arg)
{
    const schema_t *schema = s_schema (type);
    assert (schema);
    s_describe (schema, "", fn, arg);
}
