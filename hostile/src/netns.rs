//! Network namespaces the suite creates for itself (`ip netns add`) and
//! removes on drop: only `lo` inside, up, with the kernel's own echo replies
//! switched off so that the hostile responder is the only one answering.
//! Nothing in them can reach any address outside the namespace.

#![forbid(unsafe_code)]

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::HostileError;

/// A named network namespace, deleted on drop.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

fn run(what: &str, cmd: &mut Command) -> Result<(), HostileError> {
    let out = cmd.output().map_err(|e| HostileError::Command {
        what: what.into(),
        detail: e.to_string(),
    })?;
    if !out.status.success() {
        return Err(HostileError::Command {
            what: what.into(),
            detail: format!(
                "{}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        });
    }
    Ok(())
}

impl Netns {
    /// Creates `privsep-hostile-<pid>-<n>-<tag>` with `lo` up (127.0.0.0/8
    /// and ::1) and `icmp_echo_ignore_all` set for both families.
    pub fn new(tag: &str) -> Result<Netns, HostileError> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("phx-{}-{n}-{tag}", std::process::id());
        run(
            "ip netns add",
            Command::new("ip").args(["netns", "add", &name]),
        )?;
        let ns = Netns { name };
        run(
            "ip link set lo up",
            Command::new("ip").args(["-n", &ns.name, "link", "set", "lo", "up"]),
        )?;
        for key in [
            "net.ipv4.icmp_echo_ignore_all=1",
            "net.ipv6.icmp.echo_ignore_all=1",
        ] {
            run(
                key,
                Command::new("ip").args(["netns", "exec", &ns.name, "sysctl", "-q", "-w", key]),
            )?;
        }
        Ok(ns)
    }

    /// The name for `ip netns exec`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `program` run as root inside the namespace.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name]).arg(program);
        cmd
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}
