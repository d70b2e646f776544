//! Name resolution, the only phase that reads files or talks DNS: the
//! destination's address (getaddrinfo, dual-stack like iputils), the name
//! printed in the `PING` line and the summary, and — unless `-n` — the
//! reverse name shown for replies from the target, all computed before the
//! sandbox so that the ping loop never needs a lookup.

#![forbid(unsafe_code)]

use std::net::{IpAddr, SocketAddr};

use crate::ping::icmp::Family;
use crate::ping::idn;
use crate::{sys, WorkerError};

/// The destination, resolved.
#[derive(Debug, Clone)]
pub struct Target {
    pub family: Family,
    /// Where echo requests go (port 0: the raw socket's protocol).
    pub addr: SocketAddr,
    /// Name for the `PING` line and the summary (what the user typed, or
    /// the canonical name for IPv4 names, as iputils prints).
    pub hostname: String,
    /// The address in the `PING` line's parentheses.
    pub numeric: String,
    /// How replies from the target are labelled: `localhost (127.0.0.1)`,
    /// or only the address with `-n` or a numeric destination.
    pub display: String,
    /// getaddrinfo's canonical name of the chosen address (for `-v`).
    pub canonname: Option<String>,
    /// The target's reverse name, looked up before the sandbox (`None`
    /// without lookups or without a name).
    pub reverse: Option<String>,
    /// The destination was given as an address (`inet_aton` accepts it, or
    /// an IPv6 destination with a colon): upstream then prints every
    /// address numerically unless -H.
    pub numeric_dest: bool,
}

/// The numeric form of an address, as printed for anything that is not
/// the target (no lookup: this runs inside the sandbox). A scoped IPv6
/// address keeps its scope as a number (iputils would print the
/// interface name, which needs an ioctl the sandbox forbids).
pub fn numeric(addr: &SocketAddr) -> String {
    match addr {
        SocketAddr::V6(a) if a.scope_id() != 0 => format!("{}%{}", a.ip(), a.scope_id()),
        other => other.ip().to_string(),
    }
}

/// The family to resolve for: `-4`/`-6`, else whatever the launcher could
/// open when it opened only one kind (iputils' "single-protocol systems").
pub fn wanted_family(
    requested: Option<Family>,
    have4: bool,
    have6: bool,
) -> Result<Option<Family>, WorkerError> {
    match requested {
        Some(Family::V4) if !have4 => Err(WorkerError::Resolve(
            "IPv4 is not available: the launcher could not open a raw ICMP socket".into(),
        )),
        Some(Family::V6) if !have6 => Err(WorkerError::Resolve(
            "IPv6 is not available: the launcher could not open a raw ICMPv6 socket".into(),
        )),
        Some(f) => Ok(Some(f)),
        None if !have4 => Ok(Some(Family::V6)),
        None if !have6 => Ok(Some(Family::V4)),
        None => Ok(None),
    }
}

/// The `PING` line's and summary's name for a destination, and whether
/// replies are shown numerically anyway (iputils: an IPv4 address that
/// `inet_aton` accepts, or an IPv6 destination containing a colon).
pub fn hostname_for(dest: &str, family: Family, canonname: Option<&str>) -> (String, bool) {
    match family {
        Family::V4 if sys::parse_inet_aton(dest).is_some() => (dest.to_string(), true),
        Family::V4 => (
            canonname
                .filter(|c| !c.is_empty())
                .unwrap_or(dest)
                .to_string(),
            false,
        ),
        Family::V6 => (dest.to_string(), dest.contains(':')),
    }
}

/// `name (address)` when the reverse name differs from the address.
pub fn label(name: Option<&str>, address: &str) -> String {
    match name {
        Some(n) if !n.is_empty() && n != address => format!("{n} ({address})"),
        _ => address.to_string(),
    }
}

