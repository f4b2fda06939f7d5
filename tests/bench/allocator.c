/*  allocator.c - benchmark: one allocation cycle of the DRF allocator over
    a grid of cluster sizes, as in Mesos's allocator benchmarks.

    For agents x frameworks in {1000, 10000, 50000} x {1, 100, 1000}:
    - accepting: every agent is free and every framework keeps what it is
      offered; the figure is the first, full cycle (every agent offered);
    - declining: after that cycle every framework declines every offer
      with a 5 s filter; the figure is the next cycle, which must skip the
      filtered framework for each agent and offer it to another.
    The baseline, measured in the same run for the same agents, is the
    least any cycle must do: visit every agent and compute its free
    resources. Also reported: the allocator's own memory per agent (its
    data structures, not the process's RSS). Prints JSON lines (run.sh)
    and, with --table, a table.                                            */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "allocator.h"
#include "resources.h"

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

typedef struct {
    const char **fw;
    const char **agent;
    cairn_resources_t *res;
    size_t n, cap;
} offers_t;

static void
s_record (const char *framework_id, const char *agent_id, const cairn_resources_t *resources,
          void *arg)
{
    offers_t *o = arg;
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 1024;
        o->fw = realloc (o->fw, o->cap * sizeof *o->fw);
        o->agent = realloc (o->agent, o->cap * sizeof *o->agent);
        o->res = realloc (o->res, o->cap * sizeof *o->res);
        if (!o->fw || !o->agent || !o->res)
            abort ();
    }
    o->fw[o->n] = framework_id;
    o->agent[o->n] = agent_id;
    resources_init (&o->res[o->n]);
    resources_copy (&o->res[o->n], resources);
    o->n++;
}

static void
s_clear (offers_t *o)
{
    for (size_t i = 0; i < o->n; i++)
        resources_fini (&o->res[i]);
    o->n = 0;
}

/*  The baseline: every agent visited, its free resources computed.      */
static double
s_baseline (int agents, const cairn_resources_t *total)
{
    cairn_resources_t *allocated = calloc ((size_t) agents, sizeof *allocated);
    cairn_resources_t free_res;
    resources_init (&free_res);
    double t0 = s_now ();
    volatile int64_t sink = 0;
    for (int i = 0; i < agents; i++) {
        resources_copy (&free_res, total);
        cairn_resources_subtract (&free_res, &allocated[i]);
        sink += free_res.millicpus;
    }
    double t = s_now () - t0;
    resources_fini (&free_res);
    free (allocated);
    return t;
}

int
main (int argc, char **argv)
{
    bool table = argc > 1 && strcmp (argv[1], "--table") == 0;
    int agent_counts[] = { 1000, 10000, 50000 };
    int fw_counts[] = { 1, 100, 1000 };
    cairn_resources_t *total = cairn_resources_parse ("cpus:16;mem:65536;disk:100000;ports:[31000-32000]");
    cairn_resources_t *min = cairn_resources_parse ("cpus:0.01;mem:32");
    if (table)
        printf ("%8s %6s  %14s %14s %12s %9s %9s %10s\n", "agents", "fws", "accept cycle",
                "decline cycle", "baseline", "ratio A", "ratio D", "B/agent");
    for (size_t ai = 0; ai < 3; ai++)
        for (size_t fi = 0; fi < 3; fi++) {
            int agents = agent_counts[ai], fws = fw_counts[fi];
            allocator_t *al = allocator_new (min);
            char id[64];
            for (int f = 0; f < fws; f++) {
                snprintf (id, sizeof id, "f-%016x", f);
                allocator_add_framework (al, id, "*");
            }
            for (int a = 0; a < agents; a++) {
                snprintf (id, sizeof id, "a-%016x", a);
                allocator_add_agent (al, id, total);
            }
            offers_t offers = { 0 };
            int64_t now = 1000000;
            double t0 = s_now ();
            size_t made = allocator_allocate (al, now, s_record, &offers);
            double accept = s_now () - t0;
            /*  Everyone declines everything, for 5 s.                    */
            for (size_t i = 0; i < offers.n; i++) {
                allocator_recover (al, offers.agent[i], offers.fw[i], &offers.res[i], 5000, now);
                allocator_offer_closed (al, offers.agent[i], offers.fw[i]);
            }
            s_clear (&offers);
            now += 1000;
            t0 = s_now ();
            size_t made2 = allocator_allocate (al, now, s_record, &offers);
            double decline = s_now () - t0;
            double base = s_baseline (agents, total);
            double per_agent = (double) allocator_memory (al) / agents;
            if ((int) made != agents || (fws > 1 && (int) made2 != agents) || (fws == 1 && made2 != 0)) {
                fprintf (stderr, "allocator bench: unexpected offers: %zu then %zu\n", made, made2);
                return 1;
            }
            if (table)
                printf ("%8d %6d  %11.2f ms %11.2f ms %9.2f ms %9.1f %9.1f %10.0f\n", agents, fws,
                        accept * 1e3, decline * 1e3, base * 1e3, accept / base, decline / base,
                        per_agent);
            else {
                printf ("{\"bench\":\"allocator\",\"metric\":\"cycle, %d agents x %d frameworks, "
                        "accepting\",\"value\":%.3f,\"unit\":\"ms\",\"baseline\":\"visit every "
                        "agent, compute free\",\"baseline_value\":%.3f,\"ratio\":%.2f}\n",
                        agents, fws, accept * 1e3, base * 1e3, accept / base);
                if (fws > 1)
                    printf ("{\"bench\":\"allocator\",\"metric\":\"cycle, %d agents x %d frameworks, "
                            "declining\",\"value\":%.3f,\"unit\":\"ms\",\"baseline\":\"visit every "
                            "agent, compute free\",\"baseline_value\":%.3f,\"ratio\":%.2f}\n",
                            agents, fws, decline * 1e3, base * 1e3, decline / base);
                if (fws == 1000)
                    printf ("{\"bench\":\"allocator\",\"metric\":\"allocator memory per agent, %d "
                            "agents x %d frameworks\",\"value\":%.0f,\"unit\":\"bytes\",\"baseline\":"
                            "\"sizeof one agent's resources (total + allocated)\",\"baseline_value\""
                            ":%zu,\"ratio\":%.2f}\n", agents, fws, per_agent,
                            2 * sizeof (cairn_resources_t),
                            per_agent / (double) (2 * sizeof (cairn_resources_t)));
            }
            fflush (stdout);
            s_clear (&offers);
            free (offers.fw);
            free (offers.agent);
            free (offers.res);
            allocator_destroy (&al);
        }
    cairn_resources_destroy (&total);
    cairn_resources_destroy (&min);
    return 0;
}
