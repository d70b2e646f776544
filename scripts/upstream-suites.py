#!/usr/bin/env python3
"""Runs upstream fping's and upstream mtr's own test suites against
privsep's fping and mtr-packet, and against the reference tools in the same
places, as the unprivileged test user, in network namespaces of its own.

  fping  ci/test-*.pl of Debian 12's fping 5.1 source package (Perl,
         Test::Command; the mirror serves no source of 5.5), in two modes:
         raw (each fping with its file capability, the namespace's
         ping_group_range admitting nobody) and datagram (copies without any
         capability, the range open to every group: ICMP datagram sockets).
         privsep-fping and upstream's latest release (FPING_LATEST, staged
         by scripts/fping-upstream.sh) run in both, Debian 12's
         /usr/bin/fping in raw mode only: 5.1 gets no reply over a datagram
         socket (it checks the identifier against its pid; the kernel sets
         the socket's own). Each run is a namespace with loopback only
         (127.0.0.1, ::1), names from a hosts file alone (nsswitch "files":
         no resolver is ever asked), its own /tmp and its own PID namespace
         (test-07 runs `pkill fping`; test-11 writes /tmp/fping.copy).
  mtr    test/{cmdparse,param,probe}.py of mtr 0.96 (Debian forky's source
         package; its upstream tarball, checked against the signed Sources
         index, when the mirror lacks the .dsc), against the staged
         privsep-mtr-packet and Debian 12's /usr/bin/mtr-packet (0.95), in
         the client namespace of a chain of its own (scripts/netns-chain.sh)
         whose hosts file gives upstream's IPv6 test host,
         google-public-dns-a.google.com, the chain's destination
         2001:db8:2::2 (a TTL-1 probe expires at the first router, as
         upstream's tests expect of the internet); ::1 port 22 listens, as
         upstream's TCP tests assume of ssh.

Nothing leaves the machine: a test that names an internet address is never
run (parity/upstream-suites/*.json, each exclusion with its reason), and
the namespaces have no link to the host's network.

The verdict's reference is the tool the tests are for and privsep is a
drop-in for: Debian 12's fping 5.1 in raw mode (for both modes), Debian
12's mtr-packet. A point (an fping assertion, an mtr test) counts as passed
only when privsep passes it and the reference passes it too; one the
reference fails here is excluded with that reason, never counted. privsep
failing a point the reference passes is a failure, unless fping.json lists
its command as a deliberate difference (the reasons of parity/fping.json):
then privsep must still fail one of its points, and where the difference
follows 5.5, do on each point as 5.5 does.

Usage (root): upstream-suites.py CACHE STAGE USER FPING_LATEST_BINARY FPING_LATEST_VERSION
  CACHE  a directory under target/ (private apt configuration, sources)
Prints one summary line per suite and mode; exit 1 on any failure, 2 when
the suites could not be set up.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
TABLES = os.path.join(REPO, "parity", "upstream-suites")

FPING_SOURCE = ("fping", "5.1", "bookworm")
MTR_SOURCE = ("mtr", "0.96", "forky")
# Debian's default hosts file, which upstream's tests assume (localhost,
# ip6-localhost).
HOSTS = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
# Each test file gets this long before it counts as hung (the longest, test-07,
# sleeps four seconds).
FILE_TIMEOUT = 120


def die(msg):
    print(f"upstream-suites: {msg}", file=sys.stderr)
    sys.exit(2)


def run(*args, **kw):
    return subprocess.run(list(args), check=True, **kw)


def source_tree(cache, pkg, version, suite):
    """Debian's source package PKG VERSION-* (from SUITE), unpacked under
    CACHE through scripts/private-apt.sh; its tree's path."""
    tree = os.path.join(cache, f"{pkg}-{version}", "get", f"{pkg}-{version}")
    if os.path.isdir(tree):
        return tree
    apt = os.path.join(cache, f"apt-{suite}")
    private = os.path.join(HERE, "private-apt.sh")
    run(private, apt, "setup", "deb-src", suite)
    v = subprocess.run([private, apt, "newest-source", pkg, version], check=True,
                       capture_output=True, text=True).stdout.strip()
    if not v:
        die(f"no {pkg} {version}-* source package in {suite}")
    got = subprocess.run([private, apt, "source", pkg, v, f"{pkg}-{version}",
                          f"{pkg}_{version}.orig.tar.gz", os.path.dirname(tree)],
                         check=True, capture_output=True, text=True).stdout.strip()
    if got != tree or not os.path.isdir(tree):
        die(f"{pkg} {v}: neither the source package nor its upstream tarball could be had")
    return tree


