//! The worker's system calls, and its only `unsafe` code. `nix` wraps what
//! it has (prctl, getuid, signals and the signal mask, sendto, send,
//! ppoll, write, fork, socketpair); what it lacks stays here with a
//! `// SAFETY:` line each: `close_range`, socket options given as raw
//! bytes (ICMP filters, BPF programs, IP options, timeouts), `recvmsg`
//! into caller-owned buffers with the raw control data the ICMP code
//! parses, `getrandom`, `inet_aton`, `getaddrinfo`/`getnameinfo`, `_exit`.
//! Failures are `io::Error`; callers see safe types only.
//! Also arping's packet-socket calls with a `sockaddr_ll` and clockdiff's
//! priority, connect/getsockname and local time.

use std::ffi::{CStr, CString};
use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Turns a `-1` return into the calling thread's `errno`.
pub fn cvt<T: Copy + PartialEq + From<i8>>(ret: T) -> io::Result<T> {
    if ret == T::from(-1) {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// `prctl(PR_SET_DUMPABLE, 0)`: no core dumps, no same-uid ptrace, no
/// /proc/PID/fd access to our raw sockets.
pub fn set_nondumpable() -> io::Result<()> {
    nix::sys::prctl::set_dumpable(false).map_err(io::Error::from)
}

/// Closes every descriptor above `fd`.
pub fn close_above(fd: RawFd) -> io::Result<()> {
    let first = libc::c_uint::try_from(fd + 1).unwrap_or(libc::c_uint::MAX);
    // SAFETY: close_range takes integers; closing descriptors no Rust object
    // owns (std opens none that outlive their use here) is sound.
    cvt(unsafe { libc::close_range(first, libc::c_uint::MAX, 0) })?;
    Ok(())
}

/// The real user id ("root" for iputils' limits means real uid 0).
pub fn real_uid() -> u32 {
    nix::unistd::getuid().as_raw()
}

/// The effective user id (iputils' `geteuid() != 0` for its capability hint).
pub fn effective_uid() -> u32 {
    nix::unistd::geteuid().as_raw()
}

/// Restores the default `SIGPIPE` action, which the Rust runtime sets to
/// "ignore": `privsep-ping … | head -1` must end the ping, as with iputils.
pub fn default_sigpipe() {
    use nix::sys::signal::{signal, SigHandler, Signal};
    // SAFETY: installing SIG_DFL involves no handler code.
    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) };
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static STATUS_REQUESTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(sig: libc::c_int) {
    // Async-signal-safe: atomic stores only.
    if sig == libc::SIGQUIT {
        STATUS_REQUESTED.store(true, Ordering::Relaxed);
    } else {
        INTERRUPTED.store(true, Ordering::Relaxed);
    }
}

/// Whether SIGINT (or SIGALRM, or SIGTERM where it is handled) arrived.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

/// Whether SIGQUIT arrived since the last call.
pub fn take_status_request() -> bool {
    STATUS_REQUESTED.swap(false, Ordering::Relaxed)
}

/// The signal mask to wait with: the signals we handle are blocked at all
/// other times and delivered only inside [`ppoll`], so a signal can never
/// slip in between "check the flag" and "go to sleep".
pub struct WaitMask(nix::sys::signal::SigSet);

/// Installs the SIGINT/SIGALRM (finish with the summary) and SIGQUIT
/// (status line) handlers, as upstream's `setup()` does (SIGTERM keeps its
/// default action), blocks those signals, and returns the mask for
/// [`ppoll`].
pub fn install_signal_handlers() -> io::Result<WaitMask> {
    use nix::sys::signal::Signal;
    install_handlers(&[Signal::SIGINT, Signal::SIGALRM, Signal::SIGQUIT])
}

/// arping's signals, as upstream's signalfd takes them: SIGINT, SIGQUIT
/// and SIGTERM all end the run with the summary ([`interrupted`] for INT
/// and TERM, [`take_status_request`] for QUIT); SIGALRM keeps its default
/// action. Blocks them and returns the mask for [`ppoll`].
pub fn install_arping_handlers() -> io::Result<WaitMask> {
    use nix::sys::signal::Signal;
    install_handlers(&[Signal::SIGINT, Signal::SIGQUIT, Signal::SIGTERM])
}

fn install_handlers(signals: &[nix::sys::signal::Signal]) -> io::Result<WaitMask> {
    use nix::sys::signal::{
        sigaction, sigprocmask, SaFlags, SigAction, SigHandler, SigSet, SigmaskHow,
    };
    let sa = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::empty(),
        SigSet::empty(),
    );
    let mut block = SigSet::empty();
    for &sig in signals {
        // SAFETY: the handler only stores to atomics (async-signal-safe).
        unsafe { sigaction(sig, &sa) }.map_err(io::Error::from)?;
        block.add(sig);
    }
    let mut old = SigSet::empty();
    sigprocmask(SigmaskHow::SIG_BLOCK, Some(&block), Some(&mut old)).map_err(io::Error::from)?;
    for &sig in signals {
        old.remove(sig);
    }
    Ok(WaitMask(old))
}

