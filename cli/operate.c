/*  operate.c - cairn task | kill | teardown | agent drain|undrain|gone:
    one task's details, and the operator's decisions, which the master
    answers once they are recorded.                                      */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn.h"
#include "cli.h"
#include "error.h"
#include "flags.h"
#include "util.h"

/*  "2026-11-22 06:01:02" in local time, for people.                       */
static void
s_time (double t, char *buf, size_t size)
{
    time_t secs = (time_t) t;
    struct tm tm;
    if (t <= 0 || !localtime_r (&secs, &tm))
        snprintf (buf, size, "-");
    else
        strftime (buf, size, "%Y-%m-%d %H:%M:%S", &tm);
}

/*  The one ID argument a command takes, after its flags; NULL after a
    usage message.                                                        */
static const char *
s_one_arg (const flags_spec_t *spec, int argc, char **argv, int *rc, const char *what)
{
    int argi = 0;
    *rc = flags_parse_permuted (spec, argc, argv, &argi);
    if (*rc != 0) {
        *rc = *rc < 0 ? CLI_USAGE : 0;
        return NULL;
    }
    if (argi >= argc || argi + 1 < argc) {
        fprintf (stderr, "%s: %s\n", spec->program,
                 argi >= argc ? what : "too many arguments");
        *rc = CLI_USAGE;
        return NULL;
    }
    return argv[argi];
}

/*  cairn task ID  */

static char *s_task_fw;
static const flag_t s_task_flags[] = {
    { "framework", FLAG_STRING, &s_task_fw, NULL, "ID",
      "The task's framework, when several have a task by that id.", 0, 0 },
};
static const flags_spec_t s_task_spec = {
    "cairn task", NULL, "Show a task: where it runs, its state history, its usage.",
    "[OPTIONS] TASK", s_task_flags, 1,
};

static void
s_print_task (json_t *t)
{
    char when[32];
    json_t *agent = json_object_get (t, "agent");
    printf ("%-12s %s\n", "task", cli_str (t, "id"));
    printf ("%-12s %s (%s)\n", "framework", cli_str (t, "framework_id"),
            cli_str (t, "framework_name"));
    printf ("%-12s %s (%s, %s)\n", "agent", cli_str (t, "agent_id"),
            agent ? cli_str (agent, "hostname") : "?",
            agent ? cli_str (agent, "http_address") : "?");
    printf ("%-12s %s\n", "state", cli_str (t, "state"));
    if (json_object_get (t, "reason"))
        printf ("%-12s %s\n", "reason", cli_str (t, "reason"));
    printf ("%-12s %s\n", "message", cli_str (t, "message"));
    if (json_object_get (t, "exit_code"))
        printf ("%-12s %.0f\n", "exit code", cli_num (t, "exit_code"));
    if (json_object_get (t, "signal"))
        printf ("%-12s %.0f\n", "signal", cli_num (t, "signal"));
    if (json_object_get (t, "healthy"))
        printf ("%-12s %s\n", "healthy", json_is_true (json_object_get (t, "healthy"))
                                             ? "yes" : "no");
    if (json_is_string (json_object_get (t, "command")))
        printf ("%-12s %s\n", "command", cli_str (t, "command"));
    json_t *res = json_object_get (t, "resources");
    printf ("%-12s cpus %.2f, mem %.0f MiB, disk %.0f MiB\n", "resources",
            cli_num (res, "cpus"), cli_num (res, "mem"), cli_num (res, "disk"));
    json_t *usage = json_object_get (t, "usage");
    if (usage) {
        s_time (cli_num (usage, "sampled"), when, sizeof when);
        printf ("%-12s %.2f cpu-seconds, mem %.1f MiB (peak %.1f of %.0f MiB), at %s\n", "usage",
                cli_num (usage, "cpu_seconds"), cli_num (usage, "mem_bytes") / 1048576.0,
                cli_num (usage, "mem_peak_bytes") / 1048576.0,
                cli_num (usage, "mem_limit_bytes") / 1048576.0, when);
    }
    printf ("history:\n");
    size_t i;
    json_t *h;
    json_array_foreach (json_object_get (t, "history"), i, h) {
        s_time (cli_num (h, "time"), when, sizeof when);
        printf ("  %s  %-16s %s\n", when, cli_str (h, "state"), cli_str (h, "reason"));
    }
}

int
cli_cmd_task (int argc, char **argv)
{
    int rc;
    const char *id = s_one_arg (&s_task_spec, argc, argv, &rc, "which task? (cairn task ID)");
    if (id) {
        json_t *t = cli_task_info (id, s_task_fw);
        rc = t ? 0 : CLI_FAILED;
        if (t && cli.json)
            cli_print_json (t);
        else if (t)
            s_print_task (t);
        json_decref (t);
    }
    flags_free (&s_task_spec);
    return rc;
}

/*  cairn kill TASK  */

static char *s_kill_fw, *s_kill_grace;
static const flag_t s_kill_flags[] = {
    { "framework", FLAG_STRING, &s_kill_fw, NULL, "ID",
      "The task's framework, when several have a task by that id.", 0, 0 },
    { "grace", FLAG_STRING, &s_kill_grace, NULL, "DURATION",
      "Time between SIGTERM and SIGKILL (default: the agent's --default-kill-grace).", 0, 0 },
};
static const flags_spec_t s_kill_spec = {
    "cairn kill", NULL, "Kill a task; its framework hears TASK_KILLED.", "[OPTIONS] TASK",
    s_kill_flags, 2,
};

/*  POSTs an operator decision and prints the outcome.                    */
static int
s_decide (const char *path, const char *done)
{
    json_t *reply = cli_master_call ("POST", path, NULL);
    if (!reply)
        return CLI_FAILED;
    if (cli.json)
        cli_print_json (reply);
    else
        printf ("%s\n", done);
    json_decref (reply);
    return 0;
}

