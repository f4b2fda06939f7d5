# contrib: setup and demo scripts, systemd units and example configs.
EXTRA_DIST += contrib/install-deps.sh contrib/demo.sh

# systemd units, with the install's paths in them. They go under the
# prefix by default (so `make distcheck` and unprivileged installs work);
# packagers pass --with-systemdsystemunitdir=/lib/systemd/system.
systemdsystemunit_DATA = contrib/systemd/cairn-master.service \
	contrib/systemd/cairn-agent.service
CLEANFILES += $(systemdsystemunit_DATA)
EXTRA_DIST += contrib/systemd/cairn-master.service.in contrib/systemd/cairn-agent.service.in

contrib/systemd/cairn-master.service: contrib/systemd/cairn-master.service.in Makefile
contrib/systemd/cairn-agent.service: contrib/systemd/cairn-agent.service.in Makefile
$(systemdsystemunit_DATA):
	$(AM_V_GEN)$(MKDIR_P) contrib/systemd && \
	sed -e 's|%SBINDIR%|$(sbindir)|g' -e 's|%SYSCONFDIR%|$(sysconfdir)|g' \
	  $(srcdir)/$@.in >$@.tmp && mv $@.tmp $@

# Example configs, installed as $(sysconfdir)/cairn/*.json unless a file
# of that name is already there: an operator's config is never replaced.
# Uninstall removes them only while they are still the examples.
CAIRN_CONFIGS = contrib/config/master.json contrib/config/agent.json
EXTRA_DIST += $(CAIRN_CONFIGS)
cairnconfdir = $(sysconfdir)/cairn

install-data-local: install-cairn-configs
uninstall-local: uninstall-cairn-configs
install-cairn-configs:
	$(MKDIR_P) "$(DESTDIR)$(cairnconfdir)"
	@for f in $(CAIRN_CONFIGS); do \
	  dest="$(DESTDIR)$(cairnconfdir)/`basename $$f`"; \
	  if test -e "$$dest"; then echo "keeping $$dest"; \
	  else echo " $(INSTALL_DATA) $$f $$dest"; \
	    $(INSTALL_DATA) "$(srcdir)/$$f" "$$dest" || exit 1; fi; \
	done
uninstall-cairn-configs:
	@for f in $(CAIRN_CONFIGS); do \
	  dest="$(DESTDIR)$(cairnconfdir)/`basename $$f`"; \
	  if cmp -s "$(srcdir)/$$f" "$$dest"; then rm -f "$$dest"; fi; \
	done
	-rmdir "$(DESTDIR)$(cairnconfdir)" 2>/dev/null
.PHONY: install-cairn-configs uninstall-cairn-configs
