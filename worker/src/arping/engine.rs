//! arping's loop, after lock-down: the [`Session`] that
//! [`crate::arping::prepare`] decided before it, and [`Session::run`], iputils' event loop (a probe at once,
//! one every `-i` seconds until `-c`, the `-w` deadline, a signal, or the
//! reply that ends it), over the small [`ArpIo`] trait so that the loop is
//! unit-tested against a scripted network and clock. The real
//! implementation, [`SocketIo`], makes only the calls arping's seccomp
//! profile lists: `sendto` and `recvmsg` on the broker channel (the worker
//! holds no packet socket: [`Channel`]), `ppoll`, `write` to fds 1 and 2,
//! `clock_gettime`.

#![forbid(unsafe_code)]

use std::io;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use crate::arping::arp::{self, Answer, Expect, LinkAddr};
use crate::arping::channel::Channel;
use crate::arping::cli::Options;
use crate::arping::output::{self, Counts};
use crate::sys;
use crate::text::os_error_text;

/// Everything the loop needs, decided before the sandbox.
#[derive(Debug, Clone)]
pub struct Session {
    pub opts: Options,
    /// The target (`gdst`) and our source address (`gsrc`).
    pub target: Ipv4Addr,
    pub source: Ipv4Addr,
    pub device: String,
    /// The program name for messages.
    pub prog: String,
    /// Our link-layer address (the bound socket's) and where probes go.
    pub me: LinkAddr,
    pub he: LinkAddr,
}

/// What the loop needs from the world: a clock, the socket, the terminal.
pub trait ArpIo {
    /// Monotonic time since an arbitrary origin.
    fn now(&mut self) -> Duration;
    /// Sends one frame to `to`; the bytes sent.
    fn send(&mut self, frame: &[u8], to: &LinkAddr) -> io::Result<usize>;
    /// Waits until the socket is readable (true) or `until` passes or a
    /// signal arrives (false). `None`: no deadline.
    fn wait(&mut self, until: Option<Duration>) -> io::Result<bool>;
    /// One frame and its sender (`None` for the sender when the kernel gave
    /// no link-layer address).
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<(usize, Option<LinkAddr>)>;
    /// Whether SIGINT, SIGTERM or SIGQUIT arrived.
    fn interrupted(&mut self) -> bool;
    fn stdout(&mut self, s: &str);
    fn stderr(&mut self, s: &str);
}

/// What one received frame did to the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    Ignored,
    Counted,
    Final,
}

/// The loop's state (iputils' `run_state` counters).
struct Run<'a> {
    s: &'a Session,
    he: LinkAddr,
    counts: Counts,
    last: Option<Duration>,
    unicasting: bool,
}

impl Run<'_> {
    fn send(&mut self, io: &mut dyn ArpIo) {
        let frame = arp::probe(
            &self.s.me,
            &self.he,
            self.s.source,
            self.s.target,
            self.s.opts.advert,
        );
        let now = io.now();
        if let Ok(n) = io.send(&frame, &self.he) {
            if n == frame.len() {
                self.last = Some(now);
                self.counts.sent += 1;
                if !self.unicasting {
                    self.counts.brd_sent += 1;
                }
            }
        }
    }

    fn received(&mut self, frame: &[u8], from: &LinkAddr, io: &mut dyn ArpIo) -> Seen {
        let o = &self.s.opts;
        let want = Expect {
            me: &self.s.me,
            target: self.s.target,
            source: self.s.source,
            dad: o.dad,
        };
        let Some(a): Option<Answer> = arp::judge(frame, from, &want) else {
            return Seen::Ignored;
        };
        if !o.quiet {
            let now = io.now();
            let since = self.last.map(|l| now.saturating_sub(l));
            io.stdout(&output::answer(&a, self.s.source, self.s.me.hw(), since));
        }
        self.counts.received += 1;
        if o.timeout > 0 && self.counts.received as i64 == o.count {
            return Seen::Final;
        }
        if !a.unicast {
            self.counts.brd_recv += 1;
        }
        if !a.reply {
            self.counts.req_recv += 1;
        }
        if o.quit_on_reply || (o.count == 0 && self.counts.received == self.counts.sent) {
            return Seen::Final;
        }
        if !o.broadcast_only {
            self.he.set_hw(&a.src_hw);
            self.unicasting = true;
        }
        Seen::Counted
    }
}

