//! `-j` on the installed binaries: the launcher staged with its file
//! capability (`make stage`), run as the unprivileged test user against
//! 127.0.0.1, ::1 and network namespaces of our own. Every stdout line must
//! be one valid JSON object with upstream iputils' keys (see the worker's
//! `json.rs` for what is upstream's and what is inferred).
//!
//! Like `installed.rs` they need root and the staged install: ignored by a
//! plain `cargo test`, run by `make test` with `PRIVSEP_STAGE` and
//! `PRIVSEP_TEST_USER` set.

#![forbid(unsafe_code)]

mod support;

use std::process::Output;

use support::{in_netns, launcher, run_as_user as as_user, text};

/// A JSON value, as far as these tests need to look into one.
#[derive(Debug, Clone, PartialEq)]
enum V {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<V>),
    Obj(Vec<(String, V)>),
}

impl V {
    fn get(&self, k: &str) -> Option<&V> {
        match self {
            V::Obj(m) => m.iter().find(|(key, _)| key == k).map(|(_, v)| v),
            _ => None,
        }
    }

    fn keys(&self) -> Vec<&str> {
        match self {
            V::Obj(m) => m.iter().map(|(k, _)| k.as_str()).collect(),
            _ => Vec::new(),
        }
    }

    fn int(&self, k: &str) -> i64 {
        match self.get(k) {
            Some(V::Num(n)) if n.fract() == 0.0 => *n as i64,
            other => panic!("{k} is not an integer: {other:?} in {self:?}"),
        }
    }

    fn str(&self, k: &str) -> &str {
        match self.get(k) {
            Some(V::Str(s)) => s,
            other => panic!("{k} is not a string: {other:?} in {self:?}"),
        }
    }
}

/// serde_json reads the lines into [`V`], keeping the keys' order and
/// refusing duplicate keys (which a map would silently merge).
impl<'de> serde::Deserialize<'de> for V {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<V, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = V;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<V, E> {
                Ok(V::Null)
            }
            fn visit_bool<E>(self, b: bool) -> Result<V, E> {
                Ok(V::Bool(b))
            }
            fn visit_i64<E>(self, n: i64) -> Result<V, E> {
                Ok(V::Num(n as f64))
            }
            fn visit_u64<E>(self, n: u64) -> Result<V, E> {
                Ok(V::Num(n as f64))
            }
            fn visit_f64<E>(self, n: f64) -> Result<V, E> {
                Ok(V::Num(n))
            }
            fn visit_str<E>(self, s: &str) -> Result<V, E> {
                Ok(V::Str(s.to_string()))
            }
            fn visit_string<E>(self, s: String) -> Result<V, E> {
                Ok(V::Str(s))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<V, A::Error> {
                let mut a = Vec::new();
                while let Some(v) = seq.next_element()? {
                    a.push(v);
                }
                Ok(V::Arr(a))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<V, A::Error> {
                let mut m: Vec<(String, V)> = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, V>()? {
                    if m.iter().any(|(x, _)| *x == k) {
                        return Err(serde::de::Error::custom(format!("duplicate key {k:?}")));
                    }
                    m.push((k, v));
                }
                Ok(V::Obj(m))
            }
        }
        d.deserialize_any(Visit)
    }
}

/// Every line of `stdout` as a JSON object; panics on anything else.
fn objects(stdout: &str) -> Vec<V> {
    assert!(
        stdout.is_empty() || stdout.ends_with('\n'),
        "unterminated line: {stdout:?}"
    );
    stdout
        .lines()
        .map(|line| {
            // from_str also refuses trailing input.
            let v: V =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{line:?} is not JSON: {e}"));
            assert!(matches!(v, V::Obj(_)), "{line:?} is not an object");
            v
        })
        .collect()
}

