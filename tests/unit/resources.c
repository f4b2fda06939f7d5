/*  resources.c - unit test of the resource model (cairn.h, "Resources").

    Reads as a tour of the API: the text form and its canonical output,
    exact milli-cpu arithmetic, port ranges that merge on add and split on
    subtract, the failures (with the sentence cairn_strerror_last gives)
    and the ownership rules.                                              */
#include <errno.h>
#include <math.h>

#include "cairn.h"
#include "tap.h"

/*  Parses `text` and checks that formatting gives `want`.                */
static void
check_format (const char *text, const char *want)
{
    cairn_resources_t *r = cairn_resources_parse (text);
    ok (r != NULL, "parse '%s'%s%s", text, r ? "" : ": ", r ? "" : cairn_strerror_last ());
    char *s = r ? cairn_resources_format (r) : NULL;
    is (s, want, "'%s' formats as '%s'", text, want);
    /*  The canonical form parses back to the same value.                  */
    cairn_resources_t *back = s ? cairn_resources_parse (s) : NULL;
    ok (back && cairn_resources_equal (r, back), "'%s' parses back to an equal value", want);
    cairn_resources_destroy (&back);
    free (s);
    cairn_resources_destroy (&r);
}

/*  Checks that `text` is refused with EINVAL and a sentence holding
    `why`.                                                                */
static void
check_refused (const char *text, const char *why)
{
    errno = 0;
    cairn_resources_t *r = cairn_resources_parse (text);
    int err = errno;
    ok (r == NULL, "'%s' is refused", text);
    cmp_int (err, EINVAL, "... with EINVAL");
    const char *msg = cairn_strerror_last ();
    ok (strstr (msg, why) != NULL, "... because '%s' (got '%s')", why, msg);
    cairn_resources_destroy (&r);
}

/*  The port ranges of r as text "b-e,b-e" into buf.                      */
static const char *
ranges_text (const cairn_resources_t *r, char *buf, size_t size)
{
    size_t n = 0, len = 0;
    const uint16_t *ranges = cairn_resources_port_ranges (r, &n);
    buf[0] = '\0';
    for (size_t i = 0; i < n && len < size; i++)
        len += (size_t) snprintf (buf + len, size - len, "%s%u-%u", i ? "," : "",
                                  ranges[2 * i], ranges[2 * i + 1]);
    return buf;
}