impl Session {
    /// iputils' `event_loop` and `finish`: the exit status (upstream's
    /// rules: `-D` 1 when a duplicate answered and 0 when none did; `-U`/`-A`
    /// 0; `-w` with `-c` 0 once `-c` answers came; otherwise 0 when
    /// anything answered; 2 when the interface went down).
    pub fn run(&self, io: &mut dyn ArpIo) -> i32 {
        let o = &self.opts;
        let mut r = Run {
            s: self,
            he: self.he,
            counts: Counts::default(),
            last: None,
            unicasting: false,
        };
        let start = io.now();
        let interval = Duration::from_secs(u64::from(o.interval));
        // timerfd semantics: a zero interval or timeout disarms the timer.
        let mut next_tick = (o.interval > 0).then(|| start + interval);
        let deadline = (o.timeout > 0).then(|| start + Duration::from_secs(u64::from(o.timeout)));
        let mut total_expires: u64 = 1;
        let mut buf = [0u8; 4096];
        r.send(io);
        loop {
            if o.unsolicited && r.counts.sent as i64 == o.count {
                break;
            }
            let until = match (next_tick, deadline) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let readable = match io.wait(until) {
                Ok(r) => r,
                Err(e) => {
                    io.stderr(&format!(
                        "{}: poll failed: {}\n",
                        self.prog,
                        os_error_text(&e)
                    ));
                    break;
                }
            };
            if io.interrupted() {
                break;
            }
            let now = io.now();
            let mut exit = false;
            // The timers, then the socket, in iputils' poll order.
            if let Some(tick) = next_tick {
                if now >= tick {
                    let exp = 1 + ((now - tick).as_nanos() / interval.as_nanos()) as u64;
                    total_expires += exp;
                    next_tick = Some(tick + interval * exp as u32);
                    if o.count > 0 && (o.count as u64) < total_expires {
                        exit = true;
                    } else {
                        r.send(io);
                    }
                }
            }
            if deadline.is_some_and(|d| now >= d) {
                exit = true;
            }
            if readable {
                match io.recv(&mut buf) {
                    Ok((n, from)) => {
                        if let Some(from) = from {
                            let frame = buf.get(..n).unwrap_or(&buf);
                            if r.received(frame, &from, io) == Seen::Final {
                                exit = true;
                            }
                        }
                    }
                    Err(e) => {
                        io.stderr(&format!("{}: recvfrom: {}\n", self.prog, os_error_text(&e)));
                        if e.raw_os_error() == Some(libc::ENETDOWN) {
                            return 2;
                        }
                    }
                }
            }
            if exit {
                break;
            }
        }
        finish(o, &r.counts, io)
    }
}

fn finish(o: &Options, c: &Counts, io: &mut dyn ArpIo) -> i32 {
    if !o.quiet {
        io.stdout(&output::summary(c));
    }
    if o.dad {
        return i32::from(c.received > 0);
    }
    if o.unsolicited {
        return 0;
    }
    if o.timeout > 0 && o.count > 0 && !o.quit_on_reply {
        return i32::from((o.count as u64) > c.received);
    }
    i32::from(c.received == 0)
}

/// The real [`ArpIo`]: the broker channel, the signal mask installed
/// before lock-down, fds 1 and 2.
pub struct SocketIo {
    channel: Channel,
    mask: sys::WaitMask,
    origin: Instant,
}

impl SocketIo {
    /// Installs the signal handlers (before lock-down: `rt_sigaction` is
    /// not in the profile).
    pub fn new(channel: Channel) -> io::Result<Self> {
        Ok(SocketIo {
            channel,
            mask: sys::install_arping_handlers()?,
            origin: Instant::now(),
        })
    }
}

impl ArpIo for SocketIo {
    fn now(&mut self) -> Duration {
        self.origin.elapsed()
    }

    fn send(&mut self, frame: &[u8], to: &LinkAddr) -> io::Result<usize> {
        self.channel.send_frame(frame, to)
    }

    fn wait(&mut self, until: Option<Duration>) -> io::Result<bool> {
        // Frames that came while a send waited for its answer first; a
        // broker that has gone ends the loop (poll failed).
        if self.channel.has_pending() {
            return Ok(true);
        }
        if self.channel.closed() {
            return Err(io::Error::from_raw_os_error(libc::ECONNRESET));
        }
        let timeout = match until {
            Some(u) => u.saturating_sub(self.now()),
            None => Duration::from_secs(86_400),
        };
        Ok(sys::ppoll(self.channel.fd(), timeout, &self.mask)?.readable)
    }

    fn recv(&mut self, buf: &mut [u8]) -> io::Result<(usize, Option<LinkAddr>)> {
        self.channel.recv_frame(buf)
    }

    fn interrupted(&mut self) -> bool {
        // SIGQUIT and SIGTERM end arping too (iputils treats the three
        // alike).
        sys::take_status_request() | sys::interrupted()
    }

    fn stdout(&mut self, s: &str) {
        let _ = sys::write_all(1, s.as_bytes());
    }

    fn stderr(&mut self, s: &str) {
        let _ = sys::write_all(2, s.as_bytes());
    }
}

#[cfg(test)]
mod tests;
