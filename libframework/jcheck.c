/*  jcheck.c - validating users' JSON against a table of fields.

    One recursive walk: each member of an object is looked up in its
    table (unknown names are errors, with a "did you mean" hint), then
    checked against its type; required fields are checked after the
    members, so a misspelt required field is reported as the misspelling,
    which is the more useful message. The first error wins.              */
#include "config.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "flags.h"
#include "jcheck.h"
#include "util.h"

#define MAX_FIELDS 128          /* names in one table, for the hint */

static int s_check_value (json_t *value, const jcheck_field_t *field, const char *path,
                          jcheck_error_t *err);

static int
s_fail (jcheck_error_t *err, const char *path, char *message)
{
    jcheck_error_clear (err);
    err->field = xstrdup (path ? path : "");
    err->message = message;
    return -1;
}

int
jcheck_fail (jcheck_error_t *err, const char *field, const char *fmt, ...)
{
    assert (err && fmt);
    va_list ap;
    char *tail = NULL;
    va_start (ap, fmt);
    if (vasprintf (&tail, fmt, ap) < 0)
        oom_abort ();
    va_end (ap);
    char *message = field && *field ? xasprintf ("%s %s", field, tail) : xstrdup (tail);
    free (tail);
    return s_fail (err, field, message);
}

void
jcheck_error_clear (jcheck_error_t *err)
{
    if (!err)
        return;
    free (err->message);
    free (err->field);
    err->message = NULL;
    err->field = NULL;
}

static bool
s_ends_with_s (const char *name)
{
    size_t n = name ? strlen (name) : 0;
    return n >= 2 && strcmp (name + n - 2, "_s") == 0;
}

int
jcheck_duration_ms (json_t *value, const char *name, int64_t *ms)
{
    if (json_is_string (value))
        return duration_parse (json_string_value (value), ms);
    if (json_is_number (value) && s_ends_with_s (name)) {
        double s = json_number_value (value);
        if (!isfinite (s) || s < 0 || s > 1e9)
            return error_set (ERANGE, "%g seconds is out of range", s);
        *ms = (int64_t) llround (s * 1000.0);
        return 0;
    }
    return error_set (EINVAL, "not a duration");
}

/*  "must be a non-negative integer", "must be an integer from 1 to 10". */
static char *
s_range_words (const jcheck_field_t *f, const char *noun, const char *article)
{
    if (!f->ranged)
        return xasprintf ("must be %s %s", article, noun);
    if (f->min == 0 && f->max >= 1e15)
        return xasprintf ("must be a non-negative %s", noun);
    if (f->min == 1 && f->max >= 1e15)
        return xasprintf ("must be a positive %s", noun);
    if (f->max >= 1e15)
        return xasprintf ("must be %s %s of at least %g", article, noun, f->min);
    return xasprintf ("must be %s %s from %g to %g", article, noun, f->min, f->max);
}

static int
s_type_error (jcheck_error_t *err, const char *path, const jcheck_field_t *f)
{
    char *words = NULL;
    switch (f->type) {
        case JCHECK_STRING:
            if (f->choices) {
                size_t len = 0;
                char list[512] = "";
                for (const char *const *c = f->choices; *c && len < sizeof list; c++)
                    len += (size_t) snprintf (list + len, sizeof list - len, "%s\"%s\"",
                                              c == f->choices ? "" : ", ", *c);
                words = xasprintf ("must be one of %s", list);
            }
            else
                words = xstrdup (f->nonempty ? "must be a non-empty string" : "must be a string");
            break;
        case JCHECK_INT:
            words = s_range_words (f, "integer", "an");
            break;
        case JCHECK_NUMBER:
            words = s_range_words (f, "number", "a");
            break;
        case JCHECK_BOOL:
            words = xstrdup ("must be true or false");
            break;
        case JCHECK_DURATION:
            words = xstrdup (s_ends_with_s (f->name)
                             ? "must be a duration such as \"10s\" or a number of seconds"
                             : "must be a duration such as \"500ms\", \"10s\" or \"5m\"");
            break;
        case JCHECK_OBJECT:
            words = xstrdup ("must be an object");
            break;
        case JCHECK_ARRAY:
            words = xstrdup (f->nonempty ? "must be a non-empty array" : "must be an array");
            break;
        case JCHECK_STRING_MAP:
            words = xstrdup ("must be an object whose values are strings");
            break;
        case JCHECK_STRING_ARRAY:
            words = xstrdup (f->nonempty ? "must be an array of non-empty strings"
                                         : "must be an array of strings");
            break;
        case JCHECK_ANY:
            words = xstrdup ("is not valid");
            break;
    }
    char *message = xasprintf ("%s %s", *path ? path : "the document", words);
    free (words);
    return s_fail (err, path, message);
}

static bool
s_in_range (const jcheck_field_t *f, double v)
{
    return !f->ranged || (v >= f->min && v <= f->max);
}

