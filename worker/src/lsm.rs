//! The worker's check that the kernel really moved it out of the
//! launcher's LSM domain: if SELinux or TOMOYO left it in the domain that
//! may hold `net_raw`, the policy's split did not happen and it refuses to
//! run. A file that cannot be read means "no such LSM here".

#![forbid(unsafe_code)]

use policy::layout::{LAUNCHER_PATH, SELINUX_LAUNCHER_TYPE};

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

/// The refusal, if `selinux_context` / `tomoyo_domain` (the contents of
/// the two files, when readable) show the launcher's domain.
pub fn refusal(selinux_context: Option<&str>, tomoyo_domain: Option<&str>) -> Option<String> {
    if selinux_context.and_then(selinux_type) == Some(SELINUX_LAUNCHER_TYPE) {
        return Some(format!(
            "refusing to run in the launcher's SELinux domain {SELINUX_LAUNCHER_TYPE} (no transition to the worker domain)"
        ));
    }
    if tomoyo_domain.and_then(tomoyo_leaf) == Some(LAUNCHER_PATH) {
        return Some(format!(
            "refusing to run in the launcher's TOMOYO domain ({LAUNCHER_PATH}): the worker did not get its own domain"
        ));
    }
    None
}

/// Reads the two files and applies [`refusal`].
pub fn check() -> Result<(), WorkerError> {
    let se = std::fs::read_to_string("/proc/self/attr/current").ok();
    let tomoyo = std::fs::read_to_string("/sys/kernel/security/tomoyo/self_domain").ok();
    match refusal(se.as_deref(), tomoyo.as_deref()) {
        Some(msg) => Err(WorkerError::Refused(msg)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let launcher = format!("system_u:system_r:{SELINUX_LAUNCHER_TYPE}:s0");
        assert!(refusal(Some(&launcher), None).is_some());
        let worker = format!(
            "system_u:system_r:{}:s0",
            policy::layout::SELINUX_WORKER_TYPE
        );
        assert!(refusal(Some(&worker), None).is_none());
        assert!(refusal(None, None).is_none());
    }

    #[test]
    fn tomoyo_domains() {
        let launcher = format!("<kernel> {LAUNCHER_PATH}\n");
        assert!(refusal(None, Some(&launcher)).is_some());
        let worker = format!("<kernel> {LAUNCHER_PATH} {}\n", policy::layout::WORKER_PATH);
        assert!(refusal(None, Some(&worker)).is_none());
        assert!(refusal(None, Some("<kernel> /usr/bin/bash")).is_none());
    }
}
