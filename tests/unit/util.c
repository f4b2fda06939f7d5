/*  util.c - the small shared pieces: mkdir -p, atomic files, rm -rf and
    the "did you mean" hint.                                              */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn.h"
#include "error.h"
#include "tap.h"
#include "util.h"

static bool
s_is_dir (const char *path, mode_t mode)
{
    struct stat st;
    return stat (path, &st) == 0 && S_ISDIR (st.st_mode) && (st.st_mode & 07777) == mode;
}

int
main (void)
{
    char tmp[] = "/tmp/cairn-util-test.XXXXXX";
    if (!mkdtemp (tmp))
        return 1;
    umask (022);
    char path[PATH_MAX];

    snprintf (path, sizeof path, "%s/a/b/c/d", tmp);
    ok (util_mkdir_p (path, 0750) == 0, "mkdir -p four levels deep");
    ok (s_is_dir (path, 0750), "the last level exists with the mode");
    snprintf (path, sizeof path, "%s/a/b", tmp);
    ok (s_is_dir (path, 0750), "and the ones between");
    ok (util_mkdir_p (path, 0700) == 0, "an existing directory is fine");
    ok (s_is_dir (path, 0750), "and left as it was");
    snprintf (path, sizeof path, "%s/a/b/c/e", tmp);
    ok (util_mkdir_p (path, 0755) == 0 && s_is_dir (path, 0755), "a sibling under existing parents");
    snprintf (path, sizeof path, "%s/a//b/x/", tmp);
    ok (util_mkdir_p (path, 0755) == 0, "doubled and trailing slashes");

    char file[PATH_MAX];
    snprintf (file, sizeof file, "%s/file", tmp);
    ok (util_write_file (file, "hello\n", 6, 0600) == 0, "write a file atomically");
    size_t size = 0;
    char *text = util_read_file (file, 100, &size);
    ok (text && size == 6 && strcmp (text, "hello\n") == 0, "read it back");
    free (text);
    errno = 0;
    ok (util_mkdir_p (file, 0755) < 0 && errno == ENOTDIR, "a file in the way: ENOTDIR");
    ok (strstr (cairn_strerror_last (), file) != NULL, "the error names the path");
    snprintf (path, sizeof path, "%s/file/below", tmp);
    errno = 0;
    ok (util_mkdir_p (path, 0755) < 0 && errno == ENOTDIR, "below a file: ENOTDIR (%s)",
        cairn_strerror_last ());
    ok (util_mkdir_p ("", 0755) < 0 && errno == EINVAL, "an empty path: EINVAL");

    const char *names[] = { "agents", "frameworks", "tasks", "state" };
    is (util_closest ("agnets", names, 4), "agents", "a transposition is close");
    is (util_closest ("task", names, 4), "tasks", "a missing letter is close");
    ok (util_closest ("zzz", names, 4) == NULL, "nothing close: NULL");
    ok (util_closest ("st", names, 4) == NULL, "too short to guess");

    ok (util_env_name_valid ("PORT0") && util_env_name_valid ("_x1"), "PORT0 and _x1 are names");
    ok (!util_env_name_valid ("0PORT"), "a leading digit is not");
    ok (!util_env_name_valid ("A-B") && !util_env_name_valid ("A=B"), "nor - or =");
    ok (!util_env_name_valid ("") && !util_env_name_valid (NULL), "nor empty or NULL");

    ok (util_remove_tree (tmp) == 0 && access (tmp, F_OK) < 0, "rm -rf");
    return done_testing ();
}
