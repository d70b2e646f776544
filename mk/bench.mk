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
# launcher's source files) all name the bench install. One run per tool of
# TOOLS (the descriptors', in install order: `privsep-render names`), by
# scripts/bench-tool.sh, which takes the launcher's and the worker's paths
# from the descriptor and the namespaces from the bench's plan for the
# tool (`bench --tool T --setup`). Each is measured against /usr/bin/<tool>
# unless BENCH_REF_<tool> says otherwise (ping's: BENCH_PING) and writes
# results-<tool>.json beside BENCH_OUT (ping's, the full bench: BENCH_OUT).
BENCH_REF_ping ?= $(BENCH_PING)
BENCH_OUT_ping ?= $(BENCH_OUT)
define BENCH_TOOL
	scripts/bench-tool.sh $(BENCH_BUILD)/release/bench $(RENDER) $(1) \
	    $(or $(BENCH_REF_$(1)),/usr/bin/$(1)) $(TEST_USER) \
	    $(or $(BENCH_OUT_$(1)),$(dir $(BENCH_OUT))results-$(1).json) \
	    --release-dir $(RELEASE) --workspace $(CURDIR)

endef
bench-run: install
	CARGO_TARGET_DIR=$(BENCH_BUILD) $(CARGO) build --release --locked -p bench
	$(foreach t,$(TOOLS),$(call BENCH_TOOL,$(t)))

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
