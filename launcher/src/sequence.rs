//! The launcher's whole job as one linear sequence for every tool:
//! sanitize → acquire → drop (the privileged phase, [`crate::privileged`],
//! at the entry point) → no_new_privs + verify → check the worker → for a
//! tool with a broker, the channel and a fork: the child execs the broker
//! with the held sockets → exec (here, after the privileged phase, with
//! nothing privileged but the acquired descriptors). Each step is a call
//! on [`Privileged`](crate::privileged::Privileged) or [`Privileges`], so
//! the unit tests below check the order and the failure paths of any
//! descriptor without any privilege.

#![forbid(unsafe_code)]

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

use policy::handoff::{self, Refusal};
use policy::tools::{Broker, Resource, SocketSpec, Tool, BROKER_CHANNEL};

use crate::privileged::{Record, Stop, ACQUIRED, NOT_REACHED};
use crate::privileges::{LaunchError, Privileges};
use crate::sys::{OsError, RawFd};

/// An argument or a variable's name or value: bytes, as the kernel has them.
pub type Bytes = Vec<u8>;

/// Runs the rest of the sequence for `tool`, with the process's `argv`
/// and environment, after its privileged phase left `record` (`None`: the
/// phase never ran); returns only if a step fails (on success the process
/// has become the worker).
pub fn launch(
    tool: &'static Tool,
    record: Option<Record>,
    p: &mut impl Privileges,
    argv: Vec<Bytes>,
    env: Vec<(Bytes, Bytes)>,
) -> LaunchError {
    let Some(record) = record else {
        // A launcher linked without its entry stub (build.rs's `-e`)
        // acquired nothing; running on would hide a broken build.
        return LaunchError::SelfCheck(
            "the privileged phase did not run (the launcher was linked without its entry point)"
                .into(),
        );
    };
    match try_launch(tool, record, p, argv, env) {
        Ok(never) => match never {},
        Err(e) => e,
    }
}

/// What a successful sequence returns: nothing, ever (exec replaced us).
pub enum Never {}

/// The sockets of `tool` that `record` says were acquired, in order: the
/// ones at fds 3, 4, …
fn acquired_sockets(tool: &'static Tool, record: &Record) -> Vec<&'static SocketSpec> {
    tool.resources
        .iter()
        .zip(record.results)
        .filter_map(|(r, result)| match r {
            Resource::Socket(spec) if result == ACQUIRED => Some(spec),
            _ => None,
        })
        .collect()
}

/// The sockets the privileged phase tried and could not open, each with
/// the kind it tried last and that attempt's errno.
fn refusals(tool: &'static Tool, record: &Record) -> Vec<Refusal> {
    tool.resources
        .iter()
        .zip(record.results)
        .enumerate()
        .filter_map(|(index, (r, result))| match r {
            Resource::Socket(spec) if result != ACQUIRED && result != NOT_REACHED => {
                let k = record.kinds.get(index).copied().unwrap_or(0);
                let kind = spec.kinds.get(k).unwrap_or(spec.last_kind());
                Some(Refusal {
                    spec,
                    kind,
                    errno: result,
                })
            }
            _ => None,
        })
        .collect()
}

/// Why the privileged phase stopped, in the sequence's words. No socket
/// at all for a tool that words that itself (ping) is no stop: its worker
/// gets the refusals instead ([`handoff::VAR_REFUSED`]).
fn stopped(tool: &'static Tool, record: &Record) -> Option<LaunchError> {
    let errno = OsError;
    let resource = |index: usize| tool.resources.get(index);
    let kind = |spec: &'static SocketSpec, index: usize| {
        let k = record.kinds.get(index).copied().unwrap_or(0);
        spec.kinds.get(k).unwrap_or(spec.last_kind())
    };
    Some(match record.stop {
        Stop::Dropped => return None,
        Stop::NoSocket if tool.reports_refusals() => return None,
        Stop::NotDumpable(e) => LaunchError::Fds(errno(e)),
        Stop::NoSocket => LaunchError::Socket {
            tool,
            failed: refusals(tool, record)
                .into_iter()
                .map(|r| (r.spec, r.kind, errno(r.errno)))
                .collect(),
        },
        Stop::Resource { index } => {
            let e = errno(record.results.get(index).copied().unwrap_or(libc::EINVAL));
            match resource(index) {
                Some(Resource::Socket(spec)) => LaunchError::Socket {
                    tool,
                    failed: vec![(spec, kind(spec, index), e)],
                },
                Some(Resource::Priority { nice, capability }) => LaunchError::Priority {
                    tool,
                    nice: *nice,
                    capability: *capability,
                    source: e,
                },
                None => LaunchError::SelfCheck(format!("privileged phase stopped at step {index}")),
            }
        }
        Stop::Setup { index, errno: e } => match resource(index) {
            Some(Resource::Socket(spec)) => LaunchError::Setup {
                spec,
                source: errno(e),
            },
            _ => LaunchError::SelfCheck(format!("privileged phase stopped at step {index}")),
        },
        Stop::Drop { step, errno: e } => LaunchError::Drop {
            step: step.name(),
            source: errno(e),
        },
    })
}

