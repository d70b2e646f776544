//! Every line fping 5.1 prints once the targets are known, as pure
//! functions: `sprint_tm`'s round-trip times, the per-reply and time-out
//! lines of count and loop mode, "is alive" / "is unreachable", the
//! per-target summary (`-c`, `-C`, `-l`), the `-Q` splits, the `-s` totals
//! and the netdata (`-N`) blocks. Host names are printable already
//! ([`crate::fping::targets`]); C's `int` truncations are kept.

#![forbid(unsafe_code)]

use std::fmt::Write as _;

use crate::fping::host::Host;

/// C's `%.{prec}e`: at least two exponent digits, with a sign.
fn c_exp(v: f64, prec: usize) -> String {
    let s = format!("{v:.prec$e}");
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let (sign, digits) = match exp.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', exp),
    };
    format!("{mant}e{sign}{digits:0>2}")
}

/// C's `%.{prec}g`.
fn c_general(v: f64, prec: usize) -> String {
    let prec = prec.max(1);
    if v == 0.0 {
        return "0".to_string();
    }
    let e = c_exp(v, prec - 1);
    let exp: i32 = e
        .split_once('e')
        .and_then(|(_, x)| x.parse().ok())
        .unwrap_or(0);
    let strip = |s: String| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    if exp < -4 || exp >= prec as i32 {
        let (mant, x) = e.split_once('e').unwrap_or((&e, "+00"));
        format!("{}e{x}", strip(mant.to_string()))
    } else {
        let decimals = (prec as i32 - 1 - exp).max(0) as usize;
        strip(format!("{v:.decimals$}"))
    }
}

/// `sprint_tm`: nanoseconds as milliseconds with about three significant
/// digits.
pub fn sprint_tm(ns: i64) -> String {
    let t = ns as f64 / 1e6;
    if t < 0.0 {
        c_general(t, 2)
    } else if t < 1.0 {
        format!("{t:.3}")
    } else if t < 10.0 {
        format!("{t:.2}")
    } else if t < 100.0 {
        format!("{t:.1}")
    } else if t < 1_000_000.0 {
        format!("{t:.0}")
    } else {
        c_exp(t, 3)
    }
}

/// C's `int avg = int64 / int`: the low 32 bits.
pub fn int_avg(total: i64, n: i32) -> i64 {
    if n == 0 {
        return 0;
    }
    i64::from((total / i64::from(n)) as i32)
}

/// `[1596092373.18423] ` under `-D`.
pub fn timestamp(now_ns: i64) -> String {
    format!("[{}] ", epoch(now_ns))
}

/// `-D`'s seconds since the epoch: `1596092373.18423`.
pub fn epoch(now_ns: i64) -> String {
    format!("{:.5}", now_ns as f64 / 1e9)
}

/// What a reply tells beside its time, for `--print-tos`, `--print-ttl`
/// and `--icmp-timestamp` (5.3's `print_recv_ext`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Extras {
    pub tos: Option<i32>,
    pub ttl: Option<i32>,
    /// Originate, receive, transmit, and the local receive time (ms since
    /// midnight UTC).
    pub times: Option<[u32; 4]>,
}

/// ` (12% loss)` / ` (150% return)` after a count-mode line's average.
fn loss_or_return(h: &Host) -> String {
    if h.num_recv <= h.num_sent {
        format!(
            "{}% loss)",
            ((h.num_sent - h.num_recv) * 100) / h.num_sent.max(1)
        )
    } else {
        format!("{}% return)", (h.num_recv_total * 100) / h.num_sent.max(1))
    }
}

/// The count/loop-mode line of a reply (without `-D`'s timestamp).
pub fn reply_line(h: &Host, width: usize, index: u32, bytes: usize, rtt: i64) -> String {
    format!(
        "{:<width$} : [{index}], {bytes} bytes, {} ms ({} avg, {}",
        h.target.host,
        sprint_tm(rtt),
        sprint_tm(int_avg(h.total_time, h.num_recv)),
        loss_or_return(h)
    )
}

