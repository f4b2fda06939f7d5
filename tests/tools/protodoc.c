/*  protodoc.c - the generated parts of doc/protocol.md.

    Prints, from the codec itself, the blocks of doc/protocol.md that must
    never drift from the code: the message types and their numbers, the
    task state and reason names, the protocol's limits, one field table
    per message type (from proto_describe) and example bodies (from
    proto_msg_example, encoded by proto_encode and rendered back by an
    independent msgpack reader). Each block sits between two marker lines:

        <!-- BEGIN GENERATED: protodoc NAME -->
        ...
        <!-- END GENERATED: protodoc NAME -->

    Usage:
        protodoc                 print every block, in document order
        protodoc --types         print the message type names, one a line
        protodoc --update FILE   rewrite the blocks of FILE in place

    To regenerate the document after a change to the codec, from the
    build directory:

        make tests/tools/protodoc
        tests/tools/protodoc --update $(top_srcdir)/doc/protocol.md

    (or `make protodoc-update`). --update refuses to write when the
    file's blocks are not exactly the generated blocks in the generated
    order: a new message type needs its own section and marker lines,
    written by hand. tests/integration/protocol-doc.sh fails while the
    document and this output differ.

    The output is deterministic: no clocks, no random ids, no hash order. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn.h"
#include "proto.h"
#include "resources.h"
#include "transport.h"

#define MARK_BEGIN  "<!-- BEGIN GENERATED: protodoc "
#define MARK_END    "<!-- END GENERATED: protodoc "
#define MARK_CLOSE  " -->"

/*  Output buffer: blocks are built in memory so --update can splice.     */

typedef struct {
    char *data;
    size_t len, cap;
} buf_t;

static void
s_die (const char *fmt, ...) __attribute__ ((format (printf, 1, 2), noreturn));

static void
s_die (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    fputs ("protodoc: ", stderr);
    vfprintf (stderr, fmt, ap);
    fputc ('\n', stderr);
    va_end (ap);
    exit (1);
}

