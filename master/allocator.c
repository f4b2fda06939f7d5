/*  allocator.c - Dominant Resource Fairness with role weights, built to
    stay fast at tens of thousands of agents and a thousand frameworks.

    A run visits only candidate agents: those whose free resources or
    eligibility may have changed since the last run (added, resources
    recovered, an offer closed, a decline filter expired), or every agent
    after an event that can make any agent newly eligible (a framework
    added, activated, revived or unsuppressed). Each candidate's free
    resources go, as one offer, to the eligible framework with the lowest
    weighted dominant share: the frameworks are kept sorted by share for
    the run, and a framework that receives an offer moves to its new
    place (a binary search and one memmove).

    Eligible: active, not suppressed, no outstanding offer on that agent
    (a bit per agent in the framework's bitset) and no unexpired decline
    filter covering the agent's free resources. Filters live with their
    agent (a short array), with a heap of expiry times so that an agent
    becomes a candidate again when a filter ends; a framework's filters
    are invalidated all at once by bumping its filter generation (revive,
    removal), without visiting any agent.

    Agents and frameworks are slots in arrays, named by index inside the
    allocator and by id at its interface.                                  */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "allocator.h"
#include "error.h"
#include "resources.h"

typedef struct {
    int32_t fw;                 /* framework slot */
    uint32_t gen;               /* the framework's filter generation then */
    int64_t expiry;             /* ms */
    cairn_resources_t refused;
} filter_t;

typedef struct {
    char *id;
    cairn_resources_t total;
    cairn_resources_t allocated;
    filter_t *filters;
    uint32_t nfilters, cfilters;
    bool in_use;
    bool active;
    bool candidate;             /* listed in self->cand */
} a_agent_t;

typedef struct {
    char *id;
    char *role;
    cairn_resources_t allocated;
    uint64_t *offered;          /* bit per agent slot: an offer is out */
    size_t nwords;
    uint32_t filter_gen;        /* filters of older generations are void */
    double share;               /* weighted dominant share */
    bool in_use;
    bool active;
    bool suppressed;
} a_framework_t;

typedef struct {
    int64_t expiry;
    int32_t agent;
} expiry_t;

struct _allocator_t {
    a_agent_t *agents;
    size_t nagents, cagents;            /* slots used / allocated */
    int32_t *free_agents;               /* reusable agent slots */
    size_t nfree_agents, cfree_agents;
    a_framework_t *frameworks;
    size_t nframeworks, cframeworks;
    int32_t *free_frameworks;
    size_t nfree_frameworks, cfree_frameworks;
    zhashx_t *agent_index;              /* id -> slot + 1 */
    zhashx_t *framework_index;          /* id -> slot + 1 */
    zhashx_t *weights;                  /* role -> double * */
    cairn_resources_t total;            /* of active agents */
    cairn_resources_t min;
    int32_t *cand;                      /* candidate agents for the next run */
    size_t ncand, ccand;
    bool all_candidates;
    expiry_t *heap;                     /* min-heap of filter expiries */
    size_t nheap, cheap;
    int32_t *order;                     /* frameworks by share, during a run */
    size_t corder;
    cairn_resources_t scratch;
};

#define GROW(ptr, count, cap, need) GROW_FROM (ptr, cap, need, 16)
#define GROW_FROM(ptr, cap, need, first) do { \
        if ((need) > (cap)) { \
            size_t _c = (cap) ? (cap) * 2 : (first); \
            while (_c < (need)) \
                _c *= 2; \
            (ptr) = xrealloc ((ptr), _c * sizeof *(ptr)); \
            (cap) = _c; \
        } \
    } while (0)

static void
s_free (void **item)
{
    free (*item);
    *item = NULL;
}

allocator_t *
allocator_new (const cairn_resources_t *min_allocatable)
{
    allocator_t *self = xzalloc (sizeof *self);
    self->agent_index = zhashx_new ();
    self->framework_index = zhashx_new ();
    self->weights = zhashx_new ();
    zhashx_set_destructor (self->weights, s_free);
    if (min_allocatable)
        resources_copy (&self->min, min_allocatable);
    return self;
}

