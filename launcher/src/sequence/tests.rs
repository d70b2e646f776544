//! The launcher sequence's unit tests: both phases run against a recording
//! double of the privileged operations, each step's failure and what it
//! leaves behind.

use super::*;
use crate::plan::Plan;
use crate::privileged::{self, Errno, ExecIds, Privileged};
use crate::sys::OsResult;
use policy::tools::{BpfInsn, Capability, SocketSetup, ARPING, CLOCKDIFF, ICMP4_RAW, PING};

/// Records every call of both phases; fails the ones named in `fail`
/// (with `EPERM`) or in `errnos` (with that errno).
struct Recorder {
    calls: Vec<String>,
    fail: Vec<&'static str>,
    errnos: Vec<(&'static str, Errno)>,
    ids: ExecIds,
    next_fd: RawFd,
    exec_env: Vec<(Bytes, Bytes)>,
    /// Which side of the broker's fork this run plays.
    broker_child: bool,
}

/// A user running a file-capability launcher.
const USER: ExecIds = ExecIds {
    uid: 1000,
    euid: 1000,
    gid: 1000,
    egid: 1000,
    secure: true,
};

impl Default for Recorder {
    fn default() -> Self {
        Recorder {
            calls: Vec::new(),
            fail: Vec::new(),
            errnos: Vec::new(),
            ids: USER,
            next_fd: 3,
            exec_env: Vec::new(),
            broker_child: false,
        }
    }
}

impl Recorder {
    fn setuid() -> Self {
        Recorder {
            ids: ExecIds { euid: 0, ..USER },
            ..Default::default()
        }
    }
    fn raw_step(&mut self, name: &str) -> Result<(), Errno> {
        self.calls.push(name.to_string());
        if let Some((_, e)) = self.errnos.iter().find(|(n, _)| *n == name) {
            Err(*e)
        } else if self.fail.contains(&name) {
            Err(libc::EPERM)
        } else {
            Ok(())
        }
    }
    fn step(&mut self, name: &str) -> OsResult<()> {
        self.raw_step(name).map_err(OsError)
    }
    fn pos(&self, name: &str) -> usize {
        self.calls
            .iter()
            .position(|c| c == name)
            .unwrap_or_else(|| panic!("{name} not called: {:?}", self.calls))
    }
}

/// A socket's name and type, from its `socket()` arguments:
/// `icmp4 SOCK_DGRAM`.
fn socket_name(domain: i32, ty: i32, protocol: i32) -> String {
    policy::tools::ALL
        .iter()
        .flat_map(|t| t.resources)
        .find_map(|r| match r {
            Resource::Socket(s) if (s.domain, s.protocol) == (domain, protocol) => s
                .kind_of_type(ty)
                .map(|k| format!("{} {}", s.name, k.type_name)),
            _ => None,
        })
        .expect("a socket of a known descriptor")
}

impl Privileged for Recorder {
    fn set_not_dumpable(&mut self) -> Result<(), Errno> {
        self.raw_step("not_dumpable")
    }
    fn raise(&mut self, cap: u64, _: u64) -> Result<(), Errno> {
        let name = [Capability::NetRaw, Capability::SysNice]
            .into_iter()
            .find(|c| c.mask() == cap)
            .map_or(if cap == 0 { "none" } else { "?" }, |c| c.kernel_name());
        self.raw_step(&format!("raise {name}"))
    }
    fn open_socket(&mut self, domain: i32, ty: i32, protocol: i32) -> Result<i32, Errno> {
        self.raw_step(&format!("socket {}", socket_name(domain, ty, protocol)))?;
        self.next_fd += 1;
        Ok(self.next_fd - 1)
    }
    fn move_fd(&mut self, from: i32, to: i32) -> Result<(), Errno> {
        self.raw_step(&format!("move_fd {from} {to}"))
    }
    fn lock_filter(&mut self, fd: i32, program: &[BpfInsn]) -> Result<(), Errno> {
        self.raw_step(&format!("lock_filter fd {fd} ({} insns)", program.len()))
    }
    fn set_priority(&mut self, nice: i32) -> Result<(), Errno> {
        self.raw_step(&format!("priority {nice}"))
    }
    fn drop_bounding_set(&mut self) -> Result<(), Errno> {
        self.raw_step("drop_bounding_set")
    }
    fn drop_ids(&mut self, uid: u32, gid: u32) -> Result<(), Errno> {
        self.raw_step(&format!("drop_ids {uid} {gid}"))
    }
    fn clear_capabilities(&mut self) -> Result<(), Errno> {
        self.raw_step("clear_capabilities")
    }
    fn die(&mut self, line: &[u8]) {
        self.calls
            .push(format!("die {}", String::from_utf8_lossy(line).trim_end()));
    }
}

impl Privileges for Recorder {
    fn fill_standard_fds(&mut self, closed_at_exec: u8) -> OsResult<()> {
        self.step(&format!("fill_standard_fds {closed_at_exec:#05b}"))
    }
    fn set_no_new_privs(&mut self) -> OsResult<()> {
        self.step("set_no_new_privs")
    }
    fn verify_dropped(&mut self, ids_may_differ: bool) -> Result<(), String> {
        self.step(&format!("verify_dropped ids={ids_may_differ}"))
            .map_err(|e| e.to_string())
    }
    fn close_from(&mut self, first: RawFd) -> OsResult<()> {
        self.step(&format!("close_from {first}"))
    }
    fn check_address_space(&mut self) -> Result<(), String> {
        self.step("check_address_space").map_err(|e| e.to_string())
    }
    fn check_worker(&mut self, path: &'static str) -> Result<(), String> {
        let step = if path.ends_with("-broker") {
            "check_broker"
        } else {
            "check_worker"
        };
        self.step(step).map_err(|e| e.to_string())
    }
    fn exec(&mut self, path: &'static str, argv: Vec<Bytes>, env: Vec<(Bytes, Bytes)>) -> OsError {
        self.exec_env = env;
        if path.ends_with("-broker") {
            let argv: Vec<_> = argv.iter().map(|a| String::from_utf8_lossy(a)).collect();
            self.calls.push(format!("exec broker {}", argv.join(" ")));
        } else {
            self.calls.push("exec".into());
        }
        OsError(libc::ENOENT)
    }
    fn pid(&self) -> u32 {
        if self.broker_child {
            78
        } else {
            77
        }
    }
    fn channel(&mut self) -> OsResult<(RawFd, RawFd)> {
        self.step("channel")?;
        self.next_fd += 2;
        Ok((self.next_fd - 2, self.next_fd - 1))
    }
    fn fork(&mut self) -> OsResult<Option<u32>> {
        self.step("fork")?;
        Ok((!self.broker_child).then_some(78))
    }
    fn arrange_fds(&mut self, fds: &[RawFd]) -> OsResult<()> {
        let fds: Vec<String> = fds.iter().map(|f| f.to_string()).collect();
        self.step(&format!("arrange_fds {}", fds.join(" ")))
    }
    fn yield_cpu(&mut self, times: u32) {
        self.calls.push(format!("yield_cpu {times}"));
    }
}

/// Both phases, as the entry stub and `main` run them.
fn run(tool: &'static Tool, r: &mut Recorder) -> LaunchError {
    let record = privileged::run(&Plan::of(tool), r.ids, r);
    let env = vec![
        ("LD_PRELOAD".into(), "/x.so".into()),
        ("LANG".into(), "C".into()),
    ];
    match try_launch(
        tool,
        record,
        r,
        vec!["ping".into(), "127.0.0.1".into()],
        env,
    ) {
        Ok(never) => match never {},
        Err(e) => e,
    }
}

fn env_of(r: &Recorder) -> Vec<String> {
    r.exec_env
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                String::from_utf8_lossy(k),
                String::from_utf8_lossy(v)
            )
        })
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
            ..ICMP4_RAW
        }),
        Resource::Priority {
            nice: 5,
            capability: Capability::SysNice,
        },
    ],
    sandbox: &policy::sandbox::profile::PING,
    selinux_prefix: "privsep_test",
    resolves_names: false,
    broker: None,
    facts: policy::tools::PING.facts,
};

