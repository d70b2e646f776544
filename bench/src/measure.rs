//! The run-time measurements: start-up, throughput, RTT as each tool reports
//! it, and peak RSS per process image (read under ptrace).

#![forbid(unsafe_code)]

use std::fs;
use std::io;
use std::time::Duration;

use crate::report::{obj, string, Json, JsonExt, Stats};
use crate::run::{self, As, Tool};
use crate::sys::{self, Wait};

/// Start-up: `-c 1 DEST`, `runs` times per tool, interleaved (the order
/// flips every round so neither tool always runs on a warmer cache).
/// Returns one JSON object per tool, in `tools` order.
pub fn startup(tools: &[Tool; 2], dest: &str, runs: usize, who: As) -> Vec<Json> {
    startup_with(tools, &["-c", "1", dest], runs, [who, who])
}

/// Start-up of one run of `args`, `runs` times per tool, interleaved, each
/// tool as its own `who`.
pub fn startup_with(tools: &[Tool; 2], args: &[&str], runs: usize, who: [As; 2]) -> Vec<Json> {
    let mut samples: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut failures: [Vec<String>; 2] = [Vec::new(), Vec::new()];
    let mut failed: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let warmup = 5.min(runs);
    for round in 0..(warmup + runs) {
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            let cmd = run::command(&tools[i].path, args);
            match run::run(cmd, who[i], false, Duration::from_secs(10)) {
                Ok(o) if round < warmup => drop(o),
                Ok(o) if o.ok() => samples[i].push(o.elapsed.as_secs_f64() * 1e3),
                Ok(o) => {
                    failed[i].push(o.elapsed.as_secs_f64() * 1e3);
                    failures[i].push(o.failure());
                }
                Err(e) => failures[i].push(format!("cannot run: {e}")),
            }
        }
    }
    (0..2)
        .map(|i| {
            let mut obj = Stats::of(&samples[i]).to_json("ms");
            obj.push("failed_runs", Json::from(failures[i].len() as i64));
            if let Some(f) = failures[i].first() {
                // Failed runs (e.g. a worker that exits early) are no
                // start-up figure, but their time still bounds it from below.
                obj.push("error", string(f));
                obj.push(
                    "failed_runs_median_ms",
                    Stats::of(&failed[i]).median.map_or(Json::Null, Json::from),
                );
            }
            obj
        })
        .collect()
}

/// The figures `ping` prints in its summary.
#[derive(Debug, Default, Clone, Copy)]
pub struct Summary {
    pub transmitted: Option<u64>,
    pub received: Option<u64>,
    /// The `time NNNms` of the summary line.
    pub time_ms: Option<f64>,
    /// min/avg/max/mdev of the `rtt` line.
    pub rtt: Option<[f64; 4]>,
}

/// Parses iputils' summary (privsep prints the same, by design).
pub fn parse_summary(out: &str) -> Summary {
    let mut s = Summary::default();
    for line in out.lines() {
        if line.contains("packets transmitted") {
            for part in line.split(',') {
                let part = part.trim();
                let num = || {
                    part.split_whitespace()
                        .next()
                        .and_then(|n| n.parse::<u64>().ok())
                };
                if part.ends_with("packets transmitted") {
                    s.transmitted = num();
                } else if part.ends_with("received") {
                    s.received = num();
                } else if let Some(t) = part.strip_prefix("time ") {
                    s.time_ms = t.trim_end_matches("ms").parse().ok();
                }
            }
        } else if let Some(rest) = line
            .split_once(" = ")
            .filter(|(k, _)| k.starts_with("rtt") || k.starts_with("round-trip"))
        {
            let nums: Vec<f64> = rest
                .1
                .split_whitespace()
                .next()
                .unwrap_or("")
                .split('/')
                .filter_map(|n| n.parse().ok())
                .collect();
            if nums.len() == 4 {
                s.rtt = Some([nums[0], nums[1], nums[2], nums[3]]);
            }
        }
    }
    s
}

/// Every `time=X ms` of the per-reply lines, in ms.
pub fn parse_reply_times(out: &str) -> Vec<f64> {
    out.lines()
        .filter_map(|l| {
            l.split_once("time=")
                .and_then(|(_, t)| t.split_whitespace().next()?.parse().ok())
        })
        .collect()
}

