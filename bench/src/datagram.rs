//! The datagram mode: both tools without any capability, pinging over ICMP
//! datagram sockets, as on systems that install ping without one. Copies of
//! privsep's launcher and of iputils' ping without their file capabilities
//! (a copy does not carry the `security.capability` xattr) run in a network
//! namespace of the harness's own whose `net.ipv4.ping_group_range` admits
//! every group: the harness enters it last, after every other measurement,
//! so that nothing of this machine's own namespace changes.

#![forbid(unsafe_code)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::measure;
use crate::report::{obj, string, Json, JsonExt};
use crate::run::{self, As, Tool};
use crate::sys;

/// Which socket each tool used, from its `-v` line (`socktype: SOCK_DGRAM`).
fn socket_types(tools: &[Tool; 2], who: As) -> Json {
    let mut o = obj();
    for t in tools {
        let cmd = run::command(&t.path, &["-v", "-c", "1", "127.0.0.1"]);
        let seen = match run::run(cmd, who, true, Duration::from_secs(10)) {
            Ok(out) if out.stderr.contains("(socktype: SOCK_DGRAM)") => string("SOCK_DGRAM"),
            Ok(out) => string(format!("not datagram: {}", out.failure())),
            Err(e) => string(format!("cannot run: {e}")),
        };
        o.push(t.name, seen);
    }
    o
}

/// Start-up (`-c 1 127.0.0.1` as the user) and a flood (`-f -c COUNT
/// 127.0.0.1` as root) of both tools in datagram mode. Ends with this
/// process in its own network namespace.
pub fn measure(
    launcher: &Path,
    iputils: &Path,
    startup_runs: usize,
    flood_count: usize,
    flood_runs: usize,
    user: As,
) -> Result<Json, String> {
    let dir = tempfile::Builder::new()
        .prefix("privsep-bench-dgram-")
        .tempdir_in("/tmp")
        .map_err(|e| format!("temporary directory: {e}"))?;
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("{}: {e}", dir.path().display()))?;
    let copy = |from: &Path, name: &str| -> Result<std::path::PathBuf, String> {
        let to = dir.path().join(name);
        fs::copy(from, &to).map_err(|e| format!("copy {}: {e}", from.display()))?;
        fs::set_permissions(&to, fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("{}: {e}", to.display()))?;
        Ok(to)
    };
    // Both named `ping` on their own directories would hide which is which
    // in a failure; the program name is not part of what is measured.
    let tools = [
        Tool {
            name: "privsep",
            path: copy(launcher, "privsep-ping")?,
        },
        Tool {
            name: "iputils",
            path: copy(iputils, "ping")?,
        },
    ];

    sys::enter_new_netns().map_err(|e| format!("unshare(CLONE_NEWNET): {e}"))?;
    let lo = Command::new("ip")
        .args(["link", "set", "lo", "up"])
        .status()
        .map_err(|e| format!("ip link set lo up: {e}"))?;
    if !lo.success() {
        return Err("ip link set lo up failed".into());
    }
    fs::write("/proc/sys/net/ipv4/ping_group_range", "0 2147483647")
        .map_err(|e| format!("ping_group_range: {e}"))?;

    let mut o = obj();
    o.push("socket_types", socket_types(&tools, user));
    let pair = |v: Vec<Json>| {
        let mut p = obj();
        for (t, j) in tools.iter().zip(v) {
            p.push(t.name, j);
        }
        p
    };
    o.push(
        "startup 127.0.0.1",
        pair(measure::startup(&tools, "127.0.0.1", startup_runs, user)),
    );
    let count = flood_count.to_string();
    o.push(
        "flood 127.0.0.1",
        pair(measure::throughput(
            &tools,
            &["-f", "-c", &count, "127.0.0.1"],
            flood_runs,
            As::Root,
            Duration::from_secs(300),
        )),
    );
    Ok(o)
}
