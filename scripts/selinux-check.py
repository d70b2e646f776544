#!/usr/bin/python3
"""Static checks of the privsep SELinux module on a compiled kernel policy.

    scripts/selinux-check.py POLICY FILE_CONTEXTS TOOLS

POLICY is the binary policy scripts/selinux-merge.sh produced (Debian's
selinux-policy-default + privsep). TOOLS is `privsep-render tools` output
(one line of KEY=value per tool descriptor, `make selinux` writes it next to
the module): every check runs once per tool, against what that tool's
descriptor says (capabilities, socket classes, priority, name resolution),
so a new descriptor is checked without editing this file. Every check prints
one PASS or FAIL line saying what it asserted and the sesearch command that
shows the same rules (FAIL is followed by the offending rules); INFO lines
are context, not checks. Exit: 0 all passed, 1 some check failed, 2 bad
usage.

It uses setools, the library behind sesearch/seinfo, in one process: the
policy is loaded once and a handful of wide queries are filtered here, which
takes seconds where hundreds of sesearch runs would take minutes. Rules are
matched through attributes, as sesearch does by default: a rule on `domain`
counts for the worker. So these are the permissions the kernel would grant,
not just the rules written in privsep.te.

    scripts/selinux-check.py --m4 FILE...

checks the m4 sources themselves (the .te, .if and .fc files and their
templates, which the refpolicy build runs through m4) for quoting traps:
see check_m4. Exit: 0 clean, 1 a trap found, 2 unreadable file.
"""

import subprocess
import sys

setools = None  # imported by main(): the m4 mode runs without it

LAUNCHER_ATTR, WORKER_ATTR = "privsep_launcher_domain", "privsep_worker_domain"
BROKER_ATTR = "privsep_broker_domain"
# What the setuid-root fallback needs besides the descriptor's capabilities.
SETUID_CAPS = {"setuid", "setgid", "setpcap"}
# What a domain must be able to `execute` (mmap PROT_EXEC) to load at all:
# Debian's base grants it to every domain.
LIBS = {"lib_t", "ld_so_t", "textrel_shlib_t"}
# Every domain in Debian's base may create these (mcstrans): see INFO lines.
BASE_SOCKETS = {"unix_stream_socket"}
# Classes name resolution creates (only behind privsep_<tool>_worker_resolve).
RESOLVER_SOCKETS = {"tcp_socket", "udp_socket", "netlink_route_socket"}
# The sockets a worker creates outside name resolution are its
# descriptor's OWN_SOCKET_CLASSES (policy/src/tools.rs, Facts, each with its
# reason there), which the hand-written tool-specific rules of privsep.te
# grant.
# Permissions of a raw/packet socket class whose target is a peer, node or
# port label rather than a socket.
PEER_PERMS = {"recvfrom", "sendto", "node_bind", "name_bind"}


def read_tools(path):
    """The descriptors from `privsep-render tools` output, as dicts; list
    values (',' separated there) become sets."""
    tools = []
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            d = dict(kv.split("=", 1) for kv in line.split())
            for key in ("SELINUX_CAPS", "SOCKET_CLASSES", "FILTER_CLASSES", "RAW_PROTOCOLS",
                        "BROKER_CLASSES", "BROKER_CREATES_CLASSES", "WORKER_CLASSES",
                        "OWN_SOCKET_CLASSES"):
                d[key] = {x for x in d.get(key, "").split(",") if x}
            tools.append(d)
    if not tools:
        raise ValueError(f"{path}: no tool")
    for t in tools:
        for key in ("TOOL", "SELINUX_PREFIX", "LAUNCHER_PATH", "WORKER_PATH", "RESOLVES"):
            if not t.get(key):
                raise ValueError(f"{path}: tool line without {key}: {t}")
    return tools


