/*  isolator.c - the isolator against the real kernel, with tasks started
    by the built cairn-shim (so the join-before-exec path is what runs).

    As root where cgroups are usable it runs every check on the version
    the host offers: cgroup v1 names on hybrid hosts (cpu and memory on
    v1), cgroup v2 in the test VM (tests/vm). It creates cgroups only under
    cairn-test-<pid> (and, on v2, cairn-test-<pid>-outer and -deleg at the
    top) and checks at the end that none is left. The posix checks run in
    a child that drops to uid 65534 (nobody) when the test runs as root.
    Without root the cgroup checks are skipped with the reason.

    CAIRN_BUILDDIR names the build tree (default: two levels above this
    program); CAIRN_TEST_VERBOSE=1 logs at debug level.                    */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "isolator.h"
#include "log.h"
#include "proto.h"
#include "resources.h"
#include "tap.h"
#include "util.h"

#define NOBODY 65534

static char s_shim[PATH_MAX];
static char s_tmp[] = "/tmp/cairn-isolator-test.XXXXXX";
static char s_root[64];                 /* cairn-test-<pid> */
static char s_base[PATH_MAX];           /* tasks' directories go below */

/*  A task under its shim.                                                 */
typedef struct {
    pid_t shim;
    pid_t task;
    char dir[PATH_MAX];                 /* sandbox and run dir */
    char line[512];                     /* the shim's first line */
    char **join;                        /* what isolator_prepare gave */
} task_t;

static int64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
s_sleep_ms (int ms)
{
    struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000 };
    nanosleep (&ts, NULL);
}

static bool
s_exists (const char *path)
{
    return access (path, F_OK) == 0;
}

