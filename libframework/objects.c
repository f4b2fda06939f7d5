/*  objects.c - framework info, offers, tasks and statuses: the public,
    opaque objects of cairn.h. Setters validate what the codec would
    refuse, so a mistake is reported at the call that made it rather than
    when the driver sends the message.                                    */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cairn.h"
#include "error.h"
#include "objects.h"
#include "proto.h"
#include "resources.h"

/*  Replaces *dst with a copy of s after checking its length.             */
static int
s_set_text (char **dst, const char *s, size_t max, const char *what)
{
    if (!s)
        s = "";
    if (strlen (s) > max)
        return error_set (EINVAL, "%s is longer than %zu bytes", what, max);
    free (*dst);
    *dst = xstrdup (s);
    return 0;
}

static int
s_set_id (char **dst, const char *s, const char *what)
{
    if (s && *s && !proto_id_valid (s))
        return error_set (EINVAL, "%s '%s' is not a valid id (1-%d of A-Z a-z 0-9 . _ - :)",
                          what, s, PROTO_MAX_ID);
    return s_set_text (dst, s, PROTO_MAX_ID, what);
}

static int
s_seconds_to_ms (double seconds, int64_t *ms, const char *what)
{
    if (!isfinite (seconds) || seconds < 0 || seconds > 10.0 * 365 * 86400)
        return error_set (EINVAL, "%s must be between 0 and 10 years", what);
    *ms = (int64_t) (seconds * 1000.0 + 0.5);
    return 0;
}

/*  Framework info  */

cairn_framework_info_t *
cairn_framework_info_new (const char *name)
{
    if (!name || !*name || strlen (name) > PROTO_MAX_NAME) {
        error_set (EINVAL, "a framework needs a name of 1-%d bytes", PROTO_MAX_NAME);
        return NULL;
    }
    cairn_framework_info_t *self = xzalloc (sizeof *self);
    proto_msg_t *tmpl = proto_msg_new (PROTO_FRAMEWORK_REGISTER);
    proto_framework_info_copy (&self->info, &tmpl->u.framework);
    proto_msg_destroy (&tmpl);
    free (self->info.name);
    self->info.name = xstrdup (name);
    return self;
}

void
cairn_framework_info_destroy (cairn_framework_info_t **self_p)
{
    if (self_p && *self_p) {
        proto_framework_info_fini (&(*self_p)->info);
        free (*self_p);
        *self_p = NULL;
    }
}

int
cairn_framework_info_set_id (cairn_framework_info_t *self, const char *id)
{
    if (!self)
        return error_set (EINVAL, "no framework info given");
    return s_set_id (&self->info.id, id, "framework id");
}

int
cairn_framework_info_set_role (cairn_framework_info_t *self, const char *role)
{
    if (!self || !role || !*role)
        return error_set (EINVAL, "a role must not be empty");
    return s_set_text (&self->info.role, role, PROTO_MAX_NAME, "role");
}

int
cairn_framework_info_set_principal (cairn_framework_info_t *self, const char *principal)
{
    if (!self)
        return error_set (EINVAL, "no framework info given");
    return s_set_text (&self->info.principal, principal, PROTO_MAX_NAME, "principal");
}

int
cairn_framework_info_set_user (cairn_framework_info_t *self, const char *user)
{
    if (!self)
        return error_set (EINVAL, "no framework info given");
    return s_set_text (&self->info.user, user, PROTO_MAX_NAME, "user");
}

int
cairn_framework_info_set_hostname (cairn_framework_info_t *self, const char *hostname)
{
    if (!self)
        return error_set (EINVAL, "no framework info given");
    return s_set_text (&self->info.hostname, hostname, PROTO_MAX_NAME, "hostname");
}

int
cairn_framework_info_set_failover_timeout (cairn_framework_info_t *self, double seconds)
{
    if (!self)
        return error_set (EINVAL, "no framework info given");
    return s_seconds_to_ms (seconds, &self->info.failover_timeout_ms, "the failover timeout");
}

int
cairn_framework_info_set_partition_aware (cairn_framework_info_t *self, bool aware)
{
    if (!self)
        return error_set (EINVAL, "no framework info given");
    self->info.partition_aware = aware;
    return 0;
}