/// The sequence after the privileged phase; `argv` and `env` are the
/// caller's, passed in so that the tests can choose them.
pub fn try_launch(
    tool: &'static Tool,
    record: Record,
    p: &mut impl Privileges,
    argv: Vec<Bytes>,
    env: Vec<(Bytes, Bytes)>,
) -> Result<Never, LaunchError> {
    let drop_err = |step: &'static str| move |source| LaunchError::Drop { step, source };

    // Steps 1–3 ran at the entry point (non-dumpable, acquire, drop);
    // whatever stopped them is reported now that messages can be written.
    if let Some(e) = stopped(tool, &record) {
        return Err(e);
    }
    let opened = acquired_sockets(tool, &record);
    let refused = if record.stop == Stop::NoSocket {
        refusals(tool, &record)
    } else {
        Vec::new()
    };

    // fds 0–2 valid, so that a closed stdout never becomes something the
    // worker writes to by mistake: glibc's fillers, as iputils gets them
    // (from glibc's secure-mode start-up). The ones closed at a secure exec
    // (file capabilities, setuid) are in `closed_at_exec`; a secure exec
    // with all three open has nothing to fill.
    if !record.ids.secure || record.closed_at_exec != 0 {
        p.fill_standard_fds(record.closed_at_exec)
            .map_err(LaunchError::Fds)?;
    }

    // 4. No exec from here on may gain privilege (setuid bits, file caps);
    //    then make sure nothing is left.
    p.set_no_new_privs().map_err(drop_err("no_new_privs"))?;
    let ids = record.ids;
    let ids_may_differ = ids.setuid_mode() || ids.uid != ids.euid || ids.gid != ids.egid;
    p.verify_dropped(ids_may_differ)
        .map_err(LaunchError::SelfCheck)?;

    // 5. With nothing in reach: close what the caller left open above the
    //    sockets, refuse a limit the worker cannot start under, check the
    //    worker, then exec it: argv untouched, environment rebuilt from
    //    the allowlist.
    p.close_from(handoff::FIRST_FD + opened.len() as RawFd)
        .map_err(LaunchError::Fds)?;
    p.check_address_space().map_err(LaunchError::SelfCheck)?;
    p.check_worker(tool.worker_path)
        .map_err(|reason| LaunchError::UnsafeWorker {
            path: tool.worker_path,
            reason,
        })?;
    let argv = if argv.is_empty() {
        vec![Bytes::from(tool.launcher_name)]
    } else {
        argv
    };
    // 6. A tool with a broker: the held sockets go to the broker, the
    //    worker gets the channel instead.
    let opened = match tool.broker {
        Some(broker) => start_broker(tool, broker, &opened, p)?,
        None => opened,
    };
    let env = handoff::rebuild_env_bytes(env, &opened, &refused, p.pid());
    let source = p.exec(tool.worker_path, argv, env);
    Err(LaunchError::Exec {
        path: tool.worker_path,
        source,
    })
}

