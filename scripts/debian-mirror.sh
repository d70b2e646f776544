#!/bin/sh
# Prints the URI of the Debian archive this machine's apt is configured for,
# so that private apt configurations (Debian 13 packages and sources for the
# parity suite, Debian 13's kernel for the VM suite) use the same mirror or
# proxy as the machine instead of a host name written into the repository.
#
# Usage: scripts/debian-mirror.sh [APT_ETC]
#
# It reads, in apt's order, the machine's sources list and sources parts
# directory (where apt-config says they are: /etc/apt/sources.list and
# /etc/apt/sources.list.d/ unless configured otherwise), or APT_ETC/sources.list
# and APT_ETC/sources.list.d/ when APT_ETC is given (the tests use that);
# (*.list in the one-line format, *.sources in the deb822 format; other
# names, such as *.disabled, are ignored as apt ignores them) and prints the
# URI of the first entry that:
#   - is enabled (not `Enabled: no`) and of type deb or deb-src;
#   - names a Debian suite: a release code name (buster ... duke, sid) or
#     class (oldstable, stable, testing, unstable, experimental), possibly
#     with -updates, -backports or -proposed-updates. -security suites are
#     skipped: the security archive is another tree, without trixie's main;
#   - has the component main;
#   - is signed by the Debian archive keyring or by the machine's default
#     keyrings (no Signed-By): a third-party repository that reuses a Debian
#     code name as its suite (and has a key of its own) is not Debian's.
# The URI is printed without a trailing slash. Nothing is changed.
#
# With no such entry: one line on stderr and exit 2.
set -eu

list=/etc/apt/sources.list
parts=/etc/apt/sources.list.d
if [ $# -gt 0 ]; then
    list=$1/sources.list
    parts=$1/sources.list.d
elif command -v apt-config >/dev/null 2>&1; then
    eval "$(apt-config shell list Dir::Etc::sourcelist/f parts Dir::Etc::sourceparts/d)"
    parts=${parts%/}
fi

# In apt's order: the sources list, then the parts by name.
set --
[ -f "$list" ] && set -- "$list"
for f in "$parts"/*; do
    case $f in *.list | *.sources) [ -f "$f" ] && set -- "$@" "$f" ;; esac
done

uri=""
if [ $# -gt 0 ]; then
    # awk tells the two formats apart by the file name.
    uri=$(LC_ALL=C awk '
        function debian_suite(s) {
            sub(/\/$/, "", s)
            sub(/-(updates|backports|proposed-updates|backports-sloppy)$/, "", s)
            return s ~ /^(oldoldstable|oldstable|stable|testing|unstable|experimental|sid|buster|bullseye|bookworm|trixie|forky|duke)$/
        }
        function debian_key(signed_by) {
            return signed_by == "" || signed_by ~ /debian-archive-keyring/
        }
        function usable_uri(u) { return u != "" && u !~ /^cdrom:/ }
        function found(u) { sub(/\/+$/, "", u); print u; done = 1; exit }
        # One deb822 stanza, collected in the arrays below, is judged here.
        function judge_stanza(   n, i, t, ok, suites) {
            if (tolower(field["enabled"]) == "no") return
            ok = 0
            n = split(field["types"], t, /[ \t]+/)
            for (i = 1; i <= n; i++) if (t[i] == "deb" || t[i] == "deb-src") ok = 1
            if (!ok) return
            ok = 0
            n = split(field["components"], t, /[ \t]+/)
            for (i = 1; i <= n; i++) if (t[i] == "main") ok = 1
            if (!ok || !debian_key(field["signed-by"])) return
            ok = 0
            n = split(field["suites"], suites, /[ \t]+/)
            for (i = 1; i <= n; i++) if (debian_suite(suites[i])) ok = 1
            if (!ok) return
            n = split(field["uris"], t, /[ \t]+/)
            for (i = 1; i <= n; i++) if (usable_uri(t[i])) found(t[i])
        }
        function end_stanza() { if (in_stanza) judge_stanza(); delete field; in_stanza = 0; last = "" }
        FNR == 1 { end_stanza(); deb822 = FILENAME ~ /\.sources$/ }
        deb822 {
            if ($0 ~ /^#/) next
            if ($0 ~ /^[ \t]*$/) { end_stanza(); next }
            if ($0 ~ /^[ \t]/) {                     # a continuation line
                if (last != "") field[last] = field[last] " " $0
                next
            }
            i = index($0, ":")
            if (i == 0) next
            last = tolower(substr($0, 1, i - 1))
            v = substr($0, i + 1)
            gsub(/^[ \t]+|[ \t]+$/, "", v)
            field[last] = v
            in_stanza = 1
            next
        }
        {
            # One-line format: TYPE [ OPTIONS ] URI SUITE COMPONENT...
            line = $0
            sub(/#.*/, "", line)
            n = split(line, w, /[ \t]+/)
            i = 1
            if (w[i] == "") i++
            if (w[i] != "deb" && w[i] != "deb-src") next
            i++
            signed_by = ""
            if (substr(w[i], 1, 1) == "[") {
                for (; i <= n; i++) {
                    o = w[i]
                    gsub(/\[|\]/, "", o)
                    if (tolower(o) ~ /^signed-by=/) signed_by = o
                    if (w[i] ~ /\]$/) { i++; break }
                }
            }
            u = w[i]; s = w[i + 1]
            main = 0
            for (j = i + 2; j <= n; j++) if (w[j] == "main") main = 1
            if (main && debian_key(signed_by) && debian_suite(s) && usable_uri(u)) found(u)
        }
        END { if (!done) end_stanza() }
    ' "$@")
fi

if [ -z "$uri" ]; then
    echo "debian-mirror: no Debian archive (a deb entry with a Debian suite and main) in $list or $parts/: configure one in the machine's apt sources" >&2
    exit 2
fi
printf '%s\n' "$uri"
