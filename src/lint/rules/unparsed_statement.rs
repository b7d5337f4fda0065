//! `unparsed-statement`: a statement migration-gate could not understand: review it by hand.
//! Nothing passes silently: the analysis raises this for every statement neither `sqlparser` nor
//! the token classifier understood (destructive operations found in its tokens still go through
//! their own rules).

use super::{Example, Impact, RuleInfo, Violation};
use crate::sql::Statement;
use crate::findings::Severity;

pub const RULE: RuleInfo = RuleInfo {
    id: "unparsed-statement",
    default_severity: Severity::Warning,
    impact: Impact::Process,
    summary: "a statement migration-gate could not understand: review it by hand",
    check: None,
    file: include_str!("unparsed_statement.rs"),
    example: Example::Migration("FROBNICATE \"User\" VERY FAST;\n"),
};

/// The violation for a statement that was not understood.
pub fn violation(statement: &Statement) -> Violation {
    let first_words: Vec<&str> = statement.text.split_whitespace().take(3).collect();
    Violation::new(
        format!(
            "migration-gate could not understand this statement (`{} ...`), so none of its \
             locking or data-loss effects were checked.",
            first_words.join(" ")
        ),
        "Review it by hand for locks, rewrites and data loss. If it is safe, record that: \
               `-- migration-gate: allow unparsed-statement reason: <why it is safe>` on the line \
               above it."
            .to_string(),
    )
}

/// Raised in place of a rule's verdict when the rule itself failed on a statement: the statement
/// was not checked, and the reviewer must know.
pub fn rule_failure(rule: &str) -> Violation {
    Violation::new(
        format!(
            "The `{rule}` check failed on this statement, so it was not checked for that danger."
        ),
        format!(
            "Review the statement by hand for what `{rule}` guards against, and report the \
             statement to the migration-gate maintainers."
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing::assert_mentions;
    use crate::sql::{Position, Span, Understanding};

    fn statement(text: &str) -> Statement {
        Statement {
            text: text.to_string(),
            span: Span::default(),
            start: Position { line: 1, column: 1 },
            end: Position { line: 1, column: 1 },
            ops: vec![],
            understanding: Understanding::Unparsed,
        }
    }

    #[test]
    fn names_the_statement_and_says_how_to_record_a_review() {
        let v = violation(&statement("CREATE FOOBAR thing WITH (x = 1)"));
        assert_mentions(&v.message, "`CREATE FOOBAR thing ...`");
        assert_mentions(&v.help, "allow unparsed-statement reason:");
    }

    #[test]
    fn rule_failure_names_the_rule() {
        let v = rule_failure("drop-column");
        assert_mentions(&v.message, "`drop-column`");
    }
}
