//! The protocol between the arping worker and its broker, and the rules
//! the broker enforces. Pure: no system call, nothing here can panic (unit
//! tests and the `broker_request` fuzz target hold it to that).
//!
//! The worker holds no packet socket. Over a `SOCK_SEQPACKET` channel it
//! sends fixed-size [`REQUEST_LEN`]-byte requests: [`Request::Bind`] (once:
//! the interface to bind the packet socket to) and [`Request::Send`] (one
//! ARP frame and its link-layer destination). The broker answers each with
//! one fixed-size [`RESPONSE_LEN`]-byte [`Response`] and passes every ARP
//! frame it receives on the bound interface as one more.
//!
//! As OpenBSD's privilege-separated daemons check every `imsg`, the broker
//! checks every byte: [`Request::decode`] refuses a request of the wrong
//! size, magic or kind, with a stray byte in a reserved field or past the
//! frame; [`check_frame`] refuses a frame the caller's mode does not allow
//! (see there). The broker builds nothing from the worker's bytes but the
//! frame it checked, and sends it only on the interface it bound.

#![forbid(unsafe_code)]

use std::net::Ipv4Addr;

use super::arp::{
    LinkAddr, ARPHRD_AX25, ARPHRD_ETHER, ARPHRD_FDDI, ARPHRD_NETROM, ARPOP_REPLY, ARPOP_REQUEST,
    AX25_P_IP, ETH_P_IP, MAX_HALEN,
};

/// The size of every request.
pub const REQUEST_LEN: usize = 64;
/// The size of every response.
pub const RESPONSE_LEN: usize = 64 + MAX_FRAME_IN;
/// The longest ARP frame a request carries: `arphdr` and two pairs of
/// hardware (at most [`MAX_HALEN`]) and IPv4 addresses.
pub const MAX_FRAME_OUT: usize = 8 + 2 * (MAX_HALEN + 4);
/// How much of a received frame is passed on (an ARP frame of any
/// hardware type a `sockaddr_ll` can name fits; padding is cut).
pub const MAX_FRAME_IN: usize = 256;

/// The first four bytes of every message.
pub const MAGIC: [u8; 4] = *b"PSA1";

const KIND_BIND: u8 = 1;
const KIND_SEND: u8 = 2;
const KIND_BOUND: u8 = 0x81;
const KIND_SENT: u8 = 0x82;
const KIND_FRAME: u8 = 0x83;

// Request layout.
const RQ_KIND: usize = 4;
const RQ_IFINDEX: usize = 8;
const RQ_HALEN: usize = 12;
const RQ_FRAME_LEN: usize = 13;
const RQ_DEST: usize = 16;
const RQ_FRAME: usize = 24;

/// A request from the worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// Bind the packet socket to this interface (once).
    Bind { ifindex: i32 },
    /// Send `frame[..len]` to the link-layer address `dest[..halen]`.
    Send {
        halen: u8,
        dest: [u8; MAX_HALEN],
        len: u8,
        frame: [u8; MAX_FRAME_OUT],
    },
}

/// Why the broker refused a request (the worker gets the errno).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not a request of this protocol: size, magic, kind, a reserved byte.
    Malformed(&'static str),
    /// A well-formed request the caller's mode does not allow.
    NotAllowed(&'static str),
    /// Send before bind, or a second bind.
    OutOfOrder(&'static str),
}

impl Refusal {
    /// The errno the worker sees.
    pub fn errno(self) -> i32 {
        match self {
            Refusal::Malformed(_) => libc::EINVAL,
            Refusal::NotAllowed(_) => libc::EPERM,
            Refusal::OutOfOrder(_) => libc::EISCONN,
        }
    }

    /// What was wrong, for the broker's own tests and messages.
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::Malformed(r) | Refusal::NotAllowed(r) | Refusal::OutOfOrder(r) => r,
        }
    }
}

