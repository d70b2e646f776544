//! The launchers' ELF entry point is the privileged phase's stub
//! (`launcher::entry_point!`), which jumps on to glibc's `_start`: the
//! privileged system calls run before glibc's start-up, not after it.

fn main() {
    println!("cargo:rustc-link-arg-bins=-Wl,-e,privsep_launcher_entry");
}
