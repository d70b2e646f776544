//! Every tool of the descriptors (`tools::ALL`) has what the build, the
//! packages and the documentation take from it by name: its bins, its
//! `debian/control` stanza, its man-page extra, its policy fragments, its
//! syscall footprints; and its facts are usable by the shell scripts that
//! read them.
//!
//! The Makefile, `debian/rules`, the package test, the policy checkers and
//! the VM suite derive the tool list from the descriptors; the files below
//! cannot (they are code or prose per tool, or, for `debian/control`, read
//! by dpkg before any of the build runs), so this test is where they meet
//! the list.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use policy::tools;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The `name = "..."` of every `[[bin]]` of a Cargo.toml.
fn bins(manifest: &str) -> BTreeSet<String> {
    let text = read(manifest);
    let mut out = BTreeSet::new();
    let mut in_bin = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
        } else if in_bin {
            if let Some(v) = line.strip_prefix("name = ") {
                out.insert(v.trim_matches('"').to_string());
            }
        }
    }
    out
}

/// The binary packages of debian/control with their fields (continuation
/// lines joined).
fn control_stanzas() -> Vec<Vec<(String, String)>> {
    let text = read("debian/control");
    let mut stanzas = Vec::new();
    for para in text.split("\n\n") {
        let mut fields: Vec<(String, String)> = Vec::new();
        for line in para.lines().filter(|l| !l.starts_with('#')) {
            if line.starts_with([' ', '\t']) {
                if let Some(last) = fields.last_mut() {
                    last.1.push(' ');
                    last.1.push_str(line.trim());
                }
            } else if let Some((k, v)) = line.split_once(':') {
                fields.push((k.to_string(), v.trim().to_string()));
            }
        }
        if fields.iter().any(|(k, _)| k == "Package") {
            stanzas.push(fields);
        }
    }
    stanzas
}

fn field<'a>(stanza: &'a [(String, String)], name: &str) -> Option<&'a str> {
    stanza
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn every_tool_has_its_bins() {
    let launchers = bins("launcher/Cargo.toml");
    let workers = bins("worker/Cargo.toml");
    for t in tools::ALL {
        let worker_bin = format!("privsep-{}", t.worker_name);
        assert!(
            launchers.contains(t.launcher_name),
            "{}: no [[bin]] {} in launcher/Cargo.toml",
            t.name,
            t.launcher_name
        );
        assert!(
            repo()
                .join(format!("launcher/src/bin/{}.rs", t.launcher_name))
                .is_file(),
            "{}: no launcher/src/bin/{}.rs",
            t.name,
            t.launcher_name
        );
        let mut programs = vec![worker_bin];
        if let Some(b) = t.broker {
            programs.push(format!("privsep-{}", b.name));
        }
        // cargo builds src/bin/<name>.rs without a [[bin]] entry unless
        // autobins is off.
        let autobins = !read("worker/Cargo.toml").contains("autobins = false");
        for bin in programs {
            assert!(
                workers.contains(&bin) || autobins,
                "{}: no [[bin]] {bin} in worker/Cargo.toml",
                t.name
            );
            assert!(
                repo().join(format!("worker/src/bin/{bin}.rs")).is_file(),
                "{}: no worker/src/bin/{bin}.rs",
                t.name
            );
        }
    }
    // No launcher bin without a descriptor (it would be built and never installed).
    for bin in &launchers {
        assert!(
            tools::ALL.iter().any(|t| t.launcher_name == bin),
            "launcher bin {bin} has no descriptor in tools::ALL"
        );
    }
}

/// The packages of debian/control that are not one tool's.
const OTHER_PACKAGES: &[&str] = &[
    "privsep-iputils",
    "privsep-selinux",
    "privsep-tomoyo",
    "privsep-apparmor",
];