def install(src, dst, mode=0o755):
    shutil.copyfile(src, dst)
    os.chmod(dst, mode)


def as_user(user):
    return ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", "--inh-caps=-all"]


# ---------------------------------------------------------------- fping


def parse_tap(text):
    """{point: (status, text)} of a TAP stream, status ok, not ok or skip;
    and the plan (None if absent, 0 with a skip-all reason)."""
    points, plan, skip_all = {}, None, None
    for line in text.splitlines():
        m = re.match(r"^1\.\.(\d+)(?:\s*#\s*(?i:skip)\S*\s*(.*))?$", line)
        if m:
            plan, skip_all = int(m.group(1)), m.group(2)
            continue
        m = re.match(r"^(not ok|ok) (\d+)(?: - )?(.*)$", line)
        if not m:
            continue
        status, n, rest = m.group(1), int(m.group(2)), m.group(3)
        s = re.match(r"^\s*#\s*skip\s*(.*)$", rest, re.I)
        points[n] = ("skip", s.group(1)) if s else (status, rest)
    return points, plan, skip_all


def fping_run(work, name, binary, mode, user, files, exclude, netns):
    """Runs every test file against BINARY (exec'd as `fping` through PATH)
    in a namespace of its own; {file: (points, plan, skip_all, rc, commands,
    stderr)}."""
    bindir = os.path.join(work, f"bin-{name}-{mode}")
    out = os.path.join(work, f"out-{name}-{mode}")
    os.makedirs(bindir)
    os.makedirs(out)
    shutil.chown(out, user)
    if mode == "raw":
        os.symlink(binary, os.path.join(bindir, "fping"))
    else:
        install(binary, os.path.join(bindir, "fping"))  # no xattr: no capability
    etc = f"/etc/netns/{netns}"
    os.makedirs(etc)
    with open(f"{etc}/hosts", "w") as f:
        f.write(HOSTS)
    with open(f"{etc}/nsswitch.conf", "w") as f:
        f.write("hosts: files\nnetworks: files\n")
    with open(f"{etc}/resolv.conf", "w") as f:
        f.write("nameserver 127.0.0.1\noptions attempts:1 timeout:1\n")
    try:
        run("ip", "netns", "add", netns)
        run("ip", "-n", netns, "link", "set", "lo", "up")
        group_range = "1 0" if mode == "raw" else "0 2147483647"
        run("ip", "netns", "exec", netns, "sysctl", "-qw", f"net.ipv4.ping_group_range={group_range}")
        # Inside: a private /tmp (tmpfs) showing only what the runs need
        # from the real one (the staged installs, this work directory).
        # The binary's install (a launcher's baked worker path, the
        # latest fping's staged loader) is the directory above its own.
        install_dir = os.path.dirname(os.path.dirname(os.path.realpath(binary)))
        keep = sorted(k for k in {install_dir, work} if k.startswith("/tmp/"))
        env = ["env", "-i", f"PATH={bindir}:/usr/bin:/bin", "HOME=/nonexistent", "LANG=C",
               "TMPDIR=/tmp", f"PERL5LIB={work}", "PERL5OPT=-MUpstreamExclude",
               f"UPSUITES_EXCLUDE={exclude}"]
        script = ["set -e", "mount --rbind /tmp /mnt", "mount -t tmpfs -o mode=1777 upsuites /tmp"]
        for k in keep:
            script += [f"mkdir -p '{k}'", f"mount --rbind '/mnt{k[len('/tmp'):]}' '{k}'"]
        script += ["umount -l /mnt", f"cd '{work}/fping-ci'", "set +e"]
        for f in files:
            cmd = " ".join(as_user(user) + env + [f"UPSUITES_LOG={out}/{f}.log",
                                                  "timeout", str(FILE_TIMEOUT), "perl", f])
            script.append(f"{cmd} >'{out}/{f}.tap' 2>'{out}/{f}.err'; echo $? >'{out}/{f}.rc'")
        inner = os.path.join(work, f"run-{name}-{mode}.sh")
        with open(inner, "w") as f:
            f.write("\n".join(script) + "\n")
        run("ip", "netns", "exec", netns, "unshare", "--mount", "--propagation", "private",
            "--pid", "--fork", "--mount-proc", "sh", inner)
    finally:
        subprocess.run(["ip", "netns", "del", netns], check=False)
        shutil.rmtree(etc, ignore_errors=True)
    results = {}
    for f in files:
        def read(ext):
            try:
                with open(f"{out}/{f}.{ext}", encoding="utf-8", errors="replace") as fh:
                    return fh.read()
            except FileNotFoundError:
                return ""
        points, plan, skip_all = parse_tap(read("tap"))
        commands = {}
        for line in read("log").splitlines():
            n, _, c = line.partition("\t")
            commands[int(n)] = c
        results[f] = (points, plan, skip_all, read("rc").strip(), commands, read("err"))
    return results


