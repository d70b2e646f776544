//! The compromised worker (threat model, attacker C), end to end: the
//! suite's own stage gets `hostile-probe` installed *as its worker*, so the
//! real file-capability launcher starts it exactly as it starts the worker
//! (test user, privileges dropped, `no_new_privs`, raw sockets at 3 and 4).
//! The probe takes the handoff and applies the worker's exact sandbox
//! profile (`policy::sandbox::lock_down`), then makes one forbidden system
//! call per process. The expected end of each comes from the profile's own
//! data (`policy::sandbox::ALLOWED`): a call that is not on the allowlist
//! kills the process with SIGSYS. A control run of each attempt without
//! the sandbox shows it is the profile, not the kernel's ordinary checks,
//! that stops it.
//!
//! `testkit/tests/sandbox.rs` runs the same profile from a root-started probe
//! (dropping to `nobody` itself); this suite adds the path through the real
//! launcher and the attempts that list does not cover (`open`, `openat2`,
//! `execveat`, `socketpair`, `sendmsg`, `pidfd_getfd`, `setuid`,
//! `ioctl(TIOCSTI)`, `io_uring_setup`, `memfd_create`, x32 system calls, a
//! `kill`/`ptrace` of another process of the *same* user).

#![forbid(unsafe_code)]

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use hostile::sys::{self, StartState};
use hostile::{launcher_in, launcher_of, text, worker_of, User};
use policy::tools::{Tool, FPING, PING};
use testkit::netns::Netns;

/// The tools whose compromised worker the suite plays: ping, and fping,
/// which gets ping's sockets with a profile of its own.
const TOOLS: [&Tool; 2] = [&PING, &FPING];

/// Each attempt and the system call it makes first (the one the profile judges).
const ATTEMPTS: &[(&str, libc::c_long)] = &[
    ("socket-raw", libc::SYS_socket),
    ("socket-udp", libc::SYS_socket),
    ("socketpair", libc::SYS_socketpair),
    ("execve", libc::SYS_execve),
    ("execveat", libc::SYS_execveat),
    ("open", libc::SYS_open),
    ("openat", libc::SYS_openat),
    ("openat2", libc::SYS_openat2),
    ("connect", libc::SYS_connect),
    ("bind", libc::SYS_bind),
    ("sendmsg", libc::SYS_sendmsg),
    ("hdrincl", libc::SYS_setsockopt),
    ("ptrace", libc::SYS_ptrace),
    ("pidfd-getfd", libc::SYS_pidfd_open),
    ("unshare", libc::SYS_unshare),
    ("mount", libc::SYS_mount),
    ("kill", libc::SYS_kill),
    ("dumpable", libc::SYS_prctl),
    ("setuid", libc::SYS_setuid),
    ("ioctl-tiocsti", libc::SYS_ioctl),
    ("io-uring", libc::SYS_io_uring_setup),
    ("memfd", libc::SYS_memfd_create),
    ("x32-write", 0x4000_0000 | libc::SYS_write),
];

/// Installs the probe as the hostile stage's worker; puts the real one back on drop.
struct ProbeInstalled {
    worker: PathBuf,
    backup: PathBuf,
}

/// Both tests swap the same stage's worker: one at a time.
static STAGE: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl ProbeInstalled {
    fn new() -> Self {
        Self::as_worker_of(&PING)
    }

    fn as_worker_of(tool: &Tool) -> Self {
        let worker = worker_of(&hostile::hostile_stage(), tool);
        let backup = hostile::scratch_dir().join(format!("real-{}", tool.worker_name));
        std::fs::copy(&worker, &backup).expect("back up the worker");
        let tmp = worker.with_extension("probe");
        testkit::copy::copy_program(env!("CARGO_BIN_EXE_hostile-probe"), &tmp).unwrap();
        std::os::unix::fs::chown(&tmp, Some(0), Some(0)).unwrap();
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o711)).unwrap();
        std::fs::rename(&tmp, &worker).unwrap();
        ProbeInstalled { worker, backup }
    }
}

impl Drop for ProbeInstalled {
    fn drop(&mut self) {
        let tmp = self.worker.with_extension("restore");
        if testkit::copy::copy_program(&self.backup, &tmp).is_ok() {
            let _ = std::os::unix::fs::chown(&tmp, Some(0), Some(0));
            let _ = std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o711));
            let _ = std::fs::rename(&tmp, &self.worker);
        }
    }
}

/// Another process of the same user, for `kill`, `ptrace` and `pidfd_getfd`.
fn victim(user: &User) -> Child {
    let mut cmd = Command::new("sleep");
    cmd.arg("300").stdin(Stdio::null());
    sys::set_start_state(
        &mut cmd,
        StartState {
            user: Some((user.uid, user.gid)),
            ..Default::default()
        },
    );
    cmd.spawn().expect("spawn victim")
}

struct Run {
    status: std::process::ExitStatus,
    stdout: String,
    stderr: String,
}

fn through_launcher(user: &User, action: &str, victim: u32, sandbox: bool) -> Run {
    through_launcher_of(&PING, user, action, victim, sandbox)
}

fn through_launcher_of(tool: &Tool, user: &User, action: &str, victim: u32, sandbox: bool) -> Run {
    let mut cmd = user.command(launcher_of(&hostile::hostile_stage(), tool));
    cmd.args([action, &victim.to_string()]);
    if !sandbox {
        cmd.arg("--no-sandbox");
    }
    let out = testkit::deadline::output(&mut cmd);
    Run {
        status: out.status,
        stdout: text(&out.stdout),
        stderr: text(&out.stderr),
    }
}

