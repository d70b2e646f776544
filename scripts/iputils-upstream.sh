#!/bin/sh
# Provides upstream iputils for the parity suites and stages it with file
# capabilities in a root-owned directory under /tmp, where the unprivileged
# test user can run it. Two releases, everything from the Debian package
# registry:
#
# 20240905's ping (Debian 13's, 3:20240905-3), as STAGE/ping:
#
#   1. Debian 13's source package, built here with meson (ping only), when
#      the mirror serves trixie's source files;
#   2. otherwise Debian 13's binary packages (iputils-ping and the trixie
#      libraries it needs, down to trixie's libc and dynamic loader),
#      unpacked with dpkg-deb. That ping needs a newer glibc than Debian 12
#      has, so the staged copy is pointed at the staged trixie loader and
#      libraries (patchelf: interpreter and RPATH, nothing else changes) and
#      is exec'd directly, like /usr/bin/ping: argv[0] reaches it unchanged
#      and its own file capability applies (the loader run as a program
#      would be the exec'd file instead, and would need the capability).
#
# 20250605, upstream's latest release: ping, arping and clockdiff, as
# STAGE/20250605/{ping,arping,clockdiff}, built here with meson from Debian's
# source package of that release (3:20250605-N, in forky and sid). When the
# mirror serves the package's upstream tarball but not its .dsc or Debian
# part, the tarball alone is built, after checking it against the SHA-256
# of the signed Sources index (Debian's changelog for 3:20250605-1 lists
# the new upstream release and nothing else). Debian 12's glibc builds it,
# so no library is staged. Capabilities as Debian installs them: arping
# cap_net_raw, clockdiff cap_net_raw and cap_sys_nice; ping cap_net_raw
# (Debian gives it none and relies on ping_group_range; the suite gives it
# raw sockets like the other references, see parity/README.md).
#
# Usage: scripts/iputils-upstream.sh CACHE STAGE [GIT]
#   CACHE  a directory under target/: the private apt configuration, the
#          unpacked source and its build, or the unpacked binary packages
#          (kept, so a second run only re-stages)
#   STAGE  where the tools go (STAGE/ping, with ping4 and ping6 links, and
#          STAGE/lib for the binary packages' libraries; STAGE/20250605/ for
#          the latest release's ping, ping4, ping6, arping and clockdiff)
#   GIT    only when given: a clone (URL or git directory) of upstream
#          iputils, whose tag 20240905 is built instead of the binary
#          packages when the mirror has no source (the same release without
#          Debian's patches; needs access to that clone)
#
# The packages come through an apt configuration of its own
# (scripts/private-apt.sh): the machine's apt lists are never read, its apt
# sources only for the mirror's URI, and neither is changed.
set -eu

cache=$1
stage=$2
git_src=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
bin=$cache/build/ping/ping
debroot=$cache/deb/root
version=3:20240905-3

apt_dir=$cache/apt
apt() { "$here/private-apt.sh" "$apt_dir" "$@"; }

