//! `hostile-thief PID [MAXFD]`: the local user who wants the raw socket of a
//! process running under the same uid. It tries every way to take a
//! descriptor or read the memory of PID and prints one line per attempt:
//!
//! `<attempt> refused <errno>` — the kernel said no;
//! `<attempt> SUCCEEDED <what>` — the attack worked;
//! `<attempt> gone` — the target no longer exists (inconclusive);
//! `proc-fd-list PERMITTED` — the fd numbers are visible (not a theft).
//!
//! Exit status: 0 when every attempt was refused, 1 when any succeeded,
//! 3 when the target vanished. Run it as the attacker, never as root.

#![forbid(unsafe_code)]

use std::io::Read;
use std::os::fd::AsRawFd;

use hostile::sys;

#[derive(Default)]
struct Tally {
    succeeded: bool,
    gone: bool,
}

impl Tally {
    fn refused(&mut self, attempt: &str, e: &std::io::Error) {
        if e.raw_os_error() == Some(libc::ESRCH) {
            self.gone = true;
            println!("{attempt} gone");
        } else {
            println!("{attempt} refused {}", errno_name(e));
        }
    }

    fn success(&mut self, attempt: &str, what: &str) {
        self.succeeded = true;
        println!("{attempt} SUCCEEDED {what}");
    }
}

fn errno_name(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::EPERM) => "EPERM".into(),
        Some(libc::EACCES) => "EACCES".into(),
        Some(libc::EBADF) => "EBADF".into(),
        Some(libc::EFAULT) => "EFAULT".into(),
        Some(libc::ENOENT) => "ENOENT".into(),
        Some(libc::EIO) => "EIO".into(),
        Some(n) => format!("errno{n}"),
        None => e.to_string(),
    }
}

/// What a stolen descriptor is, e.g. "raw socket (domain 2, protocol 1)".
fn describe(fd: i32) -> String {
    match sys::getsockopt_int(fd, libc::SOL_SOCKET, libc::SO_TYPE) {
        Ok(ty) => {
            let domain = sys::getsockopt_int(fd, libc::SOL_SOCKET, libc::SO_DOMAIN).unwrap_or(-1);
            let proto = sys::getsockopt_int(fd, libc::SOL_SOCKET, libc::SO_PROTOCOL).unwrap_or(-1);
            let kind = if ty == libc::SOCK_RAW {
                "raw socket"
            } else {
                "socket"
            };
            format!("{kind} (domain {domain}, type {ty}, protocol {proto})")
        }
        Err(_) => "a non-socket descriptor".into(),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(pid) = args.first().and_then(|s| s.parse::<i32>().ok()) else {
        eprintln!("usage: hostile-thief PID [MAXFD]");
        std::process::exit(2);
    };
    let max_fd: i32 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(16);
    let mut t = Tally::default();

    // 1. Become its debugger.
    match sys::ptrace_attach(pid) {
        Ok(()) => {
            sys::ptrace_detach(pid);
            t.success("ptrace-attach", "attached");
        }
        Err(e) => t.refused("ptrace-attach", &e),
    }

    // 2. Duplicate its descriptors through a pidfd (pidfd_open itself needs no permission).
    match sys::pidfd_open(pid) {
        Ok(pidfd) => {
            let mut last = None;
            for fd in 0..=max_fd {
                match sys::pidfd_getfd(&pidfd, fd) {
                    Ok(stolen) => {
                        t.success(&format!("pidfd-getfd-{fd}"), &describe(stolen.as_raw_fd()));
                    }
                    // EBADF means "allowed, but nothing there": the permission check passed.
                    Err(e) if e.raw_os_error() == Some(libc::EBADF) => {
                        t.success(
                            &format!("pidfd-getfd-{fd}"),
                            "permitted (EBADF: no such fd)",
                        );
                    }
                    Err(e) => last = Some(e),
                }
            }
            if let Some(e) = last {
                t.refused("pidfd-getfd", &e);
            }
        }
        Err(e) => t.refused("pidfd-open", &e),
    }

    // 3. Re-open its descriptors through /proc.
    match std::fs::read_dir(format!("/proc/{pid}/fd")) {
        // Names only: which descriptor numbers are open. Reported, but not a
        // theft by itself (readlink and open of the entries are checked below).
        Ok(_) => println!("proc-fd-list PERMITTED (descriptor numbers only)"),
        Err(e) => t.refused("proc-fd-list", &e),
    }
    let mut last = None;
    for fd in 0..=max_fd {
        let path = format!("/proc/{pid}/fd/{fd}");
        match std::fs::OpenOptions::new().read(true).open(&path) {
            Ok(f) => t.success(&format!("proc-fd-open-{fd}"), &describe(f.as_raw_fd())),
            // ENXIO: a socket, reached but not openable through /proc; the
            // permission check passed, the link was followed.
            Err(e) if e.raw_os_error() == Some(libc::ENXIO) => {
                t.success(&format!("proc-fd-open-{fd}"), "reached a socket (ENXIO)")
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
            Err(e) => last = Some(e),
        }
    }
    match last {
        Some(e) => t.refused("proc-fd-open", &e),
        None => t.success(
            "proc-fd-open",
            "no descriptor refused (all ENOENT: the directory was readable)",
        ),
    }

    // 4. Read its memory.
    match sys::process_vm_read(pid, 0x1000, 16) {
        Ok(n) => t.success("process-vm-readv", &format!("read {n} bytes")),
        Err(e) if e.raw_os_error() == Some(libc::EFAULT) => {
            t.success("process-vm-readv", "permitted (EFAULT: address unmapped)")
        }
        Err(e) => t.refused("process-vm-readv", &e),
    }
    for file in ["mem", "environ", "maps"] {
        let attempt = format!("proc-{file}");
        match std::fs::File::open(format!("/proc/{pid}/{file}")) {
            Ok(mut f) => {
                let mut buf = [0u8; 64];
                // /proc/PID/mem at offset 0 is unmapped (EIO): opening was the breach.
                match f.read(&mut buf) {
                    Ok(n) => t.success(&attempt, &format!("read {n} bytes")),
                    Err(e) => t.success(&attempt, &format!("opened ({})", errno_name(&e))),
                }
            }
            Err(e) => t.refused(&attempt, &e),
        }
    }

    std::process::exit(if t.succeeded {
        1
    } else if t.gone {
        3
    } else {
        0
    });
}
