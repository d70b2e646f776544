//! Stops a program, as root, under `ptrace` at the entry of one `execve`
//! and reads the process there: what it holds (`/proc/PID/status`) and
//! what it passes on (the call's path, argv and environment, read from its
//! memory). The launcher tests use it to see the launcher between its
//! privilege drop and its worker's exec — the only moment its own sets
//! can be read, since the exec recomputes them.
//!
//! The tracee asks to be traced while still root, before it takes the
//! caller's ids: the kernel records the tracer's credentials of a
//! `PTRACE_TRACEME` as the tracee's own at that call, and lets a traced
//! file-capability or setuid exec keep its privilege only if they include
//! `CAP_SYS_PTRACE`. Root may also read a non-dumpable tracee's memory.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::FileExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use policy::sys::cvt;

use crate::deadline::{Watchdog, DEADLINE};

/// The process at the entry of the `execve` that was waited for.
#[derive(Debug)]
pub struct ExecStop {
    pub pid: i32,
    /// The image making the call (`/proc/PID/exe`).
    pub exe: PathBuf,
    /// The call's arguments.
    pub path: PathBuf,
    pub argv: Vec<OsString>,
    pub env: Vec<OsString>,
    /// `/proc/PID/status`, name → value.
    pub status: BTreeMap<String, String>,
}

impl ExecStop {
    /// A capability set of `status` (`CapPrm`, `CapEff`, …) as a mask.
    pub fn caps(&self, set: &str) -> u64 {
        let text = self
            .status
            .get(set)
            .unwrap_or_else(|| panic!("no {set} in /proc/{}/status", self.pid));
        u64::from_str_radix(text, 16).unwrap_or_else(|_| panic!("{set}: {text:?}"))
    }

    /// The environment's names, in order.
    pub fn env_names(&self) -> Vec<String> {
        self.env
            .iter()
            .map(|e| {
                let e = e.to_string_lossy();
                e.split_once('=').map_or(&*e, |(n, _)| n).to_string()
            })
            .collect()
    }
}

/// Who the traced program runs as when it is not root: `uid`:`gid`, no
/// supplementary groups, and `inheritable` as its inheritable capability
/// set, the way a caller that was handed inheritable capabilities (by
/// pam_cap, say) starts a tool. The set survives the id change and every
/// exec, so a launcher has to clear it itself.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub uid: u32,
    pub gid: u32,
    pub inheritable: u64,
}

impl Caller {
    /// In the forked child: the inheritable set, raised while still root,
    /// then the groups and ids. Only system calls on stack data.
    fn become_it(self) -> io::Result<()> {
        let mut header = CapHeader {
            version: LINUX_CAPABILITY_VERSION_3,
            pid: 0,
        };
        let mut data = [CapData::default(); 2];
        // SAFETY: `header` and the two-element `data` are live and as large
        // as the kernel's _LINUX_CAPABILITY_VERSION_3 structures.
        check(unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) })?;
        data[0].inheritable = self.inheritable as u32;
        data[1].inheritable = (self.inheritable >> 32) as u32;
        // SAFETY: as above; the kernel only reads them.
        check(unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) })?;
        // SAFETY: no group list is passed (size 0).
        check(unsafe { libc::setgroups(0, std::ptr::null()) }.into())?;
        // SAFETY: plain integers.
        check(unsafe { libc::setresgid(self.gid, self.gid, self.gid) }.into())?;
        // SAFETY: plain integers.
        check(unsafe { libc::setresuid(self.uid, self.uid, self.uid) }.into())
    }
}

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// [`cvt`] for the calls whose value is of no use.
fn check(r: libc::c_long) -> io::Result<()> {
    cvt(r).map(drop)
}

