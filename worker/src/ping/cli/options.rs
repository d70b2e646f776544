//! What the command line produces: [`Options`], iputils' defaults, and the
//! figures derived from them; the limits the parser checks against.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::ping::icmp::Family;

/// iputils' `MIN_USER_INTERVAL_MS`: the shortest interval a non-root user gets.
pub const MIN_USER_INTERVAL_MS: i64 = 2;
/// iputils' `MIN_MULTICAST_USER_INTERVAL_MS`.
pub const MIN_MULTICAST_USER_INTERVAL_MS: i64 = 1000;
/// iputils' `MAX_DUP_CHK`: the largest preload (and the duplicate window).
pub const MAX_DUP_CHK: i64 = 0x10000;
/// iputils' `MAXWAIT`: default `-W`, in microseconds.
pub const DEFAULT_LINGER_US: u64 = 10_000_000;

/// `-M`: path MTU discovery (`IP_PMTUDISC_*`; the IPv6 values are equal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pmtu {
    Dont = 0,
    Want = 1,
    Do = 2,
    Probe = 3,
}

/// `-T`: the IPv4 timestamp option's flag (`IPOPT_TS_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsType {
    TsOnly = 0,
    TsAndAddr = 1,
    Prespec = 3,
}

/// `-I`: an interface name, or a source address (IPv6 with an optional
/// `%interface`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Interface {
    pub device: Option<String>,
    pub source4: Option<Ipv4Addr>,
    pub source6: Option<Ipv6Addr>,
}

/// Everything the command line asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// `-4` / `-6`, or the program's name ending in 4 or 6.
    pub family: Option<Family>,
    /// `-c`: stop after this many replies (0: no limit).
    pub count: u64,
    /// `-i`, in milliseconds (truncated like iputils).
    pub interval_ms: i64,
    /// Whether `-i` was given (flood without it means interval 0).
    pub interval_set: bool,
    /// `-w`, seconds (0: none).
    pub deadline: u64,
    /// `-W`, microseconds (0: wait forever).
    pub linger_us: u64,
    /// `-s`.
    pub datalen: usize,
    /// `-t`.
    pub ttl: Option<i32>,
    pub quiet: bool,
    /// `-n` (and implied by `-f` and by `IPUTILS_PING_PTR_LOOKUP=0`).
    pub numeric: bool,
    /// `-H`: look names up even when `numeric` says not to.
    pub force_lookup: bool,
    /// `-D`.
    pub timestamps: bool,
    /// `-O`.
    pub outstanding: bool,
    /// `-f`.
    pub flood: bool,
    /// `-j`: JSON objects on stdout instead of text (see [`crate::ping::json`]).
    pub json: bool,
    pub verbose: bool,
    /// `-v` given twice: privsep's own report of the ident and the
    /// sandbox it locked itself into (a second `-v` adds nothing upstream).
    pub sandbox_report: bool,
    /// `-l`.
    pub preload: u32,
    /// `-p`, parsed (at most 16 bytes).
    pub pattern: Option<Vec<u8>>,
    /// `-3`.
    pub rtt_precision: bool,
    /// `-a`.
    pub audible: bool,
    /// `-A`.
    pub adaptive: bool,
    /// `-b`.
    pub broadcast: bool,
    /// `-B`, or implied by a source address in `-I`.
    pub strict_source: bool,
    /// `-C`.
    pub connect: bool,
    /// `-d`.
    pub so_debug: bool,
    /// `-e`: the echo identifier (host order).
    pub ident: Option<u16>,
    /// `-F`: the IPv6 flow label.
    pub flowlabel: Option<u32>,
    /// `-N`: the node information query.
    pub nodeinfo: Option<crate::ping::nodeinfo::Request>,
    /// `-I`.
    pub interface: Interface,
    /// `-L`.
    pub noloop: bool,
    /// `-m`.
    pub mark: Option<u32>,
    /// `-M`.
    pub pmtudisc: Option<Pmtu>,
    /// `-Q`: IPv4 TOS / IPv6 traffic class (0: not set, as upstream).
    pub tos: i32,
    /// `-r`.
    pub dontroute: bool,
    /// `-R`.
    pub rroute: bool,
    /// `-S`.
    pub sndbuf: Option<i32>,
    /// `-T`.
    pub timestamp: Option<TsType>,
    /// `-U`.
    pub latency: bool,
    /// The operands: source-route hops (IPv4), then the destination, last.
    pub destinations: Vec<String>,
    /// The destination (the last operand).
    pub destination: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            family: None,
            count: 0,
            interval_ms: 1000,
            interval_set: false,
            deadline: 0,
            linger_us: DEFAULT_LINGER_US,
            datalen: 56,
            ttl: None,
            quiet: false,
            numeric: false,
            force_lookup: false,
            timestamps: false,
            outstanding: false,
            flood: false,
            json: false,
            verbose: false,
            sandbox_report: false,
            preload: 1,
            pattern: None,
            rtt_precision: false,
            audible: false,
            adaptive: false,
            broadcast: false,
            strict_source: false,
            connect: false,
            so_debug: false,
            ident: None,
            flowlabel: None,
            nodeinfo: None,
            interface: Interface::default(),
            noloop: false,
            mark: None,
            pmtudisc: None,
            tos: 0,
            dontroute: false,
            rroute: false,
            sndbuf: None,
            timestamp: None,
            latency: false,
            destinations: Vec::new(),
            destination: String::new(),
        }
    }
}

impl Options {
    /// The interval the engine uses: flood without `-i` means "as fast as
    /// replies come back" (0), as in iputils' `setup()`.
    pub fn effective_interval_ms(&self) -> i64 {
        if self.flood && !self.interval_set {
            0
        } else {
            self.interval_ms
        }
    }

    /// Whether names are looked up for printing (`_pr_addr`'s test).
    pub fn lookups(&self) -> bool {
        self.force_lookup || !self.numeric
    }

    /// The IPv4 header option space in use (`get_ipv4_optlen`).
    pub fn ipv4_optlen(&self) -> usize {
        if self.rroute || self.timestamp.is_some() || self.destinations.len() > 1 {
            40
        } else {
            0
        }
    }
}
