//! The resolver co-process: reverse names for addresses that are only
//! known once packets arrive (a reply or an ICMP error from a router),
//! which the locked-down worker cannot look up itself (it can open no
//! socket and read no file).
//!
//! Before lock-down the worker forks a child connected by a
//! `SOCK_SEQPACKET` socketpair. The child closes every other descriptor
//! (the raw sockets first of all), ignores the terminal's SIGINT and
//! SIGQUIT (meant for the worker), asks for SIGKILL when the worker dies,
//! sets `RLIMIT_NPROC`/`FSIZE`/`CORE` to 0 and locks itself into a
//! Landlock domain that can read files (the NSS configuration, hosts
//! files, NSS modules) but write, create or execute none, bind no TCP
//! port and connect by TCP to port 53 only (DNS over TCP). It then answers
//! one query at a time with `getnameinfo` (the name in Unicode under a
//! UTF-8 locale, as iputils' `NI_IDN`: [`crate::ping::idn`]). It holds
//! nothing the user does not already have: no raw socket, no capability,
//! not dumpable either.
//!
//! The worker's side is two calls its seccomp profile already allows on a
//! handed-over descriptor (the channel is passed to `lock_down` with the
//! sockets): `sendto` for a query, `recvmsg` for the answer, with `ppoll`
//! in between so that SIGINT still ends the wait (upstream longjmps out of
//! `getnameinfo` then). Each query carries a number and a late answer to
//! an abandoned query is discarded.

#![forbid(unsafe_code)]

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::time::Duration;

use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};

use crate::ping::idn;
use crate::sys::{self, WaitMask};
use crate::WorkerError;

/// The worker's end.
pub struct Resolver {
    fd: OwnedFd,
    next: u32,
}

/// query: number (4), family (1: 4 or 6), address (16), scope id (4).
const QUERY_LEN: usize = 25;

fn encode(n: u32, addr: &SocketAddr) -> [u8; QUERY_LEN] {
    let mut q = [0u8; QUERY_LEN];
    q[..4].copy_from_slice(&n.to_ne_bytes());
    match addr {
        SocketAddr::V4(a) => {
            q[4] = 4;
            q[5..9].copy_from_slice(&a.ip().octets());
        }
        SocketAddr::V6(a) => {
            q[4] = 6;
            q[5..21].copy_from_slice(&a.ip().octets());
            q[21..25].copy_from_slice(&a.scope_id().to_ne_bytes());
        }
    }
    q
}

fn decode(q: &[u8]) -> Option<(u32, SocketAddr)> {
    if q.len() != QUERY_LEN {
        return None;
    }
    let n = u32::from_ne_bytes(q[..4].try_into().ok()?);
    let addr = match q[4] {
        4 => SocketAddr::new(
            IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(&q[5..9]).ok()?)),
            0,
        ),
        6 => SocketAddr::V6(SocketAddrV6::new(
            Ipv6Addr::from(<[u8; 16]>::try_from(&q[5..21]).ok()?),
            0,
            0,
            u32::from_ne_bytes(q[21..25].try_into().ok()?),
        )),
        _ => return None,
    };
    Some((n, addr))
}

impl Resolver {
    /// Forks the co-process. Call before lock-down, before the signal
    /// handlers are installed, with `keep` the worker's own descriptors
    /// (closed in the child).
    pub fn spawn() -> io::Result<Resolver> {
        let (ours, theirs) = socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )?;
        sys::spawn(theirs, child)?;
        Ok(Resolver { fd: ours, next: 0 })
    }

    /// The channel's descriptor (for `lock_down`).
    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// The reverse name of `addr`, or `None` (no name, the co-process is
    /// gone, or a signal interrupted the wait).
    pub fn lookup(&mut self, addr: &SocketAddr, mask: &WaitMask) -> Option<String> {
        self.next = self.next.wrapping_add(1);
        let n = self.next;
        sys::send(self.fd(), &encode(n, addr)).ok()?;
        let mut buf = [0u8; 4 + 1025];
        loop {
            let ready = sys::ppoll(self.fd(), Duration::from_secs(3600), mask).ok()?;
            if sys::interrupted() {
                return None;
            }
            if !(ready.readable || ready.error) {
                continue;
            }
            let got = sys::recvmsg(self.fd(), &mut buf, &mut [], libc::MSG_DONTWAIT).ok()?;
            if got.len == 0 {
                return None; // the co-process is gone
            }
            if got.len < 4 || u32::from_ne_bytes(buf[..4].try_into().ok()?) != n {
                continue; // the answer to an abandoned query
            }
            let name = String::from_utf8_lossy(&buf[4..got.len]).into_owned();
            return (!name.is_empty()).then_some(name);
        }
    }
}