static void
test_parse_and_format (void)
{
    diag ("parsing and the canonical text form");
    cairn_resources_t *r = cairn_resources_parse ("cpus:2;mem:1024;disk:100;ports:[31000-32000]");
    ok (r != NULL, "parse the documented example");
    cmp_int (cairn_resources_millicpus (r), 2000, "cpus:2 is 2000 milli-cpus");
    ok (cairn_resources_cpus (r) == 2.0, "cairn_resources_cpus gives 2.0");
    cmp_int (cairn_resources_mem (r), 1024, "mem is 1024 MiB");
    cmp_int (cairn_resources_disk (r), 100, "disk is 100 MiB");
    cmp_int (cairn_resources_port_count (r), 1001, "31000-32000 is 1001 ports");
    size_t n = 0;
    const uint16_t *ranges = cairn_resources_port_ranges (r, &n);
    ok (n == 1 && ranges[0] == 31000 && ranges[1] == 32000, "one range 31000-32000");
    ok (!cairn_resources_is_empty (r), "not empty");
    cairn_resources_destroy (&r);
    ok (r == NULL, "destroy sets the pointer to NULL");

    /*  Canonical order, whatever the input order and spacing.             */
    check_format ("cpus:2;mem:1024;disk:100;ports:[31000-32000]",
                  "cpus:2;mem:1024;disk:100;ports:[31000-32000]");
    check_format ("ports:[31000-32000];disk:100;mem:1024;cpus:2",
                  "cpus:2;mem:1024;disk:100;ports:[31000-32000]");
    check_format ("  mem : 1024 ;\tcpus:2 ; ports: [ 31000 - 32000 ] ;disk:100  ",
                  "cpus:2;mem:1024;disk:100;ports:[31000-32000]");
    check_format ("mem:1024;cpus:2;", "cpus:2;mem:1024");
    /*  Items left out are zero or empty.                                   */
    check_format ("mem:64", "cpus:0;mem:64");
    check_format ("", "cpus:0;mem:0");
    check_format ("ports:[]", "cpus:0;mem:0");
    check_format ("ports:[8080]", "cpus:0;mem:0;ports:[8080-8080]");
    /*  Ranges come out sorted; touching ranges are merged.                */
    check_format ("ports:[32000,31000-31009]", "cpus:0;mem:0;ports:[31000-31009,32000-32000]");
    check_format ("ports:[1-10,11-20,22]", "cpus:0;mem:0;ports:[1-20,22-22]");
    check_format ("ports:[1-65535]", "cpus:0;mem:0;ports:[1-65535]");
    /*  cpus: up to three decimals, trailing zeros trimmed.                */
    check_format ("cpus:0.5", "cpus:0.5;mem:0");
    check_format ("cpus:0.50", "cpus:0.5;mem:0");
    check_format ("cpus:0.250", "cpus:0.25;mem:0");
    check_format ("cpus:0.05", "cpus:0.05;mem:0");
    check_format ("cpus:0.001", "cpus:0.001;mem:0");
    check_format ("cpus:1.125", "cpus:1.125;mem:0");
    check_format ("cpus:12.0", "cpus:12;mem:0");
    check_format ("cpus:1000000", "cpus:1000000;mem:0");
    check_format ("mem:1099511627776", "cpus:0;mem:1099511627776");

    r = cairn_resources_parse ("cpus:0.5");
    cmp_int (cairn_resources_millicpus (r), 500, "cpus:0.5 is 500 milli-cpus");
    ok (cairn_resources_cpus (r) == 0.5, "and 0.5 cpus");
    cairn_resources_destroy (&r);

    r = cairn_resources_new ();
    ok (r && cairn_resources_is_empty (r), "a new set is empty");
    char *s = cairn_resources_format (r);
    is (s, "cpus:0;mem:0", "and formats as cpus:0;mem:0");
    free (s);
    cairn_resources_destroy (&r);
}

static void
test_exact_cpus (void)
{
    diag ("cpus are exact in milli-cpus");
    cairn_resources_t *a = cairn_resources_parse ("cpus:0.1");
    cairn_resources_t *b = cairn_resources_parse ("cpus:0.2");
    cairn_resources_t *c = cairn_resources_parse ("cpus:0.3");
    ok (cairn_resources_add (a, b) == 0, "0.1 + 0.2");
    ok (cairn_resources_equal (a, c), "0.1 + 0.2 == 0.3");
    cmp_int (cairn_resources_millicpus (a), 300, "is 300 milli-cpus");
    ok (cairn_resources_subtract (a, c) == 0 && cairn_resources_is_empty (a),
        "0.1 + 0.2 - 0.3 is empty");
    cairn_resources_destroy (&a);
    cairn_resources_destroy (&b);
    cairn_resources_destroy (&c);

    /*  Ten times 0.1 is exactly 1.                                         */
    cairn_resources_t *sum = cairn_resources_new ();
    cairn_resources_t *tenth = cairn_resources_parse ("cpus:0.1");
    for (int i = 0; i < 10; i++)
        cairn_resources_add (sum, tenth);
    cmp_int (cairn_resources_millicpus (sum), 1000, "ten times 0.1 cpus is 1000 milli-cpus");
    char *s = cairn_resources_format (sum);
    is (s, "cpus:1;mem:0", "and formats as cpus:1");
    free (s);
    cairn_resources_destroy (&sum);
    cairn_resources_destroy (&tenth);

    check_refused ("cpus:0.1234", "three decimals");
    check_refused ("cpus:1.0000", "three decimals");
}

