#!/bin/sh
# Renders the privsep SELinux module for every tool descriptor, with the
# layout the renderer was built for (make selinux runs it).
#
#   selinux/render.sh PRIVSEP_RENDER OUTDIR
#
# OUTDIR/privsep.te = selinux/privsep.te + selinux/tool.te.in per tool,
# OUTDIR/privsep.if = selinux/privsep.if + selinux/tool.if.in per tool,
# OUTDIR/privsep.fc = selinux/privsep.fc.in per tool (paths regex-escaped),
#                     + selinux/broker.fc.in per tool with a broker,
# OUTDIR/tools.txt  = `privsep-render tools` (what selinux-check reads).
# Each file is replaced only when its content changed. Exit 2 on failure.
set -eu

render=${1:?usage: render.sh PRIVSEP_RENDER OUTDIR}
out=${2:?usage: render.sh PRIVSEP_RENDER OUTDIR}
src=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
work=$(mktemp -d "$out/.render.XXXXXX")
trap 'rm -rf "$work"' EXIT
die() { echo "selinux/render.sh: $*" >&2; exit 2; }

"$render" tools > "$work/tools.txt" || die "privsep-render tools failed"
tools=$(sed -n 's/^TOOL=\([a-z0-9_-]*\) .*/\1/p' "$work/tools.txt")
[ -n "$tools" ] || die "privsep-render tools listed no tool"

cp "$src/privsep.te" "$work/privsep.te"
cp "$src/privsep.if" "$work/privsep.if"
echo "# File contexts of every privsep tool, rendered by selinux/render.sh." > "$work/privsep.fc"
for t in $tools; do
    "$render" plain --tool "$t" "$src/tool.te.in" "$work/part" || die "rendering tool.te.in for $t"
    cat "$work/part" >> "$work/privsep.te"
    "$render" plain --tool "$t" "$src/tool.if.in" "$work/part" || die "rendering tool.if.in for $t"
    cat "$work/part" >> "$work/privsep.if"
    "$render" fc --tool "$t" "$src/privsep.fc.in" "$work/part" || die "rendering privsep.fc.in for $t"
    cat "$work/part" >> "$work/privsep.fc"
    if "$render" layout --tool "$t" | grep -q '^BROKER_NAME=.'; then
        "$render" fc --tool "$t" "$src/broker.fc.in" "$work/part" || die "rendering broker.fc.in for $t"
        cat "$work/part" >> "$work/privsep.fc"
    fi
done

for f in privsep.te privsep.if privsep.fc tools.txt; do
    cmp -s "$work/$f" "$out/$f" || mv "$work/$f" "$out/$f"
done
