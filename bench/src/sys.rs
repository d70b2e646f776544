//! The harness's only `unsafe` code: the few libc calls that `std` does not
//! wrap (ptrace, wait4 with rusage, a monotonic clock readable in a
//! pre-exec hook, kill). Declared by hand against glibc so that the bench
//! needs no crate beyond `std`. Every failure goes through [`cvt`].

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::Command;

type CInt = i32;
type CLong = i64;

#[repr(C)]
struct Timespec {
    tv_sec: CLong,
    tv_nsec: CLong,
}

extern "C" {
    fn clock_gettime(clock: CInt, ts: *mut Timespec) -> CInt;
    fn pipe2(fds: *mut CInt, flags: CInt) -> CInt;
    fn write(fd: CInt, buf: *const u8, len: usize) -> isize;
    fn kill(pid: CInt, sig: CInt) -> CInt;
    fn wait4(pid: CInt, status: *mut CInt, options: CInt, rusage: *mut CLong) -> CInt;
    fn ptrace(request: CLong, pid: CInt, addr: *mut u8, data: *mut u8) -> CLong;
    fn geteuid() -> u32;
    fn setgroups(n: usize, groups: *const u32) -> CInt;
    fn setresgid(r: u32, e: u32, s: u32) -> CInt;
    fn setresuid(r: u32, e: u32, s: u32) -> CInt;
}

const CLOCK_MONOTONIC: CInt = 1;
const O_CLOEXEC: CInt = 0o2000000;
const WALL: CInt = 0x4000_0000;
pub const SIGKILL: i32 = 9;
pub const SIGTRAP: i32 = 5;

const PTRACE_TRACEME: CLong = 0;
const PTRACE_CONT: CLong = 7;
const PTRACE_SYSCALL: CLong = 24;
const PTRACE_SETOPTIONS: CLong = 0x4200;
const PTRACE_GET_SYSCALL_INFO: CLong = 0x420e;
pub const PTRACE_O_TRACESYSGOOD: usize = 0x1;
pub const PTRACE_O_TRACEEXEC: usize = 0x10;
pub const PTRACE_O_TRACEEXIT: usize = 0x40;
pub const PTRACE_O_EXITKILL: usize = 0x10_0000;
pub const PTRACE_EVENT_EXEC: i32 = 4;
pub const PTRACE_EVENT_EXIT: i32 = 6;
const PTRACE_SYSCALL_INFO_ENTRY: u8 = 1;

/// `execve` and `execveat` on this architecture.
#[cfg(target_arch = "x86_64")]
pub const EXEC_SYSCALLS: [u64; 2] = [59, 322];
#[cfg(target_arch = "aarch64")]
pub const EXEC_SYSCALLS: [u64; 2] = [221, 281];

