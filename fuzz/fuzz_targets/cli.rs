//! ping's command-line parser on arbitrary argv (any local user chooses
//! it, and the launcher passes it through untouched): never a panic, and
//! every error, warning and pattern line is one line of printable text
//! (house rule for bad input; echoing a control character from argv would
//! let an argument forge more lines or drive the terminal). Each input is
//! parsed as root and not, as `ping`, `ping4` and `ping6`, with and
//! without `IPUTILS_PING_PTR_LOOKUP=0`: every value of each of the
//! parser's other inputs at least once.

#![no_main]

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use libfuzzer_sys::fuzz_target;
use worker::ping::icmp::Family;

/// (real uid 0, the family the program's name selects, PTR lookups off).
const CALLERS: [(bool, Option<Family>, bool); 4] = [
    (false, None, false),
    (true, None, true),
    (false, Some(Family::V4), true),
    (true, Some(Family::V6), false),
];

fn assert_printable(what: &str, line: &str) {
    assert!(
        !line.trim_end().chars().any(char::is_control),
        "control character in {what} {line:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    // Arguments separated by NUL, as in /proc/PID/cmdline; any bytes.
    let args: Vec<OsString> = data
        .split(|&b| b == 0)
        .map(|a| OsString::from_vec(a.to_vec()))
        .collect();
    for (is_root, family, ptr_lookup_off) in CALLERS {
        let outcome = worker::ping::cli::parse(&args, is_root, family, ptr_lookup_off);
        for w in &outcome.warnings {
            assert_printable("warning", w);
        }
        if let Some(p) = &outcome.pattern_line {
            assert_printable("pattern line", p);
        }
        if let Err(e) = &outcome.result {
            let line = e.to_string();
            assert_printable("error", &line);
            assert!(!line.is_empty());
        }
    }
});
