//! The kernels of the matrix, fetched and unpacked into the cache
//! (`target/vm-tests/cache/`, never committed):
//!
//! - `bookworm`: Debian 12's kernel (6.1), the image `linux-image-amd64`
//!   depends on, through the machine's own apt (a Debian 12 host);
//! - `trixie`: Debian 13's kernel (6.12), through a private apt
//!   configuration under the cache (its own sources list, state, lists and
//!   archive directories, passed with `-o Dir::…`): the machine's apt lists
//!   are never read for it, its apt sources only for the Debian mirror's URI
//!   (`scripts/debian-mirror.sh`, so that a local mirror or proxy serves it
//!   too and no host name is written here), and neither is changed.
//!
//! For each: `apt-cache depends linux-image-amd64` names the image package,
//! `apt-get download` fetches it (after an `apt-get update` if the first
//! attempt fails), `dpkg-deb -x` unpacks it, and the uncompressed ELF
//! `vmlinux` is cut out of the bzImage: the boot protocol header gives the
//! payload's offset and length (`setup_sects`, `payload_offset`,
//! `payload_length`); Debian 12 compresses it with xz, Debian 13 with zstd
//! (`CONFIG_KERNEL_ZSTD`, the payload followed by its 4-byte uncompressed
//! size). Booting the ELF by its PVH note skips the in-guest decompression:
//! about 3 s under TCG instead of 6–9 s.
//!
//! Any failure here is an infrastructure failure naming the kernel.

#![forbid(unsafe_code)]

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::VmError;

/// Where a kernel package comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Apt {
    /// The machine's apt configuration (a Debian 12 host: bookworm).
    Machine,
    /// A private apt configuration with one sources line: this suite's
    /// `main` from the machine's own Debian mirror.
    Private {
        /// The Debian suite, e.g. `trixie`.
        suite: &'static str,
    },
}

/// One kernel of the matrix.
#[derive(Debug)]
pub struct Source {
    /// Name on the command line (`VM_KERNELS=`).
    pub name: &'static str,
    /// The distribution release it stands for.
    pub about: &'static str,
    /// Where its package comes from.
    pub apt: Apt,
}

/// The matrix: Debian 12's and Debian 13's default kernels.
pub const KERNELS: &[Source] = &[
    Source {
        name: "bookworm",
        about: "Debian 12's kernel (6.1): Landlock ABI 2, the release privsep targets",
        apt: Apt::Machine,
    },
    Source {
        name: "trixie",
        about: "Debian 13's kernel (6.12): Landlock ABI 6 (signal and abstract-unix-socket scopes)",
        apt: Apt::Private { suite: "trixie" },
    },
];

/// Looks a kernel up by name.
pub fn find(name: &str) -> Option<&'static Source> {
    KERNELS.iter().find(|k| k.name == name)
}

/// The unpacked kernel.
#[derive(Debug)]
pub struct Kernel {
    /// Which kernel of the matrix.
    pub source: &'static Source,
    /// The image package, e.g. `linux-image-6.1.0-57-amd64`.
    pub package: String,
    /// Its release (`uname -r` in the guest): the package name without `linux-image-`.
    pub release: String,
    /// The bzImage, the fallback boot image.
    pub bzimage: PathBuf,
    /// The uncompressed ELF with its PVH entry note.
    pub vmlinux: PathBuf,
}

fn infra(what: &str) -> impl FnOnce(std::io::Error) -> VmError + '_ {
    move |e| VmError::Infra(format!("{what}: {e}"))
}

