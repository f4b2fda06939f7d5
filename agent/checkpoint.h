/*  checkpoint.h - what the agent needs to recover its tasks after a crash
    or `kill -9` and a restart on the same work directory, in
    WORK_DIR/agent.db (SQLite, through store.h).

    It holds a few named values (meta: the agent id, the boot id, the
    resources and hostname the agent registered with), every task the
    agent is responsible for (its launch as the master sent it, where it
    runs, which shim supervises it, the latest state reported, whether a
    kill was asked for), and each task's status updates that the
    framework has not acknowledged yet, in order.

    Changes are buffered in an open transaction and made durable together
    by checkpoint_commit, which the agent's loop calls once per pass
    before it sends the messages and starts the work that depend on them
    (group commit: one fsync per pass, however many changes). A batch is
    all or nothing: if anything went wrong since the last commit,
    checkpoint_commit fails and none of the batch is recorded.

    Launches and updates are stored as the wire codec encodes them
    (proto.h): a RUN_TASKS message with one task, a STATUS_UPDATE.

    Not thread-safe: one checkpoint is used by one thread (the loop). Only
    one process can have it open: a second checkpoint_open of the same
    work directory fails with EBUSY while the first is open.              */
#ifndef CAIRN_CHECKPOINT_H_INCLUDED
#define CAIRN_CHECKPOINT_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cairn.h"
#include "proto.h"

/*  The schema version this code writes; checkpoint_open refuses a newer
    one.                                                                   */
#define CHECKPOINT_SCHEMA_VERSION 1

/*  Meta values the agent keeps (text).                                    */
#define CHECKPOINT_META_AGENT_ID  "agent_id"   /* given by the master */
#define CHECKPOINT_META_BOOT_ID   "boot_id"    /* checkpoint_boot_id at start */
#define CHECKPOINT_META_RESOURCES "resources"  /* as registered, cairn_resources_format */
#define CHECKPOINT_META_HOSTNAME  "hostname"   /* as registered */

/*  A boot id: 36 characters and a NUL.                                    */
#define CHECKPOINT_BOOT_ID_SIZE 37

typedef struct _checkpoint_t checkpoint_t;

/*  One task. Strings and structs are borrowed (for put: during the call;
    for load: during the callback).                                        */
typedef struct {
    const char *key;                    /* "fw/task": set by checkpoint_load;
                                           put derives it from the ids */
    const proto_framework_info_t *framework;    /* with its id */
    const proto_task_t *task;
    const char *run_id;
    const char *sandbox;
    const char *run_dir;
    pid_t shim_pid;                     /* 0: no shim (not spawned, or ended) */
    uint64_t shim_start;                /* the shim's start time
                                           (checkpoint_proc_start_time) */
    pid_t task_pid;                     /* 0: not started (or not known yet) */
    cairn_task_state_t state;           /* the latest state reported */
    bool kill_requested;
} checkpoint_task_t;

typedef struct {
    uint64_t commits;                   /* commits that wrote something */
    uint64_t changes;                   /* changes those commits made durable */
    uint64_t pending;                   /* changes not committed yet */
    uint64_t failures;                  /* batches lost: failed commits */
    int64_t last_commit_us;             /* duration of the last commit */
    int64_t commit_us_total;            /* sum over all commits */
} checkpoint_stats_t;

/*  Opens WORK_DIR/agent.db, creating it (not WORK_DIR) if needed, checks
    it and takes an exclusive lock on it for as long as it is open.
    Returns NULL with errno and an error_set sentence naming the file and
    the reason, leaving no file behind that was not there: EBUSY (another
    cairn-agent has it open), EACCES (not writable), ENOENT/ENOTDIR (no
    WORK_DIR), EPROTO (not an agent checkpoint, corrupt, or a schema
    version newer than CHECKPOINT_SCHEMA_VERSION), ENOSPC, EIO.           */
checkpoint_t *checkpoint_open (const char *work_dir);

/*  Commits what is pending (logging an error if that fails), closes the
    file and sets *self_p to NULL. NULL-safe and idempotent.               */
void checkpoint_close (checkpoint_t **self_p);

