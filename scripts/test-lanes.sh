#!/usr/bin/env bash
# Runs the suites of `make test` in lanes, after `make test-prepare` has
# built everything they need (see the Makefile's `test` target).
#
#   test-lanes.sh LOGDIR VM EXCLUSIVE RUST PARITY CHECKS
#
# Each argument after LOGDIR is a space-separated list of make targets (one
# suite each). The lanes:
#
#   VM         the QEMU suite: the machine's CPU, nothing of the host's
#              /usr/bin. Starts at once.
#   EXCLUSIVE  suites that change system-wide state while they run (the
#              packages divert /usr/bin/ping, ...): one after another, with
#              nothing but the VM lane beside them.
#   RUST, PARITY, CHECKS
#              after EXCLUSIVE, the three at once: each lane's suites one
#              after another. They only read the staged installs and the
#              host's reference tools, and use network namespaces of their
#              own.
#
# Every suite runs as `$MAKE -o P ... SUITE` with P each target of
# TEST_PREPARE_OLD (the prerequisites test-prepare built), so that no lane
# reinstalls a staged binary another lane is running. Lines are prefixed
# with the suite's name; each suite's whole log is in LOGDIR/SUITE.log.
# Every suite runs even when another fails (as `make -k`); the summary lists
# each one's status and wall time, and the exit status is 1 when any failed.
set -uo pipefail

[ $# -eq 6 ] || { echo "usage: $0 LOGDIR VM EXCLUSIVE RUST PARITY CHECKS" >&2; exit 2; }
logdir=$1
vm=$2 exclusive=$3 rust=$4 parity=$5 checks=$6
make=${MAKE:-make}
old=()
for p in ${TEST_PREPARE_OLD:-}; do old+=(-o "$p"); done

rm -rf "$logdir" && mkdir -p "$logdir" || exit 2
start=$(date +%s)

# suite NAME: runs one suite, its output prefixed, and records
# "NAME STATUS SECONDS" in LOGDIR/NAME.result.
suite() {
    local name=$1 t0 rc
    t0=$(date +%s)
    echo "== $name: started at +$((t0 - start)) s"
    "$make" --no-print-directory "${old[@]}" "$name" 2>&1 \
        | tee "$logdir/$name.log" | sed -u "s/^/[$name] /"
    rc=${PIPESTATUS[0]}
    echo "$name $rc $(($(date +%s) - t0))" >"$logdir/$name.result"
    echo "== $name: $( [ "$rc" = 0 ] && echo passed || echo "FAILED (exit $rc)" ) in $(($(date +%s) - t0)) s"
}

# lane SUITES...: one after another.
lane() {
    local s
    for s in "$@"; do suite "$s"; done
}

# shellcheck disable=SC2086 # the lists are word lists by design
{
    lane $vm &
    lane $exclusive
    lane $rust &
    lane $parity &
    lane $checks &
    wait
}

echo
echo "make test: suites (wall seconds; $(($(date +%s) - start)) s in all since the build)"
failed=0
for s in $vm $exclusive $rust $parity $checks; do
    if [ -f "$logdir/$s.result" ]; then
        read -r name rc secs <"$logdir/$s.result"
    else
        name=$s rc=missing secs=-
    fi
    if [ "$rc" = 0 ]; then
        printf '  %-26s passed  %5s s\n' "$name" "$secs"
    else
        printf '  %-26s FAILED  %5s s  (exit %s; log %s)\n' "$name" "$secs" "$rc" "$logdir/$name.log"
        failed=1
    fi
done
exit "$failed"
