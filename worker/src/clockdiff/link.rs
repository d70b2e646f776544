//! [`Link`] on the handed-over raw socket: the only calls the measurement
//! makes after lock-down (sendto, ppoll, recvmsg, the clock, write).
//!
//! A wait first tries to receive without waiting (`MSG_DONTWAIT`) and
//! calls `ppoll` only when nothing is queued. Over loopback the request's
//! own copy and the reply are both queued by the time `sendto` returns,
//! so a probe costs three calls instead of five — and the time between
//! the request's originate stamp and the reply's arrival stamp, which
//! decides whether the two fall in the same millisecond (when they do
//! not, the measurement waits for a better reply for up to the round-trip
//! estimate, hundreds of milliseconds early on), is one `sendto` and two
//! receives. The arrival is still stamped after the datagram is in hand,
//! never before, as iputils stamps it after `ppoll` reports it.

#![forbid(unsafe_code)]

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::fd::RawFd;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::measure::Link;
use super::packet::PACKET_IN;
use crate::sys;

/// What one receive gave: the datagram's length and sender, or the error.
type Received = io::Result<(usize, Option<Ipv4Addr>)>;

/// The raw socket, connected to `peer`.
pub struct RawLink {
    pub fd: RawFd,
    pub peer: Ipv4Addr,
    /// A datagram (or an error) a wait already received, in `held`; the
    /// next `recv` hands it out.
    pending: Option<Received>,
    held: [u8; PACKET_IN],
}

impl RawLink {
    pub fn new(fd: RawFd, peer: Ipv4Addr) -> RawLink {
        RawLink {
            fd,
            peer,
            pending: None,
            held: [0; PACKET_IN],
        }
    }
}

/// One `recvmsg` on `fd` into `buf`, with its sender.
fn receive(fd: RawFd, buf: &mut [u8], flags: libc::c_int) -> Received {
    let r = sys::recvmsg(fd, buf, &mut [], flags)?;
    let from = match r.from {
        Some(SocketAddr::V4(a)) => Some(*a.ip()),
        _ => None,
    };
    Ok((r.len, from))
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

    /// A datagram already queued (or a pending error, which `ppoll` would
    /// report as ready too) is received at once and held for `recv`;
    /// otherwise `ppoll` waits for one, as before.
    fn wait(&mut self, timeout: Duration) -> io::Result<bool> {
        if self.pending.is_some() {
            return Ok(true);
        }
        match receive(self.fd, &mut self.held, libc::MSG_DONTWAIT) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            r => {
                self.pending = Some(r);
                return Ok(true);
            }
        }
        if timeout.is_zero() {
            return Ok(false);
        }
        sys::wait_readable(self.fd, timeout)
    }

    fn recv(&mut self, buf: &mut [u8]) -> Received {
        match self.pending.take() {
            Some(Ok((len, from))) => {
                let len = len.min(buf.len());
                buf[..len].copy_from_slice(&self.held[..len]);
                Ok((len, from))
            }
            Some(Err(e)) => Err(e),
            None => receive(self.fd, buf, 0),
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;
    use std::os::fd::AsRawFd;

    /// The real calls on a real socket (UDP on loopback: the same
    /// `recvmsg` and `ppoll` as on the raw socket).
    #[test]
    fn a_wait_holds_what_is_queued_and_recv_hands_it_out() {
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut link = RawLink::new(rx.as_raw_fd(), Ipv4Addr::LOCALHOST);
        let mut buf = [0u8; PACKET_IN];

        // Nothing queued: a zero wait is over at once, a short one times out.
        assert!(!link.wait(Duration::ZERO).unwrap());
        assert!(!link.wait(Duration::from_millis(1)).unwrap());

        tx.send_to(b"first", rx.local_addr().unwrap()).unwrap();
        tx.send_to(b"second", rx.local_addr().unwrap()).unwrap();
        // Queued: the wait receives it; waiting again keeps it.
        assert!(link.wait(Duration::ZERO).unwrap());
        assert!(link.wait(Duration::from_secs(5)).unwrap());
        let (len, from) = link.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"first");
        assert_eq!(from, Some(Ipv4Addr::LOCALHOST));
        // Without a wait, recv receives the next one itself.
        let (len, _) = link.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"second");
        assert!(!link.wait(Duration::ZERO).unwrap());

        // A shorter buffer gets the datagram's first bytes, as recvmsg does.
        tx.send_to(b"truncated", rx.local_addr().unwrap()).unwrap();
        assert!(link.wait(Duration::from_secs(5)).unwrap());
        let mut short = [0u8; 5];
        let (len, _) = link.recv(&mut short).unwrap();
        assert_eq!(&short[..len], b"trunc");
    }

    /// An error the non-blocking receive meets is the next `recv`'s, as
    /// `ppoll` would have reported the socket ready and `recvmsg` failed.
    #[test]
    fn an_error_found_while_waiting_is_recvs() {
        let mut link = RawLink::new(-1, Ipv4Addr::LOCALHOST);
        assert!(link.wait(Duration::ZERO).unwrap());
        let e = link.recv(&mut [0u8; 8]).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EBADF));
    }
}
