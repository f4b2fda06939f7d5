/*  flags.c - unit test of the flags and log modules (flags.h, log.h).

    Reads as a tour of how a daemon declares and reads its flags: the
    defaults, the command-line forms, bools, durations, ranges, the
    messages a person sees for mistakes (stderr is captured and checked
    word for word), the precedence flag > environment > config file >
    default, the config file's errors, positional arguments and --help.
    Then the log line's shape, and that threads do not interleave it.    */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <stdarg.h>
#include <unistd.h>

#include "cairn.h"
#include "flags.h"
#include "log.h"
#include "tap.h"

/*  The variables a daemon would have.                                   */
static char *work_dir;
static char *master;
static int64_t port;
static int64_t timeout_ms;
static bool verbose;
static bool color;
static double ratio;

static const flag_t s_flags[] = {
    { "work-dir", FLAG_STRING, &work_dir, "/var/lib/cairn", "DIR",
      "Directory for the registry.", 0, 0 },
    { "master", FLAG_STRING, &master, NULL, "HOST:PORT",
      "The master's ZeroMQ endpoint.", 0, 0 },
    { "port", FLAG_INT, &port, "5050", "PORT", "Port to listen on.", 1, 65535 },
    { "timeout", FLAG_DURATION, &timeout_ms, "5s", NULL,
      "How long to wait for an agent before marking it unreachable.", 1, 3600000 },
    { "verbose", FLAG_BOOL, &verbose, NULL, NULL, "Log at debug level.", 0, 0 },
    { "color", FLAG_BOOL, &color, "true", NULL, "Color the output.", 0, 0 },
    { "ratio", FLAG_DOUBLE, &ratio, "0.5", "R", "Share of offers to decline.", 0, 1 },
};

static const flags_spec_t s_spec = {
    .program = "cairn-test",
    .env_prefix = "CAIRN_TEST_",
    .summary = "Exercise the flags module.",
    .usage = "[OPTIONS] [-- CMD [ARGS...]]",
    .flags = s_flags,
    .nflags = sizeof s_flags / sizeof s_flags[0],
};

/*  What the last s_parse printed.                                        */
static char *s_out, *s_err;

/*  Redirects fd to a temporary file until s_capture_end.               */
typedef struct {
    int fd, saved, tmp;
} capture_t;

static capture_t
s_capture_begin (int fd)
{
    char path[] = "/tmp/cairn-flags-XXXXXX";
    capture_t c = { fd, -1, -1 };
    fflush (stdout);
    c.tmp = mkstemp (path);
    if (c.tmp < 0)
        abort ();
    unlink (path);
    c.saved = dup (fd);
    dup2 (c.tmp, fd);
    return c;
}

/*  Restores the fd and returns what was written to it (caller frees).  */
static char *
s_capture_end (capture_t c)
{
    fflush (stdout);
    dup2 (c.saved, c.fd);
    close (c.saved);
    off_t len = lseek (c.tmp, 0, SEEK_END);
    char *buf = calloc (1, (size_t) len + 1);
    if (!buf || pread (c.tmp, buf, (size_t) len, 0) != len)
        abort ();
    close (c.tmp);
    return buf;
}

/*  Runs flags_parse on "cairn-test" and the NULL-terminated arguments,
    with stdout and stderr captured in s_out and s_err. flags_parse
    overwrites string slots only when it succeeds, so the previous
    strings are freed then (a program parses once and calls flags_free). */
static int
s_parse (int *argi, ...)
{
    char *argv[32] = { "cairn-test" };
    int argc = 1;
    va_list ap;
    const char *a;

    va_start (ap, argi);
    while ((a = va_arg (ap, const char *)))
        argv[argc++] = (char *) a;
    va_end (ap);

    free (s_out);
    free (s_err);
    char *old_work_dir = work_dir, *old_master = master;
    capture_t out = s_capture_begin (STDOUT_FILENO);
    capture_t err = s_capture_begin (STDERR_FILENO);
    int rc = flags_parse (&s_spec, argc, argv, argi);
    s_err = s_capture_end (err);
    s_out = s_capture_end (out);
    if (rc == 0) {
        free (old_work_dir);
        free (old_master);
    }
    return rc;
}

