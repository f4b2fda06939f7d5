/*  codec.c - unit test of the wire codec (proto.h).

    First as usage examples: every message type round-trips byte for byte,
    and a few messages are built by hand. Then as an adversary: bodies are
    taken apart and put back together with one field wrong (the fault must
    carry the right code and name the field's path), and hostile bodies
    (truncated, lying about their sizes, nested too deep, random) must be
    refused without crashing, leaking or allocating much. Run it under
    ASan+UBSan with ASAN_OPTIONS=allocator_may_return_null=1.

    Hostile bodies are written in a small msgpack notation parsed below:
    {key: value, ...}  [a, b]  'text' (escapes \xNN \0 \\ \', and 'a'*300
    for repetition)  42  -1  1.5  true false nil nan  and bare words, which
    are strings (so `{seq: 1}` is a PING body).                            */
#include <errno.h>
#include <math.h>
#include <time.h>

#include <msgpack.h>

#include "proto.h"
#include "resources.h"
#include "tap.h"

/*  ------------------------------------------------------------------ */
/*  A small msgpack notation, parsed into objects in one zone           */
/*  ------------------------------------------------------------------ */

static msgpack_zone *s_zone;

static void
bail_out (const char *why, const char *at)
{
    printf ("Bail out! %s at '%.40s'\n", why, at);
    exit (1);
}

static const char *
mpn_skip (const char *p)
{
    while (*p == ' ' || *p == '\n')
        p++;
    return p;
}

static msgpack_object mpn_value (const char **pp);

/*  Elements of an array (or keys and values of a map) until `close`.     */
static msgpack_object *
mpn_items (const char **pp, char close, bool pairs, uint32_t *count)
{
    size_t n = 0, cap = 16;
    msgpack_object *items = malloc (cap * sizeof *items);
    const char *p = mpn_skip (*pp);
    while (*p != close) {
        if (n + 2 > cap)
            items = realloc (items, (cap *= 2) * sizeof *items);
        items[n++] = mpn_value (&p);
        p = mpn_skip (p);
        if (pairs) {
            if (*p++ != ':')
                bail_out ("expected ':'", p - 1);
            items[n++] = mpn_value (&p);
            p = mpn_skip (p);
        }
        if (*p == ',')
            p = mpn_skip (p + 1);
        else if (*p != close)
            bail_out ("expected ',' or a closing bracket", p);
    }
    *pp = p + 1;
    msgpack_object *copy = msgpack_zone_malloc (s_zone, (n ? n : 1) * sizeof *copy);
    memcpy (copy, items, n * sizeof *copy);
    free (items);
    *count = (uint32_t) (pairs ? n / 2 : n);
    return copy;
}

static msgpack_object
mpn_value (const char **pp)
{
    msgpack_object o;
    memset (&o, 0, sizeof o);
    const char *p = mpn_skip (*pp);
    if (*p == '{') {
        p++;
        o.type = MSGPACK_OBJECT_MAP;
        o.via.map.ptr = (msgpack_object_kv *) mpn_items (&p, '}', true, &o.via.map.size);
    }
    else if (*p == '[') {
        p++;
        o.type = MSGPACK_OBJECT_ARRAY;
        o.via.array.ptr = mpn_items (&p, ']', false, &o.via.array.size);
    }
    else if (*p == '\'') {
        char *buf = malloc (strlen (p) + 1);
        size_t n = 0;
        for (p++; *p != '\''; p++) {
            if (!*p)
                bail_out ("unterminated string", *pp);
            if (*p != '\\')
                buf[n++] = *p;
            else if (p[1] == 'x') {
                char hex[3] = { p[2], p[3], 0 };
                buf[n++] = (char) strtoul (hex, NULL, 16);
                p += 3;
            }
            else if (p[1] == '0') {
                buf[n++] = '\0';
                p++;
            }
            else
                buf[n++] = *++p;
        }
        p++;
        size_t repeat = 1;
        if (*p == '*')
            repeat = strtoul (p + 1, (char **) &p, 10);
        char *s = msgpack_zone_malloc (s_zone, n * repeat + 1);
        for (size_t i = 0; i < repeat; i++)
            memcpy (s + i * n, buf, n);
        free (buf);
        o.type = MSGPACK_OBJECT_STR;
        o.via.str.ptr = s;
        o.via.str.size = (uint32_t) (n * repeat);
    }
    else if (*p == '-' || (*p >= '0' && *p <= '9')) {
        const char *end = p + 1;
        while ((*end >= '0' && *end <= '9') || *end == '.' || *end == 'e')
            end++;
        if (memchr (p, '.', (size_t) (end - p)) || memchr (p, 'e', (size_t) (end - p))) {
            o.type = MSGPACK_OBJECT_FLOAT64;
            o.via.f64 = strtod (p, NULL);
        }
        else if (*p == '-') {
            o.type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
            o.via.i64 = strtoll (p, NULL, 10);
        }
        else {
            o.type = MSGPACK_OBJECT_POSITIVE_INTEGER;
            o.via.u64 = strtoull (p, NULL, 10);
        }
        p = end;
    }
    else {
        const char *w = p;
        while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
               || *p == '_')
            p++;
        size_t n = (size_t) (p - w);
        if (n == 0)
            bail_out ("unexpected character", w);
        if (n == 4 && memcmp (w, "true", 4) == 0)
            o.type = MSGPACK_OBJECT_BOOLEAN, o.via.boolean = true;
        else if (n == 5 && memcmp (w, "false", 5) == 0)
            o.type = MSGPACK_OBJECT_BOOLEAN, o.via.boolean = false;
        else if (n == 3 && memcmp (w, "nil", 3) == 0)
            o.type = MSGPACK_OBJECT_NIL;
        else if (n == 3 && memcmp (w, "nan", 3) == 0)
            o.type = MSGPACK_OBJECT_FLOAT64, o.via.f64 = NAN;
        else {
            char *s = msgpack_zone_malloc (s_zone, n + 1);
            memcpy (s, w, n);
            o.type = MSGPACK_OBJECT_STR;
            o.via.str.ptr = s;
            o.via.str.size = (uint32_t) n;
        }
    }
    *pp = p;
    return o;
}

static msgpack_object
mpn (const char *text)
{
    const char *p = text;
    msgpack_object o = mpn_value (&p);
    if (*mpn_skip (p))
        bail_out ("trailing text", p);
    return o;
}

/*  Packs an object into a malloc'd buffer.                               */
static char *
pack (const msgpack_object *o, size_t *size)
{
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_object (&pk, *o);
    *size = sbuf.size;
    return sbuf.data;
}

/*  ------------------------------------------------------------------ */
/*  Helpers: encode, decode, and edit example bodies                    */
/*  ------------------------------------------------------------------ */

static proto_msg_t *
decode (proto_type_t type, const void *body, size_t size, proto_fault_t *fault)
{
    uint8_t hdr[PROTO_HEADER_SIZE] = { PROTO_SIG0, PROTO_SIG1, PROTO_VERSION, (uint8_t) type };
    return proto_decode (hdr, sizeof hdr, body, size, fault);
}

/*  The example message of `type`, encoded (cached; do not free).         */
static char *s_bodies[256];
static size_t s_sizes[256];

static const char *
example_body (proto_type_t type, size_t *size)
{
    char **bodies = s_bodies;
    size_t *sizes = s_sizes;
    if (!bodies[type]) {
        proto_msg_t *msg = proto_msg_example (type);
        uint8_t hdr[PROTO_HEADER_SIZE];
        proto_fault_t fault;
        if (proto_encode (msg, hdr, &bodies[type], &sizes[type], &fault) < 0)
            bail_out ("cannot encode the example", fault.text);
        proto_msg_destroy (&msg);
    }
    *size = sizes[type];
    return bodies[type];
}

typedef enum { EDIT_SET, EDIT_DELETE, EDIT_DUP } edit_op_t;

/*  Applies op at `path` ("tasks[0].resources.mem") under o.               */
static void
edit_object (msgpack_object *o, const char *path, edit_op_t op, const msgpack_object *value)
{
    const char *rest;
    if (*path == '[') {
        size_t index = strtoul (path + 1, (char **) &rest, 10);
        rest++;
        if (o->type != MSGPACK_OBJECT_ARRAY || index >= o->via.array.size)
            bail_out ("no such index", path);
        if (*rest == '.')
            rest++;
        if (*rest)
            edit_object (&o->via.array.ptr[index], rest, op, value);
        else if (op == EDIT_SET)
            o->via.array.ptr[index] = *value;
        else
            bail_out ("only EDIT_SET applies to an array element", path);
        return;
    }
    size_t n = strcspn (path, ".[");
    rest = path + n;
    if (*rest == '.')
        rest++;
    if (o->type != MSGPACK_OBJECT_MAP)
        bail_out ("not a map", path);
    msgpack_object_kv *kv = NULL;
    uint32_t at = 0;
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n
            && memcmp (k->via.str.ptr, path, n) == 0) {
            kv = &o->via.map.ptr[i];
            at = i;
        }
    }
    if (*rest) {
        if (!kv)
            bail_out ("no such key", path);
        edit_object (&kv->val, rest, op, value);
        return;
    }
    if (op == EDIT_SET && kv) {
        kv->val = *value;
        return;
    }
    if (op == EDIT_DELETE) {
        if (!kv)
            bail_out ("no such key", path);
        memmove (kv, kv + 1, (o->via.map.size - at - 1) * sizeof *kv);
        o->via.map.size--;
        return;
    }
    /*  Add a key (EDIT_SET of a new key, or EDIT_DUP of an existing one).  */
    uint32_t size = o->via.map.size;
    msgpack_object_kv *grown = msgpack_zone_malloc (s_zone, (size + 1) * sizeof *grown);
    if (size)
        memcpy (grown, o->via.map.ptr, size * sizeof *grown);
    char *key = msgpack_zone_malloc (s_zone, n + 1);
    memcpy (key, path, n);
    grown[size].key.type = MSGPACK_OBJECT_STR;
    grown[size].key.via.str.ptr = key;
    grown[size].key.via.str.size = (uint32_t) n;
    grown[size].val = *value;
    o->via.map.ptr = grown;
    o->via.map.size = size + 1;
}

