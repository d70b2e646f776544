//! The worker library's one error type. Every variant carries the exact
//! one-line text iputils prints (without the `ping:` prefix, which the
//! binary adds with its own name); each ends the worker with status 2.

#![forbid(unsafe_code)]

/// What can stop the worker before its ping loop.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkerError {
    /// A bad or conflicting command line, or a limit for non-root users.
    #[error("{0}")]
    Usage(String),
    /// The destination could not be resolved (`host: reason`), or its
    /// family has no handed-over socket.
    #[error("{0}")]
    Resolve(String),
    /// A socket option or the signal setup failed (before the sandbox).
    #[error("{0}")]
    Setup(String),
    /// The LSM self-check found the worker in the launcher's domain.
    #[error("{0}")]
    Refused(String),
}
