//! arping's and clockdiff's tables (`parity/arping.json`,
//! `parity/clockdiff.json`), running one row of one implementation in the
//! [`crate::lan`] client namespace, and their normalisation.
//!
//! A row is like ping's ([`crate::table`]): arguments, who runs it, where
//! stdout goes, extra environment, a signal, and `"match"` or
//! `{"deliberate": "reason"}` against Debian 12's tool and against upstream
//! 20250605; besides, `terminal` runs it under `script(1)` (stdin and
//! stdout a terminal, both streams on it) and `unordered` sorts the lines
//! of each stream (replies from two hosts to one broadcast come in either
//! order). Every implementation is exec'd by the tool's own name through
//! a `PATH` directory of links, so argv\[0\] is the same for all three.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use hostile::User;
use regex::Regex;
use serde::Deserialize;
use testkit::netns::Netns;

use crate::compare::Outcome;
use crate::run::Implementation;
use crate::table::{As, Expect, Signal, Stdout};
use crate::verdict::{control_lines, Case, Reference, Verdicts};
use crate::ParityError;

/// How long one run may take before it is killed and reported as `timeout`
/// (clockdiff gives a silent host 11 s).
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// One invocation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolRow {
    /// Unique, for the report.
    pub name: String,
    /// The arguments after argv\[0\].
    pub args: Vec<String>,
    /// Who runs it (default both).
    #[serde(default = "crate::table::default_as", rename = "as")]
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
    /// Standard error on `/dev/full`.
    #[serde(default)]
    pub stderr_full: bool,
    /// Run under `script(1)`: a terminal on stdin, stdout and stderr.
    #[serde(default)]
    pub terminal: bool,
    /// Compare each stream's lines sorted.
    #[serde(default)]
    pub unordered: bool,
    /// Standard input's contents (a target list, say); `/dev/null` when
    /// absent.
    #[serde(default)]
    pub stdin: Option<String>,
    /// Files written (root's, readable by all) into a directory of the
    /// run's own before it starts, by name; `{dir}` in the arguments is
    /// that directory.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// Runs where no socket can be had (fping's rows): every
    /// implementation a copy without any file capability, in a network
    /// namespace of its own whose `ping_group_range` admits no group, root
    /// without any capability either (`run::no_socket_prefix`). The same in
    /// both modes.
    #[serde(default)]
    pub no_socket: bool,
    /// Standard error into standard output (`2>&1`, as Zabbix runs fping):
    /// one stream, in the order the two were written.
    #[serde(default)]
    pub merge: bool,
    /// fping's `-J`: privsep's stdout must be JSON Lines (one object a
    /// line, checked once normalised: the normalised times are strings).
    #[serde(default)]
    pub json: bool,
    /// Against Debian 12's tool (20221126; fping 5.1).
    pub debian: Expect,
    /// Against upstream iputils 20250605 (fping's latest release).
    pub upstream: Expect,
    /// What changes in fping's datagram mode (every implementation without
    /// a capability, ICMP datagram sockets), for one runner or both.
    #[serde(default)]
    pub datagram: Vec<ModeExpect>,
}

/// A row's expectations in the datagram mode, replacing `debian` and/or
/// `upstream` for `as` (both runners when absent).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModeExpect {
    #[serde(default, rename = "as")]
    pub run_as: Option<As>,
    pub debian: Option<Expect>,
    pub upstream: Option<Expect>,
}

impl ToolRow {
    /// The expectations against (Debian's, upstream's) for `who`, in the
    /// datagram mode or not.
    pub fn expectations(&self, datagram: bool, who: As) -> (&Expect, &Expect) {
        let (mut debian, mut upstream) = (&self.debian, &self.upstream);
        if datagram {
            for m in self
                .datagram
                .iter()
                .filter(|m| m.run_as.is_none_or(|a| a == who))
            {
                debian = m.debian.as_ref().unwrap_or(debian);
                upstream = m.upstream.as_ref().unwrap_or(upstream);
            }
        }
        (debian, upstream)
    }
}

