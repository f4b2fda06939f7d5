/*  cairn.c - the operator command line.

    cairn [--master=HOST:PORT] [--json] COMMAND [ARGS]

    It asks the master (over its ZeroMQ endpoint, the one address an
    operator knows) where its HTTP endpoint is, then reads that. Human
    tables by default, the master's JSON with --json. Exit status: 0 on
    success, 1 when the operation failed, 2 for usage errors.            */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>
#include <jansson.h>

#include "error.h"
#include "flags.h"
#include "httpc.h"
#include "proto.h"
#include "transport.h"

#define EXIT_FAILED 1
#define EXIT_USAGE  2

static char *s_master;
static bool s_json;
static int64_t s_timeout_ms;

static const flag_t s_flags[] = {
    { "master", FLAG_STRING, &s_master, "127.0.0.1:5050", "HOST:PORT",
      "The master's endpoint (also $CAIRN_MASTER).", 0, 0 },
    { "json", FLAG_BOOL, &s_json, NULL, NULL, "Print JSON instead of tables.", 0, 0 },
    { "timeout", FLAG_DURATION, &s_timeout_ms, "5s", "DURATION",
      "How long to wait for the master.", 1, 3600000 },
};

static const flags_spec_t s_spec = {
    "cairn", "CAIRN_",
    "Operate a Cairn cluster.\n\nCommands:\n"
    "  agents       list agents, their resources and state\n"
    "  frameworks   list frameworks\n"
    "  tasks        list tasks [--framework=ID] [--agent=ID] [--state=STATE]\n"
    "  state        the master's whole /state (JSON)",
    "[OPTIONS] COMMAND [ARGS]", s_flags, sizeof s_flags / sizeof s_flags[0],
};

/*  Asks the master for its HTTP address; caller frees.                    */
static char *
s_master_http (void)
{
    char *endpoint = transport_endpoint (s_master);
    if (!endpoint) {
        fprintf (stderr, "cairn: --master: %s\n", cairn_strerror_last ());
        return NULL;
    }
    zsock_t *sock = zsock_new (ZMQ_DEALER);
    transport_tune (sock);
    zsock_connect (sock, "%s", endpoint);
    proto_msg_t *req = proto_msg_new (PROTO_INFO_REQUEST);
    transport_send (sock, NULL, req);
    proto_msg_destroy (&req);
    char *http = NULL;
    int64_t deadline = clock_mono_ms () + s_timeout_ms;
    zpoller_t *poller = zpoller_new (sock, NULL);
    while (!http && clock_mono_ms () < deadline) {
        if (!zpoller_wait (poller, (int) (deadline - clock_mono_ms ())))
            continue;
        proto_msg_t *msg = NULL;
        proto_fault_t fault;
        if (transport_recv (sock, false, NULL, &msg, &fault) == 0)
            continue;
        if (msg && msg->type == PROTO_INFO)
            http = xstrdup (msg->u.info.http_address);
        else if (msg && msg->type == PROTO_ERROR) {
            fprintf (stderr, "cairn: the master at %s says: %s\n", s_master,
                     msg->u.error.message);
            proto_msg_destroy (&msg);
            break;
        }
        proto_msg_destroy (&msg);
    }
    if (!http && clock_mono_ms () >= deadline)
        fprintf (stderr, "cairn: no answer from a master at %s within %" PRId64 " ms\n",
                 s_master, s_timeout_ms);
    zpoller_destroy (&poller);
    zsock_destroy (&sock);
    free (endpoint);
    return http;
}

static json_t *
s_get_json (const char *path)
{
    char *http = s_master_http ();
    if (!http)
        return NULL;
    char *url = xasprintf ("http://%s%s", http, path);
    long status = 0;
    char *body = NULL;
    size_t size = 0;
    json_t *json = NULL;
    if (httpc_get (url, (long) s_timeout_ms, &status, &body, &size) < 0)
        fprintf (stderr, "cairn: %s\n", cairn_strerror_last ());
    else if (status != 200)
        fprintf (stderr, "cairn: %s answered %ld: %s\n", url, status, body);
    else {
        json_error_t err;
        json = json_loadb (body, size, 0, &err);
        if (!json)
            fprintf (stderr, "cairn: %s: not JSON: %s\n", url, err.text);
    }
    free (body);
    free (url);
    free (http);
    return json;
}

