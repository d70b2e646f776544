//! `privsep-ping-worker`: the unprivileged half of privsep-ping, started by
//! the launcher with raw ICMP sockets at fds 3 and 4. [`run`] is the worker
//! sequence of the design contract, step by step; the shared runtime does
//! step 1, ping's own modules (`worker::ping`) the rest.

#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

use policy::handoff::HandedSocket;
use policy::tools::{ICMP4, ICMP6, PING};
use worker::ping::cli::{self, CliError, Parsed};
use worker::ping::engine::Engine;
use worker::ping::icmp::{self, Family};
use worker::ping::resolver::{self, Resolver};
use worker::ping::setup::{self, SysIo};
use worker::ping::{json, output, resolve};
use worker::runtime::{self, say};
use worker::{sys, text};

fn main() {
    std::process::exit(run());
}

/// upstream's messages start with `program_invocation_name`: argv\[0\]
/// exactly as invoked (`/usr/bin/ping: …`), printable.
fn invocation_name(args: &[OsString]) -> String {
    runtime::invocation_name(args, &PING)
}

/// `ping4` / `ping6`: upstream picks the family from argv\[0\]'s last character.
fn family_by_name(args: &[OsString]) -> Option<Family> {
    match args.first().and_then(|a| a.as_bytes().last()) {
        Some(b'4') => Some(Family::V4),
        Some(b'6') => Some(Family::V6),
        _ => None,
    }
}

fn refuse(prog: &str, e: &CliError) -> i32 {
    if let Some(line) = e.stdout {
        let _ = sys::write_all(1, format!("{line}\n").as_bytes());
    }
    if let Some(help) = e.help {
        let _ = sys::write_all(2, help.as_bytes());
    }
    if !e.msg.is_empty() {
        say(prog, &e.msg);
    }
    if e.usage {
        let _ = sys::write_all(2, output::usage().as_bytes());
    }
    e.status
}

