//! The grammar of iputils `ping` output lines (20221126, numeric mode `-n`)
//! and the counts in its summary line. Every stdout line the worker prints
//! under attack must parse here: a hostile packet must never produce a
//! corrupted, interleaved or control-character line.

#![forbid(unsafe_code)]

/// What one stdout line is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// `PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.` / `PING ::1(::1) 56 data bytes`
    Header,
    /// `64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.045 ms` and its
    /// `(DUP!)`, `(BAD CHECKSUM!)`, `(DIFFERENT ADDRESS!)`, `(truncated)` forms.
    Reply { seq: u32, flags: Vec<String> },
    /// `From 127.0.0.1 icmp_seq=1 Destination Host Unreachable`
    Error { seq: u32 },
    /// `wrong data byte #8 should be 0x8 but was 0x0` and the hex dump after it.
    WrongData,
    /// An empty line (before the statistics).
    Blank,
    /// `--- 127.0.0.1 ping statistics ---`
    StatsHeader,
    /// `4 packets transmitted, 4 received, 0% packet loss, time 603ms`
    Summary(Summary),
    /// `rtt min/avg/max/mdev = 0.036/0.047/0.056/0.007 ms`
    Rtt,
}

/// The counts of the summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// `N packets transmitted`
    pub transmitted: u64,
    /// `N received`
    pub received: u64,
    /// `+N duplicates`
    pub duplicates: u64,
    /// `+N corrupted`
    pub corrupted: u64,
    /// `+N errors`
    pub errors: u64,
    /// `P% packet loss` (integer part)
    pub loss_percent: u64,
}

fn uint(s: &str) -> Option<u64> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn decimal(s: &str) -> bool {
    let mut parts = s.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    uint(int).is_some() && parts.next().is_none_or(|f| uint(f).is_some())
}

/// An address as iputils prints it with `-n`: dotted IPv4 or IPv6.
fn address(s: &str) -> bool {
    s.parse::<std::net::IpAddr>().is_ok()
}

/// `ADDR` or `NAME (ADDR)` followed by `end`; returns the rest.
fn from_part<'a>(s: &'a str, end: &str) -> Option<&'a str> {
    let (who, rest) = s.split_once(end)?;
    let ok = address(who)
        || who.split_once(" (").is_some_and(|(name, addr)| {
            !name.is_empty() && addr.strip_suffix(')').is_some_and(address)
        });
    ok.then_some(rest)
}

fn parse_reply(line: &str) -> Option<Line> {
    let (bytes, rest) = line.split_once(" bytes from ")?;
    uint(bytes)?;
    let rest = from_part(rest, ": icmp_seq=")?;
    let mut words = rest.split(' ');
    let seq = uint(words.next()?)? as u32;
    let mut flags = Vec::new();
    while let Some(w) = words.next() {
        if let Some(ttl) = w.strip_prefix("ttl=") {
            uint(ttl)?;
        } else if let Some(t) = w.strip_prefix("time=") {
            // iputils prints "time=0.045 ms" and, for long times, "time=1234 ms".
            if !decimal(t) || words.next()? != "ms" {
                return None;
            }
        } else if w == "(DUP!)" || w == "(truncated)" {
            flags.push(w.to_string());
        } else if w == "(BAD" || w == "(DIFFERENT" {
            let second = words.next()?;
            if !matches!(
                (w, second),
                ("(BAD", "CHECKSUM!)") | ("(DIFFERENT", "ADDRESS!)")
            ) {
                return None;
            }
            flags.push(format!("{w} {second}"));
        } else {
            return None;
        }
    }
    Some(Line::Reply { seq, flags })
}

fn parse_error(line: &str) -> Option<Line> {
    let rest = line.strip_prefix("From ")?;
    let rest = from_part(rest, " icmp_seq=")?;
    let (seq, message) = rest.split_once(' ')?;
    let seq = uint(seq)? as u32;
    let known = message
        .split(' ')
        .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_graphic()));
    known.then_some(Line::Error { seq })
}

fn parse_summary(line: &str) -> Option<Summary> {
    let mut s = Summary::default();
    let mut parts = line.split(", ");
    s.transmitted = uint(parts.next()?.strip_suffix(" packets transmitted")?)?;
    s.received = uint(parts.next()?.strip_suffix(" received")?)?;
    let mut part = parts.next()?;
    for (suffix, slot) in [
        (" duplicates", &mut s.duplicates),
        (" corrupted", &mut s.corrupted),
        (" errors", &mut s.errors),
    ] {
        if let Some(n) = part.strip_prefix('+').and_then(|p| p.strip_suffix(suffix)) {
            *slot = uint(n)?;
            part = parts.next()?;
        }
    }
    // iputils prints a negative loss when replies for sequence numbers it
    // never sent push "received" above "transmitted" (kept as 0 here).
    let loss = part.strip_suffix("% packet loss")?;
    let magnitude = loss.strip_prefix('-').unwrap_or(loss);
    if !decimal(magnitude) {
        return None;
    }
    s.loss_percent = if loss.starts_with('-') {
        0
    } else {
        uint(magnitude.split('.').next()?)?
    };
    let time = parts.next()?.strip_prefix("time ")?.strip_suffix("ms")?;
    uint(time)?;
    parts.next().is_none().then_some(s)
}

fn parse_rtt(line: &str) -> Option<Line> {
    let rest = line.strip_prefix("rtt min/avg/max/mdev = ")?;
    let mut parts = rest.split(", ");
    let values = parts.next()?.strip_suffix(" ms")?;
    let v: Vec<&str> = values.split('/').collect();
    if v.len() != 4 || !v.iter().all(|x| decimal(x)) {
        return None;
    }
    for extra in parts {
        if let Some(n) = extra.strip_prefix("pipe ") {
            uint(n)?;
        } else {
            let vals = extra.strip_prefix("ipg/ewma ")?.strip_suffix(" ms")?;
            let (a, b) = vals.split_once('/')?;
            if !decimal(a) || !decimal(b) {
                return None;
            }
        }
    }
    Some(Line::Rtt)
}

