//! The launcher's only `unsafe` code: every system call it makes, with the
//! `syscall` instruction (`raw_syscall`: the launchers link no libc),
//! the privileged phase's ([`RawSystem`]) and the sequence's; the
//! initial stack's reads (auxiliary vector, argv, environment); and, with
//! feature `nolibc` (the launcher binaries), the run-time a libc would
//! otherwise provide (`rt`: the entry, self-relocation, memory
//! functions, allocator, panic handler). Each failure is the kernel's
//! errno, as an [`OsError`].
//!
//! Raw system calls rather than `nix` or `rustix`: nix needs a libc, and
//! the few calls here (about twenty, all with integer or fixed-layout
//! arguments) read in one sitting, where a crate's would have to be
//! audited as code that runs privileged. `libc` is used for its
//! constants and structure layouts only. The dependency tree stays
//! `libc` and `policy`.

#[cfg(not(target_arch = "x86_64"))]
compile_error!(
    "the launcher's entry stub and raw system calls are written for x86_64; \
     port `entry_point!`, `raw_syscall` and `rt` (and test them) before building elsewhere"
);

use alloc::vec::Vec;
use core::fmt;

use policy::tools::BpfInsn;

use crate::plan::{Plan, MAX_FILTER};
use crate::privileged::{self, Errno, ExecIds, Privileged, Record};

/// A descriptor number (`std::os::fd::RawFd`, which `no_std` lacks).
pub type RawFd = i32;

/// A failed system call: the kernel's errno.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OsError(pub Errno);

impl OsError {
    /// The same error, from its errno (as `io::Error::from_raw_os_error`).
    pub fn from_raw_os_error(errno: Errno) -> OsError {
        OsError(errno)
    }

    /// Its errno (always there, unlike `io::Error`'s).
    pub fn raw_os_error(&self) -> Option<Errno> {
        Some(self.0)
    }
}

/// C's words (glibc's `strerror`: `errno_text`), as iputils prints them.
impl fmt::Display for OsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match crate::errno_text::glibc_text(self.0) {
            Some(text) => f.write_str(text),
            None => write!(f, "Unknown error {}", self.0),
        }
    }
}

/// A system call's result.
pub type OsResult<T> = Result<T, OsError>;

/// A system call whose arguments are integers only, as an [`OsResult`].
fn int_call(nr: libc::c_long, args: [usize; 5]) -> OsResult<usize> {
    raw_int_syscall(nr, args).map_err(OsError)
}

/// `path` with the terminating NUL the kernel wants; EINVAL for a path
/// with a NUL inside (as `CString::new` refused it).
fn c_path(path: &[u8]) -> OsResult<Vec<u8>> {
    if path.contains(&0) {
        return Err(OsError(libc::EINVAL));
    }
    let mut c = Vec::with_capacity(path.len() + 1);
    c.extend_from_slice(path);
    c.push(0);
    Ok(c)
}

/// Whether `fd` is open.
pub fn fd_is_open(fd: RawFd) -> bool {
    int_call(
        libc::SYS_fcntl,
        [fd as usize, libc::F_GETFD as usize, 0, 0, 0],
    )
    .is_ok()
}

/// Opens what glibc's secure-mode start-up (`__libc_check_standard_fds`)
/// puts on a closed standard descriptor `fd`, at the lowest free
/// descriptor: `/dev/full` write-only for fd 0, `/dev/null` read-only for
/// fds 1 and 2. The same devices and modes whether or not the exec was
/// secure, so a closed stdout fails to write (iputils' `write error`)
/// for root as for a user.
pub fn open_standard_filler(fd: RawFd) -> OsResult<RawFd> {
    let (path, mode) = if fd == 0 {
        (c"/dev/full", libc::O_WRONLY)
    } else {
        (c"/dev/null", libc::O_RDONLY)
    };
    // SAFETY: the path is a NUL-terminated literal the kernel only reads;
    // the flags are integers.
    unsafe {
        raw_syscall(
            libc::SYS_openat,
            [
                libc::AT_FDCWD as usize,
                path.as_ptr() as usize,
                (mode | libc::O_NOFOLLOW) as usize,
                0,
                0,
            ],
        )
    }
    .map(|fd| fd as RawFd)
    .map_err(OsError)
}

