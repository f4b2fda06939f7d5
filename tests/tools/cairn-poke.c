/*  cairn-poke.c - sends hostile input to a master and prints its answers.

    Usage: cairn-poke --master=HOST:PORT [--timeout=MS] [--seed=N]
                      [--count=N] [--framework-id=ID] SCENARIO

    tests/integration/hostile.sh drives it. A scenario is a series of
    cases, each sent on a fresh DEALER connection (or on a registered
    framework's). A case ends with a PING: the master answers one
    connection's messages in order, so every answer to the case arrives
    before the PONG, and no case waits on a timer except when the master
    fails to answer at all. Each answer is printed as one line, prefixed
    with the case's name:

        version-2: ERROR code=version in_reply_to=PING message=...
        bogus-offer: STATUS task=t1 state=TASK_DROPPED reason=... message=...
        junk-header: NOREPLY

    OFFERS and RESCIND are not printed (they arrive whenever the
    allocator runs); a registered framework's PINGs are answered and its
    status updates acknowledged, as a scheduler would.

    Well-formed messages go through the codec (proto.h, transport.h);
    hostile frames are raw zmq_send calls, their bodies written with
    msgpack-c or as literal bytes. Random input comes from a fixed seed,
    so a failure is reproduced by running the same command again.

    Exit status: 0 when the master answered every case (its PONG came
    back), 1 when it did not (it died or hangs; a TIMEOUT line says
    where), 2 on a usage error.                                           */
#include "config.h"

#include <assert.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>
#include <msgpack.h>

#include "cairn.h"
#include "error.h"
#include "proto.h"
#include "transport.h"

#define SENTINEL_BASE   7700000000LL    /* PING seqs of our end-of-case markers */
#define RANDOM_PER_PEER 100             /* random messages per connection */
#define MAX_CODES       16

typedef struct {
    char *endpoint;                     /* tcp://HOST:PORT */
    int timeout_ms;                     /* for one case's answers */
    uint64_t seed;
    int count;                          /* random messages */
    const char *framework_id;           /* to register with, or NULL */
    int64_t seq;                        /* last sentinel PING seq */
    int failures;                       /* cases the master did not finish */
} poke_t;

/*  One connection to the master, and what a scheduler on it would keep.  */
typedef struct {
    poke_t *poke;
    zsock_t *sock;
    char *framework_id;                 /* once registered, else NULL */
    proto_msg_t *offers;                /* the latest OFFERS, if any */
    bool task_ended;                    /* an agent reported a task's end */
} peer_t;

/*  Answers to a batch of cases, counted instead of printed.              */
typedef struct {
    int answers, errors, others, bad;
    int ncodes;
    char codes[MAX_CODES][32];
    int code_counts[MAX_CODES];
} tally_t;

/*  ------------------------------------------------------------------ */
/*  Connections                                                         */
/*  ------------------------------------------------------------------ */

static peer_t *
s_peer_new (poke_t *poke)
{
    peer_t *peer = xzalloc (sizeof *peer);
    peer->poke = poke;
    /*  No identity: the ROUTER names each connection itself. Linger so
        that a last UNREGISTER leaves; no high-water mark because the
        random scenario sends hundreds of messages before reading.       */
    peer->sock = zsock_new (ZMQ_DEALER);
    assert (peer->sock);
    zsock_set_linger (peer->sock, 500);
    zsock_set_sndhwm (peer->sock, 0);
    zsock_set_rcvhwm (peer->sock, 0);
    if (zsock_connect (peer->sock, "%s", poke->endpoint) < 0) {
        fprintf (stderr, "cairn-poke: cannot connect to %s: %s\n", poke->endpoint,
                 zmq_strerror (errno));
        exit (2);
    }
    return peer;
}

static void
s_peer_destroy (peer_t **peer_p)
{
    peer_t *peer = *peer_p;
    if (peer) {
        zsock_destroy (&peer->sock);
        free (peer->framework_id);
        proto_msg_destroy (&peer->offers);
        free (peer);
        *peer_p = NULL;
    }
}

/*  Sends frames as given: the hostile half of the tool.                  */
static void
s_send_frames (peer_t *peer, size_t n, const void *const *data, const size_t *size)
{
    void *handle = zsock_resolve (peer->sock);
    for (size_t i = 0; i < n; i++)
        if (zmq_send (handle, data[i], size[i], i + 1 < n ? ZMQ_SNDMORE : 0) < 0) {
            fprintf (stderr, "cairn-poke: zmq_send: %s\n", zmq_strerror (errno));
            exit (1);
        }
}

/*  [header(version, type)][body]                                          */
static void
s_send_raw (peer_t *peer, int version, int type, const void *body, size_t body_size)
{
    uint8_t hdr[PROTO_HEADER_SIZE] = { PROTO_SIG0, PROTO_SIG1, (uint8_t) version, (uint8_t) type };
    const void *data[2] = { hdr, body };
    size_t size[2] = { sizeof hdr, body_size };
    s_send_frames (peer, 2, data, size);
}

/*  A well-formed message through the codec; takes ownership.             */
static void
s_send_msg (peer_t *peer, proto_msg_t **msg_p)
{
    if (transport_send (peer->sock, NULL, *msg_p) < 0) {
        fprintf (stderr, "cairn-poke: cannot send %s: %s\n", proto_type_name ((*msg_p)->type),
                 strerror (errno));
        exit (1);
    }
    proto_msg_destroy (msg_p);
}

static void
s_set (char **dst, const char *src)
{
    free (*dst);
    *dst = xstrdup (src);
}

/*  ------------------------------------------------------------------ */
/*  Answers                                                             */
/*  ------------------------------------------------------------------ */

/*  Text from the master, on one line whatever it holds.                  */
static void
s_print_text (const char *s)
{
    for (const unsigned char *p = (const unsigned char *) s; *p; p++)
        putchar (*p < 0x20 || *p == 0x7f ? '?' : *p);
}

static void
s_print_msg (const char *label, const proto_msg_t *msg)
{
    printf ("%s: ", label);
    switch (msg->type) {
        case PROTO_ERROR: {
            const proto_error_t *e = &msg->u.error;
            const char *about = proto_type_name ((int) e->in_reply_to);
            printf ("ERROR code=%s in_reply_to=%s message=", e->code, about ? about : "0");
            s_print_text (e->message);
            break;
        }
        case PROTO_STATUS_UPDATE: {
            const proto_status_t *s = &msg->u.status;
            printf ("STATUS task=%s state=%s reason=%s agent=%s message=", s->task_id,
                    cairn_task_state_name (s->state), cairn_reason_name (s->reason),
                    *s->agent_id ? s->agent_id : "-");
            s_print_text (s->message);
            break;
        }
        case PROTO_FRAMEWORK_REGISTERED:
            printf ("REGISTERED framework=%s", msg->u.framework_registered.framework_id);
            break;
        case PROTO_PONG:
            printf ("PONG seq=%" PRId64, msg->u.ping.seq);
            break;
        case PROTO_INFO:
            printf ("INFO master=%s", msg->u.info.master_id);
            break;
        default:
            printf ("%s", proto_type_name (msg->type));
            break;
    }
    putchar ('\n');
}

