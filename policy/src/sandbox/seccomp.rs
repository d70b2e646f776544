//! The worker's seccomp allowlist as reviewed data: [`ALLOWED`] names every
//! system call the worker may make once locked down, the arguments it may
//! make it with, and why. Everything else kills the process (SIGSYS).
//!
//! Deliberately absent, so that a compromised worker is killed when it
//! tries: `socket`, `socketpair`, `connect`, `bind`, `listen`, `accept*`
//! (no new sockets, no re-aiming the raw ones); `sendmsg`, `recvfrom`,
//! `read`, `writev` (one way in and out); `setsockopt`, `getsockopt` (no
//! `IP_HDRINCL`, no new filters: every option is set before lock-down);
//! `ioctl`, `fcntl`; `open*`, `creat`, `*stat*` (no files); `execve*`,
//! `fork`, `vfork`, `clone*` (no processes, no threads); `ptrace`,
//! `process_vm_*`, `pidfd_*`; `kill`, `tkill` (and `tgkill` at anyone else);
//! `prctl` (no way back to dumpable); `rt_sigaction` (handlers are set
//! before); `unshare`, `setns`, `mount*`, `seccomp`, `bpf`, `landlock_*`,
//! `set*id`, `capset`; `mprotect`, and `mmap` with `PROT_EXEC`; `futex`,
//! `getrandom`, `poll`, the sleeps (the worker is single-threaded, builds
//! no hash map and waits in `ppoll`).
//!
//! Review rule: an entry is added only with a `why` that names the worker
//! code path needing it, and with the tightest argument check that costs
//! nothing at run time.

#![forbid(unsafe_code)]

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

use crate::handoff::HandedSocket;
use crate::PolicyError;

/// Which calls of a system call are allowed (argument indices count from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Args {
    /// Any arguments.
    Any,
    /// Argument `n` is one of the handed-over sockets. With no socket
    /// handed over, the system call is not allowed at all.
    HandedSocket(u8),
    /// Argument `n` (an int) is one of the values.
    OneOf(u8, &'static [u64]),
    /// Argument `n` (an int) has none of the bits of the mask set.
    NoBits(u8, u64),
    /// Argument `n` is the calling process's own pid (taken when the filter
    /// is built: the worker never forks, and lock-down keeps the pid
    /// namespace).
    OwnPid(u8),
}

/// One reviewed entry of the allowlist.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// The system call's name, as in `man 2`.
    pub name: &'static str,
    /// Its number on the build's architecture.
    pub nr: libc::c_long,
    /// The calls allowed.
    pub args: Args,
    /// Why the locked-down worker needs it.
    pub why: &'static str,
}

const STDOUT_STDERR: &[u64] = &[1, 2];

