//! `privsep-clockdiff-worker`: the unprivileged half of privsep-clockdiff,
//! started by the launcher at nice -16 with a raw ICMPv4 socket at fd 3.
//! The worker sequence is `worker::driver`'s; clockdiff's steps are
//! `worker::clockdiff::worker`.

// No Rust runtime start-up (`worker::worker_main!`): its C `main` is the
// one item allowed `no_mangle`.
#![no_main]
#![deny(unsafe_code)]

worker::worker_main!(worker_main);

fn worker_main() {
    worker::driver::main::<worker::clockdiff::worker::Clockdiff>()
}
