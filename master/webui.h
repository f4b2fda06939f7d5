/*  webui.h - the master's web UI: the files of webui/, embedded in the
    binary at build time (webui/embed.sh writes the table), or read from
    a directory on each request (--webui-dir, for development).          */
#ifndef CAIRN_WEBUI_H_INCLUDED
#define CAIRN_WEBUI_H_INCLUDED

#include <stddef.h>

typedef struct {
    const char *name;                   /* "index.html": no directories */
    const char *content_type;
    const unsigned char *data;
    size_t size;
} webui_asset_t;

/*  The embedded files (generated: webui-assets.c).                        */
extern const webui_asset_t webui_assets[];
extern const size_t webui_nassets;

/*  The Content-Type for a file name, by its extension.                    */
const char *webui_content_type (const char *name);

/*  The headers every UI answer carries (Content-Security-Policy and
    X-Content-Type-Options), as "Name: value" lines.                      */
extern const char webui_headers[];

/*  The file called name (e.g. "app.js"; "" means index.html), from dir if
    it is not NULL, else from the embedded table. Returns a malloc'd copy
    of its bytes (*size, *type borrowed), or NULL with errno: ENOENT (no
    such file, or a name that is not a plain file name), or a read error. */
char *webui_load (const char *dir, const char *name, const char **type, size_t *size);

#endif
