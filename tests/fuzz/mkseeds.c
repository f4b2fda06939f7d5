/*  mkseeds.c - writes the binary seeds of the fuzz corpus (codec, master,
    agent) from valid messages: `make fuzz-seeds` runs it into
    $(srcdir)/tests/fuzz/corpus. The text seeds (resources, app, job) are
    plain files written by hand. Seeds are small: each is one meaningful
    message or a short conversation (fuzz.h) a real peer could have.     */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "proto.h"
#include "error.h"

static const char *s_dir;

typedef struct {
    uint8_t *data;
    size_t size;
} buf_t;

static void
s_put (buf_t *b, const void *p, size_t n)
{
    b->data = realloc (b->data, b->size + n);
    if (!b->data)
        abort ();
    memcpy (b->data + b->size, p, n);
    b->size += n;
}

static void
s_write (const char *harness, const char *name, const buf_t *b)
{
    char path[1024];
    snprintf (path, sizeof path, "%s/%s/%s", s_dir, harness, name);
    FILE *f = fopen (path, "wb");
    if (!f || fwrite (b->data, 1, b->size, f) != b->size || fclose (f) != 0) {
        fprintf (stderr, "mkseeds: %s: %s\n", path, strerror (errno));
        exit (1);
    }
}

/*  Encodes msg (taken) to a header and a body.                           */
static void
s_encode (proto_msg_t *msg, uint8_t hdr[4], char **body, size_t *size)
{
    proto_fault_t fault;
    if (proto_encode (msg, hdr, body, size, &fault) != 0) {
        fprintf (stderr, "mkseeds: %s: %s\n", proto_type_name (msg->type), fault.text);
        exit (1);
    }
    proto_msg_destroy (&msg);
}

/*  A frame record from peer (fuzz.h).                                    */
static void
s_frame (buf_t *b, int peer, proto_msg_t *msg)
{
    uint8_t hdr[4];
    char *body;
    size_t size;
    s_encode (msg, hdr, &body, &size);
    if (size > 0xFFFF)
        abort ();
    uint8_t rec[4] = { (uint8_t) peer, hdr[3], (uint8_t) (size & 0xFF), (uint8_t) (size >> 8) };
    s_put (b, rec, 4);
    s_put (b, body, size);
    free (body);
}

/*  Replaces each occurrence of `from` in b by `to` (of the same length).  */
static void
s_patch (buf_t *b, const char *from, const char *to)
{
    size_t n = strlen (from);
    for (size_t i = 0; i + n <= b->size; i++)
        if (memcmp (b->data + i, from, n) == 0)
            memcpy (b->data + i, to, n);
}

static void
s_tick (buf_t *b, unsigned ms)
{
    uint8_t rec[3] = { FUZZ_TICK, (uint8_t) (ms & 0xFF), (uint8_t) (ms >> 8) };
    s_put (b, rec, 3);
}

/*  A connection failure of peer (type 0).                                 */
static void
s_gone (buf_t *b, int peer)
{
    uint8_t rec[4] = { (uint8_t) peer, 0, 0, 0 };
    s_put (b, rec, 4);
}

static void
s_set (char **field, const char *value)
{
    free (*field);
    *field = xstrdup (value);
}

/*  Messages with the fields the seeds care about.                        */

static proto_msg_t *
s_agent_register (const char *id, const char *res)
{
    proto_msg_t *msg = proto_msg_new (PROTO_AGENT_REGISTER);
    proto_agent_register_t *r = &msg->u.agent_register;
    s_set (&r->agent_id, id);
    s_set (&r->hostname, "host-1");
    s_set (&r->http_address, "127.0.0.1:5051");
    s_set (&r->version, "0.1");
    cairn_resources_destroy (&r->resources);
    r->resources = cairn_resources_parse (res);
    proto_kv_set (&r->attributes, "rack", "r1");
    return msg;
}

static proto_msg_t *
s_framework_register (const char *id, const char *role)
{
    proto_msg_t *msg = proto_msg_new (PROTO_FRAMEWORK_REGISTER);
    proto_framework_info_t *fw = &msg->u.framework;
    s_set (&fw->id, id);
    s_set (&fw->name, "fuzz");
    s_set (&fw->role, role);
    s_set (&fw->user, "nobody");
    s_set (&fw->hostname, "client");
    fw->failover_timeout_ms = 5000;
    return msg;
}

