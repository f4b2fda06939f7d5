/*  simnet.h - many protocol sessions in one thread: one DEALER socket per
    session, for the agent emulator (cairn-agent-sim) and the load
    framework (tests/bench/cairn-load). Internal.

    zloop polls every socket on every pass, which costs time in
    proportion to the sockets on each wakeup; a process that emulates
    thousands of agents instead watches each socket's ZMQ_FD in one epoll
    set and reads only the sockets that signalled. Messages are encoded
    and decoded by the codec (transport.h); nothing here knows the
    protocol's meaning.

    Timers: an indexed binary heap of simtimer_t embedded in the caller's
    structs, so arming, moving and cancelling one costs O(log n).        */
#ifndef CAIRN_SIMNET_H_INCLUDED
#define CAIRN_SIMNET_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

typedef struct _simnet_t simnet_t;
typedef struct _simconn_t simconn_t;

/*  A received message: msg is the caller's (destroy it), or NULL with
    fault saying why the codec refused the frame.                         */
typedef void (simnet_fn) (simconn_t *conn, proto_msg_t *msg, const proto_fault_t *fault,
                          void *arg);

/*  Open files one session needs: its TCP connection and its socket's
    mailbox (an eventfd).                                                  */
#define SIMNET_FILES_PER_CONN   2
/*  Open files a process needs besides its sessions (ZeroMQ's context and
    I/O thread, epoll, stdio, a few spare).                                */
#define SIMNET_FILES_BASE       64

/*  Sets ZeroMQ's socket limit for max_conns sessions, raises the soft
    open-file limit as far as needed (up to the hard limit) and makes the
    epoll set. NULL + error_set with a sentence a person can act on when
    the process may not open enough files. Call before any other ZeroMQ
    socket exists in the process.                                         */
simnet_t *simnet_new (size_t max_conns);
/*  How many sessions one process can hold under its hard open-file
    limit.                                                                 */
size_t simnet_max_conns (void);
/*  Closes every session still open.                                      */
void simnet_destroy (simnet_t **self_p);

/*  Makes every session connected from now on a CURVE client of the
    master whose public key is in master_public_key, with the key pair
    in cert_file (both as written by `cairn keygen`); all sessions share
    the one pair, so they are one principal. 0, or -1 with a sentence.  */
int simnet_set_curve (simnet_t *self, const char *master_public_key, const char *cert_file);

/*  Connects a new session to endpoint ("tcp://HOST:PORT"), from the
    local address source (NULL: the kernel's choice), with the routing id
    `identity` (NULL: ZeroMQ's). fn(arg) gets every message. NULL +
    error_set if the socket cannot be made.                                */
simconn_t *simnet_connect (simnet_t *self, const char *endpoint, const char *source,
                           const char *identity, simnet_fn *fn, void *arg);
/*  Closes a session; unsent messages are dropped. Safe from within its
    own callback.                                                          */
void simnet_close (simnet_t *self, simconn_t **conn_p);

/*  Encodes and sends msg (the caller keeps it). 0, or -1 with errno as
    transport_send (EAGAIN: the queue to the peer is full).              */
int simnet_send (simnet_t *self, simconn_t *conn, const proto_msg_t *msg);
/*  Sends msg and destroys it.                                              */
int simnet_send_take (simnet_t *self, simconn_t *conn, proto_msg_t **msg_p);

/*  Waits up to timeout_ms (-1: until something happens; 0: no wait) for
    messages, and calls the sessions' callbacks for every one that
    arrived. Returns how many were handled, or -1 (EINTR) if interrupted. */
int simnet_poll (simnet_t *self, int timeout_ms);
/*  An extra file descriptor (a signalfd, a pipe) that ends simnet_poll
    when it is readable; simnet_fd_ready tells whether it was.            */
void simnet_watch_fd (simnet_t *self, int fd);
bool simnet_fd_ready (simnet_t *self);

size_t simnet_conns (simnet_t *self);

/*  Timers  */

typedef struct {
    int64_t due;                        /* ms on clock_mono_ms's clock */
    size_t slot;                        /* 0: not armed; heap index + 1 */
    int kind;                           /* the owner's: which timer this is */
} simtimer_t;

typedef struct _simheap_t simheap_t;

simheap_t *simheap_new (void);
void simheap_destroy (simheap_t **self_p);
/*  Arms t for `due`, or moves it there if it is armed.                  */
void simheap_arm (simheap_t *self, simtimer_t *t, int64_t due);
void simheap_cancel (simheap_t *self, simtimer_t *t);
/*  The earliest timer if it is due at `now`, removed from the heap, or
    NULL.                                                                  */
simtimer_t *simheap_pop_due (simheap_t *self, int64_t now);
/*  When the earliest timer is due, or INT64_MAX when none is armed.      */
int64_t simheap_next (simheap_t *self);
size_t simheap_size (simheap_t *self);

#endif
