//! The two outputs: `results.json` (serde_json values) and the
//! side-by-side table on stdout; plus the summary statistics both are made
//! of.

#![forbid(unsafe_code)]

use std::fmt::Write as _;

/// A JSON value: serde_json's, with objects in insertion order (feature
/// `preserve_order`) so that the file reads top-down.
pub use serde_json::Value as Json;

/// A new, empty object.
pub fn obj() -> Json {
    Json::Object(serde_json::Map::new())
}

/// A string value from anything string-like.
pub fn string(s: impl AsRef<str>) -> Json {
    Json::String(s.as_ref().to_string())
}

/// What the bench does with its values beyond serde_json's own API.
pub trait JsonExt {
    /// Adds a member to an object (replacing one of the same name).
    fn push(&mut self, key: &str, value: Json);
    /// Member lookup by a `/`-separated path of object keys.
    fn at(&self, path: &str) -> Option<&Json>;
    /// The number at `path`.
    fn num(&self, path: &str) -> Option<f64>;
    /// The string at `path`.
    fn text(&self, path: &str) -> Option<&str>;
    /// Pretty-printed with a final newline.
    fn to_pretty(&self) -> String;
}

impl JsonExt for Json {
    fn push(&mut self, key: &str, value: Json) {
        if let Json::Object(members) = self {
            members.insert(key.to_string(), value);
        }
    }

    fn at(&self, path: &str) -> Option<&Json> {
        path.split('/').try_fold(self, |v, key| v.get(key))
    }

    fn num(&self, path: &str) -> Option<f64> {
        self.at(path)?.as_f64()
    }

    fn text(&self, path: &str) -> Option<&str> {
        self.at(path)?.as_str()
    }

    fn to_pretty(&self) -> String {
        let mut out = serde_json::to_string_pretty(self).unwrap_or_else(|_| "null".into());
        out.push('\n');
        out
    }
}

/// Summary statistics of a sample.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub samples: Vec<f64>,
    pub median: Option<f64>,
    /// Nearest-rank 90th percentile.
    pub p90: Option<f64>,
    pub mean: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl Stats {
    pub fn of(samples: &[f64]) -> Stats {
        let mut s: Vec<f64> = samples.iter().copied().filter(|v| v.is_finite()).collect();
        s.sort_by(|a, b| a.total_cmp(b));
        let n = s.len();
        if n == 0 {
            return Stats::default();
        }
        let median = if n % 2 == 1 {
            s[n / 2]
        } else {
            (s[n / 2 - 1] + s[n / 2]) / 2.0
        };
        let rank = ((0.9 * n as f64).ceil() as usize).clamp(1, n);
        Stats {
            median: Some(median),
            p90: Some(s[rank - 1]),
            mean: Some(s.iter().sum::<f64>() / n as f64),
            min: Some(s[0]),
            max: Some(s[n - 1]),
            samples: samples.to_vec(),
        }
    }

    /// `{runs, median_<unit>, p90_<unit>, …, samples_<unit>}`.
    pub fn to_json(&self, unit: &str) -> Json {
        let mut o = obj();
        let opt = |v: Option<f64>| v.map_or(Json::Null, Json::from);
        o.push("runs", Json::from(self.samples.len() as i64));
        o.push(&format!("median_{unit}"), opt(self.median));
        o.push(&format!("p90_{unit}"), opt(self.p90));
        o.push(&format!("mean_{unit}"), opt(self.mean));
        o.push(&format!("min_{unit}"), opt(self.min));
        o.push(&format!("max_{unit}"), opt(self.max));
        o.push(
            &format!("samples_{unit}"),
            Json::Array(
                self.samples
                    .iter()
                    .map(|&v| Json::from(round(v, 4)))
                    .collect(),
            ),
        );
        o
    }
}

/// Rounds to `digits` decimals (keeps the JSON short without losing meaning).
pub fn round(v: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (v * f).round() / f
}

/// privsep / iputils, when both exist and the divisor is not zero.
pub fn ratio(privsep: Option<f64>, iputils: Option<f64>) -> Option<f64> {
    match (privsep, iputils) {
        (Some(p), Some(i)) if i != 0.0 => Some(p / i),
        _ => None,
    }
}

/// Which way a target goes.
#[derive(Debug, Clone, Copy)]
pub enum Goal {
    /// The ratio must be at most this.
    AtMost(f64),
    /// The ratio must be at least this.
    AtLeast(f64),
}

/// One row of the table.
pub struct Row {
    pub label: String,
    pub privsep: Option<f64>,
    pub iputils: Option<f64>,
    pub decimals: usize,
    pub goal: Option<Goal>,
}