int
cairn_framework_info_add_label (cairn_framework_info_t *self, const char *key, const char *value)
{
    if (!self || !key || !*key || !value)
        return error_set (EINVAL, "a label needs a key and a value");
    if (strlen (key) > PROTO_MAX_NAME || strlen (value) > PROTO_MAX_NAME)
        return error_set (EINVAL, "label keys and values are at most %d bytes", PROTO_MAX_NAME);
    if (self->info.labels.count >= PROTO_MAX_KV && !proto_kv_get (&self->info.labels, key))
        return error_set (EINVAL, "at most %d labels", PROTO_MAX_KV);
    proto_kv_set (&self->info.labels, key, value);
    return 0;
}

const char *
cairn_framework_info_id (const cairn_framework_info_t *self)
{
    return self ? self->info.id : NULL;
}

const char *
cairn_framework_info_name (const cairn_framework_info_t *self)
{
    return self ? self->info.name : NULL;
}

const char *
cairn_framework_info_role (const cairn_framework_info_t *self)
{
    return self ? self->info.role : NULL;
}

/*  Offers  */

const char *
cairn_offer_id (const cairn_offer_t *self)
{
    return self ? self->offer.offer_id : NULL;
}

const char *
cairn_offer_agent_id (const cairn_offer_t *self)
{
    return self ? self->offer.agent_id : NULL;
}

const char *
cairn_offer_hostname (const cairn_offer_t *self)
{
    return self ? self->offer.hostname : NULL;
}

const cairn_resources_t *
cairn_offer_resources (const cairn_offer_t *self)
{
    return self ? self->offer.resources : NULL;
}

const char *
cairn_offer_attribute (const cairn_offer_t *self, const char *name)
{
    return self && name ? proto_kv_get (&self->offer.attributes, name) : NULL;
}

const char *
cairn_offer_attribute_name (const cairn_offer_t *self, size_t index)
{
    if (!self || index >= self->offer.attributes.count)
        return NULL;
    return self->offer.attributes.keys[index];
}

cairn_offer_t *
cairn_offer_dup (const cairn_offer_t *self)
{
    if (!self)
        return NULL;
    cairn_offer_t *copy = xzalloc (sizeof *copy);
    proto_offer_copy (&copy->offer, &self->offer);
    return copy;
}

void
cairn_offer_destroy (cairn_offer_t **self_p)
{
    if (self_p && *self_p) {
        proto_offer_fini (&(*self_p)->offer);
        free (*self_p);
        *self_p = NULL;
    }
}

/*  Tasks  */

cairn_task_t *
cairn_task_new (const char *id)
{
    if (!proto_id_valid (id)) {
        error_set (EINVAL, "task id '%s' is not valid (1-%d of A-Z a-z 0-9 . _ - :)",
                   id ? id : "(null)", PROTO_MAX_ID);
        return NULL;
    }
    cairn_task_t *self = xzalloc (sizeof *self);
    proto_task_init (&self->task);
    free (self->task.task_id);
    self->task.task_id = xstrdup (id);
    return self;
}

void
cairn_task_destroy (cairn_task_t **self_p)
{
    if (self_p && *self_p) {
        proto_task_fini (&(*self_p)->task);
        free (*self_p);
        *self_p = NULL;
    }
}

cairn_task_t *
cairn_task_dup (const cairn_task_t *self)
{
    if (!self)
        return NULL;
    cairn_task_t *copy = xzalloc (sizeof *copy);
    proto_task_copy (&copy->task, &self->task);
    copy->port_count = self->port_count;
    return copy;
}

int
cairn_task_set_name (cairn_task_t *self, const char *name)
{
    if (!self)
        return error_set (EINVAL, "no task given");
    return s_set_text (&self->task.name, name, PROTO_MAX_NAME, "task name");
}

int
cairn_task_set_command (cairn_task_t *self, const char *shell_command)
{
    if (!self || !shell_command || !*shell_command)
        return error_set (EINVAL, "a command must not be empty");
    if (s_set_text (&self->task.command, shell_command, PROTO_MAX_COMMAND, "command") < 0)
        return -1;
    proto_strs_fini (&self->task.argv);
    return 0;
}

