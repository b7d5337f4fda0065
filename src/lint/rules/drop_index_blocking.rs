//! `drop-index-blocking`: DROP INDEX without CONCURRENTLY takes ACCESS EXCLUSIVE on the table.
//!
//! The drop itself is quick, but it must wait for every running query on the table, and while it
//! waits every new query on the table queues behind it: a long report stalls the whole app.

use super::advice::{self, Sql, CONCURRENTLY_OUTSIDE_TRANSACTION};
use super::{Example, Impact, RuleContext, RuleInfo, Violation};
use crate::sql::Op;
use crate::findings::Severity;

pub const RULE: RuleInfo = RuleInfo {
    id: "drop-index-blocking",
    default_severity: Severity::Error,
    impact: Impact::Blocks,
    summary: "DROP INDEX without CONCURRENTLY takes ACCESS EXCLUSIVE on the table",
    check: Some(check),
    file: include_str!("drop_index_blocking.rs"),
    example: Example::Migration("DROP INDEX \"User_email_idx\";\n"),
};

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    let Op::DropIndex {
        name,
        concurrently: false,
        if_exists,
    } = op
    else {
        return None;
    };
    let index = ctx.schema.index(name);
    if index.is_some_and(|i| i.is_new || !advice::has_rows_in_production(ctx, &i.table)) {
        return None;
    }
    let sql = Sql::of(ctx);
    let name = sql.table(name);
    let table = index
        .map(|i| sql.table(&i.table))
        .unwrap_or_else(|| "the index's table".to_string());
    let message = format!(
        "DROP INDEX {name} takes an ACCESS EXCLUSIVE lock on {table}: it waits for every running \
         query on that table, and meanwhile every new read and write of it queues behind the \
         DROP, so one slow query stalls the running app."
    );
    let if_exists = if *if_exists { "IF EXISTS " } else { "" };
    let help = format!(
        "Drop it without blocking reads and writes:\nDROP INDEX CONCURRENTLY {if_exists}{name};\n\
         {CONCURRENTLY_OUTSIDE_TRANSACTION}"
    );
    Some(Violation::new(message, help))
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::testing::{assert_mentions, only_violation, violations};
    use super::*;

    const HISTORY: &str = r#"CREATE TABLE "User" ("id" TEXT NOT NULL, "name" TEXT);
        CREATE INDEX "User_name_idx" ON "User"("name");"#;

    #[test]
    fn dropping_an_existing_index_blocks_the_table() {
        let v = only_violation(HISTORY, r#"DROP INDEX "User_name_idx";"#, &RULE);
        assert_mentions(&v.message, "ACCESS EXCLUSIVE lock on \"User\"");
        assert_mentions(&v.help, r#"DROP INDEX CONCURRENTLY "User_name_idx";"#);
    }

    #[test]
    fn unknown_index_counts_as_existing() {
        let v = only_violation("", "DROP INDEX IF EXISTS app.orders_total_idx;", &RULE);
        assert_mentions(&v.help, "DROP INDEX CONCURRENTLY IF EXISTS app.orders_total_idx;");
    }

    #[test]
    fn concurrently_is_fine() {
        assert!(violations(
            HISTORY,
            r#"DROP INDEX CONCURRENTLY "User_name_idx";"#,
            &RULE
        )
        .is_empty());
    }

    #[test]
    fn index_created_in_the_pending_set_is_fine() {
        let pending = r#"CREATE INDEX CONCURRENTLY "User_id_idx" ON "User"("id");
            DROP INDEX "User_id_idx";"#;
        assert!(violations(HISTORY, pending, &RULE).is_empty());
        let new_table = r#"CREATE TABLE "Tag" ("id" TEXT);
            CREATE INDEX "Tag_id_idx" ON "Tag"("id");
            DROP INDEX "Tag_id_idx";"#;
        assert!(violations(HISTORY, new_table, &RULE).is_empty());
    }
}
