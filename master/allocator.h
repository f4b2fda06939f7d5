/*  allocator.h - who is offered what: the master's allocation policy.

    The master tells the allocator about agents, frameworks and every
    change in what is allocated; the allocator decides, when asked, which
    free resources go to which framework as offers. The default policy is
    Dominant Resource Fairness over cpus and mem with role weights.
    Another policy can be plugged in behind the same calls.

    Accounting: resources are "allocated" to a framework from the moment
    they are offered until they are recovered (declined, unused at
    accept, rescinded, or freed when a task ends). Launching a task moves
    nothing: offered resources stay allocated to the same framework.      */
#ifndef CAIRN_ALLOCATOR_H_INCLUDED
#define CAIRN_ALLOCATOR_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#include "cairn.h"

typedef struct _allocator_t allocator_t;

/*  Called by allocator_allocate for each offer it makes: `resources` is
    borrowed for the call and now allocated to the framework.              */
typedef void (allocator_offer_fn) (const char *framework_id, const char *agent_id,
                                   const cairn_resources_t *resources, void *arg);

/*  min_allocatable: free resources on an agent below this (in both cpus
    and mem) are not offered. Copied.                                     */
allocator_t *allocator_new (const cairn_resources_t *min_allocatable);
void allocator_destroy (allocator_t **self_p);

/*  Role weights (default 1). Returns -1 for a weight <= 0.                */
int allocator_set_weight (allocator_t *self, const char *role, double weight);
/*  A role's weight (1 unless set).                                        */
double allocator_weight (allocator_t *self, const char *role);

void allocator_add_agent (allocator_t *self, const char *agent_id,
                          const cairn_resources_t *total);
/*  The agent's total changed (it re-registered); what is allocated on it
    stays allocated.                                                       */
void allocator_update_agent (allocator_t *self, const char *agent_id,
                             const cairn_resources_t *total);
void allocator_remove_agent (allocator_t *self, const char *agent_id);
/*  An inactive agent (unreachable) gets no offers until reactivated.      */
void allocator_activate_agent (allocator_t *self, const char *agent_id, bool active);

void allocator_add_framework (allocator_t *self, const char *framework_id, const char *role);
void allocator_remove_framework (allocator_t *self, const char *framework_id);
/*  An inactive framework (disconnected) gets no offers.                   */
void allocator_activate_framework (allocator_t *self, const char *framework_id, bool active);
void allocator_suppress (allocator_t *self, const char *framework_id, bool suppressed);
/*  Clears the framework's decline filters.                                */
void allocator_revive (allocator_t *self, const char *framework_id);

/*  Marks resources on an agent as allocated to a framework without an
    offer (tasks an agent reports when it re-registers).                   */
void allocator_add_used (allocator_t *self, const char *agent_id, const char *framework_id,
                         const cairn_resources_t *resources);
/*  Returns resources from a framework to the agent's free pool. With
    refuse_ms > 0 the agent is filtered for that framework until
    now_ms + refuse_ms, as long as its free resources are within the ones
    returned here (resources freed meanwhile lift the filter).             */
void allocator_recover (allocator_t *self, const char *agent_id, const char *framework_id,
                        const cairn_resources_t *resources, int64_t refuse_ms, int64_t now_ms);
/*  The framework's offer on the agent is gone (accepted, declined,
    rescinded): the agent may be offered to it again.                      */
void allocator_offer_closed (allocator_t *self, const char *agent_id, const char *framework_id);

/*  Makes offers of free resources; returns how many.                       */
size_t allocator_allocate (allocator_t *self, int64_t now_ms, allocator_offer_fn *fn, void *arg);

/*  The framework's weighted dominant share.                               */
double allocator_share (allocator_t *self, const char *framework_id);

/*  Why nothing is offered, for the operator views; cheap (no run).
    Whether the framework asked for no offers.                            */
bool allocator_suppressed (allocator_t *self, const char *framework_id);
/*  Whether free resources this large are worth offering (min_allocatable). */
bool allocator_allocatable (allocator_t *self, const cairn_resources_t *free_res);
/*  The decline filters in force on the agent at now_ms (refuse time not
    elapsed, not voided by a revive): how many frameworks declined it.     */
size_t allocator_agent_filters (allocator_t *self, const char *agent_id, int64_t now_ms);
/*  Calls fn for each decline filter in force at now_ms, with the
    framework that declined and the agent (one pass over the agents).      */
typedef void (allocator_filter_fn) (const char *framework_id, const char *agent_id, void *arg);
void allocator_each_filter (allocator_t *self, int64_t now_ms, allocator_filter_fn *fn, void *arg);

/*  Bytes held by the allocator's own data structures (not the process).  */
size_t allocator_memory (allocator_t *self);

#endif
