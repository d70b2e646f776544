//! clockdiff's packets: the request (an ICMP timestamp request, or an ICMP
//! echo request carrying the same 12-byte body when the IP timestamp
//! option is set on the socket) and the parser for what comes back on the
//! raw socket (IPv4 header included). The parser bounds every read by the
//! bytes received and by the option's own length, where iputils reads
//! whatever lies in its buffer: a truncated, malformed or foreign datagram
//! is `None` (ignored), never a panic.

#![forbid(unsafe_code)]

/// ICMP types.
pub const ICMP_ECHOREPLY: u8 = 0;
pub const ICMP_ECHO: u8 = 8;
pub const ICMP_TIMESTAMP: u8 = 13;
pub const ICMP_TIMESTAMPREPLY: u8 = 14;
/// IP option type "Internet Timestamp" and its "prespecified addresses" flag.
pub const IPOPT_TIMESTAMP: u8 = 68;
pub const IPOPT_TS_PRESPEC: u8 = 3;
/// ICMP header (8) + originate, receive and transmit timestamps (12).
pub const REQUEST_LEN: usize = 20;
/// iputils' `PACKET_IN`: the receive buffer.
pub const PACKET_IN: usize = 1024;

/// The Internet checksum (RFC 1071), shared by every tool.
pub use policy::inet::checksum;

/// Milliseconds since midnight UT, as RFC 792 timestamps count.
pub fn ms_of_day(since_epoch: std::time::Duration) -> u32 {
    ((since_epoch.as_secs() % 86_400) * 1000 + u64::from(since_epoch.subsec_millis())) as u32
}

/// One request. `id` and `seq` are written in host byte order, as iputils
/// does (it never swaps them, and compares replies the same way).
pub fn request(echo: bool, id: u16, seq: u16, originate_ms: u32) -> [u8; REQUEST_LEN] {
    let mut p = [0u8; REQUEST_LEN];
    p[0] = if echo { ICMP_ECHO } else { ICMP_TIMESTAMP };
    p[4..6].copy_from_slice(&id.to_ne_bytes());
    p[6..8].copy_from_slice(&seq.to_ne_bytes());
    p[8..12].copy_from_slice(&originate_ms.to_be_bytes());
    let sum = checksum(&p);
    p[2..4].copy_from_slice(&sum.to_be_bytes());
    p
}

/// What a reply carries that the measurement uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// An ICMP timestamp reply: our originate time echoed back and the
    /// peer's receive time (the transmit time is unused, as in iputils).
    Timestamps { originate: u32, receive: u32 },
    /// An echo reply with the IP timestamp option: its flags byte
    /// (overflow << 4 | flag) and the timestamps recorded so far, in order
    /// (at most four, as many as the option's pointer says were filled).
    IpOption {
        flags: u8,
        stamps: [u32; 4],
        count: usize,
    },
}

/// A reply to one of our requests, by type and identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    pub seq: u16,
    pub body: Body,
}

