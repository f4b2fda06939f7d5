/*  ids.h - identifiers: framework, agent, offer and status-update ids.  */
#ifndef CAIRN_IDS_H_INCLUDED
#define CAIRN_IDS_H_INCLUDED

#include <stddef.h>

/*  "<prefix>-<16 hex digits>" from the kernel's random source; caller
    frees.                                                                 */
char *ids_new (const char *prefix);

/*  32 hex digits (128 random bits) into out (33 bytes).                   */
void ids_uuid (char out[33]);

#endif
