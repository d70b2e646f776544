//! The worker's command-line parser on arbitrary argv (any local user
//! chooses it, and the launcher passes it through untouched): never a panic,
//! and every error and warning is one line of printable text (house rule for
//! bad input; echoing a control character from argv would let an argument
//! forge more lines or drive the terminal).

#![no_main]

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Arguments separated by NUL, as in /proc/PID/cmdline; any bytes.
    let args: Vec<OsString> = data
        .split(|&b| b == 0)
        .map(|a| OsString::from_vec(a.to_vec()))
        .collect();
    for is_root in [false, true] {
        let outcome = worker::ping::cli::parse(&args, is_root);
        for w in &outcome.warnings {
            assert!(
                !w.trim_end().chars().any(char::is_control),
                "control character in warning {w:?}"
            );
        }
        if let Err(e) = &outcome.result {
            let line = e.to_string();
            assert!(
                !line.trim_end().chars().any(char::is_control),
                "control character in error {line:?}"
            );
            assert!(!line.is_empty());
        }
    }
});