/// Throughput: `args` (a flood or a fast interval) to `dest`, `runs` times per
/// tool, interleaved; packets/s = received / (exec → exit wall time).
pub fn throughput(
    tools: &[Tool; 2],
    args: &[&str],
    runs: usize,
    who: As,
    timeout: Duration,
) -> Vec<Json> {
    let mut pps: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut raw: [Vec<Json>; 2] = [Vec::new(), Vec::new()];
    let mut failures: [Vec<String>; 2] = [Vec::new(), Vec::new()];
    for round in 0..runs {
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            let cmd = run::command(&tools[i].path, args);
            match run::run(cmd, who, true, timeout) {
                Ok(o) => {
                    let s = parse_summary(&o.stdout);
                    let wall = o.elapsed.as_secs_f64();
                    let mut r = obj();
                    r.push(
                        "exit_code",
                        o.code.map_or(Json::Null, |c| Json::from(c as i64)),
                    );
                    r.push("wall_s", Json::from(wall));
                    r.push(
                        "transmitted",
                        s.transmitted.map_or(Json::Null, |n| Json::from(n as i64)),
                    );
                    r.push(
                        "received",
                        s.received.map_or(Json::Null, |n| Json::from(n as i64)),
                    );
                    r.push("reported_time_ms", s.time_ms.map_or(Json::Null, Json::from));
                    match s.received {
                        // Exit 1 only means some reply was lost: still a figure.
                        Some(n) if matches!(o.code, Some(0 | 1)) && n > 0 => {
                            let v = n as f64 / wall;
                            r.push("packets_per_s", Json::from(v));
                            pps[i].push(v);
                        }
                        _ => failures[i].push(o.failure()),
                    }
                    raw[i].push(r);
                }
                Err(e) => failures[i].push(format!("cannot run: {e}")),
            }
        }
    }
    (0..2)
        .map(|i| {
            let st = Stats::of(&pps[i]);
            let mut obj = obj();
            obj.push(
                "packets_per_s_median",
                st.median.map_or(Json::Null, Json::from),
            );
            // The spread of the runs: the table shows it as the noise.
            obj.push("packets_per_s_min", st.min.map_or(Json::Null, Json::from));
            obj.push("packets_per_s_max", st.max.map_or(Json::Null, Json::from));
            obj.push("runs", Json::Array(std::mem::take(&mut raw[i])));
            obj.push("failed_runs", Json::from(failures[i].len() as i64));
            if let Some(f) = failures[i].first() {
                obj.push("error", string(f));
            }
            obj
        })
        .collect()
}

/// RTT accuracy: the median of the per-reply `time=` each tool prints.
pub fn rtt(tools: &[Tool; 2], args: &[&str], who: As) -> Vec<Json> {
    tools
        .iter()
        .map(|t| {
            let mut obj = obj();
            match run::run(
                run::command(&t.path, args),
                who,
                true,
                Duration::from_secs(120),
            ) {
                Ok(o) if matches!(o.code, Some(0 | 1)) => {
                    let times = parse_reply_times(&o.stdout);
                    let st = Stats::of(&times);
                    obj.push("median_rtt_ms", st.median.map_or(Json::Null, Json::from));
                    obj.push("p90_rtt_ms", st.p90.map_or(Json::Null, Json::from));
                    obj.push("replies", Json::from(times.len() as i64));
                    let s = parse_summary(&o.stdout);
                    obj.push(
                        "reported_min_avg_max_mdev_ms",
                        s.rtt.map_or(Json::Null, |r| {
                            Json::Array(r.iter().map(|&v| Json::from(v)).collect())
                        }),
                    );
                    if times.is_empty() {
                        obj.push("error", Json::from("no `time=` in the output"));
                    }
                }
                Ok(o) => {
                    obj.push("median_rtt_ms", Json::Null);
                    obj.push("error", string(o.failure()));
                }
                Err(e) => {
                    obj.push("median_rtt_ms", Json::Null);
                    obj.push("error", string(format!("cannot run: {e}")));
                }
            }
            obj
        })
        .collect()
}

