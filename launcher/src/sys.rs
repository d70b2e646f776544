//! The launcher's only `unsafe` code: the handful of system calls the
//! sequence makes, and [`entry_point!`], the C `main` of each launcher
//! binary. Each failure becomes `io::Error::last_os_error()` through
//! [`cvt`].
//!
//! These stay on `libc` rather than `nix`: nix has no `capget`/`capset`,
//! `close_range` or socket-filter locking, and for the rest it makes the
//! same system calls; the launcher's dependency tree is kept to `libc` and
//! `policy` so that what runs privileged can be read in one sitting.

use std::ffi::CString;
use std::io;
use std::os::fd::RawFd;

/// Turns a `-1` return into the calling thread's `errno`.
fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Whether `fd` is open.
pub fn fd_is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD takes no pointer; an invalid fd only yields EBADF.
    unsafe { libc::fcntl(fd, libc::F_GETFD) != -1 }
}

/// Opens what glibc's secure-mode start-up (`__libc_check_standard_fds`)
/// puts on a closed standard descriptor `fd`, at the lowest free
/// descriptor: `/dev/full` write-only for fd 0, `/dev/null` read-only for
/// fds 1 and 2. The same devices and modes whether or not the exec was
/// secure, so a closed stdout fails to write (iputils' `write error`)
/// for root as for a user.
pub fn open_standard_filler(fd: RawFd) -> io::Result<RawFd> {
    let (path, mode) = if fd == 0 {
        (c"/dev/full", libc::O_WRONLY)
    } else {
        (c"/dev/null", libc::O_RDONLY)
    };
    // SAFETY: the path is a NUL-terminated literal; flags take no pointer.
    cvt(unsafe { libc::open(path.as_ptr(), mode | libc::O_NOFOLLOW) })
}

/// Closes every descriptor from `first` up.
pub fn close_from(first: RawFd) -> io::Result<()> {
    // SAFETY: close_range takes plain integers and touches no memory of ours.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first as libc::c_uint,
            libc::c_uint::MAX,
            0,
        )
    };
    if ret == 0 {
        return Ok(());
    }
    let err = io::Error::last_os_error();
    if err.raw_os_error() != Some(libc::ENOSYS) {
        return Err(err);
    }
    // Kernels before 5.9: close one by one up to the soft limit.
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable rlimit.
    cvt(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) })?;
    for fd in first..(lim.rlim_cur.min(1 << 20) as RawFd) {
        // SAFETY: closing an fd we do not own is exactly the intent here:
        // nothing in this process uses descriptors above 2 yet.
        unsafe { libc::close(fd) };
    }
    Ok(())
}

/// `socket(domain, ty, protocol)`, inheritable across exec on purpose.
pub fn socket(domain: libc::c_int, ty: libc::c_int, protocol: libc::c_int) -> io::Result<RawFd> {
    // SAFETY: plain integer arguments.
    cvt(unsafe { libc::socket(domain, ty, protocol) })
}

/// `setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, program)`.
pub fn attach_filter(fd: RawFd, program: &[policy::tools::BpfInsn]) -> io::Result<()> {
    let insns: Vec<libc::sock_filter> = program
        .iter()
        .map(|i| libc::sock_filter {
            code: i.code,
            jt: i.jt,
            jf: i.jf,
            k: i.k,
        })
        .collect();
    let len = u16::try_from(insns.len()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let prog = libc::sock_fprog {
        len,
        filter: insns.as_ptr().cast_mut(),
    };
    // SAFETY: `prog` points at `insns`, `len` instructions that outlive the
    // call; the kernel copies the program and only reads both.
    cvt(unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            (&prog as *const libc::sock_fprog).cast(),
            std::mem::size_of::<libc::sock_fprog>() as libc::socklen_t,
        )
    })
    .map(drop)
}

