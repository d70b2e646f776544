//! The one way a test says what it needs beyond a plain build: root, the
//! staged install, the test user, a reference tool, a program such as
//! `strace`. The convention (docs/testing.md):
//!
//! - such a test is `#[ignore = "needs …: make TARGET"]`, so that a plain
//!   `cargo test` lists it as *ignored*, by name, and never counts it as
//!   passed;
//! - `make TARGET` runs it with `--include-ignored`, after building what
//!   it needs and setting the `PRIVSEP_…`/`PARITY_…` variables;
//! - its first lines ask this module for each prerequisite, which returns
//!   it or fails the test with one message naming what is missing and
//!   where it comes from. A test run without its prerequisites fails; it
//!   never returns early as a pass.
//!
//! No cargo feature and no test that checks for root by itself and returns.

use std::path::{Path, PathBuf};

/// Fails the test: `what` is missing.
fn missing(what: &str) -> ! {
    panic!(
        "prerequisite missing: {what}. This test is ignored by a plain `cargo test`; \
         its make target (named in its #[ignore] reason) provides what it needs \
         (docs/testing.md)"
    )
}

/// The test runs as root (effective uid 0: the owner of `/proc/self`).
pub fn root() {
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata("/proc/self").map(|m| m.uid()) {
        Ok(0) => {}
        Ok(euid) => missing(&format!("root (this test runs as euid {euid})")),
        Err(e) => missing(&format!("root (/proc/self: {e})")),
    }
}

/// Environment variable `name`, set (and not empty) by the make target.
pub fn var(name: &str) -> String {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v,
        _ => missing(&format!("{name} is not set")),
    }
}

/// A directory named by variable `name` that exists.
fn dir(name: &str) -> PathBuf {
    let d = PathBuf::from(var(name));
    if !d.is_dir() {
        missing(&format!("{name}={}: no such directory", d.display()));
    }
    d
}

/// The staged install (`make stage`: `PRIVSEP_STAGE`), root itself.
pub fn stage() -> PathBuf {
    root();
    dir("PRIVSEP_STAGE")
}

/// The hostile suite's own staged install, which its tests may damage
/// (`make hostile-stage`: `PRIVSEP_HOSTILE_STAGE`).
pub fn hostile_stage() -> PathBuf {
    root();
    dir("PRIVSEP_HOSTILE_STAGE")
}

/// The unprivileged test user's name (`PRIVSEP_TEST_USER`, created by
/// `scripts/test-user.sh`).
pub fn test_user() -> String {
    var("PRIVSEP_TEST_USER")
}

/// An executable file at `path` (a reference tool, say); `from` says what
/// provides it.
pub fn program(path: &Path, from: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() && m.permissions().mode() & 0o111 != 0 => path.to_path_buf(),
        _ => missing(&format!("{} ({from})", path.display())),
    }
}

/// An executable named `name` on `PATH`; `from` says what provides it.
pub fn command(name: &str, from: &str) -> PathBuf {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| missing(&format!("{name} on PATH ({from})")))
}
