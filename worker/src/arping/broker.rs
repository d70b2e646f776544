//! arping's broker: the process that holds the packet socket so that the
//! worker never does (the tool descriptor's `ARPING_BROKER`).
//!
//! [`Broker`] is the whole policy over a small system trait ([`PacketSys`])
//! so that it is unit-tested without a socket: the first request must bind
//! the socket to an interface, and only once; every send is decoded and
//! checked by [`proto`] against the interface as the kernel reports it at
//! that moment (its hardware address and its IPv4 addresses) and the
//! caller's uid, then goes out on the bound interface only; a received
//! frame is passed on only once bound and only from the bound interface.
//! [`serve`] is the loop of the `privsep-arping-broker` program, after its
//! lock-down.

#![forbid(unsafe_code)]

use std::io;
use std::net::Ipv4Addr;
use std::os::fd::RawFd;

use super::arp::LinkAddr;
use super::proto::{self, Interface, Refusal, Request, Response, REQUEST_LEN};
use crate::sys::{self, LinkLayer};

/// What the broker does to its packet socket.
pub trait PacketSys {
    /// Binds the packet socket to `ifindex` (ARP only).
    fn bind(&mut self, ifindex: i32) -> io::Result<()>;
    /// The bound interface's link address (`getsockname`).
    fn link(&mut self) -> io::Result<LinkAddr>;
    /// The IPv4 addresses of the interface with index `ifindex`, and
    /// every IPv4 address of the host.
    fn addresses(&mut self, ifindex: i32) -> io::Result<(Vec<Ipv4Addr>, Vec<Ipv4Addr>)>;
    /// Sends `frame` to `to` (`ifindex`, hardware address) on the socket.
    fn send(&mut self, frame: &[u8], to: &LinkAddr) -> io::Result<usize>;
}

/// The broker's state: the bound interface, and whether the caller (the
/// real uid the launcher ran as) is root.
#[derive(Debug, Clone)]
pub struct Broker {
    bound: Option<i32>,
    caller_is_root: bool,
}

fn errno(e: &io::Error) -> i32 {
    e.raw_os_error().unwrap_or(libc::EIO)
}

impl Broker {
    pub fn new(caller_is_root: bool) -> Broker {
        Broker {
            bound: None,
            caller_is_root,
        }
    }

    /// The interface bound, if any.
    pub fn bound(&self) -> Option<i32> {
        self.bound
    }

    /// Serves one request exactly as received; the answer, and the refusal
    /// if it was refused (for the broker's message).
    pub fn handle(
        &mut self,
        message: &[u8],
        sys: &mut impl PacketSys,
    ) -> (Response, Option<Refusal>) {
        let request = match Request::decode(message) {
            Ok(r) => r,
            Err(refusal) => {
                // A bind and a send are told apart by the kind byte; a
                // message that is neither gets a send's refusal.
                let bind = message.get(4) == Some(&1) && message.len() == REQUEST_LEN;
                let answer = if bind {
                    Response::Bound(Err(refusal.errno()))
                } else {
                    Response::Sent(Err(refusal.errno()))
                };
                return (answer, Some(refusal));
            }
        };
        match request {
            Request::Bind { ifindex } => {
                if self.bound.is_some() {
                    let r = Refusal::OutOfOrder("the interface is already bound");
                    return (Response::Bound(Err(r.errno())), Some(r));
                }
                let result = sys.bind(ifindex).and_then(|()| sys.link());
                match result {
                    Ok(link) => {
                        self.bound = Some(ifindex);
                        (Response::Bound(Ok(link)), None)
                    }
                    Err(e) => (Response::Bound(Err(errno(&e))), None),
                }
            }
            Request::Send {
                halen,
                dest,
                len,
                frame,
            } => {
                let Some(ifindex) = self.bound else {
                    let r = Refusal::OutOfOrder("send before bind");
                    return (Response::Sent(Err(r.errno())), Some(r));
                };
                let frame = &frame[..usize::from(len)];
                let iface = match sys
                    .link()
                    .and_then(|link| Ok((link, sys.addresses(ifindex)?)))
                {
                    Ok((link, (addresses, host_addresses))) => Interface {
                        link,
                        addresses,
                        host_addresses,
                    },
                    Err(e) => return (Response::Sent(Err(errno(&e))), None),
                };
                if let Err(r) = proto::check_frame(frame, halen, &iface, self.caller_is_root) {
                    return (Response::Sent(Err(r.errno())), Some(r));
                }
                // The bound interface, whatever the kernel's link address
                // said; the destination the request named.
                let to = LinkAddr {
                    ifindex,
                    hatype: iface.link.hatype,
                    pkttype: 0,
                    halen,
                    addr: dest,
                };
                (
                    Response::Sent(sys.send(frame, &to).map_err(|e| errno(&e))),
                    None,
                )
            }
        }
    }

