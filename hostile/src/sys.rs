//! The crate's only `unsafe` code: the system calls an attacker makes
//! (ptrace, pidfd_getfd, process_vm_readv), the raw sockets the responder
//! answers with, and the pre-exec set-up that puts the launcher in a hostile
//! starting state (closed or extra fds, tiny rlimits, dropped ids).
//!
//! `nix` makes every call it wraps. These stay on `libc`, each failure
//! becoming `io::Error::last_os_error()` through [`cvt`]:
//! - `pidfd_open`, `pidfd_getfd`: nix has no pidfd calls.
//! - `setsockopt` with raw bytes: nix takes only its typed options, and
//!   `ICMP_FILTER`/`ICMP6_FILTER` are not among them.
//! - `dup2` onto an arbitrary number: nix's `dup2` wants the target as an
//!   `OwnedFd`, and `dup2_raw` wraps a failed call's -1 in an `OwnedFd`.
//! - [`compromised_attempt`]: the probe must make each raw call by name or
//!   number (openat2, io_uring_setup, the x32 write…), whatever nix wraps.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::{self, FcntlArg, FdFlag};
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sched::{self, CloneFlags};
use nix::sys::resource::{self, Resource};
use nix::sys::signal::{self, Signal};
use nix::sys::socket::{
    self, AddressFamily, LinkAddr, MsgFlags, SockFlag, SockProtocol, SockType, SockaddrLike,
    SockaddrStorage,
};
use nix::sys::time::TimeSpec;
use nix::sys::uio::{self, RemoteIoVec};
use nix::sys::{ptrace, wait};
use nix::unistd::{self, Gid, Pid, Uid};

/// The one errno helper, shared with every crate.
pub use policy::sys::cvt;

/// `ptrace(PTRACE_ATTACH, pid)`; on success the caller must [`ptrace_detach`].
pub fn ptrace_attach(pid: i32) -> io::Result<()> {
    Ok(ptrace::attach(Pid::from_raw(pid))?)
}

/// `ptrace(PTRACE_DETACH, pid)`, after waiting for the attach stop.
pub fn ptrace_detach(pid: i32) {
    let pid = Pid::from_raw(pid);
    // __WALL: the tracee is not our child.
    let _ = wait::waitpid(pid, Some(wait::WaitPidFlag::__WALL));
    let _ = ptrace::detach(pid, None);
}

/// `pidfd_open(pid, 0)`.
pub fn pidfd_open(pid: i32) -> io::Result<OwnedFd> {
    // SAFETY: integer arguments only.
    let fd = cvt(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) })?;
    // SAFETY: the kernel just returned this descriptor to us; we own it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// `pidfd_getfd(pidfd, target_fd, 0)`: a duplicate of another process's descriptor.
pub fn pidfd_getfd(pidfd: &OwnedFd, target_fd: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: integer arguments only.
    let fd = cvt(unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), target_fd, 0) })?;
    // SAFETY: the kernel just returned this descriptor to us; we own it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// `process_vm_readv` of `len` bytes at `addr` in `pid`.
pub fn process_vm_read(pid: i32, addr: usize, len: usize) -> io::Result<usize> {
    let mut buf = vec![0u8; len];
    let mut local = [io::IoSliceMut::new(&mut buf)];
    let remote = [RemoteIoVec { base: addr, len }];
    Ok(uio::process_vm_readv(
        Pid::from_raw(pid),
        &mut local,
        &remote,
    )?)
}

pub use policy::sys::getsockopt_int;

/// `kill(pid, sig)` (0 probes).
pub fn kill(pid: i32, sig: libc::c_int) -> io::Result<()> {
    let sig = match sig {
        0 => None,
        n => Some(Signal::try_from(n)?),
    };
    Ok(signal::kill(Pid::from_raw(pid), sig)?)
}

