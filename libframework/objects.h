/*  objects.h - the representation of the public objects (framework info,
    offers, tasks, statuses): thin wrappers over the codec's structs so a
    received message becomes an object without re-parsing.               */
#ifndef CAIRN_OBJECTS_H_INCLUDED
#define CAIRN_OBJECTS_H_INCLUDED

#include "cairn.h"
#include "proto.h"

struct _cairn_framework_info_t {
    proto_framework_info_t info;
};

struct _cairn_offer_t {
    proto_offer_t offer;
};

struct _cairn_task_t {
    proto_task_t task;
    unsigned port_count;        /* ports to pick from the offer at accept */
};

struct _cairn_status_t {
    proto_status_t status;
};

/*  A borrowed view of a decoded offer/status (no copy): the wrapper
    structs are layout-identical to the codec structs they hold.          */
static inline cairn_offer_t *
offer_view (proto_offer_t *offer)
{
    return (cairn_offer_t *) offer;
}

static inline const cairn_status_t *
status_view (const proto_status_t *status)
{
    return (const cairn_status_t *) status;
}

#endif
