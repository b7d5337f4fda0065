//! `create-index-blocking`: CREATE INDEX without CONCURRENTLY blocks writes for the whole build.
//!
//! A plain CREATE INDEX holds a SHARE lock on the table while it reads every row and sorts: reads
//! go on, every INSERT/UPDATE/DELETE waits. CONCURRENTLY builds without blocking writes.

use std::sync::LazyLock;

use regex::Regex;

use super::advice::{self, Sql, CONCURRENTLY_OUTSIDE_TRANSACTION, FOR_THE_TABLE_SIZE};
use super::{Example, Impact, RuleContext, RuleInfo, Violation};
use crate::lint::locks::{self, LockMode};
use crate::sql::{ObjectName, Op};
use crate::findings::Severity;

pub const RULE: RuleInfo = RuleInfo {
    id: "create-index-blocking",
    default_severity: Severity::Error,
    impact: Impact::Blocks,
    summary: "CREATE INDEX without CONCURRENTLY blocks writes for the whole build",
    check: Some(check),
    file: include_str!("create_index_blocking.rs"),
    example: Example::Migration("CREATE INDEX \"User_name_idx\" ON \"User\"(\"name\");\n"),
};

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    let Op::CreateIndex {
        name,
        table,
        columns,
        unique,
        concurrently: false,
        if_not_exists,
        ..
    } = op
    else {
        return None;
    };
    if !advice::has_rows_in_production(ctx, table) {
        return None;
    }
    let already_built = |n: &String| {
        let index = ObjectName::new(table.schema.as_deref(), n);
        ctx.schema.index(&index).is_some()
    };
    if *if_not_exists && name.as_ref().is_some_and(already_built) {
        // IF NOT EXISTS on an index the table already has: nothing is built.
        return None;
    }
    let kind = if *unique {
        "CREATE UNIQUE INDEX"
    } else {
        "CREATE INDEX"
    };
    let sql = Sql::of(ctx);
    let table_sql = sql.table(table);
    // After an earlier ACCESS EXCLUSIVE on the table in this transaction, reads wait too.
    let app = locks::what_the_app_can_do(
        ctx.held_locks,
        ctx.schema,
        table,
        &table_sql,
        LockMode::Share,
    );
    let message = format!(
        "{kind} on {table_sql} without CONCURRENTLY holds a SHARE lock for the whole build: \
         {app} {FOR_THE_TABLE_SIZE}."
    );
    let concurrent = with_concurrently(&ctx.statement.text).unwrap_or_else(|| {
        let name = name
            .as_deref()
            .map(|n| {
                format!(
                    "{}{} ",
                    if *if_not_exists { "IF NOT EXISTS " } else { "" },
                    sql.ident(n)
                )
            })
            .unwrap_or_default();
        format!(
            "{kind} CONCURRENTLY {name}ON {table_sql} ({})",
            sql.column_list(columns)
        )
    });
    let help = format!(
        "Build it without blocking writes:\n{concurrent};\n{CONCURRENTLY_OUTSIDE_TRANSACTION} \
         If the build fails it leaves an INVALID index: DROP INDEX CONCURRENTLY it and retry."
    );
    Some(Violation::new(message, help))
}

/// The statement as written, with CONCURRENTLY put where PostgreSQL expects it.
fn with_concurrently(statement: &str) -> Option<String> {
    static CREATE_INDEX: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?is)^(\s*CREATE\s+(?:UNIQUE\s+)?INDEX)(\s)").expect("valid regex")
    });
    CREATE_INDEX.is_match(statement).then(|| {
        CREATE_INDEX
            .replace(statement, "$1 CONCURRENTLY$2")
            .into_owned()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn after_an_access_exclusive_in_the_same_transaction_reads_wait_too() {
        let pending = "ALTER TABLE \"User\" ADD COLUMN \"nickname\" TEXT;\n\
                       CREATE INDEX i ON \"User\" (email);\n";
        let v = only_violation(HISTORY, pending, &RULE);
        assert!(!v.message.contains("can still read"), "{}", v.message);
        assert_mentions(&v.message, "line 1 of this transaction already holds ACCESS EXCLUSIVE");
        let alone = only_violation(HISTORY, "CREATE INDEX i ON \"User\" (email);\n", &RULE);
        assert_mentions(&alone.message, "can still read");
    }

    use crate::lint::rules::testing::{assert_mentions, only_violation, violations};
    use super::*;

    const HISTORY: &str =
        r#"CREATE TABLE "User" ("id" TEXT NOT NULL, "email" TEXT NOT NULL, "name" TEXT);"#;

    #[test]
    fn plain_index_on_existing_table_blocks_writes() {
        let v = only_violation(
            HISTORY,
            r#"CREATE INDEX "User_name_idx" ON "User"("name");"#,
            &RULE,
        );
        assert_mentions(&v.message, "SHARE lock");
        assert_mentions(&v.message, "INSERT, UPDATE and DELETE");
        assert_mentions(&v.help, r#"CREATE INDEX CONCURRENTLY "User_name_idx" ON "User"("name");"#);
        assert_mentions(&v.help, "cannot run inside a transaction block");
    }

    #[test]
    fn unique_index_keeps_the_statement_as_written() {
        let v = only_violation(
            HISTORY,
            r#"create unique index if not exists "User_email_key" on "User" using btree ("email");"#,
            &RULE,
        );
        assert!(v.message.starts_with("CREATE UNIQUE INDEX"));
        assert_mentions(&v.help, r#"create unique index CONCURRENTLY if not exists "User_email_key" on "User" using btree ("email");"#);
    }

    #[test]
    fn if_not_exists_on_an_existing_index_builds_nothing() {
        let history = format!(r#"{HISTORY} CREATE INDEX "User_name_idx" ON "User"("name");"#);
        let again = r#"CREATE INDEX IF NOT EXISTS "User_name_idx" ON "User"("name");"#;
        assert!(violations(&history, again, &RULE).is_empty());
        assert_eq!(violations(HISTORY, again, &RULE).len(), 1);
    }

    #[test]
    fn concurrently_is_fine() {
        assert!(violations(
            HISTORY,
            r#"CREATE INDEX CONCURRENTLY "User_name_idx" ON "User"("name");"#,
            &RULE
        )
        .is_empty());
    }

    #[test]
    fn index_on_new_table_is_fine() {
        let pending = r#"CREATE TABLE "Post" ("id" TEXT NOT NULL, "authorId" TEXT NOT NULL);
            CREATE INDEX "Post_authorId_idx" ON "Post"("authorId");"#;
        assert!(violations(HISTORY, pending, &RULE).is_empty());
    }

    #[test]
    fn unknown_table_counts_as_existing() {
        assert_eq!(
            violations("", "CREATE INDEX ON events (created_at);", &RULE).len(),
            1
        );
    }
}
