//! clockdiff's command line, as iputils' `getopt_long(argc, argv,
//! "o1T:IVh", …)` sees it: clap finds the options (clusters such as `-o1`,
//! `-Tiso`, abbreviated long options, options after the destination), then
//! they are replayed in command-line order so that the last of `-o`/`-1`
//! and of `-T`/`-I` wins and `-h`, `-V` or a bad `-T` act where they stand,
//! as with getopt. Messages and exit codes are iputils': getopt's line on
//! stderr plus `Try '… --help'` on stdout and status 1; a wrong number of
//! destinations prints the usage on stderr, status 1.

#![forbid(unsafe_code)]

use std::ffi::OsString;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Arg, ArgAction, Command};

use crate::text::printable;

/// iputils' `ip_opt_len` for `-o`: the option header and four
/// (address, timestamp) pairs.
pub const OPT_LEN_FOUR: usize = 4 + 4 * 8;
/// iputils' `ip_opt_len` for `-o1` (`-1`): three pairs.
pub const OPT_LEN_THREE: usize = 4 + 3 * 8;

/// How the clocks are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// ICMP timestamp request/reply (RFC 792), the default.
    IcmpTimestamp,
    /// `-o`: ICMP echo with the IP timestamp option, four prespecified
    /// addresses (me, him, him, me).
    IpOptionFour,
    /// `-o1`: three prespecified addresses (me, him, me).
    IpOptionThree,
}

impl Method {
    /// iputils' `ip_opt_len` (0 for ICMP timestamps).
    pub fn opt_len(self) -> usize {
        match self {
            Method::IcmpTimestamp => 0,
            Method::IpOptionFour => OPT_LEN_FOUR,
            Method::IpOptionThree => OPT_LEN_THREE,
        }
    }
}

/// `-T`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeFormat {
    /// `%a %b %e %H:%M:%S %Y`, the default.
    Ctime,
    /// `%Y-%m-%dT%H:%M:%S%z` (`-T iso`, `-I`).
    Iso,
}

/// A measurement to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub method: Method,
    pub time_format: TimeFormat,
    pub destination: String,
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Run(Options),
    /// `-h`: the usage on stderr, status 0.
    Help,
    /// `-V`: the version on stdout, status 0.
    Version,
}

/// How a bad command line ends, in iputils' words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A getopt error: `prog: <line>` on stderr, then `Try 'prog --help'
    /// for more information.` on stdout; status 1.
    Getopt(String),
    /// `error(1, 0, …)`: `prog: <line>` on stderr; status 1.
    Error(String),
    /// No destination or more than one: the usage on stderr; status 1.
    Usage,
}