int
cairn_task_set_argv (cairn_task_t *self, const char *const *argv)
{
    if (!self || !argv || !argv[0] || !*argv[0])
        return error_set (EINVAL, "argv needs at least a program name");
    proto_strs_t strs = { 0 };
    for (size_t i = 0; argv[i]; i++) {
        if (strlen (argv[i]) > PROTO_MAX_COMMAND || i >= 4096) {
            proto_strs_fini (&strs);
            return error_set (EINVAL, "argv has an argument over %d bytes or more than 4096 arguments",
                              PROTO_MAX_COMMAND);
        }
        proto_strs_add (&strs, argv[i]);
    }
    proto_strs_fini (&self->task.argv);
    self->task.argv = strs;
    free (self->task.command);
    self->task.command = xstrdup ("");
    return 0;
}

int
cairn_task_set_env (cairn_task_t *self, const char *name, const char *value)
{
    if (!self || !name || !value)
        return error_set (EINVAL, "an environment variable needs a name and a value");
    bool valid = *name && !(*name >= '0' && *name <= '9');
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
              || *p == '_'))
            valid = false;
    if (!valid)
        return error_set (EINVAL, "'%s' is not a valid environment variable name", name);
    if (strlen (value) > PROTO_MAX_COMMAND)
        return error_set (EINVAL, "the value of %s is longer than %d bytes", name, PROTO_MAX_COMMAND);
    if (self->task.env.count >= PROTO_MAX_KV && !proto_kv_get (&self->task.env, name))
        return error_set (EINVAL, "at most %d environment variables", PROTO_MAX_KV);
    proto_kv_set (&self->task.env, name, value);
    return 0;
}

int
cairn_task_set_resources (cairn_task_t *self, const cairn_resources_t *resources)
{
    if (!self || !resources)
        return error_set (EINVAL, "no resources given");
    cairn_resources_destroy (&self->task.resources);
    self->task.resources = cairn_resources_dup (resources);
    return 0;
}

int
cairn_task_set_port_count (cairn_task_t *self, unsigned count)
{
    if (!self || count > 1024)
        return error_set (EINVAL, "a task can ask for at most 1024 ports");
    self->port_count = count;
    return 0;
}

int
cairn_task_add_uri (cairn_task_t *self, const char *uri, bool extract, bool executable)
{
    if (!self || !uri || !*uri || strlen (uri) > PROTO_MAX_TEXT)
        return error_set (EINVAL, "a URI must have 1-%d bytes", PROTO_MAX_TEXT);
    if (self->task.uris.count >= 64)
        return error_set (EINVAL, "at most 64 URIs per task");
    proto_uri_t *u = proto_list_push (&self->task.uris, sizeof (proto_uri_t));
    u->uri = xstrdup (uri);
    u->extract = extract;
    u->executable = executable;
    return 0;
}

int
cairn_task_set_user (cairn_task_t *self, const char *user)
{
    if (!self)
        return error_set (EINVAL, "no task given");
    return s_set_text (&self->task.user, user, PROTO_MAX_NAME, "user");
}

int
cairn_task_set_kill_grace (cairn_task_t *self, double seconds)
{
    if (!self)
        return error_set (EINVAL, "no task given");
    if (!isfinite (seconds) || seconds < 0 || seconds > 86400)
        return error_set (EINVAL, "the kill grace period must be between 0 and 86400 seconds");
    self->task.kill_grace_ms = (int64_t) (seconds * 1000.0 + 0.5);
    return 0;
}

int
cairn_task_add_label (cairn_task_t *self, const char *key, const char *value)
{
    if (!self || !key || !*key || !value)
        return error_set (EINVAL, "a label needs a key and a value");
    if (strlen (key) > PROTO_MAX_NAME || strlen (value) > PROTO_MAX_NAME)
        return error_set (EINVAL, "label keys and values are at most %d bytes", PROTO_MAX_NAME);
    if (self->task.labels.count >= PROTO_MAX_KV && !proto_kv_get (&self->task.labels, key))
        return error_set (EINVAL, "at most %d labels", PROTO_MAX_KV);
    proto_kv_set (&self->task.labels, key, value);
    return 0;
}

