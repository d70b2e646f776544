//! How the launcher and the workers name the program in their messages,
//! and how they make text from outside printable: shared so that a launcher
//! failure and a worker's message read alike (`ping: …` when invoked as
//! `ping`), and so that argv\[0\] reaches a terminal escaped either way.

#![forbid(unsafe_code)]

use alloc::borrow::Cow;
use alloc::string::{String, ToString};
#[cfg(feature = "std")]
use std::ffi::OsString;
#[cfg(feature = "std")]
use std::os::unix::ffi::OsStrExt;

/// `s` (something the user or the network chose, about to be echoed in a
/// message) as one line of printable text: every control character (C0,
/// DEL, C1) and every other character Rust's `escape_debug` deems
/// unprintable (bidirectional overrides, line separators…) becomes its Rust
/// escape (`\n`, `\r`, `\t`, `\u{1b}`), so that an argument can neither
/// forge another line nor drive the terminal. Everything printable,
/// backslashes and quotes included, is left alone, so ordinary input keeps
/// iputils' wording exactly, and applying it twice changes nothing.
pub fn printable(s: &str) -> Cow<'_, str> {
    fn plain(c: char) -> bool {
        matches!(c, '\\' | '\'' | '"') || (!c.is_control() && c.escape_debug().len() == 1)
    }
    if s.chars().all(plain) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if plain(c) {
            out.push(c);
        } else {
            out.extend(c.escape_debug());
        }
    }
    Cow::Owned(out)
}

/// The program name for messages: argv\[0\] exactly as invoked (`ping`,
/// `/bin/ping`, `/usr/bin/privsep-ping`), as iputils' `error()` names the
/// program (`program_invocation_name`), made printable; `fallback` (the
/// launcher's name) when argv is empty or argv\[0\] is.
#[cfg(feature = "std")]
pub fn invocation_name(args: &[OsString], fallback: &str) -> String {
    invocation_name_bytes(args.first().map(|a| a.as_bytes()), fallback)
}

/// [`invocation_name`] of argv\[0\]'s bytes, if there is an argv\[0\]
/// (the launcher's form).
pub fn invocation_name_bytes(arg0: Option<&[u8]>, fallback: &str) -> String {
    match arg0 {
        Some(b) if !b.is_empty() => printable(&String::from_utf8_lossy(b)).into_owned(),
        _ => fallback.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_controls_and_keeps_the_rest() {
        assert_eq!(printable("ping: host 'a\\b'"), "ping: host 'a\\b'");
        assert_eq!(
            printable("a\nb\u{1b}[2J\u{202e}"),
            "a\\nb\\u{1b}[2J\\u{202e}"
        );
        let once = printable("x\ty").into_owned();
        assert_eq!(printable(&once), once);
    }

    #[test]
    fn the_name_is_argv0_as_invoked() {
        let args = |a: &[&str]| a.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            invocation_name(&args(&["ping", "-c1"]), "privsep-ping"),
            "ping"
        );
        assert_eq!(
            invocation_name(&args(&["/bin/ping"]), "privsep-ping"),
            "/bin/ping"
        );
        assert_eq!(
            invocation_name(&args(&["pi\nng"]), "privsep-ping"),
            "pi\\nng"
        );
        assert_eq!(
            invocation_name(&args(&[""]), "privsep-ping"),
            "privsep-ping"
        );
        assert_eq!(invocation_name(&[], "privsep-ping"), "privsep-ping");
    }
}
