/*  launcher.c - cairn-shim --launcher and its client (agent/launcher.c),
    with the built shim (found through CAIRN_BUILDDIR): shims started as
    forks of the launcher run their tasks with the environment, output
    and records the agent expects; bad requests are refused without
    taking the launcher down; it exits when its socket closes. No
    cgroups: the shims run without --cgroup-procs.                        */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cairn.h"
#include "error.h"
#include "launcher.h"
#include "tap.h"
#include "util.h"

#define TIMEOUT_MS 30000

static char s_shim[PATH_MAX];
static char s_tmp[] = "/tmp/cairn-launcher-test.XXXXXX";

static bool
s_wait_fd (int fd, int ms)
{
    struct pollfd p = { fd, POLLIN, 0 };
    return poll (&p, 1, ms) == 1;
}

static char *
s_read (const char *dir, const char *name)
{
    char path[PATH_MAX];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    char *text = util_read_file (path, 65536, NULL);
    return text ? text : xstrdup ("(missing)");
}

/*  Runs `sh -c cmd` in a fresh sandbox under a launched shim; returns the
    run dir's status and puts the sandbox's stdout in *out. The shim's
    stdout (its "started PID" line) is checked too.                       */
static char *
s_run (launcher_t *l, const char *name, const char *cmd, char *const envp[], char **out)
{
    char sandbox[PATH_MAX], run[PATH_MAX], log[PATH_MAX];
    snprintf (sandbox, sizeof sandbox, "%s/%s/sandbox", s_tmp, name);
    snprintf (run, sizeof run, "%s/%s/run", s_tmp, name);
    snprintf (log, sizeof log, "%s/shim.log", run);
    util_mkdir_p (sandbox, 0755);
    util_mkdir_p (run, 0700);
    char sb[PATH_MAX + 16], rd[PATH_MAX + 16];
    snprintf (sb, sizeof sb, "--sandbox=%s", sandbox);
    snprintf (rd, sizeof rd, "--run-dir=%s", run);
    char *argv[] = { s_shim, sb, rd, "--", "/bin/sh", "-c", (char *) cmd, NULL };
    int pipefd[2];
    if (pipe2 (pipefd, O_CLOEXEC) < 0)
        return xstrdup ("(pipe failed)");
    int err = open (log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    int pidfd = -1;
    pid_t pid = launcher_spawn (l, argv, envp, pipefd[1], err, &pidfd);
    close (pipefd[1]);
    close (err);
    char *status = NULL;
    if (pid <= 0) {
        diag ("launcher_spawn: %s", cairn_strerror_last ());
        close (pipefd[0]);
        return xstrdup ("(not started)");
    }
    char line[128] = "";
    ssize_t n = s_wait_fd (pipefd[0], TIMEOUT_MS) ? read (pipefd[0], line, sizeof line - 1) : -1;
    line[n > 0 ? n : 0] = '\0';
    ok (strncmp (line, "started ", 8) == 0 || strncmp (line, "failed ", 7) == 0,
        "%s: the shim reports on its stdout (%s)", name, strtok (line, "\n") ? line : "");
    ok (s_wait_fd (pidfd, TIMEOUT_MS), "%s: the pidfd says when the shim ends", name);
    close (pidfd);
    close (pipefd[0]);
    status = s_read (run, "status");
    *out = s_read (sandbox, "stdout");
    return status;
}

int
main (void)
{
    const char *builddir = getenv ("CAIRN_BUILDDIR");
    snprintf (s_shim, sizeof s_shim, "%s/agent/cairn-shim", builddir ? builddir : ".");
    if (access (s_shim, X_OK) < 0) {
        printf ("1..0 # SKIP no cairn-shim at %s\n", s_shim);
        return 0;
    }
    if (!mkdtemp (s_tmp))
        return 1;

    launcher_t *l = launcher_new (s_shim);
    ok (l != NULL, "the launcher starts");
    if (!l)
        return done_testing ();

    char *env[] = { "GREETING=hello from the env", "PATH=/usr/bin:/bin", NULL };
    char *out = NULL;
    char *status = s_run (l, "env", "echo \"$GREETING\"; exit 3", env, &out);
    is (status, "exited 3\n", "a task's exit status is recorded");
    is (out, "hello from the env\n", "the task gets the environment it was given, and only it");
    free (status);
    free (out);

    status = s_run (l, "missing", "exec /nonexistent/command", env, &out);
    ok (strstr (status, "exited 127") != NULL, "a command that cannot run: 127 (%s)",
        strtok (status, "\n") ? status : "");
    free (status);
    free (out);

    status = s_run (l, "signal", "kill -TERM $$", env, &out);
    is (status, "signaled 15\n", "a task killed by a signal is recorded as such");
    free (status);
    free (out);

    /*  Many in a row: the launcher reaps what it forked (no zombies).    */
    int good = 0;
    for (int i = 0; i < 20; i++) {
        char name[32];
        snprintf (name, sizeof name, "many-%d", i);
        status = s_run (l, name, "exit 0", env, &out);
        good += strcmp (status, "exited 0\n") == 0;
        free (status);
        free (out);
    }
    cmp_int (good, 20, "twenty shims in a row all ran their tasks");
    char cmd[128];
    snprintf (cmd, sizeof cmd, "ps -o stat= --ppid %d | grep -c Z", (int) launcher_pid (l));
    FILE *ps = popen (cmd, "r");
    int zombies = -1;
    if (ps) {
        if (fscanf (ps, "%d", &zombies) != 1)
            zombies = 0;
        pclose (ps);
    }
    /*  A shim that just ended may not be reaped yet: allow one.          */
    ok (zombies >= 0 && zombies <= 1, "the launcher reaps its shims (%d zombie(s))", zombies);

    /*  A request too large for one message is refused before sending.    */
    size_t big = 2u << 20;
    char *huge = xmalloc (big);
    memset (huge, 'x', big - 1);
    huge[big - 1] = '\0';
    char *bigenv[] = { huge, NULL };
    char *argv[] = { s_shim, "--sandbox=/", "--run-dir=/", "--", "/bin/true", NULL };
    int pidfd = -1;
    int null = open ("/dev/null", O_WRONLY | O_CLOEXEC);
    errno = 0;
    ok (launcher_spawn (l, argv, bigenv, null, null, &pidfd) < 0 && errno == E2BIG,
        "an oversized request: E2BIG (%s)", cairn_strerror_last ());
    free (huge);
    close (null);

    launcher_destroy (&l);
    ok (l == NULL, "destroyed");

    /*  The raw protocol: garbage is answered -EINVAL, and the launcher
        goes on; EOF ends it with status 0.                               */
    int sv[2];
    socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv);
    pid_t raw = fork ();
    if (raw == 0) {
        dup2 (sv[1], 0);
        execl (s_shim, s_shim, "--launcher", (char *) NULL);
        _exit (127);
    }
    close (sv[1]);
    const char garbage[] = "this is not a launch request";
    send (sv[0], garbage, sizeof garbage, 0);
    int32_t answer = 0;
    ok (s_wait_fd (sv[0], TIMEOUT_MS) && recv (sv[0], &answer, sizeof answer, 0) == 4
            && answer == -EINVAL,
        "garbage gets -EINVAL (%d)", (int) answer);
    uint32_t head[3] = { 0x314e4c43u, 5, 0 };       /* right magic, no strings, no fds */
    send (sv[0], head, sizeof head, 0);
    answer = 0;
    ok (s_wait_fd (sv[0], TIMEOUT_MS) && recv (sv[0], &answer, sizeof answer, 0) == 4
            && answer == -EINVAL,
        "a truncated request without descriptors gets -EINVAL");
    close (sv[0]);
    int wstatus = 0;
    ok (waitpid (raw, &wstatus, 0) == raw && WIFEXITED (wstatus) && WEXITSTATUS (wstatus) == 0,
        "the launcher exits 0 when its socket closes");

    util_remove_tree (s_tmp);
    return done_testing ();
}
