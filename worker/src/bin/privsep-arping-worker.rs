//! `privsep-arping-worker`: the unprivileged half of privsep-arping, started
//! by the launcher with its channel to the broker at fd 3 (the broker,
//! `privsep-arping-broker`, holds the ARP packet socket). The worker
//! sequence is `worker::driver`'s; arping's steps are
//! `worker::arping::worker`.

// No Rust runtime start-up (`worker::worker_main!`): its C `main` is the
// one item allowed `no_mangle`.
#![no_main]
#![deny(unsafe_code)]

worker::worker_main!(worker_main);

fn worker_main() {
    worker::driver::main::<worker::arping::worker::Arping>()
}
