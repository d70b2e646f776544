#!/usr/bin/python3
"""Static checks of the privsep SELinux module on a compiled kernel policy.

    scripts/selinux-check.py POLICY FILE_CONTEXTS LAUNCHER_PATH WORKER_PATH

POLICY is the binary policy scripts/selinux-merge.sh produced (Debian's
selinux-policy-default + privsep). Every check prints one PASS or FAIL line
saying what it asserted and the sesearch command that shows the same rules
(FAIL is followed by the offending rules); INFO lines are context, not checks.
Exit: 0 all passed, 1 some check failed, 2 bad usage.

It uses setools, the library behind sesearch/seinfo, in one process: the
policy is loaded once and a handful of wide queries are filtered here, which
takes seconds where ~45 sesearch runs took most of a minute. Rules are
matched through attributes, as sesearch does by default: a rule on `domain`
counts for the worker. So these are the permissions the kernel would grant,
not just the rules written in privsep.te.
"""

import subprocess
import sys

try:
    import setools
except ImportError:
    print("selinux-check: python3-setools is missing (apt-get install setools; make deps-test)", file=sys.stderr)
    sys.exit(2)

L, LX = "privsep_ping_t", "privsep_ping_exec_t"
W, WX = "privsep_ping_worker_t", "privsep_ping_worker_exec_t"
BOOLEANS = ("privsep_user_ping", "privsep_ping_worker_resolve", "privsep_ping_worker_namespaces")
# What a domain must be able to `execute` (mmap PROT_EXEC) to load at all:
# Debian's base grants it to every domain.
LIBS = {"lib_t", "ld_so_t", "textrel_shlib_t"}


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
            args += ["-c", f"<the {len(q['classes'])} *socket classes but unix_stream_socket>"]
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
            else:
                got.add(str(getattr(r, field)))
        extra = got - set(allowed)
        ok = not extra and (rs or not require)
        details = [f"not allowed: {' '.join(sorted(extra))}"] + [str(r) for r in rs] if extra else ["(no rule)"]
        self.verdict(ok, f"{desc} [{' '.join(sorted(got))}]", self.how(**q), details)


