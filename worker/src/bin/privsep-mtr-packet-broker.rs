//! `privsep-mtr-packet-broker`: the process that opens mtr-packet's TCP and
//! SCTP probe sockets, so that the worker never can. The launcher's child
//! execs it after the drop with its end of the channel to the worker at
//! fd 3 (`LISTEN_FDNAMES=broker`); it holds nothing the launcher acquired
//! and no capability. It takes the handoff, becomes non-dumpable, checks
//! it left the launcher's LSM domain, ignores the terminal's signals (the
//! worker acts on them; the broker ends with the channel), locks itself
//! down with its own profile and serves the worker's fixed-size requests
//! (`worker::mtr_packet::stream`: the rules are `Request::decode` and
//! `Request::check`).

// No Rust runtime start-up (`worker::worker_main!`), as the workers: its
// C `main` is the one item allowed `no_mangle`.
#![no_main]
#![deny(unsafe_code)]

use policy::tools::{BROKER_CHANNEL, MTR_PACKET};
use worker::mtr_packet::stream;
use worker::runtime::{self, say};
use worker::sys;

worker::worker_main!(broker_main);

fn broker_main() {
    std::process::exit(run());
}

fn run() -> i32 {
    let Some(broker) = MTR_PACKET.broker else {
        say(
            "mtr-packet-broker",
            "mtr-packet has no broker in this build",
        );
        return 2;
    };
    let prog = broker.name;

    // 1. The channel (validated against mtr-packet's descriptor),
    //    non-dumpable, nothing else open, out of the launcher's LSM domain.
    let sockets = match runtime::start_broker(&MTR_PACKET) {
        Ok(s) => s,
        Err(msg) => {
            say(prog, msg);
            return 2;
        }
    };
    let Some(channel) = sockets
        .iter()
        .find(|s| s.spec.name == BROKER_CHANNEL.name)
        .map(|s| s.fd)
    else {
        say(prog, "the channel was not handed over");
        return 2;
    };
    // SIGINT and SIGQUIT from the terminal are the worker's to act on;
    // the broker ends when the worker closes the channel.
    sys::ignore_terminal_signals();
    sys::ignore_sigterm();

    // 2. Lock down: stdio, rlimits, Landlock, seccomp (the broker's
    //    profile), before the first byte from the worker is read.
    if let Err(e) = stream::lock_down(broker.sandbox, &sockets) {
        say(prog, e);
        return 2;
    }

    // 3. Serve until the worker goes.
    stream::serve(channel)
}
