#!/bin/sh
# Two network namespaces joined by a veth pair, for running arping where it
# can reach nothing but its peer: veth0 198.18.0.1/24 in NAME-a, veth1
# 198.18.0.2/24 in NAME-b (the benchmarking range, inside them only).
#   scripts/netns-pair.sh up NAME      create them (as root)
#   scripts/netns-pair.sh down NAME    delete them again
# NAME must be unique per run (a tag and the caller's pid).
set -eu
[ $# -eq 2 ] || { echo "usage: $0 up|down NAME" >&2; exit 2; }
a=$2-a
b=$2-b
case $1 in
up)
    ip netns add "$a"
    ip netns add "$b"
    ip link add veth0 netns "$a" type veth peer name veth1 netns "$b"
    ip -n "$a" addr add 198.18.0.1/24 dev veth0
    ip -n "$b" addr add 198.18.0.2/24 dev veth1
    for ns in "$a" "$b"; do ip -n "$ns" link set lo up; done
    ip -n "$a" link set veth0 up
    ip -n "$b" link set veth1 up
    ;;
down)
    ip netns del "$a" 2>/dev/null || true
    ip netns del "$b" 2>/dev/null || true
    ;;
*)
    echo "usage: $0 up|down NAME" >&2
    exit 2
    ;;
esac
