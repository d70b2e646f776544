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

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use policy::tools::Tool;
use support::{launcher_of, worker_of, NetnsPair};
use testkit::procfs;

/// `/proc/PID/status`, name → value.
type Status = BTreeMap<String, String>;

/// `/proc/PID/status`, once `pid` runs `exe` (if given) with
/// `no_new_privs` and, if `seccomp`, under its seccomp filter.
fn locked_down(pid: i32, exe: Option<&Path>, seccomp: bool, what: &str) -> Status {
    procfs::wait_until(pid, exe, what, |st| {
        st.get("NoNewPrivs").map(String::as_str) == Some("1")
            && (!seccomp || st.get("Seccomp").map(String::as_str) == Some("2"))
    })
}

/// The checks on one locked-down process of `tool`.
fn assert_sandboxed(tool: &Tool, pid: i32, status: &Status, seccomp: bool, what: &str) {
    let what = format!("{}: {what}", tool.name);
    if seccomp {
        procfs::assert_locked_down(status, &what);
    } else {
        procfs::assert_unprivileged(status, &what);
    }
    procfs::assert_only_sockets_above_stdio(pid, &what);
}

/// The child of `worker` that runs the broker program `path`, once it
/// does: the broker's side of the launcher's fork yields the CPU before
/// its exec (launcher step 6), so right after the worker's lock-down it
/// may still be the launcher's image. `None` if none does within
/// testkit's deadline (minutes: not a timing assertion).
fn broker_below(worker: i32, path: &Path) -> Option<i32> {
    let start = Instant::now();
    loop {
        let found = procfs::children(worker)
            .unwrap_or_default()
            .into_iter()
            .find(|&h| procfs::exe(h).is_ok_and(|e| e == path));
        if found.is_some() || start.elapsed() > testkit::deadline::DEADLINE {
            return found;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
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
        let pid = child.id() as i32;
        let what = format!("the {} worker", tool.name);
        let status = locked_down(pid, Some(&worker_of(tool.name)), true, &what);
        assert_sandboxed(tool, pid, &status, true, &what);
        let broker = tool.broker.map(|b| {
            let path = support::stage().join(format!("libexec/privsep/{}", b.name));
            (broker_below(pid, &path), path)
        });
        let helpers = procfs::children(pid).unwrap_or_default();
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
                procfs::field(&status, "Uid"),
                procfs::field(&procfs::status(pid).expect("status"), "Uid"),
                "{}: {what} runs as the caller",
                tool.name
            );
        }
        drop(stdin);
        stop(child, &format!("the {} launcher", tool.name));
    }
}