/// Turns a `-1` return into `errno`.
fn cvt<T: PartialEq + From<i8>>(ret: T) -> io::Result<T> {
    if ret == T::from(-1) {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// CLOCK_MONOTONIC in nanoseconds: the clock both the parent and a child's
/// pre-exec hook read, so that "exec to exit" can be measured across fork.
pub fn monotonic_ns() -> u64 {
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC always exists.
    unsafe { clock_gettime(CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// A close-on-exec pipe: (read end, write end).
pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [-1 as CInt; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    cvt(unsafe { pipe2(fds.as_mut_ptr(), O_CLOEXEC) })?;
    // SAFETY: pipe2 succeeded, so both descriptors are fresh and ours alone.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Whether we run as root (the bench needs to: setcap, strace -u, flood).
pub fn is_root() -> bool {
    // SAFETY: geteuid cannot fail and touches no memory.
    unsafe { geteuid() == 0 }
}

/// Installs the child-side hook that runs just before `execve`, in this
/// order: optionally `PTRACE_TRACEME`; optionally the switch to `ids`
/// (uid, gid; no supplementary groups); optionally a write of the monotonic
/// time to `stamp` (8 bytes, native endian).
///
/// The identity switch is done here rather than with `Command::uid`
/// because std switches *before* running hooks, and the kernel records a
/// TRACEME tracer's credentials as those of the child at that moment: an
/// unprivileged tracee would then not get its file capabilities at exec.
pub fn before_exec(
    cmd: &mut Command,
    traceme: bool,
    ids: Option<(u32, u32)>,
    stamp: Option<&OwnedFd>,
) {
    let stamp: Option<RawFd> = stamp.map(|fd| fd.as_raw_fd());
    let hook = move || -> io::Result<()> {
        if traceme {
            // SAFETY: TRACEME takes no pointers; it only marks this process traced.
            cvt(unsafe {
                ptrace(
                    PTRACE_TRACEME,
                    0,
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                )
            })?;
        }
        if let Some((uid, gid)) = ids {
            // SAFETY: an empty group list is passed as (0, NULL), which the
            // kernel never dereferences.
            cvt(unsafe { setgroups(0, std::ptr::null()) })?;
            // SAFETY: plain integer arguments.
            cvt(unsafe { setresgid(gid, gid, gid) })?;
            // SAFETY: plain integer arguments.
            cvt(unsafe { setresuid(uid, uid, uid) })?;
        }
        if let Some(fd) = stamp {
            let now = monotonic_ns().to_ne_bytes();
            // SAFETY: `now` is 8 readable bytes; write is async-signal-safe.
            cvt(unsafe { write(fd, now.as_ptr(), now.len()) })?;
        }
        Ok(())
    };
    // SAFETY: the hook only makes async-signal-safe calls (ptrace, setgroups, setres[ug]id,
    // clock_gettime, write) and allocates nothing, as required between fork and exec.
    unsafe { cmd.pre_exec(hook) };
}

/// Sends `sig` to `pid`.
pub fn send_signal(pid: u32, sig: i32) -> io::Result<()> {
    // SAFETY: kill takes plain integers.
    cvt(unsafe { kill(pid as CInt, sig) }).map(drop)
}

/// What `wait4` reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    Exited(i32),
    Signaled(i32),
    /// A ptrace stop: the signal and the `PTRACE_EVENT_*` (0 for none).
    Stopped {
        sig: i32,
        event: i32,
    },
}

/// `wait4(pid, __WALL)`: the status and `ru_maxrss` in KiB (meaningful once
/// the child has exited: the largest RSS of every image the process ran).
pub fn wait_pid(pid: u32) -> io::Result<(Wait, u64)> {
    let mut status: CInt = 0;
    // struct rusage: two timevals (4 longs), then ru_maxrss, then 13 longs.
    let mut rusage = [0 as CLong; 18];
    loop {
        // SAFETY: `status` and `rusage` are writable and large enough.
        let ret = unsafe { wait4(pid as CInt, &mut status, WALL, rusage.as_mut_ptr()) };
        match cvt(ret) {
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    let wait = if status & 0x7f == 0 {
        Wait::Exited((status >> 8) & 0xff)
    } else if status & 0xff == 0x7f {
        Wait::Stopped {
            sig: (status >> 8) & 0xff,
            event: (status >> 16) & 0xff,
        }
    } else {
        Wait::Signaled(status & 0x7f)
    };
    Ok((wait, rusage[4] as u64))
}

/// `PTRACE_SETOPTIONS`.
pub fn ptrace_options(pid: u32, options: usize) -> io::Result<()> {
    // SAFETY: SETOPTIONS passes the options as an integer in `data`.
    cvt(unsafe {
        ptrace(
            PTRACE_SETOPTIONS,
            pid as CInt,
            std::ptr::null_mut(),
            options as *mut u8,
        )
    })
    .map(drop)
}

/// Resumes a stopped tracee, delivering `sig` (0 for none); with `syscalls`
/// it stops again at the next system-call entry or exit.
pub fn ptrace_resume(pid: u32, syscalls: bool, sig: i32) -> io::Result<()> {
    let req = if syscalls {
        PTRACE_SYSCALL
    } else {
        PTRACE_CONT
    };
    // SAFETY: CONT/SYSCALL pass the signal as an integer in `data`.
    cvt(unsafe {
        ptrace(
            req,
            pid as CInt,
            std::ptr::null_mut(),
            sig as usize as *mut u8,
        )
    })
    .map(drop)
}

/// At a system-call stop: `Some(nr)` if it is a syscall *entry*.
pub fn ptrace_syscall_entry(pid: u32) -> io::Result<Option<u64>> {
    // struct ptrace_syscall_info: op (u8), pad, arch (u32), ip, sp, then
    // the entry's nr at byte 24 and six args. 128 bytes is more than enough.
    let mut info = [0u64; 16];
    // SAFETY: the kernel writes at most `addr` (= buffer size) bytes into `info`.
    cvt(unsafe {
        ptrace(
            PTRACE_GET_SYSCALL_INFO,
            pid as CInt,
            std::mem::size_of_val(&info) as *mut u8,
            info.as_mut_ptr().cast(),
        )
    })?;
    let op = info[0].to_ne_bytes()[0];
    Ok((op == PTRACE_SYSCALL_INFO_ENTRY).then_some(info[3]))
}
