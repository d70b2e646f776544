//! `hostile-responder SCENARIO COUNT [MAX_SECONDS]`: the remote host that wants to
//! crash or confuse the worker. Run as root inside a network namespace whose
//! kernel does not answer pings itself (`icmp_echo_ignore_all`), it answers
//! every echo request on 127.0.0.1 and ::1 with the scenario's hostile
//! packets, deterministically (a function of the request only), then exits
//! after MAX_SECONDS (default 60) at the latest.
//!
//! The counts must not depend on timing. A pinger run with `-c COUNT`
//! exits as soon as received + errors reaches COUNT, so the packet that gets
//! it there must be the last one queued: noise goes *before* the genuine
//! reply, noise that itself counts (a reply for a sequence never sent) comes
//! once, early, and request COUNT (the last) gets the genuine reply alone.

#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use hostile::icmp::{self, EchoRequest, XorShift};
use hostile::sys;

/// The scenarios, each with what it sends for a request with sequence `s`.
const SCENARIOS: &[(&str, &str)] = &[
    ("normal", "one correct reply"),
    (
        "truncated",
        "odd s: the reply cut to 4 payload bytes; even s: a 3-byte runt, then the reply",
    ),
    (
        "bad-checksum",
        "a reply with a wrong checksum; even s: then the reply (IPv4 only)",
    ),
    (
        "wrong-id",
        "a reply with another identifier, then the reply",
    ),
    (
        "wrong-seq",
        "replies for sequence numbers never sent, then the reply",
    ),
    ("oversized", "a 40000-byte reply; even s: then the reply"),
    (
        "dup-flood",
        "50 more copies of the reply to s-1, then the reply",
    ),
    (
        "errors",
        "even s: an ICMP error quoting the request; odd s: errors quoting garbage, then the reply",
    ),
    (
        "foreign",
        "the reply from 127.0.0.2, never pinged, then the reply (IPv4 only)",
    ),
];

struct Responder {
    scenario: String,
    /// The pinger's `-c`: the last request gets the genuine reply alone.
    count: u16,
    v4: OwnedFd,
    v6: Option<OwnedFd>,
    /// Raw ICMP socket bound to 127.0.0.2: a host never pinged.
    foreign: OwnedFd,
    /// Payloads of the requests seen, per family and sequence, for the duplicate flood.
    seen: HashMap<(bool, u16), Vec<u8>>,
}

impl Responder {
    fn send(&self, v6: bool, packet: &[u8]) {
        let (fd, to) = if v6 {
            (
                self.v6.as_ref().expect("v6 socket").as_raw_fd(),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
            )
        } else {
            (self.v4.as_raw_fd(), IpAddr::V4(Ipv4Addr::LOCALHOST))
        };
        if let Err(e) = sys::sendto(fd, packet, to) {
            eprintln!(
                "hostile-responder: sendto {to} ({} bytes): {e}",
                packet.len()
            );
        }
    }

    /// An ICMP error (destination unreachable) whose body is `quote`.
    fn error(&self, v6: bool, quote: &[u8]) {
        let packet = if v6 {
            icmp::message(1, 3, [0; 4], quote)
        } else {
            icmp::message(3, 1, [0; 4], quote)
        };
        self.send(v6, &packet);
    }

