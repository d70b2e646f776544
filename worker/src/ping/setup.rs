//! Everything ping does before the sandbox, in upstream's order
//! (`ping4_run` / `ping6_run`, then `setup()`): the source address (a UDP
//! probe connected to the destination, which is also how a broadcast
//! destination is noticed), `-I` (`SO_BINDTODEVICE`, `IPV6_PKTINFO`, bind),
//! every socket option the command line asks for, the IP options of `-R`,
//! `-T` and source-route hops, the kernel filters (`ICMP_FILTER` /
//! `ICMP6_FILTER` and the classic BPF program, both following `-e`), the
//! buffers and the signal handlers. The result is an
//! [`engine::Prepared`](crate::ping::engine::Prepared) value and the `PING`
//! line; [`SysIo`] is the real I/O the loop then runs on.
//!
//! The two families are two builders, `v4` and `v6`, over one trait
//! of system calls, [`SocketOps`]: [`SysOps`] is the real one, and the
//! unit tests drive the builders with a recording double, checking every
//! option, warning and refusal without a staged install. [`filter`] holds
//! the kernel filters.
//!
//! Options that need a capability the worker never holds (`-m` needs
//! `CAP_NET_ADMIN` or `CAP_NET_RAW` for `SO_MARK`, `-d` `CAP_NET_ADMIN` for
//! `SO_DEBUG`, source-route hops `CAP_NET_RAW`) get what upstream gives
//! when it lacks the capability: the warning and carry on (`-m`), silence
//! (`-d`, whose result upstream never checks) or the error (hops).

#![forbid(unsafe_code)]

use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use crate::ping::cli::{Options, Pmtu, MIN_MULTICAST_USER_INTERVAL_MS};
use crate::ping::engine::Prepared;
use crate::ping::icmp::Family;
use crate::ping::resolve::{self, Target};
use crate::sys::{self, WaitMask};
use crate::{text, WorkerError};

pub mod filter;
mod ops;
mod sysio;
mod v4;
mod v6;

pub use filter::{nodeinfo_filter, socket_filter, V4_PASSED};
pub use ops::{Sock, SocketOps, SysOps};
pub use sysio::SysIo;

/// A refusal during setup, in upstream's words (its exit 2).
fn fail(msg: impl Into<String>) -> WorkerError {
    WorkerError::Fatal(msg.into())
}

/// A failed system call during setup: `what: strerror` (exit 2).
fn fail_errno(what: &str, e: impl Into<io::Error>) -> WorkerError {
    WorkerError::os(what.to_string(), e)
}

/// What setup starts from: the parsed command line, the resolved
/// destination and what the handoff said about the socket.
pub struct Request<'a> {
    pub o: Options,
    /// May change (`ping 0` pings the source address).
    pub target: Target,
    /// An ICMP datagram socket (no `CAP_NET_RAW`).
    pub datagram: bool,
    pub is_root: bool,
    /// The program name for messages (argv\[0\] as invoked).
    pub prog: &'a str,
    /// IPv4 source-route hops (every operand but the last), resolved.
    pub route: &'a [Ipv4Addr],
    /// `-N`: the node information query.
    pub nodeinfo: Option<crate::ping::nodeinfo::Query>,
}

/// Setup up to the `PING` line; [`Setup::finish`] does the rest.
pub struct Setup {
    pub prepared: Prepared,
    /// The `PING` line (printed by the caller unless -j).
    pub header: String,
}

/// What a family's builder works on.
struct Build<'a> {
    o: &'a mut Options,
    target: &'a mut Target,
    datagram: bool,
    is_root: bool,
    route: &'a [Ipv4Addr],
    /// `-N`: node information replies are what the socket receives.
    nodeinfo: bool,
    /// `-I` naming a device.
    device: Option<&'a str>,
    /// `-e` on a datagram socket: the port to bind (0: none).
    bind_port: u16,
    /// `-M` (`IP_PMTUDISC_*`), which broadcast and multicast force to `do`.
    pmtudisc: Option<i32>,
}

/// What a family's builder found out.
struct Built {
    /// The source address (the probe's, or `-I`'s).
    source: IpAddr,
    /// A broadcast or multicast destination.
    multicast: bool,
    /// IPv6: the destination looks like a subnet-router anycast address.
    subnet_router_anycast: bool,
}

/// upstream's rules for a broadcast or multicast destination (`kind`:
/// IPv4 says "broadcast" for both, IPv6 "multicast"): a user may not send
/// faster than every `MIN_MULTICAST_USER_INTERVAL_MS` nor ask for
/// fragmentation; path MTU discovery becomes `do` unless `-M` said so.
fn multicast_rules(
    o: &Options,
    is_root: bool,
    pmtudisc: &mut Option<i32>,
    kind: &str,
) -> Result<(), WorkerError> {
    if !is_root {
        if o.effective_interval_ms() < MIN_MULTICAST_USER_INTERVAL_MS {
            return Err(fail(format!(
                "minimal interval for {kind} ping for user must be >= {MIN_MULTICAST_USER_INTERVAL_MS} ms, use -i 1 (or higher)"
            )));
        }
        if pmtudisc.is_some_and(|p| p != Pmtu::Do as i32) {
            return Err(fail(format!("{kind} ping does not fragment")));
        }
    }
    pmtudisc.get_or_insert(Pmtu::Do as i32);
    Ok(())
}

