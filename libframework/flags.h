/*  flags.h - command-line flags, environment, JSON config file and --help,
    for the daemons, the CLI and the example frameworks. Internal.

    A program describes its flags once in a table of flag_t; flags_parse
    fills the variables they point to from, in increasing precedence:
    the default, the --config file, the environment, the command line.

        static char *work_dir;
        static int64_t port;
        static int64_t timeout_ms;
        static bool verbose;
        static const flag_t s_flags[] = {
            { "work-dir", FLAG_STRING, &work_dir, "/var/lib/cairn", "DIR",
              "Directory for the registry.", 0, 0 },
            { "port", FLAG_INT, &port, "5050", "PORT",
              "Port to listen on.", 1, 65535 },
            { "timeout", FLAG_DURATION, &timeout_ms, "5s", "DURATION",
              "How long to wait for an agent.", 1, 3600000 },
            { "verbose", FLAG_BOOL, &verbose, NULL, NULL,
              "Log at debug level.", 0, 0 },
        };
        flags_spec_t spec = { "cairn-master", "CAIRN_MASTER_",
                              "Run the Cairn master.", "[OPTIONS]",
                              s_flags, sizeof s_flags / sizeof s_flags[0] };
        int rc = flags_parse (&spec, argc, argv, NULL);
        if (rc != 0)
            exit (rc < 0 ? 2 : 0);
        ...
        flags_free (&spec);                                                */
#ifndef CAIRN_FLAGS_H_INCLUDED
#define CAIRN_FLAGS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

typedef enum {
    FLAG_STRING,                /* value: char ** (owned, strdup'd) */
    FLAG_INT,                   /* value: int64_t * */
    FLAG_BOOL,                  /* value: bool * */
    FLAG_DURATION,              /* value: int64_t * (milliseconds) */
    FLAG_DOUBLE,                /* value: double * */
} flag_type_t;

typedef struct {
    const char *name;           /* "work-dir": lowercase, '-' between words */
    flag_type_t type;
    void *value;                /* where flags_parse stores the result */
    const char *def;            /* default as text, parsed like a command-line
                                   value; NULL: string NULL, numbers 0,
                                   bool false */
    const char *metavar;        /* "DIR", "HOST:PORT" for --help; NULL for
                                   bools (others then get a generic one) */
    const char *help;           /* one sentence */
    int64_t min, max;           /* inclusive range for INT, DURATION (ms) and
                                   DOUBLE; min == max == 0: unchecked */
} flag_t;

typedef struct {
    const char *program;        /* "cairn-master": prefixes every message */
    const char *env_prefix;     /* "CAIRN_MASTER_"; NULL: no environment */
    const char *summary;        /* one line shown by --help */
    const char *usage;          /* "[OPTIONS]", "[OPTIONS] -- CMD [ARGS...]" */
    const flag_t *flags;
    size_t nflags;
} flags_spec_t;

/*  Sets every flag's default, then applies --config=FILE (a JSON object
    whose keys are flag names, spelt with '-' or '_'), then the environment
    (flag "work-dir" with prefix "CAIRN_MASTER_" is CAIRN_MASTER_WORK_DIR),
    then the command line, where the last of a repeated flag wins.
    Flags are --name=value or --name value; a bool is --name, --no-name or
    --name=true|false|yes|no|1|0. Parsing stops at the first argument that
    is not a flag, or after "--", which is consumed.
    Returns 0 and sets *argi to the index of the first remaining argument
    (argi NULL: positional arguments are an error). Returns 1 after
    printing --help (-h), --man or --version to stdout: the caller exits 0.
    Returns -1 after printing one line to stderr that names the flag,
    variable or config key and the problem: the caller exits 2.
    Only a 0 return stores anything; string slots are overwritten without
    being freed, so they must be NULL or already released by flags_free. */
int flags_parse (const flags_spec_t *spec, int argc, char **argv, int *argi);

/*  flags_parse for commands whose flags may also follow their positional
    arguments ("cairn logs TASK --follow"): argv[1..] is reordered, flags
    first, as GNU getopt does, and *argi is the first positional; "--"
    still ends the flags.                                                 */
int flags_parse_permuted (const flags_spec_t *spec, int argc, char **argv, int *argi);

/*  Frees the strings flags_parse stored and sets them to NULL.
    Idempotent.                                                            */
void flags_free (const flags_spec_t *spec);

/*  Writes the usage line, the summary, and every flag with its metavar,
    help and default (plus --config, --help and --version) to f.          */
void flags_print_help (const flags_spec_t *spec, FILE *f);

/*  Writes the same entries as flags_print_help as a man page's OPTIONS
    section (roff, from ".SH OPTIONS" on) to f; `PROGRAM --man` prints
    it, and the build puts it into the installed man pages.               */
void flags_print_man (const flags_spec_t *spec, FILE *f);

/*  The values in force, as a JSON object keyed by flag name (durations as
    text such as "5s", unset strings as null): a daemon's GET /flags.    */
json_t *flags_json (const flags_spec_t *spec);

/*  Parses a duration, "<n>ms|s|m|h" such as "500ms", "5s", "2m", "1h" or
    "1.5s", into milliseconds. A bare number, a negative value, a value
    finer than a millisecond or one that overflows is an error.
    Returns 0, or -1 with errno EINVAL or ERANGE and an error_set sentence. */
int duration_parse (const char *text, int64_t *ms);

/*  Formats ms as a whole number of the largest unit that represents it
    exactly ("500ms", "5s", "90m", "1h"; 0 is "0s"), which duration_parse
    reads back to the same value. Returns a string the caller frees.      */
char *duration_format (int64_t ms);

#endif
