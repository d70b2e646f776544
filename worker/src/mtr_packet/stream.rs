//! TCP and SCTP probes: a connection attempt per probe, on a socket of its
//! own. The worker, which parses what the network sends, never holds such
//! a socket and cannot create one (`socket` is not in its allowlist). Its
//! **broker**, `privsep-mtr-packet-broker`, does: a program of its own,
//! started by the launcher after its drop with one end of the channel (the
//! worker gets the other), locked down before it reads a byte and confined
//! by a policy domain of its own. For each request it validates, it opens
//! a non-blocking socket, sets the probe's TTL and TOS, binds the probe's
//! local port (its sequence number), starts the connection, and later
//! reports how the attempt ended (`SO_ERROR`) and closes the socket. It
//! never sends or receives a byte on those sockets: its allowlist
//! (`policy::sandbox::profile::MTR_PACKET_BROKER`) has `sendmsg`/`recvmsg`
//! on its channel only, and it parses nothing but the worker's fixed-size
//! requests. A compromised worker can therefore ask for connection
//! attempts (which is what `protocol tcp` is), never hold a connection.
//!
//! The channel is a `SOCK_SEQPACKET` socket pair. A request is
//! [`REQUEST_LEN`] bytes, an answer [`ANSWER_LEN`]; an answer is
//! `Started` (the immediate result of a request: 0 or the errno) or `Done`
//! (the end of an attempt: 0 for connected or refused, else the errno).
//! What the broker refuses, and how: [`Request::decode`] (a message no
//! correct worker sends: the broker ends) and [`Request::check`] (values a
//! user may ask for and the kernel would refuse: the same errno, without
//! a socket).

#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::io;
use std::io::IoSlice;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use nix::sys::socket::{sendmsg, MsgFlags, SockaddrStorage};

use crate::sys;

pub const REQUEST_LEN: usize = 56;
pub const ANSWER_LEN: usize = 9;
/// Descriptors the broker may hold: one per outstanding probe at most,
/// and a few of its own.
const BROKER_NOFILE: u64 = super::engine::MAX_PROBES as u64 + 16;

/// Sends on the channel never raise SIGPIPE: a side whose peer has gone
/// gets `EPIPE` and ends in order (the worker reports the broker's loss
/// as an error line instead of dying of the signal).
const NO_SIGNAL: MsgFlags = MsgFlags::MSG_NOSIGNAL;

const OP_OPEN: u8 = 1;
const OP_ABANDON: u8 = 2;
const OP_SCTP: u8 = 3;
const STARTED: u8 = 1;
const DONE: u8 = 2;

/// A request from the worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Open {
        handle: u32,
        /// `IPPROTO_TCP` or `IPPROTO_SCTP`.
        protocol: u8,
        src: SocketAddr,
        dst: SocketAddr,
        ttl: i32,
        tos: i32,
        mark: i32,
    },
    Abandon {
        handle: u32,
    },
    /// Upstream's SCTP check: can an SCTP socket be made. The answer is
    /// `Started` with 0 or `socket()`'s errno; the worker asks once, at
    /// start, which also tells it the broker is there.
    SctpSupport {
        handle: u32,
    },
}

fn addr_bytes(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
        IpAddr::V6(a) => a.octets(),
    }
}

fn addr_from(b: &[u8], v6: bool) -> Option<IpAddr> {
    let a = Ipv6Addr::from(<[u8; 16]>::try_from(b).ok()?);
    if v6 {
        a.to_ipv4_mapped().is_none().then_some(IpAddr::V6(a))
    } else {
        a.to_ipv4_mapped().map(IpAddr::V4)
    }
}

