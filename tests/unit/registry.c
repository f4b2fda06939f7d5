/*  registry.c - unit test of the master's durable registry (registry.h).

    Each test works in a fresh temporary directory, as the master's
    --work-dir. It reads as the master uses the registry: open, load,
    record admissions and removals, commit once per loop pass, close.
    Then the failures an operator may meet: a crash between commits, a
    second master on the same directory, a corrupt file, another
    program's database, a file from a newer cairn-master, a directory it
    cannot write.

    fdatasync and fsync are interposed (below) to count the syncs SQLite
    makes, so the test can check that a commit costs a few syncs however
    many changes it carries, and none while changes are buffered.         */
#include "config.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cairn.h"
#include "error.h"
#include "registry.h"
#include "tap.h"

/*  ------------------------------------------------------------------ */
/*  Plumbing                                                            */
/*  ------------------------------------------------------------------ */

static int s_syncs;                     /* fdatasync + fsync calls so far */

int
fdatasync (int fd)
{
    s_syncs++;
    return (int) syscall (SYS_fdatasync, fd);
}

int
fsync (int fd)
{
    s_syncs++;
    return (int) syscall (SYS_fsync, fd);
}

static char *
s_tempdir (void)
{
    const char *tmp = getenv ("TMPDIR");
    char *dir = xasprintf ("%s/cairn-registry-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp (dir)) {
        printf ("Bail out! mkdtemp %s: %s\n", dir, strerror (errno));
        exit (1);
    }
    return dir;
}

static void
s_rmtree (char *dir)
{
    char *cmd = xasprintf ("rm -rf '%s'", dir);
    if (system (cmd) != 0)
        diag ("could not remove %s", dir);
    free (cmd);
    free (dir);
}

static char *
s_db_path (const char *dir)
{
    return xasprintf ("%s/registry.db", dir);
}

static bool
s_contains (const char *haystack, const char *needle)
{
    return haystack && strstr (haystack, needle) != NULL;
}

/*  What registry_load reported, copied.                                   */
typedef struct {
    char id[64], hostname[64], http_address[64], gone_reason[128];
    registry_agent_state_t state;
    double admitted_at, gone_at;
    bool has_reason;
    bool draining;
    int64_t drain_grace_ms;
    double drain_since;
} loaded_t;

typedef struct {
    loaded_t *agents;
    int count;
    int size;
} loaded_list_t;

static void
s_collect (const registry_agent_t *agent, void *arg)
{
    loaded_list_t *list = arg;
    if (list->count == list->size) {
        list->size = list->size ? 2 * list->size : 16;
        list->agents = xrealloc (list->agents, list->size * sizeof *list->agents);
    }
    loaded_t *l = &list->agents[list->count++];
    memset (l, 0, sizeof *l);
    snprintf (l->id, sizeof l->id, "%s", agent->id);
    snprintf (l->hostname, sizeof l->hostname, "%s", agent->hostname);
    snprintf (l->http_address, sizeof l->http_address, "%s", agent->http_address);
    l->state = agent->state;
    l->admitted_at = agent->admitted_at;
    l->gone_at = agent->gone_at;
    l->has_reason = agent->gone_reason != NULL;
    l->draining = agent->draining;
    l->drain_grace_ms = agent->drain_grace_ms;
    l->drain_since = agent->drain_since;
    if (agent->gone_reason)
        snprintf (l->gone_reason, sizeof l->gone_reason, "%s", agent->gone_reason);
}

static const loaded_t *
s_find (const loaded_list_t *list, const char *id)
{
    for (int i = 0; i < list->count; i++)
        if (strcmp (list->agents[i].id, id) == 0)
            return &list->agents[i];
    return NULL;
}

/*  Opens DIR's registry and loads it into *list (count -1 on failure).    */
static void
s_reload (const char *dir, loaded_list_t *list)
{
    free (list->agents);
    list->agents = NULL;
    list->count = 0;
    list->size = 0;
    registry_t *registry = registry_open (dir);
    if (!registry) {
        diag ("registry_open: %s", cairn_strerror_last ());
        list->count = -1;
        return;
    }
    if (registry_load (registry, s_collect, list) < 0) {
        diag ("registry_load: %s", cairn_strerror_last ());
        list->count = -1;
    }
    registry_close (&registry);
}

