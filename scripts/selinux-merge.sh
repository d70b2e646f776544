#!/bin/sh
# Merge a policy module into a private copy of the installed SELinux policy
# store, offline: no running SELinux, nothing outside ROOT is written.
#
#   scripts/selinux-merge.sh MODULE.pp ROOT [STORE] [EXPAND_CHECK]
#
# Copies /var/lib/selinux/STORE, /etc/selinux/STORE, /etc/selinux/config and
# semanage.conf under ROOT (ROOT is replaced), then
# `semodule -p ROOT -s STORE -n -i MODULE.pp`. The compiled kernel policy
# lands in ROOT/etc/selinux/STORE/policy/policy.NN and the file contexts in
# ROOT/etc/selinux/STORE/contexts/files/file_contexts.
#
# EXPAND_CHECK (default 1) goes into ROOT's semanage.conf: Debian ships
# expand-check=0, with which libsemanage does not check neverallow rules at
# all; with 1 a module that breaks a neverallow fails to link.
#
# Exit: 0 merged; 1 the module did not link (ROOT removed); 2 bad usage or
# no installed policy store to copy.
set -eu

usage() { echo "usage: $0 MODULE.pp ROOT [STORE] [EXPAND_CHECK]" >&2; exit 2; }
[ $# -ge 2 ] && [ $# -le 4 ] || usage
pp=$1 root=$2 store=${3:-default} expand=${4:-1}

case $root in /*) ;; *) root=$(pwd)/$root ;; esac
[ -f "$pp" ] || { echo "selinux-merge: no module $pp" >&2; exit 2; }
case $expand in 0|1) ;; *) usage ;; esac
if [ ! -d "/var/lib/selinux/$store" ] || [ ! -d "/etc/selinux/$store" ]; then
    echo "selinux-merge: no SELinux policy store '$store' under /var/lib/selinux and /etc/selinux" >&2
    echo "selinux-merge: install selinux-policy-default (make deps-test)" >&2
    exit 2
fi

# A root left over from an earlier layout or a failed run must not survive.
rm -rf "$root"
mkdir -p "$root/var/lib/selinux" "$root/etc/selinux"
cp -a "/var/lib/selinux/$store" "$root/var/lib/selinux/"
cp -a "/etc/selinux/$store" "$root/etc/selinux/"
rm -f "$root/var/lib/selinux/$store"/semanage.*.LOCK
# The compiled policy must come from this merge, never from the copy.
rm -f "$root/etc/selinux/$store/policy/policy."*
printf 'SELINUX=permissive\nSELINUXTYPE=%s\n' "$store" >"$root/etc/selinux/config"
# libsemanage reads ROOT/etc/selinux/semanage.conf when it exists. Keep the
# system's settings except expand-check; skip home-directory contexts
# (genhomedircon only warns about system users without a home here, and
# file_contexts.homedirs from the copied store is kept).
conf=/etc/selinux/semanage.conf
{
    [ -f $conf ] && grep -v -E '^[[:space:]]*(expand-check|disable-genhomedircon)[[:space:]]*=' $conf
    echo "expand-check=$expand"
    echo "disable-genhomedircon=true"
} >"$root/etc/selinux/semanage.conf"

# (The warning that genhomedircon is off is ours to expect: dropped.)
if ! out=$(semodule -p "$root" -s "$store" -n -i "$pp" 2>&1); then
    printf '%s\n' "$out" >&2
    echo "selinux-merge: $pp does not link into the '$store' policy (expand-check=$expand)" >&2
    rm -rf "$root"
    exit 1
fi
printf '%s\n' "$out" | grep -v -e '^$' -e 'genhomedircon is disabled' >&2 || true

set -- "$root/etc/selinux/$store/policy/policy."*
[ -f "$1" ] || { echo "selinux-merge: semodule wrote no policy under $root" >&2; exit 1; }
echo "selinux-merge: $(basename "$pp") merged into $root (expand-check=$expand)"
echo "selinux-merge: policy $*"
echo "selinux-merge: file contexts $root/etc/selinux/$store/contexts/files/file_contexts"
