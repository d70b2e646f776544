//! The side-by-side parity suite: privsep-ping against Debian 12's iputils
//! ping (20221126), upstream iputils 20240905 (Debian 13's) and upstream's
//! latest release, 20250605, on the same invocations.
//!
//! This crate owns the invocation table's format ([`table`]), the network
//! the pingers run in ([`net`]: client, router, server and a misbehaving
//! responder, in namespaces of the suite's own), running one invocation of
//! one implementation as root or as the unprivileged user ([`run`]), the
//! normalisation of times and the comparison ([`compare`]), and the
//! verdicts and the report, shared by both suites ([`verdict`]).
//! The suite itself is `tests/parity.rs` (ignored by a plain `cargo test`,
//! run by `make test-parity`: docs/testing.md); the responder is
//! `src/bin/parity-responder.rs`.
//!
//! arping and clockdiff have a suite of their own, `tests/tools.rs`, against
//! Debian 12's tools and upstream 20250605: their tables and runner
//! ([`tools`]) and their network ([`lan`]: several hosts on a bridge, a
//! duplicate address, down, NOARP and address-less interfaces, unreachable
//! routes).
//!
//! fping has a suite of its own, `tests/fping.rs`, against Debian 12's fping
//! 5.1 and upstream's latest release: its table `fping.json` runs through
//! the same runner ([`tools`]), in a network of its own ([`fping`]: many
//! live and dead targets, IPv4 and IPv6).

#![deny(unsafe_code)]

pub mod compare;
pub mod fping;
pub mod lan;
pub mod net;
pub mod run;
pub mod table;
pub mod tools;
pub mod verdict;

/// The crate's one error type.
#[derive(Debug, thiserror::Error)]
pub enum ParityError {
    /// A command the suite depends on failed.
    #[error("{what}: {detail}")]
    Command { what: String, detail: String },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    /// The invocation table is malformed.
    #[error("table: {0}")]
    Table(String),
    /// Something the suite needs is not set up (run it through `make test-parity`).
    #[error("{0}")]
    Setup(String),
    /// Setting up a network namespace failed (`testkit::netns`).
    #[error("{0}")]
    Netns(#[from] std::io::Error),
}

/// What the suite needs from `make test-parity`.
pub const NEEDS: &str = "needs root, the staged install, both iputils builds and the test user: \
     run `make test-parity`";

/// What `make` asks of a suite run: the report's path, the rows (those
/// whose name contains `PARITY_ONLY`; all when it is unset or empty) and
/// the mode (`PARITY_MODE`: `raw`, the default, or `datagram`: every
/// implementation without any capability, `ping_group_range` open in the
/// client namespace).
#[derive(Debug, Clone)]
pub struct Settings {
    pub report: std::path::PathBuf,
    pub only: Option<String>,
    pub datagram: bool,
}

impl Settings {
    /// The settings from the environment; the report's path from
    /// `report_var`, or `target/parity/<default_report>`.
    pub fn from_env(report_var: &str, default_report: &str) -> Settings {
        let report = std::env::var_os(report_var).map_or_else(
            || {
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../target/parity")
                    .join(default_report)
            },
            std::path::PathBuf::from,
        );
        let datagram = match std::env::var("PARITY_MODE").as_deref() {
            Ok("datagram") => true,
            Ok("raw") | Err(_) => false,
            Ok(other) => panic!("PARITY_MODE={other}: raw or datagram"),
        };
        Settings {
            report,
            only: std::env::var("PARITY_ONLY").ok().filter(|s| !s.is_empty()),
            datagram,
        }
    }

    /// The mode's name, for the summary.
    pub fn mode(&self) -> &'static str {
        if self.datagram {
            "datagram"
        } else {
            "raw"
        }
    }

    /// Whether the row named `name` is asked for.
    pub fn wants(&self, name: &str) -> bool {
        self.only.as_ref().is_none_or(|o| name.contains(o.as_str()))
    }
}
