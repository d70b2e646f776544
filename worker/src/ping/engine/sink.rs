//! The output sinks: every line the loop prints, as iputils' text
//! ([`Text`]) or as upstream's `-j` JSON objects ([`Json`]), behind one
//! trait, [`Sink`]. The engine decides *what* happened (and whether
//! `-q`/`-f` silence it); a sink decides how it reads. Sinks only format
//! into [`Lines`]; the engine writes those out after each event, so a
//! sink does no I/O and the loop keeps one place that notes a failed
//! stdout.
//!
//! The engine holds a [`Format`], an enum of the two: a `match` per event,
//! no dynamic dispatch on the per-packet path.

use std::fmt::Write as _;
use std::io;

use crate::ping::json;
use crate::ping::nodeinfo;
use crate::ping::output::{self, ReplyLine, Summary};
use crate::text;

/// What one event printed: bytes for stdout and for stderr, written by
/// the engine (stderr first; an event writes to one of them only).
#[derive(Debug, Default)]
pub struct Lines {
    pub out: String,
    pub err: String,
}

/// A node information reply (`-N`), as both formats need it.
#[derive(Debug, Clone, Copy)]
pub struct NodeInfoLine<'a> {
    /// `-D`: the receive wall-clock time.
    pub timestamp: Option<(i64, i64)>,
    /// The whole reply (its length, and the text the text format prints).
    pub packet: &'a [u8],
    pub from: &'a str,
    pub seq: u16,
    /// `-v`: the identifier, when known (the text format only).
    pub ident: Option<u16>,
    /// The hop limit, when the kernel gave it.
    pub hops: Option<i32>,
    /// A duplicate, as counted.
    pub dup: bool,
    /// A duplicate worth saying (not from a multicast group without -v):
    /// the text format's `(DUP!)`.
    pub dup_shown: bool,
    /// `-a`: a bell after the line (the text format).
    pub audible: bool,
}

