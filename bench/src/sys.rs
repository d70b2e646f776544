//! The harness's system calls: `nix` for every one it wraps (ptrace, the
//! identity switch, the pre-exec clock and write, kill, pipes, CPU affinity), and the one
//! it does not, `wait4` with its rusage (`ru_maxrss` of the finished child),
//! and `PTRACE_GET_SYSCALL_INFO` (nix's wrapper passes no buffer size), by
//! hand: the crate's only `unsafe` code.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::Command;

use nix::sched::{self, CpuSet};
use nix::sys::ptrace;
use nix::sys::signal::{self, Signal};
use nix::time::{clock_gettime, ClockId};
use nix::unistd::{self, Gid, Pid, Uid};

pub const SIGKILL: i32 = libc::SIGKILL;
pub const SIGTRAP: i32 = libc::SIGTRAP;

pub const PTRACE_O_TRACESYSGOOD: usize = libc::PTRACE_O_TRACESYSGOOD as usize;
pub const PTRACE_O_TRACEEXEC: usize = libc::PTRACE_O_TRACEEXEC as usize;
pub const PTRACE_O_TRACEEXIT: usize = libc::PTRACE_O_TRACEEXIT as usize;
pub const PTRACE_O_EXITKILL: usize = libc::PTRACE_O_EXITKILL as usize;
pub const PTRACE_EVENT_EXEC: i32 = libc::PTRACE_EVENT_EXEC;
pub const PTRACE_EVENT_EXIT: i32 = libc::PTRACE_EVENT_EXIT;

/// `execve` and `execveat` on this architecture.
pub const EXEC_SYSCALLS: [u64; 2] = [libc::SYS_execve as u64, libc::SYS_execveat as u64];

fn from_nix(e: nix::Error) -> io::Error {
    io::Error::from_raw_os_error(e as i32)
}

fn pid(p: u32) -> Pid {
    Pid::from_raw(p as i32)
}

/// CLOCK_MONOTONIC in nanoseconds: the clock both the parent and a child's
/// pre-exec hook read, so that "exec to exit" can be measured across fork.
pub fn monotonic_ns() -> u64 {
    // CLOCK_MONOTONIC always exists: a failure is impossible, 0 harmless.
    clock_gettime(ClockId::CLOCK_MONOTONIC)
        .map(|ts| ts.tv_sec() as u64 * 1_000_000_000 + ts.tv_nsec() as u64)
        .unwrap_or(0)
}

/// A close-on-exec pipe: (read end, write end).
pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(from_nix)
}

/// Whether we run as root (the bench needs to: setcap, strace -u, flood).
/// Moves this process into a network namespace of its own (the children
/// it starts afterwards run there too).
pub fn enter_new_netns() -> io::Result<()> {
    sched::unshare(sched::CloneFlags::CLONE_NEWNET).map_err(from_nix)
}

pub fn is_root() -> bool {
    unistd::geteuid().is_root()
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
            ptrace::traceme().map_err(from_nix)?;
        }
        if let Some((uid, gid)) = ids {
            unistd::setgroups(&[]).map_err(from_nix)?;
            let gid = Gid::from_raw(gid);
            unistd::setresgid(gid, gid, gid).map_err(from_nix)?;
            let uid = Uid::from_raw(uid);
            unistd::setresuid(uid, uid, uid).map_err(from_nix)?;
        }
        if let Some(fd) = stamp {
            let now = monotonic_ns().to_ne_bytes();
            // SAFETY: `fd` is the stamp pipe's write end, which the parent
            // keeps open until the child has exec'd.
            let fd = unsafe { BorrowedFd::borrow_raw(fd) };
            unistd::write(fd.as_fd(), &now).map_err(from_nix)?;
        }
        Ok(())
    };
    // SAFETY: the hook only makes async-signal-safe calls (ptrace, setgroups, setres[ug]id,
    // clock_gettime, write) and allocates nothing, as required between fork and exec.
    unsafe { cmd.pre_exec(hook) };
}

/// The CPU the floods are pinned to: `BENCH_FLOOD_CPU`'s value (empty:
/// none), or by default the last CPU this process may run on (none if it
/// may run on one only: nothing to pin).
pub fn flood_cpu(setting: Option<&str>) -> io::Result<Option<usize>> {
    match setting {
        Some("") => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| io::Error::other(format!("BENCH_FLOOD_CPU={v:?}: not a CPU number"))),
        None => {
            let set = sched::sched_getaffinity(Pid::from_raw(0)).map_err(from_nix)?;
            let usable: Vec<usize> = (0..CpuSet::count())
                .filter(|&c| set.is_set(c).unwrap_or(false))
                .collect();
            Ok(if usable.len() > 1 {
                usable.last().copied()
            } else {
                None
            })
        }
    }
}

