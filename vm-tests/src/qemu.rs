//! One boot: the QEMU command line (every flag with the reason it is there),
//! the run with a timeout, and the verdict.
//!
//! The guest reports on two channels: JSON lines on its second serial port
//! (ttyS1 → `<config>.results` on the host), and a one-byte verdict written
//! to the `isa-debug-exit` port, which makes QEMU exit with `(code << 1) | 1`.
//! Only [`AGENT_PASS`] and [`AGENT_FAIL`] count as a verdict; a panic (QEMU
//! exits 0 through -no-reboot), a timeout, any other code or a results file
//! without its closing line is an infrastructure failure.

#![forbid(unsafe_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::VmError;

/// Verdict byte: every case ran and passed.
pub const AGENT_PASS: u8 = 0x10;
/// Verdict byte: every case ran, at least one failed.
pub const AGENT_FAIL: u8 = 0x11;
/// Verdict byte: the agent could not set the configuration up (a policy did not load…).
pub const AGENT_SETUP_ERROR: u8 = 0x12;
/// The I/O port of the `isa-debug-exit` device.
pub const DEBUG_EXIT_PORT: u64 = 0xf4;

/// How to boot.
pub struct Boot<'a> {
    /// The kernel image: the ELF vmlinux (PVH entry) or the bzImage.
    pub kernel: &'a Path,
    /// The newc initramfs.
    pub initrd: &'a Path,
    /// The kernel command line.
    pub cmdline: String,
    /// Use KVM instead of TCG (opt-in: on some CI hosts /dev/kvm opens but guests hang).
    pub kvm: bool,
    /// Where the console log goes.
    pub console_log: PathBuf,
    /// Where the guest's result lines go.
    pub results: PathBuf,
    /// Give up after this long.
    pub timeout: Duration,
}

/// What a boot produced.
#[derive(Debug)]
pub struct Run {
    /// The agent's verdict byte, when QEMU exited through the debug port.
    pub verdict: Option<u8>,
    /// Wall time of the boot.
    pub elapsed: Duration,
    /// Why there is no verdict, if there is none.
    pub infra: Option<String>,
}

impl Boot<'_> {
    /// The QEMU arguments, each with the reason it is there.
    pub fn args(&self) -> Vec<(String, &'static str)> {
        let path = |p: &Path| p.display().to_string();
        let accel = if self.kvm { "kvm" } else { "tcg" };
        vec![
            ("-accel".into(), "accelerator:"),
            (accel.into(), "TCG by default: CI machines have no usable KVM; KVM only when asked for (VM_KVM=1)"),
            ("-machine".into(), "machine type:"),
            ("pc".into(), "the plain i440FX PC: ISA bus for isa-debug-exit and the 8250 UARTs, nothing else needed"),
            ("-cpu".into(), "CPU model:"),
            ("max".into(), "every feature TCG emulates, so host-built binaries never hit a missing instruction"),
            ("-m".into(), "memory:"),
            ("512M".into(), "the initramfs is unpacked into RAM (tens of MB) and the SELinux policy needs some; 512 MB is ample"),
            ("-smp".into(), "CPUs:"),
            ("1".into(), "one vCPU: TCG runs it on one host thread and the suite runs two VMs on a 2-core machine"),
            ("-nodefaults".into(), "no default VGA, NIC, floppy, CD-ROM, serial or monitor: less to emulate and probe at boot"),
            ("-display".into(), "display:"),
            ("none".into(), "headless"),
            ("-no-reboot".into(), "a guest reboot (panic=-1 after a panic) exits QEMU instead of looping"),
            ("-kernel".into(), "kernel image:"),
            (path(self.kernel), "the uncompressed vmlinux, booted by its PVH ELF note (no in-guest decompression)"),
            ("-initrd".into(), "initramfs:"),
            (path(self.initrd), "newc cpio written by the harness: agent, binaries, libraries, policies"),
            ("-append".into(), "kernel command line:"),
            (self.cmdline.clone(), "see configs.rs: every argument is explained there"),
            ("-serial".into(), "first UART (ttyS0):"),
            (format!("file:{}", path(&self.console_log)), "the console: kernel log and the agent's progress"),
            ("-serial".into(), "second UART (ttyS1):"),
            (format!("file:{}", path(&self.results)), "the agent's JSON result lines, kept apart from console noise"),
            ("-device".into(), "exit device:"),
            (
                format!("isa-debug-exit,iobase={DEBUG_EXIT_PORT:#x},iosize=0x04"),
                "the agent writes its verdict byte here; QEMU exits with (byte << 1) | 1",
            ),
        ]
    }

    /// Boots and waits for QEMU to exit or the timeout to pass.
    pub fn run(&self) -> Result<Run, VmError> {
        let _ = fs::remove_file(&self.results);
        let _ = fs::remove_file(&self.console_log);
        let stderr_log = self.console_log.with_extension("qemu-stderr");
        let stderr = fs::File::create(&stderr_log)
            .map_err(|e| VmError::Infra(format!("{}: {e}", stderr_log.display())))?;
        let start = Instant::now();
        let mut child = Command::new("qemu-system-x86_64")
            .args(self.args().into_iter().map(|(a, _)| a))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .map_err(|e| {
                VmError::Infra(format!(
                    "cannot start qemu-system-x86_64 (package qemu-system-x86): {e}"
                ))
            })?;
        let status = loop {
            if let Some(status) = child
                .try_wait()
                .map_err(|e| VmError::Infra(format!("waiting for QEMU: {e}")))?
            {
                break Some(status);
            }
            if start.elapsed() > self.timeout {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let elapsed = start.elapsed();
        let qemu_err = || {
            fs::read_to_string(&stderr_log)
                .unwrap_or_default()
                .trim()
                .to_string()
        };
        let (verdict, infra) = match status.map(|s| s.code()) {
            None => (
                None,
                Some(format!("timeout after {} s", self.timeout.as_secs())),
            ),
            Some(None) => (None, Some("QEMU killed by a signal".to_string())),
            Some(Some(code))
                if code & 1 == 1 && [AGENT_PASS, AGENT_FAIL].contains(&((code >> 1) as u8)) =>
            {
                (Some((code >> 1) as u8), None)
            }
            Some(Some(code)) if code & 1 == 1 && (code >> 1) as u8 == AGENT_SETUP_ERROR => (
                None,
                Some("the agent could not set the configuration up (see the console log)".into()),
            ),
            Some(Some(0)) => (
                None,
                Some("the guest shut down or panicked without a verdict".into()),
            ),
            Some(Some(code)) => (
                None,
                Some(format!("QEMU exited with status {code}: {}", qemu_err())),
            ),
        };
        Ok(Run {
            verdict,
            elapsed,
            infra,
        })
    }
}
