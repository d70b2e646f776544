//! The worker's handoff decoder on arbitrary `LISTEN_FDS`, `LISTEN_PID` and
//! `LISTEN_FDNAMES` values (a local user controls the environment of a
//! hand-started worker): it must never panic, and whatever it accepts must
//! be a handoff the launcher could have encoded for this pid.

#![no_main]

use libfuzzer_sys::fuzz_target;
use policy::handoff::{decode, encode, FIRST_FD, VAR_FDS, VAR_NAMES, VAR_PID};
use policy::tools::PING;

fuzz_target!(|data: &[u8]| {
    // Three values separated by NUL; a missing one is an unset variable.
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\0');
    let (fds, pid, names) = (parts.next(), parts.next(), parts.next());
    let own = 4242;
    let var = |name: &str| match name {
        VAR_FDS => fds.map(str::to_string),
        VAR_PID => pid.map(str::to_string),
        VAR_NAMES => names.map(str::to_string),
        _ => None,
    };
    if let Ok(sockets) = decode(var, own, &PING) {
        assert!(matches!(sockets.len(), 1 | 2));
        assert_eq!(pid.and_then(|p| p.parse::<u32>().ok()), Some(own));
        let kinds: Vec<_> = sockets.iter().map(|s| s.spec).collect();
        for (i, s) in sockets.iter().enumerate() {
            assert_eq!(s.fd, FIRST_FD + i as i32);
        }
        let again = encode(&kinds, own);
        let lookup = |name: &str| {
            again
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(decode(lookup, own, &PING).unwrap(), sockets);
    }
});
