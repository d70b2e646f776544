//! Debian 12's own kernel, fetched and unpacked into the cache
//! (`target/vm-tests/cache/`, never committed):
//!
//! 1. `apt-cache depends linux-image-amd64` names the image package
//!    (`linux-image-6.1.0-N-amd64`); `apt-get download` fetches it (after an
//!    `apt-get update` if the first attempt fails);
//! 2. `dpkg-deb -x` unpacks it; we keep `boot/vmlinuz-*` and `boot/config-*`;
//! 3. the uncompressed ELF `vmlinux` is cut out of the bzImage: the boot
//!    protocol header gives the payload's offset and length
//!    (`setup_sects`, `payload_offset`, `payload_length`), Debian compresses
//!    it with xz (`CONFIG_KERNEL_XZ=y`), and `xz -dc` (xz-utils, priority
//!    standard) unpacks it. Booting the ELF by its PVH note skips the
//!    in-guest decompression: about 3 s under TCG instead of 6–9 s.
//!
//! Any failure here is an infrastructure failure.

#![forbid(unsafe_code)]

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::VmError;

/// The unpacked kernel.
pub struct Kernel {
    /// The image package, e.g. `linux-image-6.1.0-57-amd64`.
    pub package: String,
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

/// The package `linux-image-amd64` depends on.
pub fn image_package() -> Result<String, VmError> {
    let out = run(
        Command::new("apt-cache").args(["depends", "linux-image-amd64"]),
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

/// Fetches, unpacks and extracts the kernel into `cache`, reusing what is already there.
/// On a machine whose package lists are missing or stale (a fresh one), the first lookup or
/// download fails: then `apt-get update` once and try again.
pub fn prepare(cache: &Path) -> Result<Kernel, VmError> {
    match prepare_once(cache) {
        Ok(k) => Ok(k),
        Err(first) => {
            eprintln!("vm-tests: {first}; running apt-get update and trying again");
            run(
                Command::new("apt-get").args(["update", "-q"]),
                "apt-get update",
            )?;
            prepare_once(cache)
        }
    }
}

fn prepare_once(cache: &Path) -> Result<Kernel, VmError> {
    let package = image_package()?;
    let dir = cache.join(&package);
    let vmlinux = dir.join("vmlinux");
    let bzimage = dir.join("vmlinuz");
    if vmlinux.is_file() && bzimage.is_file() {
        return Ok(Kernel {
            package,
            bzimage,
            vmlinux,
        });
    }
    fs::create_dir_all(&dir).map_err(infra("creating the kernel cache"))?;
    let debs = dir.join("deb");
    fs::create_dir_all(&debs).map_err(infra("creating the kernel cache"))?;
    eprintln!("vm-tests: fetching {package} with apt-get download");
    run(
        Command::new("apt-get")
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
    fs::rename(&tmp, &vmlinux).map_err(infra("writing vmlinux"))?;
    fs::write(&bzimage, &image).map_err(infra("writing vmlinuz"))?;
    // The unpacked tree (modules) is 400 MB we never use.
    let _ = fs::remove_dir_all(&unpacked);
    let _ = fs::remove_dir_all(&debs);
    Ok(Kernel {
        package,
        bzimage,
        vmlinux,
    })
}

/// The compressed payload of a bzImage, located by the boot protocol header
/// (Documentation/arch/x86/boot.rst), checked against the compression magic.
pub fn payload(image: &[u8]) -> Result<&[u8], VmError> {
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
    if !data.starts_with(b"\xfd7zXZ\0") {
        return Err(bad(
            "payload is not xz-compressed (Debian 12 uses CONFIG_KERNEL_XZ)",
        ));
    }
    Ok(data)
}

/// Decompresses the payload with `xz -dc` and checks that an ELF came out.
pub fn extract_vmlinux(image: &[u8]) -> Result<Vec<u8>, VmError> {
    let data = payload(image)?.to_vec();
    let mut child = Command::new("xz")
        .args(["-dc", "--single-stream"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(infra("running xz (package xz-utils)"))?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let out = child.wait_with_output().map_err(infra("running xz"))?;
    let _ = writer.join();
    if !out.status.success() || !out.stdout.starts_with(b"\x7fELF") {
        return Err(VmError::Infra(format!(
            "xz did not produce an ELF vmlinux ({}): {}",
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
        assert_eq!(payload(&image(3, xz)).unwrap(), xz);
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
}
