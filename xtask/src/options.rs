//! What each worker's options mean, for the man pages and the completions.
//! A worker's clap definition says which options exist (it parses with
//! iputils' own messages and usage text, so it carries no help strings);
//! one table per tool here says what they do, in the words of the iputils
//! tool's man page. A test fails when a worker gains an option that is not
//! described here.

#![forbid(unsafe_code)]

use clap::{Arg, Command};

/// (argument id, value name, description).
pub type Table = &'static [(&'static str, Option<&'static str>, &'static str)];

/// ping's options, in the words of iputils' ping(8).
pub const PING: Table = &[
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

/// arping's options, in the words of iputils' arping(8).
pub const ARPING: Table = &[
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

/// clockdiff's options, in the words of iputils' clockdiff(8).
pub const CLOCKDIFF: Table = &[
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

/// mtr-packet has no option: its requests come on stdin.
pub const MTR_PACKET: Table = &[];

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
