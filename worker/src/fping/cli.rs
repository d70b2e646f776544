//! fping's command line, as fping 5.1 (Debian 12) reads it: its own
//! `optparse_long` (options anywhere, operands permuted to the end, `--`
//! ends the options, clusters, values attached or in the next argument,
//! `--name=value`), C's `sscanf`/`atoi`/`atof` number parsing with their
//! quirks, the checks `main()` makes after parsing, in its order, and the
//! mode flags derived from them. The options upstream added since, up to
//! its latest release (5.5), are accepted too, as 5.5 reads them (where
//! 5.1 rejects them as unknown): 5.2's `-X`/`--fast-reachable` and
//! `-k`/`--fwmark`; 5.3's `--check-source`, `--print-tos`, `--print-ttl`,
//! `--icmp-timestamp`, `--timestamp-format` and `-Q SECS,cumulative`;
//! 5.5's `--seqmap-timeout`, `-J`/`--json` (it needs `-c`, `-C` or `-l`;
//! under it the modes are decided in 5.5's order, since a caller of `-J` is
//! a caller of 5.5) and `-g` over IPv6 as 5.5 takes it (in `generate6`).
//!
//! Socket options that fping sets while it parses (`-I`, `-M`, `-O`, `-k`)
//! are handed to the caller in command-line order through
//! [`SocketAction`], so that a failure stops parsing where fping stops.

#![forbid(unsafe_code)]

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::ping::icmp::Family;
use crate::text::printable;
use crate::Said;

mod numbers;

pub use numbers::{
    atof, atoi, c_to_i64, scan_float, scan_int_any_base, scan_unsigned, strtod_strict, strtol, uint_strict, Scan,
};

/// `DEFAULT_INTERVAL`, `DEFAULT_PERHOST_INTERVAL`, `DEFAULT_TIMEOUT` (ms).
pub const DEFAULT_INTERVAL_MS: i64 = 10;
pub const DEFAULT_PERIOD_MS: i64 = 1000;
pub const DEFAULT_TIMEOUT_MS: i64 = 500;
/// `AUTOTUNE_TIMEOUT_MAX` (ms): the cap of the -c/-C/-l timeout default.
pub const AUTOTUNE_TIMEOUT_MAX_MS: i64 = 2000;
pub const DEFAULT_RETRY: u32 = 3;
pub const DEFAULT_BACKOFF: f32 = 1.5;
pub const DEFAULT_DATA_SIZE: u32 = 56;
/// `MAX_IP_PACKET - SIZE_IP_HDR - SIZE_ICMP_HDR`.
pub const MAX_PING_DATA: u32 = 65536 - 40 - 8;
/// The version Debian 12 ships (`-v`).
pub const VERSION: &str = "5.1";

const MS: i64 = 1_000_000;

/// A socket option fping sets while parsing, in command-line order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketAction {
    /// `-M`: `IP_MTU_DISCOVER` / `IPV6_MTU_DISCOVER` = DO.
    DontFragment,
    /// `-I`: `SO_BINDTODEVICE` (a failure ends fping with status 1).
    BindDevice(Vec<u8>),
    /// `-O`: `IP_TOS` / `IPV6_TCLASS`.
    Tos(i32),
    /// `-k` (5.2): `SO_MARK`.
    Fwmark(u32),
    /// `--print-tos` (5.3): `IP_RECVTOS` on a datagram IPv4 socket (a raw
    /// one has the header), `IPV6_RECVTCLASS`.
    RecvTos,
    /// `--print-ttl` (5.3): `IP_RECVTTL` on a datagram IPv4 socket,
    /// `IPV6_RECVHOPLIMIT`.
    RecvTtl,
}

/// `--timestamp-format` (5.3): how `-D` prints the time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimestampFormat {
    /// `[1596092373.18423]`, seconds since the epoch.
    #[default]
    Epoch,
    /// `ctime`: `%c`.
    Ctime,
    /// `iso`: `%Y-%m-%dT%T%z`.
    Iso,
    /// `rfc3339`: `%Y-%m-%d %H:%M:%S`.
    Rfc3339,
}