static void
test_refusals (void)
{
    diag ("malformed text is refused with a reason");
    check_refused ("gpus:1", "unknown resource 'gpus'");
    check_refused ("cpus:1;mem:2;cpus:1", "'cpus' is given twice");
    check_refused ("mem:1;mem:1", "'mem' is given twice");
    check_refused ("disk:1;disk:2", "'disk' is given twice");
    check_refused ("ports:[1];ports:[2]", "'ports' is given twice");
    check_refused ("cpus:abc", "expected a number");
    check_refused ("cpus:-1", "expected a number");
    check_refused ("cpus:.5", "expected a number");
    check_refused ("cpus:1.", "expected digits after '.'");
    check_refused ("mem:", "expected a number");
    check_refused ("mem:1.5", "expected ';'");
    check_refused ("ports:[0-10]", "range 0-10 is not valid");
    check_refused ("ports:[0]", "range 0-0 is not valid");
    check_refused ("ports:[65536]", "larger than 65535");
    check_refused ("ports:[1-70000]", "larger than 65535");
    check_refused ("ports:[200-100]", "range 200-100 is not valid");
    check_refused ("ports:[1-10,5-20]", "range 5-20 overlaps");
    check_refused ("ports:[5,5]", "range 5-5 overlaps");
    check_refused ("ports:[31000-32000", "']'");
    check_refused ("ports:[1,2", "']'");
    check_refused ("ports:31000-32000", "expected '['");
    check_refused ("ports:[1,]", "expected a number");
    check_refused ("cpus:2x", "expected ';'");
    check_refused ("cpus:2;mem:1024 junk", "expected ';'");
    check_refused ("cpus:2 mem:1", "expected ';'");
    check_refused ("cpus", "expected NAME:VALUE");
    check_refused ("cpus:1;;mem:1", "expected NAME:VALUE");
    check_refused (":1", "expected NAME:VALUE");
    /*  Overflow: values past the limits are refused, never wrapped.       */
    check_refused ("mem:1099511627777", "larger than");
    check_refused ("mem:99999999999999999999999999", "larger than");
    check_refused ("disk:18446744073709551617", "larger than");
    check_refused ("cpus:1000001", "larger than");
    check_refused ("cpus:1000000.001", "too large");
    check_refused ("cpus:99999999999999999999.5", "larger than");

    errno = 0;
    ok (cairn_resources_parse (NULL) == NULL && errno == EINVAL, "parse (NULL) is EINVAL");
}

