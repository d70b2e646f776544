//! fping's targets: the operands, the `-f` file or stdin (read as fping's
//! `fgets` into 132 bytes and `sscanf("%s")` sees them), the `-g` range or
//! CIDR block, each resolved as fping's `add_name` resolves it (its
//! getaddrinfo hints, `-m`'s every address, `-n`/`-d` reverse names, `-A`
//! addresses). All of it runs before lock-down; every name that came from
//! outside (the user, a file, DNS) is made printable here, once.

#![forbid(unsafe_code)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::fping::cli::{usage, Options};
use crate::fping::generate6;
use crate::ping::icmp::Family;
use crate::sys;
use crate::text::printable;
use crate::Said;

/// `MAX_GENERATE`: the most addresses a `-g start end` range may give.
pub const MAX_GENERATE: u64 = 100_000;

/// One target as fping's `HOST_ENTRY` starts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The name as given (for `-N`: every character but letters and digits
    /// made `_`).
    pub name: String,
    /// How it is shown: the name, its reverse name, its address, or
    /// `name (address)`; printable.
    pub host: String,
    /// Where its echo requests go.
    pub addr: SocketAddr,
}

/// The target list and what resolving it said.
#[derive(Debug, Default)]
pub struct Targets {
    pub list: Vec<Target>,
    /// Names that did not resolve (`num_noaddress`).
    pub noaddress: u32,
    /// Warnings for stderr, in order (already silenced under `-q`).
    pub warnings: String,
    /// Under `-J`: 5.5's warning objects for stdout, in order (`-q` or not).
    pub json: String,
}

/// The tokens fping takes from a target file: each `fgets` chunk of at
/// most 131 bytes (a longer line gives several), its first
/// whitespace-delimited word, lines starting with `#` skipped.
pub fn file_tokens(data: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let limit = rest.len().min(131);
        let end = rest[..limit]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(limit, |p| p + 1);
        let mut chunk = &rest[..end];
        rest = &rest[end..];
        // A C string ends at its first NUL.
        if let Some(nul) = chunk.iter().position(|&b| b == 0) {
            chunk = &chunk[..nul];
        }
        // sscanf's `%s` stops at C's isspace, which has `\v` (Rust's
        // ASCII whitespace does not).
        let word: Vec<u8> = chunk
            .iter()
            .copied()
            .skip_while(|&b| crate::num::is_c_space(b))
            .take_while(|&b| !crate::num::is_c_space(b))
            .collect();
        if word.is_empty() || word[0] == b'#' {
            continue;
        }
        out.push(String::from_utf8_lossy(&word).into_owned());
    }
    out
}

/// The getaddrinfo hints of `add_name`: raw ICMP for a chosen family,
/// otherwise `SOCK_STREAM` (one result per address either way).
fn hints(family: Option<Family>) -> (i32, i32, i32) {
    match family {
        Some(Family::V4) => (libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_ICMP),
        Some(Family::V6) => (libc::AF_INET6, libc::SOCK_RAW, libc::IPPROTO_ICMPV6),
        None => (libc::AF_UNSPEC, libc::SOCK_STREAM, 0),
    }
}

impl Targets {
    /// fping's `add_name`.
    pub fn add_name(&mut self, o: &Options, name: &str) {
        let (fam, ty, proto) = hints(o.family);
        let results = match sys::getaddrinfo_flags(name, fam, ty, proto, 0) {
            Ok(r) => r,
            Err(code) => {
                let (name, why) = (printable(name), sys::gai_strerror(code));
                if !o.quiet {
                    self.warnings.push_str(&format!("{name}: {why}\n"));
                }
                if o.json {
                    crate::fping::json::warning(&mut self.json, &name, &why);
                }
                self.noaddress += 1;
                return;
            }
        };
        let numeric =
            o.name && sys::getaddrinfo_flags(name, fam, ty, proto, libc::AI_NUMERICHOST).is_ok();
        for ai in results {
            let printname = if (o.name && numeric) || o.rdns {
                sys::getnameinfo(&ai.addr, false).unwrap_or_else(|| name.to_string())
            } else {
                name.to_string()
            };
            let host = if o.addr {
                let Some(a) = sys::getnameinfo(&ai.addr, true) else {
                    if !o.quiet {
                        self.warnings.push_str(&format!(
                            "{}: can't forward-lookup address (Unknown error)\n",
                            printable(name)
                        ));
                    }
                    continue;
                };
                if o.name || o.rdns {
                    format!("{printname} ({a})")
                } else {
                    a
                }
            } else {
                printname
            };
            let mut shown = name.to_string();
            if o.netdata {
                shown = shown
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                    .collect();
            }
            self.list.push(Target {
                name: printable(&shown).into_owned(),
                host: printable(&host).into_owned(),
                addr: ai.addr,
            });
            if !o.multif {
                break;
            }
        }
    }
}

