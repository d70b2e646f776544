//! Hostile peers against privsep-mtr-packet (threat model, attacker B):
//! in the routed chain of `scripts/netns-chain.sh`, a forger in the first
//! router's namespace sends ICMP to the client while the staged
//! privsep-mtr-packet (as the test user in the client namespace) waits for
//! a probe's answer:
//!
//! - a time-exceeded message quoting the outstanding probe's identifier
//!   and sequence number but another destination completes nothing (it
//!   does complete the probe of Debian's mtr-packet 0.95, which matches on
//!   identifier and sequence alone); the same message quoting the right
//!   destination does (so the forgery reaches the worker);
//! - a flood of forged ICMP (echo replies and time-exceeded messages for
//!   identifiers and sequences not ours) while probes run: every probe
//!   still gets its real answer, nothing else is reported, the worker ends
//!   normally.

#![forbid(unsafe_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use hostile::{stage, text};
use testkit::netns::Chain;
use testkit::procfs;

/// The probe engine `program` as the test user in `chain`'s client.
fn engine(chain: &Chain, program: &Path) -> Child {
    chain
        .as_user(&[], program, &[])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// python3 as root in the first router's namespace.
fn forger(chain: &Chain, script: &str, args: &[String]) -> Command {
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", &chain.ns("r1"), "python3", "-c", script])
        .args(args);
    cmd
}

/// Sends one ICMPv4 time-exceeded from 198.18.0.2 to 198.18.0.1 quoting an
/// echo request from 198.18.0.1 to argv[3] with identifier argv[1] and
/// sequence argv[2].
const FORGE_QUOTE: &str = r#"
import socket, struct, sys
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s >> 16) + (s & 0xffff)
    return (~s) & 0xffff
ident, seq, dst = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
echo = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
inner = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 0, 0, 1, 1, 0,
                    socket.inet_aton("198.18.0.1"), socket.inet_aton(dst)) + echo
msg = struct.pack("!BBHI", 11, 0, 0, 0) + inner
msg = msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.sendto(msg, ("198.18.0.1", 0))
"#;

/// Floods 198.18.0.1 with argv[1] forged ICMP messages: echo replies and
/// time-exceeded quotes of echo requests, identifiers and sequences of
/// every value but the engine's; prints "flooding" after the first.
const FLOOD: &str = r#"
import socket, struct, sys
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s >> 16) + (s & 0xffff)
    return (~s) & 0xffff
count, ours = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
for i in range(count):
    ident = (ours + 1 + i) % 65536
    if ident == ours: ident = (ident + 1) % 65536
    seq = 33000 + i % 32000
    if i % 2:
        msg = struct.pack("!BBHHH", 0, 0, 0, ident, seq) + b"x" * 36
    else:
        echo = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
        inner = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 0, 0, 1, 1, 0,
                            socket.inet_aton("198.18.0.1"), socket.inet_aton("198.18.2.2")) + echo
        msg = struct.pack("!BBHI", 11, 0, 0, 0) + inner
    msg = msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]
    s.sendto(msg, ("198.18.0.1", 0))
    if i == 0:
        print("flooding", flush=True)
"#;

/// The engine's pid below `root` (the worker for privsep: its ICMP
/// identifier is its pid, as upstream's): the first process named `comm`.
fn engine_pid(root: u32, comm: &str) -> i32 {
    procfs::find_below(root as i32, comm).unwrap_or_else(|| panic!("no {comm} below {root}"))
}

/// Sends a probe to `probe_dst` that nothing answers (timeout 3), forges a
/// time-exceeded quoting it but addressed to `quoted_dst` once the probe
/// is out, and returns what the engine replied.
fn forged_quote(
    chain: &Chain,
    program: &Path,
    comm: &str,
    probe_dst: &str,
    quoted_dst: &str,
) -> Output {
    let mut child = engine(chain, program);
    let mut stdin = child.stdin.take().unwrap();
    // One write: both requests arrive in one read, so the answer to the
    // first means the probe of the second has been sent.
    stdin
        .write_all(
            format!("1 check-support feature version\n2 send-probe ip-4 {probe_dst} timeout 3\n")
                .as_bytes(),
        )
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert_eq!(first, "1 feature-support support 0.95\n");
    let pid = engine_pid(child.id(), comm);
    let forged = forger(
        chain,
        FORGE_QUOTE,
        &[
            (pid & 0xffff).to_string(),
            "33000".into(),
            quoted_dst.into(),
        ],
    )
    .output()
    .unwrap();
    assert!(forged.status.success(), "{}", text(&forged.stderr));
    drop(stdin);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    Output {
        status,
        stdout: rest.into_bytes(),
        stderr: stderr.into_bytes(),
    }
}