/// Reads a table; names must be unique.
pub fn load(path: &Path) -> Result<Vec<ToolRow>, ParityError> {
    let text = std::fs::read_to_string(path).map_err(|source| ParityError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let rows: Vec<ToolRow> = serde_json::from_str(&text)
        .map_err(|e| ParityError::Table(format!("{}: {e}", path.display())))?;
    let mut names = std::collections::BTreeSet::new();
    for r in &rows {
        if !names.insert(r.name.as_str()) {
            return Err(ParityError::Table(format!("duplicate row {}", r.name)));
        }
        if r.run_as.is_empty() {
            return Err(ParityError::Table(format!("{}: runs as nobody", r.name)));
        }
        let modes = r.datagram.iter().flat_map(|m| [&m.debian, &m.upstream]);
        for e in [&r.debian, &r.upstream].into_iter().chain(modes.flatten()) {
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

/// The arping targets on the LAN (198.18.10.0/24) each row names: rows run
/// concurrently, so two rows must not probe the same address (a reply to
/// one arping matches another's filter). Returns the addresses used twice.
pub fn shared_targets(rows: &[ToolRow]) -> Vec<String> {
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    let mut twice = Vec::new();
    for r in rows {
        // `-s` names a source, not a target.
        let after_s = r
            .args
            .iter()
            .zip(r.args.iter().skip(1))
            .filter(|(o, _)| *o == "-s");
        let sources: Vec<&String> = after_s.map(|(_, v)| v).collect();
        let targets = r.args.iter().filter(|a| !sources.contains(a));
        for a in targets.filter(|a| a.starts_with("198.18.10.")) {
            if let Some(other) = seen.insert(a, &r.name) {
                if other != r.name {
                    twice.push(format!("{a}: {other} and {}", r.name));
                }
            }
        }
    }
    twice
}

fn rules() -> &'static [(Regex, &'static str)] {
    static RULES: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    RULES.get_or_init(|| {
        [
            // arping: a reply's time since the last probe.
            (r" [0-9]+\.[0-9]{3}ms$", " <T>ms"),
            // clockdiff's batch line: time, delta, delta1.
            (r"^[0-9]+ -?[0-9]+ -?[0-9]+$", "<T> <D> <D>"),
            // clockdiff's interactive line.
            (
                r" rtt=[0-9]+\([0-9]+\)ms/[0-9]+ms delta=-?[0-9]+ms/-?[0-9]+ms .*$",
                " rtt=<T> delta=<D> <date>",
            ),
        ]
        .into_iter()
        .map(|(re, to)| (Regex::new(re).expect("normalisation rule"), to))
        .collect()
    })
}

/// `text` with times replaced, carriage returns dropped, split into lines;
/// fping's times are [`crate::fping`]'s.
pub fn normalise_tool(tool: &str, text: &str, unordered: bool) -> Vec<String> {
    let mut lines: Vec<String> = text
        .replace('\r', "")
        .lines()
        .map(|line| match tool {
            "fping" => crate::fping::normalise_line(line),
            _ => rules().iter().fold(line.to_string(), |l, (re, to)| {
                re.replace_all(&l, *to).into_owned()
            }),
        })
        .collect();
    if unordered {
        lines.sort();
    }
    lines
}

/// [`normalise_tool`] for arping and clockdiff.
pub fn normalise(text: &str, unordered: bool) -> Vec<String> {
    normalise_tool("arping", text, unordered)
}

/// A word for a POSIX shell, single-quoted.
fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// Runs `row` of `tool` by `imp` as `who` in `ns`.
pub fn run(
    ns: &Netns,
    tool: &str,
    imp: &Implementation,
    row: &ToolRow,
    who: As,
    user: &User,
) -> Result<Outcome, ParityError> {
    let redirect = match row.stdout {
        Stdout::Pipe => "",
        Stdout::Full => " >/dev/full",
        Stdout::Closed => " >&-",
    };
    let files = RunFiles::new(imp, row, who)?;
    let words: Vec<String> = row
        .args
        .iter()
        .map(|a| quote(&a.replace("{dir}", &files.dir.display().to_string())))
        .collect();
    let err_redirect = match (row.stderr_full, row.merge) {
        (true, _) => " 2>/dev/full",
        (false, true) => " 2>&1",
        (false, false) => "",
    };
    let line = format!("exec {tool} {}{redirect}{err_redirect}", words.join(" "));
    let links_dir = if row.no_socket { &imp.bare } else { &imp.dir };
    let mut cmd = Command::new("ip");
    // Default actions for every signal: the suite may have inherited
    // ignored ones (SIGINT, SIGQUIT), which exec keeps and a shell cannot
    // reset, and the signal rows test the tools' own handling.
    cmd.args(["netns", "exec", ns.name(), "env", "--default-signal"]);
    if row.no_socket {
        cmd.args(crate::run::no_socket_prefix(who));
    }
    if who == As::User {
        cmd.arg("setpriv").args([
            &format!("--reuid={}", user.uid),
            &format!("--regid={}", user.gid),
            "--clear-groups",
            "--inh-caps=-all",
            "--",
        ]);
    }
    if row.terminal {
        // script(1) forks the shell on a new terminal; a signal goes to
        // script, which passes it on to the terminal's foreground process.
        cmd.args(["script", "-qefc", &line, "/dev/null"]);
    } else {
        // `ip netns exec`, `setpriv` and `exec` replace themselves: the pid
        // spawned is the tool's, for signals.
        cmd.args(["bash", "-c", &line]);
    }
    cmd.env_clear()
        .env(
            "PATH",
            format!("{}:/usr/sbin:/usr/bin:/sbin:/bin", links_dir.display()),
        )
        .env("SHELL", "/bin/bash")
        .env("LC_ALL", "C")
        .env("TZ", "UTC")
        .envs(&row.env)
        .stdin(if row.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let what = |verb: &str, e: std::io::Error| ParityError::Command {
        what: format!("{verb} {} {} {}", imp.name, tool, row.name),
        detail: e.to_string(),
    };
    let mut child = cmd.spawn().map_err(|e| what("run", e))?;
    if let (Some(text), Some(mut pipe)) = (&row.stdin, child.stdin.take()) {
        // A thread of its own: a tool that reads late must not block the
        // suite; it closes the pipe when done (end of file).
        let text = text.clone();
        std::thread::spawn(move || {
            use std::io::Write;
            let _ = pipe.write_all(text.as_bytes());
        });
    }
    let reader = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            buf
        })
    };
    let out = reader(Box::new(child.stdout.take().expect("piped")));
    let err = reader(Box::new(child.stderr.take().expect("piped")));
    let start = Instant::now();
    let mut signal = match &row.signal {
        Some(s) => Some((
            crate::run::signal_number(&s.name)?,
            Duration::from_millis(s.after_ms),
        )),
        None => None,
    };
    let status = loop {
        if let Some(st) = child.try_wait().map_err(|e| what("wait", e))? {
            break match st.code() {
                Some(code) => format!("exit {code}"),
                None => format!("signal {}", st.signal().unwrap_or(0)),
            };
        }
        if let Some((sig, after)) = signal {
            if start.elapsed() >= after {
                let _ = hostile::sys::kill(child.id() as i32, sig);
                signal = None;
            }
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break "timeout".into();
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let text = |h: std::thread::JoinHandle<Vec<u8>>| {
        String::from_utf8_lossy(&h.join().unwrap_or_default()).into_owned()
    };
    drop(files);
    Ok(Outcome {
        stdout: normalise_tool(tool, &text(out), row.unordered),
        stderr: normalise_tool(tool, &text(err), row.unordered),
        status,
    })
}

/// A row's files for one run, in a directory of the root of
/// [`Links`](crate::run::Links) (root's, under /tmp, readable by the test
/// user); removed on drop.
struct RunFiles {
    dir: PathBuf,
}

impl RunFiles {
    fn new(imp: &Implementation, row: &ToolRow, who: As) -> Result<RunFiles, ParityError> {
        use std::os::unix::fs::PermissionsExt;
        let root = imp.dir.parent().expect("the links' root");
        let dir = root
            .join("files")
            .join(format!("{}-{}-{}", row.name, imp.name, who.name()));
        let files = RunFiles { dir };
        if row.files.is_empty() {
            return Ok(files);
        }
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| ParityError::Io { path, source }
        };
        std::fs::create_dir_all(&files.dir).map_err(io(&files.dir))?;
        let parent = files.dir.parent().expect("a parent");
        for d in [parent, files.dir.as_path()] {
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).map_err(io(d))?;
        }
        for (name, text) in &row.files {
            let path = files.dir.join(name);
            std::fs::write(&path, text).map_err(io(&path))?;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))
                .map_err(io(&path))?;
        }
        Ok(files)
    }
}

