//! `-j`: every line the worker prints as one JSON object per line, in the
//! format upstream iputils gave `ping -j` (upstream's JSON pull request,
//! opened December 2024, merged 2025: `ping/ping_json.c`,
//! `ping/ping_output.c`, `ping_common.c:gather_statistics`,
//! `test/ping/test_json.py`). Pure functions that append to a caller's
//! buffer, so that the engine formats into its preallocated line buffer
//! inside the sandbox (no allocation for ordinary lines, no new syscalls).
//!
//! Verified against upstream's sources (byte for byte: `{` then `"key": value`
//! pairs joined by `, `, then `}`; integers bare, decimals as strings):
//!
//! - reply: `{"bytes": 64, "host": "127.0.0.1", "seq": 1, "ttl": 64, "time":
//!   "0.023"}` — `host` is the text mode's `from` ("name (addr)" or the
//!   address), `ident` (int) after `seq` with `-v`, `ttl` only when known,
//!   `"info": "truncated"` instead of `time` for a short reply;
//! - summary: `{"host": …, "transmitted": N, "received": N, "duplicates": N,
//!   "corrupted": N, "errors": N, "loss": N, "time": N, "rtt": {"min": "…",
//!   "avg": "…", "max": "…", "mdev": "…"}}`, then `"pipe": N` when the pipe
//!   was deeper than 1 and `"ipg": "…", "ewma": "…"` for flood / zero
//!   interval; `loss` is the integer part of the percentage and `time` is in
//!   milliseconds (upstream passes both through an `int` parameter);
//! - failures: `{"error": "message"}`, or `{"error": ["what", "strerror"]}`
//!   when an errno goes with it (upstream's `construct_json_error`);
//! - `-V`: `{"version": "…"}`;
//! - no object for the `PING …` header (upstream prints nothing for it).
//!
//! Inferred, because upstream emits raw text or nothing there (which breaks
//! its own one-object-per-line promise), and marked as such in the tests:
//!
//! - a summary is printed even when no reply came back (upstream builds it
//!   only with replies and timing), without `rtt`; `loss` is 0 when nothing
//!   was sent;
//! - `"dup": true` on a duplicate reply, `"corrupted": true` on one with a bad
//!   checksum, `"wrong_data": "wrong data byte #N should be 0xX but was 0xY"`
//!   (no hex dump) — upstream prints ` (DUP!)` etc. as raw text;
//! - `-D`: `"timestamp": "1700000000.123456"` first in each object;
//! - ICMP errors about our requests: `{"error": "Destination Host
//!   Unreachable", "host": "10.0.0.1", "seq": 3}` (upstream's JSON drops the
//!   `From … icmp_seq=` part and leaks the text); redirects and source
//!   quench: the same with `info` instead of `error`; `-O`: `{"info": "no
//!   answer yet", "seq": N}`; `-p`'s `PATTERN:` line is not printed;
//! - strings are escaped (upstream copies them verbatim).

#![forbid(unsafe_code)]

use std::fmt::Write as _;

use crate::ping::output::{self, ReplyLine, Summary};

/// Writes through to a line buffer, escaping for the inside of a JSON string.
struct Esc<'a>(&'a mut String);

impl std::fmt::Write for Esc<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        for c in s.chars() {
            match c {
                '"' => self.0.push_str("\\\""),
                '\\' => self.0.push_str("\\\\"),
                '\n' => self.0.push_str("\\n"),
                '\r' => self.0.push_str("\\r"),
                '\t' => self.0.push_str("\\t"),
                c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                    write!(self.0, "\\u{:04x}", u32::from(c))?;
                }
                c => self.0.push(c),
            }
        }
        Ok(())
    }
}

/// Appends `s` as a JSON string (quotes included).
pub fn push_str(out: &mut String, s: &str) {
    out.push('"');
    let _ = Esc(out).write_str(s);
    out.push('"');
}

