//! `privsep-ping-worker`: the unprivileged half of privsep-ping, started by
//! the launcher with raw ICMP sockets at fds 3 and 4. [`run`] is the worker
//! sequence of the design contract, step by step; the shared runtime does
//! step 1, ping's own modules (`worker::ping`) the rest.

#![forbid(unsafe_code)]

use std::ffi::OsString;

use policy::tools::{ICMP4, ICMP6, PING};
use worker::ping::cli::{self, Parsed};
use worker::ping::engine::Engine;
use worker::ping::icmp::{self, Family};
use worker::ping::{json, output, resolve};
use worker::runtime::{self, say};
use worker::sys;

fn main() {
    std::process::exit(run());
}

fn run() -> i32 {
    let args: Vec<OsString> = std::env::args_os().collect();
    let prog = runtime::program_name(&args, &PING);
    let fail = |msg: &dyn std::fmt::Display| {
        say(&prog, msg);
        2
    };

    // 1. Take the sockets the launcher handed over (validated against
    //    ping's descriptor, close-on-exec), become non-dumpable, drop any
    //    other descriptor, and make sure the kernel moved us out of the
    //    launcher's LSM domain.
    let sockets = match runtime::start(&PING) {
        Ok(s) => s,
        Err(msg) => return fail(&msg),
    };

    // 2. The command line, with iputils' limits for users other than root
    //    (real uid 0: the worker itself never holds a capability).
    let is_root = sys::real_uid() == 0;
    let outcome = cli::parse(args.get(1..).unwrap_or(&[]), is_root);
    for w in &outcome.warnings {
        say(&prog, w);
    }
    let o = match outcome.result {
        Ok(Parsed::Run(o)) => o,
        Ok(Parsed::Help) => {
            let _ = sys::write_all(2, output::usage(&prog).as_bytes());
            return 2;
        }
        Ok(Parsed::Version { json: false }) => {
            let _ = sys::write_all(1, format!("{}\n", output::version()).as_bytes());
            return 0;
        }
        Ok(Parsed::Version { json: true }) => {
            let mut line = String::new();
            json::version(&mut line);
            let _ = sys::write_all(1, line.as_bytes());
            return 0;
        }
        Err(msg) => return fail(&msg),
    };
    // -j: upstream leaves this line as raw text; no JSON object for it.
    if let (Some(p), false, false) = (&o.pattern, o.quiet, o.json) {
        let _ = sys::write_all(1, format!("{}\n", output::pattern_line(p)).as_bytes());
    }

    // 3. Resolve the destination, and its reverse name unless -n: the only
    //    phase that reads files or does DNS. Nothing is looked up later.
    let fd_of = |spec| sockets.iter().find(|s| s.spec == spec).map(|s| s.fd);
    let (fd4, fd6) = (fd_of(&ICMP4), fd_of(&ICMP6));
    let family = match resolve::wanted_family(o.family, fd4.is_some(), fd6.is_some()) {
        Ok(f) => f,
        Err(msg) => return fail(&msg),
    };
    let max_size = match family {
        Some(Family::V4) => icmp::MAX_DATALEN_V4,
        Some(Family::V6) => icmp::MAX_DATALEN_V6,
        None if o.destination.parse::<std::net::Ipv4Addr>().is_ok() => icmp::MAX_DATALEN_V4,
        None => icmp::MAX_DATALEN_V6,
    };
    if let Some(msg) = cli::size_error(o.datalen, max_size) {
        return fail(&msg);
    }
    if o.verbose {
        let fam = match family {
            None => "AF_UNSPEC",
            Some(Family::V4) => "AF_INET",
            Some(Family::V6) => "AF_INET6",
        };
        let show = |fd: Option<i32>| {
            fd.map_or("-1 (socktype: 0)".to_string(), |f| {
                format!("{f} (socktype: SOCK_RAW)")
            })
        };
        say(
            &prog,
            format!(
                "sock4.fd: {}, sock6.fd: {}, hints.ai_family: {fam}",
                show(fd4),
                show(fd6)
            ),
        );
    }
    let target = match resolve::resolve(&o.destination, family, o.numeric) {
        Ok(t) => t,
        Err(msg) => return fail(&msg),
    };
    let (fd, other) = match target.family {
        Family::V4 => (fd4, fd6),
        Family::V6 => (fd6, fd4),
    };
    let Some(fd) = fd else {
        return fail(&"no raw socket for the destination's address family");
    };
    if o.verbose {
        let fam = if target.family == Family::V4 {
            "AF_INET"
        } else {
            "AF_INET6"
        };
        let canon = target.canonname.as_deref().unwrap_or("");
        say(
            &prog,
            format!("ai->ai_family: {fam}, ai->ai_canonname: '{canon}'"),
        );
    }

    // Socket options, signal handlers and buffers: all before the sandbox,
    // which forbids setsockopt and friends. Then the PING line and, as in
    // iputils' setup(), the interval limits.
    let header = match target.family {
        Family::V4 => output::header_v4(&target.hostname, &target.numeric, o.datalen),
        Family::V6 => output::header_v6(&target.hostname, &target.numeric, o.datalen),
    };
    let mut engine = match Engine::prepare(&o, target, fd, other, is_root, &prog) {
        Ok(e) => e,
        Err(msg) => return fail(&msg),
    };
    // -j: upstream emits no object for the PING line.
    if !o.json {
        let _ = sys::write_all(1, format!("{header}\n").as_bytes());
    }
    if let Some(msg) = cli::interval_error(&o, is_root) {
        // Upstream reports these two setup() checks through ping_error(),
        // a JSON error object on stdout under -j; the house rule's one
        // line on stderr is kept as well.
        if o.json {
            let mut line = String::new();
            json::error(&mut line, &msg.to_string());
            let _ = sys::write_all(1, line.as_bytes());
        }
        return fail(&msg);
    }

    // 4. Lock down: rlimits, Landlock, seccomp (ping's profile). From
    //    here on only the system calls of that profile are made.
    match policy::sandbox::lock_down(PING.sandbox, &sockets) {
        Ok(report) => {
            if o.verbose {
                say(&prog, format!("ident: {:#06x}", engine.ident()));
                for line in report.to_string().lines() {
                    say(&prog, format!("sandbox: {line}"));
                }
            }
        }
        Err(e) => return fail(&e),
    }

    // 5. Ping until done; the summary; 0 if any reply, 1 if none.
    engine.run()
}
