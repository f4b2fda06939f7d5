/*  resources.c - cpus, mem, disk and port ranges.

    cpus are integers in thousandths so arithmetic is exact; mem and disk
    are MiB. Port ranges are kept sorted, disjoint and merged (no two
    ranges touch), so equality is structural and subtraction splits at
    most one range per removed range.                                     */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn.h"
#include "error.h"
#include "resources.h"

void
resources_init (cairn_resources_t *self)
{
    memset (self, 0, sizeof *self);
}

void
resources_fini (cairn_resources_t *self)
{
    free (self->ranges);
    memset (self, 0, sizeof *self);
}

void
resources_clear (cairn_resources_t *self)
{
    self->millicpus = 0;
    self->mem = 0;
    self->disk = 0;
    self->nranges = 0;
}

static void
s_reserve (cairn_resources_t *self, size_t nranges)
{
    if (nranges <= self->cap)
        return;
    size_t cap = self->cap ? self->cap * 2 : 4;
    while (cap < nranges)
        cap *= 2;
    self->ranges = xrealloc (self->ranges, cap * 2 * sizeof (uint16_t));
    self->cap = cap;
}

void
resources_copy (cairn_resources_t *dst, const cairn_resources_t *src)
{
    dst->millicpus = src->millicpus;
    dst->mem = src->mem;
    dst->disk = src->disk;
    s_reserve (dst, src->nranges);
    if (src->nranges)
        memcpy (dst->ranges, src->ranges, src->nranges * 2 * sizeof (uint16_t));
    dst->nranges = src->nranges;
}

cairn_resources_t *
cairn_resources_new (void)
{
    return xzalloc (sizeof (cairn_resources_t));
}

void
cairn_resources_destroy (cairn_resources_t **self_p)
{
    if (self_p && *self_p) {
        resources_fini (*self_p);
        free (*self_p);
        *self_p = NULL;
    }
}

cairn_resources_t *
cairn_resources_dup (const cairn_resources_t *self)
{
    if (!self)
        return NULL;
    cairn_resources_t *copy = cairn_resources_new ();
    resources_copy (copy, self);
    return copy;
}

/*  Port ranges  */

/*  Inserts begin..end, merging overlapping and adjacent ranges.          */
static void
s_ports_insert (cairn_resources_t *self, unsigned begin, unsigned end)
{
    size_t n = self->nranges;
    uint16_t *r = self->ranges;
    size_t i = 0;
    /*  Skip ranges that end before begin-1 (not touching).               */
    while (i < n && (unsigned) r[2 * i + 1] + 1 < begin)
        i++;
    size_t j = i;
    /*  Absorb every range that overlaps or touches begin..end.          */
    while (j < n && r[2 * j] <= end + 1) {
        if (r[2 * j] < begin)
            begin = r[2 * j];
        if (r[2 * j + 1] > end)
            end = r[2 * j + 1];
        j++;
    }
    if (j == i) {
        s_reserve (self, n + 1);
        r = self->ranges;
        memmove (r + 2 * (i + 1), r + 2 * i, (n - i) * 2 * sizeof (uint16_t));
        self->nranges = n + 1;
    }
    else if (j > i + 1) {
        memmove (r + 2 * (i + 1), r + 2 * j, (n - j) * 2 * sizeof (uint16_t));
        self->nranges = n - (j - i - 1);
    }
    r[2 * i] = (uint16_t) begin;
    r[2 * i + 1] = (uint16_t) end;
}

static bool
s_ports_contain (const cairn_resources_t *self, unsigned begin, unsigned end)
{
    /*  Ranges are merged, so begin..end must sit inside a single range.
        Binary search for the last range starting at or before begin.    */
    size_t lo = 0, hi = self->nranges;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (self->ranges[2 * mid] <= begin)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return false;
    return self->ranges[2 * (lo - 1) + 1] >= end;
}

/*  True if begin..end overlaps or touches a range: inserting it then
    does not add a range.                                                  */