static void
s_tally_add (tally_t *tally, const proto_msg_t *msg)
{
    tally->answers++;
    if (!msg) {
        tally->bad++;
        return;
    }
    if (msg->type != PROTO_ERROR) {
        tally->others++;
        return;
    }
    tally->errors++;
    int i;
    for (i = 0; i < tally->ncodes; i++)
        if (strcmp (tally->codes[i], msg->u.error.code) == 0)
            break;
    if (i == tally->ncodes) {
        if (i == MAX_CODES)
            return;
        snprintf (tally->codes[i], sizeof tally->codes[i], "%s", msg->u.error.code);
        tally->ncodes++;
    }
    tally->code_counts[i]++;
}

/*  The next message, until `deadline`: 1 with *msg (NULL with *fault
    when our codec refuses it), 2 when OFFERS came (kept in peer->offers),
    0 at the deadline. What a scheduler handles by itself is handled
    here: PINGs are answered, status updates acknowledged (and still
    returned).                                                             */
static int
s_next (peer_t *peer, int64_t deadline, proto_msg_t **msg, proto_fault_t *fault)
{
    void *handle = zsock_resolve (peer->sock);
    while (true) {
        if (transport_recv (peer->sock, false, NULL, msg, fault) == 0) {
            int64_t left = deadline - clock_mono_ms ();
            if (left <= 0)
                return 0;
            zmq_pollitem_t item = { handle, 0, ZMQ_POLLIN, 0 };
            zmq_poll (&item, 1, (long) left);
            continue;
        }
        proto_msg_t *m = *msg;
        if (m && m->type == PROTO_PING) {
            proto_msg_t *pong = proto_msg_new (PROTO_PONG);
            pong->u.ping.seq = m->u.ping.seq;
            s_send_msg (peer, &pong);
            proto_msg_destroy (msg);
            continue;
        }
        if (m && m->type == PROTO_OFFERS) {
            proto_msg_destroy (&peer->offers);
            peer->offers = m;
            *msg = NULL;
            return 2;
        }
        if (m && m->type == PROTO_RESCIND) {
            /*  Forget the offers if one of them is gone: simple, and the
                allocator sends new ones.                                 */
            if (peer->offers) {
                proto_offer_t *offers = peer->offers->u.offers.offers.items;
                for (size_t i = 0; i < peer->offers->u.offers.offers.count; i++)
                    if (strcmp (offers[i].offer_id, m->u.rescind.offer_id) == 0) {
                        proto_msg_destroy (&peer->offers);
                        break;
                    }
            }
            proto_msg_destroy (msg);
            continue;
        }
        if (m && m->type == PROTO_STATUS_UPDATE && *m->u.status.uuid && peer->framework_id) {
            proto_msg_t *ack = proto_msg_new (PROTO_STATUS_ACK);
            s_set (&ack->u.status_ack.framework_id, peer->framework_id);
            s_set (&ack->u.status_ack.agent_id, m->u.status.agent_id);
            s_set (&ack->u.status_ack.task_id, m->u.status.task_id);
            s_set (&ack->u.status_ack.uuid, m->u.status.uuid);
            s_send_msg (peer, &ack);
            if (cairn_task_state_is_terminal (m->u.status.state))
                peer->task_ended = true;
        }
        return 1;
    }
}

/*  Ends a case: sends a PING and prints (or counts) every answer that
    comes before its PONG, "NOREPLY" if none. Returns the number of
    answers, or -1 (a TIMEOUT line) when the PONG does not come.         */
static int
s_settle (peer_t *peer, const char *label, tally_t *tally)
{
    poke_t *poke = peer->poke;
    int64_t seq = SENTINEL_BASE + ++poke->seq;
    proto_msg_t *ping = proto_msg_new (PROTO_PING);
    ping->u.ping.seq = seq;
    s_send_msg (peer, &ping);
    int64_t deadline = clock_mono_ms () + poke->timeout_ms;
    int answers = 0;
    while (true) {
        proto_msg_t *msg = NULL;
        proto_fault_t fault;
        int rc = s_next (peer, deadline, &msg, &fault);
        if (rc == 0) {
            printf ("%s: TIMEOUT the master did not answer a PING within %d ms\n", label,
                    poke->timeout_ms);
            poke->failures++;
            return -1;
        }
        if (rc == 2)
            continue;
        if (msg && msg->type == PROTO_PONG && msg->u.ping.seq == seq) {
            proto_msg_destroy (&msg);
            break;
        }
        answers++;
        if (tally)
            s_tally_add (tally, msg);
        else if (msg)
            s_print_msg (label, msg);
        else
            printf ("%s: BADREPLY code=%s message=%s\n", label, fault.code, fault.text);
        proto_msg_destroy (&msg);
    }
    if (answers == 0 && !tally)
        printf ("%s: NOREPLY\n", label);
    return answers;
}

/*  ------------------------------------------------------------------ */
/*  Playing a scheduler                                                 */
/*  ------------------------------------------------------------------ */

/*  Registers a framework (failover timeout 0: torn down when it goes),
    with --framework-id if given. Returns 0, or -1 after printing why (an
    ERROR answer, or a TIMEOUT).                                           */
static int
s_register (peer_t *peer, const char *label)
{
    proto_msg_t *reg = proto_msg_new (PROTO_FRAMEWORK_REGISTER);
    s_set (&reg->u.framework.id, peer->poke->framework_id ? peer->poke->framework_id : "");
    s_set (&reg->u.framework.name, label);
    s_set (&reg->u.framework.user, "cairn-poke");
    s_send_msg (peer, &reg);
    int64_t deadline = clock_mono_ms () + peer->poke->timeout_ms;
    proto_msg_t *msg = NULL;
    proto_fault_t fault;
    int rc;
    while ((rc = s_next (peer, deadline, &msg, &fault)) != 0) {
        if (rc == 2)
            continue;
        if (msg && msg->type == PROTO_FRAMEWORK_REGISTERED) {
            peer->framework_id = xstrdup (msg->u.framework_registered.framework_id);
            proto_msg_destroy (&msg);
            return 0;
        }
        if (msg && msg->type == PROTO_ERROR) {
            s_print_msg (label, msg);       /* refused */
            proto_msg_destroy (&msg);
            return -1;
        }
        if (msg)
            s_print_msg (label, msg);
        else
            printf ("%s: BADREPLY code=%s message=%s\n", label, fault.code, fault.text);
        proto_msg_destroy (&msg);
    }
    printf ("%s: TIMEOUT no FRAMEWORK_REGISTERED within %d ms\n", label, peer->poke->timeout_ms);
    peer->poke->failures++;
    return -1;
}

/*  Waits for an offer; returns the first of the latest OFFERS (borrowed
    from peer) or NULL after printing why.                                 */
static const proto_offer_t *
s_wait_offer (peer_t *peer, const char *label)
{
    int64_t deadline = clock_mono_ms () + 2 * peer->poke->timeout_ms;
    while (!peer->offers) {
        proto_msg_t *msg = NULL;
        proto_fault_t fault;
        int rc = s_next (peer, deadline, &msg, &fault);
        if (rc == 0) {
            printf ("%s: TIMEOUT no OFFERS within %d ms\n", label, 2 * peer->poke->timeout_ms);
            peer->poke->failures++;
            return NULL;
        }
        if (rc == 2)
            continue;
        if (msg)
            s_print_msg (label, msg);
        else
            printf ("%s: BADREPLY code=%s message=%s\n", label, fault.code, fault.text);
        proto_msg_destroy (&msg);
    }
    return peer->offers->u.offers.offers.items;
}

