/*  error.c - last-error sentences and allocation helpers.

    Every cairn_ call that fails records a sentence a person can act on in
    a thread-local buffer and sets errno; callers read it with
    cairn_strerror_last (). Out of memory is not recoverable here (as in
    CZMQ): the x* helpers abort with a message.                           */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn.h"
#include "error.h"

static __thread char s_last[512];

int
error_set (int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (s_last, sizeof s_last, fmt, ap);
    va_end (ap);
    errno = errnum;
    return -1;
}

void
error_clear (void)
{
    s_last[0] = '\0';
}

const char *
cairn_strerror_last (void)
{
    return s_last;
}

const char *
cairn_version (void)
{
    return PACKAGE_VERSION;
}

void
oom_abort (void)
{
    fputs ("cairn: out of memory\n", stderr);
    abort ();
}

void *
xmalloc (size_t size)
{
    void *p = malloc (size ? size : 1);
    if (!p)
        oom_abort ();
    return p;
}

void *
xzalloc (size_t size)
{
    void *p = calloc (1, size ? size : 1);
    if (!p)
        oom_abort ();
    return p;
}

void *
xrealloc (void *ptr, size_t size)
{
    void *p = realloc (ptr, size ? size : 1);
    if (!p)
        oom_abort ();
    return p;
}

char *
xstrdup (const char *s)
{
    char *p = strdup (s);
    if (!p)
        oom_abort ();
    return p;
}

char *
xstrndup (const char *s, size_t n)
{
    char *p = xmalloc (n + 1);
    if (n)
        memcpy (p, s, n);
    p[n] = '\0';
    return p;
}

char *
xasprintf (const char *fmt, ...)
{
    va_list ap;
    char *p = NULL;
    va_start (ap, fmt);
    int rc = vasprintf (&p, fmt, ap);
    va_end (ap);
    if (rc < 0)
        oom_abort ();
    return p;
}
