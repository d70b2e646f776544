//! The measurement, iputils' `measure()` and `measure_inner_loop()` step by
//! step over a small I/O trait ([`Link`]), so that the whole algorithm —
//! the running round-trip estimate, the wrap-around at midnight, the
//! "down" and "non-standard format" verdicts, what is ignored — is unit
//! tested without a socket. It runs after lock-down: the real link only
//! sends, waits and receives on the handed-over socket and reads the clock.
//!
//! Differences from iputils 20221126, on hostile or broken input only: a
//! reply shorter than our request is ignored (iputils reads stale buffer
//! bytes for ICMP timestamps, and with `-o` takes a reply cut after the
//! ICMP header as one more answer); with `-o` only replies that carry the
//! timestamp option count; and "wrong timestamps" means "one of the four is zero" (iputils
//! ANDs them bitwise, which also refuses good timestamps whose bits happen
//! not to overlap); the wait for a request's reply has upstream's 1 ms
//! floor (20221126 has none: against a peer slower than the kernel it gave
//! up before the reply came and called the host down), while the wait that
//! follows an answer, which only looks for a better one, is the bare
//! estimate as in 20221126 (the floor's reason, an unanswered request, is
//! gone: over loopback it was 1 ms of idling in every run whose late
//! answer crossed a millisecond).
//!
//! One departure on any input: every wait is bounded. iputils waits for
//! the round-trip estimate, which a reply sets: one reply with originate
//! 0 (or a timestamp option from far away) makes it about the time of
//! day, and iputils then sleeps in `poll` for hours; a peer that keeps
//! sending replies it ignores keeps it waiting for ever. Here one wait
//! lasts at most [`MAX_WAIT`] (the estimate's starting value) and the
//! whole measurement at most [`TOTAL`], clockdiff's own total time.

#![forbid(unsafe_code)]

use std::io;
use std::net::Ipv4Addr;
use std::time::Duration;

use super::cli::Method;
use super::packet::{self, Body, IPOPT_TS_PRESPEC, PACKET_IN};

/// iputils' constants.
pub const RANGE: i64 = 1;
pub const MSGS: u32 = 50;
pub const TRIALS: i32 = 10;
pub const HOSTDOWN: i64 = 0x7fff_ffff;
const BIASP: i64 = 43_199_999;
const BIASN: i64 = -43_200_000;
const MODULO: i64 = 86_400_000;

/// The longest any one wait lasts: iputils' starting estimate of the
/// round trip. Only a peer whose replies claim longer round trips (or a
/// path too slow to compare clocks over) reaches it.
pub const MAX_WAIT: Duration = Duration::from_millis(1000);

/// clockdiff's own total time: the longest a measurement takes against an
/// honest peer whose round trip stays under [`MAX_WAIT`] — each of the
/// [`MSGS`] answers costs at most two waits (its own, then one for a
/// better one), and [`TRIALS`] + 1 unanswered requests more end it as
/// "down". No reply, however odd, holds the measurement past it: then it
/// ends with what it has (down if it has nothing).
pub const TOTAL: Duration = MAX_WAIT.saturating_mul(2 * MSGS + TRIALS as u32 + 1);

/// What the measurement needs from the world.
pub trait Link {
    /// Sends one request to the peer.
    fn send(&mut self, packet: &[u8]) -> io::Result<()>;
    /// Waits up to `timeout` for a datagram; `Ok(false)` on timeout.
    fn wait(&mut self, timeout: Duration) -> io::Result<bool>;
    /// Receives one datagram: its length in `buf` and its source.
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<(usize, Option<Ipv4Addr>)>;
    /// `CLOCK_REALTIME`, since the epoch.
    fn now(&mut self) -> Duration;
    /// `CLOCK_MONOTONIC`, since an arbitrary origin: the deadlines.
    fn monotonic(&mut self) -> Duration;
    /// The interactive progress dot.
    fn dot(&mut self);
    /// A diagnostic line (without the program name, as iputils prints it).
    fn note(&mut self, line: &str);
}

