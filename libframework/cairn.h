/*  cairn.h - the Cairn framework library (libcairn)

    A scheduler ("framework") links libcairn, fills a cairn_callbacks_t,
    creates a driver with its framework info and starts it. The master
    offers it resources; it answers each offer by launching tasks on it
    (cairn_driver_accept) or declining it (cairn_driver_decline), and it
    hears about its tasks through status updates.

    Conventions used throughout this header:
    - Objects are opaque. cairn_x_new returns an owned object or NULL;
      cairn_x_destroy (&x) is NULL-safe and sets the pointer to NULL.
    - A returned `const char *` or `const cairn_x_t *` is borrowed: it
      stays valid as long as the object it came from. A returned `char *`
      belongs to the caller (free it with free()).
    - Calls that can fail return 0 on success and -1 on failure with errno
      set; cairn_strerror_last() then gives a sentence a person can read.
    - Objects passed into a callback are borrowed for the callback's
      duration; copy what you keep (cairn_offer_dup, cairn_status_dup).
    - Nothing from ZeroMQ, CZMQ, msgpack or jansson appears here.

    Threading: a driver runs its own thread. Callbacks for one driver run
    one at a time on that thread, unless the program asked for the
    dispatch mode (cairn_driver_fd + cairn_driver_dispatch), in which case
    they run on the thread that calls cairn_driver_dispatch. Every
    cairn_driver_* call is safe from any thread, including from inside a
    callback; calls are queued and never block on the network.
*/
#ifndef CAIRN_H_INCLUDED
#define CAIRN_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CAIRN_VERSION_MAJOR 0
#define CAIRN_VERSION_MINOR 1
#define CAIRN_VERSION_PATCH 0

/*  The library's version as "MAJOR.MINOR.PATCH" (borrowed).              */
const char *cairn_version (void);

/*  A sentence describing the last failure of a cairn_ call on this
    thread, or "" if none (borrowed, thread-local).                       */
const char *cairn_strerror_last (void);

/*  ------------------------------------------------------------------ */
/*  Task states and reasons (Mesos's names, on the wire and in JSON)   */
/*  ------------------------------------------------------------------ */

typedef enum {
    CAIRN_TASK_STAGING = 0,
    CAIRN_TASK_STARTING,
    CAIRN_TASK_RUNNING,
    CAIRN_TASK_KILLING,
    CAIRN_TASK_FINISHED,
    CAIRN_TASK_FAILED,
    CAIRN_TASK_KILLED,
    CAIRN_TASK_ERROR,
    CAIRN_TASK_LOST,
    CAIRN_TASK_DROPPED,
    CAIRN_TASK_UNREACHABLE,
    CAIRN_TASK_GONE,
    CAIRN_TASK_UNKNOWN,
    CAIRN_TASK_STATE_COUNT
} cairn_task_state_t;

typedef enum {
    CAIRN_REASON_NONE = 0,
    CAIRN_REASON_COMMAND_EXECUTOR_FAILED,
    CAIRN_REASON_CONTAINER_LAUNCH_FAILED,
    CAIRN_REASON_CONTAINER_LIMITATION_MEMORY,
    CAIRN_REASON_CONTAINER_LIMITATION_DISK,
    CAIRN_REASON_AGENT_REMOVED,
    CAIRN_REASON_AGENT_DISCONNECTED,
    CAIRN_REASON_AGENT_RESTARTED,
    CAIRN_REASON_AGENT_UNKNOWN,
    CAIRN_REASON_FRAMEWORK_REMOVED,
    CAIRN_REASON_INVALID_OFFERS,
    CAIRN_REASON_TASK_INVALID,
    CAIRN_REASON_TASK_UNKNOWN,
    CAIRN_REASON_TASK_KILLED_DURING_LAUNCH,
    CAIRN_REASON_HEALTH_CHECK_FAILED,
    CAIRN_REASON_KILLED_BY_SCHEDULER,
    CAIRN_REASON_RECONCILIATION,
    CAIRN_REASON_FETCH_FAILED,
    CAIRN_REASON_COUNT
} cairn_reason_t;