class Checker:
    def __init__(self, policy):
        self.p = policy
        self.passed = 0
        self.failed = 0
        self._cache = {}

    # --- results -------------------------------------------------------------
    def pass_(self, desc, how):
        print(f"PASS: {desc}\n      ({how})")
        self.passed += 1

    def fail(self, desc, how, details=()):
        print(f"FAIL: {desc}\n      ({how})")
        for d in details:
            print(f"      {d}")
        self.failed += 1

    def verdict(self, ok, desc, how, details=()):
        if ok:
            self.pass_(desc, how)
        else:
            self.fail(desc, how, details)

    # --- queries ---------------------------------------------------------------
    def _members(self, name):
        """The types a rule's source/target name stands for."""
        key = ("m", str(name))
        if key not in self._cache:
            try:
                obj = self.p.lookup_type_or_attr(str(name))
                self._cache[key] = {str(t) for t in obj.expand()}
            except Exception:
                self._cache[key] = {str(name)}
        return self._cache[key]

    def rules(self, source=None, target=None, ruletype="allow"):
        """All rules of `ruletype` whose source (or target) covers the type, cached."""
        key = (ruletype, source, target)
        if key not in self._cache:
            q = setools.TERuleQuery(self.p, ruletype=[ruletype], source=source, target=target)
            self._cache[key] = list(q.results())
        return self._cache[key]

    def select(self, source=None, target=None, classes=None, perms=None, ruletype="allow"):
        """Rules like `sesearch -A -s SOURCE -t TARGET -c CLASSES -p PERMS` (any of PERMS)."""
        base = self.rules(source=source, ruletype=ruletype) if source else self.rules(target=target, ruletype=ruletype)
        out = []
        for r in base:
            if source and source not in self._members(r.source):
                continue
            if target and target not in self._members(r.target):
                continue
            if classes and str(r.tclass) not in classes:
                continue
            if perms and ruletype == "allow" and not (set(perms) & {str(x) for x in r.perms}):
                continue
            out.append(r)
        return out

    @staticmethod
    def cond(rule):
        """(expression, branch) of a conditional rule, None for an unconditional one."""
        try:
            return str(rule.conditional), rule.conditional_block
        except Exception:
            return None

    # --- check shapes ------------------------------------------------------------
    @staticmethod
    def how(**q):
        args = ["sesearch", "-T" if q.get("ruletype") == "type_transition" else "-A"]
        for flag, key in (("-s", "source"), ("-t", "target")):
            if q.get(key):
                args += [flag, q[key]]
        if q.get("classes") and len(q["classes"]) > 8:
            args += ["-c", f"<the {len(q['classes'])} *socket classes>"]
        elif q.get("classes"):
            args += ["-c", ",".join(sorted(q["classes"]))]
        if q.get("perms"):
            args += ["-p", ",".join(sorted(q["perms"]))]
        return " ".join(args)

    def none(self, desc, **q):
        rs = self.select(**q)
        self.verdict(not rs, desc, self.how(**q), map(str, rs))

    def some(self, desc, **q):
        """At least one rule, and none of them conditional: core permissions
        must not hang on a boolean."""
        rs = self.select(**q)
        conditional = [r for r in rs if self.cond(r)]
        self.verdict(rs and not conditional, desc, self.how(**q), map(str, conditional or ["(no rule)"]))

    def only_if(self, boolean, desc, **q):
        """Every matching rule (there may be none) is conditional on BOOLEAN being true."""
        rs = self.select(**q)
        bad = [r for r in rs if self.cond(r) != (boolean, True)]
        self.verdict(not bad, desc, self.how(**q), map(str, bad))

    def subset(self, field, allowed, desc, require=False, **q):
        """The targets/sources/perms of the matching rules are all in ALLOWED."""
        rs = self.select(**q)
        got = set()
        for r in rs:
            if field == "perms":
                got |= {str(x) for x in r.perms}
            elif field == "tclass":
                got.add(str(r.tclass))
            else:
                got.add(str(getattr(r, field)))
        extra = got - set(allowed)
        ok = not extra and (rs or not require)
        details = [f"not allowed: {' '.join(sorted(extra))}"] + [str(r) for r in rs] if extra else ["(no rule)"]
        self.verdict(ok, f"{desc} [{' '.join(sorted(got))}]", self.how(**q), details)


