//! `add-unique-blocking`: ADD UNIQUE / PRIMARY KEY builds an index under ACCESS EXCLUSIVE (use
//! USING INDEX).
//!
//! The constraint builds its index while holding ACCESS EXCLUSIVE on the table. Building the
//! unique index CONCURRENTLY first and attaching it with `USING INDEX` makes the lock a moment.

use super::advice::{self, Sql, CONCURRENTLY_OUTSIDE_TRANSACTION, FOR_THE_TABLE_SIZE};
use super::{Example, Impact, RuleContext, RuleInfo, Violation};
use crate::sql::{ConstraintKind, ConstraintSpec, Op};
use crate::findings::Severity;

pub const RULE: RuleInfo = RuleInfo {
    id: "add-unique-blocking",
    default_severity: Severity::Error,
    impact: Impact::Blocks,
    summary: "ADD UNIQUE / PRIMARY KEY builds an index under ACCESS EXCLUSIVE (use USING INDEX)",
    check: Some(check),
    file: include_str!("add_unique_blocking.rs"),
    example: Example::Migration("ALTER TABLE \"User\" ADD CONSTRAINT \"User_email_key\" UNIQUE (\"email\");\n"),
};

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    let (table, constraint) = match op {
        Op::AddConstraint { table, constraint } => (table, constraint),
        Op::AddColumn { table, column, .. } => {
            let inline = column.constraints.iter().find(|c| builds_index(c))?;
            (table, inline)
        }
        _ => return None,
    };
    if !builds_index(constraint) || !advice::has_rows_in_production(ctx, table) {
        return None;
    }
    let (kind, columns, suffix) = match &constraint.kind {
        ConstraintKind::PrimaryKey { columns, .. } => ("PRIMARY KEY", columns, "pkey"),
        ConstraintKind::Unique { columns, .. } => ("UNIQUE", columns, "key"),
        _ => return None,
    };
    let sql = Sql::of(ctx);
    let table_sql = sql.table(table);
    let message = format!(
        "Adding {kind} ({cols}) on {table_sql} builds its unique index under an ACCESS EXCLUSIVE \
         lock: the running app can neither read nor write {table_sql} {FOR_THE_TABLE_SIZE}.",
        cols = sql.column_list(columns),
    );
    let name = match &constraint.name {
        Some(name) => sql.ident(name),
        None if suffix == "pkey" => sql.derived_name(table, &[], suffix),
        None => sql.derived_name(table, columns, suffix),
    };
    let primary_key_note = if suffix == "pkey" {
        "\nThe columns must already be NOT NULL, or PRIMARY KEY USING INDEX sets it with a full \
         scan: make them NOT NULL first the safe way (CHECK ... NOT VALID, VALIDATE, SET NOT NULL)."
    } else {
        ""
    };
    let help = format!(
        "Build the unique index without blocking, then attach it (a brief lock, no build):\n\
         CREATE UNIQUE INDEX CONCURRENTLY {name} ON {table_sql} ({cols});\n\
         ALTER TABLE {table_sql} ADD CONSTRAINT {name} {kind} USING INDEX {name};\n\
         {CONCURRENTLY_OUTSIDE_TRANSACTION}{primary_key_note}",
        cols = sql.column_list(columns),
    );
    Some(Violation::new(message, help))
}

/// UNIQUE or PRIMARY KEY that builds a new index (not `USING INDEX` an existing one).
fn builds_index(constraint: &ConstraintSpec) -> bool {
    matches!(
        &constraint.kind,
        ConstraintKind::PrimaryKey {
            using_index: None,
            ..
        } | ConstraintKind::Unique {
            using_index: None,
            ..
        }
    )
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::testing::{assert_mentions, only_violation, violations};
    use super::*;

    const HISTORY: &str = r#"CREATE TABLE "User" ("id" TEXT NOT NULL, "email" TEXT NOT NULL);"#;

    #[test]
    fn unique_constraint_on_existing_table_is_flagged() {
        let v = only_violation(
            HISTORY,
            r#"ALTER TABLE "User" ADD CONSTRAINT "User_email_key" UNIQUE ("email");"#,
            &RULE,
        );
        assert_mentions(&v.message, "ACCESS EXCLUSIVE");
        assert_mentions(&v.help, r#"CREATE UNIQUE INDEX CONCURRENTLY "User_email_key" ON "User" ("email");"#);
        assert_mentions(
            &v.help,
            r#"ALTER TABLE "User" ADD CONSTRAINT "User_email_key" UNIQUE USING INDEX "User_email_key";"#,
        );
    }

    #[test]
    fn primary_key_gets_postgres_name_and_not_null_note() {
        let v = only_violation(
            HISTORY,
            r#"ALTER TABLE "User" ADD PRIMARY KEY ("id");"#,
            &RULE,
        );
        assert_mentions(&v.help, r#"PRIMARY KEY USING INDEX "User_pkey";"#);
        assert_mentions(&v.help, "NOT NULL");
    }

    #[test]
    fn inline_unique_on_added_column_is_flagged() {
        let v = only_violation(
            HISTORY,
            r#"ALTER TABLE "User" ADD COLUMN "handle" TEXT UNIQUE;"#,
            &RULE,
        );
        assert_mentions(&v.help, r#"CREATE UNIQUE INDEX CONCURRENTLY "User_handle_key" ON "User" ("handle");"#);
        let new_table = r#"CREATE TABLE "Org" ("id" TEXT NOT NULL);
            ALTER TABLE "Org" ADD COLUMN "slug" TEXT UNIQUE;"#;
        assert!(violations(HISTORY, new_table, &RULE).is_empty());
    }

    #[test]
    fn using_index_is_fine() {
        let pending = r#"CREATE UNIQUE INDEX CONCURRENTLY "User_email_key" ON "User"("email");
            ALTER TABLE "User" ADD CONSTRAINT "User_email_key" UNIQUE USING INDEX "User_email_key";"#;
        assert!(violations(HISTORY, pending, &RULE).is_empty());
    }

    #[test]
    fn new_table_is_fine() {
        let pending = r#"CREATE TABLE "Team" ("id" TEXT NOT NULL, "slug" TEXT NOT NULL);
            ALTER TABLE "Team" ADD CONSTRAINT "Team_slug_key" UNIQUE ("slug");"#;
        assert!(violations(HISTORY, pending, &RULE).is_empty());
    }
}
