//! `traced-data-loss`: `check --trace-database-url` ran the statement on the replayed history and
//! saw an existing table, column or enum value disappear, where the static pass raised no
//! data-loss finding: the drop happens out of its sight, in a function of the history (`EXECUTE
//! format('ALTER TABLE %I DROP COLUMN %I', ...)`), a DO block or a trigger. Raised at the
//! statement that ran; what it dropped is named.

use super::{Example, Impact, RuleInfo};
use crate::findings::{Finding, Severity};
use crate::project::discover::Migration;
use crate::sql::Statement;

pub const RULE: RuleInfo = RuleInfo {
    id: "traced-data-loss",
    default_severity: Severity::Error,
    impact: Impact::DataLoss,
    summary: "the trace saw an existing table, column or enum value disappear (a function, DO block or trigger the static pass cannot read)",
    check: None,
    file: include_str!("traced_data_loss.rs"),
    example: Example::FromGit {
        setting: "Example: `check --trace-database-url postgres://postgres@localhost:5432/postgres`, where the\nhistory defines `drop_col(t, c)` (EXECUTE format('ALTER TABLE %I DROP COLUMN %I', t, c))\nand the pending migration runs `SELECT drop_col('User', 'email');`.\n",
        finding: |migration| {
            let statements = crate::sql::analyze_source(&migration.source);
            finding(
                migration,
                &statements[0],
                &["column \"User\".\"email\" dropped".to_string()],
            )
        },
    },
};

/// The finding for `statement`, which made `lost` disappear (`column "User"."email" dropped`).
pub fn finding(migration: &Migration, statement: &Statement, lost: &[String]) -> Finding {
    RULE.on_statement(
        migration,
        statement,
        format!(
            "The trace ran this statement on the replayed history and saw: {}. The data in it is \
             gone for good, and the running app (the previous release, during the rollout) still \
             reads it; the statement does not say so, so review would not see it.",
            lost.join(", ")
        ),
        "If the drop is intended, write it in plain SQL in a migration of its own (`ALTER TABLE \
         \"User\" DROP COLUMN \"email\";`), deployed after the release that stops using it, so \
         the static check sees it. If it is not, fix the function or block that drops it."
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing::assert_mentions;

    #[test]
    fn names_what_disappeared_at_the_statement() {
        let m = Migration::in_memory("2_pending", "\n\nSELECT drop_col('User', 'email');\n");
        let statements = crate::sql::analyze_source(&m.source);
        let f = finding(&m, &statements[0], &["column \"User\".\"email\" dropped".into()]);
        assert_eq!((f.rule, f.severity, f.line, f.column), (RULE.id, Severity::Error, 3, 1));
        assert_mentions(&f.message, "column \"User\".\"email\" dropped");
        assert_mentions(&f.help, "DROP COLUMN");
    }
}
