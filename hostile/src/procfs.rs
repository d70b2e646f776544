//! What the kernel reports about a running process through `/proc`, read as
//! root: its descriptors and what they point at, its credentials,
//! capabilities and dumpable state, its environment; and the raw sockets
//! alive in the current network namespace.

#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Descriptor number → link target (`socket:[123]`, `/dev/null`, `pipe:[9]`…).
pub fn fds(pid: i32) -> std::io::Result<BTreeMap<i32, String>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(format!("/proc/{pid}/fd"))? {
        let entry = entry?;
        let Some(n) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        // A descriptor can close between readdir and readlink.
        if let Ok(target) = std::fs::read_link(entry.path()) {
            out.insert(n, target.to_string_lossy().into_owned());
        }
    }
    Ok(out)
}

/// `/proc/PID/status` as name → value.
pub fn status(pid: i32) -> std::io::Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect())
}

/// The executable the process runs now.
pub fn exe(pid: i32) -> std::io::Result<PathBuf> {
    std::fs::read_link(format!("/proc/{pid}/exe"))
}

/// The process's environment, one `NAME=value` per entry.
pub fn environ(pid: i32) -> std::io::Result<Vec<String>> {
    let raw = std::fs::read(format!("/proc/{pid}/environ"))?;
    Ok(raw
        .split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect())
}

/// Whether any capability set in `status` is non-empty (`CapInh`, `CapPrm`,
/// `CapEff`, `CapAmb`; the bounding set is not a privilege by itself).
pub fn holds_capabilities(status: &BTreeMap<String, String>) -> bool {
    ["CapInh", "CapPrm", "CapEff", "CapAmb"].iter().any(|k| {
        status.get(*k).is_some_and(|v| {
            u64::from_str_radix(v, 16).is_ok_and(|n| n != 0) || u64::from_str_radix(v, 16).is_err()
        })
    })
}

/// Inodes of the raw sockets alive in this network namespace
/// (`/proc/net/raw` and `/proc/net/raw6`).
pub fn raw_socket_inodes() -> Vec<u64> {
    let mut inodes = Vec::new();
    for table in ["/proc/net/raw", "/proc/net/raw6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            // sl local rem st tx:rx tr:tm retr uid timeout inode ...
            if let Some(inode) = line.split_whitespace().nth(9).and_then(|s| s.parse().ok()) {
                inodes.push(inode);
            }
        }
    }
    inodes
}

/// The socket inode of an fd link target `socket:[N]`.
pub fn socket_inode(link: &str) -> Option<u64> {
    link.strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}
