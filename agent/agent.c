/*  agent.c - the agent's tasks, their status streams, and its session
    with the master.

    Each task has an ordered stream of status updates. Only the head of
    the stream is in flight: it is sent (and resent with backoff) until
    the framework acknowledges it through the master, then the next one
    goes. A terminal task leaves the agent's books once its last update
    is acknowledged. While the agent is not registered nothing is sent;
    every head is sent again after (re-)registration.                     */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "agent.h"
#include "containerizer.h"
#include "error.h"
#include "ids.h"
#include "log.h"
#include "resources.h"
#include "transport.h"
#include "util.h"

#define REGISTER_BACKOFF_MIN_MS 250
#define REGISTER_BACKOFF_MAX_MS 8000
#define UPDATE_RETRY_MIN_MS     2000
#define UPDATE_RETRY_MAX_MS     60000
#define MAX_COMPLETED_SANDBOXES 1000

typedef struct update {
    proto_status_t status;
    struct update *next;
} update_t;

typedef struct {
    char *key;                          /* "fw/task": also the container id */
    char *framework_id;
    proto_framework_info_t framework;
    proto_task_t info;
    char *sandbox;
    char *run_dir;
    cairn_task_state_t state;           /* the latest we reported */
    bool container;                     /* the containerizer has it */
    bool kill_requested;
    int64_t kill_deadline;              /* SIGKILL after this (ms), 0 = none */
    update_t *updates;                  /* head is in flight */
    update_t *updates_tail;
    int64_t next_retry;
    int64_t retry_ms;
} task_t;

struct _agent_t {
    agent_config_t config;
    char *work_dir;
    char *hostname;
    char *http_address;
    cairn_resources_t resources;
    proto_kv_t attributes;
    char *id;                           /* "" until registered once */
    bool registered;
    bool shutdown;
    int64_t now;                        /* of the last handler or tick call */
    int64_t ping_ms;
    int64_t last_heard;
    int64_t next_register;
    int64_t backoff;
    zhashx_t *tasks;                    /* key -> task_t * */
    zhashx_t *sandboxes;                /* "fw/task" -> sandbox, of ended tasks */
    zlistx_t *sandbox_order;            /* their keys, oldest first */
    containerizer_t *containerizer;
    isolator_t *isolator;
    outbox_t outbox;
};

static void
s_set_str (char **dst, const char *src)
{
    free (*dst);
    *dst = xstrdup (src ? src : "");
}

static void
s_queue (agent_t *self, proto_msg_t *msg)
{
    outbox_push (&self->outbox, NULL, msg);
}

outmsg_t *
agent_outbox_take (agent_t *self)
{
    return outbox_take (&self->outbox);
}

static void
s_task_destructor (void **item)
{
    task_t *t = *item;
    if (t) {
        while (t->updates) {
            update_t *next = t->updates->next;
            proto_status_fini (&t->updates->status);
            free (t->updates);
            t->updates = next;
        }
        free (t->key);
        free (t->framework_id);
        proto_framework_info_fini (&t->framework);
        proto_task_fini (&t->info);
        free (t->sandbox);
        free (t->run_dir);
        free (t);
        *item = NULL;
    }
}

/*  Status streams  */

static void
s_send_head (agent_t *self, task_t *t, int64_t now)
{
    if (!t->updates || !self->registered)
        return;
    proto_msg_t *msg = proto_msg_new (PROTO_STATUS_UPDATE);
    proto_status_fini (&msg->u.status);
    proto_status_copy (&msg->u.status, &t->updates->status);
    s_set_str (&msg->u.status.agent_id, self->id);
    s_queue (self, msg);
    t->next_retry = now + t->retry_ms;
}

/*  Appends an update to the task's stream (and sends it if it is the
    head). The task's state is what the framework will end up seeing.     */
static void
s_status (agent_t *self, task_t *t, cairn_task_state_t state, cairn_reason_t reason,
          int exit_code, int sig, const char *fmt, ...) __attribute__ ((format (printf, 7, 8)));

