/*  cron.c - five-field cron schedules.

    A schedule is five bit sets, one per field. cron_next walks forward
    from the minute after `after` in local time, jumping a whole month,
    day or hour at a time when that field does not match, so it takes a
    few hundred steps at most for any schedule that matches at all.
    mktime normalises each jump (and settles daylight saving time: a
    local minute that does not exist is skipped, one that exists twice
    matches once, at its first occurrence).                              */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cron.h"
#include "error.h"

struct _cron_t {
    uint64_t minute;            /* bit m: minute m matches */
    uint32_t hour;
    uint32_t mday;              /* bits 1..31 */
    uint16_t month;             /* bits 1..12 */
    uint8_t wday;               /* bits 0..6 (7 folded into 0) */
    bool mday_star, wday_star;  /* field was a bare '*' */
};

typedef struct {
    const char *name;
    int lo, hi;
} field_t;

static const field_t s_fields[5] = {
    { "minute", 0, 59 }, { "hour", 0, 23 }, { "day-of-month", 1, 31 },
    { "month", 1, 12 }, { "day-of-week", 0, 7 },
};

/*  Reads a decimal number at *p within the field's range.               */
static int
s_number (const char **p, const field_t *f, int *out)
{
    const char *s = *p;
    if (*s < '0' || *s > '9')
        return error_set (EINVAL, "the %s field: expected a number at '%s'", f->name, s);
    long v = 0;
    while (*s >= '0' && *s <= '9' && v < 1000)
        v = v * 10 + (*s++ - '0');
    if (v < f->lo || v > f->hi)
        return error_set (EINVAL, "the %s field: %ld is not in %d-%d", f->name, v, f->lo, f->hi);
    *out = (int) v;
    *p = s;
    return 0;
}

/*  One field ("*", "1-5", "*" "/15", "1,2,10-20/5") into bits.           */
static int
s_field (const char *text, const field_t *f, uint64_t *bits, bool *star)
{
    *bits = 0;
    *star = strcmp (text, "*") == 0;
    const char *p = text;
    for (;;) {
        int lo, hi, step = 1;
        if (*p == '*') {
            lo = f->lo;
            hi = f->hi;
            p++;
        }
        else {
            if (s_number (&p, f, &lo) < 0)
                return -1;
            hi = lo;
            if (*p == '-') {
                p++;
                if (s_number (&p, f, &hi) < 0)
                    return -1;
                if (hi < lo)
                    return error_set (EINVAL, "the %s field: the range %d-%d is backwards",
                                      f->name, lo, hi);
            }
        }
        if (*p == '/') {
            p++;
            const field_t any = { f->name, 1, f->hi - f->lo + 1 };
            if (s_number (&p, &any, &step) < 0)
                return -1;
        }
        for (int v = lo; v <= hi; v += step)
            *bits |= (uint64_t) 1 << v;
        if (*p == '\0')
            return 0;
        if (*p != ',')
            return error_set (EINVAL, "the %s field: unexpected '%c' in '%s'", f->name, *p,
                              text);
        p++;
    }
}

cron_t *
cron_parse (const char *text)
{
    if (!text)
        return error_set (EINVAL, "no schedule given"), NULL;
    char *copy = xstrdup (text);
    char *fields[6];
    int n = 0;
    for (char *save = NULL, *tok = strtok_r (copy, " \t", &save); tok;
         tok = strtok_r (NULL, " \t", &save))
        if (n < 6)
            fields[n++] = tok;
        else
            n++;
    if (n != 5) {
        free (copy);
        error_set (EINVAL, "'%s' has %d fields; a schedule has five: minute, hour, "
                   "day-of-month, month, day-of-week", text, n);
        return NULL;
    }
    cron_t *self = xzalloc (sizeof *self);
    uint64_t bits[5];
    bool star[5];
    for (int i = 0; i < 5; i++)
        if (s_field (fields[i], &s_fields[i], &bits[i], &star[i]) < 0) {
            free (copy);
            free (self);
            return NULL;
        }
    free (copy);
    self->minute = bits[0];
    self->hour = (uint32_t) bits[1];
    self->mday = (uint32_t) bits[2];
    self->month = (uint16_t) bits[3];
    self->wday = (uint8_t) ((bits[4] | (bits[4] >> 7)) & 0x7f);    /* 7 is Sunday too */
    self->mday_star = star[2];
    self->wday_star = star[4];
    return self;
}

void
cron_destroy (cron_t **self_p)
{
    if (self_p && *self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

static bool
s_day_matches (const cron_t *self, const struct tm *tm)
{
    bool mday = (self->mday >> tm->tm_mday) & 1;
    bool wday = (self->wday >> tm->tm_wday) & 1;
    if (self->mday_star || self->wday_star)
        return mday && wday;
    return mday || wday;
}

time_t
cron_next (const cron_t *self, time_t after)
{
    struct tm tm;
    time_t t = after - (after % 60 + 60) % 60 + 60;     /* the next whole minute */
    localtime_r (&t, &tm);
    time_t limit = after + 5 * 366 * 86400L;
    for (int steps = 0; steps < 100000; steps++) {
        if (!((self->month >> (tm.tm_mon + 1)) & 1)) {
            tm.tm_mon++;
            tm.tm_mday = 1;
            tm.tm_hour = tm.tm_min = 0;
        }
        else if (!s_day_matches (self, &tm)) {
            tm.tm_mday++;
            tm.tm_hour = tm.tm_min = 0;
        }
        else if (!((self->hour >> tm.tm_hour) & 1)) {
            tm.tm_hour++;
            tm.tm_min = 0;
        }
        else if (!((self->minute >> tm.tm_min) & 1))
            tm.tm_min++;
        else {
            t = mktime (&tm);
            return t > after ? t : -1;
        }
        tm.tm_sec = 0;
        tm.tm_isdst = -1;
        t = mktime (&tm);
        if (t == (time_t) -1 || t > limit)
            return -1;
        localtime_r (&t, &tm);          /* normalised, with the right weekday */
    }
    return -1;
}