/// fping's words when `-g`'s address does not parse (exit 1), for both
/// families: `sep` follows the program's name, `,` for a CIDR block and
/// `:` for a range; `code` is getaddrinfo's.
pub(super) fn unparsable(prog: &str, text: &str, sep: char, code: libc::c_int) -> Said {
    Said {
        stdout: String::new(),
        stderr: format!(
            "{prog}{sep} can't parse address {}: {}\n",
            printable(text),
            sys::gai_strerror(code)
        ),
        status: 1,
    }
}

/// An IPv4 address as `-g` parses it (`AI_NUMERICHOST`, any family):
/// the address, or the exit fping takes. `sep` follows the program's name
/// in the parse error: `,` for a CIDR block, `:` for a range (5.1's words).
fn parse_v4(prog: &str, text: &str, sep: char) -> Result<u32, Said> {
    match sys::getaddrinfo_flags(text, libc::AF_UNSPEC, 0, 0, libc::AI_NUMERICHOST) {
        Err(code) => Err(unparsable(prog, text, sep, code)),
        Ok(r) => match r.first().map(|a| a.addr.ip()) {
            Some(IpAddr::V4(a)) => Ok(u32::from(a)),
            _ => Err(Said::say(prog, "-g works only with IPv4 addresses", 1)),
        },
    }
}

