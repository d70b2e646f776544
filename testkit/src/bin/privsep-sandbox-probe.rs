//! A stand-in for a compromised worker: sets up like the real one (raw ICMP
//! sockets opened as root, then every id dropped to `nobody`), applies the
//! worker's exact sandbox profile with `policy::sandbox::lock_down`, and then
//! performs one action named on the command line. The sandbox tests run it
//! once per action and check how it ends (killed by SIGSYS, refused, or
//! working).
//!
//! Usage (as root): `sandbox_probe ACTION [TOOL]`; `sandbox_probe list`
//! prints the actions. TOOL (default `ping`) names the descriptor whose
//! sockets are opened and whose profile is applied. Output: the sandbox report, `locked`, `attempt ACTION`, and
//! `returned: …` if the action came back at all. Exit 0 when it returned,
//! 3 when the setup failed.

#![forbid(unsafe_code)]

use std::ffi::CStr;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsRawFd, IntoRawFd, RawFd};

use policy::handoff::HandedSocket;
use policy::sandbox;
use policy::tools::{Tool, ICMP4, ICMP6, PING};
use testkit::probe;

const NOBODY: u32 = 65534;

/// The descriptor numbers `hold` leaves open before its lock-down
/// (`testkit/tests/sandbox.rs` checks that none survives it).
const STRAYS: [RawFd; 4] = [9, 63, 64, 200];

/// Actions that must not succeed after lock-down, then the ones that must.
const ACTIONS: &[&str] = &[
    "socket-raw",
    "socket-udp",
    "execve",
    "openat",
    "connect",
    "bind",
    "ptrace",
    "hdrincl",
    "unshare",
    "mount",
    "kill-parent",
    "tgkill-parent",
    "dumpable",
    "fork",
    "mmap-exec",
    "write-socket",
    "setpriority",
    "ping",
    "abort",
    "exit",
    "hold",
    "nproc",
    "landlock-open",
    "landlock-tcp",
];

fn say(line: impl AsRef<str>) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", line.as_ref());
    let _ = out.flush();
}

fn setup_fail(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("sandbox_probe: setup: {what}: {e}");
    std::process::exit(3);
}

/// Opens `tool`'s sockets like the launcher (IPv6 may be missing).
fn open_sockets(tool: &'static Tool) -> Vec<HandedSocket> {
    let mut out = Vec::new();
    for spec in tool.sockets() {
        // The last kind: the raw one where there are alternatives (the
        // probe runs as root, and raw is what the sandbox must contain).
        let kind = spec.last_kind();
        match probe::socket(spec.domain, kind.ty, spec.protocol) {
            Ok(fd) => out.push(HandedSocket {
                fd: fd.into_raw_fd(),
                spec,
                kind: Some(kind),
            }),
            Err(e) if spec == &ICMP6 => say(format!("no icmp6 socket: {e}")),
            Err(e) => setup_fail("raw ICMPv4 socket (run as root)", e),
        }
    }
    out
}

use policy::inet::checksum;

/// One echo request to the loopback address of `s`'s family and its reply,
/// on the inherited socket only.
fn ping(s: &HandedSocket, seq: u16) -> Result<String, String> {
    let id = (std::process::id() & 0xffff) as u16;
    let v4 = s.spec == &ICMP4;
    let (req, reply, dst) = if v4 {
        (8u8, 0u8, IpAddr::V4(Ipv4Addr::LOCALHOST))
    } else {
        (128, 129, IpAddr::V6(Ipv6Addr::LOCALHOST))
    };
    let mut pkt = vec![req, 0, 0, 0];
    pkt.extend_from_slice(&id.to_be_bytes());
    pkt.extend_from_slice(&seq.to_be_bytes());
    pkt.extend_from_slice(b"privsep sandbox probe");
    if v4 {
        let c = checksum(&pkt);
        pkt[2..4].copy_from_slice(&c.to_be_bytes());
    } // The kernel fills in the ICMPv6 checksum.
    probe::sendto(s.fd, &pkt, &SocketAddr::new(dst, 0)).map_err(|e| format!("sendto: {e}"))?;
    let mut buf = [0u8; 2048];
    // A bound on a hang, not a timed assertion: loopback answers at once.
    for _ in 0..100 {
        if !probe::poll_in(s.fd, Some(20_000)).map_err(|e| format!("poll: {e}"))? {
            return Err("no reply within 20 s".into());
        }
        let n = probe::recv(s.fd, &mut buf).map_err(|e| format!("recvmsg: {e}"))?;
        // Raw IPv4 sockets deliver the IP header, raw IPv6 ones do not.
        let off = if v4 {
            usize::from(buf[0] & 0x0f) * 4
        } else {
            0
        };
        let icmp = &buf[off.min(n)..n];
        if icmp.len() >= 8
            && icmp[0] == reply
            && icmp[4..6] == id.to_be_bytes()
            && icmp[6..8] == seq.to_be_bytes()
        {
            return Ok(format!("echo reply from {dst} seq={seq}"));
        }
    }
    Err("only foreign packets".into())
}

fn returned<T: std::fmt::Debug>(r: std::io::Result<T>) -> String {
    match r {
        Ok(v) => format!("returned: ok {v:?}"),
        Err(e) => format!("returned: errno {} ({e})", e.raw_os_error().unwrap_or(0)),
    }
}

