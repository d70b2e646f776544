//! `privsep-clockdiff-worker`: the unprivileged half of privsep-clockdiff,
//! started by the launcher at nice -16 with a raw ICMPv4 socket at fd 3.
//! The worker sequence is `worker::driver`'s; clockdiff's steps are
//! `worker::clockdiff::worker`.

#![forbid(unsafe_code)]

fn main() {
    worker::driver::main::<worker::clockdiff::worker::Clockdiff>()
}
