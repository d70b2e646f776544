//! Renders the LSM policy templates with the install layout and a tool's
//! descriptor.
//!
//! Templates name values as `@VAR@`; the value is escaped for the file it
//! goes into ([`Flavor`]): SELinux file contexts are regular expressions,
//! TOMOYO encodes bytes outside printable ASCII as `\ooo`. The variables
//! are the layout's ([`crate::layout`]) and, for a per-tool template, the
//! tool's ([`tool_variables`]), so the policies always name the paths the
//! launchers were built with and `make install` installed to.

#![forbid(unsafe_code)]

use crate::tools::{Resource, SocketSetup, SocketSpec, Tool};
use crate::{layout, PolicyError};

/// How a value is escaped in the rendered file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// As is.
    Plain,
    /// A POSIX extended regular expression, as in a refpolicy `.fc` file.
    SelinuxFc,
    /// A TOMOYO 2.6 word (`\\` for backslash, `\ooo` outside 0x21..=0x7e).
    Tomoyo,
}

impl Flavor {
    /// Parses the command-line name of a flavor.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "plain" => Some(Flavor::Plain),
            "fc" => Some(Flavor::SelinuxFc),
            "tomoyo" => Some(Flavor::Tomoyo),
            _ => None,
        }
    }

    fn escape(self, value: &str) -> String {
        match self {
            Flavor::Plain => value.to_string(),
            Flavor::SelinuxFc => value
                .chars()
                .flat_map(|c| {
                    let special = ".^$*+?()[]{}|\\".contains(c);
                    special.then_some('\\').into_iter().chain([c])
                })
                .collect(),
            Flavor::Tomoyo => value
                .bytes()
                .map(|b| match b {
                    b'\\' => "\\\\".to_string(),
                    0x21..=0x7e => (b as char).to_string(),
                    _ => format!("\\{b:03o}"),
                })
                .collect(),
        }
    }
}

/// The layout's variables, for templates that are not about one tool.
pub fn variables() -> Vec<(&'static str, String)> {
    vec![
        ("PREFIX", layout::PREFIX.to_string()),
        ("BINDIR", layout::BINDIR.to_string()),
        ("LIBEXECDIR", layout::LIBEXECDIR.to_string()),
    ]
}

