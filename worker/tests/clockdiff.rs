//! Tests of the installed privsep-clockdiff: the launcher staged with its
//! file capability (`cap_net_raw,cap_sys_nice=p`), run as the unprivileged
//! test user against 127.0.0.1 and against a host at the far end of a veth
//! pair between two network namespaces of the test's own (198.18.0.0/24),
//! ICMP timestamps and `-o`/`-o1`, both output forms, side by side with
//! iputils `clockdiff` run as root (same line shapes, numbers masked); the
//! worker's state in `/proc` while it measures; the launcher without
//! `cap_sys_nice`; and the bad-input paths against iputils' messages and
//! statuses.
//!
//! They need root, the staged install and the test user, so a plain
//! `cargo test` skips them as ignored; `make test` runs them with
//! `--include-ignored` (`PRIVSEP_STAGE`, `PRIVSEP_TEST_USER`).

#![forbid(unsafe_code)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use support::{as_user, launcher_of, text, user, worker_of, NetnsPair};
use testkit::procfs;

const IPUTILS: &str = "/usr/bin/clockdiff";

fn launcher() -> PathBuf {
    launcher_of("clockdiff")
}

/// Digits → `N` (and the program name → `clockdiff`), so that privsep and
/// iputils output compare by shape.
fn mask(s: &str) -> String {
    let s = s.replace(&launcher().display().to_string(), "clockdiff");
    let s = s.replace("privsep-clockdiff", "clockdiff");
    let s = s.replace(IPUTILS, "clockdiff");
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let signed = chars[i] == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit);
        if chars[i].is_ascii_digit() || signed {
            i += 1;
            while chars.get(i).is_some_and(char::is_ascii_digit) {
                i += 1;
            }
            out.push('N');
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

fn run(cmd: &mut Command) -> Output {
    testkit::deadline::output(cmd)
}

fn describe(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        text(&o.stdout),
        text(&o.stderr)
    )
}

/// The batch line: `<time> <delta> <delta1>`.
fn assert_batch_line(o: &Output) -> (i64, i64, i64) {
    assert_eq!(o.status.code(), Some(0), "{}", describe(o));
    assert_eq!(text(&o.stderr), "", "{}", describe(o));
    let out = text(&o.stdout);
    let fields: Vec<i64> = out
        .strip_suffix('\n')
        .unwrap_or_else(|| panic!("one line: {out:?}"))
        .split(' ')
        .map(|f| f.parse().unwrap_or_else(|_| panic!("numbers: {out:?}")))
        .collect();
    assert_eq!(fields.len(), 3, "{out:?}");
    assert!(!out[..out.len() - 1].contains('\n'), "{out:?}");
    (fields[0], fields[1], fields[2])
}

fn sh(what: &str, script: &str) {
    let o = run(Command::new("sh").args(["-ec", script]));
    assert!(o.status.success(), "{what}: {}", describe(&o));
}

/// The shared veth pair (client side `a`, 198.18.0.1; peer `b`,
/// 198.18.0.2, `peer.test` in `a`'s private hosts file) with clockdiff's
/// helpers.
struct Pair(NetnsPair);

impl Pair {
    fn new(tag: &str) -> Pair {
        Pair(NetnsPair::new(&format!("cd{tag}")))
    }

    /// The peer's kernel stops answering: echo requests ignored, its
    /// timestamp replies rate-limited to none (the ICMP rate limit spares
    /// loopback only, hence the pair).
    fn silence_peer(&self) {
        self.0.in_b(&format!(
            "sysctl -q -w net.ipv4.icmp_echo_ignore_all=1 \
             net.ipv4.icmp_ratemask={} net.ipv4.icmp_ratelimit=2147483647",
            0x1818 | (1 << 14)
        ));
    }

    /// `program args` as the test user on the client side.
    fn as_user(&self, program: &Path, args: &[&str]) -> Command {
        self.0.as_user_in_a(program, args)
    }

