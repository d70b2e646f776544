//! The launcher's whole job as one linear sequence: sanitize → acquire →
//! drop → exec. Each step is a call on [`Privileges`], so the unit tests below
//! can check the order and the failure paths without any privilege.

#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::os::fd::RawFd;

use policy::handoff::{self, SocketKind};
use policy::layout::WORKER_PATH;

use crate::privileges::{LaunchError, Privileges};

/// Runs the five steps; returns only if one fails (on success the process
/// has become the worker).
pub fn launch(p: &mut impl Privileges) -> LaunchError {
    match try_launch(
        p,
        std::env::args_os().collect(),
        std::env::vars_os().collect(),
    ) {
        Ok(never) => match never {},
        Err(e) => e,
    }
}

enum Never {}

fn try_launch(
    p: &mut impl Privileges,
    argv: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
) -> Result<Never, LaunchError> {
    // 1. Sanitize: fds 0–2 valid (a closed stdout must not become our raw
    //    socket), nothing else inherited; and a worker we may trust.
    p.sanitize_fds().map_err(LaunchError::Fds)?;
    p.check_worker(WORKER_PATH)
        .map_err(|reason| LaunchError::UnsafeWorker {
            path: WORKER_PATH,
            reason,
        })?;

    // 2. Acquire: one raw socket per family, each allowed to fail on its own
    //    (IPv6 disabled, say); they go to fds 3, 4 in the order opened.
    let mut opened: Vec<SocketKind> = Vec::with_capacity(2);
    let mut errors = Vec::with_capacity(2);
    for kind in SocketKind::ALL {
        match p.open_raw_socket(kind) {
            Ok(fd) => {
                let want = handoff::FIRST_FD + opened.len() as RawFd;
                if fd != want {
                    p.move_fd(fd, want).map_err(|e| LaunchError::Drop {
                        step: "dup2",
                        source: e,
                    })?;
                }
                opened.push(kind);
            }
            Err(e) => errors.push(e),
        }
    }
    if opened.is_empty() {
        let v6 = errors.pop().expect("two errors");
        let v4 = errors.pop().expect("two errors");
        return Err(LaunchError::NoSocket { v4, v6 });
    }

    // 3. Drop everything. In setuid-root mode the bounding set goes first,
    //    while CAP_SETPCAP is still effective, then the ids.
    if p.setuid_mode() {
        p.drop_bounding_set().map_err(|e| LaunchError::Drop {
            step: "bounding set",
            source: e,
        })?;
        p.drop_ids().map_err(|e| LaunchError::Drop {
            step: "setresuid",
            source: e,
        })?;
    }
    p.clear_capabilities().map_err(|e| LaunchError::Drop {
        step: "capabilities",
        source: e,
    })?;

    // 4. No exec from here on may gain privilege (setuid bits, file caps).
    p.set_no_new_privs().map_err(|e| LaunchError::Drop {
        step: "no_new_privs",
        source: e,
    })?;
    p.verify_dropped().map_err(LaunchError::SelfCheck)?;

    // 5. Exec the worker: argv untouched, environment rebuilt from the allowlist.
    let argv = if argv.is_empty() {
        vec![OsString::from("privsep-ping")]
    } else {
        argv
    };
    let env = handoff::rebuild_env(env, &opened, p.pid());
    let source = p.exec(WORKER_PATH, argv, env);
    Err(LaunchError::Exec {
        path: WORKER_PATH,
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    /// Records every call; fails the ones named in `fail`.
    #[derive(Default)]
    struct Recorder {
        calls: Vec<String>,
        fail: Vec<&'static str>,
        setuid: bool,
        next_fd: RawFd,
        exec_env: Vec<(OsString, OsString)>,
    }

    impl Recorder {
        fn step(&mut self, name: &'static str) -> io::Result<()> {
            self.calls.push(name.to_string());
            if self.fail.contains(&name) {
                Err(io::Error::from_raw_os_error(libc::EPERM))
            } else {
                Ok(())
            }
        }
    }

    impl Privileges for Recorder {
        fn sanitize_fds(&mut self) -> io::Result<()> {
            self.next_fd = 3;
            self.step("sanitize_fds")
        }
        fn check_worker(&mut self, _: &'static str) -> Result<(), String> {
            self.step("check_worker").map_err(|e| e.to_string())
        }
        fn open_raw_socket(&mut self, kind: SocketKind) -> io::Result<RawFd> {
            self.step(kind.name())?;
            self.next_fd += 1;
            Ok(self.next_fd - 1)
        }
        fn move_fd(&mut self, _: RawFd, _: RawFd) -> io::Result<()> {
            self.step("move_fd")
        }
        fn setuid_mode(&self) -> bool {
            self.setuid
        }
        fn drop_bounding_set(&mut self) -> io::Result<()> {
            self.step("drop_bounding_set")
        }
        fn drop_ids(&mut self) -> io::Result<()> {
            self.step("drop_ids")
        }
        fn clear_capabilities(&mut self) -> io::Result<()> {
            self.step("clear_capabilities")
        }
        fn set_no_new_privs(&mut self) -> io::Result<()> {
            self.step("set_no_new_privs")
        }
        fn verify_dropped(&mut self) -> Result<(), String> {
            self.step("verify_dropped").map_err(|e| e.to_string())
        }
        fn exec(
            &mut self,
            _: &'static str,
            _: Vec<OsString>,
            env: Vec<(OsString, OsString)>,
        ) -> io::Error {
            self.exec_env = env;
            self.calls.push("exec".into());
            io::Error::from_raw_os_error(libc::ENOENT)
        }
        fn pid(&self) -> u32 {
            77
        }
    }

    fn run(r: &mut Recorder) -> LaunchError {
        let env = vec![
            ("LD_PRELOAD".into(), "/x.so".into()),
            ("LANG".into(), "C".into()),
        ];
        match try_launch(r, vec!["ping".into(), "127.0.0.1".into()], env) {
            Ok(never) => match never {},
            Err(e) => e,
        }
    }

    #[test]
    fn file_capability_mode_order() {
        let mut r = Recorder::default();
        assert!(matches!(run(&mut r), LaunchError::Exec { .. }));
        assert_eq!(
            r.calls,
            [
                "sanitize_fds",
                "check_worker",
                "icmp4",
                "icmp6",
                "clear_capabilities",
                "set_no_new_privs",
                "verify_dropped",
                "exec"
            ]
        );
        let env: Vec<String> = r
            .exec_env
            .iter()
            .map(|(k, v)| format!("{}={}", k.to_string_lossy(), v.to_string_lossy()))
            .collect();
        assert_eq!(
            env,
            [
                "LANG=C",
                "LISTEN_FDS=2",
                "LISTEN_PID=77",
                "LISTEN_FDNAMES=icmp4:icmp6"
            ]
        );
    }

    #[test]
    fn setuid_mode_drops_bounding_set_before_ids_before_caps() {
        let mut r = Recorder {
            setuid: true,
            ..Default::default()
        };
        run(&mut r);
        let pos = |s: &str| r.calls.iter().position(|c| c == s).unwrap();
        assert!(pos("icmp6") < pos("drop_bounding_set"));
        assert!(pos("drop_bounding_set") < pos("drop_ids"));
        assert!(pos("drop_ids") < pos("clear_capabilities"));
        assert!(pos("clear_capabilities") < pos("set_no_new_privs"));
        assert!(pos("verify_dropped") < pos("exec"));
    }

    #[test]
    fn one_family_failing_is_fine_and_names_only_the_opened_one() {
        let mut r = Recorder {
            fail: vec!["icmp4"],
            ..Default::default()
        };
        run(&mut r);
        assert!(r.calls.contains(&"exec".to_string()));
        assert!(r
            .exec_env
            .iter()
            .any(|(k, v)| k == "LISTEN_FDNAMES" && v == "icmp6"));
        assert!(r
            .exec_env
            .iter()
            .any(|(k, v)| k == "LISTEN_FDS" && v == "1"));
    }

    #[test]
    fn both_families_failing_names_the_capability_and_never_execs() {
        let mut r = Recorder {
            fail: vec!["icmp4", "icmp6"],
            ..Default::default()
        };
        let err = run(&mut r);
        assert!(err.to_string().contains("setcap cap_net_raw=p"), "{err}");
        assert!(!r.calls.contains(&"exec".to_string()));
        assert!(!r.calls.contains(&"clear_capabilities".to_string()));
    }

    #[test]
    fn any_failed_drop_stops_before_exec() {
        for step in [
            "sanitize_fds",
            "check_worker",
            "clear_capabilities",
            "set_no_new_privs",
            "verify_dropped",
        ] {
            let mut r = Recorder {
                fail: vec![step],
                ..Default::default()
            };
            run(&mut r);
            assert!(
                !r.calls.contains(&"exec".to_string()),
                "{step} failed but exec ran"
            );
        }
        for step in ["drop_bounding_set", "drop_ids"] {
            let mut r = Recorder {
                fail: vec![step],
                setuid: true,
                ..Default::default()
            };
            run(&mut r);
            assert!(
                !r.calls.contains(&"exec".to_string()),
                "{step} failed but exec ran"
            );
        }
    }
}