static void
s_clear_env (void)
{
    const char *vars[] = { "CAIRN_TEST_WORK_DIR", "CAIRN_TEST_MASTER", "CAIRN_TEST_PORT",
                           "CAIRN_TEST_TIMEOUT", "CAIRN_TEST_VERBOSE", "CAIRN_TEST_COLOR",
                           "CAIRN_TEST_RATIO" };
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv (vars[i]);
}

/*  Writes text to a new temporary file; returns its path (caller frees
    and unlinks).                                                          */
static char *
s_write_config (const char *text)
{
    char *path = strdup ("/tmp/cairn-flags-config-XXXXXX");
    int fd = mkstemp (path);
    if (fd < 0 || write (fd, text, strlen (text)) != (ssize_t) strlen (text))
        abort ();
    close (fd);
    return path;
}

/*  Parses with --config holding text and expects the error line
    want_before + the file's path + want_after.                          */
static void
s_config_error (const char *text, const char *want_before, const char *want_after)
{
    char *path = s_write_config (text);
    char want[512];
    int rc = s_parse (NULL, "--config", path, NULL);
    snprintf (want, sizeof want, "%s%s%s", want_before, path, want_after);
    cmp_int (rc, -1, "a bad config file is refused");
    is (s_err, want, "with: %.*s", (int) strlen (want) - 1, want);
    unlink (path);
    free (path);
}

static void
test_defaults (void)
{
    int argi = -1;
    cmp_int (s_parse (&argi, NULL), 0, "no arguments parse");
    cmp_int (argi, 1, "argi is past the program name");
    is (work_dir, "/var/lib/cairn", "string default");
    ok (master == NULL, "string without default is NULL");
    cmp_int (port, 5050, "int default");
    cmp_int (timeout_ms, 5000, "duration default 5s is 5000 ms");
    ok (!verbose, "bool without default is false");
    ok (color, "bool default true");
    ok (ratio == 0.5, "double default");
    is (s_err, "", "nothing on stderr");
}

static void
test_forms (void)
{
    int argi;
    cmp_int (s_parse (&argi, "--port=6000", "--work-dir", "/srv/cairn", "--master=h:5050",
                      NULL), 0, "--a=b and --a b");
    cmp_int (port, 6000, "--port=6000");
    is (work_dir, "/srv/cairn", "--work-dir /srv/cairn");
    is (master, "h:5050", "--master=h:5050");
    cmp_int (argi, 5, "argi after the last flag");

    s_parse (NULL, "--port=1", "--port", "2", NULL);
    cmp_int (port, 2, "a repeated flag: the last wins");

    s_parse (NULL, "--work-dir=", NULL);
    is (work_dir, "", "--work-dir= sets the empty string");

    s_parse (NULL, "--master=--odd", NULL);
    is (master, "--odd", "a value that starts with -- needs the = form");

    cmp_int (s_parse (NULL, "--port", NULL), -1, "a value is missing at the end");
    is (s_err, "cairn-test: --port: missing value\n", "it says which flag");
    cmp_int (s_parse (NULL, "--work-dir", "--port=5", NULL), -1,
             "a flag is not taken as the previous flag's value");
    is (s_err, "cairn-test: --work-dir: missing value\n", "it says which flag");
}

static void
test_bools (void)
{
    int argi;
    s_parse (NULL, "--verbose", NULL);
    ok (verbose, "--verbose");
    s_parse (NULL, "--verbose=false", NULL);
    ok (!verbose, "--verbose=false");
    s_parse (NULL, "--verbose=yes", NULL);
    ok (verbose, "--verbose=yes");
    s_parse (NULL, "--verbose=0", NULL);
    ok (!verbose, "--verbose=0");
    s_parse (NULL, "--no-color", NULL);
    ok (!color, "--no-color");
    s_parse (NULL, "--no-color", "--color", NULL);
    ok (color, "--no-color --color: the last wins");

    cmp_int (s_parse (&argi, "--verbose", "run", NULL), 0, "--verbose run");
    ok (verbose, "a bool does not take the next argument as its value");
    cmp_int (argi, 2, "so 'run' is positional");

    cmp_int (s_parse (NULL, "--verbose=maybe", NULL), -1, "--verbose=maybe is refused");
    is (s_err, "cairn-test: --verbose: 'maybe' is not a boolean (use true or false)\n",
        "with a message");
    cmp_int (s_parse (NULL, "--no-verbose=true", NULL), -1, "--no-verbose=true is refused");
    is (s_err, "cairn-test: --no-verbose takes no value\n", "with a message");
    cmp_int (s_parse (NULL, "--no-port", NULL), -1, "--no- is only for bools");
}

