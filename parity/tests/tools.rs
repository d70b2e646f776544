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

use parity::compare::Outcome;
use parity::lan::Lan;
use parity::run::Links;
use parity::table::As;
use parity::tools;
use parity::verdict::Verdicts;
use parity::Settings;
use testkit::need;

/// Rows run at once (most of a row's time is spent waiting on timers).
const JOBS: usize = 8;

#[test]
#[ignore = "needs root, the staged install, both iputils builds and the test user: make test-parity"]
fn privsep_arping_and_clockdiff_match_iputils() {
    let stage = need::stage();
    let latest = PathBuf::from(need::var("PARITY_LATEST"));
    let settings = Settings::from_env("PARITY_TOOLS_REPORT", "tools-report.txt");
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));

    let mut tables = Vec::new();
    for tool in ["arping", "clockdiff"] {
        let mut rows = tools::load(&dir.join(format!("{tool}.json"))).expect("table");
        if tool == "arping" {
            let twice = tools::shared_targets(&rows);
            assert!(twice.is_empty(), "arping rows share targets: {twice:?}");
        }
        rows.retain(|r| settings.wants(&r.name));
        let links = Links::named(
            tool,
            &[tool],
            &[
                ("privsep", stage.join(format!("bin/privsep-{tool}"))),
                ("debian", PathBuf::from(format!("/usr/bin/{tool}"))),
                ("upstream", latest.join(tool)),
            ],
            false,
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
    let mut done: Vec<(usize, usize, As, Vec<Outcome>)> =
        tools::run_jobs(&jobs, JOBS, |&(t, r)| {
            let (tool, rows, links) = &tables[t];
            let row = &rows[r];
            row.run_as
                .iter()
                .map(|&who| {
                    let outcomes: Vec<Outcome> = links
                        .implementations
                        .iter()
                        .map(|imp| {
                            tools::run(&lan.client, tool, imp, row, who, &user).expect("run")
                        })
                        .collect();
                    tools::progress(tool, row, who, &outcomes);
                    (t, r, who, outcomes)
                })
                .collect()
        });
    drop(lan);
    done.sort_by_key(|&(t, r, who, _)| (t, r, who));

    let names = ["debian 20221126", "upstream 20250605"];
    let mut verdicts = Verdicts::new(&names, &[(0, 1)]);
    for (t, r, who, outcomes) in &done {
        let (tool, rows, _) = &tables[*t];
        tools::judge(&mut verdicts, tool, &rows[*r], *who, outcomes, false);
    }
    let rows: usize = tables.iter().map(|(_, r, _)| r.len()).sum();
    let summary = format!(
        "parity (arping, clockdiff): {rows} rows, {} invocations (rows x users); {}",
        verdicts.cases(),
        verdicts.counts()
    );
    verdicts.finish(&summary, &settings.report);
}