/*  Reads a small file into buf ("" on failure).                           */
static const char *
s_read (const char *path, char *buf, size_t size)
{
    buf[0] = '\0';
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return buf;
    ssize_t n = read (fd, buf, size - 1);
    close (fd);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

/*  The first line of a file, or "".                                       */
static const char *
s_line (const char *path, char *buf, size_t size)
{
    s_read (path, buf, size);
    buf[strcspn (buf, "\n")] = '\0';
    return buf;
}

static int
s_write (const char *path, const char *text)
{
    int fd = open (path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = write (fd, text, strlen (text)) == (ssize_t) strlen (text) ? 0 : -1;
    close (fd);
    return rc;
}

/*  The directory of the task's --cgroup-procs that holds `file`, or "". */
static const char *
s_cgdir (const task_t *t, const char *file, char *buf, size_t size)
{
    buf[0] = '\0';
    for (size_t i = 0; t->join && t->join[i]; i++) {
        if (strncmp (t->join[i], "--cgroup-procs=", 15) != 0)
            continue;
        snprintf (buf, size, "%s", t->join[i] + 15);
        char *slash = strrchr (buf, '/');
        if (slash)
            *slash = '\0';
        char path[PATH_MAX + 64];
        snprintf (path, sizeof path, "%s/%s", buf, file);
        if (s_exists (path))
            return buf;
    }
    buf[0] = '\0';
    return buf;
}

/*  A file of the task's cgroup, first line.                               */
static const char *
s_cgfile (const task_t *t, const char *file, char *buf, size_t size)
{
    char dir[PATH_MAX], path[PATH_MAX + 64];
    if (!*s_cgdir (t, file, dir, sizeof dir))
        return strcpy (buf, "(no such file)");
    snprintf (path, sizeof path, "%s/%s", dir, file);
    return s_line (path, buf, size);
}

/*  True if no directory named by the task's --cgroup-procs exists.       */
static bool
s_cgroups_gone (const task_t *t)
{
    for (size_t i = 0; t->join && t->join[i]; i++) {
        if (strncmp (t->join[i], "--cgroup-procs=", 15) != 0)
            continue;
        char dir[PATH_MAX];
        snprintf (dir, sizeof dir, "%s", t->join[i] + 15);
        *strrchr (dir, '/') = '\0';
        if (s_exists (dir))
            return false;
    }
    return true;
}

/*  The pids in the task's first cgroup.procs.                             */
static size_t
s_cgpids (const task_t *t, pid_t *pids, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; t->join && t->join[i]; i++) {
        if (strncmp (t->join[i], "--cgroup-procs=", 15) != 0)
            continue;
        FILE *f = fopen (t->join[i] + 15, "re");
        int pid;
        while (f && n < max && fscanf (f, "%d", &pid) == 1)
            pids[n++] = pid;
        if (f)
            fclose (f);
        break;
    }
    return n;
}

/*  True when pid is gone or a zombie (dead, not reaped yet).              */
static bool
s_dead (pid_t pid)
{
    char path[64], buf[512];
    snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
    if (!*s_read (path, buf, sizeof buf))
        return true;
    const char *p = strrchr (buf, ')');
    return p && (p[2] == 'Z' || p[2] == 'X');
}

/*  The mount point of the controller's hierarchy (v2: the cgroup2 one).  */
static const char *
s_hierarchy (bool v2, const char *controller)
{
    static char found[PATH_MAX];
    found[0] = '\0';
    FILE *f = fopen ("/proc/self/mounts", "re");
    char dev[256], dir[PATH_MAX], type[64], opts[1024];
    while (f && !*found
           && fscanf (f, "%255s %4095s %63s %1023s %*[^\n]", dev, dir, type, opts) == 4) {
        if (v2 && strcmp (type, "cgroup2") == 0)
            snprintf (found, sizeof found, "%s", dir);
        if (!v2 && strcmp (type, "cgroup") == 0) {
            char *save = NULL;
            for (char *o = strtok_r (opts, ",", &save); o; o = strtok_r (NULL, ",", &save))
                if (strcmp (o, controller) == 0)
                    snprintf (found, sizeof found, "%s", dir);
        }
    }
    if (f)
        fclose (f);
    return found;
}

/*  Prepares container `id` and starts `cmd` (sh -c) in it under the shim,
    waiting for the shim's first line. False (with a diagnostic) if any
    step failed.                                                           */
static bool
s_start (isolator_t *iso, const char *id, const char *resources, const proto_kv_t *labels,
         const char *cmd, task_t *t)
{
    memset (t, 0, sizeof *t);
    snprintf (t->dir, sizeof t->dir, "%s/%s", s_base, id);
    if (util_mkdir_p (t->dir, 0755) < 0) {
        diag ("%s", cairn_strerror_last ());
        return false;
    }
    cairn_resources_t *r = cairn_resources_parse (resources);
    int rc = isolator_prepare (iso, id, r, labels, &t->join);
    cairn_resources_destroy (&r);
    if (rc < 0) {
        diag ("prepare %s: %s", id, cairn_strerror_last ());
        return false;
    }
    char *argv[32];
    size_t k = 0;
    char sandbox[PATH_MAX + 16], run_dir[PATH_MAX + 16];
    snprintf (sandbox, sizeof sandbox, "--sandbox=%s", t->dir);
    snprintf (run_dir, sizeof run_dir, "--run-dir=%s", t->dir);
    argv[k++] = s_shim;
    argv[k++] = sandbox;
    argv[k++] = run_dir;
    for (size_t i = 0; t->join[i] && k < 24; i++)
        argv[k++] = t->join[i];
    argv[k++] = "--";
    argv[k++] = "/bin/sh";
    argv[k++] = "-c";
    argv[k++] = (char *) cmd;
    argv[k] = NULL;
    int fds[2];
    if (pipe2 (fds, O_CLOEXEC) < 0)
        return false;
    t->shim = fork ();
    if (t->shim == 0) {
        dup2 (fds[1], 1);
        int null = open ("/dev/null", O_RDWR);
        dup2 (null, 0);
        execv (s_shim, argv);
        _exit (127);
    }
    close (fds[1]);
    size_t len = 0;
    int64_t deadline = s_now_ms () + 10000;
    while (len < sizeof t->line - 1 && !memchr (t->line, '\n', len) && s_now_ms () < deadline) {
        struct pollfd p = { fds[0], POLLIN, 0 };
        if (poll (&p, 1, 100) <= 0)
            continue;
        ssize_t n = read (fds[0], t->line + len, sizeof t->line - 1 - len);
        if (n <= 0)
            break;
        len += (size_t) n;
    }
    close (fds[0]);
    t->line[len] = '\0';
    t->line[strcspn (t->line, "\n")] = '\0';
    int pid;
    if (sscanf (t->line, "started %d", &pid) != 1) {
        diag ("the shim said '%s'", t->line);
        return false;
    }
    t->task = pid;
    return true;
}

/*  Waits up to ms for the shim to end; its status file's line into buf.  */
static const char *
s_wait (task_t *t, int ms, char *buf, size_t size)
{
    buf[0] = '\0';
    int64_t deadline = s_now_ms () + ms;
    while (t->shim > 0) {
        pid_t r = waitpid (t->shim, NULL, WNOHANG);
        if (r == t->shim || (r < 0 && errno == ECHILD))
            t->shim = 0;
        else if (s_now_ms () >= deadline)
            return strcpy (buf, "(still running)");
        else
            s_sleep_ms (10);
    }
    char path[PATH_MAX + 16];
    snprintf (path, sizeof path, "%s/status", t->dir);
    return s_line (path, buf, size);
}

/*  Kills and removes a task's container whatever happened before, so a
    failed check does not leave a cgroup or a process behind.             */
static void
s_finish (isolator_t *iso, const char *id, task_t *t)
{
    char buf[128];
    if (isolator_kill_all (iso, id, t->task) < 0)
        diag ("kill_all %s: %s", id, cairn_strerror_last ());
    s_wait (t, 5000, buf, sizeof buf);
    isolator_cleanup (iso, id);
    isolator_strv_free (&t->join);
}

static isolator_t *
s_isolator (const char *kind, const char *root, const char *agent_id, int64_t max_pids)
{
    isolator_config_t cfg = { .kind = kind, .cgroup_root = root, .max_task_pids = max_pids };
    isolator_t *iso = isolator_new (&cfg);
    if (!iso)
        diag ("isolator_new (%s): %s", kind, cairn_strerror_last ());
    else if (agent_id && isolator_set_agent_id (iso, agent_id) < 0) {
        diag ("set_agent_id (%s): %s", agent_id, cairn_strerror_last ());
        isolator_destroy (&iso);
    }
    return iso;
}

/*  The checks  */

static void
s_test_ids (isolator_t *iso)
{
    char **join = NULL;
    const char *bad[] = { "../etc", "fw/task", "0123456789AB", "0123456789a", "0123456789abc",
                          "", "supervisors" };
    bool all = true;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (isolator_prepare (iso, bad[i], NULL, NULL, &join) == 0 || errno != EINVAL) {
            diag ("'%s' was not refused with EINVAL", bad[i]);
            all = false;
            isolator_cleanup (iso, bad[i]);
            isolator_strv_free (&join);
        }
    ok (all, "container ids other than 12 hex digits are refused");
    ok (isolator_id_valid ("0123456789ab") && !isolator_id_valid ("fw/task"),
        "isolator_id_valid tells them apart");
    ok (isolator_set_agent_id (iso, "a/b") < 0 && errno == EINVAL,
        "an agent id that cannot name a cgroup is refused");
}

static void
s_test_limits (isolator_t *iso, bool v2)
{
    task_t t;
    char buf[128];
    bool started = s_start (iso, "00000000000a", "cpus:0.5;mem:64", NULL, "sleep 100", &t);
    ok (started, "a task starts in its container under the shim");
    if (v2) {
        is (s_cgfile (&t, "cpu.weight", buf, sizeof buf), "50", "cpu.weight is 100 per cpu");
        is (s_cgfile (&t, "memory.max", buf, sizeof buf), "67108864", "memory.max is mem");
        is (s_cgfile (&t, "memory.swap.max", buf, sizeof buf), "0", "memory.swap.max is 0");
        is (s_cgfile (&t, "memory.oom.group", buf, sizeof buf), "1",
            "memory.oom.group: an OOM kill takes the whole task");
        ok (strncmp (s_cgfile (&t, "cpu.max", buf, sizeof buf), "max", 3) == 0,
            "no cpu.max without a hard limit (%s)", buf);
    }
    else {
        is (s_cgfile (&t, "cpu.shares", buf, sizeof buf), "512", "cpu.shares is 1024 per cpu");
        is (s_cgfile (&t, "memory.limit_in_bytes", buf, sizeof buf), "67108864",
            "memory.limit_in_bytes is mem");
        char dir[PATH_MAX];
        if (*s_cgdir (&t, "memory.memsw.limit_in_bytes", dir, sizeof dir))
            is (s_cgfile (&t, "memory.memsw.limit_in_bytes", buf, sizeof buf), "67108864",
                "memory.memsw.limit_in_bytes is mem too: no swap");
        else
            ok (true, "# SKIP no swap accounting (memory.memsw.*) on this kernel");
        is (s_cgfile (&t, "cpu.cfs_quota_us", buf, sizeof buf), "-1",
            "no cfs quota without a hard limit");
        ok (*s_cgdir (&t, "freezer.state", dir, sizeof dir), "the task has a freezer cgroup");
    }
    /*  The shim is not in the task's cgroup: a kill there spares it.      */
    pid_t pids[64];
    size_t n = s_cgpids (&t, pids, 64);
    bool shim_inside = false, task_inside = false;
    for (size_t i = 0; i < n; i++) {
        shim_inside |= pids[i] == t.shim;
        task_inside |= pids[i] == t.task;
    }
    ok (task_inside && !shim_inside, "the task is in its cgroup, its shim is not");
    cmp_int (isolator_recover (iso, "00000000000a", t.task), ISOLATOR_POPULATED,
             "recover: the container is populated");
    s_finish (iso, "00000000000a", &t);
    cmp_int (isolator_recover (iso, "00000000000a", 0), ISOLATOR_GONE,
             "recover: gone after kill_all and cleanup");
}

/*  Not a benchmark: a figure for the log, and a check that neither call
    takes long (cgroups are created and removed in the launch path).     */
static void
s_test_cost (isolator_t *iso)
{
    cairn_resources_t *r = cairn_resources_parse ("cpus:0.5;mem:64");
    int64_t t0 = s_now_ms ();
    int failed = 0;
    for (int i = 0; i < 50; i++) {
        char **join = NULL;
        failed += isolator_prepare (iso, "0000000000ff", r, NULL, &join) < 0;
        failed += isolator_cleanup (iso, "0000000000ff") < 0;
        isolator_strv_free (&join);
    }
    double each = (double) (s_now_ms () - t0) / 50;
    cairn_resources_destroy (&r);
    ok (failed == 0 && each < 200, "50 prepares and cleanups (%.2f ms each)", each);
}

static void
s_test_oom (isolator_t *iso)
{
    task_t t;
    char buf[256];
    /*  tail keeps all of input without newlines: 128 MiB under 32 MiB.   */
    bool started = s_start (iso, "00000000000b", "cpus:1;mem:32", NULL,
                            "head -c 134217728 /dev/zero | tail >/dev/null", &t);
    ok (started, "a task that allocates 4x its memory starts");
    s_wait (&t, 30000, buf, sizeof buf);
    ok (strcmp (buf, "exited 0") != 0 && strcmp (buf, "(still running)") != 0,
        "the memory limit stops it (%s)", buf);
    isolator_usage_t u;
    int rc = isolator_usage (iso, "00000000000b", t.task, &u);
    ok (rc == 0 && u.oom_killed, "the isolator reports an OOM kill");
    cmp_int (u.mem_limit_bytes, 32 << 20, "with the limit, 32 MiB");
    ok (u.mem_peak_bytes >= (30 << 20) && u.mem_peak_bytes <= (40 << 20),
        "and a peak at the limit (%.1f MiB)", u.mem_peak_bytes / 1048576.0);
    diag ("OOM: %s; limit %" PRIu64 " MiB, peak %.1f MiB, now %.1f MiB", buf,
          u.mem_limit_bytes >> 20, u.mem_peak_bytes / 1048576.0, u.mem_bytes / 1048576.0);
    s_finish (iso, "00000000000b", &t);
}

static void
s_test_cpu (isolator_t *iso, bool v2)
{
    task_t t;
    char buf[128];
    proto_kv_t labels = { 0 };
    proto_kv_set (&labels, ISOLATOR_LABEL_CPU_HARD_LIMIT, "true");
    bool started = s_start (iso, "00000000000c", "cpus:0.25;mem:64", &labels,
                            "while :; do :; done", &t);
    proto_kv_fini (&labels);
    ok (started, "a busy loop with a 0.25-cpu hard limit starts");
    if (v2)
        is (s_cgfile (&t, "cpu.max", buf, sizeof buf), "25000 100000",
            "cpu.max is 25 ms per 100 ms");
    else
        is (s_cgfile (&t, "cpu.cfs_quota_us", buf, sizeof buf), "25000",
            "cpu.cfs_quota_us is 25 ms per 100 ms period");
    s_sleep_ms (300);
    isolator_usage_t u0, u1;
    int64_t t0 = s_now_ms ();
    int rc = isolator_usage (iso, "00000000000c", t.task, &u0);
    s_sleep_ms (2000);
    rc |= isolator_usage (iso, "00000000000c", t.task, &u1);
    double share = (u1.cpu_seconds - u0.cpu_seconds) / ((double) (s_now_ms () - t0) / 1000.0);
    ok (rc == 0 && share >= 0.15 && share <= 0.40,
        "it gets between 15%% and 40%% of a cpu (%.1f%%)", share * 100);
    diag ("cpu: %.3f s of cpu in %.3f s: %.1f%% of one cpu", u1.cpu_seconds - u0.cpu_seconds,
          (double) (s_now_ms () - t0) / 1000.0, share * 100);
    s_finish (iso, "00000000000c", &t);
}

static void
s_test_kill (isolator_t *iso)
{
    task_t t;
    char buf[128];
    /*  Children, a grandchild in a subshell and one in a new session.   */
    bool started = s_start (iso, "00000000000d", "cpus:0.1;mem:64", NULL,
                            "sleep 1000 & sleep 1000 & (sleep 1000 &) ; "
                            "setsid sleep 1000 & sleep 1000", &t);
    ok (started, "a task with children and grandchildren starts");
    pid_t pids[64];
    size_t n = 0;
    /*  Six processes, or five where the shell execs its last command.    */
    for (int i = 0; i < 100 && (n = s_cgpids (&t, pids, 64)) < 6; i++)
        s_sleep_ms (20);
    ok (n >= 5, "they are all in its cgroup (%zu processes)", n);
    ok (isolator_alive (iso, "00000000000d", t.task), "alive while they run");
    ok (isolator_signal (iso, "00000000000d", t.task, SIGSTOP) == 0,
        "isolator_signal reaches them (SIGSTOP)");
    int64_t t0 = s_now_ms ();
    int rc = isolator_kill_all (iso, "00000000000d", t.task);
    ok (rc == 0, "kill_all returns once none is left (%" PRId64 " ms)", s_now_ms () - t0);
    bool all_dead = true;
    for (size_t i = 0; i < n; i++)
        all_dead &= s_dead (pids[i]);
    ok (all_dead, "every one of them is dead");
    ok (!isolator_alive (iso, "00000000000d", t.task), "not alive after kill_all");
    is (s_wait (&t, 5000, buf, sizeof buf), "signaled 9", "the shim survives and records SIGKILL");
    cmp_int (isolator_recover (iso, "00000000000d", t.task), ISOLATOR_EMPTY,
             "recover: empty before cleanup");
    ok (isolator_cleanup (iso, "00000000000d") == 0, "cleanup removes the container");
    ok (s_cgroups_gone (&t), "no cgroup of it is left");
    ok (isolator_cleanup (iso, "00000000000d") == 0, "cleanup of a gone container is fine");
    isolator_strv_free (&t.join);
}

static void
s_test_pids (void)
{
    isolator_t *iso = s_isolator ("cgroups", s_root, "a-test-pids", 10);
    ok (iso != NULL, "an isolator with --max-task-pids=10");
    if (!iso)
        return;
    task_t t;
    char buf[512];
    bool started = s_start (iso, "00000000000e", "cpus:0.1;mem:64", NULL,
                            "i=0; while [ $i -lt 40 ]; do sleep 100 & i=$((i+1)); done; wait",
                            &t);
    ok (started, "a task forking 40 sleepers starts");
    pid_t pids[64];
    size_t n = 0, last = 99;
    for (int i = 0; i < 50 && n != last; i++) {
        last = n;
        s_sleep_ms (100);
        n = s_cgpids (&t, pids, 64);
    }
    is (s_cgfile (&t, "pids.max", buf, sizeof buf), "10", "pids.max is 10");
    ok (n >= 2 && n <= 10, "at most 10 of its processes exist (%zu)", n);
    char path[PATH_MAX + 16];
    snprintf (path, sizeof path, "%s/stderr", t.dir);
    ok (*s_line (path, buf, sizeof buf), "its shell could not fork the rest (%s)", buf);
    s_finish (iso, "00000000000e", &t);
    ok (s_cgroups_gone (&t), "kill_all and cleanup remove it");
    isolator_destroy (&iso);
}

static void
s_test_two (isolator_t *one)
{
    isolator_t *two = s_isolator ("cgroups", s_root, "a-test-two", 0);
    ok (two != NULL, "a second agent's isolator beside the first");
    if (!two)
        return;
    task_t a, b;
    char buf[128];
    bool sa = s_start (one, "0000000000a1", "cpus:0.1;mem:32", NULL, "sleep 1000", &a);
    bool sb = s_start (two, "0000000000b1", "cpus:0.1;mem:32", NULL, "sleep 1000", &b);
    ok (sa && sb, "each runs a task");
    char **l1 = isolator_list (one), **l2 = isolator_list (two);
    ok (l1 && l2 && l1[0] && !l1[1] && l2[0] && !l2[1] && strcmp (l1[0], "0000000000a1") == 0
        && strcmp (l2[0], "0000000000b1") == 0, "each lists only its own container");
    isolator_strv_free (&l1);
    isolator_strv_free (&l2);
    ok (isolator_kill_all (two, "0000000000a1", a.task) == 0 && !s_dead (a.task),
        "the second cannot kill the first's container (it is not in its subtree)");
    ok (isolator_kill_all (one, "0000000000a1", a.task) == 0 && s_dead (a.task)
        && !s_dead (b.task) && isolator_alive (two, "0000000000b1", b.task),
        "killing the first's task leaves the second's running");
    s_finish (one, "0000000000a1", &a);
    ok (!s_cgroups_gone (&b), "removing the first's container leaves the second's");
    s_wait (&b, 10, buf, sizeof buf);
    s_finish (two, "0000000000b1", &b);
    ok (s_cgroups_gone (&b), "the second's is removed too");
    isolator_destroy (&two);
}

/*  An agent restart: a new isolator with the same agent id finds the
    running container, kills and removes it.                               */
static void
s_test_recover (void)
{
    isolator_t *iso = s_isolator ("cgroups", s_root, "a-test-restart", 0);
    task_t t;
    bool started = iso && s_start (iso, "0000000000c1", "cpus:0.1;mem:32", NULL, "sleep 1000", &t);
    ok (started, "a task runs under the first agent process");
    if (!started) {
        isolator_destroy (&iso);
        return;
    }
    isolator_destroy (&iso);
    ok (!s_dead (t.task), "it survives the agent's isolator");
    iso = s_isolator ("cgroups", s_root, "a-test-restart", 0);
    cmp_int (iso ? isolator_recover (iso, "0000000000c1", t.task) : -1, ISOLATOR_POPULATED,
             "the restarted agent's isolator finds it populated");
    char **ids = iso ? isolator_list (iso) : NULL;
    ok (ids && ids[0] && strcmp (ids[0], "0000000000c1") == 0 && !ids[1],
        "and lists it");
    isolator_strv_free (&ids);
    if (iso) {
        s_finish (iso, "0000000000c1", &t);
        cmp_int (isolator_recover (iso, "0000000000c1", 0), ISOLATOR_GONE, "then it is gone");
    }
    isolator_destroy (&iso);
}

/*  v2: the agent process sits in a non-root cgroup that holds another
    process; its subtree at the top still gets controllers.               */
static void
s_test_v2_outer (const char *mount)
{
    char outer[PATH_MAX], procs[PATH_MAX + 16], self_cg[PATH_MAX], back[PATH_MAX + 32];
    snprintf (outer, sizeof outer, "%s/%s-outer", mount, s_root);
    snprintf (procs, sizeof procs, "%s/cgroup.procs", outer);
    FILE *f = fopen ("/proc/self/cgroup", "re");
    self_cg[0] = '\0';
    char line[PATH_MAX];
    while (f && fgets (line, sizeof line, f))
        if (strncmp (line, "0::", 3) == 0)
            snprintf (self_cg, sizeof self_cg, "%s", line + 3);
    if (f)
        fclose (f);
    self_cg[strcspn (self_cg, "\n")] = '\0';
    snprintf (back, sizeof back, "%s%s/cgroup.procs", mount, self_cg);
    pid_t sleeper = fork ();
    if (sleeper == 0) {
        execl ("/bin/sh", "sh", "-c", "exec sleep 1000", (char *) NULL);
        _exit (127);
    }
    char pid[32];
    snprintf (pid, sizeof pid, "%d", (int) sleeper);
    bool moved = mkdir (outer, 0755) == 0 && s_write (procs, pid) == 0 && s_write (procs, "0") == 0;
    ok (moved, "the agent and another process share the non-root cgroup %s", outer);
    isolator_t *iso = moved ? s_isolator ("cgroups", s_root, "a-test-outer", 0) : NULL;
    ok (iso != NULL, "an isolator starts there");
    task_t t;
    char buf[128];
    if (iso && s_start (iso, "0000000000d1", "cpus:0.5;mem:48", NULL, "sleep 100", &t)) {
        is (s_cgfile (&t, "memory.max", buf, sizeof buf), "50331648",
            "its task gets its memory.max");
        s_finish (iso, "0000000000d1", &t);
        ok (s_cgroups_gone (&t), "and is removed");
    }
    else
        ok (false, "its task starts");
    isolator_destroy (&iso);
    kill (sleeper, SIGKILL);
    waitpid (sleeper, NULL, 0);
    ok (s_write (back, "0") == 0 && rmdir (outer) == 0, "the test's process moves back");
}

/*  v2 under a delegated cgroup (systemd Delegate=yes marks it with the
    trusted.delegate attribute): the agent moves itself into a leaf of its
    subtree before enabling controllers. In a child, which moves.          */
static void
s_test_v2_delegated (const char *mount)
{
    char deleg[PATH_MAX];
    snprintf (deleg, sizeof deleg, "%s/%s-deleg", mount, s_root);
    if (mkdir (deleg, 0755) < 0 || setxattr (deleg, "trusted.delegate", "1", 1, 0) < 0) {
        ok (true, "# SKIP cannot mark a cgroup delegated here: %s", strerror (errno));
        rmdir (deleg);
        return;
    }
    int fds[2];
    if (pipe (fds) < 0)
        return;
    pid_t child = fork ();
    if (child == 0) {
        close (fds[0]);
        char procs[PATH_MAX + 16], report[1024] = "";
        snprintf (procs, sizeof procs, "%s/cgroup.procs", deleg);
        isolator_t *iso = NULL;
        task_t t;
        char buf[128];
        if (s_write (procs, "0") < 0)
            snprintf (report, sizeof report, "cannot join %s", deleg);
        else if (!(iso = s_isolator ("cgroups", "cairn", "a-test-deleg", 0)))
            snprintf (report, sizeof report, "isolator: %s", cairn_strerror_last ());
        else if (!s_start (iso, "0000000000e1", "cpus:0.5;mem:40", NULL, "sleep 100", &t))
            snprintf (report, sizeof report, "the task did not start");
        else {
            char self[PATH_MAX];
            FILE *f = fopen ("/proc/self/cgroup", "re");
            self[0] = '\0';
            while (f && fgets (self, sizeof self, f) && strncmp (self, "0::", 3) != 0)
                ;
            if (f)
                fclose (f);
            self[strcspn (self, "\n")] = '\0';
            char want[PATH_MAX];
            snprintf (want, sizeof want, "0::/%s-deleg/cairn/a-test-deleg/agent", s_root);
            if (strcmp (self, want) != 0)
                snprintf (report, sizeof report, "the agent is in %s, not %s", self, want);
            else if (strcmp (s_cgfile (&t, "memory.max", buf, sizeof buf), "41943040") != 0)
                snprintf (report, sizeof report, "memory.max is %s", buf);
            s_finish (iso, "0000000000e1", &t);
            if (!*report && !s_cgroups_gone (&t))
                snprintf (report, sizeof report, "the task's cgroup was not removed");
        }
        isolator_destroy (&iso);
        if (write (fds[1], report, strlen (report)) < 0)
            _exit (2);
        _exit (0);
    }
    close (fds[1]);
    char report[1024];
    ssize_t n = read (fds[0], report, sizeof report - 1);
    close (fds[0]);
    report[n > 0 ? n : 0] = '\0';
    int status;
    waitpid (child, &status, 0);
    ok (WIFEXITED (status) && WEXITSTATUS (status) == 0 && !*report,
        "in a delegated cgroup the agent moves into its own leaf and runs tasks%s%s",
        *report ? ": " : "", report);
    const char *leaves[] = { "cairn/a-test-deleg/agent", "cairn/a-test-deleg/supervisors",
                             "cairn/a-test-deleg", "cairn", "" };
    for (size_t i = 0; i < 5; i++) {
        char path[PATH_MAX + 64];
        snprintf (path, sizeof path, "%s/%s", deleg, leaves[i]);
        rmdir (path);
    }
    ok (!s_exists (deleg), "the delegated cgroup is removed");
}

/*  posix as an unprivileged user: run in a child that drops to nobody
    when we are root; it reports "0|1 description" lines on a pipe.        */
static void
s_report (int fd, bool pass, const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));
static void
s_report (int fd, bool pass, const char *fmt, ...)
{
    char text[600];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (text, sizeof text, fmt, ap);
    va_end (ap);
    dprintf (fd, "%d %s\n", pass ? 1 : 0, text);
}

