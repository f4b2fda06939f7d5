/*  registry.h - the master's durable registry: which agents were admitted
    and which were removed ("gone"), in WORK_DIR/registry.db (SQLite).

    This is the part of the master's state that must survive a restart or
    a power loss; everything else is rebuilt from the peers. Changes are
    buffered in an open transaction and made durable together by
    registry_commit, which the loop calls once per pass before it sends
    the messages that depend on them (group commit: one fsync per pass,
    however many changes). A batch is all or nothing: if anything went
    wrong since the last commit, registry_commit fails and none of the
    batch is recorded.

    Gone is final: a gone agent is never admitted again under the same id.
    Times are wall-clock seconds since the epoch (not the loop's monotonic
    clock), since they must mean something after a restart.

    Not thread-safe: one registry is used by one thread (the loop). Only
    one process can have a registry open: a second registry_open of the
    same file fails with EBUSY while the first is open.                   */
#ifndef CAIRN_REGISTRY_H_INCLUDED
#define CAIRN_REGISTRY_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

/*  The schema version this code writes; registry_open refuses a newer one. */
#define REGISTRY_SCHEMA_VERSION 2

typedef struct _registry_t registry_t;

typedef enum {
    REGISTRY_AGENT_ADMITTED,
    REGISTRY_AGENT_GONE,
} registry_agent_state_t;

typedef struct {
    const char *id;
    const char *hostname;
    const char *http_address;
    registry_agent_state_t state;
    double admitted_at;                 /* first admission */
    double gone_at;                     /* 0 unless gone */
    const char *gone_reason;            /* NULL unless gone */
    bool draining;                      /* an operator drains it */
    int64_t drain_grace_ms;
    double drain_since;
} registry_agent_t;

typedef struct {
    uint64_t commits;                   /* commits that wrote something */
    uint64_t changes;                   /* changes those commits made durable */
    uint64_t pending;                   /* changes not committed yet */
    uint64_t failures;                  /* batches lost: failed commits */
    int64_t last_commit_us;             /* duration of the last commit */
    int64_t commit_us_total;            /* sum over all commits */
} registry_stats_t;

/*  Opens DIR/registry.db, creating it (not DIR) if needed, checks it
    (SQLite's quick_check: time proportional to its size, tens of ms for
    50,000 agents) and takes an exclusive lock on it for as long as it is
    open. Returns NULL with errno and an error_set sentence naming the
    file and the reason, leaving no file behind that was not there:
    EBUSY (another process has it open), EACCES (the file or DIR is not
    writable), ENOENT/ENOTDIR (no DIR), EPROTO (not a Cairn registry,
    corrupt, or a schema version newer than REGISTRY_SCHEMA_VERSION),
    ENOSPC, EIO.                                                           */
registry_t *registry_open (const char *dir);

/*  The registry in ZooKeeper instead (registry-zk.h), for a master that
    leads through --zk: zh is the session's zhandle_t, root the cluster's
    root znode, check this master's election node (a write is applied
    only while it exists). NULL with an error_set sentence.               */
registry_t *registry_open_zk (void *zh, const char *root, const char *check,
                              int session_timeout_ms);

/*  The role weights (--weights text) kept with the registry, in
    ZooKeeper only: with weights, records them (at once, conditional on the
    election node); without, sets *stored to those recorded (a new string)
    or NULL. The SQLite registry keeps none (a single master has its
    flags): *stored NULL. 0, or -1 with an error_set sentence.            */
int registry_weights (registry_t *self, const char *weights, char **stored);

/*  Commits what is pending (logging an error if that fails), closes the
    file and sets *self_p to NULL. NULL-safe and idempotent.               */
void registry_close (registry_t **self_p);

/*  The file's path, for messages (borrowed).                              */
const char *registry_path (registry_t *self);

/*  Calls fn for every recorded agent, in id order; the strings are
    borrowed for the duration of the call. Call it after registry_open,
    before recording changes. Returns the number of agents, or -1 with
    errno and an error_set sentence (fn may have been called for some).   */
int registry_load (registry_t *self,
                   void (*fn) (const registry_agent_t *agent, void *arg), void *arg);

/*  Record changes, buffered until registry_commit. Each returns 0 when
    the change is recorded, or when there was nothing to change; -1 with
    errno and an error_set sentence, changing nothing, when it is refused
    or fails.

    registry_admit_agent: records a new admitted agent, or updates the
    hostname and HTTP address of an admitted one (keeping admitted_at).
    EPERM if the agent is gone (gone is final).                            */
int registry_admit_agent (registry_t *self, const char *id, const char *hostname,
                          const char *http_address, double now);
/*  Marks an admitted agent gone, with a reason for people. An agent that
    is already gone keeps its first gone_at and reason. ENOENT if unknown. */
int registry_mark_gone (registry_t *self, const char *id, const char *reason, double now);
/*  Deletes a gone agent's record, for pruning very old ones (its id could
    then be admitted again). ENOENT if unknown, EBUSY if still admitted.  */
int registry_forget_agent (registry_t *self, const char *id);
/*  Records that an admitted agent drains (with its grace, since `since`)
    or no longer does. ENOENT for an unknown agent, EPERM for a gone one. */
int registry_drain_agent (registry_t *self, const char *id, bool draining, int64_t grace_ms,
                          double since);

/*  Makes the changes recorded since the last commit durable: one
    transaction, one fdatasync (a few more in the rare commit that also
    checkpoints the WAL), whatever the number of changes. Returns the number of changes committed (0 if
    none were pending: then it writes nothing), or -1 with errno and an
    error_set sentence if the batch could not be made durable; then none
    of it is recorded and the caller must not act on it (the master
    should exit: on restart it loads what was committed).                 */
int registry_commit (registry_t *self);

/*  True if registry_commit has something to do (changes, or a lost batch
    to report).                                                            */
bool registry_dirty (registry_t *self);

/*  Counters for logs and metrics (borrowed; valid until close).           */
const registry_stats_t *registry_stats (registry_t *self);

#endif
