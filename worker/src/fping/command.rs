//! fping's options as a clap definition, for the man page and the shell
//! completions only (`xtask`): the worker parses with fping's own
//! `optparse_long` rules ([`crate::fping::cli`]), from the same table, so
//! the documentation lists exactly the options it takes.

#![forbid(unsafe_code)]

use clap::{Arg, ArgAction, Command};

use crate::fping::cli::{LONGOPTS, LONG_ONLY};

/// Every short option letter, so that an argument's id can be a
/// `&'static str` of one letter.
const LETTERS: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Every option of [`LONGOPTS`] (id: its short letter, or a long-only
/// option's long name) and the targets.
pub fn command() -> Command {
    let mut cmd = Command::new("fping")
        .no_binary_name(true)
        .disable_help_flag(true)
        .disable_version_flag(true)
        .args_override_self(true);
    for &(long, short, takes_value) in LONGOPTS {
        let mut arg = match (short, long) {
            (LONG_ONLY.., Some(l)) => Arg::new(l),
            _ => {
                let c = short as char;
                let Some(at) = LETTERS.find(c) else { continue };
                Arg::new(&LETTERS[at..at + 1]).short(c)
            }
        };
        if let Some(l) = long {
            arg = arg.long(l);
        }
        arg = if takes_value {
            arg.num_args(1)
                .allow_hyphen_values(true)
                .action(ArgAction::Set)
        } else {
            arg.action(ArgAction::SetTrue)
        };
        cmd = cmd.arg(arg);
    }
    cmd.arg(
        Arg::new("targets")
            .num_args(0..)
            .action(ArgAction::Append)
            .value_hint(clap::ValueHint::Hostname),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_option_is_in_the_definition() {
        let cmd = super::command();
        for &(long, short, _) in super::LONGOPTS {
            let arg = if short >= super::LONG_ONLY {
                cmd.get_arguments().find(|a| a.get_long() == long).unwrap()
            } else {
                cmd.get_arguments()
                    .find(|a| a.get_short() == Some(short as char))
                    .unwrap()
            };
            assert_eq!(arg.get_long(), long);
            assert_eq!(arg.get_short().is_none(), short >= super::LONG_ONLY);
        }
    }
}
