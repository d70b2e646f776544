//! The system side of the mtr-packet worker: the handed-over raw sockets,
//! the source-address lookup, sending a probe with its TTL/TOS/source as
//! control messages, and the command loop (upstream's `main` and
//! `wait_for_activity`): wait on stdin and the ICMP sockets until the
//! next time-out, take replies, read requests, time out, dispatch, write.
//! Runs locked down: only the calls of mtr-packet's sandbox profile.

#![forbid(unsafe_code)]

use std::io::IoSlice;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags, SockaddrStorage};

use super::command::Protocol;
use super::engine::{Engine, Net, Outgoing};
use super::packet;
use super::stream::{self, Broker, Request};
use crate::{sys, WorkerError};

/// The raw sockets handed over, by role (each optional, as upstream's).
#[derive(Debug, Clone, Copy, Default)]
pub struct Sockets {
    pub icmp4: Option<RawFd>,
    pub icmp6: Option<RawFd>,
    pub udp4: Option<RawFd>,
    pub udp6: Option<RawFd>,
}

impl Sockets {
    /// A family is usable with both of its sockets, as upstream's
    /// `ip4_present`/`ip6_present` are set only when every socket of the
    /// family opened.
    pub fn ip4(&self) -> bool {
        self.icmp4.is_some() && self.udp4.is_some()
    }

    pub fn ip6(&self) -> bool {
        self.icmp6.is_some() && self.udp6.is_some()
    }
}

/// At most this many packets are taken from one socket per turn of the
/// loop, so that a flood cannot keep requests and time-outs waiting
/// (upstream reads until the socket is empty). Large enough that a turn
/// empties the socket's receive queue at any rate the probes themselves
/// cause (a raw ICMP socket also sees every echo request sent to the host
/// itself): a smaller bound lost replies to the queue's overflow when
/// hundreds of probes to 127.0.0.1 were in flight.
const RECEIVE_BURST: usize = 1024;

/// [`Net`] over the handed-over sockets and the stream broker.
pub struct SysNet {
    pub sockets: Sockets,
    /// TCP and SCTP probes; `None` when the broker could not be started
    /// (or did not answer).
    pub broker: Option<Broker>,
    /// The program name, for the broker's warning.
    prog: String,
    epoch: Instant,
}

impl SysNet {
    pub fn new(sockets: Sockets, broker: Option<Broker>, prog: String) -> SysNet {
        SysNet {
            sockets,
            broker,
            prog,
            epoch: Instant::now(),
        }
    }

    /// A broker that is not there (its channel closed or failed before it
    /// ever answered): one warning, then no TCP or SCTP, as upstream
    /// without those sockets.
    fn lose_broker(&mut self, errno: i32) {
        let e = std::io::Error::from_raw_os_error(errno);
        crate::runtime::say(
            &self.prog,
            format!("stream probe broker: {}", crate::text::os_error_text(&e)),
        );
        self.broker = None;
    }
}

fn errno_of(e: &std::io::Error) -> i32 {
    e.raw_os_error().unwrap_or(libc::EIO)
}

impl Net for SysNet {
    fn source_for(&mut self, dst: IpAddr) -> Result<IpAddr, i32> {
        // Connect a send-only socket of the family (the drop-all filter
        // makes its association harmless), read the source, dissolve.
        let s = &self.sockets;
        let fd = match dst {
            IpAddr::V4(_) => s.udp4.or(s.icmp4),
            IpAddr::V6(_) => s.udp6.or(s.icmp6),
        }
        .ok_or(libc::EAFNOSUPPORT)?;
        let unspecified = match dst {
            IpAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
        };
        let result = match sys::connect_to(fd, &SocketAddr::new(dst, 1)) {
            Ok(()) => sys::local_address(fd)
                .map(|a| a.ip())
                .map_err(|e| errno_of(&e)),
            // Linux sends without a source address: the route may come.
            Err(e) if errno_of(&e) == libc::EHOSTUNREACH => Ok(unspecified),
            Err(e) => Err(errno_of(&e)),
        };
        let _ = sys::disconnect(fd);
        result
    }

