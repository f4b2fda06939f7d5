/*  agent.h - the agent's state and its message handlers.

    Handlers are plain functions from (state, decoded message, time) to
    state changes, messages for the master queued in an outbox, and calls
    into the containerizer. main.c owns the socket and the loop.          */
#ifndef CAIRN_AGENT_H_INCLUDED
#define CAIRN_AGENT_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#include <czmq.h>
#include <jansson.h>

#include "cairn.h"
#include "isolator.h"
#include "proto.h"
#include "transport.h"

typedef struct {
    const char *work_dir;
    const char *hostname;
    const char *http_address;           /* "[https://]IP:PORT" told to the master */
    const char *shim_path;
    bool shim_launcher;                 /* shims as forks of a launcher (launcher.h) */
    const char *fetcher_path;           /* cairn-fetcher */
    uint64_t fetch_cache_bytes;         /* the per-agent URI cache; 0: none */
    const cairn_resources_t *resources;
    const proto_kv_t *attributes;
    int64_t default_kill_grace_ms;
    int64_t max_ping_misses;            /* silent master -> re-register */
    int64_t usage_interval_ms;          /* usage samples; 0: none */
    int64_t disk_check_interval_ms;     /* sandbox size checks; 0: none */
    int64_t gc_delay_ms;                /* ended tasks' sandboxes kept this long */
    double gc_disk_headroom;            /* ... less as the disk fills */
    uint64_t max_log_bytes;             /* rotate stdout/stderr; 0: never */
    bool switch_user;                   /* run tasks as the user they name */
    const char *default_user;           /* as root: tasks naming no user (or
                                           with switch_user off) run as this */
    const char *namespaces;             /* for tasks: "", "pid", "mount", "pid,mount" */
} agent_config_t;

typedef struct _agent_t agent_t;

/*  NULL + error_set when the shim cannot be run, the work dir is not
    usable, or its checkpoint cannot be opened (another agent uses it).   */
agent_t *agent_new (const agent_config_t *config, zloop_t *loop, isolator_t *isolator);
/*  Recovers what an earlier agent process on this work dir left: its id,
    its tasks (re-attaching to the shims that still run, reading how the
    others ended) and their unacknowledged updates. -1 with error_set
    when it cannot, e.g. the resources changed since (the message says
    what to do).                                                           */
int agent_recover (agent_t *self);
/*  Makes the checkpoint changes of this loop pass durable (one commit):
    call before sending the outbox. -1 with error_set: the agent must
    stop, it can no longer promise to recover what it does.               */
int agent_commit (agent_t *self);
/*  Frees the agent; with kill_tasks its tasks are killed first.           */
void agent_destroy (agent_t **self_p, bool kill_tasks);

/*  Handles one decoded message from the master; takes ownership.         */
void agent_handle (agent_t *self, proto_msg_t *msg, int64_t now_ms);
void agent_handle_invalid (agent_t *self, const char *why);
/*  Registration retries, status update retries, kill escalation.         */
void agent_tick (agent_t *self, int64_t now_ms);
/*  True when the master has been silent too long: the caller makes a new
    connection and calls agent_reconnected.                               */
bool agent_master_lost (agent_t *self, int64_t now_ms);
void agent_reconnected (agent_t *self, int64_t now_ms);
/*  True when the master told the agent to shut down.                      */
bool agent_shutdown_requested (agent_t *self);

/*  The queued messages for the master, oldest first; the caller sends
    and frees them with outmsg_destroy_list (transport.h).                 */
outmsg_t *agent_outbox_take (agent_t *self);

const char *agent_id (agent_t *self);
json_t *agent_state_json (agent_t *self);
/*  /metrics: Prometheus text format; caller frees.                       */
char *agent_metrics_text (agent_t *self, size_t *size);

/*  For the files endpoint: the sandbox directory of a task ("" when the
    task is unknown); borrowed.                                            */
const char *agent_task_sandbox (agent_t *self, const char *framework_id, const char *task_id);

#endif
