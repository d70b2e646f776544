#!/bin/sh
# Builds the Debian packages with `dpkg-buildpackage -b -us -uc` and puts
# them (with the .buildinfo and .changes) in OUTDIR.
# Usage: scripts/deb-build.sh OUTDIR [dpkg-buildpackage options, e.g. -Pnoselinux]
#
# dpkg-buildpackage writes its results to the parent of the source tree, so
# the build runs in a copy under /tmp (the tracked and untracked-but-not-
# ignored files of the working tree) and nothing lands next to the clone.
# The copy's path is fixed and tar keeps mtimes, so cargo's fingerprints stay
# valid from one build to the next; PRIVSEP_DEB_TARGET (default
# target/deb in the clone) keeps the compiled dependencies between builds.
set -eu

[ $# -ge 1 ] || { echo "usage: $0 OUTDIR [dpkg-buildpackage options]" >&2; exit 2; }
out=$1
shift
src=$(cd "$(dirname "$0")/.." && pwd)
case "$out" in /*) ;; *) out=$(pwd)/$out ;; esac

version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
work=/tmp/privsep-deb
tree=$work/privsep-$version

# One package build at a time on this machine.
exec 9>/tmp/privsep-deb.lock
flock 9

rm -rf "$work"
mkdir -p "$tree"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
    # --ignore-failed-read: files deleted from the working tree but still tracked.
    git -C "$src" ls-files -z --cached --others --exclude-standard |
        tar -C "$src" --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -C "$tree" -xf -
else
    tar -C "$src" --exclude=./target --exclude=./build -cf - . | tar -C "$tree" -xf -
fi

cd "$tree"
PRIVSEP_DEB_TARGET=${PRIVSEP_DEB_TARGET:-$src/target/deb} \
    dpkg-buildpackage -b -us -uc "$@"

rm -rf "$out"
mkdir -p "$out"
for f in "$work"/*.deb "$work"/*.ddeb "$work"/*.buildinfo "$work"/*.changes; do
    [ ! -e "$f" ] || mv "$f" "$out"/
done
rm -rf "$work"
ls -l "$out"
