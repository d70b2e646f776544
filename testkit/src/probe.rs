//! What a compromised worker would try after lock-down, and the few calls
//! the sandbox tests need to play the launcher (open raw sockets, drop ids)
//! and the worker (echo over a raw socket). Each is the bare system call, so
//! that a test sees exactly the outcome the kernel gives. Test-only: no
//! production binary links this crate.

use std::ffi::CStr;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use policy::sys::cvt;

/// `socket(domain, ty, protocol)`.
pub fn socket(domain: libc::c_int, ty: libc::c_int, protocol: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: socket takes no pointer.
    let fd = cvt(unsafe { libc::socket(domain, ty, protocol) })?;
    // SAFETY: `fd` was just returned by socket() and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `setpriority(PRIO_PROCESS, 0, nice)`: what a compromised clockdiff
/// worker would try to undo or deepen the priority it was given.
pub fn setpriority(nice: libc::c_int) -> io::Result<()> {
    // SAFETY: setpriority takes no pointer.
    cvt(unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) }).map(drop)
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
    let (ss, len) = policy::sys::sockaddr_to_raw(addr);
    // SAFETY: `ss` holds a valid socket address of `len` bytes.
    cvt(unsafe { libc::connect(fd, (&ss as *const libc::sockaddr_storage).cast(), len) })?;
    Ok(())
}

/// `bind(fd, addr)`.
pub fn bind(fd: RawFd, addr: &SocketAddr) -> io::Result<()> {
    let (ss, len) = policy::sys::sockaddr_to_raw(addr);
    // SAFETY: `ss` holds a valid socket address of `len` bytes.
    cvt(unsafe { libc::bind(fd, (&ss as *const libc::sockaddr_storage).cast(), len) })?;
    Ok(())
}

/// `sendto(fd, buf, 0, addr)`.
pub fn sendto(fd: RawFd, buf: &[u8], addr: &SocketAddr) -> io::Result<usize> {
    let (ss, len) = policy::sys::sockaddr_to_raw(addr);
    // SAFETY: `buf` is valid for reads of its length; `ss` holds a valid
    // socket address of `len` bytes.
    cvt(unsafe {
        libc::sendto(
            fd,
            buf.as_ptr().cast(),
            buf.len(),
            0,
            (&ss as *const libc::sockaddr_storage).cast(),
            len,
        )
    })
    .map(|n| n as usize)
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
    cvt(unsafe { libc::recvmsg(fd, &mut msg, 0) }).map(|n| n as usize)
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

/// `dup2(from, to)`: a stray descriptor at the number `to`, left for the
/// lock-down to close (it is never owned by an object of the caller's).
pub fn dup_to(from: RawFd, to: RawFd) -> io::Result<()> {
    // SAFETY: integer arguments; `to` names no descriptor the caller owns.
    cvt(unsafe { libc::dup2(from, to) })?;
    Ok(())
}

/// `write(fd, buf)`.
pub fn write(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for reads of its length.
    cvt(unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) }).map(|n| n as usize)
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
    cvt(unsafe {
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
    cvt(ret)?;
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
