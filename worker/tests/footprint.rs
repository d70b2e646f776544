//! Every tool's seccomp allowlists against its footprint: what its staged,
//! locked-down processes really call across representative runs
//! (`footprint/runs.rs`), recorded with strace and kept in
//! `policy/footprints/<tool>.syscalls` (the worker) and
//! `policy/footprints/<tool>-broker.syscalls` (the locked-down process next
//! to it, where there is one: arping's and mtr-packet's brokers).
//!
//! - [`allowlists_match_the_recorded_footprints`] (plain `cargo test`): for
//!   every tool of the descriptors, a footprint file is missing, an entry
//!   of a profile's own marked `observed: true` is not in its footprint, an
//!   entry of the shared runtime base marked so is in none of them, or a
//!   call of a footprint is not in its profile: it fails. (The base is
//!   every process's, but not every process takes every path of it: a
//!   broker prints nothing, for one.)
//! - [`staged_processes_stay_within_their_footprints`] (`make test`):
//!   records the runs again and fails on any call a kept file does not
//!   list, and on any call a kept file lists that no run made (a stale
//!   footprint hides an allowlist entry nothing uses any more).
//!   Re-record with `PRIVSEP_RECORD_FOOTPRINT=1 PRIVSEP_STAGE=…
//!   PRIVSEP_TEST_USER=… cargo test -p worker --test footprint --
//!   --ignored` (as root, after `make stage`;
//!   `PRIVSEP_FOOTPRINT_TOOLS=arping,…` limits it to some tools).

#![forbid(unsafe_code)]

#[path = "footprint/runs.rs"]
mod runs;
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use policy::sandbox::profile::{self, Profile};
use policy::tools::Tool;
use support::{launcher_of, text, user};
use testkit::procfs;

/// The two kinds of locked-down process a tool runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Role {
    Worker,
    Broker,
}

impl Role {
    fn file(self, tool: &Tool) -> PathBuf {
        let name = match self {
            Role::Worker => format!("{}.syscalls", tool.name),
            Role::Broker => format!("{}-broker.syscalls", tool.name),
        };
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../policy/footprints")
            .join(name)
    }

    fn profile(self, tool: &Tool, plan: &runs::Plan) -> Option<&'static Profile> {
        match self {
            Role::Worker => Some(tool.sandbox),
            Role::Broker => plan.broker,
        }
    }
}

/// The system call names of a kept footprint (comments and blank lines
/// skipped), or `None` when there is no file.
fn kept(role: Role, tool: &Tool) -> Option<BTreeSet<String>> {
    let text = std::fs::read_to_string(role.file(tool)).ok()?;
    Some(
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_string)
            .collect(),
    )
}

fn plan(tool: &Tool) -> runs::Plan {
    runs::plan(tool).unwrap_or_else(|| {
        panic!(
            "{}: no footprint runs in worker/tests/footprint/runs.rs",
            tool.name
        )
    })
}

#[test]
fn allowlists_match_the_recorded_footprints() {
    let mut everywhere: BTreeSet<String> = BTreeSet::new();
    for tool in policy::tools::ALL {
        let plan = plan(tool);
        for role in [Role::Worker, Role::Broker] {
            let Some(profile) = role.profile(tool, &plan) else {
                assert!(
                    !role.file(tool).exists(),
                    "{}: a {role:?} footprint for no {role:?}",
                    tool.name
                );
                continue;
            };
            let footprint = kept(role, tool).unwrap_or_else(|| {
                panic!(
                    "{}: no {} (record it: see worker/tests/footprint.rs)",
                    tool.name,
                    role.file(tool).display()
                )
            });
            let rules: Vec<_> = profile.rules().collect();
            for r in profile.seccomp.iter().filter(|r| r.observed) {
                assert!(
                    footprint.contains(r.name),
                    "{} {role:?}: {} is marked observed but the footprint lacks it: drop the \
                     entry, mark it observed: false with a reason, or re-record",
                    tool.name,
                    r.name
                );
            }
            for call in &footprint {
                assert!(
                    rules.iter().any(|r| r.name == call),
                    "{} {role:?}: the footprint has {call}, which the allowlist lacks",
                    tool.name
                );
            }
            everywhere.extend(footprint);
        }
    }
    for r in profile::BASE.iter().filter(|r| r.observed) {
        assert!(
            everywhere.contains(r.name),
            "the base's {} is marked observed but no footprint has it",
            r.name
        );
    }
}

