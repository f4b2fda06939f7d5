/*  launch-loop.c - the baseline for the end-to-end benchmark: the work an
    agent does for each task, in a tight loop, without the agent, master
    or messaging. For each of N tasks: make its sandbox and run
    directory, prepare its container with the agent's own isolator
    (cgroups as root), start cairn-shim with posix_spawn to run /bin/true
    inside it, wait for the shim, and remove the container. One task at a
    time.

    Usage: launch-loop SHIM WORKDIR N
    Prints the tasks per second and the isolation it used.               */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "isolator.h"
#include "log.h"
#include "resources.h"
#include "util.h"

extern char **environ;

int
main (int argc, char **argv)
{
    if (argc != 4)
        return 2;
    const char *shim = argv[1], *work = argv[2];
    int n = atoi (argv[3]);
    log_init ("bench", "error", "stderr");
    char root[64];
    snprintf (root, sizeof root, "cairn-bench-%d", (int) getpid ());
    isolator_config_t config = { .kind = "auto", .cgroup_root = root };
    isolator_t *iso = isolator_new (&config);
    if (!iso || isolator_set_agent_id (iso, "a-bench") < 0) {
        fprintf (stderr, "launch-loop: %s\n", cairn_strerror_last ());
        return 1;
    }
    cairn_resources_t *res = cairn_resources_parse ("cpus:0.01;mem:4");
    struct timespec t0, t1;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < n; i++) {
        char id[13], sandbox[4096], run[4096];
        snprintf (id, sizeof id, "%012x", i);
        snprintf (sandbox, sizeof sandbox, "%s/sandboxes/%s", work, id);
        snprintf (run, sizeof run, "%s/run/%s", work, id);
        char **join = NULL;
        if (util_mkdir_p (sandbox, 0755) < 0 || util_mkdir_p (run, 0700) < 0
            || isolator_prepare (iso, id, res, NULL, &join) < 0) {
            fprintf (stderr, "launch-loop: %s\n", cairn_strerror_last ());
            return 1;
        }
        char *args[32];
        size_t k = 0;
        args[k++] = (char *) shim;
        char sb[4200], rd[4200];
        snprintf (sb, sizeof sb, "--sandbox=%s", sandbox);
        snprintf (rd, sizeof rd, "--run-dir=%s", run);
        args[k++] = sb;
        args[k++] = rd;
        for (size_t j = 0; join && join[j] && k < 28; j++)
            args[k++] = join[j];
        args[k++] = "--";
        args[k++] = "/bin/true";
        args[k] = NULL;
        pid_t pid;
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init (&fa);
        posix_spawn_file_actions_addopen (&fa, 1, "/dev/null", 0x1, 0);
        int err = posix_spawn (&pid, shim, &fa, NULL, args, environ);
        posix_spawn_file_actions_destroy (&fa);
        isolator_strv_free (&join);
        if (err) {
            fprintf (stderr, "launch-loop: %s\n", strerror (err));
            return 1;
        }
        waitpid (pid, NULL, 0);
        isolator_kill_all (iso, id, 0);
        isolator_cleanup (iso, id);
    }
    clock_gettime (CLOCK_MONOTONIC, &t1);
    double s = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf ("%.1f %s\n", n / s, isolator_name (iso));
    isolator_destroy (&iso);
    cairn_resources_destroy (&res);
    return 0;
}