fn run() -> i32 {
    let args: Vec<OsString> = std::env::args_os().collect();
    let prog = invocation_name(&args);
    let fail = |msg: &dyn std::fmt::Display| {
        say(&prog, msg);
        2
    };
    let mut write_failed = false;
    let mut out = |bytes: &[u8]| {
        if sys::write_all(1, bytes).is_err() {
            write_failed = true;
        }
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
    let ptr_off = std::env::var_os("IPUTILS_PING_PTR_LOOKUP").is_some_and(|v| v == "0");
    let outcome = cli::parse(
        args.get(1..).unwrap_or(&[]),
        is_root,
        family_by_name(&args),
        ptr_off,
    );
    for w in &outcome.warnings {
        say(&prog, w);
    }
    let mut o = match outcome.result {
        Ok(Parsed::Run(o)) => *o,
        Ok(Parsed::Help) => return refuse(&prog, &CliError::with_usage(None)),
        Ok(Parsed::NodeInfoHelp) => {
            out(worker::ping::nodeinfo::HELP.as_bytes());
            return if write_failed { 1 } else { 0 };
        }
        Ok(Parsed::Version { json: false }) => {
            out(format!("{}\n", output::version()).as_bytes());
            return if write_failed { 1 } else { 0 };
        }
        Ok(Parsed::Version { json: true }) => {
            let mut line = String::new();
            json::version(&mut line);
            out(line.as_bytes());
            return if write_failed { 1 } else { 0 };
        }
        Err(e) => return refuse(&prog, &e),
    };
    // -j: upstream leaves this line as raw text; no JSON object for it.
    if let (Some(line), false) = (&outcome.pattern_line, o.json) {
        out(format!("{line}\n").as_bytes());
    }

    // 3. Resolve the destination (and its reverse name unless -n): the
    //    only phase that reads files or does DNS. Names of other
    //    addresses come later from the resolver co-process.
    let fd_of = |spec| sockets.iter().find(|s| s.spec == spec).map(|s| s.fd);
    let (fd4, fd6) = (fd_of(&ICMP4), fd_of(&ICMP6));
    let family = match resolve::wanted_family(o.family, fd4.is_some(), fd6.is_some()) {
        Ok(f) => f,
        Err(msg) => return fail(&msg),
    };
    let v4_max = icmp::MAX_DATALEN_V4 - o.ipv4_optlen();
    let max_size = match family {
        Some(Family::V4) => v4_max,
        Some(Family::V6) => icmp::MAX_DATALEN_V6,
        None if o.destination.parse::<std::net::Ipv4Addr>().is_ok() => v4_max,
        None if o.destination.parse::<std::net::Ipv6Addr>().is_ok() => icmp::MAX_DATALEN_V6,
        None => v4_max.max(icmp::MAX_DATALEN_V6),
    };
    if let Some(e) = cli::size_error(o.datalen, max_size) {
        return refuse(&prog, &e);
    }
    if o.verbose && o.ident == Some(0) {
        say(&prog, "WARNING: ident 0 => forcing raw socket");
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
        // upstream's message ends in its own "\n" as well: an empty line.
        let _ = sys::write_all(2, b"\n");
    }
    let target = match resolve::resolve(&o.destination, family, o.numeric, o.force_lookup) {
        Ok(t) => t,
        Err(msg) => return fail(&msg),
    };
    if o.verbose {
        let fam = if target.family == Family::V4 {
            "AF_INET"
        } else {
            "AF_INET6"
        };
        // upstream prints this one with printf: on stdout, no prefix;
        // under -j stdout stays JSON, so it goes to stderr as text.
        let canon = text::printable(target.canonname.as_deref().unwrap_or("")).into_owned();
        let line = format!("ai->ai_family: {fam}, ai->ai_canonname: '{canon}'");
        if o.json {
            say(&prog, line);
        } else {
            out(format!("{line}\n").as_bytes());
        }
    }
    if !cli::hops_allowed(&o, target.family) {
        return refuse(&prog, &CliError::with_usage(None));
    }
    // upstream: a numeric destination (and no hops) turns -n on.
    let lone = o.destinations.len() == 1 || target.family == Family::V6;
    if target.numeric_dest && lone {
        o.numeric = true;
    }
    let (fd, other) = match target.family {
        Family::V4 => (fd4, fd6),
        Family::V6 => (fd6, fd4),
    };
    let Some(fd) = fd else {
        return fail(&"no raw socket for the destination's address family");
    };
    let route = if target.family == Family::V4 {
        match setup::resolve_hops(&o) {
            Ok(r) => r,
            Err(e) => return fail(&e.msg),
        }
    } else {
        Vec::new()
    };
    let route = &route[..route.len().saturating_sub(1)];
    // -N (IPv6 only, as upstream): the subject, resolved now.
    let nodeinfo = match (&o.nodeinfo, target.family) {
        (Some(req), Family::V6) => {
            let (mut v6, mut v4) = (None, None);
            if let std::net::IpAddr::V6(a) = target.addr.ip() {
                v6 = Some(a);
            }
            if let Some((code, name)) = &req.subject {
                let fam = if *code == worker::ping::nodeinfo::SUBJ_IPV4 {
                    Family::V4
                } else {
                    Family::V6
                };
                match resolve::resolve(name, Some(fam), true, false).map(|t| t.addr.ip()) {
                    Ok(std::net::IpAddr::V4(a)) => v4 = Some(a),
                    Ok(std::net::IpAddr::V6(a)) => v6 = Some(a),
                    Err(e) => {
                        say(&prog, e);
                        return refuse(&prog, &CliError::with_usage(None));
                    }
                }
            }
            let r = sys::random_u16().unwrap_or(0).to_ne_bytes();
            let s = sys::random_u16().unwrap_or(0).to_ne_bytes();
            let t = sys::random_u16().unwrap_or(0).to_ne_bytes();
            let secret = [r[0], r[1], s[0], s[1], t[0], t[1]];
            Some(worker::ping::nodeinfo::Query::new(req, v6, v4, secret))
        }
        _ => None,
    };

    // Socket options, filters, the source address: everything before the
    // sandbox, which forbids setsockopt and friends. Then the PING line
    // and, as in iputils' setup(), the interval limits.
    let json_mode = o.json;
    let lookups = o.lookups();
    let mut warn = |m: String| say(&prog, m);
    let mut prepared = match setup::prepare(
        o, target, fd, other, is_root, &prog, route, nodeinfo, &mut warn,
    ) {
        Ok(p) => p,
        Err(e) if e.usage => return refuse(&prog, &CliError::with_usage(None)),
        Err(e) => return e.status.max(fail(&e.msg)),
    };
    // -j: upstream emits no object for the PING line.
    if !json_mode {
        out(format!("{}\n", prepared.header).as_bytes());
    }
    // The resolver co-process, forked before the signal handlers and the
    // sandbox, and only when names are looked up at all.
    let resolver = if lookups {
        match Resolver::spawn() {
            Ok(r) => Some(r),
            Err(e) => {
                say(&prog, format!("resolver: {}", text::os_error_text(&e)));
                None
            }
        }
    } else {
        None
    };
    let wait_mask = match prepared.finish(&mut warn) {
        Ok(m) => m,
        Err(e) => {
            // Upstream reports these setup() checks through ping_error(),
            // a JSON error object on stdout under -j; the one line on
            // stderr is kept as well.
            if json_mode {
                let mut line = String::new();
                json::error(&mut line, &e.msg);
                out(line.as_bytes());
            }
            return e.status.max(fail(&e.msg));
        }
    };

    // 4. Lock down: rlimits, Landlock, seccomp (ping's profile). From
    //    here on only the system calls of that profile are made. The
    //    resolver channel is kept like a handed-over socket.
    let mut keep: Vec<HandedSocket> = sockets.clone();
    if let Some(r) = &resolver {
        keep.push(HandedSocket {
            fd: r.fd(),
            spec: &resolver::CHANNEL,
        });
    }
    // -v -v: privsep's own lines (upstream's -v has neither).
    let verbose = prepared.prepared.o.sandbox_report;
    let ident = prepared.prepared.ident;
    match policy::sandbox::lock_down(PING.sandbox, &keep) {
        Ok(report) => {
            if verbose {
                say(&prog, format!("ident: {ident:#06x}"));
                for line in report.to_string().lines() {
                    say(&prog, format!("sandbox: {line}"));
                }
            }
        }
        Err(e) => return fail(&e),
    }

    // 5. Ping until done; the summary; 0 if any reply, 1 if none; 1 with
    //    upstream's message when stdout could not be written.
    let io = SysIo {
        fd,
        wait_mask,
        resolver,
    };
    let mut engine = Engine::new(prepared.prepared, io);
    let status = engine.run();
    if write_failed || engine.write_failed() {
        say(&prog, "write error");
        return 1;
    }
    status
}
