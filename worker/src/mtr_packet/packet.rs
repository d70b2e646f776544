//! mtr-packet's probes on the wire, as upstream 0.95's
//! `construct_unix.c` builds them and `deconstruct_unix.c` reads the
//! answers: the ICMP echo and UDP payloads (the kernel adds the IP
//! header: the worker holds no `IP_HDRINCL` socket), the sizes, the UDP
//! port/checksum encoding of the sequence number; and the parse of every
//! ICMP message received into what it says about which probe. Pure code,
//! bounds-checked: everything here reads bytes a remote host chose.

#![forbid(unsafe_code)]

use std::net::IpAddr;

use super::command::Protocol;

/// Upstream's `PACKET_BUFFER_SIZE`: no probe is larger.
pub const PACKET_BUFFER_SIZE: usize = 9000;
const IP4_HEADER: usize = 20;
const IP6_HEADER: usize = 40;
const ICMP_HEADER: usize = 8;
const UDP_HEADER: usize = 8;
/// RFC 4884's minimum "original datagram" before an extension structure.
const ICMP_ORIGINAL_DATAGRAM_MIN_SIZE: usize = 128;
const MAX_MPLS_LABELS: usize = 8;

const ICMP_ECHOREPLY: u8 = 0;
const ICMP_DEST_UNREACH: u8 = 3;
const ICMP_ECHO: u8 = 8;
const ICMP_TIME_EXCEEDED: u8 = 11;
const ICMP_PORT_UNREACH: u8 = 3;
const ICMP6_DEST_UNREACH: u8 = 1;
const ICMP6_TIME_EXCEEDED: u8 = 3;
const ICMP6_ECHO: u8 = 128;
const ICMP6_ECHOREPLY: u8 = 129;
const ICMP6_PORT_UNREACH: u8 = 4;

/// The Internet checksum (RFC 1071), shared by every tool.
pub use policy::inet::checksum;

/// Upstream's `compute_packet_size`: the bytes the worker writes (the
/// transport header and payload; the IP header is the kernel's). `size`
/// counts the IP header, as upstream's does. `None` is upstream's `EINVAL`
/// (larger than its 9000-byte buffer).
pub fn payload_size(v6: bool, protocol: Protocol, size: i32) -> Option<usize> {
    let ip = if v6 { IP6_HEADER } else { IP4_HEADER };
    let min = ip
        + match protocol {
            Protocol::Icmp => ICMP_HEADER,
            // Room for the sequence number in the payload.
            _ => UDP_HEADER + 4,
        };
    let total = usize::try_from(size)
        .ok()
        .filter(|&s| s > min)
        .unwrap_or(min);
    (total <= PACKET_BUFFER_SIZE).then_some(total - ip)
}

/// An ICMP echo request (v4 with its checksum; v6 without, the kernel
/// computes it): `len` bytes of `pattern`, then the header.
pub fn echo_request(v6: bool, len: usize, pattern: u8, ident: u16, sequence: u16) -> Vec<u8> {
    let mut p = vec![pattern; len];
    p[..ICMP_HEADER].fill(0);
    p[0] = if v6 { ICMP6_ECHO } else { ICMP_ECHO };
    p[4..6].copy_from_slice(&ident.to_be_bytes());
    p[6..8].copy_from_slice(&sequence.to_be_bytes());
    if !v6 {
        let sum = checksum(&p);
        p[2..4].copy_from_slice(&sum.to_be_bytes());
    }
    p
}

/// The ports of a UDP probe, as upstream's `set_udp_ports` chooses them:
/// the sequence number goes in the destination port, else the source
/// port, else (both given) the checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpPorts {
    pub src: u16,
    pub dst: u16,
    /// The checksum must equal the sequence number.
    pub sequence_in_checksum: bool,
}

pub fn udp_ports(dest_port: i32, local_port: i32, sequence: u16, pid: u16) -> UdpPorts {
    // C stores the ints in 16-bit fields.
    let (dest, local) = (dest_port as u16, local_port as u16);
    match (dest_port != 0, local_port != 0) {
        (true, true) => UdpPorts {
            src: local,
            dst: dest,
            sequence_in_checksum: true,
        },
        (true, false) => UdpPorts {
            src: sequence,
            dst: dest,
            sequence_in_checksum: false,
        },
        (false, true) => UdpPorts {
            src: local,
            dst: sequence,
            sequence_in_checksum: false,
        },
        (false, false) => UdpPorts {
            src: pid,
            dst: sequence,
            sequence_in_checksum: false,
        },
    }
}

