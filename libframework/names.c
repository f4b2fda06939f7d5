/*  names.c - task state and reason names, as Mesos spells them.          */
#include "config.h"

#include <string.h>

#include "cairn.h"
#include "error.h"

static const char *s_states[CAIRN_TASK_STATE_COUNT] = {
    [CAIRN_TASK_STAGING] = "TASK_STAGING",
    [CAIRN_TASK_STARTING] = "TASK_STARTING",
    [CAIRN_TASK_RUNNING] = "TASK_RUNNING",
    [CAIRN_TASK_KILLING] = "TASK_KILLING",
    [CAIRN_TASK_FINISHED] = "TASK_FINISHED",
    [CAIRN_TASK_FAILED] = "TASK_FAILED",
    [CAIRN_TASK_KILLED] = "TASK_KILLED",
    [CAIRN_TASK_ERROR] = "TASK_ERROR",
    [CAIRN_TASK_LOST] = "TASK_LOST",
    [CAIRN_TASK_DROPPED] = "TASK_DROPPED",
    [CAIRN_TASK_UNREACHABLE] = "TASK_UNREACHABLE",
    [CAIRN_TASK_GONE] = "TASK_GONE",
    [CAIRN_TASK_UNKNOWN] = "TASK_UNKNOWN",
};

static const char *s_reasons[CAIRN_REASON_COUNT] = {
    [CAIRN_REASON_NONE] = "REASON_NONE",
    [CAIRN_REASON_COMMAND_EXECUTOR_FAILED] = "REASON_COMMAND_EXECUTOR_FAILED",
    [CAIRN_REASON_CONTAINER_LAUNCH_FAILED] = "REASON_CONTAINER_LAUNCH_FAILED",
    [CAIRN_REASON_CONTAINER_LIMITATION_MEMORY] = "REASON_CONTAINER_LIMITATION_MEMORY",
    [CAIRN_REASON_CONTAINER_LIMITATION_DISK] = "REASON_CONTAINER_LIMITATION_DISK",
    [CAIRN_REASON_AGENT_REMOVED] = "REASON_AGENT_REMOVED",
    [CAIRN_REASON_AGENT_DISCONNECTED] = "REASON_AGENT_DISCONNECTED",
    [CAIRN_REASON_AGENT_RESTARTED] = "REASON_AGENT_RESTARTED",
    [CAIRN_REASON_AGENT_UNKNOWN] = "REASON_AGENT_UNKNOWN",
    [CAIRN_REASON_FRAMEWORK_REMOVED] = "REASON_FRAMEWORK_REMOVED",
    [CAIRN_REASON_INVALID_OFFERS] = "REASON_INVALID_OFFERS",
    [CAIRN_REASON_TASK_INVALID] = "REASON_TASK_INVALID",
    [CAIRN_REASON_TASK_UNKNOWN] = "REASON_TASK_UNKNOWN",
    [CAIRN_REASON_TASK_KILLED_DURING_LAUNCH] = "REASON_TASK_KILLED_DURING_LAUNCH",
    [CAIRN_REASON_HEALTH_CHECK_FAILED] = "REASON_HEALTH_CHECK_FAILED",
    [CAIRN_REASON_KILLED_BY_SCHEDULER] = "REASON_KILLED_BY_SCHEDULER",
    [CAIRN_REASON_RECONCILIATION] = "REASON_RECONCILIATION",
    [CAIRN_REASON_FETCH_FAILED] = "REASON_FETCH_FAILED",
};

const char *
cairn_task_state_name (cairn_task_state_t state)
{
    if ((int) state < 0 || state >= CAIRN_TASK_STATE_COUNT)
        return NULL;
    return s_states[state];
}

int
cairn_task_state_parse (const char *name, cairn_task_state_t *state)
{
    if (!name || !state)
        return error_set (EINVAL, "no task state given");
    for (int i = 0; i < CAIRN_TASK_STATE_COUNT; i++)
        if (strcmp (s_states[i], name) == 0) {
            *state = (cairn_task_state_t) i;
            return 0;
        }
    return error_set (EINVAL, "'%s' is not a task state", name);
}

bool
cairn_task_state_is_terminal (cairn_task_state_t state)
{
    switch (state) {
        case CAIRN_TASK_FINISHED:
        case CAIRN_TASK_FAILED:
        case CAIRN_TASK_KILLED:
        case CAIRN_TASK_ERROR:
        case CAIRN_TASK_LOST:
        case CAIRN_TASK_DROPPED:
        case CAIRN_TASK_GONE:
            return true;
        default:
            return false;
    }
}

const char *
cairn_reason_name (cairn_reason_t reason)
{
    if ((int) reason < 0 || reason >= CAIRN_REASON_COUNT)
        return NULL;
    return s_reasons[reason];
}

int
cairn_reason_parse (const char *name, cairn_reason_t *reason)
{
    if (!name || !reason)
        return error_set (EINVAL, "no reason given");
    for (int i = 0; i < CAIRN_REASON_COUNT; i++)
        if (strcmp (s_reasons[i], name) == 0) {
            *reason = (cairn_reason_t) i;
            return 0;
        }
    return error_set (EINVAL, "'%s' is not a reason", name);
}