/*  Leaves, so the framework's offers go back before the next scenario;
    does nothing if the peer never registered.                            */
static void
s_unregister (peer_t *peer, const char *label)
{
    if (!peer || !peer->framework_id)
        return;
    proto_msg_t *bye = proto_msg_new (PROTO_UNREGISTER);
    bye->u.unregister.failover = false;
    s_send_msg (peer, &bye);
    s_settle (peer, label, NULL);
    free (peer->framework_id);
    peer->framework_id = NULL;
}

static proto_msg_t *
s_accept_new (const char *offer_id)
{
    proto_msg_t *msg = proto_msg_new (PROTO_ACCEPT);
    proto_strs_add (&msg->u.accept.offer_ids, offer_id);
    msg->u.accept.refuse_ms = 0;        /* offer it again at once */
    return msg;
}

static void
s_add_task (proto_msg_t *accept, const char *task_id, int64_t millicpus, uint64_t mem)
{
    proto_task_t *t = proto_list_push (&accept->u.accept.tasks, sizeof (proto_task_t));
    proto_task_init (t);
    s_set (&t->task_id, task_id);
    s_set (&t->command, "true");
    cairn_resources_set_millicpus (t->resources, millicpus);
    cairn_resources_set_mem (t->resources, mem);
}

/*  ------------------------------------------------------------------ */
/*  msgpack bodies                                                      */
/*  ------------------------------------------------------------------ */

typedef struct {
    msgpack_sbuffer sbuf;
    msgpack_packer pk;
} body_t;

static msgpack_packer *
s_body_init (body_t *b)
{
    msgpack_sbuffer_init (&b->sbuf);
    msgpack_packer_init (&b->pk, &b->sbuf, msgpack_sbuffer_write);
    return &b->pk;
}

static void
s_pk_str (msgpack_packer *pk, const char *s)
{
    size_t n = strlen (s);
    msgpack_pack_str (pk, n);
    msgpack_pack_str_body (pk, s, n);
}

static void
s_pk_raw_str (msgpack_packer *pk, const char *s, size_t n)
{
    msgpack_pack_str (pk, n);
    msgpack_pack_str_body (pk, s, n);
}

/*  Sends the body built in b as one message of `type`, and frees it.    */
static void
s_send_body (peer_t *peer, int type, body_t *b)
{
    s_send_raw (peer, PROTO_VERSION, type, b->sbuf.data, b->sbuf.size);
    msgpack_sbuffer_destroy (&b->sbuf);
}

/*  The start of a FRAMEWORK_REGISTER body: map of n, with id "" (and
    the caller adds n - 1 pairs).                                          */
static msgpack_packer *
s_framework_body (body_t *b, uint32_t n)
{
    msgpack_packer *pk = s_body_init (b);
    msgpack_pack_map (pk, n);
    s_pk_str (pk, "id");
    s_pk_str (pk, "");
    return pk;
}

/*  ------------------------------------------------------------------ */
/*  Scenarios                                                           */
/*  ------------------------------------------------------------------ */

/*  A deterministic generator (xorshift64*): the same seed, the same
    bytes on every machine.                                                */