static void
s_posix_child (int fd)
{
    isolator_t *auto_iso = s_isolator ("auto", s_root, NULL, 0);
    s_report (fd, auto_iso && strcmp (isolator_name (auto_iso), "posix") == 0,
              "posix: auto falls back to posix without cgroup rights (%s)",
              auto_iso ? isolator_name (auto_iso) : cairn_strerror_last ());
    isolator_destroy (&auto_iso);
    isolator_t *cg = s_isolator ("cgroups", s_root, NULL, 0);
    s_report (fd, !cg && strstr (cairn_strerror_last (), "cgroups are not usable"),
              "posix: --isolation=cgroups is an error that says why (%s)",
              cg ? "it started" : cairn_strerror_last ());
    isolator_destroy (&cg);
    isolator_t *iso = s_isolator ("posix", NULL, "a-test-posix", 0);
    task_t t;
    char buf[256];
    bool started = iso && s_start (iso, "0000000000f1", "cpus:0.1;mem:64", NULL,
                                   "ulimit -d; sleep 1000 & sleep 1000 & sleep 1000", &t);
    s_report (fd, started, "posix: a task starts under the shim as uid %d", (int) getuid ());
    if (!started) {
        isolator_destroy (&iso);
        return;
    }
    for (int i = 0; i < 100 && !*buf; i++) {
        char path[PATH_MAX + 16];
        snprintf (path, sizeof path, "%s/stdout", t.dir);
        s_line (path, buf, sizeof buf);
        s_sleep_ms (20);
    }
    s_report (fd, strcmp (buf, "65536") == 0, "posix: RLIMIT_DATA is its mem (ulimit -d: %s KiB)",
              buf);
    isolator_usage_t u;
    int rc = isolator_usage (iso, "0000000000f1", t.task, &u);
    s_report (fd, rc == 0 && u.mem_limit_bytes == 64 << 20 && u.mem_bytes > 0,
              "posix: usage from /proc (limit %" PRIu64 " MiB, rss %" PRIu64 " KiB)",
              u.mem_limit_bytes >> 20, u.mem_bytes >> 10);
    s_report (fd, isolator_alive (iso, "0000000000f1", t.task), "posix: alive while it runs");
    s_report (fd, isolator_kill_all (iso, "0000000000f1", t.task) == 0
              && !isolator_alive (iso, "0000000000f1", t.task),
              "posix: kill_all leaves no process of its group");
    s_report (fd, strcmp (s_wait (&t, 5000, buf, sizeof buf), "signaled 9") == 0,
              "posix: the shim records SIGKILL (%s)", buf);
    isolator_cleanup (iso, "0000000000f1");
    isolator_strv_free (&t.join);
    isolator_destroy (&iso);
}