/// The count/loop-mode line of a time-out (without `-D`'s timestamp).
pub fn timeout_line(h: &Host, width: usize, index: u32) -> String {
    let avg = if h.num_recv > 0 {
        format!(
            " ({} avg, ",
            sprint_tm(h.total_time / i64::from(h.num_recv))
        )
    } else {
        " (NaN avg, ".to_string()
    };
    format!(
        "{:<width$} : [{index}], timed out{avg}{}",
        h.target.host,
        loss_or_return(h)
    )
}

/// The first reply of a target, under `-a` or by default: `host` or
/// `host is alive`, then (the engine's) 5.5's extras and `-e`'s round
/// trip, [`elapsed`].
pub fn alive_line(h: &Host, verbose: bool) -> String {
    let mut s = h.target.host.clone();
    if verbose {
        s.push_str(" is alive");
    }
    s
}

/// `-e`'s ` (RTT ms)` after an alive line.
pub fn elapsed(rtt: i64) -> String {
    format!(" ({} ms)", sprint_tm(rtt))
}

/// A reply that came back a second time (not in loop mode).
pub fn duplicate_line(h: &Host, index: u32, bytes: usize, rtt: i64) -> String {
    format!(
        "{} : duplicate for [{index}], {bytes} bytes, {} ms",
        h.target.host,
        sprint_tm(rtt)
    )
}

/// ` [<- 192.0.2.1]`: the reply came from another address.
pub fn from_other(addr: &str) -> String {
    format!(" [<- {addr}]")
}

/// `print_per_system_stats`: one line per target (`-C`: every result).
pub fn per_system_stats(
    hosts: &[Host],
    width: usize,
    all_rtts: bool,
    outage_period: Option<i64>,
) -> String {
    let mut s = String::new();
    for h in hosts {
        let _ = write!(s, "{:<width$} :", h.target.host);
        if all_rtts {
            for j in 0..h.num_sent.max(0) as u32 {
                let r = h.resp(j);
                if r >= 0 {
                    let _ = write!(s, " {}", sprint_tm(r));
                } else {
                    s.push_str(" -");
                }
            }
            s.push('\n');
            continue;
        }
        if h.num_recv <= h.num_sent {
            let loss = if h.num_sent > 0 {
                ((h.num_sent - h.num_recv) * 100) / h.num_sent
            } else {
                0
            };
            let _ = write!(s, " xmt/rcv/%loss = {}/{}/{loss}%", h.num_sent, h.num_recv);
            if let Some(period) = outage_period {
                let ms = (i64::from(h.num_sent - h.num_recv) * period) as f64 / 1e6;
                let _ = write!(s, ", outage(ms) = {}", ms as i32);
            }
        } else {
            let _ = write!(
                s,
                " xmt/rcv/%return = {}/{}/{}%",
                h.num_sent,
                h.num_recv,
                (h.num_recv * 100) / h.num_sent.max(1)
            );
        }
        if h.num_recv > 0 {
            let _ = write!(
                s,
                ", min/avg/max = {}/{}/{}",
                sprint_tm(h.min_reply),
                sprint_tm(int_avg(h.total_time, h.num_recv)),
                sprint_tm(h.max_reply)
            );
        }
        s.push('\n');
    }
    s
}