static void
test_arithmetic (void)
{
    char buf[256];
    diag ("add, subtract, contains, equal");
    cairn_resources_t *agent = cairn_resources_parse ("cpus:4;mem:8192;disk:1000;ports:[31000-31009]");
    cairn_resources_t *task = cairn_resources_parse ("cpus:1.5;mem:1024;disk:10;ports:[31005]");
    ok (cairn_resources_contains (agent, task), "the agent has room for the task");
    ok (!cairn_resources_contains (task, agent), "the task does not contain the agent");
    ok (cairn_resources_subtract (agent, task) == 0, "subtract the task");
    char *s = cairn_resources_format (agent);
    is (s, "cpus:2.5;mem:7168;disk:990;ports:[31000-31004,31006-31009]",
        "taking a port from the middle splits the range");
    free (s);
    ok (!cairn_resources_contains (agent, task), "port 31005 is no longer there");
    ok (cairn_resources_add (agent, task) == 0, "give the task's resources back");
    s = cairn_resources_format (agent);
    is (s, "cpus:4;mem:8192;disk:1000;ports:[31000-31009]", "the ranges merge again");
    free (s);
    cmp_int (cairn_resources_port_count (agent), 10, "10 ports");

    /*  A failed subtract leaves self unchanged.                            */
    cairn_resources_t *before = cairn_resources_dup (agent);
    cairn_resources_t *big = cairn_resources_parse ("cpus:5");
    errno = 0;
    ok (cairn_resources_subtract (agent, big) == -1 && errno == ERANGE,
        "subtracting more cpus than there are is ERANGE");
    ok (strstr (cairn_strerror_last (), "not all available") != NULL, "... with a reason ('%s')",
        cairn_strerror_last ());
    ok (cairn_resources_equal (agent, before), "... and leaves self unchanged");
    cairn_resources_destroy (&big);
    struct {
        const char *text, *why;
    } not_contained[] = {
        { "mem:8193", "more mem" },
        { "disk:1001", "more disk" },
        { "cpus:1;ports:[31010]", "a port just past the end (cpus fit)" },
        { "ports:[30999-31000]", "a range that starts before" },
        { "ports:[31000-31009,40000]", "one port out of two that is missing" },
        { "cpus:4;mem:8192;disk:1000;ports:[31000-31010]", "everything plus one port" },
    };
    for (size_t i = 0; i < sizeof not_contained / sizeof not_contained[0]; i++) {
        cairn_resources_t *x = cairn_resources_parse (not_contained[i].text);
        ok (!cairn_resources_contains (agent, x), "not contained: %s", not_contained[i].why);
        errno = 0;
        ok (cairn_resources_subtract (agent, x) == -1 && errno == ERANGE,
            "... subtract is ERANGE");
        ok (cairn_resources_equal (agent, before), "... and self is unchanged");
        cairn_resources_destroy (&x);
    }
    cairn_resources_destroy (&before);

    /*  Contained: the whole, the empty set, sub-ranges at both ends.      */
    cairn_resources_t *empty = cairn_resources_new ();
    ok (cairn_resources_contains (agent, agent), "a set contains itself");
    ok (cairn_resources_contains (agent, empty), "a set contains the empty set");
    ok (cairn_resources_contains (empty, empty), "the empty set contains itself");
    ok (!cairn_resources_contains (empty, agent), "the empty set does not contain the agent");
    cairn_resources_t *ends = cairn_resources_parse ("ports:[31000,31009]");
    ok (cairn_resources_contains (agent, ends), "the first and last port are contained");
    ok (cairn_resources_subtract (agent, ends) == 0, "subtract the first and last port");
    is (ranges_text (agent, buf, sizeof buf), "31001-31008", "the range shrinks at both ends");
    cairn_resources_destroy (&ends);

    /*  Overlapping ranges merge through add.                               */
    cairn_resources_t *a = cairn_resources_parse ("ports:[100-200,300-400]");
    cairn_resources_t *b = cairn_resources_parse ("ports:[150-350,500]");
    ok (cairn_resources_add (a, b) == 0, "add overlapping ranges");
    is (ranges_text (a, buf, sizeof buf), "100-400,500-500", "they merge");
    cmp_int (cairn_resources_port_count (a), 302, "302 ports");
    cairn_resources_destroy (&b);
    b = cairn_resources_parse ("ports:[401-499]");
    ok (cairn_resources_add (a, b) == 0, "add the gap between two ranges");
    is (ranges_text (a, buf, sizeof buf), "100-500", "all three become one");
    cairn_resources_destroy (&b);
    b = cairn_resources_parse ("ports:[1-99,501-65535]");
    cairn_resources_add (a, b);
    is (ranges_text (a, buf, sizeof buf), "1-65535", "every port");
    cmp_int (cairn_resources_port_count (a), 65535, "65535 ports");
    /*  And split on subtract.                                              */
    cairn_resources_destroy (&b);
    b = cairn_resources_parse ("ports:[1,80,443,65535]");
    ok (cairn_resources_subtract (a, b) == 0, "subtract four single ports");
    is (ranges_text (a, buf, sizeof buf), "2-79,81-442,444-65534", "three ranges remain");
    cairn_resources_destroy (&b);
    cairn_resources_destroy (&a);

    /*  add_ports.                                                          */
    a = cairn_resources_new ();
    ok (cairn_resources_add_ports (a, 10, 20) == 0, "add_ports 10-20");
    ok (cairn_resources_add_ports (a, 30, 40) == 0, "add_ports 30-40");
    ok (cairn_resources_add_ports (a, 21, 29) == 0, "add_ports 21-29 (touches both)");
    is (ranges_text (a, buf, sizeof buf), "10-40", "merged into one range");
    ok (cairn_resources_add_ports (a, 5, 50) == 0, "add_ports 5-50 (covers it)");
    is (ranges_text (a, buf, sizeof buf), "5-50", "one range 5-50");
    errno = 0;
    ok (cairn_resources_add_ports (a, 0, 10) == -1 && errno == EINVAL, "add_ports 0-10 is EINVAL");
    errno = 0;
    ok (cairn_resources_add_ports (a, 20, 10) == -1 && errno == EINVAL, "add_ports 20-10 is EINVAL");
    is (ranges_text (a, buf, sizeof buf), "5-50", "failed calls change nothing");
    cairn_resources_destroy (&a);

    /*  equal and is_empty.                                                 */
    a = cairn_resources_parse ("ports:[1-10];cpus:1");
    b = cairn_resources_parse ("cpus:1.000;ports:[1-5,6-10]");
    ok (cairn_resources_equal (a, b), "equal: same value, different spelling");
    cairn_resources_add_ports (b, 12, 12);
    ok (!cairn_resources_equal (a, b), "not equal: one more port");
    ok (cairn_resources_equal (NULL, NULL), "NULL equals NULL");
    ok (!cairn_resources_equal (a, NULL), "a set does not equal NULL");
    ok (cairn_resources_is_empty (NULL), "NULL is empty");
    cairn_resources_destroy (&a);
    cairn_resources_destroy (&b);
    a = cairn_resources_parse ("disk:1");
    ok (!cairn_resources_is_empty (a), "disk:1 is not empty");
    cairn_resources_destroy (&a);
    a = cairn_resources_parse ("ports:[7]");
    ok (!cairn_resources_is_empty (a), "one port is not empty");
    cairn_resources_destroy (&a);

    /*  Subtracting a set from itself (the same object) leaves nothing.    */
    a = cairn_resources_parse ("cpus:1;mem:2;ports:[1-2,4-5,7-8]");
    ok (cairn_resources_subtract (a, a) == 0, "subtract a set from itself");
    s = cairn_resources_format (a);
    is (s, "cpus:0;mem:0", "nothing is left, ports included");
    free (s);
    cairn_resources_destroy (&a);
    /*  And adding a set to itself doubles it.                              */
    a = cairn_resources_parse ("cpus:1.5;mem:2;ports:[1-2,4-5]");
    ok (cairn_resources_add (a, a) == 0, "add a set to itself");
    s = cairn_resources_format (a);
    is (s, "cpus:3;mem:4;ports:[1-2,4-5]", "scalars double, ports stay");
    free (s);
    cairn_resources_destroy (&a);

    /*  Sums past the limits are refused.                                   */
    a = cairn_resources_parse ("cpus:1000000;mem:1099511627776");
    b = cairn_resources_parse ("cpus:0.001");
    errno = 0;
    ok (cairn_resources_add (a, b) == -1 && errno == ERANGE, "a million and one milli-cpu is ERANGE");
    cmp_int (cairn_resources_millicpus (a), 1000000000, "... and self is unchanged");
    cairn_resources_destroy (&b);
    b = cairn_resources_parse ("mem:1");
    ok (cairn_resources_add (a, b) == -1 && errno == ERANGE, "mem past 1 EiB is ERANGE");
    cairn_resources_destroy (&b);
    cairn_resources_destroy (&a);

    cairn_resources_destroy (&empty);
    cairn_resources_destroy (&task);
    cairn_resources_destroy (&agent);
}

