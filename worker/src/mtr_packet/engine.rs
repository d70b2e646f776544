//! The probe engine: upstream 0.95's `command.c`, `probe.c` and the
//! platform-independent half of `probe_unix.c` over a [`Net`] that does
//! the system calls. It dispatches requests, keeps the outstanding probes
//! (at most 1024, sequence numbers 33000–65535 as upstream allocates
//! them), matches every ICMP message to a probe and writes the replies,
//! and times probes out.
//!
//! Matching is stricter than upstream's, on purpose: an ICMP message
//! completes a probe only if it is about that probe's protocol and
//! destination (an echo reply must come from the destination; a quoted
//! packet must be addressed to it, from our source). Upstream matches
//! ICMP, TCP and SCTP probes on the identifier and sequence number alone,
//! so that a forged time-exceeded quoting any of them (or a UDP quote
//! carrying an ICMP probe's sequence) completes it. Replies to real
//! probes are the same.

#![forbid(unsafe_code)]

use std::fmt::Write as _;
use std::net::IpAddr;

use super::command::{self, Line, LineBuffer, ProbeParams, Protocol, Support};
use super::packet::{self, About, Message, UdpPorts, Verdict};

/// Upstream's `MAX_PROBES`.
pub const MAX_PROBES: usize = 1024;
/// Upstream's `MIN_PORT` and `MAX_PORT`: the sequence numbers, which are
/// also the local ports of TCP and SCTP probes.
pub const MIN_SEQUENCE: u32 = 33000;
pub const MAX_SEQUENCE: u32 = 65535;

/// A probe ready to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub protocol: Protocol,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// The destination port of a UDP, TCP or SCTP probe (UDP over a raw
    /// socket: in the payload already).
    pub dst_port: u16,
    /// The local port of a TCP or SCTP probe (its sequence number).
    pub src_port: u16,
    /// Whether `src` was asked for (`local-ip-*`) rather than looked up.
    pub src_given: bool,
    /// The transport header and payload (ICMP and UDP).
    pub payload: Vec<u8>,
    pub ttl: i32,
    pub tos: i32,
    pub mark: i32,
}

/// What the engine needs from the system.
pub trait Net {
    /// Upstream's `find_source_addr`: the source the routing picks for
    /// `dst` (the unspecified address when the kernel says
    /// `EHOSTUNREACH`), or the errno that makes the probe
    /// `invalid-argument`.
    fn source_for(&mut self, dst: IpAddr) -> Result<IpAddr, i32>;
    /// Sends an ICMP or UDP probe; the errno on failure. A TCP or SCTP
    /// probe starts its connection attempt and returns the handle that
    /// [`Engine::stream_done`] is later called with.
    fn send(&mut self, probe: &Outgoing, sequence: u16) -> Result<Option<u32>, i32>;
    /// Abandons a stream probe's connection attempt (timed out or answered).
    fn abandon(&mut self, handle: u32);
    /// Whether TCP and SCTP probes can be made: (tcp, sctp). Asked once,
    /// by the first request that needs to know (a `check-support` of
    /// `tcp` or `sctp`, a stream probe), not at start: the answer comes
    /// from the broker, whose start-up then runs beside the worker's
    /// instead of before its first request.
    fn stream_support(&mut self) -> (bool, bool);
    /// Microseconds on a monotonic clock.
    fn now_us(&self) -> u64;
}

#[derive(Debug, Clone)]
struct Probe {
    token: i32,
    sequence: u16,
    protocol: Protocol,
    remote: IpAddr,
    local: IpAddr,
    /// UDP: the ports the probe carried.
    udp: Option<UdpPorts>,
    /// TCP/SCTP: the connection attempt's handle.
    stream: Option<u32>,
    sent_us: u64,
    deadline_us: i128,
}

/// The engine's state: the outstanding probes, the next sequence number,
/// the request buffer, the replies not yet written.
pub struct Engine {
    /// `tcp` and `sctp` are [`Net::stream_support`]'s once `stream_known`.
    support: Support,
    stream_known: bool,
    /// `htons(getpid())`'s value: the ICMP identifier of every probe.
    ident: u16,
    /// Newest first, as upstream's list (`LIST_INSERT_HEAD`): the order
    /// simultaneous time-outs are reported in.
    probes: Vec<Probe>,
    next_sequence: u32,
    lines: LineBuffer,
    out: String,
}