def check_tool(c, policy, fc, tool, sockets):
    """Every check of one tool's four types against its descriptor."""
    name, prefix = tool["TOOL"], tool["SELINUX_PREFIX"]
    L, LX, W, WX = (f"{prefix}_t", f"{prefix}_exec_t", f"{prefix}_worker_t", f"{prefix}_worker_exec_t")
    caps, classes = tool["SELINUX_CAPS"], tool["SOCKET_CLASSES"]
    broker = bool(tool.get("BROKER_NAME"))
    B, BX = f"{prefix}_broker_t", f"{prefix}_broker_exec_t"
    held, own_classes = tool["BROKER_CLASSES"], tool["WORKER_CLASSES"]
    resolves = tool["RESOLVES"] == "yes"
    nice = tool.get("NICE", "")
    resolve_bool = f"{prefix}_worker_resolve"
    print(f"--- {name}: {L} {LX} {W} {WX} (caps {' '.join(sorted(caps))}; sockets {' '.join(sorted(classes))}"
          f"{'; nice ' + nice if nice else ''}; resolves {tool['RESOLVES']})")

    # --- the types exist, with the defaults users and the VM suite rely on --
    types = {str(t) for t in policy.types()}
    missing = [t for t in (L, LX, W, WX) if t not in types]
    c.verdict(not missing, f"[{name}] types {L} {LX} {W} {WX} exist", "seinfo -t", [f"missing: {' '.join(missing)}"])
    if missing:
        return
    for t, attr in ((L, LAUNCHER_ATTR), (W, WORKER_ATTR)):
        attrs = {str(a) for a in policy.lookup_type(t).attributes()}
        c.verdict(attr in attrs, f"[{name}] {t} has attribute {attr}", f"seinfo -t {t} -x", [f"attributes: {sorted(attrs)}"])
    # The user boolean is named by the tool as an identifier (mtr-packet:
    # privsep_user_mtr_packet), as its types are.
    booleans = {f"privsep_user_{prefix.removeprefix('privsep_')}": True}
    if resolves:
        booleans[resolve_bool] = True
    for b in booleans:
        try:
            state = policy.lookup_boolean(b).state
        except Exception:
            state = None
        c.verdict(state is True, f"[{name}] boolean {b} exists, default true", f"seinfo -b {b} -x", [f"state: {state}"])
    stale = sorted(str(b) for b in policy.bools() if str(b).startswith(prefix + "_")
                   and str(b) not in booleans)
    c.verdict(not stale, f"[{name}] no other {prefix}_* boolean (no namespace tunable: the worker creates none)",
              "seinfo -b", [f"unexpected: {' '.join(stale)}"])

    for path, want in ((tool["LAUNCHER_PATH"], LX), (tool["WORKER_PATH"], WX)):
        res = subprocess.run(["matchpathcon", "-f", fc, path], capture_output=True, text=True)
        got = (res.stdout.split() + ["", ""])[1]
        ok = res.returncode == 0 and got.split(":")[2:3] == [want]
        c.verdict(ok, f"[{name}] file_contexts labels {path} {want}", f"matchpathcon -f {fc} {path}",
                  [f"got: {got or res.stderr.strip()}"])

    # --- launcher ------------------------------------------------------------
    for cap in sorted(caps):
        c.some(f"[{name}] launcher has capability {cap} (descriptor)", source=L, target=L,
               classes={"capability"}, perms={cap})
    c.subset("perms", caps | SETUID_CAPS,
             f"[{name}] launcher capabilities are only the descriptor's + setuid setgid setpcap", require=True,
             source=L, classes={"capability"})
    c.none(f"[{name}] launcher has no capability2 / cap_userns / cap2_userns permission",
           source=L, classes={"capability2", "cap_userns", "cap2_userns"})
    for cls in sorted(classes):
        c.some(f"[{name}] launcher may create its {cls} (descriptor)", source=L, target=L,
               classes={cls}, perms={"create"})
    c.subset("tclass", classes | BASE_SOCKETS,
             f"[{name}] launcher creates only the socket classes of its descriptor (+ base's unix_stream_socket)",
             source=L, classes=sockets, perms={"create"})
    for cls in sorted(tool["FILTER_CLASSES"]):
        c.some(f"[{name}] launcher may set options on its {cls} (locks its filter)", source=L, target=L,
               classes={cls}, perms={"setopt"})
    if nice:
        c.some(f"[{name}] launcher may set its priority (descriptor: nice {nice})", source=L, target=L,
               classes={"process"}, perms={"setsched"})
    else:
        c.none(f"[{name}] launcher may not set a priority (descriptor sets none)", source=L,
               classes={"process"}, perms={"setsched"})
    c.subset("target", {W} | ({B} if broker else set()),
             f"[{name}] launcher may transition only to its worker domain"
             f"{' and its broker domain' if broker else ''}", require=True,
             source=L, classes={"process"}, perms={"transition"})
    c.none(f"[{name}] launcher cannot dyntransition or setcurrent", source=L, classes={"process"},
           perms={"dyntransition", "setcurrent"})
    c.some(f"[{name}] launcher has process2 nnp_transition to its worker (it sets no_new_privs first)",
           source=L, target=W, classes={"process2"}, perms={"nnp_transition"})
    tt = [r for r in c.select(source=L, target=WX, classes={"process"}, ruletype="type_transition")
          if str(r.default) == W and str(r.source) == L and str(r.target) == WX and not c.cond(r)]
    c.verdict(bool(tt), f"[{name}] type_transition {L} {WX}:process {W} exists",
              c.how(ruletype="type_transition", source=L, target=WX, classes={"process"}))
    others = sorted(str(r.target) for r in c.select(source=L, classes={"process"}, ruletype="type_transition")
                    if str(r.default) != W and not (broker and str(r.default) == B and str(r.target) == BX))
    c.verdict(not others, f"[{name}] launcher has no automatic transition to anything but {W}"
              f"{' (and ' + B + ' on ' + BX + ')' if broker else ''}",
              c.how(ruletype="type_transition", source=L, classes={"process"}), others)
    c.none(f"[{name}] launcher has no execute_no_trans on anything (a failed transition fails the exec)",
           source=L, classes={"file"}, perms={"execute_no_trans"})
    c.subset("target", LIBS | {LX, WX} | ({BX} if broker else set()),
             f"[{name}] launcher may execute (map) only shared libraries, itself and its worker"
             f"{' and broker' if broker else ''}",
             source=L, classes={"file"}, perms={"execute"})
    c.subset("target", {LX}, f"[{name}] launcher domain is entered only through {LX}", require=True,
             source=L, classes={"file"}, perms={"entrypoint"})

    # --- worker --------------------------------------------------------------
    c.none(f"[{name}] worker has no capability in any class or namespace "
           "(capability, capability2, cap_userns, cap2_userns)",
           source=W, classes={"capability", "capability2", "cap_userns", "cap2_userns"})
    c.none(f"[{name}] worker cannot create rawip/icmp/packet sockets", source=W,
           classes={"rawip_socket", "icmp_socket", "packet_socket"}, perms={"create"})
    c.none(f"[{name}] worker cannot set scheduling or priority (setsched), nor capabilities (setcap)",
           source=W, classes={"process"}, perms={"setsched", "setcap"})
    own = tool["OWN_SOCKET_CLASSES"]
    c.subset("tclass", own | BASE_SOCKETS | (RESOLVER_SOCKETS if resolves else set()),
             f"[{name}] worker creates only resolver sockets"
             f"{' and its own ' + ' '.join(sorted(own)) if own else ''} (+ base's unix_stream_socket)",
             source=W, classes=sockets, perms={"create"})
    conditional = sockets - own - BASE_SOCKETS
    if resolves:
        c.only_if(resolve_bool, f"[{name}] worker creates no other socket unless {resolve_bool} is on",
                  source=W, classes=conditional, perms={"create"})
        for t in ("etc_t", "net_conf_t"):
            c.only_if(resolve_bool,
                      f"[{name}] worker reads {t} files (resolver configuration) only while {resolve_bool} is on",
                      source=W, target=t, classes={"file"}, perms={"read"})
    else:
        c.none(f"[{name}] worker resolves no names: creates no other socket", source=W,
               classes=conditional, perms={"create"})
    c.none(f"[{name}] worker has no execute_no_trans on anything (it execs nothing)",
           source=W, classes={"file"}, perms={"execute_no_trans"})
    c.none(f"[{name}] worker cannot transition, dyntransition, setcurrent, setexec", source=W, classes={"process"},
           perms={"transition", "dyntransition", "setcurrent", "setexec"})
    c.subset("target", LIBS | {WX}, f"[{name}] worker may execute (map) only shared libraries and itself",
             source=W, classes={"file"}, perms={"execute"})
    c.subset("target", {WX}, f"[{name}] worker domain is entered only through {WX}", require=True,
             source=W, classes={"file"}, perms={"entrypoint"})
    c.subset("source", {L}, f"[{name}] only its launcher may transition into the worker domain", require=True,
             target=W, classes={"process"}, perms={"transition", "dyntransition"})
    for cls in sorted(own_classes):
        got = set()
        for r in c.select(source=W, target=L, classes={cls}):
            got |= {str(x) for x in r.perms}
        need = {"read", "write", "getopt", "getattr"}
        c.verdict(need <= got, f"[{name}] worker may read/write/getopt/getattr its launcher's {cls}",
                  c.how(source=W, target=L, classes={cls}), [f"missing: {' '.join(sorted(need - got))}"])
    use = [r for r in c.select(source=W, classes={"rawip_socket", "packet_socket"})
           if str(r.target) != L and L not in c._members(r.target) and {str(x) for x in r.perms} - PEER_PERMS]
    c.verdict(not use, f"[{name}] worker uses raw/packet sockets of its own launcher only",
              c.how(source=W, classes={"rawip_socket", "packet_socket"}), map(str, use))
    c.some(f"[{name}] worker may use the fds its launcher hands over", source=W, target=L, classes={"fd"},
           perms={"use"})
    c.none(f"[{name}] worker cannot ptrace", source=W, classes={"process"}, perms={"ptrace"})
    if broker:
        check_broker(c, policy, fc, tool, sockets)
    c.none(f"[{name}] worker has no access to shadow_t (/etc/shadow)", source=W, target="shadow_t")

    # --- callers ---------------------------------------------------------------
    user_bool = f"privsep_user_{prefix.removeprefix('privsep_')}"
    role_types = {str(t) for t in policy.lookup_role("user_r").types()}
    c.verdict({L, W} <= role_types, f"[{name}] role user_r may hold {L} and {W}", "seinfo -r user_r -x")
    c.only_if(user_bool, f"[{name}] user_t may transition to the launcher domain, while {user_bool} is on",
              source="user_t", target=L, classes={"process"}, perms={"transition"})
    c.verdict(bool(c.select(source="user_t", target=L, classes={"process"}, perms={"transition"})),
              f"[{name}] user_t may transition to the launcher domain with the default booleans",
              c.how(source="user_t", target=L, classes={"process"}, perms={"transition"}), ["(no rule)"])
    tt = [r for r in c.select(source="user_t", target=LX, classes={"process"}, ruletype="type_transition")
          if str(r.default) == L]
    c.verdict(bool(tt), f"[{name}] type_transition user_t {LX}:process {L} exists",
              c.how(ruletype="type_transition", source="user_t", target=LX, classes={"process"}))
    c.none(f"[{name}] user_t cannot ptrace the worker or read its /proc entries", source="user_t", target=W,
           classes={"process", "dir", "file", "lnk_file"}, perms={"ptrace", "read", "search"})
    for d in (L, W, "user_t", "staff_t"):
        c.none(f"[{name}] {d} has no execute_no_trans on {WX}", source=d, target=WX, classes={"file"},
               perms={"execute_no_trans"})

    entering = sorted({str(r.source) + (f"({c.cond(r)[0]})" if c.cond(r) else "")
                       for r in c.select(target=L, classes={"process"}, perms={"transition"})})
    print(f"INFO: [{name}] domains that may enter the launcher domain: {' '.join(entering)}")
    runners = sorted({str(r.source) for r in c.select(target=WX, classes={"file"}, perms={"execute_no_trans"})})
    print(f"INFO: [{name}] domains that may run the worker file without a transition "
          f"(base policy's exec_type rules for admin domains): {' '.join(runners)}")


