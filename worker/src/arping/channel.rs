//! The worker's end of the broker channel: the arping worker's only
//! network-facing descriptor. It asks the broker to bind the packet socket
//! ([`Channel::bind`]) and to send each probe ([`Channel::send_frame`]),
//! waiting for each answer; frames the broker passes on meanwhile are kept
//! in order for [`Channel::recv_frame`]. Calls: `sendto` and `recvmsg` on
//! the channel, as arping's seccomp profile allows.

#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::io;
use std::os::fd::RawFd;

use super::arp::LinkAddr;
use super::proto::{Request, Response, RESPONSE_LEN};
use crate::sys;

/// How many passed-on frames are kept while waiting for an answer; more
/// are dropped, as a full socket queue drops them.
const MAX_PENDING: usize = 64;

/// The channel to the broker.
pub struct Channel {
    fd: RawFd,
    pending: VecDeque<Result<(Vec<u8>, LinkAddr), i32>>,
    closed: bool,
}

fn os(errno: i32) -> io::Error {
    io::Error::from_raw_os_error(errno)
}

impl Channel {
    /// The handed-over channel at `fd`.
    pub fn new(fd: RawFd) -> Channel {
        Channel {
            fd,
            pending: VecDeque::new(),
            closed: false,
        }
    }

    /// Its descriptor, to wait on.
    pub fn fd(&self) -> RawFd {
        self.fd
    }

    /// Whether a frame (or a receive error) is waiting already.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Whether the broker has gone.
    pub fn closed(&self) -> bool {
        self.closed
    }

    /// One message from the broker; `None` at the end of the channel or
    /// for anything that is not a response.
    fn read(&mut self) -> io::Result<Option<Response>> {
        let mut buf = [0u8; RESPONSE_LEN + 1];
        let (n, truncated) = loop {
            match sys::recv_message(self.fd, &mut buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => break r?,
            }
        };
        if n == 0 && !truncated {
            self.closed = true;
            return Err(os(libc::ECONNRESET));
        }
        if truncated {
            return Ok(None);
        }
        Ok(buf.get(..n).and_then(Response::decode))
    }

    /// Sends `request` and waits for its answer, keeping frames that
    /// arrive first.
    fn call(&mut self, request: &Request) -> io::Result<Response> {
        if self.closed {
            return Err(os(libc::ECONNRESET));
        }
        sys::send(self.fd, &request.encode())?;
        loop {
            match self.read()? {
                Some(Response::Frame(f)) if self.pending.len() < MAX_PENDING => {
                    self.pending.push_back(f);
                }
                Some(Response::Frame(_)) => {}
                Some(answer) => return Ok(answer),
                None => {}
            }
        }
    }

    /// Binds the broker's packet socket to `ifindex`: the interface's link
    /// address.
    pub fn bind(&mut self, ifindex: i32) -> io::Result<LinkAddr> {
        match self.call(&Request::Bind { ifindex })? {
            Response::Bound(Ok(link)) => Ok(link),
            Response::Bound(Err(e)) => Err(os(e)),
            _ => Err(os(libc::EPROTO)),
        }
    }

    /// Has the broker send `frame` to `to`'s hardware address: the bytes
    /// sent.
    pub fn send_frame(&mut self, frame: &[u8], to: &LinkAddr) -> io::Result<usize> {
        let request = Request::send(frame, to).ok_or_else(|| os(libc::EMSGSIZE))?;
        match self.call(&request)? {
            Response::Sent(Ok(n)) => Ok(n),
            Response::Sent(Err(e)) => Err(os(e)),
            _ => Err(os(libc::EPROTO)),
        }
    }

    /// One frame the broker passed on, into `buf`, and its sender (`None`
    /// for a message that was not a frame). Reads the channel if nothing
    /// is pending: call it when [`Channel::fd`] is readable.
    pub fn recv_frame(&mut self, buf: &mut [u8]) -> io::Result<(usize, Option<LinkAddr>)> {
        let next = match self.pending.pop_front() {
            Some(f) => f,
            None => match self.read()? {
                Some(Response::Frame(f)) => f,
                _ => return Ok((0, None)),
            },
        };
        let (frame, from) = next.map_err(os)?;
        let n = frame.len().min(buf.len());
        buf[..n].copy_from_slice(&frame[..n]);
        Ok((n, Some(from)))
    }
}