/// `setsockopt(fd, level, name, &value, sizeof(int))`.
pub fn setsockopt_int(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    setsockopt_bytes(fd, level, name, &value.to_ne_bytes())
}

/// `setsockopt` with an arbitrary option value given as bytes.
pub fn setsockopt_bytes(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: &[u8],
) -> io::Result<()> {
    let len = libc::socklen_t::try_from(value.len())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: `value` is valid for reads of `len` bytes; the kernel copies it.
    cvt(unsafe { libc::setsockopt(fd, level, name, value.as_ptr().cast(), len) })?;
    Ok(())
}

/// `SO_ATTACH_FILTER` with a classic BPF program.
pub fn attach_filter(fd: RawFd, program: &[libc::sock_filter]) -> io::Result<()> {
    let prog = libc::sock_fprog {
        len: u16::try_from(program.len())
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?,
        filter: program.as_ptr().cast_mut(),
    };
    // SAFETY: `prog` points at `program`, which outlives the call; the kernel
    // copies the instructions and never writes through the pointer.
    cvt(unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            (&prog as *const libc::sock_fprog).cast(),
            size_of::<libc::sock_fprog>() as libc::socklen_t,
        )
    })?;
    Ok(())
}

fn from_raw(ss: &libc::sockaddr_storage, len: libc::socklen_t) -> Option<SocketAddr> {
    let len = len as usize;
    match i32::from(ss.ss_family) {
        libc::AF_INET if len >= size_of::<libc::sockaddr_in>() => {
            // SAFETY: the family says the storage holds a sockaddr_in, large enough and aligned.
            let sin =
                unsafe { &*(ss as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            let ip = Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
            Some(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 if len >= size_of::<libc::sockaddr_in6>() => {
            // SAFETY: as above, for sockaddr_in6.
            let sin6 =
                unsafe { &*(ss as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
            Some(SocketAddr::V6(SocketAddrV6::new(
                ip,
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

/// `sendto(fd, buf, 0, addr)`.
pub fn sendto(fd: RawFd, buf: &[u8], addr: &SocketAddr) -> io::Result<usize> {
    let to = nix::sys::socket::SockaddrStorage::from(*addr);
    nix::sys::socket::sendto(fd, buf, &to, nix::sys::socket::MsgFlags::empty())
        .map_err(io::Error::from)
}

/// A descriptor this process keeps open for its whole life (the handed
/// sockets, the resolver channel, stdout and stderr), borrowed for a call.
fn borrowed(fd: RawFd) -> std::os::fd::BorrowedFd<'static> {
    // SAFETY: only called for descriptors that stay open until exit.
    unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) }
}

/// What one `recvmsg` returned.
#[derive(Debug, Clone, Copy)]
pub struct Received {
    /// Bytes of the message stored in the buffer.
    pub len: usize,
    /// The sender (for the error queue: the original destination).
    pub from: Option<SocketAddr>,
    /// Bytes of control data stored.
    pub control_len: usize,
    /// `MSG_TRUNC`: the datagram was longer than the buffer.
    pub truncated: bool,
}

/// `recvmsg(fd, {buf}, flags)` with a control buffer for ancillary data.
pub fn recvmsg(
    fd: RawFd,
    buf: &mut [u8],
    control: &mut [u8],
    flags: libc::c_int,
) -> io::Result<Received> {
    // SAFETY: plain old data, zero is valid.
    let mut from: libc::sockaddr_storage = unsafe { zeroed() };
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: msghdr is plain old data; the fields that matter are set below.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_name = (&mut from as *mut libc::sockaddr_storage).cast();
    msg.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = control.len();
    // SAFETY: every pointer in `msg` refers to a live, exclusively borrowed
    // buffer of the length given next to it.
    let n = cvt(unsafe { libc::recvmsg(fd, &mut msg, flags) })?;
    Ok(Received {
        len: (n as usize).min(buf.len()),
        from: from_raw(&from, msg.msg_namelen),
        control_len: msg.msg_controllen.min(control.len()),
        truncated: msg.msg_flags & libc::MSG_TRUNC != 0,
    })
}

/// What [`ppoll`] saw on the socket.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ready {
    pub readable: bool,
    /// `POLLERR`: something waits on the error queue.
    pub error: bool,
}

/// Waits up to `timeout` for `fd`, with the handled signals unblocked for
/// the duration only. A signal ends the wait early (nothing ready).
pub fn ppoll(fd: RawFd, timeout: Duration, mask: &WaitMask) -> io::Result<Ready> {
    use nix::poll::{PollFd, PollFlags};
    let mut fds = [PollFd::new(borrowed(fd), PollFlags::POLLIN)];
    let ts = nix::sys::time::TimeSpec::from_duration(timeout);
    match nix::poll::ppoll(&mut fds, Some(ts), Some(mask.0)) {
        Ok(_) => {
            let got = fds[0].revents().unwrap_or(PollFlags::empty());
            Ok(Ready {
                readable: got.contains(PollFlags::POLLIN),
                error: got.contains(PollFlags::POLLERR),
            })
        }
        Err(nix::errno::Errno::EINTR) => Ok(Ready::default()),
        Err(e) => Err(e.into()),
    }
}

/// Writes all of `bytes` to `fd` with write(2), retrying on EINTR and
/// partial writes. Used for stdout/stderr so that output needs no locks and
/// no allocation (the sandbox allows write(2) to fds 1 and 2).
pub fn write_all(fd: RawFd, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        match nix::unistd::write(borrowed(fd), bytes) {
            Ok(n) => bytes = &bytes[n.min(bytes.len())..],
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => {
                note_stdio_failure(fd, e);
                return Err(e.into());
            }
        }
    }
    Ok(())
}

static STDOUT_FAILED: AtomicBool = AtomicBool::new(false);
static STDERR_FAILED: AtomicBool = AtomicBool::new(false);

/// Remembers a failed write to stdout or stderr, as stdio's error flag
/// does (a broken pipe aside, which iputils' `close_stdout` forgives).
fn note_stdio_failure(fd: RawFd, e: nix::errno::Errno) {
    if e == nix::errno::Errno::EPIPE {
        return;
    }
    match fd {
        1 => STDOUT_FAILED.store(true, Ordering::Relaxed),
        2 => STDERR_FAILED.store(true, Ordering::Relaxed),
        _ => {}
    }
}

/// Whether a write to stdout, and one to stderr, failed so far.
pub fn stdio_failed() -> (bool, bool) {
    (
        STDOUT_FAILED.load(Ordering::Relaxed),
        STDERR_FAILED.load(Ordering::Relaxed),
    )
}

/// Two random bytes from getrandom(2), for the echo identifier.
pub fn random_u16() -> Option<u16> {
    let mut b = [0u8; 2];
    // SAFETY: `b` is valid for writes of 2 bytes.
    let n = cvt(unsafe { libc::getrandom(b.as_mut_ptr().cast(), 2, 0) }).ok()?;
    (n == 2).then(|| u16::from_ne_bytes(b))
}

extern "C" {
    fn inet_aton(cp: *const libc::c_char, inp: *mut libc::in_addr) -> libc::c_int;
}

/// glibc's `inet_aton`, which also takes iputils' shorthand forms
/// (`127.1`, `0x7f000001`, `2130706433`).
pub fn parse_inet_aton(s: &str) -> Option<Ipv4Addr> {
    let c = CString::new(s).ok()?;
    let mut a = libc::in_addr { s_addr: 0 };
    // SAFETY: `c` is NUL-terminated, `a` valid for writes.
    let ok = unsafe { inet_aton(c.as_ptr(), &mut a) };
    (ok != 0).then(|| Ipv4Addr::from(a.s_addr.to_ne_bytes()))
}

/// glibc's `EAI_ADDRFAMILY` ("Address family for hostname not supported").
pub const EAI_ADDRFAMILY: libc::c_int = -9;

/// The text of a getaddrinfo error code.
pub fn gai_strerror(code: libc::c_int) -> String {
    // SAFETY: gai_strerror returns a pointer to a static NUL-terminated string.
    unsafe { CStr::from_ptr(libc::gai_strerror(code)) }
        .to_string_lossy()
        .into_owned()
}

/// One getaddrinfo result.
#[derive(Debug, Clone)]
pub struct AddrInfo {
    pub addr: SocketAddr,
    pub canonname: Option<String>,
}

/// `getaddrinfo(host, NULL, {AF_UNSPEC, SOCK_DGRAM, IPPROTO_UDP,
/// AI_CANONNAME})`, as iputils asks (dual-stack, so that scope ids survive).
/// Errors are getaddrinfo's codes.
pub fn getaddrinfo(host: &str) -> Result<Vec<AddrInfo>, libc::c_int> {
    getaddrinfo_hints(host, libc::AF_UNSPEC, libc::SOCK_DGRAM, libc::IPPROTO_UDP)
}

/// `getaddrinfo(host, NULL, {family, socktype, protocol, AI_CANONNAME})`
/// (clockdiff asks as iputils does: `AF_INET`, `SOCK_RAW`, protocol 0).
pub fn getaddrinfo_hints(
    host: &str,
    family: libc::c_int,
    socktype: libc::c_int,
    protocol: libc::c_int,
) -> Result<Vec<AddrInfo>, libc::c_int> {
    let c = CString::new(host).map_err(|_| libc::EAI_NONAME)?;
    // SAFETY: addrinfo is plain old data; zero is the documented "no hints".
    let mut hints: libc::addrinfo = unsafe { zeroed() };
    hints.ai_family = family;
    hints.ai_socktype = socktype;
    hints.ai_protocol = protocol;
    hints.ai_flags = libc::AI_CANONNAME;
    let mut res: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: `c` is NUL-terminated, `hints` and `res` are live locals.
    let rc = unsafe { libc::getaddrinfo(c.as_ptr(), std::ptr::null(), &hints, &mut res) };
    if rc != 0 {
        return Err(rc);
    }
    let mut out = Vec::new();
    let mut p = res;
    while !p.is_null() {
        // SAFETY: `p` walks the list getaddrinfo returned, not yet freed.
        let ai = unsafe { &*p };
        if !ai.ai_addr.is_null() && (ai.ai_addrlen as usize) <= size_of::<libc::sockaddr_storage>()
        {
            // SAFETY: plain old data; we copy `ai_addrlen` bytes into it.
            let mut ss: libc::sockaddr_storage = unsafe { zeroed() };
            // SAFETY: `ai_addr` points at `ai_addrlen` readable bytes, which
            // fit into `ss` (checked above); the regions do not overlap.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    ai.ai_addr.cast::<u8>(),
                    (&mut ss as *mut libc::sockaddr_storage).cast::<u8>(),
                    ai.ai_addrlen as usize,
                )
            };
            let canonname = if ai.ai_canonname.is_null() {
                None
            } else {
                // SAFETY: a non-null ai_canonname is a NUL-terminated string.
                let name = unsafe { CStr::from_ptr(ai.ai_canonname) };
                Some(name.to_string_lossy().into_owned())
            };
            if let Some(addr) = from_raw(&ss, ai.ai_addrlen) {
                out.push(AddrInfo { addr, canonname });
            }
        }
        p = ai.ai_next;
    }
    // SAFETY: `res` came from a successful getaddrinfo and is freed once.
    unsafe { libc::freeaddrinfo(res) };
    Ok(out)
}

/// `getnameinfo(addr)` for the host part: the reverse name (or the numeric
/// form when there is none), or with `numeric` the numeric form only.
pub fn getnameinfo(addr: &SocketAddr, numeric: bool) -> Option<String> {
    let (ss, len) = policy::sys::sockaddr_to_raw(addr);
    let mut host = [0 as libc::c_char; 1025];
    let flags = if numeric { libc::NI_NUMERICHOST } else { 0 };
    // SAFETY: `ss` holds `len` bytes of address; `host` is writable for its
    // length; no service buffer is requested.
    let rc = unsafe {
        libc::getnameinfo(
            (&ss as *const libc::sockaddr_storage).cast(),
            len,
            host.as_mut_ptr(),
            host.len() as libc::socklen_t,
            std::ptr::null_mut(),
            0,
            flags,
        )
    };
    if rc != 0 {
        return None;
    }
    // SAFETY: on success getnameinfo wrote a NUL-terminated string into `host`.
    Some(
        unsafe { CStr::from_ptr(host.as_ptr()) }
            .to_string_lossy()
            .into_owned(),
    )
}

/// A `sockaddr_ll` as plain fields (the worker's own type, so that the
/// arping code above this module stays safe and testable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LinkLayer {
    pub protocol_be: u16,
    pub ifindex: i32,
    pub hatype: u16,
    pub pkttype: u8,
    pub halen: u8,
    pub addr: [u8; 8],
}

fn ll_to_raw(a: &LinkLayer) -> libc::sockaddr_ll {
    // SAFETY: sockaddr_ll is plain old data; zero is a valid value.
    let mut sll: libc::sockaddr_ll = unsafe { zeroed() };
    sll.sll_family = libc::AF_PACKET as u16;
    sll.sll_protocol = a.protocol_be;
    sll.sll_ifindex = a.ifindex;
    sll.sll_hatype = a.hatype;
    sll.sll_pkttype = a.pkttype;
    sll.sll_halen = a.halen;
    sll.sll_addr = a.addr;
    sll
}

fn ll_from_raw(sll: &libc::sockaddr_ll) -> LinkLayer {
    LinkLayer {
        protocol_be: sll.sll_protocol,
        ifindex: sll.sll_ifindex,
        hatype: sll.sll_hatype,
        pkttype: sll.sll_pkttype,
        halen: sll.sll_halen,
        addr: sll.sll_addr,
    }
}

/// `bind(fd, sockaddr_ll{ifindex, protocol})`: a packet socket sees the
/// frames of one interface only from then on.
pub fn packet_bind(fd: RawFd, ifindex: i32, protocol_be: u16) -> io::Result<()> {
    let sll = ll_to_raw(&LinkLayer {
        protocol_be,
        ifindex,
        ..LinkLayer::default()
    });
    // SAFETY: `sll` is a live, initialised sockaddr_ll of the size passed.
    cvt(unsafe {
        libc::bind(
            fd,
            (&sll as *const libc::sockaddr_ll).cast(),
            size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    })?;
    Ok(())
}

/// `getsockname` of a packet socket: the interface's hardware type and address.
pub fn packet_getsockname(fd: RawFd) -> io::Result<LinkLayer> {
    // SAFETY: plain old data, zero is valid.
    let mut ss: libc::sockaddr_storage = unsafe { zeroed() };
    let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: `ss` is writable for `len` bytes; the kernel stores at most that.
    cvt(unsafe {
        libc::getsockname(
            fd,
            (&mut ss as *mut libc::sockaddr_storage).cast(),
            &mut len,
        )
    })?;
    if i32::from(ss.ss_family) != libc::AF_PACKET {
        return Err(io::Error::from_raw_os_error(libc::EAFNOSUPPORT));
    }
    // SAFETY: the family says the storage holds a sockaddr_ll, which fits
    // and is suitably aligned inside sockaddr_storage.
    let sll = unsafe { &*(&ss as *const libc::sockaddr_storage).cast::<libc::sockaddr_ll>() };
    Ok(ll_from_raw(sll))
}

/// `sendto(fd, frame, 0, sockaddr_ll)` with iputils' address length
/// (`sll_len`: never shorter than the structure).
pub fn packet_sendto(fd: RawFd, frame: &[u8], to: &LinkLayer) -> io::Result<usize> {
    let sll = ll_to_raw(to);
    // SAFETY: `frame` is valid for reads of its length, `sll` for its size.
    let n = cvt(unsafe {
        libc::sendto(
            fd,
            frame.as_ptr().cast(),
            frame.len(),
            0,
            (&sll as *const libc::sockaddr_ll).cast(),
            size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    })?;
    Ok(n as usize)
}

/// `recvmsg(fd, {buf})` on a packet socket: the bytes stored and the
/// sender's link-layer address (`None` if the kernel gave no `sockaddr_ll`).
pub fn packet_recvmsg(fd: RawFd, buf: &mut [u8]) -> io::Result<(usize, Option<LinkLayer>)> {
    // SAFETY: plain old data, zero is valid.
    let mut from: libc::sockaddr_storage = unsafe { zeroed() };
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: msghdr is plain old data; the fields that matter are set below.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_name = (&mut from as *mut libc::sockaddr_storage).cast();
    msg.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    // SAFETY: every pointer in `msg` refers to a live, exclusively borrowed
    // buffer of the length given next to it.
    let n = cvt(unsafe { libc::recvmsg(fd, &mut msg, 0) })?;
    let len = (n as usize).min(buf.len());
    let ll = (i32::from(from.ss_family) == libc::AF_PACKET
        && msg.msg_namelen as usize >= size_of::<libc::sockaddr_ll>())
    .then(|| {
        // SAFETY: the family and length say the storage holds a sockaddr_ll.
        let sll = unsafe { &*(&from as *const libc::sockaddr_storage).cast::<libc::sockaddr_ll>() };
        ll_from_raw(sll)
    });
    Ok((len, ll))
}

/// `getaddrinfo(host, NULL, {AF_INET, SOCK_RAW})`, as iputils arping asks:
/// the first IPv4 address, or getaddrinfo's error code.
pub fn getaddrinfo_v4(host: &str) -> Result<Ipv4Addr, libc::c_int> {
    let c = CString::new(host).map_err(|_| libc::EAI_NONAME)?;
    // SAFETY: addrinfo is plain old data; zero is the documented "no hints".
    let mut hints: libc::addrinfo = unsafe { zeroed() };
    hints.ai_family = libc::AF_INET;
    hints.ai_socktype = libc::SOCK_RAW;
    let mut res: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: `c` is NUL-terminated, `hints` and `res` are live locals.
    let rc = unsafe { libc::getaddrinfo(c.as_ptr(), std::ptr::null(), &hints, &mut res) };
    if rc != 0 {
        return Err(rc);
    }
    let mut found = None;
    let mut p = res;
    while !p.is_null() && found.is_none() {
        // SAFETY: `p` walks the list getaddrinfo returned, not yet freed.
        let ai = unsafe { &*p };
        if ai.ai_family == libc::AF_INET
            && !ai.ai_addr.is_null()
            && ai.ai_addrlen as usize >= size_of::<libc::sockaddr_in>()
        {
            // SAFETY: an AF_INET entry of at least sockaddr_in's size.
            let sin = unsafe { &*ai.ai_addr.cast::<libc::sockaddr_in>() };
            found = Some(Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes()));
        }
        p = ai.ai_next;
    }
    // SAFETY: `res` came from a successful getaddrinfo and is freed once.
    unsafe { libc::freeaddrinfo(res) };
    found.ok_or(libc::EAI_NONAME)
}

// --- clockdiff: the priority it inherits, its connected socket, local time.

/// `getpriority(PRIO_PROCESS, 0)`: this process's nice value (clockdiff
/// checks it received the launcher's).
pub fn own_priority() -> io::Result<i32> {
    // getpriority can legitimately return -1: errno tells.
    // SAFETY: __errno_location returns this thread's errno slot.
    unsafe { *libc::__errno_location() = 0 };
    // SAFETY: no pointers; reads the calling process's priority.
    let v = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
    let err = io::Error::last_os_error();
    if v == -1 && err.raw_os_error().unwrap_or(0) != 0 {
        return Err(err);
    }
    Ok(v)
}

/// `connect(fd, addr)` (nix): the raw socket then receives from `addr` only.
pub fn connect_v4(fd: RawFd, addr: Ipv4Addr) -> io::Result<()> {
    let sa = nix::sys::socket::SockaddrIn::from(SocketAddrV4::new(addr, 0));
    nix::sys::socket::connect(fd, &sa).map_err(io::Error::from)
}

/// `getsockname(fd)` (nix) of an IPv4 socket: the source address the
/// kernel chose for the connected socket.
pub fn local_v4(fd: RawFd) -> io::Result<Ipv4Addr> {
    let sa: nix::sys::socket::SockaddrIn =
        nix::sys::socket::getsockname(fd).map_err(io::Error::from)?;
    Ok(sa.ip())
}

/// Waits up to `timeout` for `fd` to be readable (ppoll, no signal mask):
/// `Ok(false)` on timeout.
pub fn wait_readable(fd: RawFd, timeout: Duration) -> io::Result<bool> {
    use nix::poll::{PollFd, PollFlags};
    use std::os::fd::BorrowedFd;
    // SAFETY: `fd` is a handed-over socket that stays open for the call.
    let bfd = unsafe { BorrowedFd::borrow_raw(fd) };
    let mut fds = [PollFd::new(bfd, PollFlags::POLLIN | PollFlags::POLLHUP)];
    let ts = nix::sys::time::TimeSpec::from_duration(timeout);
    let n = nix::poll::ppoll(&mut fds, Some(ts), None).map_err(io::Error::from)?;
    Ok(n > 0)
}

/// `tzset()`: loads the local time zone now, before lock-down (after it,
/// glibc could not open `/etc/localtime`).
pub fn load_timezone() {
    extern "C" {
        fn tzset();
    }
    // SAFETY: no arguments; initialises glibc's time zone state.
    unsafe { tzset() };
}

/// `strftime(format, localtime_r(secs))` in the C locale, for clockdiff's
/// interactive line. `None` if the time cannot be broken down.
pub fn local_time_text(secs: i64, format: &CStr) -> Option<String> {
    let t = secs as libc::time_t;
    // SAFETY: plain old data, zero is valid.
    let mut tm: libc::tm = unsafe { zeroed() };
    // SAFETY: `t` and `tm` are live locals; localtime_r writes `tm` only.
    if unsafe { libc::localtime_r(&t, &mut tm) }.is_null() {
        return None;
    }
    let mut buf = [0u8; 64];
    // SAFETY: `buf` is writable for its length, `format` NUL-terminated,
    // `tm` initialised by localtime_r.
    let n = unsafe { libc::strftime(buf.as_mut_ptr().cast(), buf.len(), format.as_ptr(), &tm) };
    Some(String::from_utf8_lossy(&buf[..n]).into_owned())
}

/// `getsockopt(fd, level, name)` for an int option.
pub fn getsockopt_int(fd: RawFd, level: libc::c_int, name: libc::c_int) -> io::Result<libc::c_int> {
    let mut v: libc::c_int = 0;
    let mut len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `v` and `len` are live locals of the sizes given.
    cvt(unsafe {
        libc::getsockopt(
            fd,
            level,
            name,
            (&mut v as *mut libc::c_int).cast(),
            &mut len,
        )
    })?;
    Ok(v)
}

/// `fork()`: `Some(pid)` in the parent, `None` in the child.
pub fn fork() -> io::Result<Option<i32>> {
    // SAFETY: the worker is single-threaded when it forks (before the ping
    // loop, no thread was ever started), so the child may run any code.
    match unsafe { nix::unistd::fork() }.map_err(io::Error::from)? {
        nix::unistd::ForkResult::Parent { child } => Ok(Some(child.as_raw())),
        nix::unistd::ForkResult::Child => Ok(None),
    }
}

/// `send(fd, buf, 0)` on a connected socket (the `sendto` system call).
pub fn send(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    nix::sys::socket::send(fd, buf, nix::sys::socket::MsgFlags::empty()).map_err(io::Error::from)
}

/// Closes every descriptor above 2 except `keep`.
pub fn close_all_but(keep: RawFd) -> io::Result<()> {
    if keep > 3 {
        // SAFETY: close_range takes integers; the descriptors closed are
        // owned by no live Rust object in the caller (a fresh fork child).
        cvt(unsafe { libc::close_range(3, (keep - 1) as libc::c_uint, 0) })?;
    }
    close_above(keep)
}

/// `_exit(status)`: a fork child leaves without running the parent's
/// exit handlers or flushing its buffers.
pub fn exit_now(status: i32) -> ! {
    // SAFETY: _exit never returns and touches no memory.
    unsafe { libc::_exit(status) }
}

/// `prctl(PR_SET_NO_NEW_PRIVS, 1)`.
pub fn set_no_new_privs() -> io::Result<()> {
    // SAFETY: integer arguments only.
    cvt(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1 as libc::c_ulong, 0, 0, 0) })?;
    Ok(())
}

/// Ignores SIGINT and SIGQUIT (the resolver co-process: the terminal sends
/// them to the whole process group, and only the worker acts on them; the
/// co-process goes when the worker does).
pub fn ignore_terminal_signals() {
    use nix::sys::signal::{signal, SigHandler, Signal};
    for sig in [Signal::SIGINT, Signal::SIGQUIT] {
        // SAFETY: installing SIG_IGN involves no handler code.
        let _ = unsafe { signal(sig, SigHandler::SigIgn) };
    }
}

/// `ppoll` on several descriptors at once, without a signal mask: each
/// one's `revents`. `None` waits without a time limit. EINTR is nothing
/// ready.
pub fn poll_many(
    fds: &[(RawFd, libc::c_short)],
    timeout: Option<Duration>,
) -> io::Result<Vec<libc::c_short>> {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|&(fd, events)| libc::pollfd {
            fd,
            events,
            revents: 0,
        })
        .collect();
    let ts = timeout.map(|t| libc::timespec {
        tv_sec: t.as_secs().min(i64::MAX as u64) as libc::time_t,
        tv_nsec: t.subsec_nanos() as libc::c_long,
    });
    let tsp = ts
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `pfds` is a live array of `pfds.len()` pollfds, `tsp` null or
    // a live timespec; no signal mask is passed.
    let r = unsafe {
        libc::ppoll(
            pfds.as_mut_ptr(),
            pfds.len() as libc::nfds_t,
            tsp,
            std::ptr::null(),
        )
    };
    if r < 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EINTR) {
            return Ok(vec![0; fds.len()]);
        }
        return Err(e);
    }
    Ok(pfds.iter().map(|p| p.revents).collect())
}

