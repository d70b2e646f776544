//! The same options as a clap definition, for the man page and the
//! completions only (the worker parses with [`super::parse`]).

use clap::{Arg, ArgAction, Command};

/// (option, takes a value, help) for the man page and the completions.
const HELP: &[(char, bool, &str)] = &[
    (
        '3',
        false,
        "RTT precision: do not round up the result time.",
    ),
    ('4', false, "Use IPv4 only."),
    ('6', false, "Use IPv6 only."),
    ('a', false, "Audible ping: a bell with every reply."),
    (
        'A',
        false,
        "Adaptive ping: the interval adapts to the round-trip time.",
    ),
    ('b', false, "Allow pinging a broadcast address."),
    (
        'B',
        false,
        "Do not let the kernel change the source address (sticky source).",
    ),
    (
        'c',
        true,
        "Stop after count replies (with -w: until the deadline).",
    ),
    ('C', false, "Call connect() on the socket."),
    (
        'd',
        false,
        "Set SO_DEBUG on the socket (needs CAP_NET_ADMIN, which the worker never holds).",
    ),
    ('D', false, "Print the timestamp before each line."),
    (
        'e',
        true,
        "The ICMP identifier of the session (default random).",
    ),
    ('f', false, "Flood ping."),
    (
        'F',
        true,
        "IPv6: the flow label (hexadecimal with 0x, or decimal).",
    ),
    ('h', false, "Show the usage text and exit."),
    ('H', false, "Force reverse name resolution, overriding -n."),
    ('i', true, "Seconds between sending each packet."),
    (
        'I',
        true,
        "Interface name, or source address (IPv6: address%interface).",
    ),
    ('j', false, "JSON output, one object per line."),
    (
        'l',
        true,
        "Send preload packets without waiting for replies.",
    ),
    ('L', false, "Suppress loopback of multicast packets."),
    (
        'm',
        true,
        "Mark the outgoing packets (SO_MARK, needs CAP_NET_ADMIN).",
    ),
    ('M', true, "Path MTU discovery: do, dont, want or probe."),
    ('n', false, "Numeric output only, overriding -H."),
    ('N', true, "IPv6 node information query."),
    (
        'O',
        false,
        "Report outstanding replies before sending the next packet.",
    ),
    ('p', true, "Up to 16 pad bytes in hexadecimal."),
    ('q', false, "Quiet output."),
    (
        'Q',
        true,
        "Quality of service bits (TOS / traffic class), decimal or 0x hex.",
    ),
    ('r', false, "Bypass the routing tables (SO_DONTROUTE)."),
    ('R', false, "IPv4: record route."),
    ('s', true, "Number of data bytes to send."),
    ('S', true, "SO_SNDBUF value."),
    ('t', true, "IP time to live (IPv6: hop limit)."),
    (
        'T',
        true,
        "IPv4 timestamp option: tsonly, tsandaddr or tsprespec.",
    ),
    ('U', false, "Print user-to-user latency."),
    ('v', false, "Verbose output."),
    ('V', false, "Show the version and exit."),
    ('w', true, "Deadline in seconds."),
    ('W', true, "Seconds to wait for a response (0: forever)."),
];

/// The clap definition of the same options, for the man page and the
/// completions (the worker parses with [`parse`](super::parse)).
pub fn command() -> Command {
    let mut cmd = Command::new("ping")
        .no_binary_name(true)
        .disable_help_flag(true)
        .disable_version_flag(true);
    for &(c, valued, help) in HELP {
        let id: &'static str = Box::leak(c.to_string().into_boxed_str());
        let arg = Arg::new(id).short(c).help(help);
        cmd = cmd.arg(if valued {
            arg.num_args(1).action(ArgAction::Set)
        } else {
            arg.action(ArgAction::SetTrue)
        });
    }
    cmd.arg(
        Arg::new("destination")
            .num_args(0..)
            .action(ArgAction::Append)
            .help("The host to ping; before it, IPv4 source-route hops."),
    )
}
