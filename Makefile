# privsep — entry points for distributions and developers.
#
#   make demo      build, stage with the file capabilities, run each tool once as an unprivileged user
#   make test      every test: unit, installed-binary, policy checks, VM suite (in lanes at once)
#   make install   PREFIX=/usr/local BINDIR=$(PREFIX)/bin LIBEXECDIR=$(PREFIX)/libexec DESTDIR=
#                  IPUTILS_NAMES=1 also installs ping, arping, clockdiff, fping as links (mk/iputils.mk)
#
# The install layout is baked into the launchers at build time (each worker's
# absolute path) and rendered into the SELinux, TOMOYO and AppArmor policies, all from
# the variables below and the tool descriptors (policy/src/tools.rs): one
# source of truth.

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec
MANDIR     ?= $(PREFIX)/share/man
DESTDIR    ?=
# caps: each launcher's file capability from its descriptor (ping
# cap_net_raw=p, clockdiff cap_net_raw,cap_sys_nice=p); setuid: mode 4755
# (fallback, for filesystems without extended attributes).
CAPMODE    ?= caps
# A launcher whose sockets are tried first as ICMP datagram sockets (ping):
# auto: no capability at all where the kernel admits every group to ping
# sockets (net.ipv4.ping_group_range 0 2147483647, as Debian 13's
# iputils-ping relies on), its file capability otherwise; none: never;
# caps: always. See scripts/ping-sockets-open.sh and docs/packaging.md.
DATAGRAM_CAPS ?= auto
CARGO      ?= cargo

# Where `make demo` and `make test` stage an install. Under /tmp so that the
# unprivileged test user can reach it wherever the clone lives.
STAGE      ?= /tmp/privsep-stage
TEST_USER  ?= privsep-test

export PRIVSEP_PREFIX     := $(PREFIX)
export PRIVSEP_BINDIR     := $(BINDIR)
export PRIVSEP_LIBEXECDIR := $(LIBEXECDIR)
# One cargo target directory per layout, so that staging for the tests does
# not rebuild the default install and the other way round.
LAYOUT_TARGET := $(CURDIR)/target/layout$(subst /,_,$(BINDIR)+$(LIBEXECDIR))
RELEASE       := $(LAYOUT_TARGET)/release
CARGO_LAYOUT   = CARGO_TARGET_DIR=$(LAYOUT_TARGET) $(CARGO)
# The workers are linked statically (static-pie) against glibc's libc.a
# (crt-static: its resolver and NSS are what iputils uses): no dynamic
# loader and no shared library runs, and a worker starts without the
# loader's work (about a quarter of ping's start-up, docs/performance.md).
# The launchers link no libc at all (launcher crate, feature `nolibc`):
# static PIEs of their own run-time, whose start-up is the privileged
# phase, a self-relocation and the sequence; glibc's start-up runs some
# 70 `cpuid` instructions, each a trap to the hypervisor in a virtual
# machine, and the worker pays it already. The same build on every
# machine: nothing but the host's own Rust standard library (for the
# workers) is needed.
# Built with an explicit --target so that the flag reaches only the
# target's code (not build scripts and proc-macros), into a target
# directory of their own so that the flag never forces a rebuild of the
# rest; then copied into $(RELEASE), next to privsep-render.
HOST_TRIPLE  := $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
STATIC_TARGET := $(LAYOUT_TARGET)/static
STATIC_BUILD  := $(STATIC_TARGET)/$(HOST_TRIPLE)/release
STATIC_CARGO   = CARGO_TARGET_DIR=$(STATIC_TARGET) RUSTFLAGS="-C target-feature=+crt-static" \
    $(CARGO) build --release --locked

BUILDDIR := $(CURDIR)/build/layout$(subst /,_,$(BINDIR)+$(LIBEXECDIR))

# privsep-render (policy crate) prints the descriptors: the tool list
# (`names`), each tool's facts (`layout --tool T`: SETCAP=, BROKER_NAME=,
# SMOKE_ARGS=, ...) and every tool's policy facts (`tools`). Nothing here
# lists the tools or restates their facts: recipes ask it. Built in this
# layout's target directory, with the layout's variables spelled out
# (make 4.3 does not pass exported variables to $(shell)).
RENDER       := $(RELEASE)/privsep-render
RENDER_BUILD  = PRIVSEP_PREFIX=$(PREFIX) PRIVSEP_BINDIR=$(BINDIR) PRIVSEP_LIBEXECDIR=$(LIBEXECDIR) \
    $(CARGO_LAYOUT) build --release --locked --quiet -p policy --bin privsep-render
