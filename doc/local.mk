# doc: the protocol specification and the architecture, installed in
# $(docdir) and shipped in the tarball.
dist_doc_DATA += doc/protocol.md doc/architecture.md doc/performance.md

# Rewrites the generated tables of doc/protocol.md from the codec (see
# tests/tools/protodoc.c); tests/integration/protocol-doc.sh checks them.
protodoc-update: tests/tools/protodoc$(EXEEXT)
	$(builddir)/tests/tools/protodoc --update $(srcdir)/doc/protocol.md
.PHONY: protodoc-update