/// How each event of the loop reads.
pub trait Sink {
    /// A flood character (`.`, `E`, backspaces, the bell).
    fn flood_mark(&self, l: &mut Lines, mark: &str);
    /// `-O`: nothing came back yet for `seq`.
    fn no_answer(&self, l: &mut Lines, ts: Option<(i64, i64)>, seq: u64);
    /// Whether [`Sink::reply`] prints `-R`/`-T`'s IP options (the caller
    /// then formats them: naming the hops may ask the resolver).
    fn ip_options(&self) -> bool;
    /// An echo reply: `sent`/`got` are the data sent and received (a
    /// mismatch is reported unless the reply was cut short), `options` the
    /// IP options' text when [`Sink::ip_options`].
    fn reply(
        &self,
        l: &mut Lines,
        r: &ReplyLine<'_>,
        sent: &[u8],
        got: &[u8],
        audible: bool,
        options: Option<&str>,
    );
    /// A node information reply.
    fn nodeinfo_reply(&self, l: &mut Lines, r: &NodeInfoLine<'_>);
    /// A redirect or source quench about one of our requests.
    fn notice(
        &self,
        l: &mut Lines,
        ts: Option<(i64, i64)>,
        from: &str,
        seq: u16,
        bad_checksum: bool,
        text: &str,
    );
    /// `-v`: an ICMP message of another type, as root.
    fn other_type(&self, l: &mut Lines, from: &str, text: &str);
    /// An ICMP error about one of our requests, from the error queue.
    fn icmp_error(&self, l: &mut Lines, ts: Option<(i64, i64)>, from: &str, seq: u16, text: &str);
    /// What upstream reports through `ping_error()`.
    fn report(&self, l: &mut Lines, msg: &str);
    /// [`Sink::report`] for a failed call and its errno.
    fn report_errno(&self, l: &mut Lines, what: &str, e: &io::Error);
    /// The statistics at the end.
    fn summary(&self, l: &mut Lines, s: &Summary<'_>);
}

/// `prog: msg` as one printable stderr line.
pub fn stderr_line(prog: &str, msg: &str) -> String {
    let line = format!("{prog}: {msg}");
    format!("{}\n", text::printable(&line))
}

/// iputils' text output.
pub struct Text {
    /// The program name for messages (argv\[0\] as invoked).
    pub prog: String,
}

impl Sink for Text {
    fn flood_mark(&self, l: &mut Lines, mark: &str) {
        l.out.push_str(mark);
    }

    fn no_answer(&self, l: &mut Lines, ts: Option<(i64, i64)>, seq: u64) {
        if let Some((s, u)) = ts {
            l.out.push_str(&output::timestamp_prefix(s, u));
        }
        l.out.push_str(&output::no_answer_line(seq));
        l.out.push('\n');
    }

    fn ip_options(&self) -> bool {
        true
    }

    fn reply(
        &self,
        l: &mut Lines,
        r: &ReplyLine<'_>,
        sent: &[u8],
        got: &[u8],
        audible: bool,
        options: Option<&str>,
    ) {
        let mut line = output::reply_line(r);
        if !r.truncated {
            if let Some(report) = output::wrong_data(sent, got, crate::ping::icmp::TIMEVAL_LEN) {
                line.push_str(&report);
            }
        }
        l.out.push_str(&line);
        if audible {
            l.out.push('\x07');
        }
        if let Some(text) = options {
            l.out.push_str(text);
        }
        l.out.push('\n');
    }

    fn nodeinfo_reply(&self, l: &mut Lines, r: &NodeInfoLine<'_>) {
        if let Some((s, u)) = r.timestamp {
            l.out.push_str(&output::timestamp_prefix(s, u));
        }
        let text = text::printable(&nodeinfo::reply_text(r.packet, r.seq)).into_owned();
        let _ = write!(l.out, "{} bytes from {}:{text}", r.packet.len(), r.from);
        if let Some(ident) = r.ident {
            let _ = write!(l.out, " ident={ident}");
        }
        if let Some(h) = r.hops {
            let _ = write!(l.out, " ttl={h}");
        }
        if r.dup_shown {
            l.out.push_str(" (DUP!)");
        }
        if r.audible {
            l.out.push('\x07');
        }
        l.out.push('\n');
    }

    fn notice(
        &self,
        l: &mut Lines,
        ts: Option<(i64, i64)>,
        from: &str,
        seq: u16,
        bad_checksum: bool,
        text: &str,
    ) {
        l.out
            .push_str(&output::redirect_line(ts, from, seq, bad_checksum, text));
        l.out.push('\n');
    }

    fn other_type(&self, l: &mut Lines, from: &str, text: &str) {
        let _ = writeln!(l.out, "From {from}: {text}");
    }

    fn icmp_error(&self, l: &mut Lines, ts: Option<(i64, i64)>, from: &str, seq: u16, text: &str) {
        l.out.push_str(&output::error_line(ts, from, seq, text));
        l.out.push('\n');
    }

    fn report(&self, l: &mut Lines, msg: &str) {
        l.err.push_str(&stderr_line(&self.prog, msg));
    }

    fn report_errno(&self, l: &mut Lines, what: &str, e: &io::Error) {
        self.report(l, &format!("{what}: {}", output::os_error_text(e)));
    }

    fn summary(&self, l: &mut Lines, s: &Summary<'_>) {
        l.out.push_str(&output::summary(s));
    }
}

/// Upstream's `-j`: one JSON object per line on stdout. A flood prints no
/// characters (they are not JSON), and IP options have no field.
pub struct Json;

impl Sink for Json {
    fn flood_mark(&self, _: &mut Lines, _: &str) {}

    fn no_answer(&self, l: &mut Lines, ts: Option<(i64, i64)>, seq: u64) {
        json::no_answer(&mut l.out, ts, seq);
    }

    fn ip_options(&self) -> bool {
        false
    }

    fn reply(
        &self,
        l: &mut Lines,
        r: &ReplyLine<'_>,
        sent: &[u8],
        got: &[u8],
        _audible: bool,
        _options: Option<&str>,
    ) {
        let wrong = if r.truncated {
            None
        } else {
            output::first_mismatch(sent, got, crate::ping::icmp::TIMEVAL_LEN)
        };
        json::reply(&mut l.out, r, wrong);
    }

    fn nodeinfo_reply(&self, l: &mut Lines, r: &NodeInfoLine<'_>) {
        let line = ReplyLine {
            timestamp: r.timestamp,
            bytes: r.packet.len(),
            from: r.from,
            seq: r.seq,
            ttl: r.hops,
            dup: r.dup,
            ..ReplyLine::default()
        };
        json::reply(&mut l.out, &line, None);
    }

    fn notice(
        &self,
        l: &mut Lines,
        ts: Option<(i64, i64)>,
        from: &str,
        seq: u16,
        bad_checksum: bool,
        text: &str,
    ) {
        json::icmp_notice(&mut l.out, ts, from, Some(seq), bad_checksum, text);
    }

    fn other_type(&self, l: &mut Lines, from: &str, text: &str) {
        json::icmp_notice(&mut l.out, None, from, None, false, text);
    }

    fn icmp_error(&self, l: &mut Lines, ts: Option<(i64, i64)>, from: &str, seq: u16, text: &str) {
        json::icmp_error(&mut l.out, ts, from, seq, text);
    }

    fn report(&self, l: &mut Lines, msg: &str) {
        json::error(&mut l.out, msg);
    }

    fn report_errno(&self, l: &mut Lines, what: &str, e: &io::Error) {
        json::error_errno(&mut l.out, what, e);
    }

    fn summary(&self, l: &mut Lines, s: &Summary<'_>) {
        json::summary(&mut l.out, s);
    }
}

/// The sink a run prints with: `-j` or not.
pub enum Format {
    Text(Text),
    Json(Json),
}

impl Format {
    /// The sink for `json` (`-j`), naming messages after `prog`.
    pub fn new(json: bool, prog: String) -> Self {
        if json {
            Format::Json(Json)
        } else {
            Format::Text(Text { prog })
        }
    }
}

/// Forwards each event to the chosen sink (a `match`, inlined).
macro_rules! forward {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            Format::Text($s) => $call,
            Format::Json($s) => $call,
        }
    };
}

