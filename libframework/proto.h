/*  proto.h - the wire codec: every message type of the Cairn protocol.

    A message is two ZeroMQ frames: a 4-byte header (0xCA 0x1E, protocol
    version, message type) and a msgpack map body. This module is the only
    one that touches msgpack. Decoding validates every field (type, range,
    length, character set, UTF-8) and rejects unknown and missing fields;
    an untrusted body is bounded before msgpack-c sees it, so a hostile
    frame cannot make the decoder allocate more than a small multiple of
    its own size. doc/protocol.md is the normative description.           */
#ifndef CAIRN_PROTO_H_INCLUDED
#define CAIRN_PROTO_H_INCLUDED

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn.h"

#define PROTO_SIG0          0xCA
#define PROTO_SIG1          0x1E
#define PROTO_VERSION       1
#define PROTO_HEADER_SIZE   4
#define PROTO_MAX_BODY      (8u << 20)      /* bytes in one body frame */
#define PROTO_MAX_OBJECTS   (1u << 20)      /* msgpack objects in one body */
#define PROTO_MAX_DEPTH     16
#define PROTO_MAX_ID        128             /* ids: [A-Za-z0-9._:-] */
#define PROTO_MAX_NAME      256             /* names, hostnames, roles */
#define PROTO_MAX_TEXT      4096            /* messages for people */
#define PROTO_MAX_COMMAND   65536           /* shell commands, values */
#define PROTO_MAX_TASKS     1000            /* tasks in one launch */
#define PROTO_MAX_ITEMS     100000          /* offers, task ids in one message */
#define PROTO_MAX_KV        256             /* env, labels, attributes */

typedef enum {
    PROTO_ERROR = 1,
    PROTO_PING = 2,
    PROTO_PONG = 3,
    PROTO_AGENT_REGISTER = 10,
    PROTO_AGENT_REGISTERED = 11,
    PROTO_RUN_TASKS = 12,
    PROTO_KILL_TASK = 13,
    PROTO_STATUS_UPDATE = 14,
    PROTO_STATUS_ACK = 15,
    PROTO_AGENT_SHUTDOWN = 16,
    PROTO_USAGE = 17,
    PROTO_FRAMEWORK_REGISTER = 20,
    PROTO_FRAMEWORK_REGISTERED = 21,
    PROTO_OFFERS = 22,
    PROTO_RESCIND = 23,
    PROTO_ACCEPT = 24,
    PROTO_DECLINE = 25,
    PROTO_KILL = 26,
    PROTO_REVIVE = 27,
    PROTO_SUPPRESS = 28,
    PROTO_RECONCILE = 29,
    PROTO_UNREGISTER = 30,
    PROTO_AGENT_LOST = 31,
    PROTO_UPDATE_FRAMEWORK = 32,
    PROTO_INFO_REQUEST = 40,
    PROTO_INFO = 41,
} proto_type_t;

/*  Building blocks  */

typedef struct {                    /* a msgpack map of strings */
    size_t count;
    char **keys;
    char **values;
} proto_kv_t;

typedef struct {                    /* a msgpack array of strings */
    size_t count;
    char **items;
} proto_strs_t;

typedef struct {                    /* a msgpack array of objects */
    size_t count;
    void *items;                    /* count structs of the element type */
} proto_list_t;

typedef struct {
    char *id;                       /* "" to register anew */
    char *name;
    char *role;                     /* default "*" */
    char *principal;
    char *user;
    char *hostname;
    int64_t failover_timeout_ms;
    bool partition_aware;
    bool suppressed;                /* offers suppressed (re-registration) */
    proto_kv_t labels;
} proto_framework_info_t;

typedef struct {
    char *uri;
    bool extract;
    bool executable;
} proto_uri_t;

typedef struct {
    char *type;                     /* "command", "http", "tcp" */
    char *command;
    char *path;
    int64_t port_index;
    int64_t delay_ms;
    int64_t interval_ms;
    int64_t timeout_ms;
    int64_t grace_ms;
    int64_t max_failures;
} proto_health_t;

typedef struct {
    char *task_id;
    char *name;
    char *command;                  /* exactly one of command and argv */
    proto_strs_t argv;
    proto_kv_t env;
    cairn_resources_t *resources;
    proto_list_t uris;              /* of proto_uri_t */
    char *user;
    int64_t kill_grace_ms;          /* -1: the agent's default */
    proto_kv_t labels;
    proto_health_t *health;         /* NULL: none */
} proto_task_t;

