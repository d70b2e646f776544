//! The statistics: iputils' counters (`ntransmitted`, `nreceived`,
//! `nrepeats`, `nchecksum`, `nerrors`), the 16-bit acknowledgement window
//! (`acked`, `pipesize`, what is in flight), the duplicate table and the
//! round-trip figures. Pure bookkeeping: no I/O, no output.

use std::time::Duration;

use crate::ping::cli::Options;
use crate::ping::output::{Rtt, Summary};

/// iputils' `MAX_DUP_CHK`: the window of sequence numbers tracked for DUPs.
pub(super) const MAX_DUP_CHK: usize = 0x10000;

/// The counters of one run, as upstream's `struct ping_rts` keeps them.
pub(super) struct Stats {
    pub(super) ntransmitted: u64,
    pub(super) nreceived: u64,
    pub(super) nrepeats: u64,
    pub(super) nchecksum: u64,
    pub(super) nerrors: u64,
    pub(super) tmin: i64,
    pub(super) tmax: i64,
    tsum: f64,
    tsum2: f64,
    /// The smoothed round-trip time, times 8 (upstream's `rtt`).
    pub(super) rtt: i64,
    acked: u16,
    pipesize: u32,
    /// One bit per sequence number in the duplicate window.
    rcvd: Vec<u64>,
}

impl Stats {
    /// Zero counters, the duplicate table allocated (before the sandbox).
    pub(super) fn new() -> Self {
        Stats {
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
            rcvd: vec![0u64; MAX_DUP_CHK / 64],
        }
    }

    fn rcvd_bit(seq: u16) -> (usize, u64) {
        let i = usize::from(seq) % MAX_DUP_CHK;
        (i / 64, 1 << (i % 64))
    }

    pub(super) fn rcvd_test(&self, seq: u16) -> bool {
        let (w, b) = Self::rcvd_bit(seq);
        self.rcvd.get(w).is_some_and(|x| x & b != 0)
    }

    pub(super) fn rcvd_set(&mut self, seq: u16, on: bool) {
        let (w, b) = Self::rcvd_bit(seq);
        if let Some(x) = self.rcvd.get_mut(w) {
            if on {
                *x |= b;
            } else {
                *x &= !b;
            }
        }
    }

    /// Requests sent and neither answered nor failed.
    pub(super) fn in_flight(&self) -> u64 {
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
    pub(super) fn advance_ntransmitted(&mut self) {
        self.ntransmitted += 1;
        if (self.ntransmitted as u16).wrapping_sub(self.acked) > 0x7fff {
            self.acked = (self.ntransmitted as u16).wrapping_add(1);
        }
    }

    pub(super) fn acknowledge(&mut self, seq: u16) {
        let tx = self.ntransmitted as u16;
        let diff = tx.wrapping_sub(seq);
        if diff <= 0x7fff {
            self.pipesize = self.pipesize.max(u32::from(diff) + 1);
            if (seq.wrapping_sub(self.acked) as i16) > 0 || tx.wrapping_sub(self.acked) > 0x7fff {
                self.acked = seq;
            }
        }
    }

    /// A reply with a sound checksum timed at `triptime` µs: the sums,
    /// the extremes and the smoothed round-trip time.
    pub(super) fn add_rtt(&mut self, triptime: i64) {
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

    /// The second half of `gather_statistics`'s counting (the first is
    /// `nreceived += 1` on arrival): a corrupted reply or a duplicate is
    /// taken back out of `nreceived`. Whether it was a duplicate.
    pub(super) fn classify(&mut self, seq: u16, checksum_ok: bool) -> bool {
        if !checksum_ok {
            self.nchecksum += 1;
            self.nreceived -= 1;
            false
        } else if self.rcvd_test(seq) {
            self.nrepeats += 1;
            self.nreceived -= 1;
            true
        } else {
            self.rcvd_set(seq, true);
            false
        }
    }

    /// The round-trip figures, when replies carry timestamps.
    pub(super) fn rtt_figures(&self, timing: bool) -> Option<Rtt> {
        timing.then(|| Rtt {
            min: self.tmin,
            max: self.tmax,
            sum: self.tsum,
            sum2: self.tsum2,
            total: (self.nreceived + self.nrepeats) as i64,
            ewma8: self.rtt,
        })
    }

    /// iputils' `finish`'s figures.
    pub(super) fn summary<'a>(
        &self,
        hostname: &'a str,
        elapsed: Duration,
        timing: bool,
        ipg: bool,
    ) -> Summary<'a> {
        Summary {
            hostname,
            transmitted: self.ntransmitted,
            received: self.nreceived,
            duplicates: self.nrepeats,
            corrupted: self.nchecksum,
            errors: self.nerrors,
            elapsed,
            rtt: self.rtt_figures(timing),
            pipesize: self.pipesize,
            ipg,
        }
    }

    /// iputils' exit status: 1 when nothing came back, or with `-w` when
    /// fewer than `-c` replies did; else 0.
    pub(super) fn exit_status(&self, o: &Options) -> i32 {
        let short = o.deadline > 0 && self.nreceived < o.count;
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

    #[test]
    fn duplicates_and_corrupted_replies_are_taken_back_out_of_received() {
        let mut s = Stats::new();
        s.advance_ntransmitted();
        s.advance_ntransmitted();
        s.nreceived += 1;
        assert!(!s.classify(1, true));
        s.nreceived += 1;
        assert!(s.classify(1, true), "the second copy of 1 is a duplicate");
        s.nreceived += 1;
        assert!(!s.classify(2, false));
        assert_eq!((s.nreceived, s.nrepeats, s.nchecksum), (1, 1, 1));
        // A corrupted reply does not mark its number as seen.
        assert!(!s.rcvd_test(2));
    }

    #[test]
    fn in_flight_follows_the_acknowledgements() {
        let mut s = Stats::new();
        for _ in 0..3 {
            s.advance_ntransmitted();
        }
        assert_eq!(s.in_flight(), 3);
        s.acknowledge(2);
        assert_eq!(s.in_flight(), 1);
        s.acknowledge(3);
        assert_eq!(s.in_flight(), 0);
        // The oldest answered request was 2 behind: a pipe of 2.
        let sum = s.summary("h", Duration::ZERO, false, false);
        assert_eq!(sum.pipesize, 2);
    }

    #[test]
    fn round_trip_figures_and_the_smoothed_time() {
        let mut s = Stats::new();
        s.add_rtt(1000);
        s.add_rtt(3000);
        s.nreceived = 2;
        let r = s.rtt_figures(true).expect("timing");
        assert_eq!((r.min, r.max, r.total), (1000, 3000, 2));
        assert_eq!(r.sum, 4000.0);
        // upstream: rtt = 8 * first, then rtt += t - rtt / 8.
        assert_eq!(s.rtt, 8000 + 3000 - 1000);
        assert!(s.rtt_figures(false).is_none());
    }

    #[test]
    fn exit_status_is_upstreams() {
        let mut o = Options::default();
        let mut s = Stats::new();
        assert_eq!(s.exit_status(&o), 1, "nothing came back");
        s.nreceived = 2;
        assert_eq!(s.exit_status(&o), 0);
        (o.deadline, o.count) = (5, 3);
        assert_eq!(s.exit_status(&o), 1, "-w with fewer than -c replies");
    }
}