/// The layout's variables and `tool`'s: `TOOL` (`ping`), `TOOL_ID` (the
/// name as an identifier, `-` as `_`: `mtr_packet`), `LAUNCHER_NAME`,
/// `LAUNCHER_PATH`, `WORKER_NAME`, `WORKER_PATH`, `SELINUX_PREFIX`
/// (`privsep_ping`), `SETCAP` (`cap_net_raw=p`), `SELINUX_CAPS`
/// (`net_raw`), `SOCKET_CLASSES` (`icmp_socket rawip_socket`), `NICE` (the priority,
/// or empty), `RESOLVES` (`yes`/`no`), `RAW_PROTOCOLS` (the IP protocol numbers of its raw
/// IPv4/IPv6 sockets, `1 58`: what TOMOYO's `network inet raw` rules name),
/// `FILTER_CLASSES` (the SELinux classes of the sockets the launcher locks a
/// filter on, so its domain needs `setopt` on them), `DATAGRAM_FIRST`
/// (`yes` when every socket is tried first without any capability, so that
/// where the kernel admits every group to ping sockets the launcher needs
/// no file capability at all; `make install` and the postinst decide),
/// `APPARMOR_CAPS` (the file capability in AppArmor's `capability` rule
/// names, `net_raw`) and `APPARMOR_SOCKETS` (`family/type` of each socket
/// kind, every alternative included, `inet/dgram inet/raw …`: AppArmor
/// mediates sockets by family and type only),
/// `BROKER_NAME` and
/// `BROKER_PATH` (the broker program's, empty for a tool without one),
/// `BROKER_CLASSES` (the SELinux classes of the sockets the broker holds),
/// `BROKER_CREATES_CLASSES` (those of the sockets it opens itself, per
/// request: mtr-packet's TCP and SCTP probes),
/// `WORKER_CLASSES` (those the worker itself receives), `SELINUX_DOMAINS`
/// (the tool's SELinux domains, space-separated: launcher, worker, broker),
/// `APPARMOR_WORKER_SOCKETS` and `APPARMOR_BROKER_SOCKETS` (the kinds the
/// worker and the broker receive)
/// and `SELINUX_DOMAINS_REQ` (the same, comma-separated, for
/// `gen_require`); from the tool's [`Facts`](crate::tools::Facts):
/// `SUMMARY` (the man page's NAME line), `SMOKE_ARGS`, `SMOKE_STDIN`,
/// `SMOKE_PEER` (`yes`/`no`) and `SMOKE_EXPECT` (one unprivileged run and
/// what its output shows), `IPUTILS_NAMES` (`ping ping4 ping6`),
/// `OWN_SOCKET_CLASSES` (the SELinux classes the worker creates apart from
/// name resolution) and `OWN_INET` (its own TOMOYO inet rules as
/// `protocol:operation:from:to`). [`FREE_TEXT`] lists those that are prose
/// or shell words rather than lists.
pub fn tool_variables(tool: &Tool) -> Vec<(&'static str, String)> {
    let mut vars = variables();
    let caps: Vec<&str> = tool.file_caps.iter().map(|c| c.selinux_name()).collect();
    // Every kind's class: the launcher may create each of them (ping: an
    // ICMP datagram socket, and a raw one where that is refused).
    let mut classes: Vec<&str> = tool
        .sockets()
        .flat_map(|s| s.kinds.iter().map(|k| k.selinux_class))
        .collect();
    classes.sort_unstable();
    classes.dedup();
    let mut raw: Vec<String> = tool
        .sockets()
        .filter(|s| {
            s.kinds.iter().any(|k| k.ty == libc::SOCK_RAW)
                && (s.domain == libc::AF_INET || s.domain == libc::AF_INET6)
        })
        .map(|s| s.protocol.to_string())
        .collect();
    raw.dedup();
    let mut filtered: Vec<&str> = tool
        .sockets()
        .filter(|s| matches!(s.setup, SocketSetup::LockedFilter(_)))
        .flat_map(|s| s.kinds.iter().map(|k| k.selinux_class))
        .collect();
    filtered.sort_unstable();
    filtered.dedup();
    // The launcher's AppArmor profile is half of every stack it starts,
    // so it names the kinds its broker opens too, and the channel it makes
    // for them.
    let created: &'static [SocketSpec] = tool.broker.map_or(&[], |b| b.creates);
    let channel = tool.broker.map(|_| &crate::tools::BROKER_CHANNEL);
    let mut apparmor_sockets: Vec<String> = tool
        .sockets()
        .chain(created.iter())
        .chain(channel)
        .flat_map(|s| {
            s.kinds
                .iter()
                .filter_map(|k| apparmor_socket(s.domain, k.ty))
        })
        .collect();
    apparmor_sockets.sort_unstable();
    apparmor_sockets.dedup();
    let mut domains = vec![tool.selinux_launcher_type(), tool.selinux_worker_type()];
    if tool.broker.is_some() {
        domains.push(tool.selinux_broker_type());
    }
    let nice = tool.resources.iter().find_map(|r| match r {
        Resource::Priority { nice, .. } => Some(nice.to_string()),
        Resource::Socket(_) => None,
    });
    vars.extend([
        ("TOOL", tool.name.to_string()),
        ("TOOL_ID", tool.name.replace('-', "_")),
        ("LAUNCHER_NAME", tool.launcher_name.to_string()),
        ("LAUNCHER_PATH", tool.launcher_path.to_string()),
        ("WORKER_NAME", tool.worker_name.to_string()),
        ("WORKER_PATH", tool.worker_path.to_string()),
        ("SELINUX_PREFIX", tool.selinux_prefix.to_string()),
        ("SETCAP", tool.setcap_text()),
        ("SELINUX_CAPS", caps.join(" ")),
        ("SOCKET_CLASSES", classes.join(" ")),
        ("NICE", nice.unwrap_or_default()),
        (
            "RESOLVES",
            if tool.resolves_names { "yes" } else { "no" }.to_string(),
        ),
        ("RAW_PROTOCOLS", raw.join(" ")),
        ("FILTER_CLASSES", filtered.join(" ")),
        (
            "DATAGRAM_FIRST",
            if tool.datagram_first() { "yes" } else { "no" }.to_string(),
        ),
        // AppArmor's capability names are the kernel's, lower case, as SELinux spells them.
        ("APPARMOR_CAPS", caps.join(" ")),
        ("APPARMOR_SOCKETS", apparmor_sockets.join(" ")),
        (
            "BROKER_NAME",
            tool.broker.map_or("", |b| b.name).to_string(),
        ),
        (
            "BROKER_PATH",
            tool.broker.map_or("", |b| b.path).to_string(),
        ),
        ("BROKER_CLASSES", {
            let mut held: Vec<&str> = tool
                .sockets()
                .filter(|s| tool.brokered(s.name))
                .flat_map(|s| s.kinds.iter().map(|k| k.selinux_class))
                .collect();
            held.sort_unstable();
            held.dedup();
            held.join(" ")
        }),
        ("BROKER_CREATES_CLASSES", {
            let mut own: Vec<&str> = created
                .iter()
                .flat_map(|s| s.kinds.iter().map(|k| k.selinux_class))
                .collect();
            own.sort_unstable();
            own.dedup();
            own.join(" ")
        }),
        ("WORKER_CLASSES", {
            let mut own: Vec<&str> = tool
                .sockets()
                .filter(|s| !tool.brokered(s.name))
                .flat_map(|s| s.kinds.iter().map(|k| k.selinux_class))
                .collect();
            own.sort_unstable();
            own.dedup();
            own.join(" ")
        }),
        // Where a broker holds sockets: the kinds each side gets, each
        // side's channel included; the broker's also those it opens.
        (
            "APPARMOR_WORKER_SOCKETS",
            apparmor_kinds(tool.worker_handoff().into_iter()),
        ),
        (
            "APPARMOR_BROKER_SOCKETS",
            apparmor_kinds(tool.broker_handoff().into_iter().chain(created.iter())),
        ),
        ("SELINUX_DOMAINS", domains.join(" ")),
        ("SELINUX_DOMAINS_REQ", domains.join(", ")),
        ("SUMMARY", tool.facts.summary.to_string()),
        ("SMOKE_ARGS", tool.facts.smoke.args.join(" ")),
        ("SMOKE_STDIN", tool.facts.smoke.stdin.to_string()),
        (
            "SMOKE_PEER",
            if tool.facts.smoke.peer { "yes" } else { "no" }.to_string(),
        ),
        ("SMOKE_EXPECT", tool.facts.smoke.expect.to_string()),
        ("IPUTILS_NAMES", tool.facts.iputils_names.join(" ")),
        (
            "OWN_SOCKET_CLASSES",
            tool.facts.own_socket_classes.join(" "),
        ),
        (
            "OWN_INET",
            tool.facts
                .own_inet
                .iter()
                .map(|r| format!("{}:{}:{}:{}", r.protocol, r.operation, r.ports.0, r.ports.1))
                .collect::<Vec<_>>()
                .join(" "),
        ),
    ]);
    vars
}