static const char *
s_str (json_t *obj, const char *key)
{
    const char *s = json_string_value (json_object_get (obj, key));
    return s ? s : "";
}

static double
s_num (json_t *obj, const char *key)
{
    return json_number_value (json_object_get (obj, key));
}

static int
s_print_json (json_t *json)
{
    char *text = json_dumps (json, JSON_INDENT (2) | JSON_SORT_KEYS);
    puts (text);
    free (text);
    return 0;
}

static int
s_cmd_agents (json_t *state)
{
    json_t *agents = json_object_get (state, "agents");
    if (s_json)
        return s_print_json (agents);
    printf ("%-22s %-20s %-12s %13s %17s %6s\n", "ID", "HOSTNAME", "STATE", "CPUS USED",
            "MEM USED (MiB)", "TASKS");
    size_t i;
    json_t *a;
    json_array_foreach (agents, i, a) {
        json_t *total = json_object_get (a, "resources"), *used = json_object_get (a, "used");
        char cpus[32], mem[40];
        snprintf (cpus, sizeof cpus, "%.2f/%.2f", s_num (used, "cpus"), s_num (total, "cpus"));
        snprintf (mem, sizeof mem, "%.0f/%.0f", s_num (used, "mem"), s_num (total, "mem"));
        printf ("%-22s %-20s %-12s %13s %17s %6.0f\n", s_str (a, "id"), s_str (a, "hostname"),
                s_str (a, "state"), cpus, mem, s_num (a, "tasks"));
    }
    return 0;
}

static int
s_cmd_frameworks (json_t *state)
{
    json_t *fws = json_object_get (state, "frameworks");
    if (s_json)
        return s_print_json (fws);
    printf ("%-22s %-16s %-10s %-12s %7s %6s\n", "ID", "NAME", "ROLE", "STATE", "SHARE",
            "TASKS");
    size_t i;
    json_t *f;
    json_array_foreach (fws, i, f) {
        double tasks = 0;
        const char *k;
        json_t *v;
        json_object_foreach (json_object_get (f, "tasks"), k, v)
            if (strcmp (k, "TASK_STAGING") == 0 || strcmp (k, "TASK_STARTING") == 0
                || strcmp (k, "TASK_RUNNING") == 0 || strcmp (k, "TASK_KILLING") == 0)
                tasks += json_number_value (v);
        const char *st = json_is_true (json_object_get (f, "removed")) ? "removed"
                       : json_is_true (json_object_get (f, "connected")) ? "connected"
                                                                          : "disconnected";
        printf ("%-22s %-16s %-10s %-12s %7.3f %6.0f\n", s_str (f, "id"), s_str (f, "name"),
                s_str (f, "role"), st, s_num (f, "dominant_share"), tasks);
    }
    return 0;
}

static char *s_task_framework, *s_task_agent, *s_task_state;
static const flag_t s_task_flags[] = {
    { "framework", FLAG_STRING, &s_task_framework, NULL, "ID", "Only this framework's tasks.",
      0, 0 },
    { "agent", FLAG_STRING, &s_task_agent, NULL, "ID", "Only tasks on this agent.", 0, 0 },
    { "state", FLAG_STRING, &s_task_state, NULL, "STATE",
      "Only tasks in this state (TASK_RUNNING or RUNNING).", 0, 0 },
};
static const flags_spec_t s_task_spec = {
    "cairn tasks", NULL, "List tasks, live and completed.", "[OPTIONS]",
    s_task_flags, sizeof s_task_flags / sizeof s_task_flags[0],
};
static char s_wanted_state[64];

/*  Parses the tasks command's flags before anything talks to the master. */
static int
s_parse_tasks (int argc, char **argv)
{
    int rc = flags_parse (&s_task_spec, argc, argv, NULL);
    if (rc != 0)
        return rc < 0 ? EXIT_USAGE : -1;
    if (s_task_state) {
        snprintf (s_wanted_state, sizeof s_wanted_state, "%s%s",
                  strncmp (s_task_state, "TASK_", 5) ? "TASK_" : "", s_task_state);
        cairn_task_state_t st;
        if (cairn_task_state_parse (s_wanted_state, &st) < 0) {
            fprintf (stderr, "cairn tasks: --state: %s\n", cairn_strerror_last ());
            return EXIT_USAGE;
        }
    }
    return 0;
}