/// What ping's kernel answers for a datagram socket where
/// `ping_group_range` leaves the caller out.
const RANGE_CLOSED: [(&str, Errno); 2] = [
    ("socket icmp4 SOCK_DGRAM", libc::EACCES),
    ("socket icmp6 SOCK_DGRAM", libc::EACCES),
];

#[test]
fn ping_opens_datagram_sockets_with_no_capability_effective() {
    let mut r = Recorder::default();
    assert!(matches!(run(&PING, &mut r), LaunchError::Exec { .. }));
    assert_eq!(
        r.calls,
        [
            "not_dumpable",
            "raise none",
            "socket icmp4 SOCK_DGRAM",
            "socket icmp6 SOCK_DGRAM",
            "clear_capabilities",
            "set_no_new_privs",
            "verify_dropped ids=false",
            "close_from 5",
            "check_address_space",
            "check_worker",
            "exec"
        ]
    );
    assert!(env_of(&r).contains(&"LISTEN_FDNAMES=icmp4:icmp6".to_string()));
    // A launcher installed without its file capability: CAP_NET_RAW
    // cannot be raised, and is never asked for.
    let mut r = Recorder {
        fail: vec!["raise CAP_NET_RAW"],
        ..Default::default()
    };
    assert!(matches!(run(&PING, &mut r), LaunchError::Exec { .. }));
    assert!(!r.calls.iter().any(|c| c == "raise CAP_NET_RAW"));
    // Root (everything effective after execve): lowered first too.
    let mut r = Recorder {
        ids: ExecIds {
            uid: 0,
            euid: 0,
            gid: 0,
            egid: 0,
            secure: false,
        },
        ..Default::default()
    };
    run(&PING, &mut r);
    assert_eq!(r.calls[1..3], ["raise none", "socket icmp4 SOCK_DGRAM"]);
}