/// `socket(domain, SOCK_RAW, protocol)`, close-on-exec. nix names only some
/// protocols: ICMP, ICMPv6 and `IPPROTO_RAW` are the ones the attacks use.
pub fn raw_socket(domain: libc::c_int, protocol: libc::c_int) -> io::Result<OwnedFd> {
    let family = AddressFamily::from_i32(domain).ok_or(Errno::EAFNOSUPPORT)?;
    let protocol = match protocol {
        libc::IPPROTO_ICMP => SockProtocol::Icmp,
        libc::IPPROTO_ICMPV6 => SockProtocol::IcmpV6,
        libc::IPPROTO_RAW => SockProtocol::Raw,
        _ => return Err(Errno::EPROTONOSUPPORT.into()),
    };
    Ok(socket::socket(
        family,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        protocol,
    )?)
}

pub use testkit::probe::setsockopt_int;

/// The address an IP socket address holds (port 0 for raw sockets).
fn ip_of(addr: &SockaddrStorage) -> Option<IpAddr> {
    if let Some(sin) = addr.as_sockaddr_in() {
        Some(sin.ip().into())
    } else {
        addr.as_sockaddr_in6().map(|sin6| sin6.ip().into())
    }
}

/// `bind(fd, addr)`.
pub fn bind(fd: RawFd, addr: IpAddr) -> io::Result<()> {
    Ok(socket::bind(
        fd,
        &SockaddrStorage::from(SocketAddr::new(addr, 0)),
    )?)
}

/// `connect(fd, addr)`.
pub fn connect(fd: RawFd, addr: SocketAddr) -> io::Result<()> {
    Ok(socket::connect(fd, &SockaddrStorage::from(addr))?)
}

/// `sendto(fd, buf, 0, addr)`.
pub fn sendto(fd: RawFd, buf: &[u8], addr: IpAddr) -> io::Result<usize> {
    let to = SockaddrStorage::from(SocketAddr::new(addr, 0));
    Ok(socket::sendto(fd, buf, &to, MsgFlags::empty())?)
}

/// `recvfrom(fd, buf, 0)`: the byte count and the sender.
pub fn recvfrom(fd: RawFd, buf: &mut [u8]) -> io::Result<(usize, Option<IpAddr>)> {
    let (n, from) = socket::recvfrom::<SockaddrStorage>(fd, buf)?;
    Ok((n, from.as_ref().and_then(ip_of)))
}

/// `poll` for readability of `fds`, `timeout_ms` at most: which are readable.
pub fn poll_in(fds: &[RawFd], timeout_ms: i32) -> io::Result<Vec<bool>> {
    let timeout = PollTimeout::try_from(timeout_ms).map_err(|_| Errno::EINVAL)?;
    let mut pfds: Vec<PollFd> = fds
        .iter()
        .map(|&fd| {
            // SAFETY: poll only looks at the number; a closed one comes back
            // as POLLNVAL, as with a raw pollfd.
            PollFd::new(unsafe { BorrowedFd::borrow_raw(fd) }, PollFlags::POLLIN)
        })
        .collect();
    nix::poll::poll(&mut pfds, timeout)?;
    Ok(pfds.iter().map(readable).collect())
}

fn readable(pfd: &PollFd) -> bool {
    pfd.revents().is_some_and(|r| r.contains(PollFlags::POLLIN))
}

/// `setsockopt(fd, level, opt, bytes)` for an option passed as raw bytes
/// (`ICMP_FILTER`, `ICMP6_FILTER`).
pub fn setsockopt_bytes(
    fd: RawFd,
    level: libc::c_int,
    opt: libc::c_int,
    bytes: &[u8],
) -> io::Result<()> {
    // SAFETY: `bytes` is valid for reads of its length; the kernel only reads it.
    cvt(unsafe {
        libc::setsockopt(
            fd,
            level,
            opt,
            bytes.as_ptr().cast(),
            bytes.len() as libc::socklen_t,
        )
    })
    .map(drop)
}

/// How a spawned launcher starts: the hostile process state a local user can
/// set up before exec.
#[derive(Debug, Clone, Default)]
pub struct StartState {
    /// Switch to this uid/gid (no supplementary groups) before exec.
    pub user: Option<(u32, u32)>,
    /// Close fds 0, 1 and 2 just before exec.
    pub close_std: bool,
    /// Descriptors to leave open across exec, each moved to the given number.
    pub extra_fds: Vec<(RawFd, RawFd)>,
    /// `RLIMIT_NOFILE` (soft and hard).
    pub nofile: Option<u64>,
    /// `RLIMIT_STACK` (soft), which bounds the size of argv + environment.
    pub stack: Option<u64>,
    /// Enter this network namespace (an open `/run/netns/NAME`) first.
    pub netns: Option<RawFd>,
}