static void
s_agent_fini (a_agent_t *a)
{
    free (a->id);
    resources_fini (&a->total);
    resources_fini (&a->allocated);
    for (uint32_t i = 0; i < a->nfilters; i++)
        resources_fini (&a->filters[i].refused);
    free (a->filters);
    memset (a, 0, sizeof *a);
}

static void
s_framework_fini (a_framework_t *f)
{
    uint32_t gen = f->filter_gen;
    free (f->id);
    free (f->role);
    resources_fini (&f->allocated);
    free (f->offered);
    memset (f, 0, sizeof *f);
    /*  Filters still naming this slot must not match its next tenant.    */
    f->filter_gen = gen + 1;
}

void
allocator_destroy (allocator_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    allocator_t *self = *self_p;
    for (size_t i = 0; i < self->nagents; i++)
        s_agent_fini (&self->agents[i]);
    for (size_t i = 0; i < self->nframeworks; i++)
        s_framework_fini (&self->frameworks[i]);
    free (self->agents);
    free (self->frameworks);
    free (self->free_agents);
    free (self->free_frameworks);
    zhashx_destroy (&self->agent_index);
    zhashx_destroy (&self->framework_index);
    zhashx_destroy (&self->weights);
    resources_fini (&self->total);
    resources_fini (&self->min);
    resources_fini (&self->scratch);
    free (self->cand);
    free (self->heap);
    free (self->order);
    free (self);
    *self_p = NULL;
}

/*  Lookups and weights  */

static int32_t
s_lookup (zhashx_t *index, const char *id)
{
    void *v = zhashx_lookup (index, id);
    return v ? (int32_t) ((intptr_t) v - 1) : -1;
}

static a_agent_t *
s_agent (allocator_t *self, const char *id)
{
    int32_t i = s_lookup (self->agent_index, id);
    return i < 0 ? NULL : &self->agents[i];
}

static a_framework_t *
s_framework (allocator_t *self, const char *id)
{
    int32_t i = s_lookup (self->framework_index, id);
    return i < 0 ? NULL : &self->frameworks[i];
}

int
allocator_set_weight (allocator_t *self, const char *role, double weight)
{
    if (!(weight > 0) || !isfinite (weight))
        return error_set (EINVAL, "the weight of role '%s' must be a positive number", role);
    double *w = xmalloc (sizeof *w);
    *w = weight;
    zhashx_update (self->weights, role, w);
    self->all_candidates = true;
    return 0;
}

static double
s_weight (allocator_t *self, const char *role)
{
    double *w = zhashx_lookup (self->weights, role);
    return w ? *w : 1.0;
}

double
allocator_weight (allocator_t *self, const char *role)
{
    return s_weight (self, role);
}

static double
s_share (allocator_t *self, a_framework_t *f)
{
    return resources_dominant_share (&f->allocated, &self->total) / s_weight (self, f->role);
}

/*  Candidates and filter expiries  */

static void
s_mark (allocator_t *self, int32_t agent)
{
    a_agent_t *a = &self->agents[agent];
    if (a->candidate)
        return;
    a->candidate = true;
    GROW (self->cand, self->ncand, self->ccand, self->ncand + 1);
    self->cand[self->ncand++] = agent;
}

static void
s_heap_push (allocator_t *self, int64_t expiry, int32_t agent)
{
    GROW (self->heap, self->nheap, self->cheap, self->nheap + 1);
    size_t i = self->nheap++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (self->heap[parent].expiry <= expiry)
            break;
        self->heap[i] = self->heap[parent];
        i = parent;
    }
    self->heap[i] = (expiry_t) { expiry, agent };
}

static expiry_t
s_heap_pop (allocator_t *self)
{
    expiry_t top = self->heap[0];
    expiry_t last = self->heap[--self->nheap];
    size_t i = 0, n = self->nheap;
    while (true) {
        size_t child = 2 * i + 1;
        if (child >= n)
            break;
        if (child + 1 < n && self->heap[child + 1].expiry < self->heap[child].expiry)
            child++;
        if (self->heap[child].expiry >= last.expiry)
            break;
        self->heap[i] = self->heap[child];
        i = child;
    }
    if (n)
        self->heap[i] = last;
    return top;
}

