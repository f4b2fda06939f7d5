/*  ids.c - random identifiers. getrandom(2) never blocks once the
    kernel's pool is initialized, which happens early at boot.            */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <sys/random.h>

#include "error.h"
#include "ids.h"

static void
s_random (void *buf, size_t size)
{
    uint8_t *p = buf;
    while (size > 0) {
        ssize_t n = getrandom (p, size, 0);
        if (n < 0)
            continue;           /* EINTR */
        p += n;
        size -= (size_t) n;
    }
}

static void
s_hex (const uint8_t *bytes, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[bytes[i] >> 4];
        out[2 * i + 1] = hex[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

char *
ids_new (const char *prefix)
{
    uint8_t bytes[8];
    char hex[17];
    s_random (bytes, sizeof bytes);
    s_hex (bytes, sizeof bytes, hex);
    return xasprintf ("%s-%s", prefix, hex);
}

void
ids_uuid (char out[33])
{
    uint8_t bytes[16];
    s_random (bytes, sizeof bytes);
    s_hex (bytes, sizeof bytes, out);
}
