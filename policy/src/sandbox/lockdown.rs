//! Enforcement of a worker's sandbox profile (feature `sandbox`).

#![forbid(unsafe_code)]

use std::fmt;
use std::os::fd::RawFd;

use ::landlock::{
    Access, AccessFs, AccessNet, LandlockStatus, Ruleset, RulesetAttr, RulesetStatus, Scope, ABI,
};

use crate::handoff::HandedSocket;
use crate::sys::{self, Resource};
use crate::PolicyError;

pub use super::profile::{Args, Profile, Rule};
use super::seccomp;
pub use super::seccomp::seccomp_program;

/// The Landlock ABI whose rights the profile handles: the newest this build
/// of the `landlock` crate knows. Older kernels get what they support (best
/// effort) and the report says so.
pub const LANDLOCK_ABI: ABI = ABI::V10;

/// What each layer achieved, for `-v` output, the tests and the probes.
#[derive(Debug, Clone, Default)]
pub struct SandboxReport {
    /// Landlock status ("fully enforced (ABI 7)", "partially enforced …",
    /// "not supported by the kernel", …).
    pub landlock: String,
    /// The rlimits set, e.g. "nofile=5 nproc=0 fsize=0 core=0".
    pub rlimits: String,
    /// The seccomp filter, e.g. "allowlist of 31 syscalls, default kill-process".
    pub seccomp: String,
    /// Descriptors that were open but not handed over, closed by [`lock_down`].
    pub closed_fds: Vec<RawFd>,
}

impl fmt::Display for SandboxReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "rlimits: {}", self.rlimits)?;
        writeln!(f, "landlock: {}", self.landlock)?;
        write!(f, "seccomp: {}", self.seccomp)?;
        if !self.closed_fds.is_empty() {
            write!(f, "\nclosed stray fds: {:?}", self.closed_fds)?;
        }
        Ok(())
    }
}

fn err(step: &'static str, reason: impl fmt::Display) -> PolicyError {
    PolicyError::Sandbox {
        step,
        reason: reason.to_string(),
    }
}

/// Locks the calling (single-threaded) worker down with `profile`: rlimits,
/// Landlock best effort, then the seccomp allowlist whose default kills the
/// process. Irreversible. `sockets` are the handed-over descriptors, which
/// keep working afterwards. Any other descriptor above 2 is closed first:
/// after this call the process holds 0–2 and `sockets` only.
///
/// No namespaces (the design contract says why): with seccomp refusing
/// `socket`, `unshare` and every file call, a user+net namespace stops
/// nothing more, costs the largest part of start-up and makes the worker
/// hold `CAP_SYS_ADMIN` inside it.
///
/// Landlock, the best-effort layer, records its outcome in the report; the
/// others fail with [`PolicyError::Sandbox`].
pub fn lock_down(
    profile: &'static Profile,
    sockets: &[HandedSocket],
) -> Result<SandboxReport, PolicyError> {
    lock_down_keeping(profile, sockets, &[])
}

/// [`lock_down`] for a worker that keeps descriptors of its own besides
/// the handed-over sockets (ping's resolver channel): they stay open, count for `RLIMIT_NOFILE`, and the
/// entries restricted to "a handed-over socket" ([`Args::HandedSocket`])
/// admit them too; no entry restricted to a named socket does.
pub fn lock_down_keeping(
    profile: &'static Profile,
    sockets: &[HandedSocket],
    own: &[RawFd],
) -> Result<SandboxReport, PolicyError> {
    let kept: Vec<RawFd> = sockets
        .iter()
        .map(|s| s.fd)
        .chain(own.iter().copied())
        .collect();
    let closed_fds = close_all_but(&kept)?;
    let rlimits = rlimits_for(&kept)?;
    let landlock = apply_landlock()?;
    // The Landlock ruleset fd is closed again: take its spare slot back.
    tighten_nofile_for(&kept)?;
    let seccomp = apply_seccomp_keeping(profile, sockets, own)?;
    Ok(SandboxReport {
        landlock,
        rlimits,
        seccomp,
        closed_fds,
    })
}

fn highest_fd(kept: &[RawFd]) -> RawFd {
    kept.iter().copied().fold(2, RawFd::max)
}

