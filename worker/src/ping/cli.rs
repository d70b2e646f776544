//! The command line, iputils-compatible: clap finds the options (getopt
//! style: clusters like `-nc3`, options after the destination), then each
//! value is checked in command-line order with iputils' own rules and
//! messages (`strtol_or_err`, `ping_strtod`, the non-root limits), producing
//! a plain [`Options`].
//!
//! Deliberate differences from iputils 20221126, all on bad input: every
//! usage error exits 2 (iputils exits 1 for out-of-range numbers and a
//! missing destination); an unknown option is one line, without the usage
//! text after it (house rule: bad input is one clear line); `-s` above the
//! protocol's maximum is refused (upstream iputils does, 20221126 did not);
//! a numeric option value containing a control character is invalid
//! (iputils' `strtol`/`strtod` skip leading `\t\n\v\f\r`, so it would run
//! `-i $'\r0.5'`; such an argument is taken for what it almost surely is,
//! an attempt to smuggle a control character, and refused).
//!
//! Every message that echoes the command line passes it through
//! [`printable`]: one line of printable text, control characters escaped
//! (`invalid argument: '\n'`), iputils' wording otherwise.

#![forbid(unsafe_code)]

use std::ffi::OsString;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Arg, ArgAction, Command};

use crate::ping::icmp::Family;
use crate::ping::output::printable;
use crate::WorkerError;

/// iputils' `MIN_USER_INTERVAL_MS`: the shortest interval a non-root user gets.
pub const MIN_USER_INTERVAL_MS: i64 = 2;
/// iputils' `MAX_DUP_CHK`: the largest preload (and the duplicate window).
pub const MAX_DUP_CHK: i64 = 0x10000;
/// iputils' `MAXWAIT`: default `-W`, seconds.
pub const DEFAULT_LINGER_MS: i64 = 10_000;
const INT_MAX: i64 = i32::MAX as i64;

/// Everything the command line asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// `-4` / `-6`.
    pub family: Option<Family>,
    /// `-c`: stop after this many replies (0: no limit).
    pub count: u64,
    /// `-i`, in milliseconds (truncated like iputils).
    pub interval_ms: i64,
    /// Whether `-i` was given (flood without it means interval 0).
    pub interval_set: bool,
    /// `-w`, seconds (0: none).
    pub deadline: u64,
    /// `-W`, milliseconds.
    pub linger_ms: i64,
    /// `-s`.
    pub datalen: usize,
    /// `-t`.
    pub ttl: Option<i32>,
    pub quiet: bool,
    /// `-n` (and implied by `-f`).
    pub numeric: bool,
    /// `-D`.
    pub timestamps: bool,
    /// `-O`.
    pub outstanding: bool,
    /// `-f`.
    pub flood: bool,
    /// `-j`: JSON objects on stdout instead of text (see [`crate::ping::json`]).
    pub json: bool,
    pub verbose: bool,
    /// `-l`.
    pub preload: u32,
    /// `-p`, parsed (at most 16 bytes).
    pub pattern: Option<Vec<u8>>,
    pub destination: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            family: None,
            count: 0,
            interval_ms: 1000,
            interval_set: false,
            deadline: 0,
            linger_ms: DEFAULT_LINGER_MS,
            datalen: 56,
            ttl: None,
            quiet: false,
            numeric: false,
            timestamps: false,
            outstanding: false,
            flood: false,
            json: false,
            verbose: false,
            preload: 1,
            pattern: None,
            destination: String::new(),
        }
    }
}

impl Options {
    /// The interval the engine uses: flood without `-i` means "as fast as
    /// replies come back" (0), as in iputils' `setup()`.
    pub fn effective_interval_ms(&self) -> i64 {
        if self.flood && !self.interval_set {
            0
        } else {
            self.interval_ms
        }
    }
}

/// What the command line asks the worker to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    Run(Options),
    /// `-h`: usage on stderr, exit 2 (as iputils).
    Help,
    /// `-V`: version on stdout (a JSON object with `-j`), exit 0.
    Version {
        json: bool,
    },
}

