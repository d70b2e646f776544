# Tests of the helper scripts under scripts/ that need no install.
#
#   make test-scripts   scripts/debian-mirror.sh over sample apt sources
#                       (deb822, one-line, both, none configured);
#                       scripts/ping-sockets-open.sh over sample ranges

.PHONY: test-scripts

TEST_TARGETS += test-scripts

test-scripts:
	scripts/debian-mirror-test.sh
	scripts/ping-sockets-open-test.sh
