/*  agent.c - the agent's handlers and status streams, without a master:
    messages go in through agent_handle, come out of the outbox, and tasks
    run for real under cairn-shim (posix isolation) in a temp dir.        */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <czmq.h>

#include "agent.h"
#include "error.h"
#include "isolator.h"
#include "log.h"
#include "proto.h"
#include "resources.h"
#include "tap.h"
#include "transport.h"
#include "util.h"

static zloop_t *s_loop;

static int
s_stop_loop (zloop_t *loop, int timer_id, void *arg)
{
    return -1;
}

/*  Runs the loop (so the containerizer sees its shims) for ms.            */
static void
s_run (int ms)
{
    int id = zloop_timer (s_loop, (size_t) ms, 1, s_stop_loop, NULL);
    zloop_start (s_loop);
    zloop_timer_end (s_loop, id);
}

/*  The task's state in the agent's /state, or "" if it is not there.     */
static char s_state_buf[64];
static const char *
s_task_state (agent_t *agent, const char *task_id)
{
    json_t *state = agent_state_json (agent);
    size_t i;
    json_t *t;
    s_state_buf[0] = '\0';
    json_array_foreach (json_object_get (state, "tasks"), i, t)
        if (strcmp (json_string_value (json_object_get (t, "id")), task_id) == 0)
            snprintf (s_state_buf, sizeof s_state_buf, "%s",
                      json_string_value (json_object_get (t, "state")));
    json_decref (state);
    return s_state_buf;
}

static bool
s_wait_state (agent_t *agent, const char *task_id, const char *want, int ms)
{
    for (int waited = 0; waited < ms; waited += 20) {
        if (strcmp (s_task_state (agent, task_id), want) == 0)
            return true;
        s_run (20);
    }
    return false;
}

/*  The status updates in an outbox list (others are freed).               */
static int
s_statuses (outmsg_t *list, proto_status_t *out, int max)
{
    int n = 0;
    for (outmsg_t *o = list; o; o = o->next)
        if (o->msg->type == PROTO_STATUS_UPDATE && n < max) {
            memset (&out[n], 0, sizeof out[n]);
            proto_status_copy (&out[n++], &o->msg->u.status);
        }
    return n;
}

static void
s_free_statuses (proto_status_t *s, int n)
{
    for (int i = 0; i < n; i++)
        proto_status_fini (&s[i]);
}

static proto_status_t s_got[16];
static int s_ngot;

/*  Takes the outbox and keeps its status updates in s_got.               */
static void
s_take (agent_t *agent)
{
    s_free_statuses (s_got, s_ngot);
    outmsg_t *list = agent_outbox_take (agent);
    s_ngot = s_statuses (list, s_got, 16);
    outmsg_destroy_list (&list);
}

static void
s_ack (agent_t *agent, const proto_status_t *s, int64_t now)
{
    proto_msg_t *msg = proto_msg_new (PROTO_STATUS_ACK);
    proto_status_ack_t *ack = &msg->u.status_ack;
    free (ack->framework_id);
    free (ack->agent_id);
    free (ack->task_id);
    free (ack->uuid);
    ack->framework_id = strdup (s->framework_id);
    ack->agent_id = strdup (s->agent_id);
    ack->task_id = strdup (s->task_id);
    ack->uuid = strdup (s->uuid);
    agent_handle (agent, msg, now);
}

static void
s_launch (agent_t *agent, const char *task_id, const char *command, int64_t now)
{
    proto_msg_t *msg = proto_msg_new (PROTO_RUN_TASKS);
    proto_framework_info_t *fw = msg->u.run_tasks.framework;
    free (fw->id);
    fw->id = strdup ("f-test");
    free (fw->name);
    fw->name = strdup ("test");
    proto_task_t *t = proto_list_push (&msg->u.run_tasks.tasks, sizeof (proto_task_t));
    proto_task_init (t);
    free (t->task_id);
    t->task_id = strdup (task_id);
    free (t->command);
    t->command = strdup (command);
    cairn_resources_destroy (&t->resources);
    t->resources = cairn_resources_parse ("cpus:0.1;mem:32;ports:[31005-31006]");
    proto_kv_set (&t->env, "GREETING", "hi");
    agent_handle (agent, msg, now);
}