/*  "TASK_RUNNING" etc. Returns NULL for an out-of-range value.            */
const char *cairn_task_state_name (cairn_task_state_t state);
/*  Parses a state name; returns -1 (errno EINVAL) if it names none.       */
int cairn_task_state_parse (const char *name, cairn_task_state_t *state);
/*  True for FINISHED, FAILED, KILLED, ERROR, LOST, DROPPED, GONE.         */
bool cairn_task_state_is_terminal (cairn_task_state_t state);
/*  "REASON_CONTAINER_LIMITATION_MEMORY" etc.; NULL when out of range.     */
const char *cairn_reason_name (cairn_reason_t reason);
int cairn_reason_parse (const char *name, cairn_reason_t *reason);

/*  ------------------------------------------------------------------ */
/*  Resources: cpus, mem (MiB), disk (MiB) and port ranges             */
/*  ------------------------------------------------------------------ */

/*  cpus are kept exactly in thousandths ("milli-cpus"): 0.1 + 0.2 is
    0.3, and a cpus value with more than three decimals is rejected.
    The text form is "cpus:2;mem:1024;disk:100;ports:[31000-31009,31500-31500]";
    any item may be left out (it is zero or empty).                       */
typedef struct _cairn_resources_t cairn_resources_t;

/*  An empty set of resources.                                             */
cairn_resources_t *cairn_resources_new (void);
/*  Parses the text form; NULL (errno EINVAL, reason in
    cairn_strerror_last) when the text is malformed.                      */
cairn_resources_t *cairn_resources_parse (const char *text);
cairn_resources_t *cairn_resources_dup (const cairn_resources_t *self);
void cairn_resources_destroy (cairn_resources_t **self_p);
/*  The text form, in canonical order; caller frees.                      */
char *cairn_resources_format (const cairn_resources_t *self);

double cairn_resources_cpus (const cairn_resources_t *self);
int64_t cairn_resources_millicpus (const cairn_resources_t *self);
uint64_t cairn_resources_mem (const cairn_resources_t *self);   /* MiB */
uint64_t cairn_resources_disk (const cairn_resources_t *self);  /* MiB */
/*  Number of ports across all ranges.                                     */
uint64_t cairn_resources_port_count (const cairn_resources_t *self);
/*  The port ranges: *count gets how many; returns a borrowed array of
    2 * count values (begin, end inclusive), sorted and disjoint.          */
const uint16_t *cairn_resources_port_ranges (const cairn_resources_t *self, size_t *count);

/*  Setters return -1 (EINVAL) for negative or out-of-range values.        */
int cairn_resources_set_cpus (cairn_resources_t *self, double cpus);
int cairn_resources_set_millicpus (cairn_resources_t *self, int64_t millicpus);
int cairn_resources_set_mem (cairn_resources_t *self, uint64_t mib);
int cairn_resources_set_disk (cairn_resources_t *self, uint64_t mib);
/*  Adds the ports begin..end (inclusive), merging with what is there.     */
int cairn_resources_add_ports (cairn_resources_t *self, uint16_t begin, uint16_t end);

/*  self += other.                                                         */
int cairn_resources_add (cairn_resources_t *self, const cairn_resources_t *other);
/*  self -= other; -1 (ERANGE) and self unchanged if other is not
    contained in self.                                                     */
int cairn_resources_subtract (cairn_resources_t *self, const cairn_resources_t *other);
/*  True if every amount and port of other is in self.                     */
bool cairn_resources_contains (const cairn_resources_t *self, const cairn_resources_t *other);
bool cairn_resources_equal (const cairn_resources_t *a, const cairn_resources_t *b);
bool cairn_resources_is_empty (const cairn_resources_t *self);

/*  Takes `count` ports from self's ranges (lowest first) into *ports
    (caller's array of at least count entries) and removes them from
    self. -1 (ERANGE) if self has fewer.                                   */
int cairn_resources_take_ports (cairn_resources_t *self, size_t count, uint16_t *ports);

/*  ------------------------------------------------------------------ */
/*  Framework info                                                      */
/*  ------------------------------------------------------------------ */

typedef struct _cairn_framework_info_t cairn_framework_info_t;

/*  A framework called `name`, role "*", failover timeout 0.              */
cairn_framework_info_t *cairn_framework_info_new (const char *name);
void cairn_framework_info_destroy (cairn_framework_info_t **self_p);
/*  The framework id to re-register with (after the scheduler itself
    restarted); NULL or "" registers a new framework.                     */
