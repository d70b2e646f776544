//! Every line the worker prints, as pure functions, in iputils `ping`'s exact
//! formats (checked against lines captured from iputils 20221126 and, where
//! upstream changed since, upstream's: the IPv6 header `PING ::1 (::1) 56
//! data bytes`). No I/O here: the engine writes what these return.

#![forbid(unsafe_code)]

use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::time::Duration;

use crate::ping::icmp::{v4, v6};

pub use crate::text::{os_error_text, printable};

/// `PING host (addr) 56(84) bytes of data.` (IPv4, no IP options).
pub fn header_v4(hostname: &str, addr: &str, datalen: usize) -> String {
    format!(
        "PING {hostname} ({addr}) {datalen}({}) bytes of data.",
        datalen + 8 + 20
    )
}

/// `PING host (addr) 56 data bytes` (IPv6, upstream's spacing since 2023).
pub fn header_v6(hostname: &str, addr: &str, datalen: usize) -> String {
    format!("PING {hostname} ({addr}) {datalen} data bytes")
}

/// `PATTERN: 0x…` printed when `-p` is given (unless `-q`).
pub fn pattern_line(pattern: &[u8]) -> String {
    let mut s = String::from("PATTERN: 0x");
    for b in pattern {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The `-D` prefix: `[1700000000.123456] `.
pub fn timestamp_prefix(sec: i64, usec: i64) -> String {
    format!("[{sec}.{usec:06}] ")
}

/// A round-trip time in microseconds the way iputils prints it: three
/// decimals below 1 ms (truncated), two below 10 ms, one below 100 ms, none
/// above (those three rounded, with iputils' thresholds).
pub fn format_time(us: i64) -> String {
    let mut s = String::new();
    let _ = write_time(&mut s, us);
    s
}

/// [`format_time`] into any writer (the JSON lines format in place).
pub fn write_time(w: &mut dyn std::fmt::Write, us: i64) -> std::fmt::Result {
    if us >= 100_000 - 50 {
        write!(w, "{}", (us + 500) / 1000)
    } else if us >= 10_000 - 5 {
        write!(w, "{}.{:01}", (us + 50) / 1000, ((us + 50) % 1000) / 100)
    } else if us >= 1000 {
        write!(w, "{}.{:02}", (us + 5) / 1000, ((us + 5) % 1000) / 10)
    } else {
        write!(w, "{}.{:03}", us / 1000, us % 1000)
    }
}

/// One echo reply, as iputils' `gather_statistics` prints it.
#[derive(Debug, Clone, Default)]
pub struct ReplyLine<'a> {
    /// `-D`: the receive wall-clock time (seconds, microseconds).
    pub timestamp: Option<(i64, i64)>,
    /// Length of the ICMP message.
    pub bytes: usize,
    pub from: &'a str,
    pub seq: u16,
    /// `-v`: the echo identifier.
    pub ident: Option<u16>,
    /// TTL or hop limit, when known.
    pub ttl: Option<i32>,
    /// Shorter than what we sent: nothing after the TTL is printed.
    pub truncated: bool,
    /// Round-trip time in µs (only when the data can hold a timestamp).
    pub time_us: Option<i64>,
    pub dup: bool,
    pub bad_checksum: bool,
    /// The reply came from another address than the one pinged.
    pub wrong_source: bool,
    /// `-3`: the time with three decimals, never rounded.
    pub precise: bool,
}

/// The reply line, without the newline (a data mismatch report may follow).
pub fn reply_line(r: &ReplyLine<'_>) -> String {
    let mut s = String::with_capacity(96);
    if let Some((sec, usec)) = r.timestamp {
        s.push_str(&timestamp_prefix(sec, usec));
    }
    let _ = write!(s, "{} bytes from {}: icmp_seq={}", r.bytes, r.from, r.seq);
    if let Some(id) = r.ident {
        let _ = write!(s, " ident={id}");
    }
    if let Some(ttl) = r.ttl {
        let _ = write!(s, " ttl={ttl}");
    }
    if r.truncated {
        s.push_str(" (truncated)");
        return s;
    }
    if let Some(us) = r.time_us {
        if r.precise {
            let _ = write!(s, " time={}.{:03} ms", us / 1000, us % 1000);
        } else {
            let _ = write!(s, " time={} ms", format_time(us));
        }
    }
    if r.dup {
        s.push_str(" (DUP!)");
    }
    if r.bad_checksum {
        s.push_str(" (BAD CHECKSUM!)");
    }
    if r.wrong_source {
        s.push_str(" (DIFFERENT ADDRESS!)");
    }
    s
}

/// upstream's `pr_options`: the IPv4 options of a reply (`-R`'s `RR:`
/// list, `-T`'s `TS:` list, source routes), each address through `name`.
/// `old_rr` is the last record route printed, for `(same route)`.
pub fn ip_options(
    opts: &[u8],
    flood: bool,
    old_rr: &mut Vec<u8>,
    name: &mut dyn FnMut(std::net::Ipv4Addr) -> String,
) -> String {
    let mut s = String::new();
    let addr = |b: &[u8], name: &mut dyn FnMut(std::net::Ipv4Addr) -> String| -> String {
        let a = std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]);
        if a.is_unspecified() {
            "0.0.0.0".into()
        } else {
            name(a)
        }
    };
    let mut rest = opts;
    while !rest.is_empty() {
        match rest[0] {
            0 => break, // IPOPT_EOL
            1 => {
                s.push_str("\nNOP");
                rest = &rest[1..];
                continue;
            }
            _ => {}
        }
        let olen = usize::from(*rest.get(1).unwrap_or(&0));
        if olen < 2 || olen > rest.len() {
            break;
        }
        let opt = &rest[..olen];
        match opt[0] {
            // IPOPT_SSRR, IPOPT_LSRR
            137 | 131 => {
                let _ = write!(s, "\n{}SRR: ", if opt[0] == 137 { 'S' } else { 'L' });
                // As upstream reads it: the length byte, then addresses
                // from the pointer byte on.
                let mut j = usize::from(opt[1]);
                let mut at = 2;
                if j > 4 {
                    while at + 4 <= opt.len() {
                        let _ = write!(s, "\t{}", addr(&opt[at..at + 4], name));
                        at += 4;
                        j = j.saturating_sub(4);
                        s.push('\n');
                        if j <= 4 {
                            break;
                        }
                    }
                }
            }
            // IPOPT_RR
            7 => {
                let j = usize::from(opt[1]);
                let mut i = usize::from(*opt.get(2).unwrap_or(&0)).min(j);
                i = i.saturating_sub(4);
                if i == 0 {
                } else if old_rr.as_slice() == opt.get(2..2 + i).unwrap_or(&[]) && !flood {
                    s.push_str("\t(same route)");
                } else {
                    *old_rr = opt.get(2..2 + i).unwrap_or(&[]).to_vec();
                    s.push_str("\nRR: ");
                    let mut at = 3;
                    let mut left = i as isize;
                    while at + 4 <= opt.len() {
                        let _ = write!(s, "\t{}", addr(&opt[at..at + 4], name));
                        at += 4;
                        left -= 4;
                        s.push('\n');
                        if left <= 0 {
                            break;
                        }
                    }
                }
            }
            // IPOPT_TS
            68 => {
                let j = usize::from(opt[1]);
                let mut i = usize::from(*opt.get(2).unwrap_or(&0)).min(j) as isize;
                i -= 5;
                if i > 0 {
                    let flags = *opt.get(3).unwrap_or(&0);
                    s.push_str("\nTS: ");
                    let mut at = 4;
                    let (mut std_t, mut nonstd) = (0i64, 0i64);
                    loop {
                        if flags & 0xf != 0 {
                            let Some(b) = opt.get(at..at + 4) else { break };
                            let _ = write!(s, "\t{}", addr(b, name));
                            at += 4;
                            i -= 4;
                            if i <= 0 {
                                break;
                            }
                        }
                        let Some(b) = opt.get(at..at + 4) else { break };
                        let l = i64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
                        at += 4;
                        if l & 0x8000_0000 != 0 {
                            if nonstd == 0 {
                                let _ = write!(s, "\t{} absolute not-standard", l & 0x7fff_ffff);
                            } else {
                                let _ = write!(s, "\t{} not-standard", (l & 0x7fff_ffff) - nonstd);
                            }
                            nonstd = l & 0x7fff_ffff;
                        } else {
                            if std_t == 0 {
                                let _ = write!(s, "\t{l} absolute");
                            } else {
                                let _ = write!(s, "\t{}", l - std_t);
                            }
                            std_t = l;
                        }
                        i -= 4;
                        s.push('\n');
                        if i <= 0 {
                            break;
                        }
                    }
                    if flags >> 4 != 0 {
                        let _ = writeln!(s, "Unrecorded hops: {}", flags >> 4);
                    }
                }
            }
            other => {
                let _ = write!(s, "\nunknown option {other:x}");
            }
        }
        rest = &rest[olen..];
    }
    s
}