/// The result of [`parse`]: warnings to print first (iputils prints them
/// while parsing and carries on), then what to do or the one-line error.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub warnings: Vec<String>,
    pub result: Result<Parsed, WorkerError>,
}

/// Options that take a value, and flags (as in iputils' getopt string),
/// with their clap ids (clap without its `string` feature wants `'static`).
const VALUED: &[(char, &str)] = &[
    ('c', "c"),
    ('i', "i"),
    ('l', "l"),
    ('p', "p"),
    ('s', "s"),
    ('t', "t"),
    ('w', "w"),
    ('W', "W"),
];
const FLAGS: &[(char, &str)] = &[
    ('4', "4"),
    ('6', "6"),
    ('D', "D"),
    ('f', "f"),
    ('h', "h"),
    ('j', "j"),
    ('n', "n"),
    ('O', "O"),
    ('q', "q"),
    ('v', "v"),
    ('V', "V"),
];
/// iputils options privsep-ping does not implement (named in the error).
const UNSUPPORTED: &str = "3aAbBCdeFHILmMNQrRSTU";

/// The clap definition (options only; values are checked by [`parse`]).
/// Public so that the man page and completions can be generated from it.
pub fn command() -> Command {
    let mut cmd = Command::new("ping")
        .no_binary_name(true)
        .disable_help_flag(true)
        .disable_version_flag(true)
        .args_override_self(true);
    for &(c, id) in FLAGS {
        cmd = cmd.arg(Arg::new(id).short(c).action(ArgAction::SetTrue));
    }
    for &(c, id) in VALUED {
        cmd = cmd.arg(
            Arg::new(id)
                .short(c)
                .num_args(1)
                .allow_hyphen_values(true)
                .action(ArgAction::Set),
        );
    }
    cmd.arg(
        Arg::new("destination")
            .num_args(0..)
            .action(ArgAction::Append),
    )
}

fn context(e: &clap::Error, kind: ContextKind) -> Option<String> {
    match e.get(kind)? {
        ContextValue::String(s) => Some(s.clone()),
        ContextValue::Strings(v) => v.first().cloned(),
        _ => None,
    }
}

/// clap's error → getopt's wording.
fn clap_message(e: &clap::Error) -> String {
    let arg = context(e, ContextKind::InvalidArg).unwrap_or_default();
    let short = arg
        .strip_prefix('-')
        .and_then(|s| s.chars().next())
        .filter(|_| !arg.starts_with("--"));
    match e.kind() {
        ErrorKind::UnknownArgument => match short {
            Some(c) if UNSUPPORTED.contains(c) => {
                format!("invalid option -- '{c}' (not supported by privsep-ping)")
            }
            Some(c) => format!(
                "invalid option -- '{}'",
                printable(c.encode_utf8(&mut [0; 4]))
            ),
            None => format!("unrecognized option '{}'", printable(&arg)),
        },
        ErrorKind::InvalidValue | ErrorKind::NoEquals | ErrorKind::WrongNumberOfValues => {
            match short {
                Some(c) => format!("option requires an argument -- '{c}'"),
                None => format!("usage error: {}", printable(&arg)),
            }
        }
        ErrorKind::InvalidUtf8 => "usage error: arguments must be valid UTF-8".into(),
        kind => format!("usage error: {kind}"),
    }
}

/// C `strtol(s, &end, 10)` with "the whole string must be a number".
fn strtol(s: &str) -> Result<i64, bool> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(false);
    }
    let mut v: i128 = 0;
    for b in digits.bytes() {
        v = v * 10 + i128::from(b - b'0');
        if v > i128::from(i64::MAX) + 1 {
            return Err(true);
        }
    }
    let v = if neg { -v } else { v };
    i64::try_from(v).map_err(|_| true)
}

