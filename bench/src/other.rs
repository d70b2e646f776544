//! `bench --tool arping|clockdiff|mtr-packet`: the same figures as for ping
//! where they apply — start-up, system calls while privileged, the worker's
//! peak RSS — for privsep's other tools against iputils' own (for
//! mtr-packet: Debian's mtr-packet 0.95, in the "iputils" column), and for
//! mtr-packet its probe throughput (`mtr`).
//!
//! arping runs inside the first namespace of a veth pair that
//! `scripts/bench-tool.sh` creates (`scripts/netns-pair.sh`): the bench process itself
//! is started there, so the measured programs are its direct children with
//! nothing in between. clockdiff measures 127.0.0.1. iputils clockdiff runs
//! as root: as a user it cannot `nice(-16)` and stops (Debian ships it with
//! `cap_net_raw` only), while privsep-clockdiff runs as the user.

#![forbid(unsafe_code)]

use std::path::Path;

use crate::measure;
use crate::report::{self, obj, string, Goal, Json, JsonExt, Row};
use crate::run::{self, As, Tool};
use crate::surface;

/// Which tool, and how each side runs it.
pub struct Plan {
    pub name: &'static str,
    /// One run's arguments, for both implementations.
    pub args: Vec<String>,
    /// Who runs iputils' tool.
    pub iputils_as: As,
    /// The capability iputils' binary needs to run as `iputils_as`, if any.
    pub iputils_caps: Option<&'static str>,
}

impl Plan {
    pub fn for_tool(name: &str, user: As) -> Option<Plan> {
        Some(match name {
            "arping" => Plan {
                name: "arping",
                args: ["-c", "1", "-w", "1", "-I", "veth0", "198.18.0.2"]
                    .map(String::from)
                    .to_vec(),
                iputils_as: user,
                iputils_caps: Some("cap_net_raw+ep"),
            },
            "clockdiff" => Plan {
                name: "clockdiff",
                args: vec!["127.0.0.1".to_string()],
                iputils_as: As::Root,
                iputils_caps: None,
            },
            // No arguments: requests come on stdin (null here: start-up is
            // the time to start, find stdin closed and exit). Debian's
            // mtr-packet runs as the user with its own cap_net_raw=ep.
            "mtr-packet" => Plan {
                name: "mtr-packet",
                args: Vec::new(),
                iputils_as: user,
                iputils_caps: Some("cap_net_raw+ep"),
            },
            _ => return None,
        })
    }
}

/// Runs the plan and returns (results, table rows).
/// The three binaries: privsep's launcher and worker, iputils' tool.
pub struct Binaries<'a> {
    pub launcher: &'a Path,
    pub worker: &'a Path,
    pub iputils: &'a Path,
}

pub fn run(
    plan: &Plan,
    bins: &Binaries<'_>,
    user_name: &str,
    user: As,
    runs: usize,
    out_dir: &Path,
) -> (Json, Vec<Row>) {
    let Binaries {
        launcher,
        worker,
        iputils,
    } = *bins;
    let args: Vec<&str> = plan.args.iter().map(String::as_str).collect();
    let tools = [
        Tool {
            name: "privsep",
            path: launcher.to_path_buf(),
        },
        Tool {
            name: "iputils",
            path: iputils.to_path_buf(),
        },
    ];
    let who = [user, plan.iputils_as];
    let mut results = obj();
    results.push("args", Json::from(plan.args.clone()));
    if let Some(caps) = plan.iputils_caps {
        results.push("iputils_capability", string(ensure_caps(iputils, caps)));
    }

    // Start-up.
    let startup = measure::startup_with(&tools, &args, runs, who);
    let mut s = obj();
    for (t, j) in tools.iter().zip(startup) {
        s.push(t.name, j);
    }
    results.push("startup", s);

    // System calls while privileged: up to the worker's exec and up to the
    // capset that empties the permitted set (privsep); iputils until it
    // empties its permitted set, or the whole run if it never does (as
    // root, clockdiff keeps everything).
    let as_user = who.map(|w| match w {
        As::User { .. } => Some(user_name),
        As::Root => None,
    });
    results.push(
        "privileged_syscalls",
        privileged_syscalls(&tools, &args, as_user, plan.name, out_dir),
    );
    // Peak RSS of each image (privsep: launcher, worker; iputils: one).
    results.push("memory", memory(&tools, &args, who));

    // mtr-packet: probes per second, 2000 ICMP probes to 127.0.0.1.
    if plan.name == "mtr-packet" {
        let mut tp = obj();
        for (t, j) in tools
            .iter()
            .zip(crate::mtr::probe_throughput(&tools, who, 2000, out_dir))
        {
            tp.push(t.name, j);
        }
        results.push("probe_throughput", tp);
    }
    results.push("worker", string(worker.display().to_string()));

    let rows = rows(plan.name, &results);
    results.push("table_markdown", string(report::table(&rows)));
    (results, rows)
}

