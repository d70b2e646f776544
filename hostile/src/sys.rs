//! The crate's only `unsafe` code: the system calls an attacker makes
//! (ptrace, pidfd_getfd, process_vm_readv), the raw sockets the responder
//! answers with, and the pre-exec set-up that puts the launcher in a hostile
//! starting state (closed or extra fds, tiny rlimits, dropped ids). Each
//! failure becomes `io::Error::last_os_error()` through [`cvt`].

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::Command;

/// Turns a `-1` return into the calling thread's `errno`.
pub fn cvt<T: Copy + PartialEq + From<i8>>(ret: T) -> io::Result<T> {
    if ret == T::from(-1) {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// `ptrace(PTRACE_ATTACH, pid)`; on success the caller must [`ptrace_detach`].
pub fn ptrace_attach(pid: i32) -> io::Result<()> {
    // SAFETY: PTRACE_ATTACH takes no pointer arguments (addr and data are ignored).
    cvt(unsafe { libc::ptrace(libc::PTRACE_ATTACH, pid, 0usize, 0usize) }).map(drop)
}

/// `ptrace(PTRACE_DETACH, pid)`, after waiting for the attach stop.
pub fn ptrace_detach(pid: i32) {
    let mut status = 0;
    // SAFETY: `status` is a valid, writable int; __WALL lets us wait for a
    // traced process that is not our child.
    unsafe { libc::waitpid(pid, &mut status, libc::__WALL) };
    // SAFETY: PTRACE_DETACH with a zero signal takes no pointer.
    unsafe { libc::ptrace(libc::PTRACE_DETACH, pid, 0usize, 0usize) };
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
    let local = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: len,
    };
    let remote = libc::iovec {
        iov_base: addr as *mut libc::c_void,
        iov_len: len,
    };
    // SAFETY: `local` describes `buf`, valid for `len` writable bytes; `remote` is only
    // read by the kernel, which checks the other process's address space itself.
    let n = cvt(unsafe { libc::process_vm_readv(pid, &local, 1, &remote, 1, 0) })?;
    Ok(n as usize)
}

pub use policy::sys::getsockopt_int;

/// `kill(pid, sig)`.
pub fn kill(pid: i32, sig: libc::c_int) -> io::Result<()> {
    // SAFETY: integer arguments only.
    cvt(unsafe { libc::kill(pid, sig) }).map(drop)
}

/// `socket(domain, SOCK_RAW, protocol)`, close-on-exec.
pub fn raw_socket(domain: libc::c_int, protocol: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: integer arguments only.
    let fd = cvt(unsafe { libc::socket(domain, libc::SOCK_RAW | libc::SOCK_CLOEXEC, protocol) })?;
    // SAFETY: the kernel just returned this descriptor to us; we own it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

pub use testkit::probe::setsockopt_int;

/// Converts a C socket address back (port 0 for raw sockets).
fn from_sockaddr(storage: &libc::sockaddr_storage) -> Option<std::net::IpAddr> {
    match storage.ss_family as libc::c_int {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in.
            let sin: libc::sockaddr_in =
                unsafe { std::ptr::read((storage as *const libc::sockaddr_storage).cast()) };
            Some(std::net::Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes()).into())
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the storage holds a sockaddr_in6.
            let sin6: libc::sockaddr_in6 =
                unsafe { std::ptr::read((storage as *const libc::sockaddr_storage).cast()) };
            Some(std::net::Ipv6Addr::from(sin6.sin6_addr.s6_addr).into())
        }
        _ => None,
    }
}

/// `bind(fd, addr)`.
pub fn bind(fd: RawFd, addr: std::net::IpAddr) -> io::Result<()> {
    let (storage, len) = policy::sys::sockaddr_to_raw(&std::net::SocketAddr::new(addr, 0));
    // SAFETY: `storage` holds a valid address of `len` bytes.
    cvt(unsafe { libc::bind(fd, (&storage as *const libc::sockaddr_storage).cast(), len) })
        .map(drop)
}

