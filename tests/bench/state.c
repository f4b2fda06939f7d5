/*  state.c - benchmark: the master's /state at 15,000 agents, written in
    slices so that the loop keeps handling messages while it is built.

    Registers 15,000 agents (and a framework with 10,000 tasks) through
    the master's own handlers, then writes /state the way the loop does,
    500 entries per slice, timing each slice. The figure is the longest
    slice, the longest a message can wait behind /state (the target is
    under 50 ms); the baseline, measured in the same run, is the time to
    write the whole document in one piece, which is what a message would
    wait without slices. Also the heap the master's own structures take
    per agent (glibc's mallinfo2 before and after the registrations; no
    sockets, so no libzmq in it), beside the size of the registration
    message each agent sent. Prints JSON lines (run.sh).                  */
#include "config.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "master.h"
#include "proto.h"
#include "resources.h"

#define AGENTS 15000
#define TASKS 10000

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void
s_drop (master_t *m)
{
    outmsg_t *out = master_outbox_take (m);
    outmsg_destroy_list (&out);
}

int
main (void)
{
    log_init ("bench", "error", "stderr");
    cairn_resources_t *min = cairn_resources_parse ("cpus:0.01;mem:32");
    master_config_t config = {
        .ping_interval_ms = 5000, .max_ping_misses = 3, .allocation_interval_ms = 1000,
        .default_refuse_ms = 5000, .max_completed_tasks = 1000, .max_completed_frameworks = 50,
        .min_allocatable = min, .http_address = "127.0.0.1:5051",
    };
    master_t *m = master_new (&config);
    int64_t now = 1000;
    struct mallinfo2 before = mallinfo2 ();
    size_t register_bytes = 0;
    for (int i = 0; i < AGENTS; i++) {
        proto_msg_t *msg = proto_msg_new (PROTO_AGENT_REGISTER);
        free (msg->u.agent_register.hostname);
        msg->u.agent_register.hostname = malloc (32);
        snprintf (msg->u.agent_register.hostname, 32, "host-%05d", i);
        cairn_resources_destroy (&msg->u.agent_register.resources);
        msg->u.agent_register.resources =
            cairn_resources_parse ("cpus:16;mem:65536;disk:100000;ports:[31000-32000]");
        proto_kv_set (&msg->u.agent_register.attributes, "rack", "r1");
        route_t route = { .size = sizeof i };
        memcpy (route.data, &i, sizeof i);
        if (i == 0) {
            uint8_t hdr[PROTO_HEADER_SIZE];
            char *body = NULL;
            proto_fault_t fault;
            if (proto_encode (msg, hdr, &body, &register_bytes, &fault) == 0)
                register_bytes += sizeof hdr;
            free (body);
        }
        master_handle (m, &route, msg, now);
    }
    s_drop (m);
    struct mallinfo2 after = mallinfo2 ();
    double per_agent = ((double) (after.uordblks + after.hblkhd)
                        - (double) (before.uordblks + before.hblkhd)) / AGENTS;
    /*  One framework launches TASKS tasks on the offers it gets.          */
    route_t fw_route = { .size = 2, .data = { 0xff, 0xfe } };
    master_handle (m, &fw_route, proto_msg_new (PROTO_FRAMEWORK_REGISTER), now);
    s_drop (m);
    master_allocate (m, now);
    outmsg_t *out = master_outbox_take (m);
    int launched = 0;
    for (outmsg_t *o = out; o; o = o->next) {
        if (o->msg->type != PROTO_OFFERS)
            continue;
        proto_offer_t *offers = o->msg->u.offers.offers.items;
        for (size_t k = 0; k < o->msg->u.offers.offers.count && launched < TASKS; k++) {
            proto_msg_t *acc = proto_msg_new (PROTO_ACCEPT);
            proto_strs_add (&acc->u.accept.offer_ids, offers[k].offer_id);
            proto_task_t *t = proto_list_push (&acc->u.accept.tasks, sizeof (proto_task_t));
            proto_task_init (t);
            free (t->task_id);
            t->task_id = malloc (32);
            snprintf (t->task_id, 32, "task-%d", launched++);
            free (t->command);
            t->command = strdup ("sleep 300");
            cairn_resources_destroy (&t->resources);
            t->resources = cairn_resources_parse ("cpus:1;mem:1024");
            master_handle (m, &fw_route, acc, now);
        }
    }
    outmsg_destroy_list (&out);
    s_drop (m);

    double t0 = s_now ();
    size_t size;
    char *whole = master_state_text (m, now, &size);
    double one_piece = s_now () - t0;
    free (whole);

    double worst = 0, total = 0;
    int slices = 0;
    t0 = s_now ();
    state_job_t *job = master_state_begin (m, now);
    double begin = s_now () - t0;
    worst = begin;
    total = begin;
    while (true) {
        double a = s_now ();
        bool done = master_state_step (m, job, 500);
        double b = s_now () - a;
        total += b;
        if (b > worst)
            worst = b;
        slices++;
        if (done)
            break;
    }
    char *text = master_state_take (&job, &size);
    free (text);
    printf ("{\"bench\":\"state\",\"metric\":\"/state at %d agents, %d tasks: longest slice "
            "(%d slices, %zu bytes)\",\"value\":%.2f,\"unit\":\"ms\",\"baseline\":\"the whole "
            "document in one piece\",\"baseline_value\":%.2f,\"ratio\":%.3f}\n", AGENTS, launched,
            slices, size, worst * 1e3, one_piece * 1e3, worst / one_piece);
    printf ("{\"bench\":\"state\",\"metric\":\"/state at %d agents, %d tasks: all slices\","
            "\"value\":%.2f,\"unit\":\"ms\",\"baseline\":\"the whole document in one piece\","
            "\"baseline_value\":%.2f,\"ratio\":%.3f}\n", AGENTS, launched, total * 1e3,
            one_piece * 1e3, total / one_piece);
    if (per_agent > 0 && register_bytes > 0)
        printf ("{\"bench\":\"state\",\"metric\":\"master heap per agent, its own structures "
                "(%d agents, in process)\",\"value\":%.0f,\"unit\":\"bytes\",\"baseline\":"
                "\"the agent's AGENT_REGISTER message, encoded\",\"baseline_value\":%zu,"
                "\"ratio\":%.3f}\n", AGENTS, per_agent, register_bytes,
                per_agent / (double) register_bytes);
    master_destroy (&m);
    cairn_resources_destroy (&min);
    return 0;
}
