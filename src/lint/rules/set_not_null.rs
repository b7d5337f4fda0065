//! `set-not-null`: SET NOT NULL scans the table under ACCESS EXCLUSIVE unless a validated CHECK
//! (col IS NOT NULL) exists.
//!
//! From PostgreSQL 12 a validated `CHECK (col IS NOT NULL)` proves there is no NULL and the scan is
//! skipped; the CHECK itself can be validated without blocking (SHARE UPDATE EXCLUSIVE).

use super::advice::{self, Sql, FOR_THE_TABLE_SIZE};
use super::{Example, Impact, RuleContext, RuleInfo, Violation};
use crate::sql::Op;
use crate::findings::Severity;

pub const RULE: RuleInfo = RuleInfo {
    id: "set-not-null",
    default_severity: Severity::Error,
    impact: Impact::Blocks,
    summary: "SET NOT NULL scans the table under ACCESS EXCLUSIVE unless a validated CHECK (col IS NOT NULL) exists",
    check: Some(check),
    file: include_str!("set_not_null.rs"),
    example: Example::Migration("ALTER TABLE \"User\" ALTER COLUMN \"email\" SET NOT NULL;\n"),
};

/// SET NOT NULL uses a validated CHECK constraint as proof from PostgreSQL 12.
const CHECK_PROOF_SINCE: u32 = 12;

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    let Op::SetNotNull { table, column } = op else {
        return None;
    };
    if !advice::has_rows_in_production(ctx, table) {
        return None;
    }
    if ctx.schema.column(table, column).is_some_and(|c| c.not_null) {
        // Already NOT NULL: PostgreSQL does nothing.
        return None;
    }
    let has_proof = ctx.schema.has_validated_not_null_check(table, column);
    if has_proof && ctx.pg_version >= CHECK_PROOF_SINCE {
        return None;
    }
    let sql = Sql::of(ctx);
    let col = sql.ident(column);
    let table_sql = sql.table(table);
    let proof_ignored = if has_proof {
        format!(
            " (PostgreSQL {} ignores the validated CHECK; only 12 and later use it)",
            ctx.pg_version
        )
    } else {
        String::new()
    };
    let message = format!(
        "SET NOT NULL on {table_sql}.{col} scans every row of {table_sql} for NULLs under an ACCESS \
         EXCLUSIVE lock{proof_ignored}. The running app can neither read nor write {table_sql} \
         {FOR_THE_TABLE_SIZE}; if a NULL is left the migration fails (23502)."
    );
    let help = format!(
        "Prove there is no NULL first with a CHECK that validates without blocking, then SET NOT \
         NULL skips the scan:\n{}",
        advice::set_not_null_safely(ctx, table, column)
    );
    Some(Violation::new(message, help))
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::testing::{assert_mentions, only_violation, violations, violations_on};
    use super::*;

    const HISTORY: &str =
        r#"CREATE TABLE "User" ("id" TEXT NOT NULL, "email" TEXT, "name" TEXT NOT NULL);"#;
    const SET: &str = r#"ALTER TABLE "User" ALTER COLUMN "email" SET NOT NULL;"#;

    #[test]
    fn set_not_null_on_existing_table_scans() {
        let v = only_violation(HISTORY, SET, &RULE);
        assert_mentions(&v.message, "ACCESS EXCLUSIVE");
        assert_mentions(&v.message, "\"User\".\"email\"");
        assert_mentions(&v.help, "ALTER TABLE \"User\" ADD CONSTRAINT \"User_email_not_null\" CHECK (\"email\" IS NOT NULL) NOT VALID;");
        assert_mentions(&v.help, "ALTER TABLE \"User\" VALIDATE CONSTRAINT \"User_email_not_null\";");
        assert_mentions(&v.help, "ALTER TABLE \"User\" ALTER COLUMN \"email\" SET NOT NULL;");
        assert_mentions(&v.help, "ALTER TABLE \"User\" DROP CONSTRAINT \"User_email_not_null\";");
    }

    #[test]
    fn validated_check_makes_it_safe_from_12() {
        let history = format!(
            r#"{HISTORY}
            ALTER TABLE "User" ADD CONSTRAINT "email_nn" CHECK ("email" IS NOT NULL) NOT VALID;
            ALTER TABLE "User" VALIDATE CONSTRAINT "email_nn";"#
        );
        assert!(violations_on(12, &history, SET, &RULE).is_empty());
        assert!(violations_on(15, &history, SET, &RULE).is_empty());
        let old = violations_on(11, &history, SET, &RULE);
        assert_eq!(old.len(), 1);
        assert!(
            old[0]
                .message
                .contains("PostgreSQL 11 ignores the validated CHECK"),
            "{}",
            old[0].message
        );
    }

    #[test]
    fn not_valid_check_is_no_proof() {
        let history = format!(
            r#"{HISTORY}
            ALTER TABLE "User" ADD CONSTRAINT "email_nn" CHECK ("email" IS NOT NULL) NOT VALID;"#
        );
        assert_eq!(violations(&history, SET, &RULE).len(), 1);
    }

    #[test]
    fn new_table_and_already_not_null_are_exempt() {
        let pending = r#"CREATE TABLE "Team" ("id" TEXT, "name" TEXT);
            ALTER TABLE "Team" ALTER COLUMN "name" SET NOT NULL;"#;
        assert!(violations("", pending, &RULE).is_empty());
        assert!(violations(
            HISTORY,
            r#"ALTER TABLE "User" ALTER COLUMN "name" SET NOT NULL;"#,
            &RULE
        )
        .is_empty());
    }

    #[test]
    fn drop_not_null_is_fine() {
        assert!(violations(
            HISTORY,
            r#"ALTER TABLE "User" ALTER COLUMN "name" DROP NOT NULL;"#,
            &RULE
        )
        .is_empty());
    }
}
