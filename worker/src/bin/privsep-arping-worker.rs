//! `privsep-arping-worker`: the unprivileged half of privsep-arping, started
//! by the launcher with its channel to the broker at fd 3 (the broker,
//! `privsep-arping-broker`, holds the ARP packet socket). [`run`] is the worker sequence of the design contract, step by
//! step; the shared runtime does step 1, arping's own modules
//! (`worker::arping`) the rest.

#![forbid(unsafe_code)]

use std::ffi::OsString;

use policy::tools::ARPING;
use worker::arping::channel::Channel;
use worker::arping::cli::{self, Parsed};
use worker::arping::engine::{self, SocketIo, Stop};
use worker::arping::output;
use worker::runtime::{self, say};
use worker::sys;

fn main() {
    let args: Vec<OsString> = std::env::args_os().collect();
    let status = run(&args);
    // iputils' atexit(close_stdout): a failed write to stdout or stderr
    // changes the status.
    let prog = runtime::invocation_name(&args, &ARPING);
    std::process::exit(runtime::exit_status(&prog, status));
}

fn run(args: &[OsString]) -> i32 {
    // iputils' error() names the program as invoked (argv[0] whole).
    let prog = runtime::invocation_name(args, &ARPING);
    let fail = |msg: &dyn std::fmt::Display| {
        say(&prog, msg);
        2
    };

    // 1. Take the broker channel the launcher handed over (validated
    //    against arping's descriptor, close-on-exec), become non-dumpable,
    //    drop any other descriptor, make sure we left the launcher's LSM
    //    domain.
    let sockets = match runtime::start(&ARPING) {
        Ok(s) => s,
        Err(msg) => return fail(&msg),
    };
    let Some(fd) = sockets.first().map(|s| s.fd) else {
        return fail(&"no broker channel was handed over");
    };
    let mut channel = Channel::new(fd);

    // 2. The command line.
    let o = match cli::parse(args.get(1..).unwrap_or(&[])) {
        Ok(Parsed::Run(o)) => o,
        Ok(Parsed::Usage) => {
            let _ = sys::write_all(2, output::usage().as_bytes());
            return 2;
        }
        Ok(Parsed::Version) => {
            let _ = sys::write_all(1, output::version().as_bytes());
            return 0;
        }
        Ok(Parsed::BadOption(complaint)) => {
            say(&prog, &complaint);
            let _ = sys::write_all(2, output::usage().as_bytes());
            return 2;
        }
        Err(e) => {
            say(&prog, &e);
            return e.status();
        }
    };

    // 3. Prepare: the non-root limits (real uid 0 is root: the worker never
    //    holds a capability), the target's address, the interface, the
    //    source address, the broker's socket bound to the interface, the ARPING line,
    //    the signal handlers. The only phase that reads files or opens
    //    sockets.
    let is_root = sys::real_uid() == 0;
    let session = match engine::prepare(&o, &mut channel, is_root, &prog) {
        Ok(s) => s,
        Err(Stop::Fail(msg)) => return fail(&msg),
        Err(Stop::FailWith { message, code }) => {
            say(&prog, &message);
            return code;
        }
        Err(Stop::Exit { stdout, code }) => {
            let _ = sys::write_all(1, stdout.as_bytes());
            return code;
        }
    };
    let mut io = match SocketIo::new(channel) {
        Ok(io) => io,
        Err(e) => return fail(&format!("sigaction: {}", worker::text::os_error_text(&e))),
    };

    // 4. Lock down: rlimits, Landlock, seccomp (arping's profile). From
    //    here on only the system calls of that profile are made.
    if let Err(e) = policy::sandbox::lock_down(ARPING.sandbox, &sockets) {
        return fail(&e);
    }

    // 5. Probe until done; the summary; iputils' exit status.
    session.run(&mut io)
}
