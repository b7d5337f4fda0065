//! `traced-rewrite`: `check --trace-database-url` ran the statement on the replayed history and
//! saw an existing table get new storage (`pg_class.relfilenode` changed: rewritten or
//! truncated) where the static pass raised no lock/rewrite finding, e.g. a column type change
//! inside a function of the history. A rewrite holds ACCESS EXCLUSIVE for as long as copying the
//! table takes: reads and writes wait.

use super::{Example, Impact, RuleInfo};
use crate::findings::{Finding, Severity};
use crate::project::discover::Migration;
use crate::sql::Statement;

pub const RULE: RuleInfo = RuleInfo {
    id: "traced-rewrite",
    default_severity: Severity::Error,
    impact: Impact::Blocks,
    summary: "the trace saw an existing table rewritten (new relfilenode) where the static pass saw no rewrite",
    check: None,
    file: include_str!("traced_rewrite.rs"),
    example: Example::FromGit {
        setting: "Example: `check --trace-database-url postgres://postgres@localhost:5432/postgres`, where the\nhistory defines `widen(t, c)` (EXECUTE format('ALTER TABLE %I ALTER COLUMN %I TYPE bigint', t, c))\nand the pending migration runs `SELECT widen('User', 'id');`.\n",
        finding: |migration| {
            let statements = crate::sql::analyze_source(&migration.source);
            finding(
                migration,
                &statements[0],
                &["\"User\"".to_string()],
                Some("ACCESS EXCLUSIVE"),
            )
        },
    },
};

/// The finding for `statement`, which rewrote `tables` holding `lock` (the strongest mode seen).
pub fn finding(
    migration: &Migration,
    statement: &Statement,
    tables: &[String],
    lock: Option<&str>,
) -> Finding {
    let lock = lock.unwrap_or("ACCESS EXCLUSIVE");
    let waits = if lock == "ACCESS EXCLUSIVE" {
        "reads and writes"
    } else {
        "writes"
    };
    RULE.on_statement(
        migration,
        statement,
        format!(
            "The trace ran this statement on the replayed history and saw it rewrite {} (new \
             storage) holding {lock}: {waits} on it wait until every row is copied, which grows \
             with the table.",
            tables.join(", ")
        ),
        "Find what rewrites (a column type change, a volatile default, SET LOGGED, VACUUM FULL, \
         CLUSTER, run by a function or DO block) and use the way that does not: add a new \
         nullable column (`ALTER TABLE \"User\" ADD COLUMN \"id_new\" bigint;`), backfill it in \
         batches, then switch to it."
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing::assert_mentions;

    #[test]
    fn says_which_lock_and_who_waits() {
        let m = Migration::in_memory("2_pending", "SELECT widen('User', 'id');\n");
        let statements = crate::sql::analyze_source(&m.source);
        let f = finding(&m, &statements[0], &["\"User\"".into()], Some("ACCESS EXCLUSIVE"));
        assert_eq!((f.rule, f.severity, f.line), (RULE.id, Severity::Error, 1));
        assert_mentions(&f.message, "rewrite \"User\"");
        assert_mentions(&f.message, "reads and writes");
        let f = finding(&m, &statements[0], &["\"User\"".into()], Some("SHARE"));
        assert!(!f.message.contains("reads and writes"), "{}", f.message);
    }
}