/// The calls each locked-down process of one trace made after it
/// installed its seccomp filter, by role: the process that exec'd the
/// worker, and any other (one that exec'd the broker, or that the worker
/// forked and that locked itself down).
fn after_lockdown(trace: &str, tool: &Tool) -> BTreeMap<Role, BTreeSet<String>> {
    // pid -> its parent, from the fork-like calls' return values.
    let mut parent: BTreeMap<&str, &str> = BTreeMap::new();
    for line in trace.lines() {
        let Some((pid, rest)) = line.split_once(char::is_whitespace) else {
            continue;
        };
        let rest = rest.trim_start();
        let forks = [
            "clone(",
            "clone3(",
            "fork(",
            "vfork(",
            "<... clone",
            "<... fork",
            "<... vfork",
        ]
        .iter()
        .any(|p| rest.starts_with(p));
        if let (true, Some((_, ret))) = (forks, rest.rsplit_once(") = ")) {
            if let Some(child) = ret
                .split_whitespace()
                .next()
                .filter(|c| c.parse::<u32>().is_ok())
            {
                parent.insert(child, pid);
            }
        }
    }
    let mut exec_of: BTreeMap<&str, String> = BTreeMap::new();
    let mut pending: BTreeMap<&str, String> = BTreeMap::new();
    let mut locked: BTreeSet<&str> = BTreeSet::new();
    let mut calls: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for line in trace.lines() {
        let Some((pid, rest)) = line.split_once(char::is_whitespace) else {
            continue;
        };
        let rest = rest.trim_start();
        // execve("PATH", ...) = 0, possibly split as unfinished/resumed.
        if let Some(path) = rest
            .strip_prefix("execve(\"")
            .and_then(|r| r.split('"').next())
        {
            pending.insert(pid, path.to_string());
        }
        if (rest.starts_with("execve(") || rest.starts_with("<... execve resumed>"))
            && rest.ends_with(" = 0")
        {
            if let Some(path) = pending.remove(pid) {
                exec_of.insert(pid, path);
            }
        }
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
                calls.entry(pid).or_default().insert(name.to_string());
            }
        } else if rest.starts_with("seccomp(SECCOMP_SET_MODE_FILTER")
            || rest.starts_with("prctl(PR_SET_SECCOMP")
        {
            locked.insert(pid);
            calls.entry(pid).or_default();
        }
    }
    assert!(
        !locked.is_empty(),
        "no process installed a seccomp filter:\n{trace}"
    );
    let mut by_role: BTreeMap<Role, BTreeSet<String>> = BTreeMap::new();
    for (pid, set) in calls {
        // Its own program, else (a forked process) its parent's.
        let mut p = pid;
        let program = loop {
            if let Some(path) = exec_of.get(p) {
                break Some((path.as_str(), p == pid));
            }
            match parent.get(p) {
                Some(up) => p = up,
                None => break None,
            }
        };
        let role = match program {
            // The staged path, not the descriptor's (baked for another layout).
            Some((path, true)) if path.ends_with(&format!("/privsep/{}", tool.worker_name)) => {
                Role::Worker
            }
            _ => Role::Broker,
        };
        by_role.entry(role).or_default().extend(set);
    }
    by_role
}

