//! The worker crate's one error type: every way a worker (or arping's
//! broker) ends other than its loop's own status, typed, with its context.
//! [`WorkerError::report`] is the one place that prints them, in the
//! iputils tool's words (`prog: …` on stderr, usage texts, `Try …` lines),
//! and [`WorkerError::status`] the one place that maps them to the tool's
//! exit statuses: the framework's refusals are 2 for every tool, a value
//! `strtol_or_err` rejects is 1, anything else the tool's own failure
//! status (2 for ping and arping, 1 for clockdiff and mtr-packet) unless
//! the variant carries its own.

#![forbid(unsafe_code)]

use std::borrow::Cow;
use std::io;

use crate::runtime::say;
use crate::{sys, text};

/// What can stop a worker before, or instead of, its loop's own status.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The handoff, the lock-down or another check of the policy crate
    /// refused (its words). Exit 2 for every tool.
    #[error(transparent)]
    Policy(#[from] policy::PolicyError),
    /// The LSM self-check found the worker in the launcher's domain. Exit 2.
    #[error("{0}")]
    Refused(String),
    /// A system call of the shared start (before the tool's own steps)
    /// failed. Exit 2.
    #[error("{call}: {}", text::os_error_text(source))]
    Start {
        call: &'static str,
        source: io::Error,
    },
    /// A socket the worker cannot run without was not handed over. Exit 2.
    #[error("{0}")]
    NotHanded(&'static str),
    /// A value iputils' `strtol_or_err` rejects: its words, its exit 1.
    #[error("{0}")]
    BadValue(String),
    /// A bad command line: getopt's (or the tool's) complaint if any, then
    /// the tool's usage text on stderr.
    #[error("{}", .0.as_deref().unwrap_or(""))]
    Usage(Option<String>),
    /// getopt's complaint, then `Try '<prog> --help' for more
    /// information.` on stdout (clockdiff's getopt_long).
    #[error("{0}")]
    TryHelp(String),
    /// ping's `-N` refusal: a line on stdout first (a conflict), then the
    /// `-N` help on stderr. Exit 2.
    #[error("{}", .0.unwrap_or(""))]
    NodeInfoHelp(Option<&'static str>),
    /// No handed-over socket for the destination's address family, or a
    /// destination that cannot be resolved (`host: reason`).
    #[error("{0}")]
    Resolve(String),
    /// A system call of the tool's own steps failed: `call: strerror`.
    #[error("{call}: {}", text::os_error_text(source))]
    Os {
        call: Cow<'static, str>,
        source: io::Error,
    },
    /// mtr-packet without a single socket: one `Failure to open …
    /// sockets` line per family, as upstream.
    #[error("Failure to open {} sockets", .0.join("/"))]
    NoSockets(&'static [&'static str]),
    /// Anything else, in the tool's words.
    #[error("{0}")]
    Fatal(String),
    /// In the tool's words, with a status of its own (arping's failed
    /// route lookup: 1).
    #[error("{message}")]
    FatalWith { message: String, status: i32 },
    /// No complaint: a line on stdout (none under arping's `-q`), then
    /// this status (arping's interface checks, some of them 0 under `-D`).
    #[error("{stdout}")]
    Quiet { stdout: String, status: i32 },
}

/// What [`WorkerError::report`] needs of the tool.
pub struct Voice<'a> {
    /// The name messages start with (argv\[0\] as invoked).
    pub prog: &'a str,
    /// The tool's usage text (after a bad command line).
    pub usage: &'a str,
    /// The `Try '… --help'` line for a getopt complaint, whole.
    pub try_help: &'a dyn Fn() -> String,
    /// The tool's exit status for its own failures.
    pub failure: i32,
}

impl WorkerError {
    /// `call: strerror` for a failed system call of the tool's steps.
    pub fn os(call: impl Into<Cow<'static, str>>, source: impl Into<io::Error>) -> Self {
        WorkerError::Os {
            call: call.into(),
            source: source.into(),
        }
    }

    /// A message in the tool's words ([`WorkerError::Fatal`]).
    pub fn fatal(msg: impl Into<String>) -> Self {
        WorkerError::Fatal(msg.into())
    }

    /// The exit status the iputils tool ends with for this error, where its
    /// own failures end with `failure`.
    pub fn status_for(&self, failure: i32) -> i32 {
        match self {
            WorkerError::Policy(_)
            | WorkerError::Refused(_)
            | WorkerError::Start { .. }
            | WorkerError::NotHanded(_)
            | WorkerError::NodeInfoHelp(_) => 2,
            WorkerError::BadValue(_) => 1,
            WorkerError::FatalWith { status, .. } | WorkerError::Quiet { status, .. } => *status,
            WorkerError::Usage(_)
            | WorkerError::TryHelp(_)
            | WorkerError::Resolve(_)
            | WorkerError::Os { .. }
            | WorkerError::NoSockets(_)
            | WorkerError::Fatal(_) => failure,
        }
    }

    /// [`status_for`](Self::status_for) a tool whose failures end with 2
    /// (ping, arping).
    pub fn status(&self) -> i32 {
        self.status_for(2)
    }

    /// Prints the error as the iputils tool does and returns its exit
    /// status.
    pub fn report(&self, voice: &Voice<'_>) -> i32 {
        let err = |s: &str| {
            let _ = sys::write_all(2, s.as_bytes());
        };
        match self {
            WorkerError::Usage(complaint) => {
                if let Some(c) = complaint.as_deref().filter(|c| !c.is_empty()) {
                    say(voice.prog, c);
                }
                err(voice.usage);
            }
            WorkerError::TryHelp(complaint) => {
                say(voice.prog, complaint);
                let _ = sys::write_all(1, (voice.try_help)().as_bytes());
            }
            WorkerError::NodeInfoHelp(line) => {
                if let Some(line) = line {
                    let _ = sys::write_all(1, format!("{line}\n").as_bytes());
                }
                err(crate::ping::nodeinfo::HELP);
            }
            WorkerError::NoSockets(families) => {
                for f in *families {
                    say(voice.prog, format!("Failure to open {f} sockets"));
                }
            }
            WorkerError::Quiet { stdout, .. } => {
                let _ = sys::write_all(1, stdout.as_bytes());
            }
            other => say(voice.prog, other),
        }
        self.status_for(voice.failure)
    }
}
