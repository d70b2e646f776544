//! The remote host against privsep-fping (threat model, attacker B): the
//! hostile responder of `remote_host.rs` in a network namespace of the
//! test's own answers every echo request with its scenario's packets
//! (truncated, bad checksum, wrong identifier, wrong sequence, oversized,
//! duplicate floods, ICMP errors quoting garbage, replies from an address
//! never pinged). Debian's fping (its file capability, raw sockets) and the
//! staged privsep-fping (raw sockets from its launcher) run Smokeping's
//! command line, as the test user, against the same responder: the worker
//! must not panic, must print no line of its own, and must end with the
//! same status and the same lines as fping once round-trip times are set
//! aside (which replies counted, which were duplicates, which ICMP errors
//! it reported).

#![forbid(unsafe_code)]

use std::path::Path;
use std::process::Stdio;

use hostile::responder::Responder;
use hostile::{assert_no_panic, launcher_of, stage, text, User};
use testkit::netns::Netns;

/// Requests per target, as the responder counts them.
const COUNT: &str = "5";
/// Smokeping's FPing probe (`-C n -q -B1 -r1 -i…`), with a period short
/// enough for the suite and a time-out long enough for a loaded machine.
const OPTS: &[&str] = &[
    "-C", COUNT, "-q", "-B1", "-r1", "-i", "10", "-p", "300", "-t", "2000",
];

/// What must be the same for fping and privsep-fping: the lines sorted,
/// every round-trip time as `T` (a number with a decimal point, or one
/// followed by `ms`, or any number in a `-C` line `host : t1 t2 -`, where
/// fping prints a time of 100 ms or more without decimals: a loaded
/// machine's late reply). A duplicate of the last request is left out: both
/// finish as soon as its first reply is in, and whether its copy arrived
/// before that is timing.
fn shape(out: &str) -> Vec<String> {
    let last = format!("duplicate for [{}]", COUNT.parse::<u32>().unwrap() - 1);
    let mut lines: Vec<String> = out
        .lines()
        .filter(|l| !l.contains(&last))
        .map(|l| {
            let words: Vec<&str> = l.split(' ').collect();
            let vector = words.get(1) == Some(&":");
            words
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    let number = w.trim_end_matches(',').parse::<f64>().is_ok();
                    let time = vector
                        || w.contains('.')
                        || words.get(i + 1).is_some_and(|n| n.starts_with("ms"));
                    if number && time {
                        "T".to_string()
                    } else {
                        w.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    lines.sort();
    lines
}

/// fping and privsep-fping against `scenario`, for each address.
fn compare(scenario: &str, addrs: &[&str]) {
    let user = User::from_env();
    let ns = Netns::new(&format!("fp-{scenario}")).expect("create network namespace");
    let _responder = Responder::icmp(
        env!("CARGO_BIN_EXE_hostile-responder"),
        &ns,
        scenario,
        COUNT,
    );
    for addr in addrs {
        let reference = testkit::deadline::output(
            user.command_in(&ns, Path::new("/usr/bin/fping"))
                .args(OPTS)
                .arg(addr)
                .stdin(Stdio::null()),
        );
        let out = testkit::deadline::output(
            user.command_in(&ns, launcher_of(&stage(), &policy::tools::FPING))
                .args(OPTS)
                .arg(addr)
                .stdin(Stdio::null()),
        );
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        let (ref_out, ref_err) = (text(&reference.stdout), text(&reference.stderr));
        let case = format!(
            "{scenario} {addr}\n--- fping ({})\n{ref_out}{ref_err}--- privsep-fping ({})\n{stdout}{stderr}",
            reference.status, out.status
        );
        assert_no_panic("privsep-fping", &stderr);
        assert!(!stderr.contains("privsep-fping:"), "{case}");
        assert_eq!(out.status.code(), reference.status.code(), "{case}");
        assert_eq!(shape(&stdout), shape(&ref_out), "stdout: {case}");
        assert_eq!(shape(&stderr), shape(&ref_err), "stderr: {case}");
        eprintln!("{scenario} {addr}: as fping ({})", out.status);
    }
}

#[test]
#[ignore = "needs root, the staged installs and the test user: make test-hostile"]
fn normal_replies_as_fping() {
    compare("normal", &["127.0.0.1", "::1"]);
}

#[test]
#[ignore = "needs root, the staged installs and the test user: make test-hostile"]
fn truncated_replies_as_fping() {
    compare("truncated", &["127.0.0.1", "::1"]);
}

#[test]
#[ignore = "needs root, the staged installs and the test user: make test-hostile"]
fn replies_with_a_wrong_identifier_as_fping() {
    compare("wrong-id", &["127.0.0.1", "::1"]);
}

#[test]
#[ignore = "needs root, the staged installs and the test user: make test-hostile"]
fn replies_for_sequence_numbers_never_sent_as_fping() {
    compare("wrong-seq", &["127.0.0.1", "::1"]);
}

#[test]
#[ignore = "needs root, the staged installs and the test user: make test-hostile"]
fn oversized_replies_as_fping() {
    compare("oversized", &["127.0.0.1", "::1"]);
}

#[test]
#[ignore = "needs root, the staged installs and the test user: make test-hostile"]
fn duplicate_floods_as_fping() {
    compare("dup-flood", &["127.0.0.1", "::1"]);
}

#[test]
#[ignore = "needs root, the staged installs and the test user: make test-hostile"]
fn icmp_errors_quoting_garbage_as_fping() {
    compare("errors", &["127.0.0.1", "::1"]);
}

#[test]
#[ignore = "needs root, the staged installs and the test user: make test-hostile"]
fn replies_from_an_address_never_pinged_as_fping() {
    compare("foreign", &["127.0.0.1"]);
}
