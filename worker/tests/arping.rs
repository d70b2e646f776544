//! Tests of the installed privsep-arping: the launcher staged with its real
//! file capability (`make stage`), run as the unprivileged test user inside
//! the first of two network namespaces joined by a veth pair (198.18.0.1 on
//! `veth0`, 198.18.0.2 on `veth1`, nothing else): replies counted, `-D`
//! with and without a duplicate, the `-c`/`-w` end conditions, no answer,
//! the non-root refusals, the running worker's sandbox state, and line by
//! line against iputils `arping` (Debian's, `cap_net_raw=ep`) run the same
//! way.
//!
//! They need root, the staged install and the test user, so a plain `cargo
//! test` skips them as ignored; `make test` runs them with
//! `--include-ignored` and sets `PRIVSEP_STAGE` and `PRIVSEP_TEST_USER`.

#![forbid(unsafe_code)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use support::{launcher_of, text, worker_of, NetnsPair};
use testkit::netns::VETH1_MAC;
use testkit::procfs;

const IPUTILS: &str = "/usr/bin/arping";

fn ours() -> PathBuf {
    launcher_of("arping")
}

/// Times (`0.652ms`) become `Tms`, so that runs compare line by line.
fn normalize(out: &str) -> Vec<String> {
    out.lines()
        .map(|line| {
            let mut words: Vec<String> = line.split(' ').map(str::to_string).collect();
            for w in &mut words {
                if let Some(num) = w.strip_suffix("ms") {
                    if !num.is_empty() && num.chars().all(|c| c.is_ascii_digit() || c == '.') {
                        *w = "Tms".into();
                    }
                }
            }
            words.join(" ")
        })
        .collect()
}

fn show(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}stderr:\n{}",
        o.status.code(),
        text(&o.stdout),
        text(&o.stderr)
    )
}

