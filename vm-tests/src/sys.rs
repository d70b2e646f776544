//! Every system call the guest agent and the probe make, as thin safe
//! wrappers with one `io::Result` shape: through `nix` wherever nix has the
//! call, raw `libc` (with a `// SAFETY:` line each) for what it lacks —
//! extended attributes, `socket`/`setsockopt`/`getsockopt` with arbitrary
//! integers, the `SIOCSIFFLAGS` ioctl, `pidfd_*`, Landlock's version query,
//! `getpriority`/`setpriority`. This is the only module of the crate with
//! `unsafe` code; the raw wrappers turn -1 into the errno through [`cvt`].

use std::ffi::CString;
use std::io;
use std::os::fd::RawFd;

/// The one errno helper and `PR_SET_NO_NEW_PRIVS`, shared with every crate.
pub use policy::sys::{cvt, set_no_new_privs};

fn cstring(s: &str) -> io::Result<CString> {
    CString::new(s).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// `mount(2)`, through nix.
pub fn mount(
    source: &str,
    target: &str,
    fstype: &str,
    flags: libc::c_ulong,
    data: Option<&str>,
) -> io::Result<()> {
    nix::mount::mount(
        Some(source),
        target,
        Some(fstype),
        nix::mount::MsFlags::from_bits_truncate(flags),
        data,
    )?;
    Ok(())
}

/// `lsetxattr(2)`: set an extended attribute without following a final symlink.
pub fn lsetxattr(path: &str, name: &str, value: &[u8]) -> io::Result<()> {
    let (path, name) = (cstring(path)?, cstring(name)?);
    // SAFETY: path and name are NUL-terminated; value is a valid slice for its length.
    cvt(unsafe {
        libc::lsetxattr(
            path.as_ptr(),
            name.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    })?;
    Ok(())
}

/// What `fork` returned.
pub enum Fork {
    /// We are the child.
    Child,
    /// We are the parent; the child's pid.
    Parent(libc::pid_t),
}

/// `fork(2)`, through nix. The callers are single-threaded (PID 1, the user shell, the probe).
pub fn fork() -> io::Result<Fork> {
    use nix::unistd::ForkResult;
    // SAFETY: the calling programs are single-threaded, so the child may run arbitrary code.
    Ok(match unsafe { nix::unistd::fork() }? {
        ForkResult::Child => Fork::Child,
        ForkResult::Parent { child } => Fork::Parent(child.as_raw()),
    })
}

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// `exit(code)`.
    Code(i32),
    /// Killed by this signal.
    Signal(i32),
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exit::Code(c) => write!(f, "exit {c}"),
            Exit::Signal(s) => write!(f, "signal {s} ({})", signal_name(*s)),
        }
    }
}

/// A signal's conventional name, for evidence.
pub fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGSYS => "SIGSYS",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGABRT => "SIGABRT",
        libc::SIGTERM => "SIGTERM",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGSTOP => "SIGSTOP",
        _ => "?",
    }
}

/// `waitpid(2)`, through nix; `Ok(None)` when `nohang` and the child is still running.
pub fn waitpid(pid: libc::pid_t, nohang: bool) -> io::Result<Option<(libc::pid_t, Exit)>> {
    use nix::sys::wait::{WaitPidFlag, WaitStatus};
    let flags = nohang.then_some(WaitPidFlag::WNOHANG);
    Ok(
        match nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), flags)? {
            WaitStatus::Exited(p, code) => Some((p.as_raw(), Exit::Code(code))),
            WaitStatus::Signaled(p, sig, _) => Some((p.as_raw(), Exit::Signal(sig as i32))),
            // Stopped/continued children (ptrace cases) are not an end: keep waiting.
            WaitStatus::StillAlive => None,
            _ if nohang => None,
            _ => return waitpid(pid, nohang),
        },
    )
}

/// `kill(2)`, through nix; a negative pid is a process group.
pub fn kill(pid: libc::pid_t, sig: i32) -> io::Result<()> {
    let sig = nix::sys::signal::Signal::try_from(sig)?;
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig)?;
    Ok(())
}

/// `setpgid(0, 0)`, through nix: the case child leads its own group, so a timeout kills all of it.
pub fn new_process_group() -> io::Result<()> {
    let me = nix::unistd::Pid::from_raw(0);
    nix::unistd::setpgid(me, me)?;
    Ok(())
}