fn ours() -> PathBuf {
    stage().join("bin/privsep-mtr-packet")
}

fn rtt_blanked(o: &Output) -> String {
    text(&o.stdout)
        .lines()
        .map(|l| match l.rsplit_once(" round-trip-time ") {
            Some((head, _)) => format!("{head} round-trip-time T\n"),
            None => format!("{l}\n"),
        })
        .collect()
}

#[test]
#[ignore = "needs root, the staged installs and the test user: make test-hostile"]
fn a_forged_time_exceeded_quoting_another_destination_completes_nothing() {
    let chain = Chain::new("hq");
    // Quoting another destination: privsep ignores it.
    let o = forged_quote(
        &chain,
        &ours(),
        "mtr-packet-work",
        "198.18.8.1",
        "198.18.9.9",
    );
    assert_eq!(rtt_blanked(&o), "2 no-reply\n", "{}", text(&o.stderr));
    assert!(o.status.success());
    // The same forgery quoting the probe's destination reaches it: the
    // check above is what refused it.
    let o = forged_quote(
        &chain,
        &ours(),
        "mtr-packet-work",
        "198.18.8.1",
        "198.18.8.1",
    );
    assert_eq!(
        rtt_blanked(&o),
        "2 ttl-expired ip-4 198.18.0.2 round-trip-time T\n"
    );
    // Debian's mtr-packet 0.95 takes the forgery quoting another
    // destination as its probe's answer.
    let d = forged_quote(
        &chain,
        Path::new("/usr/bin/mtr-packet"),
        "mtr-packet",
        "198.18.8.1",
        "198.18.9.9",
    );
    assert_eq!(
        rtt_blanked(&d),
        "2 ttl-expired ip-4 198.18.0.2 round-trip-time T\n"
    );
}

#[test]
#[ignore = "needs root, the staged installs and the test user: make test-hostile"]
fn a_flood_of_forged_icmp_does_not_keep_probes_from_their_answers() {
    let chain = Chain::new("hf");
    let mut child = engine(&chain, &ours());
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(b"0 check-support feature version\n")
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let pid = engine_pid(child.id(), "mtr-packet-work");
    let mut flood = forger(
        &chain,
        FLOOD,
        &["400000".into(), (pid & 0xffff).to_string()],
    )
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    let mut started = String::new();
    BufReader::new(flood.stdout.take().unwrap())
        .read_line(&mut started)
        .unwrap();
    assert_eq!(started, "flooding\n");
    let requests: String = (1..=20)
        .map(|t| format!("{t} send-probe ip-4 198.18.2.2 ttl {}\n", 1 + t % 3))
        .collect();
    stdin.write_all(requests.as_bytes()).unwrap();
    drop(stdin);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    let status = child.wait().unwrap();
    let _ = flood.kill();
    let _ = flood.wait();
    assert!(status.success(), "{rest}");
    let mut got: Vec<String> = rest
        .lines()
        .map(|l| {
            l.rsplit_once(" round-trip-time ")
                .map_or(l, |(h, _)| h)
                .to_string()
        })
        .collect();
    got.sort();
    let mut want: Vec<String> = (1..=20)
        .map(|t| match 1 + t % 3 {
            1 => format!("{t} ttl-expired ip-4 198.18.0.2"),
            2 => format!("{t} ttl-expired ip-4 198.18.1.2"),
            _ => format!("{t} reply ip-4 198.18.2.2"),
        })
        .collect();
    want.sort();
    assert_eq!(got, want);
}
