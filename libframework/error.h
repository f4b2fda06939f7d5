/*  error.h - the thread-local "last error" sentence behind
    cairn_strerror_last (). Internal.                                      */
#ifndef CAIRN_ERROR_H_INCLUDED
#define CAIRN_ERROR_H_INCLUDED

#include <errno.h>

/*  Records a sentence for cairn_strerror_last and sets errno to errnum.
    Always returns -1 so callers can `return error_set (...)`.            */
int error_set (int errnum, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
void error_clear (void);

/*  Aborts with a message: the policy for out-of-memory.                   */
void oom_abort (void) __attribute__ ((noreturn));

void *xmalloc (size_t size);
void *xzalloc (size_t size);
void *xrealloc (void *ptr, size_t size);
char *xstrdup (const char *s);
char *xstrndup (const char *s, size_t n);
char *xasprintf (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

#endif
