//! Tests of the installed binaries: the launcher staged with the real file
//! capability (`make stage`), run as an unprivileged user against 127.0.0.1
//! and ::1, compared line by line with iputils `ping`, plus the sandbox state
//! the kernel reports for the running worker and the bad-input paths.
//!
//! They need root (to switch to the test user) and the staged install, so a
//! plain `cargo test` skips them as ignored; `make test` runs them with
//! `--include-ignored` and sets `PRIVSEP_STAGE` and `PRIVSEP_TEST_USER`.

#![forbid(unsafe_code)]

mod support;

use std::process::{Output, Stdio};
use std::time::Duration;

use support::{as_user, in_netns, launcher, run_as_user, text, worker};
use testkit::procfs;

/// Replaces the measured numbers (times, rtt figures) by `T`, so that two
/// runs — or privsep and iputils — can be compared line by line.
fn normalize(out: &str) -> Vec<String> {
    out.lines()
        .map(|line| {
            let mut s = String::new();
            let mut rest = line;
            for key in ["time=", "time ", "= "] {
                if let Some(i) = rest.find(key) {
                    let (head, tail) = rest.split_at(i + key.len());
                    s.push_str(head);
                    let end = tail
                        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '/'))
                        .unwrap_or(tail.len());
                    s.push('T');
                    rest = &tail[end..];
                }
            }
            s.push_str(rest);
            s
        })
        .collect()
}

