//! The static and traced figures: system calls made while privileged (from
//! an `strace -f -u USER` log), installed binary sizes, and the lines of Rust
//! that end up in the launcher.

#![forbid(unsafe_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::report::{obj, string, Json, JsonExt};

/// One system call from an strace log.
#[derive(Debug, Clone)]
pub struct Call {
    /// The process that made it (strace -f's first column).
    pub pid: u32,
    pub name: String,
    /// The call from its name on, with its result (an interrupted call's
    /// `<... resumed>` half is joined to it).
    pub line: String,
}

/// Parses `strace -f -o` output: `PID name(args) = ret`. Signals and exits
/// are not calls; a call strace saw interrupted by another process's
/// (`name(args <unfinished ...>`, later `<... name resumed>rest`) is one
/// call, at its start, with the resumed half's result.
pub fn parse_strace(log: &str) -> Vec<Call> {
    let mut calls: Vec<Call> = Vec::new();
    for l in log.lines() {
        let rest = l.trim_start();
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let pid = rest[..digits].parse().unwrap_or(0);
        let rest = rest[digits..].trim_start();
        if let Some(resumed) = rest.strip_prefix("<... ") {
            let Some((name, tail)) = resumed.split_once(" resumed>") else {
                continue;
            };
            if let Some(c) = calls
                .iter_mut()
                .rev()
                .find(|c| c.pid == pid && c.name == name && c.line.ends_with("<unfinished ...>"))
            {
                let head = c.line.trim_end_matches("<unfinished ...>").trim_end();
                c.line = format!("{head}{tail}");
            }
            continue;
        }
        let Some((name, _)) = rest.split_once('(') else {
            continue;
        };
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            calls.push(Call {
                pid,
                name: name.to_string(),
                line: rest.to_string(),
            });
        }
    }
    calls
}

/// Where privilege ends in a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The launcher's process's next successful `execve` (launcher →
    /// worker), inclusive.
    WorkerExec,
    /// The first `capset` that leaves the permitted set empty, inclusive.
    PermittedEmpty,
}

/// The calls of the program's process from its own `execve` up to and
/// including `end`; None if `end` never happens (then privilege was never
/// given up). Calls of processes it forks (arping's broker) are not
/// counted: their order against the launcher's in the log is the
/// scheduler's, and they run after the drop.
pub fn privileged_window(calls: &[Call], end: End) -> Option<Vec<Call>> {
    let is_exec_ok = |c: &Call| c.name.starts_with("execve") && c.line.trim_end().ends_with("= 0");
    let start = calls.iter().position(is_exec_ok)?;
    let pid = calls[start].pid;
    let own: Vec<Call> = calls[start..]
        .iter()
        .filter(|c| c.pid == pid)
        .cloned()
        .collect();
    let stop = own[1..].iter().position(|c| match end {
        End::WorkerExec => is_exec_ok(c),
        End::PermittedEmpty => c.name == "capset" && c.line.contains("permitted=0,"),
    })? + 1;
    Some(own[..=stop].to_vec())
}

/// Count, distinct count and per-name histogram of a window.
pub fn window_json(window: Option<impl AsRef<[Call]>>) -> Json {
    let mut obj = obj();
    match window {
        Some(w) => {
            let w = w.as_ref();
            let mut hist: BTreeMap<&str, i64> = BTreeMap::new();
            for c in w {
                *hist.entry(&c.name).or_default() += 1;
            }
            obj.push("syscalls", Json::from(w.len() as i64));
            obj.push("distinct", Json::from(hist.len() as i64));
            obj.push(
                "by_name",
                Json::Object(
                    hist.into_iter()
                        .map(|(k, v)| (k.to_string(), Json::from(v)))
                        .collect::<serde_json::Map<_, _>>(),
                ),
            );
        }
        None => {
            obj.push("syscalls", Json::Null);
            obj.push(
                "error",
                Json::from("the end of the privileged phase was not found in the trace"),
            );
        }
    }
    obj
}

/// Traces `program -c 1 DEST` as `user` with `strace -f -u`; strace runs as
/// root, so the program still gets its file capability at exec. `lang` is
/// the `LANG` of the traced program (None: POSIX locale).
pub fn strace(
    program: &Path,
    dest: &str,
    user: &str,
    lang: Option<&str>,
    log: &Path,
) -> io::Result<(Vec<Call>, Option<i32>)> {
    strace_args(program, &["-c", "1", dest], Some(user), lang, log)
}

