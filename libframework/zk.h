/*  zk.h - ZooKeeper for master high availability: standing for election
    (masters) and finding the leading master (agents, frameworks, the CLI).

    A URL zk://HOST:PORT[,HOST:PORT...]/PATH names an ensemble and the
    cluster's root znode. Under it:
      PATH/election/m-SESSION-NNNNNNNNNN   one ephemeral sequential node per
                                           master; the lowest sequence
                                           leads; data: the master's JSON
                                           ({"id", "endpoint", "http", ...})
      PATH/registry/...                    the leader's registry
                                           (master/registry-zk.c)

    ZooKeeper's multi-threaded client calls back on its own thread; here
    those callbacks only note what happened and write a byte to a pipe.
    The owner's loop polls zk_fd and calls zk_update, which does the
    (synchronous, millisecond) reads and writes on the loop's thread: so
    nothing here is shared with ZooKeeper's threads but a few flags under
    a mutex, and no synchronous call is ever made from a callback (which
    would deadlock the client).

    Leadership is a lease, not a flag: a candidate leads while its node is
    the lowest AND it has heard from ZooKeeper (a heartbeat it sent at time
    s succeeded) within two thirds of the session timeout. ZooKeeper
    expires a silent session no earlier than s + timeout, and only then
    can another master be elected, so a leader that stops acting when its
    lease runs out never overlaps a successor, even when it was frozen or
    partitioned and has not heard of the expiry. A short disconnection
    (a ZooKeeper leader change: ~0.5 s) does not end the lease.

    Not thread-safe: one zk_t is used by one thread (its loop), besides a
    candidate's heartbeat thread, which touches only the lease.          */
#ifndef CAIRN_ZK_H_INCLUDED
#define CAIRN_ZK_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _zk_t zk_t;

/*  Whether s is a zk:// URL.                                             */
bool zk_url_is (const char *s);

/*  Splits zk://HOSTS/PATH into a host list for the client ("h:p,h:p")
    and the root path ("/PATH", no trailing slash). Returns 0, or -1 with
    EINVAL and an error_set sentence naming what is wrong.                 */
int zk_url_parse (const char *url, char **hosts, char **path);
/*  Only checks url as zk_url_parse does: 0, or -1 with the same error.   */
int zk_url_check (const char *url);

typedef struct {
    const char *url;                /* zk://... */
    int session_timeout_ms;         /* asked for; the ensemble may clamp it */
    const char *candidate;          /* this master's data: stand for
                                       election; NULL: only follow */
    bool list_candidates;           /* also read every candidate's data */
} zk_options_t;

/*  Starts a session (connecting in the background). Returns NULL with an
    error_set sentence on a bad URL or when the client cannot start.      */
zk_t *zk_new (const zk_options_t *options);

/*  Ends the session (a candidate's node goes at once, so a standby takes
    over in milliseconds) and sets *self_p to NULL. NULL-safe.             */
void zk_destroy (zk_t **self_p);

/*  Readable when zk_update has something to do.                           */
int zk_fd (zk_t *self);

/*  What zk_update saw (a bit mask).                                       */
#define ZK_LEADER_CHANGED  1        /* another leader, or none, or a first */
#define ZK_SESSION_EXPIRED 2        /* the session ended (a new one started) */
#define ZK_CONNECTION      4        /* connected or disconnected */

/*  Handles what happened since the last call: (re)connection, a changed
    election, an expired session (followed by a new session: a candidate
    stands again, with a new node). Cheap when nothing happened. now is
    clock_mono_ms ().                                                     */
int zk_update (zk_t *self, int64_t now);

/*  Housekeeping: wakes zk_update to retry a failed read or write, and
    logs (every 30 s) while no ZooKeeper server answers. Call it a few
    times a second. (A candidate's lease is renewed by a thread of its own
    every sixth of the session timeout, so that a loop busy for a while,
    loading the registry say, does not lose it; a frozen process does.) */
void zk_tick (zk_t *self, int64_t now);

/*  The leader's data (borrowed until the next zk_update), NULL while none
    is known.                                                              */
const char *zk_leader (zk_t *self);
/*  A field of the leader's JSON data (a new string), or NULL.            */
char *zk_leader_field (zk_t *self, const char *key);
/*  For a client following the leader: if the leader's ZeroMQ endpoint
    (tcp://HOST:PORT, from its "address") differs from *endpoint, replaces
    *endpoint (freeing the old one) and returns true.                     */
bool zk_leader_moved (zk_t *self, char **endpoint);
/*  Leader changes seen so far (the first leader counts).                 */
uint64_t zk_leader_changes (zk_t *self);

/*  Whether the session is connected now.                                 */
bool zk_connected (zk_t *self);

/*  A candidate's node, full path (borrowed), or NULL while it has none.  */
const char *zk_own_node (zk_t *self);

/*  Whether this candidate's node is the lowest: it won the election.    */
bool zk_elected (zk_t *self);

/*  Whether it won the election and its lease holds at time now: the only
    condition under which a master may act as the leader.                 */
bool zk_leading (zk_t *self, int64_t now);

/*  When the lease ends (clock_mono_ms), 0 if it never started.          */
int64_t zk_lease_until (zk_t *self);

/*  Milliseconds since the session was last connected (0 when connected). */
int64_t zk_disconnected_ms (zk_t *self, int64_t now);

/*  The session timeout the ensemble granted (or the one asked for, before
    the first connection).                                                */
int zk_session_timeout (zk_t *self);

/*  The candidates' data, in election order (borrowed until the next
    zk_update); with list_candidates only.                                */
size_t zk_candidates (zk_t *self, const char *const **data);

/*  The root path ("/PATH"; borrowed) and the client handle, for the
    registry (zhandle_t *; void here so that users of this header need not
    include zookeeper.h).                                                 */
const char *zk_root (zk_t *self);
void *zk_handle (zk_t *self);

/*  Sessions expired so far (each was replaced by a new one).             */
uint64_t zk_expirations (zk_t *self);

/*  For command-line tools: connects to url, waits up to timeout_ms for a
    leader and returns its data field `key` (a new string), or NULL with
    an error_set sentence (ETIMEDOUT: no ensemble answered or no master
    leads; ENOENT: the leader's data has no such field).                  */
char *zk_find_leader (const char *url, const char *key, int timeout_ms);

#endif
