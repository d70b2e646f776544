//! `privsep-mtr-packet-broker`: the process that opens mtr-packet's TCP and
//! SCTP probe sockets, so that the worker never can. The launcher's child
//! execs it after the drop with its end of the channel to the worker at
//! fd 3 (`LISTEN_FDNAMES=broker`); it holds nothing the launcher acquired
//! and no capability. It runs the worker sequence (`worker::driver`) with
//! its own steps (`worker::mtr_packet::worker::MtrPacketBroker`): the
//! handoff, the terminal's signals ignored, its own lock-down and profile,
//! then the worker's fixed-size requests (the rules are
//! `worker::mtr_packet::stream`'s `Request::decode` and `Request::check`).

// No Rust runtime start-up (`worker::worker_main!`), as the workers: its
// C `main` is the one item allowed `no_mangle`.
#![no_main]
#![deny(unsafe_code)]

worker::worker_main!(broker_main);

fn broker_main() {
    worker::driver::main::<worker::mtr_packet::worker::MtrPacketBroker>()
}