/// `setsockopt(fd, SOL_SOCKET, SO_LOCK_FILTER, 1)`: from now on nobody can
/// detach or replace the socket's filter.
pub fn lock_filter(fd: RawFd) -> io::Result<()> {
    let one: libc::c_int = 1;
    // SAFETY: `one` is a live c_int of the size passed; the kernel only reads it.
    cvt(unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_LOCK_FILTER,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    })
    .map(drop)
}

/// `setpriority(PRIO_PROCESS, 0, nice)`: this process's nice value.
pub fn setpriority_self(nice: libc::c_int) -> io::Result<()> {
    // SAFETY: plain integer arguments; `0` is the calling process.
    cvt(unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) }).map(drop)
}

/// `dup2(from, to)`; `from` stays open.
pub fn dup2(from: RawFd, to: RawFd) -> io::Result<()> {
    // SAFETY: plain integer arguments.
    cvt(unsafe { libc::dup2(from, to) }).map(drop)
}

/// `close(fd)`.
pub fn close(fd: RawFd) {
    // SAFETY: plain integer argument; the caller owns `fd`.
    unsafe { libc::close(fd) };
}

/// Whether the kernel ran us in secure mode (`AT_SECURE`: file
/// capabilities or setuid), from the auxiliary vector: no system call.
pub fn secure_exec() -> bool {
    // SAFETY: getauxval reads the process's own auxiliary vector; any key
    // is valid (unknown ones give 0).
    unsafe { libc::getauxval(libc::AT_SECURE) != 0 }
}

/// The real and effective uid the kernel started us with (`AT_UID`,
/// `AT_EUID`), from the auxiliary vector: no system call.
pub fn exec_uids() -> (u32, u32) {
    // SAFETY: as in `secure_exec`.
    let (uid, euid) = unsafe {
        (
            libc::getauxval(libc::AT_UID),
            libc::getauxval(libc::AT_EUID),
        )
    };
    (uid as u32, euid as u32)
}

/// The soft `RLIMIT_AS`.
pub fn address_space_limit() -> io::Result<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable rlimit.
    cvt(unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut lim) })?;
    Ok(lim.rlim_cur)
}

/// Real, effective and saved user ids.
pub fn getresuid() -> (u32, u32, u32) {
    let (mut r, mut e, mut s) = (0, 0, 0);
    // SAFETY: three valid, writable uid_t; getresuid cannot fail with them.
    unsafe { libc::getresuid(&mut r, &mut e, &mut s) };
    (r, e, s)
}

/// Real, effective and saved group ids.
pub fn getresgid() -> (u32, u32, u32) {
    let (mut r, mut e, mut s) = (0, 0, 0);
    // SAFETY: three valid, writable gid_t; getresgid cannot fail with them.
    unsafe { libc::getresgid(&mut r, &mut e, &mut s) };
    (r, e, s)
}

/// Replaces the supplementary groups with `gid` alone.
pub fn setgroups_to(gid: u32) -> io::Result<()> {
    let list = [gid];
    // SAFETY: `list` is a valid array of one gid_t.
    cvt(unsafe { libc::setgroups(1, list.as_ptr()) }).map(drop)
}

/// `setresgid(gid, gid, gid)`.
pub fn setresgid(gid: u32) -> io::Result<()> {
    // SAFETY: plain integer arguments.
    cvt(unsafe { libc::setresgid(gid, gid, gid) }).map(drop)
}

/// `setresuid(uid, uid, uid)`.
pub fn setresuid(uid: u32) -> io::Result<()> {
    // SAFETY: plain integer arguments.
    cvt(unsafe { libc::setresuid(uid, uid, uid) }).map(drop)
}

/// The three per-thread capability sets as 64-bit masks (bit N = capability N).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CapSets {
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
}

/// `struct __user_cap_header_struct` of <linux/capability.h>.
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

/// `struct __user_cap_data_struct`; version 3 takes two (low and high 32 bits).
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const CAP_VERSION_3: u32 = 0x2008_0522;

