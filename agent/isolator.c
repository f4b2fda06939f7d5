/*  isolator.c - task isolation: cgroup v2, cgroup v1 names, or posix.

    Layout (names relative to each hierarchy's root; see isolator.h):
        <base>/<root>/<agent-id>/<container-id>   one leaf per task
        <base>/<root>/<agent-id>/supervisors      v2: every cairn-shim
        <base>/<root>/<agent-id>/agent            v2: the agent itself,
                                                  only when it must leave
                                                  its own cgroup (below)
    <base> is "" (the top) unless the agent runs in a v2 cgroup delegated
    to it (systemd Delegate=yes), which then is <base>.

    The v2 "no internal processes" rule: a non-root cgroup that enables a
    controller for its children may hold no process. So no process ever
    sits in <root> or <root>/<agent-id>: shims go to supervisors, tasks
    to their leaves, and when <base> is the agent's own cgroup (delegated,
    or the root of a cgroup namespace) the agent moves itself (with any
    helper of its unit) into the agent leaf before enabling controllers.
    libcgroup writes "+controller" into every ancestor when it creates a
    group; those writes are no-ops once the controllers are enabled, and
    the probe at start checks that they are offered all the way down.

    Invariants: a container's cgroups exist from prepare until cleanup;
    the isolator keeps no per-container state, so a restarted agent with
    the same agent id finds its containers again (isolator_recover).     */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroups.h"
#include "error.h"
#include "isolator.h"
#include "log.h"

#define CPU_PERIOD_US   100000          /* cpu.max / cfs period: 100 ms */
#define CPU_QUOTA_MIN   1000            /* the kernel's smallest quota */
#define LEAF_SUPERVISORS "supervisors"
#define LEAF_AGENT      "agent"

typedef enum {
    KIND_POSIX,
    KIND_V1,
    KIND_V2,
} kind_t;

struct _isolator_t {
    kind_t kind;
    char *root;                 /* --cgroup-root, without surrounding '/' */
    bool cpu_hard_limit;
    int64_t max_task_pids;
    char *agent_id;             /* NULL until isolator_set_agent_id */
    char *base;                 /* group holding <root>: "" = the top */
    char *own;                  /* v2: the agent's cgroup at start */
    bool move_self;             /* v2: leave `own` before enabling controllers */
    char *top;                  /* "<base>/<root>" */
    char *subtree;              /* "<base>/<root>/<agent-id>", once known */
    const char *controllers[6]; /* hierarchies a task gets a group in */
    const char *procs_controller;   /* where a container's processes are listed */
    bool memsw;                 /* v1: memory.memsw.limit_in_bytes exists */
    bool swap_max;              /* v2: memory.swap.max exists */
    bool oom_group;             /* v2: memory.oom.group exists */
    bool peak;                  /* v2: memory.peak exists (Linux 5.19) */
    bool kill_file;             /* v2: cgroup.kill exists (Linux 5.14) */
};

/*  Small helpers  */

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

/*  "a", "b", "c" -> "a/b/c", skipping empty parts.                        */
static char *
s_join (const char *a, const char *b, const char *c)
{
    return xasprintf ("%s%s%s%s%s", a, *a && *b ? "/" : "", b, (*a || *b) && c && *c ? "/" : "",
                      c ? c : "");
}

bool
isolator_id_valid (const char *id)
{
    if (!id || strlen (id) != 12)
        return false;
    for (const char *p = id; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

/*  An agent id becomes one cgroup name: letters, digits, '.', '_', '-',
    ':', not starting with '.', at most 128 bytes.                          */
static bool
s_agent_id_valid (const char *id)
{
    size_t n = id ? strlen (id) : 0;
    if (n == 0 || n > 128 || id[0] == '.')
        return false;
    for (const char *p = id; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
              || *p == '.' || *p == '_' || *p == '-' || *p == ':'))
            return false;
    return true;
}

/*  --cgroup-root: relative components of [A-Za-z0-9._-], none "." or
    ".."; leading and trailing '/' are dropped. NULL if invalid.           */
static char *
s_clean_root (const char *text)
{
    while (*text == '/')
        text++;
    char *root = xstrdup (text);
    size_t n = strlen (root);
    while (n > 0 && root[n - 1] == '/')
        root[--n] = '\0';
    if (n == 0 || n > 200)
        goto bad;
    for (char *part = root; part; ) {
        char *slash = strchr (part, '/');
        size_t len = slash ? (size_t) (slash - part) : strlen (part);
        if (len == 0 || part[0] == '.')
            goto bad;
        for (size_t i = 0; i < len; i++) {
            char c = part[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                  || c == '.' || c == '_' || c == '-'))
                goto bad;
        }
        part = slash ? slash + 1 : NULL;
    }
    return root;
bad:
    free (root);
    return NULL;
}

