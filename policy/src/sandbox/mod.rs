//! The workers' sandbox: the profiles as reviewed data ([`profile`],
//! always built) and, with feature `sandbox`, their enforcement: rlimits,
//! Landlock and the seccomp allowlist, applied by [`lock_down`] in the
//! order of the design contract. Each layer is also public on its own so
//! that the tests and the "compromised worker" probes apply exactly the
//! profile a worker runs under.
//!
//! Enforcement is irreversible and assumes a single-threaded caller that
//! holds nothing but fds 0–2 and the handed-over sockets.

#![forbid(unsafe_code)]

#[cfg(feature = "sandbox")]
mod dispatch;
#[cfg(feature = "sandbox")]
mod lockdown;
pub mod profile;
#[cfg(feature = "sandbox")]
pub mod seccomp;

#[cfg(feature = "sandbox")]
pub use lockdown::*;
