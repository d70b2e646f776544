//! What a received datagram means to fping, as pure functions: an echo
//! reply (its identifier and sequence number, and the IPv4 header to leave
//! out of the size), an ICMPv4 error about one of our echo requests (the
//! quoted request's sequence number), or nothing. Every length is checked
//! against what arrived (fping 5.1 checks against its buffer's size, and
//! reads stale bytes of a short packet); the texts of the errors are
//! fping's tables.

#![forbid(unsafe_code)]

use crate::ping::icmp::Family;

/// A datagram, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded {
    /// An echo reply: identifier, sequence number, and the length of the
    /// IPv4 header in front of it (raw IPv4 sockets only).
    Reply { id: u16, seq: u16, ip_hlen: usize },
    /// An ICMPv4 error quoting an echo request with our identifier.
    Error { icmp_type: u8, code: u8, seq: u16 },
    /// Not for us, too short, or a message fping ignores.
    Ignore,
}

const ICMP_MINLEN: usize = 8;
const IP_HDR: usize = 20;

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

/// Decodes what a socket of `family` received (`with_ip_header`: a raw
/// ICMPv4 socket, which delivers the IPv4 header too). `ident`: our echo
/// identifier, which an error's quoted request must carry.
pub fn decode(family: Family, with_ip_header: bool, buf: &[u8], ident: u16) -> Decoded {
    match family {
        Family::V4 => decode_v4(ECHO, with_ip_header, buf, ident),
        Family::V6 => decode_v6(buf),
    }
}

/// ICMPv4 echo and timestamp requests (`--icmp-timestamp`).
pub const ECHO: u8 = 8;
pub const TIMESTAMP: u8 = 13;

/// [`decode`] for an ICMPv4 socket whose requests are of type `request`
/// ([`ECHO`] or [`TIMESTAMP`]): the replies of that type (echo reply 0,
/// timestamp reply 14) and the errors quoting such a request.
pub fn decode_v4(request: u8, with_ip_header: bool, buf: &[u8], ident: u16) -> Decoded {
    let reply = if request == TIMESTAMP { 14 } else { 0 };
    let hlen = if with_ip_header {
        match buf.first() {
            Some(b) => usize::from(b & 0x0f) << 2,
            None => return Decoded::Ignore,
        }
    } else {
        0
    };
    if buf.len() < hlen + ICMP_MINLEN {
        return Decoded::Ignore;
    }
    let icmp = &buf[hlen..];
    if icmp[0] == reply {
        return match (be16(icmp, 4), be16(icmp, 6)) {
            (Some(id), Some(seq)) => Decoded::Reply {
                id,
                seq,
                ip_hlen: hlen,
            },
            _ => Decoded::Ignore,
        };
    }
    // The quoted request: after the error's header and an IPv4 header
    // taken to be 20 bytes long (as fping takes it).
    let sent = &icmp[ICMP_MINLEN..];
    if sent.len() < IP_HDR + ICMP_MINLEN {
        return Decoded::Ignore;
    }
    let sent = &sent[IP_HDR..];
    if sent[0] != request || be16(sent, 4) != Some(ident) {
        return Decoded::Ignore;
    }
    match be16(sent, 6) {
        Some(seq) => Decoded::Error {
            icmp_type: icmp[0],
            code: icmp[1],
            seq,
        },
        None => Decoded::Ignore,
    }
}

/// ICMPv6: echo replies only. fping 5.1 looks for the quoted request of an
/// ICMPv6 error at an IPv4 header's offset and compares ICMPv4 type
/// numbers, so it never reports one; neither does this.
fn decode_v6(buf: &[u8]) -> Decoded {
    if buf.len() < ICMP_MINLEN || buf[0] != 129 {
        return Decoded::Ignore;
    }
    match (be16(buf, 4), be16(buf, 6)) {
        (Some(id), Some(seq)) => Decoded::Reply {
            id,
            seq,
            ip_hlen: 0,
        },
        _ => Decoded::Ignore,
    }
}

/// fping's `icmp_type_str`, for the types it reports.
fn type_text(t: u8) -> Option<&'static str> {
    Some(match t {
        3 => "ICMP Unreachable",
        4 => "ICMP Source Quench",
        5 => "ICMP Redirect",
        11 => "ICMP Time Exceeded",
        12 => "ICMP Parameter Problem",
        _ => return None,
    })
}

