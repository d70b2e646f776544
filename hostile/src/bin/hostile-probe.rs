//! `hostile-probe ACTION [VICTIM_PID] [--no-sandbox]`: a compromised worker.
//!
//! The suite installs it *as the worker* of its own stage, so the real
//! file-capability launcher starts it exactly as it starts the worker: as the
//! test user, privileges dropped, `no_new_privs`, ICMP sockets at fds 3 and 4
//! (raw, or datagram where `ping_group_range` admits the user),
//! environment rebuilt, argv passed through. Like the worker it takes the
//! handoff (`policy::handoff::take_from_env`) and locks itself down with
//! the worker's exact profile (`policy::sandbox::lock_down`); then, as an
//! attacker who has taken over the worker would, it makes ONE forbidden
//! system call and reports what came back, if anything did.
//!
//! It is the compromised worker of the tool whose launcher started it: the
//! launcher passes argv\[0\] through (`…/privsep-fping` → fping's handoff
//! and profile), ping's when the name is no tool's.
//!
//! Output: the sandbox report, `locked`, `attempt ACTION`, then
//! `returned: Ok(N)` / `returned: Err(…)` if the call came back (a call the
//! profile forbids never returns: the process dies of SIGSYS). With
//! `--no-sandbox` it skips `lock_down` (the control: the same call is then
//! answered by the kernel's ordinary permission checks).

#![forbid(unsafe_code)]

use std::io::Write;
use std::os::fd::RawFd;

fn say(line: impl AsRef<str>) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", line.as_ref());
    let _ = out.flush();
}

/// The tool whose launcher started us, by argv\[0\]'s file name.
fn tool() -> &'static policy::tools::Tool {
    let argv0 = std::env::args().next().unwrap_or_default();
    let name = argv0.rsplit('/').next().unwrap_or("");
    policy::tools::ALL
        .iter()
        .copied()
        .find(|t| t.launcher_name == name)
        .unwrap_or(&policy::tools::PING)
}

fn main() {
    let tool = tool();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sandbox = !args.iter().any(|a| a == "--no-sandbox");
    let args: Vec<&String> = args.iter().filter(|a| *a != "--no-sandbox").collect();
    let Some(action) = args.first() else {
        eprintln!("usage: hostile-probe ACTION [VICTIM_PID] [--no-sandbox]");
        std::process::exit(2);
    };
    let victim: i32 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1);
    let sockets = match policy::handoff::take_from_env(tool) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("hostile-probe: {e}");
            std::process::exit(2);
        }
    };
    let sock: RawFd = sockets.first().map_or(-1, |s| s.fd);
    // Which kind the launcher opened (SO_TYPE, as the worker validated it).
    if let Some(kind) = sockets.first().and_then(|s| s.kind) {
        say(format!("socket {}", kind.type_name));
    }
    if sandbox {
        match policy::sandbox::lock_down(tool.sandbox, &sockets) {
            Ok(report) => say(report.to_string()),
            Err(e) => {
                eprintln!("hostile-probe: {e}");
                std::process::exit(2);
            }
        }
        say("locked");
    }
    say(format!("attempt {action}"));
    match hostile::sys::compromised_attempt(action, sock, victim) {
        Some(result) => say(format!("returned: {result:?}")),
        None => {
            say(format!("unknown action {action}"));
            std::process::exit(2);
        }
    }
}
