//! `reindex-blocking`: REINDEX without CONCURRENTLY blocks writes, and virtually every read, of
//! the table for the whole rebuild.
//!
//! REINDEX takes a SHARE lock on the table (INSERT, UPDATE and DELETE wait) and an ACCESS
//! EXCLUSIVE lock on each index it rebuilds. The planner locks every index of a table it plans a
//! query for, so nearly every query on the table waits too (only prepared statements whose cached
//! plan does not use that index go on). `REINDEX ... CONCURRENTLY` (PostgreSQL ≥ 12) builds the new
//! index beside the old one and swaps them, blocking neither.

use std::sync::LazyLock;

use regex::Regex;

use super::advice::{self, Sql, CONCURRENTLY_OUTSIDE_TRANSACTION, FOR_THE_TABLE_SIZE};
use super::{Example, Impact, RuleContext, RuleInfo, Violation};
use crate::findings::Severity;
use crate::sql::{ObjectName, Op, ReindexTarget};

pub const RULE: RuleInfo = RuleInfo {
    id: "reindex-blocking",
    default_severity: Severity::Error,
    impact: Impact::Blocks,
    summary: "REINDEX without CONCURRENTLY blocks writes and nearly all reads of the table",
    check: Some(check),
    file: include_str!("reindex_blocking.rs"),
    example: Example::Migration("REINDEX INDEX \"User_email_idx\";\n"),
};

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    let Op::Reindex {
        concurrently: false,
        target,
    } = op
    else {
        return None;
    };
    let sql = Sql::of(ctx);
    let what = match target {
        Some(ReindexTarget::Index(name)) => {
            let index = ctx.schema.index(name);
            // An index of a table created in the pending set: nothing to rebuild from.
            if index.is_some_and(|i| !advice::has_rows_in_production(ctx, &i.table)) {
                return None;
            }
            let table = index
                .map(|i| sql.table(&i.table))
                .unwrap_or_else(|| "its table".to_string());
            format!(
                "REINDEX INDEX {} takes an ACCESS EXCLUSIVE lock on the index and a SHARE lock on \
                 {table}",
                sql.table(name)
            )
        }
        Some(ReindexTarget::Table(table)) => {
            if !advice::has_rows_in_production(ctx, table) {
                return None;
            }
            let table = sql.table(table);
            format!(
                "REINDEX TABLE {table} takes a SHARE lock on {table} and an ACCESS EXCLUSIVE lock \
                 on each of its indexes"
            )
        }
        Some(ReindexTarget::Schema(schema)) => {
            if ctx.schema.is_new_schema(schema) {
                return None;
            }
            format!(
                "REINDEX SCHEMA {} rebuilds every index of every table in it, each table in turn \
                 under a SHARE lock with an ACCESS EXCLUSIVE lock on its indexes",
                sql.ident(schema)
            )
        }
        Some(ReindexTarget::Database) => "REINDEX DATABASE rebuilds every index of the database, \
             each table in turn under a SHARE lock with an ACCESS EXCLUSIVE lock on its indexes"
            .to_string(),
        Some(ReindexTarget::System) => "REINDEX SYSTEM rebuilds the system catalogs' indexes, \
             each catalog in turn under a SHARE lock with an ACCESS EXCLUSIVE lock on its indexes"
            .to_string(),
        None => "REINDEX takes a SHARE lock on each table it touches and an ACCESS EXCLUSIVE \
             lock on each index it rebuilds"
            .to_string(),
    };
    let message = format!(
        "{what}: every INSERT, UPDATE and DELETE waits, and so does nearly every read (the \
         planner locks every index of a table it plans a query for), {FOR_THE_TABLE_SIZE}."
    );
    Some(Violation::new(message, help(target.as_ref(), ctx, &sql)))
}

fn help(target: Option<&ReindexTarget>, ctx: &RuleContext, sql: &Sql) -> String {
    if matches!(target, Some(ReindexTarget::System)) {
        return "System catalogs cannot be reindexed CONCURRENTLY: do not do this in a migration; \
                run it by hand in a maintenance window."
            .to_string();
    }
    if ctx.pg_version < 12 {
        return before_12(target, ctx, sql);
    }
    let concurrent = with_concurrently(&ctx.statement.text)
        .unwrap_or_else(|| "REINDEX INDEX CONCURRENTLY <index>".to_string());
    format!(
        "Rebuild without blocking reads or writes (PostgreSQL ≥ 12):\n{concurrent};\n\
         {CONCURRENTLY_OUTSIDE_TRANSACTION} If it fails it leaves an INVALID index named \
         `<index>_ccnew`: DROP INDEX CONCURRENTLY it and retry."
    )
}

