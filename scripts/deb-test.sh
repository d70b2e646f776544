#!/bin/sh
# The install test for the Debian packages: installs the .debs in DEBDIR on
# this machine, checks each tool package's launcher capability, the modes,
# the man page and completions, runs each tool once as the unprivileged USER
# (its descriptor's smoke run, scripts/smoke.sh);
# with privsep-iputils, that the iputils and fping names are privsep's
# (links, diversions, iputils' and fping's programs unreachable and without
# capabilities), the real clients on them (scripts/iputils-names-test.sh,
# upstream iputils' tests from PRIVSEP_IPUTILS_TESTS) and an iputils and an
# fping reinstall; checks the
# setuid fallback of each postinst, then purges and checks that every file
# the packages installed is gone and iputils and fping are exactly as before.
# Usage: PRIVSEP_RENDER=... scripts/deb-test.sh DEBDIR USER        (as root)
# PRIVSEP_RENDER is a privsep-render binary (any layout: `make test-deb`
# passes the default one): the tool list and each tool's facts (file
# capability, broker, smoke run, iputils names) come from it, not from here.
#
# Every check runs even when an earlier one failed, the purge always runs,
# and the exit status is 1 if any check failed.
set -u

[ $# -eq 2 ] || { echo "usage: $0 DEBDIR USER" >&2; exit 2; }
debdir=$(cd "$1" && pwd) || exit 2   # apt-get takes local .debs by path only
user=$2
[ "$(id -u)" -eq 0 ] || { echo "deb-test: must run as root (it installs packages)" >&2; exit 2; }
render=${PRIVSEP_RENDER:?PRIVSEP_RENDER: a privsep-render binary (make test-deb sets it)}
all_tools=$("$render" names) && [ -n "$all_tools" ] || { echo "deb-test: $render names listed no tool" >&2; exit 2; }
# fact TOOL KEY: the value of KEY in `privsep-render layout --tool TOOL`.
fact() { "$render" layout --tool "$1" | sed -n "s/^$2=//p"; }

# Every tool's package and the others. PRIVSEP_DEB_PKGS narrows the set,
# for packages built with DEB_OPTS=-Pnoselinux,notomoyo during development.
PKGS=${PRIVSEP_DEB_PKGS:-$(for t in $all_tools; do printf 'privsep-%s ' "$t"; done)privsep-iputils privsep-selinux privsep-tomoyo privsep-apparmor}
# The tool packages among them: privsep-<tool>, each checked the same way.
TOOLS=""
for p in $PKGS; do
    case $p in privsep-selinux | privsep-tomoyo | privsep-iputils | privsep-apparmor) ;; privsep-*) TOOLS="$TOOLS ${p#privsep-}" ;; esac
done

# One install test at a time on this machine: they share /usr and dpkg.
exec 9>/tmp/privsep-deb-test.lock
flock 9
tmp=$(mktemp -d /tmp/privsep-deb-test.XXXXXX)
here=$(cd "$(dirname "$0")" && pwd)
trap 'rm -rf "$tmp"' EXIT
failures=0

