//! The launcher → worker handoff protocol.
//!
//! systemd's socket-activation convention, so existing tooling understands
//! it: the raw sockets sit at fds 3, 4, …; `LISTEN_FDS=<n>`,
//! `LISTEN_PID=<pid>` (the same pid after exec) and `LISTEN_FDNAMES` naming
//! each one (`icmp4`, `icmp6`; only the ones that were opened). The launcher
//! [`encode`]s, the worker [`decode`]s and [`validate`]s: one implementation
//! on both sides. The environment is rebuilt from an allowlist
//! ([`rebuild_env`]) because the worker holds a raw socket: nothing like
//! `LD_PRELOAD` may ever reach it.

#![forbid(unsafe_code)]

use std::ffi::{OsStr, OsString};
use std::os::fd::RawFd;
use std::os::unix::ffi::OsStrExt;

use crate::{sys, PolicyError};

/// The first handed-over descriptor (systemd's `SD_LISTEN_FDS_START`).
pub const FIRST_FD: RawFd = 3;
/// Variable carrying the number of handed-over descriptors.
pub const VAR_FDS: &str = "LISTEN_FDS";
/// Variable carrying the pid the descriptors are meant for.
pub const VAR_PID: &str = "LISTEN_PID";
/// Variable carrying the colon-separated names of the descriptors.
pub const VAR_NAMES: &str = "LISTEN_FDNAMES";

/// The kinds of socket the launcher may hand over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SocketKind {
    /// `socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)`
    Icmp4,
    /// `socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6)`
    Icmp6,
}

impl SocketKind {
    /// Both kinds, in the order the launcher opens them.
    pub const ALL: [SocketKind; 2] = [SocketKind::Icmp4, SocketKind::Icmp6];

    /// The name used in `LISTEN_FDNAMES`.
    pub fn name(self) -> &'static str {
        match self {
            SocketKind::Icmp4 => "icmp4",
            SocketKind::Icmp6 => "icmp6",
        }
    }

    /// Inverse of [`SocketKind::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Address family for `socket()`.
    pub fn domain(self) -> libc::c_int {
        match self {
            SocketKind::Icmp4 => libc::AF_INET,
            SocketKind::Icmp6 => libc::AF_INET6,
        }
    }

    /// Protocol for `socket()`.
    pub fn protocol(self) -> libc::c_int {
        match self {
            SocketKind::Icmp4 => libc::IPPROTO_ICMP,
            SocketKind::Icmp6 => libc::IPPROTO_ICMPV6,
        }
    }
}

/// One descriptor the worker received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandedSocket {
    /// Where it sits.
    pub fd: RawFd,
    /// What it claims to be (checked by [`validate`]).
    pub kind: SocketKind,
}

