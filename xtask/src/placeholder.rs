//! A stand-in for the worker's clap definition, used only until the worker
//! crate exposes `worker::cli::command()`. Same shape as the worker's own
//! (iputils' short options, each argument named by its letter, no help
//! text): the help texts come from [`crate::options`] either way.

#![forbid(unsafe_code)]

use clap::{Arg, ArgAction, Command};

/// The placeholder command line.
pub fn command() -> Command {
    const FLAGS: &[char] = &['4', '6', 'D', 'f', 'h', 'n', 'O', 'q', 'v', 'V'];
    const VALUED: &[char] = &['c', 'i', 'l', 'p', 's', 't', 'w', 'W'];
    let mut cmd = Command::new("ping")
        .no_binary_name(true)
        .disable_help_flag(true)
        .disable_version_flag(true);
    for &c in FLAGS {
        cmd = cmd.arg(Arg::new(c.to_string()).short(c).action(ArgAction::SetTrue));
    }
    for &c in VALUED {
        cmd = cmd.arg(
            Arg::new(c.to_string())
                .short(c)
                .num_args(1)
                .action(ArgAction::Set),
        );
    }
    cmd.arg(
        Arg::new("destination")
            .num_args(0..)
            .action(ArgAction::Append),
    )
}
