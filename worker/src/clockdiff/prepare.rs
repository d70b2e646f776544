//! Everything clockdiff does before lock-down, in iputils' order: check
//! the priority the launcher set, decide whether the run is interactive,
//! resolve the destination (IPv4 only, with its canonical name), connect
//! the raw socket to it (so the kernel delivers that host's datagrams
//! only) and filter its ICMP types to the two replies the measurement
//! reads, set the IP timestamp option for `-o`/`-o1` (falling back to ICMP
//! timestamps with iputils' warning when the kernel refuses it), and, for
//! an interactive run (its line prints a local time), load the time zone.
//! The only phase that reads files or does DNS; after it, the measurement
//! needs nothing but the socket and the clock.

#![forbid(unsafe_code)]

use std::io::{self, IsTerminal};
use std::net::{Ipv4Addr, SocketAddr};
use std::os::fd::RawFd;

use super::cli::{Method, Options, OPT_LEN_FOUR};
use super::packet::{ICMP_ECHOREPLY, ICMP_TIMESTAMPREPLY, IPOPT_TIMESTAMP, IPOPT_TS_PRESPEC};
use crate::{sys, text, WorkerError};

/// What the measurement starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    pub peer: Ipv4Addr,
    /// The canonical name iputils prints (`host=…`, `… is down`).
    pub hisname: String,
    /// The method after a possible fallback.
    pub method: Method,
    pub interactive: bool,
    pub id: u16,
}

/// The priority check: iputils stops with `nice: <error>` (status 1) when
/// `nice(-16)` fails; the worker stops the same way when it did not get the
/// priority the launcher is there to set.
pub fn check_priority(got: io::Result<i32>, want: i32) -> Result<(), WorkerError> {
    match got {
        Ok(p) if p == want => Ok(()),
        Ok(p) => Err(WorkerError::Fatal(format!(
            "nice: priority is {p}, not {want}: start privsep-clockdiff, whose launcher sets it"
        ))),
        Err(e) => Err(WorkerError::os("nice", e)),
    }
}

/// The IP timestamp option iputils sets: type, length, pointer 5, flag
/// "prespecified", then the addresses me, him, (him,) me with their
/// timestamp slots zero.
pub fn ip_option(method: Method, me: Ipv4Addr, him: Ipv4Addr) -> Vec<u8> {
    let len = method.opt_len();
    let mut o = vec![0u8; len];
    if len == 0 {
        return o;
    }
    o[0] = IPOPT_TIMESTAMP;
    o[1] = len as u8;
    o[2] = 5;
    o[3] = IPOPT_TS_PRESPEC;
    let addrs: &[Ipv4Addr] = if len == OPT_LEN_FOUR {
        &[me, him, him, me]
    } else {
        &[me, him, me]
    };
    for (i, a) in addrs.iter().enumerate() {
        o[4 + i * 8..8 + i * 8].copy_from_slice(&a.octets());
    }
    o
}

/// `ICMP_FILTER` (linux/icmp.h), an option of level `SOL_RAW`.
const ICMP_FILTER: libc::c_int = 1;

/// The `ICMP_FILTER` mask (a bit set drops that type): everything but the
/// two types the measurement can take, timestamp replies and (for
/// `-o`/`-o1`) echo replies. Over loopback it keeps the kernel from
/// queueing the request's own copy before each reply.
pub fn icmp_filter() -> u32 {
    !((1u32 << ICMP_ECHOREPLY) | (1u32 << ICMP_TIMESTAMPREPLY))
}

/// iputils' reaction to `setsockopt(IP_OPTIONS)`: on failure a warning
/// and ICMP timestamps instead.
pub fn after_ip_options(method: Method, result: io::Result<()>) -> (Method, Option<String>) {
    match result {
        Ok(()) => (method, None),
        Err(e) => (
            Method::IcmpTimestamp,
            Some(format!(
                "IP_OPTIONS (fallback to icmp tstamps): {}",
                text::os_error_text(&e)
            )),
        ),
    }
}

