//! `xtask`: generates privsep-ping's man page `privsep-ping(8)` and its bash,
//! zsh and fish completions from the worker's clap definition, so that the
//! documentation cannot drift from the options the worker really parses.
//!
//! The man page is clap_mangen's rendering of the command line followed by
//! the hand-written sections in `docs/privsep-ping.8.extra` (the
//! launcher/worker split and its security properties), whose `@VAR@`
//! placeholders are filled from the same build-time layout as the launcher.
//!
//! The options are the worker's own (`worker::ping::cli::command()`), with the
//! descriptions in [`options`].
//!
//! Usage: `xtask docs OUTDIR` writes `OUTDIR/privsep-ping.8` and
//! `OUTDIR/completions/{privsep-ping.bash,_privsep-ping,privsep-ping.fish}`.

#![forbid(unsafe_code)]

mod options;

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap_complete::Shell;

/// The name users type: the launcher's, not the worker's (the launcher
/// passes argv through untouched, so the worker sees this name too).
const NAME: &str = "privsep-ping";

/// The hand-written man page sections, in roff.
const EXTRA: &str = include_str!("../../docs/privsep-ping.8.extra");

/// The worker's command line, as users see it: under the launcher's name,
/// with argv[0], and with a description for every option.
fn command() -> clap::Command {
    let cmd = options::describe(worker::ping::cli::command())
        .name(NAME)
        .bin_name(NAME)
        .no_binary_name(false)
        .version(env!("CARGO_PKG_VERSION"));
    // The worker collects the destination into a list so that it can say
    // what is wrong with none or several; exactly one is required.
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
        cmd.about("send ICMP ECHO_REQUEST to network hosts, with privilege separation")
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outdir = match args.as_slice() {
        [verb, outdir] if verb == "docs" => outdir.clone(),
        _ => {
            eprintln!("usage: xtask docs OUTDIR");
            return ExitCode::from(2);
        }
    };
    match generate(Path::new(&outdir)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn generate(outdir: &Path) -> Result<()> {
    let completions = outdir.join("completions");
    fs::create_dir_all(&completions)
        .with_context(|| format!("creating {}", completions.display()))?;

    // Documentation is not worth failing a package build over; the unit
    // test `every_option_is_described` is where this is an error.
    for id in options::undescribed(&command()) {
        eprintln!(
            "xtask: warning: option {id} has no description (add it to xtask/src/options.rs)"
        );
    }

    let page = outdir.join(format!("{NAME}.8"));
    fs::write(&page, man_page()?).with_context(|| format!("writing {}", page.display()))?;

    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        let mut cmd = command();
        clap_complete::generate_to(shell, &mut cmd, NAME, &completions).with_context(|| {
            format!(
                "writing the {shell} completion to {}",
                completions.display()
            )
        })?;
    }
    Ok(())
}

/// clap_mangen's sections, with the hand-written ones between OPTIONS and
/// VERSION.
fn man_page() -> Result<Vec<u8>> {
    let mut man = clap_mangen::Man::new(command())
        .section("8")
        .manual("System Manager's Manual")
        .source(format!("privsep {}", env!("CARGO_PKG_VERSION")));
    if let Some(date) = source_date() {
        man = man.date(date);
    }
    let extra = policy::render::render(
        "docs/privsep-ping.8.extra",
        EXTRA,
        policy::render::Flavor::Plain,
        &policy::render::tool_variables(&policy::tools::PING),
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

    #[test]
    fn every_option_is_described() {
        assert_eq!(options::undescribed(&command()), Vec::<String>::new());
    }

    #[test]
    fn man_page_has_the_generated_and_the_handwritten_sections() {
        let page = String::from_utf8(man_page().unwrap()).unwrap();
        assert!(
            page.starts_with(".ie \\n(.g .ds Aq") || page.contains(".TH "),
            "no title: {page}"
        );
        for section in [".SH NAME", ".SH SYNOPSIS", ".SH OPTIONS", ".SH SECURITY"] {
            assert!(page.contains(section), "missing {section}");
        }
        assert!(
            page.contains(policy::tools::PING.worker_path),
            "worker path not rendered"
        );
        assert!(!page.contains("@WORKER_PATH@"));
    }

    #[test]
    fn every_shell_gets_a_completion_naming_the_launcher() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        generate(&dir).unwrap();
        for file in ["privsep-ping.bash", "_privsep-ping", "privsep-ping.fish"] {
            let text = fs::read_to_string(dir.join("completions").join(file)).unwrap();
            assert!(text.contains(NAME), "{file} does not name {NAME}");
            assert!(text.contains("-c"), "{file} lacks the -c option");
        }
    }
}
