//! The install layout, fixed at build time from the Makefile's `PREFIX`,
//! `BINDIR` and `LIBEXECDIR` (see `build.rs`). Everything that names an
//! installed path (the launcher's exec, the SELinux file contexts, the TOMOYO
//! policy) takes it from here.

#![forbid(unsafe_code)]

include!(concat!(env!("OUT_DIR"), "/layout.rs"));

/// Mode of the installed launcher (file-capability mode; setuid mode adds 04000).
pub const LAUNCHER_MODE: u32 = 0o755;
/// Mode of the installed worker: executable but not readable by users, so the
/// kernel marks the process non-dumpable at exec.
pub const WORKER_MODE: u32 = 0o711;

/// SELinux type of the launcher's domain; the worker refuses to run in it.
pub const SELINUX_LAUNCHER_TYPE: &str = "privsep_ping_t";
/// SELinux type of the worker's domain.
pub const SELINUX_WORKER_TYPE: &str = "privsep_ping_worker_t";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_absolute_and_derived_from_the_directories() {
        assert!(LAUNCHER_PATH.starts_with(BINDIR));
        assert!(WORKER_PATH.starts_with(LIBEXECDIR));
        assert!(WORKER_PATH.ends_with("/privsep/ping-worker"));
        assert!(LAUNCHER_PATH.starts_with('/') && WORKER_PATH.starts_with('/'));
    }
}
