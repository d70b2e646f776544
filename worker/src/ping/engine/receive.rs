//! Receiving: reading the socket dry, telling replies from errors and
//! strays (iputils' `parse_reply` side of `main_loop`), and
//! `gather_statistics` for echo and node information replies. What each
//! event prints is the sink's business; what it counts is [`Stats`]'s.
//!
//! [`Stats`]: super::stats::Stats

use std::io;
use std::net::{IpAddr, SocketAddr};

use super::sink::{NodeInfoLine, Sink};
use super::{Engine, Io};
use crate::ping::icmp::{self, Family, ParseError, Reply};
use crate::ping::output::{self, ReplyLine};

impl<I: Io> Engine<I> {
    /// Reads everything queued (errors first when `POLLERR` said so),
    /// returning to the pinger as soon as nothing is in flight.
    pub(super) fn drain(&mut self, mut error: bool) {
        loop {
            if error {
                self.drain_errqueue();
                error = false;
            }
            match self.receive() {
                Ok(()) => {
                    if self.stats.in_flight() == 0 || self.io.interrupted() {
                        return;
                    }
                }
                Err(e)
                    if e.kind() == io::ErrorKind::WouldBlock
                        || e.kind() == io::ErrorKind::Interrupted =>
                {
                    return
                }
                Err(e) => {
                    // A pending socket error (sk_err) set by an ICMP error,
                    // ours or anybody's (forged ones included): the details
                    // are on the error queue. iputils reports nothing else
                    // for these; an unexpected errno is reported.
                    self.drain_errqueue();
                    let icmp_derived = matches!(
                        e.raw_os_error(),
                        Some(
                            libc::EHOSTUNREACH
                                | libc::ENETUNREACH
                                | libc::EPROTO
                                | libc::ECONNREFUSED
                                | libc::EMSGSIZE
                                | libc::EACCES
                                | libc::EPERM
                                | libc::ETIMEDOUT
                                | libc::EHOSTDOWN
                                | libc::ENONET
                                | libc::ENOPROTOOPT
                                | libc::EOPNOTSUPP
                        )
                    );
                    if !icmp_derived {
                        self.report_errno("recvmsg", &e);
                    }
                    return;
                }
            }
        }
    }

    /// Reads and handles one packet from the socket.
    fn receive(&mut self) -> io::Result<()> {
        let mut packet = std::mem::take(&mut self.packet);
        let mut control = std::mem::take(&mut self.control);
        let got = self.io.recv(&mut packet, &mut control, false);
        let result = got.map(|r| {
            self.handle(
                &packet[..r.len],
                &control[..r.control_len],
                r.from,
                r.truncated,
            )
        });
        self.packet = packet;
        self.control = control;
        result
    }