/// Puts descriptor `from` at `to` (`dup2`, which leaves `to` inheritable)
/// and closes `from`.
pub fn move_onto(from: RawFd, to: RawFd) -> OsResult<()> {
    let moved = int_call(libc::SYS_dup2, [from as usize, to as usize, 0, 0, 0]);
    // `from` is ours, duplicated or not wanted.
    let _ = int_call(libc::SYS_close, [from as usize, 0, 0, 0, 0]);
    moved.map(drop)
}

/// Closes every descriptor from `first` up.
pub fn close_from(first: RawFd) -> OsResult<()> {
    match int_call(
        libc::SYS_close_range,
        [first as usize, libc::c_uint::MAX as usize, 0, 0, 0],
    ) {
        Ok(_) => return Ok(()),
        Err(OsError(libc::ENOSYS)) => {}
        Err(e) => return Err(e),
    }
    // Kernels before 5.9: close one by one up to the soft limit.
    let lim = rlimit(libc::RLIMIT_NOFILE)?;
    for fd in first..(lim.min(1 << 20) as RawFd) {
        // Nothing in this process uses descriptors above the sockets.
        let _ = int_call(libc::SYS_close, [fd as usize, 0, 0, 0, 0]);
    }
    Ok(())
}

/// The soft limit of `resource` (`prlimit64` of this process, as glibc's
/// `getrlimit`).
fn rlimit(resource: libc::__rlimit_resource_t) -> OsResult<u64> {
    let mut lim = libc::rlimit64 {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a live, writable rlimit64 the kernel fills; the new
    // limit is null (nothing is set).
    unsafe {
        raw_syscall(
            libc::SYS_prlimit64,
            [
                0,
                resource as usize,
                0,
                &mut lim as *mut libc::rlimit64 as usize,
                0,
            ],
        )
    }
    .map_err(OsError)?;
    Ok(lim.rlim_cur)
}

/// `socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC)`: the channel
/// between a worker and its broker (made after the drop).
pub fn seqpacket_pair() -> OsResult<(RawFd, RawFd)> {
    let mut fds = [-1 as libc::c_int; 2];
    // SAFETY: `fds` is a live, writable array of two ints, as socketpair needs.
    unsafe {
        raw_syscall(
            libc::SYS_socketpair,
            [
                libc::AF_UNIX as usize,
                (libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC) as usize,
                0,
                fds.as_mut_ptr() as usize,
                0,
            ],
        )
    }
    .map_err(OsError)?;
    Ok((fds[0], fds[1]))
}

/// `fork()` (a `clone` with `SIGCHLD`, as glibc's): the child's pid in
/// the parent, `None` in the child.
pub fn fork() -> OsResult<Option<u32>> {
    // The launcher is single-threaded and holds no lock: the child runs on
    // with a copy of everything, as after glibc's fork.
    let pid = int_call(libc::SYS_clone, [libc::SIGCHLD as usize, 0, 0, 0, 0])?;
    Ok((pid != 0).then_some(pid as u32))
}

/// Puts `fds[i]` at `3 + i` (each kept open across exec), then closes
/// every other descriptor above 2. Through copies above all of them, so
/// that no move overwrites a descriptor still to be moved.
pub fn arrange_fds(fds: &[RawFd]) -> OsResult<()> {
    let base = fds.iter().copied().max().unwrap_or(2).max(2) + fds.len() as RawFd + 1;
    let mut copies = Vec::with_capacity(fds.len());
    for &fd in fds {
        // The copy is close-on-exec.
        copies.push(int_call(
            libc::SYS_fcntl,
            [
                fd as usize,
                libc::F_DUPFD_CLOEXEC as usize,
                base as usize,
                0,
                0,
            ],
        )? as RawFd);
    }
    for (i, &copy) in copies.iter().enumerate() {
        // dup2 clears close-on-exec on the target, which the exec needs.
        int_call(libc::SYS_dup2, [copy as usize, 3 + i, 0, 0, 0])?;
    }
    close_from(3 + fds.len() as RawFd)
}

/// The soft `RLIMIT_AS`.
pub fn address_space_limit() -> OsResult<u64> {
    rlimit(libc::RLIMIT_AS)
}

/// Real, effective and saved ids of `nr` (`getresuid` or `getresgid`).
fn getres(nr: libc::c_long) -> (u32, u32, u32) {
    let (mut r, mut e, mut s) = (0u32, 0u32, 0u32);
    // SAFETY: three live, writable 32-bit ids, as the kernel writes them;
    // with valid pointers the call cannot fail.
    let _ = unsafe {
        raw_syscall(
            nr,
            [
                &mut r as *mut u32 as usize,
                &mut e as *mut u32 as usize,
                &mut s as *mut u32 as usize,
                0,
                0,
            ],
        )
    };
    (r, e, s)
}

/// Real, effective and saved user ids.
pub fn getresuid() -> (u32, u32, u32) {
    getres(libc::SYS_getresuid)
}

/// Real, effective and saved group ids.
pub fn getresgid() -> (u32, u32, u32) {
    getres(libc::SYS_getresgid)
}

/// This process's id.
pub fn getpid() -> u32 {
    int_call(libc::SYS_getpid, [0; 5]).map_or(0, |pid| pid as u32)
}

/// `sched_yield()`: a scheduling hint that cannot fail (Linux always
/// returns 0).
pub fn sched_yield() {
    let _ = int_call(libc::SYS_sched_yield, [0; 5]);
}

/// `prctl(PR_SET_NO_NEW_PRIVS, 1)`.
pub fn set_no_new_privs() -> OsResult<()> {
    int_call(
        libc::SYS_prctl,
        [libc::PR_SET_NO_NEW_PRIVS as usize, 1, 0, 0, 0],
    )
    .map(drop)
}

/// What the worker check needs of a file's `stat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStat {
    /// `st_mode`: type and permission bits.
    pub mode: u32,
    pub uid: u32,
}