/*  The example body of `type` with one edit; malloc'd.                   */
static char *
edited_body (proto_type_t type, const char *path, edit_op_t op, const char *value, size_t *size)
{
    size_t n;
    const char *body = example_body (type, &n);
    msgpack_unpacked result;
    msgpack_unpacked_init (&result);
    size_t off = 0;
    if (msgpack_unpack_next (&result, body, n, &off) != MSGPACK_UNPACK_SUCCESS)
        bail_out ("cannot unpack the example", path);
    msgpack_object v = mpn (value ? value : "nil");
    edit_object (&result.data, path, op, &v);
    char *out = pack (&result.data, size);
    msgpack_unpacked_destroy (&result);
    return out;
}

/*  Checks that body is refused as `type` with `code` and a fault text
    containing `text`.                                                     */
static void
refused (proto_type_t type, const void *body, size_t size, const char *code, const char *text,
         const char *what)
{
    proto_fault_t fault;
    proto_msg_t *msg = decode (type, body, size, &fault);
    ok (msg == NULL, "%s %s: refused", proto_type_name (type), what);
    is (fault.code, code, "... as %s", code);
    ok (strstr (fault.text, text) != NULL, "... '%s' (got '%s')", text, fault.text);
    proto_msg_destroy (&msg);
}

/*  The example of `type` with path = value (notation) is refused.        */
static void
refuse_set (proto_type_t type, const char *path, const char *value, const char *code,
            const char *text)
{
    size_t size;
    char *body = edited_body (type, path, EDIT_SET, value, &size);
    char what[200];
    snprintf (what, sizeof what, "%s = %.60s", path, value);
    refused (type, body, size, code, text, what);
    free (body);
}

static void
refuse_edit (proto_type_t type, const char *path, edit_op_t op, const char *value,
             const char *code, const char *text)
{
    size_t size;
    char *body = edited_body (type, path, op, value, &size);
    char what[200];
    snprintf (what, sizeof what, "%s %s", op == EDIT_DELETE ? "without" : "with a second", path);
    refused (type, body, size, code, text, what);
    free (body);
}

/*  The example of `type` with path = value is accepted; returns it.      */
static proto_msg_t *
accept_set (proto_type_t type, const char *path, const char *value)
{
    size_t size;
    char *body = edited_body (type, path, EDIT_SET, value, &size);
    proto_fault_t fault;
    proto_msg_t *msg = decode (type, body, size, &fault);
    ok (msg != NULL, "%s %s = %.60s: accepted%s%s", proto_type_name (type), path, value,
        msg ? "" : ": ", msg ? "" : fault.text);
    free (body);
    return msg;
}

/*  Encodes msg, decodes it, re-encodes the result and checks the two
    bodies are identical. Returns the decoded message.                     */
static proto_msg_t *
roundtrip (const proto_msg_t *msg)
{
    const char *name = proto_type_name (msg->type);
    uint8_t hdr[PROTO_HEADER_SIZE], hdr2[PROTO_HEADER_SIZE];
    char *body = NULL, *body2 = NULL;
    size_t size = 0, size2 = 0;
    proto_fault_t fault;
    int rc = proto_encode (msg, hdr, &body, &size, &fault);
    if (!ok (rc == 0, "%s: encode%s%s", name, rc ? ": " : "", rc ? fault.text : ""))
        return NULL;
    ok (hdr[0] == 0xCA && hdr[1] == 0x1E && hdr[2] == PROTO_VERSION && hdr[3] == msg->type,
        "%s: header CA 1E %02X %02X", name, PROTO_VERSION, (unsigned) msg->type);
    proto_msg_t *back = proto_decode (hdr, sizeof hdr, body, size, &fault);
    ok (back != NULL, "%s: decode%s%s", name, back ? "" : ": ", back ? "" : fault.text);
    if (back) {
        cmp_int (back->type, msg->type, "%s: same type", name);
        ok (proto_encode (back, hdr2, &body2, &size2, &fault) == 0, "%s: re-encode", name);
        ok (body2 && size == size2 && memcmp (body, body2, size) == 0 && memcmp (hdr, hdr2, 4) == 0,
            "%s: the two bodies are identical (%zu bytes)", name, size);
    }
    free (body);
    free (body2);
    return back;
}

/*  Sets a string field of a message.                                     */
static void
replace (char **field, const char *value)
{
    free (*field);
    *field = strdup (value);
}

/*  ------------------------------------------------------------------ */
/*  Round trips                                                         */
/*  ------------------------------------------------------------------ */

static void
test_types (void)
{
    diag ("the message types");
    cmp_int (proto_type_count (), 26, "26 message types");
    is (proto_type_name (PROTO_RUN_TASKS), "RUN_TASKS", "type 12 is RUN_TASKS");
    is (proto_type_name (PROTO_INFO), "INFO", "type 41 is INFO");
    ok (proto_type_name (0) == NULL && !proto_type_valid (0), "type 0 is not a type");
    ok (proto_type_name (99) == NULL && !proto_type_valid (99), "type 99 is not a type");
    ok (proto_type_valid (PROTO_STATUS_UPDATE), "STATUS_UPDATE is valid");
    bool all_named = true;
    for (size_t i = 0; i < proto_type_count (); i++)
        all_named = all_named && proto_type_valid (proto_type_at (i))
                    && proto_type_name (proto_type_at (i)) != NULL;
    ok (all_named, "every listed type is valid and named");

    ok (proto_id_valid ("task-1.a_b:c"), "ids: letters, digits, '.', '_', '-', ':'");
    ok (!proto_id_valid (""), "ids: not empty");
    ok (!proto_id_valid (NULL), "ids: not NULL");
    ok (!proto_id_valid ("a b") && !proto_id_valid ("a/b") && !proto_id_valid ("caf\xc3\xa9"),
        "ids: no space, '/', or non-ASCII");
    char id[PROTO_MAX_ID + 2];
    memset (id, 'x', sizeof id);
    id[PROTO_MAX_ID] = '\0';
    ok (proto_id_valid (id), "ids: %d characters", PROTO_MAX_ID);
    id[PROTO_MAX_ID] = 'x';
    id[PROTO_MAX_ID + 1] = '\0';
    ok (!proto_id_valid (id), "ids: not %d", PROTO_MAX_ID + 1);

    proto_kv_t kv = { 0 };
    proto_kv_set (&kv, "rack", "r1");
    proto_kv_set (&kv, "zone", "z1");
    proto_kv_set (&kv, "rack", "r2");
    cmp_int (kv.count, 2, "kv: setting a key twice replaces it");
    is (proto_kv_get (&kv, "rack"), "r2", "kv: rack is r2");
    ok (proto_kv_get (&kv, "row") == NULL, "kv: a missing key is NULL");
    proto_kv_fini (&kv);
    cmp_int (kv.count, 0, "kv: fini empties it");
}

static void
test_roundtrip_examples (void)
{
    diag ("every example message round-trips byte for byte");
    for (size_t i = 0; i < proto_type_count (); i++) {
        proto_msg_t *msg = proto_msg_example (proto_type_at (i));
        proto_msg_t *back = roundtrip (msg);
        proto_msg_destroy (&back);
        proto_msg_destroy (&msg);
    }

    diag ("fields survive the trip");
    cairn_resources_t *want = cairn_resources_parse ("cpus:1.5;mem:512;disk:64;ports:[31000-31009,32000]");
    proto_msg_t *msg = proto_msg_example (PROTO_RUN_TASKS);
    proto_msg_t *back = roundtrip (msg);
    if (back) {
        proto_run_tasks_t *rt = &back->u.run_tasks;
        is (rt->framework->id, "id-1", "RUN_TASKS: framework.id");
        is (rt->framework->role, "role-\xc3\xa9x", "RUN_TASKS: framework.role (UTF-8)");
        ok (rt->framework->partition_aware, "RUN_TASKS: framework.partition_aware");
        cmp_int (rt->tasks.count, 2, "RUN_TASKS: 2 tasks");
        proto_task_t *t = rt->tasks.items;
        is (t[1].task_id, "task_id-2", "RUN_TASKS: tasks[1].task_id (list items get distinct ids)");
        is (t[0].command, "command-\xc3\xa9x", "RUN_TASKS: tasks[0].command");
        cmp_int (t[0].argv.count, 0, "RUN_TASKS: no argv beside the command");
        ok (cairn_resources_equal (t[0].resources, want), "RUN_TASKS: tasks[0].resources");
        cmp_int (cairn_resources_port_count (t[1].resources), 11, "RUN_TASKS: tasks[1] has 11 ports");
        is (proto_kv_get (&t[0].env, "FOO_1"), "r1 \xe2\x9c\x93", "RUN_TASKS: tasks[0].env.FOO_1");
        is (proto_kv_get (&t[0].env, "BAR"), "", "RUN_TASKS: tasks[0].env.BAR is empty");
        cmp_int (t[0].uris.count, 2, "RUN_TASKS: tasks[0] has 2 uris");
        ok (((proto_uri_t *) t[0].uris.items)[1].executable, "RUN_TASKS: tasks[0].uris[1].executable");
        cmp_int (t[0].kill_grace_ms, 999, "RUN_TASKS: tasks[0].kill_grace_ms");
        ok (t[0].health && strcmp (t[0].health->type, "command") == 0,
            "RUN_TASKS: tasks[0].health.type is command");
        cmp_int (t[0].health ? t[0].health->max_failures : 0, 1001,
                 "RUN_TASKS: tasks[0].health.max_failures");
    }
    proto_msg_destroy (&back);
    proto_msg_destroy (&msg);

    msg = proto_msg_example (PROTO_STATUS_UPDATE);
    back = roundtrip (msg);
    if (back) {
        proto_status_t *s = &back->u.status;
        cmp_int (s->state, CAIRN_TASK_RUNNING, "STATUS_UPDATE: state TASK_RUNNING");
        cmp_int (s->reason, CAIRN_REASON_CONTAINER_LIMITATION_MEMORY,
                 "STATUS_UPDATE: reason REASON_CONTAINER_LIMITATION_MEMORY");
        cmp_int (s->exit_code, 255, "STATUS_UPDATE: exit_code 255");
        cmp_int (s->signal, 128, "STATUS_UPDATE: signal 128");
        cmp_int (s->healthy, 1, "STATUS_UPDATE: healthy");
        ok (s->timestamp == 1700000000.25, "STATUS_UPDATE: timestamp exact (%.3f)", s->timestamp);
        is (s->uuid, "uuid-1", "STATUS_UPDATE: uuid");
        is (s->message, "message-\xc3\xa9x", "STATUS_UPDATE: message");
    }
    proto_msg_destroy (&back);
    proto_msg_destroy (&msg);

    msg = proto_msg_example (PROTO_AGENT_REGISTER);
    back = roundtrip (msg);
    if (back) {
        proto_agent_register_t *ar = &back->u.agent_register;
        is (proto_kv_get (&ar->attributes, "rack"), "r1 \xe2\x9c\x93", "AGENT_REGISTER: attributes.rack");
        is (proto_kv_get (&ar->attributes, "zone"), "", "AGENT_REGISTER: attributes.zone is empty");
        cmp_int (ar->attributes.count, 2, "AGENT_REGISTER: 2 attributes");
        ok (cairn_resources_equal (ar->resources, want), "AGENT_REGISTER: resources");
        cmp_int (ar->tasks.count, 2, "AGENT_REGISTER: 2 tasks");
        proto_agent_task_t *at = ar->tasks.items;
        is (at[1].framework_id, "framework_id-2", "AGENT_REGISTER: tasks[1].framework_id");
        cmp_int (at[1].state, CAIRN_TASK_RUNNING, "AGENT_REGISTER: tasks[1].state");
        is (at[1].task.task_id, "task_id-2", "AGENT_REGISTER: tasks[1].task.task_id");
        ok (cairn_resources_equal (at[0].task.resources, want), "AGENT_REGISTER: tasks[0].task.resources");
        is (proto_kv_get (&at[0].task.labels, "rack"), "r1 \xe2\x9c\x93",
            "AGENT_REGISTER: tasks[0].task.labels.rack");
    }
    proto_msg_destroy (&back);
    proto_msg_destroy (&msg);

    msg = proto_msg_example (PROTO_ACCEPT);
    back = roundtrip (msg);
    if (back) {
        proto_accept_t *a = &back->u.accept;
        ok (a->offer_ids.count == 2 && strcmp (a->offer_ids.items[0], "id-1") == 0
                && strcmp (a->offer_ids.items[1], "id-2") == 0,
            "ACCEPT: offer_ids [id-1, id-2]");
        cmp_int (a->tasks.count, 2, "ACCEPT: 2 tasks");
        cmp_int (a->refuse_ms, 999, "ACCEPT: refuse_ms");
    }
    proto_msg_destroy (&back);
    proto_msg_destroy (&msg);

    msg = proto_msg_example (PROTO_OFFERS);
    back = roundtrip (msg);
    if (back) {
        proto_offer_t *o = back->u.offers.offers.items;
        cmp_int (back->u.offers.offers.count, 2, "OFFERS: 2 offers");
        is (o[1].offer_id, "offer_id-2", "OFFERS: offers[1].offer_id");
        is (o[1].hostname, "hostname-\xc3\xa9x", "OFFERS: offers[1].hostname");
        ok (cairn_resources_equal (o[1].resources, want), "OFFERS: offers[1].resources");
    }
    proto_msg_destroy (&back);
    proto_msg_destroy (&msg);
    cairn_resources_destroy (&want);
}

