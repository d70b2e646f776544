//! What the installed-binary tests share: where the staged install is, and
//! how to run a program as the unprivileged test user, optionally inside a
//! network namespace of the test's own.

#![allow(dead_code)] // each test file uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The staged install (`make stage`); fails the test without it.
pub fn stage() -> PathBuf {
    testkit::need::stage()
}

pub fn launcher() -> PathBuf {
    stage().join("bin/privsep-ping")
}

pub fn worker() -> PathBuf {
    stage().join("libexec/privsep/ping-worker")
}

/// The unprivileged test user's name; fails the test without it.
pub fn user() -> String {
    testkit::need::test_user()
}

/// `program args…` as the unprivileged test user, with no supplementary
/// groups and no inheritable capabilities.
pub fn as_user(program: &Path, args: &[&str]) -> Command {
    let user = user();
    let mut cmd = Command::new("setpriv");
    cmd.args([
        &format!("--reuid={user}"),
        &format!("--regid={user}"),
        "--clear-groups",
        "--inh-caps=-all",
        "--",
    ])
    .arg(program)
    .args(args)
    .stdin(Stdio::null());
    cmd
}

pub fn run_as_user(program: &Path, args: &[&str]) -> Output {
    run(&mut as_user(program, args))
}

/// Runs `cmd` to its end, its output collected, under the deadline that
/// turns a hang into a failure naming the command (`testkit::deadline`).
pub fn run(cmd: &mut Command) -> Output {
    testkit::deadline::output(cmd)
}

/// As the test user inside a fresh network namespace prepared by `setup`
/// (shell commands run as root first).
pub fn in_netns(setup: &str, program: &Path, args: &[&str]) -> Output {
    run(Command::new("unshare")
        .args(["-n", "--", "sh", "-ec"])
        .arg(format!(
            "{setup}; exec setpriv --reuid=\"$0\" --regid=\"$0\" --clear-groups -- \"$@\""
        ))
        .arg(user())
        .arg(program)
        .args(args))
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The staged launcher and worker of `tool`.
pub fn launcher_of(tool: &str) -> PathBuf {
    stage().join(format!("bin/privsep-{tool}"))
}

pub fn worker_of(tool: &str) -> PathBuf {
    stage().join(format!("libexec/privsep/{tool}-worker"))
}

/// Two network namespaces joined by a veth pair: `veth0` (198.18.0.1/24)
/// in the first, `veth1` (198.18.0.2/24) in the second, both up, with
/// fixed hardware addresses. 198.18.0.0/15 exists inside them only;
/// both are deleted on drop. Name lookups in the first go through its own
/// `/etc/netns/NAME/` files only (`ip netns exec` mounts them over
/// /etc): `peer.test` is 198.18.0.2, the resolver is 127.0.0.1 there,
/// where nothing listens.
pub struct NetnsPair {
    pub a: String,
    pub b: String,
}

/// Hardware addresses of the pair (locally administered).
pub const VETH0_MAC: &str = "02:00:5e:12:00:01";
pub const VETH1_MAC: &str = "02:00:5e:12:00:02";

fn sh(cmd: &str) {
    let out = run(Command::new("sh").args(["-ec", cmd]));
    assert!(
        out.status.success(),
        "{cmd}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl NetnsPair {
    pub fn new(tag: &str) -> NetnsPair {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let id = format!("{tag}-{}-{n}", std::process::id());
        let pair = NetnsPair {
            a: format!("pa-{id}"),
            b: format!("pb-{id}"),
        };
        let (a, b) = (&pair.a, &pair.b);
        sh(&format!(
            "ip netns add {a}; ip netns add {b}; \
             ip link add veth0 netns {a} address {VETH0_MAC} type veth peer name veth1 netns {b} address {VETH1_MAC}; \
             ip -n {a} addr add 198.18.0.1/24 dev veth0; ip -n {b} addr add 198.18.0.2/24 dev veth1; \
             ip -n {a} link set lo up; ip -n {b} link set lo up; \
             ip -n {a} link set veth0 up; ip -n {b} link set veth1 up; \
             mkdir -p /etc/netns/{a}; \
             printf '127.0.0.1 localhost\\n198.18.0.2 peer.test\\n' > /etc/netns/{a}/hosts; \
             printf 'nameserver 127.0.0.1\\n' > /etc/netns/{a}/resolv.conf"
        ));
        pair
    }

    /// `program args…` as the test user inside the first namespace.
    pub fn as_user_in_a(&self, program: &Path, args: &[&str]) -> Command {
        let user = user();
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.a, "setpriv"])
            .args([
                &format!("--reuid={user}"),
                &format!("--regid={user}"),
                "--clear-groups",
                "--inh-caps=-all",
                "--",
            ])
            .arg(program)
            .args(args)
            .stdin(Stdio::null());
        cmd
    }

    pub fn run_in_a(&self, program: &Path, args: &[&str]) -> Output {
        run(&mut self.as_user_in_a(program, args))
    }

    /// A root shell command inside the second namespace.
    pub fn in_b(&self, cmd: &str) {
        sh_in(&self.b, cmd);
    }
}

impl Drop for NetnsPair {
    fn drop(&mut self) {
        for ns in [&self.a, &self.b] {
            let _ = run(Command::new("ip").args(["netns", "del", ns]));
        }
        let _ = std::fs::remove_dir_all(format!("/etc/netns/{}", self.a));
    }
}

/// A root shell command inside namespace `ns`.
pub fn sh_in(ns: &str, cmd: &str) {
    sh(&format!("ip netns exec {ns} sh -ec '{cmd}'"));
}
