//! `privsep-render`: renders an LSM policy template with the build's install
//! layout, or prints the layout. Used by the Makefile so that the policies and
//! the launcher share one source of truth for every installed path.
//!
//! ```text
//! privsep-render layout                  # KEY=value lines
//! privsep-render {plain|fc|tomoyo} IN OUT
//! ```

#![forbid(unsafe_code)]

use std::process::ExitCode;

use policy::render::{render, variables, Flavor};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [cmd] if cmd == "layout" => {
            for (name, value) in variables() {
                println!("{name}={value}");
            }
            ExitCode::SUCCESS
        }
        [flavor, input, output] => {
            let Some(flavor) = Flavor::from_name(flavor) else {
                eprintln!("privsep-render: unknown flavor {flavor:?} (plain, fc, tomoyo)");
                return ExitCode::from(2);
            };
            let result = std::fs::read_to_string(input)
                .map_err(|e| format!("{input}: {e}"))
                .and_then(|t| render(input, &t, flavor).map_err(|e| e.to_string()))
                .and_then(|r| std::fs::write(output, r).map_err(|e| format!("{output}: {e}")));
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("privsep-render: {e}");
                    ExitCode::from(2)
                }
            }
        }
        _ => {
            eprintln!("usage: privsep-render layout | privsep-render {{plain|fc|tomoyo}} IN OUT");
            ExitCode::from(2)
        }
    }
}
