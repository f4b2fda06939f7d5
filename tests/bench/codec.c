/*  codec.c - benchmark: the wire codec against bare msgpack-c.

    Decoding: proto_decode (pre-scan + unpack + full validation into C
    structs) against msgpack_unpack_next alone on the same body. Encoding:
    proto_encode against msgpack_pack_object of the same object tree.
    Rounds of the two alternate so both see the same machine load; each
    figure is the median of the rounds. Prints JSON lines (see run.sh).  */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <msgpack.h>

#include "proto.h"
#include "resources.h"

#define ROUNDS 7

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int
s_cmp (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static double
s_median (double *v, int n)
{
    qsort (v, (size_t) n, sizeof *v, s_cmp);
    return v[n / 2];
}

/*  A launch of `n` tasks, as a busy scheduler sends them.               */
static proto_msg_t *
s_launch (int n)
{
    proto_msg_t *msg = proto_msg_new (PROTO_RUN_TASKS);
    free (msg->u.run_tasks.framework->id);
    msg->u.run_tasks.framework->id = strdup ("f-0123456789abcdef");
    free (msg->u.run_tasks.framework->name);
    msg->u.run_tasks.framework->name = strdup ("batch");
    for (int i = 0; i < n; i++) {
        proto_task_t *t = proto_list_push (&msg->u.run_tasks.tasks, sizeof (proto_task_t));
        proto_task_init (t);
        free (t->task_id);
        char id[32];
        snprintf (id, sizeof id, "job-7.task-%d", i);
        t->task_id = strdup (id);
        free (t->command);
        t->command = strdup ("/usr/bin/process --input=/data/part-0042 --threads=1");
        cairn_resources_destroy (&t->resources);
        t->resources = cairn_resources_parse ("cpus:0.1;mem:64;ports:[31000-31000]");
        proto_kv_set (&t->env, "CAIRN_ARRAY_INDEX", id + 12);
        proto_kv_set (&t->labels, "job", "7");
    }
    return msg;
}

static void
s_report (const char *metric, double value, const char *unit, const char *baseline,
          double baseline_value)
{
    printf ("{\"bench\":\"codec\",\"metric\":\"%s\",\"value\":%.1f,\"unit\":\"%s\","
            "\"baseline\":\"%s\",\"baseline_value\":%.1f,\"ratio\":%.3f}\n",
            metric, value, unit, baseline, baseline_value, value / baseline_value);
}

int
main (void)
{
    proto_msg_t *msg = s_launch (100);
    uint8_t hdr[PROTO_HEADER_SIZE];
    char *body;
    size_t size;
    if (proto_encode (msg, hdr, &body, &size, NULL) < 0)
        return 1;
    int iters = 2000;
    double ours_dec[ROUNDS], base_dec[ROUNDS], ours_enc[ROUNDS], base_enc[ROUNDS];
    msgpack_unpacked tree;
    msgpack_unpacked_init (&tree);
    size_t off = 0;
    msgpack_unpack_next (&tree, body, size, &off);

    for (int r = 0; r < ROUNDS; r++) {
        double t0 = s_now ();
        for (int i = 0; i < iters; i++) {
            proto_msg_t *m = proto_decode (hdr, sizeof hdr, body, size, NULL);
            if (!m)
                return 1;
            proto_msg_destroy (&m);
        }
        double t1 = s_now ();
        for (int i = 0; i < iters; i++) {
            msgpack_unpacked u;
            msgpack_unpacked_init (&u);
            size_t o = 0;
            if (msgpack_unpack_next (&u, body, size, &o) != MSGPACK_UNPACK_SUCCESS)
                return 1;
            msgpack_unpacked_destroy (&u);
        }
        double t2 = s_now ();
        for (int i = 0; i < iters; i++) {
            uint8_t h[PROTO_HEADER_SIZE];
            char *b;
            size_t s;
            proto_encode (msg, h, &b, &s, NULL);
            free (b);
        }
        double t3 = s_now ();
        for (int i = 0; i < iters; i++) {
            msgpack_sbuffer sb;
            msgpack_sbuffer_init (&sb);
            msgpack_packer pk;
            msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
            msgpack_pack_object (&pk, tree.data);
            msgpack_sbuffer_destroy (&sb);
        }
        double t4 = s_now ();
        ours_dec[r] = iters / (t1 - t0);
        base_dec[r] = iters / (t2 - t1);
        ours_enc[r] = iters / (t3 - t2);
        base_enc[r] = iters / (t4 - t3);
    }
    s_report ("decode RUN_TASKS (100 tasks, validated)", s_median (ours_dec, ROUNDS), "msgs/s",
              "msgpack_unpack_next alone", s_median (base_dec, ROUNDS));
    s_report ("encode RUN_TASKS (100 tasks, validated)", s_median (ours_enc, ROUNDS), "msgs/s",
              "msgpack_pack_object alone", s_median (base_enc, ROUNDS));
    msgpack_unpacked_destroy (&tree);
    free (body);
    proto_msg_destroy (&msg);
    return 0;
}