/// The results iputils prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measurement {
    pub rtt: i64,
    pub rtt_sigma: i64,
    pub min_rtt: i64,
    pub delta: i64,
    pub delta1: i64,
}

/// How a measurement ended.
#[derive(Debug)]
pub enum Outcome {
    Good(Measurement),
    /// More than `TRIALS` requests unanswered: `… is down`.
    HostDown,
    /// A time with the high bit set: `… time transmitted in a non-standard format`.
    NonStandard,
    /// Sending failed: `… is unreachable`.
    Unreachable,
    /// `measure: <error>` (or `measure: unknown failure` without one).
    Failed(Option<io::Error>),
}

/// The state iputils keeps in `run_state` and `measure_vars`.
struct State {
    id: u16,
    peer: Ipv4Addr,
    opt_len: usize,
    rtt: i64,
    rtt_sigma: i64,
    min_rtt: i64,
    delta1_best: i64,
    seqno: u16,
    acked: u16,
    msgcount: u32,
    min1: i64,
    min2: i64,
    /// Whether the last request sent has its answer counted.
    answered: bool,
    interactive: bool,
    /// When [`TOTAL`] has passed (monotonic).
    deadline: Duration,
}

enum Step {
    Break,
    Continue,
    End(Outcome),
}

fn wrap(d: i64) -> i64 {
    if d < BIASN {
        d + MODULO
    } else if d > BIASP {
        d - MODULO
    } else {
        d
    }
}

/// Runs one measurement against `peer` with identifier `id`. `interactive`
/// prints a dot per accepted reply.
pub fn measure(
    link: &mut impl Link,
    method: Method,
    peer: Ipv4Addr,
    id: u16,
    interactive: bool,
) -> Outcome {
    let mut s = State {
        id,
        peer,
        opt_len: method.opt_len(),
        rtt: 1000,
        rtt_sigma: 0,
        min_rtt: HOSTDOWN,
        delta1_best: HOSTDOWN,
        seqno: 0,
        acked: 0,
        msgcount: 0,
        min1: HOSTDOWN,
        min2: HOSTDOWN,
        answered: false,
        interactive,
        deadline: link.monotonic().saturating_add(TOTAL),
    };
    let mut buf = [0u8; PACKET_IN];

    // Empty the input queue first (iputils polls with a zero timeout);
    // a flood that never lets it empty ends at the deadline too.
    while let Ok(true) = link.wait(Duration::ZERO) {
        if let Err(e) = link.recv(&mut buf) {
            return Outcome::Failed(Some(e));
        }
        if link.monotonic() >= s.deadline {
            return out_of_time(&s);
        }
    }

    while s.msgcount < MSGS {
        if link.monotonic() >= s.deadline {
            return out_of_time(&s);
        }
        // No answer to TRIALS requests in a row: the host is down.
        if i32::from(s.seqno) - i32::from(s.acked) > TRIALS {
            return Outcome::HostDown;
        }
        s.seqno = s.seqno.wrapping_add(1);
        s.answered = false;
        let request = packet::request(s.opt_len != 0, s.id, s.seqno, packet::ms_of_day(link.now()));
        if link.send(&request).is_err() {
            return Outcome::Unreachable;
        }
        loop {
            match inner(&mut s, link, &mut buf) {
                Step::Break => break,
                Step::Continue => {}
                Step::End(o) => return o,
            }
        }
    }
    Outcome::Good(measured(&s))
}

fn measured(s: &State) -> Measurement {
    Measurement {
        rtt: s.rtt,
        rtt_sigma: s.rtt_sigma,
        min_rtt: s.min_rtt,
        delta: (s.min1 - s.min2) / 2,
        delta1: s.delta1_best,
    }
}

/// [`TOTAL`] has passed: what was measured so far, or "down" if nothing.
fn out_of_time(s: &State) -> Outcome {
    if s.msgcount == 0 {
        Outcome::HostDown
    } else {
        Outcome::Good(measured(s))
    }
}

