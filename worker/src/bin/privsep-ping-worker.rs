//! `privsep-ping-worker`: the unprivileged half of privsep-ping, started by
//! the launcher with ICMP sockets (datagram or raw) at fds 3 and 4. [`run`] is the worker
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

/// upstream's `create_socket` failing for a socket it wanted raw (`-N`,
/// `-e 0`) and could not open: the launcher opened a datagram socket,
/// which is what it can do without `CAP_NET_RAW`; a raw one would have
/// been refused (`EPERM`). `requisite`: the message and exit 2; otherwise
/// only with `-v`, and the family goes unused.
fn raw_refused(prog: &str, requisite: bool, verbose: bool) -> Option<i32> {
    if requisite || verbose {
        say(prog, "socktype: SOCK_RAW");
        say(
            prog,
            format!(
                "socket: {}",
                text::os_error_text(&std::io::Error::from_raw_os_error(libc::EPERM))
            ),
        );
    }
    if !requisite {
        return None;
    }
    if sys::effective_uid() != 0 {
        say(prog, "=> missing cap_net_raw+p capability or setuid?");
    }
    Some(2)
}

/// The socket type upstream's `-v` names: `SOCK_DGRAM`, `SOCK_RAW`.
fn type_name(s: Option<&HandedSocket>) -> &'static str {
    s.and_then(|s| s.kind).map_or("0", |k| k.type_name)
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
    let socket_of = |spec| sockets.iter().find(|s| s.spec == spec);
    let (mut sock4, mut sock6) = (socket_of(&ICMP4), socket_of(&ICMP6));
    // -N and -e 0 need raw sockets (iputils: node information queries
    // and identifier 0 are not for datagram sockets). The launcher never
    // reads the options: it opened a datagram socket because the kernel
    // admits the caller to one, and without CAP_NET_RAW (the install
    // where ping sockets are open to all) a raw one would be refused.
    // upstream's create_socket fails then, in its words.
    if o.nodeinfo.is_some() || o.ident == Some(0) {
        if o.verbose && o.ident == Some(0) {
            say(&prog, "WARNING: ident 0 => forcing raw socket");
        }
        if o.family != Some(Family::V6) && sock4.is_some_and(HandedSocket::is_datagram) {
            sock4 = None;
            if let Some(status) = raw_refused(&prog, o.family == Some(Family::V4), o.verbose) {
                return status;
            }
        }
        if o.family != Some(Family::V4) && sock6.is_some_and(HandedSocket::is_datagram) {
            sock6 = None;
            if let Some(status) = raw_refused(&prog, sock4.is_none(), o.verbose) {
                return status;
            }
        }
    }
    let (fd4, fd6) = (sock4.map(|s| s.fd), sock6.map(|s| s.fd));
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
    if o.verbose {
        let fam = match family {
            None => "AF_UNSPEC",
            Some(Family::V4) => "AF_INET",
            Some(Family::V6) => "AF_INET6",
        };
        let show = |s: Option<&HandedSocket>| match s {
            Some(h) => format!("{} (socktype: {})", h.fd, type_name(s)),
            None => "-1 (socktype: 0)".to_string(),
        };
        say(
            &prog,
            format!(
                "sock4.fd: {}, sock6.fd: {}, hints.ai_family: {fam}",
                show(sock4),
                show(sock6)
            ),
        );
        // As upstream's latest release (20250605): one line (20240905's
        // message ended in a "\n" of its own, an empty line after it).
    }
    // upstream warns before resolving: on a datagram socket a link-local
    // destination needs its interface (`fe80::1%eth0`).
    if sock6.is_some_and(HandedSocket::is_datagram) && !o.destination.contains('%') {
        if let Ok(a) = o.destination.parse::<std::net::Ipv6Addr>() {
            let s = a.segments()[0];
            if (s & 0xffc0) == 0xfe80 || (s & 0xff0f) == 0xff02 {
                say(
                    &prog,
                    "Warning: IPv6 link-local address on ICMP datagram socket may require ifname or scope-id => use: address%<ifname|scope-id>",
                );
            }
        }
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
        // As upstream's latest release (20250605): on stderr, named
        // (20240905 printed it on stdout, without the program's name).
        let canon = text::printable(target.canonname.as_deref().unwrap_or("")).into_owned();
        say(
            &prog,
            format!("ai->ai_family: {fam}, ai->ai_canonname: '{canon}'"),
        );
    }
    if !cli::hops_allowed(&o, target.family) {
        return refuse(&prog, &CliError::with_usage(None));
    }
    // upstream: a numeric destination (and no hops) turns -n on.
    let lone = o.destinations.len() == 1 || target.family == Family::V6;
    if target.numeric_dest && lone {
        o.numeric = true;
    }
    let (sock, other) = match target.family {
        Family::V4 => (sock4, fd6),
        Family::V6 => (sock6, fd4),
    };
    let Some(sock) = sock else {
        return fail(&"no socket for the destination's address family");
    };
    let (fd, datagram) = (sock.fd, sock.is_datagram());
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
    let mut ops = setup::SysOps::new(fd, other);
    let request = setup::Request {
        o,
        target,
        datagram,
        is_root,
        prog: &prog,
        route,
        nodeinfo,
    };
    let mut prepared = match setup::prepare(&mut ops, request, &mut warn) {
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
    let wait_mask = match prepared.finish(&mut ops, &mut warn) {
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
            kind: None,
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
