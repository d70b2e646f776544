//! fping's scheduler, run under the sandbox over the [`Io`] trait: two
//! time-ordered event queues (the next ping of each target, the time-out
//! of each request in flight), one send per `-i` interval at most, the
//! next ping of a target `-p` after its last in count and loop mode,
//! retries with `-B` backoff otherwise, the sequence-number map that ties
//! a reply to its target and ping, the per-reply, `-Q` and final output
//! (as lines, or under `-J` as 5.5's objects: [`crate::fping::json`]), and
//! the exit status. Its order of events, waits and outputs is fping 5.1's
//! `main_loop`, `send_ping`, `wait_for_reply` and `finish`.

#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::ffi::CStr;
use std::fmt::Write as _;
use std::io;
use std::net::SocketAddr;

use crate::fping::cli::{c_to_i64, Options, TimestampFormat};
use crate::fping::host::{Host, RESP_ERROR, RESP_WAITING};
use crate::fping::json;
use crate::fping::output::{self, Extras, Global};
use crate::fping::receive::{self, Decoded};
use crate::ping::icmp::{self, Family};
use crate::sys::Received;

/// `SEQMAP_MAXSEQ`: sequence numbers in use at once.
pub const SEQMAP_MAXSEQ: usize = 65535;

/// What the scheduler needs from the world.
pub trait Io {
    /// Sends an echo request on the socket of `family`; `None`: there is
    /// no such socket.
    fn send(&mut self, family: Family, packet: &[u8], to: &SocketAddr)
        -> Option<io::Result<usize>>;
    /// Waits up to `timeout_ns` for a socket: which one has something (the
    /// IPv4 socket first), and whether it is its error queue.
    fn wait(&mut self, timeout_ns: i64) -> Option<(Family, bool)>;
    /// One datagram (or, `errqueue`, one queued error) from a socket.
    fn recv(
        &mut self,
        family: Family,
        buf: &mut [u8],
        control: &mut [u8],
        errqueue: bool,
    ) -> io::Result<Received>;
    /// The wall clock (`CLOCK_REALTIME`), in nanoseconds.
    fn now(&mut self) -> i64;
    /// `[HH:MM:SS]` in local time, for the `-Q` reports.
    fn clock(&mut self, now_ns: i64) -> String;
    /// `strftime(format)` of the local time, for `--timestamp-format`.
    fn local_time(&mut self, now_ns: i64, format: &CStr) -> String;
    fn stdout(&mut self, text: &str);
    fn stderr(&mut self, text: &str);
    /// SIGINT arrived.
    fn interrupted(&mut self) -> bool;
    /// SIGQUIT arrived since the last call.
    fn status_requested(&mut self) -> bool;
    /// Random bytes for `-R` (no system call: seeded before lock-down).
    fn random_fill(&mut self, buf: &mut [u8]);
}

/// The sockets as the worker set them up.
#[derive(Debug, Clone, Copy)]
pub struct SocketInfo {
    /// The echo identifier per family (a datagram socket's is the kernel's).
    pub ident4: u16,
    pub ident6: u16,
    /// The IPv4 socket is raw: its datagrams start with the IPv4 header.
    pub raw4: bool,
}

#[derive(Debug, Clone, Copy)]
struct SeqEntry {
    host: usize,
    index: u32,
    ts: i64,
}

/// A sequence number never taken: its time is the epoch, so it reads as
/// free to `seqmap_add` and as expired to `seqmap_fetch`.
const SEQ_UNUSED: SeqEntry = SeqEntry {
    host: 0,
    index: 0,
    ts: 0,
};

type Key = (i64, u64);

