//! `-g` over IPv6 as fping 5.5 does it (5.1 refuses IPv6 there): a CIDR
//! block of prefix length 65 to 128 (every address of it, none left out)
//! or a `start end` range, at most `MAX_GENERATE6` addresses, a scope
//! (`%2`) kept on every address generated. The limit checks, the order of
//! the checks and the messages are 5.5's (`add_cidr`, `add_range`,
//! `add_addr_range_ipv6`); the addresses are printed as glibc's
//! `inet_ntop` prints them, since fping's output shows them so.

#![forbid(unsafe_code)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::fping::cli::{usage, Options};
use crate::fping::targets;
use crate::ping::icmp::Family;
use crate::sys;
use crate::Said;

/// 5.5's `MAX_GENERATE` (its usage text: "limited to at most 131072
/// targets"); 5.1's IPv4 limit stays in `targets`.
pub const MAX_GENERATE6: u64 = 131_072;

/// The size of 5.5's `inet_ntop` buffer, which an address and its scope
/// must fit (with the terminating NUL).
const NTOP_BUFFER: usize = 100;

/// Whether a `-g` operand is an IPv6 literal (5.5's path) rather than an
/// IPv4 one (5.1's path, kept as Debian's).
pub fn is_ipv6(operand: &str) -> bool {
    operand.contains(':')
}

/// The getaddrinfo family of `hints_ai_family` (`-4`/`-6`).
fn af(family: Option<Family>) -> libc::c_int {
    match family {
        Some(Family::V4) => libc::AF_INET,
        Some(Family::V6) => libc::AF_INET6,
        None => libc::AF_UNSPEC,
    }
}

/// A numeric address as 5.5 parses it (`AI_NUMERICHOST`, `family`), split
/// in fping's two 64-bit halves; `sep` follows the program's name in the
/// error (`,` in `add_cidr`, `:` in `add_range`).
fn parse(prog: &str, text: &str, family: libc::c_int, sep: char) -> Result<(u64, u64), Said> {
    let res = sys::getaddrinfo_flags(text, family, 0, 0, libc::AI_NUMERICHOST)
        .map_err(|code| targets::unparsable(prog, text, sep, code))?;
    match res.first().map(|a| a.addr.ip()) {
        Some(IpAddr::V6(a)) => {
            let n = u128::from(a);
            Ok(((n >> 64) as u64, n as u64))
        }
        _ => Err(Said::say(prog, "-g does not support this address family", 1)),
    }
}

/// 5.5's `strtoul_strict(s, 10)`: blanks, an optional `+`, digits and
/// nothing else, in range; `None` where fping prints its usage.
fn strtoul_strict(s: &str) -> Option<u64> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let digits = t.strip_prefix('+').unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// `-g ADDR/LEN` for an IPv6 `ADDR` (`add_cidr`, `add_cidr_ipv6`).
pub fn cidr(prog: &str, o: &Options, operand: &str) -> Result<Vec<String>, Said> {
    let Some((addr, mask_text)) = operand.rsplit_once('/') else {
        return Err(usage(prog, o, true));
    };
    // The scope is searched in the whole operand, as fping's strchr does.
    let scope_at = operand.find('%');
    if scope_at.is_some_and(|at| at > addr.len()) {
        return Err(Said::say(
            prog,
            "address scope must precede prefix length",
            1,
        ));
    }
    // fping then cuts the operand at the slash: the scope ends there.
    let scope = scope_at.map(|at| &addr[at..]);
    let Some(mask) = strtoul_strict(mask_text) else {
        return Err(usage(prog, o, true));
    };
    let (upper, lower) = parse(prog, addr, af(o.family), ',')?;
    if !(65..=128).contains(&mask) {
        return Err(Said::say(
            prog,
            &format!("netmask must be between 65 and 128 (is: {mask})"),
            1,
        ));
    }
    let bits = 128 - mask as u32;
    let first = lower & (u64::MAX << bits);
    let last = first.wrapping_add((1u64 << bits).wrapping_sub(1));
    range(prog, (upper, first), (upper, last), scope)
}

/// `-g START END` for an IPv6 `START` (`add_range`).
pub fn start_end(prog: &str, o: &Options, start: &str, end: &str) -> Result<Vec<String>, Said> {
    let s = parse(prog, start, af(o.family), ':')?;
    let (ss, es) = (
        start.find('%').map(|at| &start[at..]),
        end.find('%').map(|at| &end[at..]),
    );
    if ss != es {
        return Err(Said::say(
            prog,
            "different scopes for start and end addresses",
            1,
        ));
    }
    let e = parse(prog, end, libc::AF_INET6, ':')?;
    range(prog, s, e, ss)
}

/// `add_addr_range_ipv6`: its limit check word for word (unsigned
/// arithmetic that wraps, as C's), then every address from start to end.
fn range(
    prog: &str,
    (mut su, mut sl): (u64, u64),
    (eu, el): (u64, u64),
    scope: Option<&str>,
) -> Result<Vec<String>, Said> {
    let max = MAX_GENERATE6;
    if su.wrapping_add(1) < eu
        || (su.wrapping_add(1) == eu && el >= sl)
        || (su.wrapping_add(1) == eu && el.wrapping_sub(max) >= sl)
        || (su == eu && el.wrapping_sub(max) >= sl && sl.wrapping_add(max) <= el)
    {
        return Err(Said::say(
            prog,
            "-g parameter generates too many addresses",
            1,
        ));
    }
    let mut out = Vec::new();
    while su < eu || (su == eu && sl <= el) {
        let mut text = ntop(Ipv6Addr::from((u128::from(su) << 64) | u128::from(sl)));
        if let Some(scope) = scope {
            if text.len() + scope.len() + 1 > NTOP_BUFFER {
                return Err(Said::say(prog, "scope identifier is too long", 1));
            }
            text.push_str(scope);
        }
        out.push(text);
        sl = sl.wrapping_add(1);
        if sl == 0 {
            su = su.wrapping_add(1);
        }
    }
    Ok(out)
}