/// iputils' report of a reply whose data differs from what was sent:
/// `\nwrong data byte #N should be 0xX but was 0xY` and a hex dump of the
/// data after the timestamp. `sent`/`got` are the data parts (after the
/// ICMP header), `from` is where the comparison starts (16, the timeval).
pub fn wrong_data(sent: &[u8], got: &[u8], from: usize) -> Option<String> {
    let end = sent.len().min(got.len());
    let m = first_mismatch(sent, got, from)?;
    let mut s = format!(
        "\nwrong data byte #{} should be 0x{:x} but was 0x{:x}",
        m.index, m.sent, m.got
    );
    for (j, b) in got.iter().enumerate().take(end).skip(from) {
        if j % 32 == from % 32 {
            let _ = write!(s, "\n#{j}\t");
        }
        let _ = write!(s, "{b:x} ");
    }
    Some(s)
}

/// The first byte of a reply's data that differs from what was sent.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Mismatch {
    pub index: usize,
    pub sent: u8,
    pub got: u8,
}

/// Where `got` first differs from `sent`, from byte `from` on (see [`wrong_data`]).
pub fn first_mismatch(sent: &[u8], got: &[u8], from: usize) -> Option<Mismatch> {
    let end = sent.len().min(got.len());
    let index = (from..end).find(|&i| sent[i] != got[i])?;
    Some(Mismatch {
        index,
        sent: sent[index],
        got: got[index],
    })
}