/// `ICMP_TIMESTAMP_DATA_SIZE`: an ICMP timestamp's three 32-bit times.
pub const ICMP_TIMESTAMP_DATA_SIZE: u32 = 12;
/// `DEFAULT_SEQMAP_TIMEOUT` (ms): how long a sequence number stays taken.
pub const DEFAULT_SEQMAP_TIMEOUT_MS: i64 = 10_000;

/// Everything the command line decides.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// `-4`/`-6` (or invoked as `fping6`): getaddrinfo's family.
    pub family: Option<Family>,
    pub retry: u32,
    pub timeout_ns: i64,
    pub interval_ns: i64,
    pub period_ns: i64,
    pub backoff: f32,
    pub data_size: u32,
    pub count: u32,
    pub min_reachable: u32,
    pub report_interval_ns: i64,
    pub ttl: u32,
    pub src4: Option<Ipv4Addr>,
    pub src6: Option<Ipv6Addr>,
    pub verbose: bool,
    pub quiet: bool,
    pub stats: bool,
    pub unreachable: bool,
    pub alive: bool,
    pub elapsed: bool,
    pub count_mode: bool,
    pub loop_mode: bool,
    pub netdata: bool,
    pub per_recv: bool,
    pub report_all_rtts: bool,
    pub name: bool,
    pub addr: bool,
    pub backoff_enabled: bool,
    pub rdns: bool,
    pub multif: bool,
    pub outage: bool,
    pub timestamp: bool,
    pub random_data: bool,
    pub fast_reachable: bool,
    pub generate: bool,
    /// `--check-source`: replies from another address than the target's
    /// are dropped.
    pub check_source: bool,
    /// `--print-tos`, `--print-ttl`: the reply's TOS (traffic class) and
    /// TTL (hop limit) after each reply line.
    pub print_tos: bool,
    pub print_ttl: bool,
    /// `-J` (5.5): JSON objects on stdout instead of the lines
    /// (`crate::fping::json`).
    pub json: bool,
    pub timestamp_format: TimestampFormat,
    /// `-Q SECS,cumulative`: the reports count from the start.
    pub cumulative: bool,
    /// `--seqmap-timeout`.
    pub seqmap_timeout_ns: i64,
    /// `--icmp-timestamp`: ICMP timestamp requests instead of echoes.
    pub icmp_timestamp: bool,
    /// `-b` was given (`--icmp-timestamp` refuses it).
    pub size_set: bool,
    pub filename: Option<String>,
    /// The operands, in order.
    pub targets: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            family: None,
            retry: DEFAULT_RETRY,
            timeout_ns: DEFAULT_TIMEOUT_MS * MS,
            interval_ns: DEFAULT_INTERVAL_MS * MS,
            period_ns: DEFAULT_PERIOD_MS * MS,
            backoff: DEFAULT_BACKOFF,
            data_size: DEFAULT_DATA_SIZE,
            count: 1,
            min_reachable: 0,
            report_interval_ns: 0,
            ttl: 0,
            src4: None,
            src6: None,
            verbose: true,
            quiet: false,
            stats: false,
            unreachable: false,
            alive: false,
            elapsed: false,
            count_mode: false,
            loop_mode: false,
            netdata: false,
            per_recv: false,
            report_all_rtts: false,
            name: false,
            addr: false,
            backoff_enabled: true,
            rdns: false,
            multif: false,
            outage: false,
            timestamp: false,
            random_data: false,
            fast_reachable: false,
            generate: false,
            check_source: false,
            print_tos: false,
            print_ttl: false,
            json: false,
            timestamp_format: TimestampFormat::Epoch,
            cumulative: false,
            seqmap_timeout_ns: DEFAULT_SEQMAP_TIMEOUT_MS * MS,
            icmp_timestamp: false,
            size_set: false,
            filename: None,
            targets: Vec::new(),
        }
    }
}

impl Options {
    /// `trials`: the slots of the per-target results.
    pub fn trials(&self) -> u32 {
        self.count.max(self.retry.saturating_add(1))
    }
}