static int
s_cmd_tasks (json_t *state)
{
    const char *framework = s_task_framework, *agent = s_task_agent;
    const char *wanted = s_wanted_state;
    /*  Hostnames by agent id, for people.                                 */
    json_t *hosts = json_object ();
    size_t i;
    json_t *a;
    json_array_foreach (json_object_get (state, "agents"), i, a)
        json_object_set (hosts, s_str (a, "id"), json_object_get (a, "hostname"));
    json_t *selected = json_array ();
    const char *lists[] = { "tasks", "completed_tasks" };
    for (int l = 0; l < 2; l++) {
        json_t *t;
        json_array_foreach (json_object_get (state, lists[l]), i, t) {
            if ((framework && strcmp (s_str (t, "framework_id"), framework) != 0)
                || (agent && strcmp (s_str (t, "agent_id"), agent) != 0)
                || (*wanted && strcmp (s_str (t, "state"), wanted) != 0))
                continue;
            json_array_append (selected, t);
        }
    }
    if (s_json)
        s_print_json (selected);
    else {
        printf ("%-24s %-22s %-16s %-15s %s\n", "ID", "FRAMEWORK", "HOST", "STATE", "MESSAGE");
        json_t *t;
        json_array_foreach (selected, i, t) {
            const char *host = json_string_value (json_object_get (hosts, s_str (t, "agent_id")));
            printf ("%-24s %-22s %-16s %-15s %s\n", s_str (t, "id"), s_str (t, "framework_id"),
                    host ? host : "-", s_str (t, "state") + 5, s_str (t, "message"));
        }
    }
    json_decref (selected);
    json_decref (hosts);
    return 0;
}

static const char *s_commands[] = { "agents", "frameworks", "tasks", "state" };

int
main (int argc, char **argv)
{
    /*  With the prefix CAIRN_, --master also comes from $CAIRN_MASTER.   */
    int argi = 0;
    int rc = flags_parse (&s_spec, argc, argv, &argi);
    if (rc != 0)
        return rc < 0 ? EXIT_USAGE : 0;
    if (argi >= argc) {
        fprintf (stderr, "cairn: a command is required (agents, frameworks, tasks, state); "
                 "see cairn --help\n");
        flags_free (&s_spec);
        return EXIT_USAGE;
    }
    const char *cmd = argv[argi];
    bool known = false;
    for (size_t i = 0; i < sizeof s_commands / sizeof s_commands[0]; i++)
        known |= strcmp (cmd, s_commands[i]) == 0;
    if (!known) {
        fprintf (stderr, "cairn: unknown command '%s' (commands: agents, frameworks, tasks, "
                 "state)\n", cmd);
        flags_free (&s_spec);
        return EXIT_USAGE;
    }
    if (strcmp (cmd, "tasks") == 0) {
        rc = s_parse_tasks (argc - argi, argv + argi);
        if (rc != 0) {
            flags_free (&s_task_spec);
            flags_free (&s_spec);
            return rc < 0 ? 0 : rc;
        }
    }
    else if (argi + 1 < argc) {
        fprintf (stderr, "cairn %s: unexpected argument '%s'\n", cmd, argv[argi + 1]);
        flags_free (&s_spec);
        return EXIT_USAGE;
    }
    json_t *state = s_get_json ("/state");
    int exit_code = EXIT_FAILED;
    if (state) {
        if (strcmp (cmd, "agents") == 0)
            exit_code = s_cmd_agents (state);
        else if (strcmp (cmd, "frameworks") == 0)
            exit_code = s_cmd_frameworks (state);
        else if (strcmp (cmd, "tasks") == 0)
            exit_code = s_cmd_tasks (state);
        else
            exit_code = s_print_json (state);
        json_decref (state);
    }
    flags_free (&s_task_spec);
    flags_free (&s_spec);
    return exit_code;
}
