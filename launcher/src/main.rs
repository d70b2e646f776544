//! `privsep-ping`: the privileged launcher.
//!
//! It does five things, in this order, and nothing else (see
//! [`sequence::launch`]): make fds 0–2 valid and close the rest; open the raw
//! ICMP sockets with `CAP_NET_RAW`; drop every privilege; set
//! `no_new_privs`; exec the fixed worker with the sockets at fds 3, 4 and a
//! rebuilt environment. It never interprets its arguments: they go to the
//! worker untouched. Any failure is one line on stderr and exit status 2.

#![deny(unsafe_code)]

mod privileges;
mod sequence;
#[allow(unsafe_code)]
mod sys;

fn main() {
    let err = sequence::launch(&mut privileges::System);
    eprintln!("privsep-ping: {err}");
    std::process::exit(2);
}
