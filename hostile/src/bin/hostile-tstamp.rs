//! `hostile-tstamp SCENARIO [MAX_SECONDS]`: the remote host that wants to
//! crash or fool clockdiff. Run as root inside the far end of the suite's
//! veth pair (a namespace whose kernel neither answers echo requests nor,
//! rate-limited, timestamp requests), it answers every ICMP timestamp
//! request, and every echo request carrying the IP timestamp option (`-o`,
//! `-o1`), with the scenario's packets, built whole (`IPPROTO_RAW`, so that
//! it chooses the source address and the options). It prints `ready` once
//! listening and exits after MAX_SECONDS (default 60) at the latest.

#![forbid(unsafe_code)]

use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use hostile::icmp::{checksum, XorShift};
use hostile::sys;

const SCENARIOS: &[(&str, &str)] = &[
    ("normal", "one correct reply"),
    (
        "offset",
        "one correct reply from a clock 5000 ms ahead (the delta must say so)",
    ),
    (
        "noise",
        "before each correct reply: truncated copies, wrong identifier, a sequence never sent, another type, random bytes, a forged reply from 198.18.0.3 that is 40000 s off",
    ),
    (
        "nonstandard",
        "from the third request on, a receive time with the high bit set",
    ),
    (
        "bad-flag",
        "with -o: an option whose flag is not 'prespecified addresses'",
    ),
    ("silent", "no answer at all"),
    (
        "originate-zero",
        "the first reply claims originate 0 (with -o: a first stamp of 1, 0 being refused), then silence: a round trip of about the time of day, which makes iputils wait that long",
    ),
];

/// A request as received: ICMP type, its identifier and sequence bytes
/// (host order, as clockdiff writes them), the originate time, whether it
/// carried the IP timestamp option and how many addresses that listed.
struct Request {
    /// The requester and the address it asked.
    from: Ipv4Addr,
    to: Ipv4Addr,
    kind: u8,
    id_seq: [u8; 4],
    originate: u32,
    option_terms: Option<usize>,
}

fn parse(packet: &[u8]) -> Option<Request> {
    let ihl = usize::from(*packet.first()? & 0x0f) * 4;
    let icmp = packet.get(ihl..)?;
    if ihl < 20 || icmp.len() < 12 || !matches!(icmp[0], 8 | 13) {
        return None;
    }
    let option_terms = (ihl > 20 && packet[20] == 68).then(|| (usize::from(packet[21]) - 4) / 8);
    Some(Request {
        from: Ipv4Addr::new(packet[12], packet[13], packet[14], packet[15]),
        to: Ipv4Addr::new(packet[16], packet[17], packet[18], packet[19]),
        kind: icmp[0],
        id_seq: icmp[4..8].try_into().ok()?,
        originate: u32::from_be_bytes(icmp[8..12].try_into().ok()?),
        option_terms,
    })
}

fn ms_of_day(offset_ms: i64) -> u32 {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let ms = (d.as_secs() % 86_400) as i64 * 1000 + i64::from(d.subsec_millis());
    (ms + offset_ms).rem_euclid(86_400_000) as u32
}

/// An IPv4 packet from `src` to `dst` (the kernel fills in the header
/// checksum and the length) with `options` and `icmp`.
fn ipv4(src: Ipv4Addr, dst: Ipv4Addr, options: &[u8], icmp: &[u8]) -> Vec<u8> {
    let mut opts = options.to_vec();
    opts.resize(options.len().div_ceil(4) * 4, 0);
    let ihl = (20 + opts.len()) / 4;
    let total = (ihl * 4 + icmp.len()) as u16;
    let mut p = vec![0x40 | ihl as u8, 0];
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0x40, 0, 64, 1, 0, 0]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(&opts);
    p.extend_from_slice(icmp);
    p
}

/// The ICMP part of a timestamp reply (or, for `echo`, an echo reply with
/// the same body).
fn icmp_reply(echo: bool, id_seq: [u8; 4], originate: u32, receive: u32) -> Vec<u8> {
    let mut m = vec![if echo { 0 } else { 14 }, 0, 0, 0];
    m.extend_from_slice(&id_seq);
    m.extend_from_slice(&originate.to_be_bytes());
    m.extend_from_slice(&receive.to_be_bytes());
    m.extend_from_slice(&receive.to_be_bytes());
    let sum = checksum(&m);
    m[2..4].copy_from_slice(&sum.to_be_bytes());
    m
}

