//! `add-foreign-key-validating`: ADD FOREIGN KEY without NOT VALID scans the table while blocking
//! writes on both tables.
//!
//! Adding a validated foreign key takes SHARE ROW EXCLUSIVE on the constrained and the referenced
//! table and checks every existing row. `NOT VALID` adds it instantly (new rows are checked), and
//! a later `VALIDATE CONSTRAINT` checks the old rows under SHARE UPDATE EXCLUSIVE (writes go on).
//! A new table with a foreign key to an existing one is what Prisma writes for every new model: the
//! new table is empty, nothing to scan.

use super::advice::{self, Sql, FOR_THE_TABLE_SIZE};
use super::{Example, Impact, RuleContext, RuleInfo, Violation};
use crate::sql::{ConstraintKind, ConstraintSpec, ObjectName, Op};
use crate::findings::Severity;

pub const RULE: RuleInfo = RuleInfo {
    id: "add-foreign-key-validating",
    default_severity: Severity::Error,
    impact: Impact::Blocks,
    summary: "ADD FOREIGN KEY without NOT VALID scans the table while blocking writes on both tables",
    check: Some(check),
    file: include_str!("add_foreign_key_validating.rs"),
    example: Example::Migration("ALTER TABLE \"User\" ADD CONSTRAINT \"User_teamId_fkey\" FOREIGN KEY (\"teamId\") REFERENCES \"Team\"(\"id\");\n"),
};

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    let (table, constraint, inline_column) = match op {
        Op::AddConstraint { table, constraint } => (table, constraint, None),
        // PostgreSQL skips validating an inline REFERENCES when the new column has no default:
        // every existing row holds NULL, which satisfies any foreign key.
        Op::AddColumn { table, column, .. } if column.default.is_some() => {
            let inline = column
                .constraints
                .iter()
                .find(|c| matches!(c.kind, ConstraintKind::ForeignKey { .. }))?;
            (table, inline, Some(column.name.as_str()))
        }
        _ => return None,
    };
    let ConstraintKind::ForeignKey {
        columns,
        references,
        referenced_columns,
    } = &constraint.kind
    else {
        return None;
    };
    let same_migration = advice::scans_existing_rows_now(ctx, table, constraint)?;
    let sql = Sql::of(ctx);
    let table_sql = sql.table(table);
    let references_sql = sql.table(references);
    let message = format!(
        "{same_migration}Adding the foreign key on {table_sql} ({cols}) → {references_sql} validates every existing row \
         of {table_sql} while holding SHARE ROW EXCLUSIVE locks on {table_sql} and {references_sql}: the \
         running app cannot insert, update or delete in either table {FOR_THE_TABLE_SIZE}.",
        cols = sql.column_list(columns),
    );
    let name = constraint_name(&sql, table, constraint, columns);
    let add_not_valid = match inline_column {
        None if is_whole_statement(ctx) => {
            format!("{} NOT VALID;", ctx.statement.text.trim_end())
        }
        _ => format!(
            "ALTER TABLE {table_sql} ADD CONSTRAINT {name} FOREIGN KEY ({cols}) REFERENCES {references_sql}{refs} NOT VALID;",
            cols = sql.column_list(columns),
            refs = if referenced_columns.is_empty() {
                String::new()
            } else {
                format!(" ({})", sql.column_list(referenced_columns))
            },
        ),
    };
    let add_column_first = inline_column
        .map(|col| {
            format!(
                "Add the column without REFERENCES first, then the constraint:\n\
                 (ALTER TABLE {table_sql} ADD COLUMN {} ... without the REFERENCES clause;)\n",
                sql.ident(col)
            )
        })
        .unwrap_or_default();
    let help = format!(
        "{add_column_first}Add it NOT VALID (instant; new and updated rows are checked from now on):\n\
         {add_not_valid}\n\
         -- then in a later migration (SHARE UPDATE EXCLUSIVE: reads and writes go on):\n\
         ALTER TABLE {table_sql} VALIDATE CONSTRAINT {name};"
    );
    Some(Violation::new(message, help))
}

/// The statement is an ALTER TABLE adding exactly this constraint (not, say, a DO block around
/// it), so `NOT VALID` can simply be appended to it.
fn is_whole_statement(ctx: &RuleContext) -> bool {
    let text = ctx.statement.text.trim_start().to_ascii_uppercase();
    ctx.statement.ops.len() == 1
        && matches!(ctx.statement.ops[0], Op::AddConstraint { .. })
        && text.starts_with("ALTER")
        && !text.contains("NOT VALID")
        && !text.contains("--")
}

