//! The arping and clockdiff parity suite: every row of `parity/arping.json`
//! and `parity/clockdiff.json`, run by the staged privsep tool, Debian 12's
//! iputils tool (20221126) and upstream iputils 20250605, as root and as
//! the unprivileged test user, in the suite's own LAN ([`parity::lan`]).
//! Output is normalised for times only and compared line by line with the
//! exit status. A difference the table does not list as deliberate, or a
//! deliberate one that no longer differs, fails; the report is
//! `target/parity/tools-report.txt` ([`parity::verdict`]). Rows run concurrently (each arping
//! row probes addresses no other row probes; clockdiff's replies carry
//! the prober's identifier); the three implementations of an arping row
//! run one after the other.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use parity::compare::Outcome;
use parity::env;
use parity::lan::Lan;
use parity::table::As;
use parity::tools::{self, ToolLinks, ToolRow};
use parity::verdict::{control_lines, Case, Reference, Verdicts};

/// Rows run at once (most of a row's time is spent waiting on timers).
const JOBS: usize = 8;

/// A finished run: table, row, user, and the three outcomes.
type Finished = (usize, usize, As, Vec<Outcome>);

/// One row of one tool as one user: privsep's outcome, then the references'.
struct Run<'a> {
    tool: &'static str,
    row: &'a ToolRow,
    who: As,
    outcomes: Vec<Outcome>,
}

#[test]
#[ignore = "needs root, the staged install, both iputils builds and the test user: make test-parity"]
fn privsep_arping_and_clockdiff_match_iputils() {
    let stage = PathBuf::from(env("PRIVSEP_STAGE").unwrap());
    let latest = PathBuf::from(env("PARITY_LATEST").unwrap());
    let report_path = PathBuf::from(std::env::var("PARITY_TOOLS_REPORT").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../target/parity/tools-report.txt"
        )
        .into()
    }));
    let only = std::env::var("PARITY_ONLY").ok().filter(|s| !s.is_empty());
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));

    let mut tables = Vec::new();
    for tool in ["arping", "clockdiff"] {
        let mut rows = tools::load(&dir.join(format!("{tool}.json"))).expect("table");
        if tool == "arping" {
            let twice = tools::shared_targets(&rows);
            assert!(twice.is_empty(), "arping rows share targets: {twice:?}");
        }
        if let Some(only) = &only {
            rows.retain(|r| r.name.contains(only.as_str()));
        }
        let links = ToolLinks::new(
            tool,
            &[
                ("privsep", stage.join(format!("bin/privsep-{tool}"))),
                ("debian", PathBuf::from(format!("/usr/bin/{tool}"))),
                ("upstream", latest.join(tool)),
            ],
        )
        .expect("links");
        tables.push((tool, rows, links));
    }
    let lan = Lan::new().expect("network");
    let user = hostile::User::from_env();

    // One job per row: its runs (each user, each implementation) one after
    // the other, since they probe the same address.
    let jobs: Vec<(usize, usize)> = tables
        .iter()
        .enumerate()
        .flat_map(|(t, (_, rows, _))| (0..rows.len()).map(move |r| (t, r)))
        .collect();
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<Finished>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..JOBS {
            s.spawn(|| {
                while let Some(&(t, r)) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let (tool, rows, links) = &tables[t];
                    let row = &rows[r];
                    for &who in &row.run_as {
                        let outcomes: Vec<Outcome> = links
                            .implementations
                            .iter()
                            .map(|imp| {
                                tools::run(&lan.client, tool, imp, row, who, &user).expect("run")
                            })
                            .collect();
                        eprintln!(
                            "parity: {tool} {} as {}: {}",
                            row.name,
                            who.name(),
                            outcomes
                                .iter()
                                .map(|o| o.status.as_str())
                                .collect::<Vec<_>>()
                                .join(" / ")
                        );
                        done.lock().expect("results").push((t, r, who, outcomes));
                    }
                }
            });
        }
    });
    drop(lan);
    let mut done = done.into_inner().expect("results");
    done.sort_by_key(|&(t, r, who, _)| (t, r, who));
    let cases: Vec<Run> = done
        .into_iter()
        .map(|(t, r, who, outcomes)| Run {
            tool: tables[t].0,
            row: &tables[t].1[r],
            who,
            outcomes,
        })
        .collect();

    let names = ["debian 20221126", "upstream 20250605"];
    let mut verdicts = Verdicts::new(&names, &[(0, 1)]);
    for c in &cases {
        let mut case = Case::new(format!("{} {} (as {})", c.tool, c.row.name, c.who.name()));
        let [privsep, debian, upstream] = c.outcomes.as_slice() else {
            panic!("{}: {} outcomes", c.row.name, c.outcomes.len());
        };
        // Beyond iputils: privsep puts no control character but the tab on
        // a terminal, whatever the names it prints.
        let raw = control_lines(privsep, &['\t']);
        if !raw.is_empty() {
            verdicts.fail(
                &mut case,
                format!("privsep printed control characters: {raw:?}"),
            );
        }
        let refs = [
            Reference {
                expect: &c.row.debian,
                outcome: debian,
            },
            Reference {
                expect: &c.row.upstream,
                outcome: upstream,
            },
        ];
        verdicts.judge(&mut case, privsep, &refs);
        verdicts.close(
            case,
            &format!("{} {}", c.tool, c.row.args.join(" ")),
            privsep,
        );
    }
    let rows: usize = tables.iter().map(|(_, r, _)| r.len()).sum();
    let summary = format!(
        "parity (arping, clockdiff): {rows} rows, {} invocations (rows x users); {}",
        verdicts.cases(),
        verdicts.counts()
    );
    verdicts.finish(&summary, &report_path);
}
