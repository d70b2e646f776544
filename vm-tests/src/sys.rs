//! Every raw system call the guest agent and the probe make, as thin safe
//! wrappers. This is the only module of the crate with `unsafe` code; each
//! wrapper turns -1 into the errno through [`cvt`].

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::RawFd;

/// Turns a C-style `-1` return into `io::Error::last_os_error()`.
pub fn cvt<T: PartialEq + From<i8>>(ret: T) -> io::Result<T> {
    if ret == T::from(-1) {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

fn cstring(s: &str) -> io::Result<CString> {
    CString::new(s).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// `mount(2)`.
pub fn mount(
    source: &str,
    target: &str,
    fstype: &str,
    flags: libc::c_ulong,
    data: Option<&str>,
) -> io::Result<()> {
    let (source, target, fstype) = (cstring(source)?, cstring(target)?, cstring(fstype)?);
    let data = data.map(cstring).transpose()?;
    let data_ptr = data
        .as_ref()
        .map_or(std::ptr::null(), |d| d.as_ptr().cast());
    // SAFETY: every pointer is a NUL-terminated string (or null for data) that outlives the call.
    cvt(unsafe {
        libc::mount(
            source.as_ptr(),
            target.as_ptr(),
            fstype.as_ptr(),
            flags,
            data_ptr,
        )
    })?;
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

/// `lgetxattr(2)` into a fresh buffer.
pub fn lgetxattr(path: &str, name: &str) -> io::Result<Vec<u8>> {
    let (path, name) = (cstring(path)?, cstring(name)?);
    let mut buf = vec![0u8; 512];
    // SAFETY: path and name are NUL-terminated; buf is writable for its length.
    let n = cvt(unsafe {
        libc::lgetxattr(
            path.as_ptr(),
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    })?;
    buf.truncate(n as usize);
    Ok(buf)
}

/// What `fork` returned.
pub enum Fork {
    /// We are the child.
    Child,
    /// We are the parent; the child's pid.
    Parent(libc::pid_t),
}

/// `fork(2)`. The callers are single-threaded (PID 1, the user shell, the probe).
pub fn fork() -> io::Result<Fork> {
    // SAFETY: the calling programs are single-threaded, so the child may run arbitrary code.
    let pid = cvt(unsafe { libc::fork() })?;
    Ok(if pid == 0 {
        Fork::Child
    } else {
        Fork::Parent(pid)
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

/// `waitpid(2)`; `Ok(None)` when `nohang` and the child is still running.
pub fn waitpid(pid: libc::pid_t, nohang: bool) -> io::Result<Option<(libc::pid_t, Exit)>> {
    let mut status = 0;
    let flags = if nohang { libc::WNOHANG } else { 0 };
    // SAFETY: status is a valid out-pointer.
    let got = cvt(unsafe { libc::waitpid(pid, &mut status, flags) })?;
    if got == 0 {
        return Ok(None);
    }
    let exit = if libc::WIFSIGNALED(status) {
        Exit::Signal(libc::WTERMSIG(status))
    } else {
        Exit::Code(libc::WEXITSTATUS(status))
    };
    Ok(Some((got, exit)))
}

/// `kill(2)`; a negative pid is a process group.
pub fn kill(pid: libc::pid_t, sig: i32) -> io::Result<()> {
    // SAFETY: plain system call.
    cvt(unsafe { libc::kill(pid, sig) })?;
    Ok(())
}

/// `setpgid(0, 0)`: the case child leads its own group, so a timeout kills all of it.
pub fn new_process_group() -> io::Result<()> {
    // SAFETY: plain system call.
    cvt(unsafe { libc::setpgid(0, 0) })?;
    Ok(())
}

/// `execve(2)`: returns only on failure.
pub fn execve(path: &str, argv: &[String], env: &[String]) -> io::Error {
    let build = || -> io::Result<(CString, Vec<CString>, Vec<CString>)> {
        Ok((
            cstring(path)?,
            argv.iter().map(|a| cstring(a)).collect::<io::Result<_>>()?,
            env.iter().map(|a| cstring(a)).collect::<io::Result<_>>()?,
        ))
    };
    let (path, argv, env) = match build() {
        Ok(t) => t,
        Err(e) => return e,
    };
    let mut argv_p: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    argv_p.push(std::ptr::null());
    let mut env_p: Vec<*const libc::c_char> = env.iter().map(|a| a.as_ptr()).collect();
    env_p.push(std::ptr::null());
    // SAFETY: path, argv and envp are NUL-terminated strings in NULL-terminated arrays that
    // outlive the call.
    unsafe { libc::execve(path.as_ptr(), argv_p.as_ptr(), env_p.as_ptr()) };
    io::Error::last_os_error()
}

/// `pipe2(O_CLOEXEC)`: (read end, write end).
pub fn pipe() -> io::Result<(RawFd, RawFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid array of two ints.
    cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    Ok((fds[0], fds[1]))
}

/// `dup2(2)` (the result has no CLOEXEC).
pub fn dup2(from: RawFd, to: RawFd) -> io::Result<()> {
    // SAFETY: plain system call on descriptors.
    cvt(unsafe { libc::dup2(from, to) })?;
    Ok(())
}

/// `close(2)`, ignoring errors (used on descriptors we own).
pub fn close(fd: RawFd) {
    // SAFETY: the caller owns fd.
    unsafe { libc::close(fd) };
}

/// `read(2)`.
pub fn read(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: buf is writable for its length.
    let n = cvt(unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) })?;
    Ok(n as usize)
}

/// `setgroups([gid])`, `setresgid(gid)`, `setresuid(uid)`: become an ordinary user.
pub fn become_user(uid: u32, gid: u32) -> io::Result<()> {
    let groups = [gid];
    // SAFETY: groups is a valid array of one gid.
    cvt(unsafe { libc::setgroups(1, groups.as_ptr()) })?;
    // SAFETY: plain system calls.
    cvt(unsafe { libc::setresgid(gid, gid, gid) })?;
    // SAFETY: plain system call.
    cvt(unsafe { libc::setresuid(uid, uid, uid) })?;
    Ok(())
}

/// `prctl(PR_SET_NO_NEW_PRIVS, 1)`.
pub fn set_no_new_privs() -> io::Result<()> {
    // SAFETY: plain prctl with integer arguments.
    cvt(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) })?;
    Ok(())
}

/// `socket(2)`; the caller owns the result.
pub fn socket(domain: i32, ty: i32, protocol: i32) -> io::Result<RawFd> {
    // SAFETY: plain system call.
    cvt(unsafe { libc::socket(domain, ty | libc::SOCK_CLOEXEC, protocol) })
}

/// `setsockopt(2)` with an int value.
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

/// `getsockopt(2)` for an int value.
pub fn getsockopt_int(fd: RawFd, level: i32, name: i32) -> io::Result<i32> {
    let mut value: i32 = 0;
    let mut len = std::mem::size_of::<i32>() as libc::socklen_t;
    // SAFETY: value and len are valid out-pointers of the stated size.
    cvt(unsafe { libc::getsockopt(fd, level, name, (&mut value as *mut i32).cast(), &mut len) })?;
    Ok(value)
}

/// Brings the loopback interface up (`SIOCSIFFLAGS` with `IFF_UP`), as `ip link set lo up` would.
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

/// `ptrace(PTRACE_ATTACH, pid)`; on success detaches again.
pub fn ptrace_attach(pid: libc::pid_t) -> io::Result<()> {
    let null = std::ptr::null_mut::<libc::c_void>();
    // SAFETY: PTRACE_ATTACH takes no pointers.
    cvt(unsafe { libc::ptrace(libc::PTRACE_ATTACH, pid, null, null) })?;
    // SAFETY: as above; we only undo our own attach.
    unsafe { libc::ptrace(libc::PTRACE_DETACH, pid, null, null) };
    Ok(())
}

/// `pidfd_open(2)`.
pub fn pidfd_open(pid: libc::pid_t) -> io::Result<RawFd> {
    // SAFETY: plain system call with integer arguments.
    let fd = cvt(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) })?;
    Ok(fd as RawFd)
}

/// `pidfd_getfd(2)`: take a copy of another process's descriptor.
pub fn pidfd_getfd(pidfd: RawFd, target: RawFd) -> io::Result<RawFd> {
    // SAFETY: plain system call with integer arguments.
    let fd = cvt(unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd, target, 0) })?;
    Ok(fd as RawFd)
}

