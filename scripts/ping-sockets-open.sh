#!/bin/sh
# Whether a launcher whose sockets are tried first as ICMP datagram sockets
# (ping: `DATAGRAM_FIRST=yes` in `privsep-render layout --tool ping`) is
# installed without any file capability. Exit 0: no capability; 1: the
# descriptor's file capability (cap_net_raw=p). `make install` asks it for
# each such tool; the Debian postinst makes the same test inline.
#
#   ping-sockets-open.sh MODE [RANGE_FILE]
#
# MODE (make install's DATAGRAM_CAPS):
#   auto  no capability where the kernel admits every group to ping sockets,
#         as Debian 13's iputils-ping relies on (net.ipv4.ping_group_range
#         "0 2147483647", set by systemd's 50-default.conf and Debian 13's
#         linux-sysctl-defaults); the capability otherwise. Read from the
#         installing machine's RANGE_FILE (/proc/sys/net/ipv4/ping_group_range).
#   none  never a capability (ping then needs ping sockets open to its users)
#   caps  always the capability (raw sockets where ping sockets are refused)
set -eu

mode=${1:-auto}
range_file=${2:-/proc/sys/net/ipv4/ping_group_range}

case $mode in
    none) exit 0 ;;
    caps) exit 1 ;;
    auto) ;;
    *) echo "ping-sockets-open: DATAGRAM_CAPS must be auto, none or caps, not '$mode'" >&2; exit 2 ;;
esac

# "LOW HIGH" (tab-separated in /proc). Every group: LOW 0 and HIGH at
# least 2147483647 (the largest value systemd and Debian set; the kernel
# caps the range at 4294967294). Read whole with cat: a sysctl file read a
# byte at a time (the shell's `read`) ends after its first byte.
range=$(cat "$range_file" 2>/dev/null) || exit 1
# shellcheck disable=SC2086 # split "LOW HIGH" into $1 and $2
set -- $range
[ $# -eq 2 ] || exit 1
low=$1 high=$2
case "$low$high" in
    *[!0-9]*|'') exit 1 ;;
esac
[ "$low" -eq 0 ] && [ "$high" -ge 2147483647 ]