impl Drop for RunFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `jobs` on `threads` threads at once, each job by `run` (a job is
/// what must run alone: a row, or a row as one user); every job's results,
/// in the jobs' order.
pub fn run_jobs<J: Sync, R: Send>(
    jobs: &[J],
    threads: usize,
    run: impl Fn(&J) -> Vec<R> + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<(usize, Vec<R>)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = jobs.get(i) else { break };
                let results = run(job);
                done.lock().expect("results").push((i, results));
            });
        }
    });
    let mut done = done.into_inner().expect("results");
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().flat_map(|(_, r)| r).collect()
}

/// The line a suite prints when a row's runs as `who` are done: each
/// implementation's status.
pub fn progress(tool: &str, row: &ToolRow, who: As, outcomes: &[Outcome]) {
    let statuses: Vec<&str> = outcomes.iter().map(|o| o.status.as_str()).collect();
    eprintln!(
        "parity: {tool} {} as {}: {}",
        row.name,
        who.name(),
        statuses.join(" / ")
    );
}

/// Judges one row of `tool` as `who`: privsep's outcome (the first of
/// `outcomes`) against Debian's and upstream's (the next two), with the
/// row's expectations for `who` (in the datagram mode or not); beyond the
/// references, privsep puts no control character but the tab on a
/// terminal, whatever the names it prints.
pub fn judge(
    verdicts: &mut Verdicts,
    tool: &str,
    row: &ToolRow,
    who: As,
    outcomes: &[Outcome],
    datagram: bool,
) {
    let mut case = Case::new(format!("{tool} {} (as {})", row.name, who.name()));
    let [privsep, debian, upstream] = outcomes else {
        panic!("{}: {} outcomes", row.name, outcomes.len());
    };
    let raw = control_lines(privsep, &['\t']);
    if !raw.is_empty() {
        verdicts.fail(
            &mut case,
            format!("privsep printed control characters: {raw:?}"),
        );
    }
    if row.json {
        let bad = not_json_lines(&privsep.stdout);
        if privsep.stdout.is_empty() || !bad.is_empty() {
            verdicts.fail(
                &mut case,
                format!("privsep's -J output is not JSON, one object a line: {bad:?}"),
            );
        }
    }
    let (expect_debian, expect_upstream) = row.expectations(datagram, who);
    let refs = [
        Reference {
            expect: expect_debian,
            outcome: debian,
        },
        Reference {
            expect: expect_upstream,
            outcome: upstream,
        },
    ];
    verdicts.judge(&mut case, privsep, &refs);
    verdicts.close(case, &format!("{tool} {}", row.args.join(" ")), privsep);
}

