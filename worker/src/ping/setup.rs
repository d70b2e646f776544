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
//! Options that need a capability the worker never holds (`-m` needs
//! `CAP_NET_ADMIN` or `CAP_NET_RAW` for `SO_MARK`, `-d` `CAP_NET_ADMIN` for
//! `SO_DEBUG`, source-route hops `CAP_NET_RAW`) get what upstream gives
//! when it lacks the capability: the warning and carry on (`-m`), silence
//! (`-d`, whose result upstream never checks) or the error (hops).

#![forbid(unsafe_code)]

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

use nix::sys::socket::{self as nsock, AddressFamily, SockFlag, SockType, SockaddrStorage};

use crate::ping::cli::{Options, Pmtu, TsType, MIN_MULTICAST_USER_INTERVAL_MS};
use crate::ping::engine::{Io, Prepared};
use crate::ping::icmp::{self, Family};
use crate::ping::resolve::{self, Target};
use crate::ping::resolver::Resolver;
use crate::sys::{self, Ready, Received, WaitMask};
use crate::text;

/// A refusal during setup: upstream's message and exit status (2 for all
/// of them), and whether upstream prints its usage text instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupError {
    pub msg: String,
    pub status: i32,
    pub usage: bool,
}

fn fail(msg: impl Into<String>) -> SetupError {
    SetupError {
        msg: msg.into(),
        status: 2,
        usage: false,
    }
}

fn fail_errno(what: &str, e: impl Into<io::Error>) -> SetupError {
    fail(format!("{what}: {}", text::os_error_text(&e.into())))
}

/// Classic BPF opcodes (linux/filter.h): class | size | mode.
mod bpf {
    /// `BPF_LD | BPF_B | BPF_ABS`
    pub const LD_B_ABS: u16 = 0x30;
    /// `BPF_LD | BPF_H | BPF_ABS`
    pub const LD_H_ABS: u16 = 0x28;
    /// `BPF_LD | BPF_B | BPF_IND`
    pub const LD_B_IND: u16 = 0x50;
    /// `BPF_LD | BPF_H | BPF_IND`
    pub const LD_H_IND: u16 = 0x48;
    /// `BPF_LDX | BPF_B | BPF_MSH`: X = 4 * (P[k] & 0xf), the IPv4 header length.
    pub const LDX_B_MSH: u16 = 0xb1;
    /// `BPF_JMP | BPF_JEQ | BPF_K`
    pub const JEQ_K: u16 = 0x15;
    /// `BPF_RET | BPF_K`
    pub const RET_K: u16 = 0x06;
}

