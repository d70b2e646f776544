//! What the privileged phase does for one tool, as plain integers: the
//! descriptor's resources (socket arguments and their alternatives, the
//! errnos that fall back, capability masks, the locked filter's
//! instructions, the nice value) copied out at compile time.
//!
//! The privileged phase runs at the ELF entry point, before the launcher
//! has relocated its (static-pie) image: every pointer stored in
//! data — the descriptor's slices and `&str`s — still reads as garbage
//! there. A [`Plan`] holds no pointer, so it is valid from the first
//! instruction. [`Plan::of`] is a `const fn`: a descriptor that does not
//! fit is a compile error, not a run-time surprise.

#![forbid(unsafe_code)]

use policy::tools::{BpfInsn, Resource, SocketSetup, Tool};

/// The most resources a descriptor may list (ping has two).
pub const MAX_RESOURCES: usize = 4;
/// The longest locked socket filter (arping's has four instructions).
pub const MAX_FILTER: usize = 8;
/// The most kinds a socket may list (ping: datagram, raw).
pub const MAX_KINDS: usize = 2;
/// The most errnos a socket may fall back on (ping's IPv4 has three).
pub const MAX_FALL_BACK: usize = 4;

/// One way of opening a socket: `socket()`'s type under `capability` (a
/// mask; 0: every capability lowered).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    pub ty: i32,
    pub capability: u64,
}

/// One resource, in descriptor order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// `socket(domain, kinds[k].ty, protocol)` under `kinds[k].capability`
    /// for k = 0, 1, …, the next only after an errno in `fall_back_on`;
    /// then, if `filter_len > 0`, the filter attached and locked.
    Socket {
        domain: i32,
        protocol: i32,
        kinds: [Kind; MAX_KINDS],
        kinds_len: usize,
        fall_back_on: [i32; MAX_FALL_BACK],
        fall_back_len: usize,
        optional: bool,
        filter: [BpfInsn; MAX_FILTER],
        filter_len: usize,
    },
    /// `setpriority(PRIO_PROCESS, 0, nice)` under `capability` (a mask).
    Priority { nice: i32, capability: u64 },
}

/// Room for the launcher's name in a [`Plan`].
pub const MAX_NAME: usize = 32;

/// A tool's privileged phase as data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// The launcher's name (`privsep-ping`) for the one message the
    /// privileged phase can write, `name[..name_len]`.
    pub name: [u8; MAX_NAME],
    pub name_len: usize,
    /// The file capability's mask: what `raise` keeps permitted.
    pub file_caps: u64,
    /// `steps[..len]` are the descriptor's resources, in order.
    pub steps: [Step; MAX_RESOURCES],
    pub len: usize,
}

const NO_INSN: BpfInsn = BpfInsn {
    code: 0,
    jt: 0,
    jf: 0,
    k: 0,
};

impl Plan {
    /// The plan of `tool`. Evaluated at compile time by `entry_point!`.
    pub const fn of(tool: &Tool) -> Plan {
        let mut file_caps = 0;
        let mut i = 0;
        while i < tool.file_caps.len() {
            file_caps |= tool.file_caps[i].mask();
            i += 1;
        }
        assert!(
            tool.resources.len() <= MAX_RESOURCES,
            "a descriptor lists more resources than launcher::plan::MAX_RESOURCES"
        );
        let mut steps = [Step::Priority {
            nice: 0,
            capability: 0,
        }; MAX_RESOURCES];
        let mut r = 0;
        while r < tool.resources.len() {
            steps[r] = match &tool.resources[r] {
                Resource::Socket(spec) => {
                    let mut filter = [NO_INSN; MAX_FILTER];
                    let mut filter_len = 0;
                    if let SocketSetup::LockedFilter(program) = spec.setup {
                        assert!(
                            !program.is_empty() && program.len() <= MAX_FILTER,
                            "a locked filter is empty or longer than launcher::plan::MAX_FILTER"
                        );
                        while filter_len < program.len() {
                            filter[filter_len] = program[filter_len];
                            filter_len += 1;
                        }
                    }
                    assert!(
                        !spec.kinds.is_empty() && spec.kinds.len() <= MAX_KINDS,
                        "a socket lists no kind or more than launcher::plan::MAX_KINDS"
                    );
                    let mut kinds = [Kind {
                        ty: 0,
                        capability: 0,
                    }; MAX_KINDS];
                    let mut k = 0;
                    while k < spec.kinds.len() {
                        kinds[k] = Kind {
                            ty: spec.kinds[k].ty,
                            capability: match spec.kinds[k].capability {
                                Some(c) => c.mask(),
                                None => 0,
                            },
                        };
                        k += 1;
                    }
                    assert!(
                        spec.fall_back_on.len() <= MAX_FALL_BACK,
                        "a socket falls back on more than launcher::plan::MAX_FALL_BACK errnos"
                    );
                    let mut fall_back_on = [0; MAX_FALL_BACK];
                    let mut e = 0;
                    while e < spec.fall_back_on.len() {
                        fall_back_on[e] = spec.fall_back_on[e];
                        e += 1;
                    }
                    Step::Socket {
                        domain: spec.domain,
                        protocol: spec.protocol,
                        kinds,
                        kinds_len: spec.kinds.len(),
                        fall_back_on,
                        fall_back_len: spec.fall_back_on.len(),
                        optional: spec.optional,
                        filter,
                        filter_len,
                    }
                }
                Resource::Priority { nice, capability } => Step::Priority {
                    nice: *nice,
                    capability: capability.mask(),
                },
            };
            r += 1;
        }
        let bytes = tool.launcher_name.as_bytes();
        assert!(
            bytes.len() <= MAX_NAME,
            "a launcher name is longer than launcher::plan::MAX_NAME"
        );
        let mut name = [0; MAX_NAME];
        let mut n = 0;
        while n < bytes.len() {
            name[n] = bytes[n];
            n += 1;
        }
        Plan {
            name,
            name_len: bytes.len(),
            file_caps,
            steps,
            len: tool.resources.len(),
        }
    }

