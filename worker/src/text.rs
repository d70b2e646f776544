//! Printable text: every byte that came from outside (arguments, names
//! from hosts files or DNS, packet contents) goes through [`printable`]
//! before it reaches a terminal, on stdout as on stderr (the launcher's
//! messages use the same function, from `policy::text`); and OS errors in
//! C's words. Shared by every tool's worker.

#![forbid(unsafe_code)]

pub use policy::text::printable;

/// An OS error as C's `strerror` words it, without Rust's " (os error N)".
pub fn os_error_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}