fn all_zero(b: &[u8]) -> bool {
    b.iter().all(|&x| x == 0)
}

impl Request {
    /// The request's bytes.
    pub fn encode(&self) -> [u8; REQUEST_LEN] {
        let mut m = [0u8; REQUEST_LEN];
        m[..4].copy_from_slice(&MAGIC);
        match *self {
            Request::Bind { ifindex } => {
                m[RQ_KIND] = KIND_BIND;
                m[RQ_IFINDEX..RQ_IFINDEX + 4].copy_from_slice(&ifindex.to_ne_bytes());
            }
            Request::Send {
                halen,
                dest,
                len,
                frame,
            } => {
                m[RQ_KIND] = KIND_SEND;
                m[RQ_HALEN] = halen;
                m[RQ_FRAME_LEN] = len;
                m[RQ_DEST..RQ_DEST + MAX_HALEN].copy_from_slice(&dest);
                m[RQ_FRAME..RQ_FRAME + MAX_FRAME_OUT].copy_from_slice(&frame);
            }
        }
        m
    }

    /// A send request for `frame` to `to`'s hardware address; `None` if
    /// either does not fit.
    pub fn send(frame: &[u8], to: &LinkAddr) -> Option<Request> {
        let hw = to.hw();
        if frame.len() > MAX_FRAME_OUT || hw.is_empty() {
            return None;
        }
        let mut dest = [0u8; MAX_HALEN];
        dest[..hw.len()].copy_from_slice(hw);
        let mut f = [0u8; MAX_FRAME_OUT];
        f[..frame.len()].copy_from_slice(frame);
        Some(Request::Send {
            halen: hw.len() as u8,
            dest,
            len: frame.len() as u8,
            frame: f,
        })
    }

    /// Parses one message exactly as received (its whole length): every
    /// byte is accounted for.
    pub fn decode(m: &[u8]) -> Result<Request, Refusal> {
        let m: &[u8; REQUEST_LEN] = m
            .try_into()
            .map_err(|_| Refusal::Malformed("not the size of a request"))?;
        if m[..4] != MAGIC {
            return Err(Refusal::Malformed("bad magic"));
        }
        if !all_zero(&m[5..8]) {
            return Err(Refusal::Malformed("reserved bytes set"));
        }
        match m[RQ_KIND] {
            KIND_BIND => {
                if !all_zero(&m[RQ_IFINDEX + 4..]) {
                    return Err(Refusal::Malformed("bytes after a bind request"));
                }
                let mut i = [0u8; 4];
                i.copy_from_slice(&m[RQ_IFINDEX..RQ_IFINDEX + 4]);
                let ifindex = i32::from_ne_bytes(i);
                if ifindex <= 0 {
                    return Err(Refusal::Malformed("no interface"));
                }
                Ok(Request::Bind { ifindex })
            }
            KIND_SEND => {
                if !all_zero(&m[RQ_IFINDEX..RQ_HALEN]) || !all_zero(&m[14..RQ_DEST]) {
                    return Err(Refusal::Malformed(
                        "a send request names no interface (the bound one is used)",
                    ));
                }
                let halen = m[RQ_HALEN];
                let len = m[RQ_FRAME_LEN];
                let (h, l) = (usize::from(halen), usize::from(len));
                if h == 0 || h > MAX_HALEN {
                    return Err(Refusal::Malformed("destination address length"));
                }
                if l > MAX_FRAME_OUT {
                    return Err(Refusal::Malformed("frame length"));
                }
                let mut dest = [0u8; MAX_HALEN];
                dest.copy_from_slice(&m[RQ_DEST..RQ_DEST + MAX_HALEN]);
                let mut frame = [0u8; MAX_FRAME_OUT];
                frame.copy_from_slice(&m[RQ_FRAME..RQ_FRAME + MAX_FRAME_OUT]);
                if !all_zero(&dest[h..])
                    || !all_zero(&frame[l..])
                    || !all_zero(&m[RQ_FRAME + MAX_FRAME_OUT..])
                {
                    return Err(Refusal::Malformed("bytes past the address or the frame"));
                }
                Ok(Request::Send {
                    halen,
                    dest,
                    len,
                    frame,
                })
            }
            _ => Err(Refusal::Malformed("unknown request")),
        }
    }
}

