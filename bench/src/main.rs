//! `make bench` harness. (Being written.)
fn main() {
    eprintln!("bench: not written yet");
    std::process::exit(2);
}
