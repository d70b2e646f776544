//! `vm-tests`: the host harness of the QEMU conformance suite.
//!
//! Fetches Debian's kernel ([`vm_tests::kernel`]), writes one initramfs
//! ([`initramfs`]), boots each configuration ([`vm_tests::configs`]), two at
//! a time, collects the result lines into `<out>/<config>.jsonl`, prints a
//! table and exits 0 only if every configuration produced a verdict, ran at
//! least its minimum number of cases, and every case passed. Exit 1: a case
//! failed; exit 3: infrastructure failure (no kernel, no verdict, timeout);
//! exit 2: bad usage.

#![forbid(unsafe_code)]

mod initramfs;

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use vm_tests::configs::{self, Config};
use vm_tests::json;
use vm_tests::qemu::{Boot, AGENT_PASS};
use vm_tests::{kernel, VmError};

const USAGE: &str = "usage: vm-tests --bin-dir DIR --agent-dir DIR [--selinux-policy FILE --selinux-fc FILE] \
[--tomoyo-dir DIR] [--configs a,b] [--cases x,y] [--out DIR] [--cache DIR] [--kvm] [--bzimage] [--jobs N] [--timeout SECS]";

/// Command-line options.
pub struct Options {
    /// Where `privsep-ping` and `privsep-ping-worker` are (`$(RELEASE)` of the default layout).
    pub bin_dir: PathBuf,
    /// Where `vm-agent` and `probe` are.
    pub agent_dir: PathBuf,
    /// The merged binary SELinux policy.
    pub selinux_policy: Option<PathBuf>,
    /// The merged file_contexts.
    pub selinux_fc: Option<PathBuf>,
    /// The rendered TOMOYO policy directory.
    pub tomoyo_dir: Option<PathBuf>,
    /// Configurations to boot.
    pub configs: Vec<&'static Config>,
    /// Cases to run (all when `None`).
    pub cases: Option<String>,
    /// Output directory (`target/vm-tests`).
    pub out: PathBuf,
    /// Kernel cache (default `<out>/cache`).
    pub cache: Option<PathBuf>,
    /// Use KVM.
    pub kvm: bool,
    /// Boot the bzImage instead of the vmlinux.
    pub bzimage: bool,
    /// VMs at once.
    pub jobs: usize,
    /// Per-boot timeout.
    pub timeout: Duration,
}

