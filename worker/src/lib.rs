//! The privsep workers: everything but acquiring the privileged resources.
//!
//! The shared runtime, used by every tool's worker:
//! - [`runtime`]: worker step 1 (handoff intake against the tool's
//!   descriptor, non-dumpable, stray fds, LSM self-check) and messages;
//! - [`lsm`]: the check that SELinux/TOMOYO moved us out of the launcher's domain;
//! - [`text`]: printable-text escaping for everything that came from outside;
//! - [`num`]: C's `strtol` and iputils' `strtol_or_err`;
//! - [`getopt`]: glibc's getopt, for the tools whose command lines need its order;
//! - [`sys`]: the only `unsafe` code (system call wrappers).
//!
//! One module per tool, each with its own bin under `src/bin/`:
//! - [`ping`];
//! - [`arping`];
//! - [`clockdiff`];
//! - [`mtr_packet`];
//! - [`fping`].
//!
//! Errors are [`WorkerError`], one line each in the iputils tool's words.

#![deny(unsafe_code)]

pub mod arping;
pub mod clockdiff;
pub mod driver;
mod error;
pub mod fping;
pub mod getopt;
pub mod lsm;
pub mod mtr_packet;
pub mod num;
pub mod ping;
pub mod runtime;
#[allow(unsafe_code)]
pub mod sys;
pub mod text;

pub use error::{Said, Voice, WorkerError};
