//! ICMP and ICMPv6 echo: encoding requests, the Internet checksum, and
//! parsing whatever arrives on a raw socket — replies, the raw copies of
//! ICMP errors, and the `sock_extended_err` records of the error queue.
//!
//! Everything here is a pure function over byte slices (no I/O, no
//! `unsafe`), so it can be unit-tested and fuzzed: every access is a checked
//! slice, and malformed, truncated or foreign input yields a [`ParseError`],
//! never a panic.

#![forbid(unsafe_code)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};

/// ICMPv4 types (RFC 792).
pub mod v4 {
    pub const ECHOREPLY: u8 = 0;
    pub const DEST_UNREACH: u8 = 3;
    pub const SOURCE_QUENCH: u8 = 4;
    pub const REDIRECT: u8 = 5;
    pub const ECHO: u8 = 8;
    pub const TIME_EXCEEDED: u8 = 11;
    pub const PARAMETERPROB: u8 = 12;
}

/// ICMPv6 types (RFC 4443).
pub mod v6 {
    pub const DST_UNREACH: u8 = 1;
    pub const PACKET_TOO_BIG: u8 = 2;
    pub const TIME_EXCEEDED: u8 = 3;
    pub const PARAM_PROB: u8 = 4;
    pub const ECHO_REQUEST: u8 = 128;
    pub const ECHO_REPLY: u8 = 129;
}

/// Length of an ICMP echo header.
pub const HEADER_LEN: usize = 8;
/// Length of the `struct timeval` iputils puts at the start of the data
/// (two native-endian 64-bit words on the 64-bit targets we build for).
pub const TIMEVAL_LEN: usize = 16;
/// Largest `-s` for IPv4: 65535 − 20 (IP header) − 8 (ICMP header).
pub const MAX_DATALEN_V4: usize = 65535 - 20 - 8;
/// Largest `-s` for IPv6: 65535 − 8 (ICMPv6 header).
pub const MAX_DATALEN_V6: usize = 65535 - 8;

/// Address family of a socket / target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

/// The Internet checksum (RFC 1071), shared by every tool.
pub use policy::inet::checksum;

/// Writes an echo request for `family` into `packet[..HEADER_LEN + datalen]`
/// (the data bytes, pattern included, must already be there): header, and,
/// when `timestamp` is given (iputils' "timing", `-s` ≥ 16), the send time
/// as a native-endian `struct timeval` at the start of the data. The IPv4
/// checksum is computed here; for ICMPv6 the kernel computes it (it needs
/// the pseudo-header) and the field is left zero.
pub fn encode_echo(
    packet: &mut [u8],
    family: Family,
    ident: u16,
    seq: u16,
    timestamp: Option<(i64, i64)>,
) {
    if packet.len() < HEADER_LEN {
        return;
    }
    packet[0] = match family {
        Family::V4 => v4::ECHO,
        Family::V6 => v6::ECHO_REQUEST,
    };
    packet[1] = 0;
    packet[2..4].copy_from_slice(&[0, 0]);
    packet[4..6].copy_from_slice(&ident.to_be_bytes());
    packet[6..8].copy_from_slice(&seq.to_be_bytes());
    if let (Some((sec, usec)), Some(tv)) = (
        timestamp,
        packet.get_mut(HEADER_LEN..HEADER_LEN + TIMEVAL_LEN),
    ) {
        tv[..8].copy_from_slice(&sec.to_ne_bytes());
        tv[8..].copy_from_slice(&usec.to_ne_bytes());
    }
    if family == Family::V4 {
        let c = checksum(packet);
        packet[2..4].copy_from_slice(&c.to_be_bytes());
    }
}

/// The send time iputils-style senders put at the start of the data, as
/// (seconds, microseconds), if the ICMP message is long enough to hold it.
pub fn sent_timeval(icmp: &[u8]) -> Option<(i64, i64)> {
    let tv = icmp.get(HEADER_LEN..HEADER_LEN + TIMEVAL_LEN)?;
    let sec = i64::from_ne_bytes(tv[..8].try_into().ok()?);
    let usec = i64::from_ne_bytes(tv[8..].try_into().ok()?);
    Some((sec, usec))
}