/*  Bits  */

static bool
s_bit (const a_framework_t *f, int32_t agent)
{
    size_t w = (size_t) agent / 64;
    return w < f->nwords && (f->offered[w] >> (agent % 64)) & 1;
}

static void
s_set_bit (a_framework_t *f, int32_t agent, bool on)
{
    size_t w = (size_t) agent / 64;
    if (w >= f->nwords) {
        if (!on)
            return;
        size_t n = f->nwords ? f->nwords : 1;
        while (n <= w)
            n *= 2;
        f->offered = xrealloc (f->offered, n * sizeof (uint64_t));
        memset (f->offered + f->nwords, 0, (n - f->nwords) * sizeof (uint64_t));
        f->nwords = n;
    }
    if (on)
        f->offered[w] |= 1ull << (agent % 64);
    else
        f->offered[w] &= ~(1ull << (agent % 64));
}

/*  Agents  */

void
allocator_add_agent (allocator_t *self, const char *agent_id, const cairn_resources_t *total)
{
    allocator_remove_agent (self, agent_id);
    int32_t i;
    if (self->nfree_agents)
        i = self->free_agents[--self->nfree_agents];
    else {
        GROW (self->agents, self->nagents, self->cagents, self->nagents + 1);
        i = (int32_t) self->nagents++;
        memset (&self->agents[i], 0, sizeof self->agents[i]);
    }
    a_agent_t *a = &self->agents[i];
    a->id = xstrdup (agent_id);
    resources_copy (&a->total, total);
    a->in_use = true;
    a->active = true;
    zhashx_insert (self->agent_index, agent_id, (void *) (intptr_t) (i + 1));
    cairn_resources_add (&self->total, total);
    s_mark (self, i);
}

void
allocator_update_agent (allocator_t *self, const char *agent_id, const cairn_resources_t *total)
{
    a_agent_t *a = s_agent (self, agent_id);
    if (!a) {
        allocator_add_agent (self, agent_id, total);
        return;
    }
    if (a->active) {
        cairn_resources_subtract (&self->total, &a->total);
        cairn_resources_add (&self->total, total);
    }
    resources_copy (&a->total, total);
    s_mark (self, (int32_t) (a - self->agents));
}

void
allocator_remove_agent (allocator_t *self, const char *agent_id)
{
    int32_t i = s_lookup (self->agent_index, agent_id);
    if (i < 0)
        return;
    a_agent_t *a = &self->agents[i];
    if (a->active)
        cairn_resources_subtract (&self->total, &a->total);
    for (size_t k = 0; k < self->nframeworks; k++)
        if (self->frameworks[k].in_use)
            s_set_bit (&self->frameworks[k], i, false);
    zhashx_delete (self->agent_index, agent_id);
    bool listed = a->candidate;
    s_agent_fini (a);
    /*  A slot still listed as a candidate is skipped when the run finds
        it unused; keep the flag so it is not listed twice if reused.     */
    a->candidate = listed;
    GROW (self->free_agents, self->nfree_agents, self->cfree_agents, self->nfree_agents + 1);
    self->free_agents[self->nfree_agents++] = i;
}

void
allocator_activate_agent (allocator_t *self, const char *agent_id, bool active)
{
    a_agent_t *a = s_agent (self, agent_id);
    if (!a || a->active == active)
        return;
    a->active = active;
    if (active) {
        cairn_resources_add (&self->total, &a->total);
        s_mark (self, (int32_t) (a - self->agents));
    }
    else
        cairn_resources_subtract (&self->total, &a->total);
}

/*  Frameworks  */

