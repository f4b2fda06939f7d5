/*  flags.c - command-line flags, environment, JSON config file and --help.

    flags_parse works in two passes. The first walks the command line
    once, resolving every argument to (flag, value text) and handling
    --help, --version and --config, so that --config is known before any
    value is applied and so that an unknown flag is reported before a
    config file that may not exist. The second applies, in increasing
    precedence, the defaults, the config file, the environment and the
    command-line values to a scratch copy of every flag. Only when all of
    that succeeded are the caller's variables written: a failed parse has
    no side effects and leaks nothing, even though the caller exits.

    Every source goes through one value parser (s_parse_value), so a port
    means the same thing and is checked the same way on the command line,
    in CAIRN_MASTER_PORT and in the config file; JSON values are turned
    back into text for it.                                                */
#include "config.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "flags.h"

#define MS_PER_S 1000LL
#define MS_PER_M (60 * MS_PER_S)
#define MS_PER_H (60 * MS_PER_M)

/*  Units from largest to smallest: duration_format picks the first that
    divides a value exactly.                                             */
static const struct {
    const char *suffix;
    int64_t ms;
} s_units[] = {
    { "h", MS_PER_H },
    { "m", MS_PER_M },
    { "s", MS_PER_S },
    { "ms", 1 },
};
#define NUNITS (sizeof s_units / sizeof s_units[0])

/*  A flag's value while flags_parse runs; copied to flag_t.value only
    when the whole parse succeeded.                                     */
typedef union {
    char *s;                        /* owned */
    int64_t i;                      /* INT and DURATION */
    bool b;
    double d;
} value_t;

/*  One flag from the command line, resolved by the first pass.          */
typedef struct {
    size_t flag;                    /* index in spec->flags */
    const char *text;               /* "true"/"false" for bare/--no- bools */
} cmdline_value_t;

/*  ---------------------------------------------------------------------
    Durations                                                           */

/*  Parses text into *ms. On failure sets errno and *why to the end of a
    sentence that starts with the quoted text.                            */
static int
s_duration_parse (const char *text, int64_t *ms, const char **why)
{
    const char *p = text;
    bool negative = false;
    uint64_t whole = 0;
    bool overflow = false;
    const char *frac = NULL;
    size_t nfrac = 0;
    int ndigits = 0;

    if (*p == '-') {
        negative = true;
        p++;
    }
    for (; isdigit ((unsigned char) *p); p++, ndigits++) {
        if (whole > (UINT64_MAX - 9) / 10)
            overflow = true;
        else
            whole = whole * 10 + (uint64_t) (*p - '0');
    }
    if (*p == '.') {
        frac = ++p;
        for (; isdigit ((unsigned char) *p); p++, ndigits++)
            nfrac++;
    }
    const char *unit = p;
    size_t u;
    for (u = 0; u < NUNITS; u++) {
        if (strcmp (unit, s_units[u].suffix) == 0)
            break;
    }
    if (ndigits == 0 || (frac && nfrac == 0) || (u == NUNITS && *unit != '\0')) {
        *why = "is not a duration (use a number and a unit: 500ms, 5s, 2m, 1h)";
        goto einval;
    }
    if (u == NUNITS) {
        *why = "has no unit (use ms, s, m or h, as in 5s)";
        goto einval;
    }
    if (negative) {
        *why = "is negative";
        goto einval;
    }
    int64_t unit_ms = s_units[u].ms;

    /*  The fraction, without trailing zeros, as an integer over 10^nfrac.
        More than 9 significant decimals can never be a whole number of
        milliseconds for these units (an hour is 2^7 * 3^2 * 5^5 ms), so
        the product below cannot overflow.                                */
    while (nfrac > 0 && frac[nfrac - 1] == '0')
        nfrac--;
    int64_t frac_ms = 0;
    if (nfrac > 0) {
        int64_t num = 0, den = 1;
        if (nfrac > 9)
            goto too_fine;
        for (size_t i = 0; i < nfrac; i++) {
            num = num * 10 + (frac[i] - '0');
            den *= 10;
        }
        if ((num * unit_ms) % den != 0)
            goto too_fine;
        frac_ms = num * unit_ms / den;
    }
    if (overflow || whole > (uint64_t) ((INT64_MAX - frac_ms) / unit_ms)) {
        *why = "is too large";
        errno = ERANGE;
        return -1;
    }
    *ms = (int64_t) whole * unit_ms + frac_ms;
    return 0;
too_fine:
    *why = "is finer than a millisecond";
einval:
    errno = EINVAL;
    return -1;
}