    fn answer(&mut self, v6: bool, req: &EchoRequest) {
        let (id, s, p) = (req.id, req.seq, req.payload.as_slice());
        let reply = |id: u16, seq: u16, payload: &[u8]| icmp::echo_reply(v6, id, seq, payload);
        let even = s % 2 == 0;
        let mut rng = XorShift::new(u64::from(s));
        let scenario = if s >= self.count {
            "normal"
        } else {
            self.scenario.as_str()
        };
        let genuine = match scenario {
            "normal" => true,
            "truncated" => {
                if even {
                    self.send(v6, &reply(id, s, p)[..3]);
                    true
                } else {
                    self.send(v6, &reply(id, s, &p[..p.len().min(4)]));
                    false
                }
            }
            "bad-checksum" => {
                let mut bad = reply(id, s, p);
                bad[2] ^= 0x5a;
                self.send(v6, &bad);
                even
            }
            "wrong-id" => {
                self.send(v6, &reply(id.wrapping_add(1), s, p));
                self.send(v6, &reply(!id, s, p));
                true
            }
            "wrong-seq" => {
                self.send(v6, &reply(id, s, p));
                if s <= 2 {
                    let never_sent = if s == 1 {
                        s.wrapping_add(1000)
                    } else {
                        s ^ 0x8000
                    };
                    self.send(v6, &reply(id, never_sent, p));
                }
                false
            }
            "oversized" => {
                let mut big = p.to_vec();
                big.extend(rng.bytes(40_000));
                self.send(v6, &reply(id, s, &big));
                even
            }
            "dup-flood" => {
                if let Some(prev) = self.seen.get(&(v6, s.wrapping_sub(1))) {
                    let dup = reply(id, s.wrapping_sub(1), prev);
                    for _ in 0..50 {
                        self.send(v6, &dup);
                    }
                }
                true
            }
            "errors" => {
                let genuine_quote = if v6 {
                    let mut q = icmp::ipv6_header_loopback(req.raw.len());
                    q.extend_from_slice(&req.raw);
                    q
                } else {
                    req.raw.clone()
                };
                if even {
                    self.error(v6, &genuine_quote);
                    false
                } else {
                    // Pure noise; a quote too short for the echo header; a
                    // header claiming more options than the packet holds; the
                    // request with another identifier; a claimed other protocol.
                    self.error(v6, &rng.bytes(64));
                    self.error(v6, &genuine_quote[..genuine_quote.len().min(10)]);
                    let mut long_ihl = genuine_quote.clone();
                    long_ihl[0] = if v6 { 0x6f } else { 0x4f };
                    self.error(v6, &long_ihl[..long_ihl.len().min(44)]);
                    let mut other_id = genuine_quote.clone();
                    let at = other_id.len() - req.raw.len().min(other_id.len());
                    let id_at = if v6 {
                        at + 4
                    } else {
                        usize::from(req.raw[0] & 0xf) * 4 + 4
                    };
                    if let Some(b) = other_id.get_mut(id_at) {
                        *b ^= 0xff;
                    }
                    self.error(v6, &other_id);
                    let mut other_proto = genuine_quote;
                    other_proto[if v6 { 6 } else { 9 }] = 17;
                    self.error(v6, &other_proto);
                    true
                }
            }
            "foreign" => {
                if !v6 {
                    if let Err(e) = sys::sendto(
                        self.foreign.as_raw_fd(),
                        &reply(id, s, p),
                        Ipv4Addr::LOCALHOST.into(),
                    ) {
                        eprintln!("hostile-responder: foreign sendto: {e}");
                    }
                }
                true
            }
            other => unreachable!("scenario {other} was checked at start"),
        };
        if genuine {
            self.send(v6, &reply(id, s, p));
        }
        self.seen.insert((v6, s), req.payload.clone());
    }
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(scenario) = args.first() else {
        let names: Vec<&str> = SCENARIOS.iter().map(|(n, _)| *n).collect();
        bail!(
            "usage: hostile-responder SCENARIO COUNT [MAX_SECONDS]; scenarios: {}",
            names.join(" ")
        );
    };
    if !SCENARIOS.iter().any(|(n, _)| n == scenario) {
        bail!("unknown scenario {scenario:?}");
    }
    let count: u16 = args.get(1).context("COUNT")?.parse().context("COUNT")?;
    let max = Duration::from_secs(
        args.get(2)
            .map_or(Ok(60), |s| s.parse())
            .context("MAX_SECONDS")?,
    );

    let v4 = sys::raw_socket(libc::AF_INET, libc::IPPROTO_ICMP).context("raw ICMP socket")?;
    let v6 = sys::raw_socket(libc::AF_INET6, libc::IPPROTO_ICMPV6).ok();
    let foreign = sys::raw_socket(libc::AF_INET, libc::IPPROTO_ICMP).context("raw ICMP socket")?;
    sys::bind(foreign.as_raw_fd(), Ipv4Addr::new(127, 0, 0, 2).into()).context("bind 127.0.0.2")?;
    // The foreign socket only sends: drop what it would queue.
    sys::setsockopt_int(foreign.as_raw_fd(), libc::SOL_SOCKET, libc::SO_RCVBUF, 0)
        .context("SO_RCVBUF")?;
    // Receive echo requests only, not our own (possibly flooding) answers:
    // ICMP_FILTER and ICMP6_FILTER are bitmaps of the types to drop.
    let block_v4 = !(1u32 << icmp::ECHO_REQUEST_V4);
    sys::setsockopt_bytes(v4.as_raw_fd(), libc::SOL_RAW, 1, &block_v4.to_ne_bytes())
        .context("ICMP_FILTER")?;
    if let Some(s) = &v6 {
        let mut filter = [u32::MAX; 8];
        filter[usize::from(icmp::ECHO_REQUEST_V6 >> 5)] &= !(1u32 << (icmp::ECHO_REQUEST_V6 & 31));
        let bytes: Vec<u8> = filter.iter().flat_map(|w| w.to_ne_bytes()).collect();
        sys::setsockopt_bytes(s.as_raw_fd(), libc::IPPROTO_ICMPV6, 1, &bytes)
            .context("ICMP6_FILTER")?;
    }
    let mut r = Responder {
        scenario: scenario.clone(),
        count,
        v4,
        v6,
        foreign,
        seen: HashMap::new(),
    };
    println!("ready {scenario} v6={}", r.v6.is_some());

    let start = Instant::now();
    let mut buf = vec![0u8; 70_000];
    let mut answered = 0u32;
    let mut fds = vec![r.v4.as_raw_fd()];
    fds.extend(r.v6.as_ref().map(|s| s.as_raw_fd()));
    while start.elapsed() < max && answered < 10_000 {
        let ready = sys::poll_in(&fds, 100).context("poll")?;
        for (i, _) in ready.iter().enumerate().filter(|(_, r)| **r) {
            let v6 = i == 1;
            let (n, from) = sys::recvfrom(fds[i], &mut buf).context("recvfrom")?;
            let req = if v6 {
                icmp::parse_request_v6(&buf[..n])
            } else {
                icmp::parse_request_v4(&buf[..n])
            };
            // Only requests sent inside this namespace's loopback are answered.
            let Some(req) = req.filter(|_| from.is_some_and(|a| a.is_loopback())) else {
                continue;
            };
            eprintln!(
                "hostile-responder: {scenario}: request id {} seq {} v6={v6}",
                req.id, req.seq
            );
            r.answer(v6, &req);
            answered += 1;
        }
    }
    Ok(())
}
