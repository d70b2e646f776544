//! The local unprivileged user against the installed, file-capability
//! launcher (threat model, attacker A): environment injection, hostile
//! process state at start (closed/extra fds, tiny rlimits, huge argv or
//! environment, SIGSTOP/SIGKILL at random points), stealing the raw socket
//! from a running worker, a hand-started worker with a forged handoff, and
//! an unsafe worker install. Every attack runs as the test user; root only
//! sets up and inspects (`/proc`).

#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use hostile::sys::{self, StartState};
use hostile::{assert_no_panic, launcher_in, stage, text, worker_in, User};
use testkit::procfs;

fn launcher() -> PathBuf {
    launcher_in(&stage())
}

fn worker() -> PathBuf {
    worker_in(&stage())
}

fn thief() -> PathBuf {
    hostile::public_copy(env!("CARGO_BIN_EXE_hostile-thief"))
}

fn forge() -> PathBuf {
    hostile::public_copy(env!("CARGO_BIN_EXE_hostile-forge"))
}

/// The launcher spawned directly as the user (no wrapper process), in `state`.
fn spawn_launcher(
    user: &User,
    args: &[&str],
    env: &[(&str, &str)],
    mut state: StartState,
) -> Child {
    state.user = Some((user.uid, user.gid));
    let mut cmd = Command::new(launcher());
    cmd.args(args)
        .env_clear()
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if !state.close_std {
        cmd.stdin(Stdio::null());
    }
    sys::set_start_state(&mut cmd, state);
    cmd.spawn().expect("spawn launcher")
}

/// Waits until `pid` runs the worker (it has exec'ed from the launcher),
/// locked down, with its handed-over socket at fd 3, and returns its
/// descriptors.
fn wait_for_worker(child: &mut Child) -> BTreeMap<i32, String> {
    let pid = child.id() as i32;
    let worker = std::fs::canonicalize(worker()).unwrap();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.stderr.take().map(|mut e| {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut e, &mut s).ok();
                s
            });
            panic!("worker exited ({status}) before it could be inspected; stderr: {out:?}");
        }
        // Locked down (seccomp filter on) means its signal handlers are in
        // place too: a SIGINT then ends it with its summary, as for a user.
        let locked =
            procfs::status(pid).is_ok_and(|s| s.get("Seccomp").map(String::as_str) == Some("2"));
        if locked && procfs::exe(pid).ok().as_deref() == Some(worker.as_path()) {
            if let Ok(fds) = procfs::fds(pid) {
                if fds.get(&3).is_some_and(|l| l.starts_with("socket:")) {
                    return fds;
                }
            }
        }
        // Generous: the machine is shared and may be very slow; this is a
        // wait for a state, not a timing assertion.
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "worker never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Interrupts a running ping the way a user would (Ctrl-C) and collects it.
fn interrupt(child: Child) -> Output {
    let _ = sys::kill(child.id() as i32, libc::SIGINT);
    let out = testkit::deadline::wait_with_output(child, &"privsep-ping, after SIGINT");
    assert_no_panic("worker", &text(&out.stderr));
    out
}

const LONG_PING: &[&str] = &["-n", "-c", "20", "-i", "0.5", "127.0.0.1"];

/// A shared object whose constructor writes a marker file named after the
/// process it was loaded into, built with gcc for this test.
fn evil_library(markers: &Path) -> PathBuf {
    let dir = hostile::scratch_dir();
    let src = dir.join("evil.c");
    let so = dir.join("evil.so");
    std::fs::write(
        &src,
        format!(
            "#include <stdio.h>\n#include <unistd.h>\n\
             __attribute__((constructor)) static void evil(void) {{\n\
               char path[512];\n\
               snprintf(path, sizeof path, \"{}/loaded-in-%d\", (int)getpid());\n\
               FILE *f = fopen(path, \"w\"); if (f) {{ fputs(\"pwned\\n\", f); fclose(f); }}\n\
             }}\n",
            markers.display()
        ),
    )
    .unwrap();
    let out = testkit::deadline::output(
        Command::new("gcc")
            .args(["-shared", "-fPIC", "-o"])
            .arg(&so)
            .arg(&src),
    );
    assert!(out.status.success(), "gcc: {}", text(&out.stderr));
    so
}

