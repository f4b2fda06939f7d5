/*  zk.c - ZooKeeper URLs (zk.h); the election itself is tested against a
    real ensemble by tests/integration/ha-*.sh.                            */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cairn.h"
#include "error.h"
#include "tap.h"
#include "zk.h"

static void
s_good (const char *url, const char *hosts, const char *path)
{
    char *h = NULL, *p = NULL;
    int rc = zk_url_parse (url, &h, &p);
    ok (rc == 0 && h && strcmp (h, hosts) == 0 && p && strcmp (p, path) == 0,
        "%s: hosts '%s', path '%s' (got %s, %s)", url, hosts, path, h ? h : "-", p ? p : "-");
    free (h);
    free (p);
}

static void
s_bad (const char *url, const char *why)
{
    char *h = NULL, *p = NULL;
    errno = 0;
    int rc = zk_url_parse (url, &h, &p);
    const char *text = cairn_strerror_last ();
    ok (rc == -1 && errno == EINVAL && strstr (text, why) && !h && !p,
        "'%s' is refused: %s (%s)", url, why, text);
}

int
main (void)
{
    ok (zk_url_is ("zk://h:1/p"), "zk:// is a ZooKeeper URL");
    ok (!zk_url_is ("127.0.0.1:5050") && !zk_url_is (NULL) && !zk_url_is ("zk:/h:1/p"),
        "HOST:PORT, NULL and zk:/ are not");
    s_good ("zk://127.0.0.1:2181/cairn", "127.0.0.1:2181", "/cairn");
    s_good ("zk://a:1,b:2,c:3/clusters/prod/", "a:1,b:2,c:3", "/clusters/prod");
    s_good ("zk://[::1]:2181/x", "[::1]:2181", "/x");
    s_bad ("127.0.0.1:2181/cairn", "is not a ZooKeeper URL");
    s_bad ("zk://127.0.0.1:2181", "names no path");
    s_bad ("zk://127.0.0.1:2181/", "names no path");
    s_bad ("zk:///cairn", "names no ZooKeeper server");
    s_bad ("zk://127.0.0.1/cairn", "'127.0.0.1' is not HOST:PORT");
    s_bad ("zk://a:1,b:99999/cairn", "'b:99999' is not HOST:PORT");
    s_bad ("zk://a:1,,b:2/cairn", "'' is not HOST:PORT");
    s_bad ("zk://a:1/x//y", "empty component");
    char *v = zk_find_leader ("zk://127.0.0.1:1/nothing", "http", 300);
    ok (!v && errno == ETIMEDOUT && strstr (cairn_strerror_last (), "no ZooKeeper server answered"),
        "no ensemble: zk_find_leader times out and says so (%s)", cairn_strerror_last ());
    done_testing ();
}
