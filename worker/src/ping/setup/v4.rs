//! The IPv4 builder (upstream's `ping4_run` up to the `PING` line): the
//! source address from a UDP probe connected to the destination (which is
//! also how a broadcast destination is noticed), `-I`, the broadcast and
//! multicast rules, path MTU discovery, `-e`'s bind, `ICMP_FILTER`, the
//! error queue, a datagram socket's TTL and options as control messages,
//! the IP options of `-R`, `-T` and source-route hops, the buffers, `-b`,
//! `-L`, `-t` and `-Q`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};

use super::filter::V4_PASSED;
use super::ops::{Sock, SocketOps};
use super::{bind_to_device, fail, fail_errno, multicast_rules, set_buffers, set_mark, Build, Built};
use crate::ping::cli::{Options, TsType};
use crate::ping::icmp::Family;
use crate::text;
use crate::WorkerError;

/// Every IPv4 option of the handed-over socket, in upstream's order.
pub(super) fn configure<S: SocketOps>(
    ops: &mut S,
    b: Build<'_>,
    say: &mut dyn FnMut(String),
) -> Result<Built, WorkerError> {
    let Build {
        o,
        target,
        datagram,
        is_root,
        route,
        device,
        bind_port,
        mut pmtudisc,
        ..
    } = b;
    let IpAddr::V4(mut dst) = target.addr.ip() else {
        return Err(fail("internal: IPv4 target without an IPv4 address"));
    };
    let mut multicast = false;
    let mut src = o.interface.source4.unwrap_or(Ipv4Addr::UNSPECIFIED);
    if src.is_unspecified() {
        ops.open_probe(Family::V4)
            .map_err(|e| fail_errno("socket", e))?;
        if let Some(dev) = device {
            for s in [Sock::Probe, Sock::Main] {
                bind_to_device(ops, s, dev).map_err(|e| {
                    fail_errno(&format!("SO_BINDTODEVICE {}", text::printable(dev)), e)
                })?;
            }
        }
        if o.tos != 0 {
            if let Err(e) = ops.set_int(Sock::Probe, libc::IPPROTO_IP, libc::IP_TOS, o.tos) {
                say(format!(
                    "warning: QOS sockopts: {}",
                    text::os_error_text(&e)
                ));
            }
        }
        set_mark(ops, Sock::Probe, o, say);
        let first = route.first().copied().unwrap_or(dst);
        let probe_to = SocketAddr::V4(SocketAddrV4::new(first, 1025));
        if let Err(e) = ops.connect(Sock::Probe, probe_to) {
            if e.raw_os_error() == Some(libc::EACCES) {
                if !o.broadcast {
                    return Err(fail("Do you want to ping broadcast? Then -b. If not, check your local firewall rules"));
                }
                ops.stderr(b"WARNING: pinging broadcast address\n");
                ops.set_int(Sock::Probe, libc::SOL_SOCKET, libc::SO_BROADCAST, 1)
                    .map_err(|e| fail_errno("cannot set broadcasting", e))?;
                ops.connect(Sock::Probe, probe_to)
                    .map_err(|e| fail_errno("connect", e))?;
            } else {
                return Err(fail_errno("connect", e));
            }
        }
        let name = ops
            .local_address(Sock::Probe)
            .map_err(|e| fail_errno("getsockname", e))?;
        if let Some(SocketAddr::V4(a)) = name {
            src = *a.ip();
        }
        if let Some(dev) = device {
            if !ops.device_has(dev, IpAddr::V4(src)) {
                say(format!(
                    "Warning: source address might be selected on device other than: {}",
                    text::printable(dev)
                ));
            }
        }
        ops.close_probe();
    } else if let Some(dev) = device {
        bind_to_device(ops, Sock::Main, dev)
            .map_err(|e| fail_errno(&format!("SO_BINDTODEVICE {}", text::printable(dev)), e))?;
    }
    if dst.is_unspecified() {
        dst = src;
        target.addr = SocketAddr::V4(SocketAddrV4::new(dst, 0));
        target.numeric = dst.to_string();
        target.display = dst.to_string();
    }
    if o.broadcast || dst.is_multicast() {
        multicast = true;
        multicast_rules(o, is_root, &mut pmtudisc, "broadcast")?;
    }
    if let Some(p) = pmtudisc {
        ops.set_int(Sock::Main, libc::SOL_IP, libc::IP_MTU_DISCOVER, p)
            .map_err(|e| fail_errno("IP_MTU_DISCOVER", e))?;
    }
    if o.strict_source || bind_port != 0 {
        let a = SocketAddr::V4(SocketAddrV4::new(src, bind_port));
        ops.bind(Sock::Main, a).map_err(|e| fail_errno("bind", e))?;
    }
    // A raw socket sees every ICMP message: keep the kinds ping
    // reports. A datagram socket gets only echo replies to it.
    if !datagram {
        let pass: u32 = V4_PASSED.iter().fold(0, |m, t| m | (1 << t));
        if let Err(e) = ops.set_bytes(Sock::Main, libc::SOL_RAW, 1, &(!pass).to_ne_bytes()) {
            say(format!(
                "WARNING: setsockopt(ICMP_FILTER): {}",
                text::os_error_text(&e)
            ));
        }
    }
    if ops
        .set_int(Sock::Main, libc::SOL_IP, libc::IP_RECVERR, 1)
        .is_err()
    {
        say("WARNING: your kernel is veeery old. No problems.".into());
    }
    // Without the IP header, the TTL and the IP options (-R, -T)
    // come as control messages.
    if datagram {
        for (opt, name) in [
            (libc::IP_RECVTTL, "IP_RECVTTL"),
            (libc::IP_RETOPTS, "IP_RETOPTS"),
        ] {
            if let Err(e) = ops.set_int(Sock::Main, libc::SOL_IP, opt, 1) {
                say(format!(
                    "WARNING: setsockopt({name}): {}",
                    text::os_error_text(&e)
                ));
            }
        }
    }
    set_ip_options(ops, o, route)?;
    let optlen = o.ipv4_optlen() as i64;
    let hold = o.datalen as i64 + 8;
    set_buffers(
        ops,
        o,
        hold + ((hold + 511) / 512) * (optlen + 20 + 16 + 64 + 160),
        say,
    );
    if o.broadcast {
        ops.set_int(Sock::Main, libc::SOL_SOCKET, libc::SO_BROADCAST, 1)
            .map_err(|e| fail_errno("cannot set broadcasting", e))?;
    }
    if o.noloop {
        ops.set_int(Sock::Main, libc::IPPROTO_IP, libc::IP_MULTICAST_LOOP, 0)
            .map_err(|e| fail_errno("cannot disable multicast loopback", e))?;
    }
    if let Some(ttl) = o.ttl {
        ops.set_int(Sock::Main, libc::IPPROTO_IP, libc::IP_MULTICAST_TTL, ttl)
            .map_err(|e| fail_errno("cannot set multicast time-to-live", e))?;
        ops.set_int(Sock::Main, libc::IPPROTO_IP, libc::IP_TTL, ttl)
            .map_err(|e| fail_errno("cannot set unicast time-to-live", e))?;
    }
    if o.tos != 0 {
        ops.set_int(Sock::Main, libc::IPPROTO_IP, libc::IP_TOS, o.tos)
            .map_err(|e| fail_errno("setsockopt", e))?;
    }
    Ok(Built {
        source: IpAddr::V4(src),
        multicast,
        subnet_router_anycast: false,
    })
}

