//! `bench --tool mtr-packet`: probe throughput, the figure the other tools
//! have no equivalent of. Each engine (privsep-mtr-packet as the user,
//! Debian's mtr-packet as the user with its own `cap_net_raw=ep`) gets the
//! same request file on stdin — `PROBES` ICMP probes to 127.0.0.1 — and
//! runs until every probe has answered; probes per second over the whole
//! run (exec to exit), the median of a few runs. Replies other than
//! `reply` (a `probes-exhausted` when more than 1024 are in flight) are
//! counted and reported, never hidden.

#![forbid(unsafe_code)]

use std::path::Path;
use std::time::Duration;

use crate::report::{obj, string, Json, JsonExt, Stats};
use crate::run::{self, As, Tool};

/// Runs per engine.
const RUNS: usize = 5;

/// The throughput of each of `tools`, as JSON objects in their order.
pub fn probe_throughput(tools: &[Tool; 2], who: [As; 2], probes: usize, dir: &Path) -> Vec<Json> {
    let requests = dir.join("mtr-packet-requests.txt");
    let text: String = (1..=probes)
        .map(|t| format!("{t} send-probe ip-4 127.0.0.1 timeout 5\n"))
        .collect();
    if let Err(e) = std::fs::write(&requests, text) {
        let mut o = obj();
        o.push("error", string(format!("{}: {e}", requests.display())));
        return vec![o.clone(), o];
    }
    (0..2)
        .map(|i| {
            let mut rates = Vec::new();
            let mut o = obj();
            let mut other = 0usize;
            for _ in 0..RUNS {
                let mut cmd = run::command(&tools[i].path, &[]);
                match std::fs::File::open(&requests) {
                    Ok(f) => {
                        cmd.stdin(f);
                    }
                    Err(e) => {
                        o.push("error", string(format!("{}: {e}", requests.display())));
                        break;
                    }
                }
                match run::run(cmd, who[i], true, Duration::from_secs(120)) {
                    Ok(out) if out.ok() => {
                        let replies = out.stdout.lines().filter(|l| l.contains(" reply ")).count();
                        other += out.stdout.lines().count() - replies;
                        rates.push(replies as f64 / out.elapsed.as_secs_f64());
                    }
                    Ok(out) => {
                        o.push("error", string(out.failure()));
                        break;
                    }
                    Err(e) => {
                        o.push("error", string(format!("cannot run: {e}")));
                        break;
                    }
                }
            }
            let stats = Stats::of(&rates);
            o.push("probes", Json::from(probes as i64));
            o.push("runs", Json::from(rates.len() as i64));
            o.push(
                "median_probes_per_s",
                stats.median.map_or(Json::Null, Json::from),
            );
            o.push("replies_not_reply", Json::from(other as i64));
            o
        })
        .collect()
}