/// Pins this process (and so every child it starts) to `cpu`; returns the
/// mask it had.
pub fn pin_to_cpu(cpu: usize) -> io::Result<CpuSet> {
    let before = sched::sched_getaffinity(Pid::from_raw(0)).map_err(from_nix)?;
    let mut only = CpuSet::new();
    only.set(cpu).map_err(from_nix)?;
    sched::sched_setaffinity(Pid::from_raw(0), &only).map_err(from_nix)?;
    Ok(before)
}

/// Gives this process back the mask [`pin_to_cpu`] returned.
pub fn restore_affinity(mask: &CpuSet) -> io::Result<()> {
    sched::sched_setaffinity(Pid::from_raw(0), mask).map_err(from_nix)
}

/// Sends `sig` to `pid` (0 probes).
pub fn send_signal(p: u32, sig: i32) -> io::Result<()> {
    let sig = match sig {
        0 => None,
        n => Some(Signal::try_from(n).map_err(from_nix)?),
    };
    signal::kill(pid(p), sig).map_err(from_nix)
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
/// By hand: nix's `waitpid` does not return the rusage.
pub fn wait_pid(p: u32) -> io::Result<(Wait, u64)> {
    let mut status: libc::c_int = 0;
    // SAFETY: all-zero is a valid rusage.
    let mut rusage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `status` and `rusage` are live and writable for the call.
        let ret = unsafe { libc::wait4(p as libc::pid_t, &mut status, libc::__WALL, &mut rusage) };
        if ret != -1 {
            break;
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    let wait = if libc::WIFEXITED(status) {
        Wait::Exited(libc::WEXITSTATUS(status))
    } else if libc::WIFSTOPPED(status) {
        Wait::Stopped {
            sig: libc::WSTOPSIG(status),
            event: (status >> 16) & 0xff,
        }
    } else {
        Wait::Signaled(libc::WTERMSIG(status))
    };
    Ok((wait, rusage.ru_maxrss as u64))
}

/// `PTRACE_SETOPTIONS`.
pub fn ptrace_options(p: u32, options: usize) -> io::Result<()> {
    let options = ptrace::Options::from_bits_truncate(options as libc::c_int);
    ptrace::setoptions(pid(p), options).map_err(from_nix)
}

/// Resumes a stopped tracee, delivering `sig` (0 for none); with `syscalls`
/// it stops again at the next system-call entry or exit.
pub fn ptrace_resume(p: u32, syscalls: bool, sig: i32) -> io::Result<()> {
    let sig = match sig {
        0 => None,
        n => Some(Signal::try_from(n).map_err(from_nix)?),
    };
    if syscalls {
        ptrace::syscall(pid(p), sig)
    } else {
        ptrace::cont(pid(p), sig)
    }
    .map_err(from_nix)
}

/// At a system-call stop: `Some(nr)` if it is a syscall *entry*.
///
/// By hand, not `nix::sys::ptrace::syscall_info`: nix 0.30 passes a null
/// `addr`, which for `PTRACE_GET_SYSCALL_INFO` is the size of the buffer,
/// so the kernel copies nothing and `op` is whatever the stack held (the
/// memory figure then missed every exec stop).
pub fn ptrace_syscall_entry(p: u32) -> io::Result<Option<u64>> {
    let mut info = std::mem::MaybeUninit::<libc::ptrace_syscall_info>::zeroed();
    let size = std::mem::size_of::<libc::ptrace_syscall_info>();
    // SAFETY: the kernel writes at most `size` bytes into `info`, which is
    // that large; `pid` is our stopped tracee.
    let filled = unsafe {
        libc::ptrace(
            libc::PTRACE_GET_SYSCALL_INFO,
            p as libc::pid_t,
            size as *mut libc::c_void,
            info.as_mut_ptr(),
        )
    };
    if filled < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: zero-initialised, then (partly) filled by the kernel: every
    // bit pattern is a valid `ptrace_syscall_info` of plain integers.
    let info = unsafe { info.assume_init() };
    if info.op != libc::PTRACE_SYSCALL_INFO_ENTRY {
        return Ok(None);
    }
    // SAFETY: `op` says the kernel filled in the `entry` member of the union.
    Ok(Some(unsafe { info.u.entry.nr }))
}