static void
s_status (agent_t *self, task_t *t, cairn_task_state_t state, cairn_reason_t reason,
          int exit_code, int sig, const char *fmt, ...)
{
    update_t *u = xzalloc (sizeof *u);
    proto_msg_t *tmpl = proto_msg_new (PROTO_STATUS_UPDATE);
    proto_status_copy (&u->status, &tmpl->u.status);
    proto_msg_destroy (&tmpl);
    char uuid[33];
    ids_uuid (uuid);
    s_set_str (&u->status.uuid, uuid);
    s_set_str (&u->status.task_id, t->info.task_id);
    s_set_str (&u->status.framework_id, t->framework_id);
    s_set_str (&u->status.agent_id, self->id);
    u->status.state = state;
    u->status.reason = reason;
    u->status.exit_code = exit_code;
    u->status.signal = sig;
    u->status.timestamp = clock_wall ();
    char text[PROTO_MAX_TEXT];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (text, sizeof text, fmt, ap);
    va_end (ap);
    proto_text_clean (text);    /* paths and system messages are not always UTF-8 */
    s_set_str (&u->status.message, text);
    t->state = state;
    log_info ("task %s: %s%s%s", t->key, cairn_task_state_name (state), *text ? ": " : "", text);
    bool head = t->updates == NULL;
    if (t->updates_tail)
        t->updates_tail->next = u;
    else
        t->updates = u;
    t->updates_tail = u;
    if (head) {
        t->retry_ms = UPDATE_RETRY_MIN_MS;
        s_send_head (self, t, self->now);
    }
}

static void
s_remember_sandbox (agent_t *self, task_t *t)
{
    zhashx_update (self->sandboxes, t->key, xstrdup (t->sandbox));
    zlistx_add_end (self->sandbox_order, xstrdup (t->key));
    while (zlistx_size (self->sandbox_order) > MAX_COMPLETED_SANDBOXES) {
        char *old = zlistx_first (self->sandbox_order);
        zhashx_delete (self->sandboxes, old);
        zlistx_delete (self->sandbox_order, zlistx_cursor (self->sandbox_order));
    }
}

/*  Removes a task whose stream is done and whose container is gone.      */
static void
s_maybe_forget (agent_t *self, task_t *t)
{
    if (t->updates || t->container || !cairn_task_state_is_terminal (t->state))
        return;
    s_remember_sandbox (self, t);
    zhashx_delete (self->tasks, t->key);
}

static void
s_handle_ack (agent_t *self, proto_status_ack_t *ack, int64_t now)
{
    char key[2 * PROTO_MAX_ID + 2];
    snprintf (key, sizeof key, "%s/%s", ack->framework_id, ack->task_id);
    task_t *t = zhashx_lookup (self->tasks, key);
    if (!t || !t->updates || strcmp (t->updates->status.uuid, ack->uuid) != 0)
        return;                 /* a late duplicate: already done */
    update_t *done = t->updates;
    t->updates = done->next;
    if (!t->updates)
        t->updates_tail = NULL;
    proto_status_fini (&done->status);
    free (done);
    t->retry_ms = UPDATE_RETRY_MIN_MS;
    s_send_head (self, t, now);
    s_maybe_forget (self, t);
}

/*  Launching  */

static char *
s_env_entry (const char *name, const char *value)
{
    return xasprintf ("%s=%s", name, value);
}

/*  The task's environment: a small base from the agent, then the task's
    own variables, then ours (which the task cannot override).            */
static char **
s_task_env (agent_t *self, task_t *t)
{
    size_t cap = t->info.env.count + 32;
    size_t ranges;
    const uint16_t *r = cairn_resources_port_ranges (t->info.resources, &ranges);
    cap += cairn_resources_port_count (t->info.resources);
    char **env = xzalloc ((cap + 1) * sizeof (char *));
    size_t n = 0;
    const char *path = getenv ("PATH");
    env[n++] = s_env_entry ("PATH", path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
    const char *keep[] = { "LANG", "TZ", "HOME", "USER", "LOGNAME" };
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        const char *v = getenv (keep[i]);
        if (v)
            env[n++] = s_env_entry (keep[i], v);
    }
    for (size_t i = 0; i < t->info.env.count; i++) {
        const char *k = t->info.env.keys[i];
        if (strncmp (k, "CAIRN_", 6) == 0)
            continue;
        env[n++] = s_env_entry (k, t->info.env.values[i]);
    }
    env[n++] = s_env_entry ("CAIRN_TASK_ID", t->info.task_id);
    env[n++] = s_env_entry ("CAIRN_FRAMEWORK_ID", t->framework_id);
    env[n++] = s_env_entry ("CAIRN_AGENT_ID", self->id);
    env[n++] = s_env_entry ("CAIRN_SANDBOX", t->sandbox);
    env[n++] = s_env_entry ("CAIRN_HOSTNAME", self->hostname);
    size_t p = 0;
    for (size_t i = 0; i < ranges; i++)
        for (unsigned port = r[2 * i]; port <= r[2 * i + 1]; port++) {
            char name[16], value[8];
            snprintf (name, sizeof name, "PORT%zu", p++);
            snprintf (value, sizeof value, "%u", port);
            env[n++] = s_env_entry (name, value);
        }
    env[n] = NULL;
    return env;
}