static void
s_task (proto_task_t *t, const char *id, const char *res)
{
    proto_task_init (t);
    s_set (&t->task_id, id);
    s_set (&t->name, id);
    s_set (&t->command, "true");
    cairn_resources_destroy (&t->resources);
    t->resources = cairn_resources_parse (res);
    proto_kv_set (&t->env, "GREETING", "hi");
}

static proto_msg_t *
s_accept (const char *offer, const char *task_id, const char *res)
{
    proto_msg_t *msg = proto_msg_new (PROTO_ACCEPT);
    proto_strs_add (&msg->u.accept.offer_ids, offer);
    if (task_id)
        s_task (proto_list_push (&msg->u.accept.tasks, sizeof (proto_task_t)), task_id, res);
    return msg;
}

static proto_msg_t *
s_decline (const char *offer, int64_t refuse_ms)
{
    proto_msg_t *msg = proto_msg_new (PROTO_DECLINE);
    proto_strs_add (&msg->u.decline.offer_ids, offer);
    msg->u.decline.refuse_ms = refuse_ms;
    return msg;
}

static proto_msg_t *
s_status (const char *fw, const char *agent, const char *task, const char *uuid,
          cairn_task_state_t state)
{
    proto_msg_t *msg = proto_msg_new (PROTO_STATUS_UPDATE);
    proto_status_t *s = &msg->u.status;
    s_set (&s->uuid, uuid);
    s_set (&s->task_id, task);
    s_set (&s->framework_id, fw);
    s_set (&s->agent_id, agent);
    s->state = state;
    s->reason = CAIRN_REASON_NONE;
    s_set (&s->message, "seed");
    s->timestamp = 1700000000.0;
    if (state == CAIRN_TASK_FINISHED || state == CAIRN_TASK_FAILED)
        s->exit_code = state == CAIRN_TASK_FINISHED ? 0 : 3;
    return msg;
}

static proto_msg_t *
s_ack (const char *fw, const char *agent, const char *task, const char *uuid)
{
    proto_msg_t *msg = proto_msg_new (PROTO_STATUS_ACK);
    s_set (&msg->u.status_ack.framework_id, fw);
    s_set (&msg->u.status_ack.agent_id, agent);
    s_set (&msg->u.status_ack.task_id, task);
    s_set (&msg->u.status_ack.uuid, uuid);
    return msg;
}

static proto_msg_t *
s_kill (const char *task)
{
    proto_msg_t *msg = proto_msg_new (PROTO_KILL);
    s_set (&msg->u.kill.task_id, task);
    return msg;
}

static proto_msg_t *
s_run_tasks (const char *fw, const char *task, const char *command)
{
    proto_msg_t *msg = proto_msg_new (PROTO_RUN_TASKS);
    proto_framework_info_t *info = msg->u.run_tasks.framework;
    s_set (&info->id, fw);
    s_set (&info->name, "fuzz");
    proto_task_t *t = proto_list_push (&msg->u.run_tasks.tasks, sizeof (proto_task_t));
    s_task (t, task, "cpus:0.1;mem:32;ports:[31005-31006]");
    s_set (&t->command, command);
    return msg;
}

static proto_msg_t *
s_kill_task (const char *fw, const char *task, int64_t grace_ms)
{
    proto_msg_t *msg = proto_msg_new (PROTO_KILL_TASK);
    s_set (&msg->u.kill_task.framework_id, fw);
    s_set (&msg->u.kill_task.task_id, task);
    msg->u.kill_task.grace_ms = grace_ms;
    return msg;
}

static proto_msg_t *
s_registered (const char *agent)
{
    proto_msg_t *msg = proto_msg_new (PROTO_AGENT_REGISTERED);
    s_set (&msg->u.agent_registered.agent_id, agent);
    s_set (&msg->u.agent_registered.master_id, "m-1");
    msg->u.agent_registered.ping_interval_ms = 1000;
    return msg;
}