impl Request {
    pub fn encode(&self) -> [u8; REQUEST_LEN] {
        let mut b = [0u8; REQUEST_LEN];
        match self {
            Request::Abandon { handle } => {
                b[0] = OP_ABANDON;
                b[1..5].copy_from_slice(&handle.to_be_bytes());
            }
            Request::SctpSupport { handle } => {
                b[0] = OP_SCTP;
                b[1..5].copy_from_slice(&handle.to_be_bytes());
            }
            Request::Open {
                handle,
                protocol,
                src,
                dst,
                ttl,
                tos,
                mark,
            } => {
                b[0] = OP_OPEN;
                b[1..5].copy_from_slice(&handle.to_be_bytes());
                b[5] = u8::from(dst.is_ipv6());
                b[6] = *protocol;
                b[7..23].copy_from_slice(&addr_bytes(src.ip()));
                b[23..25].copy_from_slice(&src.port().to_be_bytes());
                b[25..41].copy_from_slice(&addr_bytes(dst.ip()));
                b[41..43].copy_from_slice(&dst.port().to_be_bytes());
                b[43..47].copy_from_slice(&ttl.to_be_bytes());
                b[47..51].copy_from_slice(&tos.to_be_bytes());
                b[51..55].copy_from_slice(&mark.to_be_bytes());
            }
        }
        b
    }

    /// The broker's check of what the worker sent: exact length, a known
    /// operation, TCP or SCTP, addresses of one family (no IPv4-mapped
    /// address in an IPv6 request: that socket would speak IPv4), a local
    /// port the worker's sequence numbers use (never one that needs
    /// privilege, never a service's below 33000), unused bytes zero.
    /// `None`: no correct worker sends it.
    pub fn decode(b: &[u8]) -> Option<Request> {
        if b.len() != REQUEST_LEN {
            return None;
        }
        let handle = u32::from_be_bytes(b[1..5].try_into().ok()?);
        let int = |i: usize| i32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let zero_from = |i: usize| b[i..].iter().all(|&x| x == 0);
        match b[0] {
            OP_ABANDON if zero_from(5) => Some(Request::Abandon { handle }),
            OP_SCTP if zero_from(5) => Some(Request::SctpSupport { handle }),
            OP_OPEN if zero_from(55) => {
                let v6 = match b[5] {
                    0 => false,
                    1 => true,
                    _ => return None,
                };
                let protocol = b[6];
                if !matches!(i32::from(protocol), libc::IPPROTO_TCP | libc::IPPROTO_SCTP) {
                    return None;
                }
                let src_port = u16::from_be_bytes([b[23], b[24]]);
                if u32::from(src_port) < super::engine::MIN_SEQUENCE {
                    return None;
                }
                let src = SocketAddr::new(addr_from(&b[7..23], v6)?, src_port);
                let dst = SocketAddr::new(
                    addr_from(&b[25..41], v6)?,
                    u16::from_be_bytes([b[41], b[42]]),
                );
                Some(Request::Open {
                    handle,
                    protocol,
                    src,
                    dst,
                    ttl: int(43),
                    tos: int(47),
                    mark: int(51),
                })
            }
            _ => None,
        }
    }
}

impl Request {
    /// The broker's check of an `Open`'s values, which a correct worker
    /// passes on from the user's request as they are: `Err` is the errno
    /// the kernel gives for the same values (so replies stay upstream's),
    /// found without opening a socket. A TTL/hop limit the kernel takes
    /// (IPv4 -1 or 1-255, IPv6 -1-255); an IPv6 traffic class of -1-255
    /// (an IPv4 TOS is a byte whatever the int: the kernel keeps the low
    /// byte, and so does the broker); no mark (`SO_MARK` needs a
    /// capability no broker has: `EPERM`); no multicast or broadcast
    /// destination (`ENETUNREACH`, as `connect` says) or local address
    /// (`EADDRNOTAVAIL`, as `bind` says).
    pub fn check(&self) -> Result<(), i32> {
        let Request::Open {
            src,
            dst,
            ttl,
            tos,
            mark,
            ..
        } = self
        else {
            return Ok(());
        };
        let v6 = dst.is_ipv6();
        let ttl_ok = if v6 {
            (-1..=255).contains(ttl)
        } else {
            *ttl == -1 || (1..=255).contains(ttl)
        };
        if !ttl_ok || (v6 && !(-1..=255).contains(tos)) {
            return Err(libc::EINVAL);
        }
        if *mark != 0 {
            return Err(libc::EPERM);
        }
        let group = |ip: IpAddr| match ip {
            IpAddr::V4(a) => a.is_multicast() || a.is_broadcast(),
            IpAddr::V6(a) => a.is_multicast(),
        };
        if group(dst.ip()) {
            return Err(libc::ENETUNREACH);
        }
        if group(src.ip()) {
            return Err(libc::EADDRNOTAVAIL);
        }
        Ok(())
    }
}

