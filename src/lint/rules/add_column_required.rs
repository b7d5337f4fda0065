//! `add-column-required`: ADD COLUMN NOT NULL without DEFAULT: fails on a table with rows.
//!
//! PostgreSQL fills the new column of every existing row with NULL, so NOT NULL without a DEFAULT
//! fails with 23502 as soon as the table has one row: the deploy that passed on an empty dev
//! database breaks in production. Identity, generated and SERIAL columns fill themselves.

use super::advice::{self, Sql};
use super::{Example, Impact, RuleContext, RuleInfo, Violation};
use crate::sql::{ColumnSpec, ConstraintKind, Op};
use crate::findings::Severity;

pub const RULE: RuleInfo = RuleInfo {
    id: "add-column-required",
    default_severity: Severity::Error,
    impact: Impact::FailsToApply,
    summary: "ADD COLUMN NOT NULL without DEFAULT: fails on a table with rows",
    check: Some(check),
    file: include_str!("add_column_required.rs"),
    example: Example::Migration("ALTER TABLE \"User\" ADD COLUMN \"age\" INTEGER NOT NULL;\n"),
};

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    let Op::AddColumn {
        table,
        column,
        if_not_exists,
    } = op
    else {
        return None;
    };
    if advice::is_noop_add_column(ctx, table, &column.name, *if_not_exists) {
        return None;
    }
    if !is_required_without_value(column) || !advice::has_rows_in_production(ctx, table) {
        return None;
    }
    let sql = Sql::of(ctx);
    let col = sql.ident(&column.name);
    let data_type = &column.data_type.sql;
    let table_sql = sql.table(table);
    let message = format!(
        "Added the required column {col} to {table_sql} without a default value: PostgreSQL fills \
         existing rows with NULL, so on a table that has rows the migration fails with 23502 \
         (column {col} of relation {table_sql} contains null values) and the deploy stops."
    );
    let constant_default = if ctx.pg_version >= 11 {
        "a constant default is stored once in the catalog: no rewrite".to_string()
    } else {
        format!(
            "note: on PostgreSQL {} any default rewrites the table under ACCESS EXCLUSIVE",
            ctx.pg_version
        )
    };
    let backfill = advice::batched_update(
        ctx,
        table,
        &format!("{col} = <value>"),
        &format!("{col} IS NULL"),
    );
    let help = format!(
        "Either give it a default ({constant_default}):\n\
         ALTER TABLE {table_sql} ADD COLUMN {col} {data_type} NOT NULL DEFAULT <value>;\n\
         or add it nullable, backfill, then enforce NOT NULL without a long lock:\n\
         ALTER TABLE {table_sql} ADD COLUMN {col} {data_type};\n\
         -- outside the migration, repeat until it updates 0 rows:\n\
         {backfill}\n\
         {not_null}",
        not_null = advice::set_not_null_safely(ctx, table, &column.name),
    );
    Some(Violation::new(message, help))
}

/// NOT NULL (or PRIMARY KEY) and nothing that would give existing rows a value.
fn is_required_without_value(column: &ColumnSpec) -> bool {
    let primary_key = column
        .constraints
        .iter()
        .any(|c| matches!(c.kind, ConstraintKind::PrimaryKey { .. }));
    // `DEFAULT NULL` gives existing rows NULL all the same.
    let fills_itself = column
        .default
        .as_deref()
        .is_some_and(|d| !super::add_column_rewrite::is_null(d))
        || column.identity
        || column.generated_stored
        || column.data_type.base.starts_with("serial");
    (column.not_null || primary_key) && !fills_itself
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::testing::{assert_mentions, only_violation, violations, violations_on};
    use super::*;

    const HISTORY: &str = r#"CREATE TABLE "User" ("id" TEXT NOT NULL, "email" TEXT NOT NULL,
        CONSTRAINT "User_pkey" PRIMARY KEY ("id"));"#;

    #[test]
    fn required_column_without_default_fails_on_rows() {
        let v = only_violation(
            HISTORY,
            r#"ALTER TABLE "User" ADD COLUMN "tenantId" TEXT NOT NULL;"#,
            &RULE,
        );
        assert_mentions(&v.message, "Added the required column \"tenantId\" to \"User\"");
        assert_mentions(&v.message, "23502");
        assert_mentions(&v.help, "ALTER TABLE \"User\" ADD COLUMN \"tenantId\" TEXT;");
        assert_mentions(&v.help, "NOT NULL DEFAULT <value>");
        assert_mentions(&v.help, "ADD CONSTRAINT \"User_tenantId_not_null\" CHECK (\"tenantId\" IS NOT NULL) NOT VALID;");
        assert_mentions(&v.help, "WHERE \"id\" IN (SELECT \"id\" FROM \"User\" WHERE \"tenantId\" IS NULL LIMIT 1000)");
    }

    #[test]
    fn explicit_default_null_is_no_value() {
        for add in [
            r#"ALTER TABLE "User" ADD COLUMN "tenantId" TEXT NOT NULL DEFAULT NULL;"#,
            r#"ALTER TABLE "User" ADD COLUMN "tenantId" TEXT DEFAULT NULL::text NOT NULL;"#,
        ] {
            only_violation(HISTORY, add, &RULE);
        }
    }

    #[test]
    fn defaults_nullable_identity_and_serial_are_fine() {
        for add in [
            r#"ALTER TABLE "User" ADD COLUMN "plan" TEXT NOT NULL DEFAULT 'free';"#,
            r#"ALTER TABLE "User" ADD COLUMN "nickname" TEXT;"#,
            r#"ALTER TABLE "User" ADD COLUMN "seq" INTEGER GENERATED ALWAYS AS IDENTITY;"#,
            r#"ALTER TABLE "User" ADD COLUMN "n" SERIAL NOT NULL;"#,
            r#"ALTER TABLE "User" ADD COLUMN "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;"#,
        ] {
            assert!(violations(HISTORY, add, &RULE).is_empty(), "{add}");
        }
    }

    #[test]
    fn if_not_exists_on_a_present_column_is_a_no_op() {
        let again = r#"ALTER TABLE "User" ADD COLUMN IF NOT EXISTS "email" TEXT NOT NULL;"#;
        assert!(violations(HISTORY, again, &RULE).is_empty());
        let missing = r#"ALTER TABLE "User" ADD COLUMN IF NOT EXISTS "phone" TEXT NOT NULL;"#;
        assert_eq!(violations(HISTORY, missing, &RULE).len(), 1);
    }

    #[test]
    fn new_table_is_exempt() {
        let pending = r#"CREATE TABLE "Team" ("id" TEXT NOT NULL);
            ALTER TABLE "Team" ADD COLUMN "name" TEXT NOT NULL;"#;
        assert!(violations("", pending, &RULE).is_empty());
    }

    #[test]
    fn unknown_table_counts_as_existing() {
        assert_eq!(
            violations(
                "",
                "ALTER TABLE accounts ADD COLUMN owner_id bigint NOT NULL;",
                &RULE
            )
            .len(),
            1
        );
    }

    #[test]
    fn before_postgres_11_the_default_advice_warns_about_the_rewrite() {
        let v = violations_on(
            10,
            HISTORY,
            r#"ALTER TABLE "User" ADD COLUMN "x" INT NOT NULL;"#,
            &RULE,
        );
        assert!(
            v[0].help.contains("on PostgreSQL 10 any default rewrites"),
            "{}",
            v[0].help
        );
    }
}
