# Hostile-input suite: the local user, the remote host and the
# compromised worker attacking privsep; see docs/threat-model.md.
#
#   make test-hostile   the attack suite against the staged installs (root)
#   make fuzz           each cargo-fuzz target for FUZZ_SECONDS (default 30;
#                       FUZZ_TARGETS="a b" to pick; installs cargo-fuzz if missing)
#
# Tests that damage an install (a group-writable or user-owned worker) use
# their own stage, built for its own prefix, never $(STAGE).

HOSTILE_STAGE ?= /tmp/privsep-hostile
FUZZ_SECONDS  ?= 30

.PHONY: hostile-stage test-hostile fuzz fuzz-regressions

TEST_TARGETS += test-hostile
TEST_LANE_RUST += test-hostile
TEST_PREPARE += hostile-stage

hostile-stage:
	$(MAKE) --no-print-directory install PREFIX=$(HOSTILE_STAGE) DESTDIR= CAPMODE=caps DATAGRAM_CAPS=caps

test-hostile: deps-test stage hostile-stage
	@PRIVSEP_TEST_USER=$(TEST_USER) scripts/test-user.sh >/dev/null
	PRIVSEP_STAGE=$(STAGE) PRIVSEP_HOSTILE_STAGE=$(HOSTILE_STAGE) PRIVSEP_TEST_USER=$(TEST_USER) \
	    $(CARGO) test -p hostile --locked -- --include-ignored --test-threads=2

# cargo-fuzz needs nightly-only compiler flags (-Zsanitizer=address…);
# RUSTC_BOOTSTRAP=1 lets the stable toolchain accept them. Each target runs
# for FUZZ_SECONDS; a crash stops the run and leaves its input in
# fuzz/artifacts/TARGET/: copy it to fuzz/regressions/TARGET/, where
# `make fuzz-regressions` replays every input that ever crashed a target.
fuzz:
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	@cd fuzz && failed=; for t in $(or $(FUZZ_TARGETS),$$(RUSTC_BOOTSTRAP=1 $(CARGO) fuzz list)); do \
	    echo "== fuzz $$t ($(FUZZ_SECONDS) s)"; \
	    RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run $$t -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 \
	        || failed="$$failed $$t"; \
	done; \
	if [ -n "$$failed" ]; then echo "make fuzz: crashes in:$$failed (inputs in fuzz/artifacts/)"; exit 1; fi

# Every input that ever crashed a target, replayed (fuzz/regressions/TARGET/).
fuzz-regressions:
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	@cd fuzz && failed=; for d in regressions/*/; do t=$$(basename $$d); \
	    RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run $$t $$d* -- -runs=1 >/dev/null 2>&1 \
	        && echo "ok    $$t" || { echo "FAIL  $$t"; failed="$$failed $$t"; }; \
	done; [ -z "$$failed" ]
