//! The guest side. The same binary is PID 1 (`/init`, [`agent_main`]) and
//! the unprivileged user's shell (`/usr/bin/vmtest-sh`, [`user::main`]).
//!
//! PID 1 mounts what it needs ([`setup`]), loads the configuration's policy,
//! installs the binaries of every listed tool like `make install`, then, for
//! each tool (`privsep.tools=`), runs every row of [`cases::ROWS`] that
//! applies to it in a forked child with a timeout, collects the denial
//! evidence from the kernel log and the TOMOYO audit log ([`evidence`]),
//! writes one JSON line per case to ttyS1 (with `kernel`, `config`, `tool`,
//! `case`), and exits QEMU through the `isa-debug-exit` port with its
//! verdict.

#![forbid(unsafe_code)]

pub mod apparmor;
pub mod cases;
pub mod datagram;
pub mod evidence;
pub mod fping;
pub mod setup;
pub mod user;

use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::time::{Duration, Instant};

use policy::tools::Tool;
use serde_json::{json, Value};

use crate::configs::{self, Config};
use crate::qemu::{AGENT_FAIL, AGENT_PASS, AGENT_SETUP_ERROR, DEBUG_EXIT_PORT};
use crate::sys::{self, Exit, Fork};

/// The unprivileged test user (also in the initramfs's /etc/passwd).
pub const USER_UID: u32 = 1000;
/// Its group.
pub const USER_GID: u32 = 1000;
/// The SELinux context cases run in: an ordinary confined user.
pub const USER_CONTEXT: &str = "user_u:user_r:user_t:s0";
/// The user's shell: this binary under another name.
pub const USER_SHELL: &str = "/usr/bin/vmtest-sh";
/// Where the host puts the pristine binaries that the agent installs from.
pub const STOCK: &str = "/vm/bin";
/// How long one case may take (TCG is slow; a ping of one packet takes about a second).
pub const CASE_TIMEOUT: Duration = Duration::from_secs(30);

/// What a case observed. The parent adds the log evidence and checks `log_must_contain`.
#[derive(Debug, Default, Clone)]
pub struct Verdict {
    /// What was expected in this configuration.
    pub expect: String,
    /// What happened.
    pub outcome: String,
    /// Whether the outcome matches the expectation (before the log check).
    pub pass: bool,
    /// errno, signal, output…
    pub evidence: String,
    /// Each of these must match a kernel or TOMOYO audit log line logged
    /// during the case (a denial without its log entry is a failure); see
    /// [`log_matches`] for the `&&` / `||` syntax.
    pub log_must_contain: Vec<String>,
}

/// Everything a case may consult.
pub struct Env {
    /// The configuration this boot runs.
    pub config: &'static Config,
    /// The tool whose row runs.
    pub tool: &'static Tool,
    /// Every tool of this boot (installed, in order).
    pub tools: Vec<&'static Tool>,
    /// The running kernel's release (`uname -r`).
    pub kernel: String,
}

impl Env {
    /// SELinux is set up and enforcing.
    pub fn selinux(&self) -> bool {
        self.config.lsms.selinux
    }
    /// TOMOYO's policy is loaded and enforcing.
    pub fn tomoyo(&self) -> bool {
        self.config.lsms.tomoyo
    }
    /// privsep's AppArmor profiles are loaded and enforcing.
    pub fn apparmor(&self) -> bool {
        self.config.lsms.apparmor
    }
}

/// Progress on the console (ttyS0).
pub fn say(msg: &str) {
    let mut out = std::io::stdout();
    let _ = writeln!(out, "vm-agent: {msg}");
    let _ = out.flush();
}

