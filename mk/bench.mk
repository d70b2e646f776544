# make bench: privsep against iputils, side by side: ping in full, arping
# and clockdiff for start-up, privileged system calls and memory;
# mtr-packet against Debian's mtr-packet for those and probe throughput;
# fping against Debian's fping: sweeps of hundreds of targets alive and
# dead at the same pacing, privileged system calls and memory.
# Never part of `make test` (nothing here is added to TEST_TARGETS): it
# measures, it does not assert. Needs root. docs/performance.md explains it.
#
#   make bench                  the full run (a few minutes)
#   BENCH_QUICK=1 make bench    reduced counts, for development
#   make bench-noise            iputils against itself, same harness and
#                               counts: its ratios are the method's noise
#
# privsep is installed into its own prefix so that the bench never disturbs
# (or is disturbed by) the tests' staged install. Always with its file
# capability (DATAGRAM_CAPS=caps), as iputils' ping gets one: the datagram
# mode is measured with copies of both without any (bench/src/datagram.rs).

BENCH_PREFIX ?= /tmp/privsep-bench
BENCH_PING   ?= /usr/bin/ping
BENCH_OUT    ?= $(CURDIR)/target/bench/results.json
BENCH_BUILD  := $(CURDIR)/target/bench-harness

.PHONY: bench bench-run bench-noise
bench:
	@[ "$$(id -u)" = 0 ] || { echo "make bench: run as root (setcap, strace -u, flood ping)" >&2; exit 2; }
	@scripts/install-deps.sh bench
	@PRIVSEP_TEST_USER=$(TEST_USER) scripts/test-user.sh >/dev/null
	@$(MAKE) --no-print-directory bench-run PREFIX=$(BENCH_PREFIX) DESTDIR= CAPMODE=caps DATAGRAM_CAPS=caps

# Internal: runs in a recursive make whose PREFIX is the bench's, so that
# BINDIR, LIBEXECDIR and RELEASE (the build whose dep-info gives the
# launcher's source files) all name the bench install.
bench-run: install
	CARGO_TARGET_DIR=$(BENCH_BUILD) $(CARGO) build --release --locked -p bench
	$(BENCH_BUILD)/release/bench --launcher $(BINDIR)/privsep-ping \
	    --worker $(LIBEXECDIR)/privsep/ping-worker --iputils $(BENCH_PING) \
	    --user $(TEST_USER) --release-dir $(RELEASE) --workspace $(CURDIR) \
	    --out $(BENCH_OUT)
	$(BENCH_BUILD)/release/bench --tool clockdiff --launcher $(BINDIR)/privsep-clockdiff \
	    --worker $(LIBEXECDIR)/privsep/clockdiff-worker --iputils /usr/bin/clockdiff \
	    --user $(TEST_USER) --out $(dir $(BENCH_OUT))results-clockdiff.json
	$(BENCH_BUILD)/release/bench --tool mtr-packet --launcher $(BINDIR)/privsep-mtr-packet \
	    --worker $(LIBEXECDIR)/privsep/mtr-packet-worker --iputils /usr/bin/mtr-packet \
	    --user $(TEST_USER) --out $(dir $(BENCH_OUT))results-mtr-packet.json
	@# arping inside the first namespace of a veth pair of its own: the
	@# bench process is started there, so arping is its direct child.
	@ns=privsep-bench-$$$$; scripts/netns-pair.sh up $$ns || exit 2; \
	ip netns exec $$ns-a $(BENCH_BUILD)/release/bench --tool arping \
	    --launcher $(BINDIR)/privsep-arping --worker $(LIBEXECDIR)/privsep/arping-worker \
	    --iputils /usr/bin/arping --user $(TEST_USER) \
	    --out $(dir $(BENCH_OUT))results-arping.json; rc=$$?; \
	scripts/netns-pair.sh down $$ns; exit $$rc
	@# fping inside the first namespace of a pair whose peer answers every
	@# address of 198.18.31.0/24 (a local route) and drops 198.18.32.0/24.
	@ns=privsep-bench-fping-$$$$; scripts/netns-pair.sh up $$ns || exit 2; \
	{ ip -n $$ns-b route add local 198.18.31.0/24 dev lo && \
	  ip -n $$ns-b route add blackhole 198.18.32.0/24 && \
	  ip -n $$ns-a route add 198.18.31.0/24 via 198.18.0.2 && \
	  ip -n $$ns-a route add 198.18.32.0/24 via 198.18.0.2 && \
	  ip netns exec $$ns-a $(BENCH_BUILD)/release/bench --tool fping \
	    --launcher $(BINDIR)/privsep-fping --worker $(LIBEXECDIR)/privsep/fping-worker \
	    --iputils /usr/bin/fping --user $(TEST_USER) \
	    --out $(dir $(BENCH_OUT))results-fping.json; }; rc=$$?; \
	scripts/netns-pair.sh down $$ns; exit $$rc

# The same harness with iputils' ping on both sides (the privsep-only rows,
# the split, memory and the launcher's lines, stay empty): how far apart
# two identical programs measure on this machine now.
bench-noise:
	@[ "$$(id -u)" = 0 ] || { echo "make bench-noise: run as root" >&2; exit 2; }
	@scripts/install-deps.sh bench
	@PRIVSEP_TEST_USER=$(TEST_USER) scripts/test-user.sh >/dev/null
	CARGO_TARGET_DIR=$(BENCH_BUILD) $(CARGO) build --release --locked -p bench
	$(BENCH_BUILD)/release/bench --launcher $(BENCH_PING) --worker $(BENCH_PING) \
	    --iputils $(BENCH_PING) --user $(TEST_USER) --release-dir $(CURDIR)/target/none \
	    --workspace $(CURDIR) --out $(dir $(BENCH_OUT))noise.json