/// Fills `data` with the repeated `pattern` (iputils `-p`), or with
/// 0, 1, 2, … when there is none (iputils' default, timestamp area included).
pub fn fill_data(data: &mut [u8], pattern: Option<&[u8]>) {
    match pattern {
        Some(p) if !p.is_empty() => {
            for (d, s) in data.iter_mut().zip(p.iter().cycle()) {
                *d = *s;
            }
        }
        Some(_) => {}
        None => {
            for (i, d) in data.iter_mut().enumerate() {
                *d = i as u8;
            }
        }
    }
}

/// What a packet read from our raw socket turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply<'a> {
    /// An echo reply carrying our identifier.
    Echo {
        seq: u16,
        /// TTL from the IPv4 header (IPv6: the hop limit comes in a cmsg).
        ttl: Option<u8>,
        /// The whole ICMP message, header included.
        icmp: &'a [u8],
        /// IPv4 only: the ICMP checksum verifies, or cannot be verified
        /// because the packet was cut to the receive buffer (the kernel
        /// checks ICMPv6). The engine does not act on it: see
        /// `Engine::handle` for why iputils 20221126 does not either.
        checksum_ok: bool,
    },
    /// The raw copy of an ICMP error (or redirect / source quench) about one
    /// of our echo requests to the target.
    Error {
        icmp_type: u8,
        code: u8,
        /// The second header word (gateway, pointer, MTU…), host order.
        info: u32,
        /// Sequence number of our request that triggered it.
        seq: u16,
        /// As for [`Reply::Echo`]: verifies, or the packet was cut.
        checksum_ok: bool,
    },
}

/// Why a packet was not one of ours (ignored, or with `-v` reported).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Shorter than its headers claim.
    TooShort { len: usize },
    /// An echo reply or error about someone else's identifier or target.
    NotOurs,
    /// Our own echo request looped back, or an echo request from elsewhere.
    EchoRequest,
    /// Another ICMP type (e.g. an ICMPv6 neighbour discovery message).
    OtherType { icmp_type: u8, code: u8, info: u32 },
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn too_short(len: usize) -> ParseError {
    ParseError::TooShort { len }
}

/// Which echo identifier is ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ident {
    /// A raw socket sees everyone's ICMP: ours carry this identifier.
    Raw(u16),
    /// An ICMP datagram socket: the kernel chose the identifier (the
    /// socket's "port"), rewrote our requests with it and delivers only
    /// what carries it, so everything that arrives is ours (iputils'
    /// `is_ours`). The IPv4 header is not in the packet either.
    Datagram,
}

impl Ident {
    fn matches(self, id: Option<u16>) -> bool {
        match self {
            Ident::Raw(ours) => id == Some(ours),
            Ident::Datagram => id.is_some(),
        }
    }
}

/// Parses one packet as read from an ICMP socket of `family` (raw IPv4:
/// the IP header included; otherwise the ICMP message only) for a ping
/// with identifier `ident` towards `target`. Pure and total: any byte
/// string gives a value, never a panic.
pub fn parse_reply(
    packet: &[u8],
    family: Family,
    ident: Ident,
    target: IpAddr,
) -> Result<Reply<'_>, ParseError> {
    match (family, ident) {
        (Family::V4, Ident::Raw(_)) => parse_v4(packet, ident, target),
        (Family::V4, Ident::Datagram) => parse_v4_icmp(packet, None, false, ident, target),
        (Family::V6, _) => parse_v6(packet, ident, target),
    }
}

