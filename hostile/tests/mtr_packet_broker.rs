//! The compromised mtr-packet worker against its broker (threat model,
//! attacker C): the staged launcher starts `hostile-mtr-broker` as
//! mtr-packet's worker, with its raw sockets and its channel to the real
//! `privsep-mtr-packet-broker`, and the forger, locked down with the
//! worker's own profile, asks the broker for sockets mtr-packet's purpose
//! does not need. Every such request is refused before a socket exists:
//! values a user may send come back with the kernel's errno, and messages
//! no correct worker sends end the broker, which then answers nothing. The
//! honest probe in the same run shows the path works (a listener on
//! 127.0.0.1 accepts it, from the forger's local port); no other
//! connection ever reaches the listener.

#![forbid(unsafe_code)]

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Output;

use hostile::{assert_no_panic, text, User};

fn launcher() -> PathBuf {
    hostile::hostile_stage().join("bin/privsep-mtr-packet")
}

fn worker() -> PathBuf {
    hostile::hostile_stage().join("libexec/privsep/mtr-packet-worker")
}

/// The forger installed as the hostile stage's mtr-packet worker; the
/// real one back on drop.
struct ForgerInstalled {
    backup: PathBuf,
}

impl ForgerInstalled {
    fn new() -> Self {
        let backup = hostile::scratch_dir().join("real-mtr-packet-worker");
        std::fs::copy(worker(), &backup).expect("back up the worker");
        install(env!("CARGO_BIN_EXE_hostile-mtr-broker").as_ref());
        ForgerInstalled { backup }
    }
}

fn install(from: &std::path::Path) {
    let tmp = worker().with_extension("swap");
    testkit::copy::copy_program(from, &tmp).unwrap();
    std::os::unix::fs::chown(&tmp, Some(0), Some(0)).unwrap();
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o711)).unwrap();
    std::fs::rename(&tmp, worker()).unwrap();
}

impl Drop for ForgerInstalled {
    fn drop(&mut self) {
        install(&self.backup);
    }
}

fn report(out: &Output) -> String {
    text(&out.stdout) + &text(&out.stderr)
}

/// The peers' ports of every connection waiting on `listener`.
fn accepted(listener: &TcpListener) -> Vec<u16> {
    let mut ports = Vec::new();
    while let Ok((_, from)) = listener.accept() {
        ports.push(from.port());
    }
    ports
}

#[test]
#[ignore = "needs root, the staged installs and the test user: make test-hostile"]
fn a_compromised_mtr_packet_worker_gets_no_socket_beyond_a_probe() {
    let user = User::from_env();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let _installed = ForgerInstalled::new();
    let run = |case: &str| {
        let out = testkit::deadline::output(user.command(launcher()).args(["attack", case, &port]));
        assert_no_panic("forger", &text(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "{case}: {}", report(&out));
        let r = report(&out);
        assert!(
            r.contains("locked\n"),
            "{case}: the forger did not lock down:\n{r}"
        );
        r
    };

    // Values a user may ask for: the kernel's errno, no socket.
    let r = run("values");
    let (eperm, einval) = (libc::EPERM, libc::EINVAL);
    let (unreach, notavail) = (libc::ENETUNREACH, libc::EADDRNOTAVAIL);
    for line in [
        format!("mark answered {eperm}"),
        format!("ttl-zero answered {einval}"),
        format!("hops-256 answered {einval}"),
        format!("tclass-256 answered {einval}"),
        format!("multicast answered {unreach}"),
        format!("broadcast answered {unreach}"),
        format!("multicast-src answered {notavail}"),
        "honest answered 0".to_string(),
        "honest done 0".to_string(),
    ] {
        assert!(r.contains(&format!("{line}\n")), "{line}:\n{r}");
    }
    // The honest probe reached the listener from the forger's port (the
    // mark and TTL requests named the same target: had the broker opened
    // them, they would be here too).
    let local: u16 = r
        .lines()
        .find_map(|l| l.strip_prefix("local "))
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no local port:\n{r}"));
    assert_eq!(accepted(&listener), [local], "{r}");

    // Messages no correct worker sends: the broker ends, answering none,
    // and nothing reaches the listener (low-port names it as target).
    for case in [
        "udp",
        "raw",
        "family",
        "low-port",
        "mapped",
        "short",
        "long",
        "unknown-op",
    ] {
        let r = run(case);
        assert!(r.contains(&format!("{case} closed\n")), "{case}:\n{r}");
        assert!(
            r.contains("after closed\n"),
            "{case}: the broker went on:\n{r}"
        );
        assert_eq!(accepted(&listener), Vec::<u16>::new(), "{case}:\n{r}");
    }
}
