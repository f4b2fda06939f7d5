/*  transport.c - protocol messages over ZeroMQ sockets.                 */
#include "config.h"

#include <assert.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "error.h"
#include "log.h"
#include "transport.h"

void
route_hex (const route_t *route, char out[511 + 1])
{
    static const char hex[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < route->size; i++) {
        out[2 * i] = hex[route->data[i] >> 4];
        out[2 * i + 1] = hex[route->data[i] & 15];
    }
    out[2 * i] = '\0';
}

void
outbox_push (outbox_t *box, const route_t *route, proto_msg_t *msg)
{
    outmsg_t *out = xzalloc (sizeof *out);
    if (route)
        out->route = *route;
    out->msg = msg;
    if (box->tail)
        box->tail->next = out;
    else
        box->head = out;
    box->tail = out;
}

outmsg_t *
outbox_take (outbox_t *box)
{
    outmsg_t *list = box->head;
    box->head = box->tail = NULL;
    return list;
}

void
outmsg_destroy_list (outmsg_t **list_p)
{
    outmsg_t *out = *list_p;
    while (out) {
        outmsg_t *next = out->next;
        proto_msg_destroy (&out->msg);
        free (out);
        out = next;
    }
    *list_p = NULL;
}

int
transport_send (zsock_t *sock, const route_t *route, const proto_msg_t *msg)
{
    uint8_t hdr[PROTO_HEADER_SIZE];
    char *body = NULL;
    size_t size = 0;
    proto_fault_t fault;
    if (proto_encode (msg, hdr, &body, &size, &fault) < 0) {
        log_error ("refusing to send an invalid message: %s", fault.text);
        errno = EINVAL;
        return -1;
    }
    void *handle = zsock_resolve (sock);
    int rc = 0;
    if (route && zmq_send (handle, route->data, route->size, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        rc = -1;
    if (rc == 0 && zmq_send (handle, hdr, sizeof hdr, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        rc = -1;
    if (rc == 0 && zmq_send (handle, body, size, ZMQ_DONTWAIT) < 0)
        rc = -1;
    int saved = errno;
    free (body);
    errno = saved;
    return rc;
}

int
transport_send_error (zsock_t *sock, const route_t *route, const char *code, int in_reply_to,
                      const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    proto_msg_t *msg = proto_error_newv (code, in_reply_to, fmt, ap);
    va_end (ap);
    int rc = transport_send (sock, route, msg);
    proto_msg_destroy (&msg);
    return rc;
}

int
transport_recv (zsock_t *sock, bool is_router, route_t *route, proto_msg_t **msg,
                proto_fault_t *fault)
{
    return transport_recv_from (sock, is_router, route, NULL, NULL, 0, msg, fault);
}

int
transport_recv_from (zsock_t *sock, bool is_router, route_t *route,
                     char user_id[TRANSPORT_USER_ID_MAX], int *src_fd, size_t max_body,
                     proto_msg_t **msg, proto_fault_t *fault)
{
    void *handle = zsock_resolve (sock);
    zmq_msg_t frames[3];
    int nframes = 0, extra = 0;
    *msg = NULL;
    memset (fault, 0, sizeof *fault);
    if (route)
        route->size = 0;
    /*  Read every frame of the message, keeping the first three.         */
    while (true) {
        zmq_msg_t part;
        zmq_msg_init (&part);
        if (zmq_msg_recv (&part, handle, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&part);
            if (nframes == 0 && extra == 0)
                return 0;
            break;              /* cannot happen mid-message in ZeroMQ */
        }
        bool more = zmq_msg_more (&part);
        if (nframes < 3)
            frames[nframes++] = part;
        else {
            zmq_msg_close (&part);
            extra++;
        }
        if (!more)
            break;
    }
    if (src_fd)
        *src_fd = zmq_msg_get (&frames[nframes - 1], ZMQ_SRCFD);
    if (user_id) {
        /*  With CURVE and zauth, the client's public key (Z85).           */
        /*  A ROUTER's routing id frame is made locally and carries no
            metadata: read it from the last frame kept (from the wire).   */
        const char *uid = zmq_msg_gets (&frames[nframes - 1], "User-Id");
        snprintf (user_id, TRANSPORT_USER_ID_MAX, "%s", uid ? uid : "");
    }
    int first = 0;
    if (is_router) {
        size_t rsize = zmq_msg_size (&frames[0]);
        if (route && rsize > 0 && rsize <= sizeof route->data) {
            route->size = (uint8_t) rsize;
            memcpy (route->data, zmq_msg_data (&frames[0]), rsize);
        }
        first = 1;
    }
    int parts = nframes + extra - first;
    if (parts != 2) {
        snprintf (fault->code, sizeof fault->code, "malformed");
        snprintf (fault->text, sizeof fault->text,
                  "a message must have 2 frames (header, body), this one has %d", parts);
        fault->version = fault->type = -1;
        /*  Best effort: report the type if the first frame is a header.  */
        if (parts >= 1 && zmq_msg_size (&frames[first]) == PROTO_HEADER_SIZE) {
            const uint8_t *h = zmq_msg_data (&frames[first]);
            if (h[0] == PROTO_SIG0 && h[1] == PROTO_SIG1)
                fault->type = h[3];
        }
    }
    else if (max_body && zmq_msg_size (&frames[first + 1]) > max_body) {
        snprintf (fault->code, sizeof fault->code, "too-large");
        snprintf (fault->text, sizeof fault->text, "a body of %zu bytes is over this "
                  "master's limit of %zu (--max-message-size)",
                  zmq_msg_size (&frames[first + 1]), max_body);
        fault->version = fault->type = -1;
        if (zmq_msg_size (&frames[first]) == PROTO_HEADER_SIZE) {
            const uint8_t *h = zmq_msg_data (&frames[first]);
            if (h[0] == PROTO_SIG0 && h[1] == PROTO_SIG1) {
                fault->version = h[2];
                fault->type = h[3];
            }
        }
    }
    else
        *msg = proto_decode (zmq_msg_data (&frames[first]), zmq_msg_size (&frames[first]),
                             zmq_msg_data (&frames[first + 1]), zmq_msg_size (&frames[first + 1]),
                             fault);
    for (int i = 0; i < nframes; i++)
        zmq_msg_close (&frames[i]);
    return 1;
}

void
transport_tune (zsock_t *sock)
{
    /*  Unsent messages are not worth keeping after close: the protocol
        resends what matters. High-water marks are large because the
        master sends bursts (offers to many frameworks, pings to every
        agent) and must never block on one slow peer.                     */
    zsock_set_linger (sock, 0);
    zsock_set_sndhwm (sock, 100000);
    zsock_set_rcvhwm (sock, 100000);
    zsock_set_maxmsgsize (sock, TRANSPORT_MAX_MSGSIZE);
    zsock_set_tcp_keepalive (sock, 1);
    zsock_set_tcp_keepalive_idle (sock, 30);
    zsock_set_tcp_keepalive_intvl (sock, 10);
}

zcert_t *
transport_cert_load (const char *path, bool need_secret)
{
    assert (path);
    if (access (path, R_OK) < 0) {
        error_set (errno, "key file %s: %s", path, strerror (errno));
        return NULL;
    }
    /*  zcert_load reads PATH_secret (both keys) when it exists, else
        PATH; given NAME.key_secret itself, it reads both keys from it.  */
    zcert_t *cert = zcert_load (path);
    if (!cert) {
        error_set (EINVAL, "key file %s: not a ZeroMQ certificate (make one with cairn keygen)",
                   path);
        return NULL;
    }
    if (need_secret) {
        static const char zeros[41] = "0000000000000000000000000000000000000000";
        const char *secret = zcert_secret_txt (cert);
        if (!secret || strcmp (secret, zeros) == 0) {
            zcert_destroy (&cert);
            error_set (EINVAL, "key file %s: no secret key (give NAME.key_secret, or keep it "
                       "beside NAME.key)", path);
            return NULL;
        }
    }
    return cert;
}

int
transport_curve_load (transport_curve_t *creds, const char *master_public_key,
                      const char *cert_file)
{
    assert (creds && master_public_key && cert_file);
    zcert_t *server = transport_cert_load (master_public_key, false);
    if (!server)
        return -1;
    zcert_t *cert = transport_cert_load (cert_file, true);
    if (!cert) {
        zcert_destroy (&server);
        return -1;
    }
    transport_curve_fini (creds);
    creds->cert = cert;
    creds->server_key = xstrdup (zcert_public_txt (server));
    zcert_destroy (&server);
    return 0;
}

void
transport_curve_apply (const transport_curve_t *creds, zsock_t *sock)
{
    assert (creds && sock);
    if (!creds->cert)
        return;
    zcert_apply (creds->cert, sock);
    zsock_set_curve_serverkey (sock, creds->server_key);
}

void
transport_curve_fini (transport_curve_t *creds)
{
    if (!creds)
        return;
    zcert_destroy (&creds->cert);
    free (creds->server_key);
    creds->server_key = NULL;
}

int
transport_curve_client (zsock_t *sock, const char *master_public_key, const char *cert_file)
{
    assert (sock && master_public_key && cert_file);
    transport_curve_t creds = { 0 };
    if (transport_curve_load (&creds, master_public_key, cert_file) < 0)
        return -1;
    transport_curve_apply (&creds, sock);
    transport_curve_fini (&creds);
    return 0;
}

char *
transport_endpoint (const char *host_port)
{
    if (!host_port || !*host_port) {
        error_set (EINVAL, "no master address given (expected HOST:PORT)");
        return NULL;
    }
    if (strncmp (host_port, "tcp://", 6) == 0)
        host_port += 6;
    const char *colon = strrchr (host_port, ':');
    if (!colon || colon == host_port) {
        error_set (EINVAL, "'%s' is not HOST:PORT", host_port);
        return NULL;
    }
    char *end = NULL;
    errno = 0;
    long port = strtol (colon + 1, &end, 10);
    if (errno || !end || *end || colon[1] == '\0' || port < 1 || port > 65535) {
        error_set (EINVAL, "'%s': the port must be a number from 1 to 65535", host_port);
        return NULL;
    }
    for (const char *p = host_port; p < colon; p++)
        if (!(isalnum ((unsigned char) *p) || *p == '.' || *p == '-' || *p == '_'
              || *p == '[' || *p == ']' || *p == ':')) {
            error_set (EINVAL, "'%s': the host has an unexpected character", host_port);
            return NULL;
        }
    return xasprintf ("tcp://%s", host_port);
}

int64_t
clock_mono_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double
clock_wall (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}
