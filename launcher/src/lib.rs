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
//! glibc's start-up: the process is privileged for the kernel's `execve`
//! and six system calls, from a [`plan::Plan`] of integers. The rest is
//! [`sequence`], in `main`, with nothing privileged but the descriptors.
//!
//! Each tool's binary (`src/bin/privsep-<tool>.rs`) is one line:
//! [`entry_point!`] with its descriptor. The binaries are linked
//! statically and have no Rust runtime start-up (`#![no_main]`).

#![deny(unsafe_code)]

mod errno_text;
pub mod plan;
pub mod privileged;
pub mod privileges;
pub mod sequence;
#[allow(unsafe_code)]
#[doc(hidden)]
pub mod sys;

use std::io::Write;

use policy::tools::Tool;

/// Runs `tool`'s launcher sequence on this process with `argv` (the C
/// `main`'s: musl hands it to nothing else). Returns only on failure,
/// after writing the one-line reason to stderr, with the exit status (2)
/// the process must end with.
pub fn launch(tool: &'static Tool, argv: Vec<std::ffi::OsString>) -> i32 {
    // Named as the worker and iputils name themselves (argv[0] as invoked),
    // so that `ping: …` stays `ping: …` when ping is privsep's.
    let name = policy::text::invocation_name(&argv[..argv.len().min(1)], tool.launcher_name);
    let err = sequence::launch(
        tool,
        sys::PRIVILEGED_PHASE.get(),
        &mut privileges::System,
        argv,
    );
    // One write, no formatting machinery beyond what the message needs;
    // a closed stderr is not a reason to do anything else.
    let text: String = err
        .to_string()
        .lines()
        .map(|line| format!("{name}: {line}\n"))
        .collect();
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
    2
}
