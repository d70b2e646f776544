//! The unprivileged user's "shell" (`/usr/bin/vmtest-sh`, this binary under
//! another name). A case that acts as the user forks, drops to uid 1000
//! (and, under SELinux, asks for `user_u:user_r:user_t:s0` at exec), and
//! execs this shell with a sub-command. The shell runs programs with their
//! output on a pipe of its own (so under SELinux the launcher and the worker
//! write to a pipe of the user's domain, as in `ping | grep`, never to one of
//! PID 1) and relays it.
//!
//! Sub-commands:
//! - `run PROG ARGS…` / `run-nnp PROG ARGS…` (the latter with `no_new_privs` set);
//! - `attack-worker ptrace|procfd|getfd`: starts a real ping, waits until it is
//!   the worker, and tries one way of reaching into it.

#![forbid(unsafe_code)]

use std::io::{Read, Write};
use std::time::Duration;

use policy::tools::PING;

/// ping's launcher, until the cases are rows per tool.
const LAUNCHER_PATH: &str = PING.launcher_path;

use crate::sys::{self, Exit, Fork};

/// Environment the user's programs get.
pub const USER_ENV: &[&str] = &[
    "PATH=/usr/local/bin:/usr/bin:/bin",
    "HOME=/tmp",
    "LANG=C",
    "TERM=dumb",
];

/// Starts `prog` with its output on a pipe (returned) and, with `input`,
/// a pipe on its stdin that gets `input` and is then closed.
fn spawn(
    prog: &str,
    args: &[String],
    nnp: bool,
    input: Option<&str>,
) -> std::io::Result<(libc::pid_t, std::fs::File)> {
    let (rd, wr) = sys::pipe()?;
    let stdin = input.map(|_| sys::pipe()).transpose()?;
    match sys::fork()? {
        Fork::Child => {
            let _ = sys::dup2(wr, 1);
            let _ = sys::dup2(wr, 2);
            if let Some((in_rd, _)) = stdin {
                let _ = sys::dup2(in_rd, 0);
            } else if let Ok(null) = std::fs::File::open("/dev/null") {
                // The user's own /dev/null (under SELinux an fd opened by PID 1 would be one the
                // launcher's domain may not use, as on a real system).
                let _ = sys::dup2(std::os::fd::AsRawFd::as_raw_fd(&null), 0);
            }
            if nnp {
                if let Err(e) = sys::set_no_new_privs() {
                    eprintln!("vmtest-sh: no_new_privs: {e}");
                    std::process::exit(126);
                }
            }
            let mut argv = vec![prog.to_string()];
            argv.extend(args.iter().cloned());
            let env: Vec<String> = USER_ENV.iter().map(|s| s.to_string()).collect();
            let e = sys::execve(prog, &argv, &env);
            eprintln!(
                "vmtest-sh: exec {prog}: {e} (errno {})",
                e.raw_os_error().unwrap_or(0)
            );
            std::process::exit(127);
        }
        Fork::Parent(pid) => {
            sys::close(wr);
            if let (Some((in_rd, in_wr)), Some(text)) = (stdin, input) {
                sys::close(in_rd);
                let mut to = std::fs::File::from(sys::owned_fd(in_wr));
                // Small enough for the pipe's buffer: no deadlock with the output.
                let _ = to.write_all(text.as_bytes());
            }
            Ok((pid, std::fs::File::from(sys::owned_fd(rd))))
        }
    }
}

fn exit_like(exit: Exit) -> ! {
    match exit {
        Exit::Code(c) => std::process::exit(c),
        Exit::Signal(s) => {
            println!("vmtest-sh: killed by signal {s} ({})", sys::signal_name(s));
            std::process::exit(128 + s)
        }
    }
}

/// Entry point when invoked as the user shell.
pub fn main(args: Vec<String>) -> ! {
    let sub = args.get(1).map(String::as_str).unwrap_or("");
    match sub {
        "run" | "run-nnp" | "run-input" if args.len() > 2 => {
            // run-input TEXT PROG ARGS…: TEXT on PROG's stdin, then its end.
            let (input, at) = match sub {
                "run-input" if args.len() > 3 => (Some(args[2].as_str()), 3),
                _ => (None, 2),
            };
            let (pid, mut out) = match spawn(&args[at], &args[at + 1..], sub == "run-nnp", input) {
                Ok(p) => p,
                Err(e) => {
                    println!("vmtest-sh: spawn: {e}");
                    std::process::exit(125);
                }
            };
            // Relay as it comes: a case may act while the program still runs.
            let mut buf = [0u8; 4096];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let _ = std::io::stdout().write_all(&buf[..n]);
                let _ = std::io::stdout().flush();
            }
            match sys::waitpid(pid, false) {
                Ok(Some((_, e))) => exit_like(e),
                _ => std::process::exit(125),
            }
        }
        "attack-worker" if args.len() == 3 => attack_worker(&args[2]),
        _ => {
            eprintln!(
                "vmtest-sh: usage: run|run-nnp PROG ARGS… | run-input TEXT PROG ARGS… | attack-worker ptrace|procfd|getfd"
            );
            std::process::exit(2);
        }
    }
}

fn errno_text(e: &std::io::Error) -> String {
    let n = e.raw_os_error().unwrap_or(0);
    format!("{} (errno {n}: {e})", sys::errno_name(n))
}

/// Starts a long ping as this user, waits until the process is the worker
/// (its `comm` becomes the worker's file name at exec), then tries `how`.
fn attack_worker(how: &str) -> ! {
    let args: Vec<String> = ["-n", "-c", "60", "127.0.0.1"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let (pid, out) = match spawn(LAUNCHER_PATH, &args, false, None) {
        Ok(p) => p,
        Err(e) => {
            println!("ATTACK setup-failed spawn: {e}");
            std::process::exit(3);
        }
    };
    // The worker is running once its "PING …" header arrives (the launcher prints nothing when
    // it succeeds). Its /proc entries are no help: under SELinux the user may not read them.
    let mut first = String::new();
    let mut reader = std::io::BufReader::new(out);
    let _ = std::io::BufRead::read_line(&mut reader, &mut first);
    if !first.starts_with("PING ") {
        let _ = sys::kill(pid, libc::SIGKILL);
        let exit = sys::waitpid(pid, false)
            .ok()
            .flatten()
            .map(|(_, e)| e.to_string())
            .unwrap_or_default();
        println!(
            "ATTACK setup-failed: no PING header from the worker ({exit}): {}",
            first.trim()
        );
        std::process::exit(3);
    }
    // Let the worker finish its start-up (non-dumpable is set at exec already, the sandbox soon after).
    std::thread::sleep(Duration::from_millis(500));
    let result = match how {
        "ptrace" => sys::ptrace_attach(pid).map(|()| "attached".to_string()),
        "procfd" => std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|d| format!("listed {} fds", d.count())),
        "getfd" => sys::pidfd_open(pid)
            .and_then(|pidfd| sys::pidfd_getfd(pidfd, 3))
            .map(|fd| format!("got fd {fd}")),
        _ => {
            println!("ATTACK unknown {how}");
            std::process::exit(2);
        }
    };
    let alive = sys::waitpid(pid, true).ok().flatten().is_none();
    let _ = sys::kill(pid, libc::SIGKILL);
    let _ = sys::waitpid(pid, false);
    match result {
        Ok(what) => println!("ATTACK {how} result=allowed {what} worker_alive={alive}"),
        Err(e) => println!(
            "ATTACK {how} result=denied {} worker_alive={alive}",
            errno_text(&e)
        ),
    }
    std::process::exit(0)
}
