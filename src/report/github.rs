//! `--format github`: workflow commands the Actions runner turns into annotations on the diff.
//! The runner shows at most 10 annotations per severity per step, so the rest are counted in one
//! notice that points to the job summary (where the markdown report lists everything).

use std::fmt::Write;

use super::{plural, summary_line};
use crate::findings::{Finding, Report, Severity};

/// GitHub's per-step limit for each of error, warning and notice annotations.
pub const ANNOTATIONS_PER_SEVERITY: usize = 10;

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let mut shown_errors = 0;
    let mut shown_warnings = 0;
    let mut hidden = 0;
    for finding in &report.findings {
        let shown = match finding.severity {
            Severity::Error => &mut shown_errors,
            Severity::Warning => &mut shown_warnings,
        };
        if *shown >= ANNOTATIONS_PER_SEVERITY {
            hidden += 1;
            continue;
        }
        *shown += 1;
        out.push_str(&annotation(finding));
        out.push('\n');
    }
    if hidden > 0 {
        let _ = writeln!(
            out,
            "::notice title={}::{} more {} not shown as annotations (GitHub shows {} per severity); see the job summary for all of them.",
            escape_property("migration-gate"),
            hidden,
            if hidden == 1 { "finding is" } else { "findings are" },
            ANNOTATIONS_PER_SEVERITY,
        );
    }
    for note in &report.notes {
        let _ = writeln!(
            out,
            "::notice title={}::{}",
            escape_property("migration-gate"),
            escape_data(note)
        );
    }
    // Plain log lines (not commands): every allow is on record in the log too. A line that
    // does not start with `::` is never taken for a command, and it stays one line.
    for allowed in &report.allowed {
        let _ = writeln!(
            out,
            "migration-gate: allowed {} at {}:{} (allow comment on line {}), reason: {}",
            allowed.rule,
            one_line(&allowed.file),
            allowed.line,
            allowed.allow_line,
            one_line(&allowed.reason),
        );
    }
    let _ = writeln!(
        out,
        "migration-gate: {}{}",
        summary_line(&report.summary),
        if report.allowed.is_empty() {
            String::new()
        } else {
            format!(
                "; {} by suppression comments",
                plural(report.allowed.len(), "finding allowed", "findings allowed")
            )
        }
    );
    out
}

/// Plain log lines are not unescaped by the runner: line breaks just become spaces.
fn one_line(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}

/// `::error file=F,line=L,endLine=E,col=C,title=T::MESSAGE`
pub fn annotation(finding: &Finding) -> String {
    let command = match finding.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let message = format!(
        "{}\n\nSafe alternative: {}",
        finding.message.trim_end(),
        finding.help.trim_end()
    );
    format!(
        "::{command} file={},line={},endLine={},col={},title={}::{}",
        escape_property(&finding.file),
        finding.line,
        finding.end_line.max(finding.line),
        finding.column,
        escape_property(&format!("migration-gate {}", finding.rule)),
        escape_data(&message),
    )
}

/// The runner unescapes `%0D`, `%0A` and `%25` in a command's message; `%` goes first so an
/// escape sequence already in the text survives the round trip.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Property values additionally end at `,` and `:`.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the runner does with a command's message and properties (actions/runner
    /// `ActionCommand.Unescape`), to check our escaping round-trips.
    fn runner_unescape(text: &str) -> String {
        text.replace("%0D", "\r")
            .replace("%0A", "\n")
            .replace("%3A", ":")
            .replace("%2C", ",")
            .replace("%25", "%")
    }

    #[test]
    fn data_escapes_percent_before_line_breaks() {
        assert_eq!(escape_data("100%\r\nnext"), "100%25%0D%0Anext");
        assert_eq!(escape_data("already %0A escaped"), "already %250A escaped");
    }

    #[test]
    fn properties_escape_colon_and_comma() {
        assert_eq!(
            escape_property("a:b,c%d\ne"),
            "a%3Ab%2Cc%25d%0Ae".to_string()
        );
    }

    #[test]
    fn escaping_round_trips_through_the_runner() {
        for text in [
            "plain",
            "50% off, now: 100%",
            "%0A literal",
            "line\r\nbreak\nand\rcr",
            "::error::nested",
            "%25%3A%2C",
        ] {
            assert_eq!(runner_unescape(&escape_property(text)), text);
            let data = escape_data(text);
            assert!(!data.contains('\n') && !data.contains('\r'));
            assert_eq!(
                data.replace("%0D", "\r")
                    .replace("%0A", "\n")
                    .replace("%25", "%"),
                text
            );
        }
    }
}
