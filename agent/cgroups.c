/*  cgroups.c - libcgroup 2.0.2 and the pieces of the cgroup filesystem it
    lacks. See cgroups.h for which is which and why.

    libcgroup keeps a process-wide mount table filled by cgroup_init; it
    is initialized once and used from one thread (the agent's loop).
    Its error codes are mapped to errno values here, so callers see one
    error convention.                                                      */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <libcgroup.h>

#include "cgroups.h"
#include "error.h"
#include "log.h"

/*  Exported by libcgroup 2.0.2 (symbol version CGROUP_2.0) but declared
    only in its internal header; the enum mirrors libcgroup-internal.h.   */
enum cg_version_t {
    CGROUP_UNK = 0,
    CGROUP_V1,
    CGROUP_V2,
};
int cgroup_get_controller_version (const char *const controller,
                                   enum cg_version_t *const version);

static bool s_initialized;

/*  libcgroup's default logger prints to stdout; its messages are details
    for debugging, ours carry the sentence people read.                    */
static void
s_logger (void *userdata, int level, const char *fmt, va_list ap)
{
    char text[1024];
    vsnprintf (text, sizeof text, fmt, ap);
    log_debug ("libcgroup: %s", text);
}

/*  The errno behind a libcgroup error code.                               */
static int
s_errno (int rc)
{
    switch (rc) {
        case ECGOTHER: {
            int e = cgroup_get_last_errno ();
            return e ? e : EIO;
        }
        case ECGROUPNOTOWNER:
            return EPERM;
        case ECGROUPNOTALLOWED:
            return EACCES;
        case ECGNONEMPTY:
            return EBUSY;
        case ECGROUPNOTEXIST:
        case ECGROUPVALUENOTEXIST:
        case ECGROUPUNSUPP:
            return ENOENT;
        case ECGROUPSUBSYSNOTMOUNTED:
        case ECGROUPNOTMOUNTED:
            return ENODEV;
        case ECGINVAL:
            return EINVAL;
        default:
            return EIO;
    }
}

/*  error_set for a failed libcgroup call: "WHAT: REASON".                  */
static int
s_fail (int rc, const char *what)
{
    int err = s_errno (rc);
    if (rc == ECGOTHER || rc == ECGROUPNOTOWNER || rc == ECGROUPNOTALLOWED || rc == ECGNONEMPTY)
        return error_set (err, "%s: %s", what, strerror (err));
    return error_set (err, "%s: %s", what, cgroup_strerror (rc));
}

int
cgroups_init (void)
{
    if (s_initialized)
        return 0;
    cgroup_set_logger (s_logger, log_enabled (LOG_LEVEL_DEBUG) ? CGROUP_LOG_DEBUG
                                                              : CGROUP_LOG_WARNING, NULL);
    int rc = cgroup_init ();
    if (rc == ECGROUPNOTMOUNTED)
        return error_set (ENODEV, "no cgroup hierarchy is mounted");
    if (rc != 0)
        return s_fail (rc, "cannot initialize libcgroup");
    s_initialized = true;
    return 0;
}

cgroups_version_t
cgroups_version (const char *controller)
{
    enum cg_version_t v = CGROUP_UNK;
    if (!s_initialized || cgroup_get_controller_version (controller, &v) != 0)
        return CGROUPS_NONE;
    return v == CGROUP_V1 ? CGROUPS_V1 : v == CGROUP_V2 ? CGROUPS_V2 : CGROUPS_NONE;
}

char *
cgroups_path (const char *controller, const char *name, const char *file)
{
    char *mount = NULL;
    int rc = s_initialized ? cgroup_get_subsys_mount_point (controller, &mount)
                           : ECGROUPNOTINITIALIZED;
    if (rc != 0 || !mount) {
        free (mount);
        error_set (ENODEV, "the %s controller is not mounted", controller);
        return NULL;
    }
    while (name && *name == '/')
        name++;
    char *path = xasprintf ("%s%s%s%s%s", mount, name && *name ? "/" : "", name ? name : "",
                            file ? "/" : "", file ? file : "");
    free (mount);
    return path;
}

bool
cgroups_exists (const char *controller, const char *name, const char *file)
{
    char *path = cgroups_path (controller, name, file);
    bool yes = path && access (path, F_OK) == 0;
    free (path);
    return yes;
}

