//! `privsep-mtr-packet-worker`: the unprivileged half of
//! privsep-mtr-packet, started by the launcher with raw ICMP and send-only
//! raw UDP sockets for IPv4 and IPv6 at fds 3, 4, …, and last its channel
//! to the broker that opens the TCP and SCTP probes' sockets
//! (`privsep-mtr-packet-broker`, the launcher's other child). [`run`] is the worker
//! sequence of the design contract, step by step; the shared runtime does
//! step 1, mtr-packet's modules (`worker::mtr_packet`) the rest. Like
//! upstream's mtr-packet it takes no arguments, answers requests on stdin
//! until stdin closes and every probe has answered, and exits 0; 1 after a
//! fatal error; 2 when the framework refuses to run.

#![forbid(unsafe_code)]

use std::ffi::OsString;

use policy::tools::{BROKER_CHANNEL, ICMP4, ICMP6, MTR_PACKET, UDP4_SEND, UDP6_SEND};
use worker::mtr_packet::command::Support;
use worker::mtr_packet::engine::Engine;
use worker::mtr_packet::net::{self, Sockets, SysNet};
use worker::mtr_packet::stream::Broker;
use worker::runtime::{self, say};
use worker::{sys, text};

fn main() {
    std::process::exit(run());
}

fn run() -> i32 {
    let args: Vec<OsString> = std::env::args_os().collect();
    // upstream's error() names the program as invoked.
    let prog = text::printable(&runtime::invocation_name(&args, &MTR_PACKET)).into_owned();

    // 1. Take the sockets the launcher handed over (validated against
    //    mtr-packet's descriptor, close-on-exec), become non-dumpable,
    //    drop any other descriptor, make sure we left the launcher's LSM
    //    domain.
    let handed = match runtime::start(&MTR_PACKET) {
        Ok(s) => s,
        Err(msg) => {
            say(&prog, msg);
            return 2;
        }
    };
    let fd_of = |spec: &str| handed.iter().find(|s| s.spec.name == spec).map(|s| s.fd);
    let sockets = Sockets {
        icmp4: fd_of(ICMP4.name),
        icmp6: fd_of(ICMP6.name),
        udp4: fd_of(UDP4_SEND.name),
        udp6: fd_of(UDP6_SEND.name),
    };

    // 2. No command line: upstream's mtr-packet reads none.
    if !sockets.ip4() && !sockets.ip6() {
        say(&prog, "Failure to open IPv4 sockets");
        say(&prog, "Failure to open IPv6 sockets");
        return 1;
    }

    // 3. Socket options, once, before lock-down. The kernel fills in the
    //    UDPv6 checksum (offset 6 of the UDP header), as upstream asks.
    //    No name is resolved: requests carry addresses.
    if let Some(fd) = sockets.udp6 {
        if let Err(e) = sys::setsockopt_int(fd, libc::IPPROTO_IPV6, libc::IPV6_CHECKSUM, 6) {
            say(
                &prog,
                format!("setsockopt(IPV6_CHECKSUM): {}", text::os_error_text(&e)),
            );
            return 1;
        }
    }
    // IPv4 probes leave with the DF bit clear, as upstream's own IP
    // header has it (a raw socket would set it by default).
    for fd in [sockets.icmp4, sockets.udp4].into_iter().flatten() {
        let dont = libc::IP_PMTUDISC_DONT;
        if let Err(e) = sys::setsockopt_int(fd, libc::IPPROTO_IP, libc::IP_MTU_DISCOVER, dont) {
            say(
                &prog,
                format!("setsockopt(IP_MTU_DISCOVER): {}", text::os_error_text(&e)),
            );
            return 1;
        }
    }
    // TCP and SCTP probes go through the broker the launcher started.
    // Upstream's SCTP check, asked of the broker, is also the sign that
    // the broker is there: without an answer, no TCP or SCTP.
    let mut broker = fd_of(BROKER_CHANNEL.name).map(Broker::new);
    let sctp = match broker.as_mut().map(Broker::sctp_support) {
        Some(Ok(sctp)) => sctp,
        Some(Err(e)) => {
            say(
                &prog,
                format!(
                    "stream probe broker: {}",
                    text::os_error_text(&std::io::Error::from_raw_os_error(e))
                ),
            );
            broker = None;
            false
        }
        None => false,
    };
    let support = Support {
        ip4: sockets.ip4(),
        ip6: sockets.ip6(),
        tcp: broker.is_some(),
        sctp,
    };

    // 4. Lock down: rlimits, Landlock, seccomp (mtr-packet's profile).
    if let Err(e) = policy::sandbox::lock_down(MTR_PACKET.sandbox, &handed) {
        say(&prog, e);
        return 2;
    }

    // 5. Requests until stdin closes and every probe has answered.
    let mut engine = Engine::new(support, std::process::id());
    let mut net = SysNet::new(sockets, broker);
    match net::run(&mut engine, &mut net) {
        Ok(()) => 0,
        Err(msg) => {
            say(&prog, msg);
            1
        }
    }
}
