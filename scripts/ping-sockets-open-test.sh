#!/bin/sh
# Checks scripts/ping-sockets-open.sh (make install's capability choice for
# ping) over sample ping_group_range files, every DATAGRAM_CAPS mode, and,
# as root, the real /proc file of a network namespace of its own whose
# range is opened (never the machine's own). Part of `make test-scripts`.
set -u

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/ping-sockets-open-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failures=0

# expect STATUS MODE [CONTENT]: CONTENT (printf'd) as the range file.
expect() {
    want=$1 mode=$2
    if [ $# -ge 3 ]; then
        printf '%b' "$3" >"$tmp/range"
        what="$mode '$(printf '%s' "$3")'"
    else
        rm -f "$tmp/range"
        what="$mode (no range file)"
    fi
    "$here/ping-sockets-open.sh" "$mode" "$tmp/range" 2>/dev/null
    got=$?
    if [ "$got" = "$want" ]; then
        printf "ok   %s -> %s\n" "$what" "$got"
    else
        printf "FAIL %s -> %s, expected %s\n" "$what" "$got" "$want"
        failures=$((failures + 1))
    fi
}

expect 0 auto '0\t2147483647\n'     # systemd's 50-default.conf, Debian 13
expect 0 auto '0\t4294967294\n'     # the kernel's largest range
expect 1 auto '1\t0\n'              # the kernel's default: nobody
expect 1 auto '100\t2147483647\n'   # some groups only: raw for the others
expect 1 auto '0\t1000\n'
expect 1 auto 'garbage\n'
expect 1 auto ''
expect 1 auto
expect 0 none '1\t0\n'
expect 1 caps '0\t2147483647\n'
expect 2 sometimes '0\t2147483647\n'

if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
    # The real sysctl file, read as the script reads it.
    if unshare -n sh -c "echo '0 2147483647' >/proc/sys/net/ipv4/ping_group_range && '$here/ping-sockets-open.sh' auto"; then
        echo "ok   auto, /proc of a namespace with the range open -> 0"
    else
        echo "FAIL auto, /proc of a namespace with the range open"
        failures=$((failures + 1))
    fi
    if unshare -n sh -c "echo '1 0' >/proc/sys/net/ipv4/ping_group_range && ! '$here/ping-sockets-open.sh' auto"; then
        echo "ok   auto, /proc of a namespace with the range closed -> 1"
    else
        echo "FAIL auto, /proc of a namespace with the range closed"
        failures=$((failures + 1))
    fi
fi

[ "$failures" = 0 ] && echo "ping-sockets-open-test: passed" || echo "ping-sockets-open-test: $failures failed"
[ "$failures" = 0 ]
