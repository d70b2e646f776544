//! The route's outgoing interface for a target, as iputils' `guess_device`
//! asks the kernel: one `RTM_GETROUTE` request on a `NETLINK_ROUTE` socket
//! (before the sandbox, which forbids `socket`). Building the request and
//! reading the answer are pure functions over bytes; the answer comes from
//! the kernel but is still parsed with every access checked.

#![forbid(unsafe_code)]

use std::net::Ipv4Addr;

use nix::sys::socket::{
    recv, sendto, socket, AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType,
};

use crate::WorkerError;

const NLMSG_HDRLEN: usize = 16;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLMSG_OVERRUN: u16 = 4;
const RTM_NEWROUTE: u16 = 24;
const RTM_GETROUTE: u16 = 26;
const NLM_F_REQUEST: u16 = 1;
const RTA_DST: u16 = 1;
const RTA_OIF: u16 = 4;
const RTMSG_LEN: usize = 12;

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// `RTM_GETROUTE` for `dst` (AF_INET, `RTA_DST`), sequence number `seq`.
pub fn request(dst: Ipv4Addr, seq: u32) -> Vec<u8> {
    let len = NLMSG_HDRLEN + RTMSG_LEN + 8;
    let mut m = Vec::with_capacity(len);
    m.extend_from_slice(&(len as u32).to_ne_bytes());
    m.extend_from_slice(&RTM_GETROUTE.to_ne_bytes());
    m.extend_from_slice(&NLM_F_REQUEST.to_ne_bytes());
    m.extend_from_slice(&seq.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes());
    // struct rtmsg: family AF_INET, everything else 0.
    m.push(libc::AF_INET as u8);
    m.extend_from_slice(&[0; RTMSG_LEN - 1]);
    m.extend_from_slice(&8u16.to_ne_bytes());
    m.extend_from_slice(&RTA_DST.to_ne_bytes());
    m.extend_from_slice(&dst.octets());
    m
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The `RTA_OIF` of the kernel's answer to request `seq`: `Ok(None)` when
/// the route names none, `Err` with iputils' words when the kernel refused
/// (no route: `NLMSG_ERROR`) or sent something else.
pub fn parse(reply: &[u8], seq: u32) -> Result<Option<u32>, WorkerError> {
    let mut at = 0;
    let mut oif = None;
    while at + NLMSG_HDRLEN <= reply.len() {
        let len = u32_at(reply, at).unwrap_or(0) as usize;
        if len < NLMSG_HDRLEN || at + len > reply.len() {
            break;
        }
        let ty = u16_at(reply, at + 4).unwrap_or(0);
        let this_seq = u32_at(reply, at + 8).unwrap_or(0);
        if this_seq == seq {
            match ty {
                NLMSG_ERROR | NLMSG_OVERRUN => {
                    return Err(WorkerError::Route(
                        "NETLINK_ROUTE unexpected iov element".into(),
                    ))
                }
                NLMSG_DONE => return Ok(oif),
                RTM_NEWROUTE => {
                    let body = &reply[at + NLMSG_HDRLEN..at + len];
                    let mut a = RTMSG_LEN;
                    while a + 4 <= body.len() {
                        let alen = usize::from(u16_at(body, a).unwrap_or(0));
                        let aty = u16_at(body, a + 2).unwrap_or(0);
                        if alen < 4 || a + alen > body.len() {
                            break;
                        }
                        if aty == RTA_OIF {
                            if let Some(v) = u32_at(body, a + 4).filter(|_| alen >= 8) {
                                oif = Some(v);
                            }
                        }
                        a += align4(alen);
                    }
                }
                _ => return Err(WorkerError::Route("NETLINK new route message type".into())),
            }
        }
        at += align4(len);
    }
    Ok(oif)
}

/// Asks the kernel which interface a packet to `dst` leaves by.
pub fn output_interface(dst: Ipv4Addr) -> Result<Option<u32>, WorkerError> {
    let failed = |e: nix::errno::Errno| {
        WorkerError::Route(format!("NETLINK_ROUTE socket failed: {}", e.desc()))
    };
    let fd = socket(
        AddressFamily::Netlink,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::NetlinkRoute,
    )
    .map_err(failed)?;
    use std::os::fd::AsRawFd;
    let seq = 1;
    sendto(
        fd.as_raw_fd(),
        &request(dst, seq),
        &NetlinkAddr::new(0, 0),
        MsgFlags::empty(),
    )
    .map_err(failed)?;
    let mut buf = vec![0u8; 4096];
    let n = loop {
        match recv(fd.as_raw_fd(), &mut buf, MsgFlags::empty()) {
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(failed(e)),
            Ok(n) => break n,
        }
    };
    parse(&buf[..n.min(buf.len())], seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(ty: u16, seq: u32, body: &[u8]) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend_from_slice(&((NLMSG_HDRLEN + body.len()) as u32).to_ne_bytes());
        m.extend_from_slice(&ty.to_ne_bytes());
        m.extend_from_slice(&0u16.to_ne_bytes());
        m.extend_from_slice(&seq.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(body);
        m
    }

    #[test]
    fn request_layout() {
        let r = request(Ipv4Addr::new(198, 18, 0, 2), 7);
        assert_eq!(r.len(), 36);
        assert_eq!(u32_at(&r, 0), Some(36));
        assert_eq!(u16_at(&r, 4), Some(RTM_GETROUTE));
        assert_eq!(u32_at(&r, 8), Some(7));
        assert_eq!(&r[32..], &[198, 18, 0, 2]);
    }

    #[test]
    fn the_oif_of_the_route_is_found() {
        let mut body = vec![2u8; RTMSG_LEN];
        body.extend_from_slice(&8u16.to_ne_bytes());
        body.extend_from_slice(&RTA_DST.to_ne_bytes());
        body.extend_from_slice(&[198, 18, 0, 2]);
        body.extend_from_slice(&8u16.to_ne_bytes());
        body.extend_from_slice(&RTA_OIF.to_ne_bytes());
        body.extend_from_slice(&5u32.to_ne_bytes());
        assert_eq!(parse(&msg(RTM_NEWROUTE, 1, &body), 1).ok(), Some(Some(5)));
        // Another request's answer is skipped.
        assert_eq!(parse(&msg(RTM_NEWROUTE, 2, &body), 1).ok(), Some(None));
        assert!(parse(&msg(NLMSG_ERROR, 1, &[0; 20]), 1).is_err());
        assert!(parse(&msg(99, 1, &[]), 1).is_err());
    }

    #[test]
    fn any_bytes_are_safe() {
        let mut x: u32 = 99;
        for _ in 0..20_000 {
            let len = (x % 80) as usize;
            let mut b = Vec::with_capacity(len);
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                b.push(x as u8);
            }
            if b.len() >= 4 {
                b[..4].copy_from_slice(&(len as u32).to_ne_bytes());
            }
            if b.len() >= 12 {
                b[8..12].copy_from_slice(&1u32.to_ne_bytes());
            }
            let _ = parse(&b, 1);
        }
    }
}
