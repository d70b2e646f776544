//! The ping engine: socket setup (before the sandbox), then iputils'
//! main loop on the inherited raw socket — the token-bucket `pinger`,
//! `schedule_exit`, receiving replies and error-queue records, statistics,
//! and the final summary.
//!
//! [`Engine::prepare`] does everything that needs more than the sandbox
//! allows: every `setsockopt` (ICMP filters, BPF, timestamps, hop limit,
//! buffers, TTL), the signal handlers, every buffer allocation. After
//! `policy::sandbox::lock_down`, [`Engine::run`] makes only these system
//! calls (checked with `strace -f` on the staged binary, see
//! `/work/notes/worker-syscalls.txt`):
//!
//! - `sendto` (echo requests), `recvmsg` (replies, with `MSG_DONTWAIT`, and
//!   the error queue with `MSG_ERRQUEUE`), `ppoll` (waiting, with SIGINT,
//!   SIGTERM and SIGQUIT unblocked only while waiting);
//! - `write` to fd 1 (output) and fd 2 (warnings, the SIGQUIT status line);
//! - `clock_gettime` (`CLOCK_MONOTONIC` for scheduling, `CLOCK_REALTIME`
//!   for the payload timestamp and `-D`; normally served by the vDSO);
//! - `rt_sigreturn` (after a handler ran), `exit_group` (at the end), and
//!   `sigaltstack` + `munmap` once at exit (the Rust runtime releasing the
//!   main thread's signal stack);
//! - possibly `brk`/`mmap`/`munmap`/`mremap` from the allocator, when a line
//!   (e.g. a long `wrong data byte` dump) outgrows the preallocated buffers.
//!
//! `-j` writes its JSON objects into the same preallocated line buffer
//! (`crate::ping::json` appends in place) and adds no system call: strace of the
//! staged binary under `-j` (replies, `-v -D -O -p -s 100`, `-q`, `-f -q`,
//! `-l 3`, ICMP errors in a veth netns, no replies, SIGQUIT + SIGINT) shows
//! the list above and nothing else.
//!
//! Deviation from iputils, by design: after the sandbox no name is looked
//! up, so a reply or ICMP error from any address other than the target is
//! printed numerically (iputils would try a reverse lookup for each).

#![forbid(unsafe_code)]

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io;
use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::ping::cli::Options;
use crate::ping::icmp::{self, Family, ParseError, Reply};
use crate::ping::json;
use crate::ping::output::{self, ReplyLine, Rtt, Summary};
use crate::ping::resolve::Target;
use crate::{sys, WorkerError};

/// iputils' `MININTERVAL` (ms): the floor of retry and flood waits.
const MININTERVAL: i64 = 10;
/// iputils' `MAX_DUP_CHK`: the window of sequence numbers tracked for DUPs.
const MAX_DUP_CHK: usize = 0x10000;

/// iputils' `SCHINT`.
fn schint(ms: i64) -> i64 {
    ms.max(MININTERVAL)
}

/// The current wall-clock time as (seconds, microseconds).
fn wall_now() -> (i64, i64) {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_secs() as i64, i64::from(d.subsec_micros()))
}

/// `prog: msg` on stderr, one printable line (see [`output::printable`]).
fn stderr_line(prog: &str, msg: &str) {
    let line = format!("{prog}: {msg}");
    let _ = sys::write_all(2, format!("{}\n", output::printable(&line)).as_bytes());
}

/// Classic BPF opcodes (linux/filter.h): class | size | mode.
mod bpf {
    /// `BPF_LD | BPF_B | BPF_ABS`
    pub const LD_B_ABS: u16 = 0x30;
    /// `BPF_LD | BPF_H | BPF_ABS`
    pub const LD_H_ABS: u16 = 0x28;
    /// `BPF_LD | BPF_B | BPF_IND`
    pub const LD_B_IND: u16 = 0x50;
    /// `BPF_LD | BPF_H | BPF_IND`
    pub const LD_H_IND: u16 = 0x48;
    /// `BPF_LDX | BPF_B | BPF_MSH`: X = 4 * (P[k] & 0xf), the IPv4 header length.
    pub const LDX_B_MSH: u16 = 0xb1;
    /// `BPF_JMP | BPF_JEQ | BPF_K`
    pub const JEQ_K: u16 = 0x15;
    /// `BPF_RET | BPF_K`
    pub const RET_K: u16 = 0x06;
}

