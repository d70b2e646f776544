//! Printable text: every byte that came from outside (arguments, names
//! from hosts files or DNS, packet contents) goes through [`printable`]
//! before it reaches a terminal, on stdout as on stderr; and OS errors in
//! C's words. Shared by every tool's worker.

#![forbid(unsafe_code)]

use std::borrow::Cow;

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

/// An OS error as C's `strerror` words it, without Rust's " (os error N)".
pub fn os_error_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}
