//! The worker library's one error type. Every variant carries the exact
//! one-line text iputils prints (without the `ping:` prefix, which the
//! binary adds with its own name); each ends the worker with status 2 but
//! [`WorkerError::BadValue`], iputils' exit 1.

#![forbid(unsafe_code)]

/// What can stop the worker before its ping loop.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkerError {
    /// A bad or conflicting command line, or a limit for non-root users.
    #[error("{0}")]
    Usage(String),
    /// A value iputils' `strtol_or_err` rejects: its words, its exit 1.
    #[error("{0}")]
    BadValue(String),
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

impl WorkerError {
    /// The exit status iputils ends with for this error.
    pub fn status(&self) -> i32 {
        match self {
            WorkerError::BadValue(_) => 1,
            _ => 2,
        }
    }
}
