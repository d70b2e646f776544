//! The fping parity suite: every row of `parity/fping.json`, run by the
//! staged privsep-fping, Debian 12's fping 5.1 (`/usr/bin/fping`) and
//! upstream's latest release as Debian ships it (`PARITY_FPING`), as root
//! and as the unprivileged test user, in the suite's own network
//! ([`parity::fping`]: live and dead targets by the hundred, IPv4, IPv6
//! and loopback). Output is normalised for times only and compared line
//! by line with the exit status ([`parity::verdict`]); the report is
//! `target/parity/fping-report.txt`.
//!
//! Two modes, each in namespaces of its own: raw (every implementation
//! with its file capability, the client's `ping_group_range` the kernel's
//! default, which admits nobody: raw sockets) and datagram
//! (`PARITY_MODE=datagram`: copies of the three without any capability,
//! the range open to every group: the test user's runs ping over ICMP
//! datagram sockets, fping's fallback and privsep-fping's first choice).
//!
//! Rows run concurrently, and so do a row's three implementations: fping
//! tells its replies from another's by the ICMP identifier (its pid), so
//! runs to the same targets do not disturb each other.

#![forbid(unsafe_code)]

use std::path::PathBuf;

use parity::compare::Outcome;
use parity::fping::FpingNet;
use parity::run::Links;
use parity::table::As;
use parity::tools;
use parity::verdict::Verdicts;
use parity::Settings;
use testkit::need;

/// Rows run at once (each with its three implementations at once): most
/// of a row's time is spent waiting on fping's timers.
const JOBS: usize = 4;

#[test]
#[ignore = "needs root, the staged install, both fping references and the test user: make test-parity-fping"]
fn privsep_fping_matches_fping() {
    let stage = need::stage();
    let upstream = need::program(
        &PathBuf::from(need::var("PARITY_FPING")),
        "make fping-upstream",
    );
    // The report's name for it, for the whole run (the verdicts keep
    // &'static names).
    let upstream_name: &'static str =
        format!("upstream {}", need::var("PARITY_FPING_VERSION")).leak();
    let settings = Settings::from_env("PARITY_FPING_REPORT", "fping-report.txt");
    let datagram = settings.datagram;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));

    let mut rows = tools::load(&dir.join("fping.json")).expect("table");
    rows.retain(|r| settings.wants(&r.name));
    let links = Links::named(
        "fping",
        &["fping"],
        &[
            ("privsep", stage.join("bin/privsep-fping")),
            ("debian", PathBuf::from("/usr/bin/fping")),
            ("upstream", upstream),
        ],
        datagram,
    )
    .expect("links");
    let net = FpingNet::new(env!("CARGO_BIN_EXE_parity-responder"), datagram).expect("network");
    let user = hostile::User::from_env();

    // One job per row and user, its three implementations at once.
    let jobs: Vec<(usize, As)> = rows
        .iter()
        .enumerate()
        .flat_map(|(r, row)| row.run_as.iter().map(move |&who| (r, who)))
        .collect();
    let mut done: Vec<(usize, As, Vec<Outcome>)> = tools::run_jobs(&jobs, JOBS, |&(r, who)| {
        let row = &rows[r];
        let outcomes: Vec<Outcome> = std::thread::scope(|s| {
            let handles: Vec<_> = links
                .implementations
                .iter()
                .map(|imp| {
                    let (net, user) = (&net, &user);
                    s.spawn(move || {
                        tools::run(&net.client, "fping", imp, row, who, user).expect("run")
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("runner thread"))
                .collect()
        });
        tools::progress("fping", row, who, &outcomes);
        vec![(r, who, outcomes)]
    });
    drop(net);
    done.sort_by_key(|&(r, who, _)| (r, who));

    let names = ["debian 5.1", upstream_name];
    let mut verdicts = Verdicts::new(&names, &[(0, 1)]);
    for (r, who, outcomes) in &done {
        tools::judge(&mut verdicts, "fping", &rows[*r], *who, outcomes, datagram);
    }
    let summary = format!(
        "parity (fping, {} mode): {} rows, {} invocations (rows x users); {}",
        settings.mode(),
        rows.len(),
        verdicts.cases(),
        verdicts.counts()
    );
    verdicts.finish(&summary, &settings.report);
}
