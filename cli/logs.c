/*  logs.c - cairn logs TASK: a task's stdout or stderr, read from its
    agent's files endpoint (never by local path, so it works from any
    machine), optionally the last N lines, optionally followed like
    tail -f until the task has ended and its output is all out.          */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn.h"
#include "cli.h"
#include "error.h"
#include "flags.h"
#include "httpc.h"
#include "transport.h"

#define CHUNK       (1 << 20)   /* bytes per read */
#define POLL_MS     250         /* between reads when there is nothing new */
#define CHECK_MS    1000        /* between looks at the task's state */

static void
s_sleep_ms (int ms)
{
    struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000L };
    nanosleep (&ts, NULL);
}

/*  The agent's URL for a file of the task's sandbox. The agent's address
    carries "https://" when it serves HTTPS (httpc_url keeps it).         */
static char *
s_file_url (json_t *task, const char *endpoint, const char *file, int64_t offset,
            int64_t length)
{
    json_t *agent = json_object_get (task, "agent");
    char *fw = cli_escape (cli_str (task, "framework_id"));
    char *id = cli_escape (cli_str (task, "id"));
    char *path = cli_escape (file);
    char *what = xasprintf ("/files/%s?framework_id=%s&task_id=%s&path=%s"
                            "&offset=%" PRId64 "&length=%" PRId64, endpoint, fw, id, path,
                            offset, length);
    char *url = httpc_url (cli_str (agent, "http_address"), what);
    free (what);
    free (fw);
    free (id);
    free (path);
    return url;
}

/*  The size of the sandbox file, -1 if it does not exist (yet), -2 after
    printing why it could not be learned.                                 */
static int64_t
s_file_size (json_t *task, const char *file)
{
    char *url = s_file_url (task, "browse", ".", 0, 0);
    long status = 0;
    json_t *list = NULL;
    int64_t size = -1;
    if (cli_request ("GET", url, NULL, &status, &list) < 0)
        size = -2;
    else if (status != 200) {
        fprintf (stderr, "cairn: the agent cannot show task %s's sandbox: %s\n",
                 cli_str (task, "id"), list ? cli_str (list, "error") : "");
        size = -2;
    }
    size_t i;
    json_t *e;
    json_array_foreach (list, i, e)
        if (strcmp (cli_str (e, "name"), file) == 0)
            size = (int64_t) cli_num (e, "size");
    json_decref (list);
    free (url);
    return size;
}

/*  Reads up to CHUNK bytes at offset: 0 with *data and *size (size 0 at the
    end or when the file does not exist yet), -1 after printing why.      */
static int
s_read (json_t *task, const char *file, int64_t offset, char **data, size_t *size)
{
    char *url = s_file_url (task, "read", file, offset, CHUNK);
    long status = 0;
    int rc = httpc_get (url, (long) cli.timeout_ms, &status, data, size);
    if (rc < 0)
        fprintf (stderr, "cairn: %s\n", cairn_strerror_last ());
    else if (status == 404) {
        *size = 0;                  /* not there yet */
    }
    else if (status != 200) {
        json_t *err = json_loadb (*data, *size, 0, NULL);
        fprintf (stderr, "cairn: the agent cannot read task %s's %s: %s\n",
                 cli_str (task, "id"), file, err ? cli_str (err, "error") : *data);
        json_decref (err);
        rc = -1;
    }
    if (rc < 0) {
        free (*data);
        *data = NULL;
    }
    free (url);
    return rc;
}

static bool
s_terminal (json_t *task)
{
    cairn_task_state_t st;
    return cairn_task_state_parse (cli_str (task, "state"), &st) == 0
           && cairn_task_state_is_terminal (st);
}