/// `no answer yet for icmp_seq=N` (`-O`).
pub fn no_answer_line(seq: u64) -> String {
    format!("no answer yet for icmp_seq={seq}")
}

/// The text iputils prints for an ICMPv4 message (`pr_icmph`), without the
/// newline. `info` is the second header word (host order): the MTU for
/// "fragmentation needed", the gateway of a redirect, the pointer of a
/// parameter problem (already shifted, as the error queue reports it).
pub fn icmp4_text(icmp_type: u8, code: u8, info: u32) -> String {
    match icmp_type {
        v4::ECHOREPLY => "Echo Reply".into(),
        v4::DEST_UNREACH => match code {
            0 => "Destination Net Unreachable".into(),
            1 => "Destination Host Unreachable".into(),
            2 => "Destination Protocol Unreachable".into(),
            3 => "Destination Port Unreachable".into(),
            4 => format!("Frag needed and DF set (mtu = {info})"),
            5 => "Source Route Failed".into(),
            6 => "Destination Net Unknown".into(),
            7 => "Destination Host Unknown".into(),
            8 => "Source Host Isolated".into(),
            9 => "Destination Net Prohibited".into(),
            10 => "Destination Host Prohibited".into(),
            11 => "Destination Net Unreachable for Type of Service".into(),
            12 => "Destination Host Unreachable for Type of Service".into(),
            13 => "Packet filtered".into(),
            14 => "Precedence Violation".into(),
            15 => "Precedence Cutoff".into(),
            _ => format!("Dest Unreachable, Bad Code: {code}"),
        },
        v4::SOURCE_QUENCH => "Source Quench".into(),
        v4::REDIRECT => {
            let what = match code {
                0 => "Redirect Network".to_string(),
                1 => "Redirect Host".into(),
                2 => "Redirect Type of Service and Network".into(),
                3 => "Redirect Type of Service and Host".into(),
                _ => format!("Redirect, Bad Code: {code}"),
            };
            format!("{what}(New nexthop: {})", Ipv4Addr::from(info))
        }
        v4::ECHO => "Echo Request".into(),
        v4::TIME_EXCEEDED => match code {
            0 => "Time to live exceeded".into(),
            1 => "Frag reassembly time exceeded".into(),
            _ => format!("Time exceeded, Bad Code: {code}"),
        },
        v4::PARAMETERPROB => format!("Parameter problem: pointer = {info}"),
        13 => "Timestamp".into(),
        14 => "Timestamp Reply".into(),
        15 => "Information Request".into(),
        16 => "Information Reply".into(),
        17 => "Address Mask Request".into(),
        18 => "Address Mask Reply".into(),
        _ => format!("Bad ICMP type: {icmp_type}"),
    }
}

