//! `drop-index-blocking`: DROP INDEX without CONCURRENTLY takes ACCESS EXCLUSIVE on the table.
//!
//! The drop itself is quick, but it must wait for every running query on the table, and while it
//! waits every new query on the table queues behind it: a long report stalls the whole app.
//!
//! An index the history does not know counts as existing, except for `DROP INDEX IF EXISTS` when
//! every statement before it was read (none unparsed, no file cut short by an unterminated token):
//! then the index was never created, and the statement does nothing and takes no lock. That
//! passes without a finding (a finding about a no-op would only be noise).

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
    if index.is_none() && *if_exists && ctx.schema.knows_every_index() {
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
    fn if_exists_of_an_index_postgresql_named_itself_still_blocks() {
        // PostgreSQL's names (checked on the server): "User_lower_idx", "User_name_idx1",
        // "Slot_during_excl"; the model cannot follow them, so no name is known to be missing.
        for (history, dropped) in [
            (r#"CREATE INDEX ON "User"(lower("name"));"#, "User_lower_idx"),
            (
                r#"CREATE INDEX ON "User"("name"); CREATE INDEX ON "User"("name");"#,
                "User_name_idx1",
            ),
            (
                r#"CREATE TABLE "Slot" (during tstzrange, EXCLUDE USING gist (during WITH &&));"#,
                "Slot_during_excl",
            ),
        ] {
            let history = format!(r#"CREATE TABLE "User" ("id" TEXT NOT NULL, "name" TEXT); {history}"#);
            let drop = format!(r#"DROP INDEX IF EXISTS "{dropped}";"#);
            assert_eq!(violations(&history, &drop, &RULE).len(), 1, "{history}");
        }
    }

    #[test]
    fn dropping_an_existing_index_blocks_the_table() {
        let v = only_violation(HISTORY, r#"DROP INDEX "User_name_idx";"#, &RULE);
        assert_mentions(&v.message, "ACCESS EXCLUSIVE lock on \"User\"");
        assert_mentions(&v.help, r#"DROP INDEX CONCURRENTLY "User_name_idx";"#);
    }

    #[test]
    fn unknown_index_counts_as_existing_without_if_exists() {
        let v = only_violation(HISTORY, "DROP INDEX app.orders_total_idx;", &RULE);
        assert_mentions(&v.help, "DROP INDEX CONCURRENTLY app.orders_total_idx;");
    }

    #[test]
    fn if_exists_of_an_index_a_fully_read_history_never_created_does_nothing() {
        assert!(violations(HISTORY, "DROP INDEX IF EXISTS \"User_email_idx\";", &RULE).is_empty());
        assert!(violations("", "DROP INDEX IF EXISTS app.orders_total_idx;", &RULE).is_empty());
        // Created and dropped in the history: gone.
        let dropped = format!("{HISTORY}\nDROP INDEX \"User_name_idx\";");
        assert!(violations(&dropped, "DROP INDEX IF EXISTS \"User_name_idx\";", &RULE).is_empty());
        // Dropped twice in the pending set: the second does nothing.
        let twice = "DROP INDEX CONCURRENTLY \"User_name_idx\";\nDROP INDEX IF EXISTS \"User_name_idx\";";
        assert!(violations(HISTORY, twice, &RULE).is_empty());
        // An existing index is still dropped, IF EXISTS or not.
        let v = only_violation(HISTORY, "DROP INDEX IF EXISTS \"User_name_idx\";", &RULE);
        assert_mentions(&v.help, "DROP INDEX CONCURRENTLY IF EXISTS \"User_name_idx\";");
    }

    #[test]
    fn if_exists_counts_an_unknown_index_as_existing_after_an_unread_statement() {
        let drop = "DROP INDEX IF EXISTS \"Legacy_idx\";";
        for unread in [
            // Dynamic SQL may have created it.
            "DO $$ BEGIN EXECUTE format('CREATE INDEX %I ON %I (id)', 'Legacy_idx', 'User'); END $$;",
            // LIKE ... INCLUDING INDEXES creates indexes under names not written.
            "CREATE TABLE \"Legacy\" (LIKE \"User\" INCLUDING ALL);",
            // A file cut short by an unterminated string.
            "SELECT 'unterminated",
        ] {
            let history = format!("{HISTORY}\n{unread}");
            assert_eq!(violations(&history, drop, &RULE).len(), 1, "{unread}");
        }
        // An unread statement earlier in the pending set counts too.
        let pending = format!("FROBNICATE INDEX \"Legacy_idx\";\n{drop}");
        assert_eq!(violations(HISTORY, &pending, &RULE).len(), 1);
        assert!(violations(HISTORY, drop, &RULE).is_empty());
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