static void
s_free_strv (char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free (v[i]);
    free (v);
}

static void
s_launch (agent_t *self, const proto_framework_info_t *fw, const proto_task_t *info, int64_t now)
{
    char key[2 * PROTO_MAX_ID + 2];
    snprintf (key, sizeof key, "%s/%s", fw->id, info->task_id);
    if (zhashx_lookup (self->tasks, key)) {
        /*  The master refuses duplicate ids of live tasks, so this is a
            resent launch; the first copy's updates speak for it.         */
        log_warn ("ignoring a second launch of task %s", key);
        return;
    }
    task_t *t = xzalloc (sizeof *t);
    t->key = xstrdup (key);
    t->framework_id = xstrdup (fw->id);
    proto_framework_info_copy (&t->framework, fw);
    proto_task_copy (&t->info, info);
    t->state = CAIRN_TASK_STAGING;
    t->retry_ms = UPDATE_RETRY_MIN_MS;
    char run_id[33];
    ids_uuid (run_id);
    run_id[12] = '\0';
    t->sandbox = xasprintf ("%s/sandboxes/%s/%s/%s", self->work_dir, fw->id, info->task_id, run_id);
    t->run_dir = xasprintf ("%s/run/%s/%s/%s", self->work_dir, fw->id, info->task_id, run_id);
    zhashx_insert (self->tasks, t->key, t);

    if (util_mkdir_p (t->sandbox, 0755) < 0 || util_mkdir_p (t->run_dir, 0700) < 0) {
        s_status (self, t, CAIRN_TASK_FAILED, CAIRN_REASON_CONTAINER_LAUNCH_FAILED, -1, 0,
                  "cannot create the sandbox: %s", cairn_strerror_last ());
        return;
    }
    char **argv;
    if (*info->command) {
        argv = xzalloc (4 * sizeof (char *));
        argv[0] = xstrdup ("/bin/sh");
        argv[1] = xstrdup ("-c");
        argv[2] = xstrdup (info->command);
    }
    else {
        argv = xzalloc ((info->argv.count + 1) * sizeof (char *));
        for (size_t i = 0; i < info->argv.count; i++)
            argv[i] = xstrdup (info->argv.items[i]);
    }
    char **env = s_task_env (self, t);
    int rc = containerizer_launch (self->containerizer, t->key, t->sandbox, t->run_dir,
                                   info->resources, argv, env);
    s_free_strv (argv);
    s_free_strv (env);
    if (rc < 0) {
        s_status (self, t, CAIRN_TASK_FAILED, CAIRN_REASON_CONTAINER_LAUNCH_FAILED, -1, 0,
                  "cannot launch: %s", cairn_strerror_last ());
        return;
    }
    t->container = true;
    s_status (self, t, CAIRN_TASK_STARTING, CAIRN_REASON_NONE, -1, 0, "%s",
              "the task's supervisor is starting it");
    (void) now;
}

static int64_t
s_grace_ms (agent_t *self, task_t *t, int64_t asked)
{
    if (asked >= 0)
        return asked;
    if (t->info.kill_grace_ms >= 0)
        return t->info.kill_grace_ms;
    return self->config.default_kill_grace_ms;
}

static void
s_kill (agent_t *self, task_t *t, int64_t grace_ms, int64_t now)
{
    if (t->kill_requested || !t->container)
        return;
    t->kill_requested = true;
    t->kill_deadline = now + grace_ms;
    s_status (self, t, CAIRN_TASK_KILLING, CAIRN_REASON_KILLED_BY_SCHEDULER, -1, 0,
              "sending SIGTERM; SIGKILL after %" PRId64 " ms", grace_ms);
    /*  Not started yet: the signal goes out when it does (see the
        container event), or the deadline's SIGKILL catches it.           */
    if (containerizer_pid (self->containerizer, t->key) > 1)
        containerizer_signal (self->containerizer, t->key, grace_ms > 0 ? SIGTERM : SIGKILL);
}