#[test]
fn every_tool_has_its_package_stanza_and_nothing_else_does() {
    let stanzas = control_stanzas();
    let packages: Vec<&str> = stanzas.iter().filter_map(|s| field(s, "Package")).collect();
    for t in tools::ALL {
        let stanza = stanzas
            .iter()
            .find(|s| field(s, "Package") == Some(t.launcher_name))
            .unwrap_or_else(|| {
                panic!(
                    "{}: no `Package: {}` stanza in debian/control",
                    t.name, t.launcher_name
                )
            });
        // Built like every launcher: statically, for the architecture whose
        // raw entry code the launcher has.
        assert_eq!(field(stanza, "Architecture"), Some("amd64"), "{}", t.name);
        assert_eq!(
            field(stanza, "Built-Using"),
            Some("${glibc:Built-Using}"),
            "{}",
            t.name
        );
        let description = field(stanza, "Description").unwrap_or("");
        assert!(
            description.contains(&t.setcap_text()),
            "{}: the description does not name the file capability {}",
            t.name,
            t.setcap_text()
        );
    }
    for p in &packages {
        assert!(
            tools::ALL.iter().any(|t| t.launcher_name == *p) || OTHER_PACKAGES.contains(p),
            "debian/control: package {p} is neither a tool's nor one of {OTHER_PACKAGES:?}"
        );
    }
    // The AppArmor profiles cover every tool: any one tool's package will do.
    let apparmor = stanzas
        .iter()
        .find(|s| field(s, "Package") == Some("privsep-apparmor"))
        .expect("privsep-apparmor");
    let depends = field(apparmor, "Depends").unwrap_or("");
    for t in tools::ALL {
        assert!(
            depends.contains(&format!("{} (= ${{source:Version}})", t.launcher_name)),
            "privsep-apparmor's Depends lacks {}",
            t.launcher_name
        );
    }
}

#[test]
fn every_tool_has_its_man_page_extra_and_policy_fragments() {
    for t in tools::ALL {
        let extra = format!("docs/{}.8.extra", t.launcher_name);
        assert!(
            read(&extra).contains(".SH SECURITY"),
            "{}: {extra} has no SECURITY section",
            t.name
        );
        // Inet rules of its own are granted in its TOMOYO fragment.
        let fragment = repo().join(format!("tomoyo/worker-{}.conf.in", t.name));
        if !t.facts.own_inet.is_empty() {
            assert!(fragment.is_file(), "{}: no {}", t.name, fragment.display());
        }
        // Sockets of its own are granted by name in privsep.te.
        let te = read("selinux/privsep.te");
        for class in t.facts.own_socket_classes {
            let rule = format!("allow {}_worker_t self:{class} ", t.selinux_prefix);
            assert!(
                te.contains(&rule),
                "{}: selinux/privsep.te lacks `{rule}...`",
                t.name
            );
        }
    }
}

#[test]
fn every_tool_has_its_footprints() {
    // worker/tests/footprint.rs compares them with the allowlists and
    // records them again; here, only that a tool cannot come without.
    for t in tools::ALL {
        let mut files = vec![format!("policy/footprints/{}.syscalls", t.name)];
        if t.broker.is_some() {
            files.push(format!("policy/footprints/{}-broker.syscalls", t.name));
        }
        for f in files {
            let calls = read(&f)
                .lines()
                .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
                .count();
            assert!(calls > 0, "{}: {f} lists no system call", t.name);
        }
    }
}

#[test]
fn smoke_facts_are_plain_shell_words() {
    // scripts/smoke.sh splits SMOKE_ARGS on spaces and passes SMOKE_STDIN
    // and SMOKE_EXPECT quoted: nothing in them may need more.
    let plain = |s: &str| !s.contains(['\'', '"', '\\', '$', '`', '\n']);
    for t in tools::ALL {
        let s = &t.facts.smoke;
        for a in s.args.iter().chain(t.facts.hold) {
            assert!(
                !a.is_empty() && !a.contains(char::is_whitespace) && plain(a),
                "{}: {a:?}",
                t.name
            );
        }
        assert!(plain(s.stdin), "{}: stdin {:?}", t.name, s.stdin);
        assert!(
            !s.expect.is_empty() && !s.expect.contains(['\'', '\n']),
            "{}",
            t.name
        );
        assert!(!t.facts.summary.is_empty() && !t.facts.summary.contains('\n'));
    }
}

#[test]
fn iputils_names_are_unique_and_own_rules_well_formed() {
    let mut seen = BTreeSet::new();
    for t in tools::ALL {
        for n in t.facts.iputils_names {
            assert!(seen.insert(*n), "{n} named by two tools");
        }
        for r in t.facts.own_inet {
            assert!(matches!(r.protocol, "dgram" | "stream"), "{}", t.name);
            assert!(
                matches!(r.operation, "bind" | "send" | "connect" | "listen"),
                "{}",
                t.name
            );
            assert!(r.ports.0 <= r.ports.1, "{}", t.name);
        }
    }
}