/// `connect(fd, AF_UNSPEC)`: dissolves a datagram or raw socket's
/// association (and the source address the connect chose).
pub fn disconnect(fd: RawFd) -> io::Result<()> {
    // SAFETY: plain old data, zero is valid.
    let mut sa: libc::sockaddr = unsafe { zeroed() };
    sa.sa_family = libc::AF_UNSPEC as libc::sa_family_t;
    // SAFETY: `sa` is a live sockaddr of the size given.
    cvt(unsafe { libc::connect(fd, &sa, size_of::<libc::sockaddr>() as libc::socklen_t) })?;
    Ok(())
}

/// `connect(fd, addr)` for either family (nix).
pub fn connect_to(fd: RawFd, addr: &SocketAddr) -> io::Result<()> {
    let sa = nix::sys::socket::SockaddrStorage::from(*addr);
    nix::sys::socket::connect(fd, &sa).map_err(io::Error::from)
}

/// `getsockname(fd)` for either family (nix).
pub fn local_address(fd: RawFd) -> io::Result<SocketAddr> {
    let sa: nix::sys::socket::SockaddrStorage =
        nix::sys::socket::getsockname(fd).map_err(io::Error::from)?;
    if let Some(v4) = sa.as_sockaddr_in() {
        return Ok(SocketAddr::V4(SocketAddrV4::new(v4.ip(), v4.port())));
    }
    if let Some(v6) = sa.as_sockaddr_in6() {
        return Ok(SocketAddr::V6(SocketAddrV6::new(
            v6.ip(),
            v6.port(),
            v6.flowinfo(),
            v6.scope_id(),
        )));
    }
    Err(io::Error::from_raw_os_error(libc::EAFNOSUPPORT))
}

