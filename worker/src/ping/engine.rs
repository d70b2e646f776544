//! The ping loop that runs under seccomp: iputils' `main_loop` — the
//! token-bucket `pinger`, `schedule_exit`, receiving replies and
//! error-queue records, `gather_statistics`, the final summary — over a
//! small I/O trait, [`Io`], so that the whole loop is unit-tested with a
//! scripted double (`engine/tests.rs`) the way the launcher's sequence is
//! tested with a recording one.
//!
//! This file is the loop itself (`run`, the sending half of `pinger`,
//! `finish`) and the state it shares; the rest is split by
//! responsibility: `stats` (iputils' counters, the acknowledgement window,
//! duplicates, round-trip figures), `schedule` (the token bucket,
//! back-off, `-A`, the exit timers), `receive` and `errqueue` (reading
//! the socket and its error queue), and [`sink`] (every printed event, as
//! text or JSON, behind one trait).
//!
//! Everything that needs more than the sandbox allows (socket options,
//! filters, name resolution, buffers, signal handlers) is done before, by
//! [`crate::ping::setup`], which hands over a [`Prepared`] value. The
//! system calls the loop may make are the ones [`Io`]'s real
//! implementation makes; the reviewed list is ping's sandbox profile
//! (`policy::sandbox::profile`), checked against the recorded footprint
//! in `policy/footprints/ping.syscalls`.

#![forbid(unsafe_code)]

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::ping::cli::Options;
use crate::ping::icmp::{self, Family};
use crate::ping::output;
use crate::ping::resolve::Target;
use crate::sys::{Ready, Received};
use crate::text;

mod errqueue;
mod receive;
mod schedule;
pub mod sink;
mod stats;

use schedule::{Schedule, FLOOD_ROUNDS_PER_WAIT};
use sink::{Format, Lines, Sink};
use stats::{Stats, MAX_DUP_CHK};

/// The most flood-mark bytes held back before they are written anyway
/// (see [`Engine::flood_mark`]; a `-l` preload sends many at once).
const MARKS_HELD: usize = 4096;

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

/// The loop's state: iputils' `struct ping_rts`, for the part the loop
/// uses, grouped by responsibility: `Stats` counts, `Schedule` times,
/// a [`Format`] sink prints; receiving is in `receive` and `errqueue`.
pub struct Engine<I: Io> {
    io: I,
    o: Options,
    target: Target,
    family: Family,
    ident: u16,
    datagram: bool,
    is_root: bool,
    prog: String,
    /// The data carries a send timestamp (round-trip times are known).
    timing: bool,
    multicast: bool,
    subnet_router_anycast: bool,
    ifnames: Vec<(u32, String)>,
    nodeinfo: Option<crate::ping::nodeinfo::Query>,
    stats: Stats,
    sched: Schedule,
    sink: Format,
    /// What the last event printed, written out by [`Self::flush`]; in a
    /// flood also the marks not yet written ([`Self::flood_mark`]).
    lines: Lines,
    /// The first failed write to stdout (iputils' `close_stdout`).
    write_error: bool,
    /// `-R`: the last record-route option printed (`(same route)`).
    old_rr: Vec<u8>,
    /// The last source address looked up, and its label (`_pr_addr`'s cache).
    last_from: Option<(SocketAddr, String)>,

