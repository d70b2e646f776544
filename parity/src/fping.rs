//! The fping suite's network and normalisation. Two namespaces of the
//! suite's own (named with the pid by `testkit::netns`), torn down on drop:
//!
//! ```text
//!  client veth0 198.18.30.1/24 2001:db8:30::1/64 ── veth1 server 198.18.30.2, 2001:db8:30::2
//!  lo 127.0.0.1, ::1 (alive)                         198.18.31.0/24, 2001:db8:31::/64  alive (every address)
//!  198.18.31-34.0/24 and 2001:db8:31-34::/64          198.18.32.0/24, 2001:db8:32::/64  dead (blackhole)
//!  routed to the server                               198.18.33.0/24, 2001:db8:33::/64  unreachable route
//!  198.18.35.0/24 unreachable in the client           198.18.34.0/24, 2001:db8:34::/64  dead, another /24
//!  veth2 198.18.36.1/24 2001:db8:36::1/64 ── h0 responder (kernel echo off)
//!                                                     .10/::10 dup, .11/::11 late, .15/::15 errors
//! ```
//!
//! The server answers every address of 198.18.31.0/24 and 2001:db8:31::/64
//! (local routes on its `lo`), so a `-g` sweep has hundreds of live
//! targets; the blackholes drop silently (targets that time out); its
//! unreachable routes answer with ICMP errors (IPv6 without a rate limit:
//! `net.ipv6.icmp.ratelimit=0` in the server; IPv4's come from a global
//! per-host budget, so rows leave them alone). The responder namespace runs
//! `parity-responder` ([`crate::net`]'s) for duplicated replies, replies
//! 700 ms late and host-unreachable errors from another address
//! (198.18.36.99, 2001:db8:36::99), the same for every run. Names come from
//! `/etc/netns/NAME/hosts` (files only), which `ip netns exec` mounts over
//! `/etc`: never the machine's resolver.
//!
//! Output is normalised for times only ([`normalise_line`]): reply times, their
//! averages, min/avg/max, `-C`'s vectors, `-s`'s elapsed time, `-D`'s and
//! `-Q`'s time stamps and 5.5's `--icmp-timestamp` fields; in 5.5's `-J`
//! objects the same times, each replaced by the string `"<T>"` (the line
//! stays JSON).

use std::sync::OnceLock;

use regex::Regex;
use testkit::netns::Netns;

use crate::lan::{etc_dir, ip, run, sweep_stale, EtcDir};
use crate::net::Responder;
use crate::ParityError;

/// The client's hosts file: the names the table uses. `both` has an IPv4
/// and an IPv6 address (`-m`, `-4`, `-6`), the hostile name is for the
/// escaping checks.
pub const HOSTS: &str = "127.0.0.1\tlocalhost\n\
    ::1\tlocalhost ip6-localhost\n\
    198.18.30.1\tclient\n\
    198.18.31.1\talive1\n\
    198.18.31.2\talive2\n\
    198.18.31.3\talive3\n\
    198.18.32.1\tdead1\n\
    198.18.32.2\tdead2\n\
    2001:db8:31::1\talive6\n\
    2001:db8:32::1\tdead6\n\
    198.18.31.10\tboth\n\
    2001:db8:31::10\tboth\n\
    198.18.31.66\tevil\x1b[7mname\n";

/// This suite's namespace tags.
const TAGS: [&str; 3] = ["fc", "fs", "fr"];

/// The responder's scenarios and their last octet / IPv6 suffix.
pub const SCENARIOS: [(&str, u8); 3] = [("dup", 10), ("late", 11), ("errors", 15)];

/// The whole network. Fields drop in order: responders, then namespaces.
pub struct FpingNet {
    _responders: Vec<Responder>,
    _etc: EtcDir,
    /// Where fping runs.
    pub client: Netns,
    _server: Netns,
    _responder: Netns,
}