/// fping's `usage(is_error)`: the text (on stdout for `-h`, on stderr for a
/// bad value) with the values in force when it was reached, then exit.
pub fn usage(prog: &str, o: &Options, is_error: bool) -> Said {
    let ms = |ns: i64| format!("{:.0}", ns as f64 / 1e6);
    let text = format!(
        "Usage: {prog} [options] [targets...]

Probing options:
   -4, --ipv4         only ping IPv4 addresses
   -6, --ipv6         only ping IPv6 addresses
   -b, --size=BYTES   amount of ping data to send, in bytes (default: {DEFAULT_DATA_SIZE})
   -B, --backoff=N    set exponential backoff factor to N (default: 1.5)
   -c, --count=N      count mode: send N pings to each target
   -f, --file=FILE    read list of targets from a file ( - means stdin)
   -g, --generate     generate target list (only if no -f specified)
                      (give start and end IP in the target list, or a CIDR address)
                      (ex. {prog} -g 192.168.1.0 192.168.1.255 or {prog} -g 192.168.1.0/24)
   -H, --ttl=N        set the IP TTL value (Time To Live hops)
   -I, --iface=IFACE  bind to a particular interface
   -l, --loop         loop mode: send pings forever
   -m, --all          use all IPs of provided hostnames (e.g. IPv4 and IPv6), use with -A
   -M, --dontfrag     set the Don't Fragment flag
   -O, --tos=N        set the type of service (tos) flag on the ICMP packets
   -p, --period=MSEC  interval between ping packets to one target (in ms)
                      (in loop and count modes, default: {period} ms)
   -r, --retry=N      number of retries (default: {DEFAULT_RETRY})
   -R, --random       random packet data (to foil link data compression)
   -S, --src=IP       set source address
   -t, --timeout=MSEC individual target initial timeout (default: {timeout} ms,
                      except with -l/-c/-C, where it's the -p period up to 2000 ms)

Output options:
   -a, --alive        show targets that are alive
   -A, --addr         show targets by address
   -C, --vcount=N     same as -c, report results in verbose format
   -d, --rdns         show targets by name (force reverse-DNS lookup)
   -D, --timestamp    print timestamp before each output line
   -e, --elapsed      show elapsed time on return packets
   -i, --interval=MSEC  interval between sending ping packets (default: {interval} ms)
   -n, --name         show targets by name (reverse-DNS lookup for target IPs)
   -N, --netdata      output compatible for netdata (-l -Q are required)
   -o, --outage       show the accumulated outage time (lost packets * packet interval)
   -q, --quiet        quiet (don't show per-target/per-ping results)
   -Q, --squiet=SECS  same as -q, but add interval summary every SECS seconds
   -s, --stats        print final stats
   -u, --unreach      show targets that are unreachable
   -v, --version      show version
   -x, --reachable=N  shows if >=N hosts are reachable or not
",
        period = ms(o.period_ns),
        timeout = ms(o.timeout_ns),
        interval = ms(o.interval_ns),
    );
    if is_error {
        Said {
            stdout: String::new(),
            stderr: text,
            status: 1,
        }
    } else {
        Said {
            stdout: text,
            stderr: String::new(),
            status: 0,
        }
    }
}

/// Whether a long option takes a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arg {
    None,
    Required,
}

/// fping 5.1's `longopts`, with the options 5.2 to 5.5 added: (long name,
/// short letter, takes a value), for the documentation
/// ([`crate::fping::command`]). A long-only option's letter is a code of
/// its own from [`LONG_ONLY`] up, never matched as a short option.
pub const LONGOPTS: &[(Option<&str>, u8, bool)] = &[
    (Some("ipv4"), b'4', false),
    (Some("ipv6"), b'6', false),
    (Some("alive"), b'a', false),
    (Some("addr"), b'A', false),
    (Some("size"), b'b', true),
    (Some("backoff"), b'B', true),
    (Some("count"), b'c', true),
    (Some("vcount"), b'C', true),
    (Some("rdns"), b'd', false),
    (Some("timestamp"), b'D', false),
    (Some("elapsed"), b'e', false),
    (Some("file"), b'f', true),
    (Some("generate"), b'g', false),
    (Some("help"), b'h', false),
    (Some("ttl"), b'H', true),
    (Some("interval"), b'i', true),
    (Some("iface"), b'I', true),
    (Some("json"), b'J', false),
    (Some("fwmark"), b'k', true),
    (Some("loop"), b'l', false),
    (Some("all"), b'm', false),
    (Some("dontfrag"), b'M', false),
    (Some("name"), b'n', false),
    (Some("netdata"), b'N', false),
    (Some("outage"), b'o', false),
    (Some("tos"), b'O', true),
    (Some("period"), b'p', true),
    (Some("quiet"), b'q', false),
    (Some("squiet"), b'Q', true),
    (Some("retry"), b'r', true),
    (Some("random"), b'R', false),
    (Some("stats"), b's', false),
    (Some("src"), b'S', true),
    (Some("timeout"), b't', true),
    (None, b'T', true),
    (Some("unreach"), b'u', false),
    (Some("version"), b'v', false),
    (Some("reachable"), b'x', true),
    (Some("fast-reachable"), b'X', true),
    (Some("check-source"), CHECK_SOURCE, false),
    (Some("icmp-timestamp"), ICMP_TIMESTAMP, false),
    (Some("print-tos"), PRINT_TOS, false),
    (Some("print-ttl"), PRINT_TTL, false),
    (Some("seqmap-timeout"), SEQMAP_TIMEOUT, true),
    (Some("timestamp-format"), TIMESTAMP_FORMAT, true),
];

/// The first code of the long-only options (optparse's 0 and the long
/// name, here one code each).
pub const LONG_ONLY: u8 = 0x80;
const CHECK_SOURCE: u8 = LONG_ONLY;
const ICMP_TIMESTAMP: u8 = LONG_ONLY + 1;
const PRINT_TOS: u8 = LONG_ONLY + 2;
const PRINT_TTL: u8 = LONG_ONLY + 3;
const SEQMAP_TIMEOUT: u8 = LONG_ONLY + 4;
const TIMESTAMP_FORMAT: u8 = LONG_ONLY + 5;

/// optparse's `errmsg`: `message -- 'data'` in a 64-byte buffer.
fn opterror(message: &str, data: &[u8]) -> String {
    let mut out: Vec<u8> = message.as_bytes().to_vec();
    out.extend_from_slice(b" -- '");
    for &b in data {
        if out.len() >= 64 - 2 {
            break;
        }
        out.push(b);
    }
    out.push(b'\'');
    String::from_utf8_lossy(&out).into_owned()
}

/// One item optparse_long delivers.
enum Item {
    Opt(u8, Option<String>),
    Error(String),
}

/// optparse_long over `args` (after argv\[0\]): the options in order, the
/// operands (permuted after them), stopping at the first error (fping
/// exits on it).
fn scan(args: &[String]) -> (Vec<Item>, Vec<String>) {
    let (mut items, mut operands) = (Vec::new(), Vec::new());
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_bytes();
        i += 1;
        if a == b"--" {
            operands.extend(args[i..].iter().cloned());
            break;
        }
        if a.len() >= 3 && a.starts_with(b"--") {
            let body = &a[2..];
            let (name, value) = match body.iter().position(|&b| b == b'=') {
                Some(p) => (&body[..p], Some(&body[p + 1..])),
                None => (body, None),
            };
            let Some(&(Some(long), short, arg)) = LONGOPTS
                .iter()
                .find(|(l, _, _)| l.is_some_and(|l| l.as_bytes() == name))
            else {
                items.push(Item::Error(opterror("invalid option", body)));
                return (items, operands);
            };
            let arg = if arg { Arg::Required } else { Arg::None };
            match (arg, value) {
                (Arg::None, Some(_)) => {
                    items.push(Item::Error(opterror(
                        "option takes no arguments",
                        long.as_bytes(),
                    )));
                    return (items, operands);
                }
                (_, Some(v)) => items.push(Item::Opt(
                    short,
                    Some(String::from_utf8_lossy(v).into_owned()),
                )),
                (Arg::Required, None) => match args.get(i) {
                    Some(v) => {
                        items.push(Item::Opt(short, Some(v.clone())));
                        i += 1;
                    }
                    None => {
                        items.push(Item::Error(opterror(
                            "option requires an argument",
                            long.as_bytes(),
                        )));
                        return (items, operands);
                    }
                },
                (Arg::None, None) => items.push(Item::Opt(short, None)),
            }
            continue;
        }
        if a.len() >= 2 && a[0] == b'-' && a[1] != b'-' {
            let mut j = 1;
            while j < a.len() {
                let c = a[j];
                let known = LONGOPTS
                    .iter()
                    .find(|(_, s, _)| *s == c && c != b':' && c < LONG_ONLY)
                    .map(|&(l, s, v)| (l, s, if v { Arg::Required } else { Arg::None }));
                match known {
                    None => {
                        items.push(Item::Error(opterror("invalid option", &[c])));
                        return (items, operands);
                    }
                    Some((_, _, Arg::None)) => {
                        items.push(Item::Opt(c, None));
                        j += 1;
                    }
                    Some((_, _, Arg::Required)) => {
                        if j + 1 < a.len() {
                            let v = String::from_utf8_lossy(&a[j + 1..]).into_owned();
                            items.push(Item::Opt(c, Some(v)));
                        } else if let Some(v) = args.get(i) {
                            items.push(Item::Opt(c, Some(v.clone())));
                            i += 1;
                        } else {
                            items.push(Item::Error(opterror("option requires an argument", &[c])));
                            return (items, operands);
                        }
                        break;
                    }
                }
            }
            continue;
        }
        // "-", or anything not starting with "-": an operand.
        operands.push(args[i - 1].clone());
    }
    (items, operands)
}

