//! The generic privsep launcher: one sequence for every tool, driven by the
//! tool's descriptor (`policy::tools::Tool`).
//!
//! It does five things, in this order, and nothing else: sanitize the
//! process (non-dumpable, fds 0–2 valid, every other fd closed); acquire
//! the descriptor's resources, raising each capability only around the
//! call that needs it; drop every privilege; set `no_new_privs` and verify
//! that nothing is left; check the fixed worker, unprivileged, and exec it
//! with the sockets at fds 3, 4, … and a rebuilt environment. It never
//! interprets its arguments: they go to the worker untouched. Any failure
//! is one line on stderr and exit status 2.
//!
//! The first three run in [`privileged`], at the ELF entry point, before
//! anything else: the process is privileged for the kernel's `execve` and
//! six system calls, from a [`plan::Plan`] of integers. The rest is
//! [`sequence`], with nothing privileged but the descriptors.
//!
//! Each tool's binary (`src/bin/privsep-<tool>.rs`) is one line:
//! [`entry_point!`] with its descriptor. The binaries link no libc and no
//! standard library (`no_std`, `no_main`, feature `nolibc`): every system
//! call is [`sys`]'s, and the run-time (entry, self-relocation, memory
//! functions, allocator, panic handler) is `sys::rt`'s. Unit tests build
//! the library with `std`.

#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]

extern crate alloc;

mod errno_text;
pub mod plan;
pub mod privileged;
pub mod privileges;
pub mod sequence;
#[allow(unsafe_code)]
#[doc(hidden)]
pub mod sys;

use alloc::string::String;
use alloc::vec::Vec;

use policy::tools::Tool;

use crate::privileged::Record;

/// Runs the rest of `tool`'s launcher sequence on this process, after its
/// privileged phase left `record`, with the process's `argv` and
/// environment. Returns only on failure, after writing the one-line
/// reason to stderr, with the exit status (2) the process must end with.
pub fn launch(
    tool: &'static Tool,
    record: Record,
    argv: Vec<Vec<u8>>,
    env: Vec<(Vec<u8>, Vec<u8>)>,
) -> i32 {
    // Named as the worker and iputils name themselves (argv[0] as invoked),
    // so that `ping: …` stays `ping: …` when ping is privsep's.
    let name =
        policy::text::invocation_name_bytes(argv.first().map(Vec::as_slice), tool.launcher_name);
    let err = sequence::launch(tool, Some(record), &mut privileges::System, argv, env);
    // One write; a closed stderr is not a reason to do anything else.
    let text: String = alloc::format!("{err}")
        .lines()
        .map(|line| alloc::format!("{name}: {line}\n"))
        .collect();
    sys::write_stderr(text.as_bytes());
    2
}
