/*  status.c - cairn status: the cluster at a glance, the command an
    operator runs first.

    It finds one master that answers (the leader through zk://, or the
    master at HOST:PORT; a standby there refuses the ZeroMQ question but
    names the leader, whose /health lists every candidate's HTTP address,
    so the standby's own /health is read all the same), then asks each
    candidate's own /health for its role with a short timeout (one that
    does not answer is "unreachable"), and the leader's /state/summary
    for the counts. Exit status: 0 when a leader answers and acts (role
    leader and connected to ZooKeeper, or a single master), 1 when a
    master answers but none leads, or the leader is paused or cut off
    from ZooKeeper, 2 on a usage error or when no master answers.         */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "error.h"
#include "httpc.h"
#include "transport.h"
#include "util.h"
#include "zk.h"

#define s_str cli_str
#define s_num cli_num

/*  How long to wait for each candidate's /health: short, so that one dead
    master does not hold up the report.                                   */
#define PROBE_MS 2000

/*  GETs http's path as JSON within timeout_ms: the answer of a 2xx, else
    NULL with *why (caller frees) saying what went wrong.                 */
static json_t *
s_get (const char *http, const char *path, long timeout_ms, char **why)
{
    char *url = httpc_url (http, path);
    long status = 0;
    json_t *reply = NULL;
    *why = NULL;
    if (httpc_json ("GET", url, NULL, timeout_ms, &status, &reply) < 0)
        *why = xstrdup (cairn_strerror_last ());
    else if (status < 200 || status > 299 || !json_is_object (reply)) {
        const char *error = s_str (reply, "error");
        *why = xasprintf ("GET %s answered %ld%s%s", url, status, *error ? ": " : "", error);
        json_decref (reply);
        reply = NULL;
    }
    free (url);
    return reply;
}

/*  A ZeroMQ address without its "tcp://", to compare two spellings.      */
static const char *
s_bare (const char *address)
{
    return strncmp (address, "tcp://", 6) == 0 ? address + 6 : address;
}

/*  A standby's "not-leader" error ends "the leading master is ADDRESS"
    (master/main.c); the address, or NULL when none leads yet.            */
static char *
s_leader_in (const char *message)
{
    const char *marker = "the leading master is ";
    const char *p = strstr (message, marker);
    if (!p)
        return NULL;
    p += strlen (marker);
    size_t n = strcspn (p, " ");
    if (n == 0 || p[n] != '\0' || !memchr (p, ':', n))
        return NULL;            /* "not elected yet" */
    return xstrdup (p);
}

/*  The HTTP address of the master the user named (--master), asked over
    its endpoint or in ZooKeeper; NULL after printing why. A standby
    sends us to the leader, whose list of masters has the standby's HTTP
    address. *exit_code is set to the status to exit with on NULL.       */
static char *
s_entry_http (int *exit_code)
{
    *exit_code = CLI_USAGE;
    if (zk_url_is (cli.master)) {
        char *http = zk_find_leader (cli.master, "http", (int) cli.timeout_ms);
        if (!http)
            fprintf (stderr, "cairn status: --master: %s\n", cairn_strerror_last ());
        return http;
    }
    char *http = NULL, *code = NULL, *message = NULL;
    int rc = cli_master_info (cli.master, &http, &code, &message);
    if (rc <= 0) {
        free (code);
        free (message);
        return http;
    }
    /*  It answers, but not with its HTTP address.                        */
    *exit_code = CLI_FAILED;
    char *leader = strcmp (code, "not-leader") == 0 ? s_leader_in (message) : NULL;
    char *leader_http = NULL;
    if (leader && cli_master_info (leader, &leader_http, NULL, NULL) == 0) {
        char *why = NULL;
        json_t *health = s_get (leader_http, "/health", (long) cli.timeout_ms, &why);
        json_t *masters = json_object_get (json_object_get (health, "ha"), "masters");
        size_t i;
        json_t *m;
        json_array_foreach (masters, i, m)
            if (strcmp (s_bare (s_str (m, "address")), s_bare (cli.master)) == 0
                && *s_str (m, "http"))
                http = xstrdup (s_str (m, "http"));
        if (!http)      /* not listed (yet): the leader's view will do */
            http = leader_http, leader_http = NULL;
        json_decref (health);
        free (why);
    }
    if (!http)
        fprintf (stderr, "cairn status: the master at %s says: %s%s\n", cli.master, message,
                 leader ? " (and the leader does not answer)" : "");
    free (leader_http);
    free (leader);
    free (code);
    free (message);
    return http;
}

/*  "3m 12s" for a number of seconds.                                      */
static void
s_duration (double seconds, char *buf, size_t size)
{
    long s = seconds > 0 ? (long) (seconds + 0.5) : 0;
    if (s < 60)
        snprintf (buf, size, "%lds", s);
    else if (s < 3600)
        snprintf (buf, size, "%ldm %lds", s / 60, s % 60);
    else if (s < 86400)
        snprintf (buf, size, "%ldh %ldm", s / 3600, s % 3600 / 60);
    else
        snprintf (buf, size, "%ldd %ldh", s / 86400, s % 86400 / 3600);
}

