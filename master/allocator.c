/*  allocator.c - Dominant Resource Fairness with role weights.

    Each cycle visits the agents with free resources and offers all of an
    agent's free resources to the eligible framework with the lowest
    weighted dominant share (its allocated cpus or mem, whichever is the
    larger fraction of the cluster, divided by its role's weight).
    Eligible: active, not suppressed, no outstanding offer on that agent,
    and no unexpired decline filter covering the agent's free resources.  */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "allocator.h"
#include "error.h"
#include "resources.h"

typedef struct {
    char *id;
    cairn_resources_t total;
    cairn_resources_t allocated;
    bool active;
} a_agent_t;

/*  A decline filter: until `expiry`, the agent is not offered to the
    framework while its free resources are within what was refused (as in
    Mesos): resources freed since then lift the filter early.             */
typedef struct {
    int64_t expiry;             /* ms */
    cairn_resources_t refused;
} filter_t;

typedef struct {
    char *id;
    char *role;
    cairn_resources_t allocated;
    bool active;
    bool suppressed;
    zhashx_t *filters;          /* agent id -> filter_t * */
    zhashx_t *offered;          /* agent id -> non-NULL: an offer is out */
    double share;               /* cached for the current cycle */
} a_framework_t;

struct _allocator_t {
    zhashx_t *agents;
    zhashx_t *frameworks;
    zhashx_t *weights;          /* role -> double * */
    cairn_resources_t total;    /* of active agents */
    cairn_resources_t min;
};

static void
s_agent_free (void **item)
{
    a_agent_t *a = *item;
    if (a) {
        free (a->id);
        resources_fini (&a->total);
        resources_fini (&a->allocated);
        free (a);
        *item = NULL;
    }
}

static void
s_framework_free (void **item)
{
    a_framework_t *f = *item;
    if (f) {
        free (f->id);
        free (f->role);
        resources_fini (&f->allocated);
        zhashx_destroy (&f->filters);
        zhashx_destroy (&f->offered);
        free (f);
        *item = NULL;
    }
}

static void
s_free (void **item)
{
    free (*item);
    *item = NULL;
}

static void
s_filter_free (void **item)
{
    filter_t *filter = *item;
    if (filter) {
        resources_fini (&filter->refused);
        free (filter);
        *item = NULL;
    }
}

allocator_t *
allocator_new (const cairn_resources_t *min_allocatable)
{
    allocator_t *self = xzalloc (sizeof *self);
    self->agents = zhashx_new ();
    zhashx_set_destructor (self->agents, s_agent_free);
    self->frameworks = zhashx_new ();
    zhashx_set_destructor (self->frameworks, s_framework_free);
    self->weights = zhashx_new ();
    zhashx_set_destructor (self->weights, s_free);
    if (min_allocatable)
        resources_copy (&self->min, min_allocatable);
    return self;
}

void
allocator_destroy (allocator_t **self_p)
{
    if (self_p && *self_p) {
        allocator_t *self = *self_p;
        zhashx_destroy (&self->agents);
        zhashx_destroy (&self->frameworks);
        zhashx_destroy (&self->weights);
        resources_fini (&self->total);
        resources_fini (&self->min);
        free (self);
        *self_p = NULL;
    }
}

int
allocator_set_weight (allocator_t *self, const char *role, double weight)
{
    if (!(weight > 0) || !isfinite (weight))
        return error_set (EINVAL, "the weight of role '%s' must be a positive number", role);
    double *w = xmalloc (sizeof *w);
    *w = weight;
    zhashx_update (self->weights, role, w);
    return 0;
}

static double
s_weight (allocator_t *self, const char *role)
{
    double *w = zhashx_lookup (self->weights, role);
    return w ? *w : 1.0;
}

void
allocator_add_agent (allocator_t *self, const char *agent_id, const cairn_resources_t *total)
{
    allocator_remove_agent (self, agent_id);
    a_agent_t *a = xzalloc (sizeof *a);
    a->id = xstrdup (agent_id);
    resources_copy (&a->total, total);
    a->active = true;
    zhashx_insert (self->agents, agent_id, a);
    cairn_resources_add (&self->total, total);
}

