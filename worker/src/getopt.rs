//! glibc's `getopt`/`getopt_long`, as arping's and clockdiff's command
//! lines see them: options are delivered one at a time in command-line
//! order, so that the caller acts on `-V` or `-h` before a bad option that
//! follows (getopt reports an error only when it reaches it); clusters
//! (`-fc3`), values attached or in the next argument, `--` ending the
//! options, long options with `=value` or the next argument and unique
//! abbreviations; operands anywhere unless `POSIXLY_CORRECT` is set, which
//! stops at the first operand as glibc does. Error lines are glibc's words
//! (without the `prog: ` prefix, which the caller adds); a character that
//! is not printable is escaped.

#![forbid(unsafe_code)]

use crate::text::printable;

/// Whether a long option takes a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HasArg {
    No,
    Required,
}

/// One entry of getopt_long's `struct option` table.
#[derive(Debug, Clone, Copy)]
pub struct LongOpt {
    pub name: &'static str,
    pub has_arg: HasArg,
    /// The short option it stands for.
    pub val: char,
}

/// The scanner over the arguments after argv\[0\].
pub struct Getopt<'a> {
    args: &'a [String],
    shorts: &'static str,
    longs: &'static [LongOpt],
    posix: bool,
    /// The argument being scanned.
    next: usize,
    /// Within a cluster: the byte offset of the next option character.
    cluster: Option<usize>,
    operands: Vec<String>,
    finished: bool,
}

impl<'a> Getopt<'a> {
    /// A scanner for `shorts` (getopt's option string: a character, then
    /// `:` when it takes a value) and `longs`. `posix`: whether
    /// `POSIXLY_CORRECT` is set (see [`posixly_correct`]).
    pub fn new(
        args: &'a [String],
        shorts: &'static str,
        longs: &'static [LongOpt],
        posix: bool,
    ) -> Self {
        Getopt {
            args,
            shorts,
            longs,
            posix,
            next: 0,
            cluster: None,
            operands: Vec::new(),
            finished: false,
        }
    }

    /// The operands, in order: call once the options are exhausted.
    pub fn operands(mut self) -> Vec<String> {
        while let Some(Ok(_)) = self.next() {}
        self.operands
    }

    fn takes_value(&self, c: char) -> Option<bool> {
        if c == ':' {
            return None;
        }
        let at = self.shorts.find(c)?;
        Some(self.shorts[at + c.len_utf8()..].starts_with(':'))
    }

    fn short(&mut self, arg: &'a str, at: usize) -> Result<(char, Option<String>), String> {
        let c = arg[at..].chars().next().unwrap_or('?');
        let after = at + c.len_utf8();
        let rest = &arg[after..];
        self.cluster = None;
        match self.takes_value(c) {
            None => {
                if !rest.is_empty() {
                    self.cluster = Some(after);
                    self.next -= 1;
                }
                Err(invalid_option(c))
            }
            Some(false) => {
                if !rest.is_empty() {
                    self.cluster = Some(after);
                    self.next -= 1;
                }
                Ok((c, None))
            }
            Some(true) if !rest.is_empty() => Ok((c, Some(rest.to_string()))),
            Some(true) => match self.args.get(self.next) {
                Some(v) => {
                    self.next += 1;
                    Ok((c, Some(v.clone())))
                }
                None => Err(requires_argument(c)),
            },
        }
    }

    fn long(&mut self, body: &str) -> Result<(char, Option<String>), String> {
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (body, None),
        };
        let found = match self.longs.iter().find(|l| l.name == name) {
            Some(l) => *l,
            None => {
                let candidates: Vec<&LongOpt> = self
                    .longs
                    .iter()
                    .filter(|l| l.name.starts_with(name))
                    .collect();
                match candidates.as_slice() {
                    [] => return Err(format!("unrecognized option '--{}'", printable(body))),
                    [one] => **one,
                    several => {
                        let first = several[0];
                        if several
                            .iter()
                            .any(|l| l.has_arg != first.has_arg || l.val != first.val)
                        {
                            let list: String =
                                several.iter().map(|l| format!(" '--{}'", l.name)).collect();
                            return Err(format!(
                                "option '--{}' is ambiguous; possibilities:{list}",
                                printable(body)
                            ));
                        }
                        *first
                    }
                }
            }
        };
        match (found.has_arg, inline) {
            (HasArg::No, Some(_)) => Err(format!(
                "option '--{}' doesn't allow an argument",
                found.name
            )),
            (HasArg::No, None) => Ok((found.val, None)),
            (HasArg::Required, Some(v)) => Ok((found.val, Some(v.to_string()))),
            (HasArg::Required, None) => match self.args.get(self.next) {
                Some(v) => {
                    self.next += 1;
                    Ok((found.val, Some(v.clone())))
                }
                None => Err(format!("option '--{}' requires an argument", found.name)),
            },
        }
    }
}