/// The text iputils prints for an ICMPv6 message (`print_icmp`).
pub fn icmp6_text(icmp_type: u8, code: u8, info: u32) -> String {
    match icmp_type {
        v6::DST_UNREACH => {
            let why = match code {
                0 => "No route".to_string(),
                1 => "Administratively prohibited".into(),
                2 => "Beyond scope of source address".into(),
                3 => "Address unreachable".into(),
                4 => "Port unreachable".into(),
                5 => "Source address failed ingress/egress policy".into(),
                6 => "Reject route to destination".into(),
                _ => format!("Unknown code {code}"),
            };
            format!("Destination unreachable: {why}")
        }
        v6::PACKET_TOO_BIG => {
            let mut s = format!("Packet too big: mtu={info}");
            if code != 0 {
                let _ = write!(s, ", code={code}");
            }
            s
        }
        v6::TIME_EXCEEDED => match code {
            0 => "Time exceeded: Hop limit".into(),
            1 => "Time exceeded: Defragmentation failure".into(),
            _ => format!("Time exceeded: code {code}"),
        },
        v6::PARAM_PROB => {
            let what = match code {
                0 => "Wrong header field ".to_string(),
                1 => "Unknown header ".into(),
                2 => "Unknown option ".into(),
                _ => format!("code {code} "),
            };
            format!("Parameter problem: {what}at {info}")
        }
        v6::ECHO_REQUEST => "Echo request".into(),
        v6::ECHO_REPLY => "Echo reply".into(),
        130 => "MLD Query".into(),
        131 => "MLD Report".into(),
        132 => "MLD Reduction".into(),
        _ => format!("unknown icmp type: {icmp_type}"),
    }
}

/// An ICMP error about one of our requests, from the error queue:
/// `From 10.0.0.1 icmp_seq=3 Destination Host Unreachable`.
pub fn error_line(timestamp: Option<(i64, i64)>, from: &str, seq: u16, text: &str) -> String {
    let ts = timestamp
        .map(|(s, u)| timestamp_prefix(s, u))
        .unwrap_or_default();
    format!("{ts}From {from} icmp_seq={seq} {text}")
}

/// A redirect or source quench about one of our requests (raw copy):
/// `From 10.0.0.1: icmp_seq=3 Redirect Host(New nexthop: 10.0.0.2)`.
pub fn redirect_line(
    timestamp: Option<(i64, i64)>,
    from: &str,
    seq: u16,
    bad_checksum: bool,
    text: &str,
) -> String {
    let ts = timestamp
        .map(|(s, u)| timestamp_prefix(s, u))
        .unwrap_or_default();
    let cs = if bad_checksum { "(BAD CHECKSUM)" } else { "" };
    format!("{ts}From {from}: icmp_seq={seq} {cs}{text}")
}

/// C's `printf("%g", v)`: six significant digits, trailing zeros dropped,
/// exponent form outside 1e-4 ≤ |v| < 1e6.
pub fn format_g(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if !v.is_finite() {
        return if v.is_nan() {
            "nan".into()
        } else if v > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    const P: i32 = 6;
    let sci = format!("{:.*e}", (P - 1) as usize, v);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let strip = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if (-4..P).contains(&exp) {
        strip(&format!("{:.*}", (P - 1 - exp) as usize, v))
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", strip(mantissa), exp.abs())
    }
}

/// Integer square root as iputils computes it (Newton, truncating).
pub fn llsqrt(a: i128) -> i128 {
    let mut prev = i128::MAX;
    let mut x = a;
    if x > 0 {
        while x < prev {
            prev = x;
            x = (x + a / x) / 2;
        }
    }
    x
}

/// Round-trip figures in microseconds. The sums are doubles, as in
/// upstream iputils (`double tsum, tsum2`), and so is the arithmetic below.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rtt {
    pub min: i64,
    pub max: i64,
    pub sum: f64,
    pub sum2: f64,
    /// Replies that contributed (received + duplicates).
    pub total: i64,
    /// iputils' ewma, scaled by 8.
    pub ewma8: i64,
}

