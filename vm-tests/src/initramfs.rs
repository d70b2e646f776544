//! What goes into the guest: the agent as `/init` (and as the user's shell
//! `/usr/bin/vmtest-sh`, and as the TOMOYO activation trigger), each listed
//! tool's stock launcher and worker under `/vm/bin/<tool>/` and the probe
//! under `/vm/bin` (the agent installs them at the layout's paths), the
//! probe as `/usr/bin/sh`, the host's shared libraries the dynamically
//! linked ones need (found with `ldd`; the launchers are static, which
//! [`is_static`] checks from the ELF headers, so `ldd` is never asked about
//! them), a tiny `/etc`, the policies, and
//! under SELinux the label of every file (computed on the host from the
//! merged file contexts with `matchpathcon`, applied by the agent).
//! The layout mimics Debian 12's merged /usr: /bin, /lib, /lib64, /sbin are
//! symlinks into /usr.

#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use vm_tests::configs::{APPARMOR_PARSER, APPARMOR_PROFILES};
use vm_tests::cpio::Archive;
use vm_tests::VmError;

use crate::Options;

/// One tool's binaries on the host.
pub struct ToolBins {
    /// Its descriptor.
    pub tool: &'static policy::tools::Tool,
    /// `privsep-<tool>`, statically linked.
    pub launcher: PathBuf,
    /// `privsep-<tool>-worker`.
    pub worker: PathBuf,
    /// `privsep-<tool>-broker`, for a tool whose descriptor has a broker.
    pub broker: Option<PathBuf>,
}