def check_broker(c, policy, fc, tool, sockets):
    """A tool whose descriptor brokers a resource: its broker domain holds
    the held sockets, the worker none of them."""
    name, prefix = tool["TOOL"], tool["SELINUX_PREFIX"]
    L, W = f"{prefix}_t", f"{prefix}_worker_t"
    B, BX = f"{prefix}_broker_t", f"{prefix}_broker_exec_t"
    held = tool["BROKER_CLASSES"]
    types = {str(t) for t in policy.types()}
    missing = [t for t in (B, BX) if t not in types]
    c.verdict(not missing, f"[{name}] broker types {B} {BX} exist", "seinfo -t", [f"missing: {' '.join(missing)}"])
    if missing:
        return
    attrs = {str(a) for a in policy.lookup_type(B).attributes()}
    c.verdict(BROKER_ATTR in attrs, f"[{name}] {B} has attribute {BROKER_ATTR}", f"seinfo -t {B} -x",
              [f"attributes: {sorted(attrs)}"])
    path = tool["BROKER_PATH"]
    res = subprocess.run(["matchpathcon", "-f", fc, path], capture_output=True, text=True)
    got = (res.stdout.split() + ["", ""])[1]
    c.verdict(res.returncode == 0 and got.split(":")[2:3] == [BX], f"[{name}] file_contexts labels {path} {BX}",
              f"matchpathcon -f {fc} {path}", [f"got: {got or res.stderr.strip()}"])
    c.none(f"[{name}] broker has no capability in any class or namespace", source=B,
           classes={"capability", "capability2", "cap_userns", "cap2_userns"})
    created = tool["BROKER_CREATES_CLASSES"]
    c.subset("tclass", BASE_SOCKETS | created,
             f"[{name}] broker creates no socket but its descriptor's ({' '.join(sorted(created)) or 'none'}; + base's unix_stream_socket)",
             source=B, classes=sockets, perms={"create"})
    for cls in sorted(created):
        c.some(f"[{name}] broker may create, bind and connect its own {cls} (one per probe)", source=B, target=B,
               classes={cls}, perms={"create", "bind", "connect"})
        c.none(f"[{name}] broker never reads or writes its {cls} (it only starts connection attempts)",
               source=B, classes={cls}, perms={"read", "write", "send_msg", "recv_msg"})
        c.none(f"[{name}] worker creates no {cls} (the broker opens them)", source=W,
               classes={cls}, perms={"create"})
    c.none(f"[{name}] broker has no execute_no_trans on anything (it execs nothing)",
           source=B, classes={"file"}, perms={"execute_no_trans"})
    c.none(f"[{name}] broker cannot transition, dyntransition, setcurrent, setexec, setsched, setcap, ptrace",
           source=B, classes={"process"},
           perms={"transition", "dyntransition", "setcurrent", "setexec", "setsched", "setcap", "ptrace"})
    c.subset("target", LIBS | {BX}, f"[{name}] broker may execute (map) only shared libraries and itself",
             source=B, classes={"file"}, perms={"execute"})
    c.subset("target", {BX}, f"[{name}] broker domain is entered only through {BX}", require=True,
             source=B, classes={"file"}, perms={"entrypoint"})
    c.subset("source", {L}, f"[{name}] only its launcher may transition into the broker domain", require=True,
             target=B, classes={"process"}, perms={"transition", "dyntransition"})
    c.some(f"[{name}] launcher has process2 nnp_transition to its broker", source=L, target=B,
           classes={"process2"}, perms={"nnp_transition"})
    for cls in sorted(held):
        got = set()
        for r in c.select(source=B, target=L, classes={cls}):
            got |= {str(x) for x in r.perms}
        need = {"read", "write", "getopt", "getattr", "bind", "ioctl"}
        c.verdict(need <= got, f"[{name}] broker may read/write/getopt/getattr/bind/ioctl its launcher's {cls}",
                  c.how(source=B, target=L, classes={cls}), [f"missing: {' '.join(sorted(need - got))}"])
        c.none(f"[{name}] worker has no permission on its launcher's {cls} (the broker holds it)",
               source=W, target=L, classes={cls})
    c.some(f"[{name}] broker may use the fds its launcher hands over", source=B, target=L, classes={"fd"},
           perms={"use"})
    role_types = {str(t) for t in policy.lookup_role("user_r").types()}
    c.verdict(B in role_types, f"[{name}] role user_r may hold {B}", "seinfo -r user_r -x")
    c.none(f"[{name}] user_t cannot ptrace the broker or read its /proc entries", source="user_t", target=B,
           classes={"process", "dir", "file", "lnk_file"}, perms={"ptrace", "read", "search"})