/// The allowlist. Order is for the reader; each system call appears once.
/// Checked against `strace -f` of the staged worker (IPv4, IPv6, `-f`, `-D
/// -O`, `-w`, `-l`, `-s 3000`, SIGQUIT, SIGINT, SIGSTOP/SIGCONT): after
/// lock-down it makes only sendto, recvmsg, ppoll, write, rt_sigreturn,
/// sigaltstack, munmap and exit_group. The other entries are the runtime's
/// own paths that those runs do not hit but a correct worker can: the
/// allocator, the vDSO's fallback, restarts after a stop, and abort().
pub const ALLOWED: &[Rule] = &[
    // --- The ping itself, on the handed-over sockets only.
    Rule {
        name: "sendto",
        nr: libc::SYS_sendto,
        args: Args::HandedSocket(0),
        why: "Engine::run sends echo requests on the handed-over raw sockets",
    },
    Rule {
        name: "recvmsg",
        nr: libc::SYS_recvmsg,
        args: Args::HandedSocket(0),
        why: "Engine::run receives replies with their cmsgs (kernel timestamps, TTL/hop limit) and the error queue (MSG_ERRQUEUE)",
    },
    Rule {
        name: "ppoll",
        nr: libc::SYS_ppoll,
        args: Args::Any,
        why: "Engine::run waits for the socket or the next send/deadline, unblocking SIGINT/SIGTERM/SIGQUIT only while waiting",
    },
    // --- Output.
    Rule {
        name: "write",
        nr: libc::SYS_write,
        args: Args::OneOf(0, STDOUT_STDERR),
        why: "reply lines and statistics on stdout; warnings, the SIGQUIT status line and panic messages on stderr; never the sockets",
    },
    // --- Signals: SIGINT/SIGTERM end with the summary, SIGQUIT prints the
    // status line (handlers installed before lock-down).
    Rule {
        name: "rt_sigreturn",
        nr: libc::SYS_rt_sigreturn,
        args: Args::Any,
        why: "return from the SIGINT/SIGTERM/SIGQUIT handler",
    },
    Rule {
        name: "restart_syscall",
        nr: libc::SYS_restart_syscall,
        args: Args::Any,
        why: "the kernel resumes a wait interrupted by SIGSTOP/SIGCONT with it",
    },
    // --- Time.
    Rule {
        name: "clock_gettime",
        nr: libc::SYS_clock_gettime,
        args: Args::Any,
        why: "CLOCK_MONOTONIC scheduling and CLOCK_REALTIME payload/-D stamps: a real syscall where the vDSO has no usable clocksource (VMs under TCG)",
    },
    // --- Memory (the allocator), never executable.
    Rule {
        name: "brk",
        nr: libc::SYS_brk,
        args: Args::Any,
        why: "malloc's main arena, when a line outgrows the preallocated buffers",
    },
    Rule {
        name: "mmap",
        nr: libc::SYS_mmap,
        args: Args::NoBits(2, libc::PROT_EXEC as u64),
        why: "malloc of large buffers; PROT_EXEC refused so no new code can be mapped",
    },
    Rule { name: "munmap", nr: libc::SYS_munmap, args: Args::Any, why: "free of large buffers; the signal stack at exit" },
    Rule { name: "mremap", nr: libc::SYS_mremap, args: Args::Any, why: "realloc of large buffers (cannot add PROT_EXEC)" },
    // --- Exit, normal and abnormal.
    Rule {
        name: "sigaltstack",
        nr: libc::SYS_sigaltstack,
        args: Args::Any,
        why: "Rust's runtime removes the main thread's stack-overflow signal stack at exit",
    },
    Rule {
        name: "close",
        nr: libc::SYS_close,
        args: Args::Any,
        why: "dropping the sockets when main returns; closing can gain nothing",
    },
    Rule { name: "exit_group", nr: libc::SYS_exit_group, args: Args::Any, why: "exit with ping's status" },
    Rule {
        name: "rt_sigprocmask",
        nr: libc::SYS_rt_sigprocmask,
        args: Args::Any,
        why: "abort() (a panic under panic=abort) unblocks SIGABRT",
    },
    Rule { name: "getpid", nr: libc::SYS_getpid, args: Args::Any, why: "abort() raising SIGABRT at itself" },
    Rule { name: "gettid", nr: libc::SYS_gettid, args: Args::Any, why: "abort() raising SIGABRT at itself" },
    Rule {
        name: "tgkill",
        nr: libc::SYS_tgkill,
        args: Args::OwnPid(0),
        why: "abort() raises SIGABRT at itself, so a panic is not mistaken for a sandbox kill; no other process",
    },
];

/// The entries that apply for `sockets` (those restricted to handed-over
/// sockets drop out when there are none).
pub fn allowed_here(sockets: &[HandedSocket]) -> impl Iterator<Item = &'static Rule> + '_ {
    ALLOWED
        .iter()
        .filter(move |r| !matches!(r.args, Args::HandedSocket(_)) || !sockets.is_empty())
}

fn err(reason: impl std::fmt::Display) -> PolicyError {
    PolicyError::Sandbox {
        step: "seccomp",
        reason: reason.to_string(),
    }
}

fn cond(arg: u8, op: SeccompCmpOp, value: u64) -> Result<SeccompCondition, PolicyError> {
    SeccompCondition::new(arg, SeccompCmpArgLen::Dword, op, value).map_err(err)
}

