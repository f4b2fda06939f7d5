/*  master.h - the master's state and its message handlers.

    Handlers are plain functions from (state, decoded message, time) to
    state changes plus messages queued in an outbox; nothing here touches
    a socket, so the whole offer cycle can be driven by unit tests and
    fuzzers. main.c owns the sockets and the loop: it feeds messages in,
    sends what the outbox holds, and calls master_tick and
    master_allocate on timers.                                            */
#ifndef CAIRN_MASTER_H_INCLUDED
#define CAIRN_MASTER_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#include <czmq.h>
#include <jansson.h>

#include "cairn.h"
#include "proto.h"
#include "registry.h"
#include "transport.h"

typedef struct {
    int64_t ping_interval_ms;           /* agents and frameworks */
    int64_t max_ping_misses;
    int64_t allocation_interval_ms;
    int64_t default_refuse_ms;
    int64_t offer_timeout_ms;           /* 0: offers never time out */
    int64_t max_completed_tasks;        /* per framework */
    int64_t max_completed_frameworks;
    const cairn_resources_t *min_allocatable;
    const char *http_address;           /* "[https://]IP:PORT" told to clients */
    registry_t *registry;               /* durable agent registry, or NULL */
    int64_t agent_reregister_timeout_ms; /* after a restart */
    int64_t max_tasks_per_launch;       /* 0: the codec's PROTO_MAX_TASKS */
    int64_t max_string_length;          /* a task's command, argv, env and
                                           label values; 0: the codec's */
    const char *cluster_name;           /* shown by the UI; NULL: "cairn" */
    int64_t series_interval_ms;         /* between samples of /state/summary's
                                           "series"; 0: MASTER_SERIES_INTERVAL_MS */
} master_config_t;

/*  /state/summary keeps MASTER_SERIES_LEN samples, one per interval, of
    the mean allocation run time and of the launch rate: the last five
    minutes by default, so charts drawn from it survive a page reload.    */
#define MASTER_SERIES_INTERVAL_MS 5000
#define MASTER_SERIES_LEN 60

typedef enum {
    AGENT_ACTIVE,
    AGENT_UNREACHABLE,
    AGENT_RECOVERING,                   /* in the registry, not re-registered yet */
} agent_state_t;

typedef struct _master_t master_t;

master_t *master_new (const master_config_t *config);
void master_destroy (master_t **self_p);
const char *master_id (master_t *self);

/*  After a restart: reads the registry's admitted and gone agents. The
    admitted ones have until now + agent_reregister_timeout_ms to come
    back before they count as unreachable. Returns how many were read.    */
int master_recover (master_t *self, int64_t now_ms);

/*  For a master that leads through ZooKeeper: the registry it opens once
    elected (before master_recover), and what /health, /state and
    /state/summary say of the election, as a JSON object's text (copied;
    NULL: nothing).                                                        */
void master_set_registry (master_t *self, registry_t *registry);
void master_set_ha (master_t *self, const char *ha_json);

/*  After ms during which the master did not act (a leader waiting for
    ZooKeeper): the time does not count against agents, frameworks,
    offers or the recovery window, which could not reach it meanwhile.   */
void master_shift_clocks (master_t *self, int64_t ms);

/*  An operator's decision that an agent is gone for good: its tasks are
    reported TASK_GONE (TASK_LOST to frameworks that are not partition
    aware) with REASON_AGENT_REMOVED, its resources leave the cluster,
    the decision is recorded in the registry, and the agent (now, or
    whenever it comes back) is told to shut down. -1 (ENOENT) for an
    unknown agent; 0 if it already was gone.                               */
int master_mark_gone (master_t *self, const char *agent_id, const char *reason, int64_t now_ms);
/*  Drains an agent: no more offers from it (outstanding ones are
    rescinded) and each of its tasks is killed with grace_ms (SIGTERM,
    then SIGKILL), so their frameworks run them elsewhere. Recorded in the
    registry, so a restarted master keeps draining it. Again with another
    grace changes the grace. -1 (ENOENT) for an unknown or gone agent.   */
int master_drain_agent (master_t *self, const char *agent_id, int64_t grace_ms, int64_t now_ms);
/*  Ends a drain: the agent is offered again. 0 if it was not draining.   */
int master_undrain_agent (master_t *self, const char *agent_id, int64_t now_ms);
/*  An operator kills a task (framework_id may be NULL when the task id is
    unique): -1 with ENOENT (no such task), EEXIST (several frameworks
    have one: name the framework), EALREADY (it ended), EAGAIN (its agent
    is unreachable).                                                       */
int master_kill (master_t *self, const char *framework_id, const char *task_id,
                 int64_t grace_ms, int64_t now_ms);
/*  A task's details (as in /state, plus its state history, its agent's
    addresses and command), or NULL with errno as master_kill's lookup. */
json_t *master_task_json (master_t *self, const char *framework_id, const char *task_id,
                          int64_t now_ms);

/*  Which tasks master_tasks_json lists. Every filter is optional: NULL
    strings, state -1 and which TASKS_ANY let every task through.
    offset and limit then cut one page out of the ordered list.          */
typedef enum { TASKS_ANY, TASKS_ACTIVE, TASKS_COMPLETED } master_tasks_which_t;
typedef struct {
    int state;                          /* a cairn_task_state_t, or -1 */
    master_tasks_which_t which;         /* with state -1 */
    const char *framework_id;
    const char *agent_id;
    const char *q;                      /* case-insensitive, in id or name */
    size_t offset;
    size_t limit;
} master_tasks_filter_t;

