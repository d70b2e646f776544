# Side-by-side parity suites: privsep-ping against Debian 12's iputils ping
# (20221126, /usr/bin/ping), upstream iputils 20240905 (Debian 13's: built
# from its source package, or its binary packages when the mirror serves no
# trixie source) and upstream's latest release, 20250605, on every
# invocation of parity/table.json, as root and as the test user, in network
# namespaces of the suite's own.
#
#   make test-parity   the suite (root), ping's in raw and datagram mode at
#                      once; reports in target/parity/report.txt and
#                      report-datagram.txt (PARITY_ONLY=substring runs the
#                      matching rows only)
#
# The upstream tools are cached under target/iputils-upstream and staged
# under PARITY_IPUTILS (root-owned, so the test user can run them, with the
# capabilities Debian gives them): 20240905's ping as PARITY_IPUTILS/ping,
# upstream's latest release (20250605: ping, arping, clockdiff, built from
# Debian's forky/sid source package) in PARITY_LATEST. Only the Debian
# package registry is used, through the machine's own mirror
# (scripts/debian-mirror.sh reads its apt sources); a developer may set
# IPUTILS_GIT (a clone URL or git directory of upstream iputils, tag
# 20240905) to build that instead of the binary packages when the mirror
# lacks the trixie source.

PARITY_IPUTILS ?= /tmp/privsep-iputils-upstream
PARITY_LATEST   = $(PARITY_IPUTILS)/20250605
IPUTILS_GIT    ?=
PARITY_ONLY    ?=

.PHONY: iputils-upstream test-parity test-parity-tools

TEST_TARGETS += test-parity test-parity-tools
TEST_LANE_PARITY += test-parity test-parity-tools
TEST_PREPARE += iputils-upstream

iputils-upstream: deps-test
	scripts/iputils-upstream.sh $(CURDIR)/target/iputils-upstream $(PARITY_IPUTILS) $(IPUTILS_GIT)

# ping's suite runs in two modes at once, each with its own network
# namespaces and report: raw (the implementations with their file
# capabilities, the client's ping_group_range closed: raw sockets) and
# datagram (copies without any capability, the range open in the client
# namespace: ICMP datagram sockets; PARITY_MODE=datagram). Together they
# take little longer than one: the runs mostly wait on the network.
PARITY_PING = PRIVSEP_STAGE=$(STAGE) PRIVSEP_TEST_USER=$(TEST_USER) \
    PARITY_UPSTREAM_PING=$(PARITY_IPUTILS)/ping PARITY_LATEST_PING=$(PARITY_LATEST)/ping \
    PARITY_DEBIAN_PING=/usr/bin/ping \
    PARITY_ONLY=$(PARITY_ONLY) \
    $(CARGO) test -p parity --locked --test parity -- --include-ignored --nocapture

test-parity: deps-test stage iputils-upstream
	@PRIVSEP_TEST_USER=$(TEST_USER) scripts/test-user.sh >/dev/null
	$(CARGO) test -p parity --locked --test parity --no-run
	@mkdir -p $(CURDIR)/target/parity; \
	PARITY_MODE=raw PARITY_REPORT=$(CURDIR)/target/parity/report.txt $(PARITY_PING) \
	    >$(CURDIR)/target/parity/raw.log 2>&1 & raw=$$!; \
	PARITY_MODE=datagram PARITY_REPORT=$(CURDIR)/target/parity/report-datagram.txt $(PARITY_PING) \
	    >$(CURDIR)/target/parity/datagram.log 2>&1 & datagram=$$!; \
	wait $$raw; r=$$?; wait $$datagram; d=$$?; \
	cat $(CURDIR)/target/parity/raw.log $(CURDIR)/target/parity/datagram.log; \
	[ $$r = 0 ] && [ $$d = 0 ]

# arping and clockdiff: privsep's against Debian 12's (/usr/bin) and
# upstream 20250605's, rows in parity/arping.json and parity/clockdiff.json;
# report in target/parity/tools-report.txt (PARITY_ONLY works here too).
test-parity-tools: deps-test stage iputils-upstream
	@PRIVSEP_TEST_USER=$(TEST_USER) scripts/test-user.sh >/dev/null
	PRIVSEP_STAGE=$(STAGE) PRIVSEP_TEST_USER=$(TEST_USER) PARITY_LATEST=$(PARITY_LATEST) \
	    PARITY_TOOLS_REPORT=$(CURDIR)/target/parity/tools-report.txt PARITY_ONLY=$(PARITY_ONLY) \
	    $(CARGO) test -p parity --locked --test tools -- --include-ignored --nocapture

# fping: privsep's against Debian 12's fping 5.1 (/usr/bin/fping) and
# upstream's latest release as Debian ships it (FPING_LATEST, from forky
# and sid: scripts/fping-upstream.sh), staged root-owned with
# cap_net_raw=ep under PARITY_IPUTILS/fping-$(FPING_LATEST); rows in
# parity/fping.json, in raw and datagram mode at once like ping's (the
# datagram mode: copies without capabilities, ping_group_range open);
# reports in target/parity/fping-report.txt and fping-report-datagram.txt
# (PARITY_ONLY works here too).
FPING_LATEST ?= 5.5
PARITY_FPING  = $(PARITY_IPUTILS)/fping-$(FPING_LATEST)/fping

.PHONY: fping-upstream test-parity-fping

TEST_TARGETS += test-parity-fping
TEST_LANE_PARITY += test-parity-fping
TEST_PREPARE += fping-upstream

fping-upstream: deps-test
	scripts/fping-upstream.sh $(CURDIR)/target/fping-upstream $(PARITY_IPUTILS) $(FPING_LATEST)

PARITY_FPING_RUN = PRIVSEP_STAGE=$(STAGE) PRIVSEP_TEST_USER=$(TEST_USER) PARITY_FPING=$(PARITY_FPING) \
    PARITY_FPING_VERSION=$(FPING_LATEST) PARITY_ONLY=$(PARITY_ONLY) \
    $(CARGO) test -p parity --locked --test fping -- --include-ignored --nocapture

test-parity-fping: deps-test stage fping-upstream
	@PRIVSEP_TEST_USER=$(TEST_USER) scripts/test-user.sh >/dev/null
	$(CARGO) test -p parity --locked --test fping --no-run
	@mkdir -p $(CURDIR)/target/parity; \
	PARITY_MODE=raw PARITY_FPING_REPORT=$(CURDIR)/target/parity/fping-report.txt $(PARITY_FPING_RUN) \
	    >$(CURDIR)/target/parity/fping-raw.log 2>&1 & raw=$$!; \
	PARITY_MODE=datagram PARITY_FPING_REPORT=$(CURDIR)/target/parity/fping-report-datagram.txt \
	    $(PARITY_FPING_RUN) >$(CURDIR)/target/parity/fping-datagram.log 2>&1 & datagram=$$!; \
	wait $$raw; r=$$?; wait $$datagram; d=$$?; \
	cat $(CURDIR)/target/parity/fping-raw.log $(CURDIR)/target/parity/fping-datagram.log; \
	[ $$r = 0 ] && [ $$d = 0 ]
