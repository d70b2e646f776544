//! The crate's only `unsafe` code: thin wrappers around the few system calls
//! the handoff and (feature `sandbox`) the worker's lock-down need, plus
//! [`probe`], the forbidden calls a compromised worker would try, used by the
//! sandbox tests and examples. Each returns `io::Error::last_os_error()` on
//! failure.

use std::io;
use std::os::fd::RawFd;

#[cfg(feature = "sandbox")]
pub use nix::sys::resource::Resource;

/// Turns a `-1` return into the calling thread's `errno`.
pub fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret == -1 {
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

/// `prctl(PR_SET_NO_NEW_PRIVS, 1)`: irreversible, needs no privilege.
#[cfg(feature = "sandbox")]
pub fn set_no_new_privs() -> io::Result<()> {
    nix::sys::prctl::set_no_new_privs().map_err(from_nix)
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

/// `close(fd)` of a descriptor nobody owns as an `OwnedFd` (one found in
/// `/proc/self/fd` that was not handed over).
#[cfg(feature = "sandbox")]
pub fn close_raw(fd: RawFd) -> io::Result<()> {
    nix::unistd::close(fd).map_err(from_nix)
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

/// What a compromised worker would try after lock-down, and the few calls the
/// sandbox tests need to play the launcher (open raw sockets, drop ids) and
/// the worker (echo over a raw socket). Each is the bare system call, so that
/// a test sees exactly the outcome the kernel gives.
#[cfg(feature = "sandbox")]
pub mod probe {
    use std::ffi::CStr;
    use std::io;
    use std::net::SocketAddr;
    use std::os::fd::{FromRawFd, OwnedFd, RawFd};

    use super::cvt;

    fn cvt_long(ret: libc::c_long) -> io::Result<libc::c_long> {
        if ret == -1 {
            Err(io::Error::last_os_error())
        } else {
            Ok(ret)
        }
    }

    fn cvt_size(ret: libc::ssize_t) -> io::Result<usize> {
        if ret == -1 {
            Err(io::Error::last_os_error())
        } else {
            Ok(ret as usize)
        }
    }

    /// `socket(domain, ty, protocol)`.
    pub fn socket(
        domain: libc::c_int,
        ty: libc::c_int,
        protocol: libc::c_int,
    ) -> io::Result<OwnedFd> {
        // SAFETY: socket takes no pointer.
        let fd = cvt(unsafe { libc::socket(domain, ty, protocol) })?;
        // SAFETY: `fd` was just returned by socket() and is owned by nobody else.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    /// `unshare(flags)`.
    pub fn unshare(flags: libc::c_int) -> io::Result<()> {
        // SAFETY: unshare takes no pointer; the kernel validates the flags.
        cvt(unsafe { libc::unshare(flags) }).map(drop)
    }

    /// `execve(path, [path], [])`; returns only on failure.
    pub fn execve(path: &CStr) -> io::Error {
        let argv = [path.as_ptr(), std::ptr::null()];
        let envp: [*const libc::c_char; 1] = [std::ptr::null()];
        // SAFETY: `path` is NUL-terminated; argv and envp are NULL-terminated
        // arrays of valid C strings that outlive the call.
        unsafe { libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
        io::Error::last_os_error()
    }

    /// `openat(AT_FDCWD, path, O_RDONLY|O_CLOEXEC)`.
    pub fn open_read(path: &CStr) -> io::Result<OwnedFd> {
        // SAFETY: `path` is NUL-terminated; no mode argument for O_RDONLY.
        let fd = cvt(unsafe {
            libc::openat(
                libc::AT_FDCWD,
                path.as_ptr(),
                libc::O_RDONLY | libc::O_CLOEXEC,
            )
        })?;
        // SAFETY: `fd` was just returned by openat() and is owned by nobody else.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    /// `connect(fd, addr)`.
    pub fn connect(fd: RawFd, addr: &SocketAddr) -> io::Result<()> {
        let (ss, len) = super::sockaddr_to_raw(addr);
        // SAFETY: `ss` holds a valid socket address of `len` bytes.
        cvt(unsafe { libc::connect(fd, (&ss as *const libc::sockaddr_storage).cast(), len) })?;
        Ok(())
    }

    /// `bind(fd, addr)`.
    pub fn bind(fd: RawFd, addr: &SocketAddr) -> io::Result<()> {
        let (ss, len) = super::sockaddr_to_raw(addr);
        // SAFETY: `ss` holds a valid socket address of `len` bytes.
        cvt(unsafe { libc::bind(fd, (&ss as *const libc::sockaddr_storage).cast(), len) })?;
        Ok(())
    }

    /// `sendto(fd, buf, 0, addr)`.
    pub fn sendto(fd: RawFd, buf: &[u8], addr: &SocketAddr) -> io::Result<usize> {
        let (ss, len) = super::sockaddr_to_raw(addr);
        // SAFETY: `buf` is valid for reads of its length; `ss` holds a valid
        // socket address of `len` bytes.
        cvt_size(unsafe {
            libc::sendto(
                fd,
                buf.as_ptr().cast(),
                buf.len(),
                0,
                (&ss as *const libc::sockaddr_storage).cast(),
                len,
            )
        })
    }

    /// `recvmsg(fd, one iovec over buf, no control, 0)`: the call the worker
    /// uses, so the probe exercises the same allowlist entry.
    pub fn recv(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // SAFETY: msghdr is plain old data; all-zero is valid.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        // SAFETY: `msg` points at one iovec valid for writes of `buf.len()`
        // bytes, and has no name or control buffer.
        cvt_size(unsafe { libc::recvmsg(fd, &mut msg, 0) })
    }

    /// `ppoll([{fd, POLLIN}], timeout_ms or forever, NULL)` (the worker's
    /// wait): whether `fd` became readable.
    pub fn poll_in(fd: RawFd, timeout_ms: Option<u32>) -> io::Result<bool> {
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let ts = timeout_ms.map(|ms| libc::timespec {
            tv_sec: libc::time_t::from(ms / 1000),
            tv_nsec: libc::c_long::from(ms % 1000) * 1_000_000,
        });
        let ts_ptr = ts
            .as_ref()
            .map_or(std::ptr::null(), |t| t as *const libc::timespec);
        // SAFETY: `pfd` is one valid pollfd; `ts_ptr` is NULL or points at
        // `ts`, alive until the call returns; no signal mask.
        let n = cvt(unsafe { libc::ppoll(&mut pfd, 1, ts_ptr, std::ptr::null()) })?;
        Ok(n == 1 && pfd.revents & libc::POLLIN != 0)
    }

    /// `write(fd, buf)`.
    pub fn write(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
        // SAFETY: `buf` is valid for reads of its length.
        cvt_size(unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) })
    }

    /// `setsockopt(fd, level, opt, &value)` for an integer option.
    pub fn setsockopt_int(
        fd: RawFd,
        level: libc::c_int,
        opt: libc::c_int,
        value: libc::c_int,
    ) -> io::Result<()> {
        // SAFETY: `value` is valid for reads of the size passed.
        cvt(unsafe {
            libc::setsockopt(
                fd,
                level,
                opt,
                (&value as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        })?;
        Ok(())
    }

    /// `ptrace(PTRACE_ATTACH, pid)`.
    pub fn ptrace_attach(pid: libc::pid_t) -> io::Result<()> {
        // SAFETY: PTRACE_ATTACH ignores addr and data.
        cvt_long(unsafe {
            libc::ptrace(
                libc::PTRACE_ATTACH,
                pid,
                0 as libc::c_long,
                0 as libc::c_long,
            )
        })?;
        Ok(())
    }

    /// `mount("none", target, "tmpfs", 0, NULL)`.
    #[allow(clippy::manual_c_str_literals)] // c"" needs Rust 1.77; the workspace supports 1.75
    pub fn mount_tmpfs(target: &CStr) -> io::Result<()> {
        // SAFETY: all strings are NUL-terminated; data may be NULL.
        cvt(unsafe {
            libc::mount(
                b"none\0".as_ptr().cast(),
                target.as_ptr(),
                b"tmpfs\0".as_ptr().cast(),
                0,
                std::ptr::null(),
            )
        })?;
        Ok(())
    }

    /// `kill(pid, sig)`.
    pub fn kill(pid: libc::pid_t, sig: libc::c_int) -> io::Result<()> {
        // SAFETY: kill takes no pointer.
        cvt(unsafe { libc::kill(pid, sig) })?;
        Ok(())
    }

    /// `tgkill(tgid, tid, sig)`.
    pub fn tgkill(tgid: libc::pid_t, tid: libc::pid_t, sig: libc::c_int) -> io::Result<()> {
        // SAFETY: tgkill takes integer arguments only.
        let ret = unsafe { libc::syscall(libc::SYS_tgkill, tgid, tid, sig) };
        cvt_long(ret)?;
        Ok(())
    }

    /// `prctl(PR_SET_DUMPABLE, value)`.
    pub fn set_dumpable(value: bool) -> io::Result<()> {
        // SAFETY: PR_SET_DUMPABLE takes integer arguments only.
        cvt(unsafe { libc::prctl(libc::PR_SET_DUMPABLE, value as libc::c_ulong, 0, 0, 0) })?;
        Ok(())
    }

    /// `mmap(NULL, 4096, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_ANONYMOUS)`,
    /// unmapped again on success.
    pub fn mmap_exec() -> io::Result<()> {
        // SAFETY: an anonymous mapping at a kernel-chosen address cannot
        // alias existing memory.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                4096,
                libc::PROT_READ | libc::PROT_EXEC,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `p` is the 4096-byte mapping created above, used by nothing.
        cvt(unsafe { libc::munmap(p, 4096) })?;
        Ok(())
    }

    /// `fork()`; the child `_exit(0)`s at once and the parent reaps it.
    /// Only for single-threaded callers.
    pub fn fork_and_reap() -> io::Result<()> {
        // SAFETY: the child only calls the async-signal-safe `_exit`.
        let pid = cvt(unsafe { libc::fork() })?;
        if pid == 0 {
            // SAFETY: `_exit` ends the child without running Rust or libc
            // cleanup that could touch state shared with the parent.
            unsafe { libc::_exit(0) };
        }
        let mut status = 0;
        // SAFETY: `status` is valid for writes.
        cvt(unsafe { libc::waitpid(pid, &mut status, 0) })?;
        Ok(())
    }

    /// Plays the launcher's drop: no supplementary groups, then all gids and
    /// uids set to `uid`/`gid`, which also empties every capability set.
    pub fn drop_to(uid: libc::uid_t, gid: libc::gid_t) -> io::Result<()> {
        // SAFETY: an empty group list needs no pointer to be valid.
        cvt(unsafe { libc::setgroups(0, std::ptr::null()) })?;
        // SAFETY: integer arguments only.
        cvt(unsafe { libc::setresgid(gid, gid, gid) })?;
        // SAFETY: integer arguments only.
        cvt(unsafe { libc::setresuid(uid, uid, uid) })?;
        Ok(())
    }

    /// The parent process's pid.
    pub fn getppid() -> libc::pid_t {
        // SAFETY: getppid cannot fail and takes no argument.
        unsafe { libc::getppid() }
    }
}