def fping_classify(mode, mine, debian, latest, table, files):
    """Prints the points that are not plain passes and the summary line;
    the number of failures. MINE is privsep's run in MODE, DEBIAN Debian
    12's fping 5.1 in raw mode (the verdict's reference: the tests are its
    own, and privsep-fping is drop-in for it where 5.1 and 5.5 differ;
    over a datagram socket it receives nothing), LATEST upstream's latest
    release in MODE (what a deliberate difference follows)."""
    deliberate = {d["cmd"]: d for d in table.get("deliberate", [])}
    differed = defaultdict(bool)  # cmd -> privsep failed one of its points
    counts = Counter()
    reasons = Counter()
    failures = 0

    def report(kind, f, n, cmd, why):
        print(f"upstream-suites: fping {mode}: {kind}: {f} #{n} ({cmd}): {why}")

    for entry in table.get("files", []):
        counts["files excluded"] += 1
        reasons[f"{entry['file']} (whole file): {entry['reason']}"] += 1
    for f in files:
        points, plan, skip_all, rc, commands, err = mine[f]
        if skip_all is not None and plan == 0:
            # Upstream's own skip_all (test-11 where unprivileged pings are
            # allowed): counted excluded; the latest release must skip it too.
            if latest[f][2] is None:
                report("FAIL", f, "-", "-", f"privsep skipped it all ({skip_all}); fping 5.5 did not")
                failures += 1
            counts["files excluded"] += 1
            reasons[f"{f} (whole file): upstream skips it here: {skip_all}"] += 1
            continue
        if plan is None or len(points) != plan:
            report("FAIL", f, "-", "-", f"privsep's run ended early (exit {rc}, "
                   f"{len(points)} of {plan} points): {err.strip()[-300:]}")
            failures += 1
            continue
        for n in sorted(points):
            status, text = points[n]
            cmd = commands.get(n, "?")
            counts["points"] += 1
            if status == "skip":
                counts["excluded"] += 1
                reasons[text if text.startswith("excluded:") else f"upstream skips it: {text}"] += 1
                continue
            if debian[f][0].get(n, ("missing",))[0] != "ok":
                counts["excluded"] += 1
                reasons["fails against Debian 12's fping 5.1 here"] += 1
                report("excluded", f, n, cmd, f"fails against Debian 12's fping 5.1 here (privsep: {status})")
                continue
            if cmd in deliberate:
                d = deliberate[cmd]
                theirs = latest[f][0].get(n, ("missing",))[0]
                if d.get("follows") == "latest" and status != theirs:
                    failures += 1
                    report("FAIL", f, n, cmd, f"a deliberate difference that follows fping 5.5, "
                           f"but privsep: {status}, fping 5.5: {theirs}")
                elif status != "ok":
                    differed[cmd] = True
                    counts["excluded"] += 1
                    reasons[f"deliberate: {d['reason']}"] += 1
                    report("deliberate", f, n, cmd, d["reason"])
                else:
                    counts["passed"] += 1
                continue
            if status == "ok":
                counts["passed"] += 1
            else:
                failures += 1
                report("FAIL", f, n, cmd, text.strip())
                failed_before = sum(1 for m in points if m < n and points[m][0] == "not ok")
                for line in failure_diag(err, failed_before):
                    print(f"upstream-suites:     {line}")
    seen = {c for f in files for c in mine[f][4].values()}
    for entry in table.get("commands", []):
        if entry["cmd"] not in seen:
            failures += 1
            print(f"upstream-suites: fping {mode}: FAIL: an exclusion names no command of the tests: {entry['cmd']}")
    for cmd in deliberate:
        if not differed[cmd]:
            failures += 1
            print(f"upstream-suites: fping {mode}: FAIL: a deliberate difference no longer differs: {cmd}")
    summary = "; ".join(f"{k} ({v})" for k, v in sorted(reasons.items()))
    print(f"upstream-suites: fping {mode}: {counts['points']} points in {len(files)} files: "
          f"{counts['passed']} passed, {counts['excluded']} excluded, {failures} failed; "
          f"{counts['files excluded']} whole files excluded. Excluded: {summary}")
    return failures


