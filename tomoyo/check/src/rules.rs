//! Checks that need more than one line: consistency across the three files
//! (every profile used is defined, every group used has members) and what
//! privsep requires of its TOMOYO policy (docs: shared design.md, "Kernel
//! policy intent"): the launcher may execute only the worker, the worker
//! nothing; the worker sends raw packets only as ICMP (1) or ICMPv6 (58);
//! both domains run under a profile that enforces `file::execute` and every
//! `network` function; and every installed path named is the one of this
//! build's layout.

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

/// The install layout, as TOMOYO words.
pub struct Layout {
    pub launcher: String,
    pub worker: String,
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
    let l = &layout.launcher;
    let mut found = false;
    for t in &e.transitions {
        let required =
            t.keyword == "initialize_domain" && t.program.as_deref() == Some(l) && t.from.is_none();
        if required {
            found = true;
            continue;
        }
        if let Some(p) = &t.program {
            if p == l || p == &layout.worker {
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
                        "path `{p}` is not part of the install layout (launcher {l}, worker {})",
                        layout.worker
                    ),
                );
            }
        }
    }
    if !found {
        sink.err(0, format!("missing `initialize_domain {l} from any`: the launcher would run in its caller's domain"));
    }
    for (line, orig, agg) in &e.aggregators {
        if agg == l || agg == &layout.worker || orig == l || orig == &layout.worker {
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
                format!("acl_group {g}: this policy keeps its rules in its two domains"),
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
    let (l, w) = (&layout.launcher, &layout.worker);
    let launcher_name = format!("<kernel> {l}");
    let worker_name = format!("<kernel> {l} {w}");
    for want in [&launcher_name, &worker_name] {
        if !set.domains.iter().any(|d| &d.name == want) {
            sink.err(0, format!("missing domain `{want}`"));
        }
    }
    for d in set.domains {
        for c in &d.components {
            if c != l && c != w {
                sink.err(
                    d.line,
                    format!(
                        "path `{c}` is not part of the install layout (launcher {l}, worker {w})"
                    ),
                );
            }
        }
        let is_launcher = d.name == launcher_name;
        let is_worker = d.name == worker_name;
        if !is_launcher && !is_worker {
            sink.err(
                d.line,
                format!(
                    "unexpected domain `{}` (only the launcher's and the worker's)",
                    d.name
                ),
            );
            continue;
        }
        domain_profile(set, d, sink);
        domain_group(set.exception, d, sink);
        let mut executes_worker = 0;
        let mut raw_protocols: Vec<u64> = Vec::new();
        for (line, acl) in &d.acls {
            let line = *line;
            group_refs(set.exception, acl, line, sink);
            match acl {
                Acl::File { ops, names, .. } => {
                    if !ops.contains(&"execute") {
                        sink.err(line, format!("`file {}`: only file::execute is enforced, this line has no effect", ops.join("/")));
                    } else if is_worker {
                        sink.err(line, "the worker may not execute anything (no `file execute` in its domain)");
                    } else if ops.len() != 1 || names.len() != 1 || &names[0] != w {
                        if names.iter().all(|n| n != w) {
                            sink.err(line, format!("path `{}` is not part of the install layout; the launcher may execute only the worker {w}", names.join(" ")));
                        } else {
                            sink.err(line, "the launcher may only `file execute` the worker, nothing more");
                        }
                    } else {
                        executes_worker += 1;
                    }
                }
                Acl::Inet { .. } | Acl::Unix { .. } if is_launcher => {
                    sink.err(line, "the launcher needs no network permission (it only creates sockets, which TOMOYO does not check)");
                }
                Acl::Inet { proto, ops, port, addr } => {
                    if let AddrOp::Range(..) = addr {
                        sink.err(line, "use one of the address groups (PRIVSEP_PING_TARGETS, PRIVSEP_DNS_SERVERS, PRIVSEP_SOURCES) so that administrators can restrict it in one place");
                    }
                    worker_inet(proto, ops, port, line, &mut raw_protocols, sink);
                }
                Acl::Unix { proto, ops, name } => {
                    if *proto != "stream" || ops.as_slice() != ["connect"] || !RESOLVER_SOCKETS.contains(&name.as_str()) {
                        sink.err(line, format!("unix socket rule `{proto} {} {name}`: the worker may only connect to the resolver sockets {}", ops.join("/"), RESOLVER_SOCKETS.join(", ")));
                    }
                }
                Acl::Env(name) => sink.err(line, format!("`misc env {name}`: misc rules are not used by this policy")),
                Acl::Task(to) => sink.err(line, format!("`task manual_domain_transition {to}`: task rules are not used by this policy")),
            }
        }
        if is_launcher && executes_worker == 0 {
            sink.err(d.line, format!("the launcher's domain does not allow `file execute {w}`: the launcher could not start the worker"));
        }
        if is_worker {
            for (p, name) in [(1, "ICMP"), (58, "ICMPv6")] {
                if !raw_protocols.contains(&p) {
                    sink.err(d.line, format!("the worker's domain has no `network inet raw send ... {p}` ({name} pings would be denied)"));
                }
            }
        }
    }
}

fn worker_inet(
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
    match proto {
        "raw" => match single {
            Some(p @ (1 | 58)) => {
                if ops.contains(&"send") {
                    raw.push(p);
                }
            }
            _ => sink.err(line, "raw sockets: only protocol 1 (ICMP) and 58 (ICMPv6), one number per line, no group or range"),
        },
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
