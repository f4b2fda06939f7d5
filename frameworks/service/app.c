/*  app.c - checking, normalizing and launching app definitions.

    Two passes over a submitted document: jcheck against the field tables
    (types, ranges, unknown fields), then the checks a table cannot say
    (id syntax, cmd xor args, constraints, limits the wire protocol
    sets). Only a document that passed both is normalized: every default
    is written out, durations become seconds, so the stored text is the
    whole truth about a version and reads back the same.                 */
#include "config.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "error.h"
#include "util.h"

/*  Defaults: small enough for a laptop cluster, as Marathon's are for a
    data centre.                                                           */
#define DEFAULT_CPUS            0.1
#define DEFAULT_MEM             128
#define DEFAULT_BACKOFF_S       1.0
#define DEFAULT_BACKOFF_FACTOR  2.0
#define DEFAULT_BACKOFF_MAX_S   300.0
#define DEFAULT_MIN_HEALTHY     1.0
#define DEFAULT_MAX_SURGE       1.0
/*  The agent's own defaults for health checks (protocol.md).              */
#define DEFAULT_HC_DELAY_S      15.0
#define DEFAULT_HC_INTERVAL_S   10.0
#define DEFAULT_HC_TIMEOUT_S    20.0
#define DEFAULT_HC_GRACE_S      300.0
#define DEFAULT_HC_FAILURES     3

/*  What the wire protocol accepts (proto.h), checked here so that a
    definition that passes always launches.                               */
#define MAX_TEXT        4096
#define MAX_COMMAND     65536
#define MAX_NAME        256
#define MAX_KV          250             /* env, labels: the protocol's 256 less ours */
#define MAX_URIS        64
#define MAX_CONSTRAINTS 32
#define MAX_MEM         (1LL << 40)     /* MiB */

#define LABEL_APP       "cairn-service.app"
#define LABEL_VERSION   "cairn-service.version"

static const char *const s_health_types[] = { "http", "tcp", "command", NULL };

static const jcheck_field_t s_health_fields[] = {
    JCHECK ("type", JCHECK_STRING, .required = true, .choices = s_health_types),
    JCHECK ("command", JCHECK_STRING, .nonempty = true),
    JCHECK ("path", JCHECK_STRING, .nonempty = true),
    JCHECK ("port_index", JCHECK_INT, .ranged = true, .min = 0, .max = 1e18),
    JCHECK ("delay_s", JCHECK_DURATION, .ranged = true, .min = 0, .max = 86400000),
    JCHECK ("interval_s", JCHECK_DURATION, .ranged = true, .min = 100, .max = 86400000),
    JCHECK ("timeout_s", JCHECK_DURATION, .ranged = true, .min = 100, .max = 86400000),
    JCHECK ("grace_s", JCHECK_DURATION, .ranged = true, .min = 0, .max = 86400000),
    JCHECK ("max_failures", JCHECK_INT, .ranged = true, .min = 1, .max = 1e18),
    JCHECK_END
};

static const jcheck_field_t s_backoff_fields[] = {
    JCHECK ("initial_s", JCHECK_DURATION, .ranged = true, .min = 0, .max = 3600000),
    JCHECK ("factor", JCHECK_NUMBER, .ranged = true, .min = 1, .max = 100),
    JCHECK ("max_s", JCHECK_DURATION, .ranged = true, .min = 0, .max = 86400000),
    JCHECK_END
};

static const jcheck_field_t s_upgrade_fields[] = {
    JCHECK ("min_healthy", JCHECK_NUMBER, .ranged = true, .min = 0, .max = 1),
    JCHECK ("max_surge", JCHECK_NUMBER, .ranged = true, .min = 0, .max = 1),
    JCHECK_END
};

static const jcheck_field_t s_uri_fields[] = {
    JCHECK ("uri", JCHECK_STRING, .required = true, .nonempty = true),
    JCHECK ("extract", JCHECK_BOOL),
    JCHECK ("executable", JCHECK_BOOL),
    JCHECK_END
};

