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

/// Runs `cmd` to completion; a failure to start or a non-zero status is
/// [`HostileError::Command`] naming `what` (with the command's stderr).
pub fn run(what: &str, cmd: &mut Command) -> Result<(), HostileError> {
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
        let _ = testkit::deadline::output(Command::new("ip").args(["netns", "del", &self.name]));
    }
}

/// Two network namespaces joined by a veth pair: `veth0` (198.18.0.1/24,
/// hardware address [`PAIR_MAC_A`]) in `a`, `veth1` (198.18.0.2/24) in `b`,
/// for arping. Nothing else in them; both deleted on drop.
#[derive(Debug)]
pub struct NetnsPair {
    pub a: Netns,
    pub b: Netns,
}

/// `veth0`'s hardware address.
pub const PAIR_MAC_A: &str = "02:00:5e:12:00:0a";

impl NetnsPair {
    pub fn new(tag: &str) -> Result<NetnsPair, HostileError> {
        let pair = NetnsPair {
            a: Netns::new(&format!("{tag}a"))?,
            b: Netns::new(&format!("{tag}b"))?,
        };
        let (a, b) = (pair.a.name(), pair.b.name());
        for (what, args) in [
            (
                "ip link add veth",
                vec![
                    "link", "add", "veth0", "netns", a, "address", PAIR_MAC_A, "type", "veth",
                    "peer", "name", "veth1", "netns", b,
                ],
            ),
            (
                "ip addr a",
                vec!["-n", a, "addr", "add", "198.18.0.1/24", "dev", "veth0"],
            ),
            (
                "ip addr b",
                vec!["-n", b, "addr", "add", "198.18.0.2/24", "dev", "veth1"],
            ),
            ("ip link up a", vec!["-n", a, "link", "set", "veth0", "up"]),
            ("ip link up b", vec!["-n", b, "link", "set", "veth1", "up"]),
        ] {
            run(what, Command::new("ip").args(args))?;
        }
        Ok(pair)
    }
}
