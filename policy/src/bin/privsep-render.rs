//! `privsep-render`: renders an LSM policy template with the build's install
//! layout and, with `--tool`, a tool's descriptor; or prints the layout or
//! the descriptors. Used by the Makefile and the policy checks so that the
//! policies, the launchers and the checks share one source of truth.
//!
//! ```text
//! privsep-render layout [--tool NAME]                 # KEY=value lines
//! privsep-render names                                # the tools' names, one a line
//! privsep-render tools                                # one line per tool: KEY=value ...
//! privsep-render {plain|fc|tomoyo} [--tool NAME] IN OUT
//! ```

#![forbid(unsafe_code)]

use std::process::ExitCode;

use policy::render::{render, tool_variables, variables, Flavor, FREE_TEXT};
use policy::tools::{self, Tool};

const USAGE: &str =
    "usage: privsep-render layout [--tool NAME] | names | tools | {plain|fc|tomoyo} [--tool NAME] IN OUT";

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("privsep-render: {msg}");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["layout"] => {
            for (name, value) in variables() {
                println!("{name}={value}");
            }
            ExitCode::SUCCESS
        }
        ["layout", "--tool", name] => match Tool::by_name(name) {
            Some(tool) => {
                for (name, value) in tool_variables(tool) {
                    println!("{name}={value}");
                }
                ExitCode::SUCCESS
            }
            None => fail(format!("unknown tool {name:?}")),
        },
        // Every tool of the descriptors, in install order: what the
        // Makefile's TOOLS defaults to.
        ["names"] => {
            for tool in tools::ALL {
                println!("{}", tool.name);
            }
            ExitCode::SUCCESS
        }
        ["tools"] => {
            // Values never contain spaces except the lists, which use ','
            // (the free text is left out).
            for tool in tools::ALL {
                let line: Vec<String> = tool_variables(tool)
                    .into_iter()
                    .filter(|(name, _)| {
                        !matches!(*name, "PREFIX" | "BINDIR" | "LIBEXECDIR")
                            && !FREE_TEXT.contains(name)
                    })
                    .map(|(name, value)| format!("{name}={}", value.replace(' ', ",")))
                    .collect();
                println!("{}", line.join(" "));
            }
            ExitCode::SUCCESS
        }
        [flavor, rest @ ..] => {
            let Some(flavor) = Flavor::from_name(flavor) else {
                return fail(format!("unknown flavor {flavor:?} (plain, fc, tomoyo)"));
            };
            let (tool, files): (Option<&Tool>, &[&str]) = match rest {
                ["--tool", name, files @ ..] => match Tool::by_name(name) {
                    Some(t) => (Some(t), files),
                    None => return fail(format!("unknown tool {name:?}")),
                },
                files => (None, files),
            };
            let [input, output] = files else {
                return fail(USAGE);
            };
            let vars = tool.map_or_else(variables, tool_variables);
            let result = std::fs::read_to_string(input)
                .map_err(|e| format!("{input}: {e}"))
                .and_then(|t| render(input, &t, flavor, &vars).map_err(|e| e.to_string()))
                .and_then(|r| std::fs::write(output, r).map_err(|e| format!("{output}: {e}")));
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(e),
            }
        }
        _ => fail(USAGE),
    }
}
