//! fping's sockets: the options it sets before it pings (in its words when
//! they fail), the bind that `-S` asks for and that tells a datagram
//! socket's echo identifier, ping's reply filter on raw sockets, the
//! error queue of a datagram IPv4 socket; and [`SysIo`], the engine's real
//! I/O on them after lock-down.

#![forbid(unsafe_code)]

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::RawFd;
use std::time::Duration;

use crate::fping::cli::SocketAction;
use crate::fping::engine::Io;
use crate::ping::icmp::Family;
use crate::sys::{self, Received, WaitMask};
use crate::text::os_error_text;
use crate::Said;

/// One handed-over socket.
#[derive(Debug, Clone, Copy)]
pub struct Sock {
    pub fd: RawFd,
    /// A datagram ("ping") socket rather than a raw one.
    pub datagram: bool,
}

/// The sockets of both families, each optional.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sockets {
    pub v4: Option<Sock>,
    pub v6: Option<Sock>,
}

/// `perror(what)`: `what: reason` on stderr, no program name.
fn perror(what: &str, e: &io::Error) -> String {
    format!("{what}: {}\n", os_error_text(e))
}

impl Sockets {
    /// Sets one of the options fping sets while parsing; the warnings go to
    /// `warn`, a failed `-I` ends the run with status 1 as in fping.
    pub fn apply(&self, action: &SocketAction, warn: &mut dyn FnMut(String)) -> Result<(), Said> {
        match action {
            SocketAction::DontFragment => {
                if let Some(s) = self.v4 {
                    let r = sys::setsockopt_int(
                        s.fd,
                        libc::IPPROTO_IP,
                        libc::IP_MTU_DISCOVER,
                        libc::IP_PMTUDISC_DO,
                    );
                    if let Err(e) = r {
                        warn(perror("setsockopt IP_MTU_DISCOVER", &e));
                    }
                }
                if let Some(s) = self.v6 {
                    let r = sys::setsockopt_int(
                        s.fd,
                        libc::IPPROTO_IPV6,
                        libc::IPV6_MTU_DISCOVER,
                        libc::IPV6_PMTUDISC_DO,
                    );
                    if let Err(e) = r {
                        warn(perror("setsockopt IPV6_MTU_DISCOVER", &e));
                    }
                }
            }
            SocketAction::BindDevice(name) => {
                for (s, what) in [
                    (self.v4, "binding to specific interface (SO_BINTODEVICE)"),
                    (
                        self.v6,
                        "binding to specific interface (SO_BINTODEVICE), IPV6",
                    ),
                ] {
                    let Some(s) = s else { continue };
                    if let Err(e) =
                        sys::setsockopt_bytes(s.fd, libc::SOL_SOCKET, libc::SO_BINDTODEVICE, name)
                    {
                        return Err(Said {
                            stdout: String::new(),
                            stderr: perror(what, &e),
                            status: 1,
                        });
                    }
                }
            }
            SocketAction::Tos(tos) => {
                if let Some(s) = self.v4 {
                    if let Err(e) = sys::setsockopt_int(s.fd, libc::IPPROTO_IP, libc::IP_TOS, *tos)
                    {
                        warn(perror("setting type of service octet IP_TOS", &e));
                    }
                }
                if let Some(s) = self.v6 {
                    if let Err(e) =
                        sys::setsockopt_int(s.fd, libc::IPPROTO_IPV6, libc::IPV6_TCLASS, *tos)
                    {
                        warn(perror("setting type of service octet IPV6_TCLASS", &e));
                    }
                }
            }
            SocketAction::Fwmark(mark) => {
                // SO_MARK needs CAP_NET_ADMIN (or, since Linux 5.17,
                // CAP_NET_RAW), which the worker never holds: the kernel
                // refuses, and fping's own message says so.
                for (s, what) in [(self.v4, "fwmark ipv4"), (self.v6, "fwmark ipv6")] {
                    let Some(s) = s else { continue };
                    if let Err(e) =
                        sys::setsockopt_int(s.fd, libc::SOL_SOCKET, libc::SO_MARK, *mark as i32)
                    {
                        warn(perror(what, &e));
                    }
                }
            }
            SocketAction::RecvTos | SocketAction::RecvTtl => {
                let (v4, v6, what4, what6) = if *action == SocketAction::RecvTos {
                    let v6 = libc::IPV6_RECVTCLASS;
                    (
                        libc::IP_RECVTOS,
                        v6,
                        "setsockopt IP_RECVTOS",
                        "setsockopt IPV6_RECVTCLASS",
                    )
                } else {
                    let v6 = libc::IPV6_RECVHOPLIMIT;
                    (
                        libc::IP_RECVTTL,
                        v6,
                        "setsockopt IP_RECVTTL",
                        "setsockopt IPV6_RECVHOPLIMIT",
                    )
                };
                // A raw IPv4 socket's datagrams carry the header: 5.5 reads
                // the value there.
                if let Some(s) = self.v4.filter(|s| s.datagram) {
                    if let Err(e) = sys::setsockopt_int(s.fd, libc::IPPROTO_IP, v4, 1) {
                        warn(perror(what4, &e));
                    }
                }
                if let Some(s) = self.v6 {
                    if let Err(e) = sys::setsockopt_int(s.fd, libc::IPPROTO_IPV6, v6, 1) {
                        warn(perror(what6, &e));
                    }
                }
            }
        }
        Ok(())
    }