#define AGENT_RES   "cpus:4;mem:4096;disk:1000;ports:[31000-31999]"
#define TASK_RES    "cpus:1;mem:128;ports:[31000-31001]"

static void
s_codec_seeds (void)
{
    for (size_t i = 0; i < proto_type_count (); i++) {
        proto_type_t type = proto_type_at (i);
        uint8_t hdr[4];
        char *body;
        size_t size;
        s_encode (proto_msg_example (type), hdr, &body, &size);
        buf_t b = { 0 };
        s_put (&b, hdr, 4);
        s_put (&b, body, size);
        char name[64];
        snprintf (name, sizeof name, "%s", proto_type_name (type));
        for (char *p = name; *p; p++)
            *p = (char) tolower ((unsigned char) *p);
        s_write ("codec", name, &b);
        if (type == PROTO_RUN_TASKS) {
            /*  The same, cut short: msgpack-c calls that "continue".       */
            b.size = 4 + size / 2;
            s_write ("codec", "bad-truncated", &b);
            /*  And with a version this peer does not speak.               */
            b.size = 4 + size;
            b.data[2] = 2;
            s_write ("codec", "bad-version", &b);
        }
        free (b.data);
        free (body);
    }
    /*  Defaults only: the smallest valid bodies.                           */
    proto_type_t small[] = { PROTO_PING, PROTO_REVIVE, PROTO_RECONCILE, PROTO_ACCEPT };
    for (size_t i = 0; i < sizeof small / sizeof small[0]; i++) {
        proto_msg_t *msg = proto_msg_new (small[i]);
        if (small[i] == PROTO_ACCEPT)
            proto_strs_add (&msg->u.accept.offer_ids, "o-1");
        uint8_t hdr[4];
        char *body;
        size_t size;
        s_encode (msg, hdr, &body, &size);
        buf_t b = { 0 };
        s_put (&b, hdr, 4);
        s_put (&b, body, size);
        char name[64];
        snprintf (name, sizeof name, "default-%s", proto_type_name (small[i]));
        for (char *p = name; *p; p++)
            *p = (char) tolower ((unsigned char) *p);
        s_write ("codec", name, &b);
        free (b.data);
        free (body);
    }
    /*  A map header declaring 2^28 entries: the amplification msgpack-c
        falls for (LIBRARY-FACTS.md); the codec must refuse it cheaply.     */
    static const uint8_t huge[] = { 0xCA, 0x1E, 1, PROTO_ACCEPT, 0xDF, 0x10, 0, 0, 0 };
    s_write ("codec", "bad-huge-map", &(buf_t) { (uint8_t *) huge, sizeof huge });
    static const uint8_t deep[] = { 0xCA, 0x1E, 1, PROTO_PING, 0x91, 0x91, 0x91, 0x91, 0x91,
                                    0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91,
                                    0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0xC0 };
    s_write ("codec", "bad-deep", &(buf_t) { (uint8_t *) deep, sizeof deep });
}