#[test]
#[ignore = "needs root, the staged installs and the test user: make test-hostile"]
fn every_forbidden_call_of_a_compromised_worker_ends_as_the_profile_says() {
    for tool in TOOLS {
        forbidden_calls_end_as_the_profile_says(tool);
    }
}

fn forbidden_calls_end_as_the_profile_says(tool: &Tool) {
    let user = User::from_env();
    let _one_at_a_time = STAGE.lock().unwrap_or_else(|e| e.into_inner());
    let _probe = ProbeInstalled::as_worker_of(tool);
    let mut victim = victim(&user);
    let mut outcomes = Vec::new();

    for &(action, nr) in ATTEMPTS {
        let allowed = tool.sandbox.rules().any(|r| r.nr == nr);
        assert!(
            !allowed,
            "{action}: the profile allows syscall {nr}: this list needs an expectation for it"
        );
        let run = through_launcher_of(tool, &user, action, victim.id(), true);
        let what = format!(
            "{}: {action}: {:?}\n--- stdout\n{}--- stderr\n{}",
            tool.name, run.status, run.stdout, run.stderr
        );
        assert!(run.stdout.contains("\nlocked\n"), "not locked down: {what}");
        assert!(run.stdout.contains("seccomp: "), "{what}");
        assert!(
            run.stdout.ends_with(&format!("attempt {action}\n")),
            "the call returned: {what}"
        );
        assert_eq!(run.status.signal(), Some(libc::SIGSYS), "{what}");
        outcomes.push(format!("{}: {action}: killed by SIGSYS", tool.name));
    }
    // The victim survived the kill and ptrace attempts, untouched.
    assert!(
        victim.try_wait().unwrap().is_none(),
        "the victim was killed"
    );
    let state = testkit::procfs::status(victim.id() as i32).unwrap();
    assert_eq!(
        state.get("TracerPid").map(String::as_str),
        Some("0"),
        "{state:?}"
    );
    victim.kill().unwrap();
    victim.wait().unwrap();
    eprintln!("{}", outcomes.join("\n"));
}

#[test]
#[ignore = "needs root, the staged installs and the test user: make test-hostile"]
fn without_the_sandbox_the_same_calls_reach_the_kernel() {
    // The control for the test above: same launcher, same user, same calls,
    // no lock_down. None dies of SIGSYS, so SIGSYS above is the profile's.
    let user = User::from_env();
    let _one_at_a_time = STAGE.lock().unwrap_or_else(|e| e.into_inner());
    let _probe = ProbeInstalled::new();
    let mut victim = victim(&user);
    let mut outcomes = Vec::new();
    for &(action, _) in ATTEMPTS {
        if action == "kill" {
            continue; // last, below: it kills the victim
        }
        let run = through_launcher(&user, action, victim.id(), false);
        let what = format!(
            "{action}: {:?}\n--- stdout\n{}--- stderr\n{}",
            run.status, run.stdout, run.stderr
        );
        assert_ne!(run.status.signal(), Some(libc::SIGSYS), "{what}");
        assert!(!run.stdout.contains("locked"), "{what}");
        let came_back = run
            .stdout
            .lines()
            .find(|l| l.starts_with("returned: "))
            .unwrap_or("(exec'ed)");
        assert!(
            came_back.starts_with("returned: ") || action.starts_with("exec"),
            "{what}"
        );
        outcomes.push(format!("{action} without sandbox: {came_back}"));
    }
    // The same-user kill works without the sandbox: the victim dies.
    let run = through_launcher(&user, "kill", victim.id(), false);
    assert!(run.stdout.contains("returned: Ok(0)"), "{}", run.stdout);
    let status =
        testkit::deadline::wait(&mut victim, &"the victim, which the probe killed").unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    eprintln!("{}", outcomes.join("\n"));
}

#[test]
#[ignore = "needs root, the staged installs and the test user: make test-hostile"]
fn a_datagram_socket_sends_neither_a_redirect_nor_a_timestamp_request() {
    // The same compromised worker in two namespaces: where ping_group_range
    // admits the user the launcher hands over ICMP datagram sockets, and
    // the kernel refuses every ICMP message but an echo request (EINVAL);
    // where it does not, raw sockets, which send both (the control).
    let user = User::from_env();
    let _one_at_a_time = STAGE.lock().unwrap_or_else(|e| e.into_inner());
    let _probe = ProbeInstalled::new();
    for (range, socket, refused) in [
        ("0 2147483647", "SOCK_DGRAM", true),
        ("1 0", "SOCK_RAW", false),
    ] {
        let ns = Netns::new("dgram").expect("network namespace");
        let set = testkit::deadline::status(ns.command("sysctl").args([
            "-q",
            "-w",
            &format!("net.ipv4.ping_group_range={range}"),
        ]));
        assert!(set.success());
        for action in ["send-redirect", "send-timestamp"] {
            let out = testkit::deadline::output(
                user.command_in(&ns, launcher_in(&hostile::hostile_stage()))
                    .args([action, "1"]),
            );
            let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
            let what = format!("{range} {action}: {:?}\n{stdout}{stderr}", out.status);
            assert!(stdout.contains(&format!("socket {socket}\n")), "{what}");
            assert!(stdout.contains("\nlocked\n"), "{what}");
            let returned = stdout
                .lines()
                .find_map(|l| l.strip_prefix("returned: "))
                .unwrap_or_else(|| panic!("the call did not return: {what}"));
            if refused {
                assert!(returned.starts_with("Err(Os { code: 22,"), "{what}");
            } else {
                assert!(returned.starts_with("Ok("), "{what}");
            }
        }
    }
}
