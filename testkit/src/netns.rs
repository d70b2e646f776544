//! Network namespaces the tests create for themselves (`ip netns add`,
//! named `phx-PID-N-TAG`) and remove on drop, so that nothing a test sends
//! can reach an address outside them: one namespace with only `lo`, or two
//! joined by a veth pair.

use std::fmt;
use std::io;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// Runs `cmd` to its end; a failure to start or a non-zero status is an
/// error naming `what`, with the command's stderr.
pub fn run(what: &str, cmd: &mut Command) -> io::Result<()> {
    let out = cmd
        .output()
        .map_err(|e| io::Error::new(e.kind(), format!("{what}: {e}")))?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "{what}: {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// A named network namespace with `lo` up (127.0.0.0/8 and ::1), deleted
/// on drop.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// A namespace whose kernel answers no echo request
    /// (`icmp_echo_ignore_all`, both families): a responder of the test's
    /// is the only one answering.
    pub fn new(tag: &str) -> io::Result<Netns> {
        let ns = Netns::answering(tag)?;
        for key in [
            "net.ipv4.icmp_echo_ignore_all=1",
            "net.ipv6.icmp.echo_ignore_all=1",
        ] {
            run(key, ns.command("sysctl").args(["-q", "-w", key]))?;
        }
        Ok(ns)
    }

    /// A namespace whose kernel answers echo requests as usual.
    pub fn answering(tag: &str) -> io::Result<Netns> {
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

    /// A root shell command inside the namespace; a failure fails the
    /// test.
    pub fn sh(&self, script: &str) {
        let out = crate::deadline::output(self.command("sh").args(["-ec", script]));
        assert!(
            out.status.success(),
            "in {}: {script}: {}",
            self.name,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl AsRef<str> for Netns {
    fn as_ref(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for Netns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = crate::deadline::output(Command::new("ip").args(["netns", "del", &self.name]));
    }
}

/// `veth0`'s hardware address (locally administered).
pub const VETH0_MAC: &str = "02:00:5e:12:00:01";
/// `veth1`'s hardware address.
pub const VETH1_MAC: &str = "02:00:5e:12:00:02";

/// Two network namespaces joined by a veth pair: `veth0` (198.18.0.1/24,
/// [`VETH0_MAC`]) in `a`, `veth1` (198.18.0.2/24, [`VETH1_MAC`]) in `b`,
/// both up, both kernels answering echo requests. 198.18.0.0/15 exists
/// inside them only. Name lookups in `a` go through its own
/// `/etc/netns/NAME/` files (`ip netns exec` mounts them over /etc):
/// `peer.test` is 198.18.0.2, the resolver is 127.0.0.1, where nothing
/// listens. Everything is removed on drop.
#[derive(Debug)]
pub struct NetnsPair {
    pub a: Netns,
    pub b: Netns,
}

impl NetnsPair {
    /// The pair; a failure to set it up fails the test.
    pub fn new(tag: &str) -> NetnsPair {
        let a = Netns::answering(&format!("{tag}a")).expect("network namespace a");
        let b = Netns::answering(&format!("{tag}b")).expect("network namespace b");
        let script = format!(
            "ip link add veth0 netns {a} address {VETH0_MAC} type veth peer name veth1 netns {b} address {VETH1_MAC}
             ip -n {a} addr add 198.18.0.1/24 dev veth0; ip -n {b} addr add 198.18.0.2/24 dev veth1
             ip -n {a} link set veth0 up; ip -n {b} link set veth1 up
             mkdir -p /etc/netns/{a}
             printf '127.0.0.1 localhost\\n198.18.0.2 peer.test\\n' > /etc/netns/{a}/hosts
             printf 'nameserver 127.0.0.1\\n' > /etc/netns/{a}/resolv.conf"
        );
        let pair = NetnsPair { a, b };
        let out = crate::deadline::output(Command::new("sh").args(["-ec", &script]));
        assert!(
            out.status.success(),
            "veth pair: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        pair
    }
}

impl NetnsPair {
    /// `program args…` as the test user inside `a`.
    pub fn as_user_in_a(&self, program: &std::path::Path, args: &[&str]) -> Command {
        let mut cmd = crate::user::User::from_env().command_in(&self.a, program);
        cmd.args(args);
        cmd
    }

    /// [`NetnsPair::as_user_in_a`] run to its end (under testkit's deadline).
    pub fn run_in_a(&self, program: &std::path::Path, args: &[&str]) -> std::process::Output {
        crate::deadline::output(&mut self.as_user_in_a(program, args))
    }

    /// A root shell command inside `b`.
    pub fn in_b(&self, script: &str) {
        self.b.sh(script);
    }
}

impl Drop for NetnsPair {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(format!("/etc/netns/{}", self.a));
    }
}

/// The routed chain of `scripts/netns-chain.sh` (a client `NAME-c`, two
/// routers `NAME-r1` and `NAME-r2`, a destination `NAME-d`; 198.18.0.0/15
/// and 2001:db8::/32 inside it only), taken down on drop.
#[derive(Debug)]
pub struct Chain {
    name: String,
}

impl Chain {
    fn script() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/netns-chain.sh")
    }

    /// The chain, named with `tag` (a letter or two: the script wants a
    /// short name), the pid and a counter; a failure fails the test.
    pub fn new(tag: &str) -> Chain {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "{tag}{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let out = crate::deadline::output(Command::new(Chain::script()).args(["up", &name]));
        let chain = Chain { name };
        assert!(
            out.status.success(),
            "netns-chain.sh up: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        chain
    }

    /// The namespace of `node` (`c`, `r1`, `r2`, `d`).
    pub fn ns(&self, node: &str) -> String {
        format!("{}-{node}", self.name)
    }

    /// `program args…` as the test user in the client namespace, with
    /// `env` set; killed after a minute (`timeout 60`), so that a hang
    /// fails the test instead of stopping the suite.
    pub fn as_user(
        &self,
        env: &[(&str, &str)],
        program: &std::path::Path,
        args: &[&str],
    ) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.ns("c"), "timeout", "60", "setpriv"])
            .args(crate::user::User::from_env().setpriv_args())
            .arg("env")
            .args(env.iter().map(|(k, v)| format!("{k}={v}")))
            .arg(program)
            .args(args);
        cmd
    }
}

impl Drop for Chain {
    fn drop(&mut self) {
        let _ = crate::deadline::output(Command::new(Chain::script()).args(["down", &self.name]));
    }
}