fn reply_line() -> String {
    format!(
        "Unicast reply from 198.18.0.2 [{}]  Tms",
        VETH1_MAC.to_uppercase()
    )
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn replies_are_counted() {
    let net = NetnsPair::new("arc");
    let out = net.run_in_a(&ours(), &["-c", "3", "-I", "veth0", "198.18.0.2"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let lines = normalize(&text(&out.stdout));
    assert_eq!(lines[0], "ARPING 198.18.0.2 from 198.18.0.1 veth0");
    assert_eq!(lines[1..4], [reply_line(), reply_line(), reply_line()]);
    assert_eq!(lines[4], "Sent 3 probes (1 broadcast(s))");
    assert_eq!(lines[5], "Received 3 response(s)");
    assert_eq!(lines.len(), 6);
    assert!(out.stderr.is_empty(), "{}", show(&out));
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn without_i_the_route_picks_the_interface() {
    let net = NetnsPair::new("arg");
    // By name, from the namespace's own hosts file.
    let out = net.run_in_a(&ours(), &["-f", "peer.test"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let lines = normalize(&text(&out.stdout));
    assert_eq!(lines[0], "ARPING 198.18.0.2 from 198.18.0.1 veth0");
    assert_eq!(lines[1], reply_line());
    assert_eq!(lines[2], "Sent 1 probes (1 broadcast(s))");
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn dad_exit_status_is_inverted() {
    let net = NetnsPair::new("ard");
    // 198.18.0.2 is taken (by veth1): a duplicate, exit 1.
    let out = net.run_in_a(&ours(), &["-D", "-c", "2", "-I", "veth0", "198.18.0.2"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let lines = normalize(&text(&out.stdout));
    assert_eq!(lines[0], "ARPING 198.18.0.2 from 0.0.0.0 veth0");
    assert_eq!(lines[1], reply_line());
    assert_eq!(
        lines[2..],
        ["Sent 1 probes (1 broadcast(s))", "Received 1 response(s)"]
    );
    // 198.18.0.3 is free: no duplicate, exit 0, every probe sent.
    let out = net.run_in_a(&ours(), &["-D", "-c", "2", "-I", "veth0", "198.18.0.3"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(
        normalize(&text(&out.stdout)),
        [
            "ARPING 198.18.0.3 from 0.0.0.0 veth0",
            "Sent 2 probes (2 broadcast(s))",
            "Received 0 response(s)"
        ]
    );
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn count_and_deadline_end_it() {
    let net = NetnsPair::new("arw");
    // -w with -c: done as soon as -c answers came.
    let start = Instant::now();
    let out = net.run_in_a(
        &ours(),
        &["-w", "10", "-c", "1", "-I", "veth0", "198.18.0.2"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "waited for the deadline"
    );
    let lines = normalize(&text(&out.stdout));
    assert_eq!(lines[1], reply_line());
    // -w alone against silence: the deadline ends it (one probe at -i 5), exit 1.
    let out = net.run_in_a(
        &ours(),
        &["-w", "2", "-i", "5", "-I", "veth0", "198.18.0.9"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert_eq!(
        normalize(&text(&out.stdout))[1..],
        ["Sent 1 probes (1 broadcast(s))", "Received 0 response(s)"]
    );
    // -f: the first answer ends it whatever -c says.
    let out = net.run_in_a(&ours(), &["-f", "-c", "5", "-I", "veth0", "198.18.0.2"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(
        normalize(&text(&out.stdout))[2],
        "Sent 1 probes (1 broadcast(s))"
    );
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn no_answer_exits_1() {
    let net = NetnsPair::new("arn");
    let out = net.run_in_a(&ours(), &["-c", "2", "-I", "veth0", "198.18.0.9"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert_eq!(
        normalize(&text(&out.stdout)),
        [
            "ARPING 198.18.0.9 from 198.18.0.1 veth0",
            "Sent 2 probes (2 broadcast(s))",
            "Received 0 response(s)"
        ]
    );
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn non_root_limits_refuse_unsolicited_arp() {
    let net = NetnsPair::new("arr");
    for args in [
        &["-U", "-c", "1", "-I", "veth0", "198.18.0.1"][..],
        &["-A", "-c", "1", "-I", "veth0", "198.18.0.1"],
        &["-s", "198.18.0.2", "-c", "1", "-I", "veth0", "198.18.0.2"],
        &[
            "-D",
            "-s",
            "198.18.0.7",
            "-c",
            "1",
            "-I",
            "veth0",
            "198.18.0.2",
        ],
    ] {
        let out = net.run_in_a(&ours(), args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", show(&out));
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.contains("root only") && stderr.contains("poison"),
            "{stderr}"
        );
        assert!(out.stdout.is_empty(), "{args:?}: {}", show(&out));
    }
    // The interface's own address is fine.
    let out = net.run_in_a(
        &ours(),
        &["-s", "198.18.0.1", "-f", "-I", "veth0", "198.18.0.2"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn bad_input_is_one_line_with_iputils_status() {
    let net = NetnsPair::new("arb");
    for (args, wanted, status) in [
        (
            &["-c", "1", "-I", "nosuch0", "198.18.0.2"][..],
            "Device nosuch0 not available.",
            2,
        ),
        (&["-c", "1", "-I", "lo", "198.18.0.2"], "", 2),
        (
            &["-c", "1", "no-such-host.invalid"],
            "no-such-host.invalid: ",
            2,
        ),
        // strtol_or_err's status, as iputils.
        (&["-c", "abc", "198.18.0.2"], "invalid argument: 'abc'", 1),
        (
            &["-c", "1", "-s", "banana", "-I", "veth0", "198.18.0.2"],
            "invalid source banana",
            2,
        ),
    ] {
        let out = net.run_in_a(&ours(), args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(status), "{args:?}: {}", show(&out));
        assert!(!stderr.contains("panicked"), "{stderr}");
        if wanted.is_empty() {
            // iputils' words, on stdout.
            assert_eq!(text(&out.stdout), "Interface \"lo\" is not ARPable\n");
        } else {
            assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
            assert!(stderr.contains(wanted), "{args:?}: {stderr}");
        }
    }
    // An unknown option: getopt's line, then upstream's usage text, as iputils.
    let out = net.run_in_a(&ours(), &["-x", "198.18.0.2"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        stderr
            .lines()
            .next()
            .is_some_and(|l| l.ends_with(": invalid option -- 'x'")),
        "{stderr}"
    );
    assert!(
        stderr.contains("\nUsage:\n  arping [options] <destination>\n"),
        "{stderr}"
    );
    // A down interface.
    let out = net.run_in_a(&ours(), &["-c", "1", "-I", "veth0", "198.18.0.2"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    net.a.sh("ip link set veth0 down");
    let out = net.run_in_a(&ours(), &["-c", "1", "-I", "veth0", "198.18.0.2"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert_eq!(text(&out.stdout), "Interface \"veth0\" is down\n");
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn running_worker_is_sandboxed_and_holds_only_its_socket() {
    let net = NetnsPair::new("arp");
    let child = net
        .as_user_in_a(&ours(), &["-c", "3", "-I", "veth0", "198.18.0.2"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // ip netns exec forks nothing: it execs setpriv, which execs the
    // launcher, which execs the worker, all in this pid.
    let pid = child.id() as i32;
    let status = procfs::wait_locked_down(pid, Some(&worker_of("arping")), "the arping worker");
    procfs::assert_locked_down(&status, "the arping worker");
    let fds: Vec<i32> = procfs::fds(pid).unwrap().into_keys().collect();
    assert_eq!(fds, [0, 1, 2, 3], "unexpected descriptors");
    // fd 3 is the broker channel (a unix socket), never a packet socket;
    // the packet socket is the broker's, a child of the worker, locked
    // down the same way.
    let inode = |pid: i32, fd: u32| {
        let l = std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).unwrap();
        let l = l.to_string_lossy().into_owned();
        l.strip_prefix("socket:[")
            .and_then(|r| r.strip_suffix(']'))
            .unwrap_or_else(|| panic!("fd {fd} is {l}"))
            .to_string()
    };
    let lists = |pid: i32, table: &str, inode: &str| {
        std::fs::read_to_string(format!("/proc/{pid}/net/{table}"))
            .unwrap()
            .lines()
            .any(|l| l.split_whitespace().any(|w| w == inode))
    };
    let channel = inode(pid, 3);
    assert!(lists(pid, "unix", &channel), "fd 3 is not a unix socket");
    assert!(
        !lists(pid, "packet", &channel),
        "the worker holds a packet socket"
    );
    let broker = *procfs::children(pid)
        .unwrap()
        .first()
        .expect("the broker runs as the worker's child");
    assert!(procfs::exe(broker)
        .unwrap()
        .ends_with("privsep/arping-broker"));
    let bstatus = procfs::status(broker).unwrap();
    procfs::assert_locked_down(&bstatus, "the arping broker");
    assert_eq!(
        procfs::field(&bstatus, "Uid"),
        procfs::field(&status, "Uid"),
        "the broker runs as the caller"
    );
    let bfds: Vec<i32> = procfs::fds(broker).unwrap().into_keys().collect();
    assert_eq!(bfds, [0, 1, 2, 3, 4], "the broker's descriptors");
    assert!(lists(broker, "packet", &inode(broker, 3)), "broker fd 3");
    assert!(lists(broker, "unix", &inode(broker, 4)), "broker fd 4");
    let out = testkit::deadline::wait_with_output(child, &"the arping launcher");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn output_and_status_match_iputils() {
    let net = NetnsPair::new("ari");
    for args in [
        &["-c", "3", "-I", "veth0", "198.18.0.2"][..],
        &["-c", "2", "-I", "veth0", "198.18.0.9"],
        &["-D", "-c", "2", "-I", "veth0", "198.18.0.2"],
        &["-D", "-c", "2", "-I", "veth0", "198.18.0.3"],
        &["-f", "198.18.0.2"],
        &["-b", "-c", "2", "-I", "veth0", "198.18.0.2"],
        &["-q", "-c", "2", "-I", "veth0", "198.18.0.2"],
        &["-w", "1", "-c", "1", "-I", "veth0", "198.18.0.2"],
        &["-c", "1", "-I", "lo", "198.18.0.2"],
    ] {
        let theirs = net.run_in_a(Path::new(IPUTILS), args);
        let mine = net.run_in_a(&ours(), args);
        assert_eq!(
            mine.status.code(),
            theirs.status.code(),
            "{args:?}\nours: {}\niputils: {}",
            show(&mine),
            show(&theirs)
        );
        assert_eq!(
            normalize(&text(&mine.stdout)),
            normalize(&text(&theirs.stdout)),
            "{args:?}"
        );
    }
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn bad_input_is_iputils_message_and_status() {
    let net = NetnsPair::new("arb");
    for args in [
        &["-c", "abc", "198.18.0.2"][..],
        &["-c", "0", "198.18.0.2"],
        &["-w", "x", "198.18.0.2"],
        &["-i", "99999999999", "198.18.0.2"],
    ] {
        let theirs = net.run_in_a(Path::new(IPUTILS), args);
        let mine = net.run_in_a(&ours(), args);
        assert_eq!(
            mine.status.code(),
            theirs.status.code(),
            "{args:?}\nours: {}\niputils: {}",
            show(&mine),
            show(&theirs)
        );
        // Both name the program as invoked (argv[0] whole).
        let ours_path = ours();
        let ours_name = ours_path.to_str().unwrap();
        assert_eq!(
            text(&mine.stderr).replace(ours_name, "ARPING"),
            text(&theirs.stderr).replace(IPUTILS, "ARPING"),
            "{args:?}"
        );
    }
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn worker_started_by_hand_refuses() {
    let net = NetnsPair::new("arh");
    let out = net.run_in_a(&worker_of("arping"), &["-c", "1", "198.18.0.2"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert_eq!(text(&out.stderr).lines().count(), 1, "{}", show(&out));
    assert!(out.stdout.is_empty());
}
