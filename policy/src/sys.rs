//! The crate's only `unsafe` code: thin wrappers around the few system calls
//! the handoff needs. Each returns `io::Error::last_os_error()` on failure.

use std::io;
use std::os::fd::RawFd;

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
        libc::getsockopt(fd, level, opt, (&mut value as *mut libc::c_int).cast(), &mut len)
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