static uint64_t
s_rand (uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static uint32_t
s_below (uint64_t *state, uint32_t n)
{
    return (uint32_t) ((s_rand (state) >> 11) % n);
}

/*  msgpack bytes that make parsers work: container and length markers,
    the never-used 0xc1, extremes of the fixed ranges.                    */
static const uint8_t s_markers[] = {
    0x00, 0x01, 0x7f, 0x80, 0x81, 0x8f, 0x90, 0x91, 0x9f, 0xa0, 0xa3, 0xbf, 0xc0, 0xc1,
    0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcc, 0xcf, 0xd0, 0xd3, 0xd4,
    0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff,
};

static uint8_t
s_rand_byte (uint64_t *rng)
{
    if (s_below (rng, 2))
        return s_markers[s_below (rng, sizeof s_markers)];
    return (uint8_t) s_rand (rng);
}

typedef struct {
    uint8_t *data;
    size_t size, cap;
} bytes_t;

static void
s_bytes_reserve (bytes_t *b, size_t more)
{
    if (b->size + more > b->cap) {
        b->cap = (b->size + more) * 2 + 16;
        b->data = xrealloc (b->data, b->cap);
    }
}

static void
s_bytes_insert (bytes_t *b, size_t at, const uint8_t *src, size_t n)
{
    s_bytes_reserve (b, n);
    memmove (b->data + at + n, b->data + at, b->size - at);
    memcpy (b->data + at, src, n);
    b->size += n;
}

/*  One random edit of a body.                                             */
static void
s_mutate (uint64_t *rng, bytes_t *b)
{
    size_t pos = b->size ? s_below (rng, (uint32_t) b->size) : 0;
    switch (b->size ? s_below (rng, 8) : 4) {
        case 0:                             /* flip a bit */
            b->data[pos] ^= (uint8_t) (1u << s_below (rng, 8));
            break;
        case 1:                             /* a marker or a random byte */
            b->data[pos] = s_rand_byte (rng);
            break;
        case 2:                             /* truncate */
            b->size = pos;
            break;
        case 3: {                           /* a huge count or length */
            static const uint8_t big[] = { 0xff, 0xff, 0xff, 0xff };
            size_t n = b->size - pos < 4 ? b->size - pos : 4;
            memcpy (b->data + pos, big, n);
            break;
        }
        case 4: {                           /* insert random bytes */
            uint8_t ins[8];
            size_t n = 1 + s_below (rng, sizeof ins);
            for (size_t i = 0; i < n; i++)
                ins[i] = s_rand_byte (rng);
            s_bytes_insert (b, pos, ins, n);
            break;
        }
        case 5: {                           /* repeat a chunk */
            size_t n = 1 + s_below (rng, (uint32_t) (b->size - pos < 16 ? b->size - pos : 16));
            uint8_t chunk[16];
            memcpy (chunk, b->data + pos, n);
            s_bytes_insert (b, s_below (rng, (uint32_t) b->size + 1), chunk, n);
            break;
        }
        case 6: {                           /* delete a range */
            size_t n = 1 + s_below (rng, (uint32_t) (b->size - pos < 16 ? b->size - pos : 16));
            memmove (b->data + pos, b->data + pos + n, b->size - pos - n);
            b->size -= n;
            break;
        }
        default:                            /* a random byte */
            b->data[pos] = (uint8_t) s_rand (rng);
            break;
    }
}

typedef struct {
    int type;
    uint8_t *body;
    size_t size;
} example_t;

/*  One random message: 1, 2, 3 or more frames; a header that is random,
    has the signature with a random version and type, or is valid; a
    body that is random bytes, msgpack markers, empty, or a valid example
    of its type with a few edits. An AGENT_REGISTER body is only ever cut
    short or given trailing bytes, both always refused: a valid one would
    add an agent that does not exist and break the run after this.       */
static void
s_random_message (uint64_t *rng, const example_t *examples, size_t nexamples, peer_t *peer)
{
    uint8_t hdr[8];
    size_t hdr_size = PROTO_HEADER_SIZE;
    int type = -1;
    uint32_t h = s_below (rng, 8);
    if (h == 0) {
        hdr_size = s_below (rng, sizeof hdr + 1);
        for (size_t i = 0; i < hdr_size; i++)
            hdr[i] = (uint8_t) s_rand (rng);
    }
    else {
        hdr[0] = PROTO_SIG0;
        hdr[1] = PROTO_SIG1;
        hdr[2] = h == 1 ? (uint8_t) s_rand (rng) : PROTO_VERSION;
        if (h <= 2)
            hdr[3] = (uint8_t) s_rand (rng);
        else
            hdr[3] = (uint8_t) examples[s_below (rng, (uint32_t) nexamples)].type;
        type = hdr[3];
    }

    bytes_t body = { NULL, 0, 0 };
    uint32_t k = s_below (rng, 8);
    if (k == 0) {
        size_t n = s_below (rng, 65);
        s_bytes_reserve (&body, n);
        for (size_t i = 0; i < n; i++)
            body.data[body.size++] = (uint8_t) s_rand (rng);
    }
    else if (k == 1)
        ;                                   /* empty */
    else if (k == 2) {
        size_t n = 1 + s_below (rng, 48);
        s_bytes_reserve (&body, n);
        for (size_t i = 0; i < n; i++)
            body.data[body.size++] = s_rand_byte (rng);
    }
    else {
        const example_t *ex = NULL;
        for (size_t i = 0; i < nexamples; i++)
            if (examples[i].type == type)
                ex = &examples[i];
        while (!ex || (ex->type == PROTO_AGENT_REGISTER && type != PROTO_AGENT_REGISTER))
            ex = &examples[s_below (rng, (uint32_t) nexamples)];
        s_bytes_insert (&body, 0, ex->body, ex->size);
        if (ex->type == PROTO_AGENT_REGISTER) {
            if (s_below (rng, 2))
                body.size = s_below (rng, (uint32_t) body.size);
            else {
                uint8_t extra = s_rand_byte (rng);
                s_bytes_insert (&body, body.size, &extra, 1);
            }
        }
        else
            for (uint32_t m = 1 + s_below (rng, 3); m > 0; m--)
                s_mutate (rng, &body);
    }

    uint8_t extra[6][16];
    const void *data[8] = { hdr, body.data ? body.data : (const void *) "" };
    size_t size[8] = { hdr_size, body.size };
    uint32_t f = s_below (rng, 10);
    size_t nframes = f == 0 ? 1 : f <= 7 ? 2 : f == 8 ? 3 : 4 + s_below (rng, 3);
    for (size_t i = 2; i < nframes; i++) {
        size[i] = s_below (rng, sizeof extra[0] + 1);
        for (size_t j = 0; j < size[i]; j++)
            extra[i - 2][j] = (uint8_t) s_rand (rng);
        data[i] = extra[i - 2];
    }
    s_send_frames (peer, nframes, data, size);
    free (body.data);
}

/*  Random messages, RANDOM_PER_PEER per connection; with `registered`,
    each connection first registers a framework (and unregisters at the
    end), so that framework-only types get past the role check.          */
static void
s_random_run (poke_t *poke, const char *label, bool registered)
{
    size_t nexamples = proto_type_count ();
    example_t *examples = xzalloc (nexamples * sizeof *examples);
    for (size_t i = 0; i < nexamples; i++) {
        proto_msg_t *msg = proto_msg_example (proto_type_at (i));
        uint8_t hdr[PROTO_HEADER_SIZE];
        char *body = NULL;
        proto_fault_t fault;
        if (proto_encode (msg, hdr, &body, &examples[i].size, &fault) < 0) {
            fprintf (stderr, "cairn-poke: the %s example does not encode: %s\n",
                     proto_type_name (msg->type), fault.text);
            exit (1);
        }
        examples[i].type = msg->type;
        examples[i].body = (uint8_t *) body;
        proto_msg_destroy (&msg);
    }
    uint64_t rng = 0x9E3779B97F4A7C15ULL ^ (poke->seed * 0xD1B54A32D192ED03ULL);
    if (rng == 0)
        rng = 1;
    tally_t tally = { 0 };
    int peers = 0, alive = 0;
    peer_t *peer = NULL;
    for (int i = 0; i <= poke->count; i++) {
        if (peer && (i % RANDOM_PER_PEER == 0 || i == poke->count)) {
            if (peer->framework_id) {
                proto_msg_t *bye = proto_msg_new (PROTO_UNREGISTER);
                s_send_msg (peer, &bye);
            }
            if (s_settle (peer, label, &tally) >= 0)
                alive++;
            s_peer_destroy (&peer);
        }
        if (i == poke->count)
            break;
        if (!peer) {
            peer = s_peer_new (poke);
            peers++;
            if (registered && s_register (peer, label) < 0)
                break;
        }
        s_random_message (&rng, examples, nexamples, peer);
    }
    s_peer_destroy (&peer);
    printf ("%s: seed=%" PRIu64 " sent=%d connections=%d answered=%d answers=%d errors=%d "
            "others=%d badreplies=%d\n", label, poke->seed, poke->count, peers, alive,
            tally.answers, tally.errors, tally.others, tally.bad);
    for (int i = 0; i < tally.ncodes; i++)
        printf ("%s: code=%s count=%d\n", label, tally.codes[i], tally.code_counts[i]);
    for (size_t i = 0; i < nexamples; i++)
        free (examples[i].body);
    free (examples);
}

static void
s_scenario_random (poke_t *poke)
{
    s_random_run (poke, "random", false);
}

static void
s_scenario_random_registered (poke_t *poke)
{
    s_random_run (poke, "random-registered", true);
}

/*  Every proper prefix of a valid body, and the body with one byte too
    many: msgpack-c calls the first "continue" and ignores the second.   */
static void
s_scenario_truncated (poke_t *poke)
{
    proto_msg_t *msg = proto_msg_example (PROTO_FRAMEWORK_REGISTER);
    uint8_t hdr[PROTO_HEADER_SIZE];
    char *body = NULL;
    size_t size = 0;
    proto_fault_t fault;
    int rc = proto_encode (msg, hdr, &body, &size, &fault);
    assert (rc == 0);
    proto_msg_destroy (&msg);
    printf ("truncated: body of %zu bytes\n", size);
    peer_t *peer = s_peer_new (poke);
    for (size_t n = 0; n < size; n++) {
        char label[64];
        snprintf (label, sizeof label, "truncated-%zu", n);
        s_send_raw (peer, PROTO_VERSION, PROTO_FRAMEWORK_REGISTER, body, n);
        s_settle (peer, label, NULL);
    }
    char *longer = xmalloc (size + 1);
    memcpy (longer, body, size);
    longer[size] = (char) 0xc0;
    s_send_raw (peer, PROTO_VERSION, PROTO_FRAMEWORK_REGISTER, longer, size + 1);
    s_settle (peer, "trailing", NULL);
    free (longer);
    free (body);
    s_peer_destroy (&peer);
}

static void
s_scenario_unknown_type (poke_t *poke)
{
    static const int types[] = { 0, 4, 19, 99, 255 };
    peer_t *peer = s_peer_new (poke);
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        char label[64];
        snprintf (label, sizeof label, "type-%d", types[i]);
        s_send_raw (peer, PROTO_VERSION, types[i], "\x80", 1);   /* {} */
        s_settle (peer, label, NULL);
    }
    s_peer_destroy (&peer);
}

