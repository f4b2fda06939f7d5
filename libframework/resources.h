/*  resources.h - the resource model's representation, for the daemons and
    the codec. Programs outside the project use only cairn.h.             */
#ifndef CAIRN_RESOURCES_H_INCLUDED
#define CAIRN_RESOURCES_H_INCLUDED

#include "cairn.h"

#define RESOURCES_MAX_MILLICPUS  1000000000LL     /* a million cpus */
#define RESOURCES_MAX_MEM        (1ULL << 40)     /* MiB: 1 EiB */
#define RESOURCES_MAX_RANGES     1024

struct _cairn_resources_t {
    int64_t millicpus;
    uint64_t mem;                   /* MiB */
    uint64_t disk;                  /* MiB */
    size_t nranges;                 /* port ranges, sorted, disjoint, */
    size_t cap;                     /* and never adjacent (merged) */
    uint16_t *ranges;               /* 2 * nranges: begin, end inclusive */
};

/*  Initializes / releases a resources value embedded in another struct.  */
void resources_init (cairn_resources_t *self);
void resources_fini (cairn_resources_t *self);
void resources_copy (cairn_resources_t *dst, const cairn_resources_t *src);
void resources_clear (cairn_resources_t *self);

/*  The dominant share of `self` against `total` (0..1 or more), over
    cpus and mem.                                                           */
double resources_dominant_share (const cairn_resources_t *self,
                                 const cairn_resources_t *total);

#endif
