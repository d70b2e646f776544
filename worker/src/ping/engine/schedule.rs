//! The scheduling: iputils' token bucket (the timing half of `pinger`),
//! its back-off when the device queue is full, `-A`'s `update_interval`,
//! `schedule_exit`, `-w`'s deadline, and how long each wait may last.
//! Clock arithmetic only: the caller reads the clock and does the I/O.

use std::time::{Duration, Instant};

/// How many flood rounds may go by without a `ppoll` (the only place the
/// worker takes its signals): bounds how long a SIGINT waits.
pub(super) const FLOOD_ROUNDS_PER_WAIT: u32 = 64;

/// iputils' `MININTERVAL` (ms): the floor of retry and flood waits.
const MININTERVAL: i64 = 10;

/// iputils' `SCHINT`.
fn schint(ms: i64) -> i64 {
    ms.max(MININTERVAL)
}

/// When to send and when to stop.
pub(super) struct Schedule {
    /// Milliseconds between sends (0: flood without -i); `-A` moves it.
    pub(super) interval: i64,
    /// Added to the round-trip estimate after device-queue overflows.
    rtt_addend: i64,
    start: Instant,
    cur_time: Option<Instant>,
    tokens: i64,
    /// When `pinger` last said "not yet": the exact time left until the next
    /// send, finer than its whole milliseconds (see [`Self::wait`]).
    send_wait: Option<Duration>,
    /// Flood rounds since the last `ppoll` (see the engine's `run`).
    pub(super) skipped_waits: u32,
    oom_count: i64,
    exit_at: Option<Instant>,
    deadline_at: Option<Instant>,
}

impl Schedule {
    pub(super) fn new(interval: i64, start: Instant) -> Self {
        Schedule {
            interval,
            rtt_addend: 0,
            start,
            cur_time: None,
            tokens: 0,
            send_wait: None,
            skipped_waits: 0,
            oom_count: 0,
            exit_at: None,
            deadline_at: None,
        }
    }

    /// The run starts at `now`; `-w` (seconds, 0: none) ends it.
    pub(super) fn start(&mut self, now: Instant, deadline: u64) {
        self.start = now;
        if deadline > 0 {
            self.deadline_at = Some(self.start + Duration::from_secs(deadline));
        }
    }

