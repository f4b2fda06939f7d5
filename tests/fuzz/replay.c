/*  replay.c - runs a fuzz harness over a corpus without libFuzzer.

    Linked with a harness into an ordinary program (built with the
    project's compiler and sanitizers), so `make check` replays every
    seed and regression input:  replay FILE|DIR...  runs
    LLVMFuzzerTestOneInput once per file (a directory's files in name
    order) and prints how many ran. A crash or a broken property aborts
    in the harness; any other failure to read an input exits 1.          */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int
s_run_file (const char *path)
{
    FILE *f = fopen (path, "rb");
    if (!f) {
        fprintf (stderr, "replay: %s: %s\n", path, strerror (errno));
        return -1;
    }
    size_t cap = 4096, size = 0;
    uint8_t *data = malloc (cap);
    size_t n;
    while (data && (n = fread (data + size, 1, cap - size, f)) > 0) {
        size += n;
        if (size == cap)
            data = realloc (data, cap *= 2);
    }
    int failed = ferror (f) || !data;
    fclose (f);
    if (failed) {
        fprintf (stderr, "replay: %s: cannot read it\n", path);
        free (data);
        return -1;
    }
    /*  An exact-size copy, so reads past the input's end are caught.      */
    uint8_t *input = malloc (size ? size : 1);
    if (!input)
        abort ();
    memcpy (input, data, size);
    free (data);
    LLVMFuzzerTestOneInput (input, size);
    free (input);
    return 0;
}

static int
s_compare (const void *a, const void *b)
{
    return strcmp (*(char *const *) a, *(char *const *) b);
}

/*  Runs every regular file of dir; returns the count, or -1.             */
static int
s_run_dir (const char *dir)
{
    DIR *d = opendir (dir);
    if (!d) {
        fprintf (stderr, "replay: %s: %s\n", dir, strerror (errno));
        return -1;
    }
    char **names = NULL;
    size_t count = 0;
    struct dirent *e;
    while ((e = readdir (d))) {
        if (e->d_name[0] == '.')
            continue;
        names = realloc (names, (count + 1) * sizeof *names);
        if (!names || !(names[count] = strdup (e->d_name)))
            abort ();
        count++;
    }
    closedir (d);
    if (count)
        qsort (names, count, sizeof *names, s_compare);
    int ran = 0;
    for (size_t i = 0; i < count; i++) {
        char path[4096];
        snprintf (path, sizeof path, "%s/%s", dir, names[i]);
        struct stat st;
        if (stat (path, &st) == 0 && S_ISREG (st.st_mode)) {
            if (s_run_file (path) < 0)
                ran = -1;
            else if (ran >= 0)
                ran++;
        }
        free (names[i]);
    }
    free (names);
    return ran;
}

int
main (int argc, char *argv[])
{
    if (argc < 2) {
        fprintf (stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    int total = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        int n = stat (argv[i], &st) == 0 && S_ISDIR (st.st_mode) ? s_run_dir (argv[i])
                                                                  : s_run_file (argv[i]) < 0 ? -1 : 1;
        if (n < 0)
            return 1;
        total += n;
    }
    printf ("%d inputs ran\n", total);
    return 0;
}
