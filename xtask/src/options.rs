//! What each worker's options mean, for the man pages and the completions.
//! A worker's clap definition says which options exist (it parses with
//! iputils' own messages and usage text, so it carries no help strings);
//! its tool's table (`worker::<tool>::docs`) says what they do, in the
//! words of the stock tool's man page. A test fails when a worker gains an
//! option that is not described there.

#![forbid(unsafe_code)]

use clap::{Arg, Command};

/// (argument id, value name, description).
pub type Table = worker::docs::Options;

/// Fills in the value names and descriptions the worker's arguments lack,
/// from `table`, leaving any text the worker does provide.
pub fn describe(cmd: Command, table: Table) -> Command {
    let ids: Vec<String> = cmd
        .get_arguments()
        .map(|a| a.get_id().to_string())
        .collect();
    ids.iter().fold(cmd, |cmd, id| {
        let Some(&(_, value, help)) = table.iter().find(|(k, _, _)| *k == id) else {
            return cmd;
        };
        cmd.mut_arg(id, |arg: Arg| {
            let arg = if arg.get_help().is_none() {
                arg.help(help)
            } else {
                arg
            };
            let takes_values = !matches!(arg.get_num_args(), Some(n) if !n.takes_values());
            match value {
                Some(v) if takes_values && arg.get_value_names().is_none() => arg.value_name(v),
                _ => arg,
            }
        })
    })
}

/// The ids of the worker's visible arguments that have no description,
/// neither from the worker nor from this table.
pub fn undescribed(cmd: &Command) -> Vec<String> {
    cmd.get_arguments()
        .filter(|a| !a.is_hide_set() && a.get_help().is_none())
        .map(|a| a.get_id().to_string())
        .collect()
}
