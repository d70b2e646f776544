//! Denial evidence: new records of the kernel log (`/dev/kmsg`, where the
//! AVC lines land without auditd) and of TOMOYO's audit log
//! (`/sys/kernel/security/tomoyo/audit`, where TOMOYO logs rejections — not
//! the kernel log), read before and after each case.

#![forbid(unsafe_code)]

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;

use super::Env;

/// The two logs, opened once by PID 1.
pub struct Logs {
    kmsg: Option<File>,
    tomoyo: Option<File>,
}

fn open_nonblocking(path: &str) -> Option<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .ok()
}

/// Every record available now; `/dev/kmsg` gives one per read and EAGAIN at the end,
/// TOMOYO's audit file one entry per read and 0 at the end.
fn drain(f: &mut File, out: &mut Vec<String>) {
    let mut buf = vec![0u8; 16384];
    for _ in 0..100_000 {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let text = String::from_utf8_lossy(&buf[..n]);
                for line in text.lines().filter(|l| !l.trim().is_empty()) {
                    // kmsg: "level,seq,usec,flags;message"
                    let msg = line.split_once(';').map_or(line, |(_, m)| m);
                    out.push(msg.trim().to_string());
                }
            }
            Err(e) if e.raw_os_error() == Some(libc::EPIPE) => continue, // kmsg: overwritten records
            Err(_) => break,
        }
    }
}

impl Logs {
    /// Opens the logs the configuration has.
    pub fn open(env: &Env) -> Logs {
        Logs {
            kmsg: open_nonblocking("/dev/kmsg"),
            tomoyo: if env.tomoyo() {
                open_nonblocking("/sys/kernel/security/tomoyo/audit")
            } else {
                None
            },
        }
    }

    /// Forgets everything logged so far.
    pub fn skip_to_now(&mut self) {
        let mut sink = Vec::new();
        if let Some(f) = self.kmsg.as_mut() {
            drain(f, &mut sink);
        }
        if let Some(f) = self.tomoyo.as_mut() {
            drain(f, &mut sink);
        }
    }

    /// Everything logged since the last call.
    pub fn collect(&mut self, _env: &Env) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(f) = self.kmsg.as_mut() {
            drain(f, &mut out);
        }
        if let Some(f) = self.tomoyo.as_mut() {
            // One TOMOYO entry is a header line, the domain and the request, then a blank line.
            let mut text = String::new();
            let _ = f.read_to_string(&mut text);
            out.extend(
                text.split("\n\n")
                    .map(|e| {
                        e.lines()
                            .map(|l| l.trim_matches(|c: char| c == '\0' || c.is_whitespace()))
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .filter(|e| !e.is_empty())
                    .map(|e| format!("tomoyo-audit: {e}")),
            );
        }
        out
    }
}
