//! ARP frames, pure: building the probe iputils sends, and deciding whether
//! a received frame is an answer worth counting, with iputils' exact rules
//! (`send_pack`, `recv_pack`). The bytes come from the network: every
//! access is bounds-checked, nothing here can panic (unit tests and the
//! `arp_frame` fuzz target hold it to that).

#![forbid(unsafe_code)]

use std::net::Ipv4Addr;

/// `ARPHRD_ETHER`, `ARPHRD_AX25`, `ARPHRD_NETROM`, `ARPHRD_FDDI`.
pub const ARPHRD_NETROM: u16 = 0;
pub const ARPHRD_ETHER: u16 = 1;
pub const ARPHRD_AX25: u16 = 3;
pub const ARPHRD_FDDI: u16 = 774;
/// `ARPOP_REQUEST`, `ARPOP_REPLY`.
pub const ARPOP_REQUEST: u16 = 1;
pub const ARPOP_REPLY: u16 = 2;
/// The AX.25 PID for IP, which AX.25 and NET/ROM put in `ar_pro`.
pub const AX25_P_IP: u16 = 0xcc;
/// `ETH_P_IP`.
pub const ETH_P_IP: u16 = 0x0800;
/// `PACKET_HOST`, `PACKET_BROADCAST`, `PACKET_MULTICAST`.
pub const PACKET_HOST: u8 = 0;
pub const PACKET_BROADCAST: u8 = 1;
pub const PACKET_MULTICAST: u8 = 2;
/// The largest hardware address a `sockaddr_ll` holds.
pub const MAX_HALEN: usize = 8;
/// `sizeof(struct arphdr)`.
const ARPHDR_LEN: usize = 8;

/// A link-layer address as `sockaddr_ll` carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LinkAddr {
    pub ifindex: i32,
    /// `sll_hatype` (`ARPHRD_*`).
    pub hatype: u16,
    /// `sll_pkttype` (`PACKET_*`), meaningful on received frames.
    pub pkttype: u8,
    pub halen: u8,
    pub addr: [u8; MAX_HALEN],
}

impl LinkAddr {
    /// The hardware address, `halen` bytes (at most [`MAX_HALEN`]).
    pub fn hw(&self) -> &[u8] {
        &self.addr[..usize::from(self.halen).min(MAX_HALEN)]
    }

    /// Replaces the hardware address (same length; extra bytes ignored).
    pub fn set_hw(&mut self, hw: &[u8]) {
        let n = usize::from(self.halen).min(MAX_HALEN).min(hw.len());
        self.addr[..n].copy_from_slice(&hw[..n]);
    }
}

/// The frame iputils' `send_pack` builds: our hardware and protocol
/// addresses, and the target's (`-A`: our own hardware address as the
/// target's, an ARP reply).
pub fn probe(me: &LinkAddr, he: &LinkAddr, src: Ipv4Addr, dst: Ipv4Addr, advert: bool) -> Vec<u8> {
    let mut hrd = me.hatype;
    if hrd == ARPHRD_FDDI {
        hrd = ARPHRD_ETHER;
    }
    let pro = if hrd == ARPHRD_AX25 || hrd == ARPHRD_NETROM {
        AX25_P_IP
    } else {
        ETH_P_IP
    };
    let op = if advert { ARPOP_REPLY } else { ARPOP_REQUEST };
    let mut f = Vec::with_capacity(ARPHDR_LEN + 2 * (usize::from(me.halen) + 4));
    f.extend_from_slice(&hrd.to_be_bytes());
    f.extend_from_slice(&pro.to_be_bytes());
    f.push(me.halen);
    f.push(4);
    f.extend_from_slice(&op.to_be_bytes());
    f.extend_from_slice(me.hw());
    f.extend_from_slice(&src.octets());
    f.extend_from_slice(if advert { me.hw() } else { he.hw() });
    f.extend_from_slice(&dst.octets());
    f
}

/// A frame that passed every check of `recv_pack`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// An ARP reply (else a request).
    pub reply: bool,
    /// Addressed to us (`PACKET_HOST`), else broadcast or multicast.
    pub unicast: bool,
    pub src_ip: Ipv4Addr,
    pub src_hw: Vec<u8>,
    pub dst_ip: Ipv4Addr,
    pub dst_hw: Vec<u8>,
}