    outpack: Vec<u8>,
    packet: Vec<u8>,
    control: Vec<u8>,
    errpacket: Vec<u8>,
    /// While set, local-origin records on the error queue are dropped
    /// unreported (the kernel's copy of a send error already named).
    mute_local: bool,
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
            sink: Format::new(o.json, p.prog.clone()),
            prog: p.prog,
            multicast: p.multicast,
            subnet_router_anycast: p.subnet_router_anycast,
            ifnames: p.ifnames,
            stats: Stats::new(),
            sched: Schedule::new(p.interval, start),
            lines: Lines {
                out: String::with_capacity(4096 + 4 * o.datalen),
                err: String::with_capacity(256),
            },
            write_error: false,
            old_rr: Vec::with_capacity(40),
            last_from: None,
            outpack,
            packet: vec![0u8; packet_len],
            control: vec![0u8; 4096],
            errpacket: vec![0u8; 576],
            mute_local: false,
            exiting: false,
            o,
        }
    }

    /// `prog: msg` on stderr, one printable line, whatever the format
    /// (upstream's `error()`).
    fn say(&mut self, msg: &str) {
        self.flush();
        self.io
            .stderr(sink::stderr_line(&self.prog, msg).as_bytes());
    }

    /// Writes out what the last event printed, remembering a failed stdout
    /// for the end (iputils reports a failed stdout once, at exit, and
    /// exits 1). stdout first: an event prints to one stream only, and
    /// what stdout may hold besides is flood marks printed before it.
    fn flush(&mut self) {
        if !self.lines.out.is_empty() {
            if self.io.stdout(self.lines.out.as_bytes()).is_err() {
                self.write_error = true;
            }
            self.lines.out.clear();
        }
        if !self.lines.err.is_empty() {
            self.io.stderr(self.lines.err.as_bytes());
            self.lines.err.clear();
        }
    }

    /// A flood character (`.`, `E`…): none under -j, whose output stays JSON.
    /// Kept with the marks before it until the loop is about to wait, the
    /// next line is printed, or [`MARKS_HELD`] bytes are held: the same
    /// bytes in the same order as iputils' one `write` per mark, in one
    /// `write` per wait (on loopback up to [`FLOOD_ROUNDS_PER_WAIT`] rounds
    /// of `.` and `\b \b`, a fraction of a millisecond) instead of two
    /// per packet — two of the four system calls of each flood round.
    fn flood_mark(&mut self, mark: &str) {
        self.sink.flood_mark(&mut self.lines, mark);
        if self.lines.out.len() >= MARKS_HELD {
            self.flush();
        }
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

    /// A message upstream iputils reports through `ping_error()`: a JSON
    /// error object on stdout under `-j`, else `prog: msg` on stderr.
    fn report(&mut self, msg: &str) {
        self.sink.report(&mut self.lines, msg);
        self.flush();
    }

    /// [`Self::report`] for a failed call: `{"error": ["what", "strerror"]}`.
    fn report_errno(&mut self, what: &str, e: &io::Error) {
        self.sink.report_errno(&mut self.lines, what, e);
        self.flush();
    }

    fn timestamp(&mut self) -> Option<(i64, i64)> {
        if self.o.timestamps {
            Some(self.io.wall())
        } else {
            None
        }
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

    /// Whether the count is sent (`-c` without `-w`): no more requests.
    fn sent_all(&self) -> bool {
        let count = self.o.count;
        count > 0 && self.stats.ntransmitted >= count && self.o.deadline == 0
    }

    /// Runs until done; prints the summary and returns the exit status.
    pub fn run(&mut self) -> i32 {
        let now = self.io.now();
        self.sched.start(now, self.o.deadline);
        loop {
            if self.io.interrupted() {
                self.exiting = true;
            }
            if self.exiting {
                break;
            }
            if self.o.count > 0 && self.stats.nreceived + self.stats.nerrors >= self.o.count {
                break;
            }
            if self.o.deadline > 0 && self.stats.nerrors > 0 {
                break;
            }
            if self.io.status_requested() {
                let line = output::status_line(
                    self.stats.ntransmitted,
                    self.stats.nreceived,
                    self.stats.rtt_figures(self.timing),
                );
                self.flush();
                self.io.stderr(format!("\r{line}\n").as_bytes());
            }

            let next = loop {
                let now = self.io.now();
                let next = self.pinger(now);
                let next = self.sched.schedule_exit(
                    next,
                    now,
                    self.sent_all(),
                    self.stats.nreceived > 0,
                    self.stats.tmax,
                    self.o.linger_us,
                );
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
            if self.o.flood
                && self.stats.in_flight() > 0
                && self.sched.skipped_waits < FLOOD_ROUNDS_PER_WAIT
            {
                self.drain(false);
                if self.stats.in_flight() == 0 {
                    self.sched.skipped_waits += 1;
                    continue;
                }
            }
            self.sched.skipped_waits = 0;

            // The flood marks held so far are shown before any wait.
            self.flush();
            let now = self.io.now();
            let wait = self.sched.wait(next, now);
            match self.io.wait(wait) {
                Ok(ready) if ready.readable || ready.error => self.drain(ready.error),
                Ok(_) => {}
                Err(e) => {
                    self.report_errno("ppoll", &e);
                    self.exiting = true;
                }
            }
            let now = self.io.now();
            if self.sched.expired(now) {
                self.exiting = true;
            }
        }
        self.finish()
    }

    /// iputils' `pinger`: sends if the token bucket allows, returns the
    /// milliseconds until it may send again.
    fn pinger(&mut self, now: Instant) -> i64 {
        if self.exiting || self.sent_all() {
            return 1000;
        }
        let preload = i64::from(self.o.preload);
        if let Some(wait) = self.sched.take_token(now, preload, self.stats.in_flight()) {
            return wait;
        }

        let ntransmitted = self.stats.ntransmitted;
        if self.o.outstanding && ntransmitted > 0 && !self.stats.rcvd_test(ntransmitted as u16) {
            let seq = ntransmitted % MAX_DUP_CHK as u64;
            let ts = self.timestamp();
            self.sink.no_answer(&mut self.lines, ts, seq);
            self.flush();
        }

        let seq = (ntransmitted + 1) as u16;
        self.stats.rcvd_set(seq, false);
        let stamp = if self.timing {
            Some(self.io.wall())
        } else {
            None
        };
        icmp::encode_echo(&mut self.outpack, self.family, self.ident, seq, stamp);
        let sent = self.io.send(&self.outpack, &self.target.addr);
        let err = match sent {
            Ok(n) if n == self.outpack.len() => {
                let next = self.sched.sent();
                self.stats.advance_ntransmitted();
                if !self.o.quiet && self.o.flood {
                    self.flood_mark(".");
                }
                return next;
            }
            Ok(_) => io::Error::from_raw_os_error(libc::EMSGSIZE),
            Err(e) => e,
        };
        match err.raw_os_error() {
            Some(libc::ENOBUFS | libc::ENOMEM) => {
                let retry = self.sched.no_buffers(
                    self.stats.rtt,
                    self.o.adaptive,
                    self.is_root,
                    self.o.linger_us,
                );
                if let Some(wait) = retry {
                    return wait;
                }
            }
            Some(libc::EAGAIN) => return self.sched.busy(),
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
                self.stats.nerrors += 1;
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
        self.stats.advance_ntransmitted();
        if report && !self.o.quiet {
            if self.o.flood {
                self.flood_mark("E");
            } else {
                self.report_errno("sendmsg", &err);
            }
        }
        self.sched.failed()
    }

    /// iputils' `finish`: the statistics block and the exit status.
    fn finish(&mut self) -> i32 {
        let ipg = self.sched.interval == 0 || self.o.flood || self.o.adaptive;
        let summary = self.stats.summary(
            &self.target.hostname,
            self.sched.elapsed(),
            self.timing,
            ipg,
        );
        self.sink.summary(&mut self.lines, &summary);
        self.flush();
        self.stats.exit_status(&self.o)
    }
}

#[cfg(test)]
mod tests;
