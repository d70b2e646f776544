//! `privsep-ping-worker`: the unprivileged half of privsep-ping, started by
//! the launcher with ICMP sockets (datagram or raw) at fds 3 and 4. The
//! worker sequence is `worker::driver`'s; ping's steps are
//! `worker::ping::worker`.

// No Rust runtime start-up (`worker::worker_main!`): its C `main` is the
// one item allowed `no_mangle`.
#![no_main]
#![deny(unsafe_code)]

worker::worker_main!(worker_main);

fn worker_main() {
    worker::driver::main::<worker::ping::worker::Ping>()
}
