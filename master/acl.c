/*  acl.c - the master's authorization rules: a JSON file read once at
    start into lists of names per rule; every check is a linear walk of a
    section's rules (ACLs are small and checks are per registration or per
    launch, never per message of a hot path).                            */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "acl.h"
#include "error.h"
#include "util.h"

typedef struct {
    bool any;                   /* "ANY" */
    char **names;
    size_t count;
} names_t;

typedef struct {
    names_t principals;
    names_t objects;
} rule_t;

typedef struct {
    bool present;
    rule_t *rules;
    size_t count;
} section_t;

struct _acl_t {
    section_t sections[ACL_NSECTIONS];
};

static const struct {
    const char *name;
    const char *object_key;     /* NULL: rules have only principals */
    const char *object_what;    /* for denials */
} s_sections[ACL_NSECTIONS] = {
    [ACL_REGISTER_FRAMEWORKS] = { "register_frameworks", "roles", "register a framework under role" },
    [ACL_REGISTER_AGENTS] = { "register_agents", NULL, "register an agent" },
    [ACL_RUN_TASKS] = { "run_tasks", "users", "run tasks as user" },
    [ACL_TEARDOWN_FRAMEWORKS] = { "teardown_frameworks", "framework_principals",
                                  "tear down frameworks of principal" },
    [ACL_OPERATOR] = { "operator", "actions", "perform the operator action" },
};

const char *
acl_section_name (acl_section_t section)
{
    return section < ACL_NSECTIONS ? s_sections[section].name : "?";
}

static void
s_names_fini (names_t *n)
{
    for (size_t i = 0; i < n->count; i++)
        free (n->names[i]);
    free (n->names);
}

/*  "ANY" or a list of non-empty strings.                                  */
static int
s_names_parse (json_t *value, names_t *out, const char *path, const char *where)
{
    memset (out, 0, sizeof *out);
    if (json_is_string (value) && strcmp (json_string_value (value), "ANY") == 0) {
        out->any = true;
        return 0;
    }
    if (!json_is_array (value))
        return error_set (EINVAL, "ACL %s: %s must be \"ANY\" or a list of names", path, where);
    size_t i;
    json_t *item;
    out->names = xzalloc ((json_array_size (value) + 1) * sizeof (char *));
    json_array_foreach (value, i, item) {
        const char *s = json_string_value (item);
        if (!s || !*s) {
            s_names_fini (out);
            return error_set (EINVAL, "ACL %s: %s[%zu] must be a non-empty string", path, where,
                              i);
        }
        out->names[out->count++] = xstrdup (s);
    }
    return 0;
}

static bool
s_names_match (const names_t *n, const char *name)
{
    if (n->any)
        return true;
    if (!name)
        return false;
    for (size_t i = 0; i < n->count; i++)
        if (strcmp (n->names[i], name) == 0)
            return true;
    return false;
}

acl_t *
acl_load (const char *path)
{
    json_error_t jerr;
    json_t *root = json_load_file (path, JSON_REJECT_DUPLICATES, &jerr);
    acl_t *self = NULL;
    if (!root) {
        error_set (EINVAL, "ACL %s: %s (line %d, column %d)", path, jerr.text, jerr.line,
                   jerr.column);
        return NULL;
    }
    if (!json_is_object (root)) {
        error_set (EINVAL, "ACL %s: the file must hold a JSON object", path);
        goto error;
    }
    self = xzalloc (sizeof *self);
    const char *key;
    json_t *value;
    json_object_foreach (root, key, value) {
        int s;
        for (s = 0; s < ACL_NSECTIONS; s++)
            if (strcmp (key, s_sections[s].name) == 0)
                break;
        if (s == ACL_NSECTIONS) {
            error_set (EINVAL, "ACL %s: unknown section '%s' (known: register_frameworks, "
                       "register_agents, run_tasks, teardown_frameworks, operator)", path, key);
            goto error;
        }
        if (!json_is_array (value)) {
            error_set (EINVAL, "ACL %s: %s must be a list of rules", path, key);
            goto error;
        }
        section_t *sec = &self->sections[s];
        sec->present = true;
        sec->rules = xzalloc ((json_array_size (value) + 1) * sizeof (rule_t));
        size_t i;
        json_t *jrule;
        json_array_foreach (value, i, jrule) {
            char where[128];
            if (!json_is_object (jrule)) {
                error_set (EINVAL, "ACL %s: %s[%zu] must be an object", path, key, i);
                goto error;
            }
            const char *rkey;
            json_t *rvalue;
            json_object_foreach (jrule, rkey, rvalue)
                if (strcmp (rkey, "principals") != 0
                    && !(s_sections[s].object_key && strcmp (rkey, s_sections[s].object_key) == 0)) {
                    error_set (EINVAL, "ACL %s: %s[%zu]: unknown key '%s' (expected principals%s%s)",
                               path, key, i, rkey, s_sections[s].object_key ? " and " : "",
                               s_sections[s].object_key ? s_sections[s].object_key : "");
                    goto error;
                }
            rule_t *rule = &sec->rules[sec->count];
            snprintf (where, sizeof where, "%s[%zu].principals", key, i);
            if (s_names_parse (json_object_get (jrule, "principals"), &rule->principals, path,
                               where) < 0)
                goto error;
            if (s_sections[s].object_key) {
                snprintf (where, sizeof where, "%s[%zu].%s", key, i, s_sections[s].object_key);
                if (s_names_parse (json_object_get (jrule, s_sections[s].object_key),
                                   &rule->objects, path, where) < 0) {
                    s_names_fini (&rule->principals);
                    goto error;
                }
            }
            else
                rule->objects.any = true;
            sec->count++;
        }
    }
    json_decref (root);
    return self;
error:
    json_decref (root);
    acl_destroy (&self);
    return NULL;
}

void
acl_destroy (acl_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    acl_t *self = *self_p;
    for (int s = 0; s < ACL_NSECTIONS; s++) {
        for (size_t i = 0; i < self->sections[s].count; i++) {
            s_names_fini (&self->sections[s].rules[i].principals);
            s_names_fini (&self->sections[s].rules[i].objects);
        }
        free (self->sections[s].rules);
    }
    free (self);
    *self_p = NULL;
}

bool
acl_allows (const acl_t *self, acl_section_t section, const char *principal, const char *object,
            char *why, size_t why_size)
{
    if (why && why_size)
        *why = '\0';
    if (!self || section >= ACL_NSECTIONS || !self->sections[section].present)
        return true;
    const section_t *sec = &self->sections[section];
    for (size_t i = 0; i < sec->count; i++)
        if (s_names_match (&sec->rules[i].principals, principal)
            && s_names_match (&sec->rules[i].objects, object))
            return true;
    if (why && why_size) {
        char who[160];
        if (principal)
            snprintf (who, sizeof who, "principal '%s'", principal);
        else
            snprintf (who, sizeof who, "an unauthenticated client");
        if (s_sections[section].object_key)
            snprintf (why, why_size, "not authorized: no rule of the ACL's %s section lets %s "
                      "%s '%s'", s_sections[section].name, who, s_sections[section].object_what,
                      object ? object : "");
        else
            snprintf (why, why_size, "not authorized: no rule of the ACL's %s section lets %s "
                      "%s", s_sections[section].name, who, s_sections[section].object_what);
    }
    return false;
}
