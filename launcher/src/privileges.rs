//! The steps of the launcher after its privileged phase, behind one small
//! trait so that their *order* can be unit-tested (`sequence::tests`), the
//! real implementation, [`System`], and the launcher's error type.

#![forbid(unsafe_code)]

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use policy::tools::{Capability, SocketKind, SocketSpec, Tool};

use crate::sequence::Bytes;
use crate::sys::{self, OsError, OsResult, RawFd};

/// What went wrong, with enough context for a one-line message.
#[derive(Debug)]
pub enum LaunchError {
    /// Sanitizing failed: the process could not be made non-dumpable, fds
    /// 0–2 made valid or the others closed.
    Fds(OsError),
    /// No socket could be opened (every one optional and failed), or a
    /// required one failed: each with the kind tried last and its error.
    /// (A tool whose worker words that itself, ping or fping, never stops here
    /// for want of a socket: `Tool::reports_refusals`.)
    Socket {
        tool: &'static Tool,
        failed: Vec<(&'static SocketSpec, &'static SocketKind, OsError)>,
    },
    /// The launcher-side setup of a socket (its locked filter) failed.
    Setup {
        spec: &'static SocketSpec,
        source: OsError,
    },
    /// The priority could not be set.
    Priority {
        tool: &'static Tool,
        nice: i32,
        capability: Capability,
        source: OsError,
    },
    /// A privilege drop step failed: we refuse to continue.
    Drop { step: &'static str, source: OsError },
    /// After the drop, the process still holds something it should not.
    SelfCheck(String),
    /// The worker binary is not one we are willing to hand a socket to.
    UnsafeWorker { path: &'static str, reason: String },
    /// The exec itself failed.
    Exec { path: &'static str, source: OsError },
    /// The broker's channel or process could not be made.
    Broker(OsError),
}

/// An OS error in C's words (glibc's `strerror`, `errno_text`), as
/// iputils prints them.
pub(crate) struct OsText<'a>(pub(crate) &'a OsError);

impl fmt::Display for OsText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.0, f)
    }
}

fn denied(e: &OsError) -> bool {
    matches!(e.raw_os_error(), Some(libc::EPERM | libc::EACCES))
}

/// "missing CAP_X; install with: setcap … PATH", the hint for a refusal
/// that a missing file capability explains.
fn install_hint(tool: &Tool, cap: Capability) -> String {
    format!(
        "missing {}; install with: setcap {} {}",
        cap.kernel_name(),
        tool.setcap_text(),
        tool.launcher_path
    )
}

impl fmt::Display for LaunchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LaunchError::Fds(e) => write!(f, "cannot set up standard descriptors: {}", OsText(e)),
            LaunchError::Socket { tool, failed, .. } => {
                let what: Vec<&str> = failed.iter().map(|(s, _, _)| s.what).collect();
                let what = what.join(" and ");
                let refused_cap = failed
                    .iter()
                    .all(|(_, _, e)| denied(e))
                    .then(|| failed.iter().find_map(|(_, k, _)| k.capability))
                    .flatten();
                match (failed.as_slice(), refused_cap) {
                    ([(_, _, e), ..], Some(cap)) => write!(
                        f,
                        "cannot open {what} sockets: {}: {}",
                        OsText(e),
                        install_hint(tool, cap)
                    ),
                    _ => {
                        let errors: Vec<String> = failed
                            .iter()
                            .map(|(s, _, e)| format!("{}: {}", s.what, OsText(e)))
                            .collect();
                        write!(f, "cannot open {what} sockets: {}", errors.join("; "))
                    }
                }
            }
            LaunchError::Setup { spec, source } => write!(
                f,
                "cannot lock the socket filter on the {} socket: {}",
                spec.what,
                OsText(source)
            ),
            LaunchError::Priority {
                tool,
                nice,
                capability,
                source,
            } => {
                write!(f, "cannot set priority {nice}: {}", OsText(source))?;
                if denied(source) {
                    write!(f, ": {}", install_hint(tool, *capability))?;
                }
                Ok(())
            }
            LaunchError::Drop { step, source } => {
                write!(f, "cannot drop privileges ({step}): {}", OsText(source))
            }
            LaunchError::SelfCheck(what) => write!(f, "refusing to run: {what}"),
            LaunchError::UnsafeWorker { path, reason } => {
                write!(f, "refusing to run worker {path}: {reason}")
            }
            LaunchError::Exec { path, source } => {
                write!(f, "cannot execute worker {path}: {}", OsText(source))
            }
            LaunchError::Broker(e) => write!(f, "cannot start the broker: {}", OsText(e)),
        }
    }
}