/// The process below `root` that runs `exe` and has locked itself down
/// (`no_new_privs` and its seccomp filter), once there is one. Only this
/// run's processes are searched: the test user may run the same tool for
/// other tests at the same time. `None` when none did before the
/// deadline (which only turns a hang into a failure: nothing here asserts
/// on time).
fn locked_down_below(root: u32, exe: &std::path::Path) -> Option<u32> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let children = |pid| procfs::children(pid).unwrap_or_default();
    loop {
        let mut stack = children(root as i32);
        while let Some(pid) = stack.pop() {
            let runs = procfs::exe(pid).is_ok_and(|e| e == exe);
            let status = procfs::status(pid).unwrap_or_default();
            let locked = status.get("NoNewPrivs").map(String::as_str) == Some("1")
                && status.get("Seccomp").map(String::as_str) == Some("2");
            if runs && locked {
                return Some(pid as u32);
            }
            stack.extend(children(pid));
        }
        if std::time::Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One traced run of `tool`'s staged launcher.
fn traced(tool: &Tool, run: &runs::Run) -> BTreeMap<Role, BTreeSet<String>> {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("trace");
    let mut cmd = Command::new("unshare");
    cmd.args(["-n", "-m", "--", "sh", "-ec"])
        .arg(format!(
            "mount --make-rprivate /; ip link set lo up; {}; \
             L=\"$0\"; U=\"$1\"; shift; strace -f -qq -o \"$L\" -u \"$U\" \"$@\" > \"$L.out\" 2>&1 || true",
            run.setup
        ))
        .arg(&log)
        .arg(user())
        .arg(launcher_of(tool.name))
        .args(&run.args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(run.stdin.as_bytes());
    }
    // Each delay counts from the worker's lock-down, and from the signal
    // before: its handlers run under the seccomp filter, as they do in use.
    if !run.signals.is_empty() {
        let worker = support::stage().join(format!("libexec/privsep/{}", tool.worker_name));
        let Some(pid) = locked_down_below(child.id(), &worker) else {
            let _ = child.kill();
            let _ = testkit::deadline::wait(&mut child, &"the traced run");
            panic!(
                "{}: {:?}: the worker never ran locked down: {}",
                tool.name,
                run.args,
                std::fs::read_to_string(dir.path().join("trace.out")).unwrap_or_default()
            );
        };
        for (delay, sig) in run.signals {
            std::thread::sleep(Duration::from_millis(*delay));
            let _ =
                testkit::deadline::status(Command::new("kill").args(["-s", sig, &pid.to_string()]));
        }
    }
    let what = format!("strace of the {} launcher {:?}", tool.name, run.args);
    let out = testkit::deadline::wait_with_output(child, &what);
    let trace = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(!trace.is_empty(), "{what}: no trace: {}", text(&out.stderr));
    let calls = after_lockdown(&trace, tool);
    // A run that ends before the worker's lock-down (a refused argument,
    // say) traces nothing of the sandboxed worker: it must not pass for one.
    assert!(
        calls.contains_key(&Role::Worker),
        "{what}: the worker never locked down: {}{}",
        text(&out.stderr),
        std::fs::read_to_string(dir.path().join("trace.out")).unwrap_or_default()
    );
    calls
}

fn header(tool: &Tool, role: Role) -> String {
    let who = match role {
        Role::Worker => format!("privsep-{} worker", tool.name),
        Role::Broker => format!(
            "process next to the privsep-{} worker (its broker)",
            tool.name
        ),
    };
    format!(
        "# What the staged, locked-down {who} calls (strace, after its\n\
         # seccomp filter is installed) across the runs of worker/tests/footprint/runs.rs.\n\
         # Re-record (as root, after `make stage`):\n\
         #   PRIVSEP_RECORD_FOOTPRINT=1 PRIVSEP_STAGE=<stage> PRIVSEP_TEST_USER=<user> \\\n\
         #     cargo test -p worker --test footprint -- --ignored\n"
    )
}

#[test]
#[ignore = "needs the staged install, the test user and strace: run `make test`"]
fn staged_processes_stay_within_their_footprints() {
    // Run by name inside the traced shell: it must be there (without it
    // every trace would be empty and `|| true` would hide why).
    testkit::need::command("strace", "scripts/install-deps.sh test");
    let only = std::env::var("PRIVSEP_FOOTPRINT_TOOLS").unwrap_or_default();
    let record = std::env::var_os("PRIVSEP_RECORD_FOOTPRINT").is_some();
    for tool in policy::tools::ALL {
        if !only.is_empty() && !only.split(',').any(|t| t == tool.name) {
            continue;
        }
        let plan = plan(tool);
        let mut recorded: BTreeMap<Role, BTreeSet<String>> = BTreeMap::new();
        for run in &plan.runs {
            for (role, calls) in traced(tool, run) {
                recorded.entry(role).or_default().extend(calls);
            }
        }
        for role in [Role::Worker, Role::Broker] {
            let calls = recorded.remove(&role).unwrap_or_default();
            let expected = role.profile(tool, &plan).is_some();
            assert_eq!(
                !calls.is_empty(),
                expected,
                "{}: a locked-down {role:?} {} (calls: {calls:?})",
                tool.name,
                if expected {
                    "never ran"
                } else {
                    "ran, which its plan does not name"
                }
            );
            if !expected {
                continue;
            }
            if record {
                let mut body = header(tool, role);
                for c in &calls {
                    body.push_str(c);
                    body.push('\n');
                }
                std::fs::write(role.file(tool), body).unwrap();
                continue;
            }
            let footprint = kept(role, tool).unwrap_or_default();
            let extra: Vec<&String> = calls.difference(&footprint).collect();
            assert!(
                extra.is_empty(),
                "the staged {} {role:?} called {extra:?}, which {} lacks: review, add to the \
                 allowlist with a reason, re-record",
                tool.name,
                role.file(tool).display()
            );
            // And a kept call that no run makes any more is stale: it would
            // keep an allowlist entry marked observed that nothing uses.
            let stale: Vec<&String> = footprint.difference(&calls).collect();
            assert!(
                stale.is_empty(),
                "no run of the staged {} {role:?} called {stale:?}, which {} lists: re-record, \
                 then drop the allowlist entries no footprint needs",
                tool.name,
                role.file(tool).display()
            );
        }
    }
}