/// Runs the preparation on the handed-over raw socket `fd`. Warnings go
/// to `warn`; an error is iputils' line (its exit 1).
pub fn prepare(
    o: &Options,
    fd: RawFd,
    want_priority: i32,
    warn: &mut dyn FnMut(&str),
) -> Result<Prepared, WorkerError> {
    check_priority(sys::own_priority(), want_priority)?;
    let interactive = io::stdin().is_terminal() && io::stdout().is_terminal();
    // iputils uses its pid; on the wire in host byte order.
    let id = std::process::id() as u16;

    let unresolved = |rc| {
        WorkerError::Resolve(format!(
            "{}: {}",
            text::printable(&o.destination),
            sys::gai_strerror(rc)
        ))
    };
    let found = sys::getaddrinfo_hints(&o.destination, libc::AF_INET, libc::SOCK_RAW, 0)
        .map_err(unresolved)?;
    let first = found.first().ok_or_else(|| unresolved(libc::EAI_NONAME))?;
    let SocketAddr::V4(addr) = first.addr else {
        return Err(unresolved(sys::EAI_ADDRFAMILY));
    };
    let peer = *addr.ip();
    let hisname = first
        .canonname
        .clone()
        .unwrap_or_else(|| o.destination.clone());

    sys::connect_v4(fd, peer).map_err(|e| WorkerError::os("connect", e))?;
    // Every other type is ignored when read (`measure`), so a kernel that
    // refuses the filter changes nothing but the work: no error for it.
    let _ = sys::setsockopt_bytes(fd, libc::SOL_RAW, ICMP_FILTER, &icmp_filter().to_ne_bytes());
    let mut method = o.method;
    if method != Method::IcmpTimestamp {
        let me = sys::local_v4(fd).map_err(|e| WorkerError::os("getsockname", e))?;
        let option = ip_option(method, me, peer);
        let result = sys::setsockopt_bytes(fd, libc::IPPROTO_IP, libc::IP_OPTIONS, &option);
        let (m, warning) = after_ip_options(method, result);
        if let Some(w) = warning {
            warn(&w);
        }
        method = m;
    }
    // Only the interactive line prints a local time (`localtime_r` after
    // lock-down reads the zone file unless it was loaded before); batch
    // runs, as iputils' do, never read it.
    if interactive {
        sys::load_timezone();
    }
    Ok(Prepared {
        peer,
        hisname,
        method,
        interactive,
        id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_priority_must_be_the_launchers() {
        assert!(check_priority(Ok(-16), -16).is_ok());
        let e = check_priority(Ok(0), -16).unwrap_err().to_string();
        assert!(e.starts_with("nice: priority is 0, not -16"), "{e}");
        let e = check_priority(Err(io::Error::from_raw_os_error(libc::EPERM)), -16).unwrap_err();
        assert_eq!(e.to_string(), "nice: Operation not permitted");
        assert_eq!(e.status_for(1), 1);
    }

    #[test]
    fn the_filter_passes_the_two_replies_only() {
        let mask = icmp_filter();
        for passed in [ICMP_ECHOREPLY, ICMP_TIMESTAMPREPLY] {
            assert_eq!(mask & (1 << passed), 0, "type {passed}");
        }
        // The requests' own copies over loopback, errors, everything else.
        for dropped in (0..32u8).filter(|t| ![0, 14].contains(t)) {
            assert_ne!(mask & (1 << dropped), 0, "type {dropped}");
        }
    }

    #[test]
    fn the_option_lists_me_him_him_me() {
        let me = Ipv4Addr::new(198, 18, 0, 1);
        let him = Ipv4Addr::new(198, 18, 0, 2);
        let o = ip_option(Method::IpOptionFour, me, him);
        assert_eq!(o.len(), 36);
        assert_eq!(&o[..4], &[68, 36, 5, 3]);
        assert_eq!(&o[4..8], &me.octets());
        assert_eq!(&o[12..16], &him.octets());
        assert_eq!(&o[20..24], &him.octets());
        assert_eq!(&o[28..32], &me.octets());
        assert!(o[8..12].iter().chain(&o[32..36]).all(|&b| b == 0));
        let o = ip_option(Method::IpOptionThree, me, him);
        assert_eq!(o.len(), 28);
        assert_eq!(&o[..4], &[68, 28, 5, 3]);
        assert_eq!(&o[20..24], &me.octets());
        assert!(ip_option(Method::IcmpTimestamp, me, him).is_empty());
    }

    #[test]
    fn a_refused_option_falls_back_with_iputils_warning() {
        assert_eq!(
            after_ip_options(Method::IpOptionFour, Ok(())),
            (Method::IpOptionFour, None)
        );
        let (m, w) = after_ip_options(
            Method::IpOptionThree,
            Err(io::Error::from_raw_os_error(libc::EINVAL)),
        );
        assert_eq!(m, Method::IcmpTimestamp);
        assert_eq!(
            w.as_deref(),
            Some("IP_OPTIONS (fallback to icmp tstamps): Invalid argument")
        );
    }
}