int
cli_copy_output (json_t *task, const char *const *files, FILE *const *outs, int64_t *offsets,
                 size_t n, bool follow)
{
    json_t *current = json_incref (task);
    int64_t next_check = clock_mono_ms () + CHECK_MS;
    bool ended = s_terminal (current);
    int rc = 0;
    while (rc == 0) {
        bool more = false;          /* a full chunk came: read again at once */
        for (size_t i = 0; i < n && rc == 0; i++) {
            char *data = NULL;
            size_t size = 0;
            if (s_read (current, files[i], offsets[i], &data, &size) < 0) {
                rc = -1;
                break;
            }
            if (size > 0) {
                fwrite (data, 1, size, outs[i]);
                fflush (outs[i]);
                offsets[i] += (int64_t) size;
            }
            more |= size == CHUNK;
            free (data);
        }
        if (rc < 0 || more)
            continue;
        /*  Caught up. Done unless following a task that still runs (the
            last pass after it ended collects what it wrote last).       */
        if (!follow || ended)
            break;
        s_sleep_ms (POLL_MS);
        if (clock_mono_ms () >= next_check) {
            next_check = clock_mono_ms () + CHECK_MS;
            json_t *fresh = cli_task_info (cli_str (current, "id"),
                                           cli_str (current, "framework_id"));
            if (!fresh) {
                rc = -1;
                break;
            }
            json_decref (current);
            current = fresh;
            ended = s_terminal (current);
            /*  Rotated (stdout became stdout.1): start the new file.     */
            for (size_t i = 0; i < n; i++) {
                int64_t now_size = s_file_size (current, files[i]);
                if (now_size >= 0 && now_size < offsets[i])
                    offsets[i] = 0;
            }
        }
    }
    json_decref (current);
    return rc;
}

/*  The offset where the last n lines of the file begin (0 if it has fewer),
    reading backwards from its end; -1 after printing why.                */
static int64_t
s_tail_offset (json_t *task, const char *file, int64_t n)
{
    int64_t size = s_file_size (task, file);
    if (size == -2)
        return -1;
    if (size <= 0 || n <= 0)
        return size < 0 ? 0 : size;
    int64_t start = size;
    int64_t lines = 0;
    /*  Back a chunk at a time; a final line without its newline counts.   */
    bool last = true;
    while (start > 0) {
        int64_t from = start > CHUNK ? start - CHUNK : 0;
        char *data = NULL;
        size_t got = 0;
        if (s_read (task, file, from, &data, &got) < 0)
            return -1;
        int64_t end = from + (int64_t) got < start ? from + (int64_t) got : start;
        for (int64_t i = end - 1; i >= from; i--) {
            if (data[i - from] != '\n')
                continue;
            if (last && i == size - 1) {
                last = false;
                continue;           /* the newline ending the last line */
            }
            if (++lines == n) {
                free (data);
                return i + 1;
            }
        }
        free (data);
        last = false;
        start = from;
    }
    return 0;
}

static bool s_stderr, s_follow;
static int64_t s_tail;
static char *s_logs_fw;
static const flag_t s_logs_flags[] = {
    { "stderr", FLAG_BOOL, &s_stderr, NULL, NULL, "Show stderr rather than stdout.", 0, 0 },
    { "follow", FLAG_BOOL, &s_follow, NULL, NULL,
      "Keep printing what the task writes until it ends (like tail -f).", 0, 0 },
    { "tail", FLAG_INT, &s_tail, "-1", "N", "Only the last N lines (-1: all).", -1,
      1000000000 },
    { "framework", FLAG_STRING, &s_logs_fw, NULL, "ID",
      "The task's framework, when several have a task by that id.", 0, 0 },
};
static const flags_spec_t s_logs_spec = {
    "cairn logs", NULL, "Print a task's output, read from its agent.", "[OPTIONS] TASK",
    s_logs_flags, sizeof s_logs_flags / sizeof s_logs_flags[0],
};

int
cli_cmd_logs (int argc, char **argv)
{
    int argi = 0;
    int rc = flags_parse_permuted (&s_logs_spec, argc, argv, &argi);
    if (rc != 0) {
        flags_free (&s_logs_spec);
        return rc < 0 ? CLI_USAGE : 0;
    }
    if (argi != argc - 1) {
        fprintf (stderr, "cairn logs: %s\n", argi >= argc ? "which task? (cairn logs TASK)"
                                                          : "too many arguments");
        flags_free (&s_logs_spec);
        return CLI_USAGE;
    }
    json_t *task = cli_task_info (argv[argi], s_logs_fw);
    rc = CLI_FAILED;
    if (task) {
        const char *file = s_stderr ? "stderr" : "stdout";
        FILE *out = stdout;
        int64_t offset = s_tail >= 0 ? s_tail_offset (task, file, s_tail) : 0;
        if (offset >= 0 && cli_copy_output (task, &file, &out, &offset, 1, s_follow) == 0)
            rc = 0;
    }
    json_decref (task);
    flags_free (&s_logs_spec);
    return rc;
}