int cairn_framework_info_set_id (cairn_framework_info_t *self, const char *id);
int cairn_framework_info_set_role (cairn_framework_info_t *self, const char *role);
int cairn_framework_info_set_principal (cairn_framework_info_t *self, const char *principal);
/*  The user tasks run as by default ("" = the agent's user).              */
int cairn_framework_info_set_user (cairn_framework_info_t *self, const char *user);
int cairn_framework_info_set_hostname (cairn_framework_info_t *self, const char *hostname);
/*  How long the master keeps the framework's tasks running after it
    disconnects, waiting for it to come back (seconds, >= 0).             */
int cairn_framework_info_set_failover_timeout (cairn_framework_info_t *self, double seconds);
/*  Partition-aware frameworks see TASK_UNREACHABLE instead of TASK_LOST
    when an agent stops answering.                                         */
int cairn_framework_info_set_partition_aware (cairn_framework_info_t *self, bool aware);
int cairn_framework_info_add_label (cairn_framework_info_t *self, const char *key, const char *value);
const char *cairn_framework_info_id (const cairn_framework_info_t *self);
const char *cairn_framework_info_name (const cairn_framework_info_t *self);
const char *cairn_framework_info_role (const cairn_framework_info_t *self);

/*  ------------------------------------------------------------------ */
/*  Offers (received in the offers callback)                            */
/*  ------------------------------------------------------------------ */

typedef struct _cairn_offer_t cairn_offer_t;

const char *cairn_offer_id (const cairn_offer_t *self);
const char *cairn_offer_agent_id (const cairn_offer_t *self);
const char *cairn_offer_hostname (const cairn_offer_t *self);
const cairn_resources_t *cairn_offer_resources (const cairn_offer_t *self);
/*  The agent attribute `name` ("rack", "zone", ...), or NULL.             */
const char *cairn_offer_attribute (const cairn_offer_t *self, const char *name);
/*  Attribute names in order: returns NULL past the end.                   */
const char *cairn_offer_attribute_name (const cairn_offer_t *self, size_t index);
cairn_offer_t *cairn_offer_dup (const cairn_offer_t *self);
void cairn_offer_destroy (cairn_offer_t **self_p);

/*  ------------------------------------------------------------------ */
/*  Tasks (built by the scheduler, passed to cairn_driver_accept)       */
/*  ------------------------------------------------------------------ */

typedef struct _cairn_task_t cairn_task_t;

typedef enum {
    CAIRN_HEALTH_NONE = 0,
    CAIRN_HEALTH_COMMAND,
    CAIRN_HEALTH_HTTP,
    CAIRN_HEALTH_TCP
} cairn_health_type_t;

/*  A task with the framework-unique `id` (1..128 characters of
    [A-Za-z0-9._:-]) and no command yet.                                  */
cairn_task_t *cairn_task_new (const char *id);
void cairn_task_destroy (cairn_task_t **self_p);
cairn_task_t *cairn_task_dup (const cairn_task_t *self);
int cairn_task_set_name (cairn_task_t *self, const char *name);
/*  The command, run with /bin/sh -c.                                       */
int cairn_task_set_command (cairn_task_t *self, const char *shell_command);
/*  The command as an argument vector (argv[0] is looked up in PATH);
    argv is copied and must end with NULL.                                 */
int cairn_task_set_argv (cairn_task_t *self, const char *const *argv);
int cairn_task_set_env (cairn_task_t *self, const char *name, const char *value);
/*  The task's resources (copied). Ports are chosen from the offer when
    the task asks for a count with cairn_task_set_port_count; naming
    exact ports here is also allowed.                                      */
int cairn_task_set_resources (cairn_task_t *self, const cairn_resources_t *resources);
/*  Asks for `count` host ports from the offer, passed as PORT0...         */
int cairn_task_set_port_count (cairn_task_t *self, unsigned count);
/*  A URI to fetch into the sandbox before the task starts.                */
int cairn_task_add_uri (cairn_task_t *self, const char *uri, bool extract, bool executable);
int cairn_task_set_user (cairn_task_t *self, const char *user);
int cairn_task_set_kill_grace (cairn_task_t *self, double seconds);
int cairn_task_add_label (cairn_task_t *self, const char *key, const char *value);
/*  A health check run on the agent. For COMMAND, `target` is the shell
    command; for HTTP it is the path ("/health"); for TCP it is ignored.   */
int cairn_task_set_health_check (cairn_task_t *self, cairn_health_type_t type,
                                 const char *target, unsigned port_index,
                                 double delay_s, double interval_s,
                                 double timeout_s, double grace_s,
                                 unsigned max_failures);
