//! A stand-in for the worker's clap definition, used only until the worker
//! crate exposes `worker::cli::command()`. It mirrors the iputils `ping`
//! options the worker implements so that the generated man page and
//! completions have the right shape in the meantime.

#![forbid(unsafe_code)]

use clap::{value_parser, Arg, ArgAction, Command};

/// The placeholder command line.
pub fn command() -> Command {
    let flag = |id: &'static str, short: char, help: &'static str| {
        Arg::new(id)
            .short(short)
            .action(ArgAction::SetTrue)
            .help(help)
    };
    let opt = |id: &'static str, short: char, value: &'static str, help: &'static str| {
        Arg::new(id).short(short).value_name(value).help(help)
    };
    Command::new("privsep-ping")
        .about("send ICMP ECHO_REQUEST to network hosts, with privilege separation")
        .version(env!("CARGO_PKG_VERSION"))
        .arg(flag("ipv4", '4', "Use IPv4 only"))
        .arg(flag("ipv6", '6', "Use IPv6 only"))
        .arg(
            opt(
                "count",
                'c',
                "count",
                "Stop after sending count ECHO_REQUEST packets",
            )
            .value_parser(value_parser!(u64)),
        )
        .arg(flag("timestamps", 'D', "Print timestamp before each line"))
        .arg(opt(
            "interval",
            'i',
            "interval",
            "Wait interval seconds between sending each packet",
        ))
        .arg(flag("json", 'j', "Print one JSON object per line"))
        .arg(flag(
            "numeric",
            'n',
            "Numeric output only: no reverse name lookup",
        ))
        .arg(flag(
            "outstanding",
            'O',
            "Report outstanding replies before sending the next packet",
        ))
        .arg(flag("quiet", 'q', "Quiet output: only the summary lines"))
        .arg(
            opt(
                "packetsize",
                's',
                "packetsize",
                "Number of data bytes to send",
            )
            .value_parser(value_parser!(u16)),
        )
        .arg(opt("ttl", 't', "ttl", "Set the IP time to live").value_parser(value_parser!(u8)))
        .arg(flag("verbose", 'v', "Verbose output"))
        .arg(opt(
            "deadline",
            'w',
            "deadline",
            "Stop after deadline seconds",
        ))
        .arg(opt(
            "timeout",
            'W',
            "timeout",
            "Time to wait for a response, in seconds",
        ))
        .arg(
            Arg::new("destination")
                .required(true)
                .value_name("destination")
                .help("Host name or address to ping"),
        )
}