int
cli_cmd_kill (int argc, char **argv)
{
    int rc;
    const char *id = s_one_arg (&s_kill_spec, argc, argv, &rc, "which task? (cairn kill TASK)");
    if (id) {
        char *t = cli_escape (id);
        char *f = s_kill_fw ? cli_escape (s_kill_fw) : NULL;
        char grace[48] = "";
        int64_t ms;
        if (s_kill_grace && duration_parse (s_kill_grace, &ms) < 0) {
            fprintf (stderr, "cairn kill: --grace: %s\n", cairn_strerror_last ());
            flags_free (&s_kill_spec);
            return CLI_USAGE;
        }
        if (s_kill_grace)
            snprintf (grace, sizeof grace, "&grace=%" PRId64 "ms", ms);
        char *path = xasprintf ("/tasks/kill?task_id=%s%s%s%s", t, f ? "&framework_id=" : "",
                                f ? f : "", grace);
        char *done = xasprintf ("task %s is being killed", id);
        rc = s_decide (path, done);
        free (done);
        free (path);
        free (t);
        free (f);
    }
    flags_free (&s_kill_spec);
    return rc;
}

/*  cairn teardown FRAMEWORK  */

static const flags_spec_t s_teardown_spec = {
    "cairn teardown", NULL,
    "Remove a framework: its offers go back and its tasks are killed.", "FRAMEWORK", NULL, 0,
};

int
cli_cmd_teardown (int argc, char **argv)
{
    int rc;
    const char *id = s_one_arg (&s_teardown_spec, argc, argv, &rc,
                                "which framework? (cairn teardown FRAMEWORK)");
    if (id) {
        char *f = cli_escape (id);
        char *path = xasprintf ("/frameworks/teardown?framework_id=%s", f);
        char *done = xasprintf ("framework %s is torn down", id);
        rc = s_decide (path, done);
        free (done);
        free (path);
        free (f);
    }
    flags_free (&s_teardown_spec);
    return rc;
}

/*  cairn agent drain|undrain|gone ID  */

static int64_t s_drain_grace_ms;
static const flag_t s_drain_flags[] = {
    { "grace", FLAG_DURATION, &s_drain_grace_ms, "30s", "DURATION",
      "Time the agent's tasks get between SIGTERM and SIGKILL.", 0, 86400000 },
};
static const flags_spec_t s_drain_spec = {
    "cairn agent drain", NULL,
    "Drain an agent: no more offers from it, and its tasks are killed (after the grace) so "
    "their frameworks run them elsewhere. It stays drained, across master restarts, until "
    "undrained.", "[OPTIONS] AGENT", s_drain_flags, 1,
};
static const flags_spec_t s_undrain_spec = {
    "cairn agent undrain", NULL, "Offer a drained agent's resources again.", "AGENT", NULL, 0,
};
static char *s_gone_reason;
static const flag_t s_gone_flags[] = {
    { "reason", FLAG_STRING, &s_gone_reason, NULL, "TEXT", "Why, for the record.", 0, 0 },
};
static const flags_spec_t s_gone_spec = {
    "cairn agent gone", NULL,
    "Mark an agent gone for good: its tasks are reported gone (or lost) to their frameworks "
    "and it may never rejoin with its id.", "[OPTIONS] AGENT", s_gone_flags, 1,
};

int
cli_cmd_agent (int argc, char **argv)
{
    static const char *const verbs[] = { "drain", "undrain", "gone" };
    if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0) {
        fprintf (argc < 2 ? stderr : stdout,
                 "Usage: cairn agent drain [--grace=DURATION] AGENT\n"
                 "       cairn agent undrain AGENT\n"
                 "       cairn agent gone [--reason=TEXT] AGENT\n");
        return argc < 2 ? CLI_USAGE : 0;
    }
    const flags_spec_t *spec = strcmp (argv[1], "drain") == 0 ? &s_drain_spec
                             : strcmp (argv[1], "undrain") == 0 ? &s_undrain_spec
                             : strcmp (argv[1], "gone") == 0 ? &s_gone_spec : NULL;
    if (!spec) {
        const char *hint = util_closest (argv[1], verbs, 3);
        fprintf (stderr, "cairn agent: unknown command '%s'%s%s%s; try drain, undrain or gone\n",
                 argv[1], hint ? " (did you mean " : "", hint ? hint : "", hint ? "?)" : "");
        return CLI_USAGE;
    }
    int rc;
    const char *id = s_one_arg (spec, argc - 1, argv + 1, &rc, "which agent? (an agent id)");
    if (id) {
        char *a = cli_escape (id);
        char *path = NULL, *done = NULL;
        if (spec == &s_drain_spec) {
            path = xasprintf ("/agents/drain?agent_id=%s&grace=%" PRId64 "ms", a,
                              s_drain_grace_ms);
            done = xasprintf ("agent %s drains: no new tasks, its tasks get %" PRId64
                              " ms to stop", id, s_drain_grace_ms);
        }
        else if (spec == &s_undrain_spec) {
            path = xasprintf ("/agents/undrain?agent_id=%s", a);
            done = xasprintf ("agent %s is offered again", id);
        }
        else {
            char *r = s_gone_reason ? cli_escape (s_gone_reason) : NULL;
            path = xasprintf ("/agents/gone?agent_id=%s%s%s", a, r ? "&reason=" : "",
                              r ? r : "");
            done = xasprintf ("agent %s is gone", id);
            free (r);
        }
        rc = s_decide (path, done);
        free (path);
        free (done);
        free (a);
    }
    flags_free (spec);
    return rc;
}
