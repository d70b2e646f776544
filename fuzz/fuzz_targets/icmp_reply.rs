//! The worker's ICMP reply parser on arbitrary packets (any host on the
//! network chooses these bytes): never a panic, and what it accepts as an
//! echo reply is one: the right type and (raw) our identifier, inside the packet.
//! The ancillary-data parsers (cmsgs, `sock_extended_err`, sockaddr) get the
//! same bytes.

#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use worker::ping::icmp::{
    cmsgs, parse_extended_err, parse_reply, parse_sockaddr, Family, Ident, Reply,
};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Some((id, packet)) = rest.split_at_checked(2) else {
        return;
    };
    let ident = u16::from_be_bytes([id[0], id[1]]);
    let (family, target) = if selector & 1 == 0 {
        (Family::V4, IpAddr::V4(Ipv4Addr::LOCALHOST))
    } else {
        (Family::V6, IpAddr::V6(Ipv6Addr::LOCALHOST))
    };
    // Bit 1: the packet as a datagram socket reads it (no IPv4 header,
    // the kernel's identifier).
    let which = if selector & 2 == 0 {
        Ident::Raw(ident)
    } else {
        Ident::Datagram
    };
    if let Ok(Reply::Echo { icmp, .. }) = parse_reply(packet, family, which, target) {
        assert!(icmp.len() >= 8);
        assert_eq!(icmp[0], if family == Family::V4 { 0 } else { 129 });
        if which == Ident::Raw(ident) {
            assert_eq!(u16::from_be_bytes([icmp[4], icmp[5]]), ident);
        }
    }
    let _ = parse_extended_err(packet);
    let _ = parse_sockaddr(packet);
    for c in cmsgs(packet) {
        let _ = c;
    }
});
