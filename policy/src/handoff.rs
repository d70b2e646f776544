//! The launcher → worker handoff protocol.
//!
//! systemd's socket-activation convention, so existing tooling understands
//! it: the sockets sit at fds 3, 4, …; `LISTEN_FDS=<n>`, `LISTEN_PID=<pid>`
//! (the same pid after exec) and `LISTEN_FDNAMES` naming each one with the
//! name of its [`SocketSpec`] in the tool's descriptor (`icmp4`, `icmp6`,
//! `arp`; only the ones that were opened; `broker` for the channel to a
//! broker, last). A tool with a broker has two handoffs: the worker's
//! ([`Tool::worker_handoff`]: its own sockets and the channel) and the
//! broker's ([`Tool::broker_handoff`]: the held sockets and the channel).
//! The launcher [`encode`]s, the
//! worker [`decode`]s and [`validate`]s against its own descriptor: one
//! implementation on both sides. The environment is rebuilt from an
//! allowlist ([`rebuild_env`]) because the worker holds a privileged
//! socket: nothing like `LD_PRELOAD` may ever reach it.

#![forbid(unsafe_code)]

#[cfg(feature = "std")]
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
#[cfg(feature = "std")]
use std::ffi::{OsStr, OsString};
#[cfg(feature = "std")]
use std::os::unix::ffi::OsStrExt;

#[cfg(feature = "std")]
use crate::tools::Tool;
use crate::tools::{SocketKind, SocketSpec};
#[cfg(feature = "std")]
use crate::{sys, PolicyError};

/// A descriptor number (`std::os::fd::RawFd`, which `no_std` lacks).
type RawFd = core::ffi::c_int;

/// The first handed-over descriptor (systemd's `SD_LISTEN_FDS_START`).
pub const FIRST_FD: RawFd = 3;
/// Variable carrying the number of handed-over descriptors.
pub const VAR_FDS: &str = "LISTEN_FDS";
/// Variable carrying the pid the descriptors are meant for.
pub const VAR_PID: &str = "LISTEN_PID";
/// Variable carrying the colon-separated names of the descriptors.
pub const VAR_NAMES: &str = "LISTEN_FDNAMES";
/// Variable set, with `LISTEN_FDS=0`, when the launcher could open none of
/// the sockets of a tool that reports that itself ([`Tool::reports_refusals`]:
/// ping, fping): each socket's last attempt, `name/TYPE/errno`, colon-separated
/// (`icmp4/SOCK_RAW/1:icmp6/SOCK_RAW/1`). upstream parses its whole command
/// line before it creates a socket (`-V`, `-h`, usage errors and `-v`'s
/// lines all come first), so the worker, which parses it, words the
/// refusal; it holds nothing then.
pub const VAR_REFUSED: &str = "PRIVSEP_SOCKETS_REFUSED";

/// A socket the launcher could not open: the kind it tried last and the
/// errno that attempt got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub spec: &'static SocketSpec,
    pub kind: &'static SocketKind,
    pub errno: i32,
}

/// What the launcher handed over: sockets, or (for a tool that reports
/// refusals itself) why there are none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handoff {
    Sockets(Vec<HandedSocket>),
    Refused(Vec<Refusal>),
}

/// `VAR_REFUSED`'s value for `refused`.
pub fn encode_refused(refused: &[Refusal]) -> String {
    let parts: Vec<String> = refused
        .iter()
        .map(|r| alloc::format!("{}/{}/{}", r.spec.name, r.kind.type_name, r.errno))
        .collect();
    parts.join(":")
}

