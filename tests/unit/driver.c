/*  tests/unit/driver.c - the framework library's driver against a fake
    master: a ROUTER socket in this test that speaks the protocol through
    the codec, so the test decides exactly what the driver receives and
    when, which a real master and agent cannot be made to do.

    What it checks: an agent resends a status update until its ack
    arrives, so a late ack brings the same update (same uuid) again. The
    driver delivers an acknowledged update once and answers the resend
    with the ack again; with explicit acknowledgements, an update not yet
    acknowledged is delivered again.                                      */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "cairn.h"
#include "proto.h"
#include "tap.h"
#include "transport.h"
#include "util.h"

#define WAIT_MS 5000

typedef struct {
    int updates;                /* status callbacks */
    bool explicit_ack;
    cairn_status_t *held;       /* explicit mode: the last update, unacknowledged */
} sched_t;

static void
s_on_status (cairn_driver_t *driver, const cairn_status_t *status, void *arg)
{
    sched_t *s = arg;
    s->updates++;
    if (s->explicit_ack && !s->held)
        s->held = cairn_status_dup (status);
}

typedef struct {
    zsock_t *sock;
    route_t peer;
} fake_t;

/*  The next message from the driver of the given type, answering PINGs
    and skipping anything else; NULL after WAIT_MS.                       */
static proto_msg_t *
s_expect (fake_t *m, proto_type_t type, int64_t wait_ms)
{
    int64_t deadline = clock_mono_ms () + wait_ms;
    zpoller_t *poller = zpoller_new (m->sock, NULL);
    proto_msg_t *found = NULL;
    while (!found && clock_mono_ms () < deadline) {
        if (!zpoller_wait (poller, (int) (deadline - clock_mono_ms ())))
            continue;
        proto_msg_t *msg = NULL;
        proto_fault_t fault;
        while (!found && transport_recv (m->sock, true, &m->peer, &msg, &fault) == 1) {
            if (msg && msg->type == type)
                found = msg;
            else
                proto_msg_destroy (&msg);
        }
    }
    zpoller_destroy (&poller);
    return found;
}

static void
s_send_update (fake_t *m, const char *uuid, cairn_task_state_t state)
{
    proto_msg_t *msg = proto_msg_new (PROTO_STATUS_UPDATE);
    proto_status_t *st = &msg->u.status;
    free (st->uuid);
    st->uuid = strdup (uuid);
    free (st->task_id);
    st->task_id = strdup ("t1");
    free (st->framework_id);
    st->framework_id = strdup ("f-fake");
    free (st->agent_id);
    st->agent_id = strdup ("a-fake");
    st->state = state;
    st->timestamp = clock_wall ();
    transport_send (m->sock, &m->peer, msg);
    proto_msg_destroy (&msg);
}

/*  A driver registered with the fake master, its callbacks run here by
    dispatch.                                                             */
static cairn_driver_t *
s_start (fake_t *m, sched_t *s, int port)
{
    cairn_framework_info_t *info = cairn_framework_info_new ("resend-test");
    cairn_callbacks_t callbacks = { .status = s_on_status };
    char master[64];
    snprintf (master, sizeof master, "127.0.0.1:%d", port);
    cairn_driver_t *d = cairn_driver_new (info, &callbacks, master, s);
    cairn_framework_info_destroy (&info);
    if (!d || cairn_driver_set_explicit_ack (d, s->explicit_ack) < 0 || cairn_driver_fd (d) < 0
        || cairn_driver_start (d) < 0)
        return NULL;
    proto_msg_t *reg = s_expect (m, PROTO_FRAMEWORK_REGISTER, WAIT_MS);
    if (!reg)
        return NULL;
    proto_msg_destroy (&reg);
    proto_msg_t *reply = proto_msg_new (PROTO_FRAMEWORK_REGISTERED);
    proto_framework_registered_t *r = &reply->u.framework_registered;
    free (r->framework_id);
    r->framework_id = strdup ("f-fake");
    free (r->master_id);
    r->master_id = strdup ("m-fake");
    free (r->master_http);
    r->master_http = strdup ("127.0.0.1:1");
    r->ping_interval_ms = 60000;
    transport_send (m->sock, &m->peer, reply);
    proto_msg_destroy (&reply);
    return d;
}

