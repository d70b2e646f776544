//! A deadline on every program the installed-binary and hostile tests run:
//! a tool that hangs (a deadline it ignores, a reply it waits for forever)
//! becomes a failure that names the command, instead of a `make test` that
//! never ends.
//!
//! This is not a timing assertion: the deadline ([`DEADLINE`]) is minutes,
//! far beyond what any run of these tests takes on a loaded machine; it
//! only decides when "slow" must be "stuck".

use std::io;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a program under test may run before it counts as hung.
pub const DEADLINE: Duration = Duration::from_secs(180);

/// Kills a process (or a process group) when a deadline passes, unless
/// disarmed first.
pub struct Watchdog {
    cancel: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<bool>>,
}

impl Watchdog {
    /// Sends SIGKILL to `target` (a pid, or `-pgid` for a whole process
    /// group) once `deadline` has passed.
    pub fn arm(target: i32, deadline: Duration) -> Watchdog {
        let (cancel, cancelled) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || match cancelled.recv_timeout(deadline) {
            // Disarmed (a message or the sender dropped): the process ended.
            Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => false,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                // A failure is harmless: the target is gone already.
                let _ = crate::probe::kill(target, libc::SIGKILL);
                true
            }
        });
        Watchdog {
            cancel: Some(cancel),
            thread: Some(thread),
        }
    }

    /// Stops the watchdog; whether it had fired (killed its target).
    pub fn disarm(mut self) -> bool {
        self.stop()
    }

    fn stop(&mut self) -> bool {
        if let Some(cancel) = self.cancel.take() {
            let _ = cancel.send(());
        }
        self.thread
            .take()
            .map(|t| t.join().unwrap_or(false))
            .unwrap_or(false)
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.stop();
    }
}

fn hung(what: &dyn std::fmt::Debug, deadline: Duration) -> ! {
    panic!(
        "hung: still running after {} s, killed: {what:?}",
        deadline.as_secs()
    )
}

/// [`Command::output`] under [`DEADLINE`]: stdin from `/dev/null` (as
/// `output` does), stdout and stderr collected. The command runs in a
/// process group of its own, all of which the deadline kills (a shell's
/// children too). Panics, naming the command, if it hangs or cannot start.
pub fn output(cmd: &mut Command) -> Output {
    output_within(cmd, DEADLINE)
}

/// [`output`] with another deadline (a test that runs something for
/// longer on purpose).
pub fn output_within(cmd: &mut Command, deadline: Duration) -> Output {
    try_output_within(cmd, deadline).unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// [`output`], for a test that expects the command may not start (E2BIG):
/// that error is returned; a hang still fails.
pub fn try_output(cmd: &mut Command) -> io::Result<Output> {
    try_output_within(cmd, DEADLINE)
}

fn try_output_within(cmd: &mut Command, deadline: Duration) -> io::Result<Output> {
    use std::os::unix::process::CommandExt;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let child = cmd.spawn()?;
    let dog = Watchdog::arm(-(child.id() as i32), deadline);
    let out = child.wait_with_output();
    if dog.disarm() {
        hung(cmd, deadline);
    }
    out
}

/// [`Command::status`] under [`DEADLINE`], output inherited; stdin from
/// `/dev/null`.
pub fn status(cmd: &mut Command) -> ExitStatus {
    use std::os::unix::process::CommandExt;
    cmd.stdin(Stdio::null()).process_group(0);
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let dog = Watchdog::arm(-(child.id() as i32), DEADLINE);
    let status = child.wait();
    if dog.disarm() {
        hung(cmd, DEADLINE);
    }
    status.unwrap_or_else(|e| panic!("waiting for {cmd:?}: {e}"))
}

/// [`Child::wait_with_output`] under [`DEADLINE`] for a child the test
/// spawned itself (to inspect or signal it while it runs); `what` names it
/// in the failure. Only the child's own pid is killed: it may have made
/// itself a session leader.
pub fn wait_with_output(child: Child, what: &dyn std::fmt::Debug) -> Output {
    let dog = Watchdog::arm(child.id() as i32, DEADLINE);
    let out = child.wait_with_output();
    if dog.disarm() {
        hung(what, DEADLINE);
    }
    out.unwrap_or_else(|e| panic!("waiting for {what:?}: {e}"))
}

/// [`Child::wait`] under [`DEADLINE`]; as [`wait_with_output`].
pub fn wait(child: &mut Child, what: &dyn std::fmt::Debug) -> io::Result<ExitStatus> {
    let dog = Watchdog::arm(child.id() as i32, DEADLINE);
    let status = child.wait();
    if dog.disarm() {
        hung(what, DEADLINE);
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quick_command_runs_normally() {
        let out = output(Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"]));
        assert_eq!(out.status.code(), Some(3));
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");
    }

    #[test]
    fn a_hang_is_a_failure_naming_the_command() {
        // The shell's child holds the pipes open: only killing the whole
        // group ends the wait.
        let failure = std::panic::catch_unwind(|| {
            output_within(
                Command::new("sh").args(["-c", "sleep 1000; echo never"]),
                Duration::from_millis(300),
            )
        })
        .expect_err("a hang must fail");
        let text = failure
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        assert!(text.starts_with("hung: "), "{text}");
        assert!(text.contains("sleep 1000; echo never"), "{text}");
    }
}
