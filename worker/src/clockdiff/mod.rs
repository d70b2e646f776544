//! privsep-clockdiff's worker: iputils `clockdiff` on a raw ICMPv4 socket
//! and a priority (nice -16) that the launcher acquired.
//!
//! - [`cli`]: the command line (getopt-compatible, iputils' messages);
//! - [`prepare`]: everything before lock-down (priority check, resolution,
//!   `connect`, the IP timestamp option, the time zone);
//! - [`measure`]: the measurement after lock-down, over the [`measure::Link`] trait;
//! - [`link`]: that trait on the real socket;
//! - [`packet`]: requests and the reply parser;
//! - [`output`]: usage, version, result lines;
//! - [`worker`]: those steps in the worker sequence ([`crate::driver`]).

pub mod cli;
pub mod docs;
pub mod link;
pub mod measure;
pub mod output;
pub mod packet;
pub mod prepare;
pub mod worker;
