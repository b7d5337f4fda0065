//! `allow-without-reason`: a migration-gate: allow comment without a reason is ignored.
//! The review trail needs the why; an allow without it would wave a danger through unexplained.
//! An allow naming a rule id that does not exist (a typo) is ignored for that id too, and said so
//! here: a suppression that silently does nothing is as misleading as one without a reason.

use super::{Example, Impact, RuleInfo};
use crate::findings::{Finding, Severity};
use crate::lint::suppress::Allow;
use crate::spelling::edit_distance;

pub const RULE: RuleInfo = RuleInfo {
    id: "allow-without-reason",
    default_severity: Severity::Warning,
    impact: Impact::Process,
    summary: "a migration-gate: allow comment without a reason is ignored",
    check: None,
    file: include_str!("allow_without_reason.rs"),
    example: Example::Migration("-- migration-gate: allow drop-column\nALTER TABLE \"User\" DROP COLUMN \"name\";\n"),
};

/// The finding for one allow comment that has no reason (`file` as reports show it).
pub fn finding(allow: &Allow, file: &str, migration: &str) -> Finding {
    let rules = allow.rules.join(",");
    if let Some(corrected) = &allow.corrected {
        return at_allow(
            allow,
            file,
            migration,
            format!(
                "This `migration-gate: allow {rules}` gives its reason in another form than \
                 `reason: <text>`, so it is ignored and the findings it names are still reported."
            ),
            format!("Write it as: `{corrected}`"),
        );
    }
    at_allow(
        allow,
        file,
        migration,
        format!(
            "This `migration-gate: allow {rules}` has no reason, so it is ignored and the \
             findings it names are still reported."
        ),
        format!(
            "Say why it is safe, for the reviewers: `-- migration-gate: allow {rules} reason: \
             <why this is safe>`"
        ),
    )
}

/// The finding for an allow comment that covers nothing because of where it stands.
pub fn detached_finding(allow: &Allow, file: &str, migration: &str) -> Finding {
    let rules = allow.rules.join(",");
    at_allow(
        allow,
        file,
        migration,
        format!(
            "This `migration-gate: allow {rules}` is not on the comment lines directly above a \
             statement, so it covers nothing and the findings it names are still reported."
        ),
        "Put `-- migration-gate: allow <rules> reason: <why>` directly above the statement \
         (no blank line or code in between); `allow-file` must come before the first \
         statement of the file."
            .to_string(),
    )
}

/// The finding for an allow comment naming `rule`, which is not a rule id.
pub fn unknown_rule_finding(allow: &Allow, rule: &str, file: &str, migration: &str) -> Finding {
    let suggestion = closest_rule(rule)
        .map(|id| format!(" Did you mean `{id}`?"))
        .unwrap_or_default();
    at_allow(
        allow,
        file,
        migration,
        format!(
            "This `migration-gate: allow` names `{rule}`, which is not a rule id, so it covers \
             nothing for it.{suggestion}"
        ),
        "Use the rule ids the findings show (the README lists them all), separated by \
         commas: `-- migration-gate: allow drop-column,rename-column reason: <why>`"
            .to_string(),
    )
}

/// A warning placed on the allow comment itself, quoting it.
fn at_allow(allow: &Allow, file: &str, migration: &str, message: String, help: String) -> Finding {
    Finding {
        rule: RULE.id,
        severity: RULE.default_severity,
        file: file.to_string(),
        line: allow.line,
        column: allow.column,
        end_line: allow.line,
        message,
        help,
        statement: format!("-- migration-gate: allow {}", allow.rules.join(",")),
        migration: migration.to_string(),
        table: None,
    }
}

/// The catalogue id nearest to a misspelt one (at most 3 edits away, case and surrounding
/// spaces aside: `DROP-COLUMN` is typed by habit from SQL).
pub fn closest_rule(rule: &str) -> Option<&'static str> {
    let rule = rule.trim().to_ascii_lowercase();
    super::CATALOGUE
        .iter()
        .map(|r| (edit_distance(&rule, r.id), r.id))
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, id)| id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing::assert_mentions;

    #[test]
    fn points_at_the_comment_and_shows_the_fixed_comment() {
        let allow = Allow {
            rules: vec!["drop-column".into(), "rename-column".into()],
            reason: None,
            line: 4,
            column: 1,
            corrected: None,
        };
        let f = finding(&allow, "migrations/1_a/migration.sql", "1_a");
        assert_eq!((f.rule, f.line, f.column), ("allow-without-reason", 4, 1));
        assert_eq!(f.severity, Severity::Warning);
        assert_mentions(&f.help, "-- migration-gate: allow drop-column,rename-column reason: ");
    }

    #[test]
    fn an_unknown_rule_id_is_named_with_the_closest_real_one() {
        let allow = Allow {
            rules: vec!["drop-colum".into()],
            reason: Some("typo".into()),
            line: 2,
            column: 1,
            corrected: None,
        };
        let f = unknown_rule_finding(&allow, "drop-colum", "m.sql", "m");
        assert_eq!((f.rule, f.line), ("allow-without-reason", 2));
        assert_mentions(&f.message, "`drop-colum`, which is not a rule id");
        assert_mentions(&f.message, "Did you mean `drop-column`?");
        let f = unknown_rule_finding(&allow, "everything", "m.sql", "m");
        assert!(!f.message.contains("Did you mean"), "{}", f.message);
    }
}