/// Whether an option value carries a control character (refused, see the
/// module documentation).
fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// iputils' `strtol_or_err(optarg, "invalid argument", min, max)`.
fn strtol_or_err(s: &str, min: i64, max: i64) -> Result<i64, String> {
    let parsed = if has_control(s) {
        Err(false)
    } else {
        strtol(s)
    };
    let s = printable(s);
    match parsed {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        Ok(_) => Err(format!(
            "invalid argument: '{s}': out of range: {min} <= value <= {max}"
        )),
        Err(true) => Err(format!(
            "invalid argument: '{s}': Numerical result out of range"
        )),
        Err(false) => Err(format!("invalid argument: '{s}'")),
    }
}

/// C `strtod`: the value of the longest numeric prefix, what follows it,
/// and whether it over/underflowed (ERANGE). No prefix: (0, s, false).
fn strtod(s: &str) -> (f64, &str, bool) {
    let t = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let b = t.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let lower = t[i..].to_ascii_lowercase();
    for word in ["infinity", "inf", "nan"] {
        if lower.starts_with(word) {
            let end = i + word.len();
            let v: f64 = if word == "nan" {
                f64::NAN
            } else {
                f64::INFINITY
            };
            let v = if b.first() == Some(&b'-') { -v } else { v };
            return (v, &t[end..], false);
        }
    }
    let start_digits = i;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    let mut ndigits = i - start_digits;
    if b.get(i) == Some(&b'.') {
        let frac = i + 1;
        let mut j = frac;
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        ndigits += j - frac;
        if ndigits > 0 {
            i = j;
        }
    }
    if ndigits == 0 {
        return (0.0, s, false);
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let exp_start = j;
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        if j > exp_start {
            i = j;
        }
    }
    let text = &t[..i];
    let v: f64 = text.parse().unwrap_or(0.0);
    let mantissa = text.split(['e', 'E']).next().unwrap_or("");
    let nonzero = mantissa.bytes().any(|c| (b'1'..=b'9').contains(&c));
    let erange = v.is_infinite() || (v == 0.0 && nonzero) || (v != 0.0 && !v.is_normal());
    (v, &t[i..], erange)
}

/// iputils' `ping_strtod`: garbage after the number is a warning (for
/// now, says upstream), a non-finite value an error.
fn ping_strtod(s: &str, what: &str, warnings: &mut Vec<String>) -> Result<f64, String> {
    if s.is_empty() || has_control(s) {
        return Err(format!("{what}: {}", printable(s)));
    }
    let (v, rest, erange) = strtod(s);
    let no_number = rest.len() == s.len();
    if erange || no_number || !rest.is_empty() {
        warnings.push(format!(
            "option argument contains garbage: {}",
            printable(rest)
        ));
        warnings.push("this will become fatal error in the future".into());
    }
    if v == 0.0 || v.is_normal() {
        Ok(v)
    } else {
        Err(format!(
            "{what}: {}: Numerical result out of range",
            printable(s)
        ))
    }
}

/// `-p`: hex digits only; read two at a time (`%2x`), at most 16 bytes.
fn parse_pattern(s: &str) -> Result<Vec<u8>, String> {
    if let Some(bad) = s.find(|c: char| !c.is_ascii_hexdigit()) {
        return Err(format!(
            "patterns must be specified as hex digits: {}",
            printable(&s[bad..])
        ));
    }
    Ok(s.as_bytes()
        .chunks(2)
        .take(16)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap_or("0"), 16).unwrap_or(0))
        .collect())
}

/// Parses `args` (without argv\[0\]); `is_root` is "real uid 0" (the
/// worker never has capabilities), which lifts the preload limit.
pub fn parse(args: &[OsString], is_root: bool) -> Outcome {
    let mut warnings = Vec::new();
    let result = parse_inner(args, is_root, &mut warnings).map_err(WorkerError::Usage);
    Outcome { warnings, result }
}