impl FileStat {
    pub fn is_symlink(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFLNK
    }
    pub fn is_file(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFREG
    }
    pub fn is_dir(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFDIR
    }
}

/// `stat(path)` (`follow`) or `lstat(path)`: `newfstatat`, as glibc's.
pub fn stat(path: &[u8], follow: bool) -> OsResult<FileStat> {
    let path = c_path(path)?;
    let flags = if follow { 0 } else { libc::AT_SYMLINK_NOFOLLOW };
    // SAFETY: all-zero bytes are a valid `struct stat` (integers only).
    let mut st: libc::stat = unsafe { core::mem::zeroed() };
    // SAFETY: `path` is NUL-terminated and only read; `st` is a live,
    // writable `struct stat` (x86_64's layout is the kernel's).
    unsafe {
        raw_syscall(
            libc::SYS_newfstatat,
            [
                libc::AT_FDCWD as usize,
                path.as_ptr() as usize,
                &mut st as *mut libc::stat as usize,
                flags as usize,
                0,
            ],
        )
    }
    .map_err(OsError)?;
    Ok(FileStat {
        mode: st.st_mode,
        uid: st.st_uid,
    })
}

/// The target of the symbolic link at `path` (`readlink`).
pub fn readlink(path: &[u8]) -> OsResult<Vec<u8>> {
    let path = c_path(path)?;
    let mut buf = alloc::vec![0u8; libc::PATH_MAX as usize];
    // SAFETY: `path` is NUL-terminated and only read; the kernel writes at
    // most `buf.len()` bytes into `buf`.
    let n = unsafe {
        raw_syscall(
            libc::SYS_readlinkat,
            [
                libc::AT_FDCWD as usize,
                path.as_ptr() as usize,
                buf.as_mut_ptr() as usize,
                buf.len(),
                0,
            ],
        )
    }
    .map_err(OsError)?;
    // A target as long as the buffer may have been cut: too long for a path.
    if n >= buf.len() {
        return Err(OsError(libc::ENAMETOOLONG));
    }
    buf.truncate(n);
    Ok(buf)
}

/// Writes all of `bytes` to stderr, as far as it takes them (a closed or
/// full stderr is not a reason to do anything else).
pub fn write_stderr(mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: `bytes` is live for the call and the kernel only reads it.
        match unsafe {
            raw_syscall(
                libc::SYS_write,
                [2, bytes.as_ptr() as usize, bytes.len(), 0, 0],
            )
        } {
            Ok(0) => return,
            Ok(n) => bytes = bytes.get(n..).unwrap_or(&[]),
            Err(libc::EINTR) => {}
            Err(_) => return,
        }
    }
}