#[test]
fn ping_falls_back_to_raw_on_upstreams_errnos_only() {
    // ping_group_range closed (EACCES): raw, under CAP_NET_RAW alone,
    // lowered again for the next datagram attempt.
    let mut r = Recorder {
        errnos: RANGE_CLOSED.to_vec(),
        ..Default::default()
    };
    assert!(matches!(run(&PING, &mut r), LaunchError::Exec { .. }));
    assert_eq!(
        r.calls[..10],
        [
            "not_dumpable",
            "raise none",
            "socket icmp4 SOCK_DGRAM",
            "raise CAP_NET_RAW",
            "socket icmp4 SOCK_RAW",
            "raise none",
            "socket icmp6 SOCK_DGRAM",
            "raise CAP_NET_RAW",
            "socket icmp6 SOCK_RAW",
            "clear_capabilities",
        ]
    );
    assert!(env_of(&r).contains(&"LISTEN_FDNAMES=icmp4:icmp6".to_string()));
    // No ping sockets in the kernel: EAFNOSUPPORT falls back for IPv4;
    // for IPv6 it means IPv6 is off, and raw is not tried.
    let mut r = Recorder {
        errnos: vec![
            ("socket icmp4 SOCK_DGRAM", libc::EAFNOSUPPORT),
            ("socket icmp6 SOCK_DGRAM", libc::EAFNOSUPPORT),
        ],
        ..Default::default()
    };
    run(&PING, &mut r);
    assert!(r.calls.contains(&"socket icmp4 SOCK_RAW".to_string()));
    assert!(!r.calls.contains(&"socket icmp6 SOCK_RAW".to_string()));
    assert!(env_of(&r).contains(&"LISTEN_FDNAMES=icmp4".to_string()));
    // EPROTONOSUPPORT (containers): both fall back.
    let mut r = Recorder {
        errnos: vec![
            ("socket icmp4 SOCK_DGRAM", libc::EPROTONOSUPPORT),
            ("socket icmp6 SOCK_DGRAM", libc::EPROTONOSUPPORT),
        ],
        ..Default::default()
    };
    run(&PING, &mut r);
    assert!(r.calls.contains(&"socket icmp4 SOCK_RAW".to_string()));
    assert!(r.calls.contains(&"socket icmp6 SOCK_RAW".to_string()));
    // Anything else (out of descriptors, an LSM's EPERM) is final:
    // the worker gets what each datagram attempt got.
    let mut r = Recorder {
        errnos: vec![("socket icmp4 SOCK_DGRAM", libc::EMFILE)],
        fail: vec!["socket icmp6 SOCK_DGRAM"],
        ..Default::default()
    };
    run(&PING, &mut r);
    assert!(
        !r.calls.iter().any(|c| c.ends_with("SOCK_RAW")),
        "{:?}",
        r.calls
    );
    assert!(!r.calls.iter().any(|c| c == "raise CAP_NET_RAW"));
    assert!(env_of(&r)
        .contains(&"PRIVSEP_SOCKETS_REFUSED=icmp4/SOCK_DGRAM/24:icmp6/SOCK_DGRAM/1".into()));
}

