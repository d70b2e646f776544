//! `vm-tests`: the host harness of the QEMU conformance suite.
//!
//! Fetches the kernels of the matrix ([`vm_tests::kernel`]), writes one
//! initramfs ([`initramfs`]), boots each kernel × configuration
//! ([`vm_tests::configs`]), `--jobs` at a time, collects the result lines
//! into `<out>/<kernel release>/<config>.jsonl`, writes `<out>/junit.xml`
//! ([`vm_tests::junit`]), prints a table and a summary line with the wall
//! time, and exits 0 only if every boot produced a verdict, ran at least
//! its minimum number of cases, and every case passed. Exit 1: a case
//! failed; exit 3: infrastructure failure (a kernel that cannot be fetched,
//! does not boot, panics, times out or writes no verdict; a listed tool
//! without its binaries), always naming the kernel and configuration;
//! exit 2: bad usage.

#![forbid(unsafe_code)]

mod initramfs;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use vm_tests::configs::{self, Config};
use vm_tests::junit;
use vm_tests::kernel::{self, Kernel, Source};
use vm_tests::qemu::{Boot, AGENT_PASS};
use vm_tests::VmError;

const USAGE: &str = "usage: vm-tests --bin-dir DIR --agent-dir DIR [--selinux-policy FILE --selinux-fc FILE] \
[--tomoyo-dir DIR] [--apparmor-dir DIR] [--tools ping,arping,…] [--kernels bookworm,trixie] [--configs a,b] [--cases x,y] \
[--out DIR] [--cache DIR] [--kvm] [--bzimage] [--jobs N] [--timeout SECS]";