static void
test_roundtrip_by_hand (void)
{
    diag ("messages built by hand");
    proto_msg_t *msg = proto_msg_new (PROTO_PING);
    msg->u.ping.seq = 42;
    proto_msg_t *back = roundtrip (msg);
    cmp_int (back ? back->u.ping.seq : -1, 42, "PING: seq 42");
    proto_msg_destroy (&back);
    proto_msg_destroy (&msg);

    /*  A status update: the defaults say "did not exit", "no signal",
        "no health check"; the reason is left out when it is NONE.        */
    msg = proto_msg_new (PROTO_STATUS_UPDATE);
    proto_status_t *s = &msg->u.status;
    cmp_int (s->exit_code, -1, "new STATUS_UPDATE: exit_code defaults to -1");
    cmp_int (s->healthy, -1, "new STATUS_UPDATE: healthy defaults to -1");
    replace (&s->task_id, "web.1");
    replace (&s->framework_id, "fw-7");
    s->state = CAIRN_TASK_FINISHED;
    s->exit_code = 0;
    s->timestamp = 1712345678.5;
    back = roundtrip (msg);
    if (back) {
        is (back->u.status.task_id, "web.1", "STATUS_UPDATE: task_id");
        is (back->u.status.uuid, "", "STATUS_UPDATE: uuid stays empty");
        cmp_int (back->u.status.state, CAIRN_TASK_FINISHED, "STATUS_UPDATE: TASK_FINISHED");
        cmp_int (back->u.status.reason, CAIRN_REASON_NONE, "STATUS_UPDATE: REASON_NONE");
        cmp_int (back->u.status.exit_code, 0, "STATUS_UPDATE: exit_code 0");
        cmp_int (back->u.status.signal, 0, "STATUS_UPDATE: signal 0");
    }
    proto_msg_destroy (&back);
    proto_msg_destroy (&msg);

    /*  A launch of two tasks: one given as an argument vector, one as a
        shell command with an HTTP health check. proto_list_push gives a
        zeroed task; proto_task_init fills in the defaults.                */
    msg = proto_msg_new (PROTO_RUN_TASKS);
    proto_run_tasks_t *rt = &msg->u.run_tasks;
    replace (&rt->framework->id, "fw-7");
    replace (&rt->framework->name, "sleepers");
    proto_task_t *t = proto_list_push (&rt->tasks, sizeof (proto_task_t));
    proto_task_init (t);
    cmp_int (t->kill_grace_ms, -1, "proto_task_init: kill_grace_ms -1 (the agent's default)");
    replace (&t->task_id, "sleep-1");
    proto_strs_add (&t->argv, "/bin/sleep");
    proto_strs_add (&t->argv, "10");
    proto_kv_set (&t->env, "PORT0", "31000");
    cairn_resources_destroy (&t->resources);
    t->resources = cairn_resources_parse ("cpus:0.1;mem:32;ports:[31000]");
    t = proto_list_push (&rt->tasks, sizeof (proto_task_t));
    proto_task_init (t);
    replace (&t->task_id, "web-1");
    replace (&t->command, "python3 -m http.server $PORT0");
    cairn_resources_set_millicpus (t->resources, 250);
    t->health = proto_health_new ();
    replace (&t->health->type, "http");
    replace (&t->health->path, "/");
    back = roundtrip (msg);
    if (back) {
        proto_task_t *bt = back->u.run_tasks.tasks.items;
        is (back->u.run_tasks.framework->role, "*", "RUN_TASKS: role defaults to '*'");
        ok (bt[0].argv.count == 2 && strcmp (bt[0].argv.items[1], "10") == 0, "RUN_TASKS: argv");
        is (bt[0].command, "", "RUN_TASKS: no command");
        is (proto_kv_get (&bt[0].env, "PORT0"), "31000", "RUN_TASKS: env.PORT0");
        cmp_int (cairn_resources_millicpus (bt[0].resources), 100, "RUN_TASKS: 100 milli-cpus");
        cmp_int (bt[0].kill_grace_ms, -1, "RUN_TASKS: kill_grace_ms -1");
        ok (bt[0].health == NULL, "RUN_TASKS: no health check");
        is (bt[1].command, "python3 -m http.server $PORT0", "RUN_TASKS: tasks[1].command");
        ok (bt[1].health && strcmp (bt[1].health->type, "http") == 0 && bt[1].health->interval_ms == 10000,
            "RUN_TASKS: an http health check with the default interval");
    }
    proto_msg_destroy (&back);
    proto_msg_destroy (&msg);

    /*  Accepting two offers without launching anything.                   */
    msg = proto_msg_new (PROTO_ACCEPT);
    proto_strs_add (&msg->u.accept.offer_ids, "o-1");
    proto_strs_add (&msg->u.accept.offer_ids, "o-2");
    back = roundtrip (msg);
    ok (back && back->u.accept.offer_ids.count == 2 && back->u.accept.tasks.count == 0
            && back->u.accept.refuse_ms == -1,
        "ACCEPT: two offers, no tasks, default refuse_ms");
    proto_msg_destroy (&back);
    proto_msg_destroy (&msg);

    msg = proto_msg_new (PROTO_REVIVE);
    uint8_t hdr[PROTO_HEADER_SIZE];
    char *body = NULL;
    size_t size = 0;
    ok (proto_encode (msg, hdr, &body, &size, NULL) == 0 && size == 1
            && (uint8_t) body[0] == 0x80,
        "REVIVE: the body is an empty map (0x80)");
    free (body);
    back = roundtrip (msg);
    proto_msg_destroy (&back);
    proto_msg_destroy (&msg);
}

/*  ------------------------------------------------------------------ */
/*  Headers and field validation                                        */
/*  ------------------------------------------------------------------ */

static void
test_header (void)
{
    diag ("the header frame");
    size_t size;
    const char *body = example_body (PROTO_PING, &size);
    proto_fault_t fault;
    uint8_t good[5] = { 0xCA, 0x1E, 1, PROTO_PING, 0 };
    proto_msg_t *msg = proto_decode (good, 4, body, size, &fault);
    ok (msg != NULL && msg->type == PROTO_PING, "a good header");
    proto_msg_destroy (&msg);
    ok (proto_decode (good, 3, body, size, &fault) == NULL && strcmp (fault.code, "malformed") == 0,
        "a 3-byte header is malformed");
    ok (proto_decode (good, 5, body, size, &fault) == NULL && strcmp (fault.code, "malformed") == 0,
        "a 5-byte header is malformed");
    ok (proto_decode (good, 0, body, size, &fault) == NULL && strcmp (fault.code, "malformed") == 0,
        "an empty header is malformed");
    uint8_t sig[4] = { 0xCA, 0x1F, 1, PROTO_PING };
    ok (proto_decode (sig, 4, body, size, &fault) == NULL && strcmp (fault.code, "malformed") == 0,
        "a wrong signature is malformed");
    ok (strstr (fault.text, "0xCA 0x1E") != NULL, "... and says what a header is ('%s')", fault.text);
    uint8_t v2[4] = { 0xCA, 0x1E, 2, PROTO_PING };
    ok (proto_decode (v2, 4, body, size, &fault) == NULL, "version 2 is refused");
    is (fault.code, "version", "... as version");
    ok (strstr (fault.text, "protocol version 2") && strstr (fault.text, "version 1"),
        "... naming both versions ('%s')", fault.text);
    cmp_int (fault.version, 2, "... fault.version is the peer's (2)");
    uint8_t v0[4] = { 0xCA, 0x1E, 0, PROTO_PING };
    ok (proto_decode (v0, 4, body, size, &fault) == NULL && strcmp (fault.code, "version") == 0,
        "version 0 is refused as version");
    uint8_t unknown[4] = { 0xCA, 0x1E, 1, 99 };
    ok (proto_decode (unknown, 4, body, size, &fault) == NULL, "type 99 is refused");
    is (fault.code, "unknown-type", "... as unknown-type");
    ok (strstr (fault.text, "99") != NULL, "... naming the type ('%s')", fault.text);
    cmp_int (fault.type, 99, "... fault.type is 99");
    cmp_int (fault.version, 1, "... fault.version is 1");
    uint8_t zero[4] = { 0xCA, 0x1E, 1, 0 };
    ok (proto_decode (zero, 4, body, size, &fault) == NULL && strcmp (fault.code, "unknown-type") == 0,
        "type 0 is unknown-type");
    /*  The type comes from the header: a PING body under a PONG header.   */
    msg = decode (PROTO_PONG, body, size, &fault);
    ok (msg && msg->type == PROTO_PONG && msg->u.ping.seq == 1000, "a PING body with a PONG header is a PONG");
    proto_msg_destroy (&msg);
}

