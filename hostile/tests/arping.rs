//! The hostile rows for privsep-arping: the compromised worker (through the
//! real launcher and the real broker: it forges no frame), the broker's
//! packet socket (the real locked filter), a forged handoff, theft of the
//! packet socket, the environment, and a remote host answering with
//! malformed ARP. Every run happens inside a namespace pair of the test's
//! own (`testkit::netns::NetnsPair`): 198.18.0.1 on `veth0`, 198.18.0.2 on
//! `veth1`, nothing else reachable.

#![forbid(unsafe_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use hostile::{assert_no_panic, text, User};
use testkit::netns::{NetnsPair, VETH0_MAC};
use testkit::procfs;

fn launcher(stage: &std::path::Path) -> PathBuf {
    stage.join("bin/privsep-arping")
}

fn worker(stage: &std::path::Path) -> PathBuf {
    stage.join("libexec/privsep/arping-worker")
}

fn probe() -> PathBuf {
    hostile::public_copy(env!("CARGO_BIN_EXE_hostile-arp-probe"))
}

/// Traffic from the second namespace to the first while `f` runs: IPv4
/// echo requests (unicast), UDP broadcasts, IPv6 (the link-local
/// neighbour discovery of the pair), and a few ARP requests.
fn with_traffic<T>(net: &NetnsPair, f: impl FnOnce() -> T) -> T {
    let spawn = |args: &[&str]| -> Child {
        net.b
            .command(args[0])
            .args(&args[1..])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut kids = vec![
        spawn(&["ping", "-q", "-i", "0.05", "-w", "6", "198.18.0.1"]),
        spawn(&["ping", "-q", "-b", "-i", "0.1", "-w", "6", "198.18.0.255"]),
        spawn(&["ping", "-q", "-6", "-i", "0.1", "-w", "6", "ff02::1%veth1"]),
        spawn(&["arping", "-q", "-c", "5", "-I", "veth1", "198.18.0.1"]),
    ];
    let out = f();
    for k in &mut kids {
        let _ = k.kill();
        let _ = k.wait();
    }
    out
}

/// `name=value` from the probe's `received …` line.
fn counted(report: &str, name: &str) -> u64 {
    report
        .lines()
        .find(|l| l.starts_with("received "))
        .and_then(|l| {
            l.split_whitespace()
                .find_map(|w| w.strip_prefix(&format!("{name}=")))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name} count in:\n{report}"))
}

fn report(out: &Output) -> String {
    text(&out.stdout) + &text(&out.stderr)
}

/// Installs a probe as the hostile stage's arping worker; puts the real
/// one back on drop.
struct ProbeInstalled {
    worker: PathBuf,
    backup: PathBuf,
}

impl ProbeInstalled {
    fn new(probe: &str) -> Self {
        let worker = worker(&hostile::hostile_stage());
        let backup = hostile::scratch_dir().join("real-arping-worker");
        std::fs::copy(&worker, &backup).expect("back up the worker");
        let tmp = worker.with_extension("probe");
        testkit::copy::copy_program(probe, &tmp).unwrap();
        std::os::unix::fs::chown(&tmp, Some(0), Some(0)).unwrap();
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o711)).unwrap();
        std::fs::rename(&tmp, &worker).unwrap();
        ProbeInstalled { worker, backup }
    }
}

impl Drop for ProbeInstalled {
    fn drop(&mut self) {
        let tmp = self.worker.with_extension("restore");
        testkit::copy::copy_program(&self.backup, &tmp).unwrap();
        std::os::unix::fs::chown(&tmp, Some(0), Some(0)).unwrap();
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o711)).unwrap();
        std::fs::rename(&tmp, &self.worker).unwrap();
    }
}

