//! Checks that need more than one line: consistency across the three files
//! (every profile used is defined, every group used has members) and what
//! privsep requires of its TOMOYO policy (docs/design.md, "Kernel policy
//! intent"), for every tool of the descriptors (`privsep-render tools`):
//! each launcher is initialized into its own domain and may execute only its
//! own worker; workers execute nothing; a worker sends raw packets only as
//! the IP protocols of its descriptor's raw sockets (ping 1 and 58,
//! clockdiff 1, arping none: a packet socket is not inet); resolver rules
//! only for a tool that resolves names; every domain runs under a profile
//! that enforces `file::execute` and every `network` function; and every
//! installed path named is one of this build's layout.

#![forbid(unsafe_code)]

use crate::grammar::{
    Acl, AddrOp, Diag, Domain, Exception, GroupKind, NumOp, Profiles, Sink, NETWORK_FUNCTIONS,
};

pub const EXCEPTION: &str = "exception_policy.conf";
pub const DOMAIN: &str = "domain_policy.conf";
pub const PROFILE: &str = "profile.conf";

/// Local resolver sockets the worker may connect to during name resolution
/// (systemd-resolved's varlink socket, glibc's nscd socket).
const RESOLVER_SOCKETS: &[&str] = &[
    "/run/systemd/resolve/io.systemd.Resolve",
    "/var/run/nscd/socket",
];

/// Inet rules a tool's broker domain may have
/// (`tomoyo/broker-<tool>.conf.in`), as (tool, protocol, operation, ports
/// from, to): mtr-packet's
/// TCP and SCTP probes, from the probe's sequence number as local port, to
/// any port of the destination. Every other broker's domain grants
/// nothing.
const BROKER_OWN_INET: &[(&str, &str, &str, u64, u64)] = &[
    ("mtr-packet", "stream", "bind", 33000, 65535),
    ("mtr-packet", "stream", "connect", 0, 65535),
];

/// One tool of the descriptors, as far as TOMOYO is concerned; paths as
/// TOMOYO words.
#[derive(Debug, Clone)]
pub struct Tool {
    pub name: String,
    pub launcher: String,
    pub worker: String,
    /// The IP protocol numbers of its raw IPv4/IPv6 sockets.
    pub raw_protocols: Vec<u64>,
    /// Whether its worker resolves names.
    pub resolves: bool,
    /// Its broker program, if the descriptor has one (arping).
    pub broker: Option<String>,
    /// The inet rules its worker needs beyond the template and name
    /// resolution (`tomoyo/worker-<tool>.conf.in` grants them), from its
    /// descriptor's `OWN_INET`: (protocol, operation, ports from, to). ping
    /// and arping find their source address as iputils does, with a UDP
    /// socket (arping's bound to port 0) connected (checked as `send`) to
    /// port 1025 of the target.
    pub own_inet: Vec<(String, String, u64, u64)>,
}

impl Tool {
    fn launcher_domain(&self) -> String {
        format!("<kernel> {}", self.launcher)
    }
    fn worker_domain(&self) -> String {
        format!("<kernel> {} {}", self.launcher, self.worker)
    }
    fn broker_domain(&self) -> Option<String> {
        self.broker
            .as_ref()
            .map(|b| format!("<kernel> {} {}", self.launcher, b))
    }
    /// "protocol 1 (ICMP) and 58 (ICMPv6)", for messages.
    fn protocols_text(&self) -> String {
        let names: Vec<String> = self
            .raw_protocols
            .iter()
            .map(|p| match p {
                1 => "1 (ICMP)".to_string(),
                58 => "58 (ICMPv6)".to_string(),
                n => n.to_string(),
            })
            .collect();
        format!("protocol {}", names.join(" and "))
    }
}

/// The install layout: every tool's paths and facts.
pub struct Layout {
    pub tools: Vec<Tool>,
}

