/*  service.c - cairn service ...: the client of cairn-service's REST API
    (doc/service.md).

    cairn service [--api=HOST:PORT] COMMAND [ARGS] [OPTIONS]
        deploy FILE|-             create the app, or update it if it exists
        list                      apps and their instances
        show ID                   an app: definition, instances, tasks
        scale ID N
        restart ID                replace every instance, keeping min_healthy
        update ID FILE|-          a new definition (a new version rolls out)
        rollback ID [VERSION]     back to VERSION (default: the last good one)
        delete ID                 kill every instance and forget the app
        versions ID
        deployments [--app=ID] [--active]
        cancel DEPLOYMENT [--rollback]

    The API is --api, else $CAIRN_SERVICE_API, else the address a running
    cairn-service advertises to the master (its framework label
    cairn-service.api, read from the master's /state), else
    127.0.0.1:5060. Commands that start a deployment return at once, or
    with --wait when it has ended (exit 0 only if it succeeded). Options
    may come before or after the arguments. Exit status: 0 done, 1 the
    operation failed (including the API refusing it), 2 usage.        */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cairn.h"
#include "cli.h"
#include "httpc.h"
#include "error.h"
#include "flags.h"
#include "jcheck.h"
#include "transport.h"
#include "util.h"

#define DEFAULT_API     "127.0.0.1:5060"
#define LABEL_API       "cairn-service.api"
#define WAIT_POLL_US    300000

typedef struct {
    const char *api;            /* --api */
    bool wait;
    int64_t wait_ms;
    const char *app;            /* --app (deployments) */
    bool active;                /* --active (deployments) */
    bool rollback;              /* --rollback (cancel) */
    const char *args[4];        /* positional arguments after the command */
    int nargs;
} opts_t;

static char *s_api;             /* resolved "HOST:PORT" */

static const char s_usage[] =
    "Usage: cairn service [--api=HOST:PORT] COMMAND [ARGS] [OPTIONS]\n"
    "Run long-running services through cairn-service.\n"
    "\n"
    "Commands:\n"
    "  deploy FILE|-            create the app in FILE (JSON), or update it if it exists\n"
    "  list                     apps and their instances\n"
    "  show ID                  an app: definition, instances, tasks\n"
    "  scale ID N               run N instances\n"
    "  restart ID               replace every instance, keeping min_healthy\n"
    "  update ID FILE|-         replace the definition: a new version rolls out\n"
    "  rollback ID [VERSION]    back to VERSION (default: the last good version)\n"
    "  delete ID                kill every instance and forget the app\n"
    "  versions ID              the versions kept, newest first\n"
    "  deployments              deployments, newest first [--app=ID] [--active]\n"
    "  cancel DEPLOYMENT        stop a rollout where it stands [--rollback: undo it]\n"
    "\n"
    "Options:\n"
    "  --api=HOST:PORT          cairn-service's REST API (also $CAIRN_SERVICE_API; by\n"
    "                           default the address cairn-service tells the master)\n"
    "  --wait                   wait until the deployment a command starts has ended\n"
    "  --wait-timeout=DURATION  how long --wait waits (default 10m)\n"
    "  --json                   (before 'service') print the API's JSON\n"
    "\n"
    "Exit status: 0 done, 1 the operation failed, 2 usage error.\n";

/*  ------------------------------------------------------------------ */
/*  Output helpers                                                      */
/*  ------------------------------------------------------------------ */

static void
s_print_json (json_t *json)
{
    char *text = json_dumps (json, JSON_INDENT (2) | JSON_SORT_KEYS | JSON_REAL_PRECISION (13));
    puts (text ? text : "null");
    free (text);
}

