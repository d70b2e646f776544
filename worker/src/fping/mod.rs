//! fping's own modules on top of the shared runtime (fping 5.1 as Debian
//! 12 ships it, with the additions of 5.2 to 5.5):
//!
//! - [`cli`]: the command line → [`cli::Options`], its messages and exits;
//! - [`command`]: the same options as a clap definition, for the docs;
//! - [`targets`]: operands, `-f` files, stdin and `-g` ranges, resolved
//!   (before the sandbox); [`generate6`]: 5.5's `-g` over IPv6;
//! - [`host`]: one target's state and statistics;
//! - [`receive`]: pure decoding of replies and ICMP errors;
//! - [`output`]: every line fping prints once the targets are known;
//!   [`json`]: 5.5's `-J` objects in their place;
//! - [`engine`]: the scheduler under seccomp, over the [`engine::Io`] trait;
//! - [`net`]: the sockets' setup before lock-down, and the real I/O;
//! - [`worker`]: those steps in the worker sequence ([`crate::driver`]).

pub mod cli;
pub mod command;
pub mod docs;
pub mod engine;
pub mod generate6;
pub mod host;
pub mod json;
pub mod net;
pub mod output;
pub mod receive;
pub mod targets;
pub mod worker;
