/*  shim.c - cairn-shim: the per-task supervisor.

    The agent starts one shim per task, as a fork of its launcher (this
    program run with --launcher, see the end of this file), or with
    posix_spawn when no launcher can serve; never as a fork of the agent.
    With --supervisor-procs the shim first moves itself into that cgroup
    (cgroup v2: the agent's supervisors leaf, so shims sit neither in the
    agent's cgroup nor in a task's). It forks the task,
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

    Options for the task's process, in the order they apply:
      --namespaces=pid,mount   a mount namespace with a private /tmp (and
                               /proc for a new pid namespace), and a pid
                               namespace in which the task is pid 1's
                               only child... of a tiny init that reaps
      --user=NAME              run as NAME (initgroups, setgid, setuid)
    and always no_new_privs (prctl), so that nothing the task executes
    gains privileges (setuid binaries, file capabilities); its stdout and
    stderr files are mode 0640.
      --max-log-size=BYTES     stdout and stderr go through the shim,
                               which rotates each file at BYTES (keeping
                               one older copy, stdout.1), instead of
                               straight to the files

    Usage: cairn-shim --sandbox=DIR --run-dir=DIR [--supervisor-procs=FILE]
                      [--cgroup-procs=FILE]... [--rlimit-data=BYTES]
                      [--namespaces=LIST] [--user=NAME] [--max-log-size=BYTES]
                      -- PROGRAM [ARGS...]
           cairn-shim --launcher    (fd 0: the agent's launch socket)      */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdbool.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_CGROUPS 16            /* --cgroup-procs: one per hierarchy */
#define LAUNCH_MAGIC 0x314e4c43u  /* "CLN1": a launch request */
#define LAUNCH_MAX (1u << 20)     /* bytes in a launch request */

extern char **environ;

static void
s_usage (void)
{
    fputs ("usage: cairn-shim --sandbox=DIR --run-dir=DIR [--supervisor-procs=FILE] "
           "[--cgroup-procs=FILE]... [--rlimit-data=BYTES] [--namespaces=pid,mount] "
           "[--user=NAME] [--max-log-size=BYTES] -- PROGRAM [ARGS...]\n", stderr);
    exit (2);
}

typedef struct {
    const char *sandbox;
    const char *const *cgroups;
    size_t ncgroups;
    unsigned long long rlimit_data;
    bool ns_pid, ns_mount;
    const struct passwd *user;          /* NULL: the agent's */
    int out_pipe, err_pipe;             /* -1: write to the files directly */
} task_opts_t;

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

/*  A new pid namespace: the caller forks the task, which is the
    namespace's pid 1, and waits for it, leaving with its status.         */
static void
s_pid_namespace_init (int errfd, const task_opts_t *o)
{
    pid_t pid = fork ();
    if (pid < 0)
        _exit (127);
    if (pid == 0)
        return;                 /* the task goes on */
    /*  This process only waits: it must not keep the error pipe (the
        shim reads it until the task's exec closes it) or the log pipes
        open.                                                              */
    close (errfd);
    if (o->out_pipe >= 0)
        close (o->out_pipe);
    if (o->err_pipe >= 0)
        close (o->err_pipe);
    int status;
    while (waitpid (pid, &status, 0) < 0)
        if (errno != EINTR)
            _exit (127);
    if (WIFSIGNALED (status)) {
        signal (WTERMSIG (status), SIG_DFL);
        kill (getpid (), WTERMSIG (status));
    }
    _exit (WIFEXITED (status) ? WEXITSTATUS (status) : 127);
}

/*  In the child: everything between fork and exec. On failure, the
    reason goes up the error pipe and the child exits 127.                 */