def failure_diag(err, k):
    """Test::More's diagnostics (on stderr) of the run's K-th failed point,
    counting from 0: got and expected."""
    blocks = re.split(r"(?m)^(?=#\s+Failed test)", err)[1:]
    return blocks[k].splitlines()[:16] if k < len(blocks) else []


def fping_suite(cache, stage, user, latest, latest_version):
    src = source_tree(cache, *FPING_SOURCE)
    with open(os.path.join(TABLES, "fping.json"), encoding="utf-8") as f:
        table = json.load(f)
    skip_files = {e["file"] for e in table.get("files", [])}
    for f in skip_files:
        if not os.path.isfile(os.path.join(src, "ci", f)):
            die(f"parity/upstream-suites/fping.json excludes {f}, which fping {FPING_SOURCE[1]} does not have")
    files = sorted(f for f in os.listdir(os.path.join(src, "ci"))
                   if f.startswith("test-") and f.endswith(".pl") and f not in skip_files)
    work = tempfile.mkdtemp(prefix="privsep-upstream-fping-", dir="/tmp")
    os.chmod(work, 0o755)
    try:
        ci = os.path.join(work, "fping-ci")
        os.makedirs(ci)
        for f in files:
            install(os.path.join(src, "ci", f), os.path.join(ci, f), 0o644)
        install(os.path.join(TABLES, "UpstreamExclude.pm"), os.path.join(work, "UpstreamExclude.pm"), 0o644)
        exclude = os.path.join(work, "fping.json")
        install(os.path.join(TABLES, "fping.json"), exclude, 0o644)
        privsep = os.path.join(stage, "bin", "privsep-fping")
        for b in (privsep, "/usr/bin/fping", latest):
            if not os.access(b, os.X_OK):
                die(f"{b}: not there (make stage, fping-upstream)")
        # Debian 12's fping 5.1 gets no reply over an ICMP datagram socket
        # (it checks the identifier against its pid; the kernel sets the
        # socket's own): it runs in raw mode only, the reference of both.
        runs = [("privsep", privsep, "raw"), ("privsep", privsep, "datagram"),
                ("debian", "/usr/bin/fping", "raw"),
                ("latest", latest, "raw"), ("latest", latest, "datagram")]
        with ThreadPoolExecutor(max_workers=len(runs)) as pool:
            jobs = {(name, mode): pool.submit(fping_run, work, name, binary, mode, user, files, exclude,
                                              f"upsuites-{os.getpid()}-{name[0]}{mode[0]}")
                    for name, binary, mode in runs}
            results = {k: j.result() for k, j in jobs.items()}
        failures = 0
        for mode in ("raw", "datagram"):
            failures += fping_classify(mode, results[("privsep", mode)], results[("debian", "raw")],
                                       results[("latest", mode)], table, files)
        return failures
    finally:
        if os.environ.get("UPSUITES_KEEP_WORK"):
            print(f"upstream-suites: kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------- mtr


def mtr_suite(cache, stage, user):
    src = source_tree(cache, *MTR_SOURCE)
    work = tempfile.mkdtemp(prefix="privsep-upstream-mtr-", dir="/tmp")
    os.chmod(work, 0o755)
    chain = f"ups{os.getpid()}"
    listener = None
    try:
        tests = os.path.join(work, "test")
        os.makedirs(tests)
        for f in ("cmdparse.py", "param.py", "probe.py", "mtrpacket.py"):
            install(os.path.join(src, "test", f), os.path.join(tests, f), 0o644)
        install(os.path.join(TABLES, "mtr_run.py"), os.path.join(work, "mtr_run.py"), 0o644)
        exclude = os.path.join(work, "mtr.json")
        install(os.path.join(TABLES, "mtr.json"), exclude, 0o644)
        # Upstream's packet listener for the param tests, built from its
        # source, with the capability its raw sockets need.
        bindir = os.path.join(work, "bin")
        os.makedirs(bindir)
        listen = os.path.join(bindir, "mtr-packet-listen")
        run("gcc", "-O2", "-I", src, "-o", listen, os.path.join(src, "test", "packet_listen.c"))
        os.chmod(listen, 0o755)
        run("setcap", "cap_net_raw=ep", listen)
        run(os.path.join(HERE, "netns-chain.sh"), "up", chain)
        with open(f"/etc/netns/{chain}-c/hosts", "a") as f:
            f.write("2001:db8:2::2\tgoogle-public-dns-a.google.com\n")
        listener = subprocess.Popen(
            ["ip", "netns", "exec", f"{chain}-c", "python3", "-c",
             "import socket,time\ns=socket.socket(socket.AF_INET6)\n"
             "s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
             "s.bind(('::1',22));s.listen(64)\nprint('listening',flush=True)\n"
             "while True:\n c,_=s.accept();c.close()"], stdout=subprocess.PIPE, text=True)
        if listener.stdout.readline().strip() != "listening":
            die("the ::1 port 22 listener did not start")
        impls = {"privsep": os.path.join(stage, "bin", "privsep-mtr-packet"),
                 "mtr-packet 0.95 (Debian 12)": "/usr/bin/mtr-packet"}
        outs = {}
        for i, (name, binary) in enumerate(impls.items()):
            if not os.access(binary, os.X_OK):
                die(f"{binary}: not there (make stage; mtr-tiny)")
            log = os.path.join(work, f"out-{i}.log")
            outdir = os.path.join(work, f"out-{i}")
            os.makedirs(outdir)
            shutil.chown(outdir, user)
            out = os.path.join(outdir, "result.json")
            with open(log, "w") as logf:
                subprocess.run(
                    ["ip", "netns", "exec", f"{chain}-c"] + as_user(user) +
                    ["env", "-i", "PATH=/usr/bin:/bin", "HOME=/nonexistent", "LANG=C",
                     "PYTHONDONTWRITEBYTECODE=1", f"MTR_PACKET={binary}",
                     "timeout", "600", "python3", os.path.join(work, "mtr_run.py"), tests, exclude, out],
                    cwd=bindir, stdout=logf, stderr=subprocess.STDOUT, check=False)
            try:
                with open(out, encoding="utf-8") as f:
                    outs[name] = json.load(f)
            except (FileNotFoundError, ValueError):
                with open(log) as f:
                    print(f.read()[-3000:])
                die(f"mtr's tests did not run against {name}")
        return mtr_classify(outs)
    finally:
        if listener:
            listener.kill()
            listener.wait()
        subprocess.run([os.path.join(HERE, "netns-chain.sh"), "down", chain], check=False)
        if os.environ.get("UPSUITES_KEEP_WORK"):
            print(f"upstream-suites: kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def mtr_classify(outs):
    mine = outs["privsep"]
    refs = [n for n in outs if n != "privsep"]
    counts, reasons, failures = Counter(), Counter(), 0
    for test in sorted(mine):
        status, detail = mine[test]["status"], mine[test]["detail"]
        counts["tests"] += 1
        if status == "excluded":
            counts["excluded"] += 1
            reasons[f"excluded: {detail}"] += 1
            continue
        if status == "skip":
            counts["excluded"] += 1
            reasons[f"upstream skips it: {detail}"] += 1
            print(f"upstream-suites: mtr: skipped by upstream: {test}: {detail}")
            continue
        bad = [r for r in refs if outs[r].get(test, {}).get("status") != "pass"]
        if bad:
            counts["excluded"] += 1
            reasons[f"fails against {' and '.join(bad)} here"] += 1
            last = (outs[bad[0]].get(test, {}).get("detail") or "").strip().splitlines()[-1:]
            print(f"upstream-suites: mtr: excluded: {test}: fails against {' and '.join(bad)} here "
                  f"(privsep: {status}; {bad[0]}: {last[0] if last else 'not run'})")
            continue
        if status == "pass":
            counts["passed"] += 1
        else:
            failures += 1
            print(f"upstream-suites: mtr: FAIL: {test}")
            for line in detail.strip().splitlines()[-8:]:
                print(f"upstream-suites:     {line}")
    summary = "; ".join(f"{k} ({v})" for k, v in sorted(reasons.items()))
    print(f"upstream-suites: mtr: {counts['tests']} tests: {counts['passed']} passed, "
          f"{counts['excluded']} excluded, {failures} failed. Excluded: {summary}")
    return failures


def main():
    if len(sys.argv) != 6:
        die("usage: upstream-suites.py CACHE STAGE USER FPING_LATEST_BINARY FPING_LATEST_VERSION")
    if os.getuid() != 0:
        die("must run as root (namespaces, setpriv, setcap)")
    cache, stage, user, latest, latest_version = sys.argv[1:]
    os.makedirs(cache, exist_ok=True)
    cache = os.path.abspath(cache)
    only = os.environ.get("UPSUITES_ONLY", "")
    if only not in ("", "fping", "mtr"):
        die(f"UPSUITES_ONLY={only}: fping, mtr or empty (both)")
    failures = 0
    if only in ("", "fping"):
        failures += fping_suite(cache, stage, user, latest, latest_version)
    if only in ("", "mtr"):
        failures += mtr_suite(cache, stage, user)
    print(f"upstream-suites: {'FAILED: ' + str(failures) + ' failure(s)' if failures else 'all passed'}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