#[test]
#[ignore = "needs root, the staged installs and the test user: make test-hostile"]
fn the_brokers_packet_socket_sees_nothing_but_arp() {
    let net = NetnsPair::new("arc");

    // Control: the same socket without the filter, rebound to ETH_P_ALL,
    // does see the IPv4 (and IPv6) the other namespace sends.
    let out = with_traffic(&net, || {
        testkit::deadline::output(net.a.command(probe()).args([
            "listen",
            "veth0",
            "4",
            "--open",
            "--no-filter",
        ]))
    });
    let r = report(&out);
    assert_eq!(out.status.code(), Some(0), "{r}");
    assert!(counted(&r, "ipv4") > 0, "control saw no IPv4:\n{r}");

    // Opened and filtered with the launcher's own code, as root.
    let out = with_traffic(&net, || {
        testkit::deadline::output(
            net.a
                .command(probe())
                .args(["listen", "veth0", "4", "--open"]),
        )
    });
    let r = report(&out);
    assert_eq!(out.status.code(), Some(0), "{r}");
    // Rebinding to every protocol works (the broker binds the socket
    // itself); it is the locked filter that holds: the broker's socket
    // sees nothing but ARP, whatever it is bound to.
    assert!(r.contains("rebind SUCCEEDED"), "{r}");
    assert!(
        r.contains(&format!("detach refused {}", libc::EPERM)),
        "{r}"
    );
    assert!(
        r.contains(&format!("replace refused {}", libc::EPERM)),
        "{r}"
    );
    assert!(r.contains("locked"), "{r}");
    assert_eq!(counted(&r, "ipv4"), 0, "IPv4 reached the socket:\n{r}");
    assert_eq!(counted(&r, "ipv6"), 0, "IPv6 reached the socket:\n{r}");
    assert_eq!(counted(&r, "other"), 0, "{r}");
    assert!(counted(&r, "arp") > 0, "not even ARP arrived:\n{r}");
}