/*  Runs SQL on DIR's registry.db directly, as another program would.      */
static int
s_raw_sql (const char *dir, const char *sql)
{
    char *path = s_db_path (dir);
    sqlite3 *db = NULL;
    int rc = sqlite3_open (path, &db);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec (db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        diag ("sqlite: %s: %s", path, sqlite3_errmsg (db));
    sqlite3_close (db);
    free (path);
    return rc == SQLITE_OK ? 0 : -1;
}

static void
s_write_file (const char *path, const void *data, size_t size, off_t offset)
{
    int fd = open (path, O_WRONLY | O_CREAT, 0644);
    if (fd < 0 || pwrite (fd, data, size, offset) != (ssize_t) size)
        printf ("Bail out! writing %s: %s\n", path, strerror (errno)), exit (1);
    close (fd);
}

/*  ------------------------------------------------------------------ */
/*  The registry as the master uses it                                  */
/*  ------------------------------------------------------------------ */

static void
test_roundtrip (void)
{
    char *dir = s_tempdir ();
    registry_t *registry = registry_open (dir);
    if (!ok (registry != NULL, "open creates registry.db in an empty directory"))
        diag ("%s", cairn_strerror_last ());
    if (!registry)
        goto done;
    char *path = s_db_path (dir);
    is (registry_path (registry), path, "registry_path names the file");
    free (path);
    loaded_list_t list = { 0 };
    cmp_int (registry_load (registry, s_collect, &list), 0, "a new registry has no agents");
    ok (!registry_dirty (registry), "and nothing to commit");
    cmp_int (registry_commit (registry), 0, "so commit has nothing to do");

    ok (registry_admit_agent (registry, "a1", "host1", "10.0.0.1:5052", 1000.25) == 0
        && registry_admit_agent (registry, "a2", "host2", "10.0.0.2:5052", 1001.5) == 0
        && registry_admit_agent (registry, "a3", "host3", "10.0.0.3:5052", 1002.75) == 0,
        "admit three agents");
    ok (registry_mark_gone (registry, "a2", "unreachable for 75s", 2000.125) == 0,
        "mark one gone");
    ok (registry_dirty (registry), "changes are pending");
    cmp_int (registry_stats (registry)->pending, 4, "four changes pending");
    cmp_int (registry_commit (registry), 4, "one commit carries all four");
    ok (!registry_dirty (registry), "nothing pending after the commit");
    cmp_int (registry_stats (registry)->commits, 1, "commits: 1");
    cmp_int (registry_stats (registry)->changes, 4, "changes: 4");
    ok (registry_stats (registry)->last_commit_us >= 0
        && registry_stats (registry)->commit_us_total >= registry_stats (registry)->last_commit_us,
        "commit durations are recorded");

    /*  An agent re-registering with the same addresses changes nothing,
        so a reregistration storm after a restart costs no commit.       */
    cmp_int (registry_admit_agent (registry, "a1", "host1", "10.0.0.1:5052", 3000), 0,
             "admitting a known agent again with the same addresses succeeds");
    ok (!registry_dirty (registry), "and changes nothing");
    cmp_int (registry_commit (registry), 0, "so commit writes nothing");
    cmp_int (registry_stats (registry)->commits, 1, "and does not count");
    cmp_int (registry_admit_agent (registry, "a3", "host3b", "10.0.0.33:5052", 3000), 0,
             "admitting a known agent with new addresses succeeds");
    cmp_int (registry_commit (registry), 1, "and is one change");
    registry_close (&registry);
    ok (registry == NULL, "close nulls the pointer");
    registry_close (&registry);         /* idempotent */

    s_reload (dir, &list);
    cmp_int (list.count, 3, "after reopening, all three agents are there");
    const loaded_t *a1 = s_find (&list, "a1"), *a2 = s_find (&list, "a2"),
                   *a3 = s_find (&list, "a3");
    ok (a1 && a1->state == REGISTRY_AGENT_ADMITTED && strcmp (a1->hostname, "host1") == 0
        && strcmp (a1->http_address, "10.0.0.1:5052") == 0 && a1->admitted_at == 1000.25
        && a1->gone_at == 0 && !a1->has_reason,
        "a1: admitted, addresses and admission time kept");
    ok (a2 && a2->state == REGISTRY_AGENT_GONE && a2->admitted_at == 1001.5
        && a2->gone_at == 2000.125 && strcmp (a2->gone_reason, "unreachable for 75s") == 0,
        "a2: gone, with its time and reason");
    ok (a3 && a3->state == REGISTRY_AGENT_ADMITTED && strcmp (a3->hostname, "host3b") == 0
        && strcmp (a3->http_address, "10.0.0.33:5052") == 0 && a3->admitted_at == 1002.75,
        "a3: new addresses, first admission time");
    ok (list.count == 3 && strcmp (list.agents[0].id, "a1") == 0
        && strcmp (list.agents[2].id, "a3") == 0, "loaded in id order");
    free (list.agents);
done:
    s_rmtree (dir);
}

static void
test_gone_is_final (void)
{
    char *dir = s_tempdir ();
    registry_t *registry = registry_open (dir);
    if (!ok (registry != NULL, "open"))
        goto done;
    registry_admit_agent (registry, "g1", "h", "a:1", 10);
    registry_admit_agent (registry, "g2", "h", "a:2", 10);
    registry_mark_gone (registry, "g1", "removed by operator", 20);
    cmp_int (registry_commit (registry), 3, "admit two, mark one gone");

    errno = 0;
    cmp_int (registry_admit_agent (registry, "g1", "h", "a:1", 30), -1,
             "admitting a gone agent again fails");
    cmp_int (errno, EPERM, "with EPERM");
    ok (s_contains (cairn_strerror_last (), "g1") && s_contains (cairn_strerror_last (), "gone")
        && s_contains (cairn_strerror_last (), "registry.db"),
        "and a message naming the file, the agent and why: %s", cairn_strerror_last ());
    ok (!registry_dirty (registry), "the refusal changed nothing");
    cmp_int (registry_mark_gone (registry, "g1", "second reason", 40), 0,
             "marking a gone agent gone again succeeds");
    ok (!registry_dirty (registry), "and changes nothing (the first decision stands)");
    errno = 0;
    ok (registry_mark_gone (registry, "nope", "x", 40) == -1 && errno == ENOENT,
        "marking an unknown agent gone fails with ENOENT: %s", cairn_strerror_last ());
    errno = 0;
    ok (registry_forget_agent (registry, "g2") == -1 && errno == EBUSY,
        "forgetting an admitted agent fails with EBUSY: %s", cairn_strerror_last ());
    errno = 0;
    ok (registry_forget_agent (registry, "nope") == -1 && errno == ENOENT,
        "forgetting an unknown agent fails with ENOENT");
    ok (!registry_dirty (registry), "none of the refusals changed anything");

    /*  A failed change in the middle of a batch leaves the batch intact.  */
    registry_admit_agent (registry, "g3", "h", "a:3", 50);
    ok (registry_admit_agent (registry, "g1", "h", "a:1", 50) == -1,
        "a refused change in the middle of a batch");
    registry_admit_agent (registry, "g4", "h", "a:4", 50);
    cmp_int (registry_commit (registry), 2, "does not disturb the rest of the batch");
    registry_close (&registry);

    loaded_list_t list = { 0 };
    s_reload (dir, &list);
    const loaded_t *g1 = s_find (&list, "g1");
    ok (list.count == 4 && g1 && g1->state == REGISTRY_AGENT_GONE && g1->gone_at == 20
        && strcmp (g1->gone_reason, "removed by operator") == 0,
        "after reopening, g1 is still gone with its first reason");

    registry = registry_open (dir);
    if (registry) {
        ok (registry_admit_agent (registry, "g1", "h", "a:1", 60) == -1 && errno == EPERM,
            "gone survives a restart: g1 is still refused");
        cmp_int (registry_forget_agent (registry, "g1"), 0, "forgetting a gone agent");
        cmp_int (registry_commit (registry), 1, "is one change");
        registry_close (&registry);
    }
    s_reload (dir, &list);
    ok (list.count == 3 && !s_find (&list, "g1"), "a forgotten agent is not loaded");
    free (list.agents);
done:
    s_rmtree (dir);
}

/*  ------------------------------------------------------------------ */
/*  Crashes and group commit                                            */
/*  ------------------------------------------------------------------ */

static void
test_crash (void)
{
    char *dir = s_tempdir ();
    fflush (stdout);
    pid_t pid = fork ();
    if (pid == 0) {
        /*  The "master": commits c1..c5, then records more and dies
            without committing or closing, as a kill -9 would leave it.   */
        registry_t *registry = registry_open (dir);
        if (!registry)
            _exit (10);
        char id[16];
        for (int i = 1; i <= 5; i++) {
            snprintf (id, sizeof id, "c%d", i);
            if (registry_admit_agent (registry, id, "h", "a:1", 100 + i) < 0)
                _exit (11);
        }
        if (registry_commit (registry) != 5)
            _exit (12);
        for (int i = 6; i <= 10; i++) {
            snprintf (id, sizeof id, "c%d", i);
            if (registry_admit_agent (registry, id, "h", "a:1", 100 + i) < 0)
                _exit (13);
        }
        if (registry_mark_gone (registry, "c1", "lost", 200) < 0
            || registry_forget_agent (registry, "c1") < 0)
            _exit (14);
        _exit (0);
    }
    int status = -1;
    waitpid (pid, &status, 0);
    ok (WIFEXITED (status) && WEXITSTATUS (status) == 0,
        "a child commits five agents, records more, and exits without committing"
        " (status %d)", status);

    loaded_list_t list = { 0 };
    s_reload (dir, &list);
    cmp_int (list.count, 5, "after the crash, exactly the committed agents are there");
    bool all = true;
    for (int i = 1; i <= 5; i++) {
        char id[16];
        snprintf (id, sizeof id, "c%d", i);
        const loaded_t *a = s_find (&list, id);
        all = all && a && a->state == REGISTRY_AGENT_ADMITTED && a->admitted_at == 100 + i;
    }
    ok (all, "c1..c5 admitted, with their times; c1 not gone, not forgotten");
    ok (!s_find (&list, "c6") && !s_find (&list, "c10"), "c6..c10 (never committed) are lost");
    free (list.agents);
    s_rmtree (dir);
}

static void
test_group_commit (void)
{
    char *dir = s_tempdir ();
    registry_t *registry = registry_open (dir);
    if (!ok (registry != NULL, "open"))
        goto done;
    const int n = 10000;
    int syncs_before = s_syncs;
    int failed = 0;
    for (int i = 0; i < n; i++) {
        char id[32], host[32];
        snprintf (id, sizeof id, "agent-%05d", i);
        snprintf (host, sizeof host, "host%05d", i);
        if (registry_admit_agent (registry, id, host, "10.1.2.3:5052", 5000 + i) < 0)
            failed++;
    }
    cmp_int (failed, 0, "%d admissions recorded", n);
    cmp_int (s_syncs - syncs_before, 0, "without a single fsync");
    int syncs_at_commit = s_syncs;
    cmp_int (registry_commit (registry), n, "one commit carries them all");
    int batch_syncs = s_syncs - syncs_at_commit;
    cmp_int (registry_stats (registry)->commits, 1, "commits: 1");
    cmp_int (registry_stats (registry)->changes, n, "changes: %d", n);
    /*  One fdatasync of the WAL, plus a few when the commit also crosses
        the checkpoint threshold (WAL and main file) or the WAL restarts. */
    ok (batch_syncs >= 1 && batch_syncs <= 4,
        "the commit synced to disk a few times, not per change (%d syncs, %" PRId64 " us)",
        batch_syncs, registry_stats (registry)->last_commit_us);

    syncs_at_commit = s_syncs;
    registry_admit_agent (registry, "one-more", "h", "a:1", 1);
    cmp_int (registry_commit (registry), 1, "a commit of one change");
    int single_syncs = s_syncs - syncs_at_commit;
    ok (single_syncs >= 1 && single_syncs <= 4,
        "syncs too: a commit is durable whatever its size (%d syncs)", single_syncs);
    registry_close (&registry);

    loaded_list_t list = { 0 };
    s_reload (dir, &list);
    cmp_int (list.count, n + 1, "all of them load after reopening");
    free (list.agents);
done:
    s_rmtree (dir);
}

/*  Runs fn (dir) in a child process, whose checks count as ours. The
    child ends with exit (), so LeakSanitizer checks it too.               */
static void
s_in_child (void (*fn) (const char *dir), const char *dir, const char *what)
{
    int pipefd[2];
    if (pipe (pipefd) < 0)
        printf ("Bail out! pipe: %s\n", strerror (errno)), exit (1);
    fflush (stdout);
    pid_t pid = fork ();
    if (pid == 0) {
        close (pipefd[0]);
        int first = tap_n, failed = tap_failed;
        fn (dir);
        dprintf (pipefd[1], "%d %d", tap_n - first, tap_failed - failed);
        close (pipefd[1]);
        fflush (stdout);
        exit (0);
    }
    close (pipefd[1]);
    char buf[64] = "";
    ssize_t len = read (pipefd[0], buf, sizeof buf - 1);
    buf[len > 0 ? len : 0] = '\0';
    close (pipefd[0]);
    int status = -1, ran = 0, failed = 0;
    waitpid (pid, &status, 0);
    if (sscanf (buf, "%d %d", &ran, &failed) == 2) {
        tap_n += ran;
        tap_failed += failed;
    }
    ok (WIFEXITED (status) && WEXITSTATUS (status) == 0 && ran > 0,
        "%s: the child process ran %d checks and exited cleanly (status %d)", what, ran,
        status);
}

/*  Limits the size of files this process writes to what WAL has now plus
    `extra` bytes; SIGXFSZ is ignored, so writes beyond fail with EFBIG. */
static void
s_limit_file_size (const char *dir, off_t extra, struct rlimit *old)
{
    char *wal = xasprintf ("%s/registry.db-wal", dir);
    struct stat st = { 0 };
    stat (wal, &st);
    free (wal);
    signal (SIGXFSZ, SIG_IGN);
    getrlimit (RLIMIT_FSIZE, old);
    struct rlimit small = { .rlim_cur = (rlim_t) (st.st_size + extra), .rlim_max = old->rlim_max };
    setrlimit (RLIMIT_FSIZE, &small);
}

/*  In a child: a commit that cannot be written (the file size limit
    stands for a full disk) fails, and none of its batch is recorded.     */
static void
s_failed_commit (const char *dir)
{
    registry_t *registry = registry_open (dir);
    if (!ok (registry != NULL, "open"))
        return;
    registry_admit_agent (registry, "before", "h", "a:1", 1);
    cmp_int (registry_commit (registry), 1, "commit one agent");
    struct rlimit old;
    s_limit_file_size (dir, 4096, &old);
    int failed = 0;
    for (int i = 0; i < 200; i++) {
        char id[64];
        snprintf (id, sizeof id, "batch-%03d-with-a-long-enough-id", i);
        failed += registry_admit_agent (registry, id, "some-hostname", "10.0.0.1:5052", 2) < 0;
    }
    cmp_int (failed, 0, "record 200 more (in memory: no write fails yet)");
    errno = 0;
    cmp_int (registry_commit (registry), -1, "the disk is \"full\": their commit fails");
    ok (errno != 0 && s_contains (cairn_strerror_last (), "registry.db"),
        "with errno %d and a message naming the file: %s", errno, cairn_strerror_last ());
    setrlimit (RLIMIT_FSIZE, &old);
    ok (!registry_dirty (registry), "the batch is dropped, not left pending");
    registry_admit_agent (registry, "after", "h", "a:1", 3);
    cmp_int (registry_commit (registry), 1, "with space again, the next batch commits");
    cmp_int (registry_stats (registry)->failures, 1, "failures: 1");
    registry_close (&registry);
}

/*  In a child: when a write fails in the middle of a batch (the batch no
    longer fits in SQLite's cache, so it spills into the WAL), SQLite
    rolls back the whole transaction: the batch is lost, the registry
    says so, refuses more changes, and the commit fails.                  */
static void
s_lost_batch (const char *dir)
{
    registry_t *registry = registry_open (dir);
    if (!ok (registry != NULL, "open"))
        return;
    registry_admit_agent (registry, "before", "h", "a:1", 1);
    cmp_int (registry_commit (registry), 1, "commit one agent");
    struct rlimit old;
    s_limit_file_size (dir, 8192, &old);
    char host[251];
    memset (host, 'h', sizeof host - 1);
    host[sizeof host - 1] = '\0';
    int i, n = 100000;
    for (i = 0; i < n; i++) {
        char id[32];
        snprintf (id, sizeof id, "agent-%06d", i);
        if (registry_admit_agent (registry, id, host, "10.0.0.1:5052", 2) < 0)
            break;
    }
    ok (i < n, "a large batch fails midway when SQLite cannot spill it (after %d): %s", i,
        cairn_strerror_last ());
    ok (s_contains (cairn_strerror_last (), "rolled back"), "saying the batch was rolled back");
    ok (registry_dirty (registry), "the registry is dirty: the loss is still to be reported");
    ok (registry_admit_agent (registry, "late", "h", "a:1", 3) == -1
        && s_contains (cairn_strerror_last (), "refusing changes"),
        "more changes are refused: %s", cairn_strerror_last ());
    setrlimit (RLIMIT_FSIZE, &old);
    errno = 0;
    ok (registry_commit (registry) == -1 && errno == EIO
        && s_contains (cairn_strerror_last (), "were lost"),
        "the commit fails with EIO: %s", cairn_strerror_last ());
    ok (!registry_dirty (registry), "after which nothing is pending");
    registry_admit_agent (registry, "after", "h", "a:1", 3);
    cmp_int (registry_commit (registry), 1, "and the next batch commits");
    registry_close (&registry);
}

static void
test_failed_commit (void)
{
    char *dir = s_tempdir ();
    s_in_child (s_failed_commit, dir, "failed commit");
    loaded_list_t list = { 0 };
    s_reload (dir, &list);
    ok (list.count == 2 && s_find (&list, "before") && s_find (&list, "after"),
        "none of the failed batch was recorded; the commits around it were");
    s_rmtree (dir);

    dir = s_tempdir ();
    s_in_child (s_lost_batch, dir, "lost batch");
    s_reload (dir, &list);
    ok (list.count == 2 && s_find (&list, "before") && s_find (&list, "after"),
        "none of the lost batch was recorded, nor the refused change");
    free (list.agents);
    s_rmtree (dir);
}

/*  ------------------------------------------------------------------ */
/*  What an operator may meet                                           */
/*  ------------------------------------------------------------------ */

static void
test_second_master (void)
{
    char *dir = s_tempdir ();
    registry_t *first = registry_open (dir);
    if (!ok (first != NULL, "a master opens the registry"))
        goto done;
    errno = 0;
    registry_t *second = registry_open (dir);
    ok (second == NULL && errno == EBUSY, "a second open of the same file fails with EBUSY");
    ok (s_contains (cairn_strerror_last (), "registry.db")
        && s_contains (cairn_strerror_last (), "another cairn-master"),
        "saying so: %s", cairn_strerror_last ());
    registry_close (&second);
    ok (registry_admit_agent (first, "x", "h", "a:1", 1) == 0 && registry_commit (first) == 1,
        "the first one keeps working");
    registry_close (&first);
done:
    s_rmtree (dir);
}

static void
test_corrupt (void)
{
    /*  Garbage where the database should be.                              */
    char *dir = s_tempdir ();
    char *path = s_db_path (dir);
    char garbage[8192];
    for (size_t i = 0; i < sizeof garbage; i++)
        garbage[i] = "not a database! "[i % 16];
    s_write_file (path, garbage, sizeof garbage, 0);
    errno = 0;
    registry_t *registry = registry_open (dir);
    ok (registry == NULL && errno == EPROTO, "a file of garbage is refused with EPROTO");
    ok (s_contains (cairn_strerror_last (), path)
        && s_contains (cairn_strerror_last (), "not a database"),
        "naming the file and the problem: %s", cairn_strerror_last ());
    struct stat st;
    ok (stat (path, &st) == 0 && st.st_size == sizeof garbage, "and leaving it as it was");
    registry_close (&registry);
    free (path);
    s_rmtree (dir);

    /*  A registry whose pages were damaged.                               */
    dir = s_tempdir ();
    path = s_db_path (dir);
    registry = registry_open (dir);
    for (int i = 0; registry && i < 2000; i++) {
        char id[32];
        snprintf (id, sizeof id, "agent-%04d", i);
        registry_admit_agent (registry, id, "a-hostname-of-some-length", "10.0.0.1:5052", i);
    }
    registry_close (&registry);
    s_write_file (path, garbage, 4096, 4 * 4096);
    registry = registry_open (dir);
    ok (registry == NULL && errno == EPROTO, "a registry with a damaged page is refused");
    ok (s_contains (cairn_strerror_last (), path)
        && (s_contains (cairn_strerror_last (), "corrupt")
            || s_contains (cairn_strerror_last (), "malformed")),
        "naming the file and saying it is corrupt: %s", cairn_strerror_last ());
    registry_close (&registry);
    free (path);
    s_rmtree (dir);

    /*  Another program's SQLite database.                                 */
    dir = s_tempdir ();
    s_raw_sql (dir, "CREATE TABLE recipes (name TEXT); INSERT INTO recipes VALUES ('soup');");
    registry = registry_open (dir);
    ok (registry == NULL && errno == EPROTO
        && s_contains (cairn_strerror_last (), "not a Cairn registry"),
        "another program's database is refused: %s", cairn_strerror_last ());
    registry_close (&registry);
    s_rmtree (dir);
}

static void
test_newer_schema (void)
{
    char *dir = s_tempdir ();
    registry_t *registry = registry_open (dir);
    if (registry) {
        registry_admit_agent (registry, "n1", "h", "a:1", 1);
        registry_commit (registry);
    }
    registry_close (&registry);
    char *sql = xasprintf ("INSERT INTO schema_version VALUES (%d, 0, 'cairn-master 9.0');",
                           REGISTRY_SCHEMA_VERSION + 1);
    ok (s_raw_sql (dir, sql) == 0, "a newer cairn-master upgraded the file");
    free (sql);
    errno = 0;
    registry = registry_open (dir);
    ok (registry == NULL && errno == EPROTO, "this one refuses it with EPROTO");
    char *version = xasprintf ("schema version %d is newer", REGISTRY_SCHEMA_VERSION + 1);
    ok (s_contains (cairn_strerror_last (), "registry.db")
        && s_contains (cairn_strerror_last (), version),
        "saying why: %s", cairn_strerror_last ());
    free (version);
    registry_close (&registry);
    sql = xasprintf ("DELETE FROM schema_version WHERE version > %d;", REGISTRY_SCHEMA_VERSION);
    ok (s_raw_sql (dir, sql) == 0,
        "the file is untouched and still readable");
    free (sql);
    loaded_list_t list = { 0 };
    s_reload (dir, &list);
    ok (list.count == 1 && s_find (&list, "n1"), "and its data is intact");
    free (list.agents);
    s_rmtree (dir);
}

/*  Runs registry_open (dir) in a child, as user nobody if we are root
    (root writes anywhere), and reports "errno message" in buf. Returns
    -1 if the child could not drop privileges (reason in buf).            */
static int
s_open_as_user (const char *dir, char *buf, size_t size)
{
    int pipefd[2];
    if (pipe (pipefd) < 0)
        return -1;
    fflush (stdout);
    pid_t pid = fork ();
    if (pid == 0) {
        close (pipefd[0]);
        if (geteuid () == 0 && (setgroups (0, NULL) < 0 || setgid (65534) < 0
                                || setuid (65534) < 0)) {
            dprintf (pipefd[1], "cannot drop root privileges: %s", strerror (errno));
            _exit (2);
        }
        registry_t *registry = registry_open (dir);
        if (registry)
            dprintf (pipefd[1], "0 opened");
        else
            dprintf (pipefd[1], "%d %s", errno, cairn_strerror_last ());
        registry_close (&registry);
        exit (0);
    }
    close (pipefd[1]);
    ssize_t len = read (pipefd[0], buf, size - 1);
    buf[len > 0 ? len : 0] = '\0';
    close (pipefd[0]);
    int status = -1;
    waitpid (pid, &status, 0);
    return WIFEXITED (status) && WEXITSTATUS (status) == 0 ? 0 : -1;
}

static void
test_not_writable (void)
{
    /*  A directory that does not exist.                                   */
    errno = 0;
    registry_t *registry = registry_open ("/nonexistent/cairn");
    ok (registry == NULL && errno == ENOENT
        && s_contains (cairn_strerror_last (), "/nonexistent/cairn/registry.db")
        && s_contains (cairn_strerror_last (), "No such file"),
        "a missing directory is an ENOENT naming the file: %s", cairn_strerror_last ());

    /*  A directory the master cannot write (run as nobody if we are root). */
    char *dir = s_tempdir ();
    chmod (dir, 0555);
    char buf[1024];
    if (s_open_as_user (dir, buf, sizeof buf) < 0) {
        ok (true, "# SKIP %s", buf);
        ok (true, "# SKIP %s", buf);
    }
    else {
        int err = atoi (buf);
        ok (err == EACCES, "an unwritable directory fails with EACCES%s",
            geteuid () == 0 ? " (run as nobody: root writes anywhere)" : "");
        ok (s_contains (buf, "registry.db") && s_contains (buf, "Permission denied"),
            "naming the file and the reason: %s", buf);
    }
    chmod (dir, 0755);
    char *path = s_db_path (dir);
    struct stat st;
    ok (stat (path, &st) < 0 && errno == ENOENT, "and leaving nothing behind");
    free (path);

    /*  An existing registry in a directory the master cannot write: SQLite
        needs to create its write-ahead log there.                        */
    registry = registry_open (dir);
    registry_close (&registry);
    path = s_db_path (dir);
    if (geteuid () == 0 && chown (path, 65534, (gid_t) -1) < 0)
        diag ("chown %s: %s", path, strerror (errno));
    chmod (dir, 0555);
    if (s_open_as_user (dir, buf, sizeof buf) < 0)
        ok (true, "# SKIP %s", buf);
    else
        ok (atoi (buf) == EACCES && s_contains (buf, path),
            "a registry in an unwritable directory fails with EACCES naming the file: %s",
            buf);
    chmod (dir, 0755);

    /*  An existing registry the master cannot write.                      */
    if (geteuid () == 0 && chown (path, 0, (gid_t) -1) < 0)
        diag ("chown %s: %s", path, strerror (errno));
    chmod (path, 0444);
    chmod (dir, 0555);
    if (s_open_as_user (dir, buf, sizeof buf) < 0)
        ok (true, "# SKIP %s", buf);
    else
        ok ((atoi (buf) == EACCES || atoi (buf) == EROFS) && s_contains (buf, path),
            "a read-only registry fails with EACCES naming the file: %s", buf);
    chmod (dir, 0755);
    free (path);
    s_rmtree (dir);
}

/*  Draining is recorded, survives a reopen, and is undone; a v1 file
    (before drains) is upgraded in place with its agents intact.         */
static void
test_drain (void)
{
    char *dir = s_tempdir ();
    registry_t *registry = registry_open (dir);
    ok (registry != NULL, "open for drains");
    if (!registry)
        return;
    registry_admit_agent (registry, "d1", "h1", "a:1", 10);
    registry_admit_agent (registry, "d2", "h2", "a:2", 10);
    registry_mark_gone (registry, "d2", "broken", 11);
    ok (registry_drain_agent (registry, "d1", true, 30000, 12.5) == 0, "drain d1");
    ok (registry_drain_agent (registry, "d1", true, 30000, 12.5) == 0, "draining again is fine");
    errno = 0;
    ok (registry_drain_agent (registry, "d2", true, 1000, 13) < 0 && errno == EPERM,
        "a gone agent cannot drain: %s", cairn_strerror_last ());
    errno = 0;
    ok (registry_drain_agent (registry, "nope", true, 1000, 13) < 0 && errno == ENOENT,
        "an unknown agent cannot drain");
    ok (registry_commit (registry) >= 1, "committed");
    registry_close (&registry);
    loaded_list_t list = { 0 };
    s_reload (dir, &list);
    const loaded_t *d1 = s_find (&list, "d1");
    ok (d1 && d1->draining && d1->drain_grace_ms == 30000 && d1->drain_since == 12.5,
        "the drain survives a reopen, with its grace and start");
    const loaded_t *d2 = s_find (&list, "d2");
    ok (d2 && !d2->draining, "the gone agent does not drain");
    registry = registry_open (dir);
    ok (registry && registry_drain_agent (registry, "d1", false, 0, 0) == 0
        && registry_commit (registry) == 1, "undrain d1");
    registry_close (&registry);
    s_reload (dir, &list);
    d1 = s_find (&list, "d1");
    ok (d1 && !d1->draining, "undrained after a reopen");
    free (list.agents);
    list = (loaded_list_t) { 0 };
    s_rmtree (dir);

    /*  A registry written before drains existed (schema v1).             */
    dir = s_tempdir ();
    registry = registry_open (dir);
    registry_admit_agent (registry, "old", "h", "a:1", 5);
    registry_commit (registry);
    registry_close (&registry);
    ok (s_raw_sql (dir, "CREATE TABLE v1 AS SELECT id, hostname, http_address, state,"
                   " admitted_at, gone_at, gone_reason FROM agents;"
                   " DROP TABLE agents;"
                   " CREATE TABLE agents (id TEXT PRIMARY KEY NOT NULL, hostname TEXT NOT NULL,"
                   " http_address TEXT NOT NULL, state TEXT NOT NULL, admitted_at REAL NOT NULL,"
                   " gone_at REAL, gone_reason TEXT) WITHOUT ROWID;"
                   " INSERT INTO agents SELECT * FROM v1; DROP TABLE v1;"
                   " DELETE FROM schema_version WHERE version > 1;") == 0,
        "a file as version 1 wrote it");
    s_reload (dir, &list);
    ok (list.count == 1 && s_find (&list, "old") && !s_find (&list, "old")->draining,
        "upgraded: its agent is there, not draining");
    registry = registry_open (dir);
    ok (registry && registry_drain_agent (registry, "old", true, 5000, 6) == 0
        && registry_commit (registry) == 1, "and can record a drain");
    registry_close (&registry);
    free (list.agents);
    s_rmtree (dir);
}

int
main (void)
{
    test_roundtrip ();
    test_gone_is_final ();
    test_crash ();
    test_group_commit ();
    test_failed_commit ();
    test_second_master ();
    test_corrupt ();
    test_newer_schema ();
    test_drain ();
    test_not_writable ();
    return done_testing ();
}