/// What the frame must match: our link address, the probed target, our
/// source address, and whether this is duplicate address detection.
#[derive(Debug, Clone, Copy)]
pub struct Expect<'a> {
    pub me: &'a LinkAddr,
    pub target: Ipv4Addr,
    pub source: Ipv4Addr,
    pub dad: bool,
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn ip(b: &[u8], at: usize) -> Option<Ipv4Addr> {
    let s = b.get(at..at + 4)?;
    Some(Ipv4Addr::new(s[0], s[1], s[2], s[3]))
}

/// iputils' `recv_pack` checks, in its order: the frame reached us (host,
/// broadcast or multicast), is a request or reply, for our hardware type
/// (FDDI answering as Ethernet), for IP, with 4-byte protocol addresses
/// and our hardware address length, long enough; then, outside DAD, from
/// the target to our source address and hardware address; in DAD, from
/// the tested address by someone else. `None`: ignore the frame.
pub fn judge(frame: &[u8], from: &LinkAddr, want: &Expect<'_>) -> Option<Answer> {
    if !matches!(
        from.pkttype,
        PACKET_HOST | PACKET_BROADCAST | PACKET_MULTICAST
    ) {
        return None;
    }
    let hrd = be16(frame, 0)?;
    let pro = be16(frame, 2)?;
    let hln = *frame.get(4)?;
    let pln = *frame.get(5)?;
    let op = be16(frame, 6)?;
    if op != ARPOP_REQUEST && op != ARPOP_REPLY {
        return None;
    }
    if hrd != from.hatype && (from.hatype != ARPHRD_FDDI || hrd != ARPHRD_ETHER) {
        return None;
    }
    let want_pro = if hrd == ARPHRD_AX25 || hrd == ARPHRD_NETROM {
        AX25_P_IP
    } else {
        ETH_P_IP
    };
    if pro != want_pro || pln != 4 || hln != want.me.halen {
        return None;
    }
    let h = usize::from(hln);
    if frame.len() < ARPHDR_LEN + 2 * (4 + h) {
        return None;
    }
    let p = ARPHDR_LEN;
    let src_hw = frame.get(p..p + h)?;
    let src_ip = ip(frame, p + h)?;
    let dst_hw = frame.get(p + h + 4..p + 2 * h + 4)?;
    let dst_ip = ip(frame, p + 2 * h + 4)?;
    let my_hw = want.me.hw();
    if !want.dad {
        if src_ip != want.target || want.source != dst_ip || dst_hw != my_hw {
            return None;
        }
    } else {
        // DAD: someone else claims the tested address; when our probe had
        // a source address, the answer must be for it.
        if src_ip != want.target || src_hw == my_hw {
            return None;
        }
        if !want.source.is_unspecified() && want.source != dst_ip {
            return None;
        }
    }
    Some(Answer {
        reply: op == ARPOP_REPLY,
        unicast: from.pkttype == PACKET_HOST,
        src_ip,
        src_hw: src_hw.to_vec(),
        dst_ip,
        dst_hw: dst_hw.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MY_HW: [u8; 6] = [0x02, 0, 0, 0, 0, 1];
    const HIS_HW: [u8; 6] = [0x02, 0, 0, 0, 0, 2];
    const ME_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
    const HIM_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);

    fn link(hw: &[u8], pkttype: u8) -> LinkAddr {
        let mut l = LinkAddr {
            ifindex: 2,
            hatype: ARPHRD_ETHER,
            pkttype,
            halen: hw.len() as u8,
            addr: [0; 8],
        };
        l.set_hw(hw);
        l
    }

    fn reply_frame() -> Vec<u8> {
        // He answers: sender = him, target = us.
        let him = link(&HIS_HW, PACKET_HOST);
        let me = link(&MY_HW, PACKET_HOST);
        let mut f = probe(&him, &me, HIM_IP, ME_IP, false);
        f[7] = ARPOP_REPLY as u8;
        f
    }

    #[test]
    fn probe_is_an_ethernet_ip_request() {
        let me = link(&MY_HW, 0);
        let bcast = link(&[0xff; 6], 0);
        let f = probe(&me, &bcast, ME_IP, HIM_IP, false);
        assert_eq!(
            f,
            [
                0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 198, 18, 0, 1, 255, 255, 255, 255, 255,
                255, 198, 18, 0, 2
            ]
        );
        let a = probe(&me, &bcast, ME_IP, ME_IP, true);
        assert_eq!(&a[6..8], &[0, 2]);
        assert_eq!(&a[18..24], &MY_HW);
    }

    #[test]
    fn a_reply_from_the_target_is_counted() {
        let me = link(&MY_HW, 0);
        let want = Expect {
            me: &me,
            target: HIM_IP,
            source: ME_IP,
            dad: false,
        };
        let a = judge(&reply_frame(), &link(&HIS_HW, PACKET_HOST), &want).unwrap();
        assert!(a.reply && a.unicast);
        assert_eq!(a.src_hw, HIS_HW);
        assert_eq!(a.src_ip, HIM_IP);
    }

    #[test]
    fn foreign_frames_are_ignored() {
        let me = link(&MY_HW, 0);
        let want = Expect {
            me: &me,
            target: HIM_IP,
            source: ME_IP,
            dad: false,
        };
        let from = link(&HIS_HW, PACKET_HOST);
        let good = reply_frame();
        // Wrong sender address, wrong destination, our own probe coming
        // back, another host's packet, other opcodes and protocols.
        let mut other_src = good.clone();
        other_src[17] = 9;
        let mut other_dst = good.clone();
        other_dst[27] = 9;
        let mut other_hw = good.clone();
        other_hw[23] = 9;
        let mut rarp = good.clone();
        rarp[7] = 3;
        let mut ipv6 = good.clone();
        ipv6[2] = 0x86;
        let mut hln = good.clone();
        hln[4] = 8;
        for f in [other_src, other_dst, other_hw, rarp, ipv6, hln] {
            assert_eq!(judge(&f, &from, &want), None, "{f:?}");
        }
        assert_eq!(judge(&good, &link(&HIS_HW, 4), &want), None, "outgoing");
        let mut from_ax = from;
        from_ax.hatype = ARPHRD_AX25;
        assert_eq!(judge(&good, &from_ax, &want), None, "hardware type");
    }

    #[test]
    fn dad_counts_someone_else_claiming_the_address() {
        let me = link(&MY_HW, 0);
        let want = Expect {
            me: &me,
            target: HIM_IP,
            source: Ipv4Addr::UNSPECIFIED,
            dad: true,
        };
        // Linux answers a probe (sender 0.0.0.0) with target ip 0.0.0.0.
        let mut f = reply_frame();
        f[24..28].copy_from_slice(&[0, 0, 0, 0]);
        assert!(judge(&f, &link(&HIS_HW, PACKET_HOST), &want).is_some());
        // Our own probe, looped back, is no duplicate.
        let ours = probe(
            &me,
            &link(&[0xff; 6], 0),
            Ipv4Addr::UNSPECIFIED,
            HIM_IP,
            false,
        );
        let mut ours_from_target = ours.clone();
        ours_from_target[14..18].copy_from_slice(&HIM_IP.octets());
        assert_eq!(
            judge(&ours_from_target, &link(&MY_HW, PACKET_BROADCAST), &want),
            None
        );
    }

    #[test]
    fn every_truncation_and_any_bytes_are_safe() {
        let me = link(&MY_HW, 0);
        let want = Expect {
            me: &me,
            target: HIM_IP,
            source: ME_IP,
            dad: false,
        };
        let from = link(&HIS_HW, PACKET_HOST);
        let good = reply_frame();
        for n in 0..good.len() {
            assert_eq!(judge(&good[..n], &from, &want), None, "{n}");
        }
        // A cheap deterministic stream of arbitrary frames.
        let mut x: u32 = 0x1234_5678;
        for _ in 0..20_000 {
            let len = (x % 64) as usize;
            let mut f = Vec::with_capacity(len);
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                f.push(x as u8);
            }
            if f.len() > 5 && x & 3 == 0 {
                f[4] = 6;
                f[5] = 4;
            }
            let _ = judge(&f, &from, &want);
            let mut from_any = from;
            from_any.halen = (x % 12) as u8;
            let _ = judge(
                &f,
                &from_any,
                &Expect {
                    me: &from_any,
                    ..want
                },
            );
        }
    }
}
