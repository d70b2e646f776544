//! Bakes the install layout into the crate at build time.
//!
//! Every worker's absolute path must be fixed when its launcher is
//! compiled: a privileged launcher never looks for its worker relative to
//! itself, in `$PATH` or in the environment. The Makefile passes the same `PREFIX`,
//! `BINDIR` and `LIBEXECDIR` it installs to, so the launcher, the SELinux file
//! contexts and the TOMOYO policy all name the same paths.

use std::env;

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
    // The tool descriptors (src/tools.rs) join these with each tool's own
    // file names, so that every path is spelled once.
    println!("cargo:rustc-env=PRIVSEP_BAKED_PREFIX={prefix}");
    println!("cargo:rustc-env=PRIVSEP_BAKED_BINDIR={bindir}");
    println!("cargo:rustc-env=PRIVSEP_BAKED_LIBEXECDIR={libexecdir}");
}