/// The variables of [`tool_variables`] whose values are text or shell
/// words, not lists: `privsep-render tools` leaves them out of its
/// one-line-per-tool form (where a space separates variables); `layout
/// --tool` prints them.
pub const FREE_TEXT: &[&str] = &["SUMMARY", "SMOKE_ARGS", "SMOKE_STDIN", "SMOKE_EXPECT"];

/// The AppArmor `family/type` of every kind of `specs`, sorted, once each.
fn apparmor_kinds<'a>(specs: impl Iterator<Item = &'a SocketSpec>) -> String {
    let mut kinds: Vec<String> = specs
        .flat_map(|s| {
            s.kinds
                .iter()
                .filter_map(|k| apparmor_socket(s.domain, k.ty))
        })
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    kinds.join(" ")
}

/// A socket of `domain` and `ty` as an AppArmor `network` rule names it,
/// `family/type` (`inet/raw`, `packet/dgram`); `None` for a family or type
/// the rule syntax has no name for here (a descriptor that adds one must
/// add it).
pub fn apparmor_socket(domain: i32, ty: i32) -> Option<String> {
    let family = match domain {
        libc::AF_INET => "inet",
        libc::AF_INET6 => "inet6",
        libc::AF_PACKET => "packet",
        libc::AF_UNIX => "unix",
        libc::AF_NETLINK => "netlink",
        _ => return None,
    };
    let ty = match ty {
        libc::SOCK_RAW => "raw",
        libc::SOCK_DGRAM => "dgram",
        libc::SOCK_STREAM => "stream",
        libc::SOCK_SEQPACKET => "seqpacket",
        _ => return None,
    };
    Some(format!("{family}/{ty}"))
}