#[test]
fn no_ping_socket_at_all_goes_to_the_worker_holding_nothing() {
    // No capability, ping_group_range closed: the worker words it (as
    // upstream does, after its whole command line), told what the
    // last attempt of each socket got (raw, EPERM); no socket open.
    let mut r = Recorder {
        errnos: RANGE_CLOSED.to_vec(),
        fail: vec!["raise CAP_NET_RAW"],
        ..Default::default()
    };
    assert!(matches!(run(&PING, &mut r), LaunchError::Exec { .. }));
    assert!(
        !r.calls.iter().any(|c| c.ends_with("SOCK_RAW")),
        "{:?}",
        r.calls
    );
    let i = r.pos("clear_capabilities");
    assert_eq!(
        r.calls[i..],
        [
            "clear_capabilities",
            "set_no_new_privs",
            "verify_dropped ids=false",
            "close_from 3",
            "check_address_space",
            "check_worker",
            "exec"
        ]
    );
    let env = env_of(&r);
    for want in [
        "LISTEN_FDS=0",
        "LISTEN_FDNAMES=",
        "PRIVSEP_SOCKETS_REFUSED=icmp4/SOCK_RAW/1:icmp6/SOCK_RAW/1",
    ] {
        assert!(env.contains(&want.to_string()), "{want}: {env:?}");
    }
    // A caller's own variable of that name never reaches the worker.
    let mut r = Recorder::default();
    let record = privileged::run(&Plan::of(&PING), r.ids, &mut r);
    let forged = vec![(
        "PRIVSEP_SOCKETS_REFUSED".into(),
        "icmp4/SOCK_RAW/1:icmp6/SOCK_RAW/1".into(),
    )];
    let _ = try_launch(&PING, record, &mut r, vec!["ping".into()], forged);
    assert!(!env_of(&r)
        .iter()
        .any(|v| v.starts_with("PRIVSEP_SOCKETS_REFUSED")));
    // A tool without alternatives keeps privsep's own line, no exec.
    let mut r = Recorder {
        fail: vec!["socket arp SOCK_DGRAM"],
        ..Default::default()
    };
    let err = run(&ARPING, &mut r).to_string();
    assert!(err.starts_with("cannot open "), "{err}");
    assert!(!r.calls.contains(&"exec".to_string()));
}