static bool
s_ports_touch (const cairn_resources_t *self, unsigned begin, unsigned end)
{
    for (size_t i = 0; i < self->nranges; i++)
        if (self->ranges[2 * i] <= end + 1 && (unsigned) self->ranges[2 * i + 1] + 1 >= begin)
            return true;
    return false;
}

static bool
s_ports_overlap (const cairn_resources_t *self, unsigned begin, unsigned end)
{
    for (size_t i = 0; i < self->nranges; i++)
        if (self->ranges[2 * i] <= end && self->ranges[2 * i + 1] >= begin)
            return true;
    return false;
}

/*  Removes begin..end, which the caller checked is contained.            */
static void
s_ports_remove (cairn_resources_t *self, unsigned begin, unsigned end)
{
    size_t n = self->nranges;
    for (size_t i = 0; i < n; i++) {
        unsigned b = self->ranges[2 * i], e = self->ranges[2 * i + 1];
        if (b > begin || e < end)
            continue;
        if (b == begin && e == end) {
            memmove (self->ranges + 2 * i, self->ranges + 2 * (i + 1),
                     (n - i - 1) * 2 * sizeof (uint16_t));
            self->nranges = n - 1;
        }
        else if (b == begin)
            self->ranges[2 * i] = (uint16_t) (end + 1);
        else if (e == end)
            self->ranges[2 * i + 1] = (uint16_t) (begin - 1);
        else {
            s_reserve (self, n + 1);
            memmove (self->ranges + 2 * (i + 1), self->ranges + 2 * i,
                     (n - i) * 2 * sizeof (uint16_t));
            self->ranges[2 * i + 1] = (uint16_t) (begin - 1);
            self->ranges[2 * (i + 1)] = (uint16_t) (end + 1);
            self->nranges = n + 1;
        }
        return;
    }
}

int
cairn_resources_add_ports (cairn_resources_t *self, uint16_t begin, uint16_t end)
{
    if (!self)
        return error_set (EINVAL, "no resources given");
    if (begin == 0 || begin > end)
        return error_set (EINVAL, "port range %u-%u is not valid (ports are 1-65535, begin <= end)",
                          begin, end);
    if (self->nranges >= RESOURCES_MAX_RANGES && !s_ports_touch (self, begin, end))
        return error_set (EINVAL, "more than %d port ranges", RESOURCES_MAX_RANGES);
    s_ports_insert (self, begin, end);
    return 0;
}

uint64_t
cairn_resources_port_count (const cairn_resources_t *self)
{
    uint64_t count = 0;
    for (size_t i = 0; self && i < self->nranges; i++)
        count += (uint64_t) self->ranges[2 * i + 1] - self->ranges[2 * i] + 1;
    return count;
}

const uint16_t *
cairn_resources_port_ranges (const cairn_resources_t *self, size_t *count)
{
    if (count)
        *count = self ? self->nranges : 0;
    return self ? self->ranges : NULL;
}

int
cairn_resources_take_ports (cairn_resources_t *self, size_t count, uint16_t *ports)
{
    if (!self || (count && !ports))
        return error_set (EINVAL, "no resources given");
    if (cairn_resources_port_count (self) < count)
        return error_set (ERANGE, "%zu ports asked for, %" PRIu64 " available",
                          count, cairn_resources_port_count (self));
    for (size_t k = 0; k < count; k++) {
        uint16_t p = self->ranges[0];
        ports[k] = p;
        s_ports_remove (self, p, p);
    }
    return 0;
}

/*  Scalars  */

double
cairn_resources_cpus (const cairn_resources_t *self)
{
    return self ? (double) self->millicpus / 1000.0 : 0.0;
}

int64_t
cairn_resources_millicpus (const cairn_resources_t *self)
{
    return self ? self->millicpus : 0;
}

uint64_t
cairn_resources_mem (const cairn_resources_t *self)
{
    return self ? self->mem : 0;
}

uint64_t
cairn_resources_disk (const cairn_resources_t *self)
{
    return self ? self->disk : 0;
}

int
cairn_resources_set_millicpus (cairn_resources_t *self, int64_t millicpus)
{
    if (!self)
        return error_set (EINVAL, "no resources given");
    if (millicpus < 0 || millicpus > RESOURCES_MAX_MILLICPUS)
        return error_set (EINVAL, "cpus must be between 0 and %lld", RESOURCES_MAX_MILLICPUS / 1000);
    self->millicpus = millicpus;
    return 0;
}

