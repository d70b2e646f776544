#!/bin/sh
# Renders privsep's AppArmor profiles for every tool descriptor, with the
# layout the renderer was built for (make apparmor runs it).
#
#   apparmor/render.sh PRIVSEP_RENDER OUTDIR
#
# OUTDIR/privsep-<tool> = privsep-tool.in for that tool, with
#                         worker-needs.in (and needs-<tool>.in, if there is
#                         one) where it says %worker-needs%
# OUTDIR/tools.txt      = `privsep-render tools` (what apparmor-check reads)
#
# The @...@ variables are the renderer's (`privsep-render plain --tool T`);
# then the directives of the templates (listed at the top of
# privsep-tool.in) are expanded from the tool's line of `privsep-render
# tools`: APPARMOR_CAPS, APPARMOR_SOCKETS, RESOLVES, WORKER_PATH and, where a
# descriptor has one, BROKER_PATH (its broker program, confined like the
# worker, from broker.in). Where a tool has a broker, APPARMOR_WORKER_SOCKETS
# and APPARMOR_BROKER_SOCKETS (when the renderer gives them) split the kinds
# between the worker's and the broker's profiles; the launcher's names all
# of APPARMOR_SOCKETS. Each file is replaced only when its content changed. Exit 2 on
# failure.
set -eu

render=${1:?usage: render.sh PRIVSEP_RENDER OUTDIR}
out=${2:?usage: render.sh PRIVSEP_RENDER OUTDIR}
src=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
work=$(mktemp -d "$out/.render.XXXXXX")
trap 'rm -rf "$work"' EXIT
die() { echo "apparmor/render.sh: $*" >&2; exit 2; }

"$render" tools > "$work/tools.txt" || die "privsep-render tools failed"
[ -s "$work/tools.txt" ] || die "privsep-render tools listed no tool"

