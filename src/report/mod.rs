//! Render a [`Report`]: human, json, sarif, github, markdown. Reports depend only on
//! [`crate::findings`].

use crate::cli::OutputFormat;
use crate::findings::Report;

pub struct RenderOptions {
    /// ANSI colour (human format, on a terminal, NO_COLOR unset).
    pub color: bool,
    /// Link to the CI run, for bodies that must be shortened (markdown over GitHub's limit).
    pub run_url: Option<String>,
}

pub fn render(report: &Report, format: OutputFormat, options: &RenderOptions) -> String {
    let _ = (report, format, options);
    todo!("report::render")
}