/// The clap definition (options only; what they mean is in xtask's table
/// for the man page). Public so that the man page and the completions are
/// generated from exactly what the worker parses.
pub fn command() -> Command {
    Command::new("privsep-clockdiff")
        .no_binary_name(true)
        .disable_help_flag(true)
        .disable_version_flag(true)
        .args_override_self(true)
        .infer_long_args(true)
        .arg(Arg::new("o").short('o').action(ArgAction::SetTrue))
        .arg(Arg::new("1").short('1').action(ArgAction::SetTrue))
        .arg(
            Arg::new("T")
                .short('T')
                .long("time-format")
                .value_name("ctime|iso")
                .num_args(1)
                .allow_hyphen_values(true)
                .action(ArgAction::Set),
        )
        .arg(Arg::new("I").short('I').action(ArgAction::SetTrue))
        .arg(
            Arg::new("V")
                .short('V')
                .long("version")
                .action(ArgAction::SetTrue),
        )
        .arg(
            Arg::new("h")
                .short('h')
                .long("help")
                .action(ArgAction::SetTrue),
        )
        .arg(
            Arg::new("destination")
                .value_name("destination")
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

/// The long option an abbreviation stands for (getopt names the whole one).
fn long_name(arg: &str) -> &'static str {
    let name = arg.trim_start_matches('-');
    let name = name.split('=').next().unwrap_or("");
    ["time-format", "version", "help"]
        .into_iter()
        .find(|l| !name.is_empty() && l.starts_with(name))
        .unwrap_or("")
}

/// clap's error → glibc getopt's line.
fn getopt_message(e: &clap::Error, args: &[OsString]) -> String {
    let arg = context(e, ContextKind::InvalidArg).unwrap_or_default();
    match e.kind() {
        ErrorKind::UnknownArgument => {
            if arg.starts_with("--") {
                // getopt quotes the argument as given, `=value` included.
                let full = args
                    .iter()
                    .map(|a| a.to_string_lossy())
                    .find(|a| a.starts_with(&*arg))
                    .map_or(arg.clone(), |a| a.into_owned());
                let long = long_name(&full);
                if !long.is_empty() && full.contains('=') {
                    return format!("option '--{long}' doesn't allow an argument");
                }
                format!("unrecognized option '{}'", printable(&full))
            } else {
                let c = arg.trim_start_matches('-').chars().next().unwrap_or('?');
                format!(
                    "invalid option -- '{}'",
                    printable(c.encode_utf8(&mut [0; 4]))
                )
            }
        }
        ErrorKind::InvalidValue | ErrorKind::NoEquals | ErrorKind::WrongNumberOfValues => {
            // A missing value can only be the last argument's.
            let last = args.last().map(|a| a.to_string_lossy().into_owned());
            let last = last.unwrap_or_default();
            if last.starts_with("--") {
                format!("option '--{}' requires an argument", long_name(&last))
            } else {
                "option requires an argument -- 'T'".to_string()
            }
        }
        ErrorKind::TooManyValues | ErrorKind::ArgumentConflict => {
            format!("option '--{}' doesn't allow an argument", long_name(&arg))
        }
        ErrorKind::InvalidUtf8 => "invalid option: arguments must be valid UTF-8".to_string(),
        kind => format!("invalid option: {kind}"),
    }
}

/// Parses `args` (without argv\[0\]).
pub fn parse(args: &[OsString]) -> Result<Parsed, Refusal> {
    let m = command()
        .try_get_matches_from(args)
        .map_err(|e| Refusal::Getopt(getopt_message(&e, args)))?;

    // Replay in command-line order, as getopt delivers them.
    let mut seen: Vec<(usize, char)> = Vec::new();
    for c in ['o', '1', 'I', 'V', 'h'] {
        let id = c.encode_utf8(&mut [0; 4]).to_string();
        if m.get_flag(&id) {
            seen.push((m.index_of(&id).unwrap_or(0), c));
        }
    }
    if m.contains_id("T") {
        seen.push((m.index_of("T").unwrap_or(0), 'T'));
    }
    seen.sort_by_key(|&(i, _)| i);

    let mut method = Method::IcmpTimestamp;
    let mut time_format = TimeFormat::Ctime;
    for (_, c) in seen {
        match c {
            'o' => method = Method::IpOptionFour,
            '1' => method = Method::IpOptionThree,
            'I' => time_format = TimeFormat::Iso,
            'T' => {
                let v = m.get_one::<String>("T").map_or("", String::as_str);
                time_format = match v {
                    "iso" => TimeFormat::Iso,
                    "ctime" => TimeFormat::Ctime,
                    _ => {
                        return Err(Refusal::Error(format!(
                            "invalid time-format argument: {}",
                            printable(v)
                        )))
                    }
                };
            }
            'V' => return Ok(Parsed::Version),
            'h' => return Ok(Parsed::Help),
            _ => unreachable!("every declared option is handled"),
        }
    }
    let mut dests = m.get_many::<String>("destination").into_iter().flatten();
    match (dests.next(), dests.next()) {
        (Some(d), None) => Ok(Parsed::Run(Options {
            method,
            time_format,
            destination: d.clone(),
        })),
        _ => Err(Refusal::Usage),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Parsed, Refusal> {
        let v: Vec<OsString> = args.iter().map(OsString::from).collect();
        parse(&v)
    }

    fn opts(args: &[&str]) -> Options {
        match run(args) {
            Ok(Parsed::Run(o)) => o,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    #[test]
    fn defaults_are_icmp_timestamps_and_ctime() {
        let o = opts(&["127.0.0.1"]);
        assert_eq!(o.method, Method::IcmpTimestamp);
        assert_eq!(o.time_format, TimeFormat::Ctime);
        assert_eq!(o.destination, "127.0.0.1");
    }

    #[test]
    fn o_and_o1_and_the_last_one_wins() {
        assert_eq!(opts(&["-o", "h"]).method, Method::IpOptionFour);
        assert_eq!(opts(&["-o1", "h"]).method, Method::IpOptionThree);
        assert_eq!(opts(&["-1", "h"]).method, Method::IpOptionThree);
        assert_eq!(opts(&["-1o", "h"]).method, Method::IpOptionFour);
        assert_eq!(opts(&["-o1", "-o", "h"]).method, Method::IpOptionFour);
        assert_eq!(opts(&["h", "-o"]).method, Method::IpOptionFour);
        assert_eq!(Method::IpOptionFour.opt_len(), 36);
        assert_eq!(Method::IpOptionThree.opt_len(), 28);
    }

    #[test]
    fn time_formats() {
        assert_eq!(opts(&["-I", "h"]).time_format, TimeFormat::Iso);
        assert_eq!(opts(&["-Tiso", "h"]).time_format, TimeFormat::Iso);
        assert_eq!(opts(&["-T", "iso", "h"]).time_format, TimeFormat::Iso);
        assert_eq!(
            opts(&["--time-format=iso", "h"]).time_format,
            TimeFormat::Iso
        );
        assert_eq!(opts(&["--time", "iso", "h"]).time_format, TimeFormat::Iso);
        assert_eq!(
            opts(&["-I", "-T", "ctime", "h"]).time_format,
            TimeFormat::Ctime
        );
        assert_eq!(
            opts(&["-T", "ctime", "-I", "h"]).time_format,
            TimeFormat::Iso
        );
        assert_eq!(
            run(&["-T", "foo", "h"]),
            Err(Refusal::Error("invalid time-format argument: foo".into()))
        );
        assert_eq!(
            run(&["-T", "\x1b[2J", "h"]),
            Err(Refusal::Error(
                "invalid time-format argument: \\u{1b}[2J".into()
            ))
        );
    }

    #[test]
    fn help_and_version_act_where_they_stand() {
        assert_eq!(run(&["-h"]), Ok(Parsed::Help));
        assert_eq!(run(&["--help"]), Ok(Parsed::Help));
        assert_eq!(run(&["--he"]), Ok(Parsed::Help));
        assert_eq!(run(&["-V"]), Ok(Parsed::Version));
        assert_eq!(run(&["--ver"]), Ok(Parsed::Version));
        assert_eq!(run(&["-Tiso", "-h"]), Ok(Parsed::Help));
        assert_eq!(run(&["-h", "-T", "foo"]), Ok(Parsed::Help));
        assert!(matches!(run(&["-T", "foo", "-h"]), Err(Refusal::Error(_))));
        assert_eq!(run(&["a", "b", "-V"]), Ok(Parsed::Version));
    }

    #[test]
    fn destinations_one_exactly() {
        assert_eq!(run(&[]), Err(Refusal::Usage));
        assert_eq!(run(&["-o"]), Err(Refusal::Usage));
        assert_eq!(run(&["a", "b"]), Err(Refusal::Usage));
        assert_eq!(opts(&["--", "-x"]).destination, "-x");
    }

    #[test]
    fn getopt_wording() {
        let g = |args: &[&str]| match run(args) {
            Err(Refusal::Getopt(s)) => s,
            other => panic!("{args:?}: {other:?}"),
        };
        assert_eq!(g(&["-x", "h"]), "invalid option -- 'x'");
        assert_eq!(g(&["-o1x", "h"]), "invalid option -- 'x'");
        assert_eq!(g(&["-T"]), "option requires an argument -- 'T'");
        assert_eq!(
            g(&["--time-format"]),
            "option '--time-format' requires an argument"
        );
        assert_eq!(g(&["--foo", "x"]), "unrecognized option '--foo'");
        assert_eq!(g(&["--foo=bar", "x"]), "unrecognized option '--foo=bar'");
        assert_eq!(
            g(&["--help=x"]),
            "option '--help' doesn't allow an argument"
        );
        assert_eq!(g(&["-\u{1b}"]), "invalid option -- '\\u{1b}'");
    }
}
