//! The QEMU conformance suite, as a library shared by its three binaries:
//!
//! - the host harness (`vm-tests`, `src/main.rs`): [`kernel`] fetches and
//!   unpacks Debian's kernel, [`cpio`] writes the initramfs, [`configs`] is
//!   the table of configurations (kernel command line, policies),
//!   [`qemu`] boots one and collects its verdict;
//! - the guest agent (`vm-agent`, PID 1 in the guest, and the unprivileged
//!   user's "shell" under another name): [`guest`] with the case table in
//!   [`guest::cases`];
//! - the compromised worker/launcher (`probe`): [`probe`].
//!
//! Results are JSON lines (`serde_json`) on both sides; [`junit`] writes and
//! checks the JUnit XML for CI services. Only [`sys`] contains `unsafe` code.

#![deny(unsafe_code)]

pub mod configs;
pub mod cpio;
pub mod guest;
pub mod junit;
pub mod kernel;
pub mod probe;
pub mod qemu;
#[allow(unsafe_code)]
pub mod sys;

/// Errors of the harness and the agent.
#[derive(Debug, thiserror::Error)]
pub enum VmError {
    /// An I/O or system-call failure, with what we were doing.
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    /// Something outside our control broke: download, extraction, boot, timeout.
    /// Never a pass.
    #[error("infrastructure failure: {0}")]
    Infra(String),
    /// Bad input from the command line or a file.
    #[error("{0}")]
    Usage(String),
}

impl VmError {
    /// Wraps an I/O error with context.
    pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> VmError {
        let what = what.into();
        move |source| VmError::Io { what, source }
    }
}