impl FpingNet {
    /// Builds it, with `responder_bin` (`parity-responder`) for each
    /// scenario; with `ping_sockets`, the client's `ping_group_range` admits
    /// every group (ICMP datagram sockets without any capability).
    pub fn new(responder_bin: &str, ping_sockets: bool) -> Result<FpingNet, ParityError> {
        sweep_stale(&TAGS);
        let (client, server, responder) = (
            Netns::new(TAGS[0])?,
            Netns::new(TAGS[1])?,
            Netns::new(TAGS[2])?,
        );
        let etc = etc_dir(&client, HOSTS)?;
        let (c, s) = (&client, &server);
        ip(
            c,
            &format!(
                "link add veth0 type veth peer name veth1 netns {}",
                s.name()
            ),
        )?;
        ip(c, "addr add 198.18.30.1/24 dev veth0")?;
        ip(c, "addr add 2001:db8:30::1/64 dev veth0 nodad")?;
        ip(s, "addr add 198.18.30.2/24 dev veth1")?;
        ip(s, "addr add 2001:db8:30::2/64 dev veth1 nodad")?;
        ip(c, "link set veth0 up")?;
        ip(s, "link set veth1 up")?;
        for n in 31..=34 {
            ip(c, &format!("route add 198.18.{n}.0/24 via 198.18.30.2"))?;
            ip(
                c,
                &format!("-6 route add 2001:db8:{n}::/64 via 2001:db8:30::2"),
            )?;
        }
        ip(c, "route add unreachable 198.18.35.0/24")?;
        ip(c, "-6 route add unreachable 2001:db8:35::/64")?;
        ip(s, "route add local 198.18.31.0/24 dev lo")?;
        ip(s, "-6 route add local 2001:db8:31::/64 dev lo")?;
        for (kind, n) in [("blackhole", 32), ("unreachable", 33), ("blackhole", 34)] {
            ip(s, &format!("route add {kind} 198.18.{n}.0/24"))?;
            ip(s, &format!("-6 route add {kind} 2001:db8:{n}::/64"))?;
        }
        // The client and the server answer echo requests (hostile's
        // namespaces start with it off); the server's ICMPv6 errors are not
        // rate-limited, so that every run of an unreachable row gets its own.
        for (ns, keys) in [
            (
                c,
                if ping_sockets {
                    &[
                        "net.ipv4.icmp_echo_ignore_all=0",
                        "net.ipv6.icmp.echo_ignore_all=0",
                        "net.ipv4.ping_group_range=0 2147483647",
                    ][..]
                } else {
                    &[
                        "net.ipv4.icmp_echo_ignore_all=0",
                        "net.ipv6.icmp.echo_ignore_all=0",
                    ][..]
                },
            ),
            (
                s,
                &[
                    "net.ipv4.icmp_echo_ignore_all=0",
                    "net.ipv6.icmp.echo_ignore_all=0",
                    "net.ipv6.icmp.ratelimit=0",
                    "net.ipv4.icmp_ratelimit=0",
                ][..],
            ),
        ] {
            for key in keys {
                run(
                    key,
                    ns.command("sysctl")
                        .args(["-q", "-w", key])
                        .stdin(std::process::Stdio::null()),
                )?;
            }
        }
        let r = &responder;
        ip(
            c,
            &format!("link add veth2 type veth peer name h0 netns {}", r.name()),
        )?;
        ip(c, "addr add 198.18.36.1/24 dev veth2")?;
        ip(c, "addr add 2001:db8:36::1/64 dev veth2 nodad")?;
        ip(c, "link set veth2 up")?;
        ip(r, "addr add 198.18.36.2/24 dev h0")?;
        ip(r, "addr add 2001:db8:36::2/64 dev h0 nodad")?;
        for n in SCENARIOS.iter().map(|(_, n)| *n).chain([99]) {
            ip(r, &format!("addr add 198.18.36.{n}/24 dev h0"))?;
            ip(r, &format!("addr add 2001:db8:36::{n}/64 dev h0 nodad"))?;
        }
        ip(r, "link set h0 up")?;
        let mut responders = Vec::new();
        for (scenario, n) in SCENARIOS {
            responders.push(Responder::start(
                r,
                responder_bin,
                scenario,
                [
                    format!("198.18.36.{n}"),
                    format!("2001:db8:36::{n}"),
                    "198.18.36.99".into(),
                    "2001:db8:36::99".into(),
                ],
            )?);
        }
        let net = FpingNet {
            _responders: responders,
            _etc: etc,
            client,
            _server: server,
            _responder: responder,
        };
        net.warm_up();
        Ok(net)
    }
}