/// The timestamp option as the route would have filled it: `terms`
/// prespecified addresses (him, me, …, him) with their times.
fn option(
    terms: usize,
    flag: u8,
    me: Ipv4Addr,
    him: Ipv4Addr,
    originate: u32,
    his: u32,
) -> Vec<u8> {
    // Every slot filled but the last, which the requester's kernel stamps
    // on arrival (its address, prespecified).
    let len = 4 + terms * 8;
    let last = 4 + (terms - 1) * 8 + 1;
    let mut o = vec![68, len as u8, last as u8, flag];
    for i in 0..terms {
        let (a, t) = match i {
            0 => (him, originate),
            i if i == terms - 1 => (him, 0),
            _ => (me, his),
        };
        o.extend_from_slice(&a.octets());
        o.extend_from_slice(&t.to_be_bytes());
    }
    o
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(scenario) = args.first().cloned() else {
        let names: Vec<&str> = SCENARIOS.iter().map(|(n, _)| *n).collect();
        bail!(
            "usage: hostile-tstamp SCENARIO [MAX_SECONDS]; scenarios: {}",
            names.join(" ")
        );
    };
    if !SCENARIOS.iter().any(|(n, _)| *n == scenario) {
        bail!("unknown scenario {scenario:?}");
    }
    let max = Duration::from_secs(
        args.get(1)
            .map_or(Ok(60), |s| s.parse())
            .context("MAX_SECONDS")?,
    );

    let rx = sys::raw_socket(libc::AF_INET, libc::IPPROTO_ICMP).context("raw ICMP socket")?;
    // Only requests reach us: ICMP_FILTER is the bitmap of types to drop.
    let keep = !((1u32 << 8) | (1u32 << 13));
    sys::setsockopt_bytes(rx.as_raw_fd(), libc::SOL_RAW, 1, &keep.to_ne_bytes())
        .context("ICMP_FILTER")?;
    let tx = sys::raw_socket(libc::AF_INET, libc::IPPROTO_RAW).context("IPPROTO_RAW socket")?;
    let send = |p: &[u8]| {
        let to = Ipv4Addr::new(p[16], p[17], p[18], p[19]);
        if let Err(e) = sys::sendto(tx.as_raw_fd(), p, to.into()) {
            eprintln!("hostile-tstamp: sendto ({} bytes): {e}", p.len());
        }
    };
    println!("ready");

    let start = Instant::now();
    let mut buf = [0u8; 2048];
    let mut n_req: u32 = 0;
    while start.elapsed() < max {
        if !sys::poll_in(&[rx.as_raw_fd()], 200)?[0] {
            continue;
        }
        let (n, _) = sys::recvfrom(rx.as_raw_fd(), &mut buf)?;
        let Some(req) = parse(&buf[..n]) else {
            continue;
        };
        // Echo requests count only with the option (-o); plain pings are
        // not clockdiff's.
        if req.kind == 8 && req.option_terms.is_none() {
            continue;
        }
        n_req += 1;
        let offset = if scenario == "offset" { 5000 } else { 0 };
        let mut his = ms_of_day(offset);
        if scenario == "nonstandard" && n_req >= 3 {
            his |= 0x8000_0000;
        }
        let (me, him) = (req.to, req.from);
        let zero = scenario == "originate-zero";
        let genuine = match req.option_terms {
            Some(terms) => {
                let flag = if scenario == "bad-flag" { 1 } else { 3 };
                let sent = if zero { 1 } else { ms_of_day(0) };
                let opt = option(terms, flag, me, him, sent, his);
                ipv4(
                    me,
                    him,
                    &opt,
                    &icmp_reply(true, req.id_seq, req.originate, 0),
                )
            }
            None => ipv4(
                me,
                him,
                &[],
                &icmp_reply(false, req.id_seq, if zero { 0 } else { req.originate }, his),
            ),
        };
        match scenario.as_str() {
            "silent" => continue,
            "originate-zero" if n_req > 1 => continue,
            "noise" => {
                let mut rng = XorShift::new(u64::from(n_req));
                let ihl = usize::from(genuine[0] & 0x0f) * 4;
                // Cut inside the timestamps, and right after the ICMP header.
                for cut in [ihl + 14, ihl + 8, ihl + 2] {
                    let mut t = genuine[..cut].to_vec();
                    t[2..4].copy_from_slice(&(cut as u16).to_be_bytes());
                    send(&t);
                }
                let mut other_id = genuine.clone();
                other_id[ihl + 4] ^= 0xff;
                send(&other_id);
                let mut never_sent = genuine.clone();
                never_sent[ihl + 6] = never_sent[ihl + 6].wrapping_add(100);
                never_sent[ihl + 7] ^= 0x40;
                send(&never_sent);
                let mut other_type = genuine.clone();
                other_type[ihl] = 3;
                send(&other_type);
                let mut garbage = genuine[..ihl].to_vec();
                garbage.extend(rng.bytes(40));
                send(&garbage);
                let forged = ipv4(
                    Ipv4Addr::new(198, 18, 0, 3),
                    him,
                    &[],
                    &icmp_reply(false, req.id_seq, req.originate, ms_of_day(40_000_000)),
                );
                send(&forged);
                send(&genuine);
            }
            _ => send(&genuine),
        }
    }
    Ok(())
}
