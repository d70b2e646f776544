//! The worker sequence of the design contract, written once for every
//! tool: handoff → parse → prepare → lock-down → the tool's loop → exit
//! status. Each tool implements [`Worker`] (in its module's `worker.rs`);
//! its bin's `main` is `driver::main::<Tool>()`. A tool whose launcher
//! could open none of its sockets, where the tool says so itself after its
//! command line (ping, fping: `Tool::reports_refusals`), gets the reasons
//! instead of sockets and stops after parsing ([`Worker::refused`]).
//!
//! The order is enforced by types, not by convention: the loop
//! ([`Worker::run`]) takes a [`Sandboxed`], which only this module's
//! lock-down step constructs (its fields are private and it has no public
//! constructor), and it is the only way the loop gets what `prepare`
//! readied (the sockets, the output, the co-process channels). `prepare`
//! declares the descriptors of its own that the sandboxed process keeps
//! ([`Prepared::keep`]); every other descriptor is closed by the
//! lock-down.

#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::fmt::Display;
use std::os::fd::RawFd;

use policy::handoff::{HandedSocket, Handoff, Refusal};
use policy::sandbox::{Profile, SandboxReport};
use policy::tools::Tool;

use crate::error::Voice;
use crate::runtime::{self, say};
use crate::WorkerError;

/// The worker's invocation, for every step: argv and the name messages
/// start with.
pub struct Context {
    /// argv as the worker got it (the launcher passes the user's on).
    pub args: Vec<OsString>,
    /// The program name for messages (iputils' `program_invocation_name`
    /// unless the tool says otherwise, see [`Worker::prog`]).
    pub prog: String,
}

impl Context {
    /// The arguments after argv\[0\].
    pub fn operands(&self) -> &[OsString] {
        self.args.get(1..).unwrap_or(&[])
    }

    /// `prog: message` on stderr, one printable line (a warning: the
    /// worker goes on).
    pub fn say(&self, msg: impl Display) {
        say(&self.prog, msg);
    }
}

/// What a step decided: go on with its result, or end the worker now with
/// this status (`--help`, `-V`: the step printed what it had to).
pub enum Step<T> {
    Go(T),
    Exit(i32),
}

/// What `prepare` leaves for the loop: the tool's state, and the
/// descriptors of the worker's own (not handed over) that it keeps under
/// lock-down, such as a co-process's channel.
pub struct Prepared<R> {
    pub ready: R,
    pub keep: Vec<RawFd>,
}

impl<R> Prepared<R> {
    /// `ready`, keeping no descriptor besides the handed-over sockets.
    pub fn only(ready: R) -> Self {
        Prepared {
            ready,
            keep: Vec::new(),
        }
    }
}

/// The lock-down's token: the prepared state, reachable only once the
/// process is locked down (rlimits, Landlock, seccomp), and the report of
/// what each layer achieved. Only [`main`]'s lock-down step makes one.
pub struct Sandboxed<R> {
    ready: R,
    report: SandboxReport,
}

impl<R> Sandboxed<R> {
    /// What `prepare` readied, now usable under the sandbox.
    pub fn into_ready(self) -> R {
        self.ready
    }

    /// The lock-down's report (for `-v -v` lines).
    pub fn report(&self) -> &SandboxReport {
        &self.report
    }

    /// Both.
    pub fn into_parts(self) -> (R, SandboxReport) {
        (self.ready, self.report)
    }
}

/// One tool's steps. The driver calls them in order, and reports any
/// [`WorkerError`] in the tool's words ([`WorkerError::report`]).
pub trait Worker {
    /// The tool's descriptor: its handoff, its sandbox profile.
    const TOOL: &'static Tool;
    /// The exit status of the tool's own failures (iputils' ping and arping:
    /// 2; clockdiff and mtr-packet: 1). The framework's refusals are 2.
    const FAILURE: i32;
    /// Whether the status at exit is iputils' `close_stdout`'s (a failed
    /// write to stdout or stderr makes it 1): arping and clockdiff.
    const CLOSE_STDOUT: bool = false;

    /// The handed-over sockets the tool picked out of the handoff.
    type Handed;
    /// The parsed command line.
    type Options;
    /// Everything the loop needs, readied before lock-down.
    type Ready;

    /// The program name messages start with.
    fn prog(args: &[OsString]) -> String {
        runtime::invocation_name(args, Self::TOOL)
    }

    /// Step 1: the handoff, validated against the descriptor, the process
    /// non-dumpable, holding fds 0–2 and the sockets only, outside the
    /// launcher's LSM domain ([`runtime::start`]); or, holding nothing,
    /// why the launcher could open no socket.
    fn handoff() -> Result<Handoff, WorkerError> {
        runtime::start(Self::TOOL)
    }

