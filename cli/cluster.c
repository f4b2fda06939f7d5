/*  cluster.c - cairn agents | frameworks | tasks | state: the master's
    view of the cluster, as tables or JSON.                               */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn.h"
#include "cli.h"
#include "flags.h"

#define s_str cli_str
#define s_num cli_num
#define s_json cli.json
#define EXIT_USAGE CLI_USAGE


static int
s_cmd_agents (json_t *state)
{
    json_t *agents = json_object_get (state, "agents");
    if (s_json)
        return cli_print_json (agents);
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
        return cli_print_json (fws);
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
        cli_print_json (selected);
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


/*  Fetches /state after a command's own flags have been read.            */
static int
s_with_state (int (*fn) (json_t *), int argc, char **argv)
{
    if (argc > 1) {
        fprintf (stderr, "cairn %s: unexpected argument '%s'\n", argv[0], argv[1]);
        return CLI_USAGE;
    }
    json_t *state = cli_master_get ("/state");
    if (!state)
        return CLI_FAILED;
    int rc = fn (state);
    json_decref (state);
    return rc;
}

int
cli_cmd_agents (int argc, char **argv)
{
    return s_with_state (s_cmd_agents, argc, argv);
}

int
cli_cmd_frameworks (int argc, char **argv)
{
    return s_with_state (s_cmd_frameworks, argc, argv);
}

static int
s_state_json (json_t *state)
{
    return cli_print_json (state);
}

int
cli_cmd_state (int argc, char **argv)
{
    return s_with_state (s_state_json, argc, argv);
}

int
cli_cmd_tasks (int argc, char **argv)
{
    int rc = s_parse_tasks (argc, argv);
    if (rc == 0) {
        json_t *state = cli_master_get ("/state");
        rc = state ? s_cmd_tasks (state) : CLI_FAILED;
        json_decref (state);
    }
    else if (rc < 0)
        rc = 0;
    flags_free (&s_task_spec);
    return rc;
}