/// An answer from the broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// The request's immediate outcome: 0 (the attempt is under way), or
    /// the errno of the step that failed (`ECONNREFUSED`: refused at once).
    Started { handle: u32, errno: i32 },
    /// The attempt ended: 0 for connected or refused, else the errno.
    Done { handle: u32, errno: i32 },
}

impl Answer {
    pub fn encode(&self) -> [u8; ANSWER_LEN] {
        let (kind, handle, errno) = match *self {
            Answer::Started { handle, errno } => (STARTED, handle, errno),
            Answer::Done { handle, errno } => (DONE, handle, errno),
        };
        let mut b = [0u8; ANSWER_LEN];
        b[0] = kind;
        b[1..5].copy_from_slice(&handle.to_be_bytes());
        b[5..9].copy_from_slice(&errno.to_be_bytes());
        b
    }

    pub fn decode(b: &[u8]) -> Option<Answer> {
        if b.len() != ANSWER_LEN {
            return None;
        }
        let handle = u32::from_be_bytes(b[1..5].try_into().ok()?);
        let errno = i32::from_be_bytes(b[5..9].try_into().ok()?);
        match b[0] {
            STARTED => Some(Answer::Started { handle, errno }),
            DONE => Some(Answer::Done { handle, errno }),
            _ => None,
        }
    }
}

fn errno_of(e: &io::Error) -> i32 {
    e.raw_os_error().unwrap_or(libc::EIO)
}

