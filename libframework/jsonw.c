/*  jsonw.c - streaming JSON writer. Strings are UTF-8 already (the codec
    guarantees it for everything that came off the wire); control
    characters, quotes and backslashes are escaped.                        */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "jsonw.h"

void
jsonw_init (jsonw_t *w)
{
    memset (w, 0, sizeof *w);
    w->first[0] = true;
}

void
jsonw_fini (jsonw_t *w)
{
    free (w->buf);
    memset (w, 0, sizeof *w);
}

char *
jsonw_take (jsonw_t *w, size_t *size)
{
    if (!w->buf) {
        w->buf = xmalloc (1);
        w->len = 0;
    }
    w->buf[w->len] = '\0';
    char *text = w->buf;
    if (size)
        *size = w->len;
    w->buf = NULL;
    jsonw_fini (w);
    jsonw_init (w);
    return text;
}

static void
s_reserve (jsonw_t *w, size_t more)
{
    if (w->len + more + 1 <= w->cap)
        return;
    size_t cap = w->cap ? w->cap * 2 : 4096;
    while (cap < w->len + more + 1)
        cap *= 2;
    w->buf = xrealloc (w->buf, cap);
    w->cap = cap;
}

static void
s_raw (jsonw_t *w, const char *s, size_t n)
{
    s_reserve (w, n);
    memcpy (w->buf + w->len, s, n);
    w->len += n;
}

/*  Before a value: a comma unless it is the first at its level, or the
    value of a key just written.                                          */
static void
s_sep (jsonw_t *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (!w->first[w->depth])
        s_raw (w, ",", 1);
    w->first[w->depth] = false;
}

static void
s_open (jsonw_t *w, char c)
{
    s_sep (w);
    s_raw (w, &c, 1);
    if (w->depth + 1 < JSONW_MAX_DEPTH)
        w->depth++;
    w->first[w->depth] = true;
}

void
jsonw_object (jsonw_t *w)
{
    s_open (w, '{');
}

void
jsonw_array (jsonw_t *w)
{
    s_open (w, '[');
}

void
jsonw_end (jsonw_t *w, char close)
{
    s_raw (w, &close, 1);
    if (w->depth > 0)
        w->depth--;
}

static void
s_quoted (jsonw_t *w, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = strlen (s);
    s_reserve (w, n + 2);
    w->buf[w->len++] = '"';
    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            char esc[2] = { '\\', (char) c };
            s_raw (w, esc, 2);
        }
        else if (c < 0x20) {
            char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
            s_raw (w, esc, 6);
        }
        else {
            s_reserve (w, 1);
            w->buf[w->len++] = (char) c;
        }
    }
    s_raw (w, "\"", 1);
}

void
jsonw_key (jsonw_t *w, const char *key)
{
    s_sep (w);
    s_quoted (w, key);
    s_raw (w, ":", 1);
    w->after_key = true;
}

void
jsonw_string (jsonw_t *w, const char *s)
{
    s_sep (w);
    s_quoted (w, s ? s : "");
}

void
jsonw_int (jsonw_t *w, int64_t v)
{
    char num[32];
    int n = snprintf (num, sizeof num, "%" PRId64, v);
    s_sep (w);
    s_raw (w, num, (size_t) n);
}

void
jsonw_double (jsonw_t *w, double v)
{
    char num[40];
    int n;
    if (!isfinite (v))
        n = snprintf (num, sizeof num, "null");
    else if (v == (double) (int64_t) v && fabs (v) < 1e15)
        n = snprintf (num, sizeof num, "%" PRId64, (int64_t) v);
    else {
        /*  The shortest form that reads back exactly, within reason.     */
        n = snprintf (num, sizeof num, "%.15g", v);
        if (strtod (num, NULL) != v)
            n = snprintf (num, sizeof num, "%.17g", v);
    }
    s_sep (w);
    s_raw (w, num, (size_t) n);
}

void
jsonw_bool (jsonw_t *w, bool v)
{
    s_sep (w);
    s_raw (w, v ? "true" : "false", v ? 4 : 5);
}

void
jsonw_null (jsonw_t *w)
{
    s_sep (w);
    s_raw (w, "null", 4);
}

void
jsonw_kstring (jsonw_t *w, const char *key, const char *s)
{
    jsonw_key (w, key);
    jsonw_string (w, s);
}

void
jsonw_kint (jsonw_t *w, const char *key, int64_t v)
{
    jsonw_key (w, key);
    jsonw_int (w, v);
}

void
jsonw_kdouble (jsonw_t *w, const char *key, double v)
{
    jsonw_key (w, key);
    jsonw_double (w, v);
}

void
jsonw_kbool (jsonw_t *w, const char *key, bool v)
{
    jsonw_key (w, key);
    jsonw_bool (w, v);
}

void
jsonw_kraw (jsonw_t *w, const char *key, const char *json)
{
    jsonw_key (w, key);
    s_sep (w);
    s_raw (w, json, strlen (json));
}
