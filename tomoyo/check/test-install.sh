#!/bin/sh
# Tests tomoyo/install-tomoyo.sh without a TOMOYO kernel: a scratch directory
# stands in for /sys/kernel/security/tomoyo, and a stand-in tomoyo-loadpolicy
# on PATH appends what it reads to the matching file there, as the kernel
# merges what the real one writes (optionally dropping lines that match
# $FAKE_DROP, as the kernel silently drops lines it rejects).
# Usage: tomoyo/check/test-install.sh DIR   (DIR = rendered policy)
set -eu

dir=${1:?usage: test-install.sh DIR}
script=$(cd "$(dirname "$0")/.." && pwd)/install-tomoyo.sh
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fails=0
ok() { echo "test-install: ok: $*"; }
bad() { echo "test-install: FAIL: $*"; fails=$((fails + 1)); }

mkdir -p "$t/bin"
cat > "$t/bin/tomoyo-loadpolicy" <<'EOF'
#!/bin/sh
case "$1" in -p) f=profile ;; -e) f=exception_policy ;; -d) f=domain_policy ;; *) exit 1 ;; esac
grep -v '^$' | { if [ -n "${FAKE_DROP:-}" ]; then grep -v -e "$FAKE_DROP"; else cat; fi; } >> "$TOMOYO_SECURITYFS/$f"
exit 0
EOF
chmod +x "$t/bin/tomoyo-loadpolicy"

# A fresh running system: Debian's init_policy profile 0-3 and one domain,
# and an /etc/tomoyo with one unrelated line in each file.
setup() {
    rm -rf "$t/sfs" "$t/etc" && mkdir -p "$t/sfs" "$t/etc"
    printf 'PROFILE_VERSION=20150505\n0-CONFIG={ mode=disabled grant_log=no reject_log=yes }\n3-CONFIG={ mode=enforcing grant_log=no reject_log=yes }\n' > "$t/sfs/profile"
    printf '<kernel>\nuse_profile 0\nuse_group 0\n\n' > "$t/sfs/domain_policy"
    printf 'aggregator proc:/self/exe /proc/self/exe\n' > "$t/sfs/exception_policy"
    echo "$1" > "$t/sfs/self_domain"
    for f in profile domain_policy exception_policy; do cp "$t/sfs/$f" "$t/etc/$f.conf"; done
}
run() {
    set +e
    PATH="$t/bin:$PATH" TOMOYO_SECURITYFS="$t/sfs" TOMOYO_ETC="$t/etc" "$script" "$dir" > "$t/out" 2>&1
    rc=$?
    set -e
}
once() { # FILE LINE: LINE occurs exactly once in FILE
    [ "$(grep -cxF "$2" "$1")" = 1 ]
}
# domain_block FILE DOMAIN: the lines of DOMAIN in domain policy FILE.
domain_block() {
    awk -v d="$2" '/^</ { in_d = ($0 == d); next } in_d && NF' "$1"
}
domains_once() { # FILE RENDERED: every domain of RENDERED occurs once in FILE, with the same lines
    grep '^<' "$2" | while IFS= read -r d; do
        once "$1" "$d" || exit 1
        [ "$(domain_block "$1" "$d")" = "$(domain_block "$2" "$d")" ] || exit 1
    done
}
all_once() { # FILE RENDERED: every line of RENDERED occurs once in FILE
    while IFS= read -r l; do
        case "$l" in "use_profile "* | "use_group "*) continue ;; esac
        once "$1" "$l" || return 1
    done < "$2"
}

TOMOYO_SECURITYFS=/nonexistent-tomoyo PATH="$t/bin:$PATH" "$script" "$dir" > "$t/out" 2>&1 && rc=0 || rc=$?
if [ "$rc" = 0 ] && grep -q 'not active' "$t/out"; then ok "no TOMOYO: says so, exit 0"; else bad "no TOMOYO: rc=$rc $(cat "$t/out")"; fi