/*  "2026-11-22 06:17:04" (UTC), or "-".                                   */
static const char *
s_time (json_t *value, char *buf, size_t size)
{
    double t = json_number_value (value);
    if (!(t > 0))
        return "-";
    time_t secs = (time_t) t;
    struct tm tm;
    gmtime_r (&secs, &tm);
    strftime (buf, size, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

static const char *
s_or_dash (const char *s)
{
    return s && *s ? s : "-";
}

/*  "TASK_RUNNING" -> "RUNNING".                                           */
static const char *
s_state (const char *s)
{
    return strncmp (s, "TASK_", 5) == 0 ? s + 5 : s;
}

/*  Prints the API's error answer; returns CLI_FAILED.                     */
static int
s_failed (const char *what, long status, json_t *reply)
{
    const char *error = cli_str (reply, "error");
    const char *field = cli_str (reply, "field");
    if (*error)
        fprintf (stderr, "cairn service: %s: %s%s%s%s\n", what, error, *field ? " (field " : "",
                 field, *field ? ")" : "");
    else
        fprintf (stderr, "cairn service: %s: cairn-service answered %ld\n", what, status);
    return CLI_FAILED;
}

/*  ------------------------------------------------------------------ */
/*  Finding and calling the API                                         */
/*  ------------------------------------------------------------------ */

/*  The API's address: --api, $CAIRN_SERVICE_API, the master's word, or
    the default. Never fails: a wrong address fails at the request.      */
static char *
s_find_api (const char *given)
{
    if (given && *given)
        return xstrdup (given);
    const char *env = getenv ("CAIRN_SERVICE_API");
    if (env && *env)
        return xstrdup (env);
    /*  Ask the master, quietly: it may not be there either.              */
    char *found = NULL;
    int64_t saved = cli.timeout_ms;
    cli.timeout_ms = saved < 2000 ? saved : 2000;
    FILE *saved_err = stderr;
    FILE *devnull = fopen ("/dev/null", "w");
    if (devnull)
        stderr = devnull;
    json_t *state = cli_master_get ("/state");
    stderr = saved_err;
    if (devnull)
        fclose (devnull);
    cli.timeout_ms = saved;
    size_t i;
    json_t *f;
    json_array_foreach (json_object_get (state, "frameworks"), i, f) {
        const char *api = json_string_value (json_object_get (json_object_get (f, "labels"),
                                                              LABEL_API));
        if (api && json_is_true (json_object_get (f, "connected"))
            && !json_is_true (json_object_get (f, "removed"))) {
            found = xstrdup (api);
            break;
        }
    }
    json_decref (state);
    return found ? found : xstrdup (DEFAULT_API);
}

/*  One request; 0 with *status and *reply, -1 after printing why.         */
static int
s_call (const char *method, const char *path, json_t *body, long *status, json_t **reply)
{
    char *url = httpc_url (s_api, path);
    int rc = cli_request (method, url, body, status, reply);
    free (url);
    return rc;
}

/*  A path segment with anything unusual percent-encoded.                  */
static char *
s_escape (const char *s)
{
    size_t n = strlen (s);
    char *out = xmalloc (3 * n + 1), *p = out;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
            || c == '-' || c == '.' || c == '_')
            *p++ = (char) c;
        else
            p += sprintf (p, "%%%02X", c);
    }
    *p = '\0';
    return out;
}

/*  GET a path that must answer 200; NULL after printing why.             */
static json_t *
s_get (const char *path, const char *what)
{
    long status = 0;
    json_t *reply = NULL;
    if (s_call ("GET", path, NULL, &status, &reply) < 0)
        return NULL;
    if (status != 200) {
        s_failed (what, status, reply);
        json_decref (reply);
        return NULL;
    }
    if (!reply)
        fprintf (stderr, "cairn service: %s: the answer is not JSON\n", what);
    return reply;
}

