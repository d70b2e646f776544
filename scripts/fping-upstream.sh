#!/bin/sh
# Provides upstream fping's latest release for the fping parity suite and
# the bench, as Debian ships it (forky and sid), and stages it with the file
# capability Debian's postinst gives fping (cap_net_raw=ep) in a root-owned
# directory under /tmp, where the unprivileged test user can run it.
# Everything comes from the Debian package registry, in this order:
#
#   1. Debian's source package fping VERSION-N, built here (configure with
#      IPv4 and IPv6, as debian/rules does);
#   2. when the mirror serves the upstream tarball but not the .dsc or the
#      Debian part: the tarball alone, after checking it against the
#      SHA-256 of the signed Sources index;
#   3. otherwise Debian's binary package fping VERSION-N. It needs a newer
#      glibc than Debian 12 has, so the same suite's libc6 is unpacked too
#      and the staged copy is pointed at its loader and libc (patchelf:
#      interpreter and an absolute RPATH, which the loader honours in
#      secure-execution mode; nothing else changes). The copy is exec'd
#      directly, so argv[0] reaches it unchanged (fping prints it in its
#      usage text) and its own file capability applies.
#
# Usage: scripts/fping-upstream.sh CACHE STAGE VERSION
#   CACHE    a directory under target/: the private apt configuration and
#            what was fetched and built (kept: a second run only re-stages)
#   STAGE    the staged fping goes to STAGE/fping-VERSION/fping (with
#            STAGE/fping-VERSION/lib for the binary package's libraries)
#   VERSION  upstream's release, 5.5 say: the newest Debian revision of it
#            in forky and sid is taken
#
# The packages come through an apt configuration of its own
# (scripts/private-apt.sh): the machine's apt sources are only read and its
# lists never.
set -eu

cache=$1
stage=$2
version=$3
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
dest=$stage/fping-$version
built=$cache/fping-$version/build/fping
debroot=$cache/fping-$version/deb

apt_dir=$cache/apt
suites="forky sid"
apt() { "$here/private-apt.sh" "$apt_dir" "$@"; }

# Builds the source tree $1 as debian/rules does (IPv4 and IPv6 in one
# binary), logs in the cache.
build_source() {
    rm -rf "$cache/fping-$version/build" "$cache/fping-$version/buildsrc"
    cp -a "$1" "$cache/fping-$version/buildsrc"
    (cd "$cache/fping-$version/buildsrc" && ./configure --prefix=/usr --enable-ipv4 --enable-ipv6 &&
        make) >"$cache/fping-$version/build.log" 2>&1 ||
        { tail -n 30 "$cache/fping-$version/build.log" >&2; exit 2; }
    mkdir -p "$cache/fping-$version/build"
    cp "$cache/fping-$version/buildsrc/src/fping" "$built"
}

if [ ! -x "$built" ] && [ ! -x "$debroot/usr/bin/fping" ]; then
    entries=
    for s in $suites; do entries="$entries deb $s deb-src $s"; done
    # shellcheck disable=SC2086 # the entries are split on purpose
    apt setup $entries
    v=$(apt newest-source fping "$version")
    src=$(apt source fping "$v" "fping-$version" "fping_$version.orig.tar.gz" "$cache/fping-$version/get")
    if [ -n "$src" ] && [ -x "$src/configure" ]; then
        build_source "$src"
    else
        # The binary package of the same Debian version, and the libc6 the
        # lists offer (fping links libc.so.6 alone).
        echo "fping-upstream: neither the source package nor the tarball of fping $v; using its binary package" >&2
        debs=$cache/fping-$version/debs
        rm -rf "$debs" "$debroot"
        mkdir -p "$debs" "$debroot"
        (cd "$debs" && apt run apt-get -qq download "fping=$v" libc6)
        for deb in "$debs"/*.deb; do
            dpkg-deb -x "$deb" "$debroot"
            dpkg-deb -W "$deb" >>"$cache/fping-$version/versions"
        done
    fi
fi

# The staged fping gets a file capability: its directory must be root's,
# not one another user created in /tmp beforehand (or a link to elsewhere).
for d in "$stage" "$dest"; do
    if [ -L "$d" ] || { [ -e "$d" ] && [ "$(stat -c %u "$d")" != 0 ]; }; then
        echo "fping-upstream: $d exists and is not a directory owned by root" >&2
        exit 2
    fi
done
install -d -m 0755 -o root -g root "$stage" "$dest"
rm -rf "$dest/lib"
if [ -x "$built" ]; then
    install -m 0755 -o root -g root "$built" "$dest/fping"
else
    # The loader and libc, root's and read-only to others (the
    # capability-carrying fping loads them).
    install -d -m 0755 -o root -g root "$dest/lib"
    # The loader is exec'd by the kernel (PT_INTERP): it needs x.
    install -m 0755 -o root -g root "$debroot/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" "$dest/lib/"
    install -m 0644 -o root -g root "$debroot/usr/lib/x86_64-linux-gnu/libc.so.6" "$dest/lib/"
    install -m 0755 -o root -g root "$debroot/usr/bin/fping" "$dest/fping"
    patchelf --set-interpreter "$dest/lib/ld-linux-x86-64.so.2" \
        --force-rpath --set-rpath "$dest/lib" "$dest/fping"
    # Every library must be a staged one: one from the machine would mean a
    # library this script does not know fping needs.
    LD_TRACE_LOADED_OBJECTS=1 "$dest/fping" | awk -v lib="$dest/lib/" '
        /=>/ && index($3, lib) != 1 { print "fping-upstream: not staged: " $0; bad = 1 }
        END { exit bad }' >&2 || exit 2
fi
setcap cap_net_raw=ep "$dest/fping"
"$dest/fping" -v