static void
s_on_container (void *arg, const char *id, const container_event_t *ev)
{
    agent_t *self = arg;
    task_t *t = zhashx_lookup (self->tasks, id);
    if (!t)
        return;
    if (ev->kind == CONTAINER_STARTED) {
        if (t->kill_requested)
            containerizer_signal (self->containerizer, t->key, SIGTERM);
        if (t->state == CAIRN_TASK_STARTING)
            s_status (self, t, CAIRN_TASK_RUNNING, CAIRN_REASON_NONE, -1, 0,
                      "running as pid %d", (int) ev->pid);
        return;
    }
    t->container = false;
    t->kill_deadline = 0;
    /*  A task that started is RUNNING before it ends, even when it ends
        before we read its "started" line.                                */
    if (ev->launched && t->state == CAIRN_TASK_STARTING)
        s_status (self, t, CAIRN_TASK_RUNNING, CAIRN_REASON_NONE, -1, 0,
                  "running as pid %d", (int) ev->pid);
    if (t->kill_requested)
        s_status (self, t, CAIRN_TASK_KILLED, CAIRN_REASON_KILLED_BY_SCHEDULER, ev->exit_code,
                  ev->signal, "killed: %s", ev->message);
    else if (!ev->launched)
        s_status (self, t, CAIRN_TASK_FAILED, CAIRN_REASON_CONTAINER_LAUNCH_FAILED, -1, 0, "%s",
                  ev->message);
    else if (ev->exit_code == 0)
        s_status (self, t, CAIRN_TASK_FINISHED, CAIRN_REASON_NONE, 0, 0, "%s", ev->message);
    else
        s_status (self, t, CAIRN_TASK_FAILED, CAIRN_REASON_COMMAND_EXECUTOR_FAILED, ev->exit_code,
                  ev->signal, "%s", ev->message);
    s_maybe_forget (self, t);
}

/*  Session with the master  */

static void
s_send_register (agent_t *self)
{
    proto_msg_t *msg = proto_msg_new (PROTO_AGENT_REGISTER);
    proto_agent_register_t *r = &msg->u.agent_register;
    s_set_str (&r->agent_id, self->id);
    s_set_str (&r->hostname, self->hostname);
    s_set_str (&r->http_address, self->http_address);
    s_set_str (&r->version, PACKAGE_VERSION);
    resources_copy (r->resources, &self->resources);
    proto_kv_copy (&r->attributes, &self->attributes);
    for (task_t *t = zhashx_first (self->tasks); t; t = zhashx_next (self->tasks)) {
        /*  Ended tasks whose last updates are not acknowledged yet are
            reported too, so the master does not take them for lost.      */
        proto_agent_task_t *at = proto_list_push (&r->tasks, sizeof (proto_agent_task_t));
        at->framework_id = xstrdup (t->framework_id);
        proto_task_copy (&at->task, &t->info);
        at->state = t->state;
    }
    s_queue (self, msg);
}

agent_t *
agent_new (const agent_config_t *config, zloop_t *loop, isolator_t *isolator)
{
    agent_t *self = xzalloc (sizeof *self);
    self->config = *config;
    self->work_dir = xstrdup (config->work_dir);
    self->hostname = xstrdup (config->hostname);
    self->http_address = xstrdup (config->http_address);
    resources_copy (&self->resources, config->resources);
    if (config->attributes)
        proto_kv_copy (&self->attributes, config->attributes);
    self->id = xstrdup ("");
    self->ping_ms = 5000;
    self->backoff = REGISTER_BACKOFF_MIN_MS;
    self->tasks = zhashx_new ();
    zhashx_set_destructor (self->tasks, s_task_destructor);
    self->sandboxes = zhashx_new ();
    zhashx_set_destructor (self->sandboxes, (zhashx_destructor_fn *) zstr_free);
    self->sandbox_order = zlistx_new ();
    zlistx_set_destructor (self->sandbox_order, (zlistx_destructor_fn *) zstr_free);
    self->isolator = isolator;
    self->containerizer = containerizer_new (loop, isolator, config->shim_path, s_on_container,
                                             self);
    if (!self->containerizer) {
        agent_destroy (&self, false);
        return NULL;
    }
    return self;
}

