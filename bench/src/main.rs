//! `make bench`: privsep-ping against iputils `ping`, side by side, in one
//! run on one machine. Prints a Markdown table of both tools'
//! figures and their ratio, and writes every raw figure to a JSON file.
//!
//! Run by `mk/bench.mk` as root, once per tool (`scripts/bench-tool.sh`),
//! after installing privsep into its own prefix. Counts come from the environment so that development can use a
//! quick mode: `BENCH_QUICK=1`, or `BENCH_STARTUP_RUNS`, `BENCH_FLOOD_COUNT`,
//! `BENCH_FLOOD_RUNS`, `BENCH_INTERVAL_COUNT`, `BENCH_RTT_COUNT`,
//! `BENCH_SWEEP_RUNS` (fping's sweeps).

#![deny(unsafe_code)]

mod datagram;
mod fping;
mod measure;
mod mtr;
mod other;
mod report;
mod run;
mod surface;
#[allow(unsafe_code)]
mod sys;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use report::{obj, string, Goal, Json, JsonExt, Row};
use run::{As, Tool};

/// How many of everything; the defaults are the full run's (docs/performance.md).
#[derive(Debug)]
struct Counts {
    quick: bool,
    startup_runs: usize,
    flood_count: usize,
    flood_runs: usize,
    interval_count: usize,
    rtt_count: usize,
    /// fping's sweeps per tool (each a second or so).
    sweep_runs: usize,
}

impl Counts {
    fn from_env() -> Result<Counts, String> {
        let quick = std::env::var("BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
        let get = |name: &str, full: usize, fast: usize| -> Result<usize, String> {
            match std::env::var(name) {
                Ok(v) => v
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| format!("{name}={v}: not a positive number")),
                Err(_) => Ok(if quick { fast } else { full }),
            }
        };
        Ok(Counts {
            quick,
            startup_runs: get("BENCH_STARTUP_RUNS", 200, 20)?,
            flood_count: get("BENCH_FLOOD_COUNT", 100_000, 20_000)?,
            flood_runs: get("BENCH_FLOOD_RUNS", 5, 3)?,
            interval_count: get("BENCH_INTERVAL_COUNT", 5_000, 100)?,
            rtt_count: get("BENCH_RTT_COUNT", 200, 50)?,
            sweep_runs: get("BENCH_SWEEP_RUNS", 10, 3)?,
        })
    }

    fn to_json(&self) -> Json {
        let mut o = obj();
        o.push("quick", Json::Bool(self.quick));
        o.push(
            "startup_runs_per_tool",
            Json::from(self.startup_runs as i64),
        );
        o.push("flood_count", Json::from(self.flood_count as i64));
        o.push("flood_runs_per_tool", Json::from(self.flood_runs as i64));
        o.push("interval_count", Json::from(self.interval_count as i64));
        o.push("rtt_count", Json::from(self.rtt_count as i64));
        o.push("sweep_runs_per_tool", Json::from(self.sweep_runs as i64));
        o
    }
}

/// Command-line options (set by scripts/bench-tool.sh).
struct Args {
    launcher: PathBuf,
    worker: PathBuf,
    iputils: PathBuf,
    user: String,
    release: PathBuf,
    workspace: PathBuf,
    out: PathBuf,
    /// `ping` (the full bench) or another tool (`bench::other`).
    tool: String,
    /// `--setup`: print what the tool's run needs prepared ([`setup_of`]).
    setup: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        launcher: PathBuf::from("/tmp/privsep-bench/bin/privsep-ping"),
        worker: PathBuf::from("/tmp/privsep-bench/libexec/privsep/ping-worker"),
        iputils: PathBuf::from("/usr/bin/ping"),
        user: "privsep-test".into(),
        release: PathBuf::new(),
        workspace: std::env::current_dir().map_err(|e| e.to_string())?,
        out: PathBuf::from("target/bench/results.json"),
        tool: "ping".into(),
        setup: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--launcher" => a.launcher = value()?.into(),
            "--worker" => a.worker = value()?.into(),
            "--iputils" => a.iputils = value()?.into(),
            "--user" => a.user = value()?,
            "--release-dir" => a.release = value()?.into(),
            "--workspace" => a.workspace = value()?.into(),
            "--out" => a.out = value()?.into(),
            "--tool" => a.tool = value()?,
            "--setup" => a.setup = true,
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(a)
}

