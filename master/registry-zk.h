/*  registry-zk.h - the registry (registry.h) kept in ZooKeeper, for
    masters run with --zk: one persistent znode per agent,
    ROOT/registry/agents/ID, whose data is the agent's record as JSON.

    The same contract as the SQLite registry: changes are buffered and
    made durable by one commit per loop pass, and the master acts on none
    of them before. A commit is a series of zoo_multi batches (ZooKeeper
    refuses large requests), each of which first checks that this
    master's election node still exists: a master that lost its
    leadership cannot write, whatever it believes. A batch that meets a
    lost connection is retried once the session is connected again (its
    nodes read back first, since a write that reported a lost connection
    may have been applied), for up to two thirds of the session timeout.

    This header is kept free of czmq.h and zookeeper.h (each defines
    zsock_t); registry.c includes it and dispatches to it.               */
#ifndef CAIRN_REGISTRY_ZK_H_INCLUDED
#define CAIRN_REGISTRY_ZK_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#include "registry.h"

typedef struct _zkreg_t zkreg_t;

/*  zh: the session's zhandle_t; root: the cluster's root znode; check:
    the election node that must exist for a write to be applied. Creates
    ROOT/registry/agents if missing. NULL with an error_set sentence.     */
zkreg_t *zkreg_open (void *zh, const char *root, const char *check, int session_timeout_ms);
void zkreg_close (zkreg_t **self_p);
const char *zkreg_path (zkreg_t *self);
int zkreg_load (zkreg_t *self, void (*fn) (const registry_agent_t *agent, void *arg),
                void *arg);
int zkreg_admit_agent (zkreg_t *self, const char *id, const char *hostname,
                       const char *http_address, double now);
int zkreg_mark_gone (zkreg_t *self, const char *id, const char *reason, double now);
int zkreg_forget_agent (zkreg_t *self, const char *id);
int zkreg_drain_agent (zkreg_t *self, const char *id, bool draining, int64_t grace_ms,
                       double since);
int zkreg_commit (zkreg_t *self);
int zkreg_weights (zkreg_t *self, const char *weights, char **stored);
bool zkreg_dirty (zkreg_t *self);
const registry_stats_t *zkreg_stats (zkreg_t *self);

#endif
