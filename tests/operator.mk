# tests/operator.mk: the operator's side: the cairn CLI against real
# daemons, configuration precedence and signals, man pages and the
# installed file list. Included from tests/local.mk.
OPERATOR_TESTS = \
	tests/integration/cli.sh \
	tests/integration/config.sh \
	tests/integration/man-pages.sh \
	tests/integration/install.sh
TESTS += $(OPERATOR_TESTS)
EXTRA_DIST += $(OPERATOR_TESTS)

# Two `make install`s into the same build tree at once could race on
# libtool's relinking: install.sh runs after library-install.sh.
tests/integration/install.log: tests/integration/library-install.log