    /// The token bucket of iputils' `pinger`: `None` when a request may go
    /// now (its token taken), else the milliseconds to wait.
    pub(super) fn take_token(&mut self, now: Instant, preload: i64, in_flight: u64) -> Option<i64> {
        match self.cur_time {
            None => {
                self.cur_time = Some(now);
                self.tokens = self.interval * (preload - 1);
            }
            Some(cur) => {
                let mut ntokens = now.saturating_duration_since(cur).as_millis() as i64;
                if self.interval == 0 && ntokens < MININTERVAL && in_flight as i64 >= preload {
                    return Some(MININTERVAL - ntokens);
                }
                ntokens = (ntokens + self.tokens).min(self.interval * preload);
                if ntokens < self.interval {
                    let due = Duration::from_millis((self.interval - self.tokens).max(0) as u64);
                    self.send_wait = Some(due.saturating_sub(now.saturating_duration_since(cur)));
                    return Some(self.interval - ntokens);
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
        None
    }

    /// A request went out whole: the milliseconds until the next one.
    pub(super) fn sent(&mut self) -> i64 {
        self.oom_count = 0;
        self.interval - self.tokens
    }

    /// `ENOBUFS`/`ENOMEM` (device queue overflow): try again a little
    /// later, but not forever (it would deadlock on a stuck device).
    /// `Some(wait)` to retry, `None` when the retries are used up.
    pub(super) fn no_buffers(
        &mut self,
        rtt8: i64,
        adaptive: bool,
        is_root: bool,
        linger_us: u64,
    ) -> Option<i64> {
        self.tokens = 0;
        self.rtt_addend += if rtt8 < 8 * 50_000 { rtt8 / 8 } else { 50_000 };
        if adaptive {
            self.update_interval(rtt8, is_root);
        }
        let nores = schint(self.interval / 2).min(500);
        self.oom_count += 1;
        ((self.oom_count * nores) < (linger_us / 1000) as i64).then_some(nores)
    }

    /// `EAGAIN`: the token goes back, a retry after the shortest wait.
    pub(super) fn busy(&mut self) -> i64 {
        self.tokens += self.interval;
        MININTERVAL
    }

    /// Any other failed send: the bucket empties, the next try is an
    /// interval (at least `MININTERVAL`) away.
    pub(super) fn failed(&mut self) -> i64 {
        self.tokens = 0;
        schint(self.interval)
    }

    /// upstream's `update_interval` (`-A`): the interval follows the
    /// smoothed round-trip time, never below 2 ms for users.
    pub(super) fn update_interval(&mut self, rtt8: i64, is_root: bool) {
        let est = if rtt8 != 0 {
            rtt8 / 8
        } else {
            self.interval * 1000
        };
        self.interval = (est + self.rtt_addend + 500) / 1000;
        if !is_root && self.interval < crate::ping::cli::MIN_USER_INTERVAL_MS {
            self.interval = crate::ping::cli::MIN_USER_INTERVAL_MS;
        }
    }

    /// iputils' `schedule_exit`: once the count is sent (`sent_all`), wait
    /// for the stragglers (twice the slowest reply, at least an interval)
    /// or, when nothing came back at all, `-W`.
    pub(super) fn schedule_exit(
        &mut self,
        next: i64,
        now: Instant,
        sent_all: bool,
        received_any: bool,
        tmax: i64,
        linger_us: u64,
    ) -> i64 {
        if !sent_all || self.exit_at.is_some() {
            return next;
        }
        let waittime_us = if received_any {
            (2 * tmax).max(self.interval * 1000)
        } else {
            linger_us as i64
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

    /// How long to wait at `now` when the pinger asked for `next` ms.
    pub(super) fn wait(&mut self, next: i64, now: Instant) -> Duration {
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
        wait
    }

    /// Whether the stragglers' wait or the deadline is over.
    pub(super) fn expired(&self, now: Instant) -> bool {
        self.exit_at.is_some_and(|t| now >= t) || self.deadline_at.is_some_and(|t| now >= t)
    }

    /// From the start to the last transmission (the summary's `time`).
    pub(super) fn elapsed(&self) -> Duration {
        self.cur_time
            .map(|t| t.saturating_duration_since(self.start))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn the_bucket_sends_one_per_interval_and_the_preload_at_once() {
        let t0 = Instant::now();
        let mut s = Schedule::new(1000, t0);
        assert_eq!(s.take_token(t0, 1, 0), None);
        assert_eq!(s.take_token(t0 + MS, 1, 1), Some(999));
        assert_eq!(s.take_token(t0 + 1000 * MS, 1, 1), None);

        let mut s = Schedule::new(1000, t0);
        for _ in 0..3 {
            assert_eq!(s.take_token(t0, 3, 0), None, "-l 3 sends three at once");
        }
        assert_eq!(s.take_token(t0, 3, 3), Some(1000));
    }

    #[test]
    fn the_exact_remainder_bounds_the_wait() {
        let t0 = Instant::now();
        let mut s = Schedule::new(2, t0);
        s.take_token(t0, 1, 0);
        let now = t0 + Duration::from_micros(1500);
        let next = s.take_token(now, 1, 1).expect("not yet");
        assert_eq!(next, 1);
        assert_eq!(s.wait(next, now), Duration::from_micros(500));
        // Used once.
        assert_eq!(s.wait(next, now), MS);
    }

    #[test]
    fn device_queue_overflow_retries_until_the_linger_is_spent() {
        let mut s = Schedule::new(1000, Instant::now());
        let retries = std::iter::from_fn(|| s.no_buffers(0, false, false, 10_000_000)).count();
        // 500 ms apart (half the interval, at most 500) within -W's 10 s.
        assert_eq!(retries, 19);
        assert_eq!(s.busy(), MININTERVAL);
        assert_eq!(s.failed(), 1000);
    }

    #[test]
    fn the_exit_waits_for_twice_the_slowest_reply_or_the_linger() {
        let t0 = Instant::now();
        let mut s = Schedule::new(1000, t0);
        assert_eq!(
            s.schedule_exit(7, t0, false, true, 0, 0),
            7,
            "still sending"
        );
        assert_eq!(s.schedule_exit(7, t0, true, true, 800_000, 0), 1600);
        assert!(!s.expired(t0 + 1599 * MS) && s.expired(t0 + 1600 * MS));

        let mut s = Schedule::new(1000, t0);
        assert_eq!(s.schedule_exit(7, t0, true, false, 0, 3_000_000), 3000);

        // -W 0 with nothing back: no timer, a wait for ever.
        let mut s = Schedule::new(1000, t0);
        assert_eq!(s.schedule_exit(7, t0, true, false, 0, 0), 7);
        assert!(!s.expired(t0 + 3600 * 1000 * MS));
    }

    #[test]
    fn adaptive_interval_follows_the_rtt_with_a_floor_for_users() {
        let mut s = Schedule::new(1000, Instant::now());
        s.update_interval(8 * 30_000, true);
        assert_eq!(s.interval, 30);
        s.update_interval(8 * 100, true);
        assert_eq!(s.interval, 0);
        s.update_interval(8 * 100, false);
        assert_eq!(s.interval, crate::ping::cli::MIN_USER_INTERVAL_MS);
    }
}
