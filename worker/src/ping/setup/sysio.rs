//! The loop's real I/O: [`SysIo`], the [`Io`] the engine runs on after
//! lock-down.

use std::io;
use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

use crate::ping::engine::Io;
use crate::ping::resolver::Resolver;
use crate::sys::{self, Ready, Received, WaitMask};

/// The loop's real I/O: the handed-over socket, stdout and stderr, the
/// clocks, the signal flags, and the resolver co-process for the names of
/// addresses only known once packets arrive.
pub struct SysIo {
    pub fd: RawFd,
    pub wait_mask: WaitMask,
    pub resolver: Option<Resolver>,
}

impl Io for SysIo {
    fn send(&mut self, packet: &[u8], to: &SocketAddr) -> io::Result<usize> {
        sys::sendto(self.fd, packet, to)
    }
    fn recv(&mut self, buf: &mut [u8], control: &mut [u8], errqueue: bool) -> io::Result<Received> {
        let flags = if errqueue {
            libc::MSG_ERRQUEUE | libc::MSG_DONTWAIT
        } else {
            libc::MSG_DONTWAIT
        };
        sys::recvmsg(self.fd, buf, control, flags)
    }
    fn wait(&mut self, timeout: Duration) -> io::Result<Ready> {
        sys::ppoll(self.fd, timeout, &self.wait_mask)
    }
    fn stdout(&mut self, bytes: &[u8]) -> io::Result<()> {
        sys::write_all(1, bytes)
    }
    fn stderr(&mut self, bytes: &[u8]) {
        let _ = sys::write_all(2, bytes);
    }
    fn now(&mut self) -> Instant {
        Instant::now()
    }
    fn wall(&mut self) -> (i64, i64) {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        (d.as_secs() as i64, i64::from(d.subsec_micros()))
    }
    fn interrupted(&mut self) -> bool {
        sys::interrupted()
    }
    fn status_requested(&mut self) -> bool {
        sys::take_status_request()
    }
    fn reverse(&mut self, addr: &SocketAddr) -> Option<String> {
        let wait_mask = &self.wait_mask;
        self.resolver.as_mut()?.lookup(addr, wait_mask)
    }
}