impl Engine {
    pub fn new(support: Support, pid: u32) -> Engine {
        Engine {
            support,
            stream_known: false,
            ident: pid as u16,
            probes: Vec::new(),
            next_sequence: MIN_SEQUENCE,
            lines: LineBuffer::default(),
            out: String::new(),
        }
    }

    /// Replies waiting to be written; empties the queue.
    pub fn take_output(&mut self) -> String {
        std::mem::take(&mut self.out)
    }

    pub fn outstanding(&self) -> usize {
        self.probes.len()
    }

    /// Room in the request buffer for the next read.
    pub fn room(&self) -> usize {
        self.lines.room()
    }

    /// Bytes read from stdin.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.lines.extend(bytes);
    }

    /// Dispatches every complete request (upstream's
    /// `dispatch_buffer_commands`).
    pub fn dispatch(&mut self, net: &mut dyn Net) {
        for line in self.lines.drain() {
            match line {
                Line::Overflow => self.out.push_str("0 command-buffer-overflow\n"),
                Line::Complete(text) => match command::parse(&text) {
                    None => self.out.push_str("0 command-parse-error\n"),
                    Some(c) => match c.name {
                        b"check-support" => match c.args.iter().find(|(n, _)| *n == b"feature") {
                            None => self.reply(c.token, "invalid-argument"),
                            Some((_, f)) => {
                                if matches!(*f, b"tcp" | b"sctp") {
                                    self.know_streams(net);
                                }
                                let s = self.support.feature(f);
                                self.reply(c.token, &format!("feature-support support {s}"));
                            }
                        },
                        b"send-probe" => match command::probe_params(&c.args) {
                            None => self.reply(c.token, "invalid-argument"),
                            Some(p) => self.send_probe(c.token, &p, net),
                        },
                        _ => self.reply(c.token, "unknown-command"),
                    },
                },
            }
        }
    }

    /// Asks [`Net::stream_support`] the first time it matters.
    fn know_streams(&mut self, net: &mut dyn Net) {
        if !self.stream_known {
            self.stream_known = true;
            (self.support.tcp, self.support.sctp) = net.stream_support();
        }
    }

    fn reply(&mut self, token: i32, rest: &str) {
        let _ = writeln!(self.out, "{token} {rest}");
    }

    fn alloc_sequence(&mut self) -> u16 {
        let s = self.next_sequence as u16;
        self.next_sequence += 1;
        if self.next_sequence > MAX_SEQUENCE {
            self.next_sequence = MIN_SEQUENCE;
        }
        s
    }

    /// `send_probe_command` and upstream's `send_probe`.
    fn send_probe(&mut self, token: i32, p: &ProbeParams, net: &mut dyn Net) {
        if !self.support.ip_version(p.ip_version) {
            return self.reply(token, "invalid-argument reason ip-version-not-supported");
        }
        if p.protocol.is_stream() {
            self.know_streams(net);
        }
        if !self.support.protocol(p.protocol) {
            return self.reply(token, "invalid-argument reason protocol-not-supported");
        }
        if self.probes.len() >= MAX_PROBES {
            return self.reply(token, "probes-exhausted");
        }
        // Upstream allocates the probe (and its sequence number) first.
        let mut sequence = self.alloc_sequence();
        let v6 = p.ip_version == 6;
        let remote = p
            .remote
            .as_deref()
            .and_then(|r| command::address(p.ip_version, r));
        let Some(remote) = remote else {
            return self.reply(token, "invalid-argument");
        };
        let (local, src_given) = match &p.local {
            Some(l) => match command::address(p.ip_version, l) {
                Some(a) => (a, true),
                None => return self.reply(token, "invalid-argument"),
            },
            None => match net.source_for(remote) {
                Ok(a) => (a, false),
                Err(_) => return self.reply(token, "invalid-argument"),
            },
        };
        let sent_us = net.now_us();
        let mut out = Outgoing {
            protocol: p.protocol,
            src: local,
            dst: remote,
            dst_port: 0,
            src_port: 0,
            src_given,
            payload: Vec::new(),
            ttl: p.ttl,
            tos: p.tos,
            mark: p.mark,
        };
        let mut udp = None;
        let result = if p.protocol.is_stream() {
            out.dst_port = if p.dest_port != 0 {
                p.dest_port as u16
            } else {
                80
            };
            // Upstream tries the next sequence number while the local port
            // is taken.
            let mut tries = MIN_SEQUENCE;
            loop {
                out.src_port = sequence;
                match net.send(&out, sequence) {
                    Err(e)
                        if (e == libc::EADDRINUSE || e == libc::EADDRNOTAVAIL)
                            && tries < MAX_SEQUENCE =>
                    {
                        tries += 1;
                        sequence = self.alloc_sequence();
                    }
                    r => break r,
                }
            }
        } else {
            let Some(len) = packet::payload_size(v6, p.protocol, p.size) else {
                return self.reply(token, "invalid-argument");
            };
            let pattern = p.bit_pattern as u8;
            out.payload = match p.protocol {
                Protocol::Icmp => packet::echo_request(v6, len, pattern, self.ident, sequence),
                _ => {
                    let ports = packet::udp_ports(p.dest_port, p.local_port, sequence, self.ident);
                    udp = Some(ports);
                    out.dst_port = ports.dst;
                    packet::udp_probe(len, pattern, ports, sequence, local, remote)
                }
            };
            net.send(&out, sequence)
        };
        let stream = match result {
            Ok(handle) => handle,
            Err(e) if e == libc::ECONNREFUSED => {
                // Refused at once: the destination answered.
                let rtt = net.now_us().saturating_sub(sent_us);
                return self.write_reply(token, Verdict::Reply, remote, rtt, &[]);
            }
            Err(e) => return self.reply(token, &command::errno_reply(e)),
        };
        let deadline_us = i128::from(sent_us) + i128::from(p.timeout) * 1_000_000;
        self.probes.insert(
            0,
            Probe {
                token,
                sequence,
                protocol: p.protocol,
                remote,
                local,
                udp,
                stream,
                sent_us,
                deadline_us,
            },
        );
    }

    fn write_reply(
        &mut self,
        token: i32,
        verdict: Verdict,
        from: IpAddr,
        rtt_us: u64,
        mpls: &[packet::MplsLabel],
    ) {
        let family = if from.is_ipv6() { "ip-6" } else { "ip-4" };
        // Upstream prints its unsigned int with %d.
        let rtt = rtt_us as u32 as i32;
        let _ = write!(
            self.out,
            "{token} {} {family} {from} round-trip-time {rtt}",
            verdict.word()
        );
        if !mpls.is_empty() {
            let _ = write!(self.out, " mpls {}", packet::mpls_text(mpls));
        }
        self.out.push('\n');
    }

    fn complete(
        &mut self,
        index: usize,
        verdict: Verdict,
        from: IpAddr,
        at_us: u64,
        mpls: &[packet::MplsLabel],
        net: &mut dyn Net,
    ) {
        let probe = self.probes.remove(index);
        if let Some(h) = probe.stream {
            net.abandon(h);
        }
        let rtt = at_us.saturating_sub(probe.sent_us);
        self.write_reply(probe.token, verdict, from, rtt, mpls);
    }

    /// Which outstanding probe `m` is about, if any.
    fn find(&self, m: &Message, from: IpAddr) -> Option<usize> {
        match &m.about {
            About::Echo { ident, sequence } => {
                if *ident != self.ident {
                    return None;
                }
                self.probes.iter().position(|p| {
                    p.protocol == Protocol::Icmp && p.sequence == *sequence && p.remote == from
                })
            }
            About::Quoted {
                protocol,
                src,
                dst,
                transport,
            } => {
                let word = |i: usize| u16::from_be_bytes([transport[i], transport[i + 1]]);
                let addressed = |p: &Probe| {
                    p.remote == *dst
                        && (p.local == *src || p.local.is_unspecified())
                        && p.protocol.number_for(p.remote) == *protocol
                };
                match protocol {
                    // ICMP: our identifier, the sequence number.
                    1 | 58 => {
                        if word(4) != self.ident {
                            return None;
                        }
                        self.probes
                            .iter()
                            .position(|p| addressed(p) && p.sequence == word(6))
                    }
                    // UDP: the sequence in the destination port, the source
                    // port or the checksum; both ports as sent.
                    17 => {
                        let (sport, dport, sum) = (word(0), word(2), word(6));
                        self.probes.iter().position(|p| {
                            let Some(ports) = p.udp else { return false };
                            addressed(p)
                                && [dport, sport, sum].contains(&p.sequence)
                                && ports.src == sport
                                && ports.dst == dport
                        })
                    }
                    // TCP and SCTP: the sequence number is the source port.
                    6 | 132 => self
                        .probes
                        .iter()
                        .position(|p| addressed(p) && p.sequence == word(0)),
                    _ => None,
                }
            }
        }
    }

    /// An ICMP message from `from`, received at `at_us`.
    pub fn received(&mut self, m: &Message, from: IpAddr, at_us: u64, net: &mut dyn Net) {
        if let Some(i) = self.find(m, from) {
            self.complete(i, m.verdict, from, at_us, &m.mpls, net);
        }
    }

    /// A stream probe's connection attempt ended: `Ok` connected or
    /// refused (the destination answered), else the errno.
    pub fn stream_done(
        &mut self,
        handle: u32,
        result: Result<(), i32>,
        at_us: u64,
        net: &mut dyn Net,
    ) {
        let Some(i) = self.probes.iter().position(|p| p.stream == Some(handle)) else {
            return;
        };
        match result {
            Ok(()) => {
                let remote = self.probes[i].remote;
                self.complete(i, Verdict::Reply, remote, at_us, &[], net);
            }
            Err(e) => {
                let probe = self.probes.remove(i);
                net.abandon(handle);
                self.reply(probe.token, &command::errno_reply(e));
            }
        }
    }

    /// The handles of the stream probes in flight.
    pub fn streams(&self) -> impl Iterator<Item = u32> + '_ {
        self.probes.iter().filter_map(|p| p.stream)
    }

    /// Reports `no-reply` for every probe past its deadline (newest first,
    /// as upstream's list walk).
    pub fn expire(&mut self, now_us: u64, net: &mut dyn Net) {
        let now = i128::from(now_us);
        let mut i = 0;
        while i < self.probes.len() {
            if self.probes[i].deadline_us < now {
                let p = self.probes.remove(i);
                if let Some(h) = p.stream {
                    net.abandon(h);
                }
                let _ = writeln!(self.out, "{} no-reply", p.token);
            } else {
                i += 1;
            }
        }
    }

    /// Microseconds until the next deadline (0 if one has passed), `None`
    /// when no probe is outstanding.
    pub fn next_deadline_in(&self, now_us: u64) -> Option<u64> {
        self.probes
            .iter()
            .map(|p| p.deadline_us - i128::from(now_us))
            .min()
            .map(|d| d.clamp(0, i128::from(u64::MAX)) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    struct FakeNet {
        now: u64,
        sent: Vec<(Outgoing, u16)>,
        fail: Option<i32>,
        /// How many times the broker was asked about streams.
        asked: usize,
    }

    impl Net for FakeNet {
        fn source_for(&mut self, dst: IpAddr) -> Result<IpAddr, i32> {
            match dst {
                IpAddr::V4(a) if a.octets()[0] == 198 => {
                    Ok(IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1)))
                }
                IpAddr::V4(a) if a.is_loopback() => Ok(dst),
                IpAddr::V6(_) => Ok("2001:db8::1".parse().unwrap()),
                _ => Err(libc::ENETUNREACH),
            }
        }
        fn send(&mut self, probe: &Outgoing, sequence: u16) -> Result<Option<u32>, i32> {
            if let Some(e) = self.fail {
                return Err(e);
            }
            self.sent.push((probe.clone(), sequence));
            Ok(probe.protocol.is_stream().then_some(u32::from(sequence)))
        }
        fn abandon(&mut self, _: u32) {}
        fn now_us(&self) -> u64 {
            self.now
        }
        fn stream_support(&mut self) -> (bool, bool) {
            self.asked += 1;
            (true, false)
        }
    }

    fn engine() -> (Engine, FakeNet) {
        // tcp and sctp: what FakeNet::stream_support answers, when asked.
        let support = Support {
            ip4: true,
            ip6: false,
            tcp: false,
            sctp: false,
        };
        (
            Engine::new(support, 0x1234),
            FakeNet {
                now: 1_000_000,
                sent: Vec::new(),
                fail: None,
                asked: 0,
            },
        )
    }

    fn run(e: &mut Engine, net: &mut FakeNet, input: &str) -> String {
        e.feed(input.as_bytes());
        e.dispatch(net);
        e.take_output()
    }

    #[test]
    fn requests_get_upstreams_answers() {
        let (mut e, mut net) = engine();
        let out = run(
            &mut e,
            &mut net,
            "1 check-support feature version\n2 check-support\n3 bogus\nx\n\
             5 send-probe ip-6 ::1\n6 send-probe ip-4 127.0.0.1 protocol sctp\n\
             7 send-probe ip-4 1.2.3\n8 send-probe ip-4 203.0.113.1\n9 send-probe\n\
             10 send-probe ip-4 127.0.0.1 size 9001\n",
        );
        assert_eq!(
            out,
            "1 feature-support support 0.95\n2 invalid-argument\n3 unknown-command\n\
             0 command-parse-error\n5 invalid-argument reason ip-version-not-supported\n\
             6 invalid-argument reason protocol-not-supported\n7 invalid-argument\n\
             8 invalid-argument\n9 invalid-argument reason ip-version-not-supported\n\
             10 invalid-argument\n"
        );
        assert!(net.sent.is_empty());
        // Each failed send-probe after the checks still used a sequence number.
        run(&mut e, &mut net, "11 send-probe ip-4 127.0.0.1\n");
        assert_eq!(net.sent[0].1, 33003);
    }

    /// The broker is asked about streams once, by the first request that
    /// needs the answer, never by ICMP or UDP work.
    #[test]
    fn streams_are_asked_about_once_when_needed() {
        let (mut e, mut net) = engine();
        let out = run(
            &mut e,
            &mut net,
            "1 check-support feature ip-4\n2 send-probe ip-4 127.0.0.1\n\
             3 send-probe ip-4 127.0.0.1 protocol udp\n",
        );
        assert_eq!(out, "1 feature-support support ok\n");
        assert_eq!(net.asked, 0);
        let out = run(
            &mut e,
            &mut net,
            "4 check-support feature sctp\n5 check-support feature tcp\n\
             6 send-probe ip-4 127.0.0.1 protocol tcp\n",
        );
        assert_eq!(
            out,
            "4 feature-support support no\n5 feature-support support ok\n"
        );
        assert_eq!(net.asked, 1);
        assert!(net.sent.iter().any(|(p, _)| p.protocol == Protocol::Tcp));
        // A stream probe first asks too.
        let (mut e, mut net) = engine();
        run(
            &mut e,
            &mut net,
            "1 send-probe ip-4 127.0.0.1 protocol sctp\n",
        );
        assert_eq!(net.asked, 1);
    }

    #[test]
    fn replies_match_only_their_probe() {
        let (mut e, mut net) = engine();
        run(
            &mut e,
            &mut net,
            "1 send-probe ip-4 198.18.3.2 ttl 2\n2 send-probe ip-4 198.18.3.2 ttl 3\n",
        );
        assert_eq!(e.outstanding(), 2);
        let dst = IpAddr::V4(Ipv4Addr::new(198, 18, 3, 2));
        let src = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1));
        let quote = |seq: u16, to: IpAddr| Message {
            verdict: Verdict::TtlExpired,
            about: About::Quoted {
                protocol: 1,
                src,
                dst: to,
                transport: [8, 0, 0, 0, 0x12, 0x34, (seq >> 8) as u8, seq as u8],
            },
            mpls: Vec::new(),
        };
        let router = IpAddr::V4(Ipv4Addr::new(198, 18, 1, 1));
        // Quoting another destination: ignored.
        net.now = 1_000_500;
        e.received(
            &quote(33001, IpAddr::V4(Ipv4Addr::new(198, 18, 9, 9))),
            router,
            net.now,
            &mut net,
        );
        assert_eq!(e.take_output(), "");
        e.received(&quote(33001, dst), router, net.now, &mut net);
        assert_eq!(
            e.take_output(),
            "2 ttl-expired ip-4 198.18.1.1 round-trip-time 500\n"
        );
        // An echo reply from someone else than the destination: ignored.
        let echo = Message {
            verdict: Verdict::Reply,
            about: About::Echo {
                ident: 0x1234,
                sequence: 33000,
            },
            mpls: Vec::new(),
        };
        e.received(&echo, router, net.now, &mut net);
        assert_eq!(e.take_output(), "");
        e.received(&echo, dst, net.now, &mut net);
        assert_eq!(
            e.take_output(),
            "1 reply ip-4 198.18.3.2 round-trip-time 500\n"
        );
        assert_eq!(e.outstanding(), 0);
    }

    #[test]
    fn icmp6_quotes_carry_protocol_58() {
        let (mut e, mut net) = engine();
        e.support.ip6 = true;
        run(&mut e, &mut net, "1 send-probe ip-6 2001:db8:2::2 ttl 1\n");
        let m = |protocol| Message {
            verdict: Verdict::TtlExpired,
            about: About::Quoted {
                protocol,
                src: "2001:db8::1".parse().unwrap(),
                dst: "2001:db8:2::2".parse().unwrap(),
                transport: [128, 0, 0, 0, 0x12, 0x34, 0x80, 0xe8],
            },
            mpls: Vec::new(),
        };
        let router: IpAddr = "2001:db8::2".parse().unwrap();
        e.received(&m(1), router, net.now, &mut net);
        assert_eq!(e.take_output(), "");
        e.received(&m(58), router, net.now, &mut net);
        assert_eq!(
            e.take_output(),
            "1 ttl-expired ip-6 2001:db8::2 round-trip-time 0\n"
        );
    }

    #[test]
    fn timeouts_newest_first_and_exhaustion() {
        let (mut e, mut net) = engine();
        run(
            &mut e,
            &mut net,
            "1 send-probe ip-4 127.0.0.1 timeout 1\n2 send-probe ip-4 127.0.0.1 timeout 1\n",
        );
        assert_eq!(e.next_deadline_in(net.now), Some(1_000_000));
        e.expire(net.now + 1_000_000, &mut net);
        assert_eq!(e.take_output(), "");
        e.expire(net.now + 1_000_001, &mut net);
        assert_eq!(e.take_output(), "2 no-reply\n1 no-reply\n");
        let out: String = (0..1025)
            .map(|i| {
                run(
                    &mut e,
                    &mut net,
                    &format!("{i} send-probe ip-4 127.0.0.1\n"),
                )
            })
            .collect();
        assert_eq!(out, "1024 probes-exhausted\n");
    }

    #[test]
    fn send_errors_and_udp() {
        let (mut e, mut net) = engine();
        net.fail = Some(libc::EPERM);
        assert_eq!(
            run(&mut e, &mut net, "1 send-probe ip-4 127.0.0.1 mark 3\n"),
            "1 permission-denied\n"
        );
        net.fail = None;
        run(
            &mut e,
            &mut net,
            "2 send-probe ip-4 198.18.3.2 protocol udp port 53\n",
        );
        let (probe, seq) = net.sent.last().unwrap().clone();
        assert_eq!((probe.dst_port, seq), (53, 33001));
        let m = Message {
            verdict: Verdict::Reply,
            about: About::Quoted {
                protocol: 17,
                src: probe.src,
                dst: probe.dst,
                transport: [0x80, 0xe9, 0, 53, 0, 12, 0, 0],
            },
            mpls: Vec::new(),
        };
        e.received(&m, probe.dst, net.now + 7, &mut net);
        assert_eq!(
            e.take_output(),
            "2 reply ip-4 198.18.3.2 round-trip-time 7\n"
        );
    }
}