impl Layout {
    fn paths(&self) -> impl Iterator<Item = &String> {
        self.tools
            .iter()
            .flat_map(|t| [Some(&t.launcher), Some(&t.worker), t.broker.as_ref()])
            .flatten()
    }
    fn names_path(&self, p: &str) -> bool {
        self.paths().any(|x| x == p)
    }
    fn paths_text(&self) -> String {
        self.paths().cloned().collect::<Vec<_>>().join(", ")
    }
}

/// TOMOYO's encoding of a path (realpath.c's `tomoyo_encode`): `\\` for a
/// backslash, `\ooo` for bytes outside 0x21..=0x7e. Written here a second
/// time, independently of the renderer, so that the check catches a renderer
/// that escapes wrongly.
pub fn tomoyo_escape(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        match b {
            b'\\' => out.push_str("\\\\"),
            0x21..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\{b:03o}")),
        }
    }
    out
}

/// All parsed files of one policy.
pub struct Set<'a> {
    pub exception: &'a Exception,
    pub domains: &'a [Domain],
    pub profiles: &'a Profiles,
}

pub fn check(set: &Set, layout: &Layout, diags: &mut Vec<Diag>) {
    let mut exc = Sink {
        file: EXCEPTION,
        diags,
    };
    exception_intent(set.exception, layout, &mut exc);
    let mut prof = Sink {
        file: PROFILE,
        diags,
    };
    profile_consistency(set.profiles, &mut prof);
    let mut dom = Sink {
        file: DOMAIN,
        diags,
    };
    domains_intent(set, layout, &mut dom);
}

fn exception_intent(e: &Exception, layout: &Layout, sink: &mut Sink) {
    let mut found = vec![false; layout.tools.len()];
    for t in &e.transitions {
        let required = layout.tools.iter().position(|tool| {
            t.keyword == "initialize_domain"
                && t.program.as_deref() == Some(&tool.launcher)
                && t.from.is_none()
        });
        if let Some(i) = required {
            found[i] = true;
            continue;
        }
        if let Some(p) = &t.program {
            if layout.names_path(p) {
                sink.err(
                    t.line,
                    format!(
                        "`{}` on {p} changes how the privsep domains are entered",
                        t.keyword
                    ),
                );
            } else {
                sink.err(
                    t.line,
                    format!(
                        "path `{p}` is not part of the install layout ({})",
                        layout.paths_text()
                    ),
                );
            }
        }
    }
    for (tool, found) in layout.tools.iter().zip(found) {
        if !found {
            sink.err(0, format!("missing `initialize_domain {} from any`: the {} launcher would run in its caller's domain", tool.launcher, tool.name));
        }
    }
    for (line, orig, agg) in &e.aggregators {
        if layout.names_path(agg) || layout.names_path(orig) {
            sink.err(
                *line,
                format!("aggregator {orig} {agg} renames a privsep program"),
            );
        }
    }
    for (g, acls) in &e.acl_groups {
        for (line, _) in acls {
            sink.err(
                *line,
                format!("acl_group {g}: this policy keeps its rules in its own domains"),
            );
        }
    }
}

fn profile_consistency(p: &Profiles, sink: &mut Sink) {
    if p.version.is_none() {
        sink.err(0, "missing PROFILE_VERSION=20150505 (the kernel refuses to activate with another version)");
    }
    match p.defs.get(&0) {
        None => sink.err(0, "profile 0 is not defined: the <kernel> domain uses it and the kernel panics at activation"),
        Some(zero) => {
            let mut enabled: Vec<String> = Vec::new();
            for f in crate::grammar::FILE_FUNCTIONS {
                if zero.mode("file", f) != "disabled" {
                    enabled.push(format!("file::{f}"));
                }
            }
            for f in NETWORK_FUNCTIONS {
                if zero.mode("network", f) != "disabled" {
                    enabled.push(format!("network::{f}"));
                }
            }
            if zero.mode("misc", "env") != "disabled" {
                enabled.push("misc::env".into());
            }
            if !enabled.is_empty() {
                sink.err(zero.line, format!("profile 0 is the rest of the system's profile and must stay disabled, but enables {}", summary(&enabled)));
            }
        }
    }
}