/// A UDP probe of `len` bytes (header and payload of `pattern`). For
/// IPv4 the checksum is computed here over the pseudo-header of `src` and
/// `dst` (when the sequence number must be the checksum, the first two
/// payload bytes are chosen to make it so); for IPv6 the kernel computes it
/// (`IPV6_CHECKSUM`, as upstream), overwriting whatever is there.
pub fn udp_probe(
    len: usize,
    pattern: u8,
    ports: UdpPorts,
    sequence: u16,
    src: IpAddr,
    dst: IpAddr,
) -> Vec<u8> {
    let mut p = vec![pattern; len];
    p[..UDP_HEADER].fill(0);
    p[0..2].copy_from_slice(&ports.src.to_be_bytes());
    p[2..4].copy_from_slice(&ports.dst.to_be_bytes());
    p[4..6].copy_from_slice(&(len as u16).to_be_bytes());
    if let (IpAddr::V4(s), IpAddr::V4(d)) = (src, dst) {
        let mut pseudo = Vec::with_capacity(12 + len);
        pseudo.extend_from_slice(&s.octets());
        pseudo.extend_from_slice(&d.octets());
        pseudo.extend_from_slice(&[0, 17]);
        pseudo.extend_from_slice(&(len as u16).to_be_bytes());
        if ports.sequence_in_checksum {
            // Checksum field = sequence; the two payload bytes after the
            // header (zero while summing) make the sum come out right.
            p[6..8].copy_from_slice(&sequence.to_be_bytes());
            p[8..10].fill(0);
            pseudo.extend_from_slice(&p);
            let fix = checksum(&pseudo);
            p[8..10].copy_from_slice(&fix.to_be_bytes());
        } else {
            pseudo.extend_from_slice(&p);
            let sum = checksum(&pseudo);
            p[6..8].copy_from_slice(&sum.to_be_bytes());
        }
    } else if ports.sequence_in_checksum {
        p[6..8].copy_from_slice(&sequence.to_be_bytes());
    }
    p
}

/// What an ICMP message says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The probe reached its destination (echo reply, port unreachable,
    /// a completed or refused connection): `reply`.
    Reply,
    /// A router on the way: `ttl-expired`.
    TtlExpired,
    /// Any other unreachable: `no-route`.
    NoRoute,
}

impl Verdict {
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Reply => "reply",
            Verdict::TtlExpired => "ttl-expired",
            Verdict::NoRoute => "no-route",
        }
    }
}

/// Which probe an ICMP message is about, as far as its bytes say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum About {
    /// An echo reply: its identifier and sequence, from the sender.
    Echo { ident: u16, sequence: u16 },
    /// An error quoting one of our packets: the quoted IP header's
    /// addresses and protocol, and the first bytes of its transport header.
    Quoted {
        protocol: u8,
        src: IpAddr,
        dst: IpAddr,
        transport: [u8; 8],
    },
}

/// An MPLS label of an RFC 4950 extension object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MplsLabel {
    pub label: u32,
    pub traffic_class: u8,
    pub bottom_of_stack: u8,
    pub ttl: u8,
}

/// One received ICMP message, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub verdict: Verdict,
    pub about: About,
    pub mpls: Vec<MplsLabel>,
}

/// Upstream's `decode_mpls_labels`: the extension structure after the
/// 128-byte original datagram, its first MPLS object's labels.
fn mpls_labels(icmp: &[u8]) -> Vec<MplsLabel> {
    let ext_at = ICMP_HEADER + ICMP_ORIGINAL_DATAGRAM_MIN_SIZE;
    if icmp.len() < ext_at + 4 || icmp[ext_at] & 0xf0 != 0x20 {
        return Vec::new();
    }
    let mut objects = &icmp[ext_at + 4..];
    while objects.len() >= 4 {
        let len = usize::from(u16::from_be_bytes([objects[0], objects[1]]));
        if len > objects.len() || len < 4 {
            return Vec::new();
        }
        let (class, ctype) = (objects[2], objects[3]);
        if class == 1 && ctype == 1 {
            return objects[4..len]
                .chunks_exact(4)
                .take(MAX_MPLS_LABELS)
                .map(|l| MplsLabel {
                    label: u32::from(l[0]) << 12 | u32::from(l[1]) << 4 | u32::from(l[2]) >> 4,
                    traffic_class: (l[2] & 0x0e) >> 1,
                    bottom_of_stack: l[2] & 1,
                    ttl: l[3],
                })
                .collect();
        }
        objects = &objects[len..];
    }
    Vec::new()
}