void
allocator_add_framework (allocator_t *self, const char *framework_id, const char *role)
{
    a_framework_t *f = s_framework (self, framework_id);
    if (f) {
        free (f->role);
        f->role = xstrdup (role);
        f->active = true;
        self->all_candidates = true;
        return;
    }
    int32_t i;
    if (self->nfree_frameworks)
        i = self->free_frameworks[--self->nfree_frameworks];
    else {
        GROW (self->frameworks, self->nframeworks, self->cframeworks, self->nframeworks + 1);
        i = (int32_t) self->nframeworks++;
        memset (&self->frameworks[i], 0, sizeof self->frameworks[i]);
    }
    f = &self->frameworks[i];
    f->id = xstrdup (framework_id);
    f->role = xstrdup (role);
    f->in_use = true;
    f->active = true;
    zhashx_insert (self->framework_index, framework_id, (void *) (intptr_t) (i + 1));
    self->all_candidates = true;
}

void
allocator_remove_framework (allocator_t *self, const char *framework_id)
{
    int32_t i = s_lookup (self->framework_index, framework_id);
    if (i < 0)
        return;
    zhashx_delete (self->framework_index, framework_id);
    s_framework_fini (&self->frameworks[i]);
    GROW (self->free_frameworks, self->nfree_frameworks, self->cfree_frameworks,
          self->nfree_frameworks + 1);
    self->free_frameworks[self->nfree_frameworks++] = i;
}

void
allocator_activate_framework (allocator_t *self, const char *framework_id, bool active)
{
    a_framework_t *f = s_framework (self, framework_id);
    if (!f || f->active == active)
        return;
    f->active = active;
    if (active)
        self->all_candidates = true;
}

void
allocator_suppress (allocator_t *self, const char *framework_id, bool suppressed)
{
    a_framework_t *f = s_framework (self, framework_id);
    if (!f || f->suppressed == suppressed)
        return;
    f->suppressed = suppressed;
    if (!suppressed)
        self->all_candidates = true;
}

void
allocator_revive (allocator_t *self, const char *framework_id)
{
    a_framework_t *f = s_framework (self, framework_id);
    if (!f)
        return;
    f->filter_gen++;
    f->suppressed = false;
    self->all_candidates = true;
}

/*  Accounting  */

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
allocator_add_used (allocator_t *self, const char *agent_id, const char *framework_id,
                    const cairn_resources_t *resources)
{
    a_agent_t *a = s_agent (self, agent_id);
    a_framework_t *f = s_framework (self, framework_id);
    if (a)
        cairn_resources_add (&a->allocated, resources);
    if (f)
        cairn_resources_add (&f->allocated, resources);
}

void
allocator_recover (allocator_t *self, const char *agent_id, const char *framework_id,
                   const cairn_resources_t *resources, int64_t refuse_ms, int64_t now_ms)
{
    int32_t ai = s_lookup (self->agent_index, agent_id);
    int32_t fi = s_lookup (self->framework_index, framework_id);
    if (ai >= 0) {
        s_subtract (&self->agents[ai].allocated, resources);
        s_mark (self, ai);
    }
    if (fi < 0)
        return;
    a_framework_t *f = &self->frameworks[fi];
    s_subtract (&f->allocated, resources);
    if (refuse_ms <= 0 || ai < 0)
        return;
    a_agent_t *a = &self->agents[ai];
    filter_t *filter = NULL;
    for (uint32_t k = 0; k < a->nfilters; k++)
        if (a->filters[k].fw == fi)
            filter = &a->filters[k];
    if (!filter) {
        /*  Most agents carry a filter or two: grow from one.             */
        GROW_FROM (a->filters, a->cfilters, a->nfilters + 1, 1);
        filter = &a->filters[a->nfilters++];
        memset (filter, 0, sizeof *filter);
        filter->fw = fi;
    }
    filter->gen = f->filter_gen;
    filter->expiry = now_ms + refuse_ms;
    resources_copy (&filter->refused, resources);
    s_heap_push (self, filter->expiry, ai);
}

void
allocator_offer_closed (allocator_t *self, const char *agent_id, const char *framework_id)
{
    int32_t ai = s_lookup (self->agent_index, agent_id);
    a_framework_t *f = s_framework (self, framework_id);
    if (ai < 0 || !f)
        return;
    s_set_bit (f, ai, false);
    s_mark (self, ai);
}

/*  Allocation  */

