//! The worker's check that the kernel really moved it out of the
//! launcher's LSM domain: if SELinux, TOMOYO or AppArmor left it in the
//! domain that may hold `net_raw`, the policy's split did not happen and it
//! refuses to run. A file that cannot be read means "no such LSM here";
//! where the kernel lists its active LSMs (`lsm_list_modules`, Linux 6.8)
//! only the files of active ones are opened.

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

/// linux/lsm.h's ids of the LSMs whose domain the check reads: the three
/// that can hold `/proc/self/attr/current`, and TOMOYO.
const LSM_ID_SELINUX: u64 = 101;
const LSM_ID_SMACK: u64 = 102;
const LSM_ID_TOMOYO: u64 = 103;
const LSM_ID_APPARMOR: u64 = 104;

/// Which of the two files can show a domain (`/proc/self/attr/current`,
/// TOMOYO's `self_domain`), given the active LSMs the kernel lists
/// (`None`: the kernel cannot say, before Linux 6.8: both). A file of an
/// LSM that is not active cannot be read anyway (no such LSM here); not
/// opening it spares the worker's start-up a /proc lookup, a securityfs
/// lookup and their inodes.
pub fn files_to_read(active: Option<&[u64]>) -> (bool, bool) {
    let Some(ids) = active else {
        return (true, true);
    };
    let current = [LSM_ID_SELINUX, LSM_ID_SMACK, LSM_ID_APPARMOR]
        .iter()
        .any(|id| ids.contains(id));
    (current, ids.contains(&LSM_ID_TOMOYO))
}

/// Reads the files that can say something and applies [`refusal`].
pub fn check(tool: &Tool) -> Result<(), WorkerError> {
    let (current, tomoyo) = files_to_read(crate::sys::active_lsms().as_deref());
    let read =
        |wanted: bool, path: &str| wanted.then(|| std::fs::read_to_string(path).ok()).flatten();
    let se = read(current, "/proc/self/attr/current");
    let tomoyo = read(tomoyo, "/sys/kernel/security/tomoyo/self_domain");
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
    fn only_the_active_lsms_files_are_read() {
        assert_eq!(
            files_to_read(None),
            (true, true),
            "a kernel that cannot say"
        );
        // capability, landlock, yama, bpf: no domain to read.
        assert_eq!(files_to_read(Some(&[100, 110, 105, 109])), (false, false));
        assert_eq!(files_to_read(Some(&[100, 104, 110])), (true, false));
        assert_eq!(files_to_read(Some(&[100, 101])), (true, false));
        assert_eq!(files_to_read(Some(&[102])), (true, false));
        assert_eq!(files_to_read(Some(&[100, 103])), (false, true));
        assert_eq!(files_to_read(Some(&[101, 103, 104])), (true, true));
    }

    #[test]
    fn the_kernel_lists_its_lsms_or_cannot() {
        // Linux 6.8 and later list at least the capability module (100);
        // older ones have no such call.
        match crate::sys::active_lsms() {
            Some(ids) => assert!(ids.contains(&100), "{ids:?}"),
            None => {
                let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
                let mut v = release
                    .trim()
                    .split(['.', '-'])
                    .map(|p| p.parse::<u32>().unwrap_or(0));
                let (major, minor) = (v.next().unwrap_or(0), v.next().unwrap_or(0));
                assert!(
                    (major, minor) < (6, 8),
                    "{release}: lsm_list_modules failed"
                );
            }
        }
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
