//! The command line, exactly as upstream iputils ping reads it: GNU
//! `getopt` over upstream's option string (clusters like `-nc3`, options
//! after the destination, `--` ends the options), each value checked in
//! command-line order with upstream's rules, messages and exit statuses
//! (`strtol_or_err` and friends exit 1, `ping_strtod` and the other checks
//! exit 2), producing a plain [`Options`]. An unknown option or a missing
//! value is getopt's message followed by upstream's usage text, exit 2.
//!
//! [`command`] is the same option set as a clap definition, for the man
//! page and the completions only.
//!
//! One deliberate difference, on bad input only: a numeric option value
//! containing a control character is invalid (upstream's `strtol`/`strtod`
//! skip leading `\t\n\v\f\r`, so it would run `-i $'\r0.5'`; such an
//! argument is taken for what it almost surely is, an attempt to smuggle a
//! control character, and refused). Every message that echoes the command
//! line passes it through [`printable`].

#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::num::{self, strtol_or_err};
use crate::ping::icmp::Family;
use crate::text::printable;
use crate::{getopt, WorkerError};

mod manual;
mod options;

pub use manual::command;
pub use options::*;

const INT_MAX: i64 = i32::MAX as i64;
const UINT_MAX: i64 = u32::MAX as i64;

/// upstream's getopt string.
const OPTSTRING: &str = "h?4bRT:6F:N:3aABc:CdDe:fHi:I:jl:Lm:M:nOp:qQ:rs:S:t:UvVw:W:";

/// What the command line asks the worker to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    Run(Box<Options>),
    /// `-h`, `-?`: the usage text on stderr, exit 2 (as iputils).
    Help,
    /// `-V`: version on stdout (a JSON object with a `-j` before it), exit
    /// 0, as soon as getopt reaches it.
    Version {
        json: bool,
    },
    /// `-N help`: the node information help on stdout, exit 0.
    NodeInfoHelp,
}

/// The result of [`parse`]: warnings to print first (iputils prints them
/// while parsing and carries on), then what to do or the refusal.
#[derive(Debug)]
pub struct Outcome {
    pub warnings: Vec<String>,
    /// `-p`'s `PATTERN: 0x…` line, printed (to stdout) while parsing
    /// unless `-q` came before it, as upstream's `fill()` does: whatever
    /// follows, a bad option, `-V` or `-h` included (none under `-j`).
    pub pattern_line: Option<String>,
    pub result: Result<Parsed, WorkerError>,
}

/// The options getopt found (with their values), in order.
type Found = Vec<(char, Option<String>)>;

/// What [`getopt`] found: the options (with their values) in order, the
/// operands, and getopt's error where it stopped.
struct Scanned {
    opts: Found,
    operands: Vec<String>,
    /// getopt's message for the first unknown option or missing value. It
    /// comes after the options before it, as upstream's loop meets it: a
    /// `-V`, `-h` or bad value earlier on the command line wins.
    error: Option<WorkerError>,
}

/// GNU getopt over [`OPTSTRING`], permuting, up to its first error.
fn getopt(args: &[String]) -> Scanned {
    let mut opts = Vec::new();
    let mut operands = Vec::new();
    let stop = |opts, operands, msg| Scanned {
        opts,
        operands,
        error: Some(WorkerError::Usage(Some(msg))),
    };
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if a == "--" {
            operands.extend(args[i..].iter().cloned());
            break;
        }
        if !a.starts_with('-') || a.len() == 1 {
            operands.push(a.clone());
            continue;
        }
        for (at, c) in a[1..].char_indices() {
            let spec = if c == ':' { None } else { OPTSTRING.find(c) };
            let Some(pos) = spec else {
                return stop(opts, operands, getopt::invalid_option(c));
            };
            if OPTSTRING[pos + c.len_utf8()..].starts_with(':') {
                let rest = &a[1 + at + c.len_utf8()..];
                let value = if !rest.is_empty() {
                    rest.to_string()
                } else if i < args.len() {
                    i += 1;
                    args[i - 1].clone()
                } else {
                    return stop(opts, operands, getopt::requires_argument(c));
                };
                opts.push((c, Some(value)));
                break;
            }
            opts.push((c, None));
        }
    }
    Scanned {
        opts,
        operands,
        error: None,
    }
}