int
duration_parse (const char *text, int64_t *ms)
{
    const char *why;
    int64_t v;

    assert (text && ms);
    if (s_duration_parse (text, &v, &why) < 0)
        return error_set (errno, "'%s' %s", text, why);
    *ms = v;
    return 0;
}

char *
duration_format (int64_t ms)
{
    /*  Unsigned, so that INT64_MIN has a magnitude. duration_parse rejects
        negative values, but a caller logging a negative interval should
        see it rather than crash.                                        */
    uint64_t mag = ms < 0 ? -(uint64_t) ms : (uint64_t) ms;
    const char *sign = ms < 0 ? "-" : "";

    if (ms == 0)
        return xstrdup ("0s");
    for (size_t u = 0;; u++) {
        uint64_t unit_ms = (uint64_t) s_units[u].ms;
        if (mag % unit_ms == 0)
            return xasprintf ("%s%" PRIu64 "%s", sign, mag / unit_ms, s_units[u].suffix);
    }
}

/*  ---------------------------------------------------------------------
    Values                                                              */

static int
s_bool_parse (const char *text, bool *b)
{
    static const char *yes[] = { "true", "yes", "1" };
    static const char *no[] = { "false", "no", "0" };
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp (text, yes[i]) == 0) {
            *b = true;
            return 0;
        }
        if (strcasecmp (text, no[i]) == 0) {
            *b = false;
            return 0;
        }
    }
    return -1;
}

/*  Base 10 only, the whole text, no leading space: strtoll alone would
    take "  12abc" as 12.                                                 */
static int
s_int_parse (const char *text, int64_t *v, bool *overflow)
{
    char *end;

    *overflow = false;
    if (!isdigit ((unsigned char) text[0]) && text[0] != '-' && text[0] != '+')
        return -1;
    errno = 0;
    long long n = strtoll (text, &end, 10);
    if (end == text || *end != '\0')
        return -1;
    if (errno == ERANGE)
        *overflow = true;
    *v = n;
    return 0;
}

static int
s_double_parse (const char *text, double *v)
{
    char *end;

    if (!isdigit ((unsigned char) text[0]) && text[0] != '-' && text[0] != '+'
        && text[0] != '.')
        return -1;
    errno = 0;
    double d = strtod (text, &end);
    if (end == text || *end != '\0' || errno == ERANGE || !isfinite (d))
        return -1;
    *v = d;
    return 0;
}

static bool
s_has_range (const flag_t *f)
{
    return f->min != 0 || f->max != 0;
}

/*  "between 1 and 65535", "at least 1s": the bound in the flag's units. */
static char *
s_range_text (const flag_t *f)
{
    char *lo = f->type == FLAG_DURATION ? duration_format (f->min)
                                        : xasprintf ("%" PRId64, f->min);
    char *hi = f->type == FLAG_DURATION ? duration_format (f->max)
                                        : xasprintf ("%" PRId64, f->max);
    char *s;
    if (f->max == INT64_MAX)
        s = xasprintf ("at least %s", lo);
    else if (f->min == INT64_MIN)
        s = xasprintf ("at most %s", hi);
    else
        s = xasprintf ("between %s and %s", lo, hi);
    free (lo);
    free (hi);
    return s;
}

static char *
s_out_of_range (const flag_t *f, const char *text)
{
    char *range = s_range_text (f);
    char *s = xasprintf ("'%s' is out of range (must be %s)", text, range);
    free (range);
    return s;
}

/*  Parses text as a value of flag f into *v (a string replaces and frees
    the previous one). Returns 0, or -1 with *problem set to a sentence
    the caller frees, such as "'abc' is not an integer".               */