# --- m4 quoting ------------------------------------------------------------------
# The refpolicy build runs every .te, .if and .fc file through m4, whose
# quotes are ` and '. Inside a quoted macro body (a template, an ifelse
# branch, a tunable_policy block) m4 counts every ` and ' it meets, even in
# a `#` comment: comments are only recognised outside quotes. So an
# apostrophe in a comment there ("the socket's port") closes the body early;
# what follows is expanded in the wrong place or dropped, and the module
# usually still compiles, quietly missing rules. Outside quotes a `#`
# comment is copied as it is, quote characters included (privsep.te's
# comments name `make selinux` safely).
#
# The check follows m4's own scan: outside quotes `#` starts a comment to the
# end of the line, ` opens a quote; inside, ` and ' nest and `#` is text. It
# reports
#   - a quote character in a comment inside a quoted body (the trap itself,
#     even where the quotes happen to balance),
#   - an apostrophe outside every quote (it closes nothing: a body already
#     ended before it),
#   - a quote still open at the end of the file.

def m4_traps(text):
    """(line, message) for every quoting trap in one m4 source (see above)."""
    traps = []
    depth, line, opened, reported = 0, 1, [], 0
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\n":
            line += 1
        elif depth == 0 and ch == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif ch == "`":
            depth += 1
            opened.append(line)
        elif ch == "'":
            if depth == 0:
                traps.append((line, "apostrophe outside any m4 quote: it closes nothing, so a quoted "
                                    "body ended before it (an apostrophe or backquote earlier?)"))
            else:
                depth -= 1
                opened.pop()
        elif ch == "#":
            end = text.find("\n", i)
            comment = text[i:n if end < 0 else end]
            if ("`" in comment or "'" in comment) and reported != line:
                reported = line
                traps.append((line, f"quote character in a comment inside an m4 quoted body "
                                    f"(m4 counts it there): {comment.strip()}"))
            # Scanned on as m4 does (the quote characters count).
        i += 1
    if depth:
        traps.append((opened[0], f"m4 quote opened here is never closed ({depth} open at the end of the file)"))
    return traps


