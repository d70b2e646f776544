//! The launcher's only `unsafe` code: the system calls of the sequence,
//! the raw ones of the privileged phase ([`RawSystem`], made with the
//! `syscall` instruction because glibc is not yet started when they run),
//! the auxiliary-vector read at the entry point, the record the phase
//! leaves for the sequence, and [`entry_point!`](crate::entry_point),
//! each launcher binary's ELF entry stub and C `main`. Each failure of a
//! libc call becomes `io::Error::last_os_error()` through [`cvt`].
//!
//! These stay on `libc` rather than `nix`: nix has no `capget`/`capset`,
//! `close_range` or socket-filter locking, and for the rest it makes the
//! same system calls; nothing of nix (or of glibc) can run before glibc's
//! start-up anyway. The launcher's dependency tree is kept to `libc` and
//! `policy` so that what runs privileged can be read in one sitting.

#[cfg(not(target_arch = "x86_64"))]
compile_error!(
    "the launcher's entry stub and raw system calls are written for x86_64; \
     port `entry_point!` and `raw_syscall` (and test them) before building elsewhere"
);

use std::cell::UnsafeCell;
use std::ffi::{CString, OsString};
use std::io;
use std::os::fd::RawFd;

use policy::tools::BpfInsn;

use crate::plan::{Plan, MAX_FILTER};
use crate::privileged::{self, Errno, ExecIds, Privileged, Record};

/// The one errno helper of post-glibc code, shared with every crate.
use policy::sys::cvt;

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

/// Puts descriptor `from` at `to` (`dup2`, which leaves `to` inheritable)
/// and closes `from`.
pub fn move_onto(from: RawFd, to: RawFd) -> io::Result<()> {
    // SAFETY: integer arguments only; dup2 touches no memory of ours.
    let moved = cvt(unsafe { libc::dup2(from, to) });
    // SAFETY: `from` is ours, duplicated or not wanted; closing it touches
    // no memory of ours.
    unsafe { libc::close(from) };
    moved.map(drop)
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

/// `socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC)`: the channel
/// between a worker and its broker (made after the drop).
pub fn seqpacket_pair() -> io::Result<(RawFd, RawFd)> {
    let mut fds = [-1 as libc::c_int; 2];
    // SAFETY: `fds` is a writable array of two ints, as socketpair needs.
    cvt(unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    })?;
    Ok((fds[0], fds[1]))
}

/// `fork()`: the child's pid in the parent, `None` in the child.
pub fn fork() -> io::Result<Option<u32>> {
    // SAFETY: the launcher is single-threaded (no thread is ever started),
    // so the child may run any code; it only arranges fds and execs.
    let pid = cvt(unsafe { libc::fork() })?;
    Ok((pid != 0).then_some(pid as u32))
}

/// Puts `fds[i]` at `3 + i` (each kept open across exec), then closes
/// every other descriptor above 2. Through copies above all of them, so
/// that no move overwrites a descriptor still to be moved.
pub fn arrange_fds(fds: &[RawFd]) -> io::Result<()> {
    let base = fds.iter().copied().max().unwrap_or(2).max(2) + fds.len() as RawFd + 1;
    let mut copies = Vec::with_capacity(fds.len());
    for &fd in fds {
        // SAFETY: integer arguments only; the copy is close-on-exec.
        copies.push(cvt(unsafe {
            libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, base)
        })?);
    }
    for (i, &copy) in copies.iter().enumerate() {
        // SAFETY: integer arguments only; dup2 clears close-on-exec on the
        // target, which is what the exec needs.
        cvt(unsafe { libc::dup2(copy, 3 + i as RawFd) })?;
    }
    close_from(3 + fds.len() as RawFd)
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

