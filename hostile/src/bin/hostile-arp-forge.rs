//! `hostile-arp-forge`: a compromised arping worker trying to forge frames,
//! and the peer that watches for them.
//!
//! `hostile-arp-forge attack IFACE OTHER PEER_MAC [--open]`
//!
//! The compromised worker, after its lock-down. By default it takes the
//! handoff (`policy::handoff::take_from_env(&ARPING)`): the suite installs
//! it *as arping's worker*, so the real launcher starts it with what a
//! worker gets — its channel to the real broker — and it locks itself down
//! with arping's exact profile before it does anything else. It binds the
//! broker to IFACE as the worker would, then asks the broker for: an ARP
//! reply that rewrites the peer's cache entry for 198.18.0.1 with a forged
//! hardware address (`spoof-cache`), an ARP request from 198.18.0.9
//! (`spoof-source`), an unasked-for ARP reply from its own addresses to
//! 198.18.0.55 (`reply`, what `-A` sends: root's only), an IPv4
//! packet from 198.18.0.77 (`ipv4`), the start of an IPv6 packet from
//! 2001:db8::77 (`ipv6`), a probe out of interface OTHER (`other-iface`: a
//! send naming it, and a second bind), malformed requests (`malformed-*`),
//! and last one honest probe for 198.18.0.66 (`honest`). Each prints
//! `NAME sent N` or `NAME refused ERRNO`. Then it reads what the broker
//! passes on for 2 s: `received arp=N other=N`.
//!
//! With `--open` (as root: the control, the world before the broker) it
//! opens the packet socket itself with the launcher's own code (filter
//! locked), drops to `nobody`, locks down with arping's profile as if that
//! socket were its handoff, and sends the same frames with `sendto`
//! straight out of the packet socket.
//!
//! `hostile-arp-forge capture IFACE SECONDS` (as root, in the peer's
//! namespace): counts, on IFACE, the frames only a forger sends:
//! `captured cache=N source=N reply=N ipv4=N ipv6=N honest=N`.

#![forbid(unsafe_code)]

use std::io::Write;
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

use policy::handoff::HandedSocket;
use policy::tools::{ARP, ARPING, ARP_ONLY_FILTER, ETH_P_ARP_BE};
use worker::arping::arp::{LinkAddr, ARPHRD_ETHER};
use worker::arping::proto::{Request, Response, REQUEST_LEN, RESPONSE_LEN};

const NOBODY: u32 = 65534;
const FORGED_HW: [u8; 6] = [0x02, 0, 0, 0, 0, 0x66];
const ME: [u8; 4] = [198, 18, 0, 1];
const PEER: [u8; 4] = [198, 18, 0, 2];
const NOBODYS_IP: [u8; 4] = [198, 18, 0, 9];
const FORGED_V4: [u8; 4] = [198, 18, 0, 77];
const HONEST_TARGET: [u8; 4] = [198, 18, 0, 66];
/// Where the unasked-for reply goes (no one: a marker the kernel never uses).
const REPLY_TARGET: [u8; 4] = [198, 18, 0, 55];
/// 2001:db8::77
const FORGED_V6: [u8; 16] = [
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x77,
];

fn say(line: impl AsRef<str>) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", line.as_ref());
    let _ = out.flush();
}

fn die(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("hostile-arp-forge: {what}: {e}");
    std::process::exit(3);
}

fn mac(s: &str) -> [u8; 6] {
    let parts: Vec<u8> = s
        .split(':')
        .filter_map(|p| u8::from_str_radix(p, 16).ok())
        .collect();
    parts.try_into().unwrap_or_else(|_| die("MAC", s))
}

fn arp_frame(op: u16, sha: [u8; 6], spa: [u8; 4], tha: [u8; 6], tpa: [u8; 4]) -> Vec<u8> {
    let mut f = vec![0, 1, 8, 0, 6, 4];
    f.extend_from_slice(&op.to_be_bytes());
    f.extend_from_slice(&sha);
    f.extend_from_slice(&spa);
    f.extend_from_slice(&tha);
    f.extend_from_slice(&tpa);
    f
}