static void
s_child (int errfd, const task_opts_t *o, char **argv)
{
    char msg[4400];
    const char *stage = "setsid";
    const char *what = "";
    if (setsid () < 0)
        goto fail;
    /*  First of all: nothing of the task runs outside its limits.         */
    stage = "join the cgroup";
    for (size_t i = 0; i < o->ncgroups; i++) {
        what = o->cgroups[i];
        if (s_join (o->cgroups[i]) < 0)
            goto fail;
    }
    what = "";
    if (o->rlimit_data > 0) {
        stage = "set RLIMIT_DATA";
        struct rlimit rl = { o->rlimit_data, o->rlimit_data };
        if (setrlimit (RLIMIT_DATA, &rl) < 0)
            goto fail;
    }
    /*  The sandbox first: a private /tmp may cover the path to it.       */
    stage = "chdir to the sandbox";
    if (chdir (o->sandbox) < 0)
        goto fail;
    if (o->ns_mount || o->ns_pid) {
        stage = "create namespaces";
        int flags = (o->ns_mount ? CLONE_NEWNS : 0) | (o->ns_pid ? CLONE_NEWPID : 0);
        if (unshare (flags) < 0)
            goto fail;
    }
    if (o->ns_mount) {
        /*  Mounts made here must not leak back to the host.               */
        stage = "make the mounts private";
        if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
            goto fail;
        /*  The task's /tmp is its sandbox's tmp: private, counted in its
            disk, and removed with the sandbox.                            */
        stage = "mount the sandbox's tmp on /tmp";
        char tmp[4200];
        snprintf (tmp, sizeof tmp, "%s/tmp", o->sandbox);
        if ((mkdir (tmp, 01777) < 0 && errno != EEXIST) || chmod (tmp, 01777) < 0
            || mount (tmp, "/tmp", NULL, MS_BIND, NULL) < 0)
            goto fail;
    }
    if (o->ns_pid) {
        s_pid_namespace_init (errfd, o);
        if (o->ns_mount) {
            stage = "mount /proc for the new pid namespace";
            if (mount ("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                goto fail;
        }
    }
    stage = "open stdin";
    int in = open ("/dev/null", O_RDONLY);
    if (in < 0 || dup2 (in, 0) < 0)
        goto fail;
    stage = "open the sandbox's stdout";
    int out = o->out_pipe >= 0 ? o->out_pipe : open ("stdout", O_WRONLY | O_CREAT | O_APPEND, 0640);
    if (out < 0 || dup2 (out, 1) < 0)
        goto fail;
    stage = "open the sandbox's stderr";
    int err = o->err_pipe >= 0 ? o->err_pipe : open ("stderr", O_WRONLY | O_CREAT | O_APPEND, 0640);
    if (err < 0 || dup2 (err, 2) < 0)
        goto fail;
    if (in > 2)
        close (in);
    if (out > 2)
        close (out);
    if (err > 2)
        close (err);
    if (o->user) {
        stage = "switch to the task's user";
        what = o->user->pw_name;
        if (initgroups (o->user->pw_name, o->user->pw_gid) < 0 || setgid (o->user->pw_gid) < 0
            || setuid (o->user->pw_uid) < 0)
            goto fail;
        what = "";
    }
    /*  Neither the task nor anything it runs gains privileges through
        exec (setuid binaries, file capabilities).                        */
    stage = "set no_new_privs";
    if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        goto fail;
    stage = "execute the command";
    what = argv[0];
    execvp (argv[0], argv);
fail:
    snprintf (msg, sizeof msg, "%s%s%s: %s", stage, *what ? " " : "", what, strerror (errno));
    s_write_all (errfd, msg, strlen (msg));
    _exit (127);
}

/*  Log rotation: the shim copies the task's output into the sandbox's
    files, starting a new file when one would pass max (the old one
    becomes NAME.1, replacing an older NAME.1).                           */
typedef struct {
    int pipe;                   /* -1 once closed */
    int file;
    const char *name;
    unsigned long long size;
} log_t;

static void
s_log_open (int dir, log_t *l)
{
    l->file = openat (dir, l->name, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    struct stat st;
    l->size = (l->file >= 0 && fstat (l->file, &st) == 0) ? (unsigned long long) st.st_size : 0;
}

static void
s_log_write (int dir, log_t *l, const char *buf, size_t n, unsigned long long max)
{
    if (l->file >= 0 && l->size > 0 && l->size + n > max) {
        char old[64];
        snprintf (old, sizeof old, "%s.1", l->name);
        close (l->file);
        renameat (dir, l->name, dir, old);
        s_log_open (dir, l);
    }
    if (l->file < 0)
        return;                 /* nothing to write to: the output is lost */
    s_write_all (l->file, buf, n);
    l->size += n;
}

/*  Copies the task's output until the task has ended and its pipes are
    drained (or closed). Processes the task left behind could hold a pipe
    open forever: once the task is gone, only what is already there is
    read.                                                                 */
static int
s_pump (const char *sandbox, int out_pipe, int err_pipe, pid_t pid, unsigned long long max)
{
    int dir = open (sandbox, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    log_t logs[2] = { { out_pipe, -1, "stdout", 0 }, { err_pipe, -1, "stderr", 0 } };
    s_log_open (dir, &logs[0]);
    s_log_open (dir, &logs[1]);
    int status = 0;
    bool ended = false;
    char buf[65536];
    while (logs[0].pipe >= 0 || logs[1].pipe >= 0) {
        struct pollfd pfd[2];
        int n = 0, map[2];
        for (int i = 0; i < 2; i++)
            if (logs[i].pipe >= 0) {
                pfd[n] = (struct pollfd) { logs[i].pipe, POLLIN, 0 };
                map[n++] = i;
            }
        int rc = poll (pfd, (nfds_t) n, ended ? 0 : 200);
        if (rc < 0 && errno != EINTR)
            break;
        bool any = false;
        for (int k = 0; k < n && rc > 0; k++) {
            if (!pfd[k].revents)
                continue;
            log_t *l = &logs[map[k]];
            ssize_t got = read (l->pipe, buf, sizeof buf);
            if (got > 0) {
                s_log_write (dir, l, buf, (size_t) got, max);
                any = true;
            }
            else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
                close (l->pipe);
                l->pipe = -1;
            }
        }
        if (!ended && waitpid (pid, &status, WNOHANG) == pid)
            ended = true;
        else if (ended && !any)
            break;              /* the task is gone and nothing is waiting */
    }
    for (int i = 0; i < 2; i++) {
        if (logs[i].pipe >= 0)
            close (logs[i].pipe);
        if (logs[i].file >= 0)
            close (logs[i].file);
    }
    if (dir >= 0)
        close (dir);
    while (!ended) {
        if (waitpid (pid, &status, 0) == pid)
            ended = true;
        else if (errno != EINTR)
            return -1;
    }
    return status;
}

static int
s_shim_main (int argc, char **argv)
{
    const char *sandbox = NULL, *run_dir = NULL, *supervisor_procs = NULL, *user = NULL;
    const char *cgroups[MAX_CGROUPS];
    size_t ncgroups = 0;
    unsigned long long rlimit_data = 0, max_log = 0;
    bool ns_pid = false, ns_mount = false;
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
        else if ((v = s_opt (argv[i], "--max-log-size"))) {
            char *end;
            errno = 0;
            max_log = strtoull (v, &end, 10);
            if (!*v || *end || errno)
                s_usage ();
        }
        else if ((v = s_opt (argv[i], "--user")) && *v)
            user = v;
        else if ((v = s_opt (argv[i], "--namespaces"))) {
            char list[64];
            snprintf (list, sizeof list, "%s", v);
            for (char *save = NULL, *ns = strtok_r (list, ",", &save); ns;
                 ns = strtok_r (NULL, ",", &save)) {
                if (strcmp (ns, "pid") == 0)
                    ns_pid = true;
                else if (strcmp (ns, "mount") == 0)
                    ns_mount = true;
                else
                    s_usage ();
            }
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

    /*  Look the user up here, not in the child between fork and exec.    */
    struct passwd *pw = NULL;
    if (user && !(pw = getpwnam (user))) {
        char line[400];
        snprintf (line, sizeof line, "failed switch to the task's user %s: no such user", user);
        s_write_file (run_dir, "status", line);
        printf ("%s\n", line);
        return 1;
    }
    int logpipe[2][2] = { { -1, -1 }, { -1, -1 } };
    if (max_log > 0 && (pipe2 (logpipe[0], O_CLOEXEC) < 0 || pipe2 (logpipe[1], O_CLOEXEC) < 0)) {
        char line[300];
        snprintf (line, sizeof line, "failed pipe: %s", strerror (errno));
        s_write_file (run_dir, "status", line);
        printf ("%s\n", line);
        return 1;
    }
    task_opts_t opts = {
        .sandbox = sandbox, .cgroups = cgroups, .ncgroups = ncgroups,
        .rlimit_data = rlimit_data, .ns_pid = ns_pid, .ns_mount = ns_mount, .user = pw,
        .out_pipe = logpipe[0][1], .err_pipe = logpipe[1][1],
    };

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
        if (max_log > 0) {
            close (logpipe[0][0]);
            close (logpipe[1][0]);
        }
        s_child (errpipe[1], &opts, task_argv);
    }
    close (errpipe[1]);
    if (max_log > 0) {
        close (logpipe[0][1]);
        close (logpipe[1][1]);
    }

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
    if (max_log > 0) {
        status = s_pump (sandbox, logpipe[0][0], logpipe[1][0], pid, max_log);
        if (status == -1) {
            snprintf (line, sizeof line, "failed wait: %s\n", strerror (errno));
            s_write_file (run_dir, "status", line);
            return 1;
        }
    }
    else
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

/*  The launcher: a resident copy of this program that the agent keeps as
    its child and asks, over a SOCK_SEQPACKET socket on fd 0, to start
    shims. Each shim is a fork of the launcher running the code above,
    with no exec: a fresh exec would cost the dynamic loader's start-up
    again for every task, which on virtual machines (where cpuid traps)
    is a large part of a short task's price. The shim is the same process
    it would have been: its own session, default signals, the agent's
    pipe on stdout and shim.log on stderr, nothing else open.

    A request is one datagram: three uint32 (LAUNCH_MAGIC, argc, envc),
    then argc + envc NUL-terminated strings (the shim's arguments with
    argv[0], then the task's environment), with two descriptors attached
    (SCM_RIGHTS): the shim's stdout and stderr. The answer is an int32:
    the shim's pid, or -errno; with a pid comes a pidfd for it, opened
    before the launcher could reap the shim, so the pid cannot have been
    reused when the agent gets it. The launcher exits when the agent
    closes its end; the shims it started live on (adopted by init), as
    they would after an agent restart.                                   */
static void
s_launch_reply (int sock, int32_t value, int pidfd)
{
    struct iovec iov = { &value, sizeof value };
    union {
        char buf[CMSG_SPACE (sizeof (int))];
        struct cmsghdr align;
    } u;
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (pidfd >= 0) {
        memset (&u, 0, sizeof u);
        msg.msg_control = u.buf;
        msg.msg_controllen = sizeof u.buf;
        struct cmsghdr *c = CMSG_FIRSTHDR (&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN (sizeof (int));
        memcpy (CMSG_DATA (c), &pidfd, sizeof (int));
    }
    while (sendmsg (sock, &msg, MSG_NOSIGNAL) < 0 && errno == EINTR)
        ;
}

/*  Splits the request into argv and envp (pointers into buf, which ends
    with a NUL the reader added); -1 if it is not well formed.            */
static int
s_launch_parse (char *buf, size_t len, char ***argv, size_t *argc, char ***envp)
{
    uint32_t head[3];
    if (len < sizeof head)
        return -1;
    memcpy (head, buf, sizeof head);
    if (head[0] != LAUNCH_MAGIC || head[1] < 2 || head[1] > LAUNCH_MAX / 2
        || head[2] > LAUNCH_MAX / 2)
        return -1;
    size_t n = (size_t) head[1] + head[2];
    char **v = calloc (n + 2, sizeof (char *));
    if (!v)
        return -1;
    char *p = buf + sizeof head, *end = buf + len;
    for (size_t i = 0, k = 0; i < n; i++) {
        char *nul = memchr (p, '\0', (size_t) (end - p));
        if (p >= end || !nul) {
            free (v);
            return -1;
        }
        v[k++] = p;
        if (i + 1 == head[1])
            v[k++] = NULL;          /* argv ends, envp starts */
        p = nul + 1;
    }
    *argv = v;
    *argc = head[1];
    *envp = v + head[1] + 1;
    return 0;
}

static void
s_launch_one (int sock, int sigfd)
{
    ssize_t size = recv (sock, NULL, 0, MSG_PEEK | MSG_TRUNC);
    if (size == 0)
        exit (0);                   /* the agent is gone */
    if (size < 0) {
        if (errno == EINTR || errno == EAGAIN)
            return;
        exit (1);
    }
    char *buf = malloc ((size_t) size + 1);
    union {
        char buf[CMSG_SPACE (2 * sizeof (int))];
        struct cmsghdr align;
    } u;
    struct iovec iov = { buf ? buf : (char *) &u, buf ? (size_t) size : 1 };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                          .msg_controllen = sizeof u.buf };
    ssize_t got = recvmsg (sock, &msg, MSG_CMSG_CLOEXEC);
    if (got <= 0) {
        free (buf);
        exit (got == 0 ? 0 : 1);
    }
    int fds[2] = { -1, -1 };
    size_t nfds = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR (&msg); c; c = CMSG_NXTHDR (&msg, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            size_t n = (c->cmsg_len - CMSG_LEN (0)) / sizeof (int);
            for (size_t i = 0; i < n; i++) {
                int fd;
                memcpy (&fd, CMSG_DATA (c) + i * sizeof (int), sizeof fd);
                if (nfds < 2)
                    fds[nfds++] = fd;
                else
                    close (fd);
            }
        }
    char **argv = NULL, **envp = NULL;
    size_t argc = 0;
    if (!buf || nfds != 2 || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
        || s_launch_parse (buf, (size_t) got, &argv, &argc, &envp) < 0) {
        s_launch_reply (sock, -EINVAL, -1);
        goto done;
    }
    pid_t pid = fork ();
    if (pid == 0) {
        /*  The shim: what posix_spawn would have set up, then main.      */
        setsid ();
        if (dup2 (fds[0], 1) < 0 || dup2 (fds[1], 2) < 0)
            _exit (127);
        int in = open ("/dev/null", O_RDONLY);
        if (in < 0 || dup2 (in, 0) < 0)
            _exit (127);
        close_range (3, ~0u, 0);
        signal (SIGCHLD, SIG_DFL);
        signal (SIGPIPE, SIG_DFL);
        environ = envp;
        exit (s_shim_main ((int) argc, argv));
    }
    int err = errno;
    int pidfd = pid > 0 ? (int) syscall (SYS_pidfd_open, pid, 0) : -1;
    if (pid > 0 && pidfd < 0)
        err = errno;
    s_launch_reply (sock, pid > 0 && pidfd >= 0 ? (int32_t) pid : -err, pidfd);
    if (pidfd >= 0)
        close (pidfd);
done:
    (void) sigfd;
    free (argv);
    free (buf);
    for (size_t i = 0; i < nfds; i++)
        close (fds[i]);
}

static int
s_launcher (void)
{
    /*  SIGCHLD stays blocked, read through a signalfd: a shim is reaped
        only in the loop, never between its fork and its pidfd.           */
    sigset_t chld;
    sigemptyset (&chld);
    sigaddset (&chld, SIGCHLD);
    sigprocmask (SIG_SETMASK, &chld, NULL);
    signal (SIGPIPE, SIG_IGN);
    int sigfd = signalfd (-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sigfd < 0)
        return 1;
    while (true) {
        struct pollfd p[2] = { { 0, POLLIN, 0 }, { sigfd, POLLIN, 0 } };
        if (poll (p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return 1;
        }
        if (p[1].revents) {
            struct signalfd_siginfo si;
            while (read (sigfd, &si, sizeof si) == sizeof si)
                ;
        }
        /*  Shims that ended: reap them (the agent watches their pidfds). */
        while (waitpid (-1, NULL, WNOHANG) > 0)
            ;
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR))
            s_launch_one (0, sigfd);
    }
}

int
main (int argc, char **argv)
{
    if (argc == 2 && strcmp (argv[1], "--launcher") == 0)
        return s_launcher ();
    return s_shim_main (argc, argv);
}