/// `read(fd, buf)` once (stdin, after ppoll said it is readable): EINTR
/// is zero bytes read but not the end.
pub fn read_once(fd: RawFd, buf: &mut [u8]) -> io::Result<Option<usize>> {
    match nix::unistd::read(borrowed(fd), buf) {
        Ok(n) => Ok(Some(n)),
        Err(nix::errno::Errno::EINTR) | Err(nix::errno::Errno::EAGAIN) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// `socket(domain, ty, protocol)`, owned.
pub fn socket(
    domain: libc::c_int,
    ty: libc::c_int,
    protocol: libc::c_int,
) -> io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: integer arguments only.
    let fd = cvt(unsafe { libc::socket(domain, ty, protocol) })?;
    // SAFETY: `fd` was just returned by socket(2) and is owned by nobody else.
    Ok(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) })
}

/// Makes `fd` a descriptor of `/dev/null` (read and write), so that it can
/// never come to name a socket opened later.
pub fn replace_with_null(fd: RawFd) -> io::Result<()> {
    // SAFETY: a NUL-terminated literal path; integer flags.
    let null = cvt(unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) })?;
    if null != fd {
        // SAFETY: integer arguments; dup2 closes `fd` atomically, and no
        // Rust object owns fds 0-2 of this process.
        let r = cvt(unsafe { libc::dup2(null, fd) });
        // SAFETY: `null` is ours, just opened.
        unsafe { libc::close(null) };
        r?;
    }
    Ok(())
}

