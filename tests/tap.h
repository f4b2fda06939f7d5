/*  tap.h - a minimal Test Anything Protocol producer for the unit tests.

    plan (N) or done_testing (); ok (cond, fmt, ...); is (a, b, ...) for
    strings; cmp_int (a, b, ...). Every failed check prints a diagnostic
    with the file and line. The process exit status is non-zero when any
    check failed.                                                         */
#ifndef CAIRN_TAP_H_INCLUDED
#define CAIRN_TAP_H_INCLUDED

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n = 0, tap_failed = 0;

static inline void
plan (int n)
{
    printf ("1..%d\n", n);
    fflush (stdout);
}

static inline bool
tap_report (bool pass, const char *file, int line, const char *fmt, va_list ap)
    __attribute__ ((format (printf, 4, 0)));
static inline bool
tap_report (bool pass, const char *file, int line, const char *fmt, va_list ap)
{
    printf ("%s %d - ", pass ? "ok" : "not ok", ++tap_n);
    vprintf (fmt, ap);
    printf ("\n");
    if (!pass) {
        tap_failed++;
        printf ("#   failed at %s line %d\n", file, line);
    }
    fflush (stdout);
    return pass;
}

static inline bool
tap_ok (bool pass, const char *file, int line, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));
static inline bool
tap_ok (bool pass, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    bool r = tap_report (pass, file, line, fmt, ap);
    va_end (ap);
    return r;
}

static inline bool
tap_is (const char *got, const char *want, const char *file, int line, const char *fmt, ...)
    __attribute__ ((format (printf, 5, 6)));
static inline bool
tap_is (const char *got, const char *want, const char *file, int line, const char *fmt, ...)
{
    bool pass = (got && want) ? strcmp (got, want) == 0 : got == want;
    va_list ap;
    va_start (ap, fmt);
    bool r = tap_report (pass, file, line, fmt, ap);
    va_end (ap);
    if (!pass)
        printf ("#          got: '%s'\n#     expected: '%s'\n", got ? got : "(null)",
                want ? want : "(null)");
    return r;
}

static inline bool
tap_cmp_int (int64_t got, int64_t want, const char *file, int line, const char *fmt, ...)
    __attribute__ ((format (printf, 5, 6)));
static inline bool
tap_cmp_int (int64_t got, int64_t want, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    bool r = tap_report (got == want, file, line, fmt, ap);
    va_end (ap);
    if (got != want)
        printf ("#          got: %" PRId64 "\n#     expected: %" PRId64 "\n", got, want);
    return r;
}

#define ok(cond, ...) tap_ok (!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is(got, want, ...) tap_is ((got), (want), __FILE__, __LINE__, __VA_ARGS__)
#define cmp_int(got, want, ...) tap_cmp_int ((int64_t) (got), (int64_t) (want), __FILE__, __LINE__, __VA_ARGS__)
#define diag(...) (printf ("# "), printf (__VA_ARGS__), printf ("\n"))

static inline int
done_testing (void)
{
    printf ("1..%d\n", tap_n);
    fflush (stdout);
    return tap_failed ? 1 : 0;
}

#endif
