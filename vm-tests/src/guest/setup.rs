//! Bringing the guest up: file systems, loopback, sysctls, the
//! configuration's policy (SELinux: load, label, enforce; TOMOYO: write the
//! policy to securityfs) and the install of the launcher and the worker as
//! `make install` does it, for every listed tool (root:root, launcher 0755
//! with the descriptor's file capability, worker 0711).

#![forbid(unsafe_code)]

use std::fs;
use std::os::unix::fs::PermissionsExt;

use policy::tools::Tool;

use super::{say, Env, STOCK};
use crate::sys;
use crate::VmError;

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> VmError {
    VmError::io(what)
}

/// proc, sysfs, devtmpfs, securityfs, a fresh /tmp, loopback up.
pub fn mount_basics() -> Result<(), VmError> {
    let nosuid = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
    sys::mount("proc", "/proc", "proc", nosuid, None).map_err(io("mount /proc"))?;
    sys::mount("sysfs", "/sys", "sysfs", nosuid, None).map_err(io("mount /sys"))?;
    sys::mount("devtmpfs", "/dev", "devtmpfs", libc::MS_NOSUID, None).map_err(io("mount /dev"))?;
    sys::mount(
        "securityfs",
        "/sys/kernel/security",
        "securityfs",
        nosuid,
        None,
    )
    .map_err(io("mount securityfs"))?;
    sys::mount(
        "tmpfs",
        "/tmp",
        "tmpfs",
        libc::MS_NOSUID | libc::MS_NODEV,
        Some("mode=1777"),
    )
    .map_err(io("mount /tmp"))?;
    // The install root: a tmpfs, like a real /usr/local on a disk with xattrs. Under SELinux its
    // files may take any file type (tmpfs_t accepts every file_type; the initramfs's rootfs,
    // labelled root_t, does not once enforcing).
    sys::mount(
        "tmpfs",
        "/usr/local",
        "tmpfs",
        libc::MS_NODEV,
        Some("mode=0755"),
    )
    .map_err(io("mount /usr/local"))?;
    sys::loopback_up().map_err(io("bringing lo up"))?;
    // Every denial must reach the log: no rate limit on printk (audit records without auditd go there).
    fs::write("/proc/sys/kernel/printk_ratelimit", "0").map_err(io("printk_ratelimit"))?;
    // Yama's default (1) would stop a same-uid ptrace of a non-descendant on its own; set it to
    // classic DAC (0) so that the ptrace cases show what the policy under test and the
    // non-dumpable worker do, not Yama.
    fs::write("/proc/sys/kernel/yama/ptrace_scope", "0").map_err(io("yama ptrace_scope"))?;
    Ok(())
}

/// Loads the configuration's policy and installs the binaries.
pub fn configure(env: &Env) -> Result<(), VmError> {
    let lsm = fs::read_to_string("/sys/kernel/security/lsm")
        .map_err(io("reading /sys/kernel/security/lsm"))?;
    say(&format!("active LSMs: {lsm}"));
    for (name, wanted) in [
        ("selinux", env.selinux()),
        ("tomoyo", env.tomoyo()),
        ("apparmor", env.apparmor()),
    ] {
        let active = lsm.split(',').any(|l| l == name);
        if active != wanted {
            return Err(VmError::Infra(format!(
                "this kernel {} {name} with the configured lsm= list (active: {lsm})",
                if wanted {
                    "did not enable"
                } else {
                    "unexpectedly enabled"
                }
            )));
        }
    }
    install_stock(&env.tools)?;
    if env.selinux() {
        super::setup::selinux_load()?;
    }
    if env.apparmor() {
        apparmor_load(&env.tools)?;
    }
    if env.tomoyo() {
        tomoyo_load(&env.tools)?;
    }
    if env.selinux() {
        fs::write("/sys/fs/selinux/enforce", "1").map_err(io("setting SELinux enforcing"))?;
        let now = fs::read_to_string("/sys/fs/selinux/enforce").unwrap_or_default();
        if now.trim() != "1" {
            return Err(VmError::Infra(format!(
                "SELinux did not switch to enforcing ({now:?})"
            )));
        }
    }
    Ok(())
}

/// The VFS capability xattr (`struct vfs_cap_data`, revision 2) for the capabilities of
/// `mask`, permitted only (`=p`): magic_etc, then permitted/inheritable for capabilities
/// 0–31 and 32–63, little endian.
pub fn file_caps_xattr(mask: u64) -> Vec<u8> {
    const VFS_CAP_REVISION_2: u32 = 0x0200_0000;
    [VFS_CAP_REVISION_2, mask as u32, 0, (mask >> 32) as u32, 0]
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .collect()
}

