//! A hostile peer program of the suite (`hostile-responder`,
//! `hostile-tstamp`) running for one test: started in the test's network
//! namespace, waited for until it says it listens, killed on drop.

#![forbid(unsafe_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use testkit::netns::Netns;

/// A running peer, killed and reaped on drop.
#[derive(Debug)]
pub struct Responder(Child);

impl Responder {
    /// Spawns `cmd` (the peer's command line, already inside its
    /// namespace) with its stdout piped, and returns once the peer's first
    /// line says `ready`: only then may a test send it anything. The peer
    /// bounds its own life (its last argument, in seconds), so a test that
    /// dies without dropping this leaves nothing running for long.
    pub fn start(cmd: &mut Command) -> Responder {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {cmd:?}: {e}"));
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().expect("stdout"))
            .read_line(&mut line)
            .expect("read the responder's first line");
        assert!(
            line.starts_with("ready"),
            "responder did not start: {line:?}"
        );
        Responder(child)
    }

    /// `hostile-responder` (`bin`: the test's
    /// `env!("CARGO_BIN_EXE_hostile-responder")`) in `ns`, answering each
    /// family's echo requests as `scenario` says and request `count`
    /// plainly, for two minutes at most.
    pub fn icmp(bin: &str, ns: &Netns, scenario: &str, count: &str) -> Responder {
        Responder::start(ns.command(bin).args([scenario, count, "120"]))
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
