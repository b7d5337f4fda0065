//! `refresh-materialized-view-blocking`: REFRESH MATERIALIZED VIEW without CONCURRENTLY locks
//! every reader out of the view while its query runs.
//!
//! A plain REFRESH holds an ACCESS EXCLUSIVE lock on the view for the whole query. `REFRESH
//! MATERIALIZED VIEW CONCURRENTLY` takes an EXCLUSIVE lock instead: reads of the view go on while
//! it is recomputed (it needs a unique index on the view, and a view that holds data).
//! `WITH NO DATA` runs no query but empties the view: every read fails until the next REFRESH.
//! A view created in the pending set is read by nobody yet.

use super::advice::Sql;
use super::{Example, Impact, RuleContext, RuleInfo, Violation};
use crate::findings::Severity;
use crate::sql::Op;

pub const RULE: RuleInfo = RuleInfo {
    id: "refresh-materialized-view-blocking",
    default_severity: Severity::Error,
    impact: Impact::Blocks,
    summary: "REFRESH MATERIALIZED VIEW without CONCURRENTLY blocks reads of the view while its query runs",
    check: Some(check),
    file: include_str!("refresh_materialized_view_blocking.rs"),
    example: Example::Migration("REFRESH MATERIALIZED VIEW \"TeamSize\";\n"),
};

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    let Op::RefreshMaterializedView {
        view,
        concurrently: false,
        with_data,
    } = op
    else {
        return None;
    };
    if ctx.schema.is_new_materialized_view(view) {
        return None;
    }
    let sql = Sql::of(ctx);
    let view = sql.table(view);
    if !with_data {
        let message = format!(
            "REFRESH MATERIALIZED VIEW {view} WITH NO DATA empties {view} under an ACCESS \
             EXCLUSIVE lock: from then on every read of it fails (\"materialized view has not \
             been populated\", SQLSTATE 55000) until the next REFRESH."
        );
        let help = format!(
            "Keep the view readable: recompute it in place without blocking its readers,\n\
             REFRESH MATERIALIZED VIEW CONCURRENTLY {view};\n\
             (needs a unique index on the view), or DROP it once no released code reads it."
        );
        return Some(Violation::new(message, help));
    }
    let message = format!(
        "REFRESH MATERIALIZED VIEW {view} holds an ACCESS EXCLUSIVE lock on {view} while its \
         whole query runs: every read of {view} waits for as long as that takes, which grows \
         with the data the query reads."
    );
    let help = format!(
        "Refresh it without blocking reads (EXCLUSIVE lock: readers go on):\n\
         REFRESH MATERIALIZED VIEW CONCURRENTLY {view};\n\
         CONCURRENTLY needs a unique index on the view that covers every row, e.g.\n\
         CREATE UNIQUE INDEX CONCURRENTLY <name> ON {view} (<key columns>);\n\
         and a view that already holds data (not one left WITH NO DATA). It can run inside the \
         migration's transaction; it does more work than a plain REFRESH (it compares the old \
         rows with the new)."
    );
    Some(Violation::new(message, help))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing::{assert_mentions, only_violation, violations};

    const HISTORY: &str = r#"CREATE TABLE "User" ("id" TEXT NOT NULL, "teamId" INTEGER);
        CREATE MATERIALIZED VIEW "TeamSize" AS SELECT "teamId", count(*) AS n FROM "User" GROUP BY "teamId";"#;

    #[test]
    fn refreshing_an_existing_view_blocks_its_readers() {
        let v = only_violation(HISTORY, r#"REFRESH MATERIALIZED VIEW "TeamSize";"#, &RULE);
        assert_mentions(&v.message, r#"ACCESS EXCLUSIVE lock on "TeamSize" while its whole query runs"#);
        assert_mentions(&v.message, "every read of \"TeamSize\" waits");
        assert_mentions(&v.help, r#"REFRESH MATERIALIZED VIEW CONCURRENTLY "TeamSize";"#);
        assert_mentions(&v.help, "unique index");
    }

    #[test]
    fn with_no_data_leaves_the_view_unreadable() {
        let v = only_violation(
            HISTORY,
            r#"REFRESH MATERIALIZED VIEW "TeamSize" WITH NO DATA;"#,
            &RULE,
        );
        assert_mentions(&v.message, "every read of it fails");
        assert_mentions(&v.message, "55000");
    }

    #[test]
    fn concurrently_is_fine() {
        let pending = r#"REFRESH MATERIALIZED VIEW CONCURRENTLY "TeamSize";"#;
        assert!(violations(HISTORY, pending, &RULE).is_empty());
    }

    #[test]
    fn a_view_created_in_the_pending_set_is_fine() {
        let pending = r#"CREATE MATERIALIZED VIEW "Active" AS SELECT * FROM "User" WITH NO DATA;
            REFRESH MATERIALIZED VIEW "Active";"#;
        assert!(violations(HISTORY, pending, &RULE).is_empty());
        // IF NOT EXISTS on a view the history has: still the old, read one.
        let again = r#"CREATE MATERIALIZED VIEW IF NOT EXISTS "TeamSize" AS SELECT 1;
            REFRESH MATERIALIZED VIEW "TeamSize";"#;
        assert_eq!(violations(HISTORY, again, &RULE).len(), 1);
    }

    #[test]
    fn unknown_view_counts_as_existing() {
        assert_eq!(violations("", "REFRESH MATERIALIZED VIEW app.totals;", &RULE).len(), 1);
    }
}