/// Written by [`install`]: the case changed the install, PID 1 must restore it afterwards.
pub const DIRTY_MARKER: &str = "/usr/local/.vmtest-installed";

/// Where the host put `tool`'s pristine launcher (`launcher`) or worker (`worker`).
pub fn stock(tool: &Tool, which: &str) -> String {
    format!("{STOCK}/{}/{which}", tool.name)
}

/// Copies `src` to `dst` as root:root with `mode`, with the file capabilities of `filecaps`
/// (a mask, 0 for none), and (under SELinux) the label the merged file contexts give `dst`,
/// or `label` when given.
pub fn install(
    src: &str,
    dst: &str,
    mode: u32,
    filecaps: u64,
    label: Option<&str>,
) -> Result<(), VmError> {
    // First, so that PID 1 restores the stock install even if this one fails half-way.
    fs::write(DIRTY_MARKER, b"").map_err(io(format!("writing {DIRTY_MARKER}")))?;
    if let Some(dir) = std::path::Path::new(dst).parent() {
        fs::create_dir_all(dir).map_err(io(format!("mkdir {}", dir.display())))?;
    }
    let _ = fs::remove_file(dst);
    fs::copy(src, dst).map_err(io(format!("copy {src} to {dst}")))?;
    std::os::unix::fs::chown(dst, Some(0), Some(0)).map_err(io(format!("chown {dst}")))?;
    fs::set_permissions(dst, fs::Permissions::from_mode(mode))
        .map_err(io(format!("chmod {dst}")))?;
    if filecaps != 0 {
        sys::lsetxattr(dst, "security.capability", &file_caps_xattr(filecaps))
            .map_err(io(format!("setcap {dst}")))?;
    }
    if selinux_enabled() {
        let ctx = match label {
            Some(l) => Some(l.to_string()),
            None => selinux_label_for(dst),
        };
        if let Some(ctx) = ctx {
            sys::lsetxattr(dst, "security.selinux", ctx.as_bytes())
                .map_err(io(format!("label {dst} {ctx}")))?;
        }
    }
    Ok(())
}

