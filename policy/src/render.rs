//! Renders the LSM policy templates with the install layout.
//!
//! Templates name paths as `@VAR@`; the value is escaped for the file it goes
//! into ([`Flavor`]): SELinux file contexts are regular expressions, TOMOYO
//! encodes bytes outside printable ASCII as `\ooo`. The variables are the
//! ones in [`crate::layout`], so the policies always name the paths the
//! launcher was built with and `make install` installed to.

#![forbid(unsafe_code)]

use crate::{layout, PolicyError};

/// How a value is escaped in the rendered file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// As is.
    Plain,
    /// A POSIX extended regular expression, as in a refpolicy `.fc` file.
    SelinuxFc,
    /// A TOMOYO 2.6 word (`\\` for backslash, `\ooo` outside 0x21..=0x7e).
    Tomoyo,
}

impl Flavor {
    /// Parses the command-line name of a flavor.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "plain" => Some(Flavor::Plain),
            "fc" => Some(Flavor::SelinuxFc),
            "tomoyo" => Some(Flavor::Tomoyo),
            _ => None,
        }
    }

    fn escape(self, value: &str) -> String {
        match self {
            Flavor::Plain => value.to_string(),
            Flavor::SelinuxFc => value
                .chars()
                .flat_map(|c| {
                    let special = ".^$*+?()[]{}|\\".contains(c);
                    special.then_some('\\').into_iter().chain([c])
                })
                .collect(),
            Flavor::Tomoyo => value
                .bytes()
                .map(|b| match b {
                    b'\\' => "\\\\".to_string(),
                    0x21..=0x7e => (b as char).to_string(),
                    _ => format!("\\{b:03o}"),
                })
                .collect(),
        }
    }
}

/// The variables a template may use, with their values from the layout.
pub fn variables() -> [(&'static str, &'static str); 5] {
    [
        ("PREFIX", layout::PREFIX),
        ("BINDIR", layout::BINDIR),
        ("LIBEXECDIR", layout::LIBEXECDIR),
        ("LAUNCHER_PATH", layout::LAUNCHER_PATH),
        ("WORKER_PATH", layout::WORKER_PATH),
    ]
}

/// Replaces every `@VAR@` in `template` (named `name` in errors) with the
/// layout's value, escaped for `flavor`. An unknown `@VAR@` is an error so
/// that a typo cannot leave a path unrendered.
pub fn render(name: &str, template: &str, flavor: Flavor) -> Result<String, PolicyError> {
    let vars = variables();
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('@') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let end = after.find('@');
        let candidate = end.map(|e| &after[..e]);
        match candidate {
            Some(var)
                if !var.is_empty() && var.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') =>
            {
                let (_, value) =
                    vars.iter()
                        .find(|(n, _)| *n == var)
                        .ok_or_else(|| PolicyError::Template {
                            template: name.to_string(),
                            var: var.to_string(),
                        })?;
                out.push_str(&flavor.escape(value));
                rest = &after[var.len() + 1..];
            }
            _ => {
                out.push('@');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutes_layout_paths() {
        let out = render(
            "t",
            "exec @WORKER_PATH@ from @LAUNCHER_PATH@\n",
            Flavor::Plain,
        )
        .unwrap();
        assert_eq!(
            out,
            format!(
                "exec {} from {}\n",
                layout::WORKER_PATH,
                layout::LAUNCHER_PATH
            )
        );
    }

    #[test]
    fn unknown_variable_is_an_error_and_lone_ats_stay() {
        assert!(render("t", "@NOPE@", Flavor::Plain).is_err());
        assert_eq!(
            render("t", "user@host a@b", Flavor::Plain).unwrap(),
            "user@host a@b"
        );
    }

    #[test]
    fn escapes_per_flavor() {
        assert_eq!(Flavor::SelinuxFc.escape("/opt/a.b+c"), "/opt/a\\.b\\+c");
        assert_eq!(
            Flavor::Tomoyo.escape("/opt/my dir\\x"),
            "/opt/my\\040dir\\\\x"
        );
        assert_eq!(Flavor::Plain.escape("/a b"), "/a b");
    }
}