static void
s_test_posix (void)
{
    char home[PATH_MAX + 16];
    snprintf (home, sizeof home, "%s/posix", s_tmp);
    bool root = geteuid () == 0;
    if (mkdir (home, 0755) < 0 || (root && chown (home, NOBODY, NOBODY) < 0)) {
        ok (false, "a directory for the unprivileged user: %s", strerror (errno));
        return;
    }
    if (root) {
        char copy[PATH_MAX + 32];
        snprintf (copy, sizeof copy, "%s/cairn-shim", home);
        size_t size;
        char *bytes = util_read_file (s_shim, 64 << 20, &size);
        if (!bytes || util_write_file (copy, bytes, size, 0755) < 0)
            diag ("cannot copy the shim: %s", cairn_strerror_last ());
        free (bytes);
    }
    int fds[2];
    if (pipe (fds) < 0)
        return;
    fflush (stdout);
    pid_t child = fork ();
    if (child == 0) {
        close (fds[0]);
        if (root && (setgroups (0, NULL) < 0 || setgid (NOBODY) < 0 || setuid (NOBODY) < 0)) {
            s_report (fds[1], false, "posix: drop to uid %d: %s", NOBODY, strerror (errno));
            _exit (1);
        }
        /*  Its tasks' directories go where it may write; the shim is the
            built one, or its copy where the build tree is out of reach.  */
        snprintf (s_base, sizeof s_base, "%s", home);
        if (access (s_shim, X_OK) < 0)
            snprintf (s_shim, sizeof s_shim, "%s/cairn-shim", home);
        s_posix_child (fds[1]);
        _exit (0);
    }
    close (fds[1]);
    FILE *f = fdopen (fds[0], "r");
    char line[700];
    int got = 0;
    while (f && fgets (line, sizeof line, f)) {
        line[strcspn (line, "\n")] = '\0';
        ok (line[0] == '1', "%s", line + 2);
        got++;
    }
    if (f)
        fclose (f);
    int status;
    waitpid (child, &status, 0);
    ok (got >= 8 && WIFEXITED (status) && WEXITSTATUS (status) == 0,
        "the unprivileged child ran all its checks (%d)", got);
}