    /// What to pass on of one receive on the packet socket: a frame from
    /// the bound interface (anything queued before the bind, or from
    /// another interface, is dropped), or the receive's error.
    pub fn pass(&self, received: io::Result<(Vec<u8>, Option<LinkAddr>)>) -> Option<Response> {
        let ifindex = self.bound?;
        match received {
            Ok((frame, Some(from))) if from.ifindex == ifindex => {
                Some(Response::Frame(Ok((frame, from))))
            }
            Ok(_) => None,
            Err(e) => Some(Response::Frame(Err(errno(&e)))),
        }
    }
}

/// The channel and socket I/O of the broker's loop.
pub trait BrokerIo: PacketSys {
    /// Waits for the channel (true) or the packet socket (false) to be
    /// readable; the channel first when both are.
    fn wait(&mut self) -> io::Result<(bool, bool)>;
    /// One message from the channel: its bytes (the whole message, however
    /// long; `None` at the end of the channel).
    fn request(&mut self) -> io::Result<Option<Vec<u8>>>;
    /// One frame from the packet socket.
    fn receive(&mut self) -> io::Result<(Vec<u8>, Option<LinkAddr>)>;
    /// An answer to the worker (waits until the channel takes it).
    fn answer(&mut self, r: &Response) -> io::Result<()>;
    /// A received frame to the worker, dropped if the channel is full.
    fn forward(&mut self, r: &Response) -> io::Result<()>;
    /// A refused request, for the record (one line on stderr).
    fn refused(&mut self, r: Refusal);
}

/// The broker's loop: until the worker closes the channel (0) or the
/// channel fails (1).
pub fn serve(broker: &mut Broker, io: &mut impl BrokerIo) -> i32 {
    loop {
        let (channel, socket) = match io.wait() {
            Ok(r) => r,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return 1,
        };
        if channel {
            match io.request() {
                Ok(Some(m)) => {
                    let (answer, refusal) = broker.handle(&m, io);
                    if let Some(r) = refusal {
                        io.refused(r);
                    }
                    if io.answer(&answer).is_err() {
                        return 1;
                    }
                }
                Ok(None) => return 0,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return 1,
            }
        }
        if socket {
            let received = io.receive();
            if let Some(r) = broker.pass(received) {
                if io.forward(&r).is_err() {
                    return 1;
                }
            }
        }
    }
}

/// The real [`BrokerIo`]: the packet socket and the channel, as handed
/// over; one line on stderr per refused request.
pub struct SocketBroker {
    pub packet: RawFd,
    pub channel: RawFd,
    /// The program name for the refusal lines.
    pub prog: String,
}

fn link_from(l: &LinkLayer) -> LinkAddr {
    LinkAddr {
        ifindex: l.ifindex,
        hatype: l.hatype,
        pkttype: l.pkttype,
        halen: l.halen,
        addr: l.addr,
    }
}

impl PacketSys for SocketBroker {
    fn bind(&mut self, ifindex: i32) -> io::Result<()> {
        sys::packet_bind(self.packet, ifindex, (libc::ETH_P_ARP as u16).to_be())
    }

    fn link(&mut self) -> io::Result<LinkAddr> {
        sys::packet_getsockname(self.packet).map(|l| link_from(&l))
    }

    fn addresses(&mut self, ifindex: i32) -> io::Result<(Vec<Ipv4Addr>, Vec<Ipv4Addr>)> {
        let name = sys::interface_name(self.packet, ifindex)?;
        let all = sys::ipv4_addresses(self.packet)?;
        // The interface's own, and its aliases' (`eth0:1`).
        let own = all
            .iter()
            .filter(|(label, _)| {
                label == &name
                    || label
                        .strip_prefix(name.as_str())
                        .is_some_and(|rest| rest.starts_with(':'))
            })
            .map(|(_, ip)| *ip)
            .collect();
        Ok((own, all.into_iter().map(|(_, ip)| ip).collect()))
    }

    fn send(&mut self, frame: &[u8], to: &LinkAddr) -> io::Result<usize> {
        let to = LinkLayer {
            protocol_be: (libc::ETH_P_ARP as u16).to_be(),
            ifindex: to.ifindex,
            hatype: to.hatype,
            pkttype: to.pkttype,
            halen: to.halen,
            addr: to.addr,
        };
        sys::packet_sendto(self.packet, frame, &to)
    }
}

