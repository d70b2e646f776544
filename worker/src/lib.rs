//! The privsep workers: everything but acquiring the privileged resources.
//!
//! The shared runtime, used by every tool's worker:
//! - [`runtime`]: worker step 1 (handoff intake against the tool's
//!   descriptor, non-dumpable, stray fds, LSM self-check) and messages;
//! - [`lsm`]: the check that SELinux/TOMOYO moved us out of the launcher's domain;
//! - [`text`]: printable-text escaping for everything that came from outside;
//! - [`num`]: C's `strtol` and iputils' `strtol_or_err`;
//! - [`getopt`]: glibc's getopt, for the tools whose command lines need its order;
//! - [`sys`]: the only `unsafe` code (system call wrappers);
//! - [`driver`]: the worker sequence, over each tool's [`driver::Worker`];
//! - [`docs`]: what each tool's man page takes from its module.
//!
//! One module per tool, named after its descriptor (`-` as `_`), each
//! with its steps (`worker.rs`), its documentation (`docs.rs`) and its own
//! bins under `src/bin/`: [`ping`], [`arping`], [`clockdiff`],
//! [`mtr_packet`], [`fping`] (declared by `tools!`, which also lists
//! their manuals for [`docs::of`]).
//!
//! Errors are [`WorkerError`], one line each in the iputils tool's words.

#![deny(unsafe_code)]

pub mod docs;
pub mod driver;
mod error;
pub mod getopt;
pub mod lsm;
pub mod num;
pub mod runtime;
#[allow(unsafe_code)]
pub mod sys;
pub mod text;

/// Declares the tool modules and, in the same words, the list of their
/// manuals ([`docs::of`]): a tool module is one line here, and nothing
/// else lists it.
macro_rules! tools {
    ($($module:ident),* $(,)?) => {
        $(pub mod $module;)*

        /// Each tool module's name and its `docs::MANUAL`.
        static MANUALS: &[(&str, &docs::Manual)] = &[
            $((stringify!($module), &$module::docs::MANUAL),)*
        ];
    };
}

tools!(ping, arping, clockdiff, mtr_packet, fping);

pub use error::{Said, Voice, WorkerError};