setup '<kernel>'
run
if [ "$rc" = 0 ] && grep -q 'not activated' "$t/out" && ! grep -q privsep "$t/sfs/domain_policy" "$t/etc/domain_policy.conf"; then
    ok "TOMOYO enabled but not activated: says so, loads nothing"
else bad "not activated: rc=$rc $(cat "$t/out")"; fi

setup '<kernel> /sbin/init /bin/bash'
run
if [ "$rc" = 0 ] && domains_once "$t/sfs/domain_policy" "$dir/domain_policy.conf" \
    && all_once "$t/sfs/exception_policy" "$dir/exception_policy.conf" \
    && once "$t/sfs/profile" "$(grep '^9-CONFIG::network' "$dir/profile.conf")" \
    && ! grep -q '^0-COMMENT' "$t/sfs/profile"; then
    ok "activated: loads profile 9 (not profile 0), the domains and the exception lines"
else bad "activated: rc=$rc $(cat "$t/out")"; fi
if domains_once "$t/etc/domain_policy.conf" "$dir/domain_policy.conf" && all_once "$t/etc/exception_policy.conf" "$dir/exception_policy.conf" \
    && once "$t/etc/profile.conf" "3-CONFIG={ mode=enforcing grant_log=no reject_log=yes }" \
    && once "$t/etc/exception_policy.conf" "aggregator proc:/self/exe /proc/self/exe" && once "$t/etc/domain_policy.conf" "<kernel>"; then
    ok "activated: merged into /etc/tomoyo, the system's own lines kept"
else bad "activated: /etc/tomoyo merge wrong"; fi

cp -r "$t/etc" "$t/etc-after-first"
run
if [ "$rc" = 0 ] && domains_once "$t/etc/domain_policy.conf" "$dir/domain_policy.conf" \
    && all_once "$t/etc/exception_policy.conf" "$dir/exception_policy.conf" && diff -r "$t/etc-after-first" "$t/etc" > /dev/null; then
    ok "second run: /etc/tomoyo unchanged (privsep's lines replaced, not duplicated)"
else bad "second run: rc=$rc, /etc/tomoyo changed: $(diff -r "$t/etc-after-first" "$t/etc")"; fi

setup '<kernel> /sbin/init /bin/bash'
echo '9-COMMENT=somebody else' >> "$t/sfs/profile"
run
if [ "$rc" = 2 ] && grep -q 'already in use' "$t/out" && ! grep -q privsep "$t/sfs/domain_policy" "$t/etc/profile.conf"; then
    ok "profile 9 taken by another policy: refuses, changes nothing, exit 2"
else bad "profile 9 taken: rc=$rc $(cat "$t/out")"; fi

setup '<kernel> /sbin/init /bin/bash'
echo '9-COMMENT=privsep-ping: file::execute and network enforcing, rest disabled' >> "$t/sfs/profile"
run
if [ "$rc" = 0 ] && domains_once "$t/sfs/domain_policy" "$dir/domain_policy.conf"; then
    ok "profile 9 of the earlier single-tool privsep: taken over, exit 0"
else bad "earlier privsep profile 9: rc=$rc $(cat "$t/out")"; fi

setup '<kernel> /sbin/init /bin/bash'
export FAKE_DROP='raw send .* 58'
run
unset FAKE_DROP
if [ "$rc" = 2 ] && grep -q 'NOT loaded into domain_policy: .*raw send @PRIVSEP_PING_TARGETS 58' "$t/out" \
    && ! grep -q privsep "$t/etc/domain_policy.conf"; then
    ok "kernel dropped a line: reported, /etc/tomoyo untouched, exit 2"
else bad "dropped line: rc=$rc $(cat "$t/out")"; fi

[ "$fails" = 0 ] || { echo "test-install: $fails failure(s)"; exit 1; }
echo "test-install: passed"