/// The lines that are not one JSON object each.
pub fn not_json_lines(lines: &[String]) -> Vec<&String> {
    lines
        .iter()
        .filter(|l| !serde_json::from_str::<serde_json::Value>(l).is_ok_and(|v| v.is_object()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_check_can_fail() {
        let lines = |t: &str| normalise_tool("fping", t, false);
        let good = lines(
            "{\"resp\": {\"host\": \"h\", \"seq\": 0, \"size\": 64, \"rtt\": 0.052}}\n\
             {\"vSum\": {\"host\": \"h\", \"values\": [0.037, null]}}\n",
        );
        assert!(not_json_lines(&good).is_empty(), "{good:?}");
        // 5.5's raw names, text, a bare value.
        for bad in [
            "{\"resp\": {\"host\": \"evil\u{1b}[7mname\", \"seq\": 0}}",
            "{\"resp\": {\"host\": \"a\"b\", \"seq\": 0}}",
            "Enough hosts reachable (required: 1, reachable: 1)",
            "[1]",
        ] {
            assert_eq!(not_json_lines(&lines(bad)).len(), 1, "{bad}");
        }
    }

    #[test]
    fn times_are_normalised_and_nothing_else() {
        assert_eq!(
            normalise(
                "Unicast reply from 198.18.10.2 [02:00:00:00:0A:02]  0.558ms\r\n",
                false
            ),
            ["Unicast reply from 198.18.10.2 [02:00:00:00:0A:02]  <T>ms"]
        );
        assert_eq!(normalise("1796588352 0 -3\n", false), ["<T> <D> <D>"]);
        assert_eq!(
            normalise(
                "host=h1 rtt=1(0)ms/0ms delta=0ms/-1ms Sun Dec  6 20:06:01 2026",
                false
            ),
            ["host=h1 rtt=<T> delta=<D> <date>"]
        );
        assert_eq!(
            normalise("Sent 2 probes (1 broadcast(s))", false),
            ["Sent 2 probes (1 broadcast(s))"]
        );
        assert_eq!(normalise("b\na\n", true), ["a", "b"]);
    }

    #[test]
    fn datagram_expectations_replace_the_row_s_for_their_runner() {
        let rows: Vec<ToolRow> = serde_json::from_str(
            r#"[{"name":"a","args":[],"debian":"match","upstream":{"deliberate":"u"},
                 "datagram":[{"as":"user","debian":{"deliberate":"d"}}]}]"#,
        )
        .unwrap();
        let d = Expect::Deliberate("d".into());
        let u = Expect::Deliberate("u".into());
        assert_eq!(rows[0].expectations(false, As::User), (&Expect::Match, &u));
        assert_eq!(rows[0].expectations(true, As::Root), (&Expect::Match, &u));
        assert_eq!(rows[0].expectations(true, As::User), (&d, &u));
    }

    #[test]
    fn quoting_survives_the_shell() {
        assert_eq!(quote("it's"), r"'it'\''s'");
    }
}
