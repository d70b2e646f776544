# SELinux module `privsep` (selinux/): build, merge into a copy of Debian's
# policy, static checks, install. See selinux/README.md.
#
#   make selinux                $(SELINUX_PP), file contexts rendered for this layout
#   make selinux-merged         $(SELINUX_ROOT): Debian's policy store + privsep, compiled
#                               ($(SELINUX_POLICY), $(SELINUX_FILE_CONTEXTS))
#   make selinux-check          static checks on the m4 sources and the merged policy (part of make test)
#   make selinux-check-selftest proves the checks fail on a module that breaks a guarantee
#   make install-selinux        semodule -i + restorecon, only where SELinux is enabled
#
# Everything is built under $(BUILDDIR)/selinux, per install layout: the file
# contexts name the paths the launcher was built with.

SELINUX_STORE   ?= default
SELINUX_DEVEL   ?= /usr/share/selinux/devel/Makefile
SELINUX_DIR     := $(BUILDDIR)/selinux
SELINUX_PP      := $(SELINUX_DIR)/privsep.pp
SELINUX_ROOT    := $(SELINUX_DIR)/root
# policy.33 is what Debian 12's libsepol writes (selinux-merge.sh prints the
# actual name).
SELINUX_POLICY  := $(SELINUX_ROOT)/etc/selinux/$(SELINUX_STORE)/policy/policy.33
SELINUX_FILE_CONTEXTS := $(SELINUX_ROOT)/etc/selinux/$(SELINUX_STORE)/contexts/files/file_contexts
SELINUX_RENDER  := $(RENDER)
# Hand-written: privsep.te (attributes, guarantees on them, tool-specific
# rules), privsep.if (privsep_tool_template). Rendered once per tool
# descriptor and appended: tool.te.in (the template line, who may run it),
# tool.if.in (privsep_<tool>_domtrans, _run, ...), privsep.fc.in.
SELINUX_SOURCES := selinux/privsep.te selinux/privsep.if
SELINUX_TEMPLATES := selinux/tool.te.in selinux/tool.if.in selinux/privsep.fc.in selinux/broker.fc.in
SELINUX_BUILT   := $(SELINUX_DIR)/privsep.te $(SELINUX_DIR)/privsep.if $(SELINUX_DIR)/privsep.fc
# Every descriptor's KEY=value line (`privsep-render tools`): what the
# policy is rendered from and what selinux-check checks it against. The
# policy always covers every tool, whatever TOOLS installs (file contexts
# for files that are not installed are harmless).
SELINUX_TOOLS   := $(SELINUX_DIR)/tools.txt

TEST_TARGETS += selinux-check selinux-check-selftest
TEST_PREPARE += selinux selinux-merged

.PHONY: selinux selinux-merged selinux-check selinux-check-selftest install-selinux deps-selinux

selinux: deps-selinux $(SELINUX_PP)

# The module toolchain only (also a package build's Build-Depends: nothing
# to install there); the checks need the test group (policy store, setools).
deps-selinux:
	@scripts/install-deps.sh selinux

# The renderer carries the layout (policy crate, built with this layout's
# PRIVSEP_* variables: render-tool): the .fc names exactly the paths the
# launchers use. Cargo runs every time (a no-op when up to date); the
# rendered files only change, and the module only rebuilds, when their
# content does. One pass renders the module files and the tools list,
# replacing each only when its content changed (so an unchanged module is
# not rebuilt).
$(SELINUX_BUILT) $(SELINUX_TOOLS) &: render-tool $(SELINUX_SOURCES) $(SELINUX_TEMPLATES) selinux/render.sh
	@selinux/render.sh $(SELINUX_RENDER) $(SELINUX_DIR)

# Built in the build directory from copies: the devel Makefile writes tmp/
# and the products next to its sources. MAKEFLAGS is cleared so that our
# command-line variables (PREFIX, BINDIR, ...) do not leak into it.
$(SELINUX_PP): $(SELINUX_BUILT) | deps-selinux
	cd $(SELINUX_DIR) && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	    make -f $(SELINUX_DEVEL) NAME=$(SELINUX_STORE) privsep.pp

selinux-merged: $(SELINUX_POLICY)

# Neverallow rules are checked while linking (expand-check=1 in the copied
# semanage.conf; Debian's own is 0, which would skip them).
$(SELINUX_POLICY): $(SELINUX_PP) scripts/selinux-merge.sh
	scripts/selinux-merge.sh -s $(SELINUX_STORE) -e 1 $(SELINUX_ROOT) $(SELINUX_PP)

# First the m4 sources themselves, hand-written and rendered (quoting traps
# that compile into a module quietly missing rules: selinux-check.py, m4
# quoting), then the compiled policy.
selinux-check: deps-test selinux-merged
	scripts/selinux-check.py --m4 $(SELINUX_SOURCES) $(SELINUX_TEMPLATES) $(SELINUX_BUILT)
	scripts/selinux-check.py $(SELINUX_POLICY) $(SELINUX_FILE_CONTEXTS) $(SELINUX_TOOLS)

selinux-check-selftest: deps-test selinux
	scripts/selinux-selftest.sh $(SELINUX_DIR) $(SELINUX_STORE) $(SELINUX_TOOLS)

install-selinux: selinux
	@if command -v selinuxenabled >/dev/null 2>&1 && selinuxenabled; then \
	    echo "semodule -i $(SELINUX_PP)"; semodule -i $(SELINUX_PP) || exit 1; \
	    if [ -n "$(DESTDIR)" ]; then \
	        echo "DESTDIR is set: not relabeling; run restorecon -F on the installed files"; \
	    else \
	        for f in $$(sed -n 's/.* LAUNCHER_PATH=\([^ ]*\) .* WORKER_PATH=\([^ ]*\) .*/\1 \2/p' $(SELINUX_TOOLS)); do \
	            if [ -e $$f ]; then restorecon -F -v $$f || exit 1; \
	            else echo "$$f is not installed (TOOLS=$(TOOLS)): its context applies once it is"; fi; \
	        done; \
	    fi; \
	else \
	    echo "SELinux is not enabled on this system: module not installed ($(SELINUX_PP) is built)"; \
	fi