fn parse(args: Vec<String>) -> Result<Options, VmError> {
    let usage = |m: String| VmError::Usage(format!("{m} (see vm-tests --help)"));
    let mut o = Options {
        bin_dir: PathBuf::new(),
        agent_dir: PathBuf::new(),
        selinux_policy: None,
        selinux_fc: None,
        tomoyo_dir: None,
        configs: configs::CONFIGS.iter().collect(),
        cases: None,
        out: PathBuf::from("target/vm-tests"),
        cache: None,
        kvm: std::env::var("VM_KVM").is_ok_and(|v| v == "1"),
        bzimage: false,
        jobs: 2,
        timeout: Duration::from_secs(240),
    };
    let mut it = args.into_iter().skip(1);
    while let Some(a) = it.next() {
        let mut val = || it.next().ok_or_else(|| usage(format!("{a} needs a value")));
        match a.as_str() {
            "--bin-dir" => o.bin_dir = val()?.into(),
            "--agent-dir" => o.agent_dir = val()?.into(),
            "--selinux-policy" => o.selinux_policy = Some(val()?.into()),
            "--selinux-fc" => o.selinux_fc = Some(val()?.into()),
            "--tomoyo-dir" => o.tomoyo_dir = Some(val()?.into()),
            "--out" => o.out = val()?.into(),
            "--cache" => o.cache = Some(val()?.into()),
            "--configs" => {
                let v = val()?;
                if !v.is_empty() {
                    o.configs = v
                        .split(',')
                        .map(|n| {
                            configs::find(n)
                                .ok_or_else(|| usage(format!("unknown configuration {n:?}")))
                        })
                        .collect::<Result<_, _>>()?;
                }
            }
            "--cases" => {
                let v = val()?;
                o.cases = (!v.is_empty()).then_some(v);
            }
            "--kvm" => o.kvm = true,
            "--bzimage" => o.bzimage = true,
            "--jobs" => {
                o.jobs = val()?
                    .parse()
                    .map_err(|_| usage("--jobs takes a number".into()))?
            }
            "--timeout" => {
                o.timeout = Duration::from_secs(
                    val()?
                        .parse()
                        .map_err(|_| usage("--timeout takes seconds".into()))?,
                )
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            _ => return Err(usage(format!("unknown argument {a:?}"))),
        }
    }
    if let Some(cases) = &o.cases {
        for id in cases.split(',') {
            if !vm_tests::guest::cases::CASES.iter().any(|c| c.id == id) {
                return Err(usage(format!(
                    "unknown case {id:?} (see vm-tests/src/guest/cases.rs)"
                )));
            }
        }
    }
    if o.bin_dir.as_os_str().is_empty() || o.agent_dir.as_os_str().is_empty() {
        return Err(usage("--bin-dir and --agent-dir are required".into()));
    }
    Ok(o)
}

/// One configuration's outcome.
struct Outcome {
    config: &'static Config,
    rows: Vec<Vec<(String, json::Value)>>,
    problem: Option<String>,
    elapsed: Duration,
}

/// Boots `config` from the vmlinux; if QEMU could not even start that kernel (nothing on the
/// console, no verdict), once more from the bzImage.
fn boot_one(
    o: &Options,
    config: &'static Config,
    k: &kernel::Kernel,
    initrd: &std::path::Path,
) -> Outcome {
    let image = if o.bzimage { &k.bzimage } else { &k.vmlinux };
    let out = boot_image(o, config, image, initrd);
    let console = std::fs::metadata(o.out.join(format!("{}.console.log", config.name)))
        .map_or(0, |m| m.len());
    if o.bzimage || out.problem.is_none() || console > 0 || !out.rows.is_empty() {
        return out;
    }
    eprintln!(
        "vm-tests: {}: the vmlinux did not boot ({}); falling back to the bzImage",
        config.name,
        out.problem.as_deref().unwrap_or("")
    );
    boot_image(o, config, &k.bzimage, initrd)
}

fn boot_image(
    o: &Options,
    config: &'static Config,
    kernel: &std::path::Path,
    initrd: &std::path::Path,
) -> Outcome {
    let results = o.out.join(format!("{}.results", config.name));
    let boot = Boot {
        kernel,
        initrd,
        cmdline: config.kernel_cmdline(o.cases.as_deref()),
        kvm: o.kvm,
        console_log: o.out.join(format!("{}.console.log", config.name)),
        results: results.clone(),
        timeout: o.timeout,
    };
    let mut out = Outcome {
        config,
        rows: Vec::new(),
        problem: None,
        elapsed: Duration::ZERO,
    };
    let run = match boot.run() {
        Ok(r) => r,
        Err(e) => {
            out.problem = Some(e.to_string());
            return out;
        }
    };
    out.elapsed = run.elapsed;
    let text = std::fs::read_to_string(&results).unwrap_or_default();
    let mut done = None;
    let mut jsonl = String::new();
    for line in text.lines() {
        let Some(fields) = json::decode(line.trim_end_matches('\r')) else {
            continue;
        };
        if let Some(e) = json::get_str(&fields, "setup_error") {
            out.problem = Some(format!("agent setup failed: {e}"));
        }
        if json::get_bool(&fields, "done") == Some(true) {
            done = Some(fields);
            continue;
        }
        if json::get_str(&fields, "case").is_some() {
            jsonl.push_str(&json::encode(
                &fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.clone()))
                    .collect::<Vec<_>>(),
            ));
            jsonl.push('\n');
            out.rows.push(fields);
        }
    }
    let _ = std::fs::write(o.out.join(format!("{}.jsonl", config.name)), jsonl);
    if out.problem.is_none() {
        out.problem = run.infra.map(|i| format!("infrastructure failure: {i}"));
    }
    if out.problem.is_none() {
        match &done {
            None => {
                out.problem = Some("infrastructure failure: no closing line from the agent".into())
            }
            Some(d) => {
                let ran: usize = json::get_str(d, "ran")
                    .and_then(|r| r.parse().ok())
                    .unwrap_or(0);
                let failed = out
                    .rows
                    .iter()
                    .filter(|r| json::get_bool(r, "pass") != Some(true))
                    .count();
                let verdict_pass = run.verdict == Some(AGENT_PASS);
                if ran != out.rows.len() {
                    out.problem = Some(format!(
                        "agent ran {ran} cases but {} results arrived",
                        out.rows.len()
                    ));
                } else if verdict_pass != (failed == 0) {
                    out.problem = Some("the agent's verdict contradicts its results".into());
                } else if o.cases.is_none() && ran < config.min_cases {
                    out.problem = Some(format!(
                        "only {ran} cases ran; this configuration needs at least {}",
                        config.min_cases
                    ));
                }
            }
        }
    }
    out
}

