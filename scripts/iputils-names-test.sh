#!/bin/sh
# Real clients of the iputils and fping names, run against privsep as the
# system's ping, arping, clockdiff and fping, as the unprivileged USER:
#   - monitoring-plugins' check_ping (it runs /bin/ping -4 / -6 -n -U -w -c)
#     for 127.0.0.1 and ::1: PING OK;
#   - upstream iputils' own test suite (its test/ meson files: ping's
#     matrix of options and destinations, arping -V, clockdiff -V), run by
#     meson against plain `ping`, `arping`, `clockdiff` found in PATH;
#   - a duplicate-address check as ifupdown-style scripts do it
#     (`arping -q -c 2 -w 3 -D -I IFACE ADDR`: 1 when another host answers
#     for ADDR, 0 when it is free) in a namespace pair of its own;
#   - clockdiff by name; and the messages, which must name the program as
#     invoked (`ping: …`, `/bin/ping: …`), launcher failures included;
#   - fping and fping6 by name, with Zabbix's and Smokeping's command lines
#     (fping6 pings IPv6 only, as fping does when so named).
#
# Usage (as root):
#   scripts/iputils-names-test.sh [--bind BINDIR] USER UPSTREAM_TEST_DIR
#     BINDIR             privsep's launchers (privsep-ping, …) to bind-mount
#                        over /usr/bin/ping, arping, clockdiff and fping
#                        (Debian's, which must be installed) in a mount
#                        namespace of this test's own (make test, on a staged
#                        install); without it, the names must already be
#                        privsep's (the privsep-iputils package installed)
#     UPSTREAM_TEST_DIR  the test/ directory of upstream iputils' source
#
# Every check runs even when an earlier one failed; exit 1 if any failed.
set -u

bind=""
if [ "${1:-}" = --bind ]; then
    bind=$2
    shift 2
