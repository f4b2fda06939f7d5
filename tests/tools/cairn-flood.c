/*  cairn-flood.c - a peer that floods the master and reads nothing back.

    Usage: cairn-flood --master=HOST:PORT [--count=N] [--linger=SECONDS]
                       [--connections=N]

    With --count, it sends N PING messages on one DEALER connection as
    fast as the socket takes them, never reading the PONGs, then keeps the
    connection open for --linger seconds (default 2) so that the master's
    replies pile up; SIGTERM or SIGINT ends the sending early. With
    --connections, it opens N DEALER connections and
    holds them for --linger seconds. tests/integration/security-limits.sh
    drives it. Exit status: 0, or 2 on a usage error.                    */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <czmq.h>

#include "proto.h"
#include "transport.h"

int
main (int argc, char **argv)
{
    const char *master = NULL;
    long count = 0, linger = 2, connections = 0;
    static const struct option options[] = {
        { "master", required_argument, NULL, 'm' },
        { "count", required_argument, NULL, 'c' },
        { "linger", required_argument, NULL, 'l' },
        { "connections", required_argument, NULL, 'n' },
        { NULL, 0, NULL, 0 },
    };
    int opt;
    while ((opt = getopt_long (argc, argv, "", options, NULL)) != -1)
        switch (opt) {
            case 'm': master = optarg; break;
            case 'c': count = atol (optarg); break;
            case 'l': linger = atol (optarg); break;
            case 'n': connections = atol (optarg); break;
            default: return 2;
        }
    char *endpoint = master ? transport_endpoint (master) : NULL;
    if (!endpoint || count < 0 || connections < 0 || connections > 10000) {
        fprintf (stderr, "usage: cairn-flood --master=HOST:PORT [--count=N] [--linger=S] "
                 "[--connections=N]\n");
        return 2;
    }
    zsys_handler_set (NULL);
    zsock_t **socks = calloc ((size_t) connections + 1, sizeof *socks);
    for (long i = 0; i < connections; i++) {
        socks[i] = zsock_new (ZMQ_DEALER);
        zsock_set_linger (socks[i], 0);
        zsock_connect (socks[i], "%s", endpoint);
    }
    if (count > 0) {
        zsock_t *sock = zsock_new (ZMQ_DEALER);
        transport_tune (sock);
        /*  Read as little as possible: the master's replies stay queued
            on its side.                                                  */
        zsock_set_rcvhwm (sock, 1);
        zsock_set_rcvbuf (sock, 4096);
        zsock_connect (sock, "%s", endpoint);
        proto_msg_t *ping = proto_msg_new (PROTO_PING);
        long sent = 0;
        while (sent < count && !zsys_interrupted) {
            ping->u.ping.seq = sent;
            if (transport_send (sock, NULL, ping) == 0)
                sent++;
            else
                usleep (1000);
        }
        proto_msg_destroy (&ping);
        printf ("sent %ld\n", sent);
        fflush (stdout);
        sleep ((unsigned int) linger);
        zsock_destroy (&sock);
    }
    else
        sleep ((unsigned int) linger);
    for (long i = 0; i < connections; i++)
        zsock_destroy (&socks[i]);
    free (socks);
    free (endpoint);
    return 0;
}
