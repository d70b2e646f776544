//! The TOMOYO 2.6 policy grammar, as the mainline kernel parses it
//! (security/tomoyo/: common.c for the per-file dispatch and the profile,
//! domain.c for transitions and aggregators, file.c, network.c, group.c,
//! util.c for words, numbers and domain names). Each parser turns the lines of
//! one policy file into typed directives, or into a reason the kernel would
//! reject the line. That matters because the kernel does not report a
//! rejected line to the writer: a write to /sys/kernel/security/tomoyo/*
//! returns success and the line is simply gone.
//!
//! The accepted language is the kernel's, minus three things a shipped policy
//! has no business containing: `delete` requests, namespace prefixes other
//! than the default `<kernel>`, and ACL conditions.

#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::net::IpAddr;

/// One finding: where, and why the line is wrong.
#[derive(Debug, Clone)]
pub struct Diag {
    pub file: String,
    pub line: usize,
    pub msg: String,
}

/// Collects findings for one policy file.
pub struct Sink<'a> {
    pub file: &'a str,
    pub diags: &'a mut Vec<Diag>,
}

impl Sink<'_> {
    pub fn err(&mut self, line: usize, msg: impl Into<String>) {
        self.diags.push(Diag {
            file: self.file.to_string(),
            line,
            msg: msg.into(),
        });
    }
}

/// A numbered line of a policy file.
#[derive(Debug, Clone)]
pub struct Line {
    pub no: usize,
    pub text: String,
}

/// Splits a file into lines and rejects what no TOMOYO file may contain:
/// bytes outside printable ASCII and space, blank lines, comments, and
/// whitespace the kernel would silently normalize (which makes a reviewed
/// line differ from the loaded one).
pub fn lines(bytes: &[u8], sink: &mut Sink) -> Vec<Line> {
    let mut out = Vec::new();
    if bytes.is_empty() {
        return out;
    }
    let body = match bytes.strip_suffix(b"\n") {
        Some(b) => b,
        None => {
            let n = bytes.split(|&b| b == b'\n').count();
            sink.err(
                n,
                "last line has no newline (the kernel only parses a line when it sees its newline)",
            );
            bytes
        }
    };
    for (i, raw) in body.split(|&b| b == b'\n').enumerate() {
        let no = i + 1;
        if let Some(&b) = raw
            .iter()
            .find(|&&b| !(b == b' ' || (0x21..=0x7e).contains(&b)))
        {
            sink.err(no, format!("byte 0x{b:02x} is not allowed: TOMOYO words are printable ASCII, others are written as \\ooo"));
            continue;
        }
        // Only printable ASCII and spaces are left, so nothing is lost.
        let text = String::from_utf8_lossy(raw).into_owned();
        if text.is_empty() {
            sink.err(no, "blank line (not a directive; the kernel rejects it)");
        } else if text.starts_with('#') {
            sink.err(
                no,
                "comment line: TOMOYO has no comment syntax (the kernel rejects the line)",
            );
        } else if text.starts_with(' ') || text.ends_with(' ') || text.contains("  ") {
            sink.err(
                no,
                "stray whitespace: directives use single spaces between words",
            );
        } else if text.starts_with("delete ") {
            sink.err(no, "`delete` request: a shipped policy only adds lines");
        } else {
            out.push(Line { no, text });
        }
    }
    out
}

// ---------------------------------------------------------------- words

/// `tomoyo_correct_word2()`: a word is printable ASCII, with `\ooo` for bytes
/// outside 0x21..=0x7e, `\\` for a backslash, and the pattern escapes
/// (`\*`, `\@`, `\?`, `\$`, `\+`, `\x`, `\X`, `\a`, `\A`, `\-`, `/\{dir\}/`).
pub fn correct_word(s: &str) -> bool {
    let s = s.as_bytes();
    if s.is_empty() {
        return false;
    }
    let mut i = 0;
    let mut in_repetition = false;
    let mut recursion = 20u8;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c == b'\\' {
            let Some(&c) = s.get(i) else { return false };
            i += 1;
            if (b'0'..=b'3').contains(&c) {
                let (Some(&d), Some(&e)) = (s.get(i), s.get(i + 1)) else {
                    return false;
                };
                i += 2;
                if !(b'0'..=b'7').contains(&d) || !(b'0'..=b'7').contains(&e) {
                    return false;
                }
                let byte = ((c - b'0') << 6) | ((d - b'0') << 3) | (e - b'0');
                // An escape for a byte that could have been written as is
                // is refused, so every name has exactly one spelling.
                if byte <= b' ' || byte >= 127 {
                    continue;
                }
                return false;
            }
            if matches!(c, b'\\' | b'+' | b'?' | b'x' | b'a' | b'-') {
                continue;
            }
            if recursion == 0 {
                return false;
            }
            recursion -= 1;
            match c {
                b'*' | b'@' | b'$' | b'X' | b'A' => continue,
                b'{' => {
                    if i < 3 || s[i - 3] != b'/' {
                        return false;
                    }
                    in_repetition = true;
                }
                b'}' => {
                    if s.get(i) != Some(&b'/') || !in_repetition {
                        return false;
                    }
                    in_repetition = false;
                }
                _ => return false,
            }
        } else if (in_repetition && c == b'/') || c <= b' ' || c >= 127 {
            return false;
        }
    }
    !in_repetition
}

