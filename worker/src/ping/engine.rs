//! The ping loop that runs under seccomp, as one reviewable piece:
//! iputils' `main_loop` — the token-bucket `pinger`, `schedule_exit`,
//! receiving replies and error-queue records, `gather_statistics`, the
//! final summary — over a small I/O trait, [`Io`], so that the whole loop
//! is unit-tested with a scripted double (below) the way the launcher's
//! sequence is tested with a recording one.
//!
//! Everything that needs more than the sandbox allows (socket options,
//! filters, name resolution, buffers, signal handlers) is done before, by
//! [`crate::ping::setup`], which hands over a [`Prepared`] value. The
//! system calls the loop may make are the ones [`Io`]'s real
//! implementation makes; the reviewed list is ping's sandbox profile
//! (`policy::sandbox::profile`), checked against the recorded footprint
//! in `policy/footprints/ping.syscalls`.

#![forbid(unsafe_code)]

use std::fmt::Write as _;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use crate::ping::cli::Options;
use crate::ping::icmp::{self, Family, ParseError, Reply};
use crate::ping::json;
use crate::ping::output::{self, ReplyLine, Rtt, Summary};
use crate::ping::resolve::Target;
use crate::sys::{Ready, Received};
use crate::text;

/// How many flood rounds may go by without a `ppoll` (the only place the
/// worker takes its signals): bounds how long a SIGINT waits.
const FLOOD_ROUNDS_PER_WAIT: u32 = 64;

/// iputils' `MININTERVAL` (ms): the floor of retry and flood waits.
const MININTERVAL: i64 = 10;
/// iputils' `MAX_DUP_CHK`: the window of sequence numbers tracked for DUPs.
const MAX_DUP_CHK: usize = 0x10000;

/// iputils' `SCHINT`.
fn schint(ms: i64) -> i64 {
    ms.max(MININTERVAL)
}

/// Everything the loop does to the outside world. The real implementation
/// (`setup::SysIo`) is the handed-over socket, stdout/stderr, the clocks,
/// the signal flags and the resolver co-process; the tests' double is a
/// script.
pub trait Io {
    /// `sendto` the socket.
    fn send(&mut self, packet: &[u8], to: &SocketAddr) -> io::Result<usize>;
    /// A non-blocking `recvmsg` on the socket, or on its error queue.
    fn recv(&mut self, buf: &mut [u8], control: &mut [u8], errqueue: bool) -> io::Result<Received>;
    /// Waits up to `timeout` for the socket; a signal ends the wait early.
    fn wait(&mut self, timeout: Duration) -> io::Result<Ready>;
    /// Writes to stdout.
    fn stdout(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Writes to stderr (failures ignored, as iputils does).
    fn stderr(&mut self, bytes: &[u8]);
    /// The monotonic clock.
    fn now(&mut self) -> Instant;
    /// The wall clock as (seconds, microseconds).
    fn wall(&mut self) -> (i64, i64);
    /// Whether SIGINT or SIGALRM arrived.
    fn interrupted(&mut self) -> bool;
    /// Whether SIGQUIT arrived since the last call.
    fn status_requested(&mut self) -> bool;
    /// The reverse name of an address other than the target's, if any.
    fn reverse(&mut self, addr: &SocketAddr) -> Option<String>;
}

/// What [`crate::ping::setup`] hands over: the options, the destination and
/// everything derived from the socket setup.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub o: Options,
    pub target: Target,
    pub ident: u16,
    /// The socket is an ICMP datagram socket: no IPv4 header on receive
    /// (the TTL and IP options come as control messages), and the kernel's
    /// identifier on everything it delivers.
    pub datagram: bool,
    pub is_root: bool,
    /// The program name for messages (argv\[0\] as invoked).
    pub prog: String,
    /// Milliseconds between sends (0: flood without -i).
    pub interval: i64,
    /// A broadcast or multicast destination (replies from elsewhere are
    /// expected: no `(DIFFERENT ADDRESS!)`, no `(DUP!)` without -v).
    pub multicast: bool,
    /// IPv6: the destination looks like a subnet-router anycast address.
    pub subnet_router_anycast: bool,
    /// Interface index → name, read before the sandbox, for link-local
    /// sources (`fe80::1%eth0`).
    pub ifnames: Vec<(u32, String)>,
    /// `-N`: node information queries instead of echo requests.
    pub nodeinfo: Option<crate::ping::nodeinfo::Query>,
}

