//! The seccomp program's layout: seccompiler's chains (one per allowed
//! call, each with its argument checks, byte for byte as seccompiler
//! compiles them) behind a binary search on the call's number.
//!
//! seccompiler lays the chains out in number order and nothing else: a
//! call walks every chain before its own (a comparison plus one jump per
//! rule of each), and a call that is not on the list walks all of them
//! before the default action. The kernel pays that walk once for every
//! system call number when the filter is loaded: its action cache
//! (`seccomp_cache_prepare`) emulates the filter for each of the ~460
//! numbers of the native architecture, with interrupts off, inside the
//! `seccomp()` call — about 0.1 ms of every worker's start-up on the build
//! machine (`docs/performance.md`), and again a little on every call the
//! sandboxed process makes. Here a call not on the list reaches the kill
//! after about ten instructions, and an allowed one enters its own chain
//! directly. Same chains, same default action, same verdict for every
//! number, architecture and argument (the tests run both programs).

#![forbid(unsafe_code)]

use std::collections::BTreeMap;

use seccompiler::{sock_filter, BpfProgram, SeccompAction, SeccompFilter, SeccompRule, TargetArch};

use crate::PolicyError;

// Classic BPF opcodes (linux/bpf_common.h): class | operation | source.
/// `BPF_LD | BPF_W | BPF_ABS` (0x00 | 0x00 | 0x20).
const BPF_LD_W_ABS: u16 = 0x20;
/// `BPF_JMP | BPF_JA`.
const BPF_JMP_JA: u16 = 0x05;
/// `BPF_JMP | BPF_JEQ | BPF_K`.
const BPF_JMP_JEQ_K: u16 = 0x15;
/// `BPF_JMP | BPF_JGE | BPF_K`.
const BPF_JMP_JGE_K: u16 = 0x35;
/// `BPF_RET | BPF_K`.
const BPF_RET_K: u16 = 0x06;
/// `offsetof(struct seccomp_data, nr)`.
const NR_OFFSET: u32 = 0;
/// How many calls a leaf of the search compares one by one.
const LEAF: usize = 3;

fn err(reason: impl std::fmt::Display) -> PolicyError {
    PolicyError::Sandbox {
        step: "seccomp",
        reason: reason.to_string(),
    }
}

fn insn(code: u16, jt: u8, jf: u8, k: u32) -> sock_filter {
    sock_filter { code, jt, jf, k }
}

/// seccompiler's program for one call: the architecture check, the load
/// of the number, the call's chain, the default action.
fn single(nr: i64, rules: Vec<SeccompRule>, arch: TargetArch) -> Result<BpfProgram, PolicyError> {
    let filter = SeccompFilter::new(
        BTreeMap::from([(nr, rules)]),
        SeccompAction::KillProcess,
        SeccompAction::Allow,
        arch,
    )
    .map_err(err)?;
    filter.try_into().map_err(err)
}

/// One jump still to be aimed: at the chain of call `index`.
struct ToChain {
    at: usize,
    index: usize,
}

/// Emits the search over `nrs[lo..hi]` (sorted) into `out`; jumps to the
/// chains go to `pending`.
fn search(
    nrs: &[u32],
    lo: usize,
    hi: usize,
    kill: u32,
    out: &mut BpfProgram,
    pending: &mut Vec<ToChain>,
) {
    if hi - lo <= LEAF {
        for (index, &nr) in nrs.iter().enumerate().take(hi).skip(lo) {
            // Equal: the jump below, to the call's chain; else skip it.
            out.push(insn(BPF_JMP_JEQ_K, 0, 1, nr));
            pending.push(ToChain {
                at: out.len(),
                index,
            });
            out.push(insn(BPF_JMP_JA, 0, 0, 0));
        }
        out.push(insn(BPF_RET_K, 0, 0, kill));
        return;
    }
    let mid = lo + (hi - lo) / 2;
    // At or above the middle call: jump over the lower half.
    out.push(insn(BPF_JMP_JGE_K, 0, 1, nrs[mid]));
    let over = out.len();
    out.push(insn(BPF_JMP_JA, 0, 0, 0));
    search(nrs, lo, mid, kill, out, pending);
    let upper = out.len();
    out[over].k = (upper - over - 1) as u32;
    search(nrs, mid, hi, kill, out, pending);
}

