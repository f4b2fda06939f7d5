/*  agent.c - fuzz harness for the agent's message handlers (agent.h).

    Input: a conversation (fuzz.h) with the master: frames decoded by the
    codec and handed to agent_handle (or agent_handle_invalid), and ticks
    that move the clock (agent_tick). Type 0 stands for a new connection
    to the master (agent_reconnected). Each input gets a fresh agent in a
    fresh work directory; the "shim" and the fetcher are /bin/true, so a
    launch forks a process that does nothing (reaped after the input) and
    the loop never runs: what is fuzzed is the agent's bookkeeping, the
    checkpoint and the paths it builds, not the tasks.

    Every message the agent queues must encode, its views must build,
    and nothing may appear outside its work directory (ids name
    directories in it).                                                   */
#include "config.h"

#include <dirent.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <czmq.h>

#include "agent.h"
#include "fuzz.h"
#include "isolator.h"
#include "log.h"
#include "proto.h"
#include "resources.h"
#include "transport.h"
#include "util.h"

static zloop_t *s_loop;
static isolator_t *s_isolator;
static cairn_resources_t *s_resources;
static char s_base[64];

static void
s_cleanup (void)
{
    util_remove_tree (s_base);
}

static void
s_init (void)
{
    log_init ("fuzz-agent", getenv ("CAIRN_FUZZ_LOG") ? getenv ("CAIRN_FUZZ_LOG") : "error",
              getenv ("CAIRN_FUZZ_LOG") ? "stderr" : "file:/dev/null");
    zsys_handler_set (NULL);
    signal (SIGPIPE, SIG_IGN);
    s_loop = zloop_new ();
    s_isolator = isolator_new (&(isolator_config_t) { .kind = "posix" });
    FUZZ_CHECK (s_loop && s_isolator, "a loop and a posix isolator");
    s_resources = cairn_resources_parse ("cpus:4;mem:4096;disk:1000;ports:[31000-31009]");
    const char *tmp = getenv ("TMPDIR") && strlen (getenv ("TMPDIR")) < 32
                          ? getenv ("TMPDIR") : "/tmp";
    snprintf (s_base, sizeof s_base, "%s/cairn-fuzz.XXXXXX", tmp);
    FUZZ_CHECK (mkdtemp (s_base) != NULL, "a temporary directory");
    atexit (s_cleanup);
}

static void
s_take (agent_t *agent)
{
    outmsg_t *list = agent_outbox_take (agent);
    for (outmsg_t *out = list; out; out = out->next) {
        uint8_t hdr[PROTO_HEADER_SIZE];
        char *body = NULL;
        size_t size = 0;
        proto_fault_t fault;
        if (proto_encode (out->msg, hdr, &body, &size, &fault) != 0)
            fprintf (stderr, "fuzz: the agent sends %s: %s\n",
                     proto_type_name (out->msg->type), fault.text);
        FUZZ_CHECK (body != NULL, "every message the agent sends encodes");
        free (body);
    }
    outmsg_destroy_list (&list);
}

/*  True if the base directory holds nothing but the work directory.       */
static bool
s_contained (void)
{
    DIR *dir = opendir (s_base);
    FUZZ_CHECK (dir != NULL, "the base directory is there");
    bool ok = true;
    struct dirent *e;
    while ((e = readdir (dir)))
        if (strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0
            && strcmp (e->d_name, "work") != 0) {
            fprintf (stderr, "fuzz: %s/%s is outside the work directory\n", s_base, e->d_name);
            ok = false;
        }
    closedir (dir);
    return ok;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_loop)
        s_init ();
    char work[128];
    snprintf (work, sizeof work, "%s/work", s_base);
    FUZZ_CHECK (mkdir (work, 0700) == 0, "a fresh work directory");
    agent_config_t config = {
        .work_dir = work, .hostname = "fuzz-host", .http_address = "127.0.0.1:5051",
        .shim_path = "/bin/true", .fetcher_path = "/bin/true",
        .resources = s_resources,
        .default_kill_grace_ms = 1000,
        .max_ping_misses = 3,
        .gc_delay_ms = 1000,
        .gc_disk_headroom = 0.1,
    };
    agent_t *agent = agent_new (&config, s_loop, s_isolator);
    if (!agent)
        fprintf (stderr, "fuzz: %s\n", cairn_strerror_last ());
    FUZZ_CHECK (agent != NULL, "an agent");
    int64_t now = 1000000;
    agent_tick (agent, now);
    s_take (agent);

    fuzz_reader_t reader = { data, size, 0 };
    fuzz_record_t rec;
    while (fuzz_next (&reader, &rec)) {
        if (rec.tick) {
            now += rec.ms;
            agent_tick (agent, now);
            if (agent_master_lost (agent, now))
                agent_reconnected (agent, now);
        }
        else if (rec.hdr[3] == 0)
            agent_reconnected (agent, now);
        else {
            proto_fault_t fault;
            proto_msg_t *msg = proto_decode (rec.hdr, sizeof rec.hdr, rec.body, rec.body_size,
                                             &fault);
            if (msg)
                agent_handle (agent, msg, now);
            else
                agent_handle_invalid (agent, fault.text);
        }
        s_take (agent);
    }
    FUZZ_CHECK (agent_commit (agent) == 0, "the checkpoint commits");
    json_t *state = agent_state_json (agent);
    FUZZ_CHECK (state != NULL, "the agent's /state builds");
    json_decref (state);
    size_t n = 0;
    char *metrics = agent_metrics_text (agent, &n);
    FUZZ_CHECK (metrics != NULL, "its /metrics builds");
    free (metrics);
    agent_destroy (&agent, false);

    bool contained = s_contained ();
    util_remove_tree (work);
    if (!contained) {
        util_remove_tree (s_base);
        mkdir (s_base, 0700);
    }
    while (waitpid (-1, NULL, WNOHANG) > 0)
        ;
    FUZZ_CHECK (contained, "the agent keeps to its work directory");
    return 0;
}