static int
s_parse_value (const flag_t *f, const char *text, value_t *v, char **problem)
{
    bool overflow;
    const char *why;
    int64_t i;
    double d;
    bool b;

    switch (f->type) {
        case FLAG_STRING:
            free (v->s);
            v->s = xstrdup (text);
            return 0;
        case FLAG_BOOL:
            if (s_bool_parse (text, &b) < 0) {
                *problem = xasprintf ("'%s' is not a boolean (use true or false)", text);
                return -1;
            }
            v->b = b;
            return 0;
        case FLAG_INT:
            if (s_int_parse (text, &i, &overflow) < 0) {
                *problem = xasprintf ("'%s' is not an integer", text);
                return -1;
            }
            if (overflow && !s_has_range (f)) {
                *problem = xasprintf ("'%s' is too large", text);
                return -1;
            }
            if (overflow || (s_has_range (f) && (i < f->min || i > f->max))) {
                *problem = s_out_of_range (f, text);
                return -1;
            }
            v->i = i;
            return 0;
        case FLAG_DURATION:
            if (s_duration_parse (text, &i, &why) < 0) {
                if (errno == ERANGE && s_has_range (f))
                    *problem = s_out_of_range (f, text);
                else
                    *problem = xasprintf ("'%s' %s", text, why);
                return -1;
            }
            if (s_has_range (f) && (i < f->min || i > f->max)) {
                *problem = s_out_of_range (f, text);
                return -1;
            }
            v->i = i;
            return 0;
        case FLAG_DOUBLE:
            if (s_double_parse (text, &d) < 0) {
                *problem = xasprintf ("'%s' is not a number", text);
                return -1;
            }
            if (s_has_range (f) && (d < (double) f->min || d > (double) f->max)) {
                *problem = s_out_of_range (f, text);
                return -1;
            }
            v->d = d;
            return 0;
    }
    assert (!"unknown flag type");
    return -1;
}

/*  ---------------------------------------------------------------------
    Names and suggestions                                               */

static const char *s_builtin[] = { "config", "help", "man", "version" };
#define NBUILTIN (sizeof s_builtin / sizeof s_builtin[0])

/*  Programmer errors in the table are caught on the first run.          */
static void
s_check_spec (const flags_spec_t *spec)
{
    assert (spec && spec->program);
    assert (spec->flags || spec->nflags == 0);
    for (size_t i = 0; i < spec->nflags; i++) {
        const flag_t *f = &spec->flags[i];
        (void) f;                       /* only asserts use it */
        assert (f->name && f->name[0] && f->value);
        assert (f->type >= FLAG_STRING && f->type <= FLAG_DOUBLE);
        assert (f->min <= f->max);
        assert (!strchr (f->name, '=') && !strchr (f->name, '_'));
        for (size_t j = 0; j < NBUILTIN; j++)
            assert (strcmp (f->name, s_builtin[j]) != 0);
        for (size_t j = 0; j < i; j++)
            assert (strcmp (f->name, spec->flags[j].name) != 0);
    }
}

/*  Index of the flag called name[0..len), or -1.                        */
static int
s_find_flag (const flags_spec_t *spec, const char *name, size_t len)
{
    for (size_t i = 0; i < spec->nflags; i++) {
        const char *n = spec->flags[i].name;
        if (strlen (n) == len && strncmp (n, name, len) == 0)
            return (int) i;
    }
    return -1;
}