/// Command-line options.
pub struct Options {
    /// Where `privsep-<tool>` and `privsep-<tool>-worker` are (`$(RELEASE)` of the default layout).
    pub bin_dir: PathBuf,
    /// Where `vm-agent` and `probe` are.
    pub agent_dir: PathBuf,
    /// The merged binary SELinux policy.
    pub selinux_policy: Option<PathBuf>,
    /// The merged file_contexts.
    pub selinux_fc: Option<PathBuf>,
    /// The tools whose rows run (the Makefile's TOOLS).
    pub tools: Vec<&'static policy::tools::Tool>,
    /// The rendered TOMOYO policy directory.
    pub tomoyo_dir: Option<PathBuf>,
    /// The rendered AppArmor profiles (`privsep-<tool>` files).
    pub apparmor_dir: Option<PathBuf>,
    /// Kernels to boot.
    pub kernels: Vec<&'static Source>,
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

fn list<T>(
    v: &str,
    what: &str,
    find: impl Fn(&str) -> Option<T>,
    usage: &dyn Fn(String) -> VmError,
) -> Result<Vec<T>, VmError> {
    v.split(',')
        .map(|n| find(n).ok_or_else(|| usage(format!("unknown {what} {n:?}"))))
        .collect()
}

fn parse(args: Vec<String>) -> Result<Options, VmError> {
    let usage = |m: String| VmError::Usage(format!("{m} (see vm-tests --help)"));
    let mut o = Options {
        bin_dir: PathBuf::new(),
        agent_dir: PathBuf::new(),
        selinux_policy: None,
        selinux_fc: None,
        tools: policy::tools::ALL.to_vec(),
        tomoyo_dir: None,
        apparmor_dir: None,
        kernels: kernel::KERNELS.iter().collect(),
        configs: configs::CONFIGS.iter().collect(),
        cases: None,
        out: PathBuf::from("target/vm-tests"),
        cache: None,
        kvm: std::env::var("VM_KVM").is_ok_and(|v| v == "1"),
        bzimage: false,
        jobs: 2,
        timeout: Duration::from_secs(600),
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
            "--apparmor-dir" => o.apparmor_dir = Some(val()?.into()),
            "--out" => o.out = val()?.into(),
            "--cache" => o.cache = Some(val()?.into()),
            "--tools" => {
                let v = val()?;
                let v = v.split_whitespace().collect::<Vec<_>>().join(",");
                if !v.is_empty() {
                    o.tools = list(&v, "tool", policy::tools::Tool::by_name, &usage)?;
                }
            }
            "--kernels" => {
                let v = val()?;
                if !v.is_empty() {
                    o.kernels = list(&v, "kernel", kernel::find, &usage)?;
                }
            }
            "--configs" => {
                let v = val()?;
                if !v.is_empty() {
                    o.configs = list(&v, "configuration", configs::find, &usage)?;
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
            if !vm_tests::guest::cases::ROWS.iter().any(|c| c.id == id) {
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

/// One boot's outcome.
pub struct Outcome {
    /// The kernel's name in the matrix (`bookworm`).
    pub kernel: &'static str,
    /// Its release, the directory of its results.
    pub release: String,
    /// The configuration.
    pub config: &'static Config,
    /// The result lines, in order.
    pub rows: Vec<Map<String, Value>>,
    /// Why there is no trustworthy verdict (an infrastructure failure), if so.
    pub problem: Option<String>,
    /// Boot and run time.
    pub elapsed: Duration,
    /// The console log.
    pub console: PathBuf,
}

fn str_of<'a>(r: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    r.get(k).and_then(Value::as_str)
}

fn passed(r: &Map<String, Value>) -> bool {
    r.get("pass").and_then(Value::as_bool) == Some(true)
}

fn kernel_dir(o: &Options, release: &str) -> PathBuf {
    o.out.join(release)
}

/// Boots `config` on `k` from the vmlinux; if QEMU could not even start that kernel (nothing
/// on the console, no verdict), once more from the bzImage.
fn boot_one(o: &Options, config: &'static Config, k: &Kernel, initrd: &Path) -> Outcome {
    let image = if o.bzimage { &k.bzimage } else { &k.vmlinux };
    let out = boot_image(o, config, k, image, initrd);
    let console = std::fs::metadata(&out.console).map_or(0, |m| m.len());
    if o.bzimage || out.problem.is_none() || console > 0 || !out.rows.is_empty() {
        return out;
    }
    eprintln!(
        "vm-tests: {} {}: the vmlinux did not boot ({}); falling back to the bzImage",
        k.release,
        config.name,
        out.problem.as_deref().unwrap_or("")
    );
    boot_image(o, config, k, &k.bzimage, initrd)
}

fn boot_image(
    o: &Options,
    config: &'static Config,
    k: &Kernel,
    image: &Path,
    initrd: &Path,
) -> Outcome {
    let dir = kernel_dir(o, &k.release);
    let results = dir.join(format!("{}.results", config.name));
    let tools: Vec<&str> = o.tools.iter().map(|t| t.name).collect();
    let boot = Boot {
        kernel: image,
        initrd,
        cmdline: config.kernel_cmdline(&tools, o.cases.as_deref()),
        kvm: o.kvm,
        console_log: dir.join(format!("{}.console.log", config.name)),
        results: results.clone(),
        timeout: o.timeout,
    };
    let mut out = Outcome {
        kernel: k.source.name,
        release: k.release.clone(),
        config,
        rows: Vec::new(),
        problem: None,
        elapsed: Duration::ZERO,
        console: boot.console_log.clone(),
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
    let mut wrong_kernel = None;
    for line in text.lines() {
        let Ok(Value::Object(fields)) = serde_json::from_str(line.trim_end_matches('\r')) else {
            continue;
        };
        if let Some(e) = str_of(&fields, "setup_error") {
            out.problem = Some(format!("agent setup failed: {e}"));
        }
        if let Some(got) = str_of(&fields, "kernel") {
            if got != k.release {
                wrong_kernel = Some(got.to_string());
            }
        }
        if fields.get("done").and_then(Value::as_bool) == Some(true) {
            done = Some(fields);
            continue;
        }
        if str_of(&fields, "case").is_some() {
            jsonl.push_str(&Value::Object(fields.clone()).to_string());
            jsonl.push('\n');
            out.rows.push(fields);
        }
    }
    let _ = std::fs::write(dir.join(format!("{}.jsonl", config.name)), jsonl);
    if out.problem.is_none() {
        out.problem = run.infra.map(|i| format!("infrastructure failure: {i}"));
    }
    if out.problem.is_none() {
        if let Some(got) = wrong_kernel {
            out.problem = Some(format!(
                "the guest ran kernel {got}, not {} (the package booted)",
                k.release
            ));
        }
    }
    if out.problem.is_none() {
        match &done {
            None => {
                out.problem = Some("infrastructure failure: no closing line from the agent".into())
            }
            Some(d) => {
                let ran = d.get("ran").and_then(Value::as_u64).unwrap_or(0) as usize;
                let failed = out.rows.iter().filter(|r| !passed(r)).count();
                let verdict_pass = run.verdict == Some(AGENT_PASS);
                let min = config.min_cases;
                if ran != out.rows.len() {
                    out.problem = Some(format!(
                        "agent ran {ran} cases but {} results arrived",
                        out.rows.len()
                    ));
                } else if out
                    .rows
                    .iter()
                    .any(|r| str_of(r, "kernel").is_none() || str_of(r, "tool").is_none())
                {
                    out.problem = Some("a result line lacks \"kernel\" or \"tool\"".into());
                } else if verdict_pass != (failed == 0) {
                    out.problem = Some("the agent's verdict contradicts its results".into());
                } else if o.cases.is_none() && ran < min {
                    out.problem = Some(format!(
                        "only {ran} cases ran; this configuration needs at least {min}"
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
    match run(&o, started) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("vm-tests: {e}");
            std::process::exit(match e {
                VmError::Usage(_) => 2,
                _ => 3,
            });
        }
    }
}

/// The launcher and worker of every listed tool; a missing one is an
/// infrastructure failure (the tool was asked for), never a skip.
fn tool_binaries(o: &Options) -> Result<Vec<initramfs::ToolBins>, VmError> {
    o.tools
        .iter()
        .map(|t| {
            let launcher = o.bin_dir.join(t.launcher_name);
            let worker = o.bin_dir.join(format!("privsep-{}-worker", t.name));
            let broker = t.broker.map(|b| o.bin_dir.join(format!("privsep-{}", b.name)));
            for p in [Some(&launcher), Some(&worker), broker.as_ref()].into_iter().flatten() {
                if !p.is_file() {
                    return Err(VmError::Infra(format!(
                        "tool {} is listed (TOOLS) but {} is missing: build it first (make vm-test does)",
                        t.name,
                        p.display()
                    )));
                }
            }
            Ok(initramfs::ToolBins {
                tool: t,
                launcher,
                worker,
                broker,
            })
        })
        .collect()
}

fn run(o: &Options, started: Instant) -> Result<i32, VmError> {
    std::fs::create_dir_all(&o.out)
        .map_err(VmError::io(format!("creating {}", o.out.display())))?;
    let bins = tool_binaries(o)?;
    let cache = o.cache.clone().unwrap_or_else(|| o.out.join("cache"));
    let mut kernels = Vec::new();
    let mut outcomes = Vec::new();
    for source in &o.kernels {
        let t = Instant::now();
        match kernel::prepare(source, &cache) {
            Ok(k) => {
                println!(
                    "vm-tests: kernel {} ({}) ready in {:.1} s",
                    k.release,
                    source.name,
                    t.elapsed().as_secs_f64()
                );
                std::fs::create_dir_all(kernel_dir(o, &k.release))
                    .map_err(VmError::io("creating the kernel's result directory"))?;
                kernels.push(k);
            }
            // Every configuration of this kernel is then an infrastructure failure, by name.
            Err(e) => {
                for config in &o.configs {
                    outcomes.push(Outcome {
                        kernel: source.name,
                        release: source.name.to_string(),
                        config,
                        rows: Vec::new(),
                        problem: Some(e.to_string()),
                        elapsed: Duration::ZERO,
                        console: PathBuf::from("(not booted)"),
                    });
                }
            }
        }
    }
    let t = Instant::now();
    let initrd = o.out.join("initramfs.cpio");
    initramfs::build(o, &bins, &initrd)?;
    println!(
        "vm-tests: initramfs built in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    // --jobs VMs at a time: TCG uses one host thread per vCPU.
    let jobs: Vec<(&Kernel, &'static Config)> = kernels
        .iter()
        .flat_map(|k| o.configs.iter().map(move |c| (k, *c)))
        .collect();
    let (tx, rx) = mpsc::channel();
    let queue = std::sync::Mutex::new(jobs.into_iter());
    std::thread::scope(|s| {
        for _ in 0..o.jobs.max(1) {
            let tx = tx.clone();
            let (queue, initrd) = (&queue, &initrd);
            s.spawn(move || loop {
                let next = queue.lock().map(|mut q| q.next()).unwrap_or(None);
                let Some((k, config)) = next else { break };
                let _ = tx.send(boot_one(o, config, k, initrd));
            });
        }
        drop(tx);
    });
    outcomes.extend(rx);
    let order = |x: &Outcome| {
        (
            o.kernels.iter().position(|k| k.name == x.kernel),
            o.configs.iter().position(|c| c.name == x.config.name),
        )
    };
    outcomes.sort_by_key(order);
    let code = report(&outcomes, started.elapsed());
    let xml = junit::render(&outcomes.iter().map(suite).collect::<Vec<_>>());
    let junit_path = o.out.join("junit.xml");
    std::fs::write(&junit_path, &xml)
        .map_err(VmError::io(format!("writing {}", junit_path.display())))?;
    if let Err(e) = junit::check(&xml) {
        return Err(VmError::Infra(format!(
            "{} is not valid JUnit: {e}",
            junit_path.display()
        )));
    }
    println!("vm-tests: JUnit results in {}", junit_path.display());
    Ok(code)
}

/// One boot as a JUnit test suite.
fn suite(x: &Outcome) -> junit::Suite {
    let cases = x
        .rows
        .iter()
        .map(|r| {
            let s = |k: &str| str_of(r, k).unwrap_or("").to_string();
            junit::Case {
                classname: format!("vm-tests.{}.{}.{}", x.release, x.config.name, s("tool")),
                name: format!("{}/{}", s("tool"), s("case")),
                system_out: format!(
                    "expect: {}\noutcome: {}\nevidence: {}",
                    s("expect"),
                    s("outcome"),
                    s("evidence")
                ),
                failure: (!passed(r)).then(|| (s("outcome"), s("expect"))),
                error: None,
            }
        })
        .chain(x.problem.iter().map(|p| junit::Case {
            classname: format!("vm-tests.{}.{}", x.release, x.config.name),
            name: "verdict".into(),
            system_out: format!("console: {}", x.console.display()),
            failure: None,
            error: Some(format!(
                "infrastructure failure on kernel {} ({}), configuration {}: {p}",
                x.release, x.kernel, x.config.name
            )),
        }))
        .collect();
    junit::Suite {
        name: format!("{}/{}", x.release, x.config.name),
        time: x.elapsed,
        cases,
    }
}

fn report(outcomes: &[Outcome], wall: Duration) -> i32 {
    let (mut failed, mut infra) = (0, false);
    println!();
    println!(
        "{:<22} {:<9} {:<10} {:<26} {:<5} outcome",
        "kernel", "config", "tool", "case", "pass"
    );
    for o in outcomes {
        for r in &o.rows {
            let pass = passed(r);
            if !pass {
                failed += 1;
            }
            let outcome: String = str_of(r, "outcome")
                .unwrap_or("")
                .chars()
                .take(90)
                .collect();
            println!(
                "{:<22} {:<9} {:<10} {:<26} {:<5} {}",
                o.release,
                o.config.name,
                str_of(r, "tool").unwrap_or("?"),
                str_of(r, "case").unwrap_or("?"),
                if pass { "ok" } else { "FAIL" },
                outcome
            );
        }
    }
    println!();
    for o in outcomes {
        let n = o.rows.len();
        let bad = o.rows.iter().filter(|r| !passed(r)).count();
        match &o.problem {
            Some(p) => {
                infra = true;
                println!(
                    "{:<22} {:<9} NO VERDICT (exit 3): kernel {} ({}), configuration {}: {p} (console: {})",
                    o.release,
                    o.config.name,
                    o.release,
                    o.kernel,
                    o.config.name,
                    o.console.display()
                );
            }
            None => println!(
                "{:<22} {:<9} {} cases: {} passed, {} failed, boot+run {:.1} s",
                o.release,
                o.config.name,
                n,
                n - bad,
                bad,
                o.elapsed.as_secs_f64()
            ),
        }
    }
    let total: usize = outcomes.iter().map(|o| o.rows.len()).sum();
    let boots = outcomes.len();
    println!(
        "vm-tests: {} passed, {} failed, {} boots, wall time {:.1} s",
        total - failed,
        failed,
        boots,
        wall.as_secs_f64()
    );
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

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(
        kernel: &'static str,
        config: &str,
        rows: &[(&str, bool)],
        problem: Option<&str>,
    ) -> Outcome {
        Outcome {
            kernel,
            release: format!("{kernel}-release"),
            config: configs::find(config).unwrap(),
            rows: rows
                .iter()
                .map(|(case, pass)| {
                    let v = serde_json::json!({"kernel": format!("{kernel}-release"), "config": config, "tool": "ping", "case": case, "pass": pass, "expect": "e", "outcome": "o", "evidence": "ev"});
                    v.as_object().cloned().unwrap()
                })
                .collect(),
            problem: problem.map(str::to_string),
            elapsed: Duration::from_secs(1),
            console: PathBuf::from("c.log"),
        }
    }

    #[test]
    fn a_kernel_without_verdict_is_exit_3_and_a_junit_error_naming_it() {
        let outs = vec![
            outcome("bookworm", "none", &[("ping-v4", true)], None),
            outcome("trixie", "selinux", &[], Some("apt-get download failed")),
        ];
        assert_eq!(report(&outs, Duration::ZERO), 3);
        let xml = junit::render(&outs.iter().map(suite).collect::<Vec<_>>());
        junit::check(&xml).unwrap();
        assert!(xml.contains("infrastructure failure on kernel trixie-release (trixie), configuration selinux: apt-get download failed"));
    }

    #[test]
    fn a_failed_case_is_exit_1_and_every_pass_exit_0() {
        let fail = vec![outcome(
            "bookworm",
            "none",
            &[("ping-v4", false), ("ping-v6", true)],
            None,
        )];
        assert_eq!(report(&fail, Duration::ZERO), 1);
        let xml = junit::render(&fail.iter().map(suite).collect::<Vec<_>>());
        assert!(xml.contains("failures=\"1\""));
        let pass = vec![outcome("bookworm", "none", &[("ping-v4", true)], None)];
        assert_eq!(report(&pass, Duration::ZERO), 0);
        assert_eq!(
            report(&[], Duration::ZERO),
            3,
            "no case at all is never a pass"
        );
    }
}
