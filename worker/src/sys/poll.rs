//! Waiting: `ppoll` on the handed socket with the signal mask, and the
//! plain waits of the co-processes and clockdiff.

use super::fds::borrowed;
use super::signals::WaitMask;
use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

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
    let mut fds = [PollFd::new(
        // SAFETY: `fd` is the caller's, open for this call.
        unsafe { borrowed(fd) },
        PollFlags::POLLIN,
    )];
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

/// [`ppoll`] on several descriptors (fping's two sockets): what each one
/// has, in the order given. A signal ends the wait early (nothing ready).
pub fn ppoll_fds(fds: &[RawFd], timeout: Duration, mask: &WaitMask) -> io::Result<Vec<Ready>> {
    use nix::poll::{PollFd, PollFlags};
    let mut pfds: Vec<PollFd<'_>> = fds
        .iter()
        .map(|&fd| {
            // SAFETY: the caller's descriptors, open for this call.
            PollFd::new(unsafe { borrowed(fd) }, PollFlags::POLLIN)
        })
        .collect();
    let ts = nix::sys::time::TimeSpec::from_duration(timeout);
    match nix::poll::ppoll(&mut pfds, Some(ts), Some(mask.0)) {
        Ok(_) => Ok(pfds
            .iter()
            .map(|p| {
                let got = p.revents().unwrap_or(PollFlags::empty());
                Ready {
                    readable: got.contains(PollFlags::POLLIN),
                    error: got.contains(PollFlags::POLLERR),
                }
            })
            .collect()),
        Err(nix::errno::Errno::EINTR) => Ok(vec![Ready::default(); fds.len()]),
        Err(e) => Err(e.into()),
    }
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

/// Waits without a deadline until `a` or `b` is readable (or hung up):
/// which of them.
pub fn wait_either(a: RawFd, b: RawFd) -> io::Result<(bool, bool)> {
    use nix::poll::{PollFd, PollFlags};
    let flags = PollFlags::POLLIN;
    let mut fds = [
        // SAFETY: `a` and `b` are the caller's, open for this call.
        PollFd::new(unsafe { borrowed(a) }, flags),
        // SAFETY: as above.
        PollFd::new(unsafe { borrowed(b) }, flags),
    ];
    nix::poll::ppoll(&mut fds, None, None).map_err(io::Error::from)?;
    let ready = |p: &PollFd| {
        p.revents().is_some_and(|r| {
            r.intersects(PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR)
        })
    };
    Ok((ready(&fds[0]), ready(&fds[1])))
}
