//! clockdiff's steps of the worker sequence ([`crate::driver`]): the raw
//! ICMPv4 socket out of the handoff, the command line, the preparation,
//! and after lock-down the measurement and its line. Statuses are
//! iputils': 0 measured, 1 for every error of clockdiff's own (bad command
//! line, unknown host, down, unreachable, non-standard format), 2 when the
//! framework refuses to run.

#![forbid(unsafe_code)]

use std::os::fd::RawFd;
use std::time::{SystemTime, UNIX_EPOCH};

use policy::handoff::HandedSocket;
use policy::tools::{Tool, CLOCKDIFF, CLOCKDIFF_NICE, ICMP4};

use super::cli::{self, Options, Parsed};
use super::link::RawLink;
use super::measure::{self, Outcome};
use super::output;
use super::prepare::{self, Prepared};
use crate::driver::{self, Context, Sandboxed, Step};
use crate::{runtime, sys, text, WorkerError};

/// privsep-clockdiff's worker.
pub struct Clockdiff;

/// What the measurement needs: the connected socket and the preparation.
pub struct Ready {
    fd: RawFd,
    prepared: Prepared,
    o: Options,
}

fn out(s: &str) {
    let _ = sys::write_all(1, s.as_bytes());
}

impl driver::Worker for Clockdiff {
    const TOOL: &'static Tool = &CLOCKDIFF;
    const FAILURE: i32 = 1;
    const CLOSE_STDOUT: bool = true;
    type Handed = RawFd;
    type Options = Options;
    type Ready = Ready;

    fn usage() -> &'static str {
        output::usage()
    }

    /// getopt's "Try" line names the program by argv\[0\]'s last component.
    fn try_help(cx: &Context) -> String {
        output::try_help(&text::printable(&runtime::program_name(
            &cx.args, &CLOCKDIFF,
        )))
    }

    fn take(_cx: &Context, handed: &[HandedSocket]) -> Result<RawFd, WorkerError> {
        handed
            .iter()
            .find(|s| s.spec.name == ICMP4.name)
            .map(|s| s.fd)
            .ok_or(WorkerError::NotHanded(
                "no raw ICMPv4 socket was handed over",
            ))
    }

    fn parse(cx: &Context, _fd: &RawFd) -> Result<Step<Options>, WorkerError> {
        Ok(match cli::parse(cx.operands())? {
            Parsed::Run(o) => Step::Go(o),
            Parsed::Help => {
                let _ = sys::write_all(2, output::usage().as_bytes());
                Step::Exit(0)
            }
            Parsed::Version => {
                out(&output::version());
                Step::Exit(0)
            }
        })
    }

    /// The priority check, resolution, `connect`, the IP timestamp option,
    /// the time zone: the only step that reads files or does DNS.
    fn prepare(
        cx: &Context,
        fd: RawFd,
        o: Options,
    ) -> Result<Step<driver::Prepared<Ready>>, WorkerError> {
        let prepared = prepare::prepare(&o, fd, CLOCKDIFF_NICE, &mut |w| cx.say(w))?;
        Ok(Step::Go(driver::Prepared::only(Ready { fd, prepared, o })))
    }

    /// Measures; prints the result or the verdict.
    fn run(_cx: &Context, sandboxed: Sandboxed<Ready>) -> Result<i32, WorkerError> {
        let Ready { fd, prepared, o } = sandboxed.into_ready();
        let mut link = RawLink::new(fd, prepared.peer);
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
            Outcome::HostDown => return Err(WorkerError::Fatal(format!("{host} is down"))),
            Outcome::NonStandard => {
                return Err(WorkerError::Fatal(format!(
                    "{host} time transmitted in a non-standard format"
                )))
            }
            Outcome::Unreachable => {
                return Err(WorkerError::Fatal(format!("{host} is unreachable")))
            }
            Outcome::Failed(Some(e)) => return Err(WorkerError::os("measure", e)),
            Outcome::Failed(None) => {
                return Err(WorkerError::Fatal("measure: unknown failure".into()))
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
        Ok(0)
    }
}