/// Whether an option value carries a control character (refused, see the
/// module documentation).
fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
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
    if matches!(b.get(i..i + 2), Some(b"0x" | b"0X")) {
        if let Some((v, used)) = hex_float(&t[i + 2..]) {
            let v = if b.first() == Some(&b'-') { -v } else { v };
            let end = i + 2 + used;
            return (v, &t[end..], v.is_infinite());
        }
        // "0x" with no hex digit after it: strtod reads the "0" only.
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

/// The part of a C hexadecimal floating constant after `0x`: hex digits,
/// an optional `.` and more, an optional binary exponent `p[+-]d…`. Returns
/// the value and the bytes used, or `None` when no hex digit comes first.
fn hex_float(s: &str) -> Option<(f64, usize)> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut v = 0f64;
    let mut digits = 0;
    while let Some(d) = b.get(i).and_then(|c| (*c as char).to_digit(16)) {
        v = v * 16.0 + f64::from(d);
        i += 1;
        digits += 1;
    }
    if b.get(i) == Some(&b'.') {
        let mut j = i + 1;
        let mut scale = 1.0 / 16.0;
        let mut frac = 0;
        while let Some(d) = b.get(j).and_then(|c| (*c as char).to_digit(16)) {
            v += f64::from(d) * scale;
            scale /= 16.0;
            j += 1;
            frac += 1;
        }
        if digits + frac > 0 {
            i = j;
            digits += frac;
        }
    }
    if digits == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'p' | b'P')) {
        let mut j = i + 1;
        let neg = b.get(j) == Some(&b'-');
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let start = j;
        let mut e: i32 = 0;
        while let Some(d) = b.get(j).filter(|c| c.is_ascii_digit()) {
            e = e.saturating_mul(10).saturating_add(i32::from(d - b'0'));
            j += 1;
        }
        if j > start {
            v *= 2f64.powi(if neg { -e } else { e });
            i = j;
        }
    }
    Some((v, i))
}

/// iputils' `ping_strtod`: garbage after the number is a warning (for
/// now, says upstream), a non-finite value an error (exit 2).
fn ping_strtod(s: &str, what: &str, warnings: &mut Vec<String>) -> Result<f64, WorkerError> {
    if s.is_empty() || has_control(s) {
        return Err(WorkerError::fatal(format!("{what}: {}", printable(s))));
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
        Err(WorkerError::fatal(format!(
            "{what}: {}: Numerical result out of range",
            printable(s)
        )))
    }
}

/// `strtol`/`strtoul` with base 16 after `0x`, else 10, reading as far as
/// digits go: (value, the rest). The value saturates like C's.
fn strtol_prefix(s: &str) -> (i64, &str) {
    let (digits, radix) = match s.get(..2) {
        Some("0x" | "0X") => (&s[2..], 16),
        _ => (s, 10),
    };
    let r = num::strtol(digits.as_bytes(), radix);
    (r.value, &digits[r.end..])
}

/// upstream's `parsetos`: `-Q`, hex with `0x` or decimal, at most 255.
fn parse_tos(s: &str) -> Result<i32, WorkerError> {
    let (v, rest) = strtol_prefix(s);
    if !rest.is_empty() || has_control(s) {
        return Err(WorkerError::fatal(format!(
            "bad TOS value: {}",
            printable(s)
        )));
    }
    // upstream casts strtol's long to int before the range check.
    let tos = v as i32;
    if tos > 255 {
        return Err(WorkerError::fatal(format!(
            "the decimal value of TOS bits must be in range 0-255: {tos}"
        )));
    }
    Ok(tos)
}