static size_t
s_levenshtein (const char *a, size_t alen, const char *b, size_t blen)
{
    size_t *row = xmalloc ((blen + 1) * sizeof *row);
    for (size_t j = 0; j <= blen; j++)
        row[j] = j;
    for (size_t i = 1; i <= alen; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= blen; j++) {
            size_t up = row[j];
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = diag + cost;
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    size_t d = row[blen];
    free (row);
    return d;
}

/*  Keeps candidate if it is closer to name than the best so far. A
    candidate is never suggested by rewriting most of it: "--x" should
    not suggest "--ip".                                                  */
static void
s_consider (const char *name, size_t len, const char *candidate, size_t *best_d,
            char **best)
{
    size_t clen = strlen (candidate);
    size_t d = s_levenshtein (name, len, candidate, clen);
    if (d <= 2 && d < clen && d < *best_d) {
        free (*best);
        *best = xstrdup (candidate);
        *best_d = d;
    }
}

/*  The valid name closest to name[0..len), or NULL. with_builtins adds
    --config/--help/--version and the --no- forms of bools. Caller frees. */
static char *
s_suggest (const flags_spec_t *spec, const char *name, size_t len, bool with_builtins)
{
    char *best = NULL;
    size_t best_d = SIZE_MAX;

    for (size_t i = 0; i < spec->nflags; i++) {
        const flag_t *f = &spec->flags[i];
        s_consider (name, len, f->name, &best_d, &best);
        if (with_builtins && f->type == FLAG_BOOL) {
            char *no = xasprintf ("no-%s", f->name);
            s_consider (name, len, no, &best_d, &best);
            free (no);
        }
    }
    for (size_t i = 0; with_builtins && i < NBUILTIN; i++)
        s_consider (name, len, s_builtin[i], &best_d, &best);
    return best;
}

/*  "work-dir" with prefix "CAIRN_MASTER_" -> "CAIRN_MASTER_WORK_DIR".   */
static char *
s_env_name (const char *prefix, const char *name)
{
    char *s = xasprintf ("%s%s", prefix, name);
    for (char *p = s + strlen (prefix); *p; p++)
        *p = *p == '-' ? '_' : (char) toupper ((unsigned char) *p);
    return s;
}

/*  Prints "program: <message>" as one line on stderr; returns -1.       */
static int s_fail (const flags_spec_t *spec, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
static int
s_fail (const flags_spec_t *spec, const char *fmt, ...)
{
    va_list ap;
    char *msg;

    va_start (ap, fmt);
    if (vasprintf (&msg, fmt, ap) < 0)
        oom_abort ();
    va_end (ap);
    fprintf (stderr, "%s: %s\n", spec->program, msg);
    free (msg);
    return -1;
}

/*  ---------------------------------------------------------------------
    Config file                                                         */

static const char *
s_json_kind (const json_t *j)
{
    switch (json_typeof (j)) {
        case JSON_OBJECT: return "an object";
        case JSON_ARRAY: return "an array";
        case JSON_STRING: return "a string";
        case JSON_INTEGER: return "an integer";
        case JSON_REAL: return "a number";
        case JSON_TRUE:
        case JSON_FALSE: return "a boolean";
        case JSON_NULL: return "null";
    }
    return "unknown";
}

/*  The text s_parse_value should see for a JSON value, or NULL if the
    JSON type is wrong for the flag. Caller frees.                        */
static char *
s_json_text (const flag_t *f, const json_t *j)
{
    switch (f->type) {
        case FLAG_STRING:
        case FLAG_DURATION:             /* "5s": a bare number has no unit */
            return json_is_string (j) ? xstrdup (json_string_value (j)) : NULL;
        case FLAG_INT:
            return json_is_integer (j)
                ? xasprintf ("%" JSON_INTEGER_FORMAT, json_integer_value (j)) : NULL;
        case FLAG_DOUBLE:
            /* %.17g reads back as the same double. */
            return json_is_number (j) ? xasprintf ("%.17g", json_number_value (j)) : NULL;
        case FLAG_BOOL:
            if (json_is_boolean (j))
                return xstrdup (json_is_true (j) ? "true" : "false");
            if (json_is_integer (j))
                return xasprintf ("%" JSON_INTEGER_FORMAT, json_integer_value (j));
            return json_is_string (j) ? xstrdup (json_string_value (j)) : NULL;
    }
    return NULL;
}

static const char *
s_expected (const flag_t *f)
{
    switch (f->type) {
        case FLAG_STRING: return "a string";
        case FLAG_INT: return "an integer";
        case FLAG_BOOL: return "a boolean";
        case FLAG_DURATION: return "a duration string such as \"5s\"";
        case FLAG_DOUBLE: return "a number";
    }
    return "?";
}

/*  Applies the JSON object in path to vals.                              */
static int
s_apply_config (const flags_spec_t *spec, const char *path, value_t *vals)
{
    json_error_t jerr;
    json_t *root = NULL;
    bool *seen = xzalloc (spec->nflags * sizeof *seen);
    const char **seen_key = xzalloc (spec->nflags * sizeof *seen_key);
    char *name = NULL;
    char *text = NULL;
    char *problem = NULL;
    const char *key;
    json_t *j;

    /*  fopen first: its errno says "No such file" or "Permission denied",
        where jansson only says it could not open the file.              */
    FILE *fp = fopen (path, "r");
    if (!fp) {
        s_fail (spec, "--config: cannot read '%s': %s", path, strerror (errno));
        goto error;
    }
    root = json_loadf (fp, JSON_REJECT_DUPLICATES, &jerr);
    /*  jansson takes a read error (a directory: EISDIR) for the end of
        the file and would report "expected '{'".                        */
    if (!root && ferror (fp)) {
        int err = errno;
        fclose (fp);
        s_fail (spec, "--config: cannot read '%s': %s", path, strerror (err));
        goto error;
    }
    fclose (fp);
    if (!root) {
        s_fail (spec, "--config '%s': line %d, column %d: %s", path, jerr.line,
                jerr.column, jerr.text);
        goto error;
    }
    if (!json_is_object (root)) {
        s_fail (spec, "--config '%s': expected a JSON object of flags, not %s", path,
                s_json_kind (root));
        goto error;
    }
    json_object_foreach (root, key, j) {
        free (name);
        name = xstrdup (key);
        for (char *p = name; *p; p++) {
            if (*p == '_')
                *p = '-';
        }
        int i = s_find_flag (spec, name, strlen (name));
        if (i < 0) {
            char *hint = s_suggest (spec, name, strlen (name), false);
            s_fail (spec, "--config '%s': unknown key '%s'%s%s%s", path, key,
                    hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
            free (hint);
            goto error;
        }
        if (seen[i]) {
            s_fail (spec, "--config '%s': keys '%s' and '%s' both set %s", path,
                    seen_key[i], key, name);
            goto error;
        }
        seen[i] = true;
        seen_key[i] = key;
        const flag_t *f = &spec->flags[i];
        free (text);
        if (!(text = s_json_text (f, j))) {
            s_fail (spec, "--config '%s': key '%s': expected %s, not %s", path, key,
                    s_expected (f), s_json_kind (j));
            goto error;
        }
        if (s_parse_value (f, text, &vals[i], &problem) < 0) {
            s_fail (spec, "--config '%s': key '%s': %s", path, key, problem);
            goto error;
        }
    }
    json_decref (root);
    free (seen);
    free (seen_key);
    free (name);
    free (text);
    return 0;
error:
    json_decref (root);
    free (seen);
    free (seen_key);
    free (name);
    free (text);
    free (problem);
    return -1;
}

/*  ---------------------------------------------------------------------
    Environment                                                         */

static int
s_apply_env (const flags_spec_t *spec, value_t *vals)
{
    for (size_t i = 0; spec->env_prefix && i < spec->nflags; i++) {
        char *var = s_env_name (spec->env_prefix, spec->flags[i].name);
        const char *text = getenv (var);
        char *problem = NULL;
        if (text && s_parse_value (&spec->flags[i], text, &vals[i], &problem) < 0) {
            s_fail (spec, "%s: %s", var, problem);
            free (problem);
            free (var);
            return -1;
        }
        free (var);
    }
    return 0;
}

/*  ---------------------------------------------------------------------
    Command line                                                        */

/*  The first pass. Fills cv[0..*ncv) and *config; returns 0 with *argi
    at the first argument left, 1 after --help or --version, -1 after an
    error message.                                                        */
static int
s_scan_args (const flags_spec_t *spec, int argc, char **argv, cmdline_value_t *cv,
             size_t *ncv, const char **config, int *argi, char **pos)
{
    int i;
    int rc = 0;
    int npos = 0;                   /* when permuting (pos), positionals met */

    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp (arg, "--") == 0) {
            i++;
            break;
        }
        if (arg[0] != '-' || arg[1] == '\0') {  /* "-" is stdin: a positional */
            if (!pos)
                break;
            pos[npos++] = argv[i];
            continue;
        }
        if (strcmp (arg, "-h") == 0) {
            flags_print_help (spec, stdout);
            return 1;
        }
        /*  A single dash or a misspelt name gets the nearest long flag.  */
        const char *name = arg + (arg[1] == '-' ? 2 : 1);
        const char *eq = strchr (name, '=');
        size_t len = eq ? (size_t) (eq - name) : strlen (name);
        const char *value = eq ? eq + 1 : NULL;

        if (arg[1] == '-' && len == 4 && strncmp (name, "help", 4) == 0) {
            if (value)
                return s_fail (spec, "--help takes no value");
            flags_print_help (spec, stdout);
            return 1;
        }
        if (arg[1] == '-' && len == 3 && strncmp (name, "man", 3) == 0) {
            if (value)
                return s_fail (spec, "--man takes no value");
            flags_print_man (spec, stdout);
            return 1;
        }
        if (arg[1] == '-' && len == 7 && strncmp (name, "version", 7) == 0) {
            if (value)
                return s_fail (spec, "--version takes no value");
            printf ("%s %s\n", spec->program, PACKAGE_VERSION);
            return 1;
        }
        int fi = arg[1] == '-' ? s_find_flag (spec, name, len) : -1;
        bool negated = false;
        if (fi < 0 && arg[1] == '-' && len > 3 && strncmp (name, "no-", 3) == 0) {
            fi = s_find_flag (spec, name + 3, len - 3);
            if (fi >= 0 && spec->flags[fi].type != FLAG_BOOL)
                fi = -1;
            negated = fi >= 0;
        }
        bool is_config = arg[1] == '-' && len == 6 && strncmp (name, "config", 6) == 0;
        if (fi < 0 && !is_config) {
            char *hint = s_suggest (spec, name, len, true);
            s_fail (spec, "unknown flag %.*s%s%s%s", (int) (name - arg + len), arg,
                    hint ? " (did you mean --" : "", hint ? hint : "", hint ? "?)" : "");
            free (hint);
            return -1;
        }
        if (!is_config && spec->flags[fi].type == FLAG_BOOL) {
            if (negated && value)
                return s_fail (spec, "--%.*s takes no value", (int) len, name);
            if (!value)
                value = negated ? "false" : "true";
        }
        else if (!value) {
            /*  "--work-dir --port=5" is a forgotten value, not a directory
                called "--port=5"; such a value can be given as --x=--y.  */
            if (i + 1 >= argc || strncmp (argv[i + 1], "--", 2) == 0)
                return s_fail (spec, "--%.*s: missing value", (int) len, name);
            value = argv[++i];
        }
        if (is_config)
            *config = value;
        else
            cv[(*ncv)++] = (cmdline_value_t){ (size_t) fi, value };
    }
    if (pos) {
        /*  Flags first, then the positionals in their order, then what
            followed "--": argv[*argi..] as without permutation.          */
        int out = 1;
        for (int k = 1, p = 0; k < i; k++) {
            if (p < npos && argv[k] == pos[p])
                p++;
            else
                argv[out++] = argv[k];
        }
        int first = out;
        for (int p = 0; p < npos; p++)
            argv[out++] = pos[p];
        i = first;
    }
    if (!argi && i < argc)
        return s_fail (spec, "unexpected argument '%s'", argv[i]);
    if (argi)
        *argi = i;
    return rc;
}

static int
s_scan_cmdline (const flags_spec_t *spec, int argc, char **argv, cmdline_value_t *cv,
                size_t *ncv, const char **config, int *argi, bool permute)
{
    char **pos = permute ? xmalloc ((size_t) argc * sizeof *pos) : NULL;
    int rc = s_scan_args (spec, argc, argv, cv, ncv, config, argi, pos);
    free (pos);
    return rc;
}

static void
s_free_strings (const flags_spec_t *spec, value_t *vals)
{
    for (size_t i = 0; i < spec->nflags; i++) {
        if (spec->flags[i].type == FLAG_STRING)
            free (vals[i].s);
    }
}

static void
s_commit (const flags_spec_t *spec, const value_t *vals)
{
    for (size_t i = 0; i < spec->nflags; i++) {
        const flag_t *f = &spec->flags[i];
        switch (f->type) {
            case FLAG_STRING: *(char **) f->value = vals[i].s; break;
            case FLAG_INT:
            case FLAG_DURATION: *(int64_t *) f->value = vals[i].i; break;
            case FLAG_BOOL: *(bool *) f->value = vals[i].b; break;
            case FLAG_DOUBLE: *(double *) f->value = vals[i].d; break;
        }
    }
}

static int s_parse (const flags_spec_t *spec, int argc, char **argv, int *argi, bool permute);

int
flags_parse (const flags_spec_t *spec, int argc, char **argv, int *argi)
{
    return s_parse (spec, argc, argv, argi, false);
}

int
flags_parse_permuted (const flags_spec_t *spec, int argc, char **argv, int *argi)
{
    return s_parse (spec, argc, argv, argi, true);
}

static int
s_parse (const flags_spec_t *spec, int argc, char **argv, int *argi, bool permute)
{
    value_t *vals = NULL;
    cmdline_value_t *cv = NULL;
    size_t ncv = 0;
    const char *config = NULL;
    char *problem = NULL;
    int first = 0;
    int rc;

    s_check_spec (spec);
    assert (argc >= 1 && argv);

    cv = xmalloc ((size_t) argc * sizeof *cv);
    rc = s_scan_cmdline (spec, argc, argv, cv, &ncv, &config, argi ? &first : NULL, permute);
    if (rc != 0)
        goto done;
    rc = -1;

    vals = xzalloc ((spec->nflags ? spec->nflags : 1) * sizeof *vals);
    for (size_t i = 0; i < spec->nflags; i++) {
        const flag_t *f = &spec->flags[i];
        if (f->def && s_parse_value (f, f->def, &vals[i], &problem) < 0) {
            s_fail (spec, "--%s: bad default: %s", f->name, problem);
            assert (!"flag default does not parse");
            goto done;
        }
    }
    if (config && s_apply_config (spec, config, vals) < 0)
        goto done;
    if (s_apply_env (spec, vals) < 0)
        goto done;
    for (size_t k = 0; k < ncv; k++) {
        const flag_t *f = &spec->flags[cv[k].flag];
        if (s_parse_value (f, cv[k].text, &vals[cv[k].flag], &problem) < 0) {
            s_fail (spec, "--%s: %s", f->name, problem);
            goto done;
        }
    }
    s_commit (spec, vals);
    if (argi)
        *argi = first;
    free (vals);
    vals = NULL;
    rc = 0;
done:
    if (vals)
        s_free_strings (spec, vals);
    free (vals);
    free (cv);
    free (problem);
    return rc;
}

void
flags_free (const flags_spec_t *spec)
{
    for (size_t i = 0; i < spec->nflags; i++) {
        const flag_t *f = &spec->flags[i];
        if (f->type == FLAG_STRING) {
            free (*(char **) f->value);
            *(char **) f->value = NULL;
        }
    }
}

/*  ---------------------------------------------------------------------
    Help                                                                */

#define HELP_WIDTH 79                   /* columns of a terminal */
#define HELP_COLUMN 28                  /* where help text starts */
#define HELP_NBSP '\x1f'                /* a space s_print_wrapped keeps */

/*  Writes text word-wrapped from column `col` (already reached) with
    continuation lines indented to `indent`, then a newline. HELP_NBSP
    joins words that must stay on one line, as in "(default: 5s)".     */
static void
s_print_wrapped (FILE *f, const char *text, int col, int indent)
{
    const char *p = text;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t wlen = strcspn (p, " ");
        if (wlen == 0)
            break;
        if (col > indent && col + 1 + (int) wlen > HELP_WIDTH) {
            fprintf (f, "\n%*s", indent, "");
            col = indent;
        }
        else if (col > indent) {
            fputc (' ', f);
            col++;
        }
        for (size_t k = 0; k < wlen; k++)
            fputc (p[k] == HELP_NBSP ? ' ' : p[k], f);
        col += (int) wlen;
        p += wlen;
    }
    fputc ('\n', f);
}