/// Traces `program args…`, as `user` (`strace -u`) or as root.
pub fn strace_args(
    program: &Path,
    args: &[&str],
    user: Option<&str>,
    lang: Option<&str>,
    log: &Path,
) -> io::Result<(Vec<Call>, Option<i32>)> {
    let mut cmd = Command::new("strace");
    cmd.env_clear();
    if let Some(lang) = lang {
        cmd.env("LANG", lang);
    }
    let status = cmd
        .args(["-f", "-qq", "-o"])
        .arg(log)
        .args(user.map_or(Vec::new(), |u| vec!["-u", u]))
        .arg("--")
        .arg(program)
        .args(args)
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .current_dir("/")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()?;
    Ok((parse_strace(&fs::read_to_string(log)?), status.code()))
}

/// Size in bytes and the shared libraries `ldd` lists.
pub fn binary_json(path: &Path) -> Json {
    let mut obj = obj();
    obj.push("path", string(path.display().to_string()));
    match fs::metadata(path) {
        Ok(m) => obj.push("bytes", Json::from(m.len() as i64)),
        Err(e) => {
            obj.push("bytes", Json::Null);
            obj.push("error", string(e.to_string()));
            return obj;
        }
    }
    // Distributions ship stripped binaries (iputils is); `make install`
    // does not strip, so the stripped size is the comparable one.
    let stripped = tempfile::NamedTempFile::new().ok().and_then(|tmp| {
        Command::new("strip")
            .arg("-o")
            .arg(tmp.path())
            .arg(path)
            .status()
            .ok()
            .filter(|s| s.success())
            .and_then(|_| fs::metadata(tmp.path()).ok())
            .map(|m| m.len())
    });
    obj.push(
        "stripped_bytes",
        stripped.map_or(Json::Null, |n| Json::from(n as i64)),
    );
    let libs = Command::new("ldd")
        .arg(path)
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter_map(|l| l.split_whitespace().next())
                .filter(|l| !l.starts_with("linux-vdso") && !l.starts_with("statically"))
                .map(|l| Json::from(l.rsplit('/').next().unwrap_or(l)))
                .collect()
        })
        .unwrap_or_default();
    obj.push("shared_libraries", Json::Array(libs));
    obj
}

/// Lines that are neither blank nor comments, with `#[cfg(test)]` items
/// left out (they are never linked). A small lexer: line and nested block
/// comments, strings, raw strings and char literals are told apart well
/// enough for counting.
pub fn code_lines(src: &str) -> usize {
    let b = src.as_bytes();
    let mut code_on_line = false;
    let mut count = 0;
    let mut i = 0;
    let mut depth: usize = 0; // block comment nesting
                              // Brace depth at which a #[cfg(test)] item started; lines inside are skipped.
    let mut braces: i64 = 0;
    let mut skip_from: Option<i64> = None;
    let mut pending_cfg_test = false;
    let mut line_skipped = false;
    while i < b.len() {
        let c = b[i];
        if c == b'\n' {
            if code_on_line && !line_skipped {
                count += 1;
            }
            code_on_line = false;
            line_skipped = skip_from.is_some();
            i += 1;
            continue;
        }
        if depth > 0 {
            if b[i..].starts_with(b"*/") {
                depth -= 1;
                i += 2;
            } else if b[i..].starts_with(b"/*") {
                depth += 1;
                i += 2;
            } else {
                i += 1;
            }
            continue;
        }
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if b[i..].starts_with(b"/*") {
            depth = 1;
            i += 2;
            continue;
        }
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        code_on_line = true;
        if skip_from.is_some() {
            line_skipped = true;
        }
        if b[i..].starts_with(b"#[cfg(test)]") {
            pending_cfg_test = true;
            i += "#[cfg(test)]".len();
            continue;
        }
        match c {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    } else if b[i] == b'\n' && code_on_line && !line_skipped {
                        count += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'r' if b.get(i + 1) == Some(&b'"')
                || b.get(i + 1) == Some(&b'#')
                    && b.get(i + 2).is_some_and(|&x| x == b'"' || x == b'#') =>
            {
                let mut j = i + 1;
                let mut hashes = 0;
                while b.get(j) == Some(&b'#') {
                    hashes += 1;
                    j += 1;
                }
                let mut close = vec![b'"'];
                close.extend(vec![b'#'; hashes]);
                j += 1;
                while j < b.len() && !b[j..].starts_with(&close) {
                    if b[j] == b'\n' && !line_skipped {
                        count += 1;
                    }
                    j += 1;
                }
                i = j + close.len();
            }
            b'\'' => {
                // A char literal ('x', '\n', '\u{..}') or a lifetime ('a).
                if b.get(i + 1) == Some(&b'\\') {
                    // Past the escaped character, which may itself be a quote.
                    let mut j = i + 3;
                    while j < b.len() && b[j] != b'\'' {
                        j += 1;
                    }
                    i = j + 1;
                } else if b.get(i + 2) == Some(&b'\'') {
                    i += 3;
                } else {
                    i += 1;
                }
            }
            b'{' => {
                if pending_cfg_test && skip_from.is_none() {
                    skip_from = Some(braces);
                    line_skipped = true;
                }
                pending_cfg_test = false;
                braces += 1;
                i += 1;
            }
            b'}' => {
                braces -= 1;
                if skip_from == Some(braces) {
                    skip_from = None;
                }
                i += 1;
            }
            b';' => {
                // `#[cfg(test)] use ...;` or `mod tests;`: a one-line item.
                if pending_cfg_test && skip_from.is_none() {
                    line_skipped = true;
                }
                pending_cfg_test = false;
                i += 1;
            }
            _ => i += 1,
        }
    }
    if code_on_line && !line_skipped {
        count += 1;
    }
    count
}

