#!/bin/sh
# Merge policy modules into a private copy of the installed SELinux policy
# store, offline: no running SELinux, nothing outside ROOT is written.
#
#   scripts/selinux-merge.sh [-s STORE] [-e EXPAND_CHECK] ROOT MODULE.pp...
#
# Copies /var/lib/selinux/STORE and /etc/selinux/STORE (STORE: default) under
# ROOT (ROOT is replaced), writes ROOT/etc/selinux/{config,semanage.conf},
# then `semodule -p ROOT -s STORE -n -i MODULE.pp...`. The compiled kernel
# policy lands in ROOT/etc/selinux/STORE/policy/policy.NN and the file
# contexts in ROOT/etc/selinux/STORE/contexts/files/file_contexts.
#
# EXPAND_CHECK (default 1) goes into ROOT's semanage.conf: Debian ships
# expand-check=0, with which libsemanage does not check neverallow rules at
# all; with 1 a module that breaks a neverallow fails to link.
#
# Exit: 0 merged; 1 a module did not link (ROOT removed); 2 bad usage or
# no installed policy store to copy.
set -eu

usage() { echo "usage: $0 [-s STORE] [-e 0|1] ROOT MODULE.pp..." >&2; exit 2; }
store=default expand=1
while getopts s:e: opt; do
    case $opt in
        s) store=$OPTARG ;;
        e) expand=$OPTARG ;;
        *) usage ;;
    esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] || usage
root=$1
shift
case $root in /*) ;; *) root=$(pwd)/$root ;; esac
case $expand in 0|1) ;; *) usage ;; esac
installs=""
for pp in "$@"; do
    [ -f "$pp" ] || { echo "selinux-merge: no module $pp" >&2; exit 2; }
    case $pp in /*) ;; *) pp=$(pwd)/$pp ;; esac
    installs="$installs -i $pp"
done
modules=$(for pp in "$@"; do basename "$pp"; done | paste -sd' ' -)
if [ ! -d "/var/lib/selinux/$store" ] || [ ! -d "/etc/selinux/$store" ]; then
    echo "selinux-merge: no SELinux policy store '$store' under /var/lib/selinux and /etc/selinux" >&2
    echo "selinux-merge: install selinux-policy-default (make deps-test)" >&2
    exit 2
fi

# A root left over from an earlier layout or a failed run must not survive.
rm -rf "$root"
mkdir -p "$root/var/lib/selinux" "$root/etc/selinux"
# Everything but `previous`: libsemanage's copy of the store before the
# last transaction, which nothing here reads and which a semodule run on the
# live store replaces, racing the copy.
mkdir -p "$root/var/lib/selinux/$store"
for e in "/var/lib/selinux/$store"/*; do
    [ "${e##*/}" = previous ] || cp -a "$e" "$root/var/lib/selinux/$store/"
done
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
# shellcheck disable=SC2086 # module paths come from our own build tree
if ! out=$(semodule -p "$root" -s "$store" -n $installs 2>&1); then
    printf '%s\n' "$out" >&2
    echo "selinux-merge: $modules does not link into the '$store' policy (expand-check=$expand)" >&2
    rm -rf "$root"
    exit 1
fi
printf '%s\n' "$out" | grep -v -e '^$' -e 'genhomedircon is disabled' >&2 || true

set -- "$root/etc/selinux/$store/policy/policy."*
[ -f "$1" ] || { echo "selinux-merge: semodule wrote no policy under $root" >&2; exit 1; }
echo "selinux-merge: $modules merged into $root (expand-check=$expand)"
echo "selinux-merge: policy $*"
echo "selinux-merge: file contexts $root/etc/selinux/$store/contexts/files/file_contexts"
