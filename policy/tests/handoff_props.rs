//! Properties of the handoff protocol, checked on generated inputs
//! (proptest): what the launcher encodes the worker decodes, whatever a
//! local user puts in the environment; the decoder never panics and accepts
//! only consistent handoffs for its own pid; and the environment filter
//! lets through nothing outside the allowlist, nothing that names a file,
//! and always ends with the launcher's own handoff variables.

#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use policy::handoff::{
    decode, encode, env_allowed, rebuild_env, ENV_ALLOWLIST, ENV_MAX_VALUE, FIRST_FD, VAR_FDS,
    VAR_NAMES, VAR_PID,
};
use policy::tools::{SocketSpec, Tool, ARPING, BROKER_CHANNEL, CLOCKDIFF, ICMP4, ICMP6, PING};
use proptest::prelude::*;

/// The socket lists each tool's launcher can hand over: for ping one or
/// both families (each is optional), in the descriptor's order.
fn opened() -> impl Strategy<Value = (&'static Tool, Vec<&'static SocketSpec>)> {
    let clockdiff_icmp4 = CLOCKDIFF
        .socket_named("icmp4")
        .expect("clockdiff has icmp4");
    prop_oneof![
        Just((&PING, vec![&ICMP4])),
        Just((&PING, vec![&ICMP6])),
        Just((&PING, vec![&ICMP4, &ICMP6])),
        // arping's worker gets the broker channel, never the packet socket.
        Just((&ARPING, vec![&BROKER_CHANNEL])),
        Just((&CLOCKDIFF, vec![clockdiff_icmp4])),
    ]
}

/// The tool a hostile environment is decoded for.
fn tool() -> impl Strategy<Value = &'static Tool> {
    prop_oneof![Just(&PING), Just(&ARPING), Just(&CLOCKDIFF)]
}

/// Strings a hostile environment might hold for the handoff variables:
/// near misses of valid values as well as noise.
fn hostile_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("1".to_string()),
        Just("2".to_string()),
        Just("icmp4".to_string()),
        Just("icmp6".to_string()),
        Just("icmp4:icmp6".to_string()),
        Just("icmp6:icmp4".to_string()),
        Just("arp".to_string()),
        Just("icmp4:icmp4".to_string()),
        Just("icmp4:".to_string()),
        Just(":icmp6".to_string()),
        Just("+1".to_string()),
        Just("-1".to_string()),
        Just(" 1".to_string()),
        Just("1\0".to_string()),
        Just("18446744073709551617".to_string()),
        any::<u32>().prop_map(|n| n.to_string()),
        any::<String>(),
        proptest::collection::vec(
            prop_oneof![
                Just("icmp4"),
                Just("icmp6"),
                Just("arp"),
                Just(""),
                Just("tcp")
            ],
            0..4
        )
        .prop_map(|v| v.join(":")),
    ]
}

/// Variable names: the allowlist, the classic injection vectors, the
/// handoff's own, and noise.
fn name() -> impl Strategy<Value = OsString> {
    let mut fixed: Vec<&'static str> = ENV_ALLOWLIST.to_vec();
    fixed.extend([
        "LD_PRELOAD",
        "LD_LIBRARY_PATH",
        "LD_AUDIT",
        "GCONV_PATH",
        "MALLOC_CHECK_",
        "MALLOC_PERTURB_",
        "GLIBC_TUNABLES",
        "LOCPATH",
        "NLSPATH",
        "HOSTALIASES",
        "RES_OPTIONS",
        "TZDIR",
        "PATH",
        VAR_FDS,
        VAR_PID,
        VAR_NAMES,
        "lang",
        "LANG ",
        "LC_ALL\0",
    ]);
    prop_oneof![
        3 => proptest::sample::select(fixed).prop_map(OsString::from),
        1 => proptest::collection::vec(any::<u8>(), 0..12).prop_map(OsString::from_vec),
    ]
}

/// Values: plausible ones, file names and traversal, control characters,
/// long ones, arbitrary bytes.
fn value() -> impl Strategy<Value = OsString> {
    prop_oneof![
        proptest::sample::select(vec![
            "C",
            "C.UTF-8",
            "de_DE.UTF-8",
            "Europe/Berlin",
            "UTC",
            "xterm",
            "80",
            "1",
            "",
            "/tmp/evil",
            "../../tmp/evil",
            ":/etc/shadow",
            "/etc/shadow",
            "a/b",
            "x..y",
        ])
        .prop_map(OsString::from),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(OsString::from_vec),
        (0usize..2 * ENV_MAX_VALUE).prop_map(|n| OsString::from("a".repeat(n))),
    ]
}

/// Variables that make glibc, the loader or the resolver read a file or
/// change behaviour in ways a raw-socket holder must never allow.
fn is_injection_vector(name: &str) -> bool {
    name.starts_with("LD_")
        || name.starts_with("MALLOC_")
        || name.starts_with("LISTEN_")
        || [
            "GCONV_PATH",
            "GLIBC_TUNABLES",
            "LOCPATH",
            "NLSPATH",
            "HOSTALIASES",
            "RES_OPTIONS",
            "TZDIR",
            "PATH",
        ]
        .contains(&name)
}