static void
test_field_types (void)
{
    diag ("wrong types, with the field's path in the fault");
    refuse_set (PROTO_STATUS_UPDATE, "message", "5", "bad-field",
                "STATUS_UPDATE: message: expected a string, got an unsigned integer");
    refuse_set (PROTO_KILL, "task_id", "-7", "bad-field",
                "KILL: task_id: expected a string, got a negative integer");
    refuse_set (PROTO_STATUS_UPDATE, "exit_code", "'3'", "bad-field",
                "STATUS_UPDATE: exit_code: expected an integer, got a string");
    refuse_set (PROTO_PING, "seq", "1.5", "bad-field", "PING: seq: expected an integer, got a float");
    refuse_set (PROTO_PING, "seq", "nil", "bad-field", "PING: seq: expected an integer, got nil");
    refuse_set (PROTO_UNREGISTER, "failover", "1", "bad-field",
                "UNREGISTER: failover: expected a boolean, got an unsigned integer");
    refuse_set (PROTO_FRAMEWORK_REGISTERED, "reregistered", "'true'", "bad-field",
                "FRAMEWORK_REGISTERED: reregistered: expected a boolean, got a string");
    refuse_set (PROTO_RUN_TASKS, "framework", "[]", "bad-field",
                "RUN_TASKS: framework: expected a map, got an array");
    refuse_set (PROTO_RUN_TASKS, "tasks[1].resources", "[1, 2]", "bad-field",
                "RUN_TASKS: tasks[1].resources: expected a map, got an array");
    refuse_set (PROTO_RUN_TASKS, "tasks[0].health", "'none'", "bad-field",
                "RUN_TASKS: tasks[0].health: expected a map, got a string");
    refuse_set (PROTO_RUN_TASKS, "tasks[0]", "[]", "bad-field",
                "RUN_TASKS: tasks[0]: expected a map, got an array");
    refuse_set (PROTO_RUN_TASKS, "tasks", "{}", "bad-field", "RUN_TASKS: tasks: expected an array, got a map");
    refuse_set (PROTO_FRAMEWORK_REGISTER, "labels", "['a', 'b']", "bad-field",
                "FRAMEWORK_REGISTER: labels: expected a map of strings, got an array");
    refuse_set (PROTO_FRAMEWORK_REGISTER, "labels", "{rack: 1}", "bad-field",
                "FRAMEWORK_REGISTER: labels[0]: expected a string, got an unsigned integer");
    refuse_set (PROTO_ACCEPT, "offer_ids", "{}", "bad-field",
                "ACCEPT: offer_ids: expected an array of strings, got a map");
    refuse_set (PROTO_ACCEPT, "offer_ids[1]", "true", "bad-field",
                "ACCEPT: offer_ids[1]: expected a string, got a boolean");
    refuse_set (PROTO_STATUS_UPDATE, "timestamp", "'now'", "bad-field",
                "STATUS_UPDATE: timestamp: expected a number, got a string");
    refuse_set (PROTO_STATUS_UPDATE, "timestamp", "nan", "bad-field", "STATUS_UPDATE: timestamp: ");
    refuse_set (PROTO_STATUS_UPDATE, "timestamp", "-1.5", "bad-field",
                "STATUS_UPDATE: timestamp: -1.5 is out of range");
    refuse_set (PROTO_STATUS_UPDATE, "timestamp", "1.5e11", "bad-field",
                "STATUS_UPDATE: timestamp: 1.5e+11 is out of range");
    proto_msg_t *msg = accept_set (PROTO_STATUS_UPDATE, "timestamp", "1700000000");
    ok (msg && msg->u.status.timestamp == 1700000000.0, "an integer timestamp is a number too");
    proto_msg_destroy (&msg);

    diag ("resources");
    refuse_set (PROTO_RUN_TASKS, "tasks[0].resources.millicpus", "1.5", "bad-field",
                "RUN_TASKS: tasks[0].resources.millicpus: expected an unsigned integer, got a float");
    refuse_set (PROTO_RUN_TASKS, "tasks[1].resources.mem", "-1", "bad-field",
                "RUN_TASKS: tasks[1].resources.mem: expected an unsigned integer, got a negative integer");
    refuse_set (PROTO_OFFERS, "offers[1].resources.disk", "'64'", "bad-field",
                "OFFERS: offers[1].resources.disk: expected an unsigned integer, got a string");
    refuse_set (PROTO_AGENT_REGISTER, "resources.millicpus", "1000000001", "bad-field",
                "AGENT_REGISTER: resources.millicpus: 1000000001 is larger than 1000000000");
    refuse_set (PROTO_AGENT_REGISTER, "resources.mem", "1099511627777", "bad-field",
                "AGENT_REGISTER: resources.mem: 1099511627777 is larger than 1099511627776");
    refuse_set (PROTO_AGENT_REGISTER, "resources.gpus", "1", "bad-field",
                "AGENT_REGISTER: resources: unknown resource 'gpus'");
    refuse_set (PROTO_AGENT_REGISTER, "resources.ports", "[[0, 10]]", "bad-field",
                "AGENT_REGISTER: resources.ports[0]: port range 0-10 is not valid");
    refuse_set (PROTO_AGENT_REGISTER, "resources.ports", "[[1, 2], [20, 10]]", "bad-field",
                "AGENT_REGISTER: resources.ports[1]: port range 20-10 is not valid");
    refuse_set (PROTO_AGENT_REGISTER, "resources.ports", "[[1, 10], [5, 20]]", "bad-field",
                "AGENT_REGISTER: resources.ports[1]: port range 5-20 overlaps another");
    refuse_set (PROTO_AGENT_REGISTER, "resources.ports", "[[5, 20], [5, 5]]", "bad-field",
                "AGENT_REGISTER: resources.ports[1]: port range 5-5 overlaps another");
    refuse_set (PROTO_AGENT_REGISTER, "resources.ports", "[[1, 70000]]", "bad-field",
                "AGENT_REGISTER: resources.ports[0]: 70000 is larger than 65535");
    refuse_set (PROTO_AGENT_REGISTER, "resources.ports", "[[1, 2, 3]]", "bad-field",
                "AGENT_REGISTER: resources.ports[0]: expected a [begin, end] pair");
    refuse_set (PROTO_AGENT_REGISTER, "resources.ports", "[80]", "bad-field",
                "AGENT_REGISTER: resources.ports[0]: expected a [begin, end] pair");
    refuse_set (PROTO_AGENT_REGISTER, "resources.ports", "{a: 1}", "bad-field",
                "AGENT_REGISTER: resources.ports: expected an array of [begin, end] pairs, got a map");
    msg = accept_set (PROTO_AGENT_REGISTER, "resources", "{ports: [[10, 20], [1, 9]]}");
    if (msg) {
        char *s = cairn_resources_format (msg->u.agent_register.resources);
        is (s, "cpus:0;mem:0;ports:[1-20]", "resources: items left out are 0, touching ranges merge");
        free (s);
    }
    proto_msg_destroy (&msg);

    diag ("task states and reasons");
    refuse_set (PROTO_STATUS_UPDATE, "state", "'TASK_SLEEPING'", "bad-field",
                "STATUS_UPDATE: state: 'TASK_SLEEPING' is not a task state");
    refuse_set (PROTO_STATUS_UPDATE, "state", "2", "bad-field",
                "STATUS_UPDATE: state: expected a string, got an unsigned integer");
    refuse_set (PROTO_STATUS_UPDATE, "state", "'task_running'", "bad-field",
                "STATUS_UPDATE: state: 'task_running' is not a task state");
    refuse_set (PROTO_STATUS_UPDATE, "state", "'TASK_RUNNING\\0'", "bad-field",
                "STATUS_UPDATE: state: is not a task state name");
    refuse_set (PROTO_STATUS_UPDATE, "state", "'T'*100", "bad-field",
                "STATUS_UPDATE: state: is not a task state name");
    refuse_set (PROTO_STATUS_UPDATE, "reason", "'REASON_BORED'", "bad-field",
                "STATUS_UPDATE: reason: 'REASON_BORED' is not a reason");
    refuse_set (PROTO_AGENT_REGISTER, "tasks[1].state", "'RUNNING'", "bad-field",
                "AGENT_REGISTER: tasks[1].state: 'RUNNING' is not a task state");
    msg = accept_set (PROTO_STATUS_UPDATE, "state", "'TASK_UNREACHABLE'");
    cmp_int (msg ? (int) msg->u.status.state : -1, CAIRN_TASK_UNREACHABLE, "state TASK_UNREACHABLE");
    proto_msg_destroy (&msg);
    msg = accept_set (PROTO_STATUS_UPDATE, "reason", "'REASON_NONE'");
    cmp_int (msg ? (int) msg->u.status.reason : -1, CAIRN_REASON_NONE, "reason REASON_NONE spelled out");
    proto_msg_destroy (&msg);
}