impl Iterator for Getopt<'_> {
    /// An option and its value, or getopt's complaint.
    type Item = Result<(char, Option<String>), String>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.finished {
                return None;
            }
            let args = self.args;
            let Some(arg) = args.get(self.next) else {
                self.finished = true;
                return None;
            };
            self.next += 1;
            if let Some(at) = self.cluster {
                return Some(self.short(arg, at));
            }
            if arg == "--" {
                self.operands.extend(args[self.next..].iter().cloned());
                self.finished = true;
                return None;
            }
            if !arg.starts_with('-') || arg.len() == 1 {
                if self.posix {
                    self.operands.extend(args[self.next - 1..].iter().cloned());
                    self.finished = true;
                    return None;
                }
                self.operands.push(arg.clone());
                continue;
            }
            if let Some(body) = arg.strip_prefix("--") {
                if !self.longs.is_empty() {
                    return Some(self.long(body));
                }
            }
            return Some(self.short(arg, 1));
        }
    }
}

/// glibc getopt's words for an option character not in the option
/// string (made printable: it came from argv). Every tool's getopt,
/// ping's own permuting one too, says it so.
pub fn invalid_option(c: char) -> String {
    let shown = printable(c.encode_utf8(&mut [0; 4])).into_owned();
    format!("invalid option -- '{shown}'")
}

/// glibc getopt's words for an option character whose value is missing.
pub fn requires_argument(c: char) -> String {
    format!("option requires an argument -- '{c}'")
}

/// Whether `POSIXLY_CORRECT` is in the environment (glibc only asks
/// whether it is set, whatever its value).
pub fn posixly_correct() -> bool {
    std::env::var_os("POSIXLY_CORRECT").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONGS: &[LongOpt] = &[
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
            name: "verbose",
            has_arg: HasArg::No,
            val: 'v',
        },
    ];

    type Scanned = (Vec<Result<(char, Option<String>), String>>, Vec<String>);

    fn scan(
        args: &[&str],
        shorts: &'static str,
        longs: &'static [LongOpt],
        posix: bool,
    ) -> Scanned {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let mut g = Getopt::new(&args, shorts, longs, posix);
        let mut seen = Vec::new();
        for item in g.by_ref() {
            let stop = item.is_err();
            seen.push(item);
            if stop {
                break;
            }
        }
        (seen, g.operands)
    }

    fn o(c: char, v: Option<&str>) -> Result<(char, Option<String>), String> {
        Ok((c, v.map(str::to_string)))
    }

    #[test]
    fn clusters_values_and_permutation() {
        let (seen, ops) = scan(
            &["-fc3", "x", "-I", "eth0", "-", "-w5"],
            "fc:I:w:",
            &[],
            false,
        );
        assert_eq!(
            seen,
            [
                o('f', None),
                o('c', Some("3")),
                o('I', Some("eth0")),
                o('w', Some("5"))
            ]
        );
        assert_eq!(ops, ["x", "-"]);
    }

    #[test]
    fn posixly_correct_stops_at_the_first_operand() {
        let (seen, ops) = scan(&["-f", "x", "-c", "1"], "fc:", &[], true);
        assert_eq!(seen, [o('f', None)]);
        assert_eq!(ops, ["x", "-c", "1"]);
    }

    #[test]
    fn double_dash_ends_options() {
        let (seen, ops) = scan(&["a", "--", "-f"], "f", &[], false);
        assert!(seen.is_empty());
        assert_eq!(ops, ["a", "-f"]);
    }

    #[test]
    fn errors_come_where_getopt_reaches_them() {
        let (seen, _) = scan(&["-Vx"], "V", &[], false);
        assert_eq!(seen, [o('V', None), Err("invalid option -- 'x'".into())]);
        let (seen, _) = scan(&["-c"], "c:", &[], false);
        assert_eq!(seen, [Err("option requires an argument -- 'c'".into())]);
        // Without long options, `--long` is the option character '-'.
        let (seen, _) = scan(&["--long"], "c:", &[], false);
        assert_eq!(seen, [Err("invalid option -- '-'".into())]);
        let (seen, _) = scan(&["-\u{1b}"], "c:", &[], false);
        assert_eq!(seen, [Err("invalid option -- '\\u{1b}'".into())]);
        // ':' is never an option.
        let (seen, _) = scan(&["-:"], "c:", &[], false);
        assert_eq!(seen, [Err("invalid option -- ':'".into())]);
    }

    #[test]
    fn long_options() {
        let (seen, _) = scan(
            &["--time=iso", "--time-format", "ctime", "--version"],
            "T:V",
            LONGS,
            false,
        );
        assert_eq!(
            seen,
            [o('T', Some("iso")), o('T', Some("ctime")), o('V', None)]
        );
        let err = |a: &[&str]| scan(a, "T:V", LONGS, false).0.pop().unwrap().unwrap_err();
        assert_eq!(
            err(&["--ver"]),
            "option '--ver' is ambiguous; possibilities: '--version' '--verbose'"
        );
        assert_eq!(err(&["--foo=bar"]), "unrecognized option '--foo=bar'");
        assert_eq!(
            err(&["--version=1"]),
            "option '--version' doesn't allow an argument"
        );
        assert_eq!(
            err(&["--time"]),
            "option '--time-format' requires an argument"
        );
    }
}