/*  Well-formed msgpack, wrong protocol: one case per field rule.         */
static void
s_scenario_fields (poke_t *poke)
{
    peer_t *peer = s_peer_new (poke);
    body_t b;
    msgpack_packer *pk;

    pk = s_framework_body (&b, 3);          /* name: 42 */
    s_pk_str (pk, "name");
    msgpack_pack_int (pk, 42);
    s_pk_str (pk, "role");
    s_pk_str (pk, "*");
    s_send_body (peer, PROTO_FRAMEWORK_REGISTER, &b);
    s_settle (peer, "name-int", NULL);

    pk = s_framework_body (&b, 4);          /* failover_timeout_ms: "soon" */
    s_pk_str (pk, "name");
    s_pk_str (pk, "x");
    s_pk_str (pk, "role");
    s_pk_str (pk, "*");
    s_pk_str (pk, "failover_timeout_ms");
    s_pk_str (pk, "soon");
    s_send_body (peer, PROTO_FRAMEWORK_REGISTER, &b);
    s_settle (peer, "timeout-string", NULL);

    pk = s_framework_body (&b, 4);          /* labels: [1, 2] */
    s_pk_str (pk, "name");
    s_pk_str (pk, "x");
    s_pk_str (pk, "role");
    s_pk_str (pk, "*");
    s_pk_str (pk, "labels");
    msgpack_pack_array (pk, 2);
    msgpack_pack_int (pk, 1);
    msgpack_pack_int (pk, 2);
    s_send_body (peer, PROTO_FRAMEWORK_REGISTER, &b);
    s_settle (peer, "labels-array", NULL);

    pk = s_framework_body (&b, 3);          /* name: "\xff\xfe" */
    s_pk_str (pk, "name");
    s_pk_raw_str (pk, "\xff\xfe", 2);
    s_pk_str (pk, "role");
    s_pk_str (pk, "*");
    s_send_body (peer, PROTO_FRAMEWORK_REGISTER, &b);
    s_settle (peer, "name-not-utf8", NULL);

    pk = s_framework_body (&b, 3);          /* name: "a\0b" */
    s_pk_str (pk, "name");
    s_pk_raw_str (pk, "a\0b", 3);
    s_pk_str (pk, "role");
    s_pk_str (pk, "*");
    s_send_body (peer, PROTO_FRAMEWORK_REGISTER, &b);
    s_settle (peer, "name-nul", NULL);

    pk = s_body_init (&b);                  /* id: "a b" */
    msgpack_pack_map (pk, 3);
    s_pk_str (pk, "id");
    s_pk_str (pk, "a b");
    s_pk_str (pk, "name");
    s_pk_str (pk, "x");
    s_pk_str (pk, "role");
    s_pk_str (pk, "*");
    s_send_body (peer, PROTO_FRAMEWORK_REGISTER, &b);
    s_settle (peer, "id-space", NULL);

    pk = s_body_init (&b);                  /* PING {seq: "one"} */
    msgpack_pack_map (pk, 1);
    s_pk_str (pk, "seq");
    s_pk_str (pk, "one");
    s_send_body (peer, PROTO_PING, &b);
    s_settle (peer, "seq-string", NULL);

    pk = s_body_init (&b);                  /* PING {seq: -5} */
    msgpack_pack_map (pk, 1);
    s_pk_str (pk, "seq");
    msgpack_pack_int (pk, -5);
    s_send_body (peer, PROTO_PING, &b);
    s_settle (peer, "seq-negative", NULL);

    pk = s_body_init (&b);                  /* PING {seq: 2^64-1} */
    msgpack_pack_map (pk, 1);
    s_pk_str (pk, "seq");
    msgpack_pack_uint64 (pk, UINT64_MAX);
    s_send_body (peer, PROTO_PING, &b);
    s_settle (peer, "seq-huge", NULL);

    pk = s_body_init (&b);                  /* PING {seq: 1.5} */
    msgpack_pack_map (pk, 1);
    s_pk_str (pk, "seq");
    msgpack_pack_double (pk, 1.5);
    s_send_body (peer, PROTO_PING, &b);
    s_settle (peer, "seq-float", NULL);

    pk = s_body_init (&b);                  /* PING [1] */
    msgpack_pack_array (pk, 1);
    msgpack_pack_int (pk, 1);
    s_send_body (peer, PROTO_PING, &b);
    s_settle (peer, "body-array", NULL);

    pk = s_body_init (&b);                  /* PING {} */
    msgpack_pack_map (pk, 0);
    s_send_body (peer, PROTO_PING, &b);
    s_settle (peer, "missing-field", NULL);

    pk = s_body_init (&b);                  /* PING {seq: 1, bogus: 2} */
    msgpack_pack_map (pk, 2);
    s_pk_str (pk, "seq");
    msgpack_pack_int (pk, 1);
    s_pk_str (pk, "bogus");
    msgpack_pack_int (pk, 2);
    s_send_body (peer, PROTO_PING, &b);
    s_settle (peer, "unknown-field", NULL);

    pk = s_body_init (&b);                  /* PING {seq: 1, seq: 2} */
    msgpack_pack_map (pk, 2);
    s_pk_str (pk, "seq");
    msgpack_pack_int (pk, 1);
    s_pk_str (pk, "seq");
    msgpack_pack_int (pk, 2);
    s_send_body (peer, PROTO_PING, &b);
    s_settle (peer, "field-twice", NULL);

    pk = s_body_init (&b);                  /* PING {1: 1} */
    msgpack_pack_map (pk, 1);
    msgpack_pack_int (pk, 1);
    msgpack_pack_int (pk, 1);
    s_send_body (peer, PROTO_PING, &b);
    s_settle (peer, "key-int", NULL);

    /*  An unknown field whose name is valid UTF-8, longer than the 64
        bytes an error quotes, with a 2-byte character across byte 64.  */
    char name[80];
    memset (name, 'a', 63);
    memcpy (name + 63, "\xc3\xa9zz", 5);
    pk = s_body_init (&b);
    msgpack_pack_map (pk, 2);
    s_pk_str (pk, "seq");
    msgpack_pack_int (pk, 1);
    s_pk_str (pk, name);
    msgpack_pack_int (pk, 2);
    s_send_body (peer, PROTO_PING, &b);
    s_settle (peer, "unknown-field-utf8", NULL);

    pk = s_body_init (&b);                  /* ACCEPT {offer_ids: "o1", tasks: []} */
    msgpack_pack_map (pk, 2);
    s_pk_str (pk, "offer_ids");
    s_pk_str (pk, "o1");
    s_pk_str (pk, "tasks");
    msgpack_pack_array (pk, 0);
    s_send_body (peer, PROTO_ACCEPT, &b);
    s_settle (peer, "offer-ids-string", NULL);

    /*  ACCEPT {offer_ids: ["o1"], tasks: [{task_id: "t1", command: "true",
        resources: {mem: -1}}]}: the fault names the nested path.         */
    pk = s_body_init (&b);
    msgpack_pack_map (pk, 2);
    s_pk_str (pk, "offer_ids");
    msgpack_pack_array (pk, 1);
    s_pk_str (pk, "o1");
    s_pk_str (pk, "tasks");
    msgpack_pack_array (pk, 1);
    msgpack_pack_map (pk, 3);
    s_pk_str (pk, "task_id");
    s_pk_str (pk, "t1");
    s_pk_str (pk, "command");
    s_pk_str (pk, "true");
    s_pk_str (pk, "resources");
    msgpack_pack_map (pk, 1);
    s_pk_str (pk, "mem");
    msgpack_pack_int (pk, -1);
    s_send_body (peer, PROTO_ACCEPT, &b);
    s_settle (peer, "task-mem-negative", NULL);

    /*  The same with an unknown resource named by 39 ASCII bytes and a
        2-byte character across the 40 bytes the error quotes.           */
    char res[48];
    memset (res, 'r', 39);
    memcpy (res + 39, "\xc3\xa9", 3);
    pk = s_body_init (&b);
    msgpack_pack_map (pk, 2);
    s_pk_str (pk, "offer_ids");
    msgpack_pack_array (pk, 1);
    s_pk_str (pk, "o1");
    s_pk_str (pk, "tasks");
    msgpack_pack_array (pk, 1);
    msgpack_pack_map (pk, 3);
    s_pk_str (pk, "task_id");
    s_pk_str (pk, "t1");
    s_pk_str (pk, "command");
    s_pk_str (pk, "true");
    s_pk_str (pk, "resources");
    msgpack_pack_map (pk, 1);
    s_pk_str (pk, res);
    msgpack_pack_int (pk, 1);
    s_send_body (peer, PROTO_ACCEPT, &b);
    s_settle (peer, "unknown-resource-utf8", NULL);

    s_peer_destroy (&peer);
}