fn insn(code: u16, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

/// The ICMP types the IPv4 socket passes (`ICMP_FILTER`): echo replies and
/// the errors upstream listens to.
pub const V4_PASSED: [u8; 6] = [0, 3, 4, 5, 11, 12];

/// The socket filter: pass echo replies carrying `ident` and the ICMP
/// error types, drop everything else in the kernel, so that other pings'
/// replies and unrelated ICMP on a busy host never wake the worker. IPv4
/// raw sockets see the IP header first (skipped with `ldx msh`, options
/// of `-R`/`-T` included), IPv6 ones do not.
pub fn socket_filter(family: Family, ident: u16) -> Vec<libc::sock_filter> {
    let (reply, errors): (u8, &[u8]) = match family {
        Family::V4 => (icmp::v4::ECHOREPLY, &[3, 4, 5, 11, 12]),
        Family::V6 => (icmp::v6::ECHO_REPLY, &[1, 2, 3, 4]),
    };
    let mut p = Vec::with_capacity(16);
    let (ld_b, ld_h) = match family {
        Family::V4 => {
            p.push(insn(bpf::LDX_B_MSH, 0, 0, 0));
            (bpf::LD_B_IND, bpf::LD_H_IND)
        }
        Family::V6 => (bpf::LD_B_ABS, bpf::LD_H_ABS),
    };
    let n = errors.len() as u8;
    // type == echo reply ? check the id : check the error types
    p.push(insn(ld_b, 0, 0, 0));
    p.push(insn(bpf::JEQ_K, 0, 3, u32::from(reply)));
    p.push(insn(ld_h, 0, 0, 4));
    p.push(insn(bpf::JEQ_K, 0, n + 2, u32::from(ident)));
    p.push(insn(bpf::RET_K, 0, 0, u32::MAX));
    for (i, &t) in errors.iter().enumerate() {
        let left = n - 1 - i as u8; // error-type tests after this one
        p.push(insn(
            bpf::JEQ_K,
            left,
            if left == 0 { 1 } else { 0 },
            u32::from(t),
        ));
    }
    p.push(insn(bpf::RET_K, 0, 0, u32::MAX));
    p.push(insn(bpf::RET_K, 0, 0, 0));
    p
}

/// `-N`'s socket filter: node information replies (their nonce is checked
/// in the loop) and the ICMPv6 error types.
pub fn nodeinfo_filter() -> Vec<libc::sock_filter> {
    let mut p = vec![insn(bpf::LD_B_ABS, 0, 0, 0)];
    let pass: [u8; 5] = [crate::ping::nodeinfo::REPLY, 1, 2, 3, 4];
    let n = pass.len() as u8;
    for (i, &t) in pass.iter().enumerate() {
        let left = n - 1 - i as u8;
        p.push(insn(
            bpf::JEQ_K,
            left,
            if left == 0 { 1 } else { 0 },
            u32::from(t),
        ));
    }
    p.push(insn(bpf::RET_K, 0, 0, u32::MAX));
    p.push(insn(bpf::RET_K, 0, 0, 0));
    p
}

/// Setup up to the `PING` line; [`Setup::finish`] does the rest.
pub struct Setup {
    pub prepared: Prepared,
    /// The `PING` line (printed by the caller unless -j).
    pub header: String,
    fd: RawFd,
}

fn to_std(ss: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(a) = ss.as_sockaddr_in() {
        return Some(SocketAddr::V4(SocketAddrV4::from(*a)));
    }
    ss.as_sockaddr_in6()
        .map(|a| SocketAddr::V6(SocketAddrV6::from(*a)))
}

fn setsockopt_int(fd: RawFd, level: i32, name: i32, v: i32) -> io::Result<()> {
    sys::setsockopt_int(fd, level, name, v)
}

/// `SO_BINDTODEVICE` (allowed without privilege on a socket not yet bound
/// to a device, since Linux 5.7).
fn bind_to_device(fd: RawFd, device: &str) -> io::Result<()> {
    let mut name = device.as_bytes().to_vec();
    name.push(0);
    sys::setsockopt_bytes(fd, libc::SOL_SOCKET, libc::SO_BINDTODEVICE, &name)
}

/// upstream's `sock_setmark`: the warning when the kernel refuses.
fn set_mark(fd: RawFd, o: &mut Options, say: &mut dyn FnMut(String)) {
    let Some(mark) = o.mark else { return };
    if let Err(e) = setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_MARK, mark as i32) {
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

/// The interfaces' names by index (for scoped addresses in the loop).
pub fn interface_names() -> Vec<(u32, String)> {
    nix::net::if_::if_nameindex()
        .map(|list| {
            list.iter()
                .map(|i| (i.index(), i.name().to_string_lossy().into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn if_index(device: &str) -> Result<u32, SetupError> {
    nix::net::if_::if_nametoindex(device)
        .map_err(|_| fail(format!("unknown iface: {}", text::printable(device))))
}

/// Whether `device` has the address `source` (upstream's getifaddrs walk).
fn device_has(device: &str, source: IpAddr) -> bool {
    let Ok(list) = nix::ifaddrs::getifaddrs() else {
        return true;
    };
    for ifa in list {
        if ifa.interface_name != device {
            continue;
        }
        let addr = ifa.address.as_ref().and_then(to_std);
        if addr.map(|a| a.ip()) == Some(source) {
            return true;
        }
    }
    false
}

/// upstream's `sock_setbufs`.
fn set_buffers(fd: RawFd, o: &Options, alloc: i64, say: &mut dyn FnMut(String)) {
    let clamp = |v: i64| v.clamp(0, i64::from(i32::MAX)) as i32;
    let sndbuf = o.sndbuf.unwrap_or(clamp(alloc));
    let _ = setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_SNDBUF, sndbuf);
    let preload = i64::from(o.preload.max(1));
    let hold = if alloc > i64::from(i32::MAX) / preload {
        say("WARNING: buffer size overflow, reduce packet size or preload".into());
        i64::from(i32::MAX)
    } else {
        alloc * preload
    };
    let rcvbuf = hold;
    let _ = setsockopt_int(
        fd,
        libc::SOL_SOCKET,
        libc::SO_RCVBUF,
        clamp(hold.max(65536)),
    );
    if let Ok(got) = sys::getsockopt_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUF) {
        if i64::from(got) < rcvbuf {
            say("WARNING: probably, rcvbuf is not enough to hold preload".into());
        }
    }
}

/// The IPv4 options of `-R`, `-T` and source-route hops (`IP_OPTIONS`).
fn set_ip_options(fd: RawFd, o: &Options, route: &[Ipv4Addr]) -> Result<(), SetupError> {
    const NROUTES: usize = 9;
    if o.rroute {
        let mut rspace = [0u8; 3 + 4 * NROUTES + 1];
        rspace[0] = 1; // IPOPT_NOP
        rspace[1] = 7; // IPOPT_RR
        rspace[2] = (rspace.len() - 1) as u8;
        rspace[3] = 4; // IPOPT_MINOFF
        sys::setsockopt_bytes(fd, libc::IPPROTO_IP, libc::IP_OPTIONS, &rspace)
            .map_err(|e| fail_errno("record route", e))?;
    }
    if let Some(ts) = o.timestamp {
        let mut rspace = [0u8; 3 + 4 * NROUTES + 1];
        rspace[0] = 68; // IPOPT_TIMESTAMP
        rspace[1] = if ts == TsType::TsOnly { 40 } else { 36 };
        rspace[2] = 5;
        rspace[3] = ts as u8;
        if ts == TsType::Prespec {
            rspace[1] = (4 + route.len() * 8) as u8;
            for (i, a) in route.iter().enumerate() {
                rspace[4 + i * 8..8 + i * 8].copy_from_slice(&a.octets());
            }
        }
        let len = usize::from(rspace[1]);
        if sys::setsockopt_bytes(fd, libc::IPPROTO_IP, libc::IP_OPTIONS, &rspace[..len]).is_err() {
            rspace[3] = 2;
            sys::setsockopt_bytes(fd, libc::IPPROTO_IP, libc::IP_OPTIONS, &rspace[..len])
                .map_err(|e| fail_errno("ts option", e))?;
        }
    }
    let source_route = !route.is_empty() && o.timestamp.is_none() && !o.rroute;
    if source_route {
        let mut rspace = [0u8; 3 + 4 * NROUTES + 1];
        rspace[0] = 1; // IPOPT_NOOP
        rspace[1] = if o.dontroute { 137 } else { 131 }; // IPOPT_SSRR : IPOPT_LSRR
        rspace[2] = (3 + route.len() * 4) as u8;
        rspace[3] = 4;
        for (i, a) in route.iter().enumerate() {
            rspace[4 + i * 4..8 + i * 4].copy_from_slice(&a.octets());
        }
        sys::setsockopt_bytes(
            fd,
            libc::IPPROTO_IP,
            libc::IP_OPTIONS,
            &rspace[..4 + route.len() * 4],
        )
        .map_err(|e| fail_errno("record route", e))?;
    }
    Ok(())
}

/// Resolves the source-route hops (every operand but the last), IPv4 only.
pub fn resolve_hops(o: &Options) -> Result<Vec<Ipv4Addr>, SetupError> {
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

/// `ping4_run` / `ping6_run` up to the `PING` line. `target` may change
/// (`ping 0` pings the source address). `say` prints a warning line.
#[allow(clippy::too_many_arguments)]
pub fn prepare(
    mut o: Options,
    mut target: Target,
    fd: RawFd,
    datagram: bool,
    other: Option<RawFd>,
    is_root: bool,
    prog: &str,
    route: &[Ipv4Addr],
    nodeinfo: Option<crate::ping::nodeinfo::Query>,
    say: &mut dyn FnMut(String),
) -> Result<Setup, SetupError> {
    let family = target.family;
    let ident = o
        .ident
        .unwrap_or_else(|| sys::random_u16().unwrap_or(std::process::id() as u16));
    let device = o.interface.device.clone();
    // upstream (`set_ident`): on a datagram socket an identifier given
    // with -e is the socket's port, so the socket is bound to it;
    // otherwise the kernel picks one at the first send.
    let bind_port = if datagram {
        o.ident.filter(|i| *i != 0).unwrap_or(0)
    } else {
        0
    };
    let mut multicast = false;
    let mut subnet_router_anycast = false;
    let mut pmtudisc = o.pmtudisc.map(|p| p as i32);
    let source: IpAddr;

    match family {
        Family::V4 => {
            let IpAddr::V4(mut dst) = target.addr.ip() else {
                return Err(fail("internal: IPv4 target without an IPv4 address"));
            };
            let mut src = o.interface.source4.unwrap_or(Ipv4Addr::UNSPECIFIED);
            if src.is_unspecified() {
                let probe = nsock::socket(
                    AddressFamily::Inet,
                    SockType::Datagram,
                    SockFlag::SOCK_CLOEXEC,
                    None,
                )
                .map_err(|e| fail_errno("socket", e))?;
                let pfd = probe.as_raw_fd();
                if let Some(dev) = &device {
                    for f in [pfd, fd] {
                        bind_to_device(f, dev).map_err(|e| {
                            fail_errno(&format!("SO_BINDTODEVICE {}", text::printable(dev)), e)
                        })?;
                    }
                }
                if o.tos != 0 {
                    if let Err(e) = setsockopt_int(pfd, libc::IPPROTO_IP, libc::IP_TOS, o.tos) {
                        say(format!(
                            "warning: QOS sockopts: {}",
                            text::os_error_text(&e)
                        ));
                    }
                }
                set_mark(pfd, &mut o, say);
                let first = route.first().copied().unwrap_or(dst);
                let probe_to =
                    SockaddrStorage::from(SocketAddr::V4(SocketAddrV4::new(first, 1025)));
                if let Err(e) = nsock::connect(pfd, &probe_to) {
                    if e == nix::errno::Errno::EACCES {
                        if !o.broadcast {
                            return Err(fail("Do you want to ping broadcast? Then -b. If not, check your local firewall rules"));
                        }
                        sys::write_all(2, b"WARNING: pinging broadcast address\n").ok();
                        setsockopt_int(pfd, libc::SOL_SOCKET, libc::SO_BROADCAST, 1)
                            .map_err(|e| fail_errno("cannot set broadcasting", e))?;
                        nsock::connect(pfd, &probe_to).map_err(|e| fail_errno("connect", e))?;
                    } else {
                        return Err(fail_errno("connect", e));
                    }
                }
                let name: SockaddrStorage =
                    nsock::getsockname(pfd).map_err(|e| fail_errno("getsockname", e))?;
                if let Some(SocketAddr::V4(a)) = to_std(&name) {
                    src = *a.ip();
                }
                if let Some(dev) = &device {
                    if !device_has(dev, IpAddr::V4(src)) {
                        say(format!(
                            "Warning: source address might be selected on device other than: {}",
                            text::printable(dev)
                        ));
                    }
                }
            } else if let Some(dev) = &device {
                bind_to_device(fd, dev).map_err(|e| {
                    fail_errno(&format!("SO_BINDTODEVICE {}", text::printable(dev)), e)
                })?;
            }
            if dst.is_unspecified() {
                dst = src;
                target.addr = SocketAddr::V4(SocketAddrV4::new(dst, 0));
                target.numeric = dst.to_string();
                target.display = dst.to_string();
            }
            source = IpAddr::V4(src);
            if o.broadcast || dst.is_multicast() {
                multicast = true;
                if !is_root {
                    if o.effective_interval_ms() < MIN_MULTICAST_USER_INTERVAL_MS {
                        return Err(fail(format!(
                            "minimal interval for broadcast ping for user must be >= {MIN_MULTICAST_USER_INTERVAL_MS} ms, use -i 1 (or higher)"
                        )));
                    }
                    if pmtudisc.is_some_and(|p| p != Pmtu::Do as i32) {
                        return Err(fail("broadcast ping does not fragment"));
                    }
                }
                pmtudisc.get_or_insert(Pmtu::Do as i32);
            }
            if let Some(p) = pmtudisc {
                setsockopt_int(fd, libc::SOL_IP, libc::IP_MTU_DISCOVER, p)
                    .map_err(|e| fail_errno("IP_MTU_DISCOVER", e))?;
            }
            if o.strict_source || bind_port != 0 {
                let a = SockaddrStorage::from(SocketAddr::V4(SocketAddrV4::new(src, bind_port)));
                nsock::bind(fd, &a).map_err(|e| fail_errno("bind", e))?;
            }
            // A raw socket sees every ICMP message: keep the kinds ping
            // reports. A datagram socket gets only echo replies to it.
            if !datagram {
                let pass: u32 = V4_PASSED.iter().fold(0, |m, t| m | (1 << t));
                if let Err(e) = sys::setsockopt_bytes(fd, libc::SOL_RAW, 1, &(!pass).to_ne_bytes())
                {
                    say(format!(
                        "WARNING: setsockopt(ICMP_FILTER): {}",
                        text::os_error_text(&e)
                    ));
                }
            }
            if setsockopt_int(fd, libc::SOL_IP, libc::IP_RECVERR, 1).is_err() {
                say("WARNING: your kernel is veeery old. No problems.".into());
            }
            // Without the IP header, the TTL and the IP options (-R, -T)
            // come as control messages.
            if datagram {
                for (opt, name) in [
                    (libc::IP_RECVTTL, "IP_RECVTTL"),
                    (libc::IP_RETOPTS, "IP_RETOPTS"),
                ] {
                    if let Err(e) = setsockopt_int(fd, libc::SOL_IP, opt, 1) {
                        say(format!(
                            "WARNING: setsockopt({name}): {}",
                            text::os_error_text(&e)
                        ));
                    }
                }
            }
            set_ip_options(fd, &o, route)?;
            let optlen = o.ipv4_optlen() as i64;
            let hold = o.datalen as i64 + 8;
            set_buffers(
                fd,
                &o,
                hold + ((hold + 511) / 512) * (optlen + 20 + 16 + 64 + 160),
                say,
            );
            if o.broadcast {
                setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_BROADCAST, 1)
                    .map_err(|e| fail_errno("cannot set broadcasting", e))?;
            }
            if o.noloop {
                setsockopt_int(fd, libc::IPPROTO_IP, libc::IP_MULTICAST_LOOP, 0)
                    .map_err(|e| fail_errno("cannot disable multicast loopback", e))?;
            }
            if let Some(ttl) = o.ttl {
                setsockopt_int(fd, libc::IPPROTO_IP, libc::IP_MULTICAST_TTL, ttl)
                    .map_err(|e| fail_errno("cannot set multicast time-to-live", e))?;
                setsockopt_int(fd, libc::IPPROTO_IP, libc::IP_TTL, ttl)
                    .map_err(|e| fail_errno("cannot set unicast time-to-live", e))?;
            }
            if o.tos != 0 {
                setsockopt_int(fd, libc::IPPROTO_IP, libc::IP_TOS, o.tos)
                    .map_err(|e| fail_errno("setsockopt", e))?;
            }
        }
        Family::V6 => {
            let SocketAddr::V6(mut dst) = target.addr else {
                return Err(fail("internal: IPv6 target without an IPv6 address"));
            };
            let link_local = |a: &Ipv6Addr| {
                (a.segments()[0] & 0xffc0) == 0xfe80 || (a.segments()[0] & 0xff0f) == 0xff02
            };
            let mut src = o.interface.source6.unwrap_or(Ipv6Addr::UNSPECIFIED);
            let mut src_scope = 0;
            if src.is_unspecified() {
                let probe = nsock::socket(
                    AddressFamily::Inet6,
                    SockType::Datagram,
                    SockFlag::SOCK_CLOEXEC,
                    None,
                )
                .map_err(|e| fail_errno("socket", e))?;
                let pfd = probe.as_raw_fd();
                if let Some(dev) = &device {
                    let index = if_index(dev)?;
                    if link_local(dst.ip()) {
                        dst.set_scope_id(index);
                    }
                    let mut pktinfo = [0u8; 20];
                    pktinfo[16..].copy_from_slice(&index.to_ne_bytes());
                    for f in [pfd, fd] {
                        sys::setsockopt_bytes(f, libc::IPPROTO_IPV6, libc::IPV6_PKTINFO, &pktinfo)
                            .map_err(|e| fail_errno("setsockopt(IPV6_PKTINFO)", e))?;
                    }
                    for f in [pfd, fd] {
                        bind_to_device(f, dev).map_err(|e| {
                            fail_errno(
                                &format!("setsockopt(SO_BINDTODEVICE) {}", text::printable(dev)),
                                e,
                            )
                        })?;
                    }
                }
                if o.tos != 0 {
                    setsockopt_int(pfd, libc::IPPROTO_IPV6, libc::IPV6_TCLASS, o.tos)
                        .map_err(|e| fail_errno("setsockopt(IPV6_TCLASS)", e))?;
                }
                set_mark(pfd, &mut o, say);
                // upstream (ping6_run) fills in the first hop's family only
                // when it is not link-local: for a link-local one its
                // connect() is an AF_UNSPEC disconnect and the source it
                // reads back is `::` (so the header says `from :: dev:` and
                // the device warning follows). Same here: no probe then.
                if !link_local(dst.ip()) {
                    let mut probe_to = dst;
                    probe_to.set_port(1025);
                    nsock::connect(pfd, &SockaddrStorage::from(SocketAddr::V6(probe_to)))
                        .map_err(|e| fail_errno("connect", e))?;
                    let name: SockaddrStorage =
                        nsock::getsockname(pfd).map_err(|e| fail_errno("getsockname", e))?;
                    if let Some(SocketAddr::V6(a)) = to_std(&name) {
                        src = *a.ip();
                        src_scope = a.scope_id();
                    }
                }
                if let Some(dev) = &device {
                    if !device_has(dev, IpAddr::V6(src)) {
                        say(format!(
                            "Warning: source address might be selected on device other than: {}",
                            text::printable(dev)
                        ));
                    }
                }
            } else if let Some(dev) = &device {
                if link_local(&src) {
                    src_scope = if_index(dev)?;
                }
            }
            if let (Some(dev), true) = (&device, o.strict_source) {
                bind_to_device(fd, dev).map_err(|e| {
                    fail_errno(&format!("SO_BINDTODEVICE {}", text::printable(dev)), e)
                })?;
            }
            target.addr = SocketAddr::V6(dst);
            source = IpAddr::V6(src);
            if dst.ip().is_multicast() {
                multicast = true;
                if !is_root {
                    if o.effective_interval_ms() < MIN_MULTICAST_USER_INTERVAL_MS {
                        return Err(fail(format!(
                            "minimal interval for multicast ping for user must be >= {MIN_MULTICAST_USER_INTERVAL_MS} ms, use -i 1 (or higher)"
                        )));
                    }
                    if pmtudisc.is_some_and(|p| p != Pmtu::Do as i32) {
                        return Err(fail("multicast ping does not fragment"));
                    }
                }
                pmtudisc.get_or_insert(Pmtu::Do as i32);
            }
            subnet_router_anycast = dst.ip().octets()[8..].iter().all(|b| *b == 0);
            if let Some(p) = pmtudisc {
                setsockopt_int(fd, libc::IPPROTO_IPV6, libc::IPV6_MTU_DISCOVER, p)
                    .map_err(|e| fail_errno("IPV6_MTU_DISCOVER", e))?;
            }
            if o.strict_source || bind_port != 0 {
                let a = SockaddrStorage::from(SocketAddr::V6(SocketAddrV6::new(
                    src, bind_port, 0, src_scope,
                )));
                nsock::bind(fd, &a).map_err(|e| fail_errno("bind icmp socket", e))?;
            }
            setsockopt_int(fd, libc::IPPROTO_IPV6, libc::IPV6_RECVERR, 1)
                .map_err(|e| fail_errno("IPV6_RECVERR", e))?;
            let hold = o.datalen as i64 + 8;
            set_buffers(
                fd,
                &o,
                hold + ((hold + 511) / 512) * (40 + 16 + 64 + 160),
                say,
            );
            // Raw only (upstream on Linux): a datagram socket computes its
            // checksums and receives nothing but echo replies to it.
            if !datagram {
                if let Err(e) = setsockopt_int(fd, libc::SOL_RAW, libc::IPV6_CHECKSUM, 2) {
                    say(format!(
                        "setsockopt(RAW_CHECKSUM) failed - try to continue: {}",
                        text::os_error_text(&e)
                    ));
                }
                // Echo replies (-N: node information replies) only: errors
                // come through the error queue.
                let mut filter = [u32::MAX; 8];
                let t = usize::from(if nodeinfo.is_some() {
                    crate::ping::nodeinfo::REPLY
                } else {
                    icmp::v6::ECHO_REPLY
                });
                filter[t >> 5] &= !(1 << (t & 31));
                let bytes: Vec<u8> = filter.iter().flat_map(|w| w.to_ne_bytes()).collect();
                sys::setsockopt_bytes(fd, libc::IPPROTO_ICMPV6, 1, &bytes)
                    .map_err(|e| fail_errno("setsockopt(ICMP6_FILTER)", e))?;
            }
            if o.noloop {
                setsockopt_int(fd, libc::IPPROTO_IPV6, libc::IPV6_MULTICAST_LOOP, 0)
                    .map_err(|e| fail_errno("can't disable multicast loopback", e))?;
            }
            if let Some(ttl) = o.ttl {
                setsockopt_int(fd, libc::IPPROTO_IPV6, libc::IPV6_MULTICAST_HOPS, ttl)
                    .map_err(|e| fail_errno("can't set multicast hop limit", e))?;
                setsockopt_int(fd, libc::IPPROTO_IPV6, libc::IPV6_UNICAST_HOPS, ttl)
                    .map_err(|e| fail_errno("can't set unicast hop limit", e))?;
            }
            setsockopt_int(fd, libc::IPPROTO_IPV6, libc::IPV6_RECVHOPLIMIT, 1)
                .map_err(|e| fail_errno("can't receive hop limit", e))?;
            if o.tos != 0 {
                setsockopt_int(fd, libc::IPPROTO_IPV6, libc::IPV6_TCLASS, o.tos)
                    .map_err(|e| fail_errno("setsockopt", e))?;
            }
            if let Some(label) = o.flowlabel {
                // struct in6_flowlabel_req: dst, label (network order),
                // action, share, flags, expires, linger, pad.
                const IPV6_FLOWLABEL_MGR: i32 = 32;
                const IPV6_FLOWINFO_SEND: i32 = 33;
                let mut req = [0u8; 32];
                req[..16].copy_from_slice(&dst.ip().octets());
                req[16..20].copy_from_slice(&(label & 0x000f_ffff).to_be_bytes());
                req[20] = 0; // IPV6_FL_A_GET
                req[21] = 1; // IPV6_FL_S_EXCL
                req[22..24].copy_from_slice(&1u16.to_ne_bytes()); // IPV6_FL_F_CREATE
                sys::setsockopt_bytes(fd, libc::IPPROTO_IPV6, IPV6_FLOWLABEL_MGR, &req)
                    .map_err(|e| fail_errno("can't set flowlabel", e))?;
                dst.set_flowinfo((label & 0x000f_ffff).to_be());
                target.addr = SocketAddr::V6(dst);
                setsockopt_int(fd, libc::IPPROTO_IPV6, IPV6_FLOWINFO_SEND, 1)
                    .map_err(|e| fail_errno("can't send flowinfo", e))?;
            }
        }
    }

    // A raw socket's filter keeps others' traffic out; a datagram socket
    // receives only what carries its own identifier already.
    let program = match (&nodeinfo, family) {
        _ if datagram => Vec::new(),
        (Some(_), Family::V6) => nodeinfo_filter(),
        _ => socket_filter(family, ident),
    };
    if !program.is_empty() {
        if let Err(e) = sys::attach_filter(fd, &program) {
            say(format!(
                "WARNING: failed to install socket filter: {}",
                text::os_error_text(&e)
            ));
        }
    }
    // The other family's socket stays open (it was handed over) but
    // accepts nothing, so it cannot fill with traffic.
    if let Some(other) = other {
        let _ = sys::attach_filter(other, &[insn(bpf::RET_K, 0, 0, 0)]);
    }

    // The PING line (upstream's ping_print_packet).
    let mut header = format!("PING {} ({}) ", target.hostname, target.numeric);
    if let Some(label) = o.flowlabel.filter(|l| *l != 0) {
        header.push_str(&format!(", flow 0x{label:05x}, "));
    }
    if device.is_some() || o.strict_source {
        let src = match source {
            IpAddr::V4(a) => a.to_string(),
            IpAddr::V6(a) => {
                let numeric = a.to_string();
                // upstream prints it with -n forced on: a name only with -H.
                let name = if o.force_lookup {
                    sys::getnameinfo(&SocketAddr::new(IpAddr::V6(a), 0), false)
                } else {
                    None
                };
                resolve::label(name.as_deref(), &numeric)
            }
        };
        header.push_str(&format!("from {src} {}: ", device.as_deref().unwrap_or("")));
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
                interface_names()
            } else {
                Vec::new()
            },
            nodeinfo,
        },
        header,
        fd,
    })
}

impl Setup {
    /// upstream's `setup()` after the `PING` line: the interval checks
    /// (exit 2), `-d`, `-r`, timestamps, `-m` on the socket, the send
    /// timeout, `-C`; then the signal handlers.
    pub fn finish(&mut self, say: &mut dyn FnMut(String)) -> Result<WaitMask, SetupError> {
        let fd = self.fd;
        let p = &mut self.prepared;
        if let Some(e) = crate::ping::cli::interval_error(&p.o, p.is_root) {
            return Err(fail(e.msg));
        }
        if p.o.so_debug {
            // upstream ignores the result: SO_DEBUG needs CAP_NET_ADMIN.
            let _ = setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_DEBUG, 1);
        }
        if p.o.dontroute {
            let _ = setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_DONTROUTE, 1);
        }
        if !p.o.latency && setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, 1).is_err() {
            say("Warning: no SO_TIMESTAMP support, falling back to SIOCGSTAMP".into());
        }
        set_mark(fd, &mut p.o, say);
        // A send must not block forever on a stalled device.
        let sndtimeo = if p.interval < 1000 {
            Duration::from_millis(p.interval.max(10) as u64)
        } else {
            Duration::from_secs(1)
        };
        let mut tv = Vec::with_capacity(16);
        tv.extend_from_slice(&(sndtimeo.as_secs() as i64).to_ne_bytes());
        tv.extend_from_slice(&i64::from(sndtimeo.subsec_micros()).to_ne_bytes());
        let _ = sys::setsockopt_bytes(fd, libc::SOL_SOCKET, libc::SO_SNDTIMEO, &tv);
        if p.o.connect {
            let to = SockaddrStorage::from(p.target.addr);
            nsock::connect(fd, &to).map_err(|e| fail_errno("connect failed", e))?;
        }
        sys::install_signal_handlers().map_err(|e| fail_errno("sigaction", e))
    }
}