/// Arranges for `cmd` to start in `state`. The work happens in the child
/// between fork and exec, with async-signal-safe calls only.
pub fn set_start_state(cmd: &mut Command, state: StartState) {
    let hook = move || -> io::Result<()> {
        if let Some(fd) = state.netns {
            // SAFETY: the caller keeps the namespace file open until the
            // child has exec'd, and the child inherited it.
            let ns = unsafe { BorrowedFd::borrow_raw(fd) };
            sched::setns(ns, CloneFlags::CLONE_NEWNET)?;
        }
        for &(from, to) in &state.extra_fds {
            if from == to {
                // SAFETY: as for the namespace file: the caller's descriptor,
                // open in the child until exec.
                let fd = unsafe { BorrowedFd::borrow_raw(from) };
                let flags = FdFlag::from_bits_retain(fcntl::fcntl(fd, FcntlArg::F_GETFD)?);
                fcntl::fcntl(fd, FcntlArg::F_SETFD(flags - FdFlag::FD_CLOEXEC))?;
            } else {
                // SAFETY: integer arguments only; whatever `to` was in the
                // child is replaced on purpose, and no Rust object owns it there.
                cvt(unsafe { libc::dup2(from, to) })?;
            }
        }
        if let Some(n) = state.nofile {
            resource::setrlimit(Resource::RLIMIT_NOFILE, n, n)?;
        }
        if let Some(n) = state.stack {
            let (_, hard) = resource::getrlimit(Resource::RLIMIT_STACK)?;
            resource::setrlimit(Resource::RLIMIT_STACK, n, hard)?;
        }
        if let Some((uid, gid)) = state.user {
            unistd::setgroups(&[])?;
            let gid = Gid::from_raw(gid);
            unistd::setresgid(gid, gid, gid)?;
            let uid = Uid::from_raw(uid);
            unistd::setresuid(uid, uid, uid)?;
        }
        if state.close_std {
            // From here on a failure cannot be reported on stderr, and
            // std's error pipe to the parent is separate (CLOEXEC, fd > 2).
            let _ = unistd::close(0);
            let _ = unistd::close(1);
            let _ = unistd::close(2);
        }
        Ok(())
    };
    // SAFETY: the hook only makes async-signal-safe calls (setns, fcntl, dup2,
    // setrlimit, getrlimit, setgroups, setres[ug]id, close) on data moved into
    // it, and allocates nothing.
    unsafe { cmd.pre_exec(hook) };
}