/// The crates `cargo tree -p launcher -e normal,no-proc-macro` lists: name,
/// version and, for path crates, their directory.
fn launcher_crates(workspace: &Path) -> io::Result<Vec<(String, String, Option<PathBuf>)>> {
    let out = Command::new("cargo")
        .args([
            "tree",
            "--locked",
            "--offline",
            "-p",
            "launcher",
            "-e",
            "normal,no-proc-macro",
            "--prefix",
            "none",
        ])
        .current_dir(workspace)
        .output()?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "cargo tree: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let mut seen = BTreeSet::new();
    let mut crates = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let mut parts = line.split_whitespace();
        let (Some(name), Some(version)) = (parts.next(), parts.next()) else {
            continue;
        };
        let version = version.trim_start_matches('v').to_string();
        let dir = line
            .split_once(" (")
            .and_then(|(_, r)| r.strip_suffix(')').or(r.strip_suffix(") (*)")));
        let dir = dir.filter(|d| d.starts_with('/')).map(PathBuf::from);
        if seen.insert((name.to_string(), version.clone())) {
            crates.push((name.to_string(), version, dir));
        }
    }
    Ok(crates)
}

/// The `.rs` files of a dep-info file's first rule (`target: sources…`).
fn dep_info_files(d: &Path) -> Vec<PathBuf> {
    let Ok(text) = fs::read_to_string(d) else {
        return Vec::new();
    };
    let Some((_, srcs)) = text.lines().next().and_then(|l| l.split_once(": ")) else {
        return Vec::new();
    };
    srcs.split_whitespace()
        .map(PathBuf::from)
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect()
}

/// The source files rustc compiled into the installed launcher, from the
/// dep-info files of the build that produced it. `privsep-ping.d` names the
/// launcher's own files and its path dependencies' (absolute paths). Each
/// registry crate has a `deps/NAME-HASH.d` per feature set it was built
/// with (the worker may enable more); the launcher's is taken to be the
/// smallest, since the launcher is built alone with the fewest features.
fn launcher_sources(release: &Path, crate_dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut files = dep_info_files(&release.join("privsep-ping.d"));
    let mut registry: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
    if let Ok(rd) = fs::read_dir(release.join("deps")) {
        for d in rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "d"))
        {
            let srcs = dep_info_files(&d);
            let Some(dir) = crate_dirs
                .iter()
                .find(|dir| srcs.first().is_some_and(|f| f.starts_with(dir)))
            else {
                continue;
            };
            let best = registry.entry(dir.clone()).or_insert_with(|| srcs.clone());
            if srcs.len() < best.len() {
                *best = srcs;
            }
        }
    }
    files.extend(registry.into_values().flatten());
    files
}

