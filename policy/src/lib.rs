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
//!
//! Without feature `std` (the launcher's build: it links no libc and no
//! standard library) the crate is `no_std` with `alloc`: the descriptors,
//! the launcher's half of the handoff (the environment's allowlist and the
//! handoff variables, on bytes) and the program name. The workers' half
//! (decoding, validation, system calls), the renderer and the sandbox's
//! enforcement need `std`.

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(unsafe_code)]

extern crate alloc;

pub mod handoff;
pub mod inet;
pub mod layout;
#[cfg(feature = "std")]
pub mod render;
pub mod sandbox;
#[cfg(feature = "std")]
#[allow(unsafe_code)]
pub mod sys;
pub mod text;
pub mod tools;

#[cfg(feature = "std")]
mod error;
#[cfg(feature = "std")]
pub use error::PolicyError;
