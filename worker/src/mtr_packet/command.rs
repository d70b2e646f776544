//! mtr-packet's request language, as upstream 0.95's `cmdparse.c` and
//! `command.c` read it: the line buffer (4096 bytes, `command-buffer-overflow`
//! when a line does not fit), the tokenizer (C `isspace`, at most 16
//! name/value pairs), the token (`strtol`, truncated to `int`), the
//! `send-probe` arguments with `strtol`'s rules, and `check-support`.
//! Pure code: the engine (`super::engine`) acts on what it returns.

#![forbid(unsafe_code)]

use std::net::IpAddr;

use crate::num::{self, is_c_space};

/// Upstream's `COMMAND_BUFFER_SIZE`.
pub const COMMAND_BUFFER_SIZE: usize = 4096;
/// Upstream's `MAX_COMMAND_ARGUMENTS` and `MAX_COMMAND_TOKENS`.
const MAX_ARGUMENTS: usize = 16;
const MAX_TOKENS: usize = MAX_ARGUMENTS * 2 + 2;

/// The version `check-support feature version` reports: the protocol is
/// upstream 0.95's, and mtr compares nothing else.
pub const VERSION: &str = "0.95";

/// The IP protocol of a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Icmp,
    Udp,
    Tcp,
    Sctp,
}

impl Protocol {
    /// The IP protocol number (`IPPROTO_*`).
    pub fn number(self) -> u8 {
        match self {
            Protocol::Icmp => 1,
            Protocol::Udp => 17,
            Protocol::Tcp => 6,
            Protocol::Sctp => 132,
        }
    }

    /// The IP protocol number on the wire towards `dst`: ICMPv6 is 58.
    pub fn number_for(self, dst: IpAddr) -> u8 {
        match (self, dst) {
            (Protocol::Icmp, IpAddr::V6(_)) => 58,
            _ => self.number(),
        }
    }

    /// TCP and SCTP probes are connection attempts on a socket of their own.
    pub fn is_stream(self) -> bool {
        matches!(self, Protocol::Tcp | Protocol::Sctp)
    }
}

/// One parsed request line: `TOKEN COMMAND [NAME VALUE]…`.
#[derive(Debug, PartialEq, Eq)]
pub struct Command<'a> {
    pub token: i32,
    pub name: &'a [u8],
    pub args: Vec<(&'a [u8], &'a [u8])>,
}

/// glibc's `strtol(s, &end, 10)` on a whole token: the value (saturated
/// at the `long` limits, where C sets `ERANGE`), whether it saturated, and
/// whether every byte was consumed (`*end == 0`).
pub fn strtol(s: &[u8]) -> (i64, bool, bool) {
    let r = num::strtol(s, 10);
    (r.value, r.overflow, r.end == s.len())
}

/// `parse_command`: `None` is upstream's `command-parse-error` (fewer than
/// two tokens, too many tokens or arguments, a name without a value, a
/// token out of `long`'s range).
pub fn parse(line: &[u8]) -> Option<Command<'_>> {
    let tokens: Vec<&[u8]> = line
        .split(|&b| is_c_space(b))
        .filter(|t| !t.is_empty())
        .collect();
    if tokens.len() < 2 || tokens.len() > MAX_TOKENS {
        return None;
    }
    let (token, overflow, _) = strtol(tokens[0]);
    if overflow {
        return None;
    }
    let rest = &tokens[2..];
    if !rest.chunks_exact(2).remainder().is_empty() || rest.len() / 2 > MAX_ARGUMENTS {
        return None;
    }
    Some(Command {
        // C stores the long in an int.
        token: token as i32,
        name: tokens[1],
        args: rest.chunks(2).map(|p| (p[0], p[1])).collect(),
    })
}

/// A `send-probe` request, with upstream's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeParams {
    /// 4 or 6; 0 when neither `ip-4` nor `ip-6` was given.
    pub ip_version: u8,
    pub remote: Option<Vec<u8>>,
    pub local: Option<Vec<u8>>,
    pub protocol: Protocol,
    pub dest_port: i32,
    pub local_port: i32,
    pub tos: i32,
    pub mark: i32,
    pub ttl: i32,
    pub size: i32,
    pub bit_pattern: i32,
    pub timeout: i32,
}

impl Default for ProbeParams {
    fn default() -> Self {
        ProbeParams {
            ip_version: 0,
            remote: None,
            local: None,
            protocol: Protocol::Icmp,
            dest_port: 0,
            local_port: 0,
            tos: 0,
            mark: 0,
            ttl: 255,
            size: 64,
            bit_pattern: 0,
            timeout: 10,
        }
    }
}

/// An integer argument as upstream reads it: `strtol`, the whole value
/// consumed, the `long` stored in an `int`.
fn int_arg(value: &[u8]) -> Option<i32> {
    let (v, _, whole) = strtol(value);
    whole.then_some(v as i32)
}

