//! `privsep-fping-worker`: the unprivileged half of privsep-fping, started
//! by the launcher with ICMPv4 and ICMPv6 sockets (datagram or raw, each
//! optional) at fds 3 and 4. [`run`] is the worker sequence of the design
//! contract, step by step; the shared runtime does step 1, fping's own
//! modules (`worker::fping`) the rest. Exit statuses are fping's: 0 every
//! target alive, 1 some unreachable (or a bad command line), 2 a name that
//! did not resolve, 4 a system call failed; and 2 when the framework
//! refuses to run (as every worker).

#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::io::Read;

use policy::tools::{FPING, ICMP4, ICMP6};
use worker::fping::cli::{self, Stop};
use worker::fping::engine::{Engine, SocketInfo};
use worker::fping::net::{Sock, Sockets, SysIo};
use worker::fping::targets::{self, Targets};
use worker::runtime::{self, say};
use worker::{sys, text};

fn main() {
    std::process::exit(run());
}

/// Prints what a [`Stop`] carries and gives its status.
fn stop(s: Stop) -> i32 {
    let _ = sys::write_all(1, s.stdout.as_bytes());
    let _ = sys::write_all(2, s.stderr.as_bytes());
    s.status
}

fn run() -> i32 {
    let args: Vec<OsString> = std::env::args_os().collect();
    // fping names itself by argv[0] exactly as invoked.
    let prog = runtime::invocation_name(&args, &FPING);

    // 1. Take the sockets the launcher handed over (validated against
    //    fping's descriptor, close-on-exec), become non-dumpable, drop any
    //    other descriptor, make sure we left the launcher's LSM domain.
    let handed = match runtime::start(&FPING) {
        Ok(s) => s,
        Err(msg) => {
            say(&prog, msg);
            return 2;
        }
    };
    let sock_of = |spec| {
        handed.iter().find(|s| s.spec == spec).map(|s| Sock {
            fd: s.fd,
            datagram: s.is_datagram(),
        })
    };
    let sockets = Sockets {
        v4: sock_of(&ICMP4),
        v6: sock_of(&ICMP6),
    };

    // 2. The command line, with the socket options fping sets while it
    //    parses (-M, -I, -O, -k), in its order.
    let argv: Vec<String> = args
        .get(1..)
        .unwrap_or(&[])
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut warn = |line: String| {
        let _ = sys::write_all(2, text::printable(&line).as_bytes());
    };
    let mut apply = |a: &cli::SocketAction| sockets.apply(a, &mut warn);
    let o = match cli::parse(
        &prog,
        &argv,
        prog.contains("fping6"),
        sockets.v4.is_some(),
        sockets.v6.is_some(),
        &mut apply,
    ) {
        Ok(o) => o,
        Err(s) => return stop(s),
    };
    let p = text::printable(&prog).into_owned();
    let mut warn = |line: String| {
        let _ = sys::write_all(2, line.as_bytes());
    };
    sockets.after_parse(o.ttl, &mut warn);

    // 3. The targets: operands, a file, stdin or a -g range, every name
    //    resolved now (the only phase that reads files or does DNS).
    let has_operands = !o.targets.is_empty();
    if (has_operands && o.filename.is_some())
        || (o.filename.is_some() && o.generate)
        || (o.generate && !has_operands)
    {
        return stop(cli::usage(&p, &o, true));
    }
    let names: Vec<String> = if has_operands && !o.generate {
        o.targets.clone()
    } else if o.generate {
        match targets::generate(&p, &o, &o.targets) {
            Ok(n) => n,
            Err(s) => return stop(s),
        }
    } else {
        let file = o.filename.clone().unwrap_or_else(|| "-".into());
        let data = if file == "-" {
            let mut d = Vec::new();
            let _ = std::io::stdin().lock().read_to_end(&mut d);
            d
        } else {
            match std::fs::read(&file) {
                Ok(d) => d,
                Err(e) => {
                    return stop(Stop::say(
                        &p,
                        &format!("fopen : {}", text::os_error_text(&e)),
                        4,
                    ))
                }
            }
        };
        targets::file_tokens(&data)
    };
    let mut t = Targets::default();
    for name in &names {
        t.add_name(&o, name);
        if !t.warnings.is_empty() {
            let _ = sys::write_all(2, t.warnings.as_bytes());
            t.warnings.clear();
        }
    }
    if t.list.is_empty() {
        return if t.noaddress > 0 { 2 } else { 1 };
    }

    // 4. The source address, the echo identifiers, the filters, the
    //    signals (SIGINT ends with the summary, SIGQUIT prints the
    //    splits), the time zone for -Q's clock, -R's seed.
    let pid = (std::process::id() & 0xffff) as u16;
    let (ident4, ident6) = match sockets.bind_and_ident(&p, o.src4, o.src6, pid) {
        Ok(i) => i,
        Err(s) => return stop(s),
    };
    sockets.filter(ident4, ident6);
    let wait_mask = match sys::install_signal_handlers() {
        Ok(m) => m,
        Err(_) => {
            return stop(Stop::say(&p, "failure to set signal handler", 4));
        }
    };
    sys::load_timezone();
    let seed = u64::from(sys::random_u16().unwrap_or(1)) << 32 | u64::from(pid) | 1;

    // 5. Lock down: rlimits, Landlock, seccomp (fping's profile).
    if let Err(e) = policy::sandbox::lock_down(FPING.sandbox, &handed) {
        say(&prog, e);
        return 2;
    }

    // 6. Ping until every target answered or gave up; fping's status.
    let info = SocketInfo {
        ident4,
        ident6,
        raw4: sockets.v4.is_some_and(|s| !s.datagram),
    };
    let io = SysIo {
        sockets,
        wait_mask,
        rng: seed,
    };
    let mut engine = Engine::new(o, io, info, t.list, t.noaddress);
    engine.run()
}
