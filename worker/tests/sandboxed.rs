//! The running worker of every tool is sandboxed: one check, run for each
//! tool of the descriptors (`policy::tools::ALL`), so that a new tool gets
//! it without a line here.
//!
//! Each tool is started through its staged launcher as the test user,
//! inside the first namespace of a veth pair (its peer 198.18.0.2 on
//! `veth0`), with its descriptor's hold arguments (`Facts::hold`: a run
//! that stays in its loop) and standard input left open. Once the worker
//! has locked itself down, it must hold `no_new_privs`, a seccomp filter,
//! no capability in any set, not the uid 0, and no descriptor beyond 0–2
//! but sockets (no file, directory or pipe from the launcher's side). So
//! must every process below it (the descriptor's broker, ping's resolver
//! co-process), except for the seccomp filter, which only the broker must
//! have: the resolver confines itself with Landlock and resource limits
//! instead.

#![forbid(unsafe_code)]

mod support;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use policy::tools::Tool;
use support::{launcher_of, worker_of, NetnsPair};

/// `/proc/PID/status`, once `pid` runs `exe` (if given) with
/// `no_new_privs` and, if `seccomp`, under its seccomp filter (without
/// asserting on time: the deadline only turns a hang into a failure).
fn locked_down(pid: u32, exe: Option<&Path>, seccomp: bool, what: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let running = exe.is_none_or(|exe| {
            std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|e| e == exe)
        });
        let locked = status.lines().any(|l| l == "NoNewPrivs:\t1")
            && (!seccomp || status.lines().any(|l| l == "Seccomp:\t2"));
        if running && locked {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "{what} (pid {pid}) never locked down:\n{status}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn field<'a>(status: &'a str, name: &str) -> &'a str {
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no {name} in\n{status}"))
        .trim()
}

/// The checks on one locked-down process of `tool`.
fn assert_sandboxed(tool: &Tool, pid: u32, status: &str, seccomp: bool, what: &str) {
    let t = tool.name;
    assert_eq!(field(status, "NoNewPrivs"), "1", "{t}: {what}");
    if seccomp {
        assert_eq!(field(status, "Seccomp"), "2", "{t}: {what}");
    }
    for cap in ["CapInh", "CapPrm", "CapEff", "CapAmb"] {
        assert_eq!(field(status, cap), "0000000000000000", "{t}: {what}: {cap}");
    }
    let uid = field(status, "Uid");
    assert!(
        !uid.split_whitespace().any(|u| u == "0"),
        "{t}: {what} runs with uid 0: {uid}"
    );
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).expect("fd list");
    for fd in fds {
        let fd = fd.unwrap();
        let n: u32 = fd.file_name().to_string_lossy().parse().unwrap();
        if n <= 2 {
            continue;
        }
        let target = std::fs::read_link(fd.path()).unwrap();
        assert!(
            target.to_string_lossy().starts_with("socket:["),
            "{t}: {what} holds fd {n} = {}: not a socket",
            target.display()
        );
    }
}

fn status_of(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status")
}

/// The pids of `pid`'s children.
fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|c| c.parse().ok())
        .collect()
}

fn stop(mut child: Child, what: &str) {
    let _ = child.kill();
    let _ = testkit::deadline::wait(&mut child, &what);
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn every_running_worker_and_its_helpers_are_sandboxed() {
    for tool in policy::tools::ALL {
        let pair = NetnsPair::new("sandboxed");
        let mut child = pair
            .as_user_in_a(&launcher_of(tool.name), tool.facts.hold)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        // Held open, never written: a tool reading requests waits on it.
        let stdin = child.stdin.take();
        // `ip netns exec` and setpriv exec in place: the child's pid
        // becomes the launcher's, then the worker's.
        let pid = child.id();
        let what = format!("the {} worker", tool.name);
        let status = locked_down(pid, Some(&worker_of(tool.name)), true, &what);
        assert_sandboxed(tool, pid, &status, true, &what);
        let helpers = children(pid);
        let broker = tool.broker.map(|b| {
            let path = support::stage().join(format!("libexec/privsep/{}", b.name));
            let pid = helpers
                .iter()
                .copied()
                .find(|h| std::fs::read_link(format!("/proc/{h}/exe")).is_ok_and(|e| e == path));
            (pid, path)
        });
        if let Some((found, path)) = &broker {
            assert!(
                found.is_some(),
                "{}: {} does not run below the worker",
                tool.name,
                path.display()
            );
        }
        for helper in helpers {
            let is_broker = broker.as_ref().is_some_and(|(p, _)| *p == Some(helper));
            let what = format!("{}'s process {helper} below the worker", tool.name);
            let status = locked_down(helper, None, is_broker, &what);
            assert_sandboxed(tool, helper, &status, is_broker, &what);
            assert_eq!(
                field(&status, "Uid"),
                field(&status_of(pid), "Uid"),
                "{}: {what} runs as the caller",
                tool.name
            );
        }
        drop(stdin);
        stop(child, &format!("the {} launcher", tool.name));
    }
}