/// The scheduler and everything it counts.
pub struct Engine<I: Io> {
    o: Options,
    io: I,
    sock: SocketInfo,
    hosts: Vec<Host>,
    width: usize,
    ping_q: BTreeMap<Key, (usize, u32)>,
    timeout_q: BTreeMap<Key, (usize, u32)>,
    // A BTreeMap: a HashMap's RandomState would call getrandom, which the
    // sandbox refuses.
    timeout_slots: BTreeMap<(usize, u32), Key>,
    storage: u32,
    order: u64,
    /// The numbers taken so far, in order; those past its end are
    /// [`SEQ_UNUSED`]. Grown as numbers are first taken (they are taken
    /// in turn from 0), not filled to [`SEQMAP_MAXSEQ`] at the start:
    /// fping's `calloc` of the whole map touches no page until it is
    /// used, whereas writing all 1.5 MiB of entries up front made them
    /// resident: nearly half the worker's peak over a sweep of hundreds
    /// of targets, which takes under a thousand numbers. Its capacity is
    /// the whole map from the start (one allocation, as fping's, whose
    /// pages the kernel maps only as entries are written), so that it
    /// never moves: no copy of up to 1.5 MiB in the middle of a run.
    seqmap: Vec<SeqEntry>,
    seq_next: usize,
    g: Global,
    now: i64,
    start: i64,
    last_send_time: i64,
    next_report: i64,
    charts_sent: bool,
    finish_requested: bool,
    buf: Vec<u8>,
}

impl<I: Io> Engine<I> {
    /// Targets in order; `noaddress`: how many names did not resolve.
    pub fn new(
        o: Options,
        io: I,
        sock: SocketInfo,
        targets: Vec<crate::fping::targets::Target>,
        noaddress: u32,
    ) -> Self {
        let mut io = io;
        let now = io.now();
        let storage = if o.count_mode {
            o.count
        } else if o.loop_mode {
            if o.period_ns > o.timeout_ns || o.period_ns <= 0 {
                1
            } else {
                1 + (o.timeout_ns / o.period_ns) as u32
            }
        } else {
            1
        }
        .max(1);
        let width = targets.iter().map(|t| t.host.len()).max().unwrap_or(0);
        let hosts: Vec<Host> = targets
            .into_iter()
            .map(|t| Host::new(t, o.timeout_ns))
            .collect();
        let mut e = Engine {
            next_report: now + o.report_interval_ns,
            o,
            io,
            sock,
            width,
            ping_q: BTreeMap::new(),
            timeout_q: BTreeMap::new(),
            timeout_slots: BTreeMap::new(),
            storage,
            order: 0,
            seqmap: Vec::with_capacity(SEQMAP_MAXSEQ),
            seq_next: 0,
            g: Global {
                hosts: hosts.len() as u32,
                noaddress,
                ..Global::default()
            },
            hosts,
            now,
            start: now,
            last_send_time: 0,
            charts_sent: false,
            finish_requested: false,
            buf: vec![0; 65536],
        };
        for i in 0..e.hosts.len() {
            e.add_ping_event(i, 0, now);
        }
        e
    }

    fn key(&mut self, t: i64) -> Key {
        self.order += 1;
        (t, self.order)
    }

    fn add_ping_event(&mut self, host: usize, index: u32, t: i64) {
        let k = self.key(t);
        self.ping_q.insert(k, (host, index));
    }

    fn add_timeout_event(&mut self, host: usize, index: u32, t: i64) {
        let slot = (host, index % self.storage);
        if let Some(old) = self.timeout_slots.remove(&slot) {
            self.timeout_q.remove(&old);
        }
        let k = self.key(t);
        self.timeout_q.insert(k, (host, index));
        self.timeout_slots.insert(slot, k);
    }

    fn remove_timeout_event(&mut self, host: usize, index: u32) {
        if let Some(k) = self.timeout_slots.remove(&(host, index % self.storage)) {
            self.timeout_q.remove(&k);
        }
    }

    fn warn(&mut self, text: &str) {
        if !self.o.quiet {
            self.io.stderr(text);
        }
    }

    /// `seqmap_add`: a sequence number for ping `index` of `host`, or
    /// fping's exit when all are taken.
    fn seqmap_add(&mut self, host: usize, index: u32, ts: i64) -> Result<u16, i32> {
        let id = self.seq_next;
        let timeout = self.o.seqmap_timeout_ns;
        // Numbers are taken in turn from 0, so this adds at most the one
        // entry `id` when it is taken for the first time.
        if self.seqmap.len() <= id {
            self.seqmap.resize(id + 1, SEQ_UNUSED);
        }
        let slot = &mut self.seqmap[id];
        if ts - slot.ts < timeout {
            self.io.stderr(&format!(
                "fping error: not enough sequence numbers available! (expire_timeout={timeout}, host_nr={host}, ping_count={index}, seqmap_next_id={id})\n"
            ));
            return Err(4);
        }
        *slot = SeqEntry { host, index, ts };
        self.seq_next = (id + 1) % SEQMAP_MAXSEQ;
        Ok(id as u16)
    }

