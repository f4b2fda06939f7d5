/*  app.c - fuzz harness for cairn-service's app definitions
    (frameworks/service/app.h).

    Input: the JSON a user submits. A definition that is accepted must
    give a normalized document that is accepted again as the same
    version, and the task that runs an instance of it must build.         */
#include "config.h"

#include <string.h>

#include "app.h"
#include "cairn.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    jcheck_error_t err = { 0 };
    json_t *doc = jcheck_load ((const char *) data, size, &err);
    if (!doc) {
        FUZZ_CHECK (err.message != NULL, "a load error says why");
        jcheck_error_clear (&err);
        return 0;
    }
    app_spec_t *spec = app_spec_parse (doc, 1, &err);
    json_decref (doc);
    if (!spec) {
        FUZZ_CHECK (err.message && err.field, "a refused definition says why and where");
        jcheck_error_clear (&err);
        return 0;
    }
    json_t *norm = app_spec_doc (spec, spec->instances);
    char *text = json_dumps (norm, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref (norm);
    FUZZ_CHECK (text != NULL, "the normalized definition prints");
    app_spec_t *again = app_spec_load (text, &err);
    if (!again)
        fprintf (stderr, "fuzz: %s: %s\n", text, err.message);
    FUZZ_CHECK (again != NULL, "the normalized definition loads");
    FUZZ_CHECK (app_spec_same (spec, again), "as the same version");
    FUZZ_CHECK (again->instances == spec->instances, "with as many instances");

    uint16_t ports[APP_MAX_PORTS];
    size_t nports = spec->ports > 0 && spec->ports <= APP_MAX_PORTS ? (size_t) spec->ports : 0;
    for (size_t i = 0; i < nports; i++)
        ports[i] = (uint16_t) (31000 + i);
    cairn_task_t *task = app_spec_task (spec, "fuzz-app.1", 1, ports, nports);
    if (!task)
        fprintf (stderr, "fuzz: %s: %s\n", text, cairn_strerror_last ());
    FUZZ_CHECK (task != NULL, "an accepted definition gives a task");
    cairn_task_destroy (&task);
    free (text);
    app_spec_destroy (&again);
    app_spec_destroy (&spec);
    return 0;
}