impl Rtt {
    /// The mean, in µs (truncated, as iputils' `long tmavg`).
    pub fn avg(&self) -> i64 {
        (self.sum / self.total.max(1) as f64) as i64
    }

    /// The mean deviation, in µs.
    pub fn mdev(&self) -> i64 {
        let total = self.total.max(1) as f64;
        // "This slightly clumsy computation order is important to avoid
        // integer rounding errors for small ping times." (iputils)
        let var = if self.sum < f64::from(i32::MAX) {
            ((self.sum2 - (self.sum * self.sum) / total) / total) as i64
        } else {
            (self.sum2 / total - (self.avg() * self.avg()) as f64) as i64
        };
        llsqrt(var.into()) as i64
    }
}

fn ms3(us: i128) -> String {
    let mut s = String::new();
    let _ = write_ms3(&mut s, us);
    s
}

/// Microseconds as milliseconds with three decimals (`0.031`).
pub fn write_ms3(w: &mut dyn std::fmt::Write, us: i128) -> std::fmt::Result {
    write!(w, "{}.{:03}", us / 1000, us % 1000)
}

/// iputils' ewma (scaled by 8) in milliseconds: `0.040`.
pub fn write_ewma(w: &mut dyn std::fmt::Write, ewma8: i64) -> std::fmt::Result {
    write!(w, "{}.{:03}", ewma8 / 8000, (ewma8 / 8) % 1000)
}

/// The run's duration as iputils prints it (`time 2042ms`): rounded ms.
pub fn elapsed_ms(d: Duration) -> u64 {
    d.as_secs() * 1000 + (u64::from(d.subsec_nanos()) + 500_000) / 1_000_000
}

/// The `ipg/ewma` figures (inter-packet gap in µs, ewma scaled by 8), when
/// iputils prints them: replies, flood or zero interval, several packets.
pub fn ipg_ewma(s: &Summary<'_>) -> Option<(i128, i64)> {
    (s.received > 0 && s.ipg && s.transmitted > 1).then(|| {
        let ipg = s.elapsed.as_micros() as i128 / i128::from(s.transmitted - 1);
        (ipg, s.rtt.map(|r| r.ewma8).unwrap_or(0))
    })
}

/// Everything the final statistics block needs.
#[derive(Debug, Clone, Default)]
pub struct Summary<'a> {
    pub hostname: &'a str,
    pub transmitted: u64,
    pub received: u64,
    pub duplicates: u64,
    pub corrupted: u64,
    pub errors: u64,
    /// From the start to the last transmission.
    pub elapsed: Duration,
    /// Present when replies carried timestamps.
    pub rtt: Option<Rtt>,
    pub pipesize: u32,
    /// Print `ipg/ewma` (flood or zero interval, more than one packet).
    pub ipg: bool,
}

/// The statistics block, starting with its blank line, newline-terminated.
pub fn summary(s: &Summary<'_>) -> String {
    let mut out = format!(
        "\n--- {} ping statistics ---\n",
        crate::text::printable(s.hostname)
    );
    let _ = write!(
        out,
        "{} packets transmitted, {} received",
        s.transmitted, s.received
    );
    if s.duplicates > 0 {
        let _ = write!(out, ", +{} duplicates", s.duplicates);
    }
    if s.corrupted > 0 {
        let _ = write!(out, ", +{} corrupted", s.corrupted);
    }
    if s.errors > 0 {
        let _ = write!(out, ", +{} errors", s.errors);
    }
    if s.transmitted > 0 {
        let loss =
            ((s.transmitted as f64 - s.received as f64) * 100.0 / s.transmitted as f64) as f32;
        let ms = elapsed_ms(s.elapsed);
        let _ = write!(
            out,
            ", {}% packet loss, time {ms}ms",
            format_g(f64::from(loss))
        );
    }
    out.push('\n');
    let mut comma = false;
    if let Some(r) = s.rtt.filter(|_| s.received > 0) {
        let _ = write!(
            out,
            "rtt min/avg/max/mdev = {}/{}/{}/{} ms",
            ms3(r.min.into()),
            ms3(r.avg().into()),
            ms3(r.max.into()),
            ms3(r.mdev().into())
        );
        comma = true;
    }
    if s.pipesize > 1 {
        if comma {
            out.push_str(", ");
        }
        let _ = write!(out, "pipe {}", s.pipesize);
        comma = true;
    }
    if let Some((ipg, ewma8)) = ipg_ewma(s) {
        if comma {
            out.push_str(", ");
        }
        let _ = write!(out, "ipg/ewma {}/", ms3(ipg));
        let _ = write_ewma(&mut out, ewma8);
        out.push_str(" ms");
    }
    out.push('\n');
    out
}

