#!/bin/sh
# Runs one tool once as an unprivileged user, exactly as its descriptor's
# smoke facts say (policy/src/tools.rs, `Smoke`; printed by
# `privsep-render layout --tool TOOL` as SMOKE_ARGS, SMOKE_STDIN,
# SMOKE_PEER, SMOKE_EXPECT): `make demo` and the package test use it, so
# neither names a tool or its arguments.
# Usage: scripts/smoke.sh RENDER LAUNCHER USER TOOL      (as root)
#   RENDER    a privsep-render binary (any layout: the smoke facts do not
#             depend on it)
#   LAUNCHER  the launcher to run, e.g. /usr/bin/privsep-ping
# Prints the command line and the tool's output; exits 0 when the tool
# exited 0 and printed a line matching SMOKE_EXPECT, 1 otherwise, 2 when it
# could not run it. A tool whose SMOKE_PEER is yes runs in the first
# namespace of a veth pair of its own (scripts/netns-pair.sh), its peer
# 198.18.0.2 on veth0.
set -u

[ $# -eq 4 ] || { echo "usage: $0 RENDER LAUNCHER USER TOOL" >&2; exit 2; }
render=$1 launcher=$2 user=$3 tool=$4
here=$(cd "$(dirname "$0")" && pwd)

facts=$("$render" layout --tool "$tool") || exit 2
fact() { printf '%s\n' "$facts" | sed -n "s/^$1=//p"; }
args=$(fact SMOKE_ARGS)
stdin=$(fact SMOKE_STDIN)
peer=$(fact SMOKE_PEER)
expect=$(fact SMOKE_EXPECT)
[ -n "$expect" ] || { echo "smoke: no SMOKE_EXPECT for $tool" >&2; exit 2; }

out=$(mktemp /tmp/privsep-smoke.XXXXXX) || exit 2
ns=privsep-smoke-$$
trap 'rm -f "$out"; [ "$peer" != yes ] || "$here"/netns-pair.sh down "$ns"' EXIT

where=""
enter=""
if [ "$peer" = yes ]; then
    "$here"/netns-pair.sh up "$ns" || exit 2
    where=", in netns $ns-a (peer 198.18.0.2 in $ns-b)"
    enter="ip netns exec $ns-a"
fi
name=${launcher##*/}
# The arguments are plain words (the descriptor test forbids spaces and
# quotes in them): word splitting is what is wanted here.
if [ -n "$stdin" ]; then
    echo "\$ echo '$stdin' | $name${args:+ $args}    # as $user$where"
    # shellcheck disable=SC2086
    printf '%s\n' "$stdin" | $enter setpriv --reuid="$user" --regid="$user" --clear-groups \
        --inh-caps=-all "$launcher" $args >"$out" 2>&1
else
    echo "\$ $name${args:+ $args}    # as $user$where"
    # shellcheck disable=SC2086
    $enter setpriv --reuid="$user" --regid="$user" --clear-groups \
        --inh-caps=-all "$launcher" $args </dev/null >"$out" 2>&1
fi
rc=$?
cat "$out"
if [ $rc -ne 0 ]; then
    echo "smoke: $name exited $rc" >&2
    exit 1
fi
grep -Eq "$expect" "$out" || { echo "smoke: $name printed no line matching $expect" >&2; exit 1; }