/// The loop's state: iputils' `struct ping_rts`, for the part the loop uses.
pub struct Engine<I: Io> {
    io: I,
    o: Options,
    target: Target,
    family: Family,
    ident: u16,
    datagram: bool,
    is_root: bool,
    prog: String,
    interval: i64,
    timing: bool,
    multicast: bool,
    subnet_router_anycast: bool,
    ifnames: Vec<(u32, String)>,
    nodeinfo: Option<crate::ping::nodeinfo::Query>,
    /// The first failed write to stdout (iputils' `close_stdout`).
    write_error: bool,
    /// `-R`: the last record-route option printed (`(same route)`).
    old_rr: Vec<u8>,
    /// The last source address looked up, and its label (`_pr_addr`'s cache).
    last_from: Option<(SocketAddr, String)>,
    rtt_addend: i64,

    outpack: Vec<u8>,
    packet: Vec<u8>,
    control: Vec<u8>,
    errpacket: Vec<u8>,
    /// While set, local-origin records on the error queue are dropped
    /// unreported (the kernel's copy of a send error already named).
    mute_local: bool,
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
    /// Flood rounds since the last `ppoll` (see `run`).
    skipped_waits: u32,
    oom_count: i64,
    exit_at: Option<Instant>,
    deadline_at: Option<Instant>,
    exiting: bool,
}

impl<I: Io> Engine<I> {
    /// The loop for `p` over `io`, every buffer allocated (before the
    /// sandbox: the loop itself allocates only for unusually long lines).
    pub fn new(p: Prepared, mut io: I) -> Self {
        let o = p.o;
        let family = p.target.family;
        let mut outpack = vec![0u8; icmp::HEADER_LEN + o.datalen];
        icmp::fill_data(&mut outpack[icmp::HEADER_LEN..], o.pattern.as_deref());
        let packet_len = match family {
            Family::V4 => o.datalen + 60 + 76,
            Family::V6 => o.datalen + 8 + 4096 + 40 + 8,
        };
        let start = io.now();
        Engine {
            io,
            timing: o.datalen >= icmp::TIMEVAL_LEN && p.nodeinfo.is_none(),
            nodeinfo: p.nodeinfo,
            target: p.target,
            family,
            ident: p.ident,
            datagram: p.datagram,
            is_root: p.is_root,
            prog: p.prog,
            interval: p.interval,
            multicast: p.multicast,
            subnet_router_anycast: p.subnet_router_anycast,
            ifnames: p.ifnames,
            write_error: false,
            old_rr: Vec::with_capacity(40),
            last_from: None,
            rtt_addend: 0,
            outpack,
            packet: vec![0u8; packet_len],
            control: vec![0u8; 4096],
            errpacket: vec![0u8; 576],
            mute_local: false,
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
            start,
            cur_time: None,
            tokens: 0,
            send_wait: None,
            skipped_waits: 0,
            oom_count: 0,
            exit_at: None,
            deadline_at: None,
            exiting: false,
            o,
        }
    }

    /// `prog: msg` on stderr, one printable line.
    fn say(&mut self, msg: &str) {
        let line = format!("{}: {msg}", self.prog);
        self.io
            .stderr(format!("{}\n", text::printable(&line)).as_bytes());
    }

    /// Writes to stdout, remembering a failure for the end (iputils reports
    /// a failed stdout once, at exit, and exits 1).
    fn write_out(&mut self, bytes: &[u8]) {
        if self.io.stdout(bytes).is_err() {
            self.write_error = true;
        }
    }

    /// A flood character (`.`, `E`…): none under -j, whose output stays JSON.
    fn flood_mark(&mut self, bytes: &[u8]) {
        if !self.o.json {
            self.write_out(bytes);
        }
    }

    fn write_out_buf(&mut self) {
        let out = std::mem::take(&mut self.out);
        self.write_out(out.as_bytes());
        self.out = out;
    }

    /// The echo identifier (for `-v`).
    pub fn ident(&self) -> u16 {
        self.ident
    }

    /// Which replies are ours: on a datagram socket, all it delivers.
    fn ours(&self) -> icmp::Ident {
        if self.datagram {
            icmp::Ident::Datagram
        } else {
            icmp::Ident::Raw(self.ident)
        }
    }

    /// The identifier `-v` prints: on a datagram socket only one given
    /// with `-e` (the kernel chose it otherwise; iputils' `ident` is -1).
    fn shown_ident(&self) -> Option<u16> {
        let known = !self.datagram || self.o.ident.is_some();
        (self.o.verbose && known).then_some(self.ident)
    }