static void
s_master_seeds (void)
{
    buf_t b = { 0 };

    /*  The offer cycle: an agent and a framework, an offer accepted, the
        task's updates forwarded and acknowledged, then it finishes.       */
    s_frame (&b, 0, s_agent_register ("a-1", AGENT_RES));
    s_frame (&b, 1, s_framework_register ("f-1", "*"));
    s_tick (&b, 1000);
    s_frame (&b, 1, s_accept ("fuzz-offer-0", "t1", TASK_RES));
    s_frame (&b, 0, s_status ("f-1", "a-1", "t1", "u1", CAIRN_TASK_STARTING));
    s_frame (&b, 1, s_ack ("f-1", "a-1", "t1", "u1"));
    s_frame (&b, 0, s_status ("f-1", "a-1", "t1", "u2", CAIRN_TASK_RUNNING));
    s_frame (&b, 1, s_ack ("f-1", "a-1", "t1", "u2"));
    s_frame (&b, 0, s_status ("f-1", "a-1", "t1", "u3", CAIRN_TASK_FINISHED));
    s_frame (&b, 1, s_ack ("f-1", "a-1", "t1", "u3"));
    s_tick (&b, 1000);
    s_write ("master", "offer-cycle", &b);
    b.size = 0;

    /*  Declines, filters, revive and suppress.                             */
    s_frame (&b, 0, s_agent_register ("a-1", AGENT_RES));
    s_frame (&b, 1, s_framework_register ("", "web"));
    s_tick (&b, 1000);
    s_frame (&b, 1, s_decline ("fuzz-offer-0", 60000));
    s_tick (&b, 1000);
    s_frame (&b, 1, proto_msg_new (PROTO_REVIVE));
    s_tick (&b, 1000);
    s_frame (&b, 1, proto_msg_new (PROTO_SUPPRESS));
    s_tick (&b, 1000);
    s_write ("master", "decline-revive", &b);
    b.size = 0;

    /*  A kill of a running task, reconciliation, then unregistering.      */
    s_frame (&b, 0, s_agent_register ("a-1", AGENT_RES));
    s_frame (&b, 1, s_framework_register ("f-1", "*"));
    s_tick (&b, 1000);
    s_frame (&b, 1, s_accept ("fuzz-offer-0", "t1", TASK_RES));
    s_frame (&b, 0, s_status ("f-1", "a-1", "t1", "u1", CAIRN_TASK_RUNNING));
    s_frame (&b, 1, s_kill ("t1"));
    s_frame (&b, 0, s_status ("f-1", "a-1", "t1", "u2", CAIRN_TASK_KILLED));
    {
        proto_msg_t *r = proto_msg_new (PROTO_RECONCILE);
        proto_strs_add (&r->u.reconcile.task_ids, "t1");
        proto_strs_add (&r->u.reconcile.task_ids, "t2");
        s_frame (&b, 1, r);
    }
    s_frame (&b, 1, proto_msg_new (PROTO_RECONCILE));
    {
        proto_msg_t *u = proto_msg_new (PROTO_UNREGISTER);
        u->u.unregister.failover = false;
        s_frame (&b, 1, u);
    }
    s_tick (&b, 1000);
    s_write ("master", "kill-reconcile", &b);
    b.size = 0;

    /*  Several tasks in one accept over two offers, one of them invalid. */
    s_frame (&b, 0, s_agent_register ("a-1", AGENT_RES));
    s_frame (&b, 2, s_agent_register ("a-2", "cpus:2;mem:1024"));
    s_frame (&b, 1, s_framework_register ("f-1", "*"));
    s_tick (&b, 1000);
    {
        proto_msg_t *a = s_accept ("fuzz-offer-0", "t1", TASK_RES);
        proto_strs_add (&a->u.accept.offer_ids, "fuzz-offer-1");
        s_task (proto_list_push (&a->u.accept.tasks, sizeof (proto_task_t)), "t2",
                "cpus:1;mem:64");
        s_task (proto_list_push (&a->u.accept.tasks, sizeof (proto_task_t)), "t3",
                "cpus:64;mem:64");
        s_frame (&b, 1, a);
    }
    s_tick (&b, 1000);
    s_write ("master", "accept-many", &b);
    b.size = 0;

    /*  A framework fails over to a new connection; the old one goes.     */
    s_frame (&b, 1, s_framework_register ("f-1", "*"));
    s_gone (&b, 1);
    s_tick (&b, 2000);
    s_frame (&b, 3, s_framework_register ("f-1", "*"));
    {
        proto_msg_t *u = s_framework_register ("f-1", "batch");
        u->type = PROTO_UPDATE_FRAMEWORK;
        s_frame (&b, 3, u);
    }
    s_tick (&b, 10000);
    s_write ("master", "framework-failover", &b);
    b.size = 0;

    /*  An agent goes silent: unreachable, its task lost; then it returns
        with the task in its registration.                                  */
    s_frame (&b, 0, s_agent_register ("a-1", AGENT_RES));
    {
        proto_msg_t *fw = s_framework_register ("f-1", "*");
        fw->u.framework.partition_aware = true;
        s_frame (&b, 1, fw);
    }
    s_tick (&b, 1000);
    s_frame (&b, 1, s_accept ("fuzz-offer-0", "t1", TASK_RES));
    for (int i = 0; i < 5; i++) {
        s_frame (&b, 1, proto_msg_new (PROTO_PING));
        s_tick (&b, 1500);
    }
    {
        proto_msg_t *r = s_agent_register ("a-1", AGENT_RES);
        proto_agent_task_t *at = proto_list_push (&r->u.agent_register.tasks,
                                                  sizeof (proto_agent_task_t));
        s_set (&at->framework_id, "f-1");
        s_task (&at->task, "t1", TASK_RES);
        at->state = CAIRN_TASK_RUNNING;
        s_frame (&b, 0, r);
    }
    s_tick (&b, 1000);
    s_write ("master", "agent-unreachable", &b);
    b.size = 0;

    /*  Usage samples, info and pings, an error from a peer.               */
    s_frame (&b, 0, s_agent_register ("", AGENT_RES));
    {
        proto_msg_t *u = proto_msg_new (PROTO_USAGE);
        proto_task_usage_t *t = proto_list_push (&u->u.usage.tasks, sizeof (proto_task_usage_t));
        s_set (&t->framework_id, "f-1");
        s_set (&t->task_id, "t1");
        t->cpu_seconds = 1.5;
        t->mem_bytes = 1 << 20;
        t->mem_peak_bytes = 2 << 20;
        t->timestamp = 1700000000.0;
        s_frame (&b, 0, u);
    }
    s_frame (&b, 4, proto_msg_new (PROTO_INFO_REQUEST));
    s_frame (&b, 4, proto_msg_new (PROTO_PING));
    s_frame (&b, 4, proto_msg_example (PROTO_ERROR));
    s_write ("master", "usage-info", &b);
    b.size = 0;

    /*  Refusals: a framework message before registering, an agent sending
        what frameworks send, a master-only message, a frame the codec
        refuses, and the same peer registering as both.                    */
    s_frame (&b, 1, s_kill ("t1"));
    s_frame (&b, 0, s_agent_register ("a-1", AGENT_RES));
    s_frame (&b, 0, s_accept ("o-1", NULL, NULL));
    s_frame (&b, 0, proto_msg_example (PROTO_OFFERS));
    s_frame (&b, 0, s_framework_register ("f-1", "*"));
    {
        uint8_t bad[] = { 5, PROTO_ACCEPT, 3, 0, 0x81, 0xA1, 'x' };
        s_put (&b, bad, sizeof bad);
        uint8_t unknown[] = { 5, 99, 1, 0, 0x80 };
        s_put (&b, unknown, sizeof unknown);
    }
    s_write ("master", "refusals", &b);
    b.size = 0;

    /*  An agent registering twice from different connections, one of them
        gone.                                                               */
    s_frame (&b, 0, s_agent_register ("", AGENT_RES));
    s_frame (&b, 0, s_agent_register ("", AGENT_RES));
    s_frame (&b, 2, s_agent_register ("a-1", AGENT_RES));
    s_frame (&b, 6, s_agent_register ("a-1", "cpus:1;mem:10"));
    s_gone (&b, 2);
    s_tick (&b, 65000);
    s_write ("master", "agent-reregister", &b);
    free (b.data);
}