fn world_writable_dir(name: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = hostile::scratch_dir().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
    dir
}

#[test]
#[ignore = "needs root, the staged installs and the test user: make test-hostile"]
fn environment_injection_never_reaches_the_worker() {
    let user = User::from_env();
    let markers = world_writable_dir("markers");
    let so = evil_library(&markers);
    let so = so.to_str().unwrap();
    let dir = hostile::scratch_dir();
    let dir = dir.to_str().unwrap();

    // Control: the library works, as this user, when nothing filters it.
    let out = testkit::deadline::output(user.command("/bin/true").env("LD_PRELOAD", so));
    assert!(out.status.success());
    let loaded = std::fs::read_dir(&markers).unwrap().count();
    assert!(
        loaded > 0,
        "control failed: LD_PRELOAD of {so} wrote no marker"
    );
    for e in std::fs::read_dir(&markers).unwrap() {
        std::fs::remove_file(e.unwrap().path()).unwrap();
    }

    let hostile_env: &[(&str, &str)] = &[
        ("LD_PRELOAD", so),
        ("LD_LIBRARY_PATH", dir),
        ("LD_AUDIT", so),
        ("GCONV_PATH", dir),
        ("MALLOC_CHECK_", "3"),
        ("MALLOC_PERTURB_", "165"),
        ("MALLOC_ARENA_MAX", "1"),
        (
            "GLIBC_TUNABLES",
            "glibc.malloc.check=3:glibc.malloc.perturb=165",
        ),
        ("LOCPATH", dir),
        ("NLSPATH", "/tmp/%N"),
        ("LANG", "/tmp/evil-locale"),
        ("LC_ALL", "../../../tmp/evil"),
        ("LC_MESSAGES", "C\nINJECTED=1"),
        ("TZ", ":/etc/shadow"),
        ("TZDIR", dir),
        ("HOSTALIASES", "/etc/shadow"),
        ("RES_OPTIONS", "debug"),
        ("LISTEN_FDS", "9"),
        ("LISTEN_FDNAMES", "icmp4:icmp4"),
        ("PATH", dir),
        ("RUST_BACKTRACE", "full"),
        ("TERM", "xterm-hostile-canary"),
    ];
    let mut child = spawn_launcher(&user, LONG_PING, hostile_env, StartState::default());
    let _ = wait_for_worker(&mut child);
    let environ =
        procfs::environ(child.id() as i32).expect("read the worker's environment as root");
    let out = interrupt(child);

    // Not one of the injected variables arrived (checked against what we
    // sent, not against the allowlist, so that a bad allowlist fails here).
    // glibc's secure mode already strips the LD_* family, GCONV_PATH, LOCPATH,
    // NLSPATH, HOSTALIASES, RES_OPTIONS, TZDIR from the launcher itself; the
    // others (MALLOC_PERTURB_, locale paths, TZ files, LISTEN_*, PATH) only
    // the launcher's allowlist stops.
    for (name, value) in hostile_env.iter().filter(|(n, _)| *n != "TERM") {
        let entry = format!("{name}={value}");
        assert!(
            !environ.contains(&entry),
            "{entry:?} reached the worker; its whole environment: {environ:?}"
        );
    }
    // And nothing else arrived: of what we sent only TERM, then the
    // launcher's own handoff (a list written here, not the production
    // allowlist, so that a name added to the allowlist fails here).
    let mut names: Vec<&str> = environ
        .iter()
        .map(|e| e.split('=').next().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["LISTEN_FDNAMES", "LISTEN_FDS", "LISTEN_PID", "TERM"],
        "the worker's whole environment: {environ:?}"
    );
    // The allowlist does pass what it should (so the check above is not vacuous).
    assert!(
        environ.iter().any(|e| e == "TERM=xterm-hostile-canary"),
        "{environ:?}"
    );
    assert!(
        environ
            .iter()
            .any(|e| e == "LISTEN_FDS=2" || e == "LISTEN_FDS=1"),
        "{environ:?}"
    );
    let loaded: Vec<_> = std::fs::read_dir(&markers)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(loaded.is_empty(), "the injected library ran: {loaded:?}");
    let stdout = text(&out.stdout);
    hostile::grammar::parse_output(&stdout).unwrap_or_else(|e| panic!("{e}\n{stdout}"));
}

