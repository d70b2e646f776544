//! The crate's only `unsafe` code: thin wrappers around the few system calls
//! the handoff and (feature `sandbox`) the worker's lock-down need (the
//! forbidden calls a compromised worker would try, which the sandbox tests
//! make, are `testkit::probe`). Each returns `io::Error::last_os_error()`
//! on failure.

use std::io;
use std::os::fd::RawFd;

#[cfg(feature = "sandbox")]
pub use nix::sys::resource::Resource;

/// Turns a `-1` return into the calling thread's `errno`: the one errno
/// helper of every crate's code that runs after glibc's start-up (the
/// launcher's raw pre-glibc system calls have their own `Errno`).
pub fn cvt<T: Copy + PartialEq + From<i8>>(ret: T) -> io::Result<T> {
    if ret == T::from(-1) {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// `getsockopt(fd, SOL_SOCKET, opt)` for an integer option.
pub fn getsockopt_int(fd: RawFd, level: libc::c_int, opt: libc::c_int) -> io::Result<libc::c_int> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `value` and `len` are valid for writes of the sizes passed; the
    // kernel checks `fd` itself and fails with EBADF/ENOTSOCK if it is bad.
    cvt(unsafe {
        libc::getsockopt(
            fd,
            level,
            opt,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    })?;
    Ok(value)
}

/// The protocol a packet socket was created (or last bound) with, as
/// `getsockname` reports it in `sll_protocol` (network byte order, as
/// `socket()` takes it): `SO_PROTOCOL` is always 0 on packet sockets.
pub fn packet_protocol(fd: RawFd) -> io::Result<libc::c_int> {
    // SAFETY: plain old data; zero is a valid value.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: `ss` is writable for `len` bytes; the kernel stores at most that.
    cvt(unsafe {
        libc::getsockname(
            fd,
            (&mut ss as *mut libc::sockaddr_storage).cast(),
            &mut len,
        )
    })?;
    // The kernel stores the address up to the hardware address's length:
    // 12 bytes (up to sll_addr) for an unbound socket.
    if i32::from(ss.ss_family) != libc::AF_PACKET || (len as usize) < 12 {
        return Err(io::Error::from_raw_os_error(libc::EAFNOSUPPORT));
    }
    // SAFETY: the family and length say the storage holds a sockaddr_ll,
    // which fits and is suitably aligned inside sockaddr_storage.
    let sll = unsafe { &*(&ss as *const libc::sockaddr_storage).cast::<libc::sockaddr_ll>() };
    Ok(libc::c_int::from(sll.sll_protocol))
}

/// `fcntl(fd, F_GETFD)`: fails with EBADF when `fd` is not open.
pub fn fd_flags(fd: RawFd) -> io::Result<libc::c_int> {
    // SAFETY: F_GETFD takes no pointer argument; any fd value is safe to pass.
    cvt(unsafe { libc::fcntl(fd, libc::F_GETFD) })
}

/// Sets `FD_CLOEXEC` on `fd`.
pub fn set_cloexec(fd: RawFd) -> io::Result<()> {
    let flags = fd_flags(fd)?;
    // SAFETY: F_SETFD takes an integer argument; any fd value is safe to pass.
    cvt(unsafe { libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC) })?;
    Ok(())
}

/// Clears `FD_CLOEXEC` on `fd`, so that it survives the exec of the worker.
pub fn clear_cloexec(fd: RawFd) -> io::Result<()> {
    let flags = fd_flags(fd)?;
    // SAFETY: F_SETFD takes an integer argument; any fd value is safe to pass.
    cvt(unsafe { libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) })?;
    Ok(())
}

/// The calling process's pid.
pub fn getpid() -> u32 {
    std::process::id()
}

// ---------------------------------------------------------------------------
// The worker's lock-down (feature `sandbox`).

/// `setrlimit(resource, {soft, hard})`.
#[cfg(feature = "sandbox")]
pub fn setrlimit(resource: Resource, soft: u64, hard: u64) -> io::Result<()> {
    nix::sys::resource::setrlimit(resource, soft, hard).map_err(from_nix)
}

