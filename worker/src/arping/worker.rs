//! arping's steps of the worker sequence ([`crate::driver`]), and its
//! broker's: the worker takes its channel to the broker, parses the
//! command line, prepares (non-root limits, target, interface, source, the
//! broker's socket bound to the interface, the ARPING line, the signal
//! handlers) and probes under the sandbox; the broker takes the packet
//! socket and the channel and serves the worker's requests under its own
//! profile.

#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::os::fd::RawFd;

use policy::handoff::{HandedSocket, Handoff};
use policy::sandbox::Profile;
use policy::tools::{Tool, ARPING};

use super::broker::{self, Broker, SocketBroker};
use super::channel::Channel;
use super::cli::{self, Options, Parsed};
use super::engine::{Session, SocketIo};
use super::{output, prepare};
use crate::driver::{self, Context, Prepared, Sandboxed, Step};
use crate::{runtime, sys, WorkerError};

/// privsep-arping's worker.
pub struct Arping;

/// The probe loop's state and its I/O (the channel, the signal mask).
pub struct Ready {
    session: Session,
    io: SocketIo,
}

impl driver::Worker for Arping {
    const TOOL: &'static Tool = &ARPING;
    const FAILURE: i32 = 2;
    const CLOSE_STDOUT: bool = true;
    type Handed = Channel;
    type Options = Options;
    type Ready = Ready;

    fn usage() -> &'static str {
        output::usage()
    }

    fn take(_cx: &Context, handed: &[HandedSocket]) -> Result<Channel, WorkerError> {
        handed
            .first()
            .map(|s| Channel::new(s.fd))
            .ok_or(WorkerError::NotHanded("no broker channel was handed over"))
    }

    fn parse(cx: &Context, _channel: &Channel) -> Result<Step<Options>, WorkerError> {
        Ok(match cli::parse(cx.operands())? {
            Parsed::Run(o) => Step::Go(o),
            Parsed::Version => {
                let _ = sys::write_all(1, output::version().as_bytes());
                Step::Exit(0)
            }
        })
    }

    /// The non-root limits (real uid 0 is root: the worker never holds a
    /// capability), the target's address, the interface, the source
    /// address, the broker's socket bound to the interface, the ARPING
    /// line, the signal handlers.
    fn prepare(
        cx: &Context,
        mut channel: Channel,
        o: Options,
    ) -> Result<Step<Prepared<Ready>>, WorkerError> {
        let is_root = sys::real_uid() == 0;
        let session = prepare::prepare(&o, &mut channel, is_root, &cx.prog)?;
        let io = SocketIo::new(channel).map_err(|e| WorkerError::os("sigaction", e))?;
        Ok(Step::Go(Prepared::only(Ready { session, io })))
    }

    /// Probes until done; the summary; iputils' exit status.
    fn run(_cx: &Context, sandboxed: Sandboxed<Ready>) -> Result<i32, WorkerError> {
        let Ready { session, mut io } = sandboxed.into_ready();
        Ok(session.run(&mut io))
    }
}

/// privsep-arping's broker: it holds the packet socket (ARP-only filter
/// locked on it by the launcher) so that the worker never does.
pub struct ArpingBroker;

/// The packet socket and the channel.
pub struct Held {
    packet: RawFd,
    channel: RawFd,
}

impl driver::Worker for ArpingBroker {
    const TOOL: &'static Tool = &ARPING;
    const FAILURE: i32 = 2;
    type Handed = Held;
    type Options = ();
    type Ready = (Broker, SocketBroker);

    fn prog(_args: &[OsString]) -> String {
        ARPING
            .broker
            .map_or("arping-broker", |b| b.name)
            .to_string()
    }

    /// The broker's handoff: the packet socket and the channel.
    fn handoff() -> Result<Handoff, WorkerError> {
        if ARPING.broker.is_none() {
            return Err(WorkerError::fatal("arping has no broker in this build"));
        }
        runtime::start_broker(&ARPING).map(Handoff::Sockets)
    }

    fn profile() -> Result<&'static Profile, WorkerError> {
        ARPING
            .broker
            .map(|b| b.sandbox)
            .ok_or_else(|| WorkerError::fatal("arping has no broker in this build"))
    }

    fn take(_cx: &Context, handed: &[HandedSocket]) -> Result<Held, WorkerError> {
        let fd_of = |name: &str| handed.iter().find(|s| s.name() == name).map(|s| s.fd);
        match (fd_of("arp"), fd_of("broker")) {
            (Some(packet), Some(channel)) => Ok(Held { packet, channel }),
            _ => Err(WorkerError::NotHanded(
                "the packet socket or the channel was not handed over",
            )),
        }
    }

    /// No command line: the worker's requests are the broker's input.
    fn parse(_cx: &Context, _held: &Held) -> Result<Step<()>, WorkerError> {
        Ok(Step::Go(()))
    }

    fn prepare(
        cx: &Context,
        held: Held,
        (): (),
    ) -> Result<Step<Prepared<Self::Ready>>, WorkerError> {
        // SIGINT and SIGQUIT from the terminal are the worker's to act on;
        // the broker ends when the worker closes the channel. SIGTERM too:
        // a stopped broker would leave the worker without its summary.
        sys::ignore_terminal_signals();
        sys::ignore_sigterm();
        // The caller is root when the launcher ran as real uid 0 (the
        // broker, like the worker, never holds a capability).
        let state = Broker::new(sys::real_uid() == 0);
        let io = SocketBroker {
            packet: held.packet,
            channel: held.channel,
            prog: cx.prog.clone(),
        };
        Ok(Step::Go(Prepared::only((state, io))))
    }

    /// Serves until the worker goes; the first byte from the worker is
    /// read under the broker's profile.
    fn run(_cx: &Context, sandboxed: Sandboxed<Self::Ready>) -> Result<i32, WorkerError> {
        let (mut state, mut io) = sandboxed.into_ready();
        Ok(broker::serve(&mut state, &mut io))
    }
}
