//! `xtask`: generates each tool's man page `privsep-<tool>(8)` and its
//! bash, zsh and fish completions from that tool's worker clap definition
//! (`worker::<tool>::cli::command()`), so that the documentation cannot
//! drift from the options the worker really parses.
//!
//! A man page is clap_mangen's rendering of the command line followed by
//! the hand-written sections in `docs/privsep-<tool>.8.extra` (the
//! launcher/worker split and its security properties), whose `@VAR@`
//! placeholders are filled from the tool's descriptor and the same
//! build-time layout as the launcher (`policy::render::tool_variables`).
//! The option descriptions are in [`options`], one table per tool.
//!
//! The tools are the descriptors' (`policy::tools::ALL`), and so is each
//! page's NAME line (`Facts::summary`). Nothing here lists them: a tool's
//! clap definition and option table are its worker module's
//! (`worker::<tool>::docs::MANUAL`, found by [`worker::docs::of`]), its
//! hand-written sections are `docs/<launcher>.8.extra`; a test fails when
//! a descriptor has either missing.
//!
//! Usage: `xtask docs OUTDIR [TOOL…]` writes, for each tool (default: every
//! tool of the descriptors), `OUTDIR/privsep-<tool>.8` and
//! `OUTDIR/completions/{privsep-<tool>.bash,_privsep-<tool>,privsep-<tool>.fish}`.

#![forbid(unsafe_code)]

mod options;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap_complete::Shell;
use policy::tools::{self, Tool};

/// What one tool's documentation is made of.
struct ToolDocs {
    tool: &'static Tool,
    /// The worker's clap definition and its option descriptions.
    manual: &'static worker::docs::Manual,
    /// The hand-written sections, in roff: `docs/<launcher>.8.extra`.
    extra: String,
}

impl ToolDocs {
    /// The documentation of `tool`: what its worker module and its
    /// `.extra` file say.
    fn of(tool: &'static Tool) -> Result<ToolDocs> {
        let Some(manual) = worker::docs::of(tool) else {
            bail!(
                "no documentation for tool {} (worker/src/{}/docs.rs)",
                tool.name,
                tool.name.replace('-', "_")
            );
        };
        let path = extra_path(tool);
        let extra =
            fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        Ok(ToolDocs {
            tool,
            manual,
            extra,
        })
    }

    fn by_name(name: &str) -> Result<ToolDocs> {
        match Tool::by_name(name) {
            Some(tool) => ToolDocs::of(tool),
            None => bail!("no tool {name} in the descriptors (policy::tools::ALL)"),
        }
    }

    /// The name users type: the launcher's, not the worker's (the launcher
    /// passes argv through untouched, so the worker sees this name too).
    fn launcher_name(&self) -> &'static str {
        self.tool.launcher_name
    }

    /// The worker's command line, as users see it: under the launcher's
    /// name, with argv\[0\], and with a description for every option.
    fn command(&self) -> clap::Command {
        let cmd = options::describe((self.manual.command)(), self.manual.options)
            .name(self.launcher_name())
            .bin_name(self.launcher_name())
            .no_binary_name(false)
            .version(env!("CARGO_PKG_VERSION"));
        // The workers collect the destination into a list so that they can
        // say what is wrong with none or several; exactly one is required.
        let cmd = if cmd.get_arguments().any(|a| a.get_id() == "destination") {
            cmd.mut_arg("destination", |a| {
                a.required(true).value_hint(clap::ValueHint::Hostname)
            })
        } else {
            cmd
        };
        if cmd.get_about().is_some() {
            cmd
        } else {
            // The NAME section (and whatis/apropos) needs a one-line description.
            cmd.about(self.tool.facts.summary)
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (outdir, names) = match args.as_slice() {
        [verb, outdir, names @ ..] if verb == "docs" => (outdir.clone(), names.to_vec()),
        _ => {
            eprintln!("usage: xtask docs OUTDIR [TOOL...]");
            return ExitCode::from(2);
        }
    };
    match generate_all(Path::new(&outdir), &names) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The hand-written sections of `tool`'s page, in the source tree.
fn extra_path(tool: &Tool) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../docs")
        .join(format!("{}.8.extra", tool.launcher_name))
}

fn generate_all(outdir: &Path, names: &[String]) -> Result<()> {
    let every: Vec<String>;
    let names = if names.is_empty() {
        every = tools::ALL.iter().map(|t| t.name.to_string()).collect();
        &every[..]
    } else {
        names
    };
    for name in names {
        generate(&ToolDocs::by_name(name)?, outdir)?;
    }
    Ok(())
}

fn generate(docs: &ToolDocs, outdir: &Path) -> Result<()> {
    let completions = outdir.join("completions");
    fs::create_dir_all(&completions)
        .with_context(|| format!("creating {}", completions.display()))?;

    // Documentation is not worth failing a package build over; the unit
    // test `every_option_is_described` is where this is an error.
    for id in options::undescribed(&docs.command()) {
        eprintln!(
            "xtask: warning: {} option {id} has no description (add it to worker/src/{}/docs.rs)",
            docs.tool.name,
            docs.tool.name.replace('-', "_")
        );
    }

    let name = docs.launcher_name();
    let page = outdir.join(format!("{name}.8"));
    fs::write(&page, man_page(docs)?).with_context(|| format!("writing {}", page.display()))?;

    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        let mut cmd = docs.command();
        clap_complete::generate_to(shell, &mut cmd, name, &completions).with_context(|| {
            format!(
                "writing the {shell} completion to {}",
                completions.display()
            )
        })?;
    }
    // clap_complete writes nothing for fish when there is no option
    // (mtr-packet): say there is nothing to complete, files included.
    let fish = completions.join(format!("{name}.fish"));
    if fs::metadata(&fish).map(|m| m.len() == 0).unwrap_or(false) {
        fs::write(
            &fish,
            format!("# {name} takes no argument.\ncomplete -c {name} -f\n"),
        )
        .with_context(|| format!("writing {}", fish.display()))?;
    }
    Ok(())
}

