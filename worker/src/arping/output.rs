//! Every line arping prints, as pure functions, in iputils' exact words
//! (`usage`, the `ARPING` header, `recv_pack`'s reply lines, `finish`'s
//! summary). Hardware addresses come from the network but are printed as
//! hexadecimal only; nothing else from outside reaches these lines except
//! the interface name, which is escaped.

#![forbid(unsafe_code)]

use std::fmt::Write;
use std::net::Ipv4Addr;
use std::time::Duration;

use crate::arping::arp::Answer;
use crate::text::printable;

/// `-V`.
pub fn version() -> String {
    format!(
        "privsep-arping {} (privsep launcher/worker split)\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// `-h`, and not exactly one destination: upstream's usage text (on stderr).
pub fn usage() -> &'static str {
    "\nUsage:\n\
     \x20 arping [options] <destination>\n\
     \nOptions:\n\
     \x20 -f            quit on first reply\n\
     \x20 -q            be quiet\n\
     \x20 -b            keep on broadcasting, do not unicast\n\
     \x20 -D            duplicate address detection mode\n\
     \x20 -U            unsolicited ARP mode, update your neighbours\n\
     \x20 -A            ARP answer mode, update your neighbours\n\
     \x20 -V            print version and exit\n\
     \x20 -c <count>    how many packets to send\n\
     \x20 -w <timeout>  how long to wait for a reply\n\
     \x20 -i <interval> set interval between packets (default: 1 second)\n\
     \x20 -I <device>   which ethernet device to use\n\
     \x20 -s <source>   source IP address\n\
     \x20 <destination> DNS name or IP address\n\
     \nFor more details see arping(8).\n"
}

/// `ARPING 198.18.0.2 from 198.18.0.1 veth0`.
pub fn header(target: Ipv4Addr, source: Ipv4Addr, device: &str) -> String {
    format!("ARPING {target} from {source} {}\n", printable(device))
}

/// iputils' `print_hex`: `02:00:5E:10:00:01`.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        let _ = write!(s, "{b:02X}");
    }
    s
}

/// The time since the probe as iputils prints it (` %ld.%03ldms`, with its
/// own rounding arithmetic kept exactly).
pub fn elapsed(d: Duration) -> String {
    let secs = d.as_secs() as i64;
    let nsec = i64::from(d.subsec_nanos());
    let mut usecs = secs * 1_000_000 + (nsec + 500) / 1000;
    let msecs = (usecs + 500) / 1000;
    usecs -= msecs * 1000 - 500;
    format!("{msecs}.{usecs:03}ms")
}

/// One counted answer: `Unicast reply from 198.18.0.2 [02:…]  0.652ms`,
/// with `for IP` / `for [MAC]` when it was not addressed to our source or
/// our hardware address, and `UNSOLICITED?` when nothing was sent yet.
pub fn answer(a: &Answer, source: Ipv4Addr, my_hw: &[u8], since_probe: Option<Duration>) -> String {
    let mut s = String::new();
    s.push_str(if a.unicast { "Unicast " } else { "Broadcast " });
    s.push_str(if a.reply {
        "reply from "
    } else {
        "request from "
    });
    let _ = write!(s, "{} [{}] ", a.src_ip, hex(&a.src_hw));
    let mut for_printed = false;
    if a.dst_ip != source {
        let _ = write!(s, "for {} ", a.dst_ip);
        for_printed = true;
    }
    if a.dst_hw != my_hw {
        if !for_printed {
            s.push_str("for ");
        }
        let _ = write!(s, "[{}]", hex(&a.dst_hw));
    }
    match since_probe {
        Some(d) => {
            let _ = writeln!(s, " {}", elapsed(d));
        }
        None => s.push_str(" UNSOLICITED?\n"),
    }
    s
}

/// The counters `finish` reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub sent: u64,
    pub brd_sent: u64,
    pub received: u64,
    pub brd_recv: u64,
    pub req_recv: u64,
}

/// `Sent N probes (M broadcast(s))` and `Received K response(s)` with the
/// request/broadcast breakdown.
pub fn summary(c: &Counts) -> String {
    let mut s = format!(
        "Sent {} probes ({} broadcast(s))\nReceived {} response(s)",
        c.sent, c.brd_sent, c.received
    );
    if c.brd_recv > 0 || c.req_recv > 0 {
        s.push_str(" (");
        if c.req_recv > 0 {
            let _ = write!(s, "{} request(s)", c.req_recv);
        }
        if c.brd_recv > 0 {
            let sep = if c.req_recv > 0 { ", " } else { "" };
            let _ = write!(s, "{sep}{} broadcast(s)", c.brd_recv);
        }
        s.push(')');
    }
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elapsed_keeps_iputils_arithmetic() {
        assert_eq!(elapsed(Duration::from_micros(652)), "1.152ms");
        assert_eq!(elapsed(Duration::from_micros(1500)), "2.000ms");
        assert_eq!(elapsed(Duration::from_micros(0)), "0.500ms");
        assert_eq!(elapsed(Duration::from_micros(499)), "0.999ms");
        assert_eq!(elapsed(Duration::from_millis(1234)), "1234.500ms");
    }

    #[test]
    fn lines_have_iputils_words() {
        let me = [2, 0, 0, 0, 0, 1];
        let a = Answer {
            reply: true,
            unicast: true,
            src_ip: Ipv4Addr::new(198, 18, 0, 2),
            src_hw: vec![2, 0, 0, 0, 0, 0xab],
            dst_ip: Ipv4Addr::new(198, 18, 0, 1),
            dst_hw: me.to_vec(),
        };
        let src = Ipv4Addr::new(198, 18, 0, 1);
        assert_eq!(
            answer(&a, src, &me, Some(Duration::from_micros(652))),
            "Unicast reply from 198.18.0.2 [02:00:00:00:00:AB]  1.152ms\n"
        );
        let b = Answer {
            unicast: false,
            reply: false,
            dst_ip: Ipv4Addr::new(198, 18, 0, 9),
            dst_hw: vec![0xff; 6],
            ..a.clone()
        };
        assert_eq!(
            answer(&b, src, &me, None),
            "Broadcast request from 198.18.0.2 [02:00:00:00:00:AB] for 198.18.0.9 [FF:FF:FF:FF:FF:FF] UNSOLICITED?\n"
        );
        let c = Answer {
            dst_hw: vec![0; 6],
            ..a
        };
        assert!(answer(&c, src, &me, None).contains("] for [00:00:00:00:00:00] UNS"));
        assert_eq!(
            header(src, src, "veth0\n"),
            "ARPING 198.18.0.1 from 198.18.0.1 veth0\\n\n"
        );
    }

    #[test]
    fn summary_breakdown() {
        let mut c = Counts {
            sent: 3,
            brd_sent: 1,
            received: 3,
            ..Counts::default()
        };
        assert_eq!(
            summary(&c),
            "Sent 3 probes (1 broadcast(s))\nReceived 3 response(s)\n"
        );
        c.req_recv = 1;
        c.brd_recv = 2;
        assert!(summary(&c).ends_with("response(s) (1 request(s), 2 broadcast(s))\n"));
        c.req_recv = 0;
        assert!(summary(&c).ends_with("response(s) (2 broadcast(s))\n"));
    }
}