/// `connect(fd, addr)`.
pub fn connect(fd: RawFd, addr: std::net::SocketAddr) -> io::Result<()> {
    let (storage, len) = policy::sys::sockaddr_to_raw(&addr);
    // SAFETY: `storage` holds a valid address of `len` bytes.
    cvt(unsafe { libc::connect(fd, (&storage as *const libc::sockaddr_storage).cast(), len) })
        .map(drop)
}

/// `sendto(fd, buf, 0, addr)`.
pub fn sendto(fd: RawFd, buf: &[u8], addr: std::net::IpAddr) -> io::Result<usize> {
    let (storage, len) = policy::sys::sockaddr_to_raw(&std::net::SocketAddr::new(addr, 0));
    // SAFETY: `buf` is valid for reads of its length; `storage` holds a
    // valid address of `len` bytes.
    let n = cvt(unsafe {
        libc::sendto(
            fd,
            buf.as_ptr().cast(),
            buf.len(),
            0,
            (&storage as *const libc::sockaddr_storage).cast(),
            len,
        )
    })?;
    Ok(n as usize)
}

/// `recvfrom(fd, buf, 0)`: the byte count and the sender.
pub fn recvfrom(fd: RawFd, buf: &mut [u8]) -> io::Result<(usize, Option<std::net::IpAddr>)> {
    // SAFETY: all zeroes is a valid sockaddr_storage.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: `buf` is valid for writes of its length; `storage` and `len`
    // are valid for writes of the sizes passed.
    let n = cvt(unsafe {
        libc::recvfrom(
            fd,
            buf.as_mut_ptr().cast(),
            buf.len(),
            0,
            (&mut storage as *mut libc::sockaddr_storage).cast(),
            &mut len,
        )
    })?;
    Ok((n as usize, from_sockaddr(&storage)))
}

/// `poll` for readability of `fds`, `timeout_ms` at most: which are readable.
pub fn poll_in(fds: &[RawFd], timeout_ms: i32) -> io::Result<Vec<bool>> {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    // SAFETY: `pfds` is a valid, writable array of `pfds.len()` pollfds.
    cvt(unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, timeout_ms) })?;
    Ok(pfds.iter().map(|p| p.revents & libc::POLLIN != 0).collect())
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
    // SAFETY: the closure only makes async-signal-safe calls (setns, setgroups, setres[ug]id,
    // dup2, fcntl, setrlimit, close) on data moved into it, and allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            if let Some(fd) = state.netns {
                cvt(libc::setns(fd, libc::CLONE_NEWNET))?;
            }
            for &(from, to) in &state.extra_fds {
                if from == to {
                    let flags = cvt(libc::fcntl(from, libc::F_GETFD))?;
                    cvt(libc::fcntl(from, libc::F_SETFD, flags & !libc::FD_CLOEXEC))?;
                } else {
                    cvt(libc::dup2(from, to))?;
                }
            }
            if let Some(n) = state.nofile {
                let lim = libc::rlimit {
                    rlim_cur: n,
                    rlim_max: n,
                };
                cvt(libc::setrlimit(libc::RLIMIT_NOFILE, &lim))?;
            }
            if let Some(n) = state.stack {
                let mut lim = libc::rlimit {
                    rlim_cur: 0,
                    rlim_max: 0,
                };
                cvt(libc::getrlimit(libc::RLIMIT_STACK, &mut lim))?;
                lim.rlim_cur = n;
                cvt(libc::setrlimit(libc::RLIMIT_STACK, &lim))?;
            }
            if let Some((uid, gid)) = state.user {
                cvt(libc::setgroups(0, std::ptr::null()))?;
                cvt(libc::setresgid(gid, gid, gid))?;
                cvt(libc::setresuid(uid, uid, uid))?;
            }
            if state.close_std {
                // From here on a failure cannot be reported on stderr, and
                // std's error pipe to the parent is separate (CLOEXEC, fd > 2).
                libc::close(0);
                libc::close(1);
                libc::close(2);
            }
            Ok(())
        });
    }
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
    Some(if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret as i64)
    })
}

