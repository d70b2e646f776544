//! `vm-agent`: PID 1 in the guest (`/init`), or the unprivileged user's
//! shell when started as `vmtest-sh` (see `vm_tests::guest`).

#![forbid(unsafe_code)]

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if std::process::id() == 1 {
        vm_tests::guest::agent_main();
    }
    // TOMOYO's activation trigger and loader: its exec is the event, there is nothing to do.
    if args.first().is_some_and(|a| a.ends_with("tomoyo-activate")) {
        std::process::exit(0);
    }
    if args.first().is_some_and(|a| a.ends_with("vmtest-sh")) {
        vm_tests::guest::user::main(args);
    }
    eprintln!("vm-agent: runs only as PID 1 in the test VM, or as vmtest-sh");
    std::process::exit(2);
}