/// The rule for a time in milliseconds.
const MS: &str = r"\b[0-9]+(\.[0-9]+)? ms\b";

impl FpingNet {
    /// Neighbours resolved before the first row: a row's first probes
    /// would otherwise wait in (or overflow) the kernel's queue of packets
    /// for an unresolved neighbour, while three implementations send at
    /// once (the gateway for IPv4 and IPv6, the responder's on-link
    /// addresses). One ping each, at once; nobody needs to answer.
    fn warm_up(&self) {
        let addrs = ["198.18.30.2", "2001:db8:30::2"]
            .into_iter()
            .map(String::from)
            .chain(
                SCENARIOS
                    .iter()
                    .flat_map(|(_, n)| [format!("198.18.36.{n}"), format!("2001:db8:36::{n}")]),
            );
        let children: Vec<_> = addrs
            .filter_map(|addr| {
                self.client
                    .command("ping")
                    .args(["-c", "1", "-W", "1", "-q", &addr])
                    .stdin(std::process::Stdio::null())
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .ok()
            })
            .collect();
        for mut c in children {
            let _ = c.wait();
        }
    }
}

fn rules() -> &'static [(Regex, &'static str)] {
    static RULES: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    RULES.get_or_init(|| {
        [
            // -D (5.1's seconds, 5.5's --timestamp-format forms) and -Q's
            // interval header: a time stamp in brackets at the start.
            (r"^\[[^\]]*\]", "[<T>]"),
            // A reply's time, -e's, -s's round trip times.
            (MS, "<T> ms"),
            // The running average.
            (r"\([0-9]+(\.[0-9]+)? avg, ", "(<T> avg, "),
            // -c's and -Q's summaries.
            (r"min/avg/max = [0-9./]+", "min/avg/max = <T>"),
            // -s's elapsed time (right-aligned: the padding goes too).
            (r"^ *[0-9]+(\.[0-9]+)? sec \(", " <T> sec ("),
            // 5.5's --icmp-timestamp: the four stamps (ms since midnight).
            (
                r"\b(Originate|Receive|Transmit|Localreceive)=[0-9]+",
                "$1=<T>",
            ),
            // -N's latencies (netdata's SET lines, in microseconds).
            (r"^SET (min|avg|max) = [0-9]+$", "SET $1 = <T>"),
            // 5.5's -J: the times in its objects, as strings (the line stays
            // JSON): round trips, -s's elapsed time, --icmp-timestamp's
            // stamps, -D's (any --timestamp-format), -Q's clock.
            (
                r#""(rtt|rttMin|rttAvg|rttMax|elapsed|originate|receive|transmit|localreceive)": -?[0-9][0-9.e+-]*"#,
                r#""$1": "<T>""#,
            ),
            (r#""timestamp": "[^"]*""#, r#""timestamp": "<T>""#),
            (r#"^\{"intSum": \{"time": [0-9]+,"#, r#"{"intSum": {"time": "<T>","#),
        ]
        .into_iter()
        .map(|(re, to)| (Regex::new(re).expect("normalisation rule"), to))
        .collect()
    })
}

/// `-J -C`'s vector: `"values": [0.037, null]`.
fn values() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r#""values": \[[^\]]*\]"#).expect("values rule"))
}

/// `-C`'s vector line: `target : t1 - t2 ...`.
fn vector() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^(\S+ *: )((?:(?:[0-9]+(?:\.[0-9]+)?|-)(?: |$))+)$").expect("vector rule")
    })
}

