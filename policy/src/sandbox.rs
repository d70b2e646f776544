//! The worker's sandbox profile as reviewed data: rlimits, namespaces,
//! Landlock and the seccomp allowlist, applied by [`lock_down`] in the order
//! of the design contract. (Being written: the signatures below are the
//! contract with the worker.)

#![forbid(unsafe_code)]

use crate::handoff::HandedSocket;
use crate::PolicyError;

/// What each best-effort layer achieved, for `-v` output and the tests.
#[derive(Debug, Clone, Default)]
pub struct SandboxReport {
    /// Namespaces entered (e.g. "user+net+ipc+uts"), or why none were.
    pub namespaces: String,
    /// Landlock status (e.g. "fully enforced (ABI 4)", "not supported by the kernel").
    pub landlock: String,
}

/// Locks the calling (single-threaded) worker down: rlimits, namespaces
/// where allowed, Landlock best effort, then the seccomp allowlist whose
/// default kills the process. Irreversible. `sockets` are the handed-over
/// descriptors, which keep working afterwards.
pub fn lock_down(sockets: &[HandedSocket]) -> Result<SandboxReport, PolicyError> {
    let _ = sockets;
    Err(PolicyError::Sandbox { step: "lock_down", reason: "not written yet".into() })
}