static int
s_check_object (json_t *json, const jcheck_field_t *fields, const char *path,
                jcheck_error_t *err)
{
    const char *key;
    json_t *value;
    json_object_foreach (json, key, value) {
        const jcheck_field_t *f = NULL;
        for (const jcheck_field_t *g = fields; g->name; g++)
            if (strcmp (g->name, key) == 0) {
                f = g;
                break;
            }
        char *sub = *path ? xasprintf ("%s.%s", path, key) : xstrdup (key);
        int rc = 0;
        if (!f) {
            const char *names[MAX_FIELDS];
            size_t n = 0;
            for (const jcheck_field_t *g = fields; g->name && n < MAX_FIELDS; g++)
                names[n++] = g->name;
            const char *hint = util_closest (key, names, n);
            char *message = hint ? xasprintf ("unknown field '%s' (did you mean %s?)", sub, hint)
                                 : xasprintf ("unknown field '%s'", sub);
            rc = s_fail (err, sub, message);
        }
        else
            rc = s_check_value (value, f, sub, err);
        free (sub);
        if (rc < 0)
            return -1;
    }
    for (const jcheck_field_t *f = fields; f->name; f++)
        if (f->required && !json_object_get (json, f->name)) {
            char *sub = *path ? xasprintf ("%s.%s", path, f->name) : xstrdup (f->name);
            int rc = s_fail (err, sub, xasprintf ("%s is required", sub));
            free (sub);
            return rc;
        }
    return 0;
}

static int
s_check_value (json_t *value, const jcheck_field_t *f, const char *path, jcheck_error_t *err)
{
    switch (f->type) {
        case JCHECK_ANY:
            return 0;
        case JCHECK_STRING: {
            if (!json_is_string (value))
                return s_type_error (err, path, f);
            const char *s = json_string_value (value);
            if (f->nonempty && !*s)
                return s_type_error (err, path, f);
            if (f->choices) {
                for (const char *const *c = f->choices; *c; c++)
                    if (strcmp (*c, s) == 0)
                        return 0;
                return s_type_error (err, path, f);
            }
            return 0;
        }
        case JCHECK_INT:
            if (!json_is_integer (value)
                || !s_in_range (f, (double) json_integer_value (value)))
                return s_type_error (err, path, f);
            return 0;
        case JCHECK_NUMBER:
            if (!json_is_number (value) || !isfinite (json_number_value (value))
                || !s_in_range (f, json_number_value (value)))
                return s_type_error (err, path, f);
            return 0;
        case JCHECK_BOOL:
            return json_is_boolean (value) ? 0 : s_type_error (err, path, f);
        case JCHECK_DURATION: {
            int64_t ms;
            if (jcheck_duration_ms (value, f->name, &ms) < 0)
                return s_type_error (err, path, f);
            if (!s_in_range (f, (double) ms)) {
                char *lo = duration_format ((int64_t) f->min);
                char *hi = duration_format ((int64_t) f->max);
                char *message = xasprintf ("%s must be from %s to %s", path, lo, hi);
                free (lo);
                free (hi);
                return s_fail (err, path, message);
            }
            return 0;
        }
        case JCHECK_OBJECT:
            if (!json_is_object (value))
                return s_type_error (err, path, f);
            return f->fields ? s_check_object (value, f->fields, path, err) : 0;
        case JCHECK_ARRAY: {
            if (!json_is_array (value) || (f->nonempty && json_array_size (value) == 0))
                return s_type_error (err, path, f);
            if (!f->items)
                return 0;
            size_t i;
            json_t *item;
            json_array_foreach (value, i, item) {
                char *sub = xasprintf ("%s[%zu]", path, i);
                int rc = s_check_value (item, f->items, sub, err);
                free (sub);
                if (rc < 0)
                    return -1;
            }
            return 0;
        }
        case JCHECK_STRING_MAP: {
            if (!json_is_object (value) || (f->nonempty && json_object_size (value) == 0))
                return s_type_error (err, path, f);
            const char *key;
            json_t *v;
            json_object_foreach (value, key, v) {
                if (!json_is_string (v)) {
                    char *sub = xasprintf ("%s.%s", path, key);
                    int rc = s_fail (err, sub, xasprintf ("%s must be a string", sub));
                    free (sub);
                    return rc;
                }
            }
            return 0;
        }
        case JCHECK_STRING_ARRAY: {
            if (!json_is_array (value))
                return s_type_error (err, path, f);
            size_t i;
            json_t *item;
            json_array_foreach (value, i, item) {
                if (!json_is_string (item) || (f->nonempty && !*json_string_value (item))) {
                    char *sub = xasprintf ("%s[%zu]", path, i);
                    int rc = s_fail (err, sub, xasprintf ("%s must be a %sstring", sub,
                                                          f->nonempty ? "non-empty " : ""));
                    free (sub);
                    return rc;
                }
            }
            return 0;
        }
    }
    return 0;
}

int
jcheck_object (json_t *json, const jcheck_field_t *fields, const char *prefix,
               jcheck_error_t *err)
{
    assert (fields && err);
    const char *path = prefix ? prefix : "";
    if (!json_is_object (json)) {
        char *message = xasprintf ("%s must be a JSON object", *path ? path : "the document");
        return s_fail (err, path, message);
    }
    return s_check_object (json, fields, path, err);
}

json_t *
jcheck_load (const char *text, size_t size, jcheck_error_t *err)
{
    assert (err);
    json_error_t jerr;
    json_t *json = json_loadb (text ? text : "", text ? size : 0,
                               JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!json)
        s_fail (err, NULL, xasprintf ("not valid JSON: line %d, column %d: %s", jerr.line,
                                      jerr.column, jerr.text));
    return json;
}
