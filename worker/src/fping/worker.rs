//! fping's steps of the worker sequence ([`crate::driver`]): the ICMP
//! sockets out of the handoff, the command line with the socket options
//! fping sets while it parses, the targets resolved and the sockets set up
//! before lock-down, then the scheduler under the sandbox. Exit statuses
//! are fping's: 0 every target alive, 1 some unreachable (or a bad command
//! line), 2 a name that did not resolve, 4 a system call failed; and 2
//! when the framework refuses to run (as every worker).

#![forbid(unsafe_code)]

use std::io::Read;

use policy::handoff::HandedSocket;
use policy::tools::{Tool, FPING, ICMP4, ICMP6};

use super::cli::{self, Options};
use super::engine::{Engine, SocketInfo};
use super::net::{Sock, Sockets, SysIo};
use super::targets::{self, Targets};
use crate::driver::{self, Context, Prepared, Sandboxed, Step};
use crate::{sys, text, Said, WorkerError};

/// privsep-fping's worker.
pub struct Fping;

/// The scheduler's state and its I/O.
pub struct Ready {
    o: Options,
    io: SysIo,
    info: SocketInfo,
    targets: Targets,
}

impl driver::Worker for Fping {
    const TOOL: &'static Tool = &FPING;
    /// fping's status for a failed system call (its refusals carry their
    /// own, [`Said`]).
    const FAILURE: i32 = 4;
    type Handed = Sockets;
    type Options = Options;
    type Ready = Ready;

    fn take(_cx: &Context, handed: &[HandedSocket]) -> Result<Sockets, WorkerError> {
        let sock_of = |spec| {
            handed.iter().find(|s| s.spec == spec).map(|s| Sock {
                fd: s.fd,
                datagram: s.is_datagram(),
            })
        };
        Ok(Sockets {
            v4: sock_of(&ICMP4),
            v6: sock_of(&ICMP6),
        })
    }

    /// The command line, with the socket options fping sets while it
    /// parses (-M, -I, -O, -k), in its order.
    fn parse(cx: &Context, sockets: &Sockets) -> Result<Step<Options>, WorkerError> {
        let argv: Vec<String> = cx
            .operands()
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        // perror()'s lines: fping's words and the system's, nothing from
        // outside (escaping them escaped their newline too).
        let mut warn = |line: String| {
            let _ = sys::write_all(2, line.as_bytes());
        };
        let mut apply = |a: &cli::SocketAction| sockets.apply(a, &mut warn);
        let o = cli::parse(
            &cx.prog,
            &argv,
            cx.prog.contains("fping6"),
            sockets.v4.is_some(),
            sockets.v6.is_some(),
            &mut apply,
        )?;
        Ok(Step::Go(o))
    }

    /// The targets (operands, a file, stdin or a -g range, every name
    /// resolved now: the only step that reads files or does DNS), the
    /// source address, the echo identifiers, the filters, the signals
    /// (SIGINT ends with the summary, SIGQUIT prints the splits), the time
    /// zone for -Q's clock, -R's seed.
    fn prepare(
        cx: &Context,
        sockets: Sockets,
        o: Options,
    ) -> Result<Step<Prepared<Ready>>, WorkerError> {
        let p = text::printable(&cx.prog).into_owned();
        let mut warn = |line: String| {
            let _ = sys::write_all(2, line.as_bytes());
        };
        sockets.after_parse(o.ttl, &mut warn);

        let has_operands = !o.targets.is_empty();
        if (has_operands && o.filename.is_some())
            || (o.filename.is_some() && o.generate)
            || (o.generate && !has_operands)
        {
            return Err(cli::usage(&p, &o, true).into());
        }
        let names: Vec<String> = if has_operands && !o.generate {
            o.targets.clone()
        } else if o.generate {
            targets::generate(&p, &o, &o.targets)?
        } else {
            let file = o.filename.clone().unwrap_or_else(|| "-".into());
            let data = if file == "-" {
                let mut d = Vec::new();
                let _ = std::io::stdin().lock().read_to_end(&mut d);
                d
            } else {
                let mut f = std::fs::File::open(&file).map_err(|e| {
                    Said::say(&p, &format!("fopen : {}", text::os_error_text(&e)), 4)
                })?;
                // fping's fgets loop ends at a read error as at the end of
                // the file: a directory (EISDIR) is a file without targets.
                let mut d = Vec::new();
                let _ = f.read_to_end(&mut d);
                d
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
            if !t.json.is_empty() {
                let _ = sys::write_all(1, t.json.as_bytes());
                t.json.clear();
            }
        }
        if t.list.is_empty() {
            return Ok(Step::Exit(if t.noaddress > 0 { 2 } else { 1 }));
        }

        let pid = (std::process::id() & 0xffff) as u16;
        let (ident4, ident6) = sockets.bind_and_ident(&p, o.src4, o.src6, pid)?;
        sockets.filter(ident4, ident6, o.icmp_timestamp);
        let wait_mask = sys::install_signal_handlers()
            .map_err(|_| Said::say(&p, "failure to set signal handler", 4))?;
        sys::load_timezone();
        // The sends' pacing as asked (-i, -p), not up to 50 µs later each:
        // a sweep at least as fast as fping's at the same pacing. Nothing
        // depends on it: the wait is only less precise if it fails.
        let _ = sys::set_precise_timers();
        let seed = u64::from(sys::random_u16().unwrap_or(1)) << 32 | u64::from(pid) | 1;
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
        Ok(Step::Go(Prepared::only(Ready {
            o,
            io,
            info,
            targets: t,
        })))
    }

    /// Pings until every target answered or gave up; fping's status.
    fn run(_cx: &Context, sandboxed: Sandboxed<Ready>) -> Result<i32, WorkerError> {
        let Ready {
            o,
            io,
            info,
            targets,
        } = sandboxed.into_ready();
        let mut engine = Engine::new(o, io, info, targets.list, targets.noaddress);
        Ok(engine.run())
    }
}
