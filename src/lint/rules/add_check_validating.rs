//! `add-check-validating`: ADD CHECK without NOT VALID scans the table under ACCESS EXCLUSIVE.
//!
//! `NOT VALID` adds the CHECK instantly (new rows are checked); a later `VALIDATE CONSTRAINT` checks
//! the old rows under SHARE UPDATE EXCLUSIVE, so reads and writes go on.

use super::advice::{self, Sql, FOR_THE_TABLE_SIZE};
use super::{Example, Impact, RuleContext, RuleInfo, Violation};
use crate::sql::{ConstraintKind, Op};
use crate::findings::Severity;

pub const RULE: RuleInfo = RuleInfo {
    id: "add-check-validating",
    default_severity: Severity::Error,
    impact: Impact::Blocks,
    summary: "ADD CHECK without NOT VALID scans the table under ACCESS EXCLUSIVE",
    check: Some(check),
    file: include_str!("add_check_validating.rs"),
    example: Example::Migration("ALTER TABLE \"User\" ADD CONSTRAINT \"User_email_check\" CHECK (\"email\" <> '');\n"),
};

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    let (table, constraint, inline_column) = match op {
        Op::AddConstraint { table, constraint } => (table, constraint, None),
        Op::AddColumn { table, column, .. } => {
            let inline = column
                .constraints
                .iter()
                .find(|c| matches!(c.kind, ConstraintKind::Check { .. }))?;
            (table, inline, Some(column.name.as_str()))
        }
        _ => return None,
    };
    let ConstraintKind::Check { expression } = &constraint.kind else {
        return None;
    };
    let same_migration = advice::scans_existing_rows_now(ctx, table, constraint)?;
    let sql = Sql::of(ctx);
    let table_sql = sql.table(table);
    let message = format!(
        "{same_migration}Adding CHECK ({expression}) on {table_sql} checks every existing row under an ACCESS \
         EXCLUSIVE lock: the running app can neither read nor write {table_sql} {FOR_THE_TABLE_SIZE}."
    );
    let name = match (&constraint.name, inline_column) {
        (Some(name), _) => sql.ident(name),
        (None, Some(column)) => sql.derived_name(table, &[column.to_string()], "check"),
        (None, None) => sql.derived_name(table, &[], "check"),
    };
    let add_column_first = inline_column
        .map(|col| {
            format!(
                "Add the column {} without the CHECK first, then:\n",
                sql.ident(col)
            )
        })
        .unwrap_or_default();
    let help = format!(
        "{add_column_first}Add it NOT VALID (instant; new and updated rows are checked from now on):\n\
         ALTER TABLE {table_sql} ADD CONSTRAINT {name} CHECK ({expression}) NOT VALID;\n\
         -- then in a later migration (SHARE UPDATE EXCLUSIVE: reads and writes go on):\n\
         ALTER TABLE {table_sql} VALIDATE CONSTRAINT {name};"
    );
    Some(Violation::new(message, help))
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::testing::{assert_mentions, only_violation, violations};
    use super::*;

    const HISTORY: &str = r#"CREATE TABLE "Order" ("id" TEXT NOT NULL, "total" INTEGER NOT NULL);"#;

    #[test]
    fn validating_check_on_existing_table_is_flagged() {
        let v = only_violation(
            HISTORY,
            r#"ALTER TABLE "Order" ADD CONSTRAINT "total_positive" CHECK ("total" >= 0);"#,
            &RULE,
        );
        assert_mentions(&v.message, "ACCESS EXCLUSIVE");
        assert_mentions(&v.message, "\"total\" >= 0");
        assert_mentions(&v.help, r#"ALTER TABLE "Order" ADD CONSTRAINT "total_positive" CHECK ("total" >= 0) NOT VALID;"#);
        assert_mentions(&v.help, r#"ALTER TABLE "Order" VALIDATE CONSTRAINT "total_positive";"#);
    }

    #[test]
    fn unnamed_check_gets_a_name_to_validate() {
        let v = only_violation(
            HISTORY,
            r#"ALTER TABLE "Order" ADD CHECK ("total" < 1000000);"#,
            &RULE,
        );
        assert_mentions(&v.help, r#"VALIDATE CONSTRAINT "Order_check";"#);
    }

    #[test]
    fn inline_check_on_added_column_is_flagged() {
        let v = only_violation(
            HISTORY,
            r#"ALTER TABLE "Order" ADD COLUMN "discount" INTEGER CHECK ("discount" >= 0);"#,
            &RULE,
        );
        assert_mentions(&v.help, r#"Add the column "discount" without the CHECK first"#);
        assert_mentions(&v.help, r#"ALTER TABLE "Order" ADD CONSTRAINT "Order_discount_check" CHECK ("discount" >= 0) NOT VALID;"#);
    }

    #[test]
    fn not_valid_validated_in_the_same_migration_is_flagged() {
        let pending = r#"ALTER TABLE "Order" ADD CONSTRAINT "total_positive" CHECK ("total" >= 0) NOT VALID;
            ALTER TABLE "Order" VALIDATE CONSTRAINT "total_positive";"#;
        let v = only_violation(HISTORY, pending, &RULE);
        assert!(
            v.message.starts_with("NOT VALID buys nothing here"),
            "{}",
            v.message
        );
        // Another constraint validated later does not count.
        let other = r#"ALTER TABLE "Order" ADD CONSTRAINT "total_positive" CHECK ("total" >= 0) NOT VALID;
            ALTER TABLE "Order" VALIDATE CONSTRAINT "something_else";"#;
        assert!(violations(HISTORY, other, &RULE).is_empty());
    }

    #[test]
    fn validating_after_the_files_own_commit_is_the_safe_pattern() {
        let pending = r#"ALTER TABLE "Order" ADD CONSTRAINT "total_positive" CHECK ("total" >= 0) NOT VALID;
            COMMIT;
            BEGIN;
            ALTER TABLE "Order" VALIDATE CONSTRAINT "total_positive";
            COMMIT;"#;
        assert!(violations(HISTORY, pending, &RULE).is_empty());
    }

    #[test]
    fn not_valid_is_fine() {
        let pending = r#"ALTER TABLE "Order" ADD CONSTRAINT "total_positive" CHECK ("total" >= 0) NOT VALID;"#;
        assert!(violations(HISTORY, pending, &RULE).is_empty());
    }

    #[test]
    fn check_on_new_table_is_fine() {
        let pending = r#"CREATE TABLE "Refund" ("id" TEXT NOT NULL, "amount" INTEGER NOT NULL);
            ALTER TABLE "Refund" ADD CONSTRAINT "amount_positive" CHECK ("amount" > 0);"#;
        assert!(violations(HISTORY, pending, &RULE).is_empty());
    }
}