/// The loop's real I/O: the handed-over socket, stdout and stderr, the
/// clocks, the signal flags, and the resolver co-process for the names of
/// addresses only known once packets arrive.
pub struct SysIo {
    pub fd: RawFd,
    pub wait_mask: WaitMask,
    pub resolver: Option<Resolver>,
}

impl Io for SysIo {
    fn send(&mut self, packet: &[u8], to: &SocketAddr) -> io::Result<usize> {
        sys::sendto(self.fd, packet, to)
    }
    fn recv(&mut self, buf: &mut [u8], control: &mut [u8], errqueue: bool) -> io::Result<Received> {
        let flags = if errqueue {
            libc::MSG_ERRQUEUE | libc::MSG_DONTWAIT
        } else {
            libc::MSG_DONTWAIT
        };
        sys::recvmsg(self.fd, buf, control, flags)
    }
    fn wait(&mut self, timeout: Duration) -> io::Result<Ready> {
        sys::ppoll(self.fd, timeout, &self.wait_mask)
    }
    fn stdout(&mut self, bytes: &[u8]) -> io::Result<()> {
        sys::write_all(1, bytes)
    }
    fn stderr(&mut self, bytes: &[u8]) {
        let _ = sys::write_all(2, bytes);
    }
    fn now(&mut self) -> Instant {
        Instant::now()
    }
    fn wall(&mut self) -> (i64, i64) {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        (d.as_secs() as i64, i64::from(d.subsec_micros()))
    }
    fn interrupted(&mut self) -> bool {
        sys::interrupted()
    }
    fn status_requested(&mut self) -> bool {
        sys::take_status_request()
    }
    fn reverse(&mut self, addr: &SocketAddr) -> Option<String> {
        let wait_mask = &self.wait_mask;
        self.resolver.as_mut()?.lookup(addr, wait_mask)
    }
}
#[cfg(test)]
mod tests;