    fn seqmap_fetch(&self, id: u16, now: i64) -> Option<SeqEntry> {
        // 65535 itself is never taken (SEQMAP_MAXSEQ numbers, 0 on).
        if usize::from(id) >= SEQMAP_MAXSEQ {
            return None;
        }
        let v = self
            .seqmap
            .get(usize::from(id))
            .copied()
            .unwrap_or(SEQ_UNUSED);
        (now - v.ts < self.o.seqmap_timeout_ns).then_some(v)
    }

    /// `send_ping`.
    fn send_ping(&mut self, h: usize, index: u32) -> Result<(), i32> {
        self.now = self.io.now();
        let now = self.now;
        self.hosts[h].last_send_time = now;
        let seq = self.seqmap_add(h, index, now)?;
        let addr = self.hosts[h].target.addr;
        let family = if addr.is_ipv4() {
            Family::V4
        } else {
            Family::V6
        };
        let ident = match family {
            Family::V4 => self.sock.ident4,
            Family::V6 => self.sock.ident6,
        };
        let len = icmp::HEADER_LEN + self.o.data_size as usize;
        let mut packet = vec![0u8; len];
        if self.o.random_data {
            self.io.random_fill(&mut packet[icmp::HEADER_LEN..]);
        }
        if self.o.icmp_timestamp && family == Family::V4 {
            encode_timestamp(&mut packet, ident, seq, now);
        } else {
            icmp::encode_echo(&mut packet, family, ident, seq, None);
        }
        let Some(result) = self.io.send(family, &packet, &addr) else {
            return Ok(());
        };
        let track = !self.o.loop_mode;
        match result {
            Err(e) if e.raw_os_error() != Some(libc::EHOSTDOWN) => {
                if self.o.verbose {
                    let text = format!(
                        "{}: error while sending ping: {}\n",
                        self.hosts[h].target.host,
                        crate::text::os_error_text(&e)
                    );
                    self.warn(&text);
                }
                let host = &mut self.hosts[h];
                host.num_sent += 1;
                host.num_sent_i += 1;
                if track {
                    host.set_resp(index, RESP_ERROR);
                }
            }
            _ => {
                let t = now + self.hosts[h].timeout;
                self.add_timeout_event(h, index, t);
                if track {
                    self.hosts[h].set_resp(index, RESP_WAITING);
                }
            }
        }
        self.g.sent += 1;
        self.last_send_time = now;
        Ok(())
    }

    /// `main_loop` then `finish`: the exit status.
    pub fn run(&mut self) -> i32 {
        if let Err(status) = self.main_loop() {
            return status;
        }
        self.finish()
    }