static void
s_print_entry (FILE *f, const char *left, const char *help)
{
    int col = fprintf (f, "  %s", left);
    if (col + 2 > HELP_COLUMN) {
        fputc ('\n', f);
        col = 0;
    }
    fprintf (f, "%*s", HELP_COLUMN - col, "");
    s_print_wrapped (f, help, HELP_COLUMN, HELP_COLUMN);
}

static const char *
s_generic_metavar (flag_type_t type)
{
    switch (type) {
        case FLAG_INT: return "N";
        case FLAG_DURATION: return "DURATION";
        case FLAG_DOUBLE: return "NUMBER";
        default: return "VALUE";
    }
}

/*  The two columns of a flag's entry, shared by --help and --man so the
    two cannot say different things. HELP_NBSP marks spaces that must not
    wrap. Caller frees both.                                              */
static void
s_flag_entry (const flag_t *fl, char **left, char **help)
{
    bool b = false;
    if (fl->type == FLAG_BOOL) {
        /*  Only a bool that defaults to true needs its --no- form.  */
        bool on = fl->def && s_bool_parse (fl->def, &b) == 0 && b;
        *left = xasprintf ("--%s%s", on ? "[no-]" : "", fl->name);
        *help = on ? xasprintf ("%s (default:%ctrue)", fl->help ? fl->help : "", HELP_NBSP)
                   : xstrdup (fl->help ? fl->help : "");
    }
    else {
        *left = xasprintf ("--%s=%s", fl->name,
                           fl->metavar ? fl->metavar : s_generic_metavar (fl->type));
        if (fl->def)
            *help = xasprintf ("%s (default:%c%s%s%s)", fl->help ? fl->help : "", HELP_NBSP,
                               fl->def[0] ? "" : "\"", fl->def, fl->def[0] ? "" : "\"");
        else
            *help = xstrdup (fl->help ? fl->help : "");
    }
}

