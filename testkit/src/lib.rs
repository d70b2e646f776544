//! Test-only helpers shared by the sandbox tests, the installed-binary
//! tests, the hostile suite and their probes: [`copy`], a program copied
//! for a test to execute; [`probe`], the bare system
//! calls a compromised worker (or a test playing the launcher) makes;
//! [`deadline`], the one way those tests run a program, so that a hang is a
//! failure naming it; [`trace`], a program stopped under ptrace at an
//! `execve` (the launcher between its drop and its worker); [`procfs`],
//! what `/proc` says about a running process; [`need`], how a test gets
//! what it needs beyond a build or fails naming it (docs/testing.md);
//! [`user`], the unprivileged test user; [`netns`], the network namespaces
//! tests create (one, or a veth pair). Kept out of
//! the `policy` library so that nothing a production binary links carries
//! them.
//!
//! The bins `privsep-sandbox-probe` and `privsep-sandbox-malicious` apply a
//! worker's exact profile (`policy::sandbox::lock_down`) and then make one
//! forbidden call; `tests/sandbox.rs` checks how each ends.

#![deny(unsafe_code)]

pub mod copy;
pub mod deadline;
pub mod need;
pub mod netns;
#[allow(unsafe_code)]
pub mod probe;
pub mod procfs;
#[allow(unsafe_code)]
pub mod trace;
pub mod user;