const char *cairn_task_id (const cairn_task_t *self);
const cairn_resources_t *cairn_task_resources (const cairn_task_t *self);

/*  ------------------------------------------------------------------ */
/*  Status updates                                                      */
/*  ------------------------------------------------------------------ */

typedef struct _cairn_status_t cairn_status_t;

const char *cairn_status_task_id (const cairn_status_t *self);
const char *cairn_status_agent_id (const cairn_status_t *self);
cairn_task_state_t cairn_status_state (const cairn_status_t *self);
cairn_reason_t cairn_status_reason (const cairn_status_t *self);
/*  A sentence for people ("exited with status 3", ...); never NULL.      */
const char *cairn_status_message (const cairn_status_t *self);
/*  The exit status for FINISHED/FAILED tasks that exited, else -1.        */
int cairn_status_exit_code (const cairn_status_t *self);
/*  The signal that ended the task, or 0.                                  */
int cairn_status_signal (const cairn_status_t *self);
/*  Health: 1 healthy, 0 unhealthy, -1 the task has no health check.       */
int cairn_status_healthy (const cairn_status_t *self);
/*  When the agent saw the change (seconds since the epoch).               */
double cairn_status_timestamp (const cairn_status_t *self);
/*  The update's id, used to acknowledge it.                               */
const char *cairn_status_uuid (const cairn_status_t *self);
cairn_status_t *cairn_status_dup (const cairn_status_t *self);
void cairn_status_destroy (cairn_status_t **self_p);

/*  ------------------------------------------------------------------ */
/*  The scheduler driver                                                */
/*  ------------------------------------------------------------------ */

typedef struct _cairn_driver_t cairn_driver_t;

/*  Callbacks; any may be NULL. `arg` is the pointer given to
    cairn_driver_new. Objects passed in are borrowed for the call.        */
typedef struct {
    /*  The master accepted the framework; framework_id is its id.
        master_http is "HOST:PORT" of the master's HTTP endpoint
        ("https://HOST:PORT" when it serves HTTPS).                        */
    void (*registered) (cairn_driver_t *driver, const char *framework_id,
                        const char *master_http, void *arg);
    /*  The framework re-registered (after a master restart, a network
        blip, or a scheduler restart with cairn_framework_info_set_id).    */
    void (*reregistered) (cairn_driver_t *driver, const char *master_http, void *arg);
    /*  The connection to the master was lost; the driver reconnects.      */
    void (*disconnected) (cairn_driver_t *driver, void *arg);
    void (*offers) (cairn_driver_t *driver, cairn_offer_t *const *offers,
                    size_t count, void *arg);
    void (*offer_rescinded) (cairn_driver_t *driver, const char *offer_id, void *arg);
    /*  A task's state changed. Also for tasks the driver could not send:
        TASK_ERROR for a task asking for more ports than its offers have,
        TASK_DROPPED for one accepted while the driver was not registered
        (their uuid is "": nothing to acknowledge).                        */
    void (*status) (cairn_driver_t *driver, const cairn_status_t *status, void *arg);
    void (*agent_lost) (cairn_driver_t *driver, const char *agent_id, void *arg);
    /*  An unrecoverable error (the master refused the framework, or an
        incompatible protocol version); the driver has stopped.           */
    void (*error) (cairn_driver_t *driver, const char *message, void *arg);
} cairn_callbacks_t;

typedef enum {
    CAIRN_DRIVER_NOT_STARTED = 0,
    CAIRN_DRIVER_RUNNING,
    CAIRN_DRIVER_STOPPED,
    CAIRN_DRIVER_ABORTED
} cairn_driver_status_t;

/*  A driver for the framework `info` (copied) talking to the master at
    "HOST:PORT", or to whichever master leads among masters run with --zk,
    given "zk://HOST:PORT,.../PATH" (their ZooKeeper ensemble and path):
    the driver then follows the leader and registers again with each new
    one (the reregistered callback). NULL (errno EINVAL) for a malformed
    address.                                                               */
cairn_driver_t *cairn_driver_new (const cairn_framework_info_t *info,
                                  const cairn_callbacks_t *callbacks,
                                  const char *master, void *arg);
/*  Stops the driver if it runs (with failover) and frees it. Not from one
    of the driver's own callbacks.                                         */
void cairn_driver_destroy (cairn_driver_t **self_p);