/// Upstream's `open_stream_socket` and `set_stream_socket_options`, in its
/// order: the socket, `SO_REUSEPORT`, `SO_REUSEADDR`, TTL, TOS, the mark,
/// bind to the probe's port, connect. `Ok` holds the socket of an attempt
/// under way; `Err` the errno (`ECONNREFUSED` included).
fn open_probe(
    protocol: u8,
    src: SocketAddr,
    dst: SocketAddr,
    ttl: i32,
    tos: i32,
) -> Result<OwnedFd, i32> {
    let (domain, level, ttl_opt, tos_opt) = if dst.is_ipv6() {
        (
            libc::AF_INET6,
            libc::IPPROTO_IPV6,
            libc::IPV6_UNICAST_HOPS,
            libc::IPV6_TCLASS,
        )
    } else {
        (libc::AF_INET, libc::IPPROTO_IP, libc::IP_TTL, libc::IP_TOS)
    };
    let ty = libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    let fd = sys::socket(domain, ty, i32::from(protocol)).map_err(|e| errno_of(&e))?;
    let raw = fd.as_raw_fd();
    let set =
        |level, name, value| sys::setsockopt_int(raw, level, name, value).map_err(|e| errno_of(&e));
    set(libc::SOL_SOCKET, libc::SO_REUSEPORT, 1)?;
    set(libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
    set(level, ttl_opt, ttl)?;
    // IPv4: the kernel keeps the low byte of any int; IPv6: checked.
    set(level, tos_opt, if dst.is_ipv6() { tos } else { tos & 0xff })?;
    nix::sys::socket::bind(raw, &SockaddrStorage::from(src)).map_err(|e| e as i32)?;
    match nix::sys::socket::connect(raw, &SockaddrStorage::from(dst)) {
        Ok(()) | Err(nix::errno::Errno::EINPROGRESS) => Ok(fd),
        Err(e) => Err(e as i32),
    }
}

/// The broker's life after its lock-down ([`lock_down`]): serve requests
/// on `chan` until the worker's end closes (0), or until a message no
/// correct worker sends (3). Each `Open` is checked ([`Request::check`])
/// before any socket exists.
pub fn serve(chan: RawFd) -> i32 {
    // A BTreeMap: a HashMap would seed itself with getrandom.
    let mut attempts: BTreeMap<u32, OwnedFd> = BTreeMap::new();
    let mut buf = [0u8; REQUEST_LEN + 1];
    let answer = |a: Answer| {
        let bytes = a.encode();
        sendmsg::<()>(chan, &[IoSlice::new(&bytes)], &[], NO_SIGNAL, None).is_ok()
    };
    loop {
        let mut fds: Vec<(RawFd, libc::c_short)> = vec![(chan, libc::POLLIN)];
        let handles: Vec<u32> = attempts.keys().copied().collect();
        fds.extend(
            handles
                .iter()
                .map(|h| (attempts[h].as_raw_fd(), libc::POLLOUT)),
        );
        let Ok(ready) = sys::poll_many(&fds, None) else {
            return 1;
        };
        for (i, h) in handles.iter().enumerate() {
            if ready[i + 1] & (libc::POLLOUT | libc::POLLERR | libc::POLLHUP) != 0 {
                if let Some(fd) = attempts.remove(h) {
                    let err = sys::getsockopt_int(fd.as_raw_fd(), libc::SOL_SOCKET, libc::SO_ERROR)
                        .unwrap_or(libc::EIO);
                    let errno = if err == libc::ECONNREFUSED { 0 } else { err };
                    if !answer(Answer::Done { handle: *h, errno }) {
                        return 0;
                    }
                }
            }
        }
        if ready[0] & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) == 0 {
            continue;
        }
        let got = match sys::recvmsg(chan, &mut buf, &mut [], 0) {
            Ok(g) if g.len == 0 && !g.truncated => return 0,
            Ok(g) => g,
            Err(_) => return 0,
        };
        // A message longer than a request is cut (MSG_TRUNC) and refused
        // like a shorter one.
        let request = buf.get(..got.len).and_then(Request::decode);
        let Some(request) = request.filter(|_| !got.truncated) else {
            // Not from a correct worker: end.
            return 3;
        };
        let started = match request {
            Request::Abandon { handle } => {
                attempts.remove(&handle);
                continue;
            }
            Request::SctpSupport { handle } => Answer::Started {
                handle,
                errno: sctp_supported().err().unwrap_or(0),
            },
            Request::Open {
                handle,
                protocol,
                src,
                dst,
                ttl,
                tos,
                ..
            } => {
                let errno = match request
                    .check()
                    .and_then(|()| open_probe(protocol, src, dst, ttl, tos))
                {
                    Ok(fd) if attempts.len() < super::engine::MAX_PROBES => {
                        attempts.insert(handle, fd);
                        0
                    }
                    Ok(_) => libc::EMFILE,
                    Err(e) => e,
                };
                Answer::Started { handle, errno }
            }
        };
        if !answer(started) {
            return 0;
        }
    }
}