fn main() {
    let o = match parse(std::env::args().collect()) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("vm-tests: {e}");
            std::process::exit(2);
        }
    };
    let started = Instant::now();
    match run(&o) {
        Ok(code) => {
            println!(
                "vm-tests: wall time {:.1} s",
                started.elapsed().as_secs_f64()
            );
            std::process::exit(code)
        }
        Err(e) => {
            eprintln!("vm-tests: {e}");
            std::process::exit(match e {
                VmError::Usage(_) => 2,
                _ => 3,
            });
        }
    }
}

fn run(o: &Options) -> Result<i32, VmError> {
    std::fs::create_dir_all(&o.out)
        .map_err(VmError::io(format!("creating {}", o.out.display())))?;
    let t = Instant::now();
    let k = kernel::prepare(&o.cache.clone().unwrap_or_else(|| o.out.join("cache")))?;
    println!(
        "vm-tests: kernel {} ready in {:.1} s",
        k.package,
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let initrd = o.out.join("initramfs.cpio");
    initramfs::build(o, &initrd)?;
    println!(
        "vm-tests: initramfs built in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    // Two (or --jobs) VMs at a time: TCG uses one host thread per vCPU.
    let (tx, rx) = mpsc::channel();
    let queue = std::sync::Mutex::new(o.configs.clone().into_iter());
    std::thread::scope(|s| {
        for _ in 0..o.jobs.max(1) {
            let tx = tx.clone();
            let (queue, k, initrd) = (&queue, &k, &initrd);
            s.spawn(move || loop {
                let next = queue.lock().map(|mut q| q.next()).unwrap_or(None);
                let Some(config) = next else { break };
                let _ = tx.send(boot_one(o, config, k, initrd));
            });
        }
        drop(tx);
    });
    let mut outcomes: Vec<Outcome> = rx.into_iter().collect();
    outcomes.sort_by_key(|x| o.configs.iter().position(|c| c.name == x.config.name));
    Ok(report(&outcomes))
}

fn report(outcomes: &[Outcome]) -> i32 {
    let (mut failed, mut infra) = (0, false);
    println!();
    println!("{:<9} {:<30} {:<5} outcome", "config", "case", "pass");
    for o in outcomes {
        for r in &o.rows {
            let pass = json::get_bool(r, "pass") == Some(true);
            if !pass {
                failed += 1;
            }
            let outcome: String = json::get_str(r, "outcome")
                .unwrap_or("")
                .chars()
                .take(100)
                .collect();
            println!(
                "{:<9} {:<30} {:<5} {}",
                o.config.name,
                json::get_str(r, "case").unwrap_or("?"),
                if pass { "ok" } else { "FAIL" },
                outcome
            );
        }
    }
    println!();
    for o in outcomes {
        let n = o.rows.len();
        let bad = o
            .rows
            .iter()
            .filter(|r| json::get_bool(r, "pass") != Some(true))
            .count();
        match &o.problem {
            Some(p) => {
                infra = true;
                println!(
                    "{:<9} NO VERDICT: {p} (console: {}.console.log)",
                    o.config.name, o.config.name
                );
            }
            None => println!(
                "{:<9} {} passed, {} failed, boot+run {:.1} s",
                o.config.name,
                n - bad,
                bad,
                o.elapsed.as_secs_f64()
            ),
        }
    }
    let total: usize = outcomes.iter().map(|o| o.rows.len()).sum();
    println!("vm-tests: {} passed, {} failed", total - failed, failed);
    if total == 0 {
        println!("vm-tests: no case ran (does the case apply to the chosen configurations?)");
        return 3;
    }
    if infra {
        3
    } else if failed > 0 {
        1
    } else {
        0
    }
}
