//! The install layout, fixed at build time from the Makefile's `PREFIX`,
//! `BINDIR` and `LIBEXECDIR` (see `build.rs`). Each tool's launcher and
//! worker paths are in its descriptor (`crate::tools`), built from these.

#![forbid(unsafe_code)]

/// Installation prefix (`PREFIX`).
pub const PREFIX: &str = env!("PRIVSEP_BAKED_PREFIX");
/// Directory of the launchers (`BINDIR`).
pub const BINDIR: &str = env!("PRIVSEP_BAKED_BINDIR");
/// Directory under which `privsep/` holds the workers (`LIBEXECDIR`).
pub const LIBEXECDIR: &str = env!("PRIVSEP_BAKED_LIBEXECDIR");

/// Mode of the installed launcher (file-capability mode; setuid mode adds 04000).
pub const LAUNCHER_MODE: u32 = 0o755;
/// Mode of the installed worker: executable but not readable by users, so the
/// kernel marks the process non-dumpable at exec.
pub const WORKER_MODE: u32 = 0o711;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_absolute_and_derived_from_the_directories() {
        for dir in [PREFIX, BINDIR, LIBEXECDIR] {
            assert!(dir.starts_with('/') && !dir.contains("//"), "{dir}");
        }
        assert!(crate::tools::PING
            .worker_path
            .ends_with("/privsep/ping-worker"));
    }
}