fn parse_v4(packet: &[u8], ident: Ident, target: IpAddr) -> Result<Reply<'_>, ParseError> {
    let len = packet.len();
    let first = *packet.first().ok_or(too_short(len))?;
    let ihl = usize::from(first & 0x0f);
    let hlen = ihl * 4;
    if ihl < 5 || len < hlen + HEADER_LEN {
        return Err(too_short(len));
    }
    let ttl = packet[8];
    let icmp = &packet[hlen..];
    // A datagram longer than the buffer arrives cut (its IP total length
    // says more than was read): a checksum over the part read would call
    // a valid reply corrupted, so it is not checked.
    let cut = be16(packet, 2).is_some_and(|total| usize::from(total) > len);
    parse_v4_icmp(icmp, Some(ttl), cut, ident, target).map_err(|e| match e {
        // Lengths are the whole packet's, as iputils reports them.
        ParseError::TooShort { .. } => too_short(len),
        other => other,
    })
}

/// The ICMPv4 message itself (`ttl`: from the IP header when there was
/// one; a datagram socket's comes in a control message).
fn parse_v4_icmp(
    icmp: &[u8],
    ttl: Option<u8>,
    cut: bool,
    ident: Ident,
    target: IpAddr,
) -> Result<Reply<'_>, ParseError> {
    let len = icmp.len();
    if len < HEADER_LEN {
        return Err(too_short(len));
    }
    let checksum_ok = cut || checksum(icmp) == 0;
    let (icmp_type, code) = (icmp[0], icmp[1]);
    let info = be32(icmp, 4).ok_or(too_short(len))?;
    match icmp_type {
        v4::ECHOREPLY => {
            if !ident.matches(be16(icmp, 4)) {
                return Err(ParseError::NotOurs);
            }
            let seq = be16(icmp, 6).ok_or(too_short(len))?;
            Ok(Reply::Echo {
                seq,
                ttl,
                icmp,
                checksum_ok,
            })
        }
        v4::ECHO => Err(ParseError::EchoRequest),
        v4::SOURCE_QUENCH
        | v4::REDIRECT
        | v4::DEST_UNREACH
        | v4::TIME_EXCEEDED
        | v4::PARAMETERPROB => {
            // The offending datagram: its IP header, then our echo header.
            let inner = &icmp[HEADER_LEN..];
            let inner_ihl = usize::from(*inner.first().ok_or(too_short(len))? & 0x0f);
            let inner_hlen = inner_ihl * 4;
            if inner_ihl < 5 || inner.len() < inner_hlen + HEADER_LEN {
                return Err(too_short(len));
            }
            let dst = Ipv4Addr::from(be32(inner, 16).ok_or(too_short(len))?);
            let echo = &inner[inner_hlen..];
            if echo[0] != v4::ECHO || IpAddr::V4(dst) != target || !ident.matches(be16(echo, 4)) {
                return Err(ParseError::NotOurs);
            }
            let seq = be16(echo, 6).ok_or(too_short(len))?;
            Ok(Reply::Error {
                icmp_type,
                code,
                info,
                seq,
                checksum_ok,
            })
        }
        _ => Err(ParseError::OtherType {
            icmp_type,
            code,
            info,
        }),
    }
}

/// IPv6 extension header "fragment".
const NEXTHDR_FRAGMENT: u8 = 44;
/// IPv6 next-header value of ICMPv6.
const NEXTHDR_ICMPV6: u8 = 58;
const IPV6_HEADER_LEN: usize = 40;