fn rust_files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files_under(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Lines of Rust in the launcher and every crate it links. For each crate:
/// the files rustc compiled for this build (from dep-info; build scripts and
/// other platforms' modules excluded) and, for comparison, every `.rs` file
/// under its `src/`.
pub fn launcher_loc(workspace: &Path, release: &Path) -> Json {
    let crates = match launcher_crates(workspace) {
        Ok(c) => c,
        Err(e) => {
            let mut o = obj();
            o.push("error", string(e.to_string()));
            return o;
        }
    };
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from("/root/.cargo"));
    let registry_dir = |name: &str, version: &str| -> Option<PathBuf> {
        let src = cargo_home.join("registry").join("src");
        fs::read_dir(src)
            .ok()?
            .flatten()
            .map(|e| e.path().join(format!("{name}-{version}")))
            .find(|p| p.is_dir())
    };
    let dirs: Vec<(String, String, Option<PathBuf>)> = crates
        .into_iter()
        .map(|(n, v, d)| {
            let d = d.or_else(|| registry_dir(&n, &v));
            (n, v, d)
        })
        .collect();
    let compiled = launcher_sources(
        release,
        &dirs
            .iter()
            .filter_map(|(_, _, d)| d.clone())
            .collect::<Vec<_>>(),
    );
    let mut per_crate = obj();
    let (mut total_compiled, mut total_all) = (0usize, 0usize);
    for (name, version, dir) in dirs {
        let Some(dir) = dir else {
            per_crate.push(&format!("{name} {version}"), Json::from("source not found"));
            continue;
        };
        let mut all = Vec::new();
        rust_files_under(&dir.join("src"), &mut all);
        let count = |files: &[PathBuf]| -> usize {
            files
                .iter()
                .filter_map(|f| fs::read_to_string(f).ok())
                .map(|s| code_lines(&s))
                .sum()
        };
        let mine: Vec<PathBuf> = compiled
            .iter()
            .filter(|f| f.starts_with(&dir) && f.file_name().is_some_and(|n| n != "build.rs"))
            .cloned()
            .collect();
        let (c, a) = (count(&mine), count(&all));
        total_compiled += c;
        total_all += a;
        let mut o = obj();
        o.push("compiled_files", Json::from(mine.len() as i64));
        o.push("compiled_lines", Json::from(c as i64));
        o.push("all_src_lines", Json::from(a as i64));
        per_crate.push(&format!("{name} {version}"), o);
    }
    let mut o = obj();
    o.push("compiled_lines_total", Json::from(total_compiled as i64));
    o.push("all_src_lines_total", Json::from(total_all as i64));
    o.push("crates", per_crate);
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_lines_skips_comments_blanks_and_tests() {
        let src = "//! doc\n\nfn a() {\n    // c\n    let s = \"x // y\";\n    /* block\n    still */ let t = 1;\n}\n#[cfg(test)]\nmod tests {\n    fn b() {}\n}\nfn c() {}\n";
        assert_eq!(code_lines(src), 6);
    }

    #[test]
    fn strace_window_ends_at_worker_exec_or_empty_permitted() {
        let log = "1 execve(\"/p\", [], 0x0 /* 1 var */) = 0\n\
                   1 capset({version=_LINUX_CAPABILITY_VERSION_3, pid=0}, {effective=0, permitted=1<<CAP_NET_RAW, inheritable=0}) = 0\n\
                   1 socket(AF_INET, SOCK_RAW, IPPROTO_ICMP) = 3\n\
                   1 capset({version=_LINUX_CAPABILITY_VERSION_3, pid=0}, {effective=0, permitted=0, inheritable=0}) = 0\n\
                   1 execve(\"/w\", [], 0x0 /* 1 var */) = 0\n\
                   1 write(1, \"x\", 1) = 1\n\
                   1 +++ exited with 0 +++\n";
        let calls = parse_strace(log);
        assert_eq!(calls.len(), 6);
        assert_eq!(privileged_window(&calls, End::WorkerExec).unwrap().len(), 5);
        assert_eq!(
            privileged_window(&calls, End::PermittedEmpty)
                .unwrap()
                .len(),
            4
        );
        assert!(privileged_window(&calls[..3], End::PermittedEmpty).is_none());
    }

    #[test]
    fn a_forked_process_and_interrupted_calls_are_told_apart() {
        let log = "1 execve(\"/p\", [], 0x0 /* 1 var */) = 0\n\
                   1 capset({version=_LINUX_CAPABILITY_VERSION_3, pid=0}, {effective=0, permitted=0, inheritable=0}) = 0\n\
                   1 clone(child_stack=NULL, flags=SIGCHLD) = 2\n\
                   2 execve(\"/b\", [], 0x0 /* 1 var */ <unfinished ...>\n\
                   1 execve(\"/w\", [], 0x0 /* 1 var */ <unfinished ...>\n\
                   2 <... execve resumed>) = 0\n\
                   2 write(1, \"x\", 1) = 1\n\
                   1 <... execve resumed>) = 0\n\
                   1 +++ exited with 0 +++\n";
        let calls = parse_strace(log);
        assert_eq!(calls.len(), 6);
        assert!(calls[3].line.ends_with("= 0"), "{:?}", calls[3]);
        let w = privileged_window(&calls, End::WorkerExec).unwrap();
        let names: Vec<&str> = w.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["execve", "capset", "clone", "execve"]);
        assert!(w[3].line.contains("/w"));
    }
}
