# doc: the protocol specification, the architecture and the framework
# library's guide, installed in $(docdir) and shipped in the tarball.
dist_doc_DATA += doc/protocol.md doc/architecture.md doc/performance.md doc/libframework.md

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