    /// The profile the lock-down applies.
    fn profile() -> Result<&'static Profile, WorkerError> {
        Ok(Self::TOOL.sandbox)
    }

    /// Step 4's layers: locks the process down with `profile`, keeping
    /// the handed-over sockets and the descriptors `prepare` declared
    /// (`keep`), and says what each layer achieved. Every tool's is the
    /// policy crate's ([`policy::sandbox::lock_down_keeping`]); a process
    /// whose layers differ brings its own (mtr-packet's stream broker:
    /// stdio onto stderr, Landlock without network rights). It must end
    /// with the seccomp filter installed: the loop runs under what it
    /// left, and only the driver turns its success into the [`Sandboxed`]
    /// token.
    fn confine(
        profile: &'static Profile,
        handed: &[HandedSocket],
        keep: &[RawFd],
    ) -> Result<SandboxReport, WorkerError> {
        Ok(policy::sandbox::lock_down_keeping(profile, handed, keep)?)
    }

    /// The usage text printed after a bad command line.
    fn usage() -> &'static str {
        ""
    }

    /// The `Try '… --help'` line after a getopt complaint (clockdiff's).
    fn try_help(_cx: &Context) -> String {
        String::new()
    }

    /// Picks the tool's sockets out of the handoff (failing when one it
    /// cannot run without is missing).
    fn take(cx: &Context, handed: &[HandedSocket]) -> Result<Self::Handed, WorkerError>;

    /// Step 2: the command line.
    fn parse(cx: &Context, handed: &Self::Handed) -> Result<Step<Self::Options>, WorkerError>;

    /// After step 2, when the launcher could open none of the tool's
    /// sockets (the handoff carried `refused` instead): the tool's own
    /// message, after its command line as the original tool has it; the
    /// exit status. Only a tool that `reports_refusals` gets here (the
    /// handoff refuses the variable to any other); one that stops for
    /// want of a socket while parsing (fping) never does.
    fn refused(
        _cx: &Context,
        _o: &Self::Options,
        _refused: &[Refusal],
    ) -> Result<i32, WorkerError> {
        Err(WorkerError::NotHanded("the launcher could open no socket"))
    }

    /// Step 3: everything before lock-down (the only step that reads files,
    /// resolves names, sets socket options or forks co-processes).
    fn prepare(
        cx: &Context,
        handed: Self::Handed,
        o: Self::Options,
    ) -> Result<Step<Prepared<Self::Ready>>, WorkerError>;

    /// Step 5: the loop, under the sandbox; its result is the exit status.
    fn run(cx: &Context, sandboxed: Sandboxed<Self::Ready>) -> Result<i32, WorkerError>;
}

/// Runs worker `W` and exits with its status.
pub fn main<W: Worker>() -> ! {
    let args: Vec<OsString> = std::env::args_os().collect();
    let cx = Context {
        prog: W::prog(&args),
        args,
    };
    let status = match sequence::<W>(&cx) {
        Ok(status) => status,
        Err(e) => e.report(&Voice {
            prog: &cx.prog,
            usage: W::usage(),
            try_help: &|| W::try_help(&cx),
            failure: W::FAILURE,
        }),
    };
    // iputils' atexit(close_stdout), for the tools that have it.
    let status = if W::CLOSE_STDOUT {
        runtime::exit_status(&cx.prog, status)
    } else {
        status
    };
    std::process::exit(status)
}

/// The sequence: each step's failure ends it.
fn sequence<W: Worker>(cx: &Context) -> Result<i32, WorkerError> {
    let (handed, refused) = match W::handoff()? {
        Handoff::Sockets(handed) => (handed, Vec::new()),
        Handoff::Refused(refused) => (Vec::new(), refused),
    };
    let mine = W::take(cx, &handed)?;
    let o = match W::parse(cx, &mine)? {
        Step::Go(o) => o,
        Step::Exit(status) => return Ok(status),
    };
    if !refused.is_empty() {
        return W::refused(cx, &o, &refused);
    }
    let prepared = match W::prepare(cx, mine, o)? {
        Step::Go(p) => p,
        Step::Exit(status) => return Ok(status),
    };
    let sandboxed = lock_down::<W, _>(W::profile()?, &handed, prepared)?;
    W::run(cx, sandboxed)
}

/// Step 4: rlimits, Landlock, seccomp with `profile` ([`Worker::confine`]),
/// keeping the handed-over sockets and the descriptors `prepare` declared.
/// From here on only the system calls of the profile are made.
fn lock_down<W: Worker, R>(
    profile: &'static Profile,
    handed: &[HandedSocket],
    prepared: Prepared<R>,
) -> Result<Sandboxed<R>, WorkerError> {
    let report = W::confine(profile, handed, &prepared.keep)?;
    Ok(Sandboxed {
        ready: prepared.ready,
        report,
    })
}
