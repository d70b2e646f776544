#!/usr/bin/env python3
"""Static checks of privsep's rendered AppArmor profiles (make apparmor-check).

    scripts/apparmor-check.py check    DIR   # the rendered profiles pass
    scripts/apparmor-check.py selftest DIR   # every break-it variant is caught

DIR is what apparmor/render.sh wrote: privsep-<tool> per tool and tools.txt
(`privsep-render tools`, the descriptors). Each profile file must compile
with Debian's apparmor_parser (-Q: no kernel load; against the running
kernel's features, or the feature file Debian's apparmor package ships where
the kernel has no AppArmor), and the guarantees are asserted on what the
parser reads: `apparmor_parser -p` with every include expanded (Debian's
abstractions included), so a rule an abstraction adds counts.

Per tool, from its descriptor:
  launcher privsep-T (attached to its launcher path): capabilities exactly
    the file capability's; raw and packet sockets exactly the descriptor's
    kinds, other socket kinds only name resolution's; exactly one exec rule
    per program it starts (worker, broker), Pix and stacked (-> &profile: a
    plain transition fails under no_new_privs, and the stack is based on
    the current profile only where the path attaches to none); no ptrace,
    mount, change_profile, unconfined or complain mode.
  worker privsep-T-worker (and broker privsep-T-broker), attached to no
    path: no capability, no
    exec permission, no change_profile, no ptrace; raw and packet sockets
    only the kinds handed to it, other kinds only name resolution's.
The selftest breaks each guarantee in a copy of the rendered profiles (a
worker given a capability or an exec, a launcher allowed to exec a shell, a
worker allowed to create a packet socket, ...), checks that the copy still
compiles (so the parser is not what catches it) and that the check rejects
it for the stated reason. Exit 0 all good, 1 a check failed, 2 usage or
environment.
"""

import os
import re
import subprocess
import sys
import tempfile

FEATURES = "/usr/share/apparmor-features/features"
# What name resolution (abstractions/nameservice, the resolver co-process,
# the resolvers' unix sockets) creates: the only socket kinds beyond the
# descriptor's that a profile may name.
RESOLUTION_KINDS = {
    ("inet", "dgram"), ("inet6", "dgram"), ("inet", "stream"), ("inet6", "stream"),
    ("netlink", "raw"), ("unix", "seqpacket"), ("unix", "stream"),
}


def fail(msg):
    print(f"apparmor-check: {msg}", file=sys.stderr)
    sys.exit(2)


def parser_cmd(*args):
    cmd = ["apparmor_parser", "-Q", "-K"]
    if not os.path.isdir("/sys/kernel/security/apparmor") and os.path.exists(FEATURES):
        cmd += ["--features-file", FEATURES]
    return cmd + list(args)


def compile_profile(path):
    """None if `path` compiles, else the parser's complaint."""
    r = subprocess.run(parser_cmd(path), capture_output=True, text=True)
    if r.returncode != 0:
        return r.stderr.strip() or f"apparmor_parser exit {r.returncode}"
    return None


def preprocess(path):
    r = subprocess.run(parser_cmd("-p", path), capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"apparmor_parser -p {path}: {r.stderr.strip()}")
    return r.stdout


def tools(directory):
    out = []
    with open(os.path.join(directory, "tools.txt")) as f:
        for line in f:
            kv = dict(w.split("=", 1) for w in line.split() if "=" in w)
            if "TOOL" in kv:
                out.append(kv)
    if not out:
        fail(f"no tool in {directory}/tools.txt")
    return out


def strip_comment(line):
    # `#include` is a directive, everything else after # a comment; the
    # preprocessed text has no includes left.
    return re.sub(r"(^|\s)#.*$", "", line)


def profiles(text):
    """{name: (attachment, flags, [rule, ...])} of the top-level profiles."""
    found, stack, rule = {}, [], ""
    for raw in text.splitlines():
        line = strip_comment(raw).strip()
        if not line:
            continue
        m = re.match(r"^profile\s+(\S+)(?:\s+(/\S+))?(?:\s+flags=\(([^)]*)\))?\s*\{$", line)
        if m:
            stack.append(m.group(1))
            found[m.group(1)] = (m.group(2), m.group(3) or "", [])
            continue
        if line == "}":
            if stack:
                stack.pop()
            continue
        if not stack:
            continue
        rule = f"{rule} {line}".strip()
        if rule.endswith(","):
            found[stack[-1]][2].append(rule[:-1].strip())
            rule = ""
    return found