/// `capget` of this thread (a raw system call: it is also the privileged
/// phase's).
pub fn capget() -> io::Result<CapSets> {
    raw_capget().map_err(io::Error::from_raw_os_error)
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

/// `prctl(PR_SET_NO_NEW_PRIVS, 1)`, shared with every crate.
pub use policy::sys::set_no_new_privs;

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

/// One system call with the `syscall` instruction: no libc, no `errno`
/// (thread-local storage does not exist before glibc's start-up). Returns
/// the result, or the errno the kernel answered.
///
/// # Safety
///
/// `args` must be valid arguments for system call `nr`: every pointer
/// among them live and as large as the call reads or writes.
#[inline(always)]
unsafe fn raw_syscall(nr: libc::c_long, args: [usize; 5]) -> Result<usize, Errno> {
    let ret: isize;
    // SAFETY: the x86_64 system-call convention: number in rax, arguments
    // in rdi, rsi, rdx, r10, r8; the kernel clobbers rcx and r11 and
    // returns in rax. What the call does with memory is the caller's
    // contract (so no `nomem`/`readonly` option).
    unsafe {
        std::arch::asm!(
            "syscall",
            inlateout("rax") nr as isize => ret,
            in("rdi") args[0],
            in("rsi") args[1],
            in("rdx") args[2],
            in("r10") args[3],
            in("r8") args[4],
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
        let _ = raw_int_syscall(libc::SYS_exit_group, [2, 0, 0, 0, 0]);
        // exit_group does not return; if it ever did, no privileged code
        // may run after a failed drop.
        loop {
            let _ = raw_int_syscall(libc::SYS_exit, [2, 0, 0, 0, 0]);
        }
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
                std::mem::size_of::<libc::sock_fprog>(),
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
                std::mem::size_of::<libc::c_int>(),
            ],
        )
    }
    .map(drop)
}

/// The privileged phase's `socket()`, for the hostile tests' probes (which
/// must create exactly what the launcher creates).
pub fn socket(domain: i32, ty: i32, protocol: i32) -> io::Result<RawFd> {
    RawSystem
        .open_socket(domain, ty, protocol)
        .map_err(io::Error::from_raw_os_error)
}

/// The privileged phase's filter attach, for the hostile tests' probes.
pub fn attach_filter(fd: RawFd, program: &[BpfInsn]) -> io::Result<()> {
    raw_attach_filter(fd, program).map_err(io::Error::from_raw_os_error)
}

/// The privileged phase's filter lock, for the hostile tests' probes.
pub fn lock_filter(fd: RawFd) -> io::Result<()> {
    raw_lock_filter(fd).map_err(io::Error::from_raw_os_error)
}

/// Which of fds 0–2 are closed (bit `n` for fd `n`), with one raw `poll`
/// as musl's start-up asks (`POLLNVAL`); None if the poll is refused
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
/// auxiliary vector on the initial stack (glibc's `getauxval` is not
/// ready before its start-up).
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

/// Where the privileged phase leaves its [`Record`] for the sequence.
pub struct RecordSlot(UnsafeCell<Option<Record>>);

// SAFETY: written once, by the entry point, before glibc's start-up and
// before any thread exists; read afterwards by `main` on the same thread.
unsafe impl Sync for RecordSlot {}

/// The one record of this process.
pub static PRIVILEGED_PHASE: RecordSlot = RecordSlot(UnsafeCell::new(None));

impl RecordSlot {
    /// What the privileged phase recorded; `None` if it never ran (a
    /// launcher linked without its entry stub).
    pub fn get(&self) -> Option<Record> {
        // SAFETY: see `Sync` above: no write can race with this read.
        unsafe { *self.0.get() }
    }
}

/// The privileged phase, called by the entry stub of
/// [`entry_point!`](crate::entry_point):
/// runs `plan` with the raw system calls and leaves the record in
/// [`PRIVILEGED_PHASE`].
///
/// # Safety
///
/// As for [`exec_ids`]; and it must run at the entry point, once, on the
/// only thread.
pub unsafe fn privileged_phase(plan: &Plan, stack: *const usize) {
    // SAFETY: the caller's contract.
    let ids = unsafe { exec_ids(stack) };
    let mut record = privileged::run(plan, ids, &mut RawSystem);
    // After the drop (a failed one never returns here).
    match closed_standard_fds() {
        Some(closed) => record.closed_at_exec = closed,
        None if ids.secure => privileged::refuse_tiny_nofile(plan, &mut RawSystem),
        None => {}
    }
    // SAFETY: the only write, on the only thread, before any read.
    unsafe { *PRIVILEGED_PHASE.0.get() = Some(record) };
}

