//! Every privileged operation of the launcher, behind one small trait so that
//! the *order* of the steps can be unit-tested without privilege
//! (`sequence::tests`), and the real implementation, [`System`].

#![forbid(unsafe_code)]

use std::ffi::{CString, OsString};
use std::fmt;
use std::io;
use std::os::fd::RawFd;
use std::os::unix::fs::MetadataExt;

use policy::handoff::SocketKind;

use crate::sys;

/// What went wrong, with enough context for a one-line message.
#[derive(Debug)]
pub enum LaunchError {
    /// fds 0–2 could not be made valid or the others closed.
    Fds(io::Error),
    /// Neither raw socket could be opened.
    NoSocket { v4: io::Error, v6: io::Error },
    /// A privilege drop step failed: we refuse to continue.
    Drop {
        step: &'static str,
        source: io::Error,
    },
    /// After the drop, the process still holds something it should not.
    SelfCheck(String),
    /// The worker binary is not one we are willing to hand a raw socket to.
    UnsafeWorker { path: &'static str, reason: String },
    /// The exec itself failed.
    Exec {
        path: &'static str,
        source: io::Error,
    },
}

impl fmt::Display for LaunchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LaunchError::Fds(e) => write!(f, "cannot set up standard descriptors: {e}"),
            LaunchError::NoSocket { v4, v6 } => {
                let denied =
                    |e: &io::Error| matches!(e.raw_os_error(), Some(libc::EPERM | libc::EACCES));
                if denied(v4) && denied(v6) {
                    write!(
                        f,
                        "cannot open raw ICMP sockets: {v4}: missing CAP_NET_RAW; \
                         install with: setcap cap_net_raw=p {}",
                        policy::layout::LAUNCHER_PATH
                    )
                } else {
                    write!(f, "cannot open raw ICMP sockets: IPv4: {v4}; IPv6: {v6}")
                }
            }
            LaunchError::Drop { step, source } => {
                write!(f, "cannot drop privileges ({step}): {source}")
            }
            LaunchError::SelfCheck(what) => write!(f, "refusing to run: {what}"),
            LaunchError::UnsafeWorker { path, reason } => {
                write!(f, "refusing to run worker {path}: {reason}")
            }
            LaunchError::Exec { path, source } => {
                write!(f, "cannot execute worker {path}: {source}")
            }
        }
    }
}

/// The privileged operations, one method per step of the sequence.
pub trait Privileges {
    /// Step 1: become non-dumpable, open `/dev/null` on any of fds 0–2 that is closed, close
    /// every fd above 2.
    fn sanitize_fds(&mut self) -> io::Result<()>;
    /// Step 1 (cont.): the worker must be a root-owned regular file that no one else can write.
    fn check_worker(&mut self, path: &'static str) -> Result<(), String>;
    /// Step 2: open one raw socket with `CAP_NET_RAW` raised in the effective set only around
    /// `socket()`, and return its descriptor.
    fn open_raw_socket(&mut self, kind: SocketKind) -> io::Result<RawFd>;
    /// Step 2 (cont.): move a socket to `to` if `socket()` put it elsewhere.
    fn move_fd(&mut self, from: RawFd, to: RawFd) -> io::Result<()>;
    /// Whether we run setuid-root (effective uid 0, real uid not).
    fn setuid_mode(&self) -> bool;
    /// Step 3a (setuid mode): drop the bounding set while CAP_SETPCAP is still effective.
    fn drop_bounding_set(&mut self) -> io::Result<()>;
    /// Step 3b (setuid mode): supplementary groups, gids, uids → the real ids.
    fn drop_ids(&mut self) -> io::Result<()>;
    /// Step 3c: clear ambient, inheritable, permitted and effective capabilities.
    fn clear_capabilities(&mut self) -> io::Result<()>;
    /// Step 4: `PR_SET_NO_NEW_PRIVS`.
    fn set_no_new_privs(&mut self) -> io::Result<()>;
    /// Step 4 (cont.): refuse to exec if anything privileged is left.
    fn verify_dropped(&mut self) -> Result<(), String>;
    /// Step 5: exec; returns only on failure.
    fn exec(
        &mut self,
        path: &'static str,
        argv: Vec<OsString>,
        env: Vec<(OsString, OsString)>,
    ) -> io::Error;
    /// Our pid (kept across exec; goes into `LISTEN_PID`).
    fn pid(&self) -> u32;
}

/// The real thing: system calls on this process.
pub struct System;

impl Privileges for System {
    fn sanitize_fds(&mut self) -> io::Result<()> {
        // A file-capability exec does not always make the process
        // non-dumpable (seen on 6.18): without this the caller could list
        // /proc/PID/fd while the raw sockets are open here.
        sys::set_not_dumpable()?;
        for fd in 0..=2 {
            if !sys::fd_is_open(fd) {
                // open() returns the lowest free descriptor: exactly `fd`.
                let got = sys::open_dev_null()?;
                if got != fd {
                    return Err(io::Error::other(format!(
                        "/dev/null opened at fd {got}, not {fd}"
                    )));
                }
            }
        }
        sys::close_from(3)
    }