impl Sink for Format {
    #[inline]
    fn flood_mark(&self, l: &mut Lines, mark: &str) {
        forward!(self, s => s.flood_mark(l, mark))
    }

    fn no_answer(&self, l: &mut Lines, ts: Option<(i64, i64)>, seq: u64) {
        forward!(self, s => s.no_answer(l, ts, seq))
    }

    #[inline]
    fn ip_options(&self) -> bool {
        forward!(self, s => s.ip_options())
    }

    #[inline]
    fn reply(
        &self,
        l: &mut Lines,
        r: &ReplyLine<'_>,
        sent: &[u8],
        got: &[u8],
        audible: bool,
        options: Option<&str>,
    ) {
        forward!(self, s => s.reply(l, r, sent, got, audible, options))
    }

    fn nodeinfo_reply(&self, l: &mut Lines, r: &NodeInfoLine<'_>) {
        forward!(self, s => s.nodeinfo_reply(l, r))
    }

    fn notice(
        &self,
        l: &mut Lines,
        ts: Option<(i64, i64)>,
        from: &str,
        seq: u16,
        bad_checksum: bool,
        text: &str,
    ) {
        forward!(self, s => s.notice(l, ts, from, seq, bad_checksum, text))
    }

    fn other_type(&self, l: &mut Lines, from: &str, text: &str) {
        forward!(self, s => s.other_type(l, from, text))
    }

    fn icmp_error(&self, l: &mut Lines, ts: Option<(i64, i64)>, from: &str, seq: u16, text: &str) {
        forward!(self, s => s.icmp_error(l, ts, from, seq, text))
    }

    fn report(&self, l: &mut Lines, msg: &str) {
        forward!(self, s => s.report(l, msg))
    }

    fn report_errno(&self, l: &mut Lines, what: &str, e: &io::Error) {
        forward!(self, s => s.report_errno(l, what, e))
    }

    fn summary(&self, l: &mut Lines, s: &Summary<'_>) {
        forward!(self, k => k.summary(l, s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both() -> [Format; 2] {
        [
            Format::new(false, "ping".into()),
            Format::new(true, "ping".into()),
        ]
    }

    #[test]
    fn each_event_goes_to_its_stream_in_its_format() {
        let [text, json] = both();
        let mut l = Lines::default();
        text.report(&mut l, "oops\x1b");
        assert_eq!(
            (l.out.as_str(), l.err.as_str()),
            ("", "ping: oops\\u{1b}\n")
        );
        let mut l = Lines::default();
        json.report(&mut l, "oops");
        assert_eq!(
            (l.out.as_str(), l.err.as_str()),
            ("{\"error\": \"oops\"}\n", "")
        );

        let mut l = Lines::default();
        text.icmp_error(&mut l, None, "r", 3, "Destination Host Unreachable");
        assert_eq!(l.out, "From r icmp_seq=3 Destination Host Unreachable\n");
        let mut l = Lines::default();
        json.icmp_error(&mut l, None, "r", 3, "Destination Host Unreachable");
        assert!(
            l.out.starts_with('{') && l.out.contains("\"seq\": 3"),
            "{}",
            l.out
        );
    }

    #[test]
    fn a_flood_prints_characters_in_text_only() {
        let [text, json] = both();
        let (mut a, mut b) = (Lines::default(), Lines::default());
        text.flood_mark(&mut a, ".");
        json.flood_mark(&mut b, ".");
        assert_eq!((a.out.as_str(), b.out.as_str()), (".", ""));
        assert!(text.ip_options() && !json.ip_options());
    }

    #[test]
    fn a_reply_with_wrong_data_options_and_a_bell() {
        let [text, json] = both();
        let r = ReplyLine {
            bytes: 64,
            from: "h",
            seq: 1,
            ttl: Some(64),
            ..ReplyLine::default()
        };
        let sent = [0u8; 56];
        let mut got = [0u8; 56];
        got[20] = 9;
        let mut l = Lines::default();
        text.reply(&mut l, &r, &sent, &got, true, Some("\nRR: x"));
        assert_eq!(
            l.out,
            "64 bytes from h: icmp_seq=1 ttl=64\n\
             wrong data byte #20 should be 0x0 but was 0x9\n\
             #16\t0 0 0 0 9 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 \n\
             #48\t0 0 0 0 0 0 0 0 \x07\nRR: x\n"
        );
        let mut l = Lines::default();
        json.reply(&mut l, &r, &sent, &got, true, None);
        assert!(
            l.out
                .contains("\"wrong_data\": \"wrong data byte #20 should be 0x0 but was 0x9\""),
            "{}",
            l.out
        );
    }
}