void
agent_destroy (agent_t **self_p, bool kill_tasks)
{
    if (!self_p || !*self_p)
        return;
    agent_t *self = *self_p;
    containerizer_destroy (&self->containerizer, kill_tasks);
    zhashx_destroy (&self->tasks);
    zhashx_destroy (&self->sandboxes);
    zlistx_destroy (&self->sandbox_order);
    outmsg_t *pending = outbox_take (&self->outbox);
    outmsg_destroy_list (&pending);
    resources_fini (&self->resources);
    proto_kv_fini (&self->attributes);
    free (self->work_dir);
    free (self->hostname);
    free (self->http_address);
    free (self->id);
    free (self);
    *self_p = NULL;
}

const char *
agent_id (agent_t *self)
{
    return self->id;
}

bool
agent_shutdown_requested (agent_t *self)
{
    return self->shutdown;
}

void
agent_handle (agent_t *self, proto_msg_t *msg, int64_t now)
{
    self->now = now;
    self->last_heard = now;
    switch (msg->type) {
        case PROTO_AGENT_REGISTERED: {
            proto_agent_registered_t *r = &msg->u.agent_registered;
            /*  The answer to a registration resent before the first
                answer came: nothing new, and no need to resend updates.   */
            if (self->registered && strcmp (r->agent_id, self->id) == 0)
                break;
            bool first = !*self->id;
            s_set_str (&self->id, r->agent_id);
            self->registered = true;
            self->ping_ms = r->ping_interval_ms;
            self->backoff = REGISTER_BACKOFF_MIN_MS;
            log_info ("%s as agent %s with master %s", first ? "registered" : "re-registered",
                      self->id, r->master_id);
            for (task_t *t = zhashx_first (self->tasks); t; t = zhashx_next (self->tasks))
                s_send_head (self, t, now);
            break;
        }
        case PROTO_RUN_TASKS: {
            if (!self->registered)
                break;
            proto_task_t *tasks = msg->u.run_tasks.tasks.items;
            for (size_t i = 0; i < msg->u.run_tasks.tasks.count; i++)
                s_launch (self, msg->u.run_tasks.framework, &tasks[i], now);
            break;
        }
        case PROTO_KILL_TASK: {
            proto_kill_task_t *k = &msg->u.kill_task;
            char key[2 * PROTO_MAX_ID + 2];
            snprintf (key, sizeof key, "%s/%s", k->framework_id, k->task_id);
            task_t *t = zhashx_lookup (self->tasks, key);
            if (t)
                s_kill (self, t, s_grace_ms (self, t, k->grace_ms), now);
            else if (self->registered) {
                /*  Unknown here: tell the master so it stops waiting.    */
                proto_msg_t *st = proto_msg_new (PROTO_STATUS_UPDATE);
                proto_status_t *s = &st->u.status;
                s_set_str (&s->task_id, k->task_id);
                s_set_str (&s->framework_id, k->framework_id);
                s_set_str (&s->agent_id, self->id);
                s->state = CAIRN_TASK_LOST;
                s->reason = CAIRN_REASON_TASK_UNKNOWN;
                s->timestamp = clock_wall ();
                s_set_str (&s->message, "the agent does not know this task");
                s_queue (self, st);
            }
            break;
        }
        case PROTO_STATUS_ACK:
            s_handle_ack (self, &msg->u.status_ack, now);
            break;
        case PROTO_PING: {
            proto_msg_t *pong = proto_msg_new (PROTO_PONG);
            pong->u.ping.seq = msg->u.ping.seq;
            s_queue (self, pong);
            break;
        }
        case PROTO_PONG:
            break;
        case PROTO_AGENT_SHUTDOWN:
            log_error ("the master told this agent to shut down: %s",
                       msg->u.agent_shutdown.message);
            self->shutdown = true;
            break;
        case PROTO_ERROR:
            if (strcmp (msg->u.error.code, "not-registered") == 0) {
                self->registered = false;
                self->next_register = 0;
            }
            log_warn ("the master says: %s (%s)", msg->u.error.message, msg->u.error.code);
            break;
        default:
            log_warn ("unexpected %s from the master", proto_type_name (msg->type));
            break;
    }
    proto_msg_destroy (&msg);
}