/*  The file's path, for messages (borrowed).                              */
const char *checkpoint_path (checkpoint_t *self);

/*  Record changes, buffered until checkpoint_commit. Each returns 0 when
    the change is recorded, or when there was nothing to change; -1 with
    errno and an error_set sentence, changing nothing, when it is refused
    or fails (EIO, ENOSPC...: see checkpoint_commit).

    checkpoint_set_meta: sets a named value.                               */
int checkpoint_set_meta (checkpoint_t *self, const char *name, const char *value);
/*  The named value (the caller's to free), or NULL with errno ENOENT if it
    was never set (or another errno and an error_set sentence).           */
char *checkpoint_get_meta (checkpoint_t *self, const char *name);

/*  Records a task, or replaces what is recorded about it (its updates
    stay). EINVAL if the framework has no id or the launch does not
    encode.                                                                */
int checkpoint_put_task (checkpoint_t *self, const checkpoint_task_t *task);
/*  Forgets a task and its updates. ENOENT if unknown.                     */
int checkpoint_remove_task (checkpoint_t *self, const char *key);

/*  Appends a status update to a task's stream. seq orders the stream
    (the caller's counter, increasing per task). ENOENT if the task is
    unknown, EEXIST if it has an update with this seq or uuid, EINVAL if
    the status is about another task or does not encode.                  */
int checkpoint_append_update (checkpoint_t *self, const char *key, int64_t seq,
                              const proto_status_t *status);
/*  Forgets an acknowledged update. ENOENT if the task has none with this
    uuid.                                                                  */
int checkpoint_remove_update (checkpoint_t *self, const char *key, const char *uuid);

/*  Calls task_fn for every task, in key order, then update_fn for every
    update, by key then seq (so each after its task). What they get is
    borrowed for the duration of the call. Call it after checkpoint_open,
    before recording changes. Returns the number of tasks, or -1 with
    errno and an error_set sentence (EPROTO for a record that does not
    decode; the callbacks may have been called for some).                 */
typedef void (checkpoint_task_fn) (const checkpoint_task_t *task, void *arg);
typedef void (checkpoint_update_fn) (const char *key, int64_t seq, const proto_status_t *status,
                                     void *arg);
int checkpoint_load (checkpoint_t *self, checkpoint_task_fn *task_fn,
                     checkpoint_update_fn *update_fn, void *arg);

/*  Makes the changes recorded since the last commit durable: one
    transaction, one fdatasync (a few more in the rare commit that also
    checkpoints SQLite's WAL), whatever the number of changes. Returns the
    number of changes committed (0 if none were pending: then it writes
    nothing), or -1 with errno and an error_set sentence if the batch
    could not be made durable; then none of it is recorded and the caller
    must not act on it (the agent should exit: on restart it recovers
    from what was committed).                                              */
int checkpoint_commit (checkpoint_t *self);

/*  True if checkpoint_commit has something to do (changes, or a lost
    batch to report).                                                      */
bool checkpoint_dirty (checkpoint_t *self);

/*  Counters for logs and metrics (borrowed; refreshed by each call).     */
const checkpoint_stats_t *checkpoint_stats (checkpoint_t *self);

/*  Process identity, for recovery: a pid alone may name another process
    by now (pids are reused), a pid and its start time do not.

    The start time of process pid (field 22 of /proc/PID/stat: clock ticks
    after boot). 0, or -1 with errno ESRCH (no such process) or EIO and
    an error_set sentence.                                                 */
int checkpoint_proc_start_time (pid_t pid, uint64_t *start);
/*  1 if pid is alive (not a zombie) and started at start, 0 if not (gone,
    a zombie, or another process with a reused pid), -1 with errno and an
    error_set sentence if /proc cannot tell.                               */
int checkpoint_same_process (pid_t pid, uint64_t start);
/*  This boot's id (/proc/sys/kernel/random/boot_id, 36 characters): it
    changes when the machine reboots, which ends every shim. 0, or -1 with
    errno and an error_set sentence.                                       */
int checkpoint_boot_id (char id[CHECKPOINT_BOOT_ID_SIZE]);

#endif
