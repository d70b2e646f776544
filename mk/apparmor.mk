# AppArmor profiles (apparmor/): render, check, install. See apparmor/README.md.
#
#   make apparmor                 render apparmor/privsep-tool.in for every tool descriptor
#                                 into $(BUILDDIR)/apparmor/privsep-<tool>
#   make apparmor-check           every profile compiles (apparmor_parser -Q) and keeps the
#                                 guarantees; every break-it variant is caught (part of make test)
#   make install-apparmor         install them into $(APPARMOR_DIR) and, where AppArmor is
#                                 enabled and DESTDIR is empty, load them (part of make install)
#
# Rendered with the same PREFIX/BINDIR/LIBEXECDIR as the launchers (privsep-render
# is built in this layout's target directory), so the profiles attach to exactly
# the paths `make install` installs; one file per descriptor, whatever TOOLS installs.

APPARMOR_OUT    := $(BUILDDIR)/apparmor
APPARMOR_RENDER := $(RENDER)
# AppArmor reads /etc/apparmor.d only: an install under /usr or /usr/local puts
# the profiles there; any other PREFIX (a staged install) under $(PREFIX)/etc,
# where they wait and nothing on the machine loads them.
APPARMOR_DIR    ?= $(if $(filter /usr /usr/local,$(PREFIX)),/etc/apparmor.d,$(PREFIX)/etc/apparmor.d)

TEST_TARGETS += apparmor-check
TEST_PREPARE += apparmor

.PHONY: apparmor apparmor-check install-apparmor uninstall-apparmor

apparmor: render-tool
	@apparmor/render.sh $(APPARMOR_RENDER) $(APPARMOR_OUT)
	@echo "apparmor: rendered $$(sed -n 's/^TOOL=\([^ ]*\) .*/privsep-\1/p' $(APPARMOR_OUT)/tools.txt | paste -sd' ' -) into $(APPARMOR_OUT)"

apparmor-check: deps-test apparmor
	scripts/apparmor-check.py check $(APPARMOR_OUT)
	scripts/apparmor-check.py selftest $(APPARMOR_OUT)

# apparmor_parser -r replaces (or adds) the profiles in the kernel; -W also
# writes its cache, as Debian's own profiles are loaded at boot.
install-apparmor: apparmor
	install -d -m 0755 $(DESTDIR)$(APPARMOR_DIR)
	@for t in $(TOOLS); do \
	    install -m 0644 $(APPARMOR_OUT)/privsep-$$t $(DESTDIR)$(APPARMOR_DIR)/privsep-$$t || exit 2; \
	done
	@if [ -z "$(DESTDIR)" ] && [ "$(APPARMOR_DIR)" = /etc/apparmor.d ] && \
	    [ "$$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ] && \
	    command -v apparmor_parser >/dev/null 2>&1; then \
	    for t in $(TOOLS); do \
	        echo "apparmor_parser -r -W $(APPARMOR_DIR)/privsep-$$t"; \
	        apparmor_parser -r -W $(APPARMOR_DIR)/privsep-$$t || exit 1; \
	    done; \
	else \
	    echo "install-apparmor: profiles installed in $(DESTDIR)$(APPARMOR_DIR), not loaded" \
	        "(AppArmor not enabled here, DESTDIR set, or not the system's profile directory)"; \
	fi

uninstall-apparmor:
	@for t in $(TOOLS); do \
	    f=$(DESTDIR)$(APPARMOR_DIR)/privsep-$$t; \
	    if [ -z "$(DESTDIR)" ] && [ -f $$f ] && [ -d /sys/kernel/security/apparmor ]; then \
	        apparmor_parser -R $$f || true; \
	    fi; \
	    rm -f $$f; \
	done