def classify(rule):
    """(kind, detail) of one rule, its audit/deny/owner qualifiers removed."""
    words = rule.split()
    deny = False
    while words and words[0] in ("audit", "deny", "allow", "owner", "other"):
        deny = deny or words[0] == "deny"
        words = words[1:]
    if not words:
        return ("other", rule, deny)
    head = words[0]
    if head in ("capability", "network", "signal", "ptrace", "change_profile", "mount",
                "umount", "remount", "pivot_root", "unix", "dbus", "file", "set", "link",
                "rlimit", "userns", "io_uring", "mqueue"):
        return (head, words[1:], deny)
    # A file rule: PATH PERMS [-> target] or PERMS PATH.
    if head.startswith("/") or head.startswith("@{") or head.startswith('"'):
        return ("path", (head, words[1] if len(words) > 1 else "", " ".join(words[2:])), deny)
    if len(words) > 1 and (words[1].startswith("/") or words[1].startswith("@{")):
        return ("path", (words[1], head, " ".join(words[2:])), deny)
    return ("other", rule, deny)


def exec_perm(perms):
    """Whether file permissions grant an exec of any kind (m, mmap, is not one)."""
    return bool(re.search(r"[iupcIUPC]?x", perms))


def network_kinds(words):
    """{(family, type)} a network rule grants; ('*', '*') for the unrestricted ones."""
    if not words:
        return {("*", "*")}
    if len(words) == 1:
        return {(words[0], "*")}
    return {(words[0], words[1])}


def check_tool(tool, profs, errors):
    t = tool["TOOL"]
    caps = {c for c in tool.get("APPARMOR_CAPS", "").split(",") if c}
    def kinds(key, default=None):
        if key not in tool and default is not None:
            return default
        return {tuple(k.split("/", 1)) for k in tool.get(key, "").split(",") if k}
    handed = kinds("APPARMOR_SOCKETS")
    # With a broker the kinds may be split between worker and broker.
    to_worker = kinds("APPARMOR_WORKER_SOCKETS", handed)
    to_broker = kinds("APPARMOR_BROKER_SOCKETS", handed)
    resolves = tool.get("RESOLVES") == "yes"
    starts = {tool["WORKER_PATH"]: f"privsep-{t}-worker"}
    if tool.get("BROKER_PATH"):
        starts[tool["BROKER_PATH"]] = f"privsep-{t}-broker"
    allowed_other = RESOLUTION_KINDS if resolves else set()

    def err(profile, msg):
        errors.append(f"{t}: {profile}: {msg}")

    def common(name, attach, flags, rules):
        if name not in profs:
            err(name, "profile missing")
            return None
        a, f, r = profs[name]
        if a != attach:
            err(name, f"attached to {a!r}, not {attach!r}")
        if re.search(r"complain|unconfined|kill|prompt", f):
            err(name, f"not enforcing: flags=({f})")
        return r

    def sockets(name, rules, privileged_ok):
        for kind, words, deny in (classify(r) for r in rules):
            if kind != "network" or deny:
                continue
            for fam, ty in network_kinds(words):
                if fam == "*" or ty == "*":
                    err(name, f"network rule without family and type grants every kind: network {' '.join(words)}")
                elif (fam, ty) in privileged_ok or (fam, ty) in allowed_other:
                    continue
                elif ty == "raw" or fam == "packet":
                    err(name, f"may create a {fam} {ty} socket, not a kind its descriptor gives it")
                elif (fam, ty) not in allowed_other:
                    err(name, f"may create a {fam} {ty} socket, neither its descriptor's nor name resolution's")

    def no_escape(name, rules):
        for kind, words, deny in (classify(r) for r in rules):
            if deny:
                continue
            if kind in ("change_profile", "mount", "umount", "remount", "pivot_root"):
                err(name, f"{kind} rule: {' '.join([kind] + list(words))}")
            if kind == "ptrace":
                err(name, f"ptrace rule: ptrace {' '.join(words)}")
            if kind == "file":
                err(name, "bare file rule grants every file access, exec included")

    # The launcher.
    lname = f"privsep-{t}"
    rules = common(lname, tool["LAUNCHER_PATH"], "", None)
    if rules is not None:
        got_caps = set()
        execs = []
        for kind, words, deny in (classify(r) for r in rules):
            if deny:
                continue
            if kind == "capability":
                if not words:
                    err(lname, "bare capability rule grants every capability")
                got_caps |= {w for w in " ".join(words).replace(",", " ").split()}
            if kind == "path" and exec_perm(words[1]):
                execs.append(words)
        if got_caps != caps:
            err(lname, f"capabilities {sorted(got_caps)}, descriptor says {sorted(caps)}")
        sockets(lname, rules, handed)
        missing = {k for k in handed} - {
            k for kind, words, deny in (classify(r) for r in rules)
            if kind == "network" and not deny for k in network_kinds(words)}
        if missing:
            err(lname, f"cannot create its own sockets: {sorted(missing)}")
        no_escape(lname, rules)
        want = {(p, f"Pix -> &{prof}") for p, prof in starts.items()}
        got = {(p, f"{perms} {target}".strip()) for p, perms, target in execs}
        if got != want:
            err(lname, f"exec rules {sorted(got)}, want exactly {sorted(want)} "
                       "(its own programs, Pix, stacked: no_new_privs refuses any other transition)")

    # The worker and the broker.
    for path, name in starts.items():
        # No attachment: the kernel would base the launcher's stack on it.
        rules = common(name, None, "", None)
        if rules is None:
            continue
        for kind, words, deny in (classify(r) for r in rules):
            if deny:
                continue
            if kind == "capability":
                err(name, f"capability rule: capability {' '.join(words)}")
            if kind == "path" and exec_perm(words[1]):
                err(name, f"exec permission: {words[0]} {words[1]}")
        sockets(name, rules, to_worker if name.endswith("-worker") else to_broker)
        no_escape(name, rules)
        # The guarantees stated as deny rules, so that no allow (a local
        # addition's included) can undo them.
        denies = {re.sub(r"^audit\s+", "", r) for r in rules}
        for want in ("deny capability", "deny /** x"):
            if want not in denies:
                err(name, f"the guarantee {want!r} is not stated")


