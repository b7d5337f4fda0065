//! `--format json`: one pretty-printed object for scripts and other tools.

use serde::Serialize;

use crate::findings::{AllowedFinding, Finding, Report, Summary};

/// The public JSON shape: `{"findings": [...], "allowed": [...], "summary": {...}}`, and
/// `"notes": [...]` when there are any.
#[derive(Serialize)]
struct JsonReport<'a> {
    findings: &'a [Finding],
    allowed: &'a [AllowedFinding],
    summary: &'a Summary,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    notes: &'a [String],
}

pub fn render(report: &Report) -> String {
    let document = JsonReport {
        findings: &report.findings,
        allowed: &report.allowed,
        summary: &report.summary,
        notes: &report.notes,
    };
    let mut out = serde_json::to_string_pretty(&document)
        .expect("a report of strings and integers always serialises");
    out.push('\n');
    out
}
