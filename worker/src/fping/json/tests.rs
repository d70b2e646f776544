//! `-J`'s objects: byte for byte the lines fping 5.5 printed for the same
//! figures (run in a namespace of its own), every one of them JSON.

use super::*;
use crate::fping::targets::Target;

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

/// Each line one JSON object (serde_json keeps the keys' order with
/// `preserve_order` off too: only validity and values are read here).
fn objects(text: &str) -> Vec<serde_json::Value> {
    assert!(text.ends_with('\n'), "{text:?}");
    text.lines()
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"));
            assert!(v.is_object(), "{l}");
            v
        })
        .collect()
}

fn line(f: impl FnOnce(&mut String)) -> String {
    let mut s = String::new();
    f(&mut s);
    objects(&s);
    s
}

/// A reply of 64 bytes to ping 0, nothing else asked for.
fn reply(host: &str, rtt: i64) -> Resp<'_> {
    Resp {
        stamp: None,
        host,
        seq: 0,
        size: 64,
        rtt,
        extras: Extras::default(),
        tos: false,
        ttl: false,
    }
}

#[test]
fn replies_and_time_outs_as_5_5_prints_them() {
    assert_eq!(
        line(|o| resp(o, &reply("198.18.31.1", 52_000))),
        "{\"resp\": {\"host\": \"198.18.31.1\", \"seq\": 0, \"size\": 64, \"rtt\": 0.052}}\n"
    );
    let stamped = Resp {
        stamp: Some("1796620853.87704"),
        ..reply("198.18.31.1", 69_000)
    };
    assert_eq!(
        line(|o| resp(o, &stamped)),
        "{\"resp\": {\"timestamp\": \"1796620853.87704\", \"host\": \"198.18.31.1\", \"seq\": 0, \
         \"size\": 64, \"rtt\": 0.069}}\n"
    );
    let tt = Resp {
        extras: Extras {
            tos: Some(0),
            ttl: Some(64),
            times: None,
        },
        tos: true,
        ttl: true,
        ..reply("2001:db8:31::1", 61_000)
    };
    assert_eq!(
        line(|o| resp(o, &tt)),
        "{\"resp\": {\"host\": \"2001:db8:31::1\", \"seq\": 0, \"size\": 64, \"rtt\": 0.061, \
         \"tos\": 0, \"ttl\": 64}}\n"
    );
    // Unknown: -1; only what was asked for.
    let unknown = Resp {
        seq: 3,
        size: 8,
        ttl: true,
        ..reply("h", 12_345_678)
    };
    assert_eq!(
        line(|o| resp(o, &unknown)),
        "{\"resp\": {\"host\": \"h\", \"seq\": 3, \"size\": 8, \"rtt\": 12.3, \"ttl\": -1}}\n"
    );
    let ts = Resp {
        size: 20,
        extras: Extras {
            times: Some([19_295_253, 19_295_254, 19_295_254, 19_295_254]),
            ..Extras::default()
        },
        ..reply("198.18.31.1", 182_000)
    };
    assert_eq!(
        line(|o| resp(o, &ts)),
        "{\"resp\": {\"host\": \"198.18.31.1\", \"seq\": 0, \"size\": 20, \"rtt\": 0.182, \
         \"timestamps\": {\"originate\": 19295253, \"receive\": 19295254, \"transmit\": 19295254, \
         \"localreceive\": 19295254}}}\n"
    );
    assert_eq!(
        line(|o| timeout(o, None, "198.18.32.1", 1)),
        "{\"timeout\": {\"host\": \"198.18.32.1\", \"seq\": 1}}\n"
    );
    assert_eq!(
        line(|o| timeout(o, Some("2026-12-07T05:20:54+0000"), "::1", 0)),
        "{\"timeout\": {\"timestamp\": \"2026-12-07T05:20:54+0000\", \"host\": \"::1\", \"seq\": 0}}\n"
    );
}

#[test]
fn summaries_as_5_5_prints_them() {
    let mut a = host("198.18.31.1");
    a.stats_add(0, Some(52_000), true);
    a.stats_add(1, Some(76_000), true);
    let mut d = host("198.18.32.1");
    d.stats_add(0, None, true);
    d.stats_add(1, None, true);
    let hosts = [a, d];
    assert_eq!(
        line(|o| summaries(o, &hosts, false, None)),
        "{\"summary\": {\"host\": \"198.18.31.1\", \"xmt\": 2, \"rcv\": 2, \"loss\": 0, \
         \"rttMin\": 0.052, \"rttAvg\": 0.064, \"rttMax\": 0.076}}\n\
         {\"summary\": {\"host\": \"198.18.32.1\", \"xmt\": 2, \"rcv\": 0, \"loss\": 100}}\n"
    );
    assert_eq!(
        line(|o| summaries(o, &hosts, true, None)),
        "{\"vSum\": {\"host\": \"198.18.31.1\", \"values\": [0.052, 0.076]}}\n\
         {\"vSum\": {\"host\": \"198.18.32.1\", \"values\": [null, null]}}\n"
    );
    assert_eq!(
        line(|o| summaries(o, &hosts[1..], false, Some(100_000_000))),
        "{\"summary\": {\"host\": \"198.18.32.1\", \"xmt\": 2, \"rcv\": 0, \"loss\": 100, \
         \"outage(ms)\": 200}}\n"
    );
    // More back than sent (duplicates in loop mode): "return".
    let mut r = host("r");
    r.stats_add(0, Some(1_000_000), false);
    r.num_recv = 2;
    r.total_time = 2_000_000;
    assert_eq!(
        line(|o| summaries(o, &[r], false, Some(100_000_000))),
        "{\"summary\": {\"host\": \"r\", \"xmt\": 1, \"rcv\": 2, \"return\": 200, \
         \"rttMin\": 1.00, \"rttAvg\": 1.00, \"rttMax\": 1.00}}\n"
    );
    // Nothing sent yet (-C before any ping ended): an empty vector.
    assert_eq!(
        line(|o| summaries(o, &[host("n")], true, None)),
        "{\"vSum\": {\"host\": \"n\", \"values\": []}}\n"
    );
}

