//! `tomoyo-policy-check`: parses privsep's rendered TOMOYO 2.6 policy
//! offline and checks it against the kernel's grammar and against the split
//! it must enforce for every tool. Run by `make tomoyo-check` (part of
//! `make test`).
//!
//! ```text
//! tomoyo-policy-check check --tools TOOLS DIR
//!     DIR holds profile.conf, exception_policy.conf, domain_policy.conf
//!     (and optionally manager.conf); TOOLS is `privsep-render tools`'s
//!     output: every tool's paths, raw protocols and whether it resolves
//!     names come from there, none is written in this program.
//!     Exit 0: all good; 1: findings, one `FILE:LINE: reason` each.
//! tomoyo-policy-check expect-reject --tools TOOLS --good DIR FIXTURE...
//!     Each FIXTURE changes one file of the good policy and names, in its
//!     `#! file:` and `#! expect:` header lines, which file and which reason.
//!     Without more headers its body replaces the file; with `#! after: LINE`
//!     its body is inserted after that line of the good file, and each
//!     `#! drop: LINE` removes that line from it (so that a fixture about
//!     one tool leaves the others' lines as they are). `#! tool:` (which
//!     descriptor it was rendered with) is for the Makefile.
//!     Exit 0 only if every fixture is rejected for its reason.
//! ```
//! Bad usage or unreadable input: one line on stderr, exit 2.

#![forbid(unsafe_code)]

mod grammar;
mod rules;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use grammar::{Diag, Sink};
use rules::{Layout, Set, DOMAIN, EXCEPTION, PROFILE};

const MANAGER: &str = "manager.conf";

/// The files of one policy, by name.
type Files = BTreeMap<&'static str, Vec<u8>>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("tomoyo-policy-check: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &[String]) -> Result<bool, String> {
    let usage = "usage: tomoyo-policy-check check --tools TOOLS DIR | expect-reject --tools TOOLS --good DIR FIXTURE...";
    match args {
        [cmd, flag, layout, dir] if cmd == "check" && flag == "--tools" => {
            let layout = read_layout(layout)?;
            let files = read_dir(dir)?;
            let diags = check_all(&files, &layout);
            for d in &diags {
                eprintln!("{dir}/{}", where_(d));
            }
            if diags.is_empty() {
                let counts: Vec<String> = files
                    .iter()
                    .map(|(name, bytes)| {
                        format!(
                            "{name} {} lines",
                            bytes.iter().filter(|&&b| b == b'\n').count()
                        )
                    })
                    .collect();
                println!("tomoyo-policy-check: OK: {} ({})", dir, counts.join(", "));
                for t in &layout.tools {
                    let raw: Vec<String> = t.raw_protocols.iter().map(u64::to_string).collect();
                    println!(
                        "tomoyo-policy-check: {}: launcher {} may execute only worker {}; the worker executes nothing, sends raw only as protocol(s) [{}], resolver rules: {}",
                        t.name,
                        t.launcher,
                        t.worker,
                        raw.join(" "),
                        if t.resolves { "yes" } else { "none" }
                    );
                }
            }
            Ok(diags.is_empty())
        }
        [cmd, f1, layout, f2, good, fixtures @ ..]
            if cmd == "expect-reject" && f1 == "--tools" && f2 == "--good" =>
        {
            if fixtures.is_empty() {
                return Err("expect-reject needs at least one fixture".into());
            }
            let layout = read_layout(layout)?;
            let files = read_dir(good)?;
            if !check_all(&files, &layout).is_empty() {
                return Err(format!(
                    "the good policy in {good} does not pass `check`; fix that first"
                ));
            }
            let mut all_ok = true;
            for f in fixtures {
                all_ok &= expect_reject(f, &files, &layout)?;
            }
            Ok(all_ok)
        }
        _ => Err(usage.into()),
    }
}