int
main (void)
{
    log_init ("isolator-test", getenv ("CAIRN_TEST_VERBOSE") ? "debug" : "error", "stderr");
    signal (SIGPIPE, SIG_IGN);
    const char *builddir = getenv ("CAIRN_BUILDDIR");
    snprintf (s_shim, sizeof s_shim, "%s/agent/cairn-shim", builddir ? builddir : "../..");
    if (access (s_shim, X_OK) < 0) {
        printf ("1..0 # SKIP no cairn-shim at %s (set CAIRN_BUILDDIR)\n", s_shim);
        return 0;
    }
    if (!mkdtemp (s_tmp) || chmod (s_tmp, 0755) < 0)
        return 1;
    snprintf (s_root, sizeof s_root, "cairn-test-%d", (int) getpid ());
    snprintf (s_base, sizeof s_base, "%s", s_tmp);

    s_test_posix ();

    if (geteuid () != 0) {
        ok (true, "# SKIP the cgroup checks need root");
        util_remove_tree (s_tmp);
        return done_testing ();
    }
    isolator_t *iso = s_isolator ("cgroups", s_root, NULL, 0);
    if (!iso) {
        ok (true, "# SKIP cgroups are not usable here: %s", cairn_strerror_last ());
        util_remove_tree (s_tmp);
        return done_testing ();
    }
    bool v2 = strcmp (isolator_name (iso), "cgroups-v2") == 0;
    diag ("isolation: %s, under cgroup root %s", isolator_name (iso), s_root);
    char **join = NULL;
    ok (isolator_prepare (iso, "000000000001", NULL, NULL, &join) < 0 && errno == EAGAIN,
        "no container before the agent id is known");
    ok (isolator_set_agent_id (iso, "a-test-one") == 0, "the agent id sets up its subtree");
    ok (isolator_set_agent_id (iso, "a-test-one") == 0, "the same id again is fine");
    char **join2 = NULL;
    ok (isolator_prepare (iso, "000000000001", NULL, NULL, &join2) == 0
        && isolator_set_agent_id (iso, "a-other") < 0 && errno == EBUSY,
        "another id is refused while a container exists");
    isolator_cleanup (iso, "000000000001");
    isolator_strv_free (&join2);
    char old_dir[PATH_MAX + 64];
    snprintf (old_dir, sizeof old_dir, "%s/%s/a-test-one", s_hierarchy (v2, "memory"), s_root);
    ok (s_exists (old_dir) && isolator_set_agent_id (iso, "a-other") == 0 && !s_exists (old_dir),
        "with none it replaces the old subtree (%s)", old_dir);
    ok (isolator_set_agent_id (iso, "a-test-one") == 0, "and back");
    s_test_ids (iso);
    s_test_limits (iso, v2);
    s_test_cost (iso);
    s_test_oom (iso);
    s_test_cpu (iso, v2);
    s_test_kill (iso);
    s_test_pids ();
    s_test_two (iso);
    s_test_recover ();
    char mount[PATH_MAX] = "";
    if (v2) {
        snprintf (mount, sizeof mount, "%s", s_hierarchy (true, NULL));
        s_test_v2_outer (mount);
        s_test_v2_delegated (mount);
    }
    else
        ok (true, "# SKIP the v2 placement checks (agent in a busy or delegated cgroup) "
            "need cgroup v2 controllers");
    isolator_destroy (&iso);

    /*  Nothing left: no <mount>/cairn-test-<pid>* in any hierarchy.       */
    FILE *f = fopen ("/proc/self/mounts", "re");
    char dev[256], dir[PATH_MAX], type[64];
    int left = 0;
    while (f && fscanf (f, "%255s %4095s %63s %*[^\n]", dev, dir, type) == 3) {
        if (strcmp (type, "cgroup") != 0 && strcmp (type, "cgroup2") != 0)
            continue;
        const char *suffix[] = { "", "-outer", "-deleg" };
        for (size_t i = 0; i < 3; i++) {
            char path[PATH_MAX + 128];
            snprintf (path, sizeof path, "%s/%s%s", dir, s_root, suffix[i]);
            if (s_exists (path)) {
                diag ("left behind: %s", path);
                left++;
            }
        }
    }
    if (f)
        fclose (f);
    ok (left == 0, "every cgroup the test created is gone");
    util_remove_tree (s_tmp);
    return done_testing ();
}