/// `recvmsg(fd, {buf})` of one message on a `SOCK_SEQPACKET` socket: the
/// bytes stored and whether the message was longer than `buf` (the rest
/// is discarded by the kernel). 0 bytes and not truncated: the end.
pub fn recv_message(fd: RawFd, buf: &mut [u8]) -> io::Result<(usize, bool)> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: msghdr is plain old data; the fields that matter are set below.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    // SAFETY: the one iovec refers to `buf`, live and exclusively borrowed,
    // of the length given; no name, no control buffer.
    let n = cvt(unsafe { libc::recvmsg(fd, &mut msg, 0) })?;
    Ok((
        (n as usize).min(buf.len()),
        msg.msg_flags & libc::MSG_TRUNC != 0,
    ))
}

/// `send(fd, buf, MSG_DONTWAIT)`: `EAGAIN` when the peer's queue is full.
pub fn send_nowait(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    nix::sys::socket::send(fd, buf, nix::sys::socket::MsgFlags::MSG_DONTWAIT)
        .map_err(io::Error::from)
}

/// Waits without a deadline until `a` or `b` is readable (or hung up):
/// which of them.
pub fn wait_either(a: RawFd, b: RawFd) -> io::Result<(bool, bool)> {
    use nix::poll::{PollFd, PollFlags};
    let flags = PollFlags::POLLIN;
    let mut fds = [
        PollFd::new(borrowed(a), flags),
        PollFd::new(borrowed(b), flags),
    ];
    nix::poll::ppoll(&mut fds, None, None).map_err(io::Error::from)?;
    let ready = |p: &PollFd| {
        p.revents().is_some_and(|r| {
            r.intersects(PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR)
        })
    };
    Ok((ready(&fds[0]), ready(&fds[1])))
}

