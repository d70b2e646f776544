//! The launcher binaries (feature `nolibc`) link no libc: no start files,
//! no default libraries, a static PIE whose ELF entry point is the
//! privileged phase's stub (`launcher::entry_point!`), and whose
//! relocation is `sys::rt`'s.

fn main() {
    if std::env::var_os("CARGO_FEATURE_NOLIBC").is_some() {
        for arg in [
            "-nostartfiles",
            "-nostdlib",
            "-static-pie",
            "-Wl,-e,privsep_launcher_entry",
        ] {
            println!("cargo:rustc-link-arg-bins={arg}");
        }
    }
}
