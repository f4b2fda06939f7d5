/*  cli.h - what the `cairn` command's subcommands share: the global
    options, finding the master's HTTP endpoint, HTTP + JSON requests,
    output helpers. Each group of subcommands lives in its own file and
    is listed in the command table in cairn.c.

    Exit status everywhere: 0 on success, 1 when the operation failed,
    2 for usage errors.                                                   */
#ifndef CAIRN_CLI_H_INCLUDED
#define CAIRN_CLI_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#define CLI_FAILED 1
#define CLI_USAGE  2

/*  The global options, parsed before the command.                        */
typedef struct {
    const char *master;         /* HOST:PORT of the master's endpoint */
    bool json;                  /* print JSON rather than tables */
    int64_t timeout_ms;
} cli_options_t;

extern cli_options_t cli;

/*  A command: argv[0] is its name; returns the exit status.             */
typedef struct {
    const char *name;
    const char *summary;        /* one line for cairn --help */
    int (*run) (int argc, char **argv);
} cli_command_t;

/*  The master's HTTP address "HOST:PORT", asked over its endpoint; NULL
    after printing why. Caller frees.                                      */
char *cli_master_http (void);

/*  An HTTP request with an optional JSON body; on success returns 0 with
    *status and *reply (parsed JSON, or NULL when the body is not JSON;
    caller decrefs). -1 after printing why (unreachable, ...).            */
int cli_request (const char *method, const char *url, json_t *body, long *status,
                 json_t **reply);
/*  GET the master's PATH as JSON; NULL after printing why.               */
json_t *cli_master_get (const char *path);

/*  Prints JSON indented, keys sorted; returns 0.                          */
int cli_print_json (json_t *json);
const char *cli_str (json_t *obj, const char *key);
double cli_num (json_t *obj, const char *key);


/*  The commands about the cluster itself (cluster.c).                     */
int cli_cmd_agents (int argc, char **argv);
int cli_cmd_frameworks (int argc, char **argv);
int cli_cmd_tasks (int argc, char **argv);
int cli_cmd_state (int argc, char **argv);

#endif