/// The constraint's own name, or the one PostgreSQL gives it (`table_col_fkey`).
fn constraint_name(
    sql: &Sql,
    table: &ObjectName,
    constraint: &ConstraintSpec,
    columns: &[String],
) -> String {
    match &constraint.name {
        Some(name) => sql.ident(name),
        None => sql.derived_name(table, columns, "fkey"),
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::testing::{assert_mentions, only_violation, violations};
    use super::*;

    const HISTORY: &str = r#"CREATE TABLE "User" ("id" TEXT NOT NULL, CONSTRAINT "User_pkey" PRIMARY KEY ("id"));
        CREATE TABLE "Post" ("id" TEXT NOT NULL, "authorId" TEXT);"#;
    const PRISMA_FK: &str = r#"ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;"#;

    #[test]
    fn validating_foreign_key_on_existing_table_is_flagged() {
        let v = only_violation(HISTORY, PRISMA_FK, &RULE);
        assert_mentions(&v.message, "SHARE ROW EXCLUSIVE");
        assert_mentions(&v.message, "\"Post\" and \"User\"");
        assert_mentions(&v.help, r#"REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE NOT VALID;"#);
        assert_mentions(&v.help, r#"ALTER TABLE "Post" VALIDATE CONSTRAINT "Post_authorId_fkey";"#);
    }

    #[test]
    fn not_valid_then_validate_is_fine() {
        let pending = r#"ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") NOT VALID;"#;
        assert!(violations(HISTORY, pending, &RULE).is_empty());
    }

    #[test]
    fn not_valid_validated_in_the_same_migration_is_flagged() {
        let pending = r#"ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") NOT VALID;
            ALTER TABLE "Post" VALIDATE CONSTRAINT "Post_authorId_fkey";"#;
        let v = only_violation(HISTORY, pending, &RULE);
        assert!(
            v.message.starts_with("NOT VALID buys nothing here"),
            "{}",
            v.message
        );
        assert_mentions(&v.help, "in a later migration");
    }

    #[test]
    fn new_table_with_foreign_key_to_existing_table_is_fine() {
        let pending = r#"CREATE TABLE "Comment" ("id" TEXT NOT NULL, "userId" TEXT NOT NULL);
            ALTER TABLE "Comment" ADD CONSTRAINT "Comment_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;"#;
        assert!(violations(HISTORY, pending, &RULE).is_empty());
    }

    #[test]
    fn inline_references_on_added_column_with_default_is_flagged() {
        // Without a default every row is NULL and PostgreSQL skips the validation.
        let no_default =
            r#"ALTER TABLE "Post" ADD COLUMN "editorId" TEXT REFERENCES "User"("id");"#;
        assert!(violations(HISTORY, no_default, &RULE).is_empty());
        let v = only_violation(
            HISTORY,
            r#"ALTER TABLE "Post" ADD COLUMN "editorId" TEXT DEFAULT 'system' REFERENCES "User"("id");"#,
            &RULE,
        );
        assert_mentions(&v.message, "SHARE ROW EXCLUSIVE");
        assert_mentions(&v.help, "without REFERENCES first");
        assert_mentions(&v.help, r#"ALTER TABLE "Post" ADD CONSTRAINT "Post_editorId_fkey" FOREIGN KEY ("editorId") REFERENCES "User" ("id") NOT VALID;"#);
    }

    #[test]
    fn inside_a_do_block_the_advice_is_rebuilt_not_appended() {
        let pending = format!("DO $$ BEGIN {PRISMA_FK} END $$;");
        let v = only_violation(HISTORY, &pending, &RULE);
        assert!(!v.help.contains("END $$ NOT VALID"), "{}", v.help);
        assert_mentions(&v.help, r#"ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User" ("id") NOT VALID;"#);
    }

    #[test]
    fn unnamed_constraint_gets_postgres_default_name() {
        let v = only_violation(
            "",
            "ALTER TABLE orders ADD FOREIGN KEY (customer_id) REFERENCES customers (id);",
            &RULE,
        );
        assert_mentions(&v.help, "VALIDATE CONSTRAINT orders_customer_id_fkey;");
    }
}
