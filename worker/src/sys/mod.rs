//! The worker's system calls, and its only `unsafe` code. `nix` wraps what
//! it has (prctl, getuid, signals and the signal mask, sendto, send,
//! ppoll, write, fork, socketpair); what it lacks stays here with a
//! `// SAFETY:` line each: `close_range`, socket options given as raw
//! bytes (ICMP filters, BPF programs, IP options, timeouts), `recvmsg`
//! into caller-owned buffers with the raw control data the ICMP code
//! parses, `getrandom`, `inet_aton`, `getaddrinfo`/`getnameinfo`, `_exit`.
//! Failures are `io::Error`; callers see safe types only.
//! Also arping's packet-socket calls with a `sockaddr_ll` and clockdiff's
//! priority, connect/getsockname and local time.
//!
//! One file per concern; everything is re-exported here, so callers name
//! `crate::sys::…` whatever file it lives in.

use std::io;

mod fds;
mod names;
mod packet;
mod poll;
mod process;
mod signals;
mod sockets;

pub use fds::*;
pub use names::*;
pub use packet::*;
pub use poll::*;
pub use process::*;
pub use signals::*;
pub use sockets::*;

/// Turns a `-1` return into the calling thread's `errno`.
pub fn cvt<T: Copy + PartialEq + From<i8>>(ret: T) -> io::Result<T> {
    if ret == T::from(-1) {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}