static void
s_strv_push (char ***strv, size_t *n, char *item)
{
    *strv = xrealloc (*strv, (*n + 2) * sizeof (char *));
    (*strv)[(*n)++] = item;
    (*strv)[*n] = NULL;
}

void
isolator_strv_free (char ***strv_p)
{
    if (strv_p && *strv_p) {
        for (char **p = *strv_p; *p; p++)
            free (*p);
        free (*strv_p);
        *strv_p = NULL;
    }
}

static const char *
s_controller_list (isolator_t *self, char *buf, size_t size)
{
    buf[0] = '\0';
    for (size_t i = 0; self->controllers[i]; i++)
        snprintf (buf + strlen (buf), size - strlen (buf), "%s%s", i ? ", " : "",
                  self->controllers[i]);
    return buf;
}

/*  Probing  */

/*  cgroup v1: cpu, cpuacct, memory and freezer (and pids when asked)
    mounted as v1 hierarchies, and <root> creatable and writable in each. */
static int
s_probe_v1 (isolator_t *self)
{
    size_t n = 0;
    self->controllers[n++] = "cpu";
    self->controllers[n++] = "cpuacct";
    self->controllers[n++] = "memory";
    self->controllers[n++] = "freezer";
    if (self->max_task_pids > 0)
        self->controllers[n++] = "pids";
    self->controllers[n] = NULL;
    self->procs_controller = "freezer";
    for (size_t i = 0; i < n; i++)
        if (cgroups_version (self->controllers[i]) != CGROUPS_V1)
            return error_set (ENODEV, "the %s controller is not mounted as cgroup v1%s",
                              self->controllers[i],
                              strcmp (self->controllers[i], "pids") == 0
                                  ? " (needed for --max-task-pids)" : "");
    self->top = s_join (self->base, self->root, NULL);
    if (cgroups_create (self->top, self->controllers, NULL, 0) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char *dir = cgroups_path (self->controllers[i], self->top, NULL);
        int rc = dir ? access (dir, W_OK) : -1;
        if (dir && rc < 0)
            error_set (errno, "cannot write to %s: %s", dir, strerror (errno));
        free (dir);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/*  cgroup v2: the tree at <base> offers cpu and memory (and pids), the
    agent may write there, and nothing else stands in the way.            */
static int
s_probe_v2 (isolator_t *self)
{
    size_t n = 0;
    self->controllers[n++] = "cpu";
    self->controllers[n++] = "memory";
    if (self->max_task_pids > 0)
        self->controllers[n++] = "pids";
    self->controllers[n] = NULL;
    self->procs_controller = "memory";
    char list[128];
    s_controller_list (self, list, sizeof list);

    self->own = cgroups_v2_self ();
    if (!self->own)
        return -1;
    bool delegated = *self->own && cgroups_v2_delegated (self->own);
    free (self->base);
    self->base = xstrdup (delegated ? self->own : "");
    self->move_self = strcmp (self->own, self->base) == 0 && !cgroups_v2_is_root (self->base);
    /*  What <base>'s parent hands down (for the root: what exists) is
        what <base> can enable for <root>.                                 */
    if (!cgroups_v2_offers (self->base, self->controllers, false))
        return error_set (ENODEV, "the cgroup v2 tree at /%s does not offer the %s controllers",
                          self->base, list);
    char *control = cgroups_path ("memory", self->base, "cgroup.subtree_control");
    if (!control)
        return -1;
    if (access (control, W_OK) < 0) {
        error_set (errno, "cannot write to %s: %s (cgroups need root, or a cgroup delegated "
                   "to the agent)", control, strerror (errno));
        free (control);
        return -1;
    }
    free (control);
    if (self->move_self) {
        /*  It will move into its own leaf once it knows its id; anything
            else in its cgroup would keep the controllers from being
            enabled below it.                                               */
        pid_t *pids;
        size_t count;
        if (cgroups_procs ("memory", self->own, &pids, &count) < 0)
            return -1;
        pid_t other = 0;
        for (size_t i = 0; i < count && !other; i++)
            if (pids[i] != getpid ())
                other = pids[i];
        free (pids);
        if (other && !delegated)
            return error_set (EBUSY, "the agent's cgroup /%s is the top of its cgroup "
                              "namespace and holds other processes (pid %d): controllers "
                              "cannot be enabled below it; run the agent in a cgroup of its own",
                              self->own, (int) other);
    }
    else {
        /*  <base> is the top here. libcgroup never enables a controller in
            the hierarchy's root for a deeper group: do it (a no-op where
            the init system did).                                           */
        if (cgroups_v2_enable (self->base, self->controllers) < 0)
            return -1;
        self->top = s_join (self->base, self->root, NULL);
        if (cgroups_create (self->top, self->controllers, NULL, 0) < 0)
            return -1;
    }
    if (!self->top)
        self->top = s_join (self->base, self->root, NULL);
    return 0;
}

/*  Picks cgroup v2 or v1 (0), or says why neither works (-1).             */
static int
s_probe (isolator_t *self)
{
    if (cgroups_init () < 0)
        return -1;
    cgroups_version_t cpu = cgroups_version ("cpu"), mem = cgroups_version ("memory");
    if (cpu == CGROUPS_V2 && mem == CGROUPS_V2) {
        self->kind = KIND_V2;
        return s_probe_v2 (self);
    }
    if (cpu == CGROUPS_V1 && mem == CGROUPS_V1) {
        self->kind = KIND_V1;
        return s_probe_v1 (self);
    }
    const char *names[] = { "not mounted", "cgroup v1", "cgroup v2" };
    return error_set (ENODEV, "the cpu and memory controllers are not both on one cgroup "
                      "version (cpu: %s, memory: %s)", names[cpu], names[mem]);
}

isolator_t *
isolator_new (const isolator_config_t *config)
{
    isolator_config_t defaults = { 0 };
    if (!config)
        config = &defaults;
    const char *kind = config->kind && *config->kind ? config->kind : "auto";
    if (strcmp (kind, "auto") != 0 && strcmp (kind, "cgroups") != 0
        && strcmp (kind, "posix") != 0) {
        error_set (EINVAL, "unknown isolation '%s': use auto, cgroups or posix", kind);
        return NULL;
    }
    if (config->max_task_pids < 0) {
        error_set (EINVAL, "the pids limit must not be negative");
        return NULL;
    }
    char *root = s_clean_root (config->cgroup_root ? config->cgroup_root : "cairn");
    if (!root) {
        error_set (EINVAL, "'%s' is not a usable cgroup root: use relative names of letters, "
                   "digits, '.', '_' and '-'", config->cgroup_root);
        return NULL;
    }
    isolator_t *self = xzalloc (sizeof *self);
    self->kind = KIND_POSIX;
    self->root = root;
    self->base = xstrdup ("");
    self->cpu_hard_limit = config->cpu_hard_limit;
    self->max_task_pids = config->max_task_pids;
    if (strcmp (kind, "posix") == 0) {
        if (self->cpu_hard_limit || self->max_task_pids > 0)
            log_warn ("posix isolation has no cpu cap and no pids limit: --cpu-hard-limit and "
                      "--max-task-pids are ignored");
        return self;
    }
    if (s_probe (self) == 0) {
        char list[128];
        log_debug ("isolation %s: %s under /%s", isolator_name (self),
                   s_controller_list (self, list, sizeof list), self->top);
        return self;
    }
    if (strcmp (kind, "cgroups") == 0) {
        /*  The sentence stays for the caller; destroy must not touch it.  */
        char why[600];
        snprintf (why, sizeof why, "cgroups are not usable here: %s", cairn_strerror_last ());
        int err = errno;
        self->kind = KIND_POSIX;
        isolator_destroy (&self);
        error_set (err, "%s", why);
        return NULL;
    }
    log_warn ("cgroups are not usable here (%s): using posix isolation, a process group and "
              "a data size limit per task, without cpu shares, cpu caps, pids limits or a "
              "whole-task memory limit", cairn_strerror_last ());
    /*  Forget what the probe found: posix touches no cgroup.               */
    self->kind = KIND_POSIX;
    free (self->top);
    self->top = NULL;
    free (self->base);
    self->base = xstrdup ("");
    return self;
}

/*  Removes the agent's subtree where it is empty (errors ignored).       */
static void
s_remove_subtree (isolator_t *self)
{
    if (!self->subtree)
        return;
    if (self->kind == KIND_V2) {
        char *sup = s_join (self->subtree, LEAF_SUPERVISORS, NULL);
        cgroups_delete (sup, self->controllers);
        free (sup);
    }
    cgroups_delete (self->subtree, self->controllers);
    error_clear ();
}

void
isolator_destroy (isolator_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    isolator_t *self = *self_p;
    if (self->kind != KIND_POSIX) {
        /*  Only what is empty goes: shims or tasks that outlive the agent
            keep their groups (EBUSY is expected then).                    */
        s_remove_subtree (self);
        if (self->top && !self->move_self) {
            /*  Up to and including <root>, never <base>.                  */
            char *name = xstrdup (self->top);
            size_t keep = strlen (self->base);
            while (strlen (name) > keep && cgroups_delete (name, self->controllers) == 0) {
                char *slash = strrchr (name, '/');
                if (!slash || (size_t) (slash - name) < keep)
                    break;
                *slash = '\0';
            }
            free (name);
        }
        error_clear ();
    }
    free (self->root);
    free (self->agent_id);
    free (self->base);
    free (self->own);
    free (self->top);
    free (self->subtree);
    free (self);
    *self_p = NULL;
}

const char *
isolator_name (isolator_t *self)
{
    return self->kind == KIND_V2 ? "cgroups-v2" : self->kind == KIND_V1 ? "cgroups-v1" : "posix";
}

/*  The agent's subtree  */

/*  Files that not every kernel has; limits are written only where the
    file exists.                                                            */
static void
s_probe_files (isolator_t *self)
{
    if (self->kind == KIND_V1) {
        self->memsw = cgroups_exists ("memory", self->subtree, "memory.memsw.limit_in_bytes");
        return;
    }
    char *sup = s_join (self->subtree, LEAF_SUPERVISORS, NULL);
    self->swap_max = cgroups_exists ("memory", sup, "memory.swap.max");
    self->oom_group = cgroups_exists ("memory", sup, "memory.oom.group");
    self->peak = cgroups_exists ("memory", sup, "memory.peak");
    self->kill_file = cgroups_exists ("memory", sup, "cgroup.kill");
    free (sup);
}

/*  v2, when the agent must leave its own cgroup: into the agent leaf with
    every process of that cgroup (all of its unit's), then enable the
    controllers in the now empty cgroup.                                   */
static int
s_move_self (isolator_t *self)
{
    char *leaf = s_join (self->subtree, LEAF_AGENT, NULL);
    int rc = cgroups_v2_mkdir (leaf);
    pid_t *pids = NULL;
    size_t count = 0;
    if (rc == 0)
        rc = cgroups_procs ("memory", self->own, &pids, &count);
    for (size_t i = 0; rc == 0 && i < count; i++)
        if (cgroups_v2_move (leaf, pids[i]) < 0 && errno != ESRCH)
            rc = -1;
    free (pids);
    if (rc == 0)
        rc = cgroups_v2_enable (self->base, self->controllers);
    if (rc == 0)
        log_info ("moved the agent into cgroup /%s so that /%s can hand controllers down",
                  leaf, self->own);
    free (leaf);
    return rc;
}

int
isolator_set_agent_id (isolator_t *self, const char *agent_id)
{
    if (!s_agent_id_valid (agent_id))
        return error_set (EINVAL, "agent id '%s' cannot name a cgroup", agent_id ? agent_id : "");
    if (self->agent_id && strcmp (self->agent_id, agent_id) == 0)
        return 0;
    if (self->agent_id && self->kind != KIND_POSIX) {
        /*  A new id (the master forgot this agent): fine once the old
            subtree holds no container; it goes. Not after the agent moved
            itself into the old subtree's agent leaf.                     */
        char **ids = isolator_list (self);
        bool busy = !ids || ids[0] || self->move_self;
        isolator_strv_free (&ids);
        if (busy)
            return error_set (EBUSY, "the isolator belongs to agent %s, which still has "
                              "containers", self->agent_id);
        s_remove_subtree (self);
        free (self->subtree);
        self->subtree = NULL;
    }
    if (self->kind == KIND_POSIX) {
        free (self->agent_id);
        self->agent_id = xstrdup (agent_id);
        return 0;
    }
    char *subtree = s_join (self->top, agent_id, NULL);
    int rc;
    if (self->kind == KIND_V1)
        rc = cgroups_create (subtree, self->controllers, NULL, 0);
    else {
        free (self->subtree);
        self->subtree = subtree;
        rc = self->move_self ? s_move_self (self) : 0;
        char *sup = s_join (subtree, LEAF_SUPERVISORS, NULL);
        if (rc == 0)
            rc = cgroups_create (sup, self->controllers, NULL, 0);
        free (sup);
        self->subtree = NULL;
    }
    if (rc < 0) {
        free (subtree);
        return -1;
    }
    self->subtree = subtree;
    free (self->agent_id);
    self->agent_id = xstrdup (agent_id);
    s_probe_files (self);
    log_info ("%s isolation in cgroup /%s", isolator_name (self), subtree);
    return 0;
}

/*  Containers  */

/*  Checks id and the isolator's state; returns the container's group
    name (caller frees) or NULL + error_set.                               */
static char *
s_container (isolator_t *self, const char *id)
{
    if (!isolator_id_valid (id)) {
        error_set (EINVAL, "'%s' is not a container id (12 hex digits)", id ? id : "");
        return NULL;
    }
    if (self->kind == KIND_POSIX)
        return xstrdup (id);
    if (!self->subtree) {
        error_set (EAGAIN, "the isolator does not know its agent id yet");
        return NULL;
    }
    return s_join (self->subtree, id, NULL);
}

static void
s_setting (cgroups_setting_t *s, size_t *n, const char *controller, const char *file,
           uint64_t value)
{
    s[*n].controller = controller;
    s[*n].file = file;
    snprintf (s[*n].value, sizeof s[*n].value, "%" PRIu64, value);
    (*n)++;
}

/*  The limits of a task, in the names of the isolator's version.         */
static size_t
s_settings (isolator_t *self, const cairn_resources_t *resources, const proto_kv_t *labels,
            cgroups_setting_t *s)
{
    size_t n = 0;
    uint64_t mcpu = resources ? (uint64_t) cairn_resources_millicpus (resources) : 0;
    uint64_t mem = resources ? cairn_resources_mem (resources) << 20 : 0;
    const char *label = labels ? proto_kv_get (labels, ISOLATOR_LABEL_CPU_HARD_LIMIT) : NULL;
    bool cap = mcpu > 0 && (self->cpu_hard_limit || (label && strcmp (label, "true") == 0));
    uint64_t quota = mcpu * CPU_PERIOD_US / 1000;
    if (quota < CPU_QUOTA_MIN)
        quota = CPU_QUOTA_MIN;
    if (self->kind == KIND_V2) {
        if (mcpu > 0) {
            /*  1 cpu = 100, the default weight of every other cgroup.      */
            uint64_t w = mcpu / 10;
            s_setting (s, &n, "cpu", "cpu.weight", w < 1 ? 1 : w > 10000 ? 10000 : w);
        }
        if (cap) {
            s[n].controller = "cpu";
            s[n].file = "cpu.max";
            snprintf (s[n].value, sizeof s[n].value, "%" PRIu64 " %d", quota, CPU_PERIOD_US);
            n++;
        }
        if (mem > 0) {
            s_setting (s, &n, "memory", "memory.max", mem);
            if (self->swap_max)
                s_setting (s, &n, "memory", "memory.swap.max", 0);
            /*  An OOM kill takes the whole task, as on a memory limit
                everywhere else in the cluster.                             */
            if (self->oom_group)
                s_setting (s, &n, "memory", "memory.oom.group", 1);
        }
    }
    else {
        if (mcpu > 0) {
            uint64_t shares = mcpu * 1024 / 1000;
            s_setting (s, &n, "cpu", "cpu.shares", shares < 2 ? 2 : shares);
        }
        if (cap) {
            s_setting (s, &n, "cpu", "cpu.cfs_period_us", CPU_PERIOD_US);
            s_setting (s, &n, "cpu", "cpu.cfs_quota_us", quota);
        }
        if (mem > 0) {
            /*  memsw after the limit: it may never be below it.           */
            s_setting (s, &n, "memory", "memory.limit_in_bytes", mem);
            if (self->memsw)
                s_setting (s, &n, "memory", "memory.memsw.limit_in_bytes", mem);
        }
    }
    if (self->max_task_pids > 0)
        s_setting (s, &n, "pids", "pids.max", (uint64_t) self->max_task_pids);
    return n;
}

static bool s_populated (isolator_t *self, const char *name);

int
isolator_prepare (isolator_t *self, const char *id, const cairn_resources_t *resources,
                  const proto_kv_t *labels, char ***join_args)
{
    *join_args = NULL;
    char *name = s_container (self, id);
    if (!name)
        return -1;
    char **args = NULL;
    size_t nargs = 0;
    if (self->kind == KIND_POSIX) {
        /*  RLIMIT_DATA (brk and private writable mappings, Linux 4.7) is
            what malloc draws on; RLIMIT_AS would also count reservations
            that use no memory, and RLIMIT_RSS is not enforced. It limits
            each process of the task, not the task as a whole.            */
        uint64_t mem = resources ? cairn_resources_mem (resources) << 20 : 0;
        if (mem > 0)
            s_strv_push (&args, &nargs, xasprintf ("--rlimit-data=%" PRIu64, mem));
        free (name);
        *join_args = args;
        return 0;
    }
    if (cgroups_exists (self->procs_controller, name, NULL)) {
        if (s_populated (self, name)) {
            error_set (EEXIST, "container %s exists already and has processes", id);
            free (name);
            return -1;
        }
        /*  Left over by a crash between a task's end and its cleanup.     */
        if (cgroups_delete (name, self->controllers) < 0) {
            free (name);
            return -1;
        }
    }
    cgroups_setting_t settings[12];
    size_t count = s_settings (self, resources, labels, settings);
    if (cgroups_create (name, self->controllers, settings, count) < 0) {
        free (name);
        return -1;
    }
    if (self->kind == KIND_V2) {
        char *sup = s_join (self->subtree, LEAF_SUPERVISORS, NULL);
        char *path = cgroups_path ("memory", sup, "cgroup.procs");
        s_strv_push (&args, &nargs, xasprintf ("--supervisor-procs=%s", path));
        free (path);
        free (sup);
        path = cgroups_path ("memory", name, "cgroup.procs");
        s_strv_push (&args, &nargs, xasprintf ("--cgroup-procs=%s", path));
        free (path);
    }
    else {
        /*  One per hierarchy: co-mounted controllers (cpu,cpuacct) share
            a directory.                                                   */
        for (size_t i = 0; self->controllers[i]; i++) {
            char *path = cgroups_path (self->controllers[i], name, "cgroup.procs");
            char *arg = xasprintf ("--cgroup-procs=%s", path);
            free (path);
            bool dup = false;
            for (size_t j = 0; j < nargs && !dup; j++)
                dup = strcmp (args[j], arg) == 0;
            if (dup)
                free (arg);
            else
                s_strv_push (&args, &nargs, arg);
        }
    }
    free (name);
    *join_args = args;
    return 0;
}

/*  True if the container's group exists and holds a process.              */
static bool
s_populated (isolator_t *self, const char *name)
{
    if (self->kind == KIND_V2)
        return cgroups_v2_event (name, "populated") == 1;
    pid_t *pids;
    size_t count;
    if (cgroups_procs (self->procs_controller, name, &pids, &count) < 0)
        return false;
    free (pids);
    return count > 0;
}

/*  True while the process group has a member that is not a zombie. An
    orphaned child of the task stays a zombie until init reaps it, which
    some inits (in containers) do late or never: kill (-pgid, 0) alone
    would count it. /proc is read only when the quick test finds someone. */
static bool
s_posix_alive (pid_t pgid)
{
    if (pgid <= 1 || (kill (-pgid, 0) < 0 && errno == ESRCH))
        return false;
    DIR *d = opendir ("/proc");
    if (!d)
        return true;
    bool alive = false;
    struct dirent *e;
    while (!alive && (e = readdir (d))) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        char path[300], buf[512];
        snprintf (path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen (path, "re");
        if (!f)
            continue;
        size_t n = fread (buf, 1, sizeof buf - 1, f);
        fclose (f);
        buf[n] = '\0';
        /*  "pid (comm) S ppid pgrp ...": comm may hold anything but ')'.  */
        const char *p = strrchr (buf, ')');
        char state;
        int ppid, pgrp;
        if (p && sscanf (p + 1, " %c %d %d", &state, &ppid, &pgrp) == 3 && pgrp == pgid
            && state != 'Z' && state != 'X')
            alive = true;
    }
    closedir (d);
    return alive;
}

int
isolator_signal (isolator_t *self, const char *id, pid_t pgid, int sig)
{
    char *name = s_container (self, id);
    if (!name)
        return -1;
    int rc = 0;
    if (self->kind == KIND_POSIX) {
        if (pgid <= 1)
            rc = error_set (EINVAL, "container %s has no process group yet", id);
        else if (kill (-pgid, sig) < 0 && errno != ESRCH)
            rc = error_set (errno, "cannot signal container %s: %s", id, strerror (errno));
    }
    else if (!cgroups_exists (self->procs_controller, name, NULL))
        rc = 0;                 /* gone with its processes */
    else if (sig == SIGKILL && self->kind == KIND_V2 && self->kill_file) {
        rc = cgroups_v2_kill (name);
        if (rc < 0 && !cgroups_exists (self->procs_controller, name, NULL))
            rc = 0;
    }
    else if (cgroups_signal (self->procs_controller, name, sig) < 0)
        rc = errno == ENOENT ? 0 : -1;
    free (name);
    return rc;
}

/*  v1: freeze, SIGKILL every process, thaw, until empty or the deadline.
    Frozen processes cannot fork, so none escapes between listing and
    killing; the signals take effect when they thaw.                       */
static int
s_kill_v1 (isolator_t *self, const char *name, int64_t deadline)
{
    while (true) {
        if (cgroups_set ("freezer", name, "freezer.state", "FROZEN") < 0)
            return cgroups_exists ("freezer", name, NULL) ? -1 : 0;
        /*  FREEZING until every task stopped; a task in uninterruptible
            sleep can hold that up, so wait a little and kill anyway.     */
        int64_t until = s_now_ms () + 50;
        char state[64] = "";
        while (s_now_ms () < until && s_now_ms () < deadline
               && cgroups_read ("freezer", name, "freezer.state", state, sizeof state) == 0
               && strncmp (state, "FROZEN", 6) != 0)
            s_sleep_ms (1);
        cgroups_signal ("freezer", name, SIGKILL);
        if (cgroups_set ("freezer", name, "freezer.state", "THAWED") < 0)
            return -1;
        until = s_now_ms () + 20;
        do {
            if (!s_populated (self, name))
                return 0;
            s_sleep_ms (1);
        } while (s_now_ms () < until && s_now_ms () < deadline);
        if (s_now_ms () >= deadline)
            return 1;
    }
}

/*  v2 without cgroup.kill (Linux 5.2 to 5.13): the same with cgroup.freeze. */
static void
s_kill_v2_frozen (const char *name, int64_t deadline)
{
    if (cgroups_v2_freeze (name, true) < 0)
        return;
    while (s_now_ms () < deadline && cgroups_v2_event (name, "frozen") == 0)
        s_sleep_ms (1);
    cgroups_signal ("memory", name, SIGKILL);
    cgroups_v2_freeze (name, false);
}

int
isolator_kill_all (isolator_t *self, const char *id, pid_t pgid)
{
    char *name = s_container (self, id);
    if (!name)
        return -1;
    int64_t deadline = s_now_ms () + ISOLATOR_KILL_BOUND_MS;
    int rc = 0;                 /* 1: processes remain */
    if (self->kind == KIND_POSIX) {
        if (pgid > 1 && kill (-pgid, SIGKILL) < 0 && errno != ESRCH)
            rc = error_set (errno, "cannot kill container %s: %s", id, strerror (errno));
        while (rc == 0 && s_posix_alive (pgid) && s_now_ms () < deadline)
            s_sleep_ms (1);
        if (rc == 0 && s_posix_alive (pgid))
            rc = 1;
    }
    else if (!cgroups_exists (self->procs_controller, name, NULL))
        rc = 0;
    else if (!s_populated (self, name))
        /*  Nothing left, the common case once a task has ended: freezing
            an empty cgroup would only cost (on v1 the first frozen cgroup
            flips kernel static keys, an IPI to every CPU). An empty
            cgroup stays empty: only its members or the agent put
            processes in it.                                              */
        rc = 0;
    else if (self->kind == KIND_V1)
        rc = s_kill_v1 (self, name, deadline);
    else {
        if (self->kill_file) {
            rc = cgroups_v2_kill (name);
            if (rc < 0 && !cgroups_exists (self->procs_controller, name, NULL))
                rc = 0;
        }
        else
            s_kill_v2_frozen (name, deadline);
        while (rc == 0 && s_populated (self, name) && s_now_ms () < deadline)
            s_sleep_ms (1);
        if (rc == 0 && s_populated (self, name))
            rc = 1;
    }
    if (rc == 1)
        rc = error_set (EAGAIN, "container %s still has processes after %d ms", id,
                        ISOLATOR_KILL_BOUND_MS);
    free (name);
    return rc;
}

bool
isolator_alive (isolator_t *self, const char *id, pid_t pgid)
{
    if (self->kind == KIND_POSIX)
        return isolator_id_valid (id) && s_posix_alive (pgid);
    char *name = s_container (self, id);
    bool alive = name && s_populated (self, name);
    free (name);
    return alive;
}

/*  posix: the task process from /proc (children count once reaped).      */
static int
s_usage_posix (const char *id, pid_t pgid, isolator_usage_t *u)
{
    if (pgid <= 1)
        return error_set (EINVAL, "container %s has no process yet", id);
    char path[64], buf[2048];
    snprintf (path, sizeof path, "/proc/%d/stat", (int) pgid);
    FILE *f = fopen (path, "re");
    if (!f)
        return error_set (errno == ENOENT ? ESRCH : errno, "container %s: %s: %s", id, path,
                          strerror (errno));
    size_t n = fread (buf, 1, sizeof buf - 1, f);
    fclose (f);
    buf[n] = '\0';
    /*  Fields after the command (which may hold spaces): state is 3rd;
        utime..cstime are 14..17 and rss is 24.                            */
    char *p = strrchr (buf, ')');
    unsigned long long v[22] = { 0 };
    int got = 0;
    if (p) {
        p += 2;
        char *save = NULL;
        for (char *tok = strtok_r (p, " ", &save); tok && got < 22;
             tok = strtok_r (NULL, " ", &save))
            v[got++] = strtoull (tok, NULL, 10);
    }
    if (got < 22)
        return error_set (EINVAL, "container %s: cannot parse %s", id, path);
    long tick = sysconf (_SC_CLK_TCK);
    long page = sysconf (_SC_PAGESIZE);
    u->cpu_seconds = (double) (v[11] + v[12] + v[13] + v[14]) / (double) (tick > 0 ? tick : 100);
    u->mem_bytes = v[21] * (unsigned long long) page;
    snprintf (path, sizeof path, "/proc/%d/status", (int) pgid);
    if ((f = fopen (path, "re"))) {
        while (fgets (buf, sizeof buf, f))
            if (strncmp (buf, "VmHWM:", 6) == 0)
                u->mem_peak_bytes = strtoull (buf + 6, NULL, 10) << 10;
        fclose (f);
    }
    struct rlimit rl;
    if (prlimit (pgid, RLIMIT_DATA, NULL, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        u->mem_limit_bytes = rl.rlim_cur;
    return 0;
}

int
isolator_usage (isolator_t *self, const char *id, pid_t pgid, isolator_usage_t *usage)
{
    memset (usage, 0, sizeof *usage);
    char *name = s_container (self, id);
    if (!name)
        return -1;
    int rc = 0;
    uint64_t v = 0;
    if (self->kind == KIND_POSIX)
        rc = s_usage_posix (id, pgid, usage);
    else if (!cgroups_exists (self->procs_controller, name, NULL))
        rc = error_set (ENOENT, "no container %s", id);
    else if (self->kind == KIND_V2) {
        if (cgroups_read_key ("cpu", name, "cpu.stat", "usage_usec", &v) == 0)
            usage->cpu_seconds = (double) v / 1e6;
        if (cgroups_read_u64 ("memory", name, "memory.current", &v) == 0)
            usage->mem_bytes = v;
        if (self->peak && cgroups_read_u64 ("memory", name, "memory.peak", &v) == 0)
            usage->mem_peak_bytes = v;
        if (cgroups_read_u64 ("memory", name, "memory.max", &v) == 0 && v != UINT64_MAX)
            usage->mem_limit_bytes = v;
        if (cgroups_read_key ("memory", name, "memory.events", "oom_kill", &v) == 0)
            usage->oom_killed = v > 0;
    }
    else {
        if (cgroups_read_u64 ("cpuacct", name, "cpuacct.usage", &v) == 0)
            usage->cpu_seconds = (double) v / 1e9;
        if (cgroups_read_u64 ("memory", name, "memory.usage_in_bytes", &v) == 0)
            usage->mem_bytes = v;
        if (cgroups_read_u64 ("memory", name, "memory.max_usage_in_bytes", &v) == 0)
            usage->mem_peak_bytes = v;
        /*  "No limit" reads as the largest page-aligned signed value.     */
        if (cgroups_read_u64 ("memory", name, "memory.limit_in_bytes", &v) == 0
            && v < ((uint64_t) 1 << 62))
            usage->mem_limit_bytes = v;
        /*  oom_kill, not failcnt: failcnt can read 0 after an OOM kill.   */
        if (cgroups_read_key ("memory", name, "memory.oom_control", "oom_kill", &v) == 0)
            usage->oom_killed = v > 0;
    }
    free (name);
    return rc;
}

int
isolator_cleanup (isolator_t *self, const char *id)
{
    char *name = s_container (self, id);
    if (!name)
        return -1;
    int rc = self->kind == KIND_POSIX ? 0 : cgroups_delete (name, self->controllers);
    if (rc < 0 && errno == EBUSY)
        error_set (EBUSY, "container %s still has processes", id);
    free (name);
    return rc;
}

int
isolator_recover (isolator_t *self, const char *id, pid_t pgid)
{
    char *name = s_container (self, id);
    if (!name)
        return -1;
    int state;
    if (self->kind == KIND_POSIX)
        state = s_posix_alive (pgid) ? ISOLATOR_POPULATED : ISOLATOR_GONE;
    else if (!cgroups_exists (self->procs_controller, name, NULL))
        state = ISOLATOR_GONE;
    else
        state = s_populated (self, name) ? ISOLATOR_POPULATED : ISOLATOR_EMPTY;
    free (name);
    return state;
}

char **
isolator_list (isolator_t *self)
{
    char **ids = xzalloc (sizeof (char *));
    size_t n = 0;
    if (self->kind == KIND_POSIX)
        return ids;
    if (!self->subtree) {
        free (ids);
        error_set (EAGAIN, "the isolator does not know its agent id yet");
        return NULL;
    }
    char *dir = cgroups_path (self->procs_controller, self->subtree, NULL);
    DIR *d = dir ? opendir (dir) : NULL;
    if (!d) {
        if (dir)
            error_set (errno, "cannot list %s: %s", dir, strerror (errno));
        free (dir);
        free (ids);
        return NULL;
    }
    struct dirent *e;
    while ((e = readdir (d)))
        if (e->d_type == DT_DIR && isolator_id_valid (e->d_name))
            s_strv_push (&ids, &n, xstrdup (e->d_name));
    closedir (d);
    free (dir);
    return ids;
}
