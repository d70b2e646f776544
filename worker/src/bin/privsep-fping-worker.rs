//! `privsep-fping-worker`: the unprivileged half of privsep-fping, started
//! by the launcher with ICMPv4 and ICMPv6 sockets (datagram or raw, each
//! optional) at fds 3 and 4. The worker sequence is `worker::driver`'s;
//! fping's steps are `worker::fping::worker`.

// No Rust runtime start-up (`worker::worker_main!`): its C `main` is the
// one item allowed `no_mangle`.
#![no_main]
#![deny(unsafe_code)]

worker::worker_main!(worker_main);

fn worker_main() {
    worker::driver::main::<worker::fping::worker::Fping>()
}
