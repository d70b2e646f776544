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

/// fping's options, in the words of fping(8) (5.1, with 5.2's -k and -X).
pub const FPING: Table = &[
    (
        "4",
        None,
        "Restrict name resolution and IPs to IPv4 addresses.",
    ),
    (
        "6",
        None,
        "Restrict name resolution and IPs to IPv6 addresses.",
    ),
    ("a", None, "Show targets that are alive."),
    (
        "A",
        None,
        "Display targets by address rather than DNS name. Combined with -d, the output \
         shows both the address and (if available) the host name.",
    ),
    (
        "b",
        Some("bytes"),
        "Number of bytes of ping data to send (default 56, at most 65488).",
    ),
    (
        "B",
        Some("factor"),
        "Backoff factor: in the default mode, the time-out (-t) is multiplied by it for \
         each retry (1.0 to 5.0, default 1.5).",
    ),
    (
        "c",
        Some("count"),
        "Count mode: send count pings to each target, print a line for each reply \
         (unless -q or -Q) and the statistics of each target at the end.",
    ),
    (
        "C",
        Some("count"),
        "Like -c, but report the round-trip time of each request, with - for one that \
         was not answered (\"host : 91.7 37.0 29.2 - 36.8\").",
    ),
    (
        "d",
        None,
        "Show targets by their reverse-DNS name, even when they were given by name.",
    ),
    (
        "D",
        None,
        "Print a Unix timestamp before each line of count and loop mode.",
    ),
    ("e", None, "Show the round-trip time of the first reply."),
    (
        "f",
        Some("file"),
        "Read the targets from file, one per line (- means standard input); lines \
         starting with # are skipped.",
    ),
    (
        "g",
        None,
        "Generate the targets from a CIDR block (network and broadcast addresses \
         left out) or from a start and an end address, IPv4 only.",
    ),
    ("h", None, "Show the usage text and exit."),
    ("H", Some("ttl"), "Set the IP time to live (hop limit)."),
    (
        "i",
        Some("msec"),
        "The minimum time between two pings to any target, in milliseconds (default 10).",
    ),
    (
        "I",
        Some("iface"),
        "Bind to the interface iface (SO_BINDTODEVICE).",
    ),
    (
        "k",
        Some("fwmark"),
        "Set the firewall mark of the packets (SO_MARK). The kernel grants it only \
         with CAP_NET_ADMIN, which the worker never holds: it reports the refusal and \
         pings without the mark.",
    ),
    (
        "l",
        None,
        "Loop mode: ping each target forever, until interrupted.",
    ),
    (
        "m",
        None,
        "Ping every address of each named target (its IPv4 and IPv6 addresses), not \
         only the first.",
    ),
    (
        "M",
        None,
        "Set the Don't Fragment flag (path MTU discovery).",
    ),
    (
        "n",
        None,
        "Show targets given by address by their reverse-DNS name.",
    ),
    (
        "N",
        None,
        "Print the -Q reports in netdata's format (with -l and -Q).",
    ),
    (
        "o",
        None,
        "Show the accumulated outage time: lost packets times the period (-p).",
    ),
    (
        "O",
        Some("tos"),
        "Set the type of service (IPv4) or traffic class (IPv6) of the packets.",
    ),
    (
        "p",
        Some("msec"),
        "In count and loop mode, the time between two pings to one target, in \
         milliseconds (default 1000).",
    ),
    ("q", None, "Quiet: no per-target or per-ping lines."),
    (
        "Q",
        Some("secs[,cumulative]"),
        "Like -q, but print the statistics of the last secs seconds every secs seconds; \
         with ,cumulative (fping 5.3), those since the start.",
    ),
    (
        "r",
        Some("retries"),
        "In the default mode, how many times to retry a target that does not answer \
         (default 3).",
    ),
    (
        "R",
        None,
        "Random packet data (to foil link data compression).",
    ),
    ("s", None, "Print cumulative statistics at the end."),
    ("S", Some("address"), "Send from this source address."),
    (
        "t",
        Some("msec"),
        "The initial time-out per target, in milliseconds (default 500; in count and \
         loop mode the period, -p, up to 2000).",
    ),
    ("T", Some("n"), "Ignored, for compatibility."),
    ("u", None, "Show targets that are unreachable."),
    (
        "v",
        None,
        "Show the version of fping this is compatible with, and exit.",
    ),
    (
        "x",
        Some("n"),
        "Say whether at least n targets are reachable; the exit status follows.",
    ),
    (
        "X",
        Some("n"),
        "Exit with status 0 as soon as n targets answered.",
    ),
    (
        "check-source",
        None,
        "Count only replies that come from the target's own address (fping 5.3).",
    ),
    (
        "icmp-timestamp",
        None,
        "Send ICMP timestamp requests (type 13) instead of echo requests, IPv4 \
         only, and print the originate, receive and transmit times of each reply \
         with the local receive time (fping 5.3). The kernel sends them on raw \
         sockets only: where the launcher handed over ICMP datagram sockets, the \
         sends fail as fping's do without its capability.",
    ),
    (
        "print-tos",
        None,
        "Print the TOS (IPv6: traffic class) of each reply (fping 5.3).",
    ),
    (
        "print-ttl",
        None,
        "Print the TTL (IPv6: hop limit) of each reply (fping 5.3).",
    ),
    (
        "seqmap-timeout",
        Some("msec"),
        "How long a sequence number stays tied to its ping before it may be used \
         again (default 10000 ms; fping 5.5).",
    ),
    (
        "timestamp-format",
        Some("ctime|iso|rfc3339"),
        "The form of -D's time stamps: ctime (%c), iso (%Y-%m-%dT%T%z) or rfc3339 \
         (%Y-%m-%d %H:%M:%S), in local time (fping 5.3).",
    ),
    (
        "targets",
        Some("target"),
        "The targets: host names, IPv4 or IPv6 addresses; with -g a CIDR block or a \
         start and an end address. Without targets or -f, they are read from standard \
         input.",
    ),
];

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
