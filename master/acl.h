/*  acl.h - the master's authorization rules (--acl=FILE, JSON).

        {
          "register_frameworks": [ { "principals": ["svc"], "roles": ["prod"] } ],
          "register_agents":     [ { "principals": "ANY" } ],
          "run_tasks":           [ { "principals": ["svc"], "users": ["nobody"] } ],
          "teardown_frameworks": [ { "principals": ["ops"],
                                     "framework_principals": "ANY" } ],
          "operator":            [ { "principals": ["ops"],
                                     "actions": ["kill", "drain", "undrain", "gone",
                                                 "teardown"] } ]
        }

    Each section is a list of rules that allow; a rule matches when its
    principals and its object (roles, users, ...) both match, each being
    a list of names or the string "ANY". A request in a section that is
    present is allowed only if one of its rules matches; a section that
    is absent allows everything. Without an ACL (NULL) everything is
    allowed. A NULL principal (unauthenticated) matches only "ANY".
    Unknown sections or keys make the file invalid.                       */
#ifndef CAIRN_ACL_H_INCLUDED
#define CAIRN_ACL_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    ACL_REGISTER_FRAMEWORKS,    /* object: the role */
    ACL_REGISTER_AGENTS,        /* no object */
    ACL_RUN_TASKS,              /* object: the user */
    ACL_TEARDOWN_FRAMEWORKS,    /* object: the framework's principal */
    ACL_OPERATOR,               /* object: kill, drain, undrain, gone, teardown */
    ACL_NSECTIONS
} acl_section_t;

typedef struct _acl_t acl_t;

/*  Reads and checks an ACL file; NULL with errno and a sentence naming
    the file and the fault (cairn_strerror_last).                         */
acl_t *acl_load (const char *path);
void acl_destroy (acl_t **self_p);

/*  The section's name in the file ("register_frameworks", ...).           */
const char *acl_section_name (acl_section_t section);

/*  Whether principal may do what section says to object (NULL for
    register_agents). self may be NULL (no ACL: allowed). When denied,
    why gets a sentence naming the section, e.g. "the ACL's
    register_frameworks rules do not let principal 'x' use role 'prod'". */
bool acl_allows (const acl_t *self, acl_section_t section, const char *principal,
                 const char *object, char *why, size_t why_size);

#endif
