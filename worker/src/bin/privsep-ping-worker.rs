//! `privsep-ping-worker`: the unprivileged half of privsep-ping, started by
//! the launcher with ICMP sockets (datagram or raw) at fds 3 and 4. The
//! worker sequence is `worker::driver`'s; ping's steps are
//! `worker::ping::worker`.

#![forbid(unsafe_code)]

fn main() {
    worker::driver::main::<worker::ping::worker::Ping>()
}
