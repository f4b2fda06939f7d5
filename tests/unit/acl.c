/*  acl.c - unit test of the master's authorization rules (acl.h): what a
    file allows, what it denies and how the denial reads, absent sections,
    "ANY", unauthenticated principals, and files that must be refused.   */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acl.h"
#include "cairn.h"
#include "tap.h"

static char s_path[64];

/*  Writes text to a temporary file and loads it.                          */
static acl_t *
s_load (const char *text)
{
    snprintf (s_path, sizeof s_path, "/tmp/cairn-acl-XXXXXX");
    int fd = mkstemp (s_path);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen (fd, "w");
    fputs (text, f);
    fclose (f);
    acl_t *acl = acl_load (s_path);
    unlink (s_path);
    return acl;
}

int
main (void)
{
    char why[512];

    /*  No ACL: everything is allowed.                                     */
    ok (acl_allows (NULL, ACL_OPERATOR, NULL, "gone", why, sizeof why),
        "without an ACL everything is allowed");

    acl_t *acl = s_load (
        "{ \"register_frameworks\": [ { \"principals\": [\"svc\"], \"roles\": [\"prod\", \"*\"] },\n"
        "                             { \"principals\": \"ANY\", \"roles\": [\"dev\"] } ],\n"
        "  \"run_tasks\": [ { \"principals\": [\"svc\"], \"users\": [\"nobody\"] } ],\n"
        "  \"operator\": [ { \"principals\": [\"ops\"], \"actions\": \"ANY\" } ] }");
    ok (acl != NULL, "a valid ACL loads");
    ok (acl_allows (acl, ACL_REGISTER_FRAMEWORKS, "svc", "prod", why, sizeof why),
        "svc may register under prod");
    ok (acl_allows (acl, ACL_REGISTER_FRAMEWORKS, "svc", "*", why, sizeof why),
        "and under *");
    ok (!acl_allows (acl, ACL_REGISTER_FRAMEWORKS, "batch", "prod", why, sizeof why),
        "batch may not register under prod");
    is (why, "not authorized: no rule of the ACL's register_frameworks section lets principal "
        "'batch' register a framework under role 'prod'", "the denial names the section");
    ok (acl_allows (acl, ACL_REGISTER_FRAMEWORKS, "batch", "dev", why, sizeof why),
        "\"ANY\" principals: anyone may use dev");
    ok (acl_allows (acl, ACL_REGISTER_FRAMEWORKS, NULL, "dev", why, sizeof why),
        "even unauthenticated");
    ok (!acl_allows (acl, ACL_REGISTER_FRAMEWORKS, NULL, "prod", why, sizeof why),
        "an unauthenticated client matches only ANY");
    ok (strstr (why, "an unauthenticated client") != NULL, "and the denial says so");
    ok (acl_allows (acl, ACL_REGISTER_AGENTS, "anyone", NULL, why, sizeof why),
        "an absent section (register_agents) allows everything");
    ok (acl_allows (acl, ACL_RUN_TASKS, "svc", "nobody", why, sizeof why),
        "svc may run tasks as nobody");
    ok (!acl_allows (acl, ACL_RUN_TASKS, "svc", "root", why, sizeof why),
        "but not as root");
    ok (strstr (why, "run_tasks") && strstr (why, "'root'"), "naming run_tasks and the user");
    ok (acl_allows (acl, ACL_OPERATOR, "ops", "gone", why, sizeof why), "ops may do anything");
    ok (!acl_allows (acl, ACL_OPERATOR, "viewer", "kill", why, sizeof why),
        "viewer may not kill");
    is (acl_section_name (ACL_TEARDOWN_FRAMEWORKS), "teardown_frameworks", "section names");
    acl_destroy (&acl);
    ok (acl == NULL, "acl_destroy sets the pointer to NULL");
    acl_destroy (&acl);

    /*  An empty present section denies everything.                        */
    acl = s_load ("{ \"register_agents\": [] }");
    ok (acl && !acl_allows (acl, ACL_REGISTER_AGENTS, "a1", NULL, why, sizeof why),
        "an empty register_agents denies every agent");
    is (why, "not authorized: no rule of the ACL's register_agents section lets principal "
        "'a1' register an agent", "saying so");
    acl_destroy (&acl);

    /*  Files that must be refused, each with a sentence.                  */
    static const struct {
        const char *text, *error;
    } bad[] = {
        { "[]", "must hold a JSON object" },
        { "{ \"operators\": [] }", "unknown section 'operators'" },
        { "{ \"operator\": {} }", "operator must be a list of rules" },
        { "{ \"operator\": [ 3 ] }", "operator[0] must be an object" },
        { "{ \"operator\": [ { \"principals\": [\"a\"], \"roles\": [\"x\"] } ] }",
          "unknown key 'roles' (expected principals and actions)" },
        { "{ \"operator\": [ { \"principals\": \"SOME\", \"actions\": \"ANY\" } ] }",
          "operator[0].principals must be \"ANY\" or a list of names" },
        { "{ \"run_tasks\": [ { \"principals\": [\"\"], \"users\": \"ANY\" } ] }",
          "run_tasks[0].principals[0] must be a non-empty string" },
        { "{ \"run_tasks\": [ { \"principals\": \"ANY\" } ] }",
          "run_tasks[0].users must be" },
        { "{ \"operator\": [], \"operator\": [] }", "duplicate" },
        { "{ \"operator\": [", "ACL " },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        acl = s_load (bad[i].text);
        const char *err = cairn_strerror_last ();
        ok (acl == NULL && strstr (err, bad[i].error) != NULL, "refused: %s (%s)", bad[i].text,
            acl ? "loaded" : err);
        acl_destroy (&acl);
    }
    ok (acl_load ("/nonexistent/acl.json") == NULL, "a missing file is refused");
    done_testing ();
}
