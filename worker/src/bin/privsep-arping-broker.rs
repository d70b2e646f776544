//! `privsep-arping-broker`: the process that holds arping's packet socket,
//! so that the worker never does. The launcher's child execs it after the
//! drop with the packet socket (ARP-only filter locked on it) at fd 3 and
//! its end of the channel to the worker at fd 4 (`LISTEN_FDNAMES=arp:broker`).
//! It holds no capability; it takes the handoff, becomes non-dumpable,
//! checks it left the launcher's LSM domain, ignores the terminal's
//! signals (the worker acts on them; the broker ends with the channel),
//! locks itself down with its own profile and serves the worker's
//! requests (`worker::arping::broker`): the rules are in
//! `worker::arping::proto::check_frame`.

#![forbid(unsafe_code)]

use policy::tools::ARPING;
use worker::arping::broker::{self, Broker, SocketBroker};
use worker::runtime::{self, say};
use worker::sys;

fn main() {
    std::process::exit(run());
}

fn run() -> i32 {
    let prog = ARPING
        .broker
        .map_or("arping-broker", |b| b.name)
        .to_string();
    let Some(profile) = ARPING.broker.map(|b| b.sandbox) else {
        say(&prog, "arping has no broker in this build");
        return 2;
    };

    // 1. The packet socket and the channel (validated against arping's
    //    descriptor), non-dumpable, nothing else open, out of the
    //    launcher's LSM domain.
    let sockets = match runtime::start_broker(&ARPING) {
        Ok(s) => s,
        Err(msg) => {
            say(&prog, msg);
            return 2;
        }
    };
    let fd_of = |name: &str| sockets.iter().find(|s| s.name() == name).map(|s| s.fd);
    let (Some(packet), Some(channel)) = (fd_of("arp"), fd_of("broker")) else {
        say(
            &prog,
            "the packet socket or the channel was not handed over",
        );
        return 2;
    };
    // SIGINT and SIGQUIT from the terminal are the worker's to act on; the
    // broker ends when the worker closes the channel. SIGTERM too: a
    // stopped broker would leave the worker without its summary.
    sys::ignore_terminal_signals();
    sys::ignore_sigterm();

    // 2. The caller is root when the launcher ran as real uid 0 (the
    //    broker, like the worker, never holds a capability).
    let mut state = Broker::new(sys::real_uid() == 0);

    // 3. Lock down: rlimits, Landlock, seccomp (the broker's profile),
    //    before the first byte from the worker is read.
    if let Err(e) = policy::sandbox::lock_down(profile, &sockets) {
        say(&prog, e);
        return 2;
    }

    // 4. Serve until the worker goes.
    let mut io = SocketBroker {
        packet,
        channel,
        prog,
    };
    broker::serve(&mut state, &mut io)
}