    fn main_loop(&mut self) -> Result<(), i32> {
        let o_loop = self.o.loop_mode;
        let o_count = self.o.count_mode;
        while !self.ping_q.is_empty() || !self.timeout_q.is_empty() {
            // A time-out due? fping writes `ev_time - current_time_ns <= 0`,
            // which its build compiles to `ev_time <= current_time_ns` (C's
            // signed overflow being undefined): a time-out made negative by
            // an out-of-range -t (`cli::c_to_i64`) is due at once, where a
            // wrapping difference would wait for ever.
            if let Some((&k, &(h, index))) = self.timeout_q.first_key_value() {
                if k.0 <= self.now {
                    self.timeout_q.remove(&k);
                    self.timeout_slots.remove(&(h, index % self.storage));
                    self.hosts[h].stats_add(index, None, !o_loop);
                    self.g.timeouts += 1;
                    if self.o.per_recv {
                        let mut line = String::new();
                        let t = self.now;
                        if self.o.json {
                            let ts = self.json_stamp(t);
                            let host = &self.hosts[h].target.host;
                            json::timeout(&mut line, ts.as_deref(), host, index);
                        } else {
                            if self.o.timestamp {
                                line.push_str(&self.stamp(t));
                            }
                            line.push_str(&output::timeout_line(
                                &self.hosts[h],
                                self.width,
                                index,
                            ));
                            line.push('\n');
                        }
                        self.io.stdout(&line);
                    }
                    if !o_loop
                        && !o_count
                        && (self.hosts[h].num_sent as i64) < i64::from(self.o.retry) + 1
                    {
                        if self.o.backoff_enabled {
                            let host = &mut self.hosts[h];
                            host.timeout = c_to_i64(f64::from(host.timeout as f32 * self.o.backoff));
                        }
                        self.send_ping(h, index)?;
                    }
                    continue;
                }
            }
            // A ping due (and the -i interval since the last one passed)?
            if let Some((&k, &(h, index))) = self.ping_q.first_key_value() {
                if k.0 <= self.now && self.now - self.last_send_time >= self.o.interval_ns {
                    self.ping_q.remove(&k);
                    self.send_ping(h, index)?;
                    if o_loop || (o_count && index + 1 < self.o.count) {
                        self.add_ping_event(h, index + 1, k.0 + self.o.period_ns);
                    }
                }
            }
            // How long to wait for replies.
            let mut wait: i64 = -1;
            if let Some((&k, _)) = self.ping_q.first_key_value() {
                wait = k.0.saturating_sub(self.now).max(0);
                if wait < self.o.interval_ns {
                    let lt = self.now - self.last_send_time;
                    if lt < self.o.interval_ns {
                        wait = self.o.interval_ns - lt;
                    }
                }
            }
            if let Some((&k, _)) = self.timeout_q.first_key_value() {
                let wt = k.0.saturating_sub(self.now);
                if wait < 0 || wt < wait {
                    wait = wt.max(0);
                }
            }
            let reports = self.o.report_interval_ns != 0 && (o_loop || o_count);
            if reports {
                let wr = self.next_report.saturating_sub(self.now);
                if wr < wait {
                    wait = wr.max(0);
                }
            }
            if wait == -1 || self.finish_requested || self.io.interrupted() {
                break;
            }
            if self.wait_for_reply(wait) {
                while self.wait_for_reply(0) {}
            }
            self.now = self.io.now();
            if self.io.status_requested() {
                self.splits();
            }
            if reports && self.now >= self.next_report {
                if self.o.netdata {
                    self.netdata();
                } else {
                    self.splits();
                }
                while self.now >= self.next_report {
                    self.next_report += self.o.report_interval_ns;
                }
            }
        }
        Ok(())
    }

    /// `wait_for_reply`: whether a datagram was taken (for us or not).
    fn wait_for_reply(&mut self, wait_ns: i64) -> bool {
        // fping's select() timeout: whole microseconds, plus one.
        let timeout = if wait_ns > 0 {
            (wait_ns / 1000 + 1) * 1000
        } else {
            0
        };
        let Some((family, errqueue)) = self.io.wait(timeout) else {
            return false;
        };
        let mut control = [0u8; 512];
        let mut buf = std::mem::take(&mut self.buf);
        let got = self.io.recv(family, &mut buf, &mut control, errqueue);
        let taken = match got {
            Ok(r) if r.len > 0 => {
                self.process(
                    family,
                    errqueue,
                    &buf[..r.len],
                    &control[..r.control_len],
                    r.from,
                );
                true
            }
            _ => false,
        };
        self.buf = buf;
        taken
    }

