//! ICMP and ICMPv6 packets for the hostile responder: parsing the echo
//! requests it receives and building the (mostly wrong) answers it sends.

#![forbid(unsafe_code)]

/// ICMP echo reply / request types.
pub const ECHO_REPLY_V4: u8 = 0;
/// ICMP echo request.
pub const ECHO_REQUEST_V4: u8 = 8;
/// ICMPv6 echo request.
pub const ECHO_REQUEST_V6: u8 = 128;
/// ICMPv6 echo reply.
pub const ECHO_REPLY_V6: u8 = 129;

/// The Internet checksum (RFC 1071), shared by every tool.
pub use policy::inet::checksum;

/// An echo request as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EchoRequest {
    /// Identifier.
    pub id: u16,
    /// Sequence number.
    pub seq: u16,
    /// Everything after the 8-byte header (iputils: timestamp + pattern).
    pub payload: Vec<u8>,
    /// The whole datagram as received, IPv4 header included (for quoting in
    /// ICMP errors); for IPv6, the ICMPv6 message only.
    pub raw: Vec<u8>,
}

/// Parses what a raw IPv4 ICMP socket delivers (IP header first).
pub fn parse_request_v4(packet: &[u8]) -> Option<EchoRequest> {
    let ihl = usize::from(*packet.first()? & 0x0f) * 4;
    if packet.first()? >> 4 != 4 || ihl < 20 {
        return None;
    }
    let icmp = packet.get(ihl..)?;
    parse_echo(icmp, ECHO_REQUEST_V4).map(|mut r| {
        r.raw = packet.to_vec();
        r
    })
}

/// Parses what a raw ICMPv6 socket delivers (no IPv6 header).
pub fn parse_request_v6(icmp: &[u8]) -> Option<EchoRequest> {
    parse_echo(icmp, ECHO_REQUEST_V6)
}

fn parse_echo(icmp: &[u8], want: u8) -> Option<EchoRequest> {
    if icmp.len() < 8 || icmp[0] != want || icmp[1] != 0 {
        return None;
    }
    Some(EchoRequest {
        id: u16::from_be_bytes([icmp[4], icmp[5]]),
        seq: u16::from_be_bytes([icmp[6], icmp[7]]),
        payload: icmp[8..].to_vec(),
        raw: icmp.to_vec(),
    })
}

/// An ICMP message `type/code` with a 4-byte rest-of-header and a body,
/// with a correct checksum (ICMPv6's is filled in by the kernel).
pub fn message(kind: u8, code: u8, rest: [u8; 4], body: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(8 + body.len());
    p.extend_from_slice(&[kind, code, 0, 0]);
    p.extend_from_slice(&rest);
    p.extend_from_slice(body);
    let sum = checksum(&p);
    p[2..4].copy_from_slice(&sum.to_be_bytes());
    p
}

/// An echo reply with a correct checksum.
pub fn echo_reply(v6: bool, id: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    let [a, b] = id.to_be_bytes();
    let [c, d] = seq.to_be_bytes();
    message(
        if v6 { ECHO_REPLY_V6 } else { ECHO_REPLY_V4 },
        0,
        [a, b, c, d],
        payload,
    )
}

/// A minimal IPv6 header (for quoting a request in an ICMPv6 error): `::1` → `::1`.
pub fn ipv6_header_loopback(payload_len: usize) -> Vec<u8> {
    let mut h = vec![0x60, 0, 0, 0];
    h.extend_from_slice(&(payload_len as u16).to_be_bytes());
    h.extend_from_slice(&[58, 64]);
    let one = std::net::Ipv6Addr::LOCALHOST.octets();
    h.extend_from_slice(&one);
    h.extend_from_slice(&one);
    h
}

/// A small deterministic generator, so that a scenario is reproducible.
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator seeded with `seed` (any value).
    pub fn new(seed: u64) -> Self {
        XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// `n` pseudo-random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_of_a_message_with_its_checksum_is_zero() {
        let p = echo_reply(false, 0x1234, 7, b"hello, world!");
        assert_eq!(checksum(&p), 0);
        assert_ne!(checksum(&p[..p.len() - 1]), 0);
    }

    #[test]
    fn parses_a_request_with_an_ip_header() {
        let icmp = message(ECHO_REQUEST_V4, 0, [0, 9, 0, 3], &[1, 2, 3]);
        let mut pkt = vec![0x45u8];
        pkt.extend_from_slice(&[0; 19]);
        pkt.extend_from_slice(&icmp);
        let r = parse_request_v4(&pkt).unwrap();
        assert_eq!(
            (r.id, r.seq, r.payload.as_slice()),
            (9, 3, &[1u8, 2, 3][..])
        );
        assert!(parse_request_v4(&pkt[..25]).is_none());
        assert!(parse_request_v6(&icmp).is_none(), "wrong type for v6");
    }
}
