#!/bin/sh
# Merges privsep's rendered TOMOYO policy (every tool's domains) into a running TOMOYO system,
# and into /etc/tomoyo so that it survives a reboot; or says that TOMOYO is
# not active and does nothing. Run by `make install-tomoyo` (as root).
#
#   tomoyo/install-tomoyo.sh DIR      DIR = $(BUILDDIR)/tomoyo from `make tomoyo`
#
# Only privsep's own lines are added: profile 9 (not profile 0, which the
# running system already defines), the launcher and worker domains of every
# tool, the initialize_domain lines and the address groups. Running it again replaces
# privsep's lines instead of duplicating them.
# TOMOYO_SECURITYFS and TOMOYO_ETC override the two locations (for tests).
set -eu

dir=${1:?usage: install-tomoyo.sh DIR}
sfs=${TOMOYO_SECURITYFS:-/sys/kernel/security/tomoyo}
etc=${TOMOYO_ETC:-/etc/tomoyo}
say() { echo "install-tomoyo: $*"; }
die() { echo "install-tomoyo: $*" >&2; exit 2; }

for f in profile.conf exception_policy.conf domain_policy.conf; do
    [ -r "$dir/$f" ] || die "$dir/$f is missing (run make tomoyo)"
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The profile number privsep's domains use, from the rendered policy itself.
nums=$(sed -n 's/^use_profile //p' "$dir/domain_policy.conf" | sort -u)
case "$nums" in
    [0-9]|[0-9][0-9]|[0-9][0-9][0-9]) num=$nums ;;
    *) die "$dir/domain_policy.conf: expected one use_profile number, found: $nums" ;;
esac
grep "^$num-" "$dir/profile.conf" > "$work/profile-$num.conf" || die "profile $num is not in $dir/profile.conf"

if [ ! -d "$sfs" ]; then
    say "TOMOYO is not active on this kernel ($sfs does not exist): nothing to do."
    say "To use it: install tomoyo-tools, boot with security=tomoyo, then run make install-tomoyo again."
    exit 0
fi
[ -r "$sfs/profile" ] || die "cannot read $sfs/profile (run as root)"
# Until a loader activated TOMOYO (tomoyo-tools' /sbin/tomoyo-init, run by
# the kernel at the exec of /sbin/init), nothing is enforced and no process
# ever leaves the <kernel> domain: the `cat` below, freshly executed, is in a
# child domain only on an activated system. (Profile lines do not tell:
# root may write them before activation.)
if [ "$(cat "$sfs/self_domain")" = "<kernel>" ]; then
    say "TOMOYO is enabled but was not activated at boot (tomoyo-tools' /sbin/tomoyo-init does that from /etc/tomoyo): nothing to do."
    exit 0
fi
command -v tomoyo-loadpolicy >/dev/null 2>&1 || die "tomoyo-loadpolicy not found: install tomoyo-tools"

# Profile N must be free, or already privsep's: this version's comment, or
# the one of the single-tool version before it (same profile, renamed).
ours=$(sed -n "s/^$num-COMMENT=//p" "$dir/profile.conf")
earlier="privsep-ping: file::execute and network enforcing, rest disabled"
theirs=$(sed -n "s/^$num-COMMENT=//p" "$sfs/profile")
if [ -n "$theirs" ] && [ "$theirs" != "$ours" ] && [ "$theirs" != "$earlier" ]; then
    die "profile $num is already in use (\"$theirs\"); privsep's policy needs it. Not changing anything."
fi

# Load order: the profile, then the domains with their rules, and only then
# the initialize_domain line that sends the launcher into its domain. After
# activation the kernel ignores `use_profile N` for an undefined profile N.
tomoyo-loadpolicy -p < "$work/profile-$num.conf" || die "loading the profile failed (is tomoyo-loadpolicy in $sfs/manager?)"
tomoyo-loadpolicy -d < "$dir/domain_policy.conf" || die "loading the domain policy failed"
tomoyo-loadpolicy -e < "$dir/exception_policy.conf" || die "loading the exception policy failed"

# The kernel reports success even for lines it rejected: read everything back.
# Prints the lines of domain $2 in domain policy file $1.
domain_block() {
    awk -v d="$2" '/^</ { in_d = ($0 == d); next } in_d && NF' "$1"
}
missing=0
while IFS= read -r line; do
    grep -qxF "$line" "$sfs/profile" || { say "NOT loaded into profile: $line"; missing=1; }
done < "$work/profile-$num.conf"
while IFS= read -r line; do
    grep -qxF "$line" "$sfs/exception_policy" || { say "NOT loaded into exception_policy: $line"; missing=1; }
done < "$dir/exception_policy.conf"
grep '^<' "$dir/domain_policy.conf" | while IFS= read -r d; do
    domain_block "$dir/domain_policy.conf" "$d" | while IFS= read -r line; do
        domain_block "$sfs/domain_policy" "$d" | grep -qxF "$line" || echo "$d: $line"
    done
done > "$work/missing-domain-lines"
if [ -s "$work/missing-domain-lines" ]; then
    sed 's/^/install-tomoyo: NOT loaded into domain_policy: /' "$work/missing-domain-lines"
    missing=1
fi
[ "$missing" = 0 ] || die "the running policy lacks the lines above"
say "loaded into the running kernel (profile $num, $(grep -c '^<' "$dir/domain_policy.conf") domains, $(wc -l < "$dir/exception_policy.conf") exception lines)"

# Persist: edit the files tomoyo-init loads at boot (through their symlinks
# into /etc/tomoyo/policy/current/), replacing earlier privsep lines.
if [ ! -d "$etc" ]; then
    say "$etc does not exist: the policy is loaded but will not survive a reboot"
    exit 0
fi
for f in profile.conf exception_policy.conf domain_policy.conf; do
    [ -e "$etc/$f" ] || : > "$etc/$f"
done
tmp="$work/merge"
{ grep -v "^$num-" "$etc/profile.conf" || true; cat "$work/profile-$num.conf"; } > "$tmp"
cat "$tmp" > "$etc/profile.conf"
{ grep -vxF -f "$dir/exception_policy.conf" "$etc/exception_policy.conf" || true; cat "$dir/exception_policy.conf"; } > "$tmp"
cat "$tmp" > "$etc/exception_policy.conf"
grep '^<' "$dir/domain_policy.conf" > "$work/domains.txt"
awk 'NR == FNR { ours[$0] = 1; next } /^</ { skip = ($0 in ours) } !skip' \
    "$work/domains.txt" "$etc/domain_policy.conf" > "$tmp"
{ echo; cat "$dir/domain_policy.conf"; } >> "$tmp"
# Squeeze blank lines, so that repeated runs do not pile them up.
awk 'NF || !blank { print } { blank = !NF }' "$tmp" > "$etc/domain_policy.conf"
say "merged into $etc/{profile,exception_policy,domain_policy}.conf"