/// The `SIGQUIT` status line (to stderr), without the leading `\r` and the
/// newline: `2/3 packets, 33% loss, min/avg/ewma/max = …`.
pub fn status_line(transmitted: u64, received: u64, rtt: Option<Rtt>) -> String {
    let loss = (transmitted.saturating_sub(received) * 100)
        .checked_div(transmitted)
        .unwrap_or(0);
    let mut s = format!("{received}/{transmitted} packets, {loss}% loss");
    if let Some(r) = rtt.filter(|_| received > 0) {
        let _ = write!(
            s,
            ", min/avg/ewma/max = {}/{}/{}.{:03}/{} ms",
            ms3(r.min.into()),
            ms3(r.avg().into()),
            r.ewma8 / 8000,
            (r.ewma8 / 8) % 1000,
            ms3(r.max.into())
        );
    }
    s
}

/// `-V`: privsep's own version; it is not iputils and must not say so.
pub fn version() -> String {
    format!(
        "privsep-ping {} (privsep launcher/worker split)",
        env!("CARGO_PKG_VERSION")
    )
}

/// `-h`, `-?` and any bad option: upstream iputils' usage text, verbatim.
pub fn usage() -> &'static str {
    "
Usage
  ping [options] <destination>

Options:
  <destination>      DNS name or IP address
  -3                 RTT precision (do not round up the result time)
  -a                 use audible ping
  -A                 use adaptive ping
  -B                 sticky source address
  -c <count>         stop after <count> replies
  -C                 call connect() syscall on socket creation
  -D                 print timestamps
  -d                 use SO_DEBUG socket option
  -e <identifier>    define identifier for ping session, default is random for
                     SOCK_RAW and kernel defined for SOCK_DGRAM
                     Imply using SOCK_RAW (for IPv4 only for identifier 0)
  -f                 flood ping
  -h                 print help and exit
  -H                 force reverse DNS name resolution (useful for numeric
                     destinations or for -f), override -n
  -I <interface>     either interface name or address
  -i <interval>      seconds between sending each packet
  -j                 JSON output (experimental)
  -L                 suppress loopback of multicast packets
  -l <preload>       send <preload> number of packages while waiting replies
  -m <mark>          tag the packets going out
  -M <pmtud opt>     define path MTU discovery, can be one of <do|dont|want|probe>
  -n                 no reverse DNS name resolution, override -H
  -O                 report outstanding replies
  -p <pattern>       contents of padding byte
  -q                 quiet output
  -Q <tclass>        use quality of service <tclass> bits
  -s <size>          use <size> as number of data bytes to be sent
  -S <size>          use <size> as SO_SNDBUF socket option value
  -t <ttl>           define time to live
  -U                 print user-to-user latency
  -v                 verbose output
  -V                 print version and exit
  -w <deadline>      reply wait <deadline> in seconds
  -W <timeout>       time to wait for response

IPv4 options:
  -4                 use IPv4
  -b                 allow pinging broadcast
  -R                 record route
  -T <timestamp>     define timestamp, can be one of <tsonly|tsandaddr|tsprespec>

IPv6 options:
  -6                 use IPv6
  -F <flowlabel>     define flow label, default is random
  -N <nodeinfo opt>  use IPv6 node info query, try <help> as argument

For more details see ping(8).
"
}

#[cfg(test)]
mod tests;