/// A list of functions, shortened when long.
fn summary(names: &[String]) -> String {
    if names.len() <= 3 {
        names.join(", ")
    } else {
        format!("{}, ... ({} functions)", names[..3].join(", "), names.len())
    }
}

fn group_defined(e: &Exception, kind: GroupKind, name: &str) -> bool {
    e.groups.contains_key(&(kind, name.to_string()))
}

fn domains_intent(set: &Set, layout: &Layout, sink: &mut Sink) {
    for tool in &layout.tools {
        for want in [tool.launcher_domain(), tool.worker_domain()]
            .into_iter()
            .chain(tool.broker_domain())
        {
            if !set.domains.iter().any(|d| d.name == want) {
                sink.err(0, format!("missing domain `{want}`"));
            }
        }
    }
    for d in set.domains {
        for c in &d.components {
            if !layout.names_path(c) {
                sink.err(
                    d.line,
                    format!(
                        "path `{c}` is not part of the install layout ({})",
                        layout.paths_text()
                    ),
                );
            }
        }
        let launcher_of = layout.tools.iter().find(|t| d.name == t.launcher_domain());
        let worker_of = layout.tools.iter().find(|t| d.name == t.worker_domain());
        let broker_of = layout
            .tools
            .iter()
            .find(|t| t.broker_domain().as_deref() == Some(d.name.as_str()));
        if let Some(tool) = broker_of {
            // arping's broker holds the packet socket and talks to its
            // worker over an inherited socket pair: nothing TOMOYO 2.6
            // checks. So a broker's domain grants nothing at all (no exec,
            // no network) but the inet rules of BROKER_OWN_INET, each
            // naming an address group.
            domain_profile(set, d, sink);
            domain_group(set.exception, d, sink);
            for (line, acl) in &d.acls {
                if let Acl::Inet { proto, ops, port, addr } = acl {
                    let range = match port {
                        NumOp::Range(a, b) => Some((*a, *b)),
                        _ => None,
                    };
                    let own = !ops.is_empty()
                        && ops.iter().all(|op| {
                            BROKER_OWN_INET.iter().any(|&(t, p, o, lo, hi)| {
                                t == tool.name && p == *proto && o == *op && range == Some((lo, hi))
                            })
                        });
                    if own && !matches!(addr, AddrOp::Range(..)) {
                        group_refs(set.exception, acl, *line, sink);
                        continue;
                    }
                }
                sink.err(*line, format!("the {} broker's domain grants nothing (no exec, no network) but its probes' stream bind and connect: remove this line", tool.name));
            }
            continue;
        }
        let Some(tool) = launcher_of.or(worker_of) else {
            sink.err(
                d.line,
                format!(
                    "unexpected domain `{}` (only each tool's launcher, worker and broker domains)",
                    d.name
                ),
            );
            continue;
        };
        let is_worker = worker_of.is_some();
        let w = &tool.worker;
        let broker = tool.broker.as_ref();
        domain_profile(set, d, sink);
        domain_group(set.exception, d, sink);
        let mut executes_worker = 0;
        let mut executes_broker = 0;
        let mut raw_protocols: Vec<u64> = Vec::new();
        for (line, acl) in &d.acls {
            let line = *line;
            group_refs(set.exception, acl, line, sink);
            match acl {
                Acl::File { ops, names, .. } => {
                    if !ops.contains(&"execute") {
                        sink.err(line, format!("`file {}`: only file::execute is enforced, this line has no effect", ops.join("/")));
                    } else if is_worker {
                        sink.err(line, format!("the worker may not execute anything (no `file execute` in the {} worker's domain)", tool.name));
                    } else if ops.len() == 1 && names.len() == 1 && Some(&names[0]) == broker {
                        executes_broker += 1;
                    } else if ops.len() != 1 || names.len() != 1 || &names[0] != w {
                        if let Some(n) = names.iter().find(|n| *n != w && layout.names_path(n)) {
                            sink.err(line, format!("`file execute {n}`: that is another privsep program; the launcher may execute only the worker {w} (its own)"));
                        } else if names.iter().all(|n| n != w) {
                            sink.err(line, format!("path `{}` is not part of the install layout; the launcher may execute only the worker {w}", names.join(" ")));
                        } else {
                            sink.err(line, "the launcher may only `file execute` the worker, nothing more");
                        }
                    } else {
                        executes_worker += 1;
                    }
                }
                Acl::Inet { .. } | Acl::Unix { .. } if !is_worker => {
                    sink.err(line, "the launcher needs no network permission (it only creates sockets, which TOMOYO does not check)");
                }
                Acl::Inet { proto, ops, port, addr } => {
                    if let AddrOp::Range(..) = addr {
                        sink.err(line, "use one of the address groups (PRIVSEP_<TOOL>_TARGETS, PRIVSEP_DNS_SERVERS, PRIVSEP_SOURCES) so that administrators can restrict it in one place");
                    }
                    worker_inet(tool, proto, ops, port, line, &mut raw_protocols, sink);
                }
                Acl::Unix { proto, ops, name } => {
                    if !tool.resolves {
                        sink.err(line, format!("the {} worker resolves no names (its descriptor): no resolver rule", tool.name));
                    } else if *proto != "stream" || ops.as_slice() != ["connect"] || !RESOLVER_SOCKETS.contains(&name.as_str()) {
                        sink.err(line, format!("unix socket rule `{proto} {} {name}`: the worker may only connect to the resolver sockets {}", ops.join("/"), RESOLVER_SOCKETS.join(", ")));
                    }
                }
                Acl::Env(name) => sink.err(line, format!("`misc env {name}`: misc rules are not used by this policy")),
                Acl::Task(to) => sink.err(line, format!("`task manual_domain_transition {to}`: task rules are not used by this policy")),
            }
        }
        if !is_worker && executes_worker == 0 {
            sink.err(d.line, format!("the launcher's domain does not allow `file execute {w}`: the launcher could not start the worker"));
        }
        if let (false, Some(b), 0) = (is_worker, broker, executes_broker) {
            sink.err(d.line, format!("the launcher's domain does not allow `file execute {b}`: the launcher could not start the broker"));
        }
        if is_worker {
            for p in &tool.raw_protocols {
                if !raw_protocols.contains(p) {
                    sink.err(d.line, format!("the {} worker's domain has no `network inet raw send ... {p}` (its descriptor's raw socket could send nothing)", tool.name));
                }
            }
        }
    }
}