/// How many times the broker's side of the fork yields the CPU before its
/// exec. Where the worker and the broker-to-be share one CPU (the others
/// busy), the broker's start-up (its exec, glibc's start with its `cpuid`
/// traps, its lock-down: about 0.8 ms of CPU on the machine of
/// docs/performance.md) ran in the middle of the worker's and delayed it
/// by as much. Neither worker needs the broker that early: mtr-packet's
/// asks it at the first request that needs it, arping's once its own
/// start is done (its bind, in its prepare step, which then waits for the
/// answer and so leaves the CPU to the broker). Each yield hands the CPU
/// back to the worker for another turn (Linux's EEVDF scheduler: the
/// yielding task forfeits what it was owed); one was not enough there,
/// three let the worker's start finish first. With its CPU to itself
/// (nothing else on its run queue) a yield returns at once and the broker
/// starts beside the worker as before. Only the order changes, not what
/// runs or who holds what: the broker is still exec'd at once, by a
/// process that holds nothing privileged.
const BROKER_YIELDS: u32 = 3;

/// Step 6 for a tool with a broker: check its program like the worker's,
/// make the channel, fork. The child (the broker) gets the held sockets and
/// its end of the channel at 3, 4, … and execs the broker program; it never
/// returns here unless that failed. The parent (to become the worker: it
/// keeps the caller's pid) gets the other sockets and its end of the
/// channel, and returns what its handoff names. Nothing privileged is left
/// by now: the broker is as unprivileged as the worker, and gets its own
/// LSM domain from its own program.
fn start_broker(
    tool: &'static Tool,
    broker: &'static Broker,
    opened: &[&'static SocketSpec],
    p: &mut impl Privileges,
) -> Result<Vec<&'static SocketSpec>, LaunchError> {
    p.check_worker(broker.path)
        .map_err(|reason| LaunchError::UnsafeWorker {
            path: broker.path,
            reason,
        })?;
    let (worker_end, broker_end) = p.channel().map_err(LaunchError::Broker)?;
    let at = |i: usize| handoff::FIRST_FD + i as RawFd;
    let (held, kept): (Vec<_>, Vec<_>) = opened
        .iter()
        .enumerate()
        .partition(|(_, s)| tool.brokered(s.name));
    let side = |mut sockets: Vec<(usize, &&'static SocketSpec)>, end: RawFd| {
        let mut fds: Vec<RawFd> = sockets.iter().map(|(i, _)| at(*i)).collect();
        fds.push(end);
        let mut specs: Vec<&'static SocketSpec> = sockets.drain(..).map(|(_, s)| *s).collect();
        specs.push(&BROKER_CHANNEL);
        (fds, specs)
    };
    match p.fork().map_err(LaunchError::Broker)? {
        None => {
            let (fds, specs) = side(held, broker_end);
            p.arrange_fds(&fds).map_err(LaunchError::Broker)?;
            // The broker reads no locale and no terminal: only its handoff.
            let env = handoff::rebuild_env_bytes(Vec::new(), &specs, &[], p.pid());
            // Let the worker's start go first where the two share a CPU:
            // see BROKER_YIELDS.
            p.yield_cpu(BROKER_YIELDS);
            let source = p.exec(broker.path, vec![Bytes::from(broker.name)], env);
            Err(LaunchError::Exec {
                path: broker.path,
                source,
            })
        }
        Some(_) => {
            let (fds, specs) = side(kept, worker_end);
            p.arrange_fds(&fds).map_err(LaunchError::Broker)?;
            Ok(specs)
        }
    }
}

#[cfg(test)]
mod tests;