static const jcheck_field_t s_constraint_item = JCHECK ("constraint", JCHECK_STRING_ARRAY,
                                                        .nonempty = true);
static const jcheck_field_t s_uri_item = JCHECK ("uri", JCHECK_ANY);

static const jcheck_field_t s_app_fields[] = {
    JCHECK ("id", JCHECK_STRING, .required = true, .nonempty = true),
    JCHECK ("cmd", JCHECK_STRING, .nonempty = true),
    JCHECK ("args", JCHECK_STRING_ARRAY, .nonempty = true),
    JCHECK ("instances", JCHECK_INT, .ranged = true, .min = 0, .max = 1e18),
    JCHECK ("cpus", JCHECK_NUMBER, .ranged = true, .min = 0, .max = 1024),
    JCHECK ("mem", JCHECK_INT, .ranged = true, .min = 0, .max = 1e18),
    JCHECK ("disk", JCHECK_INT, .ranged = true, .min = 0, .max = 1e18),
    JCHECK ("ports", JCHECK_INT, .ranged = true, .min = 0, .max = APP_MAX_PORTS),
    JCHECK ("env", JCHECK_STRING_MAP),
    JCHECK ("labels", JCHECK_STRING_MAP),
    JCHECK ("health_check", JCHECK_OBJECT, .fields = s_health_fields),
    JCHECK ("uris", JCHECK_ARRAY, .items = &s_uri_item),
    JCHECK ("user", JCHECK_STRING, .nonempty = true),
    JCHECK ("constraints", JCHECK_ARRAY, .items = &s_constraint_item),
    JCHECK ("backoff", JCHECK_OBJECT, .fields = s_backoff_fields),
    JCHECK ("upgrade", JCHECK_OBJECT, .fields = s_upgrade_fields),
    JCHECK ("kill_grace_s", JCHECK_DURATION, .ranged = true, .min = 0, .max = 3600000),
    JCHECK_END
};

const char *
app_constraint_op_name (constraint_op_t op)
{
    switch (op) {
        case CONSTRAINT_UNIQUE: return "unique";
        case CONSTRAINT_EQUALS: return "equals";
        case CONSTRAINT_GROUP_BY: return "group_by";
        case CONSTRAINT_MAX_PER: return "max_per";
    }
    return "?";
}

/*  A duration field of a checked object in ms, or def_ms when absent.    */
static int64_t
s_duration (json_t *obj, const char *name, int64_t def_ms)
{
    json_t *v = json_object_get (obj, name);
    int64_t ms = def_ms;
    if (v && jcheck_duration_ms (v, name, &ms) < 0)
        ms = def_ms;            /* cannot happen: jcheck passed */
    return ms;
}

/*  Seconds as JSON: an integer when whole, so "10s" shows as 10.          */
static json_t *
s_seconds_json (int64_t ms)
{
    if (ms % 1000 == 0)
        return json_integer ((json_int_t) (ms / 1000));
    return json_real ((double) ms / 1000.0);
}

static double
s_number (json_t *obj, const char *name, double def)
{
    json_t *v = json_object_get (obj, name);
    return v ? json_number_value (v) : def;
}

static int64_t
s_int (json_t *obj, const char *name, int64_t def)
{
    json_t *v = json_object_get (obj, name);
    return v ? (int64_t) json_integer_value (v) : def;
}

static bool
s_id_valid (const char *id)
{
    size_t n = strlen (id);
    if (n == 0 || n > APP_MAX_ID)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '-' && c != '.' && c != '_')))
            return false;
    }
    return true;
}

/*  A positive decimal integer written as a string ("2"), or -1.           */
static int64_t
s_positive (const char *text)
{
    char *end = NULL;
    long long v = strtoll (text, &end, 10);
    if (!*text || *end || v < 1 || v > 1000000 || *text == '+' || *text == ' ')
        return -1;
    return v;
}