/// What the broker knows of the bound interface when a frame is to go
/// out: read from the kernel for every frame, never from the worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// Its hardware type and address (`getsockname` of the bound socket).
    pub link: LinkAddr,
    /// Its IPv4 addresses.
    pub addresses: Vec<Ipv4Addr>,
    /// Every IPv4 address of the host (its network namespace): the sender
    /// addresses of an interface that has none of its own.
    pub host_addresses: Vec<Ipv4Addr>,
}

impl Interface {
    /// The sender protocol addresses a caller who is not root may use:
    /// the interface's own; on an interface without one, the host's (the
    /// source the kernel picks for such an interface, as iputils finds it,
    /// is another interface's address).
    pub fn own_senders(&self) -> &[Ipv4Addr] {
        if self.addresses.is_empty() {
            &self.host_addresses
        } else {
            &self.addresses
        }
    }
}

fn be16(b: &[u8], at: usize) -> u16 {
    match b.get(at..at + 2) {
        Some(&[x, y]) => u16::from_be_bytes([x, y]),
        _ => 0,
    }
}

fn ipv4(b: &[u8], at: usize) -> Option<Ipv4Addr> {
    match b.get(at..at + 4)? {
        &[a, b, c, d] => Some(Ipv4Addr::new(a, b, c, d)),
        _ => None,
    }
}

/// The broker's rule for one frame: only the ARP frames privsep-arping's
/// modes send, from this interface.
///
/// - an ARP request (a reply, `-A`, only when the caller is root), for
///   IPv4, in the interface's hardware format (`arphdr` as iputils builds
///   it), exactly as long as that format says;
/// - sender hardware address: the interface's own, always;
/// - sender protocol address: one of the interface's own IPv4 addresses
///   or 0.0.0.0 (`-D`); on an interface without an address, one of the
///   host's (what the kernel's source selection gives there, and what the
///   kernel itself announces on any interface with `arp_announce` 0: no
///   foreign mapping); any other only when the caller is root (`-s`);
/// - the destination: a hardware address of the interface's length.
///
/// The target fields are free (the probe's target, iputils' choice of
/// target hardware address). `-U` has no shape of its own: its frame
/// differs from a probe of one's own address only in intent, and with the
/// interface's own addresses on both sides it tells the neighbours the
/// truth; the worker refuses `-U` itself to non-root callers.
pub fn check_frame(
    frame: &[u8],
    dest_halen: u8,
    iface: &Interface,
    caller_is_root: bool,
) -> Result<(), Refusal> {
    let me = &iface.link;
    let h = usize::from(me.halen);
    if h == 0 || h > MAX_HALEN {
        return Err(Refusal::NotAllowed("the interface has no hardware address"));
    }
    if dest_halen != me.halen {
        return Err(Refusal::NotAllowed(
            "destination address length is not the interface's",
        ));
    }
    if frame.len() != 8 + 2 * (h + 4) {
        return Err(Refusal::NotAllowed("not the length of an ARP frame here"));
    }
    let want_hrd = if me.hatype == ARPHRD_FDDI {
        ARPHRD_ETHER
    } else {
        me.hatype
    };
    let want_pro = if want_hrd == ARPHRD_AX25 || want_hrd == ARPHRD_NETROM {
        AX25_P_IP
    } else {
        ETH_P_IP
    };
    if be16(frame, 0) != want_hrd || be16(frame, 2) != want_pro {
        return Err(Refusal::NotAllowed(
            "not ARP for IPv4 in the interface's format",
        ));
    }
    if frame.get(4) != Some(&me.halen) || frame.get(5) != Some(&4) {
        return Err(Refusal::NotAllowed("address lengths"));
    }
    match be16(frame, 6) {
        ARPOP_REQUEST => {}
        ARPOP_REPLY if caller_is_root => {}
        ARPOP_REPLY => return Err(Refusal::NotAllowed("ARP replies (-A) are for root only")),
        _ => return Err(Refusal::NotAllowed("neither a request nor a reply")),
    }
    if frame.get(8..8 + h) != Some(me.hw()) {
        return Err(Refusal::NotAllowed(
            "sender hardware address is not the interface's",
        ));
    }
    let spa = ipv4(frame, 8 + h).ok_or(Refusal::NotAllowed("short frame"))?;
    if !caller_is_root && !spa.is_unspecified() && !iface.own_senders().contains(&spa) {
        return Err(Refusal::NotAllowed(
            "sender protocol address is not the interface's (-s is for root only)",
        ));
    }
    Ok(())
}