/// The program for `rules` (call number → its rules, as seccompiler takes
/// them) on `arch`: default action kill-process, allowed calls pass.
pub fn program(
    rules: BTreeMap<i64, Vec<SeccompRule>>,
    arch: TargetArch,
) -> Result<BpfProgram, PolicyError> {
    let kill = u32::from(SeccompAction::KillProcess);
    let mut head: Option<BpfProgram> = None;
    let mut nrs = Vec::with_capacity(rules.len());
    let mut chains = Vec::with_capacity(rules.len());
    for (nr, r) in rules {
        let whole = single(nr, r, arch)?;
        let nr = u32::try_from(nr).map_err(err)?;
        // [arch check (3), load nr][chain][default]: the chain starts by
        // comparing the number with its own.
        let shape_ok = whole.len() > 6
            && whole[3].code == BPF_LD_W_ABS
            && whole[3].k == NR_OFFSET
            && whole[4].code == BPF_JMP_JEQ_K
            && whole[4].k == nr
            && whole
                .last()
                .is_some_and(|i| i.code == BPF_RET_K && i.k == kill);
        if !shape_ok {
            return Err(err(format!("call {nr}: unexpected seccompiler layout")));
        }
        if head.is_none() {
            head = Some(whole[..4].to_vec());
        }
        nrs.push(nr);
        chains.push(whole[4..whole.len() - 1].to_vec());
    }
    let Some(mut out) = head else {
        return Err(err("an empty allowlist"));
    };
    let mut pending = Vec::new();
    search(&nrs, 0, nrs.len(), kill, &mut out, &mut pending);
    let mut starts = Vec::with_capacity(chains.len());
    for chain in &chains {
        starts.push(out.len());
        out.extend_from_slice(chain);
    }
    // A chain whose number does not match falls through to the next one,
    // as in seccompiler's layout (never taken: the search enters a chain
    // only with its number); after the last, the default action.
    out.push(insn(BPF_RET_K, 0, 0, kill));
    for ToChain { at, index } in pending {
        out[at].k = (starts[index] - at - 1) as u32;
    }
    // The kernel's limit (BPF_MAXINSNS).
    if out.len() > 4096 {
        return Err(err(format!("{} instructions", out.len())));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handoff::HandedSocket;
    use crate::sandbox::seccomp::{allowed_keeping, rules_map};

    /// `struct seccomp_data`, as the filter reads it.
    #[derive(Clone, Copy)]
    struct Data {
        nr: u32,
        arch: u32,
        args: [u64; 6],
    }

    impl Data {
        fn word(&self, off: u32) -> u32 {
            match off {
                0 => self.nr,
                4 => self.arch,
                // instruction_pointer: not used by the filters.
                8 | 12 => 0,
                o if (16..64).contains(&o) && o % 4 == 0 => {
                    let a = self.args[((o - 16) / 8) as usize];
                    if o % 8 == 0 {
                        a as u32
                    } else {
                        (a >> 32) as u32
                    }
                }
                o => panic!("load at {o}"),
            }
        }
    }

    /// Runs `p` on `d`: (verdict, instructions executed, whether an
    /// argument was loaded before the verdict).
    fn run(p: &[sock_filter], d: &Data) -> (u32, usize, bool) {
        let (mut a, mut pc, mut steps, mut loaded_arg) = (0u32, 0usize, 0usize, false);
        loop {
            let i = &p[pc];
            steps += 1;
            let class = i.code & 0x07;
            let jump = |cond: bool| pc + 1 + usize::from(if cond { i.jt } else { i.jf });
            pc = match (class, i.code & 0xf0, i.code & 0x08) {
                (0x00, 0x20, _) => {
                    a = d.word(i.k);
                    loaded_arg |= i.k >= 16;
                    pc + 1
                }
                (0x04, 0x50, 0) => {
                    a &= i.k;
                    pc + 1
                }
                (0x05, 0x00, _) => pc + 1 + i.k as usize,
                (0x05, 0x10, 0) => jump(a == i.k),
                (0x05, 0x20, 0) => jump(a > i.k),
                (0x05, 0x30, 0) => jump(a >= i.k),
                (0x05, 0x40, 0) => jump(a & i.k != 0),
                (0x06, _, _) => return (i.k, steps, loaded_arg),
                _ => panic!("opcode {:#x}", i.code),
            };
            assert!(pc < p.len(), "jump out of the program");
        }
    }

    /// seccompiler's own program for the same rules (the reference).
    fn plain(rules: BTreeMap<i64, Vec<SeccompRule>>, arch: TargetArch) -> BpfProgram {
        SeccompFilter::new(
            rules,
            SeccompAction::KillProcess,
            SeccompAction::Allow,
            arch,
        )
        .unwrap()
        .try_into()
        .unwrap()
    }

    /// Every tool's and broker's profile, with its sockets at 3, 4, … and
    /// a kept descriptor after them.
    fn profiles() -> Vec<(&'static str, BTreeMap<i64, Vec<SeccompRule>>)> {
        let mut out = Vec::new();
        for tool in crate::tools::ALL {
            let handed = |specs: Vec<&'static crate::tools::SocketSpec>| -> Vec<HandedSocket> {
                specs
                    .into_iter()
                    .enumerate()
                    .map(|(i, spec)| HandedSocket {
                        fd: 3 + i as i32,
                        spec,
                        kind: None,
                    })
                    .collect()
            };
            let all = handed(tool.sockets().collect());
            let own = [3 + all.len() as i32];
            out.push((tool.name, rules_map(tool.sandbox, &all, &own).unwrap()));
            if let Some(b) = tool.broker {
                let held = handed(tool.broker_handoff());
                out.push((b.name, rules_map(b.sandbox, &held, &[]).unwrap()));
            }
            assert!(allowed_keeping(tool.sandbox, &all, &own).count() > 0);
        }
        out
    }

    /// Argument vectors that satisfy, or nearly satisfy, the rules: every
    /// constant the reference program compares with, at every argument,
    /// alone and in pairs of arguments, plus zeros and ones.
    fn vectors(p: &[sock_filter]) -> Vec<[u64; 6]> {
        let mut k: Vec<u64> = p
            .iter()
            .filter(|i| i.code & 0x07 == 0x05 && i.code != BPF_JMP_JA)
            .map(|i| u64::from(i.k))
            .collect();
        k.extend([0, 1, u64::from(u32::MAX), u64::MAX]);
        k.sort_unstable();
        k.dedup();
        let mut v = vec![[0u64; 6], [u64::MAX; 6]];
        for n in 0..6 {
            for &c in &k {
                let mut a = [0u64; 6];
                a[n] = c;
                v.push(a);
                for m in (n + 1)..6 {
                    for &d in &k {
                        let mut b = a;
                        b[m] = d;
                        v.push(b);
                    }
                }
            }
        }
        v
    }

    #[test]
    fn the_same_verdict_as_seccompilers_layout_for_every_call() {
        let arch = TargetArch::x86_64;
        let archs = [0xc000_003e_u32, 0x4000_0003, 0];
        for (name, rules) in profiles() {
            let reference = plain(rules.clone(), arch);
            let ours = program(rules.clone(), arch).unwrap();
            let listed: Vec<u32> = rules.keys().map(|&n| n as u32).collect();
            let all_vectors = vectors(&reference);
            for nr in 0..600u32 {
                // Allowed calls: every vector; the others: a few (their
                // verdict does not look at arguments in either program).
                let few = [[0u64; 6], [3, 3, 3, 3, 3, 3], [u64::MAX; 6]];
                let args: &[[u64; 6]] = if listed.contains(&nr) {
                    &all_vectors
                } else {
                    &few
                };
                for &arch_value in &archs {
                    for &a in args {
                        let d = Data {
                            nr,
                            arch: arch_value,
                            args: a,
                        };
                        let (want, _, _) = run(&reference, &d);
                        let (got, _, _) = run(&ours, &d);
                        assert_eq!(got, want, "{name}: call {nr}, arch {arch_value:#x}, {a:?}");
                    }
                }
            }
        }
    }

    /// What the kernel's action cache emulates at load time (every number,
    /// until an argument is read or a verdict is reached) and what a
    /// refused call runs: a fraction of seccompiler's layout.
    #[test]
    fn a_call_reaches_its_chain_or_the_kill_in_a_few_instructions() {
        let arch = TargetArch::x86_64;
        for (name, rules) in profiles() {
            let reference = plain(rules.clone(), arch);
            let ours = program(rules.clone(), arch).unwrap();
            let (mut before, mut after) = (0, 0);
            for nr in 0..463u32 {
                let d = Data {
                    nr,
                    arch: 0xc000_003e,
                    args: [0; 6],
                };
                let (_, s0, _) = run(&reference, &d);
                let (verdict, s1, _) = run(&ours, &d);
                before += s0;
                after += s1;
                if !rules.contains_key(&i64::from(nr)) {
                    assert_eq!(verdict, u32::from(SeccompAction::KillProcess));
                    assert!(s1 <= 20, "{name}: refused call {nr} ran {s1} instructions");
                }
            }
            assert!(
                after * 3 < before,
                "{name}: {after} instructions over every number, seccompiler's layout {before}"
            );
        }
    }

    #[test]
    fn every_chain_is_seccompilers_own() {
        let arch = TargetArch::x86_64;
        for (name, rules) in profiles() {
            let ours = program(rules.clone(), arch).unwrap();
            for (nr, r) in rules {
                let one = single(nr, r, arch).unwrap();
                let chain = &one[4..one.len() - 1];
                assert!(
                    ours.windows(chain.len())
                        .any(|w| w
                            .iter()
                            .zip(chain)
                            .all(|(x, y)| (x.code, x.jt, x.jf, x.k) == (y.code, y.jt, y.jf, y.k))),
                    "{name}: chain of call {nr}"
                );
            }
        }
    }
}