/// True when the word uses a wildcard (anything escaped except a byte or `\\`).
pub fn is_pattern(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            match b.get(i + 1) {
                Some(b'\\') => i += 2,
                Some(c) if (b'0'..=b'3').contains(c) => i += 4,
                _ => return true,
            }
        } else {
            i += 1;
        }
    }
    false
}

/// `tomoyo_correct_path()`: a word with a `/` before any `.`.
pub fn correct_path(s: &str) -> bool {
    match (s.find('/'), s.find('.')) {
        (Some(slash), Some(dot)) if dot < slash => false,
        (Some(_), _) => correct_word(s),
        (None, _) => false,
    }
}

/// An absolute path: what this policy requires wherever a file is named.
pub fn absolute_path(s: &str) -> Result<(), String> {
    if !s.starts_with('/') {
        return Err(format!("`{s}` is not an absolute path"));
    }
    if !correct_path(s) {
        return Err(format!(
            "`{s}` is not a valid TOMOYO path (bad escape or character)"
        ));
    }
    Ok(())
}

/// `tomoyo_correct_domain()` plus this policy's rule that every component is
/// an absolute path and the namespace is `<kernel>`.
pub fn domain_name(s: &str) -> Result<Vec<String>, String> {
    let mut parts = s.split(' ');
    let ns = parts.next().unwrap_or_default();
    if !(ns.starts_with('<')
        && ns.ends_with('>')
        && ns.len() > 2
        && correct_word(&ns[1..ns.len() - 1]))
    {
        return Err(format!(
            "`{s}` is not a domain name (it must start with a <namespace>)"
        ));
    }
    if ns != "<kernel>" {
        return Err(format!(
            "namespace {ns}: this policy lives in the <kernel> namespace"
        ));
    }
    let mut out = Vec::new();
    for p in parts {
        absolute_path(p).map_err(|e| format!("domain name component: {e}"))?;
        out.push(p.to_string());
    }
    Ok(out)
}

// ---------------------------------------------------------------- numbers

/// `tomoyo_parse_ulong()`: decimal, `0x` hexadecimal or `0` octal, followed
/// by whatever remains of the token.
fn parse_ulong(s: &str) -> Option<(u64, &str)> {
    let (digits, radix) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (h, 16)
    } else if s.len() > 1 && s.starts_with('0') && (b'0'..=b'7').contains(&s.as_bytes()[1]) {
        (&s[1..], 8)
    } else {
        (s, 10)
    };
    let end = digits
        .find(|c: char| !c.is_digit(radix))
        .unwrap_or(digits.len());
    if end == 0 {
        return None;
    }
    let v = u64::from_str_radix(&digits[..end], radix).ok()?;
    Some((v, &digits[end..]))
}

/// A number operand: `@group`, `N` or `MIN-MAX`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumOp {
    Group(String),
    Range(u64, u64),
}

fn number_op(tok: &str) -> Result<NumOp, String> {
    if let Some(g) = tok.strip_prefix('@') {
        return if correct_word(g) {
            Ok(NumOp::Group(g.into()))
        } else {
            Err(format!("bad group name `{g}`"))
        };
    }
    let bad = || format!("`{tok}` is not a number or MIN-MAX range");
    let (min, rest) = parse_ulong(tok).ok_or_else(bad)?;
    if rest.is_empty() {
        return Ok(NumOp::Range(min, min));
    }
    let (max, rest) = rest
        .strip_prefix('-')
        .and_then(parse_ulong)
        .ok_or_else(bad)?;
    if !rest.is_empty() {
        return Err(bad());
    }
    if min > max {
        return Err(format!("`{tok}`: range is empty (minimum above maximum)"));
    }
    Ok(NumOp::Range(min, max))
}

