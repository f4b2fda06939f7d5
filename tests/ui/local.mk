# tests/ui: the web UI's interaction tests and the README's screenshots,
# in headless Chromium driven by playwright-core (npm, pinned by
# tests/ui/package-lock.json). Not part of `make check` (they need node,
# npm and the registry once): `make check-ui` runs them, .ci/run too.
# Included from tests/local.mk.

UI_TEST_FILES = tests/ui/package.json tests/ui/package-lock.json tests/ui/run.sh \
	tests/ui/lib.js tests/ui/screenshots.js tests/ui/filter.test.js tests/ui/task.test.js \
	tests/ui/log.test.js tests/ui/kill.test.js tests/ui/drain.test.js
EXTRA_DIST += $(UI_TEST_FILES)
CLEANFILES += tests/ui/run.log tests/ui/run.trs tests/ui/screenshots.log \
	tests/ui/screenshots.trs

NODE = node
NPM = npm
# playwright-core goes into the build tree's tests/ui/node_modules (the
# source tree's in an in-tree build), never into a VPATH build's source
# tree, which may be read-only (distcheck). npm ci again when the lock
# file is newer than the installed tree.
UI_NODE_MODULES = tests/ui/node_modules
UI_NPM_STAMP = $(UI_NODE_MODULES)/.package-lock.json
$(UI_NPM_STAMP): $(srcdir)/tests/ui/package.json $(srcdir)/tests/ui/package-lock.json
	$(AM_V_GEN)$(MKDIR_P) tests/ui && \
	if test "$(srcdir)" != .; then \
	  rm -f tests/ui/package.json tests/ui/package-lock.json && \
	  cp $(srcdir)/tests/ui/package.json $(srcdir)/tests/ui/package-lock.json tests/ui/ && \
	  chmod u+w tests/ui/package.json tests/ui/package-lock.json; \
	fi && \
	(cd tests/ui && $(NPM) ci --no-audit --no-fund --ignore-scripts --loglevel=error) && \
	touch $@

# UI_RUN NAME ARGS: tests/ui/run.sh ARGS through the TAP driver, which
# prints each result and writes tests/ui/NAME.log and NAME.trs (the
# .trs lines .ci/run counts); fails if any result failed. Without node
# or npm, run.sh says why and skips (unless CAIRN_UI_REQUIRE is set).
UI_RUN = ui_run () { \
	  name=$$1; shift; \
	  if command -v $(NODE) >/dev/null 2>&1 && command -v $(NPM) >/dev/null 2>&1; then \
	    $(MAKE) $(AM_MAKEFLAGS) $(UI_NPM_STAMP) || return 1; \
	  fi; \
	  rm -f tests/ui/$$name.log tests/ui/$$name.trs; \
	  CAIRN_BUILDDIR='$(abs_top_builddir)' CAIRN_SRCDIR='$(abs_top_srcdir)' \
	  NODE='$(NODE)' NODE_PATH='$(abs_top_builddir)/$(UI_NODE_MODULES)' \
	  $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh --test-name tests/ui/run.sh \
	    --log-file tests/ui/$$name.log --trs-file tests/ui/$$name.trs \
	    --color-tests no --enable-hard-errors yes --expect-failure no --ignore-exit \
	    -- $(SHELL) $(srcdir)/tests/ui/run.sh "$$@"; \
	  pass=`grep -c '^:test-result: \(PASS\|XFAIL\)' tests/ui/$$name.trs`; \
	  skip=`grep -c '^:test-result: SKIP' tests/ui/$$name.trs`; \
	  fail=`grep -c '^:test-result: \(FAIL\|XPASS\|ERROR\)' tests/ui/$$name.trs`; \
	  echo "$$name: $$pass passed, $$skip skipped, $$fail failed (log: tests/ui/$$name.log)"; \
	  grep -q '^:global-test-result: \(PASS\|SKIP\)' tests/ui/$$name.trs; \
	}; ui_run

check-ui: all tests/tools/cairn-sched$(EXEEXT)
	@$(UI_RUN) run

# The README's pictures of the web UI (doc/webui*.png), taken from the
# same kind of live cluster by tests/ui/screenshots.js. Writes into the
# source tree: run it from a checkout.
screenshots: all tests/tools/cairn-sched$(EXEEXT)
	@$(UI_RUN) screenshots --screenshots $(abs_top_srcdir)/doc

# A VPATH build's copy of the npm files and its node_modules.
distclean-local: distclean-ui
distclean-ui:
	-if test "$(srcdir)" != .; then \
	  rm -rf $(UI_NODE_MODULES) tests/ui/package.json tests/ui/package-lock.json; \
	fi
.PHONY: check-ui screenshots distclean-ui