impl BrokerIo for SocketBroker {
    fn wait(&mut self) -> io::Result<(bool, bool)> {
        sys::wait_either(self.channel, self.packet)
    }

    fn request(&mut self) -> io::Result<Option<Vec<u8>>> {
        // One byte more than a request, so that a longer message shows
        // (and is refused as malformed, not cut to a valid one).
        let mut buf = [0u8; REQUEST_LEN + 1];
        let (n, truncated) = sys::recv_message(self.channel, &mut buf)?;
        if n == 0 && !truncated {
            return Ok(None);
        }
        Ok(Some(buf.get(..n).unwrap_or(&[]).to_vec()))
    }

    fn receive(&mut self) -> io::Result<(Vec<u8>, Option<LinkAddr>)> {
        let mut buf = [0u8; proto::MAX_FRAME_IN];
        let (n, from) = sys::packet_recvmsg(self.packet, &mut buf)?;
        Ok((
            buf.get(..n).unwrap_or(&[]).to_vec(),
            from.as_ref().map(link_from),
        ))
    }

    fn answer(&mut self, r: &Response) -> io::Result<()> {
        loop {
            match sys::send(self.channel, &r.encode()) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => return r.map(drop),
            }
        }
    }

    fn forward(&mut self, r: &Response) -> io::Result<()> {
        match sys::send_nowait(self.channel, &r.encode()) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
            r => r.map(drop),
        }
    }

    fn refused(&mut self, r: Refusal) {
        crate::runtime::say(&self.prog, format!("refused a request: {}", r.reason()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arping::arp::{probe, ARPHRD_ETHER, MAX_HALEN, PACKET_BROADCAST};
    use std::collections::VecDeque;

    const MY_HW: [u8; 6] = [2, 0, 0, 0, 0, 1];
    const ME: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
    const HIM: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);

    fn link(ifindex: i32, hw: &[u8]) -> LinkAddr {
        let mut l = LinkAddr {
            ifindex,
            hatype: ARPHRD_ETHER,
            pkttype: 0,
            halen: hw.len() as u8,
            addr: [0; MAX_HALEN],
        };
        l.set_hw(hw);
        l
    }

    /// A kernel with interfaces 2 (ours) and 3 (another), recording what
    /// went out.
    #[derive(Default)]
    struct Kernel {
        bound: Option<i32>,
        sent: Vec<(Vec<u8>, LinkAddr)>,
        requests: VecDeque<Vec<u8>>,
        frames: VecDeque<(Vec<u8>, LinkAddr)>,
        answers: Vec<Response>,
        forwarded: Vec<Response>,
        refusals: Vec<Refusal>,
    }

    impl PacketSys for Kernel {
        fn bind(&mut self, ifindex: i32) -> io::Result<()> {
            if ifindex == 2 || ifindex == 3 {
                self.bound = Some(ifindex);
                Ok(())
            } else {
                Err(io::Error::from_raw_os_error(libc::ENODEV))
            }
        }
        fn link(&mut self) -> io::Result<LinkAddr> {
            Ok(link(self.bound.unwrap_or(0), &MY_HW))
        }
        fn addresses(&mut self, ifindex: i32) -> io::Result<(Vec<Ipv4Addr>, Vec<Ipv4Addr>)> {
            let own = if ifindex == 2 { vec![ME] } else { vec![] };
            Ok((own, vec![ME]))
        }
        fn send(&mut self, frame: &[u8], to: &LinkAddr) -> io::Result<usize> {
            self.sent.push((frame.to_vec(), *to));
            Ok(frame.len())
        }
    }

    impl BrokerIo for Kernel {
        fn wait(&mut self) -> io::Result<(bool, bool)> {
            Ok((true, !self.frames.is_empty()))
        }
        fn request(&mut self) -> io::Result<Option<Vec<u8>>> {
            Ok(self.requests.pop_front())
        }
        fn receive(&mut self) -> io::Result<(Vec<u8>, Option<LinkAddr>)> {
            let (f, l) = self.frames.pop_front().unwrap();
            Ok((f, Some(l)))
        }
        fn answer(&mut self, r: &Response) -> io::Result<()> {
            self.answers.push(r.clone());
            Ok(())
        }
        fn forward(&mut self, r: &Response) -> io::Result<()> {
            self.forwarded.push(r.clone());
            Ok(())
        }
        fn refused(&mut self, r: Refusal) {
            self.refusals.push(r);
        }
    }

    fn bcast(ifindex: i32) -> LinkAddr {
        link(ifindex, &[0xff; 6])
    }

    fn send_of(src: Ipv4Addr, dst: Ipv4Addr, advert: bool) -> Vec<u8> {
        let f = probe(&link(2, &MY_HW), &bcast(2), src, dst, advert);
        Request::send(&f, &bcast(2)).unwrap().encode().to_vec()
    }

    fn bind(i: i32) -> Vec<u8> {
        Request::Bind { ifindex: i }.encode().to_vec()
    }

    #[test]
    fn bind_once_then_probes_go_out_on_the_bound_interface_only() {
        let mut k = Kernel::default();
        let mut b = Broker::new(false);
        let (r, _) = b.handle(&send_of(ME, HIM, false), &mut k);
        assert_eq!(r, Response::Sent(Err(libc::EISCONN)), "send before bind");
        let (r, _) = b.handle(&bind(9), &mut k);
        assert_eq!(r, Response::Bound(Err(libc::ENODEV)));
        let (r, _) = b.handle(&bind(2), &mut k);
        assert_eq!(r, Response::Bound(Ok(link(2, &MY_HW))));
        let (r, refusal) = b.handle(&bind(3), &mut k);
        assert_eq!(r, Response::Bound(Err(libc::EISCONN)));
        assert!(matches!(refusal, Some(Refusal::OutOfOrder(_))));
        assert_eq!(k.bound, Some(2), "the second bind never reached the socket");
        let (r, _) = b.handle(&send_of(ME, HIM, false), &mut k);
        assert_eq!(r, Response::Sent(Ok(28)));
        assert_eq!(k.sent.len(), 1);
        assert_eq!(k.sent[0].1.ifindex, 2);
        assert_eq!(k.sent[0].1.hw(), [0xff; 6]);
    }

    #[test]
    fn spoofing_and_malformed_requests_send_nothing() {
        let mut k = Kernel::default();
        let mut b = Broker::new(false);
        b.handle(&bind(2), &mut k);
        let mut garbage = send_of(ME, HIM, false);
        garbage[0] = 0;
        for (what, m, errno) in [
            ("a reply (-A)", send_of(ME, HIM, true), libc::EPERM),
            (
                "another host's address",
                send_of(HIM, HIM, false),
                libc::EPERM,
            ),
            ("bad magic", garbage, libc::EINVAL),
            ("short", vec![0; 10], libc::EINVAL),
            ("long", vec![0; 100], libc::EINVAL),
        ] {
            let (r, refusal) = b.handle(&m, &mut k);
            assert_eq!(r, Response::Sent(Err(errno)), "{what}");
            assert!(refusal.is_some(), "{what}");
        }
        assert!(k.sent.is_empty(), "{:?}", k.sent);
        // Root may send the reply and another source address.
        let mut b = Broker::new(true);
        b.handle(&bind(2), &mut k);
        let (r, _) = b.handle(&send_of(HIM, HIM, true), &mut k);
        assert_eq!(r, Response::Sent(Ok(28)));
    }

    #[test]
    fn only_frames_of_the_bound_interface_are_passed_on() {
        let mut b = Broker::new(false);
        let frame = vec![1, 2, 3];
        let mut from = link(2, &[2, 0, 0, 0, 0, 2]);
        from.pkttype = PACKET_BROADCAST;
        assert_eq!(b.pass(Ok((frame.clone(), Some(from)))), None, "before bind");
        b.handle(&bind(2), &mut Kernel::default());
        assert_eq!(
            b.pass(Ok((frame.clone(), Some(from)))),
            Some(Response::Frame(Ok((frame.clone(), from))))
        );
        let other = link(3, &[2, 0, 0, 0, 0, 2]);
        assert_eq!(b.pass(Ok((frame.clone(), Some(other)))), None);
        assert_eq!(b.pass(Ok((frame, None))), None);
        assert_eq!(
            b.pass(Err(io::Error::from_raw_os_error(libc::ENETDOWN))),
            Some(Response::Frame(Err(libc::ENETDOWN)))
        );
    }

    #[test]
    fn the_loop_answers_each_request_and_ends_with_the_channel() {
        let mut k = Kernel::default();
        k.requests
            .extend([bind(2), send_of(HIM, HIM, false), send_of(ME, HIM, false)]);
        let mut from = link(2, &[2, 0, 0, 0, 0, 2]);
        from.pkttype = PACKET_BROADCAST;
        k.frames.push_back((vec![9; 28], from));
        let mut b = Broker::new(false);
        assert_eq!(serve(&mut b, &mut k), 0);
        assert_eq!(k.answers.len(), 3);
        assert_eq!(k.answers[1], Response::Sent(Err(libc::EPERM)));
        assert_eq!(k.refusals.len(), 1);
        assert_eq!(k.sent.len(), 1);
        assert_eq!(k.forwarded.len(), 1);
    }
}
