//! `parity-responder SCENARIO ADDR4 ADDR6 FOREIGN4 FOREIGN6 MAX_SECONDS`: the
//! misbehaving remote host of the parity suite. Run as root in the
//! responder namespace (kernel echo replies off), it answers echo requests
//! sent to ADDR4 / ADDR6 only (raw sockets bound to them) with the
//! scenario's packets, as a function of the request's sequence number `s`,
//! so that every pinger sees the same thing:
//!
//! - `dup`: for s > 1 a copy of the reply to s-1, then the reply;
//! - `late`: the reply, 700 ms late;
//! - `corrupt`: a reply with a wrong ICMP checksum; even s: then the reply;
//! - `truncated`: the reply cut to 4 payload bytes, then the reply;
//! - `foreign`: the reply from FOREIGN (never pinged), then the reply;
//! - `errors`: a host-unreachable error quoting the request, from FOREIGN.
//!
//! Packets are built by the hostile suite's `hostile::icmp`, sent through
//! `hostile::sys`. The responder exits after MAX_SECONDS.

#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::net::IpAddr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use hostile::{icmp, sys};

const SCENARIOS: &[&str] = &["dup", "late", "corrupt", "truncated", "foreign", "errors"];

/// How late `late` answers: longer than the suite's `-i 0.2`, shorter than its `-W`.
const LATE: Duration = Duration::from_millis(700);

struct Family {
    v6: bool,
    sock: OwnedFd,
    foreign: OwnedFd,
    foreign_addr: IpAddr,
    own_addr: IpAddr,
}

/// Something to send, and when.
struct Pending {
    at: Instant,
    v6: bool,
    from_foreign: bool,
    to: IpAddr,
    packet: Vec<u8>,
}

fn socket(v6: bool, bind: IpAddr) -> Result<OwnedFd> {
    let s = if v6 {
        sys::raw_socket(libc::AF_INET6, libc::IPPROTO_ICMPV6)
    } else {
        sys::raw_socket(libc::AF_INET, libc::IPPROTO_ICMP)
    }
    .context("raw ICMP socket")?;
    sys::bind(s.as_raw_fd(), bind).with_context(|| format!("bind {bind}"))?;
    Ok(s)
}

/// Lets only echo requests through (ICMP_FILTER / ICMP6_FILTER are bitmaps
/// of the types to drop).
fn only_requests(fam: &Family) -> Result<()> {
    let fd = fam.sock.as_raw_fd();
    if fam.v6 {
        let mut filter = [u32::MAX; 8];
        filter[usize::from(icmp::ECHO_REQUEST_V6 >> 5)] &= !(1u32 << (icmp::ECHO_REQUEST_V6 & 31));
        let bytes: Vec<u8> = filter.iter().flat_map(|w| w.to_ne_bytes()).collect();
        sys::setsockopt_bytes(fd, libc::IPPROTO_ICMPV6, 1, &bytes).context("ICMP6_FILTER")?;
    } else {
        let block = !(1u32 << icmp::ECHO_REQUEST_V4);
        sys::setsockopt_bytes(fd, libc::SOL_RAW, 1, &block.to_ne_bytes()).context("ICMP_FILTER")?;
    }
    // The foreign sockets only send: drop what they would queue.
    sys::setsockopt_int(
        fam.foreign.as_raw_fd(),
        libc::SOL_SOCKET,
        libc::SO_RCVBUF,
        0,
    )
    .context("SO_RCVBUF")?;
    Ok(())
}

/// The IPv6 header of the request (the raw socket does not deliver it), for
/// quoting in an ICMPv6 error.
fn ipv6_header(payload_len: usize, src: IpAddr, dst: IpAddr) -> Vec<u8> {
    let mut h = vec![0x60, 0, 0, 0];
    h.extend_from_slice(&(payload_len as u16).to_be_bytes());
    h.extend_from_slice(&[58, 64]);
    for a in [src, dst] {
        match a {
            IpAddr::V6(a) => h.extend_from_slice(&a.octets()),
            IpAddr::V4(a) => h.extend_from_slice(&a.to_ipv6_mapped().octets()),
        }
    }
    h
}