fn one_cond_each(
    arg: u8,
    values: impl IntoIterator<Item = u64>,
) -> Result<Vec<SeccompRule>, PolicyError> {
    values
        .into_iter()
        .map(|v| SeccompRule::new(vec![cond(arg, SeccompCmpOp::Eq, v)?]).map_err(err))
        .collect()
}

/// The seccomp rules (alternatives) for one entry. An empty list would mean
/// "any arguments" to seccompiler, so only [`Args::Any`] may produce one.
fn rules_for(rule: &Rule, sockets: &[HandedSocket]) -> Result<Vec<SeccompRule>, PolicyError> {
    let rules = match rule.args {
        Args::Any => return Ok(Vec::new()),
        Args::HandedSocket(n) => one_cond_each(n, sockets.iter().map(|s| s.fd as u32 as u64))?,
        Args::OneOf(n, values) => one_cond_each(n, values.iter().copied())?,
        Args::OwnPid(n) => one_cond_each(n, [std::process::id() as u64])?,
        Args::NoBits(n, mask) => {
            vec![SeccompRule::new(vec![cond(n, SeccompCmpOp::MaskedEq(mask), 0)?]).map_err(err)?]
        }
    };
    if rules.is_empty() {
        return Err(err(format!(
            "{}: argument rule with no alternative",
            rule.name
        )));
    }
    Ok(rules)
}

/// The BPF program for [`ALLOWED`] and `sockets` on the build's
/// architecture: allowed calls pass, everything else (including other
/// architectures' calling conventions) kills the process. Built for the
/// calling process ([`Args::OwnPid`]).
pub fn seccomp_program(sockets: &[HandedSocket]) -> Result<BpfProgram, PolicyError> {
    let mut map: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    for rule in allowed_here(sockets) {
        if map.insert(rule.nr, rules_for(rule, sockets)?).is_some() {
            return Err(err(format!("{} is listed twice", rule.name)));
        }
    }
    let arch = TargetArch::try_from(std::env::consts::ARCH).map_err(err)?;
    let filter = SeccompFilter::new(map, SeccompAction::KillProcess, SeccompAction::Allow, arch)
        .map_err(err)?;
    filter.try_into().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handoff::SocketKind;

    #[test]
    fn every_entry_is_unique_and_explained() {
        for (i, a) in ALLOWED.iter().enumerate() {
            assert!(a.why.len() > 10, "{} needs a reason", a.name);
            for b in &ALLOWED[i + 1..] {
                assert_ne!(a.nr, b.nr, "{} and {} share a number", a.name, b.name);
                assert_ne!(a.name, b.name);
            }
        }
    }

    #[test]
    fn dangerous_calls_are_absent() {
        let forbidden = [
            libc::SYS_socket,
            libc::SYS_connect,
            libc::SYS_bind,
            libc::SYS_setsockopt,
            libc::SYS_ioctl,
            libc::SYS_openat,
            libc::SYS_execve,
            libc::SYS_execveat,
            libc::SYS_clone,
            libc::SYS_clone3,
            libc::SYS_ptrace,
            libc::SYS_prctl,
            libc::SYS_kill,
            libc::SYS_tkill,
            libc::SYS_unshare,
            libc::SYS_setns,
            libc::SYS_mount,
            libc::SYS_process_vm_readv,
            libc::SYS_pidfd_getfd,
            libc::SYS_seccomp,
            libc::SYS_bpf,
        ];
        for nr in forbidden {
            assert!(
                ALLOWED.iter().all(|r| r.nr != nr),
                "syscall {nr} must not be allowed"
            );
        }
    }

    #[test]
    fn socket_rules_vanish_without_sockets() {
        let none: Vec<_> = allowed_here(&[]).map(|r| r.name).collect();
        assert!(!none.contains(&"sendto") && !none.contains(&"recvmsg"));
        let one = [HandedSocket {
            fd: 3,
            kind: SocketKind::Icmp4,
        }];
        let some: Vec<_> = allowed_here(&one).map(|r| r.name).collect();
        assert!(some.contains(&"sendto") && some.contains(&"recvmsg"));
        // And the program compiles in both cases.
        assert!(seccomp_program(&[]).unwrap().len() < seccomp_program(&one).unwrap().len());
    }
}