/// The addresses of `-g`: one operand is a CIDR block (network and
/// broadcast left out below /31), two a range. IPv4 goes as 5.1 does it;
/// IPv6, which 5.1 refuses, as 5.5 does it (`generate6`).
pub fn generate(prog: &str, o: &Options, operands: &[String]) -> Result<Vec<String>, Said> {
    let as_text = |n: u32| Ipv4Addr::from(n).to_string();
    match operands {
        [cidr] if generate6::is_ipv6(cidr) => generate6::cidr(prog, o, cidr),
        [start, end] if generate6::is_ipv6(start) => generate6::start_end(prog, o, start, end),
        [cidr] => {
            let Some((addr, mask_text)) = cidr.split_once('/') else {
                return Err(usage(prog, o, true));
            };
            let mask = crate::fping::cli::atoi(mask_text);
            let net = parse_v4(prog, addr, ',')?;
            if !(1..=32).contains(&mask) {
                return Err(Said::say(
                    prog,
                    &format!(
                        "netmask must be between 1 and 32 (is: {})",
                        printable(mask_text)
                    ),
                    1,
                ));
            }
            let bits = u64::from(u32::MAX) << (32 - mask) & u64::from(u32::MAX);
            let mut first = u64::from(net) & bits;
            let mut last = first + (1u64 << (32 - mask)) - 1;
            if mask < 31 {
                last -= 1;
                first += 1;
            }
            Ok((first..=last).map(|n| as_text(n as u32)).collect())
        }
        [start, end] => {
            let s = u64::from(parse_v4(prog, start, ':')?);
            let e = u64::from(parse_v4(prog, end, ':')?);
            if e > s + MAX_GENERATE {
                return Err(Said::say(
                    prog,
                    "-g parameter generates too many addresses",
                    1,
                ));
            }
            Ok((s..=e).map(|n| as_text(n as u32)).collect())
        }
        _ => Err(usage(prog, o, true)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_lines_as_fgets_and_sscanf_see_them() {
        let long = "a".repeat(140);
        let data = format!("  host1 trailing\n# comment\n\n\thost2\n{long}\nlast");
        let t = file_tokens(data.as_bytes());
        assert_eq!(t[..2], ["host1", "host2"]);
        // 131 bytes, then the other 9 and the newline.
        assert_eq!(t[2].len(), 131);
        assert_eq!(t[3].len(), 9);
        assert_eq!(t[4], "last");
        assert_eq!(file_tokens(b"x\0y z\n"), ["x"]);
        // C's isspace: a vertical tab separates words, as a form feed does.
        assert_eq!(file_tokens(b"\x0bx\x0by\nz\x0cw\n"), ["x", "z"]);
    }

    #[test]
    fn cidr_and_ranges() {
        let o = Options::default();
        let g = |a: &[&str]| {
            generate(
                "fping",
                &o,
                &a.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            )
        };
        assert_eq!(g(&["198.18.0.5/30"]).unwrap(), ["198.18.0.5", "198.18.0.6"]);
        assert_eq!(g(&["198.18.0.5/31"]).unwrap(), ["198.18.0.4", "198.18.0.5"]);
        assert_eq!(g(&["198.18.0.5/32"]).unwrap(), ["198.18.0.5"]);
        assert_eq!(g(&["198.18.0.1", "198.18.0.3"]).unwrap().len(), 3);
        assert!(g(&["198.18.0.3", "198.18.0.1"]).unwrap().is_empty());
        assert_eq!(
            g(&["198.18.0.0/0"]).unwrap_err().stderr,
            "fping: netmask must be between 1 and 32 (is: 0)\n"
        );
        assert_eq!(
            g(&["198.18.0.1", "::1"]).unwrap_err().stderr,
            "fping: -g works only with IPv4 addresses\n"
        );
        assert_eq!(g(&["::1/128"]).unwrap(), ["::1"]);
        assert_eq!(
            g(&["10.0.0.0", "10.2.0.0"]).unwrap_err().stderr,
            "fping: -g parameter generates too many addresses\n"
        );
        let e = g(&["bogus/24"]).unwrap_err().stderr;
        assert!(e.starts_with("fping, can't parse address bogus: "), "{e}");
        let e = g(&["bogus", "10.0.0.1"]).unwrap_err().stderr;
        assert!(e.starts_with("fping: can't parse address bogus: "), "{e}");
        assert!(g(&["10.0.0.1"])
            .unwrap_err()
            .stderr
            .starts_with("Usage: fping"));
    }

    #[test]
    fn names_as_add_name_shows_them() {
        let mut o = Options::default();
        let mut t = Targets::default();
        t.add_name(&o, "127.0.0.1");
        o.addr = true;
        t.add_name(&o, "127.0.0.2");
        o.family = Some(Family::V4);
        t.add_name(&o, "::1");
        assert_eq!(t.list.len(), 2);
        assert_eq!(t.list[0].host, "127.0.0.1");
        assert_eq!(t.list[1].host, "127.0.0.2");
        assert_eq!(t.noaddress, 1);
        assert_eq!(
            t.warnings,
            "::1: Address family for hostname not supported\n"
        );
        o.quiet = true;
        t.add_name(&o, "\x1b[2J.invalid");
        assert_eq!(t.noaddress, 2);
        assert!(!t.warnings.contains('\x1b'));
        assert_eq!(t.json, "");
    }

    #[test]
    fn json_warns_on_stdout_too_quiet_or_not() {
        let mut o = Options {
            family: Some(Family::V4),
            json: true,
            ..Options::default()
        };
        let mut t = Targets::default();
        t.add_name(&o, "::1");
        o.quiet = true;
        t.add_name(&o, "::1");
        assert_eq!(
            t.warnings,
            "::1: Address family for hostname not supported\n"
        );
        let line = "{\"warning\": {\"host\": \"::1\", \"message\": \"Address family for \
                    hostname not supported\"}}\n";
        assert_eq!(t.json, format!("{line}{line}"));
        assert_eq!(t.noaddress, 2);
    }
}