/// `execve(2)`, through nix: returns only on failure.
pub fn execve(path: &str, argv: &[String], env: &[String]) -> io::Error {
    let build = || -> io::Result<(CString, Vec<CString>, Vec<CString>)> {
        Ok((
            cstring(path)?,
            argv.iter().map(|a| cstring(a)).collect::<io::Result<_>>()?,
            env.iter().map(|a| cstring(a)).collect::<io::Result<_>>()?,
        ))
    };
    match build() {
        Ok((path, argv, env)) => match nix::unistd::execve(&path, &argv, &env) {
            Err(e) => e.into(),
            Ok(never) => match never {},
        },
        Err(e) => e,
    }
}

/// `pipe2(O_CLOEXEC)`, through nix: (read end, write end), owned by the caller.
pub fn pipe() -> io::Result<(RawFd, RawFd)> {
    use std::os::fd::IntoRawFd;
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    Ok((r.into_raw_fd(), w.into_raw_fd()))
}

/// `dup2(2)`, through nix (the result has no CLOEXEC).
pub fn dup2(from: RawFd, to: RawFd) -> io::Result<()> {
    nix::unistd::dup2(from, to)?;
    Ok(())
}

/// `close(2)`, through nix, ignoring errors (used on descriptors we own).
pub fn close(fd: RawFd) {
    let _ = nix::unistd::close(fd);
}

/// `setgroups([gid])`, `setresgid(gid)`, `setresuid(uid)`, through nix: become an ordinary user.
pub fn become_user(uid: u32, gid: u32) -> io::Result<()> {
    use nix::unistd::{Gid, Uid};
    let (uid, gid) = (Uid::from_raw(uid), Gid::from_raw(gid));
    nix::unistd::setgroups(&[gid])?;
    nix::unistd::setresgid(gid, gid, gid)?;
    nix::unistd::setresuid(uid, uid, uid)?;
    Ok(())
}

/// `socket(2)`; the caller owns the result. Not nix: its `socket` takes enums that cannot
/// express every triple the probe tries (a packet socket's protocol in network byte order).
pub fn socket(domain: i32, ty: i32, protocol: i32) -> io::Result<RawFd> {
    // SAFETY: plain system call.
    cvt(unsafe { libc::socket(domain, ty | libc::SOCK_CLOEXEC, protocol) })
}

/// `setsockopt(2)` with an int value (nix has no generic integer option).
pub fn setsockopt_int(fd: RawFd, level: i32, name: i32, value: i32) -> io::Result<()> {
    // SAFETY: value is a valid int for the stated length.
    cvt(unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const i32).cast(),
            std::mem::size_of::<i32>() as libc::socklen_t,
        )
    })?;
    Ok(())
}

/// `getsockopt(2)` for an int value (nix has no `SO_DOMAIN` and no generic integer option).
pub fn getsockopt_int(fd: RawFd, level: i32, name: i32) -> io::Result<i32> {
    let mut value: i32 = 0;
    let mut len = std::mem::size_of::<i32>() as libc::socklen_t;
    // SAFETY: value and len are valid out-pointers of the stated size.
    cvt(unsafe { libc::getsockopt(fd, level, name, (&mut value as *mut i32).cast(), &mut len) })?;
    Ok(value)
}

/// Brings the loopback interface up (`SIOCSIFFLAGS` with `IFF_UP`), as `ip link set lo up`
/// would (nix has no wrapper for this ioctl).
pub fn loopback_up() -> io::Result<()> {
    let fd = socket(libc::AF_INET, libc::SOCK_DGRAM, 0)?;
    // SAFETY: ifreq is plain data; all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    req.ifr_ifru.ifru_flags =
        (libc::IFF_UP | libc::IFF_LOOPBACK | libc::IFF_RUNNING) as libc::c_short;
    // SAFETY: req is a valid ifreq for SIOCSIFFLAGS.
    let r = cvt(unsafe { libc::ioctl(fd, libc::SIOCSIFFLAGS, &req) });
    close(fd);
    r.map(drop)
}