/// `SO_BINDTODEVICE` (allowed without privilege on a socket not yet bound
/// to a device, since Linux 5.7).
fn bind_to_device<S: SocketOps>(ops: &mut S, s: Sock, device: &str) -> io::Result<()> {
    let mut name = device.as_bytes().to_vec();
    name.push(0);
    ops.set_bytes(s, libc::SOL_SOCKET, libc::SO_BINDTODEVICE, &name)
}

/// upstream's `sock_setmark`: the warning when the kernel refuses.
fn set_mark<S: SocketOps>(ops: &mut S, s: Sock, o: &mut Options, say: &mut dyn FnMut(String)) {
    let Some(mark) = o.mark else { return };
    if let Err(e) = ops.set_int(s, libc::SOL_SOCKET, libc::SO_MARK, mark as i32) {
        say(format!(
            "WARNING: failed to set mark: {mark}: {}",
            text::os_error_text(&e)
        ));
        if e.raw_os_error() == Some(libc::EPERM) {
            say(
                "=> missing cap_net_admin+p or cap_net_raw+p (since Linux 5.17) capability?".into(),
            );
        }
        o.mark = None;
    }
}

/// upstream's `sock_setbufs`.
fn set_buffers<S: SocketOps>(ops: &mut S, o: &Options, alloc: i64, say: &mut dyn FnMut(String)) {
    let clamp = |v: i64| v.clamp(0, i64::from(i32::MAX)) as i32;
    let sndbuf = o.sndbuf.unwrap_or(clamp(alloc));
    let _ = ops.set_int(Sock::Main, libc::SOL_SOCKET, libc::SO_SNDBUF, sndbuf);
    let preload = i64::from(o.preload.max(1));
    let hold = if alloc > i64::from(i32::MAX) / preload {
        say("WARNING: buffer size overflow, reduce packet size or preload".into());
        i64::from(i32::MAX)
    } else {
        alloc * preload
    };
    let rcvbuf = hold;
    let _ = ops.set_int(
        Sock::Main,
        libc::SOL_SOCKET,
        libc::SO_RCVBUF,
        clamp(hold.max(65536)),
    );
    if let Ok(got) = ops.get_int(Sock::Main, libc::SOL_SOCKET, libc::SO_RCVBUF) {
        if i64::from(got) < rcvbuf {
            say("WARNING: probably, rcvbuf is not enough to hold preload".into());
        }
    }
}

/// Resolves the source-route hops (every operand but the last), IPv4 only.
pub fn resolve_hops(o: &Options) -> Result<Vec<Ipv4Addr>, WorkerError> {
    let mut route = Vec::new();
    let n = o.destinations.len();
    if n < 2 {
        return Ok(route);
    }
    for hop in &o.destinations {
        if let Some(a) = sys::parse_inet_aton(hop) {
            route.push(a);
            continue;
        }
        let t = resolve::resolve(hop, Some(Family::V4), true, false)
            .map_err(|e| fail(e.to_string()))?;
        match t.addr.ip() {
            IpAddr::V4(a) => route.push(a),
            IpAddr::V6(_) => {
                return Err(fail(format!(
                    "{hop}: Address family for hostname not supported"
                )))
            }
        }
    }
    Ok(route)
}