impl Row {
    pub fn ratio(&self) -> Option<f64> {
        ratio(self.privsep, self.iputils)
    }

    /// "met", "MISSED" or "n/a" (a figure is missing).
    pub fn verdict(&self) -> &'static str {
        match (self.goal, self.ratio()) {
            (None, _) => "",
            (Some(_), None) => "n/a",
            (Some(Goal::AtMost(t)), Some(r)) if r <= t => "met",
            (Some(Goal::AtLeast(t)), Some(r)) if r >= t => "met",
            (Some(_), Some(_)) => "MISSED",
        }
    }

    pub fn target_text(&self) -> String {
        match self.goal {
            None => String::new(),
            Some(Goal::AtMost(t)) => format!("<= {}", trim_num(t)),
            Some(Goal::AtLeast(t)) => format!(">= {}", trim_num(t)),
        }
    }
}

fn trim_num(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The table as Markdown (readable in a terminal, pasteable into the docs).
pub fn table(rows: &[Row]) -> String {
    let cell = |v: Option<f64>, d: usize| v.map_or("—".to_string(), |v| format!("{v:.d$}"));
    let lines: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            [
                r.label.replace('|', "\\|"),
                cell(r.privsep, r.decimals),
                cell(r.iputils, r.decimals),
                cell(r.ratio(), 2),
                r.target_text(),
                r.verdict().to_string(),
            ]
        })
        .collect();
    let head = ["figure", "privsep", "iputils", "ratio", "target", ""];
    let mut width = head.map(|h| h.chars().count());
    for l in &lines {
        for (w, c) in width.iter_mut().zip(l) {
            *w = (*w).max(c.chars().count());
        }
    }
    let fmt = |cells: [&str; 6]| -> String {
        let mut s = String::from("|");
        for (n, (c, w)) in cells.iter().zip(width).enumerate() {
            let pad = w - c.chars().count();
            if n == 0 || n >= 4 {
                let _ = write!(s, " {c}{} |", " ".repeat(pad));
            } else {
                let _ = write!(s, " {}{c} |", " ".repeat(pad));
            }
        }
        s.push('\n');
        s
    };
    let mut out = fmt(head);
    let rule: Vec<String> = width
        .iter()
        .enumerate()
        .map(|(n, &w)| {
            if n == 0 || n >= 4 {
                "-".repeat(w)
            } else {
                format!("{}:", "-".repeat(w - 1))
            }
        })
        .collect();
    out.push_str(&fmt([
        &rule[0], &rule[1], &rule[2], &rule[3], &rule[4], &rule[5],
    ]));
    for l in &lines {
        out.push_str(&fmt([&l[0], &l[1], &l[2], &l[3], &l[4], &l[5]]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_median_and_p90() {
        let s = Stats::of(&[5.0, 1.0, 3.0, 2.0, 4.0, 6.0, 7.0, 8.0, 9.0, 10.0]);
        assert_eq!(s.median, Some(5.5));
        assert_eq!(s.p90, Some(9.0));
        assert_eq!(Stats::of(&[2.0, 1.0, 3.0]).median, Some(2.0));
        assert_eq!(Stats::of(&[]).median, None);
    }

    #[test]
    fn json_escapes_and_nests() {
        let mut o = obj();
        o.push("a\"b", Json::from("x\ny"));
        o.push("n", Json::Array(vec![Json::from(1), Json::from(f64::NAN)]));
        assert_eq!(
            o.to_pretty(),
            "{\n  \"a\\\"b\": \"x\\ny\",\n  \"n\": [\n    1,\n    null\n  ]\n}\n"
        );
        assert_eq!(o.text("a\"b"), Some("x\ny"));
    }

    #[test]
    fn verdicts_follow_the_goal() {
        let row = |p, i, goal| Row {
            label: String::new(),
            privsep: p,
            iputils: i,
            decimals: 1,
            goal: Some(goal),
        };
        assert_eq!(
            row(Some(1.0), Some(1.0), Goal::AtMost(1.1)).verdict(),
            "met"
        );
        assert_eq!(
            row(Some(2.0), Some(1.0), Goal::AtMost(1.1)).verdict(),
            "MISSED"
        );
        assert_eq!(
            row(Some(0.9), Some(1.0), Goal::AtLeast(1.0)).verdict(),
            "MISSED"
        );
        assert_eq!(row(None, Some(1.0), Goal::AtLeast(1.0)).verdict(), "n/a");
    }
}