/// The quoted packet of an ICMPv4 error (from the message's byte 8 on).
fn quoted_v4(inner: &[u8]) -> Option<About> {
    let ihl = usize::from(inner.first()? & 0x0f) * 4;
    if inner.first()? >> 4 != 4 || ihl < IP4_HEADER || inner.len() < ihl + 8 {
        return None;
    }
    let mut transport = [0u8; 8];
    transport.copy_from_slice(&inner[ihl..ihl + 8]);
    Some(About::Quoted {
        protocol: inner[9],
        src: IpAddr::from(<[u8; 4]>::try_from(&inner[12..16]).ok()?),
        dst: IpAddr::from(<[u8; 4]>::try_from(&inner[16..20]).ok()?),
        transport,
    })
}

/// The quoted packet of an ICMPv6 error.
fn quoted_v6(inner: &[u8]) -> Option<About> {
    if inner.len() < IP6_HEADER + 8 || inner[0] >> 4 != 6 {
        return None;
    }
    let mut transport = [0u8; 8];
    transport.copy_from_slice(&inner[IP6_HEADER..IP6_HEADER + 8]);
    Some(About::Quoted {
        protocol: inner[6],
        src: IpAddr::from(<[u8; 16]>::try_from(&inner[8..24]).ok()?),
        dst: IpAddr::from(<[u8; 16]>::try_from(&inner[24..40]).ok()?),
        transport,
    })
}

/// An ICMPv4 packet as a raw socket receives it (with its IP header).
pub fn parse_v4(packet: &[u8]) -> Option<Message> {
    let ihl = usize::from(packet.first()? & 0x0f) * 4;
    if ihl < IP4_HEADER || packet.len() < ihl + ICMP_HEADER || packet[9] != 1 {
        return None;
    }
    let icmp = &packet[ihl..];
    let (ty, code) = (icmp[0], icmp[1]);
    let verdict = match (ty, code) {
        (ICMP_ECHOREPLY, _) => {
            return Some(Message {
                verdict: Verdict::Reply,
                about: About::Echo {
                    ident: u16::from_be_bytes([icmp[4], icmp[5]]),
                    sequence: u16::from_be_bytes([icmp[6], icmp[7]]),
                },
                mpls: mpls_labels(icmp),
            });
        }
        (ICMP_TIME_EXCEEDED, _) => Verdict::TtlExpired,
        (ICMP_DEST_UNREACH, ICMP_PORT_UNREACH) => Verdict::Reply,
        (ICMP_DEST_UNREACH, _) => Verdict::NoRoute,
        _ => return None,
    };
    Some(Message {
        verdict,
        about: quoted_v4(&icmp[ICMP_HEADER..])?,
        mpls: mpls_labels(icmp),
    })
}

/// An ICMPv6 message as a raw ICMPv6 socket receives it (no IP header).
pub fn parse_v6(icmp: &[u8]) -> Option<Message> {
    if icmp.len() < ICMP_HEADER {
        return None;
    }
    let (ty, code) = (icmp[0], icmp[1]);
    let verdict = match (ty, code) {
        (ICMP6_ECHOREPLY, _) => {
            return Some(Message {
                verdict: Verdict::Reply,
                about: About::Echo {
                    ident: u16::from_be_bytes([icmp[4], icmp[5]]),
                    sequence: u16::from_be_bytes([icmp[6], icmp[7]]),
                },
                mpls: mpls_labels(icmp),
            });
        }
        (ICMP6_TIME_EXCEEDED, _) => Verdict::TtlExpired,
        (ICMP6_DEST_UNREACH, ICMP6_PORT_UNREACH) => Verdict::Reply,
        (ICMP6_DEST_UNREACH, _) => Verdict::NoRoute,
        _ => return None,
    };
    Some(Message {
        verdict,
        about: quoted_v6(&icmp[ICMP_HEADER..])?,
        mpls: mpls_labels(icmp),
    })
}

