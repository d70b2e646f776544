//! `-J`/`--json` (fping 5.5): the objects fping prints on stdout, one per
//! line, in place of count and loop mode's lines (which 5.5 requires), as
//! pure functions that append to a caller's line. Byte for byte 5.5's
//! (`print_recv`, `print_timeout`, `print_recv_ext_json`,
//! `print_per_system_stats_json`, `print_per_system_splits_json`,
//! `print_global_stats_json` and `add_name`'s warning), checked against the
//! 5.5 binary:
//!
//! - a reply: `{"resp": {"host": "h", "seq": 0, "size": 64, "rtt": 0.052}}`,
//!   after `"timestamp": "…", ` under `-D` (`%.5f` seconds, or
//!   `--timestamp-format`'s text), then `"timestamps": {…}`
//!   (`--icmp-timestamp`), `"tos": n` and `"ttl": n` (`--print-tos`,
//!   `--print-ttl`; `-1` when unknown);
//! - a time-out: `{"timeout": {"host": "h", "seq": 1}}`;
//! - the end, per target: `{"summary": {"host": "h", "xmt": 2, "rcv": 2,
//!   "loss": 0, "rttMin": …, "rttAvg": …, "rttMax": …}}` (`"outage(ms)"`
//!   after `loss` with `-o`; `"return"` instead of `loss` when more came
//!   back than was sent), or with `-C` `{"vSum": {"host": "h", "values":
//!   [0.037, null]}}`;
//! - `-Q` and SIGQUIT, per target: `{"intSum": {"time": 1796620861,"host":
//!   …}}` (the wall clock's seconds, and no space after its comma; the
//!   percentage under `loss` even when it is a return);
//! - `-s`: `{"stats": {"targets": …, "elapsed": 0.311}}`;
//! - a name that does not resolve: `{"warning": {"host": "name",
//!   "message": "gai_strerror"}}`, under `-q` too.
//!
//! Times are `sprint_tm`'s, bare numbers. What stays text: the warnings on
//! stderr (ICMP errors, duplicates, ` [<- from]`), `-x`'s verdict, `-N`'s
//! blocks. Strings are escaped ([`crate::ping::json::push_str`], ping's
//! `-j` escaping) from names already made printable: 5.5 copies names
//! into its strings raw, so a quote, a backslash or a control character in
//! a name breaks its JSON (and reaches the terminal).

#![forbid(unsafe_code)]

use std::fmt::Write as _;

use crate::fping::host::Host;
use crate::fping::output::{int_avg, sprint_tm, Extras, Global};
use crate::ping::json::push_str;

/// `"key": "value"` with the value escaped.
fn string(out: &mut String, key: &str, value: &str) {
    let _ = write!(out, "\"{key}\": ");
    push_str(out, value);
}

/// `"timestamp": "…", ` when `-D` asked for it.
fn stamp(out: &mut String, stamp: Option<&str>) {
    if let Some(t) = stamp {
        string(out, "timestamp", t);
        out.push_str(", ");
    }
}

/// One reply as `print_recv` and `print_recv_ext_json` print it.
#[derive(Debug, Clone, Copy)]
pub struct Resp<'a> {
    /// `-D`'s time, in `--timestamp-format`'s form.
    pub stamp: Option<&'a str>,
    pub host: &'a str,
    /// The ping's index.
    pub seq: u32,
    /// The ICMP message's size (bytes).
    pub size: usize,
    /// The round trip (ns).
    pub rtt: i64,
    pub extras: Extras,
    /// `--print-tos`, `--print-ttl`: print them (`-1` when unknown).
    pub tos: bool,
    pub ttl: bool,
}

/// A reply: `{"resp": {…}}`.
pub fn resp(out: &mut String, r: &Resp<'_>) {
    out.push_str("{\"resp\": {");
    stamp(out, r.stamp);
    string(out, "host", r.host);
    let _ = write!(
        out,
        ", \"seq\": {}, \"size\": {}, \"rtt\": {}",
        r.seq,
        r.size,
        sprint_tm(r.rtt)
    );
    let x = &r.extras;
    if let Some([originate, receive, transmit, local]) = x.times {
        let _ = write!(
            out,
            ", \"timestamps\": {{\"originate\": {originate}, \"receive\": {receive}, \
             \"transmit\": {transmit}, \"localreceive\": {local}}}"
        );
    }
    if r.tos {
        let _ = write!(out, ", \"tos\": {}", x.tos.unwrap_or(-1));
    }
    if r.ttl {
        let _ = write!(out, ", \"ttl\": {}", x.ttl.unwrap_or(-1));
    }
    out.push_str("}}\n");
}

/// A time-out (`print_timeout`).
pub fn timeout(out: &mut String, ts: Option<&str>, host: &str, seq: u32) {
    out.push_str("{\"timeout\": {");
    stamp(out, ts);
    string(out, "host", host);
    let _ = writeln!(out, ", \"seq\": {seq}}}}}");
}

