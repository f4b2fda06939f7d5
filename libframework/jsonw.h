/*  jsonw.h - a streaming JSON writer into a growing buffer.

    For large documents built in slices (the master's /state at tens of
    thousands of agents): no tree of objects, one pass, strings escaped
    as they are appended. The writer tracks where commas go; the caller
    keeps the nesting right.                                               */
#ifndef CAIRN_JSONW_H_INCLUDED
#define CAIRN_JSONW_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSONW_MAX_DEPTH 32

typedef struct {
    char *buf;
    size_t len, cap;
    int depth;
    bool first[JSONW_MAX_DEPTH];     /* nothing written yet at this level */
    bool after_key;
} jsonw_t;

void jsonw_init (jsonw_t *w);
void jsonw_fini (jsonw_t *w);
/*  Hands over the text (NUL-terminated) and resets the writer.            */
char *jsonw_take (jsonw_t *w, size_t *size);

void jsonw_object (jsonw_t *w);          /* { */
void jsonw_array (jsonw_t *w);           /* [ */
void jsonw_end (jsonw_t *w, char close); /* } or ] */
void jsonw_key (jsonw_t *w, const char *key);
void jsonw_string (jsonw_t *w, const char *s);
void jsonw_int (jsonw_t *w, int64_t v);
void jsonw_double (jsonw_t *w, double v);
void jsonw_bool (jsonw_t *w, bool v);
void jsonw_null (jsonw_t *w);

/*  key + value in one call.                                               */
void jsonw_kstring (jsonw_t *w, const char *key, const char *s);
void jsonw_kint (jsonw_t *w, const char *key, int64_t v);
void jsonw_kdouble (jsonw_t *w, const char *key, double v);
void jsonw_kbool (jsonw_t *w, const char *key, bool v);
/*  KEY: followed by json, a complete JSON value written by someone else
    (not checked).                                                        */
void jsonw_kraw (jsonw_t *w, const char *key, const char *json);

#endif