/// The reply objects, then the summary, of a successful `-j -c N` run.
fn check_replies_and_summary(out: &Output, host: &str, count: i64) -> (Vec<V>, V) {
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stderr.is_empty(), "stderr: {stderr}");
    let mut objs = objects(&stdout);
    assert_eq!(objs.len() as i64, count + 1, "{stdout}");
    let summary = objs.pop().unwrap();
    for (i, r) in objs.iter().enumerate() {
        // Upstream's order: bytes, host, seq, ttl, time.
        assert_eq!(r.keys(), ["bytes", "host", "seq", "ttl", "time"], "{r:?}");
        assert_eq!(r.int("bytes"), 64);
        assert_eq!(r.str("host"), host);
        assert_eq!(r.int("seq"), i as i64 + 1);
        assert_eq!(r.int("ttl"), 64);
        let time = r.str("time");
        let ms: f64 = time.parse().unwrap_or_else(|_| panic!("time {time:?}"));
        assert!(ms >= 0.0 && time.contains('.'), "{time}");
    }
    assert_eq!(
        summary.keys(),
        [
            "host",
            "transmitted",
            "received",
            "duplicates",
            "corrupted",
            "errors",
            "loss",
            "time",
            "rtt"
        ],
        "{summary:?}"
    );
    assert_eq!(summary.str("host"), host);
    assert_eq!(summary.int("transmitted"), count);
    assert_eq!(summary.int("received"), count);
    for k in ["duplicates", "corrupted", "errors", "loss"] {
        assert_eq!(summary.int(k), 0, "{k}");
    }
    assert!(summary.int("time") >= 0);
    let rtt = summary.get("rtt").unwrap();
    assert_eq!(rtt.keys(), ["min", "avg", "max", "mdev"]);
    for k in ["min", "avg", "max", "mdev"] {
        let v = rtt.str(k);
        assert!(
            v.split_once('.').is_some_and(|(a, b)| !a.is_empty()
                && b.len() == 3
                && (a.to_owned() + b).bytes().all(|c| c.is_ascii_digit())),
            "rtt {k} = {v:?}"
        );
    }
    (objs, summary)
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn json_ping_127_0_0_1_and_ipv6_loopback() {
    for host in ["127.0.0.1", "::1"] {
        let out = as_user(&launcher(), &["-j", "-c", "2", "-i", "0.2", host]);
        check_replies_and_summary(&out, host, 2);
    }
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn json_quiet_prints_the_summary_only() {
    let out = as_user(
        &launcher(),
        &["-j", "-q", "-c", "2", "-i", "0.2", "127.0.0.1"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let objs = objects(&text(&out.stdout));
    assert_eq!(objs.len(), 1, "{objs:?}");
    assert_eq!(objs[0].int("transmitted"), 2);
    assert_eq!(objs[0].int("received"), 2);
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn json_verbose_timestamps_and_pattern_stay_json() {
    let out = as_user(
        &launcher(),
        &["-j", "-v", "-D", "-p", "ab", "-c", "1", "127.0.0.1"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let objs = objects(&text(&out.stdout));
    assert_eq!(objs.len(), 2, "{objs:?}");
    assert_eq!(
        objs[0].keys(),
        ["timestamp", "bytes", "host", "seq", "ident", "ttl", "time"]
    );
    let ts = objs[0].str("timestamp");
    let (sec, usec) = ts.split_once('.').expect("sec.usec");
    assert!(
        sec.parse::<u64>().unwrap() > 1_500_000_000 && usec.len() == 6,
        "{ts}"
    );
    assert!((0..=0xffff).contains(&objs[0].int("ident")));
    // -v's diagnostics stay on stderr, as text (upstream prints the
    // address line on stdout, which -j keeps JSON).
    assert!(
        text(&out.stderr).contains("ai->ai_family: AF_INET, ai->ai_canonname: '127.0.0.1'"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn json_flood_stays_json_and_setup_errors_are_objects() {
    // -j -f: no dots or backspaces (not JSON), only the objects.
    let out = as_user(
        &launcher(),
        &["-j", "-f", "-i", "0.01", "-c", "5", "127.0.0.1"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let objs = objects(&text(&out.stdout));
    assert_eq!(objs.len(), 1, "{objs:?}");
    assert_eq!(objs[0].int("transmitted"), 5, "{objs:?}");
    assert_eq!(objs[0].int("received"), 5, "{objs:?}");

    // Upstream reports setup()'s interval check as a JSON error on stdout.
    let out = as_user(&launcher(), &["-j", "-i", "0.001", "-c", "1", "127.0.0.1"]);
    assert_eq!(out.status.code(), Some(2));
    let objs = objects(&text(&out.stdout));
    assert_eq!(objs.len(), 1, "{objs:?}");
    assert!(objs[0].str("error").starts_with("cannot flood"), "{objs:?}");
    assert_eq!(text(&out.stderr).lines().count(), 1);

    let out = as_user(&launcher(), &["-j", "-V"]);
    assert_eq!(out.status.code(), Some(0));
    let objs = objects(&text(&out.stdout));
    assert_eq!(objs.len(), 1);
    assert!(!objs[0].str("version").is_empty());
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn json_without_replies_still_prints_a_summary() {
    let silent = "ip link set lo up; sysctl -qw net.ipv4.icmp_echo_ignore_all=1; \
                  sysctl -qw net.ipv6.icmp.echo_ignore_all=1";
    for host in ["127.0.0.1", "::1"] {
        let out = in_netns(
            silent,
            &launcher(),
            &["-j", "-c", "2", "-i", "0.2", "-W", "1", host],
        );
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        let objs = objects(&text(&out.stdout));
        assert_eq!(objs.len(), 1, "{objs:?}");
        let s = &objs[0];
        assert_eq!(
            (s.int("transmitted"), s.int("received"), s.int("loss")),
            (2, 0, 100)
        );
        assert_eq!(s.get("rtt"), None);
    }
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn json_icmp_errors_are_error_objects() {
    // 10.9.9.2 is on veth0's subnet but nothing answers ARP for it: the
    // kernel reports Destination Host Unreachable from 10.9.9.1 for each
    // request (after about three seconds of ARP probes).
    let setup = "ip link set lo up; ip link add veth0 type veth peer name veth1; \
                 ip addr add 10.9.9.1/24 dev veth0; ip link set veth0 up; ip link set veth1 up";
    let out = in_netns(
        setup,
        &launcher(),
        &["-j", "-c", "2", "-i", "0.3", "10.9.9.2"],
    );
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    let mut objs = objects(&stdout);
    let summary = objs.pop().expect("a summary");
    assert!(!objs.is_empty(), "{stdout}");
    for (i, e) in objs.iter().enumerate() {
        assert_eq!(e.keys(), ["error", "host", "seq"], "{e:?}");
        assert_eq!(e.str("error"), "Destination Host Unreachable");
        assert_eq!(e.str("host"), "10.9.9.1");
        assert_eq!(e.int("seq"), i as i64 + 1);
    }
    assert_eq!(summary.int("received"), 0);
    assert_eq!(summary.int("errors"), objs.len() as i64);
    assert_eq!(summary.str("host"), "10.9.9.2");
}

#[test]
fn the_checker_refuses_what_is_not_one_object_per_line() {
    assert_eq!(objects("{\"a\": 1, \"b\": [true, null]}\n").len(), 1);
    for bad in [
        "{\"a\": 1, \"a\": 2}\n",
        "{\"a\": 1} x\n",
        "PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.\n",
        "[1]\n",
        "{\"a\": 1}",
    ] {
        let refused = std::panic::catch_unwind(|| objects(bad)).is_err();
        assert!(refused, "{bad:?} was accepted");
    }
}
