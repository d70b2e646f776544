//! Every byte string as a request to mtr-packet's broker
//! (`worker::mtr_packet::stream::Request::decode`, then `check`): no
//! panic; whatever decodes is exactly a request the worker's encoder
//! writes (so nothing a correct worker never sends gets through), is TCP
//! or SCTP from a local port of 33000 or more, and never an IPv4-mapped
//! address in an IPv6 request.

#![no_main]

use libfuzzer_sys::fuzz_target;
use worker::mtr_packet::stream::{Request, REQUEST_LEN};

fuzz_target!(|data: &[u8]| {
    let Some(request) = Request::decode(data) else {
        return;
    };
    assert_eq!(data.len(), REQUEST_LEN);
    assert_eq!(&request.encode()[..], data);
    let _ = request.check();
    if let Request::Open {
        protocol, src, dst, ..
    } = request
    {
        // IPPROTO_TCP, IPPROTO_SCTP
        assert!(matches!(protocol, 6 | 132));
        assert!(src.port() >= 33000);
        assert_eq!(src.is_ipv6(), dst.is_ipv6());
        for ip in [src.ip(), dst.ip()] {
            if let std::net::IpAddr::V6(a) = ip {
                assert!(a.to_ipv4_mapped().is_none());
            }
        }
    }
});
