#!/bin/sh
# Renders privsep's TOMOYO 2.6 policy for every tool descriptor, with the
# layout the renderer was built for (make tomoyo runs it).
#
#   tomoyo/render.sh PRIVSEP_RENDER OUTDIR
#
# OUTDIR/profile.conf          = profile.conf.in
# OUTDIR/exception_policy.conf = exception_policy.conf.in + exception_tool.conf.in per tool
# OUTDIR/domain_policy.conf    = domain_tool.conf.in per tool (+ worker-<tool>.conf.in),
#                                and for a tool with a broker broker_tool.conf.in
#                                (+ broker-<tool>.conf.in)
# OUTDIR/tools.txt             = `privsep-render tools` (what the checker reads)
#
# The @...@ variables are the renderer's (`privsep-render tomoyo --tool T`,
# TOMOYO-escaped paths); then the per-tool directives of the templates:
#   %TARGETS%        PRIVSEP_<TOOL>_TARGETS, the tool's address group (a - in the
#                    tool's name becomes _: mtr-packet's is PRIVSEP_MTR_PACKET_TARGETS)
#   %each-raw% LINE  LINE once per number in RAW_PROTOCOLS, as %PROTOCOL%
#   %resolves% LINE  LINE only when RESOLVES=yes
#   %broker% LINE    LINE only when BROKER_PATH is set
# Comment and blank lines are removed first (the templates' comments are for
# their readers; the kernel has no comment syntax and silently drops such
# lines). Exit 2 on failure.
set -eu

render=${1:?usage: render.sh PRIVSEP_RENDER OUTDIR}
out=${2:?usage: render.sh PRIVSEP_RENDER OUTDIR}
src=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
work=$(mktemp -d "$out/.render.XXXXXX")
trap 'rm -rf "$work"' EXIT
die() { echo "tomoyo/render.sh: $*" >&2; exit 2; }

"$render" tools > "$work/tools.txt" || die "privsep-render tools failed"
[ -s "$work/tools.txt" ] || die "privsep-render tools listed no tool"

# value KEY LINE: the value of KEY=... in one `tools` line ('' if absent).
value() {
    printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# directives TOOL RAW_PROTOCOLS RESOLVES BROKER_PATH < rendered > expanded
directives() {
    awk -v tool="$1" -v raw="$2" -v resolves="$3" -v broker="$4" '
        BEGIN { name = toupper(tool); gsub(/-/, "_", name); targets = "PRIVSEP_" name "_TARGETS"; n = split(raw, protos, ",") }
        { gsub(/%TARGETS%/, targets) }
        /^%each-raw% / {
            line = substr($0, 12)
            for (i = 1; i <= n; i++) { l = line; gsub(/%PROTOCOL%/, protos[i], l); print l }
            next
        }
        /^%resolves% / { if (resolves == "yes") print substr($0, 12); next }
        /^%broker% / { if (broker != "") print substr($0, 10); next }
        /%[a-zA-Z-]+%/ { printf "tomoyo/render.sh: unknown directive in: %s\n", $0 > "/dev/stderr"; exit 2 }
        { print }
    '
}

# strip < text > policy lines only
strip() { sed -e '/^[[:space:]]*#/d' -e '/^[[:space:]]*$/d'; }

"$render" tomoyo "$src/profile.conf.in" "$work/part" || die "rendering profile.conf.in"
strip < "$work/part" > "$work/profile.conf"
"$render" tomoyo "$src/exception_policy.conf.in" "$work/part" || die "rendering exception_policy.conf.in"
strip < "$work/part" > "$work/exception_policy.conf"
: > "$work/domain_policy.conf"
while IFS= read -r line; do
    tool=$(value TOOL "$line")
    raw=$(value RAW_PROTOCOLS "$line")
    resolves=$(value RESOLVES "$line")
    broker=$(value BROKER_PATH "$line")
    [ -n "$tool" ] && [ -n "$resolves" ] || die "tools line without TOOL or RESOLVES: $line"
    # worker-<tool>.conf.in, if there is one, ends the tool's worker domain
    # (the last block of domain_tool.conf.in): rules only that tool needs.
    parts="exception_tool:exception_policy domain_tool:domain_policy"
    [ ! -f "$src/worker-$tool.conf.in" ] || parts="$parts worker-$tool:domain_policy"
    # A broker's domain follows, and broker-<tool>.conf.in ends it alike.
    if [ -n "$broker" ]; then
        parts="$parts broker_tool:domain_policy"
        [ ! -f "$src/broker-$tool.conf.in" ] || parts="$parts broker-$tool:domain_policy"
    fi
    for t in $parts; do
        in=${t%%:*} to=${t#*:}
        "$render" tomoyo --tool "$tool" "$src/$in.conf.in" "$work/part" || die "rendering $in.conf.in for $tool"
        strip < "$work/part" > "$work/stripped"
        directives "$tool" "$raw" "$resolves" "$broker" < "$work/stripped" >> "$work/$to.conf" ||
            die "expanding $in.conf.in for $tool"
    done
done < "$work/tools.txt"

for f in profile.conf exception_policy.conf domain_policy.conf tools.txt; do
    cmp -s "$work/$f" "$out/$f" || mv "$work/$f" "$out/$f"
done