/// A response from the broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// The answer to a bind: the bound interface's link address, or the
    /// errno.
    Bound(Result<LinkAddr, i32>),
    /// The answer to a send: the bytes sent, or the errno (a refusal
    /// included).
    Sent(Result<usize, i32>),
    /// A received ARP frame (cut to [`MAX_FRAME_IN`]) and its sender, or
    /// the errno of the receive (`ENETDOWN`: the interface went down).
    Frame(Result<(Vec<u8>, LinkAddr), i32>),
}

// Response layout.
const RS_KIND: usize = 4;
const RS_STATUS: usize = 8;
const RS_IFINDEX: usize = 12;
const RS_HATYPE: usize = 16;
const RS_PKTTYPE: usize = 18;
const RS_HALEN: usize = 19;
const RS_ADDR: usize = 20;
const RS_LEN: usize = 28;
const RS_FRAME: usize = 64;

fn put_link(m: &mut [u8; RESPONSE_LEN], l: &LinkAddr) {
    m[RS_IFINDEX..RS_IFINDEX + 4].copy_from_slice(&l.ifindex.to_ne_bytes());
    m[RS_HATYPE..RS_HATYPE + 2].copy_from_slice(&l.hatype.to_ne_bytes());
    m[RS_PKTTYPE] = l.pkttype;
    m[RS_HALEN] = l.halen.min(MAX_HALEN as u8);
    m[RS_ADDR..RS_ADDR + MAX_HALEN].copy_from_slice(&l.addr);
}

fn get_link(m: &[u8; RESPONSE_LEN]) -> LinkAddr {
    let mut i = [0u8; 4];
    i.copy_from_slice(&m[RS_IFINDEX..RS_IFINDEX + 4]);
    let mut addr = [0u8; MAX_HALEN];
    addr.copy_from_slice(&m[RS_ADDR..RS_ADDR + MAX_HALEN]);
    LinkAddr {
        ifindex: i32::from_ne_bytes(i),
        hatype: u16::from_ne_bytes([m[RS_HATYPE], m[RS_HATYPE + 1]]),
        pkttype: m[RS_PKTTYPE],
        halen: m[RS_HALEN].min(MAX_HALEN as u8),
        addr,
    }
}

fn status(m: &[u8; RESPONSE_LEN]) -> i64 {
    let mut s = [0u8; 4];
    s.copy_from_slice(&m[RS_STATUS..RS_STATUS + 4]);
    i64::from(i32::from_ne_bytes(s))
}