    fn emit(&mut self) {
        if !self.out.is_empty() {
            self.write_out_buf();
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
            self.say(msg);
        }
    }

    /// [`Self::report`] for a failed call: `{"error": ["what", "strerror"]}`.
    fn report_errno(&mut self, what: &str, e: &io::Error) {
        if self.o.json {
            self.emit_with(|_, out| json::error_errno(out, what, e));
        } else {
            self.say(&format!("{what}: {}", output::os_error_text(e)));
        }
    }

    fn timestamp(&mut self) -> Option<(i64, i64)> {
        if self.o.timestamps {
            Some(self.io.wall())
        } else {
            None
        }
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

    /// The numeric form of an address as getnameinfo(NI_NUMERICHOST)
    /// gives it: a scoped IPv6 address with its interface's name (from the
    /// table read before the sandbox), else the scope number.
    fn numeric(&self, a: &SocketAddr) -> String {
        match a {
            SocketAddr::V6(v6) if v6.scope_id() != 0 => {
                match self.ifnames.iter().find(|(i, _)| *i == v6.scope_id()) {
                    Some((_, name)) => format!("{}%{name}", v6.ip()),
                    None => format!("{}%{}", v6.ip(), v6.scope_id()),
                }
            }
            other => other.ip().to_string(),
        }
    }

    /// iputils' `pr_addr`: `name (address)`, or the address alone with -n
    /// (unless -H) or when there is no name; names come from the
    /// resolution done before the sandbox for the target, through
    /// [`Io::reverse`] for any other address. The last answer is kept, as
    /// upstream keeps it. Printable text whatever the name server said.
    fn display(&mut self, from: Option<SocketAddr>) -> String {
        let Some(a) = from else {
            return "?".to_string();
        };
        if let Some((last, label)) = &self.last_from {
            if *last == a {
                return label.clone();
            }
        }
        let address = self.numeric(&a);
        let name = if self.exiting || !self.o.lookups() {
            None
        } else if a.ip() == self.target.addr.ip() && self.target.reverse.is_some() {
            self.target.reverse.clone()
        } else {
            self.io.reverse(&a)
        };
        let label = crate::ping::resolve::label(name.as_deref(), &address);
        let label = text::printable(&label).into_owned();
        self.last_from = Some((a, label.clone()));
        label
    }

    /// Whether a write to stdout failed (the caller reports it at exit,
    /// as upstream's `close_stdout` does).
    pub fn write_failed(&self) -> bool {
        self.write_error
    }

    /// Runs until done; prints the summary and returns the exit status.
    pub fn run(&mut self) -> i32 {
        self.start = self.io.now();
        if self.o.deadline > 0 {
            self.deadline_at = Some(self.start + Duration::from_secs(self.o.deadline));
        }
        loop {
            if self.io.interrupted() {
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
            if self.io.status_requested() {
                let line =
                    output::status_line(self.ntransmitted, self.nreceived, self.rtt_figures());
                self.io.stderr(format!("\r{line}\n").as_bytes());
            }

            let next = loop {
                let now = self.io.now();
                let next = self.pinger(now);
                let next = self.schedule_exit(next, now);
                if next > 0 {
                    break next;
                }
            };

            // A flood reads what is already queued before it waits: on a
            // fast path (loopback answers inside the send) the reply is
            // there, and the round needs no `ppoll` at all. The signals are
            // unblocked only inside `ppoll`, so every FLOOD_ROUNDS_PER_WAIT
            // rounds one is made anyway: a SIGINT waits for at most that
            // many replies.
            if self.o.flood && self.in_flight() > 0 && self.skipped_waits < FLOOD_ROUNDS_PER_WAIT {
                self.drain(false);
                if self.in_flight() == 0 {
                    self.skipped_waits += 1;
                    continue;
                }
            }
            self.skipped_waits = 0;

            let now = self.io.now();
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
            match self.io.wait(wait) {
                Ok(ready) if ready.readable || ready.error => self.drain(ready.error),
                Ok(_) => {}
                Err(e) => {
                    self.report_errno("ppoll", &e);
                    self.exiting = true;
                }
            }
            let now = self.io.now();
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
        let stamp = if self.timing {
            Some(self.io.wall())
        } else {
            None
        };
        icmp::encode_echo(&mut self.outpack, self.family, self.ident, seq, stamp);
        let sent = self.io.send(&self.outpack, &self.target.addr);
        let err = match sent {
            Ok(n) if n == self.outpack.len() => {
                self.oom_count = 0;
                self.advance_ntransmitted();
                if !self.o.quiet && self.o.flood {
                    self.flood_mark(b".");
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
                self.rtt_addend += if self.rtt < 8 * 50_000 {
                    self.rtt / 8
                } else {
                    50_000
                };
                if self.o.adaptive {
                    self.update_interval();
                }
                let nores = schint(self.interval / 2).min(500);
                self.oom_count += 1;
                if (self.oom_count * nores) < (self.o.linger_us / 1000) as i64 {
                    return nores;
                }
            }
            Some(libc::EAGAIN) => {
                self.tokens += self.interval;
                return MININTERVAL;
            }
            _ => {}
        }
        // upstream (20240905) decides whether to name the errno by what
        // the send failed with: after ENOBUFS/ENOMEM (given up) always;
        // EMSGSIZE (over the path MTU under -M do) counts an error and is
        // named without reading the error queue; anything else reads the
        // error queue and names the errno only when an ICMP error about
        // our request was there (an empty queue or a local error: silent,
        // as `-r` to an off-link host's ENETUNREACH).
        let report = match err.raw_os_error() {
            Some(libc::ENOBUFS | libc::ENOMEM) => true,
            Some(libc::EMSGSIZE) => {
                self.nerrors += 1;
                // The kernel also queues this failure as a local error;
                // upstream never reads that copy (its blocking receive
                // ignores the error queue and the count is reached), so
                // it is dropped here rather than reported a second time.
                self.mute_local = true;
                self.drain_errqueue();
                self.mute_local = false;
                true
            }
            _ => {
                let (net, _, _) = self.drain_errqueue();
                net > 0
            }
        };
        // A hard local error: pretend we sent it, like iputils.
        self.advance_ntransmitted();
        if report && !self.o.quiet {
            if self.o.flood {
                self.flood_mark(b"E");
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
            self.o.linger_us as i64
        };
        if waittime_us == 0 {
            // -W 0 with nothing received: upstream arms no timer and
            // waits for a reply for ever (asking again on every pass).
            return next;
        }
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
                    if self.in_flight() == 0 || self.io.interrupted() {
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
                    self.acknowledge(seq);
                } else if !self.o.quiet && !self.o.flood && self.o.json {
                    let text = output::icmp4_text(icmp_type, code, info);
                    let ts = self.timestamp();
                    let from = self.display(from);
                    self.emit_with(|_, out| {
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
                    let from = self.display(from);
                    self.emit_with(|_, out| {
                        json::icmp_notice(out, None, &from, None, false, &text);
                    });
                } else {
                    let from = self.display(from);
                    let _ = writeln!(self.out, "From {from}: {text}");
                    self.emit();
                }
            }
            // Foreign, malformed or not ours: ignored, as iputils does.
            Err(_) => {}
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
        self.nreceived += 1;
        if checksum_ok {
            self.acknowledge(seq);
        }
        let mut triptime: i64 = 0;
        if self.timing && cc >= icmp::HEADER_LEN + icmp::TIMEVAL_LEN {
            let (sent_s, sent_u) = icmp::sent_timeval(icmp).unwrap_or((0, 0));
            let mut recv = recv;
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
                    triptime = 0;
                } else if sec < 0 {
                    self.report(&format!(
                        "Warning: time of day goes back ({sec} s), taking countermeasures"
                    ));
                    triptime = 0;
                    if !self.o.latency {
                        // From now on, time replies on arrival (as -U).
                        self.o.latency = true;
                        recv = self.io.wall();
                        continue;
                    }
                } else {
                    triptime = sec * 1_000_000 + usec;
                }
                break;
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
                if self.o.adaptive {
                    self.update_interval();
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
        // Under -j a flood writes no characters (they are not JSON): only
        // the JSON objects of errors and the summary.
        if self.o.flood && self.o.json {
            return;
        }
        if self.o.flood {
            self.write_out(if checksum_ok { b"\x08 \x08" } else { b"\x08C" });
            if self.o.audible {
                self.write_out(b"\x07");
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
        let sent = self.outpack.get(icmp::HEADER_LEN..).unwrap_or(&[]);
        let got = icmp.get(icmp::HEADER_LEN..).unwrap_or(&[]);
        if self.o.json {
            let wrong = if truncated {
                None
            } else {
                output::first_mismatch(sent, got, icmp::TIMEVAL_LEN)
            };
            let mut out = std::mem::take(&mut self.out);
            json::reply(&mut out, &r, wrong);
            self.out = out;
            self.emit();
            return;
        }
        let mut line = output::reply_line(&r);
        if !truncated {
            if let Some(report) = output::wrong_data(sent, got, icmp::TIMEVAL_LEN) {
                line.push_str(&report);
            }
        }
        self.out.push_str(&line);
        if self.o.audible {
            self.out.push('\x07');
        }
        if !options.is_empty() {
            let mut old_rr = std::mem::take(&mut self.old_rr);
            let text = output::ip_options(options, self.o.flood, &mut old_rr, &mut |a| {
                self.display(Some(SocketAddr::new(IpAddr::V4(a), 0)))
            });
            self.old_rr = old_rr;
            self.out.push_str(&text);
        }
        self.out.push('\n');
        self.emit();
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
        self.nreceived += 1;
        self.acknowledge(seq);
        let dup = if self.rcvd_test(seq) {
            self.nrepeats += 1;
            self.nreceived -= 1;
            true
        } else {
            self.rcvd_set(seq, true);
            false
        };
        if self.o.quiet {
            return;
        }
        if self.o.flood {
            self.flood_mark(b"\x08 \x08");
            return;
        }
        let ts = self.timestamp();
        let from = self.display(from);
        if self.o.json {
            let r = ReplyLine {
                timestamp: ts,
                bytes: packet.len(),
                from: &from,
                seq,
                ttl: hops,
                dup,
                ..ReplyLine::default()
            };
            let mut out = std::mem::take(&mut self.out);
            json::reply(&mut out, &r, None);
            self.out = out;
            self.emit();
            return;
        }
        if let Some((s, u)) = ts {
            self.out.push_str(&output::timestamp_prefix(s, u));
        }
        let text = text::printable(&crate::ping::nodeinfo::reply_text(packet, seq)).into_owned();
        let _ = write!(self.out, "{} bytes from {from}:{text}", packet.len());
        if let Some(ident) = self.shown_ident() {
            let _ = write!(self.out, " ident={ident}");
        }
        if let Some(h) = hops {
            let _ = write!(self.out, " ttl={h}");
        }
        if dup && (!self.multicast || self.o.verbose) {
            self.out.push_str(" (DUP!)");
        }
        if self.o.audible {
            self.out.push('\x07');
        }
        self.out.push('\n');
        self.emit();
    }

    /// upstream's `update_interval` (`-A`): the interval follows the
    /// smoothed round-trip time, never below 2 ms for users.
    fn update_interval(&mut self) {
        let est = if self.rtt != 0 {
            self.rtt / 8
        } else {
            self.interval * 1000
        };
        self.interval = (est + self.rtt_addend + 500) / 1000;
        if !self.is_root && self.interval < crate::ping::cli::MIN_USER_INTERVAL_MS {
            self.interval = crate::ping::cli::MIN_USER_INTERVAL_MS;
        }
    }

    /// Reads the socket's error queue dry (iputils' `receive_error_msg`):
    /// returns (ICMP errors about our requests, local errors, records read).
    fn drain_errqueue(&mut self) -> (u32, u32, u32) {
        let (mut net, mut local, mut records) = (0, 0, 0);
        let mut buf = std::mem::take(&mut self.errpacket);
        let mut control = std::mem::take(&mut self.control);
        while let Ok(r) = self.io.recv(&mut buf, &mut control, true) {
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
                if self.mute_local {
                    continue;
                }
                local += 1;
                if self.o.quiet {
                    continue;
                }
                if self.o.flood {
                    self.flood_mark(b"E");
                } else if e.errno != libc::EMSGSIZE as u32 {
                    // iputils: error(), not ping_error(): stderr even under -j.
                    let err = io::Error::from_raw_os_error(e.errno as i32);
                    self.say(&format!("local error: {}", output::os_error_text(&err)));
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
                    && (self.datagram || u16::from_be_bytes([echo[4], echo[5]]) == self.ident);
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
                    self.flood_mark(b"\x08E");
                    continue;
                }
                let text = match self.family {
                    Family::V4 => output::icmp4_text(e.icmp_type, e.code, e.info),
                    Family::V6 => output::icmp6_text(e.icmp_type, e.code, e.info),
                };
                // Named like a reply's source (upstream's pr_addr), through
                // the resolver co-process when it is not the target.
                let from = e
                    .offender
                    .map(|ip| self.display(Some(SocketAddr::new(ip, 0))));
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
            ipg: self.interval == 0 || self.o.flood || self.o.adaptive,
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
mod tests;
