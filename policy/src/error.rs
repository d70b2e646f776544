//! The crate's one error type.

#![forbid(unsafe_code)]

use std::io;

/// Everything that can go wrong in the shared policy code, with the context
/// a user needs to understand it.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The worker was not started by the launcher (no or inconsistent handoff).
    #[error("not started by {launcher}: {reason}")]
    NoHandoff {
        launcher: &'static str,
        reason: String,
    },
    /// A handed-over descriptor is not the socket its name promises.
    #[error("handed-over fd {fd} is not the {name} socket: {reason}")]
    BadSocket {
        fd: i32,
        name: &'static str,
        reason: String,
    },
    /// A system call failed.
    #[error("{call}: {source}")]
    Sys {
        call: &'static str,
        source: io::Error,
    },
    /// A policy template references a variable the layout does not define.
    #[error("template {template}: unknown variable @{var}@")]
    Template { template: String, var: String },
    /// A sandbox step failed where it must not.
    #[error("sandbox: {step}: {reason}")]
    Sandbox { step: &'static str, reason: String },
}
