//! The compromised worker / compromised launcher. The agent installs this
//! binary at the worker's path (and label), or at the launcher's (with its
//! file capability and label), for any tool; the real launcher starts it
//! like the worker, with the tool's resources (sockets from fd 3 on, the
//! nice value) and argv passed through. It has no seccomp of its own —
//! unless the first argument is `--sandbox=TOOL`, when it applies that
//! tool's own worker profile (`policy::sandbox::lock_down`) first, which is
//! what the `none` configuration tests. Then it tries exactly one thing and
//! prints one line:
//!
//! `PROBE <op> result=allowed|denied errno=<NAME> …`
//!
//! Installed at `/bin/sh` it is the shell a compromised process would like to
//! run; it then just says that it ran (`PROBE sh result=ran`).

#![forbid(unsafe_code)]

use std::io::Write;

use crate::sys;

fn report(op: &str, r: std::io::Result<String>) -> ! {
    match r {
        Ok(what) => println!("PROBE {op} result=allowed {what}"),
        Err(e) => {
            let n = e.raw_os_error().unwrap_or(0);
            println!(
                "PROBE {op} result=denied errno={} ({n}: {e})",
                sys::errno_name(n)
            );
        }
    }
    let _ = std::io::stdout().flush();
    std::process::exit(0)
}

/// The security context and TOMOYO domain of this process, its uid, no_new_privs, its nice
/// value, and what sits at fds 3 to 7 (the handed sockets of any tool: at
/// most four, `launcher::plan::MAX_RESOURCES`, and a broker's channel;
/// mtr-packet's worker has all five).
pub fn whoami() -> String {
    let ctx = std::fs::read_to_string("/proc/self/attr/current").unwrap_or_default();
    let ctx = ctx.trim_end_matches(['\0', '\n']).to_string();
    let domain =
        std::fs::read_to_string("/sys/kernel/security/tomoyo/self_domain").unwrap_or_default();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |k: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(k))
            .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
    };
    let mut fds = Vec::new();
    for fd in [3, 4, 5, 6, 7] {
        let ty = sys::getsockopt_int(fd, libc::SOL_SOCKET, libc::SO_TYPE);
        let dom = sys::getsockopt_int(fd, libc::SOL_SOCKET, libc::SO_DOMAIN);
        // A packet socket's SO_PROTOCOL is always 0: its protocol is what getsockname reports
        // (sll_protocol, network byte order as socket() took it), as the worker's check reads it.
        let proto = if dom.as_ref().is_ok_and(|d| *d == libc::AF_PACKET) {
            policy::sys::packet_protocol(fd)
        } else {
            sys::getsockopt_int(fd, libc::SOL_SOCKET, libc::SO_PROTOCOL)
        };
        fds.push(match (ty, proto, dom) {
            (Ok(t), Ok(p), Ok(d)) => format!("fd{fd}=domain{d}/type{t}/proto{p}"),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                format!("fd{fd}={}", sys::errno_name(e.raw_os_error().unwrap_or(0)))
            }
        });
    }
    format!(
        "context={ctx} tomoyo_domain={} uid={} caps_prm={} caps_eff={} nnp={} nice={} {}",
        domain.trim().replace(' ', "_"),
        field("Uid:").unwrap_or_default().replace(' ', ","),
        field("CapPrm:").unwrap_or_default(),
        field("CapEff:").unwrap_or_default(),
        field("NoNewPrivs:").unwrap_or_default(),
        sys::nice_value().map_or_else(|e| e.to_string(), |n| n.to_string()),
        fds.join(" ")
    )
}

