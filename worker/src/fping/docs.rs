//! What fping's man page and completions say of its command line
//! (`xtask docs`): the worker's clap definition, and its options in the
//! words of fping(8). The worker parses without these texts.

#![forbid(unsafe_code)]

use crate::docs::{Manual, Options};

/// The tool's entry for `xtask docs` ([`crate::docs::of`]).
pub const MANUAL: Manual = Manual {
    command: super::command::command,
    options: OPTIONS,
};

/// fping's options, in the words of fping(8) (5.1, with the options of 5.2
/// to 5.5).
const OPTIONS: Options = &[
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
        "Generate the targets from a CIDR block or from a start and an end address. \
         IPv4 as fping 5.1 does it (network and broadcast addresses left out below /31); \
         IPv6 as fping 5.5 does it (prefix length 65 to 128, every address, a scope \
         kept; at most 131072 addresses).",
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
        "J",
        None,
        "JSON output (fping 5.5; needs -c, -C or -l): on standard output, one object \
         per line in place of the lines of count and loop mode: {\"resp\": {...}} for a \
         reply, {\"timeout\": {...}}, {\"summary\": {...}} per target at the end \
         ({\"vSum\": {...}} with -C), {\"intSum\": {...}} for -Q and SIGQUIT, \
         {\"stats\": {...}} for -s, {\"warning\": {...}} for a name that does not \
         resolve. Warnings stay on standard error. Modes are decided as fping 5.5 \
         decides them (with -a, -u or -x count mode keeps its replies). Names are \
         escaped inside the strings.",
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