fn parse_inner(
    args: &[OsString],
    is_root: bool,
    warnings: &mut Vec<String>,
) -> Result<Parsed, String> {
    let m = command()
        .try_get_matches_from(args)
        .map_err(|e| clap_message(&e))?;

    // Replay the options in command-line order, as getopt would see them.
    let mut seen: Vec<(usize, char, Option<String>)> = Vec::new();
    for &(c, id) in FLAGS {
        if m.get_flag(id) {
            seen.push((m.index_of(id).unwrap_or(0), c, None));
        }
    }
    for &(c, id) in VALUED {
        if let Some(v) = m.get_one::<String>(id) {
            seen.push((m.index_of(id).unwrap_or(0), c, Some(v.clone())));
        }
    }
    seen.sort_by_key(|(i, _, _)| *i);

    let mut o = Options::default();
    let mut version = false;
    for (_, c, value) in seen {
        let v = value.as_deref().unwrap_or("");
        match c {
            '4' | '6' => {
                let want = if c == '4' { Family::V4 } else { Family::V6 };
                if o.family.is_some_and(|f| f != want) {
                    return Err("only one -4 or -6 option may be specified".into());
                }
                o.family = Some(want);
            }
            'c' => o.count = strtol_or_err(v, 1, i64::MAX)? as u64,
            'D' => o.timestamps = true,
            'f' => {
                o.flood = true;
                o.numeric = true;
            }
            'h' => return Ok(Parsed::Help),
            'j' => o.json = true,
            'i' => {
                let secs = ping_strtod(v, "bad timing interval", warnings)?;
                if secs < 0.0 || secs > (INT_MAX as f64) / 1000.0 {
                    return Err(format!("bad timing interval: {}", printable(v)));
                }
                o.interval_ms = (secs * 1000.0) as i64;
                o.interval_set = true;
            }
            'l' => {
                let n = strtol_or_err(v, 1, MAX_DUP_CHK)?;
                if !is_root && n > 3 {
                    return Err(format!("cannot set preload to value greater than 3: {n}"));
                }
                o.preload = n as u32;
            }
            'n' => o.numeric = true,
            'O' => o.outstanding = true,
            'p' => o.pattern = Some(parse_pattern(v)?),
            'q' => o.quiet = true,
            's' => o.datalen = strtol_or_err(v, 0, INT_MAX)? as usize,
            't' => o.ttl = Some(strtol_or_err(v, 0, 255)? as i32),
            'v' => o.verbose = true,
            'V' => version = true,
            'w' => o.deadline = strtol_or_err(v, 0, INT_MAX)? as u64,
            'W' => {
                let secs = ping_strtod(v, "bad linger time", warnings)?;
                if secs < 0.0 || secs > (INT_MAX as f64) / 1000.0 {
                    return Err(format!("bad linger time: {}", printable(v)));
                }
                o.linger_ms = (secs * 1000.0) as i64;
            }
            _ => unreachable!("every declared option is handled"),
        }
    }
    if version {
        return Ok(Parsed::Version { json: o.json });
    }
    // Upstream's flood output stays raw characters under -j (it writes
    // dots and backspaces past the JSON code); -q turns them off, leaving
    // the JSON summary, so only that combination is accepted.
    if o.json && o.flood && !o.quiet {
        return Err(
            "usage error: -j cannot be used with -f (flood output is not JSON); add -q for the JSON summary only"
                .into(),
        );
    }
    let mut dests = m.get_many::<String>("destination").into_iter().flatten();
    o.destination = match (dests.next(), dests.next()) {
        (None, _) => return Err("usage error: Destination address required".into()),
        (Some(d), None) => d.clone(),
        // iputils reads extra IPv4 arguments as a source route (-R/-T):
        // privsep-ping does not implement IP options.
        (Some(_), Some(_)) => return Err("usage error: only one destination may be given".into()),
    };
    Ok(Parsed::Run(o))
}

/// iputils' `setup()` checks on the interval, done after the `PING` line
/// just as iputils does; `None` if the interval is acceptable.
pub fn interval_error(o: &Options, is_root: bool) -> Option<WorkerError> {
    let interval = o.effective_interval_ms();
    if !is_root && interval < MIN_USER_INTERVAL_MS {
        return Some(WorkerError::Usage(format!(
            "cannot flood, minimal interval for user must be >= {MIN_USER_INTERVAL_MS} ms, use -i 0.002 (or higher)"
        )));
    }
    if interval >= INT_MAX / i64::from(o.preload.max(1)) {
        return Some(WorkerError::Usage(format!(
            "illegal preload and/or interval: {interval}"
        )));
    }
    None
}

