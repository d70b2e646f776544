#!/bin/sh
# Tests scripts/debian-mirror.sh over sample apt configurations written to a
# temporary directory: the deb822 format, the one-line format (with options),
# both together (apt's order), and the ones that hold no Debian archive
# (nothing configured, only security or third-party entries, disabled ones).
# The sample URIs are placeholders (.example, loopback), never a mirror.
#
# Usage: scripts/debian-mirror-test.sh          (any user; exit 1 on a failure)
set -u

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
n=0

# sample NAME: a fresh APT_ETC directory for one case.
sample() { dir=$tmp/$1; mkdir -p "$dir/sources.list.d"; }
# expect URI: the helper prints URI and exits 0.
expect() {
    n=$((n + 1))
    if out=$("$here/debian-mirror.sh" "$dir" 2>"$tmp/err") && [ "$out" = "$1" ] && [ ! -s "$tmp/err" ]; then
        echo "ok   $(basename "$dir"): $1"
    else
        echo "FAIL $(basename "$dir"): expected $1, got '${out:-}' (stderr: $(cat "$tmp/err"))"
        failures=$((failures + 1))
    fi
}
# expect_none: exit 2, nothing on stdout, exactly one line on stderr.
expect_none() {
    n=$((n + 1))
    "$here/debian-mirror.sh" "$dir" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ "$rc" -eq 2 ] && [ ! -s "$tmp/out" ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
        grep -q '^debian-mirror: no Debian archive' "$tmp/err"; then
        echo "ok   $(basename "$dir"): none ($(cat "$tmp/err"))"
    else
        echo "FAIL $(basename "$dir"): expected one line and exit 2, got exit $rc, stdout '$(cat "$tmp/out")', stderr '$(cat "$tmp/err")'"
        failures=$((failures + 1))
    fi
}

# deb822, as Debian 12's installer writes it: the security stanza is not
# the archive, whichever comes first.
sample deb822
cat >"$dir/sources.list.d/debian.sources" <<'EOF'
Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

# a comment between stanzas
Types: deb deb-src
URIs: http://mirror.example/debian/
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
expect http://mirror.example/debian

# deb822 with continuation lines and a disabled stanza first.
sample deb822-multiline
cat >"$dir/sources.list.d/local.sources" <<'EOF'
Enabled: no
Types: deb
URIs: http://disabled.example/debian
Suites: trixie
Components: main

Types: deb
URIs:
 http://127.0.0.1:3142/debian
Suites:
 trixie
 trixie-updates
Components: main
EOF
expect http://127.0.0.1:3142/debian

# One-line format with options (spaces inside the brackets), a commented
# line and a security line before the archive.
sample one-line
cat >"$dir/sources.list" <<'EOF'
# deb http://commented.example/debian bookworm main
deb http://mirror.example/debian-security bookworm-security main
deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://proxy.example:3142/debian/ bookworm main non-free-firmware
deb-src http://other.example/debian bookworm main
EOF
expect http://proxy.example:3142/debian

# Both formats: sources.list comes first, as in apt.
sample both
echo 'deb http://list.example/debian sid main' >"$dir/sources.list"
cat >"$dir/sources.list.d/a.sources" <<'EOF'
Types: deb
URIs: http://parts.example/debian
Suites: sid
Components: main
EOF
expect http://list.example/debian

# Third-party repositories before the archive: one reusing a Debian code
# name with a key of its own, one with its own suite; a .list in the parts
# directory is read; a file apt ignores (by its name) is ignored.
sample third-party
echo 'deb [arch=amd64 signed-by=/etc/apt/keyrings/vendor.gpg] https://vendor.example/linux/debian bookworm main' \
    >"$dir/sources.list.d/a-vendor.list"
cat >"$dir/sources.list.d/b-node.sources" <<'EOF'
Types: deb
URIs: https://node.example/node_20.x
Suites: nodistro
Components: main
EOF
echo 'deb http://ignored.example/debian bookworm main' >"$dir/sources.list.d/c.list.disabled"
echo 'deb http://mirror.example/debian trixie main' >"$dir/sources.list.d/d-debian.list"
expect http://mirror.example/debian

# Nothing configured at all.
sample empty
expect_none

# Only what is not the Debian archive: security, third-party, a suite
# without main, a disabled stanza, a CD-ROM, an ignored file name.
sample not-debian
cat >"$dir/sources.list" <<'EOF'
deb http://mirror.example/debian-security bookworm-security main
deb [signed-by=/etc/apt/keyrings/vendor.gpg] https://vendor.example/debian bookworm main
deb http://mirror.example/debian bookworm contrib
deb cdrom:[Debian GNU/Linux 12]/ bookworm main
deb http://ubuntu.example/ubuntu jammy main
EOF
cat >"$dir/sources.list.d/debian.sources" <<'EOF'
Types: deb
URIs: http://mirror.example/debian
Suites: bookworm
Components: main
Enabled: no
EOF
echo 'deb http://ignored.example/debian bookworm main' >"$dir/sources.list.d/debian.list.save"
expect_none

echo "debian-mirror-test: $((n - failures)) of $n cases passed"
[ "$failures" -eq 0 ]
