/*  log.c - the log's targets: a file that SIGHUP's log_reopen follows
    after rotation, and the errors for bad targets and levels.            */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn.h"
#include "error.h"
#include "log.h"
#include "tap.h"
#include "util.h"

/*  The whole of a small file, or "" if it cannot be read.                */
static char *
s_slurp (const char *path)
{
    static char buf[8192];
    FILE *f = fopen (path, "r");
    size_t n = 0;
    if (f) {
        n = fread (buf, 1, sizeof buf - 1, f);
        fclose (f);
    }
    buf[n] = '\0';
    return buf;
}

int
main (void)
{
    char tmp[] = "/tmp/cairn-log-test.XXXXXX";
    if (!mkdtemp (tmp))
        return 1;
    char path[PATH_MAX], rotated[PATH_MAX], target[PATH_MAX + 8];
    snprintf (path, sizeof path, "%s/master.log", tmp);
    snprintf (rotated, sizeof rotated, "%s/master.log.1", tmp);
    snprintf (target, sizeof target, "file:%s", path);

    ok (log_init ("master", "info", target) == 0, "a file target opens");
    log_info ("first %d", 1);
    log_debug ("not at info level");
    char *text = s_slurp (path);
    ok (strstr (text, " INFO  master: first 1\n") != NULL, "an event is one line in the file");
    ok (strstr (text, "not at info") == NULL, "a disabled level writes nothing");
    ok (text[0] >= '2' && text[10] == 'T' && strchr (text, 'Z'),
        "with a UTC timestamp first");

    ok (rename (path, rotated) == 0, "rotate the file away");
    log_warn ("still the old descriptor");
    ok (strstr (s_slurp (rotated), "still the old descriptor") != NULL,
        "before reopening, events go to the rotated file");
    log_reopen ();
    log_error ("after reopen");
    text = s_slurp (path);
    ok (strstr (text, " ERROR master: after reopen\n") != NULL,
        "after reopening, events go to a new file at the path");
    ok (strstr (s_slurp (rotated), "after reopen") == NULL, "and not to the rotated one");

    ok (log_init ("master", "info", "file:") < 0 && errno == EINVAL,
        "file: without a path is an error");
    ok (strstr (cairn_strerror_last (), "needs a file path") != NULL, "which says so: %s", cairn_strerror_last ());
    ok (log_init ("master", "info", "file:/nonexistent-dir/x.log") < 0,
        "a file that cannot be opened is an error");
    ok (strstr (cairn_strerror_last (), "/nonexistent-dir/x.log") != NULL, "naming the file");
    ok (log_init ("master", "info", "journal") < 0 && strstr (cairn_strerror_last (), "file:PATH"),
        "an unknown target lists the valid ones");
    ok (log_init ("master", "verbose", "stderr") < 0
            && strstr (cairn_strerror_last (), "unknown log level 'verbose'"),
        "an unknown level is named");
    log_info ("after failed inits");
    ok (strstr (s_slurp (path), "after failed inits") != NULL,
        "a failed log_init changes nothing");

    ok (log_init ("master", NULL, "stderr") == 0, "back to stderr");
    util_remove_tree (tmp);
    return done_testing ();
}