    /// One packet read from the socket; `cut`: `MSG_TRUNC`, the datagram
    /// was longer than the receive buffer (iputils' `packlen`), so only its
    /// start is in `packet`.
    fn handle(&mut self, packet: &[u8], control: &[u8], from: Option<SocketAddr>, cut: bool) {
        let mut recv_time = None;
        let mut hops: Option<i32> = None;
        // A datagram socket's IPv4 TTL and IP options (IP_RECVTTL,
        // IP_RETOPTS): the header itself is not in the packet.
        let mut ttl4: Option<i32> = None;
        let mut options4: &[u8] = &[];
        for (level, ty, data) in icmp::cmsgs(control) {
            if level == libc::SOL_SOCKET && ty == libc::SO_TIMESTAMPNS {
                if let (Some(s), Some(ns)) = (data.get(0..8), data.get(8..16)) {
                    let sec = i64::from_ne_bytes(s.try_into().unwrap_or_default());
                    let nsec = i64::from_ne_bytes(ns.try_into().unwrap_or_default());
                    recv_time = Some((sec, nsec / 1000));
                }
            } else if level == libc::IPPROTO_IPV6 && ty == libc::IPV6_HOPLIMIT {
                if let Some(h) = data.get(0..4) {
                    hops = Some(i32::from_ne_bytes(h.try_into().unwrap_or_default()));
                }
            } else if level == libc::SOL_IP && ty == libc::IP_TTL && self.datagram {
                if let Some(h) = data.get(0..4) {
                    ttl4 = Some(i32::from_ne_bytes(h.try_into().unwrap_or_default()));
                }
            } else if level == libc::SOL_IP && ty == libc::IP_RETOPTS && self.datagram {
                options4 = data;
            }
        }
        let recv_time = match recv_time {
            Some(t) if !self.o.latency => t,
            _ => self.io.wall(),
        };
        let target_ip = self.target.addr.ip();
        if self.family == Family::V6 && packet.first() == Some(&crate::ping::nodeinfo::REPLY) {
            let seq = self.nodeinfo.as_ref().and_then(|q| q.seq_of(packet));
            if let Some(seq) = seq {
                self.on_nodeinfo(packet, seq, hops, from);
            }
            return;
        }
        match icmp::parse_reply(packet, self.family, self.ours(), target_ip) {
            Ok(Reply::Echo {
                seq,
                ttl,
                icmp,
                checksum_ok,
            }) => {
                let ttl = ttl.map(i32::from).or(ttl4).or(hops);
                // As upstream since 20240905: a reply whose ICMP checksum
                // fails is `(BAD CHECKSUM!)` and counted as corrupted, not
                // received (IPv4 only: the kernel verifies ICMPv6). A reply
                // cut to the buffer cannot be verified and is not called bad.
                let checksum_ok = checksum_ok || cut;
                let from_ip = from.map(|a| a.ip());
                let wrong_source = from_ip != Some(target_ip)
                    && match self.family {
                        Family::V4 => !self.o.broadcast && !self.multicast,
                        Family::V6 => !self.multicast && !self.subnet_router_anycast,
                    };
                let options = match self.family {
                    Family::V4 if self.datagram => options4,
                    Family::V4 => {
                        let hlen = usize::from(packet.first().copied().unwrap_or(0) & 0x0f) * 4;
                        packet.get(20..hlen).unwrap_or(&[])
                    }
                    Family::V6 => &[],
                };
                self.on_echo(
                    icmp,
                    seq,
                    ttl,
                    checksum_ok,
                    recv_time,
                    from,
                    wrong_source,
                    options,
                );
            }
            Ok(Reply::Error {
                icmp_type,
                code,
                info,
                seq,
                checksum_ok,
            }) => {
                // A cut packet's checksum cannot be verified: never call
                // it bad over the part that was read.
                let checksum_ok = checksum_ok || cut;
                let notice = self.family == Family::V4
                    && (icmp_type == icmp::v4::REDIRECT || icmp_type == icmp::v4::SOURCE_QUENCH);
                if !notice {
                    // The error itself is reported from the error queue.
                    self.stats.acknowledge(seq);
                } else if !self.o.quiet && !self.o.flood {
                    let text = output::icmp4_text(icmp_type, code, info);
                    let ts = self.timestamp();
                    let from = self.display(from);
                    self.sink
                        .notice(&mut self.lines, ts, &from, seq, !checksum_ok, &text);
                    self.flush();
                }
            }
            Err(ParseError::TooShort { len }) if self.o.verbose => {
                let msg = match self.family {
                    Family::V4 => {
                        format!("packet too short ({len} bytes) from {}", self.display(from))
                    }
                    Family::V6 => format!("packet too short: {len} bytes"),
                };
                self.report(&msg);
            }
            Err(ParseError::OtherType {
                icmp_type,
                code,
                info,
            }) if self.o.verbose && self.is_root => {
                let text = match self.family {
                    Family::V4 => output::icmp4_text(icmp_type, code, info),
                    Family::V6 => output::icmp6_text(icmp_type, code, info),
                };
                let from = self.display(from);
                self.sink.other_type(&mut self.lines, &from, &text);
                self.flush();
            }
            // Foreign, malformed or not ours: ignored, as iputils does.
            Err(_) => {}
        }
    }

    /// The round-trip time of a reply received at `recv` that carries
    /// its send time, with upstream's `tvsub` and sanity checks: a clock
    /// gone back is warned about and, from then on, replies are timed on
    /// arrival (as -U).
    fn triptime(&mut self, icmp: &[u8], mut recv: (i64, i64)) -> i64 {
        let (sent_s, sent_u) = icmp::sent_timeval(icmp).unwrap_or((0, 0));
        loop {
            // upstream's tvsub, then its sanity checks.
            let mut sec = recv.0.wrapping_sub(sent_s);
            let mut usec = recv.1.wrapping_sub(sent_u);
            if usec < 0 {
                sec = sec.wrapping_sub(1);
                usec += 1_000_000;
            }
            if !(0..1_000_000).contains(&usec) {
                self.say(&format!("Warning: invalid tv_usec {usec} us"));
                usec = usec.clamp(0, 999_999);
            }
            if sec > i64::MAX / 1_000_000 - 1 {
                self.say(&format!("Warning: invalid tv_sec {sec} s"));
                return 0;
            } else if sec < 0 {
                self.report(&format!(
                    "Warning: time of day goes back ({sec} s), taking countermeasures"
                ));
                if !self.o.latency {
                    // From now on, time replies on arrival (as -U).
                    self.o.latency = true;
                    recv = self.io.wall();
                    continue;
                }
                return 0;
            }
            return sec * 1_000_000 + usec;
        }
    }

