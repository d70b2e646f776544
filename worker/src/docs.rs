//! What `xtask docs` takes from each tool module to write its man page
//! and completions: the worker's clap definition (it lists exactly the
//! options the worker parses) and a description of each option. Each
//! tool module has its [`Manual`] in its `docs.rs`; [`of`] finds it by
//! descriptor, so that xtask lists no tool.

#![forbid(unsafe_code)]

use policy::tools::Tool;

/// (argument id, value name, description), one per option of the clap
/// definition that carries no help text of its own.
pub type Options = &'static [(&'static str, Option<&'static str>, &'static str)];

/// One tool's documentation, as code.
pub struct Manual {
    /// The worker's clap definition (for the documentation only: the
    /// workers parse with the stock tools' own messages).
    pub command: fn() -> clap::Command,
    /// The descriptions of its options.
    pub options: Options,
}

/// The manual of the tool `tool` describes: its module's `docs::MANUAL`,
/// the module named after the descriptor (`-` as `_`).
pub fn of(tool: &Tool) -> Option<&'static Manual> {
    let module = tool.name.replace('-', "_");
    crate::MANUALS
        .iter()
        .find(|(name, _)| *name == module)
        .map(|(_, manual)| *manual)
}

/// The tool modules that have a manual (their names, `_` for `-`).
pub fn modules() -> impl Iterator<Item = &'static str> {
    crate::MANUALS.iter().map(|(name, _)| *name)
}