fn parse_wrong_data(line: &str) -> Option<Line> {
    if let Some(rest) = line.strip_prefix("wrong data byte #") {
        let (n, rest) = rest.split_once(" should be 0x")?;
        uint(n)?;
        let (a, b) = rest.split_once(" but was 0x")?;
        let hex = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_hexdigit());
        return (hex(a) && hex(b)).then_some(Line::WrongData);
    }
    // The dump: "#8\t8 9 a b ..." rows.
    let rest = line.strip_prefix('#')?;
    let (n, bytes) = rest.split_once('\t')?;
    uint(n)?;
    bytes
        .split(' ')
        .all(|w| w.is_empty() || (w.len() <= 2 && w.bytes().all(|c| c.is_ascii_hexdigit())))
        .then_some(Line::WrongData)
}

/// Parses one stdout line (without its newline), or `None` if it is not a
/// line iputils could print.
pub fn parse_line(line: &str) -> Option<Line> {
    if line.bytes().any(|b| b.is_ascii_control() && b != b'\t') || !line.is_ascii() {
        return None;
    }
    if line.is_empty() {
        return Some(Line::Blank);
    }
    if let Some(rest) = line.strip_prefix("PING ") {
        let ok = rest.ends_with(" bytes of data.") || rest.ends_with(" data bytes");
        return ok.then_some(Line::Header);
    }
    if line.starts_with("--- ") && line.ends_with(" ping statistics ---") {
        return Some(Line::StatsHeader);
    }
    if line.contains(" packets transmitted, ") {
        return parse_summary(line).map(Line::Summary);
    }
    parse_reply(line)
        .or_else(|| parse_error(line))
        .or_else(|| parse_rtt(line))
        .or_else(|| parse_wrong_data(line))
}

/// Parses a whole stdout: every line must be valid, the output must end with
/// a newline, and exactly one summary line must be present. Returns the
/// lines and the summary, or a message naming the first bad line.
pub fn parse_output(stdout: &str) -> Result<(Vec<Line>, Summary), String> {
    if !stdout.is_empty() && !stdout.ends_with('\n') {
        return Err(format!("output does not end with a newline: {stdout:?}"));
    }
    let mut lines = Vec::new();
    let mut summary = None;
    for (i, raw) in stdout.lines().enumerate() {
        let line = parse_line(raw)
            .ok_or_else(|| format!("line {} is not an iputils line: {raw:?}", i + 1))?;
        if let Line::Summary(s) = &line {
            if summary.replace(*s).is_some() {
                return Err("two summary lines".into());
            }
        }
        lines.push(line);
    }
    let summary = summary.ok_or_else(|| format!("no summary line in {stdout:?}"))?;
    Ok((lines, summary))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_iputils_lines() {
        let out = "PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.\n\
                   64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.045 ms\n\
                   64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.050 ms (DUP!)\n\
                   12 bytes from 127.0.0.1: icmp_seq=2 ttl=64 (truncated)\n\
                   64 bytes from 127.0.0.2: icmp_seq=3 ttl=64 time=1234 ms (DIFFERENT ADDRESS!)\n\
                   From 127.0.0.1 icmp_seq=4 Destination Host Unreachable\n\
                   wrong data byte #8 should be 0x8 but was 0x0\n\
                   #8\t0 9 a b c d e f 10 11 \n\
                   \n\
                   --- 127.0.0.1 ping statistics ---\n\
                   4 packets transmitted, 3 received, +1 duplicates, +1 errors, 25% packet loss, time 603ms\n\
                   rtt min/avg/max/mdev = 0.036/0.047/0.056/0.007 ms, pipe 2\n";
        let (lines, s) = parse_output(out).unwrap();
        assert_eq!(lines.len(), 12);
        assert_eq!(
            s,
            Summary {
                transmitted: 4,
                received: 3,
                duplicates: 1,
                errors: 1,
                loss_percent: 25,
                corrupted: 0
            }
        );
        assert!(parse_line("PING ::1(::1) 56 data bytes").is_some());
        assert_eq!(
            parse_line("64 bytes from ::1: icmp_seq=7 ttl=64 time=0.1 ms (DUP!)"),
            Some(Line::Reply {
                seq: 7,
                flags: vec!["(DUP!)".into()]
            })
        );
    }

    #[test]
    fn rejects_corrupted_lines() {
        for bad in [
            "64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.045 ms64 bytes",
            "64 bytes from 127.0.0.1: icmp_seq=-1 ttl=64 time=0.045 ms",
            "64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.045",
            "64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.045 ms\r",
            "64 bytes from 999.0.0.1: icmp_seq=1 ttl=64 time=0.045 ms",
            "64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.045 ms \u{1b}[31m",
            "From 127.0.0.1 icmp_seq=1 ",
            "4 packets transmitted, 3 received, 25% packet loss",
            "4 packets transmitted, 3 received, +x errors, 25% packet loss, time 1ms",
            "rtt min/avg/max/mdev = 0.036/0.047/0.056 ms",
            "thread 'main' panicked at src/main.rs:1:1",
            "garbage",
        ] {
            assert_eq!(parse_line(bad), None, "{bad:?}");
        }
        assert!(
            parse_output("PING x (127.0.0.1) 56(84) bytes of data.\n").is_err(),
            "no summary"
        );
        assert!(parse_output("\n--- x ping statistics ---\n1 packets transmitted, 1 received, 0% packet loss, time 0ms").is_err());
    }
}
