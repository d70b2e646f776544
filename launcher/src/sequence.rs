//! The launcher's whole job as one linear sequence for every tool:
//! sanitize → acquire → drop → no_new_privs + verify → check the worker,
//! unprivileged → exec. Each step is a call on [`Privileges`], so the unit
//! tests below check the order and the failure paths of any descriptor
//! without any privilege.

#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::os::fd::RawFd;

use policy::handoff;
use policy::tools::{Capability, Resource, SocketSetup, SocketSpec, Tool};

use crate::privileges::{LaunchError, Privileges};

/// Runs the sequence for `tool`; returns only if a step fails (on success
/// the process has become the worker).
pub fn launch(tool: &'static Tool, p: &mut impl Privileges) -> LaunchError {
    match try_launch(
        tool,
        p,
        std::env::args_os().collect(),
        std::env::vars_os().collect(),
    ) {
        Ok(never) => match never {},
        Err(e) => e,
    }
}

/// What a successful sequence returns: nothing, ever (exec replaced us).
pub enum Never {}

/// The sequence itself; `argv` and `env` are the caller's, passed in so
/// that the tests can choose them.
pub fn try_launch(
    tool: &'static Tool,
    p: &mut impl Privileges,
    argv: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
) -> Result<Never, LaunchError> {
    let drop_err = |step: &'static str| move |source| LaunchError::Drop { step, source };

    // 1. Sanitize, before anything else: non-dumpable (no ptrace, no
    //    /proc/PID/fd for the caller while we hold privileged fds) and fds
    //    0–2 valid (a closed stdout must never become a socket). Other
    //    inherited fds are closed in step 5: they are the caller's own, and
    //    closing them needs no privilege.
    p.sanitize().map_err(LaunchError::Fds)?;

    // 2. Acquire the descriptor's resources in its order. Each capability
    //    is the only effective one around the calls that need it (raising
    //    the next one lowers the previous one; step 3 lowers the last).
    //    Sockets land at fds 3, 4, … in the order opened; an optional one
    //    may fail alone (IPv6 disabled).
    let mut opened: Vec<&'static SocketSpec> = Vec::with_capacity(tool.resources.len());
    let mut failed: Vec<(&'static SocketSpec, std::io::Error)> = Vec::new();
    let mut raised: Option<Capability> = None;
    // Why the capability raised last could not be raised, if it could not.
    let mut refused: Option<i32> = None;
    for resource in tool.resources {
        let cap = resource.capability();
        if raised != Some(cap) {
            refused = p
                .raise(cap, tool.file_caps_mask())
                .err()
                .map(|e| e.raw_os_error().unwrap_or(libc::EPERM));
            raised = Some(cap);
        }
        // A capability that could not be raised fails its calls without
        // making them.
        let denied = refused.map(std::io::Error::from_raw_os_error);
        match resource {
            Resource::Socket(spec) => {
                let result = match denied {
                    Some(e) => Err(e),
                    None => p.open_socket(spec),
                };
                match result {
                    Ok(fd) => {
                        let want = handoff::FIRST_FD + opened.len() as RawFd;
                        if fd != want {
                            p.move_fd(fd, want).map_err(drop_err("dup2"))?;
                        }
                        if let SocketSetup::LockedFilter(program) = spec.setup {
                            p.lock_filter(want, program)
                                .map_err(|source| LaunchError::Setup { spec, source })?;
                        }
                        opened.push(spec);
                    }
                    Err(source) if spec.optional => failed.push((spec, source)),
                    Err(source) => {
                        return Err(LaunchError::Socket {
                            tool,
                            failed: vec![(spec, source)],
                        })
                    }
                }
            }
            Resource::Priority { nice, capability } => {
                let result = match denied {
                    Some(e) => Err(e),
                    None => p.set_priority(*nice),
                };
                result.map_err(|source| LaunchError::Priority {
                    tool,
                    nice: *nice,
                    capability: *capability,
                    source,
                })?;
            }
        }
    }
    if opened.is_empty() {
        return Err(LaunchError::Socket { tool, failed });
    }

    // 3. Drop everything. In setuid-root mode the bounding set goes first,
    //    while CAP_SETPCAP is still effective, then groups and ids; then
    //    every capability set (which empties the ambient set too).
    if p.setuid_mode() {
        p.drop_bounding_set().map_err(drop_err("bounding set"))?;
        p.drop_ids().map_err(drop_err("setresuid"))?;
    }
    p.clear_capabilities().map_err(drop_err("capabilities"))?;

    // 4. No exec from here on may gain privilege (setuid bits, file caps);
    //    then make sure nothing is left.
    p.set_no_new_privs().map_err(drop_err("no_new_privs"))?;
    p.verify_dropped().map_err(LaunchError::SelfCheck)?;

    // 5. With nothing in reach: close what the caller left open above the
    //    sockets, refuse a limit the worker cannot start under, check the
    //    worker (whatever the path walk does, stat and readlink, it does
    //    unprivileged), then exec it: argv untouched, environment rebuilt
    //    from the allowlist.
    p.close_from(handoff::FIRST_FD + opened.len() as RawFd)
        .map_err(LaunchError::Fds)?;
    p.check_address_space().map_err(LaunchError::SelfCheck)?;
    p.check_worker(tool.worker_path)
        .map_err(|reason| LaunchError::UnsafeWorker {
            path: tool.worker_path,
            reason,
        })?;
    let argv = if argv.is_empty() {
        vec![OsString::from(tool.launcher_name)]
    } else {
        argv
    };
    let env = handoff::rebuild_env(env, &opened, p.pid());
    let source = p.exec(tool.worker_path, argv, env);
    Err(LaunchError::Exec {
        path: tool.worker_path,
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use policy::tools::{BpfInsn, Capability, ARPING, CLOCKDIFF, ICMP4, PING};
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
        fn step(&mut self, name: &str) -> io::Result<()> {
            self.calls.push(name.to_string());
            if self.fail.iter().any(|f| *f == name) {
                Err(io::Error::from_raw_os_error(libc::EPERM))
            } else {
                Ok(())
            }
        }
        fn pos(&self, name: &str) -> usize {
            self.calls
                .iter()
                .position(|c| c == name)
                .unwrap_or_else(|| panic!("{name} not called: {:?}", self.calls))
        }
    }

    impl Privileges for Recorder {
        fn sanitize(&mut self) -> io::Result<()> {
            self.next_fd = 3;
            self.step("sanitize")
        }
        fn raise(&mut self, cap: Capability, _: u64) -> io::Result<()> {
            self.step(&format!("raise {}", cap.kernel_name()))
        }
        fn open_socket(&mut self, spec: &'static SocketSpec) -> io::Result<RawFd> {
            self.step(&format!("socket {}", spec.name))?;
            self.next_fd += 1;
            Ok(self.next_fd - 1)
        }
        fn lock_filter(&mut self, fd: RawFd, program: &'static [BpfInsn]) -> io::Result<()> {
            self.step(&format!("lock_filter fd {fd} ({} insns)", program.len()))
        }
        fn set_priority(&mut self, nice: i32) -> io::Result<()> {
            self.step(&format!("priority {nice}"))
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
        fn close_from(&mut self, first: RawFd) -> io::Result<()> {
            self.step(&format!("close_from {first}"))
        }
        fn check_address_space(&mut self) -> Result<(), String> {
            self.step("check_address_space").map_err(|e| e.to_string())
        }
        fn check_worker(&mut self, _: &'static str) -> Result<(), String> {
            self.step("check_worker").map_err(|e| e.to_string())
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

    fn run(tool: &'static Tool, r: &mut Recorder) -> LaunchError {
        let env = vec![
            ("LD_PRELOAD".into(), "/x.so".into()),
            ("LANG".into(), "C".into()),
        ];
        match try_launch(tool, r, vec!["ping".into(), "127.0.0.1".into()], env) {
            Ok(never) => match never {},
            Err(e) => e,
        }
    }

    fn env_of(r: &Recorder) -> Vec<String> {
        r.exec_env
            .iter()
            .map(|(k, v)| format!("{}={}", k.to_string_lossy(), v.to_string_lossy()))
            .collect()
    }

    /// A tool with a socket and a process attribute, like clockdiff but
    /// with the attribute after the socket and a locked filter.
    static SOCKET_THEN_PRIORITY: Tool = Tool {
        name: "test",
        launcher_name: "privsep-test",
        launcher_path: "/usr/bin/privsep-test",
        worker_name: "test-worker",
        worker_path: "/usr/libexec/privsep/test-worker",
        file_caps: &[Capability::NetRaw, Capability::SysNice],
        resources: &[
            Resource::Socket(SocketSpec {
                optional: false,
                setup: SocketSetup::LockedFilter(&[BpfInsn {
                    code: 0x06,
                    jt: 0,
                    jf: 0,
                    k: 0,
                }]),
                ..ICMP4
            }),
            Resource::Priority {
                nice: 5,
                capability: Capability::SysNice,
            },
        ],
        sandbox: &policy::sandbox::profile::PING,
        selinux_prefix: "privsep_test",
        resolves_names: false,
    };

    #[test]
    fn sockets_only_file_capability_mode_order() {
        let mut r = Recorder::default();
        assert!(matches!(run(&PING, &mut r), LaunchError::Exec { .. }));
        assert_eq!(
            r.calls,
            [
                "sanitize",
                "raise CAP_NET_RAW",
                "socket icmp4",
                "socket icmp6",
                "clear_capabilities",
                "set_no_new_privs",
                "verify_dropped",
                "close_from 5",
                "check_address_space",
                "check_worker",
                "exec"
            ]
        );
        assert_eq!(
            env_of(&r),
            [
                "LANG=C",
                "LISTEN_FDS=2",
                "LISTEN_PID=77",
                "LISTEN_FDNAMES=icmp4:icmp6"
            ]
        );
    }

    #[test]
    fn socket_and_process_attribute_in_descriptor_order_all_before_the_drop() {
        let mut r = Recorder::default();
        run(&SOCKET_THEN_PRIORITY, &mut r);
        assert_eq!(
            r.calls,
            [
                "sanitize",
                "raise CAP_NET_RAW",
                "socket icmp4",
                "lock_filter fd 3 (1 insns)",
                "raise CAP_SYS_NICE",
                "priority 5",
                "clear_capabilities",
                "set_no_new_privs",
                "verify_dropped",
                "close_from 4",
                "check_address_space",
                "check_worker",
                "exec"
            ]
        );
        assert_eq!(
            env_of(&r)[1..],
            ["LISTEN_FDS=1", "LISTEN_PID=77", "LISTEN_FDNAMES=icmp4"]
        );
    }

    #[test]
    fn the_real_descriptors_acquire_what_they_promise() {
        let mut r = Recorder::default();
        run(&CLOCKDIFF, &mut r);
        assert!(r.pos("raise CAP_SYS_NICE") < r.pos("priority -16"));
        assert!(r.pos("priority -16") < r.pos("raise CAP_NET_RAW"));
        assert!(r.pos("raise CAP_NET_RAW") < r.pos("socket icmp4"));
        assert!(r.pos("socket icmp4") < r.pos("clear_capabilities"));
        let mut r = Recorder::default();
        run(&ARPING, &mut r);
        assert!(r.pos("socket arp") < r.pos("lock_filter fd 3 (4 insns)"));
        assert!(r.pos("lock_filter fd 3 (4 insns)") < r.pos("clear_capabilities"));
        assert!(env_of(&r).contains(&"LISTEN_FDNAMES=arp".to_string()));
    }

    /// Every acquiring call happens while its own capability is the one
    /// raised last, for every real descriptor.
    #[test]
    fn each_resource_is_acquired_under_its_own_capability() {
        for tool in policy::tools::ALL {
            let mut r = Recorder::default();
            run(tool, &mut r);
            let mut raised: Option<&str> = None;
            let mut acquired = 0;
            for call in &r.calls {
                if let Some(cap) = call.strip_prefix("raise ") {
                    raised = Some(cap);
                } else if let Some(name) = call.strip_prefix("socket ") {
                    let spec = tool.socket_named(name).unwrap();
                    assert_eq!(
                        raised,
                        Some(spec.capability.kernel_name()),
                        "{}: {call}",
                        tool.name
                    );
                    acquired += 1;
                } else if call.starts_with("priority ") {
                    assert_eq!(raised, Some("CAP_SYS_NICE"), "{}: {call}", tool.name);
                    acquired += 1;
                } else if call == "clear_capabilities" {
                    break;
                }
            }
            assert_eq!(
                acquired,
                tool.resources.len(),
                "{}: {:?}",
                tool.name,
                r.calls
            );
        }
    }

    #[test]
    fn a_capability_that_cannot_be_raised_makes_no_call_and_names_itself() {
        let mut r = Recorder {
            fail: vec!["raise CAP_NET_RAW"],
            ..Default::default()
        };
        let err = run(&PING, &mut r).to_string();
        assert!(
            !r.calls.iter().any(|c| c.starts_with("socket")),
            "{:?}",
            r.calls
        );
        assert!(err.contains("missing CAP_NET_RAW"), "{err}");
        assert!(err.contains("setcap cap_net_raw=p "), "{err}");
        assert!(!r.calls.contains(&"exec".to_string()));

        let mut r = Recorder {
            fail: vec!["raise CAP_SYS_NICE"],
            ..Default::default()
        };
        let err = run(&CLOCKDIFF, &mut r).to_string();
        assert!(
            !r.calls.iter().any(|c| c.starts_with("priority")),
            "{:?}",
            r.calls
        );
        assert!(err.contains("cannot set priority -16"), "{err}");
        assert!(err.contains("missing CAP_SYS_NICE"), "{err}");
        assert!(err.contains("setcap cap_net_raw,cap_sys_nice=p "), "{err}");
    }

    #[test]
    fn setuid_mode_drops_bounding_set_before_ids_before_caps() {
        let mut r = Recorder {
            setuid: true,
            ..Default::default()
        };
        run(&PING, &mut r);
        assert!(r.pos("socket icmp6") < r.pos("drop_bounding_set"));
        assert!(r.pos("drop_bounding_set") < r.pos("drop_ids"));
        assert!(r.pos("drop_ids") < r.pos("clear_capabilities"));
        assert!(r.pos("clear_capabilities") < r.pos("set_no_new_privs"));
        assert!(r.pos("verify_dropped") < r.pos("check_worker"));
        assert!(r.pos("check_worker") < r.pos("exec"));
    }

    #[test]
    fn one_optional_socket_failing_is_fine_and_names_only_the_opened_one() {
        let mut r = Recorder {
            fail: vec!["socket icmp4"],
            ..Default::default()
        };
        run(&PING, &mut r);
        assert!(r.calls.contains(&"exec".to_string()));
        let env = env_of(&r);
        assert!(env.contains(&"LISTEN_FDNAMES=icmp6".to_string()), "{env:?}");
        assert!(env.contains(&"LISTEN_FDS=1".to_string()), "{env:?}");
    }

    #[test]
    fn no_socket_names_the_capability_and_never_execs() {
        let mut r = Recorder {
            fail: vec!["socket icmp4", "socket icmp6"],
            ..Default::default()
        };
        let err = run(&PING, &mut r).to_string();
        assert!(err.contains("missing CAP_NET_RAW"), "{err}");
        assert!(err.contains("setcap cap_net_raw=p "), "{err}");
        assert!(!r.calls.contains(&"exec".to_string()));
        assert!(!r.calls.contains(&"clear_capabilities".to_string()));
    }

    #[test]
    fn a_required_socket_or_the_priority_failing_stops_at_once() {
        let mut r = Recorder {
            fail: vec!["priority -16"],
            ..Default::default()
        };
        let err = run(&CLOCKDIFF, &mut r).to_string();
        assert!(err.contains("missing CAP_SYS_NICE"), "{err}");
        assert!(err.contains("setcap cap_net_raw,cap_sys_nice=p "), "{err}");
        assert!(!r.calls.iter().any(|c| c.starts_with("socket")));
        assert!(!r.calls.contains(&"exec".to_string()));

        let mut r = Recorder {
            fail: vec!["socket arp"],
            ..Default::default()
        };
        let err = run(&ARPING, &mut r).to_string();
        assert!(err.contains("ARP packet"), "{err}");
        assert!(!r.calls.contains(&"exec".to_string()));

        let mut r = Recorder {
            fail: vec!["lock_filter fd 3 (4 insns)"],
            ..Default::default()
        };
        run(&ARPING, &mut r);
        assert!(!r.calls.contains(&"exec".to_string()));
    }

    #[test]
    fn any_failed_step_stops_before_exec() {
        for tool in [&PING, &SOCKET_THEN_PRIORITY] {
            for step in [
                "sanitize",
                "clear_capabilities",
                "set_no_new_privs",
                "verify_dropped",
                "check_address_space",
                "check_worker",
            ] {
                let mut r = Recorder {
                    fail: vec![step],
                    ..Default::default()
                };
                run(tool, &mut r);
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
                run(tool, &mut r);
                assert!(
                    !r.calls.contains(&"exec".to_string()),
                    "{step} failed but exec ran"
                );
            }
        }
    }
}
