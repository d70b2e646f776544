#!/bin/sh
# Installs the Debian packages a make target needs, and only the missing ones.
# Usage: scripts/install-deps.sh GROUP...   (groups: demo test bench deb selinux)
# Run as root on Debian 12; elsewhere it names what is missing and stops.
set -eu

pkgs=""
for group in "$@"; do
    case "$group" in
        # setcap/getcap, setpriv (util-linux), useradd (passwd), ip netns
        # (iproute2) for arping's namespace pair
        demo) pkgs="$pkgs libcap2-bin util-linux passwd iproute2" ;;
        # the demo's, plus: iputils ping, arping and clockdiff to compare
        # against (clockdiff's terminal form through script(1), in bsdutils);
        # ip netns for the hostile responders and the namespace pairs; SELinux
        # toolchain and Debian's reference policy
        # for the module and its offline checks; TOMOYO tools; QEMU and cpio
        # for the VM suite (xz and zstd unpack Debian 12's and 13's kernels);
        # python3-venv for the workflow check (actionlint); strace for the
        # privileged-syscall counts; gcc and libc6-dev for the hostile
        # suite's LD_PRELOAD library; meson, ninja-build, libcap-dev,
        # libidn2-dev, pkg-config and git to build upstream iputils for the
        # parity suite, patchelf to run Debian 13's binary package of it
        # instead when the mirror has no trixie source; monitoring-plugins-basic
        # for check_ping, a real client of the iputils names; fping, the
        # reference of privsep-fping's parity suite; mtr-tiny, the reference
        # mtr-packet; libtest-command-perl for upstream fping's own tests
        # (make test-upstream-suites).
        test) pkgs="$pkgs libcap2-bin util-linux passwd iputils-ping iputils-arping iputils-clockdiff bsdutils iproute2 \
              selinux-policy-dev selinux-policy-default semodule-utils policycoreutils \
              setools checkpolicy tomoyo-tools qemu-system-x86 cpio strace \
              xz-utils zstd selinux-utils gcc libc6-dev python3-venv \
              dpkg-dev debhelper fakeroot lintian build-essential \
              meson ninja-build libcap-dev libidn2-dev pkg-config git patchelf patch \
              monitoring-plugins-basic apparmor fping mtr-tiny libtest-command-perl" ;;
        bench) pkgs="$pkgs libcap2-bin util-linux passwd iputils-ping iputils-arping iputils-clockdiff iproute2 strace fping" ;;
        # make deb / test-deb: dpkg-buildpackage and debhelper, lintian, and
        # the build dependencies in debian/control (the policy toolchains);
        # iputils for privsep-iputils to divert and restore, and the real
        # clients run on its names (check_ping, upstream's meson tests).
        deb) pkgs="$pkgs dpkg-dev debhelper fakeroot lintian build-essential libcap2-bin iproute2 \
              util-linux passwd selinux-policy-dev checkpolicy semodule-utils policycoreutils \
              iputils-ping iputils-arping iputils-clockdiff monitoring-plugins-basic meson ninja-build apparmor" ;;
        # make selinux: the refpolicy devel Makefile and the module toolchain.
        selinux) pkgs="$pkgs selinux-policy-dev checkpolicy semodule-utils policycoreutils" ;;
        *) echo "install-deps: unknown group '$group' (demo, test, bench, deb, selinux)" >&2; exit 2 ;;
    esac
done

missing=""
for p in $pkgs; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$status" = installed ] || case " $missing " in *" $p "*) ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: please install:$missing" >&2
    exit 2
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