/// Trimmed stdout of a command, or a note saying why there is none.
fn capture(program: &str, args: &[&str]) -> String {
    match Command::new(program).args(args).output() {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        Ok(o) => format!(
            "({program} failed: {})",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => format!("({program}: {e})"),
    }
}

fn user_ids(user: &str) -> Result<(u32, u32), String> {
    let uid = capture("id", &["-u", user])
        .parse()
        .map_err(|_| format!("no user {user} (scripts/test-user.sh creates it)"))?;
    let gid = capture("id", &["-g", user])
        .parse()
        .map_err(|_| format!("no group for user {user}"))?;
    Ok((uid, gid))
}

/// iputils must hold its usual file capability, as Debian's postinst sets it;
/// if it does not (and is not setuid either), set it the same way.
fn ensure_iputils_capability(ping: &Path) -> Result<Json, String> {
    use std::os::unix::fs::PermissionsExt;
    let meta = fs::metadata(ping)
        .map_err(|e| format!("{}: {e} (install iputils-ping)", ping.display()))?;
    let path = ping.to_string_lossy().to_string();
    let before = capture("getcap", &[&path]);
    let mut o = obj();
    let setuid = meta.permissions().mode() & 0o4000 != 0;
    if !before.contains("cap_net_raw") && !setuid {
        let status = Command::new("setcap")
            .args(["cap_net_raw+ep", &path])
            .status()
            .map_err(|e| format!("setcap: {e}"))?;
        if !status.success() {
            return Err(format!("setcap cap_net_raw+ep {path} failed"));
        }
        o.push("set_by_bench", Json::Bool(true));
    } else {
        o.push("set_by_bench", Json::Bool(false));
    }
    o.push("getcap", string(capture("getcap", &[&path])));
    o.push("setuid", Json::Bool(setuid));
    Ok(o)
}

fn meta(args: &Args) -> Json {
    let ws = args.workspace.to_string_lossy().to_string();
    let mut o = obj();
    o.push(
        "commit",
        string(capture("git", &["-C", &ws, "rev-parse", "HEAD"])),
    );
    let dirty = capture(
        "git",
        &[
            "-C",
            &ws,
            "status",
            "--porcelain",
            "--",
            "launcher",
            "worker",
            "policy",
            "Cargo.lock",
        ],
    );
    o.push(
        "uncommitted_changes_in_launcher_worker_policy",
        Json::Bool(!dirty.is_empty()),
    );
    o.push(
        "date_utc",
        string(capture("date", &["-u", "+%Y-%m-%dT%H:%M:%SZ"])),
    );
    o.push("kernel", string(capture("uname", &["-r"])));
    o.push(
        "iputils_version",
        string(capture(
            "dpkg-query",
            &["-W", "-f", "${Version}", "iputils-ping"],
        )),
    );
    o.push("rustc", string(capture("rustc", &["-V"])));
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
            })
        })
        .unwrap_or_default();
    o.push("cpu", string(&cpu));
    o.push(
        "cpus",
        Json::from(std::thread::available_parallelism().map_or(0, |n| n.get() as i64)),
    );
    let read = |p: &str| {
        fs::read_to_string(p)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    o.push("loadavg_at_start", string(read("/proc/loadavg")));
    // "1 0" means no ICMP datagram sockets for users: both tools use raw ones.
    o.push(
        "ping_group_range",
        string(read("/proc/sys/net/ipv4/ping_group_range").replace('\t', " ")),
    );
    o.push(
        "LANG_of_runs",
        run::bench_lang().map_or(Json::Null, |l| string(&l)),
    );
    o.push(
        "launcher_getcap",
        string(capture("getcap", &[&args.launcher.to_string_lossy()])),
    );
    o
}

fn progress(what: &str) {
    eprintln!("bench: {what}");
}

fn main() {
    if let Err(e) = real_main() {
        eprintln!("bench: {e}");
        std::process::exit(2);
    }
}