/// glibc's `inet_ntop(AF_INET6)`: Rust's form (RFC 5952, `::ffff:a.b.c.d`)
/// but for the IPv4-compatible `::a.b.c.d` glibc still writes when the
/// first six groups are zero and the seventh is not.
pub fn ntop(a: Ipv6Addr) -> String {
    let s = a.segments();
    if s[..6] == [0; 6] && s[6] != 0 {
        let [.., a, b, c, d] = a.octets();
        return format!("::{}", Ipv4Addr::new(a, b, c, d));
    }
    a.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr_of(text: &str) -> Result<Vec<String>, Said> {
        cidr("fping", &Options::default(), text)
    }

    #[test]
    fn blocks_keep_every_address_and_the_scope() {
        assert_eq!(
            cidr_of("2001:db8:31::5/126").unwrap(),
            [
                "2001:db8:31::4",
                "2001:db8:31::5",
                "2001:db8:31::6",
                "2001:db8:31::7"
            ]
        );
        assert_eq!(cidr_of("2001:db8::1/128").unwrap(), ["2001:db8::1"]);
        assert_eq!(cidr_of("::1/ +128").unwrap(), ["::1"]);
        assert_eq!(cidr_of("fe80::1%1/127").unwrap(), ["fe80::%1", "fe80::1%1"]);
        // The limit is exactly a /111.
        assert_eq!(cidr_of("2001:db8::/111").map(|v| v.len()), Ok(131_072));
        assert_eq!(
            cidr_of("2001:db8::/110").map(|v| v.len()).unwrap_err().stderr,
            "fping: -g parameter generates too many addresses\n"
        );
    }

    #[test]
    fn cidr_errors_in_five_five_order() {
        let err = |t: &str| cidr_of(t).unwrap_err().stderr;
        assert_eq!(
            err("2001:db8::/64"),
            "fping: netmask must be between 65 and 128 (is: 64)\n"
        );
        assert_eq!(
            err("2001:db8::/129"),
            "fping: netmask must be between 65 and 128 (is: 129)\n"
        );
        assert_eq!(
            err("fe80::1/128%2"),
            "fping: address scope must precede prefix length\n"
        );
        assert!(err("2001:db8::/x").starts_with("Usage: fping"));
        assert!(err("2001:db8::/-1").starts_with("Usage: fping"));
        assert!(err("2001:db8::/120a").starts_with("Usage: fping"));
        // The mask is read before the address is.
        assert!(err("bogus::/x").starts_with("Usage: fping"));
        let e = err("bogus::/120");
        assert!(e.starts_with("fping, can't parse address bogus::: "), "{e}");
        let o = Options {
            family: Some(Family::V4),
            ..Options::default()
        };
        let e = cidr("fping", &o, "2001:db8::/127").unwrap_err().stderr;
        assert!(e.starts_with("fping, can't parse address 2001:db8::: "), "{e}");
        assert!(!err("\u{1b}[2J::/120").contains('\u{1b}'));
    }

    #[test]
    fn ranges_and_their_limit() {
        let o = Options::default();
        let r = |s: &str, e: &str| start_end("fping", &o, s, e);
        assert_eq!(
            r("::1:2:3", "::1:2:5").unwrap(),
            ["::1:2:3", "::1:2:4", "::1:2:5"]
        );
        assert!(r("2001:db8::5", "2001:db8::1").unwrap().is_empty());
        // Across the 64-bit halves.
        assert_eq!(
            r("2001:db8:0:0:ffff:ffff:ffff:ffff", "2001:db8:0:1::").unwrap(),
            ["2001:db8::ffff:ffff:ffff:ffff", "2001:db8:0:1::"]
        );
        assert_eq!(
            r("2001:db8::", "2001:db8::1:ffff").map(|v| v.len()),
            Ok(131_072)
        );
        let too_many = "fping: -g parameter generates too many addresses\n";
        assert_eq!(r("2001:db8::", "2001:db8::2:0").unwrap_err().stderr, too_many);
        assert_eq!(r("2001:db8::", "2001:db8:0:2::").unwrap_err().stderr, too_many);
        assert_eq!(
            r("2001:db8::1%1", "2001:db8::2").unwrap_err().stderr,
            "fping: different scopes for start and end addresses\n"
        );
        let e = r("2001:db8::1", "198.18.0.1").unwrap_err().stderr;
        assert!(e.starts_with("fping: can't parse address 198.18.0.1: "), "{e}");
    }

    #[test]
    fn addresses_as_glibc_prints_them() {
        let n = |t: &str| ntop(t.parse().unwrap());
        assert_eq!(n("::"), "::");
        assert_eq!(n("::1"), "::1");
        assert_eq!(n("::102:304"), "::1.2.3.4");
        assert_eq!(n("::ffff:1.2.3.4"), "::ffff:1.2.3.4");
        assert_eq!(n("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1");
    }
}
