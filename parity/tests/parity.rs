//! The parity suite: every row of `parity/table.json`, run by privsep-ping
//! (the staged install), Debian 12's iputils ping and upstream iputils
//! 20240905, as root and as the unprivileged test user, in the suite's own
//! network. Output is normalised for times only and compared line by line
//! with the exit code. Every difference is reported (`target/parity/
//! report.txt` and a summary on stdout); a difference the table does not
//! list as deliberate, a deliberate one that no longer differs, or -j
//! output that is not JSON Lines, fails.

#![forbid(unsafe_code)]

use std::fmt::Write as _;
use std::path::PathBuf;

use parity::compare::{differences, Outcome};
use parity::net::Network;
use parity::run::{run, Links};
use parity::table::{self, As, Expect, Row};
use parity::{env, ParityError};

/// How many differing lines the report shows per comparison.
const SHOWN: usize = 8;

/// One (row, who) pair, run by the three implementations.
struct Case<'a> {
    row: &'a Row,
    who: As,
    privsep: Outcome,
    references: [(&'static str, &'a Expect, Outcome); 2],
}

/// `line` with control characters shown as `<0xNN>`: the report is read on
/// terminals, and some rows print hostile names.
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

fn run_all(
    net: &Network,
    links: &Links,
    rows: &[Row],
) -> Result<Vec<(usize, As, Vec<Outcome>)>, ParityError> {
    let user = hostile::User::from_env();
    let mut results = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        for &who in &row.run_as {
            let outcomes: Vec<Outcome> = if row.serial {
                links
                    .implementations
                    .iter()
                    .map(|imp| {
                        std::thread::sleep(std::time::Duration::from_millis(row.pause_ms));
                        net.flush_route_cache();
                        run(&net.client, imp, row, who, &user)
                    })
                    .collect::<Result<_, _>>()?
            } else {
                std::thread::scope(|s| {
                    let handles: Vec<_> = links
                        .implementations
                        .iter()
                        .map(|imp| {
                            let user = &user;
                            s.spawn(move || run(&net.client, imp, row, who, user))
                        })
                        .collect();
                    handles
                        .into_iter()
                        .map(|h| h.join().expect("runner thread"))
                        .collect::<Result<Vec<_>, _>>()
                })?
            };
            eprintln!(
                "parity: {} as {}: {}",
                row.name,
                who.name(),
                outcomes
                    .iter()
                    .map(|o| o.status.as_str())
                    .collect::<Vec<_>>()
                    .join(" / ")
            );
            results.push((i, who, outcomes));
        }
    }
    Ok(results)
}

