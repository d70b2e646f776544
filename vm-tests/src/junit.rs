//! JUnit XML, the result format CI services read (GitLab, Jenkins, GitHub
//! test reporters): one `testsuite` per kernel × configuration, one
//! `testcase` per case, the evidence in `system-out`, a failed case's reason
//! in `failure`, an infrastructure failure (no verdict) as an `error`.
//!
//! [`check`] validates a document against the rules of the JUnit schema the
//! Jenkins xunit plugin publishes (`junit-10.xsd`, also what GitLab's and
//! GitHub's JUnit readers accept): root `testsuites`; each `testsuite` with
//! `name`, `tests`, `failures`, `errors` (and `time` in its number
//! format); each `testcase` with `name`; only `failure`, `error`, `skipped`,
//! `system-out`, `system-err` inside a case; counts that agree with the
//! cases. The schema itself is not copied into the repository: these rules
//! are written out here instead, and the tests show that each one bites.

#![forbid(unsafe_code)]

use std::time::Duration;

/// One test case.
#[derive(Debug, Clone)]
pub struct Case {
    /// `vm-tests.<kernel release>.<config>.<tool>`.
    pub classname: String,
    /// `<tool>/<case id>`.
    pub name: String,
    /// The expectation, the outcome and the evidence.
    pub system_out: String,
    /// A failed case: (message, details).
    pub failure: Option<(String, String)>,
    /// An infrastructure failure (the boot gave no verdict).
    pub error: Option<String>,
}

/// One test suite: one boot.
#[derive(Debug, Clone)]
pub struct Suite {
    /// `<kernel release>/<config>`.
    pub name: String,
    /// Boot and run time.
    pub time: Duration,
    /// Its cases.
    pub cases: Vec<Case>,
}

/// Escapes text for an attribute value or element content. Characters XML 1.0
/// cannot carry at all (most C0 controls) become U+FFFD.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

fn secs(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

/// The document.
pub fn render(suites: &[Suite]) -> String {
    let count = |s: &Suite, f: fn(&Case) -> bool| s.cases.iter().filter(|c| f(c)).count();
    let total: usize = suites.iter().map(|s| s.cases.len()).sum();
    let failures: usize = suites
        .iter()
        .map(|s| count(s, |c| c.failure.is_some()))
        .sum();
    let errors: usize = suites.iter().map(|s| count(s, |c| c.error.is_some())).sum();
    let time: Duration = suites.iter().map(|s| s.time).sum();
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str(&format!(
        "<testsuites name=\"privsep vm-tests\" tests=\"{total}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{}\">\n",
        secs(time)
    ));
    for s in suites {
        x.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"0\" time=\"{}\">\n",
            escape(&s.name),
            s.cases.len(),
            count(s, |c| c.failure.is_some()),
            count(s, |c| c.error.is_some()),
            secs(s.time)
        ));
        for c in &s.cases {
            x.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\">\n",
                escape(&c.classname),
                escape(&c.name)
            ));
            if let Some((message, details)) = &c.failure {
                x.push_str(&format!(
                    "      <failure type=\"expectation\" message=\"{}\">{}</failure>\n",
                    escape(message),
                    escape(&format!("expected: {details}"))
                ));
            }
            if let Some(e) = &c.error {
                x.push_str(&format!(
                    "      <error type=\"infrastructure\" message=\"{}\"/>\n",
                    escape(e)
                ));
            }
            x.push_str(&format!(
                "      <system-out>{}</system-out>\n",
                escape(&c.system_out)
            ));
            x.push_str("    </testcase>\n");
        }
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    x
}

/// A parsed element: name, attributes, children, whether it had text.
#[derive(Debug, Default)]
struct Elem {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<Elem>,
}

impl Elem {
    fn attr(&self, k: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    }
}

