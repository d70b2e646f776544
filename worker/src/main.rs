//! `privsep-ping-worker`: the unprivileged half of privsep-ping. (Being written.)

#![forbid(unsafe_code)]

fn main() {
    match policy::handoff::take_from_env() {
        Ok(sockets) => {
            eprintln!("privsep-ping: worker received {sockets:?}; ping engine not written yet");
            std::process::exit(2);
        }
        Err(e) => {
            eprintln!("privsep-ping: {e}");
            std::process::exit(2);
        }
    }
}