/// Parses the command line (after argv\[0\]) as fping 5.1's `main` does up
/// to its first use of the targets. `invoked_as_fping6`: argv\[0\] contains
/// `fping6`. `have4`/`have6`: which sockets the launcher handed over.
/// `apply` sets each [`SocketAction`] as it is parsed and may end the run.
pub fn parse(
    prog: &str,
    args: &[String],
    invoked_as_fping6: bool,
    have4: bool,
    have6: bool,
    apply: &mut dyn FnMut(&SocketAction) -> Result<(), Said>,
) -> Result<Options, Said> {
    let mut o = Options::default();
    let p = printable(prog).into_owned();
    // fping pre-parses a lone -h/--help before opening its sockets.
    if args.len() == 1 && (args[0] == "-h" || args[0] == "--help") {
        return Err(usage(&p, &o, false));
    }
    if invoked_as_fping6 {
        o.family = Some(Family::V6);
    }
    let (items, operands) = scan(args);
    let mut timeout_set = false;
    // fping's `opt_value_float`: an empty value leaves the last one.
    let mut last_float: f32 = 0.0;
    let mut float_value = |v: &str, o: &Options| -> Result<f32, Said> {
        match scan_float(v) {
            Scan::NoMatch => Err(usage(&p, o, true)),
            Scan::Eof => Ok(last_float),
            Scan::Value(f) => {
                last_float = f;
                if f < 0.0 {
                    Err(usage(&p, o, true))
                } else {
                    Ok(f)
                }
            }
        }
    };
    // fping: `timeout = opt_value_float * 1000000`, a float product.
    let ms_of = |f: f32| c_to_i64(f64::from(f * 1_000_000f32));
    for item in items {
        let (c, value) = match item {
            Item::Opt(c, v) => (c, v.unwrap_or_default()),
            Item::Error(msg) => {
                return Err(Said {
                    stdout: String::new(),
                    stderr: format!(
                        "{p}: {}\nsee 'fping -h' for usage information\n",
                        printable(&msg)
                    ),
                    status: 1,
                })
            }
        };
        let v = value.as_str();
        match c {
            b'4' | b'6' => {
                let f = if c == b'4' { Family::V4 } else { Family::V6 };
                if o.family.is_some_and(|have| have != f) {
                    return Err(Said::say(&p, "can't specify both -4 and -6", 1));
                }
                o.family = Some(f);
            }
            b'M' => apply(&SocketAction::DontFragment)?,
            b't' => {
                o.timeout_ns = ms_of(float_value(v, &o)?);
                timeout_set = true;
            }
            b'r' => match scan_unsigned(v) {
                Scan::NoMatch => return Err(usage(&p, &o, true)),
                Scan::Eof => {}
                Scan::Value(n) => o.retry = n,
            },
            b'i' => o.interval_ns = ms_of(float_value(v, &o)?),
            b'p' => o.period_ns = ms_of(float_value(v, &o)?),
            b'c' | b'C' => {
                o.count = atoi(v) as u32;
                if o.count == 0 {
                    return Err(usage(&p, &o, true));
                }
                o.count_mode = true;
                if c == b'C' {
                    o.report_all_rtts = true;
                }
            }
            b'b' => {
                match scan_unsigned(v) {
                    Scan::NoMatch => return Err(usage(&p, &o, true)),
                    Scan::Eof => {}
                    Scan::Value(n) => o.data_size = n,
                }
                o.size_set = true;
            }
            b'h' => return Err(usage(&p, &o, false)),
            b'q' => {
                o.verbose = false;
                o.quiet = true;
            }
            b'Q' => {
                o.verbose = false;
                o.quiet = true;
                let f = float_value(v, &o)?;
                o.report_interval_ns = c_to_i64(f64::from(f) * 1e9);
                // 5.3: `SECS,cumulative` (any other word is ignored).
                if v.split_once(',').is_some_and(|(_, w)| w == "cumulative") {
                    o.cumulative = true;
                }
            }
            b'e' => o.elapsed = true,
            b'm' => o.multif = true,
            b'N' => o.netdata = true,
            b'n' | b'd' => {
                if (c == b'n' && o.rdns) || (c == b'd' && o.name) {
                    return Err(Said::say(&p, "use either one of -d or -n", 1));
                }
                if c == b'n' {
                    o.name = true;
                } else {
                    o.rdns = true;
                }
            }
            b'A' => o.addr = true,
            b'B' => {
                o.backoff = atof(v) as f32;
                if o.backoff == 0.0 {
                    return Err(usage(&p, &o, true));
                }
            }
            b's' => o.stats = true,
            b'D' => o.timestamp = true,
            b'R' => o.random_data = true,
            b'l' => {
                o.loop_mode = true;
                o.backoff_enabled = false;
            }
            b'u' => o.unreachable = true,
            b'a' => o.alive = true,
            b'H' => {
                o.ttl = atoi(v) as u32;
                if o.ttl == 0 {
                    return Err(usage(&p, &o, true));
                }
            }
            b'v' => {
                return Err(Said {
                    stdout: format!("{p}: Version {VERSION}\n"),
                    stderr: String::new(),
                    status: 0,
                })
            }
            b'x' => {
                o.min_reachable = atoi(v) as u32;
                if o.min_reachable == 0 {
                    return Err(usage(&p, &o, true));
                }
            }
            // 5.2's -X, which 5.1 lacks: as 5.5 reads it.
            b'X' => {
                let Some(n) = uint_strict(v) else {
                    return Err(usage(&p, &o, true));
                };
                o.min_reachable = n;
                o.fast_reachable = true;
            }
            b'k' => {
                let Some(mark) = uint_strict(v) else {
                    return Err(usage(&p, &o, true));
                };
                apply(&SocketAction::Fwmark(mark))?;
            }
            b'f' => o.filename = Some(value.clone()),
            b'g' => o.generate = true,
            b'S' => {
                if let Ok(a) = v.parse::<Ipv4Addr>() {
                    o.src4 = Some(a);
                } else if let Ok(a) = v.parse::<Ipv6Addr>() {
                    o.src6 = Some(a);
                } else {
                    return Err(Said::say(
                        &p,
                        &format!("can't parse source address: {}", printable(v)),
                        1,
                    ));
                }
            }
            b'I' => apply(&SocketAction::BindDevice(value.clone().into_bytes()))?,
            // "select timeout": ignored for compatibility.
            b'T' => {}
            b'J' => o.json = true,
            b'O' => match scan_int_any_base(v) {
                Scan::NoMatch => return Err(usage(&p, &o, true)),
                Scan::Eof => apply(&SocketAction::Tos(0))?,
                Scan::Value(t) => apply(&SocketAction::Tos(t))?,
            },
            b'o' => o.outage = true,
            CHECK_SOURCE => o.check_source = true,
            ICMP_TIMESTAMP => {
                if o.family.is_some_and(|f| f != Family::V4) {
                    return Err(Said::say(&p, "ICMP Timestamp is IPv4 only", 1));
                }
                o.family = Some(Family::V4);
                o.icmp_timestamp = true;
                o.data_size = ICMP_TIMESTAMP_DATA_SIZE;
            }
            PRINT_TOS => {
                o.print_tos = true;
                apply(&SocketAction::RecvTos)?;
            }
            PRINT_TTL => {
                o.print_ttl = true;
                apply(&SocketAction::RecvTtl)?;
            }
            SEQMAP_TIMEOUT => match strtod_strict(v) {
                Some(ms) => o.seqmap_timeout_ns = (ms * 1e6) as i64,
                None => return Err(usage(&p, &o, true)),
            },
            TIMESTAMP_FORMAT => {
                o.timestamp_format = match v {
                    "ctime" => TimestampFormat::Ctime,
                    "iso" => TimestampFormat::Iso,
                    "rfc3339" => TimestampFormat::Rfc3339,
                    _ => return Err(usage(&p, &o, true)),
                }
            }
            _ => {}
        }
    }
    o.targets = operands;

    // The checks after parsing, in fping's order.
    if !have6 && (!have4 || o.family == Some(Family::V6)) {
        // crash_and_burn: 5.1 says why only when verbose.
        let stderr = if o.verbose {
            format!("{p}: can't create socket (must run as root?)\n")
        } else {
            String::new()
        };
        return Err(Said {
            stdout: String::new(),
            stderr,
            status: 4,
        });
    }
    if o.ttl > 255 {
        return Err(Said::say(&p, &format!("ttl {} out of range", o.ttl), 1));
    }
    if o.unreachable && o.alive {
        return Err(Said::say(&p, "specify only one of a, u", 1));
    }
    if o.count_mode && o.loop_mode {
        return Err(Said::say(&p, "specify only one of c, l", 1));
    }
    if o.json && !o.count_mode && !o.loop_mode {
        return Err(Said::say(
            &p,
            "option -J, --json requires -c, -C, or -l",
            1,
        ));
    }
    if o.data_size > MAX_PING_DATA {
        return Err(Said::say(
            &p,
            &format!(
                "data size {} not valid, must be lower than {MAX_PING_DATA}",
                o.data_size
            ),
            1,
        ));
    }
    // fping's two comparisons, which NaN passes.
    if o.backoff > 5.0 || o.backoff < 1.0 {
        return Err(Said::say(
            &p,
            &format!(
                "backoff factor {:.1} not valid, must be between 1.0 and 5.0",
                o.backoff
            ),
            1,
        ));
    }
    if o.icmp_timestamp && o.size_set {
        return Err(Said::say(&p, "cannot change ICMP Timestamp size", 1));
    }
    // 5.1's order: -a/-u/-x silence the "is alive" lines before count and
    // loop mode decide on the per-reply lines. 5.5 silences them after, so
    // that count mode prints its replies with -a, -u or -x: under -J, which
    // only 5.5 has, its order (count or loop mode silences them anyway).
    if !o.json && (o.alive || o.unreachable || o.min_reachable != 0) {
        o.verbose = false;
    }
    if o.count_mode {
        if o.verbose {
            o.per_recv = true;
        }
        o.alive = false;
        o.unreachable = false;
        o.verbose = false;
    }
    if o.loop_mode {
        if o.report_interval_ns == 0 {
            o.per_recv = true;
        }
        o.alive = false;
        o.unreachable = false;
        o.verbose = false;
    }
    if (o.loop_mode || o.count_mode) && !timeout_set {
        o.timeout_ns = o.period_ns.min(AUTOTUNE_TIMEOUT_MAX_MS * MS);
    }
    Ok(o)
}

#[cfg(test)]
mod tests;