fn assert_ping_ok(out: &Output, header: &str, target: &str, count: usize) {
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.first().copied(), Some(header), "{stdout}");
    let replies: Vec<&&str> = lines
        .iter()
        .filter(|l| l.starts_with("64 bytes from "))
        .collect();
    assert_eq!(replies.len(), count, "{stdout}");
    for (i, line) in replies.iter().enumerate() {
        let prefix = format!("64 bytes from {target}: icmp_seq={} ttl=64 time=", i + 1);
        assert!(
            line.starts_with(&prefix) && line.ends_with(" ms"),
            "{line:?} does not start with {prefix:?}"
        );
        let ms: f64 = line[prefix.len()..line.len() - 3]
            .parse()
            .expect("time is a number");
        assert!(ms >= 0.0);
    }
    assert!(
        stdout.contains(&format!("--- {target} ping statistics ---")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "{count} packets transmitted, {count} received, 0% packet loss, time "
        )),
        "{stdout}"
    );
    assert!(
        lines.last().unwrap().starts_with("rtt min/avg/max/mdev = "),
        "{stdout}"
    );
    assert!(stderr.is_empty(), "stderr: {stderr}");
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn user_pings_127_0_0_1_through_the_launcher() {
    let out = run_as_user(&launcher(), &["-c", "3", "-i", "0.2", "127.0.0.1"]);
    assert_ping_ok(
        &out,
        "PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.",
        "127.0.0.1",
        3,
    );
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn user_pings_ipv6_loopback_through_the_launcher() {
    let out = run_as_user(&launcher(), &["-c", "3", "-i", "0.2", "::1"]);
    // Upstream iputils since 2023 puts a space before the parenthesis.
    assert_ping_ok(&out, "PING ::1 (::1) 56 data bytes", "::1", 3);
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn output_matches_iputils_line_for_line() {
    for (target, args) in [
        ("127.0.0.1", &["-c", "2", "-i", "0.2"][..]),
        ("127.0.0.1", &["-c", "2", "-i", "0.2", "-q"]),
    ] {
        let mut full: Vec<&str> = args.to_vec();
        full.push(target);
        let ours = run_as_user(&launcher(), &full);
        let theirs = run_as_user(std::path::Path::new("/usr/bin/ping"), &full);
        assert_eq!(ours.status.code(), theirs.status.code());
        assert_eq!(
            normalize(&text(&ours.stdout)),
            normalize(&text(&theirs.stdout)),
            "{full:?}"
        );
    }
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn running_worker_is_sandboxed_and_holds_only_its_sockets() {
    let child = as_user(&launcher(), &["-c", "6", "-i", "0.3", "127.0.0.1"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // setpriv execs the launcher in the same process, which execs the worker.
    let pid = child.id() as i32;
    let status = procfs::wait_locked_down(pid, Some(&worker()), "the ping worker");
    procfs::assert_locked_down(&status, "the ping worker");
    let fds: Vec<i32> = procfs::fds(pid).unwrap().into_keys().collect();
    assert_eq!(
        fds,
        [0, 1, 2, 3, 4],
        "the worker holds unexpected descriptors"
    );
    let out = testkit::deadline::wait_with_output(child, &"privsep-ping -c 6 -i 0.3 127.0.0.1");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn worker_started_by_hand_refuses_and_sends_nothing() {
    // Directly, with no handoff at all, and with a forged one pointing at
    // descriptors that are not raw ICMP sockets (3 is not open here).
    for forged in [
        &[][..],
        &[("LISTEN_FDS", "1"), ("LISTEN_FDNAMES", "icmp4")][..],
    ] {
        let mut cmd = as_user(&worker(), &["-c", "1", "127.0.0.1"]);
        for (k, v) in forged {
            cmd.env(k, v);
        }
        let out = testkit::deadline::output(&mut cmd);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains("not started by privsep-ping") || stderr.contains("is not the"),
            "{stderr}"
        );
        assert!(out.stdout.is_empty(), "it printed: {}", text(&out.stdout));
    }
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn bad_input_gets_upstreams_message_and_status() {
    // (args, status, first line of stderr): iputils' own statuses, 1 for a
    // malformed or out-of-range value, 2 for a usage error.
    for (args, status, first) in [
        (
            &["-c", "1", "no-such-host.invalid"][..],
            2,
            "no-such-host.invalid: ",
        ),
        (&["-c", "abc", "127.0.0.1"], 1, "invalid argument: 'abc'"),
        (
            &["-c", "0", "127.0.0.1"],
            1,
            "invalid argument: '0': out of range",
        ),
        (
            &["-t", "256", "127.0.0.1"],
            1,
            "invalid argument: '256': out of range",
        ),
        (
            &["-s", "70000", "127.0.0.1"],
            1,
            "invalid -s value: '70000'",
        ),
        (&["-w", "abc", "127.0.0.1"], 1, "invalid argument: 'abc'"),
        (&["-s", "-1", "127.0.0.1"], 1, "invalid argument: '-1'"),
        (&["-i", "0.001", "-c", "1", "127.0.0.1"], 2, "cannot flood"),
        (&["-f", "-c", "1", "127.0.0.1"], 2, "cannot flood"),
        (
            &["-l", "4", "-c", "1", "127.0.0.1"],
            2,
            "cannot set preload",
        ),
        (&["-M", "foo", "127.0.0.1"], 2, "invalid -M argument: foo"),
        (&["-4", "-c", "1", "::1"], 2, "::1: "),
        (&[], 2, "usage error: Destination address required"),
        (&["--no-such-flag", "127.0.0.1"], 2, "invalid option -- '-'"),
        (&["-Z", "127.0.0.1"], 2, "invalid option -- 'Z'"),
    ] {
        let out = run_as_user(&launcher(), args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(status), "{args:?}: {stderr}");
        // Messages start with argv[0] exactly as invoked.
        let first = format!("{}: {first}", launcher().display());
        assert!(stderr.starts_with(&first), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn usage_and_exit_statuses_match_iputils() {
    // Side by side: the same status and stderr (modulo the program name)
    // for bad options, -? and --help, which print upstream's usage text.
    let iputils = std::path::Path::new("/usr/bin/ping");
    for args in [
        &["-Z", "127.0.0.1"][..],
        &["-?"],
        &["--help"],
        &["-c"],
        &["-c", "0", "127.0.0.1"],
        &["-t", "256", "127.0.0.1"],
        &["-W", "-1", "127.0.0.1"],
        &["-Q", "300", "127.0.0.1"],
        &["-T", "foo", "127.0.0.1"],
        &["-R", "-T", "tsonly", "127.0.0.1"],
        &["-e", "70000", "127.0.0.1"],
        &["-I", "no-such-dev0", "-c", "1", "127.0.0.1"],
        &["-c", "1", "127.255.255.255"],
        &["-c", "1", "127.0.0.2", "127.0.0.1"],
        &["-c", "1", "-R", "127.0.0.2", "127.0.0.1"],
    ] {
        let ours = run_as_user(&launcher(), args);
        let theirs = run_as_user(iputils, args);
        let strip = |o: &Output, name: &str| text(&o.stderr).replace(name, "ping");
        assert_eq!(ours.status.code(), theirs.status.code(), "{args:?}");
        let (a, b) = (
            strip(&ours, &launcher().display().to_string()),
            strip(&theirs, "/usr/bin/ping"),
        );
        // Upstream's usage text is newer than 20221126's: compare the first
        // line, and that both print a usage block or neither.
        assert_eq!(a.lines().next(), b.lines().next(), "{args:?}");
        assert_eq!(
            a.contains("\nUsage\n"),
            b.contains("\nUsage\n"),
            "{args:?}\n{a}\n{b}"
        );
    }
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn messages_start_with_argv0_and_ping6_selects_ipv6() {
    // argv[0] exactly as invoked; a name ending in 6 means -6.
    let out = testkit::deadline::output(
        std::process::Command::new("setpriv")
            .args([
                &format!("--reuid={}", support::user()),
                &format!("--regid={}", support::user()),
                "--clear-groups",
                "--",
                "bash",
                "-c",
                "exec -a /some/where/ping6 \"$0\" -c 1 127.0.0.1",
            ])
            .arg(launcher()),
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("/some/where/ping6: 127.0.0.1: "),
        "{stderr}"
    );
    let out = testkit::deadline::output(
        std::process::Command::new("setpriv")
            .args([
                &format!("--reuid={}", support::user()),
                &format!("--regid={}", support::user()),
                "--clear-groups",
                "--",
                "bash",
                "-c",
                "exec -a ping4 \"$0\" -c 1 -i 0.2 localhost",
            ])
            .arg(launcher()),
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.starts_with("PING localhost (127.0.0.1) "),
        "{stdout}"
    );
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn a_failed_stdout_is_write_error_exit_1() {
    let out = testkit::deadline::output(
        std::process::Command::new("sh")
            .args(["-c", "exec \"$@\" > /dev/full", "sh", "setpriv"])
            .args([
                &format!("--reuid={}", support::user()),
                &format!("--regid={}", support::user()),
                "--clear-groups",
                "--",
            ])
            .arg(launcher())
            .args(["-c", "1", "127.0.0.1"]),
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr, format!("{}: write error\n", launcher().display()));
}

/// Root's exec of the launcher is not a secure one, so glibc leaves a
/// closed stdout closed; the launcher fills it the way glibc would have
/// (read-only `/dev/null`), and the output fails as iputils' does.
#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn a_closed_stdout_is_write_error_exit_1_for_root_too() {
    let out = testkit::deadline::output(
        std::process::Command::new("sh")
            .args(["-c", "exec \"$@\" >&-", "sh"])
            .arg(launcher())
            .args(["-c", "1", "-n", "127.0.0.1"]),
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr, format!("{}: write error\n", launcher().display()));
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn ping_0_is_the_local_address_and_hex_intervals_parse() {
    let out = run_as_user(&launcher(), &["-c", "1", "-i", "0x1", "0"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.starts_with("PING 0 (127.0.0.1) 56(84) bytes of data.\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("64 bytes from 127.0.0.1: icmp_seq=1 "),
        "{stdout}"
    );
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn version_is_privseps_own() {
    let out = run_as_user(&launcher(), &["-V"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(stdout.contains("privsep"), "{stdout}");
    assert!(!stdout.contains("iputils"), "{stdout}");
}

/// Runs `program args…` as the test user inside a fresh network namespace
/// whose loopback is up but ignores echo requests: nothing ever answers.
fn in_silent_netns(program: &std::path::Path, args: &[&str]) -> Output {
    in_netns(
        "ip link set lo up; sysctl -qw net.ipv4.icmp_echo_ignore_all=1; \
         sysctl -qw net.ipv6.icmp.echo_ignore_all=1",
        program,
        args,
    )
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn no_reply_exits_1_like_iputils() {
    for target in ["127.0.0.1", "::1"] {
        let args = ["-c", "2", "-i", "0.2", "-W", "1", target];
        let ours = in_silent_netns(&launcher(), &args);
        let theirs = in_silent_netns(std::path::Path::new("/usr/bin/ping"), &args);
        assert_eq!(
            theirs.status.code(),
            Some(1),
            "iputils: {}",
            text(&theirs.stderr)
        );
        assert_eq!(
            ours.status.code(),
            Some(1),
            "ours: {} {}",
            text(&ours.stdout),
            text(&ours.stderr)
        );
        let (ours, theirs) = (
            normalize(&text(&ours.stdout)),
            normalize(&text(&theirs.stdout)),
        );
        // The IPv6 header differs on purpose (upstream's space); the rest must not.
        assert_eq!(ours[1..], theirs[1..]);
    }
}

/// `program args…` as the test user in a fresh network and mount namespace:
/// a router (its own namespace, 198.18.0.2) with an unreachable route to
/// 198.19.0.0/24, and a private /etc/hosts naming the router and a host
/// behind it. Environment `env` is set for the program.
fn behind_a_router(program: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let hosts = "127.0.0.1 localhost\n198.18.0.2 router\n198.19.0.5 far\n";
    let setup = format!(
        "mount --make-rprivate /; \
         printf '{}' > /tmp/hosts-$$ ; mount --bind /tmp/hosts-$$ /etc/hosts; rm /tmp/hosts-$$; \
         ip link set lo up; \
         unshare -n sleep 60 & R=$!; \
         until [ \"$(readlink /proc/$R/ns/net)\" != \"$(readlink /proc/$$/ns/net)\" ]; do sleep 0.05; done; \
         ip link add v0 type veth peer name v1 netns $R; \
         ip addr add 198.18.0.1/24 dev v0; ip link set v0 up; \
         ip route add 198.19.0.0/24 via 198.18.0.2; \
         nsenter -t $R -n sh -c 'ip link set lo up; ip addr add 198.18.0.2/24 dev v1; ip link set v1 up; \
             sysctl -qw net.ipv4.ip_forward=1; ip route add unreachable 198.19.0.0/24'",
        hosts.replace('\n', "\\n")
    );
    let mut cmd = std::process::Command::new("unshare");
    cmd.args(["-n", "-m", "--", "sh", "-ec"])
        .arg(format!(
            "{setup}; set +e; env {} setpriv --reuid=\"$0\" --regid=\"$0\" --clear-groups -- \"$@\"; rc=$?; kill $R; exit $rc",
            env.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        ))
        .arg(support::user())
        .arg(program)
        .args(args)
        .stdin(Stdio::null());
    testkit::deadline::output(&mut cmd)
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn icmp_errors_name_their_source_like_iputils() {
    let iputils = std::path::Path::new("/usr/bin/ping");
    // The last field: whether Debian 12's 20221126 has the feature (-H and
    // IPUTILS_PING_PTR_LOOKUP are newer): then the two must agree.
    for (args, env, want, compare) in [
        (
            &["-c", "1", "far"][..],
            &[][..],
            "From router (198.18.0.2) icmp_seq=1 Destination Host Unreachable",
            true,
        ),
        (
            &["-c", "1", "198.19.0.5"],
            &[],
            "From 198.18.0.2 icmp_seq=1 Destination Host Unreachable",
            true,
        ),
        (
            &["-c", "1", "-H", "198.19.0.5"],
            &[],
            "From router (198.18.0.2) icmp_seq=1 Destination Host Unreachable",
            false,
        ),
        (
            &["-c", "1", "far"],
            &[("IPUTILS_PING_PTR_LOOKUP", "0")],
            "From 198.18.0.2 icmp_seq=1 Destination Host Unreachable",
            false,
        ),
    ] {
        let ours = behind_a_router(&launcher(), args, env);
        let o = text(&ours.stdout);
        assert!(
            o.contains(want),
            "{args:?} {env:?}: ours\n{o}{}",
            text(&ours.stderr)
        );
        if !compare {
            if !env.is_empty() {
                assert_eq!(
                    text(&ours.stderr),
                    format!(
                        "{}: WARNING: reverse DNS resolution (PTR lookup) disabled, enforce with -H\n",
                        launcher().display()
                    )
                );
            }
            continue;
        }
        let theirs = behind_a_router(iputils, args, env);
        let t = text(&theirs.stdout);
        assert!(
            t.contains(want),
            "{args:?} {env:?}: iputils\n{t}{}",
            text(&theirs.stderr)
        );
        assert_eq!(ours.status.code(), theirs.status.code(), "{args:?}");
        assert_eq!(normalize(&o), normalize(&t), "{args:?} {env:?}");
        let strip = |s: &[u8], name: &str| text(s).replace(name, "ping");
        assert_eq!(
            strip(&ours.stderr, &launcher().display().to_string()),
            strip(&theirs.stderr, "/usr/bin/ping"),
            "{args:?} {env:?}"
        );
    }
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn linger_zero_waits_until_sigalrm_ends_it_with_the_summary() {
    let mut cmd = std::process::Command::new("unshare");
    cmd.args(["-n", "--", "sh", "-ec"])
        .arg(
            "ip link set lo up; sysctl -qw net.ipv4.icmp_echo_ignore_all=1; \
             exec setpriv --reuid=\"$0\" --regid=\"$0\" --clear-groups -- \"$@\"",
        )
        .arg(support::user())
        .arg(launcher())
        .args(["-c", "1", "-W", "0", "127.0.0.1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    // Far past anything but "for ever": still waiting.
    std::thread::sleep(Duration::from_secs(3));
    assert!(child.try_wait().unwrap().is_none(), "-W 0 gave up");
    let pid = child.id().to_string();
    testkit::deadline::status(std::process::Command::new("kill").args(["-ALRM", &pid]));
    let out = testkit::deadline::wait_with_output(child, &"privsep-ping -W 0, after SIGALRM");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("1 packets transmitted, 0 received, 100% packet loss"),
        "{stdout}"
    );

    // SIGTERM keeps its default action: no summary, killed by the signal.
    let child = as_user(&launcher(), &["-i", "0.2", "127.0.0.1"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    procfs::wait_locked_down(child.id() as i32, Some(&worker()), "the ping worker");
    let pid = child.id().to_string();
    testkit::deadline::status(std::process::Command::new("kill").args(["-TERM", &pid]));
    let out = testkit::deadline::wait_with_output(child, &"privsep-ping, after SIGTERM");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        out.status.signal(),
        Some(libc_sigterm()),
        "{:?}",
        out.status
    );
    assert!(
        !text(&out.stdout).contains("statistics"),
        "{}",
        text(&out.stdout)
    );
}

fn libc_sigterm() -> i32 {
    15
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn link_local_replies_keep_their_scope_like_iputils() {
    // A veth pair to a peer namespace, link-local addresses only.
    let run = |program: &std::path::Path| {
        testkit::deadline::output(std::process::Command::new("unshare")
            .args(["-n", "--", "sh", "-ec"])
            .arg(
                "ip link set lo up; unshare -n sleep 60 & R=$!; \
                 until [ \"$(readlink /proc/$R/ns/net)\" != \"$(readlink /proc/$$/ns/net)\" ]; do sleep 0.05; done; \
                 ip link add v0 type veth peer name v1 netns $R; \
                 ip addr add fe80::1/64 dev v0 nodad; ip link set v0 up; \
                 nsenter -t $R -n sh -c 'ip link set lo up; ip addr add fe80::2/64 dev v1 nodad; ip link set v1 up'; \
                 sleep 0.5; set +e; \
                 setpriv --reuid=\"$0\" --regid=\"$0\" --clear-groups -- \"$@\"; rc=$?; kill $R; exit $rc",
            )
            .arg(support::user())
            .arg(program)
            .args(["-c", "1", "fe80::2%v0"])
            .stdin(Stdio::null()))
    };
    let ours = run(&launcher());
    let theirs = run(std::path::Path::new("/usr/bin/ping"));
    let (o, t) = (text(&ours.stdout), text(&theirs.stdout));
    assert_eq!(ours.status.code(), Some(0), "{o}{}", text(&ours.stderr));
    assert!(o.contains("64 bytes from fe80::2%v0: icmp_seq=1 "), "{o}");
    // The IPv6 header differs on purpose (upstream's space); the rest must not.
    assert_eq!(normalize(&o)[1..], normalize(&t)[1..]);
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn interface_and_path_mtu_options_like_iputils() {
    // A peer namespace behind a 1280-byte veth link.
    let run = |program: &std::path::Path, args: &[&str]| {
        testkit::deadline::output(std::process::Command::new("unshare")
            .args(["-n", "--", "sh", "-ec"])
            .arg(
                "ip link set lo up; unshare -n sleep 60 & R=$!; \
                 until [ \"$(readlink /proc/$R/ns/net)\" != \"$(readlink /proc/$$/ns/net)\" ]; do sleep 0.05; done; \
                 ip link add v0 mtu 1280 type veth peer name v1 netns $R; \
                 ip addr add 198.18.0.1/24 dev v0; ip link set v0 up; \
                 nsenter -t $R -n sh -c 'ip link set lo up; ip addr add 198.18.0.2/24 dev v1; ip link set v1 mtu 1280 up'; \
                 sleep 0.3; set +e; \
                 setpriv --reuid=\"$0\" --regid=\"$0\" --clear-groups -- \"$@\"; rc=$?; kill $R; exit $rc",
            )
            .arg(support::user())
            .arg(program)
            .args(args)
            .stdin(Stdio::null()))
    };
    for (args, want) in [
        (
            &[
                "-c",
                "2",
                "-i",
                "0.3",
                "-M",
                "do",
                "-s",
                "1400",
                "198.18.0.2",
            ][..],
            "2 packets transmitted, 0 received, +2 errors, 100% packet loss",
        ),
        (
            &["-c", "1", "-M", "dont", "-s", "1400", "198.18.0.2"],
            "1 packets transmitted, 1 received, 0% packet loss",
        ),
        (
            &["-c", "1", "-I", "v0", "198.18.0.2"],
            "1 packets transmitted, 1 received, 0% packet loss",
        ),
        (
            &["-c", "1", "-I", "198.18.0.1", "198.18.0.2"],
            "1 packets transmitted, 1 received, 0% packet loss",
        ),
        (
            &["-c", "1", "-W", "1", "-I", "lo", "198.18.0.2"],
            "1 packets transmitted, 0 received, 100% packet loss",
        ),
    ] {
        let ours = run(&launcher(), args);
        let theirs = run(std::path::Path::new("/usr/bin/ping"), args);
        let (o, t) = (text(&ours.stdout), text(&theirs.stdout));
        assert!(o.contains(want), "{args:?}: {o}{}", text(&ours.stderr));
        assert_eq!(ours.status.code(), theirs.status.code(), "{args:?}");
        assert_eq!(normalize(&o), normalize(&t), "{args:?}");
        let strip = |s: &[u8], name: &str| text(s).replace(name, "ping");
        // A send refused by the path MTU: privsep follows upstream
        // 20240905's message (the errno of the send); Debian's 20221126
        // prints the kernel's queued local error instead.
        let theirs_err = strip(&theirs.stderr, "/usr/bin/ping").replace(
            "local error: message too long, mtu=1280",
            "sendmsg: Message too long",
        );
        assert_eq!(
            strip(&ours.stderr, &launcher().display().to_string()),
            theirs_err,
            "{args:?}"
        );
    }
}

#[test]
#[ignore = "needs the staged install and the test user: run `make test`"]
fn node_information_queries_like_iputils() {
    let iputils = std::path::Path::new("/usr/bin/ping");
    for args in [
        &["-N", "help"][..],
        &["-N", "bogus", "::1"],
        &["-N", "name", "-N", "ipv6", "::1"],
        // Linux answers no node information query: the same silence.
        &["-N", "name", "-c", "1", "-W", "1", "::1"],
        &["-N", "ipv4-all", "-c", "1", "-W", "1", "::1"],
    ] {
        let ours = run_as_user(&launcher(), args);
        let theirs = run_as_user(iputils, args);
        assert_eq!(ours.status.code(), theirs.status.code(), "{args:?}");
        let (o, t) = (
            normalize(&text(&ours.stdout)),
            normalize(&text(&theirs.stdout)),
        );
        // The IPv6 header differs on purpose (upstream's space).
        let skip = usize::from(o.first().is_some_and(|l| l.starts_with("PING ")));
        assert_eq!(o.get(skip..), t.get(skip..), "{args:?}");
        let strip = |s: &[u8], name: &str| text(s).replace(name, "ping");
        let (a, b) = (
            strip(&ours.stderr, &launcher().display().to_string()),
            strip(&theirs.stderr, "/usr/bin/ping"),
        );
        assert_eq!(a.lines().next(), b.lines().next(), "{args:?}");
    }
}