/*  Over the codec's limit but under ZeroMQ's: the codec refuses it by
    its size; at the limit exactly the size is fine and the content not. */
static void
s_scenario_oversize (poke_t *poke)
{
    peer_t *peer = s_peer_new (poke);
    size_t size = (size_t) PROTO_MAX_BODY + 1;
    char *body = xzalloc (size);
    body[0] = (char) 0x80;                  /* {} and then zeros */
    s_send_raw (peer, PROTO_VERSION, PROTO_PING, body, size);
    s_settle (peer, "oversize", NULL);
    s_send_raw (peer, PROTO_VERSION, PROTO_PING, body, size - 1);
    s_settle (peer, "at-limit", NULL);
    free (body);
    s_peer_destroy (&peer);
}

/*  Over ZeroMQ's limit: the connection is dropped before the master
    sees anything, and the master keeps serving others.                   */
static void
s_scenario_huge (poke_t *poke)
{
    peer_t *peer = s_peer_new (poke);
    size_t size = (size_t) TRANSPORT_MAX_MSGSIZE + 1;
    char *body = xzalloc (size);
    s_send_raw (peer, PROTO_VERSION, PROTO_PING, body, size);
    free (body);
    /*  Whatever comes back on the dropped connection within a second.    */
    int64_t deadline = clock_mono_ms () + 1000;
    proto_msg_t *msg = NULL;
    proto_fault_t fault;
    int answers = 0;
    int rc;
    while ((rc = s_next (peer, deadline, &msg, &fault)) != 0) {
        if (rc == 2)
            continue;
        answers++;
        if (msg)
            s_print_msg ("huge", msg);
        proto_msg_destroy (&msg);
    }
    if (!answers)
        printf ("huge: NOREPLY\n");
    s_peer_destroy (&peer);
    peer = s_peer_new (poke);
    s_settle (peer, "after-huge", NULL);
    s_peer_destroy (&peer);
}

static void
s_scenario_version (poke_t *poke)
{
    static const int versions[] = { 0, 2, 255 };
    static const char seq1[] = "\x81\xa3seq\x01";     /* {seq: 1} */
    peer_t *peer = s_peer_new (poke);
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
        char label[64];
        snprintf (label, sizeof label, "version-%d", versions[i]);
        s_send_raw (peer, versions[i], PROTO_PING, seq1, sizeof seq1 - 1);
        s_settle (peer, label, NULL);
    }
    /*  A future version may have types this one lacks.                   */
    s_send_raw (peer, 2, 200, seq1, sizeof seq1 - 1);
    s_settle (peer, "version-2-type-200", NULL);
    s_peer_destroy (&peer);
}

static void
s_scenario_frames (poke_t *poke)
{
    static const uint8_t ping_hdr[] = { PROTO_SIG0, PROTO_SIG1, PROTO_VERSION, PROTO_PING };
    static const char seq1[] = "\x81\xa3seq\x01";
    peer_t *peer = s_peer_new (poke);
    const void *data[6] = { ping_hdr, seq1, "x", "y", "z", "" };
    size_t size[6] = { sizeof ping_hdr, sizeof seq1 - 1, 1, 1, 1, 0 };

    s_send_frames (peer, 1, data, size);
    s_settle (peer, "header-only", NULL);
    s_send_frames (peer, 3, data, size);
    s_settle (peer, "three-frames", NULL);
    s_send_frames (peer, 6, data, size);
    s_settle (peer, "six-frames", NULL);

    /*  Without a Cairn header the master cannot know the peer reads its
        protocol: it drops such messages without an answer.               */
    const void *body_only[1] = { seq1 };
    size_t body_size[1] = { sizeof seq1 - 1 };
    s_send_frames (peer, 1, body_only, body_size);
    s_settle (peer, "body-only", NULL);
    const void *empty[1] = { "" };
    size_t zero[1] = { 0 };
    s_send_frames (peer, 1, empty, zero);
    s_settle (peer, "empty-frame", NULL);
    static const uint8_t short_hdr[] = { PROTO_SIG0, PROTO_SIG1, PROTO_VERSION };
    static const uint8_t long_hdr[] = { PROTO_SIG0, PROTO_SIG1, PROTO_VERSION, PROTO_PING, 0 };
    static const uint8_t junk_hdr[] = { 'G', 'E', 'T', ' ' };
    const void *d2[2] = { short_hdr, seq1 };
    size_t s2[2] = { sizeof short_hdr, sizeof seq1 - 1 };
    s_send_frames (peer, 2, d2, s2);
    s_settle (peer, "short-header", NULL);
    d2[0] = long_hdr;
    s2[0] = sizeof long_hdr;
    s_send_frames (peer, 2, d2, s2);
    s_settle (peer, "long-header", NULL);
    d2[0] = junk_hdr;
    s2[0] = sizeof junk_hdr;
    s_send_frames (peer, 2, d2, s2);
    s_settle (peer, "junk-header", NULL);

    /*  A valid header with an empty body frame.                          */
    s_send_raw (peer, PROTO_VERSION, PROTO_PING, "", 0);
    s_settle (peer, "empty-body", NULL);
    s_peer_destroy (&peer);
}

