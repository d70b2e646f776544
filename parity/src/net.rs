//! The suite's network, in namespaces of its own (named with the pid by
//! `testkit::netns`), torn down on drop:
//!
//! ```text
//!  client c0 ── rc router rs ══ s0 server        (rs/s0: MTU 1280)
//!  198.18.1.2   198.18.1.1  198.18.2.1  198.18.2.2
//!                      rh ── h0 responder   198.18.3.0/24 (echo off)
//! ```
//!
//! The router has unreachable, prohibit and blackhole routes and answers
//! with ICMP errors without rate limits (so that every pinger sees the
//! same); the responder namespace runs one `parity-responder` per scenario.
//! IPv6 mirrors it in 2001:db8:N::/64. Names are resolved through
//! `/etc/netns/NAME/hosts` (and `nsswitch.conf` saying `files` only), which
//! `ip netns exec` mounts over `/etc`: never the machine's resolver.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use testkit::netns::Netns;

use crate::ParityError;

/// Each responder scenario, its last address octet / IPv6 suffix, and its hosts-file name.
pub const SCENARIOS: &[(&str, u8)] = &[
    ("dup", 10),
    ("late", 11),
    ("corrupt", 12),
    ("truncated", 13),
    ("foreign", 14),
    ("errors", 15),
];

/// The private hosts file: the names the table uses.
fn hosts() -> String {
    let mut h = String::from(
        "127.0.0.1\tlocalhost\n\
         ::1\tlocalhost ip6-localhost ip6-loopback\n\
         198.18.1.2\tclient\n\
         2001:db8:1::2\tclient\n\
         198.18.1.1\trouter\n\
         2001:db8:1::1\trouter6\n\
         198.18.2.1\trouter-far\n\
         198.18.2.2\tserver\n\
         2001:db8:2::2\tserver6\n\
         198.18.2.2\tdual\n\
         2001:db8:2::2\tdual\n\
         198.18.3.99\tstranger\n\
         2001:db8:3::99\tstranger6\n\
         198.18.100.1\tunreachable\n\
         198.18.101.1\tprohibited\n\
         198.18.102.1\tblackholed\n",
    );
    // A second address of the server whose reverse name (the first entry)
    // carries a terminal escape sequence, as a hostile hosts file or DNS
    // answer would; pinged by its second, ordinary name.
    h.push_str(
        "198.18.2.3\tevil\x1b[7mname\n2001:db8:2::3\tevil6\x1b]0;owned\x07\n\
         198.18.2.3\tserver-b\n2001:db8:2::3\tserver-b6\n",
    );
    // Internationalised names (bücher.example, bücher6.example), in
    // punycode as DNS and hosts files hold them, on addresses of their own
    // so that the reverse lookup finds them too: ping shows them in Unicode
    // under a UTF-8 locale. One family each: for a name with both, glibc
    // returns no canonical name to an AF_INET query with AI_CANONIDN
    // (20221126 then prints an empty name, later releases the one typed).
    h.push_str("198.18.2.4\txn--bcher-kva.example\n2001:db8:2::4\txn--bcher6-3ya.example\n");
    for (name, n) in SCENARIOS {
        h.push_str(&format!("198.18.3.{n}\t{name}\n2001:db8:3::{n}\t{name}6\n"));
    }
    h
}

