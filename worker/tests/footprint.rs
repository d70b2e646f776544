//! ping's seccomp allowlist against its footprint: what the staged,
//! locked-down worker really calls across representative runs, recorded
//! with strace and kept in `policy/footprints/ping.syscalls`.
//!
//! - [`allowlist_matches_the_recorded_footprint`] (plain `cargo test`): an
//!   entry of ping's profile marked `observed: true` that the footprint
//!   lacks, or a call in the footprint that the profile lacks, fails.
//! - [`staged_worker_stays_within_the_footprint`] (`make test`): records
//!   the runs again and fails on any call the kept file does not list.
//!   Re-record the file with
//!   `PRIVSEP_RECORD_FOOTPRINT=1 PRIVSEP_STAGE=… PRIVSEP_TEST_USER=… cargo
//!   test -p worker --test footprint -- --ignored` (as root, after `make stage`).

#![forbid(unsafe_code)]

mod support;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use support::{launcher, text, user};

fn footprint_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../policy/footprints/ping.syscalls")
}

/// The system call names of the kept footprint (comments and blank lines
/// skipped).
fn kept() -> BTreeSet<String> {
    std::fs::read_to_string(footprint_path())
        .expect("policy/footprints/ping.syscalls")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

#[test]
fn allowlist_matches_the_recorded_footprint() {
    let footprint = kept();
    let rules: Vec<_> = policy::tools::PING.sandbox.rules().collect();
    for r in &rules {
        if r.observed {
            assert!(
                footprint.contains(r.name),
                "{} is marked observed but the footprint lacks it: drop the entry, mark it \
                 observed: false with a reason, or re-record",
                r.name
            );
        }
    }
    for call in &footprint {
        assert!(
            rules.iter().any(|r| r.name == call),
            "the worker calls {call}, which ping's allowlist lacks"
        );
    }
}

/// The calls a traced pid made after it installed its seccomp filter.
fn after_lockdown(trace: &str) -> BTreeSet<String> {
    let mut locked: BTreeSet<String> = BTreeSet::new();
    let mut pids: Vec<String> = Vec::new();
    let mut calls = BTreeSet::new();
    for line in trace.lines() {
        let Some((pid, rest)) = line.split_once(char::is_whitespace) else {
            continue;
        };
        let rest = rest.trim_start();
        let name = if let Some(r) = rest.strip_prefix("<... ") {
            r.split(' ').next().unwrap_or("")
        } else {
            rest.split('(').next().unwrap_or("")
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        if locked.contains(pid) {
            if !rest.starts_with("<... ") {
                calls.insert(name.to_string());
            }
        } else if rest.starts_with("seccomp(SECCOMP_SET_MODE_FILTER")
            || rest.starts_with("prctl(PR_SET_SECCOMP")
        {
            locked.insert(pid.to_string());
            pids.push(pid.to_string());
        }
    }
    assert!(
        !pids.is_empty(),
        "no process installed a seccomp filter:\n{trace}"
    );
    calls
}

/// One traced run: `setup` as root in fresh network and mount namespaces,
/// then the launcher as the test user under strace. `signals` are sent to
/// the worker (by name, after the delay) before it ends on its own.
fn traced(setup: &str, args: &[&str], signals: &[(u64, &str)]) -> BTreeSet<String> {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("trace");
    let mut cmd = Command::new("unshare");
    cmd.args(["-n", "-m", "--", "sh", "-ec"])
        .arg(format!(
            "mount --make-rprivate /; ip link set lo up; {setup}; \
             L=\"$0\"; U=\"$1\"; shift; strace -f -qq -o \"$L\" -u \"$U\" \"$@\" > /dev/null 2>&1 || true"
        ))
        .arg(&log)
        .arg(user())
        .arg(launcher())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    for (delay, sig) in signals {
        std::thread::sleep(Duration::from_millis(*delay));
        // The worker is the traced process running the worker binary.
        let _ = testkit::deadline::status(Command::new("pkill").args([
            &format!("-{sig}"),
            "-u",
            &user(),
            "-x",
            "ping-worker",
        ]));
    }
    let out = testkit::deadline::wait_with_output(child, &"strace of the ping launcher");
    let trace = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(!trace.is_empty(), "no trace: {}", text(&out.stderr));
    after_lockdown(&trace)
}

/// The representative runs: replies on both families, JSON, quiet, flood,
/// record route, names through the resolver co-process (ICMP errors from a
/// router named in a private hosts file), no reply, the status line and
/// SIGINT, a failing stdout; then the same kinds of runs on ICMP datagram
/// sockets (`ping_group_range` open in the run's namespace: the launcher
/// opens datagram sockets first even where it holds its capability).
fn record() -> BTreeSet<String> {
    let router = "printf '127.0.0.1 localhost\\n198.18.0.2 router\\n198.19.0.5 far\\n' > /tmp/fp-hosts-$$; \
         mount --bind /tmp/fp-hosts-$$ /etc/hosts; rm /tmp/fp-hosts-$$; \
         unshare -n sleep 30 & R=$!; sleep 0.2; \
         ip link add v0 type veth peer name v1 netns $R; \
         ip addr add 198.18.0.1/24 dev v0; ip link set v0 up; \
         ip route add 198.19.0.0/24 via 198.18.0.2; \
         nsenter -t $R -n sh -c 'ip link set lo up; ip addr add 198.18.0.2/24 dev v1; ip link set v1 up; \
             sysctl -qw net.ipv4.ip_forward=1; ip route add unreachable 198.19.0.0/24'";
    let silent = "sysctl -qw net.ipv4.icmp_echo_ignore_all=1";
    let open = "sysctl -qw net.ipv4.ping_group_range='0 2147483647'";
    let open_router = format!("{open}; {router}");
    let mut all = BTreeSet::new();
    for (setup, args, signals) in [
        ("true", &["-c", "3", "-i", "0.2", "127.0.0.1"][..], &[][..]),
        ("true", &["-c", "2", "-i", "0.2", "::1"], &[]),
        (
            "true",
            &[
                "-j",
                "-D",
                "-v",
                "-v",
                "-O",
                "-c",
                "2",
                "-i",
                "0.2",
                "127.0.0.1",
            ],
            &[],
        ),
        (
            "true",
            &["-q", "-c", "2", "-i", "0.2", "-R", "localhost"],
            &[],
        ),
        ("true", &["-f", "-i", "0.002", "-c", "50", "127.0.0.1"], &[]),
        (router, &["-c", "2", "-i", "0.2", "far"], &[]),
        (silent, &["-c", "1", "-W", "0.5", "127.0.0.1"], &[]),
        (
            "true",
            &["-i", "0.2", "127.0.0.1"],
            &[(1500, "QUIT"), (500, "INT")],
        ),
        (open, &["-c", "3", "-i", "0.2", "127.0.0.1"], &[]),
        (open, &["-c", "2", "-i", "0.2", "::1"], &[]),
        (
            open,
            &["-q", "-c", "2", "-i", "0.2", "-R", "localhost"],
            &[],
        ),
        (open, &["-f", "-i", "0.002", "-c", "50", "127.0.0.1"], &[]),
        (&open_router, &["-c", "2", "-i", "0.2", "far"], &[]),
    ] {
        all.extend(traced(setup, args, signals));
    }
    all
}

#[test]
#[ignore = "needs the staged install, the test user and strace: run `make test`"]
fn staged_worker_stays_within_the_footprint() {
    let recorded = record();
    if std::env::var_os("PRIVSEP_RECORD_FOOTPRINT").is_some() {
        let mut body = String::from(
            "# What the staged, locked-down privsep-ping worker calls (strace, after its\n\
             # seccomp filter is installed) across the runs of worker/tests/footprint.rs.\n\
             # Re-record (as root, after `make stage`):\n\
             #   PRIVSEP_RECORD_FOOTPRINT=1 PRIVSEP_STAGE=<stage> PRIVSEP_TEST_USER=<user> \\\n\
             #     cargo test -p worker --test footprint -- --ignored\n",
        );
        for c in &recorded {
            body.push_str(c);
            body.push('\n');
        }
        std::fs::write(footprint_path(), body).unwrap();
        return;
    }
    let footprint = kept();
    let extra: Vec<&String> = recorded.difference(&footprint).collect();
    assert!(
        extra.is_empty(),
        "the staged worker called {extra:?}, which policy/footprints/ping.syscalls lacks: \
         review, add to the allowlist with a reason, re-record"
    );
}