static void
test_field_presence (void)
{
    diag ("missing, unknown and duplicate fields");
    refuse_edit (PROTO_STATUS_UPDATE, "state", EDIT_DELETE, NULL, "missing-field",
                 "STATUS_UPDATE: field 'state' is missing");
    refuse_edit (PROTO_STATUS_UPDATE, "timestamp", EDIT_DELETE, NULL, "missing-field",
                 "STATUS_UPDATE: field 'timestamp' is missing");
    refuse_edit (PROTO_RUN_TASKS, "tasks[0].resources", EDIT_DELETE, NULL, "missing-field",
                 "RUN_TASKS: tasks[0]: field 'resources' is missing");
    refuse_edit (PROTO_RUN_TASKS, "framework.name", EDIT_DELETE, NULL, "missing-field",
                 "RUN_TASKS: framework: field 'name' is missing");
    refuse_edit (PROTO_AGENT_REGISTER, "tasks[1].task.task_id", EDIT_DELETE, NULL, "missing-field",
                 "AGENT_REGISTER: tasks[1].task: field 'task_id' is missing");
    refuse_edit (PROTO_RUN_TASKS, "tasks[0].health.type", EDIT_DELETE, NULL, "missing-field",
                 "RUN_TASKS: tasks[0].health: field 'type' is missing");
    refuse_edit (PROTO_UNREGISTER, "failover", EDIT_DELETE, NULL, "missing-field",
                 "UNREGISTER: field 'failover' is missing");
    /*  Optional fields may be left out.                                    */
    size_t size;
    char *body = edited_body (PROTO_STATUS_UPDATE, "exit_code", EDIT_DELETE, NULL, &size);
    proto_fault_t fault;
    proto_msg_t *msg = decode (PROTO_STATUS_UPDATE, body, size, &fault);
    ok (msg && msg->u.status.exit_code == -1, "STATUS_UPDATE without exit_code: -1 (did not exit)");
    proto_msg_destroy (&msg);
    free (body);

    refuse_set (PROTO_STATUS_UPDATE, "colour", "'red'", "unknown-field",
                "STATUS_UPDATE: unknown field 'colour'");
    refuse_set (PROTO_RUN_TASKS, "tasks[1].health.colour", "'red'", "unknown-field",
                "RUN_TASKS: tasks[1].health: unknown field 'colour'");
    refuse_set (PROTO_RUN_TASKS, "framework.webui", "'x'", "unknown-field",
                "RUN_TASKS: framework: unknown field 'webui'");
    refuse_set (PROTO_REVIVE, "roles", "[]", "unknown-field", "REVIVE: unknown field 'roles'");
    refused (PROTO_PING, "\x82\xa3seq\x01\xa0\x01", 8, "unknown-field", "PING: unknown field ''",
             "an empty field name");
    refused (PROTO_PING, "\x81\x01\x02", 3, "bad-field", "PING: field names must be UTF-8 strings",
             "an integer field name");
    refused (PROTO_PING, "\x81\xa2\xff\xfe\x01", 5, "bad-field",
             "PING: field names must be UTF-8 strings", "a field name that is not UTF-8");
    refused (PROTO_PING, "\x91\x01", 2, "bad-field", "PING: expected a map, got an array",
             "an array body");
    refused (PROTO_PING, "\x07", 1, "bad-field", "PING: expected a map, got an unsigned integer",
             "an integer body");

    refuse_edit (PROTO_STATUS_UPDATE, "exit_code", EDIT_DUP, "3", "bad-field",
                 "STATUS_UPDATE: field 'exit_code' is given twice");
    refuse_edit (PROTO_RUN_TASKS, "tasks[0].task_id", EDIT_DUP, "'x'", "bad-field",
                 "RUN_TASKS: tasks[0]: field 'task_id' is given twice");
    refuse_edit (PROTO_RUN_TASKS, "tasks[0].resources.mem", EDIT_DUP, "1", "bad-field",
                 "RUN_TASKS: tasks[0].resources: 'mem' is given twice");
    refuse_edit (PROTO_FRAMEWORK_REGISTER, "labels.rack", EDIT_DUP, "'r2'", "bad-field",
                 "FRAMEWORK_REGISTER: labels[2]: key 'rack' is given twice");
}

static void
test_field_values (void)
{
    diag ("out-of-range integers");
    refuse_set (PROTO_STATUS_UPDATE, "exit_code", "300", "bad-field",
                "STATUS_UPDATE: exit_code: 300 is out of range -1..255");
    refuse_set (PROTO_STATUS_UPDATE, "exit_code", "-2", "bad-field",
                "STATUS_UPDATE: exit_code: -2 is out of range -1..255");
    refuse_set (PROTO_STATUS_UPDATE, "signal", "129", "bad-field",
                "STATUS_UPDATE: signal: 129 is out of range 0..128");
    refuse_set (PROTO_STATUS_UPDATE, "healthy", "2", "bad-field",
                "STATUS_UPDATE: healthy: 2 is out of range -1..1");
    refuse_set (PROTO_PING, "seq", "-1", "bad-field", "PING: seq: -1 is out of range");
    refuse_set (PROTO_PING, "seq", "18446744073709551615", "bad-field",
                "PING: seq: 18446744073709551615 is out of range");
    refuse_set (PROTO_PING, "seq", "-9223372036854775808", "bad-field", "PING: seq: ");
    refuse_set (PROTO_AGENT_REGISTERED, "ping_interval_ms", "9", "bad-field",
                "AGENT_REGISTERED: ping_interval_ms: 9 is out of range 10..86400000");
    refuse_set (PROTO_RUN_TASKS, "tasks[1].health.interval_ms", "99", "bad-field",
                "RUN_TASKS: tasks[1].health.interval_ms: 99 is out of range 100..86400000");
    refuse_set (PROTO_RUN_TASKS, "tasks[0].kill_grace_ms", "-2", "bad-field",
                "RUN_TASKS: tasks[0].kill_grace_ms: -2 is out of range");
    refuse_set (PROTO_ERROR, "in_reply_to", "256", "bad-field", "ERROR: in_reply_to: 256 is out of range");
    proto_msg_t *msg = accept_set (PROTO_PING, "seq", "9223372036854775807");
    ok (msg && msg->u.ping.seq == INT64_MAX, "PING: seq INT64_MAX");
    proto_msg_destroy (&msg);
    msg = accept_set (PROTO_STATUS_UPDATE, "exit_code", "-1");
    proto_msg_destroy (&msg);

    diag ("strings: length, character set, UTF-8");
    msg = accept_set (PROTO_AGENT_REGISTER, "hostname", "'h'*256");
    proto_msg_destroy (&msg);
    refuse_set (PROTO_AGENT_REGISTER, "hostname", "'h'*257", "bad-field",
                "AGENT_REGISTER: hostname: is 257 bytes long, the limit is 256");
    refuse_set (PROTO_AGENT_REGISTER, "hostname", "''", "bad-field",
                "AGENT_REGISTER: hostname: must not be empty");
    refuse_set (PROTO_STATUS_UPDATE, "message", "'m'*4097", "bad-field",
                "STATUS_UPDATE: message: is 4097 bytes long, the limit is 4096");
    refuse_set (PROTO_ERROR, "code", "'c'*32", "bad-field", "ERROR: code: is 32 bytes long, the limit is 31");
    refuse_set (PROTO_RUN_TASKS, "tasks[0].command", "'x'*65537", "bad-field",
                "RUN_TASKS: tasks[0].command: is 65537 bytes long, the limit is 65536");
    msg = accept_set (PROTO_KILL, "task_id", "'t'*128");
    proto_msg_destroy (&msg);
    refuse_set (PROTO_KILL, "task_id", "'t'*129", "bad-field",
                "KILL: task_id: is 129 bytes long, the limit is 128");
    refuse_set (PROTO_KILL, "task_id", "''", "bad-field", "KILL: task_id: must not be empty");
    refuse_set (PROTO_KILL, "task_id", "'a b'", "bad-field", "KILL: task_id: is not a valid id");
    refuse_set (PROTO_KILL, "task_id", "'../etc'", "bad-field", "KILL: task_id: is not a valid id");
    refuse_set (PROTO_KILL, "task_id", "'caf\\xc3\\xa9'", "bad-field", "KILL: task_id: is not a valid id");
    refuse_set (PROTO_KILL, "task_id", "'a\\0b'", "bad-field", "KILL: task_id: is not a valid id");
    refuse_set (PROTO_ACCEPT, "offer_ids[1]", "'o 2'", "bad-field",
                "ACCEPT: offer_ids[1]: is not a valid id");
    refuse_set (PROTO_ACCEPT, "offer_ids[0]", "''", "bad-field", "ACCEPT: offer_ids[0]: must not be empty");
    refuse_set (PROTO_STATUS_ACK, "uuid", "'u'*129", "bad-field", "STATUS_ACK: uuid: is 129 bytes long");
    msg = accept_set (PROTO_STATUS_UPDATE, "uuid", "''");
    ok (msg && strcmp (msg->u.status.uuid, "") == 0, "STATUS_UPDATE: uuid may be empty (reconciliation)");
    proto_msg_destroy (&msg);

    static const struct {
        const char *value, *why;
    } bad_utf8[] = {
        { "'\\xff'", "byte 0xff" },
        { "'abc\\x80'", "a lone continuation byte" },
        { "'\\xc3'", "a truncated 2-byte sequence" },
        { "'\\xe2\\x9c'", "a truncated 3-byte sequence" },
        { "'\\xc0\\xaf'", "an overlong '/'" },
        { "'\\xe0\\x80\\xaf'", "an overlong 3-byte '/'" },
        { "'\\xed\\xa0\\x80'", "a UTF-16 surrogate" },
        { "'\\xf4\\x90\\x80\\x80'", "a code point past U+10FFFF" },
        { "'\\xf8\\x88\\x80\\x80\\x80'", "a 5-byte sequence" },
        { "'a\\0b'", "an embedded NUL" },
        { "'\\0'", "a lone NUL" },
    };
    for (size_t i = 0; i < sizeof bad_utf8 / sizeof bad_utf8[0]; i++) {
        size_t size;
        char *body = edited_body (PROTO_STATUS_UPDATE, "message", EDIT_SET, bad_utf8[i].value, &size);
        char what[100];
        snprintf (what, sizeof what, "message with %s", bad_utf8[i].why);
        refused (PROTO_STATUS_UPDATE, body, size, "bad-field",
                 "STATUS_UPDATE: message: is not valid UTF-8 text", what);
        free (body);
    }
    refuse_set (PROTO_RUN_TASKS, "tasks[0].env", "{A: '\\xff'}", "bad-field",
                "RUN_TASKS: tasks[0].env[0]: is not valid UTF-8");
    refuse_set (PROTO_AGENT_REGISTER, "attributes", "{'r\\0': x}", "bad-field",
                "AGENT_REGISTER: attributes[0]: is not valid UTF-8");
    msg = accept_set (PROTO_STATUS_UPDATE, "message",
                      "'caf\\xc3\\xa9 \\xe2\\x9c\\x93 \\xf0\\x9f\\x98\\x80 \\xf4\\x8f\\xbf\\xbf'");
    is (msg ? msg->u.status.message : NULL, "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf",
        "2, 3 and 4-byte UTF-8 (up to U+10FFFF) is kept as is");
    proto_msg_destroy (&msg);

    diag ("environment, labels, commands");
    refuse_set (PROTO_RUN_TASKS, "tasks[0].env", "{'1X': v}", "bad-field",
                "RUN_TASKS: tasks[0].env[0]: '1X' is not a valid environment variable name");
    refuse_set (PROTO_RUN_TASKS, "tasks[0].env", "{OK: v, 'A-B': v}", "bad-field",
                "RUN_TASKS: tasks[0].env[1]: 'A-B' is not a valid environment variable name");
    refuse_set (PROTO_RUN_TASKS, "tasks[0].env", "{'A=B': v}", "bad-field",
                "'A=B' is not a valid environment variable name");
    refuse_set (PROTO_RUN_TASKS, "tasks[0].env", "{'': v}", "bad-field",
                "RUN_TASKS: tasks[0].env[0]: must not be empty");
    msg = accept_set (PROTO_RUN_TASKS, "tasks[0].env", "{_x9: 'a=b c', PATH: '/bin'}");
    proto_msg_destroy (&msg);
    refuse_set (PROTO_FRAMEWORK_REGISTER, "labels", "{k: 'v'*257}", "bad-field",
                "FRAMEWORK_REGISTER: labels[0]: is 257 bytes long, the limit is 256");
    /*  257 labels.                                                          */
    char *many = malloc (257 * 16 + 8);
    size_t len = (size_t) sprintf (many, "{");
    for (int i = 0; i < 257; i++)
        len += (size_t) sprintf (many + len, "%sk%d: v", i ? ", " : "", i);
    sprintf (many + len, "}");
    refuse_set (PROTO_FRAMEWORK_REGISTER, "labels", many, "bad-field",
                "FRAMEWORK_REGISTER: labels: has 257 entries, the limit is 256");
    free (many);

    refuse_set (PROTO_RUN_TASKS, "tasks[1].argv", "['/bin/true']", "bad-field",
                "RUN_TASKS: tasks[1]: a task needs exactly one of 'command' and 'argv'");
    refuse_edit (PROTO_RUN_TASKS, "tasks[1].command", EDIT_DELETE, NULL, "bad-field",
                 "RUN_TASKS: tasks[1]: a task needs exactly one of 'command' and 'argv'");
    refuse_set (PROTO_RUN_TASKS, "tasks[1].command", "''", "bad-field",
                "RUN_TASKS: tasks[1]: a task needs exactly one of 'command' and 'argv'");
    refuse_set (PROTO_AGENT_REGISTER, "tasks[0].task.command", "''", "bad-field",
                "AGENT_REGISTER: tasks[0].task: a task needs exactly one of 'command' and 'argv'");
    refuse_set (PROTO_RUN_TASKS, "tasks[0].health.type", "'udp'", "bad-field",
                "RUN_TASKS: tasks[0].health: type 'udp' is not one of command, http, tcp");
    refuse_set (PROTO_RUN_TASKS, "tasks[0].health.command", "''", "bad-field",
                "RUN_TASKS: tasks[0].health: a command health check needs 'command'");
    msg = accept_set (PROTO_RUN_TASKS, "tasks[0].health", "{type: tcp, port_index: 1}");
    if (msg) {
        proto_health_t *h = ((proto_task_t *) msg->u.run_tasks.tasks.items)[0].health;
        ok (h && h->interval_ms == 10000 && h->max_failures == 3,
            "a health check's left-out fields get their defaults");
    }
    proto_msg_destroy (&msg);

    diag ("list sizes");
    refuse_set (PROTO_OFFERS, "offers", "[]", "bad-field", "OFFERS: offers: must not be empty");
    refuse_set (PROTO_RUN_TASKS, "tasks", "[]", "bad-field", "RUN_TASKS: tasks: must not be empty");
    refuse_set (PROTO_ACCEPT, "offer_ids", "[]", "bad-field", "ACCEPT: offer_ids: must not be empty");
    msg = accept_set (PROTO_ACCEPT, "tasks", "[]");
    proto_msg_destroy (&msg);
    for (int n = PROTO_MAX_TASKS; n <= PROTO_MAX_TASKS + 1; n++) {
        const char *task = "{task_id: t1, command: 'true', resources: {millicpus: 100}}";
        char *tasks = malloc ((size_t) n * (strlen (task) + 2) + 3);
        len = (size_t) sprintf (tasks, "[");
        for (int i = 0; i < n; i++)
            len += (size_t) sprintf (tasks + len, "%s%s", i ? "," : "", task);
        sprintf (tasks + len, "]");
        if (n == PROTO_MAX_TASKS) {
            msg = accept_set (PROTO_RUN_TASKS, "tasks", tasks);
            cmp_int (msg ? msg->u.run_tasks.tasks.count : 0, PROTO_MAX_TASKS,
                     "RUN_TASKS: %d tasks are fine", PROTO_MAX_TASKS);
            proto_msg_destroy (&msg);
        }
        else
            refuse_set (PROTO_RUN_TASKS, "tasks", tasks, "bad-field",
                        "RUN_TASKS: tasks: has 1001 items, the limit is 1000");
        free (tasks);
    }
}