/*  One page of the tasks (live and completed kept) that pass filter,
    ordered by framework id then task id: {"total", "offset", "limit",
    "tasks": [...]}, each task as in /state. Caller decrefs.             */
json_t *master_tasks_json (master_t *self, const master_tasks_filter_t *filter, int64_t now_ms);

/*  One page of the outstanding offers, oldest first, of one framework
    (framework_id not NULL) and/or on one agent (agent_id not NULL):
    {"total", "offset", "limit", "offers": [{"id", "framework_id",
    "agent_id", "hostname", "resources", "age_s"}]}. NULL with ENOENT for
    an unknown framework or agent. Caller decrefs.                        */
json_t *master_offers_json (master_t *self, const char *framework_id, const char *agent_id,
                            size_t offset, size_t limit, int64_t now_ms);

/*  The operator's event feed: fn gets one JSON line (with its newline) per
    event (TASK_ADDED, TASK_UPDATED, AGENT_ADDED, AGENT_UPDATED,
    AGENT_REMOVED, FRAMEWORK_ADDED, FRAMEWORK_UPDATED, FRAMEWORK_REMOVED)
    as the handlers make changes. NULL stops it (nothing is built then). */
typedef void (master_event_fn) (void *arg, const char *line, size_t size);
void master_set_event_fn (master_t *self, master_event_fn *fn, void *arg);

/*  Tears a framework down at once, as if it unregistered. -1 (ENOENT) for
    an unknown or already removed framework.                              */
int master_teardown (master_t *self, const char *framework_id, int64_t now_ms);

/*  Handles one decoded message from `from`; takes ownership of msg.       */
void master_handle (master_t *self, const route_t *from, proto_msg_t *msg, int64_t now_ms);
/*  master_handle for a message whose sender CURVE authenticated as
    principal (NULL: no CURVE). Agents and frameworks take the principal
    of the connection they registered on.                                 */
void master_handle_as (master_t *self, const route_t *from, const char *principal,
                       proto_msg_t *msg, int64_t now_ms);
/*  The authorization rules (acl.h; borrowed, NULL: allow everything).    */
struct _acl_t;
void master_set_acl (master_t *self, const struct _acl_t *acl);
/*  A framework's principal ("" if none), NULL for an unknown framework.   */
const char *master_framework_principal (master_t *self, const char *framework_id);
/*  Handles a frame the codec refused: an error reply where possible.      */
void master_handle_invalid (master_t *self, const route_t *from, const proto_fault_t *fault);
/*  Liveness pings, failover deadlines: call every ping interval or so.    */
void master_tick (master_t *self, int64_t now_ms);
/*  True when an event asked for an allocation before the next interval.   */
bool master_allocation_pending (master_t *self);
/*  Runs the allocator and queues the offers it makes.                      */
void master_allocate (master_t *self, int64_t now_ms);

/*  Takes the queued outgoing messages (a list, oldest first); the caller
    sends and frees them with outmsg_destroy_list (transport.h).           */
outmsg_t *master_outbox_take (master_t *self);
/*  Tells the master a peer could not be reached (EHOSTUNREACH on send).   */
void master_peer_gone (master_t *self, const route_t *route, int64_t now_ms);

/*  Role weights for the allocator (--weights); -1 for a bad weight.     */
int master_set_weight (master_t *self, const char *role, double weight);

/*  Operator views. /state is built in slices so that a large cluster's
    state never holds the loop up for long: begin takes a snapshot of
    what to list, each step writes up to `budget` entries and returns true
    when the document is complete, take hands over the JSON text.          */
typedef struct _state_job_t state_job_t;
state_job_t *master_state_begin (master_t *self, int64_t now_ms);
bool master_state_step (master_t *self, state_job_t *job, size_t budget);
char *master_state_take (state_job_t **job_p, size_t *size);
void master_state_job_destroy (state_job_t **job_p);
/*  The whole of /state at once, as text or parsed (tests, small use).    */
char *master_state_text (master_t *self, int64_t now_ms, size_t *size);
json_t *master_state_json (master_t *self, int64_t now_ms);
/*  /state/summary: cluster name, counts, resources, frameworks without
    task lists, and the recent samples ("series") for the UI's charts.    */
char *master_summary_text (master_t *self, int64_t now_ms, size_t *size);
/*  /agents: {"agents": [...]}, each agent as in /state (no tasks).        */
char *master_agents_text (master_t *self, int64_t now_ms, size_t *size);
/*  /metrics: Prometheus text format.                                      */
char *master_metrics_text (master_t *self, int64_t now_ms, size_t *size);
json_t *master_health_json (master_t *self, int64_t now_ms);

/*  Counters for logs and metrics.                                          */
typedef struct {
    uint64_t received[256];             /* by message type */
    uint64_t sent[256];
    uint64_t invalid;                   /* frames refused by the codec */
    uint64_t refused;                   /* valid frames refused by a handler */
    uint64_t offers_made;
    uint64_t allocation_runs;
    int64_t last_allocation_us;
    uint64_t allocation_us_total;       /* all runs together */
    uint64_t tasks_launched;            /* accepted into an offer and sent */
} master_counters_t;
master_counters_t *master_counters (master_t *self);

#endif