/// `reboot(RB_POWER_OFF)`: the last resort when the debug-exit port is missing.
pub fn power_off() {
    // SAFETY: plain system call; we are PID 1 and done.
    unsafe { libc::reboot(libc::RB_POWER_OFF) };
}

/// `sync(2)`.
pub fn sync() {
    // SAFETY: plain system call.
    unsafe { libc::sync() };
}

/// `getpid`, `getppid`, `getuid`.
pub fn ids() -> (libc::pid_t, libc::pid_t, u32) {
    // SAFETY: plain system calls that cannot fail.
    unsafe { (libc::getpid(), libc::getppid(), libc::getuid()) }
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

/// Reads a NUL-terminated C string (used for `uname`-free kernel release lookups).
pub fn c_str_lossy(bytes: &[u8]) -> String {
    CStr::from_bytes_until_nul(bytes).map_or_else(
        |_| String::from_utf8_lossy(bytes).into_owned(),
        |c| c.to_string_lossy().into_owned(),
    )
}

/// Takes ownership of a descriptor that [`pipe`] or [`socket`] returned and nobody else owns.
pub fn owned_fd(fd: RawFd) -> std::os::fd::OwnedFd {
    use std::os::fd::FromRawFd;
    // SAFETY: callers pass descriptors they just created and have not handed to anything else.
    unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) }
}

/// `sendto(2)` of `data` to the IPv4 address `addr` (host byte order) and `port`.
pub fn sendto_v4(fd: RawFd, data: &[u8], addr: u32, port: u16) -> io::Result<usize> {
    // SAFETY: sockaddr_in is plain data; all-zero is a valid value.
    let mut sa: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    sa.sin_family = libc::AF_INET as libc::sa_family_t;
    sa.sin_port = port.to_be();
    sa.sin_addr.s_addr = addr.to_be();
    // SAFETY: data is valid for its length; sa is a valid sockaddr_in of the stated size.
    let n = cvt(unsafe {
        libc::sendto(
            fd,
            data.as_ptr().cast(),
            data.len(),
            0,
            (&sa as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    })?;
    Ok(n as usize)
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
