/*  launch-loop.c - the baseline for the end-to-end benchmarks: the work an
    agent does for each task, in a tight loop, without the agent, master
    or messaging. For each of N tasks: make its sandbox and run
    directory, prepare its container with the agent's own isolator
    (cgroups as root), start cairn-shim the way the agent does (a fork of
    the shim launcher, launcher.h) to run /bin/true inside it, wait for
    the shim, then kill what is left and remove the container. WIDTH
    tasks are kept in flight at once (default 1).

    Usage: launch-loop SHIM WORKDIR N [WIDTH]
    Prints the tasks per second and the isolation it used.               */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "isolator.h"
#include "launcher.h"
#include "log.h"
#include "resources.h"
#include "util.h"

#define MAX_WIDTH 64

extern char **environ;

typedef struct {
    char id[13];
    int pidfd;                  /* -1: slot free */
} slot_t;

/*  Starts task i in slot s; -1 after printing why.                       */
static int
s_start (isolator_t *iso, launcher_t *launcher, const cairn_resources_t *res, const char *shim,
         const char *work, int i, slot_t *s)
{
    char sandbox[4096], run[4096];
    snprintf (s->id, sizeof s->id, "%012x", i);
    snprintf (sandbox, sizeof sandbox, "%s/sandboxes/%s", work, s->id);
    snprintf (run, sizeof run, "%s/run/%s", work, s->id);
    char **join = NULL;
    if (util_mkdir_p (sandbox, 0755) < 0 || util_mkdir_p (run, 0700) < 0
        || isolator_prepare (iso, s->id, res, NULL, &join) < 0) {
        fprintf (stderr, "launch-loop: %s\n", cairn_strerror_last ());
        return -1;
    }
    char *args[32];
    size_t k = 0;
    args[k++] = (char *) shim;
    char sb[4200], rd[4200], log[4200];
    snprintf (sb, sizeof sb, "--sandbox=%s", sandbox);
    snprintf (rd, sizeof rd, "--run-dir=%s", run);
    snprintf (log, sizeof log, "%s/shim.log", run);
    args[k++] = sb;
    args[k++] = rd;
    for (size_t j = 0; join && join[j] && k < 28; j++)
        args[k++] = join[j];
    args[k++] = "--";
    args[k++] = "/bin/true";
    args[k] = NULL;
    int out = open ("/dev/null", O_WRONLY | O_CLOEXEC);
    int err = open (log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    pid_t pid = launcher_spawn (launcher, args, environ, out, err, &s->pidfd);
    close (out);
    close (err);
    isolator_strv_free (&join);
    if (pid < 0) {
        fprintf (stderr, "launch-loop: %s\n", cairn_strerror_last ());
        return -1;
    }
    return 0;
}

static void
s_finish (isolator_t *iso, slot_t *s)
{
    close (s->pidfd);
    s->pidfd = -1;
    isolator_kill_all (iso, s->id, 0);
    isolator_cleanup (iso, s->id);
}

int
main (int argc, char **argv)
{
    if (argc != 4 && argc != 5)
        return 2;
    const char *shim = argv[1], *work = argv[2];
    int n = atoi (argv[3]);
    int width = argc == 5 ? atoi (argv[4]) : 1;
    if (n < 1 || width < 1 || width > MAX_WIDTH)
        return 2;
    log_init ("bench", "error", "stderr");
    char root[64];
    snprintf (root, sizeof root, "cairn-bench-%d", (int) getpid ());
    isolator_config_t config = { .kind = "auto", .cgroup_root = root };
    isolator_t *iso = isolator_new (&config);
    if (!iso || isolator_set_agent_id (iso, "a-bench") < 0) {
        fprintf (stderr, "launch-loop: %s\n", cairn_strerror_last ());
        return 1;
    }
    launcher_t *launcher = launcher_new (shim);
    if (!launcher) {
        fprintf (stderr, "launch-loop: %s\n", cairn_strerror_last ());
        return 1;
    }
    cairn_resources_t *res = cairn_resources_parse ("cpus:0.01;mem:4");
    slot_t slots[MAX_WIDTH];
    for (int j = 0; j < width; j++)
        slots[j].pidfd = -1;
    struct timespec t0, t1;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    int started = 0, done = 0, rc = 0;
    while (done < n) {
        for (int j = 0; j < width && started < n; j++)
            if (slots[j].pidfd < 0) {
                if (s_start (iso, launcher, res, shim, work, started, &slots[j]) < 0) {
                    rc = 1;
                    goto out;
                }
                started++;
            }
        struct pollfd p[MAX_WIDTH];
        int map[MAX_WIDTH], np = 0;
        for (int j = 0; j < width; j++)
            if (slots[j].pidfd >= 0) {
                p[np] = (struct pollfd) { slots[j].pidfd, POLLIN, 0 };
                map[np++] = j;
            }
        if (poll (p, (nfds_t) np, -1) < 0 && errno != EINTR) {
            rc = 1;
            goto out;
        }
        for (int q = 0; q < np; q++)
            if (p[q].revents) {
                s_finish (iso, &slots[map[q]]);
                done++;
            }
    }
    clock_gettime (CLOCK_MONOTONIC, &t1);
    double s = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf ("%.1f %s\n", n / s, isolator_name (iso));
out:
    for (int j = 0; j < width; j++)
        if (slots[j].pidfd >= 0)
            s_finish (iso, &slots[j]);
    launcher_destroy (&launcher);
    isolator_destroy (&iso);
    cairn_resources_destroy (&res);
    return rc;
}