    /// The options fping sets after parsing: `-H`'s TTL and the kernel
    /// receive timestamps.
    pub fn after_parse(&self, ttl: u32, warn: &mut dyn FnMut(String)) {
        if ttl > 0 {
            if let Some(s) = self.v4 {
                if let Err(e) =
                    sys::setsockopt_int(s.fd, libc::IPPROTO_IP, libc::IP_TTL, ttl as i32)
                {
                    warn(perror("setting time to live", &e));
                }
            }
            if let Some(s) = self.v6 {
                if let Err(e) = sys::setsockopt_int(
                    s.fd,
                    libc::IPPROTO_IPV6,
                    libc::IPV6_UNICAST_HOPS,
                    ttl as i32,
                ) {
                    warn(perror("setting time to live", &e));
                }
            }
        }
        for (s, what) in [
            (self.v4, "setting SO_TIMESTAMPNS option"),
            (self.v6, "setting SO_TIMESTAMPNS option (IPv6)"),
        ] {
            let Some(s) = s else { continue };
            if let Err(e) = sys::setsockopt_int(s.fd, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, 1) {
                warn(perror(what, &e));
            }
        }
    }

    /// The source address (`-S`), and for a datagram socket always (as
    /// fping 5.2 does: 5.1 compared replies against its pid and lost them
    /// all): the kernel then tells the echo identifier it will use.
    /// Returns the identifiers (`pid` for raw sockets), or fping's exit.
    pub fn bind_and_ident(
        &self,
        prog: &str,
        src4: Option<Ipv4Addr>,
        src6: Option<Ipv6Addr>,
        pid: u16,
    ) -> Result<(u16, u16), Said> {
        let bind = |s: Sock, addr: IpAddr| -> Result<u16, Said> {
            let fail = |e: io::Error, what: &str| Said {
                stdout: String::new(),
                stderr: format!("{prog}: {what} : {}\n", os_error_text(&e)),
                status: 4,
            };
            sys::bind_to(s.fd, &SocketAddr::new(addr, 0))
                .map_err(|e| fail(e, "cannot bind source address"))?;
            if !s.datagram {
                return Ok(pid);
            }
            let port = sys::local_address(s.fd)
                .map_err(|e| fail(e, "can't get ICMP socket identity"))?
                .port();
            Ok(if port != 0 { port } else { pid })
        };
        let mut ident4 = pid;
        let mut ident6 = pid;
        if let Some(s) = self.v4 {
            if src4.is_some() || s.datagram {
                ident4 = bind(s, IpAddr::V4(src4.unwrap_or(Ipv4Addr::UNSPECIFIED)))?;
            }
        }
        if let Some(s) = self.v6 {
            if src6.is_some() || s.datagram {
                ident6 = bind(s, IpAddr::V6(src6.unwrap_or(Ipv6Addr::UNSPECIFIED)))?;
            }
        }
        Ok((ident4, ident6))
    }

