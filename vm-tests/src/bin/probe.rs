//! `probe`: the compromised worker or launcher of the conformance suite
//! (see `vm_tests::probe`). Never installed outside a test VM.

#![forbid(unsafe_code)]

fn main() {
    vm_tests::probe::main(std::env::args().collect());
}