void
allocator_update_agent (allocator_t *self, const char *agent_id, const cairn_resources_t *total)
{
    a_agent_t *a = zhashx_lookup (self->agents, agent_id);
    if (!a) {
        allocator_add_agent (self, agent_id, total);
        return;
    }
    if (a->active) {
        cairn_resources_subtract (&self->total, &a->total);
        cairn_resources_add (&self->total, total);
    }
    resources_copy (&a->total, total);
}

void
allocator_remove_agent (allocator_t *self, const char *agent_id)
{
    a_agent_t *a = zhashx_lookup (self->agents, agent_id);
    if (!a)
        return;
    if (a->active)
        cairn_resources_subtract (&self->total, &a->total);
    a_framework_t *f;
    for (f = zhashx_first (self->frameworks); f; f = zhashx_next (self->frameworks)) {
        zhashx_delete (f->filters, agent_id);
        zhashx_delete (f->offered, agent_id);
    }
    zhashx_delete (self->agents, agent_id);
}

void
allocator_activate_agent (allocator_t *self, const char *agent_id, bool active)
{
    a_agent_t *a = zhashx_lookup (self->agents, agent_id);
    if (!a || a->active == active)
        return;
    a->active = active;
    if (active)
        cairn_resources_add (&self->total, &a->total);
    else
        cairn_resources_subtract (&self->total, &a->total);
}

void
allocator_add_framework (allocator_t *self, const char *framework_id, const char *role)
{
    a_framework_t *f = zhashx_lookup (self->frameworks, framework_id);
    if (f) {
        free (f->role);
        f->role = xstrdup (role);
        f->active = true;
        return;
    }
    f = xzalloc (sizeof *f);
    f->id = xstrdup (framework_id);
    f->role = xstrdup (role);
    f->active = true;
    f->filters = zhashx_new ();
    zhashx_set_destructor (f->filters, s_filter_free);
    f->offered = zhashx_new ();
    zhashx_insert (self->frameworks, framework_id, f);
}

void
allocator_remove_framework (allocator_t *self, const char *framework_id)
{
    zhashx_delete (self->frameworks, framework_id);
}

void
allocator_activate_framework (allocator_t *self, const char *framework_id, bool active)
{
    a_framework_t *f = zhashx_lookup (self->frameworks, framework_id);
    if (f)
        f->active = active;
}

void
allocator_suppress (allocator_t *self, const char *framework_id, bool suppressed)
{
    a_framework_t *f = zhashx_lookup (self->frameworks, framework_id);
    if (f)
        f->suppressed = suppressed;
}

void
allocator_revive (allocator_t *self, const char *framework_id)
{
    a_framework_t *f = zhashx_lookup (self->frameworks, framework_id);
    if (f) {
        zhashx_purge (f->filters);
        f->suppressed = false;
    }
}

void
allocator_add_used (allocator_t *self, const char *agent_id, const char *framework_id,
                    const cairn_resources_t *resources)
{
    a_agent_t *a = zhashx_lookup (self->agents, agent_id);
    a_framework_t *f = zhashx_lookup (self->frameworks, framework_id);
    if (a)
        cairn_resources_add (&a->allocated, resources);
    if (f)
        cairn_resources_add (&f->allocated, resources);
}

/*  Subtracts what can be subtracted: after a master restart the books
    are rebuilt from reports and may not match to the port.               */
static void
s_subtract (cairn_resources_t *from, const cairn_resources_t *what)
{
    if (cairn_resources_subtract (from, what) == 0)
        return;
    from->millicpus -= what->millicpus < from->millicpus ? what->millicpus : from->millicpus;
    from->mem -= what->mem < from->mem ? what->mem : from->mem;
    from->disk -= what->disk < from->disk ? what->disk : from->disk;
    for (size_t i = 0; i < what->nranges; i++) {
        cairn_resources_t one;
        resources_init (&one);
        cairn_resources_add_ports (&one, what->ranges[2 * i], what->ranges[2 * i + 1]);
        cairn_resources_subtract (from, &one);
        resources_fini (&one);
    }
}

