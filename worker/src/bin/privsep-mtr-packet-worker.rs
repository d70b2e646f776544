//! `privsep-mtr-packet-worker`: the unprivileged half of
//! privsep-mtr-packet, started by the launcher with raw ICMP and send-only
//! raw UDP sockets for IPv4 and IPv6 at fds 3, 4, … and its channel to the
//! stream broker. The worker sequence is `worker::driver`'s; mtr-packet's
//! steps are `worker::mtr_packet::worker`.

// No Rust runtime start-up (`worker::worker_main!`): its C `main` is the
// one item allowed `no_mangle`.
#![no_main]
#![deny(unsafe_code)]

worker::worker_main!(worker_main);

fn worker_main() {
    worker::driver::main::<worker::mtr_packet::worker::MtrPacket>()
}
