#!/bin/bash
# Proves that the SELinux guarantees can fail: builds variants of the privsep
# module that each break one guarantee and checks that
#   1. linking with neverallow checking (expand-check=1) rejects the variant,
#      naming the neverallow it breaks, and
#   2. on a policy where neverallows are not checked (expand-check=0, Debian's
#      default), scripts/selinux-check.py FAILs the matching check.
#
#   scripts/selinux-selftest.sh SELINUX_DIR STORE TOOLS
#
# SELINUX_DIR is $(BUILDDIR)/selinux after `make selinux` (the rendered
# privsep.te, privsep.if and privsep.fc of every tool are there); TOOLS is
# the `privsep-render tools` output selinux-check reads. The variants are
# built under SELINUX_DIR/selftest, one per kind of guarantee and spread
# over the tools (the checks run per tool, so a rule broken for arping or
# clockdiff must be caught as surely as one for ping).
# Exit: 0 every variant caught, 1 otherwise.
set -u

if [ $# -ne 3 ]; then
    echo "usage: $0 SELINUX_DIR STORE TOOLS" >&2
    exit 2
fi
dir=$1 store=$2 tools=$3
here=$(cd "$(dirname "$0")" && pwd)
for f in privsep.te privsep.if privsep.fc $(basename "$tools"); do
    [ -f "$dir/$f" ] || { echo "selinux-selftest: $dir/$f missing (run make selinux)" >&2; exit 2; }
done

# name | rule appended to privsep.te | the selinux-check line that must FAIL
variants=(
    "ping-worker-rawip-create|allow privsep_ping_worker_t self:rawip_socket create;|FAIL: [ping] worker cannot create rawip/icmp/packet sockets"
    "ping-worker-icmp-create|allow privsep_ping_worker_t self:icmp_socket create;|FAIL: [ping] worker cannot create rawip/icmp/packet sockets"
    "clockdiff-launcher-icmp-create|allow privsep_clockdiff_t self:icmp_socket create;|FAIL: [clockdiff] launcher creates only the socket classes of its descriptor"
    "ping-launcher-exec-shell|allow privsep_ping_t shell_exec_t:file { execute execute_no_trans };|FAIL: [ping] launcher has no execute_no_trans on anything"
    "ping-worker-cap-userns|allow privsep_ping_worker_t self:cap_userns sys_admin;|FAIL: [ping] worker has no capability in any class or namespace"
    "arping-worker-packet-create|allow privsep_arping_worker_t self:packet_socket create;|FAIL: [arping] worker cannot create rawip/icmp/packet sockets"
    "arping-launcher-rawip-create|allow privsep_arping_t self:rawip_socket create;|FAIL: [arping] launcher creates only the socket classes of its descriptor"
    "clockdiff-worker-setsched|allow privsep_clockdiff_worker_t self:process setsched;|FAIL: [clockdiff] worker cannot set scheduling or priority"
    "arping-broker-packet-create|allow privsep_arping_broker_t self:packet_socket create;|FAIL: [arping] broker creates no socket"
    "arping-broker-exec-shell|allow privsep_arping_broker_t shell_exec_t:file { execute execute_no_trans };|FAIL: [arping] broker has no execute_no_trans on anything"
    "arping-broker-net-raw|allow privsep_arping_broker_t self:capability net_raw;|FAIL: [arping] broker has no capability in any class or namespace"
    "arping-worker-uses-packet|allow privsep_arping_worker_t privsep_arping_t:packet_socket { read write };|FAIL: [arping] worker has no permission on its launcher's packet_socket"
)

# One variant, its report on stdout; exit status: how many of its
# expectations were not met.
check_variant() {
    local name=$1 rule=$2 expect=$3 failed=0 out rc
    local work=$dir/selftest/$name
    rm -rf "$work" && mkdir -p "$work"
    cp "$dir/privsep.if" "$dir/privsep.fc" "$work/"
    # shell_exec_t comes from base: declare it like any module would.
    { cat "$dir/privsep.te"; echo; echo "gen_require(\` type shell_exec_t; ')"; echo "$rule"; } >"$work/privsep.te"
    if ! (cd "$work" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
        make -s -f /usr/share/selinux/devel/Makefile NAME="$store" privsep.pp >build.log 2>&1); then
        echo "FAIL: [$name] the variant module does not even compile"; sed 's/^/      /' "$work/build.log"
        return 1
    fi

    out=$("$here/selinux-merge.sh" -s "$store" -e 1 "$work/root" "$work/privsep.pp" 2>&1)
    rc=$?
    if [ $rc -eq 1 ] && grep -q 'neverallow check failed' <<<"$out"; then
        echo "PASS: [$name] '$rule' fails to link with neverallow checking:"
        grep -A1 'neverallow check failed' <<<"$out" | head -2 | sed 's/^/      /'
    else
        echo "FAIL: [$name] '$rule' linked despite the neverallow rules (rc=$rc)"
        printf '%s\n' "$out" | sed 's/^/      /'
        failed=$((failed + 1))
    fi

    if ! out=$("$here/selinux-merge.sh" -s "$store" -e 0 "$work/root" "$work/privsep.pp" 2>&1); then
        echo "FAIL: [$name] the variant does not link even without neverallow checking"
        printf '%s\n' "$out" | sed 's/^/      /'
        return $((failed + 1))
    fi
    out=$("$here/selinux-check.py" "$work/root/etc/selinux/$store/policy/"policy.* \
        "$work/root/etc/selinux/$store/contexts/files/file_contexts" "$tools" 2>&1)
    rc=$?
    if [ $rc -eq 1 ] && grep -qF "$expect" <<<"$out"; then
        echo "PASS: [$name] linked without neverallow checking, selinux-check catches it:"
        grep -F -A2 "$expect" <<<"$out" | sed 's/^/      /'
    else
        echo "FAIL: [$name] selinux-check did not report '$expect' (rc=$rc)"
        printf '%s\n' "$out" | grep -E '^(FAIL|selinux-check)' | sed 's/^/      /'
        failed=$((failed + 1))
    fi
    rm -rf "$work/root"
    return $failed
}

# m4 quoting (selinux-check.py --m4). The sources and the rendered module
# pass. A privsep.if with the trap an earlier version fell into (an
# apostrophe in a comment inside an ifelse of the template, "the socket's
# port", which closes the quoted body there) still compiles, quietly losing
# rules, so only the check catches it: it must FAIL, naming the line.
check_m4_trap() {
    local work=$dir/selftest/m4-apostrophe failed=0 out rc
    local anchor='the port of the socket'
    if out=$("$here/selinux-check.py" --m4 "$here"/../selinux/*.te "$here"/../selinux/*.if \
        "$here"/../selinux/*.in "$dir/privsep.te" "$dir/privsep.if" "$dir/privsep.fc" 2>&1); then
        echo "PASS: [m4-real] the sources and the rendered module pass the m4 quoting check"
    else
        echo "FAIL: [m4-real] the m4 quoting check fails on the real files"
        printf '%s\n' "$out" | sed 's/^/      /'
        failed=$((failed + 1))
    fi
    rm -rf "$work" && mkdir -p "$work"
    cp "$dir/privsep.te" "$dir/privsep.fc" "$work/"
    sed "s/$anchor/the socket's port/" "$dir/privsep.if" >"$work/privsep.if"
    if ! grep -q "socket's port" "$work/privsep.if"; then
        echo "FAIL: [m4-apostrophe] the comment text '$anchor' is gone from privsep.if: update this variant"
        return $((failed + 1))
    fi
    if (cd "$work" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
        make -s -f /usr/share/selinux/devel/Makefile NAME="$store" privsep.pp >build.log 2>&1); then
        echo "PASS: [m4-apostrophe] the trapped module still compiles (the trap is silent)"
    else
        echo "FAIL: [m4-apostrophe] the trapped module does not compile: the variant no longer shows a silent trap"
        sed 's/^/      /' "$work/build.log"
        failed=$((failed + 1))
    fi
    out=$("$here/selinux-check.py" --m4 "$work/privsep.if" 2>&1)
    rc=$?
    if [ $rc -eq 1 ] && grep -q "privsep.if:[0-9]*: quote character in a comment.*socket's port" <<<"$out"; then
        echo "PASS: [m4-apostrophe] selinux-check --m4 catches it:"
        grep -F "$work/privsep.if:" <<<"$out" | sed 's/^/      /'
    else
        echo "FAIL: [m4-apostrophe] selinux-check --m4 did not report the apostrophe (rc=$rc)"
        printf '%s\n' "$out" | sed 's/^/      /'
        failed=$((failed + 1))
    fi
    return $failed
}

# The variants are independent (each links into a root of its own); the
# policy links are CPU-bound, so SELFTEST_JOBS (default: the CPUs, at most
# 4) run side by side. Reports are printed in the table's order.
jobs=${SELFTEST_JOBS:-$(nproc 2>/dev/null || echo 1)}
[ "$jobs" -ge 1 ] 2>/dev/null || jobs=1
[ "$jobs" -le 4 ] || jobs=4
mkdir -p "$dir/selftest"
pids=() logs=()
for v in "${variants[@]}"; do
    IFS='|' read -r name rule expect <<<"$v"
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
        wait -n || true
    done
    log=$dir/selftest/$name.report
    check_variant "$name" "$rule" "$expect" >"$log" 2>&1 &
    pids+=("$!") logs+=("$log")
done
check_m4_trap >"$dir/selftest/m4.report" 2>&1
failed=$?
for i in "${!pids[@]}"; do
    wait "${pids[$i]}"
    failed=$((failed + $?))
    cat "${logs[$i]}"
done
cat "$dir/selftest/m4.report"

if [ $failed -eq 0 ]; then
    echo "selinux-selftest: every broken variant was caught, by the linker and by selinux-check; the m4 trap by selinux-check --m4"
    exit 0
fi
echo "selinux-selftest: $failed expectation(s) not met"
exit 1
