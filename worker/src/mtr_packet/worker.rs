//! mtr-packet's steps of the worker sequence ([`crate::driver`]), and its
//! stream broker's ([`MtrPacketBroker`]). Like upstream's mtr-packet the
//! worker takes no arguments, answers requests on stdin until stdin closes
//! and every probe has answered, and exits 0; 1 after a fatal error; 2
//! when the framework refuses to run.

#![forbid(unsafe_code)]

use std::os::fd::RawFd;

use policy::handoff::{HandedSocket, Handoff};
use policy::sandbox::{Profile, SandboxReport};
use policy::tools::{Tool, BROKER_CHANNEL, ICMP4, ICMP6, MTR_PACKET, UDP4_SEND, UDP6_SEND};

use super::command::Support;
use super::engine::Engine;
use super::net::{self, Sockets, SysNet};
use super::stream::{self, Broker};
use crate::driver::{self, Context, Prepared, Sandboxed, Step};
use crate::{runtime, sys, text, WorkerError};

/// privsep-mtr-packet's worker.
pub struct MtrPacket;

/// The handed-over raw sockets and the broker's channel.
pub struct Handed {
    sockets: Sockets,
    broker: Option<RawFd>,
}

/// The command loop's state: the sockets, the stream broker, what the
/// `check-support` requests answer.
pub struct Ready {
    sockets: Sockets,
    broker: Option<Broker>,
    support: Support,
    prog: String,
}

impl driver::Worker for MtrPacket {
    const TOOL: &'static Tool = &MTR_PACKET;
    const FAILURE: i32 = 1;
    type Handed = Handed;
    type Options = ();
    type Ready = Ready;

    /// upstream's error() names the program as invoked.
    fn prog(args: &[std::ffi::OsString]) -> String {
        text::printable(&runtime::invocation_name(args, &MTR_PACKET)).into_owned()
    }

    fn take(_cx: &Context, handed: &[HandedSocket]) -> Result<Handed, WorkerError> {
        let fd_of = |spec: &str| handed.iter().find(|s| s.spec.name == spec).map(|s| s.fd);
        Ok(Handed {
            sockets: Sockets {
                icmp4: fd_of(ICMP4.name),
                icmp6: fd_of(ICMP6.name),
                udp4: fd_of(UDP4_SEND.name),
                udp6: fd_of(UDP6_SEND.name),
            },
            broker: fd_of(BROKER_CHANNEL.name),
        })
    }

    /// No command line: upstream's mtr-packet reads none.
    fn parse(_cx: &Context, handed: &Handed) -> Result<Step<()>, WorkerError> {
        if !handed.sockets.ip4() && !handed.sockets.ip6() {
            return Err(WorkerError::NoSockets(&["IPv4", "IPv6"]));
        }
        Ok(Step::Go(()))
    }

    /// Socket options, once, before lock-down. No name is resolved:
    /// requests carry addresses.
    fn prepare(cx: &Context, handed: Handed, (): ()) -> Result<Step<Prepared<Ready>>, WorkerError> {
        let Handed { sockets, broker } = handed;
        // The kernel fills in the UDPv6 checksum (offset 6 of the UDP
        // header), as upstream asks.
        if let Some(fd) = sockets.udp6 {
            sys::setsockopt_int(fd, libc::IPPROTO_IPV6, libc::IPV6_CHECKSUM, 6)
                .map_err(|e| WorkerError::os("setsockopt(IPV6_CHECKSUM)", e))?;
        }
        // IPv4 probes leave with the DF bit clear, as upstream's own IP
        // header has it (a raw socket would set it by default).
        for fd in [sockets.icmp4, sockets.udp4].into_iter().flatten() {
            let dont = libc::IP_PMTUDISC_DONT;
            sys::setsockopt_int(fd, libc::IPPROTO_IP, libc::IP_MTU_DISCOVER, dont)
                .map_err(|e| WorkerError::os("setsockopt(IP_MTU_DISCOVER)", e))?;
        }
        // TCP and SCTP probes go through the broker the launcher started.
        // Whether they can be made (upstream's SCTP check, asked of the
        // broker, whose answer also says it is there) is asked by the
        // first request that needs it (`Net::stream_support`), so that
        // the broker's start-up runs beside the worker's.
        let support = Support {
            ip4: sockets.ip4(),
            ip6: sockets.ip6(),
            tcp: false,
            sctp: false,
        };
        Ok(Step::Go(Prepared::only(Ready {
            sockets,
            broker: broker.map(Broker::new),
            support,
            prog: cx.prog.clone(),
        })))
    }

