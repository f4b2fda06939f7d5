/*  isolator.c - the posix isolator: each task is its own session, so its
    process group (pgid = the task's pid) reaches the task and every
    child that did not start a session of its own. No resource limits
    are enforced: use the cgroup isolators for that. Suitable for
    unprivileged use and for machines without usable cgroups.            */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "isolator.h"
#include "log.h"

struct _isolator_t {
    char *kind;
};

isolator_t *
isolator_new (const char *kind)
{
    if (!kind || strcmp (kind, "posix") != 0) {
        error_set (EINVAL, "isolation '%s' is not available: this agent supports posix",
                   kind ? kind : "");
        return NULL;
    }
    isolator_t *self = xzalloc (sizeof *self);
    self->kind = xstrdup (kind);
    return self;
}

void
isolator_destroy (isolator_t **self_p)
{
    if (self_p && *self_p) {
        free ((*self_p)->kind);
        free (*self_p);
        *self_p = NULL;
    }
}

const char *
isolator_name (isolator_t *self)
{
    return self->kind;
}

int
isolator_prepare (isolator_t *self, const char *id, const cairn_resources_t *resources,
                  char **join_path)
{
    *join_path = NULL;
    return 0;
}

int
isolator_signal (isolator_t *self, const char *id, pid_t pgid, int sig)
{
    if (pgid <= 1)
        return error_set (EINVAL, "container %s has no process group yet", id);
    if (kill (-pgid, sig) < 0 && errno != ESRCH)
        return error_set (errno, "cannot signal container %s: %s", id, strerror (errno));
    return 0;
}

bool
isolator_alive (isolator_t *self, const char *id, pid_t pgid)
{
    return pgid > 1 && (kill (-pgid, 0) == 0 || errno == EPERM);
}

void
isolator_cleanup (isolator_t *self, const char *id)
{
}
