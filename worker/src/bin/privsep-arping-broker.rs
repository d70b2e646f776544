//! `privsep-arping-broker`: the process that holds arping's packet socket,
//! so that the worker never does. The launcher's child execs it after the
//! drop with the packet socket (ARP-only filter locked on it) at fd 3 and
//! its end of the channel to the worker at fd 4 (`LISTEN_FDNAMES=arp:broker`).
//! It holds no capability; it runs the worker sequence (`worker::driver`)
//! with its own steps (`worker::arping::worker::ArpingBroker`): the
//! handoff, the terminal's signals ignored, its own profile, then the
//! worker's requests (the rules are in `worker::arping::proto::check_frame`).

// No Rust runtime start-up (`worker::worker_main!`): its C `main` is the
// one item allowed `no_mangle`.
#![no_main]
#![deny(unsafe_code)]

worker::worker_main!(worker_main);

fn worker_main() {
    worker::driver::main::<worker::arping::worker::ArpingBroker>()
}
