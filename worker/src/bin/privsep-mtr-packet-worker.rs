//! `privsep-mtr-packet-worker`: the unprivileged half of
//! privsep-mtr-packet, started by the launcher with raw ICMP and send-only
//! raw UDP sockets for IPv4 and IPv6 at fds 3, 4, … and its channel to the
//! stream broker. The worker sequence is `worker::driver`'s; mtr-packet's
//! steps are `worker::mtr_packet::worker`.

#![forbid(unsafe_code)]

fn main() {
    worker::driver::main::<worker::mtr_packet::worker::MtrPacket>()
}