/// The operations of the sequence after the privileged phase, one method
/// per step, so that their order is unit-tested with a recording double.
/// Nothing here runs with a capability: [`crate::privileged`] has dropped
/// everything at the entry point.
pub trait Privileges {
    /// Make sure fds 0–2 are open (where closed: `/dev/full` write-only on
    /// 0, `/dev/null` read-only on 1 and 2, as glibc's secure-mode start-up
    /// does; called when the exec was not secure, for root, or when
    /// `closed_at_exec`, those closed at exec (bit `n` for fd `n`), names
    /// one).
    fn fill_standard_fds(&mut self, closed_at_exec: u8) -> OsResult<()>;
    /// Step 4: `PR_SET_NO_NEW_PRIVS`.
    fn set_no_new_privs(&mut self) -> OsResult<()>;
    /// Step 4 (cont.): refuse to exec if anything privileged is left. The
    /// ids are asked about only if `ids_may_differ` (setuid or setgid
    /// exec, or a caller whose real and effective ids differed): otherwise
    /// the kernel started us with real = effective = saved ids, which no
    /// step since could change.
    fn verify_dropped(&mut self, ids_may_differ: bool) -> Result<(), String>;
    /// Step 5, unprivileged: close every inherited fd from `first` up (the
    /// sockets sit below it).
    fn close_from(&mut self, first: RawFd) -> OsResult<()>;
    /// Step 5, unprivileged: refuse an address-space limit too small for
    /// the worker to start (its loader would fail with a confusing message).
    fn check_address_space(&mut self) -> Result<(), String>;
    /// Step 5, unprivileged: the worker must be a root-owned regular file
    /// that no one else can write or replace.
    fn check_worker(&mut self, path: &'static str) -> Result<(), String>;
    /// Step 5: exec; returns only on failure.
    fn exec(&mut self, path: &'static str, argv: Vec<Bytes>, env: Vec<(Bytes, Bytes)>) -> OsError;
    /// Our pid (kept across exec; goes into `LISTEN_PID`).
    fn pid(&self) -> u32;
    /// Tools with a broker: the channel, an `AF_UNIX` `SOCK_SEQPACKET`
    /// socketpair (close-on-exec until arranged).
    fn channel(&mut self) -> OsResult<(RawFd, RawFd)>;
    /// Tools with a broker: `fork()`, the child's pid in the parent.
    fn fork(&mut self) -> OsResult<Option<u32>>;
    /// Tools with a broker: `fds` to 3, 4, … in order, every other
    /// descriptor above 2 closed.
    fn arrange_fds(&mut self, fds: &[RawFd]) -> OsResult<()>;
    /// Tools with a broker, the child: `sched_yield()` `times` times (a
    /// hint to the scheduler, nothing to fail).
    fn yield_cpu(&mut self, times: u32);
}

/// The smallest `RLIMIT_AS` the launcher lets a worker start with. The
/// statically linked workers start in about 3 MB, then allocate; a limit
/// below this one makes them fail somewhere in the middle (a dynamically
/// linked one failed in the loader, "failed to map segment", exit 127):
/// one clear line from the launcher instead, with margin.
pub const MIN_ADDRESS_SPACE: u64 = 16 << 20;

/// Mode bits that let someone other than the owner replace a file or a
/// directory entry.
const WRITABLE_BY_OTHERS: u32 = 0o022;

/// `path` as text for a message.
fn shown(path: &[u8]) -> String {
    String::from_utf8_lossy(path).into_owned()
}

fn check_dir(dir: &[u8], meta: &sys::FileStat) -> Result<(), String> {
    if meta.uid != 0 {
        return Err(format!(
            "directory {} is owned by uid {}, not root",
            shown(dir),
            meta.uid
        ));
    }
    // Sticky directories (/tmp) keep others from replacing root's entries.
    if meta.mode & WRITABLE_BY_OTHERS != 0 && meta.mode & 0o1000 == 0 {
        return Err(format!(
            "directory {} (mode {:04o}) is writable by group or others",
            shown(dir),
            meta.mode & 0o7777
        ));
    }
    Ok(())
}

/// Every directory above `path`, nearest first, as `Path::ancestors`
/// gives them (for an absolute path: up to `/`).
fn parents(path: &[u8]) -> impl Iterator<Item = &[u8]> {
    // Without trailing slashes (but for `/` itself), as `Path` compares.
    fn trim(mut p: &[u8]) -> &[u8] {
        while p.len() > 1 && p.ends_with(b"/") {
            p = &p[..p.len() - 1];
        }
        p
    }
    let mut rest = Some(trim(path));
    core::iter::from_fn(move || {
        let current = rest?;
        let parent = match current.iter().rposition(|&b| b == b'/') {
            Some(0) => &current[..1],
            Some(i) => trim(&current[..i]),
            None => &[][..],
        };
        rest = (!parent.is_empty() && parent != current).then_some(parent);
        rest
    })
}

/// The links a path may go through before it is a loop (Linux's limit).
const MAX_SYMLINKS: usize = 40;

/// `path` with every symbolic link, `.` and `..` resolved
/// (`realpath`), by `lstat` and `readlink` on each component.
fn canonical(path: &[u8]) -> OsResult<Bytes> {
    let mut out: Bytes = Vec::new();
    // Components still to walk, last first.
    let mut todo: Vec<Bytes> = path
        .split(|&b| b == b'/')
        .rev()
        .map(<[u8]>::to_vec)
        .collect();
    let mut links = 0;
    while let Some(part) = todo.pop() {
        match part.as_slice() {
            b"" | b"." => continue,
            b".." => {
                let cut = out.iter().rposition(|&b| b == b'/').unwrap_or(0);
                out.truncate(cut);
                continue;
            }
            _ => {}
        }
        let mut next = out.clone();
        next.push(b'/');
        next.extend_from_slice(&part);
        let meta = sys::stat(&next, false)?;
        if meta.is_symlink() {
            links += 1;
            if links > MAX_SYMLINKS {
                return Err(OsError(libc::ELOOP));
            }
            let target = sys::readlink(&next)?;
            if target.starts_with(b"/") {
                out.clear();
            }
            todo.extend(target.split(|&b| b == b'/').rev().map(<[u8]>::to_vec));
        } else {
            if !meta.is_dir() && todo.iter().any(|p| !p.is_empty() && p != b".") {
                return Err(OsError(libc::ENOTDIR));
            }
            out = next;
        }
    }
    if out.is_empty() {
        out.push(b'/');
    }
    Ok(out)
}

/// The real thing: system calls on this process.
pub struct System;

impl Privileges for System {
    fn fill_standard_fds(&mut self, _closed_at_exec: u8) -> OsResult<()> {
        // Nothing fills a descriptor closed at exec before this (no libc
        // start-up runs): each closed one is still closed here, secure
        // exec or not.
        for fd in 0..=2 {
            if !sys::fd_is_open(fd) {
                // open() returns the lowest free descriptor: exactly `fd`.
                // glibc's devices and modes, as a secure exec gets them.
                let got = sys::open_standard_filler(fd)?;
                if got != fd {
                    // A lower one was free: cannot be, as the lower ones
                    // were filled first; refuse anyway.
                    return Err(OsError(libc::EBADF));
                }
            }
        }
        Ok(())
    }

    fn check_worker(&mut self, path: &'static str) -> Result<(), String> {
        let named = path.as_bytes();
        let meta = sys::stat(named, false).map_err(|e| OsText(&e).to_string())?;
        // The worker itself a symlink: the directories of its target are
        // on the way too (whoever can write one swaps the target).
        let worker_is_link = meta.is_symlink();
        let meta = if worker_is_link {
            sys::stat(named, true).map_err(|e| OsText(&e).to_string())?
        } else {
            meta
        };
        if !meta.is_file() {
            return Err("not a regular file".into());
        }
        if meta.uid != 0 {
            return Err(format!("owned by uid {}, not root", meta.uid));
        }
        if meta.mode & WRITABLE_BY_OTHERS != 0 {
            return Err(format!(
                "mode {:04o} is writable by group or others",
                meta.mode & 0o7777
            ));
        }
        if meta.mode & 0o6000 != 0 {
            return Err(format!(
                "mode {:04o} is setuid or setgid",
                meta.mode & 0o7777
            ));
        }
        // Whoever can write a directory on the way can swap the worker for
        // any root-owned program and receive the sockets in it: every
        // directory, as named and (if a symlink is on the way) as resolved,
        // must be root's alone. One lstat per component; the resolved path
        // is only walked when a component is a symlink.
        let mut symlink_seen = worker_is_link;
        for dir in parents(named) {
            let d = sys::stat(dir, false).map_err(|e| format!("{}: {}", shown(dir), OsText(&e)))?;
            if d.is_symlink() {
                symlink_seen = true;
                continue;
            }
            check_dir(dir, &d)?;
        }
        if symlink_seen {
            let resolved = canonical(named).map_err(|e| OsText(&e).to_string())?;
            for dir in parents(&resolved) {
                let d =
                    sys::stat(dir, true).map_err(|e| format!("{}: {}", shown(dir), OsText(&e)))?;
                check_dir(dir, &d)?;
            }
        }
        Ok(())
    }

    fn set_no_new_privs(&mut self) -> OsResult<()> {
        sys::set_no_new_privs()
    }

    fn verify_dropped(&mut self, ids_may_differ: bool) -> Result<(), String> {
        let held = sys::capget().map_err(|e| OsText(&e).to_string())?;
        if held != sys::CapSets::default() {
            return Err(format!("capabilities still held: {held:x?}"));
        }
        // Ambient ⊆ permitted ∩ inheritable (a kernel invariant): with
        // permitted empty there is nothing to ask about the ambient set.
        // no_new_privs is not read back: PR_SET_NO_NEW_PRIVS succeeded just
        // before, and the flag can never be cleared.
        if ids_may_differ {
            let (ruid, euid, suid) = sys::getresuid();
            let (rgid, egid, sgid) = sys::getresgid();
            if ruid != euid || ruid != suid || rgid != egid || rgid != sgid {
                return Err(format!(
                    "ids not dropped: uid {ruid}/{euid}/{suid} gid {rgid}/{egid}/{sgid}"
                ));
            }
        }
        Ok(())
    }

    fn close_from(&mut self, first: RawFd) -> OsResult<()> {
        sys::close_from(first)
    }

    fn check_address_space(&mut self) -> Result<(), String> {
        let soft = sys::address_space_limit().map_err(|e| format!("RLIMIT_AS: {}", OsText(&e)))?;
        if soft < MIN_ADDRESS_SPACE {
            return Err(format!(
                "the address-space limit (RLIMIT_AS, {soft} bytes) is below the {} MiB the worker needs",
                MIN_ADDRESS_SPACE >> 20
            ));
        }
        Ok(())
    }

    fn exec(&mut self, path: &'static str, argv: Vec<Bytes>, env: Vec<(Bytes, Bytes)>) -> OsError {
        sys::execve(path.as_bytes(), &argv, &env)
    }

    fn pid(&self) -> u32 {
        sys::getpid()
    }

    fn channel(&mut self) -> OsResult<(RawFd, RawFd)> {
        sys::seqpacket_pair()
    }

    fn fork(&mut self) -> OsResult<Option<u32>> {
        sys::fork()
    }

    fn arrange_fds(&mut self, fds: &[RawFd]) -> OsResult<()> {
        sys::arrange_fds(fds)
    }

    fn yield_cpu(&mut self, times: u32) {
        for _ in 0..times {
            sys::sched_yield();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;

    #[test]
    fn parents_are_path_ancestors() {
        for path in [
            "/usr/libexec/privsep/ping-worker",
            "/a",
            "/",
            "/a/b/",
            "/a//b",
        ] {
            let ours: Vec<String> = parents(path.as_bytes()).map(shown).collect();
            let std: Vec<String> = Path::new(path)
                .ancestors()
                .skip(1)
                .map(|p| p.display().to_string())
                .collect();
            assert_eq!(ours, std, "{path}");
        }
    }

    #[test]
    fn canonical_resolves_as_realpath() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir_all(root.join("real/sub")).unwrap();
        std::fs::write(root.join("real/sub/worker"), b"").unwrap();
        std::os::unix::fs::symlink("real/sub", root.join("rel")).unwrap();
        std::os::unix::fs::symlink(root.join("real"), root.join("abs")).unwrap();
        std::os::unix::fs::symlink("../sub/./worker", root.join("real/sub/up")).unwrap();
        std::os::unix::fs::symlink("loop", root.join("loop")).unwrap();
        for name in [
            "rel/worker",
            "abs/sub/worker",
            "abs/sub/up",
            "real/./sub/../sub/worker",
        ] {
            let path = root.join(name);
            let ours = canonical(path.as_os_str().as_bytes()).unwrap();
            let std = std::fs::canonicalize(&path).unwrap();
            assert_eq!(ours, std.as_os_str().as_bytes(), "{name}");
        }
        let err = |name: &str| canonical(root.join(name).as_os_str().as_bytes()).unwrap_err();
        assert_eq!(err("loop"), OsError(libc::ELOOP));
        assert_eq!(err("missing/worker"), OsError(libc::ENOENT));
        assert_eq!(err("real/sub/worker/x"), OsError(libc::ENOTDIR));
    }

    #[test]
    fn the_worker_check_refuses_what_it_refused_with_std() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let worker = root.join("worker");
        std::fs::write(&worker, b"").unwrap();
        let path: &'static str = Box::leak(worker.display().to_string().into_boxed_str());
        let check = |mode: u32| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&worker, std::fs::Permissions::from_mode(mode)).unwrap();
            System.check_worker(path)
        };
        // The file's own checks come before its directories'.
        assert_eq!(
            check(0o777),
            Err("mode 0777 is writable by group or others".into())
        );
        assert_eq!(check(0o4755), Err("mode 4755 is setuid or setgid".into()));
        let missing: &'static str = Box::leak(format!("{path}.missing").into_boxed_str());
        assert_eq!(
            System.check_worker(missing),
            Err("No such file or directory".into())
        );
        assert_eq!(
            System.check_worker(Box::leak(root.display().to_string().into_boxed_str())),
            Err("not a regular file".into())
        );
    }
}
