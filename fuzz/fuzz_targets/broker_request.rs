//! arping's broker on arbitrary requests (a compromised worker chooses
//! every byte): never a panic; a request it decodes is exactly the bytes
//! it was sent (no byte ignored); and whatever the broker lets out, for a
//! caller who is root or not, is an ARP frame of the interface's format
//! from the interface's own hardware address, on the bound interface, and
//! for a caller who is not root a request from one of the interface's
//! addresses or 0.0.0.0. The worker's response decoder gets the same bytes.

#![no_main]

use std::io;
use std::net::Ipv4Addr;

use libfuzzer_sys::fuzz_target;
use worker::arping::arp::{LinkAddr, ARPHRD_ETHER, ARPOP_REQUEST};
use worker::arping::broker::{Broker, PacketSys};
use worker::arping::proto::{check_frame, Interface, Request, Response, REQUEST_LEN};

const MY_HW: [u8; 8] = [2, 0, 0, 0, 0, 1, 0, 0];
const ME: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);

/// Interface 2 with one address; records what goes out.
struct Kernel {
    sent: Vec<(Vec<u8>, LinkAddr)>,
}

fn me() -> LinkAddr {
    LinkAddr {
        ifindex: 2,
        hatype: ARPHRD_ETHER,
        pkttype: 0,
        halen: 6,
        addr: MY_HW,
    }
}

impl PacketSys for Kernel {
    fn bind(&mut self, ifindex: i32) -> io::Result<()> {
        if ifindex == 2 {
            Ok(())
        } else {
            Err(io::Error::from(io::ErrorKind::NotFound))
        }
    }
    fn link(&mut self) -> io::Result<LinkAddr> {
        Ok(me())
    }
    fn addresses(&mut self, _: i32) -> io::Result<(Vec<Ipv4Addr>, Vec<Ipv4Addr>)> {
        Ok((vec![ME], vec![ME]))
    }
    fn send(&mut self, frame: &[u8], to: &LinkAddr) -> io::Result<usize> {
        self.sent.push((frame.to_vec(), *to));
        Ok(frame.len())
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = Response::decode(data);
    if let Ok(r) = Request::decode(data) {
        assert_eq!(&r.encode()[..], data);
    }
    // The same bytes as one request, and as a stream of REQUEST_LEN-byte
    // requests, to a bound broker.
    for root in [false, true] {
        let mut k = Kernel { sent: Vec::new() };
        let mut b = Broker::new(root);
        b.handle(&Request::Bind { ifindex: 2 }.encode(), &mut k);
        b.handle(data, &mut k);
        for m in data.chunks(REQUEST_LEN) {
            b.handle(m, &mut k);
        }
        let iface = Interface {
            link: me(),
            addresses: vec![ME],
            host_addresses: vec![ME],
        };
        for (frame, to) in &k.sent {
            assert_eq!(to.ifindex, 2, "sent out of another interface");
            assert_eq!(check_frame(frame, to.halen, &iface, root), Ok(()));
            assert_eq!(&frame[8..14], &MY_HW[..6], "forged sender hardware address");
            if !root {
                assert_eq!(u16::from_be_bytes([frame[6], frame[7]]), ARPOP_REQUEST);
                let spa = Ipv4Addr::new(frame[14], frame[15], frame[16], frame[17]);
                assert!(spa == ME || spa.is_unspecified(), "forged sender {spa}");
            }
        }
    }
});