/// Peak RSS of each image one process runs.
#[derive(Debug, Default)]
pub struct Images {
    /// VmHWM (KiB) of every image, read at its `execve` entry (for all but
    /// the last) and at the exit stop (the last).
    pub peaks_kib: Vec<u64>,
    /// The memory lines of /proc/PID/status at the same instants (KiB):
    /// where the RSS is (anonymous vs file-backed, i.e. mostly code).
    pub status: Vec<Json>,
    /// wait4's ru_maxrss: the max over every image, *including* the fork of
    /// the harness that preceded the first exec; a cross-check only.
    pub maxrss_kib: u64,
    pub exit: Option<Wait>,
}

/// VmHWM and the other memory lines of /proc/PID/status, in KiB.
fn memory_status(pid: u32) -> io::Result<(u64, Json)> {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))?;
    let mut obj = obj();
    let mut hwm = None;
    for line in status.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        if ![
            "VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem", "VmData", "VmStk", "VmExe",
            "VmLib", "VmPTE",
        ]
        .contains(&key)
        {
            continue;
        }
        if let Ok(kib) = value.trim().trim_end_matches("kB").trim().parse::<u64>() {
            obj.push(key, Json::from(kib as i64));
            if key == "VmHWM" {
                hwm = Some(kib);
            }
        }
    }
    let hwm = hwm.ok_or_else(|| io::Error::other("no VmHWM in /proc/PID/status"))?;
    Ok((hwm, obj))
}

/// Runs `args` under a minimal ptrace of our own and reads `VmHWM` (the
/// high-water RSS of the current address space, which exec replaces) at
/// each `execve` entry and at the exit stop. Syscall stops are used only
/// until the first exec of the traced program itself, then the tracee runs
/// freely (PTRACE_CONT) up to its exit. strace is not used here because it
/// cannot read /proc at the right instant.
pub fn peak_rss(tool: &Tool, args: &[&str], who: As) -> io::Result<Images> {
    let mut cmd = run::command(&tool.path, args);
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    sys::before_exec(&mut cmd, true, who.ids(), None);
    let child = cmd.spawn()?;
    let pid = child.id();
    // `child` is never waited on through std: its wait would see ptrace stops.
    let guard = run::watchdog().arm(pid, Duration::from_secs(60));
    let result = trace(pid);
    if result.is_err() {
        // Leave no stopped tracee behind.
        let _ = sys::send_signal(pid, sys::SIGKILL);
        while let Ok((Wait::Stopped { .. }, _)) = sys::wait_pid(pid) {
            let _ = sys::ptrace_resume(pid, false, 0);
        }
    }
    drop(guard);
    result
}

fn trace(pid: u32) -> io::Result<Images> {
    let mut images = Images::default();
    // The first stop is the SIGTRAP after the exec into the tool.
    match sys::wait_pid(pid)?.0 {
        Wait::Stopped {
            sig: sys::SIGTRAP, ..
        } => {}
        other => {
            return Err(io::Error::other(format!(
                "tracee did not stop at exec: {other:?}"
            )))
        }
    }
    sys::ptrace_options(
        pid,
        sys::PTRACE_O_TRACESYSGOOD
            | sys::PTRACE_O_TRACEEXEC
            | sys::PTRACE_O_TRACEEXIT
            | sys::PTRACE_O_EXITKILL,
    )?;
    let mut stepping = true;
    let mut pending = None;
    sys::ptrace_resume(pid, stepping, 0)?;
    loop {
        let (w, maxrss) = sys::wait_pid(pid)?;
        match w {
            Wait::Exited(_) | Wait::Signaled(_) => {
                images.exit = Some(w);
                images.maxrss_kib = maxrss;
                return Ok(images);
            }
            Wait::Stopped { sig, event } => {
                let mut deliver = 0;
                if sig == sys::SIGTRAP | 0x80 {
                    if let Some(nr) = sys::ptrace_syscall_entry(pid)? {
                        if sys::EXEC_SYSCALLS.contains(&nr) {
                            // Still the old image: its high-water mark is final
                            // if the exec succeeds.
                            pending = Some(memory_status(pid)?);
                            stepping = false;
                        }
                    }
                } else if sig == sys::SIGTRAP && event == sys::PTRACE_EVENT_EXIT {
                    let (hwm, status) = memory_status(pid)?;
                    images.peaks_kib.push(hwm);
                    images.status.push(status);
                } else if sig == sys::SIGTRAP && event == sys::PTRACE_EVENT_EXEC {
                    if let Some((hwm, status)) = pending.take() {
                        images.peaks_kib.push(hwm);
                        images.status.push(status);
                    }
                } else {
                    deliver = sig;
                }
                sys::ptrace_resume(pid, stepping, deliver)?;
            }
        }
    }
}

