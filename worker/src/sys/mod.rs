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

/// The one errno helper and `PR_SET_NO_NEW_PRIVS`, shared with every crate.
pub use policy::sys::{cvt, set_no_new_privs};
