/*  cli.c - the pieces the cairn subcommands share.                      */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "cli.h"
#include "error.h"
#include "httpc.h"
#include "proto.h"
#include "transport.h"

cli_options_t cli;

char *
cli_master_http (void)
{
    char *endpoint = transport_endpoint (cli.master);
    if (!endpoint) {
        fprintf (stderr, "cairn: --master: %s\n", cairn_strerror_last ());
        return NULL;
    }
    zsock_t *sock = zsock_new (ZMQ_DEALER);
    transport_tune (sock);
    zsock_connect (sock, "%s", endpoint);
    proto_msg_t *req = proto_msg_new (PROTO_INFO_REQUEST);
    transport_send (sock, NULL, req);
    proto_msg_destroy (&req);
    char *http = NULL;
    bool refused = false;
    int64_t deadline = clock_mono_ms () + cli.timeout_ms;
    zpoller_t *poller = zpoller_new (sock, NULL);
    while (!http && !refused && clock_mono_ms () < deadline) {
        if (!zpoller_wait (poller, (int) (deadline - clock_mono_ms ())))
            continue;
        proto_msg_t *msg = NULL;
        proto_fault_t fault;
        if (transport_recv (sock, false, NULL, &msg, &fault) == 0)
            continue;
        if (msg && msg->type == PROTO_INFO)
            http = xstrdup (msg->u.info.http_address);
        else if (msg && msg->type == PROTO_ERROR) {
            fprintf (stderr, "cairn: the master at %s says: %s\n", cli.master,
                     msg->u.error.message);
            refused = true;
        }
        proto_msg_destroy (&msg);
    }
    if (!http && !refused)
        fprintf (stderr, "cairn: no answer from a master at %s within %" PRId64 " ms\n",
                 cli.master, cli.timeout_ms);
    zpoller_destroy (&poller);
    zsock_destroy (&sock);
    free (endpoint);
    return http;
}

int
cli_request (const char *method, const char *url, json_t *body, long *status, json_t **reply)
{
    *reply = NULL;
    if (httpc_json (method, url, body, (long) cli.timeout_ms, status, reply) < 0) {
        fprintf (stderr, "cairn: %s\n", cairn_strerror_last ());
        return -1;
    }
    return 0;
}

json_t *
cli_master_get (const char *path)
{
    char *http = cli_master_http ();
    if (!http)
        return NULL;
    char *url = xasprintf ("http://%s%s", http, path);
    long status = 0;
    json_t *reply = NULL;
    if (cli_request ("GET", url, NULL, &status, &reply) == 0 && status != 200) {
        fprintf (stderr, "cairn: %s answered %ld: %s\n", url, status,
                 reply ? cli_str (reply, "error") : "");
        json_decref (reply);
        reply = NULL;
    }
    else if (status == 200 && !reply)
        fprintf (stderr, "cairn: %s did not answer JSON\n", url);
    free (url);
    free (http);
    return reply;
}

int
cli_print_json (json_t *json)
{
    char *text = json_dumps (json, JSON_INDENT (2) | JSON_SORT_KEYS);
    puts (text ? text : "null");
    free (text);
    return 0;
}

const char *
cli_str (json_t *obj, const char *key)
{
    const char *s = json_string_value (json_object_get (obj, key));
    return s ? s : "";
}

double
cli_num (json_t *obj, const char *key)
{
    return json_number_value (json_object_get (obj, key));
}