#[test]
#[ignore = "needs root, the staged install, both iputils builds and the test user: make test-parity"]
fn privsep_ping_matches_iputils() {
    let stage = PathBuf::from(env("PRIVSEP_STAGE").unwrap());
    let upstream = PathBuf::from(env("PARITY_UPSTREAM_PING").unwrap());
    let debian =
        PathBuf::from(std::env::var("PARITY_DEBIAN_PING").unwrap_or("/usr/bin/ping".into()));
    let report_path = PathBuf::from(std::env::var("PARITY_REPORT").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../target/parity/report.txt").into()
    }));
    let only = std::env::var("PARITY_ONLY").ok();
    // PARITY_MODE=datagram: every implementation without any capability,
    // ping_group_range open in the client namespace.
    let datagram = match std::env::var("PARITY_MODE").as_deref() {
        Ok("datagram") => true,
        Ok("raw") | Err(_) => false,
        Ok(other) => panic!("PARITY_MODE={other}: raw or datagram"),
    };
    let mode = if datagram { "datagram" } else { "raw" };

    let mut rows = table::parse(include_str!("../table.json")).expect("table");
    if let Some(only) = &only {
        rows.retain(|r| r.name.contains(only.as_str()));
    }
    let links = Links::new(
        &[
            ("privsep", stage.join("bin/privsep-ping")),
            ("debian", debian),
            ("upstream", upstream),
        ],
        datagram,
    )
    .expect("links");
    let net = Network::with_ping_sockets(env!("CARGO_BIN_EXE_parity-responder"), datagram)
        .expect("network");
    let results = run_all(&net, &links, &rows).expect("run");
    drop(net);

    let cases: Vec<Case> = results
        .into_iter()
        .map(|(i, who, mut o)| {
            let upstream = o.pop().expect("upstream");
            let debian = o.pop().expect("debian");
            let privsep = o.pop().expect("privsep");
            let row = &rows[i];
            Case {
                row,
                who,
                privsep,
                references: {
                    let (d, u) = row.expectations(datagram, who);
                    [
                        ("debian 20221126", d, debian),
                        ("upstream 20240905", u, upstream),
                    ]
                },
            }
        })
        .collect();

    let mut report = String::new();
    let mut failures = Vec::new();
    let mut deliberate = Vec::new();
    let mut matches = [0usize; 2];
    let mut refs_differ = 0;
    let mut between_refs = String::new();
    for c in &cases {
        let id = format!("{} (as {})", c.row.name, c.who.name());
        let between = differences(&c.references[0].2, &c.references[1].2);
        if let Some(first) = between.first() {
            refs_differ += 1;
            let first = first
                .replace("reference", "debian")
                .replacen("privsep", "upstream", 1);
            let _ = writeln!(between_refs, "{id}: {first}");
        }
        let mut block = String::new();
        // privsep's output with the lines it adds on purpose taken out.
        let mut privsep = c.privsep.clone();
        if let Some(extra) = &c.row.privsep_extra {
            let missing = extra.remove_from(&mut privsep.stdout, &mut privsep.stderr);
            if missing.is_empty() {
                deliberate.push(format!(
                    "{id}: privsep adds {:?}: {}",
                    extra.lines, extra.why
                ));
            } else {
                failures.push(format!(
                    "{id}: privsep no longer prints the extra lines {missing:?}"
                ));
                let _ = writeln!(
                    block,
                    "  FAIL: privsep does not print the extra lines {missing:?}"
                );
            }
        }
        // Beyond iputils: whatever a row prints, privsep puts no escape
        // sequence on a terminal (only the tab, -a's bell, -f's backspace
        // and the carriage return before SIGQUIT's status line among the
        // control characters).
        let raw: Vec<&String> = c
            .privsep
            .stdout
            .iter()
            .chain(&c.privsep.stderr)
            .filter(|l| {
                l.chars()
                    .any(|ch| ch.is_control() && !matches!(ch, '\t' | '\r' | '\x07' | '\x08'))
            })
            .collect();
        if !raw.is_empty() {
            failures.push(format!("{id}: privsep printed control characters: {raw:?}"));
            let _ = writeln!(block, "  FAIL: privsep printed control characters: {raw:?}");
        }
        if c.row.json {
            // JSON Lines: every line of stdout one well-formed JSON value.
            let bad: Vec<String> = c
                .privsep
                .stdout
                .iter()
                .filter(|l| serde_json::from_str::<serde_json::Value>(l).is_err())
                .cloned()
                .collect();
            if c.privsep.stdout.is_empty() || !bad.is_empty() {
                failures.push(format!(
                    "{id}: privsep's -j output is not JSON, one value per line: {bad:?}"
                ));
                let _ = writeln!(
                    block,
                    "  FAIL: privsep's -j output is not JSON, one value per line: {bad:?}"
                );
            }
        }
        for (k, (name, expect, reference)) in c.references.iter().enumerate() {
            let diff = differences(reference, &privsep);
            let verdict = match (diff.is_empty(), expect) {
                (true, Expect::Match) => {
                    matches[k] += 1;
                    continue;
                }
                (true, Expect::Deliberate(why)) => {
                    matches[k] += 1;
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
                "== {id}: ping {}\n{block}  privsep:\n{}",
                c.row.args.join(" "),
                render(&c.privsep)
            );
        }
    }
    let summary = format!(
        "parity ({mode} mode): {} rows, {} invocations (rows x users); privsep matches debian 20221126 in {}, \
         upstream 20240905 in {}; the two references differ in {}; {} deliberate differences; \
         {} failures",
        rows.len(),
        cases.len(),
        matches[0],
        matches[1],
        refs_differ,
        deliberate.len(),
        failures.len()
    );
    let full = format!(
        "{summary}\n\n# Deliberate differences\n{}\n\n# Failures\n{}\n\n\
         # Where Debian's 20221126 and upstream 20240905 differ (first difference)\n{between_refs}\n\
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
