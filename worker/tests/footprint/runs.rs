//! The representative runs of each tool whose system calls make up its
//! footprint: every path its locked-down processes take in a correct run
//! (replies, errors, names, signals, output modes). A tool of
//! `policy::tools::ALL` without runs here fails `every_tool_has_a_footprint`.

use policy::sandbox::profile::Profile;
use policy::tools::Tool;

/// One traced run: `setup` as root in fresh network and mount namespaces,
/// then the launcher with `args` as the test user under strace, `stdin`
/// written to it; `signals` are sent to the worker (by name, after the
/// delay in milliseconds) before it ends on its own.
pub struct Run {
    pub setup: String,
    pub args: Vec<&'static str>,
    pub stdin: &'static str,
    pub signals: &'static [(u64, &'static str)],
}

/// What to trace for one tool.
pub struct Plan {
    pub runs: Vec<Run>,
    /// The profile of the locked-down process next to the worker, if any:
    /// the descriptor's broker program (arping's, mtr-packet's), or a
    /// helper a worker would fork before its lock-down, whose profile is
    /// not a descriptor's.
    pub broker: Option<&'static Profile>,
}

fn run(setup: &str, args: &[&'static str]) -> Run {
    Run {
        setup: setup.to_string(),
        args: args.to_vec(),
        stdin: "",
        signals: &[],
    }
}

/// A private hosts file, bind-mounted over /etc/hosts in the run's mount
/// namespace.
fn hosts(lines: &str) -> String {
    format!(
        "printf '{lines}' > /tmp/fp-hosts-$$; mount --bind /tmp/fp-hosts-$$ /etc/hosts; rm /tmp/fp-hosts-$$"
    )
}

/// A peer namespace on a veth pair: v0 198.18.0.1/24 here, v1
/// 198.18.0.2/24 there, which forwards to 198.19.0.0/24 and answers it
/// with ICMP unreachable (a router one hop away). The peer namespace lives
/// as long as its `sleep`, which holds none of the run's pipes (the run
/// would wait for it to end).
const ROUTER: &str = "unshare -n sleep 30 </dev/null >/dev/null 2>&1 & R=$!; sleep 0.2; \
     ip link add v0 type veth peer name v1 netns $R; \
     ip addr add 198.18.0.1/24 dev v0; ip link set v0 up; \
     ip route add 198.19.0.0/24 via 198.18.0.2; \
     nsenter -t $R -n sh -c 'ip link set lo up; ip addr add 198.18.0.2/24 dev v1; ip link set v1 up; \
         sysctl -qw net.ipv4.ip_forward=1; ip route add unreachable 198.19.0.0/24'";

/// The runs of `tool`, or `None` for a tool without them.
pub fn plan(tool: &Tool) -> Option<Plan> {
    let descriptor_broker = tool.broker.map(|b| b.sandbox);
    Some(match tool.name {
        "ping" => Plan {
            runs: ping(),
            broker: descriptor_broker,
        },
        "arping" => Plan {
            runs: arping(),
            broker: descriptor_broker,
        },
        "clockdiff" => Plan {
            runs: clockdiff(),
            broker: descriptor_broker,
        },
        "mtr-packet" => Plan {
            runs: mtr_packet(),
            broker: descriptor_broker,
        },
        "fping" => Plan {
            runs: fping(),
            broker: descriptor_broker,
        },
        _ => return None,
    })
}

/// Replies on both families, JSON, quiet, flood, record route, names
/// through the resolver co-process (ICMP errors from a router named in a
/// private hosts file), no reply, the status line and SIGINT; then the same
/// kinds of runs on ICMP datagram sockets (`ping_group_range` open in the
/// run's namespace: the launcher opens datagram sockets first even where
/// it holds its capability).
fn ping() -> Vec<Run> {
    let router = format!(
        "{}; {ROUTER}",
        hosts("127.0.0.1 localhost\\n198.18.0.2 router\\n198.19.0.5 far\\n")
    );
    let silent = "sysctl -qw net.ipv4.icmp_echo_ignore_all=1";
    let open = "sysctl -qw net.ipv4.ping_group_range='0 2147483647'";
    let open_router = format!("{open}; {router}");
    vec![
        run("true", &["-c", "3", "-i", "0.2", "127.0.0.1"]),
        run("true", &["-c", "2", "-i", "0.2", "::1"]),
        run(
            "true",
            &[
                "-j",
                "-D",
                "-v",
                "-v",
                "-O",
                "-c",
                "2",
                "-i",
                "0.2",
                "127.0.0.1",
            ],
        ),
        run("true", &["-q", "-c", "2", "-i", "0.2", "-R", "localhost"]),
        run("true", &["-f", "-i", "0.002", "-c", "50", "127.0.0.1"]),
        run(&router, &["-c", "2", "-i", "0.2", "far"]),
        run(silent, &["-c", "1", "-W", "0.5", "127.0.0.1"]),
        Run {
            signals: &[(1500, "QUIT"), (500, "INT")],
            ..run("true", &["-i", "0.2", "127.0.0.1"])
        },
        run(open, &["-c", "3", "-i", "0.2", "127.0.0.1"]),
        run(open, &["-c", "2", "-i", "0.2", "::1"]),
        run(open, &["-q", "-c", "2", "-i", "0.2", "-R", "localhost"]),
        run(open, &["-f", "-i", "0.002", "-c", "50", "127.0.0.1"]),
        run(&open_router, &["-c", "2", "-i", "0.2", "far"]),
    ]
}

/// Replies, duplicate address detection, no reply, a name, broadcast
/// only, quit on the first reply, a source address, SIGINT: the worker and
/// its broker on a veth pair. Each at arping's default interval of a
/// second: its `-i` takes whole seconds (iputils' `strtol_or_err`).
fn arping() -> Vec<Run> {
    let pair = format!(
        "{}; {ROUTER}",
        hosts("127.0.0.1 localhost\\n198.18.0.2 peer\\n")
    );
    vec![
        run(&pair, &["-c", "2", "-I", "v0", "198.18.0.2"]),
        run(&pair, &["-D", "-c", "1", "-I", "v0", "198.18.0.2"]),
        run(&pair, &["-c", "1", "-w", "1", "-I", "v0", "198.18.0.9"]),
        run(&pair, &["-q", "-c", "1", "-I", "v0", "peer"]),
        run(&pair, &["-b", "-c", "2", "-I", "v0", "198.18.0.2"]),
        run(&pair, &["-f", "-I", "v0", "198.18.0.2"]),
        run(
            &pair,
            &["-s", "198.18.0.1", "-c", "1", "-I", "v0", "198.18.0.2"],
        ),
        Run {
            signals: &[(1500, "INT")],
            ..run(&pair, &["-I", "v0", "198.18.0.2"])
        },
    ]
}

/// ICMP timestamps, the IP timestamp option with four and three
/// addresses, a name and the ISO time format, a host that never answers.
fn clockdiff() -> Vec<Run> {
    vec![
        run("true", &["127.0.0.1"]),
        run("true", &["-o", "127.0.0.1"]),
        run("true", &["-o1", "127.0.0.1"]),
        run("true", &["--time-format", "iso", "localhost"]),
        // No reply: over loopback every wait finds its datagram queued
        // (no `ppoll` at all in most runs); an address nobody on the link
        // has makes the measurement wait, until SIGINT ends it.
        Run {
            signals: &[(1500, "INT")],
            ..run(ROUTER, &["198.18.0.9"])
        },
    ]
}

/// ICMP and UDP probes on both families, TCP probes through the broker
/// (refused: a reply), the support queries, a router's
/// time-exceeded and unreachable answers, a probe that times out, and
/// malformed requests.
fn mtr_packet() -> Vec<Run> {
    let stdin = |stdin: &'static str, setup: &str| Run {
        stdin,
        ..run(setup, &[])
    };
    vec![
        stdin(
            "1 send-probe ip-4 127.0.0.1\n2 send-probe ip-6 ::1\n\
             3 send-probe ip-4 127.0.0.1 protocol udp port 33434\n\
             4 send-probe ip-6 ::1 protocol udp port 33434\n\
             5 check-support feature udp\n6 check-support feature tcp\n7 check-support feature ip-6\n",
            "true",
        ),
        stdin(
            "1 send-probe ip-4 127.0.0.1 protocol tcp port 9\n\
             2 send-probe ip-6 ::1 protocol tcp port 9\n",
            "true",
        ),
        stdin(
            "1 send-probe ip-4 198.19.0.5 ttl 1\n2 send-probe ip-4 198.19.0.5 ttl 2\n\
             3 send-probe ip-4 198.19.0.5 protocol udp ttl 1\n\
             4 send-probe ip-4 198.18.0.9 timeout 1\n",
            ROUTER,
        ),
        stdin("garbage\n1 send-probe\n2 send-probe ip-4 nonsense\n", "true"),
    ]
}