fn worker_inet(
    tool: &Tool,
    proto: &str,
    ops: &[&str],
    port: &NumOp,
    line: usize,
    raw: &mut Vec<u64>,
    sink: &mut Sink,
) {
    let single = match port {
        NumOp::Range(a, b) if a == b => Some(*a),
        _ => None,
    };
    let range = match port {
        NumOp::Range(a, b) => Some((*a, *b)),
        _ => None,
    };
    let own = |op: &str| {
        tool.own_inet
            .iter()
            .any(|(p, o, lo, hi)| p == proto && o == op && range == Some((*lo, *hi)))
    };
    if proto != "raw" && !ops.is_empty() && ops.iter().all(|op| own(op)) {
        return;
    }
    match proto {
        "raw" if tool.raw_protocols.is_empty() => sink.err(line, format!("the {} worker has no raw IP socket (its descriptor): no `network inet raw` rule", tool.name)),
        "raw" => match single {
            Some(p) if tool.raw_protocols.contains(&p) => {
                if ops.contains(&"send") {
                    raw.push(p);
                }
            }
            _ => sink.err(line, format!("raw sockets: the {} worker may use only {} (its descriptor's raw sockets), one number per line, no group or range", tool.name, tool.protocols_text())),
        },
        _ if !tool.resolves => sink.err(line, format!("the {} worker resolves no names (its descriptor): no resolver rule", tool.name)),
        "dgram" if ops == ["send"] && matches!(single, Some(53 | 0)) => {}
        "dgram" => sink.err(line, "UDP: the worker may only send to port 53 (DNS) and connect to port 0 (getaddrinfo's address sort)"),
        "stream" if ops == ["connect"] && single == Some(53) => {}
        _ => sink.err(line, "TCP: the worker may only connect to port 53 (DNS over TCP)"),
    }
}