/// The broker's sandbox, after the handoff: fds 0 and 1 made copies of
/// stderr (the broker reads no command and writes no reply: it must not
/// hold mtr's pipes, and no probe socket may land on them), every other
/// descriptor but `kept` (its channel) closed, rlimits (`NPROC` 0, `CORE`
/// 0, `FSIZE` 0, `NOFILE` one per probe), Landlock with no file access
/// (the network rights stay unhandled: the probes connect anywhere, as
/// [`Request::check`] and the policies allow), then its allowlist. The
/// broker's step 4 ([`crate::driver::Worker::confine`]).
pub fn lock_down(
    profile: &'static policy::sandbox::profile::Profile,
    kept: &[policy::handoff::HandedSocket],
) -> Result<policy::sandbox::SandboxReport, policy::PolicyError> {
    for fd in [0, 1] {
        sys::dup_onto(2, fd).map_err(|e| policy::PolicyError::Sandbox {
            step: "stdio",
            reason: e.to_string(),
        })?;
    }
    let closed_fds = policy::sandbox::close_stray_fds(kept)?;
    let limit = |res, v: u64| {
        nix::sys::resource::setrlimit(res, v, v).map_err(|e| policy::PolicyError::Sandbox {
            step: "rlimits",
            reason: e.to_string(),
        })
    };
    use nix::sys::resource::Resource;
    let hard = nix::sys::resource::getrlimit(Resource::RLIMIT_NOFILE)
        .map(|l| l.1)
        .unwrap_or(BROKER_NOFILE);
    let nofile = BROKER_NOFILE.min(hard);
    limit(Resource::RLIMIT_NOFILE, nofile)?;
    limit(Resource::RLIMIT_NPROC, 0)?;
    limit(Resource::RLIMIT_CORE, 0)?;
    limit(Resource::RLIMIT_FSIZE, 0)?;
    let landlock = landlock_files_only();
    let seccomp = policy::sandbox::apply_seccomp(profile, kept)?;
    Ok(policy::sandbox::SandboxReport {
        landlock,
        rlimits: format!("nofile={nofile} nproc=0 fsize=0 core=0"),
        seccomp,
        closed_fds,
    })
}

/// Landlock, best effort: every file right handled with no rule, signals
/// and abstract unix sockets scoped. TCP bind/connect are not handled.
/// What it achieved, in words.
fn landlock_files_only() -> String {
    use landlock::{Access, AccessFs, Ruleset, RulesetAttr, RulesetStatus, Scope};
    let abi = policy::sandbox::LANDLOCK_ABI;
    let status = Ruleset::default()
        .handle_access(AccessFs::from_all(abi))
        .and_then(|r| r.scope(Scope::AbstractUnixSocket | Scope::Signal))
        .and_then(|r| r.create())
        .and_then(|r| r.restrict_self());
    match status.map(|s| s.ruleset) {
        Ok(RulesetStatus::FullyEnforced) => "fully enforced (files only)".to_string(),
        Ok(RulesetStatus::PartiallyEnforced) => "partially enforced (files only)".to_string(),
        Ok(RulesetStatus::NotEnforced) => "not enforced".to_string(),
        Err(e) => format!("not applied: {e}"),
    }
}

/// The worker's end of the channel (a handed-over descriptor).
pub struct Broker {
    fd: RawFd,
    /// `Done` answers that arrived while waiting for a `Started` one.
    early: Vec<Answer>,
    /// Whether any answer came (the broker is there).
    answered: bool,
}

impl Broker {
    /// The channel at `fd`.
    pub fn new(fd: RawFd) -> Broker {
        Broker {
            fd,
            early: Vec::new(),
            answered: false,
        }
    }

    pub fn fd(&self) -> RawFd {
        self.fd
    }

    fn send(&self, r: &Request) -> Result<(), i32> {
        let bytes = r.encode();
        sendmsg::<()>(self.fd(), &[IoSlice::new(&bytes)], &[], NO_SIGNAL, None)
            .map(|_| ())
            .map_err(|e| e as i32)
    }

    fn receive(&mut self, flags: libc::c_int) -> Result<Option<Answer>, i32> {
        let mut buf = [0u8; ANSWER_LEN + 1];
        match sys::recvmsg(self.fd(), &mut buf, &mut [], flags) {
            Ok(g) if g.len == 0 => Err(libc::EPIPE),
            Ok(g) => {
                let answer = Answer::decode(&buf[..g.len]).ok_or(libc::EPROTO)?;
                self.answered = true;
                Ok(Some(answer))
            }
            Err(e) if errno_of(&e) == libc::EAGAIN => Ok(None),
            Err(e) => Err(errno_of(&e)),
        }
    }

