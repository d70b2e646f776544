//! Bakes the install layout into the crate at build time.
//!
//! The worker's absolute path must be fixed when the launcher is compiled: a
//! privileged launcher never looks for its worker relative to itself, in
//! `$PATH` or in the environment. The Makefile passes the same `PREFIX`,
//! `BINDIR` and `LIBEXECDIR` it installs to, so the launcher, the SELinux file
//! contexts and the TOMOYO policy all name the same paths.

use std::{env, fs, path::Path};

fn main() {
    for var in ["PRIVSEP_PREFIX", "PRIVSEP_BINDIR", "PRIVSEP_LIBEXECDIR"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    let prefix = env::var("PRIVSEP_PREFIX").unwrap_or_else(|_| "/usr/local".into());
    let bindir = env::var("PRIVSEP_BINDIR").unwrap_or_else(|_| format!("{prefix}/bin"));
    let libexecdir = env::var("PRIVSEP_LIBEXECDIR").unwrap_or_else(|_| format!("{prefix}/libexec"));
    for (name, value) in [
        ("PREFIX", &prefix),
        ("BINDIR", &bindir),
        ("LIBEXECDIR", &libexecdir),
    ] {
        if !value.starts_with('/') || value.contains("//") || value.contains(['\n', '"', '\\']) {
            panic!("{name}={value:?} must be a clean absolute path");
        }
    }
    let out = Path::new(&env::var("OUT_DIR").unwrap()).join("layout.rs");
    let src = format!(
        "/// Installation prefix (`PREFIX`).\n\
         pub const PREFIX: &str = {prefix:?};\n\
         /// Directory of the launcher (`BINDIR`).\n\
         pub const BINDIR: &str = {bindir:?};\n\
         /// Directory under which `privsep/` holds the workers (`LIBEXECDIR`).\n\
         pub const LIBEXECDIR: &str = {libexecdir:?};\n\
         /// Absolute path of the installed launcher.\n\
         pub const LAUNCHER_PATH: &str = \"{bindir}/privsep-ping\";\n\
         /// Absolute path of the installed worker: the only program the launcher execs.\n\
         pub const WORKER_PATH: &str = \"{libexecdir}/privsep/ping-worker\";\n"
    );
    fs::write(out, src).unwrap();
}