/// Replaces every `@VAR@` in `template` (named `name` in errors) with its
/// value from `vars`, escaped for `flavor`. An unknown `@VAR@` is an error
/// so that a typo cannot leave a value unrendered.
pub fn render(
    name: &str,
    template: &str,
    flavor: Flavor,
    vars: &[(&'static str, String)],
) -> Result<String, PolicyError> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('@') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let end = after.find('@');
        let candidate = end.map(|e| &after[..e]);
        match candidate {
            Some(var)
                if !var.is_empty() && var.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') =>
            {
                let (_, value) =
                    vars.iter()
                        .find(|(n, _)| *n == var)
                        .ok_or_else(|| PolicyError::Template {
                            template: name.to_string(),
                            var: var.to_string(),
                        })?;
                out.push_str(&flavor.escape(value));
                rest = &after[var.len() + 1..];
            }
            _ => {
                out.push('@');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutes_layout_paths() {
        let tool = &crate::tools::CLOCKDIFF;
        let out = render(
            "t",
            "exec @WORKER_PATH@ from @LAUNCHER_PATH@ as @SELINUX_PREFIX@ (@SELINUX_CAPS@)\n",
            Flavor::Plain,
            &tool_variables(tool),
        )
        .unwrap();
        assert_eq!(
            out,
            format!(
                "exec {} from {} as privsep_clockdiff (net_raw sys_nice)\n",
                tool.worker_path, tool.launcher_path
            )
        );
        assert!(render("t", "@WORKER_PATH@", Flavor::Plain, &variables()).is_err());
    }

    #[test]
    fn descriptor_facts_for_the_policies() {
        let get = |tool: &Tool, name: &str| {
            tool_variables(tool)
                .into_iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v)
                .unwrap()
        };
        let ping = &crate::tools::PING;
        let arping = &crate::tools::ARPING;
        let clockdiff = &crate::tools::CLOCKDIFF;
        assert_eq!(get(ping, "RAW_PROTOCOLS"), "1 58");
        assert_eq!(get(arping, "RAW_PROTOCOLS"), "");
        assert_eq!(get(clockdiff, "RAW_PROTOCOLS"), "1");
        assert_eq!(get(ping, "SOCKET_CLASSES"), "icmp_socket rawip_socket");
        assert_eq!(get(arping, "SOCKET_CLASSES"), "packet_socket");
        assert_eq!(get(arping, "FILTER_CLASSES"), "packet_socket");
        assert_eq!(get(ping, "FILTER_CLASSES"), "");
        assert_eq!(get(clockdiff, "NICE"), "-16");
        // ping: an ICMP datagram socket first, a raw one where that is refused.
        assert_eq!(
            get(ping, "APPARMOR_SOCKETS"),
            "inet/dgram inet/raw inet6/dgram inet6/raw"
        );
        // A tool with a broker: the launcher's profile (half of every
        // stack) names the channel and what the broker opens too.
        assert_eq!(
            get(arping, "APPARMOR_SOCKETS"),
            "packet/dgram unix/seqpacket"
        );
        assert_eq!(get(arping, "APPARMOR_WORKER_SOCKETS"), "unix/seqpacket");
        assert_eq!(
            get(arping, "APPARMOR_BROKER_SOCKETS"),
            "packet/dgram unix/seqpacket"
        );
        let mtr = &crate::tools::MTR_PACKET;
        assert_eq!(
            get(mtr, "APPARMOR_SOCKETS"),
            "inet/raw inet/stream inet6/raw inet6/stream unix/seqpacket"
        );
        assert_eq!(
            get(mtr, "APPARMOR_WORKER_SOCKETS"),
            "inet/raw inet6/raw unix/seqpacket"
        );
        assert_eq!(
            get(mtr, "APPARMOR_BROKER_SOCKETS"),
            "inet/stream inet6/stream unix/seqpacket"
        );
        assert_eq!(get(mtr, "BROKER_CREATES_CLASSES"), "sctp_socket tcp_socket");
        assert_eq!(get(arping, "BROKER_CREATES_CLASSES"), "");
        assert_eq!(get(clockdiff, "APPARMOR_SOCKETS"), "inet/raw");
        assert_eq!(get(clockdiff, "APPARMOR_CAPS"), "net_raw sys_nice");
    }

    #[test]
    fn every_socket_has_an_apparmor_name() {
        // A kind without a name would be missing from the launcher's profile.
        for tool in crate::tools::ALL {
            for spec in tool.sockets() {
                for kind in spec.kinds {
                    assert!(
                        apparmor_socket(spec.domain, kind.ty).is_some(),
                        "{}: {}",
                        tool.name,
                        kind.what
                    );
                }
            }
        }
    }

    #[test]
    fn unknown_variable_is_an_error_and_lone_ats_stay() {
        assert!(render("t", "@NOPE@", Flavor::Plain, &variables()).is_err());
        assert_eq!(
            render("t", "user@host a@b", Flavor::Plain, &variables()).unwrap(),
            "user@host a@b"
        );
    }

    #[test]
    fn escapes_per_flavor() {
        assert_eq!(Flavor::SelinuxFc.escape("/opt/a.b+c"), "/opt/a\\.b\\+c");
        assert_eq!(
            Flavor::Tomoyo.escape("/opt/my dir\\x"),
            "/opt/my\\040dir\\\\x"
        );
        assert_eq!(Flavor::Plain.escape("/a b"), "/a b");
    }
}