/// `getrlimit(resource)` as `(soft, hard)`.
#[cfg(feature = "sandbox")]
pub fn getrlimit(resource: Resource) -> io::Result<(u64, u64)> {
    nix::sys::resource::getrlimit(resource).map_err(from_nix)
}

/// `prctl(PR_SET_NO_NEW_PRIVS, 1)`: irreversible, needs no privilege. The
/// one copy: the launcher, the lock-down, the workers' co-processes and
/// the VM probes call it.
pub fn set_no_new_privs() -> io::Result<()> {
    // SAFETY: integer arguments only.
    cvt(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1 as libc::c_ulong, 0, 0, 0) }).map(drop)
}

/// Whether `fd` is a regular file (where `RLIMIT_FSIZE` applies to writes).
#[cfg(feature = "sandbox")]
pub fn is_regular_file(fd: RawFd) -> io::Result<bool> {
    // SAFETY: only fds 1 and 2 are asked about, which stay open for the
    // whole call; the borrow does not outlive it.
    let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    let st = nix::sys::stat::fstat(fd).map_err(from_nix)?;
    Ok(st.st_mode & libc::S_IFMT == libc::S_IFREG)
}

/// `close(fd)` of a descriptor nobody owns as an `OwnedFd` (a stray one
/// the lock-down found open that was not handed over).
#[cfg(feature = "sandbox")]
pub fn close_raw(fd: RawFd) -> io::Result<()> {
    nix::unistd::close(fd).map_err(from_nix)
}

/// Which of the numbers `fds` are open descriptors, in one `poll` with
/// no events and no wait: the kernel marks every number that names no
/// open file `POLLNVAL`. Fails (`EINVAL`) when there are more numbers
/// than the soft `RLIMIT_NOFILE`.
#[cfg(feature = "sandbox")]
pub fn open_among(fds: std::ops::Range<RawFd>) -> io::Result<Vec<RawFd>> {
    let mut polled: Vec<libc::pollfd> = fds
        .map(|fd| libc::pollfd {
            fd,
            events: 0,
            revents: 0,
        })
        .collect();
    // SAFETY: `polled` is valid for reads and writes of its length, which
    // is what is passed; a zero timeout never blocks.
    cvt(unsafe { libc::poll(polled.as_mut_ptr(), polled.len() as libc::nfds_t, 0) })?;
    Ok(polled
        .iter()
        .filter(|p| p.revents & libc::POLLNVAL == 0)
        .map(|p| p.fd)
        .collect())
}

/// `close_range(first, last, 0)`: closes every descriptor in between,
/// none of which any object of this process owns (the lock-down's strays
/// above the probed numbers).
#[cfg(feature = "sandbox")]
pub fn close_range(first: RawFd, last: libc::c_uint) -> io::Result<()> {
    let first = libc::c_uint::try_from(first).unwrap_or(libc::c_uint::MAX);
    if first > last {
        return Ok(());
    }
    // SAFETY: integer arguments; the caller closes only descriptors that
    // no Rust object owns.
    cvt(unsafe { libc::close_range(first, last, 0) })?;
    Ok(())
}

/// A nix error as the `io::Error` of the same errno.
#[cfg(feature = "sandbox")]
fn from_nix(e: nix::Error) -> io::Error {
    io::Error::from_raw_os_error(e as i32)
}

/// A socket address in the kernel's `sockaddr_storage` form, with its length:
/// the one conversion the worker, the sandbox probes and the hostile tools share.
pub fn sockaddr_to_raw(addr: &std::net::SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain old data; all-zero is valid.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match addr {
        std::net::SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in.
            unsafe { std::ptr::write((&mut ss as *mut libc::sockaddr_storage).cast(), sin) };
            std::mem::size_of::<libc::sockaddr_in>()
        }
        std::net::SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in6.
            unsafe { std::ptr::write((&mut ss as *mut libc::sockaddr_storage).cast(), sin6) };
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (ss, len as libc::socklen_t)
}