fn fds(sockets: &[HandedSocket]) -> Vec<RawFd> {
    sockets.iter().map(|s| s.fd).collect()
}

/// Closes every descriptor above 2 that is not one of `sockets` (left over
/// by name resolution, say) and returns the numbers of those it found open.
pub fn close_stray_fds(sockets: &[HandedSocket]) -> Result<Vec<RawFd>, PolicyError> {
    close_all_but(&fds(sockets))
}

/// The numbers [`close_all_but`] looks at one by one: 3 up to here. The
/// workers start with 0–2 and their handed-over sockets only (the launcher
/// and their first step close everything else), and a descriptor opened
/// since, by the resolver say, takes the lowest free number, so a stray is
/// found among these; above them everything but a kept descriptor is
/// closed without looking (one `close_range` per gap).
const PROBED: RawFd = 64;

/// [`close_stray_fds`] for the numbers `kept`. The open ones below
/// [`PROBED`] come from one `poll` ([`sys::open_among`]), not from
/// listing `/proc/self/fd` (an open, a `getdents` that makes a /proc inode
/// per descriptor, a close: the costliest step of the lock-down after the
/// seccomp filter's load); when the soft `RLIMIT_NOFILE` is below that
/// many numbers, `poll` refuses and each number is asked (`F_GETFD`).
fn close_all_but(kept: &[RawFd]) -> Result<Vec<RawFd>, PolicyError> {
    let open = sys::open_among(3..PROBED).or_else(|_| {
        Ok::<_, PolicyError>(
            (3..PROBED)
                .filter(|&fd| sys::fd_flags(fd).is_ok())
                .collect(),
        )
    })?;
    let mut closed = Vec::new();
    for fd in open {
        if kept.contains(&fd) {
            continue;
        }
        sys::close_raw(fd).map_err(|e| err("close stray fds", format!("fd {fd}: {e}")))?;
        closed.push(fd);
    }
    // Above the probed numbers: the gaps between the kept descriptors there.
    let mut above: Vec<RawFd> = kept.iter().copied().filter(|&fd| fd >= PROBED).collect();
    above.sort_unstable();
    let mut first = PROBED;
    for fd in above {
        sys::close_range(first, (fd - 1) as libc::c_uint)
            .map_err(|e| err("close stray fds", format!("fds {first}-{}: {e}", fd - 1)))?;
        first = fd + 1;
    }
    sys::close_range(first, libc::c_uint::MAX)
        .map_err(|e| err("close stray fds", format!("fds from {first}: {e}")))?;
    Ok(closed)
}

/// Step 1: `RLIMIT_NOFILE` just above the highest descriptor in use (plus
/// one slot for the Landlock ruleset fd, taken back after Landlock),
/// `RLIMIT_NPROC` 0, `RLIMIT_FSIZE` 0 and `RLIMIT_CORE` 0, soft and hard.
///
/// `RLIMIT_FSIZE` 0 is skipped when stdout or stderr is a regular file
/// (`privsep-ping … > log`): the kernel would kill the worker with SIGXFSZ on
/// its first line. Nothing else can be written (no open, Landlock denies
/// every file), so the limit guards nothing there. The report says so.
pub fn apply_rlimits(sockets: &[HandedSocket]) -> Result<String, PolicyError> {
    rlimits_for(&fds(sockets))
}

fn rlimits_for(kept: &[RawFd]) -> Result<String, PolicyError> {
    // Never above the inherited hard limit: raising it would fail, and a
    // user who lowered it (`ulimit -Hn`) gets the limit they chose.
    let hard = sys::getrlimit(Resource::RLIMIT_NOFILE)
        .map_err(|e| err("rlimits", format!("RLIMIT_NOFILE: {e}")))?
        .1;
    let nofile = (highest_fd(kept) as u64 + 2).min(hard);
    let set = |name: &'static str, res, v: u64| {
        sys::setrlimit(res, v, v).map_err(|e| err("rlimits", format!("RLIMIT_{name}={v}: {e}")))
    };
    set("NOFILE", Resource::RLIMIT_NOFILE, nofile)?;
    set("NPROC", Resource::RLIMIT_NPROC, 0)?;
    set("CORE", Resource::RLIMIT_CORE, 0)?;
    let redirected = [1, 2]
        .into_iter()
        .filter(|&fd| sys::is_regular_file(fd).unwrap_or(false))
        .count();
    let fsize = if redirected == 0 {
        set("FSIZE", Resource::RLIMIT_FSIZE, 0)?;
        "fsize=0".to_string()
    } else {
        "fsize unchanged (output is a regular file)".to_string()
    };
    Ok(format!(
        "nofile={} nproc=0 {fsize} core=0",
        (highest_fd(kept) as u64 + 1).min(hard)
    ))
}

