//! `privsep-ping-worker`: the unprivileged half of privsep-ping, started by
//! the launcher with raw ICMP sockets at fds 3 and 4. [`run`] is the worker
//! sequence of the design contract, step by step; everything it calls lives
//! in the `worker` library.

#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

use policy::handoff::SocketKind;
use policy::PolicyError;
use worker::cli::{self, Parsed};
use worker::engine::Engine;
use worker::icmp::{self, Family};
use worker::{json, lsm, output, resolve, sys};

fn main() {
    std::process::exit(run());
}

/// `name: message` on stderr, as one line of printable text whatever the
/// user put in argv (the message may quote an argument or the destination,
/// the name is argv\[0\]'s): [`output::printable`] is the last word.
fn say(prog: &str, msg: impl std::fmt::Display) {
    let line = format!("{prog}: {msg}");
    let _ = sys::write_all(2, format!("{}\n", output::printable(&line)).as_bytes());
}

fn run() -> i32 {
    let args: Vec<OsString> = std::env::args_os().collect();
    let prog = args
        .first()
        .and_then(|a| a.as_bytes().rsplit(|&b| b == b'/').next())
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "privsep-ping".into());
    let fail = |msg: &dyn std::fmt::Display| {
        say(&prog, msg);
        2
    };

    // 1. Take the sockets the launcher handed over (validated: raw ICMP,
    //    close-on-exec), become non-dumpable, drop any other descriptor, and
    //    make sure the kernel moved us out of the launcher's LSM domain.
    let sockets = match policy::handoff::take_from_env() {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    if let Err(e) = sys::set_nondumpable() {
        return fail(&format!(
            "prctl(PR_SET_DUMPABLE): {}",
            output::os_error_text(&e)
        ));
    }
    let highest = sockets.iter().map(|s| s.fd).max().unwrap_or(2);
    if let Err(e) = sys::close_above(highest) {
        return fail(&format!("close_range: {}", output::os_error_text(&e)));
    }
    if let Err(msg) = lsm::check() {
        return fail(&msg);
    }
    // `privsep-ping … | head` must end like iputils does (Rust ignores SIGPIPE).
    sys::default_sigpipe();

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
    let fd_of = |kind| sockets.iter().find(|s| s.kind == kind).map(|s| s.fd);
    let (fd4, fd6) = (fd_of(SocketKind::Icmp4), fd_of(SocketKind::Icmp6));
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

    // 4. Lock down: rlimits, namespaces, Landlock, seccomp (policy crate).
    //    From here on only the system calls listed in engine.rs are made.
    match policy::sandbox::lock_down(&sockets) {
        Ok(report) => {
            if o.verbose {
                say(&prog, format!("ident: {:#06x}", engine.ident()));
                for line in report.to_string().lines() {
                    say(&prog, format!("sandbox: {line}"));
                }
            }
        }
        // The sandbox's placeholder before it was written: carry on.
        Err(PolicyError::Sandbox {
            step: "lock_down",
            reason,
        }) if reason == "not written yet" => {}
        Err(e) => return fail(&e),
    }

    // 5. Ping until done; the summary; 0 if any reply, 1 if none.
    engine.run()
}