/*  ------------------------------------------------------------------ */
/*  Hostile bodies                                                      */
/*  ------------------------------------------------------------------ */

static double
now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void
test_truncation (void)
{
    diag ("every prefix of every example body is refused");
    for (size_t i = 0; i < proto_type_count (); i++) {
        proto_type_t type = proto_type_at (i);
        size_t size;
        const char *body = example_body (type, &size);
        size_t bad = 0;
        char first[600] = "";
        for (size_t n = 0; n < size; n++) {
            /*  A copy of exactly n bytes, so ASan sees any read past it.  */
            char *prefix = malloc (n ? n : 1);
            memcpy (prefix, body, n);
            proto_fault_t fault;
            proto_msg_t *msg = decode (type, prefix, n, &fault);
            if (msg || strcmp (fault.code, "malformed") != 0) {
                if (!bad++)
                    snprintf (first, sizeof first, "%zu bytes: %s %s", n, fault.code, fault.text);
            }
            proto_msg_destroy (&msg);
            free (prefix);
        }
        ok (bad == 0, "%s: all %zu prefixes are malformed%s%s", proto_type_name (type), size,
            bad ? "; first not: " : "", first);
    }
    size_t size;
    const char *body = example_body (PROTO_STATUS_UPDATE, &size);
    refused (PROTO_STATUS_UPDATE, body, size - 1, "malformed", "STATUS_UPDATE: ",
             "without its last byte");
    refused (PROTO_PING, "", 0, "malformed", "PING: the body is truncated", "an empty body");

    diag ("trailing bytes");
    char *longer = malloc (size + 1);
    memcpy (longer, body, size);
    longer[size] = (char) 0xc0;
    refused (PROTO_STATUS_UPDATE, longer, size + 1, "malformed", "1 trailing bytes", "plus a nil");
    free (longer);
    refused (PROTO_PING, "\x81\xa3seq\x01\x81\xa3seq\x02", 12, "malformed", "6 trailing bytes",
             "two maps");
}

static void
test_lying_sizes (void)
{
    diag ("containers and strings that declare more than there is");
    static const struct {
        const char *bytes;
        size_t size;
        const char *why;
    } lies[] = {
        { "\xdd\x10\x00\x00\x00", 5, "an array32 of 2^28 elements" },
        { "\xdd\xff\xff\xff\xff", 5, "an array32 of 2^32-1 elements" },
        { "\xdf\x10\x00\x00\x00", 5, "a map32 of 2^28 entries" },
        { "\xdf\xff\xff\xff\xff", 5, "a map32 of 2^32-1 entries" },
        { "\xdc\xff\xff", 3, "an array16 of 65535 elements" },
        { "\xde\x00\x0a\xa3seq\x01", 8, "a map16 of 10 entries holding 1" },
        { "\x81\xa3seq\xdd\x10\x00\x00\x00", 10, "{seq: array32 of 2^28}" },
        { "\x81\xa3seq\xdf\xff\xff\xff\xff", 10, "{seq: map32 of 2^32-1}" },
        { "\x9f\x01", 2, "a fixarray of 15 holding 1" },
    };
    for (size_t i = 0; i < sizeof lies / sizeof lies[0]; i++) {
        proto_fault_t fault;
        double t0 = now ();
        proto_msg_t *msg = decode (PROTO_PING, lies[i].bytes, lies[i].size, &fault);
        double dt = now () - t0;
        ok (msg == NULL && strcmp (fault.code, "malformed") == 0, "%s is malformed", lies[i].why);
        ok (strstr (fault.text, "elements but only") != NULL,
            "... refused by the pre-scan ('%s')", fault.text);
        ok (dt < 2.0, "... at once (%.3f s)", dt);
        proto_msg_destroy (&msg);
    }
    /*  The same lie built with the packer: a map of one key whose value
        is an array header of 2^28 elements and nothing after it.           */
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 1);
    msgpack_pack_str (&pk, 8);
    msgpack_pack_str_body (&pk, "task_ids", 8);
    msgpack_pack_array (&pk, 1u << 28);
    refused (PROTO_RECONCILE, sbuf.data, sbuf.size, "malformed",
             "RECONCILE: a container at byte 15 declares 268435456 elements but only 0 bytes remain",
             "{task_ids: array32 header of 2^28}");
    msgpack_sbuffer_clear (&sbuf);
    msgpack_pack_map (&pk, 1);
    msgpack_pack_str (&pk, 3);
    msgpack_pack_str_body (&pk, "seq", 3);
    msgpack_pack_str (&pk, 0xffffffffu);
    refused (PROTO_PING, sbuf.data, sbuf.size, "malformed", "declares 4294967295 bytes",
             "{seq: str32 header of 4 GiB}");
    msgpack_sbuffer_clear (&sbuf);
    msgpack_pack_map (&pk, 1);
    msgpack_pack_str (&pk, 3);
    msgpack_pack_str_body (&pk, "seq", 3);
    msgpack_pack_bin (&pk, 0x7fffffffu);
    refused (PROTO_PING, sbuf.data, sbuf.size, "malformed", "declares 2147483647 bytes",
             "{seq: bin32 header of 2 GiB}");
    msgpack_sbuffer_clear (&sbuf);
    msgpack_pack_map (&pk, 1);
    msgpack_pack_str (&pk, 3);
    msgpack_pack_str_body (&pk, "seq", 3);
    msgpack_pack_ext (&pk, 0x7fffffff, 1);
    refused (PROTO_PING, sbuf.data, sbuf.size, "malformed", "declares 2147483648 bytes",
             "{seq: ext32 header of 2 GiB}");
    msgpack_sbuffer_destroy (&sbuf);
    refused (PROTO_PING, "\x81\xa3seq\xcb\x00\x00", 8, "malformed", "declares 8 bytes but only 2 remain",
             "a float64 cut short");
    refused (PROTO_PING, "\x81\xa3seq\xdb\x00", 7, "malformed", "truncated inside a length",
             "a str32 length cut short");
    refused (PROTO_PING, "\x81\xa3seq\xc1", 6, "malformed", "byte 0xc1 at offset 5", "the reserved byte 0xc1");
    refused (PROTO_PING, "\xc1", 1, "malformed", "0xc1", "0xc1 alone");
    refused (PROTO_PING, "\x81\xa3seq\xd4\x01\x02", 8, "bad-field",
             "PING: seq: expected an integer, got an extension value", "a fixext1 value");
}