/// Parses one datagram from the raw socket (IPv4 header first). `ip_option`
/// says whether we sent echo requests with the timestamp option. `None`
/// for anything that is not a complete reply to us.
pub fn parse(packet: &[u8], id: u16, ip_option: bool) -> Option<Reply> {
    let first = *packet.first()?;
    if first >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(first & 0x0f) * 4;
    if ihl < 20 {
        return None;
    }
    // A reply is as long as the request it answers: anything shorter is
    // truncated (with -o iputils would take a reply cut after the ICMP
    // header, and count every such copy as one more answer).
    let icmp = packet.get(ihl..)?;
    if icmp.len() < REQUEST_LEN {
        return None;
    }
    if u16::from_ne_bytes([icmp[4], icmp[5]]) != id {
        return None;
    }
    let seq = u16::from_ne_bytes([icmp[6], icmp[7]]);
    let has_option = ihl > 20 && packet[20] == IPOPT_TIMESTAMP;
    let word = |b: &[u8], at: usize| -> Option<u32> {
        Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
    };
    let body = if ip_option {
        // iputils takes an echo reply carrying the option, or any
        // timestamp reply, and reads the option at offset 20 for both; a
        // reply without the option is ignored here (iputils would read the
        // ICMP header as an option).
        if !(has_option && matches!(icmp[0], ICMP_ECHOREPLY | ICMP_TIMESTAMPREPLY)) {
            return None;
        }
        // The option as iputils reads it: at offset 20, [type, length,
        // pointer, flags], then (address, timestamp) pairs; the pointer
        // says how many pairs were filled. Only what lies inside both the
        // option and the header is read.
        let opt = &packet[20..ihl];
        if opt.len() < 4 {
            return None;
        }
        let avail = usize::from(opt[1]).min(opt.len());
        let filled = (i32::from(opt[2]) - 5).max(0) as usize / 8;
        let mut stamps = [0u32; 4];
        let mut count = 0;
        for (i, slot) in stamps.iter_mut().enumerate().take(filled) {
            let at = 4 + i * 8 + 4;
            if at + 4 > avail {
                break;
            }
            *slot = word(opt, at)?;
            count += 1;
        }
        Body::IpOption {
            flags: opt[3],
            stamps,
            count,
        }
    } else if icmp[0] == ICMP_TIMESTAMPREPLY {
        Body::Timestamps {
            originate: word(icmp, 8)?,
            receive: word(icmp, 12)?,
        }
    } else {
        return None;
    };
    Some(Reply { seq, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(options: &[u8], icmp: &[u8]) -> Vec<u8> {
        assert_eq!(options.len() % 4, 0);
        let ihl = (20 + options.len()) / 4;
        let mut p = vec![0x40 | ihl as u8, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0];
        p.extend_from_slice(&[127, 0, 0, 1, 127, 0, 0, 1]);
        p.extend_from_slice(options);
        p.extend_from_slice(icmp);
        p
    }

    fn ts_reply(id: u16, seq: u16, orig: u32, recv: u32) -> Vec<u8> {
        let mut icmp = request(false, id, seq, orig).to_vec();
        icmp[0] = ICMP_TIMESTAMPREPLY;
        icmp[12..16].copy_from_slice(&recv.to_be_bytes());
        icmp[16..20].copy_from_slice(&recv.to_be_bytes());
        ip(&[], &icmp)
    }

    #[test]
    fn checksum_of_a_request_verifies() {
        let p = request(false, 0x1234, 7, 12_345_678);
        assert_eq!(checksum(&p), 0);
        assert_eq!(p[0], ICMP_TIMESTAMP);
        assert_eq!(&p[8..12], &12_345_678u32.to_be_bytes());
        assert_eq!(&p[12..], &[0; 8]);
        assert_eq!(request(true, 1, 1, 0)[0], ICMP_ECHO);
        assert_eq!(checksum(&[0xff]), !0xff00);
    }

    #[test]
    fn ms_of_day_wraps_at_midnight() {
        use std::time::Duration;
        assert_eq!(ms_of_day(Duration::new(86_400 * 3 + 1, 2_500_000)), 1002);
        assert_eq!(ms_of_day(Duration::new(86_399, 999_999_999)), 86_399_999);
    }

    #[test]
    fn a_timestamp_reply_is_read() {
        let r = parse(&ts_reply(9, 3, 100, 150), 9, false).unwrap();
        assert_eq!(r.seq, 3);
        assert_eq!(
            r.body,
            Body::Timestamps {
                originate: 100,
                receive: 150
            }
        );
    }

    #[test]
    fn foreign_and_truncated_replies_are_ignored() {
        let good = ts_reply(9, 3, 100, 150);
        assert!(parse(&good, 10, false).is_none(), "wrong id");
        for n in 0..good.len() {
            assert!(parse(&good[..n], 9, false).is_none(), "truncated to {n}");
        }
        let mut echo = good.clone();
        echo[20] = ICMP_ECHOREPLY;
        assert!(parse(&echo, 9, false).is_none(), "an echo reply without -o");
        let mut v6 = good.clone();
        v6[0] = 0x65;
        assert!(parse(&v6, 9, false).is_none());
        let mut short_ihl = good;
        short_ihl[0] = 0x44;
        assert!(parse(&short_ihl, 9, false).is_none());
    }

    fn opt_reply(opt: &[u8], id: u16, seq: u16) -> Vec<u8> {
        let mut icmp = request(true, id, seq, 5).to_vec();
        icmp[0] = ICMP_ECHOREPLY;
        ip(opt, &icmp)
    }

    fn option(len: u8, ptr: u8, flags: u8, stamps: &[u32]) -> Vec<u8> {
        let mut o = vec![IPOPT_TIMESTAMP, len, ptr, flags];
        for s in stamps {
            o.extend_from_slice(&[127, 0, 0, 1]);
            o.extend_from_slice(&s.to_be_bytes());
        }
        o.resize(usize::from(len).div_ceil(4) * 4, 0);
        o
    }

    #[test]
    fn an_ip_option_reply_is_read() {
        let opt = option(36, 37, IPOPT_TS_PRESPEC, &[10, 11, 12, 13]);
        let r = parse(&opt_reply(&opt, 4, 2), 4, true).unwrap();
        assert_eq!(
            r.body,
            Body::IpOption {
                flags: 3,
                stamps: [10, 11, 12, 13],
                count: 4
            }
        );
        // Only the pairs the pointer says were filled.
        let opt = option(36, 21, IPOPT_TS_PRESPEC, &[10, 11, 0, 0]);
        let r = parse(&opt_reply(&opt, 4, 2), 4, true).unwrap();
        assert!(matches!(r.body, Body::IpOption { count: 2, .. }));
    }

    #[test]
    fn a_lying_option_pointer_reads_nothing_outside_the_option() {
        // Pointer 255 on a 12-byte option: one pair fits, no more.
        let opt = option(12, 255, IPOPT_TS_PRESPEC, &[10]);
        let r = parse(&opt_reply(&opt, 4, 2), 4, true).unwrap();
        assert!(matches!(r.body, Body::IpOption { count: 1, .. }), "{r:?}");
        // An option length beyond the header.
        let mut opt = option(12, 255, IPOPT_TS_PRESPEC, &[10]);
        opt[1] = 200;
        assert!(parse(&opt_reply(&opt, 4, 2), 4, true).is_some());
        // Cut inside the ICMP message: truncated, whatever the option says.
        let opt = option(36, 37, IPOPT_TS_PRESPEC, &[10, 11, 12, 13]);
        let full = opt_reply(&opt, 4, 2);
        for n in 0..full.len() {
            assert!(parse(&full[..n], 4, true).is_none(), "truncated to {n}");
        }
        // Pointer below the first slot.
        let opt = option(12, 1, IPOPT_TS_PRESPEC, &[10]);
        let r = parse(&opt_reply(&opt, 4, 2), 4, true).unwrap();
        assert!(matches!(r.body, Body::IpOption { count: 0, .. }));
    }

    #[test]
    fn with_o_only_replies_carrying_the_option_count() {
        assert!(parse(&ts_reply(9, 3, 1, 2), 9, true).is_none());
        let mut icmp = request(true, 9, 3, 5).to_vec();
        icmp[0] = ICMP_ECHOREPLY;
        assert!(parse(&ip(&[], &icmp), 9, true).is_none());
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut x: u32 = 0x9e37_79b9;
        for _ in 0..20_000 {
            let mut p = vec![0u8; (x % 90) as usize];
            for b in &mut p {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                *b = x as u8;
            }
            if let Some(first) = p.first_mut() {
                *first = 0x40 | (*first & 0x0f);
            }
            let _ = parse(&p, 0, x & 1 == 0);
            let _ = parse(&p, 0, x & 1 == 1);
        }
    }
}