static int
s_check_env (json_t *env, jcheck_error_t *err)
{
    if (json_object_size (env) > MAX_KV)
        return jcheck_fail (err, "env", "has more than %d variables", MAX_KV);
    const char *key;
    json_t *v;
    json_object_foreach (env, key, v) {
        char *field = xasprintf ("env.%s", key);
        int rc = 0;
        if (!util_env_name_valid (key))
            rc = jcheck_fail (err, field, "is not a valid variable name (letters, digits and _, "
                              "not starting with a digit)");
        else if (strncmp (key, "CAIRN_", 6) == 0)
            rc = jcheck_fail (err, field, "is reserved: the agent sets the CAIRN_ variables");
        else if (strncmp (key, "PORT", 4) == 0 && key[4] && strspn (key + 4, "0123456789")
                 == strlen (key + 4))
            rc = jcheck_fail (err, field, "is reserved: the agent sets PORT0, PORT1, ... to the "
                              "ports the instance got");
        else if (strlen (json_string_value (v)) > MAX_COMMAND)
            rc = jcheck_fail (err, field, "is longer than %d bytes", MAX_COMMAND);
        free (field);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int
s_check_labels (json_t *labels, jcheck_error_t *err)
{
    if (json_object_size (labels) > MAX_KV)
        return jcheck_fail (err, "labels", "has more than %d labels", MAX_KV);
    const char *key;
    json_t *v;
    json_object_foreach (labels, key, v) {
        char *field = xasprintf ("labels.%s", key);
        int rc = 0;
        if (!*key || strlen (key) > MAX_NAME || strlen (json_string_value (v)) > MAX_NAME)
            rc = jcheck_fail (err, field, "must have a key and a value of 1 to %d bytes",
                              MAX_NAME);
        else if (strncmp (key, "cairn-service.", 14) == 0)
            rc = jcheck_fail (err, field, "is reserved: cairn-service sets the cairn-service.* "
                              "labels");
        free (field);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/*  uris: strings, or {uri, extract, executable}; normalized to objects.  */
static int
s_check_uris (json_t *uris, json_t *out, jcheck_error_t *err)
{
    if (json_array_size (uris) > MAX_URIS)
        return jcheck_fail (err, "uris", "has more than %d entries", MAX_URIS);
    size_t i;
    json_t *u;
    json_array_foreach (uris, i, u) {
        char field[32];
        snprintf (field, sizeof field, "uris[%zu]", i);
        const char *uri;
        bool extract = true, executable = false;
        if (json_is_string (u))
            uri = json_string_value (u);
        else if (json_is_object (u)) {
            if (jcheck_object (u, s_uri_fields, field, err) < 0)
                return -1;
            uri = json_string_value (json_object_get (u, "uri"));
            if (json_object_get (u, "extract"))
                extract = json_is_true (json_object_get (u, "extract"));
            executable = json_is_true (json_object_get (u, "executable"));
        }
        else
            return jcheck_fail (err, field, "must be a URI string or an object with uri, "
                                "extract and executable");
        if (!*uri || strlen (uri) > MAX_TEXT)
            return jcheck_fail (err, field, "must be a URI of 1 to %d bytes", MAX_TEXT);
        if (strncmp (uri, "http://", 7) != 0 && strncmp (uri, "https://", 8) != 0
            && strncmp (uri, "file://", 7) != 0)
            return jcheck_fail (err, field, "must be an http://, https:// or file:// URI");
        json_array_append_new (out, json_pack ("{s:s s:b s:b}", "uri", uri, "extract", extract,
                                               "executable", executable));
    }
    return 0;
}

static int
s_check_constraints (json_t *list, jcheck_error_t *err)
{
    if (json_array_size (list) > MAX_CONSTRAINTS)
        return jcheck_fail (err, "constraints", "has more than %d entries", MAX_CONSTRAINTS);
    size_t i;
    json_t *c;
    json_array_foreach (list, i, c) {
        char field[48];
        snprintf (field, sizeof field, "constraints[%zu]", i);
        size_t n = json_array_size (c);
        if (n < 2)
            return jcheck_fail (err, field, "must be [FIELD, OPERATOR] or [FIELD, OPERATOR, "
                                "VALUE], e.g. [\"hostname\", \"unique\"]");
        const char *name = json_string_value (json_array_get (c, 0));
        const char *op = json_string_value (json_array_get (c, 1));
        const char *value = n > 2 ? json_string_value (json_array_get (c, 2)) : NULL;
        if (strlen (name) > MAX_NAME)
            return jcheck_fail (err, field, "names a field longer than %d bytes", MAX_NAME);
        char opfield[64];
        snprintf (opfield, sizeof opfield, "%s[1]", field);
        char valfield[64];
        snprintf (valfield, sizeof valfield, "%s[2]", field);
        if (strcmp (op, "unique") == 0) {
            if (n != 2)
                return jcheck_fail (err, field, "must be [FIELD, \"unique\"]");
        }
        else if (strcmp (op, "equals") == 0) {
            if (n != 3)
                return jcheck_fail (err, field, "must be [FIELD, \"equals\", VALUE]");
        }
        else if (strcmp (op, "group_by") == 0) {
            if (n > 3)
                return jcheck_fail (err, field, "must be [FIELD, \"group_by\"] or [FIELD, "
                                    "\"group_by\", GROUPS]");
            if (value && s_positive (value) < 0)
                return jcheck_fail (err, valfield, "must be a positive number of groups, "
                                    "such as \"3\"");
        }
        else if (strcmp (op, "max_per") == 0) {
            if (n != 3)
                return jcheck_fail (err, field, "must be [FIELD, \"max_per\", N]");
            if (s_positive (value) < 0)
                return jcheck_fail (err, valfield, "must be a positive number, such as \"2\"");
        }
        else
            return jcheck_fail (err, opfield, "must be one of \"unique\", \"equals\", "
                                "\"group_by\", \"max_per\"");
    }
    return 0;
}

static json_t *
s_normalize_health (json_t *hc, int64_t ports, jcheck_error_t *err)
{
    const char *type = json_string_value (json_object_get (hc, "type"));
    json_t *command = json_object_get (hc, "command");
    json_t *path = json_object_get (hc, "path");
    int64_t port_index = s_int (hc, "port_index", 0);
    if (strcmp (type, "command") == 0) {
        if (!command) {
            jcheck_fail (err, "health_check.command", "is required for a command check");
            return NULL;
        }
        if (strlen (json_string_value (command)) > MAX_TEXT) {
            jcheck_fail (err, "health_check.command", "is longer than %d bytes", MAX_TEXT);
            return NULL;
        }
        if (path) {
            jcheck_fail (err, "health_check.path", "applies only to http checks");
            return NULL;
        }
    }
    else {
        if (command) {
            jcheck_fail (err, "health_check.command", "applies only to command checks");
            return NULL;
        }
        if (path && strcmp (type, "tcp") == 0) {
            jcheck_fail (err, "health_check.path", "applies only to http checks");
            return NULL;
        }
        if (path && (json_string_value (path)[0] != '/'
                     || strlen (json_string_value (path)) > MAX_TEXT
                     || strpbrk (json_string_value (path), " \r\n\t"))) {
            jcheck_fail (err, "health_check.path", "must be a request path such as \"/health\"");
            return NULL;
        }
        if (port_index >= ports) {
            jcheck_fail (err, "health_check.port_index", "must be less than ports (%s checks "
                         "connect to the instance's port PORT%" PRId64 ", and the app asks for "
                         "%" PRId64 ")", type, port_index, ports);
            return NULL;
        }
    }
    int64_t failures = s_int (hc, "max_failures", DEFAULT_HC_FAILURES);
    if (failures > 1000000) {
        jcheck_fail (err, "health_check.max_failures", "must be at most 1000000");
        return NULL;
    }
    json_t *out = json_pack ("{s:s s:I s:o s:o s:o s:o s:I}", "type", type,
                             "port_index", (json_int_t) port_index,
                             "delay_s", s_seconds_json (s_duration (hc, "delay_s",
                                                                    DEFAULT_HC_DELAY_S * 1000)),
                             "interval_s", s_seconds_json (s_duration (hc, "interval_s",
                                                                       DEFAULT_HC_INTERVAL_S * 1000)),
                             "timeout_s", s_seconds_json (s_duration (hc, "timeout_s",
                                                                      DEFAULT_HC_TIMEOUT_S * 1000)),
                             "grace_s", s_seconds_json (s_duration (hc, "grace_s",
                                                                    DEFAULT_HC_GRACE_S * 1000)),
                             "max_failures", (json_int_t) failures);
    if (strcmp (type, "command") == 0)
        json_object_set (out, "command", command);
    else if (strcmp (type, "http") == 0)
        json_object_set_new (out, "path", json_string (path ? json_string_value (path) : "/"));
    return out;
}

/*  The checks beyond the table, then the normalized document; NULL with
    *err.                                                                 */
static json_t *
s_normalize (json_t *doc, int64_t default_instances, jcheck_error_t *err)
{
    json_t *out = NULL;
    const char *id = json_string_value (json_object_get (doc, "id"));
    if (!s_id_valid (id)) {
        jcheck_fail (err, "id", "must be 1 to %d characters of a-z, 0-9, '.', '_' and '-', "
                     "starting with a letter or digit", APP_MAX_ID);
        goto error;
    }
    json_t *cmd = json_object_get (doc, "cmd");
    json_t *args = json_object_get (doc, "args");
    if (!cmd && !args) {
        jcheck_fail (err, "cmd", "is required (or args)");
        goto error;
    }
    if (cmd && args) {
        jcheck_fail (err, "args", "cannot be given with cmd: give one of them");
        goto error;
    }
    if (cmd && strlen (json_string_value (cmd)) > MAX_COMMAND) {
        jcheck_fail (err, "cmd", "is longer than %d bytes", MAX_COMMAND);
        goto error;
    }
    if (args && json_array_size (args) == 0) {
        jcheck_fail (err, "args", "must have at least the program's name");
        goto error;
    }
    if (args && json_array_size (args) > 4096) {
        jcheck_fail (err, "args", "has more than 4096 arguments");
        goto error;
    }
    int64_t instances = s_int (doc, "instances", default_instances);
    if (instances > APP_MAX_INSTANCES) {
        jcheck_fail (err, "instances", "must be at most %d", APP_MAX_INSTANCES);
        goto error;
    }
    double cpus = s_number (doc, "cpus", DEFAULT_CPUS);
    double milli = cpus * 1000.0;
    if (fabs (milli - round (milli)) > 1e-6) {
        jcheck_fail (err, "cpus", "must have at most three decimals");
        goto error;
    }
    int64_t mem = s_int (doc, "mem", DEFAULT_MEM);
    int64_t disk = s_int (doc, "disk", 0);
    if (mem > MAX_MEM) {
        jcheck_fail (err, "mem", "must be at most %lld MiB", (long long) MAX_MEM);
        goto error;
    }
    if (disk > MAX_MEM) {
        jcheck_fail (err, "disk", "must be at most %lld MiB", (long long) MAX_MEM);
        goto error;
    }
    if (round (milli) == 0 && mem == 0) {
        jcheck_fail (err, "mem", "cannot be 0 when cpus is 0: an instance needs some cpus or "
                     "mem");
        goto error;
    }
    int64_t ports = s_int (doc, "ports", 0);
    json_t *env = json_object_get (doc, "env");
    if (env && s_check_env (env, err) < 0)
        goto error;
    json_t *labels = json_object_get (doc, "labels");
    if (labels && s_check_labels (labels, err) < 0)
        goto error;
    json_t *user = json_object_get (doc, "user");
    if (user && strlen (json_string_value (user)) > MAX_NAME) {
        jcheck_fail (err, "user", "is longer than %d bytes", MAX_NAME);
        goto error;
    }
    json_t *constraints = json_object_get (doc, "constraints");
    if (constraints && s_check_constraints (constraints, err) < 0)
        goto error;
    json_t *backoff = json_object_get (doc, "backoff");
    int64_t initial_ms = s_duration (backoff, "initial_s", DEFAULT_BACKOFF_S * 1000);
    int64_t max_ms = s_duration (backoff, "max_s", DEFAULT_BACKOFF_MAX_S * 1000);
    if (max_ms < initial_ms) {
        jcheck_fail (err, "backoff.max_s", "must be at least backoff.initial_s");
        goto error;
    }
    json_t *upgrade = json_object_get (doc, "upgrade");

    out = json_object ();
    json_object_set_new (out, "id", json_string (id));
    if (cmd)
        json_object_set (out, "cmd", cmd);
    else
        json_object_set (out, "args", args);
    json_object_set_new (out, "instances", json_integer ((json_int_t) instances));
    json_object_set_new (out, "cpus", json_real (round (milli) / 1000.0));
    json_object_set_new (out, "mem", json_integer ((json_int_t) mem));
    json_object_set_new (out, "disk", json_integer ((json_int_t) disk));
    json_object_set_new (out, "ports", json_integer ((json_int_t) ports));
    json_object_set_new (out, "env", env ? json_deep_copy (env) : json_object ());
    json_object_set_new (out, "labels", labels ? json_deep_copy (labels) : json_object ());
    json_t *hc = json_object_get (doc, "health_check");
    if (hc) {
        json_t *h = s_normalize_health (hc, ports, err);
        if (!h)
            goto error;
        json_object_set_new (out, "health_check", h);
    }
    json_t *uris = json_array ();
    json_object_set_new (out, "uris", uris);
    json_t *u = json_object_get (doc, "uris");
    if (u && s_check_uris (u, uris, err) < 0)
        goto error;
    if (user)
        json_object_set (out, "user", user);
    json_object_set_new (out, "constraints",
                         constraints ? json_deep_copy (constraints) : json_array ());
    json_object_set_new (out, "backoff", json_pack ("{s:o s:f s:o}",
                                                    "initial_s", s_seconds_json (initial_ms),
                                                    "factor", s_number (backoff, "factor",
                                                                        DEFAULT_BACKOFF_FACTOR),
                                                    "max_s", s_seconds_json (max_ms)));
    json_object_set_new (out, "upgrade", json_pack ("{s:f s:f}",
                                                    "min_healthy", s_number (upgrade, "min_healthy",
                                                                             DEFAULT_MIN_HEALTHY),
                                                    "max_surge", s_number (upgrade, "max_surge",
                                                                           DEFAULT_MAX_SURGE)));
    json_t *grace = json_object_get (doc, "kill_grace_s");
    if (grace)
        json_object_set_new (out, "kill_grace_s", s_seconds_json (s_duration (doc, "kill_grace_s",
                                                                              0)));
    return out;
error:
    json_decref (out);
    return NULL;
}

/*  Fills the parsed view of a normalized document (already checked).    */
static app_spec_t *
s_spec_from (json_t *doc)
{
    app_spec_t *self = xzalloc (sizeof *self);
    self->doc = doc;
    self->id = json_string_value (json_object_get (doc, "id"));
    self->cmd = json_string_value (json_object_get (doc, "cmd"));
    json_t *args = json_object_get (doc, "args");
    if (args) {
        self->args = xzalloc ((json_array_size (args) + 1) * sizeof *self->args);
        for (size_t i = 0; i < json_array_size (args); i++)
            self->args[i] = json_string_value (json_array_get (args, i));
    }
    self->instances = s_int (doc, "instances", 1);
    self->millicpus = (int64_t) llround (s_number (doc, "cpus", 0) * 1000.0);
    self->mem = s_int (doc, "mem", 0);
    self->disk = s_int (doc, "disk", 0);
    self->ports = s_int (doc, "ports", 0);
    self->user = json_string_value (json_object_get (doc, "user"));
    json_t *hc = json_object_get (doc, "health_check");
    if (hc) {
        const char *type = json_string_value (json_object_get (hc, "type"));
        self->health_type = strcmp (type, "http") == 0 ? CAIRN_HEALTH_HTTP
                          : strcmp (type, "tcp") == 0  ? CAIRN_HEALTH_TCP
                                                       : CAIRN_HEALTH_COMMAND;
        self->health_target = json_string_value (json_object_get (
            hc, self->health_type == CAIRN_HEALTH_COMMAND ? "command" : "path"));
        self->health_port_index = s_int (hc, "port_index", 0);
        self->health_delay_ms = s_duration (hc, "delay_s", 0);
        self->health_interval_ms = s_duration (hc, "interval_s", 0);
        self->health_timeout_ms = s_duration (hc, "timeout_s", 0);
        self->health_grace_ms = s_duration (hc, "grace_s", 0);
        self->health_max_failures = s_int (hc, "max_failures", DEFAULT_HC_FAILURES);
    }
    json_t *uris = json_object_get (doc, "uris");
    self->nuris = json_array_size (uris);
    self->uris = self->nuris ? xzalloc (self->nuris * sizeof *self->uris) : NULL;
    for (size_t i = 0; i < self->nuris; i++) {
        json_t *u = json_array_get (uris, i);
        self->uris[i].uri = (char *) json_string_value (json_object_get (u, "uri"));
        self->uris[i].extract = json_is_true (json_object_get (u, "extract"));
        self->uris[i].executable = json_is_true (json_object_get (u, "executable"));
    }
    json_t *cons = json_object_get (doc, "constraints");
    self->nconstraints = json_array_size (cons);
    self->constraints = self->nconstraints ? xzalloc (self->nconstraints
                                                      * sizeof *self->constraints) : NULL;
    for (size_t i = 0; i < self->nconstraints; i++) {
        json_t *c = json_array_get (cons, i);
        constraint_t *k = &self->constraints[i];
        k->field = (char *) json_string_value (json_array_get (c, 0));
        const char *op = json_string_value (json_array_get (c, 1));
        const char *value = json_string_value (json_array_get (c, 2));
        k->op = strcmp (op, "unique") == 0   ? CONSTRAINT_UNIQUE
              : strcmp (op, "equals") == 0   ? CONSTRAINT_EQUALS
              : strcmp (op, "group_by") == 0 ? CONSTRAINT_GROUP_BY
                                             : CONSTRAINT_MAX_PER;
        k->value = (char *) value;
        k->n = value && k->op != CONSTRAINT_EQUALS ? s_positive (value) : 0;
    }
    json_t *backoff = json_object_get (doc, "backoff");
    self->backoff_initial_ms = s_duration (backoff, "initial_s", 0);
    self->backoff_max_ms = s_duration (backoff, "max_s", 0);
    self->backoff_factor = s_number (backoff, "factor", DEFAULT_BACKOFF_FACTOR);
    json_t *upgrade = json_object_get (doc, "upgrade");
    self->min_healthy = s_number (upgrade, "min_healthy", DEFAULT_MIN_HEALTHY);
    self->max_surge = s_number (upgrade, "max_surge", DEFAULT_MAX_SURGE);
    self->kill_grace_ms = json_object_get (doc, "kill_grace_s")
                        ? s_duration (doc, "kill_grace_s", 0) : -1;
    return self;
}

app_spec_t *
app_spec_parse (json_t *doc, int64_t default_instances, jcheck_error_t *err)
{
    assert (err);
    if (jcheck_object (doc, s_app_fields, NULL, err) < 0)
        return NULL;
    json_t *norm = s_normalize (doc, default_instances, err);
    return norm ? s_spec_from (norm) : NULL;
}

app_spec_t *
app_spec_load (const char *text, jcheck_error_t *err)
{
    json_t *doc = jcheck_load (text, strlen (text), err);
    if (!doc)
        return NULL;
    app_spec_t *self = app_spec_parse (doc, 1, err);
    json_decref (doc);
    return self;
}

void
app_spec_destroy (app_spec_t **self_p)
{
    assert (self_p);
    app_spec_t *self = *self_p;
    if (!self)
        return;
    json_decref (self->doc);
    free (self->args);
    free (self->uris);
    free (self->constraints);
    free (self);
    *self_p = NULL;
}

bool
app_spec_same (const app_spec_t *a, const app_spec_t *b)
{
    json_t *x = json_copy (a->doc), *y = json_copy (b->doc);
    json_object_del (x, "instances");
    json_object_del (y, "instances");
    bool same = json_equal (x, y);
    json_decref (x);
    json_decref (y);
    return same;
}

json_t *
app_spec_doc (const app_spec_t *self, int64_t instances)
{
    json_t *doc = json_deep_copy (self->doc);
    json_object_set_new (doc, "instances", json_integer ((json_int_t) instances));
    return doc;
}

cairn_task_t *
app_spec_task (const app_spec_t *self, const char *task_id, int64_t version,
               const uint16_t *ports, size_t nports)
{
    cairn_task_t *task = cairn_task_new (task_id);
    cairn_resources_t *res = cairn_resources_new ();
    if (!task || !res)
        goto error;
    if (cairn_task_set_name (task, self->id) < 0)
        goto error;
    if (self->cmd ? cairn_task_set_command (task, self->cmd) < 0
                  : cairn_task_set_argv (task, self->args) < 0)
        goto error;
    const char *key;
    json_t *v;
    json_object_foreach (json_object_get (self->doc, "env"), key, v)
        if (cairn_task_set_env (task, key, json_string_value (v)) < 0)
            goto error;
    json_object_foreach (json_object_get (self->doc, "labels"), key, v)
        if (cairn_task_add_label (task, key, json_string_value (v)) < 0)
            goto error;
    char vtext[32];
    snprintf (vtext, sizeof vtext, "%" PRId64, version);
    if (cairn_task_add_label (task, LABEL_APP, self->id) < 0
        || cairn_task_add_label (task, LABEL_VERSION, vtext) < 0)
        goto error;
    if (cairn_resources_set_millicpus (res, self->millicpus) < 0
        || cairn_resources_set_mem (res, (uint64_t) self->mem) < 0
        || cairn_resources_set_disk (res, (uint64_t) self->disk) < 0)
        goto error;
    for (size_t i = 0; i < nports; i++)
        if (cairn_resources_add_ports (res, ports[i], ports[i]) < 0)
            goto error;
    if (cairn_task_set_resources (task, res) < 0)
        goto error;
    for (size_t i = 0; i < self->nuris; i++)
        if (cairn_task_add_uri (task, self->uris[i].uri, self->uris[i].extract,
                                self->uris[i].executable) < 0)
            goto error;
    if (self->user && cairn_task_set_user (task, self->user) < 0)
        goto error;
    if (self->kill_grace_ms >= 0
        && cairn_task_set_kill_grace (task, (double) self->kill_grace_ms / 1000.0) < 0)
        goto error;
    if (self->health_type != CAIRN_HEALTH_NONE
        && cairn_task_set_health_check (task, self->health_type, self->health_target,
                                        (unsigned) self->health_port_index,
                                        (double) self->health_delay_ms / 1000.0,
                                        (double) self->health_interval_ms / 1000.0,
                                        (double) self->health_timeout_ms / 1000.0,
                                        (double) self->health_grace_ms / 1000.0,
                                        (unsigned) self->health_max_failures) < 0)
        goto error;
    cairn_resources_destroy (&res);
    return task;
error:
    cairn_resources_destroy (&res);
    cairn_task_destroy (&task);
    return NULL;
}
