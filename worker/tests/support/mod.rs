//! What the installed-binary tests share: where the staged install is, and
//! how to run a program as the unprivileged test user, optionally inside a
//! network namespace of the test's own.

#![allow(dead_code)] // each test file uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const NEEDS: &str = "needs the staged install and the test user: run `make test`";

pub fn stage() -> PathBuf {
    PathBuf::from(std::env::var("PRIVSEP_STAGE").expect(NEEDS))
}

pub fn launcher() -> PathBuf {
    stage().join("bin/privsep-ping")
}

pub fn worker() -> PathBuf {
    stage().join("libexec/privsep/ping-worker")
}

pub fn user() -> String {
    std::env::var("PRIVSEP_TEST_USER").expect(NEEDS)
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
    as_user(program, args).output().expect("spawn setpriv")
}

/// As the test user inside a fresh network namespace prepared by `setup`
/// (shell commands run as root first).
pub fn in_netns(setup: &str, program: &Path, args: &[&str]) -> Output {
    Command::new("unshare")
        .args(["-n", "--", "sh", "-ec"])
        .arg(format!(
            "{setup}; exec setpriv --reuid=\"$0\" --regid=\"$0\" --clear-groups -- \"$@\""
        ))
        .arg(user())
        .arg(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("spawn unshare")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Another tool's staged launcher (`privsep-<tool>`).
pub fn launcher_of(tool: &str) -> PathBuf {
    stage().join(format!("bin/privsep-{tool}"))
}

/// Another tool's staged worker.
pub fn worker_of(tool: &str) -> PathBuf {
    stage().join(format!("libexec/privsep/{tool}-worker"))
}