int
cairn_task_set_health_check (cairn_task_t *self, cairn_health_type_t type, const char *target,
                             unsigned port_index, double delay_s, double interval_s,
                             double timeout_s, double grace_s, unsigned max_failures)
{
    if (!self)
        return error_set (EINVAL, "no task given");
    if (type == CAIRN_HEALTH_NONE) {
        proto_health_destroy (&self->task.health);
        return 0;
    }
    if (type != CAIRN_HEALTH_COMMAND && type != CAIRN_HEALTH_HTTP && type != CAIRN_HEALTH_TCP)
        return error_set (EINVAL, "unknown health check type %d", (int) type);
    if (type == CAIRN_HEALTH_COMMAND && (!target || !*target))
        return error_set (EINVAL, "a command health check needs a command");
    if (target && strlen (target) > PROTO_MAX_TEXT)
        return error_set (EINVAL, "the health check target is longer than %d bytes", PROTO_MAX_TEXT);
    if (port_index > 1023 || max_failures < 1 || max_failures > 1000000)
        return error_set (EINVAL, "port_index must be < 1024 and max_failures 1-1000000");
    int64_t delay = 0, interval = 0, timeout = 0, grace = 0;
    if (s_seconds_to_ms (delay_s, &delay, "delay") < 0
        || s_seconds_to_ms (interval_s, &interval, "interval") < 0
        || s_seconds_to_ms (timeout_s, &timeout, "timeout") < 0
        || s_seconds_to_ms (grace_s, &grace, "grace") < 0)
        return -1;
    if (delay > 86400000 || grace > 86400000 || interval < 100 || interval > 86400000
        || timeout < 100 || timeout > 86400000)
        return error_set (EINVAL, "health check times must be at most a day; interval and "
                                  "timeout at least 0.1 s");
    proto_health_destroy (&self->task.health);
    proto_health_t *h = self->task.health = proto_health_new ();
    free (h->type);
    free (h->command);
    free (h->path);
    h->type = xstrdup (type == CAIRN_HEALTH_COMMAND ? "command"
                       : type == CAIRN_HEALTH_HTTP  ? "http" : "tcp");
    h->command = xstrdup (type == CAIRN_HEALTH_COMMAND ? target : "");
    h->path = xstrdup (type == CAIRN_HEALTH_HTTP && target ? target : "");
    h->port_index = port_index;
    h->delay_ms = delay;
    h->interval_ms = interval;
    h->timeout_ms = timeout;
    h->grace_ms = grace;
    h->max_failures = max_failures;
    return 0;
}

const char *
cairn_task_id (const cairn_task_t *self)
{
    return self ? self->task.task_id : NULL;
}

const cairn_resources_t *
cairn_task_resources (const cairn_task_t *self)
{
    return self ? self->task.resources : NULL;
}

/*  Statuses  */

const char *
cairn_status_task_id (const cairn_status_t *self)
{
    return self ? self->status.task_id : NULL;
}

const char *
cairn_status_agent_id (const cairn_status_t *self)
{
    return self ? self->status.agent_id : NULL;
}

cairn_task_state_t
cairn_status_state (const cairn_status_t *self)
{
    return self ? self->status.state : CAIRN_TASK_UNKNOWN;
}

cairn_reason_t
cairn_status_reason (const cairn_status_t *self)
{
    return self ? self->status.reason : CAIRN_REASON_NONE;
}

const char *
cairn_status_message (const cairn_status_t *self)
{
    return self && self->status.message ? self->status.message : "";
}

int
cairn_status_exit_code (const cairn_status_t *self)
{
    return self ? (int) self->status.exit_code : -1;
}

int
cairn_status_signal (const cairn_status_t *self)
{
    return self ? (int) self->status.signal : 0;
}

int
cairn_status_healthy (const cairn_status_t *self)
{
    return self ? (int) self->status.healthy : -1;
}

double
cairn_status_timestamp (const cairn_status_t *self)
{
    return self ? self->status.timestamp : 0.0;
}

const char *
cairn_status_uuid (const cairn_status_t *self)
{
    return self ? self->status.uuid : NULL;
}

cairn_status_t *
cairn_status_dup (const cairn_status_t *self)
{
    if (!self)
        return NULL;
    cairn_status_t *copy = xzalloc (sizeof *copy);
    proto_status_copy (&copy->status, &self->status);
    return copy;
}

void
cairn_status_destroy (cairn_status_t **self_p)
{
    if (self_p && *self_p) {
        proto_status_fini (&(*self_p)->status);
        free (*self_p);
        *self_p = NULL;
    }
}