/// `print_per_system_splits` after its `[HH:MM:SS]` line: the interval's
/// figures per target (the caller resets them).
pub fn per_system_splits(hosts: &[Host], width: usize, outage_period: Option<i64>) -> String {
    let mut s = String::new();
    for h in hosts {
        let _ = write!(s, "{:<width$} :", h.target.host);
        if h.num_recv_i <= h.num_sent_i {
            let loss = if h.num_sent_i > 0 {
                ((h.num_sent_i - h.num_recv_i) * 100) / h.num_sent_i
            } else {
                0
            };
            let _ = write!(
                s,
                " xmt/rcv/%loss = {}/{}/{loss}%",
                h.num_sent_i, h.num_recv_i
            );
            if let Some(period) = outage_period {
                let ms = (i64::from(h.num_sent_i - h.num_recv_i) * period) as f64 / 1e6;
                let _ = write!(s, ", outage(ms) = {}", ms as i32);
            }
        } else {
            let ret = if h.num_sent_i > 0 {
                (h.num_recv_i * 100) / h.num_sent_i
            } else {
                0
            };
            let _ = write!(
                s,
                " xmt/rcv/%return = {}/{}/{ret}%",
                h.num_sent_i, h.num_recv_i
            );
        }
        if h.num_recv_i > 0 {
            let _ = write!(
                s,
                ", min/avg/max = {}/{}/{}",
                sprint_tm(h.min_reply_i),
                sprint_tm(int_avg(h.total_time_i, h.num_recv_i)),
                sprint_tm(h.max_reply_i)
            );
        }
        s.push('\n');
    }
    s
}

/// The totals `-s` prints.
#[derive(Debug, Clone, Copy, Default)]
pub struct Global {
    pub hosts: u32,
    pub alive: u32,
    pub unreachable: u32,
    pub noaddress: u32,
    pub timeouts: u32,
    pub sent: u32,
    pub received: u32,
    pub other_icmp: u32,
    pub min_reply: i64,
    pub max_reply: i64,
    pub sum_replies: i64,
    pub replies: i64,
    pub elapsed_ns: i64,
}

/// `print_global_stats`.
pub fn global_stats(g: &Global) -> String {
    let (min, max, avg) = if g.replies == 0 {
        (0, 0, 0)
    } else {
        (g.min_reply, g.max_reply, g.sum_replies / g.replies)
    };
    format!(
        "\n {:7} targets\n {:7} alive\n {:7} unreachable\n {:7} unknown addresses\n\n {:7} timeouts (waiting for response)\n {:7} ICMP Echos sent\n {:7} ICMP Echo Replies received\n {:7} other ICMP received\n\n {} ms (min round trip time)\n {} ms (avg round trip time)\n {} ms (max round trip time)\n {:12.3} sec (elapsed real time)\n\n",
        g.hosts,
        g.alive,
        g.unreachable,
        g.noaddress,
        g.timeouts,
        g.sent,
        g.received,
        g.other_icmp,
        sprint_tm(min),
        sprint_tm(avg),
        sprint_tm(max),
        g.elapsed_ns as f64 / 1e9
    )
}