fn domain_profile(set: &Set, d: &Domain, sink: &mut Sink) {
    let Some((line, n)) = d.profile else {
        sink.err(
            d.line,
            format!(
                "domain `{}` has no use_profile: it would run under profile 0 (disabled)",
                d.name
            ),
        );
        return;
    };
    let Some(p) = set.profiles.defs.get(&n) else {
        sink.err(line, format!("profile {n} is not defined in {PROFILE}"));
        return;
    };
    if n == 0 {
        sink.err(line, "profile 0 is the rest of the system's (disabled) profile; privsep domains need their own");
    }
    let exec = p.mode("file", "execute");
    if exec != "enforcing" {
        sink.err(
            line,
            format!("profile {n} does not enforce file::execute (mode {exec})"),
        );
    }
    let lax: Vec<String> = NETWORK_FUNCTIONS
        .iter()
        .filter(|f| p.mode("network", f) != "enforcing")
        .map(|f| format!("network::{f}"))
        .collect();
    if !lax.is_empty() {
        sink.err(
            line,
            format!("profile {n} does not enforce {}", summary(&lax)),
        );
    }
}

fn domain_group(e: &Exception, d: &Domain, sink: &mut Sink) {
    match d.groups.as_slice() {
        [] => sink.err(d.line, format!("domain `{}` has no use_group: it would share ACL group 0 with the rest of the system", d.name)),
        [(line, 0)] => sink.err(*line, "ACL group 0 is shared with the rest of the system; use an empty group of its own"),
        [(line, g)] => {
            if let Some(acls) = e.acl_groups.get(g) {
                sink.err(*line, format!("ACL group {g} is not empty ({} lines in {EXCEPTION})", acls.len()));
            }
        }
        [_, (line, _), ..] => sink.err(*line, "more than one use_group"),
    }
}

