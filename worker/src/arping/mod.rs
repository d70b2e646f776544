//! arping's own modules on top of the shared runtime:
//!
//! - [`cli`]: the iputils-compatible command line → [`cli::Options`];
//! - [`arp`]: pure encode/decode of ARP frames (fuzzable);
//! - [`route`]: the route's outgoing interface (netlink, before the sandbox);
//! - [`output`]: every line iputils arping prints, as pure functions;
//! - [`prepare`]: the prepare step (before lock-down) → [`engine::Session`];
//! - [`engine`]: the send/receive loop (after lock-down, over a small I/O
//!   trait);
//! - [`proto`]: the fixed-size requests to the broker and the rules the
//!   broker enforces (pure, fuzzable);
//! - [`channel`]: the worker's end of the broker channel;
//! - [`broker`]: the broker, which holds the packet socket the worker
//!   never holds (its program is `privsep-arping-broker`);
//! - [`worker`]: the worker's and the broker's steps in the worker
//!   sequence ([`crate::driver`]).

pub mod arp;
pub mod broker;
pub mod channel;
pub mod cli;
pub mod docs;
pub mod engine;
pub mod output;
pub mod prepare;
pub mod proto;
pub mod route;
pub mod worker;