impl Response {
    /// The response's bytes.
    pub fn encode(&self) -> [u8; RESPONSE_LEN] {
        let mut m = [0u8; RESPONSE_LEN];
        m[..4].copy_from_slice(&MAGIC);
        let put_status = |m: &mut [u8; RESPONSE_LEN], s: i32| {
            m[RS_STATUS..RS_STATUS + 4].copy_from_slice(&s.to_ne_bytes())
        };
        match self {
            Response::Bound(r) => {
                m[RS_KIND] = KIND_BOUND;
                match r {
                    Ok(l) => put_link(&mut m, l),
                    Err(e) => put_status(&mut m, -e.abs()),
                }
            }
            Response::Sent(r) => {
                m[RS_KIND] = KIND_SENT;
                let s = match r {
                    Ok(n) => i32::try_from(*n).unwrap_or(i32::MAX),
                    Err(e) => -e.abs(),
                };
                put_status(&mut m, s);
            }
            Response::Frame(r) => {
                m[RS_KIND] = KIND_FRAME;
                match r {
                    Ok((frame, from)) => {
                        put_link(&mut m, from);
                        let n = frame.len().min(MAX_FRAME_IN);
                        m[RS_LEN..RS_LEN + 2].copy_from_slice(&(n as u16).to_ne_bytes());
                        m[RS_FRAME..RS_FRAME + n].copy_from_slice(&frame[..n]);
                    }
                    Err(e) => put_status(&mut m, -e.abs()),
                }
            }
        }
        m
    }