/// `capget` of this thread.
pub fn capget() -> io::Result<CapSets> {
    let mut header = CapHeader {
        version: CAP_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: a v3 header and an array of two data structs, both live and laid out as the
    // kernel's; the kernel writes `data` (and `header.version` if it prefers another).
    cvt(unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) } as libc::c_int)?;
    let join = |lo: u32, hi: u32| u64::from(lo) | (u64::from(hi) << 32);
    Ok(CapSets {
        effective: join(data[0].effective, data[1].effective),
        permitted: join(data[0].permitted, data[1].permitted),
        inheritable: join(data[0].inheritable, data[1].inheritable),
    })
}

/// `capset` of this thread.
pub fn capset(sets: CapSets) -> io::Result<()> {
    let mut header = CapHeader {
        version: CAP_VERSION_3,
        pid: 0,
    };
    let half = |shift: u32| CapData {
        effective: (sets.effective >> shift) as u32,
        permitted: (sets.permitted >> shift) as u32,
        inheritable: (sets.inheritable >> shift) as u32,
    };
    let data = [half(0), half(32)];
    // SAFETY: a v3 header and two data structs laid out as the kernel's, live for the call;
    // the kernel only reads `data`.
    cvt(unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) } as libc::c_int)
        .map(drop)
}

/// `prctl(PR_CAPBSET_DROP, cap)` for every capability the kernel knows (it
/// answers EINVAL past the last one).
pub fn drop_bounding_set() -> io::Result<()> {
    for cap in 0..64 {
        // SAFETY: integer arguments only.
        match cvt(unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) }) {
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) && cap > 0 => return Ok(()),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// `prctl(PR_SET_DUMPABLE, 0)`: no ptrace, no /proc/PID/fd for the caller.
pub fn set_not_dumpable() -> io::Result<()> {
    // SAFETY: integer arguments only.
    cvt(unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) }).map(drop)
}

/// `prctl(PR_SET_NO_NEW_PRIVS, 1)`.
pub fn set_no_new_privs() -> io::Result<()> {
    // SAFETY: integer arguments only.
    cvt(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) }).map(drop)
}

/// `prctl(PR_GET_NO_NEW_PRIVS)`.
pub fn no_new_privs() -> io::Result<bool> {
    // SAFETY: integer arguments only.
    cvt(unsafe { libc::prctl(libc::PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) }).map(|v| v == 1)
}

/// `execve(path, argv, envp)`; returns only on failure.
pub fn execve(path: &CString, argv: &[CString], envp: &[CString]) -> io::Error {
    let mut argv_ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    argv_ptrs.push(std::ptr::null());
    let mut envp_ptrs: Vec<*const libc::c_char> = envp.iter().map(|e| e.as_ptr()).collect();
    envp_ptrs.push(std::ptr::null());
    // SAFETY: every pointer is to a NUL-terminated string owned by `path`,
    // `argv` or `envp`, which outlive the call; both arrays end with null.
    unsafe { libc::execve(path.as_ptr(), argv_ptrs.as_ptr(), envp_ptrs.as_ptr()) };
    io::Error::last_os_error()
}

/// Defines the C `main` of a launcher binary (which is `#![no_main]`): it
/// runs [`crate::launch`] for the descriptor given and exits with its
/// status. No Rust runtime start-up runs before it (no `poll` of fds 0–2,
/// no signal-stack set-up, no `SIGPIPE` change): glibc's start-up, then the
/// sequence. `std::env::args_os` still works: glibc hands `argv` to Rust's
/// standard library through `.init_array`.
#[macro_export]
macro_rules! entry_point {
    ($tool:expr) => {
        // SAFETY: `main` is the one symbol of this name in the binary (the
        // crate is `#![no_main]`), with the C signature glibc calls; it
        // touches neither argument.
        #[allow(unsafe_code)]
        #[no_mangle]
        pub extern "C" fn main(
            _argc: ::std::ffi::c_int,
            _argv: *const *const ::std::ffi::c_char,
        ) -> ::std::ffi::c_int {
            $crate::launch(&$tool)
        }
    };
}