def check_m4(paths):
    """--m4 mode: PASS/FAIL per file; exit status as main()'s."""
    failed = 0
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            print(f"selinux-check: {e}", file=sys.stderr)
            return 2
        traps = m4_traps(text)
        if traps:
            failed += 1
            print(f"FAIL: {path}: m4 quotes balanced, no quote character in a comment inside a macro body")
            for line, msg in traps:
                print(f"      {path}:{line}: {msg}")
        else:
            print(f"PASS: {path}: m4 quotes balanced, no quote character in a comment inside a macro body")
    if failed:
        print(f"selinux-check: {failed} of {len(paths)} m4 files FAILED")
        return 1
    print(f"selinux-check: all {len(paths)} m4 files passed")
    return 0


def main():
    global setools
    if len(sys.argv) >= 3 and sys.argv[1] == "--m4":
        return check_m4(sys.argv[2:])
    try:
        import setools
    except ImportError:
        print("selinux-check: python3-setools is missing (apt-get install setools; make deps-test)", file=sys.stderr)
        return 2
    if len(sys.argv) != 4:
        print(f"usage: {sys.argv[0]} POLICY FILE_CONTEXTS TOOLS | --m4 FILE...", file=sys.stderr)
        return 2
    policy_path, fc, tools_path = sys.argv[1:]
    try:
        tools = read_tools(tools_path)
    except (OSError, ValueError) as e:
        print(f"selinux-check: {e} (run make selinux)", file=sys.stderr)
        return 2
    try:
        policy = setools.SELinuxPolicy(policy_path)
    except Exception as e:
        print(f"selinux-check: cannot load {policy_path}: {e} (run make selinux-merged)", file=sys.stderr)
        return 2
    print(f"selinux-check: {policy_path}, tools {' '.join(t['TOOL'] for t in tools)}")
    c = Checker(policy)
    sockets = {str(x) for x in policy.classes() if str(x).endswith("socket")}

    # --- the attributes hold exactly the tools' domains ----------------------
    attrs = {str(a) for a in policy.typeattributes()}
    if not {LAUNCHER_ATTR, WORKER_ATTR} <= attrs:
        c.fail(f"attributes {LAUNCHER_ATTR} and {WORKER_ATTR} exist", "seinfo -a")
        print("selinux-check: the privsep module is not in this policy; nothing else to check")
        return 1
    for attr, suffix, of in ((LAUNCHER_ATTR, "_t", tools), (WORKER_ATTR, "_worker_t", tools),
                             (BROKER_ATTR, "_broker_t", [t for t in tools if t.get("BROKER_NAME")])):
        want = {t["SELINUX_PREFIX"] + suffix for t in of}
        got = {str(t) for t in policy.lookup_typeattr(attr).expand()}
        c.verdict(got == want, f"{attr} is exactly {' '.join(sorted(want))}", f"seinfo -a {attr} -x",
                  [f"extra: {' '.join(sorted(got - want))}", f"missing: {' '.join(sorted(want - got))}"])

    for tool in tools:
        check_tool(c, policy, fc, tool, sockets)

    # --- no other privsep domain holds a capability ----------------------------
    launchers = {t["SELINUX_PREFIX"] + "_t" for t in tools}
    domains = {str(t) for t in policy.lookup_typeattr("domain").expand()}
    print("--- every privsep domain")
    for t in sorted(d for d in domains if d.startswith("privsep_") and d not in launchers):
        c.none(f"privsep domain {t} (not a launcher) has no capability in any class or namespace", source=t,
               classes={"capability", "capability2", "cap_userns", "cap2_userns"})

    print()
    if c.failed == 0:
        print(f"selinux-check: all {c.passed} checks passed")
        return 0
    print(f"selinux-check: {c.failed} of {c.passed + c.failed} checks FAILED")
    return 1


if __name__ == "__main__":
    sys.exit(main())