    /// Cuts down what the sockets deliver, which changes nothing fping
    /// prints: on a raw socket ping's filter (our echo replies and ICMP
    /// errors only: a raw socket sees every ICMP message of the host); on
    /// an IPv4 datagram socket the error queue, where the kernel puts the
    /// ICMP errors that a raw socket would deliver in line. `timestamps`
    /// (`--icmp-timestamp`): no filter on a raw IPv4 socket, whose replies
    /// are then not echo replies.
    pub fn filter(&self, ident4: u16, ident6: u16, timestamps: bool) {
        if let Some(s) = self.v4 {
            if s.datagram {
                let _ = sys::setsockopt_int(s.fd, libc::SOL_IP, libc::IP_RECVERR, 1);
            } else if !timestamps {
                let f = crate::ping::setup::socket_filter(Family::V4, ident4);
                let _ = sys::attach_filter(s.fd, &f);
            }
        }
        if let Some(s) = self.v6 {
            if !s.datagram {
                let f = crate::ping::setup::socket_filter(Family::V6, ident6);
                let _ = sys::attach_filter(s.fd, &f);
            }
        }
    }
}

/// The engine's real I/O.
pub struct SysIo {
    pub sockets: Sockets,
    pub wait_mask: WaitMask,
    /// xorshift state for `-R` (seeded from getrandom before lock-down).
    pub rng: u64,
}

impl SysIo {
    fn fd(&self, family: Family) -> Option<RawFd> {
        match family {
            Family::V4 => self.sockets.v4.map(|s| s.fd),
            Family::V6 => self.sockets.v6.map(|s| s.fd),
        }
    }
}

impl Io for SysIo {
    fn send(
        &mut self,
        family: Family,
        packet: &[u8],
        to: &SocketAddr,
    ) -> Option<io::Result<usize>> {
        Some(sys::sendto(self.fd(family)?, packet, to))
    }

    fn wait(&mut self, timeout_ns: i64) -> Option<(Family, bool)> {
        let mut fds = Vec::with_capacity(2);
        let mut fams = Vec::with_capacity(2);
        for f in [Family::V4, Family::V6] {
            if let Some(fd) = self.fd(f) {
                fds.push(fd);
                fams.push(f);
            }
        }
        let t = Duration::from_nanos(timeout_ns.max(0) as u64);
        let ready = sys::ppoll_fds(&fds, t, &self.wait_mask).ok()?;
        ready
            .iter()
            .zip(fams)
            .find(|(r, _)| r.readable || r.error)
            .map(|(r, f)| (f, !r.readable))
    }

    fn recv(
        &mut self,
        family: Family,
        buf: &mut [u8],
        control: &mut [u8],
        errqueue: bool,
    ) -> io::Result<Received> {
        let fd = self
            .fd(family)
            .ok_or_else(|| io::Error::from_raw_os_error(libc::EBADF))?;
        let flags = if errqueue {
            libc::MSG_ERRQUEUE | libc::MSG_DONTWAIT
        } else {
            libc::MSG_DONTWAIT
        };
        sys::recvmsg(fd, buf, control, flags)
    }

    fn now(&mut self) -> i64 {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        d.as_nanos().min(i64::MAX as u128) as i64
    }

    fn clock(&mut self, now_ns: i64) -> String {
        let text = sys::local_time_text(now_ns / 1_000_000_000, c"%H:%M:%S").unwrap_or_default();
        format!("[{text}]")
    }

    fn local_time(&mut self, now_ns: i64, format: &std::ffi::CStr) -> String {
        sys::local_time_text(now_ns.div_euclid(1_000_000_000), format).unwrap_or_default()
    }

    fn stdout(&mut self, text: &str) {
        let _ = sys::write_all(1, text.as_bytes());
    }

    fn stderr(&mut self, text: &str) {
        let _ = sys::write_all(2, text.as_bytes());
    }

    fn interrupted(&mut self) -> bool {
        sys::interrupted()
    }

    fn status_requested(&mut self) -> bool {
        sys::take_status_request()
    }

    fn random_fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            self.rng ^= self.rng << 13;
            self.rng ^= self.rng >> 7;
            self.rng ^= self.rng << 17;
            *b = (self.rng >> 24) as u8;
        }
    }
}
