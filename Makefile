# privsep — entry points for distributions and developers.
#
#   make demo      build, stage with the file capability, ping 127.0.0.1 as an unprivileged user
#   make test      every test: unit, installed-binary, policy checks, VM suite
#   make install   PREFIX=/usr/local BINDIR=$(PREFIX)/bin LIBEXECDIR=$(PREFIX)/libexec DESTDIR=
#
# The install layout is baked into the launcher at build time (the worker's
# absolute path) and rendered into the SELinux and TOMOYO policies, all from
# the variables below: one source of truth.

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec
MANDIR     ?= $(PREFIX)/share/man
DESTDIR    ?=
# caps: cap_net_raw=p on the launcher; setuid: mode 4755 (fallback, for
# filesystems without extended attributes).
CAPMODE    ?= caps
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

BUILDDIR := $(CURDIR)/build/layout$(subst /,_,$(BINDIR)+$(LIBEXECDIR))

# Targets that `make test` runs after the Rust tests; fragments in mk/ add to it.
TEST_TARGETS :=

.PHONY: all build deps-demo deps-test install uninstall demo stage test test-rust clean help
all: build

help:
	@sed -n '2,7p' Makefile | sed 's/^# \{0,1\}//'

deps-demo:
	@scripts/install-deps.sh demo
deps-test:
	@scripts/install-deps.sh test

# The launcher is built on its own so that the worker's features (seccomp,
# Landlock) never unify into its dependency tree.
build:
	$(CARGO_LAYOUT) build --release --locked -p launcher
	$(CARGO_LAYOUT) build --release --locked -p worker -p policy

# The man page and completions come from mk/docs.mk.
install: build install-docs
	install -d -m 0755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR)/privsep
	install -m 0711 -o root -g root $(RELEASE)/privsep-ping-worker $(DESTDIR)$(LIBEXECDIR)/privsep/ping-worker
	install -m 0755 -o root -g root $(RELEASE)/privsep-ping $(DESTDIR)$(BINDIR)/privsep-ping
	@if [ "$(CAPMODE)" = setuid ]; then \
	    chmod 4755 $(DESTDIR)$(BINDIR)/privsep-ping; \
	elif ! setcap cap_net_raw=p $(DESTDIR)$(BINDIR)/privsep-ping; then \
	    echo "setcap failed (no xattr support?): falling back to setuid root"; \
	    chmod 4755 $(DESTDIR)$(BINDIR)/privsep-ping; \
	fi

uninstall: uninstall-docs
	rm -f $(DESTDIR)$(BINDIR)/privsep-ping $(DESTDIR)$(LIBEXECDIR)/privsep/ping-worker
	-rmdir $(DESTDIR)$(LIBEXECDIR)/privsep 2>/dev/null

# An install under $(STAGE), done by a recursive make so that the launcher is
# built with the staged worker path.
stage:
	$(MAKE) --no-print-directory install PREFIX=$(STAGE) DESTDIR= CAPMODE=$(CAPMODE)

demo: deps-demo stage
	@user=$$(PRIVSEP_TEST_USER=$(TEST_USER) scripts/test-user.sh); \
	echo "\$$ getcap $(STAGE)/bin/privsep-ping"; getcap $(STAGE)/bin/privsep-ping; \
	echo "\$$ privsep-ping -c 3 127.0.0.1    # as user $$user"; \
	setpriv --reuid=$$user --regid=$$user --clear-groups --inh-caps=-all \
	    $(STAGE)/bin/privsep-ping -c 3 127.0.0.1

# Unit tests, then the tests of the installed binaries (ignored by a plain
# `cargo test`, because they need the staged install and the test user).
test-rust: deps-test stage
	@PRIVSEP_TEST_USER=$(TEST_USER) scripts/test-user.sh >/dev/null
	PRIVSEP_STAGE=$(STAGE) PRIVSEP_TEST_USER=$(TEST_USER) \
	    $(CARGO) test --workspace --locked -- --include-ignored

-include mk/*.mk

test: deps-test test-rust $(TEST_TARGETS)
	@echo "make test: all suites passed"

clean:
	$(CARGO) clean
	rm -rf build