fn answer(
    scenario: &str,
    fam: &Family,
    from: IpAddr,
    req: &icmp::EchoRequest,
    seen: &HashMap<(bool, u16, u16), Vec<u8>>,
    now: Instant,
) -> Vec<Pending> {
    let v6 = fam.v6;
    let (id, s, p) = (req.id, req.seq, req.payload.as_slice());
    let reply = icmp::echo_reply(v6, id, s, p);
    let send = |packet: Vec<u8>| Pending {
        at: now,
        v6,
        from_foreign: false,
        to: from,
        packet,
    };
    let mut out = Vec::new();
    match scenario {
        "dup" => {
            if let Some(prev) = seen.get(&(v6, id, s.wrapping_sub(1))) {
                out.push(send(icmp::echo_reply(v6, id, s.wrapping_sub(1), prev)));
            }
            out.push(send(reply));
        }
        "late" => out.push(Pending {
            at: now + LATE,
            ..send(reply)
        }),
        "corrupt" => {
            let mut bad = reply.clone();
            bad[2] ^= 0x5a;
            out.push(send(bad));
            if s % 2 == 0 {
                out.push(send(reply));
            }
        }
        "truncated" => {
            out.push(send(icmp::echo_reply(v6, id, s, &p[..p.len().min(4)])));
            out.push(send(reply));
        }
        "foreign" => {
            out.push(Pending {
                from_foreign: true,
                ..send(reply.clone())
            });
            out.push(send(reply));
        }
        "errors" => {
            let quote = if v6 {
                let mut q = ipv6_header(req.raw.len(), from, fam.own_addr);
                q.extend_from_slice(&req.raw);
                q
            } else {
                req.raw.clone()
            };
            let err = if v6 {
                icmp::message(1, 3, [0; 4], &quote)
            } else {
                icmp::message(3, 1, [0; 4], &quote)
            };
            out.push(Pending {
                from_foreign: true,
                ..send(err)
            });
        }
        other => unreachable!("scenario {other} was checked at start"),
    }
    out
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() != 6 || !SCENARIOS.contains(&args[0].as_str()) {
        bail!(
            "usage: parity-responder SCENARIO ADDR4 ADDR6 FOREIGN4 FOREIGN6 MAX_SECONDS; scenarios: {}",
            SCENARIOS.join(" ")
        );
    }
    let scenario = args[0].as_str();
    let addr = |i: usize| -> Result<IpAddr> {
        args[i]
            .parse()
            .with_context(|| format!("address {:?}", args[i]))
    };
    let max = Duration::from_secs(args[5].parse().context("MAX_SECONDS")?);
    let mut families = Vec::new();
    for (v6, own, foreign) in [(false, addr(1)?, addr(3)?), (true, addr(2)?, addr(4)?)] {
        let fam = Family {
            v6,
            sock: socket(v6, own)?,
            foreign: socket(v6, foreign)?,
            foreign_addr: foreign,
            own_addr: own,
        };
        only_requests(&fam)?;
        families.push(fam);
    }
    println!("ready {scenario}");

    let start = Instant::now();
    let mut buf = vec![0u8; 70_000];
    let mut seen: HashMap<(bool, u16, u16), Vec<u8>> = HashMap::new();
    let mut pending: Vec<Pending> = Vec::new();
    let fds: Vec<_> = families.iter().map(|f| f.sock.as_raw_fd()).collect();
    while start.elapsed() < max {
        let now = Instant::now();
        let (due, later): (Vec<_>, Vec<_>) = pending.drain(..).partition(|p| p.at <= now);
        pending = later;
        for p in due {
            let fam = &families[usize::from(p.v6)];
            let fd = if p.from_foreign {
                fam.foreign.as_raw_fd()
            } else {
                fam.sock.as_raw_fd()
            };
            if let Err(e) = sys::sendto(fd, &p.packet, p.to) {
                let via = if p.from_foreign {
                    fam.foreign_addr
                } else {
                    fam.own_addr
                };
                eprintln!("parity-responder: sendto {} from {via}: {e}", p.to);
            }
        }
        let wait = pending
            .iter()
            .map(|p| p.at.saturating_duration_since(now))
            .min()
            .map_or(100, |d| d.as_millis().clamp(1, 100) as i32);
        let ready = sys::poll_in(&fds, wait).context("poll")?;
        for (i, _) in ready.iter().enumerate().filter(|(_, r)| **r) {
            let fam = &families[i];
            let (n, from) = sys::recvfrom(fds[i], &mut buf).context("recvfrom")?;
            let req = if fam.v6 {
                icmp::parse_request_v6(&buf[..n])
            } else {
                icmp::parse_request_v4(&buf[..n])
            };
            let (Some(req), Some(from)) = (req, from) else {
                continue;
            };
            pending.extend(answer(scenario, fam, from, &req, &seen, Instant::now()));
            seen.insert((fam.v6, req.id, req.seq), req.payload.clone());
        }
    }
    Ok(())
}