def main():
    if len(sys.argv) != 5:
        print(f"usage: {sys.argv[0]} POLICY FILE_CONTEXTS LAUNCHER_PATH WORKER_PATH", file=sys.stderr)
        return 2
    policy_path, fc, launcher_path, worker_path = sys.argv[1:]
    try:
        policy = setools.SELinuxPolicy(policy_path)
    except Exception as e:
        print(f"selinux-check: cannot load {policy_path}: {e} (run make selinux-merged)", file=sys.stderr)
        return 2
    print(f"selinux-check: {policy_path}")
    c = Checker(policy)

    # --- the module is in, with the defaults users and the VM suite rely on --
    types = {str(t) for t in policy.types()}
    missing = [t for t in (L, LX, W, WX) if t not in types]
    c.verdict(not missing, f"types {L} {LX} {W} {WX} exist", f"seinfo -t", [f"missing: {' '.join(missing)}"])
    if missing:
        print("selinux-check: the privsep module is not in this policy; nothing else to check")
        return 1
    for b in BOOLEANS:
        try:
            state = policy.lookup_boolean(b).state
        except Exception:
            state = None
        c.verdict(state is True, f"boolean {b} exists, default true", f"seinfo -b {b} -x", [f"state: {state}"])

    for path, want in ((launcher_path, LX), (worker_path, WX)):
        res = subprocess.run(["matchpathcon", "-f", fc, path], capture_output=True, text=True)
        got = (res.stdout.split() + ["", ""])[1]
        ok = res.returncode == 0 and got.split(":")[2:3] == [want]
        c.verdict(ok, f"file_contexts labels {path} {want}", f"matchpathcon -f {fc} {path}",
                  [f"got: {got or res.stderr.strip()}"])

    # --- launcher ------------------------------------------------------------
    c.some("launcher has capability net_raw", source=L, target=L, classes={"capability"}, perms={"net_raw"})
    c.subset("perms", {"net_raw", "setuid", "setgid", "setpcap"},
             "launcher capabilities are only net_raw setuid setgid setpcap", require=True,
             source=L, classes={"capability"})
    c.none("launcher has no capability2 / cap_userns / cap2_userns permission",
           source=L, classes={"capability2", "cap_userns", "cap2_userns"})
    c.some("launcher may create its raw sockets", source=L, target=L, classes={"rawip_socket"}, perms={"create"})
    c.subset("target", {W}, "launcher may transition only to the worker domain", require=True,
             source=L, classes={"process"}, perms={"transition"})
    c.none("launcher cannot dyntransition or setcurrent", source=L, classes={"process"},
           perms={"dyntransition", "setcurrent"})
    c.some("launcher has process2 nnp_transition to the worker (it sets no_new_privs first)",
           source=L, target=W, classes={"process2"}, perms={"nnp_transition"})
    tt = [r for r in c.select(source=L, target=WX, classes={"process"}, ruletype="type_transition")
          if str(r.default) == W and str(r.source) == L and str(r.target) == WX and not c.cond(r)]
    c.verdict(bool(tt), f"type_transition {L} {WX}:process {W} exists",
              c.how(ruletype="type_transition", source=L, target=WX, classes={"process"}))
    c.none("launcher has no execute_no_trans on anything (a failed transition fails the exec)",
           source=L, classes={"file"}, perms={"execute_no_trans"})
    c.subset("target", LIBS | {LX, WX}, "launcher may execute (map) only shared libraries, itself and the worker",
             source=L, classes={"file"}, perms={"execute"})
    c.subset("target", {LX}, f"launcher domain is entered only through {LX}", require=True,
             source=L, classes={"file"}, perms={"entrypoint"})

    # --- worker --------------------------------------------------------------
    c.none("worker has no capability / capability2 / cap2_userns permission",
           source=W, classes={"capability", "capability2", "cap2_userns"})
    c.subset("perms", {"sys_admin"}, "worker cap_userns is at most sys_admin (unshare in its own user namespace)",
             source=W, classes={"cap_userns"})
    c.only_if("privsep_ping_worker_namespaces", "worker cap_userns only while privsep_ping_worker_namespaces is on",
              source=W, classes={"cap_userns"})
    c.none("worker cannot create rawip/icmp/packet sockets", source=W,
           classes={"rawip_socket", "icmp_socket", "packet_socket"}, perms={"create"})
    sockets = {str(x) for x in policy.classes() if str(x).endswith("socket")} - {"unix_stream_socket"}
    c.only_if("privsep_ping_worker_resolve",
              "worker creates no socket of any class unless privsep_ping_worker_resolve is on "
              "(unix_stream_socket: see INFO)", source=W, classes=sockets, perms={"create"})
    print("INFO: unix_stream_socket create comes from Debian's base module, for every domain (mcstrans):")
    for r in c.select(source=W, classes={"unix_stream_socket"}, perms={"create"}):
        print(f"      {r}")
    for t in ("etc_t", "net_conf_t"):
        c.only_if("privsep_ping_worker_resolve",
                  f"worker reads {t} files (resolver configuration) only while privsep_ping_worker_resolve is on",
                  source=W, target=t, classes={"file"}, perms={"read"})
    c.none("worker has no execute_no_trans on anything (it execs nothing)",
           source=W, classes={"file"}, perms={"execute_no_trans"})
    c.none("worker cannot transition, dyntransition, setcurrent, setexec", source=W, classes={"process"},
           perms={"transition", "dyntransition", "setcurrent", "setexec"})
    c.subset("target", LIBS | {WX}, "worker may execute (map) only shared libraries and itself",
             source=W, classes={"file"}, perms={"execute"})
    c.subset("target", {WX}, f"worker domain is entered only through {WX}", require=True,
             source=W, classes={"file"}, perms={"entrypoint"})
    c.subset("source", {L}, "only the launcher may transition into the worker domain", require=True,
             target=W, classes={"process"}, perms={"transition", "dyntransition"})
    got = set()
    for r in c.select(source=W, target=L, classes={"rawip_socket"}):
        got |= {str(x) for x in r.perms}
    need = {"read", "write", "getopt", "setopt"}
    c.verdict(need <= got, "worker may read/write/getopt/setopt the launcher's raw sockets",
              c.how(source=W, target=L, classes={"rawip_socket"}), [f"missing: {' '.join(sorted(need - got))}"])
    c.some("worker may use the fds the launcher hands over", source=W, target=L, classes={"fd"}, perms={"use"})
    c.none("worker cannot ptrace", source=W, classes={"process"}, perms={"ptrace"})
    c.none("worker has no access to shadow_t (/etc/shadow)", source=W, target="shadow_t")

    # --- no other privsep domain holds net_raw ----------------------------------
    domains = {str(t) for t in policy.lookup_typeattr("domain").expand()}
    for t in sorted(d for d in domains if d.startswith("privsep_") and d != L):
        c.none(f"privsep domain {t} has no net_raw (capability or cap_userns)", source=t,
               classes={"capability", "cap_userns"}, perms={"net_raw"})

    # --- callers ---------------------------------------------------------------
    role_types = {str(t) for t in policy.lookup_role("user_r").types()}
    c.verdict({L, W} <= role_types, f"role user_r may hold {L} and {W}", "seinfo -r user_r -x")
    c.only_if("privsep_user_ping", "user_t may transition to the launcher domain, while privsep_user_ping is on",
              source="user_t", target=L, classes={"process"}, perms={"transition"})
    c.verdict(bool(c.select(source="user_t", target=L, classes={"process"}, perms={"transition"})),
              "user_t may transition to the launcher domain with the default booleans",
              c.how(source="user_t", target=L, classes={"process"}, perms={"transition"}), ["(no rule)"])
    tt = [r for r in c.select(source="user_t", target=LX, classes={"process"}, ruletype="type_transition")
          if str(r.default) == L]
    c.verdict(bool(tt), f"type_transition user_t {LX}:process {L} exists",
              c.how(ruletype="type_transition", source="user_t", target=LX, classes={"process"}))
    c.none("user_t cannot ptrace the worker or read its /proc entries", source="user_t", target=W,
           classes={"process", "dir", "file", "lnk_file"}, perms={"ptrace", "read", "search"})
    for d in (L, W, "user_t", "staff_t"):
        c.none(f"{d} has no execute_no_trans on {WX}", source=d, target=WX, classes={"file"},
               perms={"execute_no_trans"})

    entering = sorted({str(r.source) + (f"({c.cond(r)[0]})" if c.cond(r) else "")
                       for r in c.select(target=L, classes={"process"}, perms={"transition"})})
    print(f"INFO: domains that may enter the launcher domain: {' '.join(entering)}")
    runners = sorted({str(r.source) for r in c.select(target=WX, classes={"file"}, perms={"execute_no_trans"})})
    print(f"INFO: domains that may run the worker file without a transition "
          f"(base policy's exec_type rules for admin domains): {' '.join(runners)}")

    print()
    if c.failed == 0:
        print(f"selinux-check: all {c.passed} checks passed")
        return 0
    print(f"selinux-check: {c.failed} of {c.passed + c.failed} checks FAILED")
    return 1


if __name__ == "__main__":
    sys.exit(main())