    fn process(
        &mut self,
        family: Family,
        errqueue: bool,
        data: &[u8],
        control: &[u8],
        from: Option<SocketAddr>,
    ) {
        self.now = self.io.now();
        let mut recv_time = 0;
        let mut queued_error = None;
        for (level, ty, d) in icmp::cmsgs(control) {
            if level == libc::SOL_SOCKET && ty == libc::SO_TIMESTAMPNS && d.len() >= 16 {
                let sec = i64::from_ne_bytes(d[..8].try_into().unwrap_or_default());
                let nsec = i64::from_ne_bytes(d[8..16].try_into().unwrap_or_default());
                recv_time = sec.saturating_mul(1_000_000_000).saturating_add(nsec);
            }
            if (level, ty) == (libc::SOL_IP, libc::IP_RECVERR) {
                queued_error = icmp::parse_extended_err(d);
            }
        }
        if recv_time == 0 {
            recv_time = self.now;
        }
        if errqueue {
            // A datagram socket's queued ICMP error: the payload is our
            // request, the offender who answered.
            if let (Some(e), Some(seq)) = (queued_error, data.get(6..8)) {
                if e.origin == icmp::ORIGIN_ICMP {
                    let seq = u16::from_be_bytes([seq[0], seq[1]]);
                    // The address alone, as fping prints it (no port, no scope).
                    let from = e.offender.map(|a| a.ip().to_string()).unwrap_or_default();
                    self.icmp_error(e.icmp_type, e.code, seq, &from);
                }
            }
            return;
        }
        let ident = match family {
            Family::V4 => self.sock.ident4,
            Family::V6 => self.sock.ident6,
        };
        let raw = family == Family::V4 && self.sock.raw4;
        let decoded = if family == Family::V4 && self.o.icmp_timestamp {
            receive::decode_v4(receive::TIMESTAMP, raw, data, ident)
        } else {
            receive::decode(family, raw, data, ident)
        };
        let (seq, hlen) = match decoded {
            Decoded::Ignore => return,
            Decoded::Error {
                icmp_type,
                code,
                seq,
            } => {
                let from = from
                    .map(|a| crate::ping::resolve::numeric(&a))
                    .unwrap_or_default();
                self.icmp_error(icmp_type, code, seq, &from);
                return;
            }
            Decoded::Reply { id, .. } if id != ident => return,
            Decoded::Reply { seq, ip_hlen, .. } => (seq, ip_hlen),
        };
        let bytes = data.len() - hlen;
        let extras = self.extras(family, raw, data, hlen, control, recv_time);
        let Some(entry) = self.seqmap_fetch(seq, self.now) else {
            return;
        };
        let (h, index) = (entry.host, entry.index);
        let rtt = recv_time - entry.ts;
        let other = from
            .filter(|a| a.ip() != self.hosts[h].target.addr.ip())
            .map(|a| output::from_other(&crate::ping::resolve::numeric(&a)));
        self.hosts[h].num_recv_total += 1;
        self.g.received += 1;
        // --check-source (5.3): only the target's own replies count.
        if self.o.check_source && from.is_some_and(|a| a.ip() != self.hosts[h].target.addr.ip()) {
            return;
        }
        if !self.o.loop_mode && self.hosts[h].resp(index) >= 0 {
            if !self.o.per_recv {
                let mut line = output::duplicate_line(&self.hosts[h], index, bytes, rtt);
                line.push_str(other.as_deref().unwrap_or(""));
                line.push('\n');
                self.io.stderr(&line);
            }
            return;
        }
        if rtt > self.hosts[h].timeout {
            return;
        }
        self.hosts[h].stats_add(index, Some(rtt), !self.o.loop_mode);
        if self.g.max_reply == 0 || rtt > self.g.max_reply {
            self.g.max_reply = rtt;
        }
        if self.g.min_reply == 0 || rtt < self.g.min_reply {
            self.g.min_reply = rtt;
        }
        self.g.sum_replies += rtt;
        self.g.replies += 1;
        self.hosts[h].timeout = self.o.timeout_ns;
        self.remove_timeout_event(h, index);
        if self.hosts[h].num_recv == 1 {
            self.g.alive += 1;
            if self.o.fast_reachable && self.g.alive >= self.o.min_reachable {
                self.finish_requested = true;
            }
            if self.o.verbose || self.o.alive {
                let mut line = output::alive_line(&self.hosts[h], self.o.verbose);
                line.push_str(&self.extras_text(&extras));
                if self.o.elapsed {
                    line.push_str(&output::elapsed(rtt));
                }
                if let Some(o) = &other {
                    self.io.stderr(o);
                }
                self.io.stdout(&format!("{line}\n"));
            }
        }
        if self.o.per_recv {
            let mut line = String::new();
            if self.o.json {
                let ts = self.json_stamp(recv_time);
                let r = json::Resp {
                    stamp: ts.as_deref(),
                    host: &self.hosts[h].target.host,
                    seq: index,
                    size: bytes,
                    rtt,
                    extras,
                    tos: self.o.print_tos,
                    ttl: self.o.print_ttl,
                };
                json::resp(&mut line, &r);
            } else {
                if self.o.timestamp {
                    line.push_str(&self.stamp(recv_time));
                }
                line.push_str(&output::reply_line(
                    &self.hosts[h],
                    self.width,
                    index,
                    bytes,
                    rtt,
                ));
                line.push_str(&self.extras_text(&extras));
                line.push('\n');
            }
            if let Some(o) = &other {
                self.io.stderr(o);
            }
            self.io.stdout(&line);
        }
    }