/// An IPv4/UDP packet from 198.18.0.77 to the peer, 32 bytes (what fits a
/// broker request).
fn ipv4_packet() -> Vec<u8> {
    let mut p = vec![0x45, 0, 0, 32, 0, 0, 0x40, 0, 64, 17, 0, 0];
    p.extend_from_slice(&FORGED_V4);
    p.extend_from_slice(&PEER);
    p.extend_from_slice(&[0x04, 0x01, 0x04, 0x01, 0, 12, 0, 0]);
    p.extend_from_slice(b"PSFG");
    p
}

/// An IPv6 packet from 2001:db8::77 to all nodes, no payload.
fn ipv6_packet() -> Vec<u8> {
    let mut p = vec![0x60, 0, 0, 0, 0, 0, 59, 64];
    p.extend_from_slice(&FORGED_V6);
    p.extend_from_slice(&[0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    p
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let open = args.iter().any(|a| a == "--open");
    let pos: Vec<&str> = args
        .iter()
        .filter(|a| !a.starts_with("--"))
        .map(String::as_str)
        .collect();
    match pos.as_slice() {
        ["attack", iface, other, peer] => attack(iface, other, mac(peer), open),
        ["capture", iface, secs] => {
            capture(iface, secs.parse().unwrap_or_else(|e| die("SECONDS", e)))
        }
        _ => {
            eprintln!("usage: hostile-arp-forge attack IFACE OTHER PEER_MAC [--open] | capture IFACE SECONDS");
            std::process::exit(2);
        }
    }
}

fn ifindex(name: &str) -> i32 {
    match hostile::sys::if_nametoindex(name) as i32 {
        0 => die("interface", name),
        i => i,
    }
}

/// One frame to send and how: the name, the bytes, the EtherType a packet
/// socket would send it with, the destination, and the interface.
struct Attempt {
    name: &'static str,
    frame: Vec<u8>,
    ethertype: u16,
    dest: [u8; 6],
    other_iface: bool,
}

fn attempts(my_hw: [u8; 6], peer: [u8; 6]) -> Vec<Attempt> {
    let arp = libc::ETH_P_ARP as u16;
    let bcast = [0xff; 6];
    vec![
        Attempt {
            name: "spoof-cache",
            frame: arp_frame(2, FORGED_HW, ME, peer, PEER),
            ethertype: arp,
            dest: peer,
            other_iface: false,
        },
        Attempt {
            name: "spoof-source",
            frame: arp_frame(1, my_hw, NOBODYS_IP, [0; 6], PEER),
            ethertype: arp,
            dest: bcast,
            other_iface: false,
        },
        Attempt {
            name: "reply",
            frame: arp_frame(2, my_hw, ME, peer, REPLY_TARGET),
            ethertype: arp,
            dest: peer,
            other_iface: false,
        },
        Attempt {
            name: "ipv4",
            frame: ipv4_packet(),
            ethertype: libc::ETH_P_IP as u16,
            dest: bcast,
            other_iface: false,
        },
        Attempt {
            name: "ipv6",
            frame: ipv6_packet(),
            ethertype: libc::ETH_P_IPV6 as u16,
            dest: [0x33, 0x33, 0, 0, 0, 1],
            other_iface: false,
        },
        Attempt {
            name: "other-iface",
            frame: arp_frame(1, my_hw, ME, [0; 6], HONEST_TARGET),
            ethertype: arp,
            dest: bcast,
            other_iface: true,
        },
    ]
}

fn outcome(r: std::io::Result<usize>) -> String {
    match r {
        Ok(n) => format!("sent {n}"),
        Err(e) => format!("refused {}", e.raw_os_error().unwrap_or(0)),
    }
}

fn attack(iface: &str, other: &str, peer: [u8; 6], open: bool) {
    let (ifi, other_ifi) = (ifindex(iface), ifindex(other));
    let sockets = if open {
        let fd = launcher::sys::socket(libc::AF_PACKET, libc::SOCK_DGRAM, ARP.protocol)
            .unwrap_or_else(|e| die("socket (run as root)", e));
        launcher::sys::attach_filter(fd, ARP_ONLY_FILTER).unwrap_or_else(|e| die("filter", e));
        launcher::sys::lock_filter(fd).unwrap_or_else(|e| die("lock", e));
        hostile::sys::packet_bind(fd, ifi, ETH_P_ARP_BE as u16).unwrap_or_else(|e| die("bind", e));
        testkit::probe::drop_to(NOBODY, NOBODY).unwrap_or_else(|e| die("drop ids", e));
        vec![HandedSocket {
            fd,
            spec: &ARP,
            kind: ARP.kinds.first(),
        }]
    } else {
        policy::handoff::take_from_env(&ARPING).unwrap_or_else(|e| die("handoff", e))
    };
    let fd: RawFd = sockets[0].fd;
    // Everything below runs as code that took over the worker would: under
    // arping's real profile.
    if let Err(e) = policy::sandbox::lock_down(ARPING.sandbox, &sockets) {
        die("lock_down", e);
    }
    say("locked");
    if open {
        // The interface's own address (the suite's pair sets it).
        let my_hw = mac(testkit::netns::VETH0_MAC);
        for a in attempts(my_hw, peer) {
            let to = if a.other_iface { other_ifi } else { ifi };
            let r = hostile::sys::packet_sendto(fd, &a.frame, to, a.ethertype.to_be(), &a.dest);
            say(format!("{} {}", a.name, outcome(r)));
        }
        return;
    }
    let mut broker = Broker { fd };
    let me = match broker.call(&Request::Bind { ifindex: ifi }.encode()) {
        Some(Response::Bound(Ok(l))) => l,
        other => die("bind through the broker", format!("{other:?}")),
    };
    let my_hw: [u8; 6] = me
        .hw()
        .try_into()
        .unwrap_or_else(|_| die("hardware address", me.halen));
    say(format!("bound {}", me.ifindex));
    for a in attempts(my_hw, peer) {
        let to = link(&a.dest);
        let Some(req) = Request::send(&a.frame[..a.frame.len().min(32)], &to) else {
            die("request", a.name);
        };
        let mut m = req.encode();
        if a.other_iface {
            // The request's interface field, which a send must leave 0.
            m[8..12].copy_from_slice(&other_ifi.to_ne_bytes());
        }
        say(format!("{} {}", a.name, broker.send_status(&m)));
    }
    say(format!(
        "rebind {}",
        broker.send_status(&Request::Bind { ifindex: other_ifi }.encode())
    ));
    let honest = arp_frame(1, my_hw, ME, [0; 6], HONEST_TARGET);
    let good = Request::send(&honest, &link(&[0xff; 6])).unwrap().encode();
    let malformed: Vec<(&str, Vec<u8>)> = vec![
        ("malformed-short", good[..10].to_vec()),
        ("malformed-long", [&good[..], &[0]].concat()),
        ("malformed-magic", [&b"XXXX"[..], &good[4..]].concat()),
        ("malformed-kind", {
            let mut m = good.to_vec();
            m[4] = 7;
            m
        }),
        ("malformed-reserved", {
            let mut m = good.to_vec();
            m[REQUEST_LEN - 1] = 1;
            m
        }),
    ];
    for (name, m) in malformed {
        say(format!("{name} {}", broker.send_status(&m)));
    }
    say(format!("honest {}", broker.send_status(&good)));
    broker.count_frames(Duration::from_secs(2));
}

fn link(dest: &[u8; 6]) -> LinkAddr {
    let mut l = LinkAddr {
        ifindex: 0,
        hatype: ARPHRD_ETHER,
        pkttype: 0,
        halen: 6,
        addr: [0; 8],
    };
    l.set_hw(dest);
    l
}

/// The raw channel to the broker (the worker's own client code would not
/// send malformed requests).
struct Broker {
    fd: RawFd,
}

impl Broker {
    fn read(&mut self) -> Option<Response> {
        let mut buf = [0u8; RESPONSE_LEN + 1];
        let (n, _) =
            worker::sys::recv_message(self.fd, &mut buf).unwrap_or_else(|e| die("recvmsg", e));
        if n == 0 {
            die("broker", "the channel closed");
        }
        Response::decode(&buf[..n])
    }

    fn call(&mut self, m: &[u8]) -> Option<Response> {
        worker::sys::send(self.fd, m).unwrap_or_else(|e| die("send", e));
        loop {
            match self.read() {
                Some(Response::Frame(_)) => {}
                r => return r,
            }
        }
    }

    fn send_status(&mut self, m: &[u8]) -> String {
        match self.call(m) {
            Some(Response::Sent(r)) => outcome(r.map_err(std::io::Error::from_raw_os_error)),
            Some(Response::Bound(r)) => {
                outcome(r.map(|_| 0).map_err(std::io::Error::from_raw_os_error))
            }
            other => format!("answered {other:?}"),
        }
    }

    fn count_frames(&mut self, for_: Duration) {
        let (mut arp, mut other) = (0u64, 0u64);
        let end = Instant::now() + for_;
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match hostile::sys::ppoll_in(self.fd, left.as_millis() as u64 + 1) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => die("ppoll", e),
            }
            match self.read() {
                Some(Response::Frame(Ok((f, _)))) if f.starts_with(&[0, 1, 8, 0, 6, 4]) => arp += 1,
                Some(Response::Frame(Ok(_))) => other += 1,
                _ => {}
            }
        }
        say(format!("received arp={arp} other={other}"));
    }
}

