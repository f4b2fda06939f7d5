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
#include <stdio.h>

#include <jansson.h>

#define CLI_FAILED 1
#define CLI_USAGE  2

/*  The global options, parsed before the command.                        */
typedef struct {
    const char *master;         /* HOST:PORT of the master's endpoint */
    bool json;                  /* print JSON rather than tables */
    int64_t timeout_ms;
    const char *master_public_key;      /* CURVE, or NULL */
    const char *curve_cert;
} cli_options_t;

extern cli_options_t cli;

/*  A command: argv[0] is its name; returns the exit status.             */
typedef struct {
    const char *name;
    const char *summary;        /* one line for cairn --help */
    int (*run) (int argc, char **argv);
} cli_command_t;

/*  Sets the HTTP client's bearer token (from token_file) and CA bundle
    (ca_file); NULL or "" leaves each unset. Returns 0, or -1 after
    printing why.                                                          */
int cli_set_credentials (const char *token_file, const char *ca_file);

/*  CURVE for the links to the master (both or neither): checks the files
    and passes them on to the driver too (cairn run) through
    $CAIRN_MASTER_PUBLIC_KEY and $CAIRN_CURVE_CERT. 0, or -1 after
    printing why.                                                          */
int cli_set_curve (const char *master_public_key, const char *curve_cert);

/*  The master's HTTP address "HOST:PORT" ("https://HOST:PORT" when it
    serves HTTPS), asked over its endpoint; NULL after printing why.
    Caller frees; make URLs of it with httpc_url.                          */
char *cli_master_http (void);
/*  Asks the master at master (HOST:PORT) over its endpoint where its HTTP
    is: 0 with *http; 1 when it answers with an error (a standby: code
    "not-leader"), with *code and *message if those are not NULL; -1 after
    printing why (no answer, bad address). The caller frees the strings. */
int cli_master_info (const char *master, char **http, char **code, char **message);

/*  An HTTP request with an optional JSON body; on success returns 0 with
    *status and *reply (parsed JSON, or NULL when the body is not JSON;
    caller decrefs). -1 after printing why (unreachable, ...).            */
int cli_request (const char *method, const char *url, json_t *body, long *status,
                 json_t **reply);
/*  GET the master's PATH as JSON; NULL after printing why.               */
json_t *cli_master_get (const char *path);
/*  METHOD the master's PATH (with its query); the JSON answer of a 2xx,
    else NULL after printing the master's error. *status (may be NULL)
    gets the HTTP status (0 if unreachable).                               */
json_t *cli_master_call (const char *method, const char *path, long *status);
/*  The master's URL for path ("http://HOST:PORT" + path, or https:// when
    it advertises that); NULL after printing why.                          */
char *cli_master_url (const char *path);
/*  A query-string value, percent-encoded (caller frees).                  */
char *cli_escape (const char *s);
/*  The master's details of a task (framework_id may be NULL); NULL after
    printing why.                                                          */
json_t *cli_task_info (const char *task_id, const char *framework_id);

/*  Prints JSON indented, keys sorted; returns 0.                          */
int cli_print_json (json_t *json);
const char *cli_str (json_t *obj, const char *key);
double cli_num (json_t *obj, const char *key);


/*  The commands about the cluster itself (cluster.c).                     */
int cli_cmd_agents (int argc, char **argv);
int cli_cmd_frameworks (int argc, char **argv);
int cli_cmd_tasks (int argc, char **argv);
int cli_cmd_state (int argc, char **argv);

/*  cairn status (status.c): the masters, the election, the counts.        */
int cli_cmd_status (int argc, char **argv);

/*  Operating on the cluster (operate.c, logs.c, run.c, events.c).         */
int cli_cmd_task (int argc, char **argv);
int cli_cmd_kill (int argc, char **argv);
int cli_cmd_teardown (int argc, char **argv);
int cli_cmd_agent (int argc, char **argv);
int cli_cmd_logs (int argc, char **argv);
int cli_cmd_run (int argc, char **argv);
int cli_cmd_events (int argc, char **argv);
int cli_cmd_top (int argc, char **argv);

/*  Copies n files of a task's sandbox ("stdout", "stderr") from its agent
    to outs[i], from byte offsets[i] on (advanced past what was copied);
    with follow, keeps copying until the task has ended and its output is
    complete. Returns 0, or -1 after printing why.                        */
int cli_copy_output (json_t *task, const char *const *files, FILE *const *outs,
                     int64_t *offsets, size_t n, bool follow);

/*  cairn service ... (service.c) and cairn batch ... (batch.c): clients of
    the bundled frameworks' REST APIs.                                    */
int cli_cmd_service (int argc, char **argv);

/*  cairn keygen (keygen.c): a CURVE key pair.                            */
int cli_cmd_keygen (int argc, char **argv);
int cli_cmd_batch (int argc, char **argv);

#endif