    /// Parses one message from the broker; `None` if it is not one.
    pub fn decode(m: &[u8]) -> Option<Response> {
        let m: &[u8; RESPONSE_LEN] = m.try_into().ok()?;
        if m[..4] != MAGIC {
            return None;
        }
        let s = status(m);
        let err = (s < 0).then(|| (-s) as i32);
        Some(match m[RS_KIND] {
            KIND_BOUND => Response::Bound(match err {
                Some(e) => Err(e),
                None => Ok(get_link(m)),
            }),
            KIND_SENT => Response::Sent(match err {
                Some(e) => Err(e),
                None => Ok(s as usize),
            }),
            KIND_FRAME => Response::Frame(match err {
                Some(e) => Err(e),
                None => {
                    let n = usize::from(u16::from_ne_bytes([m[RS_LEN], m[RS_LEN + 1]]));
                    let frame = m.get(RS_FRAME..RS_FRAME + n)?.to_vec();
                    Ok((frame, get_link(m)))
                }
            }),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arping::arp::{probe, PACKET_HOST};

    const MY_HW: [u8; 6] = [2, 0, 0, 0, 0, 1];
    const ME: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
    const HIM: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);

    fn link(hw: &[u8]) -> LinkAddr {
        let mut l = LinkAddr {
            ifindex: 7,
            hatype: ARPHRD_ETHER,
            pkttype: 0,
            halen: hw.len() as u8,
            addr: [0; MAX_HALEN],
        };
        l.set_hw(hw);
        l
    }

    fn iface() -> Interface {
        Interface {
            link: link(&MY_HW),
            addresses: vec![ME, Ipv4Addr::new(198, 18, 5, 1)],
            host_addresses: vec![ME, Ipv4Addr::new(198, 18, 5, 1), Ipv4Addr::new(10, 0, 0, 1)],
        }
    }

    fn bcast() -> LinkAddr {
        link(&[0xff; 6])
    }

    /// The frames the worker's modes build, as `arp::probe` builds them.
    fn frame(src: Ipv4Addr, dst: Ipv4Addr, advert: bool) -> Vec<u8> {
        probe(&iface().link, &bcast(), src, dst, advert)
    }

    fn check(f: &[u8], root: bool) -> Result<(), Refusal> {
        check_frame(f, 6, &iface(), root)
    }

    #[test]
    fn requests_round_trip_and_every_other_byte_is_refused() {
        let reqs = [
            Request::Bind { ifindex: 3 },
            Request::send(&frame(ME, HIM, false), &bcast()).unwrap(),
        ];
        for r in reqs {
            let m = r.encode();
            assert_eq!(Request::decode(&m), Ok(r));
            // Any single byte changed is either refused or another valid
            // request whose encoding is exactly those bytes (no byte is
            // ignored).
            for i in 0..REQUEST_LEN {
                for x in [0x01u8, 0x80, 0xff] {
                    let mut bad = m;
                    bad[i] ^= x;
                    if let Ok(other) = Request::decode(&bad) {
                        assert_eq!(other.encode(), bad, "byte {i}");
                    }
                }
            }
            assert!(matches!(
                Request::decode(&m[..REQUEST_LEN - 1]),
                Err(Refusal::Malformed(_))
            ));
            let mut long = m.to_vec();
            long.push(0);
            assert!(matches!(Request::decode(&long), Err(Refusal::Malformed(_))));
        }
    }

    #[test]
    fn malformed_requests_are_refused() {
        let good = Request::send(&frame(ME, HIM, false), &bcast())
            .unwrap()
            .encode();
        let cases: Vec<(&str, [u8; REQUEST_LEN])> = vec![
            ("magic", {
                let mut m = good;
                m[0] = b'X';
                m
            }),
            ("kind", {
                let mut m = good;
                m[RQ_KIND] = 9;
                m
            }),
            ("reserved", {
                let mut m = good;
                m[6] = 1;
                m
            }),
            ("an interface in a send", {
                let mut m = good;
                m[RQ_IFINDEX] = 2;
                m
            }),
            ("halen 0", {
                let mut m = good;
                m[RQ_HALEN] = 0;
                m
            }),
            ("halen 9", {
                let mut m = good;
                m[RQ_HALEN] = 9;
                m
            }),
            ("frame length 33", {
                let mut m = good;
                m[RQ_FRAME_LEN] = 33;
                m
            }),
            ("a byte past the frame", {
                let mut m = good;
                m[RQ_FRAME + 28] = 1;
                m
            }),
            ("a byte past the address", {
                let mut m = good;
                m[RQ_DEST + 7] = 1;
                m
            }),
            ("trailer", {
                let mut m = good;
                m[REQUEST_LEN - 1] = 1;
                m
            }),
            ("bind to interface 0", Request::Bind { ifindex: 0 }.encode()),
            ("bind to a negative interface", {
                Request::Bind { ifindex: -1 }.encode()
            }),
            ("bytes after a bind", {
                let mut m = Request::Bind { ifindex: 2 }.encode();
                m[RQ_FRAME] = 1;
                m
            }),
        ];
        for (what, m) in cases {
            assert!(
                matches!(Request::decode(&m), Err(Refusal::Malformed(_))),
                "{what}"
            );
        }
        assert!(Request::decode(&[]).is_err());
    }

    #[test]
    fn the_frames_of_every_mode_pass_for_whom_they_are_for() {
        // Plain probe, -D (source 0.0.0.0), -s with another own address.
        for src in [ME, Ipv4Addr::UNSPECIFIED, Ipv4Addr::new(198, 18, 5, 1)] {
            assert_eq!(check(&frame(src, HIM, false), false), Ok(()), "{src}");
        }
        // -U with the interface's own address: the truth.
        assert_eq!(check(&frame(ME, ME, false), false), Ok(()));
        // Root: -A replies, -s with any address.
        assert_eq!(check(&frame(ME, ME, true), true), Ok(()));
        assert_eq!(check(&frame(HIM, HIM, false), true), Ok(()));
    }

    #[test]
    fn spoofing_frames_are_refused_to_a_caller_who_is_not_root() {
        let refused = |f: &[u8], root: bool| matches!(check(f, root), Err(Refusal::NotAllowed(_)));
        // A reply (-A), a forged sender address (another host's: how ARP
        // caches are poisoned), a forged sender hardware address.
        assert!(refused(&frame(ME, HIM, true), false));
        assert!(refused(&frame(HIM, HIM, false), false));
        assert!(refused(
            &frame(Ipv4Addr::new(198, 18, 0, 9), HIM, false),
            false
        ));
        let mut forged_hw = frame(ME, HIM, false);
        forged_hw[8..14].copy_from_slice(&[2, 0, 0, 0, 0, 0x66]);
        assert!(refused(&forged_hw, false));
        // Not even root forges the hardware address.
        assert!(refused(&forged_hw, true));
        // Not ARP for IPv4: an IPv4 packet, an IPv6 one, ARP for another
        // protocol or hardware type, another opcode (RARP).
        let ipv4_packet = {
            let mut p = vec![0x45, 0, 0, 28, 0, 0, 0x40, 0, 64, 17, 0, 0];
            p.extend_from_slice(&ME.octets());
            p.extend_from_slice(&HIM.octets());
            p.extend_from_slice(&[0; 8]);
            p
        };
        assert!(refused(&ipv4_packet, true));
        assert!(refused(&[0x60; 28], true));
        for (at, v) in [(2usize, 0x86dd_u16), (0, 6), (6, 3), (6, 0)] {
            let mut f = frame(ME, HIM, false);
            f[at..at + 2].copy_from_slice(&v.to_be_bytes());
            assert!(refused(&f, true), "field {at} = {v:#x}");
        }
        // Lengths: hln, pln, the frame cut or padded.
        for (at, v) in [(4usize, 8u8), (5, 16)] {
            let mut f = frame(ME, HIM, false);
            f[at] = v;
            assert!(refused(&f, true));
        }
        let f = frame(ME, HIM, false);
        assert!(refused(&f[..27], true));
        let mut padded = f.clone();
        padded.extend_from_slice(&[0; 4]);
        assert!(refused(&padded, true));
        // A destination address of another length.
        assert!(matches!(
            check_frame(&f, 8, &iface(), true),
            Err(Refusal::NotAllowed(_))
        ));
        // Another interface's address is not this one's…
        let other = frame(Ipv4Addr::new(10, 0, 0, 1), HIM, false);
        assert!(refused(&other, false));
        // …unless this one has none: then the host's are its senders (the
        // source iputils gets from the kernel there), and nothing else.
        let mut bare = iface();
        bare.addresses.clear();
        assert_eq!(check_frame(&other, 6, &bare, false), Ok(()));
        assert!(check_frame(&frame(HIM, HIM, false), 6, &bare, false).is_err());
        // An interface without a hardware address sends nothing.
        let mut none = iface();
        none.link.halen = 0;
        assert!(check_frame(&f, 0, &none, true).is_err());
    }

    #[test]
    fn responses_round_trip() {
        let mut from = link(&[2, 0, 0, 0, 0, 2]);
        from.pkttype = PACKET_HOST;
        for r in [
            Response::Bound(Ok(link(&MY_HW))),
            Response::Bound(Err(libc::ENODEV)),
            Response::Sent(Ok(28)),
            Response::Sent(Err(libc::EPERM)),
            Response::Frame(Ok((frame(HIM, ME, true), from))),
            Response::Frame(Ok((vec![], from))),
            Response::Frame(Err(libc::ENETDOWN)),
        ] {
            assert_eq!(Response::decode(&r.encode()), Some(r.clone()), "{r:?}");
        }
        // Frames are cut to MAX_FRAME_IN.
        let long = Response::Frame(Ok((vec![7; 1000], from))).encode();
        match Response::decode(&long) {
            Some(Response::Frame(Ok((f, _)))) => assert_eq!(f.len(), MAX_FRAME_IN),
            other => panic!("{other:?}"),
        }
        assert_eq!(Response::decode(&[0; 10]), None);
        let mut bad = Response::Sent(Ok(1)).encode();
        bad[RS_KIND] = 0;
        assert_eq!(Response::decode(&bad), None);
        // A frame length past the buffer is not a frame.
        let mut bad = Response::Frame(Ok((vec![1], from))).encode();
        bad[RS_LEN..RS_LEN + 2].copy_from_slice(&(MAX_FRAME_IN as u16 + 1).to_ne_bytes());
        assert_eq!(Response::decode(&bad), None);
    }
}
