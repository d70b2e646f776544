//! The start of every worker, shared by all tools: take the handoff
//! (validated against the tool's descriptor), become non-dumpable, drop
//! every descriptor that was not handed over, refuse to run in the
//! launcher's LSM domain; and the one-line messages every worker prints.

#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

use policy::handoff::{HandedSocket, Handoff};
use policy::tools::Tool;

use crate::{lsm, sys, text, WorkerError};

/// The program name for messages: argv\[0\]'s last component as invoked,
/// or the launcher's name when argv\[0\] is empty.
pub fn program_name(args: &[OsString], tool: &Tool) -> String {
    args.first()
        .and_then(|a| a.as_bytes().rsplit(|&b| b == b'/').next())
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| tool.launcher_name.to_string())
}

/// argv\[0\] exactly as invoked (`/usr/bin/arping`), as iputils'
/// `error()` names the program (`program_invocation_name`); the launcher's
/// name if argv is empty. The launcher names itself the same way.
pub fn invocation_name(args: &[OsString], tool: &Tool) -> String {
    policy::text::invocation_name(args, tool.launcher_name)
}

/// `prog: message` on stderr, as one line of printable text whatever the
/// user put in argv or the network sent (the message may quote either).
pub fn say(prog: &str, msg: impl std::fmt::Display) {
    let line = format!("{prog}: {msg}");
    let _ = sys::write_all(2, format!("{}\n", text::printable(&line)).as_bytes());
}

/// iputils' `close_stdout`, run at exit: a failed write to stdout is
/// `prog: write error` and status 1 (stdio reports no errno for it, the
/// buffer having been dropped with the failed flush); a failed write to
/// stderr is status 1 without a word. Otherwise `status`.
pub fn exit_status(prog: &str, status: i32) -> i32 {
    match sys::stdio_failed() {
        (true, _) => {
            say(prog, "write error");
            1
        }
        (false, true) => 1,
        (false, false) => status,
    }
}

/// Worker step 1 for `tool`: the handed-over sockets, validated and
/// close-on-exec; the process non-dumpable, holding fds 0–2 and those
/// sockets only, outside the launcher's LSM domain. Or, for a tool whose
/// worker words it (`Tool::reports_refusals`), holding nothing, why the
/// launcher could open none of them. A refusal ends the worker with
/// status 2.
pub fn start(tool: &'static Tool) -> Result<Handoff, WorkerError> {
    match policy::handoff::take_handoff_from_env(tool)? {
        Handoff::Sockets(sockets) => settle(tool, sockets).map(Handoff::Sockets),
        Handoff::Refused(refused) => {
            settle(tool, Vec::new())?;
            Ok(Handoff::Refused(refused))
        }
    }
}

/// [`start`] for `tool`'s broker: its handoff (the held sockets and the
/// channel), the rest alike.
pub fn start_broker(tool: &'static Tool) -> Result<Vec<HandedSocket>, WorkerError> {
    let sockets = policy::handoff::take_broker_from_env(tool)?;
    settle(tool, sockets)
}

fn settle(
    tool: &'static Tool,
    sockets: Vec<HandedSocket>,
) -> Result<Vec<HandedSocket>, WorkerError> {
    let start = |call| move |source| WorkerError::Start { call, source };
    sys::set_nondumpable().map_err(start("prctl(PR_SET_DUMPABLE)"))?;
    let highest = sockets.iter().map(|s| s.fd).max().unwrap_or(2);
    sys::close_above(highest).map_err(start("close_range"))?;
    lsm::check(tool)?;
    // `privsep-<tool> … | head` must end like the iputils tool does (Rust
    // ignores SIGPIPE).
    sys::default_sigpipe();
    Ok(sockets)
}

/// Defines a `#![no_main]` worker binary's C `main`, which runs `$main`
/// (a `fn()` that ends the process with `std::process::exit`, which also
/// flushes Rust's stdout). Without Rust's runtime start-up: no `poll` of
/// fds 0–2 (the launcher made them valid), no `SIGPIPE` change (step 1
/// sets the default again), and no stack-overflow handler (a read of
/// `/proc/self/maps`, an alternate signal stack and two handlers), whose
/// only work is a message before the `SIGSEGV` that ends the process
/// either way. Sixteen system calls fewer at start and two at exit;
/// `std::env::args_os` still works (glibc hands `argv` to Rust's standard
/// library through `.init_array`, static binaries included).
#[macro_export]
macro_rules! worker_main {
    ($main:path) => {
        // SAFETY: `main` is the one symbol of this name in the binary (the
        // crate is `#![no_main]`), with the C signature glibc calls; it
        // touches neither argument.
        #[allow(unsafe_code)]
        #[no_mangle]
        extern "C" fn main(
            _argc: ::std::ffi::c_int,
            _argv: *const *const ::std::ffi::c_char,
        ) -> ::std::ffi::c_int {
            $main();
            // `$main` ends the process; were it to return, as Rust's
            // runtime would: through `exit`, stdout flushed.
            ::std::process::exit(0)
        }
    };
}
