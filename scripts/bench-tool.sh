#!/bin/sh
# One tool's `make bench` run; mk/bench.mk calls it for each tool of TOOLS
# (the descriptors'). privsep's launcher and worker are the ones the
# descriptor names for this layout (`privsep-render layout --tool TOOL`);
# the bench runs where it asks to (`bench --tool TOOL --setup`: the host's
# namespaces, or the first namespace of a veth pair of its own with the
# routes it lists, removed again afterwards).
#   scripts/bench-tool.sh BENCH RENDER TOOL REFERENCE USER OUT [OPTION...]
# REFERENCE is the stock tool measured beside it; OUT its results file;
# OPTIONs go to the bench as they are.
set -u
[ $# -ge 6 ] || {
    echo "usage: $0 BENCH RENDER TOOL REFERENCE USER OUT [OPTION...]" >&2
    exit 2
}
bench=$1 render=$2 tool=$3 ref=$4 user=$5 out=$6
shift 6
fact() { "$render" layout --tool "$tool" | sed -n "s/^$1=//p"; }
launcher=$(fact LAUNCHER_PATH)
worker=$(fact WORKER_PATH)
[ -n "$launcher" ] && [ -n "$worker" ] || {
    echo "$0: no descriptor for tool $tool" >&2
    exit 2
}
setup=$("$bench" --tool "$tool" --setup) || exit 2
set -- --tool "$tool" --launcher "$launcher" --worker "$worker" --iputils "$ref" \
    --user "$user" --out "$out" "$@"
[ -n "$setup" ] || exec "$bench" "$@"

ns=privsep-bench-$tool-$$
"$(dirname "$0")/netns-pair.sh" up "$ns" || exit 2
rc=0
printf '%s\n' "$setup" | {
    while read -r kind side route; do
        case $kind in
        pair) ;;
        # $route is split into ip's words on purpose.
        # shellcheck disable=SC2086
        route) ip -n "$ns-$side" route add $route || exit 2 ;;
        *) echo "$0: bench --setup said $kind" >&2; exit 2 ;;
        esac
    done
} && ip netns exec "$ns-a" "$bench" "$@" || rc=$?
"$(dirname "$0")/netns-pair.sh" down "$ns"
exit $rc