/// upstream's `parseflow`: `-F`, hex with `0x` or decimal, 20 bits.
fn parse_flow(s: &str) -> Result<u32, WorkerError> {
    let (v, rest) = strtol_prefix(s);
    if !rest.is_empty() || has_control(s) {
        return Err(WorkerError::fatal(format!(
            "bad value for flowinfo: {}",
            printable(s)
        )));
    }
    let v = v as i32 as u32;
    if v & !0x000f_ffff != 0 {
        return Err(WorkerError::fatal(format!(
            "flow value is greater than 20 bits: {}",
            printable(s)
        )));
    }
    Ok(v)
}

/// `-p`: hex digits only; read two at a time (`%2x`), at most 16 bytes.
fn parse_pattern(s: &str) -> Result<Vec<u8>, WorkerError> {
    if let Some(bad) = s.find(|c: char| !c.is_ascii_hexdigit()) {
        return Err(WorkerError::fatal(format!(
            "patterns must be specified as hex digits: {}",
            printable(&s[bad..])
        )));
    }
    Ok(s.as_bytes()
        .chunks(2)
        .take(16)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap_or("0"), 16).unwrap_or(0))
        .collect())
}

/// `-I`: upstream's three readings of the value.
fn parse_interface(v: &str, o: &mut Options) -> Result<(), WorkerError> {
    if v.contains(':') {
        let (addr, dev) = match v.split_once('%') {
            Some((a, d)) => (a, Some(d)),
            None => (v, None),
        };
        let ip: Ipv6Addr = addr
            .parse()
            .map_err(|_| WorkerError::fatal(format!("invalid source address: {}", printable(v))))?;
        o.interface.source6 = Some(ip);
        if let Some(d) = dev {
            o.interface.device = Some(d.to_string());
        }
        o.strict_source = true;
    } else if let Ok(ip) = v.parse::<Ipv4Addr>() {
        o.interface.source4 = Some(ip);
        o.strict_source = true;
    } else {
        o.interface.device = Some(v.to_string());
    }
    Ok(())
}

/// Parses `args` (without argv\[0\]). `is_root` is "real uid 0" (the
/// worker never has capabilities), which lifts the preload limit;
/// `family` is what the program's name selects (`ping4`, `ping6`);
/// `ptr_lookup_off` is `IPUTILS_PING_PTR_LOOKUP=0`.
pub fn parse(
    args: &[OsString],
    is_root: bool,
    family: Option<Family>,
    ptr_lookup_off: bool,
) -> Outcome {
    parse_resolving(args, is_root, family, ptr_lookup_off, &|_, _| Ok(()))
}

/// [`parse`], resolving each `-N subject-ipv6=`/`subject-ipv4=` name with
/// `subject` as getopt reaches it, as upstream's handler does: one that
/// does not resolve (`subject` says why) is that line, then the node
/// information help, before any later option is looked at.
pub fn parse_resolving(
    args: &[OsString],
    is_root: bool,
    family: Option<Family>,
    ptr_lookup_off: bool,
    subject: &dyn Fn(&str, Family) -> Result<(), String>,
) -> Outcome {
    let mut warnings = Vec::new();
    let mut pattern_line = None;
    let result = parse_inner(
        args,
        is_root,
        family,
        ptr_lookup_off,
        subject,
        &mut warnings,
        &mut pattern_line,
    );
    Outcome {
        warnings,
        pattern_line,
        result,
    }
}