/// Waits until `dev` in `ns` has its IPv6 link-local address, usable (not
/// tentative). A hang detector, not a timing assertion: ten seconds, then
/// the network is reported as not set up.
fn wait_for_link_local(ns: &Netns, dev: &str) -> Result<(), ParityError> {
    for _ in 0..200 {
        let out = Command::new("ip")
            .args([
                "-n",
                ns.name(),
                "-6",
                "-o",
                "addr",
                "show",
                "dev",
                dev,
                "scope",
                "link",
            ])
            .output();
        if let Ok(out) = out {
            let text = String::from_utf8_lossy(&out.stdout);
            if text.contains(" fe80::") && !text.contains("tentative") {
                return Ok(());
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Err(ParityError::Setup(format!(
        "{dev} in {} has no usable link-local address after 10 s",
        ns.name()
    )))
}

fn run(what: &str, cmd: &mut Command) -> Result<(), ParityError> {
    Ok(testkit::netns::run(what, cmd)?)
}

fn ip(ns: &Netns, args: &str) -> Result<(), ParityError> {
    run(
        &format!("ip -n {} {args}", ns.name()),
        Command::new("ip")
            .args(["-n", ns.name()])
            .args(args.split_whitespace()),
    )
}

fn sysctl(ns: &Netns, keys: &[&str]) -> Result<(), ParityError> {
    for key in keys {
        run(
            key,
            ns.command("sysctl")
                .args(["-q", "-w", key])
                .stdin(Stdio::null()),
        )?;
    }
    Ok(())
}

/// `/etc/netns/NAME/`, removed on drop.
struct EtcDir(PathBuf);

impl Drop for EtcDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn etc_dir(ns: &Netns) -> Result<EtcDir, ParityError> {
    let dir = PathBuf::from("/etc/netns").join(ns.name());
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|source| ParityError::Io {
            path: path.display().to_string(),
            source,
        })
    };
    std::fs::create_dir_all(&dir).map_err(|source| ParityError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    let guard = EtcDir(dir.clone());
    write("hosts", &hosts())?;
    write("nsswitch.conf", "hosts: files\nnetworks: files\n")?;
    // Nothing to ask should a program read resolv.conf anyway.
    write("resolv.conf", "options attempts:1 timeout:1\n")?;
    Ok(guard)
}

/// The suite's namespace tags.
const TAGS: [&str; 4] = ["pc", "pr", "ps", "ph"];

/// Whether `name` is one of this suite's namespaces (`phx-PID-N-TAG`)
/// whose process is gone: what a killed run left behind.
fn stale(name: &str) -> bool {
    let mut parts = name.splitn(4, '-');
    let (Some("phx"), Some(pid), Some(_), Some(tag)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    TAGS.contains(&tag)
        && pid.parse::<u32>().is_ok_and(|p| {
            p != std::process::id() && !std::path::Path::new(&format!("/proc/{p}")).exists()
        })
}

/// Removes the namespaces and `/etc/netns` entries of earlier runs that
/// were killed before their clean-up.
fn sweep_stale() {
    for dir in ["/etc/netns", "/run/netns"] {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if stale(&name) {
                if dir == "/run/netns" {
                    let _ = Command::new("ip").args(["netns", "del", &name]).output();
                } else {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
    }
}

/// A responder process, killed on drop.
pub(crate) struct Responder(Child);

impl Responder {
    /// `responder_bin` for `scenario` in `ns`, answering at
    /// `[own4, own6, foreign4, foreign6]` for half an hour at most; returns
    /// once it is ready.
    pub(crate) fn start(
        ns: &Netns,
        responder_bin: &str,
        scenario: &str,
        addrs: [String; 4],
    ) -> Result<Responder, ParityError> {
        let mut child = ns
            .command(responder_bin)
            .arg(scenario)
            .args(addrs)
            .arg("1800")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| ParityError::Command {
                what: "start parity-responder".into(),
                detail: e.to_string(),
            })?;
        let mut line = String::new();
        let _ = BufReader::new(child.stdout.as_mut().expect("piped")).read_line(&mut line);
        let started = Responder(child);
        if !line.starts_with("ready") {
            return Err(ParityError::Command {
                what: format!("parity-responder {scenario}"),
                detail: format!("did not start: {line:?}"),
            });
        }
        Ok(started)
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The whole network. Fields drop in order: responders, then namespaces.
pub struct Network {
    _responders: Vec<Responder>,
    _etc: Vec<EtcDir>,
    /// Where the pingers run.
    pub client: Netns,
    router: Netns,
    server: Netns,
    responder: Netns,
}

impl Network {
    /// Builds it and starts `responder_bin` for each scenario.
    pub fn new(responder_bin: &str) -> Result<Network, ParityError> {
        Network::with_ping_sockets(responder_bin, false)
    }

    /// [`Network::new`]; `open`: the client's `net.ipv4.ping_group_range`
    /// admits every group (the datagram mode), instead of the kernel's
    /// default that admits none.
    pub fn with_ping_sockets(responder_bin: &str, open: bool) -> Result<Network, ParityError> {
        sweep_stale();
        let [client, router, server, responder] = [
            Netns::new(TAGS[0])?,
            Netns::new(TAGS[1])?,
            Netns::new(TAGS[2])?,
            Netns::new(TAGS[3])?,
        ];
        let mut etc = Vec::new();
        for ns in [&client, &router, &server, &responder] {
            etc.push(etc_dir(ns)?);
            // No duplicate address detection: addresses usable at once.
            sysctl(
                ns,
                &[
                    "net.ipv6.conf.all.accept_dad=0",
                    "net.ipv6.conf.default.accept_dad=0",
                    "net.ipv6.conf.all.accept_ra=0",
                    "net.ipv6.conf.default.accept_ra=0",
                ],
            )?;
        }
        if open {
            sysctl(&client, &["net.ipv4.ping_group_range=0 2147483647"])?;
        }
        // The kernel answers pings everywhere but in the responder.
        for ns in [&client, &router, &server] {
            sysctl(
                ns,
                &[
                    "net.ipv4.icmp_echo_ignore_all=0",
                    "net.ipv6.icmp.echo_ignore_all=0",
                ],
            )?;
        }
        sysctl(
            &router,
            &[
                "net.ipv4.ip_forward=1",
                "net.ipv6.conf.all.forwarding=1",
                "net.ipv4.icmp_ratelimit=0",
                "net.ipv6.icmp.ratelimit=0",
                "net.ipv4.icmp_msgs_per_sec=100000",
                "net.ipv4.icmp_msgs_burst=100000",
            ],
        )?;
        let link = |a: &Netns, an: &str, amac: &str, b: &Netns, bn: &str, bmac: &str| {
            ip(
                a,
                &format!(
                    "link add {an} address {amac} type veth peer name {bn} address {bmac} netns {}",
                    b.name()
                ),
            )
        };
        link(
            &router,
            "rc",
            "02:00:00:00:01:01",
            &client,
            "c0",
            "02:00:00:00:01:02",
        )?;
        link(
            &router,
            "rs",
            "02:00:00:00:02:01",
            &server,
            "s0",
            "02:00:00:00:02:02",
        )?;
        link(
            &router,
            "rh",
            "02:00:00:00:03:01",
            &responder,
            "h0",
            "02:00:00:00:03:02",
        )?;
        ip(&router, "link set rs mtu 1280")?;
        ip(&server, "link set s0 mtu 1280")?;
        for (ns, dev, net) in [
            (&router, "rc", 1),
            (&client, "c0", 1),
            (&router, "rs", 2),
            (&server, "s0", 2),
            (&router, "rh", 3),
            (&responder, "h0", 3),
        ] {
            let host = if dev.starts_with('r') { 1 } else { 2 };
            ip(ns, &format!("addr add 198.18.{net}.{host}/24 dev {dev}"))?;
            ip(
                ns,
                &format!("-6 addr add 2001:db8:{net}::{host}/64 dev {dev} nodad"),
            )?;
            ip(ns, &format!("link set {dev} up"))?;
            if host == 2 {
                ip(ns, &format!("route add default via 198.18.{net}.1"))?;
                ip(ns, &format!("-6 route add default via 2001:db8:{net}::1"))?;
            }
        }
        ip(&server, "addr add 198.18.2.3/24 dev s0")?;
        ip(&server, "-6 addr add 2001:db8:2::3/64 dev s0 nodad")?;
        // The internationalised name's own addresses (see `hosts`).
        ip(&server, "addr add 198.18.2.4/24 dev s0")?;
        ip(&server, "-6 addr add 2001:db8:2::4/64 dev s0 nodad")?;
        for (kind, n) in [("unreachable", 100), ("prohibit", 101), ("blackhole", 102)] {
            ip(&router, &format!("route add {kind} 198.18.{n}.0/24"))?;
            ip(&router, &format!("-6 route add {kind} 2001:db8:{n}::/64"))?;
        }
        for n in SCENARIOS.iter().map(|(_, n)| *n).chain(std::iter::once(99)) {
            ip(&responder, &format!("addr add 198.18.3.{n}/32 dev h0"))?;
            ip(
                &responder,
                &format!("-6 addr add 2001:db8:3::{n}/128 dev h0 nodad"),
            )?;
        }
        let mut responders = Vec::new();
        for (scenario, n) in SCENARIOS {
            responders.push(Responder::start(
                &responder,
                responder_bin,
                scenario,
                [
                    format!("198.18.3.{n}"),
                    format!("2001:db8:3::{n}"),
                    "198.18.3.99".into(),
                    "2001:db8:3::99".into(),
                ],
            )?);
        }
        let net = Network {
            _responders: responders,
            _etc: etc,
            client,
            router,
            server,
            responder,
        };
        // Every link's IPv6 link-local address (and with it the link's
        // fe80::/64 route) in place before the first row: the kernel adds
        // it only once it sees the carrier, which it may report up to a
        // second after `link set up` (linkwatch). Until then a packet to
        // fe80::…%c0 follows the default route to the router, which
        // answers for it (the row `link-local-error-source` saw
        // `From 2001:db8:1::1` from whichever ping ran first).
        for (ns, dev) in [
            (&net.client, "c0"),
            (&net.router, "rc"),
            (&net.router, "rs"),
            (&net.router, "rh"),
            (&net.server, "s0"),
            (&net.responder, "h0"),
        ] {
            wait_for_link_local(ns, dev)?;
        }
        // Neighbours resolved before the first row.
        for addr in ["198.18.1.1", "2001:db8:1::1", "198.18.2.2", "2001:db8:2::2"] {
            let _ = net
                .client
                .command("ping")
                .args(["-c", "1", "-W", "2", "-q", addr])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        Ok(net)
    }

    /// Forgets the path MTUs the client learnt (before each MTU row).
    pub fn flush_route_cache(&self) {
        for fam in ["-4", "-6"] {
            let _ = Command::new("ip")
                .args(["-n", self.client.name(), fam, "route", "flush", "cache"])
                .output();
        }
    }

    /// The namespaces' names, for the report.
    pub fn names(&self) -> [&str; 4] {
        [
            self.client.name(),
            self.router.name(),
            self.server.name(),
            self.responder.name(),
        ]
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_the_suites_namespaces_of_dead_processes_are_stale() {
        // pid 0x7fffffff: no such process.
        assert!(super::stale("phx-2147483647-0-pc"));
        assert!(
            !super::stale("phx-2147483647-0-normal"),
            "the hostile suite's"
        );
        assert!(!super::stale(&format!("phx-{}-0-pc", std::process::id())));
        assert!(!super::stale("phx-1-0-pc"), "pid 1 is alive");
        assert!(!super::stale("other"));
    }
}
