//! The seccomp program of a worker's profile (`profile`): allowed calls
//! pass with their argument checks, everything else (including other
//! architectures' calling conventions) kills the process. The rules of
//! each call are seccompiler's; their layout is `dispatch`'s.

#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::os::fd::RawFd;

use seccompiler::{
    BpfProgram, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompRule, TargetArch,
};

use super::profile::{Args, Profile, Rule};
use crate::handoff::HandedSocket;
use crate::PolicyError;

/// The entries that apply for `sockets` (those restricted to handed-over
/// sockets drop out when there are none).
pub fn allowed_here<'a>(
    profile: &'static Profile,
    sockets: &'a [HandedSocket],
) -> impl Iterator<Item = &'static Rule> + 'a {
    allowed_keeping(profile, sockets, &[])
}

/// [`allowed_here`] for a process that also keeps descriptors of its own
/// (`own`): they count as handed-over sockets, without a name.
pub fn allowed_keeping<'a>(
    profile: &'static Profile,
    sockets: &'a [HandedSocket],
    own: &'a [RawFd],
) -> impl Iterator<Item = &'static Rule> + 'a {
    profile.rules().filter(move |r| match r.args {
        Args::HandedSocket(_) => !sockets.is_empty() || !own.is_empty(),
        Args::HandedNamed(_, name) | Args::HandedNamedOneOf(_, name, _, _) => {
            sockets.iter().any(|s| s.name() == name)
        }
        _ => true,
    })
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
fn rules_for(
    rule: &Rule,
    sockets: &[HandedSocket],
    own: &[RawFd],
) -> Result<Vec<SeccompRule>, PolicyError> {
    let rules = match rule.args {
        Args::Any => return Ok(Vec::new()),
        Args::HandedSocket(n) => one_cond_each(
            n,
            sockets
                .iter()
                .map(|s| s.fd)
                .chain(own.iter().copied())
                .map(|fd| fd as u32 as u64),
        )?,
        Args::OneOf(n, values) => one_cond_each(n, values.iter().copied())?,
        Args::OwnPid(n) => one_cond_each(n, [std::process::id() as u64])?,
        Args::AllOf(args) => {
            // One seccomp rule (an AND of conditions) per combination.
            let mut combos: Vec<Vec<SeccompCondition>> = vec![Vec::new()];
            for &(n, values) in args {
                let mut next = Vec::new();
                for combo in &combos {
                    for &v in values {
                        let mut c = combo.clone();
                        c.push(cond(n, SeccompCmpOp::Eq, v)?);
                        next.push(c);
                    }
                }
                combos = next;
            }
            combos
                .into_iter()
                .filter(|c| !c.is_empty())
                .map(|c| SeccompRule::new(c).map_err(err))
                .collect::<Result<Vec<_>, _>>()?
        }
        Args::NoBits(n, mask) => {
            vec![SeccompRule::new(vec![cond(n, SeccompCmpOp::MaskedEq(mask), 0)?]).map_err(err)?]
        }
        Args::HandedNamed(n, name) => one_cond_each(n, named_fds(sockets, name))?,
        Args::HandedNamedOneOf(n, name, m, values) => named_fds(sockets, name)
            .flat_map(|fd| values.iter().map(move |v| (fd, *v)))
            .map(|(fd, v)| {
                SeccompRule::new(vec![
                    cond(n, SeccompCmpOp::Eq, fd)?,
                    cond(m, SeccompCmpOp::Eq, v)?,
                ])
                .map_err(err)
            })
            .collect::<Result<_, _>>()?,
    };
    if rules.is_empty() {
        return Err(err(format!(
            "{}: argument rule with no alternative",
            rule.name
        )));
    }
    Ok(rules)
}

/// The descriptors of the handed-over sockets named `name`.
fn named_fds<'a>(sockets: &'a [HandedSocket], name: &'a str) -> impl Iterator<Item = u64> + 'a {
    sockets
        .iter()
        .filter(move |s| s.name() == name)
        .map(|s| s.fd as u32 as u64)
}

/// The BPF program for `profile` and `sockets` on the build's
/// architecture: allowed calls pass, everything else (including other
/// architectures' calling conventions) kills the process. Built for the
/// calling process ([`Args::OwnPid`]).
pub fn seccomp_program(
    profile: &'static Profile,
    sockets: &[HandedSocket],
) -> Result<BpfProgram, PolicyError> {
    program_keeping(profile, sockets, &[])
}

/// [`seccomp_program`] for a process that also keeps descriptors of its
/// own (see [`allowed_keeping`]). seccompiler compiles each call's rules;
/// the sandbox's `dispatch` module lays the calls out behind a search on
/// the number.
pub fn program_keeping(
    profile: &'static Profile,
    sockets: &[HandedSocket],
    own: &[RawFd],
) -> Result<BpfProgram, PolicyError> {
    let arch = TargetArch::try_from(std::env::consts::ARCH).map_err(err)?;
    super::dispatch::program(rules_map(profile, sockets, own)?, arch)
}

/// Call number → its seccompiler rules, for the entries that apply.
pub(super) fn rules_map(
    profile: &'static Profile,
    sockets: &[HandedSocket],
    own: &[RawFd],
) -> Result<BTreeMap<i64, Vec<SeccompRule>>, PolicyError> {
    let mut map: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    for rule in allowed_keeping(profile, sockets, own) {
        if map
            .insert(rule.nr, rules_for(rule, sockets, own)?)
            .is_some()
        {
            return Err(err(format!("{} is listed twice", rule.name)));
        }
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::{ICMP4, PING};

    #[test]
    fn socket_rules_vanish_without_sockets() {
        let none: Vec<_> = allowed_here(PING.sandbox, &[]).map(|r| r.name).collect();
        assert!(!none.contains(&"sendto") && !none.contains(&"recvmsg"));
        let one = [HandedSocket {
            fd: 3,
            spec: &ICMP4,
            kind: None,
        }];
        let some: Vec<_> = allowed_here(PING.sandbox, &one).map(|r| r.name).collect();
        assert!(some.contains(&"sendto") && some.contains(&"recvmsg"));
        // And the program compiles in both cases.
        assert!(
            seccomp_program(PING.sandbox, &[]).unwrap().len()
                < seccomp_program(PING.sandbox, &one).unwrap().len()
        );
    }

    #[test]
    fn the_mtr_packet_broker_profile_compiles() {
        use crate::sandbox::profile::MTR_PACKET_BROKER;
        let channel = [HandedSocket {
            fd: 3,
            spec: &crate::tools::UDP4_SEND,
            kind: None,
        }];
        assert!(!seccomp_program(&MTR_PACKET_BROKER, &channel)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn kept_descriptors_are_admitted_like_handed_sockets() {
        use crate::sandbox::profile::MTR_PACKET_BROKER;
        // What the pretend socket descriptors of the co-process channels
        // used to give, a descriptor of the process's own gives.
        let pretend = [HandedSocket {
            fd: 7,
            spec: &crate::tools::UDP4_SEND,
            kind: None,
        }];
        for profile in [&MTR_PACKET_BROKER, PING.sandbox] {
            let kept = program_keeping(profile, &[], &[7]).unwrap();
            let handed = seccomp_program(profile, &pretend).unwrap();
            assert_eq!(format!("{kept:?}"), format!("{handed:?}"));
            assert_ne!(
                format!("{kept:?}"),
                format!("{:?}", seccomp_program(profile, &[]).unwrap())
            );
        }
        let names = |own: &[RawFd]| -> Vec<&str> {
            allowed_keeping(&MTR_PACKET_BROKER, &[], own)
                .map(|r| r.name)
                .collect()
        };
        assert!(names(&[7]).contains(&"sendmsg"));
        assert!(!names(&[]).contains(&"sendmsg"));
    }

    #[test]
    fn every_tool_profile_compiles() {
        for tool in crate::tools::ALL {
            let all: Vec<HandedSocket> = tool
                .sockets()
                .enumerate()
                .map(|(i, spec)| HandedSocket {
                    fd: 3 + i as i32,
                    spec,
                    kind: None,
                })
                .collect();
            seccomp_program(tool.sandbox, &all).unwrap();
            if let Some(b) = tool.broker {
                let held: Vec<HandedSocket> = tool
                    .broker_handoff()
                    .into_iter()
                    .enumerate()
                    .map(|(i, spec)| HandedSocket {
                        fd: 3 + i as i32,
                        spec,
                        kind: None,
                    })
                    .collect();
                seccomp_program(b.sandbox, &held).unwrap();
                if b.holds.is_empty() {
                    continue;
                }
                // The packet socket's own calls vanish without it.
                let channel_only = &held[held.len() - 1..];
                let names: Vec<_> = allowed_here(b.sandbox, channel_only)
                    .map(|r| r.name)
                    .collect();
                assert!(!names.contains(&"bind") && !names.contains(&"ioctl"));
                assert!(names.contains(&"sendto"));
            }
        }
    }
}
