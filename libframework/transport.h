/*  transport.h - sending and receiving protocol messages over ZeroMQ.

    A message is [header][body] from a DEALER, and [routing id][header]
    [body] as a ROUTER sees it. These helpers encode/decode through the
    codec and never block: a full pipe is reported, not waited on.       */
#ifndef CAIRN_TRANSPORT_H_INCLUDED
#define CAIRN_TRANSPORT_H_INCLUDED

#include <czmq.h>

#include "proto.h"

/*  The ZeroMQ-level cap on one message; bodies above PROTO_MAX_BODY but
    under this still reach the codec and get a "too-large" error reply.  */
#define TRANSPORT_MAX_MSGSIZE   (2 * (int64_t) PROTO_MAX_BODY)

/*  A routing id as a ROUTER reports it (1..255 bytes).                   */
typedef struct {
    uint8_t size;
    uint8_t data[255];
} route_t;

/*  Messages waiting to be sent, oldest first: what handlers produce.    */
typedef struct outmsg {
    route_t route;                  /* size 0: no routing id (a DEALER) */
    proto_msg_t *msg;
    struct outmsg *next;
} outmsg_t;

typedef struct {
    outmsg_t *head, *tail;
} outbox_t;

/*  Appends msg (taking it) for `route` (NULL on a DEALER).               */
void outbox_push (outbox_t *box, const route_t *route, proto_msg_t *msg);
/*  Takes everything queued; the caller sends and frees the list.          */
outmsg_t *outbox_take (outbox_t *box);
void outmsg_destroy_list (outmsg_t **list_p);

/*  Hex form of a routing id, for hash keys and logs (511 + NUL bytes).   */
void route_hex (const route_t *route, char out[511 + 1]);

/*  Encodes msg and sends it; on a ROUTER `route` names the peer (NULL on
    a DEALER). Returns 0, or -1 with errno: EINVAL (the codec refused the
    message, logged as a bug), EHOSTUNREACH (peer gone, with
    ZMQ_ROUTER_MANDATORY), EAGAIN (high-water mark reached).             */
int transport_send (zsock_t *sock, const route_t *route, const proto_msg_t *msg);

/*  Sends an ERROR message with the given code and text.                  */
int transport_send_error (zsock_t *sock, const route_t *route, const char *code,
                          int in_reply_to, const char *fmt, ...)
    __attribute__ ((format (printf, 5, 6)));

/*  Receives one message without blocking. Returns 1 when a message was
    taken off the socket: *msg is the decoded message, or NULL with
    *fault saying why it was refused (route is filled in either way on a
    ROUTER). Returns 0 when nothing is waiting.                           */
int transport_recv (zsock_t *sock, bool is_router, route_t *route, proto_msg_t **msg,
                    proto_fault_t *fault);

/*  Applies the socket options every Cairn socket wants: linger, HWMs,
    the maximum message size, and TCP keepalives.                          */
void transport_tune (zsock_t *sock);

/*  "HOST:PORT" -> "tcp://HOST:PORT"; NULL (EINVAL + error_set) when the
    address is malformed. Caller frees.                                     */
char *transport_endpoint (const char *host_port);

/*  Milliseconds on a monotonic clock, and since the epoch.                */
int64_t clock_mono_ms (void);
double clock_wall (void);

#endif
