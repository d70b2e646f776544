//! What arping's man page and completions say of its command line
//! (`xtask docs`): the worker's clap definition, and its options in the
//! words of iputils' arping(8). The worker parses without these texts.

#![forbid(unsafe_code)]

use crate::docs::{Manual, Options};

/// The tool's entry for `xtask docs` ([`crate::docs::of`]).
pub const MANUAL: Manual = Manual {
    command: super::cli::command,
    options: OPTIONS,
};

/// arping's options, in the words of iputils' arping(8).
const OPTIONS: Options = &[
    (
        "A",
        None,
        "The same as -U, but ARP REPLY packets are used instead of ARP REQUEST. \
         Root only (see NON-ROOT LIMITS).",
    ),
    (
        "b",
        None,
        "Send only MAC level broadcasts. Normally arping starts by sending broadcasts \
         and switches to unicast after the first reply.",
    ),
    (
        "c",
        Some("count"),
        "Stop after sending count ARP REQUEST packets. With a deadline (-w), wait for \
         count ARP REPLY packets, or until the deadline expires.",
    ),
    (
        "D",
        None,
        "Duplicate address detection mode (DAD, RFC 2131 4.4.1). The exit status is 0 \
         when DAD succeeded, that is no replies were received.",
    ),
    (
        "f",
        None,
        "Finish after the first reply confirming that the target is alive.",
    ),
    ("h", None, "Show the usage text and exit."),
    (
        "I",
        Some("interface"),
        "The network device to send ARP REQUEST packets on. Without it, the outgoing \
         interface of the route to the destination is used.",
    ),
    (
        "i",
        Some("interval"),
        "Seconds (a whole number) between packets; the default is one. With 0, a single \
         packet is sent.",
    ),
    ("q", None, "Quiet output: nothing is displayed."),
    (
        "s",
        Some("source"),
        "The IP source address to use in ARP packets. Without it, the address is the one \
         the kernel would send from (in DAD mode 0.0.0.0). Users other than root may only \
         name an address of the interface.",
    ),
    (
        "U",
        None,
        "Unsolicited ARP mode, to update the neighbours' ARP caches. Root only (see \
         NON-ROOT LIMITS).",
    ),
    ("V", None, "Show the version and exit."),
    (
        "w",
        Some("deadline"),
        "Stop after deadline seconds, however many packets have been sent or received. \
         With -c, stop as soon as count replies have arrived.",
    ),
    (
        "destination",
        Some("destination"),
        "The host to ask about: an IPv4 address or a name.",
    ),
];
