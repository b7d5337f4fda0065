//! `allow-without-reason`: a migration-gate: allow comment without a reason is ignored.
//! The review trail needs the why; an allow without it would wave a danger through unexplained.

use crate::findings::{Finding, Severity};
use crate::suppress::Allow;

pub const ID: &str = "allow-without-reason";

/// The finding for one allow comment that has no reason (`file` as reports show it).
pub fn finding(allow: &Allow, file: &str, migration: &str) -> Finding {
    let rules = allow.rules.join(",");
    Finding {
        rule: ID,
        severity: Severity::Warning,
        file: file.to_string(),
        line: allow.line,
        column: allow.column,
        end_line: allow.line,
        message: format!(
            "this `migration-gate: allow {rules}` has no reason, so it is ignored and the \
             findings it names are still reported"
        ),
        help: format!(
            "Say why it is safe, for the reviewers: `-- migration-gate: allow {rules} reason: \
             <why this is safe>`"
        ),
        statement: format!("-- migration-gate: allow {rules}"),
        migration: migration.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_at_the_comment_and_shows_the_fixed_comment() {
        let allow = Allow {
            rules: vec!["drop-column".into(), "rename-column".into()],
            reason: None,
            line: 4,
            column: 1,
        };
        let f = finding(&allow, "migrations/1_a/migration.sql", "1_a");
        assert_eq!((f.rule, f.line, f.column), ("allow-without-reason", 4, 1));
        assert_eq!(f.severity, Severity::Warning);
        assert!(f
            .help
            .contains("-- migration-gate: allow drop-column,rename-column reason: "));
    }
}
