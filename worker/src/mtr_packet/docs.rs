//! What mtr-packet's man page and completions say of its command line
//! (`xtask docs`): the worker's clap definition, and its options in the
//! words of mtr-packet(8). The worker parses without these texts.

#![forbid(unsafe_code)]

use crate::docs::{Manual, Options};

/// The tool's entry for `xtask docs` ([`crate::docs::of`]).
pub const MANUAL: Manual = Manual {
    command: super::command,
    options: OPTIONS,
};

/// mtr-packet has no option: its requests come on stdin.
const OPTIONS: Options = &[];
