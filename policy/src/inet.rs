//! The Internet checksum (RFC 1071), once for every crate that builds or
//! checks ICMP, UDP or IP headers: ping's, clockdiff's and mtr-packet's
//! workers, and the test suites' probes and peers.

#![forbid(unsafe_code)]

/// The Internet checksum (RFC 1071) of `data`, to be stored big-endian:
/// the one's-complement sum of its big-endian 16-bit words (an odd last
/// byte padded with zero), complemented. A message whose stored checksum
/// is right sums to a checksum of zero. The sum is folded at every word,
/// so no length overflows it.
pub fn checksum(data: &[u8]) -> u16 {
    let mut acc: u32 = 0;
    let mut chunks = data.chunks_exact(2);
    for w in &mut chunks {
        acc += u32::from(u16::from_be_bytes([w[0], w[1]]));
        acc = (acc & 0xffff) + (acc >> 16);
    }
    if let [last] = chunks.remainder() {
        acc += u32::from(*last) << 8;
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

#[cfg(test)]
mod tests {
    use super::checksum;

    #[test]
    fn rfc1071_example_and_edges() {
        // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(checksum(&data), !0xddf2);
        assert_eq!(checksum(&[0x01]), !0x0100);
        assert_eq!(checksum(&[]), 0xffff);
        assert_eq!(checksum(&[0xff, 0xff, 0x00, 0x01]), !0x0001);
    }

    #[test]
    fn a_message_with_its_checksum_sums_to_zero() {
        let mut msg = vec![8u8, 0, 0, 0, 0x12, 0x34, 0, 1, b'a', b'b', b'c'];
        let c = checksum(&msg);
        msg[2..4].copy_from_slice(&c.to_be_bytes());
        assert_eq!(checksum(&msg), 0);
    }
}