fn parse_inner(
    args: &[OsString],
    is_root: bool,
    family: Option<Family>,
    ptr_lookup_off: bool,
    subject: &dyn Fn(&str, Family) -> Result<(), String>,
    warnings: &mut Vec<String>,
    pattern_line: &mut Option<String>,
) -> Result<Parsed, WorkerError> {
    let args: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let Scanned {
        opts,
        operands,
        error,
    } = getopt(&args);

    let mut o = Options {
        family,
        ..Options::default()
    };
    if ptr_lookup_off {
        o.numeric = true;
    }
    for (c, value) in opts {
        let v = value.as_deref().unwrap_or("");
        match c {
            '4' | '6' => {
                let want = if c == '4' { Family::V4 } else { Family::V6 };
                if o.family.is_some_and(|f| f != want) {
                    return Err(WorkerError::fatal(
                        "only one -4 or -6 option may be specified",
                    ));
                }
                o.family = Some(want);
            }
            '3' => o.rtt_precision = true,
            'b' => o.broadcast = true,
            'e' => o.ident = Some(strtol_or_err(v, 0, 0xffff)? as u16),
            'j' => {
                o.json = true;
                // -j: upstream leaves -p's line as raw text; none at all.
                *pattern_line = None;
            }
            'R' => {
                if o.timestamp.is_some() {
                    return Err(WorkerError::fatal("only one of -T or -R may be used"));
                }
                o.rroute = true;
            }
            'T' => {
                if o.rroute {
                    return Err(WorkerError::fatal("only one of -T or -R may be used"));
                }
                o.timestamp = Some(match v {
                    "tsonly" => TsType::TsOnly,
                    "tsandaddr" => TsType::TsAndAddr,
                    "tsprespec" => TsType::Prespec,
                    _ => {
                        return Err(WorkerError::fatal(format!(
                            "invalid timestamp type: {}",
                            printable(v)
                        )))
                    }
                });
            }
            'F' => o.flowlabel = Some(parse_flow(v)?),
            'N' => {
                use crate::ping::nodeinfo::{self, Refusal};
                let req = o.nodeinfo.get_or_insert_with(Default::default);
                match nodeinfo::parse(req, v) {
                    Ok(()) => {
                        let named = [
                            ("subject-ipv6=", Family::V6),
                            ("subject-ipv4=", Family::V4),
                        ];
                        for (prefix, fam) in named {
                            if let Some(name) = v.strip_prefix(prefix) {
                                if let Err(why) = subject(name, fam) {
                                    warnings.push(why);
                                    return Err(WorkerError::NodeInfoHelp(None));
                                }
                            }
                        }
                    }
                    Err(Refusal::Help) => return Ok(Parsed::NodeInfoHelp),
                    Err(Refusal::Unknown) => return Err(WorkerError::NodeInfoHelp(None)),
                    // upstream's handler then falls through to the help.
                    Err(Refusal::Conflict(line)) => {
                        return Err(WorkerError::NodeInfoHelp(Some(line)))
                    }
                    Err(Refusal::Unsupported(msg)) => return Err(WorkerError::fatal(msg)),
                }
            }
            'a' => o.audible = true,
            'A' => o.adaptive = true,
            'B' => o.strict_source = true,
            'c' => o.count = strtol_or_err(v, 1, i64::MAX)? as u64,
            'C' => o.connect = true,
            'd' => o.so_debug = true,
            'D' => o.timestamps = true,
            'H' => o.force_lookup = true,
            'i' => {
                let secs = ping_strtod(v, "bad timing interval", warnings)?;
                if secs < 0.0 || secs > (INT_MAX as f64) / 1000.0 {
                    return Err(WorkerError::fatal(format!(
                        "bad timing interval: {}",
                        printable(v)
                    )));
                }
                o.interval_ms = (secs * 1000.0) as i64;
                o.interval_set = true;
            }
            'I' => parse_interface(v, &mut o)?,
            'l' => {
                let n = strtol_or_err(v, 1, MAX_DUP_CHK)?;
                if !is_root && n > 3 {
                    return Err(WorkerError::fatal(format!(
                        "cannot set preload to value greater than 3: {n}"
                    )));
                }
                o.preload = n as u32;
            }
            'L' => o.noloop = true,
            'm' => o.mark = Some(strtol_or_err(v, 0, UINT_MAX)? as u32),
            'M' => {
                o.pmtudisc = Some(match v {
                    "do" => Pmtu::Do,
                    "dont" => Pmtu::Dont,
                    "want" => Pmtu::Want,
                    "probe" => Pmtu::Probe,
                    _ => {
                        return Err(WorkerError::fatal(format!(
                            "invalid -M argument: {}",
                            printable(v)
                        )))
                    }
                })
            }
            'n' => {
                o.numeric = true;
                o.force_lookup = false;
            }
            'O' => o.outstanding = true,
            'f' => {
                o.flood = true;
                o.numeric = true;
            }
            'p' => {
                let p = parse_pattern(v)?;
                if !o.quiet && !o.json {
                    *pattern_line = Some(crate::ping::output::pattern_line(&p));
                }
                o.pattern = Some(p);
            }
            'q' => o.quiet = true,
            'Q' => o.tos = parse_tos(v)?,
            'r' => o.dontroute = true,
            's' => o.datalen = strtol_or_err(v, 0, INT_MAX)? as usize,
            'S' => o.sndbuf = Some(strtol_or_err(v, 1, INT_MAX)? as i32),
            't' => o.ttl = Some(strtol_or_err(v, 0, 255)? as i32),
            'U' => o.latency = true,
            'v' => {
                o.sandbox_report = o.verbose;
                o.verbose = true;
            }
            // upstream prints its version as soon as getopt hands it -V.
            'V' => return Ok(Parsed::Version { json: o.json }),
            'w' => o.deadline = strtol_or_err(v, 0, INT_MAX)? as u64,
            'W' => {
                let secs = ping_strtod(v, "bad linger time", warnings)?;
                if secs < 0.0 || secs > (UINT_MAX as f64) / 1_000_000.0 {
                    return Err(WorkerError::fatal(format!(
                        "bad linger time: {}",
                        printable(v)
                    )));
                }
                o.linger_us = (secs * 1_000_000.0) as u64;
            }
            // 'h', '?'
            _ => return Ok(Parsed::Help),
        }
    }
    if let Some(e) = error {
        return Err(e);
    }
    // upstream warns whenever the variable turned -n on, -H or not: -H
    // only brings the lookups back, it does not clear -n.
    if ptr_lookup_off && o.numeric && !o.quiet {
        warnings
            .push("WARNING: reverse DNS resolution (PTR lookup) disabled, enforce with -H".into());
    }
    if operands.is_empty() {
        return Err(WorkerError::fatal(
            "usage error: Destination address required",
        ));
    }
    o.destination = operands.last().cloned().unwrap_or_default();
    o.destinations = operands;
    Ok(Parsed::Run(Box::new(o)))
}

