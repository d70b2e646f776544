//! `bench --tool fping`: a sweep of hundreds of addresses, alive and dead,
//! by privsep-fping and Debian's fping (in the "iputils" column) at the
//! same pacing: wall time of the whole sweep, the privileged system calls
//! and the peak RSS of each image.
//!
//! The bench process runs inside the first namespace of a pair that
//! `scripts/bench-tool.sh` creates ([`SETUP`]), whose peer answers every address of
//! 198.18.31.0/24 (a local route) and drops 198.18.32.0/24 (a blackhole):
//! [`ALIVE`] live targets and [`DEAD`] dead ones, nothing off the machine.
//! Both tools run as the test user, Debian's fping with the
//! `cap_net_raw=ep` its postinst gives it. A run counts when it exits 1
//! (some targets dead) with every live target answered and every dead one
//! lost, so that a faster run that skipped targets is no figure.

#![forbid(unsafe_code)]

use std::path::Path;
use std::time::Duration;

use crate::report::{obj, string, Json, JsonExt, Row, Stats};
use crate::run::{self, As, Tool};

/// The namespaces of the sweep ([`crate::setup_of`]): a veth pair whose
/// peer answers every address of 198.18.31.0/24 (a local route) and drops
/// 198.18.32.0/24 (a blackhole), both routed there.
pub const SETUP: &[&str] = &[
    "pair",
    "route b local 198.18.31.0/24 dev lo",
    "route b blackhole 198.18.32.0/24",
    "route a 198.18.31.0/24 via 198.18.0.2",
    "route a 198.18.32.0/24 via 198.18.0.2",
];

/// Live targets, 198.18.31.1 on.
pub const ALIVE: usize = 200;
/// Dead targets, 198.18.32.1 on.
pub const DEAD: usize = 100;

/// The two sweeps: a name, and the options before the targets.
/// `count`: Zabbix's form (-C, -p, -t, -i; 3 probes a target at 200 ms,
/// one probe every millisecond overall); `default`: one probe a target with
/// one retry, as `-a`/`-u` scripts sweep a network.
pub const SWEEPS: [(&str, &[&str]); 2] = [
    (
        "count",
        &["-C", "3", "-p", "200", "-t", "300", "-i", "1", "-q"],
    ),
    ("default", &["-r", "1", "-t", "200", "-i", "1", "-a"]),
];

fn targets() -> Vec<String> {
    (1..=ALIVE)
        .map(|i| format!("198.18.31.{i}"))
        .chain((1..=DEAD).map(|i| format!("198.18.32.{i}")))
        .collect()
}

/// One sweep's full argument list.
pub fn args_of(options: &[&str]) -> Vec<String> {
    options
        .iter()
        .map(|s| s.to_string())
        .chain(targets())
        .collect()
}

/// Live targets a run reports: `-C`'s vectors with a time (stderr), or
/// `-a`'s lines (stdout).
pub fn answered(stdout: &str, stderr: &str) -> usize {
    let vectors = stderr
        .lines()
        .filter(|l| {
            l.split_once(" : ")
                .is_some_and(|(_, v)| v.split(' ').any(|t| t != "-"))
        })
        .count();
    vectors + stdout.lines().filter(|l| !l.trim().is_empty()).count()
}

/// Wall time of `runs` sweeps per tool, interleaved (the order flips every
/// round), after a warm-up round.
fn sweep(tools: &[Tool; 2], args: &[&str], runs: usize, who: As) -> Vec<Json> {
    let mut samples: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut failures: [Vec<String>; 2] = [Vec::new(), Vec::new()];
    for round in 0..=runs {
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            let cmd = run::command(&tools[i].path, args);
            match run::run(cmd, who, true, Duration::from_secs(60)) {
                Ok(_) if round == 0 => {}
                Ok(o) if o.code == Some(1) && answered(&o.stdout, &o.stderr) == ALIVE => {
                    samples[i].push(o.elapsed.as_secs_f64() * 1e3)
                }
                Ok(o) => failures[i].push(format!(
                    "{} ({} of {ALIVE} live targets answered)",
                    o.failure(),
                    answered(&o.stdout, &o.stderr)
                )),
                Err(e) => failures[i].push(format!("cannot run: {e}")),
            }
        }
    }
    (0..2)
        .map(|i| {
            let mut o = Stats::of(&samples[i]).to_json("ms");
            o.push("failed_runs", Json::from(failures[i].len() as i64));
            if let Some(f) = failures[i].first() {
                o.push("error", string(f));
            }
            o
        })
        .collect()
}

