//! Support code for the hostile-input suite: where the staged installs
//! are, the iputils output grammar every line of the worker must match,
//! ICMP packet building for the hostile responder, and starting and
//! stopping the hostile peers. The test user, network namespaces and what
//! `/proc` says about a running process are testkit's (`user`, `netns`,
//! `procfs`).
//!
//! The attacks themselves live in `src/bin/` (tools run as the attacker) and
//! `tests/` (the suite: ignored by a plain `cargo test`, run by `make
//! test-hostile`; docs/testing.md).
//! Only [`sys`] contains `unsafe` code.

#![deny(unsafe_code)]

pub mod grammar;
pub mod icmp;
pub mod responder;
#[allow(unsafe_code)]
pub mod sys;

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The crate's one error type.
#[derive(Debug, thiserror::Error)]
pub enum HostileError {
    /// A command the suite depends on failed.
    #[error("{what}: {detail}")]
    Command { what: String, detail: String },
    /// A system call failed.
    #[error("{call}: {source}")]
    Sys {
        call: &'static str,
        source: io::Error,
    },
    /// Something the suite needs is not set up (run it through `make test-hostile`).
    #[error("{0}")]
    Setup(String),
}

/// The ordinary staged install (`make stage`, `PRIVSEP_STAGE`).
pub fn stage() -> PathBuf {
    testkit::need::stage()
}

/// The suite's own staged install, which tests may damage
/// (`PRIVSEP_HOSTILE_STAGE`, built for its own prefix).
pub fn hostile_stage() -> PathBuf {
    testkit::need::hostile_stage()
}

/// The launcher under `stage`.
pub fn launcher_in(stage: &Path) -> PathBuf {
    stage.join("bin/privsep-ping")
}

/// The worker under `stage`.
pub fn worker_in(stage: &Path) -> PathBuf {
    stage.join("libexec/privsep/ping-worker")
}

/// `tool`'s launcher under `stage`.
pub fn launcher_of(stage: &Path, tool: &policy::tools::Tool) -> PathBuf {
    stage.join("bin").join(tool.launcher_name)
}

/// `tool`'s worker under `stage`.
pub fn worker_of(stage: &Path, tool: &policy::tools::Tool) -> PathBuf {
    stage.join("libexec/privsep").join(tool.worker_name)
}

/// The unprivileged attacker: the test user.
pub use testkit::user::User;

/// A world-readable scratch directory under /tmp for this test process:
/// the attacker (another uid) must be able to reach what we put there.
/// Created with `tempfile`; the handle lives in a static for the whole test
/// process, so the directory outlives it: earlier runs' directories older
/// than an hour are removed first.
pub fn scratch_dir() -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        if let Ok(entries) = std::fs::read_dir("/tmp") {
            for e in entries.flatten() {
                let stale = e
                    .file_name()
                    .to_string_lossy()
                    .starts_with("privsep-hostile-")
                    && e.metadata()
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| t.elapsed().ok())
                        .is_some_and(|age| age.as_secs() > 3600);
                if stale {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        let dir = tempfile::Builder::new()
            .prefix("privsep-hostile-")
            .tempdir_in("/tmp")
            .expect("create scratch dir");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod scratch dir");
        dir
    })
    .path()
    .to_path_buf()
}

/// A copy of one of this crate's binaries (from `env!("CARGO_BIN_EXE_…")`)
/// where the attacker can execute it, whatever the permissions of the clone.
/// `install(1)` writes it: a descriptor open for writing in *this* process
/// would leak into children forked meanwhile by other test threads and make
/// their exec of the copy fail with ETXTBSY.
pub fn public_copy(built: &str) -> PathBuf {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let src = Path::new(built);
    let dst = scratch_dir().join(src.file_name().expect("binary name"));
    if !dst.exists() {
        let out = testkit::deadline::output(
            Command::new("install")
                .args(["-m", "0755"])
                .arg(src)
                .arg(&dst),
        );
        assert!(
            out.status.success(),
            "install {built}: {}",
            text(&out.stderr)
        );
    }
    dst
}

/// Decodes output for assertions and messages.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Fails if `stderr` shows a Rust panic.
pub fn assert_no_panic(who: &str, stderr: &str) {
    assert!(!stderr.contains("panicked"), "{who} panicked:\n{stderr}");
    assert!(
        !stderr.contains("RUST_BACKTRACE"),
        "{who} panicked:\n{stderr}"
    );
}