static void
s_put (buf_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *data = realloc (b->data, cap);
        if (!data)
            s_die ("out of memory");
        b->data = data;
        b->cap = cap;
    }
    memcpy (b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void
s_printf (buf_t *b, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
s_printf (buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    char *text = NULL;
    int n = vasprintf (&text, fmt, ap);
    va_end (ap);
    if (n < 0)
        s_die ("out of memory");
    s_put (b, text, (size_t) n);
    free (text);
}

/*  A table cell: '|' would end the cell early in markdown.               */
static void
s_cell (buf_t *b, const char *text)
{
    for (const char *p = text; *p; p++) {
        if (*p == '|')
            s_put (b, "\\|", 2);
        else
            s_put (b, p, 1);
    }
}

/*  Blocks  */

typedef struct {
    char name[64];
    buf_t text;                 /* the lines between the markers */
} block_t;

typedef struct {
    block_t *items;
    size_t count;
} blocks_t;

static buf_t *
s_block (blocks_t *blocks, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static buf_t *
s_block (blocks_t *blocks, const char *fmt, ...)
{
    block_t *items = realloc (blocks->items, (blocks->count + 1) * sizeof *items);
    if (!items)
        s_die ("out of memory");
    blocks->items = items;
    block_t *blk = &items[blocks->count++];
    memset (blk, 0, sizeof *blk);
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (blk->name, sizeof blk->name, fmt, ap);
    va_end (ap);
    return &blk->text;
}

/*  The protocol's limits.                                                 */
static void
s_limits (blocks_t *blocks)
{
    buf_t *b = s_block (blocks, "limits");
    s_printf (b, "| Constant | Value | Meaning |\n");
    s_printf (b, "|---|---|---|\n");
    s_printf (b, "| `PROTO_SIG0`, `PROTO_SIG1` | `0x%02X`, `0x%02X` | first two bytes of every header frame |\n",
              PROTO_SIG0, PROTO_SIG1);
    s_printf (b, "| `PROTO_VERSION` | %d | the protocol version in byte 2 of the header |\n",
              PROTO_VERSION);
    s_printf (b, "| `PROTO_HEADER_SIZE` | %d | bytes in the header frame |\n", PROTO_HEADER_SIZE);
    s_printf (b, "| `PROTO_MAX_BODY` | %u | bytes in one body frame |\n", PROTO_MAX_BODY);
    s_printf (b, "| `TRANSPORT_MAX_MSGSIZE` | %" PRId64 " | ZeroMQ `ZMQ_MAXMSGSIZE` on every Cairn socket: a larger frame drops the connection |\n",
              (int64_t) TRANSPORT_MAX_MSGSIZE);
    s_printf (b, "| `PROTO_MAX_OBJECTS` | %u | msgpack values in one body (map keys count) |\n",
              PROTO_MAX_OBJECTS);
    s_printf (b, "| `PROTO_MAX_DEPTH` | %d | nesting of non-empty arrays and maps, the body's map included |\n",
              PROTO_MAX_DEPTH);
    s_printf (b, "| `PROTO_MAX_ID` | %d | bytes in an id (`[A-Za-z0-9._:-]`, not `.` or `..`) |\n", PROTO_MAX_ID);
    s_printf (b, "| `PROTO_MAX_NAME` | %d | bytes in names, hostnames, roles, map keys |\n",
              PROTO_MAX_NAME);
    s_printf (b, "| `PROTO_MAX_TEXT` | %d | bytes in messages for people |\n", PROTO_MAX_TEXT);
    s_printf (b, "| `PROTO_MAX_COMMAND` | %d | bytes in shell commands, argv items, environment values |\n",
              PROTO_MAX_COMMAND);
    s_printf (b, "| `PROTO_MAX_TASKS` | %d | tasks in one ACCEPT or RUN_TASKS |\n", PROTO_MAX_TASKS);
    s_printf (b, "| `PROTO_MAX_ITEMS` | %d | offers, offer ids, task ids, reported tasks in one message |\n",
              PROTO_MAX_ITEMS);
    s_printf (b, "| `PROTO_MAX_KV` | %d | entries in env, labels, attributes |\n", PROTO_MAX_KV);
    s_printf (b, "| `RESOURCES_MAX_MILLICPUS` | %lld | `millicpus` in one resources map |\n",
              (long long) RESOURCES_MAX_MILLICPUS);
    s_printf (b, "| `RESOURCES_MAX_MEM` | %llu | `mem` and `disk` (MiB) in one resources map |\n",
              (unsigned long long) RESOURCES_MAX_MEM);
    s_printf (b, "| `RESOURCES_MAX_RANGES` | %d | port ranges in one resources map |\n",
              RESOURCES_MAX_RANGES);
}

/*  The message types and their numbers.                                   */
static void
s_types (blocks_t *blocks)
{
    buf_t *b = s_block (blocks, "types");
    s_printf (b, "| Type | Header byte 3 | Name |\n");
    s_printf (b, "|---|---|---|\n");
    for (size_t i = 0; i < proto_type_count (); i++) {
        proto_type_t t = proto_type_at (i);
        s_printf (b, "| %d | `0x%02x` | `%s` |\n", (int) t, (unsigned) t, proto_type_name (t));
    }
}

static void
s_states (blocks_t *blocks)
{
    buf_t *b = s_block (blocks, "states");
    s_printf (b, "| Task state | Terminal |\n");
    s_printf (b, "|---|---|\n");
    for (int s = 0; s < CAIRN_TASK_STATE_COUNT; s++)
        s_printf (b, "| `%s` | %s |\n", cairn_task_state_name ((cairn_task_state_t) s),
                  cairn_task_state_is_terminal ((cairn_task_state_t) s) ? "yes" : "no");
    b = s_block (blocks, "reasons");
    s_printf (b, "| Reason |\n");
    s_printf (b, "|---|\n");
    for (int r = 0; r < CAIRN_REASON_COUNT; r++)
        s_printf (b, "| `%s` |\n", cairn_reason_name ((cairn_reason_t) r));
}

/*  Field tables.                                                          */

typedef struct {
    buf_t *b;
    size_t rows;
} table_t;

static void
s_field_row (const char *path, const char *type, bool required, const char *limits, void *arg)
{
    table_t *table = arg;
    buf_t *b = table->b;
    /*  A default applies only when an optional field is left out.        */
    char lim[256];
    snprintf (lim, sizeof lim, "%s", limits);
    char *def = strstr (lim, ", default ");
    if (required && def)
        *def = '\0';
    s_put (b, "| `", 3);
    s_cell (b, path);
    s_put (b, "` | ", 4);
    s_cell (b, type);
    s_printf (b, " | %s | ", required ? "yes" : "no");
    s_cell (b, lim);
    s_put (b, " |\n", 3);
    table->rows++;
}

static void
s_fields (blocks_t *blocks, proto_type_t type)
{
    buf_t *b = s_block (blocks, "fields %s", proto_type_name (type));
    buf_t rows = { 0 };
    table_t table = { &rows, 0 };
    proto_describe (type, s_field_row, &table);
    if (table.rows == 0)
        s_printf (b, "No fields: the body is an empty map (one byte, `0x80`).\n");
    else {
        s_printf (b, "| Field | Type | Required | Limits |\n");
        s_printf (b, "|---|---|---|---|\n");
        s_put (b, rows.data, rows.len);
    }
    free (rows.data);
}

/*  Examples: an independent msgpack reader renders the encoded body as
    JSON, so the document shows what is on the wire, not what the codec
    meant to write.                                                        */

typedef struct {
    const uint8_t *p;
    size_t n, pos;
} reader_t;

static uint64_t
s_be (reader_t *r, unsigned width)
{
    if (r->n - r->pos < width)
        s_die ("example body truncated");
    uint64_t v = 0;
    for (unsigned i = 0; i < width; i++)
        v = (v << 8) | r->p[r->pos++];
    return v;
}

static void
s_indent (buf_t *b, int depth)
{
    for (int i = 0; i < depth; i++)
        s_put (b, "  ", 2);
}

static void
s_json_str (buf_t *b, const uint8_t *s, size_t n)
{
    s_put (b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c == '"' || c == '\\')
            s_printf (b, "\\%c", c);
        else if (c < 0x20)
            s_printf (b, "\\u%04x", c);
        else
            s_put (b, (const char *) &s[i], 1);
    }
    s_put (b, "\"", 1);
}

/*  Shortest text that reads back as the same double.                      */
static void
s_json_double (buf_t *b, double d)
{
    char text[64];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf (text, sizeof text, "%.*g", prec, d);
        if (strtod (text, NULL) == d)
            break;
    }
    s_printf (b, "%s", text);
    if (!strpbrk (text, ".eE"))
        s_printf (b, ".0");
}

static void s_json_value (reader_t *r, buf_t *b, int depth);

static void
s_json_container (reader_t *r, buf_t *b, int depth, uint64_t count, bool map)
{
    if (count == 0) {
        s_put (b, map ? "{}" : "[]", 2);
        return;
    }
    /*  Arrays of scalars stay on one line: port ranges, argv, ids.       */
    bool flat = !map;
    if (flat) {
        reader_t peek = *r;
        for (uint64_t i = 0; i < count && flat; i++) {
            uint8_t c = peek.p[peek.pos];
            if ((c >= 0x80 && c <= 0x9f) || c == 0xdc || c == 0xdd || c == 0xde || c == 0xdf) {
                /*  A small array of integers ([begin, end]) is still flat. */
                if (c == 0x92 && count <= 64) {
                    buf_t skip = { 0 };
                    s_json_value (&peek, &skip, 0);
                    flat = strchr (skip.data, '\n') == NULL && strchr (skip.data, '"') == NULL;
                    free (skip.data);
                }
                else
                    flat = false;
            }
            else {
                buf_t skip = { 0 };
                s_json_value (&peek, &skip, 0);
                free (skip.data);
            }
        }
    }
    s_put (b, map ? "{" : "[", 1);
    for (uint64_t i = 0; i < count; i++) {
        if (i)
            s_put (b, flat ? ", " : ",", flat ? 2 : 1);
        if (!flat) {
            s_put (b, "\n", 1);
            s_indent (b, depth + 1);
        }
        s_json_value (r, b, depth + 1);
        if (map) {
            s_put (b, ": ", 2);
            s_json_value (r, b, depth + 1);
        }
    }
    if (!flat) {
        s_put (b, "\n", 1);
        s_indent (b, depth);
    }
    s_put (b, map ? "}" : "]", 1);
}

static void
s_json_value (reader_t *r, buf_t *b, int depth)
{
    if (r->pos >= r->n)
        s_die ("example body truncated");
    uint8_t c = r->p[r->pos++];
    if (c <= 0x7f)
        s_printf (b, "%u", c);
    else if (c >= 0xe0)
        s_printf (b, "%d", (int) (int8_t) c);
    else if (c <= 0x8f)
        s_json_container (r, b, depth, c & 0x0f, true);
    else if (c <= 0x9f)
        s_json_container (r, b, depth, c & 0x0f, false);
    else if (c <= 0xbf) {
        size_t n = c & 0x1f;
        if (r->n - r->pos < n)
            s_die ("example body truncated");
        s_json_str (b, r->p + r->pos, n);
        r->pos += n;
    }
    else {
        switch (c) {
            case 0xc0: s_printf (b, "null"); break;
            case 0xc2: s_printf (b, "false"); break;
            case 0xc3: s_printf (b, "true"); break;
            case 0xcc: s_printf (b, "%" PRIu64, s_be (r, 1)); break;
            case 0xcd: s_printf (b, "%" PRIu64, s_be (r, 2)); break;
            case 0xce: s_printf (b, "%" PRIu64, s_be (r, 4)); break;
            case 0xcf: s_printf (b, "%" PRIu64, s_be (r, 8)); break;
            case 0xd0: s_printf (b, "%d", (int) (int8_t) s_be (r, 1)); break;
            case 0xd1: s_printf (b, "%d", (int) (int16_t) s_be (r, 2)); break;
            case 0xd2: s_printf (b, "%" PRId32, (int32_t) s_be (r, 4)); break;
            case 0xd3: s_printf (b, "%" PRId64, (int64_t) s_be (r, 8)); break;
            case 0xca: {
                uint32_t u = (uint32_t) s_be (r, 4);
                float f;
                memcpy (&f, &u, sizeof f);
                s_json_double (b, f);
                break;
            }
            case 0xcb: {
                uint64_t u = s_be (r, 8);
                double d;
                memcpy (&d, &u, sizeof d);
                s_json_double (b, d);
                break;
            }
            case 0xd9: case 0xda: case 0xdb: {
                uint64_t n = s_be (r, c == 0xd9 ? 1 : c == 0xda ? 2 : 4);
                if (r->n - r->pos < n)
                    s_die ("example body truncated");
                s_json_str (b, r->p + r->pos, (size_t) n);
                r->pos += (size_t) n;
                break;
            }
            case 0xdc: s_json_container (r, b, depth, s_be (r, 2), false); break;
            case 0xdd: s_json_container (r, b, depth, s_be (r, 4), false); break;
            case 0xde: s_json_container (r, b, depth, s_be (r, 2), true); break;
            case 0xdf: s_json_container (r, b, depth, s_be (r, 4), true); break;
            default:
                /*  The codec never writes bin, ext or 0xc1.                */
                s_die ("example body holds msgpack type byte 0x%02x", c);
        }
    }
}

static void
s_hex (buf_t *b, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        s_printf (b, "%s%02x", i ? " " : "", p[i]);
}

static void
s_example (buf_t *b, proto_type_t type, bool hex)
{
    proto_msg_t *msg = proto_msg_example (type);
    uint8_t hdr[PROTO_HEADER_SIZE];
    char *body = NULL;
    size_t size = 0;
    proto_fault_t fault;
    if (proto_encode (msg, hdr, &body, &size, &fault) < 0)
        s_die ("the example %s does not encode: %s", proto_type_name (type), fault.text);
    proto_msg_destroy (&msg);
    s_printf (b, "%s (header frame `", proto_type_name (type));
    s_hex (b, hdr, sizeof hdr);
    s_printf (b, "`, body %zu bytes)", size);
    if (hex) {
        s_printf (b, ", body bytes:\n\n```\n");
        for (size_t off = 0; off < size; off += 16) {
            s_hex (b, (const uint8_t *) body + off, size - off < 16 ? size - off : 16);
            s_put (b, "\n", 1);
        }
        s_printf (b, "```\n\nwhich reads as:\n");
    }
    else
        s_printf (b, ":\n");
    s_printf (b, "\n```json\n");
    reader_t r = { (const uint8_t *) body, size, 0 };
    s_json_value (&r, b, 0);
    if (r.pos != size)
        s_die ("the example %s has trailing bytes", proto_type_name (type));
    s_printf (b, "\n```\n");
    free (body);
}

static void
s_examples (blocks_t *blocks)
{
    static const struct {
        proto_type_t type;
        bool hex;
    } which[] = {
        { PROTO_PING, true },
        { PROTO_KILL, true },
        { PROTO_ERROR, false },
        { PROTO_FRAMEWORK_REGISTER, false },
        { PROTO_OFFERS, false },
        { PROTO_ACCEPT, false },
        { PROTO_STATUS_UPDATE, false },
        { PROTO_STATUS_ACK, false },
    };
    buf_t *b = s_block (blocks, "examples");
    for (size_t i = 0; i < sizeof which / sizeof which[0]; i++) {
        if (i)
            s_put (b, "\n", 1);
        s_example (b, which[i].type, which[i].hex);
    }
}

static void
s_generate (blocks_t *blocks)
{
    s_types (blocks);
    s_states (blocks);
    s_limits (blocks);
    for (size_t i = 0; i < proto_type_count (); i++)
        s_fields (blocks, proto_type_at (i));
    s_examples (blocks);
}

static void
s_print_block (FILE *out, const block_t *blk)
{
    fprintf (out, MARK_BEGIN "%s" MARK_CLOSE "\n", blk->name);
    fwrite (blk->text.data, 1, blk->text.len, out);
    fprintf (out, MARK_END "%s" MARK_CLOSE "\n", blk->name);
}

/*  --update FILE  */

static char *
s_read_file (const char *path, size_t *size)
{
    FILE *f = fopen (path, "rb");
    if (!f)
        s_die ("%s: %s", path, strerror (errno));
    buf_t b = { 0 };
    char chunk[65536];
    size_t n;
    while ((n = fread (chunk, 1, sizeof chunk, f)) > 0)
        s_put (&b, chunk, n);
    if (ferror (f))
        s_die ("%s: %s", path, strerror (errno));
    fclose (f);
    if (!b.data)
        s_put (&b, "", 0);
    *size = b.len;
    return b.data;
}

/*  If line (up to its newline) is a marker with the given prefix, copies
    its block name into name and returns true.                            */
static bool
s_marker (const char *line, size_t len, const char *prefix, char *name, size_t size)
{
    size_t plen = strlen (prefix), clen = strlen (MARK_CLOSE);
    if (len < plen + clen || strncmp (line, prefix, plen) != 0
        || strncmp (line + len - clen, MARK_CLOSE, clen) != 0)
        return false;
    size_t n = len - plen - clen;
    if (n >= size)
        n = size - 1;
    memcpy (name, line + plen, n);
    name[n] = '\0';
    return true;
}

/*  The file's lines: starts and lengths (without the newline).          */
typedef struct {
    const char **start;
    size_t *len;
    size_t count;
} lines_t;

static void
s_split (const char *text, size_t size, lines_t *lines)
{
    memset (lines, 0, sizeof *lines);
    size_t cap = 0;
    const char *p = text, *end = text + size;
    while (p < end) {
        const char *nl = memchr (p, '\n', (size_t) (end - p));
        if (lines->count == cap) {
            cap = cap ? 2 * cap : 1024;
            lines->start = realloc (lines->start, cap * sizeof *lines->start);
            lines->len = realloc (lines->len, cap * sizeof *lines->len);
            if (!lines->start || !lines->len)
                s_die ("out of memory");
        }
        lines->start[lines->count] = p;
        lines->len[lines->count] = nl ? (size_t) (nl - p) : (size_t) (end - p);
        lines->count++;
        p = nl ? nl + 1 : end;
    }
}

static void
s_update (const char *path, const blocks_t *blocks)
{
    size_t size;
    char *text = s_read_file (path, &size);
    lines_t lines;
    s_split (text, size, &lines);
    buf_t out = { 0 };
    size_t next = 0;            /* the generated block expected next */
    for (size_t i = 0; i < lines.count; i++) {
        char name[128], name2[128];
        if (s_marker (lines.start[i], lines.len[i], MARK_END, name, sizeof name))
            s_die ("%s:%zu: END marker for '%s' without its BEGIN", path, i + 1, name);
        if (!s_marker (lines.start[i], lines.len[i], MARK_BEGIN, name, sizeof name)) {
            s_put (&out, lines.start[i], lines.len[i]);
            s_put (&out, "\n", 1);
            continue;
        }
        if (next >= blocks->count || strcmp (name, blocks->items[next].name) != 0)
            s_die ("%s:%zu: found block '%s' where block '%s' was expected; the blocks must "
                   "be, in order, the ones `protodoc` prints (add or move marker lines by hand)",
                   path, i + 1, name, next < blocks->count ? blocks->items[next].name : "(none)");
        size_t k;
        for (k = i + 1; k < lines.count; k++) {
            if (s_marker (lines.start[k], lines.len[k], MARK_BEGIN, name2, sizeof name2))
                s_die ("%s:%zu: block '%s' has no END marker before '%s'", path, k + 1, name,
                       name2);
            if (s_marker (lines.start[k], lines.len[k], MARK_END, name2, sizeof name2)) {
                if (strcmp (name2, name) != 0)
                    s_die ("%s:%zu: block '%s' ends with the END marker of '%s'", path, k + 1,
                           name, name2);
                break;
            }
        }
        if (k == lines.count)
            s_die ("%s:%zu: block '%s' has no END marker", path, i + 1, name);
        const block_t *blk = &blocks->items[next++];
        s_printf (&out, MARK_BEGIN "%s" MARK_CLOSE "\n", blk->name);
        s_put (&out, blk->text.data, blk->text.len);
        s_printf (&out, MARK_END "%s" MARK_CLOSE "\n", blk->name);
        i = k;
    }
    if (next != blocks->count)
        s_die ("%s: block '%s' is missing; add its marker lines where it belongs:\n  "
               MARK_BEGIN "%s" MARK_CLOSE "\n  " MARK_END "%s" MARK_CLOSE,
               path, blocks->items[next].name, blocks->items[next].name,
               blocks->items[next].name);
    if (!out.data)
        s_put (&out, "", 0);
    if (out.len == size && memcmp (out.data, text, size) == 0)
        printf ("%s is up to date\n", path);
    else {
        char *tmp = NULL;
        if (asprintf (&tmp, "%s.tmp", path) < 0)
            s_die ("out of memory");
        FILE *f = fopen (tmp, "wb");
        if (!f || fwrite (out.data, 1, out.len, f) != out.len || fclose (f) != 0)
            s_die ("%s: %s", tmp, strerror (errno));
        if (rename (tmp, path) < 0)
            s_die ("cannot replace %s: %s", path, strerror (errno));
        free (tmp);
        printf ("%s updated\n", path);
    }
    free (lines.start);
    free (lines.len);
    free (out.data);
    free (text);
}

int
main (int argc, char **argv)
{
    blocks_t blocks = { 0 };
    if (argc == 2 && strcmp (argv[1], "--types") == 0) {
        for (size_t i = 0; i < proto_type_count (); i++)
            printf ("%s\n", proto_type_name (proto_type_at (i)));
        return 0;
    }
    if (!(argc == 1 || (argc == 3 && strcmp (argv[1], "--update") == 0))) {
        fprintf (stderr, "usage: protodoc [--types | --update FILE]\n");
        return 2;
    }
    s_generate (&blocks);
    if (argc == 3)
        s_update (argv[2], &blocks);
    else
        for (size_t i = 0; i < blocks.count; i++)
            s_print_block (stdout, &blocks.items[i]);
    for (size_t i = 0; i < blocks.count; i++)
        free (blocks.items[i].text.data);
    free (blocks.items);
    return fflush (stdout) == 0 ? 0 : 1;
}
