#!/bin/sh
# Proves the VM suite can fail: boots it with deliberately broken policies and
# checks that exactly the cases that guard the broken rule fail, and that a
# control case still passes. Run by `make vm-test-mutants` (mk/vm.mk), which
# passes the paths below.
#
#   vm-tests/mutants.sh VM_TESTS RELEASE BUILDDIR SELINUX_SOURCES_DIR FC VMTEST_PP TOMOYO_DIR OUT CACHE APPARMOR_DIR
#
# 1. SELinux: the worker's domain may create raw sockets (the module's
#    neverallow forbids it, so it is merged with expand-check=0, the way a
#    careless packager could): cw-raw-socket4/6 must fail, ping-v4 must pass.
# 2. TOMOYO: the worker's domain may execute /usr/bin/sh: cw-exec-sh must
#    fail, cw-exec-launcher must pass.
# 3. AppArmor: ping's worker profile loses its `audit deny /** x` and both
#    profiles of the stack may execute /usr/bin/sh (ix): cw-exec-sh must
#    fail, cw-exec-launcher must pass.
# Exit 0 when every mutant is caught; 1 when one survives; 2 on setup errors.
set -eu

[ $# -eq 10 ] || { echo "usage: $0 VM_TESTS RELEASE BUILDDIR SELINUX_SRC FC VMTEST_PP TOMOYO_DIR OUT CACHE APPARMOR_DIR" >&2; exit 2; }
vm_tests=$1 release=$2 builddir=$3 se_src=$4 fc=$5 vmtest_pp=$6 tomoyo_dir=$7 out=$8 cache=$9 apparmor_dir=${10}
here=$(cd "$(dirname "$0")/.." && pwd)
work=$builddir/vm-tests/mutants
rm -rf "$work" && mkdir -p "$work/selinux" "$work/tomoyo" "$work/apparmor"
survivors=0

# The mutants run on Debian 12's kernel (the one privsep targets); override with VM_KERNELS.
kernels=${VM_KERNELS:-bookworm}

# expect DIR CONFIG CASE true|false: the case's "pass" in DIR/<kernel release>/CONFIG.jsonl
# must be as given (keys are written in sorted order: "case" comes before "pass").
expect() {
    found=0
    for f in "$1"/*/"$2.jsonl"; do
        [ -f "$f" ] || continue
        found=1
        if grep -q "\"case\":\"$3\",.*\"pass\":$4" "$f"; then
            echo "vm-test-mutants: $(basename "$(dirname "$f")") $2 $3 pass=$4 (as expected)"
        else
            echo "vm-test-mutants: $(basename "$(dirname "$f")") $2 $3 is NOT pass=$4: mutant survived or control broke" >&2
            survivors=$((survivors + 1))
        fi
    done
    if [ $found -eq 0 ]; then
        echo "vm-test-mutants: no $2 results under $1" >&2
        survivors=$((survivors + 1))
    fi
}

# run CONFIG CASES OUTDIR [extra vm-tests args]: exit 1 (cases failed) is what we want.
run() {
    config=$1 cases=$2 dir=$3
    shift 3
    set +e
    "$vm_tests" --bin-dir "$release" --agent-dir "$release" --tools ping --kernels "$kernels" \
        --configs "$config" --cases "$cases" --out "$dir" --cache "$cache" "$@" >"$dir.log" 2>&1
    rc=$?
    set -e
    if [ $rc -ne 1 ]; then
        echo "vm-test-mutants: $config mutant run exited $rc, expected 1 (some cases fail); see $dir.log" >&2
        tail -5 "$dir.log" >&2
        survivors=$((survivors + 1))
    fi
}

# 1. SELinux mutant. The module is rendered per tool descriptor next to its
# file contexts (selinux/render.sh writes privsep.te, .if and .fc together);
# SELINUX_SRC holds only the hand-written part and is not enough to build it.
se_built=$(dirname "$fc")
[ -f "$se_built/privsep.te" ] && [ -f "$se_built/privsep.if" ] ||
    { echo "vm-test-mutants: no rendered module next to $fc (make selinux; sources in $se_src)" >&2; exit 2; }
cp "$se_built/privsep.te" "$se_built/privsep.if" "$fc" "$work/selinux/"
echo 'allow privsep_ping_worker_t self:rawip_socket create_socket_perms;' >>"$work/selinux/privsep.te"
(cd "$work/selinux" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
    make -s -f /usr/share/selinux/devel/Makefile NAME=default privsep.pp >/dev/null)
"$here/scripts/selinux-merge.sh" -s default -e 0 "$work/selinux/root" "$work/selinux/privsep.pp" "$vmtest_pp" >/dev/null
store=$work/selinux/root/etc/selinux/default
mkdir -p "$out/selinux"
run selinux cw-raw-socket4,cw-raw-socket6,ping-v4 "$out/selinux" --tomoyo-dir "$tomoyo_dir" \
    --selinux-policy "$(ls "$store"/policy/policy.* | head -n1)" --selinux-fc "$store/contexts/files/file_contexts"
expect "$out/selinux" selinux cw-raw-socket4 false
expect "$out/selinux" selinux cw-raw-socket6 false
expect "$out/selinux" selinux ping-v4 true

# 2. TOMOYO mutant.
cp "$tomoyo_dir"/*.conf "$tomoyo_dir/tools.txt" "$work/tomoyo/"
# ping's worker domain, by its paths in the rendered descriptor list (the policy holds every tool's).
ping_worker=$(sed -n 's/^TOOL=ping .*LAUNCHER_PATH=\([^ ]*\) .*WORKER_PATH=\([^ ]*\) .*/<kernel> \1 \2/p' "$tomoyo_dir/tools.txt")
[ -n "$ping_worker" ] || { echo "vm-test-mutants: no ping in $tomoyo_dir/tools.txt" >&2; exit 2; }
awk -v w="$ping_worker" \
    '{ print } $0 == w { print "file execute /usr/bin/sh" }' "$tomoyo_dir/domain_policy.conf" >"$work/tomoyo/domain_policy.conf"
grep -q '^file execute /usr/bin/sh$' "$work/tomoyo/domain_policy.conf" || { echo "vm-test-mutants: could not mutate the TOMOYO policy" >&2; exit 2; }
mkdir -p "$out/tomoyo"
run tomoyo cw-exec-sh,cw-exec-launcher "$out/tomoyo" --tomoyo-dir "$work/tomoyo"
expect "$out/tomoyo" tomoyo cw-exec-sh false
expect "$out/tomoyo" tomoyo cw-exec-launcher true

# 3. AppArmor mutant.
cp "$apparmor_dir"/privsep-* "$apparmor_dir/tools.txt" "$work/apparmor/"
awk '/^profile privsep-ping(-worker)? / { print; print "  /usr/bin/sh ix,"; next } { print }' \
    "$apparmor_dir/privsep-ping" |
    awk '/^profile privsep-ping-worker / { w = 1 } /^profile privsep-ping / { w = 0 }
         w && $0 == "  audit deny /** x," { next } { print }' >"$work/apparmor/privsep-ping"
[ "$(grep -c '^  /usr/bin/sh ix,$' "$work/apparmor/privsep-ping")" -eq 2 ] &&
    [ "$(grep -c '^  audit deny /\*\* x,$' "$work/apparmor/privsep-ping")" -eq 0 ] ||
    { echo "vm-test-mutants: could not mutate the AppArmor profiles" >&2; exit 2; }
mkdir -p "$out/apparmor"
run apparmor cw-exec-sh,cw-exec-launcher "$out/apparmor" --apparmor-dir "$work/apparmor"
expect "$out/apparmor" apparmor cw-exec-sh false
expect "$out/apparmor" apparmor cw-exec-launcher true

if [ $survivors -ne 0 ]; then
    echo "vm-test-mutants: $survivors check(s) failed" >&2
    exit 1
fi
echo "vm-test-mutants: every mutant was caught"