/// Where privsep's start-up goes: for `runs` runs of `-c 1 DEST`, the time
/// from the launcher's exec to the worker's exec (the launcher's share) and
/// from there to the exit (the worker's share). A ptrace exec-event stop
/// marks the boundary, so each run pays two extra stops (tens of µs); the
/// split is for finding the cost, the start-up figure itself is untraced.
pub fn startup_split(tool: &Tool, dest: &str, runs: usize, who: As) -> Json {
    let mut launcher = Vec::new();
    let mut worker = Vec::new();
    let mut error = None;
    for _ in 0..runs {
        match split_once(tool, dest, who) {
            Ok((l, w)) => {
                launcher.push(l);
                worker.push(w);
            }
            Err(e) => error = Some(e.to_string()),
        }
    }
    let mut o = obj();
    o.push("runs", Json::from(launcher.len() as i64));
    o.push(
        "launcher_median_ms",
        Stats::of(&launcher).median.map_or(Json::Null, Json::from),
    );
    o.push(
        "worker_median_ms",
        Stats::of(&worker).median.map_or(Json::Null, Json::from),
    );
    if let Some(e) = error {
        o.push("error", string(&e));
    }
    o
}

fn split_once(tool: &Tool, dest: &str, who: As) -> io::Result<(f64, f64)> {
    use std::io::Read;
    let (stamp_read, stamp_write) = sys::pipe()?;
    let mut cmd = run::command(&tool.path, &["-c", "1", dest]);
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    sys::before_exec(&mut cmd, true, who.ids(), Some(&stamp_write));
    let child = cmd.spawn()?;
    drop(cmd);
    drop(stamp_write);
    let pid = child.id();
    let guard = run::watchdog().arm(pid, Duration::from_secs(10));
    let result = (|| -> io::Result<(f64, f64)> {
        match sys::wait_pid(pid)?.0 {
            Wait::Stopped {
                sig: sys::SIGTRAP, ..
            } => {}
            other => {
                return Err(io::Error::other(format!(
                    "tracee did not stop at exec: {other:?}"
                )))
            }
        }
        sys::ptrace_options(pid, sys::PTRACE_O_TRACEEXEC | sys::PTRACE_O_EXITKILL)?;
        sys::ptrace_resume(pid, false, 0)?;
        let mut worker_exec = None;
        loop {
            let (w, _) = sys::wait_pid(pid)?;
            match w {
                Wait::Stopped {
                    sig: sys::SIGTRAP,
                    event: sys::PTRACE_EVENT_EXEC,
                } => {
                    worker_exec.get_or_insert(sys::monotonic_ns());
                    sys::ptrace_resume(pid, false, 0)?;
                }
                Wait::Stopped { sig, .. } => sys::ptrace_resume(pid, false, sig)?,
                Wait::Exited(0) => break,
                other => return Err(io::Error::other(format!("run failed: {other:?}"))),
            }
        }
        let end = sys::monotonic_ns();
        let mut stamp = [0u8; 8];
        std::fs::File::from(stamp_read).read_exact(&mut stamp)?;
        let start = u64::from_ne_bytes(stamp);
        let mid = worker_exec.ok_or_else(|| io::Error::other("the worker was never executed"))?;
        Ok((
            mid.saturating_sub(start) as f64 / 1e6,
            end.saturating_sub(mid) as f64 / 1e6,
        ))
    })();
    if result.is_err() {
        let _ = sys::send_signal(pid, sys::SIGKILL);
        while let Ok((Wait::Stopped { .. }, _)) = sys::wait_pid(pid) {
            let _ = sys::ptrace_resume(pid, false, 0);
        }
    }
    drop(guard);
    result
}