/// The system calls each tool makes while privileged, running `args` under
/// `strace -f -u` as `as_user` (root when `None`): privsep's (the first
/// tool) up to its worker's exec, and each tool's up to the capset that
/// empties its permitted set, or its whole run if it never does. Logs go to
/// `out_dir/strace-NAME-TOOL.log`.
pub fn privileged_syscalls(
    tools: &[Tool; 2],
    args: &[&str],
    as_user: [Option<&str>; 2],
    name: &str,
    out_dir: &Path,
) -> Json {
    let mut sc = obj();
    for (i, t) in tools.iter().enumerate() {
        let log = out_dir.join(format!("strace-{name}-{}.log", t.name));
        let mut o = obj();
        match surface::strace_args(
            &t.path,
            args,
            as_user[i],
            run::bench_lang().as_deref(),
            &log,
        ) {
            Ok((calls, code)) => {
                o.push("log", string(log.display().to_string()));
                o.push(
                    "exit_code",
                    code.map_or(Json::Null, |c| Json::from(c as i64)),
                );
                if i == 0 {
                    o.push(
                        "to_worker_exec",
                        surface::window_json(surface::privileged_window(
                            &calls,
                            surface::End::WorkerExec,
                        )),
                    );
                }
                let until_empty = surface::privileged_window(&calls, surface::End::PermittedEmpty);
                o.push(
                    "until_permitted_empty",
                    surface::window_json(until_empty.as_deref()),
                );
                if until_empty.is_none() {
                    o.push("whole_run_syscalls", Json::from(calls.len() as i64));
                }
            }
            Err(e) => o.push("error", string(format!("strace: {e}"))),
        }
        sc.push(t.name, o);
    }
    sc
}

/// The peak RSS of each image of each tool running `args` as `who`
/// (privsep: launcher, worker; the other: one).
pub fn memory(tools: &[Tool; 2], args: &[&str], who: [As; 2]) -> Json {
    let mut mem = obj();
    for (i, t) in tools.iter().enumerate() {
        let mut o = obj();
        match measure::peak_rss(t, args, who[i]) {
            Ok(img) => {
                o.push(
                    "image_peaks_kib",
                    Json::Array(img.peaks_kib.iter().map(|&k| Json::from(k)).collect()),
                );
                if let Some(last) = img.peaks_kib.last() {
                    o.push("last_image_peak_rss_kib", Json::from(*last));
                }
            }
            Err(e) => o.push("error", string(format!("ptrace: {e}"))),
        }
        mem.push(t.name, o);
    }
    mem
}

fn ensure_caps(bin: &Path, caps: &str) -> String {
    let got = std::process::Command::new("getcap").arg(bin).output();
    let text = got
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    if text.contains("cap_net_raw") {
        return format!("as installed: {}", text.trim());
    }
    match std::process::Command::new("setcap")
        .arg(caps)
        .arg(bin)
        .status()
    {
        Ok(s) if s.success() => format!("set by the bench: {caps}"),
        _ => format!("setcap {caps} failed"),
    }
}

fn rows(name: &str, r: &Json) -> Vec<Row> {
    let row = |label: String, p: Option<f64>, i: Option<f64>, decimals: usize| Row {
        label,
        privsep: p,
        iputils: i,
        decimals,
        goal: None,
    };
    // The targets are iputils' tools' (mtr-packet's reference is mtr's own
    // helper: its figures are shown, not judged).
    let goal = |g: Goal| (name != "mtr-packet").then_some(g);
    let iputils_priv = r
        .num("privileged_syscalls/iputils/until_permitted_empty/syscalls")
        .or_else(|| r.num("privileged_syscalls/iputils/whole_run_syscalls"));
    let mut rows = vec![
        Row {
            goal: goal(Goal::AtMost(1.00)),
            ..row(
                format!("{name} start-up, median (ms)"),
                r.num("startup/privsep/median_ms"),
                r.num("startup/iputils/median_ms"),
                3,
            )
        },
        row(
            format!("{name} syscalls until the permitted set is empty"),
            r.num("privileged_syscalls/privsep/until_permitted_empty/syscalls"),
            iputils_priv,
            0,
        ),
        row(
            format!("{name} syscalls exec to worker exec (privsep)"),
            r.num("privileged_syscalls/privsep/to_worker_exec/syscalls"),
            None,
            0,
        ),
        Row {
            goal: goal(Goal::AtMost(0.80)),
            ..row(
                format!("{name} worker peak RSS (KiB)"),
                r.num("memory/privsep/last_image_peak_rss_kib"),
                r.num("memory/iputils/last_image_peak_rss_kib"),
                0,
            )
        },
    ];
    if r.num("probe_throughput/privsep/probes").is_some() {
        rows.push(row(
            format!("{name} probes per second to 127.0.0.1, median"),
            r.num("probe_throughput/privsep/median_probes_per_s"),
            r.num("probe_throughput/iputils/median_probes_per_s"),
            0,
        ));
    }
    rows
}