int
cairn_resources_set_cpus (cairn_resources_t *self, double cpus)
{
    if (!(cpus >= 0.0) || cpus > (double) (RESOURCES_MAX_MILLICPUS / 1000))
        return error_set (EINVAL, "cpus must be between 0 and %lld", RESOURCES_MAX_MILLICPUS / 1000);
    /*  Round to the nearest thousandth: 0.1 is 100 milli-cpus.           */
    return cairn_resources_set_millicpus (self, (int64_t) (cpus * 1000.0 + 0.5));
}

int
cairn_resources_set_mem (cairn_resources_t *self, uint64_t mib)
{
    if (!self)
        return error_set (EINVAL, "no resources given");
    if (mib > RESOURCES_MAX_MEM)
        return error_set (EINVAL, "mem must be at most %llu MiB", RESOURCES_MAX_MEM);
    self->mem = mib;
    return 0;
}

int
cairn_resources_set_disk (cairn_resources_t *self, uint64_t mib)
{
    if (!self)
        return error_set (EINVAL, "no resources given");
    if (mib > RESOURCES_MAX_MEM)
        return error_set (EINVAL, "disk must be at most %llu MiB", RESOURCES_MAX_MEM);
    self->disk = mib;
    return 0;
}

/*  Arithmetic  */

int
cairn_resources_add (cairn_resources_t *self, const cairn_resources_t *other)
{
    if (!self || !other)
        return error_set (EINVAL, "no resources given");
    if (self->millicpus + other->millicpus > RESOURCES_MAX_MILLICPUS
        || self->mem + other->mem > RESOURCES_MAX_MEM
        || self->disk + other->disk > RESOURCES_MAX_MEM)
        return error_set (ERANGE, "the sum of resources is out of range");
    if (other->nranges) {
        /*  Merge into a copy: the range limit applies to the result.      */
        cairn_resources_t merged;
        resources_init (&merged);
        resources_copy (&merged, self);
        for (size_t i = 0; i < other->nranges; i++)
            s_ports_insert (&merged, other->ranges[2 * i], other->ranges[2 * i + 1]);
        if (merged.nranges > RESOURCES_MAX_RANGES) {
            resources_fini (&merged);
            return error_set (ERANGE, "the sum has more than %d port ranges", RESOURCES_MAX_RANGES);
        }
        uint16_t *swap = self->ranges;
        size_t cap = self->cap;
        self->ranges = merged.ranges;
        self->cap = merged.cap;
        self->nranges = merged.nranges;
        merged.ranges = swap;
        merged.cap = cap;
        resources_fini (&merged);
    }
    self->millicpus += other->millicpus;
    self->mem += other->mem;
    self->disk += other->disk;
    return 0;
}

bool
cairn_resources_contains (const cairn_resources_t *self, const cairn_resources_t *other)
{
    if (!self || !other)
        return false;
    if (other->millicpus > self->millicpus || other->mem > self->mem
        || other->disk > self->disk)
        return false;
    for (size_t i = 0; i < other->nranges; i++)
        if (!s_ports_contain (self, other->ranges[2 * i], other->ranges[2 * i + 1]))
            return false;
    return true;
}

int
cairn_resources_subtract (cairn_resources_t *self, const cairn_resources_t *other)
{
    if (!self || !other)
        return error_set (EINVAL, "no resources given");
    if (!cairn_resources_contains (self, other))
        return error_set (ERANGE, "resources to subtract are not all available");
    if (self == other) {
        resources_clear (self);
        return 0;
    }
    /*  A range taken from the middle of another splits it in two.        */
    size_t splits = 0;
    for (size_t i = 0; i < other->nranges; i++)
        for (size_t k = 0; k < self->nranges; k++)
            if (self->ranges[2 * k] < other->ranges[2 * i]
                && self->ranges[2 * k + 1] > other->ranges[2 * i + 1])
                splits++;
    if (self->nranges + splits > RESOURCES_MAX_RANGES)
        return error_set (ERANGE, "the difference would have more than %d port ranges",
                          RESOURCES_MAX_RANGES);
    self->millicpus -= other->millicpus;
    self->mem -= other->mem;
    self->disk -= other->disk;
    for (size_t i = 0; i < other->nranges; i++)
        s_ports_remove (self, other->ranges[2 * i], other->ranges[2 * i + 1]);
    return 0;
}