typedef struct {
    char *offer_id;
    char *agent_id;
    char *hostname;
    cairn_resources_t *resources;
    proto_kv_t attributes;
} proto_offer_t;

typedef struct {
    char *uuid;                     /* the update's id ("" for reconciliation) */
    char *task_id;
    char *framework_id;
    char *agent_id;                 /* "" when unknown */
    cairn_task_state_t state;
    cairn_reason_t reason;
    char *message;
    int64_t exit_code;              /* -1: did not exit */
    int64_t signal;                 /* 0: no signal */
    int64_t healthy;                /* -1 no check, 0, 1 */
    double timestamp;               /* seconds since the epoch */
} proto_status_t;

typedef struct {                    /* one task's resource usage */
    char *framework_id;
    char *task_id;
    double cpu_seconds;             /* cpu time used so far */
    int64_t mem_bytes;              /* memory in use now */
    int64_t mem_peak_bytes;         /* the most it used */
    int64_t mem_limit_bytes;        /* its limit, 0 if none enforced */
    double timestamp;               /* when sampled, seconds since the epoch */
} proto_task_usage_t;

typedef struct {                    /* a task an agent reports on register */
    char *framework_id;
    proto_task_t task;
    cairn_task_state_t state;
} proto_agent_task_t;

/*  Message bodies  */

typedef struct {
    char *code;                     /* short machine-readable code */
    char *message;                  /* a sentence for people */
    int64_t in_reply_to;            /* message type it answers, 0 if none */
} proto_error_t;

typedef struct {
    int64_t seq;
} proto_ping_t;

typedef struct {
    char *agent_id;                 /* "" for a new agent */
    char *hostname;
    char *http_address;             /* "IP:PORT", "https://IP:PORT" with TLS */
    char *version;                  /* software version */
    cairn_resources_t *resources;
    proto_kv_t attributes;
    proto_list_t tasks;             /* of proto_agent_task_t */
} proto_agent_register_t;

typedef struct {
    char *agent_id;
    char *master_id;
    int64_t ping_interval_ms;
} proto_agent_registered_t;

typedef struct {
    proto_framework_info_t *framework;
    proto_list_t tasks;             /* of proto_task_t */
} proto_run_tasks_t;

typedef struct {
    char *framework_id;
    char *task_id;
    int64_t grace_ms;               /* -1: the task's own */
} proto_kill_task_t;

typedef struct {
    char *framework_id;
    char *agent_id;
    char *task_id;
    char *uuid;
} proto_status_ack_t;

typedef struct {
    char *message;
} proto_agent_shutdown_t;

typedef struct {
    proto_list_t tasks;             /* of proto_task_usage_t */
} proto_usage_t;

typedef struct {
    char *framework_id;
    char *master_id;
    char *master_http;              /* "HOST:PORT" */
    bool reregistered;
    int64_t ping_interval_ms;
} proto_framework_registered_t;

typedef struct {
    proto_list_t offers;            /* of proto_offer_t */
} proto_offers_t;

typedef struct {
    char *offer_id;
} proto_rescind_t;

typedef struct {
    proto_strs_t offer_ids;
    proto_list_t tasks;             /* of proto_task_t */
    int64_t refuse_ms;              /* -1: the default */
} proto_accept_t;

typedef struct {
    proto_strs_t offer_ids;
    int64_t refuse_ms;
} proto_decline_t;

typedef struct {
    char *task_id;
} proto_kill_t;

typedef struct {
    proto_strs_t task_ids;          /* empty: all */
} proto_reconcile_t;

typedef struct {
    bool failover;                  /* false: tear the framework down */
} proto_unregister_t;

typedef struct {
    char *agent_id;
} proto_agent_lost_t;

typedef struct {
    char *master_id;
    char *http_address;
    char *version;
} proto_info_t;

typedef struct {
    char _unused;                   /* REVIVE, SUPPRESS, INFO_REQUEST */
} proto_empty_t;

typedef struct {
    proto_type_t type;
    union {
        proto_error_t error;
        proto_ping_t ping;          /* PING and PONG */
        proto_agent_register_t agent_register;
        proto_agent_registered_t agent_registered;
        proto_run_tasks_t run_tasks;
        proto_kill_task_t kill_task;
        proto_status_t status;      /* STATUS_UPDATE */
        proto_status_ack_t status_ack;
        proto_agent_shutdown_t agent_shutdown;
        proto_usage_t usage;
        proto_framework_info_t framework; /* FRAMEWORK_REGISTER, UPDATE_FRAMEWORK */
        proto_framework_registered_t framework_registered;
        proto_offers_t offers;
        proto_rescind_t rescind;
        proto_accept_t accept;
        proto_decline_t decline;
        proto_kill_t kill;
        proto_reconcile_t reconcile;
        proto_unregister_t unregister;
        proto_agent_lost_t agent_lost;
        proto_info_t info;
        proto_empty_t empty;
    } u;
} proto_msg_t;