fn ifreq_name(ifr: &libc::ifreq) -> String {
    let bytes: Vec<u8> = ifr
        .ifr_name
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// `ioctl(fd, SIOCGIFNAME)`: the name of interface `ifindex`.
pub fn interface_name(fd: RawFd, ifindex: i32) -> io::Result<String> {
    // SAFETY: plain old data, zero is valid.
    let mut ifr: libc::ifreq = unsafe { zeroed() };
    ifr.ifr_ifru.ifru_ifindex = ifindex;
    // SAFETY: `ifr` is a live ifreq; the kernel reads the index and writes
    // the NUL-terminated name within ifr_name.
    cvt(unsafe { libc::ioctl(fd, libc::SIOCGIFNAME as _, &mut ifr) })?;
    Ok(ifreq_name(&ifr))
}

/// `ioctl(fd, SIOCGIFCONF)`: every IPv4 address of the network namespace
/// with the label of its interface (`eth0`, or `eth0:1` for an alias).
pub fn ipv4_addresses(fd: RawFd) -> io::Result<Vec<(String, Ipv4Addr)>> {
    // Enough for 256 addresses; more are cut (the kernel stops at the end
    // of the buffer).
    // SAFETY: plain old data, zero is valid.
    let mut reqs: Vec<libc::ifreq> = (0..256).map(|_| unsafe { zeroed() }).collect();
    // SAFETY: plain old data, zero is valid.
    let mut conf: libc::ifconf = unsafe { zeroed() };
    conf.ifc_len = (reqs.len() * size_of::<libc::ifreq>()) as libc::c_int;
    conf.ifc_ifcu.ifcu_req = reqs.as_mut_ptr();
    // SAFETY: `conf` points at `reqs`, writable for `ifc_len` bytes; the
    // kernel writes at most that many and stores the length it used.
    cvt(unsafe { libc::ioctl(fd, libc::SIOCGIFCONF as _, &mut conf) })?;
    let used = (conf.ifc_len.max(0) as usize / size_of::<libc::ifreq>()).min(reqs.len());
    Ok(reqs[..used]
        .iter()
        .filter_map(|r| {
            // SAFETY: SIOCGIFCONF fills ifru_addr with a sockaddr_in for
            // every entry (IPv4 is the only family it reports).
            let sa = unsafe { r.ifr_ifru.ifru_addr };
            (i32::from(sa.sa_family) == libc::AF_INET).then(|| {
                // sin_port (2 bytes), then sin_addr, in sa_data.
                let d = sa.sa_data;
                let ip = Ipv4Addr::new(d[2] as u8, d[3] as u8, d[4] as u8, d[5] as u8);
                (ifreq_name(r), ip)
            })
        })
        .collect())
}

/// Ignores SIGTERM (arping's broker: the worker reports and ends; the
/// broker goes when the worker's end of the channel closes).
pub fn ignore_sigterm() {
    use nix::sys::signal::{signal, SigHandler, Signal};
    // SAFETY: installing SIG_IGN involves no handler code.
    let _ = unsafe { signal(Signal::SIGTERM, SigHandler::SigIgn) };
}
