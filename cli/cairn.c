/*  cairn.c - the operator command line.

    cairn [--master=HOST:PORT] [--json] [--timeout=DURATION] [--token-file=FILE]
          [--ca-file=FILE] COMMAND [ARGS]

    Commands about the cluster ask the master (over its ZeroMQ endpoint,
    the one address an operator knows) where its HTTP endpoint is, then
    read that. Human tables by default, JSON with --json. Exit status: 0
    on success, 1 when the operation failed, 2 for usage errors. Each
    group of commands lives in its own file (cli.h).                      */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "error.h"
#include "flags.h"
#include "util.h"

static char *s_master, *s_token_file, *s_ca_file, *s_master_public_key, *s_curve_cert;
static bool s_json;
static int64_t s_timeout_ms;

static const cli_command_t s_commands[] = {
    { "status", "the cluster at a glance: masters and their roles, the leader, counts",
      cli_cmd_status },
    { "agents", "list agents, their resources and state", cli_cmd_agents },
    { "frameworks", "list frameworks", cli_cmd_frameworks },
    { "tasks", "list tasks [--framework=ID] [--agent=ID] [--state=STATE]", cli_cmd_tasks },
    { "state", "the master's whole /state (JSON)", cli_cmd_state },
    { "task", "one task: where it runs, its state history, its usage", cli_cmd_task },
    { "logs", "a task's output from its agent [--stderr] [--follow] [--tail=N]", cli_cmd_logs },
    { "run", "run one command as a task and exit with its status: run [OPTIONS] -- CMD",
      cli_cmd_run },
    { "kill", "kill a task", cli_cmd_kill },
    { "teardown", "remove a framework and kill its tasks", cli_cmd_teardown },
    { "agent", "drain, undrain or mark gone an agent: agent drain|undrain|gone ID",
      cli_cmd_agent },
    { "events", "the master's events (tasks, agents, frameworks) [--follow]", cli_cmd_events },
    { "top", "a live view of utilization and the busiest tasks", cli_cmd_top },
    { "service", "long-running services through cairn-service (see cairn service --help)",
      cli_cmd_service },
    { "batch", "batch jobs through cairn-batch's queue (see cairn batch --help)", cli_cmd_batch },
    { "keygen", "write a CURVE key pair: keygen --name=NAME [--out=DIR] [--principal=P]",
      cli_cmd_keygen },
};
#define NCOMMANDS (sizeof s_commands / sizeof s_commands[0])

static const flag_t s_flags[] = {
    { "master", FLAG_STRING, &s_master, "127.0.0.1:5050", "HOST:PORT|zk://HOSTS/PATH",
      "The master's endpoint, or the ZooKeeper ensemble and path of masters run with --zk "
      "(the leader is found there) (also $CAIRN_MASTER).", 0, 0 },
    { "json", FLAG_BOOL, &s_json, NULL, NULL, "Print JSON instead of tables.", 0, 0 },
    { "timeout", FLAG_DURATION, &s_timeout_ms, "5s", "DURATION",
      "How long to wait for the master and other endpoints.", 1, 3600000 },
    { "token-file", FLAG_STRING, &s_token_file, NULL, "FILE",
      "Bearer token for the HTTP calls that change something: a line TOKEN or "
      "PRINCIPAL TOKEN (also $CAIRN_TOKEN_FILE).", 0, 0 },
    { "ca-file", FLAG_STRING, &s_ca_file, NULL, "FILE",
      "CA certificates (PEM) that sign the daemons' HTTPS certificates (also "
      "$CAIRN_CA_FILE).", 0, 0 },
    { "master-public-key", FLAG_STRING, &s_master_public_key, NULL, "FILE",
      "The master's CURVE public key, for a master with --curve-secret (also "
      "$CAIRN_MASTER_PUBLIC_KEY; with --curve-cert).", 0, 0 },
    { "curve-cert", FLAG_STRING, &s_curve_cert, NULL, "FILE",
      "Your CURVE key pair, NAME.key_secret from cairn keygen (also $CAIRN_CURVE_CERT).",
      0, 0 },
};

/*  The global flags may also come after the command ("cairn agents
    --json"), up to a "--": they are taken out of the command's arguments
    (argv[0] is the command) and applied. Returns the arguments left, or
    -1 after printing a usage error.                                      */