bool
cairn_resources_equal (const cairn_resources_t *a, const cairn_resources_t *b)
{
    if (!a || !b)
        return a == b;
    return a->millicpus == b->millicpus && a->mem == b->mem && a->disk == b->disk
        && a->nranges == b->nranges
        && (a->nranges == 0
            || memcmp (a->ranges, b->ranges, a->nranges * 2 * sizeof (uint16_t)) == 0);
}

bool
cairn_resources_is_empty (const cairn_resources_t *self)
{
    return !self || (self->millicpus == 0 && self->mem == 0 && self->disk == 0
                     && self->nranges == 0);
}

double
resources_dominant_share (const cairn_resources_t *self, const cairn_resources_t *total)
{
    double share = 0.0;
    if (total->millicpus > 0)
        share = (double) self->millicpus / (double) total->millicpus;
    if (total->mem > 0) {
        double m = (double) self->mem / (double) total->mem;
        if (m > share)
            share = m;
    }
    return share;
}

/*  Text form  */

static const char *
s_skip_space (const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/*  Parses an unsigned decimal integer up to max; advances *pp.            */
static int
s_parse_uint (const char **pp, uint64_t max, uint64_t *value, const char *what)
{
    const char *p = *pp;
    if (!isdigit ((unsigned char) *p))
        return error_set (EINVAL, "%s: expected a number at '%.20s'", what, p);
    uint64_t v = 0;
    while (isdigit ((unsigned char) *p)) {
        v = v * 10 + (uint64_t) (*p - '0');
        if (v > max)
            return error_set (EINVAL, "%s: value is larger than %" PRIu64, what, max);
        p++;
    }
    *pp = p;
    *value = v;
    return 0;
}

/*  "2", "0.5", "0.125": at most three decimals, exact.                   */
static int
s_parse_cpus (const char **pp, int64_t *milli)
{
    uint64_t whole;
    if (s_parse_uint (pp, RESOURCES_MAX_MILLICPUS / 1000, &whole, "cpus") < 0)
        return -1;
    uint64_t frac = 0;
    const char *p = *pp;
    if (*p == '.') {
        p++;
        int digits = 0;
        if (!isdigit ((unsigned char) *p))
            return error_set (EINVAL, "cpus: expected digits after '.'");
        while (isdigit ((unsigned char) *p)) {
            if (++digits > 3)
                return error_set (EINVAL, "cpus: at most three decimals (milli-cpus) are allowed");
            frac = frac * 10 + (uint64_t) (*p - '0');
            p++;
        }
        while (digits++ < 3)
            frac *= 10;
    }
    *pp = p;
    *milli = (int64_t) (whole * 1000 + frac);
    if (*milli > RESOURCES_MAX_MILLICPUS)
        return error_set (EINVAL, "cpus: value is too large");
    return 0;
}

static int
s_parse_ports (const char **pp, cairn_resources_t *self)
{
    const char *p = s_skip_space (*pp);
    if (*p++ != '[')
        return error_set (EINVAL, "ports: expected '[' (ports:[31000-32000])");
    p = s_skip_space (p);
    if (*p == ']') {
        *pp = p + 1;
        return 0;
    }
    while (true) {
        uint64_t begin, end;
        p = s_skip_space (p);
        if (s_parse_uint (&p, 65535, &begin, "ports") < 0)
            return -1;
        p = s_skip_space (p);
        if (*p == '-') {
            p = s_skip_space (p + 1);
            if (s_parse_uint (&p, 65535, &end, "ports") < 0)
                return -1;
        }
        else
            end = begin;
        if (begin == 0 || begin > end)
            return error_set (EINVAL, "ports: range %" PRIu64 "-%" PRIu64 " is not valid",
                              begin, end);
        if (s_ports_overlap (self, (unsigned) begin, (unsigned) end))
            return error_set (EINVAL, "ports: range %" PRIu64 "-%" PRIu64 " overlaps another",
                              begin, end);
        if (cairn_resources_add_ports (self, (uint16_t) begin, (uint16_t) end) < 0)
            return -1;
        p = s_skip_space (p);
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == ']') {
            *pp = p + 1;
            return 0;
        }
        return error_set (EINVAL, "ports: expected ',' or ']' at '%.20s'", p);
    }
}