    /// Requests until stdin closes and every probe has answered.
    fn run(_cx: &Context, sandboxed: Sandboxed<Ready>) -> Result<i32, WorkerError> {
        let Ready {
            sockets,
            broker,
            support,
            prog,
        } = sandboxed.into_ready();
        let mut engine = Engine::new(support, std::process::id());
        let mut net = SysNet::new(sockets, broker, prog);
        net::run(&mut engine, &mut net)?;
        Ok(0)
    }
}

/// `privsep-mtr-packet-broker`'s steps: the process that opens the TCP
/// and SCTP probe sockets (see [`super::stream`]). Its handoff is the
/// channel alone; it reads no command line; it ignores the terminal's
/// signals (the worker acts on them; the broker ends with the channel);
/// its lock-down is its own ([`stream::lock_down`]: its layers differ from
/// a worker's); its loop serves the worker's fixed-size requests.
pub struct MtrPacketBroker;

impl driver::Worker for MtrPacketBroker {
    const TOOL: &'static Tool = &MTR_PACKET;
    /// Whatever stops it before its loop: 2.
    const FAILURE: i32 = 2;
    type Handed = RawFd;
    type Options = ();
    type Ready = RawFd;

    fn prog(_args: &[std::ffi::OsString]) -> String {
        MTR_PACKET
            .broker
            .map_or("mtr-packet-broker", |b| b.name)
            .to_string()
    }

    /// The channel (validated against mtr-packet's descriptor),
    /// non-dumpable, nothing else open, out of the launcher's LSM domain.
    fn handoff() -> Result<Handoff, WorkerError> {
        if MTR_PACKET.broker.is_none() {
            return Err(WorkerError::fatal("mtr-packet has no broker in this build"));
        }
        runtime::start_broker(&MTR_PACKET).map(Handoff::Sockets)
    }

    fn profile() -> Result<&'static Profile, WorkerError> {
        MTR_PACKET
            .broker
            .map(|b| b.sandbox)
            .ok_or_else(|| WorkerError::fatal("mtr-packet has no broker in this build"))
    }

    /// Stdio onto stderr, rlimits, Landlock for files only, seccomp with
    /// the broker's profile, before the first byte from the worker is
    /// read. `prepare` keeps no descriptor of its own.
    fn confine(
        profile: &'static Profile,
        handed: &[HandedSocket],
        _keep: &[RawFd],
    ) -> Result<SandboxReport, WorkerError> {
        Ok(stream::lock_down(profile, handed)?)
    }

    fn take(_cx: &Context, handed: &[HandedSocket]) -> Result<RawFd, WorkerError> {
        handed
            .iter()
            .find(|s| s.spec.name == BROKER_CHANNEL.name)
            .map(|s| s.fd)
            .ok_or(WorkerError::NotHanded("the channel was not handed over"))
    }

    /// No command line: the worker's requests are the broker's input.
    fn parse(_cx: &Context, _channel: &RawFd) -> Result<Step<()>, WorkerError> {
        Ok(Step::Go(()))
    }

    /// SIGINT and SIGQUIT from the terminal are the worker's to act on;
    /// the broker ends when the worker closes the channel.
    fn prepare(
        _cx: &Context,
        channel: RawFd,
        (): (),
    ) -> Result<Step<Prepared<RawFd>>, WorkerError> {
        sys::ignore_terminal_signals();
        sys::ignore_sigterm();
        Ok(Step::Go(Prepared::only(channel)))
    }

    /// Serves until the worker goes.
    fn run(_cx: &Context, sandboxed: Sandboxed<RawFd>) -> Result<i32, WorkerError> {
        Ok(stream::serve(sandboxed.into_ready()))
    }
}
