/*  master.c - fuzz harness for the master's message handlers (master.h).

    Input: a conversation (fuzz.h): frames from up to eight peers, each
    decoded by the codec and handed to master_handle (or, if the codec
    refuses it, master_handle_invalid), and ticks that move the clock and
    run the liveness checks and the allocator. Offer ids are random, so a
    framework names the k-th offer it was sent "fuzz-offer-k" in ACCEPT
    and DECLINE, and the harness puts the real id in. Type 0 stands for
    the peer's connection failing (master_peer_gone).

    Every message the master queues must encode (it must never send what
    a peer would refuse), and the operator views must build after every
    conversation.                                                         */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "log.h"
#include "master.h"
#include "proto.h"
#include "resources.h"
#include "transport.h"

#define NPEERS      8
#define NOFFERS     16

static char *s_offers[NOFFERS];         /* the latest offer ids, a ring */
static size_t s_noffers;
static bool s_trace;                    /* CAIRN_FUZZ_TRACE: print what goes in and out */

static void
s_event (void *arg, const char *line, size_t size)
{
    (void) arg;
    FUZZ_CHECK (size > 0 && line[size - 1] == '\n', "an event is one line");
}

/*  Checks and frees what the master would send; keeps the offer ids.     */
static void
s_take (master_t *m)
{
    outmsg_t *list = master_outbox_take (m);
    for (outmsg_t *out = list; out; out = out->next) {
        uint8_t hdr[PROTO_HEADER_SIZE];
        char *body = NULL;
        size_t size = 0;
        proto_fault_t fault;
        if (proto_encode (out->msg, hdr, &body, &size, &fault) != 0)
            fprintf (stderr, "fuzz: the master sends %s: %s\n",
                     proto_type_name (out->msg->type), fault.text);
        FUZZ_CHECK (body != NULL, "every message the master sends encodes");
        free (body);
        if (s_trace)
            fprintf (stderr, "fuzz: -> %.*s %s\n", out->route.size, out->route.data,
                     proto_type_name (out->msg->type));
        if (out->msg->type == PROTO_OFFERS) {
            proto_offer_t *offers = out->msg->u.offers.offers.items;
            for (size_t i = 0; i < out->msg->u.offers.offers.count; i++) {
                size_t slot = s_noffers++ % NOFFERS;
                free (s_offers[slot]);
                s_offers[slot] = strdup (offers[i].offer_id);
            }
        }
    }
    outmsg_destroy_list (&list);
}

static void
s_offer_ids (proto_strs_t *ids)
{
    size_t have = s_noffers < NOFFERS ? s_noffers : NOFFERS;
    for (size_t i = 0; i < ids->count; i++) {
        const char *k = ids->items[i];
        if (have == 0 || strncmp (k, "fuzz-offer-", 11) != 0)
            continue;
        char *real = strdup (s_offers[strtoul (k + 11, NULL, 10) % have]);
        free (ids->items[i]);
        ids->items[i] = real;
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static int initialized;
    if (!initialized) {
        log_init ("fuzz-master", getenv ("CAIRN_FUZZ_LOG") ? getenv ("CAIRN_FUZZ_LOG") : "error",
                  getenv ("CAIRN_FUZZ_LOG") ? "stderr" : "file:/dev/null");
        s_trace = getenv ("CAIRN_FUZZ_TRACE") != NULL;
        initialized = 1;
    }
    cairn_resources_t *min = cairn_resources_parse ("cpus:0.01;mem:1");
    master_config_t config = {
        .ping_interval_ms = 1000,
        .max_ping_misses = 3,
        .allocation_interval_ms = 1000,
        .default_refuse_ms = 5000,
        .offer_timeout_ms = 60000,
        .max_completed_tasks = 10,
        .max_completed_frameworks = 4,
        .min_allocatable = min,
        .http_address = "127.0.0.1:5050",
        .agent_reregister_timeout_ms = 10000,
    };
    master_t *m = master_new (&config);
    FUZZ_CHECK (m != NULL, "a master");
    master_set_event_fn (m, s_event, NULL);
    route_t routes[NPEERS];
    for (int i = 0; i < NPEERS; i++) {
        routes[i].size = (uint8_t) snprintf ((char *) routes[i].data, sizeof routes[i].data,
                                             "peer-%d", i);
    }
    int64_t now = 1000000;
    fuzz_reader_t reader = { data, size, 0 };
    fuzz_record_t rec;
    while (fuzz_next (&reader, &rec)) {
        if (rec.tick) {
            now += rec.ms;
            master_tick (m, now);
            master_allocate (m, now);
        }
        else {
            const route_t *from = &routes[rec.peer % NPEERS];
            if (rec.hdr[3] == 0)
                master_peer_gone (m, from, now);
            else {
                proto_fault_t fault;
                proto_msg_t *msg = proto_decode (rec.hdr, sizeof rec.hdr, rec.body,
                                                 rec.body_size, &fault);
                if (s_trace)
                    fprintf (stderr, "fuzz: <- %.*s %s %s\n", from->size, from->data,
                             proto_type_name (rec.hdr[3]), msg ? "" : fault.text);
                if (!msg)
                    master_handle_invalid (m, from, &fault);
                else {
                    if (msg->type == PROTO_ACCEPT)
                        s_offer_ids (&msg->u.accept.offer_ids);
                    else if (msg->type == PROTO_DECLINE)
                        s_offer_ids (&msg->u.decline.offer_ids);
                    master_handle (m, from, msg, now);
                }
            }
        }
        s_take (m);
    }
    /*  The views the operator sees of whatever state this left.           */
    size_t n = 0;
    char *text = master_state_text (m, now, &n);
    FUZZ_CHECK (text != NULL, "/state builds");
    free (text);
    text = master_summary_text (m, now, &n);
    FUZZ_CHECK (text != NULL, "/state/summary builds");
    free (text);
    text = master_metrics_text (m, now, &n);
    FUZZ_CHECK (text != NULL, "/metrics builds");
    free (text);
    json_t *health = master_health_json (m, now);
    json_decref (health);

    master_destroy (&m);
    cairn_resources_destroy (&min);
    for (size_t i = 0; i < NOFFERS; i++) {
        free (s_offers[i]);
        s_offers[i] = NULL;
    }
    s_noffers = 0;
    return 0;
}
