//! arping's command line, iputils-compatible: glibc's getopt over iputils'
//! option string `h?bfDUAqc:w:i:s:I:V` ([`crate::getopt`]: clusters like
//! `-fc3`, options after the destination unless `POSIXLY_CORRECT` is set),
//! each option acted on where getopt delivers it, with iputils' own rules
//! and messages (`strtol_or_err`), producing a plain [`Options`].
//!
//! As in iputils: a bad number is `strtol_or_err`'s message and exit 1; an
//! unknown option or a missing value is getopt's line, then the usage text,
//! exit 2; `-V` and `-h` act where they stand (before a bad option that
//! follows them); a missing or second destination prints the usage text and
//! exits 2. One deliberate difference, on bad input: a numeric value
//! containing a control character is invalid. The non-root limits on `-U`,
//! `-A` and `-s` are not checked here but in the prepare step, which knows
//! the interface ([`crate::arping::prepare`]).
//!
//! [`command`] describes the same options to clap for the man page and the
//! completions (a unit test keeps the two equal). Every message that echoes
//! the command line passes it through [`printable`](crate::text::printable).

#![forbid(unsafe_code)]

use std::ffi::OsString;

use clap::{Arg, ArgAction, Command};

use crate::getopt::{self, Getopt};
use crate::WorkerError;

const INT_MAX: i64 = i32::MAX as i64;

/// Everything the command line asked for, with iputils' defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `-b`: keep broadcasting, never switch to unicast.
    pub broadcast_only: bool,
    /// `-D`: duplicate address detection (implies quit on the first reply).
    pub dad: bool,
    /// `-U` (and `-A`): unsolicited ARP.
    pub unsolicited: bool,
    /// `-A`: ARP reply instead of request.
    pub advert: bool,
    /// `-q`.
    pub quiet: bool,
    /// `-f` (and `-D`).
    pub quit_on_reply: bool,
    /// `-c`: probes to send; -1 for no limit.
    pub count: i64,
    /// `-w`: seconds; 0 for none.
    pub timeout: u32,
    /// `-i`: whole seconds between probes; 0 sends a single probe (iputils'
    /// interval timer is then disarmed).
    pub interval: u32,
    /// `-I`; `None` also for `-I ''` (iputils then guesses).
    pub device: Option<String>,
    /// `-s`, as given (checked once the interface is known).
    pub source: Option<String>,
    /// The destination: an IPv4 address in any `inet_aton` form, or a name.
    pub target: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            broadcast_only: false,
            dad: false,
            unsolicited: false,
            advert: false,
            quiet: false,
            quit_on_reply: false,
            count: -1,
            timeout: 0,
            interval: 1,
            device: None,
            source: None,
            target: String::new(),
        }
    }
}

/// What the command line asks the worker to do.
#[derive(Debug, Clone, PartialEq, Eq)]
/// `-h`, `-?`, or not exactly one destination are
/// [`WorkerError::Usage`]`(None)` (the usage text on stderr, exit 2, as
/// iputils); getopt's complaint (an unknown option, a missing value) is
/// [`WorkerError::Usage`] with it (the complaint, then the usage text).
pub enum Parsed {
    Run(Options),
    /// `-V`: the version on stdout, exit 0.
    Version,
}

/// iputils' getopt string.
pub const OPTSTRING: &str = "h?bfDUAqc:w:i:s:I:V";

const VALUED: &[(char, &str)] = &[('c', "c"), ('w', "w"), ('i', "i"), ('s', "s"), ('I', "I")];
const FLAGS: &[(char, &str)] = &[
    ('h', "h"),
    ('?', "?"),
    ('b', "b"),
    ('f', "f"),
    ('D', "D"),
    ('U', "U"),
    ('A', "A"),
    ('q', "q"),
    ('V', "V"),
];

