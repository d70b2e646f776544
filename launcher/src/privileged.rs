//! The privileged phase: everything the launcher does while a capability
//! is in reach, run at the ELF entry point, first.
//!
//! Order: non-dumpable → each resource of the [`Plan`] under its own
//! capability (a socket with alternatives: each kind in turn, a datagram
//! kind with every capability lowered, the next only after an errno the
//! descriptor falls back on) → drop (setuid mode: bounding set, then ids) → every
//! capability set cleared. Then the image relocates itself and everything
//! else — the sequence's checks, the messages — runs with nothing but the
//! acquired descriptors ([`crate::sequence`]).
//!
//! Why at the entry point: a libc's static start-up (glibc's made 17
//! system calls: TLS, `AT_SECURE` descriptor checks, the first malloc
//! arena, RELRO) needs no privilege, nor does the launcher's own
//! relocation; run first, they ran with `CAP_NET_RAW` in reach. Here the
//! window is the kernel's `execve` and six calls.
//!
//! What that costs the code: no allocation, no thread-local `errno`, no
//! relocated pointer (the plan is integers), no panic (a panic would need
//! all three). Each call returns the raw errno; the result is a
//! [`Record`] of integers that the sequence turns into a message later.
//! [`Privileged`] is the one trait between this logic and the system calls
//! (`sys::RawSystem`), so that the order is unit-tested with a recording
//! double, as the rest of the sequence is.

#![forbid(unsafe_code)]

use policy::handoff;
use policy::tools::BpfInsn;

use crate::plan::{Kind, Plan, Step, MAX_RESOURCES};

/// An errno value.
pub type Errno = i32;

/// The system calls of the privileged phase, as raw errno results.
pub trait Privileged {
    /// `prctl(PR_SET_DUMPABLE, 0)`.
    fn set_not_dumpable(&mut self) -> Result<(), Errno>;
    /// Make `cap` the one effective capability (lowering whatever was
    /// raised before), keeping at most `file_caps` permitted. `cap` 0:
    /// none effective (lowering cannot be refused: it never fails for
    /// want of a capability).
    fn raise(&mut self, cap: u64, file_caps: u64) -> Result<(), Errno>;
    /// `socket(domain, ty, protocol)`.
    fn open_socket(&mut self, domain: i32, ty: i32, protocol: i32) -> Result<i32, Errno>;
    /// Move a descriptor: `dup2(from, to)`; `from` is closed either way.
    fn move_fd(&mut self, from: i32, to: i32) -> Result<(), Errno>;
    /// Attach `program` to the socket at `fd` and lock it.
    fn lock_filter(&mut self, fd: i32, program: &[BpfInsn]) -> Result<(), Errno>;
    /// `setpriority(PRIO_PROCESS, 0, nice)`.
    fn set_priority(&mut self, nice: i32) -> Result<(), Errno>;
    /// Setuid mode: drop the bounding set while CAP_SETPCAP is effective.
    fn drop_bounding_set(&mut self) -> Result<(), Errno>;
    /// Setuid mode: supplementary groups, gids, uids → the real ids.
    fn drop_ids(&mut self, uid: u32, gid: u32) -> Result<(), Errno>;
    /// Clear the effective, permitted and inheritable sets (which empties
    /// the ambient set too: ambient ⊆ permitted ∩ inheritable).
    fn clear_capabilities(&mut self) -> Result<(), Errno>;
    /// Write `line` to stderr and end the process with status 2 (the real
    /// one never returns; a test double records it and returns).
    fn die(&mut self, line: &[u8]);
}

/// How the kernel started us, from the auxiliary vector (no system call).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExecIds {
    pub uid: u32,
    pub euid: u32,
    pub gid: u32,
    pub egid: u32,
    /// `AT_SECURE`: file capabilities, setuid or setgid.
    pub secure: bool,
}

impl ExecIds {
    /// Setuid root: effective uid 0, real uid not. Everything is effective
    /// until the drop, and the ids must be dropped too.
    pub fn setuid_mode(&self) -> bool {
        self.euid == 0 && self.uid != 0
    }
}

/// Per-resource state in a [`Record`].
pub const NOT_REACHED: i32 = -1;
/// Acquired.
pub const ACQUIRED: i32 = 0;

/// Where the phase stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Everything acquired that could be, every privilege dropped.
    Dropped,
    /// `PR_SET_DUMPABLE` failed: nothing was acquired and the process
    /// died in place (only a test double returns from that).
    NotDumpable(Errno),
    /// A required resource (or its capability) failed: `results[index]`.
    Resource { index: usize },
    /// The locked filter of socket `index` could not be set up.
    Setup { index: usize, errno: Errno },
    /// Every socket was optional and none could be opened.
    NoSocket,
    /// A drop step failed; nothing runs after it but the error path.
    Drop { step: DropStep, errno: Errno },
}

/// The drop steps, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropStep {
    BoundingSet,
    Ids,
    Capabilities,
}