fn group_refs(e: &Exception, acl: &Acl, line: usize, sink: &mut Sink) {
    let mut need = |kind: GroupKind, name: &str| {
        if !group_defined(e, kind, name) {
            sink.err(line, format!("group `{name}` is used but has no members in {EXCEPTION} (the rule matches nothing)"));
        }
    };
    match acl {
        Acl::File { names, numbers, .. } => {
            for n in names.iter().filter_map(|n| n.strip_prefix('@')) {
                need(GroupKind::Path, n);
            }
            for n in numbers {
                if let NumOp::Group(g) = n {
                    need(GroupKind::Number, g);
                }
            }
        }
        Acl::Inet { addr, port, .. } => {
            if let AddrOp::Group(g) = addr {
                need(GroupKind::Address, g);
            }
            if let NumOp::Group(g) = port {
                need(GroupKind::Number, g);
            }
        }
        Acl::Unix { name, .. } => {
            if let Some(g) = name.strip_prefix('@') {
                need(GroupKind::Path, g);
            }
        }
        Acl::Env(_) | Acl::Task(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grammar;

    const PROFILE_OK: &str = "PROFILE_VERSION=20150505\n0-CONFIG={ mode=disabled grant_log=no reject_log=yes }\n9-COMMENT=privsep\n9-CONFIG={ mode=disabled grant_log=no reject_log=yes }\n9-CONFIG::file::execute={ mode=enforcing grant_log=no reject_log=yes }\n9-CONFIG::network={ mode=enforcing grant_log=no reject_log=yes }\n";

    fn tool(raw: &[u64], resolves: bool) -> Tool {
        Tool {
            name: "t".into(),
            launcher: "/b/privsep-t".into(),
            worker: "/l/privsep/t-worker".into(),
            raw_protocols: raw.to_vec(),
            resolves,
            broker: None,
            own_inet: Vec::new(),
        }
    }

    /// The findings for one tool's policy whose worker domain has `acls`.
    fn findings(t: &Tool, acls: &str) -> Vec<String> {
        let exception = format!(
            "initialize_domain {} from any\naddress_group G 0.0.0.0-255.255.255.255\n",
            t.launcher
        );
        let domain = format!(
            "<kernel> {l}\nuse_profile 9\nuse_group 9\nfile execute {w}\n<kernel> {l} {w}\nuse_profile 9\nuse_group 9\n{acls}",
            l = t.launcher,
            w = t.worker
        );
        let mut diags = Vec::new();
        let p = grammar::lines(
            PROFILE_OK.as_bytes(),
            &mut Sink {
                file: PROFILE,
                diags: &mut diags,
            },
        );
        let e = grammar::lines(
            exception.as_bytes(),
            &mut Sink {
                file: EXCEPTION,
                diags: &mut diags,
            },
        );
        let d = grammar::lines(
            domain.as_bytes(),
            &mut Sink {
                file: DOMAIN,
                diags: &mut diags,
            },
        );
        let profiles = grammar::profiles(
            &p,
            &mut Sink {
                file: PROFILE,
                diags: &mut diags,
            },
        );
        let exception = grammar::exception(
            &e,
            &mut Sink {
                file: EXCEPTION,
                diags: &mut diags,
            },
        );
        let domains = grammar::domains(
            &d,
            &mut Sink {
                file: DOMAIN,
                diags: &mut diags,
            },
        );
        let set = Set {
            exception: &exception,
            domains: &domains,
            profiles: &profiles,
        };
        check(
            &set,
            &Layout {
                tools: vec![t.clone()],
            },
            &mut diags,
        );
        diags.into_iter().map(|d| d.msg).collect()
    }

    #[test]
    fn raw_protocols_come_from_the_descriptor() {
        // A descriptor with a raw UDP socket (protocol 17): 17 is required
        // and allowed, 1 is refused. Nothing about ICMP is built in.
        let t = tool(&[17], false);
        assert_eq!(
            findings(&t, "network inet raw send @G 17\n"),
            Vec::<String>::new()
        );
        let f = findings(
            &t,
            "network inet raw send @G 17\nnetwork inet raw send @G 1\n",
        );
        assert!(
            f.iter().any(|m| m.contains("may use only protocol 17")),
            "{f:?}"
        );
        let f = findings(&t, "");
        assert!(
            f.iter()
                .any(|m| m.contains("no `network inet raw send ... 17`")),
            "{f:?}"
        );
        let none = tool(&[], false);
        assert_eq!(findings(&none, ""), Vec::<String>::new());
        let f = findings(&none, "network inet raw bind @G 1\n");
        assert!(
            f.iter().any(|m| m.contains("has no raw IP socket")),
            "{f:?}"
        );
    }

    #[test]
    fn resolver_rules_only_for_a_tool_that_resolves() {
        let lines =
            "network inet dgram send @G 53\nnetwork unix stream connect /var/run/nscd/socket\n";
        assert_eq!(findings(&tool(&[], true), lines), Vec::<String>::new());
        let f = findings(&tool(&[], false), lines);
        assert_eq!(
            f.iter().filter(|m| m.contains("resolves no names")).count(),
            2,
            "{f:?}"
        );
    }

    #[test]
    fn escapes_like_the_kernel() {
        assert_eq!(
            tomoyo_escape("/usr/local/bin/privsep-ping"),
            "/usr/local/bin/privsep-ping"
        );
        assert_eq!(tomoyo_escape("/opt/my dir\\x"), "/opt/my\\040dir\\\\x");
        assert_eq!(tomoyo_escape("/opt/\u{e9}"), "/opt/\\303\\251");
    }
}
