#!/bin/sh
# A routed chain of four network namespaces, for tracing a path that
# exists on this machine only: a client, two routers, a destination.
#
#   NAME-c  veth c0   198.18.0.1/24  2001:db8:0::1/64   default via the first router
#   NAME-r1 veth r1a  198.18.0.2/24  2001:db8:0::2/64
#           veth r1b  198.18.1.1/24  2001:db8:1::1/64   forwards
#   NAME-r2 veth r2a  198.18.1.2/24  2001:db8:1::2/64
#           veth r2b  198.18.2.1/24  2001:db8:2::1/64   forwards
#   NAME-d  veth d0   198.18.2.2/24  2001:db8:2::2/64   default via the second router
#
# So a trace from NAME-c to 198.18.2.2 (2001:db8:2::2) shows 198.18.0.2,
# 198.18.1.2, 198.18.2.2. The first router drops 198.18.8.0/24
# (2001:db8:8::/64) silently, answers host unreachable for 198.18.7.0/24
# (2001:db8:7::/64) and administratively prohibited for 198.18.6.0/24
# (2001:db8:6::/64). ICMP rate limits are off inside the chain (every
# probe gets its answer), DAD is off (addresses usable at once). Names in
# NAME-c resolve through /etc/netns/NAME-c only: dest.test is the
# destination, the resolver is 127.0.0.1 there, where nothing listens.
#
#   scripts/netns-chain.sh up NAME      create them (as root)
#   scripts/netns-chain.sh down NAME    delete them again
# NAME must be unique per run (a tag and the caller's pid) and short (the
# interface names are fixed, the namespace names are not).
set -eu
[ $# -eq 2 ] || { echo "usage: $0 up|down NAME" >&2; exit 2; }
c=$2-c r1=$2-r1 r2=$2-r2 d=$2-d

sysctls() {
    ip netns exec "$1" sh -ec '
        sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
        sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0
        sysctl -qw net.ipv4.icmp_msgs_per_sec=100000 net.ipv4.icmp_msgs_burst=100000
        sysctl -qw net.ipv4.ping_group_range="1 0"'
}

link() { # ns1 if1 ns2 if2
    ip link add "$2" netns "$1" type veth peer name "$4" netns "$3"
}

case $1 in
up)
    for ns in "$c" "$r1" "$r2" "$d"; do
        ip netns add "$ns"
        sysctls "$ns"
        ip -n "$ns" link set lo up
    done
    for ns in "$r1" "$r2"; do
        ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
    done
    link "$c" c0 "$r1" r1a
    link "$r1" r1b "$r2" r2a
    link "$r2" r2b "$d" d0
    addr() { # ns if v4 v6
        ip -n "$1" addr add "$3" dev "$2"
        ip -n "$1" addr add "$4" dev "$2" nodad
        ip -n "$1" link set "$2" up
    }
    addr "$c" c0 198.18.0.1/24 2001:db8:0::1/64
    addr "$r1" r1a 198.18.0.2/24 2001:db8:0::2/64
    addr "$r1" r1b 198.18.1.1/24 2001:db8:1::1/64
    addr "$r2" r2a 198.18.1.2/24 2001:db8:1::2/64
    addr "$r2" r2b 198.18.2.1/24 2001:db8:2::1/64
    addr "$d" d0 198.18.2.2/24 2001:db8:2::2/64
    ip -n "$c" route add default via 198.18.0.2
    ip -n "$c" -6 route add default via 2001:db8:0::2
    ip -n "$r1" route add 198.18.2.0/24 via 198.18.1.2
    ip -n "$r1" -6 route add 2001:db8:2::/64 via 2001:db8:1::2
    # Where probes go unanswered, and where the first router answers
    # unreachable (host, then administratively prohibited).
    ip -n "$r1" route add blackhole 198.18.8.0/24
    ip -n "$r1" -6 route add blackhole 2001:db8:8::/64
    ip -n "$r1" route add unreachable 198.18.7.0/24
    ip -n "$r1" -6 route add unreachable 2001:db8:7::/64
    ip -n "$r1" route add prohibit 198.18.6.0/24
    ip -n "$r1" -6 route add prohibit 2001:db8:6::/64
    ip -n "$r2" route add 198.18.0.0/24 via 198.18.1.1
    ip -n "$r2" -6 route add 2001:db8:0::/64 via 2001:db8:1::1
    ip -n "$d" route add default via 198.18.2.1
    ip -n "$d" -6 route add default via 2001:db8:2::1
    mkdir -p "/etc/netns/$c"
    printf '127.0.0.1 localhost\n::1 localhost\n198.18.2.2 dest.test\n2001:db8:2::2 dest.test\n' \
        > "/etc/netns/$c/hosts"
    printf 'nameserver 127.0.0.1\n' > "/etc/netns/$c/resolv.conf"
    ;;
down)
    for ns in "$c" "$r1" "$r2" "$d"; do
        ip netns del "$ns" 2>/dev/null || true
    done
    rm -rf "/etc/netns/$c"
    ;;
*)
    echo "usage: $0 up|down NAME" >&2
    exit 2
    ;;
esac