/// `decode_probe_argument` over every argument in order: `None` is
/// `invalid-argument`. Unknown names are ignored, as upstream does.
pub fn probe_params(args: &[(&[u8], &[u8])]) -> Option<ProbeParams> {
    let mut p = ProbeParams::default();
    for &(name, value) in args {
        match name {
            b"ip-4" => {
                p.ip_version = 4;
                p.remote = Some(value.to_vec());
            }
            b"ip-6" => {
                p.ip_version = 6;
                p.remote = Some(value.to_vec());
            }
            b"local-ip-4" | b"local-ip-6" => p.local = Some(value.to_vec()),
            b"protocol" => {
                p.protocol = match value {
                    b"icmp" => Protocol::Icmp,
                    b"udp" => Protocol::Udp,
                    b"tcp" => Protocol::Tcp,
                    b"sctp" => Protocol::Sctp,
                    _ => return None,
                }
            }
            b"port" => p.dest_port = int_arg(value)?,
            b"local-port" => {
                p.local_port = int_arg(value)?;
                // No port that needs privilege to bind.
                if p.local_port < 1024 {
                    return None;
                }
            }
            b"tos" => p.tos = int_arg(value)?,
            b"mark" => p.mark = int_arg(value)?,
            b"size" => p.size = int_arg(value)?,
            b"bit-pattern" => p.bit_pattern = int_arg(value)?,
            b"ttl" => p.ttl = int_arg(value)?,
            b"timeout" => p.timeout = int_arg(value)?,
            _ => {}
        }
    }
    Some(p)
}

/// `inet_pton` of the probe's address text for `version` (4 or 6).
pub fn address(version: u8, text: &[u8]) -> Option<IpAddr> {
    let s = std::str::from_utf8(text).ok()?;
    match version {
        4 => s.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4),
        6 => s.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6),
        _ => None,
    }
}

/// What the worker can do, for `check-support` and the checks of
/// `send-probe`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Support {
    pub ip4: bool,
    pub ip6: bool,
    pub tcp: bool,
    pub sctp: bool,
}

impl Support {
    pub fn ip_version(&self, v: u8) -> bool {
        match v {
            4 => self.ip4,
            6 => self.ip6,
            _ => false,
        }
    }

    pub fn protocol(&self, p: Protocol) -> bool {
        match p {
            Protocol::Icmp | Protocol::Udp => true,
            Protocol::Tcp => self.tcp,
            Protocol::Sctp => self.sctp,
        }
    }

    /// The `check-support` answer for `feature`.
    pub fn feature(&self, feature: &[u8]) -> &'static str {
        let yes = |b: bool| if b { "ok" } else { "no" };
        match feature {
            b"version" => VERSION,
            b"ip-4" => yes(self.ip4),
            b"ip-6" => yes(self.ip6),
            b"send-probe" | b"icmp" | b"udp" | b"mark" => "ok",
            b"tcp" => yes(self.tcp),
            b"sctp" => yes(self.sctp),
            _ => "no",
        }
    }
}

/// The reply upstream's `report_packet_error` gives for a failed send.
pub fn errno_reply(errno: i32) -> String {
    match errno {
        libc::EINVAL => "invalid-argument".into(),
        libc::ENETDOWN => "network-down".into(),
        libc::ENETUNREACH | libc::EHOSTUNREACH => "no-route".into(),
        libc::EPERM => "permission-denied".into(),
        libc::EADDRINUSE => "address-in-use".into(),
        libc::EADDRNOTAVAIL => "address-not-available".into(),
        e => format!("unexpected-error errno {e}"),
    }
}

/// Upstream's line buffer: bytes read from stdin, complete lines taken
/// out as they arrive.
#[derive(Debug)]
pub struct LineBuffer {
    buf: Vec<u8>,
}

impl Default for LineBuffer {
    fn default() -> Self {
        LineBuffer {
            buf: Vec::with_capacity(COMMAND_BUFFER_SIZE),
        }
    }
}

/// What [`LineBuffer::drain`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// A complete line (without its newline).
    Complete(Vec<u8>),
    /// The buffer filled up without a newline: upstream answers
    /// `0 command-buffer-overflow` and discards it.
    Overflow,
}

impl LineBuffer {
    /// How many bytes the next read may add (upstream reads at most
    /// `COMMAND_BUFFER_SIZE - used - 1`).
    pub fn room(&self) -> usize {
        COMMAND_BUFFER_SIZE - 1 - self.buf.len()
    }

    pub fn extend(&mut self, bytes: &[u8]) {
        let n = bytes.len().min(self.room());
        self.buf.extend_from_slice(&bytes[..n]);
    }