/// `ptrace(PTRACE_ATTACH, pid)`, through nix; on success detaches again.
pub fn ptrace_attach(pid: libc::pid_t) -> io::Result<()> {
    let pid = nix::unistd::Pid::from_raw(pid);
    nix::sys::ptrace::attach(pid)?;
    // PTRACE_DETACH needs the tracee in its ptrace-stop: wait for the stop the attach's SIGSTOP
    // causes first. Detaching at once races with it, and a tracee that stops after a failed
    // detach stays stopped when we exit (a shell waiting on us would then hang the case).
    let _ = nix::sys::wait::waitpid(pid, Some(nix::sys::wait::WaitPidFlag::__WALL));
    let _ = nix::sys::ptrace::detach(pid, None);
    Ok(())
}

/// `pidfd_open(2)` (nix has no wrapper).
pub fn pidfd_open(pid: libc::pid_t) -> io::Result<RawFd> {
    // SAFETY: plain system call with integer arguments.
    let fd = cvt(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) })?;
    Ok(fd as RawFd)
}

/// `pidfd_getfd(2)`: take a copy of another process's descriptor (nix has no wrapper).
pub fn pidfd_getfd(pidfd: RawFd, target: RawFd) -> io::Result<RawFd> {
    // SAFETY: plain system call with integer arguments.
    let fd = cvt(unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd, target, 0) })?;
    Ok(fd as RawFd)
}

/// `reboot(RB_POWER_OFF)`, through nix: the last resort when the debug-exit port is missing.
pub fn power_off() {
    let _ = nix::sys::reboot::reboot(nix::sys::reboot::RebootMode::RB_POWER_OFF);
}

/// `sync(2)`, through nix.
pub fn sync() {
    nix::unistd::sync();
}

/// `getpid`, `getppid`, `getuid`, through nix.
pub fn ids() -> (libc::pid_t, libc::pid_t, u32) {
    (
        nix::unistd::getpid().as_raw(),
        nix::unistd::getppid().as_raw(),
        nix::unistd::getuid().as_raw(),
    )
}

/// `strerror`-style name for an errno, for evidence ("EACCES").
pub fn errno_name(errno: i32) -> &'static str {
    match errno {
        libc::EPERM => "EPERM",
        libc::EACCES => "EACCES",
        libc::ENOENT => "ENOENT",
        libc::EINVAL => "EINVAL",
        libc::ENOSYS => "ENOSYS",
        libc::EBADF => "EBADF",
        libc::ENOTSOCK => "ENOTSOCK",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::ESRCH => "ESRCH",
        libc::EAGAIN => "EAGAIN",
        libc::ENOEXEC => "ENOEXEC",
        libc::EAFNOSUPPORT => "EAFNOSUPPORT",
        _ => "E?",
    }
}

/// Takes ownership of a descriptor that [`pipe`] or [`socket`] returned and nobody else owns.
pub fn owned_fd(fd: RawFd) -> std::os::fd::OwnedFd {
    use std::os::fd::FromRawFd;
    // SAFETY: callers pass descriptors they just created and have not handed to anything else.
    unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) }
}

/// `sendto(2)`, through nix, of `data` to the IPv4 address `addr` (host byte order) and `port`.
pub fn sendto_v4(fd: RawFd, data: &[u8], addr: u32, port: u16) -> io::Result<usize> {
    let to = nix::sys::socket::SockaddrIn::from(std::net::SocketAddrV4::new(addr.into(), port));
    Ok(nix::sys::socket::sendto(
        fd,
        data,
        &to,
        nix::sys::socket::MsgFlags::empty(),
    )?)
}

/// The Landlock ABI version the running kernel offers
/// (`landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)`), nix has no wrapper.
pub fn landlock_abi() -> io::Result<i32> {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: with a null attribute pointer and size 0 this flag only returns the version.
    let v = cvt(unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    })?;
    Ok(v as i32)
}

/// `getpriority(PRIO_PROCESS, 0)`: this process's nice value (nix has no wrapper).
pub fn nice_value() -> io::Result<i32> {
    // getpriority may legitimately return -1: clear errno first and check it after.
    // SAFETY: __errno_location returns this thread's errno; getpriority takes integers only.
    unsafe { *libc::__errno_location() = 0 };
    // SAFETY: as above.
    let v = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
    let e = io::Error::last_os_error();
    if v == -1 && e.raw_os_error() != Some(0) {
        return Err(e);
    }
    Ok(v)
}

/// `setpriority(PRIO_PROCESS, 0, nice)` (nix has no wrapper).
pub fn set_nice_value(nice: i32) -> io::Result<()> {
    // SAFETY: plain system call with integer arguments.
    cvt(unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) })?;
    Ok(())
}
