//! The unprivileged test user (`PRIVSEP_TEST_USER`, created by
//! `scripts/test-user.sh`) and how a test runs a program as it: `setpriv`
//! with its ids, no supplementary group, no inheritable capability, stdin
//! from /dev/null; in a network namespace of the test's through `ip netns
//! exec`.

use std::ffi::OsStr;
use std::process::{Command, Stdio};

/// The test user.
#[derive(Debug, Clone)]
pub struct User {
    /// Login name.
    pub name: String,
    /// Numeric ids.
    pub uid: u32,
    /// Primary group.
    pub gid: u32,
}

impl User {
    /// The test user named by `PRIVSEP_TEST_USER` (see
    /// [`crate::need::test_user`]), looked up with `getent`.
    pub fn from_env() -> User {
        let name = crate::need::test_user();
        let out = crate::deadline::output(Command::new("getent").args(["passwd", &name]));
        let line = String::from_utf8_lossy(&out.stdout).into_owned();
        let fields: Vec<&str> = line.trim().split(':').collect();
        assert!(
            fields.len() >= 4,
            "no passwd entry for the test user {name} (scripts/test-user.sh creates it)"
        );
        User {
            uid: fields[2].parse().expect("uid"),
            gid: fields[3].parse().expect("gid"),
            name,
        }
    }

    /// `setpriv`'s arguments that become this user, up to the `--` before
    /// the program.
    pub fn setpriv_args(&self) -> [String; 5] {
        [
            format!("--reuid={}", self.uid),
            format!("--regid={}", self.gid),
            "--clear-groups".into(),
            "--inh-caps=-all".into(),
            "--".into(),
        ]
    }

    /// `program` run as this user.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new("setpriv");
        cmd.args(self.setpriv_args())
            .arg(program)
            .stdin(Stdio::null());
        cmd
    }

    /// [`User::command`] inside network namespace `ns` (a name for `ip
    /// netns exec`, or a [`crate::netns::Netns`]).
    pub fn command_in(&self, ns: impl AsRef<str>, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", ns.as_ref(), "setpriv"])
            .args(self.setpriv_args())
            .arg(program)
            .stdin(Stdio::null());
        cmd
    }
}
