# Hostile-input suite (issue 6): the local user, the remote host and the
# compromised worker attacking privsep; see docs/threat-model.md.
#
#   make test-hostile   the attack suite against the staged installs (root)
#   make fuzz           each cargo-fuzz target for FUZZ_SECONDS (needs cargo-fuzz)
#
# Tests that damage an install (a group-writable or user-owned worker) use
# their own stage, built for its own prefix, never $(STAGE).

HOSTILE_STAGE ?= /tmp/privsep-hostile
FUZZ_SECONDS  ?= 30
FUZZ_TARGETS  ?= icmp_reply handoff_decode cli

.PHONY: hostile-stage test-hostile fuzz

hostile-stage:
	$(MAKE) --no-print-directory install PREFIX=$(HOSTILE_STAGE) DESTDIR= CAPMODE=caps

test-hostile: deps-test stage hostile-stage
	@PRIVSEP_TEST_USER=$(TEST_USER) scripts/test-user.sh >/dev/null
	PRIVSEP_STAGE=$(STAGE) PRIVSEP_HOSTILE_STAGE=$(HOSTILE_STAGE) PRIVSEP_TEST_USER=$(TEST_USER) \
	    $(CARGO) test -p hostile --features suite --locked -- --include-ignored --test-threads=2

# cargo-fuzz needs nightly-only compiler flags; RUSTC_BOOTSTRAP lets the
# stable toolchain accept them. Each target runs for a bounded time.
fuzz:
	@command -v cargo-fuzz >/dev/null || { echo "make fuzz: install cargo-fuzz first: cargo install cargo-fuzz"; exit 2; }
	cd fuzz && for t in $(FUZZ_TARGETS); do \
	    RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run $$t -- -max_total_time=$(FUZZ_SECONDS) || exit 1; \
	done