fn cstr(b: &'static [u8]) -> &'static CStr {
    CStr::from_bytes_with_nul(b).expect("literal is NUL-terminated")
}

fn main() {
    let action = std::env::args().nth(1).unwrap_or_default();
    if action == "list" {
        ACTIONS.iter().for_each(say);
        return;
    }
    if !ACTIONS.contains(&action.as_str()) {
        eprintln!("sandbox_probe: unknown action {action:?} (try `list`)");
        std::process::exit(2);
    }

    let tool = match std::env::args().nth(2) {
        None => &PING,
        Some(name) => Tool::by_name(&name).unwrap_or_else(|| {
            eprintln!("sandbox_probe: unknown tool {name:?}");
            std::process::exit(2);
        }),
    };
    let sockets = open_sockets(tool);
    if let Err(e) = probe::drop_to(NOBODY, NOBODY) {
        setup_fail("drop to nobody", e);
    }
    if let Err(e) = probe::set_dumpable(false) {
        setup_fail("PR_SET_DUMPABLE 0", e);
    }

    if action == "nproc" {
        // The rlimits alone, so that fork() reaches RLIMIT_NPROC instead
        // of seccomp.
        let rlimits = sandbox::apply_rlimits(&sockets).unwrap_or_else(|e| setup_fail("rlimits", e));
        say(format!("rlimits: {rlimits}"));
        let nproc = policy::sys::getrlimit(policy::sys::Resource::RLIMIT_NPROC);
        let fsize = policy::sys::getrlimit(policy::sys::Resource::RLIMIT_FSIZE);
        say(format!("getrlimit nproc={nproc:?} fsize={fsize:?}"));
        say("attempt fork");
        say(returned(probe::fork_and_reap()));
        return;
    }

    if let Some(what) = action.strip_prefix("landlock-") {
        // Landlock alone: with the whole profile, seccomp would kill these
        // calls before Landlock is asked.
        let status = sandbox::apply_landlock().unwrap_or_else(|e| setup_fail("landlock", e));
        say(format!("landlock: {status}"));
        say(format!("attempt {action}"));
        let line = if what == "open" {
            returned(probe::open_read(cstr(b"/etc/passwd\0")))
        } else {
            let tcp = probe::socket(libc::AF_INET, libc::SOCK_STREAM, 0)
                .unwrap_or_else(|e| setup_fail("tcp socket", e));
            let port1: SocketAddr = "127.0.0.1:1".parse().expect("literal address");
            returned(probe::connect(tcp.as_raw_fd(), &port1))
        };
        say(line);
        return;
    }

    // Everything the actions need is computed before lock-down, so that the
    // action's own system call is the first one after `attempt …`.
    let parent = probe::getppid();
    if action == "hold" {
        // Strays for the lock-down to find (below 64: reported) or close
        // unlisted (above), as a resolver could leave them.
        for stray in STRAYS {
            probe::dup_to(0, stray).unwrap_or_else(|e| setup_fail("dup2", e));
        }
    }
    let report =
        sandbox::lock_down(tool.sandbox, &sockets).unwrap_or_else(|e| setup_fail("lock_down", e));
    say(format!("{report}"));
    say("locked");
    say(format!("attempt {action}"));
    let fd: RawFd = sockets[0].fd;
    let lo: SocketAddr = "127.0.0.1:0".parse().expect("literal address");
    let line = match action.as_str() {
        "socket-raw" => returned(probe::socket(
            libc::AF_INET,
            libc::SOCK_RAW,
            libc::IPPROTO_ICMP,
        )),
        "socket-udp" => returned(probe::socket(libc::AF_INET, libc::SOCK_DGRAM, 0)),
        "execve" => returned::<()>(Err(probe::execve(cstr(b"/bin/true\0")))),
        "openat" => returned(probe::open_read(cstr(b"/etc/passwd\0"))),
        "connect" => returned(probe::connect(fd, &lo)),
        "bind" => returned(probe::bind(fd, &lo)),
        "ptrace" => returned(probe::ptrace_attach(parent)),
        "hdrincl" => returned(probe::setsockopt_int(
            fd,
            libc::IPPROTO_IP,
            libc::IP_HDRINCL,
            1,
        )),
        "unshare" => returned(probe::unshare(libc::CLONE_NEWNS)),
        "mount" => returned(probe::mount_tmpfs(cstr(b"/tmp\0"))),
        "kill-parent" => returned(probe::kill(parent, 0)),
        "tgkill-parent" => returned(probe::tgkill(parent, parent, 0)),
        "dumpable" => returned(probe::set_dumpable(true)),
        "fork" => returned(probe::fork_and_reap()),
        "mmap-exec" => returned(probe::mmap_exec()),
        "write-socket" => returned(probe::write(fd, b"\x08\0\0\0")),
        "setpriority" => returned(probe::setpriority(0)),
        "ping" => {
            for (seq, s) in sockets.iter().enumerate() {
                match ping(s, seq as u16 + 1) {
                    Ok(l) => say(l),
                    Err(e) => say(format!("{}: {e}", s.name())),
                }
            }
            "returned: pinged".into()
        }
        "abort" => std::process::abort(),
        "exit" => "returned: exiting".into(),
        "hold" => {
            // Parked for the test to read /proc/<pid>/…, until it closes our
            // stdin (POLLHUP).
            say("holding");
            let _ = probe::poll_in(0, None);
            "returned: released".into()
        }
        _ => unreachable!("checked against ACTIONS"),
    };
    say(line);
}