/// Lowers `RLIMIT_NOFILE` to exactly one above the highest descriptor in use.
pub fn tighten_nofile(sockets: &[HandedSocket]) -> Result<(), PolicyError> {
    tighten_nofile_for(&fds(sockets))
}

fn tighten_nofile_for(kept: &[RawFd]) -> Result<(), PolicyError> {
    let hard = sys::getrlimit(Resource::RLIMIT_NOFILE)
        .map_err(|e| err("rlimits", format!("RLIMIT_NOFILE: {e}")))?
        .1;
    let v = (highest_fd(kept) as u64 + 1).min(hard);
    sys::setrlimit(Resource::RLIMIT_NOFILE, v, v)
        .map_err(|e| err("rlimits", format!("RLIMIT_NOFILE={v}: {e}")))
}

/// Step 2, best effort: a Landlock domain that handles every filesystem
/// right of [`LANDLOCK_ABI`] with no rule (no filesystem access at all),
/// TCP (and, on newer kernels, UDP) bind/connect with no rule, and the
/// abstract-unix-socket and signal scopes. Landlock cannot restrict raw
/// sockets: seccomp does that. Returns the status line for the report.
pub fn apply_landlock() -> Result<String, PolicyError> {
    let restrict = || -> Result<_, ::landlock::RulesetError> {
        Ruleset::default()
            .handle_access(AccessFs::from_all(LANDLOCK_ABI))?
            .handle_access(AccessNet::from_all(LANDLOCK_ABI))?
            .scope(Scope::AbstractUnixSocket | Scope::Signal)?
            .create()?
            .restrict_self()
    };
    let status = restrict().map_err(|e| err("landlock", e))?;
    let abi = match status.landlock {
        LandlockStatus::Available { effective_abi, .. } => Some(effective_abi as i32),
        _ => None,
    };
    Ok(match (status.ruleset, abi) {
        (RulesetStatus::FullyEnforced, Some(n)) => format!("fully enforced (ABI {n})"),
        (RulesetStatus::PartiallyEnforced, Some(n)) => {
            format!(
                "partially enforced (kernel ABI {n}, profile written for ABI {})",
                LANDLOCK_ABI as i32
            )
        }
        (_, _) => match status.landlock {
            LandlockStatus::NotImplemented => "not supported by the kernel".to_string(),
            LandlockStatus::NotEnabled => {
                "not enabled by the kernel (lsm= boot parameter)".to_string()
            }
            LandlockStatus::Available { .. } => "not enforced".to_string(),
        },
    })
}

/// Last step: `PR_SET_NO_NEW_PRIVS` (again, so that this step stands on its
/// own) and the seccomp allowlist of `profile` for `sockets`, default
/// action kill-process. Single-threaded callers only: the filter applies
/// to the calling thread.
pub fn apply_seccomp(
    profile: &'static Profile,
    sockets: &[HandedSocket],
) -> Result<String, PolicyError> {
    apply_seccomp_keeping(profile, sockets, &[])
}

/// [`apply_seccomp`] with descriptors of the process's own kept (see
/// [`lock_down_keeping`]).
pub fn apply_seccomp_keeping(
    profile: &'static Profile,
    sockets: &[HandedSocket],
    own: &[RawFd],
) -> Result<String, PolicyError> {
    let program = seccomp::program_keeping(profile, sockets, own)?;
    sys::set_no_new_privs().map_err(|e| err("seccomp", format!("PR_SET_NO_NEW_PRIVS: {e}")))?;
    ::seccompiler::apply_filter(&program).map_err(|e| err("seccomp", e))?;
    Ok(format!(
        "allowlist of {} syscalls, default kill-process ({} BPF instructions)",
        seccomp::allowed_keeping(profile, sockets, own).count(),
        program.len()
    ))
}