# Every tool of the descriptors, in install order (policy::tools::ALL);
# computed once, on first use. An empty answer (the crate does not build)
# stops make rather than installing nothing.
ALL_TOOLS = $(eval ALL_TOOLS := $(or $(shell $(RENDER_BUILD) >&2 && $(RENDER) names),\
    $(error privsep-render names listed no tool (does the policy crate build?))))$(ALL_TOOLS)
# The tools built and installed: every tool by default, or a subset
# (TOOLS="ping clockdiff"). Each has a descriptor in policy/src/tools.rs,
# a launcher bin privsep-<tool>, a worker bin privsep-<tool>-worker and,
# where its descriptor names one, a broker bin privsep-<tool>-broker.
TOOLS ?= $(ALL_TOOLS)
# In a recipe's shell loop: $(call FACT,$$t,KEY) is the value of KEY in
# `privsep-render layout --tool $t` (RENDER must be built: render-tool).
FACT = $$($(RENDER) layout --tool $(1) | sed -n 's/^$(2)=//p')

# The suites that `make test` runs besides test-rust; fragments in mk/ add
# to it. `make test` first builds TEST_PREPARE (every prerequisite the suites
# share: staged installs, policies, reference tools, test binaries), then
# runs the suites in lanes (scripts/test-lanes.sh): a fragment puts a suite
# in TEST_LANE_VM (the QEMU suite, from the start), TEST_EXCLUSIVE (changes
# system-wide state: alone but for the VM lane), TEST_LANE_RUST or
# TEST_LANE_PARITY; every other suite of TEST_TARGETS runs in the checks
# lane. The lanes run at once, each lane's suites one after another.
TEST_TARGETS :=
TEST_PREPARE := deps-test test-user stage test-rust-build
TEST_LANE_VM :=
TEST_EXCLUSIVE :=
TEST_LANE_RUST := test-rust
TEST_LANE_PARITY :=

.PHONY: all build deps-demo deps-test install uninstall demo stage test test-rust clean help \
    test-prepare test-user test-rust-build render-tool print-tools
all: build

help:
	@sed -n '2,8p' Makefile | sed 's/^# \{0,1\}//'

# The renderer alone (the policy targets and the package scripts need it,
# not the launchers and workers).
render-tool:
	@$(RENDER_BUILD)

# The tool list, for debian/rules and anyone scripting around the Makefile.
print-tools:
	@echo $(TOOLS)

deps-demo:
	@scripts/install-deps.sh demo
deps-test:
	@scripts/install-deps.sh test

# The launchers are built on their own so that the workers' features
# (seccomp, Landlock, policy's `std`) never unify into their dependency
# tree: with `nolibc` they link no standard library.
build:
	$(STATIC_CARGO) --target $(HOST_TRIPLE) -p launcher --features nolibc
	$(STATIC_CARGO) --target $(HOST_TRIPLE) -p worker
	$(CARGO_LAYOUT) build --release --locked -p policy
	@for t in $(TOOLS); do \
	    cp -f $(STATIC_BUILD)/privsep-$$t $(STATIC_BUILD)/privsep-$$t.d $(RELEASE)/ || exit 2; \
	    cp -f $(STATIC_BUILD)/privsep-$$t-worker $(STATIC_BUILD)/privsep-$$t-worker.d $(RELEASE)/ || exit 2; \
	    broker=$(call FACT,$$t,BROKER_NAME); \
	    if [ -n "$$broker" ]; then \
	        cp -f $(STATIC_BUILD)/privsep-$$broker $(STATIC_BUILD)/privsep-$$broker.d $(RELEASE)/ || exit 2; \
	    fi; \
	done

