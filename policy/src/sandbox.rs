//! The worker's sandbox profile as reviewed data: rlimits, namespaces,
//! Landlock and the seccomp allowlist. (Being written; see issue 2.)

#![forbid(unsafe_code)]