fn exit_qemu(code: u8) -> ! {
    if code == AGENT_SETUP_ERROR {
        // What the kernel said about it (AVC denials above all) goes to the console log.
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open("/dev/kmsg")
        {
            let mut buf = vec![0u8; 8192];
            while let Ok(n) = f.read(&mut buf) {
                let line = String::from_utf8_lossy(&buf[..n]);
                if line.contains("avc:")
                    || line.contains("TOMOYO")
                    || line.contains("audit")
                    || line.contains("apparmor")
                {
                    say(&format!("kmsg: {}", line.trim()));
                }
            }
        }
    }
    sys::sync();
    let write = || -> std::io::Result<()> {
        use std::io::{Seek, SeekFrom};
        let mut port = std::fs::OpenOptions::new().write(true).open("/dev/port")?;
        port.seek(SeekFrom::Start(DEBUG_EXIT_PORT))?;
        port.write_all(&[code])
    };
    if let Err(e) = write() {
        say(&format!(
            "cannot write the verdict to the debug-exit port: {e}"
        ));
    }
    // Not reached when the port exists: QEMU has exited. Otherwise the host sees
    // a plain shutdown, which it reports as a missing verdict.
    sys::power_off();
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

fn cmdline_param(cmdline: &str, key: &str) -> Option<String> {
    cmdline
        .split_whitespace()
        .find_map(|a| a.strip_prefix(key))
        .map(str::to_string)
}

/// PID 1.
pub fn agent_main() -> ! {
    let started = Instant::now();
    if let Err(e) = setup::mount_basics() {
        say(&format!("setup failed: {e}"));
        exit_qemu(AGENT_SETUP_ERROR);
    }
    let cmdline = std::fs::read_to_string("/proc/cmdline").unwrap_or_default();
    let Some(config) = cmdline_param(&cmdline, "privsep.config=").and_then(|n| configs::find(&n))
    else {
        say(&format!(
            "no known privsep.config= on the command line: {cmdline}"
        ));
        exit_qemu(AGENT_SETUP_ERROR);
    };
    let only: Option<Vec<String>> = cmdline_param(&cmdline, "privsep.cases=")
        .map(|c| c.split(',').map(str::to_string).collect());
    let tools: Vec<&'static Tool> = cmdline_param(&cmdline, "privsep.tools=")
        .unwrap_or_default()
        .split(',')
        .filter(|n| !n.is_empty())
        .filter_map(Tool::by_name)
        .collect();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .unwrap_or_default()
        .trim()
        .to_string();
    let Some(first) = tools.first().copied() else {
        say("no known tool in privsep.tools= on the command line");
        exit_qemu(AGENT_SETUP_ERROR);
    };
    let mut env = Env {
        config,
        tool: first,
        tools: tools.clone(),
        kernel: kernel.clone(),
    };
    let mut results = match std::fs::OpenOptions::new().write(true).open("/dev/ttyS1") {
        Ok(f) => f,
        Err(e) => {
            say(&format!("cannot open the results port /dev/ttyS1: {e}"));
            exit_qemu(AGENT_SETUP_ERROR);
        }
    };
    if let Err(e) = setup::configure(&env) {
        say(&format!("setting up configuration {}: {e}", config.name));
        let line = json!({"kernel": kernel, "config": config.name, "setup_error": e.to_string()});
        let _ = writeln!(results, "{line}");
        exit_qemu(AGENT_SETUP_ERROR);
    }
    let uptime = std::fs::read_to_string("/proc/uptime").unwrap_or_default();
    say(&format!(
        "configuration {} ready: kernel uptime {} s, agent setup {:.2} s",
        config.name,
        uptime.split_whitespace().next().unwrap_or("?"),
        started.elapsed().as_secs_f64()
    ));
    let mut log = evidence::Logs::open(&env);
    let (mut ran, mut failed) = (0usize, 0usize);
    let work: Vec<(&'static Tool, &'static cases::Row)> = tools
        .iter()
        .flat_map(|t| cases::ROWS.iter().map(move |r| (*t, r)))
        .filter(|(t, r)| r.tools.includes(t, first))
        .collect();
    for (tool, case) in work {
        env.tool = tool;
        if !(case.applies)(&env)
            || only
                .as_ref()
                .is_some_and(|o| !o.iter().any(|c| c == case.id))
        {
            continue;
        }
        log.skip_to_now();
        let t0 = Instant::now();
        let mut v = run_case(&env, case);

        let lines = log.collect(&env);
        let mut missing = Vec::new();
        for want in &v.log_must_contain {
            if !lines.iter().any(|l| log_matches(l, want)) {
                missing.push(want.clone());
            }
        }
        if !missing.is_empty() && v.pass {
            v.pass = false;
            v.outcome
                .push_str(&format!("; but no log entry containing {missing:?}"));
        }
        let relevant: Vec<&String> = lines
            .iter()
            // AVCs, seccomp kills (type=1326) and TOMOYO entries; not the SYSCALL/PATH records around them.
            .filter(|l| {
                l.contains("avc:")
                    || l.contains("type=1326")
                    || l.starts_with("tomoyo-audit")
                    || l.contains("apparmor=\"DENIED\"")
            })
            .collect();
        if !relevant.is_empty() {
            v.evidence.push_str(" | log: ");
            v.evidence.push_str(
                &relevant
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(" || "),
            );
        }
        ran += 1;
        if !v.pass {
            failed += 1;
        }
        say(&format!(
            "{:<9} {:<28} {} ({:.1} s) {}",
            tool.name,
            case.id,
            if v.pass { "PASS" } else { "FAIL" },
            t0.elapsed().as_secs_f64(),
            v.outcome
        ));
        let line = json!({
            "kernel": kernel,
            "config": config.name,
            "tool": tool.name,
            "case": case.id,
            "expect": v.expect,
            "outcome": v.outcome,
            "pass": v.pass,
            "evidence": v.evidence,
        });
        let _ = writeln!(results, "{line}");
        // Cases swap probes in and relabel files, only ever the files of their own tool (and
        // copies they remove): put that tool's stock install back, if the case installed
        // anything (every copy costs under TCG; the marker is written by setup::install).
        if std::fs::remove_file(setup::DIRTY_MARKER).is_ok() {
            if let Err(e) = setup::install_stock(&[tool]) {
                say(&format!("reinstalling after {}: {e}", case.id));
                exit_qemu(AGENT_SETUP_ERROR);
            }
        }
    }
    let done = json!({
        "kernel": kernel,
        "config": config.name,
        "tools": tools.iter().map(|t| t.name).collect::<Vec<_>>(),
        "done": true,
        "ran": ran,
        "failed": failed,
        "lsm": std::fs::read_to_string("/sys/kernel/security/lsm").unwrap_or_default(),
        "seconds": started.elapsed().as_secs_f64(),
    });
    let _ = writeln!(results, "{done}");
    let _ = results.flush();
    say(&format!("{ran} cases, {failed} failed"));
    exit_qemu(if failed == 0 { AGENT_PASS } else { AGENT_FAIL })
}

/// Runs one case in a forked child (its own process group, so a timeout
/// kills everything it started) and reads its verdict back through a pipe.
fn run_case(env: &Env, case: &cases::Row) -> Verdict {
    let fail = |why: String| Verdict {
        expect: case.expect.into(),
        outcome: why,
        ..Default::default()
    };
    let (rd, wr) = match sys::pipe() {
        Ok(p) => p,
        Err(e) => return fail(format!("pipe: {e}")),
    };
    match sys::fork() {
        Err(e) => fail(format!("fork: {e}")),
        Ok(Fork::Child) => {
            sys::close(rd);
            let _ = sys::new_process_group();
            let v = (case.run)(env);
            let line = json!({
                "expect": v.expect,
                "outcome": v.outcome,
                "pass": v.pass,
                "evidence": v.evidence,
                "log": v.log_must_contain,
            });
            let mut out = file_from(wr);
            let _ = out.write_all(line.to_string().as_bytes());
            drop(out);
            std::process::exit(0);
        }
        Ok(Fork::Parent(pid)) => {
            sys::close(wr);
            let deadline = Instant::now() + CASE_TIMEOUT;
            let mut exit = None;
            while Instant::now() < deadline {
                if let Ok(Some((_, e))) = sys::waitpid(pid, true) {
                    exit = Some(e);
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            if exit.is_none() {
                let _ = sys::kill(-pid, libc::SIGKILL);
                let _ = sys::kill(pid, libc::SIGKILL);
                let _ = sys::waitpid(pid, false);
            }
            // Whatever the case left behind in its group goes too.
            let _ = sys::kill(-pid, libc::SIGKILL);
            reap_orphans();
            let mut text = String::new();
            let _ = file_from(rd).read_to_string(&mut text);
            let parsed: Option<Value> = serde_json::from_str(&text).ok();
            match (exit, parsed) {
                (None, _) => fail(format!("timeout after {} s", CASE_TIMEOUT.as_secs())),
                (Some(Exit::Code(0)), Some(f)) if f.is_object() => {
                    let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
                    Verdict {
                        expect: s("expect"),
                        outcome: s("outcome"),
                        pass: f["pass"].as_bool().unwrap_or(false),
                        evidence: s("evidence"),
                        log_must_contain: f["log"]
                            .as_array()
                            .map(|a| {
                                a.iter()
                                    .filter_map(Value::as_str)
                                    .map(str::to_string)
                                    .collect()
                            })
                            .unwrap_or_default(),
                    }
                }
                (Some(e), _) => fail(format!("case process ended with {e} without a verdict")),
            }
        }
    }
}

/// A log requirement: alternatives separated by `||`, each a set of substrings joined by `&&`
/// that must all appear on the same log line.
pub fn log_matches(line: &str, want: &str) -> bool {
    want.split("||")
        .any(|alt| alt.split("&&").all(|part| line.contains(part)))
}

/// PID 1 inherits every orphan: collect the ones that already exited.
fn reap_orphans() {
    while let Ok(Some(_)) = sys::waitpid(-1, true) {}
}

/// A `File` owning a pipe end returned by [`sys::pipe`].
fn file_from(fd: std::os::fd::RawFd) -> std::fs::File {
    std::fs::File::from(sys::owned_fd(fd))
}