fn capture(iface: &str, secs: u64) {
    let ifi = ifindex(iface);
    let all = (libc::ETH_P_ALL as u16).to_be();
    let fd = launcher::sys::socket(libc::AF_PACKET, libc::SOCK_DGRAM, i32::from(all))
        .unwrap_or_else(|e| die("socket (run as root)", e));
    hostile::sys::packet_bind(fd, ifi, all).unwrap_or_else(|e| die("bind", e));
    say("ready");
    let (mut cache, mut source, mut reply, mut v4, mut v6, mut honest) = (0, 0, 0, 0, 0, 0);
    let end = Instant::now() + Duration::from_secs(secs);
    let mut buf = vec![0u8; 65536];
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        match hostile::sys::ppoll_in(fd, left.as_millis() as u64 + 1) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => die("ppoll", e),
        }
        let (n, proto) =
            hostile::sys::packet_recvmsg(fd, &mut buf).unwrap_or_else(|e| die("recvmsg", e));
        let f = &buf[..n];
        if proto == libc::ETH_P_ARP as u16 && f.len() >= 28 {
            let (op, sha, spa, tpa) = (
                u16::from_be_bytes([f[6], f[7]]),
                &f[8..14],
                &f[14..18],
                &f[24..28],
            );
            if sha == FORGED_HW {
                cache += 1;
            } else if spa == NOBODYS_IP {
                source += 1;
            } else if op == 2 && spa == ME && tpa == REPLY_TARGET {
                reply += 1;
            } else if tpa == HONEST_TARGET {
                honest += 1;
            }
        } else if proto == libc::ETH_P_IP as u16 && f.get(12..16) == Some(&FORGED_V4[..]) {
            v4 += 1;
        } else if proto == libc::ETH_P_IPV6 as u16 && f.get(8..24) == Some(&FORGED_V6[..]) {
            v6 += 1;
        }
    }
    say(format!(
        "captured cache={cache} source={source} reply={reply} ipv4={v4} ipv6={v6} honest={honest}"
    ));
}