fn parse(xml: &str) -> Result<Elem, String> {
    use quick_xml::events::{BytesStart, Event};
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<Elem> = vec![Elem::default()];
    let open = |e: &BytesStart| -> Result<Elem, String> {
        let mut el = Elem {
            name: String::from_utf8_lossy(e.name().as_ref()).into_owned(),
            ..Default::default()
        };
        for a in e.attributes() {
            let a = a.map_err(|e| format!("bad attribute: {e}"))?;
            let v = a
                .unescape_value()
                .map_err(|e| format!("bad attribute value: {e}"))?;
            el.attrs.push((
                String::from_utf8_lossy(a.key.as_ref()).into_owned(),
                v.into_owned(),
            ));
        }
        Ok(el)
    };
    loop {
        match reader.read_event() {
            Err(e) => return Err(format!("not well-formed XML: {e}")),
            Ok(Event::Eof) => break,
            Ok(Event::Start(e)) => stack.push(open(&e)?),
            Ok(Event::Empty(e)) => {
                let el = open(&e)?;
                stack.last_mut().ok_or("unbalanced")?.children.push(el);
            }
            Ok(Event::End(_)) => {
                let el = stack.pop().ok_or("unbalanced end tag")?;
                stack
                    .last_mut()
                    .ok_or("unbalanced end tag")?
                    .children
                    .push(el);
            }
            Ok(Event::Text(t)) => {
                t.unescape().map_err(|e| format!("bad text: {e}"))?;
            }
            Ok(_) => {}
        }
    }
    let mut doc = stack.pop().ok_or("empty document")?;
    if !stack.is_empty() {
        return Err("unclosed element".into());
    }
    if doc.children.len() != 1 {
        return Err(format!("{} root elements", doc.children.len()));
    }
    Ok(doc.children.remove(0))
}

/// junit-10.xsd's `SUREFIRE_TIME`: digits with optional thousands commas and a fraction.
fn surefire_time(v: &str) -> bool {
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    frac.chars().all(|c| c.is_ascii_digit()) && int.chars().all(|c| c.is_ascii_digit() || c == ',')
}

fn count_attr(el: &Elem, k: &str) -> Result<usize, String> {
    let v = el
        .attr(k)
        .ok_or_else(|| format!("<{}> lacks the required attribute {k}", el.name))?;
    v.parse()
        .map_err(|_| format!("<{}> {k}={v:?} is not a count", el.name))
}

