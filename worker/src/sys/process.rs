//! The process itself: its ids, dumpability, co-processes ([`spawn`]) and
//! `_exit`, its priority, random bytes, the local time zone, and the
//! kernel's list of active LSMs.

use super::cvt;
use std::ffi::CStr;
use std::io;
use std::mem::zeroed;
use std::os::fd::{AsRawFd, OwnedFd};

/// `prctl(PR_SET_DUMPABLE, 0)`: no core dumps, no same-uid ptrace, no
/// /proc/PID/fd access to our raw sockets.
pub fn set_nondumpable() -> io::Result<()> {
    nix::sys::prctl::set_dumpable(false).map_err(io::Error::from)
}

/// `prctl(PR_SET_TIMERSLACK, 1)`: a timed wait ends when asked, where the
/// kernel's default slack lets each one end up to 50 µs late (to batch
/// wake-ups). fping's `-i` counts from the time of the last send, so every
/// late wake-up delays all the sends after it: up to 45 ms over the 900
/// sends of a `-C 3 -i 1` sweep of 300 targets. Unprivileged, this
/// process's own.
pub fn set_precise_timers() -> io::Result<()> {
    nix::sys::prctl::set_timerslack(1).map_err(io::Error::from)
}

/// The real user id ("root" for iputils' limits means real uid 0).
pub fn real_uid() -> u32 {
    nix::unistd::getuid().as_raw()
}

/// The effective user id (iputils' `geteuid() != 0` for its capability hint).
pub fn effective_uid() -> u32 {
    nix::unistd::geteuid().as_raw()
}

/// Whether this process has exactly one thread (`/proc/self/task` lists
/// one): only then may a fork child run arbitrary code. Unknown (no /proc)
/// counts as no.
fn single_threaded() -> bool {
    std::fs::read_dir("/proc/self/task").is_ok_and(|d| d.take(2).count() == 1)
}

/// Forks a co-process that holds `keep` and nothing else above fd 2, runs
/// `child` in it and ends it with `child`'s status (`_exit`: no exit
/// handler, no buffer of the parent's flushed). `child` gets `keep`, or
/// the error that closing the rest met. Returns the child's pid.
///
/// Sound as a safe function: the fork happens only while the process is
/// single-threaded (checked; `EAGAIN` otherwise), and the child never
/// returns into the caller, so no object of the caller's that owned a
/// descriptor closed here is ever used or dropped again.
pub fn spawn(keep: OwnedFd, child: impl FnOnce(io::Result<OwnedFd>) -> i32) -> io::Result<i32> {
    if !single_threaded() {
        return Err(io::Error::from_raw_os_error(libc::EAGAIN));
    }
    // SAFETY: the process is single-threaded (checked above), so the child
    // may run any code.
    match unsafe { nix::unistd::fork() }.map_err(io::Error::from)? {
        nix::unistd::ForkResult::Parent { child } => Ok(child.as_raw()),
        nix::unistd::ForkResult::Child => {
            let kept = super::fds::close_all_but(keep.as_raw_fd()).map(|()| keep);
            exit_now(child(kept))
        }
    }
}

/// `_exit(status)`: a fork child leaves without running the parent's
/// exit handlers or flushing its buffers.
pub fn exit_now(status: i32) -> ! {
    // SAFETY: _exit never returns and touches no memory.
    unsafe { libc::_exit(status) }
}

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

/// Two random bytes from getrandom(2), for the echo identifier.
pub fn random_u16() -> Option<u16> {
    let mut b = [0u8; 2];
    // SAFETY: `b` is valid for writes of 2 bytes.
    let n = cvt(unsafe { libc::getrandom(b.as_mut_ptr().cast(), 2, 0) }).ok()?;
    (n == 2).then(|| u16::from_ne_bytes(b))
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

/// `lsm_list_modules(2)`'s number: Linux 6.8 added it after the system
/// call numbers were unified, so it is the same on every architecture.
const SYS_LSM_LIST_MODULES: libc::c_long = 461;

/// The ids (`LSM_ID_*` of linux/lsm.h) of the LSMs active in this kernel,
/// from `lsm_list_modules(2)`; `None` where the kernel has no such call
/// (before 6.8) or it fails.
pub fn active_lsms() -> Option<Vec<u64>> {
    // linux/lsm.h numbers 14 modules; room for twice as many.
    let mut ids = [0u64; 32];
    let mut size = std::mem::size_of_val(&ids) as u32;
    // SAFETY: `ids` is valid for writes of `size` bytes and `size` for a
    // read and a write of a u32; flags must be 0.
    let n = cvt(unsafe {
        libc::syscall(
            SYS_LSM_LIST_MODULES,
            ids.as_mut_ptr(),
            &mut size as *mut u32,
            0u32,
        )
    })
    .ok()?;
    Some(ids.get(..usize::try_from(n).ok()?)?.to_vec())
}