    /// `program args` as root on the client side.
    fn as_root(&self, program: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", self.0.a.name(), program])
            .args(args);
        cmd
    }
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn loopback_as_user_every_method_prints_the_batch_line() {
    for args in [
        &["127.0.0.1"][..],
        &["-o", "127.0.0.1"],
        &["-o1", "127.0.0.1"],
    ] {
        let o = run(&mut as_user(&launcher(), args));
        let (t, delta, delta1) = assert_batch_line(&o);
        // Same clock on both ends: no difference worth a millisecond or two.
        assert!(
            delta.abs() <= 2 && delta1.abs() <= 2,
            "{args:?}: {}",
            describe(&o)
        );
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        assert!((now - t).abs() < 600, "{args:?}: time {t} vs {now}");
    }
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn a_host_in_a_namespace_as_user_and_side_by_side_with_iputils() {
    let pair = Pair::new("h");
    for args in [
        &["198.18.0.2"][..],
        &["-o", "198.18.0.2"],
        &["-o1", "198.18.0.2"],
        &["-I", "198.18.0.2"],
    ] {
        let ours = run(&mut pair.as_user(&launcher(), args));
        let (_, delta, _) = assert_batch_line(&ours);
        assert!(delta.abs() <= 2, "{args:?}: {}", describe(&ours));
        let theirs = run(&mut pair.as_root(IPUTILS, args));
        assert_eq!(
            mask(&text(&ours.stdout)),
            mask(&text(&theirs.stdout)),
            "{args:?}"
        );
        assert_eq!(ours.status.code(), theirs.status.code(), "{args:?}");
    }
}

/// Runs `command` under `script` (a terminal on stdin and stdout), and
/// returns what the terminal showed.
fn on_a_terminal(command: &str) -> String {
    let o = run(Command::new("script").args(["-qec", command, "/dev/null"]));
    text(&o.stdout)
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn on_a_terminal_the_interactive_line_matches_iputils() {
    let user = user();
    let priv_cmd = |args: &str| {
        format!(
            "setpriv --reuid={user} --regid={user} --clear-groups --inh-caps=-all {} {args}",
            launcher().display()
        )
    };
    for args in [
        "127.0.0.1",
        "-o 127.0.0.1",
        "-o1 -I 127.0.0.1",
        "-T ctime 127.0.0.1",
    ] {
        let ours = on_a_terminal(&priv_cmd(args));
        let theirs = on_a_terminal(&format!("{IPUTILS} {args}"));
        // 50 dots, then the line.
        assert!(ours.starts_with(&".".repeat(50)), "{args}: {ours:?}");
        assert!(ours.contains("\r\nhost=127.0.0.1 rtt="), "{args}: {ours:?}");
        assert_eq!(mask(&ours), mask(&theirs), "{args}:\n{ours}\n{theirs}");
    }
    // The ISO form, for sure: 2026-12-01T21:42:25+0000.
    let iso = on_a_terminal(&priv_cmd("-I 127.0.0.1"));
    let stamp = iso.trim_end().rsplit(' ').next().unwrap_or("");
    let shape: String = stamp
        .chars()
        .map(|c| if c.is_ascii_digit() { '9' } else { c })
        .collect();
    assert!(
        ["9999-99-99T99:99:99+9999", "9999-99-99T99:99:99-9999"].contains(&shape.as_str()),
        "{iso:?}"
    );
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn a_silent_host_is_down_and_no_route_is_unreachable_as_in_iputils() {
    let pair = Pair::new("d");
    pair.silence_peer();
    for args in [&["198.18.0.2"][..], &["-o", "198.18.0.2"], &["198.19.7.7"]] {
        let ours = run(&mut pair.as_user(&launcher(), args));
        let theirs = run(&mut pair.as_root(IPUTILS, args));
        assert_eq!(ours.status.code(), Some(1), "{args:?}: {}", describe(&ours));
        assert_eq!(
            theirs.status.code(),
            Some(1),
            "{args:?}: {}",
            describe(&theirs)
        );
        assert_eq!(
            mask(&text(&ours.stderr)),
            mask(&text(&theirs.stderr)),
            "{args:?}"
        );
        assert_eq!(text(&ours.stdout), "", "{args:?}");
    }
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn the_measuring_worker_is_locked_down_at_nice_minus_16_with_no_capability() {
    let pair = Pair::new("p");
    pair.silence_peer();
    // A silent peer keeps it measuring (about eleven seconds).
    let mut child = pair
        .as_user(&launcher(), &["198.18.0.2"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    // `ip netns exec` and setpriv exec in place: the child's pid becomes the
    // launcher's, then the worker's.
    let pid = child.id();
    let status = procfs::wait_locked_down(pid as i32, None, "the clockdiff worker");
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let exe = std::fs::read_link(format!("/proc/{pid}/exe"));
    let _ = child.kill();
    let _ = testkit::deadline::wait(&mut child, &"the clockdiff launcher");
    assert_eq!(exe.ok(), Some(worker_of("clockdiff")), "{status:?}");
    procfs::assert_locked_down(&status, "the clockdiff worker");
    // /proc/PID/stat: field 19 is the nice value (after the parenthesised name).
    let after = &stat[stat.rfind(')').expect("stat") + 2..];
    let nice: i32 = after
        .split(' ')
        .nth(16)
        .expect("nice field")
        .parse()
        .expect("nice");
    assert_eq!(nice, -16, "{stat}");
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn a_launcher_without_cap_sys_nice_says_which_setcap_line_is_missing() {
    let dir = tempfile::Builder::new()
        .prefix("privsep-clockdiff-nonice-")
        .tempdir_in("/tmp")
        .expect("tempdir");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let copy = dir.path().join("privsep-clockdiff");
    testkit::copy::copy_program(launcher(), &copy).expect("copy launcher");
    sh(
        "setcap",
        &format!("setcap cap_net_raw=p {}", copy.display()),
    );
    let o = run(&mut as_user(&copy, &["127.0.0.1"]));
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    let err = text(&o.stderr);
    assert_eq!(err.lines().count(), 1, "one line: {err:?}");
    assert!(err.contains("setcap cap_net_raw,cap_sys_nice=p "), "{err}");
    assert!(err.contains("CAP_SYS_NICE"), "{err}");
    assert_eq!(text(&o.stdout), "");
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn bad_input_gets_iputils_messages_and_statuses() {
    let cases: &[&[&str]] = &[
        &[],
        &["127.0.0.1", "127.0.0.2"],
        &["-x", "127.0.0.1"],
        &["-o1x", "127.0.0.1"],
        &["-T"],
        &["--time-format"],
        &["-T", "foo", "127.0.0.1"],
        &["--foo", "127.0.0.1"],
        &["--help=x"],
        &["::1"],
        &["-h"],
    ];
    for args in cases {
        let ours = run(&mut as_user(&launcher(), args));
        let theirs = run(Command::new(IPUTILS).args(*args));
        assert_eq!(
            ours.status.code(),
            theirs.status.code(),
            "{args:?}: {}",
            describe(&ours)
        );
        let norm = |s: &str| mask(s);
        assert_eq!(
            norm(&text(&ours.stdout)),
            norm(&text(&theirs.stdout)),
            "{args:?}"
        );
        // The usage text is 20250605's; 20221126's differs in the case of
        // three words (the parity suite compares against 20250605 itself).
        let older = |s: String| {
            s.replace("use ip timestamp", "use IP timestamp")
                .replace("three-term ip timestamp", "three-term IP timestamp")
                .replace("dns name or ip address", "DNS name or IP address")
        };
        assert_eq!(
            norm(&text(&ours.stderr)),
            older(norm(&text(&theirs.stderr))),
            "{args:?}"
        );
    }
    // -V: our own version line, status 0.
    let v = run(&mut as_user(&launcher(), &["-V"]));
    assert_eq!(v.status.code(), Some(0));
    assert!(
        text(&v.stdout).starts_with("privsep-clockdiff "),
        "{}",
        describe(&v)
    );
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn names_resolve_before_lock_down_and_unknown_ones_fail_as_in_iputils() {
    // The pair's private hosts file names the peer; its resolver is
    // 127.0.0.1 inside the namespace, where nothing listens: no query
    // leaves the machine.
    let pair = Pair::new("n");
    let o = run(&mut pair.as_user(&launcher(), &["peer.test"]));
    assert_batch_line(&o);
    // On a terminal the line names the host as getaddrinfo's canonical name.
    let user = user();
    let ours = on_a_terminal(&format!(
        "ip netns exec {} setpriv --reuid={user} --regid={user} --clear-groups --inh-caps=-all {} peer.test",
        pair.0.a,
        launcher().display()
    ));
    let theirs = on_a_terminal(&format!("ip netns exec {} {IPUTILS} peer.test", pair.0.a));
    assert!(ours.contains("\r\nhost=peer.test rtt="), "{ours:?}");
    assert_eq!(mask(&ours), mask(&theirs));
    for args in [&["nosuch.test"][..], &["-o", "nosuch.test"]] {
        let ours = run(&mut pair.as_user(&launcher(), args));
        let theirs = run(&mut pair.as_root(IPUTILS, args));
        assert_eq!(ours.status.code(), Some(1), "{}", describe(&ours));
        assert_eq!(ours.status.code(), theirs.status.code());
        assert_eq!(
            mask(&text(&ours.stderr)),
            mask(&text(&theirs.stderr)),
            "{args:?}"
        );
    }
}