#[test]
fn interval_summaries_as_5_5_prints_them() {
    let mut a = host("198.18.31.1");
    for (i, t) in [39_000, 242_000, 66_000, 69_000].into_iter().enumerate() {
        a.stats_add(i as u32, Some(t), false);
    }
    let mut d = host("198.18.32.1");
    for i in 0..3 {
        d.stats_add(i, None, false);
    }
    assert_eq!(
        line(|o| splits(o, &[a, d], 1_796_620_861, None)),
        "{\"intSum\": {\"time\": 1796620861,\"host\": \"198.18.31.1\", \"xmt\": 4, \"rcv\": 4, \
         \"loss\": 0, \"rttMin\": 0.039, \"rttAvg\": 0.104, \"rttMax\": 0.242}}\n\
         {\"intSum\": {\"time\": 1796620861,\"host\": \"198.18.32.1\", \"xmt\": 3, \"rcv\": 0, \
         \"loss\": 100}}\n"
    );
    // A return goes under "loss", without the outage; nothing sent: 0.
    let mut r = host("r");
    r.stats_add(0, Some(1_000_000), false);
    r.num_recv_i = 3;
    assert_eq!(
        line(|o| splits(o, &[r, host("n")], 5, Some(1_000_000_000))),
        "{\"intSum\": {\"time\": 5,\"host\": \"r\", \"xmt\": 1, \"rcv\": 3, \"loss\": 300, \
         \"rttMin\": 1.00, \"rttAvg\": 0.333, \"rttMax\": 1.00}}\n\
         {\"intSum\": {\"time\": 5,\"host\": \"n\", \"xmt\": 0, \"rcv\": 0, \"loss\": 0, \
         \"outage(ms)\": 0}}\n"
    );
}

#[test]
fn totals_as_5_5_prints_them() {
    let g = Global {
        hosts: 2,
        alive: 1,
        unreachable: 1,
        timeouts: 2,
        sent: 4,
        received: 2,
        min_reply: 47_000,
        max_reply: 192_000,
        sum_replies: 239_000,
        replies: 2,
        elapsed_ns: 311_200_000,
        ..Global::default()
    };
    assert_eq!(
        line(|o| stats(o, &g)),
        "{\"stats\": {\"targets\": 2, \"alive\": 1, \"unreachable\": 1, \"unknownAddresses\": 0, \
         \"timeouts\": 2, \"icmpEchosSent\": 4, \"icmpEchoRepliesReceived\": 2, \
         \"otherIcmpReceived\": 0, \"rttMin\": 0.047, \"rttAvg\": 0.119, \"rttMax\": 0.192, \
         \"elapsed\": 0.311}}\n"
    );
    let none = Global {
        hosts: 1,
        unreachable: 1,
        noaddress: 1,
        ..Global::default()
    };
    let v = &objects(&line(|o| stats(o, &none)))[0]["stats"];
    assert_eq!(v["rttAvg"], serde_json::json!(0.0));
    assert_eq!(v["unknownAddresses"], 1);
}

#[test]
fn warnings_as_5_5_prints_them() {
    assert_eq!(
        line(|o| warning(o, "nosuch.invalid", "Temporary failure in name resolution")),
        "{\"warning\": {\"host\": \"nosuch.invalid\", \"message\": \"Temporary failure in name \
         resolution\"}}\n"
    );
}

/// 5.5 copies a name raw into its strings; privsep's names are printable
/// already (`evil\u{1b}[7mname`), and escaped once more for JSON: the
/// value read back is the text mode's name.
#[test]
fn names_are_escaped() {
    let shown = crate::text::printable("evil\u{1b}[7m\"name\\").into_owned();
    for text in [
        line(|o| resp(o, &reply(&shown, 1))),
        line(|o| timeout(o, None, &shown, 0)),
        line(|o| warning(o, &shown, "Name or service not known")),
        line(|o| summaries(o, &[host(&shown)], false, None)),
        line(|o| summaries(o, &[host(&shown)], true, None)),
        line(|o| splits(o, &[host(&shown)], 0, None)),
    ] {
        assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{text}");
        let v = &objects(&text)[0];
        let inner = v.as_object().unwrap().values().next().unwrap();
        assert_eq!(inner["host"], shown.as_str(), "{text}");
        assert_eq!(shown, "evil\\u{1b}[7m\"name\\");
    }
}

#[test]
fn times_are_sprint_tm_s_and_stay_numbers() {
    for ns in [0, 45_000, 1_234_567, 99_950_000, 123_456_789, 2_000_000_000_000] {
        let text = line(|o| resp(o, &reply("h", ns)));
        let v = &objects(&text)[0]["resp"]["rtt"];
        assert!(v.is_number(), "{text}");
        assert!(text.contains(&format!("\"rtt\": {}}}", sprint_tm(ns))), "{text}");
    }
}