/// The launcher, the worker (and the broker) of every tool from `/vm/bin/<tool>/`, at their
/// layout paths.
pub fn install_stock(tools: &[&'static Tool]) -> Result<(), VmError> {
    for t in tools {
        install(
            &stock(t, "launcher"),
            t.launcher_path,
            policy::layout::LAUNCHER_MODE,
            t.file_caps_mask(),
            None,
        )?;
        install(
            &stock(t, "worker"),
            t.worker_path,
            policy::layout::WORKER_MODE,
            0,
            None,
        )?;
        if let Some(b) = t.broker {
            install(
                &stock(t, "broker"),
                b.path,
                policy::layout::WORKER_MODE,
                0,
                None,
            )?;
        }
    }
    Ok(())
}

fn selinux_enabled() -> bool {
    std::path::Path::new("/sys/fs/selinux/load").exists()
}

/// The label the host computed from the merged file contexts (`/vm/selinux/labels`: "path context").
pub fn selinux_label_for(path: &str) -> Option<String> {
    let labels = fs::read_to_string("/vm/selinux/labels").ok()?;
    labels.lines().find_map(|l| {
        let (p, c) = l.split_once(' ')?;
        (p == path).then(|| c.to_string())
    })
}

/// Mounts selinuxfs, loads the merged binary policy and labels every file the host listed.
pub fn selinux_load() -> Result<(), VmError> {
    sys::mount(
        "selinuxfs",
        "/sys/fs/selinux",
        "selinuxfs",
        libc::MS_NOSUID | libc::MS_NOEXEC,
        None,
    )
    .map_err(io("mount selinuxfs"))?;
    let policy = fs::read("/vm/selinux/policy").map_err(io("reading /vm/selinux/policy"))?;
    fs::write("/sys/fs/selinux/load", &policy).map_err(io("loading the SELinux policy"))?;
    let labels =
        fs::read_to_string("/vm/selinux/labels").map_err(io("reading /vm/selinux/labels"))?;
    let mut n = 0;
    for line in labels.lines() {
        let Some((path, ctx)) = line.split_once(' ') else {
            continue;
        };
        if fs::symlink_metadata(path).is_err() {
            continue;
        }
        sys::lsetxattr(path, "security.selinux", ctx.as_bytes())
            .map_err(io(format!("labelling {path} {ctx}")))?;
        n += 1;
    }
    say(&format!(
        "SELinux policy loaded ({} bytes), {n} files labelled",
        policy.len()
    ));
    Ok(())
}

/// Loads every listed tool's profiles with Debian's apparmor_parser (`-r`: add or replace,
/// `-T`: no cache; compiled for this kernel's features), then checks that the kernel lists
/// each launcher and worker profile in enforce mode.
pub fn apparmor_load(tools: &[&'static Tool]) -> Result<(), VmError> {
    use crate::configs::{APPARMOR_PARSER, APPARMOR_PROFILES};
    for t in tools {
        let file = format!("{APPARMOR_PROFILES}/privsep-{}", t.name);
        let out = std::process::Command::new(APPARMOR_PARSER)
            .args(["-r", "-T", &file])
            .output()
            .map_err(io(format!("running {APPARMOR_PARSER}")))?;
        if !out.status.success() {
            return Err(VmError::Infra(format!(
                "apparmor_parser -r {file}: {}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
    }
    let loaded = fs::read_to_string("/sys/kernel/security/apparmor/profiles")
        .map_err(io("reading /sys/kernel/security/apparmor/profiles"))?;
    for t in tools {
        for name in [
            format!("privsep-{}", t.name),
            format!("privsep-{}-worker", t.name),
        ] {
            if !loaded.lines().any(|l| l == format!("{name} (enforce)")) {
                return Err(VmError::Infra(format!(
                    "AppArmor profile {name} is not loaded in enforce mode:\n{loaded}"
                )));
            }
        }
    }
    say(&format!(
        "AppArmor profiles loaded: {}",
        loaded.lines().collect::<Vec<_>>().join(", ")
    ));
    Ok(())
}

/// Writes the rendered TOMOYO policy (`/vm/tomoyo/`) into securityfs. Each file is
/// written line by line, because TOMOYO parses one directive per write and a
/// rejected line must be reported, not lost in a buffer.
pub fn tomoyo_load(tools: &[&'static Tool]) -> Result<(), VmError> {
    let base = "/sys/kernel/security/tomoyo";
    for name in ["profile", "exception_policy", "domain_policy", "manager"] {
        // The harness's own addition: root processes in `<kernel>` (PID 1 and the case children
        // before they become the user) stay policy managers after activation, so that a case
        // may narrow the policy (tomoyo-address-group). Never part of the shipped policy.
        let text = if name == "manager" {
            "<kernel>\n".to_string()
        } else {
            let src = format!("/vm/tomoyo/{name}");
            fs::read_to_string(&src)
                .map_err(|_| VmError::Infra(format!("{src} missing from the initramfs")))?
        };
        let mut f = fs::OpenOptions::new()
            .write(true)
            .open(format!("{base}/{name}"))
            .map_err(io(format!("open {base}/{name}")))?;
        use std::io::Write;
        for line in text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            f.write_all(format!("{line}\n").as_bytes())
                .map_err(io(format!("TOMOYO {name}: {line}")))?;
        }
    }
    // Activation: exec the trigger (see configs.rs); the kernel runs the loader, then checks
    // the profiles and starts enforcing.
    match sys::fork().map_err(io("fork"))? {
        sys::Fork::Child => {
            let e = sys::execve(
                "/usr/sbin/tomoyo-activate",
                &["/usr/sbin/tomoyo-activate".into()],
                &[],
            );
            say(&format!("exec tomoyo-activate: {e}"));
            std::process::exit(1);
        }
        sys::Fork::Parent(pid) => {
            let status = sys::waitpid(pid, false).map_err(io("waiting for tomoyo-activate"))?;
            if !matches!(status, Some((_, sys::Exit::Code(0)))) {
                return Err(VmError::Infra(format!("tomoyo-activate: {status:?}")));
            }
        }
    }
    // Writes never fail on a bad line: read the profile back.
    let profile = fs::read_to_string(format!("{base}/profile"))
        .map_err(io("reading the TOMOYO profile back"))?;
    let domains = fs::read_to_string(format!("{base}/domain_policy"))
        .map_err(io("reading the TOMOYO domains back"))?;
    if !profile.contains("file::execute={ mode=enforcing")
        || tools
            .iter()
            .any(|t| !domains.contains(&t.tomoyo_launcher_domain()))
    {
        return Err(VmError::Infra(format!(
            "TOMOYO policy did not load as written:\n{profile}\n{domains}"
        )));
    }
    say("TOMOYO policy written and activated");
    Ok(())
}