/// The clap definition (options only; values are checked by [`parse`]).
/// Public so that the man page and completions are generated from it.
pub fn command() -> Command {
    let mut cmd = Command::new("arping")
        .no_binary_name(true)
        .disable_help_flag(true)
        .disable_version_flag(true)
        .args_override_self(true);
    for &(c, id) in FLAGS {
        let arg = Arg::new(id).short(c).action(ArgAction::SetTrue);
        // `-?` is getopt's error return doubling as help: not worth a
        // line of its own in the man page.
        cmd = cmd.arg(if c == '?' { arg.hide(true) } else { arg });
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

use crate::num::strtol_or_err;

/// Parses the arguments after argv\[0\], with `POSIXLY_CORRECT` from the
/// environment. A bad value is the one-line message
/// ([`WorkerError::status`]: 1, as `strtol_or_err`).
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
    let mut scan = Getopt::new(&args, OPTSTRING, &[], posix);
    let mut o = Options::default();
    for found in scan.by_ref() {
        let (c, value) = match found {
            Ok(found) => found,
            Err(complaint) => return Err(WorkerError::Usage(Some(complaint))),
        };
        let v = value.unwrap_or_default();
        match c {
            'b' => o.broadcast_only = true,
            'D' => {
                o.dad = true;
                o.quit_on_reply = true;
            }
            'U' => o.unsolicited = true,
            'A' => {
                o.advert = true;
                o.unsolicited = true;
            }
            'q' => o.quiet = true,
            'c' => o.count = strtol_or_err(&v, 1, INT_MAX)?,
            'w' => o.timeout = strtol_or_err(&v, 0, INT_MAX)? as u32,
            'i' => o.interval = strtol_or_err(&v, 0, INT_MAX)? as u32,
            'I' => o.device = Some(v).filter(|d| !d.is_empty()),
            'f' => o.quit_on_reply = true,
            's' => o.source = Some(v),
            'V' => return Ok(Parsed::Version),
            // iputils: `case 'h': case '?': default: usage();`
            _ => return Err(WorkerError::Usage(None)),
        }
    }
    match scan.operands().as_slice() {
        [d] => o.target = d.clone(),
        _ => return Err(WorkerError::Usage(None)),
    }
    Ok(Parsed::Run(o))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(args: &[&str]) -> Result<Parsed, WorkerError> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        parse(&args)
    }

    /// The outcome, a refusal in words: `usage` for the usage text alone,
    /// `usage after <complaint>`, or the message.
    fn p(args: &[&str]) -> Result<Parsed, String> {
        raw(args).map_err(|e| match e {
            WorkerError::Usage(None) => "usage".to_string(),
            WorkerError::Usage(Some(c)) => format!("usage after {c}"),
            other => other.to_string(),
        })
    }

    fn run(args: &[&str]) -> Options {
        match p(args) {
            Ok(Parsed::Run(o)) => o,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    fn err(args: &[&str]) -> String {
        match p(args) {
            Err(e) => e.to_string(),
            other => panic!("{args:?}: {other:?}"),
        }
    }

    #[test]
    fn defaults_are_iputils() {
        let o = run(&["198.18.0.2"]);
        assert_eq!(o.count, -1);
        assert_eq!(o.interval, 1);
        assert_eq!(o.timeout, 0);
        assert_eq!(o.target, "198.18.0.2");
        assert!(!o.dad && !o.unsolicited && !o.quit_on_reply);
    }

    #[test]
    fn flags_and_values_in_any_order_and_clusters() {
        let o = run(&["-fqc3", "198.18.0.2", "-I", "veth0", "-w", "5", "-i0"]);
        assert!(o.quit_on_reply && o.quiet);
        assert_eq!((o.count, o.timeout, o.interval), (3, 5, 0));
        assert_eq!(o.device.as_deref(), Some("veth0"));
        let o = run(&["-D", "-s", "0.0.0.0", "x"]);
        assert!(o.dad && o.quit_on_reply);
        assert_eq!(o.source.as_deref(), Some("0.0.0.0"));
        let o = run(&["-A", "x"]);
        assert!(o.advert && o.unsolicited);
        assert_eq!(run(&["-I", "", "x"]).device, None);
        assert!(run(&["-b", "-U", "x"]).broadcast_only);
    }

    #[test]
    fn bad_numbers_have_iputils_words() {
        assert_eq!(err(&["-c", "abc", "x"]), "invalid argument: 'abc'");
        assert_eq!(
            err(&["-c", "0", "x"]),
            "invalid argument: '0': out of range: 1 <= value <= 2147483647"
        );
        assert_eq!(
            err(&["-w", "-1", "x"]),
            "invalid argument: '-1': out of range: 0 <= value <= 2147483647"
        );
        assert_eq!(
            err(&["-i", "99999999999999999999", "x"]),
            "invalid argument: '99999999999999999999': Numerical result out of range"
        );
        assert_eq!(err(&["-c", "\n3", "x"]), "invalid argument: '\\n3'");
        // strtol_or_err's exit status, not a usage error's.
        for args in [
            &["-c", "abc", "x"][..],
            &["-w", "-1", "x"],
            &["-i", "1x", "x"],
        ] {
            assert_eq!(raw(args).unwrap_err().status(), 1, "{args:?}");
        }
    }

    #[test]
    fn getopt_errors_come_with_the_usage_text() {
        let bad = |m: &str| Err(format!("usage after {m}"));
        assert_eq!(p(&["-x", "y"]), bad("invalid option -- 'x'"));
        assert_eq!(p(&["-c"]), bad("option requires an argument -- 'c'"));
        // No long options: `--long` is the option character '-'.
        assert_eq!(p(&["--long", "y"]), bad("invalid option -- '-'"));
        assert_eq!(p(&["-\u{1b}", "y"]), bad("invalid option -- '\\u{1b}'"));
    }

    #[test]
    fn posixly_correct_stops_at_the_destination() {
        let args: Vec<OsString> = ["x", "-c", "1"].iter().map(OsString::from).collect();
        assert!(matches!(
            parse_with(&args, true),
            Err(WorkerError::Usage(None))
        ));
        match parse_with(&args, false) {
            Ok(Parsed::Run(o)) => assert_eq!((o.count, o.target.as_str()), (1, "x")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn clap_declares_the_getopt_string() {
        let mut declared: Vec<(char, bool)> = command()
            .get_arguments()
            .filter_map(|a| Some((a.get_short()?, a.get_action().takes_values())))
            .collect();
        declared.sort_unstable();
        let mut wanted: Vec<(char, bool)> = OPTSTRING
            .char_indices()
            .filter(|&(_, c)| c != ':')
            .map(|(i, c)| (c, OPTSTRING[i + 1..].starts_with(':')))
            .collect();
        wanted.sort_unstable();
        assert_eq!(declared, wanted);
    }

    #[test]
    fn usage_and_version_act_where_they_stand() {
        assert_eq!(p(&[]), Err("usage".to_string()));
        assert_eq!(p(&["a", "b"]), Err("usage".to_string()));
        assert_eq!(p(&["-h", "x"]), Err("usage".to_string()));
        assert_eq!(p(&["-V"]), Ok(Parsed::Version));
        assert_eq!(p(&["-V", "-h"]), Ok(Parsed::Version));
        assert_eq!(p(&["-h", "-V"]), Err("usage".to_string()));
        assert!(p(&["-c", "x", "-V"]).is_err());
        assert_eq!(p(&["-V", "-x"]), Ok(Parsed::Version));
        assert_eq!(p(&["-h", "-x"]), Err("usage".to_string()));
        assert_eq!(p(&["-Vx"]), Ok(Parsed::Version));
    }
}