/// Runs the sweeps and the surface and memory figures; returns (results,
/// table rows).
pub fn run(
    tools: &[Tool; 2],
    user_name: &str,
    user: As,
    runs: usize,
    out_dir: &Path,
) -> (Json, Vec<Row>) {
    let mut results = obj();
    results.push("alive_targets", Json::from(ALIVE as i64));
    results.push("dead_targets", Json::from(DEAD as i64));
    let mut sweeps = obj();
    for (name, options) in SWEEPS {
        let args = args_of(options);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut o = obj();
        o.push("options", Json::from(options.join(" ")));
        for (t, j) in tools.iter().zip(sweep(tools, &args, runs, user)) {
            o.push(t.name, j);
        }
        sweeps.push(name, o);
    }
    results.push("sweep", sweeps);

    // The privileged system calls of the count sweep: privsep's up to its
    // worker's exec and up to the capset that empties the permitted set;
    // fping never drops its capability, so its whole run.
    let args = args_of(SWEEPS[0].1);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    results.push(
        "privileged_syscalls",
        crate::other::privileged_syscalls(
            tools,
            &args,
            [Some(user_name), Some(user_name)],
            "fping",
            out_dir,
        ),
    );
    // Peak RSS of each image over the count sweep.
    results.push("memory", crate::other::memory(tools, &args, [user, user]));
    let rows = rows(&results);
    (results, rows)
}

fn rows(r: &Json) -> Vec<Row> {
    let row = |label: String, p: Option<f64>, i: Option<f64>, decimals: usize| Row {
        label,
        privsep: p,
        iputils: i,
        decimals,
        goal: None,
    };
    let mut rows = Vec::new();
    for (name, options) in SWEEPS {
        rows.push(row(
            format!(
                "fping sweep {ALIVE} alive + {DEAD} dead, {}: median wall (ms)",
                options.join(" ")
            ),
            r.num(&format!("sweep/{name}/privsep/median_ms")),
            r.num(&format!("sweep/{name}/iputils/median_ms")),
            1,
        ));
    }
    let fping_priv = r
        .num("privileged_syscalls/iputils/until_permitted_empty/syscalls")
        .or_else(|| r.num("privileged_syscalls/iputils/whole_run_syscalls"));
    rows.push(row(
        "fping syscalls until the permitted set is empty (fping: never, its whole run)".into(),
        r.num("privileged_syscalls/privsep/until_permitted_empty/syscalls"),
        fping_priv,
        0,
    ));
    rows.push(row(
        "fping syscalls exec to worker exec (privsep)".into(),
        r.num("privileged_syscalls/privsep/to_worker_exec/syscalls"),
        None,
        0,
    ));
    rows.push(row(
        "fping peak RSS of the last image over the count sweep (KiB)".into(),
        r.num("memory/privsep/last_image_peak_rss_kib"),
        r.num("memory/iputils/last_image_peak_rss_kib"),
        0,
    ));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answered_counts_vectors_with_a_time_and_alive_lines() {
        let stderr = "198.18.31.1 : 0.04 - 0.05\n198.18.32.1 : - - -\n\n";
        assert_eq!(answered("", stderr), 1);
        assert_eq!(answered("198.18.31.1\n198.18.31.2\n", ""), 2);
        assert_eq!(args_of(&["-q"]).len(), 1 + ALIVE + DEAD);
    }
}