/// fping's `icmp_unreach_str`.
const UNREACH: [&str; 16] = [
    "ICMP Network Unreachable",
    "ICMP Host Unreachable",
    "ICMP Protocol Unreachable",
    "ICMP Port Unreachable",
    "ICMP Unreachable (Fragmentation Needed)",
    "ICMP Unreachable (Source Route Failed)",
    "ICMP Unreachable (Destination Network Unknown)",
    "ICMP Unreachable (Destination Host Unknown)",
    "ICMP Unreachable (Source Host Isolated)",
    "ICMP Unreachable (Communication with Network Prohibited)",
    "ICMP Unreachable (Communication with Host Prohibited)",
    "ICMP Unreachable (Network Unreachable For Type Of Service)",
    "ICMP Unreachable (Host Unreachable For Type Of Service)",
    "ICMP Unreachable (Communication Administratively Prohibited)",
    "ICMP Unreachable (Host Precedence Violation)",
    "ICMP Unreachable (Precedence cutoff in effect)",
];

/// The warning fping prints for an ICMPv4 error about a request to `host`
/// from `from`, or `None` for the types it counts and says nothing about.
pub fn error_line(icmp_type: u8, code: u8, from: &str, host: &str) -> Option<String> {
    let what = match icmp_type {
        3 => match UNREACH.get(usize::from(code)) {
            Some(s) => (*s).to_string(),
            None => "ICMP Unreachable (Invalid Code)".to_string(),
        },
        t => type_text(t)?.to_string(),
    };
    Some(format!("{what} from {from} for ICMP Echo sent to {host}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0x45];
        p.extend_from_slice(&[0; 19]);
        p.extend_from_slice(payload);
        p
    }

    #[test]
    fn replies_on_raw_and_datagram_sockets() {
        let reply = [0, 0, 0, 0, 0x12, 0x34, 0, 7];
        assert_eq!(
            decode(Family::V4, true, &ip(&reply), 0x1234),
            Decoded::Reply {
                id: 0x1234,
                seq: 7,
                ip_hlen: 20
            }
        );
        assert_eq!(
            decode(Family::V4, false, &reply, 0),
            Decoded::Reply {
                id: 0x1234,
                seq: 7,
                ip_hlen: 0
            }
        );
        assert_eq!(
            decode(Family::V4, true, &ip(&reply[..7]), 0),
            Decoded::Ignore
        );
        assert_eq!(decode(Family::V4, true, &[], 0), Decoded::Ignore);
        // A header length that points past the datagram.
        assert_eq!(decode(Family::V4, true, &[0x4f, 0, 0], 0), Decoded::Ignore);
        let v6 = [129, 0, 0, 0, 0xbe, 0xef, 1, 0];
        assert_eq!(
            decode(Family::V6, false, &v6, 0),
            Decoded::Reply {
                id: 0xbeef,
                seq: 256,
                ip_hlen: 0
            }
        );
        assert_eq!(
            decode(Family::V6, false, &[1, 0, 0, 0, 0, 0, 0, 0], 0),
            Decoded::Ignore
        );
    }

    #[test]
    fn errors_about_our_requests_only() {
        let mut err = vec![3, 1, 0, 0, 0, 0, 0, 0];
        err.extend_from_slice(&ip(&[8, 0, 0, 0, 0x12, 0x34, 0, 9]));
        assert_eq!(
            decode(Family::V4, true, &ip(&err), 0x1234),
            Decoded::Error {
                icmp_type: 3,
                code: 1,
                seq: 9
            }
        );
        assert_eq!(decode(Family::V4, true, &ip(&err), 0x4321), Decoded::Ignore);
        assert_eq!(
            decode(Family::V4, true, &ip(&err[..30]), 0x1234),
            Decoded::Ignore
        );
        assert_eq!(
            error_line(3, 1, "192.0.2.1", "198.18.0.9").unwrap(),
            "ICMP Host Unreachable from 192.0.2.1 for ICMP Echo sent to 198.18.0.9\n"
        );
        assert_eq!(
            error_line(3, 99, "a", "b").unwrap(),
            "ICMP Unreachable (Invalid Code) from a for ICMP Echo sent to b\n"
        );
        assert!(error_line(11, 0, "a", "b")
            .unwrap()
            .starts_with("ICMP Time Exceeded from"));
        assert_eq!(error_line(13, 0, "a", "b"), None);
    }
}
