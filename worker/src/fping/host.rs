//! One target's state and statistics, as fping's `HOST_ENTRY` keeps them,
//! and `stats_add`: the totals, the `-Q` interval splits and the per-ping
//! results of count mode.

#![forbid(unsafe_code)]

use crate::fping::targets::Target;

/// `RESP_WAITING`, `RESP_UNUSED`, `RESP_ERROR`, `RESP_TIMEOUT`.
pub const RESP_WAITING: i64 = -1;
pub const RESP_UNUSED: i64 = -2;
pub const RESP_ERROR: i64 = -3;
pub const RESP_TIMEOUT: i64 = -4;

/// A target being pinged. Times are nanoseconds.
#[derive(Debug, Clone)]
pub struct Host {
    pub target: Target,
    /// The current time-out (the initial one times the backoff so far).
    pub timeout: i64,
    pub last_send_time: i64,
    pub num_sent: i32,
    pub num_recv: i32,
    pub num_recv_total: i32,
    pub max_reply: i64,
    pub min_reply: i64,
    pub total_time: i64,
    pub num_sent_i: i32,
    pub num_recv_i: i32,
    pub max_reply_i: i64,
    pub min_reply_i: i64,
    pub total_time_i: i64,
    /// Per ping index (not in loop mode): its round trip, or a `RESP_*`.
    /// Grown on demand; a slot never written reads as `RESP_UNUSED`.
    resp_times: Vec<i64>,
}

impl Host {
    pub fn new(target: Target, timeout: i64) -> Host {
        Host {
            target,
            timeout,
            last_send_time: 0,
            num_sent: 0,
            num_recv: 0,
            num_recv_total: 0,
            max_reply: 0,
            min_reply: 0,
            total_time: 0,
            num_sent_i: 0,
            num_recv_i: 0,
            max_reply_i: 0,
            min_reply_i: 0,
            total_time_i: 0,
            resp_times: Vec::new(),
        }
    }

    /// The result of ping `index`.
    pub fn resp(&self, index: u32) -> i64 {
        self.resp_times
            .get(index as usize)
            .copied()
            .unwrap_or(RESP_UNUSED)
    }

    pub fn set_resp(&mut self, index: u32, value: i64) {
        let i = index as usize;
        if self.resp_times.len() <= i {
            self.resp_times.resize(i + 1, RESP_UNUSED);
        }
        self.resp_times[i] = value;
    }

    /// `stats_add`: a ping answered (`Some(latency)`) or timed out.
    /// `track`: not loop mode (per-ping results are kept).
    pub fn stats_add(&mut self, index: u32, latency: Option<i64>, track: bool) {
        self.num_sent += 1;
        self.num_sent_i += 1;
        let Some(latency) = latency else {
            if track {
                self.set_resp(index, RESP_TIMEOUT);
            }
            return;
        };
        self.num_recv += 1;
        self.num_recv_i += 1;
        if self.max_reply == 0 || latency > self.max_reply {
            self.max_reply = latency;
        }
        if self.max_reply_i == 0 || latency > self.max_reply_i {
            self.max_reply_i = latency;
        }
        if self.min_reply == 0 || latency < self.min_reply {
            self.min_reply = latency;
        }
        if self.min_reply_i == 0 || latency < self.min_reply_i {
            self.min_reply_i = latency;
        }
        self.total_time += latency;
        self.total_time_i += latency;
        if track {
            self.set_resp(index, latency);
        }
    }

    /// `stats_reset_interval`.
    pub fn reset_interval(&mut self) {
        self.num_sent_i = 0;
        self.num_recv_i = 0;
        self.max_reply_i = 0;
        self.min_reply_i = 0;
        self.total_time_i = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> Host {
        Host::new(
            Target {
                name: "h".into(),
                host: "h".into(),
                addr: "127.0.0.1:0".parse().unwrap(),
            },
            500,
        )
    }

    #[test]
    fn totals_splits_and_results() {
        let mut h = host();
        h.stats_add(0, Some(300), true);
        h.stats_add(1, None, true);
        h.stats_add(2, Some(100), true);
        assert_eq!((h.num_sent, h.num_recv), (3, 2));
        assert_eq!((h.min_reply, h.max_reply, h.total_time), (100, 300, 400));
        assert_eq!(
            [h.resp(0), h.resp(1), h.resp(2), h.resp(9)],
            [300, RESP_TIMEOUT, 100, RESP_UNUSED]
        );
        h.reset_interval();
        assert_eq!((h.num_sent_i, h.max_reply_i), (0, 0));
        h.stats_add(3, Some(7), false);
        assert_eq!(
            h.resp(3),
            RESP_UNUSED,
            "loop mode keeps no per-ping results"
        );
        assert_eq!(h.min_reply_i, 7);
    }
}