    fn check_worker(&mut self, path: &'static str) -> Result<(), String> {
        let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
        if !meta.is_file() {
            return Err("not a regular file".into());
        }
        if meta.uid() != 0 {
            return Err(format!("owned by uid {}, not root", meta.uid()));
        }
        if meta.mode() & 0o022 != 0 {
            return Err(format!(
                "mode {:04o} is writable by group or others",
                meta.mode() & 0o7777
            ));
        }
        if meta.mode() & 0o6000 != 0 {
            return Err(format!(
                "mode {:04o} is setuid or setgid",
                meta.mode() & 0o7777
            ));
        }
        // Whoever can write a directory on the way can swap the worker for
        // any root-owned program and receive the raw sockets in it: every
        // directory, as named and as resolved, must be root's alone (or
        // sticky, like /tmp, where others cannot replace root's entries).
        let resolved = std::fs::canonicalize(path).map_err(|e| e.to_string())?;
        let named = std::path::Path::new(path).ancestors().skip(1);
        for dir in named.chain(resolved.ancestors().skip(1)) {
            let d = std::fs::metadata(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            if d.uid() != 0 {
                return Err(format!(
                    "directory {} is owned by uid {}, not root",
                    dir.display(),
                    d.uid()
                ));
            }
            if d.mode() & 0o022 != 0 && d.mode() & 0o1000 == 0 {
                let mode = d.mode() & 0o7777;
                return Err(format!(
                    "directory {} (mode {mode:04o}) is writable by group or others",
                    dir.display()
                ));
            }
        }
        Ok(())
    }

    fn open_raw_socket(&mut self, kind: SocketKind) -> io::Result<RawFd> {
        // Raise CAP_NET_RAW in the effective set only if it is permitted
        // and not already effective (setuid-root mode), and lower it again
        // right after socket(), whatever socket() said.
        let before = sys::capget()?;
        let net_raw = 1u64 << sys::CAP_NET_RAW;
        let raise = before.permitted & net_raw != 0 && before.effective & net_raw == 0;
        if raise {
            sys::capset(sys::CapSets {
                effective: before.effective | net_raw,
                ..before
            })?;
        }
        let result = sys::raw_socket(kind.domain(), kind.protocol());
        if raise {
            sys::capset(before)?;
        }
        result
    }

    fn move_fd(&mut self, from: RawFd, to: RawFd) -> io::Result<()> {
        sys::dup2(from, to)?;
        sys::close(from);
        Ok(())
    }

    fn setuid_mode(&self) -> bool {
        let (ruid, euid, _) = sys::getresuid();
        euid == 0 && ruid != 0
    }

    fn drop_bounding_set(&mut self) -> io::Result<()> {
        sys::drop_bounding_set()
    }

    fn drop_ids(&mut self) -> io::Result<()> {
        let (ruid, _, _) = sys::getresuid();
        let (rgid, _, _) = sys::getresgid();
        sys::setgroups_to(rgid)?;
        sys::setresgid(rgid)?;
        sys::setresuid(ruid)
    }

    fn clear_capabilities(&mut self) -> io::Result<()> {
        sys::clear_ambient()?;
        sys::capset(sys::CapSets::default())
    }

    fn set_no_new_privs(&mut self) -> io::Result<()> {
        sys::set_no_new_privs()
    }

    fn verify_dropped(&mut self) -> Result<(), String> {
        let held = sys::capget().map_err(|e| e.to_string())?;
        if held != sys::CapSets::default() {
            return Err(format!("capabilities still held: {held:x?}"));
        }
        // The kernel keeps the ambient set inside permitted ∩ inheritable, so
        // it is empty now; ask for the one capability we ever had anyway.
        if sys::ambient_is_set(sys::CAP_NET_RAW).map_err(|e| e.to_string())? {
            return Err("CAP_NET_RAW still in the ambient set".into());
        }
        let (ruid, euid, suid) = sys::getresuid();
        let (rgid, egid, sgid) = sys::getresgid();
        if ruid != euid || ruid != suid || rgid != egid || rgid != sgid {
            return Err(format!(
                "ids not dropped: uid {ruid}/{euid}/{suid} gid {rgid}/{egid}/{sgid}"
            ));
        }
        if !sys::no_new_privs().map_err(|e| e.to_string())? {
            return Err("no_new_privs is not set".into());
        }
        Ok(())
    }

    fn exec(
        &mut self,
        path: &'static str,
        argv: Vec<OsString>,
        env: Vec<(OsString, OsString)>,
    ) -> io::Error {
        use std::os::unix::ffi::OsStrExt;
        let cstr = |bytes: &[u8]| {
            CString::new(bytes).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
        };
        let build = || -> io::Result<(CString, Vec<CString>, Vec<CString>)> {
            let path = cstr(path.as_bytes())?;
            let argv = argv
                .iter()
                .map(|a| cstr(a.as_bytes()))
                .collect::<io::Result<_>>()?;
            let envp = env
                .iter()
                .map(|(k, v)| cstr(&[k.as_bytes(), b"=", v.as_bytes()].concat()))
                .collect::<io::Result<_>>()?;
            Ok((path, argv, envp))
        };
        match build() {
            Ok((path, argv, envp)) => sys::execve(&path, &argv, &envp),
            Err(e) => e,
        }
    }

    fn pid(&self) -> u32 {
        std::process::id()
    }
}