impl DropStep {
    pub fn name(self) -> &'static str {
        match self {
            DropStep::BoundingSet => "bounding set",
            DropStep::Ids => "setresuid",
            DropStep::Capabilities => "capabilities",
        }
    }

    /// [`DropStep::name`] as bytes in an array, with its length: a value,
    /// not a pointer, for the privileged phase's message. That runs before
    /// the relocation, and a `match` of `&'static str`s compiles to a table
    /// of pointers which only the relocation fills in: read before it, the
    /// name was a null pointer, and a failed drop died of SIGSEGV instead
    /// of its line and status 2.
    fn name_bytes(self) -> ([u8; 12], usize) {
        const fn array(name: &str) -> ([u8; 12], usize) {
            let mut a = [0u8; 12];
            let b = name.as_bytes();
            let mut i = 0;
            while i < b.len() {
                a[i] = b[i];
                i += 1;
            }
            (a, b.len())
        }
        match self {
            DropStep::BoundingSet => const { array("bounding set") },
            DropStep::Ids => const { array("setresuid") },
            DropStep::Capabilities => const { array("capabilities") },
        }
    }
}

/// What the privileged phase did: integers only (it is written before
/// relocation and read after).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    /// Per plan step: [`ACQUIRED`], [`NOT_REACHED`] or the errno of the
    /// step (or of raising its capability).
    pub results: [i32; MAX_RESOURCES],
    /// Per socket step: the index of the kind that was opened, or whose
    /// errno `results` holds (the last one tried).
    pub kinds: [usize; MAX_RESOURCES],
    pub stop: Stop,
    pub ids: ExecIds,
    /// Bit `n` set: fd `n` (0–2) was closed at exec. Read after the drop;
    /// nothing fills a closed one before the sequence, which puts glibc's
    /// fillers there (iputils' glibc puts `/dev/full` write-only on 0 and
    /// `/dev/null` read-only on 1 and 2 in a secure exec), so that a
    /// closed stdout fails to write as iputils' does.
    pub closed_at_exec: u8,
}

