//! What ping's man page and completions say of its command line
//! (`xtask docs`): the worker's clap definition, and its options in the
//! words of iputils' ping(8). The worker parses without these texts.

#![forbid(unsafe_code)]

use crate::docs::{Manual, Options};

/// The tool's entry for `xtask docs` ([`crate::docs::of`]).
pub const MANUAL: Manual = Manual {
    command: super::cli::command,
    options: OPTIONS,
};

/// ping's options, in the words of iputils' ping(8).
const OPTIONS: Options = &[
    ("4", None, "Use IPv4 only."),
    ("6", None, "Use IPv6 only."),
    (
        "c",
        Some("count"),
        "Stop after sending count ECHO_REQUEST packets. With a deadline (-w), wait for \
         count ECHO_REPLY packets until the deadline expires.",
    ),
    (
        "D",
        None,
        "Print the timestamp (Unix time and microseconds, as from gettimeofday) before each line.",
    ),
    (
        "f",
        None,
        "Flood ping: send as fast as replies come back or a hundred times a second, whichever \
         is more, printing a dot for every ECHO_REQUEST and a backspace for every ECHO_REPLY. \
         Implies -n. Only the super-user may combine it with an interval below 2 ms.",
    ),
    ("h", None, "Show the usage text and exit."),
    (
        "i",
        Some("interval"),
        "Wait interval seconds between sending each packet (a real number, with a dot as the \
         decimal separator whatever the locale). The default is one second, or no wait in \
         flood mode. Only the super-user may set an interval below 2 ms.",
    ),
    (
        "j",
        None,
        "JSON output: one JSON object per line (each reply, each error, the summary), in \
         the format of iputils ping -j.",
    ),
    (
        "l",
        Some("preload"),
        "Send preload packets without waiting for replies. Only the super-user may select \
         a preload above 3.",
    ),
    (
        "n",
        None,
        "Numeric output only: no attempt is made to look up symbolic names for host addresses.",
    ),
    (
        "O",
        None,
        "Report an outstanding ECHO_REPLY before sending the next packet.",
    ),
    (
        "p",
        Some("pattern"),
        "Up to 16 pad bytes, in hexadecimal, to fill out the packets sent (-p ff fills them \
         with all ones).",
    ),
    (
        "q",
        None,
        "Quiet output: nothing is displayed except the summary lines at startup and when finished.",
    ),
    (
        "s",
        Some("packetsize"),
        "The number of data bytes to send. The default is 56, which makes 64 ICMP data bytes \
         with the 8 bytes of ICMP header.",
    ),
    (
        "t",
        Some("ttl"),
        "Set the IP time to live (IPv6: the hop limit).",
    ),
    ("v", None, "Verbose output."),
    ("V", None, "Show the version and exit."),
    (
        "w",
        Some("deadline"),
        "Stop after deadline seconds, however many packets have been sent or received. With \
         -c, stop when count replies have arrived or the deadline expires.",
    ),
    (
        "W",
        Some("timeout"),
        "Time to wait for a response, in seconds (a real number). It only applies when no \
         response has arrived at all; otherwise ping waits for two round-trip times. \
         0 means wait forever.",
    ),
    (
        "destination",
        Some("destination"),
        "The host to ping: a name, an IPv4 address or an IPv6 address.",
    ),
];
