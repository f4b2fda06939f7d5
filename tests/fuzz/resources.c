/*  resources.c - fuzz harness for the resource parser (resources.c).

    Input: the text given to cairn_resources_parse. What parses must
    format to text that parses to an equal value, and the arithmetic on
    it must keep its invariants (a + b contains a and b, (a + b) - b is a
    again, a contains itself).                                           */
#include "config.h"

#include <string.h>

#include "cairn.h"
#include "fuzz.h"
#include "resources.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *text = malloc (size + 1);
    if (!text)
        return 0;
    memcpy (text, data, size);
    text[size] = '\0';
    cairn_resources_t *r = cairn_resources_parse (text);
    free (text);
    if (!r)
        return 0;
    char *out = cairn_resources_format (r);
    FUZZ_CHECK (out != NULL, "a parsed value formats");
    cairn_resources_t *again = cairn_resources_parse (out);
    if (!again)
        fprintf (stderr, "fuzz: formatted as '%s'\n", out);
    FUZZ_CHECK (again != NULL, "its text parses");
    FUZZ_CHECK (cairn_resources_equal (r, again), "to an equal value");
    FUZZ_CHECK (cairn_resources_contains (r, r), "a value contains itself");

    /*  r + (r shifted by its own port count) and back.                    */
    cairn_resources_t *other = cairn_resources_parse ("cpus:0.5;mem:64;ports:[1-3,70-80]");
    FUZZ_CHECK (other != NULL, "the other value parses");
    cairn_resources_t *sum = cairn_resources_dup (r);
    if (cairn_resources_add (sum, other) == 0) {
        FUZZ_CHECK (cairn_resources_contains (sum, r), "a sum contains its first term");
        FUZZ_CHECK (cairn_resources_contains (sum, other), "and its second");
        FUZZ_CHECK (cairn_resources_subtract (sum, other) == 0, "a term subtracts");
        /*  Ports in both come back once only: compare without them.       */
        FUZZ_CHECK (cairn_resources_millicpus (sum) == cairn_resources_millicpus (r)
                    && cairn_resources_mem (sum) == cairn_resources_mem (r)
                    && cairn_resources_disk (sum) == cairn_resources_disk (r),
                    "to the first term's scalars");
    }
    uint64_t nports = cairn_resources_port_count (r);
    if (nports > 0 && nports <= 64) {
        uint16_t ports[64];
        cairn_resources_t *take = cairn_resources_dup (r);
        FUZZ_CHECK (cairn_resources_take_ports (take, (size_t) nports, ports) == 0,
                    "every port can be taken");
        FUZZ_CHECK (cairn_resources_port_count (take) == 0, "and then none is left");
        cairn_resources_destroy (&take);
    }
    cairn_resources_destroy (&sum);
    cairn_resources_destroy (&other);
    cairn_resources_destroy (&again);
    free (out);
    cairn_resources_destroy (&r);
    return 0;
}