/// upstream `ping4_run`'s checks of the extra operands (source-route hops,
/// or `-T tsprespec` addresses): `true` when they are acceptable (else
/// upstream prints its usage, exit 2). IPv6 takes no extra operand.
pub fn hops_allowed(o: &Options, family: Family) -> bool {
    let n = o.destinations.len();
    if n <= 1 {
        return true;
    }
    match family {
        Family::V6 => false,
        Family::V4 if o.rroute => false,
        Family::V4 => match o.timestamp {
            Some(TsType::Prespec) => n <= 5,
            Some(_) => false,
            None => n <= 10,
        },
    }
}

/// iputils' `setup()` checks on the interval, done after the `PING` line
/// just as iputils does (exit 2); `None` if the interval is acceptable.
pub fn interval_error(o: &Options, is_root: bool) -> Option<WorkerError> {
    let interval = o.effective_interval_ms();
    if !is_root && interval < MIN_USER_INTERVAL_MS {
        return Some(WorkerError::fatal(format!(
            "cannot flood, minimal interval for user must be >= {MIN_USER_INTERVAL_MS} ms, use -i 0.002 (or higher)"
        )));
    }
    if interval >= INT_MAX / i64::from(o.preload.max(1)) {
        return Some(WorkerError::fatal(format!(
            "illegal preload and/or interval: {interval}"
        )));
    }
    None
}

/// Upstream iputils' check of `-s` against the protocol's maximum (exit 1).
pub fn size_error(datalen: usize, max: usize) -> Option<WorkerError> {
    (datalen > max).then(|| {
        WorkerError::BadValue(format!(
            "invalid -s value: '{datalen}': out of range: 0 <= value <= {max}"
        ))
    })
}

#[cfg(test)]
mod tests;