/// `ping4_run` / `ping6_run` up to the `PING` line, through `ops`.
/// `say` prints a warning line.
pub fn prepare<S: SocketOps>(
    ops: &mut S,
    req: Request<'_>,
    say: &mut dyn FnMut(String),
) -> Result<Setup, WorkerError> {
    let Request {
        mut o,
        mut target,
        datagram,
        is_root,
        prog,
        route,
        nodeinfo,
    } = req;
    let family = target.family;
    let ident = o
        .ident
        .unwrap_or_else(|| ops.random_u16().unwrap_or(std::process::id() as u16));
    let device = o.interface.device.clone();
    let device = device.as_deref();
    // upstream (`set_ident`): on a datagram socket an identifier given
    // with -e is the socket's port, so the socket is bound to it;
    // otherwise the kernel picks one at the first send.
    let bind_port = if datagram {
        o.ident.filter(|i| *i != 0).unwrap_or(0)
    } else {
        0
    };
    let b = Build {
        pmtudisc: o.pmtudisc.map(|p| p as i32),
        o: &mut o,
        target: &mut target,
        datagram,
        is_root,
        route,
        nodeinfo: nodeinfo.is_some(),
        device,
        bind_port,
    };
    let Built {
        source,
        multicast,
        subnet_router_anycast,
    } = match family {
        Family::V4 => v4::configure(ops, b, say)?,
        Family::V6 => v6::configure(ops, b, say)?,
    };

    // A raw socket's filter keeps others' traffic out; a datagram socket
    // receives only what carries its own identifier already.
    let program = match (&nodeinfo, family) {
        _ if datagram => Vec::new(),
        (Some(_), Family::V6) => nodeinfo_filter(),
        _ => socket_filter(family, ident),
    };
    if !program.is_empty() {
        if let Err(e) = ops.attach_filter(&program) {
            say(format!(
                "WARNING: failed to install socket filter: {}",
                text::os_error_text(&e)
            ));
        }
    }
    // The other family's socket stays open (it was handed over) but
    // accepts nothing, so it cannot fill with traffic.
    ops.attach_other_filter(&filter::reject_all());

    // The PING line (upstream's ping_print_packet).
    let mut header = format!("PING {} ({}) ", target.hostname, target.numeric);
    // Only ping6 has a flow label (and prints it): -F is ignored for IPv4.
    if let Some(label) = o.flowlabel.filter(|l| *l != 0 && family == Family::V6) {
        header.push_str(&format!(", flow 0x{label:05x}, "));
    }
    if device.is_some() || o.strict_source {
        let src = match source {
            IpAddr::V4(a) => a.to_string(),
            IpAddr::V6(a) => {
                let numeric = a.to_string();
                // upstream prints it with -n forced on: a name only with -H.
                let name = if o.force_lookup {
                    ops.reverse_name(IpAddr::V6(a))
                } else {
                    None
                };
                resolve::label(name.as_deref(), &numeric)
            }
        };
        header.push_str(&format!("from {src} {}: ", device.unwrap_or("")));
    }
    match family {
        Family::V4 => header.push_str(&format!(
            "{}({}) bytes of data.",
            o.datalen,
            o.datalen + 8 + o.ipv4_optlen() + 20
        )),
        Family::V6 => header.push_str(&format!("{} data bytes", o.datalen)),
    }
    let header = text::printable(&header).into_owned();

    let interval = o.effective_interval_ms();
    Ok(Setup {
        prepared: Prepared {
            o,
            target,
            ident,
            datagram,
            is_root,
            prog: prog.to_string(),
            interval,
            multicast,
            subnet_router_anycast,
            // Only IPv6 addresses carry scopes (and only then a netlink
            // socket is opened for the table).
            ifnames: if family == Family::V6 {
                ops.interface_names()
            } else {
                Vec::new()
            },
            nodeinfo,
        },
        header,
    })
}

impl Setup {
    /// upstream's `setup()` after the `PING` line: the interval checks
    /// (exit 2), `-d`, `-r`, timestamps, `-m` on the socket, the send
    /// timeout, `-C`; then the signal handlers.
    pub fn finish<S: SocketOps>(
        &mut self,
        ops: &mut S,
        say: &mut dyn FnMut(String),
    ) -> Result<WaitMask, WorkerError> {
        self.socket_options(ops, say)?;
        sys::install_signal_handlers().map_err(|e| fail_errno("sigaction", e))
    }

    /// [`Setup::finish`] but the signal handlers.
    fn socket_options<S: SocketOps>(
        &mut self,
        ops: &mut S,
        say: &mut dyn FnMut(String),
    ) -> Result<(), WorkerError> {
        let p = &mut self.prepared;
        if let Some(e) = crate::ping::cli::interval_error(&p.o, p.is_root) {
            return Err(e);
        }
        if p.o.so_debug {
            // upstream ignores the result: SO_DEBUG needs CAP_NET_ADMIN.
            let _ = ops.set_int(Sock::Main, libc::SOL_SOCKET, libc::SO_DEBUG, 1);
        }
        if p.o.dontroute {
            let _ = ops.set_int(Sock::Main, libc::SOL_SOCKET, libc::SO_DONTROUTE, 1);
        }
        if !p.o.latency
            && ops
                .set_int(Sock::Main, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, 1)
                .is_err()
        {
            say("Warning: no SO_TIMESTAMP support, falling back to SIOCGSTAMP".into());
        }
        set_mark(ops, Sock::Main, &mut p.o, say);
        // A send must not block forever on a stalled device.
        let sndtimeo = if p.interval < 1000 {
            Duration::from_millis(p.interval.max(10) as u64)
        } else {
            Duration::from_secs(1)
        };
        let mut tv = Vec::with_capacity(16);
        tv.extend_from_slice(&(sndtimeo.as_secs() as i64).to_ne_bytes());
        tv.extend_from_slice(&i64::from(sndtimeo.subsec_micros()).to_ne_bytes());
        let _ = ops.set_bytes(Sock::Main, libc::SOL_SOCKET, libc::SO_SNDTIMEO, &tv);
        if p.o.connect {
            ops.connect(Sock::Main, p.target.addr)
                .map_err(|e| fail_errno("connect failed", e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