/// What `scripts/bench-tool.sh` prepares before it starts the bench for
/// `tool` (`bench --tool T --setup` prints it, one line each): nothing
/// (the host's namespaces: the loopback), or `pair` (the bench runs in the
/// first namespace of a veth pair of its own, `scripts/netns-pair.sh`:
/// veth0 198.18.0.1, its peer 198.18.0.2), then `route a|b ROUTE…` (`ip
/// route add ROUTE…` in the first or the second namespace). A tool the
/// bench has no plan for is an error, so that `make bench` stops at it
/// rather than skip it.
fn setup_of(tool: &str) -> Result<&'static [&'static str], String> {
    Ok(match tool {
        "ping" | "clockdiff" | "mtr-packet" => &[],
        // The bench process itself runs there, so arping is its direct
        // child with nothing in between.
        "arping" => &["pair"],
        "fping" => fping::SETUP,
        _ => return Err(format!("--tool {tool}: not a tool the bench knows")),
    })
}

fn real_main() -> Result<(), String> {
    let args = parse_args()?;
    if args.setup {
        for line in setup_of(&args.tool)? {
            println!("{line}");
        }
        return Ok(());
    }
    let counts = Counts::from_env()?;
    if !sys::is_root() {
        return Err(
            "must run as root (it sets iputils' capability, floods, and runs strace -u)".into(),
        );
    }
    for p in [&args.launcher, &args.worker] {
        fs::metadata(p).map_err(|e| format!("{}: {e} (run through `make bench`)", p.display()))?;
    }
    let (uid, gid) = user_ids(&args.user)?;
    let user = As::User { uid, gid };
    if args.tool != "ping" {
        return other_tool(&args, &counts, user);
    }
    let iputils_cap = ensure_iputils_capability(&args.iputils)?;
    let tools = [
        Tool {
            name: "privsep",
            path: args.launcher.clone(),
        },
        Tool {
            name: "iputils",
            path: args.iputils.clone(),
        },
    ];
    let out_dir = args
        .out
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;

    let mut results = obj();
    let mut m = meta(&args);
    m.push("iputils_capability", iputils_cap);
    m.push("user", string(&args.user));
    results.push("meta", m);
    results.push("config", counts.to_json());
    let pair = |v: Vec<Json>| -> Json {
        let mut o = obj();
        for (t, j) in tools.iter().zip(v) {
            o.push(t.name, j);
        }
        o
    };

    // 5. Binary sizes (cheap, first).
    let mut sizes = obj();
    sizes.push("privsep_launcher", surface::binary_json(&args.launcher));
    sizes.push("privsep_worker", surface::binary_json(&args.worker));
    sizes.push("iputils", surface::binary_json(&args.iputils));
    results.push("binary_sizes", sizes);

    // 4. Privileged attack surface.
    progress("privileged system calls (strace -f -u)");
    let mut surface_json = obj();
    for (t, end) in [
        (&tools[0], surface::End::WorkerExec),
        (&tools[1], surface::End::PermittedEmpty),
    ] {
        let log = out_dir.join(format!("strace-{}.log", t.name));
        let mut o = obj();
        match surface::strace(
            &t.path,
            "127.0.0.1",
            &args.user,
            run::bench_lang().as_deref(),
            &log,
        ) {
            Ok((calls, code)) => {
                o.push("log", string(log.display().to_string()));
                o.push(
                    "exit_code",
                    code.map_or(Json::Null, |c| Json::from(c as i64)),
                );
                o.push(
                    "while_privileged",
                    surface::window_json(surface::privileged_window(&calls, end)),
                );
                // The same cut for both tools: up to the capset that empties
                // the permitted set.
                o.push(
                    "until_permitted_empty",
                    surface::window_json(surface::privileged_window(
                        &calls,
                        surface::End::PermittedEmpty,
                    )),
                );
            }
            Err(e) => o.push("error", string(format!("strace: {e}"))),
        }
        surface_json.push(t.name, o);
    }
    // iputils reads the locale files while privileged; without a locale it
    // makes fewer calls. Recorded so the headline's dependence on LANG shows.
    let log = out_dir.join("strace-iputils-posix-locale.log");
    if let Ok((calls, _)) = surface::strace(&tools[1].path, "127.0.0.1", &args.user, None, &log) {
        let w = surface::privileged_window(&calls, surface::End::PermittedEmpty);
        surface_json.push("iputils_without_LANG", surface::window_json(w));
    }
    results.push("privileged_syscalls", surface_json);
    progress("lines of Rust in the launcher and the crates it links");
    results.push(
        "launcher_lines_of_rust",
        surface::launcher_loc(&args.workspace, &args.release),
    );

    // 1. Start-up.
    let mut startup = obj();
    for dest in ["127.0.0.1", "::1"] {
        progress(&format!(
            "start-up -c 1 {dest}: {} runs each, interleaved",
            counts.startup_runs
        ));
        startup.push(
            dest,
            pair(measure::startup(&tools, dest, counts.startup_runs, user)),
        );
    }
    progress("start-up split: launcher vs worker (ptrace exec event)");
    let split_runs = (counts.startup_runs / 4).max(5);
    startup.push(
        "privsep_split_127.0.0.1",
        measure::startup_split(&tools[0], "127.0.0.1", split_runs, user),
    );
    results.push("startup", startup);

    // 3. Memory.
    progress("peak RSS per process image (-c 5 -i 0.2 127.0.0.1)");
    let mut memory = obj();
    for t in &tools {
        let mut o = obj();
        match measure::peak_rss(t, &["-c", "5", "-i", "0.2", "127.0.0.1"], user) {
            Ok(img) => {
                let exit = match img.exit {
                    Some(sys::Wait::Exited(c)) => Json::from(c as i64),
                    _ => Json::Null,
                };
                o.push("exit_code", exit);
                o.push(
                    "image_peaks_kib",
                    Json::Array(
                        img.peaks_kib
                            .iter()
                            .map(|&k| Json::from(k as i64))
                            .collect(),
                    ),
                );
                o.push("image_status_kib", Json::Array(img.status));
                o.push("wait4_maxrss_kib", Json::from(img.maxrss_kib as i64));
                let named: &[&str] = if t.name == "privsep" {
                    &["launcher", "worker"]
                } else {
                    &["ping"]
                };
                if img.peaks_kib.len() == named.len() {
                    for (n, k) in named.iter().zip(&img.peaks_kib) {
                        o.push(&format!("{n}_peak_rss_kib"), Json::from(*k as i64));
                    }
                } else {
                    o.push(
                        "error",
                        string(format!(
                            "expected {} images, saw {}",
                            named.len(),
                            img.peaks_kib.len()
                        )),
                    );
                }
            }
            Err(e) => o.push("error", string(format!("ptrace: {e}"))),
        }
        memory.push(t.name, o);
    }
    results.push("memory", memory);

    // 6. RTT as each tool reports it.
    let rtt_count = counts.rtt_count.to_string();
    progress(&format!("RTT -c {rtt_count} -i 0.01 127.0.0.1"));
    results.push(
        "rtt",
        pair(measure::rtt(
            &tools,
            &["-c", &rtt_count, "-i", "0.01", "127.0.0.1"],
            user,
        )),
    );

    // 2. Throughput. The flood is CPU-bound and loopback delivers in the
    //    sender's context: left to the scheduler, a run lands either on one
    //    CPU or split across two, and the same tool measures 0.62 s or
    //    0.85 s for 100000 packets. Both tools' floods run pinned to the
    //    same CPU (BENCH_FLOOD_CPU, default the last one; empty: unpinned).
    let mut tp = obj();
    let flood_count = counts.flood_count.to_string();
    let flood_cpu = sys::flood_cpu(std::env::var("BENCH_FLOOD_CPU").ok().as_deref())
        .map_err(|e| e.to_string())?;
    let unpinned = match flood_cpu {
        Some(cpu) => Some(sys::pin_to_cpu(cpu).map_err(|e| format!("pin to CPU {cpu}: {e}"))?),
        None => None,
    };
    tp.push(
        "flood_cpu",
        flood_cpu.map_or(Json::Null, |c| Json::from(c as i64)),
    );
    for dest in ["127.0.0.1", "::1"] {
        progress(&format!(
            "flood -f -c {flood_count} {dest} as root, {} runs each{}",
            counts.flood_runs,
            flood_cpu.map_or(String::new(), |c| format!(", both on CPU {c}"))
        ));
        let v = measure::throughput(
            &tools,
            &["-f", "-c", &flood_count, dest],
            counts.flood_runs,
            As::Root,
            Duration::from_secs(300),
        );
        tp.push(&format!("flood {dest}"), pair(v));
    }
    if let Some(mask) = unpinned {
        sys::restore_affinity(&mask).map_err(|e| format!("restore the CPU mask: {e}"))?;
    }
    let interval_count = counts.interval_count.to_string();
    progress(&format!(
        "-i 0.002 -c {interval_count} 127.0.0.1 as {}",
        args.user
    ));
    let timeout = Duration::from_secs(60 + counts.interval_count as u64 / 50);
    let v = measure::throughput(
        &tools,
        &["-i", "0.002", "-c", &interval_count, "127.0.0.1"],
        1,
        user,
        timeout,
    );
    tp.push("interval 127.0.0.1", pair(v));
    results.push("throughput", tp);

    // 7. Datagram mode, last: it moves this process into a network
    //    namespace of its own (ping_group_range open there).
    progress(&format!(
        "datagram mode, no capability: start-up -c 1 127.0.0.1 ({} runs each), flood -f -c {flood_count} 127.0.0.1 ({} runs each)",
        counts.startup_runs, counts.flood_runs
    ));
    let dgram = datagram::measure(
        &args.launcher,
        &args.iputils,
        counts.startup_runs,
        counts.flood_count,
        counts.flood_runs,
        user,
    )
    .unwrap_or_else(|e| {
        let mut o = obj();
        o.push("error", string(e));
        o
    });
    results.push("datagram", dgram);

    let rows = rows(&results, &counts);
    let mut targets = Vec::new();
    let mut ratios = obj();
    for r in &rows {
        ratios.push(&r.label, r.ratio().map_or(Json::Null, Json::from));
        if r.goal.is_some() {
            let mut t = obj();
            t.push("figure", string(&r.label));
            t.push("ratio", r.ratio().map_or(Json::Null, Json::from));
            t.push("target", string(r.target_text()));
            t.push("verdict", Json::from(r.verdict()));
            targets.push(t);
        }
    }
    results.push("ratios", ratios);
    // The machine may be shared: the load at both ends says how much.
    let load_end = fs::read_to_string("/proc/loadavg")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    if let Some(meta) = results.get_mut("meta") {
        meta.push("loadavg_at_end", Json::from(load_end.as_str()));
    }
    results.push("targets", Json::Array(targets));
    let table = report::table(&rows);
    results.push("table_markdown", string(&table));
    fs::write(&args.out, results.to_pretty())
        .map_err(|e| format!("{}: {e}", args.out.display()))?;

    println!("{table}");
    println!("{}", load_line(&results));
    // Every figure that is missing says why, under the table.
    let sections = [
        "startup/127.0.0.1",
        "startup/::1",
        "throughput/flood 127.0.0.1",
        "throughput/flood ::1",
        "throughput/interval 127.0.0.1",
        "datagram/startup 127.0.0.1",
        "datagram/flood 127.0.0.1",
        "memory",
        "rtt",
        "privileged_syscalls",
    ];
    for section in sections {
        for tool in ["privsep", "iputils"] {
            if let Some(e) = results.text(&format!("{section}/{tool}/error")) {
                let lower_bound = results
                    .num(&format!("{section}/{tool}/failed_runs_median_ms"))
                    .map(|ms| format!(" (failed runs took {ms:.3} ms, median)"))
                    .unwrap_or_default();
                println!("note: {tool} {section}: {e}{lower_bound}");
            }
        }
    }
    if let Some(e) = results.text("datagram/error") {
        println!("note: datagram mode: {e}");
    }
    println!(
        "raw figures: {}{}",
        args.out.display(),
        if counts.quick {
            " (QUICK MODE: counts reduced)"
        } else {
            ""
        }
    );
    Ok(())
}