/// `, "rttMin": a, "rttAvg": b, "rttMax": c` of `min`, `total / n`, `max`.
fn rtts(out: &mut String, min: i64, total: i64, n: i32, max: i64) {
    let _ = write!(
        out,
        ", \"rttMin\": {}, \"rttAvg\": {}, \"rttMax\": {}",
        sprint_tm(min),
        sprint_tm(int_avg(total, n)),
        sprint_tm(max)
    );
}

/// `outage(ms)`: the lost pings times the period, as C's `int`.
fn outage_ms(lost: i32, period: i64) -> i32 {
    ((i64::from(lost) * period) as f64 / 1e6) as i32
}

/// `print_per_system_stats_json`: one object per target (`all_rtts`:
/// `-C`'s `vSum`); `outage_period`: `-o`'s period (ns).
pub fn summaries(out: &mut String, hosts: &[Host], all_rtts: bool, outage_period: Option<i64>) {
    for h in hosts {
        out.push_str(if all_rtts {
            "{\"vSum\": {"
        } else {
            "{\"summary\": {"
        });
        string(out, "host", &h.target.host);
        out.push_str(", ");
        if all_rtts {
            out.push_str("\"values\": [");
            for j in 0..h.num_sent.max(0) as u32 {
                if j > 0 {
                    out.push_str(", ");
                }
                let r = h.resp(j);
                if r >= 0 {
                    out.push_str(&sprint_tm(r));
                } else {
                    out.push_str("null");
                }
            }
            out.push_str("]}}\n");
            continue;
        }
        let (sent, recv) = (h.num_sent, h.num_recv);
        if recv <= sent {
            let loss = if sent > 0 {
                ((sent - recv) * 100) / sent
            } else {
                0
            };
            let _ = write!(out, "\"xmt\": {sent}, \"rcv\": {recv}, \"loss\": {loss}");
            if let Some(period) = outage_period {
                let _ = write!(out, ", \"outage(ms)\": {}", outage_ms(sent - recv, period));
            }
        } else {
            let _ = write!(
                out,
                "\"xmt\": {sent}, \"rcv\": {recv}, \"return\": {}",
                (recv * 100) / sent.max(1)
            );
        }
        if recv > 0 {
            rtts(out, h.min_reply, h.total_time, recv, h.max_reply);
        }
        out.push_str("}}\n");
    }
}

/// `print_per_system_splits_json`: the interval's figures per target at
/// `now_sec` (the caller resets them).
pub fn splits(out: &mut String, hosts: &[Host], now_sec: i64, outage_period: Option<i64>) {
    for h in hosts {
        let _ = write!(out, "{{\"intSum\": {{\"time\": {now_sec},");
        string(out, "host", &h.target.host);
        let (sent, recv) = (h.num_sent_i, h.num_recv_i);
        let percent = if sent <= 0 {
            0
        } else if recv <= sent {
            ((sent - recv) * 100) / sent
        } else {
            // 5.5 prints a return under "loss" here.
            (recv * 100) / sent
        };
        let _ = write!(out, ", \"xmt\": {sent}, \"rcv\": {recv}, \"loss\": {percent}");
        if recv <= sent {
            if let Some(period) = outage_period {
                let _ = write!(out, ", \"outage(ms)\": {}", outage_ms(sent - recv, period));
            }
        }
        if recv > 0 {
            rtts(out, h.min_reply_i, h.total_time_i, recv, h.max_reply_i);
        }
        out.push_str("}}\n");
    }
}

/// `print_global_stats_json` (`-s`).
pub fn stats(out: &mut String, g: &Global) {
    let (min, max, sum, n) = if g.replies == 0 {
        (0, 0, 0, 1)
    } else {
        (g.min_reply, g.max_reply, g.sum_replies, g.replies)
    };
    let _ = writeln!(
        out,
        "{{\"stats\": {{\"targets\": {}, \"alive\": {}, \"unreachable\": {}, \
         \"unknownAddresses\": {}, \"timeouts\": {}, \"icmpEchosSent\": {}, \
         \"icmpEchoRepliesReceived\": {}, \"otherIcmpReceived\": {}, \"rttMin\": {}, \
         \"rttAvg\": {}, \"rttMax\": {}, \"elapsed\": {:.3}}}}}",
        g.hosts,
        g.alive,
        g.unreachable,
        g.noaddress,
        g.timeouts,
        g.sent,
        g.received,
        g.other_icmp,
        sprint_tm(min),
        sprint_tm(sum / n),
        sprint_tm(max),
        g.elapsed_ns as f64 / 1e9
    );
}

/// `add_name`'s object for a name that did not resolve.
pub fn warning(out: &mut String, name: &str, message: &str) {
    out.push_str("{\"warning\": {");
    string(out, "host", name);
    out.push_str(", ");
    string(out, "message", message);
    out.push_str("}}\n");
}

#[cfg(test)]
mod tests;
