//! arping's own modules on top of the shared runtime:
//!
//! - [`cli`]: the iputils-compatible command line → [`cli::Options`];
//! - [`arp`]: pure encode/decode of ARP frames (fuzzable);
//! - [`route`]: the route's outgoing interface (netlink, before the sandbox);
//! - [`output`]: every line iputils arping prints, as pure functions;
//! - [`engine`]: the prepare step (before lock-down) and the send/receive
//!   loop (after it, over a small I/O trait).

pub mod arp;
pub mod cli;
pub mod engine;
pub mod output;
pub mod route;
