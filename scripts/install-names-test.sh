#!/bin/sh
# Tests `make install IPUTILS_NAMES=1` and `make uninstall` (mk/iputils.mk)
# into a scratch DESTDIR, with the layout of the staged install (so nothing
# is rebuilt): the links and their targets, the refusal to overwrite
# another program's file, and an uninstall that removes only privsep's links.
# Usage: scripts/install-names-test.sh PREFIX     (as root; make's variables
# such as CARGO pass through the environment)
set -u

[ $# -eq 1 ] || { echo "usage: $0 PREFIX" >&2; exit 2; }
prefix=$1
src=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/privsep-install-names.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failures=0
pass() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
check() {
    what=$1
    shift
    if "$@" >"$tmp/out" 2>&1; then pass "$what"; else fail "$what"; sed 's/^/     | /' "$tmp/out"; fi
}
mk() { make -C "$src" --no-print-directory PREFIX="$prefix" "$@"; }

root=$tmp/root
bin=$root$prefix/bin
man=$root$prefix/share/man/man8
check "make install IPUTILS_NAMES=1" mk install DESTDIR="$root" IPUTILS_NAMES=1
links=${PRIVSEP_IPUTILS_LINKS:?PRIVSEP_IPUTILS_LINKS: NAME:TOOL pairs of the descriptors (make test-install-names sets it)}
for pair in $links; do
    name=${pair%%:*} tool=${pair#*:}
    check "$name -> privsep-$tool" test "$(readlink "$bin/$name")" = "privsep-$tool"
    check "$name.8 -> privsep-$tool.8, which exists" \
        sh -c "test \"\$(readlink '$man/$name.8')\" = privsep-$tool.8 && test -f '$man/$name.8'"
done
check "a second install with the names is fine" mk install DESTDIR="$root" IPUTILS_NAMES=1

# Another program's ping: left alone, one line, exit 2.
root2=$tmp/other
mkdir -p "$root2$prefix/bin"
echo 'not privsep' >"$root2$prefix/bin/ping"
mk install DESTDIR="$root2" IPUTILS_NAMES=1 >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -ne 0 ] && [ "$(grep -c . "$tmp/err")" -ge 1 ] &&
    grep -q "ping exists and is not a link to privsep-ping" "$tmp/err" &&
    [ "$(cat "$root2$prefix/bin/ping")" = 'not privsep' ]; then
    pass "another program's ping is not overwritten (make stops: $(grep 'not a link' "$tmp/err"))"
else
    fail "another program's ping: make exit $rc"
    sed 's/^/     | /' "$tmp/err"
fi

# Uninstall: privsep's links go, a foreign link with an iputils name stays.
ln -sfn /usr/bin/true "$bin/clockdiff"
check "make uninstall" mk uninstall DESTDIR="$root"
for pair in $links; do
    name=${pair%%:*}
    [ "$name" = clockdiff ] && continue   # the foreign link above
    check "$name is gone" sh -c "! test -L '$bin/$name' && ! test -e '$bin/$name' && ! test -L '$man/$name.8'"
done
check "a link that is not privsep's stays" test "$(readlink "$bin/clockdiff")" = /usr/bin/true
check "the launchers are gone" sh -c "! ls '$bin'/privsep-* 2>/dev/null | grep -q ."

if [ "$failures" -ne 0 ]; then
    echo "install-names-test: $failures check(s) failed"
    exit 1
fi
echo "install-names-test: all checks passed"