/// One object being written into a line buffer: `{"k": v, "k": v}`.
pub struct Obj<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> Obj<'a> {
    pub fn start(out: &'a mut String) -> Self {
        out.push('{');
        Obj { out, first: true }
    }

    fn key(&mut self, k: &str) -> &mut String {
        if !self.first {
            self.out.push_str(", ");
        }
        self.first = false;
        push_str(self.out, k);
        self.out.push_str(": ");
        self.out
    }

    pub fn str(mut self, k: &str, v: &str) -> Self {
        push_str(self.key(k), v);
        self
    }

    /// A string value formatted in place (no temporary `String`).
    pub fn strw(
        mut self,
        k: &str,
        f: impl FnOnce(&mut dyn std::fmt::Write) -> std::fmt::Result,
    ) -> Self {
        let out = self.key(k);
        out.push('"');
        let _ = f(&mut Esc(out));
        out.push('"');
        self
    }

    pub fn int(mut self, k: &str, v: impl std::fmt::Display) -> Self {
        let _ = write!(self.key(k), "{v}");
        self
    }

    pub fn bool(mut self, k: &str, v: bool) -> Self {
        self.key(k).push_str(if v { "true" } else { "false" });
        self
    }

    /// `"k": ["a", "b"]`.
    pub fn strs(mut self, k: &str, v: &[&str]) -> Self {
        let out = self.key(k);
        out.push('[');
        for (i, s) in v.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            push_str(out, s);
        }
        out.push(']');
        self
    }

    /// `"k": {…}`, written by `f` into a nested object.
    pub fn obj(mut self, k: &str, f: impl FnOnce(Obj<'_>) -> Obj<'_>) -> Self {
        let out = self.key(k);
        f(Obj::start(out)).out.push('}');
        self
    }

    fn when(self, cond: bool, f: impl FnOnce(Self) -> Self) -> Self {
        if cond {
            f(self)
        } else {
            self
        }
    }

    fn timestamp(self, ts: Option<(i64, i64)>) -> Self {
        match ts {
            Some((sec, usec)) => self.strw("timestamp", |w| write!(w, "{sec}.{usec:06}")),
            None => self,
        }
    }

    /// Closes the object and ends the line.
    pub fn end(self) {
        self.out.push_str("}\n");
    }
}

/// One echo reply (the text mode's `64 bytes from …` line); `wrong` is
/// [`output::first_mismatch`] of its data.
pub fn reply(out: &mut String, r: &ReplyLine<'_>, wrong: Option<output::Mismatch>) {
    let o = Obj::start(out)
        .timestamp(r.timestamp)
        .int("bytes", r.bytes)
        .str("host", r.from)
        .int("seq", r.seq)
        .when(r.ident.is_some(), |o| o.int("ident", r.ident.unwrap_or(0)))
        .when(r.ttl.is_some(), |o| o.int("ttl", r.ttl.unwrap_or(0)));
    if r.truncated {
        return o.str("info", "truncated").end();
    }
    o.when(r.time_us.is_some(), |o| {
        o.strw("time", |w| output::write_time(w, r.time_us.unwrap_or(0)))
    })
    .when(r.dup, |o| o.bool("dup", true))
    .when(r.bad_checksum, |o| o.bool("corrupted", true))
    .when(wrong.is_some(), |o| {
        let m = wrong.unwrap_or_default();
        o.strw("wrong_data", |w| {
            write!(
                w,
                "wrong data byte #{} should be 0x{:x} but was 0x{:x}",
                m.index, m.sent, m.got
            )
        })
    })
    .end();
}