# value KEY LINE: the value of KEY=... in one `tools` line ('' if absent).
value() {
    printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# Every capability, as apparmor_parser names them (linux/capability.h,
# 0 to 40): the launcher's profile denies each one its descriptor lacks.
ALL_CAPS="chown,dac_override,dac_read_search,fowner,fsetid,kill,setgid,setuid,setpcap,\
linux_immutable,net_bind_service,net_broadcast,net_admin,net_raw,ipc_lock,ipc_owner,\
sys_module,sys_rawio,sys_chroot,sys_ptrace,sys_pacct,sys_admin,sys_boot,sys_nice,\
sys_resource,sys_time,sys_tty_config,mknod,lease,audit_write,audit_control,setfcap,\
mac_override,mac_admin,syslog,wake_alarm,block_suspend,audit_read,perfmon,bpf,\
checkpoint_restore"
# The socket kinds only a capability opens (raw IP) or that see every frame
# (packet, any type): a worker is denied each one it was not handed.
PRIVILEGED_SOCKETS="inet/raw,inet6/raw,packet"

# expand TOOL CAPS SOCKETS RESOLVES EXECS CHILDREN NEEDS < rendered > profile
# (lists comma-separated; EXECS as path=profile pairs).
expand() {
    awk -v tool="$1" -v caps="$2" -v sockets="$3" -v resolves="$4" \
        -v execs="$5" -v children="$6" -v needs="$7" -v all_caps="$ALL_CAPS" \
        -v privileged="$PRIVILEGED_SOCKETS" '
        BEGIN {
            n = split(caps, c, ","); for (i = 1; i <= n; i++) have_cap[c[i]] = 1
            n = split(all_caps, c, ","); other_caps = ""
            for (i = 1; i <= n; i++) if (!(c[i] in have_cap)) other_caps = other_caps "," c[i]
            n = split(sockets, c, ",")
            for (i = 1; i <= n; i++) { handed[c[i]] = 1; split(c[i], p, "/"); handed_family[p[1]] = 1 }
            n = split(privileged, c, ","); unhanded = ""
            for (i = 1; i <= n; i++)
                if (!(c[i] in handed) && !(c[i] == "packet" && ("packet" in handed_family)))
                    unhanded = unhanded "," c[i]
        }
        # A replacement text for gsub: "&" there means the matched text.
        function lit(s) { gsub(/&/, "\\\\&", s); return s }
        function each(list, line, key,    n, items, i, l) {
            n = split(list, items, ",")
            for (i = 1; i <= n; i++) {
                if (items[i] == "") continue
                l = line; gsub(key, lit(items[i]), l); print l
            }
        }
        function directive(line,    n, items, i, l, kv, pair, list) {
            if (line ~ /^[ \t]*#/) {
                print line
            } else if (line ~ /^[ \t]*%each-cap% /) {
                sub(/%each-cap% /, "", line); each(caps, line, "%CAP%")
            } else if (line ~ /^[ \t]*%each-other-cap% /) {
                sub(/%each-other-cap% /, "", line); each(other_caps, line, "%CAP%")
            } else if (line ~ /^[ \t]*%each-(socket|unhanded)% /) {
                list = (line ~ /%each-socket%/) ? sockets : unhanded
                sub(/%each-(socket|unhanded)% /, "", line)
                n = split(list, items, ",")
                for (i = 1; i <= n; i++) {
                    if (items[i] == "") continue
                    pair[2] = ""; split(items[i], pair, "/")
                    l = line; gsub(/%FAMILY%/, pair[1], l); gsub(/%TYPE%/, pair[2], l)
                    sub(/ +,$/, ",", l); print l
                }
            } else if (line ~ /^[ \t]*%each-exec% /) {
                sub(/%each-exec% /, "", line)
                n = split(execs, items, ",")
                for (i = 1; i <= n; i++) {
                    split(items[i], kv, "=")
                    l = line; gsub(/%PATH%/, lit(kv[1]), l); gsub(/%PROFILE%/, lit(kv[2]), l); print l
                }
            } else if (line ~ /^[ \t]*%each-child% /) {
                sub(/%each-child% /, "", line); each(children, line, "%PROFILE%")
            } else if (line ~ /^[ \t]*%resolves% /) {
                if (resolves == "yes") { sub(/%resolves% /, "", line); print line }
            } else if (line ~ /^[ \t]*%worker-needs%[ \t]*$/) {
                while ((getline l < needs) > 0) directive(l)
                close(needs)
            } else if (line ~ /%[a-z-]+%/) {
                printf "apparmor/render.sh: unknown directive in: %s\n", line > "/dev/stderr"
                exit 2
            } else {
                print line
            }
        }
        { directive($0) }
    '
}

while IFS= read -r line; do
    tool=$(value TOOL "$line")
    worker=$(value WORKER_PATH "$line")
    broker=$(value BROKER_PATH "$line")
    resolves=$(value RESOLVES "$line")
    [ -n "$tool" ] && [ -n "$worker" ] && [ -n "$resolves" ] ||
        die "tools line without TOOL, WORKER_PATH or RESOLVES: $line"
    sockets=$(value APPARMOR_SOCKETS "$line")
    [ -n "$sockets" ] || die "$tool: no socket kind (APPARMOR_SOCKETS) in its descriptor"
    # The processes a launcher starts: each is stacked onto the launcher's
    # profile, so that is the label signals between them carry.
    execs="$worker=privsep-$tool-worker"
    children="privsep-$tool//&privsep-$tool-worker"
    worker_sockets=$sockets
    broker_sockets=$sockets
    if [ -n "$broker" ]; then
        execs="$execs,$broker=privsep-$tool-broker"
        children="$children,privsep-$tool//&privsep-$tool-broker"
        if printf '%s\n' "$line" | tr ' ' '\n' | grep -q '^APPARMOR_WORKER_SOCKETS='; then
            worker_sockets=$(value APPARMOR_WORKER_SOCKETS "$line")
            broker_sockets=$(value APPARMOR_BROKER_SOCKETS "$line")
        fi
    fi
    "$render" plain --tool "$tool" "$src/privsep-tool.in" "$work/part" ||
        die "rendering privsep-tool.in for $tool"
    "$render" plain --tool "$tool" "$src/worker-needs.in" "$work/needs" ||
        die "rendering worker-needs.in for $tool"
    # needs-<tool>.in, where there is one: what only that tool's worker
    # needs (fping's target file), in both profiles like worker-needs.in.
    if [ -f "$src/needs-$tool.in" ]; then
        "$render" plain --tool "$tool" "$src/needs-$tool.in" "$work/needs-tool" ||
            die "rendering needs-$tool.in for $tool"
        cat "$work/needs-tool" >> "$work/needs"
    fi
    # The launcher's block takes every kind; the worker's block (after the
    # line that opens it) only the worker's.
    awk -v w="profile privsep-$tool-worker " 'index($0, w) == 1 { part = 1 }
        { print > (part ? "'"$work"'/part.worker" : "'"$work"'/part.launcher") }' "$work/part"
    expand "$tool" "$(value APPARMOR_CAPS "$line")" "$sockets" "$resolves" \
        "$execs" "$children" "$work/needs" < "$work/part.launcher" > "$work/privsep-$tool" ||
        die "expanding privsep-tool.in for $tool"
    expand "$tool" "" "$worker_sockets" "$resolves" \
        "$execs" "$children" "$work/needs" < "$work/part.worker" >> "$work/privsep-$tool" ||
        die "expanding privsep-tool.in's worker profile for $tool"
    if [ -n "$broker" ]; then
        [ -f "$src/broker.in" ] || die "$tool has a broker but apparmor/broker.in is missing"
        "$render" plain --tool "$tool" "$src/broker.in" "$work/part" ||
            die "rendering broker.in for $tool"
        expand "$tool" "" "$broker_sockets" "$resolves" "" "$children" "$work/needs" < "$work/part" \
            >> "$work/privsep-$tool" || die "expanding broker.in for $tool"
    fi
    echo "$tool" >> "$work/rendered"
done < "$work/tools.txt"

for tool in $(cat "$work/rendered"); do
    cmp -s "$work/privsep-$tool" "$out/privsep-$tool" || mv "$work/privsep-$tool" "$out/privsep-$tool"
done
cmp -s "$work/tools.txt" "$out/tools.txt" || mv "$work/tools.txt" "$out/tools.txt"
