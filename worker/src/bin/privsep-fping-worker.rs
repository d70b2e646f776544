//! `privsep-fping-worker`: the unprivileged half of privsep-fping, started
//! by the launcher with ICMPv4 and ICMPv6 sockets (datagram or raw, each
//! optional) at fds 3 and 4. The worker sequence is `worker::driver`'s;
//! fping's steps are `worker::fping::worker`.

#![forbid(unsafe_code)]

fn main() {
    worker::driver::main::<worker::fping::worker::Fping>()
}