/*  Everything the framework saw, in order, when it acknowledges every
    update as it comes (s_pump).                                          */
static proto_status_t s_seen[64];
static int s_nseen;

/*  Runs the loop, acknowledging every update, until the task reaches
    `want` (true) or ms pass (false).                                     */
static bool
s_pump (agent_t *agent, const char *task_id, cairn_task_state_t want, int ms, int64_t now)
{
    for (int waited = 0; waited <= ms; waited += 20) {
        outmsg_t *list = agent_outbox_take (agent);
        bool reached = false;
        for (outmsg_t *o = list; o; o = o->next) {
            if (o->msg->type != PROTO_STATUS_UPDATE)
                continue;
            proto_status_t *st = &o->msg->u.status;
            if (s_nseen < 64) {
                memset (&s_seen[s_nseen], 0, sizeof s_seen[0]);
                proto_status_copy (&s_seen[s_nseen++], st);
            }
            if (strcmp (st->task_id, task_id) == 0 && st->state == want)
                reached = true;
            s_ack (agent, st, now);
        }
        outmsg_destroy_list (&list);
        if (reached)
            return true;
        s_run (20);
    }
    return false;
}

static const proto_status_t *
s_seen_state (const char *task_id, cairn_task_state_t state)
{
    for (int i = s_nseen - 1; i >= 0; i--)
        if (strcmp (s_seen[i].task_id, task_id) == 0 && s_seen[i].state == state)
            return &s_seen[i];
    return NULL;
}

static proto_msg_t *
s_run_tasks (const char *task_id, const char *command)
{
    proto_msg_t *msg = proto_msg_new (PROTO_RUN_TASKS);
    proto_framework_info_t *fw = msg->u.run_tasks.framework;
    free (fw->id);
    fw->id = strdup ("f-test");
    proto_task_t *t = proto_list_push (&msg->u.run_tasks.tasks, sizeof (proto_task_t));
    proto_task_init (t);
    free (t->task_id);
    t->task_id = strdup (task_id);
    free (t->command);
    t->command = strdup (command);
    cairn_resources_destroy (&t->resources);
    t->resources = cairn_resources_parse ("cpus:0.1;mem:32;ports:[31008-31008]");
    return msg;
}

