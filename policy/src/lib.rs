//! The single description of the privsep split, shared by both sides.
//!
//! - [`tools`]: one descriptor per tool, the source of everything
//!   tool-specific;
//! - [`layout`]: where things are installed (fixed at build time);
//! - [`handoff`]: how the launcher hands its sockets and environment to the
//!   worker (encoded by the launcher, decoded and validated by the worker);
//! - [`sandbox`]: the workers' sandbox profiles as reviewed data, and (feature
//!   `sandbox`) their enforcement — rlimits, Landlock, the seccomp allowlist;
//! - [`render`]: the SELinux and TOMOYO policy files, rendered from their
//!   templates with the layout's paths;
//! - [`inet`]: the Internet checksum;
//! - [`text`]: the program name in messages (argv\[0\]) and printable text,
//!   the same for launcher and worker.
//!
//! Only [`sys`] contains `unsafe` code.

#![deny(unsafe_code)]

pub mod handoff;
pub mod inet;
pub mod layout;
pub mod render;
pub mod sandbox;
#[allow(unsafe_code)]
pub mod sys;
pub mod text;
pub mod tools;

mod error;
pub use error::PolicyError;