/*  "ID on HOSTNAME at ADDRESS" for a master's description.               */
static void
s_print_master_line (const char *label, json_t *m)
{
    printf ("%-11s %s", label, s_str (m, "id"));
    if (*s_str (m, "hostname"))
        printf (" on %s", s_str (m, "hostname"));
    if (*s_str (m, "address"))
        printf (" at %s", s_str (m, "address"));
}

static void
s_print_counts (json_t *summary)
{
    if (!summary) {
        printf ("%-11s %s\n", "COUNTS", "unknown: the leader's /state/summary did not answer");
        return;
    }
    json_t *agents = json_object_get (summary, "agents");
    printf ("%-11s %.0f active, %.0f unreachable, %.0f draining\n", "AGENTS",
            s_num (agents, "active"), s_num (agents, "unreachable"), s_num (agents, "draining"));
    size_t i, connected = 0;
    json_t *f, *fws = json_object_get (summary, "frameworks");
    json_array_foreach (fws, i, f)
        connected += json_is_true (json_object_get (f, "connected"));
    printf ("%-11s %zu: %zu connected, %zu disconnected\n", "FRAMEWORKS", json_array_size (fws),
            connected, json_array_size (fws) - connected);
    printf ("%-11s", "TASKS");
    const char *state;
    json_t *n;
    bool any = false;
    json_object_foreach (json_object_get (summary, "tasks"), state, n) {
        char name[64];
        snprintf (name, sizeof name, "%s", strncmp (state, "TASK_", 5) ? state : state + 5);
        for (char *c = name; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char) (*c - 'A' + 'a');
        printf ("%s %.0f %s", any ? "," : "", json_number_value (n), name);
        any = true;
    }
    printf ("%s\n", any ? "" : " none");
}

/*  The human report of the combined view (see cli_cmd_status).           */
static void
s_print (json_t *view, const char *http)
{
    json_t *master = json_object_get (view, "master");
    json_t *ha = json_object_get (view, "ha");
    json_t *summary = json_object_get (view, "summary");
    char up[32];
    s_duration (s_num (master, "uptime_s"), up, sizeof up);
    printf ("%-11s %s (%s), version %s, up %s\n", "MASTER", s_str (master, "master_id"),
            ha ? s_str (ha, "role") : "single",
            *s_str (master, "version") ? s_str (master, "version") : "unknown", up);
    printf ("%-11s %s, HTTP %s\n", "ADDRESS", *s_str (master, "address") ? s_str (master, "address") : "-",
            http);
    if (!ha) {
        printf ("%-11s %s\n", "HA", "none: a single master (not run with --zk)");
        s_print_counts (summary);
        return;
    }
    json_t *leader = json_object_get (ha, "leader");
    double now = clock_wall ();
    char buf[32];
    if (json_is_object (leader)) {
        s_print_master_line ("LEADER", leader);
        if (json_is_number (json_object_get (ha, "elected_at"))) {
            s_duration (now - s_num (ha, "elected_at"), buf, sizeof buf);
            printf (", elected %s ago", buf);
        }
        printf ("\n");
    }
    else
        printf ("%-11s %s\n", "LEADER", "none: no master is elected");
    printf ("%-11s %s", "ZOOKEEPER",
            json_is_true (json_object_get (ha, "zk_connected")) ? "connected" : "disconnected");
    if (json_is_number (json_object_get (ha, "zk_disconnected_ms"))) {
        s_duration (s_num (ha, "zk_disconnected_ms") / 1000.0, buf, sizeof buf);
        printf (" for %s", buf);
    }
    printf (" (session timeout %.1fs", s_num (ha, "session_timeout_ms") / 1000.0);
    if (json_is_number (json_object_get (ha, "lease_ms_left")))
        printf (", lease %.1fs left", s_num (ha, "lease_ms_left") / 1000.0);
    printf (", %.0f leader change%s)\n", s_num (ha, "leader_changes"),
            s_num (ha, "leader_changes") == 1 ? "" : "s");
    json_t *fo = json_object_get (ha, "last_failover");
    if (json_is_object (fo)) {
        s_duration (now - s_num (fo, "at"), buf, sizeof buf);
        printf ("%-11s %s -> %s, %s ago\n", "FAILOVER", s_str (fo, "from"), s_str (fo, "to"),
                buf);
    }
    else
        printf ("%-11s %s\n", "FAILOVER", "none seen");
    s_print_counts (summary);
    printf ("\n%-22s %-20s %-12s %-21s %s\n", "ID", "HOSTNAME", "ROLE", "ADDRESS", "HTTP");
    size_t i;
    json_t *m;
    json_array_foreach (json_object_get (ha, "masters"), i, m)
        printf ("%-22s %-20s %-12s %-21s %s\n", s_str (m, "id"), s_str (m, "hostname"),
                s_str (m, "role"), s_str (m, "address"), s_str (m, "http"));
}