/// The IPv4 options of `-R`, `-T` and source-route hops (`IP_OPTIONS`).
fn set_ip_options<S: SocketOps>(
    ops: &mut S,
    o: &Options,
    route: &[Ipv4Addr],
) -> Result<(), WorkerError> {
    const NROUTES: usize = 9;
    if o.rroute {
        let mut rspace = [0u8; 3 + 4 * NROUTES + 1];
        rspace[0] = 1; // IPOPT_NOP
        rspace[1] = 7; // IPOPT_RR
        rspace[2] = (rspace.len() - 1) as u8;
        rspace[3] = 4; // IPOPT_MINOFF
        ops.set_bytes(Sock::Main, libc::IPPROTO_IP, libc::IP_OPTIONS, &rspace)
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
        if ops
            .set_bytes(
                Sock::Main,
                libc::IPPROTO_IP,
                libc::IP_OPTIONS,
                &rspace[..len],
            )
            .is_err()
        {
            rspace[3] = 2;
            ops.set_bytes(
                Sock::Main,
                libc::IPPROTO_IP,
                libc::IP_OPTIONS,
                &rspace[..len],
            )
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
        ops.set_bytes(
            Sock::Main,
            libc::IPPROTO_IP,
            libc::IP_OPTIONS,
            &rspace[..4 + route.len() * 4],
        )
        .map_err(|e| fail_errno("record route", e))?;
    }
    Ok(())
}
