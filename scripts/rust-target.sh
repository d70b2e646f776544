#!/bin/sh
# The Rust target the launchers are built for (Makefile, LAUNCHER_TRIPLE;
# docs/performance.md says why musl is preferred).
#
#   rust-target.sh --choose PREFERRED FALLBACK
#       prints PREFERRED (the host's musl triple) when its standard library
#       is installed, FALLBACK (the host's own triple: glibc, static-pie,
#       as the workers) otherwise. Never fetches anything: a build on a
#       machine without network access to rustup's servers must not depend
#       on them.
#   rust-target.sh TRIPLE
#       makes sure the standard library for TRIPLE is installed: with
#       `rustup target add` when rustup manages the toolchain (for a
#       LAUNCHER_TRIPLE set by hand); otherwise names what is missing and
#       stops.
set -eu

installed() {
    libdir=$(rustc --print target-libdir --target "$1" 2>/dev/null) || return 1
    ls "$libdir"/libstd-*.rlib >/dev/null 2>&1
}

if [ "${1:-}" = --choose ]; then
    [ $# -eq 3 ] || { echo "usage: rust-target.sh --choose PREFERRED FALLBACK" >&2; exit 2; }
    if installed "$2"; then echo "$2"; else echo "$3"; fi
    exit 0
fi

triple=${1:?usage: rust-target.sh TRIPLE}
installed "$triple" && exit 0
if command -v rustup >/dev/null 2>&1; then
    echo "rust-target: installing the standard library for $triple (rustup target add)"
    exec rustup target add "$triple"
fi
echo "rust-target: the Rust standard library for $triple is missing: install it (rustup target add $triple, or your distribution's package of it)" >&2
exit 2