void
allocator_recover (allocator_t *self, const char *agent_id, const char *framework_id,
                   const cairn_resources_t *resources, int64_t refuse_ms, int64_t now_ms)
{
    a_agent_t *a = zhashx_lookup (self->agents, agent_id);
    a_framework_t *f = zhashx_lookup (self->frameworks, framework_id);
    if (a)
        s_subtract (&a->allocated, resources);
    if (f) {
        s_subtract (&f->allocated, resources);
        if (refuse_ms > 0 && a) {
            filter_t *filter = xzalloc (sizeof *filter);
            filter->expiry = now_ms + refuse_ms;
            resources_copy (&filter->refused, resources);
            zhashx_update (f->filters, agent_id, filter);
        }
    }
}

void
allocator_offer_closed (allocator_t *self, const char *agent_id, const char *framework_id)
{
    a_framework_t *f = zhashx_lookup (self->frameworks, framework_id);
    if (f)
        zhashx_delete (f->offered, agent_id);
}

static double
s_share (allocator_t *self, a_framework_t *f)
{
    return resources_dominant_share (&f->allocated, &self->total) / s_weight (self, f->role);
}

static bool
s_allocatable (allocator_t *self, const cairn_resources_t *free_res)
{
    /*  Worth offering if either dimension reaches the minimum: a
        memory-only remainder still runs memory-light work.               */
    bool cpus = free_res->millicpus > 0 && free_res->millicpus >= self->min.millicpus;
    bool mem = free_res->mem > 0 && free_res->mem >= self->min.mem;
    return cpus || mem;
}

static bool
s_filtered (a_framework_t *f, const char *agent_id, const cairn_resources_t *free_res,
            int64_t now_ms)
{
    if (zhashx_lookup (f->offered, agent_id))
        return true;
    filter_t *filter = zhashx_lookup (f->filters, agent_id);
    if (!filter)
        return false;
    if (now_ms >= filter->expiry) {
        zhashx_delete (f->filters, agent_id);
        return false;
    }
    return cairn_resources_contains (&filter->refused, free_res);
}

size_t
allocator_allocate (allocator_t *self, int64_t now_ms, allocator_offer_fn *fn, void *arg)
{
    size_t nfw = zhashx_size (self->frameworks);
    if (nfw == 0)
        return 0;
    a_framework_t **fws = xmalloc (nfw * sizeof *fws);
    size_t n = 0;
    a_framework_t *f;
    for (f = zhashx_first (self->frameworks); f; f = zhashx_next (self->frameworks))
        if (f->active && !f->suppressed) {
            f->share = s_share (self, f);
            fws[n++] = f;
        }
    size_t offers = 0;
    cairn_resources_t free_res;
    resources_init (&free_res);
    a_agent_t *a;
    for (a = zhashx_first (self->agents); a && n; a = zhashx_next (self->agents)) {
        if (!a->active)
            continue;
        resources_copy (&free_res, &a->total);
        s_subtract (&free_res, &a->allocated);
        if (!s_allocatable (self, &free_res))
            continue;
        a_framework_t *best = NULL;
        for (size_t i = 0; i < n; i++) {
            if (best && fws[i]->share >= best->share)
                continue;
            if (s_filtered (fws[i], a->id, &free_res, now_ms))
                continue;
            best = fws[i];
        }
        if (!best)
            continue;
        cairn_resources_add (&a->allocated, &free_res);
        cairn_resources_add (&best->allocated, &free_res);
        zhashx_update (best->offered, a->id, best);
        best->share = s_share (self, best);
        fn (best->id, a->id, &free_res, arg);
        offers++;
    }
    resources_fini (&free_res);
    free (fws);
    return offers;
}

double
allocator_share (allocator_t *self, const char *framework_id)
{
    a_framework_t *f = zhashx_lookup (self->frameworks, framework_id);
    return f ? s_share (self, f) : 0.0;
}