/// Runs `cmd` (stdin and stdout `/dev/null`) traced, as root or as
/// `caller`, and stops it at the first `execve` of `target`, whoever makes
/// it; then kills it. Err if the program ended (or hung past [`DEADLINE`])
/// without that call, with its exit and stderr.
pub fn stop_at_exec(
    cmd: &mut Command,
    target: &Path,
    caller: Option<Caller>,
) -> Result<ExecStop, String> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // SAFETY: the closure runs in the forked child before exec and makes
    // only system calls, which neither allocate nor touch the parent's
    // state.
    unsafe {
        cmd.pre_exec(move || {
            // While still root: the kernel records the tracer's credentials
            // of a PTRACE_TRACEME as the tracee's own at this call, and lets
            // a later setuid or file-capability exec keep its privilege
            // only if those include CAP_SYS_PTRACE.
            check(libc::ptrace(libc::PTRACE_TRACEME, 0, 0usize, 0usize))?;
            match caller {
                Some(c) => c.become_it(),
                None => Ok(()),
            }
        });
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    let pid = child.id() as i32;
    let dog = Watchdog::arm(pid, DEADLINE);
    let result = follow(pid, target);
    // At the stop or not: end the tracee and reap it here (std's `wait`
    // would stop at ptrace stops).
    let _ = crate::probe::kill(pid, libc::SIGKILL);
    let ended = loop {
        match waitpid(pid) {
            Ok(Wait::Stopped(_)) => {
                let _ = resume(pid, 0);
            }
            Ok(w) => break format!("{w:?}"),
            Err(e) => break format!("wait: {e}"),
        }
    };
    let hung = dog.disarm();
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = io::Read::read_to_string(&mut e, &mut stderr);
    }
    result.map_err(|why| {
        let why = if hung {
            format!("hung: still running after {} s, killed", DEADLINE.as_secs())
        } else {
            why
        };
        format!("{cmd:?}: {why} ({ended}); stderr: {stderr:?}")
    })
}

// The fields are read through Debug, in failure messages.
#[allow(dead_code)]
#[derive(Debug)]
enum Wait {
    Exited(i32),
    Signaled(i32),
    /// A stop: the raw `status >> 8` (signal | event << 8, or 0x80 for a
    /// system-call stop under PTRACE_O_TRACESYSGOOD).
    Stopped(i32),
}

