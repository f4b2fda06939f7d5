/*  shim.c - cairn-shim: the per-task supervisor.

    The agent starts one shim per task with posix_spawn (never a fork of
    the agent). With --supervisor-procs the shim first moves itself into
    that cgroup (cgroup v2: the agent's supervisors leaf, so shims sit
    neither in the agent's cgroup nor in a task's). It forks the task,
    which sets up its session, joins its container (each --cgroup-procs
    file, one per hierarchy, before anything of the task runs), applies
    --rlimit-data, moves into the sandbox with stdout/stderr going to
    files there, and execs. The shim stays outside the task's container,
    so a memory limit, an OOM kill or cgroup.kill never takes it down; it
    waits for the task and records how it ended in the run directory,
    which belongs to the agent. Because the shim, not the agent, is the
    task's parent, a task outlives an agent restart.

    It links only libc, keeps no heap state, and talks to the agent
    through files and one line on its stdout:
        "started PID\n"                 the task's exec succeeded
        "failed STAGE: REASON\n"        it could not be started
    and, in RUN_DIR/status when the task has ended (written atomically):
        "exited N\n" | "signaled N\n" | "failed STAGE: REASON\n"

    Usage: cairn-shim --sandbox=DIR --run-dir=DIR [--supervisor-procs=FILE]
                      [--cgroup-procs=FILE]... [--rlimit-data=BYTES]
                      -- PROGRAM [ARGS...]                                  */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_CGROUPS 16            /* --cgroup-procs: one per hierarchy */

static void
s_usage (void)
{
    fputs ("usage: cairn-shim --sandbox=DIR --run-dir=DIR [--supervisor-procs=FILE] "
           "[--cgroup-procs=FILE]... [--rlimit-data=BYTES] -- PROGRAM [ARGS...]\n", stderr);
    exit (2);
}

