//! Findings as check-run annotations (the `output.annotations` array). The workflow commands
//! in the log come from the `github` report format.

use serde::Serialize;

use crate::findings::{Finding, Severity};

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
            message: within_limit(if finding.help.is_empty() {
                finding.message.clone()
            } else {
                format!("{}\n\n{}", finding.message, finding.help)
            }),
            raw_details: (!finding.statement.is_empty())
                .then(|| within_limit(finding.statement.clone())),
        }
    }
}

/// GitHub refuses the whole request (50 annotations) when one annotation's `message` or
/// `raw_details` is over 64 KB, as a long data migration's statement can be: cut it there.
const ANNOTATION_FIELD_BYTES: usize = 65_535;

fn within_limit(mut text: String) -> String {
    const MARK: &str = "\n…";
    if text.len() <= ANNOTATION_FIELD_BYTES {
        return text;
    }
    let mut cut = ANNOTATION_FIELD_BYTES - MARK.len();
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.truncate(cut);
    text.push_str(MARK);
    text
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
            table: None,
        }
    }

    #[test]
    fn check_annotation_levels() {
        let error = CheckAnnotation::from_finding(&finding("m.sql", Severity::Error, "x"));
        let warning = CheckAnnotation::from_finding(&finding("m.sql", Severity::Warning, "x"));
        assert_eq!(error.annotation_level, "failure");
        assert_eq!(warning.annotation_level, "warning");
        assert_eq!((error.start_line, error.end_line), (3, 4));
    }

    #[test]
    fn long_fields_are_cut_at_githubs_limit_on_a_character_boundary() {
        let mut long = finding("m.sql", Severity::Error, "x");
        long.statement = "é".repeat(40_000);
        let details = CheckAnnotation::from_finding(&long).raw_details.unwrap();
        assert!(details.len() <= ANNOTATION_FIELD_BYTES, "{}", details.len());
        assert!(details.ends_with("é\n…"));
    }
}