/// The `mpls` argument of a reply: `label,tc,bos,ttl` per label, joined by commas.
pub fn mpls_text(labels: &[MplsLabel]) -> String {
    labels
        .iter()
        .map(|l| {
            format!(
                "{},{},{},{}",
                l.label, l.traffic_class, l.bottom_of_stack, l.ttl
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn sizes_count_the_ip_header() {
        assert_eq!(payload_size(false, Protocol::Icmp, 64), Some(44));
        assert_eq!(payload_size(false, Protocol::Icmp, 0), Some(8));
        assert_eq!(payload_size(false, Protocol::Udp, -5), Some(12));
        assert_eq!(payload_size(true, Protocol::Icmp, 64), Some(24));
        assert_eq!(payload_size(true, Protocol::Udp, 10), Some(12));
        assert_eq!(payload_size(false, Protocol::Icmp, 9000), Some(8980));
        assert_eq!(payload_size(false, Protocol::Icmp, 9001), None);
    }

    #[test]
    fn echo_request_checksums_to_zero() {
        let p = echo_request(false, 44, 0x2c, 0x1234, 33000);
        assert_eq!(p[0], 8);
        assert_eq!(&p[4..8], &[0x12, 0x34, 0x80, 0xe8]);
        assert_eq!(p[8], 0x2c);
        assert_eq!(checksum(&p), 0);
    }

    #[test]
    fn udp_sequence_in_checksum() {
        let (s, d) = (
            IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1)),
            IpAddr::V4(Ipv4Addr::new(198, 18, 3, 2)),
        );
        let ports = udp_ports(53, 5000, 33007, 99);
        assert!(ports.sequence_in_checksum);
        let p = udp_probe(44, 0, ports, 33007, s, d);
        assert_eq!(u16::from_be_bytes([p[6], p[7]]), 33007);
        let mut pseudo = vec![198, 18, 0, 1, 198, 18, 3, 2, 0, 17, 0, 44];
        pseudo.extend_from_slice(&p);
        assert_eq!(checksum(&pseudo), 0);
        let plain = udp_probe(44, 0, udp_ports(0, 0, 33007, 99), 33007, s, d);
        assert_eq!(&plain[..4], &[0, 99, 0x80, 0xef]);
        let mut pseudo = vec![198, 18, 0, 1, 198, 18, 3, 2, 0, 17, 0, 44];
        pseudo.extend_from_slice(&plain);
        assert_eq!(checksum(&pseudo), 0);
    }

    fn time_exceeded_v4(quoted_proto: u8, extra: &[u8]) -> Vec<u8> {
        let mut p = vec![
            0x45, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0, 198, 18, 1, 1, 198, 18, 0, 1,
        ];
        p.extend_from_slice(&[11, 0, 0, 0, 0, 0, 0, 0]);
        p.extend_from_slice(&[0x45, 0, 0, 0, 0, 0, 0, 0, 1, quoted_proto, 0, 0]);
        p.extend_from_slice(&[198, 18, 0, 1, 198, 18, 3, 2]);
        p.extend_from_slice(extra);
        p
    }

    #[test]
    fn parses_a_time_exceeded_quote() {
        let m = parse_v4(&time_exceeded_v4(1, &[8, 0, 0, 0, 0x12, 0x34, 0x80, 0xe8])).unwrap();
        assert_eq!(m.verdict, Verdict::TtlExpired);
        match m.about {
            About::Quoted {
                protocol,
                dst,
                transport,
                ..
            } => {
                assert_eq!(protocol, 1);
                assert_eq!(dst, IpAddr::V4(Ipv4Addr::new(198, 18, 3, 2)));
                assert_eq!(&transport[4..8], &[0x12, 0x34, 0x80, 0xe8]);
            }
            other => panic!("{other:?}"),
        }
        // Too short to quote a transport header: nothing.
        assert!(parse_v4(&time_exceeded_v4(1, &[8, 0, 0])).is_none());
        assert!(parse_v4(&[0x45, 0, 0]).is_none());
        assert!(parse_v6(&[129, 0, 0]).is_none());
    }

    #[test]
    fn mpls_extension_is_read() {
        let mut icmp = vec![11, 0, 0, 0, 0, 0, 0, 0];
        icmp.extend_from_slice(&[0u8; 128]);
        icmp.extend_from_slice(&[0x20, 0, 0, 0]);
        icmp.extend_from_slice(&[0, 8, 1, 1]);
        // label 16005, tc 0, bos 1, ttl 1
        let label: u32 = 16005;
        icmp.extend_from_slice(&[
            (label >> 12) as u8,
            (label >> 4) as u8,
            ((label & 0xf) << 4) as u8 | 1,
            1,
        ]);
        let labels = mpls_labels(&icmp);
        assert_eq!(mpls_text(&labels), "16005,0,1,1");
        // An object claiming more than there is: none.
        let n = icmp.len();
        icmp[n - 7] = 200;
        assert!(mpls_labels(&icmp).is_empty());
    }
}