/// The statistics (the text mode's block after `--- host ping statistics ---`).
pub fn summary(out: &mut String, s: &Summary<'_>) {
    let loss = if s.transmitted > 0 {
        // Upstream: a float percentage handed to an `int` parameter.
        ((s.transmitted as i64 - s.received as i64) as f64 * 100.0 / s.transmitted as f64) as f32
            as i64
    } else {
        0
    };
    let rtt = s.rtt.filter(|_| s.received > 0);
    let ipg = output::ipg_ewma(s);
    Obj::start(out)
        .str("host", s.hostname)
        .int("transmitted", s.transmitted)
        .int("received", s.received)
        .int("duplicates", s.duplicates)
        .int("corrupted", s.corrupted)
        .int("errors", s.errors)
        .int("loss", loss)
        .int("time", output::elapsed_ms(s.elapsed))
        .when(rtt.is_some(), |o| {
            let r = rtt.unwrap_or_default();
            o.obj("rtt", |n| {
                n.strw("min", |w| output::write_ms3(w, r.min.into()))
                    .strw("avg", |w| output::write_ms3(w, r.avg().into()))
                    .strw("max", |w| output::write_ms3(w, r.max.into()))
                    .strw("mdev", |w| output::write_ms3(w, r.mdev().into()))
            })
        })
        .when(s.pipesize > 1, |o| o.int("pipe", s.pipesize))
        .when(ipg.is_some(), |o| {
            let (ipg, ewma8) = ipg.unwrap_or_default();
            o.strw("ipg", |w| output::write_ms3(w, ipg))
                .strw("ewma", |w| output::write_ewma(w, ewma8))
        })
        .end();
}

/// `{"error": "message"}`: a failure without an errno.
pub fn error(out: &mut String, msg: &str) {
    Obj::start(out).str("error", msg).end();
}

/// `{"error": ["what", "strerror"]}`: a failed call and its errno's text.
pub fn error_errno(out: &mut String, what: &str, err: &std::io::Error) {
    let text = output::os_error_text(err);
    Obj::start(out).strs("error", &[what, &text]).end();
}

/// An ICMP error about one of our requests (text: `From X icmp_seq=N text`).
pub fn icmp_error(out: &mut String, ts: Option<(i64, i64)>, from: &str, seq: u16, text: &str) {
    Obj::start(out)
        .timestamp(ts)
        .str("error", text)
        .str("host", from)
        .int("seq", seq)
        .end();
}

/// A redirect or source quench about one of our requests (not an error).
pub fn icmp_notice(
    out: &mut String,
    ts: Option<(i64, i64)>,
    from: &str,
    seq: Option<u16>,
    bad_checksum: bool,
    text: &str,
) {
    Obj::start(out)
        .timestamp(ts)
        .str("info", text)
        .str("host", from)
        .when(seq.is_some(), |o| o.int("seq", seq.unwrap_or(0)))
        .when(bad_checksum, |o| o.bool("corrupted", true))
        .end();
}

/// `-O`: nothing came back yet for `seq`.
pub fn no_answer(out: &mut String, ts: Option<(i64, i64)>, seq: u64) {
    Obj::start(out)
        .timestamp(ts)
        .str("info", "no answer yet")
        .int("seq", seq)
        .end();
}

