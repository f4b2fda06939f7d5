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

/*  transport_recv that also gives the peer's ZeroMQ User-Id (user_id may
    be NULL; with CURVE and zauth: the client's public key in Z85, else
    "") and the descriptor of the connection it came on (src_fd may be
    NULL; -1 if unknown), and refuses a body over max_body bytes (0: the
    codec's limit) with the fault "too-large" before decoding it.        */
#define TRANSPORT_USER_ID_MAX 64
int transport_recv_from (zsock_t *sock, bool is_router, route_t *route,
                         char user_id[TRANSPORT_USER_ID_MAX], int *src_fd, size_t max_body,
                         proto_msg_t **msg, proto_fault_t *fault);

/*  Loads a CURVE certificate written by `cairn keygen` (zcert): path is
    NAME.key (NAME.key_secret is read too when it is beside it) or
    NAME.key_secret. With need_secret, a file without the secret key is
    an error. NULL with errno and a sentence naming the file.             */
zcert_t *transport_cert_load (const char *path, bool need_secret);

/*  A CURVE client's credentials: its key pair and the master's public
    key (Z85). All zero: no CURVE.                                         */
typedef struct {
    zcert_t *cert;
    char *server_key;
} transport_curve_t;

/*  Loads the master's public key and the client's pair into creds,
    replacing what it held: 0, or -1 (with the error set by
    transport_cert_load) and creds unchanged.                             */
int transport_curve_load (transport_curve_t *creds, const char *master_public_key,
                          const char *cert_file);
/*  Makes sock a CURVE client with creds, before it connects; nothing when
    creds hold no key pair.                                                */
void transport_curve_apply (const transport_curve_t *creds, zsock_t *sock);
void transport_curve_fini (transport_curve_t *creds);

/*  Makes sock a CURVE client of the master whose public key is in
    master_public_key, with the key pair in cert_file. Call before
    connecting. Returns 0, or -1 with errno and a sentence.               */
int transport_curve_client (zsock_t *sock, const char *master_public_key,
                            const char *cert_file);

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
