//! What the kernel reports about a running process through `/proc`, read as
//! root: its descriptors and what they point at, its credentials,
//! capabilities and dumpable state (`status`), its children, its
//! environment; and the raw sockets alive in the current network
//! namespace. The one reader of these files for every test crate.

#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::deadline::DEADLINE;

/// Descriptor number → link target (`socket:[123]`, `/dev/null`, `pipe:[9]`…).
pub fn fds(pid: i32) -> std::io::Result<BTreeMap<i32, String>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(format!("/proc/{pid}/fd"))? {
        let entry = entry?;
        let Some(n) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        // A descriptor can close between readdir and readlink.
        if let Ok(target) = std::fs::read_link(entry.path()) {
            out.insert(n, target.to_string_lossy().into_owned());
        }
    }
    Ok(out)
}

/// `/proc/PID/status` as name → value.
pub fn status(pid: i32) -> std::io::Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect())
}

/// Field `name` of a [`status`] (`CapEff`, `Seccomp`, `Uid`, …); a
/// missing one fails the test, showing the whole status.
pub fn field<'a>(status: &'a BTreeMap<String, String>, name: &str) -> &'a str {
    status
        .get(name)
        .unwrap_or_else(|| panic!("no {name} in /proc/PID/status: {status:?}"))
}

/// Waits until `pid` runs `exe` (when given) and its status satisfies
/// `ready`, and returns that status. Not a timing assertion: only past
/// testkit's [`DEADLINE`] does it fail, naming `what`.
pub fn wait_until(
    pid: i32,
    exe: Option<&Path>,
    what: &str,
    ready: impl Fn(&BTreeMap<String, String>) -> bool,
) -> BTreeMap<String, String> {
    let start = Instant::now();
    loop {
        let running = exe.is_none_or(|want| self::exe(pid).is_ok_and(|e| e == want));
        let st = status(pid).unwrap_or_default();
        if running && ready(&st) {
            return st;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "{what} (pid {pid}) never got there: {st:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// [`wait_until`] `pid` runs under its seccomp filter (`Seccomp: 2`, the
/// last step of a lock-down: its descriptors and limits are final by then).
pub fn wait_locked_down(pid: i32, exe: Option<&Path>, what: &str) -> BTreeMap<String, String> {
    wait_until(pid, exe, what, |st| {
        st.get("Seccomp").map(String::as_str) == Some("2")
    })
}

/// What every process of a tool but the launcher shows in its `status`:
/// `no_new_privs`, no capability in any set, and no uid 0 among its ids.
/// `what` names it in a failure.
pub fn assert_unprivileged(status: &BTreeMap<String, String>, what: &str) {
    assert_eq!(field(status, "NoNewPrivs"), "1", "{what}: {status:?}");
    for set in ["CapInh", "CapPrm", "CapEff", "CapAmb"] {
        assert_eq!(
            field(status, set),
            "0000000000000000",
            "{what}: {set}: {status:?}"
        );
    }
    let uid = field(status, "Uid");
    assert!(
        !uid.split_whitespace().any(|u| u == "0"),
        "{what} runs with uid 0: {uid}"
    );
}

/// [`assert_unprivileged`], and under a seccomp filter: what every
/// locked-down worker and broker shows.
pub fn assert_locked_down(status: &BTreeMap<String, String>, what: &str) {
    assert_unprivileged(status, what);
    assert_eq!(field(status, "Seccomp"), "2", "{what}: {status:?}");
}

/// Fails unless every descriptor of `pid` above 2 is a socket (no file,
/// directory or pipe).
pub fn assert_only_sockets_above_stdio(pid: i32, what: &str) {
    for (n, target) in fds(pid).expect("fd list") {
        assert!(
            n <= 2 || target.starts_with("socket:["),
            "{what} holds fd {n} = {target}: not a socket"
        );
    }
}

/// The first process at or below `root` (depth first) whose command name
/// (`/proc/PID/comm`, at most 15 bytes) is `comm`.
pub fn find_below(root: i32, comm: &str) -> Option<i32> {
    let mut pids = vec![root];
    while let Some(pid) = pids.pop() {
        let c = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if c.trim_end() == comm {
            return Some(pid);
        }
        pids.extend(children(pid).unwrap_or_default());
    }
    None
}

/// The pids of the process's children (those of each of its threads:
/// `/proc/PID/task/TID/children`).
pub fn children(pid: i32) -> std::io::Result<Vec<i32>> {
    let mut kids = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))?.flatten() {
        let list = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        kids.extend(
            list.split_whitespace()
                .filter_map(|c| c.parse::<i32>().ok()),
        );
    }
    Ok(kids)
}

/// The executable the process runs now.
pub fn exe(pid: i32) -> std::io::Result<PathBuf> {
    std::fs::read_link(format!("/proc/{pid}/exe"))
}

/// The process's environment, one `NAME=value` per entry.
pub fn environ(pid: i32) -> std::io::Result<Vec<String>> {
    let raw = std::fs::read(format!("/proc/{pid}/environ"))?;
    Ok(raw
        .split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect())
}

/// Whether any capability set in `status` is non-empty (`CapInh`, `CapPrm`,
/// `CapEff`, `CapAmb`; the bounding set is not a privilege by itself).
pub fn holds_capabilities(status: &BTreeMap<String, String>) -> bool {
    ["CapInh", "CapPrm", "CapEff", "CapAmb"].iter().any(|k| {
        status.get(*k).is_some_and(|v| {
            u64::from_str_radix(v, 16).is_ok_and(|n| n != 0) || u64::from_str_radix(v, 16).is_err()
        })
    })
}

/// Inodes of the raw sockets alive in this network namespace
/// (`/proc/net/raw` and `/proc/net/raw6`).
pub fn raw_socket_inodes() -> Vec<u64> {
    let mut inodes = Vec::new();
    for table in ["/proc/net/raw", "/proc/net/raw6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            // sl local rem st tx:rx tr:tm retr uid timeout inode ...
            if let Some(inode) = line.split_whitespace().nth(9).and_then(|s| s.parse().ok()) {
                inodes.push(inode);
            }
        }
    }
    inodes
}

/// The socket inode of an fd link target `socket:[N]`.
pub fn socket_inode(link: &str) -> Option<u64> {
    link.strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}