/// Reads `privsep-render tools` output: one line per tool of `KEY=value`
/// words (lists joined with `,`).
fn read_layout(path: &str) -> Result<Layout, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let mut tools = Vec::new();
    for (no, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let get = |key: &str| -> Result<&str, String> {
            line.split(' ')
                .find_map(|w| w.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
                .ok_or_else(|| format!("{path}:{}: no {key}=", no + 1))
        };
        let abs = |key: &str| -> Result<String, String> {
            let v = get(key)?;
            if !v.starts_with('/') {
                return Err(format!("{path}:{}: {key} `{v}` is not absolute", no + 1));
            }
            Ok(rules::tomoyo_escape(v))
        };
        let raw_protocols = get("RAW_PROTOCOLS")?
            .split(',')
            .filter(|p| !p.is_empty())
            .map(|p| {
                p.parse::<u64>()
                    .map_err(|_| format!("{path}:{}: RAW_PROTOCOLS `{p}` is not a number", no + 1))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let resolves = match get("RESOLVES")? {
            "yes" => true,
            "no" => false,
            v => return Err(format!("{path}:{}: RESOLVES `{v}` is not yes/no", no + 1)),
        };
        // protocol:operation:from:to, ',' between rules.
        let own_inet = get("OWN_INET")?
            .split(',')
            .filter(|r| !r.is_empty())
            .map(|r| match r.split(':').collect::<Vec<_>>()[..] {
                [p, o, lo, hi] => match (lo.parse::<u64>(), hi.parse::<u64>()) {
                    (Ok(lo), Ok(hi)) => Ok((p.to_string(), o.to_string(), lo, hi)),
                    _ => Err(format!(
                        "{path}:{}: OWN_INET `{r}`: ports are not numbers",
                        no + 1
                    )),
                },
                _ => Err(format!(
                    "{path}:{}: OWN_INET `{r}` is not protocol:operation:from:to",
                    no + 1
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        tools.push(rules::Tool {
            name: get("TOOL")?.to_string(),
            launcher: abs("LAUNCHER_PATH")?,
            worker: abs("WORKER_PATH")?,
            raw_protocols,
            resolves,
            broker: match get("BROKER_PATH").unwrap_or("") {
                "" => None,
                _ => Some(abs("BROKER_PATH")?),
            },
            own_inet,
        });
    }
    if tools.is_empty() {
        return Err(format!("{path}: no tool"));
    }
    Ok(Layout { tools })
}

fn read_dir(dir: &str) -> Result<Files, String> {
    let mut files = Files::new();
    for name in [PROFILE, EXCEPTION, DOMAIN, MANAGER] {
        let p = Path::new(dir).join(name);
        match std::fs::read(&p) {
            Ok(b) => {
                files.insert(name, b);
            }
            Err(e) if name == MANAGER && e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("{}: {e}", p.display())),
        }
    }
    Ok(files)
}

/// Parses every file, then runs the cross-file and intent checks.
fn check_all(files: &Files, layout: &Layout) -> Vec<Diag> {
    let mut diags = Vec::new();
    let parse = |name: &'static str, diags: &mut Vec<Diag>| {
        let mut sink = Sink { file: name, diags };
        let bytes = files.get(name).map(Vec::as_slice).unwrap_or_default();
        grammar::lines(bytes, &mut sink)
    };
    let profile_lines = parse(PROFILE, &mut diags);
    let exception_lines = parse(EXCEPTION, &mut diags);
    let domain_lines = parse(DOMAIN, &mut diags);
    let manager_lines = parse(MANAGER, &mut diags);
    let profiles = grammar::profiles(
        &profile_lines,
        &mut Sink {
            file: PROFILE,
            diags: &mut diags,
        },
    );
    let exception = grammar::exception(
        &exception_lines,
        &mut Sink {
            file: EXCEPTION,
            diags: &mut diags,
        },
    );
    let domains = grammar::domains(
        &domain_lines,
        &mut Sink {
            file: DOMAIN,
            diags: &mut diags,
        },
    );
    grammar::managers(
        &manager_lines,
        &mut Sink {
            file: MANAGER,
            diags: &mut diags,
        },
    );
    let set = Set {
        exception: &exception,
        domains: &domains,
        profiles: &profiles,
    };
    rules::check(&set, layout, &mut diags);
    diags
}

/// Runs one negative fixture: it must be rejected, and for its reason.
fn expect_reject(path: &str, good: &Files, layout: &Layout) -> Result<bool, String> {
    let text = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    let mut file = None;
    let mut expect = None;
    let mut after: Option<Vec<u8>> = None;
    let mut drops: Vec<Vec<u8>> = Vec::new();
    let mut body = Vec::new();
    for line in text.split_inclusive(|&b| b == b'\n') {
        let s = String::from_utf8_lossy(line);
        if let Some(v) = s.strip_prefix("#! file: ") {
            file = Some(v.trim().to_string());
        } else if let Some(v) = s.strip_prefix("#! expect: ") {
            expect = Some(v.trim().to_string());
        } else if let Some(v) = s.strip_prefix("#! after: ") {
            after = Some(v.trim_end_matches('\n').as_bytes().to_vec());
        } else if let Some(v) = s.strip_prefix("#! drop: ") {
            drops.push(v.trim_end_matches('\n').as_bytes().to_vec());
        } else if s.starts_with("#! tool: ") {
        } else {
            body.extend_from_slice(line);
        }
    }
    let (Some(file), Some(expect)) = (file, expect) else {
        return Err(format!(
            "{path}: needs `#! file: NAME` and `#! expect: REASON` header lines"
        ));
    };
    let name = [PROFILE, EXCEPTION, DOMAIN, MANAGER]
        .into_iter()
        .find(|n| *n == file)
        .ok_or_else(|| format!("{path}: unknown file `{file}`"))?;
    let mut files = good.clone();
    if after.is_some() || !drops.is_empty() {
        body = edit(path, &good[name], after.as_deref(), &drops, &body)?;
    }
    files.insert(name, body);
    let diags = check_all(&files, layout);
    let fixture = Path::new(path)
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    match diags.iter().find(|d| d.msg.contains(&expect)) {
        Some(d) => {
            println!("REJECTED as expected: {fixture}: {}", where_(d));
            Ok(true)
        }
        None if diags.is_empty() => {
            println!("FAIL: {fixture} was ACCEPTED; expected a rejection for \"{expect}\"");
            Ok(false)
        }
        None => {
            println!("FAIL: {fixture} was rejected, but not for \"{expect}\":");
            for d in &diags {
                println!("    {}", where_(d));
            }
            Ok(false)
        }
    }
}

/// The good file `good` with the lines equal to one of `drops` removed and
/// `insert` placed after the first line equal to `after`. Each named line
/// must exist, so that a fixture cannot silently test nothing.
fn edit(
    path: &str,
    good: &[u8],
    after: Option<&[u8]>,
    drops: &[Vec<u8>],
    insert: &[u8],
) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut inserted = after.is_none();
    let mut dropped = vec![false; drops.len()];
    for line in good.split_inclusive(|&b| b == b'\n') {
        let bare = line.strip_suffix(b"\n").unwrap_or(line);
        if let Some(i) = drops.iter().position(|d| d.as_slice() == bare) {
            dropped[i] = true;
            continue;
        }
        out.extend_from_slice(line);
        if !inserted && after == Some(bare) {
            out.extend_from_slice(insert);
            inserted = true;
        }
    }
    if !inserted {
        return Err(format!(
            "{path}: the `#! after:` line is not in the good policy"
        ));
    }
    if let Some(i) = dropped.iter().position(|d| !d) {
        return Err(format!(
            "{path}: the `#! drop:` line `{}` is not in the good policy",
            String::from_utf8_lossy(&drops[i])
        ));
    }
    Ok(out)
}

/// `FILE:LINE: reason`, or `FILE: reason` for findings about a whole file.
fn where_(d: &Diag) -> String {
    if d.line == 0 {
        format!("{}: {}", d.file, d.msg)
    } else {
        format!("{}:{}: {}", d.file, d.line, d.msg)
    }
}