fi
[ $# -eq 2 ] || { echo "usage: $0 [--bind BINDIR] USER UPSTREAM_TEST_DIR" >&2; exit 2; }
user=$1
upstream=$2
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" -eq 0 ] || { echo "iputils-names-test: must run as root (namespaces, setpriv)" >&2; exit 2; }
[ -f "$upstream/ping/meson.build" ] || { echo "iputils-names-test: no ping/meson.build in $upstream" >&2; exit 2; }

if [ -z "${PRIVSEP_NAMES_IN_NS:-}" ]; then
    # A mount namespace of our own, for Debian's default /etc/hosts
    # (upstream's tests ping localhost in both families; this machine's may
    # name only 127.0.0.1) and, with --bind, where the iputils names are
    # privsep's launchers (the same inodes: their file capabilities come
    # along). Nothing outside it changes.
    PRIVSEP_NAMES_IN_NS=1 exec unshare --mount --propagation private -- "$0" ${bind:+--bind "$bind"} "$@"
fi
hosts=$(mktemp /tmp/privsep-names-hosts.XXXXXX)
printf '%s\n' '127.0.0.1 localhost' '::1 localhost ip6-localhost ip6-loopback' >"$hosts"
chmod 0644 "$hosts"
mount --bind "$hosts" /etc/hosts || exit 2
rm -f "$hosts"
if [ -n "$bind" ]; then
    # Each tool's own name (NAME:TOOL pairs of the descriptors, make
    # passes them); its other names are links to it and follow.
    for pair in ${PRIVSEP_IPUTILS_LINKS:?PRIVSEP_IPUTILS_LINKS: NAME:TOOL pairs (make test-iputils-names sets it)}; do
        name=${pair%%:*}
        [ "$name" = "${pair#*:}" ] || continue
        launcher=$bind/privsep-${pair#*:}
        [ -x "$launcher" ] || { echo "iputils-names-test: no $launcher" >&2; exit 2; }
        [ -f "/usr/bin/$name" ] || { echo "iputils-names-test: no /usr/bin/$name to bind over (scripts/install-deps.sh test)" >&2; exit 2; }
        # /usr/bin/ping4 and ping6 are links to ping, Debian's fping6 one
        # to fping: they follow.
        mount --bind "$launcher" "/usr/bin/$name" || exit 2
    done
fi

tmp=$(mktemp -d /tmp/privsep-names-test.XXXXXX)
chmod 0755 "$tmp"
netns=privsep-names-$$
trap '"$here"/netns-pair.sh down "$netns"; rm -rf "$tmp"' EXIT
failures=0
pass() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
show() { sed 's/^/     | /' "$1"; }
# The unprivileged user, with PATH as a login shell has it.
asuser() {
    setpriv --reuid="$user" --regid="$user" --clear-groups --inh-caps=-all \
        env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$tmp" LC_ALL=C "$@"
}
# expect WHAT STATUS PATTERN COMMAND...: as the user, COMMAND exits STATUS
# and its output (stdout and stderr) has a line matching the extended
# regular expression PATTERN.
expect() {
    what=$1 status=$2 pattern=$3
    shift 3
    asuser "$@" >"$tmp/out" 2>&1
    rc=$?
    if [ "$rc" -eq "$status" ] && grep -Eq "$pattern" "$tmp/out"; then
        pass "$what"
    else
        fail "$what (exit $rc, wanted $status and /$pattern/)"
        show "$tmp/out"
    fi
}
# expect_stderr WHAT STATUS FIRST-LINE COMMAND...: stderr's first line is
# exactly FIRST-LINE.
expect_stderr() {
    what=$1 status=$2 line=$3
    shift 3
    asuser "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ "$rc" -eq "$status" ] && [ "$(head -n 1 "$tmp/err")" = "$line" ]; then
        pass "$what"
    else
        fail "$what (exit $rc, wanted $status and '$line' first on stderr)"
        show "$tmp/err"
    fi
}

# --- the names are privsep's ---------------------------------------------------
for name in ping ping4 ping6 arping clockdiff; do
    expect "$name -V is privsep's" 0 '^privsep' "$name" -V
done
expect "/bin/ping -V is privsep's" 0 '^privsep' /bin/ping -V

# --- messages name the program as invoked ---------------------------------------
expect_stderr "ping: usage error, named ping" 2 "ping: usage error: Destination address required" ping
expect_stderr "/bin/ping: usage error, named /bin/ping" 2 "/bin/ping: usage error: Destination address required" /bin/ping
# A launcher failure (an address space too small for the worker to start).
expect "ping's launcher failure, named ping" 2 '^ping: refusing to run: ' prlimit --as=3000000 ping -c 1 127.0.0.1
expect "clockdiff's launcher failure, named clockdiff" 2 '^clockdiff: refusing to run: ' prlimit --as=3000000 clockdiff 127.0.0.1
expect "arping's launcher failure, named arping" 2 '^arping: refusing to run: ' prlimit --as=3000000 arping -c 1 -I lo 127.0.0.1
# Debian's fping would answer: only privsep's launcher says this.
expect "fping's launcher failure, named fping (privsep's)" 2 '^fping: refusing to run: ' prlimit --as=3000000 fping 127.0.0.1

# --- fping by name, as monitoring systems run it ------------------------------------
printf '%s\n' 127.0.0.1 ::1 >"$tmp/targets"
chmod 0644 "$tmp/targets"
expect "fping 127.0.0.1" 0 '^127\.0\.0\.1 is alive$' fping 127.0.0.1
expect "fping6 -A localhost: IPv6 only, by name" 0 '^::1 is alive$' fping6 -A localhost
# Zabbix: `fping -C<n> -p<ms> -b<bytes> -t<ms> -i<ms> 2>&1 <targets`.
expect "Zabbix's fping -C3 ... <targets: 127.0.0.1" 0 '^127\.0\.0\.1 : [0-9.]+ [0-9.]+ [0-9.]+$' \
    sh -c "fping -C3 -p100 -b56 -t500 -i10 2>&1 <'$tmp/targets'"
expect "Zabbix's fping -C3 ... <targets: ::1" 0 '^::1 +: [0-9.]+ [0-9.]+ [0-9.]+$' \
    sh -c "fping -C3 -p100 -b56 -t500 -i10 2>&1 <'$tmp/targets'"
# Smokeping's FPing probe.
expect "Smokeping's fping -C 3 -q -B1 -r1 -i10 127.0.0.1" 0 '^127\.0\.0\.1 : [0-9.]+ [0-9.]+ [0-9.]+$' \
    fping -C 3 -q -B1 -r1 -i10 127.0.0.1

# --- monitoring-plugins' check_ping -------------------------------------------------
check_ping=/usr/lib/nagios/plugins/check_ping
# Generous thresholds: the check is that the plugin understands ping's
# output and exit status, not how fast loopback is. -v -v -v shows the
# command, ping's output and, when the plugin warns about it, what ping
# wrote to stderr ("Got stderr: ...").
expect "check_ping -4 127.0.0.1: PING OK" 0 '^PING OK - Packet loss = 0%' \
    "$check_ping" -v -v -v -4 -H 127.0.0.1 -w 5000,80% -c 10000,100% -p 3 -t 120
expect "check_ping -6 ::1: PING OK" 0 '^PING OK - Packet loss = 0%' \
    "$check_ping" -v -v -v -6 -H ::1 -w 5000,80% -c 10000,100% -p 3 -t 120

# --- upstream iputils' own tests, against the plain names -----------------------------
# Upstream's test/ meson files, under a top-level project that finds the
# programs in PATH instead of building them (its own meson.build would).
mkdir -p "$tmp/iputils"
cp -r "$upstream" "$tmp/iputils/test"
cat >"$tmp/iputils/meson.build" <<'EOF'
project('iputils-tests-on-the-system-names')
ping = find_program('ping')
arping = find_program('arping')
clockdiff = find_program('clockdiff')
build_ping = true
build_arping = true
build_clockdiff = true
build_tracepath = false
subdir('test')
EOF
chown -R "$user" "$tmp/iputils"
echo "\$ meson setup && meson test    # upstream iputils' tests, as $user"
if asuser sh -c "cd '$tmp/iputils' && meson setup build >setup.log 2>&1 && meson test -C build --num-processes 1 >test.log 2>&1"; then
    result=0
else
    result=1
fi
grep -E '^ *[0-9]+/[0-9]+ ' "$tmp/iputils/test.log" | sed 's/^/     | /'
ran=$(grep -cE '^ *[0-9]+/[0-9]+ ' "$tmp/iputils/test.log" 2>/dev/null || echo 0)
okcount=$(grep -E '^Ok: ' "$tmp/iputils/test.log" | awk '{print $2}')
expfail=$(grep -E '^Expected Fail: ' "$tmp/iputils/test.log" | awk '{print $3}')
if [ "$result" -eq 0 ] && [ "$ran" -gt 0 ] &&
    grep -q 'Program ping found: YES (/usr/bin/ping)' "$tmp/iputils/setup.log"; then
    pass "upstream iputils' tests on /usr/bin/ping: $ran run, ${okcount:-?} ok, ${expfail:-0} expected failures"
else
    fail "upstream iputils' tests on /usr/bin/ping (meson exit $result, $ran run)"
    show "$tmp/iputils/setup.log"
    tail -n 30 "$tmp/iputils/test.log" 2>/dev/null | sed 's/^/     | /'
    [ -f "$tmp/iputils/build/meson-logs/testlog.txt" ] && grep -B2 -A12 'FAIL' "$tmp/iputils/build/meson-logs/testlog.txt" | head -n 60 | sed 's/^/     | /'
fi

# --- clockdiff by name ---------------------------------------------------------------
expect "clockdiff 127.0.0.1" 0 '^[0-9]+ -?[0-9]+ -?[0-9]+$' clockdiff 127.0.0.1

# --- duplicate-address detection, ifupdown-style -------------------------------------
# veth0 198.18.0.1 in $netns-a, its peer 198.18.0.2 in $netns-b.
"$here"/netns-pair.sh up "$netns" || exit 2
dad() { ip netns exec "$netns-a" setpriv --reuid="$user" --regid="$user" --clear-groups --inh-caps=-all \
    env -i PATH=/usr/bin:/bin arping -q -c 2 -w 3 -D -I veth0 "$1"; }
dad 198.18.0.2 >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 1 ] && [ ! -s "$tmp/out" ]; then pass "arping -D: 198.18.0.2 is in use (exit 1)"; else
    fail "arping -D for the peer's address: exit $rc, wanted 1"; show "$tmp/out"; fi
dad 198.18.0.77 >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && [ ! -s "$tmp/out" ]; then pass "arping -D: 198.18.0.77 is free (exit 0)"; else
    fail "arping -D for a free address: exit $rc, wanted 0"; show "$tmp/out"; fi
# check_ping sees a failure too: nobody answers for 198.18.0.77.
if ip netns exec "$netns-a" setpriv --reuid="$user" --regid="$user" --clear-groups --inh-caps=-all \
    env -i PATH=/usr/bin:/bin "$check_ping" -4 -H 198.18.0.77 -w 5000,80% -c 10000,100% -p 1 -t 3 >"$tmp/out" 2>&1; then
    fail "check_ping for a destination nobody answers: OK?"; show "$tmp/out"
elif grep -Eq '^(PING CRITICAL - Packet loss = 100%|CRITICAL - Host Unreachable \(198\.18\.0\.77\))' "$tmp/out"; then
    pass "check_ping for a destination nobody answers: $(cat "$tmp/out")"
else
    fail "check_ping for a destination nobody answers: unexpected output"; show "$tmp/out"
fi
# The script's idiom: `if ! arping ... -D ...; then echo in use; fi`.
if ip netns exec "$netns-a" setpriv --reuid="$user" --regid="$user" --clear-groups --inh-caps=-all \
    sh -c 'if ! arping -q -c 2 -w 3 -D -I veth0 198.18.0.2; then echo "Error, some other host already uses address 198.18.0.2."; exit 1; fi' \
    >"$tmp/out" 2>&1; then
    fail "an ifupdown-style script did not see the duplicate"; show "$tmp/out"
elif grep -qx 'Error, some other host already uses address 198.18.0.2.' "$tmp/out"; then
    pass "an ifupdown-style script sees the duplicate"
else
    fail "an ifupdown-style script: unexpected output"; show "$tmp/out"
fi

if [ "$failures" -ne 0 ]; then
    echo "iputils-names-test: $failures check(s) failed"
    exit 1
fi
echo "iputils-names-test: all checks passed"