/// `--tool arping|clockdiff|mtr-packet`: start-up, privileged calls and memory of
/// that tool against iputils' (see `other.rs`).
fn other_tool(args: &Args, counts: &Counts, user: As) -> Result<(), String> {
    if args.tool == "fping" {
        return fping_sweep(args, counts, user);
    }
    let plan = other::Plan::for_tool(&args.tool, user)
        .ok_or_else(|| format!("--tool {}: not a tool the bench knows", args.tool))?;
    let out_dir = out_dir(args)?;
    progress(&format!(
        "{}: start-up ({} runs each), privileged system calls, peak RSS",
        plan.name, counts.startup_runs
    ));
    // Read before the run: its load average at the start is the machine's.
    let m = meta(args);
    let (results, rows) = other::run(
        &plan,
        &other::Binaries {
            launcher: &args.launcher,
            worker: &args.worker,
            iputils: &args.iputils,
        },
        &args.user,
        user,
        counts.startup_runs,
        &out_dir,
    );
    write_results(args, counts, m, results, &rows)
}

/// The directory of `--out`, created.
fn out_dir(args: &Args) -> Result<PathBuf, String> {
    let dir = args
        .out
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

/// `results` with the meta data (`m`, read before the run) and the counts to `--out`, the table on
/// stdout.
fn write_results(
    args: &Args,
    counts: &Counts,
    mut m: Json,
    mut results: Json,
    rows: &[Row],
) -> Result<(), String> {
    let load_end = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    m.push("loadavg_at_end", string(load_end.trim()));
    results.push("meta", m);
    results.push("config", counts.to_json());
    fs::write(&args.out, results.to_pretty())
        .map_err(|e| format!("{}: {e}", args.out.display()))?;
    println!("{}", report::table(rows));
    println!("{}", load_line(&results));
    println!("raw figures: {}", args.out.display());
    Ok(())
}

/// `--tool fping`: the sweeps ([`fping`]), run inside the namespaces
/// [`fping::SETUP`] names.
fn fping_sweep(args: &Args, counts: &Counts, user: As) -> Result<(), String> {
    let out_dir = out_dir(args)?;
    progress(&format!(
        "fping: sweeps of {} targets ({} runs each), privileged system calls, peak RSS",
        fping::ALIVE + fping::DEAD,
        counts.sweep_runs
    ));
    let tools = [
        Tool {
            name: "privsep",
            path: args.launcher.clone(),
        },
        Tool {
            name: "iputils",
            path: args.iputils.clone(),
        },
    ];
    let m = meta(args);
    let (mut results, rows) = fping::run(&tools, &args.user, user, counts.sweep_runs, &out_dir);
    results.push(
        "fping_getcap",
        string(capture("getcap", &[&args.iputils.to_string_lossy()])),
    );
    results.push("worker", string(args.worker.display().to_string()));
    results.push("table_markdown", string(report::table(&rows)));
    write_results(args, counts, m, results, &rows)
}

/// The machine's load at both ends of the run, under the table: start-up
/// figures of a loaded machine are not those of a quiet one.
fn load_line(results: &Json) -> String {
    format!(
        "load average at the start: {}; at the end: {}",
        results.text("meta/loadavg_at_start").unwrap_or("?"),
        results.text("meta/loadavg_at_end").unwrap_or("?")
    )
}

/// The table: one row per figure, privsep | iputils | ratio | target.
fn rows(r: &Json, c: &Counts) -> Vec<Row> {
    let row =
        |label: String, p: Option<f64>, i: Option<f64>, decimals: usize, goal: Option<Goal>| Row {
            label,
            privsep: p,
            iputils: i,
            decimals,
            goal,
        };
    let both = |path: &str| {
        (
            r.num(&path.replace("TOOL", "privsep")),
            r.num(&path.replace("TOOL", "iputils")),
        )
    };
    let mut rows = Vec::new();
    for dest in ["127.0.0.1", "::1"] {
        let (p, i) = both(&format!("startup/{dest}/TOOL/median_ms"));
        rows.push(row(
            format!("start-up -c 1 {dest}, median (ms)"),
            p,
            i,
            3,
            Some(Goal::AtMost(1.00)),
        ));
        let (p, i) = both(&format!("startup/{dest}/TOOL/p90_ms"));
        rows.push(row(
            format!("start-up -c 1 {dest}, p90 (ms)"),
            p,
            i,
            3,
            None,
        ));
    }
    rows.push(row(
        "  of which launcher exec -> worker exec (ms)".into(),
        r.num("startup/privsep_split_127.0.0.1/launcher_median_ms"),
        None,
        3,
        None,
    ));
    rows.push(row(
        "  of which worker exec -> exit (ms)".into(),
        r.num("startup/privsep_split_127.0.0.1/worker_median_ms"),
        None,
        3,
        None,
    ));
    for dest in ["127.0.0.1", "::1"] {
        let (p, i) = both(&format!(
            "throughput/flood {dest}/TOOL/packets_per_s_median"
        ));
        rows.push(row(
            format!("flood -f -c {} {dest}, root (pkt/s)", c.flood_count),
            p,
            i,
            0,
            Some(Goal::AtLeast(1.10)),
        ));
        // The slowest and the fastest run of each tool: the method's noise
        // at that moment (on a loaded machine they spread by a factor of
        // two or more, and a median ratio then means little).
        for (which, key) in [("slowest", "min"), ("fastest", "max")] {
            let (p, i) = both(&format!("throughput/flood {dest}/TOOL/packets_per_s_{key}"));
            rows.push(row(
                format!("  flood {dest}, {which} run (pkt/s)"),
                p,
                i,
                0,
                None,
            ));
        }
    }
    let (p, i) = both("datagram/startup 127.0.0.1/TOOL/median_ms");
    rows.push(row(
        "datagram, no capability: start-up -c 1 127.0.0.1, median (ms)".into(),
        p,
        i,
        3,
        Some(Goal::AtMost(1.00)),
    ));
    let (p, i) = both("datagram/flood 127.0.0.1/TOOL/packets_per_s_median");
    rows.push(row(
        format!(
            "datagram, no capability: flood -f -c {} 127.0.0.1, root (pkt/s)",
            c.flood_count
        ),
        p,
        i,
        0,
        None,
    ));
    let (p, i) = both("throughput/interval 127.0.0.1/TOOL/packets_per_s_median");
    rows.push(row(
        format!("-i 0.002 -c {} 127.0.0.1, user (pkt/s)", c.interval_count),
        p,
        i,
        1,
        None,
    ));
    let ip = r.num("memory/iputils/ping_peak_rss_kib");
    rows.push(row(
        "peak RSS, launcher image (KiB)".into(),
        r.num("memory/privsep/launcher_peak_rss_kib"),
        ip,
        0,
        None,
    ));
    rows.push(row(
        "peak RSS, worker image (KiB)".into(),
        r.num("memory/privsep/worker_peak_rss_kib"),
        ip,
        0,
        Some(Goal::AtMost(0.80)),
    ));
    rows.push(row(
        "privileged syscalls (to worker exec / caps gone)".into(),
        r.num("privileged_syscalls/privsep/while_privileged/syscalls"),
        r.num("privileged_syscalls/iputils/while_privileged/syscalls"),
        0,
        Some(Goal::AtMost(0.2)),
    ));
    rows.push(row(
        "  distinct".into(),
        r.num("privileged_syscalls/privsep/while_privileged/distinct"),
        r.num("privileged_syscalls/iputils/while_privileged/distinct"),
        0,
        None,
    ));
    rows.push(row(
        "syscalls until permitted set is empty".into(),
        r.num("privileged_syscalls/privsep/until_permitted_empty/syscalls"),
        r.num("privileged_syscalls/iputils/until_permitted_empty/syscalls"),
        0,
        None,
    ));
    rows.push(row(
        "lines of Rust linked into the launcher".into(),
        r.num("launcher_lines_of_rust/compiled_lines_total"),
        None,
        0,
        None,
    ));
    for (what, key) in [("", "bytes"), (", stripped", "stripped_bytes")] {
        let size = |b: &str| r.num(&format!("binary_sizes/{b}/{key}"));
        let (lp, wp, ib) = (
            size("privsep_launcher"),
            size("privsep_worker"),
            size("iputils"),
        );
        rows.push(row(
            format!("binary size{what}, launcher (bytes)"),
            lp,
            ib,
            0,
            None,
        ));
        rows.push(row(
            format!("binary size{what}, worker (bytes)"),
            wp,
            ib,
            0,
            None,
        ));
        rows.push(row(
            format!("binary size{what}, launcher + worker (bytes)"),
            lp.zip(wp).map(|(a, b)| a + b),
            ib,
            0,
            None,
        ));
    }
    let (p, i) = both("rtt/TOOL/median_rtt_ms");
    rows.push(row(
        format!("median RTT -c {} -i 0.01 127.0.0.1 (ms)", c.rtt_count),
        p,
        i,
        3,
        None,
    ));
    rows
}