fn parse_v6(icmp: &[u8], ident: Ident, target: IpAddr) -> Result<Reply<'_>, ParseError> {
    let len = icmp.len();
    if len < HEADER_LEN {
        return Err(too_short(len));
    }
    let (icmp_type, code) = (icmp[0], icmp[1]);
    let info = be32(icmp, 4).ok_or(too_short(len))?;
    match icmp_type {
        v6::ECHO_REPLY => {
            if !ident.matches(be16(icmp, 4)) {
                return Err(ParseError::NotOurs);
            }
            let seq = be16(icmp, 6).ok_or(too_short(len))?;
            Ok(Reply::Echo {
                seq,
                ttl: None,
                icmp,
                checksum_ok: true,
            })
        }
        v6::ECHO_REQUEST => Err(ParseError::EchoRequest),
        v6::DST_UNREACH | v6::PACKET_TOO_BIG | v6::TIME_EXCEEDED | v6::PARAM_PROB => {
            // Normally blocked by ICMP6_FILTER (errors come through the
            // error queue); parsed anyway, like iputils, to acknowledge.
            let ip6 = icmp
                .get(HEADER_LEN..HEADER_LEN + IPV6_HEADER_LEN)
                .ok_or(too_short(len))?;
            let dst: [u8; 16] = ip6[24..40].try_into().map_err(|_| too_short(len))?;
            if IpAddr::V6(Ipv6Addr::from(dst)) != target {
                return Err(ParseError::NotOurs);
            }
            let mut next = ip6[6];
            let mut at = HEADER_LEN + IPV6_HEADER_LEN;
            if next == NEXTHDR_FRAGMENT {
                next = *icmp.get(at).ok_or(too_short(len))?;
                at += 8;
            }
            if next != NEXTHDR_ICMPV6 {
                return Err(ParseError::OtherType {
                    icmp_type,
                    code,
                    info,
                });
            }
            let echo = icmp.get(at..at + HEADER_LEN).ok_or(too_short(len))?;
            if echo[0] != v6::ECHO_REQUEST || !ident.matches(be16(echo, 4)) {
                return Err(ParseError::NotOurs);
            }
            let seq = be16(echo, 6).ok_or(too_short(len))?;
            Ok(Reply::Error {
                icmp_type,
                code,
                info,
                seq,
                checksum_ok: true,
            })
        }
        _ => Err(ParseError::OtherType {
            icmp_type,
            code,
            info,
        }),
    }
}

/// `SO_EE_ORIGIN_LOCAL`: the error was generated by the local stack.
pub const ORIGIN_LOCAL: u8 = 1;
/// `SO_EE_ORIGIN_ICMP`: an ICMPv4 error arrived.
pub const ORIGIN_ICMP: u8 = 2;
/// `SO_EE_ORIGIN_ICMP6`: an ICMPv6 error arrived.
pub const ORIGIN_ICMP6: u8 = 3;

/// A `struct sock_extended_err` from the error queue (`IP_RECVERR`), with
/// the offender address that follows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtendedError {
    pub errno: u32,
    pub origin: u8,
    pub icmp_type: u8,
    pub code: u8,
    pub info: u32,
    /// Who sent the ICMP error (`SO_EE_OFFENDER`), if present, with the
    /// scope the kernel gives a link-local IPv6 one (upstream's `pr_addr`
    /// prints it, `fe80::1%eth0`); port 0.
    pub offender: Option<SocketAddr>,
}

/// Parses the data of an `IP_RECVERR` / `IPV6_RECVERR` control message:
/// `{u32 errno; u8 origin, type, code, pad; u32 info, data}` (16 bytes),
/// then a `sockaddr_in` / `sockaddr_in6` (family in host order).
pub fn parse_extended_err(data: &[u8]) -> Option<ExtendedError> {
    let head = data.get(..16)?;
    let errno = u32::from_ne_bytes(head[0..4].try_into().ok()?);
    let info = u32::from_ne_bytes(head[8..12].try_into().ok()?);
    let offender = parse_sockaddr(data.get(16..).unwrap_or(&[]));
    Some(ExtendedError {
        errno,
        origin: head[4],
        icmp_type: head[5],
        code: head[6],
        info,
        offender,
    })
}

/// A `sockaddr_in` / `sockaddr_in6` as raw bytes → its address, and an
/// IPv6 one's scope id when the bytes hold it (AF_UNSPEC or anything
/// unknown or short → `None`); the port is left 0.
pub fn parse_sockaddr(sa: &[u8]) -> Option<SocketAddr> {
    let family = u16::from_ne_bytes(sa.get(0..2)?.try_into().ok()?);
    match i32::from(family) {
        libc::AF_INET => {
            let a: [u8; 4] = sa.get(4..8)?.try_into().ok()?;
            Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::from(a)), 0))
        }
        libc::AF_INET6 => {
            let a: [u8; 16] = sa.get(8..24)?.try_into().ok()?;
            let scope = sa
                .get(24..28)
                .and_then(|b| b.try_into().ok())
                .map_or(0, u32::from_ne_bytes);
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(a),
                0,
                0,
                scope,
            )))
        }
        _ => None,
    }
}