/// The three variables the launcher sets for `opened` (in fd order, starting
/// at [`FIRST_FD`]) and its own pid, which the worker keeps across exec.
pub fn encode(opened: &[SocketKind], pid: u32) -> [(&'static str, String); 3] {
    let names: Vec<&str> = opened.iter().map(|k| k.name()).collect();
    [
        (VAR_FDS, opened.len().to_string()),
        (VAR_PID, pid.to_string()),
        (VAR_NAMES, names.join(":")),
    ]
}

fn no_handoff(reason: impl Into<String>) -> PolicyError {
    PolicyError::NoHandoff {
        reason: reason.into(),
    }
}

/// Parses the three variables (as looked up by `var`) into the list of
/// handed-over sockets. Pure: it checks the protocol, not the descriptors.
pub fn decode(
    var: impl Fn(&str) -> Option<String>,
    own_pid: u32,
) -> Result<Vec<HandedSocket>, PolicyError> {
    let fds = var(VAR_FDS).ok_or_else(|| no_handoff(format!("{VAR_FDS} is not set")))?;
    let pid = var(VAR_PID).ok_or_else(|| no_handoff(format!("{VAR_PID} is not set")))?;
    let names = var(VAR_NAMES).ok_or_else(|| no_handoff(format!("{VAR_NAMES} is not set")))?;

    let count: usize = match fds.parse() {
        Ok(n @ 1..=2) if !fds.starts_with('+') => n,
        _ => return Err(no_handoff(format!("{VAR_FDS}={fds:?} is not 1 or 2"))),
    };
    if pid.parse::<u32>().ok() != Some(own_pid) || pid.starts_with('+') {
        return Err(no_handoff(format!(
            "{VAR_PID}={pid:?} is not this process ({own_pid})"
        )));
    }
    let kinds: Vec<SocketKind> = names
        .split(':')
        .map(|n| {
            SocketKind::from_name(n).ok_or_else(|| no_handoff(format!("unknown socket name {n:?}")))
        })
        .collect::<Result<_, _>>()?;
    if kinds.len() != count {
        return Err(no_handoff(format!(
            "{VAR_FDNAMES} names {} sockets but {VAR_FDS}={count}",
            kinds.len(),
            VAR_FDNAMES = VAR_NAMES
        )));
    }
    if count == 2 && kinds[0] == kinds[1] {
        return Err(no_handoff(format!(
            "{VAR_NAMES} names {:?} twice",
            kinds[0].name()
        )));
    }
    Ok(kinds
        .into_iter()
        .enumerate()
        .map(|(i, kind)| HandedSocket {
            fd: FIRST_FD + i as RawFd,
            kind,
        })
        .collect())
}

/// Checks that every descriptor is the raw socket its name promises
/// (`SO_DOMAIN`, `SO_TYPE`, `SO_PROTOCOL`) and marks it close-on-exec.
pub fn validate(sockets: &[HandedSocket]) -> Result<(), PolicyError> {
    for s in sockets {
        let bad = |reason: String| PolicyError::BadSocket {
            fd: s.fd,
            name: s.kind.name(),
            reason,
        };
        let get = |opt, what: &str| {
            sys::getsockopt_int(s.fd, libc::SOL_SOCKET, opt)
                .map_err(|e| bad(format!("{what}: {e}")))
        };
        let domain = get(libc::SO_DOMAIN, "SO_DOMAIN")?;
        let ty = get(libc::SO_TYPE, "SO_TYPE")?;
        let proto = get(libc::SO_PROTOCOL, "SO_PROTOCOL")?;
        if domain != s.kind.domain() || ty != libc::SOCK_RAW || proto != s.kind.protocol() {
            return Err(bad(format!("domain {domain}, type {ty}, protocol {proto}")));
        }
        sys::set_cloexec(s.fd).map_err(|e| bad(format!("FD_CLOEXEC: {e}")))?;
    }
    Ok(())
}

/// Takes the handoff from this process's environment: decodes, removes the
/// three variables (so nothing the worker might start sees them), validates.
pub fn take_from_env() -> Result<Vec<HandedSocket>, PolicyError> {
    let decoded = decode(|name| std::env::var(name).ok(), sys::getpid());
    for name in [VAR_FDS, VAR_PID, VAR_NAMES] {
        std::env::remove_var(name);
    }
    let sockets = decoded?;
    validate(&sockets)?;
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
];

/// Longest value the launcher passes on.
pub const ENV_MAX_VALUE: usize = 256;

/// Whether `name=value` may reach the worker: the name is allowlisted and the
/// value cannot point glibc at a file of the caller's choosing.
pub fn env_allowed(name: &OsStr, value: &OsStr) -> bool {
    let Some(name) = name.to_str() else {
        return false;
    };
    if !ENV_ALLOWLIST.contains(&name) {
        return false;
    }
    let v = value.as_bytes();
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
/// variables (which always win over anything of the same name).
pub fn rebuild_env(
    vars: impl IntoIterator<Item = (OsString, OsString)>,
    opened: &[SocketKind],
    pid: u32,
) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = vars
        .into_iter()
        .filter(|(n, v)| env_allowed(n, v))
        .collect();
    for (name, value) in encode(opened, pid) {
        env.push((name.into(), value.into()));
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(vars: &[(&'static str, String)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn round_trip_both_and_each() {
        for opened in [
            &[SocketKind::Icmp4, SocketKind::Icmp6][..],
            &[SocketKind::Icmp4],
            &[SocketKind::Icmp6],
        ] {
            let vars = encode(opened, 4242);
            let got = decode(lookup(&vars), 4242).unwrap();
            assert_eq!(got.len(), opened.len());
            for (i, (s, k)) in got.iter().zip(opened).enumerate() {
                assert_eq!(s.fd, FIRST_FD + i as RawFd);
                assert_eq!(s.kind, *k);
            }
        }
    }

    #[test]
    fn encode_uses_systemd_names() {
        let vars = encode(&[SocketKind::Icmp4, SocketKind::Icmp6], 7);
        assert_eq!(vars[0], ("LISTEN_FDS", "2".to_string()));
        assert_eq!(vars[1], ("LISTEN_PID", "7".to_string()));
        assert_eq!(vars[2], ("LISTEN_FDNAMES", "icmp4:icmp6".to_string()));
    }

    #[test]
    fn refuses_missing_or_forged_handoffs() {
        let good = encode(&[SocketKind::Icmp4], 10);
        assert!(decode(lookup(&good), 11).is_err(), "another pid");
        assert!(decode(lookup(&good[..2]), 10).is_err(), "names missing");
        assert!(decode(lookup(&[]), 10).is_err(), "nothing set");
        for (fds, names) in [
            ("0", ""),
            ("3", "icmp4:icmp6:icmp4"),
            ("+1", "icmp4"),
            ("2", "icmp4"),
            ("1", "icmp4:icmp6"),
            ("2", "icmp4:icmp4"),
            ("1", "tcp"),
            ("1", ""),
            ("-1", "icmp4"),
            ("99999999999999999999", "icmp4"),
        ] {
            let vars = [
                (VAR_FDS, fds.to_string()),
                (VAR_PID, "10".to_string()),
                (VAR_NAMES, names.to_string()),
            ];
            assert!(decode(lookup(&vars), 10).is_err(), "{fds} {names}");
        }
    }

    #[test]
    fn validate_refuses_what_is_not_a_raw_icmp_socket() {
        use std::os::fd::AsRawFd;
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let fd = udp.as_raw_fd();
        let err = validate(&[HandedSocket {
            fd,
            kind: SocketKind::Icmp4,
        }])
        .unwrap_err();
        assert!(matches!(err, PolicyError::BadSocket { .. }), "{err}");
        let file = std::fs::File::open("/dev/null").unwrap();
        assert!(validate(&[HandedSocket {
            fd: file.as_raw_fd(),
            kind: SocketKind::Icmp6
        }])
        .is_err());
        assert!(validate(&[HandedSocket {
            fd: 999_999,
            kind: SocketKind::Icmp4
        }])
        .is_err());
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
        let env = rebuild_env(input, &[SocketKind::Icmp4], 5);
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
}
