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
    /// The route lookup that guesses arping's interface failed (iputils'
    /// `netlink_query`): its words, its exit 1.
    #[error("{0}")]
    Route(String),
    /// A write to stdout failed (ping's `close_stdout`): exit 1.
    #[error("write error")]
    WriteError,
    /// Lines the tool composed itself (fping's usage, version and
    /// refusals, in its own format), then their status.
    #[error("{}", .0.stderr.trim_end())]
    Said(Said),
    /// No complaint: a line on stdout (none under arping's `-q`), then
    /// this status (arping's interface checks, some of them 0 under `-D`).
    #[error("{stdout}")]
    Quiet { stdout: String, status: i32 },
}

/// What a tool that composes its own messages (fping) prints when it
/// stops early: lines for stdout and stderr, and the status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Said {
    pub stdout: String,
    pub stderr: String,
    pub status: i32,
}

impl Said {
    /// `prog: msg` on stderr and `status`.
    pub fn say(prog: &str, msg: &str, status: i32) -> Said {
        Said {
            stdout: String::new(),
            stderr: format!("{prog}: {msg}\n"),
            status,
        }
    }
}

impl From<Said> for WorkerError {
    fn from(said: Said) -> Self {
        WorkerError::Said(said)
    }
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
            WorkerError::BadValue(_) | WorkerError::Route(_) | WorkerError::WriteError => 1,
            WorkerError::Quiet { status, .. } => *status,
            WorkerError::Said(said) => said.status,
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
            WorkerError::Said(said) => {
                let _ = sys::write_all(1, said.stdout.as_bytes());
                let _ = sys::write_all(2, said.stderr.as_bytes());
            }
            WorkerError::Quiet { stdout, .. } => {
                let _ = sys::write_all(1, stdout.as_bytes());
            }
            other => say(voice.prog, other),
        }
        self.status_for(voice.failure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_each_tools_iputils_ones() {
        let framework = [
            WorkerError::Refused("in the launcher's domain".into()),
            WorkerError::Start {
                call: "close_range",
                source: io::Error::from_raw_os_error(libc::EPERM),
            },
            WorkerError::NotHanded("no raw ICMPv4 socket was handed over"),
        ];
        let own = [
            WorkerError::Usage(None),
            WorkerError::TryHelp("invalid option -- 'x'".into()),
            WorkerError::Resolve("nowhere: Name or service not known".into()),
            WorkerError::os("connect", io::Error::from_raw_os_error(libc::ENETUNREACH)),
            WorkerError::NoSockets(&["IPv4", "IPv6"]),
            WorkerError::fatal("x is down"),
        ];
        // ping and arping end their own failures with 2, clockdiff and
        // mtr-packet with 1; the framework's refusals are 2 for all.
        for failure in [1, 2] {
            for e in &framework {
                assert_eq!(e.status_for(failure), 2, "{e:?}");
            }
            for e in &own {
                assert_eq!(e.status_for(failure), failure, "{e:?}");
            }
            assert_eq!(WorkerError::BadValue("v".into()).status_for(failure), 1);
            assert_eq!(WorkerError::Route("r".into()).status_for(failure), 1);
            assert_eq!(WorkerError::WriteError.status_for(failure), 1);
            assert_eq!(WorkerError::NodeInfoHelp(None).status_for(failure), 2);
            let quiet = WorkerError::Quiet {
                stdout: String::new(),
                status: 0,
            };
            assert_eq!(quiet.status_for(failure), 0);
        }
    }

    #[test]
    fn messages_are_the_tools_words() {
        let e = WorkerError::os("connect", io::Error::from_raw_os_error(libc::ENETUNREACH));
        assert_eq!(e.to_string(), "connect: Network is unreachable");
        let e = WorkerError::Start {
            call: "prctl(PR_SET_DUMPABLE)",
            source: io::Error::from_raw_os_error(libc::EPERM),
        };
        assert_eq!(
            e.to_string(),
            "prctl(PR_SET_DUMPABLE): Operation not permitted"
        );
        assert_eq!(WorkerError::Usage(None).to_string(), "");
        assert_eq!(WorkerError::Usage(Some("c".into())).to_string(), "c");
        assert_eq!(WorkerError::WriteError.to_string(), "write error");
    }
}