/// A decimal number as `use_profile`, `use_group`, `acl_group` and the
/// profile index take it (the kernel uses `%u`), below `limit`.
pub fn small_decimal(tok: &str, limit: u32, what: &str) -> Result<u8, String> {
    if tok.is_empty() || !tok.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{what} `{tok}` is not a decimal number"));
    }
    match tok.parse::<u32>() {
        Ok(n) if n < limit => Ok(n as u8),
        _ => Err(format!("{what} `{tok}` is out of range (0..{limit})")),
    }
}

// ---------------------------------------------------------------- addresses

/// An address operand: `@group`, `ADDR` or `MIN-MAX` of one family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddrOp {
    Group(String),
    Range(IpAddr, IpAddr),
}

/// `tomoyo_parse_ipaddr_union()`: an IPv4 or IPv6 address or range.
pub fn ip_range(tok: &str) -> Result<(IpAddr, IpAddr), String> {
    let (a, b) = tok.split_once('-').unwrap_or((tok, tok));
    let parse = |s: &str| {
        s.parse::<IpAddr>()
            .map_err(|_| format!("`{s}` is not an IP address"))
    };
    let (min, max) = (parse(a)?, parse(b)?);
    match (min, max) {
        (IpAddr::V4(x), IpAddr::V4(y)) if x <= y => Ok((min, max)),
        (IpAddr::V6(x), IpAddr::V6(y)) if x <= y => Ok((min, max)),
        (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => {
            Err(format!("`{tok}`: range is empty (minimum above maximum)"))
        }
        _ => Err(format!("`{tok}`: a range cannot mix IPv4 and IPv6")),
    }
}

fn addr_op(tok: &str) -> Result<AddrOp, String> {
    if let Some(g) = tok.strip_prefix('@') {
        return if correct_word(g) {
            Ok(AddrOp::Group(g.into()))
        } else {
            Err(format!("bad group name `{g}`"))
        };
    }
    let (a, b) = ip_range(tok)?;
    Ok(AddrOp::Range(a, b))
}

// ---------------------------------------------------------------- ACLs

/// One ACL line of a domain (or of an `acl_group`).
#[derive(Debug, Clone)]
pub enum Acl {
    /// `file OPS NAME... [NUMBER...]`
    File {
        ops: Vec<&'static str>,
        names: Vec<String>,
        numbers: Vec<NumOp>,
    },
    /// `network inet PROTO OPS ADDRESS PORT` (for raw sockets the "port" is
    /// the IP protocol number)
    Inet {
        proto: &'static str,
        ops: Vec<&'static str>,
        addr: AddrOp,
        port: NumOp,
    },
    /// `network unix PROTO OPS NAME`
    Unix {
        proto: &'static str,
        ops: Vec<&'static str>,
        name: String,
    },
    /// `misc env NAME`
    Env(String),
    /// `task manual_domain_transition DOMAIN`
    Task(String),
}

/// The `file` operations by operand shape (file.c's keyword tables).
const FILE_PATH: &[&str] = &[
    "execute", "read", "write", "append", "unlink", "getattr", "rmdir", "truncate", "symlink",
    "chroot", "unmount",
];
const FILE_PATH2: &[&str] = &["link", "rename", "pivot_root"];
const FILE_PATH_NUMBER: &[&str] = &[
    "create", "mkdir", "mkfifo", "mksock", "ioctl", "chmod", "chown", "chgrp",
];
const FILE_MKDEV: &[&str] = &["mkblock", "mkchar"];

/// Socket operations each protocol has (network.c's inet2mac/unix2mac).
/// The kernel stores other combinations but never checks them, so they
/// would be dead rules.
fn socket_ops(family: &str, proto: &str) -> Option<&'static [&'static str]> {
    Some(match (family, proto) {
        ("inet", "stream") | ("unix", "stream") | ("unix", "seqpacket") => {
            &["bind", "listen", "connect"]
        }
        ("inet", "dgram") | ("inet", "raw") | ("unix", "dgram") => &["bind", "send"],
        _ => return None,
    })
}