int
main (void)
{
    log_init ("agent-test", getenv ("CAIRN_TEST_VERBOSE") ? "debug" : "error", "stderr");
    zsys_handler_set (NULL);
    signal (SIGPIPE, SIG_IGN);
    const char *builddir = getenv ("CAIRN_BUILDDIR");
    char *shim = xasprintf ("%s/agent/cairn-shim", builddir ? builddir : ".");
    char *fetcher = xasprintf ("%s/agent/cairn-fetcher", builddir ? builddir : ".");
    char dir[] = "/tmp/cairn-agent-test.XXXXXX";
    if (!mkdtemp (dir))
        return 1;
    s_loop = zloop_new ();
    isolator_t *iso = isolator_new (&(isolator_config_t) { .kind = "posix" });
    cairn_resources_t *res = cairn_resources_parse ("cpus:2;mem:1024;ports:[31000-31010]");
    agent_config_t config = {
        .work_dir = dir, .hostname = "test-host", .http_address = "127.0.0.1:1",
        .shim_path = shim, .fetcher_path = fetcher, .resources = res,
        .default_kill_grace_ms = 3000,
        .max_ping_misses = 3,
    };
    agent_t *agent = agent_new (&config, s_loop, iso);
    ok (agent != NULL, "an agent with the built cairn-shim");
    if (!agent)
        return done_testing ();
    int64_t now = 1000;

    /*  It asks to register, and resends until it hears back.             */
    agent_tick (agent, now);
    outmsg_t *list = agent_outbox_take (agent);
    ok (list && list->msg->type == PROTO_AGENT_REGISTER, "the agent asks to register");
    if (list)
        is (list->msg->u.agent_register.hostname, "test-host", "with its hostname");
    outmsg_destroy_list (&list);
    agent_tick (agent, now + 100);
    list = agent_outbox_take (agent);
    ok (list == NULL, "not again before the backoff");
    agent_tick (agent, now + 300);
    list = agent_outbox_take (agent);
    ok (list && list->msg->type == PROTO_AGENT_REGISTER, "again after it");
    outmsg_destroy_list (&list);
    proto_msg_t *reg = proto_msg_new (PROTO_AGENT_REGISTERED);
    free (reg->u.agent_registered.agent_id);
    reg->u.agent_registered.agent_id = strdup ("a-test");
    free (reg->u.agent_registered.master_id);
    reg->u.agent_registered.master_id = strdup ("m-test");
    reg->u.agent_registered.ping_interval_ms = 1000;
    agent_handle (agent, reg, now);
    is (agent_id (agent), "a-test", "the agent takes the id the master gave it");

    /*  A task that fails: its updates come one at a time, each resent
        until acknowledged.                                                */
    s_launch (agent, "t1", "echo \"$GREETING from $CAIRN_TASK_ID on port $PORT0\"; exit 3", now);
    s_take (agent);
    cmp_int (s_ngot, 1, "launching sends one update");
    cmp_int (s_got[0].state, CAIRN_TASK_STARTING, "TASK_STARTING");
    is (s_got[0].agent_id, "a-test", "with the agent's id");
    char first_uuid[64];
    snprintf (first_uuid, sizeof first_uuid, "%s", s_got[0].uuid);
    ok (s_wait_state (agent, "t1", "TASK_FAILED", 10000), "the task runs and fails");
    s_take (agent);
    cmp_int (s_ngot, 0, "nothing more is sent while TASK_STARTING is unacknowledged");
    agent_tick (agent, now + 1000);
    s_take (agent);
    cmp_int (s_ngot, 0, "not resent before the retry interval");
    agent_tick (agent, now + 2100);
    s_take (agent);
    cmp_int (s_ngot, 1, "resent after the retry interval");
    is (s_got[0].uuid, first_uuid, "the same update, same uuid");
    agent_tick (agent, now + 2200);
    s_take (agent);
    cmp_int (s_ngot, 0, "and then not at once again (backoff)");
    agent_tick (agent, now + 6300);
    s_take (agent);
    cmp_int (s_ngot, 1, "but after the doubled interval");
    proto_status_t starting;
    memset (&starting, 0, sizeof starting);
    proto_status_copy (&starting, &s_got[0]);
    s_ack (agent, &starting, now + 6400);
    s_take (agent);
    cmp_int (s_ngot, 1, "the acknowledgement releases the next update");
    cmp_int (s_got[0].state, CAIRN_TASK_RUNNING, "TASK_RUNNING");
    proto_status_t running;
    memset (&running, 0, sizeof running);
    proto_status_copy (&running, &s_got[0]);
    s_ack (agent, &starting, now + 6500);
    s_take (agent);
    cmp_int (s_ngot, 0, "a duplicate acknowledgement changes nothing");
    proto_status_fini (&starting);
    s_ack (agent, &running, now + 6600);
    proto_status_fini (&running);
    s_take (agent);
    cmp_int (s_ngot, 1, "then the terminal update");
    cmp_int (s_got[0].state, CAIRN_TASK_FAILED, "TASK_FAILED");
    cmp_int (s_got[0].reason, CAIRN_REASON_COMMAND_EXECUTOR_FAILED, "REASON_COMMAND_EXECUTOR_FAILED");
    cmp_int (s_got[0].exit_code, 3, "with exit code 3");
    is (s_got[0].message, "exited with status 3", "and a message saying so");
    const char *sandbox = agent_task_sandbox (agent, "f-test", "t1");
    char *path = xasprintf ("%s/stdout", sandbox);
    char *out = util_read_file (path, 4096, NULL);
    is (out, "hi from t1 on port 31005\n", "the task saw its environment, ports and sandbox");
    free (out);
    free (path);
    proto_status_t failed;
    memset (&failed, 0, sizeof failed);
    proto_status_copy (&failed, &s_got[0]);
    s_ack (agent, &failed, now + 6700);
    proto_status_fini (&failed);
    is (s_task_state (agent, "t1"), "", "acknowledged to the end, the task leaves the agent");
    ok (*agent_task_sandbox (agent, "f-test", "t1"), "its sandbox is still found for its logs");

    /*  A killed task: TASK_KILLING, then TASK_KILLED within the grace.   */
    now += 10000;
    s_launch (agent, "t2", "sleep 30", now);
    ok (s_wait_state (agent, "t2", "TASK_RUNNING", 10000), "a long task runs");
    proto_msg_t *kill = proto_msg_new (PROTO_KILL_TASK);
    free (kill->u.kill_task.framework_id);
    kill->u.kill_task.framework_id = strdup ("f-test");
    free (kill->u.kill_task.task_id);
    kill->u.kill_task.task_id = strdup ("t2");
    kill->u.kill_task.grace_ms = 100;
    agent_handle (agent, kill, now);
    is (s_task_state (agent, "t2"), "TASK_KILLING", "a kill makes it TASK_KILLING");
    ok (s_wait_state (agent, "t2", "TASK_KILLED", 10000), "and SIGTERM ends it: TASK_KILLED");

    /*  A command that cannot be executed.                                */
    proto_msg_t *run = proto_msg_new (PROTO_RUN_TASKS);
    free (run->u.run_tasks.framework->id);
    run->u.run_tasks.framework->id = strdup ("f-test");
    proto_task_t *t = proto_list_push (&run->u.run_tasks.tasks, sizeof (proto_task_t));
    proto_task_init (t);
    free (t->task_id);
    t->task_id = strdup ("t3");
    free (t->command);
    t->command = strdup ("");
    proto_strs_add (&t->argv, "/nonexistent/program");
    agent_handle (agent, run, now);
    ok (s_wait_state (agent, "t3", "TASK_FAILED", 10000), "a missing program fails the task");

    /*  A kill for a task the agent does not know is answered.            */
    kill = proto_msg_new (PROTO_KILL_TASK);
    free (kill->u.kill_task.framework_id);
    kill->u.kill_task.framework_id = strdup ("f-test");
    free (kill->u.kill_task.task_id);
    kill->u.kill_task.task_id = strdup ("nope");
    s_take (agent);
    agent_handle (agent, kill, now);
    s_take (agent);
    ok (s_ngot == 1 && s_got[0].state == CAIRN_TASK_LOST && s_got[0].reason == CAIRN_REASON_TASK_UNKNOWN,
        "killing an unknown task answers TASK_LOST / REASON_TASK_UNKNOWN");

    /*  URIs are fetched into the sandbox before the task starts.         */
    char *script = xasprintf ("%s/greet.sh", dir);
    FILE *f = fopen (script, "w");
    fputs ("#!/bin/sh\necho fetched and run\n", f);
    fclose (f);
    proto_msg_t *msg = s_run_tasks ("t4", "./greet.sh");
    proto_task_t *task = msg->u.run_tasks.tasks.items;
    proto_uri_t *uri = proto_list_push (&task->uris, sizeof (proto_uri_t));
    uri->uri = xasprintf ("file://%s", script);
    uri->executable = true;
    agent_handle (agent, msg, now);
    ok (s_pump (agent, "t4", CAIRN_TASK_FINISHED, 10000, now), "a task whose script is fetched "
        "from a URI runs it");
    path = xasprintf ("%s/stdout", agent_task_sandbox (agent, "f-test", "t4"));
    out = util_read_file (path, 4096, NULL);
    is (out, "fetched and run\n", "the fetched, executable script ran in the sandbox");
    free (out);
    free (path);

    msg = s_run_tasks ("t5", "true");
    task = msg->u.run_tasks.tasks.items;
    uri = proto_list_push (&task->uris, sizeof (proto_uri_t));
    uri->uri = xasprintf ("file://%s/missing.tar.gz", dir);
    agent_handle (agent, msg, now);
    ok (s_pump (agent, "t5", CAIRN_TASK_FAILED, 10000, now), "a URI that cannot be fetched "
        "fails the task");
    const proto_status_t *fst = s_seen_state ("t5", CAIRN_TASK_FAILED);
    ok (fst && fst->reason == CAIRN_REASON_FETCH_FAILED, "with REASON_FETCH_FAILED");
    ok (fst && strstr (fst->message, "missing.tar.gz"), "naming the URI (%s)",
        fst ? fst->message : "");
    ok (!s_seen_state ("t5", CAIRN_TASK_RUNNING), "it never ran");

    /*  A failing health check: unhealthy, then killed for it.           */
    msg = s_run_tasks ("t6", "sleep 30");
    task = msg->u.run_tasks.tasks.items;
    task->health = proto_health_new ();
    free (task->health->type);
    task->health->type = strdup ("http");
    free (task->health->path);
    task->health->path = strdup ("/health");
    task->health->delay_ms = 0;
    task->health->interval_ms = 100;
    task->health->timeout_ms = 500;
    task->health->grace_ms = 0;
    task->health->max_failures = 2;
    task->kill_grace_ms = 200;
    agent_handle (agent, msg, now);
    ok (s_pump (agent, "t6", CAIRN_TASK_KILLED, 15000, now),
        "a task whose HTTP health check fails is killed");
    bool unhealthy = false;
    for (int i = 0; i < s_nseen; i++)
        if (strcmp (s_seen[i].task_id, "t6") == 0 && s_seen[i].state == CAIRN_TASK_RUNNING
            && s_seen[i].healthy == 0)
            unhealthy = true;
    ok (unhealthy, "after an update with healthy false");
    const proto_status_t *kst = s_seen_state ("t6", CAIRN_TASK_KILLED);
    ok (kst && kst->reason == CAIRN_REASON_HEALTH_CHECK_FAILED,
        "TASK_KILLED with REASON_HEALTH_CHECK_FAILED");
    free (script);

    /*  A master gone silent: the agent notices and re-registers with its
        id and the tasks it still has.                                     */
    ok (!agent_master_lost (agent, now), "the master is not lost while it speaks");
    ok (agent_master_lost (agent, now + 5000), "silent for 3 pings and more, it is");
    agent_reconnected (agent, now + 5000);
    agent_tick (agent, now + 5000);
    list = agent_outbox_take (agent);
    bool found = false;
    for (outmsg_t *o = list; o; o = o->next)
        if (o->msg->type == PROTO_AGENT_REGISTER) {
            found = true;
            is (o->msg->u.agent_register.agent_id, "a-test", "it re-registers with its id");
            ok (o->msg->u.agent_register.tasks.count >= 2,
                "reporting the tasks whose updates are not acknowledged yet");
        }
    ok (found, "a new AGENT_REGISTER goes out");
    outmsg_destroy_list (&list);

    s_free_statuses (s_got, s_ngot);
    s_ngot = 0;
    s_free_statuses (s_seen, s_nseen);
    agent_destroy (&agent, true);
    isolator_destroy (&iso);
    cairn_resources_destroy (&res);
    zloop_destroy (&s_loop);
    util_remove_tree (dir);
    free (shim);
    free (fetcher);
    return done_testing ();
}
