//! [`Link`] on the handed-over raw socket: the only calls the measurement
//! makes after lock-down (sendto, ppoll, recvmsg, the clock, write).

#![forbid(unsafe_code)]

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::fd::RawFd;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::measure::Link;
use crate::sys;

/// The raw socket, connected to `peer`.
pub struct RawLink {
    pub fd: RawFd,
    pub peer: Ipv4Addr,
}

impl Link for RawLink {
    fn send(&mut self, packet: &[u8]) -> io::Result<()> {
        sys::sendto(
            self.fd,
            packet,
            &SocketAddr::V4(SocketAddrV4::new(self.peer, 0)),
        )
        .map(drop)
    }

    fn wait(&mut self, timeout: Duration) -> io::Result<bool> {
        sys::wait_readable(self.fd, timeout)
    }

    fn recv(&mut self, buf: &mut [u8]) -> io::Result<(usize, Option<Ipv4Addr>)> {
        let r = sys::recvmsg(self.fd, buf, &mut [], 0)?;
        let from = match r.from {
            Some(SocketAddr::V4(a)) => Some(*a.ip()),
            _ => None,
        };
        Ok((r.len, from))
    }

    fn now(&mut self) -> Duration {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
    }

    fn monotonic(&mut self) -> Duration {
        nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
            .map_or(Duration::ZERO, Duration::from)
    }

    fn dot(&mut self) {
        let _ = sys::write_all(1, b".");
    }

    fn note(&mut self, line: &str) {
        let _ = sys::write_all(2, format!("{line}\n").as_bytes());
    }
}