def check(directory):
    errors = []
    for tool in tools(directory):
        path = os.path.join(directory, f"privsep-{tool['TOOL']}")
        if not os.path.exists(path):
            errors.append(f"{tool['TOOL']}: {path} missing")
            continue
        complaint = compile_profile(path)
        if complaint:
            errors.append(f"{tool['TOOL']}: does not compile: {complaint}")
            continue
        check_tool(tool, profiles(preprocess(path)), errors)
    return errors


def insert_rule(text, profile, rule):
    """`text` with `rule` added at the top of `profile`'s block."""
    pat = re.compile(rf"^(profile {re.escape(profile)} [^\n]*\{{\n)", re.M)
    new, n = pat.subn(lambda m: m.group(1) + f"  {rule},\n", text, count=1)
    if n != 1:
        raise RuntimeError(f"profile {profile} not found")
    return new


# (tool, description, mutation of the file text, what the error must say)
def variants(all_tools):
    names = [t["TOOL"] for t in all_tools]
    t = names[0]
    out = [
        (t, "worker given a capability",
         lambda s: insert_rule(s, f"privsep-{t}-worker", "capability net_raw"), "capability rule"),
        (t, "worker given an exec",
         lambda s: insert_rule(s, f"privsep-{t}-worker", "/{usr/,}bin/sh ix"), "exec permission"),
        (t, "worker allowed to run unconfined programs",
         lambda s: insert_rule(s, f"privsep-{t}-worker", "/** Ux"), "exec permission"),
        (t, "launcher allowed to exec a shell",
         lambda s: insert_rule(s, f"privsep-{t}", "/{usr/,}bin/sh ix"), "exec rules"),
        (t, "launcher given another capability",
         lambda s: insert_rule(s, f"privsep-{t}", "capability sys_admin"), "capabilities"),
        (t, "launcher's worker transition not stacked",
         lambda s: s.replace("Pix -> &", "Px -> ", 1), "exec rules"),
        (t, "worker's profile attached to the worker's path",
         lambda s: s.replace(f"profile privsep-{t}-worker {{", f"profile privsep-{t}-worker /usr/**/{t}-worker {{", 1),
         "attached to"),
        (t, "worker allowed to create a packet socket",
         lambda s: insert_rule(s, f"privsep-{t}-worker", "network packet raw"), "packet raw socket"),
        (t, "worker allowed every socket",
         lambda s: insert_rule(s, f"privsep-{t}-worker", "network"), "grants every kind"),
        (t, "worker's no-capability guarantee taken out",
         lambda s: s.replace("  audit deny capability,\n", "", 1), "'deny capability' is not stated"),
        (t, "worker allowed to change profile",
         lambda s: insert_rule(s, f"privsep-{t}-worker", "change_profile"), "change_profile rule"),
        (t, "worker allowed to ptrace",
         lambda s: insert_rule(s, f"privsep-{t}-worker", "ptrace (trace)"), "ptrace rule"),
        (t, "worker in complain mode",
         lambda s: s.replace(f"profile privsep-{t}-worker {{", f"profile privsep-{t}-worker flags=(complain) {{", 1),
         "not enforcing"),
    ]
    # A tool whose descriptor has no raw IPv6 socket: its profiles may not name one.
    for tool in all_tools:
        kinds = tool.get("APPARMOR_SOCKETS", "").split(",")
        if "inet6/raw" not in kinds:
            n = tool["TOOL"]
            out.append((n, "worker allowed to create a raw socket it was not handed",
                        lambda s, n=n: insert_rule(s, f"privsep-{n}-worker", "network inet6 raw"),
                        "inet6 raw socket"))
            out.append((n, "launcher allowed a socket kind its descriptor does not open",
                        lambda s, n=n: insert_rule(s, f"privsep-{n}", "network inet6 raw"),
                        "inet6 raw socket"))
            break
    return out


