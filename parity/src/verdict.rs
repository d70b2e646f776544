//! The verdicts and the report of both parity suites (ping's
//! `tests/parity.rs`, arping's and clockdiff's `tests/tools.rs`): each run
//! of privsep judged against each reference by what its row expects, the
//! counts, and the report file.
//!
//! A difference the row does not list as deliberate fails, and so does a
//! deliberate one that no longer differs (a stale reason would hide a
//! later change). The report holds the summary, the deliberate
//! differences, the failures, where pairs of references differ from each
//! other (first difference), and every differing run in full.

use std::fmt::Write as _;
use std::path::Path;

use crate::compare::{differences, Outcome};
use crate::table::Expect;

/// How many differing lines the report shows per comparison.
const SHOWN: usize = 8;

/// `line` with control characters shown as `<0xNN>`: the report is read on
/// terminals, and some rows print hostile names.
pub fn safe(line: &str) -> String {
    line.chars()
        .map(|c| {
            if c.is_control() && c != '\t' {
                format!("<0x{:02x}>", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// An outcome as the report shows it: the status, `|` stdout, `!` stderr.
pub fn render(o: &Outcome) -> String {
    let mut s = format!("    [{}]\n", o.status);
    for l in &o.stdout {
        let _ = writeln!(s, "    | {}", safe(l));
    }
    for l in &o.stderr {
        let _ = writeln!(s, "    ! {}", safe(l));
    }
    s
}

/// The lines of `o` holding a control character other than `allowed`.
pub fn control_lines<'a>(o: &'a Outcome, allowed: &[char]) -> Vec<&'a String> {
    o.stdout
        .iter()
        .chain(&o.stderr)
        .filter(|l| {
            l.chars()
                .any(|ch| ch.is_control() && !allowed.contains(&ch))
        })
        .collect()
}

/// One reference's run of a case, with what the row expects of privsep
/// against it.
pub struct Reference<'a> {
    pub expect: &'a Expect,
    pub outcome: &'a Outcome,
}

/// The verdicts of a suite so far.
pub struct Verdicts {
    /// The references' names (`debian 20221126`, ...), in case order.
    names: Vec<&'static str>,
    /// Pairs of references (indices into `names`) whose own differences
    /// the report lists.
    pairs: Vec<(usize, usize)>,
    /// Per reference: the cases where privsep's output matched it.
    matches: Vec<usize>,
    /// Per pair: the cases where its two references differ.
    pairs_differ: Vec<usize>,
    between: Vec<String>,
    failures: Vec<String>,
    deliberate: Vec<String>,
    report: String,
    cases: usize,
}

/// A case being judged: its failures and comparisons go into `block`,
/// which [`Verdicts::close`] files under the case's heading.
pub struct Case {
    id: String,
    block: String,
}

impl Case {
    /// A case named `id` (row and user).
    pub fn new(id: String) -> Case {
        Case {
            id,
            block: String::new(),
        }
    }
}

impl Verdicts {
    /// Verdicts against the references `names`; `pairs` of them are
    /// compared with each other too.
    pub fn new(names: &[&'static str], pairs: &[(usize, usize)]) -> Verdicts {
        Verdicts {
            names: names.to_vec(),
            pairs: pairs.to_vec(),
            matches: vec![0; names.len()],
            pairs_differ: vec![0; pairs.len()],
            between: vec![String::new(); pairs.len()],
            failures: Vec::new(),
            deliberate: Vec::new(),
            report: String::new(),
            cases: 0,
        }
    }

    /// A failure of `case` beyond the comparison (control characters, …).
    pub fn fail(&mut self, case: &mut Case, what: String) {
        let _ = writeln!(case.block, "  FAIL: {what}");
        self.failures.push(format!("{}: {what}", case.id));
    }

    /// A deliberate difference of `case` beyond the comparison (lines
    /// privsep adds on purpose).
    pub fn deliberate(&mut self, case: &Case, what: String) {
        self.deliberate.push(format!("{}: {what}", case.id));
    }

    /// Judges `privsep` against each of `refs` (in the order of the names)
    /// and notes where the pairs of references differ.
    pub fn judge(&mut self, case: &mut Case, privsep: &Outcome, refs: &[Reference<'_>]) {
        assert_eq!(refs.len(), self.names.len(), "one outcome per reference");
        self.cases += 1;
        for (p, &(a, b)) in self.pairs.iter().enumerate() {
            if let Some(first) = differences(refs[a].outcome, refs[b].outcome).first() {
                self.pairs_differ[p] += 1;
                let first =
                    first
                        .replace("reference", self.names[a])
                        .replacen("privsep", self.names[b], 1);
                let _ = writeln!(self.between[p], "{}: {first}", case.id);
            }
        }
        for (k, r) in refs.iter().enumerate() {
            let name = self.names[k];
            let id = &case.id;
            let diff = differences(r.outcome, privsep);
            let verdict = match (diff.is_empty(), r.expect) {
                (_, Expect::Unstable(why)) => {
                    self.deliberate.push(format!(
                        "{id} vs {name}: not compared, the reference varies: {why}"
                    ));
                    format!("not compared (the reference varies from run to run): {why}")
                }
                (true, Expect::Match) => {
                    self.matches[k] += 1;
                    continue;
                }
                (true, Expect::Deliberate(why)) => {
                    self.matches[k] += 1;
                    self.failures.push(format!(
                        "{id} vs {name}: listed as deliberate ({why}) but privsep now matches it"
                    ));
                    format!("STALE deliberate difference (now matches): {why}")
                }
                (false, Expect::Deliberate(why)) => {
                    self.deliberate.push(format!("{id} vs {name}: {why}"));
                    format!("deliberate: {why}")
                }
                (false, Expect::Match) => {
                    self.failures.push(format!("{id} vs {name}: {}", diff[0]));
                    "FAIL: differs".into()
                }
            };
            let block = &mut case.block;
            let _ = writeln!(block, "  vs {name}: {verdict}");
            for d in diff.iter().take(SHOWN) {
                let _ = writeln!(block, "    - {d}");
            }
            if diff.len() > SHOWN {
                let _ = writeln!(block, "    - ... {} more", diff.len() - SHOWN);
            }
            let _ = write!(block, "  {name}:\n{}", render(r.outcome));
        }
    }

    /// Files `case` in the report (if anything differed) under `command`,
    /// the command line run.
    pub fn close(&mut self, case: Case, command: &str, privsep: &Outcome) {
        if !case.block.is_empty() {
            let _ = writeln!(
                self.report,
                "== {}: {command}\n{}  privsep:\n{}",
                case.id,
                case.block,
                render(privsep)
            );
        }
    }

    /// The counts for the summary line: `privsep matches A in n, B in m;
    /// the references differ: A/B in k; D deliberate differences; F
    /// failures`.
    pub fn counts(&self) -> String {
        let matches: Vec<String> = self
            .names
            .iter()
            .zip(&self.matches)
            .map(|(n, m)| format!("{n} in {m}"))
            .collect();
        let mut s = format!("privsep matches {}", matches.join(", "));
        if !self.pairs.is_empty() {
            let differ: Vec<String> = self
                .pairs
                .iter()
                .zip(&self.pairs_differ)
                .map(|(&(a, b), n)| format!("{} / {} in {n}", self.names[a], self.names[b]))
                .collect();
            let _ = write!(s, "; the references differ: {}", differ.join(", "));
        }
        let _ = write!(
            s,
            "; {} deliberate differences; {} failures",
            self.deliberate.len(),
            self.failures.len()
        );
        s
    }

    /// The cases judged.
    pub fn cases(&self) -> usize {
        self.cases
    }

    /// Writes the report to `path` with `summary` first, prints the
    /// summary and the failures, and fails the test if there are any.
    pub fn finish(self, summary: &str, path: &Path) {
        let mut full = format!(
            "{summary}\n\n# Deliberate differences\n{}\n\n# Failures\n{}\n\n",
            self.deliberate.join("\n"),
            self.failures.join("\n")
        );
        for (&(a, b), between) in self.pairs.iter().zip(&self.between) {
            let _ = write!(
                full,
                "# Where {} and {} differ (first difference)\n{between}\n",
                self.names[a], self.names[b]
            );
        }
        let _ = write!(full, "# Every difference\n{}", self.report);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("report directory");
        }
        std::fs::write(path, &full).expect("write report");
        println!("{summary}\nreport: {}", path.display());
        for f in &self.failures {
            println!("  FAIL {f}");
        }
        assert!(
            self.failures.is_empty(),
            "{} differences not listed as deliberate (report: {})",
            self.failures.len(),
            path.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(out: &[&str], status: &str) -> Outcome {
        Outcome {
            stdout: out.iter().map(|s| s.to_string()).collect(),
            stderr: vec![],
            status: status.into(),
        }
    }

    #[test]
    fn matches_deliberate_stale_and_failures_are_counted() {
        let mut v = Verdicts::new(&["a", "b", "c"], &[(0, 1)]);
        let privsep = outcome(&["x"], "exit 0");
        let same = outcome(&["x"], "exit 0");
        let other = outcome(&["y"], "exit 0");
        let why = Expect::Deliberate("because".into());
        let mut case = Case::new("row (as user)".into());
        v.judge(
            &mut case,
            &privsep,
            &[
                Reference {
                    expect: &Expect::Match,
                    outcome: &same,
                },
                Reference {
                    expect: &why,
                    outcome: &other,
                },
                Reference {
                    expect: &why,
                    outcome: &same,
                },
            ],
        );
        v.close(case, "ping x", &privsep);
        assert_eq!(v.cases(), 1);
        assert_eq!(
            v.counts(),
            "privsep matches a in 1, b in 0, c in 1; the references differ: a / b in 1; \
             1 deliberate differences; 1 failures"
        );
        assert!(v.failures[0].contains("row (as user) vs c: listed as deliberate"));
        assert!(v.between[0].starts_with("row (as user): stdout line 1: a \"x\" / b \"y\""));
        assert!(v.report.contains("== row (as user): ping x"));

        let mut case = Case::new("two".into());
        v.judge(
            &mut case,
            &privsep,
            &[
                Reference {
                    expect: &Expect::Match,
                    outcome: &other,
                },
                Reference {
                    expect: &Expect::Match,
                    outcome: &other,
                },
                Reference {
                    expect: &Expect::Match,
                    outcome: &same,
                },
            ],
        );
        assert_eq!(v.failures.len(), 3);
        assert_eq!(v.matches, [1, 0, 2]);
    }

    #[test]
    fn an_unstable_reference_is_not_compared_but_listed() {
        let mut v = Verdicts::new(&["a", "b"], &[]);
        let privsep = outcome(&["x"], "exit 0");
        let other = outcome(&["y"], "exit 0");
        let varies = Expect::Unstable("its bytes vary".into());
        let mut case = Case::new("row (as user)".into());
        v.judge(
            &mut case,
            &privsep,
            &[
                Reference {
                    expect: &varies,
                    outcome: &other,
                },
                Reference {
                    expect: &Expect::Match,
                    outcome: &other,
                },
            ],
        );
        // The other reference is still judged: its difference fails.
        assert_eq!(v.failures.len(), 1, "{:?}", v.failures);
        assert!(v.failures[0].contains("vs b"));
        assert_eq!(v.matches, [0, 0]);
        assert!(
            v.deliberate[0].contains("vs a: not compared, the reference varies: its bytes vary")
        );
    }

    #[test]
    fn control_lines_spare_the_allowed_characters() {
        let o = outcome(&["a\tb", "c\x07", "d\x1b[2J"], "exit 0");
        assert_eq!(control_lines(&o, &['\t', '\x07']), [&o.stdout[2]]);
        assert_eq!(safe("d\x1b[2J"), "d<0x1b>[2J");
    }
}