/*  Reads a JSON definition from FILE or "-" (stdin); NULL after printing. */
static json_t *
s_read_definition (const char *file)
{
    FILE *f = strcmp (file, "-") == 0 ? stdin : fopen (file, "r");
    if (!f) {
        fprintf (stderr, "cairn service: cannot read %s: %s\n", file, strerror (errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *text = xmalloc (cap);
    size_t n;
    while ((n = fread (text + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            if (cap >= (1u << 20)) {
                fprintf (stderr, "cairn service: %s is larger than 1 MiB\n", file);
                if (f != stdin)
                    fclose (f);
                free (text);
                return NULL;
            }
            cap *= 2;
            text = xrealloc (text, cap);
        }
    }
    if (f != stdin)
        fclose (f);
    jcheck_error_t err = { 0 };
    json_t *doc = jcheck_load (text, len, &err);
    free (text);
    if (!doc) {
        fprintf (stderr, "cairn service: %s: %s\n", file, err.message);
        jcheck_error_clear (&err);
        return NULL;
    }
    if (!json_is_object (doc)) {
        fprintf (stderr, "cairn service: %s: an app definition is a JSON object\n", file);
        json_decref (doc);
        return NULL;
    }
    return doc;
}

/*  ------------------------------------------------------------------ */
/*  Deployments                                                         */
/*  ------------------------------------------------------------------ */

/*  Waits for a deployment to end, following the deployment that
    superseded it; 0 if it succeeded, CLI_FAILED otherwise.              */
static int
s_wait (const char *deployment_id, int64_t wait_ms)
{
    char *id = xstrdup (deployment_id);
    int64_t deadline = clock_mono_ms () + wait_ms;
    int rc = CLI_FAILED;
    while (true) {
        char *esc = s_escape (id);
        char *path = xasprintf ("/v1/deployments/%s", esc);
        json_t *d = s_get (path, "deployment");
        free (path);
        free (esc);
        if (!d)
            break;
        const char *state = cli_str (d, "state");
        if (strcmp (state, "running") != 0) {
            const char *next = cli_str (d, "followed_by");
            if (strcmp (state, "superseded") == 0 && *next) {
                if (!cli.json)
                    printf ("deployment %s was superseded by %s\n", id, next);
                free (id);
                id = xstrdup (next);
                json_decref (d);
                continue;
            }
            if (cli.json)
                s_print_json (d);
            else
                printf ("deployment %s %s: %s\n", id, state, cli_str (d, "message"));
            rc = strcmp (state, "succeeded") == 0 ? 0 : CLI_FAILED;
            json_decref (d);
            break;
        }
        json_decref (d);
        if (clock_mono_ms () >= deadline) {
            fprintf (stderr, "cairn service: deployment %s still runs after the wait timeout\n",
                     id);
            break;
        }
        usleep (WAIT_POLL_US);
    }
    free (id);
    return rc;
}

/*  Reports the answer to an operation that may start a deployment.       */
static int
s_started (const char *what, long status, json_t *reply, const opts_t *o)
{
    if (status < 200 || status > 299)
        return s_failed (what, status, reply);
    const char *deployment = json_string_value (json_object_get (reply, "deployment_id"));
    if (cli.json && !(o->wait && deployment))
        s_print_json (reply);
    else if (!cli.json) {
        const char *id = cli_str (reply, "id");
        json_t *version = json_object_get (reply, "version");
        if (deployment)
            printf ("app %s: %s", id, what);
        else
            printf ("app %s: unchanged", id);
        if (version)
            printf (", version %" JSON_INTEGER_FORMAT, json_integer_value (version));
        if (deployment)
            printf (", deployment %s", deployment);
        printf ("\n");
    }
    if (o->wait && deployment)
        return s_wait (deployment, o->wait_ms);
    return 0;
}

/*  ------------------------------------------------------------------ */
/*  Commands                                                            */
/*  ------------------------------------------------------------------ */

static int
s_deploy (const opts_t *o)
{
    json_t *doc = s_read_definition (o->args[0]);
    if (!doc)
        return CLI_FAILED;
    long status = 0;
    json_t *reply = NULL;
    int rc = CLI_FAILED;
    if (s_call ("POST", "/v1/apps", doc, &status, &reply) < 0)
        goto done;
    const char *what = "created";
    if (status == 409 && strcmp (cli_str (reply, "field"), "id") == 0
        && json_is_string (json_object_get (doc, "id"))) {
        /*  It exists: deploying it again is an update.                    */
        json_decref (reply);
        reply = NULL;
        char *esc = s_escape (json_string_value (json_object_get (doc, "id")));
        char *path = xasprintf ("/v1/apps/%s", esc);
        int failed = s_call ("PUT", path, doc, &status, &reply);
        free (path);
        free (esc);
        if (failed < 0)
            goto done;
        what = "updated";
    }
    rc = s_started (what, status, reply, o);
done:
    json_decref (reply);
    json_decref (doc);
    return rc;
}

static int
s_list (const opts_t *o)
{
    json_t *reply = s_get ("/v1/apps", "list");
    if (!reply)
        return CLI_FAILED;
    json_t *apps = json_object_get (reply, "apps");
    if (cli.json)
        s_print_json (apps);
    else {
        printf ("%-24s %7s %6s %5s %7s %9s  %-20s %s\n", "ID", "VERSION", "WANTED", "LIVE",
                "HEALTHY", "UNREACH", "DEPLOYMENT", "LAST FAILURE");
        size_t i;
        json_t *a;
        json_array_foreach (apps, i, a) {
            json_t *n = json_object_get (a, "instances");
            json_t *failure = json_object_get (a, "last_failure");
            char fail[160] = "-";
            if (json_is_object (failure))
                snprintf (fail, sizeof fail, "%s %s", s_state (cli_str (failure, "state")),
                          cli_str (failure, "message"));
            printf ("%-24s %7.0f %6.0f %5.0f %7.0f %9.0f  %-20s %s%s\n", cli_str (a, "id"),
                    cli_num (a, "version"), cli_num (n, "wanted"), cli_num (n, "live"),
                    cli_num (n, "healthy"), cli_num (n, "unreachable"),
                    s_or_dash (cli_str (a, "deployment")), fail,
                    json_is_true (json_object_get (a, "deleting")) ? " (deleting)" : "");
        }
    }
    json_decref (reply);
    return 0;
}

static char *
s_app_path (const char *id, const char *tail)
{
    char *esc = s_escape (id);
    char *path = xasprintf ("/v1/apps/%s%s", esc, tail ? tail : "");
    free (esc);
    return path;
}

static int
s_show (const opts_t *o)
{
    char *path = s_app_path (o->args[0], NULL);
    json_t *a = s_get (path, o->args[0]);
    free (path);
    if (!a)
        return CLI_FAILED;
    if (cli.json) {
        s_print_json (a);
        json_decref (a);
        return 0;
    }
    char buf[64];
    json_t *def = json_object_get (a, "definition");
    json_t *n = json_object_get (a, "instances");
    json_t *good = json_object_get (a, "last_good_version");
    printf ("app %s, version %.0f", cli_str (a, "id"), cli_num (a, "version"));
    if (json_is_integer (good))
        printf (" (last good: %" JSON_INTEGER_FORMAT ")", json_integer_value (good));
    printf ("%s\n", json_is_true (json_object_get (a, "deleting")) ? ", being deleted" : "");
    if (json_is_string (json_object_get (def, "cmd")))
        printf ("  cmd:         %s\n", cli_str (def, "cmd"));
    else if (json_is_array (json_object_get (def, "args"))) {
        char *args = json_dumps (json_object_get (def, "args"), JSON_COMPACT);
        printf ("  args:        %s\n", args ? args : "");
        free (args);
    }
    printf ("  resources:   cpus %g, mem %.0f MiB, disk %.0f MiB, %.0f ports\n",
            cli_num (def, "cpus"), cli_num (def, "mem"), cli_num (def, "disk"),
            cli_num (def, "ports"));
    printf ("  instances:   %.0f wanted, %.0f live, %.0f running, %.0f healthy, %.0f staging, "
            "%.0f unreachable\n", cli_num (n, "wanted"), cli_num (n, "live"),
            cli_num (n, "running"), cli_num (n, "healthy"), cli_num (n, "staging"),
            cli_num (n, "unreachable"));
    json_t *hc = json_object_get (def, "health_check");
    if (json_is_object (hc))
        printf ("  health:      %s %s every %gs (port index %.0f)\n", cli_str (hc, "type"),
                *cli_str (hc, "path") ? cli_str (hc, "path") : cli_str (hc, "command"),
                cli_num (hc, "interval_s"), cli_num (hc, "port_index"));
    json_t *cons = json_object_get (def, "constraints");
    if (json_array_size (cons) > 0) {
        char *text = json_dumps (cons, JSON_COMPACT);
        printf ("  constraints: %s\n", text ? text : "");
        free (text);
    }
    json_t *d = json_object_get (a, "deployment");
    if (json_is_object (d)) {
        json_t *p = json_object_get (d, "progress");
        printf ("  deployment:  %s (%s, version %.0f -> %.0f): %.0f of %.0f new healthy, %.0f old "
                "left\n", cli_str (d, "id"), cli_str (d, "kind"), cli_num (d, "from_version"),
                cli_num (d, "to_version"), cli_num (p, "new_healthy"), cli_num (p, "wanted"),
                cli_num (p, "old"));
    }
    json_t *b = json_object_get (a, "backoff");
    if (json_is_object (b))
        printf ("  backoff:     next launch in %.1f s (delay %.1f s)\n",
                cli_num (b, "next_launch_in_s"), cli_num (b, "delay_s"));
    json_t *f = json_object_get (a, "last_failure");
    if (json_is_object (f))
        printf ("  last failure: %s %s on %s at %s: %s\n", cli_str (f, "task_id"),
                s_state (cli_str (f, "state")), cli_str (f, "host"),
                s_time (json_object_get (f, "at"), buf, sizeof buf), cli_str (f, "message"));
    printf ("\n%-32s %7s %-16s %-12s %-10s %-7s %-19s %s\n", "TASK", "VERSION", "HOST", "PORTS",
            "STATE", "HEALTHY", "STARTED (UTC)", "MESSAGE");
    size_t i;
    json_t *t;
    json_array_foreach (json_object_get (a, "tasks"), i, t) {
        char ports[64] = "";
        size_t k, len = 0;
        json_t *p;
        json_array_foreach (json_object_get (t, "ports"), k, p)
            len += (size_t) snprintf (ports + len, len < sizeof ports ? sizeof ports - len : 0,
                                      "%s%" JSON_INTEGER_FORMAT, k ? "," : "",
                                      json_integer_value (p));
        json_t *h = json_object_get (t, "healthy");
        const char *healthy = json_is_true (h) ? "yes" : json_is_false (h) ? "no" : "-";
        const char *state = s_state (cli_str (t, "state"));
        if (json_is_true (json_object_get (t, "killing")))
            state = "KILLING";
        printf ("%-32s %7.0f %-16s %-12s %-10s %-7s %-19s %s\n", cli_str (t, "id"),
                cli_num (t, "version"), cli_str (t, "host"), *ports ? ports : "-", state,
                healthy, s_time (json_object_get (t, "started_at"), buf, sizeof buf),
                cli_str (t, "message"));
    }
    json_decref (a);
    return 0;
}

/*  PATCH/PUT/POST on an app, then report.                                */
static int
s_change (const char *method, const char *id, const char *tail, json_t *body, const char *what,
          const opts_t *o)
{
    char *path = s_app_path (id, tail);
    long status = 0;
    json_t *reply = NULL;
    int rc = CLI_FAILED;
    if (s_call (method, path, body, &status, &reply) == 0)
        rc = s_started (what, status, reply, o);
    json_decref (reply);
    free (path);
    return rc;
}

static int
s_scale (const opts_t *o)
{
    char *end = NULL;
    long long n = strtoll (o->args[1], &end, 10);
    if (!*o->args[1] || *end || n < 0) {
        fprintf (stderr, "cairn service scale: '%s' is not a number of instances\n", o->args[1]);
        return CLI_USAGE;
    }
    json_t *body = json_pack ("{s:I}", "instances", (json_int_t) n);
    int rc = s_change ("PATCH", o->args[0], NULL, body, "scaling", o);
    json_decref (body);
    return rc;
}

static int
s_restart (const opts_t *o)
{
    return s_change ("POST", o->args[0], "/restart", NULL, "restarting", o);
}

static int
s_update (const opts_t *o)
{
    json_t *doc = s_read_definition (o->args[1]);
    if (!doc)
        return CLI_FAILED;
    int rc = s_change ("PUT", o->args[0], NULL, doc, "updating", o);
    json_decref (doc);
    return rc;
}

static int
s_rollback (const opts_t *o)
{
    json_t *body = NULL;
    if (o->nargs > 1) {
        char *end = NULL;
        long long v = strtoll (o->args[1], &end, 10);
        if (!*o->args[1] || *end || v < 1) {
            fprintf (stderr, "cairn service rollback: '%s' is not a version number\n",
                     o->args[1]);
            return CLI_USAGE;
        }
        body = json_pack ("{s:I}", "version", (json_int_t) v);
    }
    int rc = s_change ("POST", o->args[0], "/rollback", body, "rolling back", o);
    json_decref (body);
    return rc;
}

static int
s_delete (const opts_t *o)
{
    return s_change ("DELETE", o->args[0], NULL, NULL, "deleting", o);
}

static int
s_versions (const opts_t *o)
{
    char *path = s_app_path (o->args[0], "/versions");
    json_t *reply = s_get (path, o->args[0]);
    free (path);
    if (!reply)
        return CLI_FAILED;
    if (cli.json)
        s_print_json (reply);
    else {
        printf ("%7s  %-19s  %-7s %-4s %-6s  %s\n", "VERSION", "CREATED (UTC)", "CURRENT", "GOOD",
                "FAILED", "COMMAND");
        size_t i;
        json_t *v;
        char buf[64];
        json_array_foreach (json_object_get (reply, "versions"), i, v) {
            json_t *def = json_object_get (v, "definition");
            char *cmd = json_is_string (json_object_get (def, "cmd"))
                        ? xstrdup (cli_str (def, "cmd"))
                        : json_dumps (json_object_get (def, "args"), JSON_COMPACT);
            printf ("%7.0f  %-19s  %-7s %-4s %-6s  %.60s\n", cli_num (v, "version"),
                    s_time (json_object_get (v, "created_at"), buf, sizeof buf),
                    json_is_true (json_object_get (v, "current")) ? "*" : "",
                    json_is_true (json_object_get (v, "good")) ? "yes" : "",
                    json_is_true (json_object_get (v, "failed")) ? "yes" : "", cmd ? cmd : "");
            free (cmd);
        }
    }
    json_decref (reply);
    return 0;
}

static int
s_deployments (const opts_t *o)
{
    char *path;
    if (o->app) {
        char *esc = s_escape (o->app);
        path = xasprintf ("/v1/deployments?app=%s%s", esc, o->active ? "&active=true" : "");
        free (esc);
    }
    else
        path = xstrdup (o->active ? "/v1/deployments?active=true" : "/v1/deployments");
    json_t *reply = s_get (path, "deployments");
    free (path);
    if (!reply)
        return CLI_FAILED;
    json_t *list = json_object_get (reply, "deployments");
    if (cli.json)
        s_print_json (list);
    else {
        printf ("%-20s %-20s %-9s %-12s %-9s %-19s %s\n", "ID", "APP", "KIND", "STATE", "VERSION",
                "CREATED (UTC)", "MESSAGE");
        size_t i;
        json_t *d;
        char buf[64];
        json_array_foreach (list, i, d) {
            char versions[48];
            snprintf (versions, sizeof versions, "%.0f->%.0f", cli_num (d, "from_version"),
                      cli_num (d, "to_version"));
            printf ("%-20s %-20s %-9s %-12s %-9s %-19s %s\n", cli_str (d, "id"),
                    cli_str (d, "app_id"), cli_str (d, "kind"), cli_str (d, "state"), versions,
                    s_time (json_object_get (d, "created_at"), buf, sizeof buf),
                    cli_str (d, "message"));
        }
    }
    json_decref (reply);
    return 0;
}

static int
s_cancel (const opts_t *o)
{
    char *esc = s_escape (o->args[0]);
    char *path = xasprintf ("/v1/deployments/%s%s", esc, o->rollback ? "?rollback=true" : "");
    free (esc);
    long status = 0;
    json_t *reply = NULL;
    int rc = CLI_FAILED;
    if (s_call ("DELETE", path, NULL, &status, &reply) == 0) {
        if (status != 200)
            rc = s_failed ("cancel", status, reply);
        else {
            rc = 0;
            const char *next = json_string_value (json_object_get (reply,
                                                                   "rollback_deployment_id"));
            if (cli.json)
                s_print_json (reply);
            else
                printf ("deployment %s %s: %s%s%s\n", cli_str (reply, "id"),
                        cli_str (reply, "state"), cli_str (reply, "message"),
                        next ? "; rolling back in deployment " : "", next ? next : "");
            if (o->wait && next)
                rc = s_wait (next, o->wait_ms);
        }
    }
    json_decref (reply);
    free (path);
    return rc;
}

typedef struct {
    const char *name;
    int min_args, max_args;
    const char *args;           /* for the usage message */
    int (*run) (const opts_t *o);
} command_t;

static const command_t s_commands[] = {
    { "deploy", 1, 1, "FILE|-", s_deploy },
    { "list", 0, 0, "", s_list },
    { "show", 1, 1, "ID", s_show },
    { "scale", 2, 2, "ID N", s_scale },
    { "restart", 1, 1, "ID", s_restart },
    { "update", 2, 2, "ID FILE|-", s_update },
    { "rollback", 1, 2, "ID [VERSION]", s_rollback },
    { "delete", 1, 1, "ID", s_delete },
    { "versions", 1, 1, "ID", s_versions },
    { "deployments", 0, 0, "[--app=ID] [--active]", s_deployments },
    { "cancel", 1, 1, "DEPLOYMENT [--rollback]", s_cancel },
};
#define NCOMMANDS (sizeof s_commands / sizeof s_commands[0])

/*  "--name=value" or "--name value": the value, advancing *i; NULL if the
    argument is not that option.                                          */
static const char *
s_option (int argc, char **argv, int *i, const char *name, bool *missing)
{
    size_t n = strlen (name);
    const char *a = argv[*i];
    if (strncmp (a, "--", 2) != 0 || strncmp (a + 2, name, n) != 0)
        return NULL;
    if (a[2 + n] == '=')
        return a + 3 + n;
    if (a[2 + n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = true;
        return NULL;
    }
    return argv[++*i];
}

int
cli_cmd_service (int argc, char **argv)
{
    opts_t o = { .wait_ms = 600000 };
    const char *command = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        bool missing = false;
        if (strcmp (a, "--help") == 0 || strcmp (a, "-h") == 0) {
            fputs (s_usage, stdout);
            return 0;
        }
        else if ((v = s_option (argc, argv, &i, "api", &missing)))
            o.api = v;
        else if ((v = s_option (argc, argv, &i, "app", &missing)))
            o.app = v;
        else if ((v = s_option (argc, argv, &i, "wait-timeout", &missing))) {
            if (duration_parse (v, &o.wait_ms) < 0) {
                fprintf (stderr, "cairn service: --wait-timeout: %s\n", cairn_strerror_last ());
                return CLI_USAGE;
            }
            o.wait = true;
        }
        else if (strcmp (a, "--wait") == 0)
            o.wait = true;
        else if (strcmp (a, "--active") == 0)
            o.active = true;
        else if (strcmp (a, "--rollback") == 0)
            o.rollback = true;
        else if (missing) {
            fprintf (stderr, "cairn service: %s needs a value\n", a);
            return CLI_USAGE;
        }
        else if (strncmp (a, "--", 2) == 0 && strcmp (a, "--") != 0) {
            fprintf (stderr, "cairn service: unknown option '%s'; see cairn service --help\n", a);
            return CLI_USAGE;
        }
        else if (strcmp (a, "-") != 0 && a[0] == '-' && a[1] != '\0') {
            fprintf (stderr, "cairn service: unknown option '%s'; see cairn service --help\n", a);
            return CLI_USAGE;
        }
        else if (!command)
            command = a;
        else if (o.nargs < 4)
            o.args[o.nargs++] = a;
        else {
            fprintf (stderr, "cairn service: too many arguments\n");
            return CLI_USAGE;
        }
    }
    if (!command) {
        fprintf (stderr, "cairn service: a command is required; see cairn service --help\n");
        return CLI_USAGE;
    }
    const command_t *cmd = NULL;
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp (s_commands[i].name, command) == 0)
            cmd = &s_commands[i];
    if (!cmd) {
        const char *names[NCOMMANDS];
        for (size_t i = 0; i < NCOMMANDS; i++)
            names[i] = s_commands[i].name;
        const char *hint = util_closest (command, names, NCOMMANDS);
        fprintf (stderr, "cairn service: unknown command '%s'%s%s%s; see cairn service --help\n",
                 command, hint ? " (did you mean " : "", hint ? hint : "", hint ? "?)" : "");
        return CLI_USAGE;
    }
    if (o.nargs < cmd->min_args || o.nargs > cmd->max_args) {
        fprintf (stderr, "usage: cairn service %s %s\n", cmd->name, cmd->args);
        return CLI_USAGE;
    }
    s_api = s_find_api (o.api);
    int rc = cmd->run (&o);
    free (s_api);
    s_api = NULL;
    return rc;
}
