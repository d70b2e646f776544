//! `hostile-mtr-broker`: a compromised mtr-packet worker asking its broker
//! for sockets beyond mtr-packet's purpose.
//!
//! `hostile-mtr-broker attack CASE PORT`
//!
//! The suite installs it *as mtr-packet's worker*, so the real launcher
//! starts it with what a worker gets (the raw sockets and its channel to
//! the real broker) and it locks itself down with mtr-packet's exact
//! profile before it does anything else (`locked`). Then, by CASE:
//!
//! - `values`: requests a correct worker may forward from a user, each
//!   with a value the broker must refuse without opening a socket: a mark
//!   (`mark`), IPv4 TTL 0 (`ttl-zero`), IPv6 hop limit 256 (`hops-256`),
//!   IPv6 traffic class 256 (`tclass-256`), a multicast and a broadcast
//!   destination (`multicast`, `broadcast`), a multicast local address
//!   (`multicast-src`); then one honest probe to 127.0.0.1:PORT
//!   (`honest`). Each prints `NAME answered ERRNO` (0: under way), the
//!   honest one also `honest done ERRNO` when the attempt ends.
//! - a message no correct worker sends, which must end the broker before
//!   it makes anything: `udp` (protocol 17), `raw` (protocol 255),
//!   `family` (a family byte of 2), `low-port` (local port 22, to
//!   127.0.0.1:PORT), `mapped` (an IPv4-mapped address in an IPv6
//!   request), `short`, `long`, `unknown-op`. Prints `NAME closed` when
//!   the channel ends without an answer, `NAME answered ERRNO` otherwise;
//!   then `after answered ERRNO` or `after closed` for an honest request
//!   sent next (a broker that ended answers nothing).
//!
//! Local ports are 40000 + the pid modulo 20000 (printed first, `local
//! N`), so that parallel runs do not collide.

#![forbid(unsafe_code)]

use std::io::Write;
use std::net::SocketAddr;
use std::os::fd::RawFd;

use policy::tools::{BROKER_CHANNEL, MTR_PACKET};
use worker::mtr_packet::stream::{Answer, Request, ANSWER_LEN};

fn say(line: impl AsRef<str>) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", line.as_ref());
    let _ = out.flush();
}

fn die(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("hostile-mtr-broker: {what}: {e}");
    std::process::exit(3);
}

/// One message on the channel; the broker's answer to `handle`, or
/// `None` when the channel ends first.
fn call(chan: RawFd, bytes: &[u8], handle: u32) -> Option<i32> {
    // sendmsg: the call mtr-packet's profile allows on the channel.
    let iov = [std::io::IoSlice::new(bytes)];
    let flags = nix::sys::socket::MsgFlags::empty();
    if nix::sys::socket::sendmsg::<()>(chan, &iov, &[], flags, None).is_err() {
        return None;
    }
    loop {
        let mut buf = [0u8; ANSWER_LEN + 1];
        match worker::sys::recv_message(chan, &mut buf) {
            Ok((0, false)) | Err(_) => return None,
            Ok((n, _)) => match Answer::decode(&buf[..n]) {
                Some(Answer::Started { handle: h, errno }) if h == handle => return Some(errno),
                _ => continue,
            },
        }
    }
}

/// Waits for the end of the attempt `handle`.
fn done(chan: RawFd, handle: u32) -> Option<i32> {
    loop {
        let mut buf = [0u8; ANSWER_LEN + 1];
        match worker::sys::recv_message(chan, &mut buf) {
            Ok((0, false)) | Err(_) => return None,
            Ok((n, _)) => {
                if let Some(Answer::Done { handle: h, errno }) = Answer::decode(&buf[..n]) {
                    if h == handle {
                        return Some(errno);
                    }
                }
            }
        }
    }
}

fn open(handle: u32, src: &str, dst: &str, ttl: i32, tos: i32, mark: i32) -> Request {
    Request::Open {
        handle,
        protocol: libc::IPPROTO_TCP as u8,
        src: src.parse::<SocketAddr>().unwrap_or_else(|e| die(src, e)),
        dst: dst.parse::<SocketAddr>().unwrap_or_else(|e| die(dst, e)),
        ttl,
        tos,
        mark,
    }
}

fn report(name: &str, answer: Option<i32>) {
    match answer {
        Some(errno) => say(format!("{name} answered {errno}")),
        None => say(format!("{name} closed")),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(case), Some(port)) = (args.get(2), args.get(3)) else {
        die("usage", "hostile-mtr-broker attack CASE PORT");
    };
    // As the worker: the handoff, the exact profile, nothing else first.
    let handed = policy::handoff::take_from_env(&MTR_PACKET).unwrap_or_else(|e| die("handoff", e));
    let chan = handed
        .iter()
        .find(|s| s.spec.name == BROKER_CHANNEL.name)
        .map(|s| s.fd)
        .unwrap_or_else(|| die("handoff", "no channel"));
    policy::sandbox::lock_down(MTR_PACKET.sandbox, &handed).unwrap_or_else(|e| die("lock_down", e));
    say("locked");

    let local = 40000 + std::process::id() % 20000;
    say(format!("local {local}"));
    let me4 = format!("127.0.0.1:{local}");
    let me6 = format!("[::]:{local}");
    let target = format!("127.0.0.1:{port}");
    let honest = open(100, &me4, &target, 64, 0, 0);
    if case == "values" {
        for (name, handle, request) in [
            ("mark", 1, open(1, &me4, &target, 64, 0, 7)),
            ("ttl-zero", 2, open(2, &me4, &target, 0, 0, 0)),
            ("hops-256", 3, open(3, &me6, "[::1]:9", 256, 0, 0)),
            ("tclass-256", 4, open(4, &me6, "[::1]:9", 64, 256, 0)),
            (
                "multicast",
                5,
                open(5, "0.0.0.0:40001", "224.0.0.1:80", 64, 0, 0),
            ),
            (
                "broadcast",
                6,
                open(6, "0.0.0.0:40002", "255.255.255.255:80", 64, 0, 0),
            ),
            (
                "multicast-src",
                7,
                open(7, "239.1.1.1:40003", &target, 64, 0, 0),
            ),
        ] {
            report(name, call(chan, &request.encode(), handle));
        }
        report("honest", call(chan, &honest.encode(), 100));
        match done(chan, 100) {
            Some(errno) => say(format!("honest done {errno}")),
            None => say("honest closed"),
        }
        return;
    }
    let mut bytes = open(9, &me4, &target, 64, 0, 0).encode().to_vec();
    match case.as_str() {
        "udp" => bytes[6] = libc::IPPROTO_UDP as u8,
        "raw" => bytes[6] = libc::IPPROTO_RAW as u8,
        "family" => bytes[5] = 2,
        "low-port" => bytes = open(9, "127.0.0.1:22", &target, 64, 0, 0).encode().to_vec(),
        "mapped" => {
            bytes = open(
                9,
                "[::ffff:127.0.0.1]:40004",
                &format!("[::ffff:127.0.0.1]:{port}"),
                64,
                0,
                0,
            )
            .encode()
            .to_vec();
            bytes[5] = 1;
        }
        "short" => bytes.truncate(20),
        "long" => bytes.push(0),
        "unknown-op" => bytes[0] = 9,
        other => die("case", other),
    }
    report(case, call(chan, &bytes, 9));
    report("after", call(chan, &honest.encode(), 100));
}
