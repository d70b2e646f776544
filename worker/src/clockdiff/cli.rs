//! clockdiff's command line, as iputils' `getopt_long(argc, argv,
//! "o1T:IVh", …)` sees it ([`crate::getopt`]: clusters such as `-o1`,
//! `-Tiso`, abbreviated long options, options after the destination unless
//! `POSIXLY_CORRECT` is set), each option acted on where getopt delivers
//! it: the last of `-o`/`-1` and of `-T`/`-I` wins, and `-h`, `-V` or a bad
//! `-T` act where they stand, before a bad option that follows. Messages
//! and exit codes are iputils': getopt's line on stderr plus `Try '…
//! --help'` on stdout and status 1; a wrong number of destinations prints
//! the usage on stderr, status 1. [`command`] describes the same options
//! to clap for the man page and the completions (a unit test keeps the two
//! equal).

#![forbid(unsafe_code)]

use std::ffi::OsString;

use clap::{Arg, ArgAction, Command};

use crate::getopt::{self, Getopt, HasArg, LongOpt};
use crate::text::printable;
use crate::WorkerError;

/// iputils' getopt string.
pub const OPTSTRING: &str = "o1T:IVh";

/// iputils' long options.
pub const LONG_OPTIONS: &[LongOpt] = &[
    LongOpt {
        name: "time-format",
        has_arg: HasArg::Required,
        val: 'T',
    },
    LongOpt {
        name: "version",
        has_arg: HasArg::No,
        val: 'V',
    },
    LongOpt {
        name: "help",
        has_arg: HasArg::No,
        val: 'h',
    },
];

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

/// Parses `args` (without argv\[0\]), with `POSIXLY_CORRECT` from the
/// environment.
pub fn parse(args: &[OsString]) -> Result<Parsed, WorkerError> {
    parse_with(args, getopt::posixly_correct())
}

/// [`parse`] with `POSIXLY_CORRECT` given (`posix`: set).
pub fn parse_with(args: &[OsString], posix: bool) -> Result<Parsed, WorkerError> {
    // getopt sees bytes; a name that is not UTF-8 reaches the resolver
    // with its invalid bytes replaced (it cannot resolve either way).
    let args: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut scan = Getopt::new(&args, OPTSTRING, LONG_OPTIONS, posix);
    let mut method = Method::IcmpTimestamp;
    let mut time_format = TimeFormat::Ctime;
    for found in scan.by_ref() {
        let (c, value) = found.map_err(WorkerError::TryHelp)?;
        match c {
            'o' => method = Method::IpOptionFour,
            '1' => method = Method::IpOptionThree,
            'I' => time_format = TimeFormat::Iso,
            'T' => {
                let v = value.unwrap_or_default();
                time_format = match v.as_str() {
                    "iso" => TimeFormat::Iso,
                    "ctime" => TimeFormat::Ctime,
                    _ => {
                        return Err(WorkerError::Fatal(format!(
                            "invalid time-format argument: {}",
                            printable(&v)
                        )))
                    }
                };
            }
            'V' => return Ok(Parsed::Version),
            // iputils: `case 'h': usage(0);` and nothing else is returned.
            _ => return Ok(Parsed::Help),
        }
    }
    match scan.operands().as_slice() {
        [d] => Ok(Parsed::Run(Options {
            method,
            time_format,
            destination: d.clone(),
        })),
        _ => Err(WorkerError::Usage(None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A refusal as how it ends and its words.
    type Refused = (&'static str, String);

    fn refusal(e: WorkerError) -> Refused {
        let how = match &e {
            WorkerError::TryHelp(_) => "getopt",
            WorkerError::Usage(None) => "usage",
            WorkerError::Fatal(_) => "error",
            _ => "other",
        };
        assert_eq!(e.status_for(1), 1, "{e:?}");
        (how, e.to_string())
    }

    fn run(args: &[&str]) -> Result<Parsed, Refused> {
        let v: Vec<OsString> = args.iter().map(OsString::from).collect();
        parse(&v).map_err(refusal)
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
            Err(("error", "invalid time-format argument: foo".into()))
        );
        assert_eq!(
            run(&["-T", "\x1b[2J", "h"]),
            Err(("error", "invalid time-format argument: \\u{1b}[2J".into()))
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
        assert!(matches!(run(&["-T", "foo", "-h"]), Err(("error", _))));
        assert_eq!(run(&["a", "b", "-V"]), Ok(Parsed::Version));
        assert_eq!(run(&["-V", "-x"]), Ok(Parsed::Version));
        assert_eq!(run(&["-h", "--foo"]), Ok(Parsed::Help));
    }

    #[test]
    fn posixly_correct_stops_at_the_destination() {
        let args: Vec<OsString> = ["h", "-o"].iter().map(OsString::from).collect();
        assert!(matches!(
            parse_with(&args, true),
            Err(WorkerError::Usage(None))
        ));
        assert!(matches!(parse_with(&args, false), Ok(Parsed::Run(_))));
    }

    #[test]
    fn clap_declares_the_getopt_options() {
        let cmd = command();
        let mut declared: Vec<(char, Option<String>, bool)> = cmd
            .get_arguments()
            .filter_map(|a| {
                Some((
                    a.get_short()?,
                    a.get_long().map(str::to_string),
                    a.get_action().takes_values(),
                ))
            })
            .collect();
        declared.sort_unstable();
        let mut wanted: Vec<(char, Option<String>, bool)> = OPTSTRING
            .char_indices()
            .filter(|&(_, c)| c != ':')
            .map(|(i, c)| {
                let long = LONG_OPTIONS.iter().find(|l| l.val == c);
                (
                    c,
                    long.map(|l| l.name.to_string()),
                    OPTSTRING[i + 1..].starts_with(':'),
                )
            })
            .collect();
        wanted.sort_unstable();
        assert_eq!(declared, wanted);
    }

    #[test]
    fn destinations_one_exactly() {
        assert_eq!(run(&[]), Err(("usage", String::new())));
        assert_eq!(run(&["-o"]), Err(("usage", String::new())));
        assert_eq!(run(&["a", "b"]), Err(("usage", String::new())));
        assert_eq!(opts(&["--", "-x"]).destination, "-x");
    }

    #[test]
    fn getopt_wording() {
        let g = |args: &[&str]| match run(args) {
            Err(("getopt", s)) => s,
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