/// Resolves `dest` for `family` (`None`: whichever comes first), with the
/// reverse name unless `numeric_only` (no lookups: `-n` without `-H`, or a
/// numeric destination). Errors are iputils' messages.
pub fn resolve(
    dest: &str,
    family: Option<Family>,
    numeric_only: bool,
    force_lookup: bool,
) -> Result<Target, WorkerError> {
    let utf8 = idn::utf8_locale();
    let results = idn::to_lookup(dest, utf8)
        .and_then(|name| sys::getaddrinfo(&name))
        .map_err(|code| WorkerError::Resolve(format!("{dest}: {}", sys::gai_strerror(code))))?;
    let fam_of = |a: &SocketAddr| if a.is_ipv4() { Family::V4 } else { Family::V6 };
    let chosen = results
        .iter()
        .find(|ai| family.is_none() || family == Some(fam_of(&ai.addr)))
        .ok_or_else(|| {
            WorkerError::Resolve(format!(
                "{dest}: {}",
                sys::gai_strerror(sys::EAI_ADDRFAMILY)
            ))
        })?;
    let family = fam_of(&chosen.addr);
    let mut addr = chosen.addr;
    addr.set_port(0);
    let canon = results
        .iter()
        .find_map(|ai| ai.canonname.as_deref())
        .or(chosen.canonname.as_deref())
        .map(|c| idn::to_display(c, utf8));
    let canon = canon.as_deref();
    let (hostname, numeric_dest) = hostname_for(dest, family, canon);
    let numeric_only = !force_lookup && (numeric_only || numeric_dest);
    let numeric_addr = match addr.ip() {
        IpAddr::V4(ip) => ip.to_string(),
        IpAddr::V6(_) => sys::getnameinfo(&addr, true).unwrap_or_else(|| numeric(&addr)),
    };
    let reverse = if numeric_only {
        None
    } else {
        idn::reverse_name(&addr, utf8).filter(|n| *n != numeric_addr)
    };
    let display = if numeric_only {
        numeric_addr.clone()
    } else {
        label(reverse.as_deref(), &numeric_addr)
    };
    Ok(Target {
        family,
        addr,
        hostname,
        numeric: numeric_addr,
        display,
        canonname: canon.map(str::to_string),
        reverse,
        numeric_dest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv6Addr, SocketAddrV6};

    #[test]
    fn family_choice() {
        assert_eq!(wanted_family(None, true, true).ok(), Some(None));
        assert_eq!(
            wanted_family(None, true, false).ok(),
            Some(Some(Family::V4))
        );
        assert_eq!(
            wanted_family(None, false, true).ok(),
            Some(Some(Family::V6))
        );
        assert!(wanted_family(Some(Family::V6), true, false).is_err());
        assert_eq!(
            wanted_family(Some(Family::V4), true, true).ok(),
            Some(Some(Family::V4))
        );
    }

    #[test]
    fn hostnames_like_iputils() {
        assert_eq!(
            hostname_for("127.0.0.1", Family::V4, Some("127.0.0.1")),
            ("127.0.0.1".into(), true)
        );
        assert_eq!(
            hostname_for("127.1", Family::V4, None),
            ("127.1".into(), true)
        );
        assert_eq!(
            hostname_for("localhost", Family::V4, Some("localhost")),
            ("localhost".into(), false)
        );
        assert_eq!(hostname_for("lo", Family::V4, None), ("lo".into(), false));
        assert_eq!(hostname_for("::1", Family::V6, None), ("::1".into(), true));
        assert_eq!(
            hostname_for("ip6-localhost", Family::V6, Some("x")),
            ("ip6-localhost".into(), false)
        );
        assert_eq!(
            label(Some("localhost"), "127.0.0.1"),
            "localhost (127.0.0.1)"
        );
        assert_eq!(label(Some("127.0.0.1"), "127.0.0.1"), "127.0.0.1");
        assert_eq!(label(None, "::1"), "::1");
    }

    #[test]
    fn numeric_keeps_the_scope() {
        let a = SocketAddr::V6(SocketAddrV6::new(
            "fe80::1".parse::<Ipv6Addr>().unwrap(),
            0,
            0,
            2,
        ));
        assert_eq!(numeric(&a), "fe80::1%2");
        assert_eq!(numeric(&"127.0.0.1:0".parse().unwrap()), "127.0.0.1");
    }

    #[test]
    fn resolves_loopback_literals_without_dns() {
        let t = resolve("127.0.0.1", None, false, false).unwrap();
        assert_eq!(
            (
                t.family,
                t.hostname.as_str(),
                t.numeric.as_str(),
                t.display.as_str()
            ),
            (Family::V4, "127.0.0.1", "127.0.0.1", "127.0.0.1")
        );
        let t = resolve("::1", Some(Family::V6), false, false).unwrap();
        assert_eq!((t.family, t.display.as_str()), (Family::V6, "::1"));
        assert_eq!(
            resolve("::1", Some(Family::V4), false, false)
                .unwrap_err()
                .to_string(),
            "::1: Address family for hostname not supported"
        );
    }
}
