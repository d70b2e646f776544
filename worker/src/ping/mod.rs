//! ping's own modules on top of the shared runtime:
//!
//! - [`cli`]: the iputils-compatible command line → [`cli::Options`];
//! - [`resolve`]: the destination and its names (before the sandbox);
//! - [`icmp`]: pure encode/decode of ICMP echo and errors (fuzzable);
//! - [`output`]: every line iputils prints, as pure functions;
//! - [`json`]: the same lines as upstream iputils' `ping -j` JSON objects;
//! - [`engine`]: socket setup, then the ping loop and statistics.

pub mod cli;
pub mod engine;
pub mod icmp;
pub mod json;
pub mod output;
pub mod resolve;
