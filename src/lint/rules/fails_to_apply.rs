//! `fails-to-apply`: `check --trace-database-url` ran the pending migrations on the replayed
//! history, as `deploy` runs them, and one failed: `deploy` would stop there. Raised at the
//! position the server reports (`file:line:col`), with its SQLSTATE and message. The trace stops
//! at the first failure: what follows would run on a schema production never gets.

use super::{Example, Impact, RuleInfo};
use crate::findings::{Finding, Severity};
use crate::project::discover::Migration;
use crate::sql::{Position, Statement};

pub const RULE: RuleInfo = RuleInfo {
    id: "fails-to-apply",
    default_severity: Severity::Error,
    impact: Impact::FailsToApply,
    summary: "the trace ran the migration on the replayed history and PostgreSQL refused it",
    check: None,
    file: include_str!("fails_to_apply.rs"),
    example: Example::FromGit {
        setting: "Example: `check --trace-database-url postgres://postgres@localhost:5432/postgres`, where the\npending migration runs `ALTER TABLE \"User\" DROP COLUMN \"nickname\";` and the history never\ncreated that column.\n",
        finding: |migration| {
            let statements = crate::sql::analyze_source(&migration.source);
            let failure = Failure {
                position: statements[0].start,
                sqlstate: "42703".to_string(),
                message: "column \"nickname\" of relation \"User\" does not exist".to_string(),
                detail: None,
                hint: None,
            };
            finding(migration, &statements[0], &failure)
        },
    },
};

/// What the server said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Where in the file: the server's error position, else the statement's start.
    pub position: Position,
    pub sqlstate: String,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
}

/// The finding for `statement`, which failed with `failure`.
pub fn finding(migration: &Migration, statement: &Statement, failure: &Failure) -> Finding {
    let mut said = format!("SQLSTATE {}: {}", failure.sqlstate, failure.message);
    if let Some(detail) = &failure.detail {
        said.push_str(&format!(" ({detail})"));
    }
    let mut finding = RULE.on_statement(
        migration,
        statement,
        format!(
            "The trace ran this migration on the replayed history and PostgreSQL refused it at \
             {}:{}:{}: {said}. `deploy` would stop here.",
            migration.display_path, failure.position.line, failure.position.column
        ),
        match &failure.hint {
            Some(hint) => format!("PostgreSQL's hint: {hint}"),
            None => "Make the statement apply to the schema the history builds (run the history \
                     with `migration-gate deploy` on an empty database to try it), then check \
                     again."
                .to_string(),
        },
    );
    finding.line = failure.position.line;
    finding.column = failure.position.column;
    finding.end_line = finding.end_line.max(failure.position.line);
    finding
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing::assert_mentions;

    #[test]
    fn is_raised_where_the_server_points_with_its_sqlstate() {
        let m = Migration::in_memory("2_pending", "ALTER TABLE t\n  DROP COLUMN nope;\n");
        let statements = crate::sql::analyze_source(&m.source);
        let failure = Failure {
            position: Position { line: 2, column: 15 },
            sqlstate: "42703".into(),
            message: "column \"nope\" of relation \"t\" does not exist".into(),
            detail: None,
            hint: None,
        };
        let f = finding(&m, &statements[0], &failure);
        assert_eq!((f.rule, f.line, f.column, f.end_line), (RULE.id, 2, 15, 2));
        assert_mentions(&f.message, "2_pending/migration.sql:2:15: SQLSTATE 42703");
    }
}