/*  Why a frame was refused: a short code ("bad-field", "too-large",
    "version", "unknown-type", "malformed") and a sentence.               */
typedef struct {
    char code[32];
    char text[512];
    int version;                    /* the peer's version, if the header parsed */
    int type;                       /* the message type, if the header parsed */
} proto_fault_t;

/*  The type's wire name ("AGENT_REGISTER"), or NULL if unknown.           */
const char *proto_type_name (int type);
bool proto_type_valid (int type);
/*  Number of known types, and the n-th (for tests and docs).              */
size_t proto_type_count (void);
proto_type_t proto_type_at (size_t index);

/*  A message of `type` with defaults filled in (all strings "" where
    required, ints at their defaults); destroy with proto_msg_destroy.     */
proto_msg_t *proto_msg_new (proto_type_t type);
void proto_msg_destroy (proto_msg_t **self_p);

/*  Encodes to a newly allocated header (4 bytes, into hdr) and body;
    returns 0, or -1 (EINVAL) if a field breaks the protocol's rules
    (so a bug on our side can never send what a peer would refuse).       */
int proto_encode (const proto_msg_t *msg, uint8_t hdr[PROTO_HEADER_SIZE],
                  char **body, size_t *body_size, proto_fault_t *fault);

/*  Decodes and validates a header and body; NULL with *fault filled in
    when they are not a valid message.                                     */
proto_msg_t *proto_decode (const void *hdr, size_t hdr_size,
                           const void *body, size_t body_size,
                           proto_fault_t *fault);

/*  Helpers for the structs above.                                          */
void proto_kv_set (proto_kv_t *kv, const char *key, const char *value);
const char *proto_kv_get (const proto_kv_t *kv, const char *key);
void proto_kv_copy (proto_kv_t *dst, const proto_kv_t *src);
void proto_kv_fini (proto_kv_t *kv);
void proto_strs_add (proto_strs_t *strs, const char *s);
void proto_strs_fini (proto_strs_t *strs);
/*  Appends a zeroed element to a list of `size`-byte structs.             */
void *proto_list_push (proto_list_t *list, size_t size);

/*  Deep copies and releases of the nested structs.                        */
void proto_task_init (proto_task_t *task);       /* defaults, as decoded */
void proto_task_copy (proto_task_t *dst, const proto_task_t *src);
proto_health_t *proto_health_new (void);
void proto_health_destroy (proto_health_t **h_p);
void proto_task_fini (proto_task_t *task);
void proto_offer_copy (proto_offer_t *dst, const proto_offer_t *src);
void proto_offer_fini (proto_offer_t *offer);
void proto_status_copy (proto_status_t *dst, const proto_status_t *src);
void proto_status_fini (proto_status_t *status);
void proto_framework_info_copy (proto_framework_info_t *dst, const proto_framework_info_t *src);
void proto_framework_info_fini (proto_framework_info_t *info);

/*  An ERROR message with the code and a sentence (cleaned with
    proto_text_clean); in_reply_to is kept only if it names a type.       */
proto_msg_t *proto_error_new (const char *code, int in_reply_to, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
proto_msg_t *proto_error_newv (const char *code, int in_reply_to, const char *fmt, va_list ap)
    __attribute__ ((format (printf, 3, 0)));

/*  Makes text safe for a message for people, in place: control
    characters and bytes that are not valid UTF-8 become '?'.             */
void proto_text_clean (char *text);

/*  True if s is a valid id: 1..PROTO_MAX_ID of [A-Za-z0-9._:-], and not
    "." or ".." (ids name directories).                                   */
bool proto_id_valid (const char *s);

/*  A message of `type` with every field set to a valid, non-default
    value (for tests, benchmarks and the protocol document).               */
proto_msg_t *proto_msg_example (proto_type_t type);

/*  Describes the fields of a message type, one call per field (nested
    fields with dotted names), for the generated protocol tables.          */
typedef void (proto_field_fn) (const char *path, const char *type,
                               bool required, const char *limits, void *arg);
void proto_describe (proto_type_t type, proto_field_fn *fn, void *arg);

#endif
