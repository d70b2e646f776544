//! mtr-packet's own modules on top of the shared runtime: the probe
//! engine of mtr (upstream 0.95's `packet/`), driven by requests on stdin.
//!
//! - [`command`](mod@command): the request language (line buffer, tokens, arguments,
//!   `check-support`), pure;
//! - [`packet`]: the probes on the wire and the parse of every ICMP
//!   message received, pure and bounds-checked (fuzzable);
//! - [`engine`]: requests → probes, ICMP messages → replies, time-outs,
//!   over a small [`engine::Net`] trait;
//! - [`net`]: that trait over the handed-over raw sockets, and the
//!   command loop;
//! - [`stream`]: TCP and SCTP probes, through a broker process that holds
//!   their sockets (the worker holds none);
//! - [`worker`]: those steps in the worker sequence ([`crate::driver`]).

pub mod command;
pub mod docs;
pub mod engine;
pub mod net;
pub mod packet;
pub mod stream;
pub mod worker;

/// The command line, for the man page and the completions: there is none.
/// Like upstream's mtr-packet the worker reads no argument (and has no
/// `--help` or `--version`); everything comes as requests on stdin.
pub fn command() -> clap::Command {
    clap::Command::new("privsep-mtr-packet")
        .about("send and receive network probes for mtr, with privilege separation")
        .disable_help_flag(true)
        .disable_version_flag(true)
}
