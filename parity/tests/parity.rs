//! The parity suite: every row of `parity/table.json`, run by privsep-ping
//! (the staged install), Debian 12's iputils ping and upstream iputils
//! 20240905 and 20250605 (its latest release), as root and as the
//! unprivileged test user, in the suite's own network. Output is normalised
//! for times only and compared line by line with the exit code. Every
//! difference is reported (`target/parity/report.txt` and a summary on
//! stdout; [`parity::verdict`]); a difference the table does not list as
//! deliberate, a deliberate one that no longer differs, or -j output that
//! is not JSON Lines, fails.

#![forbid(unsafe_code)]

use std::path::PathBuf;

use parity::compare::Outcome;
use parity::net::Network;
use parity::run::{run, Links};
use parity::table::{self, As, Row};
use parity::verdict::{control_lines, Case, Reference, Verdicts};
use parity::{ParityError, Settings};
use testkit::need;

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
#[ignore = "needs root, the staged install, the iputils builds and the test user: make test-parity"]
fn privsep_ping_matches_iputils() {
    let stage = need::stage();
    let upstream = PathBuf::from(need::var("PARITY_UPSTREAM_PING"));
    let latest = PathBuf::from(need::var("PARITY_LATEST_PING"));
    let debian =
        PathBuf::from(std::env::var("PARITY_DEBIAN_PING").unwrap_or("/usr/bin/ping".into()));
    let settings = Settings::from_env("PARITY_REPORT", "report.txt");
    let datagram = settings.datagram;

    let mut rows = table::parse(include_str!("../table.json")).expect("table");
    rows.retain(|r| settings.wants(&r.name));
    let links = Links::new(
        &[
            ("privsep", stage.join("bin/privsep-ping")),
            ("debian", debian),
            ("upstream", upstream),
            ("latest", latest),
        ],
        datagram,
    )
    .expect("links");
    let net = Network::with_ping_sockets(env!("CARGO_BIN_EXE_parity-responder"), datagram)
        .expect("network");
    let results = run_all(&net, &links, &rows).expect("run");
    drop(net);

    let names = ["debian 20221126", "upstream 20240905", "upstream 20250605"];
    // Where Debian's and 20240905 differ, and what 20250605 changed.
    let mut verdicts = Verdicts::new(&names, &[(0, 1), (1, 2)]);
    for (i, who, outcomes) in &results {
        let row = &rows[*i];
        let [privsep, references @ ..] = outcomes.as_slice() else {
            panic!("{}: {} outcomes", row.name, outcomes.len());
        };
        let mut case = Case::new(format!("{} (as {})", row.name, who.name()));
        // privsep's output with the lines it adds on purpose taken out.
        let mut trimmed = privsep.clone();
        if let Some(extra) = &row.privsep_extra {
            let missing = extra.remove_from(&mut trimmed.stdout, &mut trimmed.stderr);
            if missing.is_empty() {
                verdicts.deliberate(
                    &case,
                    format!("privsep adds {:?}: {}", extra.lines, extra.why),
                );
            } else {
                verdicts.fail(
                    &mut case,
                    format!("privsep no longer prints the extra lines {missing:?}"),
                );
            }
        }
        // Beyond iputils: whatever a row prints, privsep puts no escape
        // sequence on a terminal (only the tab, -a's bell, -f's backspace
        // and the carriage return before SIGQUIT's status line among the
        // control characters).
        let raw = control_lines(privsep, &['\t', '\r', '\x07', '\x08']);
        if !raw.is_empty() {
            verdicts.fail(
                &mut case,
                format!("privsep printed control characters: {raw:?}"),
            );
        }
        if row.json {
            // JSON Lines: every line of stdout one well-formed JSON value.
            let bad: Vec<&String> = privsep
                .stdout
                .iter()
                .filter(|l| serde_json::from_str::<serde_json::Value>(l).is_err())
                .collect();
            if privsep.stdout.is_empty() || !bad.is_empty() {
                verdicts.fail(
                    &mut case,
                    format!("privsep's -j output is not JSON, one value per line: {bad:?}"),
                );
            }
        }
        let refs: Vec<Reference> = row
            .expectations(datagram, *who)
            .into_iter()
            .zip(references)
            .map(|(expect, outcome)| Reference { expect, outcome })
            .collect();
        verdicts.judge(&mut case, &trimmed, &refs);
        verdicts.close(case, &format!("ping {}", row.args.join(" ")), privsep);
    }
    let summary = format!(
        "parity ({} mode): {} rows, {} invocations (rows x users); {}",
        settings.mode(),
        rows.len(),
        verdicts.cases(),
        verdicts.counts()
    );
    verdicts.finish(&summary, &settings.report);
}