static bool
s_allocatable (allocator_t *self, const cairn_resources_t *free_res)
{
    /*  Worth offering if either dimension reaches the minimum: a
        memory-only remainder still runs memory-light work.               */
    bool cpus = free_res->millicpus > 0 && free_res->millicpus >= self->min.millicpus;
    bool mem = free_res->mem > 0 && free_res->mem >= self->min.mem;
    return cpus || mem;
}

/*  Drops the agent's void and expired filters; true if one of the rest
    keeps framework fi away from the free resources.                      */
static bool
s_filtered (allocator_t *self, a_agent_t *a, int32_t fi, const cairn_resources_t *free_res,
            int64_t now)
{
    bool filtered = false;
    uint32_t k = 0;
    while (k < a->nfilters) {
        filter_t *flt = &a->filters[k];
        if (flt->expiry <= now || flt->gen != self->frameworks[flt->fw].filter_gen) {
            resources_fini (&flt->refused);
            a->filters[k] = a->filters[--a->nfilters];
            continue;
        }
        if (flt->fw == fi && cairn_resources_contains (&flt->refused, free_res))
            filtered = true;
        k++;
    }
    return filtered;
}

bool
allocator_allocatable (allocator_t *self, const cairn_resources_t *free_res)
{
    return s_allocatable (self, free_res);
}

bool
allocator_suppressed (allocator_t *self, const char *framework_id)
{
    a_framework_t *f = s_framework (self, framework_id);
    return f && f->suppressed;
}

/*  A filter in force: not expired, not voided (read-only, unlike
    s_filtered, which also drops the dead ones).                          */
static bool
s_in_force (const allocator_t *self, const filter_t *flt, int64_t now)
{
    const a_framework_t *f = &self->frameworks[flt->fw];
    return flt->expiry > now && f->in_use && flt->gen == f->filter_gen;
}

size_t
allocator_agent_filters (allocator_t *self, const char *agent_id, int64_t now_ms)
{
    a_agent_t *a = s_agent (self, agent_id);
    size_t n = 0;
    for (uint32_t k = 0; a && k < a->nfilters; k++)
        n += s_in_force (self, &a->filters[k], now_ms);
    return n;
}

void
allocator_each_filter (allocator_t *self, int64_t now_ms, allocator_filter_fn *fn, void *arg)
{
    for (size_t i = 0; i < self->nagents; i++) {
        a_agent_t *a = &self->agents[i];
        if (!a->in_use)
            continue;
        for (uint32_t k = 0; k < a->nfilters; k++)
            if (s_in_force (self, &a->filters[k], now_ms))
                fn (self->frameworks[a->filters[k].fw].id, a->id, arg);
    }
}

static bool
s_before (const allocator_t *self, int32_t x, int32_t y)
{
    double sx = self->frameworks[x].share, sy = self->frameworks[y].share;
    return sx < sy || (sx == sy && x < y);
}

static int
s_order_cmp (const void *a, const void *b, void *arg)
{
    const allocator_t *self = arg;
    int32_t x = *(const int32_t *) a, y = *(const int32_t *) b;
    return s_before (self, x, y) ? -1 : s_before (self, y, x) ? 1 : 0;
}

/*  Moves order[i], whose share just grew, to its place further on.       */
static void
s_reposition (allocator_t *self, size_t i, size_t n)
{
    int32_t fi = self->order[i];
    size_t lo = i + 1, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s_before (self, self->order[mid], fi))
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t dest = lo - 1;
    if (dest > i) {
        memmove (self->order + i, self->order + i + 1, (dest - i) * sizeof (int32_t));
        self->order[dest] = fi;
    }
}