static int
s_take_global_flags (int argc, char **argv)
{
    int out = 1;
    int i;
    for (i = 1; i < argc && strcmp (argv[i], "--") != 0; i++) {
        const char *a = argv[i];
        const char *value = NULL;
        char **slot = NULL;
        if (strcmp (a, "--json") == 0) {
            cli.json = true;
            continue;
        }
        if (strcmp (a, "--no-json") == 0) {
            cli.json = false;
            continue;
        }
        if (strncmp (a, "--master=", 9) == 0 || strcmp (a, "--master") == 0)
            slot = &s_master;
        else if (strncmp (a, "--token-file=", 13) == 0 || strcmp (a, "--token-file") == 0)
            slot = &s_token_file;
        else if (strncmp (a, "--ca-file=", 10) == 0 || strcmp (a, "--ca-file") == 0)
            slot = &s_ca_file;
        else if (strncmp (a, "--master-public-key=", 20) == 0
                 || strcmp (a, "--master-public-key") == 0)
            slot = &s_master_public_key;
        else if (strncmp (a, "--curve-cert=", 13) == 0 || strcmp (a, "--curve-cert") == 0)
            slot = &s_curve_cert;
        else if (strncmp (a, "--timeout=", 10) == 0 || strcmp (a, "--timeout") == 0)
            slot = NULL;
        else {
            argv[out++] = argv[i];
            continue;
        }
        value = strchr (a, '=');
        if (value)
            value++;
        else if (i + 1 < argc)
            value = argv[++i];
        else {
            fprintf (stderr, "cairn %s: %s: missing value\n", argv[0], a);
            return -1;
        }
        if (slot) {
            free (*slot);
            *slot = xstrdup (value);
            cli.master = s_master;
        }
        else if (duration_parse (value, &s_timeout_ms) < 0 || s_timeout_ms <= 0) {
            fprintf (stderr, "cairn %s: --timeout: '%s' is not a duration such as 5s\n",
                     argv[0], value);
            return -1;
        }
        else
            cli.timeout_ms = s_timeout_ms;
    }
    for (; i < argc; i++)
        argv[out++] = argv[i];
    argv[out] = NULL;
    return out;
}

int
main (int argc, char **argv)
{
    /*  The command list for --help, from the table.                      */
    char summary[4096];
    size_t len = (size_t) snprintf (summary, sizeof summary, "Operate a Cairn cluster.\n\n"
                                    "Commands:");
    for (size_t i = 0; i < NCOMMANDS && len < sizeof summary; i++)
        len += (size_t) snprintf (summary + len, sizeof summary - len, "\n  %-12s %s",
                                  s_commands[i].name, s_commands[i].summary);
    const flags_spec_t spec = { "cairn", "CAIRN_", summary, "[OPTIONS] COMMAND [ARGS]",
                                s_flags, sizeof s_flags / sizeof s_flags[0] };
    /*  With the prefix CAIRN_, --master also comes from $CAIRN_MASTER.   */
    int argi = 0;
    int rc = flags_parse (&spec, argc, argv, &argi);
    if (rc != 0)
        return rc < 0 ? CLI_USAGE : 0;
    cli.master = s_master;
    cli.json = s_json;
    cli.timeout_ms = s_timeout_ms;
    int exit_code = CLI_USAGE;
    if (argi >= argc)
        fprintf (stderr, "cairn: a command is required; see cairn --help\n");
    else {
        const cli_command_t *cmd = NULL;
        for (size_t i = 0; i < NCOMMANDS; i++)
            if (strcmp (argv[argi], s_commands[i].name) == 0)
                cmd = &s_commands[i];
        if (cmd) {
            int n = s_take_global_flags (argc - argi, argv + argi);
            if (n >= 0 && cli_set_credentials (s_token_file, s_ca_file) < 0)
                n = -1;
            if (n >= 0 && cli_set_curve (s_master_public_key, s_curve_cert) < 0)
                n = -1;
            if (n >= 0)
                exit_code = cmd->run (n, argv + argi);
        }
        else {
            const char *names[NCOMMANDS];
            for (size_t i = 0; i < NCOMMANDS; i++)
                names[i] = s_commands[i].name;
            const char *hint = util_closest (argv[argi], names, NCOMMANDS);
            fprintf (stderr, "cairn: unknown command '%s'%s%s%s; see cairn --help\n",
                     argv[argi], hint ? " (did you mean " : "", hint ? hint : "",
                     hint ? "?)" : "");
        }
    }
    flags_free (&spec);
    return exit_code;
}