    /// The launcher's name.
    pub fn name(&self) -> &[u8] {
        self.name.get(..self.name_len).unwrap_or(&[])
    }

    /// The steps, in order.
    pub fn steps(&self) -> &[Step] {
        self.steps.get(..self.len).unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use policy::tools::{ARPING, CLOCKDIFF, PING};

    #[test]
    fn every_descriptor_is_copied_whole() {
        for tool in policy::tools::ALL {
            let plan = Plan::of(tool);
            assert_eq!(plan.steps().len(), tool.resources.len(), "{}", tool.name);
            assert_eq!(plan.file_caps, tool.file_caps_mask(), "{}", tool.name);
            assert_eq!(plan.name(), tool.launcher_name.as_bytes());
            for (step, resource) in plan.steps().iter().zip(tool.resources) {
                match (step, resource) {
                    (
                        Step::Socket {
                            domain,
                            protocol,
                            kinds,
                            kinds_len,
                            fall_back_on,
                            fall_back_len,
                            optional,
                            filter,
                            filter_len,
                        },
                        Resource::Socket(spec),
                    ) => {
                        assert_eq!(
                            (*domain, *protocol, *optional),
                            (spec.domain, spec.protocol, spec.optional)
                        );
                        let want: Vec<Kind> = spec
                            .kinds
                            .iter()
                            .map(|k| Kind {
                                ty: k.ty,
                                capability: k.capability.map_or(0, |c| c.mask()),
                            })
                            .collect();
                        assert_eq!(&kinds[..*kinds_len], want.as_slice());
                        assert_eq!(&fall_back_on[..*fall_back_len], spec.fall_back_on);
                        let want: &[BpfInsn] = match spec.setup {
                            SocketSetup::LockedFilter(p) => p,
                            SocketSetup::None => &[],
                        };
                        assert_eq!(&filter[..*filter_len], want);
                    }
                    (
                        Step::Priority { nice, capability },
                        Resource::Priority {
                            nice: n,
                            capability: c,
                        },
                    ) => assert_eq!((*nice, *capability), (*n, c.mask())),
                    other => panic!("{}: step and resource differ: {other:?}", tool.name),
                }
            }
        }
        // The real ones, spelled out: ping's datagram kind raises nothing.
        assert_eq!(Plan::of(&PING).len, 2);
        assert!(matches!(
            Plan::of(&PING).steps()[0],
            Step::Socket {
                kinds: [
                    Kind {
                        ty: libc::SOCK_DGRAM,
                        capability: 0
                    },
                    Kind {
                        ty: libc::SOCK_RAW,
                        capability: 0x2000
                    }
                ],
                kinds_len: 2,
                fall_back_len: 3,
                ..
            }
        ));
        assert!(matches!(
            Plan::of(&ARPING).steps()[0],
            Step::Socket { filter_len: 4, .. }
        ));
        assert!(matches!(
            Plan::of(&CLOCKDIFF).steps()[0],
            Step::Priority { nice: -16, .. }
        ));
    }
}