pass() { echo "ok   $*"; }
# The file capability each tool's postinst sets (its descriptor's, in
# setcap's syntax: cap_net_raw,cap_sys_nice=p), and a pattern for getcap's
# output (which may print =p or +p).
caps_of() { fact "$1" SETCAP; }
caps_re() { caps_of "$1" | sed 's/=p$/[=+]p$/'; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
# check DESCRIPTION COMMAND...: passes when COMMAND succeeds.
check() {
    what=$1
    shift
    if "$@" >"$tmp/out" 2>&1; then pass "$what"; else fail "$what"; sed 's/^/     | /' "$tmp/out"; fi
}
installed() { [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]; }
known() { dpkg-query -W -f='${db:Status-Status}\n' "$1" 2>/dev/null | grep -qv '^not-installed$'; }

debs=""
for p in $PKGS; do
    deb=$(ls "$debdir"/"${p}"_*.deb 2>/dev/null | head -n 1)
    [ -n "$deb" ] || { echo "deb-test: no ${p}_*.deb in $debdir (run make deb)" >&2; exit 2; }
    debs="$debs $deb"
done

# lintian: errors fail the test, warnings are shown.
changes=$(ls "$debdir"/*.changes 2>/dev/null | head -n 1)
echo "\$ lintian $changes"
if lintian --fail-on error "$changes" >"$tmp/lintian" 2>&1; then lint=ok; else lint=FAIL; fi
grep -v '^running with root privileges' "$tmp/lintian" | sed 's/^/     | /'
if [ "$lint" = ok ]; then pass "lintian: no errors"; else fail "lintian: errors (or no .changes)"; fi

# A leftover from an interrupted run would hide what this run installs.
for p in $PKGS; do
    if known "$p"; then
        echo "deb-test: purging a previous $p"
        dpkg --purge "$p" >/dev/null
    fi
done

export DEBIAN_FRONTEND=noninteractive
apt_opts=""
# Where SELinux is disabled (as on most test machines), privsep-selinux's
# postinst would rightly do nothing. So that its semodule -i and the postrm's
# semodule -r still run for real against this machine's policy store, the
# maintainer scripts see a selinuxenabled that says yes (restorecon is a
# no-op while SELinux is disabled).
case " $PKGS " in *" privsep-selinux "*)
    if command -v semodule >/dev/null && ! { command -v selinuxenabled >/dev/null && selinuxenabled; }; then
        mkdir -p "$tmp/bin"
        printf '#!/bin/sh\nexit 0\n' >"$tmp/bin/selinuxenabled"
        chmod 0755 "$tmp/bin/selinuxenabled"
        PATH=$tmp/bin:$PATH
        # apt-get runs dpkg with its own PATH (DPkg::Path).
        apt_opts="-o DPkg::Path=$PATH"
        echo "deb-test: SELinux is disabled: running the maintainer scripts with a selinuxenabled that says yes"
    fi ;;
esac
# --- iputils as it is before privsep-iputils (compared after the purge) ---------
# Every file of the iputils packages and fping's (privsep-iputils diverts
# fping's names too): type, mode, owner, checksum or link target, file
# capabilities; every diversion and every statoverride on the system.
# Which packages those are: for every tool with compatibility names (its
# descriptor's IPUTILS_NAMES), the owner of the program its first name
# replaces, in /usr/bin or in /bin (Debian 12's ping is /bin/ping).
IPUTILS_PKGS="" stock_names="" stock_paths=""
for t in $all_tools; do
    names=$(fact "$t" IPUTILS_NAMES)
    [ -n "$names" ] || continue
    n=${names%% *} pkg=""
    for path in "/usr/bin/$n" "/bin/$n"; do
        pkg=$(dpkg-query -S "$path" 2>/dev/null | sed -n 's/^\([^ :,]*\)[:,] .*/\1/p' | head -n 1)
        [ -n "$pkg" ] && break
    done
    [ -n "$pkg" ] || { echo "deb-test: no package owns /usr/bin/$n or /bin/$n (the stock $t; scripts/install-deps.sh test)" >&2; exit 2; }
    IPUTILS_PKGS="$IPUTILS_PKGS $pkg" stock_names="$stock_names $n" stock_paths="$stock_paths $path"
done
[ -n "$IPUTILS_PKGS" ] || { echo "deb-test: no tool has compatibility names ($render layout)" >&2; exit 2; }
iputils_state() {
    for p in $IPUTILS_PKGS; do dpkg-query -L "$p" 2>/dev/null; done | sort -u | while IFS= read -r f; do
        if [ -L "$f" ]; then
            echo "$f link $(readlink "$f")"
        elif [ -f "$f" ]; then
            echo "$f $(stat -c '%a %U:%G' "$f") $(sha256sum <"$f" | cut -d ' ' -f 1) caps=$(getcap "$f" | sed 's/^[^ ]* //')"
        fi
    done
    echo "--- diversions"
    dpkg-divert --list | sort
    echo "--- statoverrides"
    dpkg-statoverride --list | sort
}
with_iputils=""
case " $PKGS " in *" privsep-iputils "*)
    with_iputils=1
    iputils_state >"$tmp/iputils.before"
    echo "\$ iputils before privsep-iputils"; sed 's/^/     | /' "$tmp/iputils.before"
    # What iputils' and fping's postinsts gave their programs: Debian 12's
    # cap_net_raw=ep (Debian 13's ping none, where ping_group_range admits
    # everyone).
    grep -E "^/(usr/)?bin/($(echo $stock_names | tr ' ' '|')) " "$tmp/iputils.before" >"$tmp/iputils.programs" || true
    check "the stock programs are installed:$stock_paths ($IPUTILS_PKGS )" test "$(wc -l <"$tmp/iputils.programs")" -eq "$(echo $stock_names | wc -w)" ;;
esac

# apt-get, not dpkg -i, so that missing dependencies are pulled in.
# shellcheck disable=SC2086
check "install:$debs" apt-get install $apt_opts -y -q --no-install-recommends $debs
for p in $PKGS; do check "$p is installed" installed "$p"; done

for p in $PKGS; do dpkg -L "$p" >"$tmp/files.$p" 2>/dev/null || true; done

# --- the installed files, per tool ---------------------------------------------
asuser() { setpriv --reuid="$user" --regid="$user" --clear-groups --inh-caps=-all "$@"; }
for t in $TOOLS; do
    LAUNCHER=/usr/bin/privsep-$t
    WORKER=/usr/libexec/privsep/$t-worker
    PAGE=/usr/share/man/man8/privsep-$t.8.gz
    echo "\$ getcap $LAUNCHER"; getcap "$LAUNCHER" | tee "$tmp/getcap"
    echo "\$ ls -l $LAUNCHER $WORKER"; ls -l "$LAUNCHER" "$WORKER"
    check "$t: launcher has $(caps_of "$t")" grep -q "$(caps_re "$t")" "$tmp/getcap"
    check "$t: launcher is 755 root:root" test "$(stat -c '%a %U:%G' "$LAUNCHER")" = "755 root:root"
    check "$t: worker is 711 root:root" test "$(stat -c '%a %U:%G' "$WORKER")" = "711 root:root"
    check "$t: worker directory is 755 root:root" test "$(stat -c '%a %U:%G' "${WORKER%/*}")" = "755 root:root"
    broker=$(fact "$t" BROKER_NAME)
    if [ -n "$broker" ]; then
        check "$t: broker is 711 root:root" test "$(stat -c '%a %U:%G' "/usr/libexec/privsep/$broker")" = "711 root:root"
    fi
    # The control read of the launcher proves that setpriv itself worked.
    check "$t: $user can read the launcher but not the worker" \
        asuser sh -c "cat '$LAUNCHER' >/dev/null && ! cat '$WORKER' 2>/dev/null >/dev/null"
    check "$t: man finds privsep-$t(8)" sh -c "test \"\$(man -w 8 privsep-$t)\" = $PAGE"
    check "$t: the man page has the security section" sh -c "zcat $PAGE | grep -q '^\\.SH SECURITY'"
    check "$t: the man page names the installed worker path" sh -c "zcat $PAGE | grep -qF '$WORKER'"
    check "$t: man renders the page without warnings" sh -c "! MANWIDTH=80 man --warnings -l $PAGE 2>&1 >/dev/null | grep ."
    check "$t: bash completion registers privsep-$t" bash -c ". /usr/share/bash-completion/completions/privsep-$t && complete -p privsep-$t"
    check "$t: zsh completion installed" test -s /usr/share/zsh/vendor-completions/_privsep-$t
    check "$t: fish completion installed" test -s /usr/share/fish/vendor_completions.d/privsep-$t.fish
done
case " $PKGS " in *" privsep-selinux "*)
    check "SELinux module shipped" test -s /usr/share/selinux/packages/privsep.pp
    if command -v semodule >/dev/null; then
        check "postinst installed the module (semodule -l)" sh -c 'semodule -l | grep -qx privsep'
    fi ;;
esac
case " $PKGS " in *" privsep-tomoyo "*)
    check "TOMOYO policy shipped" sh -c 'ls /usr/share/privsep/tomoyo/*.conf >/dev/null' ;;
esac
# Every tool's profile file, attached to the installed paths and compiling
# with the machine's apparmor_parser (-Q: not loaded; against the feature
# file Debian's apparmor package ships where this kernel has no AppArmor).
case " $PKGS " in *" privsep-apparmor "*)
    aa_features=""
    [ -d /sys/kernel/security/apparmor ] || aa_features="--features-file /usr/share/apparmor-features/features"
    for t in $TOOLS; do
        f=/etc/apparmor.d/privsep-$t
        check "AppArmor profile $f shipped, attached to /usr/bin/privsep-$t" \
            grep -q "^profile privsep-$t /usr/bin/privsep-$t {" "$f"
        check "AppArmor profile $f stacks privsep-$t-worker on /usr/libexec/privsep/$t-worker" \
            sh -c "grep -q '^profile privsep-$t-worker {' '$f' &&
                grep -qF '  /usr/libexec/privsep/$t-worker Pix -> &privsep-$t-worker,' '$f'"
        if command -v apparmor_parser >/dev/null; then
            check "AppArmor profile $f compiles" apparmor_parser -Q -K $aa_features "$f"
        fi
    done ;;
esac

# --- each tool once, unprivileged, through the installed launcher and worker --
# run_tool T: runs tool T once as $user as its descriptor's smoke facts say
# (scripts/smoke.sh, which makes the veth pair a tool may need), output in
# $tmp/run; true when it did what it should.
run_tool() {
    "$here"/smoke.sh "$render" "/usr/bin/privsep-$1" "$user" "$1" >"$tmp/run" 2>&1
}
for t in $TOOLS; do
    if run_tool "$t"; then pass "$t: unprivileged run (exit 0, answered)"; else fail "$t: unprivileged run"; fi
    sed 's/^/     | /' "$tmp/run"
done

# --- privsep-iputils: the iputils names are privsep's ---------------------------
if [ -n "$with_iputils" ]; then
    DIVERTED=/usr/lib/privsep-iputils/diverted
    for t in $TOOLS; do for n in $(fact "$t" IPUTILS_NAMES); do
        check "$n: /usr/bin/$n is a link to privsep-$t" test "$(readlink /usr/bin/$n)" = "privsep-$t"
        check "$n: man $n is privsep-$t(8)" test "$(readlink -f "$(man -w 8 $n)")" = "/usr/share/man/man8/privsep-$t.8.gz"
        for path in /bin/$n /usr/bin/$n /usr/share/man/man8/$n.8.gz; do
            check "$path is diverted by privsep-iputils" \
                sh -c "dpkg-divert --listpackage $path | grep -qx privsep-iputils && test \"\$(dpkg-divert --truename $path)\" = $DIVERTED$path"
        done
    done; done
    check "/bin/ping is privsep's too" test "$(readlink -f /bin/ping)" = /usr/bin/privsep-ping
    check "the diverted iputils are under a 700 root:root directory" test "$(stat -c '%a %U:%G' $DIVERTED)" = "700 root:root"
    # Through sh: setpriv itself execs with root's capabilities still in
    # effect (it keeps them until the exec), which would walk the 0700
    # directory.
    check "$user cannot run the diverted ping" \
        sh -c "! setpriv --reuid=$user --regid=$user --clear-groups --inh-caps=-all sh -c 'exec \$0 -V' $(dpkg-divert --truename /bin/ping) >/dev/null 2>&1"
    for n in $stock_paths; do
        f=$(dpkg-divert --truename $n)
        check "$f: no file capability, no setuid (was iputils' or fping's)" \
            sh -c "test -f $f && test -z \"\$(getcap $f)\" && test \"\$(stat -c '%a' $f)\" = 755"
    done
    # Each program's record (PATH MODE CAPS) is what it had before.
    while read -r path mode _owner _sum caps; do
        caps=${caps#caps=}
        check "$path: recorded as it was ($mode, ${caps:-no capability}) for the restore" \
            grep -qxF "$path $mode $caps" /var/lib/privsep-iputils/records
    done <"$tmp/iputils.programs"
    echo "\$ scripts/iputils-names-test.sh $user …    # real clients on the plain names"
    if [ -d "${PRIVSEP_IPUTILS_TESTS:-}" ]; then
        if "$here"/iputils-names-test.sh "$user" "$PRIVSEP_IPUTILS_TESTS" >"$tmp/names" 2>&1; then
            pass "real clients on the iputils names (check_ping, upstream's tests, arping -D, clockdiff)"
        else
            fail "real clients on the iputils names"
        fi
        sed 's/^/     | /' "$tmp/names"
    else
        fail "real clients on the iputils names: PRIVSEP_IPUTILS_TESTS (upstream iputils' test/) not given"
    fi
    # An iputils upgrade (here: reinstall) unpacks its ping into the
    # diverted place and its postinst gives it the capability again; the
    # dpkg post-invoke hook strips it and the names stay privsep's.
    # shellcheck disable=SC2086
    check "reinstalling iputils-ping" apt-get install $apt_opts -y -q --reinstall iputils-ping
    check "after iputils' postinst: /usr/bin/ping is still privsep's" test "$(readlink -f /usr/bin/ping)" = /usr/bin/privsep-ping
    # The ping iputils' package lists (/bin/ping in Debian 12, /usr/bin/ping
    # later) and its other alias.
    listed=$(grep -E '^/(usr/)?bin/ping ' "$tmp/iputils.programs" | cut -d ' ' -f 1)
    case $listed in /usr/*) other=${listed#/usr} ;; *) other=/usr$listed ;; esac
    if grep -q '^[^ ]*/ping .* caps=.' "$tmp/iputils.programs"; then
        check "after iputils' postinst: the diverted ping has no capability again (post-invoke hook)" \
            sh -c "test -f $DIVERTED$listed && test -z \"\$(getcap $DIVERTED$listed)\""
    else
        echo "note iputils' postinst gives ping no capability here: the post-invoke hook is not exercised"
    fi
    check "after iputils' postinst: one diverted ping ($listed), none at the other alias" \
        sh -c "test -f $DIVERTED$listed && ! test -e $DIVERTED$other"
    # fping's postinst works by name: `setcap cap_net_raw+ep /usr/bin/fping`,
    # which refuses the link, then a setuid-root statoverride with --update
    # (a chmod through the link) unless an override exists: the preinst's
    # own keeps it away.
    check "privsep-iputils' statoverride for /usr/bin/fping (root root 755)" \
        test "$(dpkg-statoverride --list /usr/bin/fping)" = "root root 755 /usr/bin/fping"
    # shellcheck disable=SC2086
    check "reinstalling fping" apt-get install $apt_opts -y -q --reinstall fping
    check "after fping's postinst: /usr/bin/fping and fping6 are still privsep's" \
        sh -c "test \"\$(readlink -f /usr/bin/fping)\" = /usr/bin/privsep-fping && test \"\$(readlink -f /usr/bin/fping6)\" = /usr/bin/privsep-fping"
    check "after fping's postinst: privsep-fping's launcher is still 755 with $(caps_of fping) (not setuid through the link)" \
        sh -c "test \"\$(stat -c '%a %U:%G' /usr/bin/privsep-fping)\" = '755 root:root' && getcap /usr/bin/privsep-fping | grep -q '$(caps_re fping)'"
    check "after fping's postinst: the diverted fping has no capability and no setuid" \
        sh -c "f=\$(dpkg-divert --truename /usr/bin/fping) && test -f \$f && test -z \"\$(getcap \$f)\" && test \"\$(stat -c '%a' \$f)\" = 755"
    check "after fping's postinst: the statoverride is still privsep-iputils' alone" \
        test "$(dpkg-statoverride --list /usr/bin/fping)" = "root root 755 /usr/bin/fping"
fi

# --- the setuid fallback, per tool ---------------------------------------------
# Where the file system keeps no extended attributes setcap fails, and the
# postinst must make the launcher setuid root instead. Simulated by running
# the installed postinst again, without the capability and with a setcap that
# fails; then the real postinst must restore the capability mode.
mkdir -p "$tmp/nosetcap"
printf '#!/bin/sh\necho "setcap: Operation not supported" >&2\nexit 1\n' >"$tmp/nosetcap/setcap"
chmod 0755 "$tmp/nosetcap/setcap"
for t in $TOOLS; do
    LAUNCHER=/usr/bin/privsep-$t
    postinst=/var/lib/dpkg/info/privsep-$t.postinst
    setcap -r "$LAUNCHER" 2>/dev/null || true
    check "$t: postinst with a failing setcap makes the launcher 4755 root:root" \
        sh -c "PATH='$tmp/nosetcap':\$PATH sh $postinst configure && test \"\$(stat -c '%a %U:%G' $LAUNCHER)\" = '4755 root:root'"
    if run_tool "$t"; then pass "$t: unprivileged run through the setuid-root launcher"; else
        fail "$t: unprivileged run through the setuid-root launcher"
        sed 's/^/     | /' "$tmp/run"
    fi
    check "$t: postinst with setcap restores $(caps_of "$t") and 755" \
        sh -c "sh $postinst configure && getcap $LAUNCHER | grep -q '$(caps_re "$t")' && test \"\$(stat -c '%a' $LAUNCHER)\" = 755"
    # Where the kernel admits every group to ping sockets (a network
    # namespace of the test's own: /proc/sys/net is the reader's), ping's
    # launcher gets no capability at all; the others keep theirs.
    if [ "$(fact "$t" DATAGRAM_FIRST)" = yes ]; then
        check "$t: postinst where ping sockets admit every group: no capability, 755" \
            unshare -n sh -c "echo '0 2147483647' >/proc/sys/net/ipv4/ping_group_range && sh $postinst configure && test -z \"\$(getcap $LAUNCHER)\" && test \"\$(stat -c '%a' $LAUNCHER)\" = 755"
    else
        check "$t: postinst where ping sockets admit every group keeps $(caps_of "$t")" \
            unshare -n sh -c "echo '0 2147483647' >/proc/sys/net/ipv4/ping_group_range && sh $postinst configure && getcap $LAUNCHER | grep -q '$(caps_re "$t")'"
    fi
    check "$t: postinst again restores $(caps_of "$t")" \
        sh -c "sh $postinst configure && getcap $LAUNCHER | grep -q '$(caps_re "$t")'"
done

# --- purge, and nothing left behind ------------------------------------------
# shellcheck disable=SC2086
check "purge" apt-get purge $apt_opts -y -q $PKGS
for p in $PKGS; do check "$p is gone from dpkg's database" sh -c "! dpkg-query -W '$p' 2>/dev/null | grep -q ."; done
left=""
for p in $PKGS; do
    while IFS= read -r path; do
        [ -n "$path" ] && [ "$path" != /. ] || continue
        # privsep-iputils' names are iputils' files again (compared below):
        # only a link to privsep's would be left behind.
        if [ "$p" = privsep-iputils ]; then
            case $(readlink "$path" 2>/dev/null) in privsep-*) left="$left $path" ;; esac
            continue
        fi
        if [ -e "$path" ] || [ -L "$path" ]; then
            # A directory another package still owns (/usr/bin) stays.
            [ -d "$path" ] && dpkg -S "$path" >/dev/null 2>&1 && continue
            left="$left $path"
        fi
    done <"$tmp/files.$p"
done
check "every installed file is gone${left:+ (left:$left)}" test -z "$left"
if [ -n "$with_iputils" ]; then
    iputils_state >"$tmp/iputils.after"
    if cmp -s "$tmp/iputils.before" "$tmp/iputils.after"; then
        pass "iputils restored exactly: files, modes, checksums, capabilities, diversions ($(grep -c caps= "$tmp/iputils.after") files)"
    else
        fail "iputils not restored exactly"
        diff "$tmp/iputils.before" "$tmp/iputils.after" | sed 's/^/     | /'
    fi
    check "no diversion by privsep-iputils left" sh -c "! dpkg-divert --list | grep -q privsep-iputils"
    check "/usr/lib/privsep-iputils and /var/lib/privsep-iputils are gone" \
        sh -c "! test -e /usr/lib/privsep-iputils && ! test -e /var/lib/privsep-iputils"
    check "ping is iputils' again" sh -c "/usr/bin/ping -V | grep -q '^ping from iputils'"
    fping_before=$(grep '^/usr/bin/fping ' "$tmp/iputils.before")
    check "fping is Debian's again, as before (${fping_before#/usr/bin/fping })" \
        test "$(grep '^/usr/bin/fping ' "$tmp/iputils.after")" = "$fping_before"
fi
check "no dpkg-statoverride left" sh -c "! dpkg-statoverride --list | grep -q privsep"
check "no maintainer scripts left" sh -c '! ls /var/lib/dpkg/info/privsep-* 2>/dev/null | grep -q .'
if command -v semodule >/dev/null; then
    check "no privsep module in the SELinux store" sh -c 'out=$(semodule -l) && ! printf "%s\n" "$out" | grep -qx privsep'
fi

if [ "$failures" -ne 0 ]; then
    echo "deb-test: $failures check(s) failed"
    exit 1
fi
echo "deb-test: all checks passed"
