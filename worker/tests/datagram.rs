//! ping without any capability: a copy of the staged launcher without its
//! file capability (what `make install` installs where the kernel admits
//! every group to ICMP datagram sockets), run as the unprivileged test
//! user in a network namespace of the test's own whose
//! `net.ipv4.ping_group_range` is open or closed. Ignored by a plain
//! `cargo test`: `make test` runs them with the stage and the test user.

#![forbid(unsafe_code)]

mod support;

use std::path::PathBuf;
use std::process::Output;

use support::{in_netns, launcher, text};

/// The range systemd and Debian 13 set: every group.
const OPEN: &str = "ip link set lo up; echo '0 2147483647' >/proc/sys/net/ipv4/ping_group_range";
/// The kernel's default: no group.
const CLOSED: &str = "ip link set lo up; echo '1 0' >/proc/sys/net/ipv4/ping_group_range";

/// A copy of the staged launcher without any capability (`std::fs::copy`
/// does not carry the `security.capability` xattr), removed on drop.
struct NoCapLauncher {
    dir: PathBuf,
}

impl NoCapLauncher {
    fn new(name: &str) -> NoCapLauncher {
        let dir = std::env::temp_dir().join(format!("privsep-dgram-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        testkit::copy::copy_program(launcher(), dir.join("ping")).unwrap();
        let caps =
            testkit::deadline::output(std::process::Command::new("getcap").arg(dir.join("ping")));
        assert!(
            text(&caps.stdout).trim().is_empty(),
            "the copy kept a capability: {}",
            text(&caps.stdout)
        );
        NoCapLauncher { dir }
    }

    fn path(&self) -> PathBuf {
        self.dir.join("ping")
    }

    fn run(&self, setup: &str, args: &[&str]) -> Output {
        in_netns(setup, &self.path(), args)
    }
}

impl Drop for NoCapLauncher {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The lines of `out`'s stderr with the program name (the copy's path)
/// replaced by `ping`.
fn stderr_lines(out: &Output, prog: &std::path::Path) -> Vec<String> {
    text(&out.stderr)
        .replace(&prog.display().to_string(), "ping")
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn without_a_capability_ping_uses_datagram_sockets_where_the_kernel_admits_it() {
    let l = NoCapLauncher::new("open");
    for (target, header) in [
        (
            "127.0.0.1",
            "PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.",
        ),
        ("::1", "PING ::1 (::1) 56 data bytes"),
    ] {
        let out = l.run(OPEN, &["-c", "2", "-i", "0.2", "-v", target]);
        let stdout = text(&out.stdout);
        let stderr = stderr_lines(&out, &l.path());
        assert_eq!(out.status.code(), Some(0), "{stdout}{stderr:?}");
        assert!(stdout.contains(header), "{stdout}");
        // No IP header on a datagram socket: the TTL comes from IP_RECVTTL
        // (IPv4) or the hop limit (IPv6), and is still printed.
        assert_eq!(
            stdout
                .lines()
                .filter(|l| l.contains("icmp_seq=") && l.contains(" ttl=64 "))
                .count(),
            2,
            "{stdout}"
        );
        // The kernel chose the identifier: -v shows none (upstream's -1).
        assert!(!stdout.contains("ident="), "{stdout}");
        assert!(
            stdout.contains("2 packets transmitted, 2 received"),
            "{stdout}"
        );
        assert_eq!(
            stderr.first().map(String::as_str),
            Some(
                "ping: sock4.fd: 3 (socktype: SOCK_DGRAM), sock6.fd: 4 (socktype: SOCK_DGRAM), \
                 hints.ai_family: AF_UNSPEC"
            ),
            "{stderr:?}"
        );
    }
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn datagram_sockets_carry_record_route_and_a_given_identifier() {
    let l = NoCapLauncher::new("options");
    // -R: the route comes back as IP_RETOPTS ancillary data.
    let out = l.run(OPEN, &["-c", "1", "-R", "127.0.0.1"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("56(124) bytes of data."), "{stdout}");
    assert!(stdout.contains("RR: \t127.0.0.1\n"), "{stdout}");
    // -e N: the socket is bound to it; -v shows it on every reply.
    let out = l.run(OPEN, &["-c", "1", "-v", "-e", "4242", "127.0.0.1"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains(" ident=4242 ttl=64 "), "{stdout}");
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn without_a_capability_or_ping_sockets_upstreams_messages_and_exit_status() {
    let l = NoCapLauncher::new("closed");
    let out = l.run(CLOSED, &["-c", "1", "127.0.0.1"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(
        stderr_lines(&out, &l.path()),
        [
            "ping: socktype: SOCK_RAW",
            "ping: socket: Operation not permitted",
            "ping: => missing cap_net_raw+p capability or setuid?",
        ]
    );
    assert!(out.stdout.is_empty());
    // As upstream 20250605 (no capability, range closed), which parses
    // its whole command line before it creates a socket: -v shows the
    // IPv4 socket's failure too, -4/-6 try one socket only, and -V, a
    // bad value or a bad option never get to the sockets.
    let set = [
        "ping: socktype: SOCK_RAW",
        "ping: socket: Operation not permitted",
    ];
    let hint = "ping: => missing cap_net_raw+p capability or setuid?";
    for (args, want) in [
        (
            &["-v", "-c", "1", "127.0.0.1"][..],
            [&set[..], &set, &[hint]].concat(),
        ),
        (
            &["-v", "-4", "-c", "1", "127.0.0.1"],
            [&set[..], &[hint]].concat(),
        ),
        (
            &["-v", "-6", "-c", "1", "::1"],
            [&set[..], &[hint]].concat(),
        ),
        (
            &["-v", "-e", "0", "-c", "1", "127.0.0.1"],
            [
                &["ping: WARNING: ident 0 => forcing raw socket"][..],
                &set,
                &set,
                &[hint],
            ]
            .concat(),
        ),
    ] {
        let out = l.run(CLOSED, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(stderr_lines(&out, &l.path()), want, "{args:?}");
    }
    let out = l.run(CLOSED, &["-V"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("privsep-ping "),
        "{}",
        text(&out.stdout)
    );
    let out = l.run(CLOSED, &["-c", "0", "127.0.0.1"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        stderr_lines(&out, &l.path()),
        ["ping: invalid argument: '0': out of range: 1 <= value <= 9223372036854775807"]
    );
    let out = l.run(CLOSED, &["-Z", "127.0.0.1"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(
        stderr_lines(&out, &l.path()).first().map(String::as_str),
        Some("ping: invalid option -- 'Z'")
    );
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn options_that_need_raw_are_refused_on_datagram_sockets_as_upstream() {
    let l = NoCapLauncher::new("raw-only");
    let refused = [
        "ping: socktype: SOCK_RAW",
        "ping: socket: Operation not permitted",
        "ping: => missing cap_net_raw+p capability or setuid?",
    ];
    // -N (node information) and -e 0 force raw sockets in iputils.
    for args in [
        &["-c", "1", "-N", "name", "::1"][..],
        &["-c", "1", "-4", "-N", "name", "127.0.0.1"][..],
        &["-c", "1", "-e", "0", "127.0.0.1"][..],
    ] {
        let out = l.run(OPEN, args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert_eq!(stderr_lines(&out, &l.path()), refused, "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    // Out of descriptors (RLIMIT_NOFILE 3: only 0-2): the launcher's
    // datagram attempt fails with EMFILE, which it does not fall back on,
    // and hands that refusal over; iputils, asking for a raw socket only,
    // is refused that one first (EPERM, before any descriptor), so its
    // words are the same as above.
    let path = l.path();
    let limited = [
        "--nofile=3",
        path.to_str().unwrap(),
        "-c",
        "1",
        "-e",
        "0",
        "127.0.0.1",
    ];
    let out = in_netns(OPEN, std::path::Path::new("prlimit"), &limited);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(stderr_lines(&out, &path), refused, "out of descriptors");
    // -v: the IPv4 socket's failure too, which is not requisite there.
    let out = l.run(OPEN, &["-c", "1", "-v", "-e", "0", "127.0.0.1"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(
        stderr_lines(&out, &l.path()),
        [
            "ping: WARNING: ident 0 => forcing raw socket",
            "ping: socktype: SOCK_RAW",
            "ping: socket: Operation not permitted",
            "ping: socktype: SOCK_RAW",
            "ping: socket: Operation not permitted",
            "ping: => missing cap_net_raw+p capability or setuid?",
        ]
    );
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn a_link_local_destination_on_a_datagram_socket_gets_upstreams_warning() {
    let l = NoCapLauncher::new("link-local");
    let out = l.run(OPEN, &["-c", "1", "-W", "1", "fe80::1"]);
    let stderr = stderr_lines(&out, &l.path());
    assert!(
        stderr.contains(
            &"ping: Warning: IPv6 link-local address on ICMP datagram socket may require ifname \
              or scope-id => use: address%<ifname|scope-id>"
                .to_string()
        ),
        "{stderr:?}"
    );
}