/*  A libcgroup group object for `name` with `controllers`.                */
static struct cgroup *
s_group (const char *name, const char *const *controllers)
{
    struct cgroup *cg = cgroup_new_cgroup (name);
    if (!cg)
        oom_abort ();
    for (size_t i = 0; controllers[i]; i++)
        if (!cgroup_add_controller (cg, controllers[i]))
            oom_abort ();
    return cg;
}

int
cgroups_set (const char *controller, const char *name, const char *file, const char *value)
{
    const char *one[] = { controller, NULL };
    struct cgroup *cg = s_group (name, one);
    int rc = cgroup_add_value_string (cgroup_get_controller (cg, controller), file, value);
    if (rc == 0)
        rc = cgroup_modify_cgroup (cg);
    cgroup_free (&cg);
    if (rc != 0) {
        char what[512];
        snprintf (what, sizeof what, "cannot write %s to %s of cgroup %s", value, file, name);
        return s_fail (rc, what);
    }
    return 0;
}

int
cgroups_create (const char *name, const char *const *controllers,
                const cgroups_setting_t *settings, size_t count)
{
    /*  First with every value in the one call: libcgroup reads
        /proc/mounts again for each call that writes, and a task's
        cgroups are created on the launch path. If that fails, the values
        go one at a time below, so a failure names its file.             */
    if (count > 0) {
        struct cgroup *fast = s_group (name, controllers);
        bool ok = true;
        for (size_t i = 0; i < count && ok; i++) {
            struct cgroup_controller *c = cgroup_get_controller (fast, settings[i].controller);
            ok = c && cgroup_add_value_string (c, settings[i].file, settings[i].value) == 0;
        }
        int rc = ok ? cgroup_create_cgroup (fast, 1) : -1;
        if (rc == 0) {
            cgroup_free (&fast);
            return 0;
        }
        if (ok)
            cgroup_delete_cgroup_ext (fast, CGFLAG_DELETE_EMPTY_ONLY);
        cgroup_free (&fast);
    }
    struct cgroup *cg = s_group (name, controllers);
    int rc = cgroup_create_cgroup (cg, 1);
    if (rc != 0 && s_errno (rc) == ENOENT)
        rc = cgroup_create_cgroup (cg, 1);  /* a parent vanished under us: once more */
    if (rc != 0) {
        char what[512];
        snprintf (what, sizeof what, "cannot create cgroup %s", name);
        s_fail (rc, what);
        cgroup_delete_cgroup_ext (cg, CGFLAG_DELETE_EMPTY_ONLY);
        cgroup_free (&cg);
        return -1;
    }
    /*  One value at a time, so a failure names its file (libcgroup's
        create with values says only that something failed).             */
    for (size_t i = 0; i < count; i++)
        if (cgroups_set (settings[i].controller, name, settings[i].file, settings[i].value) < 0) {
            int saved = errno;
            cgroup_delete_cgroup_ext (cg, CGFLAG_DELETE_EMPTY_ONLY);
            cgroup_free (&cg);
            errno = saved;
            return -1;
        }
    cgroup_free (&cg);
    return 0;
}

int
cgroups_delete (const char *name, const char *const *controllers)
{
    struct cgroup *cg = s_group (name, controllers);
    int rc = cgroup_delete_cgroup_ext (cg, CGFLAG_DELETE_EMPTY_ONLY);
    cgroup_free (&cg);
    if (rc != 0) {
        char what[512];
        snprintf (what, sizeof what, "cannot remove cgroup %s", name);
        return s_fail (rc, what);
    }
    return 0;
}

int
cgroups_read (const char *controller, const char *name, const char *file, char *buf, size_t size)
{
    char line[4096];
    void *handle = NULL;
    size_t len = 0;
    buf[0] = '\0';
    int rc = cgroup_read_value_begin (controller, name, (char *) file, &handle, line,
                                      sizeof line);
    while (rc == 0) {
        size_t n = strlen (line);
        if (len + n >= size)
            n = size - 1 - len;
        memcpy (buf + len, line, n);
        len += n;
        buf[len] = '\0';
        rc = cgroup_read_value_next (&handle, line, sizeof line);
    }
    if (handle)
        cgroup_read_value_end (&handle);
    if (rc != ECGEOF) {
        char what[512];
        snprintf (what, sizeof what, "cannot read %s of cgroup %s", file, name);
        return s_fail (rc, what);
    }
    return 0;
}

