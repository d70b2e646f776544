//! Normalising an invocation's output (times, and the order of flood
//! marks) and comparing two runs line by line with their exit codes.

use std::sync::OnceLock;

use regex::Regex;

/// What one run produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Standard output, normalised, line by line.
    pub stdout: Vec<String>,
    /// Standard error, normalised, line by line.
    pub stderr: Vec<String>,
    /// `exit N`, `signal N` or `timeout`.
    pub status: String,
}

fn rules() -> &'static [(Regex, &'static str)] {
    static RULES: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    RULES.get_or_init(|| {
        [
            // A reply's round-trip time.
            (r"time[=<][0-9]+(\.[0-9]+)? ?ms", "time=<T> ms"),
            // The statistics: total time, rtt and ipg/ewma.
            (r", time [0-9]+ms", ", time <T>ms"),
            (
                r"rtt min/avg/max/mdev = [0-9./]+ ms",
                "rtt min/avg/max/mdev = <T> ms",
            ),
            (r"ipg/ewma [0-9./]+ ms", "ipg/ewma <T> ms"),
            // SIGQUIT's status line.
            (
                r"min/avg/ewma/max = [0-9./]+ ms",
                "min/avg/ewma/max = <T> ms",
            ),
            // -D: the time of day each line was printed.
            (r"^\[[0-9]+\.[0-9]+\]", "[<T>]"),
            // -T: the timestamps (ms since midnight UTC) each hop recorded,
            // the first absolute, then relative to it.
            (
                r"^TS: \t((?:[0-9a-f.:]+\t)?)[0-9]+ absolute$",
                "TS: \t${1}<T> absolute",
            ),
            (r"^\t((?:[0-9a-f.:]+\t)?)-?[0-9]+$", "\t${1}<T>"),
        ]
        .into_iter()
        .map(|(re, to)| (Regex::new(re).expect("normalisation rule"), to))
        .collect()
    })
}

/// `text` with times replaced by `<T>` and flood marks by their counts
/// (see `flood_marks`), split into lines.
pub fn normalise(text: &str) -> Vec<String> {
    text.lines()
        .map(|line| {
            let line = rules().iter().fold(line.to_string(), |l, (re, to)| {
                re.replace_all(&l, *to).into_owned()
            });
            flood_marks(&line).unwrap_or(line)
        })
        .collect()
}

/// A line of `-f`'s marks (a `.` per request sent, a backspace-space-
/// backspace per reply) as `<flood: N sent, M answered>`, when it is one:
/// only marks, and never more replies than requests at any point. How the
/// two interleave is timing (a reply that comes after the next request's
/// send puts two dots first), which differs from run to run under load;
/// a script reading the line sees the counts. Anything else is `None`.
fn flood_marks(line: &str) -> Option<String> {
    let (mut sent, mut answered) = (0u32, 0u32);
    let mut rest = line;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            sent += 1;
            rest = after;
        } else if let Some(after) = rest.strip_prefix("\u{8} \u{8}") {
            answered += 1;
            if answered > sent {
                return None;
            }
            rest = after;
        } else {
            return None;
        }
    }
    (sent > 0).then(|| format!("<flood: {sent} sent, {answered} answered>"))
}

/// The differences between `reference` and `privsep`, one line each
/// (empty when they match).
pub fn differences(reference: &Outcome, privsep: &Outcome) -> Vec<String> {
    let mut out = Vec::new();
    if reference.status != privsep.status {
        out.push(format!(
            "status: reference {} / privsep {}",
            reference.status, privsep.status
        ));
    }
    for (what, a, b) in [
        ("stdout", &reference.stdout, &privsep.stdout),
        ("stderr", &reference.stderr, &privsep.stderr),
    ] {
        for i in 0..a.len().max(b.len()) {
            let (x, y) = (a.get(i), b.get(i));
            if x != y {
                out.push(format!(
                    "{what} line {}: reference {} / privsep {}",
                    i + 1,
                    x.map_or("(none)".into(), |s| format!("{s:?}")),
                    y.map_or("(none)".into(), |s| format!("{s:?}")),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_times_are_normalised() {
        let got = normalise(
            "64 bytes from 198.18.2.2: icmp_seq=1 ttl=63 time=0.045 ms\n\
             2 packets transmitted, 2 received, 0% packet loss, time 1001ms\n\
             rtt min/avg/max/mdev = 0.031/0.038/0.045/0.007 ms, ipg/ewma 0.1/0.04 ms\n\
             2/2 packets, 0% loss, min/avg/ewma/max = 0.047/0.049/0.047/0.051 ms\n\
             [1764625530.123456] 64 bytes from x: icmp_seq=2 ttl=64 time=12 ms\n\
             TS: \t198.18.1.2\t80807824 absolute\n\
             \t198.18.2.1\t-1\n\
             \t80808028\n\
             \t198.18.2.2\n\
             ping: invalid argument: '1001ms'",
        );
        assert_eq!(
            got,
            [
                "64 bytes from 198.18.2.2: icmp_seq=1 ttl=63 time=<T> ms",
                "2 packets transmitted, 2 received, 0% packet loss, time <T>ms",
                "rtt min/avg/max/mdev = <T> ms, ipg/ewma <T> ms",
                "2/2 packets, 0% loss, min/avg/ewma/max = <T> ms",
                "[<T>] 64 bytes from x: icmp_seq=2 ttl=64 time=<T> ms",
                "TS: \t198.18.1.2\t<T> absolute",
                "\t198.18.2.1\t<T>",
                "\t<T>",
                "\t198.18.2.2",
                "ping: invalid argument: '1001ms'",
            ]
        );
    }

    #[test]
    fn flood_marks_are_counted_not_ordered() {
        let late = normalise(".\u{8} \u{8}..\u{8} \u{8}\u{8} \u{8}");
        let prompt = normalise(".\u{8} \u{8}.\u{8} \u{8}.\u{8} \u{8}");
        assert_eq!(late, ["<flood: 3 sent, 3 answered>"]);
        assert_eq!(late, prompt);
        // One reply fewer is a different line.
        assert_eq!(
            normalise(".\u{8} \u{8}..\u{8} \u{8}"),
            ["<flood: 3 sent, 2 answered>"]
        );
        // A reply before its request, text around the marks, no marks at
        // all: left as they are.
        for line in ["\u{8} \u{8}.", "PING x .\u{8} \u{8}", ".x."] {
            assert_eq!(normalise(line), [line]);
        }
    }

    #[test]
    fn differences_name_each_line_and_the_status() {
        let a = Outcome {
            stdout: vec!["x".into(), "y".into()],
            stderr: vec![],
            status: "exit 1".into(),
        };
        assert!(differences(&a, &a).is_empty());
        let b = Outcome {
            stdout: vec!["x".into()],
            stderr: vec!["e".into()],
            status: "exit 2".into(),
        };
        let d = differences(&a, &b);
        assert_eq!(d.len(), 3, "{d:?}");
        assert!(d[0].starts_with("status"));
        assert!(d[1].contains("stdout line 2"));
        assert!(d[2].contains("stderr line 1"));
    }
}