/// PostgreSQL 11 and older have no REINDEX CONCURRENTLY: build a twin, then swap.
fn before_12(target: Option<&ReindexTarget>, ctx: &RuleContext, sql: &Sql) -> String {
    let pg_version = ctx.pg_version;
    let (new, old, name) = match target {
        Some(ReindexTarget::Index(index)) => {
            let new = ObjectName::new(index.schema.as_deref(), &format!("{}_new", index.name));
            (sql.table(&new), sql.table(index), sql.ident(&index.name))
        }
        _ => (
            "<index>_new".to_string(),
            "<index>".to_string(),
            "<index>".to_string(),
        ),
    };
    let steps = format!(
        "CREATE INDEX CONCURRENTLY {new} ON <table> (<the same columns>);\n\
         DROP INDEX CONCURRENTLY {old};\n\
         ALTER INDEX {new} RENAME TO {name};"
    );
    format!(
        "PostgreSQL {pg_version} has no REINDEX CONCURRENTLY (it comes with 12). Build a twin of \
         each index without blocking writes, then swap:\n{steps}\n\
         {CONCURRENTLY_OUTSIDE_TRANSACTION} An index behind a PRIMARY KEY or UNIQUE constraint \
         needs ALTER TABLE ... ADD CONSTRAINT ... USING INDEX on the new one instead of the \
         rename."
    )
}

/// The statement as written, with CONCURRENTLY put where PostgreSQL expects it.
fn with_concurrently(statement: &str) -> Option<String> {
    static REINDEX: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?is)^(\s*REINDEX\s+(?:\([^)]*\)\s*)?(?:INDEX|TABLE|SCHEMA|DATABASE))(\s|$)")
            .expect("valid regex")
    });
    REINDEX.is_match(statement).then(|| {
        REINDEX
            .replace(statement, "$1 CONCURRENTLY$2")
            .into_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing::{
        assert_mentions, only_violation, violations, violations_on, CREATE_DRAFT,
    };

    const HISTORY: &str = r#"CREATE TABLE "User" ("id" TEXT NOT NULL, "email" TEXT);
        CREATE INDEX "User_email_idx" ON "User"("email");"#;

    #[test]
    fn reindex_index_blocks_writes_and_reads_of_its_table() {
        let v = only_violation(HISTORY, r#"REINDEX INDEX "User_email_idx";"#, &RULE);
        assert_mentions(&v.message, "ACCESS EXCLUSIVE lock on the index and a SHARE lock on \"User\"");
        assert_mentions(&v.message, "every INSERT, UPDATE and DELETE waits");
        assert_mentions(&v.message, "nearly every read");
        assert_mentions(&v.help, r#"REINDEX INDEX CONCURRENTLY "User_email_idx";"#);
        assert_mentions(&v.help, "cannot run inside a transaction block");
    }

    #[test]
    fn reindex_table_schema_and_database_are_flagged() {
        let v = only_violation(HISTORY, "reindex (verbose) table \"User\";", &RULE);
        assert_mentions(&v.message, "SHARE lock on \"User\"");
        assert_mentions(&v.help, "reindex (verbose) table CONCURRENTLY \"User\";");
        let v = only_violation(HISTORY, "REINDEX SCHEMA public;", &RULE);
        assert_mentions(&v.help, "REINDEX SCHEMA CONCURRENTLY public;");
        let v = only_violation(HISTORY, "REINDEX DATABASE;", &RULE);
        assert_mentions(&v.help, "REINDEX DATABASE CONCURRENTLY;");
        let v = only_violation(HISTORY, "REINDEX SYSTEM;", &RULE);
        assert_mentions(&v.help, "cannot be reindexed CONCURRENTLY");
    }

    #[test]
    fn concurrently_is_fine() {
        for fine in [
            r#"REINDEX INDEX CONCURRENTLY "User_email_idx";"#,
            r#"REINDEX (CONCURRENTLY) TABLE "User";"#,
        ] {
            assert!(violations(HISTORY, fine, &RULE).is_empty(), "{fine}");
        }
    }

    #[test]
    fn objects_created_in_the_pending_set_are_fine() {
        let pending = format!(
            "{CREATE_DRAFT}CREATE INDEX \"Draft_email_idx\" ON \"Draft\"(\"email\");\n\
             REINDEX INDEX \"Draft_email_idx\";\nREINDEX TABLE \"Draft\";\n\
             CREATE SCHEMA staging;\nREINDEX SCHEMA staging;"
        );
        assert!(violations(HISTORY, &pending, &RULE).is_empty());
    }

    #[test]
    fn a_new_index_on_an_existing_table_still_blocks_it() {
        let pending = r#"CREATE INDEX CONCURRENTLY "User_id_idx" ON "User"("id");
            REINDEX INDEX "User_id_idx";"#;
        assert_eq!(violations(HISTORY, pending, &RULE).len(), 1);
    }

    #[test]
    fn unknown_index_counts_as_existing() {
        let v = only_violation("", "REINDEX INDEX app.orders_total_idx;", &RULE);
        assert_mentions(&v.message, "SHARE lock on its table");
    }

    #[test]
    fn before_postgres_12_there_is_no_concurrently() {
        let found = violations_on(11, HISTORY, r#"REINDEX INDEX "User_email_idx";"#, &RULE);
        assert_eq!(found.len(), 1);
        let help = &found[0].help;
        assert_mentions(help, "PostgreSQL 11 has no REINDEX CONCURRENTLY");
        assert_mentions(help, r#"CREATE INDEX CONCURRENTLY "User_email_idx_new" ON"#);
        assert_mentions(help, r#"DROP INDEX CONCURRENTLY "User_email_idx";"#);
        assert_mentions(help, r#"ALTER INDEX "User_email_idx_new" RENAME TO "User_email_idx";"#);
        assert!(!help.contains("REINDEX INDEX CONCURRENTLY"), "{help}");
    }
}