/// Entry point.
pub fn main(args: Vec<String>) -> ! {
    if args
        .first()
        .is_some_and(|a| a.ends_with("/sh") || a == "sh")
    {
        println!("PROBE sh result=ran {}", whoami());
        std::process::exit(0);
    }
    let mut rest: Vec<&str> = args.iter().skip(1).map(String::as_str).collect();
    if let Some(name) = rest.first().and_then(|a| a.strip_prefix("--sandbox=")) {
        let Some(tool) = policy::tools::Tool::by_name(name) else {
            println!("PROBE setup-failed: no tool {name:?}");
            std::process::exit(4);
        };
        rest.remove(0);
        let sockets = match policy::handoff::take_from_env(tool) {
            Ok(s) => s,
            Err(e) => {
                println!("PROBE setup-failed: handoff: {e}");
                std::process::exit(4);
            }
        };
        if let Err(e) = policy::sandbox::lock_down(tool.sandbox, &sockets) {
            println!("PROBE setup-failed: lock_down: {e}");
            std::process::exit(4);
        }
    }
    let op = rest.first().copied().unwrap_or("");
    match op {
        "whoami" => report(op, Ok(whoami())),
        // Long enough for PID 1 to look at this process from outside (.process_status).
        "hold" => {
            let (pid, _, _) = sys::ids();
            println!("PROBE hold result=allowed pid={pid} {}", whoami());
            let _ = std::io::stdout().flush();
            std::thread::sleep(std::time::Duration::from_secs(2));
            std::process::exit(0)
        }
        "raw-socket4" => report(
            op,
            sys::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_ICMP)
                .map(|fd| format!("fd={fd}")),
        ),
        // An ICMP datagram socket of its own (ping_group_range decides, no capability).
        "icmp-socket4" => report(
            op,
            sys::socket(libc::AF_INET, libc::SOCK_DGRAM, libc::IPPROTO_ICMP)
                .map(|fd| format!("fd={fd}")),
        ),
        "raw-socket6" => report(
            op,
            sys::socket(libc::AF_INET6, libc::SOCK_RAW, libc::IPPROTO_ICMPV6)
                .map(|fd| format!("fd={fd}")),
        ),
        // A packet socket of its own that sees every frame (arping's worker only ever holds the
        // launcher's, filtered to ARP).
        "packet-socket" => report(
            op,
            sys::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW,
                i32::from((libc::ETH_P_ALL as u16).to_be()),
            )
            .map(|fd| format!("fd={fd}")),
        ),
        // A higher priority than the one it was handed (clockdiff's worker gets nice -16).
        "nice-lower" => {
            let before = sys::nice_value();
            report(
                op,
                before.and_then(|n| {
                    sys::set_nice_value(n - 1)?;
                    Ok(format!("nice {n} -> {}", n - 1))
                }),
            )
        }
        "landlock-scope-signal" => landlock_scope_signal(),
        "landlock-scope-unix" => landlock_scope_unix(),
        "exec" if rest.len() == 2 => {
            let path = rest[1];
            // A probe at the target reports `whoami`; at /bin/sh it reports that the shell ran.
            let e = sys::execve(path, &[path.to_string(), "whoami".into()], &[]);
            report(op, Err(e))
        }
        "hdrincl" => report(
            op,
            sys::setsockopt_int(3, libc::IPPROTO_IP, libc::IP_HDRINCL, 1)
                .map(|()| "IP_HDRINCL set on fd 3".into()),
        ),
        "ptrace-parent" => {
            let (_, ppid, _) = sys::ids();
            report(
                op,
                sys::ptrace_attach(ppid).map(|()| format!("attached to {ppid}")),
            )
        }
        // Exfiltration over a fresh UDP socket to a port that is not DNS (9, discard).
        "udp-send" => report(
            op,
            sys::socket(libc::AF_INET, libc::SOCK_DGRAM, 0)
                .and_then(|fd| sys::sendto_v4(fd, b"x", 0x7f00_0001, 9))
                .map(|n| format!("sent {n} byte to 127.0.0.1:9")),
        ),
        "read-shadow" => report(
            op,
            std::fs::read_to_string("/etc/shadow").map(|s| format!("read {} bytes", s.len())),
        ),
        _ => {
            println!("PROBE setup-failed: unknown op {op:?}");
            std::process::exit(2);
        }
    }
}

/// The worker's own Landlock step (`policy::sandbox::apply_landlock`), alone: the scope cases
/// test Landlock, and the worker's seccomp filter would kill `kill` and `connect` first.
fn landlock_only() -> String {
    match policy::sandbox::apply_landlock() {
        Ok(status) => status,
        Err(e) => {
            println!("PROBE setup-failed: landlock: {e}");
            std::process::exit(4);
        }
    }
}

/// A child forked before Landlock is outside the domain: with the signal scope (ABI 6) the
/// sandboxed parent may not signal it.
fn landlock_scope_signal() -> ! {
    use nix::sys::signal::{kill, Signal};
    let child = match sys::fork() {
        Ok(sys::Fork::Child) => {
            std::thread::sleep(std::time::Duration::from_secs(3));
            std::process::exit(0);
        }
        Ok(sys::Fork::Parent(pid)) => nix::unistd::Pid::from_raw(pid),
        Err(e) => report("landlock-scope-signal", Err(e)),
    };
    let status = landlock_only();
    let r = kill(child, Signal::SIGTERM)
        .map(|()| format!("SIGTERM sent to pid {child} (landlock: {status})"))
        .map_err(|e| {
            println!("landlock: {status}");
            std::io::Error::from(e)
        });
    report("landlock-scope-signal", r)
}

/// An abstract unix socket bound before Landlock is outside the domain: with the
/// abstract-unix-socket scope (ABI 6) the sandboxed process may not connect to it.
fn landlock_scope_unix() -> ! {
    use nix::sys::socket::{
        bind, connect, listen, socket, AddressFamily, Backlog, SockFlag, SockType, UnixAddr,
    };
    let op = "landlock-scope-unix";
    let name = format!("privsep-vmtest-{}", std::process::id());
    let setup = || -> nix::Result<(std::os::fd::OwnedFd, UnixAddr)> {
        let addr = UnixAddr::new_abstract(name.as_bytes())?;
        let l = socket(
            AddressFamily::Unix,
            SockType::Stream,
            SockFlag::SOCK_CLOEXEC,
            None,
        )?;
        bind(std::os::fd::AsRawFd::as_raw_fd(&l), &addr)?;
        listen(&l, Backlog::new(1)?)?;
        Ok((l, addr))
    };
    let (_listener, addr) = match setup() {
        Ok(x) => x,
        Err(e) => {
            println!("PROBE setup-failed: abstract listener: {e}");
            std::process::exit(4);
        }
    };
    let status = landlock_only();
    let r = socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .and_then(|s| connect(std::os::fd::AsRawFd::as_raw_fd(&s), &addr))
    .map(|()| format!("connected to @{name} (landlock: {status})"))
    .map_err(|e| {
        println!("landlock: {status}");
        std::io::Error::from(e)
    });
    report(op, r)
}
