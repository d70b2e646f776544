//! clockdiff's reply parser and measurement on arbitrary datagrams (any
//! host, or anyone who can spoof one, chooses them): never a panic, and a
//! parsed option reply never claims more timestamps than it carries.
//! The first byte picks the mode (ICMP timestamps or the IP option) and the
//! identifier's low byte; the rest is one datagram, fed to the parser
//! directly and, split at its 0xff bytes, to a whole measurement as the
//! replies to every request.

#![no_main]

use std::io;
use std::net::Ipv4Addr;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use worker::clockdiff::cli::Method;
use worker::clockdiff::measure::{self, Link};
use worker::clockdiff::packet::{self, Body};

struct Replay<'a> {
    datagrams: Vec<&'a [u8]>,
    next: usize,
    clock: Duration,
}

impl Link for Replay<'_> {
    fn send(&mut self, _: &[u8]) -> io::Result<()> {
        Ok(())
    }
    fn wait(&mut self, t: Duration) -> io::Result<bool> {
        if self.next < self.datagrams.len() {
            Ok(true)
        } else {
            self.clock += t;
            Ok(false)
        }
    }
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<(usize, Option<Ipv4Addr>)> {
        let d = self.datagrams[self.next];
        self.next += 1;
        let n = d.len().min(buf.len());
        buf[..n].copy_from_slice(&d[..n]);
        Ok((n, Some(Ipv4Addr::LOCALHOST)))
    }
    fn now(&mut self) -> Duration {
        self.clock
    }
    // Time moves only while waiting, for both clocks: the deadlines still
    // come, however many datagrams the input holds.
    fn monotonic(&mut self) -> Duration {
        self.clock
    }
    fn dot(&mut self) {}
    fn note(&mut self, _: &str) {}
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, packet)) = data.split_first() else {
        return;
    };
    let ip_option = mode & 1 == 1;
    let id = u16::from(mode >> 1);
    if let Some(reply) = packet::parse(packet, id, ip_option) {
        if let Body::IpOption { count, .. } = reply.body {
            assert!(count <= 4 && 20 + 4 + count * 8 <= packet.len());
        }
    }
    let method = match mode & 3 {
        0 | 2 => Method::IcmpTimestamp,
        1 => Method::IpOptionFour,
        _ => Method::IpOptionThree,
    };
    let mut link = Replay {
        datagrams: packet.split(|&b| b == 0xff).collect(),
        next: 0,
        clock: Duration::new(1_700_000_000, 0),
    };
    let _ = measure::measure(&mut link, method, Ipv4Addr::LOCALHOST, id, false);
});