def selftest(directory):
    all_tools = tools(directory)
    if check(directory):
        print("apparmor-check: selftest: the rendered profiles themselves fail the check", file=sys.stderr)
        return 1
    bad = 0
    with tempfile.TemporaryDirectory(prefix="apparmor-selftest.") as tmp:
        for i, (tool, what, mutate, reason) in enumerate(variants(all_tools)):
            vdir = os.path.join(tmp, str(i))
            os.mkdir(vdir)
            for t in all_tools:
                src = os.path.join(directory, f"privsep-{t['TOOL']}")
                with open(src) as f:
                    text = f.read()
                if t["TOOL"] == tool:
                    text = mutate(text)
                with open(os.path.join(vdir, f"privsep-{t['TOOL']}"), "w") as f:
                    f.write(text)
            with open(os.path.join(directory, "tools.txt")) as f, \
                    open(os.path.join(vdir, "tools.txt"), "w") as g:
                g.write(f.read())
            complaint = compile_profile(os.path.join(vdir, f"privsep-{tool}"))
            errors = check(vdir)
            hit = [e for e in errors if reason in e]
            if complaint:
                print(f"FAIL {tool}: {what}: the variant does not compile ({complaint}); it proves nothing")
                bad += 1
            elif not hit:
                print(f"FAIL {tool}: {what}: not caught (errors: {errors or 'none'})")
                bad += 1
            else:
                print(f"ok   {tool}: {what}: caught: {hit[0]}")
    print(f"apparmor-check selftest: {len(variants(all_tools)) - bad} of {len(variants(all_tools))} variants caught")
    return 1 if bad else 0


def main(argv):
    if len(argv) != 3 or argv[1] not in ("check", "selftest"):
        fail("usage: apparmor-check.py check|selftest DIR")
    directory = argv[2]
    if subprocess.run(["sh", "-c", "command -v apparmor_parser"], capture_output=True).returncode:
        fail("apparmor_parser is missing: install the apparmor package (make deps-test)")
    if argv[1] == "selftest":
        return selftest(directory)
    errors = check(directory)
    for e in errors:
        print(f"FAIL {e}")
    n = len(tools(directory))
    print(f"apparmor-check: {n} tools, {'%d problems' % len(errors) if errors else 'every guarantee holds'}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