cairn_resources_t *
cairn_resources_parse (const char *text)
{
    if (!text) {
        error_set (EINVAL, "no resources text given");
        return NULL;
    }
    cairn_resources_t *self = cairn_resources_new ();
    unsigned seen = 0;
    const char *p = s_skip_space (text);
    while (*p) {
        const char *name = p;
        while (*p && *p != ':' && *p != ';' && *p != ' ' && *p != '\t')
            p++;
        size_t len = (size_t) (p - name);
        p = s_skip_space (p);
        if (len == 0 || *p != ':') {
            error_set (EINVAL, "resources: expected NAME:VALUE at '%.20s'", name);
            goto error;
        }
        p = s_skip_space (p + 1);
        unsigned bit;
        uint64_t v;
        if (len == 4 && memcmp (name, "cpus", 4) == 0) {
            bit = 1;
            if (s_parse_cpus (&p, &self->millicpus) < 0)
                goto error;
        }
        else if (len == 3 && memcmp (name, "mem", 3) == 0) {
            bit = 2;
            if (s_parse_uint (&p, RESOURCES_MAX_MEM, &v, "mem") < 0)
                goto error;
            self->mem = v;
        }
        else if (len == 4 && memcmp (name, "disk", 4) == 0) {
            bit = 4;
            if (s_parse_uint (&p, RESOURCES_MAX_MEM, &v, "disk") < 0)
                goto error;
            self->disk = v;
        }
        else if (len == 5 && memcmp (name, "ports", 5) == 0) {
            bit = 8;
            if (s_parse_ports (&p, self) < 0)
                goto error;
        }
        else {
            error_set (EINVAL, "resources: unknown resource '%.*s' (known: cpus, mem, disk, ports)",
                       (int) (len > 40 ? 40 : len), name);
            goto error;
        }
        if (seen & bit) {
            error_set (EINVAL, "resources: '%.*s' is given twice", (int) len, name);
            goto error;
        }
        seen |= bit;
        p = s_skip_space (p);
        if (*p == ';')
            p = s_skip_space (p + 1);
        else if (*p) {
            error_set (EINVAL, "resources: expected ';' at '%.20s'", p);
            goto error;
        }
    }
    return self;
error:
    cairn_resources_destroy (&self);
    return NULL;
}

char *
cairn_resources_format (const cairn_resources_t *self)
{
    if (!self) {
        error_set (EINVAL, "no resources given");
        return NULL;
    }
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream (&buf, &size);
    if (!f)
        oom_abort ();
    fprintf (f, "cpus:%" PRId64, self->millicpus / 1000);
    if (self->millicpus % 1000) {
        char frac[8];
        snprintf (frac, sizeof frac, "%03" PRId64, self->millicpus % 1000);
        /*  Trim trailing zeros: 0.500 prints as 0.5.                      */
        for (int i = 2; i > 0 && frac[i] == '0'; i--)
            frac[i] = '\0';
        fprintf (f, ".%s", frac);
    }
    fprintf (f, ";mem:%" PRIu64, self->mem);
    if (self->disk)
        fprintf (f, ";disk:%" PRIu64, self->disk);
    if (self->nranges) {
        fputs (";ports:[", f);
        for (size_t i = 0; i < self->nranges; i++)
            fprintf (f, "%s%u-%u", i ? "," : "", self->ranges[2 * i], self->ranges[2 * i + 1]);
        fputc (']', f);
    }
    if (fclose (f) != 0)
        oom_abort ();
    return buf;
}
