#!/bin/sh
# Builds upstream iputils ping (Debian 13's source package, 20240905) for the
# parity suite and stages it with cap_net_raw=ep in a root-owned directory
# under /tmp, where the unprivileged test user can run it.
#
# Usage: scripts/iputils-upstream.sh CACHE STAGE [GIT]
#   CACHE  a directory under target/: the private apt configuration, the
#          unpacked source and the meson build (kept, so a second run only
#          re-stages)
#   STAGE  where ping goes (STAGE/ping, with ping4 and ping6 links)
#   GIT    fallback when the mirror has no trixie source package: a clone
#          (URL or git directory) of upstream iputils, whose tag 20240905 is
#          the same release without Debian's patches
#
# The source comes through an apt configuration of its own (its own
# sources.list, state and cache directories, no sources.list.d): the
# machine's apt sources and lists are never read or changed.
set -eu

cache=$1
stage=$2
git_src=${3:-}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
bin=$cache/build/ping/ping

if [ ! -x "$bin" ]; then
    apt_dir=$cache/apt
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$apt_dir/etc"
    echo 'deb-src http://deb.debian.org/debian trixie main' >"$apt_dir/etc/sources.list"
    set -- -o Dir::Etc::SourceList="$apt_dir/etc/sources.list" \
        -o Dir::Etc::SourceParts=- \
        -o Dir::State="$apt_dir" \
        -o Dir::State::Lists="$apt_dir/lists" \
        -o Dir::State::status=/var/lib/dpkg/status \
        -o Dir::Cache="$apt_dir" \
        -o Dir::Cache::Archives="$apt_dir/archives" \
        -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= \
        -o APT::Sandbox::User=root
    if [ ! -d "$cache/src" ]; then
        apt-get "$@" -qq update
        rm -rf "$cache/get"
        mkdir -p "$cache/get"
        (cd "$cache/get" && apt-get "$@" -qq source iputils=3:20240905-3) || true
        src=$(find "$cache/get" -mindepth 1 -maxdepth 1 -type d -name 'iputils-*' | head -n 1)
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
        [ -n "$src" ] || { echo "iputils-upstream: no source unpacked" >&2; exit 2; }
        mv "$src" "$cache/src"
    fi
    rm -rf "$cache/build"
    # Only ping; no man pages, translations or IDN (the references compare
    # output on numeric and hosts-file names).
    meson setup "$cache/build" "$cache/src" \
        -DBUILD_ARPING=false -DBUILD_CLOCKDIFF=false -DBUILD_TRACEPATH=false \
        -DBUILD_MANS=false -DBUILD_HTML_MANS=false -DUSE_IDN=true \
        -DUSE_GETTEXT=false -DSKIP_TESTS=true -DUSE_CAP=true >"$cache/meson.log" 2>&1 \
        || { tail -n 30 "$cache/meson.log" >&2; exit 2; }
    ninja -C "$cache/build" ping/ping >"$cache/ninja.log" 2>&1 \
        || { tail -n 30 "$cache/ninja.log" >&2; exit 2; }
fi

# The staged ping gets a file capability: its directory must be root's, not
# one another user created in /tmp beforehand (or a link to elsewhere).
if [ -L "$stage" ] || { [ -e "$stage" ] && [ "$(stat -c %u "$stage")" != 0 ]; }; then
    echo "iputils-upstream: $stage exists and is not a directory owned by root" >&2
    exit 2
fi
install -d -m 0755 -o root -g root "$stage"
install -m 0755 -o root -g root "$bin" "$stage/ping"
ln -sf ping "$stage/ping4"
ln -sf ping "$stage/ping6"
setcap cap_net_raw=ep "$stage/ping"
"$stage/ping" -V | head -n 1