/// Validates `xml` against the JUnit schema's rules (see the module doc).
pub fn check(xml: &str) -> Result<(), String> {
    let root = parse(xml)?;
    if root.name != "testsuites" {
        return Err(format!("root element is <{}>, not <testsuites>", root.name));
    }
    let allowed_root = ["name", "time", "tests", "failures", "errors"];
    for (k, v) in &root.attrs {
        if !allowed_root.contains(&k.as_str()) {
            return Err(format!("<testsuites> has no attribute {k}"));
        }
        if k == "time" && !surefire_time(v) {
            return Err(format!("<testsuites> time={v:?} is not a SUREFIRE_TIME"));
        }
    }
    let suite_attrs = [
        "name",
        "tests",
        "failures",
        "errors",
        "group",
        "time",
        "skipped",
        "timestamp",
        "hostname",
        "id",
        "package",
        "file",
        "log",
        "url",
    ];
    for s in &root.children {
        if s.name != "testsuite" {
            return Err(format!("<{}> inside <testsuites>", s.name));
        }
        for (k, _) in &s.attrs {
            if !suite_attrs.contains(&k.as_str()) {
                return Err(format!("<testsuite> has no attribute {k}"));
            }
        }
        s.attr("name").ok_or("<testsuite> lacks name")?;
        let (tests, failures, errors) = (
            count_attr(s, "tests")?,
            count_attr(s, "failures")?,
            count_attr(s, "errors")?,
        );
        if let Some(t) = s.attr("time") {
            if !surefire_time(t) {
                return Err(format!("<testsuite> time={t:?} is not a SUREFIRE_TIME"));
            }
        }
        let cases: Vec<&Elem> = s.children.iter().filter(|c| c.name == "testcase").collect();
        for c in &s.children {
            if ![
                "testsuite",
                "properties",
                "testcase",
                "system-out",
                "system-err",
            ]
            .contains(&c.name.as_str())
            {
                return Err(format!("<{}> inside <testsuite>", c.name));
            }
        }
        let (mut f, mut e) = (0, 0);
        for c in &cases {
            c.attr("name").ok_or("<testcase> lacks name")?;
            for (k, _) in &c.attrs {
                if !["name", "time", "classname", "group"].contains(&k.as_str()) {
                    return Err(format!("<testcase> has no attribute {k}"));
                }
            }
            for x in &c.children {
                match x.name.as_str() {
                    "failure" => f += 1,
                    "error" => e += 1,
                    "skipped" | "system-out" | "system-err" => {}
                    other => return Err(format!("<{other}> inside <testcase>")),
                }
                for (k, _) in &x.attrs {
                    if !["type", "message"].contains(&k.as_str()) {
                        return Err(format!("<{}> has no attribute {k}", x.name));
                    }
                }
            }
        }
        if cases.len() != tests || f != failures || e != errors {
            return Err(format!(
                "testsuite {:?} says tests={tests} failures={failures} errors={errors} but holds {} cases, {f} failures, {e} errors",
                s.attr("name").unwrap_or(""),
                cases.len()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Suite> {
        vec![
            Suite {
                name: "6.12.1+deb13-amd64/selinux".into(),
                time: Duration::from_millis(15_250),
                cases: vec![
                    Case {
                        classname: "vm-tests.6.12.1+deb13-amd64.selinux.ping".into(),
                        name: "ping/cw-exec-sh".into(),
                        system_out: "expect: denied <EACCES> & \"logged\"\nevidence: avc:  denied { execute } \u{1b}[31m".into(),
                        failure: None,
                        error: None,
                    },
                    Case {
                        classname: "vm-tests.6.12.1+deb13-amd64.selinux.ping".into(),
                        name: "ping/cw-raw-socket4".into(),
                        system_out: "outcome: ALLOWED".into(),
                        failure: Some(("ALLOWED: fd=5".into(), "denied with EACCES".into())),
                        error: None,
                    },
                ],
            },
            Suite {
                name: "6.1.0-1-amd64/none".into(),
                time: Duration::ZERO,
                cases: vec![Case {
                    classname: "vm-tests.6.1.0-1-amd64.none".into(),
                    name: "verdict".into(),
                    system_out: "console: x".into(),
                    failure: None,
                    error: Some("infrastructure failure on kernel 6.1.0-1-amd64: timeout".into()),
                }],
            },
        ]
    }

    #[test]
    fn rendered_results_are_valid_and_carry_what_ci_shows() {
        let xml = render(&sample());
        check(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
        assert!(xml.contains("<testsuite name=\"6.12.1+deb13-amd64/selinux\" tests=\"2\" failures=\"1\" errors=\"0\""));
        assert!(xml.contains("<failure type=\"expectation\" message=\"ALLOWED: fd=5\">"));
        assert!(xml.contains("<error type=\"infrastructure\""));
        assert!(xml.contains("&lt;EACCES&gt; &amp; &quot;logged&quot;"));
        // The escape byte of a terminal sequence cannot appear in XML 1.0.
        assert!(!xml.contains('\u{1b}'));
        assert!(xml.contains(
            "<testsuites name=\"privsep vm-tests\" tests=\"3\" failures=\"1\" errors=\"1\""
        ));
    }

    #[test]
    fn each_schema_rule_rejects_its_violation() {
        let good = render(&sample());
        let broken = [
            ("<testsuites name", "<results name"),
            (" tests=\"2\" failures=\"1\"", " failures=\"1\""),
            (" tests=\"2\" failures=\"1\"", " tests=\"3\" failures=\"1\""),
            (
                " failures=\"1\" errors=\"0\"",
                " failures=\"0\" errors=\"0\"",
            ),
            (
                "<testcase classname=\"vm-tests.6.1.0-1-amd64.none\" name=\"verdict\">",
                "<testcase classname=\"x\">",
            ),
            ("time=\"15.250\"", "time=\"15s\""),
            (
                "skipped=\"0\" time=\"15.250\"",
                "skipped=\"0\" time=\"15 s\"",
            ),
            (
                "<system-out>console: x</system-out>",
                "<stdout>console: x</stdout>",
            ),
            ("<failure type=", "<failure kind="),
            ("</testsuites>", ""),
        ];
        for (from, to) in broken {
            assert!(good.contains(from), "{from}");
            let bad = good.replacen(from, to, 1);
            assert!(check(&bad).is_err(), "accepted with {from:?} -> {to:?}");
        }
    }
}
