/*  webui.c - the master's web UI files, embedded or from a directory.

    Names are flat (no '/'), made of letters, digits, '.', '-' and '_',
    and never start with '.': with --webui-dir a request cannot reach
    outside the directory, and with the embedded table the same rule
    keeps both modes answering the same URLs.                            */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "webui.h"

#define WEBUI_MAX_FILE (4u << 20)       /* bytes read from --webui-dir */

const char webui_headers[] =
    "Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'\n"
    "X-Content-Type-Options: nosniff\n"
    "Cache-Control: no-cache\n";

const char *
webui_content_type (const char *name)
{
    static const struct { const char *ext, *type; } types[] = {
        { ".html", "text/html; charset=utf-8" },
        { ".css", "text/css; charset=utf-8" },
        { ".js", "text/javascript; charset=utf-8" },
        { ".json", "application/json" },
        { ".svg", "image/svg+xml" },
        { ".png", "image/png" },
        { ".ico", "image/x-icon" },
        { ".txt", "text/plain; charset=utf-8" },
    };
    const char *dot = strrchr (name, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp (dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

static bool
s_name_valid (const char *name)
{
    if (!*name || name[0] == '.' || strlen (name) > 128)
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
              || *p == '.' || *p == '-' || *p == '_'))
            return false;
    return true;
}

static char *
s_read_file (const char *dir, const char *name, size_t *size)
{
    char *path = xasprintf ("%s/%s", dir, name);
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    free (path);
    struct stat st;
    if (fd < 0)
        return NULL;
    if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode) || st.st_size > WEBUI_MAX_FILE) {
        close (fd);
        errno = ENOENT;
        return NULL;
    }
    size_t want = (size_t) st.st_size, got = 0;
    char *data = xmalloc (want + 1);
    while (got < want) {
        ssize_t n = read (fd, data + got, want - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t) n;
    }
    close (fd);
    *size = got;
    return data;
}

char *
webui_load (const char *dir, const char *name, const char **type, size_t *size)
{
    if (!*name)
        name = "index.html";
    if (!s_name_valid (name)) {
        errno = ENOENT;
        return NULL;
    }
    *type = webui_content_type (name);
    if (dir)
        return s_read_file (dir, name, size);
    for (size_t i = 0; i < webui_nassets; i++)
        if (strcmp (webui_assets[i].name, name) == 0) {
            char *data = xmalloc (webui_assets[i].size + 1);
            *type = webui_assets[i].content_type;
            memcpy (data, webui_assets[i].data, webui_assets[i].size);
            *size = webui_assets[i].size;
            return data;
        }
    errno = ENOENT;
    return NULL;
}