int
cgroups_read_u64 (const char *controller, const char *name, const char *file, uint64_t *value)
{
    char buf[128];
    if (cgroups_read (controller, name, file, buf, sizeof buf) < 0)
        return -1;
    if (strncmp (buf, "max", 3) == 0) {
        *value = UINT64_MAX;
        return 0;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull (buf, &end, 10);
    if (end == buf || errno)
        return error_set (EINVAL, "%s of cgroup %s does not hold a number: '%.40s'", file,
                          name, buf);
    *value = v;
    return 0;
}

int
cgroups_read_key (const char *controller, const char *name, const char *file, const char *key,
                  uint64_t *value)
{
    char buf[4096];
    if (cgroups_read (controller, name, file, buf, sizeof buf) < 0)
        return -1;
    size_t klen = strlen (key);
    for (const char *line = buf; line; line = strchr (line, '\n'), line = line ? line + 1 : NULL)
        if (strncmp (line, key, klen) == 0 && line[klen] == ' ') {
            *value = strtoull (line + klen + 1, NULL, 10);
            return 0;
        }
    return error_set (ENOENT, "%s of cgroup %s has no %s", file, name, key);
}

int
cgroups_procs (const char *controller, const char *name, pid_t **pids, size_t *count)
{
    char *n = xstrdup (name), *c = xstrdup (controller);
    pid_t *list = NULL;
    int size = 0;
    int rc = cgroup_get_procs (n, c, &list, &size);
    free (n);
    free (c);
    *pids = NULL;
    *count = 0;
    if (rc != 0) {
        char what[512];
        snprintf (what, sizeof what, "cannot list the processes of cgroup %s", name);
        /*  libcgroup says ECGROUPUNSUPP for a missing cgroup.procs.       */
        return s_fail (rc == ECGROUPUNSUPP ? ECGROUPNOTEXIST : rc, what);
    }
    if (size > 0) {
        *pids = list;
        *count = (size_t) size;
    }
    else
        free (list);
    return 0;
}

int
cgroups_signal (const char *controller, const char *name, int sig)
{
    pid_t *pids;
    size_t count;
    if (cgroups_procs (controller, name, &pids, &count) < 0)
        return -1;
    int n = 0;
    for (size_t i = 0; i < count; i++)
        if (pids[i] > 1 && kill (pids[i], sig) == 0)
            n++;
    free (pids);
    return n;
}

/*  cgroup v2 through the filesystem  */

/*  The path of file in group name of the v2 hierarchy (NULL + error_set
    when neither cpu nor memory is on v2). Caller frees.                   */
static char *
s_v2_path (const char *name, const char *file)
{
    const char *controller = cgroups_version ("memory") == CGROUPS_V2 ? "memory"
                           : cgroups_version ("cpu") == CGROUPS_V2 ? "cpu" : NULL;
    if (!controller) {
        error_set (ENODEV, "no cgroup v2 hierarchy with controllers is mounted");
        return NULL;
    }
    return cgroups_path (controller, name, file);
}

static int
s_write (const char *path, const char *text)
{
    int fd = open (path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return error_set (errno, "cannot open %s: %s", path, strerror (errno));
    ssize_t n = write (fd, text, strlen (text));
    int saved = errno;
    close (fd);
    if (n < 0)
        return error_set (saved, "cannot write '%s' to %s: %s", text, path, strerror (saved));
    return 0;
}

static int
s_v2_write (const char *name, const char *file, const char *text)
{
    char *path = s_v2_path (name, file);
    if (!path)
        return -1;
    int rc = s_write (path, text);
    free (path);
    return rc;
}

/*  Reads a small v2 file into buf; -1 + error_set.                         */
static int
s_v2_read (const char *name, const char *file, char *buf, size_t size)
{
    char *path = s_v2_path (name, file);
    if (!path)
        return -1;
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        error_set (errno, "cannot open %s: %s", path, strerror (errno));
        free (path);
        return -1;
    }
    ssize_t n = read (fd, buf, size - 1);
    int saved = errno;
    close (fd);
    if (n < 0) {
        error_set (saved, "cannot read %s: %s", path, strerror (saved));
        free (path);
        return -1;
    }
    free (path);
    buf[n] = '\0';
    return 0;
}

char *
cgroups_v2_self (void)
{
    FILE *f = fopen ("/proc/self/cgroup", "re");
    if (!f) {
        error_set (errno, "cannot read /proc/self/cgroup: %s", strerror (errno));
        return NULL;
    }
    char line[4200];
    char *found = NULL;
    while (fgets (line, sizeof line, f))
        if (strncmp (line, "0::", 3) == 0) {
            line[strcspn (line, "\n")] = '\0';
            const char *p = line + 3;
            while (*p == '/')
                p++;
            found = xstrdup (p);
            break;
        }
    fclose (f);
    if (!found)
        error_set (ENOENT, "/proc/self/cgroup has no cgroup v2 entry");
    else if (strncmp (found, "..", 2) == 0) {
        error_set (EINVAL, "this process's cgroup (%s) is outside its cgroup namespace", found);
        free (found);
        found = NULL;
    }
    return found;
}

bool
cgroups_v2_is_root (const char *name)
{
    char *path = s_v2_path (name, "cgroup.type");
    bool root = path && access (path, F_OK) < 0 && errno == ENOENT;
    free (path);
    return root;
}

int
cgroups_v2_kill (const char *name)
{
    return s_v2_write (name, "cgroup.kill", "1");
}

int
cgroups_v2_freeze (const char *name, bool frozen)
{
    return s_v2_write (name, "cgroup.freeze", frozen ? "1" : "0");
}

int
cgroups_v2_event (const char *name, const char *key)
{
    char buf[256];
    if (s_v2_read (name, "cgroup.events", buf, sizeof buf) < 0)
        return -1;
    size_t n = strlen (key);
    for (const char *p = buf; p; p = strchr (p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp (p, key, n) == 0 && p[n] == ' ')
            return atoi (p + n + 1) ? 1 : 0;
    return error_set (ENOENT, "cgroup.events of %s has no '%s'", name, key);
}

bool
cgroups_v2_delegated (const char *name)
{
    char *path = s_v2_path (name, NULL);
    if (!path)
        return false;
    bool yes = false;
    const char *attrs[] = { "trusted.delegate", "user.delegate" };
    for (size_t i = 0; i < 2 && !yes; i++) {
        char value[8];
        ssize_t n = getxattr (path, attrs[i], value, sizeof value - 1);
        if (n > 0) {
            value[n] = '\0';
            yes = value[0] == '1';
        }
    }
    free (path);
    return yes;
}

/*  True if word is one of the space-separated words of list.              */
static bool
s_has_word (const char *list, const char *word)
{
    size_t n = strlen (word);
    for (const char *p = list; (p = strstr (p, word)); p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || p[n] == '\0'))
            return true;
    return false;
}

bool
cgroups_v2_offers (const char *name, const char *const *controllers, bool subtree)
{
    char buf[512];
    if (s_v2_read (name, subtree ? "cgroup.subtree_control" : "cgroup.controllers", buf,
                   sizeof buf) < 0)
        return false;
    for (size_t i = 0; controllers[i]; i++)
        if (!s_has_word (buf, controllers[i]))
            return false;
    return true;
}

int
cgroups_v2_enable (const char *name, const char *const *controllers)
{
    char buf[512];
    if (s_v2_read (name, "cgroup.subtree_control", buf, sizeof buf) < 0)
        return -1;
    for (size_t i = 0; controllers[i]; i++) {
        if (s_has_word (buf, controllers[i]))
            continue;
        char plus[64];
        snprintf (plus, sizeof plus, "+%s", controllers[i]);
        if (s_v2_write (name, "cgroup.subtree_control", plus) < 0)
            return -1;
    }
    return 0;
}

int
cgroups_v2_mkdir (const char *name)
{
    char *path = s_v2_path (name, NULL);
    if (!path)
        return -1;
    char *root = s_v2_path ("", NULL);
    size_t start = root ? strlen (root) : 0;
    free (root);
    if (strlen (path) <= start + 1) {
        free (path);
        return 0;               /* the root itself */
    }
    for (char *p = path + start + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            if (mkdir (path, 0755) < 0 && errno != EEXIST) {
                error_set (errno, "cannot create cgroup %s: %s", path, strerror (errno));
                free (path);
                return -1;
            }
            *p = saved;
            if (!saved)
                break;
        }
    }
    free (path);
    return 0;
}

int
cgroups_v2_move (const char *name, pid_t pid)
{
    char text[32];
    snprintf (text, sizeof text, "%d", (int) pid);
    return s_v2_write (name, "cgroup.procs", text);
}
