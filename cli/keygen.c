/*  keygen.c - cairn keygen: a CURVE key pair for the master, an agent, a
    framework or an operator's CLI.

        cairn keygen --out=DIR --name=NAME [--principal=P] [--force]

    Writes DIR/NAME.key (the public key, for the master's allow directory
    or, for the master's own pair, for its clients) and DIR/NAME.key_secret
    (both keys, mode 0600), in CZMQ's zcert format. The principal (default
    NAME) is stored as the certificate's "principal" metadata: the master
    binds the key to it.                                                  */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <czmq.h>

#include "cairn.h"
#include "cli.h"
#include "error.h"
#include "flags.h"
#include "util.h"

static char *s_out, *s_name, *s_principal;
static bool s_force;

static const flag_t s_flags[] = {
    { "out", FLAG_STRING, &s_out, ".", "DIR", "Directory to write the key files to.", 0, 0 },
    { "name", FLAG_STRING, &s_name, NULL, "NAME",
      "Base name of the files: NAME.key and NAME.key_secret (required).", 0, 0 },
    { "principal", FLAG_STRING, &s_principal, NULL, "PRINCIPAL",
      "The principal the master binds the key to (default: NAME).", 0, 0 },
    { "force", FLAG_BOOL, &s_force, NULL, NULL, "Overwrite existing key files.", 0, 0 },
};
static const flags_spec_t s_spec = {
    "cairn keygen", NULL,
    "Write a CURVE key pair: NAME.key (public) and NAME.key_secret (private, mode 0600).",
    "--name=NAME [--out=DIR] [--principal=P] [--force]", s_flags,
    sizeof s_flags / sizeof s_flags[0],
};

/*  Names and principals go into file names and logs: keep them plain.    */
static bool
s_plain (const char *s)
{
    if (!*s || strlen (s) > 128)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
              || strchr ("._@-", *p)))
            return false;
    return s[0] != '.';
}

int
cli_cmd_keygen (int argc, char **argv)
{
    int argi = 0;
    int rc = flags_parse_permuted (&s_spec, argc, argv, &argi);
    if (rc != 0)
        return rc < 0 ? CLI_USAGE : 0;
    char *pub = NULL, *secret = NULL;
    zcert_t *cert = NULL;
    rc = CLI_USAGE;
    if (argi < argc) {
        fprintf (stderr, "cairn keygen: unexpected argument '%s'\n", argv[argi]);
        goto done;
    }
    if (!s_name || !s_plain (s_name)) {
        fprintf (stderr, "cairn keygen: --name=NAME is required: 1-128 of A-Z a-z 0-9 . _ @ -, "
                 "not starting with a dot\n");
        goto done;
    }
    const char *principal = s_principal && *s_principal ? s_principal : s_name;
    if (!s_plain (principal)) {
        fprintf (stderr, "cairn keygen: --principal: '%s' is not 1-128 of A-Z a-z 0-9 . _ @ -\n",
                 principal);
        goto done;
    }
    rc = CLI_FAILED;
    if (util_mkdir_p (s_out, 0755) < 0) {
        fprintf (stderr, "cairn keygen: %s\n", cairn_strerror_last ());
        goto done;
    }
    pub = xasprintf ("%s/%s.key", s_out, s_name);
    secret = xasprintf ("%s/%s.key_secret", s_out, s_name);
    if (!s_force && (access (pub, F_OK) == 0 || access (secret, F_OK) == 0)) {
        fprintf (stderr, "cairn keygen: %s or %s exists already (--force replaces them)\n", pub,
                 secret);
        goto done;
    }
    cert = zcert_new ();
    if (!cert) {
        fprintf (stderr, "cairn keygen: cannot make a key pair (is libzmq built with CURVE?)\n");
        goto done;
    }
    zcert_set_meta (cert, "principal", "%s", principal);
    zcert_set_meta (cert, "created-by", "cairn keygen");
    /*  The secret file is created private: no moment where others could
        read it.                                                          */
    mode_t old = umask (077);
    unlink (secret);
    int saved = zcert_save_secret (cert, secret);
    umask (old);
    if (saved < 0 || chmod (secret, 0600) < 0 || zcert_save_public (cert, pub) < 0
        || chmod (pub, 0644) < 0) {
        fprintf (stderr, "cairn keygen: cannot write %s and %s: %s\n", pub, secret,
                 strerror (errno));
        goto done;
    }
    printf ("%s\n%s\n", pub, secret);
    rc = 0;
done:
    zcert_destroy (&cert);
    free (pub);
    free (secret);
    flags_free (&s_spec);
    return rc;
}
