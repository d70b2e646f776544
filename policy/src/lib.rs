//! The single description of the privsep split, shared by both sides.
//!
//! - [`layout`]: where things are installed (fixed at build time);
//! - [`handoff`]: how the launcher hands its sockets and environment to the
//!   worker (encoded by the launcher, decoded and validated by the worker);
//! - [`sandbox`] (feature `sandbox`): the worker's sandbox profile as reviewed
//!   data — rlimits, namespaces, Landlock, the seccomp allowlist;
//! - [`render`]: the SELinux and TOMOYO policy files, rendered from their
//!   templates with the layout's paths.
//!
//! Only [`sys`] contains `unsafe` code.

pub mod handoff;
pub mod layout;
pub mod render;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod sys;

mod error;
pub use error::PolicyError;