    /// Sends `request` and waits for its `Started` answer.
    fn call(&mut self, request: &Request, handle: u32) -> Result<(), i32> {
        self.send(request)?;
        loop {
            match self.receive(0)? {
                Some(Answer::Started { handle: h, errno }) if h == handle => {
                    return if errno == 0 { Ok(()) } else { Err(errno) };
                }
                Some(a) => self.early.push(a),
                None => {}
            }
        }
    }

    /// Asks for a connection attempt and waits for its immediate outcome.
    pub fn open(&mut self, request: &Request) -> Result<(), i32> {
        let Request::Open { handle, .. } = request else {
            return Err(libc::EINVAL);
        };
        self.call(request, *handle)
    }

    /// Whether the broker can make an SCTP socket. `Err`: no broker
    /// answers at the other end (the channel's errno).
    pub fn sctp_support(&mut self) -> Result<bool, i32> {
        let request = Request::SctpSupport { handle: 0 };
        self.send(&request)?;
        loop {
            match self.receive(0)? {
                Some(Answer::Started { handle: 0, errno }) => return Ok(errno == 0),
                Some(a) => self.early.push(a),
                None => {}
            }
        }
    }

    /// Tells the broker to close an attempt's socket.
    pub fn abandon(&mut self, handle: u32) {
        let _ = self.send(&Request::Abandon { handle });
    }

    /// The attempts that ended: (handle, errno), 0 for connected or refused.
    pub fn ended(&mut self) -> Result<Vec<(u32, i32)>, i32> {
        let mut out: Vec<(u32, i32)> = Vec::new();
        for a in self.early.drain(..) {
            if let Answer::Done { handle, errno } = a {
                out.push((handle, errno));
            }
        }
        while let Some(a) = self.receive(libc::MSG_DONTWAIT)? {
            if let Answer::Done { handle, errno } = a {
                out.push((handle, errno));
            }
        }
        Ok(out)
    }

    /// Whether an answer waits (for the loop's ppoll).
    pub fn has_early(&self) -> bool {
        !self.early.is_empty()
    }

    /// Whether the broker ever answered.
    pub fn answered(&self) -> bool {
        self.answered
    }
}

/// Upstream's `check_sctp_support`: whether an SCTP socket can be made
/// (the kernel has SCTP, no policy forbids it); `Err` is the errno.
fn sctp_supported() -> Result<(), i32> {
    let ty = libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    sys::socket(libc::AF_INET, ty, libc::IPPROTO_SCTP)
        .map(drop)
        .map_err(|e| errno_of(&e))
}