/*  Writes "0" (the writer itself) to a cgroup.procs file.                 */
static int
s_join (const char *procs)
{
    int fd = open (procs, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = write (fd, "0", 1) == 1 ? 0 : -1;
    int saved = errno;
    close (fd);
    errno = saved;
    return rc;
}

static const char *
s_opt (const char *arg, const char *name)
{
    size_t n = strlen (name);
    if (strncmp (arg, name, n) == 0 && arg[n] == '=')
        return arg + n + 1;
    return NULL;
}

/*  Writes all of buf, retrying on EINTR; errors are ignored because the
    reader (the agent) may be gone, and the status file is the record.   */
static void
s_write_all (int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write (fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        buf += n;
        len -= (size_t) n;
    }
}

static int
s_write_file (const char *dir, const char *name, const char *text)
{
    char path[4096], tmp[4200];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    snprintf (tmp, sizeof tmp, "%s.tmp", path);
    int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    /*  No fsync: the record must survive the agent, not the machine (after
        a reboot the agent reports old tasks lost rather than trusting it),
        and an fsync per task would dominate a short task's cost.        */
    s_write_all (fd, text, strlen (text));
    close (fd);
    return rename (tmp, path);
}

/*  In the child: everything between fork and exec. On failure, the
    reason goes up the error pipe and the child exits 127.                 */
static void
s_child (int errfd, const char *sandbox, const char *const *cgroups, size_t ncgroups,
         unsigned long long rlimit_data, char **argv)
{
    char msg[4400];
    const char *stage = "setsid";
    const char *what = "";
    if (setsid () < 0)
        goto fail;
    /*  First of all: nothing of the task runs outside its limits.         */
    stage = "join the cgroup";
    for (size_t i = 0; i < ncgroups; i++) {
        what = cgroups[i];
        if (s_join (cgroups[i]) < 0)
            goto fail;
    }
    what = "";
    if (rlimit_data > 0) {
        stage = "set RLIMIT_DATA";
        struct rlimit rl = { rlimit_data, rlimit_data };
        if (setrlimit (RLIMIT_DATA, &rl) < 0)
            goto fail;
    }
    stage = "chdir to the sandbox";
    if (chdir (sandbox) < 0)
        goto fail;
    stage = "open stdin";
    int in = open ("/dev/null", O_RDONLY);
    if (in < 0 || dup2 (in, 0) < 0)
        goto fail;
    stage = "open the sandbox's stdout";
    int out = open ("stdout", O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (out < 0 || dup2 (out, 1) < 0)
        goto fail;
    stage = "open the sandbox's stderr";
    int err = open ("stderr", O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (err < 0 || dup2 (err, 2) < 0)
        goto fail;
    if (in > 2)
        close (in);
    if (out > 2)
        close (out);
    if (err > 2)
        close (err);
    stage = "execute the command";
    execvp (argv[0], argv);
fail:
    snprintf (msg, sizeof msg, "%s%s%s: %s", stage, *what ? " " : "", what, strerror (errno));
    s_write_all (errfd, msg, strlen (msg));
    _exit (127);
}

int
main (int argc, char **argv)
{
    const char *sandbox = NULL, *run_dir = NULL, *supervisor_procs = NULL;
    const char *cgroups[MAX_CGROUPS];
    size_t ncgroups = 0;
    unsigned long long rlimit_data = 0;
    int i;
    for (i = 1; i < argc; i++) {
        const char *v;
        if (strcmp (argv[i], "--") == 0) {
            i++;
            break;
        }
        else if ((v = s_opt (argv[i], "--sandbox")))
            sandbox = v;
        else if ((v = s_opt (argv[i], "--run-dir")))
            run_dir = v;
        else if ((v = s_opt (argv[i], "--cgroup-procs")) && *v && ncgroups < MAX_CGROUPS)
            cgroups[ncgroups++] = v;
        else if ((v = s_opt (argv[i], "--supervisor-procs")) && *v)
            supervisor_procs = v;
        else if ((v = s_opt (argv[i], "--rlimit-data"))) {
            char *end;
            errno = 0;
            rlimit_data = strtoull (v, &end, 10);
            if (!*v || *end || errno || rlimit_data == 0)
                s_usage ();
        }
        else
            s_usage ();
    }
    if (!sandbox || !run_dir || i >= argc)
        s_usage ();
    char **task_argv = argv + i;

    /*  The agent blocks signals for its signalfd; posix_spawn resets the
        mask for us, but be explicit: the task must start with defaults.  */
    sigset_t none;
    sigemptyset (&none);
    sigprocmask (SIG_SETMASK, &none, NULL);
    signal (SIGPIPE, SIG_IGN);          /* the agent's pipe may be gone */

    /*  Out of the agent's cgroup before the task is forked: the task then
        moves from the supervisors leaf into its own cgroups.             */
    if (supervisor_procs && s_join (supervisor_procs) < 0) {
        char line[4400];
        snprintf (line, sizeof line, "failed join the supervisors cgroup %s: %s",
                  supervisor_procs, strerror (errno));
        s_write_file (run_dir, "status", line);
        printf ("%s\n", line);
        return 1;
    }

    int errpipe[2];
    if (pipe2 (errpipe, O_CLOEXEC) < 0) {
        char line[300];
        snprintf (line, sizeof line, "failed pipe: %s", strerror (errno));
        s_write_file (run_dir, "status", line);
        printf ("%s\n", line);
        return 1;
    }
    pid_t pid = fork ();
    if (pid < 0) {
        char line[300];
        snprintf (line, sizeof line, "failed fork: %s", strerror (errno));
        s_write_file (run_dir, "status", line);
        printf ("%s\n", line);
        return 1;
    }
    if (pid == 0) {
        close (errpipe[0]);
        signal (SIGPIPE, SIG_DFL);
        s_child (errpipe[1], sandbox, cgroups, ncgroups, rlimit_data, task_argv);
    }
    close (errpipe[1]);

    /*  The error pipe closes on a successful exec (O_CLOEXEC) or carries
        the reason it failed.                                             */
    char reason[512];
    size_t got = 0;
    while (got < sizeof reason - 1) {
        ssize_t n = read (errpipe[0], reason + got, sizeof reason - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t) n;
    }
    reason[got] = '\0';
    close (errpipe[0]);

    char line[700];
    if (got == 0) {
        char pidtext[32];
        snprintf (pidtext, sizeof pidtext, "%d\n", (int) pid);
        s_write_file (run_dir, "pid", pidtext);
        snprintf (line, sizeof line, "started %d\n", (int) pid);
    }
    else
        snprintf (line, sizeof line, "failed %s\n", reason);
    s_write_all (1, line, strlen (line));

    int status;
    while (waitpid (pid, &status, 0) < 0)
        if (errno != EINTR) {
            snprintf (line, sizeof line, "failed wait: %s\n", strerror (errno));
            s_write_file (run_dir, "status", line);
            return 1;
        }
    if (got > 0)
        snprintf (line, sizeof line, "failed %s\n", reason);
    else if (WIFEXITED (status))
        snprintf (line, sizeof line, "exited %d\n", WEXITSTATUS (status));
    else if (WIFSIGNALED (status))
        snprintf (line, sizeof line, "signaled %d\n", WTERMSIG (status));
    else
        snprintf (line, sizeof line, "failed wait: unexpected status %d\n", status);
    if (s_write_file (run_dir, "status", line) < 0)
        return 1;
    return 0;
}
