//! `privsep-arping-worker`: the unprivileged half of privsep-arping, started
//! by the launcher with its channel to the broker at fd 3 (the broker,
//! `privsep-arping-broker`, holds the ARP packet socket). The worker
//! sequence is `worker::driver`'s; arping's steps are
//! `worker::arping::worker`.

#![forbid(unsafe_code)]

fn main() {
    worker::driver::main::<worker::arping::worker::Arping>()
}