    /// `-D`'s stamp in front of a line, in `--timestamp-format`'s form.
    fn stamp(&mut self, t: i64) -> String {
        format!("[{}] ", self.stamp_text(t))
    }

    /// `-D`'s time in `--timestamp-format`'s form.
    fn stamp_text(&mut self, t: i64) -> String {
        let format = match self.o.timestamp_format {
            TimestampFormat::Epoch => return output::epoch(t),
            TimestampFormat::Ctime => c"%c",
            TimestampFormat::Iso => c"%Y-%m-%dT%T%z",
            TimestampFormat::Rfc3339 => c"%Y-%m-%d %H:%M:%S",
        };
        self.io.local_time(t, format)
    }

    /// `-J`'s `timestamp` value, under `-D`.
    fn json_stamp(&mut self, t: i64) -> Option<String> {
        self.o.timestamp.then(|| self.stamp_text(t))
    }

    /// The reply's TOS and TTL (asked for) and an ICMP timestamp reply's
    /// times (with `recv_time`'s): a raw IPv4 socket's from the IPv4
    /// header, a datagram socket's and IPv6's from the control messages the
    /// options asked the kernel for.
    fn extras(
        &self,
        family: Family,
        raw: bool,
        data: &[u8],
        hlen: usize,
        control: &[u8],
        recv_time: i64,
    ) -> Extras {
        let mut x = Extras::default();
        if self.o.icmp_timestamp && family == Family::V4 {
            let word = |at: usize| {
                let b = data.get(hlen + at..hlen + at + 4)?;
                Some(u32::from_be_bytes(b.try_into().ok()?))
            };
            if let (Some(o), Some(r), Some(t)) = (word(8), word(12), word(16)) {
                x.times = Some([o, r, t, ms_since_midnight_utc(recv_time)]);
            }
        }
        if !(self.o.print_tos || self.o.print_ttl) {
            return x;
        }
        if raw {
            x.tos = data.get(1).map(|&b| i32::from(b));
            x.ttl = data.get(8).map(|&b| i32::from(b));
            return x;
        }
        let int = |d: &[u8]| match d.len() {
            1 => Some(i32::from(d[0])),
            n if n >= 4 => Some(i32::from_ne_bytes(d[..4].try_into().ok()?)),
            _ => None,
        };
        for (level, ty, d) in icmp::cmsgs(control) {
            match (level, ty) {
                (libc::SOL_IP, libc::IP_TOS) | (libc::SOL_IPV6, libc::IPV6_TCLASS) => {
                    x.tos = int(d)
                }
                (libc::SOL_IP, libc::IP_TTL) | (libc::SOL_IPV6, libc::IPV6_HOPLIMIT) => {
                    x.ttl = int(d)
                }
                _ => {}
            }
        }
        x
    }

    /// fping 5.5's `print_recv_ext` before the elapsed time: the
    /// timestamps, ` (TOS n)`, ` (TTL n)`.
    fn extras_text(&self, x: &Extras) -> String {
        let mut s = String::new();
        if let Some([o, r, t, local]) = x.times {
            let comma = if self.o.alive { "" } else { "," };
            let _ = write!(
                s,
                "{comma} timestamps: Originate={o} Receive={r} Transmit={t} Localreceive={local}"
            );
        }
        if self.o.print_tos {
            match x.tos {
                Some(v) => {
                    let _ = write!(s, " (TOS {v})");
                }
                None => s.push_str(" (TOS unknown)"),
            }
        }
        if self.o.print_ttl {
            match x.ttl {
                Some(v) => {
                    let _ = write!(s, " (TTL {v})");
                }
                None => s.push_str(" (TTL unknown)"),
            }
        }
        s
    }

    /// An ICMP error about our request `seq`: fping's warning for the
    /// types it reports.
    fn icmp_error(&mut self, icmp_type: u8, code: u8, seq: u16, from: &str) {
        let Some(entry) = self.seqmap_fetch(seq, self.now) else {
            return;
        };
        let host = self.hosts[entry.host].target.host.clone();
        if let Some(line) = receive::error_line(icmp_type, code, from, &host) {
            self.warn(&line);
            self.g.other_icmp += 1;
        }
    }