int
cli_cmd_status (int argc, char **argv)
{
    if (argc > 1) {
        if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0) {
            printf ("Usage: cairn status\n\nThe cluster at a glance: the master, with --zk the "
                    "leader, each master's role\n(from its own /health), ZooKeeper, the last "
                    "failover and the lease,\nand the agents, frameworks and tasks by state. "
                    "Exit status 0 when a leader\nanswers and acts, 1 when none does, 2 when no "
                    "master answers.\n");
            return 0;
        }
        fprintf (stderr, "cairn status: unexpected argument '%s'\n", argv[1]);
        return CLI_USAGE;
    }
    int exit_code;
    char *entry = s_entry_http (&exit_code);
    if (!entry)
        return exit_code;
    char *why = NULL;
    json_t *health = s_get (entry, "/health", (long) cli.timeout_ms, &why);
    if (!health) {
        fprintf (stderr, "cairn status: the master at %s does not answer: %s\n", entry, why);
        free (why);
        free (entry);
        return CLI_USAGE;
    }
    json_t *view = json_object ();
    json_t *ha = json_object_get (health, "ha");
    const char *master_http = entry;
    json_t *master = health;    /* the health of the master reported on */
    json_t *leader_health = NULL;
    char *leader_http = NULL;
    if (!json_is_object (ha))
        exit_code = 0;          /* a single master acts when it answers */
    else {
        /*  Every candidate's role, from its own /health.                 */
        json_t *masters = json_array ();
        const char *leader_id = s_str (json_object_get (ha, "leader"), "id");
        size_t i;
        json_t *m;
        json_array_foreach (json_object_get (ha, "masters"), i, m) {
            json_t *entry_m = json_deep_copy (m);
            const char *http = s_str (m, "http");
            json_t *mh = NULL;
            if (*http) {
                char *w = NULL;
                mh = s_get (http, "/health", cli.timeout_ms < PROBE_MS ? (long) cli.timeout_ms
                                                                       : PROBE_MS, &w);
                free (w);
            }
            json_t *mha = json_object_get (mh, "ha");
            json_object_set_new (entry_m, "role",
                                 json_string (mh && *s_str (mha, "role") ? s_str (mha, "role")
                                                                          : "unreachable"));
            if (mh)
                json_object_set (entry_m, "zk_connected", json_object_get (mha, "zk_connected"));
            if (mh && *leader_id && strcmp (s_str (m, "id"), leader_id) == 0 && !leader_health) {
                leader_health = json_incref (mh);
                leader_http = xstrdup (http);
            }
            json_decref (mh);
            json_array_append_new (masters, entry_m);
        }
        /*  The leader's own view of the election, else the entry's.      */
        json_t *view_ha = json_deep_copy (leader_health ? json_object_get (leader_health, "ha")
                                                        : ha);
        json_object_set_new (view_ha, "masters", masters);
        json_object_set_new (view, "ha", view_ha);
        if (leader_health) {
            master = leader_health;
            master_http = leader_http;
        }
        json_t *lha = json_object_get (leader_health, "ha");
        exit_code = leader_health && strcmp (s_str (lha, "role"), "leader") == 0
                    && json_is_true (json_object_get (lha, "zk_connected")) ? 0 : CLI_FAILED;
    }
    /*  The counts, from the master reported on (a standby would redirect). */
    json_t *summary = NULL;
    if (!json_is_object (ha) || leader_health) {
        summary = s_get (master_http, "/state/summary", (long) cli.timeout_ms, &why);
        if (!summary)
            fprintf (stderr, "cairn status: %s\n", why);
        free (why);
        why = NULL;
    }
    json_t *about = json_deep_copy (master);
    json_object_del (about, "ha");
    json_object_set_new (about, "http", json_string (master_http));
    json_object_set_new (about, "role",
                         json_string (json_is_object (ha) ? s_str (json_object_get (master, "ha"),
                                                                   "role")
                                                          : "single"));
    if (summary) {
        json_object_set (about, "version", json_object_get (summary, "version"));
        json_object_set (about, "cluster_name", json_object_get (summary, "cluster_name"));
        json_object_set (about, "uptime_s", json_object_get (summary, "uptime_s"));
    }
    json_t *vha = json_object_get (view, "ha");
    json_t *self = NULL;
    size_t i;
    json_t *m;
    json_array_foreach (json_object_get (vha, "masters"), i, m)
        if (strcmp (s_str (m, "id"), s_str (about, "master_id")) == 0)
            self = m;
    if (self) {
        json_object_set (about, "address", json_object_get (self, "address"));
        json_object_set (about, "hostname", json_object_get (self, "hostname"));
        if (!summary)
            json_object_set (about, "version", json_object_get (self, "version"));
    }
    else if (!zk_url_is (cli.master))
        json_object_set_new (about, "address", json_string (cli.master));
    json_object_set_new (view, "master", about);
    json_object_set_new (view, "summary", summary ? summary : json_null ());
    json_object_set_new (view, "leading", json_boolean (exit_code == 0));
    if (cli.json)
        cli_print_json (view);
    else {
        s_print (view, master_http);
        if (exit_code != 0)
            printf ("\nno master leads and acts now\n");
    }
    json_decref (view);
    json_decref (health);
    json_decref (leader_health);
    free (leader_http);
    free (entry);
    return exit_code;
}
