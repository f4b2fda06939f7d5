/*  jcheck.h - validating JSON documents from users (app definitions, job
    files, API bodies) against a table of fields, with errors that name
    the field at fault. Internal.

    A document is described once, as a table of jcheck_field_t ended by
    an entry whose name is NULL:

        static const jcheck_field_t s_app[] = {
            JCHECK ("id", JCHECK_STRING, .required = true, .nonempty = true),
            JCHECK ("instances", JCHECK_INT, .ranged = true, .min = 0, .max = 1e6),
            JCHECK ("health_check", JCHECK_OBJECT, .fields = s_health),
            JCHECK ("env", JCHECK_STRING_MAP),
            JCHECK_END
        };
        jcheck_error_t err = { 0 };
        if (jcheck_object (doc, s_app, NULL, &err) < 0)
            reply 400 {"error": err.message, "field": err.field}

    Unknown fields are errors, never ignored. Messages are sentences that
    start with the field's path ("instances must be a non-negative
    integer", "health_check.interval_s must be a duration such as \"10s\"
    or a number of seconds", "unknown field 'instnces' (did you mean
    instances?)"); the path uses dots for objects and [i] for arrays.
    Durations follow the project's convention: "<n>ms|s|m|h" strings, and
    bare numbers (seconds) only in fields whose name ends in _s.           */
#ifndef CAIRN_JCHECK_H_INCLUDED
#define CAIRN_JCHECK_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

typedef enum {
    JCHECK_ANY,                 /* any JSON value */
    JCHECK_STRING,              /* .nonempty, .choices */
    JCHECK_INT,                 /* an integer (not 2.0, not true); .min/.max if ranged */
    JCHECK_NUMBER,              /* any number; .min/.max if ranged */
    JCHECK_BOOL,
    JCHECK_DURATION,            /* "<n>ms|s|m|h", or seconds for *_s; .min/.max in ms */
    JCHECK_OBJECT,              /* .fields: its fields; NULL accepts any object */
    JCHECK_ARRAY,               /* .items: each element's description; NULL: any */
    JCHECK_STRING_MAP,          /* an object whose values are all strings (env, labels) */
    JCHECK_STRING_ARRAY,        /* an array of strings; .nonempty applies to each */
} jcheck_type_t;

typedef struct jcheck_field {
    const char *name;           /* NULL ends a table */
    jcheck_type_t type;
    bool required;
    bool nonempty;              /* STRING(_ARRAY): no "" ; ARRAY/MAP: at least one entry */
    bool ranged;                /* INT, NUMBER, DURATION: check min..max */
    double min, max;
    const char *const *choices; /* STRING: allowed values, NULL-terminated */
    const struct jcheck_field *fields;  /* OBJECT */
    const struct jcheck_field *items;   /* ARRAY: one description (its name unused) */
} jcheck_field_t;

/*  Entries by name, with designated options after the type.             */
#define JCHECK(n, t, ...)   { .name = (n), .type = (t), __VA_ARGS__ }
#define JCHECK_END          { .name = NULL }

typedef struct {
    char *message;              /* the sentence for people */
    char *field;                /* the path of the field at fault ("" for the whole) */
} jcheck_error_t;

/*  Checks that json is an object with only the fields in `fields`, each of
    its type, and the required ones present. prefix (may be NULL) is put
    before field paths ("jobs[2]" gives "jobs[2].cmd"). Returns 0, or -1
    with *err filled (free it with jcheck_error_clear). Stops at the first
    error.                                                                 */
int jcheck_object (json_t *json, const jcheck_field_t *fields, const char *prefix,
                   jcheck_error_t *err);

/*  Fills *err with a message of the caller's (after "PATH ") for checks
    the table cannot express; returns -1. field may be NULL for the whole
    document. The message is "field: ..." built as "<field> <fmt...>" when
    field is set, else fmt alone.                                          */
int jcheck_fail (jcheck_error_t *err, const char *field, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/*  Frees the error's strings and zeroes it. NULL-safe, idempotent.       */
void jcheck_error_clear (jcheck_error_t *err);

/*  Reads a duration checked by JCHECK_DURATION (name is the field's name,
    for the *_s rule): 0 with *ms, -1 if it is not one.                   */
int jcheck_duration_ms (json_t *value, const char *name, int64_t *ms);

/*  Loads text as one JSON value, rejecting duplicate keys. NULL with *err
    filled ("line 3, column 7: ...") if it is not JSON.                   */
json_t *jcheck_load (const char *text, size_t size, jcheck_error_t *err);

#endif
