# tests/library.mk: the framework library's tests (libcairn, its guide,
# man pages and examples). Included from tests/local.mk.

# The API test program: every call and callback of cairn.h, built like a
# scheduler (public header, libcairn only).
check_PROGRAMS += tests/tools/library-api tests/tools/library-edge
tests_tools_library_api_SOURCES = tests/tools/library-api.c
tests_tools_library_api_LDADD = libframework/libcairn.la
tests_tools_library_edge_SOURCES = tests/tools/library-edge.c
tests_tools_library_edge_LDADD = libframework/libcairn.la

LIBRARY_TESTS = \
	tests/integration/library-doc.sh \
	tests/integration/library-examples.sh \
	tests/integration/library-api.sh \
	tests/integration/library-edge.sh \
	tests/integration/library-install.sh
TESTS += $(LIBRARY_TESTS)
EXTRA_DIST += $(LIBRARY_TESTS)

# library-install.sh builds an example with a plain `cc` against the
# installed library, which a sanitizer build cannot do; it skips that part
# when this is set.
if SANITIZE
AM_TESTS_ENVIRONMENT += CAIRN_SANITIZE=1; export CAIRN_SANITIZE;
endif
