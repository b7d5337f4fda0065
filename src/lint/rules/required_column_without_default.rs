//! `required-column-without-default`: after the migration an existing table has a NOT NULL column
//! without a default: the running app's inserts that do not write it fail (23502).
//!
//! During a rollout the release before this one keeps serving, and it inserts rows the way it
//! always did. `ALTER COLUMN ... DROP DEFAULT` on a NOT NULL column of an existing table makes
//! every INSERT that leaves the column out fail with 23502 (null value violates not-null
//! constraint). Prisma generates exactly this for a required field added with a temporary default:
//! `ADD COLUMN "c" ... NOT NULL DEFAULT ...` then `ALTER COLUMN "c" DROP DEFAULT`, and the running
//! app, which does not know the column, cannot insert a single row until the new release is out.
//!
//! Not raised on a table created in the pending set (the running app does not use it), on a
//! nullable column, when the column had no default, or when the same migration gives it a new
//! default, drops NOT NULL or drops the column. A column the history does not show is not judged
//! (whether it is NOT NULL is not known).

use super::advice::Sql;
use super::{Example, Impact, RuleContext, RuleInfo, Violation};
use crate::findings::Severity;
use crate::sql::{ObjectName, Op};

pub const RULE: RuleInfo = RuleInfo {
    id: "required-column-without-default",
    default_severity: Severity::Error,
    impact: Impact::BreaksApp,
    summary: "DROP DEFAULT leaves a NOT NULL column of an existing table without a default: the running app's inserts fail",
    check: Some(check),
    file: include_str!("required_column_without_default.rs"),
    example: Example::Migration(
        "ALTER TABLE \"User\" ADD COLUMN \"locale\" TEXT NOT NULL DEFAULT 'en';\n\
         ALTER TABLE \"User\" ALTER COLUMN \"locale\" DROP DEFAULT;\n",
    ),
};

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    let Op::DropDefault { table, column } = op else {
        return None;
    };
    if ctx.schema.is_new_table(table) {
        return None;
    }
    let current = ctx.schema.column(table, column)?;
    if !current.not_null || current.default.is_none() {
        return None;
    }
    if settled_later_in_migration(op, ctx, table, column) {
        return None;
    }
    let sql = Sql::of(ctx);
    let col = sql.ident(column);
    let table_sql = sql.table(table);
    let running_app = if current.is_new {
        format!(
            "The column is added by this deploy, so the running app (the release still serving \
             during the rollout) does not write it: every row it inserts into {table_sql} fails"
        )
    } else {
        format!(
            "Any INSERT of the running app (the release still serving during the rollout) that \
             leaves {col} to its default fails"
        )
    };
    let message = format!(
        "DROP DEFAULT on {table_sql}.{col}: the column is NOT NULL and no longer has a default. \
         {running_app} with 23502 (null value in column {col} violates not-null constraint) \
         until the release that writes {col} is fully deployed."
    );
    let help = format!(
        "Keep the default until the app that writes {col} is fully deployed, then drop it in a \
         later migration (deployed after that release):\n\
         -- now: leave out this DROP DEFAULT\n\
         -- in a later migration:\n\
         ALTER TABLE {table_sql} ALTER COLUMN {col} DROP DEFAULT;\n\
         With Prisma, keep `@default(...)` on the field until then: without it `prisma migrate \
         dev` generates this DROP DEFAULT again."
    );
    Some(Violation::new(message, help))
}