fn waitpid(pid: i32) -> io::Result<Wait> {
    let mut status = 0;
    loop {
        // SAFETY: `status` is a live int the kernel writes.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::__WALL) };
        if r == pid {
            break;
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    Ok(if libc::WIFEXITED(status) {
        Wait::Exited(libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        Wait::Signaled(libc::WTERMSIG(status))
    } else {
        Wait::Stopped(status >> 8)
    })
}

/// Resumes to the next system-call stop, delivering `sig` (0: none).
fn resume(pid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: no pointer: `data` is the signal number.
    cvt(unsafe { libc::ptrace(libc::PTRACE_SYSCALL, pid, 0usize, sig as usize) }).map(drop)
}

/// At a system-call stop: `Some((nr, args))` if it is an entry.
fn syscall_entry(pid: i32) -> io::Result<Option<(u64, [u64; 6])>> {
    let mut info = std::mem::MaybeUninit::<libc::ptrace_syscall_info>::zeroed();
    let size = std::mem::size_of::<libc::ptrace_syscall_info>();
    // SAFETY: the kernel writes at most `size` bytes into `info`, which is
    // that large (`addr` is the buffer's size for this request).
    cvt(unsafe {
        libc::ptrace(
            libc::PTRACE_GET_SYSCALL_INFO,
            pid,
            size as *mut libc::c_void,
            info.as_mut_ptr(),
        )
    })?;
    // SAFETY: zero-initialised, then (partly) filled by the kernel: every
    // bit pattern is a valid `ptrace_syscall_info` of plain integers.
    let info = unsafe { info.assume_init() };
    if info.op != libc::PTRACE_SYSCALL_INFO_ENTRY {
        return Ok(None);
    }
    // SAFETY: `op` says the kernel filled in the `entry` member.
    let entry = unsafe { info.u.entry };
    Ok(Some((entry.nr, entry.args)))
}

/// Traces `pid` (stopped at its first exec, by PTRACE_TRACEME) up to the
/// entry of an `execve` of `target`.
fn follow(pid: i32, target: &Path) -> Result<ExecStop, String> {
    match waitpid(pid).map_err(|e| e.to_string())? {
        Wait::Stopped(libc::SIGTRAP) => {}
        other => return Err(format!("did not stop at its first exec: {other:?}")),
    }
    let options = libc::PTRACE_O_TRACESYSGOOD | libc::PTRACE_O_TRACEEXEC | libc::PTRACE_O_EXITKILL;
    // SAFETY: no pointer: `data` is the option mask.
    cvt(unsafe { libc::ptrace(libc::PTRACE_SETOPTIONS, pid, 0usize, options as usize) })
        .map_err(|e| format!("PTRACE_SETOPTIONS: {e}"))?;
    let mut deliver = 0;
    loop {
        resume(pid, deliver).map_err(|e| format!("PTRACE_SYSCALL: {e}"))?;
        deliver = 0;
        match waitpid(pid).map_err(|e| e.to_string())? {
            Wait::Stopped(s) if s == libc::SIGTRAP | 0x80 => {
                let Some((nr, args)) = syscall_entry(pid).map_err(|e| e.to_string())? else {
                    continue;
                };
                if nr != libc::SYS_execve as u64 {
                    continue;
                }
                let mem = File::open(format!("/proc/{pid}/mem"))
                    .map_err(|e| format!("/proc/{pid}/mem: {e}"))?;
                let path = PathBuf::from(OsString::from_vec(read_string(&mem, args[0])?));
                if path != target {
                    continue;
                }
                let status =
                    crate::procfs::status(pid).map_err(|e| format!("/proc/{pid}/status: {e}"))?;
                return Ok(ExecStop {
                    pid,
                    exe: std::fs::read_link(format!("/proc/{pid}/exe"))
                        .map_err(|e| format!("/proc/{pid}/exe: {e}"))?,
                    path,
                    argv: read_vector(&mem, args[1])?,
                    env: read_vector(&mem, args[2])?,
                    status,
                });
            }
            // An exec event; the call's exit follows as a syscall stop.
            Wait::Stopped(s) if s == libc::SIGTRAP | (libc::PTRACE_EVENT_EXEC << 8) => {}
            // A signal for the tracee: deliver it.
            Wait::Stopped(s) => deliver = s & 0x7f,
            Wait::Exited(_) | Wait::Signaled(_) => {
                return Err(format!("ended before executing {}", target.display()))
            }
        }
    }
}

/// A NUL-terminated string at `addr` of the tracee.
fn read_string(mem: &File, addr: u64) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut chunk = [0u8; 256];
    loop {
        let at = addr + out.len() as u64;
        let n = mem
            .read_at(&mut chunk, at)
            .map_err(|e| format!("reading the tracee at {at:#x}: {e}"))?;
        if n == 0 {
            return Err(format!("no string end at {addr:#x}"));
        }
        let part = chunk.get(..n).unwrap_or(&[]);
        match part.iter().position(|&b| b == 0) {
            Some(end) => {
                out.extend_from_slice(part.get(..end).unwrap_or(&[]));
                return Ok(out);
            }
            None => out.extend_from_slice(part),
        }
        if out.len() > 1 << 20 {
            return Err(format!("string at {addr:#x} longer than 1 MiB"));
        }
    }
}

/// A null-terminated array of string pointers at `addr` (argv, envp).
fn read_vector(mem: &File, addr: u64) -> Result<Vec<OsString>, String> {
    let mut out = Vec::new();
    let width = std::mem::size_of::<usize>() as u64;
    for i in 0..65536u64 {
        let mut word = [0u8; 8];
        let slot = word.get_mut(..width as usize).unwrap_or(&mut []);
        mem.read_exact_at(slot, addr + i * width)
            .map_err(|e| format!("reading the tracee at {:#x}: {e}", addr + i * width))?;
        let ptr = u64::from_ne_bytes(word);
        if ptr == 0 {
            return Ok(out);
        }
        out.push(OsString::from_vec(read_string(mem, ptr)?));
    }
    Err(format!("no end of the vector at {addr:#x}"))
}