/*  Bodies of a few bytes that declare enormous containers or strings:
    a decoder that believes them allocates gigabytes.                     */
static void
s_scenario_amplify (poke_t *poke)
{
    static const struct {
        const char *label;
        const char *body;
        size_t size;
    } cases[] = {
#define CASE(l, b) { l, b, sizeof b - 1 }
        CASE ("array32-max", "\xdd\xff\xff\xff\xff"),
        CASE ("map32-max", "\xdf\xff\xff\xff\xff"),
        CASE ("array32-2pow28", "\xdd\x10\x00\x00\x00"),
        CASE ("map16-max", "\xde\xff\xff"),
        CASE ("nested-array32", "\x81\xa4name\xdd\xff\xff\xff\xff"),
        CASE ("nested-map32", "\x82\xa2id\xa0\xa6labels\xdf\xff\xff\xff\xff"),
        CASE ("str32-max", "\x81\xa4name\xdb\xff\xff\xff\xff"),
        CASE ("bin32-max", "\xc6\xff\xff\xff\xff"),
        CASE ("ext32-max", "\xc9\xff\xff\xff\xff\x01"),
        CASE ("deep", "\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\xc0"),
#undef CASE
    };
    peer_t *peer = s_peer_new (poke);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        s_send_raw (peer, PROTO_VERSION, PROTO_FRAMEWORK_REGISTER, cases[i].body, cases[i].size);
        s_settle (peer, cases[i].label, NULL);
    }
    /*  Honest counts, but more values than a body may hold: an array of
        2^20 + 1 nils (one byte each).                                    */
    size_t n = (size_t) PROTO_MAX_OBJECTS + 1;
    uint8_t *body = xmalloc (5 + n);
    body[0] = 0xdd;
    body[1] = (uint8_t) (n >> 24);
    body[2] = (uint8_t) (n >> 16);
    body[3] = (uint8_t) (n >> 8);
    body[4] = (uint8_t) n;
    memset (body + 5, 0xc0, n);
    s_send_raw (peer, PROTO_VERSION, PROTO_FRAMEWORK_REGISTER, body, 5 + n);
    s_settle (peer, "many-values", NULL);
    free (body);
    s_peer_destroy (&peer);
}

/*  Every message type, well-formed, from a connection that never
    registered: a framework's or an agent's messages need a registration,
    the master's own messages are not for it.                             */
static void
s_scenario_unregistered (poke_t *poke)
{
    peer_t *peer = s_peer_new (poke);
    for (size_t i = 0; i < proto_type_count (); i++) {
        proto_type_t type = proto_type_at (i);
        if (type == PROTO_AGENT_REGISTER || type == PROTO_FRAMEWORK_REGISTER
            || type == PROTO_PING || type == PROTO_INFO_REQUEST)
            continue;                       /* allowed before registering */
        proto_msg_t *msg = proto_msg_example (type);
        char label[64];
        snprintf (label, sizeof label, "unregistered-%s", proto_type_name (type));
        s_send_msg (peer, &msg);
        s_settle (peer, label, NULL);
    }
    s_peer_destroy (&peer);
}

/*  A registered framework launches on an offer that was never made, and
    speaks out of its role.                                               */
static void
s_scenario_bogus_offer (poke_t *poke)
{
    peer_t *peer = s_peer_new (poke);
    if (s_register (peer, "bogus-offer") < 0)
        goto done;
    proto_msg_t *acc = s_accept_new ("no-such-offer");
    s_add_task (acc, "t1", 100, 32);
    s_add_task (acc, "t2", 100, 32);
    s_send_msg (peer, &acc);
    s_settle (peer, "bogus-offer", NULL);

    proto_msg_t *status = proto_msg_example (PROTO_STATUS_UPDATE);
    s_set (&status->u.status.framework_id, peer->framework_id);
    s_send_msg (peer, &status);
    s_settle (peer, "framework-sends-status", NULL);

    proto_msg_t *reg = proto_msg_example (PROTO_AGENT_REGISTER);
    s_send_msg (peer, &reg);
    s_settle (peer, "framework-registers-agent", NULL);
done:
    s_unregister (peer, "bogus-offer-unregister");
    s_peer_destroy (&peer);
}

/*  With a real offer: tasks that cannot fit, the same offer twice, and
    another framework's offer.                                            */
static void
s_scenario_overcommit (poke_t *poke)
{
    peer_t *peer = s_peer_new (poke), *other = NULL;
    if (s_register (peer, "overcommit") < 0)
        goto done;
    const proto_offer_t *offer = s_wait_offer (peer, "overcommit");
    if (!offer)
        goto done;
    char *offer_id = xstrdup (offer->offer_id);
    int64_t millicpus = cairn_resources_millicpus (offer->resources);
    printf ("overcommit-offer: %s of %" PRId64 " millicpus\n", offer_id, millicpus);
    proto_msg_destroy (&peer->offers);

    proto_msg_t *acc = s_accept_new (offer_id);
    s_add_task (acc, "big", millicpus + 1000, 32);
    s_add_task (acc, "nothing", 0, 0);
    s_send_msg (peer, &acc);
    s_settle (peer, "overcommit", NULL);

    acc = s_accept_new (offer_id);
    s_add_task (acc, "again", 100, 32);
    s_send_msg (peer, &acc);
    s_settle (peer, "offer-again", NULL);
    free (offer_id);

    /*  The resources came back (refuse 0) and are offered again; a second
        framework tries to use that offer.                                 */
    offer = s_wait_offer (peer, "overcommit");
    if (!offer)
        goto done;
    offer_id = xstrdup (offer->offer_id);
    proto_msg_destroy (&peer->offers);
    other = s_peer_new (poke);
    if (s_register (other, "thief") == 0) {
        acc = s_accept_new (offer_id);
        s_add_task (acc, "stolen", 100, 32);
        s_send_msg (other, &acc);
        s_settle (other, "foreign-offer", NULL);
        s_unregister (other, "thief-unregister");
        /*  The offer is still the first framework's: a task asking for
            nothing is refused as such, not as a bad offer.               */
        acc = s_accept_new (offer_id);
        s_add_task (acc, "empty", 0, 0);
        s_send_msg (peer, &acc);
        s_settle (peer, "offer-survives", NULL);
    }
    free (offer_id);

    /*  One offer listed twice in a launch: refused, and the offer's
        resources come back (they are offered again).                     */
    offer = s_wait_offer (peer, "overcommit");
    if (!offer)
        goto done;
    offer_id = xstrdup (offer->offer_id);
    proto_msg_destroy (&peer->offers);
    acc = s_accept_new (offer_id);
    proto_strs_add (&acc->u.accept.offer_ids, offer_id);
    s_add_task (acc, "twice", 100, 32);
    s_send_msg (peer, &acc);
    s_settle (peer, "offer-twice", NULL);
    free (offer_id);
    if (s_wait_offer (peer, "offer-twice-returns"))
        printf ("offer-twice-returns: OFFERS\n");
done:
    s_unregister (other, "thief-unregister");
    s_unregister (peer, "overcommit-unregister");
    s_peer_destroy (&other);
    s_peer_destroy (&peer);
}

