# Upstream's own test suites against privsep's tools (scripts/upstream-suites.py):
# fping's ci/test-*.pl (Debian 12's fping 5.1 source package; Perl,
# Test::Command) against privsep-fping, Debian 12's fping and upstream's
# latest release (FPING_LATEST, mk/parity.mk), in raw and datagram mode; and
# mtr 0.96's test/{cmdparse,param,probe}.py (Debian forky's source package)
# against privsep-mtr-packet and Debian 12's mtr-packet. As the test user,
# in network namespaces of the suite's own; a test that names an internet
# address never runs (parity/upstream-suites/*.json say which and why). The
# sources come through a private apt configuration (scripts/private-apt.sh)
# and are cached under target/upstream-suites.
#
#   make test-upstream-suites   (root) one summary line per suite and mode
#                               (UPSUITES_ONLY=fping or mtr runs one)
#
# It runs /usr/bin/fping and /usr/bin/mtr-packet as references: the PARITY
# lane, after the suites that divert /usr/bin names.

UPSUITES_ONLY ?=

.PHONY: test-upstream-suites

TEST_TARGETS += test-upstream-suites
TEST_LANE_PARITY += test-upstream-suites

test-upstream-suites: deps-test stage fping-upstream
	@PRIVSEP_TEST_USER=$(TEST_USER) scripts/test-user.sh >/dev/null
	UPSUITES_ONLY=$(UPSUITES_ONLY) scripts/upstream-suites.py $(CURDIR)/target/upstream-suites \
	    $(STAGE) $(TEST_USER) $(PARITY_FPING) $(FPING_LATEST)
