//! The arping and clockdiff parity suite: every row of `parity/arping.json`
//! and `parity/clockdiff.json`, run by the staged privsep tool, Debian 12's
//! iputils tool (20221126) and upstream iputils 20250605, as root and as
//! the unprivileged test user, in the suite's own LAN ([`parity::lan`]).
//! Output is normalised for times only and compared line by line with the
//! exit status. A difference the table does not list as deliberate, or a
//! deliberate one that no longer differs, fails; the report is
//! `target/parity/tools-report.txt`. Rows run concurrently (each arping
//! row probes addresses no other row probes; clockdiff's replies carry
//! the prober's identifier); the three implementations of an arping row
//! run one after the other.

#![forbid(unsafe_code)]

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use parity::compare::{differences, Outcome};
use parity::env;
use parity::lan::Lan;
use parity::table::{As, Expect};
use parity::tools::{self, ToolLinks, ToolRow};

/// Rows run at once (most of a row's time is spent waiting on timers).
const JOBS: usize = 8;
/// How many differing lines the report shows per comparison.
const SHOWN: usize = 8;

/// `line` with control characters shown as `<0xNN>`.
fn safe(line: &str) -> String {
    line.chars()
        .map(|c| {
            if c.is_control() && c != '\t' {
                format!("<0x{:02x}>", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn render(o: &Outcome) -> String {
    let mut s = format!("    [{}]\n", o.status);
    for l in &o.stdout {
        let _ = writeln!(s, "    | {}", safe(l));
    }
    for l in &o.stderr {
        let _ = writeln!(s, "    ! {}", safe(l));
    }
    s
}

/// A finished run: table, row, user, and the three outcomes.
type Finished = (usize, usize, As, Vec<Outcome>);

/// One row of one tool as one user: privsep's outcome, then the references'.
struct Case<'a> {
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
    let cases: Vec<Case> = done
        .into_iter()
        .map(|(t, r, who, outcomes)| Case {
            tool: tables[t].0,
            row: &tables[t].1[r],
            who,
            outcomes,
        })
        .collect();

    let mut report = String::new();
    let mut failures = Vec::new();
    let mut deliberate = Vec::new();
    let mut matches = [0usize; 2];
    let mut between_refs = String::new();
    for c in &cases {
        let id = format!("{} {} (as {})", c.tool, c.row.name, c.who.name());
        let privsep = &c.outcomes[0];
        if let Some(first) = differences(&c.outcomes[1], &c.outcomes[2]).first() {
            let first = first
                .replace("reference", "debian")
                .replacen("privsep", "upstream", 1);
            let _ = writeln!(between_refs, "{id}: {first}");
        }
        let mut block = String::new();
        // Beyond iputils: privsep puts no control character but the tab on
        // a terminal, whatever the names it prints.
        let raw: Vec<&String> = privsep
            .stdout
            .iter()
            .chain(&privsep.stderr)
            .filter(|l| l.chars().any(|ch| ch.is_control() && ch != '\t'))
            .collect();
        if !raw.is_empty() {
            failures.push(format!("{id}: privsep printed control characters: {raw:?}"));
            let _ = writeln!(block, "  FAIL: privsep printed control characters: {raw:?}");
        }
        let refs = [
            ("debian 20221126", &c.row.debian, &c.outcomes[1]),
            ("upstream 20250605", &c.row.upstream, &c.outcomes[2]),
        ];
        for (k, (name, expect, reference)) in refs.into_iter().enumerate() {
            let diff = differences(reference, privsep);
            let verdict = match (diff.is_empty(), expect) {
                (true, Expect::Match) => {
                    matches[k] += 1;
                    continue;
                }
                (true, Expect::Deliberate(why)) => {
                    failures.push(format!(
                        "{id} vs {name}: listed as deliberate ({why}) but privsep now matches it"
                    ));
                    format!("STALE deliberate difference (now matches): {why}")
                }
                (false, Expect::Deliberate(why)) => {
                    deliberate.push(format!("{id} vs {name}: {why}"));
                    format!("deliberate: {why}")
                }
                (false, Expect::Match) => {
                    failures.push(format!("{id} vs {name}: {}", diff[0]));
                    "FAIL: differs".into()
                }
            };
            let _ = writeln!(block, "  vs {name}: {verdict}");
            for d in diff.iter().take(SHOWN) {
                let _ = writeln!(block, "    - {d}");
            }
            if diff.len() > SHOWN {
                let _ = writeln!(block, "    - ... {} more", diff.len() - SHOWN);
            }
            let _ = write!(block, "  {name}:\n{}", render(reference));
        }
        if !block.is_empty() {
            let _ = writeln!(
                report,
                "== {id}: {} {}\n{block}  privsep:\n{}",
                c.tool,
                c.row.args.join(" "),
                render(privsep)
            );
        }
    }
    let rows: usize = tables.iter().map(|(_, r, _)| r.len()).sum();
    let summary = format!(
        "parity (arping, clockdiff): {rows} rows, {} invocations (rows x users); privsep matches \
         debian 20221126 in {}, upstream 20250605 in {}; {} deliberate differences; {} failures",
        cases.len(),
        matches[0],
        matches[1],
        deliberate.len(),
        failures.len()
    );
    let full = format!(
        "{summary}\n\n# Deliberate differences\n{}\n\n# Failures\n{}\n\n\
         # Where Debian's 20221126 and upstream 20250605 differ (first difference)\n{between_refs}\n\
         # Every difference\n{report}",
        deliberate.join("\n"),
        failures.join("\n")
    );
    if let Some(dir) = report_path.parent() {
        std::fs::create_dir_all(dir).expect("report directory");
    }
    std::fs::write(&report_path, &full).expect("write report");
    println!("{summary}\nreport: {}", report_path.display());
    for f in &failures {
        println!("  FAIL {f}");
    }
    assert!(
        failures.is_empty(),
        "{} differences not listed as deliberate (report: {})",
        failures.len(),
        report_path.display()
    );
}