void
agent_handle_invalid (agent_t *self, const char *why)
{
    log_warn ("dropped an invalid message from the master: %s", why);
}

void
agent_tick (agent_t *self, int64_t now)
{
    self->now = now;
    if (!self->registered && now >= self->next_register) {
        s_send_register (self);
        self->next_register = now + self->backoff;
        self->backoff = self->backoff * 2 > REGISTER_BACKOFF_MAX_MS ? REGISTER_BACKOFF_MAX_MS
                                                                    : self->backoff * 2;
    }
    for (task_t *t = zhashx_first (self->tasks); t; t = zhashx_next (self->tasks)) {
        if (self->registered && t->updates && now >= t->next_retry) {
            t->retry_ms = t->retry_ms * 2 > UPDATE_RETRY_MAX_MS ? UPDATE_RETRY_MAX_MS
                                                                : t->retry_ms * 2;
            s_send_head (self, t, now);
        }
        if (t->kill_deadline && now >= t->kill_deadline && t->container) {
            t->kill_deadline = 0;
            if (containerizer_signal (self->containerizer, t->key, SIGKILL) < 0)
                t->kill_deadline = now + 100;       /* not started yet: retry */
        }
    }
}

bool
agent_master_lost (agent_t *self, int64_t now)
{
    return self->registered
        && now - self->last_heard > self->config.max_ping_misses * self->ping_ms + 1000;
}

void
agent_reconnected (agent_t *self, int64_t now)
{
    log_warn ("the master has been silent for %" PRId64 " ms: reconnecting",
              now - self->last_heard);
    self->registered = false;
    self->next_register = 0;
    self->backoff = REGISTER_BACKOFF_MIN_MS;
    self->last_heard = now;
}

static json_t *
s_resources_json (const cairn_resources_t *r)
{
    char *text = cairn_resources_format (r);
    json_t *j = json_pack ("{s:f s:I s:I s:I s:s}", "cpus", cairn_resources_cpus (r),
                           "mem", (json_int_t) cairn_resources_mem (r),
                           "disk", (json_int_t) cairn_resources_disk (r),
                           "ports", (json_int_t) cairn_resources_port_count (r),
                           "text", text);
    free (text);
    return j;
}

json_t *
agent_state_json (agent_t *self)
{
    json_t *tasks = json_array ();
    cairn_resources_t used;
    resources_init (&used);
    for (task_t *t = zhashx_first (self->tasks); t; t = zhashx_next (self->tasks)) {
        if (!cairn_task_state_is_terminal (t->state))
            cairn_resources_add (&used, t->info.resources);
        size_t pending = 0;
        for (update_t *u = t->updates; u; u = u->next)
            pending++;
        json_array_append_new (tasks, json_pack (
            "{s:s s:s s:s s:s s:o s:I s:I}", "id", t->info.task_id,
            "framework_id", t->framework_id,
            "state", cairn_task_state_name (t->state), "sandbox", t->sandbox,
            "resources", s_resources_json (t->info.resources),
            "pid", (json_int_t) containerizer_pid (self->containerizer, t->key),
            "unacknowledged_updates", (json_int_t) pending));
    }
    json_t *state = json_pack ("{s:s s:s s:s s:s s:b s:s s:o s:o s:o s:o}",
                               "id", self->id, "hostname", self->hostname,
                               "http_address", self->http_address,
                               "version", PACKAGE_VERSION, "registered", self->registered,
                               "isolation", isolator_name (self->isolator),
                               "resources", s_resources_json (&self->resources),
                               "used", s_resources_json (&used),
                               "attributes", json_object (), "tasks", tasks);
    json_t *attrs = json_object_get (state, "attributes");
    for (size_t i = 0; i < self->attributes.count; i++)
        json_object_set_new (attrs, self->attributes.keys[i],
                             json_string (self->attributes.values[i]));
    resources_fini (&used);
    return state;
}

const char *
agent_task_sandbox (agent_t *self, const char *framework_id, const char *task_id)
{
    char key[2 * PROTO_MAX_ID + 2];
    snprintf (key, sizeof key, "%s/%s", framework_id, task_id);
    task_t *t = zhashx_lookup (self->tasks, key);
    if (t && *t->sandbox)
        return t->sandbox;
    const char *dir = zhashx_lookup (self->sandboxes, key);
    return dir ? dir : "";
}