#[test]
#[ignore = "needs root, the staged installs and the test user: make test-hostile"]
fn closed_standard_fds_become_dev_null_never_the_socket() {
    let user = User::from_env();
    let state = StartState {
        close_std: true,
        ..Default::default()
    };
    let mut child = spawn_launcher(&user, LONG_PING, &[], state);
    let fds = wait_for_worker(&mut child);
    let out = interrupt(child);
    // glibc's secure-mode start-up fills a closed fd 0 with /dev/full and
    // 1-2 with /dev/null (the launcher's step 1 opens the same in a
    // non-secure exec): a device either way, never the socket.
    for fd in 0..=2 {
        let link = fds.get(&fd).map(String::as_str);
        assert!(
            matches!(link, Some("/dev/null" | "/dev/full")),
            "fd {fd}: {fds:?}"
        );
    }
    assert!(fds[&3].starts_with("socket:"), "{fds:?}");
    // Its output went to /dev/null: nothing reached our (closed) pipes.
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
}

#[test]
#[ignore = "needs root, the staged installs and the test user: make test-hostile"]
fn extra_fds_never_reach_the_worker() {
    let user = User::from_env();
    let secret = hostile::scratch_dir().join("secret");
    std::fs::write(&secret, "root's secret\n").unwrap();
    let file = std::fs::File::open(&secret).unwrap();
    let (pipe_r, pipe_w) = std::io::pipe().unwrap();
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    // Root's own raw socket, offered at fd 3 where the launcher puts its own.
    let raw = sys::raw_socket(libc::AF_INET, libc::IPPROTO_ICMP).unwrap();
    let offered: Vec<(i32, i32)> = vec![
        (raw.as_raw_fd(), 3),
        (file.as_raw_fd(), 4),
        (pipe_r.as_raw_fd(), 5),
        (udp.as_raw_fd(), 9),
        (pipe_w.as_raw_fd(), 200),
    ];
    let own_links: Vec<String> = offered
        .iter()
        .map(|(fd, _)| {
            std::fs::read_link(format!("/proc/self/fd/{fd}"))
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();

    let state = StartState {
        extra_fds: offered,
        ..Default::default()
    };
    let mut child = spawn_launcher(&user, LONG_PING, &[], state);
    let fds = wait_for_worker(&mut child);
    interrupt(child);
    for link in &own_links {
        assert!(
            !fds.values().any(|l| l == link),
            "{link} reached the worker: {fds:?}"
        );
    }
    assert!(
        fds.keys().all(|&fd| fd <= 4),
        "descriptors beyond the handoff: {fds:?}"
    );
}

#[test]
#[ignore = "needs root, the staged installs and the test user: make test-hostile"]
fn tiny_nofile_limit_is_a_clear_error_or_a_normal_run() {
    use std::os::unix::process::ExitStatusExt;
    let user = User::from_env();
    let mut seen = Vec::new();
    for close_std in [false, true] {
        for limit in 0..=6u64 {
            let state = StartState {
                nofile: Some(limit),
                close_std,
                ..Default::default()
            };
            let child = spawn_launcher(&user, &["-n", "-c", "1", "127.0.0.1"], &[], state);
            let out = testkit::deadline::wait_with_output(
                child,
                &format!("privsep-ping -n -c 1 127.0.0.1 with RLIMIT_NOFILE={limit}"),
            );
            let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
            let case = format!(
                "RLIMIT_NOFILE={limit} fds 0-2 {}: {}",
                if close_std { "closed" } else { "open" },
                out.status
            );
            assert_no_panic("launcher", &stderr);
            // Launcher and worker are static: no loader that could fail
            // (exit 127) is left, so that outcome is not accepted any more.
            match (out.status.code(), out.status.signal()) {
                // The launcher's own clear error: one line, or (no socket
                // at all) iputils' create_socket lines for ping, from the
                // worker (the datagram attempt's EMFILE is final: no raw).
                (Some(2), _) if !close_std => {
                    let lines: Vec<&str> = stderr.lines().collect();
                    let upstream = lines.len() >= 2
                        && (lines[0].ends_with(": socktype: SOCK_RAW")
                            || lines[0].ends_with(": socktype: SOCK_DGRAM"))
                        && lines[1].contains(": socket: ")
                        && lines[2..].iter().all(|l| {
                            l.ends_with(": => missing cap_net_raw+p capability or setuid?")
                        });
                    assert!(
                        lines.len() == 1 || (upstream && lines.len() <= 3),
                        "{case}: {stderr:?}"
                    )
                }
                (Some(2), _) => {}
                // glibc's start-up check for privileged (AT_SECURE) programs:
                // it cannot put /dev/null on the closed fds 0-2 and stops
                // the process with `hlt` before any of our code runs.
                (None, Some(libc::SIGSEGV)) if close_std && limit <= 2 => {}
                (Some(0), _) if !close_std => {
                    let (_, summary) = hostile::grammar::parse_output(&stdout)
                        .unwrap_or_else(|e| panic!("{case}: {e}"));
                    assert_eq!(
                        (summary.transmitted, summary.received),
                        (1, 1),
                        "{case}: {stdout}"
                    );
                }
                (Some(0), _) => {}
                // glibc puts a read-only /dev/null on the closed fd 1 of a
                // privileged program: the output cannot be written, which is
                // upstream's `write error`, exit 1 (on the read-only fd 2).
                (Some(1), _) if close_std => assert!(stdout.is_empty(), "{case}"),
                _ => panic!("{case}: unexpected outcome; stdout {stdout:?} stderr {stderr:?}"),
            }
            seen.push(case.clone());
        }
    }
    eprintln!("{}", seen.join("\n"));
    // Enough descriptors for the loader and both sockets: a normal run.
    assert!(seen.iter().any(|c| c.starts_with("RLIMIT_NOFILE=6 fds 0-2 open") && c.ends_with("exit status: 0")), "{seen:#?}");
}

/// Spawns the launcher as the user with `total` bytes of argv (in arguments
/// of at most 100 000 bytes) and an empty environment; `None` if our own
/// exec of the launcher is already too big.
fn launcher_with_argv(user: &User, total: usize) -> Option<Output> {
    let mut args = vec!["-c".to_string(), "1".to_string()];
    let mut left = total;
    while left > 0 {
        let n = left.min(100_000);
        args.push("x".repeat(n));
        left -= n;
    }
    let mut cmd = Command::new(launcher());
    cmd.args(&args).env_clear().stdin(Stdio::null());
    sys::set_start_state(
        &mut cmd,
        StartState {
            user: Some((user.uid, user.gid)),
            ..Default::default()
        },
    );
    match testkit::deadline::try_output(&mut cmd) {
        Ok(out) => Some(out),
        Err(e) if e.raw_os_error() == Some(libc::E2BIG) => None,
        Err(e) => panic!("spawn: {e}"),
    }
}

#[test]
#[ignore = "needs root, the staged installs and the test user: make test-hostile"]
fn huge_argv_at_the_exec_limit_is_a_clear_error() {
    let user = User::from_env();
    // The largest argv we can still exec the launcher with: the launcher's
    // own exec of the worker adds LISTEN_* and a longer path, so it is
    // the one that fails (E2BIG), and it must say so cleanly.
    let (mut lo, mut hi) = (0usize, 64 << 20);
    assert!(
        launcher_with_argv(&user, hi).is_none(),
        "64 MiB of argv accepted?"
    );
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if launcher_with_argv(&user, mid).is_some() {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let out = launcher_with_argv(&user, lo).expect("largest accepted argv");
    let stderr = text(&out.stderr);
    assert_no_panic("launcher", &stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
    assert!(
        stderr.contains("cannot execute worker") && stderr.contains("Argument list too long"),
        "{stderr}"
    );
}

#[test]
#[ignore = "needs root, the staged installs and the test user: make test-hostile"]
fn huge_environment_is_filtered_and_the_run_is_normal() {
    let user = User::from_env();
    let junk: Vec<(String, String)> = (0..2000)
        .map(|i| (format!("JUNK_{i}"), "y".repeat(500)))
        .chain([("LD_PRELOAD".into(), "z".repeat(100_000))])
        .collect();
    let env: Vec<(&str, &str)> = junk.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let child = spawn_launcher(
        &user,
        &["-n", "-c", "1", "127.0.0.1"],
        &env,
        StartState::default(),
    );
    let out = testkit::deadline::wait_with_output(
        child,
        &"privsep-ping -n -c 1 127.0.0.1 with a huge environment",
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_no_panic("worker", &stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    hostile::grammar::parse_output(&stdout).unwrap_or_else(|e| panic!("{e}"));
}

/// The thief, run as the user against `pid`: its output and exit code.
fn steal(user: &User, pid: i32) -> (Option<i32>, String) {
    let out = testkit::deadline::output(user.command(thief()).arg(pid.to_string()));
    (out.status.code(), text(&out.stdout) + &text(&out.stderr))
}

#[test]
#[ignore = "needs root, the staged installs and the test user: make test-hostile"]
fn the_socket_cannot_be_stolen_from_a_running_worker() {
    let user = User::from_env();

    // Control: the same attacks against a dumpable process of the user that
    // holds a socket do work, so a refusal below means something.
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut victim = Command::new("sleep");
    victim.arg("60").stdin(Stdio::null());
    sys::set_start_state(
        &mut victim,
        StartState {
            user: Some((user.uid, user.gid)),
            extra_fds: vec![(udp.as_raw_fd(), 3)],
            ..Default::default()
        },
    );
    let mut victim = victim.spawn().unwrap();
    let (code, report) = steal(&user, victim.id() as i32);
    victim.kill().unwrap();
    victim.wait().unwrap();
    assert_eq!(
        code,
        Some(1),
        "control: the thief should succeed against a dumpable process:\n{report}"
    );
    for attempt in [
        "ptrace-attach",
        "pidfd-getfd-3",
        "proc-fd-open-3",
        "process-vm-readv",
        "proc-mem",
    ] {
        assert!(
            report.contains(&format!("{attempt} SUCCEEDED")),
            "control: {attempt} did not work:\n{report}"
        );
    }

    // The first layer: the user cannot read the worker binary, so the kernel
    // marks the worker non-dumpable at exec, before any of its code runs.
    let read = testkit::deadline::output(user.command("head").args(["-c", "1"]).arg(worker()));
    assert!(
        !read.status.success() && text(&read.stderr).contains("Permission denied"),
        "the user can read the installed worker {}: {}",
        worker().display(),
        text(&read.stderr)
    );

    let mut child = spawn_launcher(&user, LONG_PING, &[], StartState::default());
    let _ = wait_for_worker(&mut child);
    let pid = child.id() as i32;
    let status = procfs::status(pid).unwrap();
    let (code, report) = steal(&user, pid);
    let still_running = child.try_wait().unwrap().is_none();
    interrupt(child);
    assert!(still_running, "the worker died under attack:\n{report}");
    assert!(
        !procfs::holds_capabilities(&status),
        "the worker holds capabilities: {status:?}"
    );
    assert_eq!(
        code,
        Some(0),
        "an attack on the worker succeeded:\n{report}"
    );
    for attempt in [
        "ptrace-attach",
        "pidfd-getfd",
        "proc-fd-list",
        "proc-fd-open",
        "process-vm-readv",
        "proc-mem",
    ] {
        assert!(
            report.contains(&format!("{attempt} refused")),
            "{attempt} not refused:\n{report}"
        );
    }
}

#[test]
#[ignore = "needs root, the staged installs and the test user: make test-hostile"]
fn a_hand_started_worker_refuses_a_forged_handoff_and_sends_nothing() {
    let user = User::from_env();
    let listener = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    tcp.set_nonblocking(true).unwrap();
    let udp_target = listener.local_addr().unwrap().to_string();
    let tcp_target = tcp.local_addr().unwrap().to_string();
    let file = hostile::scratch_dir().join("forged-target");

    for (kind, target) in [
        ("udp", udp_target.as_str()),
        ("wrong-pid", udp_target.as_str()),
        ("tcp", tcp_target.as_str()),
        ("unix", ""),
        ("file", file.to_str().unwrap()),
        ("pipe", ""),
        ("none", ""),
    ] {
        if kind == "file" {
            use std::os::unix::fs::PermissionsExt;
            std::fs::write(&file, "").unwrap();
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
        }
        let out = testkit::deadline::output(
            user.command(forge())
                .args([kind, target, "--"])
                .arg(worker())
                .args(["-n", "-c", "2", "-i", "0.2", "127.0.0.1"]),
        );
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert_no_panic("worker", &stderr);
        assert_eq!(out.status.code(), Some(2), "{kind}: {stdout}{stderr}");
        assert_eq!(
            stderr.lines().count(),
            1,
            "{kind}: one line expected: {stderr:?}"
        );
        assert!(
            stderr.contains("not started by privsep-ping") || stderr.contains("is not the"),
            "{kind}: {stderr}"
        );
        assert!(stdout.is_empty(), "{kind}: printed {stdout:?}");
        // Nothing was sent through the forged descriptor.
        let mut buf = [0u8; 2048];
        assert!(
            listener.recv(&mut buf).is_err(),
            "{kind}: a datagram reached the UDP listener"
        );
        if kind == "tcp" {
            let (mut conn, _) = tcp.accept().expect("forge connected");
            conn.set_nonblocking(false).unwrap();
            conn.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
            let n = std::io::Read::read(&mut conn, &mut buf).unwrap_or(0);
            assert_eq!(n, 0, "tcp: the worker wrote {n} bytes");
        }
        if kind == "file" {
            assert_eq!(
                std::fs::read(&file).unwrap(),
                b"",
                "file: the worker wrote to it"
            );
        }
    }
}

/// Tests that damage the hostile stage run one at a time.
static HOSTILE_STAGE: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn lock_hostile_stage() -> std::sync::MutexGuard<'static, ()> {
    HOSTILE_STAGE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `f` on the hostile stage's worker, checks that the launcher refuses
/// it, and restores it (root:root 0711).
fn with_damaged_worker(user: &User, what: &str, damage: impl FnOnce(&Path)) {
    let stage = hostile::hostile_stage();
    let worker = worker_in(&stage);
    damage(&worker);
    let out = testkit::deadline::output(user.command(launcher_in(&stage)).args([
        "-n",
        "-c",
        "1",
        "127.0.0.1",
    ]));
    restore(&worker);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{what}: {stderr}");
    assert!(
        // Named by argv[0] as invoked, as iputils names itself.
        stderr.starts_with(&format!(
            "{}: refusing to run worker",
            launcher_in(&stage).display()
        )),
        "{what}: {stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{what}: {stderr:?}");
}

fn restore(worker: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::os::unix::fs::chown(worker, Some(0), Some(0)).unwrap();
    std::fs::set_permissions(worker, std::fs::Permissions::from_mode(0o711)).unwrap();
}

#[test]
#[ignore = "needs root, the staged installs and the test user: make test-hostile"]
fn an_unsafe_worker_install_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let _one_at_a_time = lock_hostile_stage();
    let user = User::from_env();
    let stage = hostile::hostile_stage();
    restore(&worker_in(&stage));
    // Control: the intact hostile stage runs.
    let out = testkit::deadline::output(user.command(launcher_in(&stage)).args([
        "-n",
        "-c",
        "1",
        "127.0.0.1",
    ]));
    assert!(
        !text(&out.stderr).contains("refusing"),
        "intact stage refused: {}",
        text(&out.stderr)
    );

    let mode = |m: u32| {
        move |w: &Path| std::fs::set_permissions(w, std::fs::Permissions::from_mode(m)).unwrap()
    };
    with_damaged_worker(&user, "group-writable", mode(0o731));
    with_damaged_worker(&user, "world-writable", mode(0o713));
    with_damaged_worker(&user, "setuid", mode(0o4711));
    with_damaged_worker(&user, "setgid", mode(0o2711));
    let (uid, gid) = (user.uid, user.gid);
    with_damaged_worker(&user, "owned by the user", move |w| {
        std::os::unix::fs::chown(w, Some(uid), None).unwrap()
    });
    with_damaged_worker(
        &user,
        "owned by the user's group, group-writable",
        move |w| {
            std::os::unix::fs::chown(w, None, Some(gid)).unwrap();
            mode(0o771)(w);
        },
    );
}

/// The process state letter from `/proc/PID/stat` (`R`, `S`, `T`, `Z`…).
fn proc_state(pid: i32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

/// What `pid` runs now: "launcher", "worker", the wrapper's name, or "exited".
fn phase(pid: i32) -> String {
    let launcher = std::fs::canonicalize(launcher()).unwrap();
    let worker = std::fs::canonicalize(worker()).unwrap();
    match procfs::exe(pid) {
        Ok(p) if p == launcher => "launcher".into(),
        Ok(p) if p == worker => "worker".into(),
        Ok(p) => p
            .file_name()
            .map_or("?".into(), |n| n.to_string_lossy().into_owned()),
        Err(_) => "exited".into(),
    }
}

#[test]
#[ignore = "needs root, the staged installs and the test user: make test-hostile"]
fn sigstop_and_sigkill_at_random_points_leave_nothing_behind() {
    let user = User::from_env();
    // A namespace of our own, so that /proc/net/raw lists only our sockets.
    let ns = testkit::netns::Netns::new("stopkill").expect("create network namespace");
    let raw_sockets_in_ns = || {
        let out =
            testkit::deadline::output(ns.command("cat").args(["/proc/net/raw", "/proc/net/raw6"]));
        text(&out.stdout)
            .lines()
            .filter(|l| !l.trim_start().starts_with("sl"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert!(raw_sockets_in_ns().is_empty());
    let ns_fd =
        std::fs::File::open(format!("/run/netns/{}", ns.name())).expect("open the namespace");
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut rng = hostile::icmp::XorShift::new(seed);
    let mut phases: BTreeMap<String, usize> = BTreeMap::new();
    for round in 0..30 {
        // Spawned directly (std returns once the exec of the launcher
        // succeeded), entering our namespace between fork and exec.
        let mut cmd = Command::new(launcher());
        cmd.args(["-n", "-c", "3", "-i", "0.2", "127.0.0.1"])
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let state = StartState {
            user: Some((user.uid, user.gid)),
            netns: Some(ns_fd.as_raw_fd()),
            ..Default::default()
        };
        sys::set_start_state(&mut cmd, state);
        let mut child = cmd.spawn().unwrap();
        let pid = child.id() as i32;
        // Mostly early (the launcher's few hundred microseconds), sometimes late.
        let delay = if round % 3 == 0 {
            rng.next_u64() % 300_000
        } else {
            rng.next_u64() % 1_500
        };
        std::thread::sleep(Duration::from_micros(delay));
        let _ = sys::kill(pid, libc::SIGSTOP);
        while !matches!(proc_state(pid), Some('T' | 'Z' | 'X') | None) {
            std::thread::sleep(Duration::from_millis(1));
        }
        let at = phase(pid);
        if at == "launcher" || at == "worker" {
            // Stopped with the raw socket (and, in the launcher, maybe
            // CAP_NET_RAW): the same user still cannot take either.
            let (code, report) = steal(&user, pid);
            assert_eq!(
                code,
                Some(0),
                "stopped in the {at} (round {round}, {delay} µs): an attack succeeded:\n{report}"
            );
        }
        let _ = sys::kill(pid, libc::SIGKILL);
        child.wait().unwrap();
        let left = raw_sockets_in_ns();
        assert!(
            left.is_empty(),
            "raw sockets left after SIGKILL in the {at} (round {round}): {left:?}"
        );
        *phases.entry(at).or_default() += 1;
    }
    eprintln!("stopped in: {phases:?} (seed {seed})");
    assert!(
        phases.contains_key("worker"),
        "never stopped a running worker: {phases:?} (seed {seed})"
    );
}

#[test]
#[ignore = "needs root, the staged installs and the test user: make test-hostile"]
fn a_worker_directory_writable_by_the_user_is_refused() {
    // If the user can write the worker's directory, they can replace the
    // worker with any root-owned, non-writable program (a symlink to
    // /bin/sleep will do) and receive the raw sockets in it: the launcher
    // must check the directories on the way to the worker, not only the file.
    let _one_at_a_time = lock_hostile_stage();
    let user = User::from_env();
    let stage = hostile::hostile_stage();
    let worker = worker_in(&stage);
    let dir = worker.parent().unwrap().to_path_buf();
    let backup = hostile::scratch_dir().join("dir-test-worker");
    std::fs::copy(&worker, &backup).unwrap();
    std::os::unix::fs::chown(&dir, Some(user.uid), None).unwrap();
    let swap = testkit::deadline::output(
        user.command("sh")
            .args(["-c", "rm -f \"$1\" && ln -s /bin/sleep \"$1\"", "sh"])
            .arg(&worker),
    );
    let mut child = if swap.status.success() {
        Some(
            user.command(launcher_in(&stage))
                .arg("30")
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        )
    } else {
        None
    };
    // What did the user get? Look while it runs, then clean up before asserting.
    let mut got = None;
    if let Some(c) = child.as_mut() {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) && c.try_wait().unwrap().is_none() {
            let pid = c.id() as i32;
            if procfs::exe(pid).is_ok_and(|e| e.ends_with("sleep")) {
                got = procfs::fds(pid).ok();
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    let out = child.map(|mut c| {
        let _ = c.kill();
        c.wait_with_output().unwrap()
    });
    let _ = std::fs::remove_file(&worker);
    testkit::copy::copy_program(&backup, &worker).unwrap();
    restore(&worker);
    std::os::unix::fs::chown(&dir, Some(0), Some(0)).unwrap();

    assert!(swap.status.success(), "setup: {}", text(&swap.stderr));
    assert!(
        got.is_none(),
        "the launcher exec'ed the user's replacement worker (/bin/sleep) with its descriptors {got:?}"
    );
    let out = out.unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        // Named by argv[0] as invoked, as iputils names itself.
        stderr.starts_with(&format!(
            "{}: refusing to run worker",
            launcher_in(&stage).display()
        )),
        "{stderr}"
    );
}

#[test]
#[ignore = "needs root, the staged installs and the test user: make test-hostile"]
fn racing_the_launcher_for_its_socket_never_wins() {
    // The attacker starts the launcher itself and hammers pidfd_getfd on its
    // fds 3 and 4 from the first instant to the exec of the worker; with a
    // huge environment, step 5 (filtering it, after the drop) takes
    // milliseconds, so the window after the drop is wide open.
    let user = User::from_env();
    let race = hostile::public_copy(env!("CARGO_BIN_EXE_hostile-race"));
    for (tries, nvars) in [("200", "0"), ("20", "60000")] {
        let out =
            testkit::deadline::output(user.command(&race).arg(launcher()).args([tries, nvars]));
        let report = text(&out.stdout) + &text(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{nvars} junk variables: the race was won:\n{report}"
        );
        assert!(report.contains(&format!("stolen 0 of {tries}")), "{report}");
    }
}

#[test]
#[ignore = "needs root, the staged installs and the test user: make test-hostile"]
fn a_bad_argument_is_one_line_of_printable_text() {
    // argv goes to the worker untouched; an argument carrying a newline or an
    // escape sequence must not forge a second line or drive the terminal.
    let user = User::from_env();
    for arg in [
        "-l\n",
        "-c\u{1b}[2J7",
        "-i\r0.5",
        "-W\n64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.1 ms",
    ] {
        let out = testkit::deadline::output(user.command(launcher()).args([arg, "127.0.0.1"]));
        let stderr = text(&out.stderr);
        assert_no_panic("worker", &stderr);
        // upstream's statuses: 1 for a malformed number (-l, -c), 2 for
        // the other bad values (-i, -W).
        let want = if arg.starts_with("-l") || arg.starts_with("-c") {
            1
        } else {
            2
        };
        assert_eq!(out.status.code(), Some(want), "{arg:?}: {stderr:?}");
        let line = stderr.strip_suffix('\n').unwrap_or(&stderr);
        assert!(
            !line.is_empty() && !line.chars().any(char::is_control),
            "{arg:?}: {stderr:?}"
        );
    }
}