/// Ends the process with `status` (`exit_group`).
pub fn exit(status: i32) -> ! {
    loop {
        let _ = raw_int_syscall(libc::SYS_exit_group, [status as usize, 0, 0, 0, 0]);
        let _ = raw_int_syscall(libc::SYS_exit, [status as usize, 0, 0, 0, 0]);
    }
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

/// `capget` of this thread (also the privileged phase's).
pub fn capget() -> OsResult<CapSets> {
    raw_capget().map_err(OsError)
}

fn raw_capget() -> Result<CapSets, Errno> {
    let mut header = CapHeader {
        version: CAP_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: a v3 header and an array of two data structs, both live and laid out as the
    // kernel's; the kernel writes `data` (and `header.version` if it prefers another).
    unsafe {
        raw_syscall(
            libc::SYS_capget,
            [
                &mut header as *mut CapHeader as usize,
                data.as_mut_ptr() as usize,
                0,
                0,
                0,
            ],
        )
    }?;
    let join = |lo: u32, hi: u32| u64::from(lo) | (u64::from(hi) << 32);
    Ok(CapSets {
        effective: join(data[0].effective, data[1].effective),
        permitted: join(data[0].permitted, data[1].permitted),
        inheritable: join(data[0].inheritable, data[1].inheritable),
    })
}

fn raw_capset(sets: CapSets) -> Result<(), Errno> {
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
    unsafe {
        raw_syscall(
            libc::SYS_capset,
            [
                &mut header as *mut CapHeader as usize,
                data.as_ptr() as usize,
                0,
                0,
                0,
            ],
        )
    }
    .map(drop)
}

/// `execve(path, argv, envp)`, each entry of `envp` a `(name, value)` pair;
/// returns only on failure (EINVAL for a string with a NUL inside, as
/// `CString::new` refused it).
pub fn execve(path: &[u8], argv: &[Vec<u8>], envp: &[(Vec<u8>, Vec<u8>)]) -> OsError {
    let strings = (
        c_path(path),
        argv.iter().map(|a| c_path(a)).collect::<OsResult<Vec<_>>>(),
        envp.iter()
            .map(|(k, v)| c_path(&[k.as_slice(), b"=", v.as_slice()].concat()))
            .collect::<OsResult<Vec<_>>>(),
    );
    let (path, argv, envp) = match strings {
        (Ok(path), Ok(argv), Ok(envp)) => (path, argv, envp),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return e,
    };
    let pointers = |strings: &[Vec<u8>]| -> Vec<usize> {
        let mut p: Vec<usize> = strings.iter().map(|s| s.as_ptr() as usize).collect();
        p.push(0);
        p
    };
    let (argv_ptrs, envp_ptrs) = (pointers(&argv), pointers(&envp));
    // SAFETY: every pointer is to a NUL-terminated string owned by `path`,
    // `argv` or `envp`, which outlive the call; both arrays end with null.
    let err = unsafe {
        raw_syscall(
            libc::SYS_execve,
            [
                path.as_ptr() as usize,
                argv_ptrs.as_ptr() as usize,
                envp_ptrs.as_ptr() as usize,
                0,
                0,
            ],
        )
    };
    OsError(err.err().unwrap_or(libc::EINVAL))
}

/// One system call with the `syscall` instruction: no libc, no `errno`
/// (there is no thread-local storage). Returns the result, or the errno
/// the kernel answered.
///
/// # Safety
///
/// `args` must be valid arguments for system call `nr`: every pointer
/// among them live and as large as the call reads or writes.
#[inline(always)]
unsafe fn raw_syscall(nr: libc::c_long, args: [usize; 5]) -> Result<usize, Errno> {
    let ret: isize;
    // SAFETY: the x86_64 system-call convention: number in rax, arguments
    // in rdi, rsi, rdx, r10, r8, r9; the kernel clobbers rcx and r11 and
    // returns in rax. What the call does with memory is the caller's
    // contract (so no `nomem`/`readonly` option).
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") nr as isize => ret,
            in("rdi") args[0],
            in("rsi") args[1],
            in("rdx") args[2],
            in("r10") args[3],
            in("r8") args[4],
            // The sixth argument, always 0 here (`mmap`'s offset).
            in("r9") 0usize,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    if (-4095..0).contains(&ret) {
        Err(-ret as Errno)
    } else {
        Ok(ret as usize)
    }
}

/// A system call whose arguments are integers only.
fn raw_int_syscall(nr: libc::c_long, args: [usize; 5]) -> Result<usize, Errno> {
    // SAFETY: every caller passes plain integers, which the kernel reads as
    // integers (descriptors, flags, ids): no memory of ours is touched.
    unsafe { raw_syscall(nr, args) }
}

/// The privileged phase's system calls (see [`crate::privileged`]).
pub struct RawSystem;

impl Privileged for RawSystem {
    fn set_not_dumpable(&mut self) -> Result<(), Errno> {
        raw_int_syscall(
            libc::SYS_prctl,
            [libc::PR_SET_DUMPABLE as usize, 0, 0, 0, 0],
        )
        .map(drop)
    }

    fn raise(&mut self, cap: u64, file_caps: u64) -> Result<(), Errno> {
        // Lowering everything (a datagram socket's turn): nothing to do
        // when nothing is effective and the permitted set is already
        // within the file capability (a file-capability exec: `=p`; a
        // launcher without its capability: nothing at all), one capset
        // otherwise (root: everything was effective).
        if cap == 0 {
            let held = raw_capget()?;
            if held.effective == 0 && held.permitted & !file_caps == 0 {
                return Ok(());
            }
            return raw_capset(CapSets {
                effective: 0,
                permitted: held.permitted & file_caps,
                inheritable: 0,
            });
        }
        // One capset: the capability effective, the permitted set cut to
        // the file capability (anything more an administrator granted is
        // gone at once). It fails only if something in `file_caps` is not
        // permitted; then ask which, and keep what is there.
        let want = CapSets {
            effective: cap,
            permitted: file_caps | cap,
            inheritable: 0,
        };
        match raw_capset(want) {
            Err(libc::EPERM) => {
                let held = raw_capget()?;
                if held.permitted & cap == 0 {
                    return Err(libc::EPERM);
                }
                raw_capset(CapSets {
                    effective: cap,
                    permitted: held.permitted & (file_caps | cap),
                    inheritable: 0,
                })
            }
            other => other,
        }
    }

    fn open_socket(&mut self, domain: i32, ty: i32, protocol: i32) -> Result<i32, Errno> {
        // Inheritable across exec on purpose: the worker receives it.
        raw_int_syscall(
            libc::SYS_socket,
            [domain as usize, ty as usize, protocol as usize, 0, 0],
        )
        .map(|fd| fd as i32)
    }

    fn move_fd(&mut self, from: i32, to: i32) -> Result<(), Errno> {
        let moved = raw_int_syscall(libc::SYS_dup2, [from as usize, to as usize, 0, 0, 0]);
        // Ours, and duplicated or not wanted: a failed close leaves nothing
        // worse than one more descriptor, which step 5 closes.
        let _ = raw_int_syscall(libc::SYS_close, [from as usize, 0, 0, 0, 0]);
        moved.map(drop)
    }

    fn lock_filter(&mut self, fd: i32, program: &[BpfInsn]) -> Result<(), Errno> {
        raw_attach_filter(fd, program)?;
        raw_lock_filter(fd)
    }

    fn set_priority(&mut self, nice: i32) -> Result<(), Errno> {
        // `0` is the calling process; nice values are passed as int.
        raw_int_syscall(
            libc::SYS_setpriority,
            [libc::PRIO_PROCESS as usize, 0, nice as isize as usize, 0, 0],
        )
        .map(drop)
    }

    fn drop_bounding_set(&mut self) -> Result<(), Errno> {
        // Every capability the kernel knows: it answers EINVAL past the last one.
        for cap in 0..64usize {
            match raw_int_syscall(
                libc::SYS_prctl,
                [libc::PR_CAPBSET_DROP as usize, cap, 0, 0, 0],
            ) {
                Ok(_) => {}
                Err(libc::EINVAL) if cap > 0 => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn drop_ids(&mut self, uid: u32, gid: u32) -> Result<(), Errno> {
        let groups = [gid];
        // SAFETY: `groups` is a live array of one gid_t, which the kernel only reads.
        unsafe { raw_syscall(libc::SYS_setgroups, [1, groups.as_ptr() as usize, 0, 0, 0]) }?;
        let (g, u) = (gid as usize, uid as usize);
        raw_int_syscall(libc::SYS_setresgid, [g, g, g, 0, 0])?;
        raw_int_syscall(libc::SYS_setresuid, [u, u, u, 0, 0]).map(drop)
    }

    fn clear_capabilities(&mut self) -> Result<(), Errno> {
        raw_capset(CapSets::default())
    }

    fn die(&mut self, line: &[u8]) {
        // SAFETY: `line` is live for the call and the kernel only reads it.
        let _ = unsafe {
            raw_syscall(
                libc::SYS_write,
                [2, line.as_ptr() as usize, line.len(), 0, 0],
            )
        };
        // exit_group does not return; if it ever did, `exit` tries again:
        // no privileged code may run after a failed drop.
        exit(2)
    }
}

/// `setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, program)`; at most
/// [`MAX_FILTER`] instructions (EINVAL beyond).
fn raw_attach_filter(fd: i32, program: &[BpfInsn]) -> Result<(), Errno> {
    if program.len() > MAX_FILTER {
        return Err(libc::EINVAL);
    }
    let mut insns = [libc::sock_filter {
        code: 0,
        jt: 0,
        jf: 0,
        k: 0,
    }; MAX_FILTER];
    let mut len: u16 = 0;
    for (slot, i) in insns.iter_mut().zip(program) {
        *slot = libc::sock_filter {
            code: i.code,
            jt: i.jt,
            jf: i.jf,
            k: i.k,
        };
        len += 1;
    }
    let prog = libc::sock_fprog {
        len,
        filter: insns.as_mut_ptr(),
    };
    // SAFETY: `prog` points at `insns`, `len` instructions that outlive
    // the call; the kernel copies the program and only reads both.
    unsafe {
        raw_syscall(
            libc::SYS_setsockopt,
            [
                fd as usize,
                libc::SOL_SOCKET as usize,
                libc::SO_ATTACH_FILTER as usize,
                &prog as *const libc::sock_fprog as usize,
                core::mem::size_of::<libc::sock_fprog>(),
            ],
        )
    }
    .map(drop)
}

/// `setsockopt(fd, SOL_SOCKET, SO_LOCK_FILTER, 1)`: from now on nobody can
/// detach or replace the socket's filter.
fn raw_lock_filter(fd: i32) -> Result<(), Errno> {
    let one: libc::c_int = 1;
    // SAFETY: `one` is a live c_int of the size passed; the kernel only reads it.
    unsafe {
        raw_syscall(
            libc::SYS_setsockopt,
            [
                fd as usize,
                libc::SOL_SOCKET as usize,
                libc::SO_LOCK_FILTER as usize,
                &one as *const libc::c_int as usize,
                core::mem::size_of::<libc::c_int>(),
            ],
        )
    }
    .map(drop)
}

/// The privileged phase's `socket()`, for the hostile tests' probes (which
/// must create exactly what the launcher creates).
pub fn socket(domain: i32, ty: i32, protocol: i32) -> OsResult<RawFd> {
    RawSystem.open_socket(domain, ty, protocol).map_err(OsError)
}

/// The privileged phase's filter attach, for the hostile tests' probes.
pub fn attach_filter(fd: RawFd, program: &[BpfInsn]) -> OsResult<()> {
    raw_attach_filter(fd, program).map_err(OsError)
}

/// The privileged phase's filter lock, for the hostile tests' probes.
pub fn lock_filter(fd: RawFd) -> OsResult<()> {
    raw_lock_filter(fd).map_err(OsError)
}

/// Which of fds 0–2 are closed (bit `n` for fd `n`), with one raw `poll`
/// as musl's start-up asks too (`POLLNVAL`); None if the poll is refused
/// (`RLIMIT_NOFILE` below 3).
fn closed_standard_fds() -> Option<u8> {
    let mut fds = [libc::pollfd {
        fd: 0,
        events: 0,
        revents: 0,
    }; 3];
    for (n, p) in fds.iter_mut().enumerate() {
        p.fd = n as libc::c_int;
    }
    // SAFETY: poll reads and writes the three pollfd structures of `fds`,
    // which outlive the call; a zero timeout never blocks.
    let polled = unsafe {
        raw_syscall(
            libc::SYS_poll,
            [fds.as_mut_ptr() as usize, fds.len(), 0, 0, 0],
        )
    };
    polled.ok()?;
    Some(
        fds.iter()
            .enumerate()
            .filter(|(_, p)| p.revents & libc::POLLNVAL != 0)
            .fold(0, |mask, (n, _)| mask | 1 << n),
    )
}

/// The ids and secure-mode flag the kernel started us with, from the
/// auxiliary vector on the initial stack.
///
/// # Safety
///
/// `stack` must be the process's initial stack pointer as the kernel set
/// it: `argc`, the `argv` pointers and a null, the `envp` pointers and a
/// null, then the auxiliary vector's (key, value) pairs up to `AT_NULL`.
pub unsafe fn exec_ids(stack: *const usize) -> ExecIds {
    let mut ids = ExecIds::default();
    // SAFETY: the layout above, which the kernel guarantees: every read is
    // inside it, and the walks end at the nulls it puts there.
    unsafe {
        let argc = *stack;
        let mut p = stack.add(1 + argc + 1);
        while *p != 0 {
            p = p.add(1);
        }
        p = p.add(1);
        loop {
            let (key, value) = (*p, *p.add(1));
            match key as libc::c_ulong {
                libc::AT_NULL => break,
                libc::AT_UID => ids.uid = value as u32,
                libc::AT_EUID => ids.euid = value as u32,
                libc::AT_GID => ids.gid = value as u32,
                libc::AT_EGID => ids.egid = value as u32,
                libc::AT_SECURE => ids.secure = value != 0,
                _ => {}
            }
            p = p.add(2);
        }
    }
    ids
}

/// The privileged phase, called first by the entry of
/// [`entry_point!`](crate::entry_point), before relocation: runs `plan`
/// with the raw system calls and returns what it did.
///
/// # Safety
///
/// As for [`exec_ids`]; and it must run at the entry point, once, on the
/// only thread.
pub unsafe fn privileged_phase(plan: &Plan, stack: *const usize) -> Record {
    // SAFETY: the caller's contract.
    let ids = unsafe { exec_ids(stack) };
    let mut record = privileged::run(plan, ids, &mut RawSystem);
    // After the drop (a failed one never returns here).
    match closed_standard_fds() {
        Some(closed) => record.closed_at_exec = closed,
        None if ids.secure => privileged::refuse_tiny_nofile(plan, &mut RawSystem),
        None => {}
    }
    record
}

/// The process's arguments and environment, copied from the initial
/// stack: `argv` as the kernel passed it, the environment as `(name,
/// value)` pairs split at the first `=` after the name's first byte
/// (entries without one are skipped), as Rust's `std::env::vars_os`.
///
/// # Safety
///
/// As for [`exec_ids`].
#[allow(clippy::type_complexity)]
pub unsafe fn initial_args(stack: *const usize) -> (Vec<Vec<u8>>, Vec<(Vec<u8>, Vec<u8>)>) {
    let string = |p: usize| {
        // SAFETY: every argv and envp pointer on the initial stack is a
        // NUL-terminated string the kernel copied there, alive for the
        // whole process.
        unsafe { core::ffi::CStr::from_ptr(p as *const core::ffi::c_char) }.to_bytes()
    };
    let mut argv = Vec::new();
    let mut env = Vec::new();
    // SAFETY: the layout of `exec_ids`'s contract: argc, argc pointers and
    // a null, then the environment's pointers up to a null.
    unsafe {
        let argc = *stack;
        for i in 0..argc {
            argv.push(string(*stack.add(1 + i)).to_vec());
        }
        let mut p = stack.add(1 + argc + 1);
        while *p != 0 {
            let entry = string(*p);
            if let Some(eq) = entry
                .get(1..)
                .and_then(|rest| rest.iter().position(|&b| b == b'='))
            {
                let (name, value) = entry.split_at(eq + 1);
                env.push((name.to_vec(), value.get(1..).unwrap_or(&[]).to_vec()));
            }
            p = p.add(1);
        }
    }
    (argv, env)
}

/// Defines a launcher binary (feature `nolibc`): its ELF entry,
/// `privsep_launcher_entry` (the linker's `-e`, set by `build.rs`), which
/// runs the privileged phase of the descriptor's [`Plan`] on the initial
/// stack, relocates the image, runs [`crate::launch`] unprivileged and
/// exits with its status; the panic handler (one line, status 2) and the
/// allocator. No libc and no Rust runtime start-up run at all.
#[macro_export]
macro_rules! entry_point {
    ($tool:expr) => {
        // Integers only, evaluated at compile time: valid before relocation.
        static PRIVSEP_PLAN: $crate::plan::Plan = $crate::plan::Plan::of(&$tool);

        extern "C" fn privsep_start(stack: *const usize) -> ! {
            #[allow(unsafe_code)]
            // SAFETY: the entry stub passes the initial stack pointer as
            // the kernel set it, once, on the only thread.
            unsafe {
                $crate::sys::rt::start(&PRIVSEP_PLAN, &$tool, stack)
            }
        }

        // The kernel enters with rsp 16-byte aligned at argc; the call
        // keeps the ABI's alignment. Nothing returns here.
        ::core::arch::global_asm!(
            ".globl privsep_launcher_entry",
            ".type privsep_launcher_entry,@function",
            "privsep_launcher_entry:",
            "xor ebp, ebp",
            "mov rdi, rsp",
            "and rsp, -16",
            "call {start}",
            "ud2",
            ".size privsep_launcher_entry, . - privsep_launcher_entry",
            start = sym privsep_start,
        );

        #[panic_handler]
        fn privsep_panic(info: &::core::panic::PanicInfo<'_>) -> ! {
            $crate::sys::rt::panicked($tool.launcher_name, info)
        }

        #[global_allocator]
        static PRIVSEP_ALLOCATOR: $crate::sys::rt::Arena =
            $crate::sys::rt::Arena::new($tool.launcher_name);
    };
}

/// What a libc would provide, for the launcher binaries (feature
/// `nolibc`, which only they enable: a test build links the standard
/// library, which has its own).
#[cfg(feature = "nolibc")]
pub mod rt;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_initial_stack_gives_argv_and_the_environment_as_std_does() {
        let strings: [&[u8]; 6] = [
            b"ping\0",
            b"-c1\0",
            b"LANG=C\0",
            b"X==y\0",
            b"=a=b\0",
            b"NOEQ\0",
        ];
        let p = |i: usize| strings[i].as_ptr() as usize;
        let stack = [
            2,
            p(0),
            p(1),
            0,
            p(2),
            p(3),
            p(4),
            p(5),
            0,
            libc::AT_NULL as usize,
            0,
        ];
        // SAFETY: laid out as the kernel lays out the initial stack.
        let (argv, env) = unsafe { initial_args(stack.as_ptr()) };
        assert_eq!(argv, [b"ping".to_vec(), b"-c1".to_vec()]);
        let pairs: Vec<(&[u8], &[u8])> = env
            .iter()
            .map(|(n, v)| (n.as_slice(), v.as_slice()))
            .collect();
        // std::env::vars_os: split at the first `=` after the first byte;
        // an entry without one is skipped.
        assert_eq!(
            pairs,
            [(&b"LANG"[..], &b"C"[..]), (b"X", b"=y"), (b"=a", b"b")]
        );
    }

    #[test]
    fn the_system_calls_answer_as_the_libc_does() {
        assert_eq!(getpid(), std::process::id());
        assert!(!fd_is_open(1 << 20));
        assert_eq!(stat(b"/", true).map(|s| s.is_dir()), Ok(true));
        assert_eq!(stat(b"/nonexistent/x", false), Err(OsError(libc::ENOENT)));
        assert_eq!(stat(b"a\0b", false), Err(OsError(libc::EINVAL)));
        assert_eq!(
            execve(b"/nonexistent", &[b"x".to_vec()], &[]),
            OsError(libc::ENOENT)
        );
        assert!(address_space_limit().is_ok());
        assert_eq!(OsError(libc::EPERM).to_string(), "Operation not permitted");
    }
}
