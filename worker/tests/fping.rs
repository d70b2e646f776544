//! The staged privsep-fping, run as the unprivileged test user: what its
//! running worker holds (nothing) and how it is locked down, SIGINT in loop
//! mode, and a thousand targets in one run next to Debian's fping. Only
//! loopback addresses (127.0.0.0/8, ::1): nothing leaves the machine. The
//! option-by-option comparison is the parity suite (`make
//! test-parity-fping`).
//!
//! They need root, the staged install and the test user, so a plain `cargo
//! test` skips them; `make test` runs them.

#![forbid(unsafe_code)]

mod support;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use support::{as_user, launcher_of, run, text};
use testkit::procfs;

const DEBIAN: &str = "/usr/bin/fping";

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn the_running_worker_holds_nothing_and_is_locked_down() {
    let mut child = as_user(&launcher_of("fping"), &["-l", "-p", "100", "127.0.0.1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // setpriv and the launcher exec: the child's pid is the worker's. Its
    // first reply line says the scheduler runs, so the sandbox is on.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(
        first.starts_with("127.0.0.1 : [0], 64 bytes, "),
        "{first:?}"
    );
    let pid = child.id();
    let status = procfs::status(pid as i32).unwrap();
    assert_eq!(procfs::field(&status, "Name"), "fping-worker");
    procfs::assert_locked_down(&status, "the fping worker");
    let fds = procfs::fds(pid as i32).unwrap();
    assert_eq!(fds.len(), 5, "fds 0-2 and the two ICMP sockets: {fds:?}");
    // SIGINT ends loop mode with the per-target summary, as fping's.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("127.0.0.1 : xmt/rcv/%loss = ")
                && l.contains("/0%, min/avg/max = ")),
        "{stderr}"
    );
}

/// `-a -q` over a generated block: the alive targets, sorted.
fn alive(program: &std::path::Path) -> (Option<i32>, Vec<String>) {
    let out = run(&mut as_user(
        program,
        &[
            "-a",
            "-q",
            "-i",
            "1",
            "-r",
            "1",
            "-t",
            "2000",
            "-g",
            "127.0.8.0/22",
        ],
    ));
    let mut lines: Vec<String> = text(&out.stdout).lines().map(str::to_string).collect();
    lines.sort();
    (out.status.code(), lines)
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn a_thousand_targets_alive_as_debians_fping_finds_them() {
    let (status, ours) = alive(&launcher_of("fping"));
    let (want_status, theirs) = alive(std::path::Path::new(DEBIAN));
    assert_eq!(
        ours.len(),
        1022,
        "every address of the /22 but network and broadcast"
    );
    assert_eq!(ours, theirs);
    assert_eq!((status, want_status), (Some(0), Some(0)));
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn targets_on_stdin_as_zabbix_hands_them_over() {
    // Zabbix: `fping -C<n> -p<ms> -b<bytes> -t<ms> -i<ms> 2>&1 <targets-file`.
    let run_with = |program: &std::path::Path| {
        let mut child = as_user(program, &["-C2", "-p50", "-b64", "-t500", "-i10"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(
            child.stdin.as_mut().unwrap(),
            b"127.0.0.1\n::1\n# a comment\n127.0.0.2\n",
        )
        .unwrap();
        drop(child.stdin.take());
        let out = child.wait_with_output().unwrap();
        let stderr = text(&out.stderr);
        // The per-target results: "host : t1 t2", times aside.
        let shape: Vec<String> = stderr
            .lines()
            .filter(|l| l.contains(" : "))
            .map(|l| {
                let (host, times) = l.split_once(" : ").unwrap();
                let n = times
                    .split(' ')
                    .filter(|t| t.parse::<f64>().is_ok())
                    .count();
                format!("{host} : {n} times")
            })
            .collect();
        let replies = text(&out.stdout)
            .lines()
            .filter(|l| l.contains(", 72 bytes, "))
            .count();
        (out.status.code(), shape, replies)
    };
    let ours = run_with(&launcher_of("fping"));
    assert_eq!(ours, run_with(std::path::Path::new(DEBIAN)));
    assert_eq!(ours.0, Some(0));
    assert_eq!(
        ours.1,
        [
            "127.0.0.1 : 2 times",
            "::1       : 2 times",
            "127.0.0.2 : 2 times"
        ]
    );
    assert_eq!(ours.2, 6, "six reply lines of 72 bytes (-b 64)");
}