/// iputils' `measure_inner_loop`: wait for one datagram and account for it.
fn inner(s: &mut State, link: &mut impl Link, buf: &mut [u8]) -> Step {
    let left = s.deadline.saturating_sub(link.monotonic());
    if left.is_zero() {
        return Step::End(out_of_time(s));
    }
    // Upstream's floor while the request waits for its reply; once it has
    // one, the estimate alone (zero when the replies came in the same
    // millisecond: then only what is already queued).
    let floor = if s.answered { 0 } else { 1 };
    let tmo = (s.rtt + s.rtt_sigma).max(floor);
    let tmo = Duration::from_millis(tmo as u64).min(MAX_WAIT).min(left);
    match link.wait(tmo) {
        Ok(true) => {}
        Ok(false) | Err(_) => return Step::Break,
    }
    let arrived = link.now();
    let (len, from) = match link.recv(buf) {
        Ok(r) => r,
        Err(e) => return Step::End(Outcome::Failed(Some(e))),
    };
    // The socket is connected to the peer; anything else is not ours. A
    // socket connected to 0.0.0.0 (which the kernel sends over loopback)
    // filters nothing, and iputils then takes the replies of 127.0.0.1.
    if from.is_some_and(|a| !s.peer.is_unspecified() && a != s.peer) {
        return Step::Continue;
    }
    let Some(reply) = packet::parse(&buf[..len.min(buf.len())], s.id, s.opt_len != 0) else {
        return Step::Continue;
    };
    // Sequence numbers sent in this measurement only (seqno0 is 0).
    if reply.seq > s.seqno {
        return Step::Continue;
    }
    if s.acked < reply.seq {
        s.acked = reply.seq;
    }
    let (sendtime, histime, histime1, recvtime) = match reply.body {
        Body::IpOption {
            flags,
            stamps,
            count,
        } => {
            if flags & 0x0f != IPOPT_TS_PRESPEC {
                link.note(&format!("Wrong timestamp {}", flags & 0x0f));
                return Step::End(Outcome::NonStandard);
            }
            let overflow = flags >> 4;
            if overflow != 0 && (overflow != 1 || s.opt_len != super::cli::OPT_LEN_THREE) {
                link.note(&format!("Overflow {overflow} hops"));
            }
            let (mut send, mut his, mut his1, mut recv) = (0i64, 0i64, 0i64, 0i64);
            for (i, &t) in stamps.iter().enumerate().take(count) {
                if t & 0x8000_0000 != 0 {
                    return Step::End(Outcome::NonStandard);
                }
                let t = i64::from(t);
                match i {
                    0 => send = t,
                    1 => {
                        his = t;
                        his1 = t;
                    }
                    2 if s.opt_len == super::cli::OPT_LEN_FOUR => his1 = t,
                    2 => recv = t,
                    _ => recv = t,
                }
            }
            if send == 0 || his == 0 || his1 == 0 || recv == 0 {
                link.note("wrong timestamps");
                return Step::End(Outcome::Failed(None));
            }
            (send, his, his1, recv)
        }
        Body::Timestamps { originate, receive } => {
            let recv = i64::from(packet::ms_of_day(arrived));
            (
                i64::from(originate),
                i64::from(receive),
                i64::from(receive),
                recv,
            )
        }
    };
    let diff = recvtime - sendtime;
    // Negative around midnight.
    if diff < 0 {
        return Step::Continue;
    }
    s.rtt = (s.rtt * 3 + diff) / 4;
    s.rtt_sigma = (s.rtt_sigma * 3 + (diff - s.rtt).abs()) / 4;
    s.msgcount += 1;
    if reply.seq == s.seqno {
        s.answered = true;
    }
    // RFC 792: a host that does not count milliseconds since midnight UT
    // sets the high bit.
    if s.opt_len == 0 && histime & 0x8000_0000 != 0 {
        return Step::End(Outcome::NonStandard);
    }
    if s.interactive {
        link.dot();
    }
    // The clocks must be within 12 hours of each other.
    let delta1 = wrap(histime - sendtime);
    let delta2 = wrap(recvtime - histime1);
    s.min1 = s.min1.min(delta1);
    s.min2 = s.min2.min(delta2);
    if delta1 + delta2 < s.min_rtt {
        s.min_rtt = delta1 + delta2;
        s.delta1_best = (delta1 - delta2) / 2;
    }
    if diff < RANGE {
        s.min1 = delta1;
        s.min2 = delta2;
        return Step::Break;
    }
    Step::Continue
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clockdiff::packet::{ICMP_ECHOREPLY, ICMP_TIMESTAMPREPLY, IPOPT_TIMESTAMP};
    use std::collections::VecDeque;

    const PEER: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
    const ID: u16 = 0x4242;

    /// A scripted peer: for each request, the datagrams it answers with
    /// (built from the request and the current clock).
    type Responder = Box<dyn FnMut(&[u8], u32) -> Vec<(Vec<u8>, Ipv4Addr)>>;

    struct Fake {
        clock: Duration,
        queue: VecDeque<(Vec<u8>, Ipv4Addr)>,
        respond: Responder,
        sent: Vec<Vec<u8>>,
        dots: usize,
        notes: Vec<String>,
        send_error: bool,
        /// Milliseconds each wait that times out costs.
        waited: Vec<Duration>,
        /// The monotonic clock: advanced by every wait that times out, and
        /// by `arrival` for every datagram.
        mono: Duration,
        arrival: Duration,
        /// Whether `respond` is asked again at every wait that finds the
        /// queue empty (a peer that sends on its own), not only per request.
        unprompted: bool,
    }

    impl Fake {
        fn new(respond: Responder) -> Fake {
            Fake {
                clock: Duration::new(1_700_000_000, 0),
                queue: VecDeque::new(),
                respond,
                sent: Vec::new(),
                dots: 0,
                notes: Vec::new(),
                send_error: false,
                waited: Vec::new(),
                mono: Duration::from_secs(5),
                arrival: Duration::ZERO,
                unprompted: false,
            }
        }
    }

    impl Link for Fake {
        fn send(&mut self, p: &[u8]) -> io::Result<()> {
            if self.send_error {
                return Err(io::Error::from_raw_os_error(libc::ENETUNREACH));
            }
            self.sent.push(p.to_vec());
            let now = packet::ms_of_day(self.clock);
            let answers = (self.respond)(p, now);
            self.queue.extend(answers);
            Ok(())
        }
        fn wait(&mut self, t: Duration) -> io::Result<bool> {
            if self.queue.is_empty() && self.unprompted && !t.is_zero() {
                let last = self.sent.last().cloned().unwrap_or_default();
                let now = packet::ms_of_day(self.clock);
                let answers = (self.respond)(&last, now);
                self.queue.extend(answers);
            }
            if self.queue.is_empty() {
                self.waited.push(t);
                self.clock += t;
                self.mono += t;
                Ok(false)
            } else {
                let a = self.arrival.min(t);
                self.clock += a;
                self.mono += a;
                Ok(true)
            }
        }
        fn monotonic(&mut self) -> Duration {
            self.mono
        }
        fn recv(&mut self, buf: &mut [u8]) -> io::Result<(usize, Option<Ipv4Addr>)> {
            let (p, from) = self.queue.pop_front().expect("wait said readable");
            let n = p.len().min(buf.len());
            buf[..n].copy_from_slice(&p[..n]);
            Ok((n, Some(from)))
        }
        fn now(&mut self) -> Duration {
            self.clock
        }
        fn dot(&mut self) {
            self.dots += 1;
        }
        fn note(&mut self, line: &str) {
            self.notes.push(line.to_string());
        }
    }

    fn ip(options: &[u8], icmp: &[u8]) -> Vec<u8> {
        let ihl = (20 + options.len()) / 4;
        let mut p = vec![0x40 | ihl as u8, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0];
        p.extend_from_slice(&PEER.octets());
        p.extend_from_slice(&[198, 18, 0, 1]);
        p.extend_from_slice(options);
        p.extend_from_slice(icmp);
        p
    }

    /// A timestamp reply to `req` whose clock is `offset` ms ahead.
    fn ts_answer(req: &[u8], now: u32, offset: i64) -> Vec<u8> {
        let mut icmp = req.to_vec();
        icmp[0] = ICMP_TIMESTAMPREPLY;
        let his = (i64::from(now) + offset).rem_euclid(MODULO) as u32;
        icmp[12..16].copy_from_slice(&his.to_be_bytes());
        icmp[16..20].copy_from_slice(&his.to_be_bytes());
        ip(&[], &icmp)
    }

    fn good(o: Outcome) -> Measurement {
        match o {
            Outcome::Good(m) => m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_peer_with_the_same_clock_measures_zero_in_fifty_requests() {
        let mut f = Fake::new(Box::new(|req, now| vec![(ts_answer(req, now, 0), PEER)]));
        let m = good(measure(&mut f, Method::IcmpTimestamp, PEER, ID, true));
        assert_eq!(
            m,
            Measurement {
                rtt: 0,
                rtt_sigma: 0,
                min_rtt: 0,
                delta: 0,
                delta1: 0
            }
        );
        assert_eq!(f.sent.len(), 50);
        assert_eq!(f.dots, 50);
        // Requests: type 13, our id and sequence numbers 1..=50 in host order.
        for (i, p) in f.sent.iter().enumerate() {
            assert_eq!(p[0], 13);
            assert_eq!(u16::from_ne_bytes([p[4], p[5]]), ID);
            assert_eq!(u16::from_ne_bytes([p[6], p[7]]), i as u16 + 1);
            assert_eq!(packet::checksum(p), 0);
        }
    }

    #[test]
    fn a_peer_ahead_by_five_seconds_gives_delta_5000() {
        let mut f = Fake::new(Box::new(|req, now| vec![(ts_answer(req, now, 5000), PEER)]));
        let m = good(measure(&mut f, Method::IcmpTimestamp, PEER, ID, false));
        assert_eq!(m.delta, 5000);
        assert_eq!(m.delta1, 5000);
        assert_eq!(f.dots, 0);
    }

    #[test]
    fn across_midnight_the_delta_wraps() {
        // 1 ms before midnight here, the peer 3 ms ahead (past midnight).
        let mut f = Fake::new(Box::new(|req, now| vec![(ts_answer(req, now, 3), PEER)]));
        f.clock = Duration::new(86_400 * 20_000 - 1, 999_000_000);
        let m = good(measure(&mut f, Method::IcmpTimestamp, PEER, ID, false));
        assert_eq!(m.delta, 3);
    }

    #[test]
    fn no_answer_is_down_after_eleven_requests() {
        let mut f = Fake::new(Box::new(|_, _| vec![]));
        assert!(matches!(
            measure(&mut f, Method::IcmpTimestamp, PEER, ID, false),
            Outcome::HostDown
        ));
        assert_eq!(f.sent.len(), 11);
        // Each wait is the initial estimate (1000 ms), as in iputils.
        assert!(f
            .waited
            .iter()
            .skip(1)
            .all(|w| *w == Duration::from_millis(1000)));
    }

    #[test]
    fn a_send_error_is_unreachable() {
        let mut f = Fake::new(Box::new(|_, _| vec![]));
        f.send_error = true;
        assert!(matches!(
            measure(&mut f, Method::IcmpTimestamp, PEER, ID, false),
            Outcome::Unreachable
        ));
    }

    #[test]
    fn a_high_bit_receive_time_is_non_standard() {
        let mut f = Fake::new(Box::new(|req, now| {
            let mut p = ts_answer(req, now, 0);
            p[20 + 12] |= 0x80;
            vec![(p, PEER)]
        }));
        assert!(matches!(
            measure(&mut f, Method::IcmpTimestamp, PEER, ID, false),
            Outcome::NonStandard
        ));
    }

    #[test]
    fn forged_replies_are_ignored_and_the_real_ones_counted() {
        // Before each real answer: one from another host, one with a wrong
        // id, one with a future sequence number, a truncated one, an echo
        // reply, garbage.
        let mut f = Fake::new(Box::new(|req, now| {
            let real = ts_answer(req, now, 7);
            let mut wrong_id = real.clone();
            wrong_id[24] ^= 0xff;
            let mut future = real.clone();
            let seq = u16::from_ne_bytes([real[26], real[27]]).wrapping_add(5);
            future[26..28].copy_from_slice(&seq.to_ne_bytes());
            let mut forged_time = real.clone();
            forged_time[32..36].copy_from_slice(&1u32.to_be_bytes());
            let mut echo = real.clone();
            echo[20] = ICMP_ECHOREPLY;
            vec![
                (forged_time, Ipv4Addr::new(198, 18, 0, 66)),
                (wrong_id, PEER),
                (future, PEER),
                (real[..30].to_vec(), PEER),
                (echo, PEER),
                (vec![0x45; 3], PEER),
                (real, PEER),
            ]
        }));
        let m = good(measure(&mut f, Method::IcmpTimestamp, PEER, ID, true));
        assert_eq!(m.delta, 7);
        assert_eq!(f.sent.len(), 50);
        assert_eq!(f.dots, 50);
    }

    #[test]
    fn stale_replies_in_the_queue_are_drained_first() {
        let mut f = Fake::new(Box::new(|req, now| vec![(ts_answer(req, now, 0), PEER)]));
        // A forged "reply" to sequence 1 waiting before we start.
        let mut stale = ts_answer(&packet::request(false, ID, 1, 0), 0, 40_000_000);
        stale[20] = ICMP_TIMESTAMPREPLY;
        f.queue.push_back((stale, PEER));
        let m = good(measure(&mut f, Method::IcmpTimestamp, PEER, ID, false));
        assert_eq!(m.delta, 0);
    }

    fn opt_answer(req: &[u8], now: u32, method: Method, his_offset: i64, flags: u8) -> Vec<u8> {
        let his = (i64::from(now) + his_offset) as u32;
        let stamps: Vec<u32> = match method {
            Method::IpOptionFour => vec![now, his, his, now],
            _ => vec![now, his, now],
        };
        let len = method.opt_len() as u8;
        let mut opt = vec![IPOPT_TIMESTAMP, len, len + 1, flags];
        for s in &stamps {
            opt.extend_from_slice(&[198, 18, 0, 1]);
            opt.extend_from_slice(&s.to_be_bytes());
        }
        let mut icmp = req.to_vec();
        icmp[0] = ICMP_ECHOREPLY;
        ip(&opt, &icmp)
    }

    #[test]
    fn ip_timestamp_option_four_and_three_terms() {
        for method in [Method::IpOptionFour, Method::IpOptionThree] {
            let mut f = Fake::new(Box::new(move |req, now| {
                assert_eq!(req[0], packet::ICMP_ECHO);
                vec![(opt_answer(req, now, method, 250, 3), PEER)]
            }));
            let m = good(measure(&mut f, method, PEER, ID, false));
            assert_eq!(m.delta, 250, "{method:?}");
            assert!(f.notes.is_empty(), "{:?}", f.notes);
        }
    }

    #[test]
    fn ip_option_flags_other_than_prespec_are_wrong() {
        let mut f = Fake::new(Box::new(|req, now| {
            vec![(opt_answer(req, now, Method::IpOptionFour, 0, 1), PEER)]
        }));
        assert!(matches!(
            measure(&mut f, Method::IpOptionFour, PEER, ID, false),
            Outcome::NonStandard
        ));
        assert_eq!(f.notes, ["Wrong timestamp 1"]);
    }

    #[test]
    fn ip_option_overflow_is_reported_and_zero_stamps_refused() {
        let mut f = Fake::new(Box::new(|req, now| {
            vec![(opt_answer(req, now, Method::IpOptionFour, 0, 0x23), PEER)]
        }));
        let _ = good(measure(&mut f, Method::IpOptionFour, PEER, ID, false));
        assert!(
            f.notes.iter().all(|n| n == "Overflow 2 hops"),
            "{:?}",
            f.notes
        );
        assert_eq!(f.notes.len(), 50);

        // A peer that leaves its slots empty (pointer not advanced).
        let mut f = Fake::new(Box::new(|req, now| {
            let mut p = opt_answer(req, now, Method::IpOptionFour, 0, 3);
            p[22] = 13; // pointer: one slot filled
            vec![(p, PEER)]
        }));
        assert!(matches!(
            measure(&mut f, Method::IpOptionFour, PEER, ID, false),
            Outcome::Failed(None)
        ));
        assert_eq!(f.notes, ["wrong timestamps"]);
    }

    /// A timestamp reply to `req` claiming `originate`.
    fn with_originate(req: &[u8], now: u32, originate: u32) -> Vec<u8> {
        let mut p = ts_answer(req, now, 0);
        p[28..32].copy_from_slice(&originate.to_be_bytes());
        p
    }

    #[test]
    fn one_reply_with_originate_0_does_not_stretch_the_wait() {
        // iputils: the estimate becomes about the time of day and the next
        // wait lasts hours. Here: at most MAX_WAIT each, then "down".
        let mut first = true;
        let mut f = Fake::new(Box::new(move |req, now| {
            if std::mem::take(&mut first) {
                vec![(with_originate(req, now, 0), PEER)]
            } else {
                vec![]
            }
        }));
        // 20:00 UT: the reply claims a round trip of 20 hours.
        f.clock = Duration::new(86_400 * 20_000 + 72_000, 0);
        let start = f.mono;
        let o = measure(&mut f, Method::IcmpTimestamp, PEER, ID, false);
        // No wait longer than MAX_WAIT, and down (iputils' verdict) after
        // the first request and eleven unanswered ones.
        assert!(matches!(o, Outcome::HostDown), "{o:?}");
        assert!(f.waited.iter().all(|w| *w <= MAX_WAIT), "{:?}", f.waited);
        assert_eq!(f.sent.len(), 12);
        assert!(f.mono - start <= TOTAL);
    }

    #[test]
    fn replies_that_are_all_ignored_cannot_hold_it_past_the_total_time() {
        // A peer that answers every 100 ms with replies from the future
        // (negative round trip: ignored, and the wait starts again): iputils
        // never sends its second request. Here the total time ends it.
        let mut f = Fake::new(Box::new(|req, now| {
            vec![(with_originate(req, now, now.wrapping_add(3_600_000)), PEER)]
        }));
        f.unprompted = true;
        f.arrival = Duration::from_millis(100);
        let start = f.mono;
        let o = measure(&mut f, Method::IcmpTimestamp, PEER, ID, false);
        assert!(matches!(o, Outcome::HostDown), "{o:?}");
        let took = f.mono - start;
        assert!(took >= TOTAL && took <= TOTAL + MAX_WAIT, "{took:?}");
    }

    #[test]
    fn every_reply_claiming_a_huge_round_trip_still_ends_in_total_time() {
        // Every reply with originate 0, one per request: each counted,
        // each followed by a wait for a better one that never comes.
        let mut f = Fake::new(Box::new(|req, now| {
            vec![(with_originate(req, now, 1), PEER)]
        }));
        f.clock = Duration::new(86_400 * 20_000 + 72_000, 0);
        let start = f.mono;
        let m = good(measure(&mut f, Method::IcmpTimestamp, PEER, ID, false));
        assert_eq!(f.sent.len(), 50);
        assert!(m.rtt > 10_000_000, "{m:?}");
        assert!(f.waited.iter().all(|w| *w <= MAX_WAIT));
        assert!(f.mono - start <= TOTAL);
    }

    #[test]
    fn a_flood_before_the_start_cannot_hold_the_drain_for_ever() {
        let mut f = Fake::new(Box::new(|_, _| vec![]));
        f.arrival = Duration::from_millis(500);
        for _ in 0..1000 {
            f.queue.push_back((vec![0x45; 3], PEER));
        }
        // Zero-timeout polls cost nothing in the fake; make each datagram
        // cost time through recv instead.
        f.unprompted = false;
        let o = measure(&mut Slow(&mut f), Method::IcmpTimestamp, PEER, ID, false);
        assert!(matches!(o, Outcome::HostDown), "{o:?}");
        assert!(f.sent.is_empty(), "no request while draining");
        assert!(!f.queue.is_empty(), "ended before the flood did");
    }

    /// A link where every received datagram costs 500 ms.
    struct Slow<'a>(&'a mut Fake);

    impl Link for Slow<'_> {
        fn send(&mut self, p: &[u8]) -> io::Result<()> {
            self.0.send(p)
        }
        fn wait(&mut self, t: Duration) -> io::Result<bool> {
            self.0.wait(t)
        }
        fn recv(&mut self, buf: &mut [u8]) -> io::Result<(usize, Option<Ipv4Addr>)> {
            self.0.mono += Duration::from_millis(500);
            self.0.recv(buf)
        }
        fn now(&mut self) -> Duration {
            self.0.now()
        }
        fn monotonic(&mut self) -> Duration {
            self.0.monotonic()
        }
        fn dot(&mut self) {}
        fn note(&mut self, _: &str) {}
    }

    /// The sequence number of a request (host byte order, as sent).
    fn seq_of(req: &[u8]) -> u16 {
        u16::from_ne_bytes([req[6], req[7]])
    }

    #[test]
    fn after_an_answer_a_zero_estimate_waits_for_nothing() {
        // Same-millisecond answers bring the estimate to 0; then request 40's
        // answer crosses a millisecond (diff 1). 20221126 goes on to the next
        // request at once; so does this, where upstream idles its 1 ms floor.
        let mut f = Fake::new(Box::new(|req, now| {
            let originate = if seq_of(req) == 40 { now - 1 } else { now };
            vec![(with_originate(req, now, originate), PEER)]
        }));
        let start = f.mono;
        let m = good(measure(&mut f, Method::IcmpTimestamp, PEER, ID, false));
        assert_eq!(f.sent.len(), 50);
        assert_eq!(m.min_rtt, 0);
        // The drain at the start, then one look after request 40's answer:
        // both find nothing and cost nothing.
        assert_eq!(f.waited, [Duration::ZERO, Duration::ZERO]);
        assert_eq!(f.mono, start);
    }

    #[test]
    fn an_unanswered_request_still_waits_upstreams_floor() {
        // The estimate reaches 0 over 30 same-millisecond answers; then the
        // peer falls silent. Each wait for a reply lasts 1 ms, not 0 (the
        // floor that keeps a slow peer from being called down too soon).
        let mut f = Fake::new(Box::new(|req, now| {
            if seq_of(req) <= 30 {
                vec![(ts_answer(req, now, 0), PEER)]
            } else {
                vec![]
            }
        }));
        let o = measure(&mut f, Method::IcmpTimestamp, PEER, ID, false);
        assert!(matches!(o, Outcome::HostDown), "{o:?}");
        assert_eq!(f.sent.len(), 41);
        // After the drain, one wait per unanswered request, each the floor.
        assert_eq!(f.waited.len(), 1 + 11);
        assert!(f.waited[1..]
            .iter()
            .all(|w| *w == Duration::from_millis(1)));
    }

    #[test]
    fn the_timeout_follows_the_round_trip_estimate() {
        // The peer answers 1 s late: then the estimate rises… and the wait too.
        let mut f = Fake::new(Box::new(|req, now| {
            let mut p = ts_answer(req, now, 0);
            // Pretend it arrived later than sent: originate in the past.
            let orig = now.wrapping_sub(8);
            p[28..32].copy_from_slice(&orig.to_be_bytes());
            vec![(p, PEER)]
        }));
        let m = good(measure(&mut f, Method::IcmpTimestamp, PEER, ID, false));
        // diff 8 every time: rtt converges down from 1000 towards 8.
        assert!(m.rtt >= 8 && m.rtt < 20, "{m:?}");
        assert_eq!(m.min_rtt, 8);
    }
}
