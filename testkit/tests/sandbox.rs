//! The worker's sandbox profile, applied for real. Seccomp, Landlock,
//! rlimits and capability drops cannot be undone, so every case runs in a child
//! process: the `sandbox_probe` example (also bin `privsep-sandbox-probe`), which opens
//! raw ICMP sockets as root, drops to `nobody` like the launcher, calls
//! `policy::sandbox::lock_down` and then performs one action. Each test
//! asserts the exact way the child ends. Needs root (raw sockets): ignored
//! by a plain `cargo test`, run by `make test-rust` (docs/testing.md).

#![forbid(unsafe_code)]

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};

use testkit::procfs;

/// The examples, as the bins cargo builds (fresh) for this test.
fn example(name: &str) -> PathBuf {
    PathBuf::from(match name {
        "sandbox_probe" => env!("CARGO_BIN_EXE_privsep-sandbox-probe"),
        "malicious" => env!("CARGO_BIN_EXE_privsep-sandbox-malicious"),
        _ => panic!("no example {name}"),
    })
}

struct Outcome {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl std::fmt::Debug for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:?}\n--- stdout\n{}--- stderr\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

fn run(name: &str, args: &[&str], stdout: Stdio) -> Outcome {
    // Raw sockets, and the drop to `nobody`.
    testkit::need::root();
    let out = Command::new(example(name))
        .args(args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .expect("spawn example");
    Outcome {
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn probe(action: &str) -> Outcome {
    run("sandbox_probe", &[action], Stdio::piped())
}

/// The probe under another tool's descriptor (its sockets and profile).
fn probe_as(action: &str, tool: &str) -> Outcome {
    run("sandbox_probe", &[action, tool], Stdio::piped())
}

/// The child got through `lock_down` with every layer in place, then reached
/// the action.
fn assert_locked(o: &Outcome, action: &str) {
    assert!(
        !o.stdout.contains("namespaces"),
        "the worker enters no namespace: {o:?}"
    );
    assert!(
        o.stdout.contains("landlock: fully enforced")
            || o.stdout.contains("landlock: partially enforced"),
        "{o:?}"
    );
    assert!(o.stdout.contains("seccomp: allowlist of"), "{o:?}");
    assert!(
        o.stdout.contains(&format!("locked\nattempt {action}\n")),
        "{o:?}"
    );
}

/// The system calls the probe made after announcing `attempt <action>`, and
/// how it ended, from a second run under `strace -f` (root may trace; the
/// tracer does not change what seccomp does).
fn traced_after_attempt_as(action: &str, tool: &str) -> (Vec<String>, String) {
    let log = tempfile::NamedTempFile::new().expect("temp file for the strace log");
    let log = log.path();
    testkit::need::root();
    Command::new(testkit::need::command(
        "strace",
        "scripts/install-deps.sh test",
    ))
    .args(["-f", "-qq", "-o"])
    .arg(log)
    .arg(example("sandbox_probe"))
    .args([action, tool])
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .status()
    .expect("strace (scripts/install-deps.sh test installs it)");
    let text = std::fs::read_to_string(log).expect("strace log");
    let marker = format!("write(1, \"attempt {action}\\n\"");
    let (_, after) = text
        .split_once(&marker)
        .unwrap_or_else(|| panic!("no attempt in\n{text}"));
    let calls = after
        .lines()
        .skip(1)
        .filter_map(|l| {
            let call = l.split_once(char::is_whitespace)?.1.trim_start();
            let name = call.split_once('(')?.0;
            let plain = name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            plain.then(|| name.to_string())
        })
        .collect();
    let end = text.lines().last().unwrap_or_default().to_string();
    (calls, end)
}

/// The action's own system call was the child's last: seccomp killed the
/// process right there, not at some helper call before it.
fn assert_killed_by_seccomp(action: &str, syscall: &str) {
    assert_killed_by_seccomp_as(action, "ping", syscall)
}

fn assert_killed_by_seccomp_as(action: &str, tool: &str, syscall: &str) {
    let o = probe_as(action, tool);
    assert_locked(&o, action);
    assert_eq!(
        o.status.signal(),
        Some(libc::SIGSYS),
        "{action}: expected SIGSYS: {o:?}"
    );
    assert!(!o.stdout.contains("returned:"), "{action} came back: {o:?}");
    let (calls, end) = traced_after_attempt_as(action, tool);
    assert_eq!(
        calls,
        [syscall],
        "{action}: system calls after the attempt began"
    );
    assert!(end.contains("killed by SIGSYS"), "{action}: {end}");
}

#[test]
#[ignore = "needs root: make test-rust"]
fn setpriority_is_killed_in_every_profile() {
    // clockdiff's worker inherits nice -16: it may neither raise it back
    // nor lower it further; no other worker may touch its priority either.
    for tool in policy::tools::ALL {
        assert_killed_by_seccomp_as("setpriority", tool.name, "setpriority");
    }
}

#[test]
#[ignore = "needs root: make test-rust"]
fn raw_socket_is_killed() {
    assert_killed_by_seccomp("socket-raw", "socket");
}

#[test]
#[ignore = "needs root: make test-rust"]
fn udp_socket_is_killed() {
    assert_killed_by_seccomp("socket-udp", "socket");
}

#[test]
#[ignore = "needs root: make test-rust"]
fn execve_is_killed() {
    assert_killed_by_seccomp("execve", "execve");
}

#[test]
#[ignore = "needs root: make test-rust"]
fn openat_is_killed() {
    assert_killed_by_seccomp("openat", "openat");
}

#[test]
#[ignore = "needs root: make test-rust"]
fn connect_on_the_raw_socket_is_killed() {
    assert_killed_by_seccomp("connect", "connect");
}

#[test]
#[ignore = "needs root: make test-rust"]
fn bind_on_the_raw_socket_is_killed() {
    assert_killed_by_seccomp("bind", "bind");
}

#[test]
#[ignore = "needs root: make test-rust"]
fn ptrace_is_killed() {
    assert_killed_by_seccomp("ptrace", "ptrace");
}

#[test]
#[ignore = "needs root: make test-rust"]
fn ip_hdrincl_is_killed() {
    assert_killed_by_seccomp("hdrincl", "setsockopt");
}

#[test]
#[ignore = "needs root: make test-rust"]
fn unshare_is_killed() {
    assert_killed_by_seccomp("unshare", "unshare");
}

#[test]
#[ignore = "needs root: make test-rust"]
fn mount_is_killed() {
    assert_killed_by_seccomp("mount", "mount");
}

#[test]
#[ignore = "needs root: make test-rust"]
fn kill_of_another_process_is_killed() {
    assert_killed_by_seccomp("kill-parent", "kill");
}

#[test]
#[ignore = "needs root: make test-rust"]
fn tgkill_of_another_process_is_killed() {
    // tgkill is allowed at the worker's own pid only (abort()).
    assert_killed_by_seccomp("tgkill-parent", "tgkill");
}

#[test]
#[ignore = "needs root: make test-rust"]
fn regaining_dumpable_is_killed() {
    assert_killed_by_seccomp("dumpable", "prctl");
}

#[test]
#[ignore = "needs root: make test-rust"]
fn fork_is_killed() {
    assert_killed_by_seccomp("fork", "clone");
}

#[test]
#[ignore = "needs root: make test-rust"]
fn executable_mapping_is_killed() {
    assert_killed_by_seccomp("mmap-exec", "mmap");
}

#[test]
#[ignore = "needs root: make test-rust"]
fn write_to_the_socket_is_killed() {
    assert_killed_by_seccomp("write-socket", "write");
}

#[test]
#[ignore = "needs root: make test-rust"]
fn malicious_example_dies_of_sigsys() {
    let o = run("malicious", &[], Stdio::piped());
    assert!(o.stdout.contains("locked down; now trying socket"), "{o:?}");
    assert!(!o.stdout.contains("did not stop it"), "{o:?}");
    assert_eq!(o.status.signal(), Some(libc::SIGSYS), "{o:?}");
}

#[test]
#[ignore = "needs root: make test-rust"]
fn inherited_raw_sockets_still_ping_loopback_from_the_new_netns() {
    let o = probe("ping");
    assert_locked(&o, "ping");
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(
        o.stdout.contains("echo reply from 127.0.0.1 seq=1\n"),
        "{o:?}"
    );
    // IPv6 is part of the test unless this machine has none at all.
    if !o.stdout.contains("no icmp6 socket") {
        assert!(o.stdout.contains("echo reply from ::1 seq=2\n"), "{o:?}");
    }
    assert!(o.stdout.contains("returned: pinged"), "{o:?}");
}

#[test]
#[ignore = "needs root: make test-rust"]
fn normal_exit_survives_the_filter() {
    let o = probe("exit");
    assert_locked(&o, "exit");
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(o.stdout.contains("returned: exiting"), "{o:?}");
    assert!(
        o.stdout.contains(" fsize=0 "),
        "stdout is a pipe, so FSIZE must be 0: {o:?}"
    );
}

#[test]
#[ignore = "needs root: make test-rust"]
fn abort_still_raises_sigabrt() {
    // A panic under panic=abort must look like one, not like a sandbox kill.
    let o = probe("abort");
    assert_locked(&o, "abort");
    assert_eq!(o.status.signal(), Some(libc::SIGABRT), "{o:?}");
}

#[test]
#[ignore = "needs root: make test-rust"]
fn output_to_a_regular_file_keeps_working() {
    let out = tempfile::NamedTempFile::new().expect("temp file");
    let file = out.reopen().expect("reopen the temp file");
    let o = run("sandbox_probe", &["exit"], Stdio::from(file));
    let text = std::fs::read_to_string(out.path()).expect("read back");
    assert_eq!(o.status.code(), Some(0), "{o:?}\n{text}");
    assert!(
        text.contains("fsize unchanged (output is a regular file)"),
        "{text}"
    );
    assert!(text.contains("returned: exiting"), "{text}");
}

#[test]
#[ignore = "needs root: make test-rust"]
fn rlimit_nproc_stops_fork() {
    let o = probe("nproc");
    assert!(
        o.stdout
            .contains("getrlimit nproc=Ok((0, 0)) fsize=Ok((0, 0))"),
        "{o:?}"
    );
    assert!(
        o.stdout.contains("attempt fork\nreturned: errno 11 "),
        "fork must fail with EAGAIN: {o:?}"
    );
    assert_eq!(o.status.code(), Some(0), "{o:?}");
}

#[test]
#[ignore = "needs root: make test-rust"]
fn landlock_alone_denies_files() {
    let o = probe("landlock-open");
    assert!(
        o.stdout.contains("landlock: fully enforced")
            || o.stdout.contains("landlock: partially enforced"),
        "{o:?}"
    );
    assert!(
        o.stdout.contains("returned: errno 13 "),
        "open must fail with EACCES: {o:?}"
    );
    assert_eq!(o.status.code(), Some(0), "{o:?}");
}

#[test]
#[ignore = "needs root: make test-rust"]
fn landlock_alone_denies_tcp_connect() {
    let o = probe("landlock-tcp");
    assert!(
        o.stdout.contains("landlock: fully enforced")
            || o.stdout.contains("landlock: partially enforced"),
        "{o:?}"
    );
    // Without Landlock this would be ECONNREFUSED (111).
    assert!(
        o.stdout.contains("returned: errno 13 "),
        "connect must fail with EACCES: {o:?}"
    );
    assert_eq!(o.status.code(), Some(0), "{o:?}");
}

#[test]
#[ignore = "needs root: make test-rust"]
fn proc_shows_the_locked_down_state() {
    testkit::need::root();
    let mut child = Command::new(example("sandbox_probe"))
        .arg("hold")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        // Not inherited: the harness's stderr may be a file, and then FSIZE
        // is (rightly) left alone.
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn probe");
    let pid = child.id();
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut seen = String::new();
    for line in out.by_ref().lines() {
        let line = line.expect("read probe output");
        seen.push_str(&line);
        seen.push('\n');
        if line == "holding" {
            break;
        }
    }
    assert!(
        seen.ends_with("attempt hold\nholding\n"),
        "probe did not reach hold:\n{seen}"
    );
    // The strays it opened before its lock-down (9, 63, 64, 200): the two
    // below 64 found and reported, all four closed (the fd check below).
    let closed = seen
        .lines()
        .find_map(|l| l.strip_prefix("closed stray fds: "))
        .unwrap_or_else(|| panic!("no stray reported:\n{seen}"));
    for stray in ["9", "63"] {
        assert!(
            closed
                .trim_matches(['[', ']'])
                .split(", ")
                .any(|fd| fd == stray),
            "fd {stray} not among the closed: {closed}"
        );
    }

    let status = procfs::status(pid as i32).expect("status");
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).expect("limits");
    let held = procfs::fds(pid as i32).expect("fd dir");
    let fds: Vec<i32> = held.keys().copied().collect();
    // What each descriptor is, read while the probe holds them: the sockets
    // need not sit at 3, 4 (a descriptor the harness's other threads had
    // open without close-on-exec at spawn time pushes them up, and the
    // lock-down closes it), but nothing besides stdio and sockets may stay.
    let kinds: Vec<&String> = held.values().collect();
    let own_net = std::fs::read_link("/proc/self/ns/net").expect("own netns");
    let its_net = std::fs::read_link(format!("/proc/{pid}/ns/net")).expect("its netns");
    let own_user = std::fs::read_link("/proc/self/ns/user").expect("own userns");
    let its_user = std::fs::read_link(format!("/proc/{pid}/ns/user")).expect("its userns");

    drop(child.stdin.take()); // releases the probe
    let mut rest = String::new();
    out.read_to_string(&mut rest).expect("rest of output");
    let exit = child.wait().expect("wait");

    // The probe runs as nobody: not uid 0 either.
    procfs::assert_locked_down(&status, "the probe");
    let sockets = if seen.contains("no icmp6 socket") {
        1
    } else {
        2
    };
    assert_eq!(
        fds.len(),
        3 + sockets,
        "only stdio and the sockets: {fds:?} {kinds:?}"
    );
    assert_eq!(&fds[..3], &[0, 1, 2], "stdio: {fds:?} {kinds:?}");
    for (fd, kind) in fds.iter().zip(&kinds).skip(3) {
        assert!(
            kind.starts_with("socket:["),
            "fd {fd} is not a socket: {kind} ({fds:?} {kinds:?})"
        );
    }
    let limit = |name: &str| -> Vec<String> {
        let line = limits
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name}\n{limits}"));
        line[name.len()..]
            .split_whitespace()
            .take(2)
            .map(str::to_string)
            .collect()
    };
    // Exactly one above the highest socket (lockdown.rs, tighten_nofile).
    let nofile = (fds.last().expect("stdio") + 1).to_string();
    assert_eq!(
        limit("Max open files"),
        [nofile.clone(), nofile],
        "{limits}"
    );
    assert_eq!(limit("Max processes"), ["0", "0"], "{limits}");
    assert_eq!(limit("Max file size"), ["0", "0"], "{limits}");
    assert_eq!(limit("Max core file size"), ["0", "0"], "{limits}");
    // No namespaces (the design contract says why): the locked-down
    // worker shares ours.
    assert_eq!(
        own_net, its_net,
        "the probe must not unshare its network namespace"
    );
    assert_eq!(
        own_user, its_user,
        "the probe must not unshare its user namespace"
    );
    assert!(rest.contains("returned: released"), "{rest}");
    assert_eq!(exit.code(), Some(0), "{exit:?}");
}
