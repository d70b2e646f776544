//! The worker's check that the kernel really moved it out of the
//! launcher's LSM domain: if SELinux, TOMOYO or AppArmor left it in the
//! domain that may hold `net_raw`, the policy's split did not happen and it
//! refuses to run. A file that cannot be read means "no such LSM here".

#![forbid(unsafe_code)]

use policy::tools::Tool;

use crate::WorkerError;

/// The type field of an SELinux context (`user:role:type:level`).
pub fn selinux_type(context: &str) -> Option<&str> {
    let context = context.trim_end_matches(['\0', '\n']);
    let mut fields = context.split(':');
    let (_user, _role) = (fields.next()?, fields.next()?);
    fields.next().filter(|t| !t.is_empty())
}

/// The last program of a TOMOYO domain (`<kernel> /a /b` → `/b`).
pub fn tomoyo_leaf(domain: &str) -> Option<&str> {
    domain.split_whitespace().last()
}

/// An AppArmor label without its mode (`privsep-ping (enforce)` →
/// `privsep-ping`; a stack keeps its `//&`).
pub fn apparmor_label(context: &str) -> &str {
    let context = context.trim_end_matches(['\0', '\n']);
    match context.rsplit_once(" (") {
        Some((label, mode)) if mode.ends_with(')') => label,
        _ => context,
    }
}

/// The refusal, if `selinux_context` / `tomoyo_domain` (the contents of
/// the two files, when readable) show `tool`'s launcher domain. Under
/// AppArmor the first file holds the label: the launcher's profile alone
/// (`privsep-<tool>`, apparmor/privsep-tool.in) means the exec rule did not
/// stack the worker's profile onto it.
pub fn refusal(
    tool: &Tool,
    selinux_context: Option<&str>,
    tomoyo_domain: Option<&str>,
) -> Option<String> {
    let launcher_type = tool.selinux_launcher_type();
    if selinux_context.and_then(selinux_type) == Some(launcher_type.as_str()) {
        return Some(format!(
            "refusing to run in the launcher's SELinux domain {launcher_type} (no transition to the worker domain)"
        ));
    }
    let launcher_profile = format!("privsep-{}", tool.name);
    if selinux_context.map(apparmor_label) == Some(launcher_profile.as_str()) {
        return Some(format!(
            "refusing to run in the launcher's AppArmor profile {launcher_profile} (the worker's profile was not stacked onto it)"
        ));
    }
    if tomoyo_domain.and_then(tomoyo_leaf) == Some(tool.launcher_path) {
        return Some(format!(
            "refusing to run in the launcher's TOMOYO domain ({}): the worker did not get its own domain",
            tool.launcher_path
        ));
    }
    None
}

/// Reads the two files and applies [`refusal`].
pub fn check(tool: &Tool) -> Result<(), WorkerError> {
    let se = std::fs::read_to_string("/proc/self/attr/current").ok();
    let tomoyo = std::fs::read_to_string("/sys/kernel/security/tomoyo/self_domain").ok();
    match refusal(tool, se.as_deref(), tomoyo.as_deref()) {
        Some(msg) => Err(WorkerError::Refused(msg)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use policy::tools::{ARPING, PING};

    #[test]
    fn selinux_contexts() {
        assert_eq!(
            selinux_type("system_u:system_r:privsep_ping_t:s0\0"),
            Some("privsep_ping_t")
        );
        assert_eq!(
            selinux_type("unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023\n"),
            Some("unconfined_t")
        );
        assert_eq!(
            selinux_type("unconfined\n"),
            None,
            "AppArmor's label is not a context"
        );
        let launcher = format!("system_u:system_r:{}:s0", PING.selinux_launcher_type());
        assert!(refusal(&PING, Some(&launcher), None).is_some());
        assert!(
            refusal(&ARPING, Some(&launcher), None).is_none(),
            "another tool's launcher domain is not ours"
        );
        let worker = format!("system_u:system_r:{}:s0", PING.selinux_worker_type());
        assert!(refusal(&PING, Some(&worker), None).is_none());
        assert!(refusal(&PING, None, None).is_none());
    }

    #[test]
    fn apparmor_labels() {
        assert_eq!(apparmor_label("privsep-ping (enforce)\n"), "privsep-ping");
        assert_eq!(
            apparmor_label("privsep-ping//&privsep-ping-worker (enforce)\n"),
            "privsep-ping//&privsep-ping-worker"
        );
        assert_eq!(apparmor_label("unconfined\n"), "unconfined");
        assert!(refusal(&PING, Some("privsep-ping (enforce)\n"), None).is_some());
        assert!(refusal(&PING, Some("privsep-ping (complain)\n"), None).is_some());
        assert!(refusal(
            &PING,
            Some("privsep-ping//&privsep-ping-worker (enforce)\n"),
            None
        )
        .is_none());
        assert!(refusal(&PING, Some("unconfined\n"), None).is_none());
        assert!(
            refusal(&ARPING, Some("privsep-ping (enforce)\n"), None).is_none(),
            "another tool's launcher profile is not ours"
        );
    }

    #[test]
    fn tomoyo_domains() {
        let launcher = format!("{}\n", PING.tomoyo_launcher_domain());
        assert!(refusal(&PING, None, Some(&launcher)).is_some());
        let worker = format!("{}\n", PING.tomoyo_worker_domain());
        assert!(refusal(&PING, None, Some(&worker)).is_none());
        assert!(refusal(&PING, None, Some("<kernel> /usr/bin/bash")).is_none());
    }
}