fn insn(code: u16, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

/// The socket filter: pass echo replies carrying `ident` and the ICMP
/// error types, drop everything else in the kernel, so that other pings'
/// replies and unrelated ICMP on a busy host never wake the worker. IPv4
/// raw sockets see the IP header first (skipped with `ldx msh`), IPv6 ones
/// do not.
pub fn socket_filter(family: Family, ident: u16) -> Vec<libc::sock_filter> {
    let (reply, errors): (u8, &[u8]) = match family {
        Family::V4 => (icmp::v4::ECHOREPLY, &[3, 4, 5, 11, 12]),
        Family::V6 => (icmp::v6::ECHO_REPLY, &[1, 2, 3, 4]),
    };
    let mut p = Vec::with_capacity(16);
    let (ld_b, ld_h) = match family {
        Family::V4 => {
            p.push(insn(bpf::LDX_B_MSH, 0, 0, 0));
            (bpf::LD_B_IND, bpf::LD_H_IND)
        }
        Family::V6 => (bpf::LD_B_ABS, bpf::LD_H_ABS),
    };
    let n = errors.len() as u8;
    // type == echo reply ? check the id : check the error types
    p.push(insn(ld_b, 0, 0, 0));
    p.push(insn(bpf::JEQ_K, 0, 3, u32::from(reply)));
    p.push(insn(ld_h, 0, 0, 4));
    p.push(insn(bpf::JEQ_K, 0, n + 2, u32::from(ident)));
    p.push(insn(bpf::RET_K, 0, 0, u32::MAX));
    for (i, &t) in errors.iter().enumerate() {
        let left = n - 1 - i as u8; // error-type tests after this one
        p.push(insn(
            bpf::JEQ_K,
            left,
            if left == 0 { 1 } else { 0 },
            u32::from(t),
        ));
    }
    p.push(insn(bpf::RET_K, 0, 0, u32::MAX));
    p.push(insn(bpf::RET_K, 0, 0, 0));
    p
}

/// The engine, fully set up: sockets configured, buffers allocated.
pub struct Engine {
    o: Options,
    target: Target,
    fd: RawFd,
    family: Family,
    ident: u16,
    is_root: bool,
    prog: String,
    interval: i64,
    timing: bool,
    wait_mask: sys::WaitMask,

    outpack: Vec<u8>,
    packet: Vec<u8>,
    control: Vec<u8>,
    errpacket: Vec<u8>,
    out: String,
    rcvd: Vec<u64>,

    ntransmitted: u64,
    nreceived: u64,
    nrepeats: u64,
    nchecksum: u64,
    nerrors: u64,
    tmin: i64,
    tmax: i64,
    tsum: f64,
    tsum2: f64,
    rtt: i64,
    acked: u16,
    pipesize: u32,

    start: Instant,
    cur_time: Option<Instant>,
    tokens: i64,
    /// When `pinger` last said "not yet": the exact time left until the next
    /// send, finer than its whole milliseconds (see `run`).
    send_wait: Option<Duration>,
    oom_count: i64,
    exit_at: Option<Instant>,
    deadline_at: Option<Instant>,
    exiting: bool,
}

impl Engine {
    /// Configures `fd` (the target family's socket) and quiets `other` (the
    /// other handed-over socket, if any, which stays open but must not fill
    /// up with traffic), installs the signal handlers and allocates every
    /// buffer. Errors are iputils' messages; the caller exits 2.
    pub fn prepare(
        o: &Options,
        target: Target,
        fd: RawFd,
        other: Option<RawFd>,
        is_root: bool,
        prog: &str,
    ) -> Result<Engine, WorkerError> {
        Self::prepare_inner(o, target, fd, other, is_root, prog).map_err(WorkerError::Setup)
    }

    fn prepare_inner(
        o: &Options,
        target: Target,
        fd: RawFd,
        other: Option<RawFd>,
        is_root: bool,
        prog: &str,
    ) -> Result<Engine, String> {
        let family = target.family;
        let ident = sys::random_u16().unwrap_or(std::process::id() as u16);
        let interval = o.effective_interval_ms();
        let warn = |m: String| stderr_line(prog, &m);
        let fatal = |what: &str, e: io::Error| format!("{what}: {}", output::os_error_text(&e));

        match family {
            Family::V4 => {
                // Pass echo replies and the errors iputils listens to.
                let pass: u32 = [0u32, 3, 4, 5, 11, 12].iter().fold(0, |m, t| m | (1 << t));
                if let Err(e) = sys::setsockopt_bytes(fd, libc::SOL_RAW, 1, &(!pass).to_ne_bytes())
                {
                    warn(fatal("WARNING: setsockopt(ICMP_FILTER)", e));
                }
                if sys::setsockopt_int(fd, libc::SOL_IP, libc::IP_RECVERR, 1).is_err() {
                    warn("WARNING: your kernel is veeery old. No problems.".into());
                }
                if let Some(ttl) = o.ttl {
                    sys::setsockopt_int(fd, libc::IPPROTO_IP, libc::IP_MULTICAST_TTL, ttl)
                        .map_err(|e| fatal("cannot set multicast time-to-live", e))?;
                    sys::setsockopt_int(fd, libc::IPPROTO_IP, libc::IP_TTL, ttl)
                        .map_err(|e| fatal("cannot set unicast time-to-live", e))?;
                }
            }
            Family::V6 => {
                sys::setsockopt_int(fd, libc::IPPROTO_IPV6, libc::IPV6_RECVERR, 1)
                    .map_err(|e| fatal("IPV6_RECVERR", e))?;
                // Echo replies only: errors come through the error queue.
                let mut filter = [u32::MAX; 8];
                let t = usize::from(icmp::v6::ECHO_REPLY);
                filter[t >> 5] &= !(1 << (t & 31));
                let bytes: Vec<u8> = filter.iter().flat_map(|w| w.to_ne_bytes()).collect();
                sys::setsockopt_bytes(fd, libc::IPPROTO_ICMPV6, 1, &bytes)
                    .map_err(|e| fatal("setsockopt(ICMP6_FILTER)", e))?;
                if let Some(ttl) = o.ttl {
                    sys::setsockopt_int(fd, libc::IPPROTO_IPV6, libc::IPV6_MULTICAST_HOPS, ttl)
                        .map_err(|e| fatal("can't set multicast hop limit", e))?;
                    sys::setsockopt_int(fd, libc::IPPROTO_IPV6, libc::IPV6_UNICAST_HOPS, ttl)
                        .map_err(|e| fatal("can't set unicast hop limit", e))?;
                }
                sys::setsockopt_int(fd, libc::IPPROTO_IPV6, libc::IPV6_RECVHOPLIMIT, 1)
                    .map_err(|e| fatal("can't receive hop limit", e))?;
            }
        }

        // iputils' sock_setbufs: a rough estimate of one packet's memory.
        let per_packet = {
            let hold = o.datalen as i64 + 8;
            let overhead = match family {
                Family::V4 => 20 + 16 + 64 + 160,
                Family::V6 => 40 + 16 + 64 + 160,
            };
            hold + ((hold + 511) / 512) * overhead
        };
        let clamp = |v: i64| v.clamp(0, i64::from(i32::MAX)) as i32;
        let _ = sys::setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_SNDBUF, clamp(per_packet));
        let rcvbuf = (per_packet * i64::from(o.preload)).max(65536);
        let _ = sys::setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, clamp(rcvbuf));

        // Receive timestamps from the kernel (RTT without our own latency).
        if sys::setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, 1).is_err() {
            warn("Warning: no SO_TIMESTAMP support, falling back to SIOCGSTAMP".into());
        }
        // A send must not block forever on a stalled device.
        let sndtimeo = if interval < 1000 {
            Duration::from_millis(schint(interval) as u64)
        } else {
            Duration::from_secs(1)
        };
        let mut tv = Vec::with_capacity(16);
        tv.extend_from_slice(&(sndtimeo.as_secs() as i64).to_ne_bytes());
        tv.extend_from_slice(&i64::from(sndtimeo.subsec_micros()).to_ne_bytes());
        let _ = sys::setsockopt_bytes(fd, libc::SOL_SOCKET, libc::SO_SNDTIMEO, &tv);

        if let Err(e) = sys::attach_filter(fd, &socket_filter(family, ident)) {
            warn(fatal("WARNING: failed to install socket filter", e));
        }
        // The other family's socket stays open (it was handed over) but
        // accepts nothing, so it cannot fill with traffic.
        if let Some(other) = other {
            let _ = sys::attach_filter(other, &[insn(bpf::RET_K, 0, 0, 0)]);
        }

        let wait_mask = sys::install_signal_handlers().map_err(|e| fatal("sigaction", e))?;

        let mut outpack = vec![0u8; icmp::HEADER_LEN + o.datalen];
        icmp::fill_data(&mut outpack[icmp::HEADER_LEN..], o.pattern.as_deref());
        let packet_len = match family {
            Family::V4 => o.datalen + 60 + 76,
            Family::V6 => o.datalen + 8 + 4096 + 40 + 8,
        };
        Ok(Engine {
            o: o.clone(),
            timing: o.datalen >= icmp::TIMEVAL_LEN,
            target,
            fd,
            family,
            ident,
            is_root,
            prog: prog.to_string(),
            interval,
            wait_mask,
            outpack,
            packet: vec![0u8; packet_len],
            control: vec![0u8; 4096],
            errpacket: vec![0u8; 576],
            out: String::with_capacity(4096 + 4 * o.datalen),
            rcvd: vec![0u64; MAX_DUP_CHK / 64],
            ntransmitted: 0,
            nreceived: 0,
            nrepeats: 0,
            nchecksum: 0,
            nerrors: 0,
            tmin: i64::MAX,
            tmax: 0,
            tsum: 0.0,
            tsum2: 0.0,
            rtt: 0,
            acked: 0,
            pipesize: 0,
            start: Instant::now(),
            cur_time: None,
            tokens: 0,
            send_wait: None,
            oom_count: 0,
            exit_at: None,
            deadline_at: None,
            exiting: false,
        })
    }

    /// The echo identifier (for `-v`).
    pub fn ident(&self) -> u16 {
        self.ident
    }

    fn emit(&mut self) {
        if !self.out.is_empty() {
            let _ = sys::write_all(1, self.out.as_bytes());
            self.out.clear();
        }
    }

    /// Formats one line into the preallocated buffer (taken out for the
    /// duration, so that `f` may borrow the engine) and writes it.
    fn emit_with(&mut self, f: impl FnOnce(&Self, &mut String)) {
        let mut out = std::mem::take(&mut self.out);
        f(self, &mut out);
        self.out = out;
        self.emit();
    }

    /// A message upstream iputils reports through `ping_error()`: a JSON
    /// error object on stdout under `-j`, else `prog: msg` on stderr.
    fn report(&mut self, msg: &str) {
        if self.o.json {
            self.emit_with(|_, out| json::error(out, msg));
        } else {
            stderr_line(&self.prog, msg);
        }
    }

    /// [`Self::report`] for a failed call: `{"error": ["what", "strerror"]}`.
    fn report_errno(&mut self, what: &str, e: &io::Error) {
        if self.o.json {
            self.emit_with(|_, out| json::error_errno(out, what, e));
        } else {
            stderr_line(&self.prog, &format!("{what}: {}", output::os_error_text(e)));
        }
    }

    fn timestamp(&self) -> Option<(i64, i64)> {
        self.o.timestamps.then(wall_now)
    }

    fn rcvd_bit(seq: u16) -> (usize, u64) {
        let i = usize::from(seq) % MAX_DUP_CHK;
        (i / 64, 1 << (i % 64))
    }

    fn rcvd_test(&self, seq: u16) -> bool {
        let (w, b) = Self::rcvd_bit(seq);
        self.rcvd.get(w).is_some_and(|x| x & b != 0)
    }

    fn rcvd_set(&mut self, seq: u16, on: bool) {
        let (w, b) = Self::rcvd_bit(seq);
        if let Some(x) = self.rcvd.get_mut(w) {
            if on {
                *x |= b;
            } else {
                *x &= !b;
            }
        }
    }

    fn in_flight(&self) -> u64 {
        let d = (self.ntransmitted as u16).wrapping_sub(self.acked);
        if d <= 0x7fff {
            u64::from(d)
        } else {
            self.ntransmitted
                .saturating_sub(self.nreceived + self.nerrors)
        }
    }

    /// iputils' `advance_ntransmitted`: count a transmission, and when the
    /// 16-bit sequence number wrapped past `acked`, invalidate it.
    fn advance_ntransmitted(&mut self) {
        self.ntransmitted += 1;
        if (self.ntransmitted as u16).wrapping_sub(self.acked) > 0x7fff {
            self.acked = (self.ntransmitted as u16).wrapping_add(1);
        }
    }

    fn acknowledge(&mut self, seq: u16) {
        let tx = self.ntransmitted as u16;
        let diff = tx.wrapping_sub(seq);
        if diff <= 0x7fff {
            self.pipesize = self.pipesize.max(u32::from(diff) + 1);
            if (seq.wrapping_sub(self.acked) as i16) > 0 || tx.wrapping_sub(self.acked) > 0x7fff {
                self.acked = seq;
            }
        }
    }

    fn rtt_figures(&self) -> Option<Rtt> {
        self.timing.then(|| Rtt {
            min: self.tmin,
            max: self.tmax,
            sum: self.tsum,
            sum2: self.tsum2,
            total: (self.nreceived + self.nrepeats) as i64,
            ewma8: self.rtt,
        })
    }

    /// Display form of a packet's source: the target as resolved before
    /// the sandbox (name and address), anything else numerically.
    fn display(&self, from: Option<SocketAddr>) -> Cow<'_, str> {
        match from {
            Some(a) if a.ip() == self.target.addr.ip() => {
                Cow::Borrowed(self.target.display.as_str())
            }
            Some(a) => Cow::Owned(crate::ping::resolve::numeric(&a)),
            None => Cow::Borrowed("?"),
        }
    }

    /// Runs until done; prints the summary and returns the exit status.
    pub fn run(&mut self) -> i32 {
        self.start = Instant::now();
        if self.o.deadline > 0 {
            self.deadline_at = Some(self.start + Duration::from_secs(self.o.deadline));
        }
        loop {
            if sys::interrupted() {
                self.exiting = true;
            }
            if self.exiting {
                break;
            }
            if self.o.count > 0 && self.nreceived + self.nerrors >= self.o.count {
                break;
            }
            if self.o.deadline > 0 && self.nerrors > 0 {
                break;
            }
            if sys::take_status_request() {
                let line =
                    output::status_line(self.ntransmitted, self.nreceived, self.rtt_figures());
                let _ = sys::write_all(2, format!("\r{line}\n").as_bytes());
            }

            let next = loop {
                let now = Instant::now();
                let next = self.pinger(now);
                let next = self.schedule_exit(next, now);
                if next > 0 {
                    break next;
                }
            };

            let now = Instant::now();
            let mut wait = Duration::from_millis(next as u64);
            // iputils spins on non-blocking reads to send on time when less
            // than a tick is left; waiting for the exact remainder keeps the
            // same pace (2.000 ms at -i 0.002) without spinning, where whole
            // milliseconds would add the time spent receiving to every period.
            if let Some(exact) = self.send_wait.take() {
                wait = wait.min(exact);
            }
            for t in [self.exit_at, self.deadline_at].into_iter().flatten() {
                wait = wait.min(t.saturating_duration_since(now));
            }
            match sys::ppoll(self.fd, wait, &self.wait_mask) {
                Ok(ready) if ready.readable || ready.error => self.drain(ready.error),
                Ok(_) => {}
                Err(e) => {
                    self.report_errno("ppoll", &e);
                    self.exiting = true;
                }
            }
            let now = Instant::now();
            if self.exit_at.is_some_and(|t| now >= t) || self.deadline_at.is_some_and(|t| now >= t)
            {
                self.exiting = true;
            }
        }
        self.finish()
    }

    /// iputils' `pinger`: sends if the token bucket allows, returns the
    /// milliseconds until it may send again.
    fn pinger(&mut self, now: Instant) -> i64 {
        let count = self.o.count;
        if self.exiting || (count > 0 && self.ntransmitted >= count && self.o.deadline == 0) {
            return 1000;
        }
        let preload = i64::from(self.o.preload);
        match self.cur_time {
            None => {
                self.cur_time = Some(now);
                self.tokens = self.interval * (preload - 1);
            }
            Some(cur) => {
                let mut ntokens = now.saturating_duration_since(cur).as_millis() as i64;
                if self.interval == 0 && ntokens < MININTERVAL && self.in_flight() as i64 >= preload
                {
                    return MININTERVAL - ntokens;
                }
                ntokens = (ntokens + self.tokens).min(self.interval * preload);
                if ntokens < self.interval {
                    let due = Duration::from_millis((self.interval - self.tokens).max(0) as u64);
                    self.send_wait = Some(due.saturating_sub(now.saturating_duration_since(cur)));
                    return self.interval - ntokens;
                }
                // Tokens count whole milliseconds, as in iputils; carry the
                // sub-millisecond rest of the elapsed time into the next
                // period instead of losing it, so that wake-up latency does
                // not stretch every interval (iputils spins instead).
                let elapsed = now.saturating_duration_since(cur);
                let rest =
                    elapsed.saturating_sub(Duration::from_millis(elapsed.as_millis() as u64));
                self.cur_time = Some(now.checked_sub(rest).unwrap_or(now));
                self.tokens = ntokens - self.interval;
            }
        }

        if self.o.outstanding && self.ntransmitted > 0 && !self.rcvd_test(self.ntransmitted as u16)
        {
            let seq = self.ntransmitted % MAX_DUP_CHK as u64;
            if self.o.json {
                let ts = self.timestamp();
                self.emit_with(|_, out| json::no_answer(out, ts, seq));
            } else {
                if let Some((s, u)) = self.timestamp() {
                    self.out.push_str(&output::timestamp_prefix(s, u));
                }
                self.out.push_str(&output::no_answer_line(seq));
                self.out.push('\n');
                self.emit();
            }
        }

        let seq = (self.ntransmitted + 1) as u16;
        self.rcvd_set(seq, false);
        let stamp = self.timing.then(wall_now);
        icmp::encode_echo(&mut self.outpack, self.family, self.ident, seq, stamp);
        let sent = sys::sendto(self.fd, &self.outpack, &self.target.addr);
        let err = match sent {
            Ok(n) if n == self.outpack.len() => {
                self.oom_count = 0;
                self.advance_ntransmitted();
                if !self.o.quiet && self.o.flood {
                    let _ = sys::write_all(1, b".");
                }
                return self.interval - self.tokens;
            }
            Ok(_) => io::Error::from_raw_os_error(libc::EMSGSIZE),
            Err(e) => e,
        };
        match err.raw_os_error() {
            Some(libc::ENOBUFS | libc::ENOMEM) => {
                // Device queue overflow: try again a little later, but not
                // forever (it would deadlock on a stuck device).
                self.tokens = 0;
                let nores = schint(self.interval / 2).min(500);
                self.oom_count += 1;
                if self.oom_count * nores < self.o.linger_ms {
                    return nores;
                }
            }
            Some(libc::EAGAIN) => {
                self.tokens += self.interval;
                return MININTERVAL;
            }
            _ => {}
        }
        // A hard local error: pretend we sent it, like iputils.
        let (_, local, _) = self.drain_errqueue();
        self.advance_ntransmitted();
        if local == 0 && !self.o.quiet {
            if self.o.flood {
                let _ = sys::write_all(1, b"E");
            } else {
                self.report_errno("sendmsg", &err);
            }
        }
        self.tokens = 0;
        schint(self.interval)
    }

    /// iputils' `schedule_exit`: once the count is sent, wait for the
    /// stragglers (twice the slowest reply, at least an interval) or, when
    /// nothing came back at all, `-W`.
    fn schedule_exit(&mut self, next: i64, now: Instant) -> i64 {
        let count = self.o.count;
        if !(count > 0 && self.ntransmitted >= count && self.o.deadline == 0)
            || self.exit_at.is_some()
        {
            return next;
        }
        let waittime_us = if self.nreceived > 0 {
            (2 * self.tmax).max(self.interval * 1000)
        } else {
            self.o.linger_ms * 1000
        };
        self.exit_at = Some(now + Duration::from_micros(waittime_us.max(0) as u64));
        if next < 0 || next < waittime_us / 1000 {
            waittime_us / 1000
        } else {
            next
        }
    }

    /// Reads everything queued (errors first when `POLLERR` said so),
    /// returning to the pinger as soon as nothing is in flight.
    fn drain(&mut self, mut error: bool) {
        loop {
            if error {
                self.drain_errqueue();
                error = false;
            }
            match self.receive() {
                Ok(()) => {
                    if self.in_flight() == 0 || sys::interrupted() {
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
        let got = sys::recvmsg(self.fd, &mut packet, &mut control, libc::MSG_DONTWAIT);
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
            }
        }
        let recv_time = recv_time.unwrap_or_else(wall_now);
        let target_ip = self.target.addr.ip();
        match icmp::parse_reply(packet, self.family, self.ident, target_ip) {
            Ok(Reply::Echo { seq, ttl, icmp, .. }) => {
                let ttl = ttl.map(i32::from).or(hops);
                // The echo-reply checksum is deliberately not acted upon:
                // iputils 20221126 (Debian 12) computes `csfailed` in
                // ping4_parse_reply but passes a literal 0 as
                // gather_statistics' csfailed (the check was lost in its
                // commit 8b8686794f69 and only restored upstream in 2024,
                // iputils PR #534). Reproduced with /usr/bin/ping on a raw
                // socket (what the worker always has) in a namespace where
                // the hostile responder sends 4 bad-checksum replies and 3
                // good ones to `-c 5`: `5 received, +2 duplicates`, while the
                // kernel's IcmpInCsumErrors showed 4 (raw sockets get their
                // copy before icmp_rcv validates; only an ICMP datagram
                // socket, which iputils uses when ping_group_range allows
                // it, would have the kernel drop them). So a reply with a
                // bad checksum, or one cut to the buffer whose checksum
                // cannot be verified at all, counts as received, exactly as
                // iputils counts it (hostile/tests/remote_host.rs:
                // replies_with_a_bad_checksum, oversized_replies).
                self.on_echo(icmp, seq, ttl, true, recv_time, from);
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
                    self.acknowledge(seq);
                } else if !self.o.quiet && !self.o.flood && self.o.json {
                    let text = output::icmp4_text(icmp_type, code, info);
                    let ts = self.timestamp();
                    self.emit_with(|e, out| {
                        let from = e.display(from);
                        json::icmp_notice(out, ts, &from, Some(seq), !checksum_ok, &text);
                    });
                } else if !self.o.quiet && !self.o.flood {
                    let text = output::icmp4_text(icmp_type, code, info);
                    let line = output::redirect_line(
                        self.timestamp(),
                        &self.display(from),
                        seq,
                        !checksum_ok,
                        &text,
                    );
                    self.out.push_str(&line);
                    self.out.push('\n');
                    self.emit();
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
                if self.o.json {
                    self.emit_with(|e, out| {
                        json::icmp_notice(out, None, &e.display(from), None, false, &text);
                    });
                } else {
                    let from = self.display(from).into_owned();
                    let _ = writeln!(self.out, "From {from}: {text}");
                    self.emit();
                }
            }
            // Foreign, malformed or not ours: ignored, as iputils does.
            Err(_) => {}
        }
    }

    /// iputils' `gather_statistics` and the reply line. `checksum_ok` is
    /// its `!csfailed`, always true from [`Self::handle`] (see there).
    fn on_echo(
        &mut self,
        icmp: &[u8],
        seq: u16,
        ttl: Option<i32>,
        checksum_ok: bool,
        recv: (i64, i64),
        from: Option<SocketAddr>,
    ) {
        let cc = icmp.len();
        self.nreceived += 1;
        if checksum_ok {
            self.acknowledge(seq);
        }
        let mut triptime: i64 = 0;
        if self.timing && cc >= icmp::HEADER_LEN + icmp::TIMEVAL_LEN {
            if let Some((sec, usec)) = icmp::sent_timeval(icmp) {
                let t = i128::from(recv.0.wrapping_sub(sec)) * 1_000_000
                    + i128::from(recv.1.wrapping_sub(usec));
                triptime = t.clamp(i128::from(i64::MIN / 4), i128::from(i64::MAX / 4)) as i64;
            }
            if triptime < 0 {
                self.report(&format!(
                    "Warning: time of day goes back ({triptime}us), taking countermeasures"
                ));
                triptime = 0;
            }
            if checksum_ok {
                self.tsum += triptime as f64;
                self.tsum2 += (triptime as f64) * (triptime as f64);
                self.tmin = self.tmin.min(triptime);
                self.tmax = self.tmax.max(triptime);
                if self.rtt == 0 {
                    self.rtt = triptime.saturating_mul(8);
                } else {
                    self.rtt = self.rtt.saturating_add(triptime - self.rtt / 8);
                }
            }
        }
        let mut dup = false;
        if !checksum_ok {
            self.nchecksum += 1;
            self.nreceived -= 1;
        } else if self.rcvd_test(seq) {
            self.nrepeats += 1;
            self.nreceived -= 1;
            dup = true;
        } else {
            self.rcvd_set(seq, true);
        }
        if self.o.quiet {
            return;
        }
        if self.o.flood {
            let _ = sys::write_all(1, if checksum_ok { b"\x08 \x08" } else { b"\x08C" });
            return;
        }
        let truncated = cc < self.o.datalen + icmp::HEADER_LEN;
        if self.o.json {
            let ts = self.timestamp();
            self.emit_with(|e, out| {
                let sent = e.outpack.get(icmp::HEADER_LEN..).unwrap_or(&[]);
                let got = icmp.get(icmp::HEADER_LEN..).unwrap_or(&[]);
                let wrong = if truncated {
                    None
                } else {
                    output::first_mismatch(sent, got, icmp::TIMEVAL_LEN)
                };
                let r = ReplyLine {
                    timestamp: ts,
                    bytes: cc,
                    from: &e.display(from),
                    seq,
                    ident: e.o.verbose.then_some(e.ident),
                    ttl,
                    truncated,
                    time_us: e.timing.then_some(triptime),
                    dup,
                    bad_checksum: !checksum_ok,
                };
                json::reply(out, &r, wrong);
            });
            return;
        }
        let line = output::reply_line(&ReplyLine {
            timestamp: self.timestamp(),
            bytes: cc,
            from: &self.display(from),
            seq,
            ident: self.o.verbose.then_some(self.ident),
            ttl,
            truncated,
            time_us: self.timing.then_some(triptime),
            dup,
            bad_checksum: !checksum_ok,
        });
        self.out.push_str(&line);
        if !truncated {
            let sent = self.outpack.get(icmp::HEADER_LEN..).unwrap_or(&[]);
            let got = icmp.get(icmp::HEADER_LEN..).unwrap_or(&[]);
            if let Some(report) = output::wrong_data(sent, got, icmp::TIMEVAL_LEN) {
                self.out.push_str(&report);
            }
        }
        self.out.push('\n');
        self.emit();
    }

    /// Reads the socket's error queue dry (iputils' `receive_error_msg`):
    /// returns (ICMP errors about our requests, local errors, records read).
    fn drain_errqueue(&mut self) -> (u32, u32, u32) {
        let (mut net, mut local, mut records) = (0, 0, 0);
        let mut buf = std::mem::take(&mut self.errpacket);
        let mut control = std::mem::take(&mut self.control);
        let flags = libc::MSG_ERRQUEUE | libc::MSG_DONTWAIT;
        while let Ok(r) = sys::recvmsg(self.fd, &mut buf, &mut control, flags) {
            records += 1;
            let (level, ty) = match self.family {
                Family::V4 => (libc::SOL_IP, libc::IP_RECVERR),
                Family::V6 => (libc::IPPROTO_IPV6, libc::IPV6_RECVERR),
            };
            let Some(e) = icmp::cmsgs(&control[..r.control_len])
                .find(|(l, t, _)| *l == level && *t == ty)
                .and_then(|(_, _, d)| icmp::parse_extended_err(d))
            else {
                continue;
            };
            if e.origin == icmp::ORIGIN_LOCAL {
                local += 1;
                if self.o.quiet {
                    continue;
                }
                if self.o.flood {
                    let _ = sys::write_all(1, b"E");
                } else if e.errno != libc::EMSGSIZE as u32 {
                    // iputils: error(), not ping_error(): stderr even under -j.
                    let err = io::Error::from_raw_os_error(e.errno as i32);
                    stderr_line(
                        &self.prog,
                        &format!("local error: {}", output::os_error_text(&err)),
                    );
                } else {
                    let sep = if self.family == Family::V4 { "=" } else { ": " };
                    self.report(&format!(
                        "local error: message too long, mtu{sep}{}",
                        e.info
                    ));
                }
                self.nerrors += 1;
            } else if e.origin == icmp::ORIGIN_ICMP || e.origin == icmp::ORIGIN_ICMP6 {
                let echo = buf.get(..r.len.min(icmp::HEADER_LEN)).unwrap_or(&[]);
                let request = match self.family {
                    Family::V4 => icmp::v4::ECHO,
                    Family::V6 => icmp::v6::ECHO_REQUEST,
                };
                let ours = echo.len() == icmp::HEADER_LEN
                    && r.from.map(|a| a.ip()) == Some(self.target.addr.ip())
                    && echo[0] == request
                    && u16::from_be_bytes([echo[4], echo[5]]) == self.ident;
                if !ours {
                    continue;
                }
                let seq = u16::from_be_bytes([echo[6], echo[7]]);
                if self.family == Family::V4 {
                    self.acknowledge(seq);
                }
                net += 1;
                self.nerrors += 1;
                if self.o.quiet {
                    continue;
                }
                if self.o.flood {
                    let _ = sys::write_all(1, b"\x08E");
                    continue;
                }
                let text = match self.family {
                    Family::V4 => output::icmp4_text(e.icmp_type, e.code, e.info),
                    Family::V6 => output::icmp6_text(e.icmp_type, e.code, e.info),
                };
                // Numeric on purpose: no lookups inside the sandbox.
                let from = e
                    .offender
                    .map(|ip| crate::ping::resolve::numeric(&SocketAddr::new(ip, 0)));
                if self.o.json {
                    let ts = self.timestamp();
                    let from = from.as_deref().unwrap_or("?");
                    self.emit_with(|_, out| json::icmp_error(out, ts, from, seq, &text));
                    continue;
                }
                let line = output::error_line(
                    self.timestamp(),
                    from.as_deref().unwrap_or("?"),
                    seq,
                    &text,
                );
                self.out.push_str(&line);
                self.out.push('\n');
                self.emit();
            }
        }
        self.errpacket = buf;
        self.control = control;
        (net, local, records)
    }

    /// iputils' `finish`: the statistics block and the exit status.
    fn finish(&mut self) -> i32 {
        let elapsed = self
            .cur_time
            .map(|t| t.saturating_duration_since(self.start))
            .unwrap_or_default();
        let summary = Summary {
            hostname: &self.target.hostname,
            transmitted: self.ntransmitted,
            received: self.nreceived,
            duplicates: self.nrepeats,
            corrupted: self.nchecksum,
            errors: self.nerrors,
            elapsed,
            rtt: self.rtt_figures(),
            pipesize: self.pipesize,
            ipg: self.interval == 0 || self.o.flood,
        };
        if self.o.json {
            let mut out = std::mem::take(&mut self.out);
            json::summary(&mut out, &summary);
            self.out = out;
        } else {
            let text = output::summary(&summary);
            self.out.push_str(&text);
        }
        self.emit();
        let short = self.o.deadline > 0 && self.nreceived < self.o.count;
        if self.nreceived == 0 || short {
            1
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny classic-BPF interpreter for the instructions we emit.
    fn run_bpf(prog: &[libc::sock_filter], pkt: &[u8]) -> u32 {
        let (mut a, mut x, mut pc) = (0u32, 0u32, 0usize);
        loop {
            let i = prog[pc];
            pc += 1;
            let load = |off: usize, n: usize| -> Option<u32> {
                Some(
                    pkt.get(off..off + n)?
                        .iter()
                        .fold(0u32, |v, b| (v << 8) | u32::from(*b)),
                )
            };
            match i.code {
                bpf::LDX_B_MSH => x = 4 * (u32::from(pkt[i.k as usize]) & 0xf),
                bpf::LD_B_ABS => {
                    a = match load(i.k as usize, 1) {
                        Some(v) => v,
                        None => return 0,
                    }
                }
                bpf::LD_H_ABS => {
                    a = match load(i.k as usize, 2) {
                        Some(v) => v,
                        None => return 0,
                    }
                }
                bpf::LD_B_IND => {
                    a = match load((x + i.k) as usize, 1) {
                        Some(v) => v,
                        None => return 0,
                    }
                }
                bpf::LD_H_IND => {
                    a = match load((x + i.k) as usize, 2) {
                        Some(v) => v,
                        None => return 0,
                    }
                }
                bpf::JEQ_K => pc += usize::from(if a == i.k { i.jt } else { i.jf }),
                bpf::RET_K => return i.k,
                other => panic!("unexpected opcode {other:#x}"),
            }
        }
    }

    #[test]
    fn v4_filter_passes_our_replies_and_errors_only() {
        let f = socket_filter(Family::V4, 0x1234);
        let ip = |icmp: &[u8]| {
            let mut p = vec![0x45; 1];
            p.extend_from_slice(&[0; 19]);
            p.extend_from_slice(icmp);
            p
        };
        assert_ne!(
            run_bpf(&f, &ip(&[0, 0, 0, 0, 0x12, 0x34, 0, 1])),
            0,
            "our reply"
        );
        assert_eq!(
            run_bpf(&f, &ip(&[0, 0, 0, 0, 0x43, 0x21, 0, 1])),
            0,
            "another ping's reply"
        );
        for t in [3u8, 4, 5, 11, 12] {
            assert_ne!(
                run_bpf(&f, &ip(&[t, 1, 0, 0, 0, 0, 0, 0])),
                0,
                "error type {t}"
            );
        }
        for t in [8u8, 13, 9, 255] {
            assert_eq!(
                run_bpf(&f, &ip(&[t, 0, 0, 0, 0x12, 0x34, 0, 0])),
                0,
                "type {t}"
            );
        }
    }

    #[test]
    fn v6_filter_passes_our_replies_and_errors_only() {
        let f = socket_filter(Family::V6, 0xbeef);
        assert_ne!(run_bpf(&f, &[129, 0, 0, 0, 0xbe, 0xef, 0, 1]), 0);
        assert_eq!(run_bpf(&f, &[129, 0, 0, 0, 0xbe, 0xee, 0, 1]), 0);
        for t in [1u8, 2, 3, 4] {
            assert_ne!(run_bpf(&f, &[t, 0, 0, 0, 0, 0, 0, 0]), 0, "type {t}");
        }
        for t in [128u8, 135, 136, 134] {
            assert_eq!(run_bpf(&f, &[t, 0, 0, 0, 0xbe, 0xef, 0, 0]), 0, "type {t}");
        }
    }
}