/// Runs the privileged phase of `plan`.
///
/// In file-capability mode every capability stays permitted-only until its
/// own step raises it alone; in setuid-root mode everything is effective
/// until the drop (`raise` is a no-op there, see `sys::RawSystem`).
pub fn run<P: Privileged>(plan: &Plan, ids: ExecIds, p: &mut P) -> Record {
    let mut record = Record {
        results: [NOT_REACHED; MAX_RESOURCES],
        kinds: [0; MAX_RESOURCES],
        stop: Stop::Dropped,
        ids,
        closed_at_exec: 0,
    };
    // 1. Non-dumpable before anything is acquired: no ptrace, no
    //    /proc/PID/fd for the caller while we hold privileged fds (a
    //    file-capability exec does not always do it, seen on 6.18).
    //    If it fails, nothing has been acquired, but the capabilities are
    //    still permitted (and, setuid, the ids are root's): die here, as a
    //    failed drop does, so that nothing else ever runs with them.
    if let Err(e) = p.set_not_dumpable() {
        record.stop = Stop::NotDumpable(e);
        let mut line = Line::new();
        line.push(plan.name());
        line.push(b": cannot make the process non-dumpable: errno ");
        line.push_number(e);
        line.push(b"\n");
        p.die(line.bytes());
        return record;
    }
    // 2. Acquire, in descriptor order. Each capability is the only
    //    effective one around the calls that need it (raising the next one
    //    lowers the previous one; step 3 lowers the last). Sockets land at
    //    fds 3, 4, … in the order opened; an optional one may fail alone.
    //    A datagram kind (capability 0) runs with every capability
    //    lowered (setuid-root mode: everything stays effective until the
    //    drop, as for every step there).
    let setuid = ids.setuid_mode();
    let mut raised = Raised {
        setuid,
        file_caps: plan.file_caps,
        cap: None,
        refused: None,
    };
    // Sockets placed so far, at fds FIRST_FD ..
    let mut sockets: i32 = 0;
    for (index, step) in plan.steps().iter().enumerate() {
        let result = match step {
            Step::Socket {
                domain,
                protocol,
                kinds,
                kinds_len,
                fall_back_on,
                fall_back_len,
                filter,
                filter_len,
                ..
            } => {
                let fall_back_on = fall_back_on.get(..*fall_back_len).unwrap_or(&[]);
                let mut result = Err(libc::EINVAL);
                for (k, kind) in kinds.get(..*kinds_len).unwrap_or(&[]).iter().enumerate() {
                    if let Some(slot) = record.kinds.get_mut(index) {
                        *slot = k;
                    }
                    let want = handoff::FIRST_FD + sockets;
                    result = open_kind(p, &mut raised, *kind, *domain, *protocol, want);
                    match result {
                        Err(e) if fall_back_on.contains(&e) => continue,
                        _ => break,
                    }
                }
                match result {
                    Ok(want) => {
                        sockets += 1;
                        if let Some(program) = filter.get(..*filter_len).filter(|p| !p.is_empty()) {
                            if let Err(errno) = p.lock_filter(want, program) {
                                record.stop = Stop::Setup { index, errno };
                                break;
                            }
                        }
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
            Step::Priority { nice, capability } => match raised.raise(p, *capability) {
                Some(e) => Err(e),
                None => p.set_priority(*nice),
            },
        };
        if let Some(slot) = record.results.get_mut(index) {
            *slot = match result {
                Ok(()) => ACQUIRED,
                Err(e) => e,
            };
        }
        let optional = matches!(step, Step::Socket { optional: true, .. });
        if result.is_err() && !optional {
            record.stop = Stop::Resource { index };
            break;
        }
    }
    if record.stop == Stop::Dropped && sockets == 0 {
        record.stop = Stop::NoSocket;
    }
    // 3. Drop everything, on every path (a failure above still leaves
    //    nothing behind). In setuid-root mode the bounding set goes first,
    //    while CAP_SETPCAP is still effective, then groups and ids; then
    //    every capability set. A drop that fails ends the process here:
    //    nothing else may ever run with a privilege left.
    let drops: [(bool, DropStep); 3] = [
        (setuid, DropStep::BoundingSet),
        (setuid, DropStep::Ids),
        (true, DropStep::Capabilities),
    ];
    for (wanted, step) in drops {
        if !wanted {
            continue;
        }
        let result = match step {
            DropStep::BoundingSet => p.drop_bounding_set(),
            DropStep::Ids => p.drop_ids(ids.uid, ids.gid),
            DropStep::Capabilities => p.clear_capabilities(),
        };
        if let Err(errno) = result {
            record.stop = Stop::Drop { step, errno };
            let mut line = Line::new();
            line.push(plan.name());
            line.push(b": cannot drop privileges (");
            let (name, len) = step.name_bytes();
            line.push(name.get(..len).unwrap_or(&[]));
            line.push(b"): errno ");
            line.push_number(errno);
            line.push(b"\n");
            p.die(line.bytes());
            return record;
        }
    }
    record
}

/// Which capability is effective now, and whether raising it failed.
struct Raised {
    /// Setuid-root mode: `raise` is never called (everything is effective
    /// until the drop).
    setuid: bool,
    file_caps: u64,
    /// The capability made the effective one last (`None`: none yet; the
    /// process may still hold what `execve` gave it).
    cap: Option<u64>,
    /// Why raising `cap` failed.
    refused: Option<Errno>,
}

impl Raised {
    /// Makes `cap` the effective one unless it is already; the errno if
    /// that was refused.
    fn raise<P: Privileged>(&mut self, p: &mut P, cap: u64) -> Option<Errno> {
        if self.cap != Some(cap) {
            self.refused = if self.setuid {
                None
            } else {
                p.raise(cap, self.file_caps).err()
            };
            self.cap = Some(cap);
        }
        self.refused
    }
}

/// Opens one kind of a socket under its capability and moves it to `want`.
fn open_kind<P: Privileged>(
    p: &mut P,
    raised: &mut Raised,
    kind: Kind,
    domain: i32,
    protocol: i32,
    want: i32,
) -> Result<i32, Errno> {
    if let Some(e) = raised.raise(p, kind.capability) {
        return Err(e);
    }
    let fd = p.open_socket(domain, kind.ty, protocol)?;
    // A socket that cannot be moved to its place (a tiny RLIMIT_NOFILE)
    // is closed and counts as not opened.
    if fd != want {
        p.move_fd(fd, want)?;
    }
    Ok(want)
}

/// After the drop, in a secure exec, when fds 0–2 cannot be polled
/// (`RLIMIT_NOFILE` below 3: `poll` refuses three descriptors): which of
/// them are closed cannot be known, and a libc's secure-mode start-up
/// stops there (musl's makes the same `poll` and crashes). Say why
/// instead, and end with status 2.
pub fn refuse_tiny_nofile<P: Privileged>(plan: &Plan, p: &mut P) {
    let mut line = Line::new();
    line.push(plan.name());
    line.push(b": RLIMIT_NOFILE is below 3: fds 0-2 cannot be checked\n");
    p.die(line.bytes());
}

/// A message built without allocation or formatting machinery (neither
/// works before the relocation): bytes appended to a stack buffer, cut
/// at its end.
struct Line {
    buf: [u8; 160],
    len: usize,
}

impl Line {
    fn new() -> Line {
        Line {
            buf: [0; 160],
            len: 0,
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if let Some(slot) = self.buf.get_mut(self.len) {
                *slot = b;
                self.len += 1;
            }
        }
    }

    fn push_number(&mut self, n: i32) {
        let mut digits = [0u8; 11];
        let mut i = digits.len();
        let mut v = n.unsigned_abs();
        loop {
            i -= 1;
            if let Some(d) = digits.get_mut(i) {
                *d = b'0' + (v % 10) as u8;
            }
            v /= 10;
            if v == 0 || i == 0 {
                break;
            }
        }
        if n < 0 {
            self.push(b"-");
        }
        self.push(digits.get(i..).unwrap_or(&[]));
    }

    fn bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_drop_steps_bytes_are_their_names() {
        for step in [DropStep::BoundingSet, DropStep::Ids, DropStep::Capabilities] {
            let (name, len) = step.name_bytes();
            assert_eq!(&name[..len], step.name().as_bytes());
        }
    }
}
