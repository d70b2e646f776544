//! A writer for the "newc" cpio format (the only one the kernel's initramfs
//! unpacker reads): a 110-byte ASCII header starting "070701", the name with
//! its NUL, padding to 4 bytes, the data, padding to 4 bytes, and a final
//! "TRAILER!!!" entry. Written here rather than by `cpio(1)` so that modes
//! and owners do not depend on the host's files or umask.

#![forbid(unsafe_code)]

use std::io::{self, Write};

/// An initramfs under construction, kept in memory (a few tens of MB).
#[derive(Default)]
pub struct Archive {
    buf: Vec<u8>,
    ino: u32,
    dirs: std::collections::BTreeSet<String>,
}

const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;
const S_IFLNK: u32 = 0o120000;
const S_IFCHR: u32 = 0o020000;

impl Archive {
    /// An empty archive.
    pub fn new() -> Self {
        Self::default()
    }

    fn entry(&mut self, name: &str, mode: u32, uid: u32, gid: u32, data: &[u8]) {
        self.entry_dev(name, mode, uid, gid, data, (0, 0));
    }

    fn entry_dev(
        &mut self,
        name: &str,
        mode: u32,
        uid: u32,
        gid: u32,
        data: &[u8],
        rdev: (u32, u32),
    ) {
        let name = name.trim_start_matches('/');
        self.ino += 1;
        let fields = [
            self.ino,              // c_ino
            mode,                  // c_mode (type and permission bits)
            uid,                   // c_uid
            gid,                   // c_gid
            1,                     // c_nlink
            0,                     // c_mtime: reproducible
            data.len() as u32,     // c_filesize
            0,                     // c_devmajor
            0,                     // c_devminor
            rdev.0,                // c_rdevmajor
            rdev.1,                // c_rdevminor
            name.len() as u32 + 1, // c_namesize, with the NUL
            0,                     // c_check (unused by newc)
        ];
        self.buf.extend_from_slice(b"070701");
        for f in fields {
            self.buf.extend_from_slice(format!("{f:08X}").as_bytes());
        }
        self.buf.extend_from_slice(name.as_bytes());
        self.buf.push(0);
        self.pad();
        self.buf.extend_from_slice(data);
        self.pad();
    }

    fn pad(&mut self) {
        while self.buf.len() & 3 != 0 {
            self.buf.push(0);
        }
    }

    /// Every parent directory of `path`, created once, root-owned 0755.
    fn parents(&mut self, path: &str) {
        let mut acc = String::new();
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        for part in &parts[..parts.len().saturating_sub(1)] {
            acc.push('/');
            acc.push_str(part);
            if self.dirs.insert(acc.clone()) {
                let dir = acc.clone();
                self.entry(&dir, S_IFDIR | 0o755, 0, 0, &[]);
            }
        }
    }

    /// A directory with this mode.
    pub fn dir(&mut self, path: &str, mode: u32) {
        self.parents(path);
        if self.dirs.insert(path.to_string()) {
            self.entry(path, S_IFDIR | mode, 0, 0, &[]);
        }
    }

    /// A regular file owned by `uid:gid`.
    pub fn file(&mut self, path: &str, mode: u32, uid: u32, gid: u32, data: &[u8]) {
        self.parents(path);
        self.entry(path, S_IFREG | mode, uid, gid, data);
    }

    /// A symbolic link.
    pub fn symlink(&mut self, path: &str, target: &str) {
        self.parents(path);
        self.entry(path, S_IFLNK | 0o777, 0, 0, target.as_bytes());
    }

    /// A character device node (the kernel opens /dev/console for PID 1 before devtmpfs is mounted).
    pub fn char_dev(&mut self, path: &str, mode: u32, major: u32, minor: u32) {
        self.parents(path);
        self.entry_dev(path, S_IFCHR | mode, 0, 0, &[], (major, minor));
    }

    /// Terminates the archive and writes it out.
    pub fn finish(mut self, out: &mut impl Write) -> io::Result<()> {
        self.entry("TRAILER!!!", 0, 0, 0, &[]);
        while self.buf.len() & 511 != 0 {
            self.buf.push(0);
        }
        out.write_all(&self.buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_layout_matches_newc() {
        let mut a = Archive::new();
        a.file("/etc/x", 0o644, 0, 0, b"hello");
        let mut out = Vec::new();
        a.finish(&mut out).unwrap();
        // First entry is the parent directory "etc".
        assert_eq!(&out[..6], b"070701");
        assert_eq!(&out[14..22], b"000041ED"); // S_IFDIR | 0755
        assert_eq!(&out[110..114], b"etc\0");
        let second = out.windows(6).skip(1).position(|w| w == b"070701").unwrap() + 1;
        assert_eq!(second % 4, 0);
        assert_eq!(&out[second + 54..second + 62], b"00000005"); // filesize
        assert_eq!(&out[second + 110..second + 116], b"etc/x\0");
        assert_eq!(out.len() % 512, 0);
        assert!(out.windows(10).any(|w| w == b"TRAILER!!!"));
    }

    #[test]
    fn cpio_tool_reads_it() {
        let Ok(_) = std::process::Command::new("cpio").arg("--version").output() else {
            panic!("cpio(1) is needed for this test (package cpio)");
        };
        let mut a = Archive::new();
        a.file("/a/b/c", 0o711, 0, 0, b"xyz");
        a.symlink("/a/l", "b/c");
        let mut out = Vec::new();
        a.finish(&mut out).unwrap();
        let mut child = std::process::Command::new("cpio")
            .args(["-t", "-v", "--quiet"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(&out).unwrap();
        let listing = String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap();
        assert!(listing.contains("-rwx--x--x"), "{listing}");
        assert!(listing.contains("a/b/c"), "{listing}");
        assert!(listing.contains("a/l -> b/c"), "{listing}");
    }
}
