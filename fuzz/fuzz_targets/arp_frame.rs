//! arping's frame judge on arbitrary frames and sender addresses (any host
//! on the link chooses these bytes): never a panic, and what it accepts is
//! an ARP request or reply of our hardware length, for IP, from the target.
//! The netlink route reply parser gets the same bytes.

#![no_main]

use std::net::Ipv4Addr;

use libfuzzer_sys::fuzz_target;
use worker::arping::arp::{judge, Expect, LinkAddr};
use worker::arping::route;

fuzz_target!(|data: &[u8]| {
    let Some((head, frame)) = data.split_at_checked(4) else {
        return;
    };
    let me = LinkAddr {
        ifindex: 2,
        hatype: u16::from(head[0] & 3),
        pkttype: 0,
        halen: head[1] % 10,
        addr: [2, 0, 0, 0, 0, 1, 0, 0],
    };
    let from = LinkAddr {
        pkttype: head[2] % 8,
        ..me
    };
    let target = Ipv4Addr::new(198, 18, 0, 2);
    let want = Expect {
        me: &me,
        target,
        source: Ipv4Addr::new(198, 18, 0, 1),
        dad: head[3] & 1 == 1,
    };
    if let Some(a) = judge(frame, &from, &want) {
        assert_eq!(a.src_ip, target);
        assert_eq!(a.src_hw.len(), usize::from(me.halen));
        assert!(frame.len() >= 8 + 2 * (4 + usize::from(me.halen)));
    }
    let _ = route::parse(data, 1);
});