    /// iputils' `gather_statistics`, the reply line and, for `-R`/`-T`,
    /// the IP options after it. `checksum_ok` is its `!csfailed`.
    #[allow(clippy::too_many_arguments)]
    fn on_echo(
        &mut self,
        icmp: &[u8],
        seq: u16,
        ttl: Option<i32>,
        checksum_ok: bool,
        recv: (i64, i64),
        from: Option<SocketAddr>,
        wrong_source: bool,
        options: &[u8],
    ) {
        let cc = icmp.len();
        self.stats.nreceived += 1;
        if checksum_ok {
            self.stats.acknowledge(seq);
        }
        let mut triptime: i64 = 0;
        if self.timing && cc >= icmp::HEADER_LEN + icmp::TIMEVAL_LEN {
            triptime = self.triptime(icmp, recv);
            if checksum_ok {
                self.stats.add_rtt(triptime);
                if self.o.adaptive {
                    self.sched.update_interval(self.stats.rtt, self.is_root);
                }
            }
        }
        let dup = self.stats.classify(seq, checksum_ok);
        if self.o.quiet {
            return;
        }
        if self.o.flood {
            // Under -j a flood writes no characters (they are not JSON):
            // only the JSON objects of errors and the summary.
            // Held with the marks before them (`Engine::flood_mark`).
            self.flood_mark(if checksum_ok { "\x08 \x08" } else { "\x08C" });
            if self.o.audible {
                self.flood_mark("\x07");
            }
            return;
        }
        let truncated = cc < self.o.datalen + icmp::HEADER_LEN;
        let ts = self.timestamp();
        let from = self.display(from);
        let r = ReplyLine {
            timestamp: ts,
            bytes: cc,
            from: &from,
            seq,
            ident: self.shown_ident(),
            ttl,
            truncated,
            time_us: self.timing.then_some(triptime),
            dup: dup && (!self.multicast || self.o.verbose),
            bad_checksum: !checksum_ok,
            wrong_source,
            precise: self.o.rtt_precision,
        };
        let options_text = (!options.is_empty() && self.sink.ip_options()).then(|| {
            let mut old_rr = std::mem::take(&mut self.old_rr);
            let text = output::ip_options(options, self.o.flood, &mut old_rr, &mut |a| {
                self.display(Some(SocketAddr::new(IpAddr::V4(a), 0)))
            });
            self.old_rr = old_rr;
            text
        });
        let sent = self.outpack.get(icmp::HEADER_LEN..).unwrap_or(&[]);
        let got = icmp.get(icmp::HEADER_LEN..).unwrap_or(&[]);
        self.sink.reply(
            &mut self.lines,
            &r,
            sent,
            got,
            self.o.audible,
            options_text.as_deref(),
        );
        self.flush();
    }

    /// `gather_statistics` for a node information reply, with upstream's
    /// `pr_niquery_reply` text in place of `icmp_seq=`.
    fn on_nodeinfo(
        &mut self,
        packet: &[u8],
        seq: u16,
        hops: Option<i32>,
        from: Option<SocketAddr>,
    ) {
        self.stats.nreceived += 1;
        self.stats.acknowledge(seq);
        let dup = self.stats.classify(seq, true);
        if self.o.quiet {
            return;
        }
        if self.o.flood {
            self.flood_mark("\x08 \x08");
            return;
        }
        let ts = self.timestamp();
        let from = self.display(from);
        let r = NodeInfoLine {
            timestamp: ts,
            packet,
            from: &from,
            seq,
            ident: self.shown_ident(),
            hops,
            dup,
            dup_shown: dup && (!self.multicast || self.o.verbose),
            audible: self.o.audible,
        };
        self.sink.nodeinfo_reply(&mut self.lines, &r);
        self.flush();
    }
}