/// Upstream iputils' check of `-s` against the protocol's maximum.
pub fn size_error(datalen: usize, max: usize) -> Option<WorkerError> {
    (datalen > max).then(|| {
        WorkerError::Usage(format!(
            "invalid -s value: '{datalen}': out of range: 0 <= value <= {max}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Outcome {
        let v: Vec<OsString> = args.iter().map(OsString::from).collect();
        parse(&v, false)
    }

    fn opts(args: &[&str]) -> Options {
        match run(args).result {
            Ok(Parsed::Run(o)) => o,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    fn err(args: &[&str]) -> String {
        match run(args).result {
            Err(e) => e.to_string(),
            other => panic!("{args:?} should fail: {other:?}"),
        }
    }

    #[test]
    fn defaults_and_values() {
        let o = opts(&["127.0.0.1"]);
        assert_eq!(
            o,
            Options {
                destination: "127.0.0.1".into(),
                ..Options::default()
            }
        );
        let o = opts(&[
            "-c", "3", "-i", "0.2", "-s", "100", "-t", "9", "-w", "5", "-W", "1.5", "-q", "::1",
        ]);
        assert_eq!(
            (
                o.count,
                o.interval_ms,
                o.datalen,
                o.ttl,
                o.deadline,
                o.linger_ms
            ),
            (3, 200, 100, Some(9), 5, 1500)
        );
        assert!(o.quiet && o.interval_set);
    }

    #[test]
    fn getopt_style_clusters_and_late_options() {
        let o = opts(&["-nqc3", "localhost", "-D", "-O"]);
        assert!(o.numeric && o.quiet && o.timestamps && o.outstanding);
        assert_eq!((o.count, o.destination.as_str()), (3, "localhost"));
        let o = opts(&["-c", "1", "-c", "4", "x"]);
        assert_eq!(o.count, 4, "the last occurrence wins, as with getopt");
        let o = opts(&["-f", "-i", "0.002", "x"]);
        assert!(o.flood && o.numeric);
        assert_eq!(o.effective_interval_ms(), 2);
        assert_eq!(opts(&["-f", "x"]).effective_interval_ms(), 0);
    }

    #[test]
    fn iputils_messages_for_bad_numbers() {
        assert_eq!(err(&["-c", "abc", "x"]), "invalid argument: 'abc'");
        assert_eq!(
            err(&["-c", "0", "x"]),
            "invalid argument: '0': out of range: 1 <= value <= 9223372036854775807"
        );
        assert_eq!(
            err(&["-t", "256", "x"]),
            "invalid argument: '256': out of range: 0 <= value <= 255"
        );
        assert_eq!(
            err(&["-l", "0", "x"]),
            "invalid argument: '0': out of range: 1 <= value <= 65536"
        );
        assert_eq!(
            err(&["-s", "-1", "x"]),
            "invalid argument: '-1': out of range: 0 <= value <= 2147483647"
        );
        assert_eq!(
            err(&["-c", "99999999999999999999", "x"]),
            "invalid argument: '99999999999999999999': Numerical result out of range"
        );
        assert_eq!(err(&["-W", "-1", "x"]), "bad linger time: -1");
        assert_eq!(err(&["-i", "-1", "x"]), "bad timing interval: -1");
        assert_eq!(
            err(&["-i", "1e999", "x"]),
            "bad timing interval: 1e999: Numerical result out of range"
        );
        assert_eq!(
            err(&["-i", "nan", "x"]),
            "bad timing interval: nan: Numerical result out of range"
        );
        assert_eq!(
            err(&["-p", "zz", "x"]),
            "patterns must be specified as hex digits: zz"
        );
        assert_eq!(
            err(&["-p", "ab1z", "x"]),
            "patterns must be specified as hex digits: z"
        );
    }

    #[test]
    fn garbage_after_an_interval_is_a_warning_like_iputils() {
        let out = run(&["-i", "abc", "x"]);
        assert_eq!(
            out.warnings,
            [
                "option argument contains garbage: abc",
                "this will become fatal error in the future"
            ]
        );
        let Ok(Parsed::Run(o)) = out.result else {
            panic!("{out:?}")
        };
        assert_eq!(o.interval_ms, 0);
        assert!(interval_error(&o, false).is_some());
        let out = run(&["-i", "0.5s", "x"]);
        assert_eq!(out.warnings[0], "option argument contains garbage: s");
        assert!(matches!(
            out.result,
            Ok(Parsed::Run(Options {
                interval_ms: 500,
                ..
            }))
        ));
    }

    #[test]
    fn control_characters_are_refused_and_never_echoed_raw() {
        // fuzz/regressions/cli/l-value-with-newline: argv "-l\n".
        assert_eq!(err(&["-l\n"]), "invalid argument: '\\n'");
        assert_eq!(err(&["-l", "\n", "x"]), "invalid argument: '\\n'");
        assert_eq!(
            err(&["-c\u{1b}[2J7", "x"]),
            "invalid argument: '\\u{1b}[2J7'"
        );
        // iputils' strtol/strtod would skip these leading characters.
        assert_eq!(err(&["-c", "\t5", "x"]), "invalid argument: '\\t5'");
        assert_eq!(err(&["-i\r0.5", "x"]), "bad timing interval: \\r0.5");
        assert_eq!(
            err(&["-W\n64 bytes from 127.0.0.1: icmp_seq=1", "x"]),
            "bad linger time: \\n64 bytes from 127.0.0.1: icmp_seq=1"
        );
        assert_eq!(err(&["-i", "0.5\n", "x"]), "bad timing interval: 0.5\\n");
        assert_eq!(
            err(&["-p", "ab\u{9b}31m", "x"]),
            "patterns must be specified as hex digits: \\u{9b}31m"
        );
        assert_eq!(err(&["-\u{7}", "x"]), "invalid option -- '\\u{7}'");
        assert_eq!(
            err(&["--\rforged", "x"]),
            "unrecognized option '--\\rforged'"
        );
        // A space is not a control character: still skipped, as by strtol.
        assert_eq!(opts(&["-c", " 5", "x"]).count, 5);
        for args in [
            &["-l\n"][..],
            &["-c", "\u{85}", "x"],
            &["-s", "1\u{2028}", "x"],
            &["-w", "\u{7f}", "x"],
            &["-t", "\r", "x"],
            &["-W", "\u{0}", "x"],
        ] {
            let e = err(args);
            assert!(!e.chars().any(char::is_control), "{args:?}: {e:?}");
        }
    }

    #[test]
    fn garbage_warnings_are_printable() {
        let out = run(&["-i", "0.5\u{2028}x", "x"]);
        assert_eq!(
            out.warnings[0],
            "option argument contains garbage: \\u{2028}x"
        );
        assert!(matches!(
            out.result,
            Ok(Parsed::Run(Options {
                interval_ms: 500,
                ..
            }))
        ));
    }

    #[test]
    fn non_root_limits() {
        let flood =
            "cannot flood, minimal interval for user must be >= 2 ms, use -i 0.002 (or higher)";
        assert_eq!(
            interval_error(&opts(&["-i", "0.001", "x"]), false)
                .map(|e| e.to_string())
                .as_deref(),
            Some(flood)
        );
        assert_eq!(
            interval_error(&opts(&["-i", "0.0019", "x"]), false)
                .map(|e| e.to_string())
                .as_deref(),
            Some(flood)
        );
        assert_eq!(
            interval_error(&opts(&["-f", "x"]), false)
                .map(|e| e.to_string())
                .as_deref(),
            Some(flood)
        );
        assert_eq!(interval_error(&opts(&["-i", "0.002", "x"]), false), None);
        assert_eq!(
            interval_error(&opts(&["-f", "x"]), true),
            None,
            "root may flood"
        );
        assert_eq!(
            err(&["-l", "4", "x"]),
            "cannot set preload to value greater than 3: 4"
        );
        let v: Vec<OsString> = ["-l", "4", "x"].iter().map(OsString::from).collect();
        assert!(matches!(
            parse(&v, true).result,
            Ok(Parsed::Run(Options { preload: 4, .. }))
        ));
        assert_eq!(opts(&["-l", "3", "x"]).preload, 3);
    }

    #[test]
    fn usage_errors() {
        assert_eq!(
            err(&["-4", "-6", "x"]),
            "only one -4 or -6 option may be specified"
        );
        assert_eq!(
            err(&["-6", "-4", "x"]),
            "only one -4 or -6 option may be specified"
        );
        assert_eq!(opts(&["-4", "-4", "x"]).family, Some(Family::V4));
        assert_eq!(err(&[]), "usage error: Destination address required");
        assert_eq!(err(&["-q"]), "usage error: Destination address required");
        assert_eq!(err(&["-Z", "x"]), "invalid option -- 'Z'");
        assert_eq!(
            err(&["-R", "x"]),
            "invalid option -- 'R' (not supported by privsep-ping)"
        );
        assert_eq!(
            err(&["--no-such-flag", "x"]),
            "unrecognized option '--no-such-flag'"
        );
        assert_eq!(err(&["x", "-c"]), "option requires an argument -- 'c'");
        assert_eq!(
            err(&["a", "b"]),
            "usage error: only one destination may be given"
        );
        assert_eq!(run(&["-h", "x"]).result, Ok(Parsed::Help));
        assert_eq!(run(&["-V"]).result, Ok(Parsed::Version { json: false }));
        assert_eq!(
            run(&["-V", "-j"]).result,
            Ok(Parsed::Version { json: true })
        );
        // As in iputils, -V is acted on after every option was checked.
        assert!(run(&["-V", "-c", "0"]).result.is_err());
    }

    #[test]
    fn pattern_is_read_two_digits_at_a_time() {
        assert_eq!(opts(&["-p", "ff", "x"]).pattern, Some(vec![0xff]));
        assert_eq!(opts(&["-p", "abc", "x"]).pattern, Some(vec![0xab, 0x0c]));
        assert_eq!(
            opts(&["-p", &"1".repeat(40), "x"]).pattern.map(|p| p.len()),
            Some(16)
        );
        assert_eq!(opts(&["-p", "", "x"]).pattern, Some(vec![]));
    }

    #[test]
    fn size_limit() {
        assert_eq!(size_error(65507, 65507), None);
        assert_eq!(
            size_error(70000, 65507).map(|e| e.to_string()).as_deref(),
            Some("invalid -s value: '70000': out of range: 0 <= value <= 65507")
        );
    }

    #[test]
    fn json_flag_and_its_combinations() {
        let o = opts(&["-j", "-c", "2", "127.0.0.1"]);
        assert!(o.json && !o.quiet);
        assert!(opts(&["-jqc2", "x"]).json, "in a cluster, like getopt");
        assert!(opts(&["x", "-j"]).json, "after the destination");
        assert!(!opts(&["x"]).json);
        // -q: upstream prints only the JSON summary; accepted.
        assert!(opts(&["-j", "-q", "x"]).quiet);
        // -f: upstream's dots are not JSON; refused unless -q silences them.
        assert_eq!(
            err(&["-j", "-f", "x"]),
            "usage error: -j cannot be used with -f (flood output is not JSON); add -q for the JSON summary only"
        );
        assert_eq!(
            err(&["-f", "-j", "x"]),
            "usage error: -j cannot be used with -f (flood output is not JSON); add -q for the JSON summary only"
        );
        let o = opts(&["-j", "-f", "-q", "x"]);
        assert!(o.json && o.flood && o.quiet);
    }
}