/// The C `main`'s `argv` as owned strings. musl (the launchers' libc)
/// hands `argv` to `main` only, not to Rust's standard library (glibc
/// does, through `.init_array`), so `std::env::args_os` is empty in a
/// `#![no_main]` binary there: the sequence takes these instead.
///
/// # Safety
///
/// `argv` must be `main`'s: `argc` pointers to NUL-terminated strings
/// (the kernel's, on the initial stack, alive for the whole process).
pub unsafe fn main_argv(argc: libc::c_int, argv: *const *const libc::c_char) -> Vec<OsString> {
    use std::os::unix::ffi::OsStrExt;
    (0..usize::try_from(argc).unwrap_or(0))
        .map(|i| {
            // SAFETY: i < argc, and each of the first argc pointers is a
            // NUL-terminated string (the caller's contract).
            let arg = unsafe { std::ffi::CStr::from_ptr(*argv.add(i)) };
            std::ffi::OsStr::from_bytes(arg.to_bytes()).to_os_string()
        })
        .collect()
}

/// Defines a launcher binary's entry: an ELF entry stub,
/// `privsep_launcher_entry` (the linker's `-e`, set by `build.rs`), that
/// runs the privileged phase of the descriptor's [`Plan`] on the initial
/// stack and then jumps to the libc's `_start`; and the C `main` (the crate is
/// `#![no_main]`) that runs [`crate::launch`] with its `argv`,
/// unprivileged, and exits with its status. No Rust runtime start-up runs
/// (no `poll` of fds 0–2, no signal-stack set-up, no `SIGPIPE` change),
/// and no libc start-up runs before the drop.
#[macro_export]
macro_rules! entry_point {
    ($tool:expr) => {
        // Integers only, evaluated at compile time: valid before relocation.
        static PRIVSEP_PLAN: $crate::plan::Plan = $crate::plan::Plan::of(&$tool);

        extern "C" fn privsep_privileged_phase(stack: *const usize) {
            #[allow(unsafe_code)]
            // SAFETY: the entry stub passes the initial stack pointer as
            // the kernel set it, once, on the only thread.
            unsafe {
                $crate::sys::privileged_phase(&PRIVSEP_PLAN, stack)
            }
        }

        // The kernel enters here with rsp 16-byte aligned at argc and rdx
        // the loader's finalizer (0 in a static binary). The call keeps the
        // ABI's alignment; r12 is callee-saved, so it carries rdx across;
        // rsp is back at argc for `_start`.
        ::std::arch::global_asm!(
            ".globl privsep_launcher_entry",
            ".type privsep_launcher_entry,@function",
            "privsep_launcher_entry:",
            "mov r12, rdx",
            "mov rdi, rsp",
            "call {phase}",
            "mov rdx, r12",
            "jmp _start",
            ".size privsep_launcher_entry, . - privsep_launcher_entry",
            phase = sym privsep_privileged_phase,
        );

        // SAFETY: `main` is the one symbol of this name in the binary (the
        // crate is `#![no_main]`), with the C signature the libc calls.
        #[allow(unsafe_code)]
        #[no_mangle]
        extern "C" fn main(
            argc: ::std::ffi::c_int,
            argv: *const *const ::std::ffi::c_char,
        ) -> ::std::ffi::c_int {
            // SAFETY: the libc's `_start` passes the kernel's argc and argv.
            let argv = unsafe { $crate::sys::main_argv(argc, argv) };
            $crate::launch(&$tool, argv)
        }
    };
}