fn lookup(vars: &[(&str, String)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    move |k| map.get(k).cloned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn what_the_launcher_encodes_the_worker_decodes((tool, kinds) in opened(), pid in 1u32..) {
        let vars = encode(&kinds, pid);
        let got = decode(lookup(&vars), pid, tool).expect("a launcher handoff decodes");
        prop_assert_eq!(got.len(), kinds.len());
        for (i, (s, k)) in got.iter().zip(&kinds).enumerate() {
            prop_assert_eq!(s.fd, FIRST_FD + i as i32);
            prop_assert_eq!(s.spec, *k);
        }
        // Meant for this pid only.
        prop_assert!(decode(lookup(&vars), pid.wrapping_add(1), tool).is_err());
    }

    #[test]
    fn the_decoder_accepts_only_consistent_handoffs(
        fds in proptest::option::of(hostile_value()),
        pid in proptest::option::of(hostile_value()),
        names in proptest::option::of(hostile_value()),
        own in 1u32..100_000,
        tool in tool(),
    ) {
        let mut vars = Vec::new();
        if let Some(v) = fds { vars.push((VAR_FDS, v)); }
        if let Some(v) = pid { vars.push((VAR_PID, v)); }
        if let Some(v) = names { vars.push((VAR_NAMES, v)); }
        // Never panics; whatever it accepts is a handoff the launcher could
        // have made for this process.
        if let Ok(got) = decode(lookup(&vars), own, tool) {
            prop_assert!(!got.is_empty() && got.len() <= tool.worker_handoff().len());
            let kinds: Vec<&SocketSpec> = got.iter().map(|s| s.spec).collect();
            for k in &kinds {
                prop_assert!(tool.worker_handoff().contains(k), "{} is not {}'s worker's", k.name, tool.name);
                prop_assert!(!tool.brokered(k.name), "{} is brokered", k.name);
            }
            if kinds.len() == 2 { prop_assert_ne!(kinds[0], kinds[1]); }
            for (i, s) in got.iter().enumerate() { prop_assert_eq!(s.fd, FIRST_FD + i as i32); }
            let pid_var = lookup(&vars)(VAR_PID).unwrap();
            prop_assert_eq!(pid_var.parse::<u32>().ok(), Some(own));
            let again = decode(lookup(&encode(&kinds, own)), own, tool).unwrap();
            prop_assert_eq!(again, got);
        }
    }

    #[test]
    fn the_filter_passes_nothing_dangerous(n in name(), v in value()) {
        if env_allowed(&n, &v) {
            let name = n.to_str().expect("allowed names are UTF-8");
            prop_assert!(ENV_ALLOWLIST.contains(&name), "{name} is not allowlisted");
            // Independently of what the allowlist says: the known ways into
            // the dynamic loader, glibc and the resolver never pass.
            prop_assert!(!is_injection_vector(name), "{name} passed the filter");
            let bytes = v.as_bytes();
            prop_assert!(bytes.len() <= ENV_MAX_VALUE);
            prop_assert!(!bytes.iter().any(|b| b.is_ascii_control()));
            prop_assert!(!bytes.windows(2).any(|w| w == b".."));
            if name.starts_with("LC_") || name.starts_with("LANG") {
                prop_assert!(!bytes.contains(&b'/'), "locale path {v:?}");
            }
            if name == "TZ" {
                prop_assert!(!bytes.starts_with(b"/") && !bytes.starts_with(b":/"), "zone file {v:?}");
            }
        }
    }

    #[test]
    fn the_rebuilt_environment_is_the_allowed_input_then_the_handoff(
        input in proptest::collection::vec((name(), value()), 0..24),
        (tool, kinds) in opened(),
        pid in 1u32..,
    ) {
        let env = rebuild_env(input.clone(), &kinds, &[], pid);
        let expected: Vec<(OsString, OsString)> =
            input.iter().filter(|(n, v)| env_allowed(n, v)).cloned().collect();
        prop_assert_eq!(&env[..env.len() - 3], &expected[..]);
        // Forged handoff variables never survive: the last three are the launcher's.
        let tail: Vec<(OsString, OsString)> = encode(&kinds, pid)
            .into_iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v)))
            .collect();
        prop_assert_eq!(&env[env.len() - 3..], &tail[..]);
        for (n, _) in &env[..env.len() - 3] {
            prop_assert!(!n.as_bytes().starts_with(b"LD_") && !n.as_bytes().starts_with(b"LISTEN_"));
        }
        // And the worker decodes exactly what was opened.
        let map: HashMap<OsString, OsString> = env.iter().cloned().collect();
        let got = decode(|k| map.get(OsStr::new(k)).map(|v| v.to_string_lossy().into_owned()), pid, tool).unwrap();
        prop_assert_eq!(got.iter().map(|s| s.spec).collect::<Vec<_>>(), kinds);
    }
}