/// The system calls a compromised worker tries, one per name (see
/// `hostile-probe`). `sock` is a handed-over raw socket, `victim` the pid of
/// another process of the same user. `None` for an unknown name.
pub fn compromised_attempt(name: &str, sock: RawFd, victim: i32) -> Option<io::Result<i64>> {
    let path = c"/etc/passwd".as_ptr();
    let one: libc::c_int = 1;
    let sin = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: 0,
        sin_addr: libc::in_addr {
            s_addr: u32::from_ne_bytes([127, 0, 0, 1]),
        },
        sin_zero: [0; 8],
    };
    let sin_ptr = (&sin as *const libc::sockaddr_in).cast::<libc::sockaddr>();
    let sin_len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // ICMP messages other than echo requests, sent through the handed-over
    // socket with the one call the profile allows on it (`sendto`): a raw
    // socket sends them, an ICMP datagram socket refuses all but echo.
    let redirect = {
        // Host redirect to 127.0.0.2 about a datagram 127.0.0.1 → 127.0.0.1.
        let mut inner = vec![0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1, 0, 0];
        inner.extend_from_slice(&[127, 0, 0, 1, 127, 0, 0, 1]);
        inner.extend_from_slice(&[8, 0, 0, 0, 0, 1, 0, 1]);
        crate::icmp::message(5, 1, [127, 0, 0, 2], &inner)
    };
    // Timestamp request: identifier, sequence, then three 32-bit stamps.
    let timestamp = crate::icmp::message(13, 0, [0, 1, 0, 1], &[0; 12]);
    let send = |packet: &[u8]| {
        // SAFETY: `packet` and `sin` are live for the call, with the lengths given.
        let sent = unsafe {
            libc::sendto(
                sock,
                packet.as_ptr().cast(),
                packet.len(),
                0,
                sin_ptr,
                sin_len,
            )
        };
        sent as libc::c_long
    };
    // What the calls below do to the *process* (exec, exit, a signal) is the point of the probe.
    // SAFETY: every pointer passed is to a live local valid for the size given, or null where
    // the kernel accepts null; the calls touch no other memory of ours.
    let ret: libc::c_long = unsafe {
        match name {
            "socket-raw" => libc::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_ICMP) as _,
            "socket-udp" => libc::socket(libc::AF_INET, libc::SOCK_DGRAM, 0) as _,
            "socketpair" => {
                let mut sv = [0 as libc::c_int; 2];
                libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, sv.as_mut_ptr()) as _
            }
            "execve" => {
                let argv = [c"/bin/true".as_ptr(), std::ptr::null()];
                let envp = [std::ptr::null::<libc::c_char>()];
                libc::execve(c"/bin/true".as_ptr(), argv.as_ptr(), envp.as_ptr()) as _
            }
            "execveat" => {
                let argv = [c"/bin/true".as_ptr(), std::ptr::null()];
                let envp = [std::ptr::null::<libc::c_char>()];
                libc::syscall(
                    libc::SYS_execveat,
                    libc::AT_FDCWD,
                    c"/bin/true".as_ptr(),
                    argv.as_ptr(),
                    envp.as_ptr(),
                    0,
                )
            }
            "open" => libc::syscall(libc::SYS_open, path, libc::O_RDONLY),
            "openat" => libc::openat(libc::AT_FDCWD, path, libc::O_RDONLY) as _,
            "openat2" => {
                // struct open_how { u64 flags, mode, resolve }: O_RDONLY, 0, 0.
                let how = [0u64; 3];
                libc::syscall(
                    libc::SYS_openat2,
                    libc::AT_FDCWD,
                    path,
                    how.as_ptr(),
                    std::mem::size_of_val(&how),
                )
            }
            "connect" => libc::connect(sock, sin_ptr, sin_len) as _,
            "send-redirect" => send(&redirect),
            "send-timestamp" => send(&timestamp),
            "bind" => libc::bind(sock, sin_ptr, sin_len) as _,
            "sendmsg" => {
                let msg: libc::msghdr = std::mem::zeroed();
                libc::sendmsg(sock, &msg, 0) as _
            }
            "hdrincl" => libc::setsockopt(
                sock,
                libc::IPPROTO_IP,
                libc::IP_HDRINCL,
                (&one as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            ) as _,
            "ptrace" => libc::ptrace(libc::PTRACE_ATTACH, victim, 0usize, 0usize) as _,
            "pidfd-getfd" => {
                let pidfd = libc::syscall(libc::SYS_pidfd_open, victim, 0);
                if pidfd < 0 {
                    pidfd
                } else {
                    libc::syscall(libc::SYS_pidfd_getfd, pidfd, 0, 0)
                }
            }
            "unshare" => libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS) as _,
            "mount" => libc::mount(
                c"none".as_ptr(),
                c"/tmp".as_ptr(),
                c"tmpfs".as_ptr(),
                0,
                std::ptr::null(),
            ) as _,
            "kill" => libc::kill(victim, libc::SIGKILL) as _,
            "dumpable" => libc::prctl(libc::PR_SET_DUMPABLE, 1, 0, 0, 0) as _,
            "setuid" => libc::setuid(0) as _,
            "ioctl-tiocsti" => {
                let c: libc::c_char = b'x' as libc::c_char;
                libc::ioctl(0, libc::TIOCSTI, &c as *const libc::c_char) as _
            }
            "io-uring" => {
                let mut params = [0u8; 120];
                libc::syscall(libc::SYS_io_uring_setup, 1, params.as_mut_ptr())
            }
            "memfd" => libc::syscall(libc::SYS_memfd_create, c"x".as_ptr(), 0),
            // The x32 ABI's write(): same audit arch, syscall number | 0x40000000.
            "x32-write" => libc::syscall(0x4000_0000 | libc::SYS_write, 1, c"x32\n".as_ptr(), 4),
            _ => return None,
        }
    };
    Some(cvt(ret))
}