fn run(cmd: &mut Command, what: &str) -> Result<String, VmError> {
    let out = cmd.stderr(Stdio::piped()).output().map_err(infra(what))?;
    if !out.status.success() {
        return Err(VmError::Infra(format!(
            "{what} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The apt options of a private configuration rooted at `root`: its own
/// sources list (no sources.list.d), preferences, state (lists, status) and
/// cache; no translations or AppStream metadata (only `Packages` is needed).
pub fn private_apt_options(root: &Path) -> Vec<String> {
    let r = |p: &str| root.join(p).display().to_string();
    [
        ("Dir::Etc::sourcelist", r("sources.list")),
        ("Dir::Etc::sourceparts", r("sources.list.d")),
        ("Dir::Etc::preferences", r("preferences")),
        ("Dir::Etc::preferencesparts", r("preferences.d")),
        ("Dir::State", r("state")),
        ("Dir::State::lists", r("state/lists")),
        ("Dir::State::status", r("state/status")),
        ("Dir::Cache", r("cache")),
        ("Acquire::Languages", "none".into()),
        (
            "Acquire::IndexTargets::deb::DEP-11::DefaultEnabled",
            "false".into(),
        ),
        (
            "Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled",
            "false".into(),
        ),
        (
            "Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled",
            "false".into(),
        ),
        (
            "Acquire::IndexTargets::deb::DEP-11-icons-hidpi::DefaultEnabled",
            "false".into(),
        ),
        (
            "Acquire::IndexTargets::deb::CNF::DefaultEnabled",
            "false".into(),
        ),
        (
            "Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled",
            "false".into(),
        ),
        // The downloads land in root-owned directories the _apt user cannot write.
        ("APT::Sandbox::User", "root".into()),
    ]
    .into_iter()
    .flat_map(|(k, v)| ["-o".to_string(), format!("{k}={v}")])
    .collect()
}

/// One apt command (`apt-get` or `apt-cache`) for `source`, its private
/// configuration (created on first use) under `cache`.
fn apt(source: &Source, cache: &Path, program: &str) -> Result<Command, VmError> {
    let mut cmd = Command::new(program);
    if let Apt::Private { suite } = source.apt {
        let root = cache.join(format!("apt-{}", source.name));
        for d in [
            "sources.list.d",
            "preferences.d",
            "state/lists/partial",
            "cache/archives/partial",
        ] {
            fs::create_dir_all(root.join(d))
                .map_err(infra("creating the private apt configuration"))?;
        }
        fs::write(root.join("sources.list"), sources_line(suite)? + "\n")
            .map_err(infra("writing the private sources list"))?;
        if !root.join("state/status").exists() {
            fs::write(root.join("state/status"), "")
                .map_err(infra("writing the private dpkg status"))?;
        }
        cmd.args(private_apt_options(&root));
    }
    Ok(cmd)
}

/// The helper that reads the machine's apt sources for its Debian mirror:
/// one implementation for the shell scripts and this suite.
const DEBIAN_MIRROR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/debian-mirror.sh");

/// The sources line of a private configuration for `suite`: the machine's
/// Debian mirror, signed by the Debian archive keyring.
fn sources_line(suite: &str) -> Result<String, VmError> {
    let out = Command::new(DEBIAN_MIRROR)
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| VmError::Infra(format!("running {DEBIAN_MIRROR}: {e}")))?;
    if !out.status.success() {
        // The helper's own one line says what is missing.
        return Err(VmError::Infra(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    let mirror = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Ok(format!(
        "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] {mirror} {suite} main"
    ))
}

/// The package `linux-image-amd64` depends on, as `source`'s apt sees it.
pub fn image_package(source: &Source, cache: &Path) -> Result<String, VmError> {
    let out = run(
        apt(source, cache, "apt-cache")?.args(["depends", "linux-image-amd64"]),
        "apt-cache depends linux-image-amd64",
    )?;
    out.lines()
        .filter_map(|l| l.trim().strip_prefix("Depends: "))
        .map(str::trim)
        .find(|p| p.starts_with("linux-image-") && !p.starts_with('<'))
        .map(str::to_string)
        .ok_or_else(|| {
            VmError::Infra(format!(
                "linux-image-amd64 depends on no kernel image package:\n{out}"
            ))
        })
}

/// Fetches, unpacks and extracts `source`'s kernel into `cache`, reusing what is already
/// there. When the package lists are missing or stale (a fresh machine, a fresh private
/// configuration), the first lookup or download fails: then `apt-get update` once (of the
/// private configuration for a private source) and try again.
pub fn prepare(source: &'static Source, cache: &Path) -> Result<Kernel, VmError> {
    let named = |e: VmError| match e {
        VmError::Infra(m) => VmError::Infra(format!("kernel {}: {m}", source.name)),
        other => other,
    };
    match prepare_once(source, cache) {
        Ok(k) => Ok(k),
        Err(first) => {
            eprintln!(
                "vm-tests: kernel {}: {first}; running apt-get update and trying again",
                source.name
            );
            run(
                apt(source, cache, "apt-get")?.args(["update", "-q"]),
                "apt-get update",
            )
            .map_err(named)?;
            prepare_once(source, cache).map_err(named)
        }
    }
}

fn prepare_once(source: &'static Source, cache: &Path) -> Result<Kernel, VmError> {
    let package = image_package(source, cache)?;
    let release = package
        .strip_prefix("linux-image-")
        .unwrap_or(&package)
        .to_string();
    let dir = cache.join(&package);
    let vmlinux = dir.join("vmlinux");
    let bzimage = dir.join("vmlinuz");
    let kernel = Kernel {
        source,
        package: package.clone(),
        release,
        bzimage: bzimage.clone(),
        vmlinux: vmlinux.clone(),
    };
    if vmlinux.is_file() && bzimage.is_file() {
        return Ok(kernel);
    }
    fs::create_dir_all(&dir).map_err(infra("creating the kernel cache"))?;
    let debs = dir.join("deb");
    fs::create_dir_all(&debs).map_err(infra("creating the kernel cache"))?;
    eprintln!("vm-tests: fetching {package} with apt-get download");
    run(
        apt(source, cache, "apt-get")?
            .arg("download")
            .arg(&package)
            .current_dir(&debs),
        "apt-get download",
    )?;
    let deb = fs::read_dir(&debs)
        .map_err(infra("listing the downloaded package"))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .ok_or_else(|| {
            VmError::Infra(format!(
                "apt-get download left no .deb in {}",
                debs.display()
            ))
        })?;
    let unpacked = dir.join("unpacked");
    let _ = fs::remove_dir_all(&unpacked);
    run(
        Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&unpacked),
        "dpkg-deb -x",
    )?;
    let boot = unpacked.join("boot");
    let find = |prefix: &str| -> Result<PathBuf, VmError> {
        fs::read_dir(&boot)
            .map_err(infra("listing boot/ of the kernel package"))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(prefix))
            })
            .ok_or_else(|| VmError::Infra(format!("no boot/{prefix}* in {package}")))
    };
    let image = fs::read(find("vmlinuz-")?).map_err(infra("reading the bzImage"))?;
    fs::copy(find("config-")?, dir.join("config")).map_err(infra("copying the kernel config"))?;
    let elf = extract_vmlinux(&image)?;
    let tmp = dir.join("vmlinux.tmp");
    fs::write(&tmp, &elf).map_err(infra("writing vmlinux"))?;
    fs::write(&bzimage, &image).map_err(infra("writing vmlinuz"))?;
    fs::rename(&tmp, &vmlinux).map_err(infra("writing vmlinux"))?;
    // The unpacked tree (modules) is 400 MB we never use.
    let _ = fs::remove_dir_all(&unpacked);
    let _ = fs::remove_dir_all(&debs);
    Ok(kernel)
}

/// How a bzImage's payload is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// xz (Debian 12).
    Xz,
    /// zstd (Debian 13); the kernel build appends the uncompressed size.
    Zstd,
}

/// The compressed payload of a bzImage, located by the boot protocol header
/// (Documentation/arch/x86/boot.rst), checked against the compression magic.
/// For zstd the trailing 4-byte size is cut off (zstd would read it as a
/// second, corrupt frame).
pub fn payload(image: &[u8]) -> Result<(Compression, &[u8]), VmError> {
    let bad = |why: &str| VmError::Infra(format!("not a bzImage: {why}"));
    if image.len() < 0x250 || &image[0x202..0x206] != b"HdrS" {
        return Err(bad("no HdrS boot header"));
    }
    let le32 = |off: usize| {
        u32::from_le_bytes([image[off], image[off + 1], image[off + 2], image[off + 3]]) as usize
    };
    let setup_sects = match image[0x1f1] {
        0 => 4,
        n => n as usize,
    };
    let start = (setup_sects + 1) * 512 + le32(0x248);
    let end = start + le32(0x24c);
    let data = image
        .get(start..end)
        .ok_or_else(|| bad("payload outside the file"))?;
    if data.starts_with(b"\xfd7zXZ\0") {
        Ok((Compression::Xz, data))
    } else if data.starts_with(b"\x28\xb5\x2f\xfd") && data.len() > 8 {
        Ok((Compression::Zstd, &data[..data.len() - 4]))
    } else {
        Err(bad(
            "payload is neither xz (Debian 12) nor zstd (Debian 13) compressed",
        ))
    }
}

/// Decompresses the payload with `xz -dc` or `zstd -dc` and checks that an ELF came out.
pub fn extract_vmlinux(image: &[u8]) -> Result<Vec<u8>, VmError> {
    let (compression, data) = payload(image)?;
    let data = data.to_vec();
    let (program, args, package): (&str, &[&str], &str) = match compression {
        Compression::Xz => ("xz", &["-dc", "--single-stream"], "xz-utils"),
        Compression::Zstd => ("zstd", &["-dc"], "zstd"),
    };
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| VmError::Infra(format!("running {program} (package {package}): {e}")))?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| VmError::Infra(format!("{program}: no stdin pipe")))?;
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let out = child
        .wait_with_output()
        .map_err(|e| VmError::Infra(format!("running {program}: {e}")))?;
    let _ = writer.join();
    if !out.status.success() || !out.stdout.starts_with(b"\x7fELF") {
        return Err(VmError::Infra(format!(
            "{program} did not produce an ELF vmlinux ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(out.stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal bzImage: boot sector with setup_sects at 0x1f1, "HdrS" at 0x202,
    /// payload_offset/length at 0x248/0x24c, the payload after the setup sectors.
    fn image(setup_sects: u8, payload: &[u8]) -> Vec<u8> {
        let start = (setup_sects as usize + 1) * 512;
        let mut img = vec![0u8; start + 16 + payload.len()];
        img[0x1f1] = setup_sects;
        img[0x202..0x206].copy_from_slice(b"HdrS");
        img[0x248..0x24c].copy_from_slice(&16u32.to_le_bytes());
        img[0x24c..0x250].copy_from_slice(&(payload.len() as u32).to_le_bytes());
        img[start + 16..].copy_from_slice(payload);
        img
    }

    #[test]
    fn payload_is_found_by_the_boot_header() {
        let xz = b"\xfd7zXZ\0rest-of-stream";
        assert_eq!(payload(&image(3, xz)).unwrap(), (Compression::Xz, &xz[..]));
    }

    #[test]
    fn other_compressions_and_garbage_are_infrastructure_failures() {
        let gz = b"\x1f\x8b\x08rest";
        assert!(matches!(payload(&image(3, gz)), Err(VmError::Infra(_))));
        assert!(matches!(payload(b"not a kernel"), Err(VmError::Infra(_))));
        let mut short = image(3, b"\xfd7zXZ\0");
        short.truncate(short.len() - 2);
        assert!(matches!(payload(&short), Err(VmError::Infra(_))));
    }

    #[test]
    fn xz_round_trip_yields_the_elf() {
        let elf = b"\x7fELF and the rest of a kernel".repeat(100);
        let mut child = Command::new("xz")
            .args(["-c", "--check=crc32"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("xz (package xz-utils) is needed");
        child.stdin.take().unwrap().write_all(&elf).unwrap();
        let xz = child.wait_with_output().unwrap().stdout;
        assert_eq!(extract_vmlinux(&image(4, &xz)).unwrap(), elf);
    }

    #[test]
    fn zstd_payload_loses_its_size_trailer_and_yields_the_elf() {
        let elf = b"\x7fELF and the rest of a newer kernel".repeat(100);
        let mut child = Command::new("zstd")
            .args(["-c", "-q"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("zstd (package zstd) is needed");
        child.stdin.take().unwrap().write_all(&elf).unwrap();
        let mut zst = child.wait_with_output().unwrap().stdout;
        let frame = zst.clone();
        zst.extend_from_slice(&(elf.len() as u32).to_le_bytes());
        let img = image(4, &zst);
        assert_eq!(payload(&img).unwrap(), (Compression::Zstd, &frame[..]));
        assert_eq!(extract_vmlinux(&img).unwrap(), elf);
    }

    #[test]
    fn the_private_apt_configuration_names_only_its_own_directories() {
        let root = Path::new("/x/cache/apt-trixie");
        let opts = private_apt_options(root);
        for key in [
            "Dir::Etc::sourcelist=",
            "Dir::Etc::sourceparts=",
            "Dir::State=",
            "Dir::State::lists=",
            "Dir::State::status=",
            "Dir::Cache=",
        ] {
            let v = opts
                .iter()
                .find_map(|o| o.strip_prefix(key))
                .unwrap_or_else(|| panic!("{key} missing"));
            assert!(v.starts_with("/x/cache/apt-trixie/"), "{key}{v}");
        }
        assert_eq!(
            find("trixie").map(|k| k.apt),
            Some(Apt::Private { suite: "trixie" })
        );
        assert_eq!(find("bookworm").map(|k| k.apt), Some(Apt::Machine));
    }
}