static void
test_limits (void)
{
    diag ("nesting depth");
    char nested[256];
    for (int depth = PROTO_MAX_DEPTH; depth <= PROTO_MAX_DEPTH + 1; depth++) {
        /*  {seq: [[...[0]...]]}: the map plus depth-1 arrays.               */
        size_t len = (size_t) sprintf (nested, "{seq: ");
        for (int i = 1; i < depth; i++)
            nested[len++] = '[';
        nested[len++] = '0';
        for (int i = 1; i < depth; i++)
            nested[len++] = ']';
        strcpy (nested + len, "}");
        msgpack_object o = mpn (nested);
        size_t size;
        char *body = pack (&o, &size);
        char what[64];
        snprintf (what, sizeof what, "%d levels of nesting", depth);
        if (depth <= PROTO_MAX_DEPTH)
            refused (PROTO_PING, body, size, "bad-field", "PING: seq: expected an integer, got an array",
                     what);
        else
            refused (PROTO_PING, body, size, "malformed", "nested deeper than 16 levels", what);
        free (body);
    }
    /*  A deep tower of 1-element arrays (fixarray 0x91) is refused early. */
    char *tower = malloc (100000);
    memcpy (tower, "\x81\xa3seq", 5);
    memset (tower + 5, 0x91, 100000 - 6);
    tower[100000 - 1] = 0;
    refused (PROTO_PING, tower, 100000, "malformed", "nested deeper than", "100000 nested arrays");
    free (tower);

    diag ("body size and value count");
    size_t big_size = PROTO_MAX_BODY + 1;
    char *big = calloc (1, big_size);
    refused (PROTO_PING, big, big_size, "too-large", "PING: the body is 8388609 bytes, the limit is 8388608",
             "a body of PROTO_MAX_BODY + 1 bytes");
    /*  Exactly PROTO_MAX_BODY bytes is not too large: an ERROR whose
        message is a single long string (refused for its length).         */
    memcpy (big, "\x82\xa4" "code\xa1x\xa7message\xdb", 17);
    uint32_t slen = PROTO_MAX_BODY - 21;
    big[17] = (char) (slen >> 24);
    big[18] = (char) (slen >> 16);
    big[19] = (char) (slen >> 8);
    big[20] = (char) slen;
    memset (big + 21, 'm', slen);
    refused (PROTO_ERROR, big, PROTO_MAX_BODY, "bad-field", "ERROR: message: is 8388587 bytes long",
             "a body of exactly PROTO_MAX_BODY bytes");
    /*  {seq: [nil, nil, ...]}: the map, the key and the array are 3
        values, so 2^20 - 3 nils is the most that passes the pre-scan.    */
    for (uint32_t nils = PROTO_MAX_OBJECTS - 3; nils <= PROTO_MAX_OBJECTS - 2; nils++) {
        size_t size = 10 + nils;
        memcpy (big, "\x81\xa3seq\xdd", 6);
        big[6] = (char) (nils >> 24);
        big[7] = (char) (nils >> 16);
        big[8] = (char) (nils >> 8);
        big[9] = (char) nils;
        memset (big + 10, 0xc0, nils);
        char what[64];
        snprintf (what, sizeof what, "%u nils", nils);
        if (nils == PROTO_MAX_OBJECTS - 3)
            refused (PROTO_PING, big, size, "bad-field", "PING: seq: expected an integer, got an array",
                     what);
        else
            refused (PROTO_PING, big, size, "too-large", "more than 1048576 values", what);
    }
    free (big);
}

/*  xorshift64*: the same sequence on every machine.                      */
static uint64_t s_rng = 0x2545F4914F6CDD1DULL;

static uint64_t
rnd (void)
{
    s_rng ^= s_rng >> 12;
    s_rng ^= s_rng << 25;
    s_rng ^= s_rng >> 27;
    return s_rng * 0x2545F4914F6CDD1DULL;
}

/*  Decodes a hostile body: it must be refused with a code and a text, or
    be a valid message, which then re-encodes (the decoder accepts only
    what the encoder would send) and round-trips byte for byte. Returns
    true if all is well; *accepted counts accepted bodies.                 */
static bool
survives (proto_type_t type, const char *body, size_t size, size_t *accepted, char *why, size_t whylen)
{
    proto_fault_t fault;
    proto_msg_t *msg = decode (type, body, size, &fault);
    if (!msg) {
        if (!*fault.code || !*fault.text) {
            snprintf (why, whylen, "refused without a code or text");
            return false;
        }
        return true;
    }
    ++*accepted;
    bool good = true;
    uint8_t hdr[PROTO_HEADER_SIZE];
    char *body2 = NULL, *body3 = NULL;
    size_t size2 = 0, size3 = 0;
    if (proto_encode (msg, hdr, &body2, &size2, &fault) < 0) {
        snprintf (why, whylen, "%s: accepted but cannot be re-encoded: %s", proto_type_name (type),
                  fault.text);
        good = false;
    }
    else {
        proto_msg_t *again = proto_decode (hdr, sizeof hdr, body2, size2, &fault);
        if (!again || proto_encode (again, hdr, &body3, &size3, &fault) < 0 || size2 != size3
            || memcmp (body2, body3, size2) != 0) {
            snprintf (why, whylen, "%s: accepted, re-encoded, but does not round-trip",
                      proto_type_name (type));
            good = false;
        }
        proto_msg_destroy (&again);
    }
    free (body2);
    free (body3);
    proto_msg_destroy (&msg);
    return good;
}

/*  Words for random maps: every field name of every schema (from
    proto_describe) and some values the decoder looks for.               */
static const char *s_words[512];
static size_t s_nwords;

static void
collect_word (const char *path, const char *type, bool required, const char *limits, void *arg)
{
    const char *name = strrchr (path, '.');
    name = name ? name + 1 : path;
    for (size_t i = 0; i < s_nwords; i++)
        if (strcmp (s_words[i], name) == 0)
            return;
    if (s_nwords < sizeof s_words / sizeof s_words[0])
        s_words[s_nwords++] = strdup (name);
}

static void
pack_string (msgpack_packer *pk, const char *s)
{
    msgpack_pack_str (pk, strlen (s));
    msgpack_pack_str_body (pk, s, strlen (s));
}

/*  A random msgpack value, mostly maps keyed by field names.             */
static void
pack_random (msgpack_packer *pk, int depth)
{
    static const char *values[] = {
        "", "x", "id-1", "TASK_RUNNING", "TASK_FINISHED", "REASON_NONE", "command", "http", "tcp",
        "/bin/true", "FOO", "1X", "a b", "caf\xc3\xa9", "\xff", "millicpus", "mem", "disk", "ports",
    };
    unsigned kind = (unsigned) (rnd () % (depth > 5 ? 8 : 11));
    switch (kind) {
        case 0: msgpack_pack_nil (pk); break;
        case 1: (rnd () & 1) ? msgpack_pack_true (pk) : msgpack_pack_false (pk); break;
        case 2: msgpack_pack_int64 (pk, (int64_t) (rnd () % 2000) - 2); break;
        case 3: msgpack_pack_uint64 (pk, rnd () >> (rnd () % 64)); break;
        case 4: msgpack_pack_int64 (pk, -(int64_t) (rnd () >> (1 + rnd () % 63))); break;
        case 5: msgpack_pack_double (pk, (double) (rnd () % 100000) / 7.0); break;
        case 6: pack_string (pk, values[rnd () % (sizeof values / sizeof values[0])]); break;
        case 7: pack_string (pk, s_words[rnd () % s_nwords]); break;
        case 8: {
            uint32_t n = (uint32_t) (rnd () % 4);
            msgpack_pack_array (pk, n);
            for (uint32_t i = 0; i < n; i++)
                pack_random (pk, depth + 1);
            break;
        }
        default: {
            uint32_t n = (uint32_t) (rnd () % 6);
            msgpack_pack_map (pk, n);
            for (uint32_t i = 0; i < n; i++) {
                pack_string (pk, s_words[rnd () % s_nwords]);
                pack_random (pk, depth + 1);
            }
            break;
        }
    }
}

