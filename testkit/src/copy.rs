//! Copying a program that a test then executes, without this process ever
//! holding it open for writing.
//!
//! `std::fs::copy` writes the copy through a descriptor of the test
//! process. Test threads run side by side, and a child forked by another
//! thread in that moment inherits the descriptor until its own `execve`;
//! while it holds it, executing the copy fails with `ETXTBSY` ("Text file
//! busy"), so a hostile test failed now and then under load. `cp` in a
//! child of its own is the only process that ever has the copy open for
//! writing, and it has exited when this returns.

use std::io;
use std::path::Path;
use std::process::{Command, Stdio};

/// Copies the file `from` to `to` (replacing it), out of process.
pub fn copy_program(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    let (from, to) = (from.as_ref(), to.as_ref());
    let status = Command::new("cp")
        .arg("--")
        .arg(from)
        .arg(to)
        .stdin(Stdio::null())
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "cp {} {}: {status}",
            from.display(),
            to.display()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_the_bytes_and_fails_on_a_missing_source() {
        let dir = tempfile::tempdir().unwrap();
        let (from, to) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&from, b"\x7fELF-ish").unwrap();
        std::fs::write(&to, b"old and longer").unwrap();
        copy_program(&from, &to).unwrap();
        assert_eq!(std::fs::read(&to).unwrap(), b"\x7fELF-ish");
        assert!(copy_program(dir.path().join("missing"), &to).is_err());
    }
}