/// `-V`.
pub fn version(out: &mut String) {
    Obj::start(out)
        .str("version", env!("CARGO_PKG_VERSION"))
        .end();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ping::output::Rtt;
    use std::time::Duration;

    /// A minimal JSON parser: enough to prove each line is one valid object
    /// and to read its members back.
    #[derive(Debug, Clone, PartialEq)]
    pub enum V {
        Null,
        Bool(bool),
        Num(String),
        Str(String),
        Arr(Vec<V>),
        Obj(Vec<(String, V)>),
    }

    impl V {
        pub fn get(&self, k: &str) -> Option<&V> {
            match self {
                V::Obj(m) => m.iter().find(|(key, _)| key == k).map(|(_, v)| v),
                _ => None,
            }
        }
        pub fn keys(&self) -> Vec<&str> {
            match self {
                V::Obj(m) => m.iter().map(|(k, _)| k.as_str()).collect(),
                _ => vec![],
            }
        }
    }

    struct P<'s> {
        s: &'s [u8],
        i: usize,
    }

    impl P<'_> {
        fn ws(&mut self) {
            while matches!(self.s.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
                self.i += 1;
            }
        }
        fn eat(&mut self, c: u8) -> Result<(), String> {
            self.ws();
            if self.s.get(self.i) == Some(&c) {
                self.i += 1;
                Ok(())
            } else {
                Err(format!("expected {:?} at {}", c as char, self.i))
            }
        }
        fn value(&mut self) -> Result<V, String> {
            self.ws();
            match self.s.get(self.i) {
                Some(b'{') => {
                    self.i += 1;
                    let mut m = Vec::new();
                    self.ws();
                    if self.s.get(self.i) == Some(&b'}') {
                        self.i += 1;
                        return Ok(V::Obj(m));
                    }
                    loop {
                        self.ws();
                        let V::Str(k) = self.value()? else {
                            return Err("key must be a string".into());
                        };
                        if m.iter().any(|(x, _)| *x == k) {
                            return Err(format!("duplicate key {k}"));
                        }
                        self.eat(b':')?;
                        let v = self.value()?;
                        m.push((k, v));
                        self.ws();
                        match self.s.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b'}') => {
                                self.i += 1;
                                return Ok(V::Obj(m));
                            }
                            _ => return Err(format!("bad object at {}", self.i)),
                        }
                    }
                }
                Some(b'[') => {
                    self.i += 1;
                    let mut a = Vec::new();
                    self.ws();
                    if self.s.get(self.i) == Some(&b']') {
                        self.i += 1;
                        return Ok(V::Arr(a));
                    }
                    loop {
                        a.push(self.value()?);
                        self.ws();
                        match self.s.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b']') => {
                                self.i += 1;
                                return Ok(V::Arr(a));
                            }
                            _ => return Err(format!("bad array at {}", self.i)),
                        }
                    }
                }
                Some(b'"') => {
                    self.i += 1;
                    let mut out = String::new();
                    loop {
                        let c = *self.s.get(self.i).ok_or("unterminated string")?;
                        self.i += 1;
                        match c {
                            b'"' => return Ok(V::Str(out)),
                            b'\\' => {
                                let e = *self.s.get(self.i).ok_or("bad escape")?;
                                self.i += 1;
                                match e {
                                    b'"' => out.push('"'),
                                    b'\\' => out.push('\\'),
                                    b'/' => out.push('/'),
                                    b'n' => out.push('\n'),
                                    b'r' => out.push('\r'),
                                    b't' => out.push('\t'),
                                    b'b' => out.push('\u{8}'),
                                    b'f' => out.push('\u{c}'),
                                    b'u' => {
                                        let h =
                                            self.s.get(self.i..self.i + 4).ok_or("short \\u")?;
                                        let h =
                                            std::str::from_utf8(h).map_err(|e| e.to_string())?;
                                        let n = u32::from_str_radix(h, 16)
                                            .map_err(|e| e.to_string())?;
                                        out.push(char::from_u32(n).ok_or("bad \\u")?);
                                        self.i += 4;
                                    }
                                    _ => return Err("bad escape".into()),
                                }
                            }
                            c if c < 0x20 => return Err("raw control character in string".into()),
                            _ => {
                                // Copy one UTF-8 sequence.
                                let start = self.i - 1;
                                let len = match c {
                                    0x00..=0x7f => 1,
                                    0xc0..=0xdf => 2,
                                    0xe0..=0xef => 3,
                                    _ => 4,
                                };
                                let bytes = self.s.get(start..start + len).ok_or("bad utf-8")?;
                                out.push_str(
                                    std::str::from_utf8(bytes).map_err(|e| e.to_string())?,
                                );
                                self.i = start + len;
                            }
                        }
                    }
                }
                Some(b't') if self.s[self.i..].starts_with(b"true") => {
                    self.i += 4;
                    Ok(V::Bool(true))
                }
                Some(b'f') if self.s[self.i..].starts_with(b"false") => {
                    self.i += 5;
                    Ok(V::Bool(false))
                }
                Some(b'n') if self.s[self.i..].starts_with(b"null") => {
                    self.i += 4;
                    Ok(V::Null)
                }
                Some(b'-' | b'0'..=b'9') => {
                    let start = self.i;
                    self.i += 1;
                    while matches!(
                        self.s.get(self.i),
                        Some(b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
                    ) {
                        self.i += 1;
                    }
                    let t =
                        std::str::from_utf8(&self.s[start..self.i]).map_err(|e| e.to_string())?;
                    t.parse::<f64>().map_err(|e| format!("{t}: {e}"))?;
                    Ok(V::Num(t.to_string()))
                }
                _ => Err(format!("unexpected input at {}", self.i)),
            }
        }
    }

    /// Parses one output line: exactly one object, newline-terminated.
    pub fn parse_line(line: &str) -> Result<V, String> {
        let body = line
            .strip_suffix('\n')
            .ok_or("line must end with a newline")?;
        if body.contains('\n') {
            return Err("more than one line".into());
        }
        let mut p = P {
            s: body.as_bytes(),
            i: 0,
        };
        let v = p.value()?;
        p.ws();
        if p.i != body.len() {
            return Err(format!("trailing input at {}", p.i));
        }
        match v {
            V::Obj(_) => Ok(v),
            _ => Err("not an object".into()),
        }
    }

    fn num(v: &V, k: &str) -> i64 {
        match v.get(k) {
            Some(V::Num(n)) => n.parse().unwrap(),
            other => panic!("{k}: {other:?}"),
        }
    }

    fn string(v: &V, k: &str) -> String {
        match v.get(k) {
            Some(V::Str(s)) => s.clone(),
            other => panic!("{k}: {other:?}"),
        }
    }

    fn line(f: impl FnOnce(&mut String)) -> String {
        let mut s = String::new();
        f(&mut s);
        s
    }

    #[test]
    fn the_validator_rejects_what_it_should() {
        for bad in [
            "{\"a\": 1}",
            "{\"a\": 1}}\n",
            "{\"a\": 1, }\n",
            "{\"a\" 1}\n",
            "{\"a\": \"x\ny\"}\n",
            "[1]\n",
            "{\"a\": 1, \"a\": 2}\n",
            "{\"a\": 01x}\n",
            "\"PING\"\n",
            "PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.\n",
            "{\"pipe\": 2, }\n",
        ] {
            assert!(parse_line(bad).is_err(), "{bad:?} accepted");
        }
        assert!(parse_line("{\"a\": [\"x\", \"\\u0001\"], \"b\": {\"c\": true}}\n").is_ok());
    }

    fn reply_fixture<'a>() -> ReplyLine<'a> {
        ReplyLine {
            bytes: 64,
            from: "127.0.0.1",
            seq: 1,
            ttl: Some(64),
            time_us: Some(23),
            ..Default::default()
        }
    }

    // Upstream's byte layout, from ping_json.c (json_start_object "{",
    // json_kv_* "\"%s\": …", json_continue ", ", end "}\n") and the keys
    // gather_statistics/pr_echo_reply pass: bytes, host, seq, ident, ttl, time.
    #[test]
    fn reply_is_upstreams_object_byte_for_byte() {
        let r = reply_fixture();
        assert_eq!(
            line(|o| reply(o, &r, None)),
            "{\"bytes\": 64, \"host\": \"127.0.0.1\", \"seq\": 1, \"ttl\": 64, \"time\": \"0.023\"}\n"
        );
        let v = ReplyLine {
            from: "localhost (127.0.0.1)",
            ident: Some(4660),
            time_us: Some(12_345),
            ..r.clone()
        };
        assert_eq!(
            line(|o| reply(o, &v, None)),
            "{\"bytes\": 64, \"host\": \"localhost (127.0.0.1)\", \"seq\": 1, \"ident\": 4660, \"ttl\": 64, \"time\": \"12.3\"}\n"
        );
        let t = ReplyLine {
            bytes: 12,
            ttl: None,
            truncated: true,
            ..r.clone()
        };
        assert_eq!(
            line(|o| reply(o, &t, None)),
            "{\"bytes\": 12, \"host\": \"127.0.0.1\", \"seq\": 1, \"info\": \"truncated\"}\n"
        );
        let small = ReplyLine {
            bytes: 8,
            time_us: None,
            ..r.clone()
        };
        assert_eq!(
            line(|o| reply(o, &small, None)),
            "{\"bytes\": 8, \"host\": \"127.0.0.1\", \"seq\": 1, \"ttl\": 64}\n"
        );
    }

    // Inferred shapes (upstream leaks raw text for these).
    #[test]
    fn reply_extras_are_valid_json() {
        let r = ReplyLine {
            dup: true,
            timestamp: Some((1_700_000_000, 1234)),
            ..reply_fixture()
        };
        let m = output::Mismatch {
            index: 20,
            sent: 0x14,
            got: 0xff,
        };
        let s = line(|o| reply(o, &r, Some(m)));
        let v = parse_line(&s).unwrap();
        assert_eq!(
            v.keys(),
            [
                "timestamp",
                "bytes",
                "host",
                "seq",
                "ttl",
                "time",
                "dup",
                "wrong_data"
            ]
        );
        assert_eq!(string(&v, "timestamp"), "1700000000.001234");
        assert_eq!(v.get("dup"), Some(&V::Bool(true)));
        assert_eq!(
            string(&v, "wrong_data"),
            "wrong data byte #20 should be 0x14 but was 0xff"
        );
        let c = ReplyLine {
            bad_checksum: true,
            ..reply_fixture()
        };
        let v = parse_line(&line(|o| reply(o, &c, None))).unwrap();
        assert_eq!(v.get("corrupted"), Some(&V::Bool(true)));
        assert_eq!(v.get("dup"), None);
    }

    #[test]
    fn host_names_are_escaped() {
        let r = ReplyLine {
            from: "we\"ird\\name\u{1}\n (10.0.0.1)",
            ..reply_fixture()
        };
        let v = parse_line(&line(|o| reply(o, &r, None))).unwrap();
        assert_eq!(string(&v, "host"), "we\"ird\\name\u{1}\n (10.0.0.1)");
        let s = Summary {
            hostname: "ünïcode\t\"host\"",
            ..Default::default()
        };
        let v = parse_line(&line(|o| summary(o, &s))).unwrap();
        assert_eq!(string(&v, "host"), "ünïcode\t\"host\"");
    }

    fn rtt_fixture() -> Rtt {
        // 631, 37 and 31 µs: text mode prints 0.031/0.233/0.631/0.281.
        Rtt {
            min: 31,
            max: 631,
            sum: 699.0,
            sum2: (631 * 631 + 37 * 37 + 31 * 31) as f64,
            total: 3,
            ewma8: 0,
        }
    }

    #[test]
    fn summary_is_upstreams_object_byte_for_byte() {
        let s = Summary {
            hostname: "127.0.0.1",
            transmitted: 3,
            received: 3,
            elapsed: Duration::from_micros(2_041_700),
            rtt: Some(rtt_fixture()),
            ..Default::default()
        };
        assert_eq!(
            line(|o| summary(o, &s)),
            "{\"host\": \"127.0.0.1\", \"transmitted\": 3, \"received\": 3, \"duplicates\": 0, \
             \"corrupted\": 0, \"errors\": 0, \"loss\": 0, \"time\": 2042, \"rtt\": {\"min\": \"0.031\", \
             \"avg\": \"0.233\", \"max\": \"0.631\", \"mdev\": \"0.281\"}}\n"
        );
    }

    #[test]
    fn summary_loss_is_the_integer_part_and_pipe_and_ipg_follow_rtt() {
        let s = Summary {
            hostname: "::1",
            transmitted: 3,
            received: 1,
            duplicates: 2,
            errors: 1,
            elapsed: Duration::from_millis(2000),
            rtt: Some(Rtt {
                min: 40,
                max: 40,
                sum: 120.0,
                sum2: 4800.0,
                total: 3,
                ewma8: 320,
            }),
            pipesize: 2,
            ipg: true,
            ..Default::default()
        };
        let text = line(|o| summary(o, &s));
        assert!(
            text.ends_with(
                "\"loss\": 66, \"time\": 2000, \"rtt\": {\"min\": \"0.040\", \"avg\": \"0.040\", \
                 \"max\": \"0.040\", \"mdev\": \"0.000\"}, \"pipe\": 2, \"ipg\": \"1000.000\", \"ewma\": \"0.040\"}\n"
            ),
            "{text}"
        );
        let v = parse_line(&text).unwrap();
        assert_eq!((num(&v, "duplicates"), num(&v, "errors")), (2, 1));
        // Upstream's pipe-without-ipg case ends in ", }": ours stays valid.
        let no_ipg = Summary { ipg: false, ..s };
        let v = parse_line(&line(|o| summary(o, &no_ipg))).unwrap();
        assert_eq!(v.keys().last(), Some(&"pipe"));
    }

    // Inferred: upstream prints no summary without replies.
    #[test]
    fn summary_without_replies_has_no_rtt() {
        let s = Summary {
            hostname: "10.9.9.2",
            transmitted: 2,
            elapsed: Duration::from_millis(1010),
            rtt: Some(Rtt::default()),
            ..Default::default()
        };
        let v = parse_line(&line(|o| summary(o, &s))).unwrap();
        assert_eq!(
            (num(&v, "transmitted"), num(&v, "received"), num(&v, "loss")),
            (2, 0, 100)
        );
        assert_eq!(v.get("rtt"), None);
        let none = Summary::default();
        let v = parse_line(&line(|o| summary(o, &none))).unwrap();
        assert_eq!(num(&v, "loss"), 0);
    }

    #[test]
    fn errors_follow_construct_json_error() {
        assert_eq!(
            line(|o| error(o, "cannot flood, minimal interval for user must be >= 2 ms, use -i 0.002 (or higher)")),
            "{\"error\": \"cannot flood, minimal interval for user must be >= 2 ms, use -i 0.002 (or higher)\"}\n"
        );
        let e = std::io::Error::from_raw_os_error(libc::EMSGSIZE);
        assert_eq!(
            line(|o| error_errno(o, "sendmsg", &e)),
            "{\"error\": [\"sendmsg\", \"Message too long\"]}\n"
        );
    }

    #[test]
    fn icmp_errors_notices_and_outstanding() {
        let s = line(|o| icmp_error(o, None, "10.9.9.1", 3, &output::icmp4_text(3, 1, 0)));
        assert_eq!(
            s,
            "{\"error\": \"Destination Host Unreachable\", \"host\": \"10.9.9.1\", \"seq\": 3}\n"
        );
        let v = parse_line(&line(|o| {
            icmp_notice(
                o,
                Some((1, 2)),
                "10.0.0.1",
                Some(2),
                true,
                &output::icmp4_text(5, 1, 0x0a00_0002),
            )
        }))
        .unwrap();
        assert_eq!(v.keys(), ["timestamp", "info", "host", "seq", "corrupted"]);
        assert_eq!(string(&v, "info"), "Redirect Host(New nexthop: 10.0.0.2)");
        assert_eq!(
            line(|o| no_answer(o, None, 4)),
            "{\"info\": \"no answer yet\", \"seq\": 4}\n"
        );
        let v = parse_line(&line(version)).unwrap();
        assert_eq!(string(&v, "version"), env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn time_values_match_the_text_modes() {
        for us in [0, 45, 999, 1000, 9995, 12_345, 99_950, 1_234_567] {
            let r = ReplyLine {
                time_us: Some(us),
                ..reply_fixture()
            };
            let v = parse_line(&line(|o| reply(o, &r, None))).unwrap();
            assert_eq!(string(&v, "time"), output::format_time(us), "{us} us");
        }
    }

    #[test]
    fn ordinary_lines_do_not_grow_a_sized_buffer() {
        // The engine's line buffer is preallocated before the sandbox; a
        // reply, an error and the summary must fit without reallocating.
        let mut out = String::with_capacity(4096);
        let ptr = out.as_ptr();
        reply(&mut out, &reply_fixture(), None);
        icmp_error(
            &mut out,
            Some((1, 1)),
            "10.9.9.1",
            3,
            "Destination Host Unreachable",
        );
        let s = Summary {
            hostname: "127.0.0.1",
            transmitted: 3,
            received: 3,
            rtt: Some(rtt_fixture()),
            pipesize: 3,
            ipg: true,
            ..Default::default()
        };
        summary(&mut out, &s);
        assert_eq!(out.as_ptr(), ptr);
        assert_eq!(out.lines().count(), 3);
        for l in out.split_inclusive('\n') {
            parse_line(l).unwrap();
        }
    }
}