#[cfg(feature = "std")]
/// The refusals the launcher handed over to `tool`'s worker, if it set
/// [`VAR_REFUSED`] (`None` otherwise: a handoff of sockets). Accepted only
/// for a tool that reports refusals, with `LISTEN_FDS=0`, this process's
/// `LISTEN_PID`, no names, and every socket of the tool, in descriptor
/// order, each with one of its kinds and an errno (the launcher tries them
/// all before it gives up).
pub fn decode_refused(
    var: impl Fn(&str) -> Option<String>,
    own_pid: u32,
    tool: &Tool,
) -> Result<Option<Vec<Refusal>>, PolicyError> {
    let Some(value) = var(VAR_REFUSED) else {
        return Ok(None);
    };
    let fail = |reason: String| no_handoff(tool, reason);
    if !tool.reports_refusals() {
        return Err(fail(format!(
            "{VAR_REFUSED} is set for a tool that does not take it"
        )));
    }
    if var(VAR_FDS).as_deref() != Some("0") || var(VAR_NAMES).as_deref() != Some("") {
        return Err(fail(format!(
            "{VAR_REFUSED} goes with {VAR_FDS}=0 and an empty {VAR_NAMES}"
        )));
    }
    let pid = var(VAR_PID).unwrap_or_default();
    if pid.parse::<u32>().ok() != Some(own_pid) || pid.starts_with('+') {
        return Err(fail(format!(
            "{VAR_PID}={pid:?} is not this process ({own_pid})"
        )));
    }
    let expected = tool.worker_handoff();
    let entries: Vec<&str> = value.split(':').collect();
    if entries.len() != expected.len() {
        return Err(fail(format!(
            "{VAR_REFUSED}={value:?} does not name each of the {} sockets",
            expected.len()
        )));
    }
    entries
        .iter()
        .zip(expected)
        .map(|(entry, spec)| {
            let bad = || {
                fail(format!(
                    "{VAR_REFUSED}: bad entry {entry:?} for {:?}",
                    spec.name
                ))
            };
            let mut parts = entry.split('/');
            let (Some(name), Some(ty), Some(errno), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(bad());
            };
            let kind = spec.kinds.iter().find(|k| k.type_name == ty);
            let errno = errno
                .parse::<i32>()
                .ok()
                .filter(|e| (1..4096).contains(e) && !errno.starts_with('+'));
            match (name == spec.name, kind, errno) {
                (true, Some(kind), Some(errno)) => Ok(Refusal { spec, kind, errno }),
                _ => Err(bad()),
            }
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// One descriptor the worker received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandedSocket {
    /// Where it sits.
    pub fd: RawFd,
    /// What it claims to be, from the tool's descriptor (checked by
    /// [`validate`]).
    pub spec: &'static SocketSpec,
    /// Which of the spec's kinds it is: `None` until [`validate`] has read
    /// its `SO_TYPE` (the kernel's word on what the launcher opened).
    pub kind: Option<&'static SocketKind>,
}

impl HandedSocket {
    /// Its name in `LISTEN_FDNAMES`.
    pub fn name(&self) -> &'static str {
        self.spec.name
    }

    /// Whether it is a datagram socket of a spec that also admits a raw
    /// one (ping's ICMP datagram socket), as [`validate`] found it.
    pub fn is_datagram(&self) -> bool {
        self.spec.kinds.len() > 1 && self.kind.is_some_and(|k| k.ty == libc::SOCK_DGRAM)
    }
}

/// The three variables the launcher sets for `opened` (in fd order, starting
/// at [`FIRST_FD`]) and its own pid, which the worker keeps across exec.
pub fn encode(opened: &[&SocketSpec], pid: u32) -> [(&'static str, String); 3] {
    let names: Vec<&str> = opened.iter().map(|s| s.name).collect();
    [
        (VAR_FDS, opened.len().to_string()),
        (VAR_PID, pid.to_string()),
        (VAR_NAMES, names.join(":")),
    ]
}

#[cfg(feature = "std")]
fn no_handoff(tool: &Tool, reason: impl Into<String>) -> PolicyError {
    PolicyError::NoHandoff {
        launcher: tool.launcher_name,
        reason: reason.into(),
    }
}

#[cfg(feature = "std")]
/// Parses the three variables (as looked up by `var`) into the list of
/// sockets handed over to `tool`'s worker. Pure: it checks the protocol,
/// not the descriptors. Accepted: between one and all of the worker's
/// sockets ([`Tool::worker_handoff`]), each at most once, in the
/// descriptor's order (the order the launcher opens them), every socket
/// that is not optional among them.
pub fn decode(
    var: impl Fn(&str) -> Option<String>,
    own_pid: u32,
    tool: &Tool,
) -> Result<Vec<HandedSocket>, PolicyError> {
    decode_for(var, own_pid, tool, &tool.worker_handoff())
}

#[cfg(feature = "std")]
/// [`decode`] for the broker of `tool` ([`Tool::broker_handoff`]).
pub fn decode_broker(
    var: impl Fn(&str) -> Option<String>,
    own_pid: u32,
    tool: &Tool,
) -> Result<Vec<HandedSocket>, PolicyError> {
    decode_for(var, own_pid, tool, &tool.broker_handoff())
}

#[cfg(feature = "std")]
fn decode_for(
    var: impl Fn(&str) -> Option<String>,
    own_pid: u32,
    tool: &Tool,
    expected: &[&'static SocketSpec],
) -> Result<Vec<HandedSocket>, PolicyError> {
    let fail = |reason: String| no_handoff(tool, reason);
    let fds = var(VAR_FDS).ok_or_else(|| fail(format!("{VAR_FDS} is not set")))?;
    let pid = var(VAR_PID).ok_or_else(|| fail(format!("{VAR_PID} is not set")))?;
    let names = var(VAR_NAMES).ok_or_else(|| fail(format!("{VAR_NAMES} is not set")))?;

    let most = expected.len();
    let count: usize = match fds.parse() {
        Ok(n) if (1..=most).contains(&n) && !fds.starts_with('+') => n,
        _ => {
            return Err(fail(format!(
                "{VAR_FDS}={fds:?} is not between 1 and {most}"
            )))
        }
    };
    if pid.parse::<u32>().ok() != Some(own_pid) || pid.starts_with('+') {
        return Err(fail(format!(
            "{VAR_PID}={pid:?} is not this process ({own_pid})"
        )));
    }
    let specs: Vec<&'static SocketSpec> = names
        .split(':')
        .map(|n| {
            expected
                .iter()
                .copied()
                .find(|s| s.name == n)
                .ok_or_else(|| fail(format!("unknown socket name {n:?}")))
        })
        .collect::<Result<_, _>>()?;
    if specs.len() != count {
        return Err(fail(format!(
            "{VAR_NAMES} names {} sockets but {VAR_FDS}={count}",
            specs.len()
        )));
    }
    // In descriptor order and each once: the position in the descriptor
    // must strictly increase.
    let position = |s: &SocketSpec| expected.iter().position(|t| t.name == s.name);
    if specs.windows(2).any(|w| position(w[0]) >= position(w[1])) {
        return Err(fail(format!(
            "{VAR_NAMES}={names:?} repeats a socket or is out of order"
        )));
    }
    if let Some(missing) = expected
        .iter()
        .find(|t| !t.optional && !specs.iter().any(|s| s.name == t.name))
    {
        return Err(fail(format!("{VAR_NAMES} lacks {:?}", missing.name)));
    }
    Ok(specs
        .into_iter()
        .enumerate()
        .map(|(i, spec)| HandedSocket {
            fd: FIRST_FD + i as RawFd,
            spec,
            kind: None,
        })
        .collect())
}

#[cfg(feature = "std")]
/// Checks that every descriptor is the socket its name promises
/// (`SO_DOMAIN`, `SO_PROTOCOL`; for a packet socket, whose `SO_PROTOCOL`
/// is always 0, the protocol `getsockname` reports; `SO_TYPE` one of the
/// spec's kinds, recorded in [`HandedSocket::kind`]), that a socket whose
/// descriptor locks a filter on it has a locked filter (`SO_LOCK_FILTER`),
/// and marks it close-on-exec.
pub fn validate(sockets: &mut [HandedSocket]) -> Result<(), PolicyError> {
    for s in sockets.iter_mut() {
        let bad = |reason: String| PolicyError::BadSocket {
            fd: s.fd,
            name: s.spec.name,
            reason,
        };
        let get = |opt, what: &str| {
            sys::getsockopt_int(s.fd, libc::SOL_SOCKET, opt)
                .map_err(|e| bad(format!("{what}: {e}")))
        };
        let domain = get(libc::SO_DOMAIN, "SO_DOMAIN")?;
        let ty = get(libc::SO_TYPE, "SO_TYPE")?;
        let proto = if domain == libc::AF_PACKET {
            sys::packet_protocol(s.fd).map_err(|e| bad(format!("getsockname: {e}")))?
        } else {
            get(libc::SO_PROTOCOL, "SO_PROTOCOL")?
        };
        let kind = s.spec.kind_of_type(ty);
        if domain != s.spec.domain || kind.is_none() || proto != s.spec.protocol {
            return Err(bad(format!("domain {domain}, type {ty}, protocol {proto}")));
        }
        s.kind = kind;
        if matches!(s.spec.setup, crate::tools::SocketSetup::LockedFilter(_))
            && get(libc::SO_LOCK_FILTER, "SO_LOCK_FILTER")? != 1
        {
            return Err(bad("its socket filter is not locked".into()));
        }
        sys::set_cloexec(s.fd).map_err(|e| bad(format!("FD_CLOEXEC: {e}")))?;
    }
    Ok(())
}

#[cfg(feature = "std")]
/// Takes the handoff from this process's environment: decodes, removes the
/// three variables (so nothing the worker might start sees them), validates.
pub fn take_from_env(tool: &Tool) -> Result<Vec<HandedSocket>, PolicyError> {
    take(decode(|name| std::env::var(name).ok(), sys::getpid(), tool))
}

#[cfg(feature = "std")]
/// [`take_from_env`] for the broker of `tool`.
pub fn take_broker_from_env(tool: &Tool) -> Result<Vec<HandedSocket>, PolicyError> {
    take(decode_broker(
        |name| std::env::var(name).ok(),
        sys::getpid(),
        tool,
    ))
}

#[cfg(feature = "std")]
/// [`take_from_env`] for a tool that reports refusals itself (ping): its
/// sockets, or the refusals the launcher handed over instead
/// ([`decode_refused`]).
pub fn take_handoff_from_env(tool: &Tool) -> Result<Handoff, PolicyError> {
    let var = |name: &str| std::env::var(name).ok();
    match decode_refused(var, sys::getpid(), tool) {
        Ok(None) => take_from_env(tool).map(Handoff::Sockets),
        refused => {
            remove_handoff_vars();
            refused.map(|r| Handoff::Refused(r.unwrap_or_default()))
        }
    }
}

#[cfg(feature = "std")]
fn remove_handoff_vars() {
    for name in [VAR_FDS, VAR_PID, VAR_NAMES, VAR_REFUSED] {
        std::env::remove_var(name);
    }
}

#[cfg(feature = "std")]
fn take(decoded: Result<Vec<HandedSocket>, PolicyError>) -> Result<Vec<HandedSocket>, PolicyError> {
    remove_handoff_vars();
    let mut sockets = decoded?;
    validate(&mut sockets)?;
    Ok(sockets)
}

/// Variables the worker may see. Everything else, `LD_PRELOAD`,
/// `LD_LIBRARY_PATH`, `GCONV_PATH`, `MALLOC_*`, `LOCPATH`, `HOSTALIASES`,
/// `RES_OPTIONS`, … is dropped by the launcher.
pub const ENV_ALLOWLIST: &[&str] = &[
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "LC_MESSAGES",
    "LC_NUMERIC",
    "LC_TIME",
    "TZ",
    "TERM",
    "COLUMNS",
    "LINES",
    "NO_COLOR",
    // ping: `0` turns reverse lookups off by default (upstream's switch).
    "IPUTILS_PING_PTR_LOOKUP",
    // glibc getopt's switch, which arping and clockdiff follow: options end
    // at the first operand. Names no file.
    "POSIXLY_CORRECT",
];

/// Longest value the launcher passes on.
pub const ENV_MAX_VALUE: usize = 256;

/// Whether `name=value` may reach the worker: the name is allowlisted and the
/// value cannot point glibc at a file of the caller's choosing.
#[cfg(feature = "std")]
pub fn env_allowed(name: &OsStr, value: &OsStr) -> bool {
    env_allowed_bytes(name.as_bytes(), value.as_bytes())
}

/// [`env_allowed`] on the bytes of the name and the value (the launcher's
/// form: it has no `OsStr`).
pub fn env_allowed_bytes(name: &[u8], value: &[u8]) -> bool {
    let Ok(name) = core::str::from_utf8(name) else {
        return false;
    };
    if !ENV_ALLOWLIST.contains(&name) {
        return false;
    }
    let v = value;
    if v.len() > ENV_MAX_VALUE
        || v.iter().any(|b| b.is_ascii_control())
        || v.windows(2).any(|w| w == b"..")
    {
        return false;
    }
    match name {
        // Locale names with a slash are paths to locale files.
        "LANG" | "LANGUAGE" | "LC_ALL" | "LC_CTYPE" | "LC_MESSAGES" | "LC_NUMERIC" | "LC_TIME" => {
            !v.contains(&b'/')
        }
        // "TZ=/file" and "TZ=:/file" name a zone file directly.
        "TZ" => !(v.starts_with(b"/") || v.starts_with(b":/")),
        _ => true,
    }
}

/// The worker's environment: the allowed subset of `vars`, then the handoff
/// variables (which always win over anything of the same name), with
/// [`VAR_REFUSED`] when nothing was opened and `refused` says why.
#[cfg(feature = "std")]
pub fn rebuild_env(
    vars: impl IntoIterator<Item = (OsString, OsString)>,
    opened: &[&SocketSpec],
    refused: &[Refusal],
    pid: u32,
) -> Vec<(OsString, OsString)> {
    use std::os::unix::ffi::OsStringExt;
    let vars = vars.into_iter().map(|(n, v)| (n.into_vec(), v.into_vec()));
    rebuild_env_bytes(vars, opened, refused, pid)
        .into_iter()
        .map(|(n, v)| (OsString::from_vec(n), OsString::from_vec(v)))
        .collect()
}

/// [`rebuild_env`] on bytes (the launcher's form).
pub fn rebuild_env_bytes(
    vars: impl IntoIterator<Item = (Vec<u8>, Vec<u8>)>,
    opened: &[&SocketSpec],
    refused: &[Refusal],
    pid: u32,
) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut env: Vec<(Vec<u8>, Vec<u8>)> = vars
        .into_iter()
        .filter(|(n, v)| env_allowed_bytes(n, v))
        .collect();
    for (name, value) in encode(opened, pid) {
        env.push((name.into(), value.into()));
    }
    if opened.is_empty() && !refused.is_empty() {
        env.push((VAR_REFUSED.into(), encode_refused(refused).into()));
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::{ARPING, CLOCKDIFF, ICMP4, ICMP6, PING};
    use std::collections::HashMap;

    fn lookup(vars: &[(&'static str, String)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn refusals_round_trip_for_ping_only_and_in_full() {
        let refused = [
            Refusal {
                spec: &ICMP4,
                kind: &ICMP4.kinds[1],
                errno: libc::EPERM,
            },
            Refusal {
                spec: &ICMP6,
                kind: &ICMP6.kinds[0],
                errno: libc::EMFILE,
            },
        ];
        let env = rebuild_env(Vec::new(), &[], &refused, 77);
        let vars: Vec<(&'static str, String)> = [VAR_FDS, VAR_PID, VAR_NAMES, VAR_REFUSED]
            .into_iter()
            .map(|k| {
                let v = env.iter().find(|(n, _)| n == k).expect(k).1.clone();
                (k, v.into_string().unwrap())
            })
            .collect();
        assert_eq!(vars[3].1, "icmp4/SOCK_RAW/1:icmp6/SOCK_DGRAM/24");
        let got = decode_refused(lookup(&vars), 77, &PING).unwrap();
        assert_eq!(got.as_deref(), Some(&refused[..]));
        // Not for another pid, another tool, or with sockets alongside.
        assert!(decode_refused(lookup(&vars), 78, &PING).is_err());
        assert!(decode_refused(lookup(&vars), 77, &CLOCKDIFF).is_err());
        let mut with_fds = vars.clone();
        with_fds[0].1 = "1".into();
        assert!(decode_refused(lookup(&with_fds), 77, &PING).is_err());
        // Without the variable: a handoff of sockets, decoded as before.
        assert_eq!(decode_refused(lookup(&vars[..3]), 77, &PING).unwrap(), None);
        assert!(decode(lookup(&vars[..3]), 77, &PING).is_err());
        // Every socket, in order, a kind of its own, an errno.
        for bad in [
            "icmp4/SOCK_RAW/1",
            "icmp6/SOCK_RAW/1:icmp4/SOCK_RAW/1",
            "icmp4/SOCK_STREAM/1:icmp6/SOCK_RAW/1",
            "icmp4/SOCK_RAW/0:icmp6/SOCK_RAW/1",
            "icmp4/SOCK_RAW/+1:icmp6/SOCK_RAW/1",
            "icmp4/SOCK_RAW/1/2:icmp6/SOCK_RAW/1",
            "icmp4/SOCK_RAW/4096:icmp6/SOCK_RAW/1",
        ] {
            let mut v = vars.clone();
            v[3].1 = bad.into();
            assert!(decode_refused(lookup(&v), 77, &PING).is_err(), "{bad}");
        }
    }

    #[test]
    fn round_trip_both_and_each() {
        for opened in [&[&ICMP4, &ICMP6][..], &[&ICMP4], &[&ICMP6]] {
            let vars = encode(opened, 4242);
            let got = decode(lookup(&vars), 4242, &PING).unwrap();
            assert_eq!(got.len(), opened.len());
            for (i, (s, k)) in got.iter().zip(opened).enumerate() {
                assert_eq!(s.fd, FIRST_FD + i as RawFd);
                assert_eq!(s.name(), k.name);
            }
        }
    }

    #[test]
    fn every_tool_round_trips_all_its_sockets() {
        for tool in crate::tools::ALL {
            let all = tool.worker_handoff();
            let vars = encode(&all, 9);
            let got = decode(lookup(&vars), 9, tool).unwrap();
            assert_eq!(got.len(), all.len(), "{}", tool.name);
            let held = tool.broker_handoff();
            if !held.is_empty() {
                let vars = encode(&held, 9);
                let got = decode_broker(lookup(&vars), 9, tool).unwrap();
                assert_eq!(got.len(), held.len(), "{}", tool.name);
                // Each side refuses the other's handoff (where the broker
                // holds a socket: mtr-packet's worker, whose sockets are
                // all optional, may get its channel alone).
                let holds = tool.broker.is_some_and(|b| !b.holds.is_empty());
                assert_eq!(decode(lookup(&vars), 9, tool).is_err(), holds);
                assert!(decode_broker(lookup(&encode(&all, 9)), 9, tool).is_err());
            }
        }
    }

    #[test]
    fn the_arping_worker_is_never_handed_the_packet_socket() {
        use crate::tools::{ARP, BROKER_CHANNEL};
        for names in [&[&ARP][..], &[&ARP, &BROKER_CHANNEL]] {
            assert!(decode(lookup(&encode(names, 9)), 9, &ARPING).is_err());
        }
        // The broker must get its channel too.
        assert!(decode_broker(lookup(&encode(&[&ARP], 9)), 9, &ARPING).is_err());
    }

    #[test]
    fn encode_uses_systemd_names() {
        let vars = encode(&[&ICMP4, &ICMP6], 7);
        assert_eq!(vars[0], ("LISTEN_FDS", "2".to_string()));
        assert_eq!(vars[1], ("LISTEN_PID", "7".to_string()));
        assert_eq!(vars[2], ("LISTEN_FDNAMES", "icmp4:icmp6".to_string()));
    }

    #[test]
    fn refuses_missing_or_forged_handoffs() {
        let good = encode(&[&ICMP4], 10);
        assert!(decode(lookup(&good), 11, &PING).is_err(), "another pid");
        assert!(
            decode(lookup(&good[..2]), 10, &PING).is_err(),
            "names missing"
        );
        assert!(decode(lookup(&[]), 10, &PING).is_err(), "nothing set");
        for (fds, names) in [
            ("0", ""),
            ("3", "icmp4:icmp6:icmp4"),
            ("+1", "icmp4"),
            ("2", "icmp4"),
            ("1", "icmp4:icmp6"),
            ("2", "icmp4:icmp4"),
            ("2", "icmp6:icmp4"),
            ("1", "tcp"),
            ("1", "arp"),
            ("1", ""),
            ("-1", "icmp4"),
            ("99999999999999999999", "icmp4"),
        ] {
            let vars = [
                (VAR_FDS, fds.to_string()),
                (VAR_PID, "10".to_string()),
                (VAR_NAMES, names.to_string()),
            ];
            assert!(decode(lookup(&vars), 10, &PING).is_err(), "{fds} {names}");
        }
    }

    #[test]
    fn a_socket_of_another_tool_or_a_missing_required_one_is_refused() {
        // ping's names mean nothing to arping, and clockdiff needs its icmp4.
        let ping_vars = encode(&[&ICMP4], 10);
        assert!(decode(lookup(&ping_vars), 10, &ARPING).is_err());
        let vars = [
            (VAR_FDS, "1".to_string()),
            (VAR_PID, "10".to_string()),
            (VAR_NAMES, "icmp6".to_string()),
        ];
        assert!(decode(lookup(&vars), 10, &CLOCKDIFF).is_err());
        assert!(decode(lookup(&ping_vars), 10, &CLOCKDIFF).is_ok());
    }

    #[test]
    fn validate_refuses_what_is_not_the_named_socket() {
        use std::os::fd::AsRawFd;
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let fd = udp.as_raw_fd();
        let handed = |fd, spec| HandedSocket {
            fd,
            spec,
            kind: None,
        };
        let err = validate(&mut [handed(fd, &ICMP4)]).unwrap_err();
        assert!(matches!(err, PolicyError::BadSocket { .. }), "{err}");
        let file = std::fs::File::open("/dev/null").unwrap();
        assert!(validate(&mut [handed(file.as_raw_fd(), &ICMP6)]).is_err());
        assert!(validate(&mut [handed(999_999, &ICMP4)]).is_err());
        // A UDP socket has the datagram type of ping's first kind, but not
        // its protocol: the type alone admits nothing.
        let mut udp_as_icmp = [handed(fd, &ICMP4)];
        assert!(validate(&mut udp_as_icmp).is_err());
        assert_eq!(udp_as_icmp[0].kind, None);
    }

    #[test]
    fn environment_is_rebuilt_from_the_allowlist() {
        let input: Vec<(OsString, OsString)> = [
            ("LD_PRELOAD", "/tmp/evil.so"),
            ("LD_LIBRARY_PATH", "/tmp"),
            ("GCONV_PATH", "/tmp"),
            ("MALLOC_CHECK_", "3"),
            ("LOCPATH", "/tmp"),
            ("PATH", "/usr/bin"),
            ("LISTEN_FDS", "9"),
            ("LANG", "C.UTF-8"),
            ("LC_ALL", "../../tmp/x"),
            ("LC_CTYPE", "/tmp/locale"),
            ("TZ", "Europe/Berlin"),
            ("TERM", "xterm"),
        ]
        .iter()
        .map(|(k, v)| (OsString::from(k), OsString::from(v)))
        .collect();
        let env = rebuild_env(input, &[&ICMP4], &[], 5);
        let names: Vec<_> = env
            .iter()
            .map(|(k, v)| format!("{}={}", k.to_string_lossy(), v.to_string_lossy()))
            .collect();
        assert_eq!(
            names,
            [
                "LANG=C.UTF-8",
                "TZ=Europe/Berlin",
                "TERM=xterm",
                "LISTEN_FDS=1",
                "LISTEN_PID=5",
                "LISTEN_FDNAMES=icmp4"
            ]
        );
        assert!(!env_allowed(OsStr::new("TZ"), OsStr::new(":/etc/shadow")));
        assert!(!env_allowed(
            OsStr::new("TERM"),
            OsStr::new(&"x".repeat(ENV_MAX_VALUE + 1))
        ));
    }

    /// The names glibc, its dynamic loader, malloc, iconv, the locale and
    /// message-catalogue code and the resolver read (glibc's own list of
    /// "unsecure" variables and more), written out here rather than taken
    /// from the allowlist: whatever the allowlist becomes, none passes.
    const DANGEROUS: &[&str] = &[
        "LD_PRELOAD",
        "LD_LIBRARY_PATH",
        "LD_AUDIT",
        "LD_DEBUG",
        "LD_DEBUG_OUTPUT",
        "LD_PROFILE",
        "LD_BIND_NOW",
        "LD_ORIGIN_PATH",
        "LD_SHOW_AUXV",
        "LD_DYNAMIC_WEAK",
        "MALLOC_CHECK_",
        "MALLOC_PERTURB_",
        "MALLOC_ARENA_MAX",
        "MALLOC_TRACE",
        "MALLOC_TOP_PAD_",
        "GLIBC_TUNABLES",
        "GCONV_PATH",
        "LOCPATH",
        "NLSPATH",
        "HOSTALIASES",
        "RES_OPTIONS",
        "LOCALDOMAIN",
        "TMPDIR",
        "TZDIR",
        "PATH",
        "IFS",
        "ENV",
        "BASH_ENV",
        "RUST_BACKTRACE",
        "RUST_LOG",
        "LISTEN_FDS",
        "LISTEN_PID",
        "LISTEN_FDNAMES",
    ];

    /// The families, by prefix: any name in them is refused.
    const DANGEROUS_PREFIXES: &[&str] = &["LD_", "MALLOC_", "GLIBC_", "GCONV_", "RES_", "LISTEN_"];

    #[test]
    fn no_dangerous_name_passes_whatever_its_value() {
        for name in DANGEROUS {
            for value in ["", "1", "C", "/tmp/x", "debug"] {
                assert!(
                    !env_allowed(OsStr::new(name), OsStr::new(value)),
                    "{name}={value} passes the filter"
                );
            }
        }
        for name in ENV_ALLOWLIST {
            for prefix in DANGEROUS_PREFIXES {
                assert!(
                    !name.starts_with(prefix),
                    "{name} is allowlisted, but the {prefix}* family reaches glibc or the handoff"
                );
            }
        }
        // What does pass, also written out: adding a name to the allowlist
        // is a decision this test makes visible.
        assert_eq!(
            ENV_ALLOWLIST,
            [
                "LANG",
                "LANGUAGE",
                "LC_ALL",
                "LC_CTYPE",
                "LC_MESSAGES",
                "LC_NUMERIC",
                "LC_TIME",
                "TZ",
                "TERM",
                "COLUMNS",
                "LINES",
                "NO_COLOR",
                "IPUTILS_PING_PTR_LOOKUP",
                "POSIXLY_CORRECT",
            ]
        );
    }
}
