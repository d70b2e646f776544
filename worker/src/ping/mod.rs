//! ping's own modules on top of the shared runtime:
//!
//! - [`cli`]: the iputils-compatible command line → [`cli::Options`];
//! - [`resolve`]: the destination and its names (before the sandbox);
//! - [`idn`]: internationalised names (punycode to look up, Unicode to print);
//! - [`icmp`]: pure encode/decode of ICMP echo and errors (fuzzable);
//! - [`output`]: every line iputils prints, as pure functions;
//! - [`nodeinfo`]: `-N`, IPv6 node information queries (pure);
//! - [`json`]: the same lines as upstream iputils' `ping -j` JSON objects;
//! - [`setup`]: everything before the sandbox (socket options, filters,
//!   source address) → [`engine::Prepared`], and the real I/O;
//! - [`resolver`]: the co-process that looks names up after lock-down;
//! - [`engine`]: the ping loop under seccomp, over the [`engine::Io`] trait;
//! - [`worker`]: those steps in the worker sequence ([`crate::driver`]).

pub mod cli;
pub mod docs;
pub mod engine;
pub mod icmp;
pub mod idn;
pub mod json;
pub mod nodeinfo;
pub mod output;
pub mod resolve;
pub mod resolver;
pub mod setup;
pub mod worker;
