//! A worker gone bad, in miniature: it applies the worker's sandbox profile
//! (`policy::sandbox::lock_down`, no sockets handed over) and then tries to
//! open a raw ICMP socket of its own. The profile's seccomp filter must kill
//! it with SIGSYS (exit status 159 in a shell); a test checks that it does.
//! If the socket call ever returns, it says so and exits 1.

#![forbid(unsafe_code)]

fn main() {
    match policy::sandbox::lock_down(policy::tools::PING.sandbox, &[]) {
        Ok(report) => println!("{report}"),
        Err(e) => {
            eprintln!("malicious: {e}");
            std::process::exit(2);
        }
    }
    println!("locked down; now trying socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)");
    let r = testkit::probe::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_ICMP);
    println!("socket() returned {r:?}: the sandbox did not stop it");
    std::process::exit(1);
}