static void
s_agent_seeds (void)
{
    buf_t b = { 0 };

    /*  Registered, a task launched, its update acknowledged, killed.     */
    s_frame (&b, 0, s_registered ("a-1"));
    s_frame (&b, 0, s_run_tasks ("f-1", "t1", "echo hi"));
    s_frame (&b, 0, s_ack ("f-1", "a-1", "t1", "nonesuch"));
    s_tick (&b, 1000);
    s_frame (&b, 0, s_kill_task ("f-1", "t1", 100));
    s_tick (&b, 1000);
    s_tick (&b, 1000);
    s_write ("agent", "launch-kill", &b);
    b.size = 0;

    /*  A task with URIs (fetched first) and a health check.              */
    s_frame (&b, 0, s_registered ("a-1"));
    {
        proto_msg_t *r = s_run_tasks ("f-1", "t1", "sleep 1");
        proto_task_t *t = r->u.run_tasks.tasks.items;
        proto_uri_t *u = proto_list_push (&t->uris, sizeof (proto_uri_t));
        s_set (&u->uri, "http://127.0.0.1:1/x.tgz");
        u->extract = true;
        t->health = proto_health_new ();
        s_set (&t->health->type, "command");
        s_set (&t->health->command, "true");
        proto_kv_set (&t->labels, "app", "web");
        s_frame (&b, 0, r);
    }
    s_tick (&b, 500);
    s_write ("agent", "fetch-health", &b);
    b.size = 0;

    /*  Messages before registering, a launch sent twice, an unknown kill,
        the same task id under two frameworks, argv instead of a command.  */
    s_frame (&b, 0, s_run_tasks ("f-1", "t0", "true"));
    s_frame (&b, 0, s_registered ("a-1"));
    s_frame (&b, 0, s_run_tasks ("f-1", "t1", "true"));
    s_frame (&b, 0, s_run_tasks ("f-1", "t1", "true"));
    s_frame (&b, 0, s_run_tasks ("f-2", "t1", "true"));
    {
        proto_msg_t *r = s_run_tasks ("f-1", "t2", "x");
        proto_task_t *t = r->u.run_tasks.tasks.items;
        free (t->command);
        t->command = NULL;
        proto_strs_add (&t->argv, "/bin/echo");
        proto_strs_add (&t->argv, "hello");
        t->kill_grace_ms = 10;
        s_set (&t->user, "nobody");
        s_frame (&b, 0, r);
    }
    s_frame (&b, 0, s_kill_task ("f-9", "t9", -1));
    s_write ("agent", "launch-twice", &b);
    b.size = 0;

    /*  The master goes silent; the agent reconnects and registers again;
        then the master tells it to shut down.                             */
    s_frame (&b, 0, s_registered ("a-1"));
    s_frame (&b, 0, s_run_tasks ("f-1", "t1", "true"));
    s_tick (&b, 10000);
    s_tick (&b, 10000);
    s_gone (&b, 0);
    s_frame (&b, 0, s_registered ("a-1"));
    s_frame (&b, 0, s_registered ("a-2"));
    s_frame (&b, 0, proto_msg_new (PROTO_PING));
    s_frame (&b, 0, proto_msg_example (PROTO_AGENT_SHUTDOWN));
    s_tick (&b, 100);
    s_write ("agent", "reconnect-shutdown", &b);
    b.size = 0;

    /*  What an agent never gets from a master, and a frame it refuses.   */
    s_frame (&b, 0, s_registered ("a-1"));
    s_frame (&b, 0, proto_msg_example (PROTO_OFFERS));
    s_frame (&b, 0, proto_msg_example (PROTO_ACCEPT));
    s_frame (&b, 0, proto_msg_example (PROTO_ERROR));
    {
        uint8_t bad[] = { 0, PROTO_RUN_TASKS, 2, 0, 0x81, 0xC0 };
        s_put (&b, bad, sizeof bad);
    }
    s_write ("agent", "unexpected", &b);
    b.size = 0;

    /*  Regression: ids are directory names in the work directory, and
        "." and ".." were valid ids (the sandbox of framework ".." task
        ".." was the work directory's parent).                            */
    s_frame (&b, 0, s_registered ("a-1"));
    s_frame (&b, 0, s_run_tasks ("Q9", "Z8", "true"));
    s_frame (&b, 0, s_run_tasks ("Y", "t1", "true"));
    /*  The encoder refuses such ids now: put them in the bytes.          */
    s_patch (&b, "\xa2Q9", "\xa2..");
    s_patch (&b, "\xa2Z8", "\xa2..");
    s_patch (&b, "\xa1Y", "\xa1.");
    s_write ("agent", "regress-dotdot-ids", &b);
    b.size = 0;

    /*  Every message type's example (ids "...-1"), in order.               */
    for (size_t i = 0; i < proto_type_count (); i++)
        s_frame (&b, 0, proto_msg_example (proto_type_at (i)));
    s_write ("agent", "examples", &b);
    free (b.data);
}

int
main (int argc, char *argv[])
{
    if (argc != 2) {
        fprintf (stderr, "usage: %s CORPUS-DIR\n", argv[0]);
        return 2;
    }
    s_dir = argv[1];
    s_codec_seeds ();
    s_master_seeds ();
    s_agent_seeds ();
    return 0;
}
