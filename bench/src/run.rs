//! Running the two pings: as the unprivileged user or as root, with a clean
//! environment, timed from the child's `execve` to its reaping, and never
//! for longer than a timeout (a hung worker must not hang `make bench`).

#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::sys;

/// Who runs the command.
#[derive(Debug, Clone, Copy)]
pub enum As {
    /// The unprivileged user: file capabilities are granted at exec.
    User {
        uid: u32,
        gid: u32,
    },
    Root,
}

/// One program under test.
#[derive(Debug, Clone)]
pub struct Tool {
    /// "privsep" or "iputils".
    pub name: &'static str,
    pub path: PathBuf,
}

impl As {
    /// (uid, gid) to switch to before exec, if any.
    pub fn ids(self) -> Option<(u32, u32)> {
        match self {
            As::User { uid, gid } => Some((uid, gid)),
            As::Root => None,
        }
    }
}

/// The environment every run gets: a user's ordinary one, reduced to PATH
/// and `LANG` (default `C.UTF-8`, set by `BENCH_LANG`, empty for none).
/// The locale matters: iputils loads the locale files while it still
/// holds CAP_NET_RAW; every usual locale prints `time=0.045 ms` alike.
pub fn bench_lang() -> Option<String> {
    match std::env::var("BENCH_LANG") {
        Ok(v) if v.is_empty() => None,
        Ok(v) => Some(v),
        Err(_) => Some("C.UTF-8".to_string()),
    }
}

/// A command ready to spawn: the bench environment, cwd `/`, stdin null.
/// The identity is switched in the pre-exec hook ([`sys::before_exec`]).
pub fn command(program: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .current_dir("/")
        .stdin(Stdio::null());
    if let Some(lang) = bench_lang() {
        cmd.env("LANG", lang);
    }
    cmd
}

/// What one run produced.
#[derive(Debug)]
pub struct Outcome {
    /// Exit status (None: killed by a signal or by the watchdog).
    pub code: Option<i32>,
    /// From the child's `execve` to its reaping.
    pub elapsed: Duration,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
}

impl Outcome {
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }

    /// A one-line reason for a failed run, for the report.
    pub fn failure(&self) -> String {
        let first = self
            .stderr
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim();
        let how = if self.timed_out {
            "timed out".to_string()
        } else {
            match self.code {
                Some(c) => format!("exit status {c}"),
                None => "killed by a signal".to_string(),
            }
        };
        if first.is_empty() {
            how
        } else {
            format!("{how}: {first}")
        }
    }
}

/// Runs `cmd` to completion. With `capture`, stdout and stderr are collected
/// (on threads, so a chatty flood cannot block on a full pipe); without, they
/// go to /dev/null and the measurement includes no pipe reading at all.
pub fn run(mut cmd: Command, who: As, capture: bool, timeout: Duration) -> io::Result<Outcome> {
    let (stamp_read, stamp_write) = sys::pipe()?;
    sys::before_exec(&mut cmd, false, who.ids(), Some(&stamp_write));
    if capture {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    } else {
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
    }
    let mut child = cmd.spawn()?;
    drop(cmd); // closes our copy of the stamp pipe's write end
    drop(stamp_write);
    let guard = watchdog().arm(child.id(), timeout);
    let out = child.stdout.take().map(|mut s| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = s.read_to_end(&mut buf);
            buf
        })
    });
    let err = child.stderr.take().map(|mut s| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = s.read_to_end(&mut buf);
            buf
        })
    });
    let status = child.wait()?;
    let end = sys::monotonic_ns();
    let timed_out = guard.disarm();
    let mut stamp = [0u8; 8];
    let start = match File::from(stamp_read).read_exact(&mut stamp) {
        Ok(()) => u64::from_ne_bytes(stamp),
        Err(e) => {
            return Err(io::Error::other(format!(
                "no exec timestamp from the child: {e}"
            )))
        }
    };
    let text = |h: Option<std::thread::JoinHandle<Vec<u8>>>| {
        h.map(|h| String::from_utf8_lossy(&h.join().unwrap_or_default()).into_owned())
            .unwrap_or_default()
    };
    Ok(Outcome {
        code: status.code(),
        elapsed: Duration::from_nanos(end.saturating_sub(start)),
        stdout: text(out),
        stderr: text(err),
        timed_out,
    })
}

/// Kills children that outlive their timeout. One thread for the whole run.
pub struct Watchdog {
    deadlines: Mutex<HashMap<u32, (Instant, bool)>>,
}

/// Disarms its entry when dropped or disarmed.
pub struct Armed<'a> {
    dog: &'a Watchdog,
    pid: u32,
}

impl Watchdog {
    pub fn arm(&self, pid: u32, timeout: Duration) -> Armed<'_> {
        self.deadlines
            .lock()
            .unwrap()
            .insert(pid, (Instant::now() + timeout, false));
        Armed { dog: self, pid }
    }
}

impl Armed<'_> {
    /// Returns whether the watchdog had to kill the child.
    pub fn disarm(self) -> bool {
        let fired = self
            .dog
            .deadlines
            .lock()
            .unwrap()
            .get(&self.pid)
            .is_some_and(|e| e.1);
        fired
    }
}

impl Drop for Armed<'_> {
    fn drop(&mut self) {
        self.dog.deadlines.lock().unwrap().remove(&self.pid);
    }
}

/// The process-wide watchdog (started on first use).
pub fn watchdog() -> &'static Watchdog {
    static DOG: OnceLock<&'static Watchdog> = OnceLock::new();
    DOG.get_or_init(|| {
        let dog: &'static Watchdog = Box::leak(Box::new(Watchdog {
            deadlines: Mutex::new(HashMap::new()),
        }));
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(100));
            let now = Instant::now();
            for (pid, (deadline, fired)) in dog.deadlines.lock().unwrap().iter_mut() {
                if !*fired && now > *deadline {
                    // Entries are removed as soon as their child is reaped,
                    // so `pid` still names our child here (bar a reap in
                    // the last instant before its deadline).
                    let _ = sys::send_signal(*pid, sys::SIGKILL);
                    *fired = true;
                }
            }
        });
        dog
    })
}