/// `if_nametoindex(name)`: 0 when there is no such interface.
pub fn if_nametoindex(name: &str) -> u32 {
    let Ok(c) = std::ffi::CString::new(name) else {
        return 0;
    };
    // SAFETY: `c` is a NUL-terminated string that outlives the call.
    unsafe { libc::if_nametoindex(c.as_ptr()) }
}

fn sockaddr_ll(ifindex: i32, protocol_be: u16, dst: &[u8]) -> libc::sockaddr_ll {
    // SAFETY: sockaddr_ll is plain old data; zero is a valid value.
    let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sll.sll_family = libc::AF_PACKET as u16;
    sll.sll_protocol = protocol_be;
    sll.sll_ifindex = ifindex;
    let n = dst.len().min(8);
    sll.sll_halen = n as u8;
    sll.sll_addr[..n].copy_from_slice(&dst[..n]);
    sll
}

/// `bind(fd, sockaddr_ll{ifindex, protocol})` on a packet socket: what a
/// compromised arping worker would do to see more than ARP (`ETH_P_ALL`).
pub fn packet_bind(fd: RawFd, ifindex: i32, protocol_be: u16) -> io::Result<()> {
    let sll = sockaddr_ll(ifindex, protocol_be, &[]);
    // SAFETY: `sll` is a live sockaddr_ll of the size passed.
    cvt(unsafe {
        libc::bind(
            fd,
            (&sll as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    })
    .map(drop)
}

/// `sendto(fd, frame, sockaddr_ll{ifindex, protocol, dst})`.
pub fn packet_sendto(
    fd: RawFd,
    frame: &[u8],
    ifindex: i32,
    protocol_be: u16,
    dst: &[u8],
) -> io::Result<usize> {
    let sll = sockaddr_ll(ifindex, protocol_be, dst);
    // SAFETY: `frame` is valid for reads of its length, `sll` for its size.
    let n = cvt(unsafe {
        libc::sendto(
            fd,
            frame.as_ptr().cast(),
            frame.len(),
            0,
            (&sll as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    })?;
    Ok(n as usize)
}

/// `recvmsg` on a packet socket (the call arping's profile allows, unlike
/// `recvfrom`): the length and the frame's protocol (`sll_protocol`, host
/// order), 0 when the kernel gave no link-layer address.
pub fn packet_recvmsg(fd: RawFd, buf: &mut [u8]) -> io::Result<(usize, u16)> {
    // SAFETY: plain old data, zero is valid.
    let mut from: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: plain old data; the fields that matter are set below.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_name = (&mut from as *mut libc::sockaddr_ll).cast();
    msg.msg_namelen = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    // SAFETY: every pointer in `msg` refers to a live, exclusively borrowed
    // buffer of the length given next to it.
    let n = cvt(unsafe { libc::recvmsg(fd, &mut msg, 0) })?;
    Ok((n as usize, u16::from_be(from.sll_protocol)))
}

/// `ppoll` for readability of `fd` (the wait arping's profile allows,
/// unlike `poll`), `timeout_ms` at most.
pub fn ppoll_in(fd: RawFd, timeout_ms: u64) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let ts = libc::timespec {
        tv_sec: (timeout_ms / 1000) as libc::time_t,
        tv_nsec: ((timeout_ms % 1000) * 1_000_000) as libc::c_long,
    };
    // SAFETY: `pfd` and `ts` are live locals; a null mask keeps the current one.
    match cvt(unsafe { libc::ppoll(&mut pfd, 1, &ts, std::ptr::null()) }) {
        Ok(_) => Ok(pfd.revents & libc::POLLIN != 0),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(false),
        Err(e) => Err(e),
    }
}