/*  The built-in flags every program has, after its own.                  */
static const struct {
    const char *left, *help;
} s_builtin_entries[] = {
    { "--config=FILE", "Read flags from FILE, a JSON object whose keys are flag names." },
    { "-h, --help", "Show this help and exit." },
    { "--man", "Print the options as a man page section (roff) and exit." },
    { "--version", "Show the version and exit." },
};
#define NBUILTIN_ENTRIES (sizeof s_builtin_entries / sizeof s_builtin_entries[0])

/*  The closing paragraph on where values come from; caller frees.        */
static char *
s_precedence_text (const flags_spec_t *spec)
{
    if (!spec->env_prefix || spec->nflags == 0)
        return xstrdup ("The command line wins over the config file.");
    char *example = s_env_name (spec->env_prefix, spec->flags[0].name);
    char *text = xasprintf ("Every flag can also be set in the environment as %s<FLAG>, "
                            "as in %s. The command line wins over the environment, "
                            "which wins over the config file.",
                            spec->env_prefix, example);
    free (example);
    return text;
}

void
flags_print_help (const flags_spec_t *spec, FILE *f)
{
    fprintf (f, "Usage: %s %s\n", spec->program, spec->usage ? spec->usage : "[OPTIONS]");
    if (spec->summary)
        fprintf (f, "%s\n", spec->summary);
    fprintf (f, "\nOptions:\n");
    for (size_t i = 0; i < spec->nflags; i++) {
        char *left, *help;
        s_flag_entry (&spec->flags[i], &left, &help);
        s_print_entry (f, left, help);
        free (left);
        free (help);
    }
    for (size_t i = 0; i < NBUILTIN_ENTRIES; i++)
        s_print_entry (f, s_builtin_entries[i].left, s_builtin_entries[i].help);
    fprintf (f, "\n");
    char *text = s_precedence_text (spec);
    s_print_wrapped (f, text, 0, 0);
    free (text);
}

