#!/bin/sh
# Makes sure the Rust standard library for TRIPLE is installed: the
# launchers are built for the host's musl triple (Makefile, LAUNCHER_TRIPLE;
# docs/performance.md says why). Installs it with rustup when rustup
# manages the toolchain (as scripts/install-deps.sh installs missing Debian
# packages); otherwise names what is missing and stops.
#
#   rust-target.sh TRIPLE
set -eu

triple=${1:?usage: rust-target.sh TRIPLE}
libdir=$(rustc --print target-libdir --target "$triple" 2>/dev/null) || libdir=
if [ -n "$libdir" ] && ls "$libdir"/libstd-*.rlib >/dev/null 2>&1; then
    exit 0
fi
if command -v rustup >/dev/null 2>&1; then
    echo "rust-target: installing the standard library for $triple (rustup target add)"
    exec rustup target add "$triple"
fi
echo "rust-target: the Rust standard library for $triple is missing: install it (rustup target add $triple, or your distribution's package of it)" >&2
exit 2
