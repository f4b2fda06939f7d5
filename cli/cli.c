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
#include "zk.h"

cli_options_t cli;

int
cli_set_credentials (const char *token_file, const char *ca_file)
{
    if (token_file && *token_file && httpc_set_token_file (token_file) < 0) {
        fprintf (stderr, "cairn: --token-file: %s\n", cairn_strerror_last ());
        return -1;
    }
    if (ca_file && *ca_file && httpc_set_ca_file (ca_file) < 0) {
        fprintf (stderr, "cairn: --ca-file: %s\n", cairn_strerror_last ());
        return -1;
    }
    return 0;
}

int
cli_set_curve (const char *master_public_key, const char *curve_cert)
{
    bool key = master_public_key && *master_public_key;
    bool cert = curve_cert && *curve_cert;
    if (!key && !cert)
        return 0;
    if (key != cert) {
        fprintf (stderr, "cairn: --master-public-key and --curve-cert go together\n");
        return -1;
    }
    zcert_t *a = transport_cert_load (master_public_key, false);
    zcert_t *b = a ? transport_cert_load (curve_cert, true) : NULL;
    zcert_destroy (&a);
    if (!b) {
        fprintf (stderr, "cairn: %s\n", cairn_strerror_last ());
        return -1;
    }
    zcert_destroy (&b);
    cli.master_public_key = master_public_key;
    cli.curve_cert = curve_cert;
    setenv ("CAIRN_MASTER_PUBLIC_KEY", master_public_key, 1);
    setenv ("CAIRN_CURVE_CERT", curve_cert, 1);
    return 0;
}

int
cli_master_info (const char *master, char **http, char **code, char **message)
{
    *http = NULL;
    if (code)
        *code = NULL;
    if (message)
        *message = NULL;
    char *endpoint = transport_endpoint (master);
    if (!endpoint) {
        fprintf (stderr, "cairn: --master: %s\n", cairn_strerror_last ());
        return -1;
    }
    zsock_t *sock = zsock_new (ZMQ_DEALER);
    transport_tune (sock);
    if (cli.master_public_key
        && transport_curve_client (sock, cli.master_public_key, cli.curve_cert) < 0) {
        fprintf (stderr, "cairn: %s\n", cairn_strerror_last ());
        zsock_destroy (&sock);
        free (endpoint);
        return -1;
    }
    zsock_connect (sock, "%s", endpoint);
    proto_msg_t *req = proto_msg_new (PROTO_INFO_REQUEST);
    transport_send (sock, NULL, req);
    proto_msg_destroy (&req);
    int rc = -1;
    int64_t deadline = clock_mono_ms () + cli.timeout_ms;
    zpoller_t *poller = zpoller_new (sock, NULL);
    while (rc < 0 && clock_mono_ms () < deadline) {
        if (!zpoller_wait (poller, (int) (deadline - clock_mono_ms ())))
            continue;
        proto_msg_t *msg = NULL;
        proto_fault_t fault;
        if (transport_recv (sock, false, NULL, &msg, &fault) == 0)
            continue;
        if (msg && msg->type == PROTO_INFO) {
            *http = xstrdup (msg->u.info.http_address);
            rc = 0;
        }
        else if (msg && msg->type == PROTO_ERROR) {
            if (code)
                *code = xstrdup (msg->u.error.code);
            if (message)
                *message = xstrdup (msg->u.error.message);
            rc = 1;
        }
        proto_msg_destroy (&msg);
    }
    if (rc < 0)
        fprintf (stderr, "cairn: no answer from a master at %s within %" PRId64 " ms\n",
                 master, cli.timeout_ms);
    zpoller_destroy (&poller);
    zsock_destroy (&sock);
    free (endpoint);
    return rc;
}

char *
cli_master_http (void)
{
    if (zk_url_is (cli.master)) {
        char *http = zk_find_leader (cli.master, "http", (int) cli.timeout_ms);
        if (!http)
            fprintf (stderr, "cairn: --master: %s\n", cairn_strerror_last ());
        return http;
    }
    char *http = NULL, *message = NULL;
    if (cli_master_info (cli.master, &http, NULL, &message) == 1)
        fprintf (stderr, "cairn: the master at %s says: %s\n", cli.master, message);
    free (message);
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

/*  The master's HTTP address, asked once per run.                         */
static char *s_http;

static const char *
s_master_http (void)
{
    if (!s_http)
        s_http = cli_master_http ();
    return s_http;
}

char *
cli_master_url (const char *path)
{
    const char *http = s_master_http ();
    return http ? httpc_url (http, path) : NULL;
}

json_t *
cli_master_call (const char *method, const char *path, long *status_out)
{
    char *url = cli_master_url (path);
    if (!url)
        return NULL;
    long status = 0;
    json_t *reply = NULL;
    if (cli_request (method, url, NULL, &status, &reply) == 0 && (status < 200 || status > 299)) {
        const char *error = reply ? cli_str (reply, "error") : "";
        fprintf (stderr, "cairn: %s\n", *error ? error : "the master refused");
        if (!*error)
            fprintf (stderr, "cairn: (%s %s answered %ld)\n", method, url, status);
        json_decref (reply);
        reply = NULL;
    }
    else if (status >= 200 && status <= 299 && !reply)
        fprintf (stderr, "cairn: %s did not answer JSON\n", url);
    if (status_out)
        *status_out = status;
    free (url);
    return reply;
}

json_t *
cli_master_get (const char *path)
{
    return cli_master_call ("GET", path, NULL);
}

char *
cli_escape (const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = xmalloc (3 * strlen (s) + 1), *p = out;
    for (const unsigned char *c = (const unsigned char *) s; *c; c++) {
        if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9')
            || strchr ("-._~", *c))
            *p++ = (char) *c;
        else {
            *p++ = '%';
            *p++ = hex[*c >> 4];
            *p++ = hex[*c & 15];
        }
    }
    *p = '\0';
    return out;
}

json_t *
cli_task_info (const char *task_id, const char *framework_id)
{
    char *t = cli_escape (task_id);
    char *f = framework_id ? cli_escape (framework_id) : NULL;
    char *path = xasprintf ("/tasks?task_id=%s%s%s", t, f ? "&framework_id=" : "", f ? f : "");
    json_t *task = cli_master_get (path);
    free (path);
    free (t);
    free (f);
    return task;
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