/// clap_mangen's sections, with the hand-written ones between OPTIONS and
/// VERSION.
fn man_page(docs: &ToolDocs) -> Result<Vec<u8>> {
    let mut man = clap_mangen::Man::new(docs.command())
        .section("8")
        .manual("System Manager's Manual")
        .source(format!("privsep {}", env!("CARGO_PKG_VERSION")));
    if let Some(date) = source_date() {
        man = man.date(date);
    }
    let extra = policy::render::render(
        &format!("docs/{}.8.extra", docs.launcher_name()),
        &docs.extra,
        policy::render::Flavor::Plain,
        &policy::render::tool_variables(docs.tool),
    )?;

    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_options_section(&mut out)?;
    out.write_all(extra.as_bytes())?;
    man.render_version_section(&mut out)?;
    Ok(out)
}

/// The page's date from `SOURCE_DATE_EPOCH` (set by dpkg-buildpackage from
/// debian/changelog), so that rebuilds are reproducible; no date otherwise.
fn source_date() -> Option<String> {
    let secs: i64 = std::env::var("SOURCE_DATE_EPOCH")
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    Some(format!("{y:04}-{m:02}-{d:02}"))
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    /// Every tool's documentation, as `xtask docs` with no tool named
    /// makes it.
    fn every() -> Vec<ToolDocs> {
        tools::ALL
            .iter()
            .map(|t| ToolDocs::of(t).unwrap_or_else(|e| panic!("{e:#}")))
            .collect()
    }

    #[test]
    fn every_option_is_described() {
        for d in every() {
            assert_eq!(
                options::undescribed(&d.command()),
                Vec::<String>::new(),
                "{}",
                d.tool.name
            );
        }
    }

    #[test]
    fn every_tool_of_the_descriptors_is_documented() {
        for t in tools::ALL {
            if let Err(e) = ToolDocs::of(t) {
                panic!("{}: {e:#}", t.name);
            }
            assert!(!t.facts.summary.is_empty(), "{}", t.name);
        }
        // And no worker module documents a tool without descriptor.
        for module in worker::docs::modules() {
            assert!(
                tools::ALL
                    .iter()
                    .any(|t| t.name.replace('-', "_") == module),
                "worker::{module} has a manual but no descriptor in tools::ALL"
            );
        }
        assert!(ToolDocs::by_name("no-such-tool").is_err());
    }

    #[test]
    fn man_pages_have_the_generated_and_the_handwritten_sections() {
        for d in every() {
            let page = String::from_utf8(man_page(&d).unwrap()).unwrap();
            assert!(
                page.starts_with(".ie \\n(.g .ds Aq") || page.contains(".TH "),
                "no title: {page}"
            );
            for section in [".SH NAME", ".SH SYNOPSIS", ".SH SECURITY"] {
                assert!(page.contains(section), "{}: missing {section}", d.tool.name);
            }
            // mtr-packet, like upstream's, takes no option at all.
            let has_options = d.command().get_arguments().next().is_some();
            assert_eq!(page.contains(".SH OPTIONS"), has_options, "{}", d.tool.name);
            assert!(
                page.contains(d.tool.worker_path),
                "{}: worker path not rendered",
                d.tool.name
            );
            assert!(!page.contains("@WORKER_PATH@"));
            assert!(page.contains(d.launcher_name()));
        }
        let arping =
            String::from_utf8(man_page(&ToolDocs::by_name("arping").unwrap()).unwrap()).unwrap();
        assert!(arping.contains(".SH \"NON-ROOT LIMITS\""), "{arping}");
        let mtr = String::from_utf8(man_page(&ToolDocs::by_name("mtr-packet").unwrap()).unwrap())
            .unwrap();
        assert!(mtr.contains(".SH REQUESTS"), "{mtr}");
    }

    #[test]
    fn every_shell_gets_a_completion_naming_the_launcher() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        generate_all(&dir, &[]).unwrap();
        for d in every() {
            let name = d.launcher_name();
            for file in [
                format!("{name}.bash"),
                format!("_{name}"),
                format!("{name}.fish"),
            ] {
                let text = fs::read_to_string(dir.join("completions").join(&file)).unwrap();
                assert!(text.contains(name), "{file} does not name {name}");
                // An option of the tool's own (clockdiff has no -c,
                // mtr-packet none at all).
                let probe = match d.tool.name {
                    "clockdiff" => Some("-o"),
                    "mtr-packet" => None,
                    _ => Some("-c"),
                };
                match probe {
                    Some(p) => assert!(text.contains(p), "{file} lacks the {p} option"),
                    None => assert!(!text.contains("--help"), "{file} offers an option"),
                }
            }
            assert!(dir.join(format!("{name}.8")).exists());
        }
    }
}