/// `if_nametoindex(name)`: 0 when there is no such interface.
pub fn if_nametoindex(name: &str) -> u32 {
    nix::net::if_::if_nametoindex(name).unwrap_or(0)
}

/// A `sockaddr_ll{ifindex, protocol, dst}` as nix's address type.
fn link_addr(ifindex: i32, protocol_be: u16, dst: &[u8]) -> LinkAddr {
    let n = dst.len().min(8);
    let mut sll_addr = [0u8; 8];
    sll_addr[..n].copy_from_slice(&dst[..n]);
    let sll = libc::sockaddr_ll {
        sll_family: libc::AF_PACKET as u16,
        sll_protocol: protocol_be,
        sll_ifindex: ifindex,
        sll_hatype: 0,
        sll_pkttype: 0,
        sll_halen: n as u8,
        sll_addr,
    };
    let len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    // SAFETY: `sll` is a live sockaddr_ll of `len` bytes; LinkAddr has no
    // other constructor.
    unsafe { LinkAddr::from_raw((&sll as *const libc::sockaddr_ll).cast(), Some(len)) }
        .expect("an AF_PACKET address of sockaddr_ll's size")
}

/// `bind(fd, sockaddr_ll{ifindex, protocol})` on a packet socket: what a
/// compromised arping worker would do to see more than ARP (`ETH_P_ALL`).
pub fn packet_bind(fd: RawFd, ifindex: i32, protocol_be: u16) -> io::Result<()> {
    Ok(socket::bind(fd, &link_addr(ifindex, protocol_be, &[]))?)
}

/// `sendto(fd, frame, sockaddr_ll{ifindex, protocol, dst})`.
pub fn packet_sendto(
    fd: RawFd,
    frame: &[u8],
    ifindex: i32,
    protocol_be: u16,
    dst: &[u8],
) -> io::Result<usize> {
    let to = link_addr(ifindex, protocol_be, dst);
    Ok(socket::sendto(fd, frame, &to, MsgFlags::empty())?)
}

/// `recvmsg` on a packet socket (the call arping's profile allows, unlike
/// `recvfrom`): the length and the frame's protocol (`sll_protocol`, host
/// order), 0 when the kernel gave no link-layer address.
pub fn packet_recvmsg(fd: RawFd, buf: &mut [u8]) -> io::Result<(usize, u16)> {
    let mut iov = [io::IoSliceMut::new(buf)];
    let msg = socket::recvmsg::<LinkAddr>(fd, &mut iov, None, MsgFlags::empty())?;
    let protocol = msg.address.map_or(0, |a| u16::from_be(a.protocol()));
    Ok((msg.bytes, protocol))
}

/// `ppoll` for readability of `fd` (the wait arping's profile allows,
/// unlike `poll`), `timeout_ms` at most.
pub fn ppoll_in(fd: RawFd, timeout_ms: u64) -> io::Result<bool> {
    // SAFETY: ppoll only looks at the number; a closed one comes back as
    // POLLNVAL, as with a raw pollfd.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    let mut pfd = [PollFd::new(borrowed, PollFlags::POLLIN)];
    let timeout = TimeSpec::from_duration(Duration::from_millis(timeout_ms));
    // No mask: the current one stays.
    match nix::poll::ppoll(&mut pfd, Some(timeout), None) {
        Ok(_) => Ok(readable(&pfd[0])),
        Err(Errno::EINTR) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Closes every descriptor from 3 up, as the launcher does before it opens
/// anything: an attacker starting a worker by hand begins from a clean
/// table too. (A test harness that runs tests in threads can have had a
/// descriptor open without close-on-exec at the moment it spawned us.)
///
/// # Safety
///
/// No object of the process may own a descriptor above 2: call it first
/// thing in `main`.
pub unsafe fn close_from_3() -> io::Result<()> {
    // SAFETY: integer arguments only; by the caller's contract nothing the
    // process still uses is among the descriptors closed.
    let rc = unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) };
    cvt(rc as libc::c_int).map(drop)
}
