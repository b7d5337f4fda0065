//! Findings as GitHub annotations: workflow commands in the log (`::error file=…::…`, shown on
//! the PR diff) and the `annotations` array of a check run.

use serde::Serialize;

use crate::findings::{Finding, Severity};

/// Escape a workflow-command message (`@actions/core` `escapeData`).
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a workflow-command property such as `file=` (`@actions/core` `escapeProperty`): `:` and
/// `,` would otherwise end the property.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// `::error file=…,line=…,endLine=…,col=…,title=…::message` for one finding.
pub fn workflow_command(finding: &Finding) -> String {
    let mut message = finding.message.clone();
    if !finding.help.is_empty() {
        message.push_str("\n\n");
        message.push_str(&finding.help);
    }
    format!(
        "::{} file={},line={},endLine={},col={},title={}::{}",
        finding.severity.as_str(),
        escape_property(&finding.file),
        finding.line,
        finding.end_line.max(finding.line),
        finding.column,
        escape_property(&format!("migration-gate: {}", finding.rule)),
        escape_data(&message)
    )
}

/// One entry of a check run's `output.annotations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckAnnotation {
    pub path: String,
    pub start_line: u32,
    pub end_line: u32,
    pub annotation_level: &'static str,
    pub title: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_details: Option<String>,
}

impl CheckAnnotation {
    pub fn from_finding(finding: &Finding) -> CheckAnnotation {
        CheckAnnotation {
            path: finding.file.clone(),
            start_line: finding.line.max(1),
            end_line: finding.end_line.max(finding.line).max(1),
            annotation_level: match finding.severity {
                Severity::Error => "failure",
                Severity::Warning => "warning",
            },
            title: format!("migration-gate: {}", finding.rule),
            message: if finding.help.is_empty() {
                finding.message.clone()
            } else {
                format!("{}\n\n{}", finding.message, finding.help)
            },
            raw_details: (!finding.statement.is_empty()).then(|| finding.statement.clone()),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn finding(file: &str, severity: Severity, message: &str) -> Finding {
        Finding {
            rule: "drop-column",
            severity,
            file: file.to_string(),
            line: 3,
            column: 1,
            end_line: 4,
            message: message.to_string(),
            help: String::new(),
            statement: "ALTER TABLE users DROP COLUMN email;".to_string(),
            migration: "20240101_init".to_string(),
        }
    }

    #[test]
    fn file_names_with_colons_and_commas_stay_one_property() {
        let f = finding(
            "migrations/2024:01,a%b/migration.sql",
            Severity::Error,
            "100% of rows\r\nlost",
        );
        assert_eq!(
            workflow_command(&f),
            "::error file=migrations/2024%3A01%2Ca%25b/migration.sql,line=3,endLine=4,col=1,\
             title=migration-gate%3A drop-column::100%25 of rows%0D%0Alost"
        );
    }

    #[test]
    fn message_keeps_colons_and_commas() {
        let f = finding("m.sql", Severity::Warning, "locks: reads, writes");
        assert!(workflow_command(&f).ends_with("::locks: reads, writes"));
        assert!(workflow_command(&f).starts_with("::warning "));
    }

    #[test]
    fn check_annotation_levels() {
        let error = CheckAnnotation::from_finding(&finding("m.sql", Severity::Error, "x"));
        let warning = CheckAnnotation::from_finding(&finding("m.sql", Severity::Warning, "x"));
        assert_eq!(error.annotation_level, "failure");
        assert_eq!(warning.annotation_level, "warning");
        assert_eq!((error.start_line, error.end_line), (3, 4));
    }
}
