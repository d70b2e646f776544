//! mtr-packet's steps of the worker sequence ([`crate::driver`]). Like
//! upstream's mtr-packet it takes no arguments, answers requests on stdin
//! until stdin closes and every probe has answered, and exits 0; 1 after
//! a fatal error; 2 when the framework refuses to run.

#![forbid(unsafe_code)]

use policy::handoff::HandedSocket;
use policy::tools::{Tool, BROKER_CHANNEL, ICMP4, ICMP6, MTR_PACKET, UDP4_SEND, UDP6_SEND};

use super::command::Support;
use super::engine::Engine;
use super::net::{self, Sockets, SysNet};
use super::stream::Broker;
use crate::driver::{self, Context, Prepared, Sandboxed, Step};
use crate::{runtime, sys, text, WorkerError};

/// privsep-mtr-packet's worker.
pub struct MtrPacket;

/// The handed-over raw sockets and the broker's channel.
pub struct Handed {
    sockets: Sockets,
    broker: Option<std::os::fd::RawFd>,
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