# Debian 13's binary packages: iputils-ping and everything it depends on,
# recursively (libc6, libcap2, libidn2-0, libunistring5, ...), unpacked into
# $debroot.
fetch_binary() {
    rm -rf "$cache/deb"
    mkdir -p "$cache/deb/debs" "$cache/deb/unpack"
    pkgs=$(apt run apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
        --no-breaks --no-replaces --no-enhances iputils-ping | grep -v '^ ' | grep -v '^<' |
        grep -vx iputils-ping | sort -u)
    # shellcheck disable=SC2086 # the package list is split on purpose
    (cd "$cache/deb/debs" && apt run apt-get -qq download "iputils-ping=$version" $pkgs)
    for deb in "$cache"/deb/debs/*.deb; do
        dpkg-deb -x "$deb" "$cache/deb/unpack"
        dpkg-deb -W "$deb" >>"$cache/deb/versions"
    done
    mv "$cache/deb/unpack" "$debroot"
}

if [ ! -x "$bin" ] && [ ! -x "$debroot/usr/bin/ping" ]; then
    if [ ! -d "$cache/src" ]; then
        apt setup deb trixie deb-src trixie
        src=$(apt source iputils "$version" iputils-20240905 "" "$cache/get")
        if [ -z "$src" ] && [ -n "$git_src" ]; then
            echo "iputils-upstream: no source package; using tag 20240905 of $git_src" >&2
            src=$cache/get/iputils-20240905
            mkdir -p "$src"
            if [ -d "$git_src" ]; then
                git --git-dir="$git_src" archive 20240905 | tar -x -C "$src"
            else
                rm -rf "$src"
                git clone -q --depth 1 --branch 20240905 "$git_src" "$src"
            fi
        fi
        if [ -n "$src" ]; then
            mv "$src" "$cache/src"
        else
            echo "iputils-upstream: no source package; using Debian 13's binary packages" >&2
            fetch_binary
        fi
    fi
    if [ -d "$cache/src" ]; then
        rm -rf "$cache/build"
        # Only ping; no man pages, translations or IDN (the references
        # compare output on numeric and hosts-file names).
        meson setup "$cache/build" "$cache/src" \
            -DBUILD_ARPING=false -DBUILD_CLOCKDIFF=false -DBUILD_TRACEPATH=false \
            -DBUILD_MANS=false -DBUILD_HTML_MANS=false -DUSE_IDN=true \
            -DUSE_GETTEXT=false -DSKIP_TESTS=true -DUSE_CAP=true >"$cache/meson.log" 2>&1 \
            || { tail -n 30 "$cache/meson.log" >&2; exit 2; }
        ninja -C "$cache/build" ping/ping >"$cache/ninja.log" 2>&1 \
            || { tail -n 30 "$cache/ninja.log" >&2; exit 2; }
    fi
fi

# The staged ping gets a file capability: its directory must be root's, not
# one another user created in /tmp beforehand (or a link to elsewhere).
if [ -L "$stage" ] || { [ -e "$stage" ] && [ "$(stat -c %u "$stage")" != 0 ]; }; then
    echo "iputils-upstream: $stage exists and is not a directory owned by root" >&2
    exit 2
fi
install -d -m 0755 -o root -g root "$stage"
rm -rf "$stage/lib"
if [ -x "$bin" ]; then
    install -m 0755 -o root -g root "$bin" "$stage/ping"
else
    # The trixie libraries, loader included, root's and read-only to others
    # (the capability-carrying ping loads them).
    install -d -m 0755 -o root -g root "$stage/lib"
    find "$debroot/usr/lib/x86_64-linux-gnu" -maxdepth 1 -name '*.so*' \( -type f -o -type l \) \
        -exec cp -P -t "$stage/lib" {} +
    chown -hR root:root "$stage/lib"
    chmod -R go-w "$stage/lib"
    install -m 0755 -o root -g root "$debroot/usr/bin/ping" "$stage/ping"
    # DT_RPATH (not RUNPATH) so that the libraries' own dependencies
    # (libunistring for libidn2) come from there too; the loader honours an
    # absolute RPATH in secure-execution mode (file capabilities).
    patchelf --set-interpreter "$stage/lib/ld-linux-x86-64.so.2" \
        --force-rpath --set-rpath "$stage/lib" "$stage/ping"
    # Every library must be trixie's: one from the machine would mean a
    # missing package.
    LD_TRACE_LOADED_OBJECTS=1 "$stage/ping" | awk -v lib="$stage/lib/" '
        /=>/ && index($3, lib) != 1 { print "iputils-upstream: not staged: " $0; bad = 1 }
        END { exit bad }' >&2 || exit 2
fi
ln -sf ping "$stage/ping4"
ln -sf ping "$stage/ping6"
setcap cap_net_raw=ep "$stage/ping"
"$stage/ping" -V | head -n 1

# ---- 20250605 ----------------------------------------------------------
latest=20250605
latest_dir=$cache/$latest
latest_tools="ping/ping arping clockdiff"

# Debian's source suites that carry the latest release.
latest_suites="forky sid"

latest_built() {
    for tool in $latest_tools; do
        [ -x "$latest_dir/build/$tool" ] || return 1
    done
}

if ! latest_built; then
    if [ ! -d "$latest_dir/src" ]; then
        # The latest release's source next to trixie's binary packages (the
        # fallback above must keep resolving those).
        entries="deb trixie deb-src trixie"
        for s in $latest_suites; do entries="$entries deb-src $s"; done
        # shellcheck disable=SC2086 # the entries are split on purpose
        apt setup $entries
        v=$(apt newest-source iputils "3:$latest")
        src=$(apt source iputils "$v" "iputils-$latest" "iputils_$latest.orig.tar.xz" "$latest_dir/get")
        if [ -z "$src" ] || [ ! -f "$src/meson.build" ]; then
            echo "iputils-upstream: iputils $v: neither its source package nor its tarball" >&2
            exit 2
        fi
        mv "$src" "$latest_dir/src"
    fi
    rm -rf "$latest_dir/build"
    # No man pages, translations or tracepath; IDN as Debian builds it.
    meson setup "$latest_dir/build" "$latest_dir/src" \
        -DBUILD_TRACEPATH=false -DBUILD_MANS=false -DBUILD_HTML_MANS=false \
        -DUSE_IDN=true -DUSE_GETTEXT=false -DSKIP_TESTS=true -DUSE_CAP=true \
        >"$latest_dir/meson.log" 2>&1 \
        || { tail -n 30 "$latest_dir/meson.log" >&2; exit 2; }
    # shellcheck disable=SC2086 # the tool list is split on purpose
    ninja -C "$latest_dir/build" $latest_tools >"$latest_dir/ninja.log" 2>&1 \
        || { tail -n 30 "$latest_dir/ninja.log" >&2; exit 2; }
fi

install -d -m 0755 -o root -g root "$stage/$latest"
for tool in $latest_tools; do
    install -m 0755 -o root -g root "$latest_dir/build/$tool" "$stage/$latest/${tool##*/}"
done
ln -sf ping "$stage/$latest/ping4"
ln -sf ping "$stage/$latest/ping6"
setcap cap_net_raw=ep "$stage/$latest/ping"
setcap cap_net_raw=ep "$stage/$latest/arping"
setcap cap_net_raw,cap_sys_nice=ep "$stage/$latest/clockdiff"
"$stage/$latest/arping" -V | head -n 1