/*  Offers the free resources of one agent; true if an offer was made.    */
static bool
s_allocate_agent (allocator_t *self, int32_t ai, size_t n, int64_t now, allocator_offer_fn *fn,
                  void *arg)
{
    a_agent_t *a = &self->agents[ai];
    cairn_resources_t *free_res = &self->scratch;
    resources_copy (free_res, &a->total);
    s_subtract (free_res, &a->allocated);
    if (!s_allocatable (self, free_res))
        return false;
    for (size_t i = 0; i < n; i++) {
        int32_t fi = self->order[i];
        a_framework_t *f = &self->frameworks[fi];
        if (s_bit (f, ai))
            continue;
        if (a->nfilters && s_filtered (self, a, fi, free_res, now))
            continue;
        cairn_resources_add (&a->allocated, free_res);
        cairn_resources_add (&f->allocated, free_res);
        s_set_bit (f, ai, true);
        f->share = s_share (self, f);
        s_reposition (self, i, n);
        fn (f->id, a->id, free_res, arg);
        return true;
    }
    return false;
}

size_t
allocator_allocate (allocator_t *self, int64_t now_ms, allocator_offer_fn *fn, void *arg)
{
    /*  Agents whose filters ended since the last run are candidates.     */
    while (self->nheap && self->heap[0].expiry <= now_ms) {
        expiry_t e = s_heap_pop (self);
        if ((size_t) e.agent < self->nagents && self->agents[e.agent].in_use)
            s_mark (self, e.agent);
    }
    GROW (self->order, 0, self->corder, self->nframeworks);
    size_t n = 0;
    for (size_t i = 0; i < self->nframeworks; i++) {
        a_framework_t *f = &self->frameworks[i];
        if (f->in_use && f->active && !f->suppressed) {
            f->share = s_share (self, f);
            self->order[n++] = (int32_t) i;
        }
    }
    if (n > 1)
        qsort_r (self->order, n, sizeof (int32_t), s_order_cmp, self);
    size_t offers = 0;
    if (n > 0) {
        if (self->all_candidates) {
            for (size_t i = 0; i < self->nagents; i++)
                if (self->agents[i].in_use && self->agents[i].active)
                    offers += s_allocate_agent (self, (int32_t) i, n, now_ms, fn, arg);
        }
        else {
            for (size_t k = 0; k < self->ncand; k++) {
                int32_t ai = self->cand[k];
                if (self->agents[ai].in_use && self->agents[ai].active)
                    offers += s_allocate_agent (self, ai, n, now_ms, fn, arg);
            }
        }
    }
    else if (!self->all_candidates)
        return 0;           /* keep the candidates for when a framework comes */
    for (size_t k = 0; k < self->ncand; k++)
        self->agents[self->cand[k]].candidate = false;
    self->ncand = 0;
    self->all_candidates = false;
    return offers;
}

double
allocator_share (allocator_t *self, const char *framework_id)
{
    a_framework_t *f = s_framework (self, framework_id);
    return f ? s_share (self, f) : 0.0;
}

size_t
allocator_memory (allocator_t *self)
{
    size_t bytes = sizeof *self;
    bytes += self->cagents * sizeof (a_agent_t) + self->cfree_agents * sizeof (int32_t);
    bytes += self->cframeworks * sizeof (a_framework_t) + self->corder * sizeof (int32_t);
    bytes += self->cfree_frameworks * sizeof (int32_t);
    bytes += self->ccand * sizeof (int32_t) + self->cheap * sizeof (expiry_t);
    for (size_t i = 0; i < self->nagents; i++) {
        a_agent_t *a = &self->agents[i];
        if (!a->in_use)
            continue;
        bytes += strlen (a->id) + 1;
        bytes += (a->total.cap + a->allocated.cap) * 2 * sizeof (uint16_t);
        bytes += a->cfilters * sizeof (filter_t);
        for (uint32_t k = 0; k < a->nfilters; k++)
            bytes += a->filters[k].refused.cap * 2 * sizeof (uint16_t);
    }
    for (size_t i = 0; i < self->nframeworks; i++) {
        a_framework_t *f = &self->frameworks[i];
        if (f->in_use)
            bytes += strlen (f->id) + strlen (f->role) + 2 + f->nwords * sizeof (uint64_t)
                   + f->allocated.cap * 2 * sizeof (uint16_t);
    }
    /*  The two id indexes: one zhashx item (key copy, value, links) per
        entry, measured as about 48 bytes plus the key.                   */
    bytes += (zhashx_size (self->agent_index) + zhashx_size (self->framework_index)) * 48;
    return bytes;
}
