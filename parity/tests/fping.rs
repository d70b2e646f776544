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
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use parity::compare::Outcome;
use parity::env;
use parity::fping::FpingNet;
use parity::table::As;
use parity::tools::{self, ToolLinks, ToolRow};
use parity::verdict::{control_lines, Case, Reference, Verdicts};

/// Rows run at once (each with its three implementations at once): most
/// of a row's time is spent waiting on fping's timers.
const JOBS: usize = 4;

/// A finished run: row, user, and the three outcomes.
type Finished = (usize, As, Vec<Outcome>);

#[test]
#[ignore = "needs root, the staged install, both fping references and the test user: make test-parity-fping"]
fn privsep_fping_matches_fping() {
    let stage = PathBuf::from(env("PRIVSEP_STAGE").unwrap());
    let upstream = PathBuf::from(env("PARITY_FPING").unwrap());
    // The report's name for it, for the whole run (the verdicts keep
    // &'static names).
    let upstream_name: &'static str =
        format!("upstream {}", env("PARITY_FPING_VERSION").unwrap()).leak();
    let report_path = PathBuf::from(std::env::var("PARITY_FPING_REPORT").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../target/parity/fping-report.txt"
        )
        .into()
    }));
    let only = std::env::var("PARITY_ONLY").ok().filter(|s| !s.is_empty());
    let datagram = match std::env::var("PARITY_MODE").as_deref() {
        Ok("datagram") => true,
        Ok("raw") | Err(_) => false,
        Ok(other) => panic!("PARITY_MODE={other}: raw or datagram"),
    };
    let mode = if datagram { "datagram" } else { "raw" };
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));

    let mut rows = tools::load(&dir.join("fping.json")).expect("table");
    if let Some(only) = &only {
        rows.retain(|r| r.name.contains(only.as_str()));
    }
    let links = ToolLinks::with_copies(
        "fping",
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

    let jobs: Vec<(usize, As)> = rows
        .iter()
        .enumerate()
        .flat_map(|(r, row)| row.run_as.iter().map(move |&who| (r, who)))
        .collect();
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<Finished>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..JOBS {
            s.spawn(|| {
                while let Some(&(r, who)) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let row = &rows[r];
                    let outcomes: Vec<Outcome> = std::thread::scope(|s| {
                        let handles: Vec<_> = links
                            .implementations
                            .iter()
                            .map(|imp| {
                                let (net, user) = (&net, &user);
                                s.spawn(move || {
                                    tools::run(&net.client, "fping", imp, row, who, user)
                                        .expect("run")
                                })
                            })
                            .collect();
                        handles
                            .into_iter()
                            .map(|h| h.join().expect("runner thread"))
                            .collect()
                    });
                    eprintln!(
                        "parity: fping {} as {}: {}",
                        row.name,
                        who.name(),
                        outcomes
                            .iter()
                            .map(|o| o.status.as_str())
                            .collect::<Vec<_>>()
                            .join(" / ")
                    );
                    done.lock().expect("results").push((r, who, outcomes));
                }
            });
        }
    });
    drop(net);
    let mut done = done.into_inner().expect("results");
    done.sort_by_key(|&(r, who, _)| (r, who));

    let names = ["debian 5.1", upstream_name];
    let mut verdicts = Verdicts::new(&names, &[(0, 1)]);
    for (r, who, outcomes) in &done {
        let row: &ToolRow = &rows[*r];
        let mut case = Case::new(format!("fping {} (as {})", row.name, who.name()));
        let [privsep, debian, upstream] = outcomes.as_slice() else {
            panic!("{}: {} outcomes", row.name, outcomes.len());
        };
        // Beyond fping: privsep puts no control character on a terminal,
        // whatever the names it prints.
        let raw = control_lines(privsep, &['\t']);
        if !raw.is_empty() {
            verdicts.fail(
                &mut case,
                format!("privsep printed control characters: {raw:?}"),
            );
        }
        let (expect_debian, expect_upstream) = row.expectations(datagram, *who);
        let refs = [
            Reference {
                expect: expect_debian,
                outcome: debian,
            },
            Reference {
                expect: expect_upstream,
                outcome: upstream,
            },
        ];
        verdicts.judge(&mut case, privsep, &refs);
        verdicts.close(case, &format!("fping {}", row.args.join(" ")), privsep);
    }
    let summary = format!(
        "parity (fping, {mode} mode): {} rows, {} invocations (rows x users); {}",
        rows.len(),
        verdicts.cases(),
        verdicts.counts()
    );
    verdicts.finish(&summary, &report_path);
}