/// `name=value` from a `captured …` line.
fn captured(report: &str, name: &str) -> u64 {
    report
        .lines()
        .find(|l| l.starts_with("captured "))
        .and_then(|l| {
            l.split_whitespace()
                .find_map(|w| w.strip_prefix(&format!("{name}=")))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name} count in:\n{report}"))
}

/// The peer's view while `f` runs: captures on `veth1` (the pair) and
/// `veth3` (a second link between the namespaces, arping's "other
/// interface"), and the peer's ARP cache entry for 198.18.0.1 afterwards.
fn seen_by_the_peer(
    net: &NetnsPair,
    f: impl FnOnce() -> String,
) -> (String, String, String, String) {
    use std::io::{BufRead, BufReader};
    let forge = hostile::public_copy(env!("CARGO_BIN_EXE_hostile-arp-forge"));
    let start = |iface: &str| {
        let mut c = net
            .b
            .command(&forge)
            .args(["capture", iface, "6"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(c.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line, "ready\n");
        c
    };
    // The peer's true cache entry for 198.18.0.1, older than the kernel's
    // locktime (1 s), so that a reply would replace it.
    let neigh = testkit::deadline::output(net.b.command("ip").args([
        "neigh",
        "replace",
        "198.18.0.1",
        "lladdr",
        VETH0_MAC,
        "dev",
        "veth1",
        "nud",
        "stale",
    ]));
    assert!(neigh.status.success(), "{}", report(&neigh));
    std::thread::sleep(Duration::from_millis(1500));
    let (one, three) = (start("veth1"), start("veth3"));
    let attacker = f();
    let one = report(&testkit::deadline::wait_with_output(
        one,
        &"capture on veth1",
    ));
    let three = report(&testkit::deadline::wait_with_output(
        three,
        &"capture on veth3",
    ));
    let neigh = testkit::deadline::output(net.b.command("ip").args([
        "neigh",
        "show",
        "198.18.0.1",
        "dev",
        "veth1",
    ]));
    (attacker, one, three, text(&neigh.stdout))
}

/// A second link between the namespaces of `net`, `veth2` (a) to `veth3`
/// (b), no address: arping's "other interface"; and the peer's hardware
/// address on the first.
fn second_link_and_peer_mac(net: &NetnsPair) -> String {
    for args in [
        vec![
            "link",
            "add",
            "veth2",
            "netns",
            net.a.name(),
            "type",
            "veth",
            "peer",
            "name",
            "veth3",
            "netns",
            net.b.name(),
        ],
        vec!["-n", net.a.name(), "link", "set", "veth2", "up"],
        vec!["-n", net.b.name(), "link", "set", "veth3", "up"],
    ] {
        let out = testkit::deadline::output(Command::new("ip").args(&args));
        assert!(out.status.success(), "ip {args:?}: {}", report(&out));
    }
    let out = testkit::deadline::output(net.b.command("cat").arg("/sys/class/net/veth1/address"));
    text(&out.stdout).trim().to_string()
}

#[test]
#[ignore = "needs root, the staged installs and the test user: make test-hostile"]
fn a_compromised_arping_worker_forges_no_frame() {
    let user = User::from_env();
    let forge = hostile::public_copy(env!("CARGO_BIN_EXE_hostile-arp-forge"));

    // Control, the world before the broker: the same code holding the
    // launcher's packet socket (filter locked, arping's seccomp profile)
    // gets every forgery out, and the peer sees each.
    let net = NetnsPair::new("arx");
    let peer_mac = second_link_and_peer_mac(&net);
    let (r, one, three, neigh) = seen_by_the_peer(&net, || {
        let out = testkit::deadline::output(
            net.a
                .command(&forge)
                .args(["attack", "veth0", "veth2", &peer_mac, "--open"]),
        );
        assert_eq!(out.status.code(), Some(0), "{}", report(&out));
        report(&out)
    });
    let case = format!("{r}--- veth1\n{one}--- veth3\n{three}--- neigh\n{neigh}");
    for what in ["cache", "source", "reply", "ipv4", "ipv6"] {
        assert!(
            captured(&one, what) > 0,
            "control: no {what} frame seen:\n{case}"
        );
    }
    assert!(
        captured(&three, "honest") > 0,
        "control: nothing out of veth2:\n{case}"
    );
    assert!(
        neigh.contains("02:00:00:00:00:66"),
        "control: cache not poisoned:\n{case}"
    );

    // The real path: the staged launcher starts the forger as arping's
    // worker, with its channel to the real broker.
    let net = NetnsPair::new("ary");
    let peer_mac = second_link_and_peer_mac(&net);
    let _installed = ProbeInstalled::new(env!("CARGO_BIN_EXE_hostile-arp-forge"));
    let (r, one, three, neigh) = seen_by_the_peer(&net, || {
        let out = with_traffic(&net, || {
            testkit::deadline::output(
                user.command_in(&net.a, launcher(&hostile::hostile_stage()))
                    .args(["attack", "veth0", "veth2", &peer_mac]),
            )
        });
        assert_no_panic("forger", &text(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "{}", report(&out));
        report(&out)
    });
    let case = format!("{r}--- veth1\n{one}--- veth3\n{three}--- neigh\n{neigh}");
    let (eperm, einval, eisconn) = (libc::EPERM, libc::EINVAL, libc::EISCONN);
    assert!(r.contains("locked\n"), "{case}");
    for line in [
        format!("spoof-cache refused {eperm}"),
        format!("spoof-source refused {eperm}"),
        format!("reply refused {eperm}"),
        format!("ipv4 refused {eperm}"),
        format!("ipv6 refused {eperm}"),
        format!("other-iface refused {einval}"),
        format!("rebind refused {eisconn}"),
        format!("malformed-short refused {einval}"),
        format!("malformed-long refused {einval}"),
        format!("malformed-magic refused {einval}"),
        format!("malformed-kind refused {einval}"),
        format!("malformed-reserved refused {einval}"),
        "honest sent 28".to_string(),
    ] {
        assert!(r.contains(&format!("{line}\n")), "{line}:\n{case}");
    }
    for what in ["cache", "source", "reply", "ipv4", "ipv6"] {
        assert_eq!(captured(&one, what), 0, "a {what} frame got out:\n{case}");
    }
    assert_eq!(
        captured(&three, "honest"),
        0,
        "a frame left by veth2:\n{case}"
    );
    assert!(
        !neigh.contains("02:00:00:00:00:66"),
        "cache poisoned:\n{case}"
    );
    // The honest probe did go out, and what came back was ARP only.
    assert!(captured(&one, "honest") > 0, "{case}");
    assert_eq!(counted(&r, "other"), 0, "{case}");
    assert!(
        counted(&r, "arp") > 0,
        "the broker passed no ARP back:\n{case}"
    );
}

#[test]
#[ignore = "needs root, the staged installs and the test user: make test-hostile"]
fn a_hand_started_arping_worker_refuses_a_forged_handoff() {
    let user = User::from_env();
    let net = NetnsPair::new("arf");
    let stage = hostile::stage();
    let forge = hostile::public_copy(env!("CARGO_BIN_EXE_hostile-forge"));
    let listener = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let target = listener.local_addr().unwrap().to_string();
    let file = hostile::scratch_dir().join("arping-forged-target");
    std::fs::write(&file, "").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
    let worker = worker(&stage);
    let run = |kind: &str, tgt: &str, userns: bool, fdname: &str| -> Output {
        let mut cmd = if userns {
            // A user namespace of the user's own, where it holds
            // CAP_NET_RAW and can open a packet socket: but not the
            // launcher's, filter locked.
            let mut c = user.command_in(&net.a, "unshare");
            c.args(["--user", "--map-root-user", "--net", "--"])
                .arg(&forge);
            c
        } else {
            user.command_in(&net.a, &forge)
        };
        testkit::deadline::output(
            cmd.env("FORGE_FDNAME", fdname)
                .args([kind, tgt, "--"])
                .arg(&worker)
                .args(["-c", "1", "-I", "veth0", "198.18.0.2"]),
        )
    };
    // The worker's handoff names its channel to the broker (`broker`); a
    // packet socket is refused under either name.
    for (kind, tgt, userns, fdname) in [
        ("udp", target.as_str(), false, "broker"),
        ("wrong-pid", target.as_str(), false, "broker"),
        ("unix", "", false, "broker"),
        ("file", file.to_str().unwrap(), false, "broker"),
        ("pipe", "", false, "broker"),
        ("none", "", false, "broker"),
        ("packet", "", true, "broker"),
        ("packet", "", true, "arp"),
    ] {
        let out = run(kind, tgt, userns, fdname);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert_no_panic("worker", &stderr);
        assert_eq!(out.status.code(), Some(2), "{kind}: {stdout}{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{kind}: {stderr:?}");
        assert!(stdout.is_empty(), "{kind}: printed {stdout:?}");
        if kind == "packet" && fdname == "arp" {
            assert!(stderr.contains("unknown socket name \"arp\""), "{stderr}");
        } else if kind == "packet" {
            assert!(
                stderr.contains("is not the broker socket: domain 17"),
                "{stderr}"
            );
        }
    }
    listener.set_nonblocking(true).unwrap();
    assert!(listener.recv(&mut [0u8; 64]).is_err(), "a datagram arrived");
    assert_eq!(std::fs::read(&file).unwrap(), b"");
}

/// Starts a long arping as the user in `net.a` and waits for its worker.
fn spawn_arping(user: &User, net: &NetnsPair, env: &[(&str, &str)]) -> Child {
    let stage = hostile::stage();
    let mut cmd = user.command_in(&net.a, launcher(&stage));
    cmd.args(["-c", "30", "-I", "veth0", "198.18.0.2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let want = worker(&stage);
    while procfs::exe(child.id() as i32).ok().as_ref() != Some(&want) {
        assert!(Instant::now() < deadline, "the arping worker never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Past lock-down: the first probe goes out right after it.
    std::thread::sleep(Duration::from_millis(300));
    child
}

fn interrupt(child: Child) -> Output {
    let _ = testkit::deadline::status(Command::new("kill").args(["-INT", &child.id().to_string()]));
    testkit::deadline::wait_with_output(child, &"privsep-arping, after SIGINT")
}

#[test]
#[ignore = "needs root, the staged installs and the test user: make test-hostile"]
fn the_packet_socket_cannot_be_stolen_from_a_running_worker() {
    let user = User::from_env();
    let net = NetnsPair::new("art");
    let thief = hostile::public_copy(env!("CARGO_BIN_EXE_hostile-thief"));
    let child = spawn_arping(&user, &net, &[]);
    let pid = child.id() as i32;
    // The packet socket is the broker's, the worker's child: both are
    // attacked.
    let broker = *procfs::children(pid)
        .unwrap()
        .first()
        .expect("the broker runs");
    let mut reports = Vec::new();
    for target in [pid, broker] {
        let status = procfs::status(target).unwrap();
        let out = testkit::deadline::output(user.command(&thief).arg(target.to_string()));
        let r = report(&out);
        assert!(
            procfs::exe(target).is_ok(),
            "{target} died under attack:\n{r}"
        );
        assert!(!procfs::holds_capabilities(&status), "{status:?}");
        reports.push((out, r));
    }
    let done = interrupt(child);
    for (out, r) in reports {
        assert_eq!(out.status.code(), Some(0), "an attack succeeded:\n{r}");
        for attempt in [
            "ptrace-attach",
            "pidfd-getfd",
            "proc-fd-open",
            "process-vm-readv",
        ] {
            assert!(r.contains(&format!("{attempt} refused")), "{attempt}:\n{r}");
        }
    }
    // SIGINT ends it with iputils' summary.
    assert!(
        text(&done.stdout).contains("Sent "),
        "{}",
        text(&done.stdout)
    );
}

#[test]
#[ignore = "needs root, the staged installs and the test user: make test-hostile"]
fn environment_injection_never_reaches_the_arping_worker() {
    let user = User::from_env();
    let net = NetnsPair::new("are");
    let hostile_env: &[(&str, &str)] = &[
        ("LD_PRELOAD", "/tmp/evil.so"),
        ("LD_LIBRARY_PATH", "/tmp"),
        ("GCONV_PATH", "/tmp"),
        ("MALLOC_PERTURB_", "165"),
        ("LOCPATH", "/tmp"),
        ("LC_ALL", "../../../tmp/evil"),
        ("HOSTALIASES", "/etc/shadow"),
        ("RES_OPTIONS", "debug"),
        ("LISTEN_FDS", "9"),
        ("LISTEN_FDNAMES", "arp:arp"),
        // (PATH is local_user.rs's: here it would reach `ip netns exec`,
        // which looks setpriv up with it.)
        ("RUST_BACKTRACE", "full"),
    ];
    let child = spawn_arping(&user, &net, hostile_env);
    let environ = procfs::environ(child.id() as i32).expect("read the worker's environment");
    let out = interrupt(child);
    for (name, value) in hostile_env {
        let entry = format!("{name}={value}");
        assert!(!environ.contains(&entry), "{entry} reached the worker");
    }
    // The handoff is the launcher's own, whatever the user set.
    assert!(environ.contains(&"LISTEN_FDS=1".to_string()), "{environ:?}");
    assert!(
        environ.contains(&"LISTEN_FDNAMES=broker".to_string()),
        "{environ:?}"
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("ARPING 198.18.0.2 from 198.18.0.1 veth0\n"),
        "{stdout}"
    );
}

/// Times become `Tms`.
fn normalize(out: &str) -> Vec<String> {
    out.lines()
        .map(|l| {
            l.split(' ')
                .map(|w| match w.strip_suffix("ms") {
                    Some(n)
                        if !n.is_empty() && n.chars().all(|c| c.is_ascii_digit() || c == '.') =>
                    {
                        "Tms"
                    }
                    _ => w,
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

#[test]
#[ignore = "needs root, the staged installs and the test user: make test-hostile"]
fn a_remote_host_answering_with_malformed_arp_is_ignored_like_iputils() {
    let user = User::from_env();
    let net = NetnsPair::new("arm");
    let stage = hostile::stage();
    let mut sender = net
        .b
        .command(probe())
        .args(["send", "veth1", "20", VETH0_MAC])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    // 198.18.0.9 does not exist: the only well-formed answer for it is the
    // sender's forged one, after every malformed frame of its burst.
    let args = ["-f", "-I", "veth0", "198.18.0.9"];
    let ours = testkit::deadline::output(user.command_in(&net.a, launcher(&stage)).args(args));
    let theirs = testkit::deadline::output(user.command_in(&net.a, "/usr/bin/arping").args(args));
    // A longer run under the flood: nothing but the grammar, no panic.
    let long = testkit::deadline::output(user.command_in(&net.a, launcher(&stage)).args([
        "-c",
        "3",
        "-I",
        "veth0",
        "198.18.0.9",
    ]));
    let _ = sender.kill();
    let _ = sender.wait();

    for (who, out) in [("ours", &ours), ("iputils", &theirs), ("long", &long)] {
        assert_no_panic(who, &text(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "{who}: {}", report(out));
    }
    assert!(ours.stderr.is_empty(), "{}", text(&ours.stderr));
    let expected = [
        "ARPING 198.18.0.9 from 198.18.0.1 veth0",
        "Broadcast reply from 198.18.0.9 [02:00:00:00:00:99]  Tms",
        "Sent 1 probes (1 broadcast(s))",
        "Received 1 response(s) (1 broadcast(s))",
    ];
    assert_eq!(normalize(&text(&ours.stdout)), expected);
    assert_eq!(
        normalize(&text(&ours.stdout)),
        normalize(&text(&theirs.stdout))
    );
    let lines = normalize(&text(&long.stdout));
    assert_eq!(lines.first().map(String::as_str), Some(expected[0]));
    for l in &lines[1..] {
        assert!(
            l == expected[1]
                || l == "Unicast reply from 198.18.0.9 [02:00:00:00:00:99]  Tms"
                || l.starts_with("Sent 3 probes (")
                || l.starts_with("Received "),
            "unexpected line {l:?} in:\n{}",
            lines.join("\n")
        );
    }
}