static void
test_random (void)
{
    static const uint8_t interesting[] = {
        0x00, 0x01, 0x7f, 0x80, 0x81, 0x8f, 0x90, 0x91, 0x9f, 0xa0, 0xa1, 0xbf, 0xc0, 0xc1,
        0xc2, 0xc3, 0xc4, 0xc7, 0xca, 0xcb, 0xcc, 0xcf, 0xd0, 0xd3, 0xd4, 0xd9, 0xdb, 0xdc,
        0xdd, 0xde, 0xdf, 0xe0, 0xff,
    };
    char why[600] = "";
    size_t accepted = 0, failures = 0;
    char buf[512];

    diag ("random bodies");
    for (int i = 0; i < 20000; i++) {
        size_t size = rnd () % (sizeof buf + 1);
        for (size_t k = 0; k < size; k++)
            buf[k] = (char) rnd ();
        /*  Half of them start like a message: a small map.                */
        if (size && i % 2)
            buf[0] = (char) (0x80 | (rnd () % 16));
        proto_type_t type = proto_type_at (rnd () % proto_type_count ());
        char *copy = malloc (size ? size : 1);
        memcpy (copy, buf, size);
        if (!survives (type, copy, size, &accepted, why, sizeof why))
            failures++;
        free (copy);
    }
    ok (failures == 0, "20000 random bodies are refused or valid%s%s", failures ? ": " : "", why);
    diag ("%zu of them were valid messages", accepted);

    diag ("random maps of field names");
    for (size_t i = 0; i < proto_type_count (); i++)
        proto_describe (proto_type_at (i), collect_word, NULL);
    ok (s_nwords > 50, "proto_describe names %zu distinct fields", s_nwords);
    accepted = 0;
    failures = 0;
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    for (int i = 0; i < 20000; i++) {
        msgpack_sbuffer_clear (&sbuf);
        uint32_t n = (uint32_t) (rnd () % 8);
        msgpack_pack_map (&pk, n);
        for (uint32_t k = 0; k < n; k++) {
            pack_string (&pk, s_words[rnd () % s_nwords]);
            pack_random (&pk, 1);
        }
        proto_type_t type = proto_type_at (rnd () % proto_type_count ());
        char *copy = malloc (sbuf.size);
        memcpy (copy, sbuf.data, sbuf.size);
        if (!survives (type, copy, sbuf.size, &accepted, why, sizeof why))
            failures++;
        free (copy);
    }
    msgpack_sbuffer_destroy (&sbuf);
    ok (failures == 0, "20000 random maps are refused or valid%s%s", failures ? ": " : "", why);
    diag ("%zu of them were valid messages", accepted);
    for (size_t i = 0; i < s_nwords; i++)
        free ((char *) s_words[i]);

    diag ("random mutations of the example bodies");
    accepted = 0;
    failures = 0;
    size_t tried = 0;
    for (size_t t = 0; t < proto_type_count (); t++) {
        proto_type_t type = proto_type_at (t);
        size_t size;
        const char *body = example_body (type, &size);
        char *copy = malloc (size);
        for (int i = 0; i < 2000; i++) {
            memcpy (copy, body, size);
            int changes = 1 + (int) (rnd () % 3);
            for (int c = 0; c < changes; c++) {
                size_t at = rnd () % size;
                copy[at] = (char) ((rnd () & 1) ? rnd () : interesting[rnd () % sizeof interesting]);
            }
            /*  Sometimes cut it short as well.                             */
            size_t n = (i % 7 == 0) ? rnd () % (size + 1) : size;
            tried++;
            if (!survives (type, copy, n, &accepted, why, sizeof why))
                failures++;
        }
        free (copy);
    }
    ok (failures == 0, "%zu mutated bodies are refused or valid%s%s", tried, failures ? ": " : "", why);
    diag ("%zu of them were valid messages", accepted);
}

/*  ------------------------------------------------------------------ */
/*  The encoder refuses what a peer would refuse                        */
/*  ------------------------------------------------------------------ */

static void
encode_refused (proto_msg_t *msg, const char *code, const char *text, const char *what)
{
    uint8_t hdr[PROTO_HEADER_SIZE];
    char *body = NULL;
    size_t size = 0;
    proto_fault_t fault;
    errno = 0;
    int rc = proto_encode (msg, hdr, &body, &size, &fault);
    ok (rc == -1 && errno == EINVAL, "encode refuses %s (EINVAL)", what);
    ok (body == NULL, "... and gives no body");
    is (fault.code, code, "... as %s", code);
    ok (strstr (fault.text, text) != NULL, "... '%s' (got '%s')", text, fault.text);
    free (body);
}

static void
test_encoder (void)
{
    diag ("the encoder validates too");
    proto_msg_t *msg = proto_msg_example (PROTO_KILL);
    replace (&msg->u.kill.task_id, "bad id");
    encode_refused (msg, "bad-field", "KILL: task_id: is not a valid id", "an id with a space");
    replace (&msg->u.kill.task_id, "");
    encode_refused (msg, "bad-field", "KILL: task_id: must not be empty", "an empty required id");
    proto_msg_destroy (&msg);

    msg = proto_msg_example (PROTO_STATUS_UPDATE);
    msg->u.status.exit_code = 300;
    encode_refused (msg, "bad-field", "STATUS_UPDATE: exit_code: 300 is out of range", "exit_code 300");
    msg->u.status.exit_code = 0;
    msg->u.status.timestamp = NAN;
    encode_refused (msg, "bad-field", "STATUS_UPDATE: timestamp:", "a NaN timestamp");
    msg->u.status.timestamp = 1.0;
    msg->u.status.state = CAIRN_TASK_STATE_COUNT;
    encode_refused (msg, "bad-field", "STATUS_UPDATE: state: is not a task state", "an unknown state");
    msg->u.status.state = CAIRN_TASK_FAILED;
    msg->u.status.reason = CAIRN_REASON_COUNT;
    encode_refused (msg, "bad-field", "STATUS_UPDATE: reason: is not a reason", "an unknown reason");
    msg->u.status.reason = CAIRN_REASON_NONE;
    replace (&msg->u.status.message, "bad \xff text");
    encode_refused (msg, "bad-field", "STATUS_UPDATE: message: is not valid UTF-8", "invalid UTF-8");
    proto_msg_destroy (&msg);

    msg = proto_msg_example (PROTO_RUN_TASKS);
    proto_task_t *t = msg->u.run_tasks.tasks.items;
    proto_strs_add (&t[1].argv, "/bin/true");
    encode_refused (msg, "bad-field", "RUN_TASKS: tasks[1]: a task needs exactly one of", "command and argv");
    proto_strs_fini (&t[1].argv);
    proto_kv_set (&t[0].env, "NOT-VALID", "x");
    encode_refused (msg, "bad-field", "RUN_TASKS: tasks[0].env: 'NOT-VALID' is not a valid environment",
                    "an env key with '-'");
    proto_msg_destroy (&msg);

    msg = proto_msg_new (PROTO_RUN_TASKS);
    replace (&msg->u.run_tasks.framework->name, "fw");
    for (int i = 0; i <= PROTO_MAX_TASKS; i++) {
        t = proto_list_push (&msg->u.run_tasks.tasks, sizeof (proto_task_t));
        t->task_id = strdup ("t");
        t->command = strdup ("true");
        t->kill_grace_ms = -1;
    }
    encode_refused (msg, "bad-field", "RUN_TASKS: tasks: has more than 1000 items", "1001 tasks");
    proto_msg_destroy (&msg);

    msg = proto_msg_new (PROTO_OFFERS);
    encode_refused (msg, "bad-field", "OFFERS: offers: must not be empty", "OFFERS without offers");
    proto_msg_destroy (&msg);

    msg = proto_msg_example (PROTO_RUN_TASKS);
    proto_framework_info_t *info = msg->u.run_tasks.framework;
    msg->u.run_tasks.framework = NULL;
    encode_refused (msg, "missing-field", "RUN_TASKS: framework: is missing", "RUN_TASKS without framework");
    msg->u.run_tasks.framework = info;
    proto_msg_destroy (&msg);

    /*  Whatever the encoder sends, the decoder takes. An agent with 1023
        single ports and one range, once a task took a port from the
        middle of that range, holds 1025 ranges.                           */
    char *text = malloc (16 * 1024 + 64);
    size_t len = (size_t) sprintf (text, "ports:[");
    for (int i = 0; i < 1023; i++)
        len += (size_t) sprintf (text + len, "%d,", 2 * i + 1);
    sprintf (text + len, "3000-3010]");
    msg = proto_msg_example (PROTO_AGENT_REGISTER);
    cairn_resources_t *res = msg->u.agent_register.resources;
    cairn_resources_t *full = cairn_resources_parse (text);
    cairn_resources_t *one = cairn_resources_parse ("ports:[3005]");
    ok (full != NULL, "an agent with 1024 port ranges");
    resources_copy (res, full);
    cairn_resources_subtract (res, one);
    uint8_t hdr[PROTO_HEADER_SIZE];
    char *body = NULL;
    size_t size = 0;
    proto_fault_t fault;
    if (proto_encode (msg, hdr, &body, &size, &fault) == 0) {
        proto_msg_t *back = proto_decode (hdr, sizeof hdr, body, size, &fault);
        ok (back != NULL, "AGENT_REGISTER with %zu port ranges: what encodes decodes%s%s",
            res->nranges, back ? "" : ": ", back ? "" : fault.text);
        proto_msg_destroy (&back);
    }
    else
        ok (true, "AGENT_REGISTER with %zu port ranges is refused by the encoder: %s", res->nranges,
            fault.text);
    free (body);
    free (text);
    cairn_resources_destroy (&full);
    cairn_resources_destroy (&one);
    proto_msg_destroy (&msg);

    /*  70000 offer ids of 128 bytes: every field is valid, the body is
        9 MB. (The array is filled directly; proto_strs_add would copy
        it 70000 times.)                                                    */
    msg = proto_msg_new (PROTO_DECLINE);
    proto_strs_t *ids = &msg->u.decline.offer_ids;
    ids->items = malloc (70000 * sizeof (char *));
    for (ids->count = 0; ids->count < 70000; ids->count++) {
        ids->items[ids->count] = malloc (PROTO_MAX_ID + 1);
        snprintf (ids->items[ids->count], PROTO_MAX_ID + 1, "%0128zu", ids->count);
    }
    body = NULL;
    errno = 0;
    ok (proto_encode (msg, hdr, &body, &size, &fault) == -1 && errno == EMSGSIZE,
        "encode refuses a 9 MB DECLINE (EMSGSIZE)");
    ok (body == NULL && strcmp (fault.code, "too-large") == 0, "... as too-large");
    ok (strstr (fault.text, "DECLINE: the body would be") != NULL, "... '%s'", fault.text);
    free (body);
    proto_msg_destroy (&msg);

    msg = proto_msg_new (PROTO_AGENT_REGISTERED);
    replace (&msg->u.agent_registered.agent_id, "a1");
    replace (&msg->u.agent_registered.master_id, "m1");
    msg->u.agent_registered.ping_interval_ms = 0;
    encode_refused (msg, "bad-field", "AGENT_REGISTERED: ping_interval_ms: 0 is out of range",
                    "ping_interval_ms 0");
    proto_msg_destroy (&msg);
}

int
main (void)
{
    s_zone = msgpack_zone_new (MSGPACK_ZONE_CHUNK_SIZE);
    test_types ();
    test_roundtrip_examples ();
    test_roundtrip_by_hand ();
    test_header ();
    test_field_types ();
    test_field_presence ();
    test_field_values ();
    test_truncation ();
    test_lying_sizes ();
    test_limits ();
    test_random ();
    test_encoder ();
    msgpack_zone_free (s_zone);
    for (size_t i = 0; i < 256; i++)
        free (s_bodies[i]);
    return done_testing ();
}