    fn send(&mut self, probe: &Outgoing, sequence: u16) -> Result<Option<u32>, i32> {
        if probe.protocol.is_stream() {
            let broker = self.broker.as_mut().ok_or(libc::EINVAL)?;
            let src = if probe.src.is_unspecified() {
                stream::unspecified(probe.dst, probe.src_port)
            } else {
                SocketAddr::new(probe.src, probe.src_port)
            };
            let handle = u32::from(sequence);
            broker.open(&Request::Open {
                handle,
                protocol: probe.protocol.number(),
                src,
                dst: SocketAddr::new(probe.dst, probe.dst_port),
                ttl: probe.ttl,
                tos: probe.tos,
                mark: probe.mark,
            })?;
            return Ok(Some(handle));
        }
        let s = &self.sockets;
        let v6 = probe.dst.is_ipv6();
        let fd = match (v6, probe.protocol) {
            (false, Protocol::Icmp) => s.icmp4,
            (false, Protocol::Udp) => s.udp4,
            (true, Protocol::Icmp) => s.icmp6,
            (true, Protocol::Udp) => s.udp6,
            // Stream probes are not sent on the raw sockets.
            (_, Protocol::Tcp | Protocol::Sctp) => None,
        }
        .ok_or(libc::EINVAL)?;
        let iov = [IoSlice::new(&probe.payload)];
        // Raw IPv6 sockets read the port as a protocol number: 0.
        let to = SockaddrStorage::from(SocketAddr::new(probe.dst, 0));
        let r = if v6 {
            // Upstream sets these as socket options first: out of range
            // is EINVAL before anything else.
            if !(-1..=255).contains(&probe.tos) || !(-1..=255).contains(&probe.ttl) {
                return Err(libc::EINVAL);
            }
            if probe.mark != 0 {
                return Err(mark_refused());
            }
            let info = libc::in6_pktinfo {
                ipi6_addr: libc::in6_addr {
                    s6_addr: match probe.src {
                        IpAddr::V6(a) => a.octets(),
                        IpAddr::V4(_) => [0; 16],
                    },
                },
                ipi6_ifindex: 0,
            };
            let (ttl, tclass) = (probe.ttl, probe.tos);
            let mut cmsgs = vec![
                ControlMessage::Ipv6HopLimit(&ttl),
                ControlMessage::Ipv6TClass(&tclass),
            ];
            if probe.src_given {
                cmsgs.push(ControlMessage::Ipv6PacketInfo(&info));
            }
            sendmsg(fd, &iov, &cmsgs, MsgFlags::empty(), Some(&to))
        } else {
            if probe.mark != 0 {
                return Err(mark_refused());
            }
            // Upstream writes both into its own IP header's bytes.
            let ttl = libc::c_int::from(probe.ttl as u8);
            let tos = probe.tos as u8;
            let info = libc::in_pktinfo {
                ipi_ifindex: 0,
                ipi_spec_dst: libc::in_addr {
                    s_addr: match probe.src {
                        IpAddr::V4(a) => u32::from_ne_bytes(a.octets()),
                        IpAddr::V6(_) => 0,
                    },
                },
                ipi_addr: libc::in_addr { s_addr: 0 },
            };
            let mut cmsgs = vec![ControlMessage::Ipv4Ttl(&ttl), ControlMessage::Ipv4Tos(&tos)];
            if probe.src_given {
                cmsgs.push(ControlMessage::Ipv4PacketInfo(&info));
            }
            sendmsg(fd, &iov, &cmsgs, MsgFlags::empty(), Some(&to))
        };
        r.map(|_| None).map_err(|e| e as i32)
    }

    fn abandon(&mut self, handle: u32) {
        if let Some(b) = self.broker.as_mut() {
            b.abandon(handle);
        }
    }

    fn now_us(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }

    /// Upstream's SCTP check, asked of the broker; its answer is also the
    /// sign that the broker is there: without one, no TCP or SCTP.
    fn stream_support(&mut self) -> (bool, bool) {
        let Some(broker) = self.broker.as_mut() else {
            return (false, false);
        };
        match broker.sctp_support() {
            Ok(sctp) => (true, sctp),
            Err(e) => {
                self.lose_broker(e);
                (false, false)
            }
        }
    }
}

/// `SO_MARK` needs `CAP_NET_RAW` or `CAP_NET_ADMIN`, which the worker never
/// holds: the kernel would refuse it (`EPERM`, `permission-denied`), so the
/// answer is given without asking. A deliberate difference: Debian's
/// mtr-packet (built without libcap) keeps `CAP_NET_RAW` and sets the mark.
fn mark_refused() -> i32 {
    libc::EPERM
}