/// The default mode on both families, count and verbose count modes,
/// statistics and names, reverse names through the resolver, a generated
/// range, no reply, a router's unreachable answers, loop mode ended by
/// SIGQUIT (the interim summary) and SIGINT; then runs on ICMP datagram
/// sockets (`ping_group_range` open), as for ping.
fn fping() -> Vec<Run> {
    let router = format!(
        "{}; {ROUTER}",
        hosts("127.0.0.1 localhost\\n198.18.0.2 router\\n198.19.0.5 far\\n")
    );
    let silent = "sysctl -qw net.ipv4.icmp_echo_ignore_all=1";
    let open = "sysctl -qw net.ipv4.ping_group_range='0 2147483647'";
    vec![
        run("true", &["127.0.0.1", "::1"]),
        run("true", &["-c", "3", "-p", "200", "-q", "127.0.0.1", "::1"]),
        run("true", &["-C", "2", "-p", "200", "127.0.0.1"]),
        run(
            "true",
            &["-s", "-e", "-A", "-c", "2", "-p", "100", "localhost"],
        ),
        run("true", &["-d", "-c", "1", "127.0.0.1"]),
        run("true", &["-a", "-g", "127.0.0.1", "127.0.0.3"]),
        run(silent, &["-r", "1", "-t", "100", "127.0.0.1"]),
        run(&router, &["-c", "2", "-p", "200", "far"]),
        Run {
            signals: &[(1000, "QUIT"), (500, "INT")],
            ..run("true", &["-l", "-p", "200", "127.0.0.1"])
        },
        run(open, &["-c", "2", "-p", "200", "127.0.0.1", "::1"]),
        run(open, &["-C", "2", "-p", "200", "-d", "127.0.0.1"]),
    ]
}
