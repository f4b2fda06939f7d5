# tests/security.mk - the security tests (issue 10): credentials on the
# HTTP API and the ZeroMQ links, authorization, limits. Real daemons on
# 127.0.0.1 (tests/lib.sh).

SECURITY_TESTS = tests/integration/security-http.sh tests/integration/security-curve.sh \
	tests/integration/security-tasks.sh tests/integration/security-limits.sh
TESTS += $(SECURITY_TESTS)
EXTRA_DIST += $(SECURITY_TESTS)

# A peer that floods the master or holds many connections (limits).
check_PROGRAMS += tests/tools/cairn-flood
tests_tools_cairn_flood_SOURCES = tests/tools/cairn-flood.c
tests_tools_cairn_flood_CFLAGS = $(TEST_UNIT_CFLAGS)
tests_tools_cairn_flood_LDADD = $(TEST_UNIT_LIBS)

# The master's ACL rules (master/acl.h).
check_PROGRAMS += tests/unit/acl
TESTS += tests/unit/acl
tests_unit_acl_SOURCES = tests/unit/acl.c
tests_unit_acl_CFLAGS = $(TEST_UNIT_CFLAGS) -I$(top_srcdir)/master
tests_unit_acl_LDADD = master/libmaster.la $(TEST_UNIT_LIBS)
