//! What the installed-binary tests share: where the staged install is, and
//! how to run a program as the unprivileged test user, optionally inside a
//! network namespace of the test's own (testkit's `need`, `user` and
//! `netns`, for this crate's tests).

#![allow(dead_code)] // each test file uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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
    let mut cmd = testkit::user::User::from_env().command(program);
    cmd.args(args);
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

/// The veth pair of testkit, for the test files that name it through here.
#[allow(unused_imports)] // each test file uses its own subset
pub use testkit::netns::NetnsPair;