    /// `print_per_system_splits` (the `-Q` report, and SIGQUIT's), or
    /// its JSON form on stdout.
    fn splits(&mut self) {
        let mut s = String::new();
        self.now = self.io.now();
        let outage = self.o.outage.then_some(self.o.period_ns);
        if self.o.json {
            let sec = self.now.div_euclid(1_000_000_000);
            json::splits(&mut s, &self.hosts, sec, outage);
        } else {
            if self.o.verbose || self.o.per_recv {
                s.push('\n');
            }
            let clock = self.io.clock(self.now);
            s.push_str(&clock);
            s.push('\n');
            s.push_str(&output::per_system_splits(&self.hosts, self.width, outage));
        }
        // -Q SECS,cumulative (5.3): every report counts from the start.
        if !self.o.cumulative {
            for h in &mut self.hosts {
                h.reset_interval();
            }
        }
        if self.o.json {
            self.io.stdout(&s);
        } else {
            self.io.stderr(&s);
        }
    }

    /// `print_netdata`.
    fn netdata(&mut self) {
        let mut s = String::new();
        for h in &mut self.hosts {
            s.push_str(&output::netdata(
                h,
                !self.charts_sent,
                self.o.report_interval_ns,
            ));
            h.reset_interval();
        }
        self.charts_sent = true;
        self.io.stdout(&s);
    }

    /// `finish`: the unreachable targets, the summaries, the status.
    fn finish(&mut self) -> i32 {
        self.now = self.io.now();
        self.g.elapsed_ns = self.now - self.start;
        let mut out = String::new();
        for h in &self.hosts {
            if h.num_recv == 0 {
                self.g.unreachable += 1;
                if self.o.verbose || self.o.unreachable {
                    out.push_str(&h.target.host);
                    if self.o.verbose {
                        out.push_str(" is unreachable");
                    }
                    out.push('\n');
                }
            }
        }
        if !out.is_empty() {
            self.io.stdout(&out);
        }
        let outage = self.o.outage.then_some(self.o.period_ns);
        let all_rtts = self.o.report_all_rtts;
        if self.o.json {
            // -J: on stdout, without the empty line.
            let mut s = String::new();
            if self.o.count_mode || self.o.loop_mode {
                json::summaries(&mut s, &self.hosts, all_rtts, outage);
            }
            if self.o.stats {
                json::stats(&mut s, &self.g);
            }
            if !s.is_empty() {
                self.io.stdout(&s);
            }
        } else {
            if self.o.count_mode || self.o.loop_mode {
                let mut s = String::new();
                if self.o.verbose || self.o.per_recv {
                    s.push('\n');
                }
                s.push_str(&output::per_system_stats(
                    &self.hosts,
                    self.width,
                    all_rtts,
                    outage,
                ));
                self.io.stderr(&s);
            }
            if self.o.stats {
                let s = output::global_stats(&self.g);
                self.io.stderr(&s);
            }
        }
        let reachable = self.g.hosts - self.g.unreachable;
        if self.o.min_reachable != 0 {
            let enough = reachable >= self.o.min_reachable;
            self.io.stdout(&format!(
                "{} hosts reachable (required: {}, reachable: {reachable})\n",
                if enough { "Enough" } else { "Not enough" },
                self.o.min_reachable as i32
            ));
            return if enough { 0 } else { 1 };
        }
        if self.g.noaddress != 0 {
            2
        } else if self.g.alive != self.g.hosts {
            1
        } else {
            0
        }
    }
}

/// Milliseconds since midnight UTC, as ICMP timestamps count.
fn ms_since_midnight_utc(ns: i64) -> u32 {
    (ns.div_euclid(1_000_000).rem_euclid(86_400_000)) as u32
}

/// An ICMP timestamp request (type 13): identifier, sequence number, the
/// originate time, receive and transmit zero; the checksum.
fn encode_timestamp(packet: &mut [u8], ident: u16, seq: u16, now: i64) {
    if packet.len() < icmp::HEADER_LEN + 12 {
        return;
    }
    packet.fill(0);
    packet[0] = receive::TIMESTAMP;
    packet[4..6].copy_from_slice(&ident.to_be_bytes());
    packet[6..8].copy_from_slice(&seq.to_be_bytes());
    packet[8..12].copy_from_slice(&ms_since_midnight_utc(now).to_be_bytes());
    let c = icmp::checksum(packet);
    packet[2..4].copy_from_slice(&c.to_be_bytes());
}

#[cfg(test)]
mod tests;
