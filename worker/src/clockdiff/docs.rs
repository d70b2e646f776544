//! What clockdiff's man page and completions say of its command line
//! (`xtask docs`): the worker's clap definition, and its options in the
//! words of iputils' clockdiff(8). The worker parses without these texts.

#![forbid(unsafe_code)]

use crate::docs::{Manual, Options};

/// The tool's entry for `xtask docs` ([`crate::docs::of`]).
pub const MANUAL: Manual = Manual {
    command: super::cli::command,
    options: OPTIONS,
};

/// clockdiff's options, in the words of iputils' clockdiff(8).
const OPTIONS: Options = &[
    (
        "o",
        None,
        "Use the IP timestamp option with four prespecified addresses (this host, the \
         destination twice, this host) on ICMP echo requests, instead of ICMP timestamp \
         requests. If the kernel refuses the option, say so and use ICMP timestamps.",
    ),
    (
        "1",
        None,
        "With -o, written -o1: three prespecified addresses (this host, the destination, \
         this host).",
    ),
    (
        "T",
        Some("ctime|iso"),
        "The format of the time on the interactive line: ctime (the default) or iso \
         (ISO 8601).",
    ),
    ("I", None, "Alias of --time-format=iso."),
    ("h", None, "Show the usage text and exit."),
    ("V", None, "Show the version and exit."),
    (
        "destination",
        Some("destination"),
        "The host whose clock to compare: a name or an IPv4 address.",
    ),
];
