//! The invocation table (`parity/table.json`): one row per invocation, each
//! with what it runs and what it expects against each reference. A row
//! expects `"match"` (same stdout and stderr lines, times normalised, and
//! the same exit code) or `{"deliberate": "reason"}`: a difference privsep
//! makes on purpose, reported with its reason.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::ParityError;

/// Who runs an invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum As {
    /// uid 0 with every capability.
    Root,
    /// The unprivileged test user (`PRIVSEP_TEST_USER`).
    User,
}

impl As {
    /// The name used in the report.
    pub fn name(self) -> &'static str {
        match self {
            As::Root => "root",
            As::User => "user",
        }
    }
}

/// Where the invocation's standard output goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Stdout {
    /// A pipe the suite reads.
    #[default]
    Pipe,
    /// `/dev/full`: every write fails with ENOSPC.
    Full,
    /// Closed before exec: every write fails with EBADF.
    Closed,
}

/// What a row expects against one reference.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    /// Same lines and exit code.
    Match,
    /// A difference on purpose, with its reason.
    Deliberate(String),
    /// Not compared: the reference's own output varies from run to run
    /// here (its bug, named in the reason). privsep is judged against the
    /// other references; the report lists the row among the differences.
    Unstable(String),
}

/// A signal sent some time after the start.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Signal {
    /// `INT`, `ALRM`, `TERM`, `QUIT`.
    pub name: String,
    /// Milliseconds after the start.
    pub after_ms: u64,
}

/// Lines privsep prints on purpose in addition to the references' output
/// (anywhere in stdout or stderr): each is removed once from privsep's
/// output before the comparison, which must then match as the row says.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Extra {
    /// The exact lines.
    pub lines: Vec<String>,
    /// Why privsep prints them.
    pub why: String,
}

impl Extra {
    /// Removes each line once from `stdout`/`stderr`; the lines not found.
    pub fn remove_from(&self, stdout: &mut Vec<String>, stderr: &mut Vec<String>) -> Vec<String> {
        let mut missing = Vec::new();
        for line in &self.lines {
            if let Some(i) = stdout.iter().position(|l| l == line) {
                stdout.remove(i);
            } else if let Some(i) = stderr.iter().position(|l| l == line) {
                stderr.remove(i);
            } else {
                missing.push(line.clone());
            }
        }
        missing
    }
}

/// One invocation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Row {
    /// Unique, for the report.
    pub name: String,
    /// The arguments after argv\[0\].
    pub args: Vec<String>,
    /// argv\[0\], whose last component is `ping`, `ping4` or `ping6` (the
    /// link run, found through PATH, so that every implementation sees
    /// the same argv\[0\], `/usr/bin/ping` say).
    #[serde(default = "default_argv0")]
    pub argv0: String,
    /// Who runs it (default both).
    #[serde(default = "default_as", rename = "as")]
    pub run_as: Vec<As>,
    /// Where stdout goes.
    #[serde(default)]
    pub stdout: Stdout,
    /// Extra environment variables.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// A signal to send.
    #[serde(default)]
    pub signal: Option<Signal>,
    /// Runs the three implementations one after the other, with the
    /// client's route cache flushed before each (path MTU rows).
    #[serde(default)]
    pub serial: bool,
    /// With `serial`: a pause before each run. The kernel keeps a flow label
    /// for 6 s after its holder exits (-F), and limits the ICMP
    /// errors an unreachable or prohibit route sends per host with a global
    /// token bucket (`net.ipv4.route.error_cost`, not per namespace, so the
    /// suite leaves it alone); a second between runs refills it.
    #[serde(default)]
    pub pause_ms: u64,
    /// Runs where no socket can be had: every implementation a copy
    /// without any file capability, in a network namespace of its own
    /// whose `ping_group_range` admits no group, root without any
    /// capability either (`run::no_socket_prefix`). The same in both
    /// modes: iputils' `create_socket` refusal after its command line.
    #[serde(default)]
    pub no_socket: bool,
    /// privsep's stdout must be JSON Lines: every line one well-formed JSON
    /// value (whatever the references print).
    #[serde(default)]
    pub json: bool,
    /// Lines privsep adds on purpose.
    #[serde(default)]
    pub privsep_extra: Option<Extra>,
    /// Against Debian 12's iputils (20221126).
    pub debian: Expect,
    /// Against upstream iputils 20240905.
    pub upstream: Expect,
    /// Against upstream's latest release, iputils 20250605.
    pub latest: Expect,
    /// What changes in the datagram mode (every implementation without a
    /// capability, ICMP datagram sockets), for one runner or both.
    #[serde(default)]
    pub datagram: Vec<ModeExpect>,
}

/// A row's expectations in the datagram mode, replacing `debian`,
/// `upstream` and/or `latest` for `run_as` (both runners when absent), with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModeExpect {
    #[serde(default, rename = "as")]
    pub run_as: Option<As>,
    pub debian: Option<Expect>,
    pub upstream: Option<Expect>,
    pub latest: Option<Expect>,
    /// Why the mode changes the expectation.
    pub why: String,
}