/// Splits `a/b/c` into known keywords from `table`, refusing unknown or
/// repeated ones.
fn ops_from(tok: &str, table: &[&'static str]) -> Result<Vec<&'static str>, String> {
    let mut out: Vec<&'static str> = Vec::new();
    for op in tok.split('/') {
        let Some(k) = table.iter().find(|k| **k == op) else {
            let file_op = [
                FILE_PATH,
                FILE_PATH2,
                FILE_PATH_NUMBER,
                FILE_MKDEV,
                &["mount"],
            ]
            .iter()
            .any(|t| t.contains(&op));
            return Err(if file_op && !table.contains(&"bind") {
                format!("operation `{op}` takes other operands than `{}`", table[0])
            } else {
                format!("unknown operation `{op}`")
            });
        };
        if out.contains(k) {
            return Err(format!("operation `{op}` repeated"));
        }
        out.push(k);
    }
    Ok(out)
}

fn name_op(tok: &str) -> Result<String, String> {
    if let Some(g) = tok.strip_prefix('@') {
        return if correct_word(g) {
            Ok(tok.to_string())
        } else {
            Err(format!("bad path group name `{g}`"))
        };
    }
    absolute_path(tok)?;
    Ok(tok.to_string())
}

/// Parses an ACL line. `Err` says why the kernel would refuse it (or why it
/// could never match).
pub fn acl(text: &str) -> Result<Acl, String> {
    let t: Vec<&str> = text.split(' ').collect();
    let trailing = |n: usize| -> Result<(), String> {
        if t.len() > n {
            Err(format!(
                "unexpected `{}` after the operands (ACL conditions are not used by this policy)",
                t[n..].join(" ")
            ))
        } else if t.len() < n {
            Err("missing operand".to_string())
        } else {
            Ok(())
        }
    };
    match t.first().copied() {
        Some("file") => {
            let Some(opstr) = t.get(1) else {
                return Err("`file` needs an operation".into());
            };
            let first = opstr.split('/').next().unwrap_or_default();
            let (table, nnames, nnums): (&[&'static str], usize, usize) =
                if FILE_PATH.contains(&first) {
                    (FILE_PATH, 1, 0)
                } else if FILE_PATH2.contains(&first) {
                    (FILE_PATH2, 2, 0)
                } else if FILE_PATH_NUMBER.contains(&first) {
                    (FILE_PATH_NUMBER, 1, 1)
                } else if FILE_MKDEV.contains(&first) {
                    (FILE_MKDEV, 1, 3)
                } else if first == "mount" {
                    (&["mount"], 3, 1)
                } else {
                    return Err(format!("unknown file operation `{first}`"));
                };
            // The kernel picks the table by the first keyword that matches and
            // silently drops keywords of another kind: refuse mixing.
            let ops = ops_from(opstr, table).map_err(|e| {
                format!("{e}: operations of one `file` line must take the same operands")
            })?;
            trailing(2 + nnames + nnums)?;
            let names = t[2..2 + nnames]
                .iter()
                .map(|n| name_op(n))
                .collect::<Result<Vec<_>, _>>()?;
            let numbers = t[2 + nnames..]
                .iter()
                .map(|n| number_op(n))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Acl::File {
                ops,
                names,
                numbers,
            })
        }
        Some("network") => {
            let family = t.get(1).copied().unwrap_or_default();
            let proto_tok = t.get(2).copied().unwrap_or_default();
            let proto = ["stream", "dgram", "raw", "seqpacket"]
                .into_iter()
                .find(|p| *p == proto_tok)
                .ok_or_else(|| {
                    format!("unknown socket protocol `{proto_tok}` (stream, dgram, raw, seqpacket)")
                })?;
            if family != "inet" && family != "unix" {
                return Err(format!("unknown network family `{family}` (inet, unix)"));
            }
            let table = socket_ops(family, proto)
                .ok_or_else(|| format!("`{family} {proto}` sockets are not checked by TOMOYO"))?;
            let ops = ops_from(t.get(3).copied().unwrap_or_default(), table)
                .map_err(|e| format!("{e} (valid for {family} {proto}: {})", table.join(", ")))?;
            if family == "inet" {
                trailing(6)?;
                let addr = addr_op(t[4])?;
                let port = number_op(t[5])?;
                if let NumOp::Range(_, max) = port {
                    if max > 65535 {
                        return Err(format!("port `{}` is above 65535", t[5]));
                    }
                    if proto == "raw" && max > 255 {
                        return Err(format!("raw socket protocol `{}` is above 255 (for raw sockets the port field is the IP protocol)", t[5]));
                    }
                }
                Ok(Acl::Inet {
                    proto,
                    ops,
                    addr,
                    port,
                })
            } else {
                trailing(5)?;
                let name = t[4];
                if !correct_word(name) {
                    return Err(format!("`{name}` is not a valid TOMOYO word"));
                }
                Ok(Acl::Unix {
                    proto,
                    ops,
                    name: name.to_string(),
                })
            }
        }
        Some("misc") => {
            if t.get(1) != Some(&"env") {
                return Err("unknown `misc` ACL (only `misc env NAME`)".into());
            }
            trailing(3)?;
            if !correct_word(t[2]) {
                return Err(format!("`{}` is not a valid TOMOYO word", t[2]));
            }
            Ok(Acl::Env(t[2].to_string()))
        }
        Some("task") => {
            let rest = text
                .strip_prefix("task manual_domain_transition ")
                .ok_or("unknown `task` ACL")?;
            domain_name(rest)?;
            Ok(Acl::Task(rest.to_string()))
        }
        Some(other) => Err(format!("unknown directive `{other}`")),
        None => Err("empty line".into()),
    }
}

// ---------------------------------------------------------------- exception policy

/// Kinds of `*_group` lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum GroupKind {
    Path,
    Number,
    Address,
}

/// A domain transition control line.
#[derive(Debug, Clone)]
pub struct Transition {
    pub line: usize,
    pub keyword: &'static str,
    /// `None` for `any`.
    pub program: Option<String>,
    /// `None` for `any` or absent.
    pub from: Option<String>,
}

/// The parsed exception policy.
#[derive(Debug, Default)]
pub struct Exception {
    pub transitions: Vec<Transition>,
    pub groups: BTreeMap<(GroupKind, String), Vec<usize>>,
    pub address_members: BTreeMap<String, Vec<(IpAddr, IpAddr)>>,
    pub acl_groups: BTreeMap<u8, Vec<(usize, Acl)>>,
    pub aggregators: Vec<(usize, String, String)>,
}

const TRANSITIONS: &[&str] = &[
    "no_reset_domain",
    "reset_domain",
    "no_initialize_domain",
    "initialize_domain",
    "no_keep_domain",
    "keep_domain",
];

pub fn exception(lines: &[Line], sink: &mut Sink) -> Exception {
    let mut e = Exception::default();
    for l in lines {
        if let Err(msg) = exception_line(l, &mut e) {
            sink.err(l.no, msg);
        }
    }
    e
}

fn exception_line(l: &Line, e: &mut Exception) -> Result<(), String> {
    let text = l.text.as_str();
    if text.starts_with('<') {
        return Err("namespace prefix: this policy lives in the default <kernel> namespace".into());
    }
    let (kw, rest) = text
        .split_once(' ')
        .ok_or_else(|| format!("`{text}` is not a directive"))?;
    if let Some(&keyword) = TRANSITIONS.iter().find(|k| **k == kw) {
        let keep = keyword.ends_with("keep_domain");
        let (program, from) = match rest.split_once(" from ") {
            Some((p, d)) => (Some(p), Some(d)),
            None if keep => (None, Some(rest)),
            None => (Some(rest), None),
        };
        let program = match program {
            Some("any") | None => None,
            Some(p) => {
                absolute_path(p)?;
                if is_pattern(p) {
                    return Err(format!("{keyword}: program `{p}` may not be a pattern"));
                }
                Some(p.to_string())
            }
        };
        let from = match from {
            Some("any") | None => None,
            Some(d) if d.starts_with('<') => {
                domain_name(d)?;
                Some(d.to_string())
            }
            Some(d) => {
                absolute_path(d).map_err(|m| format!("{keyword} ... from: {m}"))?;
                Some(d.to_string())
            }
        };
        e.transitions.push(Transition {
            line: l.no,
            keyword,
            program,
            from,
        });
        return Ok(());
    }
    match kw {
        "aggregator" => {
            let (orig, agg) = rest.split_once(' ').ok_or("aggregator needs two paths")?;
            if agg.contains(' ') {
                return Err("aggregator takes exactly two paths".into());
            }
            name_op(orig)?;
            absolute_path(agg)?;
            if is_pattern(agg) {
                return Err(format!("aggregator: `{agg}` may not be a pattern"));
            }
            e.aggregators.push((l.no, orig.into(), agg.into()));
        }
        "path_group" | "number_group" | "address_group" => {
            let (name, member) = rest
                .split_once(' ')
                .ok_or_else(|| format!("{kw} needs a name and a member"))?;
            if member.contains(' ') {
                return Err(format!("{kw} takes one member per line"));
            }
            if !correct_word(name) {
                return Err(format!("bad group name `{name}`"));
            }
            let kind = match kw {
                "path_group" => {
                    name_op(member).and_then(|m| {
                        if m.starts_with('@') {
                            Err("a path group cannot contain a group".into())
                        } else {
                            Ok(())
                        }
                    })?;
                    GroupKind::Path
                }
                "number_group" => {
                    if member.starts_with('@') {
                        return Err("a number group cannot contain a group".into());
                    }
                    number_op(member)?;
                    GroupKind::Number
                }
                _ => {
                    let r = ip_range(member)?;
                    e.address_members
                        .entry(name.to_string())
                        .or_default()
                        .push(r);
                    GroupKind::Address
                }
            };
            e.groups
                .entry((kind, name.to_string()))
                .or_default()
                .push(l.no);
        }
        "acl_group" => {
            let (n, body) = rest
                .split_once(' ')
                .ok_or("acl_group needs a number and an ACL")?;
            let n = small_decimal(n, 256, "acl_group number")?;
            let a = acl(body)?;
            e.acl_groups.entry(n).or_default().push((l.no, a));
        }
        _ => return Err(format!("unknown exception policy directive `{kw}`")),
    }
    Ok(())
}

// ---------------------------------------------------------------- domain policy

/// One domain of the domain policy.
#[derive(Debug, Clone)]
pub struct Domain {
    pub line: usize,
    pub name: String,
    pub components: Vec<String>,
    pub profile: Option<(usize, u8)>,
    pub groups: Vec<(usize, u8)>,
    pub acls: Vec<(usize, Acl)>,
}

pub fn domains(lines: &[Line], sink: &mut Sink) -> Vec<Domain> {
    let mut out: Vec<Domain> = Vec::new();
    for l in lines {
        let text = l.text.as_str();
        if text.starts_with('<') {
            match domain_name(text) {
                Ok(components) => {
                    if let Some(d) = out.iter().find(|d| d.name == text) {
                        sink.err(
                            l.no,
                            format!("domain `{text}` already defined at line {}", d.line),
                        );
                    }
                    out.push(Domain {
                        line: l.no,
                        name: text.into(),
                        components,
                        profile: None,
                        groups: Vec::new(),
                        acls: Vec::new(),
                    });
                }
                Err(m) => sink.err(l.no, m),
            }
            continue;
        }
        let Some(d) = out.last_mut() else {
            sink.err(
                l.no,
                "line before the first `<kernel> ...` domain header (the kernel drops it)",
            );
            continue;
        };
        if let Some(n) = text.strip_prefix("use_profile ") {
            match small_decimal(n, 256, "profile") {
                Ok(n) if d.profile.is_none() => d.profile = Some((l.no, n)),
                Ok(_) => sink.err(l.no, "second use_profile in this domain"),
                Err(m) => sink.err(l.no, m),
            }
        } else if let Some(n) = text.strip_prefix("use_group ") {
            match small_decimal(n, 256, "ACL group") {
                Ok(n) => d.groups.push((l.no, n)),
                Err(m) => sink.err(l.no, m),
            }
        } else if text == "quota_exceeded" || text == "transition_failed" {
            sink.err(
                l.no,
                format!(
                    "`{text}` is a state flag the kernel sets; a shipped policy does not set it"
                ),
            );
        } else {
            match acl(text) {
                Ok(a) => d.acls.push((l.no, a)),
                Err(m) => sink.err(l.no, m),
            }
        }
    }
    out
}

// ---------------------------------------------------------------- profile

/// A mode setting: `None` is `use_default`.
pub type Mode = Option<&'static str>;

/// One profile number's settings.
#[derive(Debug, Default, Clone)]
pub struct Profile {
    pub line: usize,
    pub default_mode: Option<&'static str>,
    pub config: BTreeMap<String, Mode>,
}

/// The parsed profile file.
#[derive(Debug, Default)]
pub struct Profiles {
    pub version: Option<(usize, u32)>,
    pub defs: BTreeMap<u8, Profile>,
}

const MODES: &[&str] = &["disabled", "learning", "permissive", "enforcing"];

/// The `CONFIG::` functions per category (common.c's tomoyo_mac_keywords).
pub const FILE_FUNCTIONS: &[&str] = &[
    "execute",
    "open",
    "create",
    "unlink",
    "getattr",
    "mkdir",
    "rmdir",
    "mkfifo",
    "mksock",
    "truncate",
    "symlink",
    "mkblock",
    "mkchar",
    "link",
    "rename",
    "chmod",
    "chown",
    "chgrp",
    "ioctl",
    "chroot",
    "mount",
    "unmount",
    "pivot_root",
];
pub const NETWORK_FUNCTIONS: &[&str] = &[
    "inet_stream_bind",
    "inet_stream_listen",
    "inet_stream_connect",
    "inet_dgram_bind",
    "inet_dgram_send",
    "inet_raw_bind",
    "inet_raw_send",
    "unix_stream_bind",
    "unix_stream_listen",
    "unix_stream_connect",
    "unix_dgram_bind",
    "unix_dgram_send",
    "unix_seqpacket_bind",
    "unix_seqpacket_listen",
    "unix_seqpacket_connect",
];
const MISC_FUNCTIONS: &[&str] = &["env"];

fn config_key_known(key: &str) -> bool {
    match key.split_once("::") {
        None => matches!(key, "file" | "network" | "misc"),
        Some(("file", f)) => FILE_FUNCTIONS.contains(&f),
        Some(("network", f)) => NETWORK_FUNCTIONS.contains(&f),
        Some(("misc", f)) => MISC_FUNCTIONS.contains(&f),
        Some(_) => false,
    }
}

/// Parses `{ key=value ... }` into its pairs.
fn braces(v: &str) -> Result<Vec<(&str, &str)>, String> {
    let inner = v
        .strip_prefix("{ ")
        .and_then(|s| s.strip_suffix(" }"))
        .ok_or_else(|| format!("`{v}` is not of the form `{{ key=value ... }}`"))?;
    inner
        .split(' ')
        .map(|kv| {
            if kv == "use_default" {
                Ok((kv, ""))
            } else {
                kv.split_once('=')
                    .ok_or_else(|| format!("`{kv}` is not key=value"))
            }
        })
        .collect()
}

pub fn profiles(lines: &[Line], sink: &mut Sink) -> Profiles {
    let mut p = Profiles::default();
    for l in lines {
        if let Err(m) = profile_line(l, &mut p) {
            sink.err(l.no, m);
        }
    }
    p
}

fn profile_line(l: &Line, p: &mut Profiles) -> Result<(), String> {
    let text = l.text.as_str();
    if text.starts_with('<') {
        return Err("namespace prefix: this policy lives in the default <kernel> namespace".into());
    }
    if let Some(v) = text.strip_prefix("PROFILE_VERSION=") {
        if v != "20150505" {
            return Err(format!(
                "PROFILE_VERSION={v}: TOMOYO 2.6 (Linux 5.1 and later) needs 20150505"
            ));
        }
        if let Some((first, _)) = p.version {
            return Err(format!("PROFILE_VERSION already set at line {first}"));
        }
        p.version = Some((l.no, 20150505));
        return Ok(());
    }
    let (num, rest) = text
        .split_once('-')
        .ok_or_else(|| format!("`{text}` is not a profile line (N-KEY=VALUE)"))?;
    let n = small_decimal(num, 256, "profile number")?;
    let (key, value) = rest
        .split_once('=')
        .ok_or_else(|| format!("`{text}` has no `=`"))?;
    let def = p.defs.entry(n).or_insert_with(|| Profile {
        line: l.no,
        ..Profile::default()
    });
    match key {
        "COMMENT" => {}
        "PREFERENCE" => {
            for (k, v) in braces(value)? {
                if k != "max_audit_log" && k != "max_learning_entry" {
                    return Err(format!(
                        "unknown preference `{k}` (max_audit_log, max_learning_entry)"
                    ));
                }
                if v.is_empty()
                    || !v.bytes().all(|b| b.is_ascii_digit())
                    || v.parse::<u32>().is_err()
                {
                    return Err(format!("preference {k}=`{v}` is not an unsigned number"));
                }
            }
        }
        _ => {
            let config_key = if key == "CONFIG" {
                None
            } else {
                let k = key
                    .strip_prefix("CONFIG::")
                    .ok_or_else(|| format!("unknown profile key `{key}`"))?;
                if !config_key_known(k) {
                    return Err(format!(
                        "unknown profile key `{key}` (see the CONFIG:: names in tomoyo/README.md)"
                    ));
                }
                Some(k)
            };
            let mut mode: Option<Mode> = None;
            for (k, v) in braces(value)? {
                match k {
                    "use_default" if config_key.is_some() => mode = Some(None),
                    "mode" => {
                        let m = MODES.iter().find(|m| **m == v).ok_or_else(|| {
                            format!("mode `{v}` is not one of {}", MODES.join(", "))
                        })?;
                        mode = Some(Some(m));
                    }
                    "grant_log" | "reject_log" if v == "yes" || v == "no" => {}
                    "grant_log" | "reject_log" => {
                        return Err(format!("{k}=`{v}` must be yes or no"))
                    }
                    _ => return Err(format!("unknown setting `{k}` in {key}")),
                }
            }
            let mode = mode.ok_or_else(|| format!("{key} has no mode= (nothing would change)"))?;
            match config_key {
                None => def.default_mode = mode,
                Some(k) => {
                    def.config.insert(k.to_string(), mode);
                }
            }
        }
    }
    Ok(())
}

impl Profile {
    /// The mode the kernel applies to `category::function`
    /// (`tomoyo_get_mode()`: the function's setting, else its category's,
    /// else the profile default; a new profile defaults to disabled).
    pub fn mode(&self, category: &str, function: &str) -> &'static str {
        let f = self
            .config
            .get(&format!("{category}::{function}"))
            .copied()
            .flatten();
        let c = self.config.get(category).copied().flatten();
        f.or(c).or(self.default_mode).unwrap_or("disabled")
    }
}

// ---------------------------------------------------------------- manager

pub fn managers(lines: &[Line], sink: &mut Sink) {
    for l in lines {
        let t = l.text.as_str();
        let r = if t == "manage_by_non_root" {
            Err("manage_by_non_root lets non-root users edit the policy".to_string())
        } else if t.starts_with('<') {
            domain_name(t).map(|_| ())
        } else {
            absolute_path(t)
        };
        if let Err(m) = r {
            sink.err(l.no, m);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_follow_the_kernel() {
        assert!(correct_word("/usr/local/bin/privsep-ping"));
        assert!(correct_word("/opt/my\\040dir"));
        assert!(correct_word("/a\\\\b"));
        assert!(!correct_word("/a b"));
        assert!(!correct_word("/a\\q"));
        assert!(!correct_word("/a\\101")); // 'A' must be written as is
        assert!(!correct_word("/a\\\\\\"));
        assert!(correct_word("/\\{dir\\}/x"));
        assert!(!correct_word("/\\{di/r\\}/x"));
        assert!(correct_path("relative/x")); // the kernel takes it ...
        assert!(absolute_path("relative/x").is_err()); // ... this policy does not
        assert!(correct_path("proc:/self"));
        assert!(!correct_path("x.y/z"));
    }

    #[test]
    fn numbers_and_addresses() {
        assert_eq!(number_op("58"), Ok(NumOp::Range(58, 58)));
        assert_eq!(number_op("0x10-020"), Ok(NumOp::Range(16, 16)));
        assert!(number_op("5-1").is_err());
        assert!(number_op("1x").is_err());
        assert!(ip_range("0.0.0.0-255.255.255.255").is_ok());
        assert!(ip_range("::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").is_ok());
        assert!(ip_range("::1-127.0.0.1").is_err());
        assert!(ip_range("10.0.0.2-10.0.0.1").is_err());
        assert!(ip_range("256.0.0.1").is_err());
    }

    #[test]
    fn acls() {
        assert!(acl("file execute /bin/x").is_ok());
        assert!(acl("file execute/link /bin/x").is_err());
        assert!(acl("network inet raw send @G 1").is_ok());
        assert!(acl("network inet raw connect @G 1").is_err());
        assert!(acl("network inet raw send @G 300").is_err());
        assert!(acl("network inet raw send @G 1 task.uid=0").is_err());
        assert!(acl("network unix stream connect /run/x").is_ok());
        assert!(acl("file execute bin/x").is_err());
    }
}
