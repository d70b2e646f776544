# The iputils names as privsep's: links named like the iputils programs
# (ping, ping4, ping6, arping, clockdiff) and fping's (fping, fping6) to
# privsep's launchers, and man page links to privsep's pages, so that
# callers that run those names (scripts, monitoring systems) get privsep. For systems without Debian's
# packaging (where the privsep-iputils package does this with diversions).
#
#   make install IPUTILS_NAMES=1   also install the links under $(BINDIR)
#                                  and $(MANDIR)/man8
#   make uninstall                 removes them again (only links that point
#                                  to privsep's launchers and pages)
#
# make install never overwrites another program: where $(BINDIR)/ping is
# already something else (PREFIX=/usr on a system with iputils), it stops
# with one line; move that program aside (or use a package) first. A link
# keeps argv[0]: the launcher and the worker name themselves `ping`, and
# ping4/ping6 pick the address family by that name, as iputils does.

IPUTILS_NAMES ?=
# name:tool for every iputils name of every tool, from the descriptors
# (IPUTILS_NAMES= of `privsep-render layout --tool T`: ping ping4 ping6 for
# ping); install-iputils-names skips those of tools not in $(TOOLS).
# Computed once, on first use.
IPUTILS_LINKS = $(eval IPUTILS_LINKS := $(shell for t in $(ALL_TOOLS); do \
    for n in $$($(RENDER) layout --tool $$t | sed -n 's/^IPUTILS_NAMES=//p'); do echo $$n:$$t; done; done))$(IPUTILS_LINKS)

.PHONY: install-iputils-names uninstall-iputils-names

# Each link: $(BINDIR)/NAME -> privsep-TOOL and $(MANDIR)/man8/NAME.8 ->
# privsep-TOOL.8 (relative, so that DESTDIR staging keeps them right).
install-iputils-names:
	install -d -m 0755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8
	@for l in $(IPUTILS_LINKS); do name=$${l%%:*}; tool=$${l#*:}; \
	    case " $(TOOLS) " in *" $$tool "*) ;; *) continue ;; esac; \
	    for pair in "$(DESTDIR)$(BINDIR)/$$name privsep-$$tool" "$(DESTDIR)$(MANDIR)/man8/$$name.8 privsep-$$tool.8"; do \
	        set -- $$pair; \
	        if [ -e "$$1" ] || [ -L "$$1" ]; then \
	            [ "$$(readlink "$$1")" = "$$2" ] || { \
	                echo "install: $$1 exists and is not a link to $$2: not overwriting another program's file (move it aside first)" >&2; exit 2; }; \
	        fi; \
	        ln -sfn "$$2" "$$1" || exit 2; \
	        echo "install: $$1 -> $$2"; \
	    done; \
	done

uninstall-iputils-names:
	@for l in $(IPUTILS_LINKS); do name=$${l%%:*}; tool=$${l#*:}; \
	    for pair in "$(DESTDIR)$(BINDIR)/$$name privsep-$$tool" "$(DESTDIR)$(MANDIR)/man8/$$name.8 privsep-$$tool.8"; do \
	        set -- $$pair; \
	        if [ -L "$$1" ] && [ "$$(readlink "$$1")" = "$$2" ]; then rm -f "$$1"; fi; \
	    done; \
	done

# The names of the tools in $(TOOLS), for the privsep-iputils package's
# preinst and postrm (debian/privsep-iputils.*.in) and its strip-diverted
# script (debian/iputils/strip-diverted.in): @NAMES@, rendered by
# debian/rules into debian/ and $(BUILDDIR)/iputils.
IPUTILS_NAMES_OF_TOOLS = $(foreach l,$(IPUTILS_LINKS),$(if $(filter $(lastword $(subst :, ,$(l))),$(TOOLS)),$(firstword $(subst :, ,$(l)))))

.PHONY: deb-iputils-scripts
deb-iputils-scripts:
	@for s in preinst postrm; do \
	    sed 's/@NAMES@/$(IPUTILS_NAMES_OF_TOOLS)/' debian/privsep-iputils.$$s.in >debian/privsep-iputils.$$s || exit 2; \
	done
	install -d $(BUILDDIR)/iputils
	sed 's/@NAMES@/$(IPUTILS_NAMES_OF_TOOLS)/' debian/iputils/strip-diverted.in >$(BUILDDIR)/iputils/strip-diverted
	chmod 0755 $(BUILDDIR)/iputils/strip-diverted

# Real clients on the iputils names (scripts/iputils-names-test.sh): in a
# mount namespace where /usr/bin/ping, arping and clockdiff are the staged
# launchers, as the test user: check_ping (IPv4, IPv6), upstream iputils'
# own tests (test/ of its latest release, from mk/parity.mk's
# iputils-upstream), arping -D as ifupdown-style scripts use it, clockdiff
# by name, and the messages' program name.
IPUTILS_TESTS = $(CURDIR)/target/iputils-upstream/20250605/src/test

.PHONY: test-iputils-names
TEST_TARGETS += test-iputils-names
# Binds privsep's launchers over the iputils names in a mount namespace of
# its own: nothing system-wide.
TEST_LANE_PARITY += test-iputils-names

test-iputils-names: deps-test stage iputils-upstream
	@PRIVSEP_TEST_USER=$(TEST_USER) scripts/test-user.sh >/dev/null
	PRIVSEP_IPUTILS_LINKS='$(IPUTILS_LINKS)' scripts/iputils-names-test.sh --bind $(STAGE)/bin $(TEST_USER) $(IPUTILS_TESTS)

# make install IPUTILS_NAMES=1 and make uninstall into a scratch DESTDIR,
# with the staged layout (nothing rebuilt).
.PHONY: test-install-names
TEST_TARGETS += test-install-names
# Runs `make install` (a no-op build in the stage's layout) into a scratch
# DESTDIR: kept away from the lanes that run that layout's binaries.
TEST_EXCLUSIVE += test-install-names

test-install-names: stage
	PRIVSEP_IPUTILS_LINKS='$(IPUTILS_LINKS)' scripts/install-names-test.sh $(STAGE)
