//! Descriptors: closing the inherited ones, `/dev/null` in a standard
//! slot, and the lock-free stdio writes (with stdio's error flag).

use super::cvt;
use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, Ordering};

/// Closes every descriptor above `fd`.
pub fn close_above(fd: RawFd) -> io::Result<()> {
    let first = libc::c_uint::try_from(fd + 1).unwrap_or(libc::c_uint::MAX);
    // SAFETY: close_range takes integers; closing descriptors no Rust object
    // owns (std opens none that outlive their use here) is sound.
    cvt(unsafe { libc::close_range(first, libc::c_uint::MAX, 0) })?;
    Ok(())
}

/// Closes every descriptor above 2 except `keep`: only for
/// [`spawn`](super::spawn)'s child, which never returns to the objects
/// that owned them.
pub(super) fn close_all_but(keep: RawFd) -> io::Result<()> {
    if keep > 3 {
        // SAFETY: close_range takes integers; the descriptors closed are
        // owned by no object that is used again (a fork child that ends in
        // `_exit`, see `spawn`).
        cvt(unsafe { libc::close_range(3, (keep - 1) as libc::c_uint, 0) })?;
    }
    close_above(keep)
}

/// `dup2(from, to)`: `to` becomes another descriptor of `from`'s file
/// (mtr-packet's broker puts stderr on fds 0 and 1).
pub fn dup_onto(from: RawFd, to: RawFd) -> io::Result<()> {
    // SAFETY: integer arguments; dup2 closes `to` atomically, and no Rust
    // object owns fds 0-2 of this process.
    cvt(unsafe { libc::dup2(from, to) })?;
    Ok(())
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

/// `fd` borrowed for one call of this module.
///
/// # Safety
///
/// `fd` must stay open (and the same open file) for `'a`. The callers here
/// hand the borrow straight to one system call (`poll`, `read`, `write`)
/// of a descriptor their own caller named for it; a stale number would make
/// that call fail with `EBADF`, or act on whatever reuses the number, never
/// touch memory.
pub(super) unsafe fn borrowed<'a>(fd: RawFd) -> std::os::fd::BorrowedFd<'a> {
    // SAFETY: the caller keeps `fd` open for 'a (this function's contract).
    unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) }
}

/// Writes all of `bytes` to `fd` with write(2), retrying on EINTR and
/// partial writes. Used for stdout/stderr so that output needs no locks and
/// no allocation (the sandbox allows write(2) to fds 1 and 2).
pub fn write_all(fd: RawFd, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        match nix::unistd::write(
            // SAFETY: `fd` is the caller's, open for this call.
            unsafe { borrowed(fd) },
            bytes,
        ) {
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

/// `read(fd, buf)` once (stdin, after ppoll said it is readable): EINTR
/// is zero bytes read but not the end.
pub fn read_once(fd: RawFd, buf: &mut [u8]) -> io::Result<Option<usize>> {
    match nix::unistd::read(
        // SAFETY: `fd` is the caller's, open for this call.
        unsafe { borrowed(fd) },
        buf,
    ) {
        Ok(n) => Ok(Some(n)),
        Err(nix::errno::Errno::EINTR) | Err(nix::errno::Errno::EAGAIN) => Ok(None),
        Err(e) => Err(e.into()),
    }
}
