//! The IPv6 builder (upstream's `ping6_run` up to the `PING` line): the
//! source address from a UDP probe (none for a link-local destination),
//! `-I` (`IPV6_PKTINFO`, `SO_BINDTODEVICE`, the scope of link-local
//! addresses), the multicast rules, path MTU discovery, `-e`'s bind, the
//! error queue, the buffers, a raw socket's checksum offset and
//! `ICMP6_FILTER`, `-L`, `-t`, the hop limit, `-Q` and `-F`'s flow label.

use std::net::{IpAddr, Ipv6Addr, SocketAddr, SocketAddrV6};

use super::ops::{Sock, SocketOps};
use super::{bind_to_device, fail, fail_errno, multicast_rules, set_buffers, set_mark, Build, Built};
use crate::ping::icmp::{self, Family};
use crate::text;
use crate::WorkerError;

/// A link-local unicast (`fe80::/10`) or link-local multicast (`ff02::/16`
/// with any flags) address: it needs an interface (a scope).
fn link_local(a: &Ipv6Addr) -> bool {
    (a.segments()[0] & 0xffc0) == 0xfe80 || (a.segments()[0] & 0xff0f) == 0xff02
}

/// Every IPv6 option of the handed-over socket, in upstream's order.
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
        nodeinfo,
        device,
        bind_port,
        mut pmtudisc,
        ..
    } = b;
    let SocketAddr::V6(mut dst) = target.addr else {
        return Err(fail("internal: IPv6 target without an IPv6 address"));
    };
    let mut multicast = false;
    let mut src = o.interface.source6.unwrap_or(Ipv6Addr::UNSPECIFIED);
    let mut src_scope = 0;
    if src.is_unspecified() {
        ops.open_probe(Family::V6)
            .map_err(|e| fail_errno("socket", e))?;
        if let Some(dev) = device {
            let index = if_index(ops, dev)?;
            if link_local(dst.ip()) {
                dst.set_scope_id(index);
            }
            let mut pktinfo = [0u8; 20];
            pktinfo[16..].copy_from_slice(&index.to_ne_bytes());
            for s in [Sock::Probe, Sock::Main] {
                ops.set_bytes(s, libc::IPPROTO_IPV6, libc::IPV6_PKTINFO, &pktinfo)
                    .map_err(|e| fail_errno("setsockopt(IPV6_PKTINFO)", e))?;
            }
            for s in [Sock::Probe, Sock::Main] {
                bind_to_device(ops, s, dev).map_err(|e| {
                    fail_errno(
                        &format!("setsockopt(SO_BINDTODEVICE) {}", text::printable(dev)),
                        e,
                    )
                })?;
            }
        }
        if o.tos != 0 {
            ops.set_int(Sock::Probe, libc::IPPROTO_IPV6, libc::IPV6_TCLASS, o.tos)
                .map_err(|e| fail_errno("setsockopt(IPV6_TCLASS)", e))?;
        }
        set_mark(ops, Sock::Probe, o, say);
        // upstream (ping6_run) fills in the first hop's family only
        // when it is not link-local: for a link-local one its
        // connect() is an AF_UNSPEC disconnect and the source it
        // reads back is `::` (so the header says `from :: dev:` and
        // the device warning follows). Same here: no probe then.
        if !link_local(dst.ip()) {
            let mut probe_to = dst;
            probe_to.set_port(1025);
            ops.connect(Sock::Probe, SocketAddr::V6(probe_to))
                .map_err(|e| fail_errno("connect", e))?;
            let name = ops
                .local_address(Sock::Probe)
                .map_err(|e| fail_errno("getsockname", e))?;
            if let Some(SocketAddr::V6(a)) = name {
                src = *a.ip();
                src_scope = a.scope_id();
            }
        }
        if let Some(dev) = device {
            if !ops.device_has(dev, IpAddr::V6(src)) {
                say(format!(
                    "Warning: source address might be selected on device other than: {}",
                    text::printable(dev)
                ));
            }
        }
        ops.close_probe();
    } else if let Some(dev) = device {
        if link_local(&src) {
            src_scope = if_index(ops, dev)?;
        }
    }
    if let (Some(dev), true) = (device, o.strict_source) {
        bind_to_device(ops, Sock::Main, dev)
            .map_err(|e| fail_errno(&format!("SO_BINDTODEVICE {}", text::printable(dev)), e))?;
    }
    target.addr = SocketAddr::V6(dst);
    if dst.ip().is_multicast() {
        multicast = true;
        multicast_rules(o, is_root, &mut pmtudisc, "multicast")?;
    }
    let subnet_router_anycast = dst.ip().octets()[8..].iter().all(|b| *b == 0);
    if let Some(p) = pmtudisc {
        ops.set_int(Sock::Main, libc::IPPROTO_IPV6, libc::IPV6_MTU_DISCOVER, p)
            .map_err(|e| fail_errno("IPV6_MTU_DISCOVER", e))?;
    }
    if o.strict_source || bind_port != 0 {
        let a = SocketAddr::V6(SocketAddrV6::new(src, bind_port, 0, src_scope));
        ops.bind(Sock::Main, a)
            .map_err(|e| fail_errno("bind icmp socket", e))?;
    }
    ops.set_int(Sock::Main, libc::IPPROTO_IPV6, libc::IPV6_RECVERR, 1)
        .map_err(|e| fail_errno("IPV6_RECVERR", e))?;
    let hold = o.datalen as i64 + 8;
    set_buffers(
        ops,
        o,
        hold + ((hold + 511) / 512) * (40 + 16 + 64 + 160),
        say,
    );
    // Raw only (upstream on Linux): a datagram socket computes its
    // checksums and receives nothing but echo replies to it.
    if !datagram {
        if let Err(e) = ops.set_int(Sock::Main, libc::SOL_RAW, libc::IPV6_CHECKSUM, 2) {
            say(format!(
                "setsockopt(RAW_CHECKSUM) failed - try to continue: {}",
                text::os_error_text(&e)
            ));
        }
        // Echo replies (-N: node information replies) only: errors
        // come through the error queue.
        let mut filter = [u32::MAX; 8];
        let t = usize::from(if nodeinfo {
            crate::ping::nodeinfo::REPLY
        } else {
            icmp::v6::ECHO_REPLY
        });
        filter[t >> 5] &= !(1 << (t & 31));
        let bytes: Vec<u8> = filter.iter().flat_map(|w| w.to_ne_bytes()).collect();
        ops.set_bytes(Sock::Main, libc::IPPROTO_ICMPV6, 1, &bytes)
            .map_err(|e| fail_errno("setsockopt(ICMP6_FILTER)", e))?;
    }
    if o.noloop {
        ops.set_int(Sock::Main, libc::IPPROTO_IPV6, libc::IPV6_MULTICAST_LOOP, 0)
            .map_err(|e| fail_errno("can't disable multicast loopback", e))?;
    }
    if let Some(ttl) = o.ttl {
        ops.set_int(
            Sock::Main,
            libc::IPPROTO_IPV6,
            libc::IPV6_MULTICAST_HOPS,
            ttl,
        )
        .map_err(|e| fail_errno("can't set multicast hop limit", e))?;
        ops.set_int(Sock::Main, libc::IPPROTO_IPV6, libc::IPV6_UNICAST_HOPS, ttl)
            .map_err(|e| fail_errno("can't set unicast hop limit", e))?;
    }
    ops.set_int(Sock::Main, libc::IPPROTO_IPV6, libc::IPV6_RECVHOPLIMIT, 1)
        .map_err(|e| fail_errno("can't receive hop limit", e))?;
    if o.tos != 0 {
        ops.set_int(Sock::Main, libc::IPPROTO_IPV6, libc::IPV6_TCLASS, o.tos)
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
        ops.set_bytes(Sock::Main, libc::IPPROTO_IPV6, IPV6_FLOWLABEL_MGR, &req)
            .map_err(|e| fail_errno("can't set flowlabel", e))?;
        dst.set_flowinfo((label & 0x000f_ffff).to_be());
        target.addr = SocketAddr::V6(dst);
        ops.set_int(Sock::Main, libc::IPPROTO_IPV6, IPV6_FLOWINFO_SEND, 1)
            .map_err(|e| fail_errno("can't send flowinfo", e))?;
    }
    Ok(Built {
        source: IpAddr::V6(src),
        multicast,
        subnet_router_anycast,
    })
}

fn if_index<S: SocketOps>(ops: &mut S, device: &str) -> Result<u32, WorkerError> {
    ops.if_index(device)
        .ok_or_else(|| fail(format!("unknown iface: {}", text::printable(device))))
}