/// One control message of a `recvmsg`: (level, type, data).
pub type Cmsg<'a> = (i32, i32, &'a [u8]);

/// Walks a `msg_control` buffer as the kernel filled it (`controllen`
/// bytes): `struct cmsghdr {size_t len; int level; int type;}` then data,
/// each message aligned to `size_t`. Stops at the first inconsistent header.
pub fn cmsgs(control: &[u8]) -> impl Iterator<Item = Cmsg<'_>> {
    const W: usize = std::mem::size_of::<usize>();
    let hdr = (W + 8).next_multiple_of(W);
    let mut rest = control;
    std::iter::from_fn(move || {
        let len = usize::from_ne_bytes(rest.get(..W)?.try_into().ok()?);
        let level = i32::from_ne_bytes(rest.get(W..W + 4)?.try_into().ok()?);
        let ty = i32::from_ne_bytes(rest.get(W + 4..W + 8)?.try_into().ok()?);
        if len < hdr {
            return None;
        }
        let data = rest.get(hdr..len)?;
        rest = rest.get(len.next_multiple_of(W)..).unwrap_or(&[]);
        Some((level, ty, data))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: u16 = 0xbeef;
    const LO4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
    const LO6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);

    #[test]
    fn encoded_v4_echo_verifies_and_carries_id_seq_and_time() {
        let mut p = vec![0u8; HEADER_LEN + 56];
        fill_data(&mut p[HEADER_LEN..], None);
        encode_echo(&mut p, Family::V4, ID, 513, Some((1_700_000_000, 123_456)));
        assert_eq!(&p[..2], &[8, 0]);
        assert_eq!(&p[4..8], &[0xbe, 0xef, 0x02, 0x01]);
        assert_eq!(checksum(&p), 0, "a correct checksum sums to zero");
        assert_eq!(sent_timeval(&p), Some((1_700_000_000, 123_456)));
        assert_eq!(
            p[HEADER_LEN + TIMEVAL_LEN],
            16,
            "data after the timeval keeps iputils' 0,1,2… fill"
        );
        p[30] ^= 1;
        assert_ne!(checksum(&p), 0);
    }

    #[test]
    fn encoded_v6_echo_leaves_the_checksum_to_the_kernel() {
        let mut p = vec![0u8; HEADER_LEN + 8];
        encode_echo(&mut p, Family::V6, ID, 1, None);
        assert_eq!(&p[..8], &[128, 0, 0, 0, 0xbe, 0xef, 0, 1]);
    }

    #[test]
    fn pattern_fill_repeats() {
        let mut d = [0u8; 7];
        fill_data(&mut d, Some(&[0xab, 0xcd, 0xef]));
        assert_eq!(d, [0xab, 0xcd, 0xef, 0xab, 0xcd, 0xef, 0xab]);
    }

    fn ipv4(ttl: u8, src: [u8; 4], dst: [u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0x45, 0, 0, 0, 0, 0, 0, 0, ttl, 1, 0, 0];
        p.extend_from_slice(&src);
        p.extend_from_slice(&dst);
        let total = (p.len() + payload.len()) as u16;
        p[2..4].copy_from_slice(&total.to_be_bytes());
        p.extend_from_slice(payload);
        p
    }

    fn echo(ty: u8, id: u16, seq: u16, data: usize) -> Vec<u8> {
        let mut e = vec![0u8; HEADER_LEN + data];
        encode_echo(&mut e, Family::V4, id, seq, None);
        e[0] = ty;
        e[2..4].copy_from_slice(&[0, 0]);
        let c = checksum(&e);
        e[2..4].copy_from_slice(&c.to_be_bytes());
        e
    }

    #[test]
    fn v4_reply_is_ours_with_ttl_and_checksum() {
        let pkt = ipv4(64, [127, 0, 0, 1], [127, 0, 0, 1], &echo(0, ID, 7, 56));
        match parse_reply(&pkt, Family::V4, Ident::Raw(ID), LO4).unwrap() {
            Reply::Echo {
                seq,
                ttl,
                icmp,
                checksum_ok,
            } => {
                assert_eq!((seq, ttl, icmp.len(), checksum_ok), (7, Some(64), 64, true));
            }
            other => panic!("{other:?}"),
        }
        let mut bad = pkt.clone();
        bad[40] ^= 0xff;
        assert!(matches!(
            parse_reply(&bad, Family::V4, Ident::Raw(ID), LO4),
            Ok(Reply::Echo {
                checksum_ok: false,
                ..
            })
        ));
        assert_eq!(
            parse_reply(&pkt, Family::V4, Ident::Raw(ID ^ 1), LO4),
            Err(ParseError::NotOurs)
        );
    }

    #[test]
    fn a_v4_reply_cut_to_the_buffer_is_not_called_corrupted() {
        // A valid reply with 40000 data bytes, of which a 192-byte buffer
        // holds the start.
        let mut reply = echo(0, ID, 9, 40_000);
        for (i, b) in reply[HEADER_LEN..].iter_mut().enumerate() {
            *b = (i * 131 + i / 256) as u8;
        }
        reply[2..4].copy_from_slice(&[0, 0]);
        let c = checksum(&reply);
        reply[2..4].copy_from_slice(&c.to_be_bytes());
        let pkt = ipv4(64, [127, 0, 0, 1], [127, 0, 0, 1], &reply);
        assert!(matches!(
            parse_reply(&pkt, Family::V4, Ident::Raw(ID), LO4),
            Ok(Reply::Echo {
                checksum_ok: true,
                ..
            })
        ));
        let cut = &pkt[..192];
        assert_ne!(checksum(&cut[20..]), 0, "the part read does not verify");
        match parse_reply(cut, Family::V4, Ident::Raw(ID), LO4) {
            Ok(Reply::Echo {
                seq,
                icmp,
                checksum_ok,
                ..
            }) => assert_eq!((seq, icmp.len(), checksum_ok), (9, 172, true)),
            other => panic!("{other:?}"),
        }
        // The same bytes claiming to be complete: the checksum is checked.
        let mut whole = cut.to_vec();
        whole[2..4].copy_from_slice(&192u16.to_be_bytes());
        assert!(matches!(
            parse_reply(&whole, Family::V4, Ident::Raw(ID), LO4),
            Ok(Reply::Echo {
                checksum_ok: false,
                ..
            })
        ));
    }

    #[test]
    fn v4_errors_are_matched_to_our_request() {
        let request = echo(8, ID, 3, 56);
        let offending = ipv4(1, [127, 0, 0, 1], [192, 0, 2, 1], &request);
        let mut err = vec![11, 0, 0, 0, 0, 0, 0, 0];
        err.extend_from_slice(&offending[..28]);
        let c = checksum(&err);
        err[2..4].copy_from_slice(&c.to_be_bytes());
        let pkt = ipv4(64, [10, 0, 0, 1], [127, 0, 0, 1], &err);
        let target = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(
            parse_reply(&pkt, Family::V4, Ident::Raw(ID), target),
            Ok(Reply::Error {
                icmp_type: 11,
                code: 0,
                info: 0,
                seq: 3,
                checksum_ok: true
            })
        );
        assert_eq!(
            parse_reply(&pkt, Family::V4, Ident::Raw(ID), LO4),
            Err(ParseError::NotOurs),
            "another target"
        );
        assert_eq!(
            parse_reply(&pkt, Family::V4, Ident::Raw(1), target),
            Err(ParseError::NotOurs),
            "another id"
        );
    }

    #[test]
    fn v4_datagram_reply_has_no_ip_header_and_any_identifier_is_ours() {
        // What a datagram socket reads: the ICMP message alone, with the
        // identifier the kernel chose (not the one we wrote).
        let reply = echo(0, 0x7777, 5, 56);
        match parse_reply(&reply, Family::V4, Ident::Datagram, LO4).unwrap() {
            Reply::Echo {
                seq,
                ttl,
                icmp,
                checksum_ok,
            } => {
                assert_eq!((seq, ttl, checksum_ok), (5, None, true));
                assert_eq!(icmp.len(), 64);
            }
            other => panic!("{other:?}"),
        }
        // The same bytes read as a raw packet are a bad IP header.
        assert!(parse_reply(&reply, Family::V4, Ident::Raw(0x7777), LO4).is_err());
        assert_eq!(
            parse_reply(&reply[..7], Family::V4, Ident::Datagram, LO4),
            Err(ParseError::TooShort { len: 7 })
        );
        assert_eq!(
            parse_reply(&echo(8, 1, 1, 8), Family::V4, Ident::Datagram, LO4),
            Err(ParseError::EchoRequest)
        );
        let mut r6 = vec![129, 0, 0, 0, 0x12, 0x34, 0, 9];
        r6.extend_from_slice(&[0; 8]);
        assert!(matches!(
            parse_reply(&r6, Family::V6, Ident::Datagram, LO6),
            Ok(Reply::Echo { seq: 9, .. })
        ));
    }

    #[test]
    fn v6_reply_and_foreign_types() {
        let mut r = vec![129, 0, 0, 0, 0xbe, 0xef, 0, 9];
        r.extend_from_slice(&[0; 56]);
        assert!(matches!(
            parse_reply(&r, Family::V6, Ident::Raw(ID), LO6),
            Ok(Reply::Echo {
                seq: 9,
                ttl: None,
                ..
            })
        ));
        assert_eq!(
            parse_reply(&r[..7], Family::V6, Ident::Raw(ID), LO6),
            Err(ParseError::TooShort { len: 7 })
        );
        let ns = [135, 0, 0, 0, 0, 0, 0, 0];
        assert!(matches!(
            parse_reply(&ns, Family::V6, Ident::Raw(ID), LO6),
            Err(ParseError::OtherType { icmp_type: 135, .. })
        ));
    }

    #[test]
    fn v6_error_copy_with_fragment_header() {
        let mut e = vec![1, 3, 0, 0, 0, 0, 0, 0];
        let mut ip6 = vec![0x60, 0, 0, 0, 0, 16, NEXTHDR_FRAGMENT, 64];
        ip6.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
        ip6.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
        e.extend_from_slice(&ip6);
        e.extend_from_slice(&[NEXTHDR_ICMPV6, 0, 0, 0, 0, 0, 0, 0]);
        e.extend_from_slice(&[128, 0, 0, 0, 0xbe, 0xef, 0, 4]);
        assert_eq!(
            parse_reply(&e, Family::V6, Ident::Raw(ID), LO6),
            Ok(Reply::Error {
                icmp_type: 1,
                code: 3,
                info: 0,
                seq: 4,
                checksum_ok: true
            })
        );
    }

    /// Every prefix and a sweep of byte flips of valid packets: no panic.
    #[test]
    fn truncated_and_mangled_input_never_panics() {
        let v4 = ipv4(64, [127, 0, 0, 1], [127, 0, 0, 1], &echo(0, ID, 7, 56));
        let request = echo(8, ID, 3, 8);
        let mut err = vec![3, 1, 0, 0, 0, 0, 0, 0];
        err.extend_from_slice(&ipv4(1, [127, 0, 0, 1], [127, 0, 0, 1], &request));
        let v4err = ipv4(64, [127, 0, 0, 1], [127, 0, 0, 1], &err);
        for pkt in [&v4, &v4err] {
            for n in 0..=pkt.len() {
                let _ = parse_reply(&pkt[..n], Family::V4, Ident::Raw(ID), LO4);
                let _ = parse_reply(&pkt[..n], Family::V6, Ident::Raw(ID), LO6);
                let _ = parse_extended_err(&pkt[..n]);
                let _ = cmsgs(&pkt[..n]).count();
            }
            for i in 0..pkt.len() {
                for v in [0u8, 0x0f, 0x4f, 0xff] {
                    let mut m = pkt.to_vec();
                    m[i] = v;
                    let _ = parse_reply(&m, Family::V4, Ident::Raw(ID), LO4);
                }
            }
        }
    }

    /// Deterministic random input (xorshift): many shapes, never a panic,
    /// and anything accepted as an echo reply really carries our id.
    #[test]
    fn random_input_never_panics() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut buf = [0u8; 200];
        for _ in 0..20_000 {
            let len = (next() % 200) as usize;
            for b in buf.iter_mut().take(len) {
                *b = next() as u8;
            }
            // Bias some packets towards plausible headers.
            if len > 0 && next() % 2 == 0 {
                buf[0] = 0x45;
            }
            let pkt = &buf[..len];
            for (family, target) in [(Family::V4, LO4), (Family::V6, LO6)] {
                if let Ok(Reply::Echo { icmp, .. }) =
                    parse_reply(pkt, family, Ident::Raw(ID), target)
                {
                    assert_eq!(&icmp[4..6], &ID.to_be_bytes());
                }
            }
            let _ = parse_extended_err(pkt);
            let _ = parse_sockaddr(pkt);
            let _ = cmsgs(pkt).count();
            let _ = checksum(pkt);
        }
    }

    #[test]
    fn cmsg_walk() {
        let w = std::mem::size_of::<usize>();
        let mut buf = Vec::new();
        for (level, ty, data) in [(1i32, 35i32, &[1u8; 16][..]), (41, 52, &[64, 0, 0, 0][..])] {
            let len = w + 8 + data.len();
            buf.extend_from_slice(&len.to_ne_bytes());
            buf.extend_from_slice(&level.to_ne_bytes());
            buf.extend_from_slice(&ty.to_ne_bytes());
            buf.extend_from_slice(data);
            buf.resize(buf.len().next_multiple_of(w), 0);
        }
        let got: Vec<_> = cmsgs(&buf).collect();
        assert_eq!(got.len(), 2);
        assert_eq!(got[1], (41, 52, &[64, 0, 0, 0][..]));
        // A header claiming more than there is ends the walk.
        buf[0] = 200;
        assert_eq!(cmsgs(&buf).count(), 0);
    }

    #[test]
    fn extended_error_with_offender() {
        let mut d = Vec::new();
        d.extend_from_slice(&113u32.to_ne_bytes());
        d.extend_from_slice(&[ORIGIN_ICMP, 3, 1, 0]);
        d.extend_from_slice(&0u32.to_ne_bytes());
        d.extend_from_slice(&0u32.to_ne_bytes());
        d.extend_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
        d.extend_from_slice(&[0, 0, 10, 0, 0, 1]);
        let e = parse_extended_err(&d).unwrap();
        assert_eq!(
            (e.errno, e.origin, e.icmp_type, e.code),
            (113, ORIGIN_ICMP, 3, 1)
        );
        assert_eq!(
            e.offender,
            Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 0))
        );
        assert_eq!(parse_extended_err(&d[..15]), None);
    }

    #[test]
    fn a_link_local_offender_keeps_its_scope() {
        let mut sa = Vec::new();
        sa.extend_from_slice(&(libc::AF_INET6 as u16).to_ne_bytes());
        sa.extend_from_slice(&[0; 6]);
        sa.extend_from_slice(&Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1).octets());
        sa.extend_from_slice(&7u32.to_ne_bytes());
        let a = parse_sockaddr(&sa).unwrap();
        assert_eq!(a.to_string(), "[fe80::1%7]:0");
        // Cut before the scope: the address alone.
        assert_eq!(
            parse_sockaddr(&sa[..24]).unwrap().to_string(),
            "[fe80::1]:0"
        );
    }
}