/*  Connects and registers; callbacks start arriving.                      */
int cairn_driver_start (cairn_driver_t *self);
/*  Stops the driver. Without failover the framework is torn down: its
    tasks are killed. With failover it only disconnects, and its tasks
    keep running for its failover timeout. The goodbye to the master is
    sent (given up to 2 s to leave) before cairn_driver_join returns;
    the master acts on it when it arrives, so its /state may show the
    framework for a moment after the program has exited.                 */
int cairn_driver_stop (cairn_driver_t *self, bool failover);
/*  Stops callbacks at once without telling the master (as a crash would);
    join returns CAIRN_DRIVER_ABORTED.                                     */
int cairn_driver_abort (cairn_driver_t *self);
/*  Waits until the driver is stopped or aborted; returns that status.
    Called from one of the driver's own callbacks it cannot wait for
    itself: it returns the current status at once, with errno EDEADLK.     */
cairn_driver_status_t cairn_driver_join (cairn_driver_t *self);
/*  The driver's status now, without waiting. STOPPED only once the I/O
    and the callback threads have ended, as join waits for: inside a
    callback on the driver's own thread it is never STOPPED.               */
cairn_driver_status_t cairn_driver_status (cairn_driver_t *self);
/*  start + join.                                                          */
cairn_driver_status_t cairn_driver_run (cairn_driver_t *self);

/*  Launches `task_count` tasks on the offers `offer_ids` (all on one
    agent); tasks are copied. What the tasks do not use returns to the
    pool and is not offered again to this framework for refuse_seconds
    (negative: the default of 5 s).                                        */
int cairn_driver_accept (cairn_driver_t *self,
                         const char *const *offer_ids, size_t offer_count,
                         cairn_task_t *const *tasks, size_t task_count,
                         double refuse_seconds);
/*  Declines an offer; its agent is not offered again to this framework
    for refuse_seconds (negative: the default of 5 s).                     */
int cairn_driver_decline (cairn_driver_t *self, const char *offer_id, double refuse_seconds);
int cairn_driver_kill (cairn_driver_t *self, const char *task_id);
/*  Clears all decline filters and resumes offers after a suppress.        */
int cairn_driver_revive (cairn_driver_t *self);
/*  Stops offers until cairn_driver_revive.                                */
int cairn_driver_suppress (cairn_driver_t *self);
/*  Talks to the master over CURVE (encrypted, authenticated): the
    master's public key file and this framework's key pair (files from
    `cairn keygen`: NAME.key and NAME.key_secret; either name works for
    cert_file). Call before start. Without this call, the driver uses
    $CAIRN_MASTER_PUBLIC_KEY and $CAIRN_CURVE_CERT when both are set
    (cairn_driver_new fails if they do not load). Returns 0, or -1 with
    errno (EALREADY: started; EINVAL or ENOENT: a file that does not
    load, cairn_strerror_last says which).                                */
int cairn_driver_set_credentials (cairn_driver_t *self, const char *master_public_key,
                                  const char *cert_file);
/*  Turns off automatic acknowledgements (call before start); the
    scheduler must then call cairn_driver_acknowledge for every update.   */
int cairn_driver_set_explicit_ack (cairn_driver_t *self, bool explicit_ack);
int cairn_driver_acknowledge (cairn_driver_t *self, const cairn_status_t *status);
/*  Asks for the latest state of the given tasks (count 0: all of the
    framework's tasks); answers arrive as status updates with
    CAIRN_REASON_RECONCILIATION.                                           */
int cairn_driver_reconcile (cairn_driver_t *self, const char *const *task_ids, size_t count);
/*  Replaces the framework info (name, role, labels, failover timeout).    */
int cairn_driver_update_framework (cairn_driver_t *self, const cairn_framework_info_t *info);

/*  The framework id once registered, else NULL (caller frees).            */
char *cairn_driver_framework_id (cairn_driver_t *self);

/*  Dispatch mode, for programs with their own event loop: call before
    start. Returns a file descriptor that becomes readable when callbacks
    are pending; cairn_driver_dispatch runs them on the calling thread.   */
int cairn_driver_fd (cairn_driver_t *self);
/*  Runs all pending callbacks; returns how many ran, or -1 (EBUSY if
    another thread, or the calling callback, is dispatching already).     */
int cairn_driver_dispatch (cairn_driver_t *self);

#ifdef __cplusplus
}
#endif

#endif