impl Row {
    /// The expectations against Debian's, upstream 20240905 and upstream
    /// 20250605 for `who`, in the datagram mode or not.
    pub fn expectations(&self, datagram: bool, who: As) -> [&Expect; 3] {
        let mut e = [&self.debian, &self.upstream, &self.latest];
        if datagram {
            for m in self
                .datagram
                .iter()
                .filter(|m| m.run_as.is_none_or(|a| a == who))
            {
                for (slot, new) in e.iter_mut().zip([&m.debian, &m.upstream, &m.latest]) {
                    *slot = new.as_ref().unwrap_or(*slot);
                }
            }
        }
        e
    }
}

fn default_argv0() -> String {
    "ping".into()
}

/// Both runners: a row's default (the tool tables' too).
pub(crate) fn default_as() -> Vec<As> {
    vec![As::Root, As::User]
}

/// The table, checked: unique names, known argv\[0\], at least one runner.
pub fn parse(text: &str) -> Result<Vec<Row>, ParityError> {
    let rows: Vec<Row> =
        serde_json::from_str(text).map_err(|e| ParityError::Table(e.to_string()))?;
    let mut names = std::collections::BTreeSet::new();
    for r in &rows {
        if !names.insert(r.name.as_str()) {
            return Err(ParityError::Table(format!("duplicate row {}", r.name)));
        }
        let last = r.argv0.rsplit('/').next().unwrap_or_default();
        if !["ping", "ping4", "ping6"].contains(&last) {
            return Err(ParityError::Table(format!(
                "{}: argv0 {:?} does not end in ping, ping4 or ping6",
                r.name, r.argv0
            )));
        }
        if r.pause_ms > 0 && !r.serial {
            return Err(ParityError::Table(format!(
                "{}: pause_ms needs serial",
                r.name
            )));
        }
        if r.run_as.is_empty() {
            return Err(ParityError::Table(format!("{}: nobody runs it", r.name)));
        }
        if r.privsep_extra
            .as_ref()
            .is_some_and(|x| x.lines.is_empty() || x.why.trim().is_empty())
        {
            return Err(ParityError::Table(format!(
                "{}: privsep_extra needs lines and its reason",
                r.name
            )));
        }
        let modes = r
            .datagram
            .iter()
            .flat_map(|m| [&m.debian, &m.upstream, &m.latest])
            .flatten();
        for e in [&r.debian, &r.upstream, &r.latest].into_iter().chain(modes) {
            if matches!(e, Expect::Deliberate(why) | Expect::Unstable(why) if why.trim().is_empty())
            {
                return Err(ParityError::Table(format!(
                    "{}: a deliberate difference needs its reason",
                    r.name
                )));
            }
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rows_with_defaults_and_expectations() {
        let rows = parse(
            r#"[{"name":"a","args":["-c","1","x"],"debian":"match",
                 "upstream":{"deliberate":"because"},"latest":"match"}]"#,
        )
        .unwrap();
        assert_eq!(rows[0].argv0, "ping");
        assert_eq!(rows[0].run_as, vec![As::Root, As::User]);
        assert_eq!(rows[0].debian, Expect::Match);
        assert_eq!(rows[0].upstream, Expect::Deliberate("because".into()));
    }

    #[test]
    fn refuses_duplicates_unknown_fields_and_empty_reasons() {
        let row = r#"{"name":"a","args":[],"debian":"match","upstream":"match","latest":"match"}"#;
        assert!(parse(&format!("[{row},{row}]")).is_err());
        assert!(parse(
            r#"[{"name":"a","args":[],"debian":"match","upstream":"match","latest":"match","x":1}]"#
        )
        .is_err());
        assert!(parse(
            r#"[{"name":"a","args":[],"debian":{"deliberate":" "},"upstream":"match","latest":"match"}]"#
        )
        .is_err());
        assert!(parse(
            r#"[{"name":"a","args":[],"argv0":"sh","debian":"match","upstream":"match","latest":"match"}]"#
        )
        .is_err());
    }

    #[test]
    fn extra_lines_are_removed_once_and_missing_ones_named() {
        let x = Extra {
            lines: vec!["a".into(), "b".into(), "c".into()],
            why: "w".into(),
        };
        let (mut out, mut err) = (vec!["a".into(), "a".into()], vec!["b".into()]);
        assert_eq!(x.remove_from(&mut out, &mut err), vec!["c".to_string()]);
        assert_eq!((out, err), (vec!["a".to_string()], vec![]));
    }

    #[test]
    fn the_suite_table_parses() {
        let rows = parse(include_str!("../table.json")).unwrap();
        assert!(rows.len() >= 50, "{} rows", rows.len());
    }
}