# The man page and completions come from mk/docs.mk.
# Each launcher gets the file capability its descriptor names
# (`privsep-render layout --tool T` prints it as SETCAP=...); a tool with a
# broker (BROKER_NAME=..., arping) gets its broker program next to its
# worker, installed like it (0711, no capability).
install: build install-docs install-apparmor
	install -d -m 0755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR)/privsep
	@for t in $(TOOLS); do \
	    launcher=$(DESTDIR)$(BINDIR)/privsep-$$t; \
	    caps=$(call FACT,$$t,SETCAP); \
	    [ -n "$$caps" ] || { echo "install: no descriptor for tool $$t" >&2; exit 2; }; \
	    dgram=$(call FACT,$$t,DATAGRAM_FIRST); \
	    if [ "$$dgram" = yes ]; then \
	        scripts/ping-sockets-open.sh "$(DATAGRAM_CAPS)"; case $$? in 0) caps=none;; 1) ;; *) exit 2;; esac; \
	    fi; \
	    install -m 0711 -o root -g root $(RELEASE)/privsep-$$t-worker $(DESTDIR)$(LIBEXECDIR)/privsep/$$t-worker || exit 2; \
	    broker=$(call FACT,$$t,BROKER_NAME); \
	    if [ -n "$$broker" ]; then \
	        install -m 0711 -o root -g root $(RELEASE)/privsep-$$broker $(DESTDIR)$(LIBEXECDIR)/privsep/$$broker || exit 2; \
	    fi; \
	    install -m 0755 -o root -g root $(RELEASE)/privsep-$$t $$launcher || exit 2; \
	    if [ "$$caps" = none ]; then \
	        echo "install: $$launcher without a capability (ICMP datagram sockets, DATAGRAM_CAPS=$(DATAGRAM_CAPS))"; \
	    elif [ "$(CAPMODE)" = setuid ]; then \
	        chmod 4755 $$launcher; \
	    elif setcap "$$caps" $$launcher; then \
	        echo "install: $$launcher $$caps"; \
	    else \
	        echo "setcap failed (no xattr support?): falling back to setuid root for $$launcher"; \
	        chmod 4755 $$launcher; \
	    fi; \
	done
	@if [ "$(IPUTILS_NAMES)" = 1 ]; then $(MAKE) --no-print-directory install-iputils-names; fi

# Also removes the iputils names' links (mk/iputils.mk) where they point to
# privsep's launchers.
uninstall: uninstall-docs uninstall-iputils-names uninstall-apparmor
	@for t in $(TOOLS); do \
	    rm -f $(DESTDIR)$(BINDIR)/privsep-$$t $(DESTDIR)$(LIBEXECDIR)/privsep/$$t-worker \
	        $(DESTDIR)$(LIBEXECDIR)/privsep/$$t-broker; \
	done
	-rmdir $(DESTDIR)$(LIBEXECDIR)/privsep 2>/dev/null

# An install under $(STAGE), done by a recursive make so that the launcher is
# built with the staged worker path. Always with the file capabilities
# (DATAGRAM_CAPS=caps), whatever this machine's ping_group_range: the tests
# copy the launcher without it for the datagram mode, and need the raw one.
stage:
	$(MAKE) --no-print-directory install PREFIX=$(STAGE) DESTDIR= CAPMODE=$(CAPMODE) DATAGRAM_CAPS=caps

# Each tool of TOOLS once, as the test user, the way its descriptor's
# smoke facts say (scripts/smoke.sh): the file capability, then the run.
demo: deps-demo stage
	@user=$$(PRIVSEP_TEST_USER=$(TEST_USER) scripts/test-user.sh); \
	for t in $(TOOLS); do \
	    echo "\$$ getcap $(STAGE)/bin/privsep-$$t"; getcap $(STAGE)/bin/privsep-$$t; \
	    scripts/smoke.sh $(RENDER) $(STAGE)/bin/privsep-$$t $$user $$t || exit $$?; \
	done

# Unit tests, then the tests that need root, the staged install or the test
# user (ignored by a plain `cargo test`: docs/testing.md), but for the
# hostile and parity suites (make test-hostile, test-parity*): of those two
# crates only their own unit tests, their suites listed as ignored.
test-rust: deps-test stage
	@PRIVSEP_TEST_USER=$(TEST_USER) scripts/test-user.sh >/dev/null
	PRIVSEP_STAGE=$(STAGE) PRIVSEP_TEST_USER=$(TEST_USER) \
	    $(CARGO) test --workspace --exclude hostile --exclude parity --locked -- --include-ignored
	$(CARGO) test -p hostile -p parity --locked

test-user:
	@PRIVSEP_TEST_USER=$(TEST_USER) scripts/test-user.sh >/dev/null

test-rust-build:
	$(CARGO) test --workspace --locked --no-run

-include mk/*.mk

test-prepare: $(TEST_PREPARE)

# The lanes get TEST_PREPARE (and `build`, which stage and the VM binaries
# depend on) as already made: no lane reinstalls a staged binary that
# another lane is running.
test: deps-test
	@$(MAKE) --no-print-directory test-prepare
	@TEST_PREPARE_OLD="build $(TEST_PREPARE)" MAKE="$(MAKE)" scripts/test-lanes.sh $(CURDIR)/target/test-logs \
	    "$(TEST_LANE_VM)" "$(TEST_EXCLUSIVE)" "$(TEST_LANE_RUST)" "$(TEST_LANE_PARITY)" \
	    "$(filter-out $(TEST_LANE_VM) $(TEST_EXCLUSIVE) $(TEST_LANE_RUST) $(TEST_LANE_PARITY),$(TEST_TARGETS))"
	@echo "make test: all suites passed"

clean:
	$(CARGO) clean
	rm -rf build