/// `print_netdata` for one target (the caller resets its splits);
/// `charts`: the first report, with the chart definitions.
pub fn netdata(h: &Host, charts: bool, report_interval_ns: i64) -> String {
    let (name, host) = (&h.target.name, &h.target.host);
    let every = format!("{:.0}", report_interval_ns as f64 / 1e9);
    let mut s = String::new();
    if charts {
        let _ = writeln!(s, "CHART fping.{name}_packets '' 'FPing Packets for host {host}' packets '{host}' fping.packets line 110020 {every}");
        s.push_str("DIMENSION xmt sent absolute 1 1\nDIMENSION rcv received absolute 1 1\n");
    }
    let _ = write!(
        s,
        "BEGIN fping.{name}_packets\nSET xmt = {}\nSET rcv = {}\nEND\n",
        h.num_sent_i, h.num_recv_i
    );
    if charts {
        let _ = writeln!(s, "CHART fping.{name}_quality '' 'FPing Quality for host {host}' percentage '{host}' fping.quality area 110010 {every}");
        s.push_str("DIMENSION returned '' absolute 1 1\n");
    }
    let returned = if h.num_sent_i > 0 {
        (h.num_recv_i * 100) / h.num_sent_i
    } else {
        0
    };
    let _ = write!(
        s,
        "BEGIN fping.{name}_quality\nSET returned = {returned}\nEND\n"
    );
    if charts {
        let _ = writeln!(s, "CHART fping.{name}_latency '' 'FPing Latency for host {host}' ms '{host}' fping.latency area 110000 {every}");
        s.push_str("DIMENSION min minimum absolute 1 1000000\nDIMENSION max maximum absolute 1 1000000\nDIMENSION avg average absolute 1 1000000\n");
    }
    let _ = writeln!(s, "BEGIN fping.{name}_latency");
    if h.num_recv_i > 0 {
        let _ = write!(
            s,
            "SET min = {}\nSET avg = {}\nSET max = {}\n",
            h.min_reply_i,
            h.total_time_i / i64::from(h.num_recv_i),
            h.max_reply_i
        );
    }
    s.push_str("END\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fping::targets::Target;

    #[test]
    fn sprint_tm_like_fping() {
        assert_eq!(sprint_tm(45_000), "0.045");
        assert_eq!(sprint_tm(1_234_567), "1.23");
        assert_eq!(sprint_tm(12_345_678), "12.3");
        assert_eq!(sprint_tm(123_456_789), "123");
        assert_eq!(sprint_tm(2_000_000_000_000), "2.000e+06");
        assert_eq!(sprint_tm(-1_500_000), "-1.5");
        assert_eq!(sprint_tm(-2_000_000_000_000), "-2e+06");
        assert_eq!(c_general(-0.000012, 2), "-1.2e-05");
    }

    fn host(name: &str) -> Host {
        Host::new(
            Target {
                name: name.into(),
                host: name.into(),
                addr: "127.0.0.1:0".parse().unwrap(),
            },
            0,
        )
    }

    #[test]
    fn count_mode_lines() {
        let mut h = host("127.0.0.1");
        h.stats_add(0, Some(451_000), true);
        assert_eq!(
            reply_line(&h, 9, 0, 64, 451_000),
            "127.0.0.1 : [0], 64 bytes, 0.451 ms (0.451 avg, 0% loss)"
        );
        h.stats_add(1, None, true);
        assert_eq!(
            timeout_line(&h, 11, 1),
            "127.0.0.1   : [1], timed out (0.451 avg, 50% loss)"
        );
        assert_eq!(
            per_system_stats(&[h.clone()], 9, false, None),
            "127.0.0.1 : xmt/rcv/%loss = 2/1/50%, min/avg/max = 0.451/0.451/0.451\n"
        );
        assert_eq!(
            per_system_stats(&[h.clone()], 9, true, None),
            "127.0.0.1 : 0.451 -\n"
        );
        assert_eq!(
            per_system_stats(&[h], 9, false, Some(1_000_000_000)),
            "127.0.0.1 : xmt/rcv/%loss = 2/1/50%, outage(ms) = 1000, min/avg/max = 0.451/0.451/0.451\n"
        );
        let d = host("::1");
        assert_eq!(
            timeout_line(
                &{
                    let mut d = d;
                    d.stats_add(0, None, true);
                    d
                },
                3,
                0
            ),
            "::1 : [0], timed out (NaN avg, 100% loss)"
        );
    }

    #[test]
    fn totals() {
        let g = Global {
            hosts: 2,
            alive: 1,
            unreachable: 1,
            sent: 5,
            received: 1,
            timeouts: 4,
            min_reply: 50_000,
            max_reply: 50_000,
            sum_replies: 50_000,
            replies: 1,
            elapsed_ns: 1_500_000_000,
            ..Global::default()
        };
        let s = global_stats(&g);
        assert!(s.starts_with("\n       2 targets\n       1 alive\n"));
        assert!(s.contains("\n       4 timeouts (waiting for response)\n"));
        assert!(s.contains(" 0.050 ms (avg round trip time)\n"));
        assert!(s.ends_with("        1.500 sec (elapsed real time)\n\n"));
    }
}