/// Whether `elf` is a statically linked executable: an ELF with no `PT_INTERP` program
/// header (no dynamic loader named). Read from the file itself, never by running `ldd`.
pub fn is_static(elf: &[u8]) -> Result<bool, String> {
    const PT_INTERP: u32 = 3;
    if elf.len() < 64 || &elf[..4] != b"\x7fELF" || elf[4] != 2 || elf[5] != 1 {
        return Err("not a little-endian 64-bit ELF".into());
    }
    let u16_at = |o: usize| u16::from_le_bytes([elf[o], elf[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(elf[32..40].try_into().map_err(|_| "short header")?) as usize;
    let (phentsize, phnum) = (u16_at(54), u16_at(56));
    for i in 0..phnum {
        let at = phoff + i * phentsize;
        let Some(h) = elf.get(at..at + 4) else {
            return Err("program headers outside the file".into());
        };
        if u32::from_le_bytes([h[0], h[1], h[2], h[3]]) == PT_INTERP {
            return Ok(false);
        }
    }
    Ok(true)
}

fn infra(what: String) -> impl FnOnce(std::io::Error) -> VmError {
    move |e| VmError::Infra(format!("{what}: {e}"))
}

/// The kind of an archive entry, for labelling.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    Dir,
    Link,
    /// A device node of the guest's devtmpfs (labelled by the agent: no udev there).
    Chr,
}

/// Shared libraries of the dynamically linked `bins`, as (path ldd printed, canonical path).
fn libraries(bins: &[PathBuf]) -> Result<Vec<(String, PathBuf)>, VmError> {
    let mut libs = BTreeMap::new();
    for bin in bins {
        let out = Command::new("ldd")
            .arg(bin)
            .output()
            .map_err(infra(format!("ldd {}", bin.display())))?;
        let text = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() && !text.contains("statically linked") {
            return Err(VmError::Infra(format!(
                "ldd {} failed: {}",
                bin.display(),
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        for line in text.lines() {
            // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)" or "/lib64/ld-linux-x86-64.so.2 (0x…)"
            let path = match line.split_once("=>") {
                Some((_, rhs)) => rhs.split_whitespace().next(),
                None => line.split_whitespace().next(),
            };
            let Some(path) = path.filter(|p| p.starts_with('/')) else {
                continue;
            };
            let canon = std::fs::canonicalize(path).map_err(infra(format!("resolving {path}")))?;
            libs.insert(path.to_string(), canon);
        }
    }
    Ok(libs.into_iter().collect())
}

/// Builds the initramfs at `out`.
pub fn build(o: &Options, tools: &[ToolBins], out: &Path) -> Result<(), VmError> {
    let bin = |dir: &Path, name: &str| -> Result<PathBuf, VmError> {
        let p = dir.join(name);
        if p.is_file() {
            Ok(p)
        } else {
            Err(VmError::Infra(format!(
                "{} is missing: build it first (make vm-test does)",
                p.display()
            )))
        }
    };
    let agent = bin(&o.agent_dir, "vm-agent")?;
    let probe = bin(&o.agent_dir, "probe")?;
    let read = |p: &Path| std::fs::read(p).map_err(infra(format!("reading {}", p.display())));

    let mut a = Archive::new();
    let mut entries: Vec<(String, Kind)> = Vec::new();
    for (dir, mode) in [
        ("/proc", 0o555),
        ("/sys", 0o555),
        ("/dev", 0o755),
        ("/tmp", 0o1777),
        ("/run", 0o755),
        ("/root", 0o700),
        ("/usr/bin", 0o755),
        ("/usr/sbin", 0o755),
        ("/usr/lib", 0o755),
        ("/usr/lib64", 0o755),
        ("/usr/local/bin", 0o755),
        ("/usr/local/libexec/privsep", 0o755),
        ("/etc", 0o755),
        ("/vm/bin", 0o755),
    ] {
        a.dir(dir, mode);
        entries.push((dir.to_string(), Kind::Dir));
    }
    for (link, target) in [
        ("/bin", "usr/bin"),
        ("/sbin", "usr/sbin"),
        ("/lib", "usr/lib"),
        ("/lib64", "usr/lib64"),
    ] {
        a.symlink(link, target);
        entries.push((link.to_string(), Kind::Link));
    }
    a.char_dev("/dev/console", 0o600, 5, 1);

    let agent_bytes = read(&agent)?;
    let probe_bytes = read(&probe)?;
    for (path, mode, data) in [
        ("/init", 0o755, &agent_bytes),
        ("/usr/bin/vmtest-sh", 0o755, &agent_bytes),
        // TOMOYO's activation trigger and loader (kernel command line TOMOYO_trigger=/TOMOYO_loader=).
        ("/usr/sbin/tomoyo-activate", 0o755, &agent_bytes),
        // What a compromised process would like to run; it reports that it ran.
        ("/usr/bin/sh", 0o755, &probe_bytes),
        ("/vm/bin/probe", 0o755, &probe_bytes),
    ] {
        a.file(path, mode, 0, 0, data);
        entries.push((path.to_string(), Kind::File));
    }
    let mut dynamic = vec![agent.clone(), probe.clone()];
    if o.apparmor_dir.is_some() {
        // Debian's apparmor_parser compiles and loads the profiles in the guest, against the
        // guest kernel's own feature set.
        let parser = PathBuf::from(APPARMOR_PARSER);
        if !parser.is_file() {
            return Err(VmError::Infra(format!(
                "{APPARMOR_PARSER} is missing: install the apparmor package (make deps-test)"
            )));
        }
        a.file(APPARMOR_PARSER, 0o755, 0, 0, &read(&parser)?);
        entries.push((APPARMOR_PARSER.to_string(), Kind::File));
        dynamic.push(parser);
    }
    for t in tools {
        let dir = format!("/vm/bin/{}", t.tool.name);
        a.dir(&dir, 0o755);
        entries.push((dir.clone(), Kind::Dir));
        let launcher = read(&t.launcher)?;
        // The launchers are linked statically (the Makefile's crt-static build): a dynamic one
        // is a build that went wrong, not something to paper over with its libraries.
        match is_static(&launcher) {
            Ok(true) => {}
            Ok(false) => {
                return Err(VmError::Infra(format!(
                    "{} is dynamically linked; the launchers are built statically (make build)",
                    t.launcher.display()
                )))
            }
            Err(e) => return Err(VmError::Infra(format!("{}: {e}", t.launcher.display()))),
        }
        let worker = read(&t.worker)?;
        if !is_static(&worker)
            .map_err(|e| VmError::Infra(format!("{}: {e}", t.worker.display())))?
        {
            dynamic.push(t.worker.clone());
        }
        for (name, data) in [("launcher", &launcher), ("worker", &worker)] {
            let path = format!("{dir}/{name}");
            a.file(&path, 0o755, 0, 0, data);
            entries.push((path, Kind::File));
        }
        if let Some(broker) = &t.broker {
            let data = read(broker)?;
            if !is_static(&data)
                .map_err(|e| VmError::Infra(format!("{}: {e}", broker.display())))?
            {
                dynamic.push(broker.clone());
            }
            let path = format!("{dir}/broker");
            a.file(&path, 0o755, 0, 0, &data);
            entries.push((path, Kind::File));
        }
    }
    for (path, mode, text) in [
        (
            "/etc/passwd",
            0o644,
            "root:x:0:0:root:/root:/bin/sh\ntester:x:1000:1000:tester:/tmp:/usr/bin/vmtest-sh\n",
        ),
        ("/etc/group", 0o644, "root:x:0:\ntester:x:1000:\n"),
        // World-readable on purpose: only the policy under test may stop the compromised worker.
        (
            "/etc/shadow",
            0o644,
            "root:*:19000:0:99999:7:::\ntester:*:19000:0:99999:7:::\n",
        ),
        (
            "/etc/hosts",
            0o644,
            "127.0.0.1 localhost\n::1 localhost ip6-localhost\n",
        ),
        (
            "/etc/nsswitch.conf",
            0o644,
            "passwd: files\ngroup: files\nhosts: files\n",
        ),
    ] {
        a.file(path, mode, 0, 0, text.as_bytes());
        entries.push((path.to_string(), Kind::File));
    }
    let mut libs = libraries(&dynamic)?;
    libs.sort();
    let mut added = std::collections::BTreeSet::new();
    for (printed, canon) in libs {
        let canon_s = canon.display().to_string();
        if added.insert(canon_s.clone()) {
            a.file(&canon_s, 0o755, 0, 0, &read(&canon)?);
            entries.push((canon_s.clone(), Kind::File));
        }
        // The name the binaries ask for, with directory symlinks resolved, must lead to the file.
        let printed = Path::new(&printed);
        let dir = printed.parent().and_then(|d| std::fs::canonicalize(d).ok());
        if let (Some(dir), Some(name)) = (dir, printed.file_name()) {
            let alias = dir.join(name).display().to_string();
            if alias != canon_s && added.insert(alias.clone()) {
                a.symlink(&alias, &canon_s);
                entries.push((alias, Kind::Link));
            }
        }
    }
    if let (Some(policy), Some(fc)) = (&o.selinux_policy, &o.selinux_fc) {
        a.dir("/vm/selinux", 0o755);
        a.file("/vm/selinux/policy", 0o600, 0, 0, &read(policy)?);
        a.file(
            "/vm/selinux/labels",
            0o600,
            0,
            0,
            labels(fc, &entries, tools)?.as_bytes(),
        );
    }
    if let Some(dir) = &o.apparmor_dir {
        apparmor(&mut a, dir, tools)?;
    }
    if let Some(dir) = &o.tomoyo_dir {
        a.dir("/vm/tomoyo", 0o755);
        for name in ["profile", "exception_policy", "domain_policy"] {
            a.file(
                &format!("/vm/tomoyo/{name}"),
                0o600,
                0,
                0,
                &read(&dir.join(format!("{name}.conf")))?,
            );
        }
    }
    let mut f = std::fs::File::create(out).map_err(infra(format!("creating {}", out.display())))?;
    a.finish(&mut f)
        .map_err(infra(format!("writing {}", out.display())))
}

/// What the harness adds to each shipped profile through its `local/` include (Debian's
/// convention for site additions): the probe that stands in for a launcher or a worker is
/// a dynamically linked program that reads its own status; the shipped programs are
/// static and need neither. Nothing here grants a capability, an exec, a socket or a file
/// outside the libraries and the process's own /proc entry.
const APPARMOR_HARNESS_LOCAL: &str = "\
# vm-tests: the probe (dynamically linked) maps its libraries and reads its own status and
# maps (not owner: a process started with file capabilities is not dumpable, its /proc files
# are root's).
/usr/lib/** mr,
/usr/lib64/** mr,
/etc/ld.so.cache r,
@{PROC}/@{pid}/{status,maps} r,
";

/// Debian's abi and tunables directories (what the profiles include) from the host's
/// apparmor package, the rendered profiles, and the harness's local additions.
fn apparmor(a: &mut Archive, dir: &Path, tools: &[ToolBins]) -> Result<(), VmError> {
    let read = |p: &Path| std::fs::read(p).map_err(infra(format!("reading {}", p.display())));
    a.dir(APPARMOR_PROFILES, 0o755);
    for sub in [
        "abi",
        "tunables",
        "tunables/home.d",
        "tunables/multiarch.d",
        "tunables/xdg-user-dirs.d",
        "local",
    ] {
        a.dir(&format!("{APPARMOR_PROFILES}/{sub}"), 0o755);
    }
    for sub in [
        "abi",
        "tunables",
        "tunables/home.d",
        "tunables/multiarch.d",
        "tunables/xdg-user-dirs.d",
    ] {
        let host = Path::new("/etc/apparmor.d").join(sub);
        let list = std::fs::read_dir(&host).map_err(infra(format!(
            "listing {} (package apparmor)",
            host.display()
        )))?;
        for e in list.filter_map(Result::ok) {
            let p = e.path();
            if p.is_file() {
                let name = format!(
                    "{APPARMOR_PROFILES}/{sub}/{}",
                    e.file_name().to_string_lossy()
                );
                a.file(&name, 0o644, 0, 0, &read(&p)?);
            }
        }
    }
    for t in tools {
        let name = format!("privsep-{}", t.tool.name);
        a.file(
            &format!("{APPARMOR_PROFILES}/{name}"),
            0o644,
            0,
            0,
            &read(&dir.join(&name))?,
        );
        for local in [name.clone(), format!("{name}-worker")] {
            a.file(
                &format!("{APPARMOR_PROFILES}/local/{local}"),
                0o644,
                0,
                0,
                APPARMOR_HARNESS_LOCAL.as_bytes(),
            );
        }
    }
    Ok(())
}

/// "path context" for every entry, plus the layout paths the agent installs to,
/// from the merged file contexts. The harness's own files get ordinary labels.
fn labels(fc: &Path, entries: &[(String, Kind)], tools: &[ToolBins]) -> Result<String, VmError> {
    let mut all: Vec<(String, Kind)> = entries.to_vec();
    for t in tools {
        for p in [t.tool.launcher_path, t.tool.worker_path]
            .into_iter()
            .chain(t.tool.broker.map(|b| b.path))
        {
            all.push((p.to_string(), Kind::File));
        }
    }
    // The install root is a tmpfs mounted by the agent: its directories get labels too.
    for d in ["/usr/local", "/usr/local/libexec", "/vm"] {
        all.push((d.into(), Kind::Dir));
    }
    for d in [
        "/dev/null",
        "/dev/zero",
        "/dev/random",
        "/dev/urandom",
        "/dev/tty",
    ] {
        all.push((d.into(), Kind::Chr));
    }
    let mut out = String::new();
    for (kind, mode) in [
        (Kind::File, "file"),
        (Kind::Dir, "dir"),
        (Kind::Link, "lnk_file"),
        (Kind::Chr, "chr_file"),
    ] {
        let paths: Vec<&str> = all
            .iter()
            .filter(|(_, k)| *k == kind)
            .map(|(p, _)| p.as_str())
            .collect();
        if paths.is_empty() {
            continue;
        }
        let res = Command::new("matchpathcon")
            .arg("-f")
            .arg(fc)
            .args(["-m", mode])
            .args(&paths)
            .output()
            .map_err(infra("matchpathcon (package selinux-utils)".into()))?;
        let text = String::from_utf8_lossy(&res.stdout);
        for line in text.lines() {
            let Some((path, ctx)) = line.split_once('\t') else {
                continue;
            };
            let ctx = match path {
                // The harness's own programs: ordinary executables for the user, an entry to user_t.
                "/vm" | "/vm/bin" => "system_u:object_r:bin_t:s0".to_string(),
                p if p.starts_with("/vm/bin/") => "system_u:object_r:bin_t:s0".to_string(),
                "/usr/bin/vmtest-sh" => "system_u:object_r:shell_exec_t:s0".to_string(),
                _ => ctx.to_string(),
            };
            if ctx.contains("<<none>>") {
                continue;
            }
            out.push_str(&format!("{path} {ctx}\n"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_and_dynamic_executables_are_told_apart_from_their_headers() {
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        // The test binary itself is an ordinary dynamic executable.
        assert_eq!(is_static(&me), Ok(false));
        // The same headers without the PT_INTERP entry: static.
        let mut patched = me.clone();
        let phoff = u64::from_le_bytes(me[32..40].try_into().unwrap()) as usize;
        let (ent, num) = (
            u16::from_le_bytes([me[54], me[55]]) as usize,
            u16::from_le_bytes([me[56], me[57]]) as usize,
        );
        for i in 0..num {
            let at = phoff + i * ent;
            if patched[at..at + 4] == 3u32.to_le_bytes() {
                patched[at..at + 4].copy_from_slice(&1u32.to_le_bytes());
            }
        }
        assert_eq!(is_static(&patched), Ok(true));
        assert!(is_static(b"#!/bin/sh\n").is_err());
    }
}
