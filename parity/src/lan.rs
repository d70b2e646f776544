//! The arping/clockdiff suite's network, in namespaces of its own (named
//! with the pid by `testkit::netns`), torn down on drop:
//!
//! ```text
//!  client veth0 ── br0 (lan) ──┬── eth0 h1   198.18.10.2, .9, .100-.159
//!  198.18.10.1/24              └── eth0 h2   198.18.10.3, .9 (.9: a duplicate address)
//!  down0   198.18.11.1/24, down
//!  noarp0  198.18.12.1/24, up, NOARP
//!  bare0   no address, up; 198.18.13.0/24 routed through it
//!  unreachable 198.18.100.0/24, prohibit .101, blackhole .102
//! ```
//!
//! Nobody answers at 198.18.10.50-.99 (silent hosts). h1 answers ICMP echo
//! and timestamps (clockdiff); its many addresses give every arping row a
//! target of its own, so that rows run concurrently without one run's
//! replies reaching another's packet socket. Names come from
//! `/etc/netns/NAME/hosts` (`nsswitch.conf`: files only), which `ip netns
//! exec` mounts over `/etc`: never the machine's resolver.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use testkit::netns::Netns;

use crate::ParityError;

/// The client's hosts file: the names the tables use.
const HOSTS: &str = "127.0.0.1\tlocalhost\n\
    198.18.10.1\tclient\n\
    198.18.10.2\th1\n\
    198.18.10.3\th2\n\
    198.18.10.9\tdup\n\
    198.18.10.50\tsilent\n\
    198.18.100.1\tunreachable\n\
    198.18.10.2\tevil\x1b[7mname\n";

/// This suite's namespace tags.
const TAGS: [&str; 4] = ["ac", "al", "a1", "a2"];

pub(crate) fn run(what: &str, cmd: &mut Command) -> Result<(), ParityError> {
    Ok(testkit::netns::run(what, cmd)?)
}

pub(crate) fn ip(ns: &Netns, args: &str) -> Result<(), ParityError> {
    run(
        &format!("ip -n {} {args}", ns.name()),
        Command::new("ip")
            .args(["-n", ns.name()])
            .args(args.split_whitespace()),
    )
}

/// `/etc/netns/NAME/`, removed on drop.
pub(crate) struct EtcDir(PathBuf);

impl Drop for EtcDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `/etc/netns/NAME/` for `ns`, with `hosts` and files-only name lookups.
pub(crate) fn etc_dir(ns: &Netns, hosts: &str) -> Result<EtcDir, ParityError> {
    let dir = PathBuf::from("/etc/netns").join(ns.name());
    let io = |source| ParityError::Io {
        path: dir.display().to_string(),
        source,
    };
    std::fs::create_dir_all(&dir).map_err(io)?;
    let guard = EtcDir(dir.clone());
    std::fs::write(dir.join("hosts"), hosts).map_err(io)?;
    std::fs::write(dir.join("nsswitch.conf"), "hosts: files\nnetworks: files\n").map_err(io)?;
    std::fs::write(dir.join("resolv.conf"), "options attempts:1 timeout:1\n").map_err(io)?;
    Ok(guard)
}