/// Takes what waits on one ICMP socket (at most [`RECEIVE_BURST`]).
fn receive(engine: &mut Engine, net: &mut SysNet, fd: RawFd, v6: bool) -> Result<(), WorkerError> {
    let mut buf = vec![0u8; packet::PACKET_BUFFER_SIZE];
    let mut control = [0u8; 0];
    for _ in 0..RECEIVE_BURST {
        match sys::recvmsg(fd, &mut buf, &mut control, libc::MSG_DONTWAIT) {
            Ok(got) => {
                let at = net.now_us();
                let bytes = &buf[..got.len];
                let message = if v6 {
                    packet::parse_v6(bytes)
                } else {
                    packet::parse_v4(bytes)
                };
                if let (Some(m), Some(from)) = (message, got.from) {
                    engine.received(&m, from.ip(), at, net);
                }
            }
            Err(e) if matches!(errno_of(&e), libc::EAGAIN | libc::EINTR) => return Ok(()),
            Err(e) => return Err(WorkerError::os("Failure receiving replies", e)),
        }
    }
    Ok(())
}

/// Upstream's main loop, until stdin is closed and every probe has
/// answered or timed out. `Err` is a fatal one-line message (exit 1).
pub fn run(engine: &mut Engine, net: &mut SysNet) -> Result<(), WorkerError> {
    let mut stdin_open = true;
    let mut chunk = vec![0u8; super::command::COMMAND_BUFFER_SIZE];
    loop {
        let out = engine.take_output();
        if !out.is_empty() {
            // A reader that went away ends us with SIGPIPE, as upstream.
            sys::write_all(1, out.as_bytes())
                .map_err(|e| WorkerError::Fatal(format!("write: {e}")))?;
        }
        if !stdin_open && engine.outstanding() == 0 {
            return Ok(());
        }
        let wait = engine
            .next_deadline_in(net.now_us())
            .map(Duration::from_micros);
        let mut fds: Vec<(RawFd, libc::c_short)> = Vec::with_capacity(3);
        if stdin_open {
            fds.push((0, libc::POLLIN));
        }
        let icmp: Vec<(RawFd, bool)> = [(net.sockets.icmp4, false), (net.sockets.icmp6, true)]
            .into_iter()
            .filter_map(|(fd, v6)| fd.map(|f| (f, v6)))
            .collect();
        fds.extend(icmp.iter().map(|&(fd, _)| (fd, libc::POLLIN)));
        if let Some(b) = &net.broker {
            fds.push((b.fd(), libc::POLLIN));
        }
        let wait = match &net.broker {
            // Answers that came while a request waited: no sleeping.
            Some(b) if b.has_early() => Some(Duration::ZERO),
            _ => wait,
        };
        let ready =
            sys::poll_many(&fds, wait).map_err(|e| WorkerError::Fatal(format!("ppoll: {e}")))?;
        // Replies first, so that their times are as close to their arrival
        // as possible.
        let offset = usize::from(stdin_open);
        for (i, &(fd, v6)) in icmp.iter().enumerate() {
            if ready[offset + i] & (libc::POLLIN | libc::POLLERR) != 0 {
                receive(engine, net, fd, v6)?;
            }
        }
        if let Some(b) = net.broker.as_mut() {
            let ended = match b.ended() {
                Ok(ended) => ended,
                // Never heard from (it failed to start): no streams. The
                // engine has not asked yet, or it would have heard.
                Err(e) if !b.answered() => {
                    net.lose_broker(e);
                    Vec::new()
                }
                Err(e) => {
                    return Err(WorkerError::os(
                        "stream probe broker",
                        std::io::Error::from_raw_os_error(e),
                    ))
                }
            };
            let at = net.now_us();
            for (handle, errno) in ended {
                let result = if errno == 0 { Ok(()) } else { Err(errno) };
                engine.stream_done(handle, result, at, net);
            }
        }
        if stdin_open && ready[0] & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0 {
            let room = engine.room();
            match sys::read_once(0, &mut chunk[..room.max(1)]) {
                Ok(Some(0)) => stdin_open = false,
                Ok(Some(n)) => engine.feed(&chunk[..n]),
                Ok(None) => {}
                Err(e) => return Err(WorkerError::os("Unexpected command buffer read error", e)),
            }
        }
        engine.expire(net.now_us(), net);
        engine.dispatch(net);
    }
}