    /// Every complete line now in the buffer, then the overflow if the
    /// buffer is full. Upstream looks for the newline with `index()`, so
    /// a NUL byte hides every newline after it until the buffer
    /// overflows.
    pub fn drain(&mut self) -> Vec<Line> {
        let mut lines = Vec::new();
        loop {
            let end = self.buf.iter().position(|&b| b == b'\n' || b == 0);
            match end {
                Some(i) if self.buf[i] == b'\n' => {
                    let mut line: Vec<u8> = self.buf.drain(..=i).collect();
                    line.pop();
                    // The C string of the command ends at a NUL, if any.
                    if let Some(nul) = line.iter().position(|&b| b == 0) {
                        line.truncate(nul);
                    }
                    lines.push(Line::Complete(line));
                }
                _ => break,
            }
        }
        if self.buf.len() >= COMMAND_BUFFER_SIZE - 1 {
            lines.push(Line::Overflow);
            self.buf.clear();
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtol_follows_c() {
        assert_eq!(strtol(b"42"), (42, false, true));
        assert_eq!(strtol(b"-7"), (-7, false, true));
        assert_eq!(strtol(b"+7"), (7, false, true));
        assert_eq!(strtol(b"12ab"), (12, false, false));
        assert_eq!(strtol(b"abc"), (0, false, false));
        assert_eq!(strtol(b"-"), (0, false, false));
        assert_eq!(strtol(b"99999999999999999999"), (i64::MAX, true, true));
        assert_eq!(strtol(b"-99999999999999999999"), (i64::MIN, true, true));
    }

    #[test]
    fn parse_takes_pairs() {
        let c = parse(b"  12 send-probe ip-4 127.0.0.1\tttl 3").unwrap();
        assert_eq!(c.token, 12);
        assert_eq!(c.name, b"send-probe");
        assert_eq!(
            c.args,
            vec![(&b"ip-4"[..], &b"127.0.0.1"[..]), (&b"ttl"[..], &b"3"[..])]
        );
        assert!(parse(b"12").is_none());
        assert!(parse(b"12 send-probe ip-4").is_none());
        assert!(parse(b"99999999999999999999 x").is_none());
        // Not a number: token 0, as strtol gives.
        assert_eq!(parse(b"abc check-support").unwrap().token, 0);
        // A long token is truncated to int.
        assert_eq!(parse(b"4294967297 x").unwrap().token, 1);
        let many: Vec<u8> = b"1 x".iter().copied().chain(b" a b".repeat(16)).collect();
        assert!(parse(&many).is_some());
        let more: Vec<u8> = b"1 x".iter().copied().chain(b" a b".repeat(17)).collect();
        assert!(parse(&more).is_none());
    }

    #[test]
    fn probe_arguments() {
        let p = probe_params(&[(b"ip-6", b"::1"), (b"ttl", b"5"), (b"whatever", b"x")]).unwrap();
        assert_eq!((p.ip_version, p.ttl, p.timeout, p.size), (6, 5, 10, 64));
        assert!(probe_params(&[(b"ttl", b"5x")]).is_none());
        assert!(probe_params(&[(b"protocol", b"gre")]).is_none());
        assert!(probe_params(&[(b"local-port", b"80")]).is_none());
        assert_eq!(
            probe_params(&[(b"local-port", b"1024")])
                .unwrap()
                .local_port,
            1024
        );
        // A long out of int's range is truncated as C's assignment does.
        assert_eq!(
            probe_params(&[(b"ttl", b"99999999999999999999")])
                .unwrap()
                .ttl,
            -1
        );
        assert_eq!(
            probe_params(&[(b"ip-4", b"1.2.3.4"), (b"ip-6", b"::1")])
                .unwrap()
                .ip_version,
            6
        );
    }

    #[test]
    fn line_buffer_splits_and_overflows() {
        let mut b = LineBuffer::default();
        b.extend(b"1 a\n2 b\n3");
        assert_eq!(
            b.drain(),
            vec![
                Line::Complete(b"1 a".to_vec()),
                Line::Complete(b"2 b".to_vec())
            ]
        );
        b.extend(b" c\n");
        assert_eq!(b.drain(), vec![Line::Complete(b"3 c".to_vec())]);
        b.extend(&vec![b'x'; 5000]);
        assert_eq!(b.room(), 0);
        assert_eq!(b.drain(), vec![Line::Overflow]);
        assert_eq!(b.room(), COMMAND_BUFFER_SIZE - 1);
        b.extend(b"1 a\0b\n2 c\n");
        assert!(b.drain().is_empty());
    }

    #[test]
    fn support_answers() {
        let s = Support {
            ip4: true,
            ip6: false,
            tcp: true,
            sctp: false,
        };
        assert_eq!(s.feature(b"version"), "0.95");
        assert_eq!(s.feature(b"ip-6"), "no");
        assert_eq!(s.feature(b"tcp"), "ok");
        assert_eq!(s.feature(b"sctp"), "no");
        assert_eq!(s.feature(b"bogus"), "no");
        assert_eq!(errno_reply(libc::ENETUNREACH), "no-route");
        assert_eq!(errno_reply(libc::EMSGSIZE), "unexpected-error errno 90");
    }
}