static void
test_durations (void)
{
    const struct {
        const char *text;
        int64_t ms;
    } good[] = {
        { "500ms", 500 }, { "5s", 5000 }, { "2m", 120000 }, { "1h", 3600000 },
        { "1.5s", 1500 }, { "0.25m", 15000 }, { "0s", 0 }, { "1.000s", 1000 },
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int64_t ms = -1;
        cmp_int (duration_parse (good[i].text, &ms), 0, "duration_parse '%s'", good[i].text);
        cmp_int (ms, good[i].ms, "'%s' is %" PRId64 " ms", good[i].text, good[i].ms);
    }

    const struct {
        const char *text;
        int err;
        const char *msg;
    } bad[] = {
        { "5", EINVAL, "'5' has no unit (use ms, s, m or h, as in 5s)" },
        { "-1s", EINVAL, "'-1s' is negative" },
        { "5x", EINVAL, "'5x' is not a duration (use a number and a unit: 500ms, 5s, 2m, 1h)" },
        { "", EINVAL, "'' is not a duration (use a number and a unit: 500ms, 5s, 2m, 1h)" },
        { "s", EINVAL, "'s' is not a duration (use a number and a unit: 500ms, 5s, 2m, 1h)" },
        { " 5s", EINVAL, "' 5s' is not a duration (use a number and a unit: 500ms, 5s, 2m, 1h)" },
        { "1.5ms", EINVAL, "'1.5ms' is finer than a millisecond" },
        { "1h30m", EINVAL, "'1h30m' is not a duration (use a number and a unit: 500ms, 5s, 2m, 1h)" },
        { "9999999999999999h", ERANGE, "'9999999999999999h' is too large" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms = 42;
        errno = 0;
        cmp_int (duration_parse (bad[i].text, &ms), -1, "duration_parse '%s' fails", bad[i].text);
        cmp_int (errno, bad[i].err, "with errno %s", bad[i].err == EINVAL ? "EINVAL" : "ERANGE");
        is (cairn_strerror_last (), bad[i].msg, "and says why");
        cmp_int (ms, 42, "leaving the result alone");
    }

    const struct {
        int64_t ms;
        const char *text;
    } fmt[] = {
        { 500, "500ms" }, { 5000, "5s" }, { 120000, "2m" }, { 3600000, "1h" },
        { 0, "0s" }, { 1500, "1500ms" }, { 5400000, "90m" }, { 90000, "90s" },
        { INT64_MAX, "9223372036854775807ms" },
    };
    for (size_t i = 0; i < sizeof fmt / sizeof fmt[0]; i++) {
        char *s = duration_format (fmt[i].ms);
        int64_t back = -1;
        is (s, fmt[i].text, "duration_format (%" PRId64 ")", fmt[i].ms);
        ok (duration_parse (s, &back) == 0 && back == fmt[i].ms, "'%s' reads back", s);
        free (s);
    }

    s_parse (NULL, "--timeout=1.5s", NULL);
    cmp_int (timeout_ms, 1500, "--timeout=1.5s");
    cmp_int (s_parse (NULL, "--timeout=5", NULL), -1, "--timeout=5 is refused");
    is (s_err, "cairn-test: --timeout: '5' has no unit (use ms, s, m or h, as in 5s)\n",
        "a bare number has no unit");
    cmp_int (s_parse (NULL, "--timeout=2h", NULL), -1, "--timeout=2h is out of range");
    is (s_err, "cairn-test: --timeout: '2h' is out of range (must be between 1ms and 1h)\n",
        "the range is shown as durations");
}

static void
test_numbers (void)
{
    cmp_int (s_parse (NULL, "--port=abc", NULL), -1, "--port=abc");
    is (s_err, "cairn-test: --port: 'abc' is not an integer\n", "is not an integer");
    cmp_int (s_parse (NULL, "--port=80.5", NULL), -1, "--port=80.5");
    cmp_int (s_parse (NULL, "--port=", NULL), -1, "--port= (empty)");
    is (s_err, "cairn-test: --port: '' is not an integer\n", "is not an integer");
    cmp_int (s_parse (NULL, "--port=70000", NULL), -1, "--port=70000");
    is (s_err, "cairn-test: --port: '70000' is out of range (must be between 1 and 65535)\n",
        "is out of range");
    cmp_int (s_parse (NULL, "--port=0", NULL), -1, "--port=0 is below the range");
    cmp_int (s_parse (NULL, "--port=99999999999999999999", NULL), -1,
             "an int64 overflow is out of range");
    cmp_int (s_parse (NULL, "--port=65535", NULL), 0, "--port=65535 is the top of the range");
    cmp_int (s_parse (NULL, "--port", "-1", NULL), -1, "--port -1 is a value, out of range");

    cmp_int (s_parse (NULL, "--ratio=0.75", NULL), 0, "--ratio=0.75");
    ok (ratio == 0.75, "is 0.75");
    cmp_int (s_parse (NULL, "--ratio=1.5", NULL), -1, "--ratio=1.5 is out of range");
    cmp_int (s_parse (NULL, "--ratio=nan", NULL), -1, "--ratio=nan is refused");
    is (s_err, "cairn-test: --ratio: 'nan' is not a number\n", "is not a number");
}

static void
test_unknown (void)
{
    cmp_int (s_parse (NULL, "--prot=5", NULL), -1, "--prot=5 is unknown");
    is (s_err, "cairn-test: unknown flag --prot (did you mean --port?)\n",
        "the closest flag is suggested");
    s_parse (NULL, "--no-colr", NULL);
    is (s_err, "cairn-test: unknown flag --no-colr (did you mean --no-color?)\n",
        "--no- forms are suggested too");
    s_parse (NULL, "--verison", NULL);
    is (s_err, "cairn-test: unknown flag --verison (did you mean --version?)\n",
        "and the built-in flags");
    s_parse (NULL, "-port", "5", NULL);
    is (s_err, "cairn-test: unknown flag -port (did you mean --port?)\n",
        "a single dash is not a long flag");
    s_parse (NULL, "--zzzzzz", NULL);
    is (s_err, "cairn-test: unknown flag --zzzzzz\n", "no suggestion when nothing is close");
    s_parse (NULL, "--x", NULL);
    is (s_err, "cairn-test: unknown flag --x\n", "nor by rewriting a whole short name");
}

static void
test_precedence (void)
{
    char *path = s_write_config ("{\n"
                                 "  \"port\": 1000,\n"
                                 "  \"work_dir\": \"/from/file\",\n"
                                 "  \"timeout\": \"10s\",\n"
                                 "  \"verbose\": true,\n"
                                 "  \"color\": \"no\",\n"
                                 "  \"ratio\": 0.25\n"
                                 "}\n");
    s_parse (NULL, NULL);
    cmp_int (port, 5050, "without anything: the default");

    cmp_int (s_parse (NULL, "--config", path, NULL), 0, "--config FILE");
    cmp_int (port, 1000, "the file beats the default");
    is (work_dir, "/from/file", "a key may be spelt with '_'");
    cmp_int (timeout_ms, 10000, "a duration is a string in the file");
    ok (verbose && !color, "bools from true and \"no\"");
    ok (ratio == 0.25, "double from the file");

    setenv ("CAIRN_TEST_PORT", "2000", 1);
    setenv ("CAIRN_TEST_WORK_DIR", "/from/env", 1);
    setenv ("CAIRN_TEST_COLOR", "yes", 1);
    s_parse (NULL, "--config", path, NULL);
    cmp_int (port, 2000, "the environment beats the file");
    is (work_dir, "/from/env", "CAIRN_TEST_WORK_DIR sets --work-dir");
    ok (color, "CAIRN_TEST_COLOR=yes");

    s_parse (NULL, "--port=3000", "--config", path, NULL);
    cmp_int (port, 3000, "the command line beats the environment, wherever --config is");
    is (work_dir, "/from/env", "the other flags keep their sources");
    cmp_int (timeout_ms, 10000, "the other flags keep their sources");

    setenv ("CAIRN_TEST_PORT", "abc", 1);
    cmp_int (s_parse (NULL, "--port=3000", NULL), -1,
             "a bad environment value is an error even when the flag is given");
    is (s_err, "cairn-test: CAIRN_TEST_PORT: 'abc' is not an integer\n",
        "naming the variable");
    s_clear_env ();
    unlink (path);
    free (path);
}

static void
test_config_errors (void)
{
    cmp_int (s_parse (NULL, "--config=/nonexistent/cairn.json", NULL), -1, "a missing file");
    is (s_err, "cairn-test: --config: cannot read '/nonexistent/cairn.json': "
        "No such file or directory\n", "says why it cannot be read");
    cmp_int (s_parse (NULL, "--config=/", NULL), -1, "a directory");
    is (s_err, "cairn-test: --config: cannot read '/': Is a directory\n",
        "is not taken for an empty file");

    s_config_error ("{\"port\": 1,\n \"master\": }\n",
                    "cairn-test: --config '", "': line 2, column 12: unexpected token near '}'\n");
    s_config_error ("{\"prot\": 1}",
                    "cairn-test: --config '", "': unknown key 'prot' (did you mean 'port'?)\n");
    s_config_error ("{\"port\": \"80\"}",
                    "cairn-test: --config '", "': key 'port': expected an integer, not a string\n");
    s_config_error ("{\"timeout\": 5}",
                    "cairn-test: --config '", "': key 'timeout': expected a duration string "
                    "such as \"5s\", not an integer\n");
    s_config_error ("{\"port\": 0}",
                    "cairn-test: --config '", "': key 'port': '0' is out of range "
                    "(must be between 1 and 65535)\n");
    s_config_error ("{\"verbose\": 2}",
                    "cairn-test: --config '", "': key 'verbose': '2' is not a boolean "
                    "(use true or false)\n");
    s_config_error ("{\"port\": 1, \"port\": 2}",
                    "cairn-test: --config '", "': line 1, column 18: duplicate object key "
                    "near '\"port\"'\n");
    s_config_error ("{\"work_dir\": \"a\", \"work-dir\": \"b\"}",
                    "cairn-test: --config '", "': keys 'work_dir' and 'work-dir' both set "
                    "work-dir\n");
    s_config_error ("[1, 2]",
                    "cairn-test: --config '", "': expected a JSON object of flags, not an array\n");
    s_config_error ("{\"help\": true}",
                    "cairn-test: --config '", "': unknown key 'help'\n");
}

static void
test_positional (void)
{
    int argi;
    char *old;

    cmp_int (s_parse (&argi, "--port=1", "--", "--verbose", "x", NULL), 0, "-- ends the flags");
    cmp_int (argi, 3, "argi is the argument after --");
    ok (!verbose, "--verbose after -- is not parsed");

    s_parse (&argi, "--port=1", "run", "--verbose", NULL);
    cmp_int (argi, 2, "the first non-flag ends the flags");
    ok (!verbose, "so flags after it belong to the caller");

    s_parse (&argi, "-", NULL);
    cmp_int (argi, 1, "'-' is positional");

    s_parse (&argi, "--", NULL);
    cmp_int (argi, 2, "a trailing -- leaves argi at argc");

    cmp_int (s_parse (NULL, "run", NULL), -1, "argi NULL: positional arguments are refused");
    is (s_err, "cairn-test: unexpected argument 'run'\n", "with a message");

    /*  A failed parse changes nothing: the caller's values stay valid.   */
    s_parse (NULL, "--port=4242", "--work-dir=/kept", NULL);
    old = work_dir;
    cmp_int (s_parse (NULL, "--port=1", "--work-dir=/lost", "--port=bad", NULL), -1,
             "a parse that fails");
    cmp_int (port, 4242, "leaves ints alone");
    ok (work_dir == old && strcmp (work_dir, "/kept") == 0, "and strings");
}

static void
test_help (void)
{
    const char *want[] = {
        "Usage: cairn-test [OPTIONS] [-- CMD [ARGS...]]\n", "Exercise the flags module.\n",
        "  --work-dir=DIR", "(default: /var/lib/cairn)", "  --master=HOST:PORT",
        "  --port=PORT", "(default: 5050)", "  --timeout=DURATION", "(default: 5s)",
        "  --verbose  ", "  --[no-]color", "(default: true)", "  --ratio=R",
        "  --config=FILE", "  -h, --help", "  --version", "CAIRN_TEST_WORK_DIR",
    };
    cmp_int (s_parse (NULL, "--port=1", "--help", "--bogus", NULL), 1,
             "--help returns 1, before later errors");
    is (s_err, "", "nothing on stderr");
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ok (strstr (s_out, want[i]) != NULL, "--help shows '%.*s'",
            (int) strcspn (want[i], "\n"), want[i]);
    diag ("--help output:");
    for (char *line = strtok (s_out, "\n"); line; line = strtok (NULL, "\n"))
        diag ("  %s", line);

    cmp_int (s_parse (NULL, "-h", NULL), 1, "-h returns 1");
    ok (strncmp (s_out, "Usage: cairn-test", 17) == 0, "and prints the help");
    cmp_int (s_parse (NULL, "--version", NULL), 1, "--version returns 1");
    is (s_out, "cairn-test " PACKAGE_VERSION "\n", "and prints the version");
    cmp_int (s_parse (NULL, "--bogus", "--help", NULL), -1, "an earlier error wins over --help");

    /*  --man: the same entries as roff, for the installed man pages.     */
    const char *want_man[] = {
        ".SH OPTIONS\n", ".TP\n\\fB\\-\\-work\\-dir\\fR=\\fIDIR\\fR\n",
        "Directory for the registry. (default:\\ /var/lib/cairn)\n",
        "\\fB\\-\\-[no\\-]color\\fR\n", "\\fB\\-\\-port\\fR=\\fIPORT\\fR\n",
        "\\fB\\-h, \\-\\-help\\fR\n", "\\fB\\-\\-man\\fR\n", "CAIRN_TEST_WORK_DIR",
    };
    cmp_int (s_parse (NULL, "--man", NULL), 1, "--man returns 1");
    for (size_t i = 0; i < sizeof want_man / sizeof want_man[0]; i++)
        ok (strstr (s_out, want_man[i]) != NULL, "--man shows '%.*s'",
            (int) strcspn (want_man[i], "\n"), want_man[i]);
    ok (strstr (s_out, "--") == NULL, "no unescaped dashes pair up in the roff");
    cmp_int (s_parse (NULL, "--man=x", NULL), -1, "--man takes no value");
}

/*  ---------------------------------------------------------------------
    log                                                                   */

#define LINE_RE "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "

static bool
s_matches (const char *text, const char *re)
{
    regex_t r;
    if (regcomp (&r, re, REG_EXTENDED | REG_NOSUB | REG_NEWLINE) != 0)
        abort ();
    bool m = regexec (&r, text, 0, NULL, 0) == 0;
    regfree (&r);
    return m;
}

static void *
s_log_thread (void *arg)
{
    for (int i = 0; i < 200; i++)
        log_info ("thread %d line %d %s", (int) (intptr_t) arg, i,
                  "padding padding padding padding padding padding");
    return NULL;
}

static void
test_log (void)
{
    errno = 0;
    cmp_int (log_init ("test", "loud", "stderr"), -1, "log_init with a bad level fails");
    cmp_int (errno, EINVAL, "with EINVAL");
    is (cairn_strerror_last (), "unknown log level 'loud' (use error, warn, info or debug)",
        "and says why");
    cmp_int (log_init ("test", "info", "file"), -1, "log_init with a bad target fails");
    cmp_int (log_init ("test", "debug", "stderr"), 0, "log_init (\"test\", \"debug\", \"stderr\")");
    ok (log_enabled (LOG_LEVEL_DEBUG), "debug is enabled");

    capture_t c = s_capture_begin (STDERR_FILENO);
    errno = ENOENT;
    log_info ("hello\nworld %d\n", 42);
    int saved = errno;
    log_set_level (LOG_LEVEL_WARN);
    log_info ("not shown");
    log_error ("failed: %s", "disk full");
    char *text = s_capture_end (c);
    cmp_int (saved, ENOENT, "log_msg keeps errno");
    ok (!log_enabled (LOG_LEVEL_INFO), "info is off at level warn");
    ok (s_matches (text, LINE_RE "INFO  test: hello world 42\n" LINE_RE
                   "ERROR test: failed: disk full\n$"),
        "two lines of the documented shape; newlines became spaces");
    free (text);

    char big[5000];
    memset (big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    c = s_capture_begin (STDERR_FILENO);
    log_error ("%s", big);
    text = s_capture_end (c);
    size_t len = strlen (text);
    ok (len > sizeof big && strncmp (text + len - sizeof big, big, sizeof big - 1) == 0
        && strchr (text, '\n') == text + len - 1,
        "a %zu-byte event is written whole, on one line", sizeof big - 1);
    free (text);

    /*  Four threads at once: every line must still be whole.            */
    log_set_level (LOG_LEVEL_INFO);
    c = s_capture_begin (STDERR_FILENO);
    pthread_t t[4];
    for (intptr_t i = 0; i < 4; i++)
        pthread_create (&t[i], NULL, s_log_thread, (void *) i);
    for (int i = 0; i < 4; i++)
        pthread_join (t[i], NULL);
    text = s_capture_end (c);
    int lines = 0, whole = 0;
    for (char *line = strtok (text, "\n"); line; line = strtok (NULL, "\n")) {
        lines++;
        if (s_matches (line, LINE_RE "INFO  test: thread [0-3] line [0-9]+ "
                       "padding padding padding padding padding padding$"))
            whole++;
    }
    cmp_int (lines, 800, "800 lines from 4 threads");
    cmp_int (whole, 800, "none interleaved");
    free (text);
}

/*  flags_parse_permuted: flags after positionals, "--" still the end.   */
static void
test_permuted (void)
{
    char a0[] = "cairn-test", a1[] = "TASK", a2[] = "--port=6000", a3[] = "--timeout",
         a4[] = "2s", a5[] = "OTHER", a6[] = "--verbose", a7[] = "--", a8[] = "--port=1",
         a9[] = "last";
    char *argv[] = { a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, NULL };
    int argc = 10, argi = -1;
    flags_free (&s_spec);
    cmp_int (flags_parse_permuted (&s_spec, argc, argv, &argi), 0,
             "flags_parse_permuted takes flags after positionals");
    cmp_int (port, 6000, "--port=6000 after TASK");
    cmp_int (timeout_ms, 2000, "--timeout 2s (value as the next argument) after TASK");
    ok (verbose, "--verbose after OTHER");
    cmp_int (argi, 6, "argi is the first positional");
    is (argv[argi], "TASK", "the positionals in their order: TASK");
    is (argv[argi + 1], "OTHER", "OTHER");
    is (argv[argi + 2], "--port=1", "then what followed --, untouched");
    is (argv[argi + 3], "last", "to the end");
    ok (argv[10] == NULL, "argv stays NULL-terminated");

    char b0[] = "cairn-test", b1[] = "TASK", b2[] = "--prot=1";
    char *bad[] = { b0, b1, b2, NULL };
    cmp_int (flags_parse_permuted (&s_spec, 3, bad, &argi), -1,
             "a misspelt flag after a positional is still an error");
    char c0[] = "cairn-test", c1[] = "TASK", c2[] = "--port=7";
    char *plain[] = { c0, c1, c2, NULL };
    flags_free (&s_spec);
    cmp_int (flags_parse (&s_spec, 3, plain, &argi), 0, "flags_parse stops at TASK");
    cmp_int (argi, 1, "leaving --port=7 as a positional");
    flags_free (&s_spec);
}

int
main (void)
{
    s_clear_env ();
    test_defaults ();
    test_forms ();
    test_bools ();
    test_durations ();
    test_numbers ();
    test_unknown ();
    test_precedence ();
    test_config_errors ();
    test_positional ();
    test_help ();
    test_permuted ();
    test_log ();

    flags_free (&s_spec);
    ok (work_dir == NULL && master == NULL, "flags_free releases the strings");
    free (s_out);
    free (s_err);
    return done_testing ();
}