/// Whether `name` is one of a suite's namespaces (`phx-PID-N-TAG`, a tag
/// of `tags`) whose process is gone: what a killed run left behind.
fn stale(name: &str, tags: &[&str]) -> bool {
    let mut parts = name.splitn(4, '-');
    let (Some("phx"), Some(pid), Some(_), Some(tag)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    tags.contains(&tag)
        && pid.parse::<u32>().is_ok_and(|p| {
            p != std::process::id() && !std::path::Path::new(&format!("/proc/{p}")).exists()
        })
}

/// Deletes the namespaces (and their `/etc/netns` directories) of `tags`
/// that killed runs left behind.
pub(crate) fn sweep_stale(tags: &[&str]) {
    for dir in ["/etc/netns", "/run/netns"] {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if stale(&name, tags) {
                if dir == "/run/netns" {
                    let _ = Command::new("ip").args(["netns", "del", &name]).output();
                } else {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
    }
}

/// The whole network; namespaces deleted on drop.
pub struct Lan {
    _etc: EtcDir,
    /// Where the tools run.
    pub client: Netns,
    _lan: Netns,
    _hosts: [Netns; 2],
}

impl Lan {
    /// Builds it.
    pub fn new() -> Result<Lan, ParityError> {
        sweep_stale(&TAGS);
        let [client, lan, h1, h2] = [
            Netns::new(TAGS[0])?,
            Netns::new(TAGS[1])?,
            Netns::new(TAGS[2])?,
            Netns::new(TAGS[3])?,
        ];
        let etc = etc_dir(&client, HOSTS)?;
        let c = &client;
        ip(
            c,
            &format!("link add veth0 type veth peer name p0 netns {}", lan.name()),
        )?;
        ip(c, "link set veth0 address 02:00:00:00:0a:01")?;
        ip(c, "addr add 198.18.10.1/24 dev veth0")?;
        ip(c, "link set veth0 up")?;
        ip(c, "link add down0 type veth peer name down0p")?;
        ip(c, "addr add 198.18.11.1/24 dev down0")?;
        ip(c, "link add noarp0 type veth peer name noarp0p")?;
        ip(c, "link set noarp0 arp off")?;
        ip(c, "addr add 198.18.12.1/24 dev noarp0")?;
        ip(c, "link add bare0 type veth peer name bare0p")?;
        for dev in ["noarp0", "noarp0p", "bare0", "bare0p"] {
            ip(c, &format!("link set {dev} up"))?;
        }
        ip(c, "route add 198.18.13.0/24 dev bare0")?;
        ip(c, "route add unreachable 198.18.100.0/24")?;
        ip(c, "route add prohibit 198.18.101.0/24")?;
        ip(c, "route add blackhole 198.18.102.0/24")?;

        // A bridge without STP forwards at once.
        ip(&lan, "link add br0 type bridge forward_delay 0 stp_state 0")?;
        ip(&lan, "link set br0 up")?;
        ip(&lan, "link set p0 master br0")?;
        ip(&lan, "link set p0 up")?;
        for (i, h) in [(2, &h1), (3, &h2)] {
            ip(
                &lan,
                &format!("link add q{i} type veth peer name eth0 netns {}", h.name()),
            )?;
            ip(&lan, &format!("link set q{i} master br0"))?;
            ip(&lan, &format!("link set q{i} up"))?;
            ip(h, &format!("link set eth0 address 02:00:00:00:0a:0{i}"))?;
            ip(h, &format!("addr add 198.18.10.{i}/24 dev eth0"))?;
            ip(h, "addr add 198.18.10.9/24 dev eth0")?;
            ip(h, "link set eth0 up")?;
        }
        for n in 100..160 {
            ip(&h1, &format!("addr add 198.18.10.{n}/24 dev eth0"))?;
        }
        // clockdiff -o sends ICMP echo with the timestamp option.
        run(
            "h1 echo on",
            h1.command("sysctl")
                .args(["-q", "-w", "net.ipv4.icmp_echo_ignore_all=0"])
                .stdin(Stdio::null()),
        )?;
        let lan_ = Lan {
            _etc: etc,
            client,
            _lan: lan,
            _hosts: [h1, h2],
        };
        lan_.warm_up()?;
        Ok(lan_)
    }

    /// The bridge learns where h1 and h2 are, so that the first row does
    /// not see its replies flooded or late: one ARP exchange with each.
    fn warm_up(&self) -> Result<(), ParityError> {
        for host in ["198.18.10.2", "198.18.10.3"] {
            let _ = self
                .client
                .command("/usr/bin/arping")
                .args(["-q", "-c", "1", "-w", "2", "-I", "veth0", host])
                .stdin(Stdio::null())
                .output();
        }
        Ok(())
    }
}
