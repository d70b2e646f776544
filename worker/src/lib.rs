//! The worker of privsep-ping: everything but acquiring the raw sockets.
//!
//! - [`cli`]: the iputils-compatible command line → [`cli::Options`];
//! - [`resolve`]: the destination and its names (before the sandbox);
//! - [`lsm`]: the check that SELinux/TOMOYO moved us out of the launcher's domain;
//! - [`icmp`]: pure encode/decode of ICMP echo and errors (fuzzable);
//! - [`output`]: every line iputils prints, as pure functions;
//! - [`json`]: the same lines as upstream iputils' `ping -j` JSON objects;
//! - [`engine`]: socket setup, then the ping loop and statistics;
//! - [`sys`]: the only `unsafe` code (system call wrappers).
//!
//! Errors are [`WorkerError`], one line each in iputils' words.
//!
//! The binary (`src/main.rs`) is the worker sequence of the design contract.

pub mod cli;
pub mod engine;
mod error;
pub mod icmp;
pub mod json;
pub mod lsm;
pub mod output;
pub mod resolve;
pub mod sys;

pub use error::WorkerError;