/// The co-process (holding the channel only): sandbox itself, then answer
/// until the worker is gone.
fn child(chan: io::Result<OwnedFd>) -> i32 {
    let Ok(chan) = chan else { return 1 };
    let fd = chan.as_raw_fd();
    if confine().is_err() {
        return 1;
    }
    // Names print in Unicode under a UTF-8 locale (iputils' `NI_IDN`).
    let utf8 = idn::utf8_locale();
    let mut q = [0u8; QUERY_LEN + 1];
    loop {
        let got = match sys::recvmsg(fd, &mut q, &mut [], 0) {
            Ok(r) if r.len > 0 => r,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            _ => return 0,
        };
        let Some((n, addr)) = decode(&q[..got.len]) else {
            continue;
        };
        let name = idn::reverse_name(&addr, utf8).unwrap_or_default();
        let mut answer = Vec::with_capacity(4 + name.len());
        answer.extend_from_slice(&n.to_ne_bytes());
        answer.extend_from_slice(&name.as_bytes()[..name.len().min(1025)]);
        if sys::send(fd, &answer).is_err() {
            return 0;
        }
    }
}

/// The co-process's own sandbox (see the module documentation).
fn confine() -> Result<(), WorkerError> {
    use landlock::{
        Access, AccessFs, AccessNet, NetPort, PathBeneath, PathFd, Ruleset, RulesetAttr,
        RulesetCreatedAttr, ABI,
    };
    sys::ignore_terminal_signals();
    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
        .map_err(|e| WorkerError::os("prctl(PR_SET_PDEATHSIG)", e))?;
    if nix::unistd::getppid() == nix::unistd::Pid::from_raw(1) {
        return Err(WorkerError::fatal("the worker is gone"));
    }
    sys::set_no_new_privs().map_err(|e| WorkerError::os("prctl(PR_SET_NO_NEW_PRIVS)", e))?;
    for res in [
        nix::sys::resource::Resource::RLIMIT_NPROC,
        nix::sys::resource::Resource::RLIMIT_FSIZE,
        nix::sys::resource::Resource::RLIMIT_CORE,
    ] {
        nix::sys::resource::setrlimit(res, 0, 0).map_err(|e| WorkerError::os("setrlimit", e))?;
    }
    let abi = ABI::V4;
    let read = AccessFs::ReadFile | AccessFs::ReadDir;
    let root = PathFd::new("/").map_err(|e| WorkerError::fatal(e.to_string()))?;
    Ruleset::default()
        .handle_access(AccessFs::from_all(abi))
        .and_then(|r| r.handle_access(AccessNet::from_all(abi)))
        .and_then(|r| r.create())
        .and_then(|r| r.add_rule(PathBeneath::new(root, read)))
        .and_then(|r| r.add_rule(NetPort::new(53, AccessNet::ConnectTcp)))
        .and_then(|r| r.restrict_self())
        .map_err(|e| WorkerError::fatal(e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_round_trip() {
        for a in [
            "198.18.0.2:0".parse::<SocketAddr>().unwrap(),
            SocketAddr::V6(SocketAddrV6::new("fe80::1".parse().unwrap(), 0, 0, 7)),
        ] {
            assert_eq!(decode(&encode(9, &a)), Some((9, a)));
        }
        assert_eq!(decode(&[0; 3]), None);
        let mut bad = encode(1, &"127.0.0.1:0".parse().unwrap());
        bad[4] = 5;
        assert_eq!(decode(&bad), None);
    }
}
