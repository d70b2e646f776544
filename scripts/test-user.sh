#!/bin/sh
# Ensures the unprivileged user the demo and the tests run as exists, and
# prints its name. It has no home, no shell and no supplementary groups.
set -eu
user="${PRIVSEP_TEST_USER:-privsep-test}"
if ! getent passwd "$user" >/dev/null; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$user"
fi
echo "$user"
