# doc: the protocol specification, the architecture and the framework
# library's guide, installed in $(docdir) and shipped in the tarball.
dist_doc_DATA += doc/protocol.md doc/architecture.md doc/performance.md doc/libframework.md \
	doc/security.md \
	doc/operations.md

# Rewrites the generated tables of doc/protocol.md from the codec (see
# tests/tools/protodoc.c); tests/integration/protocol-doc.sh checks them.
protodoc-update: tests/tools/protodoc$(EXEEXT)
	$(builddir)/tests/tools/protodoc --update $(srcdir)/doc/protocol.md
.PHONY: protodoc-update

# The framework library's man pages: one per group of functions, cairn(3)
# the overview. tests/integration/library-doc.sh checks them against
# cairn.h.
dist_man3_MANS = \
	doc/man/cairn.3 \
	doc/man/cairn_driver.3 \
	doc/man/cairn_framework_info.3 \
	doc/man/cairn_offer.3 \
	doc/man/cairn_resources.3 \
	doc/man/cairn_status.3 \
	doc/man/cairn_task.3

# `man cairn_driver_accept` should find cairn_driver(3): every function
# named in a page's NAME section gets a one-line page that includes it
# (".so man3/cairn_driver.3"), as distributions' man tools do.
CAIRN_MAN3_ALIASES = for page in $(dist_man3_MANS); do \
	  base=`basename $$page .3`; \
	  for name in $$(sed -n '/^\.SH NAME/,/^\.SH /p' $(srcdir)/$$page | sed '1d;$$d' \
	               | tr '\n' ' ' | sed 's/ \\- .*//' | tr ',' ' '); do \
	    test "$$name" = "$$base" || echo "$$name $$base"; \
	  done; \
	done

install-man3-aliases:
	@$(CAIRN_MAN3_ALIASES) | while read name base; do \
	  echo ".so man3/$$base.3" >"$(DESTDIR)$(man3dir)/$$name.3" || exit 1; \
	done
uninstall-man3-aliases:
	@$(CAIRN_MAN3_ALIASES) | while read name base; do \
	  rm -f "$(DESTDIR)$(man3dir)/$$name.3"; \
	done
install-data-hook: install-man3-aliases
uninstall-hook: uninstall-man3-aliases
.PHONY: install-man3-aliases uninstall-man3-aliases

# The programs' man pages: each is its template with the OPTIONS sections
# (and command lists) filled in from the built programs' own --man and
# --help, so a page cannot list other flags than the program takes
# (tests/integration/man-pages.sh checks that every flag is there).
MAN_TEMPLATES = doc/man/cairn-master.8.in doc/man/cairn-agent.8.in \
	doc/man/cairn.1.in doc/man/cairn-service.1.in doc/man/cairn-batch.1.in
nodist_man1_MANS = doc/man/cairn.1 doc/man/cairn-service.1 doc/man/cairn-batch.1
nodist_man8_MANS = doc/man/cairn-master.8 doc/man/cairn-agent.8
CLEANFILES += $(nodist_man1_MANS) $(nodist_man8_MANS)
EXTRA_DIST += $(MAN_TEMPLATES) doc/man/mkman.sh \
	doc/webui.png doc/webui-agents.png doc/webui-frameworks.png doc/webui-tasks.png \
	doc/webui-task.png doc/webui-kill.png doc/webui-agent.png doc/webui-framework.png

CAIRN_MKMAN = $(AM_V_GEN)$(MKDIR_P) doc/man && \
	$(SHELL) $(srcdir)/doc/man/mkman.sh $(abs_builddir) $(PACKAGE_VERSION) \
	  $(srcdir)/doc/man/$(@F).in | sed 's|%SYSCONFDIR%|$(sysconfdir)|g' >$@.tmp && \
	mv $@.tmp $@

doc/man/cairn-master.8: doc/man/cairn-master.8.in doc/man/mkman.sh master/cairn-master$(EXEEXT)
	$(CAIRN_MKMAN)
doc/man/cairn-agent.8: doc/man/cairn-agent.8.in doc/man/mkman.sh agent/cairn-agent$(EXEEXT)
	$(CAIRN_MKMAN)
doc/man/cairn.1: doc/man/cairn.1.in doc/man/mkman.sh cli/cairn$(EXEEXT)
	$(CAIRN_MKMAN)
doc/man/cairn-service.1: doc/man/cairn-service.1.in doc/man/mkman.sh \
		frameworks/service/cairn-service$(EXEEXT) cli/cairn$(EXEEXT)
	$(CAIRN_MKMAN)
doc/man/cairn-batch.1: doc/man/cairn-batch.1.in doc/man/mkman.sh \
		frameworks/batch/cairn-batch$(EXEEXT)
	$(CAIRN_MKMAN)