/*  Writes s as roff text: backslashes and dashes escaped, a leading dot
    or quote neutralised, HELP_NBSP as an unbreakable space.               */
static void
s_roff_text (FILE *f, const char *s)
{
    if (*s == '.' || *s == '\'')
        fputs ("\\&", f);
    for (; *s; s++) {
        if (*s == '\\')
            fputs ("\\e", f);
        else if (*s == '-')
            fputs ("\\-", f);
        else if (*s == HELP_NBSP)
            fputs ("\\ ", f);
        else
            fputc (*s, f);
    }
}

/*  A flag's left column in roff: the name bold, its metavar italic.      */
static void
s_roff_left (FILE *f, const char *left)
{
    const char *eq = strchr (left, '=');
    fputs ("\\fB", f);
    if (eq) {
        char *name = xstrndup (left, (size_t) (eq - left));
        s_roff_text (f, name);
        free (name);
        fputs ("\\fR=\\fI", f);
        s_roff_text (f, eq + 1);
    }
    else
        s_roff_text (f, left);
    fputs ("\\fR\n", f);
}

void
flags_print_man (const flags_spec_t *spec, FILE *f)
{
    fprintf (f, ".SH OPTIONS\n");
    for (size_t i = 0; i < spec->nflags; i++) {
        char *left, *help;
        s_flag_entry (&spec->flags[i], &left, &help);
        fprintf (f, ".TP\n");
        s_roff_left (f, left);
        s_roff_text (f, help);
        fputc ('\n', f);
        free (left);
        free (help);
    }
    for (size_t i = 0; i < NBUILTIN_ENTRIES; i++) {
        fprintf (f, ".TP\n");
        s_roff_left (f, s_builtin_entries[i].left);
        s_roff_text (f, s_builtin_entries[i].help);
        fputc ('\n', f);
    }
    fprintf (f, ".PP\n");
    char *text = s_precedence_text (spec);
    s_roff_text (f, text);
    fputc ('\n', f);
    free (text);
}

json_t *
flags_json (const flags_spec_t *spec)
{
    json_t *o = json_object ();
    for (size_t i = 0; i < spec->nflags; i++) {
        const flag_t *f = &spec->flags[i];
        json_t *v = NULL;
        switch (f->type) {
            case FLAG_STRING: {
                const char *s = *(char **) f->value;
                v = s ? json_string (s) : json_null ();
                break;
            }
            case FLAG_INT: v = json_integer ((json_int_t) *(int64_t *) f->value); break;
            case FLAG_BOOL: v = json_boolean (*(bool *) f->value); break;
            case FLAG_DOUBLE: v = json_real (*(double *) f->value); break;
            case FLAG_DURATION: {
                char *text = duration_format (*(int64_t *) f->value);
                v = json_string (text);
                free (text);
                break;
            }
        }
        json_object_set_new (o, f->name, v ? v : json_null ());
    }
    return o;
}
