//! `privsep-clockdiff-worker`: the unprivileged half of privsep-clockdiff,
//! started by the launcher at nice -16 with a raw ICMPv4 socket at fd 3.
//! [`run`] is the worker sequence of the design contract, step by step;
//! the shared runtime does step 1, clockdiff's modules
//! (`worker::clockdiff`) the rest. Statuses are iputils': 0 measured, 1
//! for every error (bad command line, unknown host, down, unreachable,
//! non-standard format), 2 when the framework refuses to run.

#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::time::{SystemTime, UNIX_EPOCH};

use policy::tools::{CLOCKDIFF, CLOCKDIFF_NICE, ICMP4};
use worker::clockdiff::cli::{self, Parsed, Refusal};
use worker::clockdiff::link::RawLink;
use worker::clockdiff::measure::{self, Outcome};
use worker::clockdiff::{output, prepare};
use worker::runtime::{self, say};
use worker::{sys, text};

fn main() {
    let args: Vec<OsString> = std::env::args_os().collect();
    let status = run(&args);
    // iputils' atexit(close_stdout): a failed write to stdout or stderr
    // changes the status.
    let prog = runtime::invocation_name(&args, &CLOCKDIFF);
    std::process::exit(runtime::exit_status(&prog, status));
}

fn run(args: &[OsString]) -> i32 {
    // iputils' error() names the program as invoked (argv[0] whole),
    // getopt's "Try" line by its last component.
    let short = runtime::program_name(args, &CLOCKDIFF);
    let prog = runtime::invocation_name(args, &CLOCKDIFF);
    let out = |s: &str| {
        let _ = sys::write_all(1, s.as_bytes());
    };
    let err = |s: &str| {
        let _ = sys::write_all(2, s.as_bytes());
    };

    // 1. Take the raw socket the launcher handed over (validated against
    //    clockdiff's descriptor, close-on-exec), become non-dumpable, drop
    //    any other descriptor, make sure we left the launcher's LSM domain.
    let sockets = match runtime::start(&CLOCKDIFF) {
        Ok(s) => s,
        Err(msg) => {
            say(&prog, msg);
            return 2;
        }
    };
    let Some(fd) = sockets
        .iter()
        .find(|s| s.spec.name == ICMP4.name)
        .map(|s| s.fd)
    else {
        say(&prog, "no raw ICMPv4 socket was handed over");
        return 2;
    };

    // 2. The command line, with iputils' messages and statuses.
    let o = match cli::parse(args.get(1..).unwrap_or(&[])) {
        Ok(Parsed::Run(o)) => o,
        Ok(Parsed::Help) => {
            err(output::usage());
            return 0;
        }
        Ok(Parsed::Version) => {
            out(&output::version());
            return 0;
        }
        Err(Refusal::Getopt(msg)) => {
            say(&prog, msg);
            out(&output::try_help(&text::printable(&short)));
            return 1;
        }
        Err(Refusal::Error(msg)) => {
            say(&prog, msg);
            return 1;
        }
        Err(Refusal::Usage) => {
            err(output::usage());
            return 1;
        }
    };

    // 3. Check the priority, resolve, connect, set the IP timestamp
    //    option, load the time zone: the only phase that reads files or
    //    does DNS.
    let prepared = match prepare::prepare(&o, fd, CLOCKDIFF_NICE, &mut |w| say(&prog, w)) {
        Ok(p) => p,
        Err(msg) => {
            say(&prog, msg);
            return 1;
        }
    };

    // 4. Lock down: rlimits, Landlock, seccomp (clockdiff's profile). From
    //    here on only the system calls of that profile are made.
    if let Err(e) = policy::sandbox::lock_down(CLOCKDIFF.sandbox, &sockets) {
        say(&prog, e);
        return 2;
    }

    // 5. Measure; print the result or the verdict.
    let mut link = RawLink {
        fd,
        peer: prepared.peer,
    };
    let outcome = measure::measure(
        &mut link,
        prepared.method,
        prepared.peer,
        prepared.id,
        prepared.interactive,
    );
    let host = &prepared.hisname;
    let m = match outcome {
        Outcome::Good(m) => m,
        Outcome::HostDown => {
            say(&prog, format!("{host} is down"));
            return 1;
        }
        Outcome::NonStandard => {
            say(
                &prog,
                format!("{host} time transmitted in a non-standard format"),
            );
            return 1;
        }
        Outcome::Unreachable => {
            say(&prog, format!("{host} is unreachable"));
            return 1;
        }
        Outcome::Failed(Some(e)) => {
            say(&prog, format!("measure: {}", text::os_error_text(&e)));
            return 1;
        }
        Outcome::Failed(None) => {
            say(&prog, "measure: unknown failure");
            return 1;
        }
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    if prepared.interactive {
        let time =
            sys::local_time_text(now, output::time_format(o.time_format)).unwrap_or_default();
        out(&output::interactive_line(host, &m, &time));
    } else {
        out(&output::batch_line(now, &m));
    }
    0
}