static void
test_take_ports (void)
{
    char buf[256];
    diag ("take_ports");
    cairn_resources_t *r = cairn_resources_parse ("ports:[31000-31001,31005-31006,31010]");
    uint16_t ports[8] = { 0 };
    ok (cairn_resources_take_ports (r, 3, ports) == 0, "take 3 ports");
    ok (ports[0] == 31000 && ports[1] == 31001 && ports[2] == 31005,
        "lowest first, across ranges: %u %u %u", ports[0], ports[1], ports[2]);
    is (ranges_text (r, buf, sizeof buf), "31006-31006,31010-31010", "they are removed");
    cmp_int (cairn_resources_port_count (r), 2, "2 ports left");
    memset (ports, 0, sizeof ports);
    errno = 0;
    ok (cairn_resources_take_ports (r, 3, ports) == -1 && errno == ERANGE,
        "taking 3 of 2 is ERANGE");
    ok (strstr (cairn_strerror_last (), "3 ports asked for, 2 available") != NULL,
        "... with a reason ('%s')", cairn_strerror_last ());
    ok (ports[0] == 0 && cairn_resources_port_count (r) == 2, "... and takes nothing");
    ok (cairn_resources_take_ports (r, 0, NULL) == 0, "taking 0 ports is fine");
    ok (cairn_resources_take_ports (r, 2, ports) == 0, "take the last 2");
    ok (ports[0] == 31006 && ports[1] == 31010, "31006 and 31010");
    ok (cairn_resources_is_empty (r), "now empty");
    cairn_resources_destroy (&r);
}