/*  One launch with the same task id twice: the first runs, the second is
    refused.                                                               */
static void
s_scenario_duplicate (poke_t *poke)
{
    peer_t *peer = s_peer_new (poke);
    if (s_register (peer, "duplicate") < 0)
        goto done;
    const proto_offer_t *offer = s_wait_offer (peer, "duplicate");
    if (!offer)
        goto done;
    proto_msg_t *acc = s_accept_new (offer->offer_id);
    proto_msg_destroy (&peer->offers);
    s_add_task (acc, "dup", 100, 32);
    s_add_task (acc, "dup", 100, 32);
    s_send_msg (peer, &acc);
    s_settle (peer, "duplicate", NULL);

    /*  The first one's updates, from the agent, until it ends.           */
    int64_t deadline = clock_mono_ms () + 4 * poke->timeout_ms;
    while (!peer->task_ended) {
        proto_msg_t *msg = NULL;
        proto_fault_t fault;
        int rc = s_next (peer, deadline, &msg, &fault);
        if (rc == 2)
            continue;
        if (rc == 0) {
            printf ("duplicate-run: TIMEOUT task dup did not end within %d ms\n",
                    4 * poke->timeout_ms);
            poke->failures++;
            break;
        }
        if (msg)
            s_print_msg ("duplicate-run", msg);
        else
            printf ("duplicate-run: BADREPLY code=%s message=%s\n", fault.code, fault.text);
        proto_msg_destroy (&msg);
    }
done:
    s_unregister (peer, "duplicate-unregister");
    s_peer_destroy (&peer);
}

/*  One connection registers two frameworks (no id either time), then
    unregisters. The first must not stay behind as "connected" on a
    connection that now speaks for the second: hostile.sh checks /state.  */
static void
s_scenario_reregister (poke_t *poke)
{
    peer_t *peer = s_peer_new (poke);
    if (s_register (peer, "twice-1") == 0) {
        char *first = peer->framework_id;
        peer->framework_id = NULL;
        if (s_register (peer, "twice-2") == 0)
            printf ("reregister-ids: first=%s second=%s\n", first, peer->framework_id);
        free (first);
    }
    s_unregister (peer, "reregister-unregister");
    s_peer_destroy (&peer);
}

/*  Takes over the session of framework --framework-id and tears it down. */
static void
s_scenario_reclaim (poke_t *poke)
{
    if (!poke->framework_id) {
        fprintf (stderr, "cairn-poke: reclaim needs --framework-id\n");
        exit (2);
    }
    peer_t *peer = s_peer_new (poke);
    if (s_register (peer, "reclaim") == 0)
        printf ("reclaim: REGISTERED framework=%s\n", peer->framework_id);
    s_unregister (peer, "reclaim-unregister");
    s_peer_destroy (&peer);
}

static const struct {
    const char *name;
    void (*fn) (poke_t *);
    const char *help;
} s_scenarios[] = {
    { "random", s_scenario_random, "--count messages of random shape and content" },
    { "random-registered", s_scenario_random_registered, "the same from registered frameworks" },
    { "truncated", s_scenario_truncated, "every prefix of a valid body, and trailing bytes" },
    { "unknown-type", s_scenario_unknown_type, "valid headers of types the protocol lacks" },
    { "fields", s_scenario_fields, "valid msgpack with wrong field types and names" },
    { "oversize", s_scenario_oversize, "a body over PROTO_MAX_BODY" },
    { "huge", s_scenario_huge, "a body over TRANSPORT_MAX_MSGSIZE" },
    { "version", s_scenario_version, "other protocol versions" },
    { "frames", s_scenario_frames, "wrong frame counts and headers" },
    { "amplify", s_scenario_amplify, "containers declaring 2^32-1 elements and the like" },
    { "unregistered", s_scenario_unregistered, "every type from an unregistered peer" },
    { "bogus-offer", s_scenario_bogus_offer, "a framework launching on an unknown offer" },
    { "overcommit", s_scenario_overcommit, "tasks too big for a real offer (needs an agent)" },
    { "reregister", s_scenario_reregister, "two frameworks registered on one connection" },
    { "reclaim", s_scenario_reclaim, "take over --framework-id's session and unregister" },
    { "duplicate", s_scenario_duplicate, "one task id twice in a launch (needs an agent)" },
};
#define NSCENARIOS (sizeof s_scenarios / sizeof s_scenarios[0])

static void
s_usage (FILE *out)
{
    fputs ("Usage: cairn-poke --master=HOST:PORT [--timeout=MS] [--seed=N] [--count=N]\n"
           "                  [--framework-id=ID] SCENARIO\n"
           "Sends hostile input to a Cairn master and prints one line per answer.\n"
           "Scenarios:\n", out);
    for (size_t i = 0; i < NSCENARIOS; i++)
        fprintf (out, "  %-14s %s\n", s_scenarios[i].name, s_scenarios[i].help);
}

static bool
s_parse_num (const char *text, long long min, long long max, long long *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll (text, &end, 10);
    if (errno || !end || *end || end == text || v < min || v > max)
        return false;
    *out = v;
    return true;
}

int
main (int argc, char **argv)
{
    static const struct option options[] = {
        { "master", required_argument, NULL, 'm' },
        { "timeout", required_argument, NULL, 't' },
        { "seed", required_argument, NULL, 's' },
        { "count", required_argument, NULL, 'c' },
        { "framework-id", required_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    poke_t poke = { .timeout_ms = 5000, .seed = 1, .count = 600 };
    const char *master = NULL;
    long long v;
    int opt;
    while ((opt = getopt_long (argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
            case 'm':
                master = optarg;
                break;
            case 't':
                if (!s_parse_num (optarg, 1, 3600000, &v))
                    goto usage;
                poke.timeout_ms = (int) v;
                break;
            case 's':
                if (!s_parse_num (optarg, 0, LLONG_MAX, &v))
                    goto usage;
                poke.seed = (uint64_t) v;
                break;
            case 'c':
                if (!s_parse_num (optarg, 0, 10000000, &v))
                    goto usage;
                poke.count = (int) v;
                break;
            case 'f':
                if (!proto_id_valid (optarg))
                    goto usage;
                poke.framework_id = optarg;
                break;
            case 'h':
                s_usage (stdout);
                return 0;
            default:
                goto usage;
        }
    }
    if (!master || optind != argc - 1)
        goto usage;
    size_t which;
    for (which = 0; which < NSCENARIOS; which++)
        if (strcmp (argv[optind], s_scenarios[which].name) == 0)
            break;
    if (which == NSCENARIOS) {
        fprintf (stderr, "cairn-poke: no scenario '%s'\n", argv[optind]);
        goto usage;
    }
    poke.endpoint = transport_endpoint (master);
    if (!poke.endpoint) {
        fprintf (stderr, "cairn-poke: --master: %s\n", cairn_strerror_last ());
        return 2;
    }
    zsys_handler_set (NULL);
    s_scenarios[which].fn (&poke);
    fflush (stdout);
    free (poke.endpoint);
    return poke.failures ? 1 : 0;
usage:
    s_usage (stderr);
    return 2;
}