/// The same migration (later in this statement or file) gives the column a new default, drops
/// its NOT NULL or drops it: then no insert is left without a value.
fn settled_later_in_migration(op: &Op, ctx: &RuleContext, table: &ObjectName, column: &str) -> bool {
    let table = ctx.schema.resolve(table);
    let same_column =
        |t: &ObjectName, c: &str| c == column && ctx.schema.resolve(t) == table;
    let ops = &ctx.statement.ops;
    let later_in_statement = ops
        .iter()
        .position(|o| std::ptr::eq(o, op))
        .map_or(&ops[..0], |at| &ops[at + 1..]);
    let later_in_file = ctx.later_in_file.iter().flat_map(|s| &s.ops);
    later_in_statement
        .iter()
        .chain(later_in_file)
        .any(|later| match later {
            Op::SetDefault { table, column, .. }
            | Op::DropNotNull { table, column }
            | Op::DropColumn { table, column, .. } => same_column(table, column),
            _ => false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing::{assert_mentions, only_violation, violations};

    const HISTORY: &str = r#"CREATE TABLE "Document" ("id" TEXT NOT NULL,
        "title" TEXT NOT NULL DEFAULT 'Untitled', "note" TEXT DEFAULT '', "kind" TEXT NOT NULL,
        CONSTRAINT "Document_pkey" PRIMARY KEY ("id"));"#;

    #[test]
    fn dropping_the_default_of_a_required_column_breaks_the_running_app() {
        let v = only_violation(
            HISTORY,
            r#"ALTER TABLE "Document" ALTER COLUMN "title" DROP DEFAULT;"#,
            &RULE,
        );
        assert_mentions(&v.message, "DROP DEFAULT on \"Document\".\"title\"");
        assert_mentions(&v.message, "23502");
        assert_mentions(&v.message, "leaves \"title\" to its default fails");
        assert_mentions(
            &v.help,
            "-- in a later migration:\nALTER TABLE \"Document\" ALTER COLUMN \"title\" DROP DEFAULT;",
        );
        assert_mentions(&v.help, "@default");
    }

    #[test]
    fn prisma_s_added_then_dropped_default_breaks_every_insert_of_the_running_app() {
        let prisma = r#"ALTER TABLE "Document" ADD COLUMN "ownerId" TEXT NOT NULL DEFAULT 'legacy';
            ALTER TABLE "Document" ALTER COLUMN "ownerId" DROP DEFAULT;"#;
        let v = only_violation(HISTORY, prisma, &RULE);
        assert_mentions(&v.message, "The column is added by this deploy");
        assert_mentions(&v.message, "every row it inserts into \"Document\" fails");
        // In one ALTER TABLE, too.
        let one_statement = r#"ALTER TABLE "Document" ADD COLUMN "ownerId" TEXT NOT NULL DEFAULT 'legacy',
            ALTER COLUMN "ownerId" DROP DEFAULT;"#;
        assert_eq!(violations(HISTORY, one_statement, &RULE).len(), 1);
    }

    #[test]
    fn set_default_null_is_a_drop_default() {
        // PostgreSQL stores no default for a NULL one (probe_brk_rules.rs).
        for alter in [
            r#"ALTER TABLE "Document" ALTER COLUMN "title" SET DEFAULT NULL;"#,
            r#"ALTER TABLE "Document" ALTER "title" SET DEFAULT (null), ALTER "note" SET DEFAULT 'x';"#,
            // Token level, inside a routine body.
            r#"DO $$ BEGIN ALTER TABLE "Document" ALTER COLUMN "title" SET DEFAULT NULL; END $$;"#,
        ] {
            assert_eq!(violations(HISTORY, alter, &RULE).len(), 1, "{alter}");
        }
        // Nor does it settle an earlier DROP DEFAULT.
        let twice = r#"ALTER TABLE "Document" ALTER COLUMN "title" DROP DEFAULT;
            ALTER TABLE "Document" ALTER COLUMN "title" SET DEFAULT NULL;"#;
        assert!(!violations(HISTORY, twice, &RULE).is_empty());
    }

    #[test]
    fn a_nullable_or_default_less_column_or_a_new_default_is_fine() {
        for pending in [
            // Nullable.
            r#"ALTER TABLE "Document" ALTER COLUMN "note" DROP DEFAULT;"#,
            // No default to drop.
            r#"ALTER TABLE "Document" ALTER COLUMN "kind" DROP DEFAULT;"#,
            // Not judged: the history does not show it.
            r#"ALTER TABLE "Document" ALTER COLUMN "unknown" DROP DEFAULT;"#,
            "ALTER TABLE legacy ALTER COLUMN c DROP DEFAULT;",
            // Prisma's enum recreate: dropped, then set again in the same migration.
            r#"ALTER TABLE "Document" ALTER COLUMN "title" DROP DEFAULT;
               ALTER TABLE "Document" ALTER COLUMN "title" SET DEFAULT 'New';"#,
            r#"ALTER TABLE "Document" ALTER COLUMN "title" DROP DEFAULT,
               ALTER COLUMN "title" DROP NOT NULL;"#,
            r#"ALTER TABLE "Document" ALTER COLUMN "title" DROP DEFAULT;
               ALTER TABLE "Document" DROP COLUMN "title";"#,
            // Dropped NOT NULL first.
            r#"ALTER TABLE "Document" ALTER COLUMN "title" DROP NOT NULL;
               ALTER TABLE "Document" ALTER COLUMN "title" DROP DEFAULT;"#,
        ] {
            assert!(violations(HISTORY, pending, &RULE).is_empty(), "{pending}");
        }
        // A default set before the DROP does not outlive it.
        let v = violations(
            HISTORY,
            r#"ALTER TABLE "Document" ALTER COLUMN "title" SET DEFAULT 'New';
               ALTER TABLE "Document" ALTER COLUMN "title" DROP DEFAULT;"#,
            &RULE,
        );
        assert_eq!(v.len(), 1);
    }

    #[test]
    fn a_table_created_in_the_pending_set_is_fine() {
        let pending = r#"CREATE TABLE "Signature" ("id" TEXT NOT NULL, "status" TEXT NOT NULL DEFAULT 'open');
            ALTER TABLE "Signature" ALTER COLUMN "status" DROP DEFAULT;"#;
        assert!(violations(HISTORY, pending, &RULE).is_empty());
    }
}