/// One line with its times replaced by `<T>`. The usage text's defaults
/// (`default: 10 ms`, `up to 2000 ms`) are not times: they stay.
pub fn normalise_line(line: &str) -> String {
    let usage = line.contains("default: ") || line.contains(" up to ");
    let line = rules()
        .iter()
        .filter(|(re, _)| !(usage && re.as_str() == MS))
        .fold(line.to_string(), |l, (re, to)| {
            re.replace_all(&l, *to).into_owned()
        });
    let line = values()
        .replace_all(&line, |c: &regex::Captures<'_>| {
            let inner = &c[0]["\"values\": [".len()..c[0].len() - 1];
            let times: Vec<&str> = inner
                .split(", ")
                .filter(|t| !t.is_empty())
                .map(|t| if t == "null" { "null" } else { "\"<T>\"" })
                .collect();
            format!("\"values\": [{}]", times.join(", "))
        })
        .into_owned();
    match vector().captures(&line) {
        Some(c) => {
            let times: Vec<&str> = c[2]
                .split(' ')
                .filter(|t| !t.is_empty())
                .map(|t| if t == "-" { "-" } else { "<T>" })
                .collect();
            format!("{}{}", &c[1], times.join(" "))
        }
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every option of `fping -h`, 5.1's and 5.5's, as a row's argument
    /// starts with it (`-C3` is `-C`).
    const OPTIONS: &[&str] = &[
        "-4",
        "-6",
        "-a",
        "-A",
        "-b",
        "-B",
        "-c",
        "-C",
        "-d",
        "-D",
        "-e",
        "-f",
        "-g",
        "-h",
        "-H",
        "-i",
        "-I",
        "-J",
        "-k",
        "-l",
        "-m",
        "-M",
        "-n",
        "-N",
        "-o",
        "-O",
        "-p",
        "-q",
        "-Q",
        "-r",
        "-R",
        "-s",
        "-S",
        "-t",
        "-T",
        "-u",
        "-v",
        "-x",
        "-X",
        "--check-source",
        "--icmp-timestamp",
        "--print-tos",
        "--print-ttl",
        "--seqmap-timeout",
        "--timestamp-format",
    ];

    #[test]
    fn the_table_parses_and_has_a_row_for_every_option() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fping.json");
        let rows = crate::tools::load(std::path::Path::new(path)).expect("fping.json");
        assert!(rows.len() >= 100, "{} rows", rows.len());
        for o in OPTIONS {
            assert!(
                rows.iter().any(|r| r.args.iter().any(|a| a.starts_with(o))),
                "no row runs {o}"
            );
        }
    }

    #[test]
    fn times_are_normalised_and_nothing_else() {
        for (from, to) in [
            (
                "198.18.31.1    : [0], 64 bytes, 0.056 ms (0.056 avg, 0% loss)",
                "198.18.31.1    : [0], 64 bytes, <T> ms (<T> avg, 0% loss)",
            ),
            (
                "198.18.32.1    : [0], timed out (NaN avg, 100% loss)",
                "198.18.32.1    : [0], timed out (NaN avg, 100% loss)",
            ),
            (
                "198.18.31.1    : xmt/rcv/%loss = 2/2/0%, min/avg/max = 0.056/0.058/0.061",
                "198.18.31.1    : xmt/rcv/%loss = 2/2/0%, min/avg/max = <T>",
            ),
            (
                "198.18.31.1 : 0.041 112 - 0.5",
                "198.18.31.1 : <T> <T> - <T>",
            ),
            ("dead1 : - -", "dead1 : - -"),
            (
                "198.18.31.1 is alive (0.042 ms)",
                "198.18.31.1 is alive (<T> ms)",
            ),
            (
                " 0.042 ms (min round trip time)",
                " <T> ms (min round trip time)",
            ),
            (
                "        4.084 sec (elapsed real time)",
                " <T> sec (elapsed real time)",
            ),
            (
                "[1796599051.41473] 198.18.31.1 : [0], 64 bytes, 0.041 ms (0.041 avg, 0% loss)",
                "[<T>] 198.18.31.1 : [0], 64 bytes, <T> ms (<T> avg, 0% loss)",
            ),
            ("[23:17:32]", "[<T>]"),
            (
                "198.18.32.3 : xmt/rcv/%loss = 2/0/100%, outage(ms) = 200",
                "198.18.32.3 : xmt/rcv/%loss = 2/0/100%, outage(ms) = 200",
            ),
            ("       2 targets", "       2 targets"),
            ("fping: Version 5.1", "fping: Version 5.1"),
            ("SET avg = 24138", "SET avg = <T>"),
            (
                r#"{"summary": {"host": "h", "xmt": 1, "rcv": 1, "loss": 0, "rttMin": 0.022, "rttAvg": 0.1, "rttMax": 12}}"#,
                r#"{"summary": {"host": "h", "xmt": 1, "rcv": 1, "loss": 0, "rttMin": "<T>", "rttAvg": "<T>", "rttMax": "<T>"}}"#,
            ),
            (
                r#"{"resp": {"timestamp": "1796620853.87704", "host": "h", "seq": 0, "size": 64, "rtt": 2.000e+06, "ttl": 64}}"#,
                r#"{"resp": {"timestamp": "<T>", "host": "h", "seq": 0, "size": 64, "rtt": "<T>", "ttl": 64}}"#,
            ),
            (
                r#"{"timeout": {"timestamp": "Mon Dec  7 05:20:54 2026", "host": "h", "seq": 1}}"#,
                r#"{"timeout": {"timestamp": "<T>", "host": "h", "seq": 1}}"#,
            ),
            (
                r#"{"vSum": {"host": "h", "values": [0.037, null, 12.3]}}"#,
                r#"{"vSum": {"host": "h", "values": ["<T>", null, "<T>"]}}"#,
            ),
            (
                r#"{"vSum": {"host": "h", "values": []}}"#,
                r#"{"vSum": {"host": "h", "values": []}}"#,
            ),
            (
                r#"{"intSum": {"time": 1796620861,"host": "h", "xmt": 4, "rcv": 4, "loss": 0, "rttMin": 0.039, "rttAvg": 0.104, "rttMax": 0.242}}"#,
                r#"{"intSum": {"time": "<T>","host": "h", "xmt": 4, "rcv": 4, "loss": 0, "rttMin": "<T>", "rttAvg": "<T>", "rttMax": "<T>"}}"#,
            ),
            (
                r#"{"stats": {"targets": 2, "alive": 1, "unreachable": 1, "unknownAddresses": 0, "timeouts": 2, "icmpEchosSent": 4, "icmpEchoRepliesReceived": 2, "otherIcmpReceived": 0, "rttMin": 0.047, "rttAvg": 0.119, "rttMax": 0.192, "elapsed": 0.311}}"#,
                r#"{"stats": {"targets": 2, "alive": 1, "unreachable": 1, "unknownAddresses": 0, "timeouts": 2, "icmpEchosSent": 4, "icmpEchoRepliesReceived": 2, "otherIcmpReceived": 0, "rttMin": "<T>", "rttAvg": "<T>", "rttMax": "<T>", "elapsed": "<T>"}}"#,
            ),
            (
                r#"{"resp": {"host": "h", "seq": 0, "size": 20, "rtt": 0.182, "timestamps": {"originate": 19295253, "receive": 19295254, "transmit": 19295254, "localreceive": 19295254}}}"#,
                r#"{"resp": {"host": "h", "seq": 0, "size": 20, "rtt": "<T>", "timestamps": {"originate": "<T>", "receive": "<T>", "transmit": "<T>", "localreceive": "<T>"}}}"#,
            ),
            ("SET returned = 100", "SET returned = 100"),
            (
                "   -i, --interval=MSEC  interval between sending ping packets (default: 10 ms)",
                "   -i, --interval=MSEC  interval between sending ping packets (default: 10 ms)",
            ),
            (
                "Enough hosts reachable (required: 2, reachable: 2)",
                "Enough hosts reachable (required: 2, reachable: 2)",
            ),
        ] {
            assert_eq!(normalise_line(from), to, "{from}");
        }
    }
}