/*  Dispatches the driver's callbacks for about ms milliseconds.          */
static void
s_dispatch_for (cairn_driver_t *d, int64_t ms)
{
    int64_t end = clock_mono_ms () + ms;
    while (clock_mono_ms () < end) {
        cairn_driver_dispatch (d);
        zclock_sleep (10);
    }
}

static bool
s_acked (fake_t *m, const char *uuid, int64_t wait_ms)
{
    proto_msg_t *ack = s_expect (m, PROTO_STATUS_ACK, wait_ms);
    bool match = ack && strcmp (ack->u.status_ack.uuid, uuid) == 0;
    proto_msg_destroy (&ack);
    return match;
}

int
main (void)
{
    zsys_init ();
    fake_t m = { .sock = zsock_new (ZMQ_ROUTER) };
    int port = zsock_bind (m.sock, "tcp://127.0.0.1:*");
    ok (port > 0, "a fake master listens on 127.0.0.1:%d", port);

    /*  Implicit acknowledgements: the callback's return acknowledges.   */
    sched_t s = { 0 };
    cairn_driver_t *d = s_start (&m, &s, port);
    ok (d != NULL, "a driver registers with the fake master");
    if (!d)
        return done_testing ();
    s_send_update (&m, "u-1", CAIRN_TASK_RUNNING);
    int64_t end = clock_mono_ms () + WAIT_MS;
    while (s.updates == 0 && clock_mono_ms () < end)
        s_dispatch_for (d, 20);
    cmp_int (s.updates, 1, "the update is delivered");
    ok (s_acked (&m, "u-1", WAIT_MS), "and acknowledged");
    s_send_update (&m, "u-1", CAIRN_TASK_RUNNING);      /* the agent's resend */
    ok (s_acked (&m, "u-1", WAIT_MS), "a resend of it is acknowledged again");
    s_dispatch_for (d, 300);
    cmp_int (s.updates, 1, "and not delivered a second time");
    s_send_update (&m, "u-2", CAIRN_TASK_FINISHED);
    end = clock_mono_ms () + WAIT_MS;
    while (s.updates == 1 && clock_mono_ms () < end)
        s_dispatch_for (d, 20);
    cmp_int (s.updates, 2, "the next update (another uuid) is delivered");
    ok (s_acked (&m, "u-2", WAIT_MS), "and acknowledged");
    cairn_driver_stop (d, true);
    cairn_driver_join (d);
    cairn_driver_destroy (&d);

    /*  Explicit acknowledgements: not acknowledged yet -> delivered again. */
    sched_t e = { .explicit_ack = true };
    d = s_start (&m, &e, port);
    ok (d != NULL, "a driver with explicit acknowledgements registers");
    if (!d)
        return done_testing ();
    s_send_update (&m, "u-3", CAIRN_TASK_RUNNING);
    end = clock_mono_ms () + WAIT_MS;
    while (e.updates == 0 && clock_mono_ms () < end)
        s_dispatch_for (d, 20);
    cmp_int (e.updates, 1, "the update is delivered");
    s_send_update (&m, "u-3", CAIRN_TASK_RUNNING);
    end = clock_mono_ms () + WAIT_MS;
    while (e.updates == 1 && clock_mono_ms () < end)
        s_dispatch_for (d, 20);
    cmp_int (e.updates, 2, "not acknowledged yet, its resend is delivered again");
    ok (e.held && cairn_driver_acknowledge (d, e.held) == 0, "the scheduler acknowledges it");
    ok (s_acked (&m, "u-3", WAIT_MS), "the ack reaches the master");
    s_send_update (&m, "u-3", CAIRN_TASK_RUNNING);
    ok (s_acked (&m, "u-3", WAIT_MS), "a later resend is acknowledged again by the driver");
    s_dispatch_for (d, 300);
    cmp_int (e.updates, 2, "and not delivered");
    cairn_status_destroy (&e.held);
    cairn_driver_stop (d, true);
    cairn_driver_join (d);
    cairn_driver_destroy (&d);
    zsock_destroy (&m.sock);
    return done_testing ();
}
