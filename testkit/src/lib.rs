//! Test-only helpers shared by the sandbox tests, the hostile suite and
//! their probes: [`probe`], the bare system calls a compromised worker (or
//! a test playing the launcher) makes. Kept out of the `policy` library so
//! that nothing a production binary links carries them.
//!
//! The bins `privsep-sandbox-probe` and `privsep-sandbox-malicious` apply a
//! worker's exact profile (`policy::sandbox::lock_down`) and then make one
//! forbidden call; `tests/sandbox.rs` checks how each ends.

#![deny(unsafe_code)]

#[allow(unsafe_code)]
pub mod probe;