#[test]
fn sockets_only_file_capability_mode_order() {
    let mut r = Recorder {
        errnos: RANGE_CLOSED.to_vec(),
        ..Default::default()
    };
    assert!(matches!(run(&PING, &mut r), LaunchError::Exec { .. }));
    assert_eq!(
        r.calls,
        [
            "not_dumpable",
            "raise none",
            "socket icmp4 SOCK_DGRAM",
            "raise CAP_NET_RAW",
            "socket icmp4 SOCK_RAW",
            "raise none",
            "socket icmp6 SOCK_DGRAM",
            "raise CAP_NET_RAW",
            "socket icmp6 SOCK_RAW",
            "clear_capabilities",
            "set_no_new_privs",
            "verify_dropped ids=false",
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
            "not_dumpable",
            "raise CAP_NET_RAW",
            "socket icmp4 SOCK_RAW",
            "lock_filter fd 3 (1 insns)",
            "raise CAP_SYS_NICE",
            "priority 5",
            "clear_capabilities",
            "set_no_new_privs",
            "verify_dropped ids=false",
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
    assert!(r.pos("raise CAP_NET_RAW") < r.pos("socket icmp4 SOCK_RAW"));
    assert!(r.pos("socket icmp4 SOCK_RAW") < r.pos("clear_capabilities"));
    let mut r = Recorder::default();
    run(&ARPING, &mut r);
    assert!(r.pos("socket arp SOCK_DGRAM") < r.pos("lock_filter fd 3 (4 insns)"));
    assert!(r.pos("lock_filter fd 3 (4 insns)") < r.pos("clear_capabilities"));
    // The worker gets the broker channel, not the packet socket.
    assert!(env_of(&r).contains(&"LISTEN_FDNAMES=broker".to_string()));
}

#[test]
fn a_brokered_socket_goes_to_the_broker_and_the_worker_gets_the_channel() {
    // The parent side: becomes the worker, with its end of the channel
    // alone at fd 3 (the packet socket closed by the arrangement).
    let mut r = Recorder::default();
    assert!(matches!(run(&ARPING, &mut r), LaunchError::Exec { .. }));
    assert_eq!(
        r.calls[r.pos("clear_capabilities")..],
        [
            "clear_capabilities",
            "set_no_new_privs",
            "verify_dropped ids=false",
            "close_from 4",
            "check_address_space",
            "check_worker",
            "check_broker",
            "channel",
            "fork",
            "arrange_fds 4",
            "exec"
        ]
    );
    assert_eq!(
        env_of(&r),
        [
            "LANG=C",
            "LISTEN_FDS=1",
            "LISTEN_PID=77",
            "LISTEN_FDNAMES=broker"
        ]
    );
    // The child side: becomes the broker, with the packet socket at 3
    // and its end of the channel at 4, and nothing of the caller's
    // environment; it yields the CPU before its exec (the parent, the
    // worker, never does).
    let mut r = Recorder {
        broker_child: true,
        ..Default::default()
    };
    let err = run(&ARPING, &mut r);
    assert!(
        matches!(err, LaunchError::Exec { path, .. } if path.ends_with("/privsep/arping-broker")),
        "{err}"
    );
    assert_eq!(
        r.calls[r.pos("fork")..],
        [
            "fork",
            "arrange_fds 3 5",
            "yield_cpu 3",
            "exec broker arping-broker"
        ]
    );
    assert_eq!(
        env_of(&r),
        ["LISTEN_FDS=2", "LISTEN_PID=78", "LISTEN_FDNAMES=arp:broker"]
    );
    // Nothing of the split happens for a tool without a broker.
    let mut r = Recorder::default();
    run(&PING, &mut r);
    assert!(!r.calls.iter().any(|c| c == "fork" || c == "channel"));
}

#[test]
fn an_unsafe_broker_or_a_failed_split_never_execs_anything() {
    for step in ["check_broker", "channel", "fork", "arrange_fds 4"] {
        let mut r = Recorder {
            fail: vec![step],
            ..Default::default()
        };
        let err = run(&ARPING, &mut r).to_string();
        assert!(
            !r.calls.iter().any(|c| c.starts_with("exec")),
            "{step}: {:?}",
            r.calls
        );
        if step == "check_broker" {
            assert!(err.contains("arping-broker"), "{err}");
        } else {
            assert!(err.starts_with("cannot start the broker"), "{err}");
        }
    }
    let mut r = Recorder {
        fail: vec!["arrange_fds 3 5"],
        broker_child: true,
        ..Default::default()
    };
    run(&ARPING, &mut r);
    assert!(!r.calls.iter().any(|c| c.starts_with("exec")));
}

/// Every acquiring call happens while its own capability is the one
/// raised last (a datagram kind: none), for every real descriptor,
/// whether the first kinds succeed or fall back.
#[test]
fn each_resource_is_acquired_under_its_own_capability() {
    for (tool, errnos) in policy::tools::ALL
        .iter()
        .flat_map(|t| [(*t, vec![]), (*t, RANGE_CLOSED.to_vec())])
    {
        let mut r = Recorder {
            errnos,
            ..Default::default()
        };
        run(tool, &mut r);
        let mut raised: Option<&str> = None;
        let mut acquired = 0;
        for call in &r.calls {
            if let Some(cap) = call.strip_prefix("raise ") {
                raised = Some(cap);
            } else if let Some(what) = call.strip_prefix("socket ") {
                let (name, ty) = what.split_once(' ').unwrap();
                let spec = tool.socket_named(name).unwrap();
                let kind = spec.kinds.iter().find(|k| k.type_name == ty).unwrap();
                assert_eq!(
                    raised,
                    Some(kind.capability.map_or("none", |c| c.kernel_name())),
                    "{}: {call}",
                    tool.name
                );
                if !r.errnos.iter().any(|(n, _)| n == call) {
                    acquired += 1;
                }
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
    let err = run(&CLOCKDIFF, &mut r).to_string();
    assert!(
        !r.calls.iter().any(|c| c.starts_with("socket")),
        "{:?}",
        r.calls
    );
    assert!(err.contains("missing CAP_NET_RAW"), "{err}");
    assert!(err.contains("setcap cap_net_raw,cap_sys_nice=p "), "{err}");
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
    let mut r = Recorder::setuid();
    run(&PING, &mut r);
    assert!(
        !r.calls.iter().any(|c| c.starts_with("raise")),
        "{:?}",
        r.calls
    );
    assert!(r.pos("socket icmp6 SOCK_DGRAM") < r.pos("drop_bounding_set"));
    assert!(r.pos("drop_bounding_set") < r.pos("drop_ids 1000 1000"));
    assert!(r.pos("drop_ids 1000 1000") < r.pos("clear_capabilities"));
    assert!(r.pos("clear_capabilities") < r.pos("set_no_new_privs"));
    assert!(r.pos("verify_dropped ids=true") < r.pos("check_worker"));
    assert!(r.pos("check_worker") < r.pos("exec"));
}

#[test]
fn one_optional_socket_failing_is_fine_and_names_only_the_opened_one() {
    let mut r = Recorder {
        fail: vec!["socket icmp4 SOCK_DGRAM"],
        ..Default::default()
    };
    run(&PING, &mut r);
    assert!(r.calls.contains(&"exec".to_string()));
    // EPERM is not a reason to try raw.
    assert!(!r.calls.contains(&"socket icmp4 SOCK_RAW".to_string()));
    let env = env_of(&r);
    assert!(env.contains(&"LISTEN_FDNAMES=icmp6".to_string()), "{env:?}");
    assert!(env.contains(&"LISTEN_FDS=1".to_string()), "{env:?}");
}

#[test]
fn no_socket_names_the_capability_and_never_execs() {
    let mut r = Recorder {
        fail: vec!["socket icmp4 SOCK_RAW"],
        ..Default::default()
    };
    let err = run(&CLOCKDIFF, &mut r).to_string();
    assert!(err.contains("missing CAP_NET_RAW"), "{err}");
    assert!(!r.calls.contains(&"exec".to_string()));
    // The drop happens on every path: nothing after the privileged
    // phase, the relocation included, runs with a capability.
    assert_eq!(
        r.calls.last().map(String::as_str),
        Some("clear_capabilities")
    );
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
        fail: vec!["socket arp SOCK_DGRAM"],
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
            "not_dumpable",
            "clear_capabilities",
            "set_no_new_privs",
            "verify_dropped ids=false",
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
        for step in ["drop_bounding_set", "drop_ids 1000 1000"] {
            let mut r = Recorder {
                fail: vec![step],
                ..Recorder::setuid()
            };
            run(tool, &mut r);
            assert!(
                !r.calls.contains(&"exec".to_string()),
                "{step} failed but exec ran"
            );
        }
    }
}

#[test]
fn a_failed_drop_ends_the_process_in_the_privileged_phase() {
    for (step, setuid) in [
        ("clear_capabilities", false),
        ("drop_bounding_set", true),
        ("drop_ids 1000 1000", true),
    ] {
        let mut r = Recorder {
            fail: vec![step],
            ..if setuid {
                Recorder::setuid()
            } else {
                Recorder::default()
            }
        };
        run(&PING, &mut r);
        let died = r.pos(step) + 1;
        assert!(
            r.calls[died].starts_with("die privsep-ping: cannot drop privileges ("),
            "{:?}",
            r.calls
        );
        assert!(r.calls[died].ends_with("): errno 1"), "{:?}", r.calls);
    }
    // Nothing after a failed bounding-set drop but the exit: not even
    // the ids.
    let mut r = Recorder {
        fail: vec!["drop_bounding_set"],
        ..Recorder::setuid()
    };
    run(&PING, &mut r);
    assert!(
        !r.calls.iter().any(|c| c.starts_with("drop_ids")),
        "{:?}",
        r.calls
    );
}

#[test]
fn a_failed_non_dumpable_ends_the_process_before_anything_else() {
    for r in [Recorder::default(), Recorder::setuid()] {
        let mut r = Recorder {
            fail: vec!["not_dumpable"],
            ..r
        };
        run(&ARPING, &mut r);
        // Nothing between the failure and the death: no acquisition,
        // and above all no return to the rest of the launcher with the
        // capabilities (or root's ids) still permitted.
        assert_eq!(
            r.calls[..2],
            [
                "not_dumpable".to_string(),
                "die privsep-arping: cannot make the process non-dumpable: errno 1".to_string()
            ],
            "{:?}",
            r.calls
        );
        assert!(!r.calls.contains(&"exec".to_string()), "{:?}", r.calls);
    }
}

#[test]
fn a_socket_at_a_closed_standard_fd_is_moved_to_its_place() {
    // Root with fds 0 and 1 closed: socket() returns 0, then 1.
    let mut r = Recorder {
        next_fd: 0,
        ids: ExecIds {
            uid: 0,
            euid: 0,
            gid: 0,
            egid: 0,
            secure: false,
        },
        ..Default::default()
    };
    run(&PING, &mut r);
    assert!(r.pos("socket icmp4 SOCK_DGRAM") < r.pos("move_fd 0 3"));
    assert!(r.pos("socket icmp6 SOCK_DGRAM") < r.pos("move_fd 1 4"));
    // Not a secure exec: nothing filled them; the sequence does,
    // after the drop.
    assert!(r.pos("clear_capabilities") < r.pos("fill_standard_fds 0b000"));
    assert!(r.pos("fill_standard_fds 0b000") < r.pos("set_no_new_privs"));
    assert!(r.calls.contains(&"exec".to_string()));
}

#[test]
fn a_socket_that_cannot_be_moved_counts_as_not_opened() {
    // fds 0–2 closed: the double's sockets land on 0, then 1. icmp6
    // cannot move to 4 (a tiny RLIMIT_NOFILE): it is optional, so ping
    // runs with icmp4 alone.
    let mut r = Recorder {
        next_fd: 0,
        fail: vec!["move_fd 1 4"],
        ..Default::default()
    };
    run(&PING, &mut r);
    assert!(r.calls.contains(&"exec".to_string()), "{:?}", r.calls);
    assert!(env_of(&r).contains(&"LISTEN_FDNAMES=icmp4".to_string()));
    // Neither can move (the second then wants fd 3): no socket at all,
    // which ping's worker words (the move's errno for each).
    let mut r = Recorder {
        next_fd: 0,
        fail: vec!["move_fd 0 3", "move_fd 1 3"],
        ..Default::default()
    };
    run(&PING, &mut r);
    let env = env_of(&r);
    assert!(env.contains(&"LISTEN_FDS=0".to_string()), "{env:?}");
    assert!(
        env.contains(&"PRIVSEP_SOCKETS_REFUSED=icmp4/SOCK_DGRAM/1:icmp6/SOCK_DGRAM/1".into()),
        "{env:?}"
    );
}

#[test]
fn a_secure_exec_with_fds_0_to_2_open_fills_nothing() {
    let mut r = Recorder::default();
    run(&PING, &mut r);
    assert!(r.calls.contains(&"exec".to_string()), "{:?}", r.calls);
    assert!(!r.calls.iter().any(|c| c.starts_with("fill_standard_fds")));
}

#[test]
fn a_tiny_nofile_limit_is_one_line_and_status_2() {
    let mut r = Recorder::default();
    privileged::refuse_tiny_nofile(&Plan::of(&PING), &mut r);
    assert_eq!(
        r.calls,
        ["die privsep-ping: RLIMIT_NOFILE is below 3: fds 0-2 cannot be checked"]
    );
}

#[test]
fn a_secure_exec_fills_the_fds_closed_at_exec() {
    let mut r = Recorder::default();
    let mut record = privileged::run(&Plan::of(&PING), r.ids, &mut r);
    record.closed_at_exec = 0b010;
    let _ = try_launch(&PING, record, &mut r, vec!["ping".into()], Vec::new());
    assert!(r.pos("fill_standard_fds 0b010") < r.pos("set_no_new_privs"));
    assert!(r.calls.contains(&"exec".to_string()), "{:?}", r.calls);
}

#[test]
fn without_its_privileged_phase_the_launcher_refuses() {
    let mut r = Recorder::default();
    let err = launch(&PING, None, &mut r, Vec::new(), Vec::new()).to_string();
    assert!(err.contains("privileged phase did not run"), "{err}");
    assert!(r.calls.is_empty(), "{:?}", r.calls);
}