/// An unspecified source of `dst`'s family with `port`.
pub fn unspecified(dst: IpAddr, port: u16) -> SocketAddr {
    match dst {
        IpAddr::V4(_) => SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port),
        IpAddr::V6(_) => SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(src: &str, dst: &str, port: u16) -> Request {
        Request::Open {
            handle: 33007,
            protocol: 6,
            src: SocketAddr::new(src.parse().unwrap(), port),
            dst: SocketAddr::new(dst.parse().unwrap(), 80),
            ttl: 3,
            tos: -1,
            mark: 0,
        }
    }

    #[test]
    fn requests_round_trip_and_are_checked() {
        for r in [
            open("198.18.0.1", "198.18.2.2", 33007),
            open("2001:db8::1", "2001:db8:2::2", 65535),
            Request::Abandon { handle: 9 },
            Request::SctpSupport { handle: 0 },
        ] {
            assert_eq!(Request::decode(&r.encode()), Some(r));
        }
        // A privileged or ephemeral-below-33000 local port, another
        // protocol, a short message, an unknown operation: refused.
        assert_eq!(
            Request::decode(&open("198.18.0.1", "198.18.2.2", 22).encode()),
            None
        );
        let mut b = open("198.18.0.1", "198.18.2.2", 33000).encode();
        b[6] = 17;
        assert_eq!(Request::decode(&b), None);
        assert_eq!(Request::decode(&b[..10]), None);
        b[6] = 6;
        b[0] = 9;
        assert_eq!(Request::decode(&b), None);
        // Families must agree: an IPv6 flag with a v4-mapped address is v6.
        let mut b = open("198.18.0.1", "198.18.2.2", 33000).encode();
        b[5] = 2;
        assert_eq!(Request::decode(&b), None);
    }

    #[test]
    fn the_broker_refuses_what_no_correct_worker_sends() {
        let honest = open("198.18.0.1", "198.18.2.2", 33007).encode();
        assert!(Request::decode(&honest).is_some());
        // An IPv4-mapped address in an IPv6 request (an IPv4 connection
        // through an IPv6 socket), a byte after the fields, a long message.
        let mut b = open("::ffff:198.18.0.1", "::ffff:198.18.2.2", 33007).encode();
        b[5] = 1;
        assert_eq!(Request::decode(&b), None);
        let mut b = honest;
        b[55] = 1;
        assert_eq!(Request::decode(&b), None);
        let mut long = honest.to_vec();
        long.push(0);
        assert_eq!(Request::decode(&long), None);
        let mut b = Request::SctpSupport { handle: 1 }.encode();
        assert!(Request::decode(&b).is_some());
        b[9] = 6;
        assert_eq!(Request::decode(&b), None);
    }

    #[test]
    fn values_the_kernel_refuses_are_refused_with_its_errno() {
        let with = |src: &str, dst: &str, ttl: i32, tos: i32, mark: i32| Request::Open {
            handle: 1,
            protocol: 6,
            src: SocketAddr::new(src.parse().unwrap(), 33000),
            dst: SocketAddr::new(dst.parse().unwrap(), 80),
            ttl,
            tos,
            mark,
        };
        let v4 = |ttl, tos, mark| with("0.0.0.0", "198.18.2.2", ttl, tos, mark).check();
        let v6 = |ttl, tos, mark| with("::", "2001:db8::2", ttl, tos, mark).check();
        assert_eq!(v4(1, 0, 0), Ok(()));
        assert_eq!(v4(-1, 300, 0), Ok(()));
        assert_eq!(v4(0, 0, 0), Err(libc::EINVAL));
        assert_eq!(v4(256, 0, 0), Err(libc::EINVAL));
        assert_eq!(v6(0, 0, 0), Ok(()));
        assert_eq!(v6(256, 0, 0), Err(libc::EINVAL));
        assert_eq!(v6(3, 256, 0), Err(libc::EINVAL));
        assert_eq!(v4(3, 0, 7), Err(libc::EPERM));
        let dst = |s: &str| with("0.0.0.0", s, 3, 0, 0).check();
        assert_eq!(dst("224.0.0.1"), Err(libc::ENETUNREACH));
        assert_eq!(dst("255.255.255.255"), Err(libc::ENETUNREACH));
        assert_eq!(
            with("::", "ff02::1", 3, 0, 0).check(),
            Err(libc::ENETUNREACH)
        );
        assert_eq!(
            with("239.1.1.1", "198.18.2.2", 3, 0, 0).check(),
            Err(libc::EADDRNOTAVAIL)
        );
        assert_eq!(Request::Abandon { handle: 1 }.check(), Ok(()));
    }

    #[test]
    fn answers_round_trip() {
        for a in [
            Answer::Started {
                handle: 1,
                errno: 98,
            },
            Answer::Done {
                handle: 65535,
                errno: 0,
            },
        ] {
            assert_eq!(Answer::decode(&a.encode()), Some(a));
        }
        assert_eq!(Answer::decode(&[7; ANSWER_LEN]), None);
    }
}