/*  "ports:[1,3,5,...]": n single ports with gaps, then `tail`.            */
static char *
many_ports (int n, const char *tail)
{
    char *text = malloc ((size_t) n * 8 + strlen (tail) + 16);
    size_t len = (size_t) sprintf (text, "ports:[");
    for (int i = 0; i < n; i++)
        len += (size_t) sprintf (text + len, "%s%d", i ? "," : "", 2 * i + 1);
    sprintf (text + len, "%s]", tail);
    return text;
}

static void
test_range_limit (void)
{
    diag ("at most 1024 port ranges");
    char *text = many_ports (1024, "");
    cairn_resources_t *full = cairn_resources_parse (text);
    ok (full != NULL, "1024 ranges parse");
    cmp_int (cairn_resources_port_count (full), 1024, "1024 ports");
    free (text);
    text = many_ports (1025, "");
    ok (cairn_resources_parse (text) == NULL && errno == EINVAL, "1025 ranges are refused");
    ok (strstr (cairn_strerror_last (), "more than 1024 port ranges") != NULL, "... with a reason ('%s')",
        cairn_strerror_last ());
    free (text);
    errno = 0;
    ok (cairn_resources_add_ports (full, 5000, 5000) == -1 && errno == EINVAL,
        "add_ports of a 1025th range is EINVAL");
    cmp_int (cairn_resources_port_count (full), 1024, "... and adds nothing");

    /*  The limit is on the result: what merges into a full set fits.      */
    int rc = cairn_resources_add_ports (full, 2, 2);
    ok (rc == 0, "add_ports joining two ranges of a full set (1024 -> 1023 ranges)%s%s",
        rc ? ": " : "", rc ? cairn_strerror_last () : "");
    cairn_resources_destroy (&full);
    text = many_ports (600, "");
    cairn_resources_t *a = cairn_resources_parse (text);
    cairn_resources_t *b = cairn_resources_dup (a);
    rc = cairn_resources_add (a, b);
    ok (rc == 0, "adding 600 ranges to the same 600 ranges (the union is 600)%s%s",
        rc ? ": " : "", rc ? cairn_strerror_last () : "");
    cmp_int (cairn_resources_port_count (a), 600, "... 600 ports");
    cairn_resources_destroy (&a);
    cairn_resources_destroy (&b);
    free (text);

    /*  A subtract that splits a range of a full set would make 1025
        ranges: it must either be refused (self unchanged) or leave a set
        that still formats and parses back.                                */
    text = many_ports (1023, ",3000-3010");
    full = cairn_resources_parse (text);
    free (text);
    cairn_resources_t *before = cairn_resources_dup (full);
    cairn_resources_t *middle = cairn_resources_parse ("ports:[3005]");
    rc = cairn_resources_subtract (full, middle);
    size_t nranges = 0;
    cairn_resources_port_ranges (full, &nranges);
    if (rc == 0) {
        char *s = cairn_resources_format (full);
        cairn_resources_t *back = cairn_resources_parse (s);
        ok (back != NULL, "splitting a range of a full set leaves %zu ranges, which parse back%s%s",
            nranges, back ? "" : ": ", back ? "" : cairn_strerror_last ());
        cairn_resources_destroy (&back);
        free (s);
    }
    else
        ok (errno == ERANGE && cairn_resources_equal (full, before),
            "splitting a range of a full set is ERANGE and changes nothing");
    cairn_resources_destroy (&middle);
    cairn_resources_destroy (&before);
    cairn_resources_destroy (&full);
}

