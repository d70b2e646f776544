#!/bin/sh
# An apt configuration of the caller's own, for fetching reference tools
# from the Debian package registry (scripts/iputils-upstream.sh,
# scripts/fping-upstream.sh): its own sources.list naming the machine's
# mirror or proxy (scripts/debian-mirror.sh), its own state, lists and
# cache, an empty dpkg status and no sources.list.d. The machine's apt
# sources are only read for the mirror's URI, its lists never, and neither
# is changed.
#
# Usage: scripts/private-apt.sh DIR COMMAND ...
#   DIR   the configuration's directory (under target/: its path holds no
#         space)
#   setup TYPE SUITE [TYPE SUITE]...
#                          writes DIR's sources.list, one line per pair
#                          (TYPE deb or deb-src, component main), and
#                          updates its lists
#   run PROGRAM ARGS...    apt-get or apt-cache with DIR's configuration
#   newest-source PKG VERSION
#                          the newest Debian revision (VERSION-N) of source
#                          package PKG that the lists know; exit 2 with a
#                          message naming the suites if none
#   source PKG V NAME ORIG GET
#                          source package PKG=V unpacked in directory GET
#                          (apt-get source; its messages in GET.log);
#                          prints the unpacked tree GET/NAME. When the
#                          mirror serves the upstream tarball ORIG (a file
#                          name) but not the .dsc or the Debian part: the
#                          tarball alone, after checking it against the
#                          SHA-256 of the signed Sources index, unpacked
#                          (ORIG empty: no such fallback). Prints nothing
#                          when neither could be had; exit 2 when the
#                          tarball's checksum is wrong.
set -eu

[ $# -ge 2 ] || { echo "usage: $0 DIR setup|run|newest-source|source ..." >&2; exit 2; }
dir=$1
command=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)

# The options apt-get and apt-cache take for DIR.
set_options() {
    opts="-o Dir::Etc::SourceList=$dir/etc/sources.list \
        -o Dir::Etc::SourceParts=- \
        -o Dir::State=$dir \
        -o Dir::State::Lists=$dir/lists \
        -o Dir::State::status=$dir/status \
        -o Dir::Cache=$dir \
        -o Dir::Cache::Archives=$dir/archives \
        -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= \
        -o APT::Sandbox::User=root -o APT::Architecture=amd64"
}
# $opts holds no spaces but between options (DIR's path has none), so it
# is split on purpose.
# shellcheck disable=SC2086
run() { program=$1; shift; set_options; "$program" $opts "$@"; }

# The Checksums-Sha256 entry of FILE in source package PKG's version V.
orig_sha256() {
    run apt-cache showsrc "$1" | awk -v v="$2" -v f="$3" '
        /^$/ { this = 0 }
        /^Version: / { this = ($2 == v) }
        /^Checksums-Sha256:/ { on = this; next }
        /^[^ ]/ { on = 0 }
        on && $3 == f { print $1; exit }'
}

case $command in
setup)
    mkdir -p "$dir/lists/partial" "$dir/archives/partial" "$dir/etc"
    mirror=$("$here/debian-mirror.sh") || exit 2
    : >"$dir/etc/sources.list"
    while [ $# -ge 2 ]; do
        printf '%s\n' "$1 $mirror $2 main" >>"$dir/etc/sources.list"
        shift 2
    done
    : >"$dir/status"
    run apt-get -qq update
    ;;
run)
    run "$@"
    ;;
newest-source)
    v=$(run apt-cache showsrc "$1" | sed -n "s/^Version: \($2-[0-9.]*\)\$/\1/p" | sort -V | tail -n 1)
    if [ -z "$v" ]; then
        suites=$(awk '$1 == "deb-src" { print $3 }' "$dir/etc/sources.list" | paste -sd ' ' -)
        echo "private-apt: no $1 $2-* source package in $suites" >&2
        exit 2
    fi
    echo "$v"
    ;;
source)
    pkg=$1 v=$2 name=$3 orig=$4 get=$5
    rm -rf "$get"
    mkdir -p "$get"
    # apt-get fails when the mirror lacks a file; what it did fetch is
    # checked below.
    (cd "$get" && run apt-get -qq source "$pkg=$v") >"$get.log" 2>&1 || true
    if [ -d "$get/$name" ]; then
        echo "$get/$name"
    elif [ -n "$orig" ] && [ -f "$get/$orig" ]; then
        want=$(orig_sha256 "$pkg" "$v" "$orig")
        got=$(sha256sum "$get/$orig" | cut -d ' ' -f 1)
        if [ -z "$want" ] || [ "$want" != "$got" ]; then
            echo "private-apt: $get/$orig: SHA-256 $got, the Sources index says '$want'" >&2
            exit 2
        fi
        echo "private-apt: no .dsc for $pkg $v; building its upstream tarball" >&2
        tar -xf "$get/$orig" -C "$get"
        [ ! -d "$get/$name" ] || echo "$get/$name"
    fi
    ;;
*)
    echo "private-apt: unknown command $command" >&2
    exit 2
    ;;
esac