static void
test_setters (void)
{
    diag ("setters and set_cpus rounding");
    cairn_resources_t *r = cairn_resources_new ();
    struct {
        double cpus;
        int64_t milli;
    } rounding[] = {
        { 0.0, 0 }, { 0.1, 100 }, { 0.3, 300 }, { 1.0 / 3.0, 333 }, { 2.0 / 3.0, 667 },
        { 0.0004, 0 }, { 0.0006, 1 }, { 2.9999, 3000 }, { 1.2344, 1234 },
        { 1000000.0, 1000000000 },
    };
    for (size_t i = 0; i < sizeof rounding / sizeof rounding[0]; i++) {
        ok (cairn_resources_set_cpus (r, rounding[i].cpus) == 0, "set_cpus (%g)", rounding[i].cpus);
        cmp_int (cairn_resources_millicpus (r), rounding[i].milli, "... rounds to %" PRId64
                 " milli-cpus", rounding[i].milli);
    }
    ok (cairn_resources_set_cpus (r, 0.7) == 0 && cairn_resources_cpus (r) == 0.7,
        "set_cpus (0.7) reads back as 0.7");
    double bad[] = { -0.001, -1.0, 1000000.001, NAN, INFINITY, -INFINITY };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        ok (cairn_resources_set_cpus (r, bad[i]) == -1 && errno == EINVAL, "set_cpus (%g) is EINVAL",
            bad[i]);
    }
    cmp_int (cairn_resources_millicpus (r), 700, "refused values change nothing");
    ok (cairn_resources_set_millicpus (r, 1) == 0, "set_millicpus (1)");
    char *s = cairn_resources_format (r);
    is (s, "cpus:0.001;mem:0", "formats as cpus:0.001");
    free (s);
    errno = 0;
    ok (cairn_resources_set_millicpus (r, -1) == -1 && errno == EINVAL, "set_millicpus (-1) is EINVAL");
    ok (cairn_resources_set_millicpus (r, 1000000001) == -1, "set_millicpus past a million cpus");
    ok (cairn_resources_set_mem (r, 1ULL << 40) == 0, "set_mem (1 EiB)");
    ok (cairn_resources_set_mem (r, (1ULL << 40) + 1) == -1 && errno == EINVAL, "set_mem past 1 EiB");
    ok (cairn_resources_set_disk (r, 5) == 0 && cairn_resources_disk (r) == 5, "set_disk (5)");
    ok (cairn_resources_set_disk (r, UINT64_MAX) == -1 && errno == EINVAL, "set_disk (UINT64_MAX)");
    cmp_int (cairn_resources_mem (r), 1ULL << 40, "mem unchanged by the refused call");
    cairn_resources_destroy (&r);
}

static void
test_ownership (void)
{
    diag ("dup, destroy and NULL");
    cairn_resources_t *r = cairn_resources_parse ("cpus:1;ports:[1-3]");
    cairn_resources_t *copy = cairn_resources_dup (r);
    ok (copy && copy != r && cairn_resources_equal (r, copy), "dup gives an equal copy");
    cairn_resources_add_ports (copy, 10, 10);
    cmp_int (cairn_resources_port_count (r), 3, "changing the copy leaves the original");
    cairn_resources_t *e = cairn_resources_new ();
    cairn_resources_t *ecopy = cairn_resources_dup (e);
    ok (ecopy && cairn_resources_is_empty (ecopy), "dup of an empty set");
    ok (cairn_resources_dup (NULL) == NULL, "dup (NULL) is NULL");
    cairn_resources_destroy (&r);
    cairn_resources_destroy (&r);
    ok (r == NULL, "destroy twice is harmless");
    cairn_resources_destroy (NULL);
    ok (true, "destroy (NULL) is harmless");
    ok (cairn_resources_format (NULL) == NULL, "format (NULL) is NULL");
    cmp_int (cairn_resources_millicpus (NULL), 0, "getters accept NULL");
    cmp_int (cairn_resources_port_count (NULL), 0, "port_count (NULL) is 0");
    size_t n = 99;
    ok (cairn_resources_port_ranges (NULL, &n) == NULL && n == 0, "port_ranges (NULL)");
    ok (cairn_resources_add (NULL, e) == -1 && errno == EINVAL, "add to NULL is EINVAL");
    ok (cairn_resources_subtract (e, NULL) == -1 && errno == EINVAL, "subtract NULL is EINVAL");
    ok (!cairn_resources_contains (e, NULL), "contains (x, NULL) is false");
    ok (cairn_resources_take_ports (NULL, 1, NULL) == -1 && errno == EINVAL, "take_ports (NULL)");
    ok (cairn_resources_set_cpus (NULL, 1.0) == -1 && errno == EINVAL, "set_cpus (NULL)");
    cairn_resources_destroy (&copy);
    cairn_resources_destroy (&ecopy);
    cairn_resources_destroy (&e);
}

int
main (void)
{
    test_parse_and_format ();
    test_exact_cpus ();
    test_refusals ();
    test_arithmetic ();
    test_take_ports ();
    test_range_limit ();
    test_setters ();
    test_ownership ();
    return done_testing ();
}
